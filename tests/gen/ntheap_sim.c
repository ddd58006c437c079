/* ntheap_sim --out DIR [--variant NAME ...]
 * Writes simulated Windows minidumps with NT heaps and their truth files (see
 * docs/internals/ntheap-sim.md). Deterministic: one fixed seed per variant. */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum vkind {
    V_NORMAL,
    V_SEGHEAP,
    V_SEED,
    V_NOTNT,
    V_WOW64,
    V_BAD_CHECKSUM,
    V_BAD_PREVSIZE,
    V_FREELIST_CYCLE,
    V_VA_CYCLE,
    V_SEG_OUTSIDE,
    V_PAGE_MISSING,
    V_LFH_BADSIG
};

typedef struct variant {
    const char *name;
    uint64_t seed;
    bool x64;
    unsigned major, minor, build;
    int layout;
    enum vkind kind;
    const char *desc;
} variant;

#define W10X64 0x1010, true, 10, 0, 19041, L_10C
static const variant variants[] = {
    {"w7-x86", 0x0701, false, 6, 1, 7601, L_W7, V_NORMAL, "Windows 7 SP1 x86, W7 LFH"},
    {"w7-x64", 0x0702, true, 6, 1, 7601, L_W7, V_NORMAL, "Windows 7 SP1 x64, W7 LFH"},
    {"w8-x86", 0x0802, false, 6, 3, 9600, L_W8, V_NORMAL, "Windows 8.1 x86, W8+ LFH"},
    {"w8-x64", 0x0801, true, 6, 3, 9600, L_W8, V_NORMAL, "Windows 8.1 x64, W8+ LFH"},
    {"w10b-x86", 0x1003, false, 10, 0, 17134, L_10B, V_NORMAL, "Windows 10 1803 x86"},
    {"w10b-x64", 0x1001, true, 10, 0, 17134, L_10B, V_NORMAL, "Windows 10 1803 x64"},
    {"w10-x86", 0x1002, false, 10, 0, 19041, L_10C, V_NORMAL, "Windows 10 2004 x86"},
    {"w10-x64", W10X64, V_NORMAL, "Windows 10 2004 x64"},
    {"w11-x64", 0x1101, true, 10, 0, 22621, L_10C, V_NORMAL, "Windows 11 22H2 x64"},
    {"wow64", 0x6464, true, 10, 0, 19041, L_10C, V_WOW64,
     "WoW64 on Windows 10 2004: x64 heaps on PEB64, x86 heaps on PEB32"},
    {"segheap-x64", 0x5e61, true, 10, 0, 19041, L_10C, V_SEGHEAP,
     "Windows 10 2004 x64: one NT heap and one segment heap"},
    {"seed-x86", 0x5eed, false, 10, 0, 19041, L_10C, V_SEED,
     "Windows 10 x86: the second seed's heap 06e90000 (8 segments, 624 VA blocks)"},
    {"notnt-x64", 0x0bad, true, 10, 0, 19041, L_10C, V_NOTNT,
     "PEB lists a heap whose signatures fail (Wine-like) and one NT heap"},
    {"w10-x64-bad-checksum", W10X64, V_BAD_CHECKSUM, "w10-x64, one entry's checksum byte wrong"},
    {"w10-x64-bad-prevsize", W10X64, V_BAD_PREVSIZE, "w10-x64, one entry's PreviousSize wrong"},
    {"w10-x64-freelist-cycle", W10X64, V_FREELIST_CYCLE, "w10-x64, FreeLists with a cycle"},
    {"w10-x64-va-cycle", W10X64, V_VA_CYCLE, "w10-x64, VirtualAllocdBlocks with a cycle"},
    {"w10-x64-seg-outside", W10X64, V_SEG_OUTSIDE,
     "w10-x64, a SegmentList link to an address not in the dump"},
    {"w10-x64-page-missing", W10X64, V_PAGE_MISSING,
     "w10-x64, a committed heap page with entry headers not captured"},
    {"w10-x64-lfh-badsig", W10X64, V_LFH_BADSIG, "w10-x64, one UserBlocks with a bad signature"},
};
#define NVARIANTS (sizeof variants / sizeof *variants)

/* ---- process skeleton: modules, PEB(s), TEBs, stacks ---- */

