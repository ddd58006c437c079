/* dumpsleuth command line: global options, the command table, and the helpers every command uses
 * (opening a dump, reporting errors and warnings, printing the JSON envelope). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "output/render.h"
#include "output/render_clr.h"
#include "output/termsafe.h"

#ifndef DS_VERSION
#define DS_VERSION DS_LIB_VERSION
#endif

/* The command table: name, one-line summary (handler cmd_<name>, usage text cmd_<name>_usage). */
#define DS_COMMAND_TABLE(X)                                                                        \
    X(info, "what the dump is, what it contains, which analyses it supports")                      \
    X(modules, "loaded and unloaded modules, like WinDbg lm / lmv")                                \
    X(summary, "where the memory went: WinDbg !address -summary")                                  \
    X(regions, "region list with filters and size histograms: WinDbg !address -f:")                \
    X(threads, "threads: id, TEB, stack range, priority, PC/SP, like WinDbg ~")                    \
    X(heap, "NT heaps: WinDbg !heap -s, -m, -stat, -a, -x (no symbols)")                           \
    X(search, "search memory for text, bytes or values: WinDbg s -a/-u/-b/-d")                     \
    X(extract, "write memory ranges or regions to files: WinDbg .writemem")                        \
    X(profile, "what content a set of regions holds (text, HTML/JS, pointers, strings)")           \
    X(eeheap, ".NET GC heaps and segments without the DAC: SOS !eeheap -gc")                       \
    X(dumpheap, ".NET managed objects and per-type statistics: SOS !dumpheap [-stat]")             \
    X(finalizequeue, ".NET finalization queue incl. ready for finalization: SOS !fq")              \
    X(fq, "alias of finalizequeue")                                                                \
    X(frq, ".NET objects ready for finalization (f-reachable queue) only")                         \
    X(clrthreads, ".NET managed threads without the DAC: SOS !threads / clrthreads")

DS_COMMAND_TABLE(DS_DECLARE_COMMAND)

static const ds_command commands[] = {DS_COMMAND_TABLE(DS_COMMAND_ROW)};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char global_usage[] =
    "usage: dumpsleuth [--json] [-q] <command> [options] <dump>\n"
    "       dumpsleuth help <command> | <command> --help\n"
    "       dumpsleuth --help | --version\n"
    "\n"
    "Global options (anywhere on the command line):\n"
    "  --json         print one JSON envelope on stdout (docs/json-schema.md)\n"
    "  -q, --quiet    no warnings on stderr (errors are still printed)\n"
    "  -h, --help     help (for a command when given with one)\n"
    "  --version      print the version\n"
    "\n"
    "Exit codes: 0 ok, 1 internal error, 2 usage, 3 cannot read input, 4 not a dump / corrupt,\n"
    "5 analysis not possible for this dump, 6 partial results (see docs/exit-codes.md).\n";

