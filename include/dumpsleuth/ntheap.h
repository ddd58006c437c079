/* dumpsleuth: the Windows NT heap (and segment-heap detection) without symbols.
 *
 * Heaps come from PEB.ProcessHeaps (and PEB32.ProcessHeaps on WoW64 dumps). For each heap the
 * walker picks a built-in layout from the dump's OS build, verifies it on the data (heap and
 * segment signatures) and reads: flags, counters, segments with their uncommitted ranges, the
 * VirtualAllocdBlocks list, the free lists and every backend entry (headers decoded with the
 * heap's encoding key, checksum verified), then the LFH subsegments where they can be walked.
 * Segment heaps are detected and summarised; heaps that are neither (Wine's, for example) are
 * reported as "not an NT heap". Corruption is recorded as issues with an address and the walk goes
 * on where it safely can. Nothing here prints; src/output renders the structures.
 * docs/internals/layouts.md lists every offset and its public source.
 *
 * Contract changes since the first draft (additions only): ds_heap_options.lists_only,
 * ds_heap_vblock.header_ok, ds_heap_lfh_subsegment.first_offset / walked, ds_heap.unlisted,
 * ds_heap_segheap.large_* (segment-heap large blocks), ds_heap_lookup.large / large_incomplete
 * (heap -x in segment-heap large blocks). */
#ifndef DUMPSLEUTH_NTHEAP_H
#define DUMPSLEUTH_NTHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/diag.h"
#include "dumpsleuth/dump.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a PEB.ProcessHeaps entry turned out to be. */
typedef enum ds_heap_kind {
    DS_HEAP_NT = 0,    /* NT heap (_HEAP), layout verified */
    DS_HEAP_SEGMENT,   /* segment heap (_SEGMENT_HEAP, signature 0xddeeddee): summarised only */
    DS_HEAP_NOT_NT,    /* readable but not an NT heap (e.g. Wine's heap): no walk */
    DS_HEAP_UNREADABLE /* the heap's first page is not in the dump */
} ds_heap_kind;

/* Layout groups (nt-heap.md build groups). */
typedef enum ds_heap_layout_group {
    DS_HEAP_LAYOUT_NONE = 0,
    DS_HEAP_LAYOUT_W7,  /* 7600/7601 */
    DS_HEAP_LAYOUT_W8,  /* 9200, 9600, 10240, 10586 */
    DS_HEAP_LAYOUT_10B, /* 14393 .. 17134 */
    DS_HEAP_LAYOUT_10C  /* 17763 .. 19045, Windows 11 (inferred) */
} ds_heap_layout_group;

/* Problems found while walking; each names an address. */
typedef enum ds_heap_issue_kind {
    DS_HEAP_ISSUE_CHECKSUM = 0,  /* decoded header fails the SmallTagIndex checksum */
    DS_HEAP_ISSUE_SIZE_CHAIN,    /* PreviousSize of the next entry != Size of this one */
    DS_HEAP_ISSUE_BAD_SIZE,      /* zero size, or an entry running past the segment */
    DS_HEAP_ISSUE_LIST_CYCLE,    /* a list (segments, VA blocks, free lists, UCRs) loops */
    DS_HEAP_ISSUE_LIST_LINK,     /* Flink->Blink != entry (broken doubly linked list) */
    DS_HEAP_ISSUE_NOT_IN_DUMP,   /* a pointer leads to memory the dump does not hold */
    DS_HEAP_ISSUE_BAD_SIGNATURE, /* segment / userblocks / VA entry signature wrong */
    DS_HEAP_ISSUE_LFH,           /* an LFH subsegment that does not validate */
    DS_HEAP_ISSUE_LIMIT          /* a walk stopped at its bound (entries, list length) */
} ds_heap_issue_kind;

typedef struct ds_heap_issue {
    ds_heap_issue_kind kind;
    uint64_t heap;    /* the heap it belongs to */
    uint64_t addr;    /* the entry / list element / pointer location concerned */
    char detail[120]; /* "PreviousSize 0x20 != Size 0x30 of the entry at 0x..." */
} ds_heap_issue;

