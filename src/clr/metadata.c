/* ECMA-335 metadata reader (Partition II §24): metadata root, stream headers, the #~/#- table
 * stream and the lookups a DAC-less heap reader needs (type, field, assembly and module names).
 *
 * The metadata bytes are copied at open (from the memory view or a buffer) together with the list
 * of captured runs; every later read checks that its bytes are inside the metadata AND captured.
 * Section numbers below refer to ECMA-335 6th edition, Partition II. See
 * docs/internals/clr-metadata.md. */
#include "dumpsleuth/clrmeta.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "base/util.h"

#define BSJB 0x424A5342u
#define NONE 0xFF
#define MAX_COLS 9
#define MAX_ROWS 0x00FFFFFFu      /* a RID is 24 bits (II.22) */
#define MAX_DIAG_ROWS 16          /* per-row diagnostics at open before summarizing */
#define MAX_CHECK_ROWS (1u << 20) /* TypeDefs validated at open (each check is <= 64 row reads) */

/* ---------------------------------------------------------------- schema (II.22, II.24.2.6) */

enum { K_U16 = 1, K_U32, K_STR, K_GUID, K_BLOB, K_IDX, K_CODED };

/* Coded index kinds (II.24.2.6). */
enum {
    CI_TYPEDEFORREF,
    CI_HASCONSTANT,
    CI_HASCUSTOMATTRIBUTE,
    CI_HASFIELDMARSHAL,
    CI_HASDECLSECURITY,
    CI_MEMBERREFPARENT,
    CI_HASSEMANTICS,
    CI_METHODDEFORREF,
    CI_MEMBERFORWARDED,
    CI_IMPLEMENTATION,
    CI_CUSTOMATTRIBUTETYPE,
    CI_RESOLUTIONSCOPE,
    CI_TYPEORMETHODDEF,
    CI_COUNT
};

typedef struct cdesc {
    uint8_t bits, n;
    uint8_t t[22]; /* table per tag; NONE = unused tag */
} cdesc;

static const cdesc CODED[CI_COUNT] = {
    [CI_TYPEDEFORREF] = {2, 3, {0x02, 0x01, 0x1B}},
    [CI_HASCONSTANT] = {2, 3, {0x04, 0x08, 0x17}},
    [CI_HASCUSTOMATTRIBUTE] = {5, 22, {0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00,
                                       0x0E, 0x17, 0x14, 0x11, 0x1A, 0x1B, 0x20, 0x23,
                                       0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B}},
    [CI_HASFIELDMARSHAL] = {1, 2, {0x04, 0x08}},
    [CI_HASDECLSECURITY] = {2, 3, {0x02, 0x06, 0x20}},
    [CI_MEMBERREFPARENT] = {3, 5, {0x02, 0x01, 0x1A, 0x06, 0x1B}},
    [CI_HASSEMANTICS] = {1, 2, {0x14, 0x17}},
    [CI_METHODDEFORREF] = {1, 2, {0x06, 0x0A}},
    [CI_MEMBERFORWARDED] = {1, 2, {0x04, 0x06}},
    [CI_IMPLEMENTATION] = {2, 3, {0x26, 0x23, 0x27}},
    [CI_CUSTOMATTRIBUTETYPE] = {3, 5, {NONE, NONE, 0x06, 0x0A, NONE}},
    [CI_RESOLUTIONSCOPE] = {2, 4, {0x00, 0x1A, 0x23, 0x01}},
    [CI_TYPEORMETHODDEF] = {1, 2, {0x02, 0x06}},
};

typedef struct col {
    uint8_t kind, arg;
} col;

typedef struct tdesc {
    const char *name;
    uint8_t ncols;
    col c[MAX_COLS];
} tdesc;

#define U16                                                                                        \
    {                                                                                              \
        K_U16, 0                                                                                   \
    }
#define U32                                                                                        \
    {                                                                                              \
        K_U32, 0                                                                                   \
    }
#define STR                                                                                        \
    {                                                                                              \
        K_STR, 0                                                                                   \
    }
#define GUID                                                                                       \
    {                                                                                              \
        K_GUID, 0                                                                                  \
    }
#define BLOB                                                                                       \
    {                                                                                              \
        K_BLOB, 0                                                                                  \
    }
#define IDX(t)                                                                                     \
    {                                                                                              \
        K_IDX, t                                                                                   \
    }
#define CI(k)                                                                                      \
    {                                                                                              \
        K_CODED, k                                                                                 \
    }

