/* dumpsleuth dumpheap <dump>: SOS's !dumpheap (-stat, -type, -mt, -min, -max) without the DAC. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "output/render.h"
#include "output/render_clr.h"
#include "output/render_clr_strings.h"

const char cmd_dumpheap_usage[] =
    "usage: dumpsleuth dumpheap [-stat] [-type TEXT] [-mt MT] [-min N] [-max N]\n"
    "                           [--strings [--top N] [--max-distinct N]] [--progress]\n"
    "                           [--runtime-dir DIR] [--module-path DIR|FILE[:...]]\n"
    "                           [--json] [-q] <dump>\n"
    "\n"
    "SOS's !dumpheap for CoreCLR 2.0-3.1 dumps, read from the runtime's own structures\n"
    "(no DAC, no symbols): walks every object of the GC heap (small and large object heap),\n"
    "validating each MethodTable; bad objects are reported and the walk resynchronises.\n"
    "Without -stat the objects are listed (Address, MT, Size), then the statistics.\n"
    "\n"
    "  -stat          only the statistics: MT, Count, TotalSize, Class Name, ascending by\n"
    "                 TotalSize, a Free row for free space, 'Total N objects, M bytes'\n"
    "  -type TEXT     only objects whose type name contains TEXT\n"
    "  -mt MT         only objects with this MethodTable (hex)\n"
    "  -min N, -max N only objects of at least / at most N bytes\n"
    "  --strings      the most frequent System.String values instead (SOS's -strings):\n"
    "                 Count, TotalSize, Length (UTF-16 units), Value (UTF-8, first 80 units),\n"
    "                 descending by TotalSize; the filters above still apply\n"
    "  --top N        --strings: show the first N values (default 20, 0 = all)\n"
    "  --max-distinct N  --strings: keep at most N distinct values (default 1000000; later\n"
    "                 new values are only counted, and the output says so)\n"
    "  --progress     the progress line even when stderr is not a terminal\n"
    "  --runtime-dir DIR  Linux cores: DIR holds the dump's libcoreclr.so (e.g.\n"
    "                 .../shared/Microsoft.NETCore.App/2.0.0/); its .symtab gives\n"
    "                 g_gcDacGlobals when its GNU build-id equals the dump's (else refused\n"
    "                 with a warning and the signature scan is used)\n"
    "  --module-path DIR|FILE[:...]  assemblies whose metadata is not in the dump (UNKNOWN\n"
    "                 types): directories are searched for the module's file, files are\n"
    "                 taken as given; a file is used only when it is provably the same build\n"
    "                 (MVID in the dump, or the module list's timestamp and size), else\n"
    "                 refused with a warning. The modules named from disk are listed.\n"
    "A progress line is written on stderr for walks longer than a second when stderr is a\n"
    "terminal or with --progress (never with -q).\n"
    "See docs/commands/dumpheap.md.\n";

typedef struct progress_ctx {
    struct timespec t0;
    bool shown, quiet, enabled;
    int last_pct; /* last percentage printed (the line is rewritten only when it changes) */
} progress_ctx;

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    progress_ctx *p = ctx;
    if (!p || p->quiet || !p->enabled || !total)
        return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double el = (double)(t.tv_sec - p->t0.tv_sec) + (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
    if (done >= total) {
        if (p->shown)
            fprintf(stderr, "\r%60s\r", "");
        return;
    }
    if (el < 1.0)
        return;
    int pct = (int)(100.0 * (double)done / (double)total);
    if (p->shown && pct == p->last_pct)
        return;
    p->shown = true;
    p->last_pct = pct;
    fprintf(stderr, "\rwalking the managed heap: %3d%%", pct);
}

static void *progress_new(ds_cli *cli, bool force)
{
    progress_ctx *p = calloc(1, sizeof *p);
    if (p) {
        clock_gettime(CLOCK_MONOTONIC, &p->t0);
        p->quiet = cli->quiet;
        p->enabled = force || isatty(STDERR_FILENO) == 1;
    }
    return p;
}

