/* dumpsleuth: the region classifier behind `summary` (= !address -summary) and `regions` (=
 * !address).
 *
 * Each region of the dump's region table gets a usage class. Classes come from annotators: small
 * functions that mark address ranges (or whole allocations) with a usage and a detail. The
 * classifier runs the annotators in order and gives each region the mark with the highest priority
 * among those that cover it. Later analyses (CLR heap, NT heap walker) add annotators. */
#ifndef DUMPSLEUTH_REGIONS_H
#define DUMPSLEUTH_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/dump.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_usage {
    DS_USE_FREE = 0,
    DS_USE_UNKNOWN,      /* <unknown>: VirtualAlloc'd/anonymous memory nothing else claims */
    DS_USE_IMAGE,        /* a loaded image (MEM_IMAGE, or an ELF object's file mapping) */
    DS_USE_HEAP,         /* NT heap segments / VA blocks; Linux: the brk heap */
    DS_USE_STACK,        /* thread stacks */
    DS_USE_TEB,          /* thread environment blocks */
    DS_USE_PEB,          /* process environment block */
    DS_USE_OTHER,        /* NLS tables, ApiSetMap, shared memory, activation contexts, ... */
    DS_USE_MAPPED,       /* MappedFile: a mapped data file */
    DS_USE_GC_COMMITTED, /* --clr: GC heap, committed */
    DS_USE_GC_RESERVED,  /* --clr: GC heap, reserved */
    DS_USE_CLR_OTHER,    /* --clr: other runtime memory (loader heaps, ...) */
    DS_USE_COUNT
} ds_usage;

/* Why a region got its class (for `regions` detail columns and JSON). */
typedef enum ds_detail_kind {
    DS_DETAIL_NONE = 0,
    DS_DETAIL_MODULE, /* detail = module index */
    DS_DETAIL_THREAD, /* detail = thread index */
    DS_DETAIL_HEAP,   /* detail = heap handle */
    DS_DETAIL_FILE,   /* detail = index into dump->lnx.files */
    DS_DETAIL_OTHER   /* label says what */
} ds_detail_kind;

typedef struct ds_mark {
    uint64_t start, end; /* [start, end) */
    bool by_alloc;       /* covers every region whose allocation base == start */
    uint8_t usage;       /* ds_usage */
    uint8_t bits;        /* 0, or 32 / 64 on WoW64 dumps */
    uint8_t priority;    /* higher wins */
    uint8_t detail_kind; /* ds_detail_kind */
    uint64_t detail;
    char label[40]; /* "NLS tables", "brk heap", ... */
} ds_mark;

typedef struct ds_classifier {
    const ds_dump *dump;
    ds_mark *marks;
    size_t n, cap;
} ds_classifier;

/* An annotator adds marks for the regions it recognises; ctx is the value given with it. */
typedef void (*ds_annotator_fn)(ds_dump *d, ds_classifier *c, ds_diags *diags, void *ctx);
typedef struct ds_annotator {
    ds_annotator_fn fn;
    void *ctx;
} ds_annotator;

bool ds_classifier_mark(ds_classifier *c, const ds_mark *m);

/* One classified region. */
typedef struct ds_class_region {
    uint64_t base, size; /* the region, or a piece of it cut at a mark boundary */
    const ds_region *r;  /* the region it belongs to (type, state, protect, allocation) */
    uint8_t usage, bits;
    uint8_t detail_kind;
    bool new_alloc; /* first region of a new allocation base (WinDbg's '+') */
    uint32_t mark;  /* 1 + index of the deciding mark in the classifier, 0 = none */
    uint64_t detail;
} ds_class_region;

typedef struct ds_usage_row {
    uint8_t usage, bits;
    uint64_t count, size;
    uint64_t largest_base, largest_size;
} ds_usage_row;

typedef struct ds_count_row {
    uint32_t key; /* type, state or protect value */
    uint64_t count, size;
} ds_count_row;

