/* Memory view: range resolution, partial reads, spans, status of missing bytes.
 * Expected values follow from the ranges the test itself builds. */
#include "dstest.h"

#include <string.h>

#include "dumpsleuth/vmem.h"

static uint8_t file[4096];

static void setup_file(void)
{
    for (size_t i = 0; i < sizeof file; i++)
        file[i] = (uint8_t)(i & 0xff);
}

static void test_basic_reads(void **state)
{
    (void)state;
    setup_file();
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 8);
    /* two ranges contiguous in VA and in the file: coalesced into one span */
    assert_true(ds_vmem_add(&vm, 0x10000, 0x100, DS_RANGE_DATA, 0x0, 0));
    assert_true(ds_vmem_add(&vm, 0x10100, 0x100, DS_RANGE_DATA, 0x100, 1));
    /* a range contiguous in VA but not in the file */
    assert_true(ds_vmem_add(&vm, 0x10200, 0x100, DS_RANGE_DATA, 0x800, 2));
    assert_true(ds_vmem_add(&vm, 0x20000, 0x1000, DS_RANGE_NOT_CAPTURED, 0, 3));
    assert_int_equal(ds_vmem_finish(&vm), 0);
    assert_int_equal(vm.n, 3);

    uint8_t buf[0x300];
    size_t got = 0;
    assert_int_equal(ds_vmem_read(&vm, 0x100f0, buf, 0x20, &got), DS_MEM_OK);
    assert_int_equal(got, 0x20);
    assert_int_equal(buf[0], 0xf0);
    assert_int_equal(buf[0x10], 0x00); /* file offset 0x100 */
    /* across the file discontinuity */
    assert_int_equal(ds_vmem_read(&vm, 0x101f8, buf, 0x10, &got), DS_MEM_OK);
    assert_int_equal(buf[7], 0xff);
    assert_int_equal(buf[8], 0x00); /* file offset 0x800 -> 0x00 */
    /* span only within one contiguous file run */
    assert_non_null(ds_vmem_span(&vm, 0x10000, 0x200));
    assert_null(ds_vmem_span(&vm, 0x10000, 0x201));
    /* partial read at the end of captured data */
    assert_int_equal(ds_vmem_read(&vm, 0x102f0, buf, 0x20, &got), DS_MEM_PARTIAL);
    assert_int_equal(got, 0x10);
    /* not captured vs unknown vs not mapped */
    assert_int_equal(ds_vmem_read(&vm, 0x20010, buf, 4, &got), DS_MEM_NOT_CAPTURED);
    assert_int_equal(ds_vmem_read(&vm, 0x30000, buf, 4, &got), DS_MEM_UNKNOWN);
    vm.has_map_info = true;
    assert_int_equal(ds_vmem_read(&vm, 0x30000, buf, 4, &got), DS_MEM_NOT_MAPPED);
    uint64_t v;
    assert_int_equal(ds_vmem_u64(&vm, 0x10008, &v), DS_MEM_OK);
    assert_int_equal(v, 0x0f0e0d0c0b0a0908ULL);
    uint32_t v32;
    assert_int_equal(ds_vmem_u32(&vm, 0x1fffe, &v32), DS_MEM_NOT_MAPPED);
    ds_vmem_free(&vm);
}

