/* Region classifier on the real Wine fixtures (fixtures/README.md). Expected values come from the
 * generator's truth file (what the scenario allocated) and from the dumper's sidecar (what our
 * dumper saw through VirtualQueryEx/ReadProcessMemory/thread contexts), never from dumpsleuth. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

static uint64_t hexnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 0);
    if (cJSON_IsNumber(v))
        return (uint64_t)v->valuedouble;
    return 0;
}

static const ds_class_region *at(const ds_region_map *m, uint64_t va)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].base <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && va - m->v[lo - 1].base < m->v[lo - 1].size)
        return &m->v[lo - 1];
    return NULL;
}

static void check_fixture(const char *name)
{
    char f[256], t[256], s[256];
    snprintf(f, sizeof f, "%s.dmp", name);
    snprintf(t, sizeof t, "%s.truth.json", name);
    snprintf(s, sizeof s, "%s.dumper.json", name);
    const char *fp = dstest_fixture(f);
    assert_non_null(fp);
    cJSON *truth = dstest_load_json(dstest_fixture(t));
    cJSON *side = dstest_load_json(dstest_fixture(s));
    /* the dump format (what the dumper wrote), not IsWow64Process of the target */
    bool wow64 = !strcmp(cJSON_GetObjectItem(side, "dump_kind")->valuestring, "wow64");

    ds_dump *d = NULL;
    ds_status st = ds_dump_open(fp, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    assert_int_equal(d->sys.wow64, wow64);
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, NULL), DS_OK);
    assert_false(m.partial);

    /* 1. every VirtualAlloc region of the scenario: <unknown>, committed, private, read-write */
    const cJSON *va = cJSON_GetObjectItem(truth, "virtualalloc");
    if (!va)
        goto generic; /* the .NET fixtures allocate through the GC, not VirtualAlloc */
    const cJSON *regs = cJSON_GetObjectItem(va, "regions");
    int nva = cJSON_GetArraySize(regs);
    assert_int_equal(nva, (int)hexnum(va, "count"));
    for (int i = 0; i < nva; i++) {
        const cJSON *r = cJSON_GetArrayItem(regs, i);
        const ds_class_region *cr = at(&m, hexnum(r, "base"));
        assert_non_null(cr);
        assert_int_equal(cr->base, hexnum(r, "base"));
        assert_int_equal(cr->size, hexnum(r, "size"));
        assert_int_equal(cr->usage, DS_USE_UNKNOWN);
        assert_int_equal(cr->r->state, hexnum(r, "state"));
        assert_int_equal(cr->r->type, hexnum(r, "type"));
        assert_int_equal(cr->r->protect, hexnum(r, "protect"));
    }
    /* 2. the leak hunter's histogram: exactly the scenario's regions are <unknown> committed
     *    regions of 0x20000 bytes */
    ds_region_filter flt;
    memset(&flt, 0, sizeof flt);
    char err[64];
    assert_true(ds_region_filter_parse("Unk,MEM_COMMIT", &flt, err, sizeof err));
    ds_hist_row *rows;
    size_t nrows;
    assert_int_equal(ds_regions_histogram(&m, &flt, DS_HIST_SIZE, &rows, &nrows), DS_OK);
    assert_true(nrows > 0);
    assert_int_equal(rows[0].key, hexnum(va, "region_size"));
    assert_int_equal(rows[0].count, (uint64_t)nva);
    assert_int_equal(rows[0].total,
                     hexnum(cJSON_GetObjectItem(truth, "totals"), "virtualalloc_bytes"));
    free(rows);

