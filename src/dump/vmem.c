/* The memory view: a sorted range table over the mmap'ed dump (see include/dumpsleuth/vmem.h). */
#include "dumpsleuth/vmem.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void ds_vmem_init(ds_vmem *vm, const uint8_t *file, uint64_t file_size, unsigned ptr_size)
{
    memset(vm, 0, sizeof(*vm));
    vm->file = file;
    vm->file_size = file_size;
    vm->ptr_size = ptr_size == 4 ? 4 : 8;
}

void ds_vmem_free(ds_vmem *vm)
{
    free(vm->ranges);
    vm->ranges = NULL;
    vm->n = vm->cap = 0;
}

static bool push(ds_vmem *vm, uint64_t va, uint64_t size, uint32_t kind, uint64_t off, uint32_t src)
{
    ds_range r = {va, size, off, kind, src};
    return DS_PUSH(vm->ranges, vm->n, vm->cap, r);
}

bool ds_vmem_add(ds_vmem *vm, uint64_t va, uint64_t size, ds_range_kind kind, uint64_t file_off,
                 uint32_t src)
{
    if (size == 0)
        return true;
    if (va + size < va || va + size == 0) /* clip: the last byte of the space is not addressable */
        size = UINT64_MAX - va;
    if (size == 0)
        return true;
    if (kind != DS_RANGE_DATA)
        return push(vm, va, size, kind, file_off, src);
    uint64_t in_file = 0;
    if (file_off < vm->file_size)
        in_file = vm->file_size - file_off < size ? vm->file_size - file_off : size;
    if (in_file && !push(vm, va, in_file, DS_RANGE_DATA, file_off, src))
        return false;
    if (in_file < size)
        return push(vm, va + in_file, size - in_file, DS_RANGE_NOT_CAPTURED, 0, src);
    return true;
}

static int cmp_range(const void *a, const void *b)
{
    const ds_range *x = a, *y = b;
    if (x->va != y->va)
        return x->va < y->va ? -1 : 1;
    if (x->file_off != y->file_off) /* deterministic winner among equal starts */
        return x->file_off < y->file_off ? -1 : 1;
    return x->size < y->size ? 1 : (x->size > y->size ? -1 : 0);
}

static uint64_t rend(const ds_range *r)
{
    return r->va + r->size;
}

static int rank(uint32_t kind)
{
    return kind == DS_RANGE_DATA ? 0 : (kind == DS_RANGE_NOT_CAPTURED ? 2 : 1);
}

/* Trims overlaps inside one sorted list: the earlier range keeps the bytes. */
static uint64_t trim_sorted(ds_range *v, size_t *n)
{
    uint64_t dropped = 0, end = 0;
    size_t o = 0;
    bool have = false;
    for (size_t i = 0; i < *n; i++) {
        ds_range r = v[i];
        if (have && r.va < end) {
            uint64_t cut = end - r.va;
            if (cut >= r.size) {
                dropped += r.size;
                continue;
            }
            dropped += cut;
            r.va += cut;
            r.size -= cut;
            if (r.kind == DS_RANGE_DATA || r.kind == DS_RANGE_BACKEND)
                r.file_off += cut;
        }
        v[o++] = r;
        end = rend(&r);
        have = true;
    }
    *n = o;
    return dropped;
}

