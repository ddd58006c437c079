/* dumpsleuth info <dump>: what the dump is, what it contains, which analyses it supports. */
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/capabilities.h"
#include "output/render.h"

const char cmd_info_usage[] =
    "usage: dumpsleuth info [--json] [-q] <dump>\n"
    "\n"
    "Shows the dump's format and producer, architecture, OS, process id, start time, uptime and\n"
    "dump time, the dump kind and why, the exception or signal, counts (threads, modules,\n"
    "regions, captured vs mapped memory), comments, VM counters, the streams (Windows) or notes\n"
    "(ELF) with their sizes and status, and for each analysis whether it is possible with this\n"
    "dump (yes / partial / no) and what is missing.\n";

int cmd_info(ds_cli *cli, int argc, char **argv)
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
    ds_capabilities caps;
    ds_capabilities_compute(d, &caps);
    if (cli->json)
        return ds_cli_finish(cli, d, st, ds_info_json(d, &caps));
    ds_info_text(stdout, d, &caps);
    return ds_cli_finish(cli, d, st, NULL);
}
