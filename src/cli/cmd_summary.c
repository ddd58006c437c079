/* dumpsleuth summary <dump>: WinDbg's !address -summary (--clr: the .NET GC heap split out of
 * <unknown>). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "dumpsleuth/regions.h"
#include "output/format.h"
#include "output/render.h"
#include "output/render_regions.h"

const char cmd_summary_usage[] =
    "usage: dumpsleuth summary [--clr] [--json] [-q] <dump>\n"
    "\n"
    "WinDbg's `!address -summary`: the Usage Summary (Free, <unknown>, Image, Heap, Stack, TEB,\n"
    "PEB, Other, MappedFile; Heap32/Heap64 ... on WoW64 dumps), the Type Summary (for busy), the\n"
    "State Summary, the Protect Summary (for commit) and the Largest Region by Usage. Region\n"
    "counts, sizes (hex and human) and percentages of busy and of the whole address space.\n"
    "Dumps without a region table (no MemoryInfoList) are summarised from the captured memory\n"
    "ranges and marked as partial. See docs/commands/summary.md for how each class is decided.\n"
    "\n"
    "options:\n"
    "  --clr    .NET dumps: split the GC heap out of <unknown> (GC heap = committed segment\n"
    "           memory, GC reserved = reserved segment memory, CLR other = the rest of the\n"
    "           GC's own reservations) and print the managed/unmanaged verdict: how much of\n"
    "           the committed memory is the GC heap. No CLR in the dump: a note, exit 0; a CLR\n"
    "           whose GC heap cannot be read: a warning, exit 6.\n";

/* --clr outcome (shared with cmd_regions.c through ds_cli_classify_clr) */
enum { CLR_OFF = 0, CLR_NONE = 1, CLR_READ = 2, CLR_UNREADABLE = 3 };

/* Classifies the dump's regions, with the GC heap marked when clr is set. *state: CLR_*;
 * runtime receives "CoreCLR 4.6.25519.2 (coreclr.dll)" when a runtime was found. A CLR whose heap
 * cannot be read adds a warning (the caller's exit code becomes 6). */
ds_status ds_cli_classify_clr(ds_dump *d, bool clr, ds_region_map *m, char *runtime, size_t rn,
                              int *state);
ds_status ds_cli_classify_clr(ds_dump *d, bool clr, ds_region_map *m, char *runtime, size_t rn,
                              int *state)
{
    *state = CLR_OFF;
    if (rn)
        runtime[0] = 0;
    if (!clr)
        return ds_regions_classify(d, NULL, 0, m, &d->diags);
    ds_clr_heap h;
    ds_status hs = ds_clr_heap_open(d, NULL, &h, &d->diags);
    if (h.rt.kind != DS_CLR_NONE && rn)
        snprintf(runtime, rn, "%s %s (%s)", ds_clr_kind_name(h.rt.kind),
                 h.rt.version[0] ? h.rt.version : "?", h.rt.module_name);
    ds_status st;
    if (hs == DS_OK || (hs == DS_E_PARTIAL && h.nsegs)) {
        *state = CLR_READ;
        const ds_annotator fn[1] = {{ds_clr_annotate, &h}};
        st = ds_regions_classify(d, fn, 1, m, &d->diags);
    } else {
        if (h.rt.kind == DS_CLR_NONE) {
            *state = CLR_NONE;
        } else {
            *state = CLR_UNREADABLE;
            ds_diag_add(&d->diags, DS_SEV_WARNING, "CLR", 0, 0,
                        "%s found, but its GC heap cannot be read (%s): the GC heap stays "
                        "<unknown>",
                        runtime, h.rt.reason[0] ? h.rt.reason : ds_status_str(hs));
        }
        st = ds_regions_classify(d, NULL, 0, m, &d->diags);
    }
    ds_clr_heap_close(&h);
    return st;
}

typedef struct clr_totals {
    uint64_t gc_committed, gc_reserved, clr_other, committed;
} clr_totals;

/* Y of the verdict: the summary's MEM_COMMIT bytes less the GC reserved bytes the region table
 * calls committed (Linux cores list the GC's PROT_NONE reservations as mappings; the GC has not
 * committed them). */
