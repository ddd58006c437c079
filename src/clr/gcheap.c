/* dumpsleuth: the CoreCLR GC heap from GcDacVars: generations, segments, the object walk,
 * MethodTable validation, per-type statistics and the finalization queue.
 *
 * Hostile input: every read goes through the memory view, every MethodTable is validated before
 * its sizes are used, every chain and walk is bounded, a bad object is reported and the walk
 * resynchronises on the next word that is a valid MethodTable whose object fits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"

#define MAX_SEGMENTS 4096u
#define MAX_BAD_KEPT 64u
#define MAX_BASE_SIZE (16u << 20)
#define MAX_PARENT_DEPTH 64
#define MAX_FQ_ENTRIES (64ull << 20)

/* ---- MethodTable cache (open addressing, mt -> entry) ---- */

clr_mt_entry *clr_mt_lookup(ds_clr_heap *h, uint64_t mt, bool create)
{
    clr_priv *p = h->priv;
    if (!p || !mt)
        return NULL;
    if (create && (p->n + 1) * 2 > p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 1024;
        clr_mt_entry *nv = calloc(ncap, sizeof *nv);
        if (!nv)
            return NULL;
        for (size_t i = 0; i < p->cap; i++)
            if (p->v[i].mt) {
                size_t j = (size_t)(p->v[i].mt * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
                while (nv[j].mt)
                    j = (j + 1) & (ncap - 1);
                nv[j] = p->v[i];
            }
        free(p->v);
        p->v = nv;
        p->cap = ncap;
    }
    if (!p->cap)
        return NULL;
    size_t j = (size_t)(mt * 0x9E3779B97F4A7C15ull >> 20) & (p->cap - 1);
    while (p->v[j].mt) {
        if (p->v[j].mt == mt)
            return &p->v[j];
        j = (j + 1) & (p->cap - 1);
    }
    if (!create)
        return NULL;
    p->v[j].mt = mt;
    p->n++;
    return &p->v[j];
}

static bool readable_ptr(ds_clr_heap *h, uint64_t p)
{
    uint64_t v;
    return p && !(p % h->ptr) && ds_vmem_ptr_sized(&h->dump->vm, p, h->ptr, &v) == DS_MEM_OK;
}

bool clr_read_mt(ds_clr_heap *h, uint64_t mt, clr_mt_raw *r)
{
    unsigned P = h->ptr;
    uint8_t b[0x40];
    size_t n = P == 8 ? 0x40 : 0x28;
    if (!mt || mt % P || ds_vmem_read(&h->dump->vm, mt, b, n, NULL) != DS_MEM_OK)
        return false;
    memset(r, 0, sizeof *r);
    memcpy(&r->flags, b, 4);
    memcpy(&r->base_size, b + 4, 4);
    memcpy(&r->flags2, b + 8, 2);
    memcpy(&r->token, b + 10, 2);
    memcpy(&r->num_virtuals, b + 12, 2);
    memcpy(&r->num_interfaces, b + 14, 2);
    uint64_t f[6] = {0};
    for (int i = 0; i < 6; i++)
        memcpy(&f[i], b + 16 + (size_t)i * P, P);
    r->parent = f[0];
    r->loader_module = f[1];
    /* CoreCLR 2.1+: RelativePointer<PTR_Module> m_pLoaderModule (target = &field + value) */
    uint64_t field = mt + 16 + P;
    uint64_t rel = f[1] ? (field + f[1]) & (P == 8 ? ~0ull : 0xffffffffull) : 0;
    if (h->loader_rel == 1)
        r->loader_module = rel;
    else if (h->loader_rel < 0 && f[1] && !readable_ptr(h, f[1]) && readable_ptr(h, rel))
        r->loader_module = rel;
    r->writeable = f[2];
    r->eeclass_or_canon = f[3];
    r->per_inst_or_elem = f[4];
    r->interface_map = f[5];
    return true;
}

static bool validate_mt(ds_clr_heap *h, uint64_t mt, clr_mt_entry *e)
{
    clr_mt_raw r;
    unsigned P = h->ptr;
    if (!clr_read_mt(h, mt, &r)) {
        snprintf(e->why, sizeof e->why, "MethodTable unreadable");
        return false;
    }
    if (r.flags == 0x80000001u && r.base_size == 3 * P && !r.parent && !r.loader_module &&
        !r.eeclass_or_canon && !r.flags2 && !r.token) {
        e->is_free = true;
        e->base_size = r.base_size;
        e->comp_size = 1;
        return true;
    }
    e->is_interface = (r.flags & 0x000F0000u) == 0x000C0000u;
    /* objects are at least 3 pointers; types with a component size report their fixed part,
     * which for String from CoreCLR 3.0 on is below that (22 on x64: header, MT, length,
     * terminator; the size is raised to min_obj_size when stepping) */
    uint32_t min_bs = (r.flags & 0x80000000u) ? 2 * P + 4 : 3 * P;
    if ((!e->is_interface && r.base_size < min_bs) || r.base_size > MAX_BASE_SIZE) {
        snprintf(e->why, sizeof e->why, "BaseSize %u implausible", r.base_size);
        return false;
    }
    e->comp_size = (r.flags & 0x80000000u) ? (r.flags & 0xffffu) : 0;
    if ((r.flags & 0x80000000u) && !e->comp_size) {
        snprintf(e->why, sizeof e->why, "component size 0");
        return false;
    }
    if (!readable_ptr(h, r.loader_module)) {
        snprintf(e->why, sizeof e->why, "loader module 0x%llx unreadable",
                 (unsigned long long)r.loader_module);
        return false;
    }
    uint64_t cls = r.eeclass_or_canon & ~(uint64_t)3;
    if (!readable_ptr(h, cls)) {
        snprintf(e->why, sizeof e->why, "EEClass/canonical MT 0x%llx unreadable",
                 (unsigned long long)r.eeclass_or_canon);
        return false;
    }
    /* parent chain: ends at System.Object (parent 0) within MAX_PARENT_DEPTH */
    uint64_t par = r.parent;
    uint32_t fl = r.flags;
    int depth = 0;
    while (par && depth < MAX_PARENT_DEPTH) {
        if (fl & 0x00800000u) { /* indirect parent */
            uint64_t q;
            if (ds_vmem_ptr_sized(&h->dump->vm, par, P, &q) != DS_MEM_OK)
                break;
            par = q;
            if (!par)
                break;
        }
        clr_mt_raw pr;
        if (!clr_read_mt(h, par, &pr) || pr.base_size > MAX_BASE_SIZE) {
            snprintf(e->why, sizeof e->why, "parent MethodTable 0x%llx invalid",
                     (unsigned long long)par);
            return false;
        }
        par = pr.parent;
        fl = pr.flags;
        depth++;
    }
    if (par) {
        snprintf(e->why, sizeof e->why, "parent chain deeper than %d", MAX_PARENT_DEPTH);
        return false;
    }
    e->base_size = r.base_size;
    e->raw = r;
    return true;
}

bool ds_clr_mt_check(ds_clr_heap *h, uint64_t mt, uint32_t *base_size, uint32_t *comp_size,
                     bool *is_free)
{
    clr_mt_entry *e = clr_mt_lookup(h, mt, true);
    clr_mt_entry tmp;
    if (!e) {
        memset(&tmp, 0, sizeof tmp);
        e = &tmp;
    }
    if (!e->state)
        e->state = validate_mt(h, mt, e) ? 1 : 2;
    if (e->state != 1)
        return false;
    if (base_size)
        *base_size = e->base_size;
    if (comp_size)
        *comp_size = e->comp_size;
    if (is_free)
        *is_free = e->is_free;
    return true;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Object size as SOS reports it: BaseSize + ComponentSize * count, unaligned (SOS's dumpheap
 * prints e.g. 26 for an empty string's array and odd totals). 0 when unreadable or invalid. */
uint64_t ds_clr_object_size(ds_clr_heap *h, uint64_t addr, uint64_t mt, bool loh)
{
    (void)loh;
    uint32_t bs, cs;
    bool fr;
    if (!ds_clr_mt_check(h, mt, &bs, &cs, &fr))
        return 0;
    clr_mt_entry *e = clr_mt_lookup(h, mt, false);
    if (e && e->is_interface)
        return 0; /* never the type of an object */
    uint64_t size = bs;
    if (cs) {
        uint32_t count;
        if (ds_vmem_u32(&h->dump->vm, addr + h->ptr, &count) != DS_MEM_OK)
            return 0;
        size += (uint64_t)cs * count;
    }
    return size;
}

/* SOS (through the DAC) reports a free object's size 2 bytes short: the DAC's
 * GetMethodTableData treats the free MethodTable (component size, not an array) like String and
 * subtracts sizeof(WCHAR) from its BaseSize; on 64-bit SOS pads sizes to min_obj. Measured on the
 * Linux core against its SOS oracle (Free row 662,084 = raw 672,552 - 2 x 5,234 objects > 24). */
uint64_t ds_clr_free_size_sos(const ds_clr_heap *h, uint64_t raw)
{
    uint64_t s = raw >= 2 ? raw - 2 : raw;
    if (h->ptr == 8 && s < h->min_obj)
        s = h->min_obj;
    return s;
}

/* The space the object takes: at least min_obj, aligned to the pointer size (SOH) or 8 (LOH). */
uint64_t ds_clr_object_step(const ds_clr_heap *h, uint64_t size, bool loh)
{
    if (size < h->min_obj)
        size = h->min_obj;
    return align_up(size, loh ? 8 : h->ptr);
}

/* ---- heap discovery ---- */

static bool rdp(ds_clr_heap *h, uint64_t va, uint64_t *out)
{
    return ds_vmem_ptr_sized(&h->dump->vm, va, h->ptr, out) == DS_MEM_OK;
}

static bool read_segment(ds_clr_heap *h, uint64_t a, ds_clr_segment *s)
{
    unsigned P = h->ptr;
    uint64_t f[7];
    for (int i = 0; i < 7; i++)
        if (!rdp(h, a + (uint64_t)i * P, &f[i]))
            return false;
    memset(s, 0, sizeof *s);
    s->addr = a;
    s->allocated = f[0];
    s->committed = f[1];
    s->reserved = f[2];
    s->used = f[3];
    s->mem = f[4];
    s->flags = f[5];
    s->next = f[6];
    /* header at the reserved base; mem just after it; allocated <= committed <= reserved end */
    if (s->mem <= a || s->mem - a > 0x10000 || s->allocated < s->mem ||
        s->committed < s->allocated || s->reserved < s->committed || s->reserved - a > (1ull << 40))
        return false;
    return true;
}

static bool read_generation(ds_clr_heap *h, uint64_t entry, uint64_t ctx, ds_clr_generation *g)
{
    return rdp(h, entry, &g->alloc_ptr) && rdp(h, entry + h->ptr, &g->alloc_limit) &&
           rdp(h, entry + ctx, &g->start_segment) &&
           rdp(h, entry + ctx + h->ptr, &g->allocation_start);
}

static ds_status read_wks(ds_clr_heap *h, ds_diags *diags)
{
    ds_clr_runtime *rt = &h->rt;
    ds_clr_gcheap *gh = calloc(1, sizeof *gh);
    if (!gh)
        return DS_E_NOMEM;
    h->heaps = gh;
    h->nheaps = 1;
    if (!rdp(h, rt->v[DS_GCDV_ALLOC_ALLOCATED], &gh->alloc_allocated) ||
        !rdp(h, rt->v[DS_GCDV_EPHEMERAL_HEAP_SEGMENT], &gh->ephemeral_segment) ||
        !rdp(h, rt->v[DS_GCDV_FINALIZE_QUEUE], &gh->finalize_queue)) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "gc_heap", rt->gcdacvars,
                         "workstation GC globals unreadable");
        return DS_E_PARTIAL;
    }
    /* gc_alloc_context size: 56 on x64; on x86 40 (MSVC, i64 aligned) or 36 (gcc). Calibrated by
     * which one makes gen2's start_segment a valid heap_segment. */
    uint64_t ctxs[3] = {h->ptr == 8 ? 56u : 40u, h->ptr == 8 ? 56u : 36u, 0};
    uint64_t gt = rt->v[DS_GCDV_GENERATION_TABLE];
    for (int c = 0; ctxs[c]; c++) {
        ds_clr_generation g2;
        ds_clr_segment s;
        if (read_generation(h, gt + 2 * rt->generation_size, ctxs[c], &g2) &&
            read_segment(h, g2.start_segment, &s)) {
            h->gen_ctx_size = ctxs[c];
            break;
        }
    }
    if (!h->gen_ctx_size) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "generation_table", gt,
                         "gen2 start segment is not a valid heap_segment");
        return DS_E_PARTIAL;
    }
    gh->ngen = 4; /* 2.x: gen0..2 + LOH (the table has 5 entries, the 5th unused) */
    for (unsigned i = 0; i < gh->ngen; i++)
        read_generation(h, gt + i * rt->generation_size, h->gen_ctx_size, &gh->gen[i]);
    return DS_OK;
}

