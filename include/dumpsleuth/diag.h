/* dumpsleuth: status codes and diagnostics (errors and warnings with context). */
#ifndef DUMPSLEUTH_DIAG_H
#define DUMPSLEUTH_DIAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status of a library call. Also the basis of the CLI exit codes (see docs/exit-codes.md). */
typedef enum ds_status {
    DS_OK = 0,
    DS_E_NOMEM = 1,       /* out of memory */
    DS_E_USAGE = 2,       /* bad arguments (CLI) */
    DS_E_IO = 3,          /* file cannot be opened, mapped or read */
    DS_E_FORMAT = 4,      /* not a dump we know, or its essential headers are corrupt */
    DS_E_UNSUPPORTED = 5, /* valid input, but this analysis is impossible for it */
    DS_E_PARTIAL = 6,     /* results were produced, but damaged structures were skipped */
    DS_E_NOTFOUND = 7     /* the thing asked for is not in the dump */
} ds_status;

typedef enum ds_severity { DS_SEV_NOTE = 0, DS_SEV_WARNING = 1, DS_SEV_ERROR = 2 } ds_severity;

/* One diagnostic: which structure, at which file offset (or address), what is wrong. */
typedef struct ds_diag {
    ds_severity severity;
    char structure[48]; /* e.g. "MINIDUMP_DIRECTORY[3]", "Elf64_Phdr[12]" */
    int has_offset;     /* offset is a file offset */
    uint64_t offset;
    int has_address; /* address is a virtual address in the dumped process */
    uint64_t address;
    char message[208];
} ds_diag;

typedef struct ds_diags {
    ds_diag *v;
    size_t n, cap;
    size_t dropped;     /* diagnostics not stored because the list was full */
    size_t max_entries; /* 0 = default (1000) */
} ds_diags;

void ds_diags_init(ds_diags *d);
void ds_diags_free(ds_diags *d);
/* Adds a diagnostic; never fails (drops and counts when out of memory or full). */
void ds_diag_add(ds_diags *d, ds_severity sev, const char *structure, int has_offset,
                 uint64_t offset, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void ds_diag_add_addr(ds_diags *d, ds_severity sev, const char *structure, uint64_t address,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t ds_diags_count(const ds_diags *d, ds_severity min_sev);
const char *ds_status_str(ds_status s);

#ifdef __cplusplus
}
#endif
#endif
