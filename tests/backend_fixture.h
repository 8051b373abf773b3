/* Fixture of the backend-level tests (test_cl_backend.c, test_vk_backend.c):
 * define GT_FIXTURE_BACKEND ("opencl", "vulkan") before including. setup()
 * enumerates the backend's devices; need_device() skips the test when there
 * are none, or fails it when GLIA_REQUIRE_BACKENDS names the backend. */
#ifndef GLIA_BACKEND_FIXTURE_H
#define GLIA_BACKEND_FIXTURE_H

static const glia_backend *be;
static glia_device_info info[8];
static int count;

static int setup(void **state)
{
    (void)state;
    be = gt_backend(GT_FIXTURE_BACKEND);
    if (be && be->enumerate(info, 8, &count) != GLIA_STATUS_OK)
        count = 0;
    return 0;
}

static void need_device(void)
{
    if (count > 0)
        return;
    if (gt_backend_required(GT_FIXTURE_BACKEND))
        fail_msg("no %s device, but GLIA_REQUIRE_BACKENDS requires one", GT_FIXTURE_BACKEND);
    skip();
}

#endif
