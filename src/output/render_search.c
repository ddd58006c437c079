/* Text and JSON for `search` and `extract`. */
#include "output/render_search.h"

#include <inttypes.h>
#include <string.h>

#include "output/format.h"
#include "output/render.h"
#include "output/render_regions.h"

static unsigned aspace_ptr(const ds_dump *d)
{
    return d->sys.wow64 ? 4 : (d->sys.ptr_size ? d->sys.ptr_size : 8);
}

const char *ds_pattern_kind_key(ds_pattern_kind k)
{
    switch (k) {
    case DS_PAT_ASCII:
        return "ascii";
    case DS_PAT_UTF16:
        return "utf16";
    case DS_PAT_BYTES:
        return "bytes";
    case DS_PAT_U16:
        return "u16";
    case DS_PAT_U32:
        return "u32";
    case DS_PAT_U64:
        return "u64";
    case DS_PAT_PTR:
        return "pointer";
    }
    return "?";
}

static const char *flag_of(ds_pattern_kind k)
{
    static const char *f[] = {"-a", "-u", "-b", "-w", "-d", "--qword", "-p"};
    return (unsigned)k < 7 ? f[k] : "?";
}

/* 16 bytes at a: hex with WinDbg's '-' after the 8th byte, and the ASCII column. Bytes that are
 * not in the dump print as "??" / '?'. */
static void db_line(ds_dump *d, uint64_t a, char *hex, size_t hn, char *asc, size_t an)
{
    uint8_t b[16];
    size_t got = 0;
    ds_vmem_read(&d->vm, a, b, sizeof b, &got);
    size_t o = 0;
    for (size_t i = 0; i < 16 && o + 4 < hn; i++) {
        if (i < got)
            o += (size_t)snprintf(hex + o, hn - o, "%02x", b[i]);
        else
            o += (size_t)snprintf(hex + o, hn - o, "??");
        if (i < 15)
            hex[o++] = i == 7 ? '-' : ' ';
    }
    hex[o] = 0;
    size_t i = 0;
    for (; i < 16 && i + 1 < an; i++)
        asc[i] = i < got ? ((b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '.') : '?';
    asc[i] = 0;
}

static void pattern_hex(const ds_pattern *p, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->len && o + 4 < n; i++) {
        if (p->any[i])
            o += (size_t)snprintf(buf + o, n - o, "%s??", i ? " " : "");
        else
            o += (size_t)snprintf(buf + o, n - o, "%s%02x", i ? " " : "", p->lo[i]);
    }
    if (o + 4 >= n && n > 4)
        memcpy(buf + n - 4, "...", 4);
}

static const char *usage_of(const ds_search_view *v, size_t region, char *lb)
{
    if (!v->map || region == SIZE_MAX || region >= v->map->n)
        return "(no region)";
    const ds_class_region *cr = &v->map->v[region];
    return ds_usage_label(cr->usage, cr->bits, lb);
}

static void scope_text(FILE *f, const ds_search_view *v)
{
    const ds_search_result *r = v->res;
    unsigned ps = aspace_ptr(v->dump);
    char a[DS_FMT_BUF], e[DS_FMT_BUF];
    fputs("Scope: ", f);
    if (r->scope.has_range)
        fprintf(f, "%s-%s", ds_fmt_addr(a, sizeof a, r->scope.start, ps),
                ds_fmt_addr(e, sizeof e, r->scope.end, ps));
    else
        fputs("whole dump", f);
    if (v->filter_text)
        fprintf(f, ", regions -f %s", v->filter_text);
    if (r->scope.writable)
        fputs(", writable regions only", f);
    fputc('\n', f);
}