/* Row layouts of tables 0x00..0x2C (II.22.2 - II.22.39, numbers from II.22). */
static const tdesc TABLES[DS_CLRMETA_NTABLES] = {
    [0x00] = {"Module", 5, {U16, STR, GUID, GUID, GUID}},                                /* 22.30 */
    [0x01] = {"TypeRef", 3, {CI(CI_RESOLUTIONSCOPE), STR, STR}},                         /* 22.38 */
    [0x02] = {"TypeDef", 6, {U32, STR, STR, CI(CI_TYPEDEFORREF), IDX(0x04), IDX(0x06)}}, /* 22.37 */
    [0x03] = {"FieldPtr", 1, {IDX(0x04)}},                            /* unoptimized */
    [0x04] = {"Field", 3, {U16, STR, BLOB}},                          /* 22.15 */
    [0x05] = {"MethodPtr", 1, {IDX(0x06)}},                           /* unoptimized */
    [0x06] = {"MethodDef", 6, {U32, U16, U16, STR, BLOB, IDX(0x08)}}, /* 22.26 */
    [0x07] = {"ParamPtr", 1, {IDX(0x08)}},                            /* unoptimized */
    [0x08] = {"Param", 3, {U16, U16, STR}},                           /* 22.33 */
    [0x09] = {"InterfaceImpl", 2, {IDX(0x02), CI(CI_TYPEDEFORREF)}},  /* 22.23 */
    [0x0A] = {"MemberRef", 3, {CI(CI_MEMBERREFPARENT), STR, BLOB}},   /* 22.25 */
    [0x0B] = {"Constant", 3, {U16, CI(CI_HASCONSTANT), BLOB}},        /* 22.9 */
    [0x0C] = {"CustomAttribute",
              3,
              {CI(CI_HASCUSTOMATTRIBUTE), CI(CI_CUSTOMATTRIBUTETYPE), BLOB}}, /* 22.10 */
    [0x0D] = {"FieldMarshal", 2, {CI(CI_HASFIELDMARSHAL), BLOB}},             /* 22.17 */
    [0x0E] = {"DeclSecurity", 3, {U16, CI(CI_HASDECLSECURITY), BLOB}},        /* 22.11 */
    [0x0F] = {"ClassLayout", 3, {U16, U32, IDX(0x02)}},                       /* 22.8 */
    [0x10] = {"FieldLayout", 2, {U32, IDX(0x04)}},                            /* 22.16 */
    [0x11] = {"StandAloneSig", 1, {BLOB}},                                    /* 22.36 */
    [0x12] = {"EventMap", 2, {IDX(0x02), IDX(0x14)}},                         /* 22.12 */
    [0x13] = {"EventPtr", 1, {IDX(0x14)}},                                    /* unoptimized */
    [0x14] = {"Event", 3, {U16, STR, CI(CI_TYPEDEFORREF)}},                   /* 22.13 */
    [0x15] = {"PropertyMap", 2, {IDX(0x02), IDX(0x17)}},                      /* 22.35 */
    [0x16] = {"PropertyPtr", 1, {IDX(0x17)}},                                 /* unoptimized */
    [0x17] = {"Property", 3, {U16, STR, BLOB}},                               /* 22.34 */
    [0x18] = {"MethodSemantics", 3, {U16, IDX(0x06), CI(CI_HASSEMANTICS)}},   /* 22.28 */
    [0x19] = {"MethodImpl",
              3,
              {IDX(0x02), CI(CI_METHODDEFORREF), CI(CI_METHODDEFORREF)}},         /* 22.27 */
    [0x1A] = {"ModuleRef", 1, {STR}},                                             /* 22.31 */
    [0x1B] = {"TypeSpec", 1, {BLOB}},                                             /* 22.39 */
    [0x1C] = {"ImplMap", 4, {U16, CI(CI_MEMBERFORWARDED), STR, IDX(0x1A)}},       /* 22.22 */
    [0x1D] = {"FieldRVA", 2, {U32, IDX(0x04)}},                                   /* 22.18 */
    [0x1E] = {"ENCLog", 2, {U32, U32}},                                           /* unoptimized */
    [0x1F] = {"ENCMap", 1, {U32}},                                                /* unoptimized */
    [0x20] = {"Assembly", 9, {U32, U16, U16, U16, U16, U32, BLOB, STR, STR}},     /* 22.2 */
    [0x21] = {"AssemblyProcessor", 1, {U32}},                                     /* 22.4 */
    [0x22] = {"AssemblyOS", 3, {U32, U32, U32}},                                  /* 22.3 */
    [0x23] = {"AssemblyRef", 9, {U16, U16, U16, U16, U32, BLOB, STR, STR, BLOB}}, /* 22.5 */
    [0x24] = {"AssemblyRefProcessor", 2, {U32, IDX(0x23)}},                       /* 22.7 */
    [0x25] = {"AssemblyRefOS", 4, {U32, U32, U32, IDX(0x23)}},                    /* 22.6 */
    [0x26] = {"File", 3, {U32, STR, BLOB}},                                       /* 22.19 */
    [0x27] = {"ExportedType", 5, {U32, U32, STR, STR, CI(CI_IMPLEMENTATION)}},    /* 22.14 */
    [0x28] = {"ManifestResource", 4, {U32, U32, STR, CI(CI_IMPLEMENTATION)}},     /* 22.24 */
    [0x29] = {"NestedClass", 2, {IDX(0x02), IDX(0x02)}},                          /* 22.32 */
    [0x2A] = {"GenericParam", 4, {U16, U16, CI(CI_TYPEORMETHODDEF), STR}},        /* 22.20 */
    [0x2B] = {"MethodSpec", 2, {CI(CI_METHODDEFORREF), BLOB}},                    /* 22.29 */
    [0x2C] = {"GenericParamConstraint", 2, {IDX(0x2A), CI(CI_TYPEDEFORREF)}},     /* 22.21 */
};

/* Column numbers used by the lookups. */
enum { TD_FLAGS, TD_NAME, TD_NAMESPACE, TD_EXTENDS, TD_FIELDLIST, TD_METHODLIST };
enum { TR_SCOPE, TR_NAME, TR_NAMESPACE };
enum { FD_FLAGS, FD_NAME };
enum { MOD_NAME = 1, MOD_MVID = 2 };
enum { ASM_MAJOR = 1, ASM_NAME = 7 };
enum { AREF_NAME = 6 };
enum { NC_NESTED, NC_ENCLOSING };

/* ---------------------------------------------------------------- handle */

typedef struct span {
    uint32_t off, len;
} span;

typedef struct heap {
    uint32_t off, size;
    bool present;
} heap;

struct ds_clrmeta {
    uint8_t *d;    /* the metadata bytes (uncaptured bytes are zero and not in `have`) */
    bool borrowed; /* d belongs to the caller (ds_clrmeta_open_mapped): never written or freed */
    uint32_t size;
    span *have; /* captured runs, sorted, disjoint */
    size_t nhave;
    ds_clrmeta_info info;
    heap str, us, guid, blob, tbl;
    uint32_t tbl_off[DS_CLRMETA_NTABLES]; /* absolute offset of each table's first row */
    uint8_t row_size[DS_CLRMETA_NTABLES];
    uint8_t col_off[DS_CLRMETA_NTABLES][MAX_COLS];
    uint8_t col_w[DS_CLRMETA_NTABLES][MAX_COLS];
    uint32_t *enclosing;    /* [TypeDef rows + 1]: NestedClass map, 0 = none */
    bool nested_incomplete; /* some NestedClass rows were not captured */
};

/* ---------------------------------------------------------------- captured bytes */

