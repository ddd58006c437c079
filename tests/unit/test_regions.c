/* Region classifier on a hand-built x64 process image: every expected class follows from how the
 * test lays out the regions, TEBs, PEB and heap (the layout offsets are those of nt-heap.md §1-2).
 */
#include "dstest.h"

#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

#define MEM_SIZE 0x40000
static uint8_t mem[MEM_SIZE]; /* backs VA 0x100000.. */
#define VA(o) (0x100000ull + (o))

static void put64(uint64_t va, uint64_t v)
{
    memcpy(&mem[va - 0x100000], &v, 8);
}
static void put32(uint64_t va, uint32_t v)
{
    memcpy(&mem[va - 0x100000], &v, 4);
}

static ds_region R(uint64_t base, uint64_t size, uint64_t ab, uint32_t state, uint32_t type,
                   uint32_t prot)
{
    ds_region r;
    memset(&r, 0, sizeof r);
    r.base = base;
    r.size = size;
    r.alloc_base = ab;
    r.state = state;
    r.type = type;
    r.protect = prot;
    r.file = -1;
    return r;
}

static ds_dump *make_dump(void)
{
    ds_dump *d = calloc(1, sizeof *d);
    d->sys.os = DS_OS_WINDOWS;
    d->sys.arch = DS_ARCH_AMD64;
    d->sys.ptr_size = 8;
    d->sys.os_major = 10;
    d->sys.os_build = 19041;
    /* layout inside the captured block:
     *   0x00000 PEB (1 page) ; 0x02000 TEB thread 0 (2 pages) ; 0x04000 TEB thread 1 (2 pages)
     *   0x10000 heap (segment 0) 0x10000 committed + 0x10000 reserved
     *   0x30000 other private data (unknown) */
    uint64_t peb = VA(0), teb0 = VA(0x2000), teb1 = VA(0x4000), heap = VA(0x10000);
    put64(peb + 0x30, heap);      /* ProcessHeap */
    put32(peb + 0xe8, 1);         /* NumberOfHeaps */
    put64(peb + 0xf0, VA(0x800)); /* ProcessHeaps array */
    put64(VA(0x800), heap);
    put64(peb + 0xa0, VA(0x30000)); /* AnsiCodePageData -> "Other" (NLS) */
    /* stacks: thread 0 at 0x200000 (reserve 0x200000..0x2fd000, guard, commit), thread 1 none */
    put64(teb0 + 8, 0x300000);  /* StackBase */
    put64(teb0 + 16, 0x2fe000); /* StackLimit */
    /* heap: W8+ x64 layout: SegmentSignature +0x10, Signature +0x98, SegmentList +0x120 */
    put32(heap + 0x10, 0xffeeffee);
    put32(heap + 0x98, 0xeeffeeff);
    put64(heap + 0x120, heap + 0x120); /* empty segment list (heap is segment 0) */
    put64(heap + 0x128, heap + 0x120);
    put64(heap + 0x110, heap + 0x110); /* empty VirtualAllocdBlocks */
    put64(heap + 0x118, heap + 0x110);

    static ds_region regs[16];
    size_t n = 0;
    regs[n++] = R(0x10000, 0xf0000, 0, DS_MEM_FREE, 0, 1);
    regs[n++] =
        R(VA(0), 0x6000, VA(0), DS_MEM_COMMIT, DS_MEM_PRIVATE, 4); /* PEB+TEBs: one region */
    regs[n++] = R(VA(0x6000), 0xa000, 0, DS_MEM_FREE, 0, 1);
    regs[n++] = R(VA(0x10000), 0x10000, VA(0x10000), DS_MEM_COMMIT, DS_MEM_PRIVATE, 4);
    regs[n++] = R(VA(0x20000), 0x10000, VA(0x10000), DS_MEM_RESERVE, DS_MEM_PRIVATE, 0);
    regs[n++] = R(VA(0x30000), 0x10000, VA(0x30000), DS_MEM_COMMIT, DS_MEM_PRIVATE, 2);
    regs[n++] = R(0x140000, 0xc0000, 0, DS_MEM_FREE, 0, 1);
    regs[n++] = R(0x200000, 0xfd000, 0x200000, DS_MEM_RESERVE, DS_MEM_PRIVATE, 0);
    regs[n++] = R(0x2fd000, 0x1000, 0x200000, DS_MEM_COMMIT, DS_MEM_PRIVATE, 0x104);
    regs[n++] = R(0x2fe000, 0x2000, 0x200000, DS_MEM_COMMIT, DS_MEM_PRIVATE, 4);
    regs[n++] = R(0x400000, 0x20000, 0x400000, DS_MEM_COMMIT, DS_MEM_PRIVATE, 4); /* unknown */
    regs[n++] = R(0x420000, 0x20000, 0x420000, DS_MEM_COMMIT, DS_MEM_PRIVATE, 4); /* unknown */
    regs[n++] = R(0x440000, 0x1000, 0x440000, DS_MEM_COMMIT, DS_MEM_IMAGE, 2);    /* image */
    d->regions = regs;
    d->nregions = n;
    d->has_region_table = true;
    static ds_thread th[2];
    memset(th, 0, sizeof th);
    th[0].tid = 100;
    th[0].teb = teb0;
    th[1].tid = 101;
    th[1].teb = teb1;
    d->threads = th;
    d->nthreads = 2;
    d->peb = peb;
    ds_vmem_init(&d->vm, mem, sizeof mem, 8);
    ds_vmem_add(&d->vm, VA(0), MEM_SIZE, DS_RANGE_DATA, 0, 0);
    ds_vmem_finish(&d->vm);
    d->vm.has_map_info = true;
    return d;
}