typedef struct filt {
    ds_clr_heap *h;
    const char *type;
    uint64_t mt, min, max;
    bool has_mt, list, strings;
    ds_clr_stats stats;
    ds_clr_objlist objs;
    ds_clr_strings str;
    bool oom;
    /* run of consecutive objects with the same MethodTable, added to stats in one step */
    uint64_t run_mt, run_count, run_total;
    bool run_free;
    size_t row_cache[256]; /* mt hash -> stats row + 1 */
} filt;

static bool flush_run(filt *f)
{
    if (!f->run_count)
        return true;
    uint64_t mt = f->run_mt, n = f->run_count, tot = f->run_total;
    f->run_count = 0;
    f->run_total = 0;
    size_t slot = (size_t)(mt * 0x9E3779B97F4A7C15ull >> 56);
    size_t r = f->row_cache[slot];
    if (!r || r > f->stats.n || f->stats.v[r - 1].mt != mt) {
        size_t before = f->stats.n;
        if (!ds_clr_stats_add(&f->stats, mt, tot, f->run_free))
            return false;
        if (f->stats.n > before)
            r = f->stats.n; /* the new row is the last one */
        else {
            for (r = 0; r < f->stats.n && f->stats.v[r].mt != mt; r++)
                ;
            if (r == f->stats.n)
                return false;
            r++;
        }
        f->row_cache[slot] = r;
        n--; /* ds_clr_stats_add counted one object and the whole size */
        tot = 0;
    }
    ds_clr_type_stat *row = &f->stats.v[r - 1];
    row->count += n;
    row->total += tot;
    f->stats.objects += n;
    f->stats.bytes += tot;
    return true;
}

static int filt_cb(void *ctx, const ds_clr_object *o)
{
    filt *f = ctx;
    if (f->has_mt && o->mt != f->mt)
        return 0;
    if (o->size < f->min || (f->max && o->size > f->max))
        return 0;
    if (f->type) {
        const char *n = o->free ? "Free" : ds_clr_type_name(f->h, o->mt);
        if (!n || !strstr(n, f->type))
            return 0;
    }
    if (f->strings) {
        if (!ds_clr_strings_add(&f->str, f->h, o)) {
            f->oom = true;
            return 1;
        }
        return 0;
    }
    if (f->list && !DS_PUSH(f->objs.v, f->objs.n, f->objs.cap, *o)) {
        f->oom = true;
        return 1;
    }
    if (f->run_count && (o->mt != f->run_mt || o->free != f->run_free) && !flush_run(f)) {
        f->oom = true;
        return 1;
    }
    f->run_mt = o->mt;
    f->run_free = o->free;
    f->run_count++;
    f->run_total += o->size;
    return 0;
}

/* The options of dumpheap besides --runtime-dir / --module-path. */
typedef struct dh_opts {
    filt *fl;
    bool stat, force_progress;
    uint64_t top, max_distinct;
} dh_opts;

