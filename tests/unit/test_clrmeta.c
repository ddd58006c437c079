/* ECMA-335 metadata reader on real managed assemblies, mapped as the Windows loader maps
 * them and read through the memory view (the path the CLR heap reader takes in dumps).
 *
 * tests/data/clrmeta/sample.dll is built by tests/data/clrmeta/build.sh (Debian mono-mcs) from
 * sample.cs. The expected values are NOT produced by dumpsleuth: they come from Mono's own
 * metadata reader, `monodis` (mono-utils), whose output build.sh saved as sample.monodis.txt
 * (--module, --assembly, --assemblyref, --typedef, --typeref, --nested, --fields). monodis writes
 * nested types as "Outer/Inner"; SOS (and this reader) as "Outer+Inner".
 * When Mono's mscorlib.dll and monodis are installed, mscorlib's TypeDefs and TypeRefs are also
 * compared with `monodis --typedef/--typeref` run at test time (4-byte heap and coded indices).
 * Damaged variants (corrupt headers, bad indices, nesting cycles, missing pages) are made here. */
#include "dstest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpsleuth/clrmeta.h"
#include "dumpsleuth/pe.h"

#define BASE 0x7ffb12340000ULL
#define MSCORLIB "/usr/lib/mono/4.5/mscorlib.dll"
#define MDL 1024 /* monodis line and name buffers */

/* ---------------------------------------------------------------- monodis output */

typedef struct md_typedef {
    char name[MDL]; /* '/' already replaced by '+' */
    uint32_t flist, flags, extends;
} md_typedef;

typedef struct md_field {
    char name[MDL];
    char owner[MDL]; /* "########## X" header (monodis prints nested owners as ".Name") */
    bool is_static;
} md_field;

typedef struct md_info {
    char module[256], mvid[64], assembly[256], version[64], aref1[256];
    md_typedef *td;
    size_t ntd;
    char (*tr)[MDL];
    char (*tr_scope)[MDL];
    size_t ntr;
    md_field *fd;
    size_t nfd;
} md_info;

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
}

static void slash_to_plus(char *s)
{
    for (; *s; s++)
        if (*s == '/')
            *s = '+';
}

/* Parses the sections of monodis output (one or more of --module/--assembly/--assemblyref/
 * --typedef/--typeref/--fields) from f. */
static void md_parse(FILE *f, md_info *o)
{
    char line[MDL];
    enum { NONE, MODULE, ASSEMBLY, AREF, TYPEDEF, TYPEREF, FIELDS, OTHER } sec = NONE;
    char owner[MDL] = "";
    while (fgets(line, sizeof line, f)) {
        chomp(line);
        if (!strncmp(line, "## ", 3))
            continue;
        if (!strncmp(line, "Module Table", 12)) {
            sec = MODULE;
            continue;
        }
        if (!strncmp(line, "Assembly Table", 14)) {
            sec = ASSEMBLY;
            continue;
        }
        if (!strncmp(line, "AssemblyRef Table", 17)) {
            sec = AREF;
            continue;
        }
        if (!strncmp(line, "Typedef Table", 13)) {
            sec = TYPEDEF;
            continue;
        }
        if (!strncmp(line, "Typeref Table", 13)) {
            sec = TYPEREF;
            continue;
        }
        if (!strncmp(line, "Field Table", 11)) {
            sec = FIELDS;
            continue;
        }
        if (!strncmp(line, "NestedClass Table", 17)) {
            sec = OTHER;
            continue;
        }
        unsigned idx = 0;
        int used = 0;
        switch (sec) {
        case MODULE:
            if (sscanf(line, "%u: %255s %*u %63s", &idx, o->module, o->mvid) == 3)
                assert_int_equal(idx, 1);
            break;
        case ASSEMBLY:
            sscanf(line, "Name: %255s", o->assembly);
            sscanf(line, "Version: %63s", o->version);
            break;
        case AREF:
            if (!o->aref1[0])
                sscanf(line, " Name=%255s", o->aref1);
            break;
        case TYPEDEF: {
            if (sscanf(line, "%u: %n", &idx, &used) != 1)
                break;
            char *lp = strstr(line, " (flist=");
            assert_non_null(lp);
            o->td = realloc(o->td, (o->ntd + 1) * sizeof *o->td);
            assert_non_null(o->td);
            md_typedef *t = &o->td[o->ntd++];
            assert_int_equal(idx, o->ntd);
            *lp = 0;
            snprintf(t->name, sizeof t->name, "%s", line + used);
            slash_to_plus(t->name);
            unsigned ml;
            assert_int_equal(sscanf(lp + 1, "(flist=%u, mlist=%u, flags=%x, extends=%x)", &t->flist,
                                    &ml, &t->flags, &t->extends),
                             4);
            break;
        }
        case TYPEREF: {
            if (sscanf(line, "%u: %n", &idx, &used) != 1)
                break;
            o->tr = realloc(o->tr, (o->ntr + 1) * sizeof *o->tr);
            o->tr_scope = realloc(o->tr_scope, (o->ntr + 1) * sizeof *o->tr_scope);
            assert_true(o->tr && o->tr_scope);
            size_t i = o->ntr++;
            assert_int_equal(idx, o->ntr);
            const char *s = line + used;
            o->tr_scope[i][0] = 0;
            if (*s == '[') {
                const char *e = strchr(s, ']');
                assert_non_null(e);
                snprintf(o->tr_scope[i], sizeof o->tr_scope[i], "%.*s", (int)(e - s - 1), s + 1);
                s = e + 1;
            }
            snprintf(o->tr[i], sizeof o->tr[i], "%s", s);
            slash_to_plus(o->tr[i]);
            break;
        }
        case FIELDS: {
            if (!strncmp(line, "########## ", 11)) {
                snprintf(owner, sizeof owner, "%s", line + 11);
                break;
            }
            if (sscanf(line, "%u: %n", &idx, &used) != 1)
                break;
            o->fd = realloc(o->fd, (o->nfd + 1) * sizeof *o->fd);
            assert_non_null(o->fd);
            md_field *fd = &o->fd[o->nfd++];
            assert_int_equal(idx, o->nfd);
            /* "<type> <name>: <flags>": the name is the last word before the last ": " */
            char *colon = NULL;
            for (char *p = strstr(line, ": "); p; p = strstr(p + 1, ": "))
                colon = p;
            assert_non_null(colon);
            fd->is_static = strstr(colon, " static") != NULL;
            *colon = 0;
            char *sp = strrchr(line, ' ');
            assert_non_null(sp);
            snprintf(fd->name, sizeof fd->name, "%s", sp + 1);
            snprintf(fd->owner, sizeof fd->owner, "%s", owner);
            break;
        }
        default:
            break;
        }
    }
}

