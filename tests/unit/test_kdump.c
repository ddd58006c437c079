/* Kernel dumps through libkdumpfile. The dumps are generated here:
 *   - an ELF vmcore (ET_CORE, NT_PRSTATUS + VMCOREINFO notes, two PT_LOADs with kernel direct-map
 *     virtual addresses and physical addresses), as /proc/vmcore writes them;
 *   - a kdump-compressed (diskdump, "KDUMP   ", header version 6) file with uncompressed pages,
 *     as makedumpfile writes when compression does not pay off;
 *   - the same in the flattened makedumpfile format (libkdumpfile 0.5.1 cannot read it).
 * The diskdump claims Linux 4.4: libaddrxlat can only place the x86_64 direct mapping from the
 * kernel version (< 4.8: 0xffff880000000000) when the dump has no page tables, which a generated
 * dump does not. */
#include "dstest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpsleuth/dump.h"

#define PG 4096u

static void page_text(uint8_t *p, const char *tag, uint64_t n)
{
    memset(p, '.', PG);
    int k = snprintf((char *)p, 32, "%s-%06llx", tag, (unsigned long long)n);
    p[k] = '-';
}

/* kernel notes: one NT_PRSTATUS (pid 1, rip/rsp set) and VMCOREINFO */
static void kernel_notes(dstest_buf *n, const char *release)
{
    uint8_t prs[336];
    memset(prs, 0, sizeof prs);
    prs[32] = 1; /* pr_pid */
    dstest_set_le(&(dstest_buf){prs, 336, 336}, 112 + 16 * 8, 0xffffffff81000010ull, 8); /* rip */
    dstest_set_le(&(dstest_buf){prs, 336, 336}, 112 + 19 * 8, 0xffff880000104000ull, 8); /* rsp */
    dstest_elf_note(n, "CORE", 1, prs, sizeof prs);
    char vmci[256];
    int len = snprintf(vmci, sizeof vmci, "OSRELEASE=%s\nPAGESIZE=4096\n", release);
    dstest_elf_note(n, "VMCOREINFO", 0, vmci, (size_t)len);
}

/* ELF vmcore: 3 pages at paddr 0x100000 and 2 at 0x200000, direct-mapped at 0xffff888000000000. */
static dstest_buf make_elf_vmcore(void)
{
    dstest_buf notes = {0};
    kernel_notes(&notes, "5.10.0-dstest");
    dstest_buf x = {0};
    const size_t nph = 3, phoff = 64, notes_off = phoff + nph * 56;
    const size_t data_off = (notes_off + notes.n + PG - 1) / PG * PG;
    dstest_put(&x,
               "\x7f"
               "ELF\x02\x01\x01",
               7);
    dstest_zeros(&x, 9);
    dstest_put_le(&x, 4, 2);
    dstest_put_le(&x, 62, 2);
    dstest_put_le(&x, 1, 4);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, phoff, 8);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 4);
    dstest_put_le(&x, 64, 2);
    dstest_put_le(&x, 56, 2);
    dstest_put_le(&x, nph, 2);
    dstest_zeros(&x, 6);
    const uint64_t pa[2] = {0x100000, 0x200000}, np[2] = {3, 2};
    dstest_put_le(&x, 4, 4); /* PT_NOTE */
    dstest_put_le(&x, 0, 4);
    dstest_put_le(&x, notes_off, 8);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, notes.n, 8);
    dstest_put_le(&x, notes.n, 8);
    dstest_put_le(&x, 0, 8);
    uint64_t off = data_off;
    for (int i = 0; i < 2; i++) {
        dstest_put_le(&x, 1, 4);
        dstest_put_le(&x, 7, 4);
        dstest_put_le(&x, off, 8);
        dstest_put_le(&x, 0xffff888000000000ull + pa[i], 8);
        dstest_put_le(&x, pa[i], 8);
        dstest_put_le(&x, np[i] * PG, 8);
        dstest_put_le(&x, np[i] * PG, 8);
        dstest_put_le(&x, 0, 8);
        off += np[i] * PG;
    }
    dstest_put(&x, notes.b, notes.n);
    free(notes.b);
    dstest_zeros(&x, data_off - x.n);
    uint8_t p[PG];
    for (int i = 0; i < 2; i++)
        for (uint64_t k = 0; k < np[i]; k++) {
            page_text(p, "DSVMCORE-PFN", pa[i] / PG + k);
            dstest_put(&x, p, PG);
        }
    return x;
}