static unsigned peb_size(const sim_proc *p, bool is32)
{
    unsigned b = p->build;
    if (is32)
        return b < 9200    ? 0x248
               : b < 10586 ? 0x250
               : b < 16299 ? 0x460
               : b < 17134 ? 0x468
               : b < 17763 ? 0x470
               : b < 22000 ? 0x480
                           : 0x488;
    return b < 9200    ? 0x380
           : b < 10586 ? 0x388
           : b < 16299 ? 0x7a0
           : b < 17134 ? 0x7b0
           : b < 17763 ? 0x7b8
           : b < 22000 ? 0x7c8
                       : 0x7d0;
}

static void add_module(sim_proc *p, const char *path, uint64_t base, uint32_t size,
                       const uint16_t ver[4])
{
    sim_module *m = &p->mods[p->nmods++];
    m->path = path;
    m->base = base;
    m->size = size;
    m->ts = 0x5f3c2a10 + (uint32_t)p->nmods;
    memcpy(m->ver, ver, sizeof m->ver);
    sim_alloc_at(p, base, align_up(size, 0x10000), MEM_IMAGE, 0x80, path);
    sim_commit(p, base, size, PAGE_EXECUTE_READ);
}

static void ntdll_version(const sim_proc *p, uint16_t v[4])
{
    v[0] = (uint16_t)p->major;
    v[1] = (uint16_t)p->minor;
    v[2] = (uint16_t)p->build;
    v[3] = p->build == 7601    ? 24545
           : p->build == 9600  ? 19678
           : p->build == 17134 ? 1
           : p->build == 19041 ? 1415
                               : 2506;
}

/* One PEB (x86 or x64 layout) at `peb`; the heap array right behind it. */
static uint64_t write_peb(sim_proc *p, uint64_t peb, bool is32, uint64_t image)
{
    unsigned ps = is32 ? 4 : 8;
    uint64_t heaps = peb + peb_size(p, is32);
    sim_wptr(p, peb + (is32 ? 0x08 : 0x10), ps, image);
    sim_w32(p, peb + (is32 ? 0x64 : 0xb8), 4);
    sim_w32(p, peb + (is32 ? 0x68 : 0xbc), 0); /* NtGlobalFlag */
    sim_wptr(p, peb + (is32 ? 0x78 : 0xc8), ps, 0x100000);
    sim_wptr(p, peb + (is32 ? 0x7c : 0xd0), ps, 0x2000);
    sim_wptr(p, peb + (is32 ? 0x80 : 0xd8), ps, 0x10000);
    sim_wptr(p, peb + (is32 ? 0x84 : 0xe0), ps, 0x1000);
    sim_w32(p, peb + (is32 ? 0x8c : 0xec), 16);
    sim_wptr(p, peb + (is32 ? 0x90 : 0xf0), ps, heaps);
    sim_w32(p, peb + (is32 ? 0xa4 : 0x118), p->major);
    sim_w32(p, peb + (is32 ? 0xa8 : 0x11c), p->minor);
    sim_w16(p, peb + (is32 ? 0xac : 0x120), (uint16_t)p->build);
    sim_w32(p, peb + (is32 ? 0xb4 : 0x128), 3);
    return heaps;
}

static void set_heaps(sim_proc *p, uint64_t peb, bool is32, sim_heap **hs, size_t n,
                      const char *pebname)
{
    unsigned ps = is32 ? 4 : 8;
    uint64_t arr = sim_rptr(p, peb + (is32 ? 0x90 : 0xf0), ps);
    for (size_t i = 0; i < n; i++) {
        sim_wptr(p, arr + i * ps, ps, hs[i]->addr);
        sim_heap_set_index(p, hs[i], (int)i);
        hs[i]->peb_name = pebname;
        hs[i]->process_heap = i == 0;
        p->heaps[p->nheaps++] = hs[i];
    }
    sim_w32(p, peb + (is32 ? 0x88 : 0xe8), (uint32_t)n);
    sim_wptr(p, peb + (is32 ? 0x18 : 0x30), ps, n ? hs[0]->addr : 0);
}

