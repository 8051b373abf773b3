/* glia devices: every device of every backend, marking the one 'auto' picks. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char *type_name(glia_device_type t)
{
    switch (t) {
    case GLIA_DEVICE_TYPE_CPU: return "cpu";
    case GLIA_DEVICE_TYPE_INTEGRATED: return "integrated";
    case GLIA_DEVICE_TYPE_DISCRETE: return "discrete";
    default: return "other";
    }
}

int glia_cmd_devices(int argc, char **argv)
{
    if (glia_cli_parse("devices", NULL, 0, argc, argv, NULL, 0, NULL))
        return 2;
    enum { MAX = 64 };
    glia_device_info list[MAX], pick;
    int n = 0;
    glia_status s = glia_devices_list(list, MAX, &n);
    if (s != GLIA_STATUS_OK)
        return glia_cli_lib_error("devices", s);
    int have_auto = glia_devices_auto(&pick) == GLIA_STATUS_OK;
    printf("  %-10s %-24s %-11s %9s  %s\n", "device", "vendor", "type", "memory", "name (driver)");
    for (int i = 0; i < n && i < MAX; i++) {
        char spec[48];
        int is_auto = have_auto && strcmp(pick.backend, list[i].backend) == 0 && pick.index == list[i].index;
        snprintf(spec, sizeof spec, "%.15s:%d", list[i].backend, list[i].index);
        printf("%c %-10s %-24.24s %-11s %7.1f G  %s%s%s%s%s\n", is_auto ? '*' : ' ', spec, list[i].vendor,
               type_name(list[i].type), list[i].memory_bytes / 1073741824.0, list[i].name,
               list[i].driver[0] ? " (" : "", list[i].driver, list[i].driver[0] ? ")" : "",
               list[i].emulated ? " [emulated]" : "");
    }
    if (n > MAX)
        printf("(%d more not shown)\n", n - MAX);
    return 0;
}