/* One heap entry (block) as the walker decoded it. */
typedef enum ds_heap_entry_kind {
    DS_HEAP_ENTRY_BUSY = 0, /* backend busy block */
    DS_HEAP_ENTRY_FREE,     /* backend free block */
    DS_HEAP_ENTRY_INTERNAL, /* backend busy block used by the heap itself (LFH UserBlocks) */
    DS_HEAP_ENTRY_VIRTUAL,  /* a VirtualAllocdBlocks block */
    DS_HEAP_ENTRY_LFH_BUSY, /* LFH block in use */
    DS_HEAP_ENTRY_LFH_FREE  /* LFH block free */
} ds_heap_entry_kind;

typedef struct ds_heap_entry {
    uint64_t addr;      /* the _HEAP_ENTRY (x64: the 16-byte header, i.e. entry+0) */
    uint64_t user;      /* first user byte */
    uint64_t size;      /* block size in bytes incl. header (VA: CommitSize) */
    uint64_t prev_size; /* PreviousSize in bytes (backend) */
    uint64_t user_size; /* bytes the caller asked for (busy), or the free bytes */
    uint32_t unused;    /* unused bytes (size - user_size) */
    uint8_t flags;      /* decoded _HEAP_ENTRY.Flags (LFH blocks: 0x01 busy / 0 free, derived) */
    uint8_t kind;       /* ds_heap_entry_kind */
    uint16_t segment;   /* index into ds_heap.segments (0xffff: VA block / LFH) */
} ds_heap_entry;

typedef struct ds_heap_ucr {
    uint64_t addr, size; /* an uncommitted range inside a segment */
} ds_heap_ucr;

typedef struct ds_heap_segment {
    uint64_t addr; /* the _HEAP_SEGMENT (segment 0 is the _HEAP itself) */
    uint64_t base; /* BaseAddress */
    uint64_t first_entry, last_valid_entry;
    uint32_t pages;             /* NumberOfPages */
    uint32_t uncommitted_pages; /* NumberOfUnCommittedPages */
    uint32_t ucr_count;         /* NumberOfUnCommittedRanges */
    uint64_t committed;         /* (last_valid_entry - base) - uncommitted_pages * 4 KB */
    uint64_t largest_ucr;       /* bytes */
    ds_heap_ucr *ucrs;          /* the segment's UCR list as walked */
    size_t nucrs;
} ds_heap_segment;

typedef struct ds_heap_vblock {
    uint64_t addr;         /* the _HEAP_VIRTUAL_ALLOC_ENTRY */
    uint64_t user;         /* user data: addr + 0x20 (x86) / 0x40 (x64) */
    uint64_t commit_size;  /* CommitSize */
    uint64_t reserve_size; /* ReserveSize */
    uint64_t unused;       /* decoded BusyBlock.Size: unused bytes */
    uint64_t user_size;    /* commit_size - unused */
    uint8_t flags;  /* decoded BusyBlock.Flags (heap -m prints it: "busy (b)"); 0: not read */
    bool header_ok; /* BusyBlock decoded with a valid checksum (else unused/user_size are 0 and
                       the block is not counted as busy) */
} ds_heap_vblock;

typedef struct ds_heap_lfh_subsegment {
    uint64_t subsegment;  /* _HEAP_SUBSEGMENT */
    uint64_t user_blocks; /* _HEAP_USERDATA_HEADER */
    uint32_t block_size;  /* bytes (stride) */
    uint32_t block_count;
    uint32_t busy, free;
    uint32_t first_offset; /* first block = user_blocks + first_offset */
    bool walked;           /* blocks walked (false: busy/free are 0, see lfh.why) */
} ds_heap_lfh_subsegment;

typedef struct ds_heap_lfh {
    bool present;       /* FrontEndHeapType == 2 */
    uint64_t frontend;  /* FrontEndHeap (_LFH_HEAP) */
    bool walked;        /* subsegments walked (false: see why) */
    char why[160];      /* why the blocks were not walked, or "" */
    bool key_recovered; /* W8+: the LFH key was recovered from the data */
    uint64_t key;       /* that key (W8+), 0 when not needed (W7) or unknown */
    ds_heap_lfh_subsegment *subsegments;
    size_t nsubsegments;
    uint64_t busy_blocks, busy_bytes, free_blocks, free_bytes;
} ds_heap_lfh;

/* A segment heap's large block (_HEAP_LARGE_ALLOC_DATA in LargeAllocMetadata). */
typedef struct ds_heap_large_block {
    uint64_t addr;            /* VirtualAddress without its low 16 bits (the user data) */
    uint64_t allocated_pages; /* AllocatedPages */
    uint32_t unused;          /* UnusedBytes (the low 16 bits of VirtualAddress) */
    uint64_t user_size;       /* AllocatedPages * 4 KB - UnusedBytes */
} ds_heap_large_block;

