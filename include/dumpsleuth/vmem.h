/* dumpsleuth: the memory view. One address space for every dump format.
 *
 * A view is a sorted table of non-overlapping ranges. Each range says where the bytes of
 * [va, va+size) are: in the mmap'ed dump file (DATA, zero-copy), known to be mapped in the process
 * but not captured (NOT_CAPTURED), known to be zero-filled (ZERO), or served by a backend callback
 * (BACKEND, e.g. libkdumpfile). Addresses outside every range are NOT_MAPPED when the dump says
 * which memory was mapped (has_map_info), otherwise UNKNOWN ("not in the dump").
 * The very last byte of the 64-bit space (0xffffffffffffffff) is never addressable. */
#ifndef DUMPSLEUTH_VMEM_H
#define DUMPSLEUTH_VMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_range_kind {
    DS_RANGE_DATA = 0,         /* bytes are at file offset `file_off` of the dump */
    DS_RANGE_NOT_CAPTURED = 1, /* mapped in the process, bytes not in the dump */
    DS_RANGE_ZERO = 2,         /* mapped, known to read as zeros */
    DS_RANGE_BACKEND = 3       /* read through the view's backend callback */
} ds_range_kind;

typedef struct ds_range {
    uint64_t va;
    uint64_t size;
    uint64_t file_off; /* DATA: offset in the file; BACKEND: backend-specific */
    uint32_t kind;     /* ds_range_kind */
    uint32_t src;      /* index of the describing record in the reader (for messages) */
} ds_range;

/* Result of a lookup or a read. */
typedef enum ds_mem_status {
    DS_MEM_OK = 0,      /* all bytes read */
    DS_MEM_PARTIAL = 1, /* a prefix was read; see `got` and the status of the first missing byte */
    DS_MEM_NOT_CAPTURED = 2, /* mapped, but not in the dump */
    DS_MEM_NOT_MAPPED = 3,   /* known not to be mapped in the process */
    DS_MEM_UNKNOWN = 4,      /* not in the dump; the dump does not say whether it was mapped */
    DS_MEM_ERROR = 5         /* backend read error */
} ds_mem_status;

typedef int (*ds_backend_read_fn)(void *ctx, uint64_t va, void *buf, size_t len, size_t *got);

typedef struct ds_vmem {
    ds_range *ranges; /* sorted by va, non-overlapping */
    size_t n, cap;
    const uint8_t *file; /* the mapped dump */
    uint64_t file_size;
    unsigned ptr_size; /* 4 or 8 */
    bool has_map_info; /* true: addresses outside all ranges are known unmapped */
    ds_backend_read_fn backend;
    void *backend_ctx;
    size_t last; /* lookup cache (index of the last hit) */
} ds_vmem;

void ds_vmem_init(ds_vmem *vm, const uint8_t *file, uint64_t file_size, unsigned ptr_size);
void ds_vmem_free(ds_vmem *vm);
/* Adds a range (any order). DATA ranges whose bytes fall outside the file are clipped to what is
 * in the file; the clipped rest becomes NOT_CAPTURED. Returns false only when out of memory. */
bool ds_vmem_add(ds_vmem *vm, uint64_t va, uint64_t size, ds_range_kind kind, uint64_t file_off,
                 uint32_t src);
/* Sorts and resolves overlaps (within a kind the range that starts lower keeps
 * the bytes, equal starts: the lower file offset; DATA wins over ZERO/BACKEND, which win over
 * NOT_CAPTURED).
 * Returns the number of overlapping bytes that were dropped. Must be called after the last add. */
uint64_t ds_vmem_finish(ds_vmem *vm);

/* The range containing va, or NULL (then *status says NOT_MAPPED or UNKNOWN). Binary search. */
const ds_range *ds_vmem_find(ds_vmem *vm, uint64_t va, ds_mem_status *status);
/* The first range with va_end > va (for iteration), or NULL. */
const ds_range *ds_vmem_next(const ds_vmem *vm, uint64_t va);

/* Copies up to len bytes at va into buf. *got (may be NULL) receives how many were copied.
 * Reads across adjacent ranges. DS_MEM_OK only when all len bytes were copied. */
ds_mem_status ds_vmem_read(ds_vmem *vm, uint64_t va, void *buf, size_t len, size_t *got);
/* Zero-copy: a pointer to len bytes at va when they are contiguous in the file, else NULL. */
const uint8_t *ds_vmem_span(ds_vmem *vm, uint64_t va, size_t len);
/* Zero-copy: the longest contiguous file-backed run at va (up to max), *avail = its length. */
const uint8_t *ds_vmem_span_max(ds_vmem *vm, uint64_t va, size_t max, size_t *avail);

ds_mem_status ds_vmem_u8(ds_vmem *vm, uint64_t va, uint8_t *out);
ds_mem_status ds_vmem_u16(ds_vmem *vm, uint64_t va, uint16_t *out);
ds_mem_status ds_vmem_u32(ds_vmem *vm, uint64_t va, uint32_t *out);
ds_mem_status ds_vmem_u64(ds_vmem *vm, uint64_t va, uint64_t *out);
/* Pointer-size aware (ptr_size of the view, or explicit 4/8). */
ds_mem_status ds_vmem_ptr(ds_vmem *vm, uint64_t va, uint64_t *out);
ds_mem_status ds_vmem_ptr_sized(ds_vmem *vm, uint64_t va, unsigned ptr_size, uint64_t *out);
/* Reads a NUL-terminated string of at most max-1 bytes (ASCII/UTF-8) or UTF-16LE (converted to
 * UTF-8) into out. Returns DS_MEM_OK when a terminator was found. */
ds_mem_status ds_vmem_cstr(ds_vmem *vm, uint64_t va, char *out, size_t max);
ds_mem_status ds_vmem_wstr(ds_vmem *vm, uint64_t va, size_t max_chars, char *out, size_t max);

/* Total bytes per kind (for info). */
uint64_t ds_vmem_bytes(const ds_vmem *vm, ds_range_kind kind);
const char *ds_mem_status_str(ds_mem_status s);

#ifdef __cplusplus
}
#endif
#endif
