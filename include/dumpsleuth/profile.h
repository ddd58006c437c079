/* dumpsleuth: content profile of a set of regions (`profile`): what kind of bytes they hold.
 *
 * For every region chosen by a region filter, the captured bytes are split into zero bytes,
 * printable ASCII text (runs of >= 4 printable characters, tab/CR/LF included), UTF-16LE text
 * (runs of >= 4 characters whose low byte is printable ASCII and high byte 0), pointer-like values
 * (pointer-aligned, pointer-sized values that point into a busy (non-free) region of the dump)
 * and other bytes. Each region's content is recognised (HTML, JavaScript, JSON, XML, PE image,
 * base64, compressed data, plain text, ...) and the most frequent strings are counted with a
 * bounded hash table. Nothing here prints; src/output/render_profile.c does. */
#ifndef DUMPSLEUTH_PROFILE_H
#define DUMPSLEUTH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_content_kind {
    DS_CONTENT_HTML = 0,
    DS_CONTENT_JAVASCRIPT,
    DS_CONTENT_JSON,
    DS_CONTENT_XML,
    DS_CONTENT_PE,         /* MZ + PE header at the region start */
    DS_CONTENT_BASE64,     /* long base64 runs make up most of the region */
    DS_CONTENT_COMPRESSED, /* gzip/zlib/zip/zstd magic at the start, or entropy >= 7.5 bits/byte */
    DS_CONTENT_TEXT,       /* ASCII text not recognised as one of the above */
    DS_CONTENT_UTF16,      /* mostly UTF-16LE text */
    DS_CONTENT_POINTERS,   /* >= 25% pointer-like values */
    DS_CONTENT_ZERO,       /* >= 99% zero bytes */
    DS_CONTENT_BINARY,     /* none of the above */
    DS_CONTENT_UNCAPTURED, /* no byte of the region is in the dump */
    DS_CONTENT_COUNT
} ds_content_kind;

typedef struct ds_profile_region {
    size_t region; /* index into the region map */
    uint64_t base, size, captured;
    uint64_t zero, ascii, utf16, pointer, other; /* bytes; they add up to `captured` */
    uint32_t kinds;                              /* 1u << ds_content_kind */
    double entropy;                              /* Shannon entropy of the captured bytes */
} ds_profile_region;

typedef struct ds_profile_kind_row {
    uint64_t regions, bytes; /* regions with this kind, and their total size */
} ds_profile_kind_row;

typedef struct ds_profile_string {
    char *text; /* UTF-8 (ASCII), owned; cut at max_string bytes */
    bool wide;  /* found as UTF-16LE */
    bool cut;   /* the run was longer than max_string */
    uint64_t count;
} ds_profile_string;

typedef struct ds_profile_options {
    size_t min_string;    /* shortest string counted (default 6) */
    size_t max_string;    /* longer runs are counted by their first max_string bytes (default 80) */
    size_t top;           /* how many strings to report (default 20) */
    size_t table_entries; /* bound of the string table (default 65536 entries) */
} ds_profile_options;

typedef struct ds_profile_mix {
    uint32_t kinds;
    uint64_t regions, bytes;
} ds_profile_mix;

typedef struct ds_profile_result {
    ds_profile_region *v; /* the selected regions, by address */
    size_t n;
    unsigned ptr_size;
    uint64_t size, captured, zero, ascii, utf16, pointer, other;
    ds_profile_kind_row kinds[DS_CONTENT_COUNT];
    ds_profile_mix *mixes; /* distinct kind combinations, most regions first */
    size_t nmixes;
    ds_profile_string *strings; /* most frequent first */
    size_t nstrings;
    bool strings_exact;    /* false: the bounded table dropped rare strings; counts are lower bounds
                            */
    uint64_t strings_seen; /* string occurrences counted */
} ds_profile_result;

void ds_profile_options_default(ds_profile_options *o);
/* Profiles the regions of `m` that pass `f` (NULL = all busy, committed regions). */
ds_status ds_profile(ds_dump *d, const ds_region_map *m, const ds_region_filter *f,
                     const ds_profile_options *o, ds_profile_result *out);
void ds_profile_result_free(ds_profile_result *r);
const char *ds_content_kind_name(ds_content_kind k); /* "HTML", "JavaScript", ... */
const char *ds_content_kind_key(ds_content_kind k);  /* "html", "javascript", ... (JSON) */

#ifdef __cplusplus
}
#endif
#endif
