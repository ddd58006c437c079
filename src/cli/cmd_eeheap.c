/* dumpsleuth eeheap -gc <dump>: SOS's !eeheap -gc (GC heaps, generations, segments) without the
 * DAC. */
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/clr.h"
#include "output/render_clr.h"

const char cmd_eeheap_usage[] =
    "usage: dumpsleuth eeheap [-gc] [--runtime-dir DIR] [--json] [-q] <dump>\n"
    "\n"
    "SOS's !eeheap -gc for CoreCLR 2.0-3.1 dumps, from the runtime's own structures (no DAC,\n"
    "no symbols): how the GC globals were found, the number of GC heaps, where generations 0-2\n"
    "start, the ephemeral allocation context, every small-object-heap and large-object-heap\n"
    "segment (segment, begin, allocated, committed, reserved, size) and the totals.\n"
    "--runtime-dir DIR: Linux cores, DIR holds the dump's libcoreclr.so; its .symtab gives\n"
    "g_gcDacGlobals when the GNU build-ids match (see dumpheap --help).\n"
    "-gc is the default and the only part implemented (the loader heaps are not read).\n"
    "See docs/commands/eeheap.md.\n";

/* -gc is the default (and the only part implemented) */
static int gc_opt(ds_cli *cli, int argc, char **argv, int *i, void *ctx, int *rc)
{
    (void)cli, (void)argc, (void)ctx, (void)rc;
    return !strcmp(argv[*i], "-gc");
}

int cmd_eeheap(ds_cli *cli, int argc, char **argv)
{
    ds_dump *d;
    ds_status st;
    ds_clr_heap h;
    int rc = ds_cli_open_clr(cli, argc, argv, false, gc_opt, NULL, &d, &st, &h);
    if (rc >= 0)
        return rc;
    cJSON *res = NULL;
    if (cli->json)
        res = ds_eeheap_json(&h);
    else
        ds_eeheap_text(stdout, &h);
    ds_clr_heap_close(&h);
    return ds_cli_finish(cli, d, st, res);
}
