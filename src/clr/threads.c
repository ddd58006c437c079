/* dumpsleuth: the CLR's managed threads (SOS !threads / clrthreads) without the DAC.
 *
 * ThreadStore::s_pThreadStore -> ThreadStore { ..., SList m_ThreadList { m_link.next, m_pHead
 * (= &m_link), m_pTail }, m_ThreadCount, m_MaxThreadCount, m_UnstartedThreadCount,
 * m_BackgroundThreadCount, m_PendingThreadCount, m_DeadThreadCount } -> Thread::m_Link chain.
 *
 * The offsets inside Thread and ThreadStore are not in any DAC-less table; they were derived from
 * the fixtures (docs/internals/clr.md "Managed threads") and are used only on the runtime builds
 * where they were checked against the truth files (managed id, OS id, finalizer) and, for the
 * Linux core, SOS's clrthreads (ThreadOBJ, State, counts, alloc context). Any other build is
 * refused (DS_E_UNSUPPORTED) rather than guessed.
 *
 * The ThreadStore is found without an index: the runtime's data is scanned for a pointer whose
 * target has, at the layout's list offset, the SList signature (m_pHead pointing at m_link itself)
 * and whose Thread chain validates (same vtable inside the runtime image, managed ids in range,
 * length == m_ThreadCount). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/clr.h"

#define MAX_THREADS 4096u
#define SCAN_CHUNK 65536u

typedef struct thr_layout {
    const char *name;
    unsigned ptr;
    bool pe;             /* Windows (PE version resource) or ELF (version from the path) */
    const char *version; /* PE file version, or the Microsoft.NETCore.App version for ELF */
    /* Thread */
    uint32_t state, preempt, domain, lock_count, thread_id, link, os_id;
    uint32_t alloc; /* m_alloc_context (alloc_ptr, alloc_limit); 0 = not verified */
    uint32_t exc;   /* m_LastThrownObjectHandle; 0 = not verified */
    /* ThreadStore: offset of m_ThreadList (the counts follow it at +3 pointers) */
    uint32_t ts_list;
    /* g_pFinalizerThread: DAC table slot (Windows resource), or RVA (ELF, this build only) */
    int fin_dac_slot;
    uint32_t fin_rva;
    const char *fin_desc; /* where g_pFinalizerThread comes from (output) */
} thr_layout;

/* Every row: see docs/internals/clr.md for how each number was derived. */
static const thr_layout LAYOUTS[] = {
    {"CoreCLR 2.0.0 linux-x64 (libcoreclr.so from Microsoft.NETCore.App 2.0.0)", 8, false, "2.0.0",
     0x08, 0x0C, 0x20, 0x28, 0x2C, 0x138, 0x1F4, 0x60, 0x220, 0xA8, -1, 0x6EC8C8,
     "g_pFinalizerThread at RVA 0x6ec8c8 (this build only)"},
    {"CoreCLR 2.0 win-x64 (coreclr.dll 4.6.25519.2)", 8, true, "4.6.25519.2", 0x08, 0x0C, 0x20,
     0x28, 0x2C, 0x148, 0x204, 0, 0x230, 0x40, 32, 0,
     "DAC table slot 32 (dac__g_pFinalizerThread)"},
    {"CoreCLR 2.2 win-x64 (coreclr.dll 4.6.27317.7)", 8, true, "4.6.27317.7", 0x08, 0x0C, 0x20,
     0x28, 0x2C, 0x148, 0x204, 0, 0x230, 0x40, 32, 0,
     "DAC table slot 32 (dac__g_pFinalizerThread)"},
    {"CoreCLR 2.1 win-x86 (coreclr.dll 4.6.27317.3)", 4, true, "4.6.27317.3", 0x04, 0x08, 0x14,
     0x18, 0x1C, 0xDC, 0x148, 0, 0x168, 0x24, 32, 0, "DAC table slot 32 (dac__g_pFinalizerThread)"},
    /* 3.x: m_pUnloadBoundaryFrame and m_Context are gone, m_OSThreadId is a SIZE_T (threads.h at
     * v3.1.2), so m_LastThrownObjectHandle is m_OSThreadId + 0x30 on x64, + 0x20 on x86 */
    {"CoreCLR 3.1 win-x64 (coreclr.dll 4.700.20.6602)", 8, true, "4.700.20.6602", 0x08, 0x0C, 0x18,
     0x20, 0x24, 0x110, 0x1D8, 0x58, 0x208, 0x40, 31, 0,
     "DAC table slot 31 (dac__g_pFinalizerThread)"},
    {"CoreCLR 3.0 win-x64 (coreclr.dll 4.700.19.46205)", 8, true, "4.700.19.46205", 0x08, 0x0C,
     0x18, 0x20, 0x24, 0x110, 0x1D8, 0x58, 0x208, 0x40, 31, 0,
     "DAC table slot 31 (dac__g_pFinalizerThread)"},
    {"CoreCLR 3.1 win-x86 (coreclr.dll 4.700.20.6602)", 4, true, "4.700.20.6602", 0x04, 0x08, 0x10,
     0x14, 0x18, 0xBC, 0x12C, 0x38, 0x14C, 0x24, 31, 0,
     "DAC table slot 31 (dac__g_pFinalizerThread)"},
    {"CoreCLR 3.1.2 linux-x64 (libcoreclr.so from Microsoft.NETCore.App 3.1.2)", 8, false, "3.1.2",
     0x08, 0x0C, 0x18, 0x20, 0x24, 0x100, 0x1C8, 0x58, 0x1F8, 0xA8, -1, 0x7571B0,
     "g_pFinalizerThread at RVA 0x7571b0 (this build only)"},
};
#define NLAYOUTS (sizeof LAYOUTS / sizeof LAYOUTS[0])

