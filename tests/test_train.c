/* Training smoke test on one backend (argv[1]): the toy U-Net must learn to
 * segment bright disks on noise (held-out Dice > 0.9, loss falling). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "glia/glia.h"
#include "testutil.h"

static const char *backend_name;

static void test_toy_converges(void **state)
{
    (void)state;
    char spec[32];
    snprintf(spec, sizeof spec, strcmp(backend_name, "cpu") ? "%s:0" : "%s", backend_name);
    glia_device_options o = {.cache_dir = gt_cache_dir()};
    glia_device *dev = NULL;
    if (glia_device_open(spec, &o, &dev) != GLIA_STATUS_OK) {
        if (gt_backend_required(backend_name))
            fail_msg("backend %s is required but cannot be opened: %s", backend_name, glia_last_error());
        skip();
    }
    glia_toy_options t = {.seed = 3};
    glia_toy_result r;
    glia_status s = glia_toy_train(dev, &t, &r);
    if (s != GLIA_STATUS_OK)
        fail_msg("toy training on %s failed: %s", spec, glia_last_error());
    print_message("%s: loss %.4f -> %.4f, held-out Dice %.3f, %.2f s\n", spec, r.first_loss, r.last_loss, r.dice,
                  r.seconds);
    assert_true(r.last_loss < 0.5 * r.first_loss);
    assert_true(r.dice > 0.9);
    assert_int_equal(glia_device_close(dev), GLIA_STATUS_OK);
}

int main(int argc, char **argv)
{
    backend_name = argc > 1 ? argv[1] : "cpu";
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_toy_converges)};
    return cmocka_run_group_tests_name(backend_name, tests, NULL, NULL);
}
