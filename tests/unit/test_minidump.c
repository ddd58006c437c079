/* Minidump reader: facts of real public minidumps, damaged files, mutations, and synthetic dumps.
 *
 * Provenance of the expected values:
 *  - corpus facts (arch, threads, modules, exception, memory ranges) come from Debian's lldb 14,
 *    an independent minidump reader; the command and its full output are recorded in
 *    tests/data/lldb/<dumpname>.txt and cited next to each assertion as "lldb: ...".
 *  - facts lldb does not print (stream types, MiscInfo size, platform ids) were read from the raw
 *    bytes with python3 struct (little-endian MINIDUMP_HEADER / MINIDUMP_DIRECTORY) and are
 *    marked "raw bytes".
 *  - synthetic dumps: the expected values are the ones the test itself writes. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpsleuth/dump.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static ds_dump *open_ok(const char *name)
{
    const char *p = dstest_corpus(name);
    assert_non_null(p);
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(p, &d, &dg);
    if (!d) {
        for (size_t i = 0; i < dg.n; i++)
            fprintf(stderr, "%s: %s @0x%llx: %s\n", name, dg.v[i].structure,
                    (unsigned long long)dg.v[i].offset, dg.v[i].message);
    }
    ds_diags_free(&dg);
    assert_non_null(d);
    assert_true(s == DS_OK || s == DS_E_PARTIAL);
    assert_int_equal(d->format, DS_FMT_MINIDUMP);
    /* an intact dump: the minidump reader itself reports nothing at warning level */
    for (size_t i = 0; i < d->diags.n; i++) {
        const ds_diag *g = &d->diags.v[i];
        if (g->severity >= DS_SEV_WARNING &&
            (!strncmp(g->structure, "MINIDUMP", 8) || !strncmp(g->structure, "Breakpad", 8))) {
            fprintf(stderr, "%s: unexpected %s @0x%llx: %s\n", name, g->structure,
                    (unsigned long long)g->offset, g->message);
            fail();
        }
    }
    return d;
}

static const ds_module *mod_at(const ds_dump *d, uint64_t base)
{
    for (size_t i = 0; i < d->nmodules; i++)
        if (d->modules[i].base == base)
            return &d->modules[i];
    return NULL;
}

static const ds_thread *thread_of(const ds_dump *d, uint32_t tid)
{
    for (size_t i = 0; i < d->nthreads; i++)
        if (d->threads[i].tid == tid)
            return &d->threads[i];
    return NULL;
}

static size_t data_ranges(const ds_dump *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->vm.n; i++)
        n += d->vm.ranges[i].kind == DS_RANGE_DATA;
    return n;
}

static bool has_data_range(const ds_dump *d, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < d->vm.n; i++)
        if (d->vm.ranges[i].kind == DS_RANGE_DATA && d->vm.ranges[i].va == start &&
            d->vm.ranges[i].va + d->vm.ranges[i].size == end)
            return true;
    return false;
}

static const ds_stream *stream_of(const ds_dump *d, uint32_t type)
{
    for (size_t i = 0; i < d->nstreams; i++)
        if (d->streams[i].type == type)
            return &d->streams[i];
    return NULL;
}

/* Touches everything a consumer would: catches dangling pointers under ASan. */
static void walk(ds_dump *d)
{
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        if (t->has_context) {
            assert_non_null(t->context);
            assert_true(t->context >= d->map &&
                        t->context + t->context_size <= d->map + d->map_size);
            sink += t->context[0] + t->context[t->context_size - 1];
        }
        uint8_t buf[64];
        size_t got = 0;
        ds_vmem_read(&d->vm, t->sp, buf, sizeof buf, &got);
        sink += got;
    }
    for (size_t i = 0; i < d->nmodules; i++) {
        assert_non_null(d->modules[i].path);
        sink += strlen(d->modules[i].path) + strlen(d->modules[i].name);
    }
    for (size_t i = 0; i < d->nunloaded; i++)
        sink += strlen(d->unloaded[i].path);
    for (size_t i = 0; i < d->nstreams; i++)
        assert_non_null(d->streams[i].name);
    for (size_t i = 1; i < d->nregions; i++)
        assert_true(d->regions[i - 1].base + d->regions[i - 1].size <= d->regions[i].base);
    for (size_t i = 0; i < d->nhandles; i++)
        sink += d->handles[i].type_name ? strlen(d->handles[i].type_name) : 0;
    if (d->exc.present)
        assert_non_null(d->exc.name);
    for (size_t i = 0; i < d->vm.n; i++) {
        uint8_t b;
        ds_vmem_u8(&d->vm, d->vm.ranges[i].va, &b);
        ds_vmem_u8(&d->vm, d->vm.ranges[i].va + d->vm.ranges[i].size - 1, &b);
    }
    (void)sink;
}

static const char *write_temp(const uint8_t *buf, size_t len)
{
    static char path[512];
    const char *t = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/ds_md_XXXXXX", t && *t ? t : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    close(fd);
    return path;
}

/* Opens a buffer through a temp file. Checks the status contract; returns the status. */
static ds_status open_buf(const uint8_t *buf, size_t len, ds_dump **out)
{
    const char *p = write_temp(buf, len);
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(p, &d, &dg);
    unlink(p);
    assert_true(s == DS_OK || s == DS_E_PARTIAL || s == DS_E_FORMAT);
    if (s == DS_E_FORMAT) {
        assert_null(d);
        assert_true(dg.n >= 1);
    } else {
        assert_non_null(d);
        walk(d);
    }
    ds_diags_free(&dg);
    if (out)
        *out = d;
    else
        ds_dump_close(d);
    return s;
}

/* ---- real dumps --------------------------------------------------------------------------- */

