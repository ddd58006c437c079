/* dumpsleuth: renderers for `search` (= WinDbg s), `extract` (= .writemem) and `profile`.
 * Text and JSON are built from the same result structures. */
#ifndef DS_OUTPUT_RENDER_SEARCH_H
#define DS_OUTPUT_RENDER_SEARCH_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/profile.h"
#include "dumpsleuth/regions.h"
#include "dumpsleuth/search.h"

typedef struct ds_search_view {
    ds_dump *dump;
    const ds_region_map *map; /* may be NULL */
    const ds_search_result *res;
    bool count_only;         /* --count: totals and breakdowns, no hit lines */
    size_t top;              /* regions listed in the breakdown (0 = all) */
    const char *filter_text; /* -f as given, or NULL */
} ds_search_view;

/* Hit lines like WinDbg's `s` / `db` (address, 16 bytes, ASCII), then a summary; with
 * count_only the totals by usage class and the top regions. */
void ds_search_text(FILE *f, const ds_search_view *v);
cJSON *ds_search_json(const ds_search_view *v);
/* The pattern kind as a stable key: "ascii", "utf16", "bytes", "u16", "u32", "u64", "pointer". */
const char *ds_pattern_kind_key(ds_pattern_kind k);

typedef struct ds_extract_view {
    ds_dump *dump;
    const ds_region_map *map; /* may be NULL */
    const ds_extract_plan *plan;
    const char *dir;
    uint8_t fill;
    bool dry_run;
} ds_extract_view;
/* The manifest: one line per file with base, end, size, captured and uncaptured bytes, usage. */
void ds_extract_text(FILE *f, const ds_extract_view *v);
cJSON *ds_extract_json(const ds_extract_view *v);

typedef struct ds_profile_view {
    ds_dump *dump;
    const ds_region_map *map;
    const ds_profile_result *res;
    const char *filter_text;
    size_t list; /* regions listed one per line (0 = none) */
} ds_profile_view;
void ds_profile_text(FILE *f, const ds_profile_view *v);
cJSON *ds_profile_json(const ds_profile_view *v);
/* "HTML + JavaScript" for a kinds mask (buf of at least 160 bytes). */
const char *ds_content_kinds_text(uint32_t kinds, char *buf, size_t n);

#endif
