/* Phantoms as an nnU-Net v2 raw dataset: imagesTr/GLIA_000_0000.nii.gz ...
 * (one file per channel), labelsTr/GLIA_000.nii.gz, unlabelled cases in
 * imagesTs/, and a v2 dataset.json, labelled as nnU-Net's own BraTS
 * conversion does (1 oedema, 2 necrosis, 3 enhancing; regions whole tumor,
 * tumor core, enhancing tumor), or as plain classes. */
#include <stdio.h>
#include <stdlib.h>
#include <cJSON.h>
#include "data/data_priv.h"
#include "data/synth_priv.h"
#include "io/io_priv.h"

static const char *const channel_names[4] = {"T1", "T1ce", "T2", "FLAIR"};

static glia_status write_json(const char *dir, const glia_synth_options *o)
{
    cJSON *root = cJSON_CreateObject(), *ch = cJSON_AddObjectToObject(root, "channel_names");
    cJSON *labels = cJSON_AddObjectToObject(root, "labels");
    for (int c = 0; ch && c < 4; c++) {
        char key[4];
        snprintf(key, sizeof key, "%d", c);
        cJSON_AddStringToObject(ch, key, channel_names[c]);
    }
    cJSON_AddNumberToObject(labels, "background", 0);
    if (o->plain_labels) {
        cJSON_AddNumberToObject(labels, "edema", 1);
        cJSON_AddNumberToObject(labels, "necrosis", 2);
        cJSON_AddNumberToObject(labels, "enhancing tumor", 3);
    } else {
        static const int wt[3] = {1, 2, 3};
        cJSON_AddItemToObject(labels, "whole tumor", cJSON_CreateIntArray(wt, 3));
        cJSON_AddItemToObject(labels, "tumor core", cJSON_CreateIntArray(wt + 1, 2));
        cJSON_AddItemToObject(labels, "enhancing tumor", cJSON_CreateIntArray(wt + 2, 1));
        cJSON_AddItemToObject(root, "regions_class_order", cJSON_CreateIntArray(wt, 3));
    }
    cJSON_AddNumberToObject(root, "numTraining", o->cases - o->unlabelled);
    cJSON_AddStringToObject(root, "file_ending", ".nii.gz");
    cJSON_AddStringToObject(root, "name", "glia synthetic phantoms");
    char *text = root ? cJSON_Print(root) : NULL, *path = glia_path_join_(dir, "dataset.json");
    cJSON_Delete(root);
    char *line = text ? glia_strfmt_("%s\n", text) : NULL;
    glia_status s = line && path ? glia_write_text_(path, line)
                                 : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: dataset.json");
    free(line);
    free(text);
    free(path);
    return s;
}

glia_status glia_synth_nnunet_prepare_(const char *dir, const glia_synth_options *o)
{
    static const char *const subs[3] = {"imagesTr", "labelsTr", "imagesTs"};
    glia_status s = GLIA_STATUS_OK;
    for (int i = 0; i < 3 && s == GLIA_STATUS_OK; i++) {
        if (i == 2 && o->unlabelled == 0)
            break;
        char *p = glia_path_join_(dir, subs[i]);
        s = p ? glia_synth_make_dir_(p) : glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
        free(p);
    }
    return s == GLIA_STATUS_OK ? write_json(dir, o) : s;
}

glia_status glia_synth_nnunet_case_(const char *dir, const glia_synth_options *o, int i, const float *img,
                                    uint8_t *lab)
{
    static const uint8_t from_brats[5] = {0, 2, 1, 0, 3}; /* BraTS 2021's NCR 1, ED 2, ET 4 */
    int labelled = i < o->cases - o->unlabelled;
    size_t n = (size_t)(o->size[0] * o->size[1] * o->size[2]);
    glia_status s = GLIA_STATUS_OK;
    for (int c = 0; c < 5 && s == GLIA_STATUS_OK; c++) {
        if (c == 4 && !labelled)
            break;
        char *p = c < 4 ? glia_strfmt_("%s/%s/GLIA_%03d_%04d.nii.gz", dir, labelled ? "imagesTr" : "imagesTs", i, c)
                        : glia_strfmt_("%s/labelsTr/GLIA_%03d.nii.gz", dir, i);
        if (!p) {
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_synth: names");
            break;
        }
        if (c == 4)
            for (size_t v = 0; v < n; v++)
                lab[v] = lab[v] < 5 ? from_brats[lab[v]] : 0;
        s = c < 4 ? glia_synth_write_nifti_(p, o->size, GLIA_DTYPE_INT16, img + (size_t)c * n, NULL)
                  : glia_synth_write_nifti_(p, o->size, GLIA_DTYPE_UINT8, NULL, lab);
        free(p);
    }
    return s;
}