/* Breakpad's Windows client, x86, Windows XP SP2 (rust-minidump testdata/test.dmp). */
static void test_rmd_test(void **state)
{
    (void)state;
    ds_dump *d = open_ok("rmd-test.dmp");
    /* lldb: "Core file '.../rmd-test.dmp' (i386) was loaded." */
    assert_int_equal(d->sys.arch, DS_ARCH_X86);
    assert_int_equal(d->sys.ptr_size, 4);
    assert_int_equal(d->sys.os, DS_OS_WINDOWS);
    assert_false(d->sys.wow64);
    /* raw bytes: SystemInfo 5.1.2600, PlatformId 2, CSD "Service Pack 2" */
    assert_int_equal(d->sys.os_major, 5);
    assert_int_equal(d->sys.os_minor, 1);
    assert_int_equal(d->sys.os_build, 2600);
    assert_string_equal(d->sys.csd, "Service Pack 2");
    assert_string_equal(d->sys.cpu_vendor, "GenuineIntel");
    /* lldb: "Process 3932 stopped" */
    assert_true(d->misc.has_pid);
    assert_int_equal(d->misc.pid, 3932);
    assert_int_equal(d->misc.misc_version, 1); /* raw bytes: MiscInfo stream of 24 bytes */
    /* lldb thread list: tid = 0x0bf4 (exception thread), tid = 0x11c0 at 0x7c90eb94 */
    assert_int_equal(d->nthreads, 2);
    assert_int_equal(d->threads[0].tid, 0xbf4);
    assert_int_equal(d->threads[1].tid, 0x11c0);
    assert_int_equal(d->threads[1].pc, 0x7c90eb94);
    /* lldb: "stop reason = Exception 0xc0000005 encountered at address 0x40429e";
     * register read (exception context): eip = 0x0040429e, esp = 0x0012fe84 */
    assert_true(d->exc.present);
    assert_int_equal(d->exc.tid, 0xbf4);
    assert_int_equal(d->exc.code, 0xc0000005);
    assert_string_equal(d->exc.name, "EXCEPTION_ACCESS_VIOLATION");
    assert_int_equal(d->exc.address, 0x40429e);
    assert_true(d->exc.has_context);
    assert_int_equal(d->exc.pc, 0x40429e);
    assert_int_equal(d->exc.sp, 0x12fe84);
    /* lldb image list: 13 modules; image dump sections: c:\test_app.exe [0x400000-0x42d000),
     * ntdll.dll [0x7c900000-0x7c9b0000), psapi.dll [0x76bf0000-0x76bfb000) */
    assert_int_equal(d->nmodules, 13);
    assert_string_equal(d->modules[0].path, "c:\\test_app.exe");
    assert_string_equal(d->modules[0].name, "test_app.exe");
    assert_int_equal(d->modules[0].base, 0x400000);
    assert_int_equal(d->modules[0].size, 0x2d000);
    const ds_module *m = mod_at(d, 0x7c900000);
    assert_non_null(m);
    assert_string_equal(m->path, "C:\\WINDOWS\\system32\\ntdll.dll");
    assert_int_equal(m->size, 0xb0000);
    m = mod_at(d, 0x76bf0000);
    assert_non_null(m);
    assert_string_equal(m->name, "psapi.dll");
    assert_int_equal(m->size, 0xb000);
    /* lldb image list: "[  0] 5A9832E5-2872-41C1-838E-D98914E9B7FF-00000001 0x00400000
     * c:\test_app.exe" = RSDS GUID (Data1..3 little-endian in the file) + age 1 */
    assert_int_equal(d->modules[0].cv.kind, 1);
    assert_int_equal(d->modules[0].cv.age, 1);
    static const uint8_t guid0[16] = {0xe5, 0x32, 0x98, 0x5a, 0x72, 0x28, 0xc1, 0x41,
                                      0x83, 0x8e, 0xd9, 0x89, 0x14, 0xe9, 0xb7, 0xff};
    assert_memory_equal(d->modules[0].cv.guid, guid0, 16);
    /* lldb memory region: 3 captured ranges (r??) */
    assert_int_equal(data_ranges(d), 3);
    assert_true(has_data_range(d, 0x12f31c, 0x130000));
    assert_true(has_data_range(d, 0x97f6e8, 0x980000));
    assert_true(has_data_range(d, 0x7c90eb14, 0x7c90ec14));
    /* raw bytes: directory has BreakpadInfo (0x47670001) and no MemoryInfoList */
    assert_string_equal(d->producer, "breakpad");
    assert_false(d->has_region_table);
    assert_int_equal(d->kind, DS_KIND_MINI);
    const ds_stream *s = stream_of(d, 0x47670001);
    assert_non_null(s);
    assert_string_equal(s->name, "BreakpadInfoStream");
    assert_int_equal(d->nstreams, 9);
    walk(d);
    ds_dump_close(d);
}

/* LLDB's Windows x64 test dump (Sigsegv). */
static void test_lldb_win_sigsegv(void **state)
{
    (void)state;
    ds_dump *d = open_ok("lldb-win-sigsegv.dmp");
    /* lldb: "(x86_64) was loaded" */
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.ptr_size, 8);
    assert_int_equal(d->sys.os, DS_OS_WINDOWS);
    assert_int_equal(d->sys.os_build, 16299); /* raw bytes: SystemInfo 10.0.16299 */
    assert_false(d->sys.wow64);
    assert_int_equal(d->sys.target_ptr_size, 8);
    /* lldb: "Process 13052 stopped" */
    assert_int_equal(d->misc.pid, 13052);
    assert_int_equal(d->misc.misc_version, 5); /* raw bytes: MiscInfo of 1364 bytes */
    /* lldb: one thread, tid = 0x2a6c; Exception 0xc0000005 at 0x7ff7a13110d9;
     * register read: rip = 0x00007ff7a13110d9, rsp = 0x000000addabaf6b0 */
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, 0x2a6c);
    assert_int_equal(d->exc.code, 0xc0000005);
    assert_int_equal(d->exc.address, 0x7ff7a13110d9ull);
    assert_int_equal(d->exc.pc, 0x7ff7a13110d9ull);
    assert_int_equal(d->exc.sp, 0xaddabaf6b0ull);
    /* lldb image list: 4 modules */
    assert_int_equal(d->nmodules, 4);
    assert_non_null(mod_at(d, 0x7ff7a1310000ull));
    assert_string_equal(mod_at(d, 0x7ff7a1310000ull)->path, "C:\\temp\\sigsegv.exe");
    assert_string_equal(mod_at(d, 0x7ffbddcd0000ull)->name, "ntdll.dll");
    assert_string_equal(mod_at(d, 0x7ffbda220000ull)->name, "KERNELBASE.dll");
    /* lldb memory region: 15 captured (r??) ranges, e.g. the stack
     * [0xaddabae1e8-0xaddabb0000) and [0xaddac91000-0xaddac93000) */
    assert_int_equal(data_ranges(d), 15);
    assert_true(has_data_range(d, 0xaddabae1e8ull, 0xaddabb0000ull));
    assert_true(has_data_range(d, 0xaddac91000ull, 0xaddac93000ull));
    /* The TEB (0xaddac91000, in the captured range above) gives the TIB and PEB. The PEB
     * 0xaddac90000 lies in the captured range [0xaddac90000-0xaddac907b0) lldb lists. */
    assert_true(d->threads[0].has_tib);
    assert_true(d->threads[0].stack_base > d->threads[0].stack_limit);
    assert_int_equal(d->peb, 0xaddac90000ull);
    /* raw bytes: SystemMemoryInfo (0x15) and ProcessVmCounters (0x16) streams */
    assert_true(d->has_system_memory_info);
    assert_true(d->vmc.present);
    assert_int_equal(d->vmc.revision, 2);
    assert_string_equal(d->producer, "windows");
    walk(d);
    ds_dump_close(d);
}

