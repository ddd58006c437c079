/* Segment heap (_SEGMENT_HEAP, Windows 10+), nt-heap.md §5: a summary from the heap's counters and
 * the large blocks from the LargeAllocMetadata tree when its links are plain. The structure changed
 * several times; only the builds with a public layout are summarised. Page segments and VS/LFH
 * blocks are not walked: their signatures and links are encoded with ntdll!RtlpHpHeapGlobals, which
 * is not in the dump's data. */
#include "heap/heap_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"

typedef struct seg_layout {
    uint32_t large_meta; /* LargeAllocMetadata (_RTL_RB_TREE: Root, Min | Encoded bit 0) */
    uint32_t global_flags;
    int64_t memstats; /* -1: TotalReserved/Committed pages at +0 / +8 of the heap itself */
    uint32_t large_reserved, large_committed;
    uint32_t seg_contexts, seg_context_size, seg_count; /* seg_contexts 0: one count at seg_count */
    const char *name;
} seg_layout;

/* 14393..17134 x64 [S2]; 1809 x86 [S3]; 18362/19041 x86 and x64 [S1] (Windows 11: inferred) */
static const seg_layout SEG64_10B = {0x38, 0x14, -1, 0x48, 0x50, 0, 0, 0x70, "10 14393-17134 x64"};
static const seg_layout SEG32_1809 = {0x50, 0x0c, 0x10, 0x58,         0x5c,
                                      0x60, 0x50, 0x1c, "10 1809 x86"};
static const seg_layout SEG32_19H1 = {0x44,  0x0c, 0x80, 0x4c,           0x50,
                                      0x100, 0x80, 0x4c, "10 18362+ x86"};
static const seg_layout SEG64_19H1 = {
    0x48, 0x14, 0x80, 0x58, 0x60, 0x100, 0xc0, 0x58, "10 18362+ / 11 x64"};

static const seg_layout *pick(unsigned ps, uint32_t build)
{
    if (ps == 8) {
        if (build >= 14393 && build <= 17134)
            return &SEG64_10B;
        if (build >= 18362)
            return &SEG64_19H1;
        return NULL;
    }
    if (build == 17763)
        return &SEG32_1809;
    if (build >= 18362)
        return &SEG32_19H1;
    return NULL;
}

#define MAX_LARGE (1u << 20)
#define MAX_DEPTH 96 /* a red-black tree of 2^32 nodes is at most 64 deep */

/* In-order walk of the LargeAllocMetadata tree (nt-heap.md §5: _HEAP_LARGE_ALLOC_DATA = TreeNode
 * {Left, Right, ParentValue}, VirtualAddress at 3*ps with UnusedBytes in its low 16 bits, then
 * AllocatedPages in the bits above 12 of the next pointer-sized field). Bounded by depth and node
 * count; the addresses must increase strictly (a search tree keyed by address), which also rules
 * out a node being visited twice. */
