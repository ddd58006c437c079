/* dumpsleuth: the .NET managed heap without the DAC and without symbols.
 *
 * Everything is read from the runtime's own data structures through the memory view:
 *   1. runtime discovery: coreclr.dll / libcoreclr.so in the module list, its version, then the
 *      GC globals (GcDacVars) through the DAC table resource (Windows) or a signature scan of the
 *      runtime's writable data (any OS);
 *   2. the GC heap: generation table, segments (SOH, LOH), a linear object walk that validates
 *      every MethodTable, skips allocation-context gaps and resynchronises after a bad object;
 *   3. per-MethodTable statistics (dumpheap -stat) with type names from the module's metadata;
 *   4. the finalization queue (CFinalize): registered objects per generation and the
 *      ready-for-finalization (f-reachable) part.
 * Nothing here prints; src/output renders the structures. docs/internals/clr.md has the details. */
#ifndef DUMPSLEUTH_CLR_H
#define DUMPSLEUTH_CLR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/diag.h"
#include "dumpsleuth/dump.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ds_clr_kind {
    DS_CLR_NONE = 0,
    DS_CLR_CORECLR,  /* coreclr.dll / libcoreclr.so / libcoreclr.dylib: supported (2.x verified) */
    DS_CLR_DESKTOP,  /* clr.dll (.NET Framework 4.x): recognised, not verified */
    DS_CLR_MSCORWKS, /* mscorwks.dll / mscorsvr.dll (.NET 2.0-3.5): recognised, unsupported */
} ds_clr_kind;

/* How the GC globals were found. */
typedef enum ds_clr_route {
    DS_CLR_ROUTE_NONE = 0,
    DS_CLR_ROUTE_DAC_RESOURCE,     /* COREXTERNALDATAACCESSRESOURCE -> slot -> GcDacVars */
    DS_CLR_ROUTE_SIGNATURE,        /* GcDacVars signature scan of the runtime's writable data */
    DS_CLR_ROUTE_SYMBOLS,          /* --runtime-dir libcoreclr.so, build-id equal to the dump's */
    DS_CLR_ROUTE_SYMBOLS_UNCHECKED /* --runtime-dir libcoreclr.so, the dump has no build-id */
} ds_clr_route;

/* GcDacVars v1 body: index of each pointer (each points to the variable). */
enum {
    DS_GCDV_BUILD_VARIANT = 0,
    DS_GCDV_BUILT_WITH_SVR = 1,
    DS_GCDV_GC_GLOBAL_MECHANISMS = 2,
    DS_GCDV_GENERATION_TABLE = 3,
    DS_GCDV_MAX_GEN = 4,
    DS_GCDV_MARK_ARRAY = 5,
    DS_GCDV_CURRENT_C_GC_STATE = 6,
    DS_GCDV_EPHEMERAL_HEAP_SEGMENT = 7,
    DS_GCDV_ALLOC_ALLOCATED = 12,
    DS_GCDV_FINALIZE_QUEUE = 15,
    DS_GCDV_N_HEAPS = 19,
    DS_GCDV_G_HEAPS = 20,
    DS_GCDV_COUNT = 26 /* pointers read (2.0 has 26, 2.1+ 27) */
};

typedef struct ds_clr_runtime {
    ds_clr_kind kind;
    bool supported;   /* the heap can be read for this runtime (CoreCLR with GcDacVars v1) */
    char reason[160]; /* why not, when !supported */
    const ds_module *module;
    char module_name[64];
    uint64_t base, end;       /* the module's image */
    uint64_t data_end;        /* end of its writable data incl. an adjacent anonymous .bss (ELF) */
    unsigned ptr;             /* 4 or 8 */
    char version[64];         /* "4.6.25519.2" (file version) or "2.0.0" (from the path) */
    char version_source[64];  /* "PE version resource", "module path (ELF has no version)" */
    char netcore_version[32]; /* "2.0.0" from ".../Microsoft.NETCore.App/2.0.0/" when present */
    ds_clr_route route;
    uint64_t dac_table;      /* DAC table (resource data) address, 0 when not used */
    uint32_t dac_nglobals;   /* its number of global slots */
    int dac_slot;            /* slot that gave g_gcDacGlobals (-1: none) */
    uint64_t gc_dac_globals; /* address of the g_gcDacGlobals pointer variable (0 unknown) */
    uint64_t gcdacvars;      /* address of the GcDacVars block */
    uint8_t major, minor;
    uint64_t generation_size;  /* bytes per generation table entry */
    uint64_t v[DS_GCDV_COUNT]; /* the body pointers */
    bool server;               /* server GC (built_with_svr and n_heaps filled) */
    uint32_t max_gen;
    uint64_t free_mt;    /* g_pFreeObjectMethodTable's value when found, else 0 */
    unsigned candidates; /* signature hits (1 expected) */
} ds_clr_runtime;