/* A stack: reserve, one guard page, `commit` committed bytes at the top. */
static void make_stack(sim_proc *p, uint64_t hint, uint64_t *base, uint64_t *limit,
                       uint64_t *dealloc)
{
    sim_alloc *a = sim_reserve(p, hint, 0x100000, MEM_PRIVATE, PAGE_READWRITE, "stack");
    a->capture_all = true;
    uint64_t top = a->base + a->size, commit = 0x3000;
    sim_commit(p, top - commit, commit, PAGE_READWRITE);
    sim_commit(p, top - commit - PAGE, PAGE, PAGE_READWRITE | PAGE_GUARD);
    *base = top;
    *limit = top - commit;
    *dealloc = a->base;
}

static void setup_process(sim_proc *p, sim_rng *r, const variant *v, bool wow64)
{
    p->wow64 = wow64;
    p->lfh_key = (uint32_t)rng_next(r);
    uint16_t nv[4];
    ntdll_version(p, nv);
    bool x64 = p->x64;
    uint64_t lowhint = 0x00100000, hint = (x64 && !wow64) ? 0x000000c000000000ull : lowhint;
    uint64_t image;
    if (x64 && !wow64) {
        image = 0x00007ff65a3c0000ull;
        add_module(p, "C:\\sim\\heapsim.exe", image, 0x2d000, (uint16_t[]){1, 0, 0, 0});
        add_module(p, "C:\\Windows\\System32\\ntdll.dll", 0x00007ffb1c8a0000ull, 0x1f5000, nv);
        add_module(p, "C:\\Windows\\System32\\kernel32.dll", 0x00007ffb1b2e0000ull, 0xbf000, nv);
    } else if (wow64) {
        image = 0x00400000;
        add_module(p, "C:\\sim\\heapsim32.exe", image, 0x25000, (uint16_t[]){1, 0, 0, 0});
        add_module(p, "C:\\Windows\\System32\\ntdll.dll", 0x00007ffb1c8a0000ull, 0x1f5000, nv);
        add_module(p, "C:\\Windows\\System32\\wow64.dll", 0x00007ffb1b9c0000ull, 0x59000, nv);
        add_module(p, "C:\\Windows\\System32\\wow64win.dll", 0x00007ffb1ba20000ull, 0x84000, nv);
        add_module(p, "C:\\Windows\\System32\\wow64cpu.dll", 0x77a30000, 0xa000, nv);
        add_module(p, "C:\\Windows\\SysWOW64\\ntdll.dll", 0x77a40000, 0x1a3000, nv);
        add_module(p, "C:\\Windows\\SysWOW64\\kernel32.dll", 0x76f00000, 0xf0000, nv);
    } else {
        image = 0x00400000;
        add_module(p, "C:\\sim\\heapsim32.exe", image, 0x25000, (uint16_t[]){1, 0, 0, 0});
        add_module(p, "C:\\Windows\\System32\\ntdll.dll", 0x77a40000, 0x1a3000, nv);
        add_module(p, "C:\\Windows\\System32\\kernel32.dll", 0x76f00000, 0xf0000, nv);
    }
    /* PEB (WoW64: PEB32 = PEB64 + 0x1000, the Win8+ rule) */
    sim_alloc *pa = sim_reserve(p, hint + 0x200000, wow64 ? 0x2000 : 0x1000, MEM_PRIVATE,
                                PAGE_READWRITE, "PEB");
    pa->capture_all = true;
    sim_commit(p, pa->base, pa->size, PAGE_READWRITE);
    p->peb = pa->base;
    write_peb(p, p->peb, !x64, image);
    if (wow64) {
        p->peb32 = pa->base + 0x1000;
        write_peb(p, p->peb32, true, image);
    }
    /* threads */
    p->nthreads = 2;
    for (size_t i = 0; i < p->nthreads; i++) {
        sim_thread *t = &p->threads[i];
        t->tid = 0x1a30 + (uint32_t)i * 0x11c;
        uint64_t tebsz = wow64 ? 0x3000 : x64 ? 0x2000 : 0x1000;
        sim_alloc *ta = sim_reserve(p, hint + 0x300000, tebsz, MEM_PRIVATE, PAGE_READWRITE, "TEB");
        ta->capture_all = true;
        sim_commit(p, ta->base, tebsz, PAGE_READWRITE);
        t->teb = ta->base;
        uint64_t sb, sl, dealloc;
        make_stack(p, hint + 0x400000, &sb, &sl, &dealloc);
        t->stack_base = sb;
        t->stack_limit = sl;
        t->sp = sb - 0x800 - i * 0x100;
        t->pc = p->mods[1].base + 0x9c584 + i * 0x40;
        sim_wptr(p, t->sp, x64 ? 8 : 4, t->pc + 0x20); /* a return address */
        if (x64) {
            sim_w64(p, t->teb + 0x08, sb);
            sim_w64(p, t->teb + 0x10, sl);
            sim_w64(p, t->teb + 0x30, t->teb);
            sim_w64(p, t->teb + 0x40, 0x2f48);
            sim_w64(p, t->teb + 0x48, t->tid);
            sim_w64(p, t->teb + 0x60, p->peb);
            sim_w64(p, t->teb + 0x1478, dealloc);
        } else {
            sim_w32(p, t->teb + 0x00, 0xffffffff);
            sim_w32(p, t->teb + 0x04, (uint32_t)sb);
            sim_w32(p, t->teb + 0x08, (uint32_t)sl);
            sim_w32(p, t->teb + 0x18, (uint32_t)t->teb);
            sim_w32(p, t->teb + 0x20, 0x2f48);
            sim_w32(p, t->teb + 0x24, t->tid);
            sim_w32(p, t->teb + 0x30, (uint32_t)p->peb);
            sim_w32(p, t->teb + 0xe0c, (uint32_t)dealloc);
        }
        if (wow64) {
            uint64_t t32 = t->teb + 0x2000, sb32, sl32, d32;
            t->teb32 = t32;
            make_stack(p, lowhint + 0x500000, &sb32, &sl32, &d32);
            sim_w64(p, t->teb + 0x00, t32); /* NtTib.ExceptionList -> TEB32 */
            sim_w32(p, t->teb + 0x180c, 0x2000);
            sim_w32(p, t32 + 0x00, 0xffffffff);
            sim_w32(p, t32 + 0x04, (uint32_t)sb32);
            sim_w32(p, t32 + 0x08, (uint32_t)sl32);
            sim_w32(p, t32 + 0x18, (uint32_t)t32);
            sim_w32(p, t32 + 0x20, 0x2f48);
            sim_w32(p, t32 + 0x24, t->tid);
            sim_w32(p, t32 + 0x30, (uint32_t)p->peb32);
            sim_w32(p, t32 + 0xe0c, (uint32_t)d32);
            sim_w32(p, t32 + 0xfdc, (uint32_t)-0x2000);
            sim_w32(p, sb32 - 0x400, (uint32_t)p->mods[5].base + 0x7a2c0);
        }
    }
}