static void md_free(md_info *o)
{
    free(o->td);
    free(o->tr);
    free(o->tr_scope);
    free(o->fd);
    memset(o, 0, sizeof *o);
}

/* ---------------------------------------------------------------- loader emulation */
/* dstest_map_pe (tests/support) maps a PE file as the Windows loader does. */

static dstest_mapped load_mapped_path(const char *path)
{
    size_t len = 0;
    uint8_t *f = dstest_read_file(path, &len);
    assert_non_null(f);
    dstest_mapped m = dstest_map_pe(f, len);
    free(f);
    return m;
}

static void view_of(ds_vmem *vm, const dstest_mapped *m)
{
    ds_vmem_init(vm, m->img, m->size, 8);
    assert_true(ds_vmem_add(vm, BASE, m->size, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(vm);
}

/* The image with [hole, hole+hole_size) (rva) not captured. */
static void view_with_hole(ds_vmem *vm, const dstest_mapped *m, uint32_t hole, uint32_t hole_size)
{
    ds_vmem_init(vm, m->img, m->size, 8);
    if (hole)
        assert_true(ds_vmem_add(vm, BASE, hole, DS_RANGE_DATA, 0, 0));
    assert_true(ds_vmem_add(vm, BASE + hole, hole_size, DS_RANGE_NOT_CAPTURED, 0, 1));
    if (hole + hole_size < m->size)
        assert_true(ds_vmem_add(vm, BASE + hole + hole_size, m->size - hole - hole_size,
                                DS_RANGE_DATA, hole + hole_size, 2));
    ds_vmem_finish(vm);
}

/* Maps the DLL, parses the PE (ds_pe_parse) for the CLR header: metadata rva and size. */
static void pe_metadata(ds_vmem *vm, uint32_t *rva, uint32_t *size)
{
    ds_pe pe;
    assert_int_equal(ds_pe_parse(vm, BASE, &pe, NULL), DS_OK);
    assert_true(pe.has_clr);
    assert_string_equal(pe.clr_version, "v4.0.30319");
    assert_int_equal(pe.clr_metadata_va, BASE + pe.clr_metadata_rva);
    *rva = pe.clr_metadata_rva;
    *size = pe.clr_metadata_size;
    ds_pe_free(&pe);
}

/* ---------------------------------------------------------------- independent metadata locator */

/* Where the streams are, from the metadata root (II.24.2.1-2), written here for the corruption
 * tests (independent of the reader). */
typedef struct streams {
    uint32_t tbl, tbl_size, str, str_size, guid, guid_size;
    uint32_t stream_hdr[8]; /* offset of each stream header */
    char names[8][32];
    unsigned n;
} streams;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static streams locate(const uint8_t *md)
{
    streams s = {0};
    assert_int_equal(rd32(md), 0x424A5342u);
    uint32_t pos = 16 + rd32(md + 12);
    unsigned n = md[pos + 2] | md[pos + 3] << 8;
    pos += 4;
    assert_true(n <= 8);
    for (unsigned i = 0; i < n; i++) {
        s.stream_hdr[i] = pos;
        uint32_t off = rd32(md + pos), size = rd32(md + pos + 4);
        const char *name = (const char *)md + pos + 8;
        snprintf(s.names[i], sizeof s.names[i], "%s", name);
        if (!strcmp(name, "#~")) {
            s.tbl = off;
            s.tbl_size = size;
        } else if (!strcmp(name, "#Strings")) {
            s.str = off;
            s.str_size = size;
        } else if (!strcmp(name, "#GUID")) {
            s.guid = off;
            s.guid_size = size;
        }
        pos += 8 + (uint32_t)((strlen(name) + 4) & ~3u);
    }
    s.n = n;
    assert_true(s.tbl && s.str);
    return s;
}

/* Offset of a byte pattern inside [from, from+len) of md, asserting it is unique. */
static uint32_t find_unique(const uint8_t *md, uint32_t from, uint32_t len, const uint8_t *pat,
                            size_t plen)
{
    uint32_t found = 0, hits = 0;
    for (uint32_t i = from; i + plen <= from + len; i++)
        if (!memcmp(md + i, pat, plen)) {
            found = i;
            hits++;
        }
    assert_int_equal(hits, 1);
    return found;
}

/* In sample.dll every index is 2 bytes: a TypeDef row is 14 bytes (II.22.37) and row 1 is
 * <Module> (flags 0, name 1, namespace 0, extends 0, FieldList 1, MethodList 1). */
static const uint8_t TD_ROW1[14] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0};
/* NestedClass rows from monodis --nested: (5 in 4), (6 in 5), (10 in 9). */
static const uint8_t NC_ROWS[12] = {5, 0, 4, 0, 6, 0, 5, 0, 10, 0, 9, 0};

/* ---------------------------------------------------------------- helpers */

static bool has_diag(const ds_diags *d, ds_severity min, const char *structure_prefix)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].severity >= min &&
            !strncmp(d->v[i].structure, structure_prefix, strlen(structure_prefix)))
            return true;
    return false;
}

static void guid_str(const uint8_t *g, char *out)
{
    sprintf(out, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", rd32(g),
            (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8), g[8], g[9], g[10], g[11],
            g[12], g[13], g[14], g[15]);
}

/* Names every TypeDef/TypeRef, field and the module identity; checks only that statuses are
 * clean and outputs are NUL-terminated (damaged inputs). */