typedef struct ds_clr_options {
    const char *runtime_dir; /* --runtime-dir: directory of the matching libcoreclr.so (symbols) */
    const char *module_path; /* --module-path: DIR|FILE[:...] with assemblies the dump lacks */
} ds_clr_options;

/* Finds the runtime and its GC globals. DS_OK; DS_E_NOTFOUND (no CLR in the dump: rt->kind NONE);
 * DS_E_UNSUPPORTED (a CLR, but its heap cannot be read: rt->reason). */
ds_status ds_clr_runtime_find(ds_dump *d, const ds_clr_options *opt, ds_clr_runtime *rt,
                              ds_diags *diags);
const char *ds_clr_kind_name(ds_clr_kind k);
const char *ds_clr_route_name(ds_clr_route r);

/* ---- the GC heap ---- */

enum { DS_CLR_MAX_GEN_ENTRIES = 5 }; /* gen0, gen1, gen2, LOH, (POH) */

typedef struct ds_clr_generation {
    uint64_t alloc_ptr, alloc_limit; /* the generation's allocation context */
    uint64_t start_segment;
    uint64_t allocation_start;
} ds_clr_generation;

typedef enum ds_clr_seg_kind { DS_CLR_SEG_SOH = 0, DS_CLR_SEG_LOH = 1 } ds_clr_seg_kind;

typedef struct ds_clr_segment {
    uint64_t addr; /* the heap_segment */
    uint64_t mem, allocated, committed, reserved, used, flags, next;
    uint64_t walk_end; /* allocated, or alloc_allocated for the ephemeral segment */
    ds_clr_seg_kind kind;
    bool ephemeral;
    uint32_t heap;
} ds_clr_segment;

typedef struct ds_clr_gcheap {
    uint64_t addr; /* gc_heap (server) or 0 (workstation: static fields) */
    uint64_t alloc_allocated, ephemeral_segment, finalize_queue;
    ds_clr_generation gen[DS_CLR_MAX_GEN_ENTRIES];
    unsigned ngen;
} ds_clr_gcheap;

typedef struct ds_clr_heap {
    ds_dump *dump;
    ds_clr_runtime rt;
    unsigned ptr;
    uint64_t min_obj;      /* 3 pointers */
    uint64_t gen_ctx_size; /* gc_alloc_context size used for the generation table */
    int loader_rel;        /* MethodTable.m_pLoaderModule: 0 plain, 1 relative (2.1+), -1 auto */
    ds_clr_gcheap *heaps;
    size_t nheaps;
    ds_clr_segment *segs;
    size_t nsegs;
    uint64_t total_size; /* sum over segments of walk_end - mem (SOS's "GC Heap Size") */
    void *priv;          /* MethodTable and name caches */
} ds_clr_heap;

/* Discovers the runtime and reads heaps, generations and segments. */
ds_status ds_clr_heap_open(ds_dump *d, const ds_clr_options *opt, ds_clr_heap *h, ds_diags *diags);
void ds_clr_heap_close(ds_clr_heap *h);

/* One object of the walk. */
typedef struct ds_clr_object {
    uint64_t addr, mt;
    uint64_t size; /* BaseSize + ComponentSize * count, unaligned: what SOS's dumpheap adds (free
                    * objects: SOS's rule, see ds_clr_free_size_sos) */
    uint64_t step; /* bytes the object occupies: at least 3 pointers, aligned to the pointer size
                    * (8 in the LOH) */
    uint32_t seg;  /* index in h->segs */
    bool free;     /* a free object (the GC's free MethodTable) */
} ds_clr_object;

