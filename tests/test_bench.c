/* Benchmark module: the case list against the real models, a short run on the
 * CPU, the JSON report read back, --compare's table and chart, and the
 * rejection of bad reports. No timing is asserted: only structure and
 * arithmetic the test can check independently. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cJSON.h"
#include "bench/bench_priv.h"
#include "glia/glia.h"

static char dir[512];

static const char *tmp(const char *name)
{
    static char buf[4][640];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* A string / number member; absent or of another type fails the test. */
static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(m));
    return m->valuestring;
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(m));
    return m->valuedouble;
}

static int listed(const char *name)
{
    glia_bench_options o = {.suites = GLIA_BENCH_SUITE_OPS};
    int n = 0;
    assert_int_equal(glia_bench_list(&o, NULL, 0, &n), GLIA_STATUS_OK);
    const char **names = malloc((size_t)n * sizeof *names);
    assert_non_null(names);
    assert_int_equal(glia_bench_list(&o, names, n, &n), GLIA_STATUS_OK);
    int found = 0;
    for (int i = 0; i < n && !found; i++)
        found = strcmp(names[i], name) == 0;
    free(names);
    return found;
}

/* Every convolution weight of the default unet2d and unet3d, read from the
 * built model's parameters, has its forward benchmark at the resolution its
 * layer runs at (level i: side / 2^i), named from the primitive's side. */
/* arch's default model on a CPU device (cfg gets its configuration). */
static glia_model *default_model(glia_model_arch arch, glia_device **dev, glia_model_config *cfg)
{
    *dev = NULL;
    assert_int_equal(glia_device_open("cpu", NULL, dev), GLIA_STATUS_OK);
    glia_model_config_default(arch, cfg);
    glia_model *m = NULL;
    assert_int_equal(glia_model_create(*dev, cfg, 0, &m), GLIA_STATUS_OK);
    return m;
}

static void check_model_convs(glia_model_arch arch, int batch, int size)
{
    glia_device *dev;
    glia_model_config cfg;
    glia_model *m = default_model(arch, &dev, &cfg);
    glia_params *p = glia_model_params(m);
    int nd = glia_model_config_spatial_dims(&cfg), checked = 0;
    for (int i = 0; i < glia_params_count(p); i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        assert_int_equal(glia_params_get(p, i, &name, &kind, &t), GLIA_STATUS_OK);
        size_t len = strlen(name);
        if (len < 7 || strcmp(name + len - 7, ".weight") != 0 || glia_tensor_ndim(t) != 2 + nd)
            continue;
        int level = 0, up = strncmp(name, "up.", 3) == 0;
        if (strncmp(name, "enc.", 4) == 0)
            level = atoi(name + 4);
        else if (strncmp(name, "bottleneck", 10) == 0)
            level = cfg.levels;
        else if (up || strncmp(name, "dec.", 4) == 0)
            level = cfg.levels - 1 - atoi(name + (up ? 3 : 4));
        int64_t d0 = glia_tensor_dim(t, 0), d1 = glia_tensor_dim(t, 1), k = glia_tensor_dim(t, 2);
        /* PyTorch layouts: conv [cout, cin, k...], transposed [cin, cout, k...]; the
         * primitive of a transposed conv runs from its output (cout) to its input (cin) */
        int64_t cin = up ? glia_tensor_dim(t, 1) : d1, cout = up ? glia_tensor_dim(t, 0) : d0;
        int64_t side = size >> level;
        char want[192], dims[80];
        if (nd == 3)
            snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)side, (long long)side, (long long)side);
        else
            snprintf(dims, sizeof dims, "%lldx%lld", (long long)side, (long long)side);
        snprintf(want, sizeof want, "op.conv%dd.fwd.n%dc%lldk%lld.%s.k%lld%s", nd, batch, (long long)cin,
                 (long long)cout, dims, (long long)k, up ? "s2" : "");
        if (!listed(want))
            fail_msg("%s (%s) has no benchmark %s", name, glia_tensor_ndim(t) == 4 ? "2D" : "3D", want);
        checked++;
    }
    assert_true(checked > 10);
    glia_model_free(m);
    assert_int_equal(glia_device_close(dev), GLIA_STATUS_OK);
}

