/* dumpsleuth: --module-path: metadata of managed modules from disk when the dump lacks it.
 *
 * A candidate file is mmap'd read-only and never copied: its headers and section table are read by
 * the PE parser on a flat view of the file, then a second view maps every section at its RVA to its
 * file offset (the image layout), the PE parser reads the CLR header from it, and the metadata is
 * opened in place (ds_clrmeta_open_mapped). A file names a module only when it is the same build:
 *   - placement: the Module's m_pSimpleName points into the image's #Strings heap; with the file,
 *     the image base is that pointer minus the RVA of the file's assembly name. It must be
 *     page-aligned, equal the module list's base when the dump has the module in its list, and the
 *     whole image [base, base + SizeOfImage) must be memory the dump knows to be mapped;
 *   - module list (minidumps): SizeOfImage, TimeDateStamp and CheckSum equal the file's;
 *   - captured metadata bytes of the image in the dump equal the file's (none may differ);
 *   - proof of the build: the file's MVID is in the dump (in the captured metadata, or a copy the
 *     runtime keeps within 64 MB of the Module), or the module list's non-zero TimeDateStamp
 *     matched. Without either the file is refused: nothing is named from a file whose identity
 *     cannot be shown. docs/internals/clr.md, "--module-path". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cursor.h"
#include "clr/clr_priv.h"
#include "dumpsleuth/clrmeta.h"
#include "dumpsleuth/pe.h"

#define VIEW_BASE 0x100000000ull   /* where a file's image is placed in its own view */
#define MAX_FILE_SIZE (1ull << 31) /* larger files are not assemblies we read */
#define MAX_DIR_ENTRIES 4096u      /* files looked at per directory */
#define MAX_PATH_ELEMS 64u         /* elements of --module-path */
#define MVID_WINDOW (64ull << 20)  /* MVID copy searched within this distance of the Module */
#define PAGE 0x1000ull

typedef struct modfile {
    char path[1024];
    bool ok;         /* mapped, PE with metadata, opened */
    bool warned;     /* the refusal of an unreadable file was reported */
    char error[160]; /* why not */
    uint8_t *map;
    size_t size;
    ds_vmem vm; /* image layout of the file at VIEW_BASE */
    ds_pe pe;
    ds_clrmeta *meta;
    const uint8_t *md; /* the metadata inside map */
    uint32_t md_rva, md_size;
    uint32_t name_rva; /* RVA of the assembly name in the #Strings heap (0: not found) */
    char asm_name[128];
    uint8_t mvid[16];
    bool has_mvid;
    uint32_t mvid_off; /* offset of the MVID in the metadata */
} modfile;

typedef struct modpath_state {
    char **elems; /* path elements */
    size_t nelems;
    bool *is_dir;
    modfile **files; /* cache by path */
    size_t nfiles, capfiles;
    ds_clr_modfile_use *uses;
    size_t nuses, capuses;
} modpath_state;

static void modfile_free(modfile *f)
{
    if (!f)
        return;
    if (f->meta)
        ds_clrmeta_close(f->meta);
    ds_pe_free(&f->pe);
    ds_vmem_free(&f->vm);
    if (f->map)
        munmap(f->map, f->size);
    free(f);
}

/* #Strings heap of the metadata at p (n bytes): offset and size, bounds-checked. */
static bool strings_heap(const uint8_t *p, size_t n, uint32_t *off, uint32_t *size, uint32_t *goff,
                         uint32_t *gsize)
{
    if (n < 20 || memcmp(p, "BSJB", 4))
        return false;
    uint32_t vlen = ds_le32(p + 12);
    if (vlen > 255 || 16 + (size_t)vlen + 4 > n)
        return false;
    size_t o = 16 + vlen;
    uint16_t ns = ds_le16(p + o + 2);
    o += 4;
    bool found = false;
    *goff = *gsize = 0;
    for (unsigned i = 0; i < ns && i < 16; i++) {
        if (o + 8 > n)
            return false;
        uint32_t so = ds_le32(p + o), sz = ds_le32(p + o + 4);
        o += 8;
        size_t l = 0;
        while (o + l < n && p[o + l] && l < 32)
            l++;
        if (o + l >= n || l >= 32)
            return false;
        if (!ds_in_bounds(so, sz, n))
            return false;
        if (l == 8 && !memcmp(p + o, "#Strings", 8)) {
            *off = so;
            *size = sz;
            found = true;
        } else if (l == 5 && !memcmp(p + o, "#GUID", 5)) {
            *goff = so;
            *gsize = sz;
        }
        o += (l + 4) & ~(size_t)3;
    }
    return found;
}

