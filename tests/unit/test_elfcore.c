/* User-space ELF cores: the real gcore/kernel-core fixtures (checked against the program's own
 * truth file, lldb's thread/image lists and libkdumpfile's reads of the same file) and synthetic
 * cores built here for PN_XNUM, the NT_FILE conventions, uncaptured ranges, truncation and bogus
 * notes. */
#include "dstest.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include "dumpsleuth/dump.h"

/* ------------------------------------------------------------------ helpers */

static ds_status open_bytes(const uint8_t *b, size_t n, ds_dump **d)
{
    char *path = dstest_write_temp("ds-elfcore", b, n);
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(path, d, &dg);
    ds_diags_free(&dg);
    unlink(path);
    free(path);
    return s;
}

static bool has_diag(const ds_dump *d, const char *structure_prefix, ds_severity min)
{
    for (size_t i = 0; i < d->diags.n; i++)
        if (d->diags.v[i].severity >= min &&
            !strncmp(d->diags.v[i].structure, structure_prefix, strlen(structure_prefix)))
            return true;
    return false;
}

static const ds_stream *find_stream(const ds_dump *d, const char *name, size_t nth)
{
    for (size_t i = 0; i < d->nstreams; i++)
        if (!strcmp(d->streams[i].name, name) && nth-- == 0)
            return &d->streams[i];
    return NULL;
}

/* ------------------------------------------------------------------ synthetic core builder */

typedef struct sload {
    uint64_t vaddr, memsz, filesz;
    uint32_t flags;
    const uint8_t *data;   /* filesz bytes, NULL = pattern */
    uint64_t force_offset; /* 0 = natural */
} sload;

typedef struct sfile {
    uint64_t start, end, off; /* off as written */
    const char *path;
} sfile;

typedef struct spec {
    bool elf32;
    uint16_t machine;
    bool xnum;
    uint64_t nt_file_page; /* 0 = no NT_FILE */
    const sfile *files;
    size_t nfiles;
    bool siginfo;
    uint32_t signo;
    int32_t si_code;
    uint64_t fault_addr;
    const sload *loads;
    size_t nloads;
    size_t extra_empty_loads; /* PT_LOADs with p_filesz 0 after the real ones (for PN_XNUM) */
    const uint8_t *raw_notes; /* replaces the generated notes when set */
    size_t raw_notes_len;
} spec;

static void prstatus(dstest_buf *x, const spec *s, uint32_t tid, uint64_t pc, uint64_t sp,
                     uint64_t fp)
{
    bool is64 = !s->elf32;
    uint8_t d[512];
    memset(d, 0, sizeof d);
    size_t ps = is64 ? 8 : 4, reg_off = is64 ? 112 : 72, size;
    d[12] = 11; /* pr_cursig */
    uint32_t ids[4] = {tid, 1, tid, tid};
    memcpy(d + 16 + 2 * ps, ids, sizeof ids);
    int pci, spi, fpi;
    size_t nregs;
    switch (s->machine) {
    case 3:
        nregs = 17, pci = 12, spi = 15, fpi = 5;
        break;
    case 183:
        nregs = 34, pci = 32, spi = 31, fpi = 29;
        break;
    default:
        nregs = 27, pci = 16, spi = 19, fpi = 4;
        break;
    }
    uint64_t v[3] = {pc, sp, fp};
    int idx[3] = {pci, spi, fpi};
    for (int k = 0; k < 3; k++)
        for (size_t b = 0; b < ps; b++)
            d[reg_off + (size_t)idx[k] * ps + b] = (uint8_t)(v[k] >> (8 * b));
    size = reg_off + nregs * ps + 4;
    size = (size + ps - 1) / ps * ps;
    dstest_elf_note(x, "CORE", 1, d, (uint32_t)size);
}

static void gen_notes(dstest_buf *x, const spec *s)
{
    bool is64 = !s->elf32;
    unsigned ps = is64 ? 8 : 4;
    prstatus(x, s, 100, 0x401000, 0x7ff000, 0x7ff100);
    if (s->siginfo) {
        uint8_t si[128];
        memset(si, 0, sizeof si);
        memcpy(si, &s->signo, 4);
        memcpy(si + 8, &s->si_code, 4);
        for (unsigned b = 0; b < ps; b++)
            si[(is64 ? 16 : 12) + b] = (uint8_t)(s->fault_addr >> (8 * b));
        dstest_elf_note(x, "CORE", 0x53494749, si, 128);
    }
    uint8_t ps_info[136];
    memset(ps_info, 0, sizeof ps_info);
    ps_info[1] = 'R';
    if (is64) {
        uint32_t ids[6] = {1000, 1000, 100, 1, 100, 100};
        memcpy(ps_info + 16, ids, sizeof ids);
        memcpy(ps_info + 40, "synthcore", 9);
        memcpy(ps_info + 56, "./synthcore -x   ", 17);
        dstest_elf_note(x, "CORE", 3, ps_info, 136);
    } else {
        uint16_t ug[2] = {1000, 1000};
        uint32_t ids[4] = {100, 1, 100, 100};
        memcpy(ps_info + 8, ug, 4);
        memcpy(ps_info + 12, ids, 16);
        memcpy(ps_info + 28, "synthcore", 9);
        memcpy(ps_info + 44, "./synthcore", 11);
        dstest_elf_note(x, "CORE", 3, ps_info, 124);
    }
    prstatus(x, s, 101, 0x402000, 0x6ff000, 0);
    dstest_buf a = {0};
    dstest_put_le(&a, 6, ps); /* AT_PAGESZ */
    dstest_put_le(&a, 4096, ps);
    dstest_put_le(&a, 0, ps);
    dstest_put_le(&a, 0, ps);
    dstest_elf_note(x, "CORE", 6, a.b, (uint32_t)a.n);
    free(a.b);
    if (s->nt_file_page) {
        dstest_buf f = {0};
        dstest_put_le(&f, s->nfiles, ps);
        dstest_put_le(&f, s->nt_file_page, ps);
        for (size_t i = 0; i < s->nfiles; i++) {
            dstest_put_le(&f, s->files[i].start, ps);
            dstest_put_le(&f, s->files[i].end, ps);
            dstest_put_le(&f, s->files[i].off, ps);
        }
        for (size_t i = 0; i < s->nfiles; i++)
            dstest_put(&f, s->files[i].path, strlen(s->files[i].path) + 1);
        dstest_elf_note(x, "CORE", 0x46494c45, f.b, (uint32_t)f.n);
        free(f.b);
    }
}

