/* dumpsleuth: the symbol route (--runtime-dir): the on-disk libcoreclr.so that matches the dump.
 *
 * The file is mapped read-only and parsed as ELF64 little-endian with every offset, size and
 * count checked against the file size: program headers (lowest PT_LOAD p_vaddr, PT_NOTE),
 * section headers (SHT_NOTE, SHT_SYMTAB/SHT_DYNSYM and their linked string tables). Its GNU
 * build-id must equal the one the dump recorded for the in-memory libcoreclr.so (ds_module.cv
 * kind 3); a different build-id refuses the file. Runtime address of a symbol:
 * module base + (st_value - lowest PT_LOAD p_vaddr). docs/internals/clr.md, "Symbol route". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clr/clr_priv.h"

#define PT_LOAD_ 1u
#define PT_NOTE_ 4u
#define SHT_SYMTAB_ 2u
#define SHT_STRTAB_ 3u
#define SHT_NOTE_ 7u
#define SHT_DYNSYM_ 11u
#define NT_GNU_BUILD_ID_ 3u
#define SYM_MAX_SECTIONS 65535u

static const char *const SYM_NAMES[DS_CLR_SYM_COUNT] = {"g_gcDacGlobals", "g_pFinalizerThread",
                                                        "_ZN11ThreadStore14s_pThreadStoreE"};

const char *ds_clr_sym_name(unsigned i)
{
    return i < DS_CLR_SYM_COUNT ? SYM_NAMES[i] : "?";
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* [off, off + len) inside a file of `size` bytes, without overflow. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/* Looks for NT_GNU_BUILD_ID in the notes at [off, off + len). */
static bool scan_notes(const uint8_t *f, uint64_t size, uint64_t off, uint64_t len,
                       ds_clr_symfile *s)
{
    if (!in_file(off, len, size))
        return false;
    uint64_t p = off, end = off + len;
    while (end - p >= 12) {
        uint32_t namesz = le32(f + p), descsz = le32(f + p + 4), type = le32(f + p + 8);
        uint64_t name = p + 12;
        uint64_t desc = name + (((uint64_t)namesz + 3) & ~3ull);
        uint64_t next = desc + (((uint64_t)descsz + 3) & ~3ull);
        if (desc > end || next > end || desc + descsz > end)
            return false;
        if (type == NT_GNU_BUILD_ID_ && namesz == 4 && !memcmp(f + name, "GNU", 4) && descsz &&
            descsz <= sizeof s->build_id) {
            memcpy(s->build_id, f + desc, descsz);
            s->build_id_len = descsz;
            return true;
        }
        p = next;
    }
    return false;
}

static ds_status refuse(ds_clr_symfile *s, const char *fmt, const char *detail)
{
    snprintf(s->error, sizeof s->error, fmt, detail);
    return DS_E_FORMAT;
}

/* Parses the mapped file. */
static ds_status parse(const uint8_t *f, uint64_t size, ds_clr_symfile *s)
{
    if (size < 64 || memcmp(f, "\177ELF", 4))
        return refuse(s, "not an ELF file%s", "");
    if (f[4] != 2 || f[5] != 1)
        return refuse(s, "not a 64-bit little-endian ELF file%s", "");
    uint64_t phoff = le64(f + 32), shoff = le64(f + 40);
    uint16_t phentsize = le16(f + 54), phnum = le16(f + 56);
    uint16_t shentsize = le16(f + 58);
    uint32_t shnum = le16(f + 60), shstrndx = le16(f + 62);
    (void)shstrndx;

    /* program headers: lowest PT_LOAD p_vaddr, PT_NOTE as a build-id fallback */
    if (phnum && (phentsize < 56 || !in_file(phoff, (uint64_t)phnum * phentsize, size)))
        return refuse(s, "program headers outside the file%s", "");
    bool have_load = false;
    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
        if (le32(ph) == PT_LOAD_) {
            uint64_t va = le64(ph + 16);
            if (!have_load || va < s->min_vaddr)
                s->min_vaddr = va;
            have_load = true;
        }
    }
    if (!have_load)
        return refuse(s, "no PT_LOAD program header (not a shared object)%s", "");

    /* section headers */
    if (!shoff)
        return refuse(s, "no section headers%s", "");
    if (shentsize < 64 || !in_file(shoff, shentsize, size))
        return refuse(s, "section headers outside the file%s", "");
    if (!shnum) /* extended numbering: the count is in section 0's sh_size */
        shnum = le64(f + shoff + 32) > SYM_MAX_SECTIONS ? 0 : (uint32_t)le64(f + shoff + 32);
    if (!shnum || !in_file(shoff, (uint64_t)shnum * shentsize, size))
        return refuse(s, "section headers outside the file%s", "");