/* Segment heap summary (nt-heap.md §5); bytes. */
typedef struct ds_heap_segheap {
    uint32_t global_flags;
    uint64_t reserved, committed, free_committed, lfh_free_committed;
    uint64_t large_reserved, large_committed;
    uint32_t segment_count[2];
    char not_walked[160]; /* what is not walked and why */
    bool large_walked;    /* the large-block tree was walked completely (plain links) */
    ds_heap_large_block *large_blocks; /* in address order (what was read, even if incomplete) */
    size_t nlarge;
    char large_why[120]; /* why the large blocks were not (completely) walked, or "" */
} ds_heap_segheap;

/* !heap -s counters, as WinDbg derives them (bytes unless noted). */
typedef struct ds_heap_counters {
    uint64_t reserved, committed, large_ucr, virtual_bytes; /* Counters.* */
    uint64_t free_bytes;                                    /* TotalFreeSize * granularity */
    uint32_t free_list_length;                              /* entries on FreeLists (walked) */
    uint32_t ucrs;                                          /* Counters.TotalUCRs */
    uint32_t virtual_blocks;                                /* VirtualAllocdBlocks (walked) */
    uint32_t lock_collisions;                               /* Counters.LockCollisions */
    uint32_t total_segments;                                /* Counters.TotalSegments */
} ds_heap_counters;

/* More raw _HEAP fields for heap -m's header block (WinDbg prints them after the segments).
 * Each value is valid only when its bit is set in `have` (the renderer prints "(not read)" else).
 */
enum {
    DS_HEAP_HF_DECOMMIT = 1u << 0,  /* decommit_block_threshold, decommit_total_threshold */
    DS_HEAP_HF_MAX_ALLOC = 1u << 1, /* maximum_allocation_size */
    DS_HEAP_HF_LOCK = 1u << 2,      /* lock_variable */
    DS_HEAP_HF_TAGS = 1u << 3,      /* next_tag_index, maximum_tag_index */
    DS_HEAP_HF_TAG_ENTRIES = 1u << 4,
    DS_HEAP_HF_PSEUDO_TAGS = 1u << 5,
    DS_HEAP_HF_VA_LIST = 1u << 6, /* va_list_head */
    DS_HEAP_HF_UCR_LIST = 1u << 7 /* ucr_list_head */
};
typedef struct ds_heap_header_fields {
    uint32_t have;                                               /* DS_HEAP_HF_* */
    uint64_t decommit_block_threshold, decommit_total_threshold; /* DeCommit*Threshold, raw */
    uint64_t maximum_allocation_size;                            /* MaximumAllocationSize */
    uint64_t lock_variable;                                      /* LockVariable (pointer) */
    uint16_t next_tag_index, maximum_tag_index;                  /* NextAvailableTagIndex, ... */
    uint64_t tag_entries, pseudo_tag_entries;                    /* pointers */
    uint64_t va_list_head;  /* address of _HEAP.VirtualAllocdBlocks ("Virtual Alloc List:") */
    uint64_t ucr_list_head; /* address of _HEAP.UCRList ("Uncommitted ranges:") */
} ds_heap_header_fields;

typedef struct ds_heap {
    uint64_t addr;
    unsigned bits;     /* 32 or 64: which PEB it came from / its layout */
    unsigned index;    /* position in that PEB's ProcessHeaps (0-based) */
    bool process_heap; /* == PEB.ProcessHeap */
    bool unlisted;     /* PEB.ProcessHeap that is not on ProcessHeaps (Wine leaves the list
                          empty); index is then 0 */
    ds_heap_kind kind;
    char why[160]; /* for NOT_NT / UNREADABLE: what failed ("signature 0x... at +0x60") */
    ds_heap_layout_group layout;
    char layout_name[48]; /* "Windows 10 17763+ x64 (built-in)" */
    uint32_t flags, force_flags;
    uint32_t granularity;  /* 8 (x86) or 16 (x64) */
    bool encoded;          /* EncodeFlagMask != 0 */
    uint64_t encoding_key; /* the 8 key bytes (x86: heap+50; x64: heap+88) */
    uint32_t vm_threshold; /* VirtualMemoryThreshold in bytes */
    uint64_t segment_reserve, segment_commit;
    uint8_t frontend_type;
    ds_heap_header_fields hdr;
    ds_heap_counters counters;

    ds_heap_segment *segments;
    size_t nsegments;
    ds_heap_vblock *vblocks;
    size_t nvblocks;
    ds_heap_entry *entries; /* backend entries, VA blocks and LFH blocks in walk order; only with
                               ds_heap_options.entries */
    size_t nentries;
    /* totals over the walk (always computed) */
    uint64_t busy_blocks, busy_bytes; /* user bytes of busy backend + VA + LFH blocks */
    uint64_t free_blocks, free_bytes; /* backend + LFH free blocks, block bytes */
    uint64_t internal_blocks;         /* LFH containers etc. */

    ds_heap_lfh lfh;
    ds_heap_segheap seg; /* kind == DS_HEAP_SEGMENT */

    ds_heap_issue *issues;
    size_t nissues;
    bool issues_truncated; /* more issues than kept */
} ds_heap;

