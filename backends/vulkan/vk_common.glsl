// glia — Vulkan backend: what every compute shader shares (included, not compiled alone).
// Specialisation constant 0 is the work-group size; push constants are 32 words
// (see vk_shader_abi.h).

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(push_constant, std430) uniform PushConstants { uint p[VKB_PC_WORDS]; } pc;

float pf(uint i) { return uintBitsToFloat(pc.p[i]); }

// n / d for any 32-bit n, with the magic number and shifts of glia_vk_magic
// (Granlund & Montgomery, "Division by invariant integers", fig. 4.1): integer
// division is tens of instructions on GPUs, this is a multiply and three ops.
uint fastdiv(uint n, uint magic, uint shifts)
{
    uint hi, lo;
    umulExtended(n, magic, hi, lo);
    return (hi + ((n - hi) >> (shifts & 0xffu))) >> (shifts >> 8);
}

uint fastdiv_at(uint n, uint word) { return fastdiv(n, pc.p[word], pc.p[word + 1u]); }

// Grid-stride loops: the grid is capped at 65535 groups per axis.
#define GRID_STRIDE (gl_NumWorkGroups.x * gl_WorkGroupSize.x)