/* radare2's calc.exe dump: x64 Windows 7, 5 threads, breakpoint exception. */
static void test_r2_calc(void **state)
{
    (void)state;
    ds_dump *d = open_ok("r2-calc.dmp");
    /* lldb: (x86_64); Process 3368; 5 threads; thread #5 tid 0x065c stop reason
     * Exception 0x80000003 at 0x7776ae10; rip = 0x7776ae10, rsp = 0x3a7ff08 */
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->misc.pid, 3368);
    assert_int_equal(d->nthreads, 5);
    static const uint32_t tids[5] = {0xd64, 0xa24, 0xa58, 0x39c, 0x65c};
    static const uint64_t pcs[5] = {0x77639e6a, 0x7776c0ea, 0x7776c0ea, 0x7776bb7a, 0x7776ae10};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(d->threads[i].tid, tids[i]);
        assert_int_equal(d->threads[i].pc, pcs[i]);
    }
    assert_int_equal(d->exc.tid, 0x65c);
    assert_int_equal(d->exc.code, 0x80000003);
    assert_string_equal(d->exc.name, "EXCEPTION_BREAKPOINT");
    assert_int_equal(d->threads[4].sp, 0x3a7ff08);
    /* lldb image list: 28 modules; calc.exe at 0xfffe0000 [..0x100c3000) */
    assert_int_equal(d->nmodules, 28);
    assert_string_equal(d->modules[0].path, "C:\\Windows\\System32\\calc.exe");
    assert_int_equal(d->modules[0].base, 0xfffe0000);
    assert_int_equal(d->modules[0].size, 0xe3000);
    assert_non_null(mod_at(d, 0x7fefd4a0000ull));
    /* lldb memory region: 9 captured ranges, first [0xbd0d8-0xc0000) */
    assert_int_equal(data_ranges(d), 9);
    assert_true(has_data_range(d, 0xbd0d8, 0xc0000));
    /* raw bytes: stream type 0x13 (TokenStream) is present and named */
    assert_string_equal(stream_of(d, 0x13)->name, "TokenStream");
    walk(d);
    ds_dump_close(d);
}

/* LLDB's fizzbuzz_no_heap: 32-bit process (SysWOW64 modules) dumped as x86. */
static void test_fizzbuzz(void **state)
{
    (void)state;
    ds_dump *d = open_ok("lldb-fizzbuzz-no-heap.dmp");
    /* lldb: Process 4440; tid = 0x2320 at 0x00164d14, Exception 0xc0000005;
     * eip = 0x00164d14, esp = 0x0031f6e8; 6 modules; 7 captured ranges */
    assert_int_equal(d->sys.arch, DS_ARCH_X86);
    assert_int_equal(d->misc.pid, 4440);
    assert_int_equal(d->misc.misc_version, 3); /* raw bytes: MiscInfo of 232 bytes */
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, 0x2320);
    assert_int_equal(d->threads[0].pc, 0x164d14);
    assert_int_equal(d->threads[0].sp, 0x31f6e8);
    assert_int_equal(d->exc.code, 0xc0000005);
    assert_int_equal(d->nmodules, 6);
    assert_string_equal(d->modules[1].path, "C:\\Windows\\SysWOW64\\ntdll.dll");
    assert_int_equal(d->modules[1].base, 0x77720000);
    /* raw bytes: ThreadInfoList (0x11) present: the thread joins it by id */
    assert_true(d->threads[0].has_info);
    assert_true(stream_of(d, 0x11)->parsed);
    walk(d);
    ds_dump_close(d);
}

/* Breakpad Linux x86-64 dumps (LLDB and rust-minidump test data). */
static void check_linux(const char *name, uint32_t tid, uint64_t pc, uint64_t sp, uint64_t heap_lo,
                        uint64_t heap_hi, const uint8_t *build_id0)
{
    ds_dump *d = open_ok(name);
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.os, DS_OS_LINUX);
    assert_int_equal(d->sys.platform_id, 0x8201); /* raw bytes: Breakpad MD_OS_LINUX */
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, tid);
    assert_int_equal(d->threads[0].pc, pc);
    assert_int_equal(d->threads[0].sp, sp);
    assert_true(d->exc.present);
    assert_int_equal(d->exc.code, 11);
    assert_string_equal(d->exc.name, "SIGSEGV");
    assert_int_equal(d->nmodules, 8);
    assert_int_equal(d->modules[0].base, 0x400000);
    assert_int_equal(d->modules[0].cv.kind, 3); /* ELF build id ('BpEL') */
    assert_int_equal(d->modules[0].cv.build_id_len, 20);
    if (build_id0)
        assert_memory_equal(d->modules[0].cv.build_id, build_id0, 20);
    /* lldb memory region lists 35 mappings from LinuxMaps (53 lines minus 18 unmapped gaps) */
    assert_true(d->has_region_table);
    assert_int_equal(d->nregions, 35);
    const ds_region *h = ds_region_at(d, heap_lo);
    assert_non_null(h);
    assert_int_equal(h->base, heap_lo);
    assert_int_equal(h->base + h->size, heap_hi);
    assert_int_equal(h->perm, 6); /* lldb: rw- [heap] */
    assert_int_equal(h->file, -1);
    const ds_region *x = ds_region_at(d, 0x400000);
    assert_non_null(x);
    assert_int_equal(x->perm, 5); /* lldb: r-x <exe> */
    assert_true(x->file >= 0);
    /* lldb: tid = pid */
    assert_int_equal(d->lnx.pid, tid);
    assert_int_equal(d->misc.pid, tid);
    assert_string_equal(d->producer, "breakpad");
    ds_mem_status st;
    assert_null(ds_vmem_find(&d->vm, 0x10000, &st)); /* below the first mapping */
    assert_int_equal(st, DS_MEM_NOT_MAPPED);
    walk(d);
    ds_dump_close(d);
}

