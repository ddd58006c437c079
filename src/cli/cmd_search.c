/* dumpsleuth search <dump>: WinDbg's s -a / -u / -b / -w / -d / -q over the whole dump. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/regions.h"
#include "dumpsleuth/search.h"
#include "output/render.h"
#include "output/render_search.h"

const char cmd_search_usage[] =
    "usage: dumpsleuth search [options] PATTERN <dump>\n"
    "\n"
    "Searches every captured byte of the dump, like WinDbg's `s -a 0 L?0xffffffff \"text\"`.\n"
    "Prints one line per hit as WinDbg does (address, 16 bytes, ASCII), then the total. Memory\n"
    "that is not in the dump is never searched; hits across two captured ranges that are\n"
    "adjacent in the address space are found.\n"
    "\n"
    "PATTERN (exactly one):\n"
    "  -a TEXT            ASCII text (bytes as given)\n"
    "  -u TEXT            UTF-16LE text\n"
    "  -b HEX             bytes, '?\?' = any byte: -b \"4d 5a ?? 00\" or -b 4d5a??00\n"
    "  -w VALUE           16-bit value, little-endian (numbers are hex as in WinDbg;\n"
    "                     0x accepted, 0n123 = decimal, ` separators ignored)\n"
    "  -d VALUE           32-bit value\n"
    "  --qword VALUE      64-bit value (WinDbg's -q; -q is dumpsleuth's --quiet)\n"
    "  -p VALUE           pointer-sized value (4 bytes for 32-bit and WoW64 processes):\n"
    "                     what points at this address?\n"
    "  -i                 case-insensitive (ASCII letters; with -a or -u)\n"
    "\n"
    "scope (combine freely; default: the whole dump):\n"
    "  --range R          ADDR LLEN, ADDR L?LEN (lengths in bytes), ADDR-END (END exclusive)\n"
    "                     or ADDR END (inclusive, as WinDbg); hex by default.\n"
    "                     `--range 0 L?0xffffffff` (two arguments) is accepted too.\n"
    "  -f, --filter LIST  only regions of these classes (the `regions -f` vocabulary:\n"
    "                     Unk, Heap, Stack, Image, MEM_COMMIT, PAGE_READWRITE, ...)\n"
    "  --size N, --min-size N, --max-size N   region sizes, as for `regions`\n"
    "  --writable         only regions with a writable protection\n"
    "  --aligned          value searches (-w/-d/--qword/-p): only hits at naturally aligned\n"
    "                     addresses. Default: unaligned, like WinDbg.\n"
    "\n"
    "output:\n"
    "  --count            no hit lines: totals by usage class and the top regions by hits\n"
    "  --limit N          print at most N hits (default 1000; 0 = all); all hits are counted\n"
    "  --top N            regions listed by --count / in JSON top_regions (default 20; 0 = all)\n";

int cmd_search(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL, *pat = NULL, *range = NULL;
    char rangebuf[256];
    ds_pattern_kind kind = DS_PAT_ASCII;
    ds_cli_region_sel sel = {0};
    bool nocase = false, aligned = false, count = false, writable = false;
    bool opts = true;
    uint64_t limit = 1000, top = 20;
    char err[256];
    int npat = 0, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int region = ds_cli_region_opt(cli, argc, argv, &i, &opts, &sel, &rc);
        if (region < 0)
            return rc;
        if (region > 0)
            continue;
        if (opts && a[0] == '-' && a[1]) {
            if (!strcmp(a, "-i")) {
                nocase = true;
                continue;
            }
            if (!strcmp(a, "--aligned")) {
                aligned = true;
                continue;
            }
            if (!strcmp(a, "--count")) {
                count = true;
                continue;
            }
            if (!strcmp(a, "--writable")) {
                writable = true;
                continue;
            }
            static const struct {
                const char *opt;
                ds_pattern_kind k;
            } pk[] = {{"-a", DS_PAT_ASCII},     {"-u", DS_PAT_UTF16},   {"-b", DS_PAT_BYTES},
                      {"-w", DS_PAT_U16},       {"-d", DS_PAT_U32},     {"--qword", DS_PAT_U64},
                      {"-p", DS_PAT_PTR},       {"--word", DS_PAT_U16}, {"--dword", DS_PAT_U32},
                      {"--pointer", DS_PAT_PTR}};
            bool is_pat = false;
            for (size_t k = 0; k < sizeof pk / sizeof pk[0]; k++)
                if (!strcmp(a, pk[k].opt)) {
                    is_pat = true;
                    kind = pk[k].k;
                }
            static const char *const takes[] = {"--range", "--limit", "--top", NULL};
            const char *const self[] = {a, NULL};
            const char *val = ds_cli_opt_value(cli, argc, argv, &i, is_pat ? self : takes, &rc);
            if (!val)
                return rc;
            uint64_t n = 0;
            if (is_pat) {
                pat = val;
                npat++;
            } else if (!strcmp(a, "--range")) {
                range = val;
                /* "--range 0 L?0xffffffff" / "--range 1000 2000" as two arguments */
                if (!strchr(val, ' ') && !strchr(val, '-') && i + 2 < argc &&
                    (argv[i + 1][0] == 'L' || argv[i + 1][0] == 'l' ||
                     ds_parse_hex_number(argv[i + 1], &n))) {
                    snprintf(rangebuf, sizeof rangebuf, "%s %s", val, argv[++i]);
                    range = rangebuf;
                }
            } else if (!ds_cli_parse_size(val, &n)) {
                return ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
            } else if (!strcmp(a, "--limit")) {
                limit = n;
            } else {
                top = n;
            }
            continue;
        }
        if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        path = a;
    }
    if (npat == 0)
        return ds_cli_usage_error(cli, "no pattern given (-a, -u, -b, -w, -d, --qword or -p)");
    if (npat > 1)
        return ds_cli_usage_error(cli, "give exactly one pattern");
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    ds_search_scope scope;
    memset(&scope, 0, sizeof scope);
    if (range) {
        if (!ds_parse_range(range, &scope.start, &scope.end, err, sizeof err))
            return ds_cli_usage_error(cli, "%s", err);
        scope.has_range = true;
    }
    scope.filter = sel.have ? &sel.f : NULL;
    scope.writable = writable;
    ds_pattern p;
    /* pointer size is known only after opening; compile a first time to report errors early */
    if (!ds_pattern_compile(&p, kind, pat, nocase, 8, err, sizeof err))
        return ds_cli_usage_error(cli, "%s", err);
    if (aligned && kind != DS_PAT_U16 && kind != DS_PAT_U32 && kind != DS_PAT_U64 &&
        kind != DS_PAT_PTR)
        return ds_cli_usage_error(cli, "--aligned works with value searches (-w, -d, --qword, -p)");
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    unsigned ps = d->sys.target_ptr_size ? d->sys.target_ptr_size : d->sys.ptr_size;
    if (!ds_pattern_compile(&p, kind, pat, nocase, ps, err, sizeof err)) {
        ds_dump_close(d);
        return ds_cli_usage_error(cli, "%s", err);
    }
    if (aligned)
        p.align = (unsigned)p.len;
    ds_region_map m;
    if (ds_regions_classify(d, NULL, 0, &m, &d->diags) != DS_OK) {
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    ds_search_result res;
    ds_status ss = ds_search(d, &m, &p, &scope, (size_t)limit ? (size_t)limit : SIZE_MAX, &res);
    if (ss != DS_OK) {
        ds_search_result_free(&res);
        ds_region_map_free(&m);
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    ds_search_view v = {d, &m, &res, count, (size_t)top, *sel.text ? sel.text : NULL};
    cJSON *out = NULL;
    if (cli->json)
        out = ds_search_json(&v);
    else
        ds_search_text(stdout, &v);
    ds_search_result_free(&res);
    ds_region_map_free(&m);
    return ds_cli_finish(cli, d, st, out);
}
