/* Text and JSON for `profile`. */
#include <inttypes.h>
#include <string.h>

#include "output/format.h"
#include "output/render.h"
#include "output/render_regions.h"
#include "output/render_search.h"

static unsigned aspace_ptr(const ds_dump *d)
{
    return d->sys.wow64 ? 4 : (d->sys.ptr_size ? d->sys.ptr_size : 8);
}

const char *ds_content_kinds_text(uint32_t kinds, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < DS_CONTENT_COUNT; k++)
        if (kinds & (1u << k)) {
            int w = snprintf(buf + o, n - o, "%s%s", o ? " + " : "",
                             ds_content_kind_name((ds_content_kind)k));
            if (w < 0 || (size_t)w >= n - o)
                break;
            o += (size_t)w;
        }
    return buf;
}

static double pc(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void fraction_line(FILE *f, const char *name, uint64_t v, uint64_t cap)
{
    char h[DS_FMT_BUF];
    fprintf(f, "  %-22s %14" PRIu64 " (%11s) %6.2f%%\n", name, v, ds_fmt_size(h, sizeof h, v),
            pc(v, cap));
}

/* A string for a text line: control bytes and quotes escaped minimally. */
static void printable(char *out, size_t n, const char *s)
{
    size_t o = 0;
    for (; *s && o + 3 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t') {
            out[o++] = '\\';
            out[o++] = 't';
        } else {
            out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
    }
    out[o] = 0;
}

void ds_profile_text(FILE *f, const ds_profile_view *v)
{
    const ds_profile_result *r = v->res;
    char h1[DS_FMT_BUF], h2[DS_FMT_BUF], kb[200];
    fprintf(f, "Profile of %zu region%s%s%s: %s, %s captured\n", r->n, r->n == 1 ? "" : "s",
            v->filter_text ? " matching " : " (all committed)",
            v->filter_text ? v->filter_text : "", ds_fmt_size(h1, sizeof h1, r->size),
            ds_fmt_size(h2, sizeof h2, r->captured));
    if (r->nmixes) {
        const ds_profile_mix *m = &r->mixes[0];
        fprintf(f, "Verdict: %" PRIu64 " of %zu regions (%s) hold %s\n", m->regions, r->n,
                ds_fmt_size(h1, sizeof h1, m->bytes),
                ds_content_kinds_text(m->kinds, kb, sizeof kb));
    }
    fputs("\n--- Bytes (captured) ---\n", f);
    fraction_line(f, "ASCII text", r->ascii, r->captured);
    fraction_line(f, "UTF-16LE text", r->utf16, r->captured);
    fraction_line(f, "zero", r->zero, r->captured);
    char pn[32];
    snprintf(pn, sizeof pn, "pointers (%u-byte)", r->ptr_size);
    fraction_line(f, pn, r->pointer, r->captured);
    fraction_line(f, "other", r->other, r->captured);
    if (r->size > r->captured)
        fprintf(f, "  %-22s %14" PRIu64 " (%11s) of the regions' size\n", "not captured",
                r->size - r->captured, ds_fmt_size(h1, sizeof h1, r->size - r->captured));
    fputs("\n--- Content kinds ---------------- Regions ----------- Bytes\n", f);
    for (int k = 0; k < DS_CONTENT_COUNT; k++)
        if (r->kinds[k].regions)
            fprintf(f, "  %-28s %10" PRIu64 " %15" PRIu64 " (%s)\n",
                    ds_content_kind_name((ds_content_kind)k), r->kinds[k].regions,
                    r->kinds[k].bytes, ds_fmt_size(h1, sizeof h1, r->kinds[k].bytes));
    fputs("\n--- Combinations ----------------------------------- Regions ----------- Bytes\n", f);
    for (size_t i = 0; i < r->nmixes; i++)
        fprintf(f, "  %-48s %10" PRIu64 " %15" PRIu64 "\n",
                ds_content_kinds_text(r->mixes[i].kinds, kb, sizeof kb), r->mixes[i].regions,
                r->mixes[i].bytes);
    fprintf(f, "\n--- Most frequent strings (%zu%s; %" PRIu64 " counted%s) ---\n", r->nstrings,
            r->nstrings ? "" : ": none", r->strings_seen,
            r->strings_exact ? "" : "; rare strings dropped, counts are lower bounds");
    for (size_t i = 0; i < r->nstrings; i++) {
        char s[200];
        printable(s, sizeof s, r->strings[i].text);
        fprintf(f, "  %10" PRIu64 "  %s\"%s\"%s\n", r->strings[i].count,
                r->strings[i].wide ? "L" : " ", s, r->strings[i].cut ? "..." : "");
    }
    if (!v->list)
        return;
    unsigned ps = aspace_ptr(v->dump);
    int aw = ps == 8 ? 17 : 8;
    fprintf(f, "\n%*s %*s %6s %6s %6s %6s %5s  %s\n", aw, "BaseAddr", aw, "RgnSize", "Text%",
            "UTF16%", "Zero%", "Ptr%", "Entr", "Content");
    for (size_t i = 0; i < r->n && i < v->list; i++) {
        const ds_profile_region *g = &r->v[i];
        char a[DS_FMT_BUF], s[DS_FMT_BUF];
        fprintf(f, "%*s %*s %6.1f %6.1f %6.1f %6.1f %5.2f  %s\n", aw,
                ds_fmt_addr(a, sizeof a, g->base, ps), aw,
                ds_fmt_size_hex(s, sizeof s, g->size, ps), pc(g->ascii, g->captured),
                pc(g->utf16, g->captured), pc(g->zero, g->captured), pc(g->pointer, g->captured),
                g->entropy, ds_content_kinds_text(g->kinds, kb, sizeof kb));
    }
    if (r->n > v->list)
        fprintf(f, "... %zu more regions (--list N)\n", r->n - v->list);
}

static cJSON *kinds_array(uint32_t kinds)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < DS_CONTENT_COUNT; k++)
        if (kinds & (1u << k))
            cJSON_AddItemToArray(a, cJSON_CreateString(ds_content_kind_key((ds_content_kind)k)));
    return a;
}

