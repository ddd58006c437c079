/* dumpsleuth: type names of MethodTables without the DAC.
 *
 * MethodTable -> (canonical MT for shared generics) -> loader Module -> Module.m_pSimpleName,
 * which points into the #Strings heap of the module's mapped image -> the PE image around it ->
 * its ECMA-335 metadata (ds_clrmeta) -> TypeDef name. Arrays are named from their element type,
 * generic instantiations from their dictionary's type arguments, like SOS:
 * "System.Collections.Generic.List`1[[DsLeak.Font, dotnet_leak]]". Whatever cannot be read is
 * NULL (printed as UNKNOWN): no name is guessed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"
#include "dumpsleuth/clrmeta.h"
#include "dumpsleuth/pe.h"

#define IMAGE_SCAN_PAGES 16384u /* 64 MB back from the name to the image's MZ */
#define MAX_NAME_DEPTH 8
#define MAX_TYPE_ARGS 64

void clr_names_free(clr_priv *p)
{
    for (size_t i = 0; i < p->nmods; i++)
        if (p->mods[i].meta && !p->mods[i].meta_disk)
            ds_clrmeta_close(p->mods[i].meta);
    free(p->mods);
    p->mods = NULL;
    p->nmods = p->capmods = 0;
    clr_modpath_free(p);
}

static bool is_bsjb(ds_clr_heap *h, uint64_t va)
{
    uint32_t sig;
    return ds_vmem_u32(&h->dump->vm, va, &sig) == DS_MEM_OK && sig == 0x424a5342u;
}

/* The PE image containing va and the address of its metadata: the nearest page below va that
 * starts with a valid PE header, its image covering va. The PAL of CoreCLR on Linux maps a
 * section from file offset 0 (so the headers appear at base + that section's RVA, not at the
 * base): when the metadata is not at the header page + RVA, each such section's placement is
 * tried and accepted only where the metadata signature "BSJB" is found. */
static uint64_t image_around(ds_clr_heap *h, uint64_t va, uint64_t *md_va, uint32_t *md_size)
{
    const ds_module *m = ds_module_at(h->dump, va);
    uint64_t page = m ? m->base : va & ~(uint64_t)0xfff;
    for (unsigned i = 0; i < (m ? 1u : IMAGE_SCAN_PAGES) && page; i++, page -= 0x1000) {
        uint16_t mz;
        if (ds_vmem_u16(&h->dump->vm, page, &mz) != DS_MEM_OK || mz != 0x5a4d)
            continue;
        ds_pe pe;
        memset(&pe, 0, sizeof pe);
        ds_status st = ds_pe_parse(&h->dump->vm, page, &pe, NULL);
        uint64_t base = 0;
        if ((st == DS_OK || st == DS_E_PARTIAL || st == DS_E_FORMAT) && pe.clr_metadata_rva &&
            pe.clr_metadata_size) {
            if (is_bsjb(h, page + pe.clr_metadata_rva))
                base = page;
            for (size_t k = 0; !base && k < pe.nsections; k++) {
                const ds_pe_section *sec = &pe.sections[k];
                uint64_t delta = sec->vaddr - (sec->raw_off & 0xfffu);
                if ((sec->raw_off & ~0xfffu) || !sec->vaddr || delta > page)
                    continue;
                if (is_bsjb(h, page - delta + pe.clr_metadata_rva))
                    base = page - delta;
            }
        }
        if (base && va < base + pe.size_of_image) {
            *md_va = base + pe.clr_metadata_rva;
            *md_size = pe.clr_metadata_size;
        } else {
            base = 0;
        }
        ds_pe_free(&pe);
        return base;
    }
    return 0;
}

/* Size of the metadata whose root ("BSJB") is at root: the end of its furthest stream. 0 when the
 * root is unreadable or implausible. Also reports the #Strings heap range. */
