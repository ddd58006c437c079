/* dumpsleuth: renderers for `summary` (= !address -summary) and `regions` (= !address). */
#ifndef DS_OUTPUT_RENDER_REGIONS_H
#define DS_OUTPUT_RENDER_REGIONS_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

/* A size column as WinDbg prints it: 64-bit targets always with the backtick ("0`0ceaf000"),
 * 32-bit targets plain ("cd777000"). */
char *ds_fmt_size_hex(char *buf, size_t n, uint64_t v, unsigned ptr_size);

void ds_summary_text(FILE *f, const ds_dump *d, const ds_region_summary *s);
cJSON *ds_summary_json(const ds_dump *d, const ds_region_summary *s);

typedef struct ds_regions_view {
    ds_dump *dump;
    const ds_region_map *map;
    const ds_region_filter *filter;
    size_t limit; /* 0 = all */
} ds_regions_view;
/* One line per (filtered) region with WinDbg's columns and a detail column. */
void ds_regions_text(FILE *f, const ds_regions_view *v);
cJSON *ds_regions_json(const ds_regions_view *v);

void ds_histogram_text(FILE *f, const ds_dump *d, ds_hist_kind k, const ds_hist_row *rows,
                       size_t n);
cJSON *ds_histogram_json(const ds_dump *d, ds_hist_kind k, const ds_hist_row *rows, size_t n);
const char *ds_hist_kind_name(ds_hist_kind k);

#endif
