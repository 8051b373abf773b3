/* glia command line: the command table and shared option parsing. */
#ifndef GLIA_CLI_H
#define GLIA_CLI_H

#include <stdio.h>
#include "glia/glia.h"

typedef struct glia_cli_cmd {
    const char *name;
    const char *args;     /* one-line synopsis of the arguments */
    const char *summary;
    const char *help;     /* option lines for `glia help NAME`, may be NULL */
    int (*run)(int argc, char **argv);   /* argv excludes "glia" and the command name */
    int model_options;    /* help lists the model options: 1 with the channels, 2 without */
} glia_cli_cmd;

/* The data-parallel job this process belongs to (main.c; a job of one
 * without mpirun). Errors print on the rank that had them, prefixed with it;
 * one every rank shares prints on rank 0 alone. */
extern glia_dist *glia_cli_dist;
/* This rank's device spec and CPU threads from the command's --device and
 * --threads (glia_dist_device; threads 0: the local ranks share the cores). */
int glia_cli_rank_device(const char *cmd, const char *spec, long *threads, char *out, size_t len);

typedef enum glia_cli_kind { GLIA_CLI_STR, GLIA_CLI_INT, GLIA_CLI_FLOAT, GLIA_CLI_FLAG } glia_cli_kind;

typedef struct glia_cli_opt {
    const char *flag;     /* "--steps" */
    glia_cli_kind kind;
    void *dst;            /* const char **, long *, double *, int * */
    double min, max;      /* INT and FLOAT bounds */
} glia_cli_opt;

/* The options several commands share: one name and one range everywhere. */
#define GLIA_CLI_THREADS(dst) {"--threads", GLIA_CLI_INT, (dst), 0, 1024}
#define GLIA_CLI_DEVICE(dst) {"--device", GLIA_CLI_STR, (dst), 0, 0}
#define GLIA_CLI_BATCH(dst) {"--batch", GLIA_CLI_INT, (dst), 0, 4096}
#define GLIA_CLI_OUT(dst) {"--out", GLIA_CLI_STR, (dst), 0, 0}

/* The spellings every command takes, made one before it parses (main.c):
 * "--opt=value" becomes "--opt" "value"; "-o" and "--output" become "--out".
 * Returns a new argument vector (*argc updated), or NULL when out of memory. */
char **glia_cli_normalize(int *argc, char **argv);
/* 1 when argv asks for help: "-h" or "--help" before any "--". */
int glia_cli_wants_help(int argc, char **argv);

/* Parse argv against opts; positional arguments go to pos[0..maxpos-1].
 * Prints one line and returns 2 on an unknown flag, a missing or bad value, or
 * too many positionals; returns 0 otherwise. */
int glia_cli_parse(const char *cmd, const glia_cli_opt *opts, int nopts, int argc, char **argv, const char **pos,
                   int maxpos, int *npos);
/* "glia: <message>" on stderr; returns 2 (usage error). */
int glia_cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* "glia: <what>: <status>: <last error>" on stderr; returns 1. */
int glia_cli_lib_error(const char *what, glia_status s);
/* Open a device by spec with the CLI's common options; prints the error itself. */
int glia_cli_open_device(const char *spec, long threads, glia_device **dev);

/* Take "FLAG v1 v2 ..." (repeatable) out of argv: the values that follow,
 * up to the next --option or the first not ending in suffix (NULL: any),
 * into *list (malloc'd; free it), the other arguments into rest (argc
 * entries). Prints one line and returns 2 when FLAG has no value. */
int glia_cli_take_list(const char *cmd, const char *flag, const char *suffix, int argc, char **argv,
                       const char ***list, int *nlist, char **rest, int *nrest);

/* The model option of a flag ("--features"; a boolean's "--no-<flag>" sets
 * *negated), over every architecture's field table; NULL if none. */
const glia_model_field *glia_cli_model_flag(const char *arg, int *negated);
/* Is f (by key) an option of arch? */
int glia_cli_model_has(glia_model_arch arch, const glia_model_field *f);
/* Every model's options with their defaults, for `glia help` (model_opts.c). */
void glia_cli_print_model_options(FILE *out, int with_channels);

/* --channels and --modalities for weights without glia's metadata (weights_opts.c):
 * applied to p; NULL for either leaves it. Prints the error, returns 2 on one. */
int glia_cli_weights_meaning(const char *cmd, glia_predictor *p, const char *channels, const char *modalities);
/* --window I,J,K into window (all 0 when text is NULL); prints the error, returns 2 on one. */
int glia_cli_window(const char *cmd, const char *text, int64_t window[3]);
/* mkdir -p; prints one line and returns 1 on failure, 0 on success. */
int glia_cli_mkdir(const char *cmd, const char *path);

/* Progress of a long command on a terminal (progress.c): "what [====>   ] done/total  ETA"
 * on stderr, redrawn at most ten times a second; silent when stderr is not a terminal. */
typedef struct glia_cli_progress {
    int tty, shown;
    double t0, last;
    char what[96];
} glia_cli_progress;
void glia_cli_progress_start(glia_cli_progress *p, const char *what);
/* A callback: user is the glia_cli_progress. */
void glia_cli_progress_step(void *user, int64_t done, int64_t total);
/* Clears the line. */
void glia_cli_progress_end(glia_cli_progress *p);
/* "mm:ss" or "h:mm:ss"; a bar of width characters ('=' done, '>' the front) and a NUL. */
void glia_cli_clock_text(double s, char *buf, size_t len);
void glia_cli_bar(char *bar, int width, int64_t done, int64_t total);

/* Training progress on a terminal (a bar with ETA and throughput on stderr
 * when it is one) and one line per epoch on stdout (cmd_train.c). */
typedef struct glia_cli_reporter {
    int tty;
    int bar_shown;
} glia_cli_reporter;
void glia_cli_train_progress(void *user, const glia_train_progress *p);
void glia_cli_train_epoch(void *user, const glia_epoch_log *e);

/* glia bench --suite allreduce: the job's allreduce and this rank's device staging by size (bench_allreduce.c). */
int glia_cli_bench_allreduce(const char *device, long threads, int repeat);

int glia_cmd_devices(int argc, char **argv);
int glia_cmd_bench(int argc, char **argv);
int glia_cmd_toy(int argc, char **argv);
int glia_cmd_init(int argc, char **argv);
int glia_cmd_info(int argc, char **argv);
int glia_cmd_forward(int argc, char **argv);
int glia_cmd_convert(int argc, char **argv);
int glia_cmd_dataset(int argc, char **argv);
int glia_cmd_synth(int argc, char **argv);
int glia_cmd_train(int argc, char **argv);
int glia_cmd_eval(int argc, char **argv);
int glia_cmd_infer(int argc, char **argv);
int glia_cmd_demo(int argc, char **argv);

#endif
