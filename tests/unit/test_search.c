/* search: marker counts on the real Wine minidumps against their truth files (counts, addresses
 * and the per-region / per-usage breakdown), and seam, wildcard, value and case-insensitive
 * searches on synthetic views whose expected hits follow from how the test builds them. */
#include "dstest.h"

#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"
#include "dumpsleuth/search.h"

static int fixtures_seen;

static uint64_t jaddr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 16);
    return (uint64_t)v->valuedouble;
}

static const cJSON *jget(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) {
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        assert_non_null(cur);
    }
    return cur;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t region_index(const ds_region_map *m, uint64_t a)
{
    for (size_t i = 0; i < m->n; i++)
        if (a >= m->v[i].base && a - m->v[i].base < m->v[i].size)
            return i;
    return SIZE_MAX;
}

/* Expected marker addresses from the truth: region bases + offsets, heap blocks + offsets. */
static uint64_t *expected(const cJSON *truth, bool wide, size_t *n)
{
    const cJSON *va = jget(truth, "virtualalloc"), *hp = jget(truth, "private_heap");
    const cJSON *vo = jget(va, wide ? "wide_marker_offsets" : "ascii_marker_offsets");
    const cJSON *ho = jget(hp, wide ? "wide_marker_offsets" : "ascii_marker_offsets");
    const cJSON *regs = jget(va, "regions"), *blocks = jget(hp, "blocks");
    size_t cap = (size_t)cJSON_GetArraySize(regs) * (size_t)cJSON_GetArraySize(vo) +
                 (size_t)cJSON_GetArraySize(blocks) * (size_t)cJSON_GetArraySize(ho);
    uint64_t *v = calloc(cap + 1, sizeof *v);
    size_t k = 0;
    const cJSON *r, *o;
    cJSON_ArrayForEach(r, regs) cJSON_ArrayForEach(o, vo) v[k++] =
        jaddr(r, "base") + (uint64_t)o->valuedouble;
    cJSON_ArrayForEach(r, blocks) cJSON_ArrayForEach(o, ho) v[k++] =
        jaddr(r, "address") + (uint64_t)o->valuedouble;
    qsort(v, k, sizeof *v, cmp_u64);
    *n = k;
    return v;
}