/* Builds an ET_CORE file: header, program headers, notes, then the PT_LOAD data. */
static dstest_buf build(const spec *s)
{
    dstest_buf x = {0};
    bool is64 = !s->elf32;
    unsigned ps = is64 ? 8 : 4;
    size_t ehsize = is64 ? 64 : 52, phent = is64 ? 56 : 32, shent = is64 ? 64 : 40;
    size_t nph = 1 + s->nloads + s->extra_empty_loads;
    dstest_buf notes = {0};
    if (s->raw_notes)
        dstest_put(&notes, s->raw_notes, s->raw_notes_len);
    else
        gen_notes(&notes, s);
    /* layout: ehdr, [shdr0], phdrs, notes, data */
    size_t shoff = s->xnum ? ehsize : 0;
    size_t phoff = ehsize + (s->xnum ? shent : 0);
    size_t notes_off = phoff + nph * phent;
    size_t data_off = (notes_off + notes.n + 4095) & ~(size_t)4095;
    /* e_ident */
    dstest_put(&x,
               "\x7f"
               "ELF",
               4);
    dstest_put_le(&x, is64 ? 2 : 1, 1);
    dstest_put_le(&x, 1, 1);
    dstest_put_le(&x, 1, 1);
    dstest_zeros(&x, 9);
    dstest_put_le(&x, 4, 2); /* ET_CORE */
    dstest_put_le(&x, s->machine ? s->machine : 62, 2);
    dstest_put_le(&x, 1, 4);
    dstest_put_le(&x, 0, ps);     /* entry */
    dstest_put_le(&x, phoff, ps); /* phoff */
    dstest_put_le(&x, shoff, ps); /* shoff */
    dstest_put_le(&x, 0, 4);      /* flags */
    dstest_put_le(&x, ehsize, 2); /* ehsize */
    dstest_put_le(&x, phent, 2);  /* phentsize */
    dstest_put_le(&x, s->xnum ? 0xffff : nph, 2);
    dstest_put_le(&x, s->xnum ? shent : 0, 2);
    dstest_put_le(&x, s->xnum ? 1 : 0, 2); /* shnum */
    dstest_put_le(&x, 0, 2);
    if (s->xnum) {
        size_t at = x.n;
        dstest_zeros(&x, shent);
        dstest_set_le(&x, at + (is64 ? 44 : 28), nph, 4); /* sh_info = real phnum */
    }
    assert_int_equal(x.n, phoff);
    uint64_t cur = data_off;
    for (size_t i = 0; i < nph; i++) {
        uint32_t type, flags;
        uint64_t off, vaddr, filesz, memsz;
        if (i == 0) {
            type = 4, flags = 0, off = notes_off, vaddr = 0, filesz = notes.n, memsz = 0;
        } else if (i <= s->nloads) {
            const sload *l = &s->loads[i - 1];
            type = 1, flags = l->flags, vaddr = l->vaddr, filesz = l->filesz, memsz = l->memsz;
            off = l->force_offset ? l->force_offset : cur;
            if (!l->force_offset)
                cur += filesz;
        } else {
            type = 1, flags = 4, off = cur, filesz = 0, memsz = 0x1000;
            vaddr = 0x100000000ull + (uint64_t)(i - s->nloads) * 0x2000;
        }
        dstest_put_le(&x, type, 4);
        if (is64) {
            dstest_put_le(&x, flags, 4);
            dstest_put_le(&x, off, 8);
            dstest_put_le(&x, vaddr, 8);
            dstest_put_le(&x, 0, 8);
            dstest_put_le(&x, filesz, 8);
            dstest_put_le(&x, memsz, 8);
            dstest_put_le(&x, type == 4 ? 4 : 0x1000, 8);
        } else {
            dstest_put_le(&x, off, 4);
            dstest_put_le(&x, vaddr, 4);
            dstest_put_le(&x, 0, 4);
            dstest_put_le(&x, filesz, 4);
            dstest_put_le(&x, memsz, 4);
            dstest_put_le(&x, flags, 4);
            dstest_put_le(&x, type == 4 ? 4 : 0x1000, 4);
        }
    }
    dstest_put(&x, notes.b, notes.n);
    free(notes.b);
    dstest_zeros(&x, data_off - x.n);
    for (size_t i = 0; i < s->nloads; i++) {
        const sload *l = &s->loads[i];
        if (l->force_offset)
            continue;
        if (l->data) {
            dstest_put(&x, l->data, l->filesz);
        } else {
            for (uint64_t k = 0; k < l->filesz; k += 16) {
                char t[48];
                snprintf(t, sizeof t, "L%02u@%012llx", (unsigned)(i % 100),
                         (unsigned long long)((l->vaddr + k) & 0xffffffffffffull));
                dstest_put(&x, t, l->filesz - k < 16 ? l->filesz - k : 16);
            }
        }
    }
    return x;
}

/* A tiny ELF image (as mapped in memory) with a GNU build-id note: a module for NT_FILE tests. */
static void make_image(uint8_t *img, size_t size, const uint8_t *bid, size_t bidlen)
{
    memset(img, 0, size);
    dstest_buf x = {0};
    dstest_put(&x,
               "\x7f"
               "ELF",
               4);
    dstest_put_le(&x, 2, 1);
    dstest_put_le(&x, 1, 1);
    dstest_put_le(&x, 1, 1);
    dstest_zeros(&x, 9);
    dstest_put_le(&x, 3, 2); /* ET_DYN */
    dstest_put_le(&x, 62, 2);
    dstest_put_le(&x, 1, 4);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 64, 8); /* phoff */
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 4);
    dstest_put_le(&x, 64, 2);
    dstest_put_le(&x, 56, 2);
    dstest_put_le(&x, 2, 2);
    dstest_put_le(&x, 0, 2);
    dstest_put_le(&x, 0, 2);
    dstest_put_le(&x, 0, 2);
    /* PT_LOAD offset 0 vaddr 0 */
    dstest_put_le(&x, 1, 4);
    dstest_put_le(&x, 5, 4);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0x1000, 8);
    dstest_put_le(&x, 0x1000, 8);
    dstest_put_le(&x, 0x1000, 8);
    /* PT_NOTE at 0x100 */
    dstest_put_le(&x, 4, 4);
    dstest_put_le(&x, 4, 4);
    dstest_put_le(&x, 0x100, 8);
    dstest_put_le(&x, 0x100, 8);
    dstest_put_le(&x, 0x100, 8);
    dstest_put_le(&x, 16 + bidlen, 8);
    dstest_put_le(&x, 16 + bidlen, 8);
    dstest_put_le(&x, 4, 8);
    memcpy(img, x.b, x.n);
    free(x.b);
    dstest_buf n = {0};
    dstest_elf_note(&n, "GNU", 3, bid, (uint32_t)bidlen);
    memcpy(img + 0x100, n.b, n.n);
    free(n.b);
}

