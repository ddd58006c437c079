/* `modules`: WinDbg `lm` / `lmv` shaped module lists, and their JSON. */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "output/format.h"
#include "output/render.h"

const char *ds_module_short_name(const ds_module *m, char *buf, size_t n)
{
    static const char *exts[] = {".dll", ".exe", ".sys", ".drv", ".ocx", ".cpl", ".winmd", ".efi"};
    const char *name = m->name && *m->name ? m->name : (m->path ? m->path : "");
    snprintf(buf, n, "%s", name);
    char *dot = strrchr(buf, '.');
    if (dot)
        for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
            if (!strcasecmp(dot, exts[i])) {
                *dot = 0;
                break;
            }
    if (!buf[0])
        snprintf(buf, n, "<unnamed>");
    return buf;
}

static unsigned ptr_size(const ds_dump *d)
{
    return d->sys.ptr_size ? d->sys.ptr_size : 8;
}

/* {7DD47A9F-C2E8-499A-A78E-C14AE2C965A2} from the RSDS GUID bytes (little-endian fields). */
static char *guid_str(char *buf, size_t n, const uint8_t g[16])
{
    snprintf(buf, n, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
    return buf;
}

/* The symbol-server key: GUID (32 hex digits, no dashes) + age in hex; NB10: signature + age;
 * ELF: the build id in lowercase hex. "" when there is no CodeView record. */
static char *symbol_key(char *buf, size_t n, const ds_codeview *cv)
{
    buf[0] = 0;
    if (cv->kind == 1) {
        const uint8_t *g = cv->guid;
        snprintf(buf, n, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%" PRIX32,
                 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
                 g[13], g[14], g[15], cv->age);
    } else if (cv->kind == 2) {
        snprintf(buf, n, "%08" PRIX32 "%" PRIX32, cv->signature, cv->age);
    } else if (cv->kind == 3) {
        size_t k = 0;
        for (uint32_t i = 0; i < cv->build_id_len && i < sizeof cv->build_id && k + 3 <= n; i++)
            k += (size_t)snprintf(buf + k, n - k, "%02x", cv->build_id[i]);
    }
    return buf;
}

static const char *cv_kind_key(int kind)
{
    switch (kind) {
    case 1:
        return "rsds";
    case 2:
        return "nb10";
    case 3:
        return "elf_build_id";
    }
    return "none";
}

static const char *file_os_name(uint32_t os)
{
    switch (os) {
    case 0x40004:
        return "NT Win32";
    case 0x40000:
        return "NT";
    case 0x4:
        return "Win32";
    case 0x10004:
        return "DOS Win32";
    case 0x10001:
        return "DOS Win16";
    case 0:
        return "Unknown";
    }
    return "";
}

static const char *file_type_name(uint32_t t)
{
    static const char *n[] = {"Unknown", "App", "Dll", "Driver", "Font", "VXD", "", "Static lib"};
    return t < sizeof n / sizeof n[0] ? n[t] : "";
}

static bool ptr_display_64(const ds_dump *d)
{
    return ptr_size(d) == 8;
}

static void header(FILE *f, const ds_dump *d, bool unloaded)
{
    int w = ptr_display_64(d) ? 17 : 8;
    if (unloaded)
        fprintf(f, "%-*s %-*s   %s\n", w, "start", w, "end", "module name");
    else
        fprintf(f, "%-*s %-*s   %-20s %1s  %-16s %-8s  %s\n", w, "start", w, "end", "module name",
                "M", "file version", "time", "pdb / symbol key");
}

static void row(FILE *f, const ds_dump *d, const ds_module *m, bool verbose)
{
    char a[DS_FMT_BUF], e[DS_FMT_BUF], name[280], ver[DS_FMT_BUF], key[160];
    unsigned ps = ptr_size(d);
    ds_fmt_addr(a, sizeof a, m->base, ps);
    ds_fmt_addr(e, sizeof e, m->base + m->size, ps);
    ds_module_short_name(m, name, sizeof name);
    if (m->unloaded) {
        fprintf(f, "%s %s   %s\n", a, e, m->name && *m->name ? m->name : name);
    } else {
        ds_fmt_version(ver, sizeof ver, m->file_version.valid, m->file_version.v);
        symbol_key(key, sizeof key, &m->cv);
        char ts[16] = "-";
        if (m->timestamp)
            snprintf(ts, sizeof ts, "%08" PRIX32, m->timestamp);
        fprintf(f, "%s %s   %-20s %1s  %-16s %-*s", a, e, name, m->managed ? "M" : "",
                ver[0] ? ver : "-", m->cv.kind ? 8 : 0, ts);
        if (m->cv.kind == 3)
            fprintf(f, "  build-id %s", key);
        else if (m->cv.kind)
            fprintf(f, "  %s %s", m->cv.pdb[0] ? m->cv.pdb : "?", key);
        fputc('\n', f);
    }
    if (!verbose)
        return;
    char b[DS_FMT_BUF];
    const char *I = "    %-18s";
    fprintf(f, I, "Image path:");
    fprintf(f, "%s\n", m->path ? m->path : "");
    fprintf(f, I, "Image name:");
    fprintf(f, "%s\n", m->name ? m->name : "");
    fprintf(f, I, "Timestamp:");
    if (m->timestamp)
        fprintf(f, "%s (%08" PRIX32 ")\n", ds_fmt_time(b, sizeof b, m->timestamp), m->timestamp);
    else
        fputs("unavailable\n", f);
    fprintf(f, I, "CheckSum:");
    fprintf(f, "%08" PRIX32 "\n", m->checksum);
    fprintf(f, I, "ImageSize:");
    fprintf(f, "%08" PRIX64 "\n", m->size);
    if (m->unloaded)
        return;
    fprintf(f, I, "File version:");
    fprintf(f, "%s\n", ds_fmt_version(b, sizeof b, m->file_version.valid, m->file_version.v));
    fprintf(f, I, "Product version:");
    fprintf(f, "%s\n", ds_fmt_version(b, sizeof b, m->product_version.valid, m->product_version.v));
    if (m->file_version.valid) {
        fprintf(f, I, "File flags:");
        fprintf(f, "%" PRIX32 "\n", m->file_flags);
        fprintf(f, I, "File OS:");
        fprintf(f, "%" PRIX32 " %s\n", m->file_os, file_os_name(m->file_os));
        fprintf(f, I, "File type:");
        fprintf(f, "%" PRIX32 ".0 %s\n", m->file_type, file_type_name(m->file_type));
    }
    fprintf(f, I, "Managed:");
    fprintf(f, "%s\n",
            m->managed         ? "yes (CLR header)"
            : m->image_checked ? "no"
                               : "unknown (image not in the dump)");
    if (m->cv.kind == 1 || m->cv.kind == 2) {
        fprintf(f, I, "PDB:");
        fprintf(f, "%s\n", m->cv.pdb);
        if (m->cv.kind == 1) {
            char g[48];
            fprintf(f, I, "GUID:");
            fprintf(f, "%s\n", guid_str(g, sizeof g, m->cv.guid));
        } else {
            fprintf(f, I, "Signature:");
            fprintf(f, "%08" PRIX32 "\n", m->cv.signature);
        }
        fprintf(f, I, "Age:");
        fprintf(f, "%" PRIu32 "\n", m->cv.age);
    }
    if (m->cv.kind) {
        fprintf(f, I, m->cv.kind == 3 ? "Build id:" : "Symbol key:");
        fprintf(f, "%s\n", symbol_key(key, sizeof key, &m->cv));
    }
}

void ds_modules_text(FILE *f, const ds_modules_view *v)
{
    const ds_dump *d = v->dump;
    if (v->show_loaded) {
        header(f, d, false);
        for (size_t i = 0; i < v->nloaded; i++)
            row(f, d, v->loaded[i], v->verbose);
    }
    /* like lm: the section appears when there are unloaded modules (or they were asked for) */
    if (v->show_unloaded && (v->nunloaded || !v->show_loaded)) {
        if (v->show_loaded)
            fputc('\n', f);
        fputs("Unloaded modules:\n", f);
        if (v->nunloaded)
            header(f, d, true);
        for (size_t i = 0; i < v->nunloaded; i++)
            row(f, d, v->unloaded[i], v->verbose);
    }
}

static cJSON *version_json(const ds_version *v)
{
    char b[DS_FMT_BUF];
    if (!v->valid)
        return cJSON_CreateNull();
    return cJSON_CreateString(ds_fmt_version(b, sizeof b, 1, v->v));
}

static cJSON *module_json(const ds_dump *d, const ds_module *m, size_t index)
{
    char b[300];
    cJSON *o = cJSON_CreateObject();
    ds_json_add_uint(o, "index", index);
    ds_json_add_addr(o, "base", m->base);
    ds_json_add_addr(o, "end", m->base + m->size);
    ds_json_add_uint(o, "size", m->size);
    cJSON_AddStringToObject(o, "name", ds_module_short_name(m, b, sizeof b));
    ds_json_add_str_or_null(o, "file_name", m->name);
    ds_json_add_str_or_null(o, "path", m->path);
    ds_json_add_uint(o, "timestamp", m->timestamp);
    ds_json_add_str_or_null(o, "timestamp_utc",
                            m->timestamp ? ds_fmt_time(b, sizeof b, m->timestamp) : NULL);
    snprintf(b, sizeof b, "0x%08" PRIx32, m->checksum);
    cJSON_AddStringToObject(o, "checksum", b);
    if (m->unloaded)
        return o;
    cJSON_AddItemToObject(o, "file_version", version_json(&m->file_version));
    cJSON_AddItemToObject(o, "product_version", version_json(&m->product_version));
    ds_json_add_uint(o, "file_flags", m->file_flags);
    ds_json_add_uint(o, "file_os", m->file_os);
    ds_json_add_uint(o, "file_type", m->file_type);
    cJSON_AddBoolToObject(o, "managed", m->managed);
    cJSON_AddBoolToObject(o, "image_checked", m->image_checked);
    if (!m->cv.kind) {
        cJSON_AddNullToObject(o, "debug_id");
        return o;
    }
    cJSON *cv = cJSON_AddObjectToObject(o, "debug_id");
    cJSON_AddStringToObject(cv, "kind", cv_kind_key(m->cv.kind));
    ds_json_add_str_or_null(cv, "pdb", m->cv.kind == 3 ? NULL : m->cv.pdb);
    if (m->cv.kind == 1)
        cJSON_AddStringToObject(cv, "guid", guid_str(b, sizeof b, m->cv.guid));
    else
        cJSON_AddNullToObject(cv, "guid");
    if (m->cv.kind == 2)
        ds_json_add_uint(cv, "signature", m->cv.signature);
    else
        cJSON_AddNullToObject(cv, "signature");
    if (m->cv.kind == 3)
        cJSON_AddNullToObject(cv, "age");
    else
        ds_json_add_uint(cv, "age", m->cv.age);
    cJSON_AddStringToObject(cv, "symbol_key", symbol_key(b, sizeof b, &m->cv));
    (void)d;
    return o;
}

cJSON *ds_modules_json(const ds_modules_view *v)
{
    const ds_dump *d = v->dump;
    cJSON *r = cJSON_CreateObject();
    ds_json_add_str_or_null(r, "filter", v->pattern);
    cJSON *a = cJSON_AddArrayToObject(r, "modules");
    for (size_t i = 0; v->show_loaded && i < v->nloaded; i++)
        cJSON_AddItemToArray(a, module_json(d, v->loaded[i], (size_t)(v->loaded[i] - d->modules)));
    cJSON *u = cJSON_AddArrayToObject(r, "unloaded_modules");
    for (size_t i = 0; v->show_unloaded && i < v->nunloaded; i++)
        cJSON_AddItemToArray(
            u, module_json(d, v->unloaded[i], (size_t)(v->unloaded[i] - d->unloaded)));
    ds_json_add_uint(r, "count", v->show_loaded ? v->nloaded : 0);
    ds_json_add_uint(r, "unloaded_count", v->show_unloaded ? v->nunloaded : 0);
    ds_json_add_uint(r, "total_modules", d->nmodules);
    ds_json_add_uint(r, "total_unloaded_modules", d->nunloaded);
    return r;
}
