/* PE parser on real images mapped as the Windows loader maps them.
 *
 * The images in tests/data/pe/ are built by tests/data/pe/build.sh (mingw-w64 gcc + ld 2.40) from
 * testdll.c, testdll.def and version.rc. The expected values are NOT produced by dumpsleuth:
 *   - headers, data directories, sections, exports (ordinals, RVAs, forwarders, names), the
 *     CodeView RSDS record, the resource leaf and the .pdata entries come from
 *     `x86_64-w64-mingw32-objdump -x` / `i686-w64-mingw32-objdump -x`, saved by build.sh as
 *     tests/data/pe/testdll{64,32}.objdump.txt and parsed here (objdump_parse);
 *   - the ordinal-only export (Hidden @10 NONAME), the forwarder (Fwd = kernel32.GetTickCount
 *     @11) and the named exports come from testdll.def;
 *   - the VS_FIXEDFILEINFO values come from version.rc (objdump does not decode them);
 *   - Wine's kernel32.dll (when installed) is compared with `x86_64-w64-mingw32-objdump -p` run
 *     at test time.
 * Damaged variants (missing pages, corrupt counts, resource loops) are made by the test. */
#include "dstest.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dumpsleuth/pe.h"

/* ---------------------------------------------------------------- objdump output parsing */

typedef struct od_section {
    char name[64];
    uint32_t size;
    uint64_t vma;
} od_section;

typedef struct od_eat {
    uint32_t index, rva;
    bool fwd;
    char fwd_to[256];
} od_eat;

typedef struct od_name {
    uint32_t index;
    char name[256];
} od_name;

typedef struct od_info {
    char format[32];
    char timestr[64];
    uint32_t characteristics;
    uint16_t magic;
    uint64_t image_base, entry;
    uint32_t size_of_image, size_of_headers, checksum, subsystem, dll_characteristics, nrva;
    uint32_t ndirs, dir_rva[16], dir_size[16];
    od_section sections[64];
    size_t nsections;
    bool has_exports;
    char exp_name[256];
    uint32_t exp_base, exp_timestamp, exp_nfuncs, exp_nnames;
    od_eat *eat;
    size_t neat;
    od_name *names;
    size_t nnames;
    bool has_rsds;
    char guid_hex[40];
    uint32_t cv_age;
    char pdb[260];
    size_t npdata;
    uint64_t pdata_first_begin, pdata_last_end;
    bool has_leaf;
    uint32_t leaf_rva, leaf_size;
} od_info;

/* line starts with key followed by whitespace */
static const char *kv(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) || (line[n] != ' ' && line[n] != '\t'))
        return NULL;
    return line + n;
}

