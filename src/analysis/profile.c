/* Content profile of regions (see include/dumpsleuth/profile.h). */
#include "dumpsleuth/profile.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void ds_profile_options_default(ds_profile_options *o)
{
    o->min_string = 6;
    o->max_string = 80;
    o->top = 20;
    o->table_entries = 65536;
}

const char *ds_content_kind_name(ds_content_kind k)
{
    static const char *n[DS_CONTENT_COUNT] = {
        "HTML",        "JavaScript", "JSON",        "XML",         "PE image",
        "base64",      "compressed", "ASCII text",  "UTF-16 text", "pointers",
        "zero-filled", "binary",     "not captured"};
    return (unsigned)k < DS_CONTENT_COUNT ? n[k] : "?";
}

const char *ds_content_kind_key(ds_content_kind k)
{
    static const char *n[DS_CONTENT_COUNT] = {
        "html", "javascript", "json",     "xml",  "pe",     "base64",    "compressed",
        "text", "utf16_text", "pointers", "zero", "binary", "uncaptured"};
    return (unsigned)k < DS_CONTENT_COUNT ? n[k] : "?";
}

/* log2 without libm: x = m * 2^e, m in [1, 2); ln(m) = 2 atanh((m-1)/(m+1)). */
static double lg2(double x)
{
    if (x <= 0)
        return 0;
    int e = 0;
    while (x >= 2) {
        x /= 2;
        e++;
    }
    while (x < 1) {
        x *= 2;
        e--;
    }
    double y = (x - 1) / (x + 1), y2 = y * y, t = y, s = 0;
    for (int k = 1; k < 40; k += 2) {
        s += t / k;
        t *= y2;
    }
    return e + 2 * s / 0.69314718055994530942;
}

/* ---------------------------------------------------------------- bounded string table */

typedef struct str_ent {
    uint64_t hash, count;
    size_t off; /* into the arena */
    uint16_t len;
    uint8_t wide, cut;
    bool used;
} str_ent;

typedef struct str_table {
    str_ent *e;
    size_t cap, n, limit; /* cap: power of two >= 2 * limit */
    char *arena;
    size_t asz, acap;
    bool pruned, oom;
    uint64_t seen;
} str_table;

static uint64_t fnv(const uint8_t *s, size_t n, int wide)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)wide;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static bool table_init(str_table *t, size_t limit)
{
    memset(t, 0, sizeof *t);
    t->limit = limit < 64 ? 64 : limit;
    t->cap = 128;
    while (t->cap < 2 * t->limit)
        t->cap *= 2;
    t->e = calloc(t->cap, sizeof *t->e);
    return t->e != NULL;
}

static void table_free(str_table *t)
{
    free(t->e);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static str_ent *slot(str_table *t, uint64_t h, const char *s, size_t n, int wide)
{
    size_t i = (size_t)h & (t->cap - 1);
    while (t->e[i].used) {
        str_ent *x = &t->e[i];
        if (x->hash == h && x->len == n && x->wide == wide && !memcmp(t->arena + x->off, s, n))
            return x;
        i = (i + 1) & (t->cap - 1);
    }
    return &t->e[i];
}

/* Drops the rarest entries (at least half), compacting the arena. */
static void prune(str_table *t)
{
    uint64_t thr = 1;
    for (;;) {
        size_t below = 0;
        for (size_t i = 0; i < t->cap; i++)
            below += t->e[i].used && t->e[i].count <= thr;
        if (below >= t->n / 2 || thr > (UINT64_MAX >> 2))
            break;
        thr *= 2;
    }
    str_ent *old = t->e;
    char *oa = t->arena;
    t->e = calloc(t->cap, sizeof *t->e);
    t->arena = malloc(t->acap ? t->acap : 1);
    if (!t->e || !t->arena) {
        free(t->e);
        free(t->arena);
        t->e = old;
        t->arena = oa;
        t->oom = true;
        return;
    }
    t->n = 0;
    t->asz = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (!old[i].used || old[i].count <= thr)
            continue;
        str_ent *s = slot(t, old[i].hash, oa + old[i].off, old[i].len, old[i].wide);
        *s = old[i];
        memcpy(t->arena + t->asz, oa + old[i].off, old[i].len);
        s->off = t->asz;
        t->asz += old[i].len;
        t->n++;
    }
    free(old);
    free(oa);
    t->pruned = true;
}