static void test_list_matches_models(void **state)
{
    (void)state;
    check_model_convs(GLIA_MODEL_UNET2D, 4, 256);
    check_model_convs(GLIA_MODEL_UNET3D, 1, 128);
}

static void test_list_filters(void **state)
{
    (void)state;
    int all = 0, ops = 0, models = 0, n = 0;
    glia_bench_options o = {0};
    assert_int_equal(glia_bench_list(&o, NULL, 0, &all), GLIA_STATUS_OK);
    o.suites = GLIA_BENCH_SUITE_OPS;
    assert_int_equal(glia_bench_list(&o, NULL, 0, &ops), GLIA_STATUS_OK);
    o.suites = GLIA_BENCH_SUITE_MODELS;
    assert_int_equal(glia_bench_list(&o, NULL, 0, &models), GLIA_STATUS_OK);
    assert_int_equal(models, 9);   /* four models, training step and inference; unet3d's whole volume */
    assert_int_equal(ops + models, all);
    const char *names[8];
    o.filter = "model.*.infer";
    assert_int_equal(glia_bench_list(&o, names, 8, &n), GLIA_STATUS_OK);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "model.unet2d.infer");
    assert_string_equal(names[3], "model.swinunetr.infer");
    o.suites = 0;
    o.filter = "op.gemm.1024x1024x1024,train_step";
    assert_int_equal(glia_bench_list(&o, names, 8, &n), GLIA_STATUS_OK);
    assert_int_equal(n, 5);
    o.filter = "no-such-benchmark";
    assert_int_equal(glia_bench_list(&o, names, 8, &n), GLIA_STATUS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(glia_bench_list(&o, NULL, 1, &n), GLIA_STATUS_INVALID_ARGUMENT);
}

/* The model rows of a case list, by name. */
static const glia_bench_case *find_case(const glia_bench_caselist *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    fail_msg("no case %s", name);
    return NULL;
}

/* The spatial side a SwinUNETR convolution's output has, from its parameter
 * name (MONAI's module tree), at input side `size`; 0 if not a known one. */
static int64_t swin_conv_side(const char *name, int64_t size)
{
    static const struct {
        const char *prefix;
        int shift;
    } at[] = {{"swinViT.patch_embed.", 1}, {"encoder1.", 0}, {"encoder2.", 1}, {"encoder3.", 2}, {"encoder4.", 3},
              {"encoder10.", 5}, {"decoder5.", 4}, {"decoder4.", 3}, {"decoder3.", 2}, {"decoder2.", 1},
              {"decoder1.", 0}, {"out.", 0}};
    for (size_t i = 0; i < sizeof at / sizeof *at; i++)
        if (strncmp(name, at[i].prefix, strlen(at[i].prefix)) == 0)
            return size >> at[i].shift;
    return 0;
}

/* Forward and training FLOPs of the default SwinUNETR at batch x 4 x 32^3,
 * counted from the built model's weights: a convolution weight of numel w
 * producing side^3 voxels costs 2 w side^3 per sample (a transposed one runs
 * its weight once per input voxel, (side/2)^3), a Linear of weight w on T
 * tokens 2 w T, and q k^T, a v 2 T n C each for windows of n tokens. The Swin
 * stages at 32^3 run on sides 16, 8, 4, 2, by hand: windows of 7 (sides padded
 * to 21 and 14) on the first two, one whole-side window on the others. */