/* A problem found during the walk (bad MethodTable, size beyond the segment, unreadable). */
typedef struct ds_clr_bad {
    uint64_t addr, mt;
    char reason[80];
    uint64_t resumed_at; /* where the walk continued (0: it gave up on the segment) */
} ds_clr_bad;

typedef struct ds_clr_walk_stats {
    uint64_t objects, bytes;  /* objects reported to the callback (incl. free) */
    uint64_t gaps, gap_bytes; /* allocation-context gaps skipped */
    ds_clr_bad *bad;          /* first bad objects (at most 64 kept) */
    size_t nbad;
    uint64_t bad_total;
    uint64_t unreadable_bytes; /* segment bytes not in the dump */
} ds_clr_walk_stats;

/* Return non-zero from the callback to stop the walk. */
typedef int (*ds_clr_object_fn)(void *ctx, const ds_clr_object *o);
/* Called about every 64k objects with the bytes walked and the total. */
typedef void (*ds_clr_progress_fn)(void *ctx, uint64_t done, uint64_t total);

ds_status ds_clr_heap_walk(ds_clr_heap *h, ds_clr_object_fn fn, void *ctx,
                           ds_clr_progress_fn progress, void *pctx, ds_clr_walk_stats *ws,
                           ds_diags *diags);
void ds_clr_walk_stats_free(ds_clr_walk_stats *ws);

/* Validates a MethodTable (cached). Returns true and base/component size when plausible. */
bool ds_clr_mt_check(ds_clr_heap *h, uint64_t mt, uint32_t *base_size, uint32_t *comp_size,
                     bool *is_free);
/* Size of the object at addr with the given MethodTable as SOS reports it (BaseSize +
 * ComponentSize * count, unaligned); 0 when unreadable or invalid. */
uint64_t ds_clr_object_size(ds_clr_heap *h, uint64_t addr, uint64_t mt, bool loh);
/* The bytes the object occupies in its segment: at least 3 pointers, aligned to the pointer size
 * (small object heap) or 8 (large object heap). */
uint64_t ds_clr_object_step(const ds_clr_heap *h, uint64_t size, bool loh);
/* The size SOS prints for a free object of `raw` bytes (2 less, padded to 3 pointers on 64-bit:
 * a DAC quirk reproduced so that the Free row equals SOS's). */
uint64_t ds_clr_free_size_sos(const ds_clr_heap *h, uint64_t raw);

/* Type name of a MethodTable, cached: "System.String", "DsLeak.Font[]",
 * "System.Collections.Generic.List`1[[DsLeak.Font, dotnet_leak]]", "Free"; NULL when it cannot
 * be named (printed as UNKNOWN, like SOS). */
const char *ds_clr_type_name(ds_clr_heap *h, uint64_t mt);

/* ---- --module-path (src/clr/modpath.c) ----
 * Modules whose metadata is not in the dump are looked up in opt->module_path (directories are
 * searched for the module's file name, or every .dll or .exe when the dump does not name it; files
 * are taken as given). A file is used only when it is provably the same build (docs/internals/
 * clr.md, "--module-path"); refusals are warnings. Files are tried when a name is first needed. */
typedef struct ds_clr_modfile_use {
    uint64_t module;  /* Module* */
    char name[128];   /* the assembly's simple name (from the file) */
    char path[1024];  /* the file ("" when no file fitted) */
    bool accepted;    /* its metadata names the module's types */
    char detail[400]; /* how the build was matched, or why the file was refused */
} ds_clr_modfile_use;

/* The files tried so far (one row per module and file that fitted or was refused). */
size_t ds_clr_module_path_uses(const ds_clr_heap *h, const ds_clr_modfile_use **v);

/* ---- per-MethodTable statistics ---- */

typedef struct ds_clr_type_stat {
    uint64_t mt, count, total;
    const char *name; /* from ds_clr_type_name (owned by the heap), NULL = UNKNOWN */
    bool free;
} ds_clr_type_stat;

typedef struct ds_clr_stats {
    ds_clr_type_stat *v;
    size_t n, cap;
    uint64_t objects, bytes;
    void *index; /* mt -> row hash */
    size_t index_cap;
} ds_clr_stats;