/* ---- heaps per variant ---- */

static sim_heapspec std_spec(int which, uint64_t hint)
{
    sim_heapspec s;
    memset(&s, 0, sizeof s);
    s.hint = hint;
    switch (which) {
    case 0: /* process heap */
        s.flags = 0x2;
        s.nsegs = 3;
        s.nva = 2;
        s.lfh = true;
        s.nsubsegs = 5;
        break;
    case 1:
        s.flags = 0x1002;
        s.nsegs = 1;
        s.nva = 0;
        s.avg_busy_granules = 20;
        s.tags = true;
        break;
    default:
        s.flags = 0x41002;
        s.nsegs = 2;
        s.nva = 0;
        s.lfh = true;
        s.nsubsegs = 2;
        break;
    }
    return s;
}

static void std_heaps(sim_proc *p, sim_rng *r, const variant *v, bool is32, int n, uint64_t hint,
                      const char *pebname, uint64_t peb)
{
    sim_heap *hs[4];
    for (int i = 0; i < n; i++) {
        sim_heapspec s = std_spec(i, hint);
        hs[i] = sim_build_nt_heap(p, r, is32, v->layout, &s);
    }
    set_heaps(p, peb, is32, hs, (size_t)n, pebname);
}

static const uint64_t seed_va[] = {0x06ea4000, 0x070b2000, 0x079f4000, 0x07c0f000, 0x0802b000,
                                   0x08238000, 0x08444000, 0x0865f000, 0x0e20f000, 0x0e42b000,
                                   0x0e635000, 0x0e841000, 0x0c661000, 0x0c87e000, 0x0ca8b000,
                                   0x0ea56000, 0x0f062000, 0x0f275000};

