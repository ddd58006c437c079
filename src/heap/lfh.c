/* LFH (low-fragmentation heap front end) walk, nt-heap.md §4 "walk outline": from the backend's
 * UserBlocks containers, without the _LFH_HEAP layout.
 *   W7: blocks at UserBlocks + 0x10/0x20 + i*stride; UnusedBytes plain: 0x80 = free.
 *   W8+: busy state from the UserBlocks bitmap; block i at UserBlocks + FirstAllocationOffset +
 *        i*BlockStride, both from EncodedOffsets = plain ^ (u32)UserBlocks ^ (u32)LFH ^ key.
 *        The key (ntdll!RtlpLFHKey) is not in the dump's data directly; it is solved from one
 *        UserBlocks (stride known from the subsegment, first offset = the first aligned offset
 *        after the bitmap) and must decode every other UserBlocks consistently; if it does not,
 *        or more than one key fits, the blocks are not walked. */
#include "heap/heap_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define LFH_KEY_BUDGET (1ull << 24)

typedef struct cand {
    uint64_t container, csize; /* backend block and its size */
    uint64_t ub, ss;
    uint32_t stride, count;
    uint32_t x;      /* EncodedOffsets ^ (u32)ub ^ (u32)lfh (W8+) */
    uint32_t min_fo; /* first possible block offset (after header and bitmap, aligned) */
    uint32_t max_fo; /* last offset at which count blocks still fit the container */
    uint8_t *bitmap; /* W8+: BitmapData bytes */
} cand;

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Reads and checks one container; false (with an issue) when it is not a usable UserBlocks. */
static bool load_cand(ds_heap_walk *w, uint64_t c, uint64_t csize, cand *o)
{
    const ds_heap_layout *lo = w->lo;
    ds_vmem *vm = &w->d->vm;
    bool w7 = lo->group == DS_HEAP_LAYOUT_W7;
    memset(o, 0, sizeof *o);
    o->container = c;
    o->csize = csize;
    o->ub = c + lo->gran;
    uint32_t sig = 0;
    uint16_t bs = 0, cnt = 0;
    uint64_t back = 0;
    if (ds_vmem_u32(vm, o->ub + lo->ub_signature, &sig) != DS_MEM_OK ||
        ds_vmem_ptr_sized(vm, o->ub, lo->ps, &o->ss) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, o->ub, "UserBlocks not in the dump");
        return false;
    }
    if (sig != DS_LFH_USERDATA_SIGNATURE) {
        if (!w7) /* W8+: a flag-08 block that is not a UserBlocks; W7 never gets here */
            ds_heap_issue_add(w, DS_HEAP_ISSUE_BAD_SIGNATURE, o->ub,
                              "internal block: UserBlocks signature 0x%08x (expected 0xf0e0d0c0)",
                              sig);
        return false;
    }
    if (ds_vmem_ptr_sized(vm, o->ss + lo->ss_user_blocks, lo->ps, &back) != DS_MEM_OK ||
        ds_vmem_u16(vm, o->ss + lo->ss_block_size, &bs) != DS_MEM_OK ||
        ds_vmem_u16(vm, o->ss + lo->ss_block_count, &cnt) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, o->ss, "LFH subsegment not in the dump");
        return false;
    }
    if (back != o->ub) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, o->ss, "subsegment UserBlocks 0x%llx != 0x%llx",
                          (unsigned long long)back, (unsigned long long)o->ub);
        return false;
    }
    o->stride = (uint32_t)bs * lo->gran;
    o->count = cnt;
    uint64_t area = csize - lo->gran; /* the container's user bytes */
    if (!bs || !cnt || (uint64_t)o->stride * cnt > area) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, o->ss,
                          "subsegment BlockSize 0x%x x BlockCount %u does not fit 0x%llx bytes",
                          o->stride, cnt, (unsigned long long)area);
        return false;
    }
    uint64_t last = area - (uint64_t)o->stride * cnt;
    if (w7) {
        if (lo->ub_first_w7 > last) {
            ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, o->ss, "W7 blocks overrun the UserBlocks");
            return false;
        }
        o->min_fo = o->max_fo = lo->ub_first_w7;
        return true;
    }
    uint32_t bmsize = 0, enc = 0;
    uint64_t bmbuf = 0;
    if (ds_vmem_u32(vm, o->ub + lo->ub_bitmap_size, &bmsize) != DS_MEM_OK ||
        ds_vmem_ptr_sized(vm, o->ub + lo->ub_bitmap_buffer, lo->ps, &bmbuf) != DS_MEM_OK ||
        ds_vmem_u32(vm, o->ub + lo->ub_encoded_offsets, &enc) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, o->ub, "UserBlocks header not in the dump");
        return false;
    }
    if (bmsize != cnt || bmbuf != o->ub + lo->ub_bitmap_data) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, o->ub,
                          "UserBlocks bitmap (%u bits at 0x%llx) does not match BlockCount %u",
                          bmsize, (unsigned long long)bmbuf, cnt);
        return false;
    }
    size_t nb = (cnt + 7u) / 8u;
    o->bitmap = malloc(nb);
    if (!o->bitmap ||
        ds_vmem_read(vm, o->ub + lo->ub_bitmap_data, o->bitmap, nb, NULL) != DS_MEM_OK) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, o->ub, "UserBlocks bitmap not in the dump");
        free(o->bitmap);
        o->bitmap = NULL;
        return false;
    }
    o->x = enc ^ (uint32_t)o->ub ^ (uint32_t)w->h->lfh.frontend;
    o->min_fo = (uint32_t)align_up(lo->ub_bitmap_data + nb, lo->gran);
    o->max_fo = last > 0xffff ? 0xffff : (uint32_t)last;
    if (o->min_fo > o->max_fo) {
        ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, o->ub, "UserBlocks too small for its blocks");
        free(o->bitmap);
        o->bitmap = NULL;
        return false;
    }
    return true;
}