static void print_global_usage(FILE *f)
{
    fputs(global_usage, f);
    fputs("\nCommands:\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

static const ds_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

bool ds_cli_is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int ds_cli_help(ds_cli *cli)
{
    fputs(cli->usage, stdout);
    return DS_EXIT_OK;
}

static void emit_error_envelope(ds_cli *cli, const char *path, bool has_size, uint64_t size,
                                const ds_diags *diags, ds_status st, const char *msg)
{
    ds_envelope e = {0};
    e.tool_version = DS_VERSION;
    e.command = cli->command;
    e.path = path;
    e.has_file_size = has_size;
    e.file_size = size;
    e.diags[0] = diags;
    e.error = st;
    e.error_message = msg;
    ds_json_print(stdout, ds_envelope_build(&e));
}

int ds_cli_usage_error(ds_cli *cli, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cli && cli->command)
        fprintf(stderr, "dumpsleuth: %s: %s\n", cli->command, msg);
    else
        fprintf(stderr, "dumpsleuth: %s\n", msg);
    if (cli && cli->usage)
        fputs(cli->usage, stderr);
    else
        print_global_usage(stderr);
    if (cli && cli->json)
        emit_error_envelope(cli, NULL, false, 0, NULL, DS_E_USAGE, msg);
    return DS_EXIT_USAGE;
}

bool ds_cli_open(ds_cli *cli, const char *path, ds_dump **d, ds_status *st, int *exit_code)
{
    ds_diags diags;
    ds_diags_init(&diags);
    cli->dump_path = path;
    *st = ds_dump_open(path, d, &diags);
    if (*d) {
        ds_diags_free(&diags);
        return true;
    }
    if (*st == DS_OK || *st == DS_E_PARTIAL) /* no dump although "ok": treat as internal */
        *st = DS_E_NOMEM;
    /* errors are always printed, even with --quiet */
    ds_diags_print(stderr, path, &diags, DS_SEV_WARNING);
    if (!diags.n)
        fprintf(stderr, "dumpsleuth: %s: %s\n", path, ds_status_str(*st));
    if (cli->json) {
        struct stat sb;
        bool has = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
        const char *msg = NULL;
        for (size_t i = 0; i < diags.n && !msg; i++)
            if (diags.v[i].severity == DS_SEV_ERROR)
                msg = diags.v[i].message;
        emit_error_envelope(cli, path, has, has ? (uint64_t)sb.st_size : 0, &diags, *st, msg);
    }
    ds_diags_free(&diags);
    *exit_code = ds_exit_code(*st);
    return false;
}

int ds_cli_finish(ds_cli *cli, ds_dump *d, ds_status st, cJSON *result)
{
    if (ds_diags_count(&d->diags, DS_SEV_WARNING) && st == DS_OK)
        st = DS_E_PARTIAL;
    int rc = ds_exit_code(st);
    if (cli->json) {
        ds_envelope e = {0};
        e.tool_version = DS_VERSION;
        e.command = cli->command;
        e.path = d->path;
        e.dump = d;
        e.result = result;
        e.diags[0] = &d->diags;
        e.error = st;
        if (!ds_json_print(stdout, ds_envelope_build(&e)))
            rc = DS_EXIT_INTERNAL;
    }
    if (!cli->quiet)
        ds_diags_print(stderr, d->path, &d->diags, DS_SEV_WARNING);
    if (fflush(stdout) != 0)
        rc = DS_EXIT_INTERNAL;
    ds_dump_close(d);
    return rc;
}

bool ds_cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return false;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end || (v && mul > UINT64_MAX / v))
        return false;
    *out = (uint64_t)v * mul;
    return true;
}

/* Appends s to the comma-separated list in buf (truncating at size). */
static void append_item(char *buf, size_t size, const char *s)
{
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", *buf ? "," : "", s);
}

static bool region_filter_add(ds_cli *cli, ds_cli_region_sel *sel, const char *list, int *rc)
{
    char err[256];
    if (!ds_region_filter_parse(list, &sel->f, err, sizeof err)) {
        *rc = ds_cli_usage_error(cli, "%s", err);
        return false;
    }
    append_item(sel->text, sizeof sel->text, list);
    sel->have = true;
    return true;
}

const char *ds_cli_opt_value(ds_cli *cli, int argc, char **argv, int *i, const char *const *names,
                             int *rc)
{
    const char *a = argv[*i];
    size_t k = 0;
    while (names[k] && strcmp(a, names[k]))
        k++;
    if (!names[k]) {
        *rc = ds_cli_usage_error(cli, "unknown option '%s'", a);
        return NULL;
    }
    if (*i + 1 >= argc) {
        *rc = ds_cli_usage_error(cli, "option '%s' needs a value", a);
        return NULL;
    }
    return argv[++*i];
}