static bool avail(const ds_clrmeta *m, uint64_t off, uint64_t len)
{
    if (!ds_in_bounds(off, len, m->size))
        return false;
    size_t lo = 0, hi = m->nhave;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->have[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return len == 0;
    const span *s = &m->have[lo - 1];
    uint64_t rel = off - s->off;
    return rel <= s->len && len <= s->len - rel;
}

/* Number of captured bytes from off on (0 when off is not captured). */
static uint64_t avail_run(const ds_clrmeta *m, uint64_t off)
{
    if (off >= m->size)
        return 0;
    size_t lo = 0, hi = m->nhave;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->have[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return 0;
    const span *s = &m->have[lo - 1];
    uint64_t rel = off - s->off;
    return rel < s->len ? s->len - rel : 0;
}

static bool add_span(ds_clrmeta *m, size_t *cap, uint32_t off, uint32_t len)
{
    if (!len)
        return true;
    if (m->nhave && m->have[m->nhave - 1].off + m->have[m->nhave - 1].len == off) {
        m->have[m->nhave - 1].len += len;
        return true;
    }
    span s = {off, len};
    return DS_PUSH(m->have, m->nhave, *cap, s);
}

/* ---------------------------------------------------------------- open-time diagnostics */

typedef struct octx {
    ds_clrmeta *m;
    ds_diags *diags;
    bool vm;
    uint64_t va;
    bool partial;
} octx;

static void diag(octx *o, ds_severity sev, const char *st, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void diag(octx *o, ds_severity sev, const char *st, uint64_t off, const char *fmt, ...)
{
    if (sev >= DS_SEV_WARNING)
        o->partial = true;
    if (!o->diags)
        return;
    char msg[208];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->vm)
        ds_diag_add_addr(o->diags, sev, st, o->va + off, "%s", msg);
    else
        ds_diag_add(o->diags, sev, st, 1, off, "%s", msg);
}

/* ---------------------------------------------------------------- primitive reads */

static ds_status row_col(const ds_clrmeta *m, unsigned t, uint32_t rid, unsigned c, uint32_t *v)
{
    *v = 0;
    if (t >= DS_CLRMETA_NTABLES || c >= TABLES[t].ncols || !rid || rid > m->info.rows[t])
        return DS_E_NOTFOUND;
    uint64_t off = m->tbl_off[t] + (uint64_t)(rid - 1) * m->row_size[t] + m->col_off[t][c];
    unsigned w = m->col_w[t][c];
    if (!avail(m, off, w))
        return DS_E_NOTFOUND;
    *v = w == 2 ? ds_le16(m->d + off) : ds_le32(m->d + off);
    return DS_OK;
}

/* Decodes a coded index into a token (table << 24 | rid); rid 0 is a null reference. */
static ds_status decode_coded(unsigned kind, uint32_t v, uint32_t *token)
{
    const cdesc *c = &CODED[kind];
    uint32_t tag = v & ((1u << c->bits) - 1), rid = v >> c->bits;
    *token = 0;
    if (tag >= c->n || c->t[tag] == NONE || rid > MAX_ROWS)
        return DS_E_FORMAT;
    *token = ((uint32_t)c->t[tag] << 24) | rid;
    return DS_OK;
}

/* A #Strings entry: pointer and length inside the handle's bytes. */
static ds_status heap_str(const ds_clrmeta *m, uint32_t idx, const char **s, size_t *len)
{
    *s = "";
    *len = 0;
    if (!idx)
        return DS_OK; /* II.24.2.3: index 0 is the empty string */
    if (!m->str.present || idx >= m->str.size)
        return DS_E_FORMAT;
    uint64_t off = (uint64_t)m->str.off + idx, left = m->str.size - idx;
    uint64_t run = avail_run(m, off);
    if (run > left)
        run = left;
    if (run > DS_CLRMETA_MAX_IDENT + 1)
        run = DS_CLRMETA_MAX_IDENT + 1;
    const uint8_t *p = m->d + off;
    const uint8_t *z = run ? memchr(p, 0, (size_t)run) : NULL;
    if (!z) {
        if (run == DS_CLRMETA_MAX_IDENT + 1)
            return DS_E_FORMAT; /* longer than any identifier */
        return run < left ? DS_E_NOTFOUND : DS_E_FORMAT;
    }
    *s = (const char *)p;
    *len = (size_t)(z - p);
    return DS_OK;
}

static ds_status col_str(const ds_clrmeta *m, unsigned t, uint32_t rid, unsigned c, const char **s,
                         size_t *len)
{
    uint32_t idx;
    ds_status st = row_col(m, t, rid, c, &idx);
    if (st != DS_OK) {
        *s = "";
        *len = 0;
        return st;
    }
    return heap_str(m, idx, s, len);
}

/* ---------------------------------------------------------------- output buffers */

typedef struct sbuf {
    char *p;
    size_t n, len;
    bool over;
} sbuf;

static sbuf sb_init(char *p, size_t n)
{
    sbuf b = {p, n, 0, false};
    if (p && n)
        p[0] = 0;
    return b;
}

static void sb_put(sbuf *b, const char *s, size_t l)
{
    if (b->over)
        return;
    if (l >= b->n - b->len) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->len, s, l);
    b->len += l;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static ds_status sb_done(sbuf *b, ds_status st)
{
    if (st == DS_OK && b->over)
        st = DS_E_USAGE;
    if (st != DS_OK && b->p && b->n)
        b->p[0] = 0;
    return st;
}

static ds_status put_str(const ds_clrmeta *m, unsigned t, uint32_t rid, unsigned c, char *buf,
                         size_t n)
{
    if (!buf || !n)
        return DS_E_USAGE;
    buf[0] = 0;
    if (!m)
        return DS_E_USAGE;
    const char *s;
    size_t len;
    sbuf b = sb_init(buf, n);
    ds_status st = col_str(m, t, rid, c, &s, &len);
    if (st == DS_OK)
        sb_put(&b, s, len);
    return sb_done(&b, st);
}

/* ---------------------------------------------------------------- type names */

static bool td_nested(uint32_t flags)
{
    return (flags & DS_CLRMETA_TD_VISIBILITY_MASK) >= 2;
}

/* The chain rid, enclosing(rid), ... up to the outermost type; *depth entries. */
static ds_status td_chain(const ds_clrmeta *m, uint32_t rid, uint32_t *chain, size_t *depth)
{
    *depth = 0;
    uint32_t r = rid;
    for (;;) {
        if (*depth == DS_CLRMETA_MAX_NESTING)
            return DS_E_FORMAT; /* a cycle, or nested deeper than any real type */
        chain[(*depth)++] = r;
        uint32_t flags;
        ds_status st = row_col(m, DS_CLRMETA_TYPEDEF, r, TD_FLAGS, &flags);
        if (st != DS_OK)
            return st;
        if (!td_nested(flags))
            return DS_OK;
        uint32_t enc = m->enclosing ? m->enclosing[r] : 0;
        if (!enc)
            return m->nested_incomplete ? DS_E_NOTFOUND : DS_E_FORMAT;
        r = enc;
    }
}

static ds_status put_ns_name(const ds_clrmeta *m, unsigned t, uint32_t rid, unsigned cname,
                             unsigned cns, sbuf *b)
{
    const char *name, *ns;
    size_t nlen, nslen;
    ds_status st = col_str(m, t, rid, cname, &name, &nlen);
    if (st == DS_OK)
        st = col_str(m, t, rid, cns, &ns, &nslen);
    if (st != DS_OK)
        return st;
    if (!nlen)
        return DS_E_FORMAT; /* II.22.37/22.38: Name shall be non-empty */
    if (nslen) {
        sb_put(b, ns, nslen);
        sb_put(b, ".", 1);
    }
    sb_put(b, name, nlen);
    return DS_OK;
}

ds_status ds_clrmeta_typedef_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n)
{
    if (!buf || !n)
        return DS_E_USAGE;
    sbuf b = sb_init(buf, n);
    if (!m)
        return DS_E_USAGE;
    uint32_t chain[DS_CLRMETA_MAX_NESTING];
    size_t depth;
    ds_status st = td_chain(m, rid, chain, &depth);
    for (size_t i = depth; st == DS_OK && i-- > 0;) {
        if (i != depth - 1)
            sb_put(&b, "+", 1);
        st = put_ns_name(m, DS_CLRMETA_TYPEDEF, chain[i], TD_NAME, TD_NAMESPACE, &b);
    }
    return sb_done(&b, st);
}

/* TypeRef chain through TypeRef resolution scopes (nested references, II.22.38). */
static ds_status tr_chain(const ds_clrmeta *m, uint32_t rid, uint32_t *chain, size_t *depth,
                          uint32_t *scope)
{
    *depth = 0;
    *scope = 0;
    uint32_t r = rid;
    for (;;) {
        if (*depth == DS_CLRMETA_MAX_NESTING)
            return DS_E_FORMAT;
        chain[(*depth)++] = r;
        uint32_t v, tok;
        ds_status st = row_col(m, DS_CLRMETA_TYPEREF, r, TR_SCOPE, &v);
        if (st != DS_OK)
            return st;
        if ((st = decode_coded(CI_RESOLUTIONSCOPE, v, &tok)) != DS_OK)
            return st;
        uint32_t t = tok >> 24, srid = tok & MAX_ROWS;
        if (t != DS_CLRMETA_TYPEREF || !srid) {
            if (srid > m->info.rows[t])
                return DS_E_FORMAT;
            *scope = srid ? tok : 0;
            return DS_OK;
        }
        if (srid > m->info.rows[DS_CLRMETA_TYPEREF])
            return DS_E_FORMAT;
        r = srid;
    }
}

ds_status ds_clrmeta_typeref_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n)
{
    if (!buf || !n)
        return DS_E_USAGE;
    sbuf b = sb_init(buf, n);
    if (!m)
        return DS_E_USAGE;
    uint32_t chain[DS_CLRMETA_MAX_NESTING], scope;
    size_t depth;
    ds_status st = tr_chain(m, rid, chain, &depth, &scope);
    for (size_t i = depth; st == DS_OK && i-- > 0;) {
        if (i != depth - 1)
            sb_put(&b, "+", 1);
        st = put_ns_name(m, DS_CLRMETA_TYPEREF, chain[i], TR_NAME, TR_NAMESPACE, &b);
    }
    return sb_done(&b, st);
}

