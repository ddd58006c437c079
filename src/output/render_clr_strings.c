/* Text and JSON for dumpheap --strings. */
#include "output/render_clr_strings.h"

#include <inttypes.h>
#include <string.h>

#include "output/render.h"

/* The value quoted, with C escapes for '"', '\\' and control characters (C0, DEL, C1). */
static void put_value(FILE *f, const char *t)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* U+0080..U+009F */
            fprintf(f, "\\u%04x", p[1]);
            p++;
        } else
            fputc(*p, f);
    }
    fputc('"', f);
}

void ds_clr_strings_text(FILE *f, const ds_clr_heap *h, const ds_clr_strings *s)
{
    (void)h;
    fprintf(f, "%8s %12s %8s %s\n", "Count", "TotalSize", "Length", "Value");
    for (size_t i = 0; i < s->n; i++) {
        const ds_clr_string_stat *r = &s->v[i];
        fprintf(f, "%8" PRIu64 " %12" PRIu64 " %8" PRIu32 " ", r->count, r->total, r->length);
        if (r->text) {
            put_value(f, r->text);
            if (r->truncated)
                fputs("...", f);
        } else
            fputs("(unreadable)", f);
        fputc('\n', f);
    }
    fprintf(f,
            "Total %" PRIu64 " strings, %" PRIu64 " bytes, %zu distinct values; showing %zu by "
            "total size\n",
            s->strings, s->bytes, s->distinct, s->n);
    if (s->capped)
        fprintf(f,
                "Distinct values capped at %zu: %" PRIu64 " strings (%" PRIu64
                " bytes) with values first seen after the cap are not in the table\n",
                s->max_distinct ? s->max_distinct : (size_t)DS_CLR_STRINGS_MAX_DISTINCT,
                s->other_count, s->other_bytes);
    if (s->unreadable)
        fprintf(f, "%" PRIu64 " strings skipped (contents not readable)\n", s->unreadable);
}

cJSON *ds_clr_strings_json(const ds_clr_strings *s)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr_or_null(o, "string_mt", s->string_mt != 0, s->string_mt);
    ds_json_add_uint(o, "total_strings", s->strings);
    ds_json_add_uint(o, "total_size", s->bytes);
    ds_json_add_uint(o, "distinct", s->distinct);
    ds_json_add_uint(o, "max_distinct",
                     s->max_distinct ? s->max_distinct : DS_CLR_STRINGS_MAX_DISTINCT);
    cJSON_AddBoolToObject(o, "capped", s->capped);
    ds_json_add_uint(o, "capped_count", s->other_count);
    ds_json_add_uint(o, "capped_size", s->other_bytes);
    ds_json_add_uint(o, "unreadable", s->unreadable);
    cJSON *rows = cJSON_AddArrayToObject(o, "values");
    for (size_t i = 0; i < s->n; i++) {
        const ds_clr_string_stat *r = &s->v[i];
        cJSON *j = cJSON_CreateObject();
        ds_json_add_uint(j, "count", r->count);
        ds_json_add_uint(j, "total_size", r->total);
        ds_json_add_uint(j, "length", r->length);
        ds_json_add_str_or_null(j, "value", r->text);
        cJSON_AddBoolToObject(j, "truncated", r->truncated);
        ds_json_add_addr(j, "example", r->example);
        cJSON_AddItemToArray(rows, j);
    }
    return o;
}
