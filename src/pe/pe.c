/* dumpsleuth: PE images as mapped in memory, read through the memory view.
 *
 * The image is read as the loader mapped it: an RVA is the address base+rva, never a file offset.
 * Hostile input: every rva/size/count is checked against SizeOfImage and the directory sizes,
 * every loop is bounded. A part whose pages are not in the dump, or which is corrupt, sets its
 * `missing` bit and adds a diagnostic with its address; nothing is guessed. */
#include "dumpsleuth/pe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cursor.h"
#include "base/util.h"

#define PE_MAX_LFANEW 0x100000u      /* NT headers beyond 1 MiB: not a real image */
#define PE_MAX_SECTIONS 4096u        /* sane count (the table is also bounded by SizeOfHeaders) */
#define PE_MAX_EXPORTS 65536u        /* export ordinals are 16-bit */
#define PE_MAX_DEBUG_ENTRIES 256u    /* real images have a handful */
#define PE_MAX_PDATA (1u << 22)      /* 4M runtime functions (48 MiB) */
#define PE_MAX_RES_ENTRIES 4096u     /* entries per resource directory level */
#define PE_MAX_NAME 1024u            /* export name (C++ names can be long) */
#define PE_MAX_FORWARDER 512u        /* "DLL.Function" */
#define PE_MAX_CV_READ (24u + 1024u) /* CodeView header + PDB path */

#define IMAGE_DOS_SIGNATURE 0x5a4du
#define IMAGE_NT_SIGNATURE 0x00004550u
#define IMAGE_NT_OPTIONAL_HDR32_MAGIC 0x10bu
#define IMAGE_NT_OPTIONAL_HDR64_MAGIC 0x20bu
#define IMAGE_FILE_MACHINE_AMD64 0x8664u
#define IMAGE_DEBUG_TYPE_CODEVIEW 2u
#define RT_VERSION 16u
#define VS_FFI_SIGNATURE 0xfeef04bdu
#define CLR_METADATA_SIGNATURE 0x424a5342u /* "BSJB" */

enum { DIR_EXPORT = 0, DIR_RESOURCE = 2, DIR_EXCEPTION = 3, DIR_DEBUG = 6, DIR_CLR = 14 };

typedef struct pe_ctx {
    ds_vmem *vm;
    uint64_t base;
    ds_pe *pe;
    ds_diags *diags;
    bool damaged; /* a corrupt or unreadable part was skipped */
    bool nomem;
} pe_ctx;

/* ---- helpers ---- */

static bool rva_ok(const ds_pe *pe, uint64_t rva, uint64_t len)
{
    return ds_in_bounds(rva, len, pe->size_of_image);
}

/* Reads len bytes at base+rva. Missing bytes read as zero; *got (may be NULL) = bytes read. */
static ds_mem_status rd_at(ds_vmem *vm, uint64_t base, uint64_t rva, void *buf, size_t len,
                           size_t *got)
{
    size_t g = 0;
    ds_mem_status s;
    uint64_t va = base + rva;
    if (va < base || (len && va + (len - 1) < va))
        s = DS_MEM_NOT_MAPPED; /* wraps around the address space */
    else
        s = ds_vmem_read(vm, va, buf, len, &g);
    if (g < len)
        memset((uint8_t *)buf + g, 0, len - g);
    if (got)
        *got = g;
    return s;
}

static ds_mem_status rd(pe_ctx *c, uint64_t rva, void *buf, size_t len, size_t *got)
{
    return rd_at(c->vm, c->base, rva, buf, len, got);
}

static const char *mem_str(ds_mem_status s)
{
    return s == DS_MEM_PARTIAL ? "partly captured" : ds_mem_status_str(s);
}

/* A part exists but its bytes are not in the dump. */
static void miss(pe_ctx *c, uint32_t bit, const char *structure, uint64_t rva, ds_mem_status s,
                 const char *what)
{
    c->pe->missing |= bit;
    c->damaged = true;
    ds_diag_add_addr(c->diags, DS_SEV_WARNING, structure, c->base + rva, "%s not readable (%s)",
                     what, mem_str(s));
}