ds_status ds_clrmeta_typeref_scope(const ds_clrmeta *m, uint32_t rid, uint32_t *scope_token,
                                   char *buf, size_t n)
{
    if (scope_token)
        *scope_token = 0;
    if (buf && n)
        buf[0] = 0;
    if (!m || (!buf && n))
        return DS_E_USAGE;
    uint32_t chain[DS_CLRMETA_MAX_NESTING], scope;
    size_t depth;
    ds_status st = tr_chain(m, rid, chain, &depth, &scope);
    if (st != DS_OK)
        return st;
    if (scope_token)
        *scope_token = scope;
    if (!n)
        return DS_OK;
    uint32_t t = scope >> 24, srid = scope & MAX_ROWS;
    if (!scope)
        return DS_OK;
    if (t == DS_CLRMETA_ASSEMBLYREF)
        return put_str(m, t, srid, AREF_NAME, buf, n);
    if (t == 0x1A) /* ModuleRef */
        return put_str(m, t, srid, 0, buf, n);
    return put_str(m, DS_CLRMETA_MODULE, srid, MOD_NAME, buf, n); /* Module */
}

ds_status ds_clrmeta_token_name(const ds_clrmeta *m, uint32_t token, char *buf, size_t n)
{
    switch (token >> 24) {
    case DS_CLRMETA_TYPEDEF:
        return ds_clrmeta_typedef_name(m, token & MAX_ROWS, buf, n);
    case DS_CLRMETA_TYPEREF:
        return ds_clrmeta_typeref_name(m, token & MAX_ROWS, buf, n);
    case DS_CLRMETA_TYPESPEC:
        if (buf && n)
            buf[0] = 0;
        return DS_E_UNSUPPORTED;
    default:
        if (buf && n)
            buf[0] = 0;
        return DS_E_USAGE;
    }
}

ds_status ds_clrmeta_find_typedef(const ds_clrmeta *m, const char *name, uint32_t *rid)
{
    if (rid)
        *rid = 0;
    if (!m || !name || !rid)
        return DS_E_USAGE;
    char tmp[DS_CLRMETA_NAME_MAX];
    for (uint32_t r = 1; r <= m->info.rows[DS_CLRMETA_TYPEDEF]; r++)
        if (ds_clrmeta_typedef_name(m, r, tmp, sizeof tmp) == DS_OK && !strcmp(tmp, name)) {
            *rid = r;
            return DS_OK;
        }
    return DS_E_NOTFOUND;
}

/* ---------------------------------------------------------------- TypeDef details and fields */

ds_status ds_clrmeta_typedef_fields(const ds_clrmeta *m, uint32_t rid, uint32_t *first,
                                    uint32_t *count)
{
    if (first)
        *first = 0;
    if (count)
        *count = 0;
    if (!m || !first || !count)
        return DS_E_USAGE;
    if (rid && rid <= m->info.rows[DS_CLRMETA_TYPEDEF] && m->info.rows[DS_CLRMETA_FIELDPTR])
        return DS_E_UNSUPPORTED; /* the run indexes FieldPtr, not Field */
    uint32_t a, b, nf = m->info.rows[DS_CLRMETA_FIELD];
    ds_status st = row_col(m, DS_CLRMETA_TYPEDEF, rid, TD_FIELDLIST, &a);
    if (st != DS_OK)
        return st;
    if (rid < m->info.rows[DS_CLRMETA_TYPEDEF]) {
        if ((st = row_col(m, DS_CLRMETA_TYPEDEF, rid + 1, TD_FIELDLIST, &b)) != DS_OK)
            return st;
    } else {
        b = nf + 1;
    }
    /* II.22.37: the run is FieldList(rid) .. FieldList(rid+1)-1, or up to the last Field row */
    if (!a || a > nf + 1 || b < a || b > nf + 1)
        return DS_E_FORMAT;
    *first = a;
    *count = b - a;
    return DS_OK;
}

ds_status ds_clrmeta_typedef_props(const ds_clrmeta *m, uint32_t rid, ds_clrmeta_typedef *out)
{
    if (!out)
        return DS_E_USAGE;
    memset(out, 0, sizeof *out);
    if (!m)
        return DS_E_USAGE;
    uint32_t flags, ext, ml, tok;
    ds_status st = row_col(m, DS_CLRMETA_TYPEDEF, rid, TD_FLAGS, &flags);
    if (st == DS_OK)
        st = row_col(m, DS_CLRMETA_TYPEDEF, rid, TD_EXTENDS, &ext);
    if (st == DS_OK)
        st = row_col(m, DS_CLRMETA_TYPEDEF, rid, TD_METHODLIST, &ml);
    if (st == DS_OK)
        st = decode_coded(CI_TYPEDEFORREF, ext, &tok);
    if (st != DS_OK)
        return st;
    if ((tok & MAX_ROWS) > m->info.rows[tok >> 24])
        return DS_E_FORMAT;
    out->flags = flags;
    out->extends = (tok & MAX_ROWS) ? tok : 0;
    out->method_first = ml;
    if (td_nested(flags)) {
        out->enclosing = m->enclosing ? m->enclosing[rid] : 0;
        if (!out->enclosing)
            return m->nested_incomplete ? DS_E_NOTFOUND : DS_E_FORMAT;
    }
    if (ds_clrmeta_typedef_fields(m, rid, &out->field_first, &out->field_count) != DS_OK)
        out->field_first = out->field_count = 0;
    return DS_OK;
}

ds_status ds_clrmeta_field_name(const ds_clrmeta *m, uint32_t field_rid, char *buf, size_t n)
{
    return put_str(m, DS_CLRMETA_FIELD, field_rid, FD_NAME, buf, n);
}

