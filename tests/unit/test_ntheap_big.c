/* NT-heap walker on a big hand-built heap: one Windows 10 x64 (10c) heap whose single 96 MB segment
 * holds 2.7 million encoded entries, laid out by this test from nt-heap.md §2 (so the expected
 * counts are the construction's). Checks that the walk is complete, exact and fast (no
 * per-entry allocation), and that a cycle-free but very long free list is counted exactly. */
#include "dstest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/ntheap.h"

#define HEAP 0x10000000ull
#define SEG_SIZE (96ull << 20)
#define PEB 0x7ff00000ull
#define FIRST 0x400ull /* FirstEntry offset: the heap's own header entry covers 0x400 bytes */

static uint8_t *mem; /* backs [HEAP, HEAP + SEG_SIZE) */
static uint8_t pebm[0x1000];
static uint64_t ucount[4096]; /* busy entries per user size, as built (for -stat) */
static const uint8_t KEY[8] = {0x5a, 0x13, 0xc4, 0x5a ^ 0x13 ^ 0xc4, 0x77, 0x21, 0, 0};

static void put64(uint8_t *b, uint64_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}
static void put32(uint8_t *b, uint64_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}

/* x64 _HEAP_ENTRY: header bytes at +8, encoded with the key */
static void entry(uint64_t off, uint16_t gran_size, uint8_t flags, uint16_t prev, uint8_t unused)
{
    uint8_t h[8] = {(uint8_t)gran_size, (uint8_t)(gran_size >> 8), flags, 0,
                    (uint8_t)prev,      (uint8_t)(prev >> 8),      0,     unused};
    h[3] = h[0] ^ h[1] ^ h[2];
    for (int i = 0; i < 8; i++)
        mem[off + 8 + i] = h[i] ^ KEY[i];
}

