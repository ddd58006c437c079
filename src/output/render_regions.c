/* Text and JSON for `summary` and `regions` from the classifier's structures. */
#include "output/render_regions.h"

#include <inttypes.h>
#include <string.h>

#include "output/format.h"
#include "output/render.h"

static unsigned aspace_ptr(const ds_dump *d)
{
    return d->sys.wow64 ? 4 : (d->sys.ptr_size ? d->sys.ptr_size : 8);
}

char *ds_fmt_size_hex(char *buf, size_t n, uint64_t v, unsigned ptr_size)
{
    if (ptr_size == 8)
        snprintf(buf, n, "%" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
    else
        ds_fmt_hex(buf, n, v);
    return buf;
}

static void pct(char *buf, size_t n, uint64_t part, uint64_t whole)
{
    if (!whole)
        snprintf(buf, n, "%s", "");
    else
        snprintf(buf, n, "%.2f%%", 100.0 * (double)part / (double)whole);
}

/* "--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal"
 * (seed 000 line 26): the title is padded with dashes to column 34. */
static void rule(FILE *f, const char *title)
{
    char t[64];
    snprintf(t, sizeof t, "--- %s ", title);
    fputs(t, f);
    for (size_t i = strlen(t); i < 34; i++)
        fputc('-', f);
    fputs(" RgnCount ----------- Total Size -------- %ofBusy %ofTotal\n", f);
}

static void row(FILE *f, const char *label, uint64_t count, uint64_t size, bool free_row,
                const ds_region_summary *s)
{
    char hex[DS_FMT_BUF], human[DS_FMT_BUF], busy[16], total[16], cnt[24];
    snprintf(cnt, sizeof cnt, "%" PRIu64, count);
    ds_fmt_size_hex(hex, sizeof hex, size, s->ptr_size);
    ds_fmt_size(human, sizeof human, size);
    if (free_row)
        busy[0] = 0;
    else
        pct(busy, sizeof busy, size, s->busy);
    pct(total, sizeof total, size, s->total);
    /* columns as in seed 000 lines 26-49: count ends at 43, hex at 61, ( at 62, ) at 74 */
    fprintf(f, "%-32s%11s%18s (%11s)%8s%9s\n", label, cnt, hex, human, busy, total);
}

void ds_summary_text(FILE *f, const ds_dump *d, const ds_region_summary *s)
{
    char lb[24], pb[64];
    if (s->partial)
        fprintf(f, "Partial summary: %s.\n\n", s->partial_reason);
    if (d->sys.wow64)
        fprintf(f, "WoW64 process: the summary covers the 32-bit address space (below 4 GB), "
                   "as WinDbg does in x86 mode.\n\n");
    rule(f, "Usage Summary");
    for (size_t i = 0; i < s->nusage; i++) {
        const ds_usage_row *u = &s->usage[i];
        row(f, ds_usage_label(u->usage, u->bits, lb), u->count, u->size, u->usage == DS_USE_FREE,
            s);
    }
    fputc('\n', f);
    rule(f, "Type Summary (for busy)");
    for (int t = 0; t < 3; t++)
        if (s->type[t].count)
            row(f, ds_mem_type_name(s->type[t].key), s->type[t].count, s->type[t].size, false, s);
    fputc('\n', f);
    rule(f, "State Summary");
    /* WinDbg orders the state rows by size too (seed 000 lines 46-49) */
    ds_count_row st[3];
    memcpy(st, s->state, sizeof st);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (st[b].size > st[a].size) {
                ds_count_row tmp = st[a];
                st[a] = st[b];
                st[b] = tmp;
            }
    for (int t = 0; t < 3; t++)
        if (st[t].count)
            row(f, ds_mem_state_name(st[t].key), st[t].count, st[t].size, st[t].key == DS_MEM_FREE,
                s);
    fputc('\n', f);
    rule(f, "Protect Summary (for commit)");
    for (size_t i = 0; i < s->nprotect; i++)
        row(f, ds_protect_name(s->protect[i].key, pb), s->protect[i].count, s->protect[i].size,
            false, s);
    fputc('\n', f);
    if (s->not_captured_bytes) {
        char hx[DS_FMT_BUF], hu[DS_FMT_BUF];
        fprintf(f,
                "Not in the dump: %" PRIu64 " committed regions hold %s (%s) that were not "
                "captured.\n\n",
                s->not_captured_regions, ds_fmt_size_hex(hx, sizeof hx, s->not_captured_bytes, 8),
                ds_fmt_size(hu, sizeof hu, s->not_captured_bytes));
    }
    fputs("--- Largest Region by Usage ----------- Base Address -------- Region Size ----------\n",
          f);
    for (size_t i = 0; i < s->nusage; i++) {
        const ds_usage_row *u = &s->usage[i];
        char a[DS_FMT_BUF], hex[DS_FMT_BUF], human[DS_FMT_BUF];
        ds_fmt_addr(a, sizeof a, u->largest_base, s->ptr_size);
        ds_fmt_size_hex(hex, sizeof hex, u->largest_size, s->ptr_size);
        ds_fmt_size(human, sizeof human, u->largest_size);
        fprintf(f, "%-32s%24s%18s (%11s)\n", ds_usage_label(u->usage, u->bits, lb), a, hex, human);
    }
}

static cJSON *count_json(const char *name, uint64_t count, uint64_t size, bool free_row,
                         const ds_region_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    ds_json_add_uint(o, "regions", count);
    ds_json_add_uint(o, "size", size);
    if (free_row || !s->busy)
        cJSON_AddNullToObject(o, "percent_of_busy");
    else
        cJSON_AddNumberToObject(o, "percent_of_busy", 100.0 * (double)size / (double)s->busy);
    if (s->total)
        cJSON_AddNumberToObject(o, "percent_of_total", 100.0 * (double)size / (double)s->total);
    else
        cJSON_AddNullToObject(o, "percent_of_total");
    return o;
}

cJSON *ds_summary_json(const ds_dump *d, const ds_region_summary *s)
{
    (void)d;
    char lb[24], pb[64];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "partial", s->partial);
    ds_json_add_str_or_null(o, "partial_reason", s->partial ? s->partial_reason : NULL);
    if (s->limit != UINT64_MAX)
        ds_json_add_addr(o, "address_limit", s->limit);
    else
        cJSON_AddNullToObject(o, "address_limit");
    ds_json_add_uint(o, "total", s->total);
    ds_json_add_uint(o, "busy", s->busy);
    cJSON *u = cJSON_AddArrayToObject(o, "usage");
    for (size_t i = 0; i < s->nusage; i++) {
        const ds_usage_row *r = &s->usage[i];
        cJSON *e = count_json(ds_usage_label(r->usage, r->bits, lb), r->count, r->size,
                              r->usage == DS_USE_FREE, s);
        cJSON_AddStringToObject(e, "class", ds_usage_name((ds_usage)r->usage));
        if (r->bits)
            ds_json_add_uint(e, "bits", r->bits);
        else
            cJSON_AddNullToObject(e, "bits");
        cJSON *l = cJSON_AddObjectToObject(e, "largest");
        ds_json_add_addr(l, "base", r->largest_base);
        ds_json_add_uint(l, "size", r->largest_size);
        cJSON_AddItemToArray(u, e);
    }
    cJSON *t = cJSON_AddArrayToObject(o, "type");
    for (int i = 0; i < 3; i++)
        if (s->type[i].count)
            cJSON_AddItemToArray(t, count_json(ds_mem_type_name(s->type[i].key), s->type[i].count,
                                               s->type[i].size, false, s));
    cJSON *st = cJSON_AddArrayToObject(o, "state");
    for (int i = 0; i < 3; i++)
        if (s->state[i].count)
            cJSON_AddItemToArray(st,
                                 count_json(ds_mem_state_name(s->state[i].key), s->state[i].count,
                                            s->state[i].size, s->state[i].key == DS_MEM_FREE, s));
    cJSON *nc = cJSON_AddObjectToObject(o, "not_captured");
    ds_json_add_uint(nc, "regions", s->not_captured_regions);
    ds_json_add_uint(nc, "size", s->not_captured_bytes);
    cJSON *p = cJSON_AddArrayToObject(o, "protect");
    for (size_t i = 0; i < s->nprotect; i++)
        cJSON_AddItemToArray(p, count_json(ds_protect_name(s->protect[i].key, pb),
                                           s->protect[i].count, s->protect[i].size, false, s));
    return o;
}