static const uint64_t dd_pfns[] = {0x100, 0x101, 0x102, 0x200};
#define DD_MAX_MAPNR 0x400u

/* kdump-compressed (diskdump) file, 64-bit x86_64, header version 6, uncompressed pages. */
static dstest_buf make_diskdump(void)
{
    dstest_buf x = {0};
    const unsigned sub_blocks = 2;
    const unsigned bm_bytes = (DD_MAX_MAPNR + 7) / 8;
    const unsigned bitmap_blocks = 2 * ((bm_bytes + PG - 1) / PG);
    const size_t npfn = sizeof dd_pfns / sizeof dd_pfns[0];
    /* block 0: disk_dump_header */
    dstest_put(&x, "KDUMP   ", 8);
    dstest_put_le(&x, 6, 4); /* header_version */
    const char *uts[6] = {"Linux", "dstest", "4.4.0-dstest", "#1 SMP", "x86_64", ""};
    for (int i = 0; i < 6; i++) {
        char f[65] = {0};
        snprintf(f, sizeof f, "%s", uts[i]);
        dstest_put(&x, f, 65);
    }
    dstest_zeros(&x, 408 - x.n); /* timestamp is 8-aligned */
    dstest_zeros(&x, 16);        /* timestamp */
    dstest_put_le(&x, 0, 4);     /* status */
    dstest_put_le(&x, PG, 4);    /* block_size */
    dstest_put_le(&x, sub_blocks, 4);
    dstest_put_le(&x, bitmap_blocks, 4);
    dstest_put_le(&x, DD_MAX_MAPNR, 4);
    dstest_put_le(&x, npfn, 4); /* total_ram_blocks */
    dstest_put_le(&x, 0, 4);
    dstest_put_le(&x, 0, 4);
    dstest_put_le(&x, 0, 4); /* current_cpu */
    dstest_put_le(&x, 1, 4); /* nr_cpus */
    dstest_zeros(&x, 8);     /* tasks[0] */
    dstest_zeros(&x, PG - x.n);
    /* blocks 1-2: kdump_sub_header, notes in block 2 */
    dstest_buf notes = {0};
    kernel_notes(&notes, "4.4.0-dstest");
    size_t sub = x.n, notes_off = 2 * PG;
    dstest_put_le(&x, 0, 8);            /* phys_base */
    dstest_put_le(&x, 1, 4);            /* dump_level */
    dstest_put_le(&x, 0, 4);            /* split */
    dstest_put_le(&x, 0, 8);            /* start_pfn */
    dstest_put_le(&x, DD_MAX_MAPNR, 8); /* end_pfn */
    dstest_put_le(&x, 0, 8);            /* offset_vmcoreinfo (in the notes instead) */
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, notes_off, 8); /* offset_note */
    dstest_put_le(&x, notes.n, 8);   /* size_note */
    dstest_put_le(&x, 0, 8);         /* eraseinfo */
    dstest_put_le(&x, 0, 8);
    dstest_put_le(&x, 0, 8);            /* start_pfn_64 */
    dstest_put_le(&x, DD_MAX_MAPNR, 8); /* end_pfn_64 */
    dstest_put_le(&x, DD_MAX_MAPNR, 8); /* max_mapnr_64 */
    dstest_zeros(&x, sub + PG - x.n);
    dstest_put(&x, notes.b, notes.n);
    free(notes.b);
    dstest_zeros(&x, (1 + sub_blocks) * PG - x.n);
    /* bitmaps: 1st = all valid RAM, 2nd = the dumped pages */
    size_t bm1 = x.n;
    dstest_zeros(&x, (size_t)bitmap_blocks * PG);
    size_t bm2 = bm1 + (size_t)bitmap_blocks / 2 * PG;
    for (unsigned p = 0; p < DD_MAX_MAPNR; p++)
        x.b[bm1 + p / 8] |= (uint8_t)(1u << (p % 8));
    for (size_t i = 0; i < npfn; i++)
        x.b[bm2 + dd_pfns[i] / 8] |= (uint8_t)(1u << (dd_pfns[i] % 8));
    /* page descriptors, then data */
    size_t desc_off = x.n;
    size_t data_off = desc_off + (npfn * 24 + PG - 1) / PG * PG;
    for (size_t i = 0; i < npfn; i++) {
        dstest_put_le(&x, data_off + i * PG, 8); /* offset */
        dstest_put_le(&x, PG, 4);                /* size */
        dstest_put_le(&x, 0, 4);                 /* flags: not compressed */
        dstest_put_le(&x, 0, 8);                 /* page_flags */
    }
    dstest_zeros(&x, data_off - x.n);
    uint8_t p[PG];
    for (size_t i = 0; i < npfn; i++) {
        page_text(p, "DSDISK-PFN", dd_pfns[i]);
        dstest_put(&x, p, PG);
    }
    return x;
}

