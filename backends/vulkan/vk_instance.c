/* Vulkan backend: the loader, instances, physical devices and VkResult errors. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vk_internal.h"

const char *glia_vk_result_str(VkResult r)
{
    switch (r) {
#define R(x) case x: return #x;
    R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_INCOMPLETE)
    R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
    R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT) R(VK_ERROR_FEATURE_NOT_PRESENT)
    R(VK_ERROR_INCOMPATIBLE_DRIVER) R(VK_ERROR_TOO_MANY_OBJECTS) R(VK_ERROR_FORMAT_NOT_SUPPORTED)
    R(VK_ERROR_FRAGMENTED_POOL) R(VK_ERROR_UNKNOWN) R(VK_ERROR_OUT_OF_POOL_MEMORY)
    R(VK_ERROR_INVALID_EXTERNAL_HANDLE) R(VK_ERROR_FRAGMENTATION)
    R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS) R(VK_PIPELINE_COMPILE_REQUIRED)
#undef R
    default: return "unknown VkResult";
    }
}

glia_status glia_vk_status(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return GLIA_STATUS_OK;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return GLIA_STATUS_DEVICE_OOM;
    case VK_ERROR_OUT_OF_HOST_MEMORY: return GLIA_STATUS_OUT_OF_MEMORY;
    case VK_ERROR_DEVICE_LOST: return GLIA_STATUS_DEVICE_LOST;
    default: return GLIA_STATUS_BACKEND_ERROR;
    }
}

glia_status glia_vk_error(VkResult r, const char *call)
{
    return glia_seterr(glia_vk_status(r), "vulkan: %s failed: %s (%d)", call, glia_vk_result_str(r), (int)r);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    vkb_validation *val = user;
    if (!(type & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT))
        return VK_FALSE;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    if (atomic_fetch_add(&val->errors, 1) == 0)
        snprintf(val->first, sizeof val->first, "%s", msg);
    /* Only a validation layer sends these: the developer asked to see them. */
    fprintf(stderr, "glia vulkan validation %s: %s\n",
            (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning", msg);
    return VK_FALSE;
}

static void *open_loader(char *why, size_t len)
{
    static const char *const names[] = {
#if defined(__APPLE__)
        "libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib",
#else
        "libvulkan.so.1", "libvulkan.so",
#endif
    };
    why[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib)
            return lib;
        if (!why[0])
            snprintf(why, len, "%s", dlerror());
    }
    return NULL;
}

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(e[i].extensionName, name) == 0)
            return 1;
    return 0;
}

