/* Memory search over the whole dump (see include/dumpsleuth/search.h). */
#include "dumpsleuth/search.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---------------------------------------------------------------- numbers and ranges */

bool ds_parse_hex_number(const char *s, uint64_t *out)
{
    if (!s)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    int base = 16;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    else if (s[0] == '0' && (s[1] == 'n' || s[1] == 'N'))
        base = 10, s += 2;
    uint64_t v = 0;
    bool any = false;
    for (; *s; s++) {
        if (*s == '`')
            continue;
        int dv;
        if (*s >= '0' && *s <= '9')
            dv = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            dv = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            dv = *s - 'A' + 10;
        else
            break;
        if (v > (UINT64_MAX - (uint64_t)dv) / (uint64_t)base)
            return false; /* overflow */
        v = v * (uint64_t)base + (uint64_t)dv;
        any = true;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (!any || *s)
        return false;
    *out = v;
    return true;
}

/* Parses a number at *p (stops at the first non-digit); advances *p. */
static bool number_prefix(const char **p, uint64_t *out)
{
    const char *s = *p;
    const char *e = s;
    if (e[0] == '0' && (e[1] == 'x' || e[1] == 'X' || e[1] == 'n' || e[1] == 'N'))
        e += 2;
    while (*e && (isxdigit((unsigned char)*e) || *e == '`'))
        e++;
    char buf[64];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (!ds_parse_hex_number(buf, out))
        return false;
    *p = e;
    return true;
}

bool ds_parse_range(const char *s, uint64_t *start, uint64_t *end_excl, char *err, size_t errsz)
{
    const char *p = s;
    uint64_t a, b;
    while (*p == ' ')
        p++;
    if (!number_prefix(&p, &a)) {
        snprintf(err, errsz, "range '%s': no start address", s);
        return false;
    }
    while (*p == ' ')
        p++;
    if (*p == 'L' || *p == 'l') { /* ADDR LLEN / ADDR L?LEN (lengths in bytes) */
        p++;
        if (*p == '?')
            p++;
        if (!number_prefix(&p, &b) || *p) {
            snprintf(err, errsz, "range '%s': bad length after L", s);
            return false;
        }
        if (b == 0) {
            snprintf(err, errsz, "range '%s': length 0", s);
            return false;
        }
        *start = a;
        *end_excl = (a + b < a || a + b == 0) ? UINT64_MAX : a + b;
        return true;
    }
    bool incl = true; /* WinDbg's "ADDR END" includes END */
    if (*p == '-') {
        incl = false;
        p++;
        while (*p == ' ')
            p++;
    }
    if (!number_prefix(&p, &b) || *p) {
        snprintf(err, errsz, "range '%s': expected ADDR LLEN, ADDR L?LEN, ADDR-END or ADDR END", s);
        return false;
    }
    if (incl)
        b = b == UINT64_MAX ? UINT64_MAX : b + 1;
    if (b <= a) {
        snprintf(err, errsz, "range '%s': end is not above start", s);
        return false;
    }
    *start = a;
    *end_excl = b;
    return true;
}

/* ---------------------------------------------------------------- patterns */

static void set_exact(ds_pattern *p, size_t i, uint8_t b)
{
    p->lo[i] = p->hi[i] = b;
    p->any[i] = false;
}

static void set_text_byte(ds_pattern *p, size_t i, uint8_t b)
{
    if (p->nocase && isalpha(b) && b < 0x80) {
        p->lo[i] = (uint8_t)tolower(b);
        p->hi[i] = (uint8_t)toupper(b);
        p->any[i] = false;
    } else {
        set_exact(p, i, b);
    }
}

/* Decodes one UTF-8 sequence; returns bytes used (0 = invalid). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!n)
        return 0;
    uint32_t v = s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return (size_t)n;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool compile_bytes(ds_pattern *p, const char *arg, char *err, size_t errsz)
{
    const char *s = arg;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != ' ' && *e != ',' && *e != '\t')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 1) { /* "0" "a" "?" */
            if (p->len >= DS_PATTERN_MAX)
                goto toolong;
            if (*s == '?')
                p->any[p->len++] = true;
            else if (hexval(*s) >= 0)
                set_exact(p, p->len++, (uint8_t)hexval(*s));
            else
                goto bad;
        } else {
            if (n % 2)
                goto bad;
            for (size_t i = 0; i < n; i += 2) {
                if (p->len >= DS_PATTERN_MAX)
                    goto toolong;
                if (s[i] == '?' && s[i + 1] == '?') {
                    p->any[p->len++] = true;
                    continue;
                }
                int h = hexval(s[i]), l = hexval(s[i + 1]);
                if (h < 0 || l < 0)
                    goto bad;
                set_exact(p, p->len++, (uint8_t)(h << 4 | l));
            }
        }
        s = e;
        continue;
    bad:
        snprintf(err, errsz, "bad byte '%.*s' in -b pattern (hex bytes like '4d 5a ?? 00')",
                 (int)(n > 20 ? 20 : n), s);
        return false;
    }
    return true;
