/* Tests of clrthreads (src/clr/threads.c) on the .NET fixtures.
 *
 * Expected values come from the fixtures' truth files (threads.main/finalizer/spooler: managed
 * and OS thread ids, written by the scenario process) and, for the Linux core, from SOS's
 * clrthreads output (fixtures/data/dotnet-2.0-linux-x64.sos.txt, parsed here) - never from our
 * own output. Tests skip when a fixture is absent. */
#include "dstest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/clr.h"

static const ds_clr_thread *by_managed_id(const ds_clr_threads *t, uint32_t id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].managed_id == id)
            return &t->v[i];
    return NULL;
}

static bool truth_threads_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    ds_dump *d = c->d;
    const ds_clr_threads *t = &c->t;
    const cJSON *truth = c->truth;
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(truth, "threads");
    assert_non_null(th);
    static const char *const roles[] = {"main", "finalizer", "spooler"};
    for (size_t r = 0; r < 3; r++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(th, roles[r]);
        assert_non_null(o);
        uint32_t mid =
            (uint32_t)cJSON_GetObjectItemCaseSensitive(o, "managed_thread_id")->valuedouble;
        uint32_t osid = (uint32_t)cJSON_GetObjectItemCaseSensitive(o, "os_thread_id")->valuedouble;
        const ds_clr_thread *x = by_managed_id(t, mid);
        if (!x)
            fail_msg("%s: no managed thread %u (%s)", c->fx->name, mid, roles[r]);
        assert_int_equal(x->os_id, osid);
        assert_true(x->dbg_index >= 0);
        assert_int_equal(d->threads[x->dbg_index].tid, osid);
        assert_int_equal(x->finalizer, r == 1);
    }
    const ds_clr_thread *fin = ds_clr_threads_finalizer(t);
    assert_non_null(fin);
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(th, "finalizer");
    assert_int_equal(
        fin->managed_id,
        (uint32_t)cJSON_GetObjectItemCaseSensitive(fo, "managed_thread_id")->valuedouble);
    /* exactly one finalizer; the count agrees with the list */
    size_t nf = 0;
    for (size_t i = 0; i < t->n; i++)
        nf += t->v[i].finalizer;
    assert_int_equal(nf, 1);
    assert_int_equal((size_t)t->thread_count, t->n);
    assert_false(t->truncated);
    return true;
}

static void test_truth_threads(void **state)
{
    (void)state;
    dstest_clr_each(DSTEST_CLR_THREADS, truth_threads_one, NULL);
}

/* Allocation contexts (builds whose m_alloc_context offset is in the layout): every non-empty
 * context lies inside one GC heap's ephemeral segment [mem, alloc_allocated] (workstation GC: the
 * one heap; server GC: the heap the context belongs to), and the one thread that allocated last
 * (the truth's main thread, which wrote the truth file) has alloc_limit + Align(min_obj_size) ==
 * that heap's alloc_allocated, the GC's own rule (gc.cpp adjust_limit_clr: alloc_limit = start +
 * limit_size - aligned_min_obj_size). Independent of our offsets: both numbers come from the GC
 * (GcDacVars alloc_allocated, or the gc_heap) and the Thread. */
static bool alloc_context_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    const ds_clr_threads *t = &c->t;
    const ds_clr_heap *h = &c->h;
    bool any = false;
    for (size_t i = 0; i < t->n; i++)
        any |= t->v[i].has_alloc;
    if (!any)
        return false;
    uint64_t min_obj = 3ull * h->ptr; /* already aligned to the pointer size */
    uint32_t main_id = (uint32_t)cJSON_GetObjectItemCaseSensitive(
                           cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(c->truth, "threads"), "main"),
                           "managed_thread_id")
                           ->valuedouble;
    size_t last = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ds_clr_thread *x = &t->v[i];
        assert_true(x->has_alloc);
        if (!x->alloc_ptr && !x->alloc_limit)
            continue;
        const ds_clr_gcheap *g = NULL;
        for (size_t hi = 0; hi < h->nheaps && !g; hi++)
            for (size_t k = 0; k < h->nsegs; k++)
                if (h->segs[k].addr == h->heaps[hi].ephemeral_segment &&
                    h->segs[k].mem <= x->alloc_ptr && x->alloc_ptr <= x->alloc_limit &&
                    x->alloc_limit <= h->heaps[hi].alloc_allocated)
                    g = &h->heaps[hi];
        if (!g)
            fail_msg("%s: thread %u alloc context %llx:%llx in no heap's ephemeral "
                     "segment [mem, alloc_allocated]",
                     c->fx->name, x->managed_id, (unsigned long long)x->alloc_ptr,
                     (unsigned long long)x->alloc_limit);
        if (x->alloc_limit + min_obj == g->alloc_allocated) {
            last++;
            assert_int_equal(x->managed_id, main_id);
        }
    }
    if (last != 1)
        fail_msg("%s: %zu threads end at alloc_allocated", c->fx->name, last);
    return true;
}