/* The flattened format: a 4 KiB header, then (offset, size) big-endian records of the file. */
static dstest_buf make_flattened(const dstest_buf *dd)
{
    dstest_buf x = {0};
    dstest_put(&x, "makedumpfile", 12);
    dstest_zeros(&x, 4);
    dstest_put_be(&x, 1, 8); /* TYPE_FLAT_HEADER */
    dstest_put_be(&x, 1, 8); /* VERSION_FLAT_HEADER */
    dstest_zeros(&x, PG - x.n);
    for (size_t off = 0; off < dd->n; off += 3000) {
        size_t n = dd->n - off < 3000 ? dd->n - off : 3000;
        dstest_put_be(&x, off, 8);
        dstest_put_be(&x, n, 8);
        dstest_put(&x, dd->b + off, n);
    }
    dstest_put_be(&x, UINT64_MAX, 8);
    dstest_put_be(&x, UINT64_MAX, 8);
    return x;
}

static ds_dump *open_buf(const dstest_buf *x, ds_status want)
{
    char *path = dstest_write_temp("ds-kdump", x->b, x->n);
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(path, &d, &dg);
    if (s != want)
        for (size_t i = 0; i < dg.n; i++)
            print_message("diag: %s: %s\n", dg.v[i].structure, dg.v[i].message);
    assert_int_equal(s, want);
    ds_diags_free(&dg);
    unlink(path);
    free(path);
    return d;
}

static void expect_page(ds_dump *d, uint64_t va, const char *tag, uint64_t pfn)
{
    uint8_t want[PG], got[PG];
    page_text(want, tag, pfn);
    size_t n = 0;
    assert_int_equal(ds_vmem_read(&d->vm, va, got, PG, &n), DS_MEM_OK);
    assert_int_equal(n, PG);
    assert_memory_equal(got, want, PG);
    /* an unaligned read across two dumped pages */
    uint8_t two[64];
    if (ds_vmem_read(&d->vm, va + PG - 32, two, 64, NULL) == DS_MEM_OK)
        assert_memory_equal(two, want + PG - 32, 32);
}

