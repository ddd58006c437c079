/* dumpsleuth extract <dump>: WinDbg's .writemem for an address range, a region, or every region
 * matching a filter. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dumpsleuth/regions.h"
#include "dumpsleuth/search.h"
#include "output/render.h"
#include "output/render_search.h"

const char cmd_extract_usage[] =
    "usage: dumpsleuth extract -o DIR (--range R | --region ADDR | -f LIST ...) [options] <dump>\n"
    "\n"
    "Writes memory to files, like WinDbg's .writemem: one file per region (or one for --range),\n"
    "named <base>-<end>.bin (16 hex digits each, end exclusive). Bytes that are not in the dump\n"
    "are written as the fill byte and reported per file (NotCaptured column / not_captured).\n"
    "A manifest (text, or JSON with --json) lists every file with base, size, captured bytes\n"
    "and usage.\n"
    "\n"
    "what (at least one; they add up):\n"
    "  --range R          ADDR LLEN, ADDR L?LEN, ADDR-END, ADDR END (hex, as for search)\n"
    "  --region ADDR      the region (as listed by `regions`) that contains ADDR\n"
    "  -f, --filter LIST  every region matching the `regions -f` vocabulary\n"
    "  --size N, --min-size N, --max-size N   region sizes, as for `regions`\n"
    "\n"
    "options:\n"
    "  -o, --output DIR   directory for the files (created if missing)\n"
    "  --force            overwrite existing files (default: refuse, exit 2, nothing written)\n"
    "  --fill BYTE        byte for memory that is not in the dump (default 0; hex as 0x90 or 90)\n"
    "  --max-files N      refuse when more than N files would be written (default 10000)\n"
    "  --max-bytes N      refuse when more than N bytes would be written (default 4g)\n"
    "  --dry-run          print the manifest without writing anything\n";

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

int cmd_extract(ds_cli *cli, int argc, char **argv)
{
    const char *path = NULL, *dir = NULL;
    const char *ranges[16];
    size_t nranges = 0;
    uint64_t regaddr[16];
    size_t nreg = 0;
    ds_cli_region_sel sel = {0};
    bool force = false, dry = false, opts = true;
    uint64_t fill = 0, max_files = 10000, max_bytes = 4ull << 30;
    char err[256], rangebuf[16][128];
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int region = ds_cli_region_opt(cli, argc, argv, &i, &opts, &sel, &rc);
        if (region < 0)
            return rc;
        if (region > 0)
            continue;
        if (opts && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--force")) {
                force = true;
                continue;
            }
            if (!strcmp(a, "--dry-run")) {
                dry = true;
                continue;
            }
            static const char *const takes[] = {"--range", "--region",    "-o",          "--output",
                                                "--fill",  "--max-files", "--max-bytes", NULL};
            const char *val = ds_cli_opt_value(cli, argc, argv, &i, takes, &rc);
            if (!val)
                return rc;
            uint64_t n = 0;
            if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
                dir = val;
            } else if (!strcmp(a, "--range")) {
                if (nranges >= 16)
                    return ds_cli_usage_error(cli, "at most 16 --range options");
                const char *r = val;
                if (!strchr(val, ' ') && !strchr(val, '-') && i + 2 < argc &&
                    (argv[i + 1][0] == 'L' || argv[i + 1][0] == 'l' ||
                     ds_parse_hex_number(argv[i + 1], &n))) {
                    snprintf(rangebuf[nranges], sizeof rangebuf[0], "%s %s", val, argv[++i]);
                    r = rangebuf[nranges];
                }
                ranges[nranges++] = r;
            } else if (!strcmp(a, "--region")) {
                if (nreg >= 16)
                    return ds_cli_usage_error(cli, "at most 16 --region options");
                if (!ds_parse_hex_number(val, &regaddr[nreg]))
                    return ds_cli_usage_error(cli, "'%s' is not an address", val);
                nreg++;
            } else if (!strcmp(a, "--fill")) {
                if (!ds_parse_hex_number(val, &fill) || fill > 0xff)
                    return ds_cli_usage_error(cli, "--fill takes a byte (00..ff)");
            } else if (!ds_cli_parse_size(val, &n)) {
                return ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
            } else if (!strcmp(a, "--max-bytes")) {
                max_bytes = n;
            } else {
                max_files = n;
            }
            continue;
        }
        if (path)
            return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
        path = a;
    }
    if (!dir)
        return ds_cli_usage_error(cli, "no output directory (-o DIR)");
    if (!nranges && !nreg && !sel.have)
        return ds_cli_usage_error(cli, "nothing to extract (--range, --region or -f)");
    if (!path)
        return ds_cli_usage_error(cli, "no dump file given");
    uint64_t rs[16], re[16];
    for (size_t k = 0; k < nranges; k++)
        if (!ds_parse_range(ranges[k], &rs[k], &re[k], err, sizeof err))
            return ds_cli_usage_error(cli, "%s", err);
    ds_dump *d;
    ds_status st;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_region_map m;
    if (ds_regions_classify(d, NULL, 0, &m, &d->diags) != DS_OK) {
        ds_dump_close(d);
        return DS_EXIT_INTERNAL;
    }
    ds_extract_plan plan;
    memset(&plan, 0, sizeof plan);
    bool oom = false;
    int exit_err = 0;
    for (size_t k = 0; k < nranges && !oom; k++)
        oom = !ds_extract_add(d, &plan, rs[k], re[k] - rs[k], SIZE_MAX);
    for (size_t k = 0; k < nreg && !oom; k++) {
        size_t found = SIZE_MAX;
        for (size_t i = 0; i < m.n; i++)
            if (regaddr[k] >= m.v[i].base && regaddr[k] - m.v[i].base < m.v[i].size)
                found = i;
        if (found == SIZE_MAX || m.v[found].usage == DS_USE_FREE) {
            fprintf(stderr, "dumpsleuth: extract: no busy region contains 0x%llx\n",
                    (unsigned long long)regaddr[k]);
            exit_err = DS_EXIT_UNSUPPORTED;
            goto out;
        }
        oom = !ds_extract_add(d, &plan, m.v[found].base, m.v[found].size, found);
    }
    if (sel.have)
        for (size_t i = 0; i < m.n && !oom; i++)
            if (ds_region_filter_match(&sel.f, &m.v[i]) && m.v[i].usage != DS_USE_FREE &&
                m.v[i].r->state != DS_MEM_FREE)
                oom = !ds_extract_add(d, &plan, m.v[i].base, m.v[i].size, i);
    if (oom) {
        exit_err = DS_EXIT_INTERNAL;
        goto out;
    }
    if (plan.n > max_files) {
        fprintf(stderr,
                "dumpsleuth: extract: %zu files would be written (more than --max-files %llu)\n",
                plan.n, (unsigned long long)max_files);
        exit_err = DS_EXIT_USAGE;
        goto out;
    }
    if (plan.total > max_bytes) {
        fprintf(stderr,
                "dumpsleuth: extract: %llu bytes would be written (more than --max-bytes %llu)\n",
                (unsigned long long)plan.total, (unsigned long long)max_bytes);
        exit_err = DS_EXIT_USAGE;
        goto out;
    }
    if (!dry) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "dumpsleuth: extract: cannot create %s: %s\n", dir, strerror(errno));
            exit_err = DS_EXIT_IO;
            goto out;
        }
        /* refuse before writing anything */
        for (size_t i = 0; i < plan.n && !force; i++) {
            char *fp = join(dir, plan.v[i].file);
            struct stat sb;
            bool exists = fp && stat(fp, &sb) == 0;
            if (exists)
                fprintf(stderr,
                        "dumpsleuth: extract: %s exists (use --force to overwrite); "
                        "nothing written\n",
                        fp);
            free(fp);
            if (exists) {
                exit_err = DS_EXIT_USAGE;
                goto out;
            }
        }
        for (size_t i = 0; i < plan.n; i++) {
            ds_extract_item *it = &plan.v[i];
            char *fp = join(dir, it->file);
            int fd = fp ? open(fp, O_WRONLY | O_CREAT | O_TRUNC | (force ? 0 : O_EXCL), 0666) : -1;
            FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
            if (!out) {
                it->error = errno ? errno : ENOMEM;
                if (fd >= 0)
                    close(fd);
            } else {
                uint64_t got = 0;
                it->error = ds_extract_write(d, it->base, it->size, (uint8_t)fill, out, &got);
                if (fclose(out) != 0 && !it->error)
                    it->error = errno;
                it->written = !it->error;
                it->captured = got;
                it->uncaptured = it->size - got;
            }
            free(fp);
        }
        plan.captured = 0;
        for (size_t i = 0; i < plan.n; i++)
            plan.captured += plan.v[i].captured;
    }
    {
        ds_extract_view v = {d, &m, &plan, dir, (uint8_t)fill, dry};
        cJSON *res = NULL;
        if (cli->json)
            res = ds_extract_json(&v);
        else
            ds_extract_text(stdout, &v);
        bool failed = false, partial = false;
        for (size_t i = 0; i < plan.n; i++) {
            failed |= plan.v[i].error != 0;
            partial |= plan.v[i].uncaptured != 0;
        }
        if (partial && !cli->quiet)
            fprintf(stderr,
                    "dumpsleuth: extract: some files contain bytes that are not in the "
                    "dump (filled with 0x%02x); see the manifest\n",
                    (unsigned)fill);
        if (failed && st == DS_OK)
            st = DS_E_IO;
        else if (partial && st == DS_OK)
            st = DS_E_PARTIAL;
        ds_extract_plan_free(&plan);
        ds_region_map_free(&m);
        return ds_cli_finish(cli, d, st, res);
    }
out:
    ds_extract_plan_free(&plan);
    ds_region_map_free(&m);
    ds_dump_close(d);
    return exit_err;
}
