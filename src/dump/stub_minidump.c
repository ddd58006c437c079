/* TEMPORARY link stub: replaced by minidump.c. */
#include "dumpsleuth/dump.h"
bool ds_minidump_probe(const uint8_t *p, uint64_t n)
{
    (void)p;
    (void)n;
    return false;
}
ds_status ds_minidump_read(ds_dump *d)
{
    (void)d;
    return DS_E_FORMAT;
}