static void seed_heaps(sim_proc *p, sim_rng *r, const variant *v)
{
    sim_heap *hs[2];
    sim_heapspec s0 = std_spec(1, 0);
    s0.base = 0x00770000;
    s0.flags = 0x2;
    s0.lfh = true;
    s0.nsubsegs = 3;
    s0.tags = false; /* the seed's heaps have no tags (its `!heap -m`: all tag fields 0) */
    hs[0] = sim_build_nt_heap(p, r, true, v->layout, &s0);

    sim_heapspec s;
    memset(&s, 0, sizeof s);
    static const struct {
        uint64_t base, reserve, committed;
        int nucr;
    } seg[8] = {{0x06e90000, 0xf000, 0xf000, 0},     {0x078f0000, 0xff000, 0xff000, 0},
                {0x08870000, 0x1ff000, 0x1ff000, 0}, {0x0ec60000, 0x3ff000, 0x3f9000, 2},
                {0x18660000, 0x7ff000, 0x7fa000, 2}, {0x26b20000, 0xfcf000, 0xfc0000, 2},
                {0x45320000, 0xfcf000, 0xfcf000, 0}, {0x65bf0000, 0xfcf000, 0x8bf000, 3}};
    const uint64_t total_free_g = 0x2cd56, nfree = 473;
    uint64_t tot_comm = 0;
    for (int i = 0; i < 8; i++)
        tot_comm += seg[i].committed;
    uint64_t fcount = 0, fgran = 0;
    s.nsegs = 8;
    for (int i = 0; i < 8; i++) {
        sim_segspec *g = &s.segs[i];
        g->base = seg[i].base;
        g->reserve = seg[i].reserve;
        g->committed = seg[i].committed;
        g->nucr = seg[i].nucr;
        g->nfree = (int)(nfree * seg[i].committed / tot_comm);
        g->free_bytes = g->nfree ? (total_free_g * seg[i].committed / tot_comm) * 8 : 0;
        fcount += (uint64_t)g->nfree;
        fgran += g->free_bytes / 8;
    }
    s.segs[6].nfree += (int)(nfree - fcount); /* fully committed 16 MB segment */
    s.segs[6].free_bytes += (total_free_g - fgran) * 8;
    s.flags = 0x1002;
    s.vmt = 0xfe00;
    s.seg_reserve = 0x3f70000;
    s.seg_commit = 0x2000;
    s.dc_free = 0x800;
    s.dc_total = 0x2000;
    s.nva = 624;
    s.va_user_min = s.va_user_max = 0x200000;
    s.va_addrs = seed_va;
    s.nva_addrs = sizeof seed_va / sizeof *seed_va;
    s.va_last_addr = 0x7c0d0000;
    s.hint = 0x10000000;
    s.lfh = true;
    s.nsubsegs = 6;
    s.total_free_granules = total_free_g;
    s.seed_counters = true;
    s.c_reserved = 64180 * 1024ull;
    s.c_committed = 56660 * 1024ull;
    s.c_large_ucr = (64180 - 63968) * 1024ull;
    s.c_lock_collisions = 7;
    s.sparse = true;
    hs[1] = sim_build_nt_heap(p, r, true, v->layout, &s);
    set_heaps(p, p->peb, true, hs, 2, "peb");
}

static void build_heaps(sim_proc *p, sim_rng *r, const variant *v)
{
    uint64_t hint = p->x64 ? 0x000001f000000000ull : 0x00500000;
    switch (v->kind) {
    case V_WOW64: {
        std_heaps(p, r, v, false, 2, 0x00600000, "peb", p->peb);
        std_heaps(p, r, v, true, 3, 0x01000000, "peb32", p->peb32);
        break;
    }
    case V_SEGHEAP: {
        sim_heap *hs[2];
        sim_heapspec s = std_spec(0, hint);
        hs[0] = sim_build_nt_heap(p, r, false, v->layout, &s);
        hs[1] = sim_build_segment_heap(p, r);
        set_heaps(p, p->peb, false, hs, 2, "peb");
        break;
    }
    case V_SEED:
        p->lfh_key = 0xbb72f2a3; /* the seed's `!heap -s` "LFH Key" */
        seed_heaps(p, r, v);
        break;
    case V_NOTNT: {
        sim_heap *hs[2];
        hs[0] = sim_build_not_nt_heap(p, r);
        sim_heapspec s = std_spec(2, hint);
        hs[1] = sim_build_nt_heap(p, r, false, v->layout, &s);
        set_heaps(p, p->peb, false, hs, 2, "peb");
        break;
    }
    default:
        std_heaps(p, r, v, !p->x64, 3, hint, "peb", p->peb);
        break;
    }
}

