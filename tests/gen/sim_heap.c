/* ntheap_sim: NT heaps (segments, entries, free list, UCRs, VA blocks, LFH), segment heaps and a
 * non-NT heap, plus their truth JSON. Offsets: ../shared/reference/nt-heap.md §2, §4, §5. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* ---- layouts ---- */

typedef struct lay {
    unsigned ps, gran;
    /* _HEAP_SEGMENT part */
    unsigned sig, segflags, seglist, heapp, base, npages, first, last, nucp, nucr, ucrseg, segsize;
    /* _HEAP */
    unsigned flags, force, encmask, key, pointer_key, vmt, signature, segres, segcom, dcfree,
        dctotal, totfree, maxalloc, phidx, ucrlist, alround, almask, va, seglisthead, blocksindex,
        freelists, lockvar, feh, fetype, counters, heapsize;
    /* NextAvailableTagIndex / MaximumTagIndex (u16), TagEntries / PseudoTagEntries (pointers):
     * volatility vtypes (S1) and radare2 `dt ntdll!_HEAP` (S2), see docs/internals/layouts.md */
    unsigned tag_next, tag_max, tag_entries, tag_pseudo;
    /* _HEAP_COUNTERS */
    unsigned c_allocfree, c_hwm;
    /* _HEAP_UCR_DESCRIPTOR, _HEAP_VIRTUAL_ALLOC_ENTRY */
    unsigned ucr_seg, ucr_addr, ucr_size, ucr_sizeof, va_commit, va_reserve, va_busy, va_sizeof;
    /* LFH */
    unsigned lfh_zones, lfh_heap, lfh_localdata, zone_off, zone_first, zone_next;
    unsigned ss_ub, ss_agg, ss_bsize, ss_bcount, ss_sizeidx, ss_sizeof;
    unsigned ud_sizeidx, ud_sig, ud_encoff, ud_bitmap, ud_bitmapdata, ud_w7first;
} lay;

static lay get_layout(bool is32, int L)
{
    lay l;
    memset(&l, 0, sizeof l);
    if (is32) {
        l.ps = 4;
        l.gran = 8;
        l.sig = 0x8;
        l.segflags = 0xc;
        l.seglist = 0x10;
        l.heapp = 0x18;
        l.base = 0x1c;
        l.npages = 0x20;
        l.first = 0x24;
        l.last = 0x28;
        l.nucp = 0x2c;
        l.nucr = 0x30;
        l.ucrseg = 0x38;
        l.segsize = 0x40;
        l.flags = 0x40;
        l.force = 0x44;
        l.encmask = 0x4c;
        l.key = 0x50;
        if (L == L_W7) {
            l.pointer_key = 0x58;
            l.vmt = 0x60;
            l.signature = 0x64;
            l.segres = 0x68;
            l.segcom = 0x6c;
            l.dcfree = 0x70;
            l.dctotal = 0x74;
            l.totfree = 0x78;
            l.maxalloc = 0x7c;
            l.phidx = 0x80;
            l.tag_next = 0x88;
            l.tag_max = 0x8a;
            l.tag_entries = 0x8c;
            l.tag_pseudo = 0xc0;
            l.ucrlist = 0x90;
            l.alround = 0x98;
            l.almask = 0x9c;
            l.va = 0xa0;
            l.seglisthead = 0xa8;
            l.blocksindex = 0xb8;
            l.freelists = 0xc4;
            l.lockvar = 0xcc;
            l.feh = 0xd4;
            l.fetype = 0xda;
            l.counters = 0xdc;
            l.heapsize = 0x138;
        } else {
            l.vmt = 0x5c;
            l.signature = 0x60;
            l.segres = 0x64;
            l.segcom = 0x68;
            l.dcfree = 0x6c;
            l.dctotal = 0x70;
            l.totfree = 0x74;
            l.maxalloc = 0x78;
            l.phidx = 0x7c;
            l.tag_next = 0x84;
            l.tag_max = 0x86;
            l.tag_entries = 0x88;
            l.tag_pseudo = 0xbc;
            l.ucrlist = 0x8c;
            l.alround = 0x94;
            l.almask = 0x98;
            l.va = 0x9c;
            l.seglisthead = 0xa4;
            l.blocksindex = 0xb4;
            l.freelists = 0xc0;
            l.lockvar = 0xc8;
            l.feh = L == L_W8 ? 0xd0 : L == L_10B ? 0xd4 : 0xe4;
            l.fetype = L == L_W8 ? 0xd6 : L == L_10B ? 0xda : 0xea;
            l.counters = L == L_W8 ? 0x1e0 : L == L_10B ? 0x1e4 : 0x1f4;
            l.heapsize = L == L_10C ? 0x258 : 0x248;
        }
        l.c_allocfree = L == L_W7 ? 0x40 : 0x44;
        l.c_hwm = L == L_W7 ? 0x4c : 0x54;
        l.ucr_seg = 0x8;
        l.ucr_addr = 0x10;
        l.ucr_size = 0x14;
        l.ucr_sizeof = 0x18;
        l.va_commit = 0x10;
        l.va_reserve = 0x14;
        l.va_busy = 0x18;
        l.va_sizeof = 0x20;
        l.zone_off = 0x1000;
        if (L == L_W7) {
            l.lfh_zones = 0x18;
            l.lfh_heap = 0x24;
            l.lfh_localdata = 0x310;
            l.zone_first = 0x10;
            l.zone_next = 0x8; /* FreePointer */
            l.ss_ub = 4;
            l.ss_agg = 8;
            l.ss_bsize = 0x10;
            l.ss_bcount = 0x14;
            l.ss_sizeidx = 0x16;
            l.ss_sizeof = 0x20;
            l.ud_sizeidx = 8;
            l.ud_sig = 0xc;
            l.ud_w7first = 0x10;
        } else {
            l.lfh_zones = 0x4;
            l.lfh_heap = 0xc;
            l.lfh_localdata = 0x7d0;
            l.zone_first = 0x10;
            l.zone_next = 0x8; /* NextIndex */
            l.ss_ub = 4;
            l.ss_agg = 0x10;
            l.ss_bsize = 0x14;
            l.ss_bcount = 0x18;
            l.ss_sizeidx = 0x1a;
            l.ss_sizeof = 0x28;
            l.ud_sizeidx = 8;
            l.ud_sig = 0xc;
            l.ud_encoff = 0x10;
            l.ud_bitmap = 0x14;
            l.ud_bitmapdata = 0x1c;
        }
    } else {
        l.ps = 8;
        l.gran = 16;
        l.sig = 0x10;
        l.segflags = 0x14;
        l.seglist = 0x18;
        l.heapp = 0x28;
        l.base = 0x30;
        l.npages = 0x38;
        l.first = 0x40;
        l.last = 0x48;
        l.nucp = 0x50;
        l.nucr = 0x54;
        l.ucrseg = 0x60;
        l.segsize = 0x70;
        l.flags = 0x70;
        l.force = 0x74;
        l.encmask = 0x7c;
        l.key = 0x88;
        if (L == L_W7) {
            l.pointer_key = 0x90;
            l.vmt = 0x9c;
            l.signature = 0xa0;
            l.segres = 0xa8;
            l.segcom = 0xb0;
            l.dcfree = 0xb8;
            l.dctotal = 0xc0;
            l.totfree = 0xc8;
            l.maxalloc = 0xd0;
            l.phidx = 0xd8;
            l.tag_next = 0xe8;
            l.tag_max = 0xea;
            l.tag_entries = 0xf0;
            l.tag_pseudo = 0x150;
            l.ucrlist = 0xf8;
            l.alround = 0x108;
            l.almask = 0x110;
            l.va = 0x118;
            l.seglisthead = 0x128;
            l.blocksindex = 0x140;
            l.freelists = 0x158;
            l.lockvar = 0x168;
            l.feh = 0x178;
            l.fetype = 0x182;
            l.counters = 0x188;
            l.heapsize = 0x208;
        } else {
            l.vmt = 0x94;
            l.signature = 0x98;
            l.segres = 0xa0;
            l.segcom = 0xa8;
            l.dcfree = 0xb0;
            l.dctotal = 0xb8;
            l.totfree = 0xc0;
            l.maxalloc = 0xc8;
            l.phidx = 0xd0;
            l.tag_next = 0xe0;
            l.tag_max = 0xe2;
            l.tag_entries = 0xe8;
            l.tag_pseudo = 0x148;
            l.ucrlist = 0xf0;
            l.alround = 0x100;
            l.almask = 0x108;
            l.va = 0x110;
            l.seglisthead = 0x120;
            l.blocksindex = 0x138;
            l.freelists = 0x150;
            l.lockvar = 0x160;
            l.feh = L == L_W8 ? 0x170 : L == L_10B ? 0x178 : 0x198;
            l.fetype = L == L_W8 ? 0x17a : L == L_10B ? 0x182 : 0x1a2;
            l.counters = L == L_W8 ? 0x210 : L == L_10B ? 0x218 : 0x238;
            l.heapsize = L == L_W8 ? 0x298 : L == L_10B ? 0x2a0 : 0x2c0;
        }
        l.c_allocfree = L == L_W7 ? 0x50 : 0x54;
        l.c_hwm = L == L_W7 ? 0x60 : 0x68;
        l.ucr_seg = 0x10;
        l.ucr_addr = 0x20;
        l.ucr_size = 0x28;
        l.ucr_sizeof = 0x30;
        l.va_commit = 0x20;
        l.va_reserve = 0x28;
        l.va_busy = 0x30;
        l.va_sizeof = 0x40;
        l.zone_off = 0x2000;
        if (L == L_W7) {
            l.lfh_zones = 0x28;
            l.lfh_heap = 0x40;
            l.lfh_localdata = 0x3f0;
            l.zone_first = 0x20;
            l.zone_next = 0x10; /* FreePointer */
            l.ss_ub = 8;
            l.ss_agg = 0x10;
            l.ss_bsize = 0x18;
            l.ss_bcount = 0x1c;
            l.ss_sizeidx = 0x1e;
            l.ss_sizeof = 0x30;
            l.ud_sizeidx = 0x10;
            l.ud_sig = 0x18;
            l.ud_w7first = 0x20;
        } else {
            l.lfh_zones = 0x8;
            l.lfh_heap = 0x18;
            l.lfh_localdata = 0xcc0;
            l.zone_first = 0x20;
            l.zone_next = 0x10; /* NextIndex */
            l.ss_ub = 8;
            l.ss_agg = 0x20;
            l.ss_bsize = 0x24;
            l.ss_bcount = 0x28;
            l.ss_sizeidx = 0x2a;
            l.ss_sizeof = 0x38;
            l.ud_sizeidx = 0x10;
            l.ud_sig = 0x14;
            l.ud_encoff = 0x18;
            l.ud_bitmap = 0x20;
            l.ud_bitmapdata = 0x30;
        }
    }
    return l;
}

