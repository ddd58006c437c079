/* Segment heap (_SEGMENT_HEAP, Windows 10+): summary from the counters only (nt-heap.md §5). The
 * structure changed several times; only the builds with a public layout are summarised. Nothing
 * is walked: page segments and large blocks need ntdll!RtlpHpHeapGlobals (encoded signatures and
 * links), which is not in the dump's data. */
#include "heap/heap_priv.h"

#include <stdio.h>
#include <string.h>

typedef struct seg_layout {
    uint32_t global_flags;
    int64_t memstats; /* -1: TotalReserved/Committed pages at +0 / +8 of the heap itself */
    uint32_t large_reserved, large_committed;
    uint32_t seg_contexts, seg_context_size, seg_count; /* seg_contexts 0: one count at seg_count */
    const char *name;
} seg_layout;

/* 14393..17134 x64 [S2]; 1809 x86 [S3]; 18362/19041 x86 and x64 [S1] (Windows 11: inferred) */
static const seg_layout SEG64_10B = {0x14, -1, 0x48, 0x50, 0, 0, 0x70, "10 14393-17134 x64"};
static const seg_layout SEG32_1809 = {0x0c, 0x10, 0x58, 0x5c, 0x60, 0x50, 0x1c, "10 1809 x86"};
static const seg_layout SEG32_19H1 = {0x0c, 0x80, 0x4c, 0x50, 0x100, 0x80, 0x4c, "10 18362+ x86"};
static const seg_layout SEG64_19H1 = {0x14,  0x80, 0x58, 0x60,
                                      0x100, 0xc0, 0x58, "10 18362+ / 11 x64"};

static const seg_layout *pick(unsigned ps, uint32_t build)
{
    if (ps == 8) {
        if (build >= 14393 && build <= 17134)
            return &SEG64_10B;
        if (build >= 18362)
            return &SEG64_19H1;
        return NULL;
    }
    if (build == 17763)
        return &SEG32_1809;
    if (build >= 18362)
        return &SEG32_19H1;
    return NULL;
}

void ds_heap_segheap_summary(ds_dump *d, ds_heap *h, unsigned ps, uint32_t build)
{
    ds_heap_segheap *s = &h->seg;
    ds_vmem *vm = &d->vm;
    h->granularity = ps == 8 ? 16 : 8;
    const seg_layout *lo = pick(ps, build);
    if (!lo) {
        snprintf(h->layout_name, sizeof h->layout_name, "segment heap (no layout)");
        snprintf(s->not_walked, sizeof s->not_walked,
                 "no public _SEGMENT_HEAP layout for build %u %s: not summarised, not walked",
                 build, ps == 8 ? "x64" : "x86");
        return;
    }
    snprintf(h->layout_name, sizeof h->layout_name, "segment heap %s (built-in)", lo->name);
    uint64_t v[4] = {0, 0, 0, 0}, lr = 0, lc = 0;
    ds_vmem_u32(vm, h->addr + lo->global_flags, &s->global_flags);
    if (lo->memstats < 0) {
        ds_vmem_ptr_sized(vm, h->addr + 0, ps, &v[0]);
        ds_vmem_ptr_sized(vm, h->addr + 8, ps, &v[1]);
    } else {
        for (unsigned i = 0; i < 4; i++)
            ds_vmem_ptr_sized(vm, h->addr + (uint64_t)lo->memstats + i * ps, ps, &v[i]);
    }
    ds_vmem_ptr_sized(vm, h->addr + lo->large_reserved, ps, &lr);
    ds_vmem_ptr_sized(vm, h->addr + lo->large_committed, ps, &lc);
    s->reserved = v[0] << 12;
    s->committed = v[1] << 12;
    s->free_committed = v[2] << 12;
    s->lfh_free_committed = v[3] << 12;
    s->large_reserved = lr << 12;
    s->large_committed = lc << 12;
    if (lo->seg_contexts) {
        for (unsigned i = 0; i < 2; i++)
            ds_vmem_u32(vm, h->addr + lo->seg_contexts + i * lo->seg_context_size + lo->seg_count,
                        &s->segment_count[i]);
    } else {
        ds_vmem_u32(vm, h->addr + lo->seg_count, &s->segment_count[0]);
    }
    snprintf(s->not_walked, sizeof s->not_walked,
             "summary from the heap's counters only; page segments, VS/LFH blocks and large "
             "blocks are not walked (their links and signatures are encoded with an ntdll key)");
}