/* The detail column: what the region is, or a preview of its first bytes. */
static void detail(char *buf, size_t n, const ds_regions_view *v, const ds_class_region *cr)
{
    ds_dump *d = v->dump;
    const char *label = ds_class_label(v->map, cr);
    buf[0] = 0;
    switch (cr->detail_kind) {
    case DS_DETAIL_MODULE:
        if (cr->detail < d->nmodules) {
            const ds_module *m = &d->modules[cr->detail];
            char sn[64];
            snprintf(buf, n, "[%s; \"%s\"]", ds_module_short_name(m, sn, sizeof sn),
                     m->path ? m->path : "");
        }
        return;
    case DS_DETAIL_THREAD:
        if (cr->detail < d->nthreads)
            snprintf(buf, n, "[~%" PRIu64 "; %x.%x]", cr->detail,
                     d->misc.has_pid ? d->misc.pid : d->lnx.pid, d->threads[cr->detail].tid);
        return;
    case DS_DETAIL_HEAP: {
        char a[DS_FMT_BUF];
        snprintf(buf, n, "[Handle: %s%s%s]",
                 ds_fmt_addr(a, sizeof a, cr->detail, cr->bits == 32 ? 4 : d->sys.ptr_size),
                 *label ? "; " : "", label);
        return;
    }
    case DS_DETAIL_FILE:
        if (cr->detail < d->lnx.nfiles)
            snprintf(buf, n, "[\"%s\"]", d->lnx.files[cr->detail].path);
        return;
    case DS_DETAIL_OTHER:
        if (*label)
            snprintf(buf, n, "[%s]", label);
        return;
    default:
        break;
    }
    if (cr->usage == DS_USE_UNKNOWN && cr->r->state == DS_MEM_COMMIT) {
        uint8_t b[16];
        size_t got = 0;
        ds_vmem_read(&d->vm, cr->base, b, sizeof b, &got);
        if (got == sizeof b) {
            char p[17];
            for (int i = 0; i < 16; i++)
                p[i] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '.';
            p[16] = 0;
            snprintf(buf, n, "[%s]", p);
        } else {
            snprintf(buf, n, "[not captured]");
        }
    }
}