static uint32_t metadata_extent(ds_clr_heap *h, uint64_t root, uint64_t *str_lo, uint64_t *str_hi)
{
    uint8_t b[512];
    size_t got = 0;
    ds_vmem_read(&h->dump->vm, root, b, sizeof b, &got);
    if (got < 32 || memcmp(b, "BSJB", 4))
        return 0;
    uint32_t vlen;
    memcpy(&vlen, b + 12, 4);
    if (vlen > 255 || 16 + (size_t)vlen + 4 > got)
        return 0;
    size_t o = 16 + vlen;
    uint16_t nstreams;
    memcpy(&nstreams, b + o + 2, 2);
    o += 4;
    if (!nstreams || nstreams > 8)
        return 0;
    uint64_t end = 0;
    *str_lo = *str_hi = 0;
    for (unsigned i = 0; i < nstreams; i++) {
        if (o + 8 > got)
            return 0;
        uint32_t off, size;
        memcpy(&off, b + o, 4);
        memcpy(&size, b + o + 4, 4);
        o += 8;
        size_t n = 0;
        while (o + n < got && b[o + n] && n < 32)
            n++;
        if (o + n >= got || n >= 32)
            return 0;
        if (n == 8 && !memcmp(b + o, "#Strings", 8)) {
            *str_lo = root + off;
            *str_hi = root + off + size;
        }
        o += (n + 4) & ~(size_t)3;
        if ((uint64_t)off + size > end)
            end = (uint64_t)off + size;
    }
    if (!end || end > DS_CLRMETA_MAX_SIZE)
        return 0;
    return (uint32_t)end;
}

/* The metadata whose #Strings heap holds va: the nearest "BSJB" root below va (4-aligned, within
 * 64 MB) whose #Strings range contains va. Works whatever the image layout (PE mapped by the
 * Windows loader, or by CoreCLR's PAL on Linux, or a flat file mapping). */
static bool metadata_around(ds_clr_heap *h, uint64_t va, uint64_t *md_va, uint32_t *md_size)
{
    enum { CHUNK = 65536 };
    static uint8_t buf[CHUNK + 4];
    uint64_t lo = va > IMAGE_SCAN_PAGES * 0x1000ull ? va - IMAGE_SCAN_PAGES * 0x1000ull : 0;
    uint64_t hi = va & ~(uint64_t)3;
    while (hi > lo) {
        uint64_t start = hi - lo > CHUNK ? hi - CHUNK : lo;
        size_t want = (size_t)(hi - start) + 4, got = 0;
        ds_vmem_read(&h->dump->vm, start, buf, want, &got);
        if (!got) {
            const ds_range *r = NULL;
            /* skip an unreadable stretch quickly: step back one chunk */
            (void)r;
            hi = start;
            continue;
        }
        for (size_t o = (got >= 4 ? (got - 4) & ~(size_t)3 : 0) + 4; o >= 4;) {
            o -= 4;
            if (memcmp(buf + o, "BSJB", 4))
                continue;
            uint64_t slo, shi;
            uint32_t size = metadata_extent(h, start + o, &slo, &shi);
            if (size && va >= slo && va < shi) {
                *md_va = start + o;
                *md_size = size;
                return true;
            }
        }
        hi = start;
    }
    return false;
}