static void test_elf_vmcore(void **state)
{
    (void)state;
    dstest_buf x = make_elf_vmcore();
    assert_true(ds_kdump_probe(x.b, x.n));
    ds_dump *d = open_buf(&x, DS_OK);
    assert_int_equal(d->format, DS_FMT_KDUMP);
    assert_int_equal(d->kind, DS_KIND_KERNEL);
    assert_int_equal(d->sys.os, DS_OS_LINUX);
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.ptr_size, 8);
    assert_int_equal(d->sys.cpu_count, 1);
    assert_non_null(strstr(d->sys.os_text, "5.10.0-dstest"));
    assert_non_null(strstr(d->producer, "elf"));
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, 1);
    assert_int_equal(d->threads[0].pc, 0xffffffff81000010ull);
    assert_int_equal(d->threads[0].sp, 0xffff880000104000ull);
    assert_non_null(d->vm.backend);
    expect_page(d, 0xffff888000100000ull, "DSVMCORE-PFN", 0x100);
    expect_page(d, 0xffff888000102000ull, "DSVMCORE-PFN", 0x102);
    expect_page(d, 0xffff888000201000ull, "DSVMCORE-PFN", 0x201);
    uint64_t v = 0;
    assert_int_equal(ds_vmem_u64(&d->vm, 0xffff888000101000ull, &v), DS_MEM_OK);
    assert_memory_equal(&v, "DSVMCORE", 8);
    uint8_t b[8];
    assert_int_equal(ds_vmem_read(&d->vm, 0xffff888000300000ull, b, 8, NULL), DS_MEM_ERROR);
    ds_dump_close(d);
    free(x.b);
}

static void test_diskdump(void **state)
{
    (void)state;
    dstest_buf x = make_diskdump();
    assert_true(ds_kdump_probe(x.b, x.n));
    assert_false(ds_elfcore_probe(x.b, x.n));
    ds_dump *d = open_buf(&x, DS_OK);
    assert_int_equal(d->format, DS_FMT_KDUMP);
    assert_int_equal(d->kind, DS_KIND_KERNEL);
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_non_null(strstr(d->sys.os_text, "4.4.0-dstest"));
    assert_non_null(strstr(d->producer, "diskdump"));
    for (size_t i = 0; i < sizeof dd_pfns / sizeof dd_pfns[0]; i++)
        expect_page(d, 0xffff880000000000ull + dd_pfns[i] * PG, "DSDISK-PFN", dd_pfns[i]);
    uint8_t b[8];
    /* a RAM page that was filtered out (not in the 2nd bitmap) */
    assert_int_equal(ds_vmem_read(&d->vm, 0xffff880000000000ull + 0x150 * PG, b, 8, NULL),
                     DS_MEM_ERROR);
    size_t got = 0;
    assert_int_equal(ds_vmem_read(&d->vm, 0xffff880000000000ull + 0x103 * PG - 4, b, 8, &got),
                     DS_MEM_PARTIAL);
    assert_int_equal(got, 4);
    ds_dump_close(d);

    /* damaged: truncated in the page data. libkdumpfile 0.5.1 opens it and reads the cut pages
     * as zeros; the reader reports the truncation (partial) */
    x.n -= PG + 100;
    d = open_buf(&x, DS_E_PARTIAL);
    expect_page(d, 0xffff880000000000ull + 0x100 * PG, "DSDISK-PFN", 0x100);
    bool found = false;
    for (size_t i = 0; i < d->diags.n; i++)
        if (!strcmp(d->diags.v[i].structure, "diskdump page_desc") &&
            strstr(d->diags.v[i].message, "2 of 4 dumped pages"))
            found = true;
    assert_true(found);
    ds_dump_close(d);
    /* a header only: libkdumpfile 0.5.1 still opens it; the missing bitmap is reported */
    x.n = 600;
    char *path = dstest_write_temp("ds-kdump", x.b, x.n);
    ds_status st = ds_dump_open(path, &d, NULL);
    if (d) {
        assert_int_equal(st, DS_E_PARTIAL);
        assert_string_equal(d->diags.v[0].structure, "diskdump bitmap");
        assert_int_not_equal(ds_vmem_read(&d->vm, 0xffff880000100000ull, b, 8, NULL), DS_MEM_OK);
        ds_dump_close(d);
    } else {
        assert_int_equal(st, DS_E_FORMAT);
    }
    unlink(path);
    free(path);
    free(x.b);
}