generic:;
    /* 3. Image bytes inside each module's range equal the module's size (sidecar) */
    const cJSON *mods = cJSON_GetObjectItem(side, "modules");
    for (int i = 0; i < cJSON_GetArraySize(mods); i++) {
        const cJSON *mo = cJSON_GetArrayItem(mods, i);
        uint64_t base = hexnum(mo, "base"), size = hexnum(mo, "size"), img = 0;
        for (size_t k = 0; k < m.n; k++)
            if (m.v[k].usage == DS_USE_IMAGE && m.v[k].base >= base && m.v[k].base - base < size)
                img += m.v[k].size;
        if (img != size)
            fprintf(stderr, "%s: module %s: image bytes 0x%llx != size 0x%llx\n", name,
                    cJSON_GetObjectItem(mo, "name")->valuestring, (unsigned long long)img,
                    (unsigned long long)size);
        assert_int_equal(img, size);
    }

    /* 4. every thread's TEB (and TEB32) and stack are classified */
    const cJSON *th = cJSON_GetObjectItem(side, "threads");
    assert_int_equal(cJSON_GetArraySize(th), (int)d->nthreads);
    for (int i = 0; i < cJSON_GetArraySize(th); i++) {
        const cJSON *o = cJSON_GetArrayItem(th, i);
        const ds_class_region *cr = at(&m, hexnum(o, "teb"));
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_TEB);
        assert_int_equal(cr->bits, wow64 ? 64 : 0);
        if (wow64) {
            cr = at(&m, hexnum(o, "teb32"));
            assert_non_null(cr);
            assert_int_equal(cr->usage, DS_USE_TEB);
            assert_int_equal(cr->bits, 32);
        }
        /* the thread's SP from its context, as the dumper read it */
        cr = at(&m, hexnum(o, "sp"));
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_STACK);
    }
    /* 5. PEB (PEB32) and the process heap */
    const ds_class_region *cr = at(&m, hexnum(side, "peb"));
    assert_non_null(cr);
    assert_int_equal(cr->usage, DS_USE_PEB);
    if (wow64) {
        cr = at(&m, hexnum(side, "peb32"));
        assert_int_equal(cr->usage, DS_USE_PEB);
        assert_int_equal(cr->bits, 32);
    }
    if (cJSON_GetObjectItem(truth, "process_heap")) {
        cr = at(&m, hexnum(truth, "process_heap"));
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_HEAP);
    }

    /* 6. the summary adds up: usage rows partition the total, states too, percentages 100 */
    ds_region_summary sum;
    assert_int_equal(ds_regions_summarize(d, &m, &sum), DS_OK);
    uint64_t total = 0, busy = 0, cnt = 0, scnt = 0;
    for (size_t i = 0; i < sum.nusage; i++) {
        total += sum.usage[i].size;
        cnt += sum.usage[i].count;
        if (sum.usage[i].usage != DS_USE_FREE)
            busy += sum.usage[i].size;
    }
    for (int i = 0; i < 3; i++)
        scnt += sum.state[i].count;
    assert_int_equal(total, sum.total);
    assert_int_equal(busy, sum.busy);
    assert_int_equal(cnt, scnt);
    assert_int_equal(sum.state[0].size + sum.state[1].size + sum.state[2].size, sum.total);
    assert_int_equal(sum.type[0].size + sum.type[1].size + sum.type[2].size, sum.busy);
    /* the address space summarised: 4 GB for WoW64 (32-bit view), otherwise what VirtualQueryEx
     * enumerated (the sidecar's regions cover the whole user space) */
    if (wow64)
        assert_int_equal(sum.total, 1ull << 32);
    ds_region_summary_free(&sum);
    ds_region_map_free(&m);
    ds_dump_close(d);
    cJSON_Delete(truth);
    cJSON_Delete(side);
}

static void test_native_x64(void **state)
{
    (void)state;
    check_fixture("native-x64");
}
static void test_native_x86(void **state)
{
    (void)state;
    check_fixture("native-x86");
}
static void test_native_wow64(void **state)
{
    (void)state;
    check_fixture("native-wow64");
}
/* .NET processes under Wine (fixtures/README.md): images, TEBs, stacks, PEB, sums */
static void test_dotnet(void **state)
{
    (void)state;
    const char *names[] = {"dotnet-2.0-x64", "dotnet-2.2-x64", "dotnet-2.1-x86"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char f[64];
        snprintf(f, sizeof f, "%s.dmp", names[i]);
        if (!dstest_fixture(f))
            skip();
        check_fixture(names[i]);
    }
}

/* Linux cores of the same process (gcore and kernel-written): the generator's truth file says
 * where its malloc blocks and anonymous mappings are. */
static void check_linux(const char *core)
{
    const char *fp = dstest_fixture(core);
    if (!fp)
        skip();
    cJSON *truth = dstest_load_json(dstest_fixture("linux-gcore-x64.truth.json"));
    ds_dump *d = NULL;
    ds_status st = ds_dump_open(fp, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, NULL), DS_OK);
    const cJSON *mallocs = cJSON_GetObjectItem(truth, "mallocs");
    for (int i = 0; i < cJSON_GetArraySize(mallocs); i++) {
        const ds_class_region *cr = at(&m, hexnum(cJSON_GetArrayItem(mallocs, i), "addr"));
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_HEAP); /* small mallocs live in the brk heap */
    }
    const cJSON *mmaps = cJSON_GetObjectItem(truth, "mmaps");
    for (int i = 0; i < cJSON_GetArraySize(mmaps); i++) {
        const cJSON *o = cJSON_GetArrayItem(mmaps, i);
        const ds_class_region *cr = at(&m, hexnum(o, "addr"));
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_UNKNOWN);
        assert_int_equal(cr->base, hexnum(o, "addr"));
        assert_int_equal(cr->size, hexnum(o, "size"));
        const char *perm = cJSON_GetObjectItem(o, "perm")->valuestring;
        assert_int_equal(cr->r->protect, perm[1] == 'w' ? 0x04u : 0x02u);
    }
    /* every thread of the truth has a Stack region at its SP */
    const cJSON *th = cJSON_GetObjectItem(truth, "threads");
    assert_int_equal(cJSON_GetArraySize(th), (int)d->nthreads);
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_class_region *cr = at(&m, d->threads[i].sp);
        assert_non_null(cr);
        assert_int_equal(cr->usage, DS_USE_STACK);
        assert_int_equal(cr->detail, i);
    }
    ds_region_map_free(&m);
    ds_dump_close(d);
    cJSON_Delete(truth);
}

static void test_linux_gcore(void **state)
{
    (void)state;
    check_linux("linux-gcore-x64.core");
}
static void test_linux_kernel_core(void **state)
{
    (void)state;
    check_linux("linux-kcore-x64.core");
}

int main(void)
{
    dstest_require_fixture("native-x64.dmp");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_x64),   cmocka_unit_test(test_native_x86),
        cmocka_unit_test(test_native_wow64), cmocka_unit_test(test_dotnet),
        cmocka_unit_test(test_linux_gcore),  cmocka_unit_test(test_linux_kernel_core),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
