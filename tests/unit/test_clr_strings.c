/* Tests of dumpheap --strings (src/clr/strings.c) on the .NET fixtures.
 *
 * Expected values come from the fixtures' truth files: 5,000 distinct "JOB-%05d" strings kept
 * alive (so each value is counted once; their total size is the truth's), and the Fonts' three
 * shared name literals (interned: one String object each). Tests skip when a fixture is absent. */
#include "dstest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/clr.h"

static int add_cb(void *ctx, const ds_clr_object *o)
{
    void **c = ctx;
    assert_true(ds_clr_strings_add(c[0], c[1], o));
    return 0;
}

static void walk(ds_clr_heap *h, ds_clr_strings *s, ds_diags *diags)
{
    void *c[2] = {s, h};
    ds_clr_walk_stats ws;
    ds_clr_heap_walk(h, add_cb, c, NULL, NULL, &ws, diags);
    ds_clr_walk_stats_free(&ws);
}

static bool is_job(const char *t)
{
    if (!t || strncmp(t, "JOB-", 4) || strlen(t) != 9)
        return false;
    for (int i = 4; i < 9; i++)
        if (t[i] < '0' || t[i] > '9')
            return false;
    return true;
}

static bool truth_strings_one(dstest_clr *c, void *ctx)
{
    (void)ctx;
    ds_dump *d = c->d;
    ds_clr_heap *h = &c->h;
    const cJSON *truth = c->truth;
    uint64_t P = dstest_json_num(truth, "pointer_size");
    ds_clr_strings s;
    memset(&s, 0, sizeof s);
    walk(h, &s, &d->diags);
    ds_clr_strings_finish(&s, h, 0);
    assert_non_null(s.v);
    assert_false(s.capped);
    assert_int_equal(s.n, s.distinct);
    assert_int_equal(s.unreadable, 0);

    /* the JOB strings: 5,000 distinct values JOB-00000..JOB-04999, each once */
    const cJSON *totals = cJSON_GetObjectItemCaseSensitive(truth, "totals");
    uint64_t njobs = dstest_json_num(totals, "job_name_strings");
    uint8_t *seen = calloc(njobs, 1);
    assert_non_null(seen);
    uint64_t jobs = 0, job_bytes_aligned = 0, sum = 0;
    for (size_t i = 0; i < s.n; i++) {
        const ds_clr_string_stat *r = &s.v[i];
        sum += r->count;
        if (i)
            assert_true(s.v[i - 1].total >= r->total);
        if (!is_job(r->text))
            continue;
        unsigned long k = strtoul(r->text + 4, NULL, 10);
        assert_true(k < njobs);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
        if (r->count != 1)
            fail_msg("%s: %s: count %" PRIu64 ", truth: one object", c->fx->name, r->text,
                     r->count);
        assert_int_equal(r->length, 9);
        jobs++;
        job_bytes_aligned += (r->total + P - 1) / P * P;
    }
    free(seen);
    assert_int_equal(jobs, njobs);
    assert_int_equal(sum + s.other_count + s.unreadable, s.strings);
    /* the truth's String row is exactly the JOB strings: 5,000 x aligned size */
    const cJSON *t;
    uint64_t str_base = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(truth, "types"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (!strncmp(n->valuestring, "System.String", 13)) {
            assert_int_equal(dstest_json_num(t, "count"), jobs);
            assert_int_equal(dstest_json_num(t, "total_size"), job_bytes_aligned);
            str_base = dstest_json_num(t, "base_size");
        }
    }

    /* the three font names: shared (interned) literals, one String object each */
    const cJSON *fn;
    int fonts = 0;
    cJSON_ArrayForEach(fn, cJSON_GetObjectItemCaseSensitive(truth, "font_names"))
    {
        size_t hits = 0;
        for (size_t i = 0; i < s.n; i++)
            if (s.v[i].text && !strcmp(s.v[i].text, fn->valuestring)) {
                hits++;
                assert_int_equal(s.v[i].count, 1);
                assert_int_equal(s.v[i].length, strlen(fn->valuestring));
                /* SOS's size: the truth's BaseSize + 2 per char, unaligned */
                assert_int_equal(s.v[i].total, str_base + 2 * strlen(fn->valuestring));
            }
        assert_int_equal(hits, 1);
        fonts++;
    }
    assert_int_equal(fonts, 3);
    assert_true(str_base > 0);
    ds_clr_strings_free(&s);

    /* top-N and the cap on distinct values */
    memset(&s, 0, sizeof s);
    s.max_distinct = 100;
    walk(h, &s, &d->diags);
    assert_true(s.capped);
    assert_int_equal(s.n, 100);
    assert_true(s.other_count > 0);
    uint64_t kept = 0;
    for (size_t i = 0; i < s.n; i++)
        kept += s.v[i].count;
    assert_int_equal(kept + s.other_count + s.unreadable, s.strings);
    ds_clr_strings_finish(&s, h, 7);
    assert_int_equal(s.n, 7);
    assert_int_equal(s.distinct, 100);
    for (size_t i = 0; i < s.n; i++)
        assert_non_null(s.v[i].text);
    ds_clr_strings_free(&s);

    return true;
}

static void test_truth_strings(void **state)
{
    (void)state;
    dstest_clr_each(DSTEST_CLR_HEAP, truth_strings_one, NULL);
}

static void test_utf16(void **state)
{
    (void)state;
    /* "A", U+00E9, U+20AC, U+1F600 (surrogate pair), a lone high surrogate, "z" */
    static const uint8_t u[] = {0x41, 0x00, 0xE9, 0x00, 0xAC, 0x20, 0x3D,
                                0xD8, 0x00, 0xDE, 0x3D, 0xD8, 0x7A, 0x00};
    char *s = ds_clr_utf16_to_utf8(u, sizeof u / 2);
    assert_non_null(s);
    assert_string_equal(s, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBDz");
    free(s);
    /* a lone high surrogate at the end, a lone low surrogate */
    static const uint8_t v[] = {0x00, 0xDC, 0x3D, 0xD8};
    s = ds_clr_utf16_to_utf8(v, 2);
    assert_string_equal(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
    free(s);
    s = ds_clr_utf16_to_utf8(v, 0);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_truth_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
