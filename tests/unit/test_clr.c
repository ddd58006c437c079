/* Tests of the DAC-less managed-heap reader (src/clr) on the .NET fixtures.
 *
 * Expected numbers come from the fixtures' truth files (written by the scenario process itself)
 * and, for the Linux core, from SOS's output on the same core
 * (fixtures/data/dotnet-2.0-linux-x64.sos.txt, parsed here at test time) - never from our own
 * output. Tests skip when a fixture is absent. */
#include "dstest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"
#include "dumpsleuth/clr.h"

static const char *const FIXTURES[] = {"dotnet-2.0-linux-x64.core", "dotnet-2.0-x64.dmp",
                                       "dotnet-2.2-x64.dmp",        "dotnet-2.1-x86.dmp",
                                       "dotnet-3.0-x64.dmp",        "dotnet-3.1-x64.dmp",
                                       "dotnet-3.1-x86.dmp",        "dotnet-3.1-linux-x64.core"};
#define NFIX (sizeof FIXTURES / sizeof FIXTURES[0])

static uint64_t hexstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    return strtoull(v->valuestring, NULL, 16);
}

static uint64_t num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    assert_true(cJSON_IsNumber(v));
    return (uint64_t)v->valuedouble;
}

/* truth type row whose name starts with prefix */
static const cJSON *truth_type(const cJSON *truth, const char *prefix)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(truth, "types"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (n && cJSON_IsString(n) && !strncmp(n->valuestring, prefix, strlen(prefix)))
            return t;
    }
    fail_msg("truth has no type %s", prefix);
    return NULL;
}

typedef struct {
    ds_clr_heap *h;
    uint64_t mt[6];
    uint64_t count[6], total[6];
    uint64_t p;
} acc;