static modfile *modfile_load(const char *path)
{
    modfile *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(f->error, sizeof f->error, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return f;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 64 || (uint64_t)sb.st_size > MAX_FILE_SIZE) {
        snprintf(f->error, sizeof f->error, "not a regular file of 64 bytes .. 2 GB");
        close(fd);
        return f;
    }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(f->error, sizeof f->error, "mmap: %s", strerror(errno));
        return f;
    }
    f->map = m;
    f->size = (size_t)sb.st_size;

    /* 1. headers and section table from a flat view (they are at the same offsets) */
    ds_vmem flat;
    ds_vmem_init(&flat, f->map, f->size, 8);
    ds_pe hdr;
    memset(&hdr, 0, sizeof hdr);
    ds_status st = DS_E_NOMEM;
    if (ds_vmem_add(&flat, VIEW_BASE, f->size, DS_RANGE_DATA, 0, 0)) {
        ds_vmem_finish(&flat);
        st = ds_pe_parse(&flat, VIEW_BASE, &hdr, NULL);
    }
    ds_vmem_free(&flat);
    if (!(hdr.have & DS_PE_HAVE_HEADERS) || (st != DS_OK && st != DS_E_PARTIAL)) {
        snprintf(f->error, sizeof f->error, "not a PE file");
        ds_pe_free(&hdr);
        return f;
    }
    /* 2. the image layout: RVA -> file offset */
    ds_vmem_init(&f->vm, f->map, f->size, hdr.pe32plus ? 8 : 4);
    bool ok = ds_vmem_add(&f->vm, VIEW_BASE, hdr.size_of_headers ? hdr.size_of_headers : 0x200,
                          DS_RANGE_DATA, 0, 0);
    for (size_t i = 0; ok && i < hdr.nsections; i++) {
        const ds_pe_section *s = &hdr.sections[i];
        uint32_t vs = s->vsize ? s->vsize : s->raw_size;
        uint32_t raw = s->raw_size < vs ? s->raw_size : vs;
        if (!vs || (uint64_t)s->vaddr + vs > hdr.size_of_image)
            continue; /* outside the image: not mapped by a loader either */
        if (raw && s->raw_off < f->size)
            ok = ds_vmem_add(&f->vm, VIEW_BASE + s->vaddr, raw, DS_RANGE_DATA, s->raw_off, 0);
        if (ok && vs > raw)
            ok = ds_vmem_add(&f->vm, VIEW_BASE + s->vaddr + raw, vs - raw, DS_RANGE_ZERO, 0, 0);
    }
    ds_pe_free(&hdr);
    if (!ok) {
        snprintf(f->error, sizeof f->error, "out of memory");
        return f;
    }
    ds_vmem_finish(&f->vm);
    st = ds_pe_parse(&f->vm, VIEW_BASE, &f->pe, NULL);
    if ((st != DS_OK && st != DS_E_PARTIAL) || !f->pe.has_clr || !f->pe.clr_metadata_rva ||
        !f->pe.clr_metadata_size) {
        snprintf(f->error, sizeof f->error, "no CLR metadata (not a managed assembly)");
        return f;
    }
    f->md_rva = f->pe.clr_metadata_rva;
    f->md_size = f->pe.clr_metadata_size;
    f->md = ds_vmem_span(&f->vm, VIEW_BASE + f->md_rva, f->md_size);
    if (!f->md) {
        snprintf(f->error, sizeof f->error, "metadata (RVA 0x%x, 0x%x bytes) not inside the file",
                 f->md_rva, f->md_size);
        return f;
    }
    st = ds_clrmeta_open_mapped(f->md, f->md_size, &f->meta, NULL);
    if (st != DS_OK) {
        f->meta = NULL;
        snprintf(f->error, sizeof f->error, "metadata not readable (%s)", ds_status_str(st));
        return f;
    }
    if (ds_clrmeta_assembly_name(f->meta, f->asm_name, sizeof f->asm_name, NULL) != DS_OK)
        f->asm_name[0] = 0;
    f->has_mvid = ds_clrmeta_mvid(f->meta, f->mvid) == DS_OK;
    uint32_t soff = 0, ssize = 0, goff = 0, gsize = 0;
    if (strings_heap(f->md, f->md_size, &soff, &ssize, &goff, &gsize) && f->asm_name[0]) {
        /* the assembly name as a whole string of the heap (NUL before and after) */
        size_t l = strlen(f->asm_name);
        for (uint32_t i = 1; (uint64_t)i + l < ssize; i++) {
            const uint8_t *q = f->md + soff + i;
            if (q[-1] == 0 && q[l] == 0 && !memcmp(q, f->asm_name, l)) {
                f->name_rva = f->md_rva + soff + i;
                break;
            }
        }
    }
    if (f->has_mvid && gsize >= 16) {
        /* the Module row's MVID index is 1 for every compiler: locate it to compare bytes */
        if (!memcmp(f->md + goff, f->mvid, 16))
            f->mvid_off = goff;
    }
    f->ok = true;
    return f;
}