/* ------------------------------------------------------------------ fixture tests */

typedef struct truth {
    cJSON *j;
    uint32_t pid;
    uint32_t tids[8];
    size_t ntids;
} truth;

static bool load_truth(truth *t)
{
    const char *p = dstest_fixture("linux-gcore-x64.truth.json");
    if (!p)
        return false;
    t->j = dstest_load_json(p);
    t->pid = (uint32_t)cJSON_GetObjectItem(t->j, "pid")->valuedouble;
    cJSON *th = cJSON_GetObjectItem(t->j, "threads"), *e;
    t->ntids = 0;
    cJSON_ArrayForEach(e, th)
    {
        if (t->ntids < 8)
            t->tids[t->ntids++] = (uint32_t)e->valuedouble;
    }
    return true;
}

static bool has_tid(const ds_dump *d, uint32_t tid)
{
    for (size_t i = 0; i < d->nthreads; i++)
        if (d->threads[i].tid == tid)
            return true;
    return false;
}

/* Checks everything the truth file says against an opened fixture core. */
static void check_against_truth(ds_dump *d, const truth *t)
{
    assert_int_equal(d->format, DS_FMT_ELFCORE);
    assert_int_equal(d->sys.os, DS_OS_LINUX);
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.ptr_size, 8);
    assert_true(d->has_region_table);
    assert_true(d->vm.has_map_info);
    assert_true(d->lnx.has_prpsinfo);
    assert_int_equal(d->lnx.pid, t->pid);
    assert_string_equal(d->lnx.fname, "linux_leak");
    assert_non_null(strstr(d->sys.os_text, "x86_64"));
    assert_int_equal(d->nthreads, t->ntids);
    for (size_t i = 0; i < t->ntids; i++)
        assert_true(has_tid(d, t->tids[i]));
    for (size_t i = 0; i < d->nthreads; i++) {
        assert_true(d->threads[i].has_context);
        assert_int_equal(d->threads[i].context_size, 27 * 8);
        assert_non_null(ds_region_at(d, d->threads[i].sp)); /* sp is in a mapped stack */
        assert_non_null(ds_module_at(d, d->threads[i].pc)); /* pc is in libc */
        assert_true(d->threads[i].stack_size > 0);
    }
    assert_non_null(find_stream(d, "NT_PRSTATUS", t->ntids - 1));
    assert_null(find_stream(d, "NT_PRSTATUS", t->ntids));
    assert_non_null(find_stream(d, "NT_AUXV", 0));
    assert_non_null(find_stream(d, "NT_FILE", 0));
    assert_true(d->lnx.nauxv > 5);
    /* mmaps: exactly one PT_LOAD each, with the right size and permissions, private */
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(t->j, "mmaps"))
    {
        uint64_t addr = (uint64_t)cJSON_GetObjectItem(e, "addr")->valuedouble;
        uint64_t size = (uint64_t)cJSON_GetObjectItem(e, "size")->valuedouble;
        const char *perm = cJSON_GetObjectItem(e, "perm")->valuestring;
        const char *marker = cJSON_GetObjectItem(e, "marker")->valuestring;
        const ds_region *g = ds_region_at(d, addr);
        assert_non_null(g);
        assert_int_equal(g->base, addr);
        assert_int_equal(g->size, size);
        uint32_t want =
            (perm[0] == 'r' ? 4u : 0) | (perm[1] == 'w' ? 2u : 0) | (perm[2] == 'x' ? 1u : 0);
        assert_int_equal(g->perm, want);
        assert_int_equal(g->protect, perm[1] == 'w' ? 0x04u : 0x02u);
        assert_int_equal(g->type, DS_MEM_PRIVATE);
        assert_int_equal(g->state, DS_MEM_COMMIT);
        assert_int_equal(g->captured, size);
        char b[32] = {0};
        assert_int_equal(ds_vmem_read(&d->vm, addr, b, strlen(marker), NULL), DS_MEM_OK);
        assert_memory_equal(b, marker, strlen(marker));
        /* the PROT_NONE guard pages around it are separate segments (the kernel writes them
         * with p_filesz 0, gdb dumps them as readable zero pages) */
        const ds_region *before = ds_region_at(d, addr - 1), *after = ds_region_at(d, addr + size);
        assert_true(!before || before->base + before->size == addr);
        assert_true(!after || after->base == addr + size);
        if (!strcmp(d->producer, "kernel")) {
            uint8_t c;
            assert_int_equal(ds_vmem_u8(&d->vm, addr - 1, &c), DS_MEM_NOT_CAPTURED);
            assert_int_equal(ds_vmem_u8(&d->vm, addr + size, &c), DS_MEM_NOT_CAPTURED);
            assert_int_equal(before->protect, 0x01); /* PAGE_NOACCESS */
        }
    }
    size_t nm = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(t->j, "mallocs"))
    {
        uint64_t addr = (uint64_t)cJSON_GetObjectItem(e, "addr")->valuedouble;
        const char *marker = cJSON_GetObjectItem(e, "marker")->valuestring;
        char b[64];
        assert_int_equal(ds_vmem_cstr(&d->vm, addr, b, sizeof b), DS_MEM_OK);
        assert_string_equal(b, marker);
        const ds_region *g = ds_region_at(d, addr);
        assert_non_null(g);
        assert_int_equal(g->type, DS_MEM_PRIVATE);
        assert_true(g->perm & 2);
        nm++;
    }
    assert_true(nm >= 10);
    /* modules and image regions */
    const ds_module *exe = dstest_module_named(d, "linux_leak");
    const ds_module *libc = dstest_module_named(d, "libc.so.6");
    assert_non_null(exe);
    assert_non_null(libc);
    assert_non_null(dstest_module_named(d, "[vdso]"));
    assert_int_equal(libc->cv.kind, 3);
    assert_true(libc->cv.build_id_len == 20);
    const ds_region *g = ds_region_at(d, libc->base);
    assert_non_null(g);
    assert_int_equal(g->type, DS_MEM_IMAGE);
    assert_true(g->file >= 0);
    /* NT_FILE offsets normalised to bytes: libc's first mapping at offset 0, the others
     * page-aligned byte offsets below the file's plausible size */
    size_t nlibc = 0;
    for (size_t i = 0; i < d->lnx.nfiles; i++) {
        const ds_file_map *f = &d->lnx.files[i];
        assert_int_equal(f->file_offset % 4096, 0);
        if (strstr(f->path, "libc.so.6")) {
            nlibc++;
            assert_true(f->file_offset < 64ull << 20);
            if (f->start == libc->base)
                assert_int_equal(f->file_offset, 0);
        }
    }
    assert_true(nlibc >= 3);
}