/* Server GC (CoreCLR 2.x/3.x): SVR::gc_heap::g_heaps[0..n_heaps), each gc_heap starting with the
 * fields of the DAC's mirror class dac_gc_heap (gcinterface.dac.h; gcpriv.h static_asserts that the
 * offsets match): alloc_allocated @0, ephemeral_heap_segment @P, finalize_queue @2P, oom_info @3P
 * (9 words), 28 words of per-heap statistics arrays, internal_root_array,
 * internal_root_array_index, BOOL heap_analyze_success, then generation_table[] at the next
 * alignment of dac_generation: 42 P + 4 rounded up = 0x158 on x64. x86: 0xB0 (MSVC, 8-aligned i64
 * in gc_alloc_context) or 0xAC (gcc); calibrated like the workstation context size.
 * docs/internals/clr.md. */
#define MAX_HEAPS 4096
#define DAC_GC_HEAP_FIXED_WORDS 42u /* 3 + oom_history (9) + 28 + 2 */

static ds_status read_svr(ds_clr_heap *h, ds_diags *diags)
{
    ds_clr_runtime *rt = &h->rt;
    unsigned P = h->ptr;
    uint32_t n = 0;
    uint64_t arr = 0;
    if (ds_vmem_u32(&h->dump->vm, rt->v[DS_GCDV_N_HEAPS], &n) != DS_MEM_OK ||
        !rdp(h, rt->v[DS_GCDV_G_HEAPS], &arr)) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "gc_heap", rt->gcdacvars,
                         "server GC: n_heaps / g_heaps unreadable");
        return DS_E_PARTIAL;
    }
    if ((int32_t)n < 1 || n > MAX_HEAPS || !arr) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "gc_heap", rt->v[DS_GCDV_N_HEAPS],
                         "server GC: implausible n_heaps %d (g_heaps 0x%llx)", (int32_t)n,
                         (unsigned long long)arr);
        return DS_E_PARTIAL;
    }
    h->heaps = calloc(n, sizeof *h->heaps);
    if (!h->heaps)
        return DS_E_NOMEM;
    h->nheaps = n;
    ds_status st = DS_OK;
    int first = -1; /* first readable heap */
    for (uint32_t i = 0; i < n; i++) {
        ds_clr_gcheap *gh = &h->heaps[i];
        uint64_t addr = 0;
        if (!rdp(h, arr + (uint64_t)i * P, &addr) || !addr || addr % P ||
            !rdp(h, addr, &gh->alloc_allocated) || !rdp(h, addr + P, &gh->ephemeral_segment) ||
            !rdp(h, addr + 2ull * P, &gh->finalize_queue)) {
            /* kept as an empty heap (ngen 0, no segments, no queue): the others are still read */
            memset(gh, 0, sizeof *gh);
            gh->addr = addr;
            ds_diag_add_addr(diags, DS_SEV_WARNING, "gc_heap", arr + (uint64_t)i * P,
                             "server GC heap %u (gc_heap 0x%llx) unreadable; skipped", i,
                             (unsigned long long)addr);
            st = DS_E_PARTIAL;
            continue;
        }
        gh->addr = addr;
        gh->ngen = 4;
        if (first < 0)
            first = (int)i;
    }
    if (first < 0) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "gc_heap", arr, "server GC: no gc_heap readable");
        return DS_E_PARTIAL;
    }
    /* generation_table offset (and context size on x86): gen2's start_segment of the first
     * readable heap must be a valid heap_segment */
    uint64_t fixed = DAC_GC_HEAP_FIXED_WORDS * (uint64_t)P + 4;
    struct {
        uint64_t off, ctx;
    } cand[2] = {{align_up(fixed, 8), P == 8 ? 56u : 40u}, {align_up(fixed, P), P == 8 ? 0u : 36u}};
    uint64_t gt_off = 0;
    for (int c = 0; c < 2 && !h->gen_ctx_size; c++) {
        ds_clr_generation g2;
        ds_clr_segment s;
        if (cand[c].ctx &&
            read_generation(h, h->heaps[first].addr + cand[c].off + 2 * rt->generation_size,
                            cand[c].ctx, &g2) &&
            read_segment(h, g2.start_segment, &s)) {
            h->gen_ctx_size = cand[c].ctx;
            gt_off = cand[c].off;
        }
    }
    if (!h->gen_ctx_size) {
        ds_diag_add_addr(diags, DS_SEV_ERROR, "gc_heap", h->heaps[first].addr,
                         "server GC: gen2 start segment of heap %d is not a valid heap_segment "
                         "at the dac_gc_heap generation_table offset",
                         first);
        return DS_E_PARTIAL;
    }
    for (uint32_t i = 0; i < n; i++) {
        ds_clr_gcheap *gh = &h->heaps[i];
        for (unsigned g = 0; g < gh->ngen; g++)
            read_generation(h, gh->addr + gt_off + g * rt->generation_size, h->gen_ctx_size,
                            &gh->gen[g]);
    }
    return st;
}

