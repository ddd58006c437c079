/* Shared by the libFuzzer targets that go through ds_dump_open (which takes a path): the input is
 * written to one memfd per process (reused across runs) and its /proc/self/fd/N path is returned.
 * When magic is given, inputs that do not start with it get it prepended half of the time, so the
 * fuzzer spends its effort inside the reader rather than on the format probe. */
#ifndef DS_FUZZ_INPUT_H
#define DS_FUZZ_INPUT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Returns the path of a file holding the input (static buffer); aborts when the memfd fails. */
static const char *fuzz_input_path(const char *name, const uint8_t *data, size_t size,
                                   const char *magic)
{
    static int memfd = -1;
    static char path[64];
    if (memfd < 0) {
        memfd = memfd_create(name, MFD_CLOEXEC);
        if (memfd < 0)
            abort();
    }
    if (ftruncate(memfd, 0) != 0 || lseek(memfd, 0, SEEK_SET) != 0)
        abort();
    size_t ml = magic ? strlen(magic) : 0;
    if (ml && size >= 1 && (size < ml || memcmp(data, magic, ml) != 0) && (data[0] & 1)) {
        if (fuzz_write_all(memfd, (const uint8_t *)magic, ml) != 0)
            abort();
        data++;
        size--;
    }
    if (fuzz_write_all(memfd, data, size) != 0)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    return path;
}

#endif
