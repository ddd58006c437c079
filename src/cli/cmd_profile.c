/* dumpsleuth profile <dump>: what kind of content a set of regions holds. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/profile.h"
#include "dumpsleuth/regions.h"
#include "output/render.h"
#include "output/render_search.h"

const char cmd_profile_usage[] =
    "usage: dumpsleuth profile [options] <dump>\n"
    "\n"
    "What the selected regions hold, in one answer: how many bytes are zero, ASCII text,\n"
    "UTF-16LE text, pointer-like values (aligned pointer-sized values pointing into busy memory)\n"
    "or other; what each region's content is (HTML, JavaScript, JSON, XML, PE image, base64,\n"
    "compressed, text, ...) with region and byte counts per kind; a verdict line (the most\n"
    "common combination); and the 20 most frequent strings (ASCII runs >= 6 characters and\n"
    "UTF-16LE runs). Example: dumpsleuth profile -f Unk,MEM_COMMIT --size 0x20000 app.dmp\n"
    "\n"
    "options:\n"
    "  -f, --filter LIST  regions to profile, `regions -f` vocabulary (default: every\n"
    "                     committed region)\n"
    "  --size N, --min-size N, --max-size N   region sizes, as for `regions`\n"
    "  --top N            strings reported (default 20)\n"
    "  --min-string N     shortest string counted (default 6)\n"
    "  --list N           also list the first N regions with their fractions (default 0)\n";

int cmd_profile(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    ds_cli_region_sel sel = {0};
    sel.text_sizes = true; /* the profile names --size & co in its filter text */
    bool opts = true;
    ds_profile_options po;
    ds_profile_options_default(&po);
    uint64_t list = 0;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int region = ds_cli_region_opt(cli, argc, argv, &i, &opts, &sel, &rc);
        if (region < 0)
            return rc;
        if (region > 0)
            continue;
        if (opts && a[0] == '-' && a[1]) {
            static const char *const takes[] = {"--top", "--min-string", "--list", NULL};
            const char *val = ds_cli_opt_value(cli, argc, argv, &i, takes, &rc);
            if (!val)
                return rc;
            uint64_t n = 0;
            if (!ds_cli_parse_size(val, &n))
                return ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
            if (!strcmp(a, "--top")) {
                if (n > 10000)
                    return ds_cli_usage_error(cli, "--top is at most 10000");
                po.top = (size_t)n;
            } else if (!strcmp(a, "--min-string")) {
                if (n < 2 || n > 64)
                    return ds_cli_usage_error(cli, "--min-string takes 2..64");
                po.min_string = (size_t)n;
            } else {
                list = n;
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
    if (ds_regions_classify(d, NULL, 0, &m, &d->diags) != DS_OK) {
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    ds_profile_result res;
    if (ds_profile(d, &m, sel.have ? &sel.f : NULL, &po, &res) != DS_OK) {
        ds_region_map_free(&m);
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    ds_profile_view v = {d, &m, &res, *sel.text ? sel.text : NULL, (size_t)list};
    cJSON *out = NULL;
    if (cli->json)
        out = ds_profile_json(&v);
    else
        ds_profile_text(stdout, &v);
    ds_profile_result_free(&res);
    ds_region_map_free(&m);
    return ds_cli_finish(cli, d, st, out);
}
