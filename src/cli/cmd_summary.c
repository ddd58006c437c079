/* dumpsleuth summary <dump>: WinDbg's !address -summary. */
#include "cli/cli.h"
#include "dumpsleuth/regions.h"
#include "output/render.h"
#include "output/render_regions.h"

const char cmd_summary_usage[] =
    "usage: dumpsleuth summary [--json] [-q] <dump>\n"
    "\n"
    "WinDbg's `!address -summary`: the Usage Summary (Free, <unknown>, Image, Heap, Stack, TEB,\n"
    "PEB, Other, MappedFile; Heap32/Heap64 ... on WoW64 dumps), the Type Summary (for busy), the\n"
    "State Summary, the Protect Summary (for commit) and the Largest Region by Usage. Region\n"
    "counts, sizes (hex and human) and percentages of busy and of the whole address space.\n"
    "Dumps without a region table (no MemoryInfoList) are summarised from the captured memory\n"
    "ranges and marked as partial. See docs/commands/summary.md for how each class is decided.\n";

int cmd_summary(ds_cli *cli, int argc, char **argv)
{
    const char *path;
    int rc = ds_cli_dump_arg(cli, argc, argv, &path);
    if (rc >= 0)
        return rc;
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_region_map m;
    ds_region_summary s;
    if (ds_regions_classify(d, NULL, 0, &m, &d->diags) != DS_OK) {
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
    cJSON *res = NULL;
    if (cli->json)
        res = ds_summary_json(d, &s);
    else
        ds_summary_text(stdout, d, &s);
    ds_region_summary_free(&s);
    ds_region_map_free(&m);
    return ds_cli_finish(cli, d, st, res);
}
