/* Text helpers: WinDbg-shaped numbers, sizes and times. Pure functions, no I/O. */
#include "output/format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

char *ds_fmt_addr(char *buf, size_t n, uint64_t v, unsigned ptr_size)
{
    if (ptr_size == 4 && v <= 0xffffffffu)
        snprintf(buf, n, "%08" PRIx64, v);
    else
        snprintf(buf, n, "%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
    return buf;
}

char *ds_fmt_hex(char *buf, size_t n, uint64_t v)
{
    if (v >> 32)
        snprintf(buf, n, "%" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
    else
        snprintf(buf, n, "%" PRIx64, v);
    return buf;
}

char *ds_fmt_json_addr(char *buf, size_t n, uint64_t v)
{
    snprintf(buf, n, "0x%" PRIx64, v);
    return buf;
}

char *ds_fmt_size(char *buf, size_t n, uint64_t bytes)
{
    static const char *units[] = {"kB", "MB", "GB", "TB", "PB"};
    size_t u = 0;
    uint64_t div = 1024;
    while (u + 1 < sizeof units / sizeof units[0] && bytes / div >= 1024) {
        div *= 1024;
        u++;
    }
    /* printf's %.3f on a double, like WinDbg: exact ties round to even
     * (0x190000 -> "1.562 MB", seed 000 line 34) */
    snprintf(buf, n, "%.3f %s", (double)bytes / (double)div, units[u]);
    return buf;
}

int64_t ds_filetime_to_time(uint64_t ft)
{
    const uint64_t epoch = 116444736000000000ull; /* 1970-01-01 in FILETIME units */
    if (ft < epoch)
        return 0;
    return (int64_t)((ft - epoch) / 10000000ull);
}

static char *iso(char *buf, size_t n, int64_t t, int ms)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, n, "%s", "");
        return buf;
    }
    if (ms >= 0)
        snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    else
        snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

char *ds_fmt_filetime(char *buf, size_t n, uint64_t ft)
{
    if (!ft) {
        snprintf(buf, n, "%s", "");
        return buf;
    }
    const uint64_t epoch1601_to_1970 = 11644473600ull;
    uint64_t secs = ft / 10000000ull;
    int ms = (int)((ft % 10000000ull) / 10000ull);
    /* FILETIMEs before 1970 give a negative time_t, which gmtime_r handles */
    int64_t t = (int64_t)secs - (int64_t)epoch1601_to_1970;
    return iso(buf, n, t, ms);
}

char *ds_fmt_time(char *buf, size_t n, int64_t t)
{
    return iso(buf, n, t, -1);
}

char *ds_fmt_duration(char *buf, size_t n, uint64_t ms)
{
    uint64_t s = ms / 1000;
    snprintf(buf, n, "%" PRIu64 " days %" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
             s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60, ms % 1000);
    return buf;
}

char *ds_fmt_version(char *buf, size_t n, int valid, const uint16_t v[4])
{
    if (!valid)
        snprintf(buf, n, "%s", "");
    else
        snprintf(buf, n, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
    return buf;
}
