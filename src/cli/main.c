/* The glia command: a thin layer over the public API, one file per command. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const glia_cli_cmd commands[] = {
    {"devices", "", "list every device of every backend; '*' marks what 'auto' picks", NULL, glia_cmd_devices},
    {"bench", "[options]", "time GEMM and U-Net-shaped convolutions on a device (GFLOP/s)",
     "  --device SPEC   cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --filter TEXT   only benchmarks whose name contains TEXT\n"
     "  --repeat N      timed runs per benchmark, after two warm-up runs (default 5); the median is shown\n"
     "  --threads N     CPU backend threads (default: all cores)\n",
     glia_cmd_bench},
    {"toy", "[options]", "train a tiny U-Net on synthetic disks and report its held-out Dice",
     "  --device SPEC   cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --steps N       training steps (default 80)\n"
     "  --batch N       images per step (default 8)\n"
     "  --seed S        random seed (default 0)\n"
     "  --threads N     CPU backend threads (default: all cores)\n",
     glia_cmd_toy},
    {"init", "MODEL -o F", "write a freshly initialised unet2d, r2unet or unet3d to a safetensors file",
     "  -o, --output FILE     the checkpoint to write (.safetensors)\n"
     "  --in-channels N       input channels (unet2d, r2unet: 3; unet3d: 4)\n"
     "  --out-channels N      output channels (unet2d, r2unet: 1; unet3d: 3)\n"
     "  --features a,b,...    channels per level (unet2d: 64,128,256,512; r2unet: 64,...,1024; unet3d: 8,...,64)\n"
     "  --no-batchnorm        no batch norm (unet2d, unet3d)\n"
     "  --t N                 r2unet recurrent steps (default 2)\n"
     "  --seed S              initialisation seed (default 0; the same weights on every backend)\n",
     glia_cmd_init},
    {"info", "FILE", "print a checkpoint's model, configuration, parameter count and tensor shapes", NULL,
     glia_cmd_info},
    {"forward", "IN OUT", "run a checkpoint (--weights) on a float32 N,C,(D,)H,W .npy, save the logits",
     "  --weights FILE        the checkpoint (.safetensors)\n"
     "  --device SPEC         cpu, opencl:N, vulkan:N or auto (default auto)\n"
     "  --train-mode          batch statistics in batch norm (PyTorch's model.train())\n"
     "  --threads N           CPU backend threads (default: all cores)\n",
     glia_cmd_forward},
    {"convert", "IN OUT", "convert between NIfTI (.nii, .nii.gz), PNG/TIFF and .npy",
     "  --like REF.nii.gz     copy REF's geometry onto the output (e.g. .npy -> NIfTI)\n"
     "  --dtype T             store as uint8, int8, int16, uint16, int32, uint32, int64, float32 or float64\n"
     "  --slice K             take axial slice K of a 3-D volume (e.g. NIfTI -> PNG)\n"
     "  --nifti 1|2           NIfTI version to write (default: the input's, else 1)\n"
     "  NIfTI -> .npy writes the scaled values as float32, shape (i, j, k[, t]) as nibabel's get_fdata()\n",
     glia_cmd_convert},
    {"dataset", "DIR", "check a dataset: layout, cases, modalities, shapes, spacing, labels, problems, split",
     "  --layout L            auto (default), brats2020, brats2021, brats2023, msd, lgg, generic\n"
     "  --mask-pattern P      generic: mask name of image stem S with * for S (default *_mask)\n"
     "  --folds K, --fold F   the k-fold split to show (default 5, 0), by patient\n"
     "  --seed S              split seed (default 0)\n"
     "  --split FILE          show a saved split instead; --save-split FILE writes the split as JSON\n"
     "  --threads N           decoding threads (default: all cores)\n"
     "  exits 1 if any case is unusable\n",
     glia_cmd_dataset},
    {"synth", "-o DIR", "write synthetic brain-MRI phantoms in BraTS (or LGG kaggle_3m) format",
     "  -o, --output DIR      the dataset folder to write\n"
     "  --layout L            brats2021 (default), brats2020, brats2023, lgg\n"
     "  --cases N             cases to write (default 10)\n"
     "  --seed S              phantom seed (default 0); the same seed writes the same files\n"
     "  --size WxHxD          grid (default 240x240x155; lgg 256x256x24)\n"
     "  --unlabelled N        the last N cases get no label file (a validation set)\n"
     "  --no-tumour P         share of cases without a tumour (default 0.1)\n"
     "  --skull-strip         zero scalp and skull, as BraTS images are\n"
     "  --template T1.nii.gz  a real T1 image as the anatomy (e.g. Debian mricron-data's Colin27)\n"
     "  --threads N           writer threads (default: all cores)\n",
     glia_cmd_synth},
};
enum { NCMD = sizeof commands / sizeof commands[0] };

static void usage(FILE *f)
{
    fputs("usage: glia <command> [arguments]\n\ncommands:\n", f);
    for (int i = 0; i < NCMD; i++)
        fprintf(f, "  %-8s %-10s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fputs("  help     [COMMAND]  this text, or a command's options\n"
          "  --version           print the version\n", f);
}

static const glia_cli_cmd *find(const char *name)
{
    for (int i = 0; i < NCMD; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("glia %s\n", glia_version());
        return 0;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            const glia_cli_cmd *c = find(argv[2]);
            if (!c)
                return glia_cli_usage_error("help: unknown command '%s'", argv[2]);
            printf("usage: glia %s %s\n%s\n%s", c->name, c->args, c->summary, c->help ? c->help : "");
            return 0;
        }
        usage(stdout);
        return 0;
    }
    const glia_cli_cmd *c = find(name);
    if (!c)
        return glia_cli_usage_error("unknown command '%s' (see 'glia help')", name);
    return c->run(argc - 2, argv + 2);
}
