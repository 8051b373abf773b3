/* Datasets: layout names and detection, folder helpers, case accessors. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cJSON.h>
#include "data/data_priv.h"
#include "io/io_priv.h"

static const char *const layout_names[] = {
    [GLIA_LAYOUT_AUTO] = "auto",           [GLIA_LAYOUT_BRATS2020] = "brats2020",
    [GLIA_LAYOUT_BRATS2021] = "brats2021", [GLIA_LAYOUT_BRATS2023] = "brats2023",
    [GLIA_LAYOUT_DECATHLON] = "msd",       [GLIA_LAYOUT_LGG] = "lgg",
    [GLIA_LAYOUT_GENERIC] = "generic",     [GLIA_LAYOUT_NNUNET] = "nnunet",
};
_Static_assert(sizeof layout_names / sizeof layout_names[0] == GLIA_LAYOUT_COUNT_, "every layout needs a name");

const char *glia_layout_name(glia_layout l)
{
    return (unsigned)l < GLIA_LAYOUT_COUNT_ ? layout_names[l] : "unknown";
}

glia_status glia_layout_parse(const char *name, glia_layout *out)
{
    if (!name || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_layout_parse: NULL argument");
    for (int i = 0; i < GLIA_LAYOUT_COUNT_; i++) {
        if (strcmp(name, layout_names[i]) == 0) {
            *out = (glia_layout)i;
            return GLIA_STATUS_OK;
        }
    }
    if (strcmp(name, "decathlon") == 0) {
        *out = GLIA_LAYOUT_DECATHLON;
        return GLIA_STATUS_OK;
    }
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                       "unknown layout '%s' (auto, brats2020, brats2021, brats2023, msd, lgg, generic, nnunet)", name);
}

char *glia_strdup_(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

char *glia_strfmt_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

char *glia_path_join_(const char *a, const char *b) { return glia_strfmt_("%s/%s", a, b); }

int glia_is_dir_(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int glia_is_file_(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **glia_list_dir_(const char *dir, int dirs_only, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    int cap = 0, cnt = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", hidden files and macOS "._" shadows */
        if (dirs_only >= 0) {
            char *p = glia_path_join_(dir, e->d_name);
            int isd = p && glia_is_dir_(p);
            free(p);
            if (isd != dirs_only)
                continue;
        }
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[cnt] = glia_strdup_(e->d_name)))
            break;
        cnt++;
    }
    closedir(d);
    if (cnt)
        qsort(names, (size_t)cnt, sizeof *names, cmp_names);
    *n = cnt;
    return names;
}