static void objdump_parse(FILE *f, od_info *o)
{
    memset(o, 0, sizeof *o);
    enum { NONE, SECTIONS, EAT, NAMES, PDATA } mode = NONE;
    char line[1024];
    size_t cap_eat = 0, cap_names = 0;
    int exp_count_seen = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *v;
        if (line[0] == 0) {
            if (mode != SECTIONS || o->nsections)
                mode = NONE;
            continue;
        }
        if (mode == SECTIONS) {
            unsigned idx, size;
            unsigned long long vma;
            char name[64];
            if (sscanf(line, " %u %63s %x %llx", &idx, name, &size, &vma) == 4) {
                assert_true(o->nsections < 64);
                od_section *s = &o->sections[o->nsections++];
                snprintf(s->name, sizeof s->name, "%s", name);
                s->size = size;
                s->vma = vma;
                continue;
            }
            if (strstr(line, "CONTENTS") || strstr(line, "ALLOC") || strstr(line, "Idx Name"))
                continue;
            mode = NONE;
        }
        if (mode == EAT) {
            unsigned idx, biased, rva;
            char kind[16];
            if (sscanf(line, " [%u] +base[%u] %x %15s", &idx, &biased, &rva, kind) == 4) {
                if (o->neat == cap_eat) {
                    cap_eat = cap_eat ? cap_eat * 2 : 64;
                    o->eat = realloc(o->eat, cap_eat * sizeof *o->eat);
                    assert_non_null(o->eat);
                }
                od_eat *e = &o->eat[o->neat++];
                memset(e, 0, sizeof *e);
                e->index = idx;
                e->rva = rva;
                const char *fw = strstr(line, "Forwarder RVA -- ");
                if (fw) {
                    e->fwd = true;
                    snprintf(e->fwd_to, sizeof e->fwd_to, "%s", fw + strlen("Forwarder RVA -- "));
                }
                continue;
            }
            mode = NONE;
        }
        if (mode == NAMES) {
            unsigned idx;
            char name[256];
            if (sscanf(line, " [%u] %255s", &idx, name) == 2) {
                if (o->nnames == cap_names) {
                    cap_names = cap_names ? cap_names * 2 : 64;
                    o->names = realloc(o->names, cap_names * sizeof *o->names);
                    assert_non_null(o->names);
                }
                o->names[o->nnames].index = idx;
                snprintf(o->names[o->nnames].name, sizeof o->names[0].name, "%s", name);
                o->nnames++;
                continue;
            }
            mode = NONE;
        }
        if (mode == PDATA) {
            unsigned long long at, b, e, u;
            if (sscanf(line, " %llx: %llx %llx %llx", &at, &b, &e, &u) == 4) {
                if (!o->npdata)
                    o->pdata_first_begin = b;
                o->pdata_last_end = e;
                o->npdata++;
                continue;
            }
            if (strstr(line, "BeginAddress"))
                continue;
            mode = NONE;
        }
        const char *ff = strstr(line, "file format ");
        if (ff && !o->format[0])
            snprintf(o->format, sizeof o->format, "%s", ff + strlen("file format "));
        if ((v = kv(line, "Characteristics")))
            sscanf(v, " 0x%x", &o->characteristics);
        else if ((v = kv(line, "Time/Date")) && !o->timestr[0])
            snprintf(o->timestr, sizeof o->timestr, "%s", v + strspn(v, " \t"));
        else if ((v = kv(line, "Magic")))
            sscanf(v, " %hx", &o->magic);
        else if ((v = kv(line, "AddressOfEntryPoint")))
            sscanf(v, " %lx", &o->entry);
        else if ((v = kv(line, "ImageBase")))
            sscanf(v, " %lx", &o->image_base);
        else if ((v = kv(line, "SizeOfImage")))
            sscanf(v, " %x", &o->size_of_image);
        else if ((v = kv(line, "SizeOfHeaders")))
            sscanf(v, " %x", &o->size_of_headers);
        else if ((v = kv(line, "CheckSum")))
            sscanf(v, " %x", &o->checksum);
        else if ((v = kv(line, "Subsystem")))
            sscanf(v, " %x", &o->subsystem);
        else if ((v = kv(line, "DllCharacteristics")))
            sscanf(v, " %x", &o->dll_characteristics);
        else if ((v = kv(line, "NumberOfRvaAndSizes")))
            sscanf(v, " %x", &o->nrva);
        else if ((v = kv(line, "Entry"))) {
            unsigned i, sz;
            unsigned long long rva;
            if (sscanf(v, " %x %llx %x", &i, &rva, &sz) == 3 && i < 16) {
                o->dir_rva[i] = (uint32_t)rva;
                o->dir_size[i] = sz;
                if (i + 1 > o->ndirs)
                    o->ndirs = i + 1;
            }
        } else if (!strcmp(line, "Sections:"))
            mode = SECTIONS;
        else if (!strncmp(line, "Export Address Table -- Ordinal Base", 36))
            mode = EAT;
        else if (!strcmp(line, "[Ordinal/Name Pointer] Table"))
            mode = NAMES;
        else if (strstr(line, "The Function Table (interpreted .pdata"))
            mode = PDATA;
        else if (strstr(line, "The Export Tables"))
            o->has_exports = true;
        else if ((v = kv(line, "Name")) && o->has_exports && !o->exp_name[0]) {
            unsigned long long a;
            sscanf(v, " %llx %255s", &a, o->exp_name);
        } else if ((v = kv(line, "Ordinal Base")))
            sscanf(v, " %u", &o->exp_base);
        else if ((v = kv(line, "Time/Date stamp")))
            sscanf(v, " %x", &o->exp_timestamp);
        else if ((v = kv(line, "\tExport Address Table"))) {
            if (!exp_count_seen++) /* "Number in:" comes first, then "Table Addresses" */
                sscanf(v, " %x", &o->exp_nfuncs);
        } else if ((v = kv(line, "\t[Name Pointer/Ordinal] Table")))
            sscanf(v, " %x", &o->exp_nnames);
        else if ((v = strstr(line, "(format RSDS signature "))) {
            o->has_rsds = true;
            sscanf(v, "(format RSDS signature %39s age %u pdb %259[^)])", o->guid_hex, &o->cv_age,
                   o->pdb);
            if (!strcmp(o->pdb, "(none"))
                o->pdb[0] = 0;
        } else if ((v = strstr(line, "Leaf: Addr: ")) && !o->has_leaf) {
            o->has_leaf =
                sscanf(v, "Leaf: Addr: 0x%x, Size: 0x%x", &o->leaf_rva, &o->leaf_size) == 2;
        }
    }
    /* "Time/Date stamp" also starts with "Time/Date": the first Time/Date is the file header */
}

static void od_free(od_info *o)
{
    free(o->eat);
    free(o->names);
}

static void od_load(const char *path, od_info *o)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    objdump_parse(f, o);
    fclose(f);
}

/* ---------------------------------------------------------------- loader emulation */
/* dstest_map_pe (tests/support) maps a PE file as the Windows loader does. */

static dstest_mapped load_mapped(const char *name)
{
    const char *path = dstest_data(name);
    assert_non_null(path);
    size_t len = 0;
    uint8_t *f = dstest_read_file(path, &len);
    assert_non_null(f);
    dstest_mapped m = dstest_map_pe(f, len);
    free(f);
    return m;
}

static dstest_mapped clone(const dstest_mapped *m)
{
    dstest_mapped c = {malloc(m->size), m->size};
    assert_non_null(c.img);
    memcpy(c.img, m->img, m->size);
    return c;
}

/* The whole image as one DATA range at base. */
static void view_of(ds_vmem *vm, const dstest_mapped *m, uint64_t base)
{
    ds_vmem_init(vm, m->img, m->size, 8);
    assert_true(ds_vmem_add(vm, base, m->size, DS_RANGE_DATA, 0, 0));
    ds_vmem_finish(vm);
}