static bool seg_seen(ds_clr_heap *h, uint64_t a)
{
    for (size_t i = 0; i < h->nsegs; i++)
        if (h->segs[i].addr == a)
            return true;
    return false;
}

static ds_status add_chain(ds_clr_heap *h, uint32_t heap, uint64_t first, ds_clr_seg_kind kind,
                           size_t *cap, ds_diags *diags)
{
    ds_status st = DS_OK;
    ds_clr_gcheap *gh = &h->heaps[heap];
    uint64_t a = first;
    for (unsigned n = 0; a && n < MAX_SEGMENTS; n++) {
        if (seg_seen(h, a)) {
            ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", a,
                             "segment chain loops; stopped");
            return DS_E_PARTIAL;
        }
        ds_clr_segment s;
        if (!read_segment(h, a, &s)) {
            ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", a,
                             "unreadable or implausible segment; chain stopped");
            return DS_E_PARTIAL;
        }
        s.kind = kind;
        s.heap = heap;
        /* server GC: heap_segment::heap (after background_allocated) names the owning gc_heap */
        uint64_t owner = 0;
        if (h->rt.server && rdp(h, a + 8ull * h->ptr, &owner) && owner != gh->addr)
            ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", a,
                             "segment of heap %u names gc_heap 0x%llx, not 0x%llx", heap,
                             (unsigned long long)owner, (unsigned long long)gh->addr);
        s.walk_end = s.allocated;
        if (kind == DS_CLR_SEG_SOH && a == gh->ephemeral_segment) {
            s.ephemeral = true;
            if (gh->alloc_allocated >= s.mem && gh->alloc_allocated <= s.reserved)
                s.walk_end = gh->alloc_allocated;
            else
                ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", a,
                                 "alloc_allocated 0x%llx outside the ephemeral segment",
                                 (unsigned long long)gh->alloc_allocated);
        }
        if (!ds_grow((void **)&h->segs, cap, h->nsegs + 1, sizeof *h->segs))
            return DS_E_NOMEM;
        h->segs[h->nsegs++] = s;
        h->total_size += s.walk_end - s.mem;
        a = s.next;
    }
    if (a) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "heap_segment", a, "more than %u segments",
                         MAX_SEGMENTS);
        st = DS_E_PARTIAL;
    }
    return st;
}

