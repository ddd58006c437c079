/* ntheap_sim: helpers, the simulated address space and the minidump writer. */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ntheap_sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *sim_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        sim_die("out of memory");
    return p;
}

void *sim_xrealloc(void *p, size_t n, size_t sz)
{
    void *q = realloc(p, (n ? n : 1) * sz);
    if (!q)
        sim_die("out of memory");
    return q;
}

char *sim_hex(uint64_t v)
{
    static char bufs[8][24];
    static unsigned i;
    char *b = bufs[i++ % 8];
    snprintf(b, sizeof bufs[0], "0x%llx", (unsigned long long)v);
    return b;
}

cJSON *sim_jhex(uint64_t v)
{
    return cJSON_CreateString(sim_hex(v));
}

uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

uint64_t rng_next(sim_rng *r)
{
    uint64_t x = r->s ? r->s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t rng_range(sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + rng_next(r) % (hi - lo + 1);
}

bool rng_chance(sim_rng *r, unsigned percent)
{
    return rng_next(r) % 100 < percent;
}

/* ---- address space ---- */

void sim_proc_init(sim_proc *p, bool x64, unsigned major, unsigned minor, unsigned build)
{
    memset(p, 0, sizeof *p);
    p->x64 = x64;
    p->major = major;
    p->minor = minor;
    p->build = build;
    p->va_min = 0x10000;
    p->va_max = x64 ? 0x7ffffffeffffull + 1 : 0x7fff0000ull;
    p->pcap = 1024;
    p->pages = sim_xcalloc(p->pcap, sizeof *p->pages);
}

void sim_proc_free(sim_proc *p)
{
    for (size_t i = 0; i < p->nallocs; i++) {
        free(p->allocs[i].pstate);
        free(p->allocs[i].pprotect);
    }
    free(p->allocs);
    for (size_t i = 0; i < p->pcap; i++)
        free(p->pages[i].data);
    free(p->pages);
    for (size_t i = 0; i < p->nheaps; i++)
        sim_heap_free(p->heaps[i]);
}

sim_alloc *sim_alloc_at(sim_proc *p, uint64_t base, uint64_t size, uint32_t type, uint32_t aprot,
                        const char *what)
{
    if (base % PAGE || size % PAGE || !size || base < p->va_min || base + size > p->va_max)
        sim_die("bad allocation %s size %s (%s)", sim_hex(base), sim_hex(size), what);
    size_t at = p->nallocs;
    for (size_t i = 0; i < p->nallocs; i++) {
        sim_alloc *a = &p->allocs[i];
        if (base < a->base + a->size && a->base < base + size)
            sim_die("allocation %s (%s) overlaps %s (%s)", sim_hex(base), what, sim_hex(a->base),
                    a->what);
        if (a->base > base && at == p->nallocs)
            at = i;
    }
    p->allocs = sim_xrealloc(p->allocs, p->nallocs + 1, sizeof *p->allocs);
    memmove(&p->allocs[at + 1], &p->allocs[at], (p->nallocs - at) * sizeof *p->allocs);
    p->nallocs++;
    sim_alloc *a = &p->allocs[at];
    memset(a, 0, sizeof *a);
    a->base = base;
    a->size = size;
    a->type = type;
    a->alloc_protect = aprot;
    a->what = what;
    size_t np = (size_t)(size / PAGE);
    a->pstate = sim_xcalloc(np, sizeof *a->pstate);
    a->pprotect = sim_xcalloc(np, sizeof *a->pprotect);
    for (size_t i = 0; i < np; i++)
        a->pstate[i] = MEM_RESERVE;
    return a;
}

uint64_t sim_find_free(sim_proc *p, uint64_t hint, uint64_t size, uint64_t align)
{
    uint64_t cand = align_up(hint < p->va_min ? p->va_min : hint, align);
    /* allocations are sorted by base: one pass */
    for (size_t i = 0; i < p->nallocs; i++) {
        sim_alloc *a = &p->allocs[i];
        if (a->base + a->size <= cand)
            continue;
        if (a->base >= cand + size)
            break;
        cand = align_up(a->base + a->size, align);
    }
    if (cand + size > p->va_max)
        sim_die("address space full (size %s)", sim_hex(size));
    return cand;
}

sim_alloc *sim_reserve(sim_proc *p, uint64_t hint, uint64_t size, uint32_t type, uint32_t aprot,
                       const char *what)
{
    return sim_alloc_at(p, sim_find_free(p, hint, size, 0x10000), size, type, aprot, what);
}

sim_alloc *sim_find_alloc(sim_proc *p, uint64_t addr)
{
    for (size_t i = 0; i < p->nallocs; i++)
        if (addr >= p->allocs[i].base && addr - p->allocs[i].base < p->allocs[i].size)
            return &p->allocs[i];
    return NULL;
}

void sim_commit(sim_proc *p, uint64_t addr, uint64_t size, uint32_t protect)
{
    for (uint64_t a = addr & ~(PAGE - 1); a < addr + size; a += PAGE) {
        sim_alloc *al = sim_find_alloc(p, a);
        if (!al)
            sim_die("commit outside any allocation at %s", sim_hex(a));
        size_t i = (size_t)((a - al->base) / PAGE);
        al->pstate[i] = MEM_COMMIT;
        al->pprotect[i] = protect;
    }
}

bool sim_is_committed(sim_proc *p, uint64_t addr)
{
    sim_alloc *al = sim_find_alloc(p, addr);
    return al && al->pstate[(addr - al->base) / PAGE] == MEM_COMMIT;
}

static uint64_t phash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static sim_pageent *page_slot(sim_proc *p, uint64_t page, bool create)
{
    if (create && (p->pcount + 1) * 2 > p->pcap) {
        size_t ncap = p->pcap * 2;
        sim_pageent *np = sim_xcalloc(ncap, sizeof *np);
        for (size_t i = 0; i < p->pcap; i++) {
            if (!p->pages[i].page)
                continue;
            size_t j = phash(p->pages[i].page) & (ncap - 1);
            while (np[j].page)
                j = (j + 1) & (ncap - 1);
            np[j] = p->pages[i];
        }
        free(p->pages);
        p->pages = np;
        p->pcap = ncap;
    }
    uint64_t key = page + 1;
    size_t j = phash(key) & (p->pcap - 1);
    while (p->pages[j].page) {
        if (p->pages[j].page == key)
            return &p->pages[j];
        j = (j + 1) & (p->pcap - 1);
    }
    if (!create)
        return NULL;
    p->pages[j].page = key;
    p->pages[j].data = sim_xcalloc(1, PAGE);
    p->pcount++;
    return &p->pages[j];
}

void sim_write(sim_proc *p, uint64_t addr, const void *buf, size_t n)
{
    const uint8_t *b = buf;
    while (n) {
        if (!sim_is_committed(p, addr))
            sim_die("write to uncommitted %s", sim_hex(addr));
        uint64_t off = addr % PAGE;
        size_t chunk = (size_t)(PAGE - off) < n ? (size_t)(PAGE - off) : n;
        sim_pageent *e = page_slot(p, addr / PAGE, true);
        memcpy(e->data + off, b, chunk);
        addr += chunk;
        b += chunk;
        n -= chunk;
    }
}

void sim_read(sim_proc *p, uint64_t addr, void *buf, size_t n)
{
    uint8_t *b = buf;
    while (n) {
        uint64_t off = addr % PAGE;
        size_t chunk = (size_t)(PAGE - off) < n ? (size_t)(PAGE - off) : n;
        sim_pageent *e = page_slot(p, addr / PAGE, false);
        if (e)
            memcpy(b, e->data + off, chunk);
        else
            memset(b, 0, chunk);
        addr += chunk;
        b += chunk;
        n -= chunk;
    }
}

void sim_w8(sim_proc *p, uint64_t a, uint8_t v)
{
    sim_write(p, a, &v, 1);
}

void sim_w16(sim_proc *p, uint64_t a, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    sim_write(p, a, b, 2);
}

void sim_w32(sim_proc *p, uint64_t a, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sim_write(p, a, b, 4);
}

void sim_w64(sim_proc *p, uint64_t a, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sim_write(p, a, b, 8);
}

void sim_wptr(sim_proc *p, uint64_t a, unsigned ps, uint64_t v)
{
    if (ps == 8)
        sim_w64(p, a, v);
    else
        sim_w32(p, a, (uint32_t)v);
}

uint32_t sim_r32(sim_proc *p, uint64_t a)
{
    uint8_t b[4];
    sim_read(p, a, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t sim_rptr(sim_proc *p, uint64_t a, unsigned ps)
{
    if (ps == 4)
        return sim_r32(p, a);
    return sim_r32(p, a) | (uint64_t)sim_r32(p, a + 4) << 32;
}

void sim_exclude_page(sim_proc *p, uint64_t addr)
{
    page_slot(p, addr / PAGE, true)->excluded = true;
}

/* ---- minidump writer ---- */

typedef struct dbuf {
    uint8_t *b;
    size_t n, cap;
} dbuf;

static void db_put(dbuf *d, const void *src, size_t n)
{
    if (d->n + n > d->cap) {
        d->cap = (d->n + n) * 2 + 4096;
        d->b = sim_xrealloc(d->b, d->cap, 1);
    }
    if (src)
        memcpy(d->b + d->n, src, n);
    else
        memset(d->b + d->n, 0, n);
    d->n += n;
}

static void db_u16(dbuf *d, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    db_put(d, b, 2);
}

static void db_u32(dbuf *d, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    db_put(d, b, 4);
}

static void db_u64(dbuf *d, uint64_t v)
{
    db_u32(d, (uint32_t)v);
    db_u32(d, (uint32_t)(v >> 32));
}

static void db_patch32(dbuf *d, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d->b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void db_align(dbuf *d, size_t a)
{
    while (d->n % a)
        db_put(d, NULL, 1);
}

/* MINIDUMP_STRING: byte length, UTF-16LE text, terminator. ASCII input. */
static uint32_t db_mdstring(dbuf *d, const char *s)
{
    db_align(d, 4);
    uint32_t rva = (uint32_t)d->n;
    size_t len = strlen(s);
    db_u32(d, (uint32_t)(len * 2));
    for (size_t i = 0; i < len; i++)
        db_u16(d, (uint8_t)s[i]);
    db_u16(d, 0);
    return rva;
}

static bool page_captured(sim_proc *p, const sim_alloc *a, size_t i)
{
    if (a->pstate[i] != MEM_COMMIT)
        return false;
    sim_pageent *e = page_slot(p, a->base / PAGE + i, false);
    if (e && e->excluded)
        return false;
    return a->capture_all || e != NULL;
}

typedef struct run {
    uint64_t start, size, file_off;
} run;

cJSON *sim_write_minidump(sim_proc *p, const char *path)
{
    dbuf d = {0};
    enum { NSTREAMS = 5 };
    /* header */
    db_u32(&d, 0x504d444d);
    db_u32(&d, 0xa793);
    db_u32(&d, NSTREAMS);
    db_u32(&d, 32);
    db_u32(&d, 0);
    db_u32(&d, 0x6553f100); /* TimeDateStamp */
    db_u64(&d, 0x802);      /* WithFullMemory | WithFullMemoryInfo */
    size_t dir = d.n;
    db_put(&d, NULL, 12 * NSTREAMS);
    unsigned ns = 0;
#define DIRENT(type, rva, size)                                                                    \
    do {                                                                                           \
        db_patch32(&d, dir + 12 * ns, (type));                                                     \
        db_patch32(&d, dir + 12 * ns + 4, (uint32_t)(size));                                       \
        db_patch32(&d, dir + 12 * ns + 8, (uint32_t)(rva));                                        \
        ns++;                                                                                      \
    } while (0)

    /* SystemInfo (7) */
    uint32_t csd = db_mdstring(&d, "");
    db_align(&d, 8);
    size_t si = d.n;
    db_u16(&d, p->x64 ? 9 : 0);
    db_u16(&d, 6);
    db_u16(&d, 0x9e0a);
    db_put(&d, (uint8_t[]){4, 1}, 2); /* processors, VER_NT_WORKSTATION */
    db_u32(&d, p->major);
    db_u32(&d, p->minor);
    db_u32(&d, p->build);
    db_u32(&d, 2); /* VER_PLATFORM_WIN32_NT */
    db_u32(&d, csd);
    db_u16(&d, 0x100);
    db_u16(&d, 0);
    if (p->x64) {
        db_u64(&d, 0x1ull << 10); /* OtherCpuInfo.ProcessorFeatures[2], union of 24 bytes */
        db_u64(&d, 0);
        db_u64(&d, 0);
    } else {
        db_put(&d, "GenuineIntel", 12);
        db_u32(&d, 0x000906ea);
        db_u32(&d, 0xbfebfbff);
        db_u32(&d, 0);
    }
    DIRENT(7, si, d.n - si);

    /* ModuleList (4) */
    uint32_t names[8];
    for (size_t i = 0; i < p->nmods; i++)
        names[i] = db_mdstring(&d, p->mods[i].path);
    db_align(&d, 8);
    size_t ml = d.n;
    db_u32(&d, (uint32_t)p->nmods);
    for (size_t i = 0; i < p->nmods; i++) {
        const sim_module *m = &p->mods[i];
        db_u64(&d, m->base);
        db_u32(&d, m->size);
        db_u32(&d, 0x1a2b3c);
        db_u32(&d, m->ts);
        db_u32(&d, names[i]);
        uint32_t ms = (uint32_t)m->ver[0] << 16 | m->ver[1];
        uint32_t ls = (uint32_t)m->ver[2] << 16 | m->ver[3];
        uint32_t vs[13] = {0xfeef04bd, 0x10000, ms, ls, ms, ls, 0x3f, 0, 0x40004, 2, 0, 0, 0};
        for (int k = 0; k < 13; k++)
            db_u32(&d, vs[k]);
        db_put(&d, NULL, 8 + 8 + 16); /* CvRecord, MiscRecord, Reserved0/1 */
    }
    DIRENT(4, ml, d.n - ml);

    /* thread contexts, then ThreadList (3) */
    uint32_t ctx_rva[4], ctx_size = p->x64 ? 0x4d0 : 0x2cc;
    for (size_t i = 0; i < p->nthreads; i++) {
        db_align(&d, 16);
        ctx_rva[i] = (uint32_t)d.n;
        size_t c = d.n;
        db_put(&d, NULL, ctx_size);
        const sim_thread *t = &p->threads[i];
        if (p->x64) {
            db_patch32(&d, c + 0x30, 0x10000b);
            d.b[c + 0x38] = 0x33;            /* SegCs */
            db_patch32(&d, c + 0x44, 0x244); /* EFlags */
            db_patch32(&d, c + 0x98, (uint32_t)t->sp);
            db_patch32(&d, c + 0x9c, (uint32_t)(t->sp >> 32));
            db_patch32(&d, c + 0xa0, (uint32_t)(t->sp + 0x40));
            db_patch32(&d, c + 0xa4, (uint32_t)((t->sp + 0x40) >> 32));
            db_patch32(&d, c + 0xf8, (uint32_t)t->pc);
            db_patch32(&d, c + 0xfc, (uint32_t)(t->pc >> 32));
        } else {
            db_patch32(&d, c + 0, 0x1000f);
            db_patch32(&d, c + 0xb4, (uint32_t)t->sp + 0x20);
            db_patch32(&d, c + 0xb8, (uint32_t)t->pc);
            db_patch32(&d, c + 0xbc, 0x23);
            db_patch32(&d, c + 0xc0, 0x246);
            db_patch32(&d, c + 0xc4, (uint32_t)t->sp);
            db_patch32(&d, c + 0xc8, 0x2b);
        }
    }
    db_align(&d, 8);
    size_t tl = d.n;
    size_t th_off[4];
    db_u32(&d, (uint32_t)p->nthreads);
    for (size_t i = 0; i < p->nthreads; i++) {
        const sim_thread *t = &p->threads[i];
        th_off[i] = d.n;
        db_u32(&d, t->tid);
        db_u32(&d, 0);
        db_u32(&d, 0x20);
        db_u32(&d, 0);
        db_u64(&d, t->teb);
        db_u64(&d, t->sp);
        db_u32(&d, (uint32_t)(t->stack_base - t->sp));
        db_u32(&d, 0); /* Rva, patched below */
        db_u32(&d, ctx_size);
        db_u32(&d, ctx_rva[i]);
    }
    DIRENT(3, tl, d.n - tl);

    /* MemoryInfoList (16): every allocation split by page state, free gaps in between */
    db_align(&d, 8);
    size_t mi = d.n;
    db_u32(&d, 16);
    db_u32(&d, 48);
    size_t mi_count = d.n;
    db_u64(&d, 0);
    uint64_t nmi = 0, cursor = p->va_min;
#define MI(base, abase, aprot, rsize, state, prot, type)                                           \
    do {                                                                                           \
        db_u64(&d, base);                                                                          \
        db_u64(&d, abase);                                                                         \
        db_u32(&d, aprot);                                                                         \
        db_u32(&d, 0);                                                                             \
        db_u64(&d, rsize);                                                                         \
        db_u32(&d, state);                                                                         \
        db_u32(&d, prot);                                                                          \
        db_u32(&d, type);                                                                          \
        db_u32(&d, 0);                                                                             \
        nmi++;                                                                                     \
    } while (0)
    for (size_t i = 0; i < p->nallocs; i++) {
        const sim_alloc *a = &p->allocs[i];
        if (a->base > cursor)
            MI(cursor, 0, 0, a->base - cursor, MEM_FREE, PAGE_NOACCESS, 0);
        size_t np = (size_t)(a->size / PAGE);
        for (size_t s = 0; s < np;) {
            size_t e = s + 1;
            while (e < np && a->pstate[e] == a->pstate[s] && a->pprotect[e] == a->pprotect[s])
                e++;
            MI(a->base + s * PAGE, a->base, a->alloc_protect, (e - s) * PAGE, a->pstate[s],
               a->pstate[s] == MEM_COMMIT ? a->pprotect[s] : 0, a->type);
            s = e;
        }
        cursor = a->base + a->size;
    }
    if (cursor < p->va_max)
        MI(cursor, 0, 0, p->va_max - cursor, MEM_FREE, PAGE_NOACCESS, 0);
    db_patch32(&d, mi_count, (uint32_t)nmi);
    DIRENT(16, mi, d.n - mi);

    /* Memory64List (9): runs of captured pages */
    run *runs = NULL;
    size_t nruns = 0;
    uint64_t total = 0;
    cJSON *unc = cJSON_CreateArray();
    for (size_t i = 0; i < p->nallocs; i++) {
        const sim_alloc *a = &p->allocs[i];
        size_t np = (size_t)(a->size / PAGE);
        uint64_t ustart = 0, uend = 0;
        for (size_t k = 0; k < np; k++) {
            uint64_t pa = a->base + k * PAGE;
            if (page_captured(p, a, k)) {
                if (nruns && runs[nruns - 1].start + runs[nruns - 1].size == pa) {
                    runs[nruns - 1].size += PAGE;
                } else {
                    runs = sim_xrealloc(runs, nruns + 1, sizeof *runs);
                    runs[nruns++] = (run){pa, PAGE, total};
                }
                total += PAGE;
            } else if (a->heapmem && a->pstate[k] == MEM_COMMIT) {
                sim_pageent *e = page_slot(p, pa / PAGE, false);
                if (e && e->excluded)
                    continue;
                if (uend == pa) {
                    uend += PAGE;
                } else {
                    if (uend > ustart) {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddItemToObject(o, "address", sim_jhex(ustart));
                        cJSON_AddNumberToObject(o, "size", (double)(uend - ustart));
                        cJSON_AddItemToArray(unc, o);
                    }
                    ustart = pa;
                    uend = pa + PAGE;
                }
            }
        }
        if (uend > ustart) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "address", sim_jhex(ustart));
            cJSON_AddNumberToObject(o, "size", (double)(uend - ustart));
            cJSON_AddItemToArray(unc, o);
        }
    }
    db_align(&d, 8);
    size_t m64 = d.n;
    db_u64(&d, nruns);
    uint64_t base_rva = d.n + 8 + 16 * nruns;
    base_rva = align_up(base_rva, 16);
    db_u64(&d, base_rva);
    for (size_t i = 0; i < nruns; i++) {
        db_u64(&d, runs[i].start);
        db_u64(&d, runs[i].size);
    }
    DIRENT(9, m64, d.n - m64);
    db_align(&d, 16);
    if (d.n != base_rva)
        sim_die("internal: BaseRva mismatch");
    if (base_rva + total > 0xffffffffull)
        sim_die("dump too large");
    /* stack descriptors point into the memory data */
    for (size_t i = 0; i < p->nthreads; i++) {
        const sim_thread *t = &p->threads[i];
        uint32_t rva = 0;
        for (size_t k = 0; k < nruns; k++)
            if (t->sp >= runs[k].start && t->stack_base <= runs[k].start + runs[k].size)
                rva = (uint32_t)(base_rva + runs[k].file_off + (t->sp - runs[k].start));
        if (!rva)
            sim_die("thread %u stack not captured", t->tid);
        db_patch32(&d, th_off[i] + 36, rva);
    }
    if (ns != NSTREAMS)
        sim_die("internal: stream count");

    FILE *f = fopen(path, "wb");
    if (!f)
        sim_die("cannot write %s", path);
    fwrite(d.b, 1, d.n, f);
    static const uint8_t zero[PAGE];
    for (size_t i = 0; i < nruns; i++)
        for (uint64_t a = runs[i].start; a < runs[i].start + runs[i].size; a += PAGE) {
            sim_pageent *e = page_slot(p, a / PAGE, false);
            fwrite(e ? e->data : zero, 1, PAGE, f);
        }
    if (fclose(f) != 0)
        sim_die("write error on %s", path);
    free(d.b);
    free(runs);
    return unc;
}