static void test_linux(void **state)
{
    (void)state;
    /* lldb: tid = 16001 at 0x401dc6 (rsp = 0x7ffceb34a210), SIGSEGV; 8 modules;
     * [0x1671000-0x1692000) rw- [heap] */
    /* lldb image list: "[  0] 47DF8231-6406-01D3-2C34-C24078FEDA41-29182750 0x400000 .../a.out"
     * (the 20-byte ELF build id in file order) */
    static const uint8_t bid[20] = {0x47, 0xdf, 0x82, 0x31, 0x64, 0x06, 0x01, 0xd3, 0x2c, 0x34,
                                    0xc2, 0x40, 0x78, 0xfe, 0xda, 0x41, 0x29, 0x18, 0x27, 0x50};
    check_linux("lldb-linux-x86_64.dmp", 16001, 0x401dc6, 0x7ffceb34a210ull, 0x1671000, 0x1692000,
                bid);
    /* lldb: tid = 1304 at 0x401d72 (rsp = 0x7fff5ae4aa20); [0x1723000-0x1755000) rw- [heap] */
    check_linux("rmd-linux-mini.dmp", 1304, 0x401d72, 0x7fff5ae4aa20ull, 0x1723000, 0x1755000,
                NULL);
}

/* Breakpad Windows x64 dump with an invalid-parameter exception. */
static void test_invalid_parameter(void **state)
{
    (void)state;
    ds_dump *d = open_ok("rmd-invalid-parameter.dmp");
    /* lldb: Process 6256; 6 threads; thread #1 tid 0x1708 Exception 0xc000000d;
     * rip = 0x7ff61bcfa9a3, rsp = 0xfc218fea60; thread #2 tid 0x1350 at 0x7ff806b4bc44 */
    assert_int_equal(d->misc.pid, 6256);
    assert_int_equal(d->nthreads, 6);
    assert_int_equal(d->threads[0].tid, 0x1708);
    assert_int_equal(d->threads[1].tid, 0x1350);
    assert_int_equal(d->threads[1].pc, 0x7ff806b4bc44ull);
    assert_int_equal(d->exc.code, 0xc000000d);
    assert_int_equal(d->exc.pc, 0x7ff61bcfa9a3ull);
    assert_int_equal(d->exc.sp, 0xfc218fea60ull);
    /* lldb image list: 31 modules */
    assert_int_equal(d->nmodules, 31);
    assert_int_equal(d->modules[0].base, 0x7ff61bc80000ull);
    assert_string_equal(d->modules[0].name, "CrashTest.exe");
    /* raw bytes: AssertionInfo 0x47670002 present */
    assert_string_equal(stream_of(d, 0x47670002)->name, "BreakpadAssertionInfoStream");
    walk(d);
    ds_dump_close(d);
}

/* Breakpad macOS x86-64 dump. lldb 14 lists its threads and modules but shows pc = 0 for every
 * thread (it cannot use these contexts), so registers are not asserted here. */
static void test_macos(void **state)
{
    (void)state;
    ds_dump *d = open_ok("rmd-macos-segv.dmp");
    /* lldb: (x86_64); Process 80556; 11 threads tid 0x1203, 0x1503, ..., 0x2303;
     * thread #1 EXC_BAD_ACCESS (code=1, address=0xffffffff80000042) */
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.os, DS_OS_MACOS);
    assert_int_equal(d->sys.platform_id, 0x8101); /* raw bytes: Breakpad MD_OS_MAC_OS_X */
    assert_int_equal(d->misc.pid, 80556);
    assert_int_equal(d->nthreads, 11);
    assert_int_equal(d->threads[0].tid, 0x1203);
    assert_int_equal(d->threads[10].tid, 0x2303);
    assert_int_equal(d->exc.code, 1);
    assert_string_equal(d->exc.name, "EXC_BAD_ACCESS");
    assert_int_equal(d->exc.address, 0xffffffff80000042ull);
    /* lldb image list: 47 modules; crash-client [0x102a54000-0x102b18000) */
    assert_int_equal(d->nmodules, 47);
    assert_int_equal(d->modules[0].base, 0x102a54000ull);
    assert_int_equal(d->modules[0].size, 0xc4000);
    assert_string_equal(d->modules[0].name, "crash-client");
    /* raw bytes: ThreadNamesStream (0x18): the first thread is named "main" */
    assert_true(stream_of(d, 0x18)->parsed);
    assert_string_equal(d->threads[0].name, "main");
    walk(d);
    ds_dump_close(d);
}

/* Crashpad macOS dump. */
static void test_crashpad(void **state)
{
    (void)state;
    ds_dump *d = open_ok("rmd-simple-crashpad.dmp");
    /* lldb: Process 56685; tid = 0xe272c at 0x7fff6f41333a; rsp = 0x7ffee1c16bf8; 40 modules;
     * /Users/ted/src/crashy at 0x10dfe8000 */
    assert_int_equal(d->misc.pid, 56685);
    assert_int_equal(d->misc.misc_version, 4); /* raw bytes: MiscInfo of 832 bytes */
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->threads[0].tid, 0xe272c);
    assert_int_equal(d->threads[0].pc, 0x7fff6f41333aull);
    assert_int_equal(d->threads[0].sp, 0x7ffee1c16bf8ull);
    assert_int_equal(d->nmodules, 40);
    assert_string_equal(d->modules[0].path, "/Users/ted/src/crashy");
    assert_int_equal(d->modules[0].base, 0x10dfe8000ull);
    /* raw bytes: CrashpadInfo stream 0x43500001 */
    assert_string_equal(d->producer, "crashpad");
    assert_true(stream_of(d, 0x43500001)->parsed);
    walk(d);
    ds_dump_close(d);
}

