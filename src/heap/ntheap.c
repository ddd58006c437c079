/* NT heap walker (include/dumpsleuth/ntheap.h). Layouts: layouts.c; LFH: lfh.c; segment heap:
 * segheap.c. Every read goes through ds_vmem_*; every list walk is bounded and cycle-safe. */
#include "heap/heap_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/util.h"

#define PAGE 0x1000ull
#define MAX_ISSUES 1000
#define MAX_HEAPS 4096
#define MAX_SEGMENTS 4096
#define MAX_UCRS (1u << 16)
#define MAX_VBLOCKS (1u << 22)
#define MAX_FREE_LIST (1u << 26)
#define MAX_KEPT_ENTRIES (1u << 25)
#define MAX_WALKED_ENTRIES                                                                         \
    (1ull << 28) /* per heap: a hostile segment cannot make a walk endless                         \
                  */

/* ---- small helpers ---- */

void ds_heap_issue_add(ds_heap_walk *w, ds_heap_issue_kind k, uint64_t addr, const char *fmt, ...)
{
    ds_heap *h = w->h;
    if (h->nissues >= MAX_ISSUES) {
        h->issues_truncated = true;
        return;
    }
    ds_heap_issue is;
    memset(&is, 0, sizeof is);
    is.kind = k;
    is.heap = h->addr;
    is.addr = addr;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is.detail, sizeof is.detail, fmt, ap);
    va_end(ap);
    if (!DS_PUSH(h->issues, h->nissues, w->cap_issues, is))
        h->issues_truncated = true;
}

bool ds_heap_entry_add(ds_heap_walk *w, const ds_heap_entry *e)
{
    ds_heap *h = w->h;
    switch (e->kind) {
    case DS_HEAP_ENTRY_BUSY:
    case DS_HEAP_ENTRY_VIRTUAL:
    case DS_HEAP_ENTRY_LFH_BUSY:
        h->busy_blocks++;
        h->busy_bytes += e->user_size;
        break;
    case DS_HEAP_ENTRY_FREE:
    case DS_HEAP_ENTRY_LFH_FREE:
        h->free_blocks++;
        h->free_bytes += e->size;
        break;
    default:
        h->internal_blocks++;
        break;
    }
    if (!w->keep_entries)
        return true;
    if (h->nentries >= MAX_KEPT_ENTRIES) {
        if (h->nentries == MAX_KEPT_ENTRIES) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIMIT, e->addr,
                              "more than %u entries: the rest are counted, not kept",
                              MAX_KEPT_ENTRIES);
            w->keep_entries = false;
        }
        return false;
    }
    return DS_PUSH(h->entries, h->nentries, w->cap_entries, *e);
}

static ds_mem_status rd_ptr(ds_heap_walk *w, uint64_t va, uint64_t *out)
{
    return ds_vmem_ptr_sized(&w->d->vm, va, w->lo->ps, out);
}

static ds_mem_status rd_u32(ds_heap_walk *w, uint64_t va, uint32_t *out)
{
    return ds_vmem_u32(&w->d->vm, va, out);
}

/* Decodes the 8 header bytes at p (as stored in the dump). */
static void decode_hdr(const ds_heap_walk *w, const uint8_t *p, ds_heap_hdr *out)
{
    uint8_t b[8];
    memcpy(b, p, 8);
    out->raw_zero = !(b[0] | b[1] | b[2] | b[3] | b[4] | b[5] | b[6] | b[7]);
    for (int i = 0; i < 8; i++)
        b[i] ^= w->key[i];
    out->size = (uint16_t)(b[0] | b[1] << 8);
    out->flags = b[2];
    out->tag = b[3];
    out->prev_size = (uint16_t)(b[4] | b[5] << 8);
    out->seg_offset = b[6];
    out->unused = b[7];
    out->checksum_ok = !w->h->encoded || (uint8_t)(b[0] ^ b[1] ^ b[2]) == b[3];
}

ds_mem_status ds_heap_read_hdr(ds_heap_walk *w, uint64_t entry, ds_heap_hdr *out)
{
    uint8_t b[8];
    const uint8_t *p = ds_vmem_span(&w->d->vm, entry + w->lo->hdr, 8);
    if (!p) {
        ds_mem_status s = ds_vmem_read(&w->d->vm, entry + w->lo->hdr, b, 8, NULL);
        if (s != DS_MEM_OK)
            return s == DS_MEM_PARTIAL ? DS_MEM_NOT_CAPTURED : s;
        p = b;
    }
    decode_hdr(w, p, out);
    return DS_MEM_OK;
}

/* ---- bounded, cycle-safe LIST_ENTRY walks ---- */

/* Counts the distinct elements of the list at head (stops at head, a NULL or unreadable link, a
 * cycle, or cap). Brent's algorithm; on a cycle the distinct count is mu + lambda and the issue
 * names the element where the list closes on itself. */
static size_t list_count(ds_heap_walk *w, uint64_t head, size_t cap, const char *what,
                         uint32_t elem_off)
{
    unsigned ps = w->lo->ps;
    uint64_t first = 0;
    if (rd_ptr(w, head, &first) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, head, "%s list head not in the dump", what);
        return 0;
    }
    uint64_t cur = first, tort = head;
    size_t n = 0, power = 1, lam = 0;
    (void)ps;
    while (cur != head) {
        if (!cur) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIST_LINK, head,
                              "%s list: NULL Flink after %zu elements", what, n);
            return n;
        }
        if (n >= cap) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIMIT, cur, "%s list: stopped at %zu elements", what,
                              cap);
            return n;
        }
        uint64_t next = 0;
        if (rd_ptr(w, cur, &next) != DS_MEM_OK) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, cur - elem_off,
                              "%s list element 0x%llx not in the dump", what,
                              (unsigned long long)(cur - elem_off));
            return n;
        }
        n++;
        if (cur == tort && n > 1) {  /* cycle of length lam not through head */
            size_t lambda = lam + 1; /* steps since the tortoise was placed */
            /* mu: tortoise from the start, hare lambda ahead, advance until they meet */
            uint64_t a = first, b = first;
            for (size_t i = 0; i < lambda; i++)
                if (rd_ptr(w, b, &b) != DS_MEM_OK)
                    return n;
            size_t mu = 0;
            while (a != b && mu < cap) {
                if (rd_ptr(w, a, &a) != DS_MEM_OK || rd_ptr(w, b, &b) != DS_MEM_OK)
                    break;
                mu++;
            }
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIST_CYCLE, a - elem_off,
                              "%s list loops back to 0x%llx (%zu distinct elements)", what,
                              (unsigned long long)(a - elem_off), mu + lambda);
            return mu + lambda;
        }
        if (++lam == power) {
            tort = cur;
            power *= 2;
            lam = 0;
        }
        cur = next;
    }
    return n;
}

