/* libFuzzer target: any input is written to a memfd and opened with ds_dump_open (so every
 * reader's probe sees it; ELF cores go to elfcore.c), then the result is walked and closed.
 * Build: clang -fsanitize=fuzzer,address -Iinclude -Isrc fuzz/fuzz_elfcore.c <lib sources>
 * (or configure with CC=clang -DDS_FUZZ=ON). */
#include <stdint.h>

#include "dumpsleuth/dump.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path("fuzz_elfcore", data, size, NULL);
    ds_diags dg;
    ds_diags_init(&dg);
    ds_dump *d = NULL;
    ds_dump_open(path, &d, &dg);
    if (d) {
        volatile uint64_t sink = 0;
        uint8_t buf[64];
        for (size_t i = 0; i < d->nregions && i < 256; i++)
            if (ds_vmem_read(&d->vm, d->regions[i].base, buf, sizeof buf, NULL) == DS_MEM_OK)
                sink += buf[0];
        for (size_t i = 0; i < d->nthreads; i++) {
            if (d->threads[i].context && d->threads[i].context_size)
                sink += d->threads[i].context[d->threads[i].context_size - 1];
            sink += d->threads[i].pc;
        }
        for (size_t i = 0; i < d->nmodules; i++)
            sink +=
                d->modules[i].base + d->modules[i].cv.build_id_len + (uint8_t)d->modules[i].name[0];
        for (size_t i = 0; i < d->lnx.nfiles; i++)
            sink += (uint8_t)d->lnx.files[i].path[0];
        for (size_t i = 0; i < d->nstreams; i++)
            sink += d->streams[i].size;
        for (const ds_range *r = ds_vmem_next(&d->vm, 0); r && sink != 1;
             r = r->va + r->size ? ds_vmem_next(&d->vm, r->va + r->size) : NULL)
            sink += r->kind;
        (void)sink;
        ds_dump_close(d);
    }
    ds_diags_free(&dg);
    return 0;
}
