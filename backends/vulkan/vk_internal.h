/* glia — Vulkan backend, private structures shared by the files of backends/vulkan.
 *
 * The loader is opened at run time (dlopen), so a machine without Vulkan still
 * runs the CPU and OpenCL backends; every entry point goes through vkb_fns.
 * One glia_bctx is one VkDevice with one compute queue: ops are recorded into
 * the command buffer of the current batch and submitted in batches (see
 * vk_stream.c); buffers are sub-allocated from large device allocations
 * (vk_memory.c); pipelines are created once per specialisation and kept in a
 * VkPipelineCache saved to disk (vk_pipeline.c). */
#ifndef GLIA_VK_INTERNAL_H
#define GLIA_VK_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>
#include "backends/backend.h"
#include "vk_shader_abi.h"
#include "vk_spirv.h"   /* generated: GLIA_VK_SHADER_* and the SPIR-V words */

/* ---- entry points --------------------------------------------------------- */
#define VKB_GLOBAL_FNS(X)                                                       \
    X(vkCreateInstance) X(vkEnumerateInstanceExtensionProperties)               \
    X(vkEnumerateInstanceLayerProperties)
#define VKB_INSTANCE_FNS(X)                                                     \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices)                          \
    X(vkGetPhysicalDeviceProperties) X(vkGetPhysicalDeviceProperties2)          \
    X(vkGetPhysicalDeviceQueueFamilyProperties)                                 \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkEnumerateDeviceExtensionProperties) \
    X(vkCreateDevice) X(vkGetDeviceProcAddr)
#define VKB_DEVICE_FNS(X)                                                       \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle)                  \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkResetCommandPool)        \
    X(vkAllocateCommandBuffers) X(vkBeginCommandBuffer) X(vkEndCommandBuffer)   \
    X(vkQueueSubmit) X(vkCreateFence) X(vkDestroyFence) X(vkResetFences)        \
    X(vkWaitForFences) X(vkGetFenceStatus)                                      \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)       \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory)    \
    X(vkUnmapMemory) X(vkFlushMappedMemoryRanges) X(vkInvalidateMappedMemoryRanges) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule)                            \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)              \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout)                        \
    X(vkCreatePipelineCache) X(vkDestroyPipelineCache) X(vkGetPipelineCacheData) \
    X(vkCreateComputePipelines) X(vkDestroyPipeline)                            \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) \
    X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets)                       \
    X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants)       \
    X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdUpdateBuffer)

typedef struct vkb_fns {
    void *lib;
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
#define VKB_DECLARE(name) PFN_##name name;
    VKB_GLOBAL_FNS(VKB_DECLARE)
    VKB_INSTANCE_FNS(VKB_DECLARE)
    VKB_DEVICE_FNS(VKB_DECLARE)
#undef VKB_DECLARE
    PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion;          /* NULL on 1.0 loaders */
    PFN_vkCreateDebugUtilsMessengerEXT vkCreateDebugUtilsMessengerEXT;  /* optional */
    PFN_vkDestroyDebugUtilsMessengerEXT vkDestroyDebugUtilsMessengerEXT;
    PFN_vkCmdPushDescriptorSetKHR vkCmdPushDescriptorSetKHR;            /* optional */
} vkb_fns;

/* ---- vendor tuning and workarounds (vk_tuning.c) -------------------------- */
typedef struct vkb_gemm_cfg {
    uint8_t bm, bn, bk, tm, tn;  /* tile, depth, per-thread micro-tile (multiples of 4) */
} vkb_gemm_cfg;

#define VKB_GEMM_CFGS 6
enum {
    VKB_WA_NO_PUSH_DESCRIPTORS = 1u << 0,  /* bind descriptor sets from a pool instead */
    VKB_WA_NO_PIPELINE_CACHE = 1u << 1,    /* do not load or save the pipeline cache */
};