/* lldb provenance: "tid = N" in thread lines and "[ i] UUID 0xBASE path" in image lines. */
static void check_against_lldb(ds_dump *d)
{
    const char *p = dstest_data("lldb/linux-gcore-x64.txt");
    assert_non_null(p);
    size_t n = 0;
    char *txt = (char *)dstest_read_file(p, &n);
    assert_non_null(txt);
    txt = realloc(txt, n + 1);
    txt[n] = 0;
    size_t threads = 0, images = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        char *tid = strstr(line, "tid = ");
        if (strstr(line, "thread #") && tid) {
            assert_true(has_tid(d, (uint32_t)strtoul(tid + 6, NULL, 10)));
            threads++;
            continue;
        }
        char uuid[80];
        unsigned long long base;
        char path[512];
        int idx;
        if (sscanf(line, "[%d] %79s 0x%llx %511s", &idx, uuid, &base, path) == 4) {
            if (!strcmp(path, "linux-vdso.so.1"))
                continue; /* lldb lists the vDSO twice */
            const ds_module *m = ds_module_at(d, base);
            assert_non_null(m);
            assert_int_equal(m->base, base);
            char hex[160] = {0}, want[160] = {0};
            for (uint32_t k = 0; k < m->cv.build_id_len; k++)
                snprintf(hex + 2 * k, 3, "%02x", m->cv.build_id[k]);
            size_t w = 0;
            for (const char *c = uuid; *c && w < sizeof want - 1; c++)
                if (*c != '-')
                    want[w++] = (char)tolower((unsigned char)*c);
            assert_string_equal(hex, want);
            images++;
        }
    }
    assert_int_equal(threads, d->nthreads);
    assert_int_equal(images, 4);
    free(txt);
}

/* Compares our view with libkdumpfile's KVADDR reads of the same core, page by page, over every
 * data-carrying PT_LOAD (every captured byte of the fixture).
 *
 * libkdumpfile 0.5.1 quirk: the page just before the start of a data-carrying PT_LOAD reads as
 * KDUMP_OK with zeros even when no segment maps it (its page lookup rounds the segment start down
 * a page; verified here: two pages before fails as expected). Such pages are not mapped in the
 * process, so our view must say NOT_MAPPED there; they are excluded from the byte comparison and
 * the libkdumpfile side is only checked to be zeros. */
static void crosscheck_libkdumpfile(ds_dump *d, const char *path, size_t *compared)
{
    kdump_ctx_t *k = kdump_new();
    assert_non_null(k);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(kdump_open_fd(k, fd), KDUMP_OK);
    kdump_num_t ncpu = 0;
    assert_int_equal(kdump_get_number_attr(k, "cpu.number", &ncpu), KDUMP_OK);
    assert_int_equal(ncpu, d->nthreads);
    static uint8_t a[4096], b[4096];
    size_t pages = 0, quirk_pages = 0;
    for (size_t i = 0; i < d->nregions; i++) {
        const ds_region *g = &d->regions[i];
        for (uint64_t off = 0; off < g->captured; off += sizeof a) {
            uint64_t va = g->base + off;
            size_t len = g->captured - off < sizeof a ? (size_t)(g->captured - off) : sizeof a;
            size_t got = 0, klen = len;
            assert_int_equal(ds_vmem_read(&d->vm, va, a, len, &got), DS_MEM_OK);
            kdump_status st = kdump_read(k, KDUMP_KVADDR, va, b, &klen);
            if (st != KDUMP_OK)
                fail_msg("libkdumpfile cannot read 0x%llx: %s", (unsigned long long)va,
                         kdump_get_err(k));
            assert_int_equal(klen, len);
            if (memcmp(a, b, len) != 0)
                fail_msg("bytes differ at 0x%llx (region 0x%llx)", (unsigned long long)va,
                         (unsigned long long)g->base);
            pages++;
        }
        /* the page before the segment, when nothing maps it: the quirk described above */
        uint64_t prev = g->base - sizeof a;
        if (g->captured && g->base >= sizeof a && !ds_region_at(d, prev)) {
            assert_int_equal(ds_vmem_read(&d->vm, prev, a, sizeof a, NULL), DS_MEM_NOT_MAPPED);
            size_t klen = sizeof b;
            if (kdump_read(k, KDUMP_KVADDR, prev, b, &klen) == KDUMP_OK) {
                static const uint8_t z[4096];
                assert_memory_equal(b, z, klen);
                quirk_pages++;
            }
        }
    }
    print_message("libkdumpfile cross-check: %zu pages equal, %zu zero pages before a PT_LOAD "
                  "(libkdumpfile quirk)\n",
                  pages, quirk_pages);
    kdump_free(k);
    close(fd);
    assert_true(pages > 100);
    *compared = pages;
}

static void test_gcore_fixture(void **state)
{
    (void)state;
    truth t;
    const char *path = dstest_fixture("linux-gcore-x64.core");
    if (!path || !load_truth(&t)) {
        skip();
        return;
    }
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(path, &d, &dg);
    assert_int_equal(s, DS_OK);
    assert_non_null(d);
    assert_string_equal(d->producer, "gdb");
    assert_int_equal(d->lnx.nt_file_convention, 2);
    assert_int_equal(d->lnx.nt_file_page_size, 1);
    assert_int_equal(d->kind, DS_KIND_FULL);
    assert_false(d->exc.present); /* SIGSTOP of the attach */
    check_against_truth(d, &t);
    check_against_lldb(d);
    size_t pages = 0;
    crosscheck_libkdumpfile(d, path, &pages);
    ds_dump_close(d);
    ds_diags_free(&dg);
    cJSON_Delete(t.j);
}