static uint64_t al(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* slot 0..2: Font/Bitmap/PrintJob (all objects); 3: "JOB-nnnnn" strings; 4: byte[86016];
 * 5: Font[66000] */
static int acc_cb(void *ctx, const ds_clr_object *o)
{
    acc *a = ctx;
    ds_vmem *vm = &a->h->dump->vm;
    for (int i = 0; i < 3; i++)
        if (o->mt == a->mt[i]) {
            a->count[i]++;
            a->total[i] += al(o->size, a->p);
        }
    uint32_t len = 0;
    if (o->mt == a->mt[3] && ds_vmem_u32(vm, o->addr + a->p, &len) == DS_MEM_OK && len == 9) {
        uint8_t w[18];
        if (ds_vmem_read(vm, o->addr + a->p + 4, w, sizeof w, NULL) == DS_MEM_OK && w[0] == 'J' &&
            w[2] == 'O' && w[4] == 'B' && w[6] == '-') {
            a->count[3]++;
            a->total[3] += al(o->size, a->p);
        }
    }
    if (o->mt == a->mt[4] && ds_vmem_u32(vm, o->addr + a->p, &len) == DS_MEM_OK && len == 86016) {
        a->count[4]++;
        a->total[4] += al(o->size, a->p);
    }
    if (o->mt == a->mt[5] && ds_vmem_u32(vm, o->addr + a->p, &len) == DS_MEM_OK && len == 66000) {
        a->count[5]++;
        a->total[5] += al(o->size, a->p);
    }
    return 0;
}

static bool open_fixture(const char *name, ds_dump **d, ds_clr_heap *h, cJSON **truth)
{
    if (!dstest_open_fixture(name, d, truth))
        return false;
    assert_int_equal(ds_clr_heap_open(*d, NULL, h, &(*d)->diags), DS_OK);
    return true;
}

static void test_truth_types(void **state)
{
    (void)state;
    int ran = 0;
    static const char *const names[6] = {"DsLeak.Font",
                                         "DsLeak.Bitmap",
                                         "DsLeak.PrintJob",
                                         "System.String (\"JOB-%05d\")",
                                         "System.Byte[] (length 86016)",
                                         "DsLeak.Font[] (length 66000)"};
    static const char *const type_names[6] = {"DsLeak.Font",   "DsLeak.Bitmap", "DsLeak.PrintJob",
                                              "System.String", "System.Byte[]", "DsLeak.Font[]"};
    for (size_t f = 0; f < NFIX; f++) {
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        if (!open_fixture(FIXTURES[f], &d, &h, &truth))
            continue;
        ran++;
        acc a;
        memset(&a, 0, sizeof a);
        a.h = &h;
        a.p = num(truth, "pointer_size");
        assert_int_equal(h.ptr, a.p);
        for (int i = 0; i < 6; i++)
            a.mt[i] = hexstr(truth_type(truth, names[i]), "method_table");
        ds_clr_walk_stats ws;
        assert_int_equal(ds_clr_heap_walk(&h, acc_cb, &a, NULL, NULL, &ws, &d->diags), DS_OK);
        assert_int_equal(ws.bad_total, 0);
        for (int i = 0; i < 6; i++) {
            const cJSON *t = truth_type(truth, names[i]);
            if (a.count[i] != num(t, "count") || a.total[i] != num(t, "total_size"))
                fail_msg("%s: %s: count %" PRIu64 " total %" PRIu64 ", truth %" PRIu64
                         " / %" PRIu64,
                         FIXTURES[f], names[i], a.count[i], a.total[i], num(t, "count"),
                         num(t, "total_size"));
            const char *n = ds_clr_type_name(&h, a.mt[i]);
            assert_non_null(n);
            assert_string_equal(n, type_names[i]);
        }
        /* the truth's Font count is 66,000 */
        assert_int_equal(a.count[0], 66000);
        ds_clr_walk_stats_free(&ws);
        ds_clr_heap_close(&h);
        ds_dump_close(d);
        cJSON_Delete(truth);
    }
    if (!ran)
        skip();
}

static void test_finalization(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t f = 0; f < NFIX; f++) {
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        if (!open_fixture(FIXTURES[f], &d, &h, &truth))
            continue;
        ran++;
        const cJSON *fin = cJSON_GetObjectItemCaseSensitive(truth, "finalization");
        uint64_t pj_expected = num(fin, "expected_printjobs_in_ready_for_finalization_queue");
        uint64_t min_total = num(fin, "ready_queue_min_total");
        uint64_t pj_mt = hexstr(truth_type(truth, "DsLeak.PrintJob"), "method_table");
        uint64_t bm_mt = hexstr(truth_type(truth, "DsLeak.Bitmap"), "method_table");
        uint64_t blocker = hexstr(fin, "blocker_bitmap_address");
        ds_clr_finq q;
        assert_int_equal(ds_clr_finalize_queue(&h, &q, &d->diags), DS_OK);
        assert_int_equal(q.nheaps, 1);
        assert_true(q.heaps[0].valid);
        assert_true(q.ready_count >= min_total);
        uint64_t pj_ready = 0, bm_ready = 0, bm_all = 0;
        for (size_t i = 0; i < q.ready.n; i++) {
            if (q.ready.v[i].mt == pj_mt)
                pj_ready = q.ready.v[i].count;
            if (q.ready.v[i].mt == bm_mt)
                bm_ready = q.ready.v[i].count;
        }
        for (size_t i = 0; i < q.all.n; i++)
            if (q.all.v[i].mt == bm_mt)
                bm_all = q.all.v[i].count;
        assert_int_equal(pj_ready, pj_expected);
        /* the truth: the 600 listed Bitmaps are registered (not ready); the blocker (popped
         * and running its finalizer) is in neither */
        assert_int_equal(bm_ready, 0);
        assert_int_equal(bm_all,
                         num(cJSON_GetObjectItemCaseSensitive(truth, "totals"), "bitmaps_in_list"));
        /* the blocker object is a valid DsLeak.Bitmap on the heap */
        uint64_t mt;
        assert_int_equal(ds_vmem_ptr_sized(&d->vm, blocker, h.ptr, &mt), DS_MEM_OK);
        assert_int_equal(mt, bm_mt);
        ds_clr_finq_free(&q);
        ds_clr_heap_close(&h);
        ds_dump_close(d);
        cJSON_Delete(truth);
    }
    if (!ran)
        skip();
}

/* ---- the SOS oracle (Linux core) ---- */

static char *sos_text(void)
{
    const char *src = getenv("DS_SOURCE_DIR");
    char p[4096];
    if (!src)
        return NULL;
    snprintf(p, sizeof p, "%s/fixtures/data/dotnet-2.0-linux-x64.sos.txt", src);
    size_t n;
    uint8_t *b = dstest_read_file(p, &n);
    if (!b)
        return NULL;
    char *s = malloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    free(b);
    return s;
}