/* ---- corruptions (of the process heap of w10-x64) ---- */

static sim_issue *add_issue(sim_proc *p, const char *kind, const sim_heap *h, uint64_t addr,
                            bool exact, const char *also, const char *detail)
{
    sim_issue *is = &p->issues[p->nissues++];
    is->kind = kind;
    is->heap = h->addr;
    is->addr = addr;
    is->exact = exact;
    is->also = also;
    snprintf(is->detail, sizeof is->detail, "%s", detail);
    return is;
}

/* Marks block i and every later block of its segment unreliable. */
static void unreliable_from(sim_heap *h, size_t i)
{
    for (size_t k = i; k < h->nblocks && h->blocks[k].seg == h->blocks[i].seg; k++)
        h->blocks[k].unreliable = true;
}

/* A busy block of segment `seg` near the middle that is not first/last in its run. */
static size_t pick_block(const sim_heap *h, int seg)
{
    size_t first = h->nblocks, last = 0;
    for (size_t i = 0; i < h->nblocks; i++)
        if (h->blocks[i].seg == seg) {
            if (first == h->nblocks)
                first = i;
            last = i;
        }
    for (size_t i = (first + last) / 2; i <= last; i++)
        if (h->blocks[i].state == 1 && !h->blocks[i].run_last && i > first &&
            h->blocks[i].prev != 0)
            return i;
    sim_die("no block to corrupt in segment %d", seg);
}

static void corrupt(sim_proc *p, const variant *v)
{
    sim_heap *h = p->heaps[0];
    switch (v->kind) {
    case V_BAD_CHECKSUM: {
        size_t i = pick_block(h, 0);
        uint64_t a = sim_heap_hdr(h, h->blocks[i].addr) + 3;
        uint8_t b;
        sim_read(p, a, &b, 1);
        sim_w8(p, a, b ^ 0x5a);
        unreliable_from(h, i);
        add_issue(p, "checksum", h, h->blocks[i].addr, true, NULL,
                  "SmallTagIndex (checksum) byte XORed with 0x5a");
        break;
    }
    case V_BAD_PREVSIZE: {
        size_t i = pick_block(h, 1);
        uint64_t a = sim_heap_hdr(h, h->blocks[i].addr) + 4;
        uint8_t b[2];
        sim_read(p, a, b, 2);
        uint16_t enc = (uint16_t)(b[0] | b[1] << 8);
        uint16_t plain = enc ^ (uint16_t)(h->key[4] | h->key[5] << 8);
        plain = (uint16_t)(plain + 3);
        enc = plain ^ (uint16_t)(h->key[4] | h->key[5] << 8);
        sim_w16(p, a, enc);
        unreliable_from(h, i);
        add_issue(p, "size_chain", h, h->blocks[i].addr, true, NULL,
                  "PreviousSize is 3 granules larger than the previous entry's Size");
        break;
    }
    case V_FREELIST_CYCLE: {
        if (h->nfree < 3)
            sim_die("freelist-cycle needs 3 free entries");
        uint64_t last = h->free_list[h->nfree - 1];
        sim_wptr(p, last + h->gran, h->ps, h->free_list[1] + h->gran);
        h->free_list_unreliable = true;
        add_issue(p, "list_cycle", h, last, false, "list_link",
                  "Flink of the last free entry points back to the second one");
        break;
    }
    case V_VA_CYCLE: {
        if (h->nva < 2)
            sim_die("va-cycle needs 2 VA blocks");
        sim_wptr(p, h->va[h->nva - 1].addr, h->ps, h->va[0].addr);
        add_issue(p, "list_cycle", h, h->va[h->nva - 1].addr, false, "list_link",
                  "Flink of the last VA entry points back to the first one");
        break;
    }
    case V_SEG_OUTSIDE: {
        if (h->nsegs < 3)
            sim_die("seg-outside needs 3 segments");
        uint64_t bogus = 0x00007ff0dead0000ull;
        unsigned off = sim_heap_seglist_off(h);
        sim_wptr(p, h->segs[1].addr + off, h->ps, bogus + off);
        for (int s = 2; s < h->nsegs; s++) {
            h->segs[s].unreliable = true;
            for (size_t i = 0; i < h->nblocks; i++)
                if (h->blocks[i].seg == s)
                    h->blocks[i].unreliable = true;
        }
        for (size_t k = 0; k < h->nsubs; k++)
            for (size_t i = 0; i < h->nblocks; i++)
                if (h->blocks[i].addr == h->subs[k].container && h->blocks[i].unreliable)
                    h->subs[k].unreliable = true;
        add_issue(p, "not_in_dump", h, bogus, true, NULL,
                  "segment 1's SegmentListEntry.Flink points to an unmapped address");
        break;
    }
    case V_PAGE_MISSING: {
        size_t i = pick_block(h, 1);
        uint64_t page = h->blocks[i].addr & ~(PAGE - 1);
        if (page <= h->segs[1].addr)
            sim_die("page-missing: picked the segment header page");
        sim_exclude_page(p, page);
        size_t first = i;
        while (first > 0 && h->blocks[first - 1].seg == 1 && h->blocks[first - 1].addr >= page)
            first--;
        unreliable_from(h, first);
        for (size_t k = 0; k < h->nsubs; k++)
            for (size_t j = 0; j < h->nblocks; j++)
                if (h->blocks[j].addr == h->subs[k].container &&
                    (h->blocks[j].unreliable || (h->blocks[j].addr < page + PAGE &&
                                                 page < h->blocks[j].addr + h->blocks[j].size)))
                    h->subs[k].unreliable = true;
        for (size_t j = 0; j < h->nblocks; j++)
            if (h->blocks[j].state == 0 && h->blocks[j].unreliable)
                h->free_list_unreliable = true;
        add_issue(p, "not_in_dump", h, page, true, NULL,
                  "committed page (MemoryInfoList) absent from Memory64List");
        break;
    }
    case V_LFH_BADSIG: {
        if (h->nsubs < 2)
            sim_die("lfh-badsig needs 2 subsegments");
        sim_w32(p, h->subs[1].ub + sim_heap_udsig_off(h), 0xdeadbeef);
        h->subs[1].unreliable = true;
        add_issue(p, "bad_signature", h, h->subs[1].ub, true, NULL,
                  "_HEAP_USERDATA_HEADER.Signature is 0xdeadbeef instead of 0xF0E0D0C0");
        break;
    }
    default:
        break;
    }
}