static void exercise(const ds_clrmeta *m)
{
    char buf[DS_CLRMETA_NAME_MAX];
    uint8_t g[16];
    uint16_t v[4];
    uint32_t ntd = ds_clrmeta_typedef_count(m), ntr = ds_clrmeta_typeref_count(m);
    for (uint32_t r = 0; r <= ntd + 1 && r < 5000; r++) {
        ds_status st = ds_clrmeta_typedef_name(m, r, buf, sizeof buf);
        assert_true(st == DS_OK || st == DS_E_NOTFOUND || st == DS_E_FORMAT || st == DS_E_USAGE);
        if (st != DS_OK)
            assert_string_equal(buf, "");
        ds_clrmeta_typedef t;
        ds_clrmeta_typedef_props(m, r, &t);
        uint32_t first, count;
        if (ds_clrmeta_typedef_fields(m, r, &first, &count) == DS_OK)
            for (uint32_t i = 0; i < count && i < 64; i++) {
                uint16_t fl;
                ds_clrmeta_field_name(m, first + i, buf, sizeof buf);
                ds_clrmeta_field_flags(m, first + i, &fl);
            }
        uint32_t fr;
        ds_clrmeta_find_field(m, r, "Created", &fr);
    }
    for (uint32_t r = 0; r <= ntr + 1 && r < 5000; r++) {
        uint32_t scope;
        ds_clrmeta_typeref_name(m, r, buf, sizeof buf);
        ds_clrmeta_typeref_scope(m, r, &scope, buf, sizeof buf);
    }
    ds_clrmeta_assembly_name(m, buf, sizeof buf, v);
    ds_clrmeta_module_name(m, buf, sizeof buf);
    ds_clrmeta_mvid(m, g);
    ds_clrmeta_assemblyref_name(m, 1, buf, sizeof buf);
}

/* ---------------------------------------------------------------- the sample, against monodis */