static void test_flattened(void **state)
{
    (void)state;
    dstest_buf dd = make_diskdump();
    dstest_buf x = make_flattened(&dd);
    free(dd.b);
    assert_true(ds_kdump_probe(x.b, x.n));
    char *path = dstest_write_temp("ds-kdump", x.b, x.n);
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(path, &d, &dg);
    /* the records are reassembled (as makedumpfile -R would) and read like the diskdump */
    assert_true(s == DS_OK || s == DS_E_PARTIAL);
    assert_non_null(d);
    assert_non_null(strstr(d->producer, "diskdump"));
    for (size_t i = 0; i < sizeof dd_pfns / sizeof dd_pfns[0]; i++)
        expect_page(d, 0xffff880000000000ull + dd_pfns[i] * PG, "DSDISK-PFN", dd_pfns[i]);
    ds_dump_close(d);
    /* cut in the middle of a record: a warning, and what was reassembled is still read */
    x.n -= 5000;
    free(path);
    path = dstest_write_temp("ds-kdump", x.b, x.n);
    d = NULL;
    s = ds_dump_open(path, &d, &dg);
    assert_true(s == DS_E_PARTIAL || s == DS_E_FORMAT);
    if (d)
        ds_dump_close(d);
    /* an impossible record offset: stopped there, reported with its file offset */
    x.n += 5000;
    uint64_t bad = 0x7fffffffffffffffull;
    for (int b = 0; b < 8; b++)
        x.b[PG + b] = (uint8_t)(bad >> (56 - 8 * b));
    unlink(path);
    free(path);
    path = dstest_write_temp("ds-kdump", x.b, x.n);
    ds_diags_free(&dg);
    ds_diags_init(&dg);
    d = NULL;
    s = ds_dump_open(path, &d, &dg);
    assert_int_equal(s, DS_E_FORMAT);
    bool named = false;
    for (size_t i = 0; i < dg.n; i++)
        named |= dg.v[i].has_offset && dg.v[i].offset == PG &&
                 strstr(dg.v[i].structure, "flat record") != NULL;
    assert_true(named);
    ds_diags_free(&dg);
    unlink(path);
    free(path);
    free(x.b);
}

/* The probe must leave user-space cores to elfcore.c. */
static void test_probe_user_cores(void **state)
{
    (void)state;
    const char *g = dstest_fixture("linux-gcore-x64.core");
    if (g) {
        size_t n = 0;
        uint8_t *b = dstest_read_file(g, &n);
        assert_non_null(b);
        assert_false(ds_kdump_probe(b, n));
        assert_true(ds_elfcore_probe(b, n));
        free(b);
    }
    const char *k = dstest_fixture("linux-kcore-x64.core");
    if (k) {
        size_t n = 0;
        uint8_t *b = dstest_read_file(k, &n);
        assert_non_null(b);
        assert_false(ds_kdump_probe(b, n));
        free(b);
    }
    /* an ELF vmcore without VMCOREINFO: still kernel (PT_LOAD p_paddr, no process notes) */
    dstest_buf x = make_elf_vmcore();
    size_t vmci = 0;
    for (size_t i = 0; i + 10 < x.n; i++)
        if (!memcmp(x.b + i, "VMCOREINFO", 10)) {
            vmci = i;
            break;
        }
    assert_true(vmci > 0);
    memcpy(x.b + vmci, "XMCOREINFO", 10);
    assert_true(ds_kdump_probe(x.b, x.n));
    /* ... but with p_paddr 0 everywhere it is not (a user core without process notes) */
    for (int i = 1; i < 3; i++)
        dstest_set_le(&x, 64 + (size_t)i * 56 + 24, 0, 8);
    assert_false(ds_kdump_probe(x.b, x.n));
    /* garbage and truncations never crash the probe */
    for (size_t n = 0; n < 200; n++)
        ds_kdump_probe(x.b, n);
    x.b[60] = 0xff; /* e_phnum = 0xffff with no section header */
    x.b[61] = 0xff;
    assert_false(ds_kdump_probe(x.b, x.n));
    free(x.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_vmcore),
        cmocka_unit_test(test_diskdump),
        cmocka_unit_test(test_flattened),
        cmocka_unit_test(test_probe_user_cores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