ds_status ds_clr_heap_open(ds_dump *d, const ds_clr_options *opt, ds_clr_heap *h, ds_diags *diags)
{
    memset(h, 0, sizeof *h);
    h->dump = d;
    ds_status st = ds_clr_runtime_find(d, opt, &h->rt, diags);
    if (st != DS_OK)
        return st;
    h->ptr = h->rt.ptr;
    h->min_obj = 3ull * h->ptr;
    /* MethodTable::m_pLoaderModule: a plain pointer in 2.0, a RelativePointer in 2.1/2.2, and a
     * plain one again from 3.0 on (the 3.x runtime is built without FEATURE_PREJIT, and
     * fixuppointer.h then defines RelativePointer as PlainPointer; docs/internals/clr.md) */
    const ds_clr_runtime *rt = &h->rt;
    const ds_version *fv =
        rt->module && rt->module->file_version.valid ? &rt->module->file_version : NULL;
    if (!strncmp(rt->netcore_version, "2.1.", 4) || !strncmp(rt->netcore_version, "2.2.", 4))
        h->loader_rel = 1;
    else if (!strncmp(rt->netcore_version, "2.0.", 4) || !strncmp(rt->netcore_version, "3.", 2))
        h->loader_rel = 0;
    else if (fv && fv->v[0] == 4 && fv->v[1] == 6)
        h->loader_rel = fv->v[2] >= 26000 ? 1 : 0;
    else if (fv && fv->v[0] == 4 && fv->v[1] == 700)
        h->loader_rel = 0; /* 4.700.19.x = 3.0, 4.700.20+.x = 3.1 */
    else
        h->loader_rel = -1; /* decided per MethodTable */
    h->priv = calloc(1, sizeof(clr_priv));
    if (!h->priv)
        return DS_E_NOMEM;
    clr_modpath_init(h, opt ? opt->module_path : NULL, diags);
    ds_status hs = h->rt.server ? read_svr(h, diags) : read_wks(h, diags);
    if (hs != DS_OK && hs != DS_E_PARTIAL)
        return hs;
    if (hs == DS_E_PARTIAL && !h->gen_ctx_size)
        return DS_E_PARTIAL;
    size_t cap = 0;
    ds_status res = hs;
    for (uint32_t hi = 0; hi < h->nheaps; hi++) {
        ds_clr_gcheap *gh = &h->heaps[hi];
        if (!gh->ngen)
            continue; /* an unreadable server heap (reported by read_svr) */
        ds_status a = add_chain(h, hi, gh->gen[2].start_segment, DS_CLR_SEG_SOH, &cap, diags);
        if (a == DS_E_NOMEM)
            return a;
        ds_status b = add_chain(h, hi, gh->gen[3].start_segment, DS_CLR_SEG_LOH, &cap, diags);
        if (b == DS_E_NOMEM)
            return b;
        if (a != DS_OK || b != DS_OK)
            res = DS_E_PARTIAL;
    }
    return res;
}