static glia_status load_global(vkb_instance *vi)
{
    char why[256];
    vi->fn.lib = open_loader(why, sizeof why);
    if (!vi->fn.lib)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: no Vulkan loader: %s", why);
    /* dlsym returns void*; POSIX guarantees the conversion to a function pointer */
    void *gipa = dlsym(vi->fn.lib, "vkGetInstanceProcAddr");
    memcpy(&vi->fn.vkGetInstanceProcAddr, &gipa, sizeof gipa);
    if (!vi->fn.vkGetInstanceProcAddr)
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: the loader has no vkGetInstanceProcAddr");
#define LOAD(name)                                                                    \
    vi->fn.name = (PFN_##name)vi->fn.vkGetInstanceProcAddr(VK_NULL_HANDLE, #name);   \
    if (!vi->fn.name)                                                                 \
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: the loader lacks " #name);
    VKB_GLOBAL_FNS(LOAD)
#undef LOAD
    vi->fn.vkEnumerateInstanceVersion = (PFN_vkEnumerateInstanceVersion)
        vi->fn.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
    return GLIA_STATUS_OK;
}

glia_status glia_vk_instance_create(vkb_instance *vi, vkb_validation *val)
{
    memset(vi, 0, sizeof *vi);
    glia_status s = load_global(vi);
    if (s != GLIA_STATUS_OK) {
        glia_vk_instance_destroy(vi);
        return s;
    }
    uint32_t api = VK_API_VERSION_1_0;
    if (vi->fn.vkEnumerateInstanceVersion)
        vi->fn.vkEnumerateInstanceVersion(&api);
    if (api < VK_API_VERSION_1_1) {
        glia_vk_instance_destroy(vi);
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: the loader supports Vulkan 1.0 only (1.1 needed)");
    }
    vi->api = api < VK_API_VERSION_1_2 ? api : VK_API_VERSION_1_2;

    uint32_t next = 0;
    VkResult r = vi->fn.vkEnumerateInstanceExtensionProperties(NULL, &next, NULL);
    VkExtensionProperties *ext = calloc(next ? next : 1, sizeof *ext);
    if (!ext) {
        glia_vk_instance_destroy(vi);
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for the extension list");
    }
    if (r == VK_SUCCESS)
        r = vi->fn.vkEnumerateInstanceExtensionProperties(NULL, &next, ext);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        next = 0;
    const char *enable[2];
    uint32_t nenable = 0;
    VkInstanceCreateFlags flags = 0;
    int debug = val && has_ext(ext, next, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    if (debug)
        enable[nenable++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
#ifdef VK_KHR_portability_enumeration
    /* lists portability drivers (MoltenVK) too */
    if (has_ext(ext, next, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        enable[nenable++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
#endif
    free(ext);

    VkDebugUtilsMessengerCreateInfoEXT mci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = val,
    };
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "glia",
        .pEngineName = "glia",
        .apiVersion = vi->api,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = debug ? &mci : NULL,   /* also reports on instance creation itself */
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledExtensionCount = nenable,
        .ppEnabledExtensionNames = enable,
    };
    r = vi->fn.vkCreateInstance(&ici, NULL, &vi->inst);
    if (r != VK_SUCCESS) {
        vi->inst = VK_NULL_HANDLE;
        glia_vk_instance_destroy(vi);
        if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED ||
            r == VK_ERROR_LAYER_NOT_PRESENT || r == VK_ERROR_EXTENSION_NOT_PRESENT)
            return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: vkCreateInstance failed: %s",
                               glia_vk_result_str(r));
        return glia_vk_error(r, "vkCreateInstance");
    }
#define LOAD(name)                                                                    \
    vi->fn.name = (PFN_##name)vi->fn.vkGetInstanceProcAddr(vi->inst, #name);         \
    if (!vi->fn.name) {                                                               \
        glia_vk_instance_destroy(vi);                                                 \
        return glia_seterr(GLIA_STATUS_NO_DEVICE, "vulkan: the instance lacks " #name); \
    }
    VKB_INSTANCE_FNS(LOAD)
#undef LOAD
    if (debug) {
        vi->fn.vkCreateDebugUtilsMessengerEXT = (PFN_vkCreateDebugUtilsMessengerEXT)
            vi->fn.vkGetInstanceProcAddr(vi->inst, "vkCreateDebugUtilsMessengerEXT");
        vi->fn.vkDestroyDebugUtilsMessengerEXT = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vi->fn.vkGetInstanceProcAddr(vi->inst, "vkDestroyDebugUtilsMessengerEXT");
        if (vi->fn.vkCreateDebugUtilsMessengerEXT &&
            vi->fn.vkCreateDebugUtilsMessengerEXT(vi->inst, &mci, NULL, &vi->messenger) != VK_SUCCESS)
            vi->messenger = VK_NULL_HANDLE;   /* only a diagnostic aid: carry on without */
    }
    return GLIA_STATUS_OK;
}

void glia_vk_instance_destroy(vkb_instance *vi)
{
    if (vi->inst) {
        if (vi->messenger && vi->fn.vkDestroyDebugUtilsMessengerEXT)
            vi->fn.vkDestroyDebugUtilsMessengerEXT(vi->inst, vi->messenger, NULL);
        vi->fn.vkDestroyInstance(vi->inst, NULL);
    }
    if (vi->fn.lib)
        dlclose(vi->fn.lib);
    memset(vi, 0, sizeof *vi);
}

static int has_compute_queue(vkb_instance *vi, VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vi->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[16];
    if (n > 16)
        n = 16;
    vi->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && q[i].queueCount > 0)
            return 1;
    return 0;
}

glia_status glia_vk_physical_devices(vkb_instance *vi, VkPhysicalDevice *out, int max, int *count)
{
    *count = 0;
    uint32_t n = 0;
    VkResult r = vi->fn.vkEnumeratePhysicalDevices(vi->inst, &n, NULL);
    if (r != VK_SUCCESS)
        return glia_vk_error(r, "vkEnumeratePhysicalDevices");
    if (n == 0)
        return GLIA_STATUS_OK;
    VkPhysicalDevice *all = calloc(n, sizeof *all);
    if (!all)
        return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "vulkan: no host memory for %u devices", n);
    r = vi->fn.vkEnumeratePhysicalDevices(vi->inst, &n, all);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(all);
        return glia_vk_error(r, "vkEnumeratePhysicalDevices");
    }
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vi->fn.vkGetPhysicalDeviceProperties(all[i], &p);
        if (p.apiVersion < VK_API_VERSION_1_1 || !has_compute_queue(vi, all[i]))
            continue;
        if (*count < max)
            out[*count] = all[i];
        (*count)++;
    }
    free(all);
    return GLIA_STATUS_OK;
}