typedef void (*list_fn)(ds_heap_walk *w, uint64_t elem, void *arg);

/* Calls fn for the first n elements (from list_count) and checks each Blink. */
static void list_each(ds_heap_walk *w, uint64_t head, size_t n, const char *what, list_fn fn,
                      void *arg)
{
    uint64_t prev = head, cur = 0;
    if (rd_ptr(w, head, &cur) != DS_MEM_OK)
        return;
    for (size_t i = 0; i < n && cur && cur != head; i++) {
        uint64_t next = 0, blink = 0;
        if (rd_ptr(w, cur, &next) != DS_MEM_OK)
            return;
        if (rd_ptr(w, cur + w->lo->ps, &blink) == DS_MEM_OK && blink != prev)
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIST_LINK, cur,
                              "%s list: Blink 0x%llx of 0x%llx != previous 0x%llx", what,
                              (unsigned long long)blink, (unsigned long long)cur,
                              (unsigned long long)prev);
        fn(w, cur, arg);
        prev = cur;
        cur = next;
    }
}

/* ---- segments ---- */

static int cmp_ucr(const void *a, const void *b)
{
    const ds_heap_ucr *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void on_ucr(ds_heap_walk *w, uint64_t elem, void *arg)
{
    ds_heap_segment *s = arg;
    const ds_heap_layout *lo = w->lo;
    uint64_t desc = elem - lo->ucr_seg_entry, addr = 0, size = 0;
    if (rd_ptr(w, desc + lo->ucr_addr, &addr) != DS_MEM_OK ||
        rd_ptr(w, desc + lo->ucr_size, &size) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, desc, "UCR descriptor not in the dump");
        return;
    }
    if (addr < s->base || addr >= s->last_valid_entry || !size ||
        size > s->last_valid_entry - addr || (addr | size) & (PAGE - 1)) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, desc,
                          "UCR 0x%llx+0x%llx outside segment 0x%llx..0x%llx",
                          (unsigned long long)addr, (unsigned long long)size,
                          (unsigned long long)s->base, (unsigned long long)s->last_valid_entry);
        return;
    }
    ds_heap_ucr u = {addr, size};
    if (!DS_PUSH(s->ucrs, s->nucrs, w->cap_ucrs, u))
        return;
    if (size > s->largest_ucr)
        s->largest_ucr = size;
}

/* Containers found by the backend walk (LFH UserBlocks), for lfh.c. */
typedef struct containers {
    uint64_t *addr, *size;
    size_t n, cap, cap2;
} containers;

static bool is_w7_userblocks(ds_heap_walk *w, uint64_t entry)
{
    const ds_heap_layout *lo = w->lo;
    uint64_t ub = entry + lo->gran, ss = 0, back = 0;
    uint32_t sig = 0;
    return rd_u32(w, ub + lo->ub_signature, &sig) == DS_MEM_OK &&
           sig == DS_LFH_USERDATA_SIGNATURE && rd_ptr(w, ub, &ss) == DS_MEM_OK && ss &&
           rd_ptr(w, ss + lo->ss_user_blocks, &back) == DS_MEM_OK && back == ub;
}

/* Whether the entry at next (inside [.., limit)) decodes and chains back to size. */
static bool next_confirms(ds_heap_walk *w, uint64_t next, uint64_t limit, uint16_t size)
{
    if (next == limit)
        return true;
    ds_heap_hdr n;
    return ds_heap_read_hdr(w, next, &n) == DS_MEM_OK && n.checksum_ok && n.prev_size == size;
}

static void walk_segment_entries(ds_heap_walk *w, size_t si, containers *ct)
{
    ds_heap_segment *s = &w->h->segments[si];
    const ds_heap_layout *lo = w->lo;
    uint64_t gran = lo->gran;
    uint64_t cur = s->first_entry, end = s->last_valid_entry;
    size_t u = 0;
    int expect = -1; /* PreviousSize the next entry must carry, -1: unknown */
    ds_heap_hdr h0;
    if (ds_heap_read_hdr(w, s->addr, &h0) == DS_MEM_OK && h0.checksum_ok &&
        s->addr + (uint64_t)h0.size * gran == s->first_entry)
        expect = h0.size;
    while (cur < end) {
        while (u < s->nucrs && s->ucrs[u].addr + s->ucrs[u].size <= cur)
            u++;
        if (u < s->nucrs && s->ucrs[u].addr <= cur) {
            cur = s->ucrs[u].addr + s->ucrs[u].size;
            u++;
            expect = -1;
            continue;
        }
        uint64_t limit = u < s->nucrs ? s->ucrs[u].addr : end;
        if (++w->walked_entries > MAX_WALKED_ENTRIES) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIMIT, cur, "entry walk stopped after %llu entries",
                              (unsigned long long)MAX_WALKED_ENTRIES);
            return;
        }
        ds_heap_hdr hd;
        if (ds_heap_read_hdr(w, cur, &hd) != DS_MEM_OK) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, cur,
                              "entry at 0x%llx not in the dump; resuming at 0x%llx",
                              (unsigned long long)cur, (unsigned long long)limit);
            cur = limit;
            expect = -1;
            continue;
        }
        uint64_t size = (uint64_t)hd.size * gran;
        if (hd.raw_zero) { /* zero-filled memory: no entry here */
            ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, cur,
                              "zero-filled header; resuming at 0x%llx", (unsigned long long)limit);
            cur = limit;
            expect = -1;
            continue;
        }
        if (!hd.checksum_ok) {
            bool ok = size && size <= limit - cur && next_confirms(w, cur + size, limit, hd.size);
            ds_heap_issue_add(w, DS_HEAP_ISSUE_CHECKSUM, cur,
                              "header checksum 0x%02x != 0x%02x; %s", hd.tag,
                              (unsigned)(uint8_t)((hd.size & 0xff) ^ (hd.size >> 8) ^ hd.flags),
                              ok ? "size confirmed by the next entry, entry not counted"
                                 : "resuming at the next uncommitted range or segment end");
            if (ok) {
                cur += size;
                expect = hd.size;
            } else {
                cur = limit;
                expect = -1;
            }
            continue;
        }
        if (!size || size > limit - cur) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, cur,
                              "size 0x%llx runs past 0x%llx; resuming there",
                              (unsigned long long)size, (unsigned long long)limit);
            cur = limit;
            expect = -1;
            continue;
        }
        if (expect >= 0 && hd.prev_size != expect)
            ds_heap_issue_add(w, DS_HEAP_ISSUE_SIZE_CHAIN, cur,
                              "PreviousSize 0x%x != Size 0x%x of the previous entry",
                              (unsigned)hd.prev_size * (unsigned)gran,
                              (unsigned)expect * (unsigned)gran);
        ds_heap_entry e;
        memset(&e, 0, sizeof e);
        e.addr = cur;
        e.user = cur + gran;
        e.size = size;
        e.prev_size = (uint64_t)hd.prev_size * gran;
        e.flags = hd.flags;
        e.segment = (uint16_t)si;
        if (hd.flags & 0x01) {
            bool internal = (lo->group != DS_HEAP_LAYOUT_W7 && (hd.flags & 0x08)) ||
                            (lo->group == DS_HEAP_LAYOUT_W7 && is_w7_userblocks(w, cur));
            e.kind = internal ? DS_HEAP_ENTRY_INTERNAL : DS_HEAP_ENTRY_BUSY;
            e.unused = hd.unused;
            if (hd.unused > size || hd.unused < gran) {
                ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, cur,
                                  "UnusedBytes 0x%x impossible for a 0x%llx-byte block", hd.unused,
                                  (unsigned long long)size);
                e.unused = 0;
                e.user_size = 0;
                if (!internal) { /* not counted as busy: its user size is unknown */
                    cur += size;
                    expect = hd.size;
                    continue;
                }
            } else {
                e.user_size = size - hd.unused;
            }
            if (internal && w->h->lfh.present) {
                if (ds_grow((void **)&ct->addr, &ct->cap, ct->n + 1, sizeof *ct->addr) &&
                    ds_grow((void **)&ct->size, &ct->cap2, ct->n + 1, sizeof *ct->size)) {
                    ct->addr[ct->n] = cur;
                    ct->size[ct->n] = size;
                    ct->n++;
                }
            }
        } else {
            e.kind = DS_HEAP_ENTRY_FREE;
            e.user_size = size;
        }
        ds_heap_entry_add(w, &e);
        cur += size;
        expect = hd.size;
    }
}