void ds_regions_text(FILE *f, const ds_regions_view *v)
{
    ds_dump *d = v->dump;
    unsigned ps = d->sys.ptr_size ? d->sys.ptr_size : 8;
    int aw = ps == 8 ? 17 : 8;
    if (v->map->partial)
        fprintf(f, "Partial listing: %s.\n\n", v->map->partial_reason);
    /* columns as in seed 000 lines 62-64 (x86), widened for 64-bit addresses */
    fprintf(f, "  %*s %*s %*s %-11s %-11s %-34s %-10s\n", aw, "BaseAddr", aw, "EndAddr+1", aw,
            "RgnSize", "Type", "State", "Protect", "Usage");
    for (int i = 0; i < 2 + 3 * aw + 3 + 11 + 1 + 11 + 1 + 34 + 1 + 10; i++)
        fputc('-', f);
    fputc('\n', f);
    size_t shown = 0, matched = 0;
    for (size_t i = 0; i < v->map->n; i++) {
        const ds_class_region *cr = &v->map->v[i];
        if (v->filter && !ds_region_filter_match(v->filter, cr))
            continue;
        matched++;
        if (v->limit && shown >= v->limit)
            continue;
        shown++;
        char a[DS_FMT_BUF], e[DS_FMT_BUF], s[DS_FMT_BUF], pb[64], lb[24], det[320];
        ds_fmt_addr(a, sizeof a, cr->base, ps);
        ds_fmt_addr(e, sizeof e, cr->base + cr->size, ps);
        ds_fmt_size_hex(s, sizeof s, cr->size, ps);
        detail(det, sizeof det, v, cr);
        fprintf(f, "%s %*s %*s %*s %-11s %-11s %-34s %-10s %s\n", cr->new_alloc ? "+" : " ", aw, a,
                aw, e, aw, s, cr->usage == DS_USE_FREE ? "" : ds_mem_type_name(cr->r->type),
                ds_mem_state_name(cr->r->state), ds_protect_name(cr->r->protect, pb),
                ds_usage_label(cr->usage, cr->bits, lb), det);
    }
    if (v->limit && matched > shown)
        fprintf(f, "... %zu more regions (use --limit 0 to list all)\n", matched - shown);
    fprintf(f, "\n%zu regions matched.\n", matched);
}

cJSON *ds_regions_json(const ds_regions_view *v)
{
    ds_dump *d = v->dump;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "partial", v->map->partial);
    ds_json_add_str_or_null(o, "partial_reason", v->map->partial ? v->map->partial_reason : NULL);
    cJSON *arr = cJSON_AddArrayToObject(o, "regions");
    size_t matched = 0, shown = 0;
    for (size_t i = 0; i < v->map->n; i++) {
        const ds_class_region *cr = &v->map->v[i];
        if (v->filter && !ds_region_filter_match(v->filter, cr))
            continue;
        matched++;
        if (v->limit && shown >= v->limit)
            continue;
        shown++;
        char pb[64], lb[24], det[320];
        cJSON *e = cJSON_CreateObject();
        ds_json_add_addr(e, "base", cr->base);
        ds_json_add_addr(e, "end", cr->base + cr->size);
        ds_json_add_uint(e, "size", cr->size);
        ds_json_add_addr(e, "allocation_base", cr->r->alloc_base);
        cJSON_AddBoolToObject(e, "new_allocation", cr->new_alloc);
        ds_json_add_str_or_null(e, "type",
                                cr->usage == DS_USE_FREE ? NULL : ds_mem_type_name(cr->r->type));
        cJSON_AddStringToObject(e, "state", ds_mem_state_name(cr->r->state));
        cJSON_AddStringToObject(e, "protect", ds_protect_name(cr->r->protect, pb));
        ds_json_add_uint(e, "protect_value", cr->r->protect);
        cJSON_AddStringToObject(e, "usage", ds_usage_label(cr->usage, cr->bits, lb));
        cJSON_AddStringToObject(e, "class", ds_usage_name((ds_usage)cr->usage));
        detail(det, sizeof det, v, cr);
        ds_json_add_str_or_null(e, "detail", det[0] ? det : NULL);
        switch (cr->detail_kind) {
        case DS_DETAIL_MODULE:
            ds_json_add_uint(e, "module_index", cr->detail);
            break;
        case DS_DETAIL_THREAD:
            ds_json_add_uint(e, "thread_index", cr->detail);
            if (cr->detail < d->nthreads)
                ds_json_add_uint(e, "thread_id", d->threads[cr->detail].tid);
            break;
        case DS_DETAIL_HEAP:
            ds_json_add_addr(e, "heap", cr->detail);
            break;
        default:
            break;
        }
        cJSON_AddItemToArray(arr, e);
    }
    ds_json_add_uint(o, "matched", matched);
    ds_json_add_uint(o, "listed", shown);
    return o;
}

