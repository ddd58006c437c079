/* dumpsleuth: ECMA-335 metadata reader (Partition II §24) for managed modules, without the DAC.
 *
 * Reads the metadata root ("BSJB"), its streams (#~ or #-, #Strings, #US, #GUID, #Blob) and the
 * table stream, and answers the questions a DAC-less CLR heap reader asks: the SOS-style full name
 * of a TypeDef or TypeRef token, the field run of a type and its field names, the assembly and
 * module names and the module version id (MVID).
 *
 * The metadata is read either through the memory view of a dump (the image mapped in the process;
 * parts of it may not be captured) or from a plain byte buffer. Everything is copied at open
 * (except with ds_clrmeta_open_mapped, which borrows the caller's bytes); a handle is immutable
 * afterwards, so lookups may run concurrently.
 *
 * Every index read from the metadata is checked (heap offsets, NUL terminators, row indices,
 * coded-index tags, field runs, nesting chains) and nothing is guessed: a lookup whose bytes are
 * not captured or are corrupt fails with a status and writes "" to the output buffer.
 *
 * Status of the lookups:
 *   DS_OK            the name/value was produced
 *   DS_E_USAGE       NULL handle/buffer, zero-sized buffer, or the buffer is too small for the name
 *   DS_E_NOTFOUND    rid 0 or beyond the row count, the table/row/heap is absent, or its bytes are
 *                    not captured in the dump
 *   DS_E_FORMAT      corrupt metadata: heap index outside its heap, string without NUL inside the
 *                    heap, bad coded-index tag, nesting cycle or deeper than
 * DS_CLRMETA_MAX_NESTING, inconsistent field run, identifier longer than DS_CLRMETA_MAX_IDENT
 *   DS_E_UNSUPPORTED the question needs something this reader does not do (TypeSpec tokens, field
 *                    runs through the FieldPtr indirection table of an unoptimized #- stream) */
#ifndef DUMPSLEUTH_CLRMETA_H
#define DUMPSLEUTH_CLRMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpsleuth/diag.h"
#include "dumpsleuth/vmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ECMA-335 II.22 table numbers used by the API (all 0x00..0x2C have known row layouts). */
enum {
    DS_CLRMETA_MODULE = 0x00,
    DS_CLRMETA_TYPEREF = 0x01,
    DS_CLRMETA_TYPEDEF = 0x02,
    DS_CLRMETA_FIELDPTR = 0x03,
    DS_CLRMETA_FIELD = 0x04,
    DS_CLRMETA_METHODDEF = 0x06,
    DS_CLRMETA_TYPESPEC = 0x1B,
    DS_CLRMETA_ASSEMBLY = 0x20,
    DS_CLRMETA_ASSEMBLYREF = 0x23,
    DS_CLRMETA_NESTEDCLASS = 0x29,
    DS_CLRMETA_GENERICPARAM = 0x2A,
    DS_CLRMETA_NTABLES = 0x2D /* tables with a known layout: 0x00..0x2C */
};

/* Limits. */
#define DS_CLRMETA_MAX_SIZE (512u << 20) /* metadata larger than this is refused */
#define DS_CLRMETA_MAX_NESTING 64        /* Outer+Inner chain length (cycle guard) */
#define DS_CLRMETA_MAX_IDENT 1023 /* longest name/namespace accepted (the CLR's MAX_CLASSNAME) */
#define DS_CLRMETA_MAX_RANK 32    /* array rank limit of the CLR */
#define DS_CLRMETA_NAME_MAX 4096  /* a buffer this large holds any real type name */

/* TypeAttributes / FieldAttributes bits (II.23.1.15, II.23.1.5) callers commonly test. */
#define DS_CLRMETA_TD_VISIBILITY_MASK 0x7u /* 2..7: nested */
#define DS_CLRMETA_TD_INTERFACE 0x20u
#define DS_CLRMETA_FD_STATIC 0x10u
#define DS_CLRMETA_FD_LITERAL 0x40u

typedef struct ds_clrmeta ds_clrmeta;