static modfile *get_file(modpath_state *s, const char *path)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i]->path, path))
            return s->files[i];
    modfile *f = modfile_load(path);
    if (!f)
        return NULL;
    if (!DS_PUSH(s->files, s->nfiles, s->capfiles, f)) {
        modfile_free(f);
        return NULL;
    }
    return f;
}

void clr_modpath_init(ds_clr_heap *h, const char *spec, ds_diags *diags)
{
    clr_priv *p = h->priv;
    if (!p || !spec || !*spec)
        return;
    modpath_state *s = calloc(1, sizeof *s);
    if (!s)
        return;
    p->modpath = s;
    const char *q = spec;
    while (*q && s->nelems < MAX_PATH_ELEMS) {
        const char *e = strchr(q, ':');
        size_t l = e ? (size_t)(e - q) : strlen(q);
        if (l) {
            char *el = malloc(l + 1);
            char **ne = realloc(s->elems, (s->nelems + 1) * sizeof *ne);
            bool *nd = realloc(s->is_dir, (s->nelems + 1) * sizeof *nd);
            if (ne)
                s->elems = ne;
            if (nd)
                s->is_dir = nd;
            if (!el || !ne || !nd) {
                free(el);
                break;
            }
            memcpy(el, q, l);
            el[l] = 0;
            struct stat sb;
            if (stat(el, &sb) != 0) {
                ds_diag_add(diags, DS_SEV_WARNING, "--module-path", 0, 0, "%s: %s", el,
                            strerror(errno));
                free(el);
            } else {
                s->elems[s->nelems] = el;
                s->is_dir[s->nelems] = S_ISDIR(sb.st_mode);
                s->nelems++;
            }
        }
        if (!e)
            break;
        q = e + 1;
    }
}

void clr_modpath_free(clr_priv *p)
{
    modpath_state *s = p->modpath;
    if (!s)
        return;
    for (size_t i = 0; i < s->nelems; i++)
        free(s->elems[i]);
    free(s->elems);
    free(s->is_dir);
    for (size_t i = 0; i < s->nfiles; i++)
        modfile_free(s->files[i]);
    free(s->files);
    free(s->uses);
    free(s);
    p->modpath = NULL;
}

static bool has_ext(const char *n)
{
    size_t l = strlen(n);
    return l > 4 && (!strcasecmp(n + l - 4, ".dll") || !strcasecmp(n + l - 4, ".exe"));
}

/* Every page of [base, base + size) is memory the dump knows (captured or not). */
static bool image_mapped(ds_vmem *vm, uint64_t base, uint64_t size)
{
    if (!size || ds_add_overflows(base, size))
        return false;
    for (uint64_t a = base; a < base + size;) {
        ds_mem_status ms;
        const ds_range *r = ds_vmem_find(vm, a, &ms);
        if (!r)
            return false;
        uint64_t end = r->va + r->size;
        if (end <= a)
            return false;
        a = end;
    }
    return true;
}

