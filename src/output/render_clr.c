/* Text and JSON for eeheap / dumpheap / finalizequeue from the structures of src/clr. */
#include "output/render_clr.h"

#include <inttypes.h>
#include <string.h>

#include "output/render.h"

/* SOS's pointer columns: 16 hex digits on 64-bit targets, 8 on 32-bit. */
static const char *mtx(char *b, size_t n, uint64_t v, unsigned ptr, bool upper)
{
    if (ptr == 4 && v <= 0xffffffffu)
        snprintf(b, n, upper ? "%08" PRIX64 : "%08" PRIx64, v);
    else
        snprintf(b, n, upper ? "%016" PRIX64 : "%016" PRIx64, v);
    return b;
}

void ds_clr_runtime_text(FILE *f, const ds_clr_runtime *rt)
{
    fprintf(f, "Runtime:    %s, %s at 0x%" PRIx64 "\n", ds_clr_kind_name(rt->kind), rt->module_name,
            rt->base);
    fprintf(f, "Version:    %s (from the %s)%s%s\n", rt->version[0] ? rt->version : "unknown",
            rt->version_source, rt->netcore_version[0] ? ", Microsoft.NETCore.App " : "",
            rt->netcore_version);
    if (rt->route != DS_CLR_ROUTE_NONE) {
        fprintf(f, "GC globals: %s\n", ds_clr_route_name(rt->route));
        fprintf(f, "            GcDacVars v%u.%u at 0x%" PRIx64, rt->major, rt->minor,
                rt->gcdacvars);
        if (rt->gc_dac_globals)
            fprintf(f, ", g_gcDacGlobals at 0x%" PRIx64, rt->gc_dac_globals);
        if (rt->dac_slot >= 0)
            fprintf(f, " (DAC table slot %d of %u)", rt->dac_slot, rt->dac_nglobals);
        fprintf(f, "; %s GC\n", rt->server ? "server" : "workstation");
    }
    if (!rt->supported && rt->reason[0])
        fprintf(f, "Not supported: %s\n", rt->reason);
    fputc('\n', f);
}

cJSON *ds_clr_runtime_json(const ds_clr_runtime *rt)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", ds_clr_kind_name(rt->kind));
    cJSON_AddStringToObject(o, "module", rt->module_name);
    ds_json_add_addr(o, "module_base", rt->base);
    ds_json_add_str_or_null(o, "version", rt->version[0] ? rt->version : NULL);
    cJSON_AddStringToObject(o, "version_source", rt->version_source);
    ds_json_add_str_or_null(o, "netcore_app_version",
                            rt->netcore_version[0] ? rt->netcore_version : NULL);
    cJSON_AddBoolToObject(o, "supported", rt->supported);
    ds_json_add_str_or_null(o, "reason", rt->reason[0] ? rt->reason : NULL);
    cJSON_AddStringToObject(o, "route",
                            rt->route == DS_CLR_ROUTE_DAC_RESOURCE        ? "dac_resource"
                            : rt->route == DS_CLR_ROUTE_SIGNATURE         ? "signature_scan"
                            : rt->route == DS_CLR_ROUTE_SYMBOLS           ? "symbols"
                            : rt->route == DS_CLR_ROUTE_SYMBOLS_UNCHECKED ? "symbols_unchecked"
                                                                          : "none");
    ds_json_add_addr_or_null(o, "gcdacvars", rt->gcdacvars != 0, rt->gcdacvars);
    ds_json_add_addr_or_null(o, "g_gcDacGlobals", rt->gc_dac_globals != 0, rt->gc_dac_globals);
    if (rt->dac_slot >= 0) {
        ds_json_add_uint(o, "dac_table_slot", (uint64_t)rt->dac_slot);
        ds_json_add_uint(o, "dac_table_globals", rt->dac_nglobals);
    }
    char v[16];
    snprintf(v, sizeof v, "%u.%u", rt->major, rt->minor);
    cJSON_AddStringToObject(o, "gcdacvars_version", v);
    cJSON_AddBoolToObject(o, "server_gc", rt->server);
    return o;
}

static void seg_header(FILE *f, unsigned ptr)
{
    if (ptr == 8)
        fprintf(f, "%16s  %16s  %16s  %16s  %16s  %s\n", "segment", "begin", "allocated",
                "committed", "reserved", "size");
    else
        fprintf(f, "%8s  %8s  %9s  %9s  %8s  %s\n", "segment", "begin", "allocated", "committed",
                "reserved", "size");
}

static void seg_row(FILE *f, const ds_clr_segment *s, unsigned ptr)
{
    char a[24], b[24], c[24], d[24], e[24];
    uint64_t size = s->walk_end - s->mem;
    fprintf(f, "%s  %s  %s  %s  %s  0x%" PRIx64 "(%" PRIu64 ")\n", mtx(a, 24, s->addr, ptr, 1),
            mtx(b, 24, s->mem, ptr, 1), mtx(c, 24, s->walk_end, ptr, 1),
            mtx(d, 24, s->committed, ptr, 1), mtx(e, 24, s->reserved, ptr, 1), size, size);
}

