/* Built-in NT heap layouts (nt-heap.md §2 and §4; sources per offset in
 * docs/internals/layouts.md). Five _HEAP layouts per architecture exist in the public data
 * (W7; W8/W81/10a; 10b; 10c; Windows 11 = 10c is inferred). */
#include "heap/heap_priv.h"

#include <stddef.h>

/* Fields identical in every group, x86 */
#define X86_COMMON                                                                                 \
    .ps = 4, .gran = 8, .seg_sig = 0x08, .seg_list_entry = 0x10, .seg_base = 0x1c,                 \
    .seg_pages = 0x20, .seg_first = 0x24, .seg_last = 0x28, .seg_ucpages = 0x2c,                   \
    .seg_ucranges = 0x30, .seg_ucr_list = 0x38, .flags = 0x40, .force_flags = 0x44,                \
    .encode_mask = 0x4c, .encoding = 0x50, .c_reserved = 0x00, .c_committed = 0x04,                \
    .c_large_ucr = 0x08, .c_total_segments = 0x10, .c_total_ucrs = 0x14,                           \
    .c_lock_collisions = 0x24, .hdr = 0, .free_link = 0x08, .ucr_seg_entry = 0x08,                 \
    .ucr_addr = 0x10, .ucr_size = 0x14, .va_commit = 0x10, .va_reserve = 0x14, .va_busy = 0x18,    \
    .va_user = 0x20, .ss_user_blocks = 0x04
/* x86 _HEAP fields that moved between W7 and W8 */
#define X86_W8_BODY                                                                                \
    .vm_threshold = 0x5c, .signature = 0x60, .seg_reserve = 0x64, .seg_commit = 0x68,              \
    .total_free = 0x74, .ucr_list = 0x8c, .va_blocks = 0x9c, .seg_list = 0xa4, .free_lists = 0xc0, \
    .decommit_block = 0x6c, .decommit_total = 0x70, .max_alloc = 0x78, .lock_variable = 0xc8,      \
    .next_tag_index = 0x84, .max_tag_index = 0x86, .tag_entries = 0x88, .pseudo_tag_entries = 0xbc
/* x86 LFH W8+ (subsegment: S3 1809; userdata header: computed from S7) */
#define X86_LFH_W8                                                                                 \
    .lfh_heap = 0x0c, .ss_depth = 0x10, .ss_block_size = 0x14, .ss_block_count = 0x18,             \
    .ub_signature = 0x0c, .ub_encoded_offsets = 0x10, .ub_bitmap_size = 0x14,                      \
    .ub_bitmap_buffer = 0x18, .ub_bitmap_data = 0x1c

#define X64_COMMON                                                                                 \
    .ps = 8, .gran = 16, .seg_sig = 0x10, .seg_list_entry = 0x18, .seg_base = 0x30,                \
    .seg_pages = 0x38, .seg_first = 0x40, .seg_last = 0x48, .seg_ucpages = 0x50,                   \
    .seg_ucranges = 0x54, .seg_ucr_list = 0x60, .flags = 0x70, .force_flags = 0x74,                \
    .encode_mask = 0x7c, .encoding = 0x88, .c_reserved = 0x00, .c_committed = 0x08,                \
    .c_large_ucr = 0x10, .c_total_segments = 0x20, .c_total_ucrs = 0x24,                           \
    .c_lock_collisions = 0x34, .hdr = 8, .free_link = 0x10, .ucr_seg_entry = 0x10,                 \
    .ucr_addr = 0x20, .ucr_size = 0x28, .va_commit = 0x20, .va_reserve = 0x28, .va_busy = 0x30,    \
    .va_user = 0x40, .ss_user_blocks = 0x08
#define X64_W8_BODY                                                                                \
    .vm_threshold = 0x94, .signature = 0x98, .seg_reserve = 0xa0, .seg_commit = 0xa8,              \
    .total_free = 0xc0, .ucr_list = 0xf0, .va_blocks = 0x110, .seg_list = 0x120,                   \
    .free_lists = 0x150, .decommit_block = 0xb0, .decommit_total = 0xb8, .max_alloc = 0xc8,        \
    .lock_variable = 0x160, .next_tag_index = 0xe0, .max_tag_index = 0xe2, .tag_entries = 0xe8,    \
    .pseudo_tag_entries = 0x148
#define X64_LFH_W8                                                                                 \
    .lfh_heap = 0x18, .ss_depth = 0x20, .ss_block_size = 0x24, .ss_block_count = 0x28,             \
    .ub_signature = 0x14, .ub_encoded_offsets = 0x18, .ub_bitmap_size = 0x20,                      \
    .ub_bitmap_buffer = 0x28, .ub_bitmap_data = 0x30