static void swin_flops_by_hand(int64_t batch, double *infer, double *train)
{
    const int64_t size = 32, side[4] = {16, 8, 4, 2}, padded[4] = {21, 14, 4, 2}, n[4] = {343, 343, 64, 8};
    glia_device *dev;
    glia_model_config cfg;
    glia_model *m = default_model(GLIA_MODEL_SWINUNETR, &dev, &cfg);
    glia_params *p = glia_model_params(m);
    int convs = 0, linears = 0;
    *infer = *train = 0;
    for (int i = 0; i < glia_params_count(p); i++) {
        const char *name;
        glia_param_kind kind;
        glia_tensor *t;
        assert_int_equal(glia_params_get(p, i, &name, &kind, &t), GLIA_STATUS_OK);
        double w = (double)glia_tensor_numel(t), f = 0;
        size_t len = strlen(name);
        int stage = 0, at = 0, from_image = 0;
        if (len < 7 || strcmp(name + len - 7, ".weight") != 0)
            continue;
        if (glia_tensor_ndim(t) == 5) {
            int64_t s = swin_conv_side(name, size);
            if (!s)
                fail_msg("convolution %s: at which side?", name);
            if (strstr(name, "transp_conv"))
                s /= 2;
            f = 2.0 * (double)batch * w * (double)(s * s * s);
            /* the layers reading the image need no input gradient */
            from_image = strncmp(name, "swinViT.patch_embed.", 20) == 0 ||
                         strcmp(name, "encoder1.layer.conv1.conv.weight") == 0 ||
                         strcmp(name, "encoder1.layer.conv3.conv.weight") == 0;
            convs++;
        } else if (glia_tensor_ndim(t) == 2 && sscanf(name, "swinViT.layers%d.0.%n", &stage, &at) == 1 && at > 0) {
            const char *part = name + at;
            int k = stage - 1;
            double tokens = (double)batch * (double)(side[k] * side[k] * side[k]);
            double wtokens = (double)batch * (double)(padded[k] * padded[k] * padded[k]);
            if (strstr(part, "attn.qkv.")) /* and the two products of the attention */
                f = 2.0 * w * wtokens + 2 * (2.0 * wtokens * (double)n[k] * (double)glia_tensor_dim(t, 1));
            else if (strstr(part, "attn.proj."))
                f = 2.0 * w * wtokens;
            else if (strstr(part, "mlp.linear"))
                f = 2.0 * w * tokens;
            else if (strstr(part, "downsample.reduction."))
                f = 2.0 * w * tokens / 8;
            else
                continue;   /* a layer norm's weight, or the position bias table */
            linears++;
        } else {
            continue;
        }
        *infer += f;
        *train += f * (from_image ? 2 : 3);
    }
    /* the patch embedding; 5 encoder UnetResBlocks of 2 convolutions, encoder1
       with a 1^3 residual one (it changes channels), 5 decoder ones with it; 5
       up-convolutions; the head. 4 stages of 2 blocks of 4 Linears, 4 merges. */
    assert_int_equal(convs, 1 + (5 * 2 + 1) + 5 * 3 + 5 + 1);
    assert_int_equal(linears, 4 * 2 * 4 + 4);
    glia_model_free(m);
    assert_int_equal(glia_device_close(dev), GLIA_STATUS_OK);
}

/* The SwinUNETR rows: MONAI's 4 x 128^3 single volume by default, --size and
 * --batch as for unet3d, and FLOPs that count the Swin stages' matrix
 * products as well as the convolutions. */
static void test_swin_rows(void **state)
{
    (void)state;
    glia_bench_options o = {.suites = GLIA_BENCH_SUITE_MODELS};
    glia_bench_caselist l = {0};
    assert_int_equal(glia_bench_cases(&o, &l), GLIA_STATUS_OK);
    const glia_bench_case *tr = find_case(&l, "model.swinunetr.train_step");
    const glia_bench_case *in = find_case(&l, "model.swinunetr.infer");
    assert_int_equal(tr->kind, GLIA_BENCH_KIND_TRAIN);
    assert_int_equal(in->kind, GLIA_BENCH_KIND_INFER);
    for (int i = 0; i < 2; i++) {
        const glia_bench_case *c = i ? in : tr;
        assert_int_equal(c->arch, GLIA_MODEL_SWINUNETR);
        assert_int_equal(c->batch, 1);
        assert_int_equal(c->size, 128);
        assert_true(c->items == 1 && strcmp(c->unit, "volumes") == 0);
        assert_true(c->flops > 0);
    }
    /* forward once, backward twice for nearly all of it */
    assert_true(tr->flops > 2.5 * in->flops && tr->flops < 3 * in->flops);
    glia_bench_cases_free(&l);

    o.size = 32;
    o.batch = 2;
    assert_int_equal(glia_bench_cases(&o, &l), GLIA_STATUS_OK);
    tr = find_case(&l, "model.swinunetr.train_step");
    in = find_case(&l, "model.swinunetr.infer");
    assert_true(tr->batch == 2 && in->batch == 2 && tr->size == 32 && in->size == 32 && in->items == 2);
    double want_infer, want_train;
    swin_flops_by_hand(2, &want_infer, &want_train);
    if (fabs(in->flops - want_infer) > 1e-12 * want_infer || fabs(tr->flops - want_train) > 1e-12 * want_train)
        fail_msg("swinunetr at 2 x 32^3: %.6g / %.6g FLOPs (infer / train), by hand %.6g / %.6g", in->flops,
                 tr->flops, want_infer, want_train);
    glia_bench_cases_free(&l);
}

