/* Tests of the DAC-less managed-heap reader (src/clr) on the .NET fixtures.
 *
 * Expected numbers come from the fixtures' truth files (written by the scenario process itself)
 * and, for the Linux cores (workstation and server GC), from SOS's output on the same core
 * (fixtures/data/<name>.sos.txt) and from gdb reading the finalization queues through
 * libcoreclr.so's symbol table (fixtures/data/<name>.fq-gdb.txt), parsed here at test time -
 * never from our own output. Tests skip when a fixture is absent. */
#include "dstest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"
#include "dumpsleuth/clr.h"

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

static bool truth_types_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    static const char *const names[6] = {"DsLeak.Font",
                                         "DsLeak.Bitmap",
                                         "DsLeak.PrintJob",
                                         "System.String (\"JOB-%05d\")",
                                         "System.Byte[] (length 86016)",
                                         "DsLeak.Font[] (length 66000)"};
    static const char *const type_names[6] = {"DsLeak.Font",   "DsLeak.Bitmap", "DsLeak.PrintJob",
                                              "System.String", "System.Byte[]", "DsLeak.Font[]"};
    ds_clr_heap *h = &c->h;
    acc a;
    memset(&a, 0, sizeof a);
    a.h = h;
    a.p = dstest_json_num(c->truth, "pointer_size");
    assert_int_equal(h->ptr, a.p);
    for (int i = 0; i < 6; i++)
        a.mt[i] = dstest_json_hex(truth_type(c->truth, names[i]), "method_table");
    ds_clr_walk_stats ws;
    assert_int_equal(ds_clr_heap_walk(h, acc_cb, &a, NULL, NULL, &ws, &c->d->diags), DS_OK);
    assert_int_equal(ws.bad_total, 0);
    for (int i = 0; i < 6; i++) {
        const cJSON *t = truth_type(c->truth, names[i]);
        if (a.count[i] != dstest_json_num(t, "count") ||
            a.total[i] != dstest_json_num(t, "total_size"))
            fail_msg("%s: %s: count %" PRIu64 " total %" PRIu64 ", truth %" PRIu64 " / %" PRIu64,
                     c->fx->name, names[i], a.count[i], a.total[i], dstest_json_num(t, "count"),
                     dstest_json_num(t, "total_size"));
        const char *n = ds_clr_type_name(h, a.mt[i]);
        assert_non_null(n);
        assert_string_equal(n, type_names[i]);
    }
    /* the truth's Font count is 66,000 */
    assert_int_equal(a.count[0], 66000);
    ds_clr_walk_stats_free(&ws);
    return true;
}

static void test_truth_types(void **state)
{
    (void)state;
    dstest_clr_each(DSTEST_CLR_HEAP, truth_types_one, NULL);
}

/* The finalization queue of c's heap: read without error, one queue per GC heap. */
static void read_finq(dstest_clr *c, ds_clr_finq *q)
{
    assert_int_equal(ds_clr_finalize_queue(&c->h, q, &c->d->diags), DS_OK);
    assert_int_equal(q->nheaps, c->h.nheaps);
}

static bool finalization_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    ds_dump *d = c->d;
    ds_clr_heap *h = &c->h;
    const cJSON *truth = c->truth;
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(truth, "finalization");
    uint64_t pj_expected =
        dstest_json_num(fin, "expected_printjobs_in_ready_for_finalization_queue");
    uint64_t min_total = dstest_json_num(fin, "ready_queue_min_total");
    uint64_t pj_mt = dstest_json_hex(truth_type(truth, "DsLeak.PrintJob"), "method_table");
    uint64_t bm_mt = dstest_json_hex(truth_type(truth, "DsLeak.Bitmap"), "method_table");
    uint64_t blocker = dstest_json_hex(fin, "blocker_bitmap_address");
    ds_clr_finq q;
    read_finq(c, &q);
    for (size_t i = 0; i < q.nheaps; i++)
        assert_true(q.heaps[i].valid);
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
    assert_int_equal(bm_all, dstest_json_num(cJSON_GetObjectItemCaseSensitive(truth, "totals"),
                                             "bitmaps_in_list"));
    /* the blocker object is a valid DsLeak.Bitmap on the heap */
    uint64_t mt;
    assert_int_equal(ds_vmem_ptr_sized(&d->vm, blocker, h->ptr, &mt), DS_MEM_OK);
    assert_int_equal(mt, bm_mt);
    ds_clr_finq_free(&q);
    return true;
}

