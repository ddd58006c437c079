/* ntheap_sim: simulated Windows processes with NT heaps, written as minidumps plus a truth file.
 * Layouts: ../shared/reference/nt-heap.md; choices and truth format: docs/internals/ntheap-sim.md.
 * This is test tooling: inputs are our own constants, so failures abort instead of recovering. */
#ifndef NTHEAP_SIM_H
#define NTHEAP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PAGE 0x1000ull

#define MEM_COMMIT 0x1000u
#define MEM_RESERVE 0x2000u
#define MEM_FREE 0x10000u
#define MEM_PRIVATE 0x20000u
#define MEM_MAPPED 0x40000u
#define MEM_IMAGE 0x1000000u
#define PAGE_NOACCESS 0x01u
#define PAGE_READONLY 0x02u
#define PAGE_READWRITE 0x04u
#define PAGE_EXECUTE_READ 0x20u
#define PAGE_GUARD 0x100u

/* ---- helpers (sim_mem.c) ---- */
void sim_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *sim_xcalloc(size_t n, size_t sz);
void *sim_xrealloc(void *p, size_t n, size_t sz);
char *sim_hex(uint64_t v); /* "0x..." in a rotating static buffer */
cJSON *sim_jhex(uint64_t v);
uint64_t align_up(uint64_t v, uint64_t a);

typedef struct sim_rng {
    uint64_t s;
} sim_rng;
uint64_t rng_next(sim_rng *r);
uint64_t rng_range(sim_rng *r, uint64_t lo, uint64_t hi); /* inclusive */
bool rng_chance(sim_rng *r, unsigned percent);

/* ---- memory model ---- */
typedef struct sim_alloc {
    uint64_t base, size;
    uint32_t type, alloc_protect;
    uint32_t *pstate;   /* per page: MEM_COMMIT / MEM_RESERVE */
    uint32_t *pprotect; /* per page */
    bool capture_all;   /* capture every committed page (else only pages written to) */
    bool heapmem;       /* heap memory (for the truth's `uncaptured`) */
    const char *what;
} sim_alloc;

typedef struct sim_pageent {
    uint64_t page; /* page number + 1 (0 = empty slot) */
    uint8_t *data;
    bool excluded;
} sim_pageent;

typedef struct sim_module {
    const char *path;
    uint64_t base;
    uint32_t size, ts;
    uint16_t ver[4];
} sim_module;

typedef struct sim_thread {
    uint32_t tid;
    uint64_t teb, teb32, stack_base, stack_limit, sp, pc;
} sim_thread;

struct sim_heap;

typedef struct sim_issue {
    const char *kind;
    uint64_t heap, addr;
    bool exact;
    const char *also;
    char detail[160];
} sim_issue;

typedef struct sim_proc {
    bool x64, wow64;
    unsigned major, minor, build;
    uint64_t va_min, va_max; /* user address space */
    sim_alloc *allocs;
    size_t nallocs;
    sim_pageent *pages;
    size_t pcap, pcount;
    sim_module mods[8];
    size_t nmods;
    sim_thread threads[4];
    size_t nthreads;
    uint64_t peb, peb32;
    uint32_t lfh_key;
    struct sim_heap *heaps[8];
    size_t nheaps;
    sim_issue issues[4];
    size_t nissues;
} sim_proc;

void sim_proc_init(sim_proc *p, bool x64, unsigned major, unsigned minor, unsigned build);
void sim_proc_free(sim_proc *p);
/* Adds an allocation (all pages MEM_RESERVE, protect 0). Aborts on overlap. */
sim_alloc *sim_alloc_at(sim_proc *p, uint64_t base, uint64_t size, uint32_t type, uint32_t aprot,
                        const char *what);
/* First free, `align`-aligned range of `size` bytes at or above `hint`. */
uint64_t sim_find_free(sim_proc *p, uint64_t hint, uint64_t size, uint64_t align);
sim_alloc *sim_reserve(sim_proc *p, uint64_t hint, uint64_t size, uint32_t type, uint32_t aprot,
                       const char *what);
sim_alloc *sim_find_alloc(sim_proc *p, uint64_t addr);
void sim_commit(sim_proc *p, uint64_t addr, uint64_t size, uint32_t protect);
bool sim_is_committed(sim_proc *p, uint64_t addr);
void sim_write(sim_proc *p, uint64_t addr, const void *buf, size_t n);
void sim_read(sim_proc *p, uint64_t addr, void *buf, size_t n);
void sim_w8(sim_proc *p, uint64_t a, uint8_t v);
void sim_w16(sim_proc *p, uint64_t a, uint16_t v);
void sim_w32(sim_proc *p, uint64_t a, uint32_t v);
void sim_w64(sim_proc *p, uint64_t a, uint64_t v);
void sim_wptr(sim_proc *p, uint64_t a, unsigned ps, uint64_t v);
uint32_t sim_r32(sim_proc *p, uint64_t a);
uint64_t sim_rptr(sim_proc *p, uint64_t a, unsigned ps);
void sim_exclude_page(sim_proc *p, uint64_t addr);
/* Writes DIR/NAME.dmp. Returns the uncaptured committed heap ranges as a JSON array. */
cJSON *sim_write_minidump(sim_proc *p, const char *path);

