/* glia infer: masks, probability maps, overlays and volume reports for cases,
 * case folders, datasets, modality files or 2-D images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

typedef struct infer_ctx {
    glia_predictor *p;
    glia_predict_options po;
    glia_infer_outputs outs;
    const char *out;
    int done;
    int seq;                  /* cases met so far, in the order every rank meets them */
} infer_ctx;

/* Whether the next case is this rank's: under mpirun rank q of N segments cases q, q + N, ... */
static int mine(infer_ctx *x)
{
    return x->seq++ % glia_dist_size(glia_cli_dist) == glia_dist_rank(glia_cli_dist);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* A case id from a path: the file or folder name without extension and modality suffix. */
static void case_id(const char *path, char *id, size_t len)
{
    char trimmed[4096];
    snprintf(trimmed, sizeof trimmed, "%s", path);
    size_t n = strlen(trimmed);
    while (n > 1 && trimmed[n - 1] == '/')
        trimmed[--n] = '\0';
    const char *base = strrchr(trimmed, '/');
    snprintf(id, len, "%s", base ? base + 1 : trimmed);
    static const char *const exts[] = {".nii.gz", ".nii", ".png", ".tiff", ".tif"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (ends_with(id, exts[i])) {
            id[strlen(id) - strlen(exts[i])] = '\0';
            break;
        }
    static const char *const mods[] = {"_t1ce", "_t1", "_t2", "_flair", "-t1n", "-t1c", "-t2w", "-t2f"};
    for (size_t i = 0; i < sizeof mods / sizeof *mods; i++)
        if (ends_with(id, mods[i]) && strlen(id) > strlen(mods[i])) {
            id[strlen(id) - strlen(mods[i])] = '\0';
            break;
        }
}

static int run_case(infer_ctx *x, glia_case *c, const char *id)
{
    float *prob = NULL;
    glia_volume_report r;
    /* within a case: slices or sliding windows (a 3-D case takes minutes on a CPU) */
    glia_cli_progress bar;
    glia_cli_progress_start(&bar, id);
    glia_predict_options po = x->po;
    po.on_progress = glia_cli_progress_step;
    po.user = &bar;
    glia_status s = glia_predictor_run(x->p, c, &po, &prob);
    glia_cli_progress_end(&bar);
    if (s == GLIA_STATUS_OK)
        s = glia_infer_write(x->p, c, prob, x->out, id, &x->outs, &r);
    free(prob);
    glia_case_free(c);
    if (s != GLIA_STATUS_OK) {
        fprintf(stderr, "glia: infer: case %s: %s: %s\n", id, glia_status_str(s), glia_last_error());
        return 1;
    }
    printf("%s:", id);
    for (int k = 0; k < r.regions; k++) {
        printf(" %s %.2f mL", r.names[k], r.ml[k]);
        if (x->outs.compare)
            printf(" (%+.2f)", r.ml[k] - r.prior_ml[k]);
        printf(k + 1 < r.regions ? "," : "");
    }
    printf(" -> %s\n", r.mask_path);
    fflush(stdout);
    x->done++;
    return 0;
}

/* A folder: one case (a case folder of any layout), else every case of a dataset. */
static int run_folder(infer_ctx *x, const char *dir)
{
    glia_case *c = NULL;
    char id[512];
    glia_status s = glia_case_from_folder(dir, &glia_predictor_get_info(x->p)->labels, &c);
    if (s == GLIA_STATUS_OK && !mine(x)) {
        glia_case_free(c);
        return 0;
    }
    if (s == GLIA_STATUS_OK) {
        case_id(dir, id, sizeof id);
        return run_case(x, c, id);
    }
    /* non-finite voxels fail this case: the folder is a case, not a dataset of its files */
    if (s == GLIA_STATUS_NUMERIC_ERROR)
        return glia_cli_lib_error("infer", s);
    char why[512];
    snprintf(why, sizeof why, "%s", glia_last_error());
    glia_dataset *ds = NULL;
    if (glia_dataset_open(dir, NULL, &ds) != GLIA_STATUS_OK) {
        fprintf(stderr, "glia: infer: %s is neither a case (%s) nor a dataset (%s)\n", dir, why, glia_last_error());
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < glia_dataset_count(ds) && !rc; i++) {
        if (!mine(x))
            continue;
        if ((s = glia_dataset_load(ds, i, &c)) != GLIA_STATUS_OK ||
            (s = glia_case_order_modalities(c, ds, &glia_predictor_get_info(x->p)->labels)) != GLIA_STATUS_OK) {
            glia_case_free(c);
            rc = glia_cli_lib_error("infer", s);
            break;
        }
        rc = run_case(x, c, glia_dataset_case_id(ds, i));
    }
    glia_dataset_free(ds);
    return rc;
}

static int run_files(infer_ctx *x, const char *const *files, int n)
{
    if (!mine(x))
        return 0;
    glia_case *c = NULL;
    glia_status s = glia_case_from_files(files, n, &c);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("infer", s);
    char id[512];
    case_id(files[0], id, sizeof id);
    return run_case(x, c, id);
}

/* --t1 F --t1ce F --t2 F --flair F: one case in the model's modality order. */
static int run_modalities(infer_ctx *x, const char *const *mod)
{
    static const char *const names[4] = {"t1", "t1ce", "t2", "flair"};
    const glia_label_info *li = &glia_predictor_get_info(x->p)->labels;
    const char *files[4];
    int n = li->modalities ? li->modalities : 4;
    for (int m = 0; m < n; m++) {
        int k = -1;
        for (int j = 0; j < 4; j++)
            if (strcmp(li->modalities ? li->modality[m] : names[m], names[j]) == 0)
                k = j;
        if (k < 0 || !mod[k])
            return glia_cli_usage_error("infer: the model needs --%s FILE", li->modalities ? li->modality[m] : names[m]);
        files[m] = mod[k];
    }
    return run_files(x, files, n);
}

int glia_cmd_infer(int argc, char **argv)
{
    const char **weights = NULL, *pos[256], *mod[4] = {NULL, NULL, NULL, NULL}, *out = "glia-infer";
    const char *compare = NULL, *device = "auto", *blend = "gaussian", *channels = NULL, *modalities = NULL;
    const char *window = NULL;
    long threads = 0, batch = 0, overlays = 3;
    double overlap = 0.5, threshold = 0.5;
    int nweights = 0, nrest = 0, npos = 0, prob = 0, tta = 0, no_overlays = 0;
    char **rest = malloc(((size_t)argc + 1) * sizeof *rest);
    if (!rest)
        return glia_cli_usage_error("infer: out of memory");
    int rc = glia_cli_take_list("infer", "--weights", ".safetensors", argc, argv, &weights, &nweights, rest, &nrest);
    const glia_cli_opt opts[] = {
        GLIA_CLI_OUT(&out),                           {"--t1", GLIA_CLI_STR, &mod[0], 0, 0},
        {"--t1ce", GLIA_CLI_STR, &mod[1], 0, 0},      {"--t2", GLIA_CLI_STR, &mod[2], 0, 0},
        {"--flair", GLIA_CLI_STR, &mod[3], 0, 0},     {"--prob", GLIA_CLI_FLAG, &prob, 0, 0},
        {"--overlays", GLIA_CLI_INT, &overlays, 0, 64}, {"--no-overlays", GLIA_CLI_FLAG, &no_overlays, 0, 0},
        {"--tta", GLIA_CLI_FLAG, &tta, 0, 0},         {"--overlap", GLIA_CLI_FLOAT, &overlap, 0, 0.95},
        {"--blend", GLIA_CLI_STR, &blend, 0, 0},      GLIA_CLI_BATCH(&batch),
        {"--compare", GLIA_CLI_STR, &compare, 0, 0},  {"--threshold", GLIA_CLI_FLOAT, &threshold, 0.001, 0.999},
        GLIA_CLI_DEVICE(&device),                     GLIA_CLI_THREADS(&threads),
        {"--channels", GLIA_CLI_STR, &channels, 0, 0}, {"--modalities", GLIA_CLI_STR, &modalities, 0, 0},
        {"--window", GLIA_CLI_STR, &window, 0, 0},
    };
    if (!rc)
        rc = glia_cli_parse("infer", opts, sizeof opts / sizeof *opts, nrest, rest, pos, 256, &npos);
    int have_mod = mod[0] || mod[1] || mod[2] || mod[3];
    if (!rc && !nweights)
        rc = glia_cli_usage_error("infer: name the checkpoints with --weights A [B ...]");
    if (!rc && !npos && !have_mod)
        rc = glia_cli_usage_error("infer: give inputs: case or dataset folders, NIfTI modality files, 2-D images, "
                                  "or --t1/--t1ce/--t2/--flair FILE");
    if (!rc && strcmp(blend, "gaussian") && strcmp(blend, "constant"))
        rc = glia_cli_usage_error("infer: --blend needs gaussian or constant, got '%s'", blend);
    for (int i = 0; !rc && i < npos; i++)
        if (!is_dir(pos[i]) && access(pos[i], R_OK) != 0)
            rc = glia_cli_usage_error("infer: cannot read input '%s'", pos[i]);
    glia_device *dev = NULL;
    infer_ctx x = {.out = out,
                   .po = {.batch = (int)batch, .overlap = (float)overlap, .tta = tta,
                          .blend = strcmp(blend, "constant") ? GLIA_BLEND_GAUSSIAN : GLIA_BLEND_CONSTANT},
                   .outs = {.probabilities = prob, .overlays = no_overlays ? 0 : (int)overlays,
                            .threshold = (float)threshold, .compare = compare}};
    glia_status s;
    char spec[64];
    if (!rc && (!glia_cli_rank_device("infer", device, &threads, spec, sizeof spec) ||
                !glia_cli_open_device(spec, threads, &dev)))
        rc = 1;
    if (!rc && (s = glia_predictor_open(dev, weights, nweights, &x.p)) != GLIA_STATUS_OK)
        rc = glia_cli_lib_error("infer: --weights", s);
    if (!rc)
        rc = glia_cli_window("infer", window, x.po.window);
    if (!rc)
        rc = glia_cli_weights_meaning("infer", x.p, channels, modalities);
    if (!rc)
        rc = glia_cli_mkdir("infer", out);
    /* NIfTI files together are one case's modalities; each picture is a case; folders are cases or datasets */
    const char *nifti[256];
    int nnifti = 0;
    for (int i = 0; !rc && i < npos; i++) {
        if (is_dir(pos[i]))
            rc = run_folder(&x, pos[i]);
        else if (ends_with(pos[i], ".nii") || ends_with(pos[i], ".nii.gz"))
            nifti[nnifti++] = pos[i];
        else
            rc = run_files(&x, &pos[i], 1);
    }
    if (!rc && nnifti)
        rc = run_files(&x, nifti, nnifti);
    if (!rc && have_mod)
        rc = run_modalities(&x, mod);
    if (glia_dist_size(glia_cli_dist) > 1 && rc != 2) { /* the job's cases, once every rank is done */
        double done = x.done;
        if ((s = glia_dist_agree(glia_cli_dist, rc ? GLIA_STATUS_INVALID_ARGUMENT : GLIA_STATUS_OK)) != GLIA_STATUS_OK ||
            (s = glia_dist_allreduce_f64(glia_cli_dist, &done, 1, GLIA_DIST_SUM)) != GLIA_STATUS_OK)
            rc = rc ? rc : glia_cli_lib_error("infer", s);
        x.done = (int)done;
        if (glia_dist_rank(glia_cli_dist) != 0)
            out = NULL;
    }
    if (!rc && compare && x.done != 1)
        rc = glia_cli_usage_error("infer: --compare needs exactly one case, got %d", x.done);
    if (!rc && out)
        printf("wrote %d case%s to %s (<case>_seg, _report.json/.txt%s%s)\n", x.done, x.done == 1 ? "" : "s", out,
               x.outs.overlays ? ", _overlay_<slice>.png" : "", prob ? ", _prob.nii.gz" : "");
    glia_predictor_free(x.p);
    glia_device_close(dev);
    free(weights);
    free(rest);
    return rc;
}
