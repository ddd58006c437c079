/* Terminal-safe output stream (see termsafe.h). */
#include "output/termsafe.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct ts_state {
    FILE *under;
    bool pending_c2; /* a 0xC2 lead byte whose continuation has not been seen yet */
} ts_state;

static ssize_t ts_write(void *cookie, const char *buf, size_t size)
{
    ts_state *s = cookie;
    char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (o + 2 > sizeof out) {
            if (fwrite(out, 1, o, s->under) != o)
                return -1;
            o = 0;
        }
        if (s->pending_c2) {
            s->pending_c2 = false;
            if (b >= 0x80 && b <= 0x9f) { /* U+0080..U+009F: C1 control */
                out[o++] = '?';
                continue;
            }
            out[o++] = (char)0xc2;
        }
        if (b == 0xc2) {
            s->pending_c2 = true;
            continue;
        }
        if ((b < 0x20 && b != '\n' && b != '\t' && b != '\r') || b == 0x7f)
            out[o++] = '?';
        else
            out[o++] = (char)b;
    }
    if (o && fwrite(out, 1, o, s->under) != o)
        return -1;
    if (fflush(s->under) != 0)
        return -1;
    return (ssize_t)size;
}

static int ts_close(void *cookie)
{
    ts_state *s = cookie;
    if (s->pending_c2)
        fputc(0xc2, s->under);
    int rc = fflush(s->under);
    free(s);
    return rc;
}

FILE *ds_termsafe_open(FILE *under)
{
    ts_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->under = under;
    cookie_io_functions_t io = {NULL, ts_write, NULL, ts_close};
    FILE *f = fopencookie(s, "w", io);
    if (!f) {
        free(s);
        return NULL;
    }
    return f;
}
