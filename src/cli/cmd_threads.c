/* dumpsleuth threads <dump>: the native thread list. */
#include <string.h>

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
    const char *path = NULL;
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = false;
        else if (opts && argv[i][0] == '-' && argv[i][1])
            return ds_cli_usage_error(cli, "unknown option '%s'", argv[i]);
        else if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    ds_dump *d;
    ds_status st;
    int rc;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    if (cli->json)
        return ds_cli_finish(cli, d, st, ds_threads_json(d));
    ds_threads_text(stdout, d);
    return ds_cli_finish(cli, d, st, NULL);
}
