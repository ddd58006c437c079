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

static const char *const FIXTURES[] = {"dotnet-2.0-linux-x64.core",
                                       "dotnet-2.0-x64.dmp",
                                       "dotnet-2.2-x64.dmp",
                                       "dotnet-2.1-x86.dmp",
                                       "dotnet-2.0-linux-x64-svr.core",
                                       "dotnet-2.2-x64-svr.dmp",
                                       "dotnet-2.1-x86-svr.dmp",
                                       "dotnet-3.0-x64.dmp",
                                       "dotnet-3.1-x64.dmp",
                                       "dotnet-3.1-x86.dmp",
                                       "dotnet-3.1-linux-x64.core",
                                       "dotnet-3.1-linux-x64-svr.core",
                                       "dotnet-3.1-x64-svr.dmp"};
#define NFIX (sizeof FIXTURES / sizeof FIXTURES[0])
/* the Linux cores with a gdb queue dump (.fq-gdb.txt) and, for the 2.x ones, an SOS oracle
 * (.sos.txt; the 3.x packages ship no SOS, so the SOS tests pass over the 3.1 cores) */
static const char *const ORACLE[] = {"dotnet-2.0-linux-x64", "dotnet-2.0-linux-x64-svr",
                                     "dotnet-3.1-linux-x64", "dotnet-3.1-linux-x64-svr"};
#define NORACLE (sizeof ORACLE / sizeof ORACLE[0])

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
    /* the GC mode the scenario process reported (GCSettings.IsServerGC); server GC has one heap
     * per processor (Environment.ProcessorCount), workstation GC one */
    const cJSON *rtj = cJSON_GetObjectItemCaseSensitive(*truth, "runtime");
    const cJSON *svr = cJSON_GetObjectItemCaseSensitive(rtj, "server_gc");
    assert_true(cJSON_IsBool(svr));
    assert_int_equal(h->rt.server, cJSON_IsTrue(svr));
    assert_int_equal(h->nheaps, cJSON_IsTrue(svr) ? num(rtj, "processor_count") : 1);
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
        assert_int_equal(q.nheaps, h.nheaps);
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

static char *data_text(const char *name, const char *ext)
{
    const char *src = getenv("DS_SOURCE_DIR");
    char p[4096];
    if (!src)
        return NULL;
    snprintf(p, sizeof p, "%s/fixtures/data/%s%s", src, name, ext);
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

/* Opens oracle fixture i with its SOS text; false (nothing to free) when absent. */
static bool open_oracle(size_t i, const char *ext, char **text, ds_dump **d, ds_clr_heap *h,
                        cJSON **truth)
{
    char core[128];
    snprintf(core, sizeof core, "%s.core", ORACLE[i]);
    *text = data_text(ORACLE[i], ext);
    if (!*text)
        return false;
    if (!open_fixture(core, d, h, truth)) {
        free(*text);
        return false;
    }
    return true;
}

static void close_oracle(char *text, ds_dump *d, ds_clr_heap *h, cJSON *truth)
{
    ds_clr_heap_close(h);
    ds_dump_close(d);
    cJSON_Delete(truth);
    free(text);
}

/* SOS's eeheap -gc: "Number of GC Heaps", per heap ("Heap N (gc_heap)" on server GC) the
 * generation starts and the segment rows (SOH, then LOH), the per-heap and total sizes. */
static void test_sos_eeheap(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t fi = 0; fi < NORACLE; fi++) {
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        char *sos;
        if (!open_oracle(fi, ".sos.txt", &sos, &d, &h, &truth))
            continue;
        ran++;
        assert_int_equal(h.rt.route, DS_CLR_ROUTE_SIGNATURE);
        char *e = strstr(sos, "(lldb) eeheap -gc");
        assert_non_null(e);
        char *end = strstr(e, "(lldb) dumpheap");
        assert_non_null(end);
        *end = 0;
        char *nh = strstr(e, "Number of GC Heaps: ");
        assert_non_null(nh);
        assert_int_equal(strtoull(nh + 20, NULL, 10), h.nheaps);
        size_t si = 0, heap = 0, gens = 0, sizes = 0;
        uint64_t heap_total = 0;
        for (char *line = strchr(e, '\n'); line; line = strchr(line + 1, '\n')) {
            unsigned long long seg, begin, alloc, v;
            unsigned g;
            const char *l = line + 1;
            if (sscanf(l, "Heap %zu (%llx)", &heap, &v) == 2) {
                assert_true(heap < h.nheaps);
                assert_int_equal(v, h.heaps[heap].addr);
                heap_total = 0;
            } else if (sscanf(l, "generation %u starts at 0x%llx", &g, &v) == 2) {
                assert_true(g < 3);
                assert_int_equal(v, h.heaps[heap].gen[g].allocation_start);
                gens++;
            } else if (sscanf(l, "Large object heap starts at 0x%llx", &v) == 1) {
                assert_int_equal(v, h.heaps[heap].gen[3].allocation_start);
            } else if (sscanf(l, "%llx %llx %llx 0x", &seg, &begin, &alloc) == 3) {
                /* segment rows in SOS order: per heap, SOH then LOH */
                assert_true(si < h.nsegs);
                assert_int_equal(h.segs[si].heap, heap);
                assert_int_equal(seg, h.segs[si].addr);
                assert_int_equal(begin, h.segs[si].mem);
                assert_int_equal(alloc, h.segs[si].walk_end);
                heap_total += alloc - begin;
                si++;
            } else if (sscanf(l, "Heap Size: Size: 0x%llx", &v) == 1 ||
                       sscanf(l, "Total Size: Size: 0x%llx", &v) == 1) {
                assert_int_equal(v, heap_total);
                sizes++;
            } else if (sscanf(l, "GC Heap Size: Size: 0x%llx", &v) == 1) {
                assert_int_equal(v, h.total_size);
                sizes++;
            }
        }
        assert_int_equal(si, h.nsegs);
        assert_int_equal(gens, 3 * h.nheaps);
        assert_int_equal(sizes, h.nheaps + 1);
        close_oracle(sos, d, &h, truth);
    }
    if (!ran)
        skip();
}

