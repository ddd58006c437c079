/* dumpsleuth: finding the CLR and its GC globals without the DAC and without symbols.
 *
 * Routes (docs/internals/clr.md):
 *   - Windows CoreCLR up to .NET 6: the DAC table resource COREXTERNALDATAACCESSRESOURCE of
 *     coreclr.dll lists the RVAs of the runtime's globals; the slot whose pointer leads to a block
 *     passing the GcDacVars signature is g_gcDacGlobals. No fixed slot index is assumed.
 *   - any OS (the Linux core: .symtab is not in memory): a signature scan of the runtime's
 *     writable data for the GcDacVars block itself.
 * Every candidate is validated by what its pointers point to. */
#include "dumpsleuth/clr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dumpsleuth/pe.h"
#include "clr/clr_priv.h"

#define RT_RCDATA 10u
#define DAC_MAX_GLOBALS 4096u
#define BSS_MAX (64ull << 20) /* anonymous .bss after an ELF module: at most 64 MB examined */
#define SCAN_CHUNK 65536u

const char *ds_clr_kind_name(ds_clr_kind k)
{
    switch (k) {
    case DS_CLR_CORECLR:
        return "CoreCLR";
    case DS_CLR_DESKTOP:
        return ".NET Framework (clr.dll)";
    case DS_CLR_MSCORWKS:
        return ".NET Framework 2.0-3.5 (mscorwks)";
    default:
        return "none";
    }
}

const char *ds_clr_route_name(ds_clr_route r)
{
    switch (r) {
    case DS_CLR_ROUTE_DAC_RESOURCE:
        return "DAC table resource (COREXTERNALDATAACCESSRESOURCE) -> g_gcDacGlobals -> GcDacVars";
    case DS_CLR_ROUTE_SIGNATURE:
        return "GcDacVars signature scan of the runtime's writable data";
    default:
        if ((int)r == DS_CLR_ROUTE_SYMBOLS)
            return "symbols from --runtime-dir libcoreclr.so (build-id ok) -> g_gcDacGlobals -> "
                   "GcDacVars";
        if ((int)r == DS_CLR_ROUTE_SYMBOLS_UNCHECKED)
            return "symbols from --runtime-dir libcoreclr.so (build-id unchecked: the dump has "
                   "none) -> g_gcDacGlobals -> GcDacVars";
        return "none";
    }
}

static ds_clr_kind classify(const char *name)
{
    if (!name)
        return DS_CLR_NONE;
    if (!strcasecmp(name, "coreclr.dll") || !strcmp(name, "libcoreclr.so") ||
        !strcmp(name, "libcoreclr.dylib"))
        return DS_CLR_CORECLR;
    if (!strcasecmp(name, "clr.dll"))
        return DS_CLR_DESKTOP;
    if (!strcasecmp(name, "mscorwks.dll") || !strcasecmp(name, "mscorsvr.dll"))
        return DS_CLR_MSCORWKS;
    return DS_CLR_NONE;
}