void glia_free_list_(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

glia_status glia_read_dataset_json_(const char *dir, cJSON **root, char **path)
{
    enum { LIMIT = 16 << 20 }; /* a dataset.json listing 100k cases is a few MiB */
    *root = NULL;
    if (!(*path = glia_path_join_(dir, "dataset.json")))
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s/dataset.json", dir);
    /* sized to the file: the layout probes read it several times per open */
    char *text = NULL;
    glia_status s = glia_read_text_(*path, (size_t)LIMIT, &text);
    if (s == GLIA_STATUS_OK && (!(*root = cJSON_Parse(text)) || !cJSON_IsObject(*root)))
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: not a JSON object%s%.40s", *path,
                        *root ? "" : " (syntax error near: ", *root ? "" : cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    free(text);
    if (s != GLIA_STATUS_OK) {
        cJSON_Delete(*root);
        *root = NULL;
    }
    return s;
}

int glia_default_threads_(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

uint64_t glia_mix_seed_(uint64_t seed, uint64_t a, uint64_t b)
{
    /* splitmix64 finaliser over a running combination */
    uint64_t z = seed;
    uint64_t parts[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        z += 0x9e3779b97f4a7c15ull + parts[i] * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
    }
    return z;
}

void glia_layout_conventions_(glia_dataset *ds)
{
    static const char *const brats[4] = {"t1", "t1ce", "t2", "flair"};
    ds->accept_255 = 0;
    switch (ds->layout) {
    case GLIA_LAYOUT_BRATS2020:
    case GLIA_LAYOUT_BRATS2021:
    case GLIA_LAYOUT_BRATS2023:
    case GLIA_LAYOUT_DECATHLON:
        ds->channels = 4;
        for (int c = 0; c < 4; c++)
            snprintf(ds->modality[c], sizeof ds->modality[c], "%s", brats[c]);
        ds->nclasses = 4;
        for (int c = 0; c < 4; c++)
            ds->label_values[c] = c;
        if (ds->layout == GLIA_LAYOUT_BRATS2020 || ds->layout == GLIA_LAYOUT_BRATS2021)
            ds->label_values[3] = 4; /* 1 necrosis, 2 oedema, 4 enhancing */
        ds->foreground = ds->regions[0] = 0xe; /* whole tumour: every tumour class */
        /* tumour core: necrosis + enhancing (BraTS); non-enhancing + enhancing (Decathlon: 1 is oedema) */
        ds->regions[1] = ds->layout == GLIA_LAYOUT_DECATHLON ? 0xc : 0xa;
        ds->regions[2] = 0x8;
        ds->nregions = 3;
        break;
    case GLIA_LAYOUT_NNUNET: break; /* dataset.json says (layout_nnunet.c) */
    default: /* binary masks */
        ds->nclasses = 2;
        ds->label_values[0] = 0;
        ds->label_values[1] = 1;
        ds->accept_255 = 1;
        ds->foreground = 0x2;
        ds->nregions = 0;
        break;
    }
}

/* Votes of one subfolder for a layout, from the names of the files in it. */
static glia_layout guess_case_dir(const char *dir, const char *name)
{
    static const char *const ext[] = {".nii.gz", ".nii"};
    for (int e = 0; e < 2; e++) {
        char *p = glia_strfmt_("%s/%s/%s_flair%s", dir, name, name, ext[e]);
        int hit = p && glia_is_file_(p);
        free(p);
        if (hit)
            return strncmp(name, "BraTS20_", 8) == 0 ? GLIA_LAYOUT_BRATS2020 : GLIA_LAYOUT_BRATS2021;
        p = glia_strfmt_("%s/%s/%s-t2f%s", dir, name, name, ext[e]);
        hit = p && glia_is_file_(p);
        free(p);
        if (hit)
            return GLIA_LAYOUT_BRATS2023;
    }
    char *sub = glia_path_join_(dir, name);
    int n = 0;
    char **files = sub ? glia_list_dir_(sub, 0, &n) : NULL;
    glia_layout l = GLIA_LAYOUT_AUTO;
    for (int i = 0; i < n && l == GLIA_LAYOUT_AUTO; i++) {
        size_t len = strlen(files[i]);
        if (len > 9 && strcmp(files[i] + len - 9, "_mask.tif") == 0)
            l = GLIA_LAYOUT_LGG;
    }
    glia_free_list_(files, n);
    free(sub);
    return l;
}

static glia_layout detect(const char *dir)
{
    if (glia_is_nnunet_dir_(dir))
        return GLIA_LAYOUT_NNUNET;
    char *p = glia_path_join_(dir, "dataset.json");
    int msd = p && glia_is_file_(p);
    free(p);
    if (msd)
        return GLIA_LAYOUT_DECATHLON;
    int n = 0, votes[GLIA_LAYOUT_COUNT_] = {0};
    char **subs = glia_list_dir_(dir, 1, &n);
    for (int i = 0; i < n; i++)
        votes[guess_case_dir(dir, subs[i])]++;
    glia_free_list_(subs, n);
    glia_layout best = GLIA_LAYOUT_AUTO;
    for (int l = 1; l < GLIA_LAYOUT_COUNT_; l++)
        if (votes[l] > votes[best] || (best == GLIA_LAYOUT_AUTO && votes[l] > 0))
            best = (glia_layout)l;
    return best;
}

ds_case *glia_add_case_(glia_dataset *ds)
{
    if ((ds->ncases & (ds->ncases - 1)) == 0) { /* grow at powers of two */
        ds_case *n = realloc(ds->cases, (size_t)(ds->ncases ? 2 * ds->ncases : 1) * sizeof *n);
        if (!n)
            return NULL;
        ds->cases = n;
    }
    ds_case *c = &ds->cases[ds->ncases++];
    memset(c, 0, sizeof *c);
    return c;
}

static void free_case(ds_case *c)
{
    free(c->id);
    free(c->patient);
    for (int m = 0; m < 4; m++)
        free(c->files[m]);
    free(c->label);
    glia_free_list_(c->slices, c->nslices);
    glia_free_list_(c->masks, c->nslices);
    free(c->problem);
}

void glia_dataset_free(glia_dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->ncases; i++)
        free_case(&ds->cases[i]);
    free(ds->cases);
    free(ds->dir);
    free(ds->mask_pattern);
    free(ds);
}

glia_status glia_dataset_open(const char *dir, const glia_dataset_options *opts, glia_dataset **out)
{
    if (!dir || !out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dataset_open: NULL folder or output");
    *out = NULL;
    if (!glia_is_dir_(dir))
        return glia_seterr(GLIA_STATUS_IO_ERROR, "%s: not a folder", dir);
    glia_layout layout = opts ? opts->layout : GLIA_LAYOUT_AUTO;
    if ((unsigned)layout >= GLIA_LAYOUT_COUNT_)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_dataset_open: bad layout %d", (int)layout);
    glia_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->dir = glia_strdup_(dir)) ||
        !(ds->mask_pattern = glia_strdup_(opts && opts->mask_pattern ? opts->mask_pattern : "*_mask"))) {
        glia_dataset_free(ds);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_dataset_open: %s", dir);
    }
    if (layout == GLIA_LAYOUT_AUTO) {
        layout = detect(dir);
        if (layout == GLIA_LAYOUT_AUTO) {
            /* a wrapper folder (an archive's top level): look one level down */
            int n = 0, nf = 0;
            char **subs = glia_list_dir_(dir, 1, &n), **files = glia_list_dir_(dir, 0, &nf);
            if (n == 1 && nf == 0) {
                char *inner = glia_path_join_(dir, subs[0]);
                layout = inner ? detect(inner) : GLIA_LAYOUT_AUTO;
                if (layout != GLIA_LAYOUT_AUTO) {
                    free(ds->dir);
                    ds->dir = inner;
                } else {
                    free(inner);
                }
            }
            if (layout == GLIA_LAYOUT_AUTO && nf > 0)
                layout = GLIA_LAYOUT_GENERIC;
            glia_free_list_(subs, n);
            glia_free_list_(files, nf);
        }
        if (layout == GLIA_LAYOUT_AUTO) {
            glia_dataset_free(ds);
            return glia_seterr(GLIA_STATUS_FORMAT_ERROR,
                               "%s: no dataset found: expected BraTS case folders (e.g. BraTS2021_00000/ with "
                               "BraTS2021_00000_flair.nii.gz), a Decathlon or nnU-Net v2 dataset.json, kaggle_3m "
                               "TCGA_* folders with *_mask.tif, or image/mask files",
                               dir);
        }
    }
    ds->layout = layout;
    glia_layout_conventions_(ds);
    glia_status s;
    switch (layout) {
    case GLIA_LAYOUT_DECATHLON: s = glia_scan_decathlon_(ds); break;
    case GLIA_LAYOUT_LGG: s = glia_scan_lgg_(ds); break;
    case GLIA_LAYOUT_GENERIC: s = glia_scan_generic_(ds); break;
    case GLIA_LAYOUT_NNUNET: s = glia_scan_nnunet_(ds); break;
    default: s = glia_scan_brats_(ds); break;
    }
    if (s == GLIA_STATUS_OK && ds->ncases == 0)
        s = glia_seterr(GLIA_STATUS_FORMAT_ERROR, "%s: no %s cases found (empty folder?)", dir,
                        glia_layout_name(layout));
    if (s != GLIA_STATUS_OK) {
        glia_dataset_free(ds);
        return s;
    }
    *out = ds;
    return GLIA_STATUS_OK;
}