toolong:
    snprintf(err, errsz, "pattern longer than %d bytes", DS_PATTERN_MAX);
    return false;
}

bool ds_pattern_compile(ds_pattern *p, ds_pattern_kind kind, const char *arg, bool nocase,
                        unsigned ptr_size, char *err, size_t errsz)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->nocase = nocase;
    p->align = 1;
    snprintf(p->text, sizeof p->text, "%s", arg ? arg : "");
    if (!arg) {
        snprintf(err, errsz, "no pattern");
        return false;
    }
    if (nocase && kind != DS_PAT_ASCII && kind != DS_PAT_UTF16) {
        snprintf(err, errsz, "-i (case-insensitive) works with -a and -u only");
        return false;
    }
    size_t alen = strlen(arg);
    switch (kind) {
    case DS_PAT_ASCII:
        if (alen > DS_PATTERN_MAX) {
            snprintf(err, errsz, "pattern longer than %d bytes", DS_PATTERN_MAX);
            return false;
        }
        for (size_t i = 0; i < alen; i++)
            set_text_byte(p, i, (uint8_t)arg[i]);
        p->len = alen;
        break;
    case DS_PAT_UTF16: {
        const unsigned char *s = (const unsigned char *)arg;
        while (*s) {
            uint32_t cp;
            size_t used = utf8_decode(s, &cp);
            if (!used) {
                snprintf(err, errsz, "-u text is not valid UTF-8");
                return false;
            }
            s += used;
            uint16_t u[2];
            int nu = 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                u[0] = (uint16_t)(0xd800 | (cp >> 10));
                u[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
                nu = 2;
            } else {
                u[0] = (uint16_t)cp;
            }
            for (int k = 0; k < nu; k++) {
                if (p->len + 2 > DS_PATTERN_MAX) {
                    snprintf(err, errsz, "pattern longer than %d bytes", DS_PATTERN_MAX);
                    return false;
                }
                if (u[k] < 0x80)
                    set_text_byte(p, p->len, (uint8_t)u[k]);
                else
                    set_exact(p, p->len, (uint8_t)(u[k] & 0xff));
                set_exact(p, p->len + 1, (uint8_t)(u[k] >> 8));
                p->len += 2;
            }
        }
        break;
    }
    case DS_PAT_BYTES:
        if (!compile_bytes(p, arg, err, errsz))
            return false;
        break;
    case DS_PAT_U16:
    case DS_PAT_U32:
    case DS_PAT_U64:
    case DS_PAT_PTR: {
        unsigned n = kind == DS_PAT_U16   ? 2
                     : kind == DS_PAT_U32 ? 4
                     : kind == DS_PAT_U64 ? 8
                                          : (ptr_size == 4 ? 4 : 8);
        uint64_t v;
        if (!ds_parse_hex_number(arg, &v)) {
            snprintf(err, errsz, "'%s' is not a number (hex by default, 0n for decimal)", arg);
            return false;
        }
        if (n < 8 && v >> (8 * n)) {
            snprintf(err, errsz, "value %s does not fit in %u bytes", arg, n);
            return false;
        }
        p->value = v;
        for (unsigned i = 0; i < n; i++)
            set_exact(p, i, (uint8_t)(v >> (8 * i)));
        p->len = n;
        break;
    }
    }
    if (p->len == 0) {
        snprintf(err, errsz, "empty pattern");
        return false;
    }
    bool wild = false, fold = false;
    for (size_t i = 0; i < p->len; i++) {
        wild |= p->any[i];
        fold |= !p->any[i] && p->lo[i] != p->hi[i];
    }
    if (wild) {
        bool all = true;
        for (size_t i = 0; i < p->len; i++)
            all &= p->any[i];
        if (all) {
            snprintf(err, errsz, "a pattern of wildcards only matches everywhere");
            return false;
        }
    }
    p->literal = !wild && !fold;
    /* anchor: longest run of exact bytes */
    size_t best = 0, best_len = 0, run = 0;
    for (size_t i = 0; i <= p->len; i++) {
        bool exact = i < p->len && !p->any[i] && p->lo[i] == p->hi[i];
        if (exact) {
            run++;
        } else {
            if (run > best_len) {
                best_len = run;
                best = i - run;
            }
            run = 0;
        }
    }
    p->anchor = best;
    p->anchor_len = best_len;
    return true;
}