static void on_segment(ds_heap_walk *w, uint64_t elem, void *arg)
{
    const ds_heap_layout *lo = w->lo;
    ds_heap *h = w->h;
    uint64_t seg = elem - lo->seg_list_entry;
    if (arg && seg == h->addr)
        return; /* from the list: the heap's own segment is already segment 0 */
    uint32_t sig = 0;
    if (rd_u32(w, seg + lo->seg_sig, &sig) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, seg, "segment 0x%llx not in the dump",
                          (unsigned long long)seg);
        return;
    }
    if (sig != DS_HEAP_SEGMENT_SIGNATURE) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIGNATURE, seg,
                          "segment signature 0x%08x at +0x%x (expected 0xffeeffee)", sig,
                          lo->seg_sig);
        return;
    }
    if (h->nsegments >= MAX_SEGMENTS)
        return;
    ds_heap_segment s;
    memset(&s, 0, sizeof s);
    s.addr = seg;
    if (rd_ptr(w, seg + lo->seg_base, &s.base) != DS_MEM_OK ||
        rd_u32(w, seg + lo->seg_pages, &s.pages) != DS_MEM_OK ||
        rd_ptr(w, seg + lo->seg_first, &s.first_entry) != DS_MEM_OK ||
        rd_ptr(w, seg + lo->seg_last, &s.last_valid_entry) != DS_MEM_OK ||
        rd_u32(w, seg + lo->seg_ucpages, &s.uncommitted_pages) != DS_MEM_OK ||
        rd_u32(w, seg + lo->seg_ucranges, &s.ucr_count) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, seg, "segment header not in the dump");
        return;
    }
    uint64_t span = s.last_valid_entry - s.base;
    if (s.last_valid_entry <= s.base || s.first_entry < s.base ||
        s.first_entry > s.last_valid_entry || span > (uint64_t)s.pages * PAGE) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, seg,
                          "segment bounds base 0x%llx first 0x%llx last 0x%llx pages 0x%x",
                          (unsigned long long)s.base, (unsigned long long)s.first_entry,
                          (unsigned long long)s.last_valid_entry, s.pages);
        s.last_valid_entry = s.first_entry; /* keep the segment, walk nothing */
        span = 0;
    }
    uint64_t unc = (uint64_t)s.uncommitted_pages * PAGE;
    s.committed = span >= unc ? span - unc : 0;
    size_t nu = list_count(w, seg + lo->seg_ucr_list, MAX_UCRS, "UCR", lo->ucr_seg_entry);
    w->cap_ucrs = 0; /* s.ucrs starts empty: its capacity is tracked here while it is filled */
    list_each(w, seg + lo->seg_ucr_list, nu, "UCR", on_ucr, &s);
    if (s.nucrs > 1)
        qsort(s.ucrs, s.nucrs, sizeof *s.ucrs, cmp_ucr);
    for (size_t i = 1; i < s.nucrs; i++)
        if (s.ucrs[i].addr < s.ucrs[i - 1].addr + s.ucrs[i - 1].size)
            ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, s.ucrs[i].addr,
                              "uncommitted ranges overlap");
    if (!DS_PUSH(h->segments, h->nsegments, w->cap_segments, s))
        free(s.ucrs);
}

/* ---- free lists ---- */

/* Whether a decoded header is not a free entry (checksum, BUSY clear, a size). */
static bool not_free(const ds_heap_hdr *hd)
{
    return !hd->checksum_ok || (hd->flags & 0x01) || !hd->size;
}

/* Every FreeLists element must be a free entry (decodes, checksum, BUSY clear). */
static void on_free_entry(ds_heap_walk *w, uint64_t elem, void *arg)
{
    (void)arg;
    uint64_t entry = elem - w->lo->free_link;
    ds_heap_hdr hd;
    if (ds_heap_read_hdr(w, entry, &hd) != DS_MEM_OK)
        return; /* the link was readable; a header straddling a missing page is reported by the
                   entry walk */
    if (not_free(&hd))
        ds_heap_issue_add(w, DS_HEAP_ISSUE_LIST_LINK, entry,
                          "FreeLists element 0x%llx is not a free entry (flags 0x%02x%s)",
                          (unsigned long long)entry, hd.flags,
                          hd.checksum_ok ? "" : ", bad checksum");
}

/* One FreeLists element: Flink, Blink and whether its entry is not a free entry, from one
 * bounds-checked span (header and links are adjacent: x64 +8 / +0x10, x86 +0 / +8). False when
 * the span is not one captured run; the caller then takes the element-by-element path. */