/* "2.0.0" from ".../Microsoft.NETCore.App/2.0.0/libcoreclr.so" (either slash). */
static void version_from_path(const char *path, char *out, size_t n)
{
    out[0] = 0;
    if (!path)
        return;
    const char *p = strstr(path, "Microsoft.NETCore.App");
    if (!p)
        return;
    p += strlen("Microsoft.NETCore.App");
    if (*p != '/' && *p != '\\')
        return;
    p++;
    size_t i = 0;
    while (p[i] && p[i] != '/' && p[i] != '\\' && i + 1 < n &&
           (isalnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-'))
        i++;
    if (p[i] != '/' && p[i] != '\\')
        return;
    memcpy(out, p, i);
    out[i] = 0;
}

static bool in_data(const ds_clr_runtime *rt, uint64_t p)
{
    return p >= rt->base && p < rt->data_end;
}

/* Reads a pointer; false when unreadable. */
static bool rdp(ds_dump *d, unsigned ptr, uint64_t va, uint64_t *out)
{
    return ds_vmem_ptr_sized(&d->vm, va, ptr, out) == DS_MEM_OK;
}

/* Is `a` a plausible GcDacVars v1 block? Fills the body on success. */
static bool check_gcdv(ds_dump *d, ds_clr_runtime *rt, uint64_t a, uint64_t *body, bool *server,
                       uint64_t *gensize)
{
    unsigned P = rt->ptr;
    uint8_t hdr[8];
    if (ds_vmem_read(&d->vm, a, hdr, P, NULL) != DS_MEM_OK)
        return false;
    if (hdr[0] != 1 || hdr[1] != 0)
        return false;
    for (unsigned i = 2; i < P; i++)
        if (hdr[i])
            return false;
    uint64_t gs;
    if (!rdp(d, P, a + P, &gs) || gs < 0x80 || gs > 0x400 || gs % P)
        return false;
    for (unsigned i = 0; i < DS_GCDV_COUNT; i++)
        if (!rdp(d, P, a + 2ull * P + (uint64_t)i * P, &body[i]))
            return false;
    if (!in_data(rt, body[DS_GCDV_BUILD_VARIANT]) || !in_data(rt, body[DS_GCDV_BUILT_WITH_SVR]) ||
        !in_data(rt, body[DS_GCDV_MAX_GEN]))
        return false;
    uint32_t max_gen;
    if (ds_vmem_u32(&d->vm, body[DS_GCDV_MAX_GEN], &max_gen) != DS_MEM_OK || max_gen != 2)
        return false;
    bool wks = in_data(rt, body[DS_GCDV_GENERATION_TABLE]) &&
               in_data(rt, body[DS_GCDV_EPHEMERAL_HEAP_SEGMENT]) &&
               in_data(rt, body[DS_GCDV_FINALIZE_QUEUE]) &&
               in_data(rt, body[DS_GCDV_ALLOC_ALLOCATED]);
    bool svr = !body[DS_GCDV_GENERATION_TABLE] && body[DS_GCDV_N_HEAPS] && body[DS_GCDV_G_HEAPS];
    if (!wks && !svr)
        return false;
    *server = svr;
    *gensize = gs;
    return true;
}

/* The free object MethodTable: flags 0x80000001, BaseSize 3 pointers, everything else zero. */
static bool is_free_mt(ds_dump *d, unsigned P, uint64_t mt)
{
    uint8_t b[0x40];
    size_t n = P == 8 ? 0x40 : 0x28;
    if (!mt || mt % P || ds_vmem_read(&d->vm, mt, b, n, NULL) != DS_MEM_OK)
        return false;
    uint32_t flags, bs;
    memcpy(&flags, b, 4);
    memcpy(&bs, b + 4, 4);
    if (flags != 0x80000001u || bs != 3 * P)
        return false;
    for (size_t i = 8; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Writable data ranges of the module: PE writable sections, or (ELF) the module's writable
 * regions plus anonymous read-write regions directly after its end (.bss). */
typedef struct span {
    uint64_t lo, hi;
} span;

static size_t data_spans(ds_dump *d, ds_clr_runtime *rt, span *out, size_t max)
{
    size_t n = 0;
    ds_pe pe;
    memset(&pe, 0, sizeof pe);
    ds_status st = ds_pe_parse(&d->vm, rt->base, &pe, NULL);
    if ((st == DS_OK || st == DS_E_PARTIAL) && pe.nsections) {
        for (size_t i = 0; i < pe.nsections && n < max; i++)
            if (pe.sections[i].characteristics & 0x80000000u) /* IMAGE_SCN_MEM_WRITE */
                out[n++] = (span){rt->base + pe.sections[i].vaddr,
                                  rt->base + pe.sections[i].vaddr + pe.sections[i].vsize};
        ds_pe_free(&pe);
        rt->data_end = rt->end;
        return n;
    }
    ds_pe_free(&pe);
    uint64_t end = rt->end;
    for (size_t i = 0; i < d->nregions && n < max; i++) {
        const ds_region *r = &d->regions[i];
        if (r->base >= rt->base && r->base < rt->end) {
            bool w = (r->perm & 2) || r->protect == 0x04 || r->protect == 0x08 ||
                     r->protect == 0x40 || r->protect == 0x80;
            if (w)
                out[n++] = (span){r->base, r->base + r->size};
        } else if (r->base == end && r->file < 0 && (r->perm & 2 || r->protect == 0x04) &&
                   end - rt->end < BSS_MAX) {
            out[n++] = (span){r->base, r->base + r->size};
            end = r->base + r->size;
        }
    }
    if (!n) /* no region table: the whole image */
        out[n++] = (span){rt->base, rt->end};
    rt->data_end = end;
    return n;
}

static void accept(ds_clr_runtime *rt, uint64_t a, const uint64_t *body, bool server, uint64_t gs,
                   ds_dump *d)
{
    rt->gcdacvars = a;
    memcpy(rt->v, body, sizeof rt->v);
    rt->server = server;
    rt->generation_size = gs;
    uint8_t hdr[2];
    if (ds_vmem_read(&d->vm, a, hdr, 2, NULL) == DS_MEM_OK)
        rt->major = hdr[0], rt->minor = hdr[1];
    uint32_t mg = 0;
    if (ds_vmem_u32(&d->vm, body[DS_GCDV_MAX_GEN], &mg) == DS_MEM_OK)
        rt->max_gen = mg;
}

static bool route_dac_resource(ds_dump *d, ds_clr_runtime *rt, ds_diags *diags)
{
    ds_pe pe;
    memset(&pe, 0, sizeof pe);
    ds_status st = ds_pe_parse(&d->vm, rt->base, &pe, NULL);
    if (st != DS_OK && st != DS_E_PARTIAL) {
        ds_pe_free(&pe);
        return false;
    }
    uint32_t rva = 0, size = 0;
    bool found = ds_pe_find_resource(&d->vm, &pe, RT_RCDATA, NULL, 0,
                                     "COREXTERNALDATAACCESSRESOURCE", &rva, &size);
    uint32_t image_size = pe.size_of_image;
    ds_pe_free(&pe);
    if (!found)
        return false;
    uint64_t tab = rt->base + rva;
    uint32_t ng = 0, nv = 0;
    if (size < 24 || ds_vmem_u32(&d->vm, tab, &ng) != DS_MEM_OK ||
        ds_vmem_u32(&d->vm, tab + 4, &nv) != DS_MEM_OK) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "DAC table", tab, "resource unreadable");
        return false;
    }
    if (ng > DAC_MAX_GLOBALS || 24ull + 4ull * ((uint64_t)ng + nv) > size) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "DAC table", tab,
                         "implausible counts (%u globals, %u vtables, %u bytes)", ng, nv, size);
        return false;
    }
    rt->dac_table = tab;
    rt->dac_nglobals = ng;
    for (uint32_t i = 0; i < ng; i++) {
        uint32_t r;
        if (ds_vmem_u32(&d->vm, tab + 24 + 4ull * i, &r) != DS_MEM_OK || !r || r >= image_size)
            continue;
        uint64_t p;
        if (!rdp(d, rt->ptr, rt->base + r, &p) || !p)
            continue;
        if (!rt->free_mt && is_free_mt(d, rt->ptr, p))
            rt->free_mt = p;
        uint64_t body[DS_GCDV_COUNT];
        bool server;
        uint64_t gs;
        if (rt->dac_slot < 0 && check_gcdv(d, rt, p, body, &server, &gs)) {
            rt->dac_slot = (int)i;
            rt->gc_dac_globals = rt->base + r;
            accept(rt, p, body, server, gs, d);
            rt->candidates = 1;
        }
    }
    if (rt->dac_slot < 0)
        return false;
    rt->route = DS_CLR_ROUTE_DAC_RESOURCE;
    return true;
}