static void table_add(str_table *t, const char *s, size_t n, bool wide, bool cut)
{
    if (t->oom)
        return;
    t->seen++;
    uint64_t h = fnv((const uint8_t *)s, n, wide);
    str_ent *x = slot(t, h, s, n, wide);
    if (x->used) {
        x->count++;
        return;
    }
    if (t->n >= t->limit) {
        prune(t);
        if (t->oom)
            return;
        x = slot(t, h, s, n, wide);
    }
    if (t->asz + n > t->acap) {
        size_t nc = t->acap ? t->acap * 2 : 65536;
        while (nc < t->asz + n)
            nc *= 2;
        char *na = realloc(t->arena, nc);
        if (!na) {
            t->oom = true;
            return;
        }
        t->arena = na;
        t->acap = nc;
    }
    memcpy(t->arena + t->asz, s, n);
    x->used = true;
    x->hash = h;
    x->count = 1;
    x->off = t->asz;
    x->len = (uint16_t)n;
    x->wide = wide;
    x->cut = cut;
    t->asz += n;
    t->n++;
}

/* ---------------------------------------------------------------- per region scan */

typedef struct busy_iv {
    uint64_t lo, hi;
} busy_iv;

typedef struct prof_ctx {
    const ds_profile_options *o;
    unsigned ps;
    busy_iv *busy;
    size_t nbusy;
    uint64_t bmin, bmax;
    str_table strings;
    /* per region */
    ds_profile_region *cur;
    uint64_t hist[256];
    uint64_t tok[16];
    uint64_t b64; /* bytes in base64 runs >= 64 */
} prof_ctx;

static bool in_busy(const prof_ctx *c, uint64_t v)
{
    if (v < c->bmin || v >= c->bmax)
        return false;
    size_t lo = 0, hi = c->nbusy;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->busy[mid].lo <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && v < c->busy[lo - 1].hi;
}

static inline bool is_text(uint8_t b)
{
    return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\n' || b == '\r';
}

static inline bool is_b64(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '+' ||
           b == '/' || b == '=';
}

static const char *const tokens[] = {
    /* 0-4 HTML */ "</",
    "<div",
    "<table",
    "<html",
    "<script",
    /* 5-10 JavaScript */ "function",
    "prototype",
    "var ",
    "return",
    "document.",
    "=>",
    /* 11 JSON */ "\":",
    /* 12-13 XML */ "<?xml",
    "xmlns"};
#define NTOK (sizeof tokens / sizeof tokens[0])

static void ascii_strings(prof_ctx *c, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == '\r' || p[i] == '\n'))
            i++;
        size_t s = i;
        while (i < n && p[i] != '\r' && p[i] != '\n')
            i++;
        size_t len = i - s;
        if (len >= c->o->min_string) {
            bool cut = len > c->o->max_string;
            table_add(&c->strings, (const char *)p + s, cut ? c->o->max_string : len, false, cut);
        }
    }
}