void ds_search_text(FILE *f, const ds_search_view *v)
{
    const ds_search_result *r = v->res;
    ds_dump *d = v->dump;
    unsigned ps = aspace_ptr(d);
    char lb[24];
    if (!v->count_only) {
        for (size_t i = 0; i < r->nhits; i++) {
            char a[DS_FMT_BUF], hex[64], asc[20];
            db_line(d, r->hits[i].addr, hex, sizeof hex, asc, sizeof asc);
            fprintf(f, "%s  %s  %s\n", ds_fmt_addr(a, sizeof a, r->hits[i].addr, ps), hex, asc);
        }
        if (r->total > r->nhits)
            fprintf(f, "... %" PRIu64 " more hits not shown (--limit %zu; --limit 0 shows all)\n",
                    r->total - r->nhits, r->max_hits);
        if (r->nhits)
            fputc('\n', f);
    }
    char ph[160], sc[DS_FMT_BUF], un[DS_FMT_BUF];
    pattern_hex(&r->pattern, ph, sizeof ph);
    fprintf(f, "Pattern: %s%s \"%s\" (%zu bytes: %s)", flag_of(r->pattern.kind),
            r->pattern.nocase ? " -i" : "", r->pattern.text, r->pattern.len, ph);
    if (r->pattern.align > 1)
        fprintf(f, ", aligned to %u", r->pattern.align);
    fputc('\n', f);
    scope_text(f, v);
    fprintf(f, "Total hits: %" PRIu64 " in %zu regions\n", r->total, r->nregions);
    fprintf(f,
            "Searched: %" PRIu64 " bytes (%s) of captured memory in %" PRIu64 " pieces, %" PRIu64
            " seams bridged\n",
            r->bytes_scanned, ds_fmt_size(sc, sizeof sc, r->bytes_scanned), r->ranges, r->seams);
    if (r->bytes_uncaptured)
        fprintf(f, "Not searched: %" PRIu64 " bytes (%s) in scope are mapped but not captured\n",
                r->bytes_uncaptured, ds_fmt_size(un, sizeof un, r->bytes_uncaptured));
    if (!v->count_only)
        return;
    fputc('\n', f);
    fprintf(f, "--- Hits by usage ----------------------- Hits --- Regions\n");
    for (size_t i = 0; i < r->nusage; i++)
        fprintf(f, "%-32s %12" PRIu64 " %10" PRIu64 "\n",
                ds_usage_label(r->usage[i].usage, r->usage[i].bits, lb), r->usage[i].hits,
                r->usage[i].regions);
    if (r->outside)
        fprintf(f, "%-32s %12" PRIu64 " %10s\n", "(no region)", r->outside, "-");
    fputc('\n', f);
    size_t top = v->top && v->top < r->nregions ? v->top : r->nregions;
    int aw = ps == 8 ? 17 : 8;
    fprintf(f, "--- Top regions by hits (%zu of %zu) ---\n", top, r->nregions);
    fprintf(f, "%*s %*s %*s %-10s %10s\n", aw, "BaseAddr", aw, "EndAddr+1", aw, "RgnSize", "Usage",
            "Hits");
    for (size_t i = 0; i < top; i++) {
        const ds_class_region *cr = &v->map->v[r->regions[i].region];
        char a[DS_FMT_BUF], e[DS_FMT_BUF], s[DS_FMT_BUF];
        fprintf(f, "%*s %*s %*s %-10s %10" PRIu64 "\n", aw, ds_fmt_addr(a, sizeof a, cr->base, ps),
                aw, ds_fmt_addr(e, sizeof e, cr->base + cr->size, ps), aw,
                ds_fmt_size_hex(s, sizeof s, cr->size, ps), ds_usage_label(cr->usage, cr->bits, lb),
                r->regions[i].hits);
    }
}