glia_layout glia_dataset_layout(const glia_dataset *ds) { return ds ? ds->layout : GLIA_LAYOUT_AUTO; }
int glia_dataset_count(const glia_dataset *ds) { return ds ? ds->ncases : 0; }
int glia_dataset_channels(const glia_dataset *ds) { return ds ? ds->channels : 0; }
int glia_dataset_classes(const glia_dataset *ds) { return ds ? ds->nclasses : 0; }

const char *glia_dataset_modality(const glia_dataset *ds, int c)
{
    return ds && c >= 0 && c < ds->channels && c < 4 ? ds->modality[c] : "";
}

int glia_dataset_label_value(const glia_dataset *ds, int c)
{
    return ds && c >= 0 && c < ds->nclasses ? ds->label_values[c] : -1;
}

static const ds_case *get_case(const glia_dataset *ds, int i)
{
    return ds && i >= 0 && i < ds->ncases ? &ds->cases[i] : NULL;
}

const char *glia_dataset_case_id(const glia_dataset *ds, int i)
{
    const ds_case *c = get_case(ds, i);
    return c ? c->id : "";
}

const char *glia_dataset_case_patient(const glia_dataset *ds, int i)
{
    const ds_case *c = get_case(ds, i);
    return c ? c->patient : "";
}

