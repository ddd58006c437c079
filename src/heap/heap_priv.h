/* NT heap walker internals: built-in layouts (layouts.c) and the walk state shared by ntheap.c,
 * lfh.c and segheap.c. Offsets come from /work/shared/reference/nt-heap.md; the source id of each
 * one is listed in docs/internals/layouts.md. */
#ifndef DS_HEAP_PRIV_H
#define DS_HEAP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "dumpsleuth/ntheap.h"

/* One _HEAP layout (a build group and an architecture). Offsets from the heap / struct start. */
typedef struct ds_heap_layout {
    ds_heap_layout_group group;
    unsigned ps;   /* pointer size */
    unsigned gran; /* _HEAP_ENTRY size: 8 / 16 */
    const char *name;
    /* _HEAP_SEGMENT (= the start of _HEAP) */
    uint32_t seg_sig, seg_list_entry, seg_base, seg_pages, seg_first, seg_last, seg_ucpages,
        seg_ucranges, seg_ucr_list;
    /* _HEAP */
    uint32_t flags, force_flags, encode_mask, encoding, vm_threshold, signature, seg_reserve,
        seg_commit, total_free, ucr_list, va_blocks, seg_list, free_lists, frontend, frontend_type,
        counters;
    /* more _HEAP fields for heap -m (DeCommit*Threshold, MaximumAllocationSize, LockVariable,
     * NextAvailableTagIndex / MaximumTagIndex (u16), TagEntries / PseudoTagEntries (pointers)) */
    uint32_t decommit_block, decommit_total, max_alloc, lock_variable;
    uint32_t next_tag_index, max_tag_index, tag_entries, pseudo_tag_entries;
    /* _HEAP_COUNTERS (same in W7 and W8+ for the fields used) */
    uint32_t c_reserved, c_committed, c_large_ucr, c_total_segments, c_total_ucrs,
        c_lock_collisions;
    /* _HEAP_ENTRY header bytes (x64: the second 8 bytes) */
    uint32_t hdr;
    /* _HEAP_FREE_ENTRY.FreeList, _HEAP_UCR_DESCRIPTOR */
    uint32_t free_link, ucr_seg_entry, ucr_addr, ucr_size;
    /* _HEAP_VIRTUAL_ALLOC_ENTRY */
    uint32_t va_commit, va_reserve, va_busy, va_user;
    /* LFH: _HEAP_SUBSEGMENT / _HEAP_USERDATA_HEADER */
    uint32_t lfh_heap; /* _LFH_HEAP.Heap (layout check only) */
    uint32_t ss_user_blocks, ss_depth, ss_block_size, ss_block_count;
    uint32_t ub_signature, ub_encoded_offsets, ub_bitmap_size, ub_bitmap_buffer, ub_bitmap_data,
        ub_first_w7;
} ds_heap_layout;

#define DS_HEAP_SIGNATURE 0xeeffeeffu
#define DS_HEAP_SEGMENT_SIGNATURE 0xffeeffeeu
#define DS_SEGMENT_HEAP_SIGNATURE 0xddeeddeeu
#define DS_LFH_USERDATA_SIGNATURE 0xf0e0d0c0u

/* The layout for a group and pointer size, or NULL. */
const ds_heap_layout *ds_heap_layout_get(ds_heap_layout_group g, unsigned ps);
/* The layout group for an OS build (0 / unknown: DS_HEAP_LAYOUT_NONE). */
ds_heap_layout_group ds_heap_group_for_build(uint32_t build);

/* Walk state of one heap. */
typedef struct ds_heap_walk {
    ds_dump *d;
    const ds_heap_layout *lo;
    ds_heap *h;
    bool keep_entries;
    size_t cap_entries, cap_issues, cap_segments, cap_vblocks, cap_subsegments, cap_ucrs;
    uint64_t walked_entries; /* backend entries stepped over (bounded by MAX_WALKED_ENTRIES) */
    uint8_t key[8];          /* header key bytes (zero when not encoded) */
    uint32_t os_build;
} ds_heap_walk;

/* Adds an issue (bounded; sets issues_truncated beyond the bound). */
void ds_heap_issue_add(ds_heap_walk *w, ds_heap_issue_kind k, uint64_t addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool ds_heap_entry_add(ds_heap_walk *w, const ds_heap_entry *e);

/* A decoded 8-byte _HEAP_ENTRY header. */
typedef struct ds_heap_hdr {
    bool raw_zero; /* the 8 header bytes read as zero before decoding (zero-filled memory) */
    uint16_t size; /* granules */
    uint8_t flags, tag;
    uint16_t prev_size;
    uint8_t seg_offset, unused;
    bool checksum_ok; /* true when not encoded */
} ds_heap_hdr;
/* Reads and decodes the header of the entry at addr. DS_MEM_OK or the failing status. */
ds_mem_status ds_heap_read_hdr(ds_heap_walk *w, uint64_t entry, ds_heap_hdr *out);

/* LFH (lfh.c): called after the backend walk with the INTERNAL container entries' addresses. */
void ds_heap_lfh_walk(ds_heap_walk *w, const uint64_t *containers, const uint64_t *csizes,
                      size_t n);
/* Segment heap (segheap.c). */
void ds_heap_segheap_summary(ds_dump *d, ds_heap *h, unsigned ps, uint32_t build);

#endif