bool ds_clr_stats_add(ds_clr_stats *s, uint64_t mt, uint64_t size, bool is_free);
/* Names every row and sorts by total size ascending (then MT), like SOS. */
void ds_clr_stats_finish(ds_clr_stats *s, ds_clr_heap *h);
void ds_clr_stats_free(ds_clr_stats *s);
/* Walks the whole heap into s. */
ds_status ds_clr_dumpheap_stat(ds_clr_heap *h, ds_clr_stats *s, ds_clr_walk_stats *ws,
                               ds_clr_progress_fn progress, void *pctx, ds_diags *diags);

/* ---- finalization queue (CFinalize) ---- */

enum { DS_CLR_FQ_SEGS = 6 };

typedef struct ds_clr_finq_heap {
    uint64_t cfinalize;
    uint64_t fp[DS_CLR_FQ_SEGS]; /* fill pointers */
    uint64_t array, end_array;
    uint64_t seg_count[DS_CLR_FQ_SEGS]; /* 0 LOH, 1 gen2, 2 gen1, 3 gen0, 4 critical, 5 ready */
    bool valid;
} ds_clr_finq_heap;

typedef struct ds_clr_finq {
    ds_clr_finq_heap *heaps;
    size_t nheaps;
    ds_clr_stats all;   /* [FP0, FP5): gens 2/1/0 + ready, LOH segment excluded like SOS */
    ds_clr_stats ready; /* [FP3, FP5): ready for finalization */
    uint64_t ready_count, registered_count;
    uint64_t bad_entries; /* entries whose object could not be read / validated */
} ds_clr_finq;

ds_status ds_clr_finalize_queue(ds_clr_heap *h, ds_clr_finq *q, ds_diags *diags);
void ds_clr_finq_free(ds_clr_finq *q);

/* ---- --clr region annotation (summary / regions; src/clr/annotate.c) ----
 * Marks (priority 60, the plugin priority of regions.h) for the region classifier:
 *   [segment, committed) of every GC segment        -> DS_USE_GC_COMMITTED ("gen0-2 segment" or
 *                                                       "LOH segment")
 *   [committed, reserved)                           -> DS_USE_GC_RESERVED
 *   the rest of an allocation that holds a segment  -> DS_USE_CLR_OTHER ("GC reservation"; the
 *     (Windows region tables only, priority 59)        GC made that VirtualAlloc itself)
 * docs/commands/summary.md (--clr) states the rules. */
struct ds_classifier;

/* Marks the segments of an opened heap. Returns the number of segments marked (segments whose
 * bounds are not ordered segment <= begin <= committed <= reserved are skipped with a warning). */
size_t ds_clr_annotate_heap(const ds_clr_heap *h, struct ds_classifier *c, ds_diags *diags);
/* A ds_annotator_fn. ctx: an opened heap (const ds_clr_heap *) to mark, or NULL: then it finds the
 * runtime, opens the GC heap and marks it (no CLR: no marks, no diagnostic; a CLR whose heap
 * cannot be read: a warning, no marks). */
void ds_clr_annotate(ds_dump *d, struct ds_classifier *c, ds_diags *diags, void *ctx);

/* ---- string statistics (dumpheap --strings, SOS's -strings) ---- */

enum {
    DS_CLR_STRING_SHOW = 80,              /* UTF-16 code units shown per value */
    DS_CLR_STRINGS_MAX_DISTINCT = 1000000 /* default cap on distinct values kept */
};

/* One distinct System.String value. Values are keyed by a 128-bit hash of their UTF-16 contents
 * and length; the text is decoded from one instance (`example`) only for the rows kept. */
typedef struct ds_clr_string_stat {
    uint64_t count, total; /* instances, and their sizes (SOS's rule, as -stat) */
    uint64_t example;      /* address of one instance */
    uint32_t length;       /* full length in UTF-16 code units */
    uint64_t hash[2];
    char *text;     /* after ds_clr_strings_finish: UTF-8 of the first DS_CLR_STRING_SHOW code
                       units (owned; NULL when unreadable) */
    bool truncated; /* length > DS_CLR_STRING_SHOW */
} ds_clr_string_stat;

