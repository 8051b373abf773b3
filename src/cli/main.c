/* The glia command: a thin layer over the public API, one file per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

glia_dist *glia_cli_dist;

static const glia_cli_cmd commands[] = {
    {"devices", "", "list every device of every backend; '*' marks what 'auto' picks", NULL, glia_cmd_devices, 0},
    {"bench", "[options]", "benchmark ops and models on a device (time, GFLOP/s, GB/s, fraction of peak)",
     "  --device SPEC         cpu, opencl:N, vulkan:N, auto (default) or all (every device in turn)\n"
     "  --suite S             ops, models or all (default all); allreduce: under mpirun, the gradient\n"
     "                        allreduce's time and bandwidth by size, and the device's host staging\n"
     "  --filter P,...        only benchmarks whose name contains P (or matches P, a glob with * ?)\n"
     "  --repeat N            timed runs per benchmark (default 5); median and minimum are shown\n"
     "  --warmup N            untimed runs first (default 1)\n"
     "  --threads N           CPU backend threads (default: all cores)\n"
     "  --batch N, --size N   model batch and spatial side (default: unet2d/r2unet 4 x 256^2,\n"
     "                        unet3d/swinunetr 1 x 128^3; swinunetr: a multiple of 32)\n"
     "  --json FILE           write the report (format: include/glia/bench.h); --list: names only\n"
     "  --no-peak             skip measuring the device's peak FLOP/s and bandwidth\n"
     "  --compare A.json B.json ... [--markdown FILE] [--png FILE]\n"
     "                        merge reports (glia's, tools/bench_torch.py's) into one Markdown table\n"
     "                        (speed relative to the first report) and a bar chart\n",
     glia_cmd_bench, 0},
    {"toy", "[options]", "train a tiny U-Net on synthetic disks and report its held-out Dice",
     "  --device SPEC   cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --steps N       training steps (default 80)\n"
     "  --batch N       images per step (default 8)\n"
     "  --seed S        random seed (default 0)\n"
     "  --threads N     CPU backend threads (default: all cores)\n",
     glia_cmd_toy, 0},
    {"init", "MODEL -o F", "write a freshly initialised model (any listed below) to a safetensors file",
     "  -o, --out FILE        the checkpoint to write (.safetensors)\n"
     "  --seed S              initialisation seed (default 0; the same weights on every backend)\n",
     glia_cmd_init, 1},
    {"info", "FILE", "print a checkpoint's model, configuration, parameter count and tensor shapes", NULL,
     glia_cmd_info, 0},
    {"forward", "IN OUT", "run a checkpoint (--weights) on a float32 N,C,(D,)H,W .npy, save the logits",
     "  --weights FILE        the checkpoint (.safetensors)\n"
     "  --device SPEC         cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --train-mode          batch statistics in batch norm (PyTorch's model.train())\n"
     "  --threads N           CPU backend threads (default: all cores)\n",
     glia_cmd_forward, 0},
    {"convert", "IN OUT", "convert between NIfTI (.nii, .nii.gz), PNG/TIFF and .npy",
     "  --like REF.nii.gz     copy REF's geometry onto the output (e.g. .npy -> NIfTI)\n"
     "  --dtype T             store as uint8, int8, int16, uint16, int32, uint32, int64, float32 or float64\n"
     "  --slice K             take axial slice K of a 3-D volume (e.g. NIfTI -> PNG)\n"
     "  --nifti 1|2           NIfTI version to write (default: the input's, else 1)\n"
     "  NIfTI -> .npy writes the scaled values as float32, shape (i, j, k[, t]) as nibabel's get_fdata()\n",
     glia_cmd_convert, 0},
    {"dataset", "DIR", "check a dataset: layout, cases, modalities, shapes, spacing, labels, problems, split",
     "  --layout L            auto (default), brats2020, brats2021, brats2023, msd, lgg, generic, nnunet\n"
     "  --mask-pattern P      generic: mask name of image stem S with * for S (default *_mask)\n"
     "  --folds K, --fold F   the k-fold split to show (default 5, fewer for fewer patients; 0), by patient\n"
     "  --seed S              split seed (default 0)\n"
     "  --split FILE          show a saved split instead; --save-split FILE writes the split as JSON\n"
     "  --threads N           decoding threads (default: all cores)\n"
     "  exits 1 if any case is unusable\n",
     glia_cmd_dataset, 0},
    {"synth", "-o DIR", "write synthetic brain-MRI phantoms in BraTS, LGG kaggle_3m or nnU-Net v2 format",
     "  -o, --out DIR         the dataset folder to write\n"
     "  --layout L            brats2021 (default), brats2020, brats2023, lgg, nnunet\n"
     "  --cases N             cases to write (default 10)\n"
     "  --seed S              phantom seed (default 0); the same seed writes the same files\n"
     "  --size WxHxD          grid (default 240x240x155; lgg 256x256x24)\n"
     "  --unlabelled N        the last N cases get no label file (a validation set)\n"
     "  --no-tumour P         share of cases without a tumour (default 0.1)\n"
     "  --skull-strip         zero scalp and skull, as BraTS images are\n"
     "  --template T1.nii.gz  a real T1 image as the anatomy (e.g. Debian mricron-data's Colin27)\n"
     "  --threads N           writer threads (default: all cores)\n",
     glia_cmd_synth, 0},
    {"train", "--data D --out R", "train a model; logs, curves, best/last checkpoints in the run folder R",
     "  --data DIR            dataset folder (BraTS 2020/2021/2023, Decathlon, LGG kaggle_3m, image/mask pairs)\n"
     "  -o, --out RUNDIR      the run folder (config.json, split.json, last/best.safetensors, log.csv/json, curves.png)\n"
     "  --resume RUNDIR       continue a run exactly where it stopped (with --epochs N to extend it)\n"
     "  --preset NAME         brats-unet2d, brats-unet3d, brats-swinunetr, lgg-unet, lgg-r2unet (the recipes)\n"
     "  --config FILE.json    options as JSON (keys as below, '_' for '-'); flags given too win\n"
     "  --model M             the model (as 'glia init' names it), with its options below\n"
     "  --init CKPT           start from trained weights (transfer)\n"
     "  --target T            auto (default: the dataset's regions, else wt for one tumour class, else labels),\n"
     "                        regions (WT/TC/ET), wt, labels; --layout L\n"
     "  --epochs N --batch N --steps-per-epoch N (0 = one pass)\n"
     "  --size I,J[,K]        2-D crop or 3-D patch; --resize, --crop I,J,K; --spacing; --clip LO,HI; --crop-nonzero\n"
     "  --optimizer O         sgd, adam, adamw; --lr --momentum --nesterov --weight-decay --beta1 --beta2 --eps\n"
     "  --schedule S          constant, step, cosine, poly; --t-max --eta-min --step-size --gamma --total --power\n"
     "                        --warmup N --warmup-start F --schedule-unit epoch|step\n"
     "  --loss L              bce, dice, penalty-dice, dice+bce, ce, dice+ce; --penalty P\n"
     "                        --then-loss L --switch-epoch E (e.g. Dice, then penalty-Dice)\n"
     "  --folds K --fold F    validation fold of a patient split (default auto: 5, fewer for fewer patients,\n"
     "                        none for one; --folds 0: no validation); --split FILE\n"
     "  --drop-empty P --fg-fraction F --augment --tta --seed S\n"
     "  --device SPEC --threads N --loader-threads N --val-batch N\n"
     "  under mpirun (mpirun -np N glia train ...): one device per rank; --device A,B,... gives rank r entry\n"
     "                        r mod count, auto the local rank's GPU; --batch is per rank (global N x batch);\n"
     "                        --sync-bn: batch norm over the global batch; --bucket-mb M: allreduce buckets (25)\n"
     "  Ctrl-C or SIGTERM saves last.safetensors and exits (status 130); a NaN loss stops the run, keeping the\n"
     "  last checkpoint\n",
     glia_cmd_train, 2},
    {"eval", "--data D ...", "evaluate predictions: Dice, IoU, sensitivity, specificity, HD95 (mm), volumes per region",
     "  --data DIR            the dataset with reference labels\n"
     "  --pred DIR            predicted masks (<case>_seg.nii.gz or <case>.nii.gz, label values), or\n"
     "  --weights A [B ...]   checkpoints to run (several: an ensemble), or\n"
     "  --run RUNDIR          a training run: its data, validation cases and best.safetensors\n"
     "  --cases all|val|train which cases (default: val with --run or --split, else all labelled)\n"
     "  --split FILE          a saved split (JSON)\n"
     "  --target T            regions, wt or labels: what --pred masks are scored on (default: the dataset's)\n"
     "  -o, --out DIR         where eval.csv and eval.json go (default RUNDIR/eval, else ./glia-eval)\n"
     "  --no-hd95             skip the Hausdorff distance (faster)\n"
     "  --tta --overlap F --batch N --device SPEC --threads N   inference options with --weights\n"
     "  --window I,J,K --channels LIST --modalities LIST       weights without glia metadata (see glia help infer)\n"
     "  under mpirun: rank r of N scores cases r, r+N, ... (--device A,B,... per rank); rank 0 writes the table\n",
     glia_cmd_eval, 0},
    {"infer", "--weights W... IN...", "segment cases: mask (NIfTI, input geometry), overlays, volume report",
     "  --weights A [B ...]   checkpoints; several are an ensemble (probabilities averaged)\n"
     "  IN                    a case folder (any layout), a dataset folder (every case), NIfTI modality files\n"
     "                        of one case in the model's order, or 2-D images (PNG/TIFF, one case each)\n"
     "  --t1 F --t1ce F --t2 F --flair F   one case's modalities by name\n"
     "  -o, --out DIR         output folder (default ./glia-infer): <case>_seg.nii.gz, <case>_report.json/.txt\n"
     "  --prob                also <case>_prob.nii.gz (probabilities, channels on the 4th axis)\n"
     "  --overlays N          PNG overlays of the N most informative slices (default 3); --no-overlays\n"
     "  --compare PRIOR       a prior mask (label values, same grid): report the change in volume per region\n"
     "  --tta                 average over flips; --threshold T (default 0.5)\n"
     "  --overlap F --blend gaussian|constant --batch N   3-D sliding windows (window = the training patch)\n"
     "  --window I,J,K        3-D window (default: the training patch; weights without glia metadata: whole)\n"
     "  --channels LIST       weights without glia metadata: the output regions in order (MONAI's BraTS\n"
     "                        models: TC,WT,ET; written with BraTS 2021's labels 1, 2, 4)\n"
     "  --modalities LIST     ... and their input order (MONAI's BraTS 2021 models: flair,t1ce,t1,t2)\n"
     "  --device SPEC --threads N\n"
     "  under mpirun: rank r of N segments cases r, r+N, ... (--device A,B,... per rank), the files one process writes\n",
     glia_cmd_infer, 0},
    {"demo", "[-o DIR]", "synthesise data, train a small 2-D U-Net, evaluate and segment: the whole pipeline",
     "  -o, --out DIR         where everything goes (default ./glia-demo): data/, run/, eval/, infer/\n"
     "  --device SPEC         cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --cases N             synthetic cases (default 16; a quarter are held out)\n"
     "  --threads N           CPU backend threads (default: all cores)\n",
     glia_cmd_demo, 0},
};
enum { NCMD = sizeof commands / sizeof commands[0] };

static void usage(FILE *f)
{
    fputs("usage: glia <command> [arguments]\n\ncommands:\n", f);
    for (int i = 0; i < NCMD; i++)
        fprintf(f, "  %-8s %-10s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fputs("  help     [COMMAND]  this text, or a command's options\n"
          "  --version           print the version\n", f);
}

/* Every training option with its default, from the configuration's key table. */
static void train_defaults(void)
{
    glia_train_config cfg;
    glia_train_config_default(&cfg);
    printf("every option, with its default (%s's model options follow below):\n",
           glia_model_arch_name(cfg.model.arch));
    const char *name, *help;
    int is_bool = 0;
    for (int i = 0; (name = glia_train_config_key(i, &is_bool, &help)) != NULL; i++) {
        char flag[64], value[160];
        if (glia_model_field_find(cfg.model.arch, name) || glia_train_config_get(&cfg, name, value, sizeof value))
            continue; /* model options are listed with the models */
        snprintf(flag, sizeof flag, "--%s", name);
        for (char *p = flag; *p; p++)
            *p = *p == '_' ? '-' : *p;
        printf("  %-22s %-14s %s\n", flag, is_bool ? (strcmp(value, "true") ? "[off]" : "[on]") : value,
               help ? help : "");
    }
}