static const ds_class_region *at(const ds_region_map *m, uint64_t va)
{
    for (size_t i = 0; i < m->n; i++)
        if (va >= m->v[i].base && va - m->v[i].base < m->v[i].size)
            return &m->v[i];
    return NULL;
}

static void test_classes(void **state)
{
    (void)state;
    ds_dump *d = make_dump();
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, NULL), DS_OK);
    /* the PEB+TEB region is cut into PEB, <unknown> gap, TEB, TEB */
    assert_int_equal(at(&m, VA(0))->usage, DS_USE_PEB);
    assert_int_equal(at(&m, VA(0))->size, 0x1000);
    assert_int_equal(at(&m, VA(0x1000))->usage, DS_USE_UNKNOWN);
    assert_int_equal(at(&m, VA(0x2000))->usage, DS_USE_TEB);
    assert_int_equal(at(&m, VA(0x2000))->detail, 0);
    assert_int_equal(at(&m, VA(0x4000))->usage, DS_USE_TEB);
    assert_int_equal(at(&m, VA(0x4000))->detail, 1);
    /* heap: committed and reserved parts of the heap's allocation */
    assert_int_equal(at(&m, VA(0x10000))->usage, DS_USE_HEAP);
    assert_int_equal(at(&m, VA(0x20000))->usage, DS_USE_HEAP);
    assert_int_equal(at(&m, VA(0x20000))->detail, VA(0x10000));
    /* NLS table pointed to by the PEB */
    assert_int_equal(at(&m, VA(0x30000))->usage, DS_USE_OTHER);
    assert_string_equal(ds_class_label(&m, at(&m, VA(0x30000))), "NLS tables");
    /* stack: reserve, guard and commit parts */
    assert_int_equal(at(&m, 0x200000)->usage, DS_USE_STACK);
    assert_int_equal(at(&m, 0x2fd000)->usage, DS_USE_STACK);
    assert_int_equal(at(&m, 0x2fe000)->usage, DS_USE_STACK);
    assert_true(at(&m, 0x200000)->new_alloc);
    assert_false(at(&m, 0x2fd000)->new_alloc);
    assert_int_equal(at(&m, 0x400000)->usage, DS_USE_UNKNOWN);
    assert_int_equal(at(&m, 0x440000)->usage, DS_USE_IMAGE);

    ds_region_summary s;
    assert_int_equal(ds_regions_summarize(d, &m, &s), DS_OK);
    uint64_t sum = 0, busy = 0;
    for (size_t i = 0; i < s.nusage; i++) {
        sum += s.usage[i].size;
        if (s.usage[i].usage != DS_USE_FREE)
            busy += s.usage[i].size;
        if (i)
            assert_true(s.usage[i - 1].size >= s.usage[i].size);
    }
    assert_int_equal(sum, s.total);
    assert_int_equal(busy, s.busy);
    /* state totals partition the total */
    assert_int_equal(s.state[0].size + s.state[1].size + s.state[2].size, s.total);
    /* unknown: 0x1000 gap + two 0x20000 regions */
    for (size_t i = 0; i < s.nusage; i++)
        if (s.usage[i].usage == DS_USE_UNKNOWN) {
            assert_int_equal(s.usage[i].count, 3);
            assert_int_equal(s.usage[i].size, 0x41000);
            assert_int_equal(s.usage[i].largest_size, 0x20000);
        }

    ds_region_filter f;
    memset(&f, 0, sizeof f);
    char err[80];
    assert_true(ds_region_filter_parse("Unk,MEM_COMMIT", &f, err, sizeof err));
    assert_false(ds_region_filter_parse("Unk,Bogus", &f, err, sizeof err));
    assert_non_null(strstr(err, "Bogus"));
    memset(&f, 0, sizeof f);
    assert_true(ds_region_filter_parse("VAR,MEM_COMMIT", &f, err, sizeof err));
    ds_hist_row *rows;
    size_t nrows;
    assert_int_equal(ds_regions_histogram(&m, &f, DS_HIST_SIZE, &rows, &nrows), DS_OK);
    assert_int_equal(nrows, 2);
    assert_int_equal(rows[0].key, 0x20000);
    assert_int_equal(rows[0].count, 2);
    assert_int_equal(rows[0].first_base, 0x400000);
    free(rows);
    /* allocations: the stack allocation is 0x100000 in 3 regions */
    assert_int_equal(ds_regions_histogram(&m, NULL, DS_HIST_ALLOCATION, &rows, &nrows), DS_OK);
    assert_int_equal(rows[0].key, 0x100000);
    assert_int_equal(rows[0].first_base, 0x200000);
    free(rows);

    ds_region_summary_free(&s);
    ds_region_map_free(&m);
    ds_vmem_free(&d->vm);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_classes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
