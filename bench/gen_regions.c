/* Writes a synthetic x64 Windows minidump for benchmarks: SystemInfo, a MemoryInfoList of
 * `nregions` regions (committed private regions of 64 KiB separated by free gaps, plus reserved
 * tails), and a Memory64List that captures `capture_mb` MiB spread over the first regions.
 * The captured bytes are a non-zero pattern, written for real (not a sparse file), so `cat` has
 * to read them. Usage: gen_regions OUT NREGIONS CAPTURE_MB [REGION_KB (default 64)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void w32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}
static void w64(FILE *f, uint64_t v)
{
    fwrite(&v, 8, 1, f);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s OUT NREGIONS CAPTURE_MB [REGION_KB]\n", argv[0]);
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 0), cap_mb = strtoull(argv[3], NULL, 0);
    FILE *f = fopen(argv[1], "wb");
    if (!f)
        return 1;
    const uint64_t rsz = (argc == 5 ? strtoull(argv[4], NULL, 0) : 64) << 10, step = 4 * rsz;
    if (!rsz || rsz % 0x1000)
        return 2;
    uint64_t capture = cap_mb << 20;
    uint64_t ncap = capture / rsz;  /* captured regions */
    uint64_t committed = n - n / 4; /* every fourth region is reserved */
    if (ncap > committed)
        ncap = committed;
    /* layout: header 32 | directory 3*12 | SystemInfo 56 | MemoryInfoList 16+n*48 | Mem64
     * 16+ncap*16 | data */
    uint32_t dir = 32, si = dir + 3 * 12, mil = si + 56;
    uint64_t mem64 = mil + 16 + n * 48, data = mem64 + 16 + ncap * 16;
    fwrite("MDMP", 4, 1, f);
    w32(f, 0xa793);
    w32(f, 3);
    w32(f, dir);
    w32(f, 0);
    w32(f, 0);
    w64(f, 2); /* MiniDumpWithFullMemory */
    w32(f, 7), w32(f, 56), w32(f, si);
    w32(f, 16), w32(f, (uint32_t)(16 + n * 48)), w32(f, mil);
    w32(f, 9), w32(f, (uint32_t)(16 + ncap * 16)), w32(f, (uint32_t)mem64);
    uint8_t sys[56] = {0};
    sys[0] = 9; /* AMD64 */
    sys[6] = 2; /* processors */
    sys[7] = 1; /* workstation */
    uint32_t ver[4] = {10, 0, 19041, 2};
    memcpy(sys + 8, ver, 16);
    fwrite(sys, 56, 1, f);
    w32(f, 16), w32(f, 48), w64(f, n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t base = 0x10000000ull + i * step;
        int reserved = (i % 4) == 3;
        w64(f, base);
        w64(f, base);
        w32(f, 4), w32(f, 0);
        w64(f, rsz);
        w32(f, reserved ? 0x2000 : 0x1000);
        w32(f, reserved ? 0 : 4);
        w32(f, 0x20000), w32(f, 0);
    }
    w64(f, ncap), w64(f, data);
    for (uint64_t i = 0, k = 0; k < ncap && i < n; i++) {
        if ((i % 4) == 3)
            continue;
        w64(f, 0x10000000ull + i * step), w64(f, rsz);
        k++;
    }
    static uint8_t buf[0x10000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0x20 + (i * 7) % 90);
    for (uint64_t k = 0; k < ncap * (rsz / sizeof buf); k++)
        fwrite(buf, sizeof buf, 1, f);
    fclose(f);
    return 0;
}