void ds_eeheap_text(FILE *f, const ds_clr_heap *h)
{
    char a[24];
    unsigned P = h->ptr;
    ds_clr_runtime_text(f, &h->rt);
    fprintf(f, "Number of GC Heaps: %zu\n", h->nheaps);
    for (size_t hi = 0; hi < h->nheaps; hi++) {
        const ds_clr_gcheap *g = &h->heaps[hi];
        uint64_t heap_total = 0;
        if (h->nheaps > 1) /* SOS: "Heap 0 (0000000005C8FBF0)", the gc_heap instance */
            fprintf(f, "------------------------------\nHeap %zu (%s)\n", hi,
                    mtx(a, 24, g->addr, P, 1));
        if (!g->ngen) {
            fprintf(f, "gc_heap unreadable (not in the dump): no generations, no segments\n");
            continue;
        }
        for (int gen = 0; gen < 3; gen++)
            fprintf(f, "generation %d starts at 0x%s\n", gen,
                    mtx(a, 24, g->gen[gen].allocation_start, P, 1));
        if (g->gen[0].alloc_ptr)
            fprintf(f, "ephemeral segment allocation context: (0x%" PRIx64 ", 0x%" PRIx64 ")\n",
                    g->gen[0].alloc_ptr, g->gen[0].alloc_limit);
        else
            fprintf(f, "ephemeral segment allocation context: none\n");
        seg_header(f, P);
        for (size_t i = 0; i < h->nsegs; i++)
            if (h->segs[i].heap == hi && h->segs[i].kind == DS_CLR_SEG_SOH) {
                seg_row(f, &h->segs[i], P);
                heap_total += h->segs[i].walk_end - h->segs[i].mem;
            }
        fprintf(f, "Large object heap starts at 0x%s\n",
                mtx(a, 24, g->gen[3].allocation_start, P, 1));
        seg_header(f, P);
        for (size_t i = 0; i < h->nsegs; i++)
            if (h->segs[i].heap == hi && h->segs[i].kind == DS_CLR_SEG_LOH) {
                seg_row(f, &h->segs[i], P);
                heap_total += h->segs[i].walk_end - h->segs[i].mem;
            }
        /* SOS: "Total Size:" for the one workstation heap, "Heap Size:" per server heap */
        fprintf(f, "%-25sSize: 0x%" PRIx64 " (%" PRIu64 ") bytes.\n",
                h->nheaps > 1 ? "Heap Size:" : "Total Size:", heap_total, heap_total);
    }
    fprintf(f, "------------------------------\n");
    fprintf(f, "GC Heap Size:            Size: 0x%" PRIx64 " (%" PRIu64 ") bytes.\n", h->total_size,
            h->total_size);
}

cJSON *ds_eeheap_json(const ds_clr_heap *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "runtime", ds_clr_runtime_json(&h->rt));
    cJSON *heaps = cJSON_AddArrayToObject(o, "heaps");
    for (size_t hi = 0; hi < h->nheaps; hi++) {
        const ds_clr_gcheap *g = &h->heaps[hi];
        cJSON *jh = cJSON_CreateObject();
        ds_json_add_uint(jh, "index", hi);
        ds_json_add_addr_or_null(jh, "gc_heap", g->addr != 0, g->addr);
        cJSON_AddBoolToObject(jh, "valid", g->ngen != 0);
        ds_json_add_addr(jh, "alloc_allocated", g->alloc_allocated);
        ds_json_add_addr(jh, "ephemeral_segment", g->ephemeral_segment);
        ds_json_add_addr(jh, "finalize_queue", g->finalize_queue);
        cJSON *gens = cJSON_AddArrayToObject(jh, "generations");
        for (unsigned i = 0; i < g->ngen; i++) {
            cJSON *jg = cJSON_CreateObject();
            ds_json_add_uint(jg, "generation", i);
            ds_json_add_addr(jg, "allocation_start", g->gen[i].allocation_start);
            ds_json_add_addr(jg, "start_segment", g->gen[i].start_segment);
            ds_json_add_addr(jg, "alloc_ptr", g->gen[i].alloc_ptr);
            ds_json_add_addr(jg, "alloc_limit", g->gen[i].alloc_limit);
            cJSON_AddItemToArray(gens, jg);
        }
        cJSON *segs = cJSON_AddArrayToObject(jh, "segments");
        uint64_t total = 0;
        for (size_t i = 0; i < h->nsegs; i++) {
            const ds_clr_segment *s = &h->segs[i];
            if (s->heap != hi)
                continue;
            cJSON *js = cJSON_CreateObject();
            cJSON_AddStringToObject(js, "kind", s->kind == DS_CLR_SEG_LOH ? "loh" : "soh");
            cJSON_AddBoolToObject(js, "ephemeral", s->ephemeral);
            ds_json_add_addr(js, "segment", s->addr);
            ds_json_add_addr(js, "begin", s->mem);
            ds_json_add_addr(js, "allocated", s->walk_end);
            ds_json_add_addr(js, "committed", s->committed);
            ds_json_add_addr(js, "reserved", s->reserved);
            ds_json_add_addr(js, "flags", s->flags);
            ds_json_add_uint(js, "size", s->walk_end - s->mem);
            total += s->walk_end - s->mem;
            cJSON_AddItemToArray(segs, js);
        }
        ds_json_add_uint(jh, "total_size", total);
        cJSON_AddItemToArray(heaps, jh);
    }
    ds_json_add_uint(o, "gc_heap_size", h->total_size);
    return o;
}