/* LLDB's regions-memlist64: ARM64 macOS, Memory64List only. */
static void test_memlist64(void **state)
{
    (void)state;
    ds_dump *d = open_ok("lldb-regions-memlist64.dmp");
    /* lldb: "(arm64e) was loaded"; Process 123; memory region:
     * [0x1000-0x1010) r??, [0x2000-0x2020) r?? */
    assert_int_equal(d->sys.arch, DS_ARCH_ARM64);
    assert_int_equal(d->misc.pid, 123);
    assert_int_equal(d->nthreads, 0);
    assert_int_equal(data_ranges(d), 2);
    assert_true(has_data_range(d, 0x1000, 0x1010));
    assert_true(has_data_range(d, 0x2000, 0x2020));
    /* Memory64List and no MemoryInfoList to check it against */
    assert_int_equal(d->kind, DS_KIND_FULL);
    walk(d);
    ds_dump_close(d);
}

/* ---- damaged files ------------------------------------------------------------------------ */

static const char *BAD[] = {"bad-invalid-range.dmp", "bad-invalid-record-count.dmp",
                            "bad-mdmp-dos.dmp",      "bad-npe-r.dmp",
                            "bad-npe-w.dmp",         "bad-trunc-memory64.dmp"};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        const char *p = dstest_corpus(BAD[i]);
        assert_non_null(p);
        ds_dump *d = NULL;
        ds_diags dg;
        ds_diags_init(&dg);
        ds_status s = ds_dump_open(p, &d, &dg);
        assert_true(s == DS_E_FORMAT || s == DS_E_PARTIAL);
        const ds_diags *D = d ? &d->diags : &dg;
        bool named = false;
        for (size_t k = 0; k < D->n; k++)
            if (D->v[k].severity >= DS_SEV_WARNING && D->v[k].structure[0] && D->v[k].has_offset)
                named = true;
        if (!named)
            fprintf(stderr, "%s: no diagnostic with structure and offset\n", BAD[i]);
        assert_true(named);
        if (d)
            walk(d);
        ds_dump_close(d);
        ds_diags_free(&dg);
    }
}

/* Specific expectations of two damaged files (raw bytes). */
static void test_bad_specifics(void **state)
{
    (void)state;
    ds_dump *d = NULL;
    /* bad-npe-r: StreamDirectoryRva 0xffff00 in a 610-byte file: the directory is unusable */
    assert_int_equal(ds_dump_open(dstest_corpus("bad-npe-r.dmp"), &d, NULL), DS_E_FORMAT);
    assert_null(d);
    /* bad-mdmp-dos: NumberOfStreams 16774400 with only 2 entries in the file */
    assert_int_equal(ds_dump_open(dstest_corpus("bad-mdmp-dos.dmp"), &d, NULL), DS_E_PARTIAL);
    assert_int_equal(d->nstreams, 2);
    ds_dump_close(d);
    /* bad-trunc-memory64: Memory64List declares 1 range in a 16-byte stream */
    assert_int_equal(ds_dump_open(dstest_corpus("bad-trunc-memory64.dmp"), &d, NULL), DS_E_PARTIAL);
    assert_true(d->streams[0].damaged);
    assert_int_equal(d->vm.n, 0);
    ds_dump_close(d);
}

/* ---- mutations ---------------------------------------------------------------------------- */

static const char *GOOD[] = {
    "rmd-test.dmp",         "rmd-linux-mini.dmp",        "rmd-simple-crashpad.dmp",
    "rmd-macos-segv.dmp",   "rmd-invalid-parameter.dmp", "lldb-fizzbuzz-no-heap.dmp",
    "lldb-win-sigsegv.dmp", "lldb-linux-x86_64.dmp",     "lldb-regions-memlist64.dmp",
    "r2-calc.dmp"};

static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        size_t len = 0;
        uint8_t *buf = dstest_read_file(dstest_corpus(GOOD[i]), &len);
        assert_non_null(buf);
        size_t cuts[] = {4,           31,         32,        44,          len / 8,
                         len / 4,     len / 3,    len / 2,   2 * len / 3, 3 * len / 4,
                         7 * len / 8, len - 4096, len - 100, len - 1};
        for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
            if (cuts[k] == 0 || cuts[k] >= len)
                continue;
            ds_status s = open_buf(buf, cuts[k], NULL);
            /* cut inside the header: unusable */
            if (cuts[k] < 32)
                assert_int_equal(s, DS_E_FORMAT);
        }
        /* memory lists point past the end: those ranges become NOT_CAPTURED, never read */
        free(buf);
    }
}

/* Sets every count-like field of every list stream to hostile values. */
static void test_count_flips(void **state)
{
    (void)state;
    static const uint32_t vals[] = {0xffffffffu, 0x7fffffffu, 0x10000u, 1u};
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        size_t len = 0;
        uint8_t *orig = dstest_read_file(dstest_corpus(GOOD[i]), &len);
        assert_non_null(orig);
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        uint32_t nst, dir;
        memcpy(&nst, orig + 8, 4);
        memcpy(&dir, orig + 12, 4);
        for (uint32_t e = 0; e < nst && dir + 12ull * (e + 1) <= len; e++) {
            uint32_t type, size, rva;
            memcpy(&type, orig + dir + 12 * e, 4);
            memcpy(&size, orig + dir + 12 * e + 4, 4);
            memcpy(&rva, orig + dir + 12 * e + 8, 4);
            if (!type || (uint64_t)rva + size > len)
                continue;
            /* offsets inside the stream that hold counts / header sizes / RVAs */
            static const uint32_t offs[] = {0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48};
            for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++) {
                if (offs[o] + 4 > size)
                    continue;
                for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
                    memcpy(buf, orig, len);
                    memcpy(buf + rva + offs[o], &vals[v], 4);
                    open_buf(buf, len, NULL);
                }
            }
            /* the directory entry itself: huge size, RVA past the end */
            memcpy(buf, orig, len);
            uint32_t big = 0xfffffff0u;
            memcpy(buf + dir + 12 * e + 4, &big, 4);
            assert_int_equal(open_buf(buf, len, NULL), DS_E_PARTIAL);
            memcpy(buf, orig, len);
            memcpy(buf + dir + 12 * e + 8, &big, 4);
            assert_int_equal(open_buf(buf, len, NULL), DS_E_PARTIAL);
        }
        /* NumberOfStreams far beyond the file */
        memcpy(buf, orig, len);
        uint32_t many = 0x00ffffffu;
        memcpy(buf + 8, &many, 4);
        ds_dump *d = NULL;
        assert_int_equal(open_buf(buf, len, &d), DS_E_PARTIAL);
        assert_true(d->nstreams <= len / 12);
        ds_dump_close(d);
        /* bad version */
        memcpy(buf, orig, len);
        buf[4] ^= 0xff;
        assert_int_equal(open_buf(buf, len, NULL), DS_E_FORMAT);
        free(buf);
        free(orig);
    }
}

