/* dumpsleuth: PE images as mapped in a dumped process, read through the memory view.
 * Works on partially captured images: each part that cannot be read is reported, not guessed. */
#ifndef DUMPSLEUTH_PE_H
#define DUMPSLEUTH_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/diag.h"
#include "dumpsleuth/dump.h"
#include "dumpsleuth/vmem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ds_pe_section {
    char name[9];
    uint32_t vaddr, vsize, raw_off, raw_size, characteristics;
} ds_pe_section;

typedef struct ds_pe_export {
    uint32_t ordinal; /* biased ordinal (what callers use) */
    uint32_t rva;     /* 0 for forwarders */
    char *name;       /* NULL when exported by ordinal only (owned) */
    char *forwarder;  /* "DLL.Func" when forwarded (owned), else NULL */
} ds_pe_export;

typedef struct ds_pe_runtime_function { /* x64 .pdata entry */
    uint32_t begin, end, unwind;
} ds_pe_runtime_function;

/* Which parts of the image could be read. */
enum {
    DS_PE_HAVE_HEADERS = 1u << 0,
    DS_PE_HAVE_EXPORTS = 1u << 1,
    DS_PE_HAVE_DEBUG = 1u << 2,
    DS_PE_HAVE_VERSION = 1u << 3,
    DS_PE_HAVE_PDATA = 1u << 4,
    DS_PE_HAVE_CLR = 1u << 5
};

typedef struct ds_pe {
    uint64_t base;
    uint16_t machine;
    bool pe32plus;
    uint32_t timestamp, checksum, size_of_image, size_of_headers, entry_rva;
    uint16_t characteristics, subsystem, dll_characteristics;
    uint64_t image_base; /* from the optional header */
    uint32_t ndirs;
    uint32_t dir_rva[16], dir_size[16];
    ds_pe_section *sections;
    size_t nsections;
    /* exports */
    char *export_name; /* DLL name in the export directory (owned) */
    uint32_t export_base;
    uint32_t export_timestamp; /* TimeDateStamp of the export directory */
    ds_pe_export *exports;
    size_t nexports;
    /* CodeView */
    ds_codeview cv;
    /* version resource (VS_FIXEDFILEINFO) */
    ds_version file_version, product_version;
    uint32_t file_flags, file_os, file_type;
    /* .pdata (x64) */
    ds_pe_runtime_function *pdata; /* valid entries only, in image order */
    size_t npdata;
    bool pdata_sorted; /* entries ascending and non-overlapping (binary search is valid) */
    /* CLR (COR20) header */
    bool has_clr;
    uint16_t clr_major, clr_minor;
    uint32_t clr_flags;
    uint32_t clr_metadata_rva, clr_metadata_size;
    uint64_t clr_metadata_va; /* base + rva */
    char clr_version[64];     /* from the metadata root ("v4.0.30319") when readable */
    uint32_t have;            /* DS_PE_HAVE_* */
    uint32_t missing; /* parts that exist in the headers but could not be read (page not in the
                       * dump) or were skipped as corrupt; each comes with a diagnostic */
} ds_pe;

/* Parses the image mapped at `base`. Returns DS_OK, DS_E_PARTIAL (some parts unreadable: see
 * `missing` and diags), DS_E_FORMAT (no valid MZ/PE headers) or DS_E_NOTFOUND (headers not in the
 * dump). `diags` may be NULL. Never reads outside the view; every size is checked. */
ds_status ds_pe_parse(ds_vmem *vm, uint64_t base, ds_pe *pe, ds_diags *diags);
void ds_pe_free(ds_pe *pe);
/* Export lookup helpers. */
const ds_pe_export *ds_pe_export_by_name(const ds_pe *pe, const char *name);
const ds_pe_export *ds_pe_export_by_ordinal(const ds_pe *pe, uint32_t ordinal);
/* Section containing rva, or NULL. */
const ds_pe_section *ds_pe_section_at(const ds_pe *pe, uint32_t rva);

/* Finds a resource by type (type_name when non-NULL, else type_id) and name (name_str when
 * non-NULL, else name_id; 0 = the first entry), in its first language, and returns the rva and
 * size of its data. Names compare case-insensitively. The walk is bounded (3 levels, 4096
 * entries per level), so looping directories end; false when absent, unreadable or corrupt. */
bool ds_pe_find_resource(ds_vmem *vm, const ds_pe *pe, uint32_t type_id, const char *type_name,
                         uint32_t name_id, const char *name_str, uint32_t *rva, uint32_t *size);

#ifdef __cplusplus
}
#endif
#endif