static bool bit(const cand *c, uint32_t i)
{
    return c->bitmap && (c->bitmap[i / 8] >> (i % 8)) & 1;
}

static ds_mem_status unused_byte(ds_heap_walk *w, uint64_t blk, uint8_t *u)
{
    return ds_vmem_u8(&w->d->vm, blk + w->lo->hdr + 7, u);
}

/* W8+: does key decode c consistently (stride, first offset in range and aligned, every busy
 * block's header carrying the LFH bit and a possible unused count)? *fo receives the offset. */
static bool cheap_fits(ds_heap_walk *w, const cand *c, uint32_t key)
{
    uint32_t p = c->x ^ key;
    uint32_t f = p & 0xffff;
    return (p >> 16) == c->stride && f >= c->min_fo && f <= c->max_fo && !(f % w->lo->gran);
}

static bool key_fits(ds_heap_walk *w, const cand *c, uint32_t key, uint32_t *fo, uint64_t *budget)
{
    uint32_t f = (c->x ^ key) & 0xffff;
    if (!cheap_fits(w, c, key))
        return false;
    for (uint32_t i = 0; i < c->count; i++) {
        if (!bit(c, i))
            continue;
        if (budget) {
            if (!*budget)
                return false;
            --*budget;
        }
        uint8_t u = 0;
        if (unused_byte(w, c->ub + f + (uint64_t)i * c->stride, &u) != DS_MEM_OK || !(u & 0x80) ||
            (u & 0x3f) > c->stride || (u & 0x3f) < w->lo->gran)
            return false;
    }
    *fo = f;
    return true;
}

static void add_block(ds_heap_walk *w, uint64_t blk, uint32_t stride, bool busy, uint8_t u)
{
    ds_heap_entry e;
    memset(&e, 0, sizeof e);
    e.addr = blk;
    e.user = blk + w->lo->gran;
    e.size = stride;
    e.segment = 0xffff;
    e.flags = busy ? 0x01 : 0;
    if (busy) {
        e.kind = DS_HEAP_ENTRY_LFH_BUSY;
        e.unused = u & 0x3f;
        e.user_size = stride - e.unused;
        w->h->lfh.busy_blocks++;
        w->h->lfh.busy_bytes += e.user_size;
    } else {
        e.kind = DS_HEAP_ENTRY_LFH_FREE;
        e.user_size = stride;
        w->h->lfh.free_blocks++;
        w->h->lfh.free_bytes += stride;
    }
    ds_heap_entry_add(w, &e);
}