typedef struct ds_clr_strings {
    uint64_t string_mt;      /* System.String's MethodTable (0 until one was seen) */
    uint64_t strings, bytes; /* every System.String object seen */
    uint64_t unreadable;     /* strings whose contents could not be read (not counted) */
    size_t max_distinct;     /* cap on distinct values (0: DS_CLR_STRINGS_MAX_DISTINCT) */
    bool capped;             /* the cap was reached: later new values are only in other_* */
    uint64_t other_count, other_bytes; /* strings with a value first seen after the cap */
    ds_clr_string_stat *v;             /* distinct values; after finish: sorted by total desc, count
                                          desc, length asc, example asc, and only the top n kept */
    size_t n, distinct;                /* rows in v; distinct values counted (before top-N) */
    size_t cap_slots;                  /* hash table size (priv) */
    void *priv;
    uint64_t last_mt; /* callback cache: last MethodTable checked for System.String */
    bool last_is_string;
} ds_clr_strings;

/* Adds the object when it is a System.String (checked by type name, cached). Returns false only on
 * out-of-memory. */
bool ds_clr_strings_add(ds_clr_strings *s, ds_clr_heap *h, const ds_clr_object *o);
/* Sorts, keeps the top `top` rows (0: all), decodes their text. */
void ds_clr_strings_finish(ds_clr_strings *s, ds_clr_heap *h, size_t top);
void ds_clr_strings_free(ds_clr_strings *s);
/* UTF-16LE code units -> UTF-8 (lone surrogates become U+FFFD); returns a malloc'ed string. */
char *ds_clr_utf16_to_utf8(const uint8_t *u16, size_t units);

/* ---- managed threads (clrthreads, SOS !threads) ---- src/clr/threads.c ----
 * ThreadStore::s_pThreadStore -> SList of Thread (m_Link) without the DAC. Offsets inside Thread
 * and ThreadStore are per runtime build and are only used on builds where they were verified
 * (docs/internals/clr.md, "Managed threads"); other builds are refused with DS_E_UNSUPPORTED. */

/* Thread::m_State bits used here (threads.h). */
enum {
    DS_CLR_TS_BACKGROUND = 0x00000200,
    DS_CLR_TS_UNSTARTED = 0x00000400,
    DS_CLR_TS_DEAD = 0x00000800,
    DS_CLR_TS_IN_STA = 0x00004000,
    DS_CLR_TS_IN_MTA = 0x00008000,
    DS_CLR_TS_TP_WORKER = 0x01000000,
    DS_CLR_TS_TP_COMPLETION_PORT = 0x08000000
};

typedef struct ds_clr_thread {
    uint64_t addr; /* the native Thread ("ThreadOBJ") */
    uint32_t managed_id, os_id, state, lock_count;
    bool cooperative; /* m_fPreemptiveGCDisabled != 0 */
    uint64_t domain;
    bool has_alloc; /* alloc context offsets verified for this build */
    uint64_t alloc_ptr, alloc_limit;
    long dbg_index; /* index of the OS thread in the dump's thread list (threads ~N), -1 none */
    bool finalizer;
    /* last thrown object (Thread::m_LastThrownObjectHandle, SOS's Exception column); only where
     * the offset is verified (has_exc) */
    bool has_exc;
    uint64_t exc_handle, exc_object; /* the handle and the object it holds (0: none) */
    uint64_t exc_mt;                 /* filled by ds_clr_threads_name_exceptions */
    char exc_type[256];              /* "" = not named (UNKNOWN) */
} ds_clr_thread;

typedef struct ds_clr_threads {
    const char *layout; /* name of the verified layout used */
    uint64_t thread_store;
    uint64_t finalizer; /* g_pFinalizerThread's value, 0 unknown */
    const char *finalizer_source;
    int32_t thread_count, max_thread_count, unstarted, background, pending, dead;
    ds_clr_thread *v;
    size_t n;
    bool truncated;    /* list cut (bound, cycle or unreadable link) */
    bool exc_verified; /* the m_LastThrownObjectHandle offset is verified for this build */
} ds_clr_threads;

/* Reads the ThreadStore and its threads. DS_OK; DS_E_UNSUPPORTED (build without verified offsets:
 * diags say which); DS_E_NOTFOUND (ThreadStore not found); DS_E_PARTIAL (list cut). */
