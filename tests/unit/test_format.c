/* Text helpers of the output layer. Expected strings come from WinDbg outputs quoted in the seed
 * articles (the .txt files in ../shared/seeds, `!address -summary`), cited per assertion, and from
 * the FILETIME / time_t definitions. */
#include "dstest.h"

#include <stdio.h>
#include <string.h>

#include "output/format.h"

/* "(%11s)" around ds_fmt_size must reproduce WinDbg's parenthesised size column. */
static void check_size(uint64_t bytes, const char *expected_column)
{
    char s[DS_FMT_BUF], col[64];
    snprintf(col, sizeof col, "(%11s)", ds_fmt_size(s, sizeof s, bytes));
    assert_string_equal(col, expected_column);
}

static void test_sizes_from_seeds(void **state)
{
    (void)state;
    /* 000_fc0e3a48b1160d20.txt:27  "<unknown>  17673  cd777000 (   3.210 GB)  83.76%   80.26%" */
    check_size(0xcd777000, "(   3.210 GB)");
    /* 000_fc0e3a48b1160d20.txt:28  "Image  3087  1c14c000 ( 449.297 MB)" */
    check_size(0x1c14c000, "( 449.297 MB)");
    /* 000_fc0e3a48b1160d20.txt:34  "Heap64  4  190000 (   1.562 MB)" - an exact tie (1.5625):
     * rounded to even like printf, not up */
    check_size(0x190000, "(   1.562 MB)");
    /* 000_fc0e3a48b1160d20.txt:33  "Other  24  1da000 (   1.852 MB)" - rounded, not truncated */
    check_size(0x1da000, "(   1.852 MB)");
    /* 000_fc0e3a48b1160d20.txt:35  "TEB64  62  7c000 ( 496.000 kB)" */
    check_size(0x7c000, "( 496.000 kB)");
    /* 000_fc0e3a48b1160d20.txt:37  "Other32  1  1000 (   4.000 kB)" */
    check_size(0x1000, "(   4.000 kB)");
    /* 000_fc0e3a48b1160d20.txt:42  "MEM_PRIVATE  16566  be8c2000 (   2.977 GB)" */
    check_size(0xbe8c2000, "(   2.977 GB)");
    /* 001_af2e121941024821.txt:27  "Heap  1935  553b3000 (   1.332 GB)" */
    check_size(0x553b3000, "(   1.332 GB)");
    /* 001_af2e121941024821.txt:34  "PEB  1  3000 (  12.000 kB)" */
    check_size(0x3000, "(  12.000 kB)");
    /* 001_af2e121941024821.txt:31  "Free  1158  73ab000 ( 115.668 MB)" */
    check_size(0x73ab000, "( 115.668 MB)");
    /* beyond the seeds: units continue in powers of 1024 */
    char s[DS_FMT_BUF];
    assert_string_equal(ds_fmt_size(s, sizeof s, 0), "0.000 kB");
    assert_string_equal(ds_fmt_size(s, sizeof s, 512), "0.500 kB");
    /* 0x20ceaf000 = 8.2018 GB. (The "2`0ceaf000 (   8.201 GB)" line sometimes quoted as an
     * example is not in the seeds, and truncation would contradict the seed's "1.852 MB".) */
    assert_string_equal(ds_fmt_size(s, sizeof s, 0x20ceaf000ull), "8.202 GB");
    assert_string_equal(ds_fmt_size(s, sizeof s, 1ull << 40), "1.000 TB");
    assert_string_equal(ds_fmt_size(s, sizeof s, 3ull << 50), "3.000 PB");
    assert_string_equal(ds_fmt_size(s, sizeof s, UINT64_MAX), "16384.000 PB");
}