static bool free_elem(ds_heap_walk *w, uint64_t elem, uint64_t *flink, uint64_t *blink, bool *bad)
{
    const ds_heap_layout *lo = w->lo;
    uint64_t entry = elem - lo->free_link;
    size_t len = lo->free_link - lo->hdr + 2 * lo->ps;
    const uint8_t *p = ds_vmem_span(&w->d->vm, entry + lo->hdr, len);
    if (!p)
        return false;
    const uint8_t *l = p + (lo->free_link - lo->hdr);
    if (lo->ps == 8) {
        memcpy(flink, l, 8);
        memcpy(blink, l + 8, 8);
    } else {
        uint32_t f, b;
        memcpy(&f, l, 4);
        memcpy(&b, l + 4, 4);
        *flink = f;
        *blink = b;
    }
    ds_heap_hdr hd;
    decode_hdr(w, p, &hd);
    *bad = not_free(&hd);
    return true;
}

/* FreeLists when it is intact, from both ends at once: forward along Flink (each element's Blink
 * must be the previous one) and backward along Blink (each element's Flink must be the one after),
 * alternately, until the two walks meet. Two independent pointer chases instead of one: their
 * cache misses overlap, so a long list costs about half the time of one pass. Returns true, with
 * the element count, only when the list is a consistent ring through head whose every element is
 * a free entry: then the checks of list_count + list_each would report nothing, and there is
 * nothing to report. Any anomaly returns false without an issue (the caller walks the list again,
 * issue by issue). The walk is bounded: both checks make each chase injective, so a chase cannot
 * loop without coming back to head (which ends it), and n is capped. */
static bool free_list_intact(ds_heap_walk *w, uint64_t head, size_t *count)
{
    unsigned ps = w->lo->ps;
    uint64_t fcur = 0, bcur = 0, fprev = head, bprev = head, next = 0, back = 0;
    bool bad = false;
    size_t n = 0;
    if (rd_ptr(w, head, &fcur) != DS_MEM_OK || rd_ptr(w, head + ps, &bcur) != DS_MEM_OK)
        return false;
    for (;;) {
        if (fcur == bprev) { /* met: fprev -> bprev must also hold backward */
            *count = n;
            return bcur == fprev;
        }
        if (!fcur || fcur == head || n >= MAX_FREE_LIST ||
            !free_elem(w, fcur, &next, &back, &bad) || back != fprev || bad)
            return false;
        fprev = fcur;
        fcur = next;
        n++;
        if (bcur == fprev) { /* met */
            *count = n;
            return fcur == bprev;
        }
        if (!bcur || bcur == head || n >= MAX_FREE_LIST ||
            !free_elem(w, bcur, &next, &back, &bad) || next != bprev || bad)
            return false;
        bprev = bcur;
        bcur = back;
        n++;
    }
}

/* FreeLists in one pass: counts the elements, checks each Blink and each element (on_free_entry)
 * in the same walk, so the 2 M-link chase of a large heap is paid once. Only the regular case is
 * handled here: on anything that ends the walk early (cycle, NULL or unreadable link, the element
 * cap) its issues are rolled back and the caller runs list_count + list_each, which report the
 * exact same issues in the same order as always. Returns false in that case. */
static bool free_list_one_pass(ds_heap_walk *w, uint64_t head, size_t *count)
{
    ds_heap *h = w->h;
    size_t issues0 = h->nissues;
    bool truncated0 = h->issues_truncated;
    unsigned ps = w->lo->ps;
    uint64_t prev = head, cur = 0, tort = head;
    size_t n = 0, power = 1, lam = 0;
    if (rd_ptr(w, head, &cur) != DS_MEM_OK)
        return false;
    while (cur != head) {
        uint64_t next = 0, blink = 0;
        if (!cur || n >= MAX_FREE_LIST || rd_ptr(w, cur, &next) != DS_MEM_OK)
            goto slow;
        n++;
        if (cur == tort && n > 1)
            goto slow;
        if (++lam == power) {
            tort = cur;
            power *= 2;
            lam = 0;
        }
        if (rd_ptr(w, cur + ps, &blink) == DS_MEM_OK && blink != prev)
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LIST_LINK, cur,
                              "%s list: Blink 0x%llx of 0x%llx != previous 0x%llx", "FreeLists",
                              (unsigned long long)blink, (unsigned long long)cur,
                              (unsigned long long)prev);
        on_free_entry(w, cur, NULL);
        prev = cur;
        cur = next;
    }
    *count = n;
    return true;
slow:
    h->nissues = issues0; /* the array keeps its capacity (w->cap_issues) */
    h->issues_truncated = truncated0;
    return false;
}

/* ---- VA blocks ---- */

static void on_vblock(ds_heap_walk *w, uint64_t va, void *arg)
{
    (void)arg;
    const ds_heap_layout *lo = w->lo;
    ds_heap *h = w->h;
    ds_heap_vblock v;
    memset(&v, 0, sizeof v);
    v.addr = va;
    v.user = va + lo->va_user;
    if (rd_ptr(w, va + lo->va_commit, &v.commit_size) != DS_MEM_OK ||
        rd_ptr(w, va + lo->va_reserve, &v.reserve_size) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, va, "VA block header not in the dump");
        return;
    }
    ds_heap_hdr hd;
    ds_mem_status st = ds_heap_read_hdr(w, va + lo->va_busy, &hd);
    if (st != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, va, "VA block BusyBlock not in the dump");
    } else if (!hd.checksum_ok) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_CHECKSUM, va + lo->va_busy,
                          "VA block BusyBlock checksum 0x%02x wrong", hd.tag);
    } else if (hd.size > v.commit_size || v.commit_size < lo->va_user ||
               v.reserve_size < v.commit_size) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIZE, va,
                          "VA block commit 0x%llx reserve 0x%llx unused 0x%x inconsistent",
                          (unsigned long long)v.commit_size, (unsigned long long)v.reserve_size,
                          hd.size);
    } else {
        v.header_ok = true;
        v.flags = hd.flags;
        v.unused = hd.size;
        v.user_size = v.commit_size - v.unused;
    }
    if (h->nvblocks < MAX_VBLOCKS)
        DS_PUSH(h->vblocks, h->nvblocks, w->cap_vblocks, v);
    if (v.header_ok) {
        ds_heap_entry e;
        memset(&e, 0, sizeof e);
        e.addr = va;
        e.user = v.user;
        e.size = v.commit_size;
        e.user_size = v.user_size;
        e.unused = (uint32_t)(v.unused > UINT32_MAX ? UINT32_MAX : v.unused);
        e.flags = hd.flags;
        e.kind = DS_HEAP_ENTRY_VIRTUAL;
        e.segment = 0xffff;
        ds_heap_entry_add(w, &e);
    }
}