static void test_alloc_context(void **state)
{
    (void)state;
    dstest_clr_each(DSTEST_CLR_THREADS | DSTEST_CLR_HEAP, alloc_context_one, NULL);
}

static long sos_count(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    assert_non_null(p);
    return strtol(p + strlen(key), NULL, 10);
}

/* The clrthreads block of the SOS oracle against ours: counts, then per row ID, OSID,
 * ThreadOBJ, State, GC mode, alloc context, domain, lock count, Apt and (Finalizer). */
static void test_sos_clrthreads(void **state)
{
    (void)state;
    dstest_clr c;
    char *sos = dstest_source_text("fixtures/data/dotnet-2.0-linux-x64.sos.txt");
    if (!sos || !dstest_clr_open(dstest_dotnet_named("dotnet-2.0-linux-x64.core"),
                                 DSTEST_CLR_THREADS, &c)) {
        free(sos);
        skip();
        return;
    }
    const ds_clr_threads *t = &c.t;
    const char *blk = strstr(sos, "(lldb) clrthreads");
    assert_non_null(blk);
    const char *end = strstr(blk + 1, "(lldb)");
    assert_int_equal(sos_count(blk, "ThreadCount:"), t->thread_count);
    assert_int_equal(sos_count(blk, "UnstartedThread:"), t->unstarted);
    assert_int_equal(sos_count(blk, "BackgroundThread:"), t->background);
    assert_int_equal(sos_count(blk, "PendingThread:"), t->pending);
    assert_int_equal(sos_count(blk, "DeadThread:"), t->dead);
    const char *p = strstr(blk, "Exception\n");
    assert_non_null(p);
    p = strchr(p, '\n') + 1;
    size_t rows = 0;
    while (p < end && *p == ' ') {
        unsigned dbg, id, osid, st, lock;
        unsigned long long obj, ap, al, dom;
        char mode[16], apt[8];
        int n = sscanf(p, "%u %u %x %llx %x %15s %llx:%llx %llx %u %7s", &dbg, &id, &osid, &obj,
                       &st, mode, &ap, &al, &dom, &lock, apt);
        assert_int_equal(n, 11);
        const ds_clr_thread *x = by_managed_id(t, id);
        assert_non_null(x);
        assert_int_equal(x->os_id, osid);
        assert_int_equal(x->addr, obj);
        assert_int_equal(x->state, st);
        assert_string_equal(x->cooperative ? "Cooperative" : "Preemptive", mode);
        assert_true(x->has_alloc);
        assert_int_equal(x->alloc_ptr, ap);
        assert_int_equal(x->alloc_limit, al);
        assert_int_equal(x->domain, dom);
        assert_int_equal(x->lock_count, lock);
        assert_string_equal(ds_clr_thread_apartment(x->state), apt);
        const char *nl = strchr(p, '\n');
        bool sos_fin = memmem(p, (size_t)(nl - p), "(Finalizer)", 11) != NULL;
        assert_int_equal(x->finalizer, sos_fin);
        rows++;
        p = nl + 1;
    }
    assert_int_equal(rows, t->n);
    dstest_clr_close(&c);
    free(sos);
}

/* A build without verified offsets is refused, not guessed. */
static void test_unverified_refused(void **state)
{
    (void)state;
    ds_clr_runtime rt;
    ds_clr_threads t;
    ds_dump *d = dstest_open_dump("dotnet-2.0-x64.dmp");
    if (!d) {
        skip();
        return;
    }
    assert_int_equal(ds_clr_runtime_find(d, NULL, &rt, &d->diags), DS_OK);
    snprintf(rt.version, sizeof rt.version, "4.6.99999.0");
    ds_diags dg;
    ds_diags_init(&dg);
    assert_int_equal(ds_clr_threads_read(d, &rt, &t, &dg), DS_E_UNSUPPORTED);
    assert_int_equal(t.n, 0);
    ds_clr_threads_free(&t);
    ds_diags_free(&dg);
    ds_dump_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truth_threads),
        cmocka_unit_test(test_alloc_context),
        cmocka_unit_test(test_sos_clrthreads),
        cmocka_unit_test(test_unverified_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
