/* dumpsleuth: System.String statistics for dumpheap --strings (SOS's !dumpheap -strings).
 *
 * Bounded memory: a distinct value is kept as a 128-bit hash of its UTF-16 contents plus its
 * length, its count, total size and the address of one instance (about 80 bytes with the hash
 * slot); the contents are never copied during the walk. At most max_distinct values are kept;
 * strings whose value is first seen after that are only counted in other_*. The text of the rows
 * that are finally shown is decoded from their example instance. A hash collision (two values
 * merged) needs 128 equal bits: not a concern for real heaps, only for a crafted dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"

typedef struct str_priv {
    uint32_t *slots; /* index + 1 into s->v, 0 = empty */
    size_t nslots;
    size_t vcap;
    uint8_t *buf; /* contents copied when not contiguous in the dump */
    size_t bufcap;
} str_priv;

static uint64_t rotl(uint64_t v, unsigned r)
{
    return (v << r) | (v >> (64 - r));
}

static uint64_t fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

/* Two independent 64-bit hashes of n bytes in one pass (8 bytes at a time). */
static void hash128(const uint8_t *p, size_t n, uint64_t out[2])
{
    uint64_t h1 = 0x9E3779B97F4A7C15ull ^ n, h2 = 0xC2B2AE3D27D4EB4Full + n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h1 = rotl(h1 ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
        h2 = rotl(h2 + (w ^ 0x52dce729da3ed3b5ull), 29) * 0x9E3779B97F4A7C15ull + h1;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i);
        w ^= (uint64_t)(n - i) << 56;
        h1 = rotl(h1 ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
        h2 = rotl(h2 + (w ^ 0x52dce729da3ed3b5ull), 29) * 0x9E3779B97F4A7C15ull + h1;
    }
    out[0] = fmix(h1 ^ rotl(h2, 17));
    out[1] = fmix(h2 + h1);
}

