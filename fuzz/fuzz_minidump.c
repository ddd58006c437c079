/* libFuzzer target for the minidump reader.
 *
 * ds_dump_open takes a path, so the input is written to one memfd (reused across runs) and opened
 * through /proc/self/fd/N: the whole public path runs (mapping, probe, reader, PE enrichment).
 * Inputs that do not start with "MDMP" get it prepended half of the time, so the fuzzer spends
 * its effort inside the reader rather than on the probe. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumpsleuth/dump.h"

static int memfd = -1;

static int write_all(int fd, const uint8_t *p, size_t n)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_minidump", MFD_CLOEXEC);
        if (memfd < 0)
            abort();
    }
    if (ftruncate(memfd, 0) != 0 || lseek(memfd, 0, SEEK_SET) != 0)
        abort();
    if (size >= 1 && (size < 4 || memcmp(data, "MDMP", 4) != 0) && (data[0] & 1)) {
        if (write_all(memfd, (const uint8_t *)"MDMP", 4) != 0)
            abort();
        data++;
        size--;
    }
    if (write_all(memfd, data, size) != 0)
        abort();

    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    ds_dump *d = NULL;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_status s = ds_dump_open(path, &d, &dg);
    if ((s == DS_OK || s == DS_E_PARTIAL) != (d != NULL))
        abort(); /* the status contract */
    if (d) {
        volatile uint64_t sink = 0;
        for (size_t i = 0; i < d->nthreads; i++) {
            const ds_thread *t = &d->threads[i];
            if (t->has_context && t->context_size)
                sink += t->context[0] + t->context[t->context_size - 1];
            uint8_t buf[32];
            size_t got = 0;
            ds_vmem_read(&d->vm, t->sp, buf, sizeof buf, &got);
            sink += got + t->pc + t->teb32 + t->stack_base;
            sink += strlen(t->name);
        }
        for (size_t i = 0; i < d->nmodules; i++) {
            const ds_module *m = &d->modules[i];
            sink += strlen(m->path) + strlen(m->name) + strlen(m->cv.pdb);
            sink += (uintptr_t)ds_module_at(d, m->base);
        }
        for (size_t i = 0; i < d->nunloaded; i++)
            sink += strlen(d->unloaded[i].path);
        for (size_t i = 0; i < d->nhandles; i++)
            sink += (d->handles[i].type_name ? strlen(d->handles[i].type_name) : 0) +
                    (d->handles[i].object_name ? strlen(d->handles[i].object_name) : 0);
        for (size_t i = 0; i < d->nregions; i++)
            sink += (uintptr_t)ds_region_at(d, d->regions[i].base);
        for (size_t i = 0; i < d->nstreams; i++)
            sink += strlen(d->streams[i].name);
        for (size_t i = 0; i < d->lnx.nfiles; i++)
            sink += strlen(d->lnx.files[i].path);
        if (d->exc.present)
            sink += strlen(d->exc.name) + (d->exc.has_context ? d->exc.context[0] : 0);
        if (d->comment_a)
            sink += strlen(d->comment_a);
        if (d->comment_w)
            sink += strlen(d->comment_w);
        sink += strlen(d->sys.os_text) + strlen(d->kind_reason);
        (void)sink;
        ds_dump_close(d);
    }
    ds_diags_free(&dg);
    return 0;
}