/* What open found (read-only, owned by the handle). */
typedef struct ds_clrmeta_info {
    uint16_t major, minor; /* metadata root version (1.1) */
    char version[256];     /* "v4.0.30319" (non-printable bytes replaced by '?') */
    bool uncompressed;     /* tables in a "#-" stream (unoptimized / edit-and-continue) */
    uint8_t tables_major, tables_minor; /* #~ header version (2.0) */
    uint8_t heap_sizes;                 /* HeapSizes: 0x01 #Strings, 0x02 #GUID, 0x04 #Blob wide */
    uint64_t valid, sorted;             /* table presence / sortedness bit masks */
    uint32_t rows[64];                  /* row counts (0 for absent tables) */
    uint32_t strings_size, us_size, guid_size, blob_size, tables_size; /* stream sizes (clipped) */
    uint32_t size;    /* metadata size (as given to open, after the DS_CLRMETA_MAX_SIZE cap) */
    uint32_t missing; /* bytes of the metadata not captured in the dump (0 for buffers) */
} ds_clrmeta_info;

typedef struct ds_clrmeta_typedef {
    uint32_t flags;       /* TypeAttributes */
    uint32_t extends;     /* token of the base type (0x02/0x01/0x1B << 24 | rid), 0 = none */
    uint32_t enclosing;   /* TypeDef rid of the enclosing type, 0 when not nested */
    uint32_t field_first; /* Field run (see ds_clrmeta_typedef_fields); 0/0 when unreadable */
    uint32_t field_count;
    uint32_t method_first; /* MethodList start (unchecked run start) */
} ds_clrmeta_typedef;

/* Opens the metadata mapped at va (size bytes, as in the CLR header: ds_pe.clr_metadata_va and
 * clr_metadata_size) through the memory view. Returns DS_OK; DS_E_PARTIAL (opened, but parts are
 * not captured or damaged: see diags); DS_E_NOTFOUND (the root or the table header is not
 * captured); DS_E_FORMAT (not metadata, or its headers are corrupt); DS_E_UNSUPPORTED (unknown
 * table-stream version); DS_E_NOMEM; DS_E_USAGE. *out is set for DS_OK and DS_E_PARTIAL only and
 * must be released with ds_clrmeta_close. diags may be NULL; it is used during open only. */
ds_status ds_clrmeta_open_vm(ds_vmem *vm, uint64_t va, uint32_t size, ds_clrmeta **out,
                             ds_diags *diags);
/* The same on a byte buffer holding the metadata (from the BSJB signature on); p is copied.
 * Diagnostics carry offsets into the buffer. */
ds_status ds_clrmeta_open_buf(const uint8_t *p, size_t n, ds_clrmeta **out, ds_diags *diags);
/* The same without the copy (e.g. metadata in an mmap'd file): p is borrowed, only read, and must
 * stay valid and unchanged until ds_clrmeta_close. */
ds_status ds_clrmeta_open_mapped(const uint8_t *p, size_t n, ds_clrmeta **out, ds_diags *diags);
void ds_clrmeta_close(ds_clrmeta *m);

const ds_clrmeta_info *ds_clrmeta_get_info(const ds_clrmeta *m);
/* Row count of a table (0 when absent, unknown, or the handle is NULL). */
uint32_t ds_clrmeta_rows(const ds_clrmeta *m, unsigned table);
uint32_t ds_clrmeta_typedef_count(const ds_clrmeta *m);
uint32_t ds_clrmeta_typeref_count(const ds_clrmeta *m);

/* Full name of TypeDef rid (1-based) as SOS prints it: "Namespace.Name", nested types as
 * "Outer+Inner" (the enclosing type comes from the NestedClass table when the type's visibility
 * says nested, as the CLR does), generic definitions with their arity ("List`1").
 * Row 1 is the module pseudo-type "<Module>". */
ds_status ds_clrmeta_typedef_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n);
ds_status ds_clrmeta_typedef_props(const ds_clrmeta *m, uint32_t rid, ds_clrmeta_typedef *out);
/* The fields of TypeDef rid: Field rids first .. first+count-1 (the FieldList run, II.22.37).
 * count may be 0 (first is then where the run would start). */