void ds_clr_heap_close(ds_clr_heap *h)
{
    clr_priv *p = h->priv;
    if (p) {
        for (size_t i = 0; i < p->cap; i++)
            free(p->v[i].name);
        free(p->v);
        clr_names_free(p);
        free(p);
    }
    free(h->heaps);
    free(h->segs);
    memset(h, 0, sizeof *h);
}

/* ---- the object walk ---- */

static void add_bad(ds_clr_walk_stats *ws, uint64_t addr, uint64_t mt, const char *why,
                    uint64_t resumed, ds_diags *diags)
{
    ws->bad_total++;
    if (ws->nbad < MAX_BAD_KEPT) {
        ds_clr_bad *nb = realloc(ws->bad, (ws->nbad + 1) * sizeof *nb);
        if (nb) {
            ws->bad = nb;
            ds_clr_bad *b = &nb[ws->nbad++];
            b->addr = addr;
            b->mt = mt;
            snprintf(b->reason, sizeof b->reason, "%s", why);
            b->resumed_at = resumed;
        }
    }
    if (ws->bad_total <= 16)
        ds_diag_add_addr(diags, DS_SEV_WARNING, "managed object", addr,
                         "bad object (MethodTable 0x%llx: %s); walk resumed at 0x%llx",
                         (unsigned long long)mt, why, (unsigned long long)resumed);
}