static void walk_large(ds_dump *d, ds_heap *h, const seg_layout *lo, unsigned ps)
{
    ds_heap_segheap *s = &h->seg;
    ds_vmem *vm = &d->vm;
    ds_heap_walk w;
    memset(&w, 0, sizeof w);
    w.d = d;
    w.h = h;
    uint64_t root = 0, min = 0;
    uint64_t tree = h->addr + lo->large_meta;
    if (ds_vmem_ptr_sized(vm, tree, ps, &root) != DS_MEM_OK ||
        ds_vmem_ptr_sized(vm, tree + ps, ps, &min) != DS_MEM_OK) {
        snprintf(s->large_why, sizeof s->large_why, "LargeAllocMetadata not in the dump");
        ds_heap_issue_add(&w, DS_HEAP_ISSUE_NOT_IN_DUMP, tree,
                          "LargeAllocMetadata not in the dump");
        return;
    }
    if (min & 1) {
        snprintf(s->large_why, sizeof s->large_why,
                 "large-block tree links are encoded (key not in the dump): not walked");
        return;
    }
    uint64_t stack[MAX_DEPTH];
    size_t sp = 0, cap = 0;
    uint64_t cur = root, last = 0;
    bool first = true;
    while (cur || sp) {
        while (cur) {
            if (sp == MAX_DEPTH) {
                snprintf(s->large_why, sizeof s->large_why, "large-block tree deeper than %u",
                         MAX_DEPTH);
                ds_heap_issue_add(&w, DS_HEAP_ISSUE_LIST_CYCLE, cur,
                                  "large-block tree deeper than %u (a loop?)", MAX_DEPTH);
                return;
            }
            stack[sp++] = cur;
            if (ds_vmem_ptr_sized(vm, cur, ps, &cur) != DS_MEM_OK) {
                snprintf(s->large_why, sizeof s->large_why,
                         "a large-block node is not in the dump");
                ds_heap_issue_add(&w, DS_HEAP_ISSUE_NOT_IN_DUMP, stack[sp - 1],
                                  "large-block node not in the dump");
                return;
            }
        }
        uint64_t node = stack[--sp], va = 0, bits = 0;
        if (ds_vmem_ptr_sized(vm, node + 3ull * ps, ps, &va) != DS_MEM_OK ||
            ds_vmem_ptr_sized(vm, node + 4ull * ps, ps, &bits) != DS_MEM_OK ||
            ds_vmem_ptr_sized(vm, node + ps, ps, &cur) != DS_MEM_OK) {
            snprintf(s->large_why, sizeof s->large_why, "a large-block node is not in the dump");
            ds_heap_issue_add(&w, DS_HEAP_ISSUE_NOT_IN_DUMP, node,
                              "large-block node not in the dump");
            return;
        }
        ds_heap_large_block b;
        b.addr = va & ~0xffffull;
        b.unused = (uint32_t)(va & 0xffff);
        b.allocated_pages = bits >> 12;
        if ((!first && b.addr <= last) || !b.addr || b.allocated_pages << 12 < b.unused ||
            s->nlarge >= MAX_LARGE) {
            snprintf(s->large_why, sizeof s->large_why,
                     "large-block tree inconsistent at node 0x%llx", (unsigned long long)node);
            ds_heap_issue_add(&w, DS_HEAP_ISSUE_LIST_LINK, node,
                              "large-block tree: node 0x%llx out of order or impossible",
                              (unsigned long long)node);
            return;
        }
        b.user_size = (b.allocated_pages << 12) - b.unused;
        if (!DS_PUSH(s->large_blocks, s->nlarge, cap, b))
            return;
        first = false;
        last = b.addr;
    }
    s->large_walked = true;
}

void ds_heap_segheap_summary(ds_dump *d, ds_heap *h, unsigned ps, uint32_t build)
{
    ds_heap_segheap *s = &h->seg;
    ds_vmem *vm = &d->vm;
    h->granularity = ps == 8 ? 16 : 8;
    const seg_layout *lo = pick(ps, build);
    if (!lo) {
        snprintf(h->layout_name, sizeof h->layout_name, "segment heap (no layout)");
        snprintf(s->not_walked, sizeof s->not_walked,
                 "no public _SEGMENT_HEAP layout for build %u %s: not summarised, not walked",
                 build, ps == 8 ? "x64" : "x86");
        return;
    }
    snprintf(h->layout_name, sizeof h->layout_name, "segment heap %s (built-in)", lo->name);
    uint64_t v[4] = {0, 0, 0, 0}, lr = 0, lc = 0;
    ds_vmem_u32(vm, h->addr + lo->global_flags, &s->global_flags);
    if (lo->memstats < 0) {
        ds_vmem_ptr_sized(vm, h->addr + 0, ps, &v[0]);
        ds_vmem_ptr_sized(vm, h->addr + 8, ps, &v[1]);
    } else {
        for (unsigned i = 0; i < 4; i++)
            ds_vmem_ptr_sized(vm, h->addr + (uint64_t)lo->memstats + i * ps, ps, &v[i]);
    }
    ds_vmem_ptr_sized(vm, h->addr + lo->large_reserved, ps, &lr);
    ds_vmem_ptr_sized(vm, h->addr + lo->large_committed, ps, &lc);
    s->reserved = v[0] << 12;
    s->committed = v[1] << 12;
    s->free_committed = v[2] << 12;
    s->lfh_free_committed = v[3] << 12;
    s->large_reserved = lr << 12;
    s->large_committed = lc << 12;
    if (lo->seg_contexts) {
        for (unsigned i = 0; i < 2; i++)
            ds_vmem_u32(vm, h->addr + lo->seg_contexts + i * lo->seg_context_size + lo->seg_count,
                        &s->segment_count[i]);
    } else {
        ds_vmem_u32(vm, h->addr + lo->seg_count, &s->segment_count[0]);
    }
    walk_large(d, h, lo, ps);
    snprintf(s->not_walked, sizeof s->not_walked,
             "summary from the heap's counters; page segments and VS/LFH blocks are not walked "
             "(their signatures and links are encoded with an ntdll key)");
}
