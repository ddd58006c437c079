/* NT-heap walker on the real dumps we have. The Wine fixtures' heaps are Wine's own allocator (not
 * the NT heap): the walker must say so, for the process heap the generator recorded
 * (GetProcessHeap() in the fixture's truth file) and, on WoW64, for both PEBs (addresses from the
 * dumper's sidecar). The corpus dumps are mostly not full-memory: the answer must be a clean
 * NOTFOUND / UNREADABLE / UNSUPPORTED, never an invented heap. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/ntheap.h"

static uint64_t hexv(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 0);
    if (cJSON_IsNumber(v))
        return (uint64_t)v->valuedouble;
    return 0;
}

static void check_wine(const char *name)
{
    char f[128], t[128], s[128];
    snprintf(f, sizeof f, "%s.dmp", name);
    snprintf(t, sizeof t, "%s.truth.json", name);
    snprintf(s, sizeof s, "%s.dumper.json", name);
    if (!dstest_fixture(f) || !dstest_fixture(t) || !dstest_fixture(s)) {
        fprintf(stderr, "fixture %s absent\n", name);
        fail();
    }
    cJSON *truth = dstest_load_json(dstest_fixture(t));
    cJSON *side = dstest_load_json(dstest_fixture(s));
    uint64_t ph = hexv(truth, "process_heap");
    uint64_t peb = hexv(side, "peb"), peb32 = hexv(side, "peb32");
    bool wow = !strcmp(cJSON_GetObjectItem(side, "dump_kind")->valuestring, "wow64");
    /* the .NET fixtures' truth files do not record the process heap: then only the flag */

    ds_dump *d = NULL;
    ds_status st = ds_dump_open(dstest_fixture(f), &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_heap_set set;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_heap_options o = {.entries = true};
    st = ds_heaps_open(d, &o, &set, &dg);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    assert_int_equal(set.peb, peb);
    assert_int_equal(set.peb32, wow ? peb32 : 0);
    assert_int_equal(set.wow64, wow);
    assert_true(set.nheaps >= 1);
    bool seen_ph = false, seen32 = false, seen64 = false;
    for (size_t i = 0; i < set.nheaps; i++) {
        const ds_heap *h = &set.heaps[i];
        /* Wine's heap: not an NT heap, with a reason naming the failed signature */
        assert_int_equal(h->kind, DS_HEAP_NOT_NT);
        assert_non_null(strstr(h->why, "signature"));
        assert_int_equal(h->nentries, 0);
        assert_int_equal(h->nsegments, 0);
        assert_int_equal(h->busy_blocks, 0);
        if (h->process_heap && !ph)
            seen_ph = true;
        if (h->addr == ph) {
            seen_ph = true;
            assert_true(h->process_heap);
            assert_int_equal(h->bits, wow ? 32 : (d->sys.ptr_size == 8 ? 64 : 32));
        }
        seen32 |= h->bits == 32;
        seen64 |= h->bits == 64;
    }
    assert_true(seen_ph);
    if (wow)
        assert_true(seen32 && seen64);
    ds_heaps_close(&set);
    ds_diags_free(&dg);
    ds_dump_close(d);
    cJSON_Delete(truth);
    cJSON_Delete(side);
}

static void wine_fixtures(void **state)
{
    (void)state;
    dstest_require_fixture("native-x64.dmp");
    static const char *names[] = {"native-x64",     "native-x86",     "native-wow64",
                                  "dotnet-2.0-x64", "dotnet-2.1-x86", "dotnet-2.2-x64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check_wine(names[i]);
}

/* Every corpus dump: a sound answer. Linux/macOS minidumps have no PEB (NOTFOUND or
 * UNSUPPORTED); the Windows ones that carry a PEB but no heap memory list their heaps as
 * UNREADABLE. Nothing may be reported as a walked heap. */
static void corpus(void **state)
{
    (void)state;
    dstest_require_corpus();
    FILE *m = fopen(dstest_corpus("MANIFEST.tsv"), "r");
    assert_non_null(m);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, m)) {
        char *tab = strchr(line, '\t');
        if (!tab || !strncmp(line, "file\t", 5))
            continue;
        *tab = 0;
        const char *p = dstest_corpus(line);
        assert_non_null(p);
        ds_dump *d = NULL;
        if (ds_dump_open(p, &d, NULL) != DS_OK && !d)
            continue;
        if (!d)
            continue;
        n++;
        ds_heap_set set;
        ds_diags dg;
        ds_diags_init(&dg);
        ds_heap_options o = {.entries = true};
        ds_status st = ds_heaps_open(d, &o, &set, &dg);
        assert_true(st == DS_OK || st == DS_E_PARTIAL || st == DS_E_NOTFOUND ||
                    st == DS_E_UNSUPPORTED);
        if (st == DS_E_NOTFOUND || st == DS_E_UNSUPPORTED)
            assert_int_equal(set.nheaps, 0);
        for (size_t i = 0; i < set.nheaps; i++) {
            const ds_heap *h = &set.heaps[i];
            /* no corpus dump holds heap memory */
            assert_int_equal(h->kind, DS_HEAP_UNREADABLE);
            assert_true(h->why[0] != 0);
            assert_int_equal(h->nentries, 0);
        }
        if (set.nheaps)
            assert_int_equal(st, DS_E_PARTIAL);
        ds_heaps_close(&set);
        ds_diags_free(&dg);
        ds_dump_close(d);
    }
    fclose(m);
    assert_true(n >= 10);
}

/* lldb's Windows sigsegv dump (16299 x64): its PEB is captured and lists two heaps whose pages are
 * not (checked by hand against the dump's memory list: no range covers 0x2083f1f0000 or
 * 0x2083d170000). */
static void corpus_sigsegv(void **state)
{
    (void)state;
    dstest_require_corpus();
    ds_dump *d = NULL;
    assert_true(ds_dump_open(dstest_corpus("lldb-win-sigsegv.dmp"), &d, NULL) == DS_OK);
    ds_heap_set set;
    ds_diags dg;
    ds_diags_init(&dg);
    assert_int_equal(ds_heaps_open(d, NULL, &set, &dg), DS_E_PARTIAL);
    assert_int_equal(set.nheaps, 2);
    for (size_t i = 0; i < set.nheaps; i++) {
        ds_mem_status ms = DS_MEM_OK;
        assert_null(ds_vmem_find(&d->vm, set.heaps[i].addr, &ms));
        assert_int_equal(set.heaps[i].kind, DS_HEAP_UNREADABLE);
    }
    ds_heaps_close(&set);
    ds_diags_free(&dg);
    ds_dump_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wine_fixtures),
        cmocka_unit_test(corpus),
        cmocka_unit_test(corpus_sigsegv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
