/* A training configuration (--config FILE.json, or a run folder's config.json
 * on resume) through glia_train_config_apply_json and glia_train_config_check. */
#include <stdlib.h>
#include "fuzz_util.h"
#include "glia/glia.h"
#include "glia/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = glia_fuzz_text(data, size);
    glia_train_config c;
    glia_train_config_default(&c);
    if (glia_train_config_apply_json(&c, json) == GLIA_STATUS_OK)
        (void)glia_train_config_check(&c);
    free(json);
    return 0;
}
