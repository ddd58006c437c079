#include "base/util.h"

#include <stdlib.h>
#include <string.h>

bool ds_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return false;
        nc *= 2;
    }
    if (elem && nc > SIZE_MAX / elem)
        return false;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

char *ds_strdup(const char *s)
{
    return s ? ds_strndup(s, strlen(s)) : NULL;
}

char *ds_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t l = strnlen(s, n);
    char *r = malloc(l + 1);
    if (!r)
        return NULL;
    memcpy(r, s, l);
    r[l] = 0;
    return r;
}

static size_t put_utf8(char *out, size_t outsz, size_t o, uint32_t cp)
{
    char tmp[4];
    size_t k;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (o + k + 1 > outsz)
        return o;
    memcpy(out + o, tmp, k);
    return o + k;
}

size_t ds_utf16le_to_utf8(const uint8_t *src, size_t nunits, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz)
        return 0;
    for (size_t i = 0; i < nunits; i++) {
        uint32_t u = (uint32_t)(src[2 * i] | (src[2 * i + 1] << 8));
        if (u == 0)
            break;
        if (u >= 0xD800 && u < 0xDC00 && i + 1 < nunits) {
            uint32_t v = (uint32_t)(src[2 * i + 2] | (src[2 * i + 3] << 8));
            if (v >= 0xDC00 && v < 0xE000) {
                u = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00);
                i++;
            } else {
                u = 0xFFFD;
            }
        } else if (u >= 0xD800 && u < 0xE000) {
            u = 0xFFFD;
        }
        size_t no = put_utf8(out, outsz, o, u);
        if (no == o)
            break;
        o = no;
    }
    out[o] = 0;
    return o;
}

char *ds_utf16le_dup(const uint8_t *src, size_t nunits)
{
    if (nunits > (SIZE_MAX - 1) / 3)
        return NULL;
    size_t sz = nunits * 3 + 1;
    char *r = malloc(sz);
    if (!r)
        return NULL;
    ds_utf16le_to_utf8(src, nunits, r, sz);
    return r;
}

void ds_copy_clean(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
    size_t i = 0;
    if (!dstsz)
        return;
    for (; i < n && i + 1 < dstsz && src[i]; i++)
        dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
    dst[i] = 0;
}

const char *ds_basename(const char *path)
{
    if (!path)
        return "";
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}