ds_status ds_clrmeta_field_flags(const ds_clrmeta *m, uint32_t field_rid, uint16_t *flags)
{
    if (!flags)
        return DS_E_USAGE;
    *flags = 0;
    if (!m)
        return DS_E_USAGE;
    uint32_t v;
    ds_status st = row_col(m, DS_CLRMETA_FIELD, field_rid, FD_FLAGS, &v);
    if (st == DS_OK)
        *flags = (uint16_t)v;
    return st;
}

ds_status ds_clrmeta_find_field(const ds_clrmeta *m, uint32_t typedef_rid, const char *name,
                                uint32_t *field_rid)
{
    if (field_rid)
        *field_rid = 0;
    if (!m || !name || !field_rid)
        return DS_E_USAGE;
    uint32_t first, count;
    ds_status st = ds_clrmeta_typedef_fields(m, typedef_rid, &first, &count);
    if (st != DS_OK)
        return st;
    size_t want = strlen(name);
    bool unreadable = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *s;
        size_t len;
        if (col_str(m, DS_CLRMETA_FIELD, first + i, FD_NAME, &s, &len) != DS_OK) {
            unreadable = true;
            continue;
        }
        if (len == want && !memcmp(s, name, len)) {
            *field_rid = first + i;
            return DS_OK;
        }
    }
    return unreadable ? DS_E_PARTIAL : DS_E_NOTFOUND;
}

/* ---------------------------------------------------------------- assembly and module */

ds_status ds_clrmeta_assemblyref_name(const ds_clrmeta *m, uint32_t rid, char *buf, size_t n)
{
    return put_str(m, DS_CLRMETA_ASSEMBLYREF, rid, AREF_NAME, buf, n);
}

ds_status ds_clrmeta_assembly_name(const ds_clrmeta *m, char *buf, size_t n, uint16_t version[4])
{
    if (version)
        memset(version, 0, 4 * sizeof *version);
    ds_status st = put_str(m, DS_CLRMETA_ASSEMBLY, 1, ASM_NAME, buf, n);
    if (st != DS_OK || !version)
        return st;
    for (unsigned i = 0; i < 4; i++) {
        uint32_t v;
        if ((st = row_col(m, DS_CLRMETA_ASSEMBLY, 1, ASM_MAJOR + i, &v)) != DS_OK) {
            memset(version, 0, 4 * sizeof *version);
            buf[0] = 0;
            return st;
        }
        version[i] = (uint16_t)v;
    }
    return DS_OK;
}

ds_status ds_clrmeta_module_name(const ds_clrmeta *m, char *buf, size_t n)
{
    return put_str(m, DS_CLRMETA_MODULE, 1, MOD_NAME, buf, n);
}

ds_status ds_clrmeta_mvid(const ds_clrmeta *m, uint8_t mvid[16])
{
    if (!mvid)
        return DS_E_USAGE;
    memset(mvid, 0, 16);
    if (!m)
        return DS_E_USAGE;
    uint32_t g;
    ds_status st = row_col(m, DS_CLRMETA_MODULE, 1, MOD_MVID, &g);
    if (st != DS_OK)
        return st;
    if (!g)
        return DS_E_NOTFOUND; /* null GUID index */
    /* II.24.2.5: #GUID indices are 1-based, 16 bytes each */
    if (!m->guid.present || (uint64_t)(g - 1) * 16 + 16 > m->guid.size)
        return DS_E_FORMAT;
    uint64_t off = (uint64_t)m->guid.off + (uint64_t)(g - 1) * 16;
    if (!avail(m, off, 16))
        return DS_E_NOTFOUND;
    memcpy(mvid, m->d + off, 16);
    return DS_OK;
}

/* ---------------------------------------------------------------- info */

const ds_clrmeta_info *ds_clrmeta_get_info(const ds_clrmeta *m)
{
    return m ? &m->info : NULL;
}

uint32_t ds_clrmeta_rows(const ds_clrmeta *m, unsigned table)
{
    return m && table < 64 ? m->info.rows[table] : 0;
}

uint32_t ds_clrmeta_typedef_count(const ds_clrmeta *m)
{
    return ds_clrmeta_rows(m, DS_CLRMETA_TYPEDEF);
}

uint32_t ds_clrmeta_typeref_count(const ds_clrmeta *m)
{
    return ds_clrmeta_rows(m, DS_CLRMETA_TYPEREF);
}

/* ---------------------------------------------------------------- SOS formatting helpers */

ds_status ds_clrmeta_format_generic(const char *def, const char *const *args, size_t nargs,
                                    const char *const *arg_assemblies, char *buf, size_t n)
{
    if (!buf || !n)
        return DS_E_USAGE;
    sbuf b = sb_init(buf, n);
    if (!def || !args || !nargs || nargs > 1024)
        return DS_E_USAGE;
    sb_puts(&b, def);
    sb_put(&b, "[", 1);
    for (size_t i = 0; i < nargs; i++) {
        if (!args[i])
            return sb_done(&b, DS_E_USAGE);
        const char *asmname = arg_assemblies ? arg_assemblies[i] : NULL;
        if (i)
            sb_put(&b, ",", 1);
        if (asmname) {
            sb_put(&b, "[", 1);
            sb_puts(&b, args[i]);
            sb_put(&b, ", ", 2);
            sb_puts(&b, asmname);
            sb_put(&b, "]", 1);
        } else {
            sb_puts(&b, args[i]);
        }
    }
    sb_put(&b, "]", 1);
    return sb_done(&b, DS_OK);
}

ds_status ds_clrmeta_format_array(const char *elem, unsigned rank, bool szarray, char *buf,
                                  size_t n)
{
    if (!buf || !n)
        return DS_E_USAGE;
    sbuf b = sb_init(buf, n);
    if (!elem || !rank || rank > DS_CLRMETA_MAX_RANK)
        return DS_E_USAGE;
    sb_puts(&b, elem);
    sb_put(&b, "[", 1);
    if (rank == 1 && !szarray)
        sb_put(&b, "*", 1);
    for (unsigned i = 1; i < rank; i++)
        sb_put(&b, ",", 1);
    sb_put(&b, "]", 1);
    return sb_done(&b, DS_OK);
}

/* ---------------------------------------------------------------- open */

void ds_clrmeta_close(ds_clrmeta *m)
{
    if (!m)
        return;
    if (!m->borrowed)
        free(m->d);
    free(m->have);
    free(m->enclosing);
    free(m);
}