/* The image with [hole, hole+hole_size) (rva) not captured. */
static void view_with_hole(ds_vmem *vm, const dstest_mapped *m, uint64_t base, uint32_t hole,
                           uint32_t hole_size)
{
    ds_vmem_init(vm, m->img, m->size, 8);
    if (hole)
        assert_true(ds_vmem_add(vm, base, hole, DS_RANGE_DATA, 0, 0));
    assert_true(ds_vmem_add(vm, base + hole, hole_size, DS_RANGE_NOT_CAPTURED, 0, 1));
    if (hole + hole_size < m->size)
        assert_true(ds_vmem_add(vm, base + hole + hole_size, m->size - hole - hole_size,
                                DS_RANGE_DATA, hole + hole_size, 2));
    ds_vmem_finish(vm);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool has_diag_at(const ds_diags *d, uint64_t addr)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].has_address && d->v[i].address == addr)
            return true;
    return false;
}

/* ---------------------------------------------------------------- comparison with objdump */

static uint16_t machine_of(const char *format)
{
    if (!strcmp(format, "pei-x86-64"))
        return 0x8664;
    if (!strcmp(format, "pei-i386"))
        return 0x14c;
    fail_msg("unknown objdump format %s", format);
    return 0;
}

static void guid_hex(const uint8_t *g, char *out)
{
    /* objdump prints the GUID fields in their canonical order (Data1..3 byte-swapped) */
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", g[order[i]]);
}

static void check_against_objdump(const ds_pe *pe, const od_info *o, uint64_t base)
{
    /* headers */
    assert_int_equal(pe->base, base);
    assert_int_equal(pe->machine, machine_of(o->format));
    assert_int_equal(pe->pe32plus, o->magic == 0x20b);
    assert_int_equal(pe->image_base, o->image_base);
    assert_int_equal(pe->size_of_image, o->size_of_image);
    assert_int_equal(pe->size_of_headers, o->size_of_headers);
    assert_int_equal(pe->checksum, o->checksum);
    assert_int_equal(pe->entry_rva, o->entry);
    assert_int_equal(pe->subsystem, o->subsystem);
    assert_int_equal(pe->dll_characteristics, o->dll_characteristics);
    assert_int_equal(pe->characteristics, o->characteristics);
    if (o->timestr[0]) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        assert_non_null(strptime(o->timestr, "%a %b %d %H:%M:%S %Y", &tm));
        assert_int_equal(pe->timestamp, (uint32_t)timegm(&tm)); /* build.sh: TZ=UTC */
    }
    assert_int_equal(pe->ndirs, o->nrva < 16 ? o->nrva : 16);
    for (uint32_t i = 0; i < o->ndirs; i++) {
        assert_int_equal(pe->dir_rva[i], o->dir_rva[i]);
        assert_int_equal(pe->dir_size[i], o->dir_size[i]);
    }
    /* sections (only in -x output) */
    if (o->nsections) {
        assert_int_equal(pe->nsections, o->nsections);
        for (size_t i = 0; i < o->nsections; i++) {
            const ds_pe_section *s = &pe->sections[i];
            assert_string_equal(s->name, o->sections[i].name);
            assert_int_equal((uint64_t)s->vaddr + pe->image_base, o->sections[i].vma);
            /* BFD's size: VirtualSize, capped by SizeOfRawData when there is raw data */
            uint32_t size = s->raw_size && s->raw_size < s->vsize ? s->raw_size : s->vsize;
            assert_int_equal(size, o->sections[i].size);
            assert_ptr_equal(ds_pe_section_at(pe, s->vaddr), s);
        }
    }
    /* exports */
    if (o->has_exports) {
        assert_true(pe->have & DS_PE_HAVE_EXPORTS);
        assert_string_equal(pe->export_name, o->exp_name);
        assert_int_equal(pe->export_base, o->exp_base);
        assert_int_equal(pe->export_timestamp, o->exp_timestamp);
        size_t nfunc = 0, nnamed = 0;
        for (size_t i = 0; i < pe->nexports; i++) {
            nnamed += pe->exports[i].name != NULL;
            nfunc += ds_pe_export_by_ordinal(pe, pe->exports[i].ordinal) == &pe->exports[i];
        }
        assert_int_equal(nfunc, o->neat);
        assert_int_equal(nnamed, o->nnames);
        assert_int_equal(o->nnames, o->exp_nnames);
        for (size_t i = 0; i < o->neat; i++) {
            const od_eat *e = &o->eat[i];
            const ds_pe_export *x = ds_pe_export_by_ordinal(pe, o->exp_base + e->index);
            assert_non_null(x);
            if (e->fwd) {
                assert_int_equal(x->rva, 0);
                assert_non_null(x->forwarder);
                assert_string_equal(x->forwarder, e->fwd_to);
            } else {
                assert_int_equal(x->rva, e->rva);
                assert_null(x->forwarder);
            }
        }
        for (size_t i = 0; i < o->nnames; i++) {
            const ds_pe_export *x = ds_pe_export_by_name(pe, o->names[i].name);
            assert_non_null(x);
            assert_int_equal(x->ordinal, o->exp_base + o->names[i].index);
        }
    } else {
        assert_int_equal(pe->nexports, 0);
    }
    /* CodeView */
    if (o->has_rsds) {
        assert_true(pe->have & DS_PE_HAVE_DEBUG);
        assert_int_equal(pe->cv.kind, 1);
        char g[40];
        guid_hex(pe->cv.guid, g);
        assert_string_equal(g, o->guid_hex);
        assert_int_equal(pe->cv.age, o->cv_age);
        assert_string_equal(pe->cv.pdb, o->pdb);
    }
    /* .pdata */
    assert_int_equal(pe->npdata, o->npdata);
    if (o->npdata) {
        assert_true(pe->have & DS_PE_HAVE_PDATA);
        assert_true(pe->pdata_sorted);
        assert_int_equal(pe->pdata[0].begin + pe->image_base, o->pdata_first_begin);
        assert_int_equal(pe->pdata[pe->npdata - 1].end + pe->image_base, o->pdata_last_end);
    }
}

