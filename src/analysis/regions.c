/* Region classifier: usage classes for `summary` and `regions` (see include/dumpsleuth/regions.h
 * and docs/commands/summary.md for how each class is decided). */
#include "dumpsleuth/regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "dumpsleuth/ntheap.h"

enum {
    PRIO_IMAGE = 10,
    PRIO_MAPPED = 12,
    PRIO_OTHER = 20,
    PRIO_HEAP = 30,
    PRIO_STACK = 40,
    PRIO_TEB = 50,
    PRIO_PLUGIN = 60
};

#define PAGE 0x1000ull

bool ds_classifier_mark(ds_classifier *c, const ds_mark *m)
{
    if (m->end <= m->start && !m->by_alloc)
        return true;
    return DS_PUSH(c->marks, c->n, c->cap, *m);
}

static void mark(ds_classifier *c, uint64_t start, uint64_t end, bool by_alloc, ds_usage u,
                 uint8_t bits, uint8_t prio, ds_detail_kind dk, uint64_t detail, const char *label)
{
    ds_mark m;
    memset(&m, 0, sizeof m);
    m.start = start;
    m.end = end;
    m.by_alloc = by_alloc;
    m.usage = (uint8_t)u;
    m.bits = bits;
    m.priority = prio;
    m.detail_kind = (uint8_t)dk;
    m.detail = detail;
    snprintf(m.label, sizeof m.label, "%s", label ? label : "");
    ds_classifier_mark(c, &m);
}

/* Marks the whole allocation that contains addr (all regions with its allocation base). */
static void mark_alloc_of(ds_dump *d, ds_classifier *c, uint64_t addr, ds_usage u, uint8_t bits,
                          uint8_t prio, ds_detail_kind dk, uint64_t detail, const char *label)
{
    const ds_region *r = ds_region_at(d, addr);
    /* image sections are Image, whatever points into them (Wine keeps activation contexts in
     * ntdll's resources) */
    if (!r || r->state == DS_MEM_FREE || r->type == DS_MEM_IMAGE)
        return;
    mark(c, r->alloc_base, r->alloc_base, true, u, bits, prio, dk, detail, label);
}

/* ---- Windows annotators ---- */

static void annotate_teb_peb(ds_dump *d, ds_classifier *c, ds_diags *diags)
{
    (void)diags;
    bool w = d->sys.wow64;
    uint64_t teb_size = d->sys.ptr_size == 8 ? 2 * PAGE : PAGE;
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        if (t->teb)
            mark(c, t->teb, t->teb + teb_size, false, DS_USE_TEB, w ? 64 : 0, PRIO_TEB,
                 DS_DETAIL_THREAD, i, NULL);
        if (t->teb32)
            mark(c, t->teb32, t->teb32 + PAGE, false, DS_USE_TEB, 32, PRIO_TEB, DS_DETAIL_THREAD, i,
                 NULL);
    }
    if (d->peb)
        mark(c, d->peb & ~(PAGE - 1), (d->peb & ~(PAGE - 1)) + PAGE, false, DS_USE_PEB, w ? 64 : 0,
             PRIO_TEB, DS_DETAIL_NONE, 0, NULL);
    if (d->peb32)
        mark(c, d->peb32 & ~(PAGE - 1), (d->peb32 & ~(PAGE - 1)) + PAGE, false, DS_USE_PEB, 32,
             PRIO_TEB, DS_DETAIL_NONE, 0, NULL);
}

static void stack_from_tib(ds_dump *d, ds_classifier *c, uint64_t teb, unsigned ps, uint8_t bits,
                           size_t ti)
{
    uint64_t base = 0, limit = 0;
    uint64_t off_base = ps == 8 ? 8 : 4, off_limit = ps == 8 ? 16 : 8;
    if (ds_vmem_ptr_sized(&d->vm, teb + off_base, ps, &base) != DS_MEM_OK ||
        ds_vmem_ptr_sized(&d->vm, teb + off_limit, ps, &limit) != DS_MEM_OK)
        return;
    if (!(base > limit) || base - limit > (1ull << 32))
        return;
    /* StackLimit is inside the committed part; the whole reservation shares its allocation base */
    mark_alloc_of(d, c, limit, DS_USE_STACK, bits, PRIO_STACK, DS_DETAIL_THREAD, ti, NULL);
    mark_alloc_of(d, c, base - 1, DS_USE_STACK, bits, PRIO_STACK, DS_DETAIL_THREAD, ti, NULL);
}