/* Skips a run of zero words (an allocation context or its reserve); returns the first non-zero
 * word's address, or end. */
static uint64_t skip_zeros(ds_clr_heap *h, uint64_t cur, uint64_t end)
{
    unsigned P = h->ptr;
    while (cur < end) {
        size_t avail = 0;
        uint64_t max = end - cur < (1u << 20) ? end - cur : (1u << 20);
        const uint8_t *p = ds_vmem_span_max(&h->dump->vm, cur, (size_t)max, &avail);
        if (!p || !avail) {
            uint64_t v;
            if (ds_vmem_ptr_sized(&h->dump->vm, cur, P, &v) != DS_MEM_OK || v)
                return cur;
            cur += P;
            continue;
        }
        size_t o = 0;
        while (o + P <= avail) {
            uint64_t v = 0;
            memcpy(&v, p + o, P);
            if (v)
                return cur + o;
            o += P;
        }
        if (!o)
            return cur;
        cur += o;
    }
    return end;
}

/* Finds the next P-aligned word after cur that is a valid MethodTable whose object fits. */
static uint64_t resync(ds_clr_heap *h, uint64_t cur, uint64_t end, bool loh)
{
    unsigned P = h->ptr;
    for (uint64_t a = cur + P; a + h->min_obj <= end; a += P) {
        uint64_t v;
        if (ds_vmem_ptr_sized(&h->dump->vm, a, P, &v) != DS_MEM_OK) {
            const ds_range *r = ds_vmem_next(&h->dump->vm, a + 1);
            if (!r || r->va >= end)
                return end;
            a = ((r->va > a ? r->va : a) + P - 1) / P * P - P;
            continue;
        }
        v &= ~(uint64_t)3;
        if (!v || v % P)
            continue;
        clr_mt_entry *e = clr_mt_lookup(h, v, false);
        if (e && e->state == 2)
            continue;
        uint64_t sz = ds_clr_object_size(h, a, v, loh);
        if (sz && a + ds_clr_object_step(h, sz, loh) <= end)
            return a;
    }
    return end;
}