uint64_t ds_vmem_finish(ds_vmem *vm)
{
    uint64_t dropped = 0;
    if (vm->n == 0)
        return 0;
    /* Split by rank; each class sorted and trimmed (the lower start wins an overlap). */
    ds_range *cls[3] = {NULL, NULL, NULL};
    size_t cn[3] = {0, 0, 0}, cc[3] = {0, 0, 0};
    bool oom = false;
    for (size_t i = 0; i < vm->n && !oom; i++) {
        int k = rank(vm->ranges[i].kind);
        oom = !DS_PUSH(cls[k], cn[k], cc[k], vm->ranges[i]);
    }
    if (oom) {
        for (int k = 0; k < 3; k++)
            free(cls[k]);
        qsort(vm->ranges, vm->n, sizeof(ds_range), cmp_range);
        return trim_sorted(vm->ranges, &vm->n);
    }
    for (int k = 0; k < 3; k++) {
        if (cn[k])
            qsort(cls[k], cn[k], sizeof(ds_range), cmp_range);
        dropped += trim_sorted(cls[k], &cn[k]);
    }
    /* Result: class 0 as is; class 1 minus class 0; class 2 minus (0 and 1): a sweep that
     * subtracts the accepted (sorted, non-overlapping) ranges from each class in turn. */
    ds_range *acc = NULL; /* sorted, non-overlapping accepted ranges */
    size_t an = 0;
    for (int k = 0; k < 3 && !oom; k++) {
        ds_range *merged = NULL;
        size_t mn = 0, mc = 0;
        size_t a = 0;
        for (size_t i = 0; i < cn[k] && !oom; i++) {
            ds_range r = cls[k][i];
            uint64_t cur = r.va, end = rend(&r);
            while (a < an && rend(&acc[a]) <= cur)
                a++;
            size_t b = a;
            while (cur < end) {
                if (b < an && acc[b].va <= cur) {
                    uint64_t skip_to = rend(&acc[b]) < end ? rend(&acc[b]) : end;
                    dropped += skip_to - cur;
                    cur = skip_to;
                    b++;
                    continue;
                }
                uint64_t stop = (b < an && acc[b].va < end) ? acc[b].va : end;
                ds_range piece = r;
                piece.va = cur;
                piece.size = stop - cur;
                if (r.kind == DS_RANGE_DATA || r.kind == DS_RANGE_BACKEND)
                    piece.file_off = r.file_off + (cur - r.va);
                oom = !DS_PUSH(merged, mn, mc, piece);
                cur = stop;
            }
        }
        /* merge `merged` (sorted) into acc (sorted) */
        ds_range *nacc = malloc((an + mn + 1) * sizeof(ds_range));
        if (!nacc) {
            oom = true;
            free(merged);
            break;
        }
        size_t i = 0, j = 0, o = 0;
        while (i < an || j < mn) {
            if (j >= mn || (i < an && acc[i].va < merged[j].va))
                nacc[o++] = acc[i++];
            else
                nacc[o++] = merged[j++];
        }
        free(acc);
        free(merged);
        acc = nacc;
        an = o;
    }
    for (int k = 0; k < 3; k++)
        free(cls[k]);
    if (oom || !acc) {
        free(acc);
        qsort(vm->ranges, vm->n, sizeof(ds_range), cmp_range);
        return dropped + trim_sorted(vm->ranges, &vm->n);
    }
    /* Coalesce adjacent ranges that are contiguous in the file (Memory64List is sequential). */
    size_t o = 0;
    for (size_t i = 0; i < an; i++) {
        if (o > 0) {
            ds_range *p = &acc[o - 1];
            if (p->kind == acc[i].kind && rend(p) == acc[i].va &&
                ((p->kind == DS_RANGE_DATA && p->file_off + p->size == acc[i].file_off) ||
                 p->kind == DS_RANGE_NOT_CAPTURED || p->kind == DS_RANGE_ZERO)) {
                p->size += acc[i].size;
                continue;
            }
        }
        acc[o++] = acc[i];
    }
    free(vm->ranges);
    vm->ranges = acc;
    vm->n = o;
    vm->cap = an + 1;
    vm->last = 0;
    return dropped;
}

const ds_range *ds_vmem_find(ds_vmem *vm, uint64_t va, ds_mem_status *status)
{
    if (vm->n) {
        const ds_range *c = &vm->ranges[vm->last < vm->n ? vm->last : 0];
        if (va >= c->va && va - c->va < c->size) {
            if (status)
                *status = DS_MEM_OK;
            return c;
        }
        size_t lo = 0, hi = vm->n;
        while (lo < hi) { /* first range with va > addr */
            size_t mid = lo + (hi - lo) / 2;
            if (vm->ranges[mid].va <= va)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0) {
            const ds_range *r = &vm->ranges[lo - 1];
            if (va - r->va < r->size) {
                vm->last = lo - 1;
                if (status)
                    *status = DS_MEM_OK;
                return r;
            }
        }
    }
    if (status)
        *status = vm->has_map_info ? DS_MEM_NOT_MAPPED : DS_MEM_UNKNOWN;
    return NULL;
}

