/* profile: on native-x64 the regions `-f Unk,MEM_COMMIT --size 0x20000` are exactly the truth's 300
 * VirtualAlloc regions, all recognised as HTML + JavaScript text; byte fractions are sane. A small
 * synthetic dump checks zero / UTF-16 / pointer / PE / compressed recognition. */
#include "dstest.h"

#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/profile.h"
#include "dumpsleuth/regions.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_native_x64(void **state)
{
    (void)state;
    const char *path = dstest_fixture("native-x64.dmp");
    const char *tpath = dstest_fixture("native-x64.truth.json");
    if (!path || !tpath)
        exit(DSTEST_SKIP);
    cJSON *truth = dstest_load_json(tpath);
    const cJSON *va = cJSON_GetObjectItemCaseSensitive(truth, "virtualalloc");
    const cJSON *regs = cJSON_GetObjectItemCaseSensitive(va, "regions");
    size_t nt = (size_t)cJSON_GetArraySize(regs);
    uint64_t *bases = calloc(nt, sizeof *bases);
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, regs) bases[k++] =
        strtoull(cJSON_GetObjectItemCaseSensitive(e, "base")->valuestring, NULL, 16);
    qsort(bases, nt, sizeof *bases, cmp_u64);

    ds_dump *d = NULL;
    ds_status st = ds_dump_open(path, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, &d->diags), DS_OK);
    ds_region_filter f;
    memset(&f, 0, sizeof f);
    char err[128];
    assert_true(ds_region_filter_parse("Unk,MEM_COMMIT", &f, err, sizeof err));
    f.exact_size = 0x20000;
    ds_profile_result r;
    assert_int_equal(ds_profile(d, &m, &f, NULL, &r), DS_OK);
    /* exactly the truth's regions */
    assert_int_equal(r.n, nt);
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.v[i].base, bases[i]);
        assert_int_equal(r.v[i].size, 0x20000);
        assert_int_equal(r.v[i].captured, 0x20000);
        assert_true(r.v[i].kinds & (1u << DS_CONTENT_HTML));
        assert_true(r.v[i].kinds & (1u << DS_CONTENT_JAVASCRIPT));
        assert_int_equal(r.v[i].zero + r.v[i].ascii + r.v[i].utf16 + r.v[i].pointer + r.v[i].other,
                         r.v[i].captured);
    }
    /* one verdict for all: HTML + JavaScript */
    assert_true(r.nmixes >= 1);
    assert_int_equal(r.mixes[0].regions, nt);
    assert_int_equal(r.mixes[0].kinds, (1u << DS_CONTENT_HTML) | (1u << DS_CONTENT_JAVASCRIPT));
    assert_int_equal(r.kinds[DS_CONTENT_HTML].regions, nt);
    assert_int_equal(r.kinds[DS_CONTENT_HTML].bytes, nt * 0x20000);
    /* fractions: text > 90%; the wide markers (2 x 38 bytes per region) are UTF-16 text */
    assert_int_equal(r.captured, (uint64_t)nt * 0x20000);
    assert_true(r.ascii * 10 > r.captured * 9);
    assert_true(r.utf16 >= nt * 2 * 38);
    assert_true(r.zero * 100 < r.captured);
    assert_int_equal(r.zero + r.ascii + r.utf16 + r.pointer + r.other, r.captured);
    /* the strings are the page's: a PopupCalendar line is among the top 20 */
    assert_true(r.nstrings == 20);
    bool popup = false;
    for (size_t i = 0; i < r.nstrings; i++) {
        popup |= strstr(r.strings[i].text, "PopupCalendar") != NULL;
        if (i)
            assert_true(r.strings[i - 1].count >= r.strings[i].count);
    }
    assert_true(popup);
    ds_profile_result_free(&r);

    /* the heap blocks are not HTML: 128-byte print-job records are plain text */
    memset(&f, 0, sizeof f);
    f.exact_size = 0x210000;
    assert_int_equal(ds_profile(d, &m, &f, NULL, &r), DS_OK);
    assert_int_equal(r.n, 8);
    for (size_t i = 0; i < r.n; i++)
        assert_false(r.v[i].kinds & (1u << DS_CONTENT_HTML));
    ds_profile_result_free(&r);
    ds_region_map_free(&m);
    ds_dump_close(d);
    free(bases);
    cJSON_Delete(truth);
}

