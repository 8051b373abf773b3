/* glia — files: safetensors checkpoints, .npy arrays, string metadata.
 *
 * Writers are atomic: they write a temporary file next to the target, fsync
 * it and rename it over the target, so a failure leaves no partial file and
 * never damages a file already there. Readers check every size and offset
 * taken from a file before using it: a truncated or malformed file is
 * GLIA_STATUS_FORMAT_ERROR with a message naming the file and the problem. */
#ifndef GLIA_IO_H
#define GLIA_IO_H

#include "model.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- string metadata ------------------------------------------------------
 * An ordered list of unique string keys with string values (what the
 * safetensors "__metadata__" object holds). */
typedef struct glia_meta glia_meta;

glia_status glia_meta_create(glia_meta **out);
void glia_meta_free(glia_meta *m);
/* Set key to a copy of value, replacing an earlier value of the key. */
glia_status glia_meta_set(glia_meta *m, const char *key, const char *value);
/* The value of key (owned by m), or NULL. */
const char *glia_meta_get(const glia_meta *m, const char *key);
int glia_meta_count(const glia_meta *m);
glia_status glia_meta_at(const glia_meta *m, int i, const char **key, const char **value);

/* ---- safetensors -----------------------------------------------------------
 * 8-byte little-endian header length, a JSON header mapping each tensor name
 * to {"dtype", "shape", "data_offsets"} (plus "__metadata__"), then the
 * little-endian data. glia writes F32 tensors and I64 counters (shape [],
 * like PyTorch's num_batches_tracked). */
#define GLIA_ST_MAX_DIMS 8

typedef struct glia_st_entry {
    const char *name;
    char dtype[8];           /* as in the file: "F32", "I64", "F16", ... */
    int elem_bytes;
    int ndim;
    int64_t shape[GLIA_ST_MAX_DIMS];
    int64_t numel;
    uint64_t offset;         /* from the start of the data section */
    uint64_t bytes;
} glia_st_entry;

typedef struct glia_safetensors glia_safetensors;

/* Open a file and check its header (dtypes, shapes against data offsets,
 * offsets covering the data section exactly, no overlap). Data is read later
 * on demand. */
glia_status glia_safetensors_open(const char *path, glia_safetensors **out);
void glia_safetensors_close(glia_safetensors *st);
const char *glia_safetensors_path(const glia_safetensors *st);
int glia_safetensors_count(const glia_safetensors *st);
/* Entry i in data order, or NULL. */
const glia_st_entry *glia_safetensors_entry(const glia_safetensors *st, int i);
/* The entry of a name, or NULL. */
const glia_st_entry *glia_safetensors_find(const glia_safetensors *st, const char *name);
/* The file's metadata (empty if it has none); owned by st. */
const glia_meta *glia_safetensors_meta(const glia_safetensors *st);
/* Copy an entry's raw little-endian bytes (bytes must equal e->bytes). */
glia_status glia_safetensors_read(const glia_safetensors *st, const glia_st_entry *e, void *dst, size_t bytes);

/* One group of tensors in a file: the entries of set, each named prefix+name. */
typedef struct glia_st_section {
    glia_params *set;
    const char *prefix;      /* "" or NULL: no prefix */
} glia_st_section;

/* Write the sections and metadata (meta may be NULL) atomically. */
glia_status glia_safetensors_save(const char *path, const glia_st_section *sections, int nsections,
                                  const glia_meta *meta);

typedef struct glia_st_load_options {
    const char *prefix;      /* the set's entries are named prefix+name in the file; NULL = "" */
    int strict;              /* 1: a file entry under prefix that the set lacks is an error too */
    const char *exclude;     /* strict ignores file entries starting with this (NULL = none) */
    char *report;            /* if not NULL: every mismatch, one per line, NUL-terminated */
    size_t report_len;
} glia_st_load_options;

/* Copy the file's tensors into the set's tensors (on their devices) and
 * counters. Every entry of the set must be in the file with its shape and
 * dtype (F32 for tensors, I64 of shape [] for counters). All mismatches are
 * collected before anything is copied: on SHAPE_MISMATCH the set is unchanged
 * and the message names the first ones (the report, all of them). */
