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