ds_status ds_clr_heap_walk(ds_clr_heap *h, ds_clr_object_fn fn, void *ctx,
                           ds_clr_progress_fn progress, void *pctx, ds_clr_walk_stats *ws,
                           ds_diags *diags)
{
    memset(ws, 0, sizeof *ws);
    unsigned P = h->ptr;
    uint64_t done = 0;
    ds_status st = DS_OK;
    for (uint32_t si = 0; si < h->nsegs; si++) {
        const ds_clr_segment *s = &h->segs[si];
        bool loh = s->kind == DS_CLR_SEG_LOH;
        const ds_clr_gcheap *gh = &h->heaps[s->heap];
        uint64_t cur = s->mem, end = s->walk_end;
        while (cur < end) {
            uint64_t mt;
            if (end - cur < h->min_obj) {
                /* a tail smaller than the smallest object cannot hold one (seen 8 bytes before
                 * the end of the newest segment of a 20 M-object core; SOS ignores it too) */
                ws->gaps++;
                ws->gap_bytes += end - cur;
                break;
            }
            if (ds_vmem_ptr_sized(&h->dump->vm, cur, P, &mt) != DS_MEM_OK) {
                const ds_range *r = ds_vmem_next(&h->dump->vm, cur + 1);
                uint64_t nx = r && r->va > cur && r->va < end ? align_up(r->va, P) : end;
                ws->unreadable_bytes += nx - cur;
                add_bad(ws, cur, 0, "not in the dump", nx < end ? nx : 0, diags);
                st = DS_E_PARTIAL;
                cur = nx;
                continue;
            }
            mt &= ~(uint64_t)3;
            if (!mt) {
                /* allocation context: [alloc_ptr, alloc_limit) + Align(min_obj) is zeroed */
                uint64_t nx;
                if (cur == gh->gen[0].alloc_ptr && gh->gen[0].alloc_limit > cur &&
                    gh->gen[0].alloc_limit < end)
                    nx = gh->gen[0].alloc_limit + align_up(h->min_obj, P);
                else
                    nx = skip_zeros(h, cur, end);
                if (nx <= cur)
                    nx = cur + P;
                ws->gaps++;
                ws->gap_bytes += nx - cur;
                cur = nx;
                continue;
            }
            uint64_t size = ds_clr_object_size(h, cur, mt, loh);
            uint64_t step = size ? ds_clr_object_step(h, size, loh) : 0;
            if (!size || step > end - cur) {
                clr_mt_entry *e = clr_mt_lookup(h, mt, false);
                char why[80]; /* copied: resync may grow the MethodTable cache */
                snprintf(why, sizeof why, "%s",
                         size ? "object extends beyond the segment"
                              : (e && e->why[0] ? e->why : "invalid MethodTable"));
                uint64_t nx = resync(h, cur, end, loh);
                add_bad(ws, cur, mt, why, nx < end ? nx : 0, diags);
                st = DS_E_PARTIAL;
                cur = nx;
                continue;
            }
            bool fr = false;
            ds_clr_mt_check(h, mt, NULL, NULL, &fr);
            ds_clr_object o = {cur, mt, fr ? ds_clr_free_size_sos(h, size) : size, step, si, fr};
            ws->objects++;
            ws->bytes += size;
            if (fn && fn(ctx, &o))
                return st;
            cur += step;
            if (progress && !(ws->objects & 0xffff))
                progress(pctx, done + (cur - s->mem), h->total_size);
        }
        done += s->walk_end - s->mem;
    }
    if (progress)
        progress(pctx, h->total_size, h->total_size);
    return st;
}

void ds_clr_walk_stats_free(ds_clr_walk_stats *ws)
{
    free(ws->bad);
    ws->bad = NULL;
    ws->nbad = 0;
}

/* ---- statistics ---- */

bool ds_clr_stats_add(ds_clr_stats *s, uint64_t mt, uint64_t size, bool is_free)
{
    size_t *idx = s->index;
    if ((s->n + 1) * 2 > s->index_cap) {
        size_t ncap = s->index_cap ? s->index_cap * 2 : 256;
        size_t *ni = malloc(ncap * sizeof *ni);
        if (!ni)
            return false;
        for (size_t i = 0; i < ncap; i++)
            ni[i] = SIZE_MAX;
        for (size_t i = 0; i < s->n; i++) {
            size_t j = (size_t)(s->v[i].mt * 0x9E3779B97F4A7C15ull >> 24) & (ncap - 1);
            while (ni[j] != SIZE_MAX)
                j = (j + 1) & (ncap - 1);
            ni[j] = i;
        }
        free(s->index);
        s->index = idx = ni;
        s->index_cap = ncap;
    }
    size_t j = (size_t)(mt * 0x9E3779B97F4A7C15ull >> 24) & (s->index_cap - 1);
    while (idx[j] != SIZE_MAX && s->v[idx[j]].mt != mt)
        j = (j + 1) & (s->index_cap - 1);
    if (idx[j] == SIZE_MAX) {
        ds_clr_type_stat row = {mt, 0, 0, NULL, is_free};
        if (!DS_PUSH(s->v, s->n, s->cap, row))
            return false;
        idx[j] = s->n - 1;
    }
    ds_clr_type_stat *r = &s->v[idx[j]];
    r->count++;
    r->total += size;
    s->objects++;
    s->bytes += size;
    return true;
}

static int cmp_stat(const void *a, const void *b)
{
    const ds_clr_type_stat *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? -1 : 1;
    if (x->mt != y->mt) /* SOS: equal sizes in descending MT order */
        return x->mt > y->mt ? -1 : 1;
    return 0;
}

void ds_clr_stats_finish(ds_clr_stats *s, ds_clr_heap *h)
{
    for (size_t i = 0; i < s->n; i++)
        s->v[i].name = s->v[i].free ? "Free" : ds_clr_type_name(h, s->v[i].mt);
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_stat);
    free(s->index);
    s->index = NULL;
    s->index_cap = 0;
}

