/* The glia command: a thin layer over the public API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "glia/glia.h"

static const char usage[] =
    "usage: glia <command> [options]\n"
    "\n"
    "commands:\n"
    "  devices                 list every device of every backend; '*' marks what 'auto' picks\n"
    "  toy [options]           train a tiny U-Net on synthetic disks and report its Dice\n"
    "      --device SPEC       cpu, opencl:N, vulkan:N or auto (default auto)\n"
    "      --steps N           training steps (default 80)\n"
    "      --batch N           images per step (default 8)\n"
    "      --seed S            random seed (default 0)\n"
    "      --threads N         CPU backend threads (default: all cores)\n"
    "  help                    this text\n"
    "  --version               print the version\n";

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "glia: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static int lib_fail(const char *what, glia_status s)
{
    const char *msg = glia_last_error();
    fprintf(stderr, "glia: %s: %s%s%s\n", what, glia_status_str(s), *msg ? ": " : "", msg);
    return 1;
}

static const char *type_name(glia_device_type t)
{
    switch (t) {
    case GLIA_DEVICE_TYPE_CPU: return "cpu";
    case GLIA_DEVICE_TYPE_INTEGRATED: return "integrated";
    case GLIA_DEVICE_TYPE_DISCRETE: return "discrete";
    default: return "other";
    }
}

static int cmd_devices(int argc, char **argv)
{
    if (argc > 0)
        return fail("devices: unexpected argument '%s'", argv[0]);
    glia_device_info list[64], pick;
    int n = 0;
    glia_status s = glia_devices_list(list, 64, &n);
    if (s != GLIA_STATUS_OK)
        return lib_fail("devices", s);
    int have_auto = glia_devices_auto(&pick) == GLIA_STATUS_OK;
    printf("  %-10s %-24s %-11s %9s  %s\n", "device", "vendor", "type", "memory", "name");
    for (int i = 0; i < n && i < 64; i++) {
        char spec[48];
        int is_auto = have_auto && strcmp(pick.backend, list[i].backend) == 0 && pick.index == list[i].index;
        snprintf(spec, sizeof spec, "%.15s:%d", list[i].backend, list[i].index);
        printf("%c %-10s %-24.24s %-11s %7.1f G  %s%s\n", is_auto ? '*' : ' ', spec, list[i].vendor,
               type_name(list[i].type), list[i].memory_bytes / 1073741824.0, list[i].name,
               list[i].emulated ? " (emulated)" : "");
    }
    return 0;
}

/* Parse a whole non-negative integer option value. */
static int parse_int(const char *flag, const char *v, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || errno || x < 0 || x > max) {
        fprintf(stderr, "glia: %s needs a whole number from 0 to %ld, got '%s'\n", flag, max, v ? v : "");
        return 0;
    }
    *out = x;
    return 1;
}

static int cmd_toy(int argc, char **argv)
{
    const char *spec = "auto";
    long steps = 80, batch = 8, seed = 0, threads = 0;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(f, "--device") == 0 && v)
            spec = v;
        else if (strcmp(f, "--steps") == 0)
            ok = parse_int(f, v, 1000000, &steps) && steps > 0;
        else if (strcmp(f, "--batch") == 0)
            ok = parse_int(f, v, 1024, &batch) && batch > 0;
        else if (strcmp(f, "--seed") == 0)
            ok = parse_int(f, v, 2147483647L, &seed);
        else if (strcmp(f, "--threads") == 0)
            ok = parse_int(f, v, 4096, &threads);
        else
            return fail(v || strncmp(f, "--", 2) ? "toy: unknown option '%s' (see 'glia help')"
                                                 : "toy: option '%s' needs a value", f);
        if (!ok)
            return 2;
        i++;
    }
    glia_device_options dopts = {.threads = (int)threads};
    glia_device *dev = NULL;
    glia_status s = glia_device_open(spec, &dopts, &dev);
    if (s != GLIA_STATUS_OK)
        return lib_fail("toy", s);
    const glia_device_info *info = glia_device_get_info(dev);
    printf("training a tiny U-Net on synthetic disks on %s:%d (%s), %ld steps of %ld images\n", info->backend,
           info->index, info->name, steps, batch);
    glia_toy_options o = {.steps = (int)steps, .batch = (int)batch, .seed = (uint64_t)seed, .verbose = 1};
    glia_toy_result r;
    s = glia_toy_train(dev, &o, &r);
    if (s != GLIA_STATUS_OK) {
        int rc = lib_fail("toy", s);
        glia_device_close(dev);
        return rc;
    }
    printf("loss %.4f -> %.4f in %.2f s; held-out Dice %.3f\n", r.first_loss, r.last_loss, r.seconds, r.dice);
    glia_device_close(dev);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("glia %s\n", glia_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "devices") == 0)
        return cmd_devices(argc - 2, argv + 2);
    if (strcmp(cmd, "toy") == 0)
        return cmd_toy(argc - 2, argv + 2);
    return fail("unknown command '%s' (see 'glia help')", cmd);
}