/* The LFH front end's own allocation (_LFH_HEAP + subsegment zones). */
#define LFH_RESERVE(is32) ((is32) ? 0x35000ull : 0x32000ull)
#define LFH_COMMIT 0x7000ull

/* ---- small helpers ---- */

static void wlist(sim_proc *p, unsigned ps, uint64_t at, uint64_t flink, uint64_t blink)
{
    sim_wptr(p, at, ps, flink);
    sim_wptr(p, at + ps, ps, blink);
}

/* Links `n` LIST_ENTRYs (addresses in `ent`) behind `head`, in order. */
static void link_list(sim_proc *p, unsigned ps, uint64_t head, const uint64_t *ent, size_t n)
{
    if (!n) {
        wlist(p, ps, head, head, head);
        return;
    }
    wlist(p, ps, head, ent[0], ent[n - 1]);
    for (size_t i = 0; i < n; i++)
        wlist(p, ps, ent[i], i + 1 < n ? ent[i + 1] : head, i ? ent[i - 1] : head);
}

uint64_t sim_heap_hdr(const sim_heap *h, uint64_t entry)
{
    return entry + (h->is32 ? 0 : 8);
}

static void write_entry(sim_proc *p, const sim_heap *h, uint64_t entry, uint32_t size_g,
                        uint8_t flags, uint32_t prev_g, uint8_t unused)
{
    if (size_g > 0xffff || prev_g > 0xffff)
        sim_die("entry size out of range at %s", sim_hex(entry));
    uint8_t b[8] = {(uint8_t)size_g, (uint8_t)(size_g >> 8), flags, 0,
                    (uint8_t)prev_g, (uint8_t)(prev_g >> 8), 0,     unused};
    b[3] = b[0] ^ b[1] ^ b[2];
    for (int i = 0; i < 8; i++)
        b[i] ^= h->key[i];
    sim_write(p, sim_heap_hdr(h, entry), b, 8);
}

/* Splits `total` into k parts in [mn, mx], skewed towards small parts when skew. */
static void partition(sim_rng *r, uint64_t total, size_t k, uint64_t mn, uint64_t mx, bool skew,
                      uint64_t *out)
{
    if (!k) {
        if (total)
            sim_die("partition: %llu left with no parts", (unsigned long long)total);
        return;
    }
    if (total < k * mn || total > k * mx)
        sim_die("partition: %llu into %zu parts of [%llu, %llu]", (unsigned long long)total, k,
                (unsigned long long)mn, (unsigned long long)mx);
    uint64_t *w = sim_xcalloc(k, sizeof *w);
    uint64_t W = 0, rem = total - k * mn, used = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t x = rng_range(r, 1, 100);
        w[i] = skew ? x * x * x : x + 50;
        W += w[i];
    }
    for (size_t i = 0; i < k; i++) {
        uint64_t add = (uint64_t)((double)rem * (double)w[i] / (double)W);
        if (add > mx - mn)
            add = mx - mn;
        out[i] = mn + add;
        used += add;
    }
    uint64_t left = rem - used;
    size_t i = (size_t)rng_range(r, 0, k - 1);
    while (left) {
        uint64_t room = mx - out[i];
        uint64_t t = room < left ? room : left;
        if (t > 1 && left / k + 1 < t && rng_chance(r, 50))
            t = left / k + 1;
        out[i] += t;
        left -= t;
        i = (i + 1) % k;
    }
    free(w);
}

static void add_block(sim_heap *h, const sim_block *b)
{
    h->blocks = sim_xrealloc(h->blocks, h->nblocks + 1, sizeof *h->blocks);
    h->blocks[h->nblocks++] = *b;
}

/* ---- NT heap ---- */

typedef struct statpair {
    uint64_t a, b;
} statpair;

static int pair_cmp(const void *x, const void *y)
{
    const statpair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b ? 1 : 0;
}

typedef struct lfhplan {
    uint32_t stride_g, count, fao, size_g;
    uint8_t unused;
} lfhplan;

typedef struct runinfo {
    uint64_t start, end; /* bytes */
    int seg;
    bool after_ucr;
} runinfo;