static int command_help(const glia_cli_cmd *c)
{
    printf("usage: glia %s %s\n%s\n%s", c->name, c->args, c->summary, c->help ? c->help : "");
    if (c->run == glia_cmd_train)
        train_defaults();
    if (c->model_options)
        glia_cli_print_model_options(stdout, c->model_options == 1);
    printf("  -h, --help            this text; every option also takes the form --option=value\n");
    return 0;
}

static const glia_cli_cmd *find(const char *name)
{
    for (int i = 0; i < NCMD; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* OpenBLAS chose its kernels when this process loaded it: where they are older
 * than the processor, start again with the ones made for it (the variable
 * keeps the new process from doing the same). If exec fails, run as we are. */
static void blas_restart(char **argv)
{
    const char *core = glia_blas_coretype_advice();
    if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
    blas_restart(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("glia %s\n", glia_version());
        return 0;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            const glia_cli_cmd *c = find(argv[2]);
            if (!c)
                return glia_cli_usage_error("help: unknown command '%s'", argv[2]);
            return command_help(c);
        }
        usage(stdout);
        return 0;
    }
    const glia_cli_cmd *c = find(name);
    if (!c)
        return glia_cli_usage_error("unknown command '%s' (see 'glia help')", name);
    if (glia_cli_wants_help(argc - 2, argv + 2))
        return command_help(c);
    /* kept to be freed: glia_dist_init may replace argv with MPI's own */
    char **norm = glia_cli_normalize(&argc, argv);
    if (!norm)
        return glia_cli_usage_error("out of memory");
    argv = norm;
    /* under mpirun every rank joins the job; otherwise this is a job of one, no MPI */
    glia_status s = glia_dist_init(&argc, &argv, &glia_cli_dist);
    if (s != GLIA_STATUS_OK) {
        free(norm);
        return glia_cli_lib_error("MPI", s);
    }
    int rc = c->run(argc - 2, argv + 2);
    /* a rank that failed alone ends the job (the others may be waiting for it in
     * a collective); usage errors, interruptions and failures the ranks agreed on end normally */
    if (rc != 0 && rc != 2 && rc != 130 && glia_dist_size(glia_cli_dist) > 1 && !glia_dist_failure_agreed(glia_cli_dist))
        glia_dist_abort(glia_cli_dist, rc);
    glia_dist_finalize(glia_cli_dist);
    free(norm);
    return rc;
}
