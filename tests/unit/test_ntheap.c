/* NT-heap walker against the simulator's truth files (docs/internals/ntheap-sim.md): every heap,
 * segment, UCR, VA block, backend entry, free-list length, LFH subsegment and block, counter,
 * total, `-stat` row and expected issue of every variant. The simulator is written independently
 * from the same reference (nt-heap.md); its truth is what it wrote, not what we read.
 * Skips (77) when DS_NTHEAP_DIR is not set. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, fdopen */
#endif
#include "dstest.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/ntheap.h"
#include "dumpsleuth/regions.h"
#include "output/render_heap.h"

static const char *g_variant;
static unsigned g_fail, g_shown;

#define MISMATCH(...)                                                                              \
    do {                                                                                           \
        g_fail++;                                                                                  \
        if (g_shown++ < 40) {                                                                      \
            fprintf(stderr, "[%s] ", g_variant);                                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define EQ(what, mine, want)                                                                       \
    do {                                                                                           \
        uint64_t m_ = (uint64_t)(mine), w_ = (uint64_t)(want);                                     \
        if (m_ != w_)                                                                              \
            MISMATCH("%s: got 0x%" PRIx64 " want 0x%" PRIx64, what, m_, w_);                       \
    } while (0)

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool has(const cJSON *o, const char *k)
{
    return item(o, k) != NULL && !cJSON_IsNull(item(o, k));
}

static uint64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 0);
    if (cJSON_IsNumber(v))
        return (uint64_t)v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    return 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool reliable(const cJSON *o)
{
    const cJSON *r = item(o, "reliable");
    return !r || cJSON_IsTrue(r);
}

static const char *issue_truth_name(ds_heap_issue_kind k)
{
    static const char *n[] = {"checksum",    "size_chain",    "bad_size", "list_cycle", "list_link",
                              "not_in_dump", "bad_signature", "lfh",      "limit"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "?";
}

static const ds_heap_entry *find_entry(const ds_heap *h, uint64_t addr, bool lfh)
{
    for (size_t i = 0; i < h->nentries; i++) {
        const ds_heap_entry *e = &h->entries[i];
        bool is_lfh = e->kind == DS_HEAP_ENTRY_LFH_BUSY || e->kind == DS_HEAP_ENTRY_LFH_FREE;
        if (e->addr == addr && is_lfh == lfh && e->kind != DS_HEAP_ENTRY_VIRTUAL)
            return e;
    }
    return NULL;
}

static bool heap_in_issues(const cJSON *truth, uint64_t heap)
{
    const cJSON *is;
    cJSON_ArrayForEach(is, item(truth, "issues")) if (num(is, "heap") == heap) return true;
    return false;
}

/* heap -x in segment-heap large blocks: the first and last byte of each truth block find it
 * (AllocatedPages x 4 KB from its address), the byte after its pages does not. */
static void check_segheap_lookup(const ds_heap_set *set, const ds_heap *h, const cJSON *th)
{
    const cJSON *lb;
    cJSON_ArrayForEach(lb, item(th, "large_blocks"))
    {
        uint64_t a = num(lb, "address"), len = num(lb, "allocated_pages") * 4096;
        const uint64_t probes[] = {a, a + num(lb, "user_size") - 1, a + len - 1};
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            ds_heap_lookup lk = ds_heap_find(set, probes[i]);
            if (!lk.found || lk.heap != h || !lk.large) {
                MISMATCH("heap -x 0x%" PRIx64 ": large block 0x%" PRIx64 " not found", probes[i],
                         a);
                continue;
            }
            EQ("-x large block address", lk.large->addr, a);
            EQ("-x large block user_size", lk.large->user_size, num(lb, "user_size"));
            EQ("-x large block pages", lk.large->allocated_pages, num(lb, "allocated_pages"));
            EQ("-x large block unused", lk.large->unused, num(lb, "unused_bytes"));
            EQ("-x large block: no entry", lk.entry == NULL, 1);
            EQ("-x large block: no segment", lk.segment, (uint64_t)-1);
            EQ("-x large block: complete", lk.large_incomplete == NULL, 1);
        }
        ds_heap_lookup past = ds_heap_find(set, a + len);
        if (past.large && past.large->addr == a)
            MISMATCH("heap -x 0x%" PRIx64 ": past the end of large block 0x%" PRIx64, a + len, a);
    }
}

static void check_segheap(const ds_heap *h, const cJSON *th)
{
    EQ("segheap kind", h->kind, DS_HEAP_SEGMENT);
    const ds_heap_segheap *s = &h->seg;
    EQ("segheap global_flags", s->global_flags, num(th, "global_flags"));
    EQ("segheap reserved", s->reserved, num(th, "total_reserved_pages") * 4096);
    EQ("segheap committed", s->committed, num(th, "total_committed_pages") * 4096);
    EQ("segheap free committed", s->free_committed, num(th, "free_committed_pages") * 4096);
    EQ("segheap lfh free committed", s->lfh_free_committed,
       num(th, "lfh_free_committed_pages") * 4096);
    EQ("segheap large reserved", s->large_reserved, num(th, "large_reserved_pages") * 4096);
    EQ("segheap large committed", s->large_committed, num(th, "large_committed_pages") * 4096);
    EQ("segheap segment count", s->segment_count[0] + s->segment_count[1],
       num(th, "segment_count"));
    if (!s->not_walked[0])
        MISMATCH("segment heap: no 'not walked' statement");
    /* large blocks (plain tree links in the simulator): all of them, in address order */
    EQ("segheap large walked", s->large_walked, 1);
    const cJSON *lb;
    size_t k = 0;
    cJSON_ArrayForEach(lb, item(th, "large_blocks"))
    {
        if (k < s->nlarge) {
            EQ("large block address", s->large_blocks[k].addr, num(lb, "address"));
            EQ("large block user_size", s->large_blocks[k].user_size, num(lb, "user_size"));
            EQ("large block pages", s->large_blocks[k].allocated_pages, num(lb, "allocated_pages"));
            EQ("large block unused", s->large_blocks[k].unused, num(lb, "unused_bytes"));
        }
        k++;
    }
    EQ("large block count", s->nlarge, k);
}

static void check_segments(const ds_heap *h, const cJSON *th, bool corrupt)
{
    const cJSON *ts;
    size_t nrel = 0;
    cJSON_ArrayForEach(ts, item(th, "segments"))
    {
        uint64_t a = num(ts, "address");
        const ds_heap_segment *s = NULL;
        for (size_t i = 0; i < h->nsegments && !s; i++)
            if (h->segments[i].addr == a)
                s = &h->segments[i];
        if (!s) {
            if (reliable(ts))
                MISMATCH("heap 0x%" PRIx64 ": segment 0x%" PRIx64 " missing", h->addr, a);
            continue;
        }
        if (!reliable(ts))
            continue;
        nrel++;
        EQ("segment index", (size_t)(s - h->segments), num(ts, "index"));
        EQ("segment base", s->base, num(ts, "base"));
        EQ("segment first_entry", s->first_entry, num(ts, "first_entry"));
        EQ("segment last_valid_entry", s->last_valid_entry, num(ts, "last_valid_entry"));
        EQ("segment pages", s->pages, num(ts, "pages"));
        EQ("segment uncommitted_pages", s->uncommitted_pages, num(ts, "uncommitted_pages"));
        EQ("segment uncommitted_ranges", s->ucr_count, num(ts, "uncommitted_ranges"));
        EQ("segment committed", s->committed, num(ts, "committed"));
        const cJSON *tu;
        size_t k = 0;
        uint64_t largest = 0;
        cJSON_ArrayForEach(tu, item(ts, "ucrs"))
        {
            if (k < s->nucrs) {
                EQ("ucr address", s->ucrs[k].addr, num(tu, "address"));
                EQ("ucr size", s->ucrs[k].size, num(tu, "size"));
            }
            if (num(tu, "size") > largest)
                largest = num(tu, "size");
            k++;
        }
        EQ("segment ucr list length", s->nucrs, k);
        EQ("segment largest ucr", s->largest_ucr, largest);
    }
    if (!corrupt)
        EQ("segment count", h->nsegments, nrel);
}

static void check_blocks(const ds_heap *h, const cJSON *th, bool corrupt)
{
    const cJSON *tb;
    size_t ntruth = 0;
    cJSON_ArrayForEach(tb, item(th, "blocks"))
    {
        ntruth++;
        uint64_t a = num(tb, "address");
        const ds_heap_entry *e = find_entry(h, a, false);
        if (!e) {
            if (reliable(tb))
                MISMATCH("heap 0x%" PRIx64 ": block 0x%" PRIx64 " missing", h->addr, a);
            continue;
        }
        if (!reliable(tb))
            continue;
        const char *st = str(tb, "state");
        int want = !strcmp(st, "busy")   ? DS_HEAP_ENTRY_BUSY
                   : !strcmp(st, "free") ? DS_HEAP_ENTRY_FREE
                                         : DS_HEAP_ENTRY_INTERNAL;
        char what[96];
        snprintf(what, sizeof what, "block 0x%" PRIx64 " kind", a);
        EQ(what, e->kind, want);
        snprintf(what, sizeof what, "block 0x%" PRIx64 " segment", a);
        EQ(what, e->segment, num(tb, "segment"));
        snprintf(what, sizeof what, "block 0x%" PRIx64 " size", a);
        EQ(what, e->size, num(tb, "size"));
        snprintf(what, sizeof what, "block 0x%" PRIx64 " prev_size", a);
        EQ(what, e->prev_size, num(tb, "prev_size"));
        snprintf(what, sizeof what, "block 0x%" PRIx64 " user", a);
        EQ(what, e->user, num(tb, "user"));
        snprintf(what, sizeof what, "block 0x%" PRIx64 " flags", a);
        EQ(what, e->flags, num(tb, "flags"));
        if (want != DS_HEAP_ENTRY_FREE) {
            snprintf(what, sizeof what, "block 0x%" PRIx64 " user_size", a);
            EQ(what, e->user_size, num(tb, "user_size"));
            snprintf(what, sizeof what, "block 0x%" PRIx64 " unused", a);
            EQ(what, e->unused, num(tb, "unused_bytes"));
        } else {
            /* the contract: a free entry's user_size is its free bytes (block size) */
            EQ("free block user_size", e->user_size, e->size);
        }
    }
    size_t mine = 0;
    for (size_t i = 0; i < h->nentries; i++)
        mine += h->entries[i].segment != 0xffff;
    if (!corrupt)
        EQ("backend entry count", mine, ntruth);
    else if (mine > ntruth)
        MISMATCH("heap 0x%" PRIx64 ": %zu backend entries, truth has %zu", h->addr, mine, ntruth);
}

static void check_vblocks(const ds_heap *h, const cJSON *th)
{
    const cJSON *tv;
    size_t k = 0;
    cJSON_ArrayForEach(tv, item(th, "virtual_blocks"))
    {
        if (k >= h->nvblocks) {
            MISMATCH("heap 0x%" PRIx64 ": VA block %zu missing", h->addr, k);
            break;
        }
        const ds_heap_vblock *v = &h->vblocks[k++];
        EQ("va address", v->addr, num(tv, "address"));
        EQ("va user", v->user, num(tv, "user"));
        EQ("va commit", v->commit_size, num(tv, "commit"));
        EQ("va reserve", v->reserve_size, num(tv, "reserve"));
        EQ("va unused", v->unused, num(tv, "unused"));
        EQ("va user_size", v->user_size, num(tv, "user_size"));
        EQ("va flags", v->flags, num(tv, "flags"));
        EQ("va header ok", v->header_ok, 1);
    }
    EQ("va block count", h->nvblocks, k);
}

static void check_lfh(const ds_heap *h, const cJSON *th, uint32_t lfh_key, bool w7)
{
    const cJSON *tl = item(th, "lfh");
    EQ("lfh present", h->lfh.present, tl != NULL);
    if (!tl || !h->lfh.present)
        return;
    EQ("lfh frontend", h->lfh.frontend, num(tl, "address"));
    if (!h->lfh.walked) {
        MISMATCH("heap 0x%" PRIx64 ": LFH not walked: %s", h->addr, h->lfh.why);
        return;
    }
    size_t nrel_truth = 0;
    const cJSON *t0;
    cJSON_ArrayForEach(t0, item(tl, "subsegments")) nrel_truth += reliable(t0);
    if (!w7 && nrel_truth) {
        EQ("lfh key recovered", h->lfh.key_recovered, 1);
        EQ("lfh key", h->lfh.key, lfh_key);
    }
    const cJSON *ts;
    size_t nrel = 0;
    cJSON_ArrayForEach(ts, item(tl, "subsegments"))
    {
        uint64_t a = num(ts, "address");
        const ds_heap_lfh_subsegment *s = NULL;
        for (size_t i = 0; i < h->lfh.nsubsegments && !s; i++)
            if (h->lfh.subsegments[i].subsegment == a)
                s = &h->lfh.subsegments[i];
        if (!reliable(ts))
            continue;
        nrel++;
        if (!s) {
            MISMATCH("heap 0x%" PRIx64 ": LFH subsegment 0x%" PRIx64 " missing", h->addr, a);
            continue;
        }
        EQ("lfh userblocks", s->user_blocks, num(ts, "userblocks"));
        EQ("lfh container", s->user_blocks - h->granularity, num(ts, "container"));
        EQ("lfh block_size", s->block_size, num(ts, "block_size"));
        EQ("lfh block_count", s->block_count, num(ts, "block_count"));
        EQ("lfh busy", s->busy, num(ts, "busy"));
        EQ("lfh free", s->free, num(ts, "free"));
        EQ("lfh first_offset", s->first_offset, num(ts, "first_offset"));
        EQ("lfh walked", s->walked, 1);
        const cJSON *tb;
        cJSON_ArrayForEach(tb, item(ts, "blocks"))
        {
            uint64_t ba = num(tb, "address");
            const ds_heap_entry *e = find_entry(h, ba, true);
            if (!e) {
                MISMATCH("heap 0x%" PRIx64 ": LFH block 0x%" PRIx64 " missing", h->addr, ba);
                continue;
            }
            bool busy = cJSON_IsTrue(item(tb, "busy"));
            EQ("lfh block user", e->user, num(tb, "user"));
            EQ("lfh block state", e->kind, busy ? DS_HEAP_ENTRY_LFH_BUSY : DS_HEAP_ENTRY_LFH_FREE);
            if (busy)
                EQ("lfh block user_size", e->user_size, num(tb, "user_size"));
        }
    }
    size_t mine_walked = 0;
    for (size_t i = 0; i < h->lfh.nsubsegments; i++)
        mine_walked += h->lfh.subsegments[i].walked;
    EQ("lfh walked subsegments", mine_walked, nrel);
}

static void check_totals(const ds_heap_set *set, const ds_heap *h, const cJSON *th)
{
    const cJSON *t = item(th, "totals");
    uint64_t bb = 0, bby = 0, ib = 0, iby = 0, fb = 0, fby = 0, vb = 0, vby = 0, lb = 0, lby = 0,
             lf = 0;
    for (size_t i = 0; i < h->nentries; i++) {
        const ds_heap_entry *e = &h->entries[i];
        switch (e->kind) {
        case DS_HEAP_ENTRY_BUSY:
            bb++, bby += e->user_size;
            break;
        case DS_HEAP_ENTRY_INTERNAL:
            ib++, iby += e->size;
            break;
        case DS_HEAP_ENTRY_FREE:
            fb++, fby += e->size;
            break;
        case DS_HEAP_ENTRY_VIRTUAL:
            vb++, vby += e->user_size;
            break;
        case DS_HEAP_ENTRY_LFH_BUSY:
            lb++, lby += e->user_size;
            break;
        default:
            lf++;
        }
    }
    EQ("totals backend_busy_blocks", bb, num(t, "backend_busy_blocks"));
    EQ("totals backend_busy_bytes", bby, num(t, "backend_busy_bytes"));
    EQ("totals internal_blocks", ib, num(t, "internal_blocks"));
    EQ("totals internal_bytes", iby, num(t, "internal_bytes"));
    EQ("totals free_blocks", fb, num(t, "free_blocks"));
    EQ("totals free_bytes", fby, num(t, "free_bytes"));
    EQ("totals va_blocks", vb, num(t, "va_blocks"));
    EQ("totals va_bytes", vby, num(t, "va_bytes"));
    EQ("totals lfh_busy_blocks", lb, num(t, "lfh_busy_blocks"));
    EQ("totals lfh_busy_bytes", lby, num(t, "lfh_busy_bytes"));
    EQ("totals lfh_free_blocks", lf, num(t, "lfh_free_blocks"));
    EQ("totals busy_blocks", h->busy_blocks, num(t, "busy_blocks"));
    EQ("totals busy_bytes", h->busy_bytes, num(t, "busy_bytes"));
    EQ("internal_blocks", h->internal_blocks, ib);
    EQ("free_blocks (backend + LFH)", h->free_blocks, fb + lf);
    EQ("lfh busy_blocks", h->lfh.busy_blocks, lb);
    EQ("lfh free_blocks", h->lfh.free_blocks, lf);

    ds_heap_stat st;
    assert_int_equal(ds_heap_stat_compute(set, h->addr, DS_HEAP_STAT_BY_TOTAL, &st), DS_OK);
    const cJSON *r;
    size_t k = 0;
    cJSON_ArrayForEach(r, item(th, "stat"))
    {
        if (k < st.nrows) {
            EQ("stat user_size", st.rows[k].user_size, num(r, "user_size"));
            EQ("stat count", st.rows[k].count, num(r, "count"));
            EQ("stat total", st.rows[k].total, num(r, "total"));
        }
        k++;
    }
    EQ("stat rows", st.nrows, k);
    EQ("stat busy_blocks", st.busy_blocks, num(t, "busy_blocks"));
    EQ("stat busy_bytes", st.busy_bytes, num(t, "busy_bytes"));
    ds_heap_stat_free(&st);
}

static void check_nt_heap(const ds_heap_set *set, const ds_heap *h, const cJSON *th,
                          const cJSON *truth, bool corrupt)
{
    EQ("kind", h->kind, DS_HEAP_NT);
    if (h->kind != DS_HEAP_NT)
        return;
    if (strcmp(ds_heap_layout_key(h->layout), str(th, "layout")))
        MISMATCH("heap 0x%" PRIx64 ": layout %s, want %s", h->addr, ds_heap_layout_key(h->layout),
                 str(th, "layout"));
    EQ("flags", h->flags, num(th, "flags"));
    EQ("force_flags", h->force_flags, num(th, "force_flags"));
    EQ("encoded", h->encoded, num(th, "encode_flag_mask") != 0);
    EQ("encoding_key", h->encoding_key, num(th, "encoding_key"));
    EQ("granularity", h->granularity, num(th, "granularity"));
    EQ("vm_threshold", h->vm_threshold,
       num(th, "virtual_memory_threshold_granules") * num(th, "granularity"));
    EQ("segment_reserve", h->segment_reserve, num(th, "segment_reserve"));
    EQ("segment_commit", h->segment_commit, num(th, "segment_commit"));
    EQ("decommit block", h->hdr.decommit_block_threshold, num(th, "decommit_free_block_threshold"));
    EQ("decommit total", h->hdr.decommit_total_threshold, num(th, "decommit_total_free_threshold"));
    EQ("frontend type", h->frontend_type, num(th, "front_end_heap_type"));
    /* tag fields (heap -m): read in every variant; the tagged heaps have non-zero values */
    const uint32_t tagbits = DS_HEAP_HF_TAGS | DS_HEAP_HF_TAG_ENTRIES | DS_HEAP_HF_PSEUDO_TAGS;
    EQ("tag fields read", h->hdr.have & tagbits, tagbits);
    EQ("next tag index", h->hdr.next_tag_index, num(th, "next_available_tag_index"));
    EQ("maximum tag index", h->hdr.maximum_tag_index, num(th, "maximum_tag_index"));
    EQ("tag entries", h->hdr.tag_entries, num(th, "tag_entries"));
    EQ("pseudo tag entries", h->hdr.pseudo_tag_entries, num(th, "pseudo_tag_entries"));
    const cJSON *c = item(th, "counters");
    const ds_heap_counters *k = &h->counters;
    EQ("counters reserved", k->reserved, num(c, "total_memory_reserved"));
    EQ("counters committed", k->committed, num(c, "total_memory_committed"));
    EQ("counters large_ucr", k->large_ucr, num(c, "total_memory_large_ucr"));
    EQ("counters total_segments", k->total_segments, num(c, "total_segments"));
    EQ("counters total_ucrs", k->ucrs, num(c, "total_ucrs"));
    EQ("counters lock_collisions", k->lock_collisions, num(c, "lock_collisions"));
    EQ("free_bytes", k->free_bytes, num(th, "total_free_size_granules") * num(th, "granularity"));
    const cJSON *hs = item(th, "heap_s");
    EQ("heap -s reserv_k", k->reserved / 1024, num(hs, "reserv_k"));
    EQ("heap -s commit_k", k->committed / 1024, num(hs, "commit_k"));
    EQ("heap -s virt_k", k->virtual_bytes / 1024, num(hs, "virt_k"));
    EQ("heap -s free_k", k->free_bytes / 1024, num(hs, "free_k"));
    EQ("heap -s ucr", k->ucrs, num(hs, "ucr"));
    EQ("heap -s virt_blocks", k->virtual_blocks, num(hs, "virt_blocks"));
    EQ("heap -s lock_cont", k->lock_collisions, num(hs, "lock_cont"));
    EQ("heap -s fast heap", h->frontend_type == 2, !strcmp(str(hs, "fast_heap"), "LFH"));
    /* free list: its length (list order is the simulator's; we only count) */
    bool fl_reliable =
        !has(th, "free_list_reliable") || cJSON_IsTrue(item(th, "free_list_reliable"));
    const cJSON *is;
    cJSON_ArrayForEach(is, item(truth, "issues")) if (num(is, "heap") == h->addr &&
                                                      !strcmp(str(is, "kind"), "list_cycle") &&
                                                      strstr(str(is, "detail"), "ree"))
        fl_reliable = false;
    bool missing = false; /* metadata missing from the dump: the free-list walk may stop early */
    cJSON_ArrayForEach(is, item(truth, "issues")) if (num(is, "heap") == h->addr &&
                                                      !strcmp(str(is, "kind"), "not_in_dump"))
        missing = true;
    uint64_t fl_len = (uint64_t)cJSON_GetArraySize(item(th, "free_list"));
    EQ("heap -s list_length (truth)", num(hs, "list_length"), fl_len);
    if (fl_reliable && !missing) {
        EQ("free list length", k->free_list_length, fl_len);
    } else if (fl_reliable && k->free_list_length != fl_len) {
        /* a shorter count only with a NOT_IN_DUMP issue naming the FreeLists element */
        bool said = false;
        for (size_t i = 0; i < h->nissues; i++)
            said |= h->issues[i].kind == DS_HEAP_ISSUE_NOT_IN_DUMP &&
                    strstr(h->issues[i].detail, "FreeLists") != NULL;
        if (k->free_list_length > fl_len || !said)
            MISMATCH("free list length %u vs %" PRIu64 " without a FreeLists issue",
                     k->free_list_length, fl_len);
    }
    if (!corrupt) {
        const cJSON *wk = item(th, "walked");
        uint64_t res = 0, com = 0, ucr = 0;
        for (size_t i = 0; i < h->nsegments; i++) {
            res += h->segments[i].last_valid_entry - h->segments[i].base;
            com += h->segments[i].committed;
            ucr += h->segments[i].ucr_count;
        }
        EQ("walked reserved", res, num(wk, "reserved"));
        EQ("walked committed", com, num(wk, "committed"));
        EQ("walked uncommitted", res - com, num(wk, "uncommitted"));
        EQ("walked ucr_count", ucr, num(wk, "ucr_count"));
    }
    check_segments(h, th, corrupt);
    check_blocks(h, th, corrupt);
    check_vblocks(h, th);
    check_lfh(h, th, (uint32_t)num(truth, "lfh_key"), h->layout == DS_HEAP_LAYOUT_W7);
    if (!corrupt)
        check_totals(set, h, th);
    if (!corrupt && h->nissues)
        MISMATCH("clean heap 0x%" PRIx64 " has %zu issues, first: %s at 0x%" PRIx64 ": %s", h->addr,
                 h->nissues, ds_heap_issue_name(h->issues[0].kind), h->issues[0].addr,
                 h->issues[0].detail);
}

static void check_issues(const ds_heap_set *set, const cJSON *truth)
{
    const cJSON *is;
    cJSON_ArrayForEach(is, item(truth, "issues"))
    {
        uint64_t heap = num(is, "heap"), addr = num(is, "address");
        const char *kind = str(is, "kind");
        bool exact = !has(is, "address_exact") || cJSON_IsTrue(item(is, "address_exact"));
        bool found = false;
        for (size_t i = 0; i < set->nheaps && !found; i++) {
            const ds_heap *h = &set->heaps[i];
            if (h->addr != heap)
                continue;
            for (size_t j = 0; j < h->nissues && !found; j++) {
                const ds_heap_issue *mi = &h->issues[j];
                const char *mk = issue_truth_name(mi->kind);
                bool kind_ok = !strcmp(mk, kind);
                const cJSON *alt;
                cJSON_ArrayForEach(alt,
                                   item(is, "also_acceptable")) if (cJSON_IsString(alt) &&
                                                                    !strcmp(alt->valuestring, mk))
                    kind_ok = true;
                bool addr_ok = !exact || mi->addr == addr;
                /* a missing page: the walker names the first address it needed in that page */
                if (!strcmp(kind, "not_in_dump") && (mi->addr & ~0xfffull) == (addr & ~0xfffull))
                    addr_ok = true;
                found = kind_ok && addr_ok;
            }
            if (!found) {
                MISMATCH("issue %s at 0x%" PRIx64 " in heap 0x%" PRIx64 " not reported (%zu "
                         "issues reported)",
                         kind, addr, heap, h->nissues);
                for (size_t j = 0; j < h->nissues && j < 5; j++)
                    fprintf(stderr, "    reported: %s at 0x%" PRIx64 ": %s\n",
                            ds_heap_issue_name(h->issues[j].kind), h->issues[j].addr,
                            h->issues[j].detail);
                found = true; /* reported once */
            }
        }
    }
}

static void check_variant(const char *dir, const char *variant)
{
    char dp[4096], tp[4096];
    snprintf(dp, sizeof dp, "%s/%s.dmp", dir, variant);
    snprintf(tp, sizeof tp, "%s/%s.truth.json", dir, variant);
    g_variant = variant;
    g_shown = 0;
    cJSON *truth = dstest_load_json(tp);
    ds_dump *d = NULL;
    ds_status st = ds_dump_open(dp, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_heap_set set;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_heap_options o = {.entries = true};
    st = ds_heaps_open(d, &o, &set, &dg);
    bool any_issue = cJSON_GetArraySize(item(truth, "issues")) > 0;
    EQ("status", st, any_issue ? DS_E_PARTIAL : DS_OK);
    const cJSON *os = item(truth, "os");
    EQ("os build", set.os_build, num(os, "build"));
    EQ("wow64", set.wow64, cJSON_IsTrue(item(os, "wow64")));
    EQ("peb", set.peb, num(truth, "peb"));
    EQ("peb32", set.peb32, num(truth, "peb32"));
    EQ("nt_global_flag", set.nt_global_flag, num(truth, "nt_global_flag"));
    const cJSON *th;
    size_t k = 0;
    cJSON_ArrayForEach(th, item(truth, "heaps"))
    {
        if (k >= set.nheaps) {
            MISMATCH("heap %zu (0x%" PRIx64 ") missing", k, num(th, "address"));
            k++;
            continue;
        }
        const ds_heap *h = &set.heaps[k++];
        EQ("heap address", h->addr, num(th, "address"));
        EQ("heap bits", h->bits, num(th, "bits"));
        EQ("heap index", h->index, num(th, "index"));
        EQ("heap unlisted", h->unlisted, 0);
        if (has(th, "process_heap"))
            EQ("heap process_heap", h->process_heap, cJSON_IsTrue(item(th, "process_heap")));
        EQ("heap from PEB32", h->bits == 32 && set.wow64, !strcmp(str(th, "peb"), "peb32"));
        const char *kind = str(th, "kind");
        if (!strcmp(kind, "not_nt")) {
            EQ("kind not_nt", h->kind, DS_HEAP_NOT_NT);
            if (!h->why[0])
                MISMATCH("not_nt heap without a reason");
        } else if (!strcmp(kind, "segment")) {
            check_segheap(h, th);
            check_segheap_lookup(&set, h, th);
        } else {
            check_nt_heap(&set, h, th, truth, heap_in_issues(truth, h->addr));
        }
    }
    EQ("heap count", set.nheaps, k);
    check_issues(&set, truth);
    ds_heaps_close(&set);
    ds_diags_free(&dg);
    ds_dump_close(d);
    cJSON_Delete(truth);
}

static const ds_class_region *region_at(const ds_region_map *m, uint64_t va)
{
    for (size_t i = 0; i < m->n; i++)
        if (va >= m->v[i].base && va - m->v[i].base < m->v[i].size)
            return &m->v[i];
    return NULL;
}

static void expect_heap_class(const ds_region_map *m, uint64_t va, uint8_t bits, const char *what)
{
    const ds_class_region *r = region_at(m, va);
    if (!r)
        MISMATCH("regions: %s 0x%" PRIx64 " in no region", what, va);
    else if (r->usage != DS_USE_HEAP || r->bits != bits)
        MISMATCH("regions: %s 0x%" PRIx64 " classified %u/%u, want Heap/%u", what, va, r->usage,
                 r->bits, bits);
}

/* `summary`/`regions` classify through the walker: every NT heap's segments (committed and
 * reserved parts), VA blocks (user data and reserved tail) and LFH front end are Heap. */
static void check_regions(const char *dir, const char *variant)
{
    char dp[4096], tp[4096];
    snprintf(dp, sizeof dp, "%s/%s.dmp", dir, variant);
    snprintf(tp, sizeof tp, "%s/%s.truth.json", dir, variant);
    g_variant = variant;
    cJSON *truth = dstest_load_json(tp);
    ds_dump *d = NULL;
    ds_status st = ds_dump_open(dp, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    ds_region_map m;
    assert_int_equal(ds_regions_classify(d, NULL, 0, &m, NULL), DS_OK);
    bool wow = cJSON_IsTrue(item(item(truth, "os"), "wow64"));
    const cJSON *th;
    cJSON_ArrayForEach(th, item(truth, "heaps"))
    {
        uint8_t bits = wow ? (uint8_t)num(th, "bits") : 0;
        expect_heap_class(&m, num(th, "address"), bits, "heap");
        const cJSON *x;
        cJSON_ArrayForEach(x, item(th, "large_blocks"))
            expect_heap_class(&m, num(x, "address"), bits, "segment heap large block");
        if (strcmp(str(th, "kind"), "nt"))
            continue;
        cJSON_ArrayForEach(x, item(th, "segments"))
        {
            if (!reliable(x))
                continue;
            uint64_t base = num(x, "base"), end = base + num(x, "pages") * 4096;
            expect_heap_class(&m, base, bits, "segment base");
            expect_heap_class(&m, end - 1, bits, "segment end");
            const cJSON *u;
            cJSON_ArrayForEach(u, item(x, "ucrs"))
                expect_heap_class(&m, num(u, "address"), bits, "uncommitted range");
        }
        cJSON_ArrayForEach(x, item(th, "virtual_blocks"))
        {
            expect_heap_class(&m, num(x, "address"), bits, "VA block");
            expect_heap_class(&m, num(x, "address") + num(x, "reserve") - 1, bits, "VA block end");
        }
        if (has(item(th, "lfh"), "address"))
            expect_heap_class(&m, num(item(th, "lfh"), "address"), bits, "LFH front end");
    }
    ds_region_map_free(&m);
    ds_dump_close(d);
    cJSON_Delete(truth);
}

static const char *g_dir;

static void variants(void **state)
{
    (void)state;
    /* every variant the simulator documents must be there */
    static const char *need[] = {"w7-x86",
                                 "w7-x64",
                                 "w8-x86",
                                 "w8-x64",
                                 "w10b-x86",
                                 "w10b-x64",
                                 "w10-x86",
                                 "w10-x64",
                                 "w11-x64",
                                 "wow64",
                                 "segheap-x64",
                                 "seed-x86",
                                 "notnt-x64",
                                 "w10-x64-bad-checksum",
                                 "w10-x64-bad-prevsize",
                                 "w10-x64-freelist-cycle",
                                 "w10-x64-va-cycle",
                                 "w10-x64-seg-outside",
                                 "w10-x64-page-missing",
                                 "w10-x64-lfh-badsig"};
    unsigned total = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char tp[4096];
        snprintf(tp, sizeof tp, "%s/%s.truth.json", g_dir, need[i]);
        FILE *f = fopen(tp, "r");
        if (!f) {
            fprintf(stderr, "variant %s missing in %s\n", need[i], g_dir);
            total++;
            continue;
        }
        fclose(f);
        g_fail = 0;
        check_variant(g_dir, need[i]);
        check_regions(g_dir, need[i]);
        if (g_fail)
            fprintf(stderr, "[%s] %u mismatches\n", need[i], g_fail);
        total += g_fail;
    }
    /* and any variant added later */
    DIR *dd = opendir(g_dir);
    assert_non_null(dd);
    struct dirent *de;
    while ((de = readdir(dd))) {
        size_t l = strlen(de->d_name);
        const char *suf = ".truth.json";
        if (l <= strlen(suf) || strcmp(de->d_name + l - strlen(suf), suf))
            continue;
        char v[256];
        snprintf(v, sizeof v, "%.*s", (int)(l - strlen(suf)), de->d_name);
        bool known = false;
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
            known |= !strcmp(v, need[i]);
        if (known)
            continue;
        g_fail = 0;
        check_variant(g_dir, v);
        total += g_fail;
    }
    closedir(dd);
    assert_int_equal(total, 0);
}

/* W8+ LFH whose key cannot be confirmed: one UserBlocks' EncodedOffsets is damaged (its stride
 * bits no longer match the subsegment), so no single key decodes every UserBlocks. The walker must
 * then report the LFH as not walked, with a reason, and count no LFH block at all (the backend
 * walk is unaffected). The dump is the w10-x64 variant patched in a temporary copy. */
static void lfh_key_unconfirmed(void **state)
{
    (void)state;
    char dp[4096], tp[4096];
    snprintf(dp, sizeof dp, "%s/w10-x64.dmp", g_dir);
    snprintf(tp, sizeof tp, "%s/w10-x64.truth.json", g_dir);
    cJSON *truth = dstest_load_json(tp);
    const cJSON *th = cJSON_GetArrayItem(item(truth, "heaps"), 0);
    const cJSON *ss = cJSON_GetArrayItem(item(item(th, "lfh"), "subsegments"), 1);
    assert_non_null(ss);
    uint64_t ub = num(ss, "userblocks");
    size_t len = 0;
    uint8_t *buf = dstest_read_file(dp, &len);
    assert_non_null(buf);
    /* file offset of UserBlocks+0x18 (x64 EncodedOffsets, nt-heap.md §4) through the dump's view */
    ds_dump *d = NULL;
    assert_int_equal(ds_dump_open(dp, &d, NULL), DS_OK);
    ds_mem_status ms;
    const ds_range *r = ds_vmem_find(&d->vm, ub + 0x18, &ms);
    assert_non_null(r);
    assert_int_equal(r->kind, DS_RANGE_DATA);
    uint64_t off = r->file_off + (ub + 0x18 - r->va);
    ds_dump_close(d);
    assert_true(off + 4 <= len);
    buf[off + 2] ^= 0x10; /* BlockStride (high u16) changes by 0x10 */
    char tmp[] = "/tmp/ds_ntheap_lfh_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    assert_int_equal(ds_dump_open(tmp, &d, NULL), DS_OK);
    ds_heap_set set;
    ds_heap_options o = {.entries = true};
    ds_heaps_open(d, &o, &set, NULL);
    const ds_heap *h = &set.heaps[0];
    assert_int_equal(h->addr, num(th, "address"));
    assert_true(h->lfh.present);
    assert_false(h->lfh.walked);
    assert_false(h->lfh.key_recovered);
    assert_non_null(strstr(h->lfh.why, "key"));
    assert_int_equal(h->lfh.busy_blocks, 0);
    assert_int_equal(h->lfh.free_blocks, 0);
    for (size_t i = 0; i < h->nentries; i++)
        assert_true(h->entries[i].kind != DS_HEAP_ENTRY_LFH_BUSY &&
                    h->entries[i].kind != DS_HEAP_ENTRY_LFH_FREE);
    for (size_t i = 0; i < h->lfh.nsubsegments; i++)
        assert_false(h->lfh.subsegments[i].walked);
    /* the backend is what the truth says */
    EQ("backend busy", h->busy_blocks,
       num(item(th, "totals"), "backend_busy_blocks") + num(item(th, "totals"), "va_blocks"));
    assert_int_equal(g_fail, 0);
    ds_heaps_close(&set);
    ds_dump_close(d);
    unlink(tmp);
    cJSON_Delete(truth);
}

/* heap -x when a segment heap's large-block tree cannot be walked: segheap-x64 with the Encoded
 * bit (bit 0) set in LargeAllocMetadata.Min (_SEGMENT_HEAP +0x48, _RTL_RB_TREE.Min +8; nt-heap.md
 * §5, 19041 x64). No large block is read, so an address inside one is not found, and the lookup
 * names the segment heap whose tree was not walked instead of a plain "not found". */
static void segheap_large_unwalked(void **state)
{
    (void)state;
    char dp[4096], tp[4096];
    snprintf(dp, sizeof dp, "%s/segheap-x64.dmp", g_dir);
    snprintf(tp, sizeof tp, "%s/segheap-x64.truth.json", g_dir);
    cJSON *truth = dstest_load_json(tp);
    const cJSON *th = NULL, *x;
    cJSON_ArrayForEach(x, item(truth, "heaps")) if (!strcmp(str(x, "kind"), "segment")) th = x;
    assert_non_null(th);
    uint64_t sh = num(th, "address");
    uint64_t blk = num(cJSON_GetArrayItem(item(th, "large_blocks"), 0), "address");
    size_t len = 0;
    uint8_t *buf = dstest_read_file(dp, &len);
    assert_non_null(buf);
    ds_dump *d = NULL;
    assert_int_equal(ds_dump_open(dp, &d, NULL), DS_OK);
    ds_mem_status ms;
    const ds_range *r = ds_vmem_find(&d->vm, sh + 0x50, &ms);
    assert_non_null(r);
    assert_int_equal(r->kind, DS_RANGE_DATA);
    uint64_t off = r->file_off + (sh + 0x50 - r->va);
    ds_dump_close(d);
    assert_true(off + 8 <= len);
    assert_int_equal(buf[off] & 1, 0);
    buf[off] |= 1;
    char tmp[] = "/tmp/ds_ntheap_seg_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    assert_int_equal(ds_dump_open(tmp, &d, NULL), DS_OK);
    ds_heap_set set;
    ds_heap_options o = {.entries = true};
    ds_heaps_open(d, &o, &set, NULL);
    const ds_heap *h = NULL;
    for (size_t i = 0; i < set.nheaps; i++)
        if (set.heaps[i].addr == sh)
            h = &set.heaps[i];
    assert_non_null(h);
    assert_false(h->seg.large_walked);
    assert_int_equal(h->seg.nlarge, 0);
    assert_non_null(strstr(h->seg.large_why, "encoded"));
    ds_heap_lookup lk = ds_heap_find(&set, blk + 0x10);
    assert_false(lk.found);
    assert_null(lk.large);
    assert_true(lk.large_incomplete == h);
    /* an address found elsewhere (the NT heap) carries no such note */
    const ds_heap *nt = &set.heaps[0];
    assert_int_equal(nt->kind, DS_HEAP_NT);
    lk = ds_heap_find(&set, nt->segments[0].first_entry);
    assert_true(lk.found);
    assert_null(lk.large_incomplete);
    ds_heaps_close(&set);
    ds_dump_close(d);
    unlink(tmp);
    cJSON_Delete(truth);
}

/* The layout is verified on the data: with a wrong OS build the walker must still pick the
 * heap's real group (signatures, front end and counters) and walk it exactly. */
static void wrong_build(void **state)
{
    (void)state;
    static const struct {
        const char *variant;
        uint32_t fake_build;
    } cases[] = {{"w10-x64", 17134},  {"w10-x64", 9600}, {"w10-x64", 7601}, {"w10b-x64", 19041},
                 {"w8-x64", 19041},   {"w7-x64", 19041}, {"w10-x86", 7601}, {"w7-x86", 9200},
                 {"w8-x86", 17134},   {"w8-x86", 19041}, {"w8-x86", 7601},  {"w10b-x86", 9600},
                 {"w10b-x86", 19041}, {"w10-x86", 9600}, {"w10-x86", 17134}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dp[4096], tp[4096];
        snprintf(dp, sizeof dp, "%s/%s.dmp", g_dir, cases[c].variant);
        snprintf(tp, sizeof tp, "%s/%s.truth.json", g_dir, cases[c].variant);
        cJSON *truth = dstest_load_json(tp);
        ds_dump *d = NULL;
        assert_int_equal(ds_dump_open(dp, &d, NULL), DS_OK);
        d->sys.os_build = cases[c].fake_build;
        ds_heap_set set;
        ds_heap_options o = {.entries = true};
        assert_int_equal(ds_heaps_open(d, &o, &set, NULL), DS_OK);
        const cJSON *th;
        size_t k = 0;
        cJSON_ArrayForEach(th, item(truth, "heaps"))
        {
            const ds_heap *h = &set.heaps[k++];
            if (strcmp(str(th, "kind"), "nt"))
                continue;
            if (strcmp(ds_heap_layout_key(h->layout), str(th, "layout")))
                fail_msg("%s with build %u: heap 0x%" PRIx64 " layout %s, want %s",
                         cases[c].variant, cases[c].fake_build, h->addr,
                         ds_heap_layout_key(h->layout), str(th, "layout"));
            assert_int_equal(h->busy_blocks, num(item(th, "totals"), "busy_blocks"));
            assert_int_equal(h->busy_bytes, num(item(th, "totals"), "busy_bytes"));
            assert_int_equal(h->nissues, 0);
        }
        ds_heaps_close(&set);
        ds_dump_close(d);
        cJSON_Delete(truth);
    }
}

int main(void)
{
    g_dir = getenv("DS_NTHEAP_DIR");
    if (!g_dir || !*g_dir) {
        fprintf(stderr, "SKIP: DS_NTHEAP_DIR not set (simulated NT-heap dumps)\n");
        return DSTEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variants), cmocka_unit_test(lfh_key_unconfirmed),
        cmocka_unit_test(segheap_large_unwalked), cmocka_unit_test(wrong_build)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