int glia_dataset_case_labelled(const glia_dataset *ds, int i)
{
    const ds_case *c = get_case(ds, i);
    return c && (c->label || (c->masks && c->nslices > 0 && c->masks[0]));
}

const char *glia_dataset_case_ref_path(const glia_dataset *ds, int i)
{
    const ds_case *c = get_case(ds, i);
    return !c ? "" : c->files[0] ? c->files[0] : c->nslices ? c->slices[0] : "";
}

const char *glia_dataset_case_problem(const glia_dataset *ds, int i)
{
    const ds_case *c = get_case(ds, i);
    return c ? c->problem : NULL;
}

int glia_dataset_target_channels(const glia_dataset *ds, glia_target t)
{
    if (!ds)
        return 0;
    switch (t) {
    case GLIA_TARGET_WT: return 1;
    case GLIA_TARGET_LABELS: return ds->nclasses;
    case GLIA_TARGET_REGIONS:
        if (ds->nregions > 0)
            return ds->nregions;
        glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "%s layout has only the whole-tumour target (use wt or labels)",
                    glia_layout_name(ds->layout));
        return 0;
    case GLIA_TARGET_AUTO: break;
    }
    glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "target %d: resolve auto with glia_dataset_default_target", (int)t);
    return 0;
}

unsigned glia_dataset_region_classes(const glia_dataset *ds, glia_target t, int ch)
{
    if (!ds || ch < 0)
        return 0;
    if (t == GLIA_TARGET_LABELS)
        return ch < ds->nclasses ? 1u << ch : 0;
    if (t == GLIA_TARGET_WT)
        return ch == 0 ? ds->foreground : 0;
    return t == GLIA_TARGET_REGIONS && ch < ds->nregions ? ds->regions[ch] : 0;
}

const char *glia_dataset_target_name(const glia_dataset *ds, glia_target t, int ch)
{
    if (!ds || ch < 0 || ch >= GLIA_DS_MAX_CLASSES)
        return NULL;
    const char *n = t == GLIA_TARGET_REGIONS && ch < ds->nregions ? ds->region_name[ch]
                    : t == GLIA_TARGET_LABELS && ch < ds->nclasses ? ds->class_name[ch]
                                                                  : "";
    return n[0] ? n : NULL;
}

glia_target glia_dataset_default_target(const glia_dataset *ds)
{
    if (ds && ds->nregions > 0)
        return GLIA_TARGET_REGIONS;
    return !ds || ds->nclasses <= 2 ? GLIA_TARGET_WT : GLIA_TARGET_LABELS;
}
