/* TEMPORARY link stub: replaced by elfcore.c and kdump.c. */
#include "dumpsleuth/dump.h"
bool ds_elfcore_probe(const uint8_t *p, uint64_t n)
{
    (void)p;
    (void)n;
    return false;
}
ds_status ds_elfcore_read(ds_dump *d)
{
    (void)d;
    return DS_E_FORMAT;
}
bool ds_kdump_probe(const uint8_t *p, uint64_t n)
{
    (void)p;
    (void)n;
    return false;
}
ds_status ds_kdump_read(ds_dump *d)
{
    (void)d;
    return DS_E_FORMAT;
}