sim_heap *sim_build_nt_heap(sim_proc *p, sim_rng *r, bool is32, int layout,
                            const sim_heapspec *spec)
{
    lay L = get_layout(is32, layout);
    sim_heap *h = sim_xcalloc(1, sizeof *h);
    h->x64 = p->x64;
    h->is32 = is32;
    h->layout = layout;
    h->kind = 0;
    h->ps = L.ps;
    h->gran = L.gran;
    const unsigned ps = L.ps, gran = L.gran;
    h->flags = spec->flags ? spec->flags : 0x2;
    h->vmt = spec->vmt ? spec->vmt : is32 ? 0xfe00 : 0xff00;
    h->seg_reserve = spec->seg_reserve ? spec->seg_reserve : 0x100000;
    h->seg_commit = spec->seg_commit ? spec->seg_commit : 0x2000;
    h->dc_free = spec->dc_free ? spec->dc_free : is32 ? 0x800 : 0x100;
    h->dc_total = spec->dc_total ? spec->dc_total : is32 ? 0x2000 : 0x1000;
    for (int i = 0; i < 6; i++)
        h->key[i] = (uint8_t)rng_next(r);
    h->key[3] = h->key[0] ^ h->key[1] ^ h->key[2];
    h->key[6] = h->key[7] = 0;
    const uint64_t hint = spec->hint ? spec->hint : is32 ? 0x00400000 : 0x000001f000000000ull;
    const uint64_t vmt_g = h->vmt;

    /* segments: reserve, commit runs, UCRs */
    h->nsegs = spec->nsegs ? spec->nsegs : 1;
    runinfo runs[64];
    int nruns = 0;
    for (int s = 0; s < h->nsegs; s++) {
        const sim_segspec *ss = &spec->segs[s];
        sim_seg *g = &h->segs[s];
        uint64_t reserve =
            ss->reserve ? ss->reserve : (s == 0 ? 0x100000 : rng_range(r, 8, 32) * 0x10000);
        uint64_t committed = ss->committed
                                 ? ss->committed
                                 : (s == 0 ? rng_range(r, 16, 40) : rng_range(r, 6, 20)) * PAGE;
        int nucr = ss->committed ? ss->nucr : (int)rng_range(r, 1, 2);
        if (committed > reserve || (committed == reserve && nucr) ||
            (committed < reserve && !nucr) || nucr > 8)
            sim_die("bad segment spec");
        uint64_t base = ss->base ? ss->base
                                 : sim_find_free(p, (s == 0 && spec->base) ? spec->base : hint,
                                                 reserve, 0x10000);
        if (s == 0 && spec->base)
            base = spec->base;
        sim_alloc *a = sim_alloc_at(p, base, reserve, MEM_PRIVATE, PAGE_READWRITE, "heap segment");
        a->heapmem = true;
        a->capture_all = !spec->sparse;
        g->addr = base;
        g->last = base + reserve;
        g->pages = (uint32_t)(reserve / PAGE);
        g->ucpages = (uint32_t)((reserve - committed) / PAGE);
        g->committed = committed;
        g->nucr = nucr;
        uint64_t hdr = s == 0 ? L.heapsize + 0x40 + 0x40 : L.segsize;
        hdr += (uint64_t)nucr * L.ucr_sizeof;
        g->hdr_size = align_up(hdr, gran);
        g->first_entry = base + g->hdr_size;
        /* committed pages in nucr runs (run 0 at the base), each followed by one UCR */
        uint64_t cp = committed / PAGE, up = reserve / PAGE - cp;
        uint64_t crun[8] = {cp}, urun[8] = {0};
        if (nucr) {
            uint64_t min0 = align_up(g->hdr_size + 0x200, PAGE) / PAGE;
            if (cp < min0 + (uint64_t)(nucr - 1) || up < (uint64_t)nucr)
                sim_die("segment too small for its ranges");
            partition(r, cp - min0 + 1, (size_t)nucr, 1, cp, false, crun);
            crun[0] += min0 - 1;
            partition(r, up, (size_t)nucr, 1, up, false, urun);
        }
        uint64_t at = base;
        for (int k = 0; k < (nucr ? nucr : 1); k++) {
            sim_commit(p, at, crun[k] * PAGE, PAGE_READWRITE);
            runs[nruns++] = (runinfo){k == 0 ? g->first_entry : at, at + crun[k] * PAGE, s, k > 0};
            at += crun[k] * PAGE;
            if (nucr) {
                g->ucr[k].addr = at;
                g->ucr[k].size = urun[k] * PAGE;
                g->ucr[k].desc = base + g->hdr_size - (uint64_t)(nucr - k) * L.ucr_sizeof;
                at += urun[k] * PAGE;
            }
        }
        if (at != g->last)
            sim_die("internal: segment ranges");
    }

    /* LFH plan: containers are fixed busy blocks in run 0 (or the largest run) */
    lfhplan lp[64];
    int nlp = spec->lfh ? (spec->nsubsegs ? spec->nsubsegs : 4) : 0;
    static const uint32_t strides[] = {2, 3, 4, 5, 6, 8, 10, 12, 16, 24};
    for (int i = 0; i < nlp; i++) {
        lfhplan *q = &lp[i];
        q->stride_g = strides[rng_range(r, 0, sizeof strides / sizeof *strides - 1)];
        q->count = (uint32_t)rng_range(r, 8, 40);
        if (layout == L_W7) {
            q->fao = L.ud_w7first;
        } else {
            uint32_t bm = is32 ? (q->count + 31) / 32 * 4 : (q->count + 63) / 64 * 8;
            q->fao = (uint32_t)align_up(L.ud_bitmapdata + bm, gran);
        }
        q->unused = (uint8_t)rng_range(r, gran, 2 * gran - 1);
        uint64_t content = q->fao + (uint64_t)q->count * q->stride_g * gran;
        q->size_g = (uint32_t)((gran + content + q->unused + gran - 1) / gran);
    }

    /* backend entries per run; the LFH containers go into the largest run */
    int bigrun = 0;
    for (int k = 1; k < nruns; k++)
        if (runs[k].end - runs[k].start > runs[bigrun].end - runs[bigrun].start)
            bigrun = k;
    for (int k = 0; k < nruns; k++) {
        runinfo *ru = &runs[k];
        uint64_t cap_g = (ru->end - ru->start) / gran;
        /* fixed blocks (LFH containers) */
        uint32_t fixed[64];
        int nfixed = 0;
        uint64_t fixed_g = 0;
        if (k == bigrun)
            for (int i = 0; i < nlp; i++) {
                fixed[nfixed++] = (uint32_t)i;
                fixed_g += lp[i].size_g;
            }
        if (fixed_g + 8 > cap_g)
            sim_die("LFH containers do not fit in run %d", k);
        uint64_t avail = cap_g - fixed_g;
        size_t nbusy, nfree;
        uint64_t free_g;
        const sim_segspec *ss = &spec->segs[ru->seg];
        if (ss->nfree >= 0 && spec->total_free_granules) {
            /* seed: this segment's free entries go to its first run, plus LAST_ENTRY frees */
            bool firstrun = k == 0 || runs[k - 1].seg != ru->seg;
            nfree = firstrun ? (size_t)ss->nfree : 0;
            free_g = firstrun ? ss->free_bytes / gran : 0;
            uint64_t busy_g = avail - free_g;
            nbusy = (size_t)((busy_g + vmt_g * 9 / 10 - 1) / (vmt_g * 9 / 10));
            if (nbusy + 1 < nfree)
                nbusy = nfree;
            if (nbusy < 1)
                nbusy = 1;
            nbusy += (size_t)rng_range(r, 0, nbusy / 2 + 1);
            if (nbusy * 2 > busy_g)
                nbusy = (size_t)(busy_g / 2);
        } else {
            uint64_t avg = (uint64_t)(spec->avg_busy_granules ? spec->avg_busy_granules : 12);
            nbusy = (size_t)(avail / (avg * 2) + 1);
            nfree = (size_t)rng_range(r, nbusy / 4 + 1, nbusy / 2 + 1);
            if (nfree > nbusy + 1)
                nfree = nbusy + 1;
            free_g = avail * rng_range(r, 8, 25) / 100;
            if (free_g < nfree * 2)
                free_g = nfree * 2;
            while (free_g > nfree * vmt_g)
                nfree++;
            while (nbusy * vmt_g < avail - free_g)
                nbusy++;
            if (nbusy * 2 > avail - free_g)
                nbusy = (size_t)((avail - free_g) / 2);
        }
        uint64_t *bs = sim_xcalloc(nbusy + 1, sizeof *bs);
        uint64_t *fs = sim_xcalloc(nfree + 1, sizeof *fs);
        partition(r, avail - free_g, nbusy, 2, vmt_g, true, bs);
        partition(r, free_g, nfree, 2, vmt_g, false, fs);
        /* sequence: busy items (random + fixed), frees in distinct gaps */
        size_t nitems = nbusy + (size_t)nfixed;
        int64_t *items = sim_xcalloc(nitems, sizeof *items); /* >=0 busy idx, <0 fixed */
        for (size_t i = 0; i < nbusy; i++)
            items[i] = (int64_t)i;
        for (int i = 0; i < nfixed; i++)
            items[nbusy + (size_t)i] = -1 - (int64_t)fixed[i];
        for (size_t i = nitems; i > 1; i--) {
            size_t j = (size_t)rng_range(r, 0, i - 1);
            int64_t t = items[i - 1];
            items[i - 1] = items[j];
            items[j] = t;
        }
        if (nfree > nitems + 1)
            sim_die("too many free entries for run %d", k);
        bool *gapfree = sim_xcalloc(nitems + 1, sizeof *gapfree);
        for (size_t i = 0; i < nfree; i++) {
            size_t g;
            do
                g = (size_t)rng_range(r, 0, nitems);
            while (gapfree[g]);
            gapfree[g] = true;
        }
        uint64_t at = ru->start;
        uint32_t prev = ru->after_ucr ? 0 : (uint32_t)h->segs[ru->seg].hdr_size;
        size_t fi = 0;
        for (size_t i = 0; i <= nitems; i++) {
            if (gapfree[i]) {
                sim_block b = {0};
                b.addr = at;
                b.size = (uint32_t)(fs[fi++] * gran);
                b.prev = prev;
                b.seg = ru->seg;
                b.state = 0;
                b.user = at + gran;
                add_block(h, &b);
                at += b.size;
                prev = b.size;
            }
            if (i == nitems)
                break;
            sim_block b = {0};
            b.addr = at;
            b.prev = prev;
            b.seg = ru->seg;
            b.user = at + gran;
            b.flags = 0x01;
            if (items[i] >= 0) {
                b.size = (uint32_t)(bs[items[i]] * gran);
                b.state = 1;
                b.unused = (uint8_t)rng_range(r, gran, 2 * gran - 1);
            } else {
                lfhplan *q = &lp[-1 - items[i]];
                b.size = q->size_g * gran;
                b.state = 2;
                b.lfh = (int)(-1 - items[i]);
                b.unused = q->unused;
                if (layout != L_W7)
                    b.flags |= 0x08;
            }
            b.user_size = b.size - b.unused;
            add_block(h, &b);
            at += b.size;
            prev = b.size;
        }
        if (at != ru->end)
            sim_die("internal: run %d filled to %s, end %s", k, sim_hex(at), sim_hex(ru->end));
        h->blocks[h->nblocks - 1].flags |= 0x10;
        h->blocks[h->nblocks - 1].run_last = true;
        free(bs);
        free(fs);
        free(items);
        free(gapfree);
    }

    /* write the entries */
    uint64_t free_g_total = 0;
    for (size_t i = 0; i < h->nblocks; i++) {
        sim_block *b = &h->blocks[i];
        write_entry(p, h, b->addr, b->size / gran, b->flags, b->prev / gran, b->unused);
        if (b->state == 0) {
            free_g_total += b->size / gran;
            h->free_list = sim_xrealloc(h->free_list, h->nfree + 1, sizeof *h->free_list);
            h->free_list[h->nfree++] = b->addr;
        }
    }
    if (spec->total_free_granules && free_g_total != spec->total_free_granules)
        sim_die("seed free total %llu != %llu", (unsigned long long)free_g_total,
                (unsigned long long)spec->total_free_granules);
    h->total_free_granules = free_g_total;
    /* free list: by size, then address */
    {
        statpair *fp = sim_xcalloc(h->nfree + 1, sizeof *fp);
        size_t n = 0;
        for (size_t i = 0; i < h->nblocks; i++)
            if (h->blocks[i].state == 0)
                fp[n++] = (statpair){h->blocks[i].size, h->blocks[i].addr};
        qsort(fp, n, sizeof *fp, pair_cmp);
        for (size_t i = 0; i < n; i++)
            h->free_list[i] = fp[i].b;
        free(fp);
    }
    const uint64_t heap = h->segs[0].addr;
    h->addr = heap;
    {
        uint64_t *links = sim_xcalloc(h->nfree + 1, sizeof *links);
        for (size_t i = 0; i < h->nfree; i++)
            links[i] = h->free_list[i] + gran;
        link_list(p, ps, heap + L.freelists, links, h->nfree);
        free(links);
    }

    /* segment headers, UCR descriptors */
    uint64_t segents[8], ucrents[64];
    size_t nucrents = 0;
    for (int s = 0; s < h->nsegs; s++) {
        sim_seg *g = &h->segs[s];
        write_entry(p, h, g->addr, (uint32_t)(g->hdr_size / gran), 0x01, 0, 0x01);
        sim_w32(p, g->addr + L.sig, 0xffeeffee);
        sim_w32(p, g->addr + L.segflags, 0);
        sim_wptr(p, g->addr + L.heapp, ps, heap);
        sim_wptr(p, g->addr + L.base, ps, g->addr);
        sim_w32(p, g->addr + L.npages, g->pages);
        sim_wptr(p, g->addr + L.first, ps, g->first_entry);
        sim_wptr(p, g->addr + L.last, ps, g->last);
        sim_w32(p, g->addr + L.nucp, g->ucpages);
        sim_w32(p, g->addr + L.nucr, (uint32_t)g->nucr);
        uint64_t segucr[8];
        for (int k = 0; k < g->nucr; k++) {
            sim_ucr *u = &g->ucr[k];
            sim_wptr(p, u->desc + L.ucr_addr, ps, u->addr);
            sim_wptr(p, u->desc + L.ucr_size, ps, u->size);
            segucr[k] = u->desc + L.ucr_seg;
            ucrents[nucrents++] = u->desc;
        }
        link_list(p, ps, g->addr + L.ucrseg, segucr, (size_t)g->nucr);
        segents[s] = g->addr + L.seglist;
    }
    link_list(p, ps, heap + L.seglisthead, segents, (size_t)h->nsegs);
    link_list(p, ps, heap + L.ucrlist, ucrents, nucrents);

    /* VA blocks */
    int nva = spec->nva;
    h->va = sim_xcalloc((size_t)nva + 1, sizeof *h->va);
    uint64_t *vaents = sim_xcalloc((size_t)nva + 1, sizeof *vaents);
    uint64_t vmin = spec->va_user_min ? spec->va_user_min : vmt_g * gran + 1;
    uint64_t vmax = spec->va_user_max ? spec->va_user_max : vmin + 0x30000;
    for (int i = 0; i < nva; i++) {
        sim_va *v = &h->va[i];
        v->user_size = rng_range(r, vmin, vmax);
        if (spec->va_user_min && spec->va_user_min == spec->va_user_max)
            v->user_size = spec->va_user_min;
        v->commit = align_up(L.va_sizeof + v->user_size, PAGE);
        v->reserve = spec->sparse ? v->commit : v->commit + rng_range(r, 0, 3) * PAGE;
        v->unused = v->commit - v->user_size;
        v->flags = 0x0b;
        uint64_t at;
        if ((size_t)i < spec->nva_addrs)
            at = spec->va_addrs[i];
        else if (i == nva - 1 && spec->va_last_addr)
            at = spec->va_last_addr;
        else
            at = sim_find_free(p, hint + rng_range(r, 0, 64) * 0x10000, v->reserve, 0x10000);
        sim_alloc *a = sim_alloc_at(p, at, v->reserve, MEM_PRIVATE, PAGE_READWRITE, "VA block");
        a->heapmem = true;
        a->capture_all = !spec->sparse;
        sim_commit(p, at, v->commit, PAGE_READWRITE);
        v->addr = at;
        v->user = at + L.va_sizeof;
        sim_wptr(p, at + L.va_commit, ps, v->commit);
        sim_wptr(p, at + L.va_reserve, ps, v->reserve);
        write_entry(p, h, at + L.va_busy, (uint32_t)v->unused, v->flags, 0, 4);
        vaents[i] = at;
    }
    h->nva = (size_t)nva;
    link_list(p, ps, heap + L.va, vaents, (size_t)nva);
    free(vaents);

    /* LFH */
    if (nlp) {
        /* reserved 212 KB (x86) / 200 KB (x64), 28 KB committed: see ntheap-sim.md, Counters */
        sim_alloc *a =
            sim_reserve(p, heap + 0x10000, LFH_RESERVE(is32), MEM_PRIVATE, PAGE_READWRITE, "LFH");
        a->capture_all = true;
        sim_commit(p, a->base, LFH_COMMIT, PAGE_READWRITE);
        uint64_t lfh = a->base, zone = lfh + L.zone_off;
        h->lfh = lfh;
        sim_wptr(p, lfh + L.lfh_heap, ps, heap);
        link_list(p, ps, lfh + L.lfh_zones, &zone, 1);
        h->subs = sim_xcalloc((size_t)nlp, sizeof *h->subs);
        for (int i = 0; i < nlp; i++) {
            size_t ci = 0;
            while (h->blocks[ci].state != 2 || h->blocks[ci].lfh != i)
                ci++;
            sim_block *cb = &h->blocks[ci];
            lfhplan *q = &lp[i];
            sim_subseg *sg = &h->subs[i];
            sg->addr = zone + L.zone_first + (uint64_t)i * L.ss_sizeof;
            sg->container = cb->addr;
            sg->ub = cb->addr + gran;
            sg->stride = q->stride_g * gran;
            sg->count = q->count;
            sg->fao = q->fao;
            sg->blocks = sim_xcalloc(q->count, sizeof *sg->blocks);
            /* busy subset, random order */
            uint32_t nb = (uint32_t)rng_range(r, 1, q->count - 1);
            for (uint32_t k = 0; k < nb; k++) {
                uint32_t j;
                do
                    j = (uint32_t)rng_range(r, 0, q->count - 1);
                while (sg->blocks[j].busy);
                sg->blocks[j].busy = true;
            }
            sg->busy = nb;
            uint64_t ub = sg->ub;
            sim_wptr(p, ub + 0, ps, sg->addr);
            sim_w32(p, ub + L.ud_sig, 0xF0E0D0C0);
            if (layout == L_W7) {
                sim_wptr(p, ub + L.ud_sizeidx, ps, q->stride_g);
            } else {
                sim_w8(p, ub + L.ud_sizeidx, (uint8_t)q->stride_g);
                uint32_t plain = q->fao | (uint32_t)sg->stride << 16;
                sim_w32(p, ub + L.ud_encoff, plain ^ (uint32_t)ub ^ (uint32_t)lfh ^ p->lfh_key);
                sim_w32(p, ub + L.ud_bitmap, q->count);
                sim_wptr(p, ub + L.ud_bitmap + ps, ps, ub + L.ud_bitmapdata);
            }
            uint32_t next_free = 0xffff;
            for (uint32_t k = q->count; k-- > 0;) {
                sim_lblock *lb = &sg->blocks[k];
                lb->addr = ub + q->fao + (uint64_t)k * sg->stride;
                lb->user = lb->addr + gran;
                uint8_t ub7 = 0x80;
                if (lb->busy) {
                    uint8_t un = (uint8_t)rng_range(r, gran, 2 * gran - 1);
                    lb->user_size = sg->stride - un;
                    ub7 = (uint8_t)(0x80 | un);
                    if (layout != L_W7) {
                        uint64_t bw = ub + L.ud_bitmapdata + (k / 32) * 4;
                        sim_w32(p, bw, sim_r32(p, bw) | 1u << (k % 32));
                    }
                } else if (layout == L_W7) {
                    sim_w16(p, lb->user, (uint16_t)next_free);
                    next_free = (uint32_t)((lb->addr - ub) / gran);
                }
                unsigned shift = (layout == L_W7 || is32) ? 3 : 4;
                uint32_t code = (uint32_t)(lb->addr >> shift) ^ (uint32_t)sg->addr ^ p->lfh_key ^
                                (uint32_t)heap;
                uint8_t hb[8] = {(uint8_t)code,
                                 (uint8_t)(code >> 8),
                                 (uint8_t)(code >> 16),
                                 (uint8_t)(code >> 24),
                                 0,
                                 0,
                                 0,
                                 ub7};
                sim_write(p, sim_heap_hdr(h, lb->addr), hb, 8);
            }
            sim_wptr(p, sg->addr + 0, ps, lfh + L.lfh_localdata);
            sim_wptr(p, sg->addr + L.ss_ub, ps, ub);
            sim_w16(p, sg->addr + L.ss_agg, (uint16_t)(q->count - nb));
            if (layout == L_W7)
                sim_w16(p, sg->addr + L.ss_agg + 2, (uint16_t)next_free);
            sim_w16(p, sg->addr + L.ss_bsize, (uint16_t)q->stride_g);
            sim_w16(p, sg->addr + L.ss_bcount, (uint16_t)q->count);
            sim_w8(p, sg->addr + L.ss_sizeidx, (uint8_t)q->stride_g);
        }
        h->nsubs = (size_t)nlp;
        if (layout == L_W7) {
            sim_wptr(p, zone + L.zone_next, ps, zone + L.zone_first + (uint64_t)nlp * L.ss_sizeof);
            sim_wptr(p, zone + L.zone_next + ps, ps, lfh + LFH_COMMIT);
        } else {
            sim_w32(p, zone + L.zone_next, (uint32_t)nlp);
        }
    }

    /* _HEAP fields */
    sim_w32(p, heap + L.flags, h->flags);
    sim_w32(p, heap + L.force, 0);
    sim_w32(p, heap + L.encmask, 0x00100000);
    sim_write(p, heap + L.key, h->key, 8);
    if (layout == L_W7)
        sim_wptr(p, heap + L.pointer_key, ps, rng_next(r) | 1);
    sim_w32(p, heap + L.vmt, h->vmt);
    sim_w32(p, heap + L.signature, 0xeeffeeff);
    sim_wptr(p, heap + L.segres, ps, h->seg_reserve);
    sim_wptr(p, heap + L.segcom, ps, h->seg_commit);
    sim_wptr(p, heap + L.dcfree, ps, h->dc_free);
    sim_wptr(p, heap + L.dctotal, ps, h->dc_total);
    sim_wptr(p, heap + L.totfree, ps, h->total_free_granules);
    sim_wptr(p, heap + L.maxalloc, ps, is32 ? 0x7ffdefffull : 0x7ffffffdefffull);
    sim_wptr(p, heap + L.alround, ps, is32 ? 0xf : 0x1f);
    sim_wptr(p, heap + L.almask, ps, is32 ? 0xfffffff8ull : 0xfffffffffffffff0ull);
    if (spec->tags) {
        /* a tagged heap: TagEntries / PseudoTagEntries point at busy blocks of the heap; no RNG
         * draw, so the other contents of the variant do not move */
        size_t first = h->nblocks, last = 0, nbusy = 0;
        for (size_t i = 0; i < h->nblocks; i++)
            if (h->blocks[i].state == 1) {
                if (first == h->nblocks)
                    first = i;
                last = i;
                nbusy++;
            }
        if (!nbusy || first == last)
            sim_die("tagged heap needs two busy blocks");
        h->tag_next = (uint16_t)(2 + nbusy % 13);
        h->tag_max = (uint16_t)(h->tag_next + 0x1e);
        h->tag_entries = h->blocks[first].user;
        h->tag_pseudo = h->blocks[last].user;
        sim_w16(p, heap + L.tag_next, h->tag_next);
        sim_w16(p, heap + L.tag_max, h->tag_max);
        sim_wptr(p, heap + L.tag_entries, ps, h->tag_entries);
        sim_wptr(p, heap + L.tag_pseudo, ps, h->tag_pseudo);
    }
    uint64_t lockv = heap + L.heapsize, lookup = lockv + 0x40;
    sim_wptr(p, heap + L.lockvar, ps, lockv);
    sim_wptr(p, heap + L.blocksindex, ps, lookup);
    sim_w32(p, lookup + ps, 0x80);                                /* ArraySize */
    sim_w32(p, lookup + (is32 ? 0xc : 0x10), (uint32_t)h->nfree); /* ItemCount */
    sim_wptr(p, lookup + (is32 ? 0x18 : 0x20), ps, heap + L.freelists);
    if (nlp) {
        sim_wptr(p, heap + L.feh, ps, h->lfh);
        sim_w8(p, heap + L.fetype, 2);
        if (layout != L_W7)
            sim_w8(p, heap + L.fetype + 1, 2);
    }
    /* counters */
    h->c_segments = (uint32_t)h->nsegs;
    for (int s = 0; s < h->nsegs; s++) {
        sim_seg *g = &h->segs[s];
        h->c_reserved += g->last - g->addr;
        h->c_committed += g->committed;
        h->c_ucrs += (uint32_t)g->nucr;
    }
    if (h->lfh) {
        h->c_reserved += LFH_RESERVE(is32);
        h->c_committed += LFH_COMMIT;
        h->c_large_ucr += LFH_RESERVE(is32);
    }
    for (size_t i = 0; i < h->nva; i++)
        h->c_va += h->va[i].commit;
    h->c_lock_coll = (uint32_t)rng_range(r, 0, 0x30);
    if (spec->seed_counters) {
        /* the seed's row must follow from the model (segments + LFH region), not be pasted */
        if (h->c_reserved != spec->c_reserved || h->c_committed != spec->c_committed ||
            h->c_large_ucr != spec->c_large_ucr)
            sim_die("seed counters: model gives reserved %llu committed %llu large %llu",
                    (unsigned long long)h->c_reserved, (unsigned long long)h->c_committed,
                    (unsigned long long)h->c_large_ucr);
        h->seed_counters = true;
        h->c_reserved = spec->c_reserved;
        h->c_committed = spec->c_committed;
        h->c_large_ucr = spec->c_large_ucr;
        h->c_lock_coll = spec->c_lock_collisions;
    }
    h->c_lock_acq = h->c_lock_coll + rng_range(r, 1000, 90000);
    h->c_commit_ops = rng_range(r, 5, 200);
    h->c_decommit_ops = rng_range(r, 0, h->c_commit_ops);
    h->c_alloc_free_ops = rng_range(r, 100, 100000);
    uint64_t c = heap + L.counters;
    sim_wptr(p, c + 0 * ps, ps, h->c_reserved);
    sim_wptr(p, c + 1 * ps, ps, h->c_committed);
    sim_wptr(p, c + 2 * ps, ps, h->c_large_ucr);
    sim_wptr(p, c + 3 * ps, ps, h->c_va);
    sim_w32(p, c + 4 * ps, h->c_segments);
    sim_w32(p, c + 4 * ps + 4, h->c_ucrs);
    sim_w32(p, c + 4 * ps + 8, (uint32_t)h->c_commit_ops);
    sim_w32(p, c + 4 * ps + 12, (uint32_t)h->c_decommit_ops);
    sim_w32(p, c + 4 * ps + 16, (uint32_t)h->c_lock_acq);
    sim_w32(p, c + 4 * ps + 20, h->c_lock_coll);
    sim_w32(p, c + L.c_allocfree, (uint32_t)h->c_alloc_free_ops);
    sim_wptr(p, c + L.c_hwm, ps, h->c_committed);
    return h;
}

