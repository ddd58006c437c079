/* What each later analysis can do with this dump, and what is missing. Pure: no printing. */
#include "dumpsleuth/capabilities.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *ds_cap_level_name(ds_cap_level l)
{
    switch (l) {
    case DS_CAP_YES:
        return "yes";
    case DS_CAP_PARTIAL:
        return "partial";
    case DS_CAP_NO:
        break;
    }
    return "no";
}

/* Is the byte at va readable from the dump? (const: only looks at the range table) */
static bool captured(const ds_vmem *vm, uint64_t va)
{
    const ds_range *r = ds_vmem_next(vm, va);
    return r && r->va <= va && r->kind != DS_RANGE_NOT_CAPTURED;
}

static void set(ds_capability *c, ds_cap_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(ds_capability *c, ds_cap_level l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->level = l;
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

static bool kind_has_heap(ds_dump_kind k)
{
    return k == DS_KIND_FULL || k == DS_KIND_WITH_HEAP;
}

static const char *region_source(const ds_dump *d)
{
    return d->format == DS_FMT_MINIDUMP ? "MemoryInfoList stream" : "PT_LOAD program headers";
}

static void cap_regions(const ds_dump *d, ds_capability *c)
{
    if (d->format == DS_FMT_KDUMP || d->kind == DS_KIND_KERNEL)
        set(c, DS_CAP_NO, "kernel dump: there is no process address space to summarise");
    else if (d->has_region_table && d->nregions)
        set(c, DS_CAP_YES, "%s: %zu regions", region_source(d), d->nregions);
    else if (d->vm.n)
        set(c, DS_CAP_PARTIAL,
            "no %s: region table unavailable; only the %zu captured memory ranges can be listed "
            "(no free/reserved regions, types or protections)",
            region_source(d), d->vm.n);
    else
        set(c, DS_CAP_NO, "no %s and no memory ranges: region table unavailable", region_source(d));
}

static void human(char *buf, size_t n, uint64_t v)
{
    /* analyses do not depend on the output layer: a plain byte count with a binary unit */
    if (v >= (1ull << 30))
        snprintf(buf, n, "%.1f GB", (double)v / (double)(1ull << 30));
    else if (v >= (1ull << 20))
        snprintf(buf, n, "%.1f MB", (double)v / (double)(1ull << 20));
    else
        snprintf(buf, n, "%.1f kB", (double)v / 1024.0);
}

static void cap_memory(const ds_dump *d, const ds_capabilities *o, ds_capability *c)
{
    char cap[32], map[32];
    human(cap, sizeof cap, o->captured_bytes);
    human(map, sizeof map, o->mapped_bytes);
    if (!o->captured_bytes && !d->vm.backend)
        set(c, DS_CAP_NO, "no memory contents captured in the dump");
    else if (d->vm.backend)
        set(c, DS_CAP_YES, "memory read through the %s backend", d->format_name);
    else if (o->mapped_bytes && o->captured_bytes >= o->mapped_bytes)
        set(c, DS_CAP_YES, "%s captured, all of the %s mapped", cap, map);
    else if (d->kind == DS_KIND_FULL && o->mapped_bytes)
        set(c, DS_CAP_YES,
            "full memory dump: %s captured of %s committed (the rest is unreadable memory such as "
            "guard or no-access pages)",
            cap, map);
    else if (d->kind == DS_KIND_FULL)
        set(c, DS_CAP_YES, "%s captured (full memory dump)", cap);
    else if (o->mapped_bytes)
        set(c, DS_CAP_PARTIAL, "only %s of %s mapped memory captured (%.1f%%, dump kind: %s)", cap,
            map, 100.0 * (double)o->captured_bytes / (double)o->mapped_bytes,
            ds_kind_name(d->kind));
    else
        set(c, DS_CAP_PARTIAL,
            "%s captured; dump kind %s and no region table: memory outside the captured ranges "
            "is missing",
            cap, ds_kind_name(d->kind));
}

/* Checks one PEB flavour (ps 4: PEB32 under WoW64, else the native PEB). */
static void ntheap_with(const ds_dump *d, ds_capabilities *o, ds_capability *c, unsigned ps,
                        uint64_t peb, bool bits32)
{
    ds_vmem vm = d->vm; /* private copy: lookups update the view's cache */
    if (!peb) {
        for (size_t i = 0; i < d->nthreads && !peb; i++) {
            uint64_t teb = bits32 ? d->threads[i].teb32 : d->threads[i].teb;
            if (teb)
                ds_vmem_ptr_sized(&vm, teb + (ps == 8 ? 0x60 : 0x30), ps, &peb);
        }
    }
    o->peb = peb;
    o->process_heap = 0;
    if (!peb) {
        set(c, DS_CAP_NO, "%sPEB address unknown (no PEB in the dump header and no readable TEB)",
            bits32 ? "32-bit " : "");
        return;
    }
    uint64_t ph = 0, ph_at = peb + (ps == 8 ? 0x30 : 0x18);
    if (!captured(&vm, peb)) {
        set(c, DS_CAP_NO, "PEB at 0x%" PRIx64 " is not captured in the dump", peb);
        return;
    }
    if (ds_vmem_ptr_sized(&vm, ph_at, ps, &ph) != DS_MEM_OK || !ph) {
        set(c, DS_CAP_NO, "PEB.ProcessHeap at 0x%" PRIx64 " is unreadable", ph_at);
        return;
    }
    o->process_heap = ph;
    uint32_t nheaps = 0;
    ds_vmem_u32(&vm, peb + (ps == 8 ? 0xe8 : 0x88), &nheaps);
    if (!captured(&vm, ph))
        set(c, DS_CAP_NO,
            "process heap 0x%" PRIx64 " is not captured (no heap memory in a %s dump)", ph,
            ds_kind_name(d->kind));
    else if (kind_has_heap(d->kind))
        set(c, DS_CAP_YES,
            "PEB 0x%" PRIx64 ", process heap 0x%" PRIx64 ", PEB.NumberOfHeaps %" PRIu32 "%s", peb,
            ph, nheaps, bits32 ? " (32-bit, WoW64)" : "");
    else
        set(c, DS_CAP_PARTIAL,
            "process heap 0x%" PRIx64 " header captured, but dump kind %s: heap segments may be "
            "missing",
            ph, ds_kind_name(d->kind));
}

static void cap_ntheap(const ds_dump *d, ds_capabilities *o, ds_capability *c)
{
    if (d->sys.os != DS_OS_WINDOWS) {
        set(c, DS_CAP_NO, "not a Windows process: the NT heap exists only on Windows%s",
            d->sys.os == DS_OS_LINUX ? " (glibc malloc walking is not supported)" : "");
        return;
    }
    unsigned ps = d->sys.ptr_size ? d->sys.ptr_size : 8;
    if (d->sys.wow64) {
        /* the 32-bit heaps are the process's own; fall back to the native PEB when the 32-bit
         * one cannot be used (and say why) */
        ntheap_with(d, o, c, 4, d->peb32, true);
        if (c->level != DS_CAP_NO)
            return;
        ds_capability first = *c;
        ntheap_with(d, o, c, ps, d->peb, false);
        if (c->level == DS_CAP_NO) {
            *c = first;
            return;
        }
        size_t k = strlen(c->reason);
        snprintf(c->reason + k, sizeof c->reason - k, " (64-bit PEB; 32-bit: %s)", first.reason);
        return;
    }
    ntheap_with(d, o, c, ps, d->peb, false);
}

static const struct {
    const char *file, *flavor;
} runtimes[] = {
    {"coreclr.dll", "coreclr"}, {"libcoreclr.so", "coreclr"}, {"libcoreclr.dylib", "coreclr"},
    {"clr.dll", "clr"},         {"mscorwks.dll", "mscorwks"}, {"mscorsvr.dll", "mscorwks"},
};

static void cap_clrheap(const ds_dump *d, ds_capabilities *o, ds_capability *c)
{
    o->clr_module = -1;
    for (size_t i = 0; i < d->nmodules && o->clr_module < 0; i++) {
        const char *n = d->modules[i].name ? d->modules[i].name : "";
        for (size_t k = 0; k < sizeof runtimes / sizeof runtimes[0]; k++)
            if (!strcasecmp(n, runtimes[k].file)) {
                o->clr_module = (int)i;
                o->clr_flavor = runtimes[k].flavor;
                break;
            }
    }
    if (o->clr_module < 0) {
        set(c, DS_CAP_NO,
            "no coreclr/clr runtime module loaded: not a .NET process (or the runtime is missing "
            "from the module list)");
        return;
    }
    const ds_module *m = &d->modules[o->clr_module];
    size_t managed = 0;
    for (size_t i = 0; i < d->nmodules; i++)
        managed += d->modules[i].managed;
    if (!captured(&d->vm, m->base))
        set(c, DS_CAP_NO, "runtime module %s at 0x%" PRIx64 " is not captured in the dump", m->name,
            m->base);
    else if (kind_has_heap(d->kind))
        set(c, DS_CAP_YES, "%s at 0x%" PRIx64 ", %zu managed modules", m->name, m->base, managed);
    else
        set(c, DS_CAP_PARTIAL,
            "%s present, but dump kind %s: the GC heap memory is probably not captured", m->name,
            ds_kind_name(d->kind));
}

static void cap_threads(const ds_dump *d, ds_capability *c)
{
    if (!d->nthreads) {
        set(c, DS_CAP_NO, "no thread list in the dump");
        return;
    }
    size_t noctx = 0, nostack = 0;
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        if (!t->has_context)
            noctx++;
        uint64_t probe = t->sp ? t->sp : t->stack_start;
        if (!probe || !captured(&d->vm, probe))
            nostack++;
    }
    if (!noctx && !nostack)
        set(c, DS_CAP_YES, "%zu threads, all with registers and stack memory", d->nthreads);
    else if (noctx == d->nthreads)
        set(c, DS_CAP_PARTIAL, "%zu threads listed, but none has a register context", d->nthreads);
    else
        set(c, DS_CAP_PARTIAL,
            "%zu threads: %zu without a register context, %zu without captured stack memory",
            d->nthreads, noctx, nostack);
}

void ds_capabilities_compute(const ds_dump *d, ds_capabilities *out)
{
    static const char *keys[DS_CAP_COUNT] = {"regions", "memory", "nt_heap", "clr_heap", "threads"};
    static const char *titles[DS_CAP_COUNT] = {
        "region table (summary, regions)", "memory contents (search, extract, profile)",
        "NT heap walk (heap)", "CLR heap (dumpheap, finalizequeue)", "threads & stacks (threads)"};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < DS_CAP_COUNT; i++) {
        out->cap[i].id = (ds_cap_id)i;
        out->cap[i].key = keys[i];
        out->cap[i].title = titles[i];
    }
    out->captured_bytes =
        ds_vmem_bytes(&d->vm, DS_RANGE_DATA) + ds_vmem_bytes(&d->vm, DS_RANGE_ZERO);
    if (d->has_region_table)
        for (size_t i = 0; i < d->nregions; i++)
            if (d->regions[i].state != DS_MEM_FREE && d->regions[i].state != DS_MEM_RESERVE)
                out->mapped_bytes += d->regions[i].size;
    cap_regions(d, &out->cap[DS_CAP_REGIONS]);
    cap_memory(d, out, &out->cap[DS_CAP_MEMORY]);
    cap_ntheap(d, out, &out->cap[DS_CAP_NTHEAP]);
    cap_clrheap(d, out, &out->cap[DS_CAP_CLRHEAP]);
    cap_threads(d, &out->cap[DS_CAP_THREADS]);
}
