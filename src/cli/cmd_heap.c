/* dumpsleuth heap <dump>: WinDbg's !heap -s / <h> -m / -stat / -a / -x for NT heaps, from the
 * walker in src/heap (include/dumpsleuth/ntheap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dumpsleuth/ntheap.h"
#include "output/render_heap.h"

const char cmd_heap_usage[] =
    "usage: dumpsleuth heap [-s | -m | -stat | -a | -x ADDR] [options] [HEAP] <dump>\n"
    "\n"
    "The NT heaps of a Windows dump (PEB.ProcessHeaps; both PEBs on WoW64), like WinDbg's !heap,\n"
    "without symbols. HEAP (a heap address in hex, as WinDbg takes it: `heap 06e90000 -m x.dmp`)\n"
    "or --heap ADDR limits the output to one heap.\n"
    "\n"
    "modes:\n"
    "  -s              summary table (default): reserved, committed, virtual, free (k), free-list\n"
    "                  length, UCRs, VirtualAlloc blocks, lock contention, LFH; !heap -s\n"
    "  -m              segments, the _HEAP header fields and the VirtualAlloc blocks; !heap -m\n"
    "  -stat           busy blocks grouped by requested size: size, count, total, percent of\n"
    "                  the heap's busy bytes; !heap -stat -h\n"
    "  -a              every entry (backend per segment, VirtualAlloc, LFH); !heap -a\n"
    "  -x ADDR         which heap, segment and entry ADDR belongs to; !heap -x\n"
    "\n"
    "options:\n"
    "  --heap ADDR     only this heap (WinDbg's -h, which is --help here); 0 = every heap\n"
    "  -grp A|B|S      -stat order: A by size, B by block count, S by total (default)\n"
    "  --limit N       -stat: rows per heap (default 20, 0 = all); -a: entry lines (default all)\n"
    "  --busy, --free  -a: only busy / only free entries\n"
    "  --min N, --max N  -a: only entries whose requested (busy) or free size is in range\n"
    "\n"
    "Exit 5 when the dump has no PEB or no NT heap (Wine's heaps are reported as 'not an NT\n"
    "heap'; -x that finds its address in any heap exits 0), 6 when a heap has issues (each is\n"
    "listed with its address).\n"
    "See docs/commands/heap.md.\n";

typedef enum mode { M_SUMMARY, M_SEGMENTS, M_STAT, M_ENTRIES, M_LOOKUP } mode;

/* A hex address as WinDbg takes it: optional 0x, optional backtick between the halves. */
static bool parse_hex(const char *s, uint64_t *out)
{
    char buf[40];
    size_t n = 0;
    if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
        s += 2;
    for (; *s; s++) {
        if (*s == '`')
            continue;
        if (n + 1 >= sizeof buf)
            return false;
        buf[n++] = *s;
    }
    buf[n] = 0;
    if (!n || n > 16)
        return false;
    char *end;
    unsigned long long v = strtoull(buf, &end, 16);
    if (*end || buf[0] == '-' || buf[0] == '+')
        return false;
    *out = v;
    return true;
}

static bool any_nt(const ds_heap_set *s)
{
    for (size_t i = 0; i < s->nheaps; i++)
        if (s->heaps[i].kind == DS_HEAP_NT)
            return true;
    return false;
}

static const ds_heap *find_heap(const ds_heap_set *s, uint64_t addr)
{
    for (size_t i = 0; i < s->nheaps; i++)
        if (s->heaps[i].addr == addr)
            return &s->heaps[i];
    return NULL;
}