typedef struct vkb_tuning {
    const char *name;
    uint32_t vendor_id;          /* 0 = any */
    VkDriverId driver_id;        /* 0 = any */
    vkb_gemm_cfg gemm[VKB_GEMM_CFGS];  /* candidates (zero = none); ones the device cannot run are skipped */
    uint32_t wg;                 /* work-group size of the 1-D shaders */
    uint32_t submit_every;       /* dispatches per command buffer before a submit */
    uint32_t target_threads;     /* invocations in flight that keep the whole device busy */
    uint32_t loop_limit;         /* loop iterations an invocation may run, 0 = unlimited */
    unsigned workarounds;        /* VKB_WA_* */
} vkb_tuning;

const vkb_tuning *glia_vk_tuning(uint32_t vendor_id, VkDriverId driver_id);
/* Entry i of the table, NULL past its end (for tests that try every entry). */
const vkb_tuning *glia_vk_tuning_entry(int i);

/* ---- instances and physical devices (vk_instance.c) ----------------------- */
typedef struct vkb_validation {
    atomic_int errors;           /* validation messages of severity warning or error */
    char first[384];             /* the first of them, for the error message */
} vkb_validation;

typedef struct vkb_instance {
    vkb_fns fn;
    VkInstance inst;
    uint32_t api;                /* instance API version */
    VkDebugUtilsMessengerEXT messenger;
} vkb_instance;

/* Open the loader and create an instance. val (may be NULL) receives the
 * validation messages. GLIA_STATUS_NO_DEVICE when there is no usable loader. */
glia_status glia_vk_instance_create(vkb_instance *vi, vkb_validation *val);
void glia_vk_instance_destroy(vkb_instance *vi);
/* The usable physical devices (Vulkan >= 1.1 with a compute queue), in the
 * order of vulkan:N. *count gets their number; at most max are stored. */
glia_status glia_vk_physical_devices(vkb_instance *vi, VkPhysicalDevice *out, int max, int *count);
/* Describe one device for glia_devices_list. */
void glia_vk_device_info(vkb_instance *vi, VkPhysicalDevice pd, int index, glia_device_info *info);
/* The driver id (0 when the driver does not report one). */
VkDriverId glia_vk_driver_id(vkb_instance *vi, VkPhysicalDevice pd);
/* The status of a VkResult: device OOM, host OOM, device lost, else backend error. */
glia_status glia_vk_status(VkResult r);
/* Map a VkResult to a status and record "call failed: VK_ERROR_..". */
glia_status glia_vk_error(VkResult r, const char *call);
const char *glia_vk_result_str(VkResult r);

/* ---- memory (vk_memory.c) ------------------------------------------------- */
typedef struct vkb_range { VkDeviceSize off, size; } vkb_range;

typedef struct vkb_block {
    VkDeviceMemory mem;
    VkDeviceSize size;
    uint32_t type;
    vkb_range *free;             /* free ranges sorted by offset, coalesced */
    int nfree, capfree;
    int live;                    /* buffers placed in the block */
    struct vkb_block *next;
} vkb_block;

struct glia_bbuf {
    VkBuffer buf;
    VkDeviceSize size;           /* bytes usable */
    vkb_block *block;            /* NULL for host staging (own memory) */
    VkDeviceMemory own;          /* dedicated memory of a staging buffer */
    VkDeviceSize moff, msize;    /* place in block */
    void *map;                   /* host-visible staging only */
    uint64_t last_use;           /* serial of the last batch that used it */
    glia_bbuf *next_free;        /* deferred-free list link */
};

/* ---- batches (vk_stream.c) ------------------------------------------------ */
#define VKB_BATCHES 3
#define VKB_STAGING_MAX ((VkDeviceSize)64 << 20)
#define VKB_HAZARDS 48

typedef struct vkb_batch {
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool dpool;      /* only without push descriptors */
    uint32_t dsets;              /* descriptor sets taken from dpool */
    uint64_t serial;
    int state;                   /* 0 idle, 1 recording, 2 submitted */
    uint32_t dispatches;
    glia_bbuf *staging;          /* host-visible, mapped */
    VkDeviceSize staging_used;
    glia_bbuf *deferred;         /* buffers to free once the fence signals */
} vkb_batch;

/* ---- pipelines (vk_pipeline.c) -------------------------------------------- */
#define VKB_MAX_SPEC 12
typedef struct vkb_pipe_key {
    uint32_t shader;
    uint32_t nspec;
    uint32_t spec[VKB_MAX_SPEC];
} vkb_pipe_key;