/* Checks common to both test DLLs: testdll.def and version.rc. */
static void check_def_and_rc(ds_vmem *vm, const ds_pe *pe, const od_info *o)
{
    assert_string_equal(pe->export_name, o->exp_name);
    const ds_pe_export *e = ds_pe_export_by_name(pe, "Alpha");
    assert_non_null(e);
    assert_int_equal(e->ordinal, 1);
    assert_int_equal(ds_pe_export_by_name(pe, "Beta")->ordinal, 2);
    assert_int_equal(ds_pe_export_by_name(pe, "Gamma")->ordinal, 3);
    assert_int_equal(ds_pe_export_by_name(pe, "DataThing")->ordinal, 4);
    const ds_pe_section *s = ds_pe_section_at(pe, e->rva);
    assert_non_null(s);
    assert_string_equal(s->name, ".text");
    /* Hidden @10 NONAME */
    e = ds_pe_export_by_ordinal(pe, 10);
    assert_non_null(e);
    assert_null(e->name);
    assert_non_null(ds_pe_section_at(pe, e->rva));
    assert_null(ds_pe_export_by_name(pe, "Hidden"));
    /* Fwd = kernel32.GetTickCount @11 */
    e = ds_pe_export_by_name(pe, "Fwd");
    assert_non_null(e);
    assert_int_equal(e->ordinal, 11);
    assert_int_equal(e->rva, 0);
    assert_string_equal(e->forwarder, "kernel32.GetTickCount");
    assert_null(ds_pe_export_by_ordinal(pe, 5));
    assert_null(ds_pe_export_by_name(pe, "Nope"));
    assert_int_equal(pe->nexports, 6);
    /* version.rc */
    assert_true(pe->have & DS_PE_HAVE_VERSION);
    assert_true(pe->file_version.valid);
    const uint16_t fv[4] = {1, 2, 3, 4}, pv[4] = {5, 6, 7, 8};
    assert_memory_equal(pe->file_version.v, fv, sizeof fv);
    assert_memory_equal(pe->product_version.v, pv, sizeof pv);
    assert_int_equal(pe->file_flags, 0x2);
    assert_int_equal(pe->file_os, 0x40004);
    assert_int_equal(pe->file_type, 0x2);
    /* the resource leaf objdump shows for type 16 / name 1 / language 0x409 */
    assert_true(o->has_leaf);
    uint32_t rva = 0, size = 0;
    assert_true(ds_pe_find_resource(vm, pe, 16, NULL, 0, NULL, &rva, &size));
    assert_int_equal(rva, o->leaf_rva);
    assert_int_equal(size, o->leaf_size);
    assert_true(ds_pe_find_resource(vm, pe, 16, NULL, 1, NULL, &rva, &size));
    assert_false(ds_pe_find_resource(vm, pe, 16, NULL, 2, NULL, &rva, &size));
    assert_false(ds_pe_find_resource(vm, pe, 24, NULL, 0, NULL, &rva, &size));
    assert_false(ds_pe_find_resource(vm, pe, 0, "FOO", 0, NULL, &rva, &size));
    assert_false(pe->has_clr);
    assert_int_equal(pe->missing, 0);
}

static void test_dll64(void **state)
{
    (void)state;
    od_info o;
    od_load(dstest_data("pe/testdll64.objdump.txt"), &o);
    /* the objdump text itself says: 13 sections, 11 EAT slots of which 6 used, 5 names
     * (testdll.def), 16 data directories, a file header date, .pdata entries */
    assert_true(o.has_exports && o.has_rsds && o.has_leaf && o.timestr[0]);
    assert_int_equal(o.nsections, 13);
    assert_int_equal(o.exp_nfuncs, 11);
    assert_int_equal(o.neat, 6);
    assert_int_equal(o.nnames, 5);
    assert_int_equal(o.ndirs, 16);
    assert_int_equal(o.npdata, 41);
    dstest_mapped m = load_mapped("pe/testdll64.dll");
    ds_vmem vm;
    const uint64_t base = 0x7ff612340000ULL; /* not the preferred ImageBase: RVAs are relative */
    view_of(&vm, &m, base);
    ds_pe pe;
    ds_diags d;
    ds_diags_init(&d);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, &d), DS_OK);
    assert_int_equal(d.n, 0);
    assert_true(pe.pe32plus);
    check_against_objdump(&pe, &o, base);
    check_def_and_rc(&vm, &pe, &o);
    assert_string_equal(pe.cv.pdb, "testdll64.pdb");
    assert_int_equal(pe.have, DS_PE_HAVE_HEADERS | DS_PE_HAVE_EXPORTS | DS_PE_HAVE_DEBUG |
                                  DS_PE_HAVE_VERSION | DS_PE_HAVE_PDATA);
    ds_pe_free(&pe);
    ds_diags_free(&d);
    ds_vmem_free(&vm);
    free(m.img);
    od_free(&o);
}

