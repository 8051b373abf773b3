/* The glia command: a thin layer over the public API, one file per command. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const glia_cli_cmd commands[] = {
    {"devices", "", "list every device of every backend; '*' marks what 'auto' picks", NULL, glia_cmd_devices},
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
