/* dumpsleuth regions <dump>: WinDbg's !address and !address -f:..., plus region histograms. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/regions.h"
#include "output/render.h"
#include "output/render_regions.h"

const char cmd_regions_usage[] =
    "usage: dumpsleuth regions [options] <dump>\n"
    "\n"
    "One line per region, like WinDbg's `!address`: base, end+1, size, type, state, protect,\n"
    "usage and a detail column (module, ~N thread for stacks and TEBs, heap handle, or a\n"
    "16-character preview of the first bytes of <unknown> regions). '+' marks the first region\n"
    "of a new allocation.\n"
    "\n"
    "options:\n"
    "  -f, --filter LIST    WinDbg's !address -f: vocabulary, comma-separated: usage (Unk/VAR,\n"
    "                       Free, Image, Heap, Stack, Teb, Peb, Other, FileMap, Heap32, Stack64,\n"
    "                       ...), type (MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE), state (MEM_COMMIT,\n"
    "                       MEM_RESERVE, MEM_FREE), protection (PAGE_READWRITE, ...). Words of\n"
    "                       one group are alternatives; all groups must match.\n"
    "                       `-f:Unk,MEM_COMMIT` is accepted as in WinDbg.\n"
    "  --size N             only regions of exactly N bytes (0x20000, 128k, 131072)\n"
    "  --min-size N         only regions of at least N bytes\n"
    "  --max-size N         only regions of at most N bytes\n"
    "  --histogram KIND     instead of the list: how many regions of each size (KIND=size),\n"
    "                       allocations of each total size (allocation), or regions per usage\n"
    "                       (usage), with totals, largest total first\n"
    "  --limit N            list at most N regions (default: all)\n"
    "  --clr                .NET dumps: GC heap segments as GC heap (committed) and GC\n"
    "                       reserved, the rest of the GC's own reservations as CLR other\n"
    "                       (docs/commands/summary.md, --clr)\n";

ds_status ds_cli_classify_clr(ds_dump *d, bool clr, ds_region_map *m, char *runtime, size_t rn,
                              int *state); /* cmd_summary.c */

int cmd_regions(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    ds_cli_region_sel sel = {0};
    bool hist = false, opts = true, clr = false;
    ds_hist_kind hk = DS_HIST_SIZE;
    uint64_t limit = 0;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int region = ds_cli_region_opt(cli, argc, argv, &i, &opts, &sel, &rc);
        if (region < 0)
            return rc;
        if (region > 0)
            continue;
        if (opts && !strcmp(a, "--clr")) {
            clr = true;
            continue;
        }
        if (opts && a[0] == '-' && a[1]) {
            static const char *const takes[] = {"--histogram", "--limit", NULL};
            const char *val = ds_cli_opt_value(cli, argc, argv, &i, takes, &rc);
            if (!val)
                return rc;
            uint64_t n = 0;
            if (!strcmp(a, "--histogram")) {
                hist = true;
                if (!strcmp(val, "size"))
                    hk = DS_HIST_SIZE;
                else if (!strcmp(val, "allocation"))
                    hk = DS_HIST_ALLOCATION;
                else if (!strcmp(val, "usage"))
                    hk = DS_HIST_USAGE;
                else
                    return ds_cli_usage_error(cli, "--histogram takes size, allocation or usage");
            } else if (!ds_cli_parse_size(val, &n)) {
                return ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
            } else {
                limit = n;
            }
            continue;
        }
        if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        path = a;
    }
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_region_map m;
    char runtime[160];
    int clr_state;
    if (ds_cli_classify_clr(d, clr, &m, runtime, sizeof runtime, &clr_state) != DS_OK) {
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    if (m.partial && st == DS_OK)
        st = DS_E_PARTIAL;
    if (clr_state == 3 && st == DS_OK) /* a CLR whose GC heap cannot be read (warning given) */
        st = DS_E_PARTIAL;
    if (clr_state == 1 && !cli->json)
        printf("Note: no CLR runtime in this dump.\n\n");
    cJSON *res = NULL;
    if (hist) {
        ds_hist_row *rows = NULL;
        size_t n = 0;
        if (ds_regions_histogram(&m, sel.have ? &sel.f : NULL, hk, &rows, &n) != DS_OK) {
            ds_region_map_free(&m);
            ds_dump_close(d);
            return DS_EXIT_INTERNAL;
        }
        if (cli->json)
            res = ds_histogram_json(d, hk, rows, n);
        else
            ds_histogram_text(stdout, d, hk, rows, n);
        free(rows);
    } else {
        ds_regions_view v = {d, &m, sel.have ? &sel.f : NULL, (size_t)limit};
        if (cli->json)
            res = ds_regions_json(&v);
        else
            ds_regions_text(stdout, &v);
    }
    ds_region_map_free(&m);
    return ds_cli_finish(cli, d, st, res);
}