/* A part is corrupt and was skipped. */
static void bad(pe_ctx *c, uint32_t bit, const char *structure, uint64_t rva, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void bad(pe_ctx *c, uint32_t bit, const char *structure, uint64_t rva, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->pe->missing |= bit;
    c->damaged = true;
    ds_diag_add_addr(c->diags, DS_SEV_WARNING, structure, c->base + rva, "%s", msg);
}

typedef enum { STR_OK, STR_UNTERMINATED, STR_UNREADABLE, STR_OUTSIDE } str_result;

/* Reads a NUL-terminated string at rva into out (at most max-1 bytes, control bytes replaced),
 * bounded by SizeOfImage. *st receives the memory status when unreadable. */
static str_result rd_str(pe_ctx *c, uint32_t rva, char *out, size_t max, ds_mem_status *st)
{
    out[0] = 0;
    *st = DS_MEM_OK;
    if (rva >= c->pe->size_of_image)
        return STR_OUTSIDE;
    uint64_t lim = (uint64_t)c->pe->size_of_image - rva;
    size_t n = lim < max ? (size_t)lim : max;
    size_t avail = 0;
    const uint8_t *p = NULL;
    if (c->base + rva >= c->base) /* (a wrapping address is left to rd, which refuses it) */
        p = ds_vmem_span_max(c->vm, c->base + rva, n, &avail);
    if (p && avail) { /* zero-copy fast path */
        const uint8_t *z = memchr(p, 0, avail);
        if (z) {
            ds_copy_clean(out, max, p, (size_t)(z - p));
            return STR_OK;
        }
    }
    uint8_t *tmp = malloc(n ? n : 1);
    if (!tmp) {
        c->nomem = true;
        *st = DS_MEM_ERROR;
        return STR_UNREADABLE;
    }
    size_t got = 0;
    ds_mem_status s = rd(c, rva, tmp, n, &got);
    const uint8_t *z = memchr(tmp, 0, got);
    str_result r;
    if (z) {
        ds_copy_clean(out, max, tmp, (size_t)(z - tmp));
        r = STR_OK;
    } else if (got == n) {
        ds_copy_clean(out, max, tmp, got);
        r = STR_UNTERMINATED;
    } else {
        *st = s == DS_MEM_PARTIAL ? DS_MEM_NOT_CAPTURED : s;
        r = STR_UNREADABLE;
    }
    free(tmp);
    return r;
}

/* ---- headers ---- */

static ds_status parse_headers(pe_ctx *c, uint32_t *sect_off, uint32_t *nsect)
{
    ds_pe *pe = c->pe;
    uint8_t dos[64];
    ds_mem_status s = rd(c, 0, dos, sizeof dos, NULL);
    if (s != DS_MEM_OK) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_DOS_HEADER", c->base,
                         "image headers not in the dump (%s)", mem_str(s));
        return DS_E_NOTFOUND;
    }
    if (ds_le16(dos) != IMAGE_DOS_SIGNATURE) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_DOS_HEADER", c->base,
                         "no MZ signature (0x%04x)", ds_le16(dos));
        return DS_E_FORMAT;
    }
    uint32_t lfanew = ds_le32(dos + 0x3c);
    if (lfanew < 4 || lfanew > PE_MAX_LFANEW) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_DOS_HEADER", c->base + 0x3c,
                         "e_lfanew 0x%x out of range", lfanew);
        return DS_E_FORMAT;
    }
    uint8_t fh[24]; /* signature + IMAGE_FILE_HEADER */
    s = rd(c, lfanew, fh, sizeof fh, NULL);
    if (s != DS_MEM_OK) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_NT_HEADERS", c->base + lfanew,
                         "NT headers not in the dump (%s)", mem_str(s));
        return DS_E_NOTFOUND;
    }
    if (ds_le32(fh) != IMAGE_NT_SIGNATURE) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_NT_HEADERS", c->base + lfanew,
                         "no PE signature (0x%08x)", ds_le32(fh));
        return DS_E_FORMAT;
    }
    pe->machine = ds_le16(fh + 4);
    uint16_t nsections = ds_le16(fh + 6);
    pe->timestamp = ds_le32(fh + 8);
    uint16_t opt_size = ds_le16(fh + 20);
    pe->characteristics = ds_le16(fh + 22);

    uint8_t opt[240];
    size_t want = opt_size < sizeof opt ? opt_size : sizeof opt;
    if (want < 2) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_FILE_HEADER", c->base + lfanew + 4,
                         "SizeOfOptionalHeader %u too small", opt_size);
        return DS_E_FORMAT;
    }
    s = rd(c, (uint64_t)lfanew + 24, opt, want, NULL);
    if (s != DS_MEM_OK) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_OPTIONAL_HEADER", c->base + lfanew + 24,
                         "optional header not in the dump (%s)", mem_str(s));
        return DS_E_NOTFOUND;
    }
    uint16_t magic = ds_le16(opt);
    size_t dd_off;
    if (magic == IMAGE_NT_OPTIONAL_HDR32_MAGIC) {
        dd_off = 96;
    } else if (magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC) {
        dd_off = 112;
        pe->pe32plus = true;
    } else {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_OPTIONAL_HEADER", c->base + lfanew + 24,
                         "unknown optional header magic 0x%04x", magic);
        return DS_E_FORMAT;
    }
    if (want < dd_off) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_FILE_HEADER", c->base + lfanew + 4,
                         "SizeOfOptionalHeader %u too small for magic 0x%04x", opt_size, magic);
        return DS_E_FORMAT;
    }
    pe->entry_rva = ds_le32(opt + 16);
    pe->image_base = pe->pe32plus ? ds_le64(opt + 24) : ds_le32(opt + 28);
    pe->size_of_image = ds_le32(opt + 56);
    pe->size_of_headers = ds_le32(opt + 60);
    pe->checksum = ds_le32(opt + 64);
    pe->subsystem = ds_le16(opt + 68);
    pe->dll_characteristics = ds_le16(opt + 70);
    uint32_t nrva = ds_le32(opt + dd_off - 4);
    uint64_t hdr_end = (uint64_t)lfanew + 24 + opt_size;
    if (pe->size_of_image == 0 || pe->size_of_headers > pe->size_of_image ||
        hdr_end > pe->size_of_image) {
        ds_diag_add_addr(c->diags, DS_SEV_ERROR, "IMAGE_OPTIONAL_HEADER", c->base + lfanew + 24,
                         "SizeOfImage 0x%x / SizeOfHeaders 0x%x inconsistent (headers end 0x%llx)",
                         pe->size_of_image, pe->size_of_headers, (unsigned long long)hdr_end);
        return DS_E_FORMAT;
    }
    uint32_t fit = (uint32_t)((want - dd_off) / 8);
    pe->ndirs = nrva < 16 ? nrva : 16;
    if (pe->ndirs > fit)
        pe->ndirs = fit;
    if (nrva > pe->ndirs)
        ds_diag_add_addr(c->diags, DS_SEV_NOTE, "IMAGE_OPTIONAL_HEADER", c->base + lfanew + 24,
                         "NumberOfRvaAndSizes %u, %u data directories used", nrva, pe->ndirs);
    for (uint32_t i = 0; i < pe->ndirs; i++) {
        pe->dir_rva[i] = ds_le32(opt + dd_off + 8 * i);
        pe->dir_size[i] = ds_le32(opt + dd_off + 8 * i + 4);
    }
    pe->have |= DS_PE_HAVE_HEADERS;

    /* the section table follows the optional header, inside SizeOfHeaders */
    *sect_off = (uint32_t)hdr_end;
    uint64_t room = pe->size_of_headers > hdr_end ? (pe->size_of_headers - hdr_end) / 40 : 0;
    uint32_t n = nsections;
    if (n > room || n > PE_MAX_SECTIONS) {
        uint32_t keep = (uint32_t)(room < PE_MAX_SECTIONS ? room : PE_MAX_SECTIONS);
        bad(c, DS_PE_HAVE_HEADERS, "IMAGE_SECTION_HEADER", hdr_end,
            "NumberOfSections %u does not fit in SizeOfHeaders 0x%x: %u kept", n,
            pe->size_of_headers, keep);
        n = keep;
    }
    *nsect = n;
    return DS_OK;
}

