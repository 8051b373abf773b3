/* glia — image volumes: NIfTI-1/2 (.nii, .nii.gz), PNG and TIFF slices, with
 * the header geometry that makes a written mask overlay its input exactly.
 *
 * A glia_volume is plain data: up to 7 dimensions in NIfTI index order
 * (i fastest, then j, k, t, ...), voxels stored in their file datatype, plus the
 * scaling and the geometry. The library allocates `data` on read and frees it
 * in glia_volume_free. Every size read from a file is checked (products
 * overflow-checked, the data bounded by the file's real length) before any
 * allocation; a corrupt, truncated or hostile file gives GLIA_STATUS_FORMAT_ERROR
 * with a message naming the file. Nothing is printed; nothing aborts. */
#ifndef GLIA_IMAGE_H
#define GLIA_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GLIA_VOLUME_MAX_DIMS 7

/* Voxel storage types; the values are NIfTI's datatype codes. */
typedef enum glia_dtype {
    GLIA_DTYPE_UINT8 = 2,
    GLIA_DTYPE_INT16 = 4,
    GLIA_DTYPE_INT32 = 8,
    GLIA_DTYPE_FLOAT32 = 16,
    GLIA_DTYPE_COMPLEX64 = 32,   /* two float32: real, imaginary */
    GLIA_DTYPE_FLOAT64 = 64,
    GLIA_DTYPE_RGB24 = 128,      /* three uint8 per voxel */
    GLIA_DTYPE_INT8 = 256,
    GLIA_DTYPE_UINT16 = 512,
    GLIA_DTYPE_UINT32 = 768,
    GLIA_DTYPE_INT64 = 1024,
    GLIA_DTYPE_UINT64 = 1280,
    GLIA_DTYPE_COMPLEX128 = 1792,
    GLIA_DTYPE_RGBA32 = 2304     /* four uint8 per voxel */
} glia_dtype;

/* Bytes per voxel of a datatype, 0 if it is not one glia stores. */
size_t glia_dtype_size(glia_dtype t);
/* "uint8", "float32", ...; "unknown" for other values. */
const char *glia_dtype_name(glia_dtype t);

/* Geometry and the rest of the NIfTI header, kept so a file round-trips. Values
 * are doubles (NIfTI-2 precision); NIfTI-1 stores them as float32. */
typedef struct glia_geom {
    double pixdim[8];        /* pixdim[0] is qfac (+1 or -1); [1..3] voxel spacing, [4] time step */
    int qform_code, sform_code;   /* 0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI, 5 template */
    double quatern_b, quatern_c, quatern_d;
    double qoffset_x, qoffset_y, qoffset_z;
    double srow[3][4];       /* the sform's three rows */
    int xyzt_units;
    int dim_info, slice_code;
    int64_t slice_start, slice_end;
    double slice_duration, toffset;
    int intent_code;
    double intent_p[3];
    char intent_name[17];
    double cal_min, cal_max;
    char descrip[81];
    char aux_file[25];
} glia_geom;

typedef struct glia_volume {
    int ndim;                              /* 1..7 */
    int64_t dim[GLIA_VOLUME_MAX_DIMS];     /* sizes in NIfTI order; unused ones are 1 */
    glia_dtype dtype;
    void *data;                            /* numel * glia_dtype_size(dtype) bytes, little or host endian */
    double scl_slope, scl_inter;           /* value = raw * slope + inter when slope is finite and non-zero */
    glia_geom geom;
    int nifti_version;                     /* 1 or 2 as read (0 for PNG/TIFF); the default when written */
} glia_volume;

/* Number of voxels (product of dim[0..ndim-1]). */
int64_t glia_volume_numel(const glia_volume *v);

/* A new zero-filled volume with identity-like geometry (spacing 1, no
 * transform codes). ndim 1..7, every size >= 1. */
glia_status glia_volume_new(int ndim, const int64_t *dim, glia_dtype dtype, glia_volume **out);

/* Free a volume and its data. NULL is a no-op. */
void glia_volume_free(glia_volume *v);

/* Read a volume. The format comes from the file's content: NIfTI-1 or NIfTI-2
 * (plain or gzip-compressed, either byte order), PNG, TIFF. PNG/TIFF images
 * become 2-D volumes (width, height) when grey and 3-D (width, height, channel)
 * with planar channels when they have colour or alpha; row 0 is the top row. */