static void annotate_stacks_win(ds_dump *d, ds_classifier *c, ds_diags *diags)
{
    (void)diags;
    bool w = d->sys.wow64;
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        if (t->teb)
            stack_from_tib(d, c, t->teb, d->sys.ptr_size, w ? 64 : 0, i);
        if (t->teb32)
            stack_from_tib(d, c, t->teb32, 4, 32, i);
        /* the captured stack memory of the thread record: the same allocation */
        if (t->stack_size && !w)
            mark_alloc_of(d, c, t->stack_start, DS_USE_STACK, 0, PRIO_STACK - 1, DS_DETAIL_THREAD,
                          i, NULL);
    }
}

/* PEB offsets (nt-heap.md §1, identical W7..W11) */
typedef struct peb_off {
    uint32_t process_heap, nheaps, heaps, apiset, roshared, ansi, oem, ucase, gdi, actx, sysactx;
} peb_off;
static const peb_off PEB32_OFF = {0x18, 0x88, 0x90, 0x38,  0x4c, 0x58,
                                  0x5c, 0x60, 0x94, 0x1f8, 0x200};
static const peb_off PEB64_OFF = {0x30, 0xe8, 0xf0, 0x68,  0x88, 0xa0,
                                  0xa8, 0xb0, 0xf8, 0x2f8, 0x308};

/* Heaps: the NT-heap walker (src/heap) in lists-only mode. The heap's first allocation is Heap
 * whatever the heap turned out to be (Wine's heap, a segment heap); for a verified NT heap also
 * every segment (its allocation and its reserved span), every VirtualAllocdBlocks block and the
 * LFH front end's allocation (_LFH_HEAP and its subsegment zones). */
static void annotate_heaps(ds_dump *d, ds_classifier *c)
{
    ds_heap_set set;
    ds_heap_options opt = {.lists_only = true};
    ds_status st = ds_heaps_open(d, &opt, &set, NULL);
    if (st != DS_OK && st != DS_E_PARTIAL)
        return;
    bool w = d->sys.wow64;
    for (size_t i = 0; i < set.nheaps; i++) {
        const ds_heap *h = &set.heaps[i];
        uint8_t bits = h->bits == 32 && set.wow64 ? 32 : (w ? 64 : 0);
        mark_alloc_of(d, c, h->addr, DS_USE_HEAP, bits, PRIO_HEAP, DS_DETAIL_HEAP, h->addr, NULL);
        for (size_t b = 0; h->kind == DS_HEAP_SEGMENT && b < h->seg.nlarge; b++)
            mark_alloc_of(d, c, h->seg.large_blocks[b].addr, DS_USE_HEAP, bits, PRIO_HEAP,
                          DS_DETAIL_HEAP, h->addr, "segment heap large block");
        if (h->kind != DS_HEAP_NT)
            continue; /* not an NT heap we can verify (e.g. Wine's): only its first allocation */
        for (size_t s = 0; s < h->nsegments; s++) {
            const ds_heap_segment *sg = &h->segments[s];
            mark_alloc_of(d, c, sg->addr, DS_USE_HEAP, bits, PRIO_HEAP, DS_DETAIL_HEAP, h->addr,
                          NULL);
            if (sg->pages && sg->pages < (1u << 24))
                mark(c, sg->base, sg->base + (uint64_t)sg->pages * PAGE, false, DS_USE_HEAP, bits,
                     PRIO_HEAP, DS_DETAIL_HEAP, h->addr, NULL);
        }
        for (size_t v = 0; v < h->nvblocks; v++)
            mark_alloc_of(d, c, h->vblocks[v].addr, DS_USE_HEAP, bits, PRIO_HEAP, DS_DETAIL_HEAP,
                          h->addr, "VirtualAlloc block");
        if (h->lfh.present && h->lfh.frontend)
            mark_alloc_of(d, c, h->lfh.frontend, DS_USE_HEAP, bits, PRIO_HEAP, DS_DETAIL_HEAP,
                          h->addr, "LFH front end");
    }
    ds_heaps_close(&set);
}