/* Metadata root and stream headers (II.24.2.1, II.24.2.2). */
static ds_status parse_root(octx *o)
{
    ds_clrmeta *m = o->m;
    const char *S = "metadata root";
    if (!avail(m, 0, 16)) {
        diag(o, DS_SEV_ERROR, S, 0, "metadata root not %s",
             m->size < 16 ? "complete (metadata < 16 bytes)" : "captured in the dump");
        return m->size < 16 || !o->vm ? DS_E_FORMAT : DS_E_NOTFOUND;
    }
    const uint8_t *d = m->d;
    if (ds_le32(d) != BSJB) {
        diag(o, DS_SEV_ERROR, S, 0, "signature 0x%08x (expected BSJB)", ds_le32(d));
        return DS_E_FORMAT;
    }
    m->info.major = ds_le16(d + 4);
    m->info.minor = ds_le16(d + 6);
    uint32_t vlen = ds_le32(d + 12);
    if (vlen > 255 || !ds_in_bounds(16, (uint64_t)vlen + 4, m->size)) {
        diag(o, DS_SEV_ERROR, S, 12, "version length %u invalid", vlen);
        return DS_E_FORMAT;
    }
    if (!avail(m, 16, (uint64_t)vlen + 4)) {
        diag(o, DS_SEV_ERROR, S, 16, "version string / stream count not captured");
        return DS_E_NOTFOUND;
    }
    size_t vl = vlen;
    const uint8_t *z = memchr(d + 16, 0, vl);
    if (z)
        vl = (size_t)(z - (d + 16));
    ds_copy_clean(m->info.version, sizeof m->info.version, d + 16, vl);
    uint32_t pos = 16 + vlen;
    uint16_t nstreams = ds_le16(d + pos + 2);
    pos += 4;
    heap *tbl_seen = NULL;
    for (uint16_t i = 0; i < nstreams; i++) {
        char st[48];
        snprintf(st, sizeof st, "stream header[%u]", (unsigned)i);
        if (!ds_in_bounds(pos, 12, m->size)) {
            diag(o, DS_SEV_ERROR, st, pos, "stream header outside the metadata (%u streams)",
                 (unsigned)nstreams);
            return DS_E_FORMAT;
        }
        uint64_t namemax = m->size - pos - 8 < 32 ? m->size - pos - 8 : 32;
        if (!avail(m, pos, 8)) {
            diag(o, DS_SEV_ERROR, st, pos, "stream header not captured");
            return DS_E_NOTFOUND;
        }
        uint32_t off = ds_le32(d + pos), size = ds_le32(d + pos + 4);
        uint64_t run = avail_run(m, (uint64_t)pos + 8);
        if (run > namemax)
            run = namemax;
        const uint8_t *nz = memchr(d + pos + 8, 0, (size_t)run);
        if (!nz) {
            diag(o, DS_SEV_ERROR, st, pos + 8, "stream name not terminated within 32 bytes%s",
                 run < namemax ? " (not captured)" : "");
            return run < namemax ? DS_E_NOTFOUND : DS_E_FORMAT;
        }
        char name[33];
        size_t nl = (size_t)(nz - (d + pos + 8));
        memcpy(name, d + pos + 8, nl);
        name[nl] = 0;
        pos += 8 + (uint32_t)((nl + 4) & ~(size_t)3); /* name + NUL padded to 4 (II.24.2.2) */
        heap *h = NULL;
        bool is_tbl = false;
        if (!strcmp(name, "#~") || !strcmp(name, "#-")) {
            is_tbl = true;
            if (tbl_seen) {
                diag(o, DS_SEV_WARNING, st, pos, "second table stream \"%s\" ignored", name);
                continue;
            }
            h = &m->tbl;
            m->info.uncompressed = name[1] == '-';
        } else if (!strcmp(name, "#Strings")) {
            h = &m->str;
        } else if (!strcmp(name, "#US")) {
            h = &m->us;
        } else if (!strcmp(name, "#GUID")) {
            h = &m->guid;
        } else if (!strcmp(name, "#Blob")) {
            h = &m->blob;
        } else {
            diag(o, DS_SEV_NOTE, st, pos, "stream \"%.32s\" ignored", name);
            continue;
        }
        if (h->present) {
            diag(o, DS_SEV_WARNING, st, pos, "duplicate stream \"%s\" ignored", name);
            continue;
        }
        if (off > m->size) {
            diag(o, DS_SEV_WARNING, st, pos, "stream \"%s\" at 0x%x outside the metadata (0x%x)",
                 name, off, m->size);
            if (is_tbl)
                return DS_E_FORMAT;
            continue;
        }
        if (size > m->size - off) {
            diag(o, DS_SEV_WARNING, st, pos,
                 "stream \"%s\" 0x%x+0x%x exceeds the metadata (0x%x): clipped", name, off, size,
                 m->size);
            size = m->size - off;
        }
        h->off = off;
        h->size = size;
        h->present = true;
        if (is_tbl)
            tbl_seen = h;
    }
    m->info.strings_size = m->str.size;
    m->info.us_size = m->us.size;
    m->info.guid_size = m->guid.size;
    m->info.blob_size = m->blob.size;
    m->info.tables_size = m->tbl.size;
    if (!tbl_seen) {
        diag(o, DS_SEV_ERROR, S, 0, "no #~ or #- table stream");
        return DS_E_FORMAT;
    }
    return DS_OK;
}

static unsigned idx_width(const ds_clrmeta *m, unsigned t)
{
    return m->info.rows[t] > 0xFFFF ? 4 : 2;
}

/* II.24.2.6: a coded index is 2 bytes when every target table has fewer than 2^(16-tagbits)
 * rows. */
static unsigned coded_width(const ds_clrmeta *m, unsigned kind)
{
    const cdesc *c = &CODED[kind];
    uint32_t limit = 1u << (16 - c->bits);
    for (unsigned i = 0; i < c->n; i++)
        if (c->t[i] != NONE && m->info.rows[c->t[i]] >= limit)
            return 4;
    return 2;
}