void ds_clr_stats_free(ds_clr_stats *s)
{
    free(s->v);
    free(s->index);
    memset(s, 0, sizeof *s);
}

static int stat_cb(void *ctx, const ds_clr_object *o)
{
    return ds_clr_stats_add(ctx, o->mt, o->size, o->free) ? 0 : 1;
}

ds_status ds_clr_dumpheap_stat(ds_clr_heap *h, ds_clr_stats *s, ds_clr_walk_stats *ws,
                               ds_clr_progress_fn progress, void *pctx, ds_diags *diags)
{
    memset(s, 0, sizeof *s);
    ds_status st = ds_clr_heap_walk(h, stat_cb, s, progress, pctx, ws, diags);
    ds_clr_stats_finish(s, h);
    return st;
}

/* ---- finalization queue ---- */

ds_status ds_clr_finalize_queue(ds_clr_heap *h, ds_clr_finq *q, ds_diags *diags)
{
    memset(q, 0, sizeof *q);
    unsigned P = h->ptr;
    q->heaps = calloc(h->nheaps ? h->nheaps : 1, sizeof *q->heaps);
    if (!q->heaps)
        return DS_E_NOMEM;
    q->nheaps = h->nheaps;
    ds_status st = DS_OK;
    for (size_t hi = 0; hi < h->nheaps; hi++) {
        ds_clr_finq_heap *fh = &q->heaps[hi];
        uint64_t cf = h->heaps[hi].finalize_queue;
        fh->cfinalize = cf;
        bool ok = cf != 0;
        for (int i = 0; ok && i < DS_CLR_FQ_SEGS; i++)
            ok = rdp(h, cf + (uint64_t)i * P, &fh->fp[i]);
        ok = ok && rdp(h, cf + 6ull * P, &fh->array) && rdp(h, cf + 7ull * P, &fh->end_array);
        /* m_Array <= FP0 <= ... <= FP5 <= m_EndArray, all entry-aligned, bounded */
        if (ok) {
            uint64_t prev = fh->array;
            for (int i = 0; ok && i < DS_CLR_FQ_SEGS; i++) {
                ok = fh->fp[i] >= prev && fh->fp[i] <= fh->end_array &&
                     (fh->fp[i] - fh->array) % P == 0;
                prev = fh->fp[i];
            }
            ok = ok && (fh->end_array - fh->array) / P <= MAX_FQ_ENTRIES;
        }
        if (!ok) {
            ds_diag_add_addr(diags, DS_SEV_WARNING, "CFinalize", cf,
                             "finalization queue unreadable or inconsistent");
            st = DS_E_PARTIAL;
            continue;
        }
        fh->valid = true;
        for (int sgi = 0; sgi < DS_CLR_FQ_SEGS; sgi++) {
            uint64_t lo = sgi ? fh->fp[sgi - 1] : fh->array, hi2 = fh->fp[sgi];
            fh->seg_count[sgi] = (hi2 - lo) / P;
            if (sgi == 0)
                continue; /* LOH segment: not in SOS's statistics */
            for (uint64_t a = lo; a < hi2; a += P) {
                uint64_t obj, mt;
                if (!rdp(h, a, &obj) || !rdp(h, obj, &mt)) {
                    q->bad_entries++;
                    continue;
                }
                mt &= ~(uint64_t)3;
                uint64_t size = ds_clr_object_size(h, obj, mt, false);
                bool fr = false;
                if (!size || !ds_clr_mt_check(h, mt, NULL, NULL, &fr)) {
                    q->bad_entries++;
                    if (q->bad_entries <= 8)
                        ds_diag_add_addr(diags, DS_SEV_WARNING, "CFinalize entry", a,
                                         "object 0x%llx has an invalid MethodTable 0x%llx",
                                         (unsigned long long)obj, (unsigned long long)mt);
                    continue;
                }
                if (fr)
                    size = ds_clr_free_size_sos(h, size);
                if (!ds_clr_stats_add(&q->all, mt, size, fr))
                    return DS_E_NOMEM;
                if (sgi >= 4 && !ds_clr_stats_add(&q->ready, mt, size, fr))
                    return DS_E_NOMEM;
            }
        }
        q->ready_count += fh->seg_count[4] + fh->seg_count[5];
        q->registered_count += fh->seg_count[1] + fh->seg_count[2] + fh->seg_count[3];
    }
    if (q->bad_entries)
        st = DS_E_PARTIAL;
    ds_clr_stats_finish(&q->all, h);
    ds_clr_stats_finish(&q->ready, h);
    return st;
}

void ds_clr_finq_free(ds_clr_finq *q)
{
    free(q->heaps);
    ds_clr_stats_free(&q->all);
    ds_clr_stats_free(&q->ready);
    memset(q, 0, sizeof *q);
}