glia_status glia_safetensors_load(const glia_safetensors *st, glia_params *set, const glia_st_load_options *opts);

/* ---- .npy ------------------------------------------------------------------
 * NumPy's format, versions 1 to 3; glia reads and writes float32 ('<f4', C
 * order). Any other dtype or Fortran order is FORMAT_ERROR naming the dtype.
 * Reads obey the decoded-size limit of glia/image.h (glia_max_volume_bytes). */
#define GLIA_NPY_MAX_DIMS 8

/* Read a float32 array: *data (malloc'd, the caller frees it) gets numel
 * values; shape gets ndim (at most GLIA_NPY_MAX_DIMS) sizes. */
glia_status glia_npy_read_f32(const char *path, int *ndim, int64_t *shape, float **data);
/* Write a float32 array (version 1.0 header) atomically. */
glia_status glia_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data);

/* ---- checkpoints -------------------------------------------------------------
 * A checkpoint is a safetensors file with the model's parameters under their
 * PyTorch names and metadata "model" (architecture name), "config" (JSON: the
 * keys of the architecture's field table, glia/model.h) and "glia_version". A
 * training checkpoint adds the optimizer state as "optimizer.<param>.<state>"
 * tensors, its options as "optimizer" (JSON) and its step count as
 * "optimizer_steps"; callers add their own keys (progress) through extra. */
#define GLIA_CHECKPOINT_OPTIM_PREFIX "optimizer."

/* The configuration as JSON text into buf (len bytes); INVALID_ARGUMENT if it
 * does not fit. */
glia_status glia_model_config_to_json(const glia_model_config *cfg, char *buf, size_t len);
/* Parse an architecture name and its JSON configuration; missing fields take
 * the architecture's defaults. The result is checked. */
glia_status glia_model_config_from_json(const char *arch, const char *json, glia_model_config *cfg);
/* The configuration of a checkpoint: from its metadata, or, for a file
 * without glia's metadata (a PyTorch export), inferred from the tensor names
 * and shapes (r2unet's t, which no tensor shows, then defaults to 2). */
glia_status glia_checkpoint_config(const glia_safetensors *st, glia_model_config *cfg);

/* Check that a checkpoint's tensors are those of cfg's model before anything
 * is built: every tensor glia_model_tensors lists is in the file with its
 * dtype and shape, and the file holds no other (entries under
 * GLIA_CHECKPOINT_OPTIM_PREFIX aside). With glia_safetensors_open's check that
 * the data offsets fit the file, a model that passes takes no more memory than
 * the file's size, whatever its metadata claims. FORMAT_ERROR names the first
 * differing tensor. trainable (may be NULL): the trainable parameter count. */
glia_status glia_checkpoint_check(const glia_safetensors *st, const glia_model_config *cfg, int64_t *trainable);

/* Save a model with its configuration; extra metadata may be NULL. */
glia_status glia_model_save(glia_model *m, const char *path, const glia_meta *extra);
/* Check the checkpoint against its configuration (glia_checkpoint_check), then
 * build its model on dev and load its weights strictly (entries under
 * GLIA_CHECKPOINT_OPTIM_PREFIX are not the model's and are skipped). */
glia_status glia_model_load(const glia_safetensors *st, glia_device *dev, glia_model **out);
/* glia_safetensors_open + glia_model_load + close. */
glia_status glia_model_load_file(const char *path, glia_device *dev, glia_model **out);

/* Save model, optimizer state (opt over the model's parameters, created with
 * options oo) and extra metadata. */
glia_status glia_checkpoint_save(const char *path, glia_model *m, glia_optimizer *opt,
                                 const glia_optim_options *oo, const glia_meta *extra);
/* The optimizer options stored in a training checkpoint; INVALID_ARGUMENT if
 * the file has none. */
glia_status glia_checkpoint_optim_options(const glia_safetensors *st, glia_optim_options *oo);
/* Restore a training checkpoint's optimizer state and step count into opt,
 * created over m's parameters with the stored options. Every state tensor
 * must name a trainable parameter of m and have its shape. */
glia_status glia_checkpoint_load_optim(const glia_safetensors *st, glia_model *m, glia_optimizer *opt);

#ifdef __cplusplus
}
#endif
#endif