int ds_cli_region_opt(ds_cli *cli, int argc, char **argv, int *i, bool *options,
                      ds_cli_region_sel *sel, int *rc)
{
    const char *a = argv[*i];
    if (!*options)
        return 0;
    if (!strcmp(a, "--")) {
        *options = false;
        return 1;
    }
    if (!strncmp(a, "-f:", 3) || !strncmp(a, "--filter=", 9))
        return region_filter_add(cli, sel, strchr(a, a[1] == 'f' ? ':' : '=') + 1, rc) ? 1 : -1;
    static const struct {
        const char *opt, *text; /* text: how it is recorded in sel->text (NULL: a filter list) */
    } opts[] = {{"-f", NULL},
                {"--filter", NULL},
                {"--size", "size="},
                {"--min-size", "size>="},
                {"--max-size", "size<="}};
    size_t k = 0;
    while (k < sizeof opts / sizeof opts[0] && strcmp(a, opts[k].opt))
        k++;
    if (k == sizeof opts / sizeof opts[0])
        return 0;
    if (*i + 1 >= argc) {
        *rc = ds_cli_usage_error(cli, "option '%s' needs a value", a);
        return -1;
    }
    const char *val = argv[++*i];
    if (!opts[k].text)
        return region_filter_add(cli, sel, val, rc) ? 1 : -1;
    uint64_t n = 0;
    if (!ds_cli_parse_size(val, &n)) {
        *rc = ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
        return -1;
    }
    if (!strcmp(a, "--size"))
        sel->f.exact_size = n;
    else if (!strcmp(a, "--min-size"))
        sel->f.min_size = n;
    else
        sel->f.max_size = n;
    sel->have = true;
    if (sel->text_sizes) {
        char item[64];
        snprintf(item, sizeof item, "%s%s", opts[k].text, val);
        append_item(sel->text, sizeof sel->text, item);
    }
    return 1;
}

int ds_cli_dump_arg(ds_cli *cli, int argc, char **argv, const char **path)
{
    bool opts = true;
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = false;
        else if (opts && argv[i][0] == '-' && argv[i][1])
            return ds_cli_usage_error(cli, "unknown option '%s'", argv[i]);
        else if (*path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
        else
            *path = argv[i];
    }
    if (!*path)
        return ds_cli_usage_error(cli, "no dump file given");
    return -1;
}

int ds_cli_clr_args(ds_cli *cli, int argc, char **argv, bool module_path, ds_clr_options *opt,
                    ds_cli_clr_opt_fn own, void *ctx, const char **path)
{
    bool opts = true;
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--")) {
            opts = false;
            continue;
        }
        bool rtdir = !strcmp(a, "--runtime-dir");
        if (opts && (rtdir || (module_path && !strcmp(a, "--module-path")))) {
            if (i + 1 >= argc)
                return ds_cli_usage_error(cli, "option '%s' needs a value", a);
            *(rtdir ? &opt->runtime_dir : &opt->module_path) = argv[++i];
            continue;
        }
        int rc = DS_EXIT_USAGE;
        int k = opts && own ? own(cli, argc, argv, &i, ctx, &rc) : 0;
        if (k < 0)
            return rc;
        if (k > 0)
            continue;
        if (opts && a[0] == '-' && a[1])
            return ds_cli_usage_error(cli, "unknown option '%s'", a);
        if (*path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        *path = a;
    }
    if (!*path)
        return ds_cli_usage_error(cli, "no dump file given");
    return -1;
}

int ds_cli_clr_refuse(ds_cli *cli, ds_dump *d, const ds_clr_runtime *rt, ds_status st,
                      bool json_always)
{
    cJSON *res = NULL;
    if (cli->json) {
        res = cJSON_CreateObject();
        if (json_always || rt->kind != DS_CLR_NONE)
            cJSON_AddItemToObject(res, "runtime", ds_clr_runtime_json(rt));
    } else if (rt->kind != DS_CLR_NONE) {
        ds_clr_runtime_text(stdout, rt);
    }
    return ds_cli_finish(cli, d, st, res);
}

int ds_cli_open_clr(ds_cli *cli, int argc, char **argv, bool module_path, ds_cli_clr_opt_fn own,
                    void *ctx, ds_dump **d, ds_status *st, ds_clr_heap *h)
{
    const char *path;
    ds_clr_options opt = {0};
    int rc = ds_cli_clr_args(cli, argc, argv, module_path, &opt, own, ctx, &path);
    if (rc >= 0)
        return rc;
    if (!ds_cli_open(cli, path, d, st, &rc))
        return rc;
    ds_status hs = ds_clr_heap_open(*d, &opt, h, &(*d)->diags);
    if (hs == DS_OK || (hs == DS_E_PARTIAL && h->nsegs)) {
        if (hs == DS_E_PARTIAL)
            *st = DS_E_PARTIAL;
        return -1;
    }
    const char *why = h->rt.reason[0] ? h->rt.reason : ds_status_str(hs);
    ds_diag_add(&(*d)->diags, DS_SEV_ERROR, "CLR", 0, 0, "managed heap not readable: %s", why);
    /* the exit code says why: 5 (no CLR / unsupported runtime), 6 (damaged), ... */
    rc = ds_cli_clr_refuse(cli, *d, &h->rt, hs, true);
    ds_clr_heap_close(h);
    return rc;
}