/* ---- layout choice ---- */

static bool sigs_ok(ds_dump *d, uint64_t heap, const ds_heap_layout *lo)
{
    uint32_t sig = 0, seg = 0;
    return ds_vmem_u32(&d->vm, heap + lo->signature, &sig) == DS_MEM_OK &&
           ds_vmem_u32(&d->vm, heap + lo->seg_sig, &seg) == DS_MEM_OK && sig == DS_HEAP_SIGNATURE &&
           seg == DS_HEAP_SEGMENT_SIGNATURE;
}

/* Plausibility of the group-specific fields (front end, counters) for a signature-valid layout:
 * W8, 10b and 10c share the signature offsets and differ only further down the _HEAP. */
static int plausible(ds_dump *d, uint64_t heap, const ds_heap_layout *lo)
{
    ds_vmem *vm = &d->vm;
    unsigned ps = lo->ps;
    int score = 0;
    uint8_t fe = 0xff;
    uint64_t fep = 0, back = 0;
    if (ds_vmem_u8(vm, heap + lo->frontend_type, &fe) == DS_MEM_OK &&
        ds_vmem_ptr_sized(vm, heap + lo->frontend, ps, &fep) == DS_MEM_OK && (fe == 0 || fe == 2) &&
        (fe == 2) == (fep != 0)) {
        score += 2;
        /* an LFH front end points back to its heap (_LFH_HEAP.Heap) */
        if (fe == 2 && ds_vmem_ptr_sized(vm, fep + lo->lfh_heap, ps, &back) == DS_MEM_OK &&
            back == heap)
            score += 2;
    }
    /* the segments on SegmentList (same offsets in every group of one family) */
    uint64_t head = heap + lo->seg_list, cur = 0;
    uint32_t nseg = 0, ucrs = 0;
    bool listed = ds_vmem_ptr_sized(vm, head, ps, &cur) == DS_MEM_OK;
    while (listed && cur != head) {
        uint32_t r = 0;
        if (!cur || nseg >= 256 ||
            ds_vmem_u32(vm, cur - lo->seg_list_entry + lo->seg_ucranges, &r) != DS_MEM_OK ||
            ds_vmem_ptr_sized(vm, cur, ps, &cur) != DS_MEM_OK)
            listed = false;
        nseg++;
        ucrs += r;
    }
    uint32_t c_seg = 0, c_ucr = 0;
    uint64_t res = 0, com = 0, lucr = 0, c = heap + lo->counters;
    if (ds_vmem_u32(vm, c + lo->c_total_segments, &c_seg) == DS_MEM_OK && listed && c_seg == nseg)
        score += 2;
    if (ds_vmem_u32(vm, c + lo->c_total_ucrs, &c_ucr) == DS_MEM_OK && listed && c_ucr == ucrs)
        score++;
    if (ds_vmem_ptr_sized(vm, c + lo->c_reserved, ps, &res) == DS_MEM_OK &&
        ds_vmem_ptr_sized(vm, c + lo->c_committed, ps, &com) == DS_MEM_OK &&
        ds_vmem_ptr_sized(vm, c + lo->c_large_ucr, ps, &lucr) == DS_MEM_OK && res &&
        !(res & (PAGE - 1)) && com <= res && lucr <= res)
        score++;
    return score;
}

/* Every group whose signatures verify is scored; the best wins, the build's group on a tie. */
static const ds_heap_layout *choose_layout(ds_dump *d, uint64_t heap, unsigned ps,
                                           ds_heap_layout_group hint, char *why, size_t whysz)
{
    const ds_heap_layout *best = NULL;
    int best_score = -1;
    const ds_heap_layout *h = ds_heap_layout_get(hint, ps);
    for (int g = DS_HEAP_LAYOUT_10C; g >= DS_HEAP_LAYOUT_W7; g--) {
        const ds_heap_layout *lo = ds_heap_layout_get((ds_heap_layout_group)g, ps);
        if (!sigs_ok(d, heap, lo))
            continue;
        int sc = 2 * plausible(d, heap, lo) + (lo == h ? 1 : 0);
        if (sc > best_score) {
            best = lo;
            best_score = sc;
        }
    }
    if (!best) {
        const ds_heap_layout *w7 = ds_heap_layout_get(DS_HEAP_LAYOUT_W7, ps),
                             *w8 = ds_heap_layout_get(DS_HEAP_LAYOUT_W8, ps);
        uint32_t a = 0, b = 0, c = 0;
        ds_vmem_u32(&d->vm, heap + w8->signature, &a);
        ds_vmem_u32(&d->vm, heap + w7->signature, &b);
        ds_vmem_u32(&d->vm, heap + w8->seg_sig, &c);
        snprintf(why, whysz,
                 "no NT heap signature: 0x%08x at +0x%x, 0x%08x at +0x%x (expected 0xeeffeeff), "
                 "segment signature 0x%08x at +0x%x",
                 a, w8->signature, b, w7->signature, c, w8->seg_sig);
    }
    return best;
}

/* ---- one heap ---- */