static int device_has_ext(vkb_instance *vi, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (vi->fn.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkExtensionProperties *e = calloc(n, sizeof *e);
    if (!e)
        return 0;
    int found = vi->fn.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS &&
                has_ext(e, n, name);
    free(e);
    return found;
}

/* Driver name, info and id, when the device can say (Vulkan 1.2 or the extension). */
static int driver_props(vkb_instance *vi, VkPhysicalDevice pd, VkPhysicalDeviceDriverProperties *dp)
{
    VkPhysicalDeviceProperties p;
    vi->fn.vkGetPhysicalDeviceProperties(pd, &p);
    if (!(p.apiVersion >= VK_API_VERSION_1_2 && vi->api >= VK_API_VERSION_1_2) &&
        !device_has_ext(vi, pd, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME))
        return 0;
    memset(dp, 0, sizeof *dp);
    dp->sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = dp};
    vi->fn.vkGetPhysicalDeviceProperties2(pd, &p2);
    return 1;
}

VkDriverId glia_vk_driver_id(vkb_instance *vi, VkPhysicalDevice pd)
{
    VkPhysicalDeviceDriverProperties dp;
    return driver_props(vi, pd, &dp) ? dp.driverID : (VkDriverId)0;
}

static const char *vendor_name(uint32_t id)
{
    switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case 0x106B: return "Apple";
    case 0x14E4: return "Broadcom";
    case VK_VENDOR_ID_MESA: return "Mesa";
    default: return NULL;
    }
}

void glia_vk_device_info(vkb_instance *vi, VkPhysicalDevice pd, int index, glia_device_info *info)
{
    VkPhysicalDeviceProperties p;
    VkPhysicalDeviceMemoryProperties mp;
    VkPhysicalDeviceDriverProperties dp;
    vi->fn.vkGetPhysicalDeviceProperties(pd, &p);
    vi->fn.vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    memset(info, 0, sizeof *info);
    snprintf(info->backend, sizeof info->backend, "vulkan");
    info->index = index;
    const char *vn = vendor_name(p.vendorID);
    if (vn)
        snprintf(info->vendor, sizeof info->vendor, "%s", vn);
    else
        snprintf(info->vendor, sizeof info->vendor, "0x%04x", (unsigned)p.vendorID);
    snprintf(info->name, sizeof info->name, "%.127s", p.deviceName);
    if (driver_props(vi, pd, &dp))
        snprintf(info->driver, sizeof info->driver, "%.60s %.60s", dp.driverName, dp.driverInfo);
    else
        snprintf(info->driver, sizeof info->driver, "driver 0x%08x, Vulkan %u.%u",
                 (unsigned)p.driverVersion, VK_API_VERSION_MAJOR(p.apiVersion),
                 VK_API_VERSION_MINOR(p.apiVersion));
    switch (p.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_CPU: info->type = GLIA_DEVICE_TYPE_CPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: info->type = GLIA_DEVICE_TYPE_INTEGRATED; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: info->type = GLIA_DEVICE_TYPE_DISCRETE; break;
    default: info->type = GLIA_DEVICE_TYPE_OTHER; break;
    }
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            info->memory_bytes += mp.memoryHeaps[i].size;
    info->emulated = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}