/* ---- synthetic dumps ---------------------------------------------------------------------- */

typedef struct mb {
    uint8_t *b;
    size_t n, cap;
} mb;

static size_t mb_alloc(mb *m, size_t len)
{
    size_t at = (m->n + 3) & ~(size_t)3;
    if (at + len > m->cap) {
        m->cap = (at + len) * 2 + 4096;
        m->b = realloc(m->b, m->cap);
        assert_non_null(m->b);
    }
    memset(m->b + m->n, 0, at + len - m->n);
    m->n = at + len;
    return at;
}
static void put16(mb *m, size_t at, uint16_t v)
{
    memcpy(m->b + at, &v, 2);
}
static void put32(mb *m, size_t at, uint32_t v)
{
    memcpy(m->b + at, &v, 4);
}
static void put64(mb *m, size_t at, uint64_t v)
{
    memcpy(m->b + at, &v, 8);
}
static size_t put_mdstring(mb *m, const char *ascii)
{
    size_t l = strlen(ascii);
    size_t at = mb_alloc(m, 4 + 2 * l + 2);
    put32(m, at, (uint32_t)(2 * l));
    for (size_t i = 0; i < l; i++)
        put16(m, at + 4 + 2 * i, (uint8_t)ascii[i]);
    return at;
}

enum { S_SYS, S_THREADS, S_MEM, S_MEMINFO, S_MODULES, S_EXC, S_MISC, S_COUNT };

typedef struct syn {
    mb m;
    size_t dir;
    size_t stream_at[S_COUNT];
    size_t module_name_rva;
    size_t mem_data; /* Memory64List: file offset of the memory bytes */
} syn;

static void set_dir(syn *s, int i, uint32_t type, size_t at, size_t size)
{
    put32(&s->m, s->dir + 12 * (size_t)i, type);
    put32(&s->m, s->dir + 12 * (size_t)i + 4, (uint32_t)size);
    put32(&s->m, s->dir + 12 * (size_t)i + 8, (uint32_t)at);
    s->stream_at[i] = at;
}

/* A WoW64 process dumped by a 64-bit dumper: AMD64 SystemInfo, one thread whose TEB64 at
 * 0x7e0000 has WowTebOffset 0x2000 and a TEB32 at 0x7e2000 (NT_TIB32.Self == 0x7e2000).
 * memory64: the memory is a Memory64List instead of a MemoryList. */
