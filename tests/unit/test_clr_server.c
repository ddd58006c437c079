/* Server GC on a synthetic image: the structure (n_heaps, g_heaps, gc_heap fields at the
 * dac_gc_heap offsets of gcinterface.dac.h, generation table at 42 words + 4 rounded up = 0x158 on
 * x64) and hostile variants of it (absurd n_heaps, an unreadable gc_heap, a segment chain that runs
 * into another heap's segments, a segment naming another gc_heap): refused or reported, never a
 * crash or a loop. The real-dump checks (SOS, gdb, truth) are in test_clr.c; the offsets here are
 * the public source's, written out independently of src/clr. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"
#include "dumpsleuth/clr.h"

#define BASE 0x10000000ull
#define SIZE 0x10000u
#define GENSIZE 0xF0u
#define GEN_TABLE 0x158u /* x64 dac_gc_heap::generation_table */
#define HEAP0 0x1000u
#define HEAP1 0x2000u

static uint8_t img[SIZE];

static void put64(uint32_t off, uint64_t v)
{
    memcpy(img + off, &v, 8);
}

/* heap_segment at off: allocated, committed, reserved, used, mem, flags, next, bg_allocated, heap;
 * empty (allocated == mem) */
static void segment(uint32_t off, uint64_t next, uint32_t heap)
{
    uint64_t a = BASE + off, mem = a + 0x100;
    put64(off + 0x00, mem);
    put64(off + 0x08, mem + 0x1000);
    put64(off + 0x10, mem + 0x100000);
    put64(off + 0x18, mem);
    put64(off + 0x20, mem);
    put64(off + 0x28, 0);
    put64(off + 0x30, next);
    put64(off + 0x40, BASE + heap);
}

/* gc_heap at off: alloc_allocated, ephemeral_heap_segment, finalize_queue; gen2 -> soh, gen3 ->
 * loh; CFinalize (empty) at cf */
static void gc_heap(uint32_t off, uint32_t soh, uint32_t loh, uint32_t cf)
{
    put64(off + 0x00, BASE + soh + 0x100);
    put64(off + 0x08, BASE + soh);
    put64(off + 0x10, BASE + cf);
    for (unsigned g = 0; g < 4; g++) {
        uint32_t e = off + GEN_TABLE + g * GENSIZE;
        uint32_t seg = g == 3 ? loh : soh;
        put64(e + 56, BASE + seg);         /* start_segment, after the 56-byte alloc context */
        put64(e + 64, BASE + seg + 0x100); /* allocation_start */
    }
    for (unsigned i = 0; i < 6; i++)
        put64(cf + 8 * i, BASE + 0x9000);
    put64(cf + 0x30, BASE + 0x9000);
    put64(cf + 0x38, BASE + 0x9100);
}

static void build(void)
{
    memset(img, 0, sizeof img);
    /* GcDacVars v1.0: {1, 0}, generation_size, then one pointer per variable */
    img[0] = 1;
    put64(0x08, GENSIZE);
    put64(0x10 + 8 * 0, BASE + 0x400);  /* build_variant */
    put64(0x10 + 8 * 1, BASE + 0x408);  /* built_with_svr */
    put64(0x10 + 8 * 4, BASE + 0x410);  /* max_gen */
    put64(0x10 + 8 * 19, BASE + 0x418); /* n_heaps */
    put64(0x10 + 8 * 20, BASE + 0x420); /* g_heaps */
    img[0x408] = 1;
    put64(0x410, 2);
    put64(0x418, 2);
    put64(0x420, BASE + 0x430);
    put64(0x430, BASE + HEAP0);
    put64(0x438, BASE + HEAP1);
    gc_heap(HEAP0, 0x4000, 0x5000, 0x8000);
    gc_heap(HEAP1, 0x6000, 0x7000, 0x8100);
    segment(0x4000, 0, HEAP0);
    segment(0x5000, 0, HEAP0);
    segment(0x6000, 0, HEAP1);
    segment(0x7000, 0, HEAP1);
}

typedef struct fake {
    ds_dump d;
    ds_module m;
    char path[64];
} fake;

