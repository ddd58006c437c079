/* dumpsleuth threads <dump>: the native thread list. */
#include "cli/cli.h"
#include "output/render.h"

const char cmd_threads_usage[] =
    "usage: dumpsleuth threads [--json] [-q] <dump>\n"
    "\n"
    "One row per thread: index ('*' marks the thread of the exception or signal), thread id in\n"
    "hex and decimal (Linux: the LWP), TEB (and TEB32 under WoW64) or the pending signal (Linux),\n"
    "stack base and limit (from the TEB's NT_TIB, or from the captured stack memory), priority,\n"
    "priority class, suspend count, creation time (Windows), PC and SP.\n";

int cmd_threads(ds_cli *cli, int argc, char **argv)
{
    const char *path;
    int rc = ds_cli_dump_arg(cli, argc, argv, &path);
    if (rc >= 0)
        return rc;
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    if (cli->json)
        return ds_cli_finish(cli, d, st, ds_threads_json(d));
    ds_threads_text(stdout, d);
    return ds_cli_finish(cli, d, st, NULL);
}