static void parse_sections(pe_ctx *c, uint32_t off, uint32_t n)
{
    ds_pe *pe = c->pe;
    if (!n)
        return;
    uint8_t *buf = malloc((size_t)n * 40);
    pe->sections = calloc(n, sizeof *pe->sections);
    if (!buf || !pe->sections) {
        free(buf);
        c->nomem = true;
        return;
    }
    size_t got = 0;
    ds_mem_status s = rd(c, off, buf, (size_t)n * 40, &got);
    if (s != DS_MEM_OK)
        miss(c, DS_PE_HAVE_HEADERS, "IMAGE_SECTION_HEADER", off + got, s, "section table");
    size_t have = got / 40;
    for (size_t i = 0; i < have; i++) {
        const uint8_t *h = buf + i * 40;
        ds_pe_section *sec = &pe->sections[i];
        ds_copy_clean(sec->name, sizeof sec->name, h, 8);
        sec->vsize = ds_le32(h + 8);
        sec->vaddr = ds_le32(h + 12);
        sec->raw_size = ds_le32(h + 16);
        sec->raw_off = ds_le32(h + 20);
        sec->characteristics = ds_le32(h + 36);
    }
    pe->nsections = have;
    free(buf);
}

/* ---- exports ---- */

static bool push_export(pe_ctx *c, size_t *cap, ds_pe_export e)
{
    ds_pe *pe = c->pe;
    if (!DS_PUSH(pe->exports, pe->nexports, *cap, e)) {
        c->nomem = true;
        return false;
    }
    return true;
}