static bool route_signature(ds_dump *d, ds_clr_runtime *rt, span *sp, size_t nsp, ds_diags *diags)
{
    unsigned P = rt->ptr;
    uint8_t *buf = malloc(SCAN_CHUNK);
    if (!buf)
        return false;
    uint64_t first = 0;
    unsigned hits = 0;
    for (size_t s = 0; s < nsp; s++) {
        for (uint64_t a = sp[s].lo & ~(uint64_t)(P - 1); a < sp[s].hi; a += SCAN_CHUNK) {
            size_t want = (size_t)(sp[s].hi - a < SCAN_CHUNK ? sp[s].hi - a : SCAN_CHUNK);
            size_t got = 0;
            ds_vmem_read(&d->vm, a, buf, want, &got);
            for (size_t o = 0; o + 2 * P <= got; o += P) {
                if (buf[o] != 1 || buf[o + 1] != 0)
                    continue;
                uint64_t body[DS_GCDV_COUNT], gs;
                bool server;
                if (!check_gcdv(d, rt, a + o, body, &server, &gs))
                    continue;
                if (!hits++) {
                    first = a + o;
                    accept(rt, first, body, server, gs, d);
                }
            }
        }
    }
    /* g_gcDacGlobals: the pointer to the block in the same data. Other words can point to it too
     * (the Linux 2.0.0 and 3.1.2 cores hold two), and without symbols nothing says which one is
     * the variable: the address is reported only when exactly one word points to the block. */
    if (hits) {
        uint64_t ref = 0;
        unsigned nrefs = 0;
        for (size_t s = 0; s < nsp && nrefs < 2; s++)
            for (uint64_t a = sp[s].lo & ~(uint64_t)(P - 1); a < sp[s].hi && nrefs < 2;
                 a += SCAN_CHUNK) {
                size_t want = (size_t)(sp[s].hi - a < SCAN_CHUNK ? sp[s].hi - a : SCAN_CHUNK);
                size_t got = 0;
                ds_vmem_read(&d->vm, a, buf, want, &got);
                for (size_t o = 0; o + P <= got && nrefs < 2; o += P) {
                    uint64_t v = 0;
                    memcpy(&v, buf + o, P);
                    if (v == first && !nrefs++)
                        ref = a + o;
                }
            }
        if (nrefs == 1)
            rt->gc_dac_globals = ref;
    }
    free(buf);
    rt->candidates = hits;
    if (hits > 1)
        ds_diag_add_addr(diags, DS_SEV_WARNING, "GcDacVars", first,
                         "%u blocks pass the GcDacVars signature; the first is used", hits);
    if (!hits)
        return false;
    rt->route = DS_CLR_ROUTE_SIGNATURE;
    return true;
}