#define SH(i) (f + shoff + (uint64_t)(i)*shentsize)
    for (uint32_t i = 0; i < shnum && !s->build_id_len; i++)
        if (le32(SH(i) + 4) == SHT_NOTE_)
            scan_notes(f, size, le64(SH(i) + 24), le64(SH(i) + 32), s);
    for (uint32_t i = 0; i < phnum && !s->build_id_len; i++) {
        const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
        if (le32(ph) == PT_NOTE_)
            scan_notes(f, size, le64(ph + 8), le64(ph + 32), s);
    }

    /* .symtab first (the runtime's globals are local symbols), then .dynsym */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t want = pass ? SHT_DYNSYM_ : SHT_SYMTAB_;
        for (uint32_t i = 0; i < shnum; i++) {
            const uint8_t *sh = SH(i);
            if (le32(sh + 4) != want)
                continue;
            uint64_t off = le64(sh + 24), len = le64(sh + 32), ent = le64(sh + 56);
            uint32_t link = le32(sh + 40);
            if (ent < 24 || !in_file(off, len, size) || link >= shnum ||
                le32(SH(link) + 4) != SHT_STRTAB_)
                continue;
            uint64_t stroff = le64(SH(link) + 24), strlen_ = le64(SH(link) + 32);
            if (!in_file(stroff, strlen_, size))
                continue;
            if (!pass)
                s->has_symtab = true;
            for (uint64_t k = 0; k + ent <= len; k += ent) {
                const uint8_t *sym = f + off + k;
                uint32_t name = le32(sym);
                uint16_t shndx = le16(sym + 6);
                uint64_t value = le64(sym + 8);
                if (!name || name >= strlen_ || !shndx || !value)
                    continue;
                const char *nm = (const char *)f + stroff + name;
                size_t room = (size_t)(strlen_ - name);
                for (unsigned j = 0; j < DS_CLR_SYM_COUNT; j++) {
                    size_t l = strlen(SYM_NAMES[j]);
                    if (!s->value[j] && room > l && !memcmp(nm, SYM_NAMES[j], l) && !nm[l])
                        s->value[j] = value;
                }
            }
        }
    }
#undef SH
    return DS_OK;
}

ds_status ds_clr_symfile_read(const char *path, ds_clr_symfile *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path ? path : "");
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(s->error, sizeof s->error, "cannot open: %s", strerror(errno));
        return DS_E_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(s->error, sizeof s->error, "not a regular file");
        return DS_E_IO;
    }
    if (sb.st_size < 64) {
        close(fd);
        return refuse(s, "truncated (%s)", sb.st_size ? "shorter than an ELF header" : "empty");
    }
    uint64_t size = (uint64_t)sb.st_size;
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(s->error, sizeof s->error, "cannot map: %s", strerror(errno));
        return DS_E_IO;
    }
    ds_status st = parse(m, size, s);
    munmap(m, (size_t)size);
    return st;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 <= outn; i++, o += 2)
        snprintf(out + o, outn - o, "%02x", b[i]);
    if (outn)
        out[o < outn ? o : outn - 1] = 0;
}

ds_status ds_clr_symbols_load(const char *dir, const ds_module *m, ds_clr_symbols *s,
                              ds_diags *diags)
{
    memset(s, 0, sizeof *s);
    char path[sizeof s->file.path];
    size_t dl = dir ? strlen(dir) : 0;
    snprintf(path, sizeof path, "%s%slibcoreclr.so", dir ? dir : "",
             dl && dir[dl - 1] != '/' ? "/" : "");
    ds_status st = ds_clr_symfile_read(path, &s->file);
    if (st != DS_OK) {
        snprintf(s->message, sizeof s->message, "--runtime-dir: %.300s refused: %s", path,
                 s->file.error);
        ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0, "%s", s->message);
        return st;
    }
    char fid[2 * 64 + 1], did[2 * 64 + 1];
    hex(s->file.build_id, s->file.build_id_len, fid, sizeof fid);
    if (m && m->cv.kind == 3 && m->cv.build_id_len) {
        uint32_t dlen = m->cv.build_id_len < 64 ? m->cv.build_id_len : 64;
        hex(m->cv.build_id, dlen, did, sizeof did);
        if (!s->file.build_id_len || dlen != s->file.build_id_len ||
            memcmp(m->cv.build_id, s->file.build_id, dlen)) {
            snprintf(s->message, sizeof s->message,
                     "--runtime-dir: %.300s refused: build-id %s does not match the dump's "
                     "libcoreclr.so (%s); it is another build",
                     path, s->file.build_id_len ? fid : "(none)", did);
            ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0, "%s", s->message);
            return DS_E_UNSUPPORTED;
        }
        s->build_id_ok = true;
    } else {
        ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0,
                    "--runtime-dir: the dump has no build-id for %s; %s (build-id %s) is used "
                    "unchecked",
                    m && m->name ? m->name : "the runtime", path,
                    s->file.build_id_len ? fid : "none");
    }
    if (!s->file.has_symtab) {
        snprintf(s->message, sizeof s->message,
                 "--runtime-dir: %.300s has no .symtab (stripped); its symbols are not used", path);
        ds_diag_add(diags, DS_SEV_WARNING, "CLR symbols", 0, 0, "%s", s->message);
        return DS_E_NOTFOUND;
    }
    s->loaded = true;
    uint64_t base = m ? m->base : 0;
    for (unsigned j = 0; j < DS_CLR_SYM_COUNT; j++)
        if (s->file.value[j] && s->file.value[j] >= s->file.min_vaddr)
            s->addr[j] = base + (s->file.value[j] - s->file.min_vaddr);
    snprintf(s->message, sizeof s->message, "%.300s (build-id %s)", path,
             s->build_id_ok ? "ok" : "unchecked");
    return DS_OK;
}
