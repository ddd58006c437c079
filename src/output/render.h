/* dumpsleuth: renderers. Each command's data is turned into WinDbg-shaped text (on a FILE*) or
 * into a cJSON tree by a pair of functions that read the same structures, so text and JSON
 * cannot disagree. Nothing here computes analyses or decides exit codes. */
#ifndef DS_OUTPUT_RENDER_H
#define DS_OUTPUT_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/capabilities.h"
#include "dumpsleuth/dump.h"

#define DS_SCHEMA_ID "https://dumpsleuth.dev/schema/v1"
#define DS_SCHEMA_VERSION "1.0"

/* ---- JSON helpers (numbers that may exceed 2^53 are strings "0x...") ---- */
void ds_json_add_addr(cJSON *o, const char *key, uint64_t v);
/* "0x..." or null when !valid */
void ds_json_add_addr_or_null(cJSON *o, const char *key, bool valid, uint64_t v);
void ds_json_add_uint(cJSON *o, const char *key, uint64_t v);
void ds_json_add_str_or_null(cJSON *o, const char *key, const char *s);
/* stable JSON key of a format: "minidump", "elfcore", "kdump", "unknown" */
const char *ds_format_key(ds_format f);
/* stable short names of a status: "ok", "io", "format", ... */
const char *ds_status_key(ds_status s);
/* The process exit code for a status (docs/exit-codes.md): 0..6 as in ds_status, NOTFOUND -> 5. */
int ds_exit_code(ds_status s);

/* ---- diagnostics ---- */
/* "dumpsleuth: <file>: <structure> at offset 0x<off>: <message>" (or "at address 0x...") */
void ds_diag_print(FILE *f, const char *path, const ds_diag *g);
/* Prints every diagnostic with severity >= min_sev, plus a line for dropped ones. */
void ds_diags_print(FILE *f, const char *path, const ds_diags *d, ds_severity min_sev);
cJSON *ds_diag_json(const ds_diag *g);

/* ---- the envelope ---- */
typedef struct ds_envelope {
    const char *tool_version;
    const char *command; /* may be NULL (usage errors before a command) */
    const char *path;    /* may be NULL */
    const ds_dump *dump; /* NULL when the dump could not be opened */
    bool has_file_size;  /* for a dump that could not be opened */
    uint64_t file_size;
    cJSON *result;             /* taken over; NULL -> "result": null */
    const ds_diags *diags[2];  /* warnings sources (may be NULL) */
    ds_status error;           /* DS_OK/DS_E_PARTIAL: no "error" object */
    const char *error_message; /* for the "error" object */
} ds_envelope;
cJSON *ds_envelope_build(const ds_envelope *e);
/* Prints a cJSON tree (formatted) and a newline; frees it. Returns false when out of memory. */
bool ds_json_print(FILE *f, cJSON *root);

/* ---- info ---- */
const char *ds_arch_display(const ds_dump *d, char *buf,
                            size_t n); /* "x64 (WoW64: 32-bit process)" */
void ds_info_text(FILE *f, const ds_dump *d, const ds_capabilities *caps);
cJSON *ds_info_json(const ds_dump *d, const ds_capabilities *caps);

/* ---- modules ---- */
typedef struct ds_modules_view {
    const ds_dump *dump;
    const ds_module **loaded; /* the selected loaded modules, in dump order */
    size_t nloaded;
    const ds_module **unloaded; /* the selected unloaded modules */
    size_t nunloaded;
    bool show_loaded, show_unloaded;
    bool verbose;
    const char *pattern; /* the `m <pattern>` filter, or NULL */
} ds_modules_view;
/* WinDbg's module name: the file name without a Windows image extension ("ntdll"). */
const char *ds_module_short_name(const ds_module *m, char *buf, size_t n);
void ds_modules_text(FILE *f, const ds_modules_view *v);
cJSON *ds_modules_json(const ds_modules_view *v);

/* ---- threads ---- */
void ds_threads_text(FILE *f, const ds_dump *d);
cJSON *ds_threads_json(const ds_dump *d);

#endif
