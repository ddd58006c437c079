/* Linux kernel crash dumps through libkdumpfile: makedumpfile/diskdump ("KDUMP   ",
 * "DISKDUMP"), the flattened makedumpfile format, and ELF vmcores (/proc/vmcore style).
 *
 * The probe claims an ELF ET_CORE file only when it is clearly a kernel dump, so user-space cores
 * stay with elfcore.c: a VMCOREINFO or Xen note, or a PT_LOAD with a non-zero p_paddr in a file
 * without any user-space process note (NT_FILE, NT_PRPSINFO, NT_AUXV). The kernel, gdb and
 * createdump all write p_paddr = 0 in process cores and always write at least one of those notes.
 *
 * Memory: one BACKEND range over the whole 64-bit space (minus the last byte); the view's read
 * callback calls kdump_read(KDUMP_KVADDR). has_map_info stays false: libkdumpfile does not say
 * which addresses are mapped, so a failed read means "not in the dump" (DS_MEM_ERROR). */
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include "base/cursor.h"
#include "base/util.h"
#include "dumpsleuth/dump.h"

#define KD_MAX_PHDRS (1u << 20)
#define KD_MAX_NOTE_BYTES (1u << 20) /* note bytes the probe looks at */
#define KD_MAX_CPUS 8192u

/* ------------------------------------------------------------------ probe */

typedef struct kd_elf {
    const uint8_t *p;
    uint64_t n;
    bool be, is64;
} kd_elf;

static uint64_t kd_get(const kd_elf *e, ds_cursor *c, unsigned size)
{
    const uint8_t *b = ds_cur_bytes(c, size);
    uint64_t v = 0;
    if (!b)
        return 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[e->be ? size - 1 - i : i] << (8 * i);
    return v;
}

static bool kd_owner(const uint8_t *name, uint32_t namesz, const char *want)
{
    size_t w = strlen(want);
    return (namesz == w + 1 && !memcmp(name, want, w) && name[w] == 0) ||
           (namesz == w && !memcmp(name, want, w));
}

typedef struct kd_scan {
    uint64_t bad_segs;       /* PT_LOADs libkdumpfile must not see (crashes it: fuzzing) */
    uint64_t truncated_segs; /* PT_LOADs whose data runs past the end of the file */
    uint64_t first_bad;      /* file offset of the first bad program header */
} kd_scan;

