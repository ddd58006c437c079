/* dumpsleuth: memory search (= WinDbg `s -a/-u/-b/-w/-d/-q`, over the whole dump) and memory
 * extraction (= `.writemem`).
 *
 * A search compiles a pattern (ds_pattern), chooses a scope (ds_search_scope: address range,
 * region filter, writable-only) and scans every captured byte in scope zero-copy over the mapped
 * dump (ds_vmem_span_max). Matches that straddle two captured ranges adjacent in the address
 * space are found (a tail of len-1 bytes is kept across the seam). Memory that is not captured
 * (NOT_CAPTURED, or outside every range) is never searched and never invented; bytes served by
 * a backend (kdump) are read in chunks. ZERO ranges are not searched.
 *
 * The result counts every hit, keeps the first `max_hits`, and breaks the total down by usage
 * class and by region of the region map (ds_regions_classify). */
#ifndef DUMPSLEUTH_SEARCH_H
#define DUMPSLEUTH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_pattern_kind {
    DS_PAT_ASCII = 0, /* -a TEXT */
    DS_PAT_UTF16,     /* -u TEXT, UTF-16LE */
    DS_PAT_BYTES,     /* -b "4d 5a ?? 00" */
    DS_PAT_U16,       /* -w VALUE, little-endian */
    DS_PAT_U32,       /* -d VALUE */
    DS_PAT_U64,       /* -q VALUE */
    DS_PAT_PTR        /* -p VALUE: pointer-sized value (4 or 8 bytes) */
} ds_pattern_kind;

#define DS_PATTERN_MAX 1024 /* bytes of a compiled pattern */

/* A compiled pattern: `len` bytes; position i matches byte b when
 *   any[i]                      (a ?? wildcard), or
 *   b == lo[i] || b == hi[i]    (hi == lo unless case-insensitive letter). */
typedef struct ds_pattern {
    ds_pattern_kind kind;
    size_t len;
    uint8_t lo[DS_PATTERN_MAX], hi[DS_PATTERN_MAX];
    bool any[DS_PATTERN_MAX];
    bool literal;   /* no wildcard, no case folding: memmem */
    bool nocase;    /* -i */
    unsigned align; /* hits only at addresses that are multiples of align (1 = any) */
    uint64_t value; /* value searches */
    /* the anchor: the longest run of exact bytes [anchor, anchor+anchor_len) (0 = none) */
    size_t anchor, anchor_len;
    char text[160]; /* the pattern as the user gave it (for output) */
} ds_pattern;

/* Compiles a pattern. `arg`: text for ASCII/UTF16 (UTF-8, non-ASCII allowed for -a as raw bytes,
 * -u converts UTF-8 to UTF-16LE), hex bytes for BYTES ("4d 5a ?? 00", "4d5a??00"), a number for
 * values (hex by default as in WinDbg, "0x" accepted, "0n" for decimal, "`" separators ignored).
 * ptr_size: 4 or 8 (for DS_PAT_PTR). Returns false with a message in err. */
bool ds_pattern_compile(ds_pattern *p, ds_pattern_kind kind, const char *arg, bool nocase,
                        unsigned ptr_size, char *err, size_t errsz);

/* WinDbg-style numbers: hex by default, optional 0x, 0n = decimal, backticks ignored. */
bool ds_parse_hex_number(const char *s, uint64_t *out);
/* Ranges: "ADDR LLEN", "ADDR L?LEN", "ADDR-END", "ADDR END" (END exclusive in ADDR-END, as
 * WinDbg's "ADDR END" it is inclusive). Lengths are in bytes. Returns false on error. */
bool ds_parse_range(const char *s, uint64_t *start, uint64_t *end_excl, char *err, size_t errsz);

typedef struct ds_search_scope {
    bool has_range;
    uint64_t start, end;            /* [start, end) */
    const ds_region_filter *filter; /* NULL = no filter */
    bool writable;                  /* only regions with a writable protection */
} ds_search_scope;

typedef struct ds_search_hit {
    uint64_t addr;
    size_t region; /* index into the region map, or SIZE_MAX when in no region */
} ds_search_hit;

typedef struct ds_search_usage_row {
    uint8_t usage, bits;
    uint64_t hits;
    uint64_t regions; /* regions with at least one hit */
} ds_search_usage_row;

typedef struct ds_search_region_row {
    size_t region; /* index into the region map */
    uint64_t hits;
} ds_search_region_row;

typedef struct ds_search_result {
    ds_pattern pattern;
    ds_search_scope scope;
    uint64_t total;      /* every hit */
    ds_search_hit *hits; /* the first max_hits hits, by address */
    size_t nhits, hits_cap;
    size_t max_hits;
    uint64_t outside;           /* hits in no region of the map */
    ds_search_usage_row *usage; /* sorted by hits, descending */
    size_t nusage;
    ds_search_region_row *regions; /* regions with hits, sorted by hits descending, then base */
    size_t nregions;
    uint64_t bytes_scanned;    /* captured bytes searched */
    uint64_t bytes_uncaptured; /* bytes in scope known to be mapped but not captured */
    uint64_t seams;            /* VA-adjacent range boundaries bridged with a tail copy */
    uint64_t ranges;           /* captured pieces scanned */
    /* internal */
    uint64_t *region_hits; /* per region of the map */
    size_t nmap;
} ds_search_result;

/* Searches the dump. `map` (may be NULL: then no breakdown) must come from ds_regions_classify on
 * the same dump; it is required when scope->filter or scope->writable is set. max_hits: how many
 * hit addresses to keep (all are counted). */
ds_status ds_search(ds_dump *d, const ds_region_map *map, const ds_pattern *p,
                    const ds_search_scope *scope, size_t max_hits, ds_search_result *out);
/* The same over a bare view (tests, bench): no map, no breakdown. */
ds_status ds_search_vmem(ds_vmem *vm, const ds_pattern *p, uint64_t start, uint64_t end,
                         size_t max_hits, ds_search_result *out);
void ds_search_result_free(ds_search_result *r);

/* ---- extract (= .writemem) ---- */

typedef struct ds_extract_item {
    uint64_t base, size;
    uint64_t captured;   /* bytes present in the dump */
    uint64_t uncaptured; /* bytes written as the fill byte */
    size_t region;       /* index into the region map, or SIZE_MAX (address range) */
    char file[64];       /* "<base>-<end>.bin" (hex, no 0x) */
    bool written;
    int error; /* errno when writing failed, else 0 */
} ds_extract_item;

typedef struct ds_extract_plan {
    ds_extract_item *v;
    size_t n, cap;
    uint64_t total, captured;
} ds_extract_plan;

/* Adds one item (an address range or a region) to the plan and counts its captured bytes. */
bool ds_extract_add(ds_dump *d, ds_extract_plan *pl, uint64_t base, uint64_t size, size_t region);
/* Writes [base, base+size) to `f`, uncaptured bytes as `fill`. Returns 0 or an errno value;
 * *captured receives the bytes copied from the dump. Never reads outside the dump. */
int ds_extract_write(ds_dump *d, uint64_t base, uint64_t size, uint8_t fill, FILE *f,
                     uint64_t *captured);
void ds_extract_plan_free(ds_extract_plan *pl);

#ifdef __cplusplus
}
#endif
#endif