/* ---- segment heap (19041 x64 layout, §5) ---- */

sim_heap *sim_build_segment_heap(sim_proc *p, sim_rng *r)
{
    sim_heap *h = sim_xcalloc(1, sizeof *h);
    h->x64 = true;
    h->kind = 1;
    h->ps = 8;
    h->gran = 16;
    sim_alloc *a =
        sim_reserve(p, 0x000002a000000000ull, 0x10000, MEM_PRIVATE, PAGE_READWRITE, "segheap");
    a->capture_all = true;
    a->heapmem = true;
    uint64_t H = a->base;
    sim_commit(p, H, 0x2000, PAGE_READWRITE);
    h->addr = H;
    h->sh_key = rng_next(r);
    h->sh_flags = 1;
    uint64_t reserved = 0x10000, committed = 0x2000;
    sim_w32(p, H + 0x10, 0xddeeddee);
    sim_w32(p, H + 0x14, h->sh_flags);
    sim_w32(p, H + 0x1c, 2); /* ProcessHeapListIndex */
    sim_wptr(p, H + 0xe8, 8, H);
    sim_wptr(p, H + 0xf0, 8, H + 0x2000);
    sim_wptr(p, H + 0xf8, 8, H + 0x10000);
    /* one page segment per SegContext */
    h->sh_segcount = 0;
    for (int i = 0; i < 2; i++) {
        sim_alloc *s =
            sim_reserve(p, H + 0x100000, 0x100000, MEM_PRIVATE, PAGE_READWRITE, "page segment");
        s->capture_all = true;
        s->heapmem = true;
        uint64_t commit = rng_range(r, 2, 6) * PAGE;
        sim_commit(p, s->base, commit, PAGE_READWRITE);
        reserved += 0x100000;
        committed += commit;
        uint64_t ctx = H + 0x100 + (uint64_t)i * 0xc0;
        sim_w64(p, ctx + 0, ~0xfffffull);
        sim_w8(p, ctx + 8, i ? 16 : 12);
        sim_w16(p, ctx + 0xa, 2);
        uint64_t ent = s->base;
        link_list(p, 8, ctx + 0x48, &ent, 1);
        sim_w32(p, ctx + 0x58, 1);
        sim_w64(p, s->base + 0x10, s->base ^ h->sh_key ^ 0xA2E64EADA2E64EADull);
        h->sh_segcount++;
    }
    /* large blocks, in a two-node tree (root + left child) */
    h->sh_nlarge = 2;
    uint64_t node[2] = {H + 0x900, H + 0x940};
    for (int i = 0; i < 2; i++) {
        uint64_t user = rng_range(r, 0x80000, 0x120000);
        uint64_t pages = align_up(user, PAGE) / PAGE;
        sim_alloc *l =
            sim_reserve(p, H + 0x400000, pages * PAGE, MEM_PRIVATE, PAGE_READWRITE, "large block");
        l->capture_all = true;
        l->heapmem = true;
        sim_commit(p, l->base, pages * PAGE, PAGE_READWRITE);
        h->sh_large_addr[i] = l->base;
        h->sh_large_user[i] = user;
        h->sh_large_pages[i] = pages;
        h->sh_large_unused[i] = pages * PAGE - user;
        h->sh_large_reserved += pages;
        h->sh_large_committed += pages;
        reserved += pages * PAGE;
        committed += pages * PAGE;
        sim_w64(p, node[i] + 0x18, l->base | h->sh_large_unused[i]);
        sim_w64(p, node[i] + 0x20, pages << 12);
    }
    /* second block allocated later, at a higher address: node1 is the root's right child */
    sim_w64(p, node[0] + 8, node[1]);
    sim_w64(p, node[1] + 0x10, node[0]);
    sim_w64(p, H + 0x48, node[0]);
    sim_w64(p, H + 0x50, node[0]);
    sim_w64(p, H + 0x58, h->sh_large_reserved);
    sim_w64(p, H + 0x60, h->sh_large_committed);
    h->sh_reserved_pages = reserved / PAGE;
    h->sh_committed_pages = committed / PAGE;
    h->sh_free_pages = rng_range(r, 1, 4);
    h->sh_lfh_free_pages = rng_range(r, 0, h->sh_free_pages);
    sim_w64(p, H + 0x80, h->sh_reserved_pages);
    sim_w64(p, H + 0x88, h->sh_committed_pages);
    sim_w64(p, H + 0x90, h->sh_free_pages);
    sim_w64(p, H + 0x98, h->sh_lfh_free_pages);
    return h;
}