/* True for an ELF ET_CORE that is a kernel dump (see the comment at the top). */
static bool elf_is_vmcore(const uint8_t *p, uint64_t n, kd_scan *scan)
{
    if (n < 64 ||
        memcmp(p,
               "\x7f"
               "ELF",
               4) != 0 ||
        (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
        return false;
    kd_elf e = {p, n, p[5] == 2, p[4] == 2};
    unsigned ps = e.is64 ? 8 : 4;
    ds_cursor c = ds_cur(p, n, 0);
    ds_cur_seek(&c, 16);
    uint64_t type = kd_get(&e, &c, 2);
    ds_cur_skip(&c, 6 + ps); /* machine, version, entry */
    uint64_t phoff = kd_get(&e, &c, ps);
    uint64_t shoff = kd_get(&e, &c, ps);
    ds_cur_skip(&c, 6); /* flags, ehsize */
    uint64_t phentsize = kd_get(&e, &c, 2);
    uint64_t phnum = kd_get(&e, &c, 2);
    if (c.bad || type != 4 || phentsize < (e.is64 ? 56u : 32u))
        return false;
    if (phnum == 0xffff) {
        ds_cursor s = ds_cur(p, n, 0);
        ds_cur_seek(&s, shoff);
        ds_cur_skip(&s, e.is64 ? 44 : 28);
        phnum = kd_get(&e, &s, 4);
        if (s.bad)
            return false;
    }
    if (phnum > KD_MAX_PHDRS)
        phnum = KD_MAX_PHDRS;
    bool vmcoreinfo = false, user = false, phys = false;
    uint64_t note_bytes = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        if (ds_add_overflows(phoff, i * phentsize))
            break;
        ds_cursor h = ds_cur_sub(&c, phoff + i * phentsize, phentsize);
        if (h.bad)
            break;
        uint64_t ptype = kd_get(&e, &h, 4), off, vaddr, paddr, filesz, memsz;
        if (e.is64) {
            ds_cur_skip(&h, 4);
            off = kd_get(&e, &h, 8);
            vaddr = kd_get(&e, &h, 8);
            paddr = kd_get(&e, &h, 8);
            filesz = kd_get(&e, &h, 8);
            memsz = kd_get(&e, &h, 8);
        } else {
            off = kd_get(&e, &h, 4);
            vaddr = kd_get(&e, &h, 4);
            paddr = kd_get(&e, &h, 4);
            filesz = kd_get(&e, &h, 4);
            memsz = kd_get(&e, &h, 4);
        }
        if (ptype == 1) {
            bool bad = off > n || ds_add_overflows(off, filesz) || filesz > memsz ||
                       ds_add_overflows(vaddr, memsz) || ds_add_overflows(paddr, memsz);
            if (bad) {
                if (!scan->bad_segs)
                    scan->first_bad = phoff + i * phentsize;
                scan->bad_segs++;
            } else if (off + filesz > n) {
                scan->truncated_segs++;
            }
            if (paddr != 0 && !bad)
                phys = true;
        }
        if (ptype != 4 || note_bytes >= KD_MAX_NOTE_BYTES)
            continue;
        if (filesz > KD_MAX_NOTE_BYTES - note_bytes)
            filesz = KD_MAX_NOTE_BYTES - note_bytes;
        note_bytes += filesz;
        if (!ds_in_bounds(off, filesz, n))
            filesz = off < n ? n - off : 0;
        ds_cursor nc = ds_cur_sub(&c, off, filesz);
        while (ds_cur_left(&nc) >= 12) {
            uint32_t namesz = (uint32_t)kd_get(&e, &nc, 4);
            uint32_t descsz = (uint32_t)kd_get(&e, &nc, 4);
            uint32_t ntype = (uint32_t)kd_get(&e, &nc, 4);
            const uint8_t *name = ds_cur_bytes(&nc, ((uint64_t)namesz + 3) & ~(uint64_t)3);
            if (!name || !ds_cur_skip(&nc, ((uint64_t)descsz + 3) & ~(uint64_t)3)) {
                nc.bad = false;
                if (!name)
                    break;
            }
            if (kd_owner(name, namesz, "VMCOREINFO") || kd_owner(name, namesz, "Xen"))
                vmcoreinfo = true;
            else if (kd_owner(name, namesz, "CORE") &&
                     (ntype == 3 || ntype == 6 || ntype == 0x46494c45u))
                user = true; /* NT_PRPSINFO, NT_AUXV, NT_FILE */
        }
    }
    return vmcoreinfo || (phys && !user);
}

bool ds_kdump_probe(const uint8_t *p, uint64_t n)
{
    if (n >= 8 && (!memcmp(p, "KDUMP   ", 8) || !memcmp(p, "DISKDUMP", 8)))
        return true;
    if (n >= 16 && !memcmp(p, "makedumpfile\0\0\0\0", 16)) /* flattened format */
        return true;
    kd_scan scan = {0, 0, 0};
    return elf_is_vmcore(p, n, &scan);
}

/* ------------------------------------------------------------------ reader */

/* libkdumpfile 0.5.1 sizes its allocations from the diskdump header (a fuzzed header made it
 * allocate gigabytes): the header must describe bitmaps that are in the file and cover max_mapnr.
 */
static bool diskdump_sane(ds_dump *d)
{
    ds_cursor c = ds_cur(d->map, d->map_size, 0);
    static const uint64_t at[2] = {428, 416}; /* 64-bit, 32-bit header layouts */
    for (int k = 0; k < 2; k++) {
        ds_cursor h = c;
        ds_cur_seek(&h, at[k]);
        uint64_t bs = ds_cur_u32(&h), sub = ds_cur_u32(&h), bmb = ds_cur_u32(&h);
        uint64_t mapnr = ds_cur_u32(&h);
        if (h.bad || bs < 512 || bs > (1u << 20) || (bs & (bs - 1)) || !bmb || (bmb % 2))
            continue;
        uint64_t end = (1 + sub + bmb) * bs; /* no overflow: all operands < 2^32, bs <= 2^20 */
        uint64_t bits = bmb / 2 * bs * 8;
        if (end > d->map_size || mapnr > bits)
            continue;
        /* header version 6: the 64-bit max_mapnr in the sub header is what libkdumpfile uses */
        ds_cursor v = c;
        ds_cur_seek(&v, 8);
        int32_t ver = (int32_t)ds_cur_u32(&v);
        if (ver >= 6 && k == 0) {
            ds_cur_seek(&v, bs + 96);
            uint64_t m64 = ds_cur_u64(&v);
            if (v.bad || m64 > bits)
                continue;
        }
        return true;
    }
    ds_diag_add(&d->diags, DS_SEV_ERROR, "disk_dump_header", 1, 0,
                "block size, bitmap or max_mapnr do not fit the file: the header is corrupt or "
                "the file is truncated");
    return false;
}

/* libkdumpfile reads the page data of a truncated diskdump file as zeros (verified with 0.5.1).
 * We cannot stop that per read, but we can tell: walks the page descriptors and reports the pages
 * whose data lies beyond the end of the file. */
static void diskdump_check_truncation(ds_dump *d)
{
    ds_cursor c = ds_cur(d->map, d->map_size, 0);
    if (d->map_size < 512 || (memcmp(d->map, "KDUMP   ", 8) && memcmp(d->map, "DISKDUMP", 8)))
        return;
    /* block_size etc. follow the timestamp: 8-aligned on 64-bit targets, 4-aligned on 32-bit */
    static const uint64_t at[2] = {428, 416};
    uint32_t bs = 0, sub = 0, bmb = 0;
    for (int k = 0; k < 2 && !bs; k++) {
        ds_cur_seek(&c, at[k]);
        uint32_t b = ds_cur_u32(&c), s = ds_cur_u32(&c), m = ds_cur_u32(&c);
        if (!c.bad && b >= 512 && b <= (1u << 20) && !(b & (b - 1)) && (m % 2) == 0) {
            bs = b, sub = s, bmb = m;
        }
    }
    if (!bs)
        return;
    uint64_t bm2 = (1 + (uint64_t)sub + bmb / 2) * bs, bmlen = (uint64_t)bmb / 2 * bs;
    uint64_t desc = (1 + (uint64_t)sub + bmb) * bs;
    ds_cursor b = ds_cur_sub(&c, bm2, bmlen);
    if (b.bad) {
        ds_diag_add(&d->diags, DS_SEV_WARNING, "diskdump bitmap", 1, bm2,
                    "the page bitmap runs past the end of the file");
        return;
    }
    uint64_t pages = 0;
    for (uint64_t i = 0; i < bmlen; i++)
        pages += (uint64_t)__builtin_popcount(b.p[i]);
    uint64_t missing = 0, first = 0;
    for (uint64_t i = 0; i < pages; i++) {
        ds_cursor e = ds_cur_sub(&c, desc + i * 24, 24);
        if (e.bad) {
            missing += pages - i;
            if (!first)
                first = desc + i * 24;
            break;
        }
        uint64_t off = ds_cur_u64(&e), size = ds_cur_u32(&e);
        if (!ds_in_bounds(off, size, d->map_size)) {
            if (!missing)
                first = desc + i * 24;
            missing++;
        }
    }
    if (missing)
        ds_diag_add(&d->diags, DS_SEV_WARNING, "diskdump page_desc", 1, first,
                    "file truncated: %llu of %llu dumped pages lie beyond the end of the file; "
                    "libkdumpfile reads them as zeros",
                    (unsigned long long)missing, (unsigned long long)pages);
}

typedef struct kd_state {
    kdump_ctx_t *ctx;
    int fd; /* our dup of d->fd, owned */
} kd_state;

static void kd_free(void *p)
{
    kd_state *s = p;
    if (!s)
        return;
    if (s->ctx)
        kdump_free(s->ctx);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

static int kd_read(void *ctx, uint64_t va, void *buf, size_t len, size_t *got)
{
    kd_state *s = ctx;
    size_t l = len;
    kdump_status st = kdump_read(s->ctx, KDUMP_KVADDR, va, buf, &l);
    *got = l <= len ? l : len;
    return st == KDUMP_OK ? 0 : -1;
}

static ds_arch kd_arch(const char *a)
{
    static const struct {
        const char *name;
        ds_arch arch;
    } m[] = {{"x86_64", DS_ARCH_AMD64}, {"ia32", DS_ARCH_X86},        {"aarch64", DS_ARCH_ARM64},
             {"arm", DS_ARCH_ARM},      {"ppc64", DS_ARCH_PPC64},     {"ppc", DS_ARCH_PPC},
             {"s390x", DS_ARCH_S390X},  {"riscv64", DS_ARCH_RISCV64}, {"mips", DS_ARCH_MIPS}};
    if (!a)
        return DS_ARCH_UNKNOWN;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(a, m[i].name))
            return m[i].arch;
    return DS_ARCH_OTHER;
}

static bool kd_reg(kdump_ctx_t *ctx, uint32_t cpu, const char *name, uint64_t *out)
{
    char key[64];
    kdump_num_t v = 0;
    snprintf(key, sizeof key, "cpu.%u.reg.%s", cpu, name);
    if (kdump_get_number_attr(ctx, key, &v) != KDUMP_OK) {
        kdump_clear_err(ctx);
        return false;
    }
    *out = v;
    return true;
}

/* One ds_thread per CPU with saved registers (cpu.N.*, from the NT_PRSTATUS notes). */
static void kd_threads(ds_dump *d, kdump_ctx_t *ctx)
{
    static const struct {
        ds_arch arch;
        const char *pc, *sp, *fp;
    } regs[] = {{DS_ARCH_AMD64, "rip", "rsp", "rbp"},
                {DS_ARCH_X86, "eip", "esp", "ebp"},
                {DS_ARCH_ARM64, "pc", "sp", "x29"},
                {DS_ARCH_ARM, "r15", "r13", "r11"}};
    uint32_t n = d->sys.cpu_count < KD_MAX_CPUS ? d->sys.cpu_count : KD_MAX_CPUS;
    if (!n)
        return;
    d->threads = calloc(n, sizeof(ds_thread));
    if (!d->threads)
        return;
    for (uint32_t i = 0; i < n; i++) {
        ds_thread *t = &d->threads[d->nthreads++];
        char key[48];
        kdump_num_t pid = 0;
        snprintf(key, sizeof key, "cpu.%u.pid", i);
        if (kdump_get_number_attr(ctx, key, &pid) == KDUMP_OK)
            t->tid = (uint32_t)pid;
        else
            kdump_clear_err(ctx);
        snprintf(t->name, sizeof t->name, "cpu%u", i);
        for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
            if (regs[k].arch == d->sys.arch) {
                bool ok = kd_reg(ctx, i, regs[k].pc, &t->pc);
                ok &= kd_reg(ctx, i, regs[k].sp, &t->sp);
                kd_reg(ctx, i, regs[k].fp, &t->fp);
                (void)ok;
            }
    }
}

/* libkdumpfile 0.5.1 does not validate everything it reads while opening: a fuzzed ELF vmcore
 * crashed it inside kdump_open. The open and the attribute queries we make are therefore tried
 * first in a child process; a crash there becomes a clean error here. Returns the signal that
 * killed the child (SIGSEGV when it exited with an error, as under a sanitizer), or 0. */
static int kd_trial_open(int fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0; /* cannot isolate: proceed (the checks above still apply) */
    if (pid == 0) {
        int cfd = dup(fd);
        kdump_ctx_t *c = kdump_new();
        if (c && cfd >= 0) {
            kdump_set_number_attr(c, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER);
            if (kdump_open_fd(c, cfd) == KDUMP_OK) {
                const char *str = NULL;
                kdump_num_t num = 0;
                kdump_get_string_attr(c, "file.format", &str);
                kdump_get_string_attr(c, "arch.name", &str);
                kdump_get_number_attr(c, "arch.ptr_size", &num);
                kdump_get_number_attr(c, "cpu.number", &num);
                kdump_get_string_attr(c, "linux.uts.release", &str);
                kdump_set_string_attr(c, "addrxlat.ostype", "linux");
            }
        }
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 0;
    if (WIFSIGNALED(status))
        return WTERMSIG(status);
    /* a sanitizer that caught the fault exits with a status instead of a signal */
    return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? SIGSEGV : 0;
}

static uint64_t be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* The flattened makedumpfile format (what `makedumpfile -F` writes to a pipe) is a 4 KiB header
 * followed by big-endian (offset, size) records of the real kdump-compressed file, ended by an
 * (-1, -1) record. libkdumpfile 0.5.1 cannot read it, so the records are written back in place
 * (what `makedumpfile -R` does) into an unlinked temporary file in $TMPDIR, which then replaces
 * the flattened file as the dump's mapping. Sparse where the records leave holes. */
#define KD_FLAT_HDR 4096u
#define KD_FLAT_MAX_OFFSET (1ull << 42) /* 4 TiB: no real dump is larger */
static ds_status kd_unflatten(ds_dump *d)
{
    if (d->map_size < KD_FLAT_HDR + 16) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat header", 1, 0,
                    "the file ends inside the 4 KiB header");
        return DS_E_FORMAT;
    }
    uint64_t type = be64(d->map + 16), version = be64(d->map + 24);
    if (type != 1)
        ds_diag_add(&d->diags, DS_SEV_WARNING, "makedumpfile flat header", 1, 16,
                    "type %llu (expected 1, TYPE_FLAT_HEADER)", (unsigned long long)type);
    (void)version;
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/dumpsleuth-flat-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat records", 0, 0,
                    "cannot create a temporary file to reassemble the flattened dump in %s: %s",
                    dir && *dir ? dir : "/tmp", strerror(errno));
        return DS_E_IO;
    }
    unlink(tmpl);
    uint64_t pos = KD_FLAT_HDR, records = 0;
    bool ended = false, ok = true;
    while (pos + 16 <= d->map_size) {
        uint64_t off = be64(d->map + pos), size = be64(d->map + pos + 8);
        if (off == UINT64_MAX) {
            ended = true;
            break;
        }
        if (off > KD_FLAT_MAX_OFFSET || size > KD_FLAT_MAX_OFFSET - off) {
            ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat record", 1, pos,
                        "record %llu: offset 0x%llx size 0x%llx is impossible: stopped here",
                        (unsigned long long)records, (unsigned long long)off,
                        (unsigned long long)size);
            ok = false;
            break;
        }
        pos += 16;
        if (size > d->map_size - pos) {
            ds_diag_add(&d->diags, DS_SEV_WARNING, "makedumpfile flat record", 1, pos - 16,
                        "record %llu: %llu bytes run past the end of the file: truncated",
                        (unsigned long long)records, (unsigned long long)size);
            size = d->map_size - pos;
            ok = false;
        }
        for (uint64_t done = 0; done < size;) {
            ssize_t w = pwrite(fd, d->map + pos + done, (size_t)(size - done), (off_t)(off + done));
            if (w <= 0) {
                ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat record", 1, pos,
                            "cannot write the reassembled dump: %s", strerror(errno));
                close(fd);
                return DS_E_IO;
            }
            done += (uint64_t)w;
        }
        pos += size;
        records++;
    }
    if (!ended && ok)
        ds_diag_add(&d->diags, DS_SEV_WARNING, "makedumpfile flat record", 1, pos,
                    "no end record: the flattened dump is truncated");
    struct stat st;
    void *m = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat records", 1, KD_FLAT_HDR,
                    "no data could be reassembled from %llu records", (unsigned long long)records);
        close(fd);
        return DS_E_FORMAT;
    }
    munmap((void *)d->map, (size_t)d->map_size);
    close(d->fd);
    d->map = m;
    d->map_size = (uint64_t)st.st_size;
    d->fd = fd;
    ds_diag_add(&d->diags, DS_SEV_NOTE, "makedumpfile flat records", 1, KD_FLAT_HDR,
                "flattened format: %llu records reassembled into a %llu-byte kdump file",
                (unsigned long long)records, (unsigned long long)st.st_size);
    return DS_OK;
}