static void fake_open(fake *f)
{
    memset(f, 0, sizeof *f);
    ds_vmem_init(&f->d.vm, img, sizeof img, 8);
    assert_true(ds_vmem_add(&f->d.vm, BASE, SIZE, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&f->d.vm);
    ds_diags_init(&f->d.diags);
    f->d.sys.ptr_size = 8;
    snprintf(f->path, sizeof f->path, "/x/Microsoft.NETCore.App/2.1.0/libcoreclr.so");
    f->m.base = BASE;
    f->m.size = SIZE;
    f->m.path = f->path;
    f->m.name = strrchr(f->path, '/') + 1;
    f->d.modules = &f->m;
    f->d.nmodules = 1;
}

static void fake_close(fake *f)
{
    ds_diags_free(&f->d.diags);
    ds_vmem_free(&f->d.vm);
}

static void test_two_heaps(void **state)
{
    (void)state;
    build();
    fake f;
    fake_open(&f);
    ds_clr_heap h;
    assert_int_equal(ds_clr_heap_open(&f.d, NULL, &h, &f.d.diags), DS_OK);
    assert_true(h.rt.server);
    assert_int_equal(h.nheaps, 2);
    assert_int_equal(h.heaps[0].addr, BASE + HEAP0);
    assert_int_equal(h.heaps[1].addr, BASE + HEAP1);
    assert_int_equal(h.heaps[1].finalize_queue, BASE + 0x8100);
    assert_int_equal(h.heaps[1].gen[2].allocation_start, BASE + 0x6100);
    assert_int_equal(h.nsegs, 4);
    static const uint32_t order[4] = {0x4000, 0x5000, 0x6000, 0x7000};
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(h.segs[i].addr, BASE + order[i]);
        assert_int_equal(h.segs[i].heap, i / 2);
        assert_int_equal(h.segs[i].kind, i % 2 ? DS_CLR_SEG_LOH : DS_CLR_SEG_SOH);
        assert_int_equal(h.segs[i].ephemeral, i % 2 == 0);
    }
    assert_int_equal(ds_diags_count(&f.d.diags, DS_SEV_WARNING), 0);
    ds_clr_finq q;
    assert_int_equal(ds_clr_finalize_queue(&h, &q, &f.d.diags), DS_OK);
    assert_int_equal(q.nheaps, 2);
    assert_true(q.heaps[0].valid && q.heaps[1].valid);
    assert_int_equal(q.heaps[1].cfinalize, BASE + 0x8100);
    ds_clr_finq_free(&q);
    ds_clr_heap_close(&h);
    fake_close(&f);
}

static void test_absurd_n_heaps(void **state)
{
    (void)state;
    static const uint64_t bad[] = {0, 0x7fffffff, 0xffffffff, 100000};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build();
        put64(0x418, bad[i]);
        fake f;
        fake_open(&f);
        ds_clr_heap h;
        assert_int_equal(ds_clr_heap_open(&f.d, NULL, &h, &f.d.diags), DS_E_PARTIAL);
        assert_int_equal(h.nsegs, 0);
        assert_true(ds_diags_count(&f.d.diags, DS_SEV_ERROR) >= 1);
        ds_clr_heap_close(&h);
        fake_close(&f);
    }
}

static void test_unreadable_heap(void **state)
{
    (void)state;
    build();
    put64(0x438, 0x7000000000ull); /* g_heaps[1] outside the dump */
    fake f;
    fake_open(&f);
    ds_clr_heap h;
    assert_int_equal(ds_clr_heap_open(&f.d, NULL, &h, &f.d.diags), DS_E_PARTIAL);
    /* heap 0 is still read; heap 1 is kept empty and reported */
    assert_int_equal(h.nheaps, 2);
    assert_int_equal(h.heaps[1].ngen, 0);
    assert_int_equal(h.nsegs, 2);
    assert_int_equal(h.segs[0].addr, BASE + 0x4000);
    assert_int_equal(h.segs[1].addr, BASE + 0x5000);
    assert_true(ds_diags_count(&f.d.diags, DS_SEV_WARNING) >= 1);
    ds_clr_finq q;
    assert_int_equal(ds_clr_finalize_queue(&h, &q, &f.d.diags), DS_E_PARTIAL);
    assert_true(q.heaps[0].valid);
    assert_false(q.heaps[1].valid);
    ds_clr_finq_free(&q);
    ds_clr_heap_close(&h);
    fake_close(&f);
    /* no heap readable at all: refused */
    build();
    put64(0x430, 0x7000000000ull);
    put64(0x438, 0x7000000000ull);
    fake_open(&f);
    assert_int_equal(ds_clr_heap_open(&f.d, NULL, &h, &f.d.diags), DS_E_PARTIAL);
    assert_int_equal(h.nsegs, 0);
    assert_true(ds_diags_count(&f.d.diags, DS_SEV_ERROR) >= 1);
    ds_clr_heap_close(&h);
    fake_close(&f);
}

static void test_chain_into_other_heap(void **state)
{
    (void)state;
    build();
    put64(0x6000 + 0x30, BASE + 0x4000); /* heap 1's SOH segment -> heap 0's */
    put64(0x4000 + 0x40, BASE + HEAP1);  /* and heap 0's segment names heap 1 */
    fake f;
    fake_open(&f);
    ds_clr_heap h;
    assert_int_equal(ds_clr_heap_open(&f.d, NULL, &h, &f.d.diags), DS_E_PARTIAL);
    assert_int_equal(h.nsegs, 4); /* the shared segment is not listed twice */
    assert_true(ds_diags_count(&f.d.diags, DS_SEV_WARNING) >= 2);
    ds_clr_stats s;
    ds_clr_walk_stats ws;
    ds_clr_dumpheap_stat(&h, &s, &ws, NULL, NULL, &f.d.diags);
    assert_int_equal(s.objects, 0);
    ds_clr_stats_free(&s);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_close(&h);
    fake_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_heaps),
        cmocka_unit_test(test_absurd_n_heaps),
        cmocka_unit_test(test_unreadable_heap),
        cmocka_unit_test(test_chain_into_other_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
