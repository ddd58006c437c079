/* libFuzzer target for the minidump reader.
 *
 * ds_dump_open takes a path, so the input is written to one memfd (reused across runs) and opened
 * through /proc/self/fd/N: the whole public path runs (mapping, probe, reader, PE enrichment).
 * Inputs that do not start with "MDMP" get it prepended half of the time, so the fuzzer spends
 * its effort inside the reader rather than on the probe. */
#include <stdint.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path("fuzz_minidump", data, size, "MDMP");
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
