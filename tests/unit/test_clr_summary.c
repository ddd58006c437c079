/* summary --clr / regions --clr (src/clr/annotate.c) on the .NET fixtures: the GC heap classes
 * equal the segments eeheap -gc reports, the split only moves bytes out of <unknown>, SOS's segment
 * addresses (Linux core) lie in GC heap regions, and a native dump is unchanged. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "dumpsleuth/clr.h"
#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

static uint64_t usage_size(const ds_region_summary *s, ds_usage u)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nusage; i++)
        if (s->usage[i].usage == u)
            n += s->usage[i].size;
    return n;
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

static void classify(ds_dump *d, bool clr, ds_region_map *m, ds_region_summary *s)
{
    const ds_annotator fn[1] = {{ds_clr_annotate, NULL}};
    assert_int_equal(ds_regions_classify(d, clr ? fn : NULL, clr ? 1 : 0, m, &d->diags), DS_OK);
    assert_int_equal(ds_regions_summarize(d, m, s), DS_OK);
}

/* GC committed / reserved == the segments of eeheap -gc; everything else unchanged. */
static bool gc_split_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    ds_dump *d = c->d;
    ds_clr_heap h;
    ds_status hs = ds_clr_heap_open(d, NULL, &h, NULL);
    assert_true(hs == DS_OK || hs == DS_E_PARTIAL);
    assert_true(h.nsegs >= 2);
    uint64_t want_c = 0, want_r = 0;
    for (size_t i = 0; i < h.nsegs; i++) {
        want_c += h.segs[i].committed - h.segs[i].addr;
        want_r += h.segs[i].reserved - h.segs[i].committed;
    }
    ds_clr_heap_close(&h);

    ds_region_map m0, m1;
    ds_region_summary s0, s1;
    classify(d, false, &m0, &s0);
    classify(d, true, &m1, &s1);
    print_message("%s: GC committed %llu reserved %llu other %llu\n", c->fx->name,
                  (unsigned long long)usage_size(&s1, DS_USE_GC_COMMITTED),
                  (unsigned long long)usage_size(&s1, DS_USE_GC_RESERVED),
                  (unsigned long long)usage_size(&s1, DS_USE_CLR_OTHER));
    assert_int_equal(usage_size(&s1, DS_USE_GC_COMMITTED), want_c);
    assert_int_equal(usage_size(&s1, DS_USE_GC_RESERVED), want_r);
    assert_int_equal(usage_size(&s0, DS_USE_GC_COMMITTED), 0);
    /* totals unchanged; the GC classes come out of <unknown> only */
    assert_int_equal(s0.total, s1.total);
    assert_int_equal(s0.busy, s1.busy);
    for (int u = 0; u < DS_USE_COUNT; u++) {
        if (u == DS_USE_UNKNOWN || u >= DS_USE_GC_COMMITTED)
            continue;
        assert_int_equal(usage_size(&s0, (ds_usage)u), usage_size(&s1, (ds_usage)u));
    }
    assert_int_equal(usage_size(&s0, DS_USE_UNKNOWN),
                     usage_size(&s1, DS_USE_UNKNOWN) + usage_size(&s1, DS_USE_GC_COMMITTED) +
                         usage_size(&s1, DS_USE_GC_RESERVED) + usage_size(&s1, DS_USE_CLR_OTHER));
    for (int t = 0; t < 3; t++)
        assert_int_equal(s0.state[t].size, s1.state[t].size);
    ds_region_summary_free(&s0);
    ds_region_summary_free(&s1);
    ds_region_map_free(&m0);
    ds_region_map_free(&m1);
    return true;
}

static void test_gc_split(void **state)
{
    (void)state;
    dstest_clr_each(0, gc_split_one, NULL);
}

