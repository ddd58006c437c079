/* dumpsleuth modules <dump>: loaded and unloaded modules (WinDbg lm / lmv / lm m <pattern>). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "output/render.h"

const char cmd_modules_usage[] =
    "usage: dumpsleuth modules [--json] [-q] [-v] [--unloaded] [m <pattern>] <dump>\n"
    "\n"
    "Lists the loaded modules like WinDbg's lm: start, end (64-bit targets with the backtick\n"
    "split), module name, 'M' for managed (.NET) images, file version, PE timestamp, and the PDB\n"
    "name with its symbol-server key (GUID+age), or the ELF build id. Then \"Unloaded modules:\".\n"
    "\n"
    "Options:\n"
    "  -v, --verbose        per-module details like lmv: image path, timestamp, checksum, size,\n"
    "                       file/product version, file flags/OS/type, PDB, GUID, age\n"
    "  --unloaded           only the unloaded modules\n"
    "  --loaded             only the loaded modules\n"
    "  m <pattern>          only modules whose name matches the pattern (shell wildcards,\n"
    "  --match <pattern>    case-insensitive; e.g. 'kernel*'); matched against the module\n"
    "                       name (ntdll) and the file name (ntdll.dll)\n";

static bool matches(const ds_module *m, const char *pat)
{
    char shortname[300];
    ds_module_short_name(m, shortname, sizeof shortname);
    if (!fnmatch(pat, shortname, FNM_CASEFOLD))
        return true;
    return m->name && !fnmatch(pat, m->name, FNM_CASEFOLD);
}

static size_t select_modules(const ds_module *v, size_t n, const char *pat, const ds_module **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!pat || matches(&v[i], pat))
            out[k++] = &v[i];
    return k;
}

int cmd_modules(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL, *pattern = NULL;
    bool verbose = false, only_unloaded = false, only_loaded = false, opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--")) {
            opts = false;
        } else if (opts && (!strcmp(a, "-v") || !strcmp(a, "--verbose"))) {
            verbose = true;
        } else if (opts && !strcmp(a, "--unloaded")) {
            only_unloaded = true;
        } else if (opts && !strcmp(a, "--loaded")) {
            only_loaded = true;
        } else if (opts &&
                   (!strcmp(a, "--match") || (!strcmp(a, "m") && !pattern && i + 1 < argc))) {
            /* WinDbg's "lm m <pattern>"; a last argument "m" is a file name */
            if (i + 1 >= argc)
                return ds_cli_usage_error(cli, "%s needs a pattern", a);
            pattern = argv[++i];
        } else if (opts && a[0] == '-' && a[1]) {
            return ds_cli_usage_error(cli, "unknown option '%s'", a);
        } else if (path) {
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        } else {
            path = a;
        }
    }
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    if (only_loaded && only_unloaded)
        return ds_cli_usage_error(cli, "--loaded and --unloaded exclude each other");
    ds_dump *d;
    ds_status st;
    int rc;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_modules_view v = {0};
    v.dump = d;
    v.verbose = verbose;
    v.pattern = pattern;
    v.show_loaded = !only_unloaded;
    v.show_unloaded = !only_loaded;
    v.loaded = calloc(d->nmodules + 1, sizeof *v.loaded);
    v.unloaded = calloc(d->nunloaded + 1, sizeof *v.unloaded);
    if (!v.loaded || !v.unloaded) {
        free(v.loaded);
        free(v.unloaded);
        ds_dump_close(d);
        fputs("dumpsleuth: out of memory\n", stderr);
        return DS_EXIT_INTERNAL;
    }
    v.nloaded = select_modules(d->modules, d->nmodules, pattern, v.loaded);
    v.nunloaded = select_modules(d->unloaded, d->nunloaded, pattern, v.unloaded);
    if (cli->json) {
        rc = ds_cli_finish(cli, d, st, ds_modules_json(&v));
    } else {
        ds_modules_text(stdout, &v);
        rc = ds_cli_finish(cli, d, st, NULL);
    }
    free(v.loaded);
    free(v.unloaded);
    return rc;
}
