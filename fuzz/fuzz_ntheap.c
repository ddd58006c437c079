/* libFuzzer target for the NT-heap walker: the input is a minidump (written to a memfd and opened
 * through /proc/self/fd/N (fuzz_input.h)), then every heap is walked with entries kept, and
 * the -stat and lookup helpers run over the result. Inputs that do not start with "MDMP" get it
 * prepended half of the time. Seeds: the minidump seeds (scripts/fuzz.sh falls back to them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dumpsleuth/dump.h"
#include "dumpsleuth/ntheap.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path("fuzz_ntheap", data, size, "MDMP");
    ds_dump *d = NULL;
    if (ds_dump_open(path, &d, NULL) != DS_OK && !d)
        return 0;
    if (!d)
        return 0;
    ds_heap_set set;
    ds_diags dg;
    ds_diags_init(&dg);
    ds_heap_options opt = {.entries = true};
    ds_status st = ds_heaps_open(d, &opt, &set, &dg);
    if ((st == DS_E_NOTFOUND || st == DS_E_UNSUPPORTED) && set.nheaps)
        abort(); /* the status contract */
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < set.nheaps; i++) {
        const ds_heap *h = &set.heaps[i];
        sink += strlen(h->why) + strlen(h->layout_name) + strlen(h->lfh.why) +
                strlen(h->seg.not_walked);
        for (size_t j = 0; j < h->nissues; j++)
            sink += strlen(h->issues[j].detail) + strlen(ds_heap_issue_name(h->issues[j].kind));
        for (size_t j = 0; j < h->nentries; j++) {
            const ds_heap_entry *e = &h->entries[j];
            if (e->user_size > e->size && e->kind != DS_HEAP_ENTRY_VIRTUAL)
                abort(); /* a user size larger than its block is a walker bug */
            sink += strlen(ds_heap_entry_kind_name((ds_heap_entry_kind)e->kind));
        }
        for (size_t j = 0; j < h->nsegments; j++)
            for (size_t k = 0; k < h->segments[j].nucrs; k++)
                sink += h->segments[j].ucrs[k].size;
        if (h->nentries) {
            ds_heap_lookup lk = ds_heap_find(&set, h->entries[h->nentries / 2].addr);
            if (!lk.found)
                abort(); /* every kept entry must be found again */
        }
    }
    ds_heap_stat stat;
    if (ds_heap_stat_compute(&set, 0, DS_HEAP_STAT_BY_COUNT, &stat) == DS_OK)
        ds_heap_stat_free(&stat);
    (void)sink;
    ds_heaps_close(&set);
    ds_diags_free(&dg);
    ds_dump_close(d);
    return 0;
}
