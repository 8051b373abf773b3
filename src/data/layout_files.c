/* Folder layouts of slice and pair datasets: LGG kaggle_3m (one TIFF per axial
 * slice, a patient per folder) and generic image/mask pairs named by a pattern. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/data_priv.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

typedef struct slice_name {
    long n;
    char *name;
} slice_name;

static int cmp_slice(const void *a, const void *b)
{
    long x = ((const slice_name *)a)->n, y = ((const slice_name *)b)->n;
    return x < y ? -1 : x > y;
}

/* "<case>_<n>.tif" -> n, or -1 when the name has no trailing number. */
static long slice_number(const char *name)
{
    size_t len = strlen(name) - 4;
    size_t i = len;
    while (i > 0 && isdigit((unsigned char)name[i - 1]))
        i--;
    if (i == len || i == 0 || name[i - 1] != '_' || len - i > 9)
        return -1;
    return strtol(name + i, NULL, 10);
}

static glia_status scan_lgg_case(glia_dataset *ds, const char *name)
{
    ds_case *c = glia_add_case_(ds);
    char *sub = glia_path_join_(ds->dir, name);
    if (!c || !sub || !(c->id = glia_strdup_(name)) || !(c->patient = glia_strdup_(name))) {
        free(sub);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning cases", ds->dir);
    }
    /* TCGA_CS_4941_19960909: the date is the scan of patient TCGA_CS_4941 */
    char *us = strrchr(c->patient, '_');
    if (us && strlen(us) == 9 && strspn(us + 1, "0123456789") == 8)
        *us = '\0';
    int n = 0;
    char **files = glia_list_dir_(sub, 0, &n);
    slice_name *sl = calloc((size_t)n + 1, sizeof *sl);
    int ns = 0;
    for (int i = 0; sl && i < n; i++) {
        if (!ends_with(files[i], ".tif") || ends_with(files[i], "_mask.tif"))
            continue;
        long k = slice_number(files[i]);
        if (k >= 0)
            sl[ns++] = (slice_name){k, files[i]};
    }
    glia_status s = GLIA_STATUS_OK;
    if (ns == 0) {
        c->problem = glia_strfmt_("no slices: expected %s/%s_1.tif, %s_2.tif, ...", name, name, name);
    } else if (!(c->slices = calloc((size_t)ns, sizeof *c->slices)) || !(c->masks = calloc((size_t)ns, sizeof *c->masks))) {
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning slices", sub);
    } else {
        qsort(sl, (size_t)ns, sizeof *sl, cmp_slice);
        c->nslices = ns;
        int have = 0;
        for (int i = 0; i < ns; i++) {
            c->slices[i] = glia_path_join_(sub, sl[i].name);
            c->masks[i] = glia_strfmt_("%s/%.*s_mask.tif", sub, (int)strlen(sl[i].name) - 4, sl[i].name);
            if (c->masks[i] && glia_is_file_(c->masks[i]))
                have++;
            else if (!c->problem && c->masks[i])
                c->problem = glia_strfmt_("slice %s has no mask (expected %s/%.*s_mask.tif)", sl[i].name, name,
                                          (int)strlen(sl[i].name) - 4, sl[i].name);
        }
        if (have == 0) { /* an unlabelled case, not a broken one */
            for (int i = 0; i < ns; i++) {
                free(c->masks[i]);
                c->masks[i] = NULL;
            }
            free(c->problem);
            c->problem = NULL;
        }
    }
    free(sl);
    glia_free_list_(files, n);
    free(sub);
    return s;
}

glia_status glia_scan_lgg_(glia_dataset *ds)
{
    ds->channels = 3; /* kaggle_3m's RGB channels: pre-contrast, FLAIR, post-contrast */
    snprintf(ds->modality[0], sizeof ds->modality[0], "pre");
    snprintf(ds->modality[1], sizeof ds->modality[1], "flair");
    snprintf(ds->modality[2], sizeof ds->modality[2], "post");
    int n = 0;
    char **subs = glia_list_dir_(ds->dir, 1, &n);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++)
        s = scan_lgg_case(ds, subs[i]);
    glia_free_list_(subs, n);
    return s;
}

static const char *const image_ext[] = {".nii.gz", ".nii", ".png", ".tiff", ".tif"};
enum { NEXT = sizeof image_ext / sizeof image_ext[0] };

static int image_ext_of(const char *name)
{
    for (int e = 0; e < NEXT; e++)
        if (ends_with(name, image_ext[e]))
            return e;
    return -1;
}

/* The channels of a generic image: colour planes of PNG/TIFF, the 4th axis of NIfTI. */
static glia_status probe_channels(glia_dataset *ds, const char *path)
{
    glia_volume *v = NULL;
    int nifti = ends_with(path, ".nii") || ends_with(path, ".nii.gz");
    glia_status s = nifti ? glia_volume_read_header(path, &v) : glia_volume_read(path, &v);
    if (s != GLIA_STATUS_OK)
        return s;
    int64_t ch = nifti ? (v->ndim >= 4 ? v->dim[3] : 1) : (v->ndim >= 3 ? v->dim[2] : 1);
    glia_volume_free(v);
    if (ch < 1 || ch > 4)
        return glia_seterr(GLIA_STATUS_UNSUPPORTED, "%s: %lld channels; generic images have 1 to 4", path,
                           (long long)ch);
    ds->channels = (int)ch;
    for (int c = 0; c < ds->channels; c++)
        snprintf(ds->modality[c], sizeof ds->modality[c], "c%d", c);
    return GLIA_STATUS_OK;
}

glia_status glia_scan_generic_(glia_dataset *ds)
{
    const char *pat = ds->mask_pattern, *star = strchr(pat, '*');
    if (!star || strchr(star + 1, '*'))
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "mask pattern '%s' needs exactly one '*' (the image's stem)",
                           pat);
    char *imgdir = glia_path_join_(ds->dir, "images");
    if (imgdir && !glia_is_dir_(imgdir)) {
        free(imgdir);
        imgdir = glia_strdup_(ds->dir);
    }
    if (!imgdir)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning", ds->dir);
    size_t plen = (size_t)(star - pat), qlen = strlen(star + 1);
    int same_dir = strchr(pat, '/') == NULL;
    int n = 0;
    char **files = glia_list_dir_(imgdir, 0, &n);
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < n && s == GLIA_STATUS_OK; i++) {
        int e = image_ext_of(files[i]);
        if (e < 0)
            continue;
        size_t stem = strlen(files[i]) - strlen(image_ext[e]);
        /* a mask itself: prefix and suffix of the pattern around a non-empty stem */
        if (same_dir && stem > plen + qlen && strncmp(files[i], pat, plen) == 0 &&
            strncmp(files[i] + stem - qlen, star + 1, qlen) == 0)
            continue;
        ds_case *c = glia_add_case_(ds);
        if (!c || !(c->id = glia_strfmt_("%.*s", (int)stem, files[i])) || !(c->patient = glia_strdup_(c->id)) ||
            !(c->files[0] = glia_path_join_(imgdir, files[i]))) {
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "%s: scanning", ds->dir);
            break;
        }
        for (int k = -1; k < NEXT && !c->label; k++) {
            /* the image's own extension first, then any other */
            char *m = glia_strfmt_("%s/%.*s%s%s%s", imgdir, (int)plen, pat, c->id, star + 1,
                                   image_ext[k < 0 ? e : k]);
            if (m && glia_is_file_(m))
                c->label = m;
            else
                free(m);
        }
        if (ds->channels == 0)
            s = probe_channels(ds, c->files[0]);
    }
    glia_free_list_(files, n);
    free(imgdir);
    return s;
}