static ds_dump *build(uint64_t *nbusy, uint64_t *busy_bytes, uint64_t *nfree)
{
    mem = calloc(1, SEG_SIZE);
    assert_non_null(mem);
    uint8_t *h = mem;
    put32(h, 0x10, 0xffeeffee);   /* SegmentSignature */
    put64(h, 0x18, HEAP + 0x120); /* SegmentListEntry -> SegmentList head */
    put64(h, 0x20, HEAP + 0x120);
    put64(h, 0x28, HEAP);                       /* Heap */
    put64(h, 0x30, HEAP);                       /* BaseAddress */
    put32(h, 0x38, (uint32_t)(SEG_SIZE >> 12)); /* NumberOfPages */
    put64(h, 0x40, HEAP + FIRST);               /* FirstEntry */
    put64(h, 0x48, HEAP + SEG_SIZE);            /* LastValidEntry */
    put64(h, 0x60, HEAP + 0x60);                /* UCRSegmentList: empty */
    put64(h, 0x68, HEAP + 0x60);
    put32(h, 0x70, 0x2);           /* Flags: GROWABLE */
    put32(h, 0x7c, 0x00100000);    /* EncodeFlagMask */
    memcpy(h + 0x88, KEY, 8);      /* Encoding (key bytes) */
    put32(h, 0x94, 0xff00);        /* VirtualMemoryThreshold */
    put32(h, 0x98, 0xeeffeeff);    /* Signature */
    put64(h, 0x110, HEAP + 0x110); /* VirtualAllocdBlocks: empty */
    put64(h, 0x118, HEAP + 0x110);
    put64(h, 0x120, HEAP + 0x18); /* SegmentList: the heap's own segment */
    put64(h, 0x128, HEAP + 0x18);
    put64(h, 0x238, SEG_SIZE);                    /* Counters.TotalMemoryReserved */
    put64(h, 0x240, SEG_SIZE);                    /* Counters.TotalMemoryCommitted */
    put32(h, 0x238 + 0x20, 1);                    /* Counters.TotalSegments */
    entry(0, (uint16_t)(FIRST / 16), 0x01, 0, 1); /* the heap's header entry */
    /* entries: pattern busy 32, busy 48, free 32 (free ones linked on FreeLists +0x150) */
    uint64_t off = FIRST, prev = FIRST / 16, last_free = HEAP + 0x150;
    put64(h, 0x150, HEAP + 0x150);
    put64(h, 0x158, HEAP + 0x150);
    unsigned k = 0;
    *nbusy = *busy_bytes = *nfree = 0;
    while (off < SEG_SIZE) {
        uint64_t left = SEG_SIZE - off;
        uint16_t g = (uint16_t)((k % 3 == 1) ? 3 : 2);
        if ((uint64_t)g * 16 > left || left - (uint64_t)g * 16 < 32)
            g = (uint16_t)(left / 16); /* the last entry takes the rest */
        bool busy = k % 3 != 2 || g != 2;
        uint8_t flags =
            (uint8_t)((busy ? 0x01 : 0) | (off + (uint64_t)g * 16 == SEG_SIZE ? 0x10 : 0));
        uint8_t unused = busy ? (uint8_t)(16 + k % 16) : 0;
        entry(off, g, flags, (uint16_t)prev, unused);
        if (busy) {
            (*nbusy)++;
            *busy_bytes += (uint64_t)g * 16 - unused;
            assert_true((uint64_t)g * 16 - unused < 4096);
            ucount[(uint64_t)g * 16 - unused]++;
        } else {
            (*nfree)++;
            /* link at entry + 0x10: Flink/Blink */
            uint64_t link = HEAP + off + 0x10;
            put64(h, link - HEAP, HEAP + 0x150);  /* Flink -> head (list end) */
            put64(h, link - HEAP + 8, last_free); /* Blink */
            put64(h, last_free - HEAP, link);     /* previous Flink */
            put64(h, 0x158, link);                /* head Blink */
            last_free = link;
        }
        prev = g;
        off += (uint64_t)g * 16;
        k++;
    }
    put32(pebm, 0xe8, 1);           /* NumberOfHeaps */
    put64(pebm, 0xf0, PEB + 0x800); /* ProcessHeaps */
    put64(pebm, 0x30, HEAP);        /* ProcessHeap */
    put64(pebm, 0x800, HEAP);

    ds_dump *d = calloc(1, sizeof *d);
    d->sys.os = DS_OS_WINDOWS;
    d->sys.arch = DS_ARCH_AMD64;
    d->sys.ptr_size = 8;
    d->sys.os_major = 10;
    d->sys.os_build = 19041;
    d->peb = PEB;
    /* two file images: the PEB page and the segment (ds_vmem reads from one mapped buffer, so
     * put both in one allocation) */
    uint8_t *file = malloc(SEG_SIZE + sizeof pebm);
    assert_non_null(file);
    memcpy(file, mem, SEG_SIZE);
    memcpy(file + SEG_SIZE, pebm, sizeof pebm);
    free(mem);
    mem = file;
    ds_vmem_init(&d->vm, file, SEG_SIZE + sizeof pebm, 8);
    ds_vmem_add(&d->vm, HEAP, SEG_SIZE, DS_RANGE_DATA, 0, 0);
    ds_vmem_add(&d->vm, PEB, sizeof pebm, DS_RANGE_DATA, SEG_SIZE, 1);
    ds_vmem_finish(&d->vm);
    return d;
}