typedef struct ds_heap_options {
    bool entries;       /* keep every entry in ds_heap.entries (heap -a, -stat, -x) */
    uint64_t only_heap; /* 0: every heap; else walk only this one (others are listed, not walked) */
    bool lists_only;    /* segments, UCRs and VA blocks only: no entry, free-list or LFH walk
                           (region classification) */
} ds_heap_options;

typedef struct ds_heap_set {
    ds_dump *dump;
    uint32_t os_build; /* from SystemInfo / PEB */
    ds_heap_layout_group layout_hint;
    bool wow64; /* both PEB64 and PEB32 heaps were read */
    uint64_t peb, peb32;
    uint32_t nt_global_flag;
    ds_heap *heaps; /* PEB64 heaps first, then PEB32 heaps (bits == 32) */
    size_t nheaps;
} ds_heap_set;

/* Reads and walks the heaps. DS_OK; DS_E_PARTIAL (some heap had issues or memory was missing:
 * the set is still filled); DS_E_NOTFOUND (no PEB / no heap list in the dump); DS_E_UNSUPPORTED
 * (not a Windows dump). Messages go to diags. */
ds_status ds_heaps_open(ds_dump *d, const ds_heap_options *opt, ds_heap_set *set, ds_diags *diags);
void ds_heaps_close(ds_heap_set *set);

/* heap -stat: busy blocks grouped by user size, over one heap (addr) or all (0). */
typedef struct ds_heap_stat_row {
    uint64_t user_size, count, total;
} ds_heap_stat_row;
typedef enum ds_heap_stat_order {
    DS_HEAP_STAT_BY_TOTAL = 0, /* WinDbg default (-grp S) */
    DS_HEAP_STAT_BY_COUNT,     /* -grp B */
    DS_HEAP_STAT_BY_SIZE       /* -grp A */
} ds_heap_stat_order;
typedef struct ds_heap_stat {
    ds_heap_stat_row *rows; /* sorted; all rows (the renderer limits) */
    size_t nrows;
    uint64_t busy_blocks, busy_bytes; /* the denominators */
} ds_heap_stat;
/* Needs the set opened with entries. */
ds_status ds_heap_stat_compute(const ds_heap_set *set, uint64_t heap, ds_heap_stat_order order,
                               ds_heap_stat *out);
void ds_heap_stat_free(ds_heap_stat *st);

/* heap -x: which heap, segment and entry an address belongs to (NT heaps), or which large block
 * of a segment heap (the only segment-heap blocks the walker reads). */
typedef struct ds_heap_lookup {
    bool found;
    const ds_heap *heap;
    int segment;                /* index, or -1 (VA block / LFH block / segment-heap large block) */
    const ds_heap_entry *entry; /* the block containing addr, or NULL (e.g. inside a UCR) */
    bool in_ucr;                /* addr is in an uncommitted range of the segment */
    const ds_heap_large_block *large; /* segment heap: the large block (AllocatedPages × 4 KB from
                                         its address) containing addr, else NULL */
    const ds_heap *large_incomplete;  /* not found: a segment heap whose large-block tree was not
                                         walked completely (the answer may be incomplete), or NULL */
} ds_heap_lookup;
/* Needs the set opened with entries. */
ds_heap_lookup ds_heap_find(const ds_heap_set *set, uint64_t addr);

const char *ds_heap_kind_name(ds_heap_kind k);
const char *ds_heap_issue_name(ds_heap_issue_kind k);
const char *ds_heap_entry_kind_name(ds_heap_entry_kind k);

#ifdef __cplusplus
}
#endif
#endif
