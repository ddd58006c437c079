/* dumpsleuth clrthreads <dump>: SOS's !threads (clrthreads) from the ThreadStore, without the
 * DAC. */
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "output/render_clr.h"
#include "output/render_clrthreads.h"

const char cmd_clrthreads_usage[] =
    "usage: dumpsleuth clrthreads [--runtime-dir DIR] [--module-path P] [--json] [-q] <dump>\n"
    "\n"
    "The CLR's managed threads like SOS !threads: ThreadCount, UnstartedThread,\n"
    "BackgroundThread, PendingThread, DeadThread, then per Thread: DBG (index in the dump's\n"
    "thread list), managed ID, OSID, ThreadOBJ, State, GC mode, alloc context, domain, lock\n"
    "count, apartment (from TS_InSTA/TS_InMTA, Ukn when neither), labels (Finalizer,\n"
    "Threadpool) and the last thrown exception (type, object; only on builds where\n"
    "Thread::m_LastThrownObjectHandle is verified: the CoreCLR 2.x ones, not 3.x).\n"
    "Read from ThreadStore::s_pThreadStore\n"
    "without the DAC, with Thread offsets verified per runtime build; other builds are\n"
    "refused (exit 5).\n"
    "  --runtime-dir DIR  Linux cores: DIR holds the dump's libcoreclr.so (build-id checked);\n"
    "                 the finalizer thread then comes from its g_pFinalizerThread symbol\n"
    "  --module-path DIR|FILE[:...]  assemblies for exception types whose metadata is not\n"
    "                 in the dump (same build only; see dumpheap --help)\n"
    "See docs/commands/clrthreads.md.\n";

int cmd_clrthreads(ds_cli *cli, int argc, char **argv)
{
    const char *path;
    ds_clr_options copt = {0};
    int rc = ds_cli_clr_args(cli, argc, argv, true, &copt, NULL, NULL, &path);
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
        return ds_cli_clr_refuse(cli, d, &rt, ts == DS_E_NOTFOUND ? DS_E_UNSUPPORTED : ts, false);
    }
    if (ts == DS_E_PARTIAL)
        st = DS_E_PARTIAL;
    /* the last thrown objects are named through the managed heap's MethodTables */
    bool any_exc = false;
    for (size_t i = 0; i < t.n; i++)
        any_exc = any_exc || t.v[i].exc_object;
    ds_clr_heap h;
    bool heap_open = false;
    if (any_exc) {
        ds_diags hd;
        ds_diags_init(&hd);
        ds_status hs = ds_clr_heap_open(d, &copt, &h, &hd);
        heap_open = hs == DS_OK || hs == DS_E_PARTIAL;
        if (heap_open)
            ds_clr_threads_name_exceptions(&h, &t);
        else
            ds_clr_heap_close(&h);
        ds_diags_free(&hd);
    }
    cJSON *res = NULL;
    if (cli->json) {
        res = ds_clrthreads_json(&rt, &t);
        cJSON_AddItemToObject(res, "runtime", ds_clr_runtime_json(&rt));
    } else {
        ds_clrthreads_text(stdout, &rt, &t);
    }
    if (heap_open) {
        ds_cli_clr_modpath_report(cli, &h, res);
        ds_clr_heap_close(&h);
    }
    ds_clr_threads_free(&t);
    return ds_cli_finish(cli, d, st, res);
}