typedef struct ds_region_summary {
    bool partial; /* no region table: built from the memory lists only */
    char partial_reason[160];
    unsigned ptr_size;   /* of the address space summarised (4 under WoW64 only when 32-bit VA) */
    uint64_t limit;      /* regions at or above this address are left out (WoW64: 4 GB) */
    uint64_t total;      /* size of the user address space (for %ofTotal) */
    uint64_t busy;       /* all non-free bytes */
    ds_usage_row *usage; /* sorted by size, descending */
    size_t nusage;
    ds_count_row type[3];  /* PRIVATE, IMAGE, MAPPED (busy only) */
    ds_count_row state[3]; /* COMMIT, RESERVE, FREE */
    ds_count_row *protect; /* committed only, sorted by size descending */
    size_t nprotect;
    /* committed memory whose bytes are not in the dump (minidump: not in the memory lists;
     * ELF: PT_LOAD with p_filesz = 0 or short) */
    uint64_t not_captured_regions, not_captured_bytes;
} ds_region_summary;

typedef struct ds_region_map {
    ds_class_region *v;
    size_t n;
    ds_classifier cls;
    ds_region *synth; /* regions made up from memory lists when the dump has no region table */
    size_t nsynth;
    bool partial;
    char partial_reason[160];
} ds_region_map;

/* Runs the built-in annotators (+ extra ones, may be NULL) and classifies every region. */
ds_status ds_regions_classify(ds_dump *d, const ds_annotator *extra, size_t nextra,
                              ds_region_map *out, ds_diags *diags);
void ds_region_map_free(ds_region_map *m);
/* The label of the mark that decided a region ("NLS tables", ...), or "". */
const char *ds_class_label(const ds_region_map *m, const ds_class_region *cr);
ds_status ds_regions_summarize(const ds_dump *d, const ds_region_map *m, ds_region_summary *out);
void ds_region_summary_free(ds_region_summary *s);

/* Region filters: WinDbg's `!address -f:` vocabulary plus sizes. Within one group (usage, type,
 * state, protect) the values are alternatives; the groups must all match. */
typedef struct ds_region_filter {
    uint32_t usage_mask; /* 1u << ds_usage; 0 = any */
    uint32_t type_mask;  /* 1 MEM_PRIVATE, 2 MEM_MAPPED, 4 MEM_IMAGE; 0 = any */
    uint32_t state_mask; /* 1 MEM_COMMIT, 2 MEM_RESERVE, 4 MEM_FREE; 0 = any */
    uint32_t protect[8]; /* PAGE_* values (modifiers ignored); nprotect = 0: any */
    size_t nprotect;
    uint8_t bits;                /* 0 any, or 32 / 64 (WoW64 suffixes like Heap32) */
    uint64_t min_size, max_size; /* max 0 = no limit */
    uint64_t exact_size;         /* 0 = any */
} ds_region_filter;

/* Parses "Unk,MEM_COMMIT,PAGE_READWRITE" (case-insensitive; also "Heap32", "Stack64").
 * Returns false with a message naming the unknown word. */
bool ds_region_filter_parse(const char *spec, ds_region_filter *f, char *err, size_t errsz);
bool ds_region_filter_match(const ds_region_filter *f, const ds_class_region *cr);

typedef enum ds_hist_kind {
    DS_HIST_SIZE = 0,   /* regions grouped by region size */
    DS_HIST_ALLOCATION, /* allocations (regions sharing an allocation base) grouped by total size */
    DS_HIST_USAGE       /* regions grouped by usage class */
} ds_hist_kind;

typedef struct ds_hist_row {
    uint64_t key; /* size (SIZE/ALLOCATION) or usage | bits << 8 (USAGE) */
    uint64_t count, total;
    uint64_t first_base; /* lowest base address in the group (an example to look at) */
} ds_hist_row;

/* Groups the regions that pass the filter; rows sorted by total bytes, largest first. */
ds_status ds_regions_histogram(const ds_region_map *m, const ds_region_filter *f, ds_hist_kind k,
                               ds_hist_row **rows, size_t *nrows);

const char *ds_usage_name(ds_usage u); /* "<unknown>", "Image", ... */
/* WinDbg's label with the WoW64 suffix ("Heap32"); buf must hold 24 bytes. */
const char *ds_usage_label(uint8_t usage, uint8_t bits, char *buf);
const char *ds_mem_state_name(uint32_t state); /* MEM_COMMIT ... */
const char *ds_mem_type_name(uint32_t type);   /* MEM_PRIVATE ... */
/* PAGE_READWRITE, PAGE_EXECUTE_READ | PAGE_GUARD, ...; buf must hold 64 bytes. */
const char *ds_protect_name(uint32_t protect, char *buf);

#ifdef __cplusplus
}
#endif
#endif