/* ---------------------------------------------------------------- matching */

static inline bool match_at(const ds_pattern *p, const uint8_t *q)
{
    for (size_t i = 0; i < p->len; i++)
        if (!p->any[i] && q[i] != p->lo[i] && q[i] != p->hi[i])
            return false;
    return true;
}

typedef struct scanner {
    ds_vmem *vm;
    const ds_pattern *p;
    ds_search_result *out;
    const ds_region_map *map;
    size_t cursor;
    uint8_t tail[DS_PATTERN_MAX];
    size_t ntail;
    uint64_t tail_end; /* VA just after the tail */
    uint8_t seam[2 * DS_PATTERN_MAX];
    uint8_t *chunk; /* backend reads */
    bool oom;
    /* batch mode: the scanned buffer is file bytes [bfs, ...) spanning ranges bv[0..bn) that are
     * contiguous in the file (Memory64List data is sequential); hits are file offsets relative to
     * bfs and are translated to addresses; a hit that crosses a gap in the address space between
     * two ranges is dropped. */
    const ds_range *bv;
    size_t bn, bk;
    uint64_t bfs;
} scanner;

static size_t region_of(scanner *s, uint64_t a)
{
    const ds_region_map *m = s->map;
    if (!m || !m->n)
        return SIZE_MAX;
    size_t c = s->cursor < m->n ? s->cursor : 0;
    if (a < m->v[c].base) { /* out of order: binary search */
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (m->v[mid].base <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        c = lo ? lo - 1 : 0;
    }
    while (c + 1 < m->n && m->v[c + 1].base <= a)
        c++;
    s->cursor = c;
    const ds_class_region *cr = &m->v[c];
    return (a >= cr->base && a - cr->base < cr->size) ? c : SIZE_MAX;
}

/* Batch mode: file offset (relative to bfs) -> address; false when the match crosses a gap. */
static bool batch_va(scanner *s, uint64_t rel, uint64_t *va)
{
    uint64_t o = s->bfs + rel;
    while (s->bk + 1 < s->bn && o >= s->bv[s->bk + 1].file_off)
        s->bk++;
    const ds_range *r = &s->bv[s->bk];
    *va = r->va + (o - r->file_off);
    uint64_t e = o + s->p->len;
    for (size_t k = s->bk; k + 1 < s->bn && e > s->bv[k].file_off + s->bv[k].size; k++)
        if (s->bv[k].va + s->bv[k].size != s->bv[k + 1].va)
            return false;
    return true;
}

static void emit(scanner *s, uint64_t a)
{
    ds_search_result *o = s->out;
    if (s->bv && !batch_va(s, a, &a))
        return;
    if (s->p->align > 1 && a % s->p->align)
        return;
    o->total++;
    size_t r = region_of(s, a);
    if (r == SIZE_MAX)
        o->outside++;
    else if (o->region_hits)
        o->region_hits[r]++;
    if (o->nhits < o->max_hits) {
        ds_search_hit h = {a, r};
        if (!DS_PUSH(o->hits, o->nhits, o->hits_cap, h))
            s->oom = true;
    }
}

/* Reports every match starting in [from, to] (to >= from) of buf; buf[0] is at address va. */
static void scan_window(scanner *s, const uint8_t *buf, size_t from, size_t last, uint64_t va)
{
    const ds_pattern *p = s->p;
    size_t L = p->len;
    size_t pos = from;
    if (p->literal) {
        while (pos <= last) {
            const uint8_t *q;
            if (L == 1)
                q = memchr(buf + pos, p->lo[0], last - pos + 1);
            else
                q = memmem(buf + pos, last - pos + L, p->lo, L);
            if (!q)
                return;
            size_t at = (size_t)(q - buf);
            emit(s, va + at);
            pos = at + 1;
        }
        return;
    }
    if (p->anchor_len) {
        size_t A = p->anchor, AL = p->anchor_len;
        while (pos <= last) {
            const uint8_t *hay = buf + pos + A;
            size_t hn = last - pos + AL;
            const uint8_t *q = AL == 1 ? memchr(hay, p->lo[A], hn) : memmem(hay, hn, p->lo + A, AL);
            if (!q)
                return;
            size_t at = (size_t)(q - buf) - A;
            if (match_at(p, buf + at))
                emit(s, va + at);
            pos = at + 1;
        }
        return;
    }
    /* no exact byte: the first non-wildcard position has two alternatives (case folding) */
    size_t A = 0;
    while (A < L && p->any[A])
        A++;
    uint8_t c1 = p->lo[A], c2 = p->hi[A];
    const uint8_t *end = buf + last + A + 1; /* anchor candidates in [buf+pos+A, end) */
    const uint8_t *n1 = NULL, *n2 = NULL;
    const uint8_t *cur = buf + pos + A;
    bool d1 = false, d2 = false; /* exhausted */
    while (cur < end) {
        if (!d1 && (!n1 || n1 < cur)) {
            n1 = memchr(cur, c1, (size_t)(end - cur));
            d1 = !n1;
        }
        if (!d2 && (!n2 || n2 < cur)) {
            n2 = memchr(cur, c2, (size_t)(end - cur));
            d2 = !n2;
        }
        if (d1 && d2)
            return;
        const uint8_t *q = d1 ? n2 : d2 ? n1 : (n1 < n2 ? n1 : n2);
        size_t at = (size_t)(q - buf) - A;
        if (match_at(p, buf + at))
            emit(s, va + at);
        cur = q + 1;
    }
}

/* Window of start positions per library call: bounds the work of one memmem/memchr call (and of
 * sanitizer range checks on it) without changing what is found. */
#define WINDOW ((size_t)1 << 20)

/* Reports every match in buf[0, n) that starts before `limit`; buf[0] is at address va. */
static void scan_buf(scanner *s, const uint8_t *buf, size_t n, size_t limit, uint64_t va)
{
    size_t L = s->p->len;
    if (n < L || !limit)
        return;
    size_t last = n - L; /* last possible start */
    if (last > limit - 1)
        last = limit - 1;
    for (size_t from = 0;; from += WINDOW) {
        size_t to = last - from < WINDOW ? last : from + WINDOW - 1;
        scan_window(s, buf, from, to, va);
        if (to == last)
            break;
    }
}

static void gap(scanner *s)
{
    s->ntail = 0;
}

/* Keeps the last len-1 bytes before address va+n as the tail for the next seam. */
static void update_tail(scanner *s, uint64_t va, const uint8_t *buf, size_t n)
{
    size_t L = s->p->len;
    if (L <= 1)
        return;
    if (s->tail_end != va)
        s->ntail = 0;
    if (n >= L - 1) {
        memcpy(s->tail, buf + n - (L - 1), L - 1);
        s->ntail = L - 1;
    } else {
        /* short piece: the tail is the last L-1 bytes of old tail + piece */
        size_t keep = s->ntail + n > L - 1 ? L - 1 - n : s->ntail;
        memmove(s->tail, s->tail + s->ntail - keep, keep);
        memcpy(s->tail + keep, buf, n);
        s->ntail = keep + n;
    }
    s->tail_end = va + n;
}

/* Matches that start in the tail and end in buf (the previous piece ends at va). */
static void bridge(scanner *s, uint64_t va, const uint8_t *buf, size_t n)
{
    size_t L = s->p->len;
    if (!s->ntail || s->tail_end != va) {
        s->ntail = 0;
        return;
    }
    size_t take = n < L - 1 ? n : L - 1;
    memcpy(s->seam, s->tail, s->ntail);
    memcpy(s->seam + s->ntail, buf, take);
    s->out->seams++;
    scan_buf(s, s->seam, s->ntail + take, s->ntail, va - s->ntail);
}

/* Scans one captured piece [va, va+n) and bridges the seam with the previous piece. */
static void feed(scanner *s, uint64_t va, const uint8_t *buf, size_t n)
{
    s->out->ranges++;
    s->out->bytes_scanned += n;
    bridge(s, va, buf, n);
    scan_buf(s, buf, n, n, va);
    update_tail(s, va, buf, n);
}

/* Scans DATA ranges v[0..n) (contiguous in the file, ascending addresses), the first clipped to
 * start at `start`, the last to end at `stop`, with one pass over their file bytes. */
static void feed_batch(scanner *s, const ds_range *v, size_t n, uint64_t start, uint64_t stop)
{
    const uint8_t *file = s->vm->file;
    uint64_t fs = v[0].file_off + (start - v[0].va);
    uint64_t fe = v[n - 1].file_off + (stop - v[n - 1].va);
    uint64_t len = fe - fs;
    s->out->ranges += n;
    s->out->bytes_scanned += len;
    /* the seam with what came before: only the first range's bytes */
    uint64_t first_len = n == 1 ? len : v[0].va + v[0].size - start;
    bridge(s, start, file + fs, (size_t)first_len);
    s->bv = v;
    s->bn = n;
    s->bk = 0;
    s->bfs = fs;
    scan_buf(s, file + fs, (size_t)len, (size_t)len, 0);
    s->bv = NULL;
    s->bn = 0;
    /* the tail: the last range's bytes only (an address gap precedes it) */
    uint64_t last_va = n == 1 ? start : v[n - 1].va;
    if (n > 1)
        s->ntail = 0;
    update_tail(s, last_va, file + v[n - 1].file_off + (last_va - v[n - 1].va),
                (size_t)(stop - last_va));
}

#define CHUNK (1u << 20)

static void scan_interval(scanner *s, uint64_t lo, uint64_t hi)
{
    ds_vmem *vm = s->vm;
    uint64_t cur = lo;
    gap(s);
    while (cur < hi && !s->oom) {
        const ds_range *r = ds_vmem_next(vm, cur);
        if (!r || r->va >= hi)
            break;
        if (r->va > cur) {
            gap(s);
            cur = r->va;
        }
        uint64_t rend = r->va + r->size;
        uint64_t stop = rend < hi ? rend : hi;
        if (r->kind == DS_RANGE_DATA) {
            size_t avail = 0;
            if (!ds_vmem_span_max(vm, cur, 1, &avail)) { /* cannot happen for DATA */
                gap(s);
                cur = stop;
                continue;
            }
            /* extend over the following DATA ranges that continue in the file (capped at 1 GB
             * per batch so that sizes stay small) */
            size_t i0 = (size_t)(r - vm->ranges), n = 1;
            uint64_t bytes = stop - cur;
            while (stop == rend && i0 + n < vm->n && bytes < (1ull << 30)) {
                const ds_range *q = &vm->ranges[i0 + n], *pq = q - 1;
                if (q->kind != DS_RANGE_DATA || q->file_off != pq->file_off + pq->size ||
                    q->va >= hi)
                    break;
                rend = q->va + q->size;
                stop = rend < hi ? rend : hi;
                bytes += stop - q->va;
                n++;
            }
            feed_batch(s, r, n, cur, stop);
        } else if (r->kind == DS_RANGE_BACKEND) {
            if (!s->chunk && !(s->chunk = malloc(CHUNK))) {
                s->oom = true;
                return;
            }
            while (cur < stop) {
                size_t n = stop - cur < CHUNK ? (size_t)(stop - cur) : CHUNK, got = 0;
                ds_vmem_read(vm, cur, s->chunk, n, &got);
                if (got)
                    feed(s, cur, s->chunk, got);
                if (got < n) {
                    gap(s);
                    s->out->bytes_uncaptured += n - got;
                }
                cur += n;
            }
        } else {
            gap(s);
            if (r->kind == DS_RANGE_NOT_CAPTURED)
                s->out->bytes_uncaptured += stop - cur;
        }
        cur = stop;
        if (stop == UINT64_MAX)
            break;
    }
    gap(s);
}

static bool writable(const ds_class_region *cr)
{
    uint32_t pr = cr->r->protect & 0xff;
    if (pr == 0x04 || pr == 0x08 || pr == 0x40 || pr == 0x80)
        return true;
    return cr->r->protect == 0 && (cr->r->perm & 2);
}

static int cmp_usage_row(const void *a, const void *b)
{
    const ds_search_usage_row *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits > y->hits ? -1 : 1;
    return (int)x->usage - (int)y->usage;
}

static const ds_region_map *g_sort_map; /* qsort has no context argument in C11 */

static int cmp_region_row(const void *a, const void *b)
{
    const ds_search_region_row *x = a, *y = b;
    if (x->hits != y->hits)
        return x->hits > y->hits ? -1 : 1;
    uint64_t bx = g_sort_map->v[x->region].base, by = g_sort_map->v[y->region].base;
    return bx < by ? -1 : (bx > by ? 1 : 0);
}

static ds_status breakdown(ds_search_result *o, const ds_region_map *map)
{
    if (!map || !o->region_hits)
        return DS_OK;
    for (size_t i = 0; i < map->n; i++) {
        if (!o->region_hits[i])
            continue;
        const ds_class_region *cr = &map->v[i];
        size_t k = 0;
        while (k < o->nusage && !(o->usage[k].usage == cr->usage && o->usage[k].bits == cr->bits))
            k++;
        if (k == o->nusage) {
            ds_search_usage_row *nu = realloc(o->usage, (o->nusage + 1) * sizeof *nu);
            if (!nu)
                return DS_E_NOMEM;
            o->usage = nu;
            memset(&o->usage[o->nusage], 0, sizeof *nu);
            o->usage[o->nusage].usage = cr->usage;
            o->usage[o->nusage].bits = cr->bits;
            o->nusage++;
        }
        o->usage[k].hits += o->region_hits[i];
        o->usage[k].regions++;
        o->nregions++;
    }
    if (o->nusage)
        qsort(o->usage, o->nusage, sizeof *o->usage, cmp_usage_row);
    if (o->nregions) {
        o->regions = malloc(o->nregions * sizeof *o->regions);
        if (!o->regions)
            return DS_E_NOMEM;
        size_t j = 0;
        for (size_t i = 0; i < map->n; i++)
            if (o->region_hits[i])
                o->regions[j++] = (ds_search_region_row){i, o->region_hits[i]};
        g_sort_map = map;
        qsort(o->regions, o->nregions, sizeof *o->regions, cmp_region_row);
        g_sort_map = NULL;
    }
    return DS_OK;
}

static void result_init(ds_search_result *out, const ds_pattern *p, size_t max_hits)
{
    memset(out, 0, sizeof *out);
    out->pattern = *p;
    out->max_hits = max_hits;
}

ds_status ds_search_vmem(ds_vmem *vm, const ds_pattern *p, uint64_t start, uint64_t end,
                         size_t max_hits, ds_search_result *out)
{
    result_init(out, p, max_hits);
    out->scope.has_range = true;
    out->scope.start = start;
    out->scope.end = end;
    scanner s;
    memset(&s, 0, sizeof s);
    s.vm = vm;
    s.p = &out->pattern;
    s.out = out;
    scan_interval(&s, start, end);
    free(s.chunk);
    return s.oom ? DS_E_NOMEM : DS_OK;
}

ds_status ds_search(ds_dump *d, const ds_region_map *map, const ds_pattern *p,
                    const ds_search_scope *scope, size_t max_hits, ds_search_result *out)
{
    result_init(out, p, max_hits);
    ds_search_scope sc = {0};
    if (scope)
        sc = *scope;
    out->scope = sc;
    if ((sc.filter || sc.writable) && !map)
        return DS_E_USAGE;
    uint64_t lo = sc.has_range ? sc.start : 0, hi = sc.has_range ? sc.end : UINT64_MAX;
    if (map && map->n) {
        out->region_hits = calloc(map->n, sizeof *out->region_hits);
        if (!out->region_hits)
            return DS_E_NOMEM;
        out->nmap = map->n;
    }
    scanner s;
    memset(&s, 0, sizeof s);
    s.vm = &d->vm;
    s.p = &out->pattern;
    s.out = out;
    s.map = map;
    if (!sc.filter && !sc.writable) {
        scan_interval(&s, lo, hi);
    } else {
        /* the selected regions, clipped to the range; adjacent ones merged (seams bridged) */
        uint64_t ilo = 0, ihi = 0;
        bool open = false;
        for (size_t i = 0; i < map->n && !s.oom; i++) {
            const ds_class_region *cr = &map->v[i];
            if (sc.filter && !ds_region_filter_match(sc.filter, cr))
                continue;
            if (sc.writable && !writable(cr))
                continue;
            uint64_t a = cr->base > lo ? cr->base : lo;
            uint64_t e = cr->base + cr->size < hi ? cr->base + cr->size : hi;
            if (a >= e)
                continue;
            if (open && a == ihi) {
                ihi = e;
                continue;
            }
            if (open)
                scan_interval(&s, ilo, ihi);
            ilo = a;
            ihi = e;
            open = true;
        }
        if (open && !s.oom)
            scan_interval(&s, ilo, ihi);
    }
    free(s.chunk);
    if (s.oom)
        return DS_E_NOMEM;
    return breakdown(out, map);
}

void ds_search_result_free(ds_search_result *r)
{
    free(r->hits);
    free(r->usage);
    free(r->regions);
    free(r->region_hits);
    memset(r, 0, sizeof *r);
}
