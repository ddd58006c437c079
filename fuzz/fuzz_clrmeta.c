/* libFuzzer target: the input is a raw ECMA-335 metadata blob (from the BSJB signature on).
 * Opens it from a buffer and, when it opens, through a memory view with a hole in the middle
 * (partially captured metadata), then names every TypeDef/TypeRef (bounded), walks the field
 * runs, the assembly/module identity, and closes. Any crash, hang or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dumpsleuth/clrmeta.h"

static void exercise(const ds_clrmeta *m)
{
    char buf[DS_CLRMETA_NAME_MAX];
    uint32_t ntd = ds_clrmeta_typedef_count(m), ntr = ds_clrmeta_typeref_count(m);
    for (uint32_t r = 0; r <= ntd + 1 && r < 4096; r++) {
        ds_clrmeta_typedef_name(m, r, buf, sizeof buf);
        ds_clrmeta_typedef_name(m, r, buf, 8);
        ds_clrmeta_typedef t;
        ds_clrmeta_typedef_props(m, r, &t);
        uint32_t first = 0, count = 0, fr = 0;
        if (ds_clrmeta_typedef_fields(m, r, &first, &count) == DS_OK)
            for (uint32_t i = 0; i < count && i < 32; i++) {
                uint16_t fl;
                ds_clrmeta_field_name(m, first + i, buf, sizeof buf);
                ds_clrmeta_field_flags(m, first + i, &fl);
            }
        ds_clrmeta_find_field(m, r, "Created", &fr);
    }
    for (uint32_t r = 0; r <= ntr + 1 && r < 4096; r++) {
        uint32_t scope = 0;
        ds_clrmeta_typeref_name(m, r, buf, sizeof buf);
        ds_clrmeta_typeref_scope(m, r, &scope, buf, sizeof buf);
    }
    uint16_t v[4];
    uint8_t g[16];
    uint32_t rid;
    ds_clrmeta_token_name(m, 0x02000002u, buf, sizeof buf);
    ds_clrmeta_assembly_name(m, buf, sizeof buf, v);
    ds_clrmeta_assemblyref_name(m, 1, buf, sizeof buf);
    ds_clrmeta_module_name(m, buf, sizeof buf);
    ds_clrmeta_mvid(m, g);
    if (ntd < 512)
        ds_clrmeta_find_typedef(m, "DsLeak.Font", &rid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_clrmeta *m = NULL;
    ds_status st = ds_clrmeta_open_buf(data, size, &m, NULL);
    if (!m)
        return 0;
    (void)st;
    exercise(m);
    ds_clrmeta_close(m);

    /* the same bytes mapped with the middle 1/8 not captured */
    if (size < 32 || size > 0xffffffu)
        return 0;
    const uint64_t va = 0x7ff000001000ULL;
    uint64_t hole = size / 2, hole_len = size / 8 ? size / 8 : 1;
    ds_vmem vm;
    ds_vmem_init(&vm, data, size, 8);
    ds_vmem_add(&vm, va, hole, DS_RANGE_DATA, 0, 0);
    ds_vmem_add(&vm, va + hole, hole_len, DS_RANGE_NOT_CAPTURED, 0, 1);
    ds_vmem_add(&vm, va + hole + hole_len, size - hole - hole_len, DS_RANGE_DATA, hole + hole_len,
                2);
    ds_vmem_finish(&vm);
    ds_diags d;
    ds_diags_init(&d);
    if (ds_clrmeta_open_vm(&vm, va, (uint32_t)size, &m, &d) == DS_OK || m) {
        exercise(m);
        ds_clrmeta_close(m);
    }
    ds_diags_free(&d);
    ds_vmem_free(&vm);
    return 0;
}
