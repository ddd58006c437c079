/* dumpsleuth info <dump>: what the dump is, what it contains, which analyses it supports. */
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
    const char *path;
    int rc = ds_cli_dump_arg(cli, argc, argv, &path);
    if (rc >= 0)
        return rc;
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_capabilities caps;
    ds_capabilities_compute(d, &caps);
    if (cli->json)
        return ds_cli_finish(cli, d, st, ds_info_json(d, &caps));
    ds_info_text(stdout, d, &caps);
    return ds_cli_finish(cli, d, st, NULL);
}