static void big_heap(void **state)
{
    (void)state;
    uint64_t nbusy, bbytes, nfree;
    ds_dump *d = build(&nbusy, &bbytes, &nfree);
    assert_true(nbusy + nfree > 2000000);
    ds_heap_set set;
    ds_heap_options o = {.entries = true};
    clock_t t0 = clock();
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_OK);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    fprintf(stderr, "walked %llu entries in %.3f s\n", (unsigned long long)(nbusy + nfree), secs);
    assert_int_equal(set.nheaps, 1);
    const ds_heap *h = &set.heaps[0];
    assert_int_equal(h->kind, DS_HEAP_NT);
    assert_int_equal(h->layout, DS_HEAP_LAYOUT_10C);
    assert_int_equal(h->nissues, 0);
    assert_int_equal(h->nsegments, 1);
    assert_int_equal(h->busy_blocks, nbusy);
    assert_int_equal(h->busy_bytes, bbytes);
    assert_int_equal(h->free_blocks, nfree);
    assert_int_equal(h->nentries, nbusy + nfree);
    assert_int_equal(h->counters.free_list_length, nfree);
    assert_int_equal(h->segments[0].committed, SEG_SIZE);
    /* the last entry ends exactly at LastValidEntry and carries LAST_ENTRY */
    const ds_heap_entry *last = &h->entries[h->nentries - 1];
    assert_int_equal(last->addr + last->size, HEAP + SEG_SIZE);
    assert_true(last->flags & 0x10);
    /* lookup in the middle */
    const ds_heap_entry *mid = &h->entries[h->nentries / 2];
    ds_heap_lookup lk = ds_heap_find(&set, mid->user + 1);
    assert_true(lk.found);
    assert_ptr_equal(lk.entry, mid);
    assert_int_equal(lk.segment, 0);
    /* -stat: all busy blocks, grouped */
    ds_heap_stat st;
    assert_int_equal(ds_heap_stat_compute(&set, 0, DS_HEAP_STAT_BY_COUNT, &st), DS_OK);
    assert_int_equal(st.busy_blocks, nbusy);
    assert_int_equal(st.busy_bytes, bbytes);
    for (size_t i = 1; i < st.nrows; i++)
        assert_true(st.rows[i - 1].count >= st.rows[i].count);
    ds_heap_stat_free(&st);
    /* every size group as built, largest size first (BY_SIZE) */
    assert_int_equal(ds_heap_stat_compute(&set, 0, DS_HEAP_STAT_BY_SIZE, &st), DS_OK);
    size_t r = 0;
    for (size_t sz = 4096; sz-- > 0;)
        if (ucount[sz]) {
            assert_true(r < st.nrows);
            assert_int_equal(st.rows[r].user_size, sz);
            assert_int_equal(st.rows[r].count, ucount[sz]);
            assert_int_equal(st.rows[r].total, sz * ucount[sz]);
            r++;
        }
    assert_int_equal(st.nrows, r);
    ds_heap_stat_free(&st);
    ds_heaps_close(&set);
    /* generous bound for Debug/sanitizer builds; a release build walks this in well under 1 s */
    assert_true(secs < 20.0);

    /* a busy entry on the free list is reported at its address (the entry walk counts it busy) */
    uint64_t fl = 0;
    memcpy(&fl, mem + 0x150, 8);
    for (int i = 0; i < 10; i++)
        memcpy(&fl, mem + (fl - HEAP), 8);
    uint64_t victim = fl - 0x10 - HEAP; /* the entry of the 11th free link */
    uint8_t saved[8];
    memcpy(saved, mem + victim + 8, 8);
    entry(victim, 2, 0x01, 3, 16); /* free entries are 2 granules, after a 3-granule one */
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_E_PARTIAL);
    h = &set.heaps[0];
    assert_int_equal(h->nissues, 1);
    assert_int_equal(h->issues[0].kind, DS_HEAP_ISSUE_LIST_LINK);
    assert_int_equal(h->issues[0].addr, HEAP + victim);
    assert_int_equal(h->busy_blocks, nbusy + 1);
    ds_heaps_close(&set);
    memcpy(mem + victim + 8, saved, 8);

    /* a cycle in the middle of the free list: counted once, reported, no hang */
    uint64_t head = 0;
    memcpy(&head, mem + 0x150, 8); /* first free link */
    uint64_t a = head, b = 0;
    for (int i = 0; i < 1000; i++)
        memcpy(&a, mem + (a - HEAP), 8);
    memcpy(&b, mem + (a - HEAP), 8);
    uint64_t far = head;
    for (int i = 0; i < 5000; i++)
        memcpy(&far, mem + (far - HEAP), 8);
    uint64_t far_flink = 0;
    memcpy(&far_flink, mem + (far - HEAP), 8);
    put64(mem, far - HEAP, a); /* element 5001's Flink -> element 1001 */
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_E_PARTIAL);
    h = &set.heaps[0];
    assert_int_equal(h->counters.free_list_length, 5001);
    /* exactly the cycle: element 1001 reached again from element 5001 is not a Blink issue */
    assert_int_equal(h->nissues, 1);
    assert_int_equal(h->issues[0].kind, DS_HEAP_ISSUE_LIST_CYCLE);
    assert_int_equal(h->issues[0].addr, a - 0x10);
    assert_int_equal(h->busy_blocks, nbusy); /* the entry walk does not depend on the list */
    ds_heaps_close(&set);
    put64(mem, far - HEAP, far_flink);
    (void)b;

    /* a wrong Blink (element 101 names element 99): one issue at element 101's link */
    uint64_t e99 = head, e100, e101;
    for (int i = 0; i < 98; i++)
        memcpy(&e99, mem + (e99 - HEAP), 8);
    memcpy(&e100, mem + (e99 - HEAP), 8);
    memcpy(&e101, mem + (e100 - HEAP), 8);
    put64(mem, e101 - HEAP + 8, e99);
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_E_PARTIAL);
    h = &set.heaps[0];
    assert_int_equal(h->counters.free_list_length, nfree);
    assert_int_equal(h->nissues, 1);
    assert_int_equal(h->issues[0].kind, DS_HEAP_ISSUE_LIST_LINK);
    assert_int_equal(h->issues[0].addr, e101);
    ds_heaps_close(&set);

    /* ... and a NULL Flink further on (element 3000): the list ends there; the end of the list is
     * reported first (at the list head), then the wrong Blink */
    uint64_t e3000 = head;
    for (int i = 0; i < 2999; i++)
        memcpy(&e3000, mem + (e3000 - HEAP), 8);
    uint64_t e3000_flink = 0;
    memcpy(&e3000_flink, mem + (e3000 - HEAP), 8);
    put64(mem, e3000 - HEAP, 0);
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_E_PARTIAL);
    h = &set.heaps[0];
    assert_int_equal(h->counters.free_list_length, 3000);
    assert_int_equal(h->nissues, 2);
    assert_int_equal(h->issues[0].kind, DS_HEAP_ISSUE_LIST_LINK);
    assert_int_equal(h->issues[0].addr, HEAP + 0x150);
    assert_non_null(strstr(h->issues[0].detail, "NULL Flink after 3000"));
    assert_int_equal(h->issues[1].kind, DS_HEAP_ISSUE_LIST_LINK);
    assert_int_equal(h->issues[1].addr, e101);
    assert_int_equal(h->busy_blocks, nbusy);
    assert_int_equal(h->free_blocks, nfree);
    ds_heaps_close(&set);
    put64(mem, e3000 - HEAP, e3000_flink);
    put64(mem, e101 - HEAP + 8, e100);

    /* a wrong Blink near the end of the list (the 5th element from the end names the 7th): one
     * issue there; a wrong Blink of the list head alone is no issue (it is not an element) */
    uint64_t tail[8], e = head;
    size_t nel = 0;
    while (e != HEAP + 0x150) {
        memmove(tail, tail + 1, 7 * sizeof *tail);
        tail[7] = e;
        memcpy(&e, mem + (e - HEAP), 8);
        nel++;
    }
    assert_int_equal(nel, nfree);
    put64(mem, tail[3] - HEAP + 8, tail[1]);
    uint64_t head_blink = 0;
    memcpy(&head_blink, mem + 0x158, 8);
    put64(mem, 0x158, tail[0]);
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_E_PARTIAL);
    h = &set.heaps[0];
    assert_int_equal(h->counters.free_list_length, nfree);
    assert_int_equal(h->nissues, 1);
    assert_int_equal(h->issues[0].kind, DS_HEAP_ISSUE_LIST_LINK);
    assert_int_equal(h->issues[0].addr, tail[3]);
    ds_heaps_close(&set);
    put64(mem, tail[3] - HEAP + 8, tail[2]);
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_OK);
    assert_int_equal(set.heaps[0].nissues, 0);
    assert_int_equal(set.heaps[0].counters.free_list_length, nfree);
    ds_heaps_close(&set);
    put64(mem, 0x158, head_blink);
    assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_OK);
    assert_int_equal(set.heaps[0].nissues, 0);
    ds_heaps_close(&set);
    ds_vmem_free(&d->vm);
    free(d);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(big_heap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