static void check_sample(const ds_clrmeta *m, const md_info *o)
{
    char buf[DS_CLRMETA_NAME_MAX], want[DS_CLRMETA_NAME_MAX];
    const ds_clrmeta_info *in = ds_clrmeta_get_info(m);
    assert_non_null(in);
    assert_string_equal(in->version, "v4.0.30319");
    assert_int_equal(in->major, 1);
    assert_int_equal(in->minor, 1);
    assert_false(in->uncompressed);
    assert_int_equal(in->tables_major, 2);
    assert_int_equal(in->tables_minor, 0);
    assert_int_equal(in->heap_sizes, 0); /* a tiny assembly: every heap index 2 bytes */

    /* TypeDefs: names (namespace, nesting), flags, base type, field runs */
    assert_int_equal(ds_clrmeta_typedef_count(m), o->ntd);
    assert_int_equal(o->ntd, 12);
    for (uint32_t r = 1; r <= o->ntd; r++) {
        const md_typedef *t = &o->td[r - 1];
        assert_int_equal(ds_clrmeta_typedef_name(m, r, buf, sizeof buf), DS_OK);
        if (r == 1) /* monodis prints the <Module> pseudo-type (II.22.37 row 1) as "(null)" */
            assert_string_equal(buf, "<Module>");
        else
            assert_string_equal(buf, t->name);
        ds_clrmeta_typedef p;
        assert_int_equal(ds_clrmeta_typedef_props(m, r, &p), DS_OK);
        assert_int_equal(p.flags, t->flags);
        /* monodis prints the raw TypeDefOrRef coded index (II.24.2.6) */
        static const uint32_t tdor[3] = {0x02, 0x01, 0x1B};
        uint32_t ext = t->extends >> 2 ? tdor[t->extends & 3] << 24 | t->extends >> 2 : 0;
        assert_int_equal(p.extends, ext);
        uint32_t next = r < o->ntd ? o->td[r].flist : (uint32_t)o->nfd + 1;
        uint32_t first, count;
        assert_int_equal(ds_clrmeta_typedef_fields(m, r, &first, &count), DS_OK);
        assert_int_equal(first, t->flist);
        assert_int_equal(count, next - t->flist);
        assert_int_equal(p.field_first, first);
        assert_int_equal(p.field_count, count);
        /* every field in the run: name and static-ness as monodis lists them under this type */
        for (uint32_t i = 0; i < count; i++) {
            const md_field *f = &o->fd[first + i - 1];
            const char *dot = strrchr(t->name, '+');
            /* monodis heads nested owners with ".Inner" and <Module>-less top-level with the
             * full name */
            if (dot)
                assert_string_equal(f->owner + 1, dot + 1);
            else if (strcmp(f->owner, t->name))
                assert_true(f->owner[0] == '.' && !strcmp(f->owner + 1, t->name));
            assert_int_equal(ds_clrmeta_field_name(m, first + i, buf, sizeof buf), DS_OK);
            assert_string_equal(buf, f->name);
            uint16_t fl;
            assert_int_equal(ds_clrmeta_field_flags(m, first + i, &fl), DS_OK);
            assert_int_equal((fl & DS_CLRMETA_FD_STATIC) != 0, f->is_static);
            uint32_t found;
            assert_int_equal(ds_clrmeta_find_field(m, r, f->name, &found), DS_OK);
            assert_int_equal(found, first + i);
        }
        uint32_t rid;
        assert_int_equal(ds_clrmeta_typedef_name(m, r, buf, sizeof buf), DS_OK);
        assert_int_equal(ds_clrmeta_find_typedef(m, buf, &rid), DS_OK);
        assert_int_equal(rid, r);
        snprintf(want, sizeof want, "%s", buf);
        assert_int_equal(ds_clrmeta_token_name(m, 0x02000000u | r, buf, sizeof buf), DS_OK);
        assert_string_equal(buf, want);
    }
    assert_int_equal(ds_clrmeta_rows(m, DS_CLRMETA_FIELD), o->nfd);
    assert_int_equal(o->nfd, 37);

    /* the names the CLR heap reader will look for */
    uint32_t rid, fr;
    const char *leak[] = {"DsLeak.Font",
                          "DsLeak.Bitmap",
                          "DsLeak.PrintJob",
                          "DsLeak.PrintJob+Spooler+Slot",
                          "DsLeak.Generic.Box`1+Inner`1",
                          "DsLeak.Generic.Pair`2"};
    for (size_t i = 0; i < sizeof leak / sizeof *leak; i++)
        assert_int_equal(ds_clrmeta_find_typedef(m, leak[i], &rid), DS_OK);
    assert_int_equal(ds_clrmeta_find_typedef(m, "DsLeak.Nope", &rid), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_find_typedef(m, "DsLeak.Font", &rid), DS_OK);
    assert_int_equal(ds_clrmeta_find_field(m, rid, "Created", &fr), DS_OK);
    uint16_t fl;
    assert_int_equal(ds_clrmeta_field_flags(m, fr, &fl), DS_OK);
    assert_true(fl & DS_CLRMETA_FD_STATIC);
    assert_int_equal(ds_clrmeta_find_field(m, rid, "Nope", &fr), DS_E_NOTFOUND);
    ds_clrmeta_typedef p;
    assert_int_equal(ds_clrmeta_find_typedef(m, "DsLeak.PrintJob+Spooler+Slot", &rid), DS_OK);
    assert_int_equal(ds_clrmeta_typedef_props(m, rid, &p), DS_OK);
    assert_int_equal(p.enclosing, 5); /* monodis --nested: 6 in 5 */

    /* TypeRefs: names and resolution scopes */
    assert_int_equal(ds_clrmeta_typeref_count(m), o->ntr);
    assert_int_equal(o->ntr, 10);
    for (uint32_t r = 1; r <= o->ntr; r++) {
        assert_int_equal(ds_clrmeta_typeref_name(m, r, buf, sizeof buf), DS_OK);
        assert_string_equal(buf, o->tr[r - 1]);
        snprintf(want, sizeof want, "%s", buf);
        assert_int_equal(ds_clrmeta_token_name(m, 0x01000000u | r, buf, sizeof buf), DS_OK);
        assert_string_equal(buf, want);
        uint32_t scope;
        assert_int_equal(ds_clrmeta_typeref_scope(m, r, &scope, buf, sizeof buf), DS_OK);
        assert_int_equal(scope, 0x23000001u);
        assert_string_equal(buf, o->tr_scope[r - 1]);
    }
    assert_int_equal(ds_clrmeta_assemblyref_name(m, 1, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, o->aref1);

    /* Module, MVID, Assembly */
    assert_int_equal(ds_clrmeta_module_name(m, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, o->module);
    uint8_t g[16];
    char gs[64];
    assert_int_equal(ds_clrmeta_mvid(m, g), DS_OK);
    guid_str(g, gs);
    assert_string_equal(gs, o->mvid);
    uint16_t v[4];
    assert_int_equal(ds_clrmeta_assembly_name(m, buf, sizeof buf, v), DS_OK);
    assert_string_equal(buf, o->assembly);
    snprintf(want, sizeof want, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
    assert_string_equal(want, o->version);
}

static void load_sample_truth(md_info *o)
{
    FILE *f = fopen(dstest_data("clrmeta/sample.monodis.txt"), "r");
    assert_non_null(f);
    md_parse(f, o);
    fclose(f);
    assert_string_equal(o->module, "sample.dll");
    assert_string_equal(o->assembly, "sample");
    assert_string_equal(o->version, "1.2.3.4");
    assert_string_equal(o->aref1, "mscorlib");
}

static void test_sample_vm(void **state)
{
    (void)state;
    md_info o = {0};
    load_sample_truth(&o);
    dstest_mapped img = load_mapped_path(dstest_data("clrmeta/sample.dll"));
    ds_vmem vm;
    view_of(&vm, &img);
    uint32_t rva, size;
    pe_metadata(&vm, &rva, &size);
    ds_diags d;
    ds_diags_init(&d);
    ds_clrmeta *m = NULL;
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + rva, size, &m, &d), DS_OK);
    assert_int_equal(ds_diags_count(&d, DS_SEV_WARNING), 0);
    assert_int_equal(ds_clrmeta_get_info(m)->missing, 0);
    check_sample(m, &o);
    ds_clrmeta_close(m);

    /* the same bytes from a buffer */
    assert_int_equal(ds_clrmeta_open_buf(img.img + rva, size, &m, &d), DS_OK);
    check_sample(m, &o);
    ds_clrmeta_close(m);
    ds_diags_free(&d);
    ds_vmem_free(&vm);
    free(img.img);
    md_free(&o);
}

/* ---------------------------------------------------------------- SOS formatting */

static void test_format(void **state)
{
    (void)state;
    char buf[256];
    const char *a1[] = {"System.String"}, *s1[] = {"mscorlib"};
    assert_int_equal(
        ds_clrmeta_format_generic("System.Collections.Generic.List`1", a1, 1, s1, buf, sizeof buf),
        DS_OK);
    assert_string_equal(buf, "System.Collections.Generic.List`1[[System.String, mscorlib]]");
    const char *a2[] = {"System.String", "DsLeak.Bitmap"}, *s2[] = {"mscorlib", "sample"};
    assert_int_equal(ds_clrmeta_format_generic("System.Collections.Generic.Dictionary`2", a2, 2, s2,
                                               buf, sizeof buf),
                     DS_OK);
    assert_string_equal(
        buf, "System.Collections.Generic.Dictionary`2[[System.String, mscorlib],[DsLeak.Bitmap, "
             "sample]]");
    assert_int_equal(ds_clrmeta_format_generic("List`1", a1, 1, NULL, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "List`1[System.String]");
    const char *s2b[] = {NULL, "sample"};
    assert_int_equal(ds_clrmeta_format_generic("Pair`2", a2, 2, s2b, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "Pair`2[System.String,[DsLeak.Bitmap, sample]]");
    /* nested generic: the arguments follow the whole nested name */
    assert_int_equal(ds_clrmeta_format_generic("System.Collections.Generic.Dictionary`2+Entry", a2,
                                               2, s2, buf, sizeof buf),
                     DS_OK);
    assert_string_equal(buf, "System.Collections.Generic.Dictionary`2+Entry[[System.String, "
                             "mscorlib],[DsLeak.Bitmap, sample]]");
    /* arrays, arrays of instantiations */
    assert_int_equal(ds_clrmeta_format_array("DsLeak.Font", 1, true, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.Font[]");
    assert_int_equal(ds_clrmeta_format_array("System.Int32", 2, false, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "System.Int32[,]");
    assert_int_equal(ds_clrmeta_format_array("System.Int32", 3, true, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "System.Int32[,,]");
    assert_int_equal(ds_clrmeta_format_array("System.Int32", 1, false, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "System.Int32[*]");
    char inst[128];
    assert_int_equal(ds_clrmeta_format_generic("System.Collections.Generic.List`1", a1, 1, s1, inst,
                                               sizeof inst),
                     DS_OK);
    assert_int_equal(ds_clrmeta_format_array(inst, 1, true, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "System.Collections.Generic.List`1[[System.String, mscorlib]][]");
    /* errors: the buffer is "" afterwards */
    assert_int_equal(ds_clrmeta_format_array("DsLeak.Font", 1, true, buf, 13), DS_E_USAGE);
    assert_string_equal(buf, "");
    assert_int_equal(ds_clrmeta_format_array("DsLeak.Font", 1, true, buf, 14), DS_OK);
    assert_int_equal(ds_clrmeta_format_array("X", 0, true, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_format_array("X", 33, true, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_format_array("X", 32, false, buf, sizeof buf), DS_OK);
    assert_int_equal(ds_clrmeta_format_array(NULL, 1, true, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_format_generic("List`1", a1, 0, NULL, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_format_generic("List`1", NULL, 1, NULL, buf, sizeof buf),
                     DS_E_USAGE);
    const char *anull[] = {NULL};
    assert_int_equal(ds_clrmeta_format_generic("List`1", anull, 1, NULL, buf, sizeof buf),
                     DS_E_USAGE);
    assert_int_equal(
        ds_clrmeta_format_generic("System.Collections.Generic.List`1", a1, 1, s1, buf, 20),
        DS_E_USAGE);
    assert_string_equal(buf, "");
    assert_int_equal(ds_clrmeta_format_generic("List`1", a1, 1, s1, NULL, 10), DS_E_USAGE);
}

/* ---------------------------------------------------------------- damaged metadata */

typedef struct sample_md {
    dstest_mapped img;
    uint32_t rva, size;
    uint8_t *md; /* img.img + rva */
    streams s;
    uint32_t td;     /* offset of TypeDef row 1 */
    uint32_t nc;     /* offset of NestedClass row 1 */
    uint32_t rowcnt; /* offset of the row counts */
} sample_md;

static sample_md load_sample_md(void)
{
    sample_md x;
    x.img = load_mapped_path(dstest_data("clrmeta/sample.dll"));
    ds_vmem vm;
    view_of(&vm, &x.img);
    pe_metadata(&vm, &x.rva, &x.size);
    ds_vmem_free(&vm);
    x.md = x.img.img + x.rva;
    x.s = locate(x.md);
    x.td = find_unique(x.md, x.s.tbl, x.s.tbl_size, TD_ROW1, sizeof TD_ROW1);
    x.nc = find_unique(x.md, x.s.tbl, x.s.tbl_size, NC_ROWS, sizeof NC_ROWS);
    x.rowcnt = x.s.tbl + 24;
    return x;
}

/* Opens a modified copy of the sample's metadata from a buffer. */
static ds_status open_copy(const uint8_t *md, uint32_t size, ds_clrmeta **m, ds_diags *d)
{
    ds_diags_free(d);
    ds_diags_init(d);
    return ds_clrmeta_open_buf(md, size, m, d);
}

static void test_corrupt(void **state)
{
    (void)state;
    sample_md x = load_sample_md();
    uint8_t *c = malloc(x.size);
    assert_non_null(c);
    ds_diags d;
    ds_diags_init(&d);
    ds_clrmeta *m = NULL;
    char buf[DS_CLRMETA_NAME_MAX];
#define RESET() memcpy(c, x.md, x.size)

    /* the Valid mask of sample.dll: Module, TypeRef, TypeDef first (row counts in this order) */
    RESET();
    assert_int_equal(rd32(c + x.rowcnt), 1);      /* Module */
    assert_int_equal(rd32(c + x.rowcnt + 4), 10); /* TypeRef */
    assert_int_equal(rd32(c + x.rowcnt + 8), 12); /* TypeDef */
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_OK);
    exercise(m);
    ds_clrmeta_close(m);

    /* bad heap sizes: all heap indices 4 bytes -> the tables overflow the #~ stream */
    RESET();
    c[x.s.tbl + 6] = 0x07;
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    assert_null(m);
    assert_true(has_diag(&d, DS_SEV_ERROR, "#~ header"));

    /* row counts of 0xffffff (TypeDef, then TypeRef) and beyond 2^24-1 */
    RESET();
    wr32(c + x.rowcnt + 8, 0xffffff);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    assert_true(has_diag(&d, DS_SEV_ERROR, "#~ header"));
    RESET();
    wr32(c + x.rowcnt + 4, 0xffffff);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    RESET();
    wr32(c + x.rowcnt + 8, 0x1000000);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    RESET();
    wr32(c + x.rowcnt + 8, 0xffffffffu);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    /* Valid mask claiming all 64 tables: the row counts run past the stream */
    RESET();
    memset(c + x.s.tbl + 8, 0xff, 8);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);

    /* string index out of the heap (TypeDef 2 name), then a string without NUL inside the heap */
    RESET();
    wr16(c + x.td + 14 + 4, (uint16_t)(x.s.str_size + 3));
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "TypeDef[2]"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, sizeof buf), DS_E_FORMAT);
    assert_string_equal(buf, "");
    assert_int_equal(ds_clrmeta_typedef_name(m, 3, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.Bitmap");
    exercise(m);
    ds_clrmeta_close(m);
    RESET();
    wr16(c + x.td + 14 + 4, (uint16_t)(x.s.str_size - 2));
    memset(c + x.s.str + x.s.str_size - 2, 'A', 2);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, sizeof buf), DS_E_FORMAT);
    ds_clrmeta_close(m);
    /* namespace index out of the heap */
    RESET();
    wr16(c + x.td + 14 + 6, 0xffff);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, sizeof buf), DS_E_FORMAT);
    ds_clrmeta_close(m);

    /* NestedClass cycle: Spooler (5) in Slot (6), Slot (6) in Spooler (5) */
    RESET();
    wr16(c + x.nc + 2, 6);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "TypeDef[5]"));
    assert_true(has_diag(&d, DS_SEV_WARNING, "TypeDef[6]"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 5, buf, sizeof buf), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_typedef_name(m, 4, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.PrintJob");
    assert_int_equal(ds_clrmeta_typedef_name(m, 10, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.Generic.Box`1+Inner`1");
    exercise(m);
    ds_clrmeta_close(m);
    /* a type enclosing itself; an enclosing index out of range; a nested type without a row */
    RESET();
    wr16(c + x.nc + 2, 5);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "NestedClass[1]"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 5, buf, sizeof buf), DS_E_FORMAT);
    ds_clrmeta_close(m);
    RESET();
    wr16(c + x.nc + 2, 200);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "NestedClass[1]"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 5, buf, sizeof buf), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_E_FORMAT);
    ds_clrmeta_close(m);
    /* a second enclosing class for the same type: the first row wins */
    RESET();
    wr16(c + x.nc + 8, 5);
    wr16(c + x.nc + 10, 2);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "NestedClass[3]"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.PrintJob+Spooler+Slot");
    ds_clrmeta_close(m);

    /* invalid TypeDefOrRef tag (3) in TypeDef 2 Extends; FieldList runs backwards */
    RESET();
    wr16(c + x.td + 14 + 8, (5 << 2) | 3);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_OK); /* names are fine */
    ds_clrmeta_typedef p;
    assert_int_equal(ds_clrmeta_typedef_props(m, 2, &p), DS_E_FORMAT);
    ds_clrmeta_close(m);
    RESET();
    wr16(c + x.td + 2 * 14 + 10, 40); /* TypeDef 3 FieldList 40 > 38 */
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_PARTIAL);
    uint32_t first, count;
    assert_int_equal(ds_clrmeta_typedef_fields(m, 3, &first, &count), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 2, &first, &count), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 4, &first, &count), DS_OK);
    ds_clrmeta_close(m);

    /* root: signature, version length, stream count, stream outside, no table stream */
    RESET();
    c[0] = 'X';
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    assert_true(has_diag(&d, DS_SEV_ERROR, "metadata root"));
    RESET();
    wr32(c + 12, 0xfffffff0u);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    RESET();
    wr16(c + 16 + rd32(c + 12) + 2, 0xffff);
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    for (unsigned i = 0; i < x.s.n; i++) {
        RESET();
        wr32(c + x.s.stream_hdr[i], 0x7ffffff0u);
        ds_status st = open_copy(c, x.size, &m, &d);
        if (!strcmp(x.s.names[i], "#~")) {
            assert_int_equal(st, DS_E_FORMAT);
        } else {
            assert_int_equal(st, DS_E_PARTIAL); /* heap dropped, lookups through it fail */
            exercise(m);
            ds_clrmeta_close(m);
        }
        RESET();
        wr32(c + x.s.stream_hdr[i] + 4, 0x7ffffff0u); /* size clipped to the metadata */
        st = open_copy(c, x.size, &m, &d);
        assert_true(st == DS_E_PARTIAL || st == DS_E_FORMAT);
        if (st == DS_E_PARTIAL) {
            exercise(m);
            ds_clrmeta_close(m);
        }
        RESET();
        memset(c + x.s.stream_hdr[i] + 8, 'Z', 32); /* unterminated stream name */
        assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    }
    RESET();
    for (unsigned i = 0; i < x.s.n; i++)
        if (!strcmp(x.s.names[i], "#~"))
            c[x.s.stream_hdr[i] + 9] = 'x';
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_FORMAT);
    /* "#-": the same layout (no Ptr tables here), read as an unoptimized stream */
    RESET();
    for (unsigned i = 0; i < x.s.n; i++)
        if (!strcmp(x.s.names[i], "#~"))
            c[x.s.stream_hdr[i] + 9] = '-';
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_OK);
    assert_true(ds_clrmeta_get_info(m)->uncompressed);
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.PrintJob+Spooler+Slot");
    ds_clrmeta_close(m);
    /* unknown table stream version */
    RESET();
    c[x.s.tbl + 4] = 3;
    assert_int_equal(open_copy(c, x.size, &m, &d), DS_E_UNSUPPORTED);
    /* MVID GUID index beyond #GUID */
    RESET();
    {
        uint32_t mod =
            x.rowcnt + 4 * (uint32_t)__builtin_popcountll((uint64_t)rd32(c + x.s.tbl + 8) |
                                                          (uint64_t)rd32(c + x.s.tbl + 12) << 32);
        assert_int_equal(c[mod + 4], 1); /* Module row: Generation, Name, Mvid = 1 */
        c[mod + 4] = 9;
        assert_int_equal(open_copy(c, x.size, &m, &d), DS_OK);
        uint8_t g[16];
        assert_int_equal(ds_clrmeta_mvid(m, g), DS_E_FORMAT);
        ds_clrmeta_close(m);
    }

    /* every truncation of the metadata: clean statuses only */
    for (uint32_t n = 0; n <= x.size; n++) {
        ds_status st = open_copy(x.md, n, &m, &d);
        assert_true(st == DS_OK || st == DS_E_PARTIAL || st == DS_E_FORMAT);
        if (st == DS_OK || st == DS_E_PARTIAL) {
            exercise(m);
            ds_clrmeta_close(m);
        }
    }
    /* random damage (deterministic) */
    uint32_t seed = 12345;
    for (int it = 0; it < 3000; it++) {
        RESET();
        for (int k = 0; k < 1 + it % 8; k++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t off = (seed >> 8) % x.size;
            seed = seed * 1103515245u + 12345u;
            c[off] = (uint8_t)(seed >> 16);
        }
        ds_status st = open_copy(c, x.size, &m, &d);
        if (st == DS_OK || st == DS_E_PARTIAL) {
            assert_non_null(m);
            exercise(m);
            ds_clrmeta_close(m);
        } else {
            assert_null(m);
        }
    }