/* Compares the captured bytes of the dump's metadata with the file's. *compared counts the bytes
 * compared; *mvid_seen is set when the MVID bytes were among them. Returns the offset of the first
 * difference + 1, 0 when none differ. */
static uint64_t compare_metadata(ds_vmem *vm, const modfile *f, uint64_t base, uint64_t *compared,
                                 bool *mvid_seen)
{
    *compared = 0;
    *mvid_seen = false;
    uint64_t va = base + f->md_rva, end = va + f->md_size;
    for (size_t guard = 0; va < end && guard < 1u << 20; guard++) {
        ds_mem_status ms;
        const ds_range *r = ds_vmem_find(vm, va, &ms);
        if (!r) {
            r = ds_vmem_next(vm, va);
            if (!r || r->va >= end)
                break;
            va = r->va;
            continue;
        }
        uint64_t rend = r->va + r->size < end ? r->va + r->size : end;
        if (r->kind == DS_RANGE_DATA) {
            size_t avail = 0;
            const uint8_t *d = ds_vmem_span_max(vm, va, (size_t)(rend - va), &avail);
            if (d && avail) {
                uint64_t off = va - (base + f->md_rva);
                for (size_t i = 0; i < avail; i++)
                    if (d[i] != f->md[off + i])
                        return off + i + 1;
                *compared += avail;
                if (f->mvid_off >= off && f->mvid_off + 16 <= off + avail)
                    *mvid_seen = true;
                va += avail;
                continue;
            }
        }
        va = rend > va ? rend : va + 1;
    }
    return 0;
}

/* The file's MVID in captured memory within MVID_WINDOW of the Module, outside the image. */
static uint64_t find_mvid(ds_vmem *vm, const modfile *f, uint64_t module, uint64_t base)
{
    uint64_t lo = module > MVID_WINDOW ? module - MVID_WINDOW : 0;
    uint64_t hi = module + MVID_WINDOW;
    uint64_t ilo = base, ihi = base + f->pe.size_of_image;
    uint64_t va = lo;
    for (size_t guard = 0; va < hi && guard < 1u << 20; guard++) {
        const ds_range *r = ds_vmem_next(vm, va);
        if (!r || r->va >= hi)
            break;
        if (r->va > va)
            va = r->va;
        uint64_t rend = r->va + r->size < hi ? r->va + r->size : hi;
        if (r->kind != DS_RANGE_DATA || va >= rend) {
            va = rend > va ? rend : va + 1;
            continue;
        }
        size_t avail = 0;
        const uint8_t *d = ds_vmem_span_max(vm, va, (size_t)(rend - va), &avail);
        if (!d || !avail) {
            va = rend;
            continue;
        }
        for (const uint8_t *q = d; q + 16 <= d + avail;) {
            const uint8_t *hit = memmem(q, (size_t)(d + avail - q), f->mvid, 16);
            if (!hit)
                break;
            uint64_t at = va + (uint64_t)(hit - d);
            if (at + 16 <= ilo || at >= ihi)
                return at;
            q = hit + 1;
        }
        /* a copy straddling two spans is not looked for: a miss only costs the proof */
        va += avail;
    }
    return 0;
}

typedef enum fit { FIT_NO = 0, FIT_REFUSED, FIT_OK } fit;