static void test_overlaps_and_clipping(void **state)
{
    (void)state;
    setup_file();
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 4);
    /* NOT_CAPTURED region table covering a DATA range: DATA wins inside, the rest stays */
    assert_true(ds_vmem_add(&vm, 0x1000, 0x3000, DS_RANGE_NOT_CAPTURED, 0, 0));
    assert_true(ds_vmem_add(&vm, 0x2000, 0x100, DS_RANGE_DATA, 0x200, 1));
    /* DATA overlapping DATA: lower start keeps the bytes (0x80 bytes dropped) */
    assert_true(ds_vmem_add(&vm, 0x2080, 0x100, DS_RANGE_DATA, 0x400, 2));
    /* DATA beyond the end of the file: clipped, the rest not captured */
    assert_true(ds_vmem_add(&vm, 0x9000, 0x200, DS_RANGE_DATA, sizeof file - 0x80, 3));
    /* the top of the address space never wraps */
    assert_true(ds_vmem_add(&vm, UINT64_MAX - 0xff, 0x1000, DS_RANGE_NOT_CAPTURED, 0, 4));
    uint64_t dropped = ds_vmem_finish(&vm);
    assert_int_equal(dropped, 0x80 + 0x180);
    ds_mem_status st;
    const ds_range *r = ds_vmem_find(&vm, 0x1800, &st);
    assert_non_null(r);
    assert_int_equal(r->kind, DS_RANGE_NOT_CAPTURED);
    r = ds_vmem_find(&vm, 0x2050, &st);
    assert_int_equal(r->kind, DS_RANGE_DATA);
    r = ds_vmem_find(&vm, 0x2150, &st);
    assert_int_equal(r->kind, DS_RANGE_DATA);
    assert_int_equal(r->file_off + (0x2150 - r->va), 0x400 + 0xd0);
    r = ds_vmem_find(&vm, 0x2200, &st);
    assert_int_equal(r->kind, DS_RANGE_NOT_CAPTURED);
    uint8_t b[0x200];
    size_t got;
    assert_int_equal(ds_vmem_read(&vm, 0x9000, b, 0x200, &got), DS_MEM_PARTIAL);
    assert_int_equal(got, 0x80);
    assert_non_null(ds_vmem_find(&vm, UINT64_MAX - 1, &st));
    assert_null(ds_vmem_find(&vm, UINT64_MAX, &st));
    uint64_t p;
    assert_int_equal(ds_vmem_ptr(&vm, 0x2000, &p), DS_MEM_OK);
    assert_int_equal(p, 0x03020100);
    ds_vmem_free(&vm);
}

static void test_many_ranges_binary_search(void **state)
{
    (void)state;
    setup_file();
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 8);
    /* 100,000 ranges added in reverse order, gaps between them */
    for (uint64_t i = 100000; i-- > 0;)
        assert_true(ds_vmem_add(&vm, 0x100000 + i * 0x2000, 0x10, DS_RANGE_DATA, (i * 16) % 4000,
                                (uint32_t)i));
    assert_int_equal(ds_vmem_finish(&vm), 0);
    assert_int_equal(vm.n, 100000);
    for (uint64_t i = 0; i < 100000; i += 997) {
        uint8_t c;
        assert_int_equal(ds_vmem_u8(&vm, 0x100000 + i * 0x2000 + 5, &c), DS_MEM_OK);
        assert_int_equal(c, (uint8_t)(((i * 16) % 4000 + 5) & 0xff));
        assert_int_equal(ds_vmem_u8(&vm, 0x100000 + i * 0x2000 + 0x10, &c), DS_MEM_UNKNOWN);
    }
    ds_vmem_free(&vm);
}

static void test_strings(void **state)
{
    (void)state;
    static uint8_t f[64];
    memcpy(f, "hello\0", 6);
    const uint8_t w[] = {'W', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0, 0}; /* "Wé😀" */
    memcpy(f + 16, w, sizeof w);
    memcpy(f + 40, "unterminated", 12);
    ds_vmem vm;
    ds_vmem_init(&vm, f, sizeof f, 8);
    ds_vmem_add(&vm, 0x1000, 52, DS_RANGE_DATA, 0, 0);
    ds_vmem_finish(&vm);
    char out[32];
    assert_int_equal(ds_vmem_cstr(&vm, 0x1000, out, sizeof out), DS_MEM_OK);
    assert_string_equal(out, "hello");
    assert_int_equal(ds_vmem_wstr(&vm, 0x1010, 16, out, sizeof out), DS_MEM_OK);
    assert_string_equal(out, "W\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_not_equal(ds_vmem_cstr(&vm, 0x1028, out, sizeof out), DS_MEM_OK);
    assert_string_equal(out, "unterminated");
    ds_vmem_free(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_reads),
        cmocka_unit_test(test_overlaps_and_clipping),
        cmocka_unit_test(test_many_ranges_binary_search),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