/* The whole-volume row: a BraTS volume (240 x 240 x 155) in 128^3 windows
 * overlapping by half, 3 x 3 x 2 windows as nnU-Net places them, each a unet3d
 * inference; with --size 16 the volume shrinks to 30 x 30 x 20 and still takes
 * 18 windows of 16^3, and the row runs. */
static void test_volume_row(void **state)
{
    (void)state;
    glia_bench_options o = {.suites = GLIA_BENCH_SUITE_MODELS};
    glia_bench_caselist l = {0};
    assert_int_equal(glia_bench_cases(&o, &l), GLIA_STATUS_OK);
    const glia_bench_case *v = find_case(&l, "model.unet3d.infer_volume"), *in = find_case(&l, "model.unet3d.infer");
    assert_int_equal(v->kind, GLIA_BENCH_KIND_VOLUME);
    assert_true(v->volume[0] == 240 && v->volume[1] == 240 && v->volume[2] == 155 && v->size == 128);
    assert_true(v->batch == 1 && v->items == 1 && strcmp(v->unit, "volumes") == 0);
    assert_true(fabs(v->flops - 18 * in->flops) <= 1e-12 * v->flops);
    glia_bench_cases_free(&l);

    o.size = 16;
    o.filter = "infer_volume";
    o.repeat = 1;
    o.warmup = -1;
    o.no_peak = 1;
    assert_int_equal(glia_bench_cases(&o, &l), GLIA_STATUS_OK);
    v = find_case(&l, "model.unet3d.infer_volume");
    assert_true(v->volume[0] == 30 && v->volume[1] == 30 && v->volume[2] == 20 && v->size == 16);
    glia_bench_cases_free(&l);
    glia_device_options d = {.threads = 2};
    glia_bench_report *r = NULL;
    assert_int_equal(glia_bench_run("cpu", &d, &o, &r), GLIA_STATUS_OK);
    assert_int_equal(r->count, 1);
    assert_true(r->results[0].runs == 1 && r->results[0].median_s > 0);
    assert_string_equal(r->results[0].error, "");
    glia_bench_report_free(r);
}

static int results_seen;
static void count_result(void *user, const glia_bench_result *r)
{
    (void)user;
    (void)r;
    results_seen++;
}