const char *ds_clr_thread_apartment(uint32_t state)
{
    if (state & DS_CLR_TS_IN_STA)
        return "STA";
    if (state & DS_CLR_TS_IN_MTA)
        return "MTA";
    return "Ukn";
}

const ds_clr_thread *ds_clr_threads_finalizer(const ds_clr_threads *t)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->v[i].finalizer)
            return &t->v[i];
    return NULL;
}

void ds_clr_threads_free(ds_clr_threads *t)
{
    if (!t)
        return;
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static const thr_layout *find_layout(const ds_clr_runtime *rt)
{
    bool pe = !strcmp(rt->version_source, "PE version resource");
    for (size_t i = 0; i < NLAYOUTS; i++) {
        const thr_layout *l = &LAYOUTS[i];
        if (l->ptr != rt->ptr || l->pe != pe)
            continue;
        if (pe ? !strcmp(rt->version, l->version) : !strcmp(rt->netcore_version, l->version))
            return l;
    }
    return NULL;
}

static bool rdp(ds_dump *d, unsigned P, uint64_t va, uint64_t *out)
{
    *out = 0;
    return ds_vmem_ptr_sized(&d->vm, va, P, out) == DS_MEM_OK;
}

static bool rd32(ds_dump *d, uint64_t va, uint32_t *out)
{
    *out = 0;
    return ds_vmem_u32(&d->vm, va, out) == DS_MEM_OK;
}

/* Walks the list whose SList starts at `list`. Returns the number of valid threads (0: not a
 * thread list); fills t when t is non-NULL. */
static size_t walk(ds_dump *d, const ds_clr_runtime *rt, const thr_layout *l, uint64_t list,
                   ds_clr_threads *t, size_t max, bool *cut)
{
    unsigned P = rt->ptr;
    uint64_t first, self;
    *cut = false;
    if (!rdp(d, P, list, &first) || !rdp(d, P, list + P, &self) || self != list || !first)
        return 0;
    uint64_t vt0 = 0, link = first;
    size_t n = 0;
    while (link) {
        if (n >= max || link < l->link || link % P) {
            *cut = true;
            break;
        }
        uint64_t th = link - l->link, vt, next;
        uint32_t id;
        if (!rdp(d, P, th, &vt) || !rd32(d, th + l->thread_id, &id) || !rdp(d, P, link, &next)) {
            *cut = true;
            break;
        }
        if (vt < rt->base || vt >= rt->end || (n && vt != vt0) || id == 0 || id > 0xFFFFFF) {
            *cut = true;
            break;
        }
        vt0 = vt;
        /* cycle: a thread seen before */
        bool seen = false;
        for (size_t i = 0; t && i < n; i++)
            if (t->v[i].addr == th)
                seen = true;
        if (seen || next == link) {
            *cut = true;
            break;
        }
        if (t) {
            ds_clr_thread *x = &t->v[n];
            memset(x, 0, sizeof *x);
            x->addr = th;
            x->managed_id = id;
            uint32_t pre = 0;
            rd32(d, th + l->state, &x->state);
            rd32(d, th + l->preempt, &pre);
            x->cooperative = pre != 0;
            rdp(d, P, th + l->domain, &x->domain);
            rd32(d, th + l->lock_count, &x->lock_count);
            rd32(d, th + l->os_id, &x->os_id);
            if (l->alloc) {
                x->has_alloc = rdp(d, P, th + l->alloc, &x->alloc_ptr) &&
                               rdp(d, P, th + l->alloc + P, &x->alloc_limit);
            }
            if (l->exc) { /* OBJECTHANDLE: a handle-table slot holding the object */
                x->has_exc = true;
                uint64_t hnd = 0;
                if (rdp(d, P, th + l->exc, &hnd) && hnd && !(hnd % P))
                    rdp(d, P, hnd, &x->exc_object);
                x->exc_handle = hnd;
            }
            x->dbg_index = -1;
            for (size_t k = 0; k < d->nthreads; k++)
                if (x->os_id && d->threads[k].tid == x->os_id) {
                    x->dbg_index = (long)k;
                    break;
                }
        }
        n++;
        link = next;
    }
    return n;
}

/* The ThreadStore: a pointer in the runtime image whose target holds a valid thread list whose
 * length equals m_ThreadCount. */
static uint64_t find_thread_store(ds_dump *d, const ds_clr_runtime *rt, const thr_layout *l,
                                  unsigned *hits)
{
    unsigned P = rt->ptr;
    uint8_t *buf = malloc(SCAN_CHUNK);
    uint64_t found = 0;
    *hits = 0;
    if (!buf)
        return 0;
    for (uint64_t a = rt->base; a < rt->data_end; a += SCAN_CHUNK) {
        size_t want = (size_t)(rt->data_end - a < SCAN_CHUNK ? rt->data_end - a : SCAN_CHUNK);
        size_t got = 0;
        ds_vmem_read(&d->vm, a, buf, want, &got);
        for (size_t o = 0; o + P <= got; o += P) {
            uint64_t v = 0;
            memcpy(&v, buf + o, P);
            if (!v || v % P || (v >= rt->base && v < rt->data_end))
                continue;
            uint64_t list = v + l->ts_list, self;
            if (!rdp(d, P, list + P, &self) || self != list)
                continue;
            bool cut;
            size_t n = walk(d, rt, l, list, NULL, MAX_THREADS, &cut);
            uint32_t count = 0;
            if (!n || cut || !rd32(d, list + 3ull * P, &count) || count != n)
                continue;
            if (found != v) {
                if (!found)
                    found = v;
                (*hits)++;
            }
        }
    }
    free(buf);
    return found;
}

ds_status ds_clr_threads_read(ds_dump *d, const ds_clr_runtime *rt, ds_clr_threads *t,
                              ds_diags *diags)
{
    memset(t, 0, sizeof *t);
    if (!rt || rt->kind != DS_CLR_CORECLR) {
        ds_diag_add(diags, DS_SEV_ERROR, "CLR threads", 0, 0, "no CoreCLR runtime");
        return DS_E_UNSUPPORTED;
    }
    const thr_layout *l = find_layout(rt);
    if (!l) {
        ds_diag_add(
            diags, DS_SEV_ERROR, "CLR threads", 0, 0,
            "the Thread/ThreadStore offsets of %s %s (%u-bit) are not verified; only "
            "CoreCLR 2.0.0 and 3.1.2 linux-x64, coreclr.dll 4.6.25519.2/4.6.27317.7 "
            "(x64), 4.6.27317.3 (x86), 4.700.19.46205 (x64) and 4.700.20.6602 (x64, x86) are "
            "(docs/internals/clr.md)",
            rt->module_name, rt->version[0] ? rt->version : "(unknown version)", rt->ptr * 8);
        return DS_E_UNSUPPORTED;
    }
    t->layout = l->name;
    t->exc_verified = l->exc != 0;
    unsigned hits = 0;
    uint64_t ts = find_thread_store(d, rt, l, &hits);
    if (!ts) {
        ds_diag_add(diags, DS_SEV_ERROR, "CLR threads", 0, 0,
                    "no ThreadStore found in %s's data (not captured?)", rt->module_name);
        return DS_E_NOTFOUND;
    }
    if (hits > 1)
        ds_diag_add_addr(diags, DS_SEV_WARNING, "ThreadStore", ts,
                         "%u ThreadStore candidates; the first is used", hits);
    t->thread_store = ts;
    unsigned P = rt->ptr;
    uint64_t list = ts + l->ts_list, cnt = list + 3ull * P;
    uint32_t c[6] = {0};
    for (int i = 0; i < 6; i++)
        rd32(d, cnt + 4ull * i, &c[i]);
    t->thread_count = (int32_t)c[0];
    t->max_thread_count = (int32_t)c[1];
    t->unstarted = (int32_t)c[2];
    t->background = (int32_t)c[3];
    t->pending = (int32_t)c[4];
    t->dead = (int32_t)c[5];
    size_t cap = c[0] && c[0] < MAX_THREADS ? c[0] : MAX_THREADS;
    t->v = calloc(cap + 1, sizeof *t->v);
    if (!t->v)
        return DS_E_NOMEM;
    bool cut;
    /* the walk fills at most cap + 1 entries (the validated count, plus one to notice growth) */
    t->n = walk(d, rt, l, list, t, cap + 1, &cut);
    t->truncated = cut;
    ds_status st = DS_OK;
    if (cut) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "ThreadStore", ts,
                         "thread list cut after %zu threads (bad link, cycle or bound)", t->n);
        st = DS_E_PARTIAL;
    }

    /* g_pFinalizerThread */
    uint64_t gaddr = 0;
    if (l->fin_dac_slot >= 0 && rt->dac_table && (uint32_t)l->fin_dac_slot < rt->dac_nglobals) {
        uint32_t rva = 0;
        if (rd32(d, rt->dac_table + 24 + 4ull * (uint32_t)l->fin_dac_slot, &rva) && rva &&
            rt->base + rva < rt->end) {
            gaddr = rt->base + rva;
            t->finalizer_source = l->fin_desc;
        }
    } else if (l->fin_rva) {
        gaddr = rt->base + l->fin_rva;
        t->finalizer_source = l->fin_desc;
    }
    uint64_t fin = 0;
    if (gaddr && rdp(d, P, gaddr, &fin) && fin) {
        for (size_t i = 0; i < t->n; i++)
            if (t->v[i].addr == fin) {
                t->v[i].finalizer = true;
                t->finalizer = fin;
            }
        if (!t->finalizer)
            ds_diag_add_addr(diags, DS_SEV_WARNING, "g_pFinalizerThread", gaddr,
                             "points to %llx, which is not in the thread list",
                             (unsigned long long)fin);
    }
    if (!t->finalizer)
        t->finalizer_source = NULL;
    return st;
}

void ds_clr_threads_name_exceptions(ds_clr_heap *h, ds_clr_threads *t)
{
    for (size_t i = 0; h && t && i < t->n; i++) {
        ds_clr_thread *x = &t->v[i];
        uint64_t mt = 0;
        if (!x->exc_object ||
            ds_vmem_ptr_sized(&h->dump->vm, x->exc_object, h->ptr, &mt) != DS_MEM_OK)
            continue;
        mt &= ~(uint64_t)3;
        if (!ds_clr_mt_check(h, mt, NULL, NULL, NULL))
            continue;
        x->exc_mt = mt;
        const char *n = ds_clr_type_name(h, mt);
        if (n)
            snprintf(x->exc_type, sizeof x->exc_type, "%s", n);
    }
}