void ds_heap_lfh_walk(ds_heap_walk *w, const uint64_t *containers, const uint64_t *csizes, size_t n)
{
    ds_heap *h = w->h;
    ds_heap_lfh *l = &h->lfh;
    bool w7 = w->lo->group == DS_HEAP_LAYOUT_W7;
    cand *cs = n ? calloc(n, sizeof *cs) : NULL;
    size_t nc = 0;
    if (n && !cs) {
        snprintf(l->why, sizeof l->why, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (load_cand(w, containers[i], csizes[i], &cs[nc]))
            nc++;
    size_t capss = 0;
    for (size_t i = 0; i < nc; i++) {
        ds_heap_lfh_subsegment s;
        memset(&s, 0, sizeof s);
        s.subsegment = cs[i].ss;
        s.user_blocks = cs[i].ub;
        s.block_size = cs[i].stride;
        s.block_count = cs[i].count;
        DS_PUSH(l->subsegments, l->nsubsegments, capss, s);
    }
    if (!nc) {
        l->walked = n == 0; /* no UserBlocks at all: nothing to walk */
        if (n)
            snprintf(l->why, sizeof l->why,
                     "none of the %zu LFH containers validated as a UserBlocks", n);
        free(cs);
        return;
    }
    uint32_t key = 0;
    if (!w7) {
        /* solve from the first UserBlocks: try each possible first offset */
        size_t found = 0;
        uint32_t fo_tmp = 0;
        uint64_t budget = LFH_KEY_BUDGET; /* header reads for the whole search */
        for (uint32_t fo0 = cs[0].min_fo; fo0 <= cs[0].max_fo && found < 2; fo0 += w->lo->gran) {
            uint32_t k = cs[0].x ^ (cs[0].stride << 16 | fo0);
            bool all = true;
            for (size_t i = 0; i < nc && all; i++) /* cheap checks on every UserBlocks first */
                all = cheap_fits(w, &cs[i], k);
            for (size_t i = 0; i < nc && all; i++)
                all = key_fits(w, &cs[i], k, &fo_tmp, &budget);
            if (all) {
                if (!found)
                    key = k;
                found++;
            }
        }
        if (found != 1 || !budget) { /* an exhausted budget leaves other keys unchecked */
            snprintf(l->why, sizeof l->why,
                     !budget ? "LFH key search stopped at its work bound (%zu UserBlocks)"
                     : found ? "LFH key ambiguous: more than one key decodes all %zu UserBlocks"
                             : "LFH key not recovered: no key decodes all %zu UserBlocks "
                               "consistently",
                     nc);
            for (size_t i = 0; i < nc; i++)
                free(cs[i].bitmap);
            free(cs);
            return;
        }
        l->key_recovered = true;
        l->key = key;
    }
    for (size_t i = 0; i < nc; i++) {
        cand *c = &cs[i];
        ds_heap_lfh_subsegment *s = &l->subsegments[i];
        uint32_t fo = c->min_fo;
        if (!w7)
            key_fits(w, c, key, &fo, NULL);
        s->first_offset = fo;
        s->walked = true;
        for (uint32_t b = 0; b < c->count; b++) {
            uint64_t blk = c->ub + fo + (uint64_t)b * c->stride;
            uint8_t u = 0;
            if (w7) {
                if (unused_byte(w, blk, &u) != DS_MEM_OK) {
                    ds_heap_issue_add(w, DS_HEAP_ISSUE_NOT_IN_DUMP, blk,
                                      "LFH block not in the dump");
                    continue;
                }
                bool busy = u != 0x80;
                if (busy && (!(u & 0x80) || (u & 0x3f) > c->stride || (u & 0x3f) < w->lo->gran)) {
                    ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, blk,
                                      "LFH block UnusedBytes 0x%02x invalid", u);
                    continue;
                }
                add_block(w, blk, c->stride, busy, u);
                busy ? s->busy++ : s->free++;
            } else {
                bool busy = bit(c, b);
                if (busy)
                    unused_byte(w, blk, &u); /* checked by key_fits */
                add_block(w, blk, c->stride, busy, u);
                busy ? s->busy++ : s->free++;
            }
        }
        if (w7) {
            uint16_t depth = 0;
            if (ds_vmem_u16(&w->d->vm, c->ss + w->lo->ss_depth, &depth) == DS_MEM_OK &&
                depth != s->free)
                ds_heap_issue_add(w, DS_HEAP_ISSUE_LFH, c->ss,
                                  "subsegment Depth %u != %u free blocks walked", depth, s->free);
        }
        free(c->bitmap);
    }
    l->walked = true;
    free(cs);
}
