/* The two studies' training recipes as presets. */
#include <stdio.h>
#include <string.h>
#include "train/train_priv.h"

typedef struct preset {
    const char *name, *description;
    const char *json;   /* applied on top of glia_train_config_default */
} preset;

/* Values the studies leave open are nnU-Net's or PyTorch's defaults. */
static const preset presets[] = {
    {"brats-unet2d",
     "BraTS 2-D U-Net: whole tumour, 224x224 crops of 256-resized slices, batch 4, SGD lr 0.1 momentum 0.9, "
     "cosine T_max 100, Dice then penalty-Dice (p = 2) from epoch 51, empty slices dropped with p = 0.5",
     "{\"model\": \"unet2d\", \"target\": \"wt\", \"resize\": [256, 256, 0], \"crop\": [224, 224, 0],"
     " \"size\": [224, 224, 0], \"batch\": 4, \"optimizer\": \"sgd\", \"lr\": 0.1, \"momentum\": 0.9,"
     " \"schedule\": \"cosine\", \"t_max\": 100, \"epochs\": 100, \"loss\": \"dice\", \"then_loss\": \"penalty-dice\","
     " \"penalty\": 2, \"switch_epoch\": 51, \"drop_empty\": 0.5}"},
    {"brats-unet3d",
     "BraTS 3-D U-Net: WT/TC/ET regions, 128^3 patches (a third centred on tumour), batch 2, SGD lr 0.01 "
     "Nesterov momentum 0.99, poly 0.9 decay, Dice+BCE, augmentation, crop to the brain",
     "{\"model\": \"unet3d\", \"target\": \"regions\", \"crop_nonzero\": true, \"size\": [128, 128, 128],"
     " \"batch\": 2, \"optimizer\": \"sgd\", \"lr\": 0.01, \"momentum\": 0.99, \"nesterov\": true,"
     " \"weight_decay\": 3e-5, \"schedule\": \"poly\", \"total\": 100, \"power\": 0.9, \"epochs\": 100,"
     " \"steps_per_epoch\": 250, \"loss\": \"dice+bce\", \"augment\": true, \"fg_fraction\": 0.33}"},
    {"lgg-unet",
     "LGG (kaggle_3m) 2-D U-Net: whole tumour on 256x256 RGB slices, batch 16, Adam lr 1e-3, Dice, augmentation",
     "{\"model\": \"unet2d\", \"features\": [32, 64, 128, 256], \"target\": \"wt\", \"size\": [256, 256, 0],"
     " \"batch\": 16, \"optimizer\": \"adam\", \"lr\": 0.001, \"schedule\": \"constant\", \"epochs\": 100,"
     " \"loss\": \"dice\", \"augment\": true}"},
    {"lgg-r2unet",
     "LGG (kaggle_3m) R2U-Net (t = 2): whole tumour on 256x256 RGB slices, batch 16, Adam lr 1e-3, Dice, augmentation",
     "{\"model\": \"r2unet\", \"target\": \"wt\", \"size\": [256, 256, 0], \"batch\": 16, \"optimizer\": \"adam\","
     " \"lr\": 0.001, \"schedule\": \"constant\", \"epochs\": 100, \"loss\": \"dice\", \"augment\": true}"},
    {"brats-swinunetr",
     "MONAI's BraTS 2021 SwinUNETR recipe: WT/TC/ET regions, feature_size 48, random 128^3 patches of the brain, "
     "batch 1, AdamW lr 1e-4 weight decay 1e-5, 50 linear warm-up epochs from 0 then cosine to 0 at epoch 300, "
     "sigmoid Dice, augmentation (--feature-size 36: the BraTS study's, for memory)",
     "{\"model\": \"swinunetr\", \"feature_size\": 48, \"target\": \"regions\", \"crop_nonzero\": true,"
     " \"size\": [128, 128, 128], \"batch\": 1, \"fg_fraction\": 0, \"optimizer\": \"adamw\", \"lr\": 1e-4,"
     " \"weight_decay\": 1e-5, \"schedule\": \"cosine\", \"warmup\": 50, \"warmup_start\": 0, \"t_max\": 250,"
     " \"eta_min\": 0, \"epochs\": 300, \"loss\": \"dice\", \"augment\": true}"},
};
enum { NPRESETS = sizeof presets / sizeof presets[0] };

const char *glia_train_preset_name(int i, const char **description)
{
    if (i < 0 || i >= NPRESETS)
        return NULL;
    if (description)
        *description = presets[i].description;
    return presets[i].name;
}

glia_status glia_train_preset(const char *name, glia_train_config *c)
{
    if (!name || !c)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_train_preset: NULL argument");
    for (int i = 0; i < NPRESETS; i++)
        if (strcmp(presets[i].name, name) == 0) {
            char data[sizeof c->data], device[sizeof c->device];
            memcpy(data, c->data, sizeof data);
            memcpy(device, c->device, sizeof device);
            glia_train_config_default(c);
            memcpy(c->data, data, sizeof data);
            memcpy(c->device, device, sizeof device);
            return glia_train_config_apply_json(c, presets[i].json);
        }
    char known[256] = "";
    for (int i = 0; i < NPRESETS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", presets[i].name);
    return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "unknown preset '%s' (known: %s)", name, known);
}