static void parse_exports(pe_ctx *c)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_EXPORTS;
    const char *S = "IMAGE_EXPORT_DIRECTORY";
    uint32_t drva = pe->dir_rva[DIR_EXPORT], dsz = pe->dir_size[DIR_EXPORT];
    if (pe->ndirs <= DIR_EXPORT || !drva || !dsz)
        return;
    if (!rva_ok(pe, drva, 40)) {
        bad(c, B, S, drva, "export directory rva 0x%x outside the image", drva);
        return;
    }
    uint8_t d[40];
    ds_mem_status s = rd(c, drva, d, sizeof d, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, S, drva, s, "export directory");
        return;
    }
    pe->have |= B;
    pe->export_timestamp = ds_le32(d + 4);
    uint32_t name_rva = ds_le32(d + 12);
    pe->export_base = ds_le32(d + 16);
    uint32_t nf = ds_le32(d + 20), nn = ds_le32(d + 24);
    uint32_t aof = ds_le32(d + 28), aon = ds_le32(d + 32), aoo = ds_le32(d + 36);

    char str[PE_MAX_NAME];
    if (name_rva) {
        str_result r = rd_str(c, name_rva, str, sizeof str, &s);
        if (r == STR_OK)
            pe->export_name = ds_strdup(str);
        else if (r == STR_UNREADABLE)
            miss(c, B, S, name_rva, s, "export DLL name");
        else
            bad(c, B, S, drva + 12, "export DLL name at rva 0x%x invalid", name_rva);
    }
    if (nf > PE_MAX_EXPORTS || !rva_ok(pe, aof, (uint64_t)nf * 4)) {
        bad(c, B, S, drva + 20, "NumberOfFunctions %u / AddressOfFunctions 0x%x out of range", nf,
            aof);
        return;
    }
    if (nn > PE_MAX_EXPORTS || !rva_ok(pe, aon, (uint64_t)nn * 4) ||
        !rva_ok(pe, aoo, (uint64_t)nn * 2)) {
        bad(c, B, S, drva + 24,
            "NumberOfNames %u / AddressOfNames 0x%x / AddressOfNameOrdinals 0x%x out of range", nn,
            aon, aoo);
        nn = 0; /* still list the functions by ordinal */
    }
    if (!nf)
        return;
    uint8_t *funcs = malloc((size_t)nf * 4);
    uint8_t *names = malloc(nn ? (size_t)nn * 4 : 1);
    uint8_t *ords = malloc(nn ? (size_t)nn * 2 : 1);
    size_t *slot = malloc((size_t)nf * sizeof *slot);
    size_t cap = 0;
    if (!funcs || !names || !ords || !slot) {
        c->nomem = true;
        goto out;
    }
    s = rd(c, aof, funcs, (size_t)nf * 4, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, S, aof, s, "export address table");
        goto out;
    }
    if (nn) {
        s = rd(c, aon, names, (size_t)nn * 4, NULL);
        if (s != DS_MEM_OK) {
            miss(c, B, S, aon, s, "export name pointer table");
            nn = 0;
        }
    }
    if (nn) {
        s = rd(c, aoo, ords, (size_t)nn * 2, NULL);
        if (s != DS_MEM_OK) {
            miss(c, B, S, aoo, s, "export ordinal table");
            nn = 0;
        }
    }
    uint32_t nbad = 0, first_bad = 0, nmiss = 0, first_miss = 0;
    ds_mem_status miss_st = DS_MEM_OK;
    for (uint32_t i = 0; i < nf; i++) {
        slot[i] = SIZE_MAX;
        uint32_t frva = ds_le32(funcs + 4 * i);
        if (!frva)
            continue;
        if ((uint64_t)pe->export_base + i > UINT32_MAX || frva >= pe->size_of_image) {
            if (!nbad++)
                first_bad = aof + 4 * i;
            continue;
        }
        ds_pe_export e = {(uint32_t)(pe->export_base + i), frva, NULL, NULL};
        if (frva >= drva && frva - drva < dsz) { /* inside the directory: a forwarder */
            e.rva = 0;
            ds_mem_status fs;
            str_result r = rd_str(c, frva, str, PE_MAX_FORWARDER, &fs);
            if (r == STR_OK) {
                if (!(e.forwarder = ds_strdup(str))) {
                    c->nomem = true;
                    goto out;
                }
            } else if (r == STR_UNREADABLE) {
                if (!nmiss++) {
                    first_miss = frva;
                    miss_st = fs;
                }
            } else if (!nbad++) {
                first_bad = frva;
            }
        }
        if (!push_export(c, &cap, e)) {
            free(e.forwarder);
            goto out;
        }
        slot[i] = pe->nexports - 1;
    }
    for (uint32_t j = 0; j < nn; j++) {
        uint32_t ix = ds_le16(ords + 2 * j);
        uint32_t nrva = ds_le32(names + 4 * j);
        if (ix >= nf || slot[ix] == SIZE_MAX) {
            if (!nbad++)
                first_bad = aoo + 2 * j;
            continue;
        }
        ds_mem_status ns;
        str_result r = rd_str(c, nrva, str, sizeof str, &ns);
        if (r != STR_OK) {
            if (r == STR_UNREADABLE) {
                if (!nmiss++) {
                    first_miss = nrva;
                    miss_st = ns;
                }
            } else if (!nbad++) {
                first_bad = aon + 4 * j;
            }
            continue;
        }
        char *nm = ds_strdup(str);
        if (!nm) {
            c->nomem = true;
            goto out;
        }
        ds_pe_export *e = &pe->exports[slot[ix]];
        if (!e->name) {
            e->name = nm;
            continue;
        }
        /* a second name for the same function (alias) */
        ds_pe_export alias = {e->ordinal, e->rva, nm, NULL};
        if (e->forwarder && !(alias.forwarder = ds_strdup(e->forwarder))) {
            free(nm);
            c->nomem = true;
            goto out;
        }
        if (!push_export(c, &cap, alias)) {
            free(nm);
            free(alias.forwarder);
            goto out;
        }
    }
    if (nbad)
        bad(c, B, S, first_bad, "%u export entries invalid (rva/ordinal/name out of range)", nbad);
    if (nmiss) {
        c->pe->missing |= B;
        c->damaged = true;
        ds_diag_add_addr(c->diags, DS_SEV_WARNING, S, c->base + first_miss,
                         "%u export names/forwarders not readable (%s)", nmiss, mem_str(miss_st));
    }
out:
    free(funcs);
    free(names);
    free(ords);
    free(slot);
}