cJSON *ds_profile_json(const ds_profile_view *v)
{
    const ds_profile_result *r = v->res;
    char kb[200];
    cJSON *o = cJSON_CreateObject();
    ds_json_add_str_or_null(o, "filter", v->filter_text);
    ds_json_add_uint(o, "regions", r->n);
    ds_json_add_uint(o, "size", r->size);
    ds_json_add_uint(o, "captured", r->captured);
    ds_json_add_uint(o, "pointer_size", r->ptr_size);
    cJSON *b = cJSON_AddObjectToObject(o, "bytes");
    ds_json_add_uint(b, "ascii_text", r->ascii);
    ds_json_add_uint(b, "utf16_text", r->utf16);
    ds_json_add_uint(b, "zero", r->zero);
    ds_json_add_uint(b, "pointers", r->pointer);
    ds_json_add_uint(b, "other", r->other);
    if (r->nmixes) {
        cJSON *vd = cJSON_AddObjectToObject(o, "verdict");
        cJSON_AddItemToObject(vd, "kinds", kinds_array(r->mixes[0].kinds));
        cJSON_AddStringToObject(vd, "text",
                                ds_content_kinds_text(r->mixes[0].kinds, kb, sizeof kb));
        ds_json_add_uint(vd, "regions", r->mixes[0].regions);
        ds_json_add_uint(vd, "bytes", r->mixes[0].bytes);
    } else {
        cJSON_AddNullToObject(o, "verdict");
    }
    cJSON *k = cJSON_AddArrayToObject(o, "kinds");
    for (int i = 0; i < DS_CONTENT_COUNT; i++) {
        if (!r->kinds[i].regions)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", ds_content_kind_key((ds_content_kind)i));
        cJSON_AddStringToObject(e, "name", ds_content_kind_name((ds_content_kind)i));
        ds_json_add_uint(e, "regions", r->kinds[i].regions);
        ds_json_add_uint(e, "bytes", r->kinds[i].bytes);
        cJSON_AddItemToArray(k, e);
    }
    cJSON *m = cJSON_AddArrayToObject(o, "combinations");
    for (size_t i = 0; i < r->nmixes; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "kinds", kinds_array(r->mixes[i].kinds));
        ds_json_add_uint(e, "regions", r->mixes[i].regions);
        ds_json_add_uint(e, "bytes", r->mixes[i].bytes);
        cJSON_AddItemToArray(m, e);
    }
    cJSON *s = cJSON_AddObjectToObject(o, "strings");
    cJSON_AddBoolToObject(s, "exact", r->strings_exact);
    ds_json_add_uint(s, "counted", r->strings_seen);
    cJSON *top = cJSON_AddArrayToObject(s, "top");
    for (size_t i = 0; i < r->nstrings; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "text", r->strings[i].text);
        cJSON_AddStringToObject(e, "encoding", r->strings[i].wide ? "utf16le" : "ascii");
        cJSON_AddBoolToObject(e, "truncated", r->strings[i].cut);
        ds_json_add_uint(e, "count", r->strings[i].count);
        cJSON_AddItemToArray(top, e);
    }
    cJSON *rl = cJSON_AddArrayToObject(o, "region_list");
    for (size_t i = 0; i < r->n; i++) {
        const ds_profile_region *g = &r->v[i];
        cJSON *e = cJSON_CreateObject();
        ds_json_add_addr(e, "base", g->base);
        ds_json_add_uint(e, "size", g->size);
        ds_json_add_uint(e, "captured", g->captured);
        ds_json_add_uint(e, "ascii_text", g->ascii);
        ds_json_add_uint(e, "utf16_text", g->utf16);
        ds_json_add_uint(e, "zero", g->zero);
        ds_json_add_uint(e, "pointers", g->pointer);
        ds_json_add_uint(e, "other", g->other);
        cJSON_AddNumberToObject(e, "entropy", g->entropy);
        cJSON_AddItemToObject(e, "kinds", kinds_array(g->kinds));
        cJSON_AddItemToArray(rl, e);
    }
    return o;
}