static void check_fixture(const char *name)
{
    char dmp[128], tj[128];
    snprintf(dmp, sizeof dmp, "%s.dmp", name);
    snprintf(tj, sizeof tj, "%s.truth.json", name);
    const char *path = dstest_fixture(dmp);
    const char *tpath = dstest_fixture(tj);
    if (!path || !tpath) {
        print_message("fixture %s not available\n", name);
        skip();
    }
    fixtures_seen++;
    cJSON *truth = dstest_load_json(tpath);
    ds_dump *d = NULL;
    ds_status st = ds_dump_open(path, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, &d->diags), DS_OK);
    const cJSON *mk = jget(truth, "markers");
    for (int wide = 0; wide < 2; wide++) {
        ds_pattern p;
        char err[128];
        const char *text = jget(mk, wide ? "wide" : "ascii")->valuestring;
        assert_true(ds_pattern_compile(&p, wide ? DS_PAT_UTF16 : DS_PAT_ASCII, text, false,
                                       d->sys.ptr_size, err, sizeof err));
        ds_search_result r;
        assert_int_equal(ds_search(d, &m, &p, NULL, SIZE_MAX, &r), DS_OK);
        uint64_t want = (uint64_t)jget(mk, wide ? "wide_count" : "ascii_count")->valuedouble;
        assert_int_equal(r.total, want);
        assert_int_equal(r.nhits, want);
        /* every hit where the truth says a marker was written */
        size_t ne = 0;
        uint64_t *exp = expected(truth, wide, &ne);
        assert_int_equal(ne, want);
        for (size_t i = 0; i < ne; i++)
            assert_int_equal(r.hits[i].addr, exp[i]);
        free(exp);
        /* breakdown: each VirtualAlloc region holds its per-region count, each heap block its
         * per-block count; the VirtualAlloc regions are <unknown>; the usage rows add up */
        uint64_t per_region =
            (uint64_t)jget(mk, wide ? "wide_per_region" : "ascii_per_region")->valuedouble;
        uint64_t per_block =
            (uint64_t)jget(mk, wide ? "wide_per_block" : "ascii_per_block")->valuedouble;
        const cJSON *e;
        uint8_t block_usage = 0xff;
        cJSON_ArrayForEach(e, jget(truth, "virtualalloc.regions"))
        {
            size_t ri = region_index(&m, jaddr(e, "base"));
            assert_true(ri != SIZE_MAX);
            assert_int_equal(m.v[ri].usage, DS_USE_UNKNOWN);
            assert_int_equal(r.region_hits[ri], per_region);
        }
        cJSON_ArrayForEach(e, jget(truth, "private_heap.blocks"))
        {
            size_t ri = region_index(&m, jaddr(e, "address"));
            assert_true(ri != SIZE_MAX);
            assert_int_equal(r.region_hits[ri], per_block);
            block_usage = m.v[ri].usage;
        }
        uint64_t sum = 0, unk = 0, blk = 0;
        for (size_t i = 0; i < r.nusage; i++) {
            sum += r.usage[i].hits;
            if (r.usage[i].usage == DS_USE_UNKNOWN)
                unk += r.usage[i].hits;
            if (r.usage[i].usage == block_usage)
                blk += r.usage[i].hits;
        }
        assert_int_equal(sum + r.outside, want);
        assert_int_equal(r.outside, 0);
        uint64_t nva = (uint64_t)cJSON_GetArraySize(jget(truth, "virtualalloc.regions"));
        uint64_t nblk = (uint64_t)cJSON_GetArraySize(jget(truth, "private_heap.blocks"));
        if (block_usage == DS_USE_UNKNOWN) /* Wine's heap blocks are plain private regions */
            assert_int_equal(unk, want);
        else
            assert_int_equal(blk, nblk * per_block);
        assert_int_equal(r.nregions, nva + nblk);
        ds_search_result_free(&r);

        /* the same marker restricted to the VirtualAlloc regions with the regions filter */
        ds_region_filter f;
        memset(&f, 0, sizeof f);
        assert_true(ds_region_filter_parse("Unk,MEM_COMMIT", &f, err, sizeof err));
        f.exact_size = 0x20000;
        ds_search_scope sc = {.filter = &f};
        assert_int_equal(ds_search(d, &m, &p, &sc, 10, &r), DS_OK);
        assert_int_equal(r.total, nva * per_region);
        assert_int_equal(r.nhits, 10); /* limit keeps 10, counts all */
        ds_search_result_free(&r);

        /* case-insensitive: the lower-case marker finds the same copies */
        char lower[64];
        snprintf(lower, sizeof lower, "%s", text);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        assert_true(ds_pattern_compile(&p, wide ? DS_PAT_UTF16 : DS_PAT_ASCII, lower, true,
                                       d->sys.ptr_size, err, sizeof err));
        assert_int_equal(ds_search(d, &m, &p, NULL, 0, &r), DS_OK);
        assert_int_equal(r.total, want);
        ds_search_result_free(&r);
    }
    /* PopupCalendar inside the 300 regions: the truth's count */
    {
        ds_pattern p;
        char err[128];
        assert_true(
            ds_pattern_compile(&p, DS_PAT_ASCII, "PopupCalendar", false, 8, err, sizeof err));
        ds_region_filter f;
        memset(&f, 0, sizeof f);
        assert_true(ds_region_filter_parse("Unk,MEM_COMMIT", &f, err, sizeof err));
        f.exact_size = 0x20000;
        ds_search_scope sc = {.filter = &f};
        ds_search_result r;
        assert_int_equal(ds_search(d, &m, &p, &sc, 0, &r), DS_OK);
        assert_int_equal(r.total,
                         (uint64_t)jget(truth, "popupcalendar_count_in_regions")->valuedouble);
        ds_search_result_free(&r);
        /* the first region's count, with an address range */
        const cJSON *r0 = cJSON_GetArrayItem(jget(truth, "virtualalloc.regions"), 0);
        ds_search_scope rs = {.has_range = true, .start = jaddr(r0, "base")};
        rs.end = rs.start + 0x20000;
        assert_int_equal(ds_search(d, &m, &p, &rs, 0, &r), DS_OK);
        assert_int_equal(r.total, (uint64_t)jget(r0, "popupcalendar_count")->valuedouble);
        ds_search_result_free(&r);
    }
    ds_region_map_free(&m);
    ds_dump_close(d);
    cJSON_Delete(truth);
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

/* ---- synthetic views ---- */