void ds_clr_walk_text(FILE *f, const ds_clr_walk_stats *ws)
{
    if (!ws->bad_total)
        return;
    fprintf(f, "\n%" PRIu64 " bad object(s) skipped (walk resynchronised):\n", ws->bad_total);
    for (size_t i = 0; i < ws->nbad; i++)
        fprintf(f, "  0x%" PRIx64 "  MT 0x%" PRIx64 "  %s; resumed at 0x%" PRIx64 "\n",
                ws->bad[i].addr, ws->bad[i].mt, ws->bad[i].reason, ws->bad[i].resumed_at);
}

cJSON *ds_clr_walk_json(const ds_clr_walk_stats *ws)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_uint(o, "objects", ws->objects);
    ds_json_add_uint(o, "gaps_skipped", ws->gaps);
    ds_json_add_uint(o, "gap_bytes", ws->gap_bytes);
    ds_json_add_uint(o, "unreadable_bytes", ws->unreadable_bytes);
    ds_json_add_uint(o, "bad_objects", ws->bad_total);
    cJSON *a = cJSON_AddArrayToObject(o, "bad");
    for (size_t i = 0; i < ws->nbad; i++) {
        cJSON *b = cJSON_CreateObject();
        ds_json_add_addr(b, "address", ws->bad[i].addr);
        ds_json_add_addr(b, "mt", ws->bad[i].mt);
        cJSON_AddStringToObject(b, "reason", ws->bad[i].reason);
        ds_json_add_addr_or_null(b, "resumed_at", ws->bad[i].resumed_at != 0,
                                 ws->bad[i].resumed_at);
        cJSON_AddItemToArray(a, b);
    }
    return o;
}

void ds_clr_stats_text(FILE *f, const ds_clr_heap *h, const ds_clr_stats *s)
{
    char a[24];
    unsigned P = h->ptr;
    fprintf(f, "Statistics:\n");
    fprintf(f, "%*s %8s %12s %s\n", P == 8 ? 16 : 8, "MT", "Count", "TotalSize", "Class Name");
    for (size_t i = 0; i < s->n; i++) {
        const ds_clr_type_stat *r = &s->v[i];
        /* SOS prints the Free row's name indented ("      Free") */
        fprintf(f, "%s %8" PRIu64 " %12" PRIu64 " %s\n", mtx(a, 24, r->mt, P, 0), r->count,
                r->total,
                r->free   ? "     Free"
                : r->name ? r->name
                          : "UNKNOWN");
    }
    fprintf(f, "Total %" PRIu64 " objects, %" PRIu64 " bytes\n", s->objects, s->bytes);
}

cJSON *ds_clr_stats_json(const ds_clr_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(o, "types");
    for (size_t i = 0; i < s->n; i++) {
        const ds_clr_type_stat *r = &s->v[i];
        cJSON *j = cJSON_CreateObject();
        ds_json_add_addr(j, "mt", r->mt);
        ds_json_add_uint(j, "count", r->count);
        ds_json_add_uint(j, "total_size", r->total);
        ds_json_add_str_or_null(j, "name", r->free ? "Free" : r->name);
        cJSON_AddBoolToObject(j, "free", r->free);
        cJSON_AddItemToArray(rows, j);
    }
    ds_json_add_uint(o, "total_objects", s->objects);
    ds_json_add_uint(o, "total_size", s->bytes);
    return o;
}

void ds_clr_objects_text(FILE *f, const ds_clr_heap *h, const ds_clr_objlist *l)
{
    char a[24], b[24];
    unsigned P = h->ptr;
    fprintf(f, "%*s %*s %8s\n", P == 8 ? 16 : 8, "Address", P == 8 ? 16 : 8, "MT", "Size");
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s %s %8" PRIu64 "%s\n", mtx(a, 24, l->v[i].addr, P, 0),
                mtx(b, 24, l->v[i].mt, P, 0), l->v[i].size, l->v[i].free ? " Free" : "");
    fputc('\n', f);
}

