/* Memory extraction (= WinDbg .writemem): see include/dumpsleuth/search.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "dumpsleuth/search.h"

/* Bytes of [base, base+size) that are in the dump (DATA, ZERO or BACKEND ranges). */
static uint64_t captured_bytes(ds_vmem *vm, uint64_t base, uint64_t size)
{
    uint64_t end = base + size < base ? UINT64_MAX : base + size, cur = base, got = 0;
    while (cur < end) {
        const ds_range *r = ds_vmem_next(vm, cur);
        if (!r || r->va >= end)
            break;
        if (r->va > cur)
            cur = r->va;
        uint64_t re = r->va + r->size, stop = re < end ? re : end;
        if (r->kind != DS_RANGE_NOT_CAPTURED)
            got += stop - cur;
        cur = stop;
        if (stop == UINT64_MAX)
            break;
    }
    return got;
}

bool ds_extract_add(ds_dump *d, ds_extract_plan *pl, uint64_t base, uint64_t size, size_t region)
{
    ds_extract_item it;
    memset(&it, 0, sizeof it);
    if (base + size < base)
        size = UINT64_MAX - base;
    it.base = base;
    it.size = size;
    it.region = region;
    it.captured = captured_bytes(&d->vm, base, size);
    it.uncaptured = size - it.captured;
    snprintf(it.file, sizeof it.file, "%016" PRIx64 "-%016" PRIx64 ".bin", base, base + size);
    if (!DS_PUSH(pl->v, pl->n, pl->cap, it))
        return false;
    pl->total += size;
    pl->captured += it.captured;
    return true;
}

int ds_extract_write(ds_dump *d, uint64_t base, uint64_t size, uint8_t fill, FILE *f,
                     uint64_t *captured)
{
    enum { BUF = 1 << 16 };
    uint8_t fillbuf[BUF];
    memset(fillbuf, fill, sizeof fillbuf);
    ds_vmem *vm = &d->vm;
    uint64_t end = base + size, cur = base, got = 0;
    uint8_t *tmp = NULL;
    int err = 0;
    while (cur < end && !err) {
        const ds_range *r = ds_vmem_next(vm, cur);
        uint64_t stop = end;
        const uint8_t *src = NULL;
        size_t n;
        if (r && r->va <= cur) { /* inside a range */
            uint64_t re = r->va + r->size;
            stop = re < end ? re : end;
            uint64_t want = stop - cur;
            n = want < BUF ? (size_t)want : BUF;
            if (r->kind == DS_RANGE_DATA) {
                size_t avail = 0;
                src = ds_vmem_span_max(vm, cur, n, &avail);
                n = src ? avail : n;
            } else if (r->kind == DS_RANGE_ZERO || r->kind == DS_RANGE_BACKEND) {
                if (!tmp && !(tmp = malloc(BUF))) {
                    err = ENOMEM;
                    break;
                }
                size_t g = 0;
                if (r->kind == DS_RANGE_ZERO) {
                    memset(tmp, 0, n);
                    g = n;
                } else {
                    ds_vmem_read(vm, cur, tmp, n, &g);
                }
                if (g) {
                    src = tmp;
                    n = g;
                } else {
                    n = 1; /* unreadable byte: fill it and move on */
                }
            }
        } else { /* a hole up to the next range */
            if (r && r->va < end)
                stop = r->va;
            uint64_t want = stop - cur;
            n = want < BUF ? (size_t)want : BUF;
        }
        if (n == 0)
            n = 1;
        if (fwrite(src ? src : fillbuf, 1, n, f) != n)
            err = errno ? errno : EIO;
        if (src)
            got += n;
        cur += n;
    }
    free(tmp);
    if (captured)
        *captured = got;
    return err;
}

void ds_extract_plan_free(ds_extract_plan *pl)
{
    free(pl->v);
    memset(pl, 0, sizeof *pl);
}