static const ds_heap_layout L32[] = {
    {.group = DS_HEAP_LAYOUT_W7,
     .name = "Windows 7 x86",
     X86_COMMON,
     .vm_threshold = 0x60,
     .signature = 0x64,
     .seg_reserve = 0x68,
     .seg_commit = 0x6c,
     .total_free = 0x78,
     .ucr_list = 0x90,
     .va_blocks = 0xa0,
     .seg_list = 0xa8,
     .free_lists = 0xc4,
     .frontend = 0xd4,
     .frontend_type = 0xda,
     .counters = 0xdc,
     .decommit_block = 0x70,
     .decommit_total = 0x74,
     .max_alloc = 0x7c,
     .lock_variable = 0xcc,
     .next_tag_index = 0x88,
     .max_tag_index = 0x8a,
     .tag_entries = 0x8c,
     .pseudo_tag_entries = 0xc0,
     .lfh_heap = 0x24,
     .ss_depth = 0x08,
     .ss_block_size = 0x10,
     .ss_block_count = 0x14,
     .ub_signature = 0x0c,
     .ub_first_w7 = 0x10},
    {.group = DS_HEAP_LAYOUT_W8,
     .name = "Windows 8 / 8.1 / 10 10240-10586 x86",
     X86_COMMON,
     X86_W8_BODY,
     .frontend = 0xd0,
     .frontend_type = 0xd6,
     .counters = 0x1e0,
     X86_LFH_W8},
    {.group = DS_HEAP_LAYOUT_10B,
     .name = "Windows 10 14393-17134 x86",
     X86_COMMON,
     X86_W8_BODY,
     .frontend = 0xd4,
     .frontend_type = 0xda,
     .counters = 0x1e4,
     X86_LFH_W8},
    {.group = DS_HEAP_LAYOUT_10C,
     .name = "Windows 10 17763+ / 11 x86",
     X86_COMMON,
     X86_W8_BODY,
     .frontend = 0xe4,
     .frontend_type = 0xea,
     .counters = 0x1f4,
     X86_LFH_W8},
};

static const ds_heap_layout L64[] = {
    {.group = DS_HEAP_LAYOUT_W7,
     .name = "Windows 7 x64",
     X64_COMMON,
     .vm_threshold = 0x9c,
     .signature = 0xa0,
     .seg_reserve = 0xa8,
     .seg_commit = 0xb0,
     .total_free = 0xc8,
     .ucr_list = 0xf8,
     .va_blocks = 0x118,
     .seg_list = 0x128,
     .free_lists = 0x158,
     .frontend = 0x178,
     .frontend_type = 0x182,
     .counters = 0x188,
     .decommit_block = 0xb8,
     .decommit_total = 0xc0,
     .max_alloc = 0xd0,
     .lock_variable = 0x168,
     .next_tag_index = 0xe8,
     .max_tag_index = 0xea,
     .tag_entries = 0xf0,
     .pseudo_tag_entries = 0x150,
     .lfh_heap = 0x40,
     .ss_depth = 0x10,
     .ss_block_size = 0x18,
     .ss_block_count = 0x1c,
     .ub_signature = 0x18,
     .ub_first_w7 = 0x20},
    {.group = DS_HEAP_LAYOUT_W8,
     .name = "Windows 8 / 8.1 / 10 10240-10586 x64",
     X64_COMMON,
     X64_W8_BODY,
     .frontend = 0x170,
     .frontend_type = 0x17a,
     .counters = 0x210,
     X64_LFH_W8},
    {.group = DS_HEAP_LAYOUT_10B,
     .name = "Windows 10 14393-17134 x64",
     X64_COMMON,
     X64_W8_BODY,
     .frontend = 0x178,
     .frontend_type = 0x182,
     .counters = 0x218,
     X64_LFH_W8},
    {.group = DS_HEAP_LAYOUT_10C,
     .name = "Windows 10 17763+ / 11 x64",
     X64_COMMON,
     X64_W8_BODY,
     .frontend = 0x198,
     .frontend_type = 0x1a2,
     .counters = 0x238,
     X64_LFH_W8},
};

const ds_heap_layout *ds_heap_layout_get(ds_heap_layout_group g, unsigned ps)
{
    const ds_heap_layout *t = ps == 8 ? L64 : ps == 4 ? L32 : NULL;
    if (!t || g < DS_HEAP_LAYOUT_W7 || g > DS_HEAP_LAYOUT_10C)
        return NULL;
    return &t[g - DS_HEAP_LAYOUT_W7];
}

ds_heap_layout_group ds_heap_group_for_build(uint32_t build)
{
    if (build < 7600)
        return DS_HEAP_LAYOUT_NONE; /* Vista and older, or unknown */
    if (build < 9200)
        return DS_HEAP_LAYOUT_W7;
    if (build < 14393)
        return DS_HEAP_LAYOUT_W8;
    if (build < 17763)
        return DS_HEAP_LAYOUT_10B;
    return DS_HEAP_LAYOUT_10C;
}