/* Is f the module whose simple name is at name_va? */
static fit check_file(ds_clr_heap *h, const modfile *f, uint64_t module, uint64_t name_va,
                      const ds_module *dm, bool named, char *why, size_t n)
{
    ds_vmem *vm = &h->dump->vm;
    if (!f->name_rva || name_va < f->name_rva) {
        snprintf(why, n, "its assembly name \"%s\" cannot be placed at 0x%llx", f->asm_name,
                 (unsigned long long)name_va);
        return named ? FIT_REFUSED : FIT_NO;
    }
    uint64_t base = name_va - f->name_rva;
    if (dm && base != dm->base) {
        snprintf(why, n,
                 "different build: the module is at 0x%llx, the file's name position gives 0x%llx",
                 (unsigned long long)dm->base, (unsigned long long)base);
        return named ? FIT_REFUSED : FIT_NO;
    }
    if (base % PAGE) {
        snprintf(why, n,
                 "different build: its assembly name position gives the unaligned base 0x%llx",
                 (unsigned long long)base);
        return named ? FIT_REFUSED : FIT_NO;
    }
    if (!image_mapped(vm, base, f->pe.size_of_image)) {
        snprintf(why, n,
                 "different build: its image (0x%x bytes at 0x%llx) is not mapped memory in "
                 "the dump",
                 f->pe.size_of_image, (unsigned long long)base);
        return named ? FIT_REFUSED : FIT_NO;
    }
    bool ts_proof = false;
    if (dm) {
        if ((dm->size && dm->size != f->pe.size_of_image) || dm->timestamp != f->pe.timestamp ||
            (dm->checksum && dm->checksum != f->pe.checksum)) {
            snprintf(why, n,
                     "different build: module list SizeOfImage 0x%llx TimeDateStamp 0x%x CheckSum "
                     "0x%x, file 0x%x 0x%x 0x%x",
                     (unsigned long long)dm->size, dm->timestamp, dm->checksum, f->pe.size_of_image,
                     f->pe.timestamp, f->pe.checksum);
            return FIT_REFUSED;
        }
        ts_proof = dm->timestamp != 0;
    }
    uint64_t compared = 0;
    bool mvid_seen = false;
    uint64_t diff = compare_metadata(vm, f, base, &compared, &mvid_seen);
    if (diff) {
        snprintf(why, n, "different build: metadata byte 0x%llx differs from the dump's",
                 (unsigned long long)(diff - 1));
        return FIT_REFUSED;
    }
    char mv[40] = "";
    if (f->has_mvid)
        for (unsigned i = 0; i < 16; i++)
            snprintf(mv + 2 * i, sizeof mv - 2 * i, "%02x", f->mvid[i]);
    uint64_t at = 0;
    if (!mvid_seen && f->has_mvid)
        at = find_mvid(vm, f, module, base);
    if (mvid_seen)
        snprintf(why, n, "same build: MVID %s in the dump's metadata, %llu captured bytes equal",
                 mv, (unsigned long long)compared);
    else if (at)
        snprintf(why, n,
                 "same build: MVID %s found in the dump at 0x%llx; image 0x%x bytes at 0x%llx", mv,
                 (unsigned long long)at, f->pe.size_of_image, (unsigned long long)base);
    else if (ts_proof)
        snprintf(why, n, "same build: module list TimeDateStamp 0x%x, SizeOfImage 0x%x",
                 f->pe.timestamp, f->pe.size_of_image);
    else {
        snprintf(why, n,
                 "not provably the same build: its MVID %s is not in the dump (and no PE "
                 "timestamp to compare)",
                 mv[0] ? mv : "(none)");
        return FIT_REFUSED;
    }
    return FIT_OK;
}

static void record(modpath_state *s, uint64_t module, const char *name, const char *path,
                   bool accepted, const char *detail)
{
    ds_clr_modfile_use u;
    memset(&u, 0, sizeof u);
    u.module = module;
    snprintf(u.name, sizeof u.name, "%s", name ? name : "");
    snprintf(u.path, sizeof u.path, "%s", path ? path : "");
    u.accepted = accepted;
    snprintf(u.detail, sizeof u.detail, "%s", detail);
    DS_PUSH(s->uses, s->nuses, s->capuses, u);
}

static void try_file(ds_clr_heap *h, modpath_state *s, const char *path, bool named,
                     uint64_t module, uint64_t name_va, const ds_module *dm, modfile **best,
                     bool *ambiguous)
{
    modfile *f = get_file(s, path);
    if (!f)
        return;
    char why[400];
    if (!f->ok) {
        if (named && !f->warned) {
            f->warned = true;
            snprintf(why, sizeof why, "refused: %s", f->error);
            record(s, module, NULL, path, false, why);
            ds_diag_add(&h->dump->diags, DS_SEV_WARNING, "--module-path", 0, 0, "%s: %s", path,
                        why);
        }
        return;
    }
    fit r = check_file(h, f, module, name_va, dm, named, why, sizeof why);
    if (r == FIT_NO)
        return;
    if (r == FIT_REFUSED) {
        record(s, module, f->asm_name, path, false, why);
        ds_diag_add(&h->dump->diags, DS_SEV_WARNING, "--module-path", 0, 0,
                    "%s refused for module 0x%llx (%s): %s", path, (unsigned long long)module,
                    f->asm_name, why);
        return;
    }
    if (*best && memcmp((*best)->mvid, f->mvid, 16))
        *ambiguous = true;
    if (!*best) {
        *best = f;
        record(s, module, f->asm_name, path, true, why);
    }
}