static void test_finalization(void **state)
{
    (void)state;
    dstest_clr_each(DSTEST_CLR_HEAP, finalization_one, NULL);
}

/* ---- the SOS oracle (Linux core) ---- */

/* An oracle check: fixture c against its text fixtures/data/<fixture without extension><ext>. */
typedef void (*oracle_fn)(dstest_clr *c, char *text);
typedef struct oracle {
    const char *ext;
    oracle_fn fn;
} oracle;

static bool oracle_one(dstest_clr *c, void *ctx)
{
    const oracle *o = ctx;
    const char *name = c->fx->name, *dot = strrchr(name, '.');
    char rel[256];
    assert_non_null(dot);
    snprintf(rel, sizeof rel, "fixtures/data/%.*s%s", (int)(dot - name), name, o->ext);
    char *text = dstest_source_text(rel);
    if (!text)
        return false;
    o->fn(c, text);
    free(text);
    return true;
}

/* Runs fn on the fixtures (opened with their heap; only the Linux cores with DSTEST_CLR_LINUX)
 * that have an oracle file <name><ext>; skips the test when none has. */
static void oracle_each(unsigned what, const char *ext, oracle_fn fn)
{
    oracle o = {ext, fn};
    dstest_clr_each(DSTEST_CLR_HEAP | what, oracle_one, &o);
}

/* SOS's eeheap -gc: "Number of GC Heaps", per heap ("Heap N (gc_heap)" on server GC) the
 * generation starts and the segment rows (SOH, then LOH), the per-heap and total sizes. */
static void sos_eeheap_one(dstest_clr *c, char *sos)
{
    ds_clr_heap *h = &c->h;
    assert_int_equal(h->rt.route, DS_CLR_ROUTE_SIGNATURE);
    char *e = strstr(sos, "(lldb) eeheap -gc");
    assert_non_null(e);
    char *end = strstr(e, "(lldb) dumpheap");
    assert_non_null(end);
    *end = 0;
    char *nh = strstr(e, "Number of GC Heaps: ");
    assert_non_null(nh);
    assert_int_equal(strtoull(nh + 20, NULL, 10), h->nheaps);
    size_t si = 0, heap = 0, gens = 0, sizes = 0;
    uint64_t heap_total = 0;
    for (char *line = strchr(e, '\n'); line; line = strchr(line + 1, '\n')) {
        unsigned long long seg, begin, alloc, v;
        unsigned g;
        const char *l = line + 1;
        if (sscanf(l, "Heap %zu (%llx)", &heap, &v) == 2) {
            assert_true(heap < h->nheaps);
            assert_int_equal(v, h->heaps[heap].addr);
            heap_total = 0;
        } else if (sscanf(l, "generation %u starts at 0x%llx", &g, &v) == 2) {
            assert_true(g < 3);
            assert_int_equal(v, h->heaps[heap].gen[g].allocation_start);
            gens++;
        } else if (sscanf(l, "Large object heap starts at 0x%llx", &v) == 1) {
            assert_int_equal(v, h->heaps[heap].gen[3].allocation_start);
        } else if (sscanf(l, "%llx %llx %llx 0x", &seg, &begin, &alloc) == 3) {
            /* segment rows in SOS order: per heap, SOH then LOH */
            assert_true(si < h->nsegs);
            assert_int_equal(h->segs[si].heap, heap);
            assert_int_equal(seg, h->segs[si].addr);
            assert_int_equal(begin, h->segs[si].mem);
            assert_int_equal(alloc, h->segs[si].walk_end);
            heap_total += alloc - begin;
            si++;
        } else if (sscanf(l, "Heap Size: Size: 0x%llx", &v) == 1 ||
                   sscanf(l, "Total Size: Size: 0x%llx", &v) == 1) {
            assert_int_equal(v, heap_total);
            sizes++;
        } else if (sscanf(l, "GC Heap Size: Size: 0x%llx", &v) == 1) {
            assert_int_equal(v, h->total_size);
            sizes++;
        }
    }
    assert_int_equal(si, h->nsegs);
    assert_int_equal(gens, 3 * h->nheaps);
    assert_int_equal(sizes, h->nheaps + 1);
}

