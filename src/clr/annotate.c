/* dumpsleuth: `summary --clr` / `regions --clr`: the GC heap as region classes.
 *
 * Rules (docs/commands/summary.md, "--clr"):
 *   1. every GC segment (small object heap and large object heap) read from the runtime's
 *      heap_segment list: [segment, committed) is GC heap committed, [committed, reserved) GC heap
 *      reserved. `segment` is the heap_segment header at the start of the segment's reservation
 *      (one page before `begin`), so the header counts as GC heap; the bounds are the GC's own.
 *   2. on a Windows dump with a region table, the rest of an allocation (same allocation base) that
 *      holds a segment is "CLR other" (label "GC reservation"): VirtualAlloc reservations are never
 *      shared, and the GC reserved this one itself (2.x reserves the initial SOH and LOH segments
 *      in one block; what no segment covers yet is still the GC's). Linux cores have no allocation
 *      bases (every mapping is its own), so the rule does not apply there.
 * Nothing else is classified: loader heaps, JIT code heaps, the card table and the handle table
 * are runtime memory too, but nothing read here proves where they are. */
#include <stdio.h>
#include <string.h>

#include "dumpsleuth/clr.h"
#include "dumpsleuth/regions.h"

enum { PRIO_CLR = 60, PRIO_CLR_ALLOC = 59 };

static void put(ds_classifier *c, uint64_t start, uint64_t end, bool by_alloc, ds_usage u,
                uint8_t bits, uint8_t prio, const char *label)
{
    ds_mark m;
    memset(&m, 0, sizeof m);
    m.start = start;
    m.end = end;
    m.by_alloc = by_alloc;
    m.usage = (uint8_t)u;
    m.bits = bits;
    m.priority = prio;
    m.detail_kind = DS_DETAIL_OTHER;
    snprintf(m.label, sizeof m.label, "%s", label);
    ds_classifier_mark(c, &m);
}

size_t ds_clr_annotate_heap(const ds_clr_heap *h, struct ds_classifier *c, ds_diags *diags)
{
    const ds_dump *d = h->dump;
    /* WoW64 dumps label classes with the bitness of their side (Heap32 / Heap64) */
    uint8_t bits = d && d->sys.wow64 ? (h->ptr == 4 ? 32 : 64) : 0;
    uint64_t span_max = h->ptr == 4 ? (1ull << 32) : (1ull << 40);
    size_t marked = 0;
    for (size_t i = 0; i < h->nsegs; i++) {
        const ds_clr_segment *s = &h->segs[i];
        if (!(s->addr <= s->mem && s->mem <= s->committed && s->committed <= s->reserved) ||
            s->reserved - s->addr > span_max || s->mem - s->addr > (1ull << 20)) {
            ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", s->addr,
                             "bounds not ordered (begin 0x%llx, committed 0x%llx, reserved "
                             "0x%llx): segment left unclassified",
                             (unsigned long long)s->mem, (unsigned long long)s->committed,
                             (unsigned long long)s->reserved);
            continue;
        }
        const char *label = s->kind == DS_CLR_SEG_LOH ? "LOH segment" : "gen0-2 segment";
        put(c, s->addr, s->committed, false, DS_USE_GC_COMMITTED, bits, PRIO_CLR, label);
        put(c, s->committed, s->reserved, false, DS_USE_GC_RESERVED, bits, PRIO_CLR, label);
        marked++;
        if (!d || !d->has_region_table || d->sys.os != DS_OS_WINDOWS)
            continue;
        const ds_region *r = ds_region_at(d, s->addr);
        if (!r || r->state == DS_MEM_FREE || r->type != DS_MEM_PRIVATE)
            continue;
        put(c, r->alloc_base, r->alloc_base, true, DS_USE_CLR_OTHER, bits, PRIO_CLR_ALLOC,
            "GC reservation");
    }
    return marked;
}

void ds_clr_annotate(ds_dump *d, struct ds_classifier *c, ds_diags *diags, void *ctx)
{
    if (ctx) {
        ds_clr_annotate_heap((const ds_clr_heap *)ctx, c, diags);
        return;
    }
    ds_clr_heap h;
    ds_status st = ds_clr_heap_open(d, NULL, &h, diags);
    if (st == DS_OK || (st == DS_E_PARTIAL && h.nsegs)) {
        ds_clr_annotate_heap(&h, c, diags);
    } else if (h.rt.kind != DS_CLR_NONE) {
        ds_diag_add(diags, DS_SEV_WARNING, "CLR", 0, 0,
                    "%s found, but its GC heap cannot be read (%s): the GC heap stays <unknown>",
                    h.rt.module_name[0] ? h.rt.module_name : ds_clr_kind_name(h.rt.kind),
                    h.rt.reason[0] ? h.rt.reason : ds_status_str(st));
    }
    ds_clr_heap_close(&h);
}