ds_status ds_clrmeta_typedef_fields(const ds_clrmeta *m, uint32_t rid, uint32_t *first,
                                    uint32_t *count);
/* Finds the TypeDef whose full name (as ds_clrmeta_typedef_name gives it) is `name` (a linear
 * scan: cache the result). */
ds_status ds_clrmeta_find_typedef(const ds_clrmeta *m, const char *name, uint32_t *rid);

/* Name and FieldAttributes of Field rid. */
ds_status ds_clrmeta_field_name(const ds_clrmeta *m, uint32_t field_rid, char *buf, size_t n);
ds_status ds_clrmeta_field_flags(const ds_clrmeta *m, uint32_t field_rid, uint16_t *flags);
/* Finds the field called `name` among the fields of TypeDef typedef_rid (first match).
 * DS_E_NOTFOUND when absent; DS_E_PARTIAL when absent among the readable names but some names of
 * the run could not be read (not captured or corrupt). */
ds_status ds_clrmeta_find_field(const ds_clrmeta *m, uint32_t typedef_rid, const char *name,
                                uint32_t *field_rid);

/* Full name of TypeRef rid: "Namespace.Name", nested references ("Outer+Inner") follow a
 * TypeRef resolution scope. */
ds_status ds_clrmeta_typeref_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n);
/* Resolution scope of TypeRef rid (of its outermost TypeRef when nested): *scope_token is the
 * token (0x23xxxxxx AssemblyRef, 0x1Axxxxxx ModuleRef, 0x00000001 Module, 0 = none) and buf gets
 * the AssemblyRef/ModuleRef/Module name ("" for none). buf may be NULL when n is 0. */
ds_status ds_clrmeta_typeref_scope(const ds_clrmeta *m, uint32_t rid, uint32_t *scope_token,
                                   char *buf, size_t n);
ds_status ds_clrmeta_assemblyref_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n);
/* Name of a TypeDef (0x02) or TypeRef (0x01) token; TypeSpec (0x1B) is DS_E_UNSUPPORTED. */
ds_status ds_clrmeta_token_name(const ds_clrmeta *m, uint32_t token, char *buf, size_t n);

/* Assembly table row 1: simple name ("mscorlib") and, when version is not NULL, its
 * Major.Minor.Build.Revision. DS_E_NOTFOUND for a module without an Assembly row. */
ds_status ds_clrmeta_assembly_name(const ds_clrmeta *m, char *buf, size_t n, uint16_t version[4]);
/* Module table row 1: the module name ("System.Private.CoreLib.dll") and its MVID (the #GUID
 * entry, 16 bytes as stored: Data1..Data3 little-endian). */
ds_status ds_clrmeta_module_name(const ds_clrmeta *m, char *buf, size_t n);
ds_status ds_clrmeta_mvid(const ds_clrmeta *m, uint8_t mvid[16]);

/* SOS formatting of constructed types (pure string helpers, no metadata needed).
 * Generic instantiation: def = the generic definition's full name ("System.Collections.Generic.
 * Dictionary`2" or "Outer`1+Inner"), args = the formatted argument names, arg_assemblies = the
 * simple assembly name of each argument (the array or an entry may be NULL: that argument is then
 * written without its assembly). SOS form: "List`1[[System.String, mscorlib]]"; arguments without
 * an assembly are written bare: "List`1[System.String]". nargs must be 1..1024. */
ds_status ds_clrmeta_format_generic(const char *def, const char *const *args, size_t nargs,
                                    const char *const *arg_assemblies, char *buf, size_t n);
/* Array of elem: rank 1 single-dimension zero-based ("Foo[]"), rank 1 multi-dimension
 * ("Foo[*]", szarray false), rank r ("Foo[,]", "Foo[,,]"). rank must be 1..DS_CLRMETA_MAX_RANK. */
ds_status ds_clrmeta_format_array(const char *elem, unsigned rank, bool szarray, char *buf,
                                  size_t n);

#ifdef __cplusplus
}
#endif
#endif