static void test_sos_eeheap(void **state)
{
    (void)state;
    oracle_each(DSTEST_CLR_LINUX, ".sos.txt", sos_eeheap_one);
}

/* The whole dumpheap -stat table (Free row included) equals SOS's, row by row. */
static void sos_dumpheap_stat_one(dstest_clr *c, char *sos)
{
    ds_dump *d = c->d;
    ds_clr_heap *h = &c->h;
    ds_clr_stats s;
    ds_clr_walk_stats ws;
    assert_int_equal(ds_clr_dumpheap_stat(h, &s, &ws, NULL, NULL, &d->diags), DS_OK);
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
            fail_msg("%s row %zu: ours %" PRIx64 " %" PRIu64 " %" PRIu64 ", SOS %s", c->fx->name,
                     row, r->mt, r->count, r->total, line);
        if (!strcmp(name, "Free"))
            assert_true(r->free);
        else if (!strcmp(name, "UNKNOWN"))
            assert_null(r->name);
        else {
            if (!r->name || strcmp(r->name, name))
                fail_msg("%s row %zu: name '%s', SOS '%s'", c->fx->name, row,
                         r->name ? r->name : "(null)", name);
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
}

static void test_sos_dumpheap_stat(void **state)
{
    (void)state;
    oracle_each(DSTEST_CLR_LINUX, ".sos.txt", sos_dumpheap_stat_one);
}

/* Per-heap finalization queues against gdb's reading of the same core (fq-gdb.py: the CFinalize
 * from WKS::gc_heap::finalize_queue, or for server GC from SVR::gc_heap::g_heaps with the
 * CFinalize* member found by its shape, not by our dac_gc_heap offset): the gc_heap addresses,
 * the CFinalize address and the six segment counts of every heap. */
static void fq_gdb_one(dstest_clr *c, char *gdb)
{
    const ds_clr_heap *h = &c->h;
    ds_clr_finq q;
    read_finq(c, &q);
    size_t heap = 0, nseg = 0, ncf = 0;
    for (char *line = gdb; line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        unsigned long long v, lo, hi2, cnt;
        unsigned sg;
        const char *cf = strstr(line, "CFinalize @ 0x");
        char *nl = strchr(line, '\n');
        if (cf && (!nl || cf < nl)) {
            assert_true(ncf < q.nheaps);
            assert_int_equal(strtoull(cf + 14, NULL, 16), q.heaps[ncf].cfinalize);
            heap = ncf++;
        } else if (sscanf(line, "seg %u", &sg) == 1) {
            const char *br = strchr(line, '[');
            assert_non_null(br);
            assert_int_equal(sscanf(br, "[%llx, %llx) %llu objects", &lo, &hi2, &cnt), 3);
            assert_true(sg < DS_CLR_FQ_SEGS);
            assert_int_equal(hi2, q.heaps[heap].fp[sg]);
            assert_int_equal(cnt, q.heaps[heap].seg_count[sg]);
            nseg++;
        } else if (sscanf(line, "Heap %u: gc_heap @ 0x%llx", &sg, &v) == 2) {
            /* gdb's SVR::gc_heap::g_heaps[sg] */
            assert_true(sg < h->nheaps);
            assert_int_equal(v, h->heaps[sg].addr);
        } else if (sscanf(line, "SVR::gc_heap::n_heaps @ 0x%llx = %llu", &v, &cnt) == 2) {
            assert_int_equal(cnt, h->nheaps);
        }
    }
    assert_int_equal(ncf, q.nheaps);
    assert_int_equal(nseg, DS_CLR_FQ_SEGS * q.nheaps);
    ds_clr_finq_free(&q);
}

static void test_fq_gdb(void **state)
{
    (void)state;
    oracle_each(DSTEST_CLR_LINUX, ".fq-gdb.txt", fq_gdb_one);
}

/* Every CFinalize that verify-dotnet.py found by content (the block whose FP5 ends a run of
 * pointers to PrintJob objects; fixtures/data/<name>.verify.txt, no CLR layout involved) is the
 * queue of one of our heaps, with the same m_Array and the same ready count. */
static void verify_cfinalize_one(dstest_clr *c, char *txt)
{
    ds_clr_finq q;
    read_finq(c, &q);
    size_t found = 0;
    for (const char *p = strstr(txt, "CFinalize at 0x"); p; p = strstr(p + 1, "CFinalize at 0x")) {
        unsigned long long cf, arr, ready;
        assert_int_equal(sscanf(p, "CFinalize at 0x%llx: m_Array 0x%llx", &cf, &arr), 2);
        const char *r = strstr(p, "ready for finalization [FP3,FP5) = ");
        assert_non_null(r);
        ready = strtoull(r + strlen("ready for finalization [FP3,FP5) = "), NULL, 10);
        bool hit = false;
        for (size_t i = 0; i < q.nheaps; i++)
            if (q.heaps[i].cfinalize == cf) {
                assert_int_equal(q.heaps[i].array, arr);
                assert_int_equal(q.heaps[i].seg_count[4] + q.heaps[i].seg_count[5], ready);
                hit = true;
            }
        if (!hit)
            fail_msg("%s: CFinalize 0x%llx of verify.txt is not one of our heaps' queues",
                     c->fx->name, cf);
        found++;
    }
    assert_true(found >= 1 && found <= q.nheaps);
    ds_clr_finq_free(&q);
}

static void test_verify_cfinalize(void **state)
{
    (void)state;
    oracle_each(0, ".verify.txt", verify_cfinalize_one);
}

/* ---- corruption: a synthetic heap whose second object has a garbage MethodTable ---- */

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

/* A dump whose memory is mem (size bytes at base) and an x64 heap view of it without GC heaps or
 * segments; free with synth_free. */
static void synth_heap(uint8_t *mem, size_t size, uint64_t base, ds_dump *d, ds_clr_heap *h)
{
    memset(d, 0, sizeof *d);
    ds_vmem_init(&d->vm, mem, size, 8);
    assert_true(ds_vmem_add(&d->vm, base, size, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&d->vm);
    ds_diags_init(&d->diags);
    memset(h, 0, sizeof *h);
    h->dump = d;
    h->ptr = 8;
    h->min_obj = 24;
    h->priv = calloc(1, sizeof(clr_priv));
    assert_non_null(h->priv);
}

static void synth_free(ds_dump *d, ds_clr_heap *h)
{
    ds_clr_heap_close(h);
    ds_diags_free(&d->diags);
    ds_vmem_free(&d->vm);
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
    ds_clr_heap h;
    synth_heap(mem, sizeof mem, BASE, &d, &h);
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
    synth_free(&d, &h);
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
    ds_clr_heap h;
    synth_heap(mem, sizeof mem, BASE, &d, &h);
    assert_false(ds_clr_mt_check(&h, BASE, NULL, NULL, NULL));
    assert_int_equal(ds_clr_object_size(&h, BASE + 0x200, BASE, false), 0);
    synth_free(&d, &h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_mt_resync), cmocka_unit_test(test_parent_loop),
        cmocka_unit_test(test_truth_types),   cmocka_unit_test(test_finalization),
        cmocka_unit_test(test_sos_eeheap),    cmocka_unit_test(test_sos_dumpheap_stat),
        cmocka_unit_test(test_fq_gdb),        cmocka_unit_test(test_verify_cfinalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
