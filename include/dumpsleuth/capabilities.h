/* dumpsleuth: what each analysis can do with a given dump (shown by `info`).
 *
 * A pure function of the dump description: it reads a few words of memory (PEB, process heap,
 * runtime module headers) through a private copy of the memory view and never prints. */
#ifndef DUMPSLEUTH_CAPABILITIES_H
#define DUMPSLEUTH_CAPABILITIES_H

#include <stdint.h>

#include "dumpsleuth/dump.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_cap_level { DS_CAP_NO = 0, DS_CAP_PARTIAL = 1, DS_CAP_YES = 2 } ds_cap_level;

typedef enum ds_cap_id {
    DS_CAP_REGIONS = 0, /* summary / regions: the region table (!address) */
    DS_CAP_MEMORY,      /* search / extract / profile: captured memory contents */
    DS_CAP_NTHEAP,      /* NT heap walk: PEB + heap memory */
    DS_CAP_CLRHEAP,     /* CLR (GC) heap: coreclr/clr module + its memory */
    DS_CAP_THREADS,     /* threads & stacks: thread list, contexts, stack memory */
    DS_CAP_COUNT
} ds_cap_id;

typedef struct ds_capability {
    ds_cap_id id;
    const char *key;   /* stable JSON key: "regions", "memory", "nt_heap", "clr_heap", "threads" */
    const char *title; /* "region table (summary, regions)", ... */
    ds_cap_level level;
    char reason[240]; /* what is missing (or, for "yes", what it is based on) */
} ds_capability;

typedef struct ds_capabilities {
    ds_capability cap[DS_CAP_COUNT];
    uint64_t captured_bytes; /* memory bytes present in the dump (DATA ranges of the view) */
    uint64_t mapped_bytes;   /* committed/mapped bytes known from the region table (0: unknown) */
    uint64_t peb;            /* PEB used for the heap check (0: unknown) */
    uint64_t process_heap;   /* PEB.ProcessHeap when readable */
    int clr_module;          /* index of the runtime module in dump->modules, or -1 */
    const char *clr_flavor;  /* "coreclr", "clr" (.NET Framework 4), "mscorwks" (2.0-3.5) or NULL */
} ds_capabilities;

void ds_capabilities_compute(const ds_dump *d, ds_capabilities *out);
const char *ds_cap_level_name(ds_cap_level l); /* "yes", "partial", "no" */

#ifdef __cplusplus
}
#endif
#endif