/* g_gcDacGlobals from the symbols of --runtime-dir. */
static bool route_symbols(ds_dump *d, ds_clr_runtime *rt, const ds_clr_symbols *sy, ds_diags *diags)
{
    uint64_t g = sy->addr[DS_CLR_SYM_GC_DAC_GLOBALS];
    if (!g) {
        ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0,
                    "--runtime-dir: %s has no g_gcDacGlobals symbol", sy->file.path);
        return false;
    }
    uint64_t p = 0, body[DS_GCDV_COUNT], gs;
    bool server;
    if (g < rt->base || g >= rt->data_end || !rdp(d, rt->ptr, g, &p)) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "g_gcDacGlobals", g,
                         "from --runtime-dir symbols: outside the module or not in the dump");
        return false;
    }
    if (!p || !check_gcdv(d, rt, p, body, &server, &gs)) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "g_gcDacGlobals", g,
                         "from --runtime-dir symbols: points to 0x%llx, which is not a GcDacVars "
                         "v1 block; other routes are tried",
                         (unsigned long long)p);
        return false;
    }
    rt->gc_dac_globals = g;
    accept(rt, p, body, server, gs, d);
    rt->candidates = 1;
    rt->route = sy->build_id_ok ? (ds_clr_route)DS_CLR_ROUTE_SYMBOLS
                                : (ds_clr_route)DS_CLR_ROUTE_SYMBOLS_UNCHECKED;
    return true;
}

ds_status ds_clr_runtime_find(ds_dump *d, const ds_clr_options *opt, ds_clr_runtime *rt,
                              ds_diags *diags)
{
    return ds_clr_runtime_find_sym(d, opt, rt, NULL, diags);
}