/* ---- debug directory / CodeView ---- */

static void parse_codeview(pe_ctx *c, uint32_t rva, uint32_t size, uint64_t entry_rva)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_DEBUG;
    const char *S = "CV_INFO_PDB70";
    if (!rva) {
        bad(c, B, S, entry_rva, "CodeView record not mapped (AddressOfRawData 0)");
        return;
    }
    if (size < 16 || !rva_ok(pe, rva, size)) {
        bad(c, B, S, entry_rva, "CodeView record rva 0x%x size 0x%x invalid", rva, size);
        return;
    }
    uint8_t b[PE_MAX_CV_READ];
    size_t n = size < sizeof b ? size : sizeof b;
    ds_mem_status s = rd(c, rva, b, n, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, S, rva, s, "CodeView record");
        return;
    }
    size_t name_off;
    if (!memcmp(b, "RSDS", 4) && n >= 24) {
        pe->cv.kind = 1;
        memcpy(pe->cv.guid, b + 4, 16);
        pe->cv.age = ds_le32(b + 20);
        name_off = 24;
    } else if (!memcmp(b, "NB10", 4)) {
        pe->cv.kind = 2;
        pe->cv.signature = ds_le32(b + 8);
        pe->cv.age = ds_le32(b + 12);
        name_off = 16;
    } else {
        bad(c, B, S, rva, "unknown CodeView signature 0x%08x", ds_le32(b));
        return;
    }
    const uint8_t *z = memchr(b + name_off, 0, n - name_off);
    ds_copy_clean(pe->cv.pdb, sizeof pe->cv.pdb, b + name_off,
                  z ? (size_t)(z - (b + name_off)) : n - name_off);
}

static void parse_debug(pe_ctx *c)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_DEBUG;
    const char *S = "IMAGE_DEBUG_DIRECTORY";
    uint32_t drva = pe->dir_rva[DIR_DEBUG], dsz = pe->dir_size[DIR_DEBUG];
    if (pe->ndirs <= DIR_DEBUG || !drva || !dsz)
        return;
    if (!rva_ok(pe, drva, dsz) || dsz < 28) {
        bad(c, B, S, drva, "debug directory rva 0x%x size 0x%x invalid", drva, dsz);
        return;
    }
    uint32_t n = dsz / 28;
    if (n > PE_MAX_DEBUG_ENTRIES) {
        bad(c, B, S, drva, "%u debug directory entries, %u read", n, PE_MAX_DEBUG_ENTRIES);
        n = PE_MAX_DEBUG_ENTRIES;
    }
    uint8_t *buf = malloc((size_t)n * 28);
    if (!buf) {
        c->nomem = true;
        return;
    }
    size_t got = 0;
    ds_mem_status s = rd(c, drva, buf, (size_t)n * 28, &got);
    if (s != DS_MEM_OK)
        miss(c, B, S, drva + got, s, "debug directory");
    if (got >= 28)
        pe->have |= B;
    for (size_t i = 0; i < got / 28; i++) {
        const uint8_t *e = buf + 28 * i;
        if (ds_le32(e + 12) == IMAGE_DEBUG_TYPE_CODEVIEW && !pe->cv.kind) {
            parse_codeview(c, ds_le32(e + 20), ds_le32(e + 16), drva + 28 * i);
            if (pe->cv.kind)
                break;
        }
    }
    free(buf);
}

/* ---- resources ---- */

typedef enum { RES_FOUND, RES_ABSENT, RES_UNREADABLE, RES_CORRUPT } res_result;

typedef struct res_key {
    uint32_t id;      /* when name is NULL; 0 and no name: the first entry */
    const char *name; /* UTF-8, compared case-insensitively */
} res_key;

/* Compares the IMAGE_RESOURCE_DIR_STRING_U at off (relative to the resource root) to key. */
static res_result res_name_eq(ds_vmem *vm, const ds_pe *pe, uint32_t root, uint64_t limit,
                              uint32_t off, const char *key, bool *eq, uint64_t *where)
{
    *eq = false;
    uint8_t lb[2];
    *where = pe->base + root + off;
    if (off > limit || limit - off < 2)
        return RES_CORRUPT;
    if (rd_at(vm, pe->base, (uint64_t)root + off, lb, 2, NULL) != DS_MEM_OK)
        return RES_UNREADABLE;
    uint32_t len = ds_le16(lb);
    if ((uint64_t)len * 2 > limit - off - 2)
        return RES_CORRUPT;
    size_t klen = strlen(key);
    if (len > klen) /* every UTF-16 unit is at least one UTF-8 byte */
        return RES_FOUND;
    uint8_t units[512];
    if (len * 2 > sizeof units)
        return RES_FOUND;
    if (rd_at(vm, pe->base, (uint64_t)root + off + 2, units, (size_t)len * 2, NULL) != DS_MEM_OK)
        return RES_UNREADABLE;
    char u8[1024];
    ds_utf16le_to_utf8(units, len, u8, sizeof u8);
    *eq = strcasecmp(u8, key) == 0;
    return RES_FOUND;
}