#undef RESET
    ds_diags_free(&d);
    free(c);
    free(x.img.img);
}

/* ---------------------------------------------------------------- partially captured metadata */

static void test_partial(void **state)
{
    (void)state;
    md_info o = {0};
    load_sample_truth(&o);
    sample_md x = load_sample_md();
    ds_vmem vm;
    ds_diags d;
    ds_diags_init(&d);
    ds_clrmeta *m = NULL;
    char buf[DS_CLRMETA_NAME_MAX];
    uint32_t first, count;

    /* the root not captured */
    view_with_hole(&vm, &x.img, x.rva, 16);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_NOTFOUND);
    assert_null(m);
    assert_true(has_diag(&d, DS_SEV_ERROR, "metadata root"));
    ds_vmem_free(&vm);
    /* the stream headers / the #~ header not captured */
    view_with_hole(&vm, &x.img, x.rva + 32, 16);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_NOTFOUND);
    ds_vmem_free(&vm);
    view_with_hole(&vm, &x.img, x.rva + x.s.tbl, 24);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_NOTFOUND);
    ds_vmem_free(&vm);

    /* #Strings not captured: counts and runs known, names not */
    ds_diags_free(&d);
    ds_diags_init(&d);
    view_with_hole(&vm, &x.img, x.rva + x.s.str, x.s.str_size);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "#Strings"));
    assert_int_equal(ds_clrmeta_get_info(m)->missing, x.s.str_size);
    assert_int_equal(ds_clrmeta_typedef_count(m), 12);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, sizeof buf), DS_E_NOTFOUND);
    assert_string_equal(buf, "");
    assert_int_equal(ds_clrmeta_typeref_name(m, 1, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_module_name(m, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 2, &first, &count), DS_OK);
    assert_int_equal(first, 1);
    assert_int_equal(count, 4);
    uint8_t g[16];
    assert_int_equal(ds_clrmeta_mvid(m, g), DS_OK);
    exercise(m);
    ds_clrmeta_close(m);
    ds_vmem_free(&vm);

    /* TypeDef row 4 (DsLeak.PrintJob) not captured: it, its nested types and the field run of
     * row 3 (which ends where row 4's starts) are unknown, the rest is named */
    view_with_hole(&vm, &x.img, x.rva + x.td + 3 * 14, 14);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_PARTIAL);
    assert_int_equal(ds_clrmeta_typedef_name(m, 4, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 5, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 3, &first, &count), DS_E_NOTFOUND);
    for (uint32_t r = 1; r <= 12; r++)
        if (r < 4 || r > 6) {
            assert_int_equal(ds_clrmeta_typedef_name(m, r, buf, sizeof buf), DS_OK);
            assert_string_equal(buf, r == 1 ? "<Module>" : o.td[r - 1].name);
        }
    ds_clrmeta_close(m);
    ds_vmem_free(&vm);

    /* the NestedClass rows not captured: nested types unknown (not named as top-level) */
    view_with_hole(&vm, &x.img, x.rva + x.nc, 12);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_PARTIAL);
    assert_true(has_diag(&d, DS_SEV_WARNING, "NestedClass"));
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 10, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 9, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, "DsLeak.Generic.Box`1");
    ds_clrmeta_close(m);
    ds_vmem_free(&vm);

    /* the metadata's last page not in the view at all (unknown / known unmapped) */
    for (int mapinfo = 0; mapinfo < 2; mapinfo++) {
        ds_vmem_init(&vm, x.img.img, x.img.size, 8);
        vm.has_map_info = mapinfo;
        uint32_t cut = x.rva + x.s.str + 8;
        assert_true(ds_vmem_add(&vm, BASE, cut, DS_RANGE_DATA, 0, 0));
        ds_vmem_finish(&vm);
        assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d), DS_E_PARTIAL);
        assert_int_equal(ds_clrmeta_get_info(m)->missing, x.rva + x.size - cut);
        exercise(m);
        ds_clrmeta_close(m);
        ds_vmem_free(&vm);
    }

    /* a hole of every size at every 8th offset: clean statuses, captured names always right */
    for (uint32_t at = 0; at < x.size; at += 8)
        for (uint32_t len = 1; len <= 64 && at + len <= x.size; len *= 4) {
            view_with_hole(&vm, &x.img, x.rva + at, len);
            ds_status st = ds_clrmeta_open_vm(&vm, BASE + x.rva, x.size, &m, &d);
            assert_true(st == DS_OK || st == DS_E_PARTIAL || st == DS_E_NOTFOUND);
            if (st == DS_OK || st == DS_E_PARTIAL) {
                for (uint32_t r = 2; r <= 12; r++)
                    if (ds_clrmeta_typedef_name(m, r, buf, sizeof buf) == DS_OK)
                        assert_string_equal(buf, o.td[r - 1].name);
                exercise(m);
                ds_clrmeta_close(m);
            }
            ds_vmem_free(&vm);
        }

    /* hostile sizes from a PE header */
    view_of(&vm, &x.img);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, 0, &m, &d), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, 0xffffffffu, &m, &d), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_open_vm(&vm, UINT64_MAX - 8, 0x100, &m, &d), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_open_vm(&vm, 0x1000, 0x100, &m, &d), DS_E_NOTFOUND);
    /* a size larger than the image: the tail is just not captured */
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + x.rva, x.img.size - x.rva + 0x10000, &m, &d),
                     DS_OK);
    assert_int_equal(ds_clrmeta_get_info(m)->missing, 0x10000);
    assert_int_equal(ds_clrmeta_typedef_name(m, 6, buf, sizeof buf), DS_OK);
    ds_clrmeta_close(m);
    ds_vmem_free(&vm);

    ds_diags_free(&d);
    free(x.img.img);
    md_free(&o);
}