cJSON *ds_clr_objects_json(const ds_clr_heap *h, const ds_clr_objlist *l)
{
    (void)h;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->n; i++) {
        cJSON *j = cJSON_CreateObject();
        ds_json_add_addr(j, "address", l->v[i].addr);
        ds_json_add_addr(j, "mt", l->v[i].mt);
        ds_json_add_uint(j, "size", l->v[i].size);
        cJSON_AddBoolToObject(j, "free", l->v[i].free);
        cJSON_AddItemToArray(a, j);
    }
    return a;
}

static uint64_t seg_lo(const ds_clr_finq_heap *fh, int i)
{
    return i ? fh->fp[i - 1] : fh->array;
}

void ds_finq_text(FILE *f, const ds_clr_heap *h, const ds_clr_finq *q, bool ready_only,
                  bool stat_only)
{
    if (!stat_only) {
        ds_clr_runtime_text(f, &h->rt);
        fprintf(f, "SyncBlocks to be cleaned up: (not read)\n");
        fprintf(f, "----------------------------------\n");
        for (size_t i = 0; i < q->nheaps; i++) {
            const ds_clr_finq_heap *fh = &q->heaps[i];
            if (q->nheaps > 1)
                fprintf(f, "------------------------------\nHeap %zu\n", i);
            if (!fh->valid) {
                fprintf(f, "finalization queue (CFinalize at 0x%" PRIx64 ") unreadable\n",
                        fh->cfinalize);
                continue;
            }
            if (!ready_only)
                for (int g = 0; g < 3; g++) {
                    int sg = 3 - g; /* gen_segment(g) = 4 - g - 1 */
                    fprintf(f,
                            "generation %d has %" PRIu64 " finalizable objects (%" PRIx64
                            "->%" PRIx64 ")\n",
                            g, fh->seg_count[sg], seg_lo(fh, sg), fh->fp[sg]);
                }
            fprintf(f, "Ready for finalization %" PRIu64 " objects (%" PRIx64 "->%" PRIx64 ")\n",
                    fh->seg_count[4] + fh->seg_count[5], fh->fp[3], fh->fp[5]);
            if (fh->seg_count[4])
                fprintf(f, "  of which critical finalizers: %" PRIu64 "\n", fh->seg_count[4]);
        }
    }
    if (ready_only)
        fprintf(f, "Statistics for objects ready for finalization (f-reachable queue):\n");
    else
        fprintf(f, "Statistics for all finalizable objects (including all objects ready for "
                   "finalization):\n");
    ds_clr_stats_text(f, h, ready_only ? &q->ready : &q->all);
    if (q->bad_entries)
        fprintf(f, "%" PRIu64 " queue entries skipped (object or MethodTable unreadable)\n",
                q->bad_entries);
}

cJSON *ds_finq_json(const ds_clr_heap *h, const ds_clr_finq *q, bool ready_only)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "runtime", ds_clr_runtime_json(&h->rt));
    cJSON *heaps = cJSON_AddArrayToObject(o, "heaps");
    static const char *const names[DS_CLR_FQ_SEGS] = {"loh",  "gen2",           "gen1",
                                                      "gen0", "critical_ready", "ready"};
    for (size_t i = 0; i < q->nheaps; i++) {
        const ds_clr_finq_heap *fh = &q->heaps[i];
        cJSON *jh = cJSON_CreateObject();
        ds_json_add_uint(jh, "index", i);
        ds_json_add_addr(jh, "cfinalize", fh->cfinalize);
        cJSON_AddBoolToObject(jh, "valid", fh->valid);
        if (fh->valid) {
            cJSON *segs = cJSON_AddArrayToObject(jh, "segments");
            for (int s = 0; s < DS_CLR_FQ_SEGS; s++) {
                cJSON *js = cJSON_CreateObject();
                cJSON_AddStringToObject(js, "segment", names[s]);
                ds_json_add_addr(js, "start", seg_lo(fh, s));
                ds_json_add_addr(js, "end", fh->fp[s]);
                ds_json_add_uint(js, "count", fh->seg_count[s]);
                cJSON_AddItemToArray(segs, js);
            }
            ds_json_add_uint(jh, "ready_for_finalization", fh->seg_count[4] + fh->seg_count[5]);
        }
        cJSON_AddItemToArray(heaps, jh);
    }
    ds_json_add_uint(o, "ready_for_finalization", q->ready_count);
    ds_json_add_uint(o, "registered", q->registered_count);
    ds_json_add_uint(o, "bad_entries", q->bad_entries);
    cJSON_AddItemToObject(o, "statistics", ds_clr_stats_json(ready_only ? &q->ready : &q->all));
    return o;
}