static res_result res_find(ds_vmem *vm, const ds_pe *pe, const res_key keys[3], uint32_t *out_rva,
                           uint32_t *out_size, uint64_t *where)
{
    uint32_t root = pe->dir_rva[DIR_RESOURCE], rsz = pe->dir_size[DIR_RESOURCE];
    *where = pe->base + root;
    if (!(pe->have & DS_PE_HAVE_HEADERS) || pe->ndirs <= DIR_RESOURCE || !root || !rsz)
        return RES_ABSENT;
    if (root >= pe->size_of_image)
        return RES_CORRUPT;
    uint64_t limit = pe->size_of_image - root;
    if (rsz < limit)
        limit = rsz;
    uint32_t off = 0;
    /* type, name, language: exactly three levels, so a directory pointing back at itself
     * (or at any earlier one) cannot loop */
    for (int level = 0; level < 3; level++) {
        uint8_t hdr[16];
        *where = pe->base + root + off;
        if (off > limit || limit - off < 16)
            return RES_CORRUPT;
        if (rd_at(vm, pe->base, (uint64_t)root + off, hdr, 16, NULL) != DS_MEM_OK)
            return RES_UNREADABLE;
        uint32_t total = (uint32_t)ds_le16(hdr + 12) + ds_le16(hdr + 14);
        if (total > (limit - off - 16) / 8 || total > PE_MAX_RES_ENTRIES)
            return RES_CORRUPT;
        const res_key *k = &keys[level];
        bool first = !k->name && !k->id, found = false, unreadable = false;
        uint32_t next = 0;
        for (uint32_t i = 0; i < total && !found; i++) {
            uint8_t e[8];
            uint64_t eoff = (uint64_t)off + 16 + 8 * (uint64_t)i;
            if (rd_at(vm, pe->base, root + eoff, e, 8, NULL) != DS_MEM_OK) {
                *where = pe->base + root + eoff;
                return RES_UNREADABLE;
            }
            uint32_t name = ds_le32(e), data = ds_le32(e + 4);
            bool named = (name & 0x80000000u) != 0;
            if (first) {
                found = true;
            } else if (k->name) {
                if (named) {
                    bool eq;
                    uint64_t w;
                    res_result r =
                        res_name_eq(vm, pe, root, limit, name & 0x7fffffffu, k->name, &eq, &w);
                    if (r == RES_UNREADABLE)
                        unreadable = true;
                    else if (r == RES_FOUND)
                        found = eq;
                }
            } else {
                found = !named && name == k->id;
            }
            if (found) {
                bool subdir = (data & 0x80000000u) != 0;
                *where = pe->base + root + eoff;
                if (subdir != (level < 2))
                    return RES_CORRUPT;
                next = data & 0x7fffffffu;
            }
        }
        if (!found)
            return unreadable ? RES_UNREADABLE : RES_ABSENT;
        off = next;
    }
    uint8_t de[16]; /* IMAGE_RESOURCE_DATA_ENTRY */
    *where = pe->base + root + off;
    if (off > limit || limit - off < 16)
        return RES_CORRUPT;
    if (rd_at(vm, pe->base, (uint64_t)root + off, de, 16, NULL) != DS_MEM_OK)
        return RES_UNREADABLE;
    uint32_t drva = ds_le32(de), dsize = ds_le32(de + 4);
    if (!drva || !rva_ok(pe, drva, dsize))
        return RES_CORRUPT;
    *out_rva = drva;
    *out_size = dsize;
    return RES_FOUND;
}

bool ds_pe_find_resource(ds_vmem *vm, const ds_pe *pe, uint32_t type_id, const char *type_name,
                         uint32_t name_id, const char *name_str, uint32_t *rva, uint32_t *size)
{
    if (!vm || !pe)
        return false;
    res_key keys[3] = {{type_id, type_name}, {name_id, name_str}, {0, NULL}};
    uint32_t r = 0, s = 0;
    uint64_t where;
    if (res_find(vm, pe, keys, &r, &s, &where) != RES_FOUND)
        return false;
    if (rva)
        *rva = r;
    if (size)
        *size = s;
    return true;
}