char *ds_clr_utf16_to_utf8(const uint8_t *u16, size_t units)
{
    char *o = malloc(units * 3 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = (uint32_t)u16[2 * i] | (uint32_t)u16[2 * i + 1] << 8;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
            uint32_t d = (uint32_t)u16[2 * i + 2] | (uint32_t)u16[2 * i + 3] << 8;
            if (d >= 0xDC00 && d <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                i++;
            } else
                c = 0xFFFD;
        } else if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        if (c < 0x80)
            o[k++] = (char)c;
        else if (c < 0x800) {
            o[k++] = (char)(0xC0 | c >> 6);
            o[k++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            o[k++] = (char)(0xE0 | c >> 12);
            o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            o[k++] = (char)(0x80 | (c & 0x3F));
        } else {
            o[k++] = (char)(0xF0 | c >> 18);
            o[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
            o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            o[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    o[k] = 0;
    return o;
}

static bool is_string(ds_clr_strings *s, ds_clr_heap *h, uint64_t mt)
{
    if (mt == s->last_mt)
        return s->last_is_string;
    s->last_mt = mt;
    if (s->string_mt)
        return s->last_is_string = mt == s->string_mt;
    uint32_t base, comp;
    bool fr;
    s->last_is_string = false;
    if (!ds_clr_mt_check(h, mt, &base, &comp, &fr) || fr || comp != 2)
        return false;
    const char *n = ds_clr_type_name(h, mt);
    if (n && !strcmp(n, "System.String")) {
        s->string_mt = mt;
        s->last_is_string = true;
    }
    return s->last_is_string;
}

/* Contents of the string at addr: a pointer to its UTF-16 code units, *len = their count. */
static const uint8_t *contents(ds_clr_strings *s, ds_clr_heap *h, uint64_t addr, uint64_t room,
                               uint32_t *len, size_t max_units)
{
    str_priv *p = s->priv;
    unsigned P = h->ptr;
    if (ds_vmem_u32(&h->dump->vm, addr + P, len) != DS_MEM_OK)
        return NULL;
    /* length, then the characters: they must fit in the object's space */
    if ((uint64_t)P + 4 + 2ull * *len > room)
        return NULL;
    size_t units = *len < max_units ? *len : max_units;
    size_t nb = units * 2;
    if (!nb)
        return (const uint8_t *)"";
    const uint8_t *q = ds_vmem_span(&h->dump->vm, addr + P + 4, nb);
    if (q)
        return q;
    if (nb > p->bufcap) {
        uint8_t *nbuf = realloc(p->buf, nb);
        if (!nbuf)
            return NULL;
        p->buf = nbuf;
        p->bufcap = nb;
    }
    if (ds_vmem_read(&h->dump->vm, addr + P + 4, p->buf, nb, NULL) != DS_MEM_OK)
        return NULL;
    return p->buf;
}

static bool grow_slots(ds_clr_strings *s, str_priv *p)
{
    size_t ncap = p->nslots ? p->nslots * 2 : 4096;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = (size_t)s->v[i].hash[0] & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(p->slots);
    p->slots = ns;
    p->nslots = ncap;
    return true;
}

bool ds_clr_strings_add(ds_clr_strings *s, ds_clr_heap *h, const ds_clr_object *o)
{
    if (o->free || !is_string(s, h, o->mt))
        return true;
    if (!s->priv && !(s->priv = calloc(1, sizeof(str_priv))))
        return false;
    str_priv *p = s->priv;
    size_t maxd = s->max_distinct ? s->max_distinct : DS_CLR_STRINGS_MAX_DISTINCT;
    if (maxd > UINT32_MAX - 1)
        maxd = UINT32_MAX - 1;
    s->strings++;
    s->bytes += o->size;
    uint32_t len;
    const uint8_t *c = contents(s, h, o->addr, o->step, &len, SIZE_MAX / 4);
    if (!c) {
        s->unreadable++;
        return true;
    }
    uint64_t hv[2];
    hash128(c, (size_t)len * 2, hv);
    if ((s->n + 1) * 2 > p->nslots && !grow_slots(s, p))
        return false;
    size_t j = (size_t)hv[0] & (p->nslots - 1);
    while (p->slots[j]) {
        ds_clr_string_stat *e = &s->v[p->slots[j] - 1];
        if (e->hash[0] == hv[0] && e->hash[1] == hv[1] && e->length == len) {
            e->count++;
            e->total += o->size;
            return true;
        }
        j = (j + 1) & (p->nslots - 1);
    }
    if (s->n >= maxd) {
        s->capped = true;
        s->other_count++;
        s->other_bytes += o->size;
        return true;
    }
    if (s->n == p->vcap) {
        size_t nc = p->vcap ? p->vcap * 2 : 1024;
        ds_clr_string_stat *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return false;
        s->v = nv;
        p->vcap = nc;
    }
    ds_clr_string_stat *e = &s->v[s->n];
    memset(e, 0, sizeof *e);
    e->count = 1;
    e->total = o->size;
    e->example = o->addr;
    e->length = len;
    e->hash[0] = hv[0];
    e->hash[1] = hv[1];
    s->n++;
    s->distinct = s->n;
    p->slots[j] = (uint32_t)s->n;
    return true;
}

static int cmp_row(const void *a, const void *b)
{
    const ds_clr_string_stat *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->length != y->length)
        return x->length < y->length ? -1 : 1;
    return x->example < y->example ? -1 : x->example > y->example;
}

void ds_clr_strings_finish(ds_clr_strings *s, ds_clr_heap *h, size_t top)
{
    str_priv *p = s->priv;
    if (!p)
        return;
    free(p->slots);
    p->slots = NULL;
    p->nslots = 0;
    s->distinct = s->n;
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_row);
    if (top && s->n > top)
        s->n = top;
    for (size_t i = 0; i < s->n; i++) {
        ds_clr_string_stat *e = &s->v[i];
        uint32_t len;
        /* one code unit more, so that a surrogate pair at the cut stays whole */
        const uint8_t *c = contents(s, h, e->example, UINT64_MAX, &len, DS_CLR_STRING_SHOW + 1);
        if (!c)
            continue;
        size_t units = len < DS_CLR_STRING_SHOW ? len : DS_CLR_STRING_SHOW;
        if (len > DS_CLR_STRING_SHOW) {
            uint16_t last = (uint16_t)(c[2 * units - 2] | c[2 * units - 1] << 8);
            uint16_t next = (uint16_t)(c[2 * units] | c[2 * units + 1] << 8);
            if (last >= 0xD800 && last <= 0xDBFF && next >= 0xDC00 && next <= 0xDFFF)
                units++;
        }
        e->text = ds_clr_utf16_to_utf8(c, units);
        e->truncated = units < len;
    }
}

void ds_clr_strings_free(ds_clr_strings *s)
{
    str_priv *p = s->priv;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    if (p) {
        free(p->slots);
        free(p->buf);
        free(p);
    }
    s->v = NULL;
    s->n = 0;
    s->priv = NULL;
}