typedef struct vkb_pipe_slot {
    vkb_pipe_key key;
    VkPipeline pipe;             /* VK_NULL_HANDLE = empty slot */
} vkb_pipe_slot;

/* ---- the opened device ---------------------------------------------------- */
struct glia_bctx {
    vkb_instance vi;
    vkb_validation val;
    int val_reported;            /* validation messages already returned as errors */
    VkPhysicalDevice pd;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t subgroup;
    VkDeviceSize max_alloc;      /* maxMemoryAllocationSize */
    VkDeviceSize max_range;      /* maxStorageBufferRange, rounded down to 16 */
    VkDeviceSize align;          /* minStorageBufferOffsetAlignment */
    uint32_t max_groups[3];      /* work-group counts, capped at 65535 */
    uint32_t wg;                 /* 1-D work-group size, a power of two */
    const vkb_tuning *tune;
    int push_desc;               /* VK_KHR_push_descriptor in use */
    int lost;                    /* the device was lost: every call fails */

    /* memory */
    int dev_type, host_type;     /* memory type indices */
    int host_coherent;
    VkDeviceSize block_size;
    vkb_block *blocks;

    /* pipelines */
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipelineCache pcache;
    int pcache_dirty;
    char *pcache_path;           /* NULL: no on-disk cache */
    VkShaderModule modules[GLIA_VK_SHADER_COUNT_];
    vkb_pipe_slot *pipes;
    uint32_t npipes, cappipes;   /* cappipes is a power of two */

    /* stream */
    vkb_batch batch[VKB_BATCHES];
    int cur;                     /* batch being recorded, -1 if none */
    int next;                    /* ring position of the next batch to begin */
    uint64_t serial;             /* last serial handed out */
    uint64_t done;               /* every batch with serial <= done has finished */
    VkPipeline bound;            /* pipeline bound in the current command buffer */
    glia_bbuf *rd[VKB_HAZARDS], *wr[VKB_HAZARDS];
    int nrd, nwr;                /* buffers read / written since the last barrier */
    int barrier_all;             /* the next command must wait for everything */

    glia_bbuf *dummy;            /* bound to unused optional slots */
    glia_bbuf *scratch;          /* workspace of multi-pass ops, grows */
};

/* vk_memory.c */
glia_status glia_vk_mem_init(glia_bctx *ctx);
void glia_vk_mem_destroy(glia_bctx *ctx);
glia_status glia_vk_buf_create(glia_bctx *ctx, size_t bytes, glia_bbuf **out);
/* Destroy now (caller knows the GPU is done with it). */
void glia_vk_buf_destroy(glia_bctx *ctx, glia_bbuf *b);
/* Destroy once the GPU is done with it. */
void glia_vk_buf_release(glia_bctx *ctx, glia_bbuf *b);
glia_status glia_vk_staging_create(glia_bctx *ctx, VkDeviceSize bytes, glia_bbuf **out);
/* A scratch buffer of at least bytes, valid until the next call. */
glia_status glia_vk_scratch(glia_bctx *ctx, size_t bytes, glia_bbuf **out);

/* vk_pipeline.c */
glia_status glia_vk_pipelines_init(glia_bctx *ctx, const char *cache_dir);
void glia_vk_pipelines_destroy(glia_bctx *ctx);
glia_status glia_vk_pipeline(glia_bctx *ctx, const vkb_pipe_key *key, VkPipeline *out);

/* vk_stream.c */
glia_status glia_vk_stream_init(glia_bctx *ctx);
void glia_vk_stream_destroy(glia_bctx *ctx);
/* Descriptor pools of the batches, when push descriptors are not used. */
glia_status glia_vk_descriptor_pools(glia_bctx *ctx);
/* Submit what is recorded and wait for all of it; retire finished batches. */
glia_status glia_vk_finish(glia_bctx *ctx);
/* Make sure lost devices and validation messages are reported. */
glia_status glia_vk_check_state(glia_bctx *ctx);
glia_status glia_vk_write(glia_bctx *ctx, glia_bbuf *buf, size_t off, const void *src, size_t bytes);
glia_status glia_vk_read(glia_bctx *ctx, glia_bbuf *buf, size_t off, void *dst, size_t bytes);