glia_status glia_volume_read(const char *path, glia_volume **out);

/* Read only a NIfTI header (dims, dtype, scaling, geometry), data = NULL. */
glia_status glia_volume_read_header(const char *path, glia_volume **out);

/* The limit on a volume's decoded size. A small compressed file can claim
 * (and hold) gigabytes of voxels, so every reader (NIfTI plain and gzip, PNG,
 * TIFF, .npy) refuses a volume whose header asks for more bytes than this
 * (dims x bytes per voxel), before it decompresses or allocates anything:
 * GLIA_STATUS_UNSUPPORTED, with the dims, the bytes and the limit. The default
 * is GLIA_DEFAULT_MAX_VOLUME_BYTES (4 GiB). The environment variable
 * GLIA_MAX_VOLUME_BYTES replaces the default: a byte count, optionally with a
 * K, M, G or T suffix (powers of 1024), e.g. GLIA_MAX_VOLUME_BYTES=16G; a
 * malformed value makes reads fail with INVALID_ARGUMENT rather than be
 * ignored. glia_set_max_volume_bytes replaces both for the whole process
 * (0: back to the environment or the default). Header-only reads are not
 * limited. */
#define GLIA_DEFAULT_MAX_VOLUME_BYTES ((uint64_t)4 << 30)
void glia_set_max_volume_bytes(uint64_t bytes);
/* The limit in force; 0 if GLIA_MAX_VOLUME_BYTES is malformed (and no limit was set). */
uint64_t glia_max_volume_bytes(void);

typedef struct glia_image_write_options {
    int nifti_version;   /* 1 or 2; 0 = the volume's own, else 1 unless a size exceeds 32767 */
    int gzip_level;      /* 1..9 for .nii.gz; 0 = 6 */
} glia_image_write_options;

/* Write a volume; the format comes from the extension: .nii, .nii.gz, .png,
 * .tif/.tiff. The file is written to a temporary name and renamed, so no
 * partial file is left on failure. PNG/TIFF take uint8 or uint16 volumes of
 * shape (w, h) or (w, h, c) with c = 1, 3 or 4 (c = 2 also for PNG: grey and alpha).
 * opts may be NULL. */
glia_status glia_volume_write(const glia_volume *v, const char *path, const glia_image_write_options *opts);

/* The scaled voxel values as float32 in the volume's order (what nibabel's
 * get_fdata returns, in single precision). *out is malloc'd; free() it.
 * Complex and RGB data have no scalar value: GLIA_STATUS_UNSUPPORTED. */
glia_status glia_volume_to_float(const glia_volume *v, float **out);

/* Convert in place to another datatype (values are rounded and saturated when
 * the target is an integer; scaling is applied first and reset to none). */
glia_status glia_volume_convert(glia_volume *v, glia_dtype dtype);

/* Copy the geometry (and spacing) of ref onto v; their first three sizes must
 * agree. Scaling and datatype of v are kept. */
glia_status glia_volume_copy_geometry(glia_volume *v, const glia_volume *ref);

/* Axial slice k of a 3-D volume (more axes must be 1) as a new 2-D volume
 * with the same datatype and scaling. */
glia_status glia_volume_slice(const glia_volume *v, int64_t k, glia_volume **out);

/* .npy interchange: write the scaled values as float32 with shape (i, j, k[, t])
 * in C order (exactly nibabel's get_fdata() array); read a float32 .npy of 1-7
 * dimensions back as a float32 volume of that shape (default geometry). */
glia_status glia_volume_write_npy(const glia_volume *v, const char *path);
glia_status glia_volume_read_npy(const char *path, glia_volume **out);

/* Voxel (i, j, k) to world (x, y, z) matrix, as NIfTI prescribes: the sform if
 * sform_code > 0, else the qform if qform_code > 0, else plain voxel spacing. */
void glia_geom_affine(const glia_geom *g, double affine[4][4]);

/* Set both sform and qform (codes as given) from a 4x4 affine. The qform
 * takes the rotation part (after removing scaling and any shear). */
void glia_geom_set_affine(glia_geom *g, const double affine[4][4], int code);

#ifdef __cplusplus
}
#endif
#endif