/* ---- truth ---- */

static cJSON *truth(const sim_proc *p, const variant *v, cJSON *uncaptured)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "format", 1);
    cJSON_AddStringToObject(o, "variant", v->name);
    cJSON_AddNumberToObject(o, "seed", (double)v->seed);
    cJSON_AddStringToObject(o, "description", v->desc);
    cJSON *os = cJSON_AddObjectToObject(o, "os");
    cJSON_AddStringToObject(os, "arch", p->x64 ? "x64" : "x86");
    cJSON_AddBoolToObject(os, "wow64", p->wow64);
    cJSON_AddNumberToObject(os, "major", p->major);
    cJSON_AddNumberToObject(os, "minor", p->minor);
    cJSON_AddNumberToObject(os, "build", p->build);
    cJSON_AddItemToObject(o, "peb", sim_jhex(p->peb));
    cJSON_AddItemToObject(o, "peb32", p->peb32 ? sim_jhex(p->peb32) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "nt_global_flag", 0);
    cJSON_AddItemToObject(o, "lfh_key", sim_jhex(p->lfh_key));
    cJSON *mods = cJSON_AddArrayToObject(o, "modules");
    for (size_t i = 0; i < p->nmods; i++) {
        const sim_module *m = &p->mods[i];
        cJSON *j = cJSON_CreateObject();
        const char *bs = strrchr(m->path, '\\');
        cJSON_AddStringToObject(j, "name", bs ? bs + 1 : m->path);
        cJSON_AddStringToObject(j, "path", m->path);
        cJSON_AddItemToObject(j, "base", sim_jhex(m->base));
        cJSON_AddNumberToObject(j, "size", m->size);
        char ver[48];
        snprintf(ver, sizeof ver, "%u.%u.%u.%u", m->ver[0], m->ver[1], m->ver[2], m->ver[3]);
        cJSON_AddStringToObject(j, "version", ver);
        cJSON_AddItemToArray(mods, j);
    }
    cJSON *th = cJSON_AddArrayToObject(o, "threads");
    for (size_t i = 0; i < p->nthreads; i++) {
        const sim_thread *t = &p->threads[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "tid", t->tid);
        cJSON_AddItemToObject(j, "teb", sim_jhex(t->teb));
        cJSON_AddItemToObject(j, "teb32", t->teb32 ? sim_jhex(t->teb32) : cJSON_CreateNull());
        cJSON_AddItemToObject(j, "stack_base", sim_jhex(t->stack_base));
        cJSON_AddItemToObject(j, "stack_limit", sim_jhex(t->stack_limit));
        cJSON_AddItemToArray(th, j);
    }
    cJSON_AddItemToObject(o, "uncaptured", uncaptured);
    cJSON *hs = cJSON_AddArrayToObject(o, "heaps");
    for (size_t i = 0; i < p->nheaps; i++)
        cJSON_AddItemToArray(hs, sim_heap_json(p->heaps[i]));
    cJSON *is = cJSON_AddArrayToObject(o, "issues");
    for (size_t i = 0; i < p->nissues; i++) {
        const sim_issue *x = &p->issues[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "kind", x->kind);
        cJSON_AddItemToObject(j, "heap", sim_jhex(x->heap));
        cJSON_AddItemToObject(j, "address", sim_jhex(x->addr));
        cJSON_AddBoolToObject(j, "address_exact", x->exact);
        cJSON *a = cJSON_AddArrayToObject(j, "also_acceptable");
        if (x->also)
            cJSON_AddItemToArray(a, cJSON_CreateString(x->also));
        cJSON_AddStringToObject(j, "detail", x->detail);
        cJSON *ih = cJSON_AddArrayToObject(j, "intact_heaps");
        for (size_t k = 0; k < p->nheaps; k++)
            if (p->heaps[k]->addr != x->heap)
                cJSON_AddItemToArray(ih, sim_jhex(p->heaps[k]->addr));
        cJSON_AddItemToArray(is, j);
    }
    return o;
}

