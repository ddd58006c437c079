/* dumpsleuth clrthreads <dump>: SOS's !threads (clrthreads) from the ThreadStore, without the
 * DAC. */
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "output/render_clr.h"
#include "output/render_clrthreads.h"

const char cmd_clrthreads_usage[] =
    "usage: dumpsleuth clrthreads [--runtime-dir DIR] [--json] [-q] <dump>\n"
    "\n"
    "The CLR's managed threads like SOS !threads: ThreadCount, UnstartedThread,\n"
    "BackgroundThread, PendingThread, DeadThread, then per Thread: DBG (index in the dump's\n"
    "thread list), managed ID, OSID, ThreadOBJ, State, GC mode, alloc context, domain, lock\n"
    "count, apartment (from TS_InSTA/TS_InMTA, Ukn when neither) and labels (Finalizer,\n"
    "Threadpool). Read from ThreadStore::s_pThreadStore without the DAC, with Thread offsets\n"
    "verified per runtime build; other builds are refused (exit 5).\n"
    "  --runtime-dir DIR  Linux cores: DIR holds the dump's libcoreclr.so (build-id checked);\n"
    "                 the finalizer thread then comes from its g_pFinalizerThread symbol\n"
    "See docs/commands/clrthreads.md.\n";

int cmd_clrthreads(ds_cli *cli, int argc, char **argv)
{
    const char *path;
    ds_clr_options copt = {0};
    /* --runtime-dir DIR is taken out before the generic argument check */
    char *rest[argc > 0 ? argc : 1];
    int nrest = 0;
    bool opts = true;
    for (int i = 0; i < argc; i++) {
        if (i && opts && !strcmp(argv[i], "--"))
            opts = false;
        if (i && opts && !strcmp(argv[i], "--runtime-dir")) {
            if (i + 1 >= argc)
                return ds_cli_usage_error(cli, "option '%s' needs a value", argv[i]);
            copt.runtime_dir = argv[++i];
            continue;
        }
        rest[nrest++] = argv[i];
    }
    int rc = ds_cli_dump_arg(cli, nrest, rest, &path);
    if (rc >= 0)
        return rc;
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_clr_runtime rt;
    ds_clr_symbols syms;
    ds_status rs = ds_clr_runtime_find_sym(d, &copt, &rt, &syms, &d->diags);
    ds_clr_threads t = {0};
    ds_status ts = DS_E_NOTFOUND;
    if (rt.kind == DS_CLR_NONE) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "CLR", 0, 0, "%s", rt.reason);
        ts = DS_E_UNSUPPORTED;
    } else {
        (void)rs; /* the GC globals are not needed; the DAC table (Windows) is used when found */
        ts = ds_clr_threads_read(d, &rt, &t, &d->diags);
        if (ts == DS_OK || ts == DS_E_PARTIAL)
            ds_clr_threads_use_symbols(d, &rt, &syms, &t, &d->diags);
    }
    if (ts != DS_OK && ts != DS_E_PARTIAL) {
        ds_clr_threads_free(&t);
        cJSON *res = NULL;
        if (cli->json) {
            res = cJSON_CreateObject();
            if (rt.kind != DS_CLR_NONE)
                cJSON_AddItemToObject(res, "runtime", ds_clr_runtime_json(&rt));
        } else if (rt.kind != DS_CLR_NONE) {
            ds_clr_runtime_text(stdout, &rt);
        }
        return ds_cli_finish(cli, d, ts == DS_E_NOTFOUND ? DS_E_UNSUPPORTED : ts, res);
    }
    if (ts == DS_E_PARTIAL)
        st = DS_E_PARTIAL;
    cJSON *res = NULL;
    if (cli->json) {
        res = ds_clrthreads_json(&rt, &t);
        cJSON_AddItemToObject(res, "runtime", ds_clr_runtime_json(&rt));
    } else {
        ds_clrthreads_text(stdout, &rt, &t);
    }
    ds_clr_threads_free(&t);
    return ds_cli_finish(cli, d, st, res);
}