static void test_kernel_core_fixture(void **state)
{
    (void)state;
    truth t;
    const char *path = dstest_fixture("linux-kcore-x64.core");
    const char *gpath = dstest_fixture("linux-gcore-x64.core");
    if (!path || !gpath || !load_truth(&t)) {
        skip();
        return;
    }
    ds_dump *d = NULL, *g = NULL;
    assert_int_equal(ds_dump_open(path, &d, NULL), DS_OK);
    assert_string_equal(d->producer, "kernel");
    assert_int_equal(d->lnx.nt_file_convention, 1);
    assert_int_equal(d->lnx.nt_file_page_size, 4096);
    assert_int_equal(d->kind, DS_KIND_WITH_HEAP);
    assert_true(d->exc.present);
    assert_int_equal(d->exc.code, 11);
    assert_string_equal(d->exc.name, "SIGSEGV");
    assert_int_equal(d->exc.si_code, 0); /* SI_USER: kill -SEGV */
    assert_int_equal(d->exc.tid, t.pid);
    check_against_truth(d, &t);
    /* the same process as the gcore: NT_FILE normalised offsets must agree (pages vs bytes) */
    assert_int_equal(ds_dump_open(gpath, &g, NULL), DS_OK);
    assert_int_equal(d->lnx.nfiles, g->lnx.nfiles);
    for (size_t i = 0; i < d->lnx.nfiles; i++) {
        assert_int_equal(d->lnx.files[i].start, g->lnx.files[i].start);
        assert_int_equal(d->lnx.files[i].end, g->lnx.files[i].end);
        assert_int_equal(d->lnx.files[i].file_offset, g->lnx.files[i].file_offset);
        assert_string_equal(d->lnx.files[i].path, g->lnx.files[i].path);
    }
    /* libc's text: p_filesz 0 in a kernel core = not captured (not zeros) */
    const ds_module *libc = dstest_module_named(d, "libc.so.6");
    assert_non_null(libc);
    bool found_uncaptured = false;
    for (size_t i = 0; i < d->nregions; i++) {
        const ds_region *r = &d->regions[i];
        if (r->base >= libc->base && r->base < libc->base + libc->size && r->captured == 0) {
            uint8_t b[8];
            assert_int_equal(ds_vmem_read(&d->vm, r->base + 8, b, 8, NULL), DS_MEM_NOT_CAPTURED);
            assert_int_equal(r->type, DS_MEM_IMAGE);
            found_uncaptured = true;
        }
    }
    assert_true(found_uncaptured);
    /* the ELF header page of libc (p_filesz 0x1000 < p_memsz) is there, the rest is not */
    const ds_region *lr = ds_region_at(d, libc->base);
    assert_non_null(lr);
    assert_true(lr->captured == 4096 && lr->size > 4096);
    uint8_t b[4];
    assert_int_equal(ds_vmem_read(&d->vm, libc->base, b, 4, NULL), DS_MEM_OK);
    assert_int_equal(ds_vmem_read(&d->vm, libc->base + 4096, b, 4, NULL), DS_MEM_NOT_CAPTURED);
    size_t pages = 0;
    crosscheck_libkdumpfile(d, path, &pages);
    ds_dump_close(d);
    ds_dump_close(g);
    cJSON_Delete(t.j);
}

/* ------------------------------------------------------------------ synthetic tests */

static const uint8_t bid[20] = {0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,
                                7,    8,    9,    10,   11, 12, 13, 14, 15, 16};

/* A core with an ELF image mapped from /lib/libsynth.so (3 mappings) and a data file. */
static ds_dump *open_with_files(uint64_t page, const uint64_t offs[4], bool siginfo, ds_status want)
{
    static uint8_t img[0x1000];
    make_image(img, sizeof img, bid, sizeof bid);
    sload loads[] = {
        {0x10000, 0x1000, 0x1000, 4 | 1, img, 0},  /* libsynth: ELF header page, r-x */
        {0x11000, 0x2000, 0, 4 | 1, NULL, 0},      /* libsynth text: not captured */
        {0x13000, 0x1000, 0x1000, 4 | 2, NULL, 0}, /* libsynth data, rw- */
        {0x20000, 0x1000, 0x1000, 4, NULL, 0},     /* data file, r-- */
        {0x30000, 0x3000, 0x3000, 4 | 2, NULL, 0}, /* anonymous rw- */
    };
    sfile files[] = {{0x10000, 0x11000, offs[0], "/lib/libsynth.so"},
                     {0x11000, 0x13000, offs[1], "/lib/libsynth.so"},
                     {0x13000, 0x14000, offs[2], "/lib/libsynth.so"},
                     {0x20000, 0x21000, offs[3], "/data/file.bin"}};
    spec s = {0};
    s.nt_file_page = page;
    s.files = files;
    s.nfiles = 4;
    s.loads = loads;
    s.nloads = 5;
    s.siginfo = siginfo;
    s.signo = 11;
    s.si_code = 1;
    s.fault_addr = 0xdead0;
    dstest_buf x = build(&s);
    ds_dump *d = NULL;
    assert_int_equal(open_bytes(x.b, x.n, &d), want);
    free(x.b);
    assert_non_null(d);
    return d;
}