static clr_module_entry *module_info(ds_clr_heap *h, uint64_t module)
{
    clr_priv *p = h->priv;
    for (size_t i = 0; i < p->nmods; i++)
        if (p->mods[i].module == module)
            return &p->mods[i];
    clr_module_entry e;
    memset(&e, 0, sizeof e);
    e.module = module;
    uint64_t name = 0;
    bool have_ptr =
        ds_vmem_ptr_sized(&h->dump->vm, module + h->ptr, h->ptr, &name) == DS_MEM_OK && name;
    if (have_ptr && ds_vmem_cstr(&h->dump->vm, name, e.simple, sizeof e.simple) == DS_MEM_OK) {
        uint64_t md = 0;
        uint32_t mds = 0;
        e.image = image_around(h, name, &md, &mds);
        if (!e.image && metadata_around(h, name, &md, &mds))
            e.image = md; /* metadata found directly (image base unknown) */
        if (e.image) {
            ds_clrmeta *m = NULL;
            ds_status st = ds_clrmeta_open_vm(&h->dump->vm, md, mds, &m, NULL);
            if (st == DS_OK || st == DS_E_PARTIAL)
                e.meta = m;
        }
    } else {
        e.simple[0] = 0;
    }
    if (!e.meta && have_ptr && p->modpath) {
        void *dm = NULL;
        char an[sizeof e.simple];
        if (clr_modpath_resolve(h, module, name, e.simple, &dm, an, sizeof an)) {
            e.meta = dm;
            e.meta_disk = true;
            if (!e.simple[0])
                snprintf(e.simple, sizeof e.simple, "%s", an);
        }
    }
    e.done = true;
    if (!DS_PUSH(p->mods, p->nmods, p->capmods, e)) {
        if (e.meta && !e.meta_disk)
            ds_clrmeta_close(e.meta);
        return NULL;
    }
    return &p->mods[p->nmods - 1];
}

static bool is_array(uint32_t flags)
{
    return (flags & 0x000C0000u) == 0x00080000u;
}

static char *mt_name(ds_clr_heap *h, uint64_t mt, int depth);

/* A TypeHandle as a MethodTable: a MethodTable itself, or (bit 1 set) a TypeDesc; of those only
 * array TypeDescs (ELEMENT_TYPE_ARRAY 0x14 / SZARRAY 0x1d: {m_typeAndFlags, m_TemplateMT, m_Arg})
 * have a MethodTable, their template. 0 for the others (pointers, byrefs, generic variables). */
static uint64_t th_to_mt(ds_clr_heap *h, uint64_t th)
{
    if (!(th & 2))
        return th;
    uint64_t td = th & ~(uint64_t)3, tmpl;
    uint32_t tf;
    if (ds_vmem_u32(&h->dump->vm, td, &tf) != DS_MEM_OK)
        return 0;
    if ((tf & 0xff) != 0x14 && (tf & 0xff) != 0x1d)
        return 0;
    if (ds_vmem_ptr_sized(&h->dump->vm, td + h->ptr, h->ptr, &tmpl) != DS_MEM_OK)
        return 0;
    return tmpl;
}

/* The module that defines the type (for the assembly part of generic arguments). */
static uint64_t mt_module(ds_clr_heap *h, uint64_t mt, int depth)
{
    clr_mt_raw r;
    if (depth > MAX_NAME_DEPTH || !clr_read_mt(h, mt, &r))
        return 0;
    if (is_array(r.flags)) {
        uint64_t el = th_to_mt(h, r.per_inst_or_elem);
        return el ? mt_module(h, el, depth + 1) : 0;
    }
    if ((r.eeclass_or_canon & 3) == 2) {
        clr_mt_raw c;
        if (!clr_read_mt(h, r.eeclass_or_canon & ~(uint64_t)3, &c))
            return 0;
        r = c;
    }
    if (r.flags2 & 0x10) /* HasModuleOverride: module in a multipurpose slot, not read */
        return 0;
    return r.loader_module;
}