static int dh_opt(ds_cli *cli, int argc, char **argv, int *i, void *ctx, int *rc)
{
    dh_opts *o = ctx;
    filt *fl = o->fl;
    const char *a = argv[*i];
    if (!strcmp(a, "-stat"))
        o->stat = true;
    else if (!strcmp(a, "--strings"))
        fl->strings = true;
    else if (!strcmp(a, "--progress"))
        o->force_progress = true;
    else if (strcmp(a, "-type") && strcmp(a, "-mt") && strcmp(a, "-min") && strcmp(a, "-max") &&
             strcmp(a, "--top") && strcmp(a, "--max-distinct"))
        return 0;
    else if (*i + 1 >= argc) {
        *rc = ds_cli_usage_error(cli, "option '%s' needs a value", a);
        return -1;
    } else if (!strcmp(a, "--top") || !strcmp(a, "--max-distinct")) {
        const char *v = argv[++*i];
        char *end;
        uint64_t n = strtoull(v, &end, 10);
        if (!*v || *v == '-' || *end || (a[2] == 'm' && (n == 0 || n > 100000000))) {
            *rc = ds_cli_usage_error(cli, "'%s' is not a valid count for %s", v, a);
            return -1;
        }
        *(a[2] == 't' ? &o->top : &o->max_distinct) = n;
    } else if (!strcmp(a, "-type"))
        fl->type = argv[++*i];
    else if (!strcmp(a, "-mt")) {
        const char *v = argv[++*i];
        char *end;
        fl->mt = strtoull(v, &end, 16);
        if (!*v || *end) {
            *rc = ds_cli_usage_error(cli, "'%s' is not a hex MethodTable", v);
            return -1;
        }
        fl->has_mt = true;
    } else { /* -min, -max */
        uint64_t n;
        const char *v = argv[++*i];
        if (!ds_cli_parse_size(v, &n)) {
            *rc = ds_cli_usage_error(cli, "'%s' is not a size", v);
            return -1;
        }
        *(a[2] == 'i' ? &fl->min : &fl->max) = n;
    }
    return 1;
}

int cmd_dumpheap(ds_cli *cli, int argc, char **argv)
{
    filt fl;
    memset(&fl, 0, sizeof fl);
    dh_opts o = {.fl = &fl, .top = 20, .max_distinct = DS_CLR_STRINGS_MAX_DISTINCT};
    ds_dump *d;
    ds_status st;
    ds_clr_heap h;
    int rc = ds_cli_open_clr(cli, argc, argv, true, dh_opt, &o, &d, &st, &h);
    if (rc >= 0)
        return rc;
    bool stat = o.stat;
    fl.h = &h;
    fl.list = !stat && !fl.strings;
    fl.str.max_distinct = (size_t)o.max_distinct;
    void *prog = progress_new(cli, o.force_progress);
    ds_clr_walk_stats ws;
    ds_status wst = ds_clr_heap_walk(&h, filt_cb, &fl, progress_cb, prog, &ws, &d->diags);
    free(prog);
    if (!fl.oom && !flush_run(&fl))
        fl.oom = true;
    ds_clr_stats_finish(&fl.stats, &h);
    if (fl.strings)
        ds_clr_strings_finish(&fl.str, &h, (size_t)o.top);
    if (wst != DS_OK && st == DS_OK)
        st = DS_E_PARTIAL;
    cJSON *res = NULL;
    if (cli->json) {
        res = cJSON_CreateObject();
        cJSON_AddItemToObject(res, "runtime", ds_clr_runtime_json(&h.rt));
        if (fl.strings)
            cJSON_AddItemToObject(res, "strings", ds_clr_strings_json(&fl.str));
        else {
            if (!stat)
                cJSON_AddItemToObject(res, "objects", ds_clr_objects_json(&h, &fl.objs));
            cJSON_AddItemToObject(res, "statistics", ds_clr_stats_json(&fl.stats));
        }
        cJSON_AddItemToObject(res, "walk", ds_clr_walk_json(&ws));
    } else {
        if (fl.strings)
            ds_clr_strings_text(stdout, &h, &fl.str);
        else {
            if (!stat)
                ds_clr_objects_text(stdout, &h, &fl.objs);
            ds_clr_stats_text(stdout, &h, &fl.stats);
        }
        ds_clr_walk_text(stdout, &ws);
    }
    ds_cli_clr_modpath_report(cli, &h, res);
    bool oom = fl.oom;
    free(fl.objs.v);
    ds_clr_stats_free(&fl.stats);
    ds_clr_strings_free(&fl.str);
    ds_clr_walk_stats_free(&ws);
    ds_clr_heap_close(&h);
    rc = ds_cli_finish(cli, d, st, res);
    return oom ? DS_EXIT_INTERNAL : rc;
}