sim_heap *sim_build_not_nt_heap(sim_proc *p, sim_rng *r)
{
    sim_heap *h = sim_xcalloc(1, sizeof *h);
    h->x64 = p->x64;
    h->kind = 2;
    h->ps = p->x64 ? 8 : 4;
    sim_alloc *a = sim_reserve(p, p->x64 ? 0x0000000000200000ull : 0x00200000, 0x100000,
                               MEM_PRIVATE, PAGE_READWRITE, "wine heap");
    a->capture_all = true;
    a->heapmem = true;
    sim_commit(p, a->base, 0x4000, PAGE_READWRITE);
    h->addr = a->base;
    /* Wine-like: a magic that is neither 0xffeeffee nor 0xddeeddee, list heads, some blocks */
    sim_w32(p, h->addr + 0x00, 0);
    sim_w32(p, h->addr + 0x08, 0x50414548); /* "HEAP" */
    sim_w32(p, h->addr + 0x10, 0x00000002);
    sim_wptr(p, h->addr + 0x18, h->ps, h->addr + 0x18);
    sim_wptr(p, h->addr + 0x18 + h->ps, h->ps, h->addr + 0x18);
    for (uint64_t o = 0x400; o < 0x3000; o += 0x40)
        sim_w32(p, h->addr + o, (uint32_t)rng_next(r) | 0x01010101);
    return h;
}

