/* dumpsleuth: renderers for the `heap` command (WinDbg's !heap -s, -m, -a, -stat, -x), text in
 * WinDbg's shapes and JSON from the same structures (include/dumpsleuth/ntheap.h). */
#ifndef DS_OUTPUT_RENDER_HEAP_H
#define DS_OUTPUT_RENDER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/ntheap.h"

/* "Termination on corruption" of !heap -s: an ntdll global, unknown without symbols unless a
 * documented default decides it (the command sets it). */
typedef enum ds_heap_term {
    DS_HEAP_TERM_UNKNOWN = 0,
    DS_HEAP_TERM_ENABLED,
    DS_HEAP_TERM_DISABLED
} ds_heap_term;

typedef struct ds_heap_view {
    const ds_heap_set *set;
    uint64_t only_heap;   /* 0: every heap; else only this one is shown */
    ds_heap_term term;    /* termination on corruption */
    const char *term_why; /* why it is known / unknown (text after the value), or NULL */
} ds_heap_view;

/* Entry selection for heap -a. */
typedef struct ds_heap_entry_filter {
    bool busy, free;   /* both false: every entry */
    uint64_t min_size; /* on the user size (busy: requested bytes; free: free bytes) */
    uint64_t max_size; /* 0: no maximum */
    size_t limit;      /* entry lines at most (0: all) */
} ds_heap_entry_filter;

/* Stable JSON keys. */
const char *ds_heap_kind_key(ds_heap_kind k);             /* "nt", "segment", "not_nt", ... */
const char *ds_heap_issue_key(ds_heap_issue_kind k);      /* "checksum", "size_chain", ... */
const char *ds_heap_entry_kind_key(ds_heap_entry_kind k); /* "busy", "free", "lfh_busy", ... */
const char *ds_heap_layout_key(ds_heap_layout_group g);   /* "w7", "w8", "10b", "10c", "none" */
const char *ds_heap_stat_order_key(ds_heap_stat_order o); /* "total", "count", "size" */

/* The "Virt (k)" column of !heap -s in bytes: the walker's counters.virtual_bytes
 * (Counters.TotalMemoryReserved minus Counters.TotalMemoryLargeUCR, nt-heap.md §3). */
uint64_t ds_heap_virt_bytes(const ds_heap *h);

/* WoW64 dumps: "64-bit heaps (PEB at ...):" / "32-bit heaps (PEB32 at ...):" before the first heap
 * of each pointer size (*last_bits: 0 at the start, then the size of the last heap printed). */
void ds_heap_section_text(FILE *f, const ds_heap_set *s, const ds_heap *h, unsigned *last_bits);

/* heap -s: "NT HEAP STATS BELOW" banner, LFH Key, termination, the table (one per pointer size on
 * WoW64), heaps that are not NT heaps, segment heaps, issues. */
void ds_heap_summary_text(FILE *f, const ds_heap_view *v);
cJSON *ds_heap_summary_json(const ds_heap_view *v);

/* heap -m: per heap the index line, segments, the _HEAP header block and the VirtualAlloc list. */
void ds_heap_segments_text(FILE *f, const ds_heap_view *v);
cJSON *ds_heap_segments_json(const ds_heap_view *v);

/* heap -a: the -m block, then the entries per segment, the VirtualAlloc blocks and LFH blocks. */
void ds_heap_entries_text(FILE *f, const ds_heap_view *v, const ds_heap_entry_filter *flt);
cJSON *ds_heap_entries_json(const ds_heap_view *v, const ds_heap_entry_filter *flt);

/* heap -stat for one heap: " heap @ ...", "group-by: ...", rows (at most `limit`; 0 = all). */
void ds_heap_stat_text(FILE *f, const ds_heap *h, const ds_heap_stat *st, ds_heap_stat_order o,
                       size_t limit, bool banner);
cJSON *ds_heap_stat_json(const ds_heap *h, const ds_heap_stat *st, ds_heap_stat_order o,
                         size_t limit);
/* A heap -stat cannot be computed for (not an NT heap, unreadable, segment heap). */
void ds_heap_stat_skip_text(FILE *f, const ds_heap *h);
cJSON *ds_heap_stat_skip_json(const ds_heap *h);

/* heap -x: WinDbg's Entry / User / Heap / Segment / Size / PrevSize / Unused / Flags table. */
void ds_heap_lookup_text(FILE *f, uint64_t addr, const ds_heap_lookup *lk);
cJSON *ds_heap_lookup_json(uint64_t addr, const ds_heap_lookup *lk);

#endif