static void test_hex(void **state)
{
    (void)state;
    char s[DS_FMT_BUF];
    /* compact hex as in the seed size column: 000_fc0e3a48b1160d20.txt:29 "aae6000" */
    assert_string_equal(ds_fmt_hex(s, sizeof s, 0xaae6000), "aae6000");
    assert_string_equal(ds_fmt_hex(s, sizeof s, 0), "0");
    /* above 32 bits: high part, backtick, low part with 8 digits (anchors.md section 4) */
    assert_string_equal(ds_fmt_hex(s, sizeof s, 0x20ceaf000ull), "2`0ceaf000");
    /* addresses: 64-bit targets 16 digits split by a backtick, 32-bit 8 digits */
    assert_string_equal(ds_fmt_addr(s, sizeof s, 0x7ff612340000ull, 8), "00007ff6`12340000");
    assert_string_equal(ds_fmt_addr(s, sizeof s, 0x0, 8), "00000000`00000000");
    assert_string_equal(ds_fmt_addr(s, sizeof s, 0x400000, 4), "00400000");
    assert_string_equal(ds_fmt_addr(s, sizeof s, 0xffffffffull, 4), "ffffffff");
    /* a value that does not fit 32 bits is never truncated */
    assert_string_equal(ds_fmt_addr(s, sizeof s, 0x100000000ull, 4), "00000001`00000000");
    assert_string_equal(ds_fmt_addr(s, sizeof s, UINT64_MAX, 8), "ffffffff`ffffffff");
    assert_string_equal(ds_fmt_json_addr(s, sizeof s, 0x7ff612340000ull), "0x7ff612340000");
    assert_string_equal(ds_fmt_json_addr(s, sizeof s, 0), "0x0");
    /* truncation keeps the buffer terminated */
    char tiny[6];
    ds_fmt_addr(tiny, sizeof tiny, 0x7ff612340000ull, 8);
    assert_string_equal(tiny, "00007");
}

static void test_times(void **state)
{
    (void)state;
    char s[DS_FMT_BUF];
    /* FILETIME of the Unix epoch: 116444736000000000 (MS-DTYP 2.3.3) */
    assert_string_equal(ds_fmt_filetime(s, sizeof s, 116444736000000000ull),
                        "1970-01-01T00:00:00.000Z");
    assert_int_equal(ds_filetime_to_time(116444736000000000ull), 0);
    /* +1 day, 1 h, 2 min, 3.456 s */
    uint64_t ft = 116444736000000000ull + ((86400ull + 3723ull) * 1000ull + 456ull) * 10000ull;
    assert_string_equal(ds_fmt_filetime(s, sizeof s, ft), "1970-01-02T01:02:03.456Z");
    assert_int_equal(ds_filetime_to_time(ft), 86400 + 3723);
    assert_string_equal(ds_fmt_filetime(s, sizeof s, 0), "");
    /* FILETIME 1 = 1601-01-01 (before 1970) */
    assert_string_equal(ds_fmt_filetime(s, sizeof s, 1), "1601-01-01T00:00:00.000Z");
    assert_string_equal(ds_fmt_time(s, sizeof s, 0), "1970-01-01T00:00:00Z");
    /* 2038 problem does not apply to the 64-bit time_t path */
    assert_string_equal(ds_fmt_time(s, sizeof s, 4294967295ll), "2106-02-07T06:28:15Z");
    assert_string_equal(ds_fmt_time(s, sizeof s, 1000000000), "2001-09-09T01:46:40Z");
}

static void test_durations(void **state)
{
    (void)state;
    char s[DS_FMT_BUF];
    /* WinDbg's "Process Uptime: 0 days 1:02:03.000" shape: hours not padded */
    assert_string_equal(ds_fmt_duration(s, sizeof s, 3723000), "0 days 1:02:03.000");
    assert_string_equal(ds_fmt_duration(s, sizeof s, 0), "0 days 0:00:00.000");
    assert_string_equal(ds_fmt_duration(s, sizeof s, 5), "0 days 0:00:00.005");
    assert_string_equal(
        ds_fmt_duration(s, sizeof s, (2ull * 86400 + 23 * 3600 + 59 * 60 + 59) * 1000 + 999),
        "2 days 23:59:59.999");
}

static void test_version(void **state)
{
    (void)state;
    char s[DS_FMT_BUF];
    const uint16_t v[4] = {10, 0, 19041, 1};
    assert_string_equal(ds_fmt_version(s, sizeof s, 1, v), "10.0.19041.1");
    assert_string_equal(ds_fmt_version(s, sizeof s, 0, v), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_from_seeds),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