static void check_files(ds_dump *d, const uint64_t bytes[4])
{
    assert_int_equal(d->lnx.nfiles, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(d->lnx.files[i].file_offset, bytes[i]);
    assert_int_equal(d->nmodules, 1);
    const ds_module *m = &d->modules[0];
    assert_string_equal(m->path, "/lib/libsynth.so");
    assert_string_equal(m->name, "libsynth.so");
    assert_int_equal(m->base, 0x10000);
    assert_int_equal(m->size, 0x4000);
    assert_int_equal(m->cv.kind, 3);
    assert_int_equal(m->cv.build_id_len, 20);
    assert_memory_equal(m->cv.build_id, bid, 20);
    assert_int_equal(ds_region_at(d, 0x10000)->type, DS_MEM_IMAGE);
    assert_int_equal(ds_region_at(d, 0x10000)->protect, 0x20); /* PAGE_EXECUTE_READ */
    assert_int_equal(ds_region_at(d, 0x11000)->type, DS_MEM_IMAGE);
    assert_int_equal(ds_region_at(d, 0x13000)->protect, 0x04);
    assert_int_equal(ds_region_at(d, 0x20000)->type, DS_MEM_MAPPED);
    assert_int_equal(ds_region_at(d, 0x20000)->protect, 0x02);
    assert_int_equal(ds_region_at(d, 0x20000)->file, 3);
    assert_int_equal(ds_region_at(d, 0x30000)->type, DS_MEM_PRIVATE);
    assert_int_equal(ds_region_at(d, 0x30000)->file, -1);
    /* p_filesz 0: mapped, not captured, never zeros */
    uint8_t b[8];
    assert_int_equal(ds_vmem_read(&d->vm, 0x11800, b, 8, NULL), DS_MEM_NOT_CAPTURED);
    assert_int_equal(ds_region_at(d, 0x11000)->captured, 0);
    assert_int_equal(ds_vmem_read(&d->vm, 0x40000, b, 8, NULL), DS_MEM_NOT_MAPPED);
    char t[17] = {0};
    assert_int_equal(ds_vmem_read(&d->vm, 0x30010, t, 16, NULL), DS_MEM_OK);
    assert_string_equal(t, "L04@000000030010");
}

static void test_nt_file_conventions(void **state)
{
    (void)state;
    const uint64_t bytes[4] = {0, 0x1000, 0x3000, 0x2000};
    /* gdb: page_size 1, byte offsets */
    ds_dump *d = open_with_files(1, bytes, false, DS_OK);
    assert_int_equal(d->lnx.nt_file_convention, 2);
    assert_string_equal(d->producer, "gdb");
    check_files(d, bytes);
    ds_dump_close(d);
    /* kernel: page_size 4096, offsets in pages */
    const uint64_t pages[4] = {0, 1, 3, 2};
    d = open_with_files(4096, pages, true, DS_OK);
    assert_int_equal(d->lnx.nt_file_convention, 1);
    assert_string_equal(d->producer, "kernel");
    check_files(d, bytes);
    assert_true(d->exc.present);
    assert_int_equal(d->exc.code, 11);
    assert_string_equal(d->exc.name, "SIGSEGV");
    assert_int_equal(d->exc.si_code, 1);
    assert_int_equal(d->exc.fault_addr, 0xdead0);
    assert_int_equal(d->exc.tid, 100);
    assert_int_equal(d->exc.address, 0x401000);
    ds_dump_close(d);
    /* createdump 2.0: page_size 4096, byte offsets */
    d = open_with_files(4096, bytes, false, DS_OK);
    assert_int_equal(d->lnx.nt_file_convention, 3);
    assert_string_equal(d->producer, "createdump");
    check_files(d, bytes);
    ds_dump_close(d);
    /* all offsets zero: ambiguous, no conversion needed; NT_SIGINFO decides the producer */
    const uint64_t z[4] = {0, 0, 0, 0};
    d = open_with_files(4096, z, true, DS_OK);
    assert_int_equal(d->lnx.nt_file_convention, 1);
    ds_dump_close(d);
    d = open_with_files(4096, z, false, DS_OK);
    assert_int_equal(d->lnx.nt_file_convention, 3);
    ds_dump_close(d);
}

static void test_threads_and_info(void **state)
{
    (void)state;
    const uint64_t bytes[4] = {0, 0x1000, 0x3000, 0x2000};
    ds_dump *d = open_with_files(1, bytes, false, DS_OK);
    assert_int_equal(d->nthreads, 2);
    assert_int_equal(d->threads[0].tid, 100);
    assert_int_equal(d->threads[0].pc, 0x401000);
    assert_int_equal(d->threads[0].sp, 0x7ff000);
    assert_int_equal(d->threads[0].fp, 0x7ff100);
    assert_int_equal(d->threads[0].signal, 11);
    assert_int_equal(d->threads[0].ppid, 1);
    assert_int_equal(d->threads[1].tid, 101);
    assert_non_null(d->threads[0].context);
    assert_true(d->threads[0].context >= d->map && d->threads[0].context < d->map + d->map_size);
    assert_string_equal(d->threads[0].name, "synthcore");
    assert_true(d->lnx.has_prpsinfo);
    assert_int_equal(d->lnx.pid, 100);
    assert_int_equal(d->lnx.uid, 1000);
    assert_int_equal(d->lnx.state, 'R');
    assert_string_equal(d->lnx.fname, "synthcore");
    assert_string_equal(d->lnx.psargs, "./synthcore -x");
    assert_int_equal(d->lnx.nauxv, 1);
    assert_int_equal(d->lnx.auxv[0].type, 6);
    /* no NT_SIGINFO: the first thread's signal */
    assert_true(d->exc.present);
    assert_int_equal(d->exc.code, 11);
    assert_int_equal(d->exc.tid, 100);
    assert_int_equal(d->kind, DS_KIND_WITH_HEAP);
    const ds_stream *st = find_stream(d, "NT_PRSTATUS", 0);
    assert_non_null(st);
    assert_true(st->parsed);
    assert_int_equal(st->size, 336);
    assert_int_equal(st->type, 1);
    assert_non_null(find_stream(d, "NT_PRPSINFO", 0));
    assert_non_null(find_stream(d, "NT_AUXV", 0));
    assert_non_null(find_stream(d, "NT_FILE", 0));
    ds_dump_close(d);
}

static void test_elf32_and_arm64(void **state)
{
    (void)state;
    sload loads[] = {{0x8000000, 0x2000, 0x2000, 6, NULL, 0}};
    sfile files[] = {{0x8000000, 0x8001000, 0, "/x"}};
    spec s = {0};
    s.elf32 = true;
    s.machine = 3;
    s.loads = loads;
    s.nloads = 1;
    s.nt_file_page = 4096;
    s.files = files;
    s.nfiles = 1;
    dstest_buf x = build(&s);
    ds_dump *d = NULL;
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_OK);
    free(x.b);
    assert_int_equal(d->sys.arch, DS_ARCH_X86);
    assert_int_equal(d->sys.ptr_size, 4);
    assert_int_equal(d->vm.ptr_size, 4);
    assert_int_equal(d->nthreads, 2);
    assert_int_equal(d->threads[0].pc, 0x401000);
    assert_int_equal(d->threads[0].sp, 0x7ff000);
    assert_int_equal(d->threads[0].fp, 0x7ff100);
    assert_int_equal(d->threads[0].context_size, 68);
    assert_int_equal(d->lnx.pid, 100);
    assert_int_equal(d->lnx.uid, 1000);
    assert_string_equal(d->lnx.fname, "synthcore");
    assert_int_equal(d->lnx.nfiles, 1);
    char t[17] = {0};
    assert_int_equal(ds_vmem_read(&d->vm, 0x8000010, t, 16, NULL), DS_MEM_OK);
    assert_string_equal(t, "L00@000008000010");
    ds_dump_close(d);

    spec a = {0};
    a.machine = 183;
    a.loads = loads;
    a.nloads = 1;
    x = build(&a);
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_OK);
    free(x.b);
    assert_int_equal(d->sys.arch, DS_ARCH_ARM64);
    assert_int_equal(d->threads[0].pc, 0x401000);
    assert_int_equal(d->threads[0].sp, 0x7ff000);
    assert_int_equal(d->threads[0].fp, 0x7ff100);
    assert_int_equal(d->threads[0].context_size, 34 * 8);
    ds_dump_close(d);
}