bool clr_modpath_resolve(ds_clr_heap *h, uint64_t module, uint64_t name_va, const char *simple,
                         void **meta, char *name, size_t namesz)
{
    clr_priv *p = h->priv;
    modpath_state *s = p ? p->modpath : NULL;
    if (!s || !name_va)
        return false;
    const ds_module *dm = ds_module_at(h->dump, name_va);
    modfile *best = NULL;
    bool ambiguous = false;
    size_t first_use = s->nuses;
    char path[2048];
    for (size_t i = 0; i < s->nelems; i++) {
        if (!s->is_dir[i]) {
            const char *b = strrchr(s->elems[i], '/');
            b = b ? b + 1 : s->elems[i];
            bool named = (dm && !strcasecmp(b, dm->name));
            if (simple && simple[0]) {
                size_t l = strlen(simple);
                named = named || (!strncasecmp(b, simple, l) && has_ext(b) && strlen(b) == l + 4);
            }
            modfile *f = get_file(s, s->elems[i]);
            if (f && !f->ok)
                named = true; /* a file given by name that cannot be read is always reported */
            try_file(h, s, s->elems[i], named, module, name_va, dm, &best, &ambiguous);
            continue;
        }
        if (dm) {
            snprintf(path, sizeof path, "%s/%s", s->elems[i], dm->name);
            if (access(path, F_OK) == 0)
                try_file(h, s, path, true, module, name_va, dm, &best, &ambiguous);
            continue;
        }
        if (simple && simple[0]) {
            static const char *const ext[] = {".dll", ".exe"};
            for (unsigned k = 0; k < 2; k++) {
                snprintf(path, sizeof path, "%s/%s%s", s->elems[i], simple, ext[k]);
                if (access(path, F_OK) == 0)
                    try_file(h, s, path, true, module, name_va, dm, &best, &ambiguous);
            }
            continue;
        }
        /* neither the module list nor the dump names the file: every assembly of the directory
         * is placed by its name position */
        DIR *dir = opendir(s->elems[i]);
        if (!dir)
            continue;
        struct dirent *de;
        for (unsigned k = 0; (de = readdir(dir)) != NULL && k < MAX_DIR_ENTRIES; k++) {
            if (!has_ext(de->d_name))
                continue;
            snprintf(path, sizeof path, "%s/%s", s->elems[i], de->d_name);
            try_file(h, s, path, false, module, name_va, dm, &best, &ambiguous);
        }
        closedir(dir);
    }
    if (ambiguous) {
        for (size_t i = first_use; i < s->nuses; i++)
            if (s->uses[i].accepted) {
                s->uses[i].accepted = false;
                snprintf(s->uses[i].detail, sizeof s->uses[i].detail,
                         "refused: files of different builds (MVIDs) fit this module");
            }
        ds_diag_add(&h->dump->diags, DS_SEV_WARNING, "--module-path", 0, 0,
                    "module 0x%llx: files of different builds fit; none is used",
                    (unsigned long long)module);
        return false;
    }
    if (!best) {
        bool refused = false;
        for (size_t i = first_use; i < s->nuses; i++)
            refused = refused || s->uses[i].module == module;
        if (!refused) {
            record(s, module, simple, "", false, "no file of --module-path fits this module");
            ds_diag_add(&h->dump->diags, DS_SEV_NOTE, "--module-path", 0, 0,
                        "module 0x%llx (%s): no file fits", (unsigned long long)module,
                        simple && simple[0] ? simple : "name not in the dump");
        }
        return false;
    }
    *meta = best->meta;
    snprintf(name, namesz, "%s", best->asm_name);
    return true;
}

size_t ds_clr_module_path_uses(const ds_clr_heap *h, const ds_clr_modfile_use **v)
{
    const clr_priv *p = h ? h->priv : NULL;
    const modpath_state *s = p ? p->modpath : NULL;
    *v = s ? s->uses : NULL;
    return s ? s->nuses : 0;
}