static void build_wow64(syn *s, bool memory64, uint64_t flags)
{
    memset(s, 0, sizeof *s);
    mb *m = &s->m;
    size_t h = mb_alloc(m, 32);
    put32(m, h, 0x504d444d);
    put32(m, h + 4, 0xa793);
    put32(m, h + 8, S_COUNT);
    s->dir = mb_alloc(m, 12 * S_COUNT);
    put32(m, h + 12, (uint32_t)s->dir);
    put32(m, h + 20, 1600000000);
    put64(m, h + 24, flags);

    /* SystemInfo: AMD64, Windows 10.0.19041 workstation */
    size_t si = mb_alloc(m, 56);
    put16(m, si, 9);
    put16(m, si + 2, 6);
    m->b[si + 6] = 4;
    m->b[si + 7] = 1;
    put32(m, si + 8, 10);
    put32(m, si + 12, 0);
    put32(m, si + 16, 19041);
    put32(m, si + 20, 2);
    memcpy(m->b + si + 32, "AuthenticAMD", 12);
    set_dir(s, S_SYS, 7, si, 56);

    /* thread context (CONTEXT_AMD64, 1232 bytes) */
    size_t ctx = mb_alloc(m, 1232);
    put64(m, ctx + 0x98, 0x100080);   /* Rsp */
    put64(m, ctx + 0xa0, 0x1000a0);   /* Rbp */
    put64(m, ctx + 0xf8, 0x77001000); /* Rip */

    /* memory: stack bytes [0x100000, +0x100) and TEB64+TEB32 [0x7e0000, +0x3000) */
    size_t stack = mb_alloc(m, 0x100);
    size_t teb = mb_alloc(m, 0x3000);
    put64(m, teb + 0x8, 0x200000);    /* TEB64 StackBase */
    put64(m, teb + 0x10, 0x100000);   /* TEB64 StackLimit */
    put64(m, teb + 0x30, 0x7e0000);   /* TEB64 Self */
    put64(m, teb + 0x60, 0x7d0000);   /* TEB64 PEB */
    put32(m, teb + 0x180c, 0x2000);   /* WowTebOffset */
    put32(m, teb + 0x2004, 0x400000); /* TEB32 StackBase */
    put32(m, teb + 0x2008, 0x300000); /* TEB32 StackLimit */
    put32(m, teb + 0x2018, 0x7e2000); /* TEB32 Self */
    put32(m, teb + 0x2030, 0x7d1000); /* TEB32 PEB */

    size_t tl = mb_alloc(m, 4 + 48);
    put32(m, tl, 1);
    put32(m, tl + 4, 0x1234);
    put64(m, tl + 4 + 16, 0x7e0000);
    put64(m, tl + 4 + 24, 0x100000);
    put32(m, tl + 4 + 32, 0x100);
    put32(m, tl + 4 + 36, (uint32_t)stack);
    put32(m, tl + 4 + 40, 1232);
    put32(m, tl + 4 + 44, (uint32_t)ctx);
    set_dir(s, S_THREADS, 3, tl, 4 + 48);

    if (!memory64) {
        size_t ml = mb_alloc(m, 4 + 2 * 16);
        put32(m, ml, 2);
        put64(m, ml + 4, 0x100000);
        put32(m, ml + 12, 0x100);
        put32(m, ml + 16, (uint32_t)stack);
        put64(m, ml + 20, 0x7e0000);
        put32(m, ml + 28, 0x3000);
        put32(m, ml + 32, (uint32_t)teb);
        set_dir(s, S_MEM, 5, ml, 4 + 2 * 16);
    } else {
        /* full memory: both committed regions completely, data sequential at the end */
        size_t ml = mb_alloc(m, 16 + 2 * 16);
        size_t data = mb_alloc(m, 0x1000 + 0x3000);
        memcpy(m->b + data + 0x1000, m->b + teb, 0x3000);
        s->mem_data = data;
        put64(m, ml, 2);
        put64(m, ml + 8, data);
        put64(m, ml + 16, 0x100000);
        put64(m, ml + 24, 0x1000);
        put64(m, ml + 32, 0x7e0000);
        put64(m, ml + 40, 0x3000);
        set_dir(s, S_MEM, 9, ml, 16 + 2 * 16);
    }

    /* MemoryInfoList: committed RW private [0x100000,+0x1000) and [0x7e0000,+0x3000),
     * reserved [0x800000,+0x10000) */
    size_t mi = mb_alloc(m, 16 + 3 * 48);
    put32(m, mi, 16);
    put32(m, mi + 4, 48);
    put64(m, mi + 8, 3);
    const uint64_t rb[3] = {0x7e0000, 0x100000, 0x800000}; /* unsorted on purpose */
    const uint64_t rs[3] = {0x3000, 0x1000, 0x10000};
    const uint32_t st[3] = {0x1000, 0x1000, 0x2000};
    for (int i = 0; i < 3; i++) {
        size_t e = mi + 16 + 48 * (size_t)i;
        put64(m, e, rb[i]);
        put64(m, e + 8, rb[i]);
        put32(m, e + 16, 0x04);
        put64(m, e + 24, rs[i]);
        put32(m, e + 32, st[i]);
        put32(m, e + 36, st[i] == 0x1000 ? 0x04 : 0);
        put32(m, e + 40, 0x20000);
    }
    set_dir(s, S_MEMINFO, 16, mi, 16 + 3 * 48);

    /* ModuleList: C:\Windows\System32\wow64.dll with version 10.0.19041.1 and RSDS */
    s->module_name_rva = put_mdstring(m, "C:\\Windows\\System32\\wow64.dll");
    size_t cv = mb_alloc(m, 24 + 10);
    put32(m, cv, 0x53445352);
    for (int i = 0; i < 16; i++)
        m->b[cv + 4 + i] = (uint8_t)(i + 1);
    put32(m, cv + 20, 7);
    memcpy(m->b + cv + 24, "wow64.pdb", 10);
    size_t mod = mb_alloc(m, 4 + 108);
    put32(m, mod, 1);
    put64(m, mod + 4, 0x77000000);
    put32(m, mod + 12, 0x10000);
    put32(m, mod + 24, (uint32_t)s->module_name_rva);
    put32(m, mod + 28, 0xfeef04bd);
    put32(m, mod + 36, (10u << 16) | 0);
    put32(m, mod + 40, (19041u << 16) | 1);
    put32(m, mod + 44, (10u << 16) | 0);
    put32(m, mod + 48, (19041u << 16) | 1);
    put32(m, mod + 4 + 76, 34);
    put32(m, mod + 4 + 80, (uint32_t)cv);
    set_dir(s, S_MODULES, 4, mod, 4 + 108);

    /* Exception: access violation in thread 0x1234, context = the thread's */
    size_t ex = mb_alloc(m, 168);
    put32(m, ex, 0x1234);
    put32(m, ex + 8, 0xc0000005);
    put64(m, ex + 24, 0x77001000);
    put32(m, ex + 32, 2);
    put64(m, ex + 40, 1);
    put64(m, ex + 48, 0x10);
    put32(m, ex + 160, 1232);
    put32(m, ex + 164, (uint32_t)ctx);
    set_dir(s, S_EXC, 6, ex, 168);

    /* MiscInfo v1 with PROCESS_ID */
    size_t misc = mb_alloc(m, 24);
    put32(m, misc, 24);
    put32(m, misc + 4, 1);
    put32(m, misc + 8, 4242);
    set_dir(s, S_MISC, 15, misc, 24);
}