/* The whole dumpheap -stat table (Free row included) equals SOS's, row by row. */
static void test_sos_dumpheap_stat(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t fi = 0; fi < NORACLE; fi++) {
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        char *sos;
        if (!open_oracle(fi, ".sos.txt", &sos, &d, &h, &truth))
            continue;
        ran++;
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
                fail_msg("%s row %zu: ours %" PRIx64 " %" PRIu64 " %" PRIu64 ", SOS %s", ORACLE[fi],
                         row, r->mt, r->count, r->total, line);
            if (!strcmp(name, "Free"))
                assert_true(r->free);
            else if (!strcmp(name, "UNKNOWN"))
                assert_null(r->name);
            else {
                if (!r->name || strcmp(r->name, name))
                    fail_msg("%s row %zu: name '%s', SOS '%s'", ORACLE[fi], row,
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
        close_oracle(sos, d, &h, truth);
    }
    if (!ran)
        skip();
}

/* Per-heap finalization queues against gdb's reading of the same core (fq-gdb.py: the CFinalize
 * from WKS::gc_heap::finalize_queue, or for server GC from SVR::gc_heap::g_heaps with the
 * CFinalize* member found by its shape, not by our dac_gc_heap offset): the gc_heap addresses,
 * the CFinalize address and the six segment counts of every heap. */
static void test_fq_gdb(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t fi = 0; fi < NORACLE; fi++) {
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        char *gdb;
        if (!open_oracle(fi, ".fq-gdb.txt", &gdb, &d, &h, &truth))
            continue;
        ran++;
        ds_clr_finq q;
        assert_int_equal(ds_clr_finalize_queue(&h, &q, &d->diags), DS_OK);
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
                assert_true(sg < h.nheaps);
                assert_int_equal(v, h.heaps[sg].addr);
            } else if (sscanf(line, "SVR::gc_heap::n_heaps @ 0x%llx = %llu", &v, &cnt) == 2) {
                assert_int_equal(cnt, h.nheaps);
            }
        }
        assert_int_equal(ncf, q.nheaps);
        assert_int_equal(nseg, DS_CLR_FQ_SEGS * q.nheaps);
        ds_clr_finq_free(&q);
        close_oracle(gdb, d, &h, truth);
    }
    if (!ran)
        skip();
}

/* Every CFinalize that verify-dotnet.py found by content (the block whose FP5 ends a run of
 * pointers to PrintJob objects; fixtures/data/<name>.verify.txt, no CLR layout involved) is the
 * queue of one of our heaps, with the same m_Array and the same ready count. */
static void test_verify_cfinalize(void **state)
{
    (void)state;
    int ran = 0;
    for (size_t f = 0; f < NFIX; f++) {
        char base[128];
        snprintf(base, sizeof base, "%s", FIXTURES[f]);
        char *dot = strrchr(base, '.');
        assert_non_null(dot);
        *dot = 0;
        char *txt = data_text(base, ".verify.txt");
        ds_dump *d;
        ds_clr_heap h;
        cJSON *truth;
        if (!txt)
            continue;
        if (!open_fixture(FIXTURES[f], &d, &h, &truth)) {
            free(txt);
            continue;
        }
        ran++;
        ds_clr_finq q;
        assert_int_equal(ds_clr_finalize_queue(&h, &q, &d->diags), DS_OK);
        size_t found = 0;
        for (const char *p = strstr(txt, "CFinalize at 0x"); p;
             p = strstr(p + 1, "CFinalize at 0x")) {
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
                         FIXTURES[f], cf);
            found++;
        }
        assert_true(found >= 1 && found <= q.nheaps);
        ds_clr_finq_free(&q);
        ds_clr_heap_close(&h);
        ds_dump_close(d);
        cJSON_Delete(truth);
        free(txt);
    }
    if (!ran)
        skip();
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
        cmocka_unit_test(test_fq_gdb),        cmocka_unit_test(test_verify_cfinalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