void ds_cli_clr_modpath_report(ds_cli *cli, const ds_clr_heap *h, cJSON *res)
{
    const ds_clr_modfile_use *u;
    size_t n = ds_clr_module_path_uses(h, &u);
    if (cli->json) {
        if (!res)
            return;
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            ds_json_add_addr(o, "module", u[i].module);
            ds_json_add_str_or_null(o, "name", u[i].name);
            cJSON_AddStringToObject(o, "file", u[i].path);
            cJSON_AddBoolToObject(o, "accepted", u[i].accepted);
            cJSON_AddStringToObject(o, "detail", u[i].detail);
            cJSON_AddItemToArray(a, o);
        }
        cJSON_AddItemToObject(res, "module_path", a);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!i)
            printf("\n--module-path:\n");
        printf("  %s module %016llx %s <- %s (%s)\n",
               u[i].accepted  ? "named  "
               : u[i].path[0] ? "REFUSED"
                              : "no file",
               (unsigned long long)u[i].module, u[i].name[0] ? u[i].name : "?",
               u[i].path[0] ? u[i].path : "-", u[i].detail);
    }
}

int main(int argc, char **argv)
{
    /* strings from dumps are hostile: no raw control sequences reach the terminal */
    FILE *orig_out = stdout, *orig_err = stderr;
    FILE *safe_out = ds_termsafe_open(stdout), *safe_err = ds_termsafe_open(stderr);
    if (safe_out)
        stdout = safe_out;
    if (safe_err) {
        setvbuf(safe_err, NULL, _IOLBF, 0);
        stderr = safe_err;
    }
    ds_cli cli = {0};
    bool help = false, version = false, dashdash = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return DS_EXIT_INTERNAL;
    int n = 0;
    /* global options may appear anywhere before "--" */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash) {
            rest[n++] = argv[i];
        } else if (!strcmp(a, "--")) {
            dashdash = true;
            rest[n++] = argv[i];
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli.quiet = true;
        } else if (ds_cli_is_help(a)) {
            help = true;
        } else if (!strcmp(a, "--version")) {
            version = true;
        } else {
            rest[n++] = argv[i];
        }
    }
    int rc;
    if (version) {
        printf("dumpsleuth %s\n", DS_VERSION);
        rc = DS_EXIT_OK;
    } else if (n == 0 || !strcmp(rest[0], "--")) {
        if (help) {
            print_global_usage(stdout);
            rc = DS_EXIT_OK;
        } else {
            rc = ds_cli_usage_error(&cli, "no command given");
        }
    } else if (!strcmp(rest[0], "help")) {
        const ds_command *c = n > 1 ? find_command(rest[1]) : NULL;
        if (n > 2) {
            rc = ds_cli_usage_error(&cli, "help takes at most one command name");
        } else if (n == 1) {
            print_global_usage(stdout);
            rc = DS_EXIT_OK;
        } else if (!c) {
            rc = ds_cli_usage_error(&cli, "unknown command '%s'", rest[1]);
        } else {
            fputs(c->usage, stdout);
            rc = DS_EXIT_OK;
        }
    } else {
        const ds_command *c = find_command(rest[0]);
        if (!c) {
            rc = rest[0][0] == '-' ? ds_cli_usage_error(&cli, "unknown option '%s'", rest[0])
                                   : ds_cli_usage_error(&cli, "unknown command '%s'", rest[0]);
        } else {
            cli.command = c->name;
            cli.usage = c->usage;
            rc = help ? ds_cli_help(&cli) : c->run(&cli, n, rest);
        }
    }
    free(rest);
    if (fflush(stdout) != 0 && rc == DS_EXIT_OK)
        rc = DS_EXIT_INTERNAL;
    if (safe_out) {
        stdout = orig_out;
        fclose(safe_out);
    }
    if (safe_err) {
        stderr = orig_err;
        fclose(safe_err);
    }
    return rc;
}