static void test_dll32(void **state)
{
    (void)state;
    od_info o;
    od_load(dstest_data("pe/testdll32.objdump.txt"), &o);
    assert_true(o.has_exports && o.has_rsds && o.has_leaf && o.timestr[0]);
    assert_int_equal(o.nsections, 12);
    assert_int_equal(o.neat, 6);
    assert_int_equal(o.nnames, 5);
    assert_int_equal(o.npdata, 0);
    dstest_mapped m = load_mapped("pe/testdll32.dll");
    ds_vmem vm;
    const uint64_t base = 0x10000000;
    view_of(&vm, &m, base);
    ds_pe pe;
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_OK);
    assert_false(pe.pe32plus);
    check_against_objdump(&pe, &o, base);
    check_def_and_rc(&vm, &pe, &o);
    assert_string_equal(pe.cv.pdb, ""); /* --build-id: RSDS without a PDB path */
    assert_int_equal(pe.npdata, 0);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);
    free(m.img);
    od_free(&o);
}

/* Pages missing from the dump: each part reports itself. */
static void test_partial(void **state)
{
    (void)state;
    dstest_mapped m = load_mapped("pe/testdll64.dll");
    const uint64_t base = 0x180000000ULL;
    ds_vmem vm;
    ds_pe ref, pe;
    ds_diags d;
    view_of(&vm, &m, base);
    assert_int_equal(ds_pe_parse(&vm, base, &ref, NULL), DS_OK);
    ds_vmem_free(&vm);

    /* the page holding the export directory */
    uint32_t page = ref.dir_rva[0] & ~0xfffu;
    view_with_hole(&vm, &m, base, page, 0x1000);
    ds_diags_init(&d);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, &d), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_EXPORTS);
    assert_int_equal(pe.have & DS_PE_HAVE_EXPORTS, 0);
    assert_true(pe.have & DS_PE_HAVE_HEADERS);
    assert_true(pe.have & DS_PE_HAVE_DEBUG);
    assert_true(pe.have & DS_PE_HAVE_VERSION);
    assert_true(pe.have & DS_PE_HAVE_PDATA);
    assert_int_equal(pe.nexports, 0);
    assert_true(has_diag_at(&d, base + ref.dir_rva[0]));
    ds_pe_free(&pe);
    ds_diags_free(&d);
    ds_vmem_free(&vm);

    /* the resource page */
    page = ref.dir_rva[2] & ~0xfffu;
    view_with_hole(&vm, &m, base, page, 0x1000);
    ds_diags_init(&d);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, &d), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_VERSION);
    assert_false(pe.file_version.valid);
    assert_int_equal(pe.nexports, 6);
    assert_true(has_diag_at(&d, base + ref.dir_rva[2]));
    ds_pe_free(&pe);
    ds_diags_free(&d);
    ds_vmem_free(&vm);

    /* the CodeView record page (.buildid, which also holds the debug directory) */
    page = ref.dir_rva[6] & ~0xfffu;
    view_with_hole(&vm, &m, base, page, 0x1000);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_DEBUG);
    assert_int_equal(pe.cv.kind, 0);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);

    /* the second half of .pdata: the readable prefix is kept */
    uint32_t pd = ref.dir_rva[3];
    view_with_hole(&vm, &m, base, pd + 0x60, 0x1000 - 0x60);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_PDATA);
    assert_int_equal(pe.npdata, 0x60 / 12);
    assert_memory_equal(pe.pdata, ref.pdata, pe.npdata * sizeof *pe.pdata);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);

    /* the export names only (a page holding nothing else is simulated by a 16-byte hole) */
    const ds_pe_export *a = ds_pe_export_by_name(&ref, "Alpha");
    assert_non_null(a);
    uint32_t names_rva = get32(m.img + ref.dir_rva[0] + 32);
    uint32_t alpha_name = get32(m.img + names_rva);
    view_with_hole(&vm, &m, base, alpha_name, 4);
    ds_diags_init(&d);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, &d), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_EXPORTS);
    assert_true(pe.have & DS_PE_HAVE_EXPORTS);
    assert_null(ds_pe_export_by_name(&pe, "Alpha"));
    assert_non_null(ds_pe_export_by_ordinal(&pe, 1)); /* still known by ordinal */
    assert_non_null(ds_pe_export_by_name(&pe, "Beta"));
    assert_true(has_diag_at(&d, base + alpha_name));
    ds_pe_free(&pe);
    ds_diags_free(&d);
    ds_vmem_free(&vm);

    /* headers not in the dump */
    view_with_hole(&vm, &m, base, 0, 0x1000);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_E_NOTFOUND);
    assert_int_equal(pe.have, 0);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);

    /* nothing at all at that address */
    ds_vmem_init(&vm, m.img, m.size, 8);
    ds_vmem_finish(&vm);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_E_NOTFOUND);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);

    ds_pe_free(&ref);
    free(m.img);
}