ds_status ds_clr_threads_read(ds_dump *d, const ds_clr_runtime *rt, ds_clr_threads *t,
                              ds_diags *diags);
void ds_clr_threads_free(ds_clr_threads *t);
/* Names the last thrown objects (exc_mt, exc_type) through an opened managed heap. */
void ds_clr_threads_name_exceptions(ds_clr_heap *h, ds_clr_threads *t);
/* "MTA", "STA" or "Ukn" from the state bits. */
const char *ds_clr_thread_apartment(uint32_t state);
/* The finalizer thread of t, NULL when unknown. */
const ds_clr_thread *ds_clr_threads_finalizer(const ds_clr_threads *t);

/* ---- symbol route (--runtime-dir; src/clr/symfile.c) ----
 * A directory holding the on-disk libcoreclr.so of the dump's runtime (Linux cores). The file's
 * GNU build-id must equal the dump's (ds_module.cv kind 3); its .symtab gives g_gcDacGlobals,
 * g_pFinalizerThread and ThreadStore::s_pThreadStore at module base + (st_value - lowest PT_LOAD
 * p_vaddr). A different build-id, a stripped or damaged file refuses the symbols (a warning; the
 * other routes still run). */

enum {
    DS_CLR_SYM_GC_DAC_GLOBALS = 0,
    DS_CLR_SYM_FINALIZER_THREAD,
    DS_CLR_SYM_THREAD_STORE,
    DS_CLR_SYM_COUNT
};

/* What one ELF file says (no dump involved). */
typedef struct ds_clr_symfile {
    char path[1024];
    char error[160]; /* why the file was refused */
    uint8_t build_id[64];
    uint32_t build_id_len; /* 0: no NT_GNU_BUILD_ID note */
    uint64_t min_vaddr;    /* lowest PT_LOAD p_vaddr */
    bool has_symtab;
    uint64_t value[DS_CLR_SYM_COUNT]; /* st_value, 0 when absent */
} ds_clr_symfile;

typedef struct ds_clr_symbols {
    ds_clr_symfile file;
    bool loaded;      /* accepted: build-id equal, or unchecked (dump without build-id, warned) */
    bool build_id_ok; /* the build-ids were compared and are equal */
    uint64_t addr[DS_CLR_SYM_COUNT]; /* runtime addresses of the variables, 0 when absent */
    char message[800];               /* "DIR/libcoreclr.so (build-id ok)" or why it was refused */
} ds_clr_symbols;

/* Parses an ELF64 file (mmap, bounds-checked). DS_OK; DS_E_IO (cannot open/map); DS_E_FORMAT
 * (not ELF64 LE, truncated or damaged headers: s->error). */
ds_status ds_clr_symfile_read(const char *path, ds_clr_symfile *s);
/* Loads DIR/libcoreclr.so for module m and checks its build-id. DS_OK (s->loaded); DS_E_IO /
 * DS_E_FORMAT (file), DS_E_NOTFOUND (no .symtab), DS_E_UNSUPPORTED (build-id mismatch). Every
 * refusal adds a warning saying why. */
ds_status ds_clr_symbols_load(const char *dir, const ds_module *m, ds_clr_symbols *s,
                              ds_diags *diags);
const char *ds_clr_sym_name(unsigned i);
/* ds_clr_runtime_find that also returns the symbols loaded from opt->runtime_dir (syms may be
 * NULL; syms->loaded false when none were given or they were refused). */
ds_status ds_clr_runtime_find_sym(ds_dump *d, const ds_clr_options *opt, ds_clr_runtime *rt,
                                  ds_clr_symbols *syms, ds_diags *diags);
/* After ds_clr_threads_read: takes the finalizer thread from g_pFinalizerThread of the symbols
 * (instead of the build's hard-coded RVA / DAC slot) and cross-checks the ThreadStore against
 * ThreadStore::s_pThreadStore. No-op when syms is NULL or not loaded. */
void ds_clr_threads_use_symbols(ds_dump *d, const ds_clr_runtime *rt, const ds_clr_symbols *syms,
                                ds_clr_threads *t, ds_diags *diags);

#ifdef __cplusplus
}
#endif
#endif