static void test_synthetic_wow64(void **state)
{
    (void)state;
    syn s;
    build_wow64(&s, false, 0);
    ds_dump *d = NULL;
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_OK);
    assert_int_equal(d->sys.arch, DS_ARCH_AMD64);
    assert_int_equal(d->sys.ptr_size, 8);
    assert_true(d->sys.wow64);
    assert_int_equal(d->sys.target_ptr_size, 4);
    assert_string_equal(d->sys.cpu_vendor, "AuthenticAMD");
    assert_string_equal(d->sys.os_text, "Windows 10 (10.0.19041)");
    assert_int_equal(d->dump_time, 1600000000);
    assert_int_equal(d->nthreads, 1);
    const ds_thread *t = thread_of(d, 0x1234);
    assert_non_null(t);
    assert_int_equal(t->teb, 0x7e0000);
    assert_int_equal(t->teb32, 0x7e2000);
    assert_true(t->has_tib);
    assert_int_equal(t->stack_base, 0x200000);
    assert_int_equal(t->stack_limit, 0x100000);
    assert_int_equal(t->pc, 0x77001000);
    assert_int_equal(t->sp, 0x100080);
    assert_int_equal(t->fp, 0x1000a0);
    assert_int_equal(d->peb, 0x7d0000);
    assert_int_equal(d->peb32, 0x7d1000);
    /* module */
    assert_int_equal(d->nmodules, 1);
    assert_string_equal(d->modules[0].name, "wow64.dll");
    assert_true(d->modules[0].file_version.valid);
    assert_int_equal(d->modules[0].file_version.v[0], 10);
    assert_int_equal(d->modules[0].file_version.v[2], 19041);
    assert_int_equal(d->modules[0].file_version.v[3], 1);
    assert_int_equal(d->modules[0].cv.kind, 1);
    assert_int_equal(d->modules[0].cv.age, 7);
    assert_string_equal(d->modules[0].cv.pdb, "wow64.pdb");
    /* exception */
    assert_int_equal(d->exc.code, 0xc0000005);
    assert_int_equal(d->exc.nparams, 2);
    assert_int_equal(d->exc.params[1], 0x10);
    assert_int_equal(d->exc.pc, 0x77001000);
    assert_int_equal(d->misc.pid, 4242);
    /* regions sorted, captured bytes computed */
    assert_true(d->has_region_table);
    assert_int_equal(d->nregions, 3);
    assert_int_equal(d->regions[0].base, 0x100000);
    assert_int_equal(d->regions[0].captured, 0x100);
    assert_int_equal(d->regions[1].base, 0x7e0000);
    assert_int_equal(d->regions[1].captured, 0x3000);
    assert_int_equal(d->regions[2].captured, 0);
    /* the view: uncaptured committed bytes are NOT_CAPTURED, outside the table NOT_MAPPED */
    uint8_t b;
    assert_int_equal(ds_vmem_u8(&d->vm, 0x100010, &b), DS_MEM_OK);
    assert_int_equal(ds_vmem_u8(&d->vm, 0x100800, &b), DS_MEM_NOT_CAPTURED);
    assert_int_equal(ds_vmem_u8(&d->vm, 0x900000, &b), DS_MEM_NOT_MAPPED);
    /* most private RW memory is captured (0x3100 of 0x4000 bytes) */
    assert_int_equal(d->kind, DS_KIND_WITH_HEAP);
    assert_string_equal(d->producer, "windows");
    ds_dump_close(d);
    free(s.m.b);

    /* Memory64List covering every committed region: full memory */
    build_wow64(&s, true, 0);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_OK);
    assert_int_equal(d->kind, DS_KIND_FULL);
    assert_int_equal(d->regions[0].captured, 0x1000);
    assert_int_equal(d->threads[0].teb32, 0x7e2000);
    ds_dump_close(d);
    /* ... truncated inside the memory data (TEB range at data+0x1000): clipped, reported */
    assert_int_equal(open_buf(s.m.b, s.mem_data + 0x1000 + 0x2800, &d), DS_E_PARTIAL);
    assert_int_equal(ds_vmem_u8(&d->vm, 0x7e27ff, &b), DS_MEM_OK);
    assert_int_equal(ds_vmem_u8(&d->vm, 0x7e2fff, &b), DS_MEM_NOT_CAPTURED);
    assert_true(d->diags.n >= 1);
    ds_dump_close(d);
    free(s.m.b);

    /* triage flag */
    build_wow64(&s, false, 0x100000);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_OK);
    assert_int_equal(d->kind, DS_KIND_TRIAGE);
    ds_dump_close(d);
    free(s.m.b);
}

static void test_synthetic_damage(void **state)
{
    (void)state;
    syn s;
    ds_dump *d = NULL;
    /* module name with an odd length: reported, the module is still listed */
    build_wow64(&s, false, 0);
    put32(&s.m, s.module_name_rva, 7);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_E_PARTIAL);
    assert_int_equal(d->nmodules, 1);
    assert_string_equal(d->modules[0].path, "");
    ds_dump_close(d);
    free(s.m.b);
    /* ThreadList count larger than the stream: clipped to what fits, other streams read */
    build_wow64(&s, false, 0);
    put32(&s.m, s.stream_at[S_THREADS], 1000000);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_E_PARTIAL);
    assert_int_equal(d->nthreads, 1);
    assert_int_equal(d->nmodules, 1);
    bool named = false;
    for (size_t i = 0; i < d->diags.n; i++)
        if (!strcmp(d->diags.v[i].structure, "MINIDUMP_THREAD_LIST") &&
            d->diags.v[i].offset == s.stream_at[S_THREADS])
            named = true;
    assert_true(named);
    ds_dump_close(d);
    free(s.m.b);
    /* MemoryInfoList SizeOfEntry too small: the stream is skipped, no region table */
    build_wow64(&s, false, 0);
    put32(&s.m, s.stream_at[S_MEMINFO] + 4, 8);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_E_PARTIAL);
    assert_false(d->has_region_table);
    assert_int_equal(d->nthreads, 1);
    ds_dump_close(d);
    free(s.m.b);
    /* thread context RVA outside the file */
    build_wow64(&s, false, 0);
    put32(&s.m, s.stream_at[S_THREADS] + 4 + 44, 0xfffffff0u);
    assert_int_equal(open_buf(s.m.b, s.m.n, &d), DS_E_PARTIAL);
    /* the exception context still gives the faulting registers, and the faulting thread,
     * having no context of its own, takes it */
    assert_int_equal(d->exc.pc, 0x77001000);
    assert_true(d->threads[0].has_context);
    assert_ptr_equal(d->threads[0].context, d->exc.context);
    assert_int_equal(d->threads[0].pc, 0x77001000);
    ds_dump_close(d);
    free(s.m.b);
    /* every single-byte truncation point of the synthetic dump */
    build_wow64(&s, false, 0);
    for (size_t cut = 0; cut < s.m.n; cut += 37)
        if (cut)
            open_buf(s.m.b, cut, NULL);
    free(s.m.b);
}

int main(void)
{
    /* Synthetic dumps need nothing; the corpus tests skip (exit 77) when it is absent. */
    const struct CMUnitTest synthetic[] = {
        cmocka_unit_test(test_synthetic_wow64),
        cmocka_unit_test(test_synthetic_damage),
    };
    int rc = cmocka_run_group_tests_name("synthetic", synthetic, NULL, NULL);
    if (rc)
        return rc;
    dstest_require_corpus();
    const struct CMUnitTest corpus[] = {
        cmocka_unit_test(test_rmd_test),      cmocka_unit_test(test_lldb_win_sigsegv),
        cmocka_unit_test(test_r2_calc),       cmocka_unit_test(test_fizzbuzz),
        cmocka_unit_test(test_linux),         cmocka_unit_test(test_invalid_parameter),
        cmocka_unit_test(test_macos),         cmocka_unit_test(test_crashpad),
        cmocka_unit_test(test_memlist64),     cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_specifics), cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_count_flips),
    };
    return cmocka_run_group_tests_name("corpus", corpus, NULL, NULL);
}