static void scan_piece(prof_ctx *c, uint64_t va, const uint8_t *p, size_t n)
{
    ds_profile_region *r = c->cur;
    unsigned ps = c->ps;
    for (size_t i = 0; i < n; i++)
        c->hist[p[i]]++;
    for (size_t k = 0; k < NTOK; k++) {
        size_t tl = strlen(tokens[k]);
        const uint8_t *q = p, *e = p + n;
        while ((size_t)(e - q) >= tl && (q = memmem(q, (size_t)(e - q), tokens[k], tl))) {
            c->tok[k]++;
            q += tl;
        }
    }
    size_t i = 0, b64run = 0;
    while (i < n) {
        uint8_t b = p[i];
        if (is_b64(b)) {
            b64run++;
        } else {
            if (b64run >= 64)
                c->b64 += b64run;
            b64run = 0;
        }
        if (is_text(b)) {
            size_t k = i + 1;
            while (k < n && is_text(p[k]))
                k++;
            /* "text D\0S\0..." : the last character starts a UTF-16LE run */
            if (k - i >= 5 && k + 2 < n && p[k] == 0 && p[k + 1] >= 0x20 && p[k + 1] < 0x7f &&
                p[k + 2] == 0)
                k--;
            if (k - i >= 4) {
                r->ascii += k - i;
                for (size_t j = i + 1; j < k; j++) { /* base64 accounting inside the run */
                    if (is_b64(p[j])) {
                        b64run++;
                    } else {
                        if (b64run >= 64)
                            c->b64 += b64run;
                        b64run = 0;
                    }
                }
                ascii_strings(c, p + i, k - i);
                i = k;
                continue;
            }
            if (i + 1 < n && p[i + 1] == 0 && b >= 0x20 && b < 0x7f) {
                size_t m = 0;
                while (i + 2 * m + 1 < n && p[i + 2 * m + 1] == 0 && p[i + 2 * m] >= 0x20 &&
                       p[i + 2 * m] < 0x7f)
                    m++;
                if (m >= 4) {
                    r->utf16 += 2 * m;
                    if (m >= c->o->min_string) {
                        char tmp[256];
                        size_t L = m < c->o->max_string ? m : c->o->max_string;
                        if (L > sizeof tmp)
                            L = sizeof tmp;
                        for (size_t j = 0; j < L; j++)
                            tmp[j] = (char)p[i + 2 * j];
                        table_add(&c->strings, tmp, L, true, m > L);
                    }
                    i += 2 * m;
                    b64run = 0;
                    continue;
                }
            }
        }
        if ((va + i) % ps == 0 && i + ps <= n) {
            uint64_t w = 0;
            if (ps == 8)
                memcpy(&w, p + i, 8);
            else {
                uint32_t w32;
                memcpy(&w32, p + i, 4);
                w = w32;
            }
            if (w == 0) {
                r->zero += ps;
                i += ps;
                if (b64run >= 64)
                    c->b64 += b64run;
                b64run = 0;
                continue;
            }
            if (in_busy(c, w)) {
                r->pointer += ps;
                i += ps;
                if (b64run >= 64)
                    c->b64 += b64run;
                b64run = 0;
                continue;
            }
        }
        if (b == 0)
            r->zero++;
        else
            r->other++;
        i++;
    }
    if (b64run >= 64)
        c->b64 += b64run;
}

static void magic(ds_dump *d, ds_profile_region *r)
{
    uint8_t h[8];
    size_t got = 0;
    ds_vmem_read(&d->vm, r->base, h, sizeof h, &got);
    if (got < 4)
        return;
    if (h[0] == 'M' && h[1] == 'Z') {
        uint32_t lfa;
        uint8_t pe[4];
        if (r->size > 8 && ds_vmem_u32(&d->vm, r->base + 0x3c, &lfa) == DS_MEM_OK &&
            lfa < r->size - 4 && ds_vmem_read(&d->vm, r->base + lfa, pe, 4, NULL) == DS_MEM_OK &&
            !memcmp(pe, "PE\0\0", 4))
            r->kinds |= 1u << DS_CONTENT_PE;
    }
    if ((h[0] == 0x1f && h[1] == 0x8b && h[2] == 8) ||
        (h[0] == 0x78 && (h[1] == 0x01 || h[1] == 0x5e || h[1] == 0x9c || h[1] == 0xda)) ||
        !memcmp(h, "PK\3\4", 4) || !memcmp(h, "\x28\xb5\x2f\xfd", 4))
        r->kinds |= 1u << DS_CONTENT_COMPRESSED;
}