static void annotate_peb_world(ds_dump *d, ds_classifier *c, uint64_t peb, unsigned ps,
                               uint8_t bits)
{
    const peb_off *o = ps == 8 ? &PEB64_OFF : &PEB32_OFF;
    static const struct {
        size_t field;
        const char *label;
    } other[] = {
        {offsetof(peb_off, apiset), "ApiSetMap"},
        {offsetof(peb_off, roshared), "ReadOnlySharedMemory"},
        {offsetof(peb_off, ansi), "NLS tables"},
        {offsetof(peb_off, oem), "NLS tables"},
        {offsetof(peb_off, ucase), "NLS tables"},
        {offsetof(peb_off, gdi), "GDI shared handle table"},
        {offsetof(peb_off, actx), "Activation context data"},
        {offsetof(peb_off, sysactx), "System default activation context data"},
    };
    uint8_t obits = bits == 32 ? 32 : 0;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        uint32_t off;
        memcpy(&off, (const char *)o + other[i].field, sizeof off);
        uint64_t p = 0;
        if (ds_vmem_ptr_sized(&d->vm, peb + off, ps, &p) == DS_MEM_OK && p)
            mark_alloc_of(d, c, p, DS_USE_OTHER, obits, PRIO_OTHER, DS_DETAIL_OTHER, 0,
                          other[i].label);
    }
}

static void annotate_win(ds_dump *d, ds_classifier *c, ds_diags *diags)
{
    annotate_teb_peb(d, c, diags);
    annotate_stacks_win(d, c, diags);
    bool w = d->sys.wow64;
    if (d->peb)
        annotate_peb_world(d, c, d->peb, d->sys.ptr_size, w ? 64 : 0);
    if (d->peb32)
        annotate_peb_world(d, c, d->peb32, 4, 32);
    annotate_heaps(d, c);
    /* KUSER_SHARED_DATA is at 0x7ffe0000 in every user-mode process */
    mark_alloc_of(d, c, 0x7ffe0000, DS_USE_OTHER, 0, PRIO_OTHER, DS_DETAIL_OTHER, 0,
                  "KUSER_SHARED_DATA");
    /* Images: by type, with the module that contains them */
    for (size_t i = 0; i < d->nregions; i++) {
        const ds_region *r = &d->regions[i];
        if (r->type == DS_MEM_IMAGE && r->state != DS_MEM_FREE) {
            const ds_module *m = ds_module_at(d, r->base);
            mark(c, r->base, r->base + r->size, false, DS_USE_IMAGE, 0, PRIO_IMAGE,
                 m ? DS_DETAIL_MODULE : DS_DETAIL_NONE, m ? (uint64_t)(m - d->modules) : 0, NULL);
        }
    }
}

/* ---- Linux annotators ---- */

static void annotate_linux(ds_dump *d, ds_classifier *c, ds_diags *diags)
{
    (void)diags;
    /* the main executable: the module that contains AT_ENTRY (or AT_PHDR) of the auxv */
    const ds_module *exe = NULL;
    for (size_t i = 0; i < d->lnx.nauxv && !exe; i++)
        if (d->lnx.auxv[i].type == 9 /* AT_ENTRY */ || d->lnx.auxv[i].type == 3 /* AT_PHDR */)
            exe = ds_module_at(d, d->lnx.auxv[i].value);
    uint64_t exe_end = 0;
    for (size_t i = 0; i < d->nregions; i++) {
        const ds_region *r = &d->regions[i];
        if (r->file < 0 || (size_t)r->file >= d->lnx.nfiles)
            continue;
        const ds_file_map *f = &d->lnx.files[r->file];
        const ds_module *m = NULL;
        for (size_t k = 0; k < d->nmodules && !m; k++)
            if (d->modules[k].path && f->path && strcmp(d->modules[k].path, f->path) == 0)
                m = &d->modules[k];
        if (m) {
            mark(c, r->base, r->base + r->size, false, DS_USE_IMAGE, 0, PRIO_IMAGE,
                 DS_DETAIL_MODULE, (uint64_t)(m - d->modules), NULL);
            if (exe && m->base == exe->base)
                exe_end = exe_end > r->base + r->size ? exe_end : r->base + r->size;
        } else {
            mark(c, r->base, r->base + r->size, false, DS_USE_MAPPED, 0, PRIO_MAPPED,
                 DS_DETAIL_FILE, (uint64_t)r->file, NULL);
        }
    }
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_region *r = d->threads[i].sp ? ds_region_at(d, d->threads[i].sp) : NULL;
        if (r)
            mark(c, r->base, r->base + r->size, false, DS_USE_STACK, 0, PRIO_STACK,
                 DS_DETAIL_THREAD, i, NULL);
    }
    /* The brk heap: anonymous writable memory starting within the kernel's brk randomisation
     * window after the end of the main executable's mappings (arch_randomize_brk: 1 GiB for
     * 64-bit processes on x86-64 and arm64, 32 MiB for 32-bit ones). */
    uint64_t window = d->sys.ptr_size == 4 ? 0x2000000ull : 0x40000000ull;
    if (exe_end) {
        for (size_t i = 0; i < d->nregions; i++) {
            const ds_region *r = &d->regions[i];
            if (r->file < 0 && (r->perm & 2) && r->base >= exe_end && r->base - exe_end < window) {
                mark(c, r->base, r->base + r->size, false, DS_USE_HEAP, 0, PRIO_HEAP,
                     DS_DETAIL_OTHER, 0, "brk heap");
                break;
            }
        }
    }
}

