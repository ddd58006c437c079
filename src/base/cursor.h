/* Bounds-checked little-endian cursor over an immutable byte span. Internal to libdumpsleuth.
 * Every read checks the remaining length; a failed read sets `bad` and yields 0, so a parser can
 * read a whole structure and test `bad` once. Offsets are relative to `base_off` for messages. */
#ifndef DS_BASE_CURSOR_H
#define DS_BASE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ds_cursor {
    const uint8_t *p;  /* start of the span */
    uint64_t len;      /* length of the span */
    uint64_t pos;      /* current position within the span */
    uint64_t base_off; /* file offset (or address) of p[0], for diagnostics */
    bool bad;          /* a read went out of bounds */
} ds_cursor;

static inline ds_cursor ds_cur(const void *p, uint64_t len, uint64_t base_off)
{
    ds_cursor c = {(const uint8_t *)p, p ? len : 0, 0, base_off, false};
    return c;
}

/* A sub-cursor over [off, off+len) of c's span; bad (and empty) when out of bounds. */
static inline ds_cursor ds_cur_sub(const ds_cursor *c, uint64_t off, uint64_t len)
{
    ds_cursor r = {NULL, 0, 0, c->base_off + off, false};
    if (off > c->len || len > c->len - off) {
        r.bad = true;
        return r;
    }
    r.p = c->p + off;
    r.len = len;
    return r;
}

static inline bool ds_cur_has(const ds_cursor *c, uint64_t n)
{
    return c->pos <= c->len && n <= c->len - c->pos;
}
static inline uint64_t ds_cur_left(const ds_cursor *c)
{
    return c->pos <= c->len ? c->len - c->pos : 0;
}
static inline uint64_t ds_cur_off(const ds_cursor *c)
{
    return c->base_off + c->pos;
}
static inline bool ds_cur_seek(ds_cursor *c, uint64_t pos)
{
    if (pos > c->len) {
        c->bad = true;
        return false;
    }
    c->pos = pos;
    return true;
}
static inline bool ds_cur_skip(ds_cursor *c, uint64_t n)
{
    if (!ds_cur_has(c, n)) {
        c->bad = true;
        c->pos = c->len;
        return false;
    }
    c->pos += n;
    return true;
}
/* Pointer to the next n bytes (zero-copy), or NULL and bad. */
static inline const uint8_t *ds_cur_bytes(ds_cursor *c, uint64_t n)
{
    if (!ds_cur_has(c, n)) {
        c->bad = true;
        c->pos = c->len;
        return NULL;
    }
    const uint8_t *r = c->p + c->pos;
    c->pos += n;
    return r;
}
static inline bool ds_cur_copy(ds_cursor *c, void *dst, uint64_t n)
{
    const uint8_t *s = ds_cur_bytes(c, n);
    if (!s) {
        memset(dst, 0, (size_t)n);
        return false;
    }
    memcpy(dst, s, (size_t)n);
    return true;
}
static inline uint8_t ds_cur_u8(ds_cursor *c)
{
    const uint8_t *b = ds_cur_bytes(c, 1);
    return b ? b[0] : 0;
}
static inline uint16_t ds_cur_u16(ds_cursor *c)
{
    const uint8_t *b = ds_cur_bytes(c, 2);
    return b ? (uint16_t)(b[0] | (b[1] << 8)) : 0;
}
static inline uint32_t ds_cur_u32(ds_cursor *c)
{
    const uint8_t *b = ds_cur_bytes(c, 4);
    return b ? (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                   ((uint32_t)b[3] << 24)
             : 0;
}
static inline uint64_t ds_cur_u64(ds_cursor *c)
{
    uint64_t lo = ds_cur_u32(c);
    uint64_t hi = ds_cur_u32(c);
    return c->bad ? 0 : lo | (hi << 32);
}
/* Pointer-sized read: 4 or 8 bytes. */
static inline uint64_t ds_cur_ptr(ds_cursor *c, unsigned ptr_size)
{
    return ptr_size == 8 ? ds_cur_u64(c) : ds_cur_u32(c);
}

/* Little-endian loads from a raw pointer the caller has already bounds-checked. */
static inline uint16_t ds_le16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t ds_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline uint64_t ds_le64(const uint8_t *b)
{
    return (uint64_t)ds_le32(b) | ((uint64_t)ds_le32(b + 4) << 32);
}

/* Overflow-safe helpers. */
static inline bool ds_add_overflows(uint64_t a, uint64_t b)
{
    return a + b < a;
}
/* True when [off, off+len) lies within [0, total). */
static inline bool ds_in_bounds(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

#endif
