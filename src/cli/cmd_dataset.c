/* glia dataset: check a dataset before anyone trains on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef struct tally {
    int64_t key[3];
    double dkey[3];
    int count;
} tally;

/* Count distinct shapes (or spacings) in a small table; the first 8 are kept. */
static void count_key(tally *t, int *n, const int64_t *k, const double *d)
{
    for (int i = 0; i < *n; i++)
        if ((k && memcmp(t[i].key, k, sizeof t[i].key) == 0) || (d && memcmp(t[i].dkey, d, sizeof t[i].dkey) == 0)) {
            t[i].count++;
            return;
        }
    if (*n == 8)
        return;
    memset(&t[*n], 0, sizeof t[*n]);
    if (k)
        memcpy(t[*n].key, k, sizeof t[*n].key);
    if (d)
        memcpy(t[*n].dkey, d, sizeof t[*n].dkey);
    t[(*n)++].count = 1;
}

/* Print the split; 1 when what was asked for failed: a --split file that cannot
 * be used or a --save-split that cannot be written (a scripted check must not
 * pass on them). A split that cannot be made is only reported, as before. */
static int print_split(const glia_dataset *ds, const char *load, const char *save, long folds, long fold, long seed)
{
    glia_split sp;
    glia_status s = load ? glia_split_load(ds, load, &sp) : glia_split_make(ds, (int)folds, (int)fold, (uint64_t)seed, &sp);
    if (s != GLIA_STATUS_OK) {
        printf("split: none (%s)\n", glia_last_error());
        if (load)
            fprintf(stderr, "glia: dataset: %s\n", glia_last_error());
        return load != NULL;
    }
    printf("split: %d train, %d validation cases (fold %d of %d, seed %llu%s%s), by patient\n", sp.ntrain, sp.nval,
           sp.fold, sp.folds, (unsigned long long)sp.seed, load ? ", from " : "", load ? load : "");
    printf("  validation:");
    for (int i = 0; i < sp.nval && i < 12; i++)
        printf(" %s", glia_dataset_case_id(ds, sp.val[i]));
    printf("%s\n", sp.nval > 12 ? " ..." : "");
    int failed = save && glia_split_save(ds, &sp, save) != GLIA_STATUS_OK;
    if (failed)
        fprintf(stderr, "glia: dataset: %s\n", glia_last_error());
    else if (save)
        printf("  saved to %s\n", save);
    glia_split_free(&sp);
    return failed;
}

int glia_cmd_dataset(int argc, char **argv)
{
    const char *layout = "auto", *pattern = NULL, *load = NULL, *save = NULL, *pos[1];
    long folds = 0, fold = 0, seed = 0, threads = 0;   /* folds 0: 5, fewer for fewer patients */
    int npos = 0;
    const glia_cli_opt opts[] = {
        {"--layout", GLIA_CLI_STR, &layout, 0, 0},
        {"--mask-pattern", GLIA_CLI_STR, &pattern, 0, 0},
        {"--folds", GLIA_CLI_INT, &folds, 2, 1000},
        {"--fold", GLIA_CLI_INT, &fold, 0, 999},
        {"--seed", GLIA_CLI_INT, &seed, 0, 9007199254740991.0},
        {"--split", GLIA_CLI_STR, &load, 0, 0},
        {"--save-split", GLIA_CLI_STR, &save, 0, 0},
        GLIA_CLI_THREADS(&threads),
    };
    if (glia_cli_parse("dataset", opts, sizeof opts / sizeof *opts, argc, argv, pos, 1, &npos))
        return 2;
    if (npos != 1)
        return glia_cli_usage_error("dataset: name the dataset folder (see 'glia help dataset')");
    if (folds && fold >= folds)
        return glia_cli_usage_error("dataset: --fold must be below --folds (%ld)", folds);
    glia_dataset_options o = {.mask_pattern = pattern};
    if (glia_layout_parse(layout, &o.layout) != GLIA_STATUS_OK)
        return glia_cli_usage_error("dataset: %s", glia_last_error());
    glia_dataset *ds = NULL;
    glia_status s = glia_dataset_open(pos[0], &o, &ds);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("dataset", s);
    int n = glia_dataset_count(ds), labelled = 0, bad = 0;
    glia_case_report *r = calloc((size_t)n, sizeof *r);
    if (!r) {
        glia_dataset_free(ds);
        return glia_cli_usage_error("dataset: out of memory");
    }
    glia_cli_progress bar;
    glia_cli_progress_start(&bar, "checking cases");
    glia_dataset_inspect_progress(ds, (int)threads, r, glia_cli_progress_step, &bar);
    glia_cli_progress_end(&bar);
    printf("dataset %s\nlayout: %s%s\n", pos[0], glia_layout_name(glia_dataset_layout(ds)),
           o.layout == GLIA_LAYOUT_AUTO ? " (detected)" : "");
    tally shapes[8], spacings[8];
    int nshape = 0, nspacing = 0;
    int64_t counts[256] = {0};
    for (int i = 0; i < n; i++) {
        labelled += r[i].labelled;
        bad += !r[i].ok;
        if (!r[i].ok)
            continue;
        count_key(shapes, &nshape, r[i].dim, NULL);
        count_key(spacings, &nspacing, NULL, r[i].spacing);
        for (int v = 0; v < 256; v++)
            counts[v] += r[i].label_counts[v];
    }
    printf("cases: %d (%d labelled, %d without labels: inference only)\n", n, labelled, n - labelled);
    printf("modalities:");
    for (int c = 0; c < glia_dataset_channels(ds); c++)
        printf(" %s", glia_dataset_modality(ds, c));
    printf("\nshapes:");
    for (int i = 0; i < nshape; i++)
        printf(" %lldx%lldx%lld (%d)", (long long)shapes[i].key[0], (long long)shapes[i].key[1],
               (long long)shapes[i].key[2], shapes[i].count);
    printf("\nspacing (mm):");
    for (int i = 0; i < nspacing; i++)
        printf(" %gx%gx%g (%d)", spacings[i].dkey[0], spacings[i].dkey[1], spacings[i].dkey[2], spacings[i].count);
    int64_t total = 0;
    for (int v = 0; v < 256; v++)
        total += counts[v];
    printf("\nlabels (value: voxels):");
    for (int v = 0; v < 256; v++)
        if (counts[v])
            printf(" %d: %lld (%.3f%%)", v, (long long)counts[v], 100.0 * (double)counts[v] / (double)total);
    printf("\nclasses:");
    for (int c = 0; c < glia_dataset_classes(ds); c++)
        printf(" %d", glia_dataset_label_value(ds, c));
    printf("\n");
    if (bad) {
        printf("problems: %d unusable case%s\n", bad, bad > 1 ? "s" : "");
        for (int i = 0; i < n; i++)
            if (!r[i].ok)
                printf("  %s\n", r[i].message); /* messages start with "case ID:" */
    } else {
        printf("problems: none\n");
    }
    if (!folds) { /* as training's auto: 5, or one per patient when fewer */
        int patients = glia_dataset_patients(ds);
        folds = patients < 5 ? patients : 5;
    }
    int split_failed = 0;
    if (folds >= 2 || load)
        split_failed = print_split(ds, load, save, folds, fold, seed);
    else
        printf("split: none (%d labelled patient%s: no validation fold)\n", glia_dataset_patients(ds),
               glia_dataset_patients(ds) == 1 ? "" : "s");
    free(r);
    glia_dataset_free(ds);
    return bad || split_failed ? 1 : 0;
}