/* ---- classification ---- */

static int cmp_mark(const void *a, const void *b)
{
    const ds_mark *x = a, *y = b;
    if (x->by_alloc != y->by_alloc)
        return x->by_alloc ? 1 : -1; /* range marks first, then allocation marks */
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return 0;
}

typedef struct span_ctx {
    const ds_mark *range; /* sorted range marks (prefix of the classifier's marks) */
    size_t nrange;
    uint64_t maxlen;
    const ds_mark *alloc; /* sorted allocation marks (the rest) */
    size_t nalloc;
} span_ctx;

static const ds_mark *best_alloc(const span_ctx *s, uint64_t alloc_base)
{
    size_t lo = 0, hi = s->nalloc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->alloc[mid].start < alloc_base)
            lo = mid + 1;
        else
            hi = mid;
    }
    const ds_mark *best = NULL;
    for (size_t i = lo; i < s->nalloc && s->alloc[i].start == alloc_base; i++)
        if (!best || s->alloc[i].priority > best->priority)
            best = &s->alloc[i];
    return best;
}

static size_t first_range_candidate(const span_ctx *s, uint64_t base)
{
    uint64_t from = base > s->maxlen ? base - s->maxlen : 0;
    size_t lo = 0, hi = s->nrange;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->range[mid].start < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool push_piece(ds_region_map *m, size_t *cap, const ds_region *r, uint64_t base,
                       uint64_t size, const ds_mark *mk, bool new_alloc)
{
    ds_class_region cr;
    memset(&cr, 0, sizeof cr);
    cr.r = r;
    cr.base = base;
    cr.size = size;
    cr.new_alloc = new_alloc;
    if (r->state == DS_MEM_FREE) {
        cr.usage = DS_USE_FREE;
    } else if (mk) {
        cr.usage = mk->usage;
        cr.bits = mk->bits;
        cr.detail_kind = mk->detail_kind;
        cr.detail = mk->detail;
        cr.mark = (uint32_t)(mk - m->cls.marks) + 1;
    } else {
        cr.usage = r->type == DS_MEM_IMAGE ? DS_USE_IMAGE : DS_USE_UNKNOWN;
    }
    return DS_PUSH(m->v, m->n, *cap, cr);
}

const char *ds_class_label(const ds_region_map *m, const ds_class_region *cr)
{
    if (!cr->mark || cr->mark > m->cls.n)
        return "";
    return m->cls.marks[cr->mark - 1].label;
}

ds_status ds_regions_classify(ds_dump *d, const ds_annotator *extra, size_t nextra,
                              ds_region_map *out, ds_diags *diags)
{
    memset(out, 0, sizeof *out);
    out->cls.dump = d;
    if (!d->has_region_table) {
        out->partial = true;
        snprintf(out->partial_reason, sizeof out->partial_reason,
                 "the dump has no region table (no MemoryInfoList): regions are the captured "
                 "memory ranges only; free and reserved memory are unknown");
    }
    if (d->sys.os == DS_OS_WINDOWS)
        annotate_win(d, &out->cls, diags);
    else if (d->sys.os == DS_OS_LINUX || d->sys.os == DS_OS_ANDROID)
        annotate_linux(d, &out->cls, diags);
    for (size_t i = 0; i < nextra; i++)
        extra[i].fn(d, &out->cls, diags, extra[i].ctx);

    if (out->cls.n)
        qsort(out->cls.marks, out->cls.n, sizeof(ds_mark), cmp_mark);
    span_ctx s;
    memset(&s, 0, sizeof s);
    s.range = out->cls.marks;
    while (s.nrange < out->cls.n && !out->cls.marks[s.nrange].by_alloc) {
        const ds_mark *mk = &out->cls.marks[s.nrange++];
        if (mk->end - mk->start > s.maxlen)
            s.maxlen = mk->end - mk->start;
    }
    s.alloc = out->cls.marks + s.nrange;
    s.nalloc = out->cls.n - s.nrange;

    /* Without a region table, summarise the captured ranges of the memory view. */
    const ds_region *regs = d->regions;
    size_t nregs = d->nregions;
    if (!d->has_region_table) {
        size_t cap = 0;
        for (size_t i = 0; i < d->vm.n; i++) {
            const ds_range *r = &d->vm.ranges[i];
            if (r->kind != DS_RANGE_DATA)
                continue;
            ds_region g;
            memset(&g, 0, sizeof g);
            g.base = g.alloc_base = r->va;
            g.size = r->size;
            g.state = DS_MEM_COMMIT;
            g.file = -1;
            g.captured = r->size;
            if (!DS_PUSH(out->synth, out->nsynth, cap, g))
                goto oom;
        }
        regs = out->synth;
        nregs = out->nsynth;
    }

    size_t cap = 0;
    uint64_t prev_alloc = UINT64_MAX;
    for (size_t i = 0; i < nregs; i++) {
        const ds_region *r = &regs[i];
        if (r->state == DS_MEM_FREE) {
            if (!push_piece(out, &cap, r, r->base, r->size, NULL, false))
                goto oom;
            continue;
        }
        bool new_alloc = r->alloc_base != prev_alloc;
        prev_alloc = r->alloc_base;
        const ds_mark *am = best_alloc(&s, r->alloc_base);
        /* Cut the region at the boundaries of range marks that overlap it (WinDbg shows a TEB
         * or a heap segment as its own region even inside one VirtualQuery region). */
        uint64_t cur = r->base, end = r->base + r->size;
        size_t k0 = first_range_candidate(&s, r->base);
        while (cur < end) {
            const ds_mark *best = am;
            uint64_t next = end;
            for (size_t k = k0; k < s.nrange && s.range[k].start < end; k++) {
                const ds_mark *mk = &s.range[k];
                if (mk->end <= cur)
                    continue;
                if (mk->start > cur) {
                    if (mk->start < next)
                        next = mk->start;
                    continue;
                }
                if (mk->end < next)
                    next = mk->end;
                if (!best || mk->priority > best->priority)
                    best = mk;
            }
            if (!push_piece(out, &cap, r, cur, next - cur, best, new_alloc && cur == r->base))
                goto oom;
            cur = next;
        }
    }
    return DS_OK;
oom:
    ds_region_map_free(out);
    return DS_E_NOMEM;
}

void ds_region_map_free(ds_region_map *m)
{
    free(m->v);
    free(m->cls.marks);
    free(m->synth);
    memset(m, 0, sizeof *m);
}

/* ---- summary ---- */

static int cmp_usage_row(const void *a, const void *b)
{
    const ds_usage_row *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->usage != y->usage ? (x->usage < y->usage ? -1 : 1) : (x->bits < y->bits ? -1 : 1);
}

static int cmp_count_row(const void *a, const void *b)
{
    const ds_count_row *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->key < y->key ? -1 : (x->key > y->key ? 1 : 0);
}

/* Bytes of [base, base+size) that the view has no data for. */
static uint64_t bytes_not_captured(const ds_vmem *vm, uint64_t base, uint64_t size)
{
    uint64_t have = 0, end = base + size;
    for (const ds_range *r = ds_vmem_next(vm, base); r && r->va < end; r++) {
        if (r >= vm->ranges + vm->n)
            break;
        if (r->kind == DS_RANGE_NOT_CAPTURED)
            continue;
        uint64_t a = r->va > base ? r->va : base;
        uint64_t b = r->va + r->size < end ? r->va + r->size : end;
        if (b > a)
            have += b - a;
    }
    return size - have;
}

ds_status ds_regions_summarize(const ds_dump *d, const ds_region_map *m, ds_region_summary *out)
{
    memset(out, 0, sizeof *out);
    out->partial = m->partial;
    snprintf(out->partial_reason, sizeof out->partial_reason, "%s", m->partial_reason);
    out->ptr_size = d->sys.wow64 ? 4 : (d->sys.ptr_size ? d->sys.ptr_size : 8);
    /* WoW64: like WinDbg in x86 mode, the summary covers the 32-bit address space */
    uint64_t limit = d->sys.wow64 ? (1ull << 32) : UINT64_MAX;
    out->limit = limit;
    out->type[0].key = DS_MEM_PRIVATE;
    out->type[1].key = DS_MEM_IMAGE;
    out->type[2].key = DS_MEM_MAPPED;
    out->state[0].key = DS_MEM_COMMIT;
    out->state[1].key = DS_MEM_RESERVE;
    out->state[2].key = DS_MEM_FREE;
    size_t ucap = 0, pcap = 0;
    for (size_t i = 0; i < m->n; i++) {
        const ds_class_region *cr = &m->v[i];
        if (cr->base >= limit)
            continue;
        uint64_t size = cr->size;
        if (size > limit - cr->base)
            size = limit - cr->base;
        out->total += size;
        if (cr->usage != DS_USE_FREE)
            out->busy += size;
        size_t k = 0;
        while (k < out->nusage &&
               !(out->usage[k].usage == cr->usage && out->usage[k].bits == cr->bits))
            k++;
        if (k == out->nusage) {
            ds_usage_row row;
            memset(&row, 0, sizeof row);
            row.usage = cr->usage;
            row.bits = cr->bits;
            if (!DS_PUSH(out->usage, out->nusage, ucap, row))
                goto oom;
        }
        ds_usage_row *u = &out->usage[k];
        u->count++;
        u->size += size;
        if (size > u->largest_size) {
            u->largest_size = size;
            u->largest_base = cr->base;
        }
        for (int t = 0; t < 3; t++) {
            if (cr->usage != DS_USE_FREE && cr->r->type == out->type[t].key) {
                out->type[t].count++;
                out->type[t].size += size;
            }
            if (cr->r->state == out->state[t].key) {
                out->state[t].count++;
                out->state[t].size += size;
            }
        }
        if (cr->r->state == DS_MEM_COMMIT) {
            uint64_t missing = bytes_not_captured(&((ds_dump *)d)->vm, cr->base, size);
            if (missing) {
                out->not_captured_regions++;
                out->not_captured_bytes += missing;
            }
            size_t p = 0;
            while (p < out->nprotect && out->protect[p].key != cr->r->protect)
                p++;
            if (p == out->nprotect) {
                ds_count_row row = {cr->r->protect, 0, 0};
                if (!DS_PUSH(out->protect, out->nprotect, pcap, row))
                    goto oom;
            }
            out->protect[p].count++;
            out->protect[p].size += size;
        }
    }
    if (out->nusage)
        qsort(out->usage, out->nusage, sizeof *out->usage, cmp_usage_row);
    if (out->nprotect)
        qsort(out->protect, out->nprotect, sizeof *out->protect, cmp_count_row);
    qsort(out->type, 3, sizeof out->type[0], cmp_count_row);
    return DS_OK;
oom:
    ds_region_summary_free(out);
    return DS_E_NOMEM;
}

void ds_region_summary_free(ds_region_summary *s)
{
    free(s->usage);
    free(s->protect);
    memset(s, 0, sizeof *s);
}

/* ---- names ---- */

const char *ds_usage_name(ds_usage u)
{
    static const char *n[DS_USE_COUNT] = {"Free",       "<unknown>", "Image",       "Heap",
                                          "Stack",      "TEB",       "PEB",         "Other",
                                          "MappedFile", "GC heap",   "GC reserved", "CLR other"};
    return (unsigned)u < DS_USE_COUNT ? n[u] : "?";
}

const char *ds_usage_label(uint8_t usage, uint8_t bits, char *buf)
{
    const char *n = ds_usage_name((ds_usage)usage);
    if (bits == 32 || bits == 64)
        snprintf(buf, 24, "%s%u", n, (unsigned)bits);
    else
        snprintf(buf, 24, "%s", n);
    return buf;
}

const char *ds_mem_state_name(uint32_t state)
{
    switch (state) {
    case DS_MEM_COMMIT:
        return "MEM_COMMIT";
    case DS_MEM_RESERVE:
        return "MEM_RESERVE";
    case DS_MEM_FREE:
        return "MEM_FREE";
    }
    return "MEM_?";
}

const char *ds_mem_type_name(uint32_t type)
{
    switch (type) {
    case DS_MEM_PRIVATE:
        return "MEM_PRIVATE";
    case DS_MEM_MAPPED:
        return "MEM_MAPPED";
    case DS_MEM_IMAGE:
        return "MEM_IMAGE";
    case 0:
        return "";
    }
    return "MEM_?";
}

const char *ds_protect_name(uint32_t protect, char *buf)
{
    static const struct {
        uint32_t v;
        const char *n;
    } base[] = {{0x01, "PAGE_NOACCESS"},          {0x02, "PAGE_READONLY"},
                {0x04, "PAGE_READWRITE"},         {0x08, "PAGE_WRITECOPY"},
                {0x10, "PAGE_EXECUTE"},           {0x20, "PAGE_EXECUTE_READ"},
                {0x40, "PAGE_EXECUTE_READWRITE"}, {0x80, "PAGE_EXECUTE_WRITECOPY"}};
    const char *b = NULL;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if ((protect & 0xff) == base[i].v)
            b = base[i].n;
    if (!b) {
        if (protect)
            snprintf(buf, 64, "0x%x", protect);
        else
            buf[0] = 0;
        return buf;
    }
    snprintf(buf, 64, "%s%s%s%s", b, (protect & 0x100) ? " | PAGE_GUARD" : "",
             (protect & 0x200) ? " | PAGE_NOCACHE" : "",
             (protect & 0x400) ? " | PAGE_WRITECOMBINE" : "");
    return buf;
}

/* ---- filters and histograms ---- */

static bool word_eq(const char *a, size_t n, const char *b)
{
    return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

bool ds_region_filter_parse(const char *spec, ds_region_filter *f, char *err, size_t errsz)
{
    static const struct {
        const char *w;
        int group; /* 0 usage 1 type 2 state 3 protect */
        uint32_t v;
        uint8_t bits;
    } words[] = {
        {"Unk", 0, DS_USE_UNKNOWN, 0},
        {"VAR", 0, DS_USE_UNKNOWN, 0},
        {"<unknown>", 0, DS_USE_UNKNOWN, 0},
        {"unknown", 0, DS_USE_UNKNOWN, 0},
        {"Free", 0, DS_USE_FREE, 0},
        {"Image", 0, DS_USE_IMAGE, 0},
        {"Heap", 0, DS_USE_HEAP, 0},
        {"Heap32", 0, DS_USE_HEAP, 32},
        {"Heap64", 0, DS_USE_HEAP, 64},
        {"Stack", 0, DS_USE_STACK, 0},
        {"Stack32", 0, DS_USE_STACK, 32},
        {"Stack64", 0, DS_USE_STACK, 64},
        {"Teb", 0, DS_USE_TEB, 0},
        {"Teb32", 0, DS_USE_TEB, 32},
        {"Teb64", 0, DS_USE_TEB, 64},
        {"Peb", 0, DS_USE_PEB, 0},
        {"Peb32", 0, DS_USE_PEB, 32},
        {"Peb64", 0, DS_USE_PEB, 64},
        {"Other", 0, DS_USE_OTHER, 0},
        {"NLS", 0, DS_USE_OTHER, 0},
        {"CSR", 0, DS_USE_OTHER, 0},
        {"Actx", 0, DS_USE_OTHER, 0},
        {"FileMap", 0, DS_USE_MAPPED, 0},
        {"MappedFile", 0, DS_USE_MAPPED, 0},
        {"GC", 0, DS_USE_GC_COMMITTED, 0},
        {"MEM_PRIVATE", 1, 1, 0},
        {"MEM_MAPPED", 1, 2, 0},
        {"MEM_IMAGE", 1, 4, 0},
        {"MEM_COMMIT", 2, 1, 0},
        {"MEM_RESERVE", 2, 2, 0},
        {"MEM_FREE", 2, 4, 0},
        {"PAGE_NOACCESS", 3, 0x01, 0},
        {"PAGE_READONLY", 3, 0x02, 0},
        {"PAGE_READWRITE", 3, 0x04, 0},
        {"PAGE_WRITECOPY", 3, 0x08, 0},
        {"PAGE_EXECUTE", 3, 0x10, 0},
        {"PAGE_EXECUTE_READ", 3, 0x20, 0},
        {"PAGE_EXECUTE_READWRITE", 3, 0x40, 0},
        {"PAGE_EXECUTE_WRITECOPY", 3, 0x80, 0},
    };
    const char *p = spec;
    while (p && *p) {
        const char *e = p;
        while (*e && *e != ',' && *e != ';')
            e++;
        size_t n = (size_t)(e - p);
        while (n && (*p == ' ')) {
            p++;
            n--;
        }
        bool ok = n == 0;
        for (size_t i = 0; !ok && i < sizeof words / sizeof words[0]; i++) {
            if (!word_eq(p, n, words[i].w))
                continue;
            ok = true;
            switch (words[i].group) {
            case 0:
                f->usage_mask |= 1u << words[i].v;
                if (words[i].bits)
                    f->bits = words[i].bits;
                if (words[i].v == DS_USE_GC_COMMITTED)
                    f->usage_mask |= 1u << DS_USE_GC_RESERVED;
                break;
            case 1:
                f->type_mask |= words[i].v;
                break;
            case 2:
                f->state_mask |= words[i].v;
                break;
            default:
                if (f->nprotect < sizeof f->protect / sizeof f->protect[0])
                    f->protect[f->nprotect++] = words[i].v;
                break;
            }
        }
        if (!ok) {
            snprintf(err, errsz, "unknown filter word '%.*s'", (int)(n > 40 ? 40 : n), p);
            return false;
        }
        p = *e ? e + 1 : e;
    }
    return true;
}

bool ds_region_filter_match(const ds_region_filter *f, const ds_class_region *cr)
{
    if (f->usage_mask && !(f->usage_mask & (1u << cr->usage)))
        return false;
    if (f->bits && cr->bits && cr->bits != f->bits)
        return false;
    if (f->type_mask) {
        uint32_t t = cr->r->type == DS_MEM_PRIVATE  ? 1
                     : cr->r->type == DS_MEM_MAPPED ? 2
                     : cr->r->type == DS_MEM_IMAGE  ? 4
                                                    : 0;
        if (!(f->type_mask & t))
            return false;
    }
    if (f->state_mask) {
        uint32_t s = cr->r->state == DS_MEM_COMMIT    ? 1
                     : cr->r->state == DS_MEM_RESERVE ? 2
                     : cr->r->state == DS_MEM_FREE    ? 4
                                                      : 0;
        if (!(f->state_mask & s))
            return false;
    }
    if (f->nprotect) {
        bool any = false;
        for (size_t i = 0; i < f->nprotect; i++)
            any |= (cr->r->protect & 0xff) == f->protect[i];
        if (!any)
            return false;
    }
    if (cr->size < f->min_size || (f->max_size && cr->size > f->max_size))
        return false;
    if (f->exact_size && cr->size != f->exact_size)
        return false;
    return true;
}

static int cmp_hist(const void *a, const void *b)
{
    const ds_hist_row *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->key < y->key ? -1 : (x->key > y->key ? 1 : 0);
}

static int cmp_u64pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : (x[0] > y[0] ? 1 : 0);
}

ds_status ds_regions_histogram(const ds_region_map *m, const ds_region_filter *f, ds_hist_kind k,
                               ds_hist_row **rows, size_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    /* (key, size, base) triples, sorted by key, then folded */
    uint64_t *kv = malloc((m->n + 1) * 3 * sizeof(uint64_t));
    if (!kv)
        return DS_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        const ds_class_region *cr = &m->v[i];
        if (f && !ds_region_filter_match(f, cr))
            continue;
        uint64_t key = cr->size, size = cr->size, base = cr->base;
        if (k == DS_HIST_USAGE) {
            key = cr->usage | ((uint64_t)cr->bits << 8);
        } else if (k == DS_HIST_ALLOCATION) {
            if (cr->usage == DS_USE_FREE)
                continue;
            key = cr->r->alloc_base; /* first pass: group by allocation base */
        }
        kv[3 * n] = key;
        kv[3 * n + 1] = size;
        kv[3 * n + 2] = base;
        n++;
    }
    qsort(kv, n, 3 * sizeof(uint64_t), cmp_u64pair);
    if (k == DS_HIST_ALLOCATION) { /* fold into allocations, then key by allocation size */
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (o && kv[3 * (o - 1) + 2] == kv[3 * i]) {
                kv[3 * (o - 1) + 1] += kv[3 * i + 1];
                continue;
            }
            uint64_t abase = kv[3 * i], sz = kv[3 * i + 1];
            kv[3 * o] = sz; /* key: replaced by the final size below */
            kv[3 * o + 1] = sz;
            kv[3 * o + 2] = abase; /* allocation base (also the example address) */
            o++;
        }
        for (size_t i = 0; i < o; i++)
            kv[3 * i] = kv[3 * i + 1];
        n = o;
        qsort(kv, n, 3 * sizeof(uint64_t), cmp_u64pair);
    }
    ds_hist_row *out = NULL;
    size_t no = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (no && out[no - 1].key == kv[3 * i]) {
            out[no - 1].count++;
            out[no - 1].total += kv[3 * i + 1];
            if (kv[3 * i + 2] < out[no - 1].first_base)
                out[no - 1].first_base = kv[3 * i + 2];
            continue;
        }
        ds_hist_row r = {kv[3 * i], 1, kv[3 * i + 1], kv[3 * i + 2]};
        if (!DS_PUSH(out, no, cap, r)) {
            free(out);
            free(kv);
            return DS_E_NOMEM;
        }
    }
    free(kv);
    if (no)
        qsort(out, no, sizeof *out, cmp_hist);
    *rows = out;
    *nrows = no;
    return DS_OK;
}