ds_status ds_kdump_read(ds_dump *d)
{
    if (d->map_size >= 16 && !memcmp(d->map, "makedumpfile\0\0\0\0", 16)) {
        ds_status us = kd_unflatten(d);
        if (us != DS_OK)
            return us;
        if (d->map_size < 8 || (memcmp(d->map, "KDUMP   ", 8) && memcmp(d->map, "DISKDUMP", 8))) {
            ds_diag_add(&d->diags, DS_SEV_ERROR, "makedumpfile flat records", 1, 0,
                        "the reassembled file is not a kdump-compressed dump");
            return DS_E_FORMAT;
        }
    }
    kd_state *s = calloc(1, sizeof *s);
    if (!s)
        return DS_E_NOMEM;
    s->fd = dup(d->fd);
    s->ctx = kdump_new();
    if (s->fd < 0 || !s->ctx) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "libkdumpfile", 0, 0, "cannot create a context");
        kd_free(s);
        return DS_E_NOMEM;
    }
    /* libkdumpfile 0.5.1 trusts the ELF segment table (a PT_LOAD with a wild p_offset crashed it
     * under fuzzing): such a table is refused before it gets there. */
    kd_scan scan = {0, 0, 0};
    if (d->map_size >= 4 && !memcmp(d->map,
                                    "\x7f"
                                    "ELF",
                                    4)) {
        elf_is_vmcore(d->map, d->map_size, &scan);
        if (scan.bad_segs) {
            ds_diag_add(&d->diags, DS_SEV_ERROR, "Elf_Phdr", 1, scan.first_bad,
                        "%llu PT_LOAD segments with impossible offsets or sizes: the dump is "
                        "corrupt",
                        (unsigned long long)scan.bad_segs);
            kd_free(s);
            return DS_E_FORMAT;
        }
        if (scan.truncated_segs)
            ds_diag_add(&d->diags, DS_SEV_WARNING, "Elf_Phdr", 0, 0,
                        "file truncated: the data of %llu PT_LOAD segments runs past the end of "
                        "the file",
                        (unsigned long long)scan.truncated_segs);
    }
    if (d->map_size >= 8 && (!memcmp(d->map, "KDUMP   ", 8) || !memcmp(d->map, "DISKDUMP", 8)) &&
        !diskdump_sane(d)) {
        kd_free(s);
        return DS_E_FORMAT;
    }
    /* read(2), never mmap(2): libkdumpfile maps segment data past the end of a truncated file and
     * dies of SIGBUS on the first access (found by fuzzing); reads just fail. */
    kdump_set_number_attr(s->ctx, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER);
    int sig = kd_trial_open(s->fd);
    if (sig) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "libkdumpfile", 1, 0,
                    "libkdumpfile crashed (signal %d) while opening this dump in a trial process: "
                    "the dump is corrupt in a way the library does not check",
                    sig);
        kd_free(s);
        return DS_E_FORMAT;
    }
    kdump_status st = kdump_open_fd(s->ctx, s->fd);
    if (st != KDUMP_OK) {
        bool flat = d->map_size >= 12 && !memcmp(d->map, "makedumpfile", 12);
        ds_diag_add(&d->diags, DS_SEV_ERROR, "libkdumpfile", 1, 0, "cannot open the dump: %s%s",
                    kdump_get_err(s->ctx),
                    flat ? " (flattened makedumpfile format: this libkdumpfile cannot read it; "
                           "convert it with makedumpfile -R)"
                         : "");
        kd_free(s);
        return flat ? DS_E_UNSUPPORTED : DS_E_FORMAT;
    }
    /* Kernel virtual addresses need the OS type for libaddrxlat (drgn does the same); without it
     * KVADDR reads of diskdump files fail ("Cannot determine 5-level paging"). */
    const char *ost = NULL;
    if (kdump_get_string_attr(s->ctx, "addrxlat.ostype", &ost) != KDUMP_OK || !ost) {
        kdump_clear_err(s->ctx);
        if (kdump_set_string_attr(s->ctx, "addrxlat.ostype", "linux") != KDUMP_OK)
            ds_diag_add(&d->diags, DS_SEV_NOTE, "libkdumpfile", 0, 0,
                        "cannot set addrxlat.ostype=linux: %s", kdump_get_err(s->ctx));
    }
    d->format = DS_FMT_KDUMP;
    d->kind = DS_KIND_KERNEL;
    d->sys.os = DS_OS_LINUX;
    const char *str = NULL;
    const char *fmt = "unknown";
    if (kdump_get_string_attr(s->ctx, "file.format", &str) == KDUMP_OK && str)
        fmt = str;
    snprintf(d->producer, sizeof d->producer, "kernel (%s)", fmt);
    d->format_name = !strcmp(fmt, "elf")        ? "Linux kernel dump (ELF vmcore)"
                     : !strcmp(fmt, "diskdump") ? "Linux kernel dump (diskdump/kdump-compressed)"
                                                : "Linux kernel dump";
    snprintf(d->kind_reason, sizeof d->kind_reason, "kernel crash dump (libkdumpfile format %s)",
             fmt);
    str = NULL;
    if (kdump_get_string_attr(s->ctx, "arch.name", &str) == KDUMP_OK)
        d->sys.arch = kd_arch(str);
    else
        ds_diag_add(&d->diags, DS_SEV_WARNING, "libkdumpfile", 0, 0, "architecture unknown: %s",
                    kdump_get_err(s->ctx));
    kdump_num_t num = 0;
    if (kdump_get_number_attr(s->ctx, "arch.ptr_size", &num) == KDUMP_OK && (num == 4 || num == 8))
        d->sys.ptr_size = (unsigned)num;
    else
        d->sys.ptr_size = d->sys.arch == DS_ARCH_X86 || d->sys.arch == DS_ARCH_ARM ? 4 : 8;
    d->sys.target_ptr_size = d->sys.ptr_size;
    num = 0;
    if (kdump_get_number_attr(s->ctx, "cpu.number", &num) == KDUMP_OK)
        d->sys.cpu_count = num > UINT32_MAX ? UINT32_MAX : (uint32_t)num;
    str = NULL;
    if (kdump_get_string_attr(s->ctx, "linux.uts.release", &str) == KDUMP_OK && str) {
        char rel[96];
        ds_copy_clean(rel, sizeof rel, (const uint8_t *)str, strlen(str));
        snprintf(d->sys.os_text, sizeof d->sys.os_text, "Linux %s", rel);
    } else {
        snprintf(d->sys.os_text, sizeof d->sys.os_text, "Linux");
    }
    kdump_clear_err(s->ctx);
    kd_threads(d, s->ctx);
    diskdump_check_truncation(d);

    ds_vmem_init(&d->vm, d->map, d->map_size, d->sys.ptr_size);
    if (!ds_vmem_add(&d->vm, 0, UINT64_MAX, DS_RANGE_BACKEND, 0, 0)) {
        kd_free(s);
        return DS_E_NOMEM;
    }
    ds_vmem_finish(&d->vm);
    d->vm.has_map_info = false;
    d->vm.backend = kd_read;
    d->vm.backend_ctx = s;
    d->backend = s;
    d->backend_free = kd_free;
    return DS_OK;
}