ds_status ds_clr_runtime_find_sym(ds_dump *d, const ds_clr_options *opt, ds_clr_runtime *rt,
                                  ds_clr_symbols *syms, ds_diags *diags)
{
    ds_clr_symbols local;
    if (!syms)
        syms = &local;
    memset(syms, 0, sizeof *syms);
    memset(rt, 0, sizeof *rt);
    rt->dac_slot = -1;
    rt->ptr = d->sys.wow64 ? 4 : (d->sys.ptr_size ? d->sys.ptr_size : 8);
    for (size_t i = 0; i < d->nmodules; i++) {
        ds_clr_kind k = classify(d->modules[i].name);
        if (k != DS_CLR_NONE && (rt->kind == DS_CLR_NONE || k == DS_CLR_CORECLR)) {
            rt->kind = k;
            rt->module = &d->modules[i];
        }
    }
    if (rt->kind == DS_CLR_NONE) {
        snprintf(rt->reason, sizeof rt->reason, "no CLR module (coreclr, clr, mscorwks) found");
        return DS_E_NOTFOUND;
    }
    const ds_module *m = rt->module;
    snprintf(rt->module_name, sizeof rt->module_name, "%s", m->name ? m->name : "");
    rt->base = m->base;
    rt->end = m->base + m->size;
    rt->data_end = rt->end;
    version_from_path(m->path, rt->netcore_version, sizeof rt->netcore_version);
    if (m->file_version.valid) {
        snprintf(rt->version, sizeof rt->version, "%u.%u.%u.%u", m->file_version.v[0],
                 m->file_version.v[1], m->file_version.v[2], m->file_version.v[3]);
        snprintf(rt->version_source, sizeof rt->version_source, "PE version resource");
    } else if (rt->netcore_version[0]) {
        snprintf(rt->version, sizeof rt->version, "%s", rt->netcore_version);
        snprintf(rt->version_source, sizeof rt->version_source,
                 "module path (the ELF image has no version resource)");
    } else {
        snprintf(rt->version_source, sizeof rt->version_source, "unknown");
    }
    if (rt->kind == DS_CLR_MSCORWKS) {
        snprintf(rt->reason, sizeof rt->reason,
                 "%s (.NET Framework 2.0-3.5) is recognised but not supported", rt->module_name);
        return DS_E_UNSUPPORTED;
    }
    if (rt->kind == DS_CLR_DESKTOP) {
        snprintf(rt->reason, sizeof rt->reason,
                 "clr.dll (.NET Framework 4.x) is recognised; it has no GcDacVars and its DAC "
                 "globals are not mapped yet (unverified)");
        return DS_E_UNSUPPORTED;
    }
    span sp[64];
    size_t nsp = data_spans(d, rt, sp, 64);
    bool found = false;
    if (opt && opt->runtime_dir) {
        if (strcmp(rt->module_name, "libcoreclr.so"))
            ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0,
                        "--runtime-dir applies to Linux cores (libcoreclr.so); ignored for %s",
                        rt->module_name);
        else if (ds_clr_symbols_load(opt->runtime_dir, m, syms, diags) == DS_OK)
            found = route_symbols(d, rt, syms, diags);
    }
    if (!found && !route_dac_resource(d, rt, diags) && !route_signature(d, rt, sp, nsp, diags)) {
        snprintf(rt->reason, sizeof rt->reason,
                 "no GcDacVars block found in %s's data (not captured, or a runtime newer than "
                 "the v1 layout)",
                 rt->module_name);
        return DS_E_UNSUPPORTED;
    }
    rt->supported = true;
    return DS_OK;
}

void ds_clr_threads_use_symbols(ds_dump *d, const ds_clr_runtime *rt, const ds_clr_symbols *syms,
                                ds_clr_threads *t, ds_diags *diags)
{
    if (!syms || !syms->loaded || !rt || !t)
        return;
    uint64_t ts = syms->addr[DS_CLR_SYM_THREAD_STORE], v = 0;
    if (ts && t->thread_store && rdp(d, rt->ptr, ts, &v) && v != t->thread_store)
        ds_diag_add_addr(diags, DS_SEV_WARNING, "ThreadStore", t->thread_store,
                         "ThreadStore::s_pThreadStore from --runtime-dir symbols holds 0x%llx",
                         (unsigned long long)v);
    uint64_t g = syms->addr[DS_CLR_SYM_FINALIZER_THREAD], fin = 0;
    if (!g)
        return;
    if (!rdp(d, rt->ptr, g, &fin) || !fin) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "g_pFinalizerThread", g,
                         "from --runtime-dir symbols: unreadable or null");
        return;
    }
    bool hit = false;
    for (size_t i = 0; i < t->n; i++) {
        t->v[i].finalizer = t->v[i].addr == fin;
        hit |= t->v[i].finalizer;
    }
    t->finalizer = hit ? fin : 0;
    t->finalizer_source =
        hit ? "g_pFinalizerThread from --runtime-dir libcoreclr.so .symtab" : NULL;
    if (!hit)
        ds_diag_add_addr(diags, DS_SEV_WARNING, "g_pFinalizerThread", g,
                         "from --runtime-dir symbols: points to %llx, which is not in the thread "
                         "list",
                         (unsigned long long)fin);
}
