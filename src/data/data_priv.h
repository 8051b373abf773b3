/* Private parts of the data pipeline (src/data). */
#ifndef GLIA_DATA_PRIV_H
#define GLIA_DATA_PRIV_H

#include <pthread.h>
#include "glia/data.h"

#include "core/error.h"

/* Label classes (and regions) a dataset may have: label_values and bitmasks are sized by it. */
#define GLIA_DS_MAX_CLASSES 8

typedef struct ds_case {
    char *id, *patient;
    char *files[4];        /* modality files (Decathlon: files[0] is the 4-D image) */
    char *label;           /* NULL when unlabelled */
    char **slices, **masks;/* LGG: one TIFF (and mask) per axial slice, in slice order */
    int nslices;
    char *problem;         /* why the case is unusable, or NULL */
} ds_case;

struct glia_dataset {
    glia_layout layout;
    char *dir;
    int ncases;
    ds_case *cases;
    int channels;
    int channel_map[4];    /* Decathlon: file channel of each canonical modality */
    char modality[4][16];
    int nclasses;
    int label_values[GLIA_DS_MAX_CLASSES]; /* raw value of each class */
    int accept_255;        /* masks stored as 0/255 (LGG, some generic sets) */
    unsigned foreground;   /* class bitmask of the wt target: every tumour class */
    int nregions;          /* channels of the regions target; 0 = none */
    unsigned regions[GLIA_DS_MAX_CLASSES]; /* class bitmask of each region (BraTS: WT, TC, ET) */
    /* names from the dataset itself (nnU-Net's dataset.json); "" = the layout's usual names */
    char region_name[GLIA_DS_MAX_CLASSES][16];
    char class_name[GLIA_DS_MAX_CLASSES][16];
    char *mask_pattern;
};

/* "%s/%s" joined into a new string; NULL when out of memory. */
char *glia_path_join_(const char *a, const char *b);
char *glia_strdup_(const char *s);
char *glia_strfmt_(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
struct cJSON;
/* dir/dataset.json parsed (at most 16 MiB); *path gets its malloc'd path for messages. */
glia_status glia_read_dataset_json_(const char *dir, struct cJSON **root, char **path);
/* Sorted names in dir (no "." entries); *n gets the count. dirs_only: 1 dirs, 0 files, -1 both. */
char **glia_list_dir_(const char *dir, int dirs_only, int *n);
void glia_free_list_(char **names, int n);
int glia_is_dir_(const char *p);
int glia_is_file_(const char *p);

/* A new zeroed case at the end of ds->cases, or NULL when out of memory. */
ds_case *glia_add_case_(glia_dataset *ds);
/* Layout scanners fill ds->cases (src/data/layout_*.c). */
glia_status glia_scan_brats_(glia_dataset *ds);
glia_status glia_scan_decathlon_(glia_dataset *ds);
glia_status glia_scan_lgg_(glia_dataset *ds);
glia_status glia_scan_generic_(glia_dataset *ds);
glia_status glia_scan_nnunet_(glia_dataset *ds);
/* An nnU-Net v2 raw folder: dataset.json with v2 keys, or imagesTr/ with _0000 files beside labelsTr/. */
int glia_is_nnunet_dir_(const char *dir);
/* Label conventions of a layout: classes, raw values, regions, modality names. */
void glia_layout_conventions_(glia_dataset *ds);
/* Trilinear resize (pixel centres aligned) of `channels` volumes from sd to dd. */
void glia_resize_linear_(const float *src, const int64_t *sd, int channels, float *dst, const int64_t *dd);
/* The pct-th percentile (0..100, interpolated) of the non-zero values; 0 if none. */
float glia_percentile_nonzero_(const float *x, size_t n, float pct);

/* An input image's scaled voxels as floats (glia_volume_to_float), or
 * NUMERIC_ERROR with the counts of NaN and infinite voxels: normalisation and
 * a model would turn them into a confident (empty) answer. Every way a case is
 * loaded (datasets, files, folders) passes here; callers name the file. */
glia_status glia_image_floats_(const glia_volume *v, float **out);
/* Number of CPU cores to use for `threads` = 0. */
int glia_default_threads_(void);

/* ticker.c: items finished by worker threads, told to a progress callback one at a time. */
typedef struct glia_ticker_ {
    glia_progress_fn fn;        /* may be NULL */
    void *user;
    int64_t total, done;
    pthread_mutex_t lock;
} glia_ticker_;
void glia_ticker_init_(glia_ticker_ *t, glia_progress_fn fn, void *user, int64_t total);
void glia_ticker_tick_(glia_ticker_ *t);
void glia_ticker_destroy_(glia_ticker_ *t);
/* A 64-bit mix of (seed, a, b): independent seeds for counter-based streams. */
uint64_t glia_mix_seed_(uint64_t seed, uint64_t a, uint64_t b);

#endif