void sim_heap_set_index(sim_proc *p, sim_heap *h, int idx)
{
    h->index = idx;
    if (h->kind == 0)
        sim_w16(p, h->addr + get_layout(h->is32, h->layout).phidx, (uint16_t)(idx + 1));
    else if (h->kind == 1)
        sim_w32(p, h->addr + 0x1c, (uint32_t)(idx + 1));
}

unsigned sim_heap_seglist_off(const sim_heap *h)
{
    return get_layout(h->is32, h->layout).seglist;
}

unsigned sim_heap_udsig_off(const sim_heap *h)
{
    return get_layout(h->is32, h->layout).ud_sig;
}

void sim_heap_free(sim_heap *h)
{
    if (!h)
        return;
    free(h->blocks);
    free(h->va);
    free(h->free_list);
    for (size_t i = 0; i < h->nsubs; i++)
        free(h->subs[i].blocks);
    free(h->subs);
    free(h);
}

/* ---- truth JSON ---- */

static void jnum(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void jhex(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddItemToObject(o, k, sim_jhex(v));
}

typedef struct statrow {
    uint64_t size, count;
} statrow;

static void stat_add(statrow **rows, size_t *n, uint64_t size)
{
    for (size_t i = 0; i < *n; i++)
        if ((*rows)[i].size == size) {
            (*rows)[i].count++;
            return;
        }
    *rows = sim_xrealloc(*rows, *n + 1, sizeof **rows);
    (*rows)[(*n)++] = (statrow){size, 1};
}

static int stat_cmp(const void *a, const void *b)
{
    const statrow *x = a, *y = b;
    uint64_t tx = x->size * x->count, ty = y->size * y->count;
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

static const char *layout_name(int l)
{
    return l == L_W7 ? "w7" : l == L_W8 ? "w8" : l == L_10B ? "10b" : "10c";
}

cJSON *sim_heap_json(const sim_heap *h)
{
    cJSON *o = cJSON_CreateObject();
    jhex(o, "address", h->addr);
    cJSON_AddStringToObject(o, "peb", h->peb_name ? h->peb_name : "peb");
    jnum(o, "index", (uint64_t)h->index);
    cJSON_AddBoolToObject(o, "process_heap", h->process_heap);
    jnum(o, "bits", h->is32 || !h->x64 ? 32 : 64);
    if (h->kind == 2) {
        cJSON_AddStringToObject(o, "kind", "not_nt");
        return o;
    }
    if (h->kind == 1) {
        cJSON_AddStringToObject(o, "kind", "segment");
        jnum(o, "signature", 0xddeeddee);
        jnum(o, "global_flags", h->sh_flags);
        jnum(o, "total_reserved_pages", h->sh_reserved_pages);
        jnum(o, "total_committed_pages", h->sh_committed_pages);
        jnum(o, "free_committed_pages", h->sh_free_pages);
        jnum(o, "lfh_free_committed_pages", h->sh_lfh_free_pages);
        jnum(o, "large_reserved_pages", h->sh_large_reserved);
        jnum(o, "large_committed_pages", h->sh_large_committed);
        jnum(o, "segment_count", h->sh_segcount);
        jhex(o, "heap_key", h->sh_key);
        cJSON *lb = cJSON_AddArrayToObject(o, "large_blocks");
        for (int i = 0; i < h->sh_nlarge; i++) {
            cJSON *b = cJSON_CreateObject();
            jhex(b, "address", h->sh_large_addr[i]);
            jnum(b, "user_size", h->sh_large_user[i]);
            jnum(b, "allocated_pages", h->sh_large_pages[i]);
            jnum(b, "unused_bytes", h->sh_large_unused[i]);
            cJSON_AddItemToArray(lb, b);
        }
        return o;
    }
    const unsigned gran = h->gran;
    cJSON_AddStringToObject(o, "kind", "nt");
    cJSON_AddStringToObject(o, "layout", layout_name(h->layout));
    jnum(o, "flags", h->flags);
    jnum(o, "force_flags", 0);
    jnum(o, "encode_flag_mask", 0x00100000);
    uint64_t key = 0;
    for (int i = 7; i >= 0; i--)
        key = key << 8 | h->key[i];
    jhex(o, "encoding_key", key);
    jnum(o, "granularity", gran);
    jnum(o, "virtual_memory_threshold_granules", h->vmt);
    jnum(o, "segment_reserve", h->seg_reserve);
    jnum(o, "segment_commit", h->seg_commit);
    jnum(o, "decommit_free_block_threshold", h->dc_free);
    jnum(o, "decommit_total_free_threshold", h->dc_total);
    jnum(o, "total_free_size_granules", h->total_free_granules);
    jnum(o, "next_available_tag_index", h->tag_next);
    jnum(o, "maximum_tag_index", h->tag_max);
    jhex(o, "tag_entries", h->tag_entries);
    jhex(o, "pseudo_tag_entries", h->tag_pseudo);
    jhex(o, "front_end_heap", h->lfh);
    jnum(o, "front_end_heap_type", h->lfh ? 2 : 0);
    cJSON *c = cJSON_AddObjectToObject(o, "counters");
    jnum(c, "total_memory_reserved", h->c_reserved);
    jnum(c, "total_memory_committed", h->c_committed);
    jnum(c, "total_memory_large_ucr", h->c_large_ucr);
    jnum(c, "total_size_in_virtual_blocks", h->c_va);
    jnum(c, "total_segments", h->c_segments);
    jnum(c, "total_ucrs", h->c_ucrs);
    jnum(c, "commit_ops", h->c_commit_ops);
    jnum(c, "decommit_ops", h->c_decommit_ops);
    jnum(c, "lock_acquires", h->c_lock_acq);
    jnum(c, "lock_collisions", h->c_lock_coll);
    jnum(c, "alloc_and_free_ops", h->c_alloc_free_ops);
    jnum(c, "high_watermark_size", h->c_committed);
    cJSON *s = cJSON_AddObjectToObject(o, "heap_s");
    jhex(s, "heap", h->addr);
    jnum(s, "flags", h->flags);
    jnum(s, "reserv_k", h->c_reserved / 1024);
    jnum(s, "commit_k", h->c_committed / 1024);
    jnum(s, "virt_k", (h->c_reserved - h->c_large_ucr) / 1024);
    jnum(s, "free_k", h->total_free_granules * gran / 1024);
    jnum(s, "list_length", h->nfree);
    jnum(s, "ucr", h->c_ucrs);
    jnum(s, "virt_blocks", h->nva);
    jnum(s, "lock_cont", h->c_lock_coll);
    cJSON_AddStringToObject(s, "fast_heap", h->lfh ? "LFH" : "");
    cJSON *src = cJSON_AddObjectToObject(o, "heap_s_sources");
    cJSON_AddStringToObject(src, "reserv_k", "counters.total_memory_reserved / 1024");
    cJSON_AddStringToObject(src, "commit_k", "counters.total_memory_committed / 1024");
    cJSON_AddStringToObject(
        src, "virt_k", "(counters.total_memory_reserved - counters.total_memory_large_ucr) / 1024");
    cJSON_AddStringToObject(src, "free_k", "total_free_size_granules * granularity / 1024");
    cJSON_AddStringToObject(src, "list_length", "entries on _HEAP.FreeLists");
    cJSON_AddStringToObject(src, "ucr", "counters.total_ucrs");
    cJSON_AddStringToObject(src, "virt_blocks", "entries on _HEAP.VirtualAllocdBlocks");
    cJSON_AddStringToObject(src, "lock_cont", "counters.lock_collisions");
    cJSON_AddStringToObject(src, "fast_heap", "front_end_heap_type == 2");
    uint64_t wr = 0, wc = 0, wu = 0, wn = 0;
    cJSON *segs = cJSON_AddArrayToObject(o, "segments");
    for (int i = 0; i < h->nsegs; i++) {
        const sim_seg *g = &h->segs[i];
        cJSON *j = cJSON_CreateObject();
        jnum(j, "index", (uint64_t)i);
        jhex(j, "address", g->addr);
        jhex(j, "base", g->addr);
        jhex(j, "first_entry", g->first_entry);
        jhex(j, "last_valid_entry", g->last);
        jnum(j, "pages", g->pages);
        jnum(j, "uncommitted_pages", g->ucpages);
        jnum(j, "uncommitted_ranges", (uint64_t)g->nucr);
        jnum(j, "committed", g->committed);
        jnum(j, "header_entry_size", g->hdr_size);
        if (g->unreliable)
            cJSON_AddBoolToObject(j, "reliable", false);
        cJSON *u = cJSON_AddArrayToObject(j, "ucrs");
        for (int k = 0; k < g->nucr; k++) {
            cJSON *x = cJSON_CreateObject();
            jhex(x, "descriptor", g->ucr[k].desc);
            jhex(x, "address", g->ucr[k].addr);
            jnum(x, "size", g->ucr[k].size);
            cJSON_AddItemToArray(u, x);
        }
        cJSON_AddItemToArray(segs, j);
        wr += g->last - g->addr;
        wc += g->committed;
        wu += (uint64_t)g->ucpages * PAGE;
        wn += (uint64_t)g->nucr;
    }
    cJSON *w = cJSON_CreateObject();
    jnum(w, "reserved", wr);
    jnum(w, "committed", wc);
    jnum(w, "uncommitted", wu);
    jnum(w, "ucr_count", wn);
    cJSON_AddItemToObject(o, "walked", w);

    statrow *rows = NULL;
    size_t nrows = 0;
    uint64_t bb = 0, bbytes = 0, ib = 0, ibytes = 0, fb = 0, fbytes = 0, vb = 0, vbytes = 0;
    uint64_t lb = 0, lbytes = 0, lf = 0;
    cJSON *va = cJSON_AddArrayToObject(o, "virtual_blocks");
    for (size_t i = 0; i < h->nva; i++) {
        const sim_va *v = &h->va[i];
        cJSON *j = cJSON_CreateObject();
        jhex(j, "address", v->addr);
        jhex(j, "user", v->user);
        jnum(j, "commit", v->commit);
        jnum(j, "reserve", v->reserve);
        jnum(j, "unused", v->unused);
        jnum(j, "user_size", v->user_size);
        jnum(j, "flags", v->flags);
        cJSON_AddItemToArray(va, j);
        vb++;
        vbytes += v->user_size;
        stat_add(&rows, &nrows, v->user_size);
    }
    cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
    static const char *const st[] = {"free", "busy", "internal"};
    for (size_t i = 0; i < h->nblocks; i++) {
        const sim_block *b = &h->blocks[i];
        cJSON *j = cJSON_CreateObject();
        jhex(j, "address", b->addr);
        jnum(j, "segment", (uint64_t)b->seg);
        jnum(j, "size", b->size);
        jnum(j, "prev_size", b->prev);
        cJSON_AddStringToObject(j, "state", st[b->state]);
        jhex(j, "user", b->user);
        jnum(j, "user_size", b->state ? b->user_size : 0);
        jnum(j, "flags", b->flags);
        jnum(j, "unused_bytes", b->unused);
        if (b->unreliable)
            cJSON_AddBoolToObject(j, "reliable", false);
        cJSON_AddItemToArray(blocks, j);
        if (b->state == 1) {
            bb++;
            bbytes += b->user_size;
            stat_add(&rows, &nrows, b->user_size);
        } else if (b->state == 2) {
            ib++;
            ibytes += b->size;
        } else {
            fb++;
            fbytes += b->size;
        }
    }
    cJSON *fl = cJSON_AddArrayToObject(o, "free_list");
    for (size_t i = 0; i < h->nfree; i++)
        cJSON_AddItemToArray(fl, sim_jhex(h->free_list[i]));
    if (h->free_list_unreliable)
        cJSON_AddBoolToObject(o, "free_list_reliable", false);
    if (h->lfh) {
        cJSON *l = cJSON_AddObjectToObject(o, "lfh");
        jhex(l, "address", h->lfh);
        jnum(l, "region_reserve", LFH_RESERVE(h->is32));
        jnum(l, "region_committed", LFH_COMMIT);
        cJSON *ss = cJSON_AddArrayToObject(l, "subsegments");
        for (size_t i = 0; i < h->nsubs; i++) {
            const sim_subseg *sg = &h->subs[i];
            cJSON *j = cJSON_CreateObject();
            jhex(j, "address", sg->addr);
            jhex(j, "userblocks", sg->ub);
            jhex(j, "container", sg->container);
            jnum(j, "block_size", sg->stride);
            jnum(j, "block_count", sg->count);
            jnum(j, "busy", sg->busy);
            jnum(j, "free", sg->count - sg->busy);
            jnum(j, "first_offset", sg->fao);
            if (sg->unreliable)
                cJSON_AddBoolToObject(j, "reliable", false);
            cJSON *bl = cJSON_AddArrayToObject(j, "blocks");
            for (uint32_t k = 0; k < sg->count; k++) {
                const sim_lblock *x = &sg->blocks[k];
                cJSON *y = cJSON_CreateObject();
                jhex(y, "address", x->addr);
                jhex(y, "user", x->user);
                cJSON_AddBoolToObject(y, "busy", x->busy);
                jnum(y, "user_size", x->busy ? x->user_size : 0);
                cJSON_AddItemToArray(bl, y);
                if (x->busy) {
                    lb++;
                    lbytes += x->user_size;
                    stat_add(&rows, &nrows, x->user_size);
                } else {
                    lf++;
                }
            }
            cJSON_AddItemToArray(ss, j);
        }
    }
    cJSON *t = cJSON_AddObjectToObject(o, "totals");
    jnum(t, "backend_busy_blocks", bb);
    jnum(t, "backend_busy_bytes", bbytes);
    jnum(t, "internal_blocks", ib);
    jnum(t, "internal_bytes", ibytes);
    jnum(t, "free_blocks", fb);
    jnum(t, "free_bytes", fbytes);
    jnum(t, "va_blocks", vb);
    jnum(t, "va_bytes", vbytes);
    jnum(t, "lfh_busy_blocks", lb);
    jnum(t, "lfh_busy_bytes", lbytes);
    jnum(t, "lfh_free_blocks", lf);
    jnum(t, "busy_blocks", bb + vb + lb);
    jnum(t, "busy_bytes", bbytes + vbytes + lbytes);
    qsort(rows, nrows, sizeof *rows, stat_cmp);
    cJSON *sa = cJSON_AddArrayToObject(o, "stat");
    for (size_t i = 0; i < nrows; i++) {
        cJSON *j = cJSON_CreateObject();
        jnum(j, "user_size", rows[i].size);
        jnum(j, "count", rows[i].count);
        jnum(j, "total", rows[i].size * rows[i].count);
        cJSON_AddItemToArray(sa, j);
    }
    free(rows);
    return o;
}
