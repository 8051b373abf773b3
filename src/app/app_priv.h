/* The application layer's shared helpers (src/app): files, clock, statistics,
 * target names and the preprocessing record of a checkpoint. Training,
 * evaluation and inference sit on top of it and call one way only
 * (train -> eval -> infer), so what more than one of them needs lives here
 * and this header includes none of theirs. */
#ifndef GLIA_APP_PRIV_H
#define GLIA_APP_PRIV_H

#include <stddef.h>
#include "data/data_priv.h"
#include "io/io_priv.h"
#include "glia/labels.h"

/* Create a folder and its parents (like mkdir -p). */
glia_status glia_mkdirs_(const char *path);
/* Seconds on a monotonic clock. */
double glia_now_(void);
/* The numpy-style (linear) q-th quantile, q in [0, 1], of x[0..n-1]; sorts x. */
double glia_quantile_(double *x, size_t n, double q);

/* "regions", "wt", "labels" and back (INVALID_ARGUMENT listing the names). */
const char *glia_target_name_(glia_target t);
glia_status glia_target_parse_(const char *name, glia_target *out);

/* ---- what inference needs from training --------------------------------------
 * Every checkpoint a run writes carries, besides the model's own metadata and
 * "labels" (glia_label_info as JSON), the metadata key GLIA_META_PREPROCESS_:
 * a JSON object with the keys zscore, clip, crop_nonzero, spacing, resize,
 * crop (the glia_preprocess applied to inputs) and size (the training crop or
 * patch, 3-D models' default window). The keys are those of the training
 * configuration, so the same reader takes the whole configuration record
 * ("glia_train") of checkpoints written before this key existed. */
#define GLIA_META_PREPROCESS_ "preprocess"

/* The record as JSON (malloc'd; free() it). */
glia_status glia_preprocess_record_to_json_(const glia_preprocess *pre, const int64_t size[3], char **json);
/* Read the record's keys from a JSON object, ignoring any other key; keys
 * absent keep what pre and size hold. A bad value is FORMAT_ERROR naming it. */
glia_status glia_preprocess_record_from_json_(const char *json, glia_preprocess *pre, int64_t size[3]);

#endif