int cmd_heap(ds_cli *cli, int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    mode m = M_SUMMARY;
    int nmodes = 0;
    uint64_t heap = 0, xaddr = 0, limit = 0;
    bool have_heap = false, have_limit = false, opts = true, grp = false;
    ds_heap_stat_order order = DS_HEAP_STAT_BY_TOTAL;
    ds_heap_entry_filter flt = {0};
    bool entry_opts = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--")) {
            opts = false;
            continue;
        }
        if (!opts || a[0] != '-' || !a[1]) {
            if (npos == 3)
                return ds_cli_usage_error(cli, "unexpected argument '%s'", a);
            pos[npos++] = a;
            continue;
        }
        if (!strcmp(a, "-s")) {
            m = M_SUMMARY, nmodes++;
        } else if (!strcmp(a, "-m")) {
            m = M_SEGMENTS, nmodes++;
        } else if (!strcmp(a, "-stat")) {
            m = M_STAT, nmodes++;
        } else if (!strcmp(a, "-a")) {
            m = M_ENTRIES, nmodes++;
        } else if (!strcmp(a, "--busy")) {
            flt.busy = entry_opts = true;
        } else if (!strcmp(a, "--free")) {
            flt.free = entry_opts = true;
        } else {
            bool takes = !strcmp(a, "-x") || !strcmp(a, "--heap") || !strcmp(a, "-grp") ||
                         !strcmp(a, "--limit") || !strcmp(a, "--min") || !strcmp(a, "--max");
            if (!takes)
                return ds_cli_usage_error(cli, "unknown option '%s'", a);
            if (i + 1 >= argc)
                return ds_cli_usage_error(cli, "option '%s' needs a value", a);
            const char *val = argv[++i];
            uint64_t n = 0;
            if (!strcmp(a, "-x")) {
                if (!parse_hex(val, &xaddr))
                    return ds_cli_usage_error(cli, "'%s' is not a hex address for -x", val);
                m = M_LOOKUP, nmodes++;
            } else if (!strcmp(a, "--heap")) {
                if (!parse_hex(val, &heap))
                    return ds_cli_usage_error(cli, "'%s' is not a hex heap address", val);
                have_heap = true;
            } else if (!strcmp(a, "-grp")) {
                grp = true;
                if (!strcmp(val, "A") || !strcmp(val, "a"))
                    order = DS_HEAP_STAT_BY_SIZE;
                else if (!strcmp(val, "B") || !strcmp(val, "b"))
                    order = DS_HEAP_STAT_BY_COUNT;
                else if (!strcmp(val, "S") || !strcmp(val, "s"))
                    order = DS_HEAP_STAT_BY_TOTAL;
                else
                    return ds_cli_usage_error(cli, "-grp takes A, B or S");
            } else if (!ds_cli_parse_size(val, &n)) {
                return ds_cli_usage_error(cli, "'%s' is not a number for %s", val, a);
            } else if (!strcmp(a, "--limit")) {
                limit = n;
                have_limit = true;
            } else if (!strcmp(a, "--min")) {
                flt.min_size = n;
                entry_opts = true;
            } else {
                if (!n)
                    return ds_cli_usage_error(cli, "--max must be above 0");
                flt.max_size = n;
                entry_opts = true;
            }
        }
    }
    if (nmodes > 1)
        return ds_cli_usage_error(cli, "give one mode: -s, -m, -stat, -a or -x");
    if (npos == 0)
        return ds_cli_usage_error(cli, "no dump file given");
    if (npos == 3)
        return ds_cli_usage_error(cli, "unexpected argument '%s'", pos[2]);
    if (npos == 2) { /* WinDbg style: heap address before the dump */
        if (have_heap)
            return ds_cli_usage_error(cli, "heap given twice ('%s' and --heap)", pos[0]);
        if (!parse_hex(pos[0], &heap))
            return ds_cli_usage_error(cli, "'%s' is not a hex heap address", pos[0]);
        have_heap = true;
    }
    const char *path = pos[npos - 1];
    if (grp && m != M_STAT)
        return ds_cli_usage_error(cli, "-grp is for -stat");
    if (entry_opts && m != M_ENTRIES)
        return ds_cli_usage_error(cli, "--busy, --free, --min and --max are for -a");
    if (have_limit && m != M_STAT && m != M_ENTRIES)
        return ds_cli_usage_error(cli, "--limit is for -stat and -a");
    if (have_heap && m == M_LOOKUP)
        return ds_cli_usage_error(cli, "-x searches every heap; drop the heap address");
    if (flt.max_size && flt.min_size > flt.max_size)
        return ds_cli_usage_error(cli, "--min is above --max");
    if (m == M_STAT && !have_limit)
        limit = 20; /* WinDbg's max-display */
    flt.limit = (size_t)limit;

    ds_dump *d;
    ds_status st;
    int rc;
    if (!ds_cli_open(cli, path, &d, &st, &rc))
        return rc;
    ds_heap_options hopt = {0};
    hopt.entries = m == M_STAT || m == M_ENTRIES || m == M_LOOKUP;
    hopt.only_heap = have_heap ? heap : 0;
    ds_heap_set set;
    memset(&set, 0, sizeof set);
    ds_status hs = ds_heaps_open(d, &hopt, &set, &d->diags);
    if (hs != DS_OK && hs != DS_E_PARTIAL) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "NT heap", 0, 0, "no heap list: %s",
                    hs == DS_E_NOTFOUND      ? "the dump has no PEB or no PEB.ProcessHeaps"
                    : hs == DS_E_UNSUPPORTED ? "not a Windows process dump"
                                             : ds_status_str(hs));
        ds_heaps_close(&set);
        return ds_cli_finish(cli, d, hs == DS_E_NOTFOUND ? DS_E_UNSUPPORTED : hs, NULL);
    }
    if (hs == DS_E_PARTIAL && st == DS_OK)
        st = DS_E_PARTIAL;
    if (have_heap && heap && !find_heap(&set, heap)) {
        ds_diag_add(&d->diags, DS_SEV_ERROR, "NT heap", 0, 0,
                    "heap 0x%llx is not in PEB.ProcessHeaps", (unsigned long long)heap);
        ds_heaps_close(&set);
        return ds_cli_finish(cli, d, DS_E_UNSUPPORTED, NULL);
    }
    /* issues make the result partial (exit 6); each is also a warning */
    size_t issues = 0;
    for (size_t i = 0; i < set.nheaps; i++) {
        const ds_heap *h = &set.heaps[i];
        if (have_heap && heap && h->addr != heap)
            continue;
        char sname[48];
        snprintf(sname, sizeof sname, "heap 0x%llx", (unsigned long long)h->addr);
        for (size_t k = 0; k < h->nissues; k++)
            ds_diag_add_addr(&d->diags, DS_SEV_WARNING, sname, h->issues[k].addr, "%s: %s",
                             ds_heap_issue_key(h->issues[k].kind), h->issues[k].detail);
        if (h->issues_truncated)
            ds_diag_add(&d->diags, DS_SEV_WARNING, sname, 0, 0,
                        "more issues than the walker keeps; the rest are not listed");
        issues += h->nissues + (h->issues_truncated ? 1 : 0);
    }
    if (issues && st == DS_OK)
        st = DS_E_PARTIAL;

    ds_heap_view v = {&set, have_heap ? heap : 0, DS_HEAP_TERM_UNKNOWN, NULL};
    bool x64 = d->sys.ptr_size == 8 && !d->sys.wow64;
    if (x64) {
        v.term = DS_HEAP_TERM_ENABLED;
        v.term_why = NULL; /* always on for 64-bit processes (Windows Vista and later) */
    } else {
        v.term_why = "32-bit process: depends on the executable's subsystem version and on "
                     "HeapSetInformation";
    }

    cJSON *res = NULL;
    bool x_found = false; /* -x found the address (in a heap of any kind) */
    switch (m) {
    case M_SUMMARY:
        if (cli->json)
            res = ds_heap_summary_json(&v);
        else
            ds_heap_summary_text(stdout, &v);
        break;
    case M_SEGMENTS:
        if (cli->json)
            res = ds_heap_segments_json(&v);
        else
            ds_heap_segments_text(stdout, &v);
        break;
    case M_ENTRIES:
        if (cli->json)
            res = ds_heap_entries_json(&v, &flt);
        else
            ds_heap_entries_text(stdout, &v, &flt);
        break;
    case M_LOOKUP: {
        ds_heap_lookup lk = ds_heap_find(&set, xaddr);
        x_found = lk.found;
        if (cli->json)
            res = ds_heap_lookup_json(xaddr, &lk);
        else
            ds_heap_lookup_text(stdout, xaddr, &lk);
        break;
    }
    case M_STAT: {
        cJSON *arr = NULL;
        if (cli->json) {
            res = cJSON_CreateObject();
            cJSON_AddStringToObject(res, "mode", "stat");
            cJSON_AddStringToObject(res, "group_by", ds_heap_stat_order_key(order));
            cJSON_AddNumberToObject(res, "max_display", (double)limit);
            arr = cJSON_AddArrayToObject(res, "heaps");
        }
        bool first = true;
        unsigned last = 0;
        for (size_t i = 0; i < set.nheaps; i++) {
            const ds_heap *h = &set.heaps[i];
            if (have_heap && heap && h->addr != heap)
                continue;
            if (!cli->json && !first)
                fputc('\n', stdout);
            first = false;
            if (!cli->json)
                ds_heap_section_text(stdout, &set, h, &last);
            if (h->kind != DS_HEAP_NT) {
                if (cli->json)
                    cJSON_AddItemToArray(arr, ds_heap_stat_skip_json(h));
                else
                    ds_heap_stat_skip_text(stdout, h);
                continue;
            }
            ds_heap_stat hst;
            memset(&hst, 0, sizeof hst);
            ds_status ss = ds_heap_stat_compute(&set, h->addr, order, &hst);
            if (ss != DS_OK) {
                ds_heap_stat_free(&hst);
                if (res)
                    cJSON_Delete(res);
                ds_heaps_close(&set);
                ds_dump_close(d);
                return DS_EXIT_INTERNAL;
            }
            if (cli->json)
                cJSON_AddItemToArray(arr, ds_heap_stat_json(h, &hst, order, (size_t)limit));
            else
                ds_heap_stat_text(stdout, h, &hst, order, (size_t)limit, !(have_heap && heap));
            ds_heap_stat_free(&hst);
        }
        break;
    }
    }
    if (!any_nt(&set) && !x_found) {
        const ds_heap *h0 = set.nheaps ? &set.heaps[0] : NULL;
        char first[200] = "";
        if (h0 && h0->why[0])
            snprintf(first, sizeof first, " (first: %s)", h0->why);
        ds_diag_add(&d->diags, DS_SEV_ERROR, "NT heap", 0, 0,
                    "no NT heap in this dump: %zu heap(s) in PEB.ProcessHeaps, none is an NT "
                    "heap%s",
                    set.nheaps, first);
        st = DS_E_UNSUPPORTED;
    }
    ds_heaps_close(&set);
    return ds_cli_finish(cli, d, st, res);
}