/* The table stream header (II.24.2.6) and the table layout. */
static ds_status parse_tables(octx *o)
{
    ds_clrmeta *m = o->m;
    const char *S = m->info.uncompressed ? "#- header" : "#~ header";
    uint32_t base = m->tbl.off, end = m->tbl.off + m->tbl.size;
    if (m->tbl.size < 24) {
        diag(o, DS_SEV_ERROR, S, base, "table stream too small (%u bytes)", m->tbl.size);
        return DS_E_FORMAT;
    }
    if (!avail(m, base, 24)) {
        diag(o, DS_SEV_ERROR, S, base, "table stream header not captured");
        return DS_E_NOTFOUND;
    }
    const uint8_t *h = m->d + base;
    m->info.tables_major = h[4];
    m->info.tables_minor = h[5];
    m->info.heap_sizes = h[6];
    m->info.valid = ds_le64(h + 8);
    m->info.sorted = ds_le64(h + 16);
    if (h[4] != 1 && h[4] != 2) {
        diag(o, DS_SEV_ERROR, S, base + 4, "table stream version %u.%u not supported", h[4], h[5]);
        return DS_E_UNSUPPORTED;
    }
    if (m->info.heap_sizes & ~0xC7u)
        diag(o, DS_SEV_NOTE, S, base + 6, "unknown HeapSizes bits 0x%02x", m->info.heap_sizes);
    unsigned nvalid = (unsigned)__builtin_popcountll(m->info.valid);
    uint64_t pos = (uint64_t)base + 24;
    if (!ds_in_bounds(pos, (uint64_t)nvalid * 4, end)) {
        diag(o, DS_SEV_ERROR, S, base + 8, "%u row counts do not fit in the table stream", nvalid);
        return DS_E_FORMAT;
    }
    if (!avail(m, pos, (uint64_t)nvalid * 4)) {
        diag(o, DS_SEV_ERROR, S, pos, "row counts not captured");
        return DS_E_NOTFOUND;
    }
    for (unsigned t = 0; t < 64; t++) {
        if (!(m->info.valid >> t & 1))
            continue;
        uint32_t r = ds_le32(m->d + pos);
        if (r > MAX_ROWS) {
            diag(o, DS_SEV_ERROR, S, pos, "row count 0x%x of table 0x%02x exceeds 2^24-1", r, t);
            return DS_E_FORMAT;
        }
        m->info.rows[t] = r;
        pos += 4;
    }
    if (m->info.heap_sizes & 0x40) { /* extra data word (unoptimized streams, as CoreCLR) */
        if (!ds_in_bounds(pos, 4, end)) {
            diag(o, DS_SEV_ERROR, S, pos, "extra data word outside the table stream");
            return DS_E_FORMAT;
        }
        pos += 4;
    }
    if (m->info.valid >> DS_CLRMETA_NTABLES)
        diag(o, DS_SEV_NOTE, S, base + 8,
             "tables above 0x2C present (valid 0x%016llx): not read (they follow all known ones)",
             (unsigned long long)m->info.valid);
    unsigned sw = m->info.heap_sizes & 1 ? 4 : 2, gw = m->info.heap_sizes & 2 ? 4 : 2,
             bw = m->info.heap_sizes & 4 ? 4 : 2;
    for (unsigned t = 0; t < DS_CLRMETA_NTABLES; t++) {
        unsigned off = 0;
        for (unsigned c = 0; c < TABLES[t].ncols; c++) {
            const col *cd = &TABLES[t].c[c];
            unsigned w = 0;
            switch (cd->kind) {
            case K_U16:
                w = 2;
                break;
            case K_U32:
                w = 4;
                break;
            case K_STR:
                w = sw;
                break;
            case K_GUID:
                w = gw;
                break;
            case K_BLOB:
                w = bw;
                break;
            case K_IDX:
                w = idx_width(m, cd->arg);
                break;
            default:
                w = coded_width(m, cd->arg);
                break;
            }
            m->col_off[t][c] = (uint8_t)off;
            m->col_w[t][c] = (uint8_t)w;
            off += w;
        }
        m->row_size[t] = (uint8_t)off;
    }
    /* II.24.2.6: the tables follow the header in table-number order, rows back to back */
    for (unsigned t = 0; t < DS_CLRMETA_NTABLES; t++) {
        m->tbl_off[t] = (uint32_t)pos;
        uint64_t bytes = (uint64_t)m->info.rows[t] * m->row_size[t];
        if (!ds_in_bounds(pos, bytes, end)) {
            diag(o, DS_SEV_ERROR, S, base + 24,
                 "table %s (0x%02x, %u rows of %u bytes) ends beyond the table stream (0x%x): "
                 "row counts or HeapSizes corrupt",
                 TABLES[t].name, t, m->info.rows[t], m->row_size[t], m->tbl.size);
            return DS_E_FORMAT;
        }
        pos += bytes;
    }
    if (!(m->info.valid >> DS_CLRMETA_NTABLES) && end - pos >= 8)
        diag(o, DS_SEV_NOTE, S, pos, "%llu bytes after the last table unused",
             (unsigned long long)(end - pos));
    return DS_OK;
}

static void check_captured(octx *o, const heap *h, const char *name)
{
    if (!h->present || !h->size || avail(o->m, h->off, h->size))
        return;
    uint64_t have = 0, a = h->off, b = (uint64_t)h->off + h->size;
    for (size_t i = 0; i < o->m->nhave; i++) {
        uint64_t s0 = o->m->have[i].off, s1 = s0 + o->m->have[i].len;
        uint64_t lo = s0 > a ? s0 : a, hi = s1 < b ? s1 : b;
        if (hi > lo)
            have += hi - lo;
    }
    diag(o, DS_SEV_WARNING, name, h->off, "%llu of %u bytes not captured in the dump",
         (unsigned long long)(h->size - have), h->size);
}

/* NestedClass map (II.22.32) and a pass over the TypeDefs to report damage once, at open. */
static ds_status index_types(octx *o)
{
    ds_clrmeta *m = o->m;
    uint32_t ntd = m->info.rows[DS_CLRMETA_TYPEDEF], nnc = m->info.rows[DS_CLRMETA_NESTEDCLASS];
    m->enclosing = calloc((size_t)ntd + 1, sizeof *m->enclosing);
    if (!m->enclosing)
        return DS_E_NOMEM;
    unsigned bad = 0, missing = 0;
    for (uint32_t r = 1; r <= nnc; r++) {
        uint32_t nested, enc;
        if (row_col(m, DS_CLRMETA_NESTEDCLASS, r, NC_NESTED, &nested) != DS_OK ||
            row_col(m, DS_CLRMETA_NESTEDCLASS, r, NC_ENCLOSING, &enc) != DS_OK) {
            m->nested_incomplete = true;
            missing++;
            continue;
        }
        const char *why = NULL;
        if (!nested || nested > ntd || !enc || enc > ntd)
            why = "TypeDef index out of range";
        else if (nested == enc)
            why = "type encloses itself";
        else if (m->enclosing[nested])
            why = "second enclosing class for the same type";
        if (why) {
            if (bad++ < MAX_DIAG_ROWS) {
                char st[48];
                snprintf(st, sizeof st, "NestedClass[%u]", r);
                diag(o, DS_SEV_WARNING, st,
                     m->tbl_off[DS_CLRMETA_NESTEDCLASS] +
                         (uint64_t)(r - 1) * m->row_size[DS_CLRMETA_NESTEDCLASS],
                     "%s (nested %u, enclosing %u, %u TypeDefs)", why, nested, enc, ntd);
            }
            continue;
        }
        m->enclosing[nested] = enc;
    }
    if (bad > MAX_DIAG_ROWS)
        diag(o, DS_SEV_WARNING, "NestedClass", m->tbl_off[DS_CLRMETA_NESTEDCLASS],
             "%u damaged rows in all", bad);
    if (missing)
        diag(o, DS_SEV_WARNING, "NestedClass", m->tbl_off[DS_CLRMETA_NESTEDCLASS],
             "%u of %u rows not captured", missing, nnc);

    unsigned tbad = 0, tmissing = 0;
    char tmp[DS_CLRMETA_NAME_MAX];
    uint32_t ncheck = ntd < MAX_CHECK_ROWS ? ntd : MAX_CHECK_ROWS;
    if (ncheck < ntd)
        diag(o, DS_SEV_NOTE, "TypeDef", m->tbl_off[DS_CLRMETA_TYPEDEF],
             "only the first %u of %u rows validated at open", ncheck, ntd);
    for (uint32_t r = 1; r <= ncheck; r++) {
        ds_status st = ds_clrmeta_typedef_name(m, r, tmp, sizeof tmp);
        uint32_t first, count;
        ds_status fs = ds_clrmeta_typedef_fields(m, r, &first, &count);
        if (st == DS_E_NOTFOUND || fs == DS_E_NOTFOUND) {
            tmissing++;
            continue;
        }
        if (st == DS_OK && (fs == DS_OK || fs == DS_E_UNSUPPORTED))
            continue;
        if (tbad++ < MAX_DIAG_ROWS) {
            char sname[48];
            snprintf(sname, sizeof sname, "TypeDef[%u]", r);
            diag(o, DS_SEV_WARNING, sname,
                 m->tbl_off[DS_CLRMETA_TYPEDEF] +
                     (uint64_t)(r - 1) * m->row_size[DS_CLRMETA_TYPEDEF],
                 "%s",
                 st != DS_OK ? "name unreadable (bad string index, nesting cycle or too deep)"
                             : "field run inconsistent");
        }
    }
    if (tbad > MAX_DIAG_ROWS)
        diag(o, DS_SEV_WARNING, "TypeDef", m->tbl_off[DS_CLRMETA_TYPEDEF], "%u damaged rows in all",
             tbad);
    if (tmissing)
        diag(o, DS_SEV_WARNING, "TypeDef", m->tbl_off[DS_CLRMETA_TYPEDEF],
             "%u of %u rows unreadable (not captured)", tmissing, ncheck);
    return DS_OK;
}