/* ---------------------------------------------------------------- API edges */

static void test_api_edges(void **state)
{
    (void)state;
    sample_md x = load_sample_md();
    ds_clrmeta *m = NULL;
    char buf[64];
    uint32_t u, first, count;
    uint16_t fl;
    uint8_t g[16];
    assert_int_equal(ds_clrmeta_open_buf(x.md, x.size, NULL, NULL), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_open_buf(NULL, 10, &m, NULL), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_open_buf(NULL, 0, &m, NULL), DS_E_FORMAT);
    assert_int_equal(ds_clrmeta_open_vm(NULL, 0, 100, &m, NULL), DS_E_USAGE);
    assert_null(ds_clrmeta_get_info(NULL));
    assert_int_equal(ds_clrmeta_typedef_count(NULL), 0);
    assert_int_equal(ds_clrmeta_typedef_name(NULL, 1, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_field_name(NULL, 1, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_mvid(NULL, g), DS_E_USAGE);
    ds_clrmeta_close(NULL);

    assert_int_equal(ds_clrmeta_open_buf(x.md, x.size, &m, NULL), DS_OK);
    assert_int_equal(ds_clrmeta_rows(m, 64), 0);
    assert_int_equal(ds_clrmeta_rows(m, DS_CLRMETA_NESTEDCLASS), 3);
    assert_int_equal(ds_clrmeta_typedef_name(m, 0, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 13, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 0xffffffffu, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, 0), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, NULL, 10), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, 11), DS_E_USAGE); /* "DsLeak.Font" */
    assert_string_equal(buf, "");
    assert_int_equal(ds_clrmeta_typedef_name(m, 2, buf, 12), DS_OK);
    assert_string_equal(buf, "DsLeak.Font");
    assert_int_equal(ds_clrmeta_typeref_name(m, 11, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_field_name(m, 38, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_field_flags(m, 0, &fl), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_field_flags(m, 1, NULL), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 13, &first, &count), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 1, NULL, &count), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_typedef_fields(m, 1, &first, &count), DS_OK);
    assert_int_equal(count, 0); /* <Module> has no fields */
    assert_int_equal(ds_clrmeta_find_field(m, 2, NULL, &u), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_find_typedef(m, NULL, &u), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_token_name(m, 0x1B000001u, buf, sizeof buf), DS_E_UNSUPPORTED);
    assert_int_equal(ds_clrmeta_token_name(m, 0x06000001u, buf, sizeof buf), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_token_name(m, 0x02000000u, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_typeref_scope(m, 1, &u, NULL, 0), DS_OK);
    assert_int_equal(u, 0x23000001u);
    assert_int_equal(ds_clrmeta_typeref_scope(m, 1, &u, NULL, 5), DS_E_USAGE);
    assert_int_equal(ds_clrmeta_assemblyref_name(m, 2, buf, sizeof buf), DS_E_NOTFOUND);
    assert_int_equal(ds_clrmeta_assembly_name(m, buf, 3, NULL), DS_E_USAGE); /* "sample" */
    ds_clrmeta_close(m);
    free(x.img.img);
}

/* ---------------------------------------------------------------- Mono's mscorlib */

static bool have_monodis(void)
{
    return access("/usr/bin/monodis", X_OK) == 0;
}

static void test_mscorlib(void **state)
{
    (void)state;
    if (access(MSCORLIB, R_OK) || !have_monodis()) {
        print_message("mscorlib.dll or monodis not installed: skipped\n");
        skip();
    }
    md_info o = {0};
    /* monodis honours one table option per run */
    static const char *const opts[] = {"--assembly", "--typedef", "--typeref", "--module"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "LC_ALL=C monodis %s %s", opts[i], MSCORLIB);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        md_parse(f, &o);
        assert_int_equal(pclose(f), 0);
    }
    assert_true(o.ntd > 1000);

    dstest_mapped img = load_mapped_path(MSCORLIB);
    ds_vmem vm;
    view_of(&vm, &img);
    uint32_t rva, size;
    pe_metadata(&vm, &rva, &size);
    ds_diags d;
    ds_diags_init(&d);
    ds_clrmeta *m = NULL;
    assert_int_equal(ds_clrmeta_open_vm(&vm, BASE + rva, size, &m, &d), DS_OK);
    const ds_clrmeta_info *in = ds_clrmeta_get_info(m);
    assert_true(in->heap_sizes & 1); /* 4-byte #Strings indices: the wide paths */
    assert_int_equal(ds_clrmeta_typedef_count(m), o.ntd);
    assert_int_equal(ds_clrmeta_typeref_count(m), o.ntr);
    char buf[DS_CLRMETA_NAME_MAX];
    size_t nested = 0;
    for (uint32_t r = 2; r <= o.ntd; r++) {
        assert_int_equal(ds_clrmeta_typedef_name(m, r, buf, sizeof buf), DS_OK);
        assert_string_equal(buf, o.td[r - 1].name);
        nested += strchr(buf, '+') != NULL;
        ds_clrmeta_typedef p;
        assert_int_equal(ds_clrmeta_typedef_props(m, r, &p), DS_OK);
        assert_int_equal(p.flags, o.td[r - 1].flags);
        uint32_t first, count;
        assert_int_equal(ds_clrmeta_typedef_fields(m, r, &first, &count), DS_OK);
        assert_int_equal(first, o.td[r - 1].flist);
    }
    assert_true(nested > 100);
    for (uint32_t r = 1; r <= o.ntr; r++) {
        assert_int_equal(ds_clrmeta_typeref_name(m, r, buf, sizeof buf), DS_OK);
        assert_string_equal(buf, o.tr[r - 1]);
    }
    uint16_t v[4];
    assert_int_equal(ds_clrmeta_assembly_name(m, buf, sizeof buf, v), DS_OK);
    assert_string_equal(buf, o.assembly);
    char ver[64];
    snprintf(ver, sizeof ver, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
    assert_string_equal(ver, o.version);
    assert_int_equal(ds_clrmeta_module_name(m, buf, sizeof buf), DS_OK);
    assert_string_equal(buf, o.module);
    uint8_t g[16];
    char gs[64];
    assert_int_equal(ds_clrmeta_mvid(m, g), DS_OK);
    guid_str(g, gs);
    assert_string_equal(gs, o.mvid);
    uint32_t rid;
    assert_int_equal(ds_clrmeta_find_typedef(m, "System.String", &rid), DS_OK);
    assert_int_equal(
        ds_clrmeta_find_typedef(m, "System.Collections.Generic.Dictionary`2+Entry", &rid), DS_OK);
    ds_clrmeta_close(m);
    ds_diags_free(&d);
    ds_vmem_free(&vm);
    free(img.img);
    md_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_vm), cmocka_unit_test(test_format),
        cmocka_unit_test(test_corrupt),   cmocka_unit_test(test_partial),
        cmocka_unit_test(test_api_edges), cmocka_unit_test(test_mscorlib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
