/* libFuzzer target: the input is a PE image as mapped in memory (headers at rva 0, sections at
 * their VirtualAddress), placed in a view at 0x140000000. Parses it, runs the lookups, frees. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dumpsleuth/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint64_t base = 0x140000000ULL;
    ds_vmem vm;
    ds_vmem_init(&vm, data, size, 8);
    if (size && !ds_vmem_add(&vm, base, size, DS_RANGE_DATA, 0, 0)) {
        ds_vmem_free(&vm);
        return 0;
    }
    /* the rest of a claimed SizeOfImage is "mapped, not captured" (exercises the partial paths) */
    ds_vmem_add(&vm, base + size, 0x10000, DS_RANGE_NOT_CAPTURED, 0, 1);
    ds_vmem_finish(&vm);

    ds_diags diags;
    ds_diags_init(&diags);
    ds_pe pe;
    ds_status st = ds_pe_parse(&vm, base, &pe, &diags);
    (void)st;
    ds_pe_export_by_name(&pe, "Alpha");
    ds_pe_export_by_name(&pe, "");
    ds_pe_export_by_ordinal(&pe, 1);
    ds_pe_export_by_ordinal(&pe, pe.export_base);
    ds_pe_section_at(&pe, pe.entry_rva);
    for (size_t i = 0; i < pe.nexports && i < 16; i++) {
        if (pe.exports[i].name)
            ds_pe_export_by_name(&pe, pe.exports[i].name);
        ds_pe_section_at(&pe, pe.exports[i].rva);
    }
    uint32_t rva = 0, rsz = 0;
    ds_pe_find_resource(&vm, &pe, 16, NULL, 0, NULL, &rva, &rsz);
    ds_pe_find_resource(&vm, &pe, 24, NULL, 1, NULL, &rva, &rsz);
    ds_pe_find_resource(&vm, &pe, 0, "MUI", 0, "FOO", &rva, &rsz);
    ds_pe_free(&pe);
    ds_diags_free(&diags);
    ds_vmem_free(&vm);
    return 0;
}