static void walk_nt_heap(ds_heap_set *set, ds_heap *h, const ds_heap_layout *lo,
                         const ds_heap_options *opt, bool walk)
{
    ds_dump *d = set->dump;
    ds_heap_walk w;
    memset(&w, 0, sizeof w);
    w.d = d;
    w.lo = lo;
    w.h = h;
    w.keep_entries = opt && opt->entries && !opt->lists_only;
    w.os_build = set->os_build;
    h->layout = lo->group;
    snprintf(h->layout_name, sizeof h->layout_name, "%s (built-in)", lo->name);
    h->granularity = lo->gran;
    uint64_t a = h->addr, v = 0;
    uint32_t mask = 0, thr = 0;
    rd_u32(&w, a + lo->flags, &h->flags);
    rd_u32(&w, a + lo->force_flags, &h->force_flags);
    rd_u32(&w, a + lo->encode_mask, &mask);
    h->encoded = mask != 0;
    if (h->encoded) {
        if (ds_vmem_read(&d->vm, a + lo->encoding, w.key, 8, NULL) != DS_MEM_OK)
            ds_heap_issue_add(&w, DS_HEAP_ISSUE_NOT_IN_DUMP, a + lo->encoding,
                              "encoding key not in the dump");
        memcpy(&h->encoding_key, w.key, 8);
    }
    rd_u32(&w, a + lo->vm_threshold, &thr);
    h->vm_threshold = thr * lo->gran;
    rd_ptr(&w, a + lo->seg_reserve, &h->segment_reserve);
    rd_ptr(&w, a + lo->seg_commit, &h->segment_commit);
    ds_vmem_u8(&d->vm, a + lo->frontend_type, &h->frontend_type);
    ds_heap_header_fields *hf = &h->hdr;
    if (rd_ptr(&w, a + lo->decommit_block, &hf->decommit_block_threshold) == DS_MEM_OK &&
        rd_ptr(&w, a + lo->decommit_total, &hf->decommit_total_threshold) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_DECOMMIT;
    if (rd_ptr(&w, a + lo->max_alloc, &hf->maximum_allocation_size) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_MAX_ALLOC;
    if (rd_ptr(&w, a + lo->lock_variable, &hf->lock_variable) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_LOCK;
    if (ds_vmem_u16(&d->vm, a + lo->next_tag_index, &hf->next_tag_index) == DS_MEM_OK &&
        ds_vmem_u16(&d->vm, a + lo->max_tag_index, &hf->maximum_tag_index) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_TAGS;
    if (rd_ptr(&w, a + lo->tag_entries, &hf->tag_entries) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_TAG_ENTRIES;
    if (rd_ptr(&w, a + lo->pseudo_tag_entries, &hf->pseudo_tag_entries) == DS_MEM_OK)
        hf->have |= DS_HEAP_HF_PSEUDO_TAGS;
    hf->va_list_head = a + lo->va_blocks;
    hf->ucr_list_head = a + lo->ucr_list;
    hf->have |= DS_HEAP_HF_VA_LIST | DS_HEAP_HF_UCR_LIST;
    uint64_t c = a + lo->counters;
    ds_heap_counters *k = &h->counters;
    rd_ptr(&w, c + lo->c_reserved, &k->reserved);
    rd_ptr(&w, c + lo->c_committed, &k->committed);
    rd_ptr(&w, c + lo->c_large_ucr, &k->large_ucr);
    k->virtual_bytes = k->reserved >= k->large_ucr ? k->reserved - k->large_ucr : 0;
    rd_u32(&w, c + lo->c_total_ucrs, &k->ucrs);
    rd_u32(&w, c + lo->c_lock_collisions, &k->lock_collisions);
    rd_u32(&w, c + lo->c_total_segments, &k->total_segments);
    if (rd_ptr(&w, a + lo->total_free, &v) == DS_MEM_OK)
        k->free_bytes = v * lo->gran;
    if (h->frontend_type == 2) {
        h->lfh.present = true;
        rd_ptr(&w, a + lo->frontend, &h->lfh.frontend);
    }
    if (!walk) {
        snprintf(h->lfh.why, sizeof h->lfh.why, "heap not walked (another heap was selected)");
        return;
    }

    /* segments (segment 0 is the heap itself and is on the list) */
    on_segment(&w, a + lo->seg_list_entry, NULL); /* segment 0: the heap itself */
    size_t ns = list_count(&w, a + lo->seg_list, MAX_SEGMENTS, "segment", lo->seg_list_entry);
    list_each(&w, a + lo->seg_list, ns, "segment", on_segment, &w);

    containers ct;
    memset(&ct, 0, sizeof ct);
    if (!opt || !opt->lists_only) {
        /* free lists: every free backend block below VirtualMemoryThreshold is on FreeLists.
         * Intact (the usual case): both ends at once; with issues but no early end: one pass;
         * otherwise (cycle, NULL or missing link, cap) the count, then the element checks. */
        size_t nf = 0;
        if (!free_list_intact(&w, a + lo->free_lists, &nf) &&
            !free_list_one_pass(&w, a + lo->free_lists, &nf)) {
            nf = list_count(&w, a + lo->free_lists, MAX_FREE_LIST, "FreeLists", lo->free_link);
            list_each(&w, a + lo->free_lists, nf, "FreeLists", on_free_entry, NULL);
        }
        k->free_list_length = (uint32_t)nf;
        /* backend entries, segment by segment */
        for (size_t i = 0; i < h->nsegments; i++)
            walk_segment_entries(&w, i, &ct);
    }
    /* VA blocks (entries: after the backend ones) */
    size_t nv = list_count(&w, a + lo->va_blocks, MAX_VBLOCKS, "VirtualAllocdBlocks", 0);
    list_each(&w, a + lo->va_blocks, nv, "VirtualAllocdBlocks", on_vblock, NULL);
    k->virtual_blocks = (uint32_t)nv;
    if (opt && opt->lists_only) {
        snprintf(h->lfh.why, sizeof h->lfh.why, "entries not walked (lists only)");
        return;
    }
    if (h->lfh.present)
        ds_heap_lfh_walk(&w, ct.addr, ct.size, ct.n);
    free(ct.addr);
    free(ct.size);
}

static void classify_and_walk(ds_heap_set *set, ds_heap *h, unsigned ps, const ds_heap_options *opt)
{
    ds_dump *d = set->dump;
    h->granularity = ps == 8 ? 16 : 8;
    uint32_t sig = 0;
    unsigned sig_off = ps == 8 ? 0x10 : 0x08;
    if (ds_vmem_u32(&d->vm, h->addr + sig_off, &sig) != DS_MEM_OK) {
        h->kind = DS_HEAP_UNREADABLE;
        ds_mem_status st = DS_MEM_UNKNOWN;
        ds_vmem_find(&d->vm, h->addr + sig_off, &st);
        snprintf(h->why, sizeof h->why, "heap header at 0x%llx not in the dump (%s)",
                 (unsigned long long)h->addr, ds_mem_status_str(st));
        return;
    }
    bool walk = !opt || !opt->only_heap || opt->only_heap == h->addr;
    if (sig == DS_SEGMENT_HEAP_SIGNATURE) {
        h->kind = DS_HEAP_SEGMENT;
        ds_heap_segheap_summary(d, h, ps, set->os_build);
        return;
    }
    const ds_heap_layout *lo =
        choose_layout(d, h->addr, ps, set->layout_hint, h->why, sizeof h->why);
    if (!lo) {
        h->kind = DS_HEAP_NOT_NT;
        return;
    }
    h->kind = DS_HEAP_NT;
    walk_nt_heap(set, h, lo, opt, walk);
}

/* Reads one PEB's heap list (ps = 8: PEB64 offsets, 4: PEB32 / x86). */
static bool read_world(ds_heap_set *set, uint64_t peb, unsigned ps, const ds_heap_options *opt,
                       size_t *cap, ds_diags *diags)
{
    ds_dump *d = set->dump;
    uint64_t off_n = ps == 8 ? 0xe8 : 0x88, off_arr = ps == 8 ? 0xf0 : 0x90,
             off_ph = ps == 8 ? 0x30 : 0x18, off_max = ps == 8 ? 0xec : 0x8c;
    uint32_t n = 0, max = 0;
    uint64_t arr = 0, ph = 0;
    if (ds_vmem_u32(&d->vm, peb + off_n, &n) != DS_MEM_OK ||
        ds_vmem_ptr_sized(&d->vm, peb + off_arr, ps, &arr) != DS_MEM_OK) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, ps == 8 ? "PEB" : "PEB32", peb,
                         "PEB heap list (NumberOfHeaps/ProcessHeaps) not in the dump");
        return false;
    }
    ds_vmem_u32(&d->vm, peb + off_max, &max);
    ds_vmem_ptr_sized(&d->vm, peb + off_ph, ps, &ph);
    if (n > MAX_HEAPS || (max && n > max)) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "PEB", peb,
                         "NumberOfHeaps %u (maximum %u) implausible; reading at most %u", n, max,
                         MAX_HEAPS);
        if (n > MAX_HEAPS)
            n = MAX_HEAPS;
    }
    if (!arr && n) {
        ds_diag_add_addr(diags, DS_SEV_WARNING, "PEB", peb, "ProcessHeaps is NULL");
        n = 0;
    }
    /* PEB.ProcessHeap first when it is not on the list (Wine keeps the list empty) */
    bool listed = false;
    for (uint32_t i = 0; i < n && ph && !listed; i++) {
        uint64_t ha = 0;
        if (ds_vmem_ptr_sized(&d->vm, arr + (uint64_t)i * ps, ps, &ha) != DS_MEM_OK)
            break;
        listed = ha == ph;
    }
    if (ph && !listed) {
        ds_heap hp;
        memset(&hp, 0, sizeof hp);
        hp.addr = ph;
        hp.bits = ps == 8 ? 64 : 32;
        hp.process_heap = true;
        hp.unlisted = true;
        if (!DS_PUSH(set->heaps, set->nheaps, *cap, hp))
            return false;
        classify_and_walk(set, &set->heaps[set->nheaps - 1], ps, opt);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t ha = 0;
        if (ds_vmem_ptr_sized(&d->vm, arr + (uint64_t)i * ps, ps, &ha) != DS_MEM_OK) {
            ds_diag_add_addr(diags, DS_SEV_WARNING, "ProcessHeaps", arr + (uint64_t)i * ps,
                             "heap list entry %u of %u not in the dump", i, n);
            return set->nheaps > 0;
        }
        if (!ha)
            continue;
        ds_heap hp;
        memset(&hp, 0, sizeof hp);
        hp.addr = ha;
        hp.bits = ps == 8 ? 64 : 32;
        hp.index = i;
        hp.process_heap = ha == ph;
        if (!DS_PUSH(set->heaps, set->nheaps, *cap, hp))
            return false;
        classify_and_walk(set, &set->heaps[set->nheaps - 1], ps, opt);
    }
    return true;
}

static uint32_t ntdll_build(const ds_dump *d)
{
    for (size_t i = 0; i < d->nmodules; i++)
        if (d->modules[i].name && !strcasecmp(d->modules[i].name, "ntdll.dll") &&
            d->modules[i].file_version.valid && d->modules[i].file_version.v[0] >= 6)
            return d->modules[i].file_version.v[2];
    return 0;
}

ds_status ds_heaps_open(ds_dump *d, const ds_heap_options *opt, ds_heap_set *set, ds_diags *diags)
{
    memset(set, 0, sizeof *set);
    set->dump = d;
    if (d->sys.os != DS_OS_WINDOWS && (d->sys.os != DS_OS_UNKNOWN || d->format != DS_FMT_MINIDUMP))
        return DS_E_UNSUPPORTED;
    if (!d->peb && !d->peb32) {
        ds_diag_add(diags, DS_SEV_WARNING, "PEB", 0, 0, "no PEB address in the dump");
        return DS_E_NOTFOUND;
    }
    unsigned ps = d->sys.ptr_size == 8 ? 8 : 4;
    set->peb = d->peb;
    set->peb32 = d->peb32;
    set->os_build = d->sys.os_build;
    uint16_t pb = 0;
    if (!set->os_build && d->peb &&
        ds_vmem_u16(&d->vm, d->peb + (ps == 8 ? 0x120 : 0xac), &pb) == DS_MEM_OK)
        set->os_build = pb;
    if (!set->os_build)
        set->os_build = ntdll_build(d);
    set->layout_hint = ds_heap_group_for_build(set->os_build);
    if (d->peb)
        ds_vmem_u32(&d->vm, d->peb + (ps == 8 ? 0xbc : 0x68), &set->nt_global_flag);
    size_t cap = 0;
    bool any = false;
    if (d->peb)
        any |= read_world(set, d->peb, ps, opt, &cap, diags);
    if (d->peb32 && ps == 8) {
        set->wow64 = true;
        any |= read_world(set, d->peb32, 4, opt, &cap, diags);
    }
    if (!any && !set->nheaps)
        return DS_E_NOTFOUND;
    bool partial = false;
    for (size_t i = 0; i < set->nheaps; i++)
        if (set->heaps[i].nissues || set->heaps[i].kind == DS_HEAP_UNREADABLE)
            partial = true;
    return partial ? DS_E_PARTIAL : DS_OK;
}

void ds_heaps_close(ds_heap_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->nheaps; i++) {
        ds_heap *h = &set->heaps[i];
        for (size_t s = 0; s < h->nsegments; s++)
            free(h->segments[s].ucrs);
        free(h->segments);
        free(h->vblocks);
        free(h->entries);
        free(h->lfh.subsegments);
        free(h->seg.large_blocks);
        free(h->issues);
    }
    free(set->heaps);
    memset(set, 0, sizeof *set);
}