/* Parses a damaged copy; returns the status. */
static ds_status parse_copy(const dstest_mapped *m, ds_pe *pe)
{
    ds_vmem vm;
    ds_diags d;
    ds_diags_init(&d);
    view_of(&vm, m, 0x140000000ULL);
    ds_status s = ds_pe_parse(&vm, 0x140000000ULL, pe, &d);
    if (s != DS_OK)
        assert_true(d.n > 0); /* every problem is explained */
    uint32_t rva, size;
    ds_pe_find_resource(&vm, pe, 16, NULL, 0, NULL, &rva, &size);
    ds_pe_find_resource(&vm, pe, 0, "X", 0, "Y", &rva, &size);
    ds_diags_free(&d);
    ds_vmem_free(&vm);
    return s;
}

static void test_corrupt(void **state)
{
    (void)state;
    dstest_mapped m = load_mapped("pe/testdll64.dll");
    ds_pe ref, pe;
    assert_int_equal(parse_copy(&m, &ref), DS_OK);
    uint32_t lfanew = get32(m.img + 0x3c);
    uint8_t *nt = m.img + lfanew;
    dstest_mapped c;

    /* not MZ */
    c = clone(&m);
    c.img[0] = 'X';
    assert_int_equal(parse_copy(&c, &pe), DS_E_FORMAT);
    ds_pe_free(&pe);
    free(c.img);

    /* e_lfanew out of range: huge, negative, past the view */
    const uint32_t bad_lfanew[] = {0x7ffffff0u, 0xfffffff0u, 0, m.size - 8};
    for (size_t i = 0; i < sizeof bad_lfanew / sizeof *bad_lfanew; i++) {
        c = clone(&m);
        put32(c.img + 0x3c, bad_lfanew[i]);
        ds_status s = parse_copy(&c, &pe);
        assert_true(s == DS_E_FORMAT || s == DS_E_NOTFOUND);
        ds_pe_free(&pe);
        free(c.img);
    }

    /* no PE signature / bad optional magic / SizeOfOptionalHeader 0 / SizeOfImage 0 */
    c = clone(&m);
    c.img[lfanew] = 'X';
    assert_int_equal(parse_copy(&c, &pe), DS_E_FORMAT);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    put16(c.img + lfanew + 24, 0x1234);
    assert_int_equal(parse_copy(&c, &pe), DS_E_FORMAT);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    put16(c.img + lfanew + 20, 0);
    assert_int_equal(parse_copy(&c, &pe), DS_E_FORMAT);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    put32(c.img + lfanew + 24 + 56, 0);
    assert_int_equal(parse_copy(&c, &pe), DS_E_FORMAT);
    ds_pe_free(&pe);
    free(c.img);

    /* NumberOfSections huge: bounded by SizeOfHeaders */
    c = clone(&m);
    put16(c.img + lfanew + 6, 0xffff);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_true(pe.nsections >= ref.nsections);
    assert_true(pe.nsections <= (pe.size_of_headers - (lfanew + 24 + 240)) / 40);
    assert_int_equal(pe.nexports, 6);
    ds_pe_free(&pe);
    free(c.img);

    /* NumberOfRvaAndSizes huge: bounded to 16 */
    c = clone(&m);
    put32(c.img + lfanew + 24 + 108, 0xffffffffu);
    assert_int_equal(parse_copy(&c, &pe), DS_OK);
    assert_int_equal(pe.ndirs, 16);
    ds_pe_free(&pe);
    free(c.img);

    /* export NumberOfNames huge: names skipped, functions still listed by ordinal */
    uint8_t *ed = m.img + ref.dir_rva[0];
    (void)nt;
    c = clone(&m);
    put32(c.img + ref.dir_rva[0] + 24, 0xffffffffu);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_EXPORTS);
    assert_int_equal(pe.nexports, 6);
    assert_null(ds_pe_export_by_name(&pe, "Alpha"));
    ds_pe_free(&pe);
    free(c.img);
    /* NumberOfNames just inside the image: bounded by SizeOfImage, names pointing anywhere */
    c = clone(&m);
    put32(c.img + ref.dir_rva[0] + 24, (m.size - get32(ed + 32)) / 4);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    ds_pe_free(&pe);
    free(c.img);
    /* NumberOfFunctions huge */
    c = clone(&m);
    put32(c.img + ref.dir_rva[0] + 20, 0x10000000u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.nexports, 0);
    ds_pe_free(&pe);
    free(c.img);
    /* an ordinal past NumberOfFunctions, a function rva outside the image */
    c = clone(&m);
    put16(c.img + get32(ed + 36), 0xfff0);
    put32(c.img + get32(ed + 28) + 4, 0xfffffff0u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.nexports, 5);
    ds_pe_free(&pe);
    free(c.img);

    /* resource loop: the type entry's subdirectory is the root itself */
    uint32_t rr = ref.dir_rva[2];
    c = clone(&m);
    put32(c.img + rr + 16 + 4, 0x80000000u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_VERSION);
    assert_false(pe.file_version.valid);
    ds_pe_free(&pe);
    free(c.img);
    /* the language level pointing back at the name level */
    c = clone(&m);
    put32(c.img + rr + 0x28 + 4, 0x80000018u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    ds_pe_free(&pe);
    free(c.img);
    /* huge entry counts, a data entry outside the image */
    c = clone(&m);
    put16(c.img + rr + 14, 0xffff);
    put16(c.img + rr + 12, 0xffff);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    put32(c.img + rr + 0x48, 0xfffff000u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    ds_pe_free(&pe);
    free(c.img);
    /* a named type entry whose name string is outside the directory */
    c = clone(&m);
    put32(c.img + rr + 16, 0xffffff00u);
    assert_int_equal(parse_copy(&c, &pe), DS_OK); /* no RT_VERSION then: nothing to report */
    assert_false(pe.file_version.valid);
    ds_pe_free(&pe);
    free(c.img);
    /* VS_FIXEDFILEINFO signature destroyed */
    c = clone(&m);
    put32(c.img + get32(m.img + rr + 0x48) + 40, 0);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_false(pe.file_version.valid);
    ds_pe_free(&pe);
    free(c.img);

    /* debug directory: CodeView record rva outside the image, unknown signature */
    uint32_t dd = ref.dir_rva[6];
    c = clone(&m);
    put32(c.img + dd + 20, 0xfffffff0u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.cv.kind, 0);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    memcpy(c.img + get32(m.img + dd + 20), "XXXX", 4);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.cv.kind, 0);
    ds_pe_free(&pe);
    free(c.img);
    /* NB10 (PDB 2.0) record written over the RSDS one (the record is 0x26 bytes) */
    c = clone(&m);
    uint8_t *cv = c.img + get32(m.img + dd + 20);
    memcpy(cv, "NB10", 4);
    put32(cv + 4, 0);
    put32(cv + 8, 0x12345678u);
    put32(cv + 12, 3);
    memcpy(cv + 16, "old.pdb", 8);
    assert_int_equal(parse_copy(&c, &pe), DS_OK);
    assert_int_equal(pe.cv.kind, 2);
    assert_int_equal(pe.cv.signature, 0x12345678u);
    assert_int_equal(pe.cv.age, 3);
    assert_string_equal(pe.cv.pdb, "old.pdb");
    ds_pe_free(&pe);
    free(c.img);

    /* .pdata: an entry with begin > end is skipped; swapped entries are not sorted */
    uint32_t pd = ref.dir_rva[3];
    c = clone(&m);
    put32(c.img + pd + 12, 0xffff0000u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.npdata, ref.npdata - 1);
    ds_pe_free(&pe);
    free(c.img);
    c = clone(&m);
    uint8_t tmp[12];
    memcpy(tmp, c.img + pd, 12);
    memcpy(c.img + pd, c.img + pd + 12, 12);
    memcpy(c.img + pd + 12, tmp, 12);
    assert_int_equal(parse_copy(&c, &pe), DS_OK);
    assert_int_equal(pe.npdata, ref.npdata);
    assert_false(pe.pdata_sorted);
    ds_pe_free(&pe);
    free(c.img);
    /* exception directory larger than the image */
    c = clone(&m);
    put32(c.img + lfanew + 24 + 112 + 3 * 8 + 4, 0xfffffff0u);
    assert_int_equal(parse_copy(&c, &pe), DS_E_PARTIAL);
    assert_int_equal(pe.missing, DS_PE_HAVE_PDATA);
    ds_pe_free(&pe);
    free(c.img);

    ds_pe_free(&ref);
    free(m.img);
}