/* ---- heaps (sim_heap.c) ---- */
enum { L_W7, L_W8, L_10B, L_10C };

typedef struct sim_block {
    uint64_t addr, user, user_size;
    uint32_t size, prev; /* bytes */
    int seg, state;      /* state: 0 free, 1 busy, 2 internal */
    int lfh;             /* internal: index of its subsegment */
    uint8_t flags, unused;
    bool unreliable, run_last, run_first;
} sim_block;

typedef struct sim_ucr {
    uint64_t desc, addr, size;
} sim_ucr;

typedef struct sim_seg {
    uint64_t addr, last, first_entry, hdr_size, committed;
    uint32_t pages, ucpages;
    sim_ucr ucr[8];
    int nucr;
    bool unreliable;
} sim_seg;

typedef struct sim_va {
    uint64_t addr, user, commit, reserve, unused, user_size;
    uint8_t flags;
} sim_va;

typedef struct sim_lblock {
    uint64_t addr, user, user_size;
    bool busy;
} sim_lblock;

typedef struct sim_subseg {
    uint64_t addr, ub, container;
    uint32_t stride, count, busy, fao;
    sim_lblock *blocks;
    bool unreliable;
} sim_subseg;

/* What a variant asks for. Zero fields get defaults. */
typedef struct sim_segspec {
    uint64_t base;      /* 0 = pick */
    uint64_t reserve;   /* bytes (LastValidEntry - base) */
    uint64_t committed; /* committed bytes (page multiple) */
    int nucr;           /* number of uncommitted ranges */
    int nfree;          /* seed: free entries in this segment (-1 = random) */
    uint64_t free_bytes;
} sim_segspec;

typedef struct sim_heapspec {
    uint64_t base, hint;
    uint32_t flags;
    int nsegs;
    sim_segspec segs[8];
    int nva;
    uint64_t va_user_min, va_user_max;
    const uint64_t *va_addrs; /* optional fixed addresses for the first VA blocks */
    size_t nva_addrs;
    uint64_t va_last_addr; /* optional fixed address of the last VA block */
    bool lfh;
    int nsubsegs;
    int avg_busy_granules; /* typical busy block size */
    bool seed_counters;    /* counters given below instead of computed */
    uint64_t c_reserved, c_committed, c_large_ucr;
    uint32_t c_lock_collisions;
    uint64_t total_free_granules; /* seed: exact TotalFreeSize */
    uint32_t vmt, seg_reserve, seg_commit, dc_free, dc_total;
    bool sparse; /* capture only metadata pages */
    bool tags;   /* write the tag fields (NextAvailableTagIndex, ..., PseudoTagEntries) */
} sim_heapspec;

typedef struct sim_heap {
    uint64_t addr;
    bool x64, is32;   /* is32: x86 layout */
    int layout, kind; /* kind: 0 nt, 1 segment, 2 not_nt */
    const char *peb_name;
    int index;
    bool process_heap;
    unsigned ps, gran;
    uint32_t flags, vmt;
    uint8_t key[8];
    uint64_t seg_reserve, seg_commit, dc_free, dc_total;
    sim_seg segs[8];
    int nsegs;
    sim_block *blocks;
    size_t nblocks;
    sim_va *va;
    size_t nva;
    uint64_t *free_list;
    size_t nfree;
    bool free_list_unreliable;
    uint64_t lfh;
    sim_subseg *subs;
    size_t nsubs;
    uint64_t total_free_granules;
    uint16_t tag_next, tag_max;       /* NextAvailableTagIndex, MaximumTagIndex */
    uint64_t tag_entries, tag_pseudo; /* TagEntries, PseudoTagEntries */
    uint64_t c_reserved, c_committed, c_large_ucr, c_va, c_commit_ops, c_decommit_ops, c_lock_acq,
        c_alloc_free_ops;
    uint32_t c_segments, c_ucrs, c_lock_coll;
    bool seed_counters;
    /* segment heap */
    uint64_t sh_key, sh_reserved_pages, sh_committed_pages, sh_free_pages, sh_lfh_free_pages,
        sh_large_reserved, sh_large_committed;
    uint32_t sh_segcount, sh_flags;
    uint64_t sh_large_addr[4], sh_large_user[4], sh_large_pages[4], sh_large_unused[4];
    int sh_nlarge;
} sim_heap;

sim_heap *sim_build_nt_heap(sim_proc *p, sim_rng *r, bool is32, int layout,
                            const sim_heapspec *spec);
sim_heap *sim_build_segment_heap(sim_proc *p, sim_rng *r);
sim_heap *sim_build_not_nt_heap(sim_proc *p, sim_rng *r);
void sim_heap_free(sim_heap *h);
void sim_heap_set_index(sim_proc *p, sim_heap *h, int idx); /* ProcessHeapsListIndex */
unsigned sim_heap_seglist_off(const sim_heap *h);
unsigned sim_heap_udsig_off(const sim_heap *h);
cJSON *sim_heap_json(const sim_heap *h);
/* Encoded header access for the corruption variants. */
uint64_t sim_heap_hdr(const sim_heap *h, uint64_t entry); /* address of the 8 header bytes */

#endif