/* ---- heap -stat ---- */

static ds_heap_stat_order g_order; /* qsort has no context argument in C11 */

static int cmp_row(const void *a, const void *b)
{
    const ds_heap_stat_row *x = a, *y = b;
    uint64_t kx, ky;
    switch (g_order) {
    case DS_HEAP_STAT_BY_COUNT:
        kx = x->count;
        ky = y->count;
        break;
    case DS_HEAP_STAT_BY_SIZE:
        kx = x->user_size;
        ky = y->user_size;
        break;
    default:
        kx = x->total;
        ky = y->total;
        break;
    }
    if (kx != ky)
        return kx > ky ? -1 : 1;
    return x->user_size > y->user_size ? -1 : x->user_size < y->user_size;
}

static bool is_busy_kind(uint8_t k)
{
    return k == DS_HEAP_ENTRY_BUSY || k == DS_HEAP_ENTRY_VIRTUAL || k == DS_HEAP_ENTRY_LFH_BUSY;
}

/* Open-addressing table user size -> count (count 0 = empty slot), grown at half load. The sizes
 * come from the dump, so the hash is seeded per call (the rows are sorted afterwards on a total
 * order, so the output does not depend on the seed): a crafted set of sizes cannot make every
 * insert probe a long run. */
typedef struct stat_table {
    ds_heap_stat_row *slot;
    size_t cap, used; /* cap: a power of two */
    uint64_t seed;
} stat_table;