/* A CLR (COR20) header and metadata root written into the image's slack space: the parser's
 * fields must be the bytes the test wrote (ECMA-335 II.24.2.1 / II.25.3.3 layouts). */
static void test_clr(void **state)
{
    (void)state;
    dstest_mapped m = load_mapped("pe/testdll64.dll");
    uint32_t lfanew = get32(m.img + 0x3c);
    uint8_t *dd14 = m.img + lfanew + 24 + 112 + 14 * 8;
    const uint32_t hdr = m.size - 0x200, md = m.size - 0x100; /* zero slack of .reloc's page */
    for (uint32_t i = hdr; i < m.size; i++)
        assert_int_equal(m.img[i], 0);
    put32(dd14, hdr);
    put32(dd14 + 4, 72);
    put32(m.img + hdr, 72);
    put16(m.img + hdr + 4, 2);
    put16(m.img + hdr + 6, 5);
    put32(m.img + hdr + 8, md);
    put32(m.img + hdr + 12, 0x80);
    put32(m.img + hdr + 16, 1); /* COMIMAGE_FLAGS_ILONLY */
    put32(m.img + md, 0x424a5342u);
    put16(m.img + md + 4, 1);
    put16(m.img + md + 6, 1);
    put32(m.img + md + 12, 12);
    memcpy(m.img + md + 16, "v4.0.30319\0\0", 12);
    ds_pe pe;
    assert_int_equal(parse_copy(&m, &pe), DS_OK);
    assert_true(pe.has_clr);
    assert_true(pe.have & DS_PE_HAVE_CLR);
    assert_int_equal(pe.clr_major, 2);
    assert_int_equal(pe.clr_minor, 5);
    assert_int_equal(pe.clr_flags, 1);
    assert_int_equal(pe.clr_metadata_rva, md);
    assert_int_equal(pe.clr_metadata_size, 0x80);
    assert_int_equal(pe.clr_metadata_va, 0x140000000ULL + md);
    assert_string_equal(pe.clr_version, "v4.0.30319");
    ds_pe_free(&pe);

    /* the metadata page not captured: CLR header known, version missing */
    ds_vmem vm;
    view_with_hole(&vm, &m, 0x140000000ULL, md, 0x100);
    assert_int_equal(ds_pe_parse(&vm, 0x140000000ULL, &pe, NULL), DS_E_PARTIAL);
    assert_true(pe.has_clr);
    assert_int_equal(pe.missing, DS_PE_HAVE_CLR);
    assert_int_equal(pe.clr_major, 2);
    assert_string_equal(pe.clr_version, "");
    ds_pe_free(&pe);
    ds_vmem_free(&vm);

    /* bad metadata signature, huge version length */
    put32(m.img + md + 12, 0xffffffffu);
    assert_int_equal(parse_copy(&m, &pe), DS_E_PARTIAL);
    assert_true(pe.has_clr);
    ds_pe_free(&pe);
    put32(m.img + md, 0x11111111u);
    assert_int_equal(parse_copy(&m, &pe), DS_E_PARTIAL);
    assert_string_equal(pe.clr_version, "");
    ds_pe_free(&pe);
    free(m.img);
}

