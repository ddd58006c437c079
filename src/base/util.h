/* Small helpers shared inside libdumpsleuth: growable arrays, strings, text conversion. */
#ifndef DS_BASE_UTIL_H
#define DS_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ensures room for `need` elements of `elem` bytes in *arr (capacity *cap). Overflow-checked. */
bool ds_grow(void **arr, size_t *cap, size_t need, size_t elem);
#define DS_PUSH(arr, n, cap, val)                                                                  \
    (ds_grow((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr))) ? ((arr)[(n)++] = (val), true)      \
                                                               : false)

char *ds_strdup(const char *s);
char *ds_strndup(const char *s, size_t n);
/* Converts n UTF-16LE code units (stops at NUL) to UTF-8; invalid surrogates become U+FFFD.
 * Writes at most outsz-1 bytes plus NUL. Returns the number of bytes written. */
size_t ds_utf16le_to_utf8(const uint8_t *src, size_t nunits, char *out, size_t outsz);
/* Same, allocating (NULL on out of memory). */
char *ds_utf16le_dup(const uint8_t *src, size_t nunits);
/* Copies at most n bytes of a possibly unterminated string, replacing control bytes by '?'. */
void ds_copy_clean(char *dst, size_t dstsz, const uint8_t *src, size_t n);
/* Base name of a Windows or POSIX path (points into path). */
const char *ds_basename(const char *path);

#endif
