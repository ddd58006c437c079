/* bench/gen_ntheap_big.c: writes a large synthetic Windows 10 x64 (19041, heap layout group 10c)
 * minidump with one big NT heap, for bench/heap.sh. Not a test generator: tests use
 * tests/gen/ntheap_sim (docs/internals/ntheap-sim.md), whose variants are small and fixed.
 *
 *   gen_ntheap_big OUT [ENTRIES [SEGMENTS [VA_BLOCKS [LFH_SUBSEGMENTS [SEED]]]]]
 *   defaults:          10000000   8          2000        2000              1
 *
 * The heap (offsets from /work/shared/reference/nt-heap.md §1, §2, §4; the same choices as the
 * simulator where the reference leaves one open):
 *   - SEGMENTS segments, each with about ENTRIES/SEGMENTS backend entries (busy, free, and LFH
 *     UserBlocks containers with flags 0x09), headers XOR-encoded with the heap key (checksum
 *     byte valid), PreviousSize chained, a busy filler entry with LAST_ENTRY up to the last
 *     committed page, then a 1 MB uncommitted tail (one UCR descriptor per segment);
 *   - every free entry on _HEAP.FreeLists, in size-then-address order (the W7+ backend order);
 *   - VA_BLOCKS VirtualAlloc blocks of 1020 KB to 1.27 MB user data (above the 0xff000-byte
 *     VirtualMemoryThreshold), in a permuted list order, their data written for real;
 *   - LFH_SUBSEGMENTS W8+ LFH subsegments: _HEAP_SUBSEGMENTs in block zones of a private
 *     region that also holds the _LFH_HEAP; UserBlocks with signature, EncodedOffsets (encoded
 *     with a 32-bit LFH key), busy bitmap and block headers;
 *   - a PEB (ProcessHeaps = [the heap]), one thread with a TEB and a small stack, SystemInfo
 *     10.0.19041 AMD64, a MemoryInfoList and a Memory64List of every committed page.
 * User data is a non-zero byte pattern written to the file (no sparse file: `cat` reads it).
 * Deterministic for a given argument list. GEN_FREE_ORDER=address in the environment links the
 * free list in address order instead (to measure what the list order costs a walker).
 *
 * stdout: the construction's numbers, one `key value` per line (bench/heap.sh checks dumpsleuth's
 * counts against them): entry counts by kind, bytes, the file range of the heap segments.
 * Build: cc -O2 -o gen_ntheap_big gen_ntheap_big.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 0x1000ull
#define GRAN 16ull
#define STACK 0x0000004f4e600000ull /* reserve 0x100000, top 0x3000 committed */
#define PEB 0x0000004f4e800000ull
#define TEB 0x0000004f4e802000ull
#define HEAP 0x000001f000000000ull
#define VM_THRESHOLD 0xff00u /* granules */
#define UCR_TAIL 0x100000ull
#define LFH_ZONES_OFF 0x2000ull /* block zones after the _LFH_HEAP */
#define SS_SIZE 0x38u           /* sizeof(_HEAP_SUBSEGMENT) x64 (SFreeListEntry at 0x30 + 8) */
#define ZONE_HDR 0x20u          /* _LFH_BLOCK_ZONE: ListEntry 0, NextIndex 0x10 */

static const uint8_t KEY[8] = {0x3c, 0xa5, 0x17, 0x3c ^ 0xa5 ^ 0x17, 0x6e, 0xd2, 0, 0};
static const uint32_t LFH_KEY = 0x5eb1c3a7u;