static void test_sos_eeheap(void **state)
{
    (void)state;
    ds_dump *d;
    ds_clr_heap h;
    cJSON *truth;
    char *sos = sos_text();
    if (!sos || !open_fixture("dotnet-2.0-linux-x64.core", &d, &h, &truth)) {
        free(sos);
        skip();
        return;
    }
    assert_int_equal(h.rt.route, DS_CLR_ROUTE_SIGNATURE);
    char *e = strstr(sos, "(lldb) eeheap -gc");
    assert_non_null(e);
    for (int g = 0; g < 3; g++) {
        char key[64];
        snprintf(key, sizeof key, "generation %d starts at 0x", g);
        char *p = strstr(e, key);
        assert_non_null(p);
        assert_int_equal(strtoull(p + strlen(key), NULL, 16), h.heaps[0].gen[g].allocation_start);
    }
    /* segment rows: "segment begin allocated size" in SOS order (SOH, then LOH) */
    size_t si = 0;
    for (char *line = strchr(e, '\n'); line && si <= h.nsegs; line = strchr(line + 1, '\n')) {
        unsigned long long seg, begin, alloc;
        if (!strncmp(line + 1, "(lldb) dumpheap", 15))
            break;
        if (sscanf(line + 1, "%llx %llx %llx 0x", &seg, &begin, &alloc) != 3)
            continue;
        assert_true(si < h.nsegs);
        assert_int_equal(seg, h.segs[si].addr);
        assert_int_equal(begin, h.segs[si].mem);
        assert_int_equal(alloc, h.segs[si].walk_end);
        si++;
    }
    assert_int_equal(si, h.nsegs);
    char *gs = strstr(e, "GC Heap Size:            Size: 0x");
    assert_non_null(gs);
    assert_int_equal(strtoull(gs + strlen("GC Heap Size:            Size: 0x"), NULL, 16),
                     h.total_size);
    ds_clr_heap_close(&h);
    ds_dump_close(d);
    cJSON_Delete(truth);
    free(sos);
}

static void test_sos_dumpheap_stat(void **state)
{
    (void)state;
    ds_dump *d;
    ds_clr_heap h;
    cJSON *truth;
    char *sos = sos_text();
    if (!sos || !open_fixture("dotnet-2.0-linux-x64.core", &d, &h, &truth)) {
        free(sos);
        skip();
        return;
    }
    ds_clr_stats s;
    ds_clr_walk_stats ws;
    assert_int_equal(ds_clr_dumpheap_stat(&h, &s, &ws, NULL, NULL, &d->diags), DS_OK);
    char *e = strstr(sos, "(lldb) dumpheap -stat\n");
    assert_non_null(e);
    char *hdr = strstr(e, "Class Name\n");
    assert_non_null(hdr);
    size_t row = 0;
    char *line = hdr + strlen("Class Name\n");
    while (strncmp(line, "Total ", 6)) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = 0;
        unsigned long long mt, count, total;
        int off = 0;
        assert_int_equal(sscanf(line, "%llx %llu %llu %n", &mt, &count, &total, &off), 3);
        const char *name = line + off;
        assert_true(row < s.n);
        const ds_clr_type_stat *r = &s.v[row];
        if (r->mt != mt || r->count != count || r->total != total)
            fail_msg("row %zu: ours %" PRIx64 " %" PRIu64 " %" PRIu64 ", SOS %s", row, r->mt,
                     r->count, r->total, line);
        if (!strcmp(name, "Free"))
            assert_true(r->free);
        else if (!strcmp(name, "UNKNOWN"))
            assert_null(r->name);
        else {
            if (!r->name || strcmp(r->name, name))
                fail_msg("row %zu: name '%s', SOS '%s'", row, r->name ? r->name : "(null)", name);
        }
        row++;
        line = nl + 1;
    }
    assert_int_equal(row, s.n);
    unsigned long long tot;
    assert_int_equal(sscanf(line, "Total %llu objects", &tot), 1);
    assert_int_equal(tot, s.objects);
    ds_clr_stats_free(&s);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_close(&h);
    ds_dump_close(d);
    cJSON_Delete(truth);
    free(sos);
}

/* ---- corruption: a synthetic heap whose second object has a garbage MethodTable ---- */

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

