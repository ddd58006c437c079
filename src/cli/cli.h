/* dumpsleuth CLI: what main.c offers to the command files (src/cli/cmd_<name>.c).
 *
 * Adding a command = one new file cmd_<name>.c that defines
 *     int cmd_<name>(ds_cli *cli, int argc, char **argv);   argv[0] is the command name
 *     const char cmd_<name>_usage[];                         shown by --help / help <name>
 * and one row X(<name>, "one-line summary") in DS_COMMAND_TABLE in main.c. */
#ifndef DS_CLI_CLI_H
#define DS_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/clr.h"
#include "dumpsleuth/dump.h"
#include "dumpsleuth/regions.h"

typedef struct ds_cli {
    const char *command; /* the command being run ("info") */
    const char *usage;   /* its usage text */
    bool json;           /* --json */
    bool quiet;          /* -q / --quiet: no warnings on stderr */
    const char *dump_path;
} ds_cli;

typedef int (*ds_cmd_fn)(ds_cli *cli, int argc, char **argv);

typedef struct ds_command {
    const char *name;
    const char *summary;
    ds_cmd_fn run;
    const char *usage;
} ds_command;

#define DS_DECLARE_COMMAND(name, summary)                                                          \
    int cmd_##name(ds_cli *cli, int argc, char **argv);                                            \
    extern const char cmd_##name##_usage[];
#define DS_COMMAND_ROW(name, summary) {#name, summary, cmd_##name, cmd_##name##_usage},

/* Exit codes (docs/exit-codes.md); they follow ds_status. */
enum {
    DS_EXIT_OK = 0,
    DS_EXIT_INTERNAL = 1,
    DS_EXIT_USAGE = 2,
    DS_EXIT_IO = 3,
    DS_EXIT_FORMAT = 4,
    DS_EXIT_UNSUPPORTED = 5,
    DS_EXIT_PARTIAL = 6
};

/* True for "-h" / "--help" (commands call ds_cli_help for them). */
bool ds_cli_is_help(const char *arg);
/* Prints the current command's usage on stdout; returns 0. */
int ds_cli_help(ds_cli *cli);
/* Reports a usage error ("dumpsleuth: <cmd>: <message>" + usage on stderr; with --json also an
 * envelope with "error" on stdout). Returns DS_EXIT_USAGE. */
int ds_cli_usage_error(ds_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens a dump. On success returns true with *d set and *st = DS_OK or DS_E_PARTIAL.
 * On failure reports the error (stderr; with --json the error envelope on stdout), sets *exit_code
 * and returns false. */
bool ds_cli_open(ds_cli *cli, const char *path, ds_dump **d, ds_status *st, int *exit_code);
/* Ends a command that produced `result` (JSON mode: printed inside the envelope; text mode: must be
 * NULL, the command printed its text already). Prints the dump's warnings on stderr unless
 * --quiet, closes the dump and returns the exit code: 0, or 6 when warnings were reported. */
int ds_cli_finish(ds_cli *cli, ds_dump *d, ds_status st, cJSON *result);

/* Sizes: 0x-prefixed hex, decimal, or decimal with k/m/g (1024-based). Rejects empty input,
 * trailing garbage, a leading '-' and values that do not fit in 64 bits. */
bool ds_cli_parse_size(const char *s, uint64_t *out);

/* The region selection shared by regions, search, extract and profile: -f LIST, --filter LIST,
 * -f:LIST, --filter=LIST, --size N, --min-size N, --max-size N. Zero-initialise, then set
 * text_sizes if wanted. */
typedef struct ds_cli_region_sel {
    ds_region_filter f; /* the filter built so far */
    bool have;          /* some region option was given */
    char text[256];     /* the -f lists given, comma-joined ("" if none) */
    bool text_sizes;    /* in: also record --size/--min-size/--max-size in text as "size=N",
                           "size>=N", "size<=N" (profile) */
} ds_cli_region_sel;

/* The start of the option loop of the commands with region options. While *opts is true (options
 * are parsed), "--" ends the options (*opts = false) and a region option at argv[*i] is consumed
 * with its value argument (advancing *i). Returns 1 if argv[*i] was consumed, 0 if the caller
 * handles it (also always once *opts is false), -1 on a usage error (reported with
 * ds_cli_usage_error; the exit code is in *rc). */
int ds_cli_region_opt(ds_cli *cli, int argc, char **argv, int *i, bool *opts,
                      ds_cli_region_sel *sel, int *rc);

/* For an option argv[*i] that must be one of names (NULL-terminated) and takes a value: returns the
 * value (advancing *i). Returns NULL after reporting "unknown option" or "needs a value" (the exit
 * code is in *rc). */
const char *ds_cli_opt_value(ds_cli *cli, int argc, char **argv, int *i, const char *const *names,
                             int *rc);

/* For commands whose only argument is the dump: handles "--", rejects options and extra
 * arguments, requires the dump. Returns -1 with *path set on success, else the exit code (the
 * usage error has been reported). */
int ds_cli_dump_arg(ds_cli *cli, int argc, char **argv, const char **path);

/* ---- the .NET commands (eeheap, dumpheap, finalizequeue/fq/frq, clrthreads) ---- */

/* A command's own option at argv[*i]: returns 1 if consumed (advancing *i past a value), 0 if it
 * is not one, -1 on a usage error (reported with ds_cli_usage_error; the exit code is in *rc). */
typedef int (*ds_cli_clr_opt_fn)(ds_cli *cli, int argc, char **argv, int *i, void *ctx, int *rc);

/* The argument loop of the .NET commands, left to right: "--" ends the options; --runtime-dir DIR
 * and, when module_path, --module-path P fill *opt; own (may be NULL) is offered every other
 * option; an unknown option, a second argument or no dump at all is a usage error. Returns -1
 * with *path set on success, else the exit code (the usage error has been reported). */
int ds_cli_clr_args(ds_cli *cli, int argc, char **argv, bool module_path, ds_clr_options *opt,
                    ds_cli_clr_opt_fn own, void *ctx, const char **path);

/* Ends a .NET command whose runtime could not be used (st: why, e.g. DS_E_UNSUPPORTED): text mode
 * prints the runtime block when there is a runtime; JSON mode returns {"runtime": ...}, where
 * the runtime is omitted when there is none unless json_always. Closes the dump; returns the
 * exit code of ds_cli_finish. */
int ds_cli_clr_refuse(ds_cli *cli, ds_dump *d, const ds_clr_runtime *rt, ds_status st,
                      bool json_always);

/* The start of eeheap, dumpheap and finalizequeue: parses the arguments (ds_cli_clr_args), opens
 * the dump (ds_cli_open) and its managed heap with the --runtime-dir / --module-path options.
 * Returns -1 on success (*st DS_OK or DS_E_PARTIAL, *h open). Otherwise the failure has been
 * reported (usage error; or the "managed heap not readable" error with the runtime block / JSON
 * envelope, the dump closed) and the exit code is returned. */
int ds_cli_open_clr(ds_cli *cli, int argc, char **argv, bool module_path, ds_cli_clr_opt_fn own,
                    void *ctx, ds_dump **d, ds_status *st, ds_clr_heap *h);

/* Lists the --module-path files tried: text after the output, JSON "module_path" in res. */
void ds_cli_clr_modpath_report(ds_cli *cli, const ds_clr_heap *h, cJSON *res);

#endif