static uint8_t file[0x400];

static uint64_t count(ds_vmem *vm, ds_pattern_kind k, const char *pat, bool nocase, unsigned align,
                      uint64_t *first)
{
    ds_pattern p;
    char err[128];
    assert_true(ds_pattern_compile(&p, k, pat, nocase, 8, err, sizeof err));
    if (align)
        p.align = align;
    ds_search_result r;
    assert_int_equal(ds_search_vmem(vm, &p, 0, UINT64_MAX, 100, &r), DS_OK);
    uint64_t t = r.total;
    if (first)
        *first = r.nhits ? r.hits[0].addr : 0;
    ds_search_result_free(&r);
    return t;
}

static void test_seam(void **state)
{
    (void)state;
    memset(file, '.', sizeof file);
    /* A: va 0x1000..0x1010 at file 0x100 ends with "SEAMPA"; B: va 0x1010..0x1020 at file 0x000
     * (adjacent in VA, not in the file) starts with "TTERN" */
    memcpy(file + 0x100 + 0x10 - 6, "SEAMPA", 6);
    memcpy(file + 0x000, "TTERN", 5);
    /* C: va 0x2000 (1 byte "X") at file 0x200, D: 0x2001 (1 byte "Y") at 0x300, E: 0x2002 at 0x380
     * "Z!" -> "XYZ!" straddles three seams with two short pieces */
    file[0x200] = 'X';
    file[0x300] = 'Y';
    memcpy(file + 0x380, "Z!", 2);
    /* F: 0x3000 "HALF" at 0x280, then a NOT_CAPTURED hole, then G at 0x3010 "WAY" at 0x290:
     * "HALFWAY" must not be found (the hole is not memory we have) */
    memcpy(file + 0x28c, "HALF", 4);
    memcpy(file + 0x290, "WAY", 3);
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 8);
    assert_true(ds_vmem_add(&vm, 0x1000, 0x10, DS_RANGE_DATA, 0x100, 0));
    assert_true(ds_vmem_add(&vm, 0x1010, 0x10, DS_RANGE_DATA, 0x000, 1));
    assert_true(ds_vmem_add(&vm, 0x2000, 1, DS_RANGE_DATA, 0x200, 2));
    assert_true(ds_vmem_add(&vm, 0x2001, 1, DS_RANGE_DATA, 0x300, 3));
    assert_true(ds_vmem_add(&vm, 0x2002, 2, DS_RANGE_DATA, 0x380, 4));
    assert_true(ds_vmem_add(&vm, 0x3000, 0x10, DS_RANGE_DATA, 0x280, 5));
    assert_true(ds_vmem_add(&vm, 0x3010, 0x10, DS_RANGE_NOT_CAPTURED, 0, 6));
    assert_true(ds_vmem_add(&vm, 0x3020, 0x10, DS_RANGE_DATA, 0x290, 7));
    ds_vmem_finish(&vm);
    uint64_t first = 0;
    assert_int_equal(count(&vm, DS_PAT_ASCII, "SEAMPATTERN", false, 0, &first), 1);
    assert_int_equal(first, 0x100a);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "XYZ!", false, 0, &first), 1);
    assert_int_equal(first, 0x2000);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "YZ", false, 0, &first), 1);
    assert_int_equal(first, 0x2001);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "HALFWAY", false, 0, NULL), 0);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "HALF", false, 0, &first), 1);
    assert_int_equal(first, 0x300c);
    /* wildcards and case folding across the seam */
    assert_int_equal(count(&vm, DS_PAT_BYTES, "50 41 ?? 54 45", false, 0, &first), 1);
    assert_int_equal(first, 0x100e);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "seampattern", true, 0, &first), 1);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "seampattern", false, 0, NULL), 0);
    /* a range that cuts the pattern finds nothing; one that holds it finds it */
    ds_pattern p;
    char err[64];
    ds_search_result r;
    assert_true(ds_pattern_compile(&p, DS_PAT_ASCII, "SEAMPATTERN", false, 8, err, sizeof err));
    assert_int_equal(ds_search_vmem(&vm, &p, 0x1000, 0x1014, 10, &r), DS_OK);
    assert_int_equal(r.total, 0);
    ds_search_result_free(&r);
    assert_int_equal(ds_search_vmem(&vm, &p, 0x100a, 0x1015, 10, &r), DS_OK);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.seams, 1);
    ds_search_result_free(&r);
    ds_vmem_free(&vm);
}

