/* libFuzzer target: the managed-heap reader on hostile memory. The input is the memory of a fake
 * process at BASE: (1) as the data of a module named libcoreclr.so, so that runtime discovery (the
 * GcDacVars signature scan), the generation table, the segment chains, the object walk with
 * MethodTable validation, type names (metadata search) and the finalization queue all run on it;
 * (2) as one small-object-heap segment and a CFinalize of a hand-built heap, so that the walk and
 * the queue run even when discovery fails. Any crash, hang or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clr/clr_priv.h"
#include "dumpsleuth/clr.h"

#define BASE 0x10000000ull

static int name_cb(void *ctx, const ds_clr_object *o)
{
    ds_clr_heap *h = ctx;
    if (!o->free)
        ds_clr_type_name(h, o->mt);
    return 0;
}

static void exercise(ds_clr_heap *h, ds_diags *diags)
{
    ds_clr_stats s;
    ds_clr_walk_stats ws;
    ds_clr_dumpheap_stat(h, &s, &ws, NULL, NULL, diags);
    ds_clr_stats_free(&s);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_walk(h, name_cb, h, NULL, NULL, &ws, diags);
    ds_clr_walk_stats_free(&ws);
    ds_clr_finq q;
    ds_clr_finalize_queue(h, &q, diags);
    ds_clr_finq_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16 || size > (1u << 20))
        return 0;
    unsigned P = (data[0] & 1) ? 4 : 8;
    ds_dump d;
    memset(&d, 0, sizeof d);
    ds_vmem_init(&d.vm, data, size, P);
    ds_vmem_add(&d.vm, BASE, size, DS_RANGE_DATA, 0, 0);
    ds_vmem_finish(&d.vm);
    ds_diags_init(&d.diags);
    d.sys.ptr_size = P;
    char path[] = "/x/Microsoft.NETCore.App/2.1.0/libcoreclr.so";
    ds_module m;
    memset(&m, 0, sizeof m);
    m.base = BASE;
    m.size = size;
    m.path = path;
    m.name = path + 31;
    d.modules = &m;
    d.nmodules = 1;

    ds_clr_heap h;
    ds_status st = ds_clr_heap_open(&d, NULL, &h, &d.diags);
    if ((st == DS_OK || st == DS_E_PARTIAL) && h.nsegs)
        exercise(&h, &d.diags);
    ds_clr_heap_close(&h);

    /* hand-built heap: CFinalize at BASE, one segment over the rest */
    memset(&h, 0, sizeof h);
    h.dump = &d;
    h.ptr = P;
    h.min_obj = 3ull * P;
    h.loader_rel = -1;
    h.priv = calloc(1, sizeof(clr_priv));
    h.heaps = calloc(1, sizeof *h.heaps);
    h.segs = calloc(1, sizeof *h.segs);
    if (h.priv && h.heaps && h.segs) {
        h.nheaps = 1;
        h.nsegs = 1;
        h.heaps[0].finalize_queue = BASE;
        h.segs[0].mem = BASE + 64;
        h.segs[0].walk_end = BASE + size;
        h.segs[0].kind = (data[0] & 2) ? DS_CLR_SEG_LOH : DS_CLR_SEG_SOH;
        h.total_size = size - 64;
        exercise(&h, &d.diags);
    }
    ds_clr_heap_close(&h);
    ds_diags_free(&d.diags);
    ds_vmem_free(&d.vm);
    return 0;
}