static char *compute_name(ds_clr_heap *h, uint64_t mt, const clr_mt_raw *r0, int depth)
{
    char buf[DS_CLRMETA_NAME_MAX];
    clr_mt_raw r = *r0;
    unsigned P = h->ptr;
    if (is_array(r.flags)) {
        uint64_t el = th_to_mt(h, r.per_inst_or_elem);
        if (!el) /* TypeDesc element other than an array (pointer, function pointer) */
            return NULL;
        char *en = mt_name(h, el, depth + 1);
        if (!en)
            return NULL;
        bool sz = (r.flags & 0x000F0000u) == 0x000A0000u;
        unsigned rank = 1;
        if (!sz) { /* BaseSize = ArrayBase (3 pointers) + rank * (bound + lower bound) */
            if (r.base_size < 3 * P + 8 || (r.base_size - 3 * P) % 8)
                return NULL;
            rank = (r.base_size - 3 * P) / 8;
        }
        if (ds_clrmeta_format_array(en, rank, sz, buf, sizeof buf) != DS_OK)
            return NULL;
        return ds_strdup(buf);
    }
    clr_mt_raw def = r;
    if ((r.eeclass_or_canon & 3) == 2 && !clr_read_mt(h, r.eeclass_or_canon & ~(uint64_t)3, &def))
        return NULL;
    if ((def.flags2 & 0x10) || def.token == 0xffff || !def.token)
        return NULL;
    clr_module_entry *mi = module_info(h, def.loader_module);
    if (!mi || !mi->meta)
        return NULL;
    if (ds_clrmeta_typedef_name(mi->meta, def.token, buf, sizeof buf) != DS_OK)
        return NULL;
    uint32_t gen = (r.flags & 0x80000000u) ? 0 : (r.flags & 0x30u);
    if (!gen || gen == 0x30u) /* not generic, or the typical (open) instantiation */
        return ds_strdup(buf);
    /* instantiation: type arguments from the last dictionary of PerInstInfo */
    if (!(r.flags2 & 0x1))
        return NULL;
    uint64_t pi = r.per_inst_or_elem;
    uint16_t ndicts, npars;
    if (ds_vmem_u16(&h->dump->vm, pi - 4, &ndicts) != DS_MEM_OK ||
        ds_vmem_u16(&h->dump->vm, pi - 2, &npars) != DS_MEM_OK || !ndicts || !npars ||
        ndicts > 256 || npars > MAX_TYPE_ARGS)
        return NULL;
    uint64_t dict;
    if (ds_vmem_ptr_sized(&h->dump->vm, pi + (uint64_t)(ndicts - 1) * P, P, &dict) != DS_MEM_OK)
        return NULL;
    const char *args[MAX_TYPE_ARGS];
    const char *asms[MAX_TYPE_ARGS];
    for (unsigned i = 0; i < npars; i++) {
        uint64_t th;
        if (ds_vmem_ptr_sized(&h->dump->vm, dict + (uint64_t)i * P, P, &th) != DS_MEM_OK ||
            !(th = th_to_mt(h, th)))
            return NULL;
        args[i] = mt_name(h, th, depth + 1);
        if (!args[i])
            return NULL;
        uint64_t am = mt_module(h, th, depth + 1);
        clr_module_entry *ami = am ? module_info(h, am) : NULL;
        asms[i] = ami && ami->simple[0] ? ami->simple : NULL;
    }
    char out[DS_CLRMETA_NAME_MAX];
    if (ds_clrmeta_format_generic(buf, args, npars, asms, out, sizeof out) != DS_OK)
        return NULL;
    return ds_strdup(out);
}

static char *mt_name(ds_clr_heap *h, uint64_t mt, int depth)
{
    if (depth > MAX_NAME_DEPTH)
        return NULL;
    bool fr;
    if (!ds_clr_mt_check(h, mt, NULL, NULL, &fr))
        return NULL;
    clr_mt_entry *e = clr_mt_lookup(h, mt, false);
    if (!e)
        return NULL;
    if (e->name_done)
        return e->name;
    if (fr) {
        e->name = ds_strdup("Free");
    } else {
        clr_mt_raw r = e->raw;
        char *n = compute_name(h, mt, &r, depth);
        e = clr_mt_lookup(h, mt, false); /* the table may have grown */
        if (!e) {
            free(n);
            return NULL;
        }
        e->name = n;
    }
    e->name_done = true;
    return e->name;
}

const char *ds_clr_type_name(ds_clr_heap *h, uint64_t mt)
{
    if (!h || !h->priv)
        return NULL;
    return mt_name(h, mt, 0);
}