static clr_totals totals(const ds_region_summary *s, const ds_region_map *m)
{
    clr_totals t = {0, 0, 0, 0};
    for (size_t i = 0; i < s->nusage; i++) {
        const ds_usage_row *u = &s->usage[i];
        if (u->usage == DS_USE_GC_COMMITTED)
            t.gc_committed += u->size;
        else if (u->usage == DS_USE_GC_RESERVED)
            t.gc_reserved += u->size;
        else if (u->usage == DS_USE_CLR_OTHER)
            t.clr_other += u->size;
    }
    for (int i = 0; i < 3; i++)
        if (s->state[i].key == DS_MEM_COMMIT)
            t.committed += s->state[i].size;
    for (size_t i = 0; i < m->n; i++) {
        const ds_class_region *cr = &m->v[i];
        if (cr->usage == DS_USE_GC_RESERVED && cr->r->state == DS_MEM_COMMIT &&
            cr->base < s->limit && t.committed >= cr->size)
            t.committed -= cr->size;
    }
    return t;
}

static void verdict(char *buf, size_t n, int state, const char *runtime, const clr_totals *t)
{
    if (state == CLR_NONE) {
        snprintf(buf, n, "no CLR runtime in this dump");
    } else if (state == CLR_UNREADABLE) {
        snprintf(buf, n, "%s: GC heap not readable, the managed share is unknown", runtime);
    } else {
        char x[DS_FMT_BUF], y[DS_FMT_BUF];
        double pct = t->committed ? 100.0 * (double)t->gc_committed / (double)t->committed : 0.0;
        snprintf(buf, n, "Managed (GC heap) committed: %s of %s committed bytes (%.2f%%)",
                 ds_fmt_size(x, sizeof x, t->gc_committed), ds_fmt_size(y, sizeof y, t->committed),
                 pct);
    }
}

/* The summary text with the verdict line after the Usage Summary rows. */
static void summary_text_clr(const ds_dump *d, const ds_region_summary *s, const char *line)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    if (!mf) {
        ds_summary_text(stdout, d, s);
        printf("%s\n", line);
        return;
    }
    ds_summary_text(mf, d, s);
    fclose(mf);
    const char *u = buf ? strstr(buf, "--- Usage Summary") : NULL;
    const char *blank = u ? strstr(u, "\n\n") : NULL;
    if (blank) {
        fwrite(buf, 1, (size_t)(blank - buf) + 1, stdout);
        printf("%s\n", line);
        fputs(blank + 1, stdout);
    } else {
        if (buf)
            fputs(buf, stdout);
        printf("%s\n", line);
    }
    free(buf);
}

static cJSON *clr_json(int state, const char *runtime, const clr_totals *t, const char *line)
{
    cJSON *o = cJSON_CreateObject();
    if (state == CLR_NONE)
        cJSON_AddNullToObject(o, "runtime");
    else
        cJSON_AddStringToObject(o, "runtime", runtime);
    cJSON_AddBoolToObject(o, "gc_heap_read", state == CLR_READ);
    ds_json_add_uint(o, "gc_committed", t->gc_committed);
    ds_json_add_uint(o, "gc_reserved", t->gc_reserved);
    ds_json_add_uint(o, "clr_other", t->clr_other);
    ds_json_add_uint(o, "committed", t->committed);
    if (state == CLR_READ && t->committed)
        cJSON_AddNumberToObject(o, "managed_percent",
                                100.0 * (double)t->gc_committed / (double)t->committed);
    else
        cJSON_AddNullToObject(o, "managed_percent");
    cJSON_AddStringToObject(o, "verdict", line);
    return o;
}

int cmd_summary(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    bool clr = false, opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--"))
            opts = false;
        else if (opts && !strcmp(a, "--clr"))
            clr = true;
        else if (opts && a[0] == '-' && a[1])
            return ds_cli_usage_error(cli, "unknown option '%s'", a);
        else if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        else
            path = a;
    }
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    ds_dump *d;
    ds_status st;
    int rc;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_region_map m;
    ds_region_summary s;
    char runtime[160];
    int state;
    if (ds_cli_classify_clr(d, clr, &m, runtime, sizeof runtime, &state) != DS_OK) {
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    if (ds_regions_summarize(d, &m, &s) != DS_OK) {
        ds_region_map_free(&m);
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    if (s.partial && st == DS_OK)
        st = DS_E_PARTIAL;
    if (state == CLR_UNREADABLE && st == DS_OK)
        st = DS_E_PARTIAL;
    clr_totals t = totals(&s, &m);
    char line[320];
    verdict(line, sizeof line, state, runtime, &t);
    cJSON *res = NULL;
    if (cli->json) {
        res = ds_summary_json(d, &s);
        if (clr && res)
            cJSON_AddItemToObject(res, "clr", clr_json(state, runtime, &t, line));
    } else if (clr) {
        summary_text_clr(d, &s, line);
    } else {
        ds_summary_text(stdout, d, &s);
    }
    ds_region_summary_free(&s);
    ds_region_map_free(&m);
    return ds_cli_finish(cli, d, st, res);
}