static void generate(const variant *v, const char *dir)
{
    sim_proc p;
    sim_rng r = {v->seed * 0x9e3779b97f4a7c15ull + 1};
    sim_proc_init(&p, v->x64, v->major, v->minor, v->build);
    setup_process(&p, &r, v, v->kind == V_WOW64);
    build_heaps(&p, &r, v);
    corrupt(&p, v);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.dmp", dir, v->name);
    cJSON *unc = sim_write_minidump(&p, path);
    cJSON *t = truth(&p, v, unc);
    char *text = cJSON_PrintUnformatted(t);
    if (!text)
        sim_die("out of memory");
    snprintf(path, sizeof path, "%s/%s.truth.json", dir, v->name);
    FILE *f = fopen(path, "w");
    if (!f)
        sim_die("cannot write %s", path);
    fputs(text, f);
    fputc('\n', f);
    if (fclose(f) != 0)
        sim_die("write error on %s", path);
    free(text);
    cJSON_Delete(t);
    sim_proc_free(&p);
}

static void usage(void)
{
    fputs("usage: ntheap_sim --out DIR [--variant NAME ...] | --list\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    const char *sel[64];
    size_t nsel = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--variant") && i + 1 < argc && nsel < 64) {
            sel[nsel++] = argv[++i];
        } else if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < NVARIANTS; k++)
                printf("%s\t%s\n", variants[k].name, variants[k].desc);
            return 0;
        } else {
            usage();
        }
    }
    if (!out)
        usage();
    if (mkdir(out, 0777) != 0 && errno != EEXIST)
        sim_die("cannot create %s", out);
    for (size_t k = 0; k < nsel; k++) {
        bool found = false;
        for (size_t i = 0; i < NVARIANTS; i++)
            found |= !strcmp(sel[k], variants[i].name);
        if (!found)
            sim_die("unknown variant %s (see --list)", sel[k]);
    }
    for (size_t i = 0; i < NVARIANTS; i++) {
        bool want = nsel == 0;
        for (size_t k = 0; k < nsel; k++)
            want |= !strcmp(sel[k], variants[i].name);
        if (want)
            generate(&variants[i], out);
    }
    return 0;
}