/* SOS's eeheap -gc segment, begin and allocated-1 addresses lie in GC heap (committed) regions. */
static void test_sos_segments_linux(void **state)
{
    (void)state;
    ds_dump *d = dstest_open_dump("dotnet-2.0-linux-x64.core");
    if (!d)
        skip();
    char p[1024];
    const char *src = getenv("DS_SOURCE_DIR");
    const char *fx = dstest_fixture("dotnet-2.0-linux-x64.sos.txt");
    FILE *f = fx ? fopen(fx, "r") : NULL;
    if (!f && src) {
        snprintf(p, sizeof p, "%s/fixtures/data/dotnet-2.0-linux-x64.sos.txt", src);
        f = fopen(p, "r");
    }
    if (!f) {
        ds_dump_close(d);
        skip();
    }
    ds_region_map m;
    ds_region_summary s;
    classify(d, true, &m, &s);
    char line[512];
    bool in_eeheap = false;
    int segs = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "(lldb) ", 7)) {
            in_eeheap = !strncmp(line, "(lldb) eeheap", 13);
            continue;
        }
        unsigned long long seg, begin, alloc;
        char rest[64];
        if (!in_eeheap || sscanf(line, "%llx %llx %llx %63s", &seg, &begin, &alloc, rest) != 4)
            continue;
        uint64_t probe[3] = {seg, begin, alloc - 1};
        for (int i = 0; i < 3; i++) {
            const ds_class_region *cr = at(&m, probe[i]);
            assert_non_null(cr);
            assert_int_equal(cr->usage, DS_USE_GC_COMMITTED);
        }
        segs++;
    }
    fclose(f);
    assert_int_equal(segs, 2);
    ds_region_summary_free(&s);
    ds_region_map_free(&m);
    ds_dump_close(d);
}

/* No CLR: the annotator adds no mark and no diagnostic; the map is the plain one. */
static void test_native_unchanged(void **state)
{
    (void)state;
    ds_dump *d = dstest_open_dump("native-x64.dmp");
    if (!d)
        skip();
    size_t nd = ds_diags_count(&d->diags, DS_SEV_NOTE);
    ds_region_map m0, m1;
    ds_region_summary s0, s1;
    classify(d, false, &m0, &s0);
    classify(d, true, &m1, &s1);
    assert_int_equal(ds_diags_count(&d->diags, DS_SEV_NOTE), nd);
    assert_int_equal(m0.cls.n, m1.cls.n);
    assert_int_equal(m0.n, m1.n);
    for (size_t i = 0; i < m0.n; i++) {
        assert_int_equal(m0.v[i].base, m1.v[i].base);
        assert_int_equal(m0.v[i].size, m1.v[i].size);
        assert_int_equal(m0.v[i].usage, m1.v[i].usage);
    }
    ds_region_summary_free(&s0);
    ds_region_summary_free(&s1);
    ds_region_map_free(&m0);
    ds_region_map_free(&m1);
    ds_dump_close(d);
}

/* The CLI: verdict line / note, exit codes. */
static int run(const char *args, const char *fixture, char *out, size_t n)
{
    const char *bin = getenv("DS_BIN");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' 2>/dev/null", bin, args, fixture);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    (void)state;
    static char out[1 << 20];
    if (!getenv("DS_BIN"))
        skip();
    const char *nat = dstest_fixture("native-x64.dmp");
    const char *net = dstest_fixture("dotnet-2.0-x64.dmp");
    if (!nat || !net)
        skip();
    assert_int_equal(run("summary --clr", nat, out, sizeof out), 0);
    assert_non_null(strstr(out, "no CLR runtime in this dump"));
    assert_int_equal(run("summary --clr", net, out, sizeof out), 0);
    assert_non_null(strstr(out, "\nGC heap "));
    assert_non_null(strstr(out, "\nGC reserved "));
    /* 0x16e3000 of GC heap in this dump (eeheap -gc: two segments) */
    assert_non_null(
        strstr(out, "Managed (GC heap) committed: 22.887 MB of 118.598 MB committed bytes ("));
    assert_int_equal(run("summary --clr --json", net, out, sizeof out), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *clr = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "clr");
    assert_non_null(clr);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(clr, "runtime")));
    assert_int_equal((uint64_t)cJSON_GetObjectItem(clr, "gc_committed")->valuedouble, 0x16e3000);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(clr, "gc_reserved")->valuedouble, 0x1691d000);
    cJSON_Delete(j);
    assert_int_equal(run("regions --clr -f GC", net, out, sizeof out), 0);
    assert_non_null(strstr(out, "[LOH segment]"));
    assert_non_null(strstr(out, "[gen0-2 segment]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gc_split),
        cmocka_unit_test(test_sos_segments_linux),
        cmocka_unit_test(test_native_unchanged),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