static void classify(prof_ctx *c, ds_profile_region *r)
{
    uint64_t cap = r->captured;
    if (!cap) {
        r->kinds = 1u << DS_CONTENT_UNCAPTURED;
        return;
    }
    double ent = 0;
    for (int b = 0; b < 256; b++)
        if (c->hist[b]) {
            double q = (double)c->hist[b] / (double)cap;
            ent -= q * lg2(q);
        }
    r->entropy = ent;
    uint64_t *t = c->tok, text = r->ascii;
    uint64_t html = t[0] + t[1] + t[2] + t[3] + t[4];
    uint64_t js = t[5] + t[6] + t[7] + t[8] + t[9] + t[10];
    bool texty = r->ascii * 10 >= cap * 3; /* >= 30% ASCII text */
    if (texty && t[1] + t[2] + t[3] + t[4] >= 2 && html >= 4 && html * 1024 >= text)
        r->kinds |= 1u << DS_CONTENT_HTML;
    if (texty && js >= 4 && js * 4096 >= text)
        r->kinds |= 1u << DS_CONTENT_JAVASCRIPT;
    if (texty && (t[12] || (t[13] && t[0] >= 4)) && !(r->kinds & (1u << DS_CONTENT_HTML)))
        r->kinds |= 1u << DS_CONTENT_XML;
    if (texty && t[11] >= 4 && t[11] * 2048 >= text && !(r->kinds & (1u << DS_CONTENT_HTML)))
        r->kinds |= 1u << DS_CONTENT_JSON;
    if (c->b64 * 2 >= cap &&
        !(r->kinds & ((1u << DS_CONTENT_HTML) | (1u << DS_CONTENT_JAVASCRIPT))))
        r->kinds |= 1u << DS_CONTENT_BASE64;
    if (ent >= 7.5 && r->ascii * 2 < cap)
        r->kinds |= 1u << DS_CONTENT_COMPRESSED;
    if (r->ascii * 2 >= cap && !r->kinds)
        r->kinds |= 1u << DS_CONTENT_TEXT;
    if (r->utf16 * 2 >= cap)
        r->kinds |= 1u << DS_CONTENT_UTF16;
    if (r->pointer * 4 >= cap)
        r->kinds |= 1u << DS_CONTENT_POINTERS;
    if (r->zero * 100 >= cap * 99)
        r->kinds |= 1u << DS_CONTENT_ZERO;
    if (!r->kinds)
        r->kinds = 1u << DS_CONTENT_BINARY;
}

static void profile_region(ds_dump *d, prof_ctx *c, ds_profile_region *r, uint8_t **chunk)
{
    memset(c->hist, 0, sizeof c->hist);
    memset(c->tok, 0, sizeof c->tok);
    c->b64 = 0;
    c->cur = r;
    ds_vmem *vm = &d->vm;
    uint64_t cur = r->base, end = r->base + r->size;
    while (cur < end) {
        const ds_range *g = ds_vmem_next(vm, cur);
        if (!g || g->va >= end)
            break;
        if (g->va > cur)
            cur = g->va;
        uint64_t ge = g->va + g->size, stop = ge < end ? ge : end;
        if (g->kind == DS_RANGE_DATA) {
            while (cur < stop) {
                size_t avail = 0;
                const uint8_t *p = ds_vmem_span_max(vm, cur, (size_t)(stop - cur), &avail);
                if (!p || !avail)
                    break;
                r->captured += avail;
                scan_piece(c, cur, p, avail);
                cur += avail;
            }
        } else if (g->kind == DS_RANGE_ZERO || g->kind == DS_RANGE_BACKEND) {
            if (!*chunk && !(*chunk = malloc(1u << 20)))
                break;
            while (cur < stop) {
                size_t n = stop - cur < (1u << 20) ? (size_t)(stop - cur) : (1u << 20), got = 0;
                ds_vmem_read(vm, cur, *chunk, n, &got);
                if (got) {
                    r->captured += got;
                    scan_piece(c, cur, *chunk, got);
                }
                cur += n;
            }
        }
        cur = stop;
    }
    magic(d, r);
    classify(c, r);
}

static int cmp_ent(const void *a, const void *b)
{
    const str_ent *x = a, *y = b;
    if (x->used != y->used)
        return x->used ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return 0;
}

static int cmp_mix(const void *a, const void *b)
{
    const ds_profile_mix *x = a, *y = b;
    if (x->regions != y->regions)
        return x->regions > y->regions ? -1 : 1;
    return x->kinds < y->kinds ? -1 : (x->kinds > y->kinds ? 1 : 0);
}

