/* Options that tell inference what weights without glia's metadata (a MONAI
 * export) mean: --channels, --modalities and --window, shared by infer and
 * eval. */
#include <stdio.h>
#include "cli.h"

int glia_cli_weights_meaning(const char *cmd, glia_predictor *p, const char *channels, const char *modalities)
{
    if (!channels && !modalities)
        return 0;
    glia_label_info li = glia_predictor_get_info(p)->labels;
    glia_status s = GLIA_STATUS_OK;
    if (channels)
        s = glia_label_info_set_regions(&li, channels);
    if (s == GLIA_STATUS_OK && modalities)
        s = glia_label_info_set_modalities(&li, modalities);
    if (s == GLIA_STATUS_OK)
        s = glia_predictor_set_labels(p, &li);
    return s == GLIA_STATUS_OK ? 0 : glia_cli_usage_error("%s: %s", cmd, glia_last_error());
}

int glia_cli_window(const char *cmd, const char *text, int64_t window[3])
{
    long long w[3] = {0, 0, 0};
    char tail = 0;
    if (text && (sscanf(text, "%lld,%lld,%lld%c", &w[0], &w[1], &w[2], &tail) != 3 || w[0] < 1 || w[1] < 1 ||
                 w[2] < 1 || w[0] > 4096 || w[1] > 4096 || w[2] > 4096))
        return glia_cli_usage_error("%s: --window needs I,J,K (1 to 4096 each), got '%s'", cmd, text);
    for (int a = 0; a < 3; a++)
        window[a] = w[a];
    return 0;
}
