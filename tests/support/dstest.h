/* Shared helpers for dumpsleuth's cmocka tests. */
#ifndef DSTEST_H
#define DSTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/clr.h"
#include "dumpsleuth/dump.h"

/* Exit code that ctest treats as "skipped" (SKIP_RETURN_CODE). */
#define DSTEST_SKIP 77

/* Path of a file in ../shared/corpus (static buffer), or NULL when the corpus is absent. */
const char *dstest_corpus(const char *name);
/* Path of a decompressed fixture in the build tree (static buffer), or NULL when absent. */
const char *dstest_fixture(const char *name);
/* Path of a file in tests/data (static buffer). */
const char *dstest_data(const char *name);
/* Exits with DSTEST_SKIP (and a message) when the corpus / a fixture is not available. */
void dstest_require_corpus(void);
void dstest_require_fixture(const char *name);
/* Reads and parses a JSON file (fixture truth files). Fails the test when unreadable. */
cJSON *dstest_load_json(const char *path);
/* Reads a whole file into memory (for building in-memory test images). */
uint8_t *dstest_read_file(const char *path, size_t *len);

/* Opens fixture `name`: NULL when it is absent (the caller skips); fails the test when the dump
 * does not open (DS_OK or DS_E_PARTIAL). */
ds_dump *dstest_open_dump(const char *name);
/* Opens fixture `name` ("x.dmp") and its truth file ("x.truth.json"; not loaded when truth is
 * NULL). Returns false when either is absent (the caller skips); fails the test when the dump does
 * not open. */
bool dstest_open_fixture(const char *name, ds_dump **d, cJSON **truth);
/* A file of the source tree ($DS_SOURCE_DIR/rel, e.g. "fixtures/data/x.sos.txt") as a
 * NUL-terminated string (malloc'ed), or NULL when it is absent. */
char *dstest_source_text(const char *rel);

/* JSON members of truth files: a number, a hex string ("0x7ff..."); fail the test when absent or
 * of another type. */
uint64_t dstest_json_num(const cJSON *o, const char *key);
uint64_t dstest_json_hex(const cJSON *o, const char *key);

/* The module called `name` in d's module list, or NULL. */
const ds_module *dstest_module_named(const ds_dump *d, const char *name);

/* The directory holding the libcoreclr.so the symbol tests use: $env_var when set, else
 * fallback_dir. Exits with DSTEST_SKIP (and a message) when it has no readable libcoreclr.so. */
const char *dstest_require_coreclr(const char *env_var, const char *fallback_dir);

/* The symbol route on fixture `name` with the libcoreclr.so of dir: the runtime is found through
 * the symbols (DS_CLR_ROUTE_SYMBOLS), the threads read, and the finalizer thread found by RVA
 * (non-zero) is the one g_pFinalizerThread names ("--runtime-dir" given as its source), with no
 * warning. */
void dstest_clr_symbol_finalizer(const char *name, const char *dir);

/* ---- the .NET fixtures (fixtures/make-dotnet-fixtures.sh), each with its truth file ---- */

typedef struct dstest_dotnet {
    const char *name; /* "dotnet-2.0-linux-x64.core" */
    bool linux_core;  /* a Linux core: fixtures/data has its gdb queue dump (.fq-gdb.txt) and, for
                         the 2.x ones, SOS's output (.sos.txt; the 3.x packages ship no SOS) */
    bool server_gc;   /* the scenario ran with server GC (the truth's runtime.server_gc) */
} dstest_dotnet;
extern const dstest_dotnet dstest_dotnet_fixtures[];
extern const size_t dstest_ndotnet;
/* The entry of fixture `name` (fails the test when it is not in the list). */
const dstest_dotnet *dstest_dotnet_named(const char *name);

/* What dstest_clr_open opens besides the dump and the truth file. */
enum {
    DSTEST_CLR_HEAP = 1,    /* the managed heap (asserted DS_OK, with the truth's GC mode) */
    DSTEST_CLR_THREADS = 2, /* the runtime and its managed threads (both asserted DS_OK) */
    DSTEST_CLR_LINUX = 4    /* dstest_clr_each: only the Linux cores */
};

/* An open .NET fixture. */
typedef struct dstest_clr {
    const dstest_dotnet *fx;
    ds_dump *d;
    cJSON *truth;
    unsigned what;     /* DSTEST_CLR_* opened */
    ds_clr_heap h;     /* DSTEST_CLR_HEAP */
    ds_clr_runtime rt; /* DSTEST_CLR_THREADS */
    ds_clr_threads t;  /* DSTEST_CLR_THREADS */
} dstest_clr;

/* Opens fixture fx, its truth file and what `what` asks for. The heap: ds_clr_heap_open returns
 * DS_OK, the GC mode is the truth's (runtime.server_gc, also fx->server_gc) and the number of GC
 * heaps its processor_count with server GC, else 1. Returns false (nothing to close) when the dump
 * or its truth file is absent. */
bool dstest_clr_open(const dstest_dotnet *fx, unsigned what, dstest_clr *c);
void dstest_clr_close(dstest_clr *c);

/* Calls fn for every .NET fixture present (only the Linux cores with DSTEST_CLR_LINUX), opened
 * with dstest_clr_open(what). fn returns whether it checked the fixture (false: it has nothing
 * to check there, e.g. no oracle file); the test is skipped when no call checked anything. */
typedef bool (*dstest_clr_fn)(dstest_clr *c, void *ctx);
void dstest_clr_each(unsigned what, dstest_clr_fn fn, void *ctx);

/* ---- building test files in memory ---- */

/* A growing byte buffer; zero-initialise it. The functions fail the test when out of memory. */
typedef struct dstest_buf {
    uint8_t *b;
    size_t n, cap;
} dstest_buf;
/* Makes room for n more bytes (the new room is zeroed). */
void dstest_reserve(dstest_buf *x, size_t n);
/* Appends n bytes of p / n zero bytes / v as a size-byte little- or big-endian number. */
void dstest_put(dstest_buf *x, const void *p, size_t n);
void dstest_zeros(dstest_buf *x, size_t n);
void dstest_put_le(dstest_buf *x, uint64_t v, unsigned size);
void dstest_put_be(dstest_buf *x, uint64_t v, unsigned size);
/* Appends zero bytes up to a multiple of a. */
void dstest_align(dstest_buf *x, size_t a);
/* Overwrites size bytes at off with v, little-endian (off + size must lie inside x->n). */
void dstest_set_le(dstest_buf *x, size_t off, uint64_t v, unsigned size);
/* Appends an ELF note (namesz, descsz, type, the owner with its NUL, desc; both 4-aligned). */
void dstest_elf_note(dstest_buf *x, const char *owner, uint32_t type, const void *desc,
                     size_t descsz);
/* Writes n bytes to path (replacing it). */
void dstest_write_file(const char *path, const void *b, size_t n);
/* Writes n bytes to a new file /tmp/<prefix>-XXXXXX; returns its path (malloc'ed). */
char *dstest_write_temp(const char *prefix, const void *b, size_t n);

/* A PE file mapped as the Windows loader maps it: headers, then each section at its VirtualAddress
 * in a zero-filled buffer of SizeOfImage bytes (img is malloc'ed). The input files are test data
 * we built (checked by asserts, not treated as hostile). */
typedef struct dstest_mapped {
    uint8_t *img;
    uint32_t size;
} dstest_mapped;
dstest_mapped dstest_map_pe(const uint8_t *f, size_t flen);

#endif