/* A short CPU run: structure of the results and the JSON written from them. */
static void test_run_and_json(void **state)
{
    (void)state;
    glia_bench_options o = {.filter = "op.gemm.1024x1024x1024,op.add.,model.unet2d.infer", .repeat = 3, .warmup = -1,
                            .batch = 1, .size = 32, .no_peak = 1, .on_result = count_result};
    glia_device_options d = {.threads = 2};
    glia_bench_report *r = NULL;
    results_seen = 0;
    assert_int_equal(glia_bench_run("cpu", &d, &o, &r), GLIA_STATUS_OK);
    assert_int_equal(r->count, 3);
    assert_int_equal(results_seen, 3);
    assert_string_equal(r->device.backend, "cpu");
    assert_int_equal(r->threads, 2);
    for (int i = 0; i < r->count; i++) {
        const glia_bench_result *x = &r->results[i];
        assert_int_equal(x->runs, 3);
        assert_true(x->min_s > 0 && x->min_s <= x->median_s);
        assert_string_equal(x->error, "");
    }
    const glia_bench_result *inf = &r->results[0], *g = &r->results[1], *add = &r->results[2];
    assert_string_equal(inf->name, "model.unet2d.infer");
    assert_true(inf->items == 1 && strcmp(inf->unit, "images") == 0);
    assert_true(inf->peak_mem_bytes > 0);
    assert_string_equal(g->name, "op.gemm.1024x1024x1024");
    assert_true(g->flops == 2.0 * 1024 * 1024 * 1024 && g->bytes == 3.0 * 4 * 1024 * 1024);
    assert_true(g->peak_mem_bytes >= 3u * 4 * 1024 * 1024);
    assert_true(strncmp(add->name, "op.add.", 7) == 0 && add->flops == 0 && add->bytes > 0);

    glia_bench_meta meta = {.command = "glia bench \"quoted\""};
    const glia_bench_report *reps[2] = {r, r};
    assert_int_equal(glia_bench_write_json(reps, 1, &meta, tmp("one.json")), GLIA_STATUS_OK);
    assert_int_equal(glia_bench_write_json(reps, 2, &meta, tmp("two.json")), GLIA_STATUS_OK);
    /* read back with cJSON, a parser independent of the writer */
    char *text = read_text(tmp("one.json"));
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    static const char *const top[] = {"schema", "glia_version", "command", "machine", "device", "backend",
                                      "driver", "threads", "peak", "results"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        if (!cJSON_GetObjectItemCaseSensitive(root, top[i]))
            fail_msg("the report lacks \"%s\"", top[i]);
    assert_string_equal(json_str(root, "command"), "glia bench \"quoted\"");
    assert_string_equal(json_str(root, "glia_version"), glia_version());
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    assert_int_equal(cJSON_GetArraySize(res), 3);
    const cJSON *gj = cJSON_GetArrayItem(res, 1);
    assert_string_equal(json_str(gj, "name"), "op.gemm.1024x1024x1024");
    assert_true(fabs(json_num(gj, "median_s") - g->median_s) <= 1e-8 * g->median_s);
    assert_int_equal((int)json_num(gj, "runs"), 3);
    double fps = json_num(gj, "flops_per_s");
    assert_true(fabs(fps - g->flops / g->median_s) <= 1e-6 * fps);
    static const char *const fields[] = {"min_s", "flops", "bytes", "peak_mem_bytes", "peak_rss_bytes", "items",
                                         "items_per_s", "bytes_per_s", "frac_peak_flops", "frac_peak_bytes"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!cJSON_GetObjectItemCaseSensitive(gj, fields[i]))
            fail_msg("a result lacks \"%s\"", fields[i]);
    cJSON_Delete(root);
    text = read_text(tmp("two.json"));
    root = cJSON_Parse(text);
    assert_true(cJSON_IsArray(root));
    assert_int_equal(cJSON_GetArraySize(root), 2);
    cJSON_Delete(root);
    free(text);
    glia_bench_report_free(r);

    o.filter = "nothing-matches";
    assert_int_equal(glia_bench_run("cpu", &d, &o, &r), GLIA_STATUS_INVALID_ARGUMENT);
    assert_null(r);
    assert_int_equal(glia_bench_run("cpu", &d, &o, NULL), GLIA_STATUS_INVALID_ARGUMENT);
}

/* Two hand-written reports: the table's ratios are A's time over B's (B's speed relative to A). */
static void test_compare(void **state)
{
    (void)state;
    write_text(tmp("a.json"),
               "{\"backend\": \"torch-cpu\", \"device\": \"X\", \"threads\": 2, \"command\": \"python3 | x\","
               " \"machine\": {\"hostname\": \"h\", \"loadavg\": [1.5, 1, 1]},"
               " \"results\": [{\"name\": \"model.unet2d.train_step\", \"median_s\": 2.0, \"peak_rss_bytes\": 2.4e9},"
               " {\"name\": \"op.only.in.a\", \"median_s\": 0.004}]}");
    write_text(tmp("b.json"),
               "[{\"backend\": \"cpu\", \"device\": \"X\", \"threads\": 2, \"results\": ["
               "{\"name\": \"model.unet2d.train_step\", \"median_s\": 1.5, \"peak_mem_bytes\": 1.2e9},"
               "{\"name\": \"op.only.in.b\", \"median_s\": 2e-6}]},"
               " {\"backend\": \"vulkan\", \"device\": \"G\\u00e9\", \"results\": ["
               "{\"name\": \"model.unet2d.train_step\", \"median_s\": 0, \"error\": \"device out of memory\"}]}]");
    const char *files[2] = {tmp("a.json"), tmp("b.json")};
    FILE *md = fopen(tmp("cmp.md"), "w");
    assert_non_null(md);
    assert_int_equal(glia_bench_compare(files, 2, md, tmp("cmp.png")), GLIA_STATUS_OK);
    fclose(md);
    char *t = read_text(tmp("cmp.md"));
    assert_non_null(strstr(t, "| model.unet2d.train_step | 2.00 s | 1.50 s x1.33 | failed |"));
    assert_non_null(strstr(t, "| op.only.in.a | 4.00 ms | - | - |"));
    assert_non_null(strstr(t, "| op.only.in.b | - | 2.0 us | - |"));
    assert_non_null(strstr(t, "python3 \\| x"));          /* cells are escaped */
    assert_non_null(strstr(t, "G\xc3\xa9"));               /* \u00e9 decoded to UTF-8 */
    assert_non_null(strstr(t, "| model.unet2d.train_step | - / 2.40 GB | 1.20 GB / - | - / - |"));
    free(t);

    /* the chart: a PNG with one bar group (the only row timed in A and another) */
    glia_volume *img = NULL;
    assert_int_equal(glia_volume_read(tmp("cmp.png"), &img), GLIA_STATUS_OK);
    assert_int_equal(img->ndim, 3);
    assert_int_equal(img->dim[2], 3);
    assert_true(img->dim[0] > 600 && img->dim[1] > 50);
    glia_volume_free(img);
}

static void expect_bad(const char *text, glia_status want)
{
    write_text(tmp("bad.json"), text);
    const char *files[1] = {tmp("bad.json")};
    FILE *md = fopen(tmp("bad.md"), "w");
    assert_non_null(md);
    glia_status s = glia_bench_compare(files, 1, md, NULL);
    fclose(md);
    if (s != want)
        fail_msg("'%.40s': status %d, want %d (%s)", text, (int)s, (int)want, glia_last_error());
    assert_non_null(strstr(glia_last_error(), "bad.json"));
}

static void test_compare_rejects(void **state)
{
    (void)state;
    expect_bad("", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("{\"results\": [1, 2,]}", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("{\"results\": \"none\"}", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("{\"results\": []} trailing", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("{\"a\": \"unterminated}", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("{\"a\": \"bad \\q escape\"}", GLIA_STATUS_FORMAT_ERROR);
    expect_bad("[1e999]", GLIA_STATUS_FORMAT_ERROR);
    char deep[4096];
    memset(deep, '[', 2000);
    memset(deep + 2000, ']', 2000);
    deep[4000] = '\0';
    expect_bad(deep, GLIA_STATUS_FORMAT_ERROR);    /* nesting bounded, no stack overflow */
    const char *missing[1] = {tmp("does-not-exist.json")};
    assert_int_equal(glia_bench_compare(missing, 1, stdout, NULL), GLIA_STATUS_IO_ERROR);
    assert_int_equal(glia_bench_compare(missing, 0, stdout, NULL), GLIA_STATUS_INVALID_ARGUMENT);
}

/* The advice on OpenBLAS's kernels: a variable the user set stands (whatever
 * OpenBLAS loaded with), and advice, when given, names kernels of this
 * processor's class. */
static void test_blas_advice(void **state)
{
    (void)state;
    const char *was = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "";
    if (was)
        snprintf(saved, sizeof saved, "%s", was);
    setenv("OPENBLAS_CORETYPE", "Prescott", 1);
    assert_null(glia_blas_coretype_advice());
    unsetenv("OPENBLAS_CORETYPE");
    const char *a = glia_blas_coretype_advice();
    if (a)
        assert_true(strcmp(a, "Haswell") == 0 || strcmp(a, "SkylakeX") == 0);
    if (was)
        setenv("OPENBLAS_CORETYPE", saved, 1);
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_list_matches_models),
        cmocka_unit_test(test_swin_rows),
        cmocka_unit_test(test_volume_row),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_rejects),
        cmocka_unit_test(test_run_and_json),
        cmocka_unit_test(test_blas_advice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