static ds_status open_common(octx *o, ds_clrmeta **out)
{
    ds_clrmeta *m = o->m;
    ds_status st = parse_root(o);
    if (st == DS_OK)
        st = parse_tables(o);
    if (st == DS_OK) {
        check_captured(o, &m->tbl, m->info.uncompressed ? "#-" : "#~");
        check_captured(o, &m->str, "#Strings");
        check_captured(o, &m->guid, "#GUID");
        check_captured(o, &m->blob, "#Blob");
        check_captured(o, &m->us, "#US");
        if (m->info.uncompressed)
            diag(o, DS_SEV_NOTE, "#- header", m->tbl.off,
                 "unoptimized (#-) table stream: names are read, Ptr-table indirection is not");
        st = index_types(o);
    }
    if (st != DS_OK) {
        ds_clrmeta_close(m);
        return st;
    }
    *out = m;
    return o->partial ? DS_E_PARTIAL : DS_OK;
}

/* open_buf / open_mapped: the bytes are copied (borrow false) or used in place (borrow true). */
static ds_status open_bytes(const uint8_t *p, size_t n, bool borrow, ds_clrmeta **out,
                            ds_diags *diags)
{
    octx o = {NULL, diags, false, 0, false};
    if (n > DS_CLRMETA_MAX_SIZE) {
        diag(&o, DS_SEV_ERROR, "metadata root", 0, "metadata size %zu exceeds the %u limit", n,
             DS_CLRMETA_MAX_SIZE);
        return DS_E_FORMAT;
    }
    ds_clrmeta *m = calloc(1, sizeof *m);
    if (!m)
        return DS_E_NOMEM;
    o.m = m;
    m->size = (uint32_t)n;
    m->info.size = (uint32_t)n;
    if (borrow) {
        m->d = (uint8_t *)(uintptr_t)p; /* only read: the handle is immutable after open */
        m->borrowed = true;
    } else {
        m->d = malloc(n ? n : 1);
    }
    size_t cap = 0;
    if (!m->d || !add_span(m, &cap, 0, (uint32_t)n)) {
        ds_clrmeta_close(m);
        return DS_E_NOMEM;
    }
    if (!borrow && n)
        memcpy(m->d, p, n);
    return open_common(&o, out);
}

ds_status ds_clrmeta_open_buf(const uint8_t *p, size_t n, ds_clrmeta **out, ds_diags *diags)
{
    if (!out)
        return DS_E_USAGE;
    *out = NULL;
    if (!p && n)
        return DS_E_USAGE;
    return open_bytes(p, n, false, out, diags);
}

ds_status ds_clrmeta_open_mapped(const uint8_t *p, size_t n, ds_clrmeta **out, ds_diags *diags)
{
    if (!out)
        return DS_E_USAGE;
    *out = NULL;
    if (!p || !n)
        return DS_E_USAGE;
    return open_bytes(p, n, true, out, diags);
}

ds_status ds_clrmeta_open_vm(ds_vmem *vm, uint64_t va, uint32_t size, ds_clrmeta **out,
                             ds_diags *diags)
{
    if (!out)
        return DS_E_USAGE;
    *out = NULL;
    if (!vm)
        return DS_E_USAGE;
    octx o = {NULL, diags, true, va, false};
    if (size > DS_CLRMETA_MAX_SIZE || size < 16 || ds_add_overflows(va, size)) {
        diag(&o, DS_SEV_ERROR, "metadata root", 0, "metadata size 0x%x invalid", size);
        return DS_E_FORMAT;
    }
    /* fail fast when the root is not in the dump, before allocating size bytes */
    uint8_t root[4];
    ds_mem_status ms = ds_vmem_read(vm, va, root, sizeof root, NULL);
    if (ms != DS_MEM_OK) {
        diag(&o, DS_SEV_ERROR, "metadata root", 0, "metadata root not readable: %s",
             ds_mem_status_str(ms));
        return DS_E_NOTFOUND;
    }
    ds_clrmeta *m = calloc(1, sizeof *m);
    if (!m)
        return DS_E_NOMEM;
    o.m = m;
    m->size = size;
    m->info.size = size;
    m->d = calloc(1, size);
    if (!m->d) {
        ds_clrmeta_close(m);
        return DS_E_NOMEM;
    }
    /* copy the captured runs; skip each gap to the end of its range or to the next range */
    size_t cap = 0;
    uint64_t pos = 0, captured = 0;
    for (size_t guard = 0; pos < size && guard <= 2 * vm->n + 4; guard++) {
        size_t got = 0;
        ms = ds_vmem_read(vm, va + pos, m->d + pos, (size_t)(size - pos), &got);
        if (got > size - pos)
            got = (size_t)(size - pos);
        if (!add_span(m, &cap, (uint32_t)pos, (uint32_t)got)) {
            ds_clrmeta_close(m);
            return DS_E_NOMEM;
        }
        captured += got;
        pos += got;
        if (ms == DS_MEM_OK || pos >= size)
            break;
        ds_mem_status fs;
        const ds_range *r = ds_vmem_find(vm, va + pos, &fs);
        uint64_t next;
        if (r)
            next = r->va + r->size;
        else if ((r = ds_vmem_next(vm, va + pos)) != NULL)
            next = r->va;
        else
            break;
        if (next <= va + pos)
            next = va + pos + 1;
        if (next - va > size)
            next = va + size;
        /* the gap stays zero (a failed read may have left bytes behind) */
        memset(m->d + pos, 0, (size_t)(next - va - pos));
        pos = next - va;
    }
    m->info.missing = (uint32_t)(size - captured);
    if (m->info.missing)
        diag(&o, DS_SEV_NOTE, "metadata", 0, "%u of %u metadata bytes not captured",
             m->info.missing, size);
    return open_common(&o, out);
}
