/* The JSON envelope every command prints with --json, diagnostics in text and JSON, and small
 * cJSON helpers shared by the renderers. */
#include <inttypes.h>
#include <stdlib.h>

#include "output/format.h"
#include "output/render.h"

void ds_json_add_addr(cJSON *o, const char *key, uint64_t v)
{
    char b[DS_FMT_BUF];
    cJSON_AddStringToObject(o, key, ds_fmt_json_addr(b, sizeof b, v));
}

void ds_json_add_addr_or_null(cJSON *o, const char *key, bool valid, uint64_t v)
{
    if (valid)
        ds_json_add_addr(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

void ds_json_add_uint(cJSON *o, const char *key, uint64_t v)
{
    cJSON_AddNumberToObject(o, key, (double)v);
}

void ds_json_add_str_or_null(cJSON *o, const char *key, const char *s)
{
    if (s && *s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

const char *ds_status_key(ds_status s)
{
    switch (s) {
    case DS_OK:
        return "ok";
    case DS_E_NOMEM:
        return "nomem";
    case DS_E_USAGE:
        return "usage";
    case DS_E_IO:
        return "io";
    case DS_E_FORMAT:
        return "format";
    case DS_E_UNSUPPORTED:
        return "unsupported";
    case DS_E_PARTIAL:
        return "partial";
    case DS_E_NOTFOUND:
        return "notfound";
    }
    return "unknown";
}

int ds_exit_code(ds_status s)
{
    /* docs/exit-codes.md: the exit codes are the ds_status values 0..6 */
    switch (s) {
    case DS_OK:
    case DS_E_NOMEM:
    case DS_E_USAGE:
    case DS_E_IO:
    case DS_E_FORMAT:
    case DS_E_UNSUPPORTED:
    case DS_E_PARTIAL:
        return (int)s;
    case DS_E_NOTFOUND:
        return 5; /* the thing an analysis needs is not in the dump: not possible here */
    }
    return 1;
}

const char *ds_format_key(ds_format f)
{
    static const char *k[] = {"unknown", "minidump", "elfcore", "kdump"};
    return (unsigned)f < sizeof k / sizeof k[0] ? k[f] : "unknown";
}

static const char *sev_name(ds_severity s)
{
    return s == DS_SEV_ERROR ? "error" : s == DS_SEV_WARNING ? "warning" : "note";
}

void ds_diag_print(FILE *f, const char *path, const ds_diag *g)
{
    fprintf(f, "dumpsleuth: %s: ", path ? path : "-");
    if (g->severity == DS_SEV_NOTE)
        fputs("note: ", f);
    fputs(g->structure[0] ? g->structure : "dump", f);
    if (g->has_address)
        fprintf(f, " at address 0x%" PRIx64, g->address);
    else if (g->has_offset)
        fprintf(f, " at offset 0x%" PRIx64, g->offset);
    fprintf(f, ": %s\n", g->message);
}

void ds_diags_print(FILE *f, const char *path, const ds_diags *d, ds_severity min_sev)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].severity >= min_sev)
            ds_diag_print(f, path, &d->v[i]);
    if (d->dropped)
        fprintf(f, "dumpsleuth: %s: %zu more diagnostics were dropped\n", path ? path : "-",
                d->dropped);
}

cJSON *ds_diag_json(const ds_diag *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "severity", sev_name(g->severity));
    ds_json_add_str_or_null(o, "structure", g->structure);
    if (g->has_offset && !g->has_address)
        ds_json_add_uint(o, "offset", g->offset);
    else
        cJSON_AddNullToObject(o, "offset");
    ds_json_add_addr_or_null(o, "address", g->has_address, g->address);
    cJSON_AddStringToObject(o, "message", g->message);
    return o;
}

static cJSON *dump_identity(const ds_envelope *e)
{
    cJSON *o = cJSON_CreateObject();
    const ds_dump *d = e->dump;
    ds_json_add_str_or_null(o, "path", d ? d->path : e->path);
    if (d)
        ds_json_add_uint(o, "file_size", d->map_size);
    else if (e->has_file_size)
        ds_json_add_uint(o, "file_size", e->file_size);
    else
        cJSON_AddNullToObject(o, "file_size");
    if (!d) {
        cJSON_AddNullToObject(o, "format");
        cJSON_AddNullToObject(o, "arch");
        cJSON_AddNullToObject(o, "wow64");
        cJSON_AddNullToObject(o, "os");
        cJSON_AddNullToObject(o, "pid");
        return o;
    }
    cJSON_AddStringToObject(o, "format", ds_format_key(d->format));
    cJSON_AddStringToObject(o, "arch", ds_arch_name(d->sys.arch));
    cJSON_AddBoolToObject(o, "wow64", d->sys.wow64);
    cJSON_AddStringToObject(o, "os", ds_os_name(d->sys.os));
    bool has_pid = d->misc.has_pid || d->lnx.has_prpsinfo;
    if (has_pid)
        ds_json_add_uint(o, "pid", d->misc.has_pid ? d->misc.pid : d->lnx.pid);
    else
        cJSON_AddNullToObject(o, "pid");
    return o;
}

cJSON *ds_envelope_build(const ds_envelope *e)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", DS_SCHEMA_ID);
    cJSON_AddStringToObject(root, "schema_version", DS_SCHEMA_VERSION);
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "name", "dumpsleuth");
    cJSON_AddStringToObject(tool, "version", e->tool_version ? e->tool_version : DS_LIB_VERSION);
    ds_json_add_str_or_null(root, "command", e->command);
    if (e->dump || e->path)
        cJSON_AddItemToObject(root, "dump", dump_identity(e));
    else
        cJSON_AddNullToObject(root, "dump");
    if (e->result)
        cJSON_AddItemToObject(root, "result", e->result);
    else
        cJSON_AddNullToObject(root, "result");
    cJSON *w = cJSON_AddArrayToObject(root, "warnings");
    size_t dropped = 0;
    for (int k = 0; k < 2; k++) {
        const ds_diags *d = e->diags[k];
        if (!d)
            continue;
        for (size_t i = 0; i < d->n; i++)
            cJSON_AddItemToArray(w, ds_diag_json(&d->v[i]));
        dropped += d->dropped;
    }
    ds_json_add_uint(root, "warnings_dropped", dropped);
    if (e->error != DS_OK && e->error != DS_E_PARTIAL) {
        cJSON *err = cJSON_AddObjectToObject(root, "error");
        cJSON_AddStringToObject(err, "status", ds_status_key(e->error));
        ds_json_add_uint(err, "exit_code", (uint64_t)ds_exit_code(e->error));
        cJSON_AddStringToObject(err, "message",
                                e->error_message ? e->error_message : ds_status_str(e->error));
    } else {
        cJSON_AddNullToObject(root, "error");
    }
    return root;
}

bool ds_json_print(FILE *f, cJSON *root)
{
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        return false;
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return true;
}