cJSON *ds_search_json(const ds_search_view *v)
{
    const ds_search_result *r = v->res;
    ds_dump *d = v->dump;
    char lb[24], ph[DS_PATTERN_MAX * 3 + 8];
    cJSON *o = cJSON_CreateObject();
    cJSON *p = cJSON_AddObjectToObject(o, "pattern");
    cJSON_AddStringToObject(p, "kind", ds_pattern_kind_key(r->pattern.kind));
    cJSON_AddStringToObject(p, "text", r->pattern.text);
    ds_json_add_uint(p, "length", r->pattern.len);
    pattern_hex(&r->pattern, ph, sizeof ph);
    cJSON_AddStringToObject(p, "bytes", ph);
    cJSON_AddBoolToObject(p, "case_insensitive", r->pattern.nocase);
    ds_json_add_uint(p, "alignment", r->pattern.align);
    cJSON *s = cJSON_AddObjectToObject(o, "scope");
    if (r->scope.has_range) {
        cJSON *rg = cJSON_AddObjectToObject(s, "range");
        ds_json_add_addr(rg, "start", r->scope.start);
        ds_json_add_addr(rg, "end", r->scope.end);
    } else {
        cJSON_AddNullToObject(s, "range");
    }
    ds_json_add_str_or_null(s, "filter", v->filter_text);
    cJSON_AddBoolToObject(s, "writable", r->scope.writable);
    ds_json_add_uint(o, "total", r->total);
    ds_json_add_uint(o, "regions_with_hits", r->nregions);
    ds_json_add_uint(o, "outside_regions", r->outside);
    ds_json_add_uint(o, "bytes_searched", r->bytes_scanned);
    ds_json_add_uint(o, "bytes_not_captured", r->bytes_uncaptured);
    ds_json_add_uint(o, "pieces", r->ranges);
    ds_json_add_uint(o, "seams", r->seams);
    cJSON *u = cJSON_AddArrayToObject(o, "by_usage");
    for (size_t i = 0; i < r->nusage; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "usage",
                                ds_usage_label(r->usage[i].usage, r->usage[i].bits, lb));
        cJSON_AddStringToObject(e, "class", ds_usage_name((ds_usage)r->usage[i].usage));
        ds_json_add_uint(e, "hits", r->usage[i].hits);
        ds_json_add_uint(e, "regions", r->usage[i].regions);
        cJSON_AddItemToArray(u, e);
    }
    size_t top = v->top && v->top < r->nregions ? v->top : r->nregions;
    cJSON *tr = cJSON_AddArrayToObject(o, "top_regions");
    for (size_t i = 0; i < top && v->map; i++) {
        const ds_class_region *cr = &v->map->v[r->regions[i].region];
        cJSON *e = cJSON_CreateObject();
        ds_json_add_addr(e, "base", cr->base);
        ds_json_add_addr(e, "end", cr->base + cr->size);
        ds_json_add_uint(e, "size", cr->size);
        cJSON_AddStringToObject(e, "usage", ds_usage_label(cr->usage, cr->bits, lb));
        ds_json_add_uint(e, "hits", r->regions[i].hits);
        cJSON_AddItemToArray(tr, e);
    }
    if (v->count_only) {
        cJSON_AddNullToObject(o, "hits");
    } else {
        cJSON *h = cJSON_AddArrayToObject(o, "hits");
        for (size_t i = 0; i < r->nhits; i++) {
            cJSON *e = cJSON_CreateObject();
            char hex[64], asc[20];
            ds_json_add_addr(e, "address", r->hits[i].addr);
            size_t rg = r->hits[i].region;
            if (v->map && rg != SIZE_MAX) {
                ds_json_add_addr(e, "region_base", v->map->v[rg].base);
                cJSON_AddStringToObject(e, "usage", usage_of(v, rg, lb));
            } else {
                cJSON_AddNullToObject(e, "region_base");
                cJSON_AddNullToObject(e, "usage");
            }
            db_line(d, r->hits[i].addr, hex, sizeof hex, asc, sizeof asc);
            cJSON_AddStringToObject(e, "bytes", hex);
            cJSON_AddStringToObject(e, "ascii", asc);
            cJSON_AddItemToArray(h, e);
        }
    }
    ds_json_add_uint(o, "shown", v->count_only ? 0 : r->nhits);
    ds_json_add_uint(o, "limit", r->max_hits);
    ds_json_add_uint(o, "not_shown", r->total - (v->count_only ? 0 : r->nhits));
    return o;
}