/* Ranges contiguous in the file but not in the address space (Memory64List with gaps): they are
 * scanned in one pass over the file, hits map to the right addresses and a copy that crosses the
 * address gap is not a hit. */
static void test_file_contiguous_batch(void **state)
{
    (void)state;
    memset(file, '.', sizeof file);
    memcpy(file + 0x10e, "GAPX", 4); /* crosses X|Y in the file: not in memory */
    memcpy(file + 0x114, "INY1", 4); /* inside Y */
    memcpy(file + 0x11e, "AB", 2);   /* end of Y: VA-adjacent to Z (not file-contiguous) */
    memcpy(file + 0x300, "CD", 2);   /* start of Z */
    memcpy(file + 0x128, "INW1", 4); /* inside W (file-contiguous after Y, gap in VA) */
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 8);
    assert_true(ds_vmem_add(&vm, 0x5000, 0x10, DS_RANGE_DATA, 0x100, 0)); /* X */
    assert_true(ds_vmem_add(&vm, 0x6000, 0x10, DS_RANGE_DATA, 0x110, 1)); /* Y */
    assert_true(ds_vmem_add(&vm, 0x6010, 0x10, DS_RANGE_DATA, 0x300, 2)); /* Z */
    assert_true(ds_vmem_add(&vm, 0x7000, 0x10, DS_RANGE_DATA, 0x120, 3)); /* W */
    ds_vmem_finish(&vm);
    assert_int_equal(vm.n, 4);
    uint64_t first = 0;
    assert_int_equal(count(&vm, DS_PAT_ASCII, "GAPX", false, 0, NULL), 0);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "INY1", false, 0, &first), 1);
    assert_int_equal(first, 0x6004);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "ABCD", false, 0, &first), 1);
    assert_int_equal(first, 0x600e);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "INW1", false, 0, &first), 1);
    assert_int_equal(first, 0x7008);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "INW1", false, 8, NULL), 1); /* 0x7008 aligned */
    assert_int_equal(count(&vm, DS_PAT_ASCII, "INY1", false, 8, NULL), 0); /* 0x6004 is not */
    /* a scope that starts inside Y and ends inside W */
    ds_pattern p;
    char err[64];
    ds_search_result r;
    assert_true(ds_pattern_compile(&p, DS_PAT_ASCII, "IN", false, 8, err, sizeof err));
    assert_int_equal(ds_search_vmem(&vm, &p, 0x6005, 0x700a, 10, &r), DS_OK);
    assert_int_equal(r.total, 1); /* INY1 starts before the scope, INW1 is inside */
    assert_int_equal(r.hits[0].addr, 0x7008);
    ds_search_result_free(&r);
    ds_vmem_free(&vm);
}