ds_status ds_profile(ds_dump *d, const ds_region_map *m, const ds_region_filter *f,
                     const ds_profile_options *o, ds_profile_result *out)
{
    memset(out, 0, sizeof *out);
    ds_profile_options def;
    if (!o) {
        ds_profile_options_default(&def);
        o = &def;
    }
    prof_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.ps = d->sys.target_ptr_size == 4 || d->sys.ptr_size == 4 ? 4 : 8;
    out->ptr_size = c.ps;
    size_t bcap = 0, cap = 0;
    ds_status st = DS_E_NOMEM;
    for (size_t i = 0; i < m->n; i++) { /* busy intervals, merged */
        const ds_class_region *cr = &m->v[i];
        if (cr->r->state == DS_MEM_FREE)
            continue;
        if (c.nbusy && c.busy[c.nbusy - 1].hi == cr->base) {
            c.busy[c.nbusy - 1].hi = cr->base + cr->size;
            continue;
        }
        busy_iv iv = {cr->base, cr->base + cr->size};
        if (!DS_PUSH(c.busy, c.nbusy, bcap, iv))
            goto done;
    }
    if (c.nbusy) {
        c.bmin = c.busy[0].lo;
        c.bmax = c.busy[c.nbusy - 1].hi;
    }
    if (!table_init(&c.strings, o->table_entries))
        goto done;
    uint8_t *chunk = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const ds_class_region *cr = &m->v[i];
        if (f ? !ds_region_filter_match(f, cr) : cr->r->state != DS_MEM_COMMIT)
            continue;
        ds_profile_region r;
        memset(&r, 0, sizeof r);
        r.region = i;
        r.base = cr->base;
        r.size = cr->size;
        profile_region(d, &c, &r, &chunk);
        if (!DS_PUSH(out->v, out->n, cap, r)) {
            free(chunk);
            goto done;
        }
        out->size += r.size;
        out->captured += r.captured;
        out->zero += r.zero;
        out->ascii += r.ascii;
        out->utf16 += r.utf16;
        out->pointer += r.pointer;
        out->other += r.other;
        for (int k = 0; k < DS_CONTENT_COUNT; k++)
            if (r.kinds & (1u << k)) {
                out->kinds[k].regions++;
                out->kinds[k].bytes += r.size;
            }
        size_t j = 0;
        while (j < out->nmixes && out->mixes[j].kinds != r.kinds)
            j++;
        if (j == out->nmixes) {
            ds_profile_mix *nm = realloc(out->mixes, (out->nmixes + 1) * sizeof *nm);
            if (!nm) {
                free(chunk);
                goto done;
            }
            out->mixes = nm;
            out->mixes[out->nmixes++] = (ds_profile_mix){r.kinds, 0, 0};
        }
        out->mixes[j].regions++;
        out->mixes[j].bytes += r.size;
    }
    free(chunk);
    if (c.strings.oom)
        goto done;
    if (out->nmixes)
        qsort(out->mixes, out->nmixes, sizeof *out->mixes, cmp_mix);
    qsort(c.strings.e, c.strings.cap, sizeof *c.strings.e, cmp_ent);
    size_t ntop = c.strings.n < o->top ? c.strings.n : o->top;
    if (ntop) {
        out->strings = calloc(ntop, sizeof *out->strings);
        if (!out->strings)
            goto done;
    }
    for (size_t i = 0; i < ntop; i++) {
        const str_ent *e = &c.strings.e[i];
        ds_profile_string *s = &out->strings[out->nstrings];
        s->text = ds_strndup(c.strings.arena + e->off, e->len);
        if (!s->text)
            goto done;
        s->wide = e->wide;
        s->cut = e->cut;
        s->count = e->count;
        out->nstrings++;
    }
    out->strings_exact = !c.strings.pruned;
    out->strings_seen = c.strings.seen;
    st = DS_OK;
done:
    free(c.busy);
    table_free(&c.strings);
    if (st != DS_OK)
        ds_profile_result_free(out);
    return st;
}

void ds_profile_result_free(ds_profile_result *r)
{
    for (size_t i = 0; i < r->nstrings; i++)
        free(r->strings[i].text);
    free(r->strings);
    free(r->v);
    free(r->mixes);
    memset(r, 0, sizeof *r);
}