const ds_range *ds_vmem_next(const ds_vmem *vm, uint64_t va)
{
    size_t lo = 0, hi = vm->n;
    while (lo < hi) { /* first range with end > va */
        size_t mid = lo + (hi - lo) / 2;
        if (rend(&vm->ranges[mid]) <= va && rend(&vm->ranges[mid]) != 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vm->n ? &vm->ranges[lo] : NULL;
}

ds_mem_status ds_vmem_read(ds_vmem *vm, uint64_t va, void *buf, size_t len, size_t *got)
{
    size_t done = 0;
    ds_mem_status st = DS_MEM_OK;
    uint8_t *out = buf;
    while (done < len) {
        uint64_t a = va + done;
        if (a < va) { /* wrapped */
            st = DS_MEM_NOT_MAPPED;
            break;
        }
        const ds_range *r = ds_vmem_find(vm, a, &st);
        if (!r)
            break;
        uint64_t avail = r->size - (a - r->va);
        size_t n = (len - done) < avail ? len - done : (size_t)avail;
        if (r->kind == DS_RANGE_DATA) {
            memcpy(out + done, vm->file + r->file_off + (a - r->va), n);
        } else if (r->kind == DS_RANGE_ZERO) {
            memset(out + done, 0, n);
        } else if (r->kind == DS_RANGE_BACKEND && vm->backend) {
            size_t g = 0;
            int rc = vm->backend(vm->backend_ctx, a, out + done, n, &g);
            done += g;
            if (rc != 0 || g < n) {
                st = DS_MEM_ERROR;
                break;
            }
            continue;
        } else {
            st = DS_MEM_NOT_CAPTURED;
            break;
        }
        done += n;
    }
    if (got)
        *got = done;
    if (done == len)
        return DS_MEM_OK;
    return done ? DS_MEM_PARTIAL : st;
}

const uint8_t *ds_vmem_span(ds_vmem *vm, uint64_t va, size_t len)
{
    size_t avail = 0;
    const uint8_t *p = ds_vmem_span_max(vm, va, len, &avail);
    return (p && avail == len) ? p : NULL;
}

const uint8_t *ds_vmem_span_max(ds_vmem *vm, uint64_t va, size_t max, size_t *avail)
{
    *avail = 0;
    const ds_range *r = ds_vmem_find(vm, va, NULL);
    if (!r || r->kind != DS_RANGE_DATA)
        return NULL;
    uint64_t left = r->size - (va - r->va);
    *avail = max < left ? max : (size_t)left;
    return vm->file + r->file_off + (va - r->va);
}

#define READ_INT(fn, T, N)                                                                         \
    ds_mem_status fn(ds_vmem *vm, uint64_t va, T *out)                                             \
    {                                                                                              \
        uint8_t b[N];                                                                              \
        ds_mem_status s = ds_vmem_read(vm, va, b, N, NULL);                                        \
        T v = 0;                                                                                   \
        if (s == DS_MEM_OK)                                                                        \
            for (int i = N - 1; i >= 0; i--)                                                       \
                v = (T)((v << 8) | b[i]);                                                          \
        *out = v;                                                                                  \
        return s == DS_MEM_PARTIAL ? DS_MEM_NOT_CAPTURED : s;                                      \
    }
READ_INT(ds_vmem_u8, uint8_t, 1)
READ_INT(ds_vmem_u16, uint16_t, 2)
READ_INT(ds_vmem_u32, uint32_t, 4)
READ_INT(ds_vmem_u64, uint64_t, 8)

ds_mem_status ds_vmem_ptr_sized(ds_vmem *vm, uint64_t va, unsigned ptr_size, uint64_t *out)
{
    if (ptr_size == 4) {
        uint32_t v;
        ds_mem_status s = ds_vmem_u32(vm, va, &v);
        *out = v;
        return s;
    }
    return ds_vmem_u64(vm, va, out);
}

ds_mem_status ds_vmem_ptr(ds_vmem *vm, uint64_t va, uint64_t *out)
{
    return ds_vmem_ptr_sized(vm, va, vm->ptr_size, out);
}

ds_mem_status ds_vmem_cstr(ds_vmem *vm, uint64_t va, char *out, size_t max)
{
    if (!max)
        return DS_MEM_ERROR;
    size_t o = 0;
    ds_mem_status st = DS_MEM_OK;
    while (o + 1 < max) {
        uint8_t c;
        st = ds_vmem_u8(vm, va + o, &c);
        if (st != DS_MEM_OK)
            break;
        if (c == 0) {
            out[o] = 0;
            return DS_MEM_OK;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return st == DS_MEM_OK ? DS_MEM_PARTIAL : st;
}

ds_mem_status ds_vmem_wstr(ds_vmem *vm, uint64_t va, size_t max_chars, char *out, size_t max)
{
    if (!max)
        return DS_MEM_ERROR;
    out[0] = 0;
    size_t n = 0;
    ds_mem_status st = DS_MEM_OK;
    bool term = false;
    while (n < max_chars) {
        uint16_t u;
        st = ds_vmem_u16(vm, va + 2 * n, &u);
        if (st != DS_MEM_OK)
            break;
        if (u == 0) {
            term = true;
            break;
        }
        n++;
    }
    if (n) {
        uint8_t *tmp = malloc(n * 2);
        if (!tmp)
            return DS_MEM_ERROR;
        ds_vmem_read(vm, va, tmp, n * 2, NULL);
        ds_utf16le_to_utf8(tmp, n, out, max);
        free(tmp);
    }
    if (term)
        return DS_MEM_OK;
    return st == DS_MEM_OK ? DS_MEM_PARTIAL : st;
}

uint64_t ds_vmem_bytes(const ds_vmem *vm, ds_range_kind kind)
{
    uint64_t t = 0;
    for (size_t i = 0; i < vm->n; i++)
        if (vm->ranges[i].kind == (uint32_t)kind)
            t += vm->ranges[i].size;
    return t;
}

const char *ds_mem_status_str(ds_mem_status s)
{
    switch (s) {
    case DS_MEM_OK:
        return "ok";
    case DS_MEM_PARTIAL:
        return "partially in the dump";
    case DS_MEM_NOT_CAPTURED:
        return "mapped but not captured in the dump";
    case DS_MEM_NOT_MAPPED:
        return "not mapped in the process";
    case DS_MEM_UNKNOWN:
        return "not in the dump";
    case DS_MEM_ERROR:
        return "read error";
    }
    return "?";
}