static void test_values_wildcards_case(void **state)
{
    (void)state;
    memset(file, 0, sizeof file);
    /* 0x11223344 at va 0x10000 + 0x10 (aligned) and + 0x23 (unaligned) */
    const uint8_t le[4] = {0x44, 0x33, 0x22, 0x11};
    memcpy(file + 0x10, le, 4);
    memcpy(file + 0x23, le, 4);
    /* a pointer 0x0000000000010040 at +0x40 (aligned 8) */
    const uint8_t ptr[8] = {0x40, 0x00, 0x01, 0, 0, 0, 0, 0};
    memcpy(file + 0x40, ptr, 8);
    /* "MZ" 0x90 0x00 at +0x80; "MZ" 0x50 0x00 at +0x90; "MZxy" at +0xa0 */
    memcpy(file + 0x80, "MZ\x90\x00", 4);
    memcpy(file + 0x90, "MZ\x50\x00", 4);
    memcpy(file + 0xa0, "MZxy", 4);
    /* text with mixed case, ASCII and UTF-16LE */
    memcpy(file + 0x100, "Hello hELLO HELLO help", 22);
    memcpy(file + 0x140, "h\0E\0l\0L\0o\0", 10);
    ds_vmem vm;
    ds_vmem_init(&vm, file, sizeof file, 8);
    assert_true(ds_vmem_add(&vm, 0x10000, sizeof file, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(&vm);
    uint64_t first;
    assert_int_equal(count(&vm, DS_PAT_U32, "11223344", false, 0, &first), 2);
    assert_int_equal(first, 0x10010);
    assert_int_equal(count(&vm, DS_PAT_U32, "0x11223344", false, 4, &first), 1); /* --aligned */
    assert_int_equal(count(&vm, DS_PAT_U32, "0n287454020", false, 0, NULL), 2);  /* decimal */
    assert_int_equal(count(&vm, DS_PAT_U16, "3344", false, 0, NULL), 2);
    assert_int_equal(count(&vm, DS_PAT_U64, "10040", false, 8, &first), 1);
    assert_int_equal(first, 0x10040);
    assert_int_equal(count(&vm, DS_PAT_PTR, "00000000`00010040", false, 0, &first), 1);
    assert_int_equal(count(&vm, DS_PAT_BYTES, "4d 5a ?? 00", false, 0, NULL), 2);
    assert_int_equal(count(&vm, DS_PAT_BYTES, "4d5a??00", false, 0, NULL), 2);
    assert_int_equal(count(&vm, DS_PAT_BYTES, "4d 5a", false, 0, NULL), 3);
    assert_int_equal(count(&vm, DS_PAT_BYTES, "?? 5a 90", false, 0, &first), 1);
    assert_int_equal(first, 0x10080);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "hello", true, 0, NULL), 3);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "HELLO", false, 0, NULL), 1);
    assert_int_equal(count(&vm, DS_PAT_ASCII, "Hello", false, 0, NULL), 1);
    assert_int_equal(count(&vm, DS_PAT_UTF16, "hello", true, 0, &first), 1);
    assert_int_equal(first, 0x10140);
    assert_int_equal(count(&vm, DS_PAT_UTF16, "hello", false, 0, NULL), 0);
    /* all-wildcard and bad patterns are refused */
    ds_pattern p;
    char err[128];
    assert_false(ds_pattern_compile(&p, DS_PAT_BYTES, "?? ??", false, 8, err, sizeof err));
    assert_false(ds_pattern_compile(&p, DS_PAT_BYTES, "4g", false, 8, err, sizeof err));
    assert_false(ds_pattern_compile(&p, DS_PAT_U16, "12345", false, 8, err, sizeof err));
    assert_false(ds_pattern_compile(&p, DS_PAT_U32, "", false, 8, err, sizeof err));
    assert_false(ds_pattern_compile(&p, DS_PAT_BYTES, "4d", true, 8, err, sizeof err));
    assert_true(ds_pattern_compile(&p, DS_PAT_PTR, "ffffffff", false, 4, err, sizeof err));
    assert_int_equal(p.len, 4);
    assert_false(ds_pattern_compile(&p, DS_PAT_PTR, "1ffffffff", false, 4, err, sizeof err));
    ds_vmem_free(&vm);
}

static void test_ranges(void **state)
{
    (void)state;
    uint64_t a, e;
    char err[128];
    assert_true(ds_parse_range("0 L?0xffffffff", &a, &e, err, sizeof err));
    assert_int_equal(a, 0);
    assert_int_equal(e, 0xffffffffull);
    assert_true(ds_parse_range("1000 L10", &a, &e, err, sizeof err));
    assert_int_equal(a, 0x1000);
    assert_int_equal(e, 0x1010);
    assert_true(ds_parse_range("00000000`01000000-0x01020000", &a, &e, err, sizeof err));
    assert_int_equal(a, 0x1000000);
    assert_int_equal(e, 0x1020000);
    assert_true(ds_parse_range("1000 1fff", &a, &e, err, sizeof err));
    assert_int_equal(e, 0x2000);
    assert_true(ds_parse_range("ffffffffffffff00 L?0x1000", &a, &e, err, sizeof err));
    assert_int_equal(e, UINT64_MAX);
    assert_false(ds_parse_range("2000-1000", &a, &e, err, sizeof err));
    assert_false(ds_parse_range("1000 L0", &a, &e, err, sizeof err));
    assert_false(ds_parse_range("zz", &a, &e, err, sizeof err));
    assert_false(ds_parse_range("1000 Lxyz", &a, &e, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seam),
        cmocka_unit_test(test_file_contiguous_batch),
        cmocka_unit_test(test_values_wildcards_case),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_native_x64),
        cmocka_unit_test(test_native_x86),
        cmocka_unit_test(test_native_wow64),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0 && fixtures_seen == 0)
        return DSTEST_SKIP; /* the fixture part could not run */
    return rc;
}