/* Random byte damage in the headers and directories: only clean statuses, no crash (ASan). */
static void test_random_damage(void **state)
{
    (void)state;
    const char *names[] = {"pe/testdll64.dll", "pe/testdll32.dll"};
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int f = 0; f < 2; f++) {
        dstest_mapped m = load_mapped(names[f]);
        ds_pe ref;
        assert_int_equal(parse_copy(&m, &ref), DS_OK);
        const uint32_t targets[] = {0, ref.dir_rva[0], ref.dir_rva[2], ref.dir_rva[3],
                                    ref.dir_rva[6]};
        for (int it = 0; it < 600; it++) {
            dstest_mapped c = clone(&m);
            for (int k = 0; k < 4; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                uint32_t t = targets[(seed >> 8) % 5];
                uint32_t off = t + (uint32_t)((seed >> 20) % 0x200);
                if (off + 4 <= c.size)
                    put32(c.img + off, (uint32_t)(seed >> 32));
            }
            ds_pe pe;
            ds_status s = parse_copy(&c, &pe);
            assert_true(s == DS_OK || s == DS_E_PARTIAL || s == DS_E_FORMAT || s == DS_E_NOTFOUND);
            ds_pe_free(&pe);
            free(c.img);
        }
        ds_pe_free(&ref);
        free(m.img);
    }
}

static void test_api_edges(void **state)
{
    (void)state;
    ds_pe pe;
    memset(&pe, 0xab, sizeof pe);
    assert_int_equal(ds_pe_parse(NULL, 0, &pe, NULL), DS_E_USAGE);
    ds_pe_free(&pe); /* freeable after any return */
    ds_pe_free(NULL);
    assert_null(ds_pe_export_by_name(&pe, "x"));
    assert_null(ds_pe_export_by_name(NULL, "x"));
    assert_null(ds_pe_export_by_ordinal(NULL, 1));
    assert_null(ds_pe_section_at(&pe, 0));
    assert_false(ds_pe_find_resource(NULL, &pe, 16, NULL, 0, NULL, NULL, NULL));
    /* an image at the very top of the address space */
    dstest_mapped m = load_mapped("pe/testdll64.dll");
    ds_vmem vm;
    uint64_t base = UINT64_MAX - m.size - 0x100;
    base &= ~0xfffULL;
    view_of(&vm, &m, base);
    assert_int_equal(ds_pe_parse(&vm, base, &pe, NULL), DS_OK);
    assert_int_equal(pe.nexports, 6);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);
    free(m.img);
}

/* Wine's kernel32.dll (a real, large DLL with ~100 forwarders), compared with objdump -p. */
static void test_wine_kernel32(void **state)
{
    (void)state;
    const char *dll = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernel32.dll";
    if (access(dll, R_OK) != 0 || system("x86_64-w64-mingw32-objdump --version >/dev/null 2>&1")) {
        fprintf(stderr, "SKIP: %s or x86_64-w64-mingw32-objdump not available\n", dll);
        skip();
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "x86_64-w64-mingw32-objdump -p '%s'", dll);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    od_info o;
    objdump_parse(p, &o);
    assert_int_equal(pclose(p), 0);
    assert_true(o.has_exports && o.neat > 100);
    size_t len = 0;
    uint8_t *f = dstest_read_file(dll, &len);
    assert_non_null(f);
    dstest_mapped m = dstest_map_pe(f, len);
    free(f);
    ds_vmem vm;
    view_of(&vm, &m, 0x7ffb00000000ULL);
    ds_pe pe;
    ds_status s = ds_pe_parse(&vm, 0x7ffb00000000ULL, &pe, NULL);
    assert_int_equal(s, DS_OK);
    check_against_objdump(&pe, &o, 0x7ffb00000000ULL);
    size_t nfwd = 0, ofwd = 0;
    for (size_t i = 0; i < pe.nexports; i++)
        nfwd += pe.exports[i].forwarder != NULL;
    for (size_t i = 0; i < o.neat; i++)
        ofwd += o.eat[i].fwd;
    assert_int_equal(nfwd, ofwd);
    ds_pe_free(&pe);
    ds_vmem_free(&vm);
    free(m.img);
    od_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dll64),     cmocka_unit_test(test_dll32),
        cmocka_unit_test(test_partial),   cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_clr),       cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_api_edges), cmocka_unit_test(test_wine_kernel32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