const char *ds_hist_kind_name(ds_hist_kind k)
{
    return k == DS_HIST_SIZE ? "size" : k == DS_HIST_ALLOCATION ? "allocation" : "usage";
}

static void hist_key(char *buf, size_t n, const ds_dump *d, ds_hist_kind k, uint64_t key)
{
    if (k == DS_HIST_USAGE) {
        char lb[24];
        snprintf(buf, n, "%s", ds_usage_label((uint8_t)(key & 0xff), (uint8_t)(key >> 8), lb));
    } else {
        ds_fmt_size_hex(buf, n, key, aspace_ptr(d) == 8 ? 8 : 4);
    }
}

void ds_histogram_text(FILE *f, const ds_dump *d, ds_hist_kind k, const ds_hist_row *rows, size_t n)
{
    uint64_t all = 0, cnt = 0;
    for (size_t i = 0; i < n; i++) {
        all += rows[i].total;
        cnt += rows[i].count;
    }
    fprintf(f, "Histogram of %s by %s, largest total first\n\n",
            k == DS_HIST_ALLOCATION ? "allocations" : "regions", ds_hist_kind_name(k));
    fprintf(f, "%18s %10s %18s %13s %8s  %s\n", k == DS_HIST_USAGE ? "Usage" : "Size", "Count",
            "Total", "", "%Total", "Example");
    for (size_t i = 0; i < n; i++) {
        char key[DS_FMT_BUF], tot[DS_FMT_BUF], human[DS_FMT_BUF], ex[DS_FMT_BUF], p[16];
        hist_key(key, sizeof key, d, k, rows[i].key);
        ds_fmt_size_hex(tot, sizeof tot, rows[i].total, aspace_ptr(d) == 8 ? 8 : 4);
        ds_fmt_size(human, sizeof human, rows[i].total);
        pct(p, sizeof p, rows[i].total, all);
        ds_fmt_addr(ex, sizeof ex, rows[i].first_base, d->sys.ptr_size ? d->sys.ptr_size : 8);
        fprintf(f, "%18s %10" PRIu64 " %18s (%11s) %8s  %s\n", key, rows[i].count, tot, human, p,
                ex);
    }
    char tot[DS_FMT_BUF], human[DS_FMT_BUF];
    fprintf(f, "\nTotal: %" PRIu64 " %s in %zu groups, %s (%s)\n", cnt,
            k == DS_HIST_ALLOCATION ? "allocations" : "regions", n,
            ds_fmt_size_hex(tot, sizeof tot, all, aspace_ptr(d) == 8 ? 8 : 4),
            ds_fmt_size(human, sizeof human, all));
}

cJSON *ds_histogram_json(const ds_dump *d, ds_hist_kind k, const ds_hist_row *rows, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "by", ds_hist_kind_name(k));
    cJSON *arr = cJSON_AddArrayToObject(o, "rows");
    uint64_t all = 0, cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (k == DS_HIST_USAGE) {
            char key[DS_FMT_BUF];
            hist_key(key, sizeof key, d, k, rows[i].key);
            cJSON_AddStringToObject(e, "usage", key);
        } else {
            ds_json_add_uint(e, "size", rows[i].key);
        }
        ds_json_add_uint(e, "count", rows[i].count);
        ds_json_add_uint(e, "total", rows[i].total);
        ds_json_add_addr(e, "example", rows[i].first_base);
        cJSON_AddItemToArray(arr, e);
        all += rows[i].total;
        cnt += rows[i].count;
    }
    ds_json_add_uint(o, "count", cnt);
    ds_json_add_uint(o, "total", all);
    return o;
}