/* One dispatch: the shader, its specialisation (constant 0 is the work-group
 * size), its bindings with the number of elements each touches from the view,
 * which of them are written, the push-constant words after the binding
 * offsets, and the work-group counts. */
typedef struct vkb_dispatch {
    uint32_t shader;
    uint32_t nspec;
    uint32_t spec[VKB_MAX_SPEC];
    int nb;
    glia_bview v[8];
    size_t need[8];              /* elements used from v[i].off */
    unsigned writes;             /* bit i: binding i is written */
    uint32_t pc[VKB_PC_WORDS];   /* pc[0..nb-1] are filled in by glia_vk_dispatch */
    uint32_t groups[3];
} vkb_dispatch;

glia_status glia_vk_dispatch(glia_bctx *ctx, vkb_dispatch *d);

/* ---- op helpers (vk_ops.c, vk_reduce.c, vk_gemm.c) ------------------------ */
/* Fast division by d on the GPU (see vk_common.glsl): two words. */
void glia_vk_magic(uint32_t d, uint32_t *magic, uint32_t *shifts);
static inline uint32_t vkb_f2u(float f)
{
    union { float f; uint32_t u; } c = {f};
    return c.u;
}
static inline uint32_t vkb_groups(uint64_t items, uint32_t per, uint32_t cap)
{
    uint64_t g = (items + per - 1) / per;
    return g == 0 ? 1 : g > cap ? cap : (uint32_t)g;
}
/* Check an element count stays below 2^31, what the shaders' 32-bit indices reach. */
glia_status glia_vk_check_elems(uint64_t v, const char *what);
/* UNSUPPORTED when a driver's loop cap (tune->loop_limit) would cut a loop short. */
glia_status glia_vk_check_loop(const glia_bctx *ctx, uint64_t iterations, const char *what);
/* Initialise a dispatch of a 1-D shader over n items. */
void glia_vk_dispatch_1d(glia_bctx *ctx, vkb_dispatch *d, uint32_t shader, uint32_t mode, size_t n);

/* Bind view v at binding i of d, touching need elements (none if v is unbound). */
void glia_vk_use(vkb_dispatch *d, int i, glia_bview v, size_t need, int write);
glia_status glia_vk_run_layernorm(glia_bctx *ctx, const glia_op *op);
/* 1 if the layer norm op's sizes fit the shaders and the driver's loop cap. */
int glia_vk_layernorm_supported(glia_bctx *ctx, const glia_op *op);

/* A chanwise.comp dispatch for mode over A*B planes of C elements; the caller binds. */
void glia_vk_chanwise(glia_bctx *ctx, vkb_dispatch *d, uint32_t mode, size_t a, size_t b, size_t c);
glia_status glia_vk_run_elementwise(glia_bctx *ctx, const glia_op *op);
glia_status glia_vk_run_channel(glia_bctx *ctx, const glia_op *op);
glia_status glia_vk_run_pool(glia_bctx *ctx, const glia_op *op);
glia_status glia_vk_run_gather(glia_bctx *ctx, const glia_op *op);
/* INTERNAL error for a kind that reached a runner that does not handle it. */
glia_status glia_vk_misrouted(const glia_op *op);
glia_status glia_vk_run_reduce(glia_bctx *ctx, const glia_op *op);
glia_status glia_vk_run_gemm(glia_bctx *ctx, const glia_op *op);
glia_status glia_vk_run_conv(glia_bctx *ctx, const glia_op *op);
/* 1 if at least one GEMM tile of t runs on the device. */
int glia_vk_gemm_cfg_usable(const glia_bctx *ctx, const vkb_tuning *t);
/* Enqueue one of the GEMM-shaped kernels; shared by GEMM and convolution. */
glia_status glia_vk_gemm_kernel(glia_bctx *ctx, const glia_gemm_desc *g, glia_bview a, glia_bview b,
                                glia_bview c);

#endif
