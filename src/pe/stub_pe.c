/* TEMPORARY link stub: replaced by pe.c. */
#include <string.h>
#include "dumpsleuth/pe.h"
ds_status ds_pe_parse(ds_vmem *vm, uint64_t base, ds_pe *pe, ds_diags *diags)
{
    (void)vm;
    (void)base;
    (void)diags;
    memset(pe, 0, sizeof *pe);
    return DS_E_NOTFOUND;
}
void ds_pe_free(ds_pe *pe)
{
    (void)pe;
}