static void parse_version(pe_ctx *c)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_VERSION;
    const char *S = "VS_VERSIONINFO";
    res_key keys[3] = {{RT_VERSION, NULL}, {0, NULL}, {0, NULL}};
    uint32_t rva = 0, size = 0;
    uint64_t where = 0;
    res_result r = res_find(c->vm, pe, keys, &rva, &size, &where);
    if (r == RES_ABSENT)
        return;
    if (r == RES_UNREADABLE) {
        pe->missing |= B;
        c->damaged = true;
        ds_diag_add_addr(c->diags, DS_SEV_WARNING, "IMAGE_RESOURCE_DIRECTORY", where,
                         "resource directory not readable (not in the dump)");
        return;
    }
    if (r == RES_CORRUPT) {
        bad(c, B, "IMAGE_RESOURCE_DIRECTORY", where - c->base, "resource directory corrupt");
        return;
    }
    uint8_t b[256];
    size_t n = size < sizeof b ? size : sizeof b;
    if (n < 40 + 52) {
        bad(c, B, S, rva, "version resource too small (%u bytes)", size);
        return;
    }
    ds_mem_status s = rd(c, rva, b, n, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, S, rva, s, "version resource");
        return;
    }
    /* wLength, wValueLength, wType, szKey "VS_VERSION_INFO", padding to 32 bits, value */
    static const char key[] = "VS_VERSION_INFO";
    uint16_t value_len = ds_le16(b + 2);
    size_t ko = 6, i = 0;
    for (; i < sizeof key; i++)
        if (ds_le16(b + ko + 2 * i) != (uint8_t)key[i])
            break;
    if (i != sizeof key) {
        bad(c, B, S, rva, "version resource key is not VS_VERSION_INFO");
        return;
    }
    size_t vo = (ko + 2 * sizeof key + 3) & ~(size_t)3;
    if (value_len == 0) { /* allowed: a version resource without VS_FIXEDFILEINFO */
        ds_diag_add_addr(c->diags, DS_SEV_NOTE, S, c->base + rva,
                         "version resource has no VS_FIXEDFILEINFO");
        return;
    }
    if (value_len < 52 || vo + 52 > n) {
        bad(c, B, S, rva, "no VS_FIXEDFILEINFO (wValueLength %u)", value_len);
        return;
    }
    const uint8_t *f = b + vo;
    if (ds_le32(f) != VS_FFI_SIGNATURE) {
        bad(c, B, S, rva + vo, "VS_FIXEDFILEINFO signature 0x%08x", ds_le32(f));
        return;
    }
    uint32_t fms = ds_le32(f + 8), fls = ds_le32(f + 12);
    uint32_t pms = ds_le32(f + 16), pls = ds_le32(f + 20);
    pe->file_version.valid = true;
    pe->file_version.v[0] = (uint16_t)(fms >> 16);
    pe->file_version.v[1] = (uint16_t)fms;
    pe->file_version.v[2] = (uint16_t)(fls >> 16);
    pe->file_version.v[3] = (uint16_t)fls;
    pe->product_version.valid = true;
    pe->product_version.v[0] = (uint16_t)(pms >> 16);
    pe->product_version.v[1] = (uint16_t)pms;
    pe->product_version.v[2] = (uint16_t)(pls >> 16);
    pe->product_version.v[3] = (uint16_t)pls;
    pe->file_flags = ds_le32(f + 28);
    pe->file_os = ds_le32(f + 32);
    pe->file_type = ds_le32(f + 36);
    pe->have |= B;
}

/* ---- .pdata ---- */

static void parse_pdata(pe_ctx *c)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_PDATA;
    const char *S = "IMAGE_RUNTIME_FUNCTION_ENTRY";
    uint32_t drva = pe->dir_rva[DIR_EXCEPTION], dsz = pe->dir_size[DIR_EXCEPTION];
    if (pe->machine != IMAGE_FILE_MACHINE_AMD64 || pe->ndirs <= DIR_EXCEPTION || !drva || !dsz)
        return;
    if (!rva_ok(pe, drva, dsz)) {
        bad(c, B, S, drva, "exception directory rva 0x%x size 0x%x outside the image", drva, dsz);
        return;
    }
    uint32_t n = dsz / 12;
    if (n > PE_MAX_PDATA) {
        bad(c, B, S, drva, "%u runtime functions, %u read", n, PE_MAX_PDATA);
        n = PE_MAX_PDATA;
    }
    if (!n)
        return;
    uint8_t *buf = malloc((size_t)n * 12);
    pe->pdata = malloc((size_t)n * sizeof *pe->pdata);
    if (!buf || !pe->pdata) {
        free(buf);
        c->nomem = true;
        return;
    }
    size_t got = 0;
    ds_mem_status s = rd(c, drva, buf, (size_t)n * 12, &got);
    if (s != DS_MEM_OK) /* the readable prefix is kept */
        miss(c, B, S, drva + got, s, "exception directory");
    size_t nbad = 0;
    uint32_t first_bad = 0;
    bool sorted = true;
    for (size_t i = 0; i < got / 12; i++) {
        const uint8_t *e = buf + 12 * i;
        ds_pe_runtime_function f = {ds_le32(e), ds_le32(e + 4), ds_le32(e + 8)};
        if (!f.begin && !f.end && !f.unwind)
            continue; /* padding */
        if (!(f.begin < f.end && f.end <= pe->size_of_image && f.unwind < pe->size_of_image)) {
            if (!nbad++)
                first_bad = drva + 12 * (uint32_t)i;
            continue;
        }
        if (pe->npdata && f.begin < pe->pdata[pe->npdata - 1].end)
            sorted = false;
        pe->pdata[pe->npdata++] = f;
    }
    pe->pdata_sorted = sorted;
    if (nbad)
        bad(c, B, S, first_bad, "%zu runtime function entries invalid (skipped)", nbad);
    if (!sorted)
        ds_diag_add_addr(c->diags, DS_SEV_NOTE, S, c->base + drva,
                         "runtime function table is not sorted");
    if (got >= 12)
        pe->have |= B;
    free(buf);
}

/* ---- CLR ---- */