static void test_pn_xnum(void **state)
{
    (void)state;
    sload loads[] = {{0x400000, 0x1000, 0x1000, 5, NULL, 0}};
    spec s = {0};
    s.xnum = true;
    s.loads = loads;
    s.nloads = 1;
    s.extra_empty_loads = 70000; /* more than 65535 program headers */
    dstest_buf x = build(&s);
    ds_dump *d = NULL;
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_OK);
    free(x.b);
    assert_int_equal(d->nregions, 70001);
    assert_true(has_diag(d, "Elf_Shdr[0]", DS_SEV_NOTE));
    char t[17] = {0};
    assert_int_equal(ds_vmem_read(&d->vm, 0x400020, t, 16, NULL), DS_MEM_OK);
    assert_string_equal(t, "L00@000000400020");
    uint8_t b;
    assert_int_equal(ds_vmem_u8(&d->vm, 0x100000000ull + 70000 * 0x2000ull, &b),
                     DS_MEM_NOT_CAPTURED);
    assert_int_equal(d->kind, DS_KIND_WITH_HEAP); /* the empty ones are read-only */
    ds_dump_close(d);

    /* PN_XNUM with an unreadable section header: nothing usable */
    s.extra_empty_loads = 2;
    x = build(&s);
    x.b[40] = 0xf0; /* e_shoff far beyond the end */
    x.b[41] = 0xff;
    x.b[42] = 0xff;
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_E_FORMAT);
    assert_null(d);
    free(x.b);
}

static void test_partial_segments_and_truncation(void **state)
{
    (void)state;
    sload loads[] = {
        {0x10000, 0x4000, 0x1000, 6, NULL, 0}, /* short p_filesz: rest not captured */
        {0x20000, 0x2000, 0, 6, NULL, 0},      /* p_filesz 0 */
        {0x30000, 0x4000, 0x4000, 6, NULL, 0}, /* cut by the truncation below */
    };
    spec s = {0};
    s.loads = loads;
    s.nloads = 3;
    dstest_buf x = build(&s);
    ds_dump *d = NULL;
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_OK);
    uint8_t b[16];
    size_t got = 0;
    assert_int_equal(ds_vmem_read(&d->vm, 0x10ff8, b, 16, &got), DS_MEM_PARTIAL);
    assert_int_equal(got, 8);
    assert_int_equal(ds_vmem_read(&d->vm, 0x11000, b, 1, NULL), DS_MEM_NOT_CAPTURED);
    assert_int_equal(ds_vmem_read(&d->vm, 0x20000, b, 1, NULL), DS_MEM_NOT_CAPTURED);
    assert_int_equal(ds_vmem_read(&d->vm, 0x1ffff, b, 1, NULL), DS_MEM_NOT_MAPPED);
    assert_int_equal(ds_region_at(d, 0x10000)->captured, 0x1000);
    assert_int_equal(ds_vmem_bytes(&d->vm, DS_RANGE_ZERO), 0);
    assert_int_equal(d->kind, DS_KIND_MINI);
    ds_dump_close(d);

    /* truncated in the last segment's data: partial, clipped, the rest not captured */
    size_t cut = x.n - 0x2800;
    assert_int_equal(open_bytes(x.b, cut, &d), DS_E_PARTIAL);
    assert_true(has_diag(d, "Elf64_Phdr[3]", DS_SEV_WARNING));
    assert_int_equal(ds_region_at(d, 0x30000)->captured, 0x1800);
    assert_int_equal(ds_vmem_read(&d->vm, 0x30000, b, 16, NULL), DS_MEM_OK);
    assert_int_equal(ds_vmem_read(&d->vm, 0x31800, b, 1, NULL), DS_MEM_NOT_CAPTURED);
    ds_dump_close(d);

    /* truncated inside the program header table: the readable ones are used */
    assert_int_equal(open_bytes(x.b, 64 + 56 * 2 + 20, &d), DS_E_PARTIAL);
    assert_true(has_diag(d, "Elf_Ehdr", DS_SEV_WARNING));
    ds_dump_close(d);

    /* truncated before any program header: nothing usable */
    assert_int_equal(open_bytes(x.b, 100, &d), DS_E_FORMAT);
    assert_null(d);
    /* the header alone */
    assert_int_equal(open_bytes(x.b, 40, &d), DS_E_FORMAT);
    free(x.b);
}

