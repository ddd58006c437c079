/* dumpsleuth: text helpers shared by the renderers (numbers, sizes, times) in WinDbg's shapes.
 * Every function writes into the caller's buffer (always NUL-terminated, truncated when short)
 * and returns it, so calls can be used directly as printf arguments. */
#ifndef DS_OUTPUT_FORMAT_H
#define DS_OUTPUT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Buffer size that fits every result of the functions below. */
#define DS_FMT_BUF 48

/* An address as WinDbg prints it for a target with `ptr_size`-byte pointers:
 * 8 -> "00007ff6`12340000" (16 digits, backtick between the 32-bit halves),
 * 4 -> "12340000" (8 digits; values above 4 GB fall back to the 64-bit form). */
char *ds_fmt_addr(char *buf, size_t n, uint64_t v, unsigned ptr_size);
/* A size/value in WinDbg's compact hex (no leading zeros, backtick only above 32 bits):
 * 0xcd777000 -> "cd777000", 0x20ceaf000 -> "2`0ceaf000", 0 -> "0". */
char *ds_fmt_hex(char *buf, size_t n, uint64_t v);
/* JSON form of an address: "0x7ff612340000" (lowercase, no padding). */
char *ds_fmt_json_addr(char *buf, size_t n, uint64_t v);
/* A human size with 3 decimals, 1 kB = 1024 bytes: "3.210 GB", "449.297 MB", "496.000 kB".
 * Units kB/MB/GB/TB/PB; the largest unit with value >= 1 is chosen, sizes below 1 MB (also
 * below 1 kB) are given in kB ("0.500 kB"). WinDbg's "(%11s)" column reproduces `!address`. */
char *ds_fmt_size(char *buf, size_t n, uint64_t bytes);
/* A Windows FILETIME (100 ns since 1601-01-01 UTC) as ISO-8601 UTC with milliseconds:
 * "2019-07-31T23:06:12.345Z". 0 (unknown) -> "". */
char *ds_fmt_filetime(char *buf, size_t n, uint64_t ft);
/* A time_t (seconds since 1970 UTC) as ISO-8601 UTC: "2019-07-31T23:06:12Z". */
char *ds_fmt_time(char *buf, size_t n, int64_t t);
/* A duration in milliseconds as WinDbg prints uptimes: "0 days 1:02:03.000". */
char *ds_fmt_duration(char *buf, size_t n, uint64_t ms);
/* A FILETIME converted to time_t (floor); 0 for FILETIMEs before 1970. */
int64_t ds_filetime_to_time(uint64_t ft);
/* A four-part version "10.0.19041.1"; "" when not valid. */
char *ds_fmt_version(char *buf, size_t n, int valid, const uint16_t v[4]);

#endif