static size_t stat_slot(const stat_table *t, uint64_t size)
{
    uint64_t x = size ^ t->seed; /* splitmix64 finalizer */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    size_t i = (size_t)x & (t->cap - 1);
    while (t->slot[i].count && t->slot[i].user_size != size)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static bool stat_add(stat_table *t, uint64_t size)
{
    if (2 * (t->used + 1) > t->cap) {
        stat_table g = {calloc(t->cap ? 2 * t->cap : 256, sizeof *t->slot),
                        t->cap ? 2 * t->cap : 256, t->used, t->seed};
        if (!g.slot)
            return false;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i].count)
                g.slot[stat_slot(&g, t->slot[i].user_size)] = t->slot[i];
        free(t->slot);
        *t = g;
    }
    ds_heap_stat_row *r = &t->slot[stat_slot(t, size)];
    if (!r->count) {
        r->user_size = size;
        t->used++;
    }
    r->count++;
    return true;
}

/* Groups the busy entries by user size in a hash table (one pass, no sort of the entries), then
 * sorts only the distinct sizes. */
ds_status ds_heap_stat_compute(const ds_heap_set *set, uint64_t heap, ds_heap_stat_order order,
                               ds_heap_stat *out)
{
    memset(out, 0, sizeof *out);
    stat_table t = {NULL, 0, 0, 0};
    t.seed = ((uint64_t)(uintptr_t)&t ^ (uint64_t)time(NULL)) * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < set->nheaps; i++)
        if (!heap || set->heaps[i].addr == heap)
            for (size_t j = 0; j < set->heaps[i].nentries; j++)
                if (is_busy_kind(set->heaps[i].entries[j].kind) &&
                    !stat_add(&t, set->heaps[i].entries[j].user_size)) {
                    free(t.slot);
                    return DS_E_NOMEM;
                }
    if (!t.used) {
        free(t.slot);
        return DS_OK;
    }
    /* compact the occupied slots to the front: they become the rows */
    size_t n = 0;
    for (size_t i = 0; i < t.cap; i++)
        if (t.slot[i].count) {
            ds_heap_stat_row r = t.slot[i];
            r.total = r.user_size * r.count;
            out->busy_blocks += r.count;
            out->busy_bytes += r.total;
            t.slot[n++] = r;
        }
    ds_heap_stat_row *rows = realloc(t.slot, n * sizeof *rows);
    out->rows = rows ? rows : t.slot;
    out->nrows = n;
    g_order = order;
    qsort(out->rows, out->nrows, sizeof *out->rows, cmp_row);
    return DS_OK;
}

void ds_heap_stat_free(ds_heap_stat *st)
{
    free(st->rows);
    memset(st, 0, sizeof *st);
}

/* ---- heap -x ---- */

ds_heap_lookup ds_heap_find(const ds_heap_set *set, uint64_t addr)
{
    ds_heap_lookup r;
    memset(&r, 0, sizeof r);
    r.segment = -1;
    for (size_t i = 0; i < set->nheaps && !r.found; i++) {
        const ds_heap *h = &set->heaps[i];
        const ds_heap_entry *best = NULL;
        for (size_t j = 0; j < h->nentries; j++) {
            const ds_heap_entry *e = &h->entries[j];
            if (addr >= e->addr && addr - e->addr < e->size &&
                (!best || best->kind == DS_HEAP_ENTRY_INTERNAL))
                best = e;
        }
        for (size_t s = 0; s < h->nsegments; s++) {
            const ds_heap_segment *sg = &h->segments[s];
            uint64_t lo = sg->addr < sg->base ? sg->addr : sg->base;
            if (addr >= lo && addr < sg->last_valid_entry) {
                r.found = true;
                r.heap = h;
                r.segment = (int)s;
                for (size_t u = 0; u < sg->nucrs; u++)
                    if (addr >= sg->ucrs[u].addr && addr - sg->ucrs[u].addr < sg->ucrs[u].size)
                        r.in_ucr = true;
            }
        }
        if (h->kind == DS_HEAP_SEGMENT) {
            for (size_t b = 0; b < h->seg.nlarge && !r.found; b++) {
                const ds_heap_large_block *lb = &h->seg.large_blocks[b];
                if (addr >= lb->addr && addr - lb->addr < lb->allocated_pages << 12) {
                    r.found = true;
                    r.heap = h;
                    r.large = lb;
                }
            }
            if (!h->seg.large_walked && !r.large_incomplete)
                r.large_incomplete = h;
        }
        for (size_t v = 0; v < h->nvblocks && !r.found; v++)
            if (addr >= h->vblocks[v].addr &&
                addr - h->vblocks[v].addr < (h->vblocks[v].reserve_size
                                                 ? h->vblocks[v].reserve_size
                                                 : h->vblocks[v].commit_size)) {
                r.found = true;
                r.heap = h;
            }
        if (best) {
            r.found = true;
            r.heap = h;
            r.entry = best;
            if (best->kind == DS_HEAP_ENTRY_LFH_BUSY || best->kind == DS_HEAP_ENTRY_LFH_FREE ||
                best->kind == DS_HEAP_ENTRY_VIRTUAL)
                r.segment = -1;
        }
    }
    if (r.found)
        r.large_incomplete = NULL;
    return r;
}

const char *ds_heap_kind_name(ds_heap_kind k)
{
    switch (k) {
    case DS_HEAP_NT:
        return "NT heap";
    case DS_HEAP_SEGMENT:
        return "segment heap";
    case DS_HEAP_NOT_NT:
        return "not an NT heap";
    case DS_HEAP_UNREADABLE:
        return "unreadable";
    }
    return "?";
}

const char *ds_heap_issue_name(ds_heap_issue_kind k)
{
    static const char *n[] = {"checksum",    "size-chain",    "bad-size", "list-cycle", "list-link",
                              "not-in-dump", "bad-signature", "lfh",      "limit"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

const char *ds_heap_entry_kind_name(ds_heap_entry_kind k)
{
    static const char *n[] = {"busy", "free", "internal", "virtual", "lfh-busy", "lfh-free"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}
