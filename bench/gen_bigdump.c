/* bench/gen_bigdump.c: writes a large synthetic Windows minidump for the search benchmark.
 *
 *   gen_bigdump OUT.dmp TOTAL_MB NRANGES SEED_FILE [NEEDLE]
 *
 * The dump has a header, a SystemInfo stream (AMD64) and a Memory64List of NRANGES ranges that
 * together hold TOTAL_MB MB. Consecutive ranges are separated by a 4 KB gap in the address space
 * (so the memory view keeps them as NRANGES separate ranges), their data is sequential in the file.
 * Memory is the SEED_FILE's bytes repeated (e.g. a region extracted from a fixture). NEEDLE
 * (default "DSBENCH-NEEDLE-7f3a") is planted at every 64 KB boundary of the data whenever the copy
 * fits inside one range, so no planted copy straddles a range; the number planted is printed on
 * stdout ("planted N"). Build: cc -O2 -o gen_bigdump gen_bigdump.c. Never commit the output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s OUT.dmp TOTAL_MB NRANGES SEED_FILE [NEEDLE]\n", argv[0]);
        return 2;
    }
    uint64_t total = strtoull(argv[2], NULL, 0) << 20;
    uint64_t nr = strtoull(argv[3], NULL, 0);
    const char *needle = argc > 5 ? argv[5] : "DSBENCH-NEEDLE-7f3a";
    size_t nl = strlen(needle);
    if (!total || !nr || nr > total) {
        fprintf(stderr, "bad sizes\n");
        return 2;
    }
    FILE *sf = fopen(argv[4], "rb");
    if (!sf) {
        perror(argv[4]);
        return 1;
    }
    size_t seedcap = 1 << 20, seedn = 0;
    uint8_t *seed = malloc(seedcap);
    seedn = fread(seed, 1, seedcap, sf);
    fclose(sf);
    if (!seedn) {
        fprintf(stderr, "empty seed\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    /* header + directory (2) + SystemInfo (56) + CSD string (6, padded 8) + Memory64List */
    const uint32_t dir_rva = 32, si_rva = dir_rva + 2 * 12, csd_rva = si_rva + 56,
                   m64_rva = csd_rva + 8;
    uint64_t m64_size = 16 + 16 * nr, base_rva = m64_rva + m64_size;
    uint8_t *meta = calloc(1, (size_t)base_rva);
    put32(meta + 0, 0x504d444d);
    put32(meta + 4, 0xa793);
    put32(meta + 8, 2);
    put32(meta + 12, dir_rva);
    put64(meta + 24, 0x2); /* MiniDumpWithFullMemory */
    put32(meta + dir_rva + 0, 7);
    put32(meta + dir_rva + 4, 56);
    put32(meta + dir_rva + 8, si_rva);
    put32(meta + dir_rva + 12, 9);
    put32(meta + dir_rva + 16, (uint32_t)m64_size);
    put32(meta + dir_rva + 20, m64_rva);
    uint8_t *si = meta + si_rva;
    si[0] = 9; /* PROCESSOR_ARCHITECTURE_AMD64 */
    si[6] = 2; /* processors */
    si[7] = 1; /* workstation */
    put32(si + 8, 10);
    put32(si + 16, 19041);
    put32(si + 20, 2);
    put32(si + 24, csd_rva);
    put64(meta + m64_rva, nr);
    put64(meta + m64_rva + 8, base_rva);
    uint64_t per = total / nr, va = 0x10000000ull, planted = 0;
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t sz = i + 1 == nr ? total - per * (nr - 1) : per;
        put64(meta + m64_rva + 16 + 16 * i, va);
        put64(meta + m64_rva + 24 + 16 * i, sz);
        va += sz + 0x1000;
        va = (va + 0xfff) & ~0xfffull;
    }
    fwrite(meta, 1, (size_t)base_rva, f);
    /* data: the seed repeated; needles at 64 KB boundaries that do not straddle a range */
    enum { BUF = 1 << 20 };
    uint8_t *buf = malloc(BUF);
    uint64_t off = 0, seedpos = 0, ri = 0, rstart = 0, rend = per;
    while (off < total) {
        size_t n = total - off < BUF ? (size_t)(total - off) : BUF;
        for (size_t k = 0; k < n; k++) {
            buf[k] = seed[seedpos++];
            if (seedpos == seedn)
                seedpos = 0;
        }
        for (uint64_t p = (off + 0xffff) & ~0xffffull; p < off + n; p += 0x10000) {
            while (p >= rend) {
                ri++;
                rstart = rend;
                rend = ri + 1 == nr ? total : rstart + per;
            }
            if (p + nl <= rend && p + nl <= off + n) {
                memcpy(buf + (p - off), needle, nl);
                planted++;
            }
        }
        fwrite(buf, 1, n, f);
        off += n;
    }
    if (fclose(f) != 0) {
        perror("write");
        return 1;
    }
    printf("planted %llu\n", (unsigned long long)planted);
    free(buf);
    free(meta);
    free(seed);
    return 0;
}