static void parse_clr(pe_ctx *c)
{
    ds_pe *pe = c->pe;
    const uint32_t B = DS_PE_HAVE_CLR;
    const char *S = "IMAGE_COR20_HEADER";
    uint32_t drva = pe->dir_rva[DIR_CLR], dsz = pe->dir_size[DIR_CLR];
    if (pe->ndirs <= DIR_CLR || !drva || !dsz)
        return;
    if (!rva_ok(pe, drva, 24)) {
        bad(c, B, S, drva, "CLR header rva 0x%x outside the image", drva);
        return;
    }
    pe->has_clr = true;
    uint8_t h[24]; /* cb, runtime version, MetaData, Flags, EntryPoint */
    ds_mem_status s = rd(c, drva, h, sizeof h, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, S, drva, s, "CLR header");
        return;
    }
    uint32_t cb = ds_le32(h);
    if (cb < 24) {
        bad(c, B, S, drva, "CLR header cb %u too small", cb);
        return;
    }
    pe->clr_major = ds_le16(h + 4);
    pe->clr_minor = ds_le16(h + 6);
    pe->clr_metadata_rva = ds_le32(h + 8);
    pe->clr_metadata_size = ds_le32(h + 12);
    pe->clr_flags = ds_le32(h + 16);
    pe->clr_metadata_va = c->base + pe->clr_metadata_rva;
    pe->have |= B;
    uint32_t mrva = pe->clr_metadata_rva, msz = pe->clr_metadata_size;
    if (!mrva)
        return;
    const char *MS = "STORAGESIGNATURE";
    if (msz < 16 || !rva_ok(pe, mrva, msz)) {
        bad(c, B, MS, drva + 8, "CLR metadata rva 0x%x size 0x%x invalid", mrva, msz);
        return;
    }
    uint8_t m[16 + 256];
    s = rd(c, mrva, m, 16, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, MS, mrva, s, "CLR metadata root");
        return;
    }
    if (ds_le32(m) != CLR_METADATA_SIGNATURE) {
        bad(c, B, MS, mrva, "metadata root signature 0x%08x (expected BSJB)", ds_le32(m));
        return;
    }
    uint32_t vlen = ds_le32(m + 12);
    if (vlen > 255 || vlen > msz - 16) {
        bad(c, B, MS, mrva + 12, "metadata version length %u invalid", vlen);
        return;
    }
    s = rd(c, (uint64_t)mrva + 16, m + 16, vlen, NULL);
    if (s != DS_MEM_OK) {
        miss(c, B, MS, mrva + 16, s, "CLR metadata version string");
        return;
    }
    ds_copy_clean(pe->clr_version, sizeof pe->clr_version, m + 16, vlen);
}

/* ---- entry points ---- */

ds_status ds_pe_parse(ds_vmem *vm, uint64_t base, ds_pe *pe, ds_diags *diags)
{
    if (!pe)
        return DS_E_USAGE;
    memset(pe, 0, sizeof *pe);
    pe->base = base;
    if (!vm)
        return DS_E_USAGE;
    pe_ctx c = {vm, base, pe, diags, false, false};
    uint32_t sect_off = 0, nsect = 0;
    ds_status st = parse_headers(&c, &sect_off, &nsect);
    if (st != DS_OK)
        return st;
    parse_sections(&c, sect_off, nsect);
    parse_exports(&c);
    parse_debug(&c);
    parse_version(&c);
    parse_pdata(&c);
    parse_clr(&c);
    if (c.nomem)
        return DS_E_NOMEM;
    return (c.damaged || pe->missing) ? DS_E_PARTIAL : DS_OK;
}

void ds_pe_free(ds_pe *pe)
{
    if (!pe)
        return;
    free(pe->sections);
    free(pe->export_name);
    for (size_t i = 0; i < pe->nexports; i++) {
        free(pe->exports[i].name);
        free(pe->exports[i].forwarder);
    }
    free(pe->exports);
    free(pe->pdata);
    memset(pe, 0, sizeof *pe);
}

const ds_pe_export *ds_pe_export_by_name(const ds_pe *pe, const char *name)
{
    if (!pe || !name)
        return NULL;
    for (size_t i = 0; i < pe->nexports; i++)
        if (pe->exports[i].name && !strcmp(pe->exports[i].name, name))
            return &pe->exports[i];
    return NULL;
}

const ds_pe_export *ds_pe_export_by_ordinal(const ds_pe *pe, uint32_t ordinal)
{
    if (!pe)
        return NULL;
    for (size_t i = 0; i < pe->nexports; i++) /* first entry: the aliases come later */
        if (pe->exports[i].ordinal == ordinal)
            return &pe->exports[i];
    return NULL;
}

const ds_pe_section *ds_pe_section_at(const ds_pe *pe, uint32_t rva)
{
    if (!pe)
        return NULL;
    for (size_t i = 0; i < pe->nsections; i++) {
        const ds_pe_section *s = &pe->sections[i];
        uint64_t size = s->vsize ? s->vsize : s->raw_size;
        if (rva >= s->vaddr && (uint64_t)rva - s->vaddr < size)
            return s;
    }
    return NULL;
}