static void test_bogus_notes(void **state)
{
    (void)state;
    sload loads[] = {{0x10000, 0x1000, 0x1000, 6, NULL, 0}};
    spec s = {0};
    s.loads = loads;
    s.nloads = 1;
    ds_dump *d = NULL;

    /* a descriptor size far beyond the segment, after one good note */
    dstest_buf n = {0};
    prstatus(&n, &s, 7, 1, 2, 3);
    dstest_put_le(&n, 5, 4);
    dstest_put_le(&n, 0xfffffff0u, 4);
    dstest_put_le(&n, 1, 4);
    dstest_put(&n, "CORE\0\0\0", 8);
    s.raw_notes = n.b;
    s.raw_notes_len = n.n;
    dstest_buf x = build(&s);
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_E_PARTIAL);
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, 7);
    assert_true(has_diag(d, "PT_NOTE[0]", DS_SEV_WARNING));
    ds_dump_close(d);
    free(x.b);
    free(n.b);

    /* a huge name size */
    n = (dstest_buf){0};
    dstest_put_le(&n, 0xffffffffu, 4);
    dstest_put_le(&n, 4, 4);
    dstest_put_le(&n, 1, 4);
    dstest_zeros(&n, 16);
    s.raw_notes = n.b;
    s.raw_notes_len = n.n;
    x = build(&s);
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_E_PARTIAL);
    assert_int_equal(d->nthreads, 0);
    assert_true(has_diag(d, "PT_NOTE[0]", DS_SEV_WARNING));
    ds_dump_close(d);
    free(x.b);
    free(n.b);

    /* short prstatus / prpsinfo / siginfo, and an NT_FILE whose count does not fit */
    n = (dstest_buf){0};
    uint8_t small[24] = {0};
    dstest_elf_note(&n, "CORE", 1, small, sizeof small);
    dstest_elf_note(&n, "CORE", 3, small, sizeof small);
    dstest_elf_note(&n, "CORE", 0x53494749, small, 8);
    dstest_buf f = {0};
    dstest_put_le(&f, 1000000, 8);
    dstest_put_le(&f, 4096, 8);
    dstest_put_le(&f, 0x10000, 8);
    dstest_put_le(&f, 0x11000, 8);
    dstest_put_le(&f, 0, 8);
    dstest_put(&f, "/a", 2); /* unterminated name */
    dstest_elf_note(&n, "CORE", 0x46494c45, f.b, (uint32_t)f.n);
    free(f.b);
    dstest_elf_note(&n, "XYZ", 1, small, 4); /* unknown owner */
    s.raw_notes = n.b;
    s.raw_notes_len = n.n;
    x = build(&s);
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_E_PARTIAL);
    assert_int_equal(d->nthreads, 0);
    assert_false(d->lnx.has_prpsinfo);
    assert_false(d->exc.present);
    assert_int_equal(d->lnx.nfiles, 1);
    assert_string_equal(d->lnx.files[0].path, "");
    assert_true(has_diag(d, "NT_PRSTATUS", DS_SEV_WARNING));
    assert_true(has_diag(d, "NT_PRPSINFO", DS_SEV_WARNING));
    assert_true(has_diag(d, "NT_SIGINFO", DS_SEV_WARNING));
    assert_true(has_diag(d, "NT_FILE", DS_SEV_WARNING));
    assert_true(find_stream(d, "NT_PRSTATUS", 0)->damaged);
    assert_non_null(find_stream(d, "unknown", 0));
    /* the memory is still there */
    char t[17] = {0};
    assert_int_equal(ds_vmem_read(&d->vm, 0x10000, t, 16, NULL), DS_MEM_OK);
    assert_string_equal(t, "L00@000000010000");
    ds_dump_close(d);
    free(x.b);
    free(n.b);
}

/* A small mutation fuzz: random byte flips of a synthetic core must never crash (ASan). */
static void test_mutations(void **state)
{
    (void)state;
    static uint8_t img[0x1000];
    make_image(img, sizeof img, bid, sizeof bid);
    sload loads[] = {{0x10000, 0x1000, 0x1000, 5, img, 0}, {0x11000, 0x1000, 0x800, 6, NULL, 0}};
    sfile files[] = {{0x10000, 0x11000, 0, "/lib/libsynth.so"}};
    spec s = {0};
    s.loads = loads;
    s.nloads = 2;
    s.nt_file_page = 4096;
    s.files = files;
    s.nfiles = 1;
    s.siginfo = true;
    s.signo = 7;
    s.si_code = 2;
    dstest_buf x = build(&s);
    uint8_t *m = malloc(x.n);
    assert_non_null(m);
    srand(12345);
    size_t opened = 0;
    for (int it = 0; it < 400; it++) {
        memcpy(m, x.b, x.n);
        int flips = 1 + rand() % 8;
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)rand() % (rand() % 4 ? 0x400 : x.n); /* mostly the headers */
            m[pos] = (uint8_t)rand();
        }
        size_t len = rand() % 10 ? x.n : (size_t)rand() % x.n + 1;
        ds_dump *d = NULL;
        ds_status st = open_bytes(m, len, &d);
        if (d) {
            opened++;
            assert_true(st == DS_OK || st == DS_E_PARTIAL);
            for (size_t i = 0; i < d->nregions; i++) {
                uint8_t b[64];
                ds_vmem_read(&d->vm, d->regions[i].base, b, sizeof b, NULL);
            }
            for (size_t i = 0; i < d->nthreads; i++)
                if (d->threads[i].context)
                    assert_true(d->threads[i].context >= d->map &&
                                d->threads[i].context + d->threads[i].context_size <=
                                    d->map + d->map_size);
            ds_dump_close(d);
        } else {
            assert_true(st != DS_OK && st != DS_E_PARTIAL);
        }
    }
    assert_true(opened > 100);
    free(m);
    free(x.b);
}

static void test_probe(void **state)
{
    (void)state;
    sload loads[] = {{0x10000, 0x1000, 0x1000, 6, NULL, 0}};
    spec s = {0};
    s.loads = loads;
    s.nloads = 1;
    dstest_buf x = build(&s);
    assert_true(ds_elfcore_probe(x.b, x.n));
    assert_false(ds_kdump_probe(x.b, x.n)); /* a user-space core is not a kernel dump */
    assert_false(ds_elfcore_probe(x.b, 10));
    x.b[16] = 2; /* ET_EXEC */
    assert_false(ds_elfcore_probe(x.b, x.n));
    x.b[16] = 4;
    x.b[5] = 2; /* big-endian: claimed, then reported unsupported */
    x.b[16] = 0;
    x.b[17] = 4;
    assert_true(ds_elfcore_probe(x.b, x.n));
    ds_dump *d = NULL;
    assert_int_equal(open_bytes(x.b, x.n, &d), DS_E_UNSUPPORTED);
    free(x.b);
}

/* Every ELF file of the shared corpus (the corpus is minidumps: usually none) opens cleanly. */
static void test_corpus_elf_files(void **state)
{
    (void)state;
    const char *manifest = dstest_corpus("MANIFEST.tsv");
    if (!manifest) {
        skip();
        return;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", manifest);
    *strrchr(dir, '/') = 0;
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(dp))) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "rb");
        if (!f)
            continue;
        uint8_t h[4] = {0};
        size_t got = fread(h, 1, 4, f);
        fclose(f);
        if (got != 4 || memcmp(h,
                               "\x7f"
                               "ELF",
                               4))
            continue;
        ds_dump *d = NULL;
        ds_status s = ds_dump_open(p, &d, NULL);
        if (d) {
            assert_true(s == DS_OK || s == DS_E_PARTIAL);
            ds_dump_close(d);
        }
        n++;
    }
    closedir(dp);
    print_message("corpus ELF files: %zu\n", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcore_fixture),
        cmocka_unit_test(test_kernel_core_fixture),
        cmocka_unit_test(test_nt_file_conventions),
        cmocka_unit_test(test_threads_and_info),
        cmocka_unit_test(test_elf32_and_arm64),
        cmocka_unit_test(test_pn_xnum),
        cmocka_unit_test(test_partial_segments_and_truncation),
        cmocka_unit_test(test_bogus_notes),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_corpus_elf_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