static void test_bad_mt_resync(void **state)
{
    (void)state;
    /* memory at 0x10000: [0x0000) MT (valid), [0x0100) a fake module/EEClass word area,
     * [0x1000) the segment's objects */
    enum { BASE = 0x10000, SIZE = 0x2000 };
    static uint8_t mem[SIZE];
    memset(mem, 0, sizeof mem);
    const uint64_t mt = BASE + 0x0;
    put64(mem, 0x0, (uint64_t)24 << 32); /* flags 0, BaseSize 24 */
    put64(mem, 0x18, BASE + 0x100);      /* loader module */
    put64(mem, 0x28, BASE + 0x100);      /* EEClass */
    uint64_t objs = BASE + 0x1000;
    put64(mem, 0x1000 + 0, mt);                     /* object 1 at +0 */
    put64(mem, 0x1000 + 24, 0xdeadbeefcafe0000ull); /* object 2: garbage MT */
    put64(mem, 0x1000 + 48, 0x4141414141414141ull); /* ... its junk */
    put64(mem, 0x1000 + 72, mt);                    /* object 3 */
    put64(mem, 0x1000 + 96, mt);                    /* object 4 */
    ds_dump d;
    memset(&d, 0, sizeof d);
    ds_vmem_init(&d.vm, mem, sizeof mem, 8);
    assert_true(ds_vmem_add(&d.vm, BASE, SIZE, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&d.vm);
    ds_diags_init(&d.diags);
    ds_clr_heap h;
    memset(&h, 0, sizeof h);
    h.dump = &d;
    h.ptr = 8;
    h.min_obj = 24;
    h.priv = calloc(1, sizeof(clr_priv));
    h.heaps = calloc(1, sizeof *h.heaps);
    h.nheaps = 1;
    h.segs = calloc(1, sizeof *h.segs);
    h.nsegs = 1;
    h.segs[0].mem = objs;
    h.segs[0].walk_end = objs + 120;
    h.total_size = 120;
    ds_clr_stats s;
    ds_clr_walk_stats ws;
    ds_status st = ds_clr_dumpheap_stat(&h, &s, &ws, NULL, NULL, &d.diags);
    assert_int_equal(st, DS_E_PARTIAL);
    assert_int_equal(ws.bad_total, 1);
    assert_int_equal(ws.bad[0].addr, objs + 24);
    assert_int_equal(ws.bad[0].mt, 0xdeadbeefcafe0000ull);
    assert_int_equal(ws.bad[0].resumed_at, objs + 72);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].mt, mt);
    assert_int_equal(s.v[0].count, 3);
    assert_true(ds_diags_count(&d.diags, DS_SEV_WARNING) >= 1);
    ds_clr_stats_free(&s);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_close(&h);
    ds_diags_free(&d.diags);
    ds_vmem_free(&d.vm);
}

/* a MethodTable whose parent chain loops is rejected, not followed forever */
static void test_parent_loop(void **state)
{
    (void)state;
    enum { BASE = 0x20000, SIZE = 0x1000 };
    static uint8_t mem[SIZE];
    memset(mem, 0, sizeof mem);
    put64(mem, 0x0, (uint64_t)24 << 32);
    put64(mem, 0x10, BASE + 0x0); /* parent = itself */
    put64(mem, 0x18, BASE + 0x100);
    put64(mem, 0x28, BASE + 0x100);
    ds_dump d;
    memset(&d, 0, sizeof d);
    ds_vmem_init(&d.vm, mem, sizeof mem, 8);
    assert_true(ds_vmem_add(&d.vm, BASE, SIZE, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&d.vm);
    ds_clr_heap h;
    memset(&h, 0, sizeof h);
    h.dump = &d;
    h.ptr = 8;
    h.min_obj = 24;
    h.priv = calloc(1, sizeof(clr_priv));
    assert_false(ds_clr_mt_check(&h, BASE, NULL, NULL, NULL));
    assert_int_equal(ds_clr_object_size(&h, BASE + 0x200, BASE, false), 0);
    ds_clr_heap_close(&h);
    ds_vmem_free(&d.vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_mt_resync), cmocka_unit_test(test_parent_loop),
        cmocka_unit_test(test_truth_types),   cmocka_unit_test(test_finalization),
        cmocka_unit_test(test_sos_eeheap),    cmocka_unit_test(test_sos_dumpheap_stat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