static uint64_t rng_s;
static uint64_t rnd(void)
{
    uint64_t x = rng_s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_s = x;
    return x * 0x2545f4914f6cdd1dull;
}
static uint64_t rng(uint64_t lo, uint64_t hi) /* inclusive */
{
    return lo + rnd() % (hi - lo + 1);
}
static uint64_t up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}
static void die(const char *m)
{
    fprintf(stderr, "gen_ntheap_big: %s\n", m);
    exit(1);
}
static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s);
    if (!p)
        die("out of memory");
    return p;
}
static void p16(uint8_t *b, uint64_t off, uint16_t v)
{
    memcpy(b + off, &v, 2);
}
static void p32(uint8_t *b, uint64_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}
static void p64(uint8_t *b, uint64_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

/* x64 _HEAP_ENTRY at e: the 8 header bytes at +8, checksum byte set, XOR-encoded */
static void hdr(uint8_t *e, uint16_t g, uint8_t flags, uint16_t prev, uint8_t unused)
{
    uint8_t h[8] = {(uint8_t)g,    (uint8_t)(g >> 8),    flags, 0,
                    (uint8_t)prev, (uint8_t)(prev >> 8), 0,     unused};
    h[3] = (uint8_t)(h[0] ^ h[1] ^ h[2]);
    for (int i = 0; i < 8; i++)
        e[8 + i] = h[i] ^ KEY[i];
}

enum { K_BUSY, K_FREE, K_INTERNAL };
typedef struct plan {
    uint16_t g;
    uint8_t kind, unused;
} plan;
typedef struct fent {
    uint64_t addr; /* entry */
    uint32_t g, idx;
} fent;
typedef struct lfhss {
    uint32_t stride, count, fo, busy; /* bytes, blocks, first offset, busy blocks */
    uint64_t container, ss;           /* backend entry, _HEAP_SUBSEGMENT */
} lfhss;
typedef struct seg {
    uint64_t base, hs, commit, reserve; /* hs: bytes covered by the segment's header entry */
    size_t first, n;                    /* plan entries */
} seg;
typedef struct range {
    uint64_t start, size;
} range;
typedef struct minfo {
    uint64_t base, abase, size;
    uint32_t state, protect;
} minfo;

static int cmp_fent(const void *a, const void *b)
{
    const fent *x = a, *y = b;
    if (x->g != y->g)
        return x->g < y->g ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void w32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}
static void w64(FILE *f, uint64_t v)
{
    fwrite(&v, 8, 1, f);
}

static uint8_t pattern[1 << 20];
static void fill(uint8_t *b, uint64_t n, uint64_t phase)
{
    for (uint64_t o = 0; o < n;) {
        uint64_t k = (phase + o) % sizeof pattern, m = sizeof pattern - k;
        if (m > n - o)
            m = n - o;
        memcpy(b + o, pattern + k, m);
        o += m;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 7) {
        fprintf(stderr, "usage: %s OUT [ENTRIES [SEGMENTS [VA_BLOCKS [LFH_SUBSEGMENTS [SEED]]]]]\n",
                argv[0]);
        return 2;
    }
    uint64_t nent = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000;
    uint64_t nseg = argc > 3 ? strtoull(argv[3], NULL, 0) : 8;
    uint64_t nva = argc > 4 ? strtoull(argv[4], NULL, 0) : 2000;
    uint64_t nss = argc > 5 ? strtoull(argv[5], NULL, 0) : 2000;
    rng_s = 0x9e3779b97f4a7c15ull ^ (argc > 6 ? strtoull(argv[6], NULL, 0) : 1);
    if (!nseg || nseg > 1000 || nent < nseg * 16 || nss > nent / 4 || nva > 100000)
        return fprintf(stderr, "gen_ntheap_big: implausible arguments\n"), 2;
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(0x20 + (i * 7 + i / 4096) % 90);

    /* ---- pass 1: the plan ---- */
    plan *pl = xcalloc(nent + nseg, sizeof *pl);
    fent *fr = xcalloc(nent / 2 + 1, sizeof *fr);
    lfhss *ss = xcalloc(nss + 1, sizeof *ss);
    seg *sg = xcalloc(nseg, sizeof *sg);
    size_t np = 0, nfree = 0, nc = 0;
    uint64_t next_base = HEAP;
    uint64_t n_busy = 0, busy_bytes = 0, free_bytes = 0, n_int = 0, int_bytes = 0;
    for (uint64_t s = 0; s < nseg; s++) {
        seg *S = &sg[s];
        S->base = next_base;
        S->hs = s == 0 ? 0x400 : 0x100;
        S->first = np;
        uint64_t want = nent / nseg + (s < nent % nseg ? 1 : 0), cur = S->hs;
        int prev_free = 0;
        for (uint64_t k = 0; k < want; k++) {
            plan p = {0, K_BUSY, 0};
            uint64_t r = rng(0, 999);
            /* containers spread evenly over all entries */
            if (nc < nss && (np + 1) * nss / (nent + 1) > nc) {
                lfhss *L = &ss[nc];
                static const uint32_t strides[] = {0x20, 0x30, 0x40,  0x50,  0x60,  0x80,
                                                   0xa0, 0xc0, 0x100, 0x140, 0x200, 0x400};
                L->stride = strides[rng(0, sizeof strides / sizeof *strides - 1)];
                uint64_t maxc = (0x10000 - 0x100) / L->stride;
                L->count = (uint32_t)rng(maxc / 4, maxc);
                L->fo = (uint32_t)up(0x30 + (L->count + 7) / 8, GRAN);
                L->container = S->base + cur;
                p.kind = K_INTERNAL;
                p.g = (uint16_t)((GRAN + L->fo + (uint64_t)L->stride * L->count) / GRAN);
                p.unused = (uint8_t)GRAN;
                nc++;
                n_int++;
                int_bytes += (uint64_t)p.g * GRAN;
                prev_free = 0;
            } else if (!prev_free && r < 250) {
                p.kind = K_FREE;
                p.g = (uint16_t)rng(2, r < 200 ? 8 : 64);
                fr[nfree++] = (fent){S->base + cur, p.g, (uint32_t)np};
                free_bytes += (uint64_t)p.g * GRAN;
                prev_free = 1;
            } else {
                p.g = (uint16_t)(r < 800 ? rng(2, 6) : r < 980 ? rng(7, 24) : rng(25, 128));
                p.unused = (uint8_t)rng(GRAN, 2 * GRAN - 1);
                n_busy++;
                busy_bytes += (uint64_t)p.g * GRAN - p.unused;
                prev_free = 0;
            }
            pl[np++] = p;
            cur += (uint64_t)p.g * GRAN;
        }
        /* busy filler with LAST_ENTRY up to the next page boundary */
        uint64_t end = up(cur + 2 * GRAN, PAGE);
        plan f = {(uint16_t)((end - cur) / GRAN), K_BUSY, (uint8_t)GRAN};
        pl[np++] = f;
        n_busy++;
        busy_bytes += (uint64_t)f.g * GRAN - f.unused;
        S->n = np - S->first;
        S->commit = end;
        S->reserve = up(end + UCR_TAIL, 0x10000);
        next_base = up(S->base + S->reserve + 0x100000, 0x100000);
    }
    if (nc != nss)
        die("internal: container count");
    /* free list order: size, then address */
    fent *fs = xcalloc(nfree + 1, sizeof *fs);
    memcpy(fs, fr, nfree * sizeof *fs);
    const char *order = getenv("GEN_FREE_ORDER"); /* "address": list in address order */
    if (!order || strcmp(order, "address"))
        qsort(fs, nfree, sizeof *fs, cmp_fent);
    uint64_t *flink = xcalloc(nfree + 1, 8), *blink = xcalloc(nfree + 1, 8);
    uint32_t *pos = xcalloc(np + 1, 4); /* plan index -> index in fr (address order) */
    for (size_t i = 0; i < nfree; i++)
        pos[fr[i].idx] = (uint32_t)i;
    const uint64_t fl_head = HEAP + 0x150;
    for (size_t p = 0; p < nfree; p++) {
        size_t i = pos[fs[p].idx];
        flink[i] = p + 1 < nfree ? fs[p + 1].addr + 0x10 : fl_head;
        blink[i] = p ? fs[p - 1].addr + 0x10 : fl_head;
    }

    /* LFH region: _LFH_HEAP, then block zones of one page each */
    const uint64_t per_zone = (PAGE - ZONE_HDR) / SS_SIZE;
    const uint64_t nzones = (nss + per_zone - 1) / per_zone;
    const uint64_t LFH = next_base;
    const uint64_t lfh_commit = LFH_ZONES_OFF + nzones * PAGE;
    const uint64_t lfh_reserve = up(lfh_commit, 0x10000) + 0x20000;
    for (size_t i = 0; i < nss; i++)
        ss[i].ss =
            LFH + LFH_ZONES_OFF + (i / per_zone) * PAGE + ZONE_HDR + (i % per_zone) * SS_SIZE;
    uint64_t lfh_busy = 0, lfh_free = 0, lfh_busy_bytes = 0, lfh_blocks = 0;

    /* VA blocks */
    const uint64_t VA0 = up(LFH + lfh_reserve + 0x1000000, 0x1000000);
    uint64_t *va = xcalloc(nva + 1, 8), *va_user = xcalloc(nva + 1, 8),
             *va_commit = xcalloc(nva + 1, 8);
    uint64_t vcur = VA0, va_bytes = 0, va_commit_total = 0;
    for (size_t i = 0; i < nva; i++) {
        va[i] = vcur;
        va_user[i] = (uint64_t)VM_THRESHOLD * GRAN + rng(1, 0x40000);
        va_commit[i] = up(0x40 + va_user[i], PAGE);
        va_bytes += va_user[i];
        va_commit_total += va_commit[i];
        vcur = up(vcur + va_commit[i] + 0x10000, 0x10000);
    }
    /* list order: a fixed permutation (allocation order is not address order) */
    size_t *vorder = xcalloc(nva + 1, sizeof *vorder);
    size_t step = 7919; /* prime */
    while (nva && nva % step == 0)
        step += 2;
    for (size_t i = 0; i < nva; i++)
        vorder[i] = (i * step) % nva;

    /* ---- address space: allocations in address order ---- */
    size_t nalloc = 3 + nseg + 1 + nva;
    minfo *al = xcalloc(nalloc * 2, sizeof *al); /* committed / reserved parts */
    size_t nmi = 0;
    range *rg = xcalloc(nalloc, sizeof *rg);
    size_t nrg = 0;
#define ALLOC(b, c, r)                                                                             \
    do {                                                                                           \
        al[nmi++] = (minfo){(b), (b), (c), 0x1000, 4};                                             \
        if ((r) > (c))                                                                             \
            al[nmi++] = (minfo){(b) + (c), (b), (r) - (c), 0x2000, 0};                             \
        rg[nrg++] = (range){(b), (c)};                                                             \
    } while (0)
    /* stack: reserved bottom, committed top */
    al[nmi++] = (minfo){STACK, STACK, 0xfd000, 0x2000, 0};
    al[nmi++] = (minfo){STACK + 0xfd000, STACK, 0x3000, 0x1000, 4};
    rg[nrg++] = (range){STACK + 0xfd000, 0x3000};
    ALLOC(PEB, PAGE, PAGE);
    ALLOC(TEB, 2 * PAGE, 2 * PAGE);
    for (size_t s = 0; s < nseg; s++)
        ALLOC(sg[s].base, sg[s].commit, sg[s].reserve);
    ALLOC(LFH, lfh_commit, lfh_reserve);
    for (size_t i = 0; i < nva; i++)
        ALLOC(va[i], va_commit[i], va_commit[i]);

    /* ---- file layout ---- */
    FILE *f = fopen(argv[1], "wb");
    if (!f)
        die("cannot create the output file");
    setvbuf(f, NULL, _IOFBF, 1 << 22);
    const uint32_t nstreams = 4, dir = 32, si = dir + nstreams * 12, ctx = (si + 56 + 15) & ~15u,
                   ctx_size = 0x4d0, tl = ctx + ctx_size, mil = tl + 4 + 48;
    /* MemoryInfoList: allocations plus the free gaps between them */
    uint64_t nmi_all = nmi;
    for (size_t i = 1; i < nmi; i++)
        if (al[i].base > al[i - 1].base + al[i - 1].size)
            nmi_all++;
    const uint64_t m64 = mil + 16 + nmi_all * 48, data = up(m64 + 16 + nrg * 16, 16);
    if (m64 > 0xffffffffull)
        die("too many regions");
    uint64_t total = 0, seg_off = 0, seg_bytes = 0;
    for (size_t i = 0; i < nrg; i++) {
        if (rg[i].start == sg[0].base)
            seg_off = data + total;
        if (rg[i].start >= HEAP && rg[i].start < LFH)
            seg_bytes += rg[i].size;
        total += rg[i].size;
    }
    fwrite("MDMP", 4, 1, f);
    w32(f, 0xa793);
    w32(f, nstreams);
    w32(f, dir);
    w32(f, 0);
    w32(f, 0x6553f100);
    w64(f, 0x802); /* WithFullMemory | WithFullMemoryInfo */
    w32(f, 7), w32(f, 56), w32(f, si);
    w32(f, 3), w32(f, 4 + 48), w32(f, tl);
    w32(f, 16), w32(f, (uint32_t)(16 + nmi_all * 48)), w32(f, mil);
    w32(f, 9), w32(f, (uint32_t)(16 + nrg * 16)), w32(f, (uint32_t)m64);
    uint8_t sys[56] = {0};
    sys[0] = 9; /* AMD64 */
    sys[2] = 6, sys[4] = 0x0a, sys[5] = 0x9e;
    sys[6] = 2; /* processors */
    sys[7] = 1; /* workstation */
    uint32_t ver[4] = {10, 0, 19041, 2};
    memcpy(sys + 8, ver, 16);
    fwrite(sys, 56, 1, f);
    for (uint64_t o = si + 56; o < ctx; o++)
        fputc(0, f);
    uint8_t c[0x4d0] = {0};
    const uint64_t rsp = STACK + 0xff000;
    p32(c, 0x30, 0x10000b);
    c[0x38] = 0x33;
    p32(c, 0x44, 0x244);
    p64(c, 0x98, rsp);
    p64(c, 0xa0, rsp + 0x40);
    p64(c, 0xf8, 0x00007ffa12341000ull);
    fwrite(c, ctx_size, 1, f);
    w32(f, 1);
    w32(f, 0x1a2c), w32(f, 0), w32(f, 0x20), w32(f, 0);
    w64(f, TEB);
    w64(f, rsp);
    w32(f, (uint32_t)(STACK + 0x100000 - rsp));
    w32(f, (uint32_t)(data + (rsp - (STACK + 0xfd000)))); /* the stack range is the first */
    w32(f, ctx_size), w32(f, ctx);
    w32(f, 16), w32(f, 48), w64(f, nmi_all);
    for (size_t i = 0; i < nmi; i++) {
        if (i && al[i].base > al[i - 1].base + al[i - 1].size) {
            uint64_t b = al[i - 1].base + al[i - 1].size;
            w64(f, b), w64(f, 0), w32(f, 1), w32(f, 0), w64(f, al[i].base - b);
            w32(f, 0x10000), w32(f, 1), w32(f, 0), w32(f, 0);
        }
        w64(f, al[i].base), w64(f, al[i].abase), w32(f, 4), w32(f, 0), w64(f, al[i].size);
        w32(f, al[i].state), w32(f, al[i].protect), w32(f, 0x20000), w32(f, 0);
    }
    w64(f, nrg), w64(f, data);
    for (size_t i = 0; i < nrg; i++)
        w64(f, rg[i].start), w64(f, rg[i].size);
    for (uint64_t o = m64 + 16 + nrg * 16; o < data; o++)
        fputc(0, f);

    /* ---- memory, in range order ---- */
    static uint8_t small[0x3000];
    memset(small, 0, sizeof small); /* stack */
    fwrite(small, 0x3000, 1, f);
    memset(small, 0, sizeof small); /* PEB */
    p64(small, 0x30, HEAP);         /* ProcessHeap */
    p64(small, 0xc8, 0x100000), p64(small, 0xd0, 0x2000);
    p32(small, 0xe8, 1);           /* NumberOfHeaps */
    p32(small, 0xec, 16);          /* MaximumNumberOfHeaps */
    p64(small, 0xf0, PEB + 0x7c8); /* ProcessHeaps: just past the PEB (sizeof 10c x64) */
    p32(small, 0x118, 10), p32(small, 0x11c, 0), p16(small, 0x120, 19041);
    p64(small, 0x7c8, HEAP);
    fwrite(small, PAGE, 1, f);
    memset(small, 0, sizeof small); /* TEB */
    p64(small, 0x00, ~0ull);
    p64(small, 0x08, STACK + 0x100000), p64(small, 0x10, STACK + 0xfd000);
    p64(small, 0x30, TEB);
    p64(small, 0x40, 0x2a10), p64(small, 0x48, 0x1a2c);
    p64(small, 0x60, PEB);
    p64(small, 0x1478, STACK);
    fwrite(small, 2 * PAGE, 1, f);

    uint64_t maxc = 0;
    for (size_t s = 0; s < nseg; s++)
        if (sg[s].commit > maxc)
            maxc = sg[s].commit;
    uint8_t *b = xcalloc(maxc, 1);
    size_t ci = 0; /* next container */
    uint64_t tot_free_g = 0;
    for (size_t i = 0; i < nfree; i++)
        tot_free_g += fr[i].g;
    for (size_t s = 0; s < nseg; s++) {
        seg *S = &sg[s];
        const uint64_t A = S->base;
        fill(b, S->commit, A);
        memset(b, 0, S->hs);
        hdr(b, (uint16_t)(S->hs / GRAN), 0x01, 0, 1); /* the segment's own header entry */
        p32(b, 0x10, 0xffeeffee);                     /* SegmentSignature */
        uint64_t nxt = s + 1 < nseg ? sg[s + 1].base + 0x18 : HEAP + 0x120;
        uint64_t prv = s ? sg[s - 1].base + 0x18 : HEAP + 0x120;
        p64(b, 0x18, nxt), p64(b, 0x20, prv); /* SegmentListEntry */
        p64(b, 0x28, HEAP), p64(b, 0x30, A);  /* Heap, BaseAddress */
        p32(b, 0x38, (uint32_t)(S->reserve / PAGE));
        p64(b, 0x40, A + S->hs), p64(b, 0x48, A + S->reserve); /* FirstEntry, LastValidEntry */
        p32(b, 0x50, (uint32_t)((S->reserve - S->commit) / PAGE)), p32(b, 0x54, 1);
        /* one UCR descriptor at the end of the header area */
        uint64_t ud = s == 0 ? 0x380 : 0x80;
        p64(b, 0x60, A + ud + 0x10), p64(b, 0x68, A + ud + 0x10); /* UCRSegmentList */
        p64(b, ud + 0x10, A + 0x60), p64(b, ud + 0x18, A + 0x60);
        p64(b, ud + 0x20, A + S->commit), p64(b, ud + 0x28, S->reserve - S->commit);
        /* UCRList of the heap, through every descriptor's ListEntry, in segment order */
        uint64_t un = s + 1 < nseg ? sg[s + 1].base + 0x80 : HEAP + 0xf0;
        uint64_t upv = s == 1 ? HEAP + 0x380 : s ? sg[s - 1].base + 0x80 : HEAP + 0xf0;
        p64(b, ud, un), p64(b, ud + 8, upv);
        if (s == 0) {                 /* the _HEAP */
            p32(b, 0x70, 0x2);        /* Flags: GROWABLE */
            p32(b, 0x7c, 0x00100000); /* EncodeFlagMask */
            memcpy(b + 0x88, KEY, 8); /* Encoding */
            p32(b, 0x94, VM_THRESHOLD);
            p32(b, 0x98, 0xeeffeeff); /* Signature */
            p64(b, 0xa0, 0x100000), p64(b, 0xa8, 0x2000);
            p64(b, 0xb0, 0x100), p64(b, 0xb8, 0x1000);
            p64(b, 0xc0, tot_free_g);
            p64(b, 0xc8, 0x7ffffffdefffull);
            p16(b, 0xd0, 1);
            p64(b, 0xf0, HEAP + 0x380); /* UCRList */
            p64(b, 0xf8, nseg > 1 ? sg[nseg - 1].base + 0x80 : HEAP + 0x380);
            p64(b, 0x100, 0x1f), p64(b, 0x108, ~0xfull);
            uint64_t vf = nva ? va[vorder[0]] : HEAP + 0x110;
            uint64_t vb = nva ? va[vorder[nva - 1]] : HEAP + 0x110;
            p64(b, 0x110, vf), p64(b, 0x118, vb); /* VirtualAllocdBlocks */
            p64(b, 0x120, A + 0x18);              /* SegmentList */
            p64(b, 0x128, sg[nseg - 1].base + 0x18);
            p64(b, 0x138, HEAP + 0x300); /* BlocksIndex */
            p64(b, 0x150, nfree ? fs[0].addr + 0x10 : fl_head);
            p64(b, 0x158, nfree ? fs[nfree - 1].addr + 0x10 : fl_head);
            p64(b, 0x160, HEAP + 0x2c0); /* LockVariable */
            p64(b, 0x198, LFH);          /* FrontEndHeap */
            b[0x1a2] = 2, b[0x1a3] = 2;  /* FrontEndHeapType, Requested... */
            uint64_t res = lfh_reserve, com = lfh_commit;
            for (size_t k = 0; k < nseg; k++)
                res += sg[k].reserve, com += sg[k].commit;
            p64(b, 0x238, res), p64(b, 0x240, com), p64(b, 0x248, lfh_reserve);
            p64(b, 0x250, va_commit_total);
            p32(b, 0x258, (uint32_t)nseg), p32(b, 0x25c, (uint32_t)nseg);
            p32(b, 0x26c, 0x2b); /* LockCollisions */
            /* BlocksIndex (_HEAP_LIST_LOOKUP): ArraySize, ItemCount, ListHead */
            p32(b, 0x300 + 0x8, 0x80), p32(b, 0x300 + 0x10, (uint32_t)nfree);
            p64(b, 0x300 + 0x20, fl_head);
        }
        uint64_t cur = S->hs;
        uint16_t prev = (uint16_t)(S->hs / GRAN);
        for (size_t k = 0; k < S->n; k++) {
            const plan *p = &pl[S->first + k];
            size_t pi = S->first + k;
            uint8_t *e = b + cur;
            uint8_t last = k + 1 == S->n ? 0x10 : 0;
            if (p->kind == K_FREE) {
                hdr(e, p->g, last, prev, 0);
                size_t i = pos[pi];
                p64(e, 0x10, flink[i]), p64(e, 0x18, blink[i]);
            } else if (p->kind == K_BUSY) {
                hdr(e, p->g, (uint8_t)(0x01 | last), prev, p->unused);
            } else { /* LFH UserBlocks container */
                lfhss *L = &ss[ci++];
                hdr(e, p->g, (uint8_t)(0x09 | last), prev, p->unused);
                uint8_t *ub = e + GRAN;
                uint64_t uba = A + cur + GRAN;
                memset(ub, 0, (uint64_t)p->g * GRAN - GRAN);
                p64(ub, 0, L->ss);
                ub[0x10] = (uint8_t)(L->stride / GRAN);
                p32(ub, 0x14, 0xf0e0d0c0);
                p32(ub, 0x18, (L->fo | L->stride << 16) ^ (uint32_t)uba ^ (uint32_t)LFH ^ LFH_KEY);
                p32(ub, 0x20, L->count);
                p64(ub, 0x28, uba + 0x30);
                for (uint32_t j = 0; j < L->count; j++) {
                    uint64_t blk = uba + L->fo + (uint64_t)j * L->stride;
                    uint8_t *bp = ub + L->fo + (uint64_t)j * L->stride;
                    int busy = rng(0, 99) < 70;
                    p32(bp, 8, (uint32_t)(blk >> 4) ^ (uint32_t)L->ss ^ LFH_KEY ^ (uint32_t)HEAP);
                    if (busy) {
                        uint8_t u = (uint8_t)rng(GRAN, 2 * GRAN - 1);
                        ub[0x30 + j / 8] |= (uint8_t)(1u << (j % 8));
                        bp[0xf] = (uint8_t)(0x80 | u);
                        fill(bp + GRAN, L->stride - u, blk); /* the requested bytes */
                        L->busy++;
                        lfh_busy_bytes += L->stride - u;
                    } else {
                        bp[0xf] = 0x80;
                    }
                }
                lfh_blocks += L->count;
                lfh_busy += L->busy;
                lfh_free += L->count - L->busy;
            }
            prev = p->g;
            cur += (uint64_t)p->g * GRAN;
        }
        if (cur != S->commit)
            die("internal: segment size");
        if (fwrite(b, 1, S->commit, f) != S->commit)
            die("write error");
    }
    free(b);

    /* LFH region */
    b = xcalloc(lfh_commit, 1);
    p64(b, 0x08, LFH + LFH_ZONES_OFF), p64(b, 0x10, LFH + LFH_ZONES_OFF + (nzones - 1) * PAGE);
    p64(b, 0x18, HEAP); /* _LFH_HEAP.Heap */
    for (uint64_t z = 0; z < nzones; z++) {
        uint64_t zo = LFH_ZONES_OFF + z * PAGE;
        p64(b, zo, z + 1 < nzones ? LFH + zo + PAGE : LFH + 0x08);
        p64(b, zo + 8, z ? LFH + zo - PAGE : LFH + 0x08);
        uint64_t in = nss - z * per_zone < per_zone ? nss - z * per_zone : per_zone;
        p32(b, zo + 0x10, (uint32_t)in); /* NextIndex */
    }
    for (size_t i = 0; i < nss; i++) {
        uint64_t o = ss[i].ss - LFH;
        p64(b, o + 0x08, ss[i].container + GRAN);               /* UserBlocks */
        p16(b, o + 0x20, (uint16_t)(ss[i].count - ss[i].busy)); /* AggregateExchg.Depth */
        p16(b, o + 0x24, (uint16_t)(ss[i].stride / GRAN));      /* BlockSize */
        p16(b, o + 0x28, (uint16_t)ss[i].count);                /* BlockCount */
    }
    fwrite(b, lfh_commit, 1, f);
    free(b);

    /* VA blocks */
    b = xcalloc(up(0x40 + (uint64_t)VM_THRESHOLD * GRAN + 0x40000, PAGE), 1);
    size_t *rank = xcalloc(nva + 1, sizeof *rank);
    for (size_t i = 0; i < nva; i++)
        rank[vorder[i]] = i;
    for (size_t i = 0; i < nva; i++) {
        size_t r = rank[i];
        fill(b, va_commit[i], va[i]);
        memset(b, 0, 0x40);
        p64(b, 0, r + 1 < nva ? va[vorder[r + 1]] : HEAP + 0x110);
        p64(b, 8, r ? va[vorder[r - 1]] : HEAP + 0x110);
        p64(b, 0x20, va_commit[i]), p64(b, 0x28, va_commit[i]);
        hdr(b + 0x30, (uint16_t)(va_commit[i] - va_user[i]), 0x0b, 0, 4);
        if (fwrite(b, 1, va_commit[i], f) != va_commit[i])
            die("write error");
    }
    free(b);
    if (fclose(f) != 0)
        die("write error");

    uint64_t n_backend = np; /* segment header entries are not listed */
    printf("backend_entries %llu\n", (unsigned long long)n_backend);
    printf("backend_busy %llu\n", (unsigned long long)n_busy);
    printf("backend_free %llu\n", (unsigned long long)nfree);
    printf("internal %llu\n", (unsigned long long)n_int);
    printf("va_blocks %llu\n", (unsigned long long)nva);
    printf("lfh_subsegments %llu\n", (unsigned long long)nss);
    printf("lfh_blocks %llu\n", (unsigned long long)lfh_blocks);
    printf("lfh_busy %llu\n", (unsigned long long)lfh_busy);
    printf("all_entries %llu\n", (unsigned long long)(n_backend + nva + lfh_blocks));
    printf("busy_blocks %llu\n", (unsigned long long)(n_busy + nva + lfh_busy));
    printf("busy_bytes %llu\n", (unsigned long long)(busy_bytes + va_bytes + lfh_busy_bytes));
    printf("free_blocks %llu\n", (unsigned long long)(nfree + lfh_free));
    printf("backend_free_bytes %llu\n", (unsigned long long)free_bytes);
    printf("segments %llu\n", (unsigned long long)nseg);
    printf("segment_bytes %llu\n", (unsigned long long)seg_bytes);
    printf("segment_file_offset %llu\n", (unsigned long long)seg_off);
    printf("file_bytes %llu\n", (unsigned long long)(data + total));
    (void)int_bytes;
    return 0;
}