/* One mark, so that the classifier has a non-empty mark table. */
static void mark_first(ds_dump *d, ds_classifier *c, ds_diags *diags, void *ctx)
{
    (void)diags;
    (void)ctx;
    ds_mark mk;
    memset(&mk, 0, sizeof mk);
    mk.start = d->regions[0].base;
    mk.end = mk.start + d->regions[0].size;
    mk.usage = DS_USE_OTHER;
    mk.priority = 1;
    ds_classifier_mark(c, &mk);
}

/* synthetic dump: five 4 KB regions (zero, UTF-16 text, pointers, PE header, gzip) */
static uint8_t mem[5 * 4096];

static void test_synthetic(void **state)
{
    (void)state;
    memset(mem, 0, sizeof mem);
    for (size_t i = 0; i + 2 <= 4096; i += 2)
        mem[4096 + i] = (uint8_t)('a' + (i / 2) % 26);
    for (size_t i = 0; i + 8 <= 4096; i += 8) { /* pointers into region 0 */
        uint64_t v = 0x100000 + i;
        memcpy(mem + 2 * 4096 + i, &v, 8);
    }
    memcpy(mem + 3 * 4096, "MZ", 2);
    uint32_t lfa = 0x80;
    memcpy(mem + 3 * 4096 + 0x3c, &lfa, 4);
    memcpy(mem + 3 * 4096 + 0x80, "PE\0\0", 4);
    memcpy(mem + 4 * 4096, "\x1f\x8b\x08\x00", 4);
    uint32_t x = 12345;
    for (size_t i = 8; i < 4096; i++) { /* LCG noise */
        x = x * 1103515245u + 12345u;
        mem[4 * 4096 + i] = (uint8_t)(x >> 23);
    }
    ds_dump *d = calloc(1, sizeof *d);
    d->sys.ptr_size = 8;
    d->sys.os = DS_OS_LINUX;
    ds_vmem_init(&d->vm, mem, sizeof mem, 8);
    assert_true(ds_vmem_add(&d->vm, 0x100000, sizeof mem, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&d->vm);
    ds_region regs[5];
    memset(regs, 0, sizeof regs);
    for (int i = 0; i < 5; i++) {
        regs[i].base = regs[i].alloc_base = 0x100000 + (uint64_t)i * 4096;
        regs[i].size = 4096;
        regs[i].state = DS_MEM_COMMIT;
        regs[i].type = DS_MEM_PRIVATE;
        regs[i].protect = 4;
        regs[i].file = -1;
    }
    d->regions = regs;
    d->nregions = 5;
    d->has_region_table = true;
    ds_region_map m;
    const ds_annotator extra[] = {{mark_first, NULL}};
    assert_int_equal(ds_regions_classify(d, extra, 1, &m, &d->diags), DS_OK);
    ds_profile_result r;
    assert_int_equal(ds_profile(d, &m, NULL, NULL, &r), DS_OK);
    assert_int_equal(r.n, 5);
    assert_true(r.v[0].kinds & (1u << DS_CONTENT_ZERO));
    assert_int_equal(r.v[0].zero, 4096);
    assert_true(r.v[1].kinds & (1u << DS_CONTENT_UTF16));
    assert_int_equal(r.v[1].utf16, 4096);
    assert_true(r.v[2].kinds & (1u << DS_CONTENT_POINTERS));
    assert_int_equal(r.v[2].pointer, 4096); /* all values point into region 0 */
    assert_true(r.v[3].kinds & (1u << DS_CONTENT_PE));
    assert_true(r.v[4].kinds & (1u << DS_CONTENT_COMPRESSED));
    assert_true(r.v[4].entropy > 7.5);
    /* the UTF-16 run is one string (cut at 80 characters) */
    bool wide = false;
    for (size_t i = 0; i < r.nstrings; i++)
        wide |= r.strings[i].wide && r.strings[i].cut && !strncmp(r.strings[i].text, "abcdef", 6);
    assert_true(wide);
    ds_profile_result_free(&r);
    ds_region_map_free(&m);
    ds_diags_free(&d->diags);
    ds_vmem_free(&d->vm);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic),
        cmocka_unit_test(test_native_x64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
