/* dumpsleuth finalizequeue / fq / frq <dump>: SOS's !finalizequeue (and the f-reachable part,
 * SOSEX's !frq) from the GC's CFinalize, without the DAC. */
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "output/render_clr.h"
#include "output/render_clrthreads.h"

#define FQ_USAGE_BODY                                                                              \
    "\n"                                                                                           \
    "The finalization queue of a CoreCLR 2.0-3.1 dump, read from the GC's CFinalize (no DAC,\n"    \
    "no symbols): per GC heap the objects registered for finalization in generations 0-2 and\n"    \
    "the ready-for-finalization (f-reachable) queue, i.e. objects found dead and waiting for\n"    \
    "the finalizer thread (critical and normal list), then per-type statistics like\n"             \
    "dumpheap -stat. finalizequeue/fq: all finalizable objects (the LOH registration segment\n"    \
    "excluded, as SOS does); frq: the ready-for-finalization objects only.\n"                      \
    "  -stat   only the statistics\n"                                                              \
    "  --runtime-dir DIR  Linux cores: DIR holds the dump's libcoreclr.so (build-id\n"             \
    "          checked); its .symtab gives g_gcDacGlobals (see dumpheap --help)\n"                 \
    "  --module-path DIR|FILE[:...]  assemblies whose metadata is not in the dump, same build\n"   \
    "          only (see dumpheap --help)\n"                                                       \
    "See docs/commands/finalizequeue.md.\n"

const char cmd_finalizequeue_usage[] =
    "usage: dumpsleuth finalizequeue [-stat] [--runtime-dir "
    "DIR] [--module-path P] [--json] [-q] <dump>   (alias fq)\n" FQ_USAGE_BODY;
const char cmd_fq_usage[] = "usage: dumpsleuth fq [-stat] [--runtime-dir DIR] [--module-path P] "
                            "[--json] [-q] <dump>\n" FQ_USAGE_BODY;
const char cmd_frq_usage[] = "usage: dumpsleuth frq [-stat] [--runtime-dir DIR] [--module-path P] "
                             "[--json] [-q] <dump>\n" FQ_USAGE_BODY;

static int stat_opt(ds_cli *cli, int argc, char **argv, int *i, void *ctx, int *rc)
{
    (void)cli, (void)argc, (void)rc;
    if (strcmp(argv[*i], "-stat"))
        return 0;
    *(bool *)ctx = true;
    return 1;
}

static int run(ds_cli *cli, int argc, char **argv, bool ready_only)
{
    bool stat = false;
    ds_dump *d;
    ds_status st;
    ds_clr_heap h;
    int rc = ds_cli_open_clr(cli, argc, argv, true, stat_opt, &stat, &d, &st, &h);
    if (rc >= 0)
        return rc;
    ds_clr_finq q;
    ds_status qs = ds_clr_finalize_queue(&h, &q, &d->diags);
    if (qs == DS_E_NOMEM) {
        ds_clr_finq_free(&q);
        ds_clr_heap_close(&h);
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    if (qs != DS_OK && st == DS_OK)
        st = DS_E_PARTIAL;
    /* which thread is the finalizer (clrthreads); silently absent on builds without verified
     * Thread offsets */
    ds_clr_threads thr;
    ds_diags tdiags;
    ds_diags_init(&tdiags);
    ds_status ths = ds_clr_threads_read(d, &h.rt, &thr, &tdiags);
    ds_diags_free(&tdiags);
    const ds_clr_thread *fin =
        ths == DS_OK || ths == DS_E_PARTIAL ? ds_clr_threads_finalizer(&thr) : NULL;
    cJSON *res = NULL;
    if (cli->json) {
        res = ds_finq_json(&h, &q, ready_only);
        if (res && fin) {
            cJSON *o = cJSON_CreateObject();
            if (fin->dbg_index >= 0)
                cJSON_AddNumberToObject(o, "dbg_index", (double)fin->dbg_index);
            cJSON_AddNumberToObject(o, "os_id", fin->os_id);
            cJSON_AddNumberToObject(o, "managed_id", fin->managed_id);
            cJSON_AddItemToObject(res, "finalizer_thread", o);
        }
    } else {
        ds_clr_finalizer_line(stdout, &thr);
        ds_finq_text(stdout, &h, &q, ready_only, stat);
    }
    ds_cli_clr_modpath_report(cli, &h, res);
    ds_clr_threads_free(&thr);
    ds_clr_finq_free(&q);
    ds_clr_heap_close(&h);
    return ds_cli_finish(cli, d, st, res);
}

int cmd_finalizequeue(ds_cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, false);
}

int cmd_fq(ds_cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, false);
}

int cmd_frq(ds_cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, true);
}