/* ---------------------------------------------------------------- extract */

static const char *item_usage(const ds_extract_view *v, const ds_extract_item *it, char *lb)
{
    if (!v->map || it->region == SIZE_MAX || it->region >= v->map->n)
        return "-";
    const ds_class_region *cr = &v->map->v[it->region];
    return ds_usage_label(cr->usage, cr->bits, lb);
}

void ds_extract_text(FILE *f, const ds_extract_view *v)
{
    unsigned ps = aspace_ptr(v->dump);
    int aw = ps == 8 ? 17 : 8;
    char lb[24];
    fprintf(f, "%s %zu file%s to %s (uncaptured bytes filled with 0x%02x)\n\n",
            v->dry_run ? "Would write" : "Wrote", v->plan->n, v->plan->n == 1 ? "" : "s", v->dir,
            v->fill);
    fprintf(f, "%*s %*s %12s %12s %12s %-10s %s\n", aw, "BaseAddr", aw, "EndAddr+1", "Size",
            "Captured", "NotCaptured", "Usage", "File");
    uint64_t unc = 0;
    size_t partial = 0, failed = 0;
    for (size_t i = 0; i < v->plan->n; i++) {
        const ds_extract_item *it = &v->plan->v[i];
        char a[DS_FMT_BUF], e[DS_FMT_BUF];
        fprintf(f, "%*s %*s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %-10s %s%s%s\n", aw,
                ds_fmt_addr(a, sizeof a, it->base, ps), aw,
                ds_fmt_addr(e, sizeof e, it->base + it->size, ps), it->size, it->captured,
                it->uncaptured, item_usage(v, it, lb), it->file, it->error ? ": FAILED: " : "",
                it->error ? strerror(it->error) : "");
        unc += it->uncaptured;
        partial += it->uncaptured != 0;
        failed += it->error != 0;
    }
    char t[DS_FMT_BUF];
    fprintf(f,
            "\nTotal: %" PRIu64 " bytes (%s), %" PRIu64 " captured, %" PRIu64
            " not captured (filled)\n",
            v->plan->total, ds_fmt_size(t, sizeof t, v->plan->total), v->plan->captured, unc);
    if (partial)
        fprintf(f,
                "Warning: %zu file%s contain%s bytes that are not in the dump (filled with "
                "0x%02x); see NotCaptured.\n",
                partial, partial == 1 ? "" : "s", partial == 1 ? "s" : "", v->fill);
    if (failed)
        fprintf(f, "Error: %zu file%s could not be written.\n", failed, failed == 1 ? "" : "s");
}

cJSON *ds_extract_json(const ds_extract_view *v)
{
    char lb[24];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "directory", v->dir);
    ds_json_add_uint(o, "fill", v->fill);
    cJSON_AddBoolToObject(o, "dry_run", v->dry_run);
    cJSON *arr = cJSON_AddArrayToObject(o, "files");
    uint64_t unc = 0;
    for (size_t i = 0; i < v->plan->n; i++) {
        const ds_extract_item *it = &v->plan->v[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", it->file);
        ds_json_add_addr(e, "base", it->base);
        ds_json_add_addr(e, "end", it->base + it->size);
        ds_json_add_uint(e, "size", it->size);
        ds_json_add_uint(e, "captured", it->captured);
        ds_json_add_uint(e, "not_captured", it->uncaptured);
        const char *u = item_usage(v, it, lb);
        ds_json_add_str_or_null(e, "usage", strcmp(u, "-") ? u : NULL);
        cJSON_AddBoolToObject(e, "written", it->written);
        ds_json_add_str_or_null(e, "error", it->error ? strerror(it->error) : NULL);
        cJSON_AddItemToArray(arr, e);
        unc += it->uncaptured;
    }
    ds_json_add_uint(o, "total", v->plan->total);
    ds_json_add_uint(o, "captured", v->plan->captured);
    ds_json_add_uint(o, "not_captured", unc);
    return o;
}
