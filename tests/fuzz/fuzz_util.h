/* Shared by the libFuzzer targets of tests/fuzz: readers that take a path get
 * the input as a file, written by one helper so that every target names, writes
 * and removes its temporary files the same way. */
#ifndef GLIA_FUZZ_UTIL_H
#define GLIA_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* The process's own temporary folder (made on first use, removed at exit), so
 * that parallel fuzzers (-jobs, -workers) never share a file. */
const char *glia_fuzz_dir(void);
/* Write data to <glia_fuzz_dir>/<name> and return that path (static storage,
 * valid until the next call). name carries the suffix the reader dispatches
 * on (".nii.gz", ".npy", ...). Aborts if the file cannot be written: a fuzzer
 * that silently tests nothing is worse than one that stops. */
const char *glia_fuzz_write(const char *name, const uint8_t *data, size_t size);
/* A NUL-terminated, malloc'd copy of the input, for readers of JSON text. */
char *glia_fuzz_text(const uint8_t *data, size_t size);
/* The common part of the image targets: read the input as a volume of that
 * suffix (and its header alone), then decode it to float, freeing everything. */
void glia_fuzz_volume(const char *suffix, const uint8_t *data, size_t size);
/* The targets' LLVMFuzzerInitialize lives in fuzz_util.c: it sets what every
 * target wants (a decoded-size limit far below -rss_limit_mb, so that a lying
 * header is refused rather than exhausting memory), then calls the target's
 * glia_fuzz_setup where it defines one (a device, a dataset made once). */
void glia_fuzz_setup(void) __attribute__((weak));
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
