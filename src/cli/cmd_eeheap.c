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

int ds_cli_clr_open(ds_cli *cli, const char *path, const ds_clr_options *opt, ds_dump **d,
                    ds_status *st, ds_clr_heap *h);

int cmd_eeheap(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    ds_clr_options copt = {0};
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--"))
            opts = false;
        else if (opts && !strcmp(a, "-gc"))
            continue;
        else if (opts && !strcmp(a, "--runtime-dir")) {
            if (i + 1 >= argc)
                return ds_cli_usage_error(cli, "option '%s' needs a value", a);
            copt.runtime_dir = argv[++i];
        } else if (opts && a[0] == '-' && a[1])
            return ds_cli_usage_error(cli, "unknown option '%s'", a);
        else if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        else
            path = a;
    }
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    ds_dump *d;
    ds_status st;
    ds_clr_heap h;
    int rc = ds_cli_clr_open(cli, path, &copt, &d, &st, &h);
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
