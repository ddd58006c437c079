/* `info`: identity, contents and capabilities of a dump, as text and as JSON. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "output/format.h"
#include "output/render.h"

const char *ds_arch_display(const ds_dump *d, char *buf, size_t n)
{
    if (d->sys.wow64)
        snprintf(buf, n, "%s (WoW64: 32-bit process)", ds_arch_name(d->sys.arch));
    else
        snprintf(buf, n, "%s", ds_arch_name(d->sys.arch));
    return buf;
}

static bool has_uptime(const ds_dump *d)
{
    return d->misc.has_times && d->misc.process_create_time && d->dump_time &&
           d->dump_time >= d->misc.process_create_time;
}

static bool has_pid(const ds_dump *d, uint32_t *pid)
{
    if (d->misc.has_pid) {
        *pid = d->misc.pid;
        return true;
    }
    if (d->lnx.has_prpsinfo) {
        *pid = d->lnx.pid;
        return true;
    }
    return false;
}

static const char *stream_status(const ds_stream *s)
{
    return s->damaged ? "damaged" : s->parsed ? "parsed" : "not used";
}

static void os_line(const ds_dump *d, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "%s", ds_os_name(d->sys.os));
    if (k < n && (d->sys.os_major || d->sys.os_minor || d->sys.os_build))
        k += (size_t)snprintf(buf + k, n - k, " %" PRIu32 ".%" PRIu32 ".%" PRIu32, d->sys.os_major,
                              d->sys.os_minor, d->sys.os_build);
    if (k < n && d->sys.csd[0])
        k += (size_t)snprintf(buf + k, n - k, " %s", d->sys.csd);
    if (k < n && d->sys.os_text[0])
        snprintf(buf + k, n - k, " [%s]", d->sys.os_text);
}

static size_t managed_count(const ds_dump *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nmodules; i++)
        n += d->modules[i].managed;
    return n;
}

typedef struct vmc_row {
    const char *label, *key;
    size_t off;
} vmc_row;

#define VMC(l, k, f)                                                                               \
    {                                                                                              \
        l, k, offsetof(ds_vm_counters, f)                                                          \
    }
static const vmc_row vmc_rows[] = {
    VMC("Peak virtual size", "peak_virtual_size", peak_virtual_size),
    VMC("Virtual size", "virtual_size", virtual_size),
    VMC("Peak working set", "peak_working_set", peak_working_set),
    VMC("Working set", "working_set", working_set),
    VMC("Private working set", "private_working_set", private_working_set),
    VMC("Private usage", "private_usage", private_usage),
    VMC("Pagefile usage", "pagefile_usage", pagefile_usage),
    VMC("Peak pagefile usage", "peak_pagefile_usage", peak_pagefile_usage),
    VMC("Shared commit usage", "shared_commit_usage", shared_commit_usage),
    VMC("Quota paged pool", "quota_paged_pool", quota_paged_pool),
    VMC("Quota peak paged pool", "quota_peak_paged_pool", quota_peak_paged_pool),
    VMC("Quota nonpaged pool", "quota_nonpaged_pool", quota_nonpaged_pool),
    VMC("Quota peak nonpaged pool", "quota_peak_nonpaged_pool", quota_peak_nonpaged_pool),
    VMC("Job private usage", "job_private_usage", job_private_usage),
    VMC("Job private commit limit", "job_private_commit_limit", job_private_commit_limit),
    VMC("Job total commit limit", "job_total_commit_limit", job_total_commit_limit),
};

static uint64_t vmc_get(const ds_vm_counters *v, size_t off)
{
    uint64_t x;
    memcpy(&x, (const char *)v + off, sizeof x);
    return x;
}

void ds_info_text(FILE *f, const ds_dump *d, const ds_capabilities *caps)
{
    char b1[256], b2[DS_FMT_BUF], b3[DS_FMT_BUF];
    const char *L = "%-18s";
    fprintf(f, L, "Dump file:");
    fprintf(f, "%s (%" PRIu64 " bytes)\n", d->path, d->map_size);
    fprintf(f, L, "Format:");
    fprintf(f, "%s", d->format_name ? d->format_name : "unknown");
    if (d->producer[0])
        fprintf(f, " (producer: %s)", d->producer);
    fputc('\n', f);
    fprintf(f, L, "Dump kind:");
    fprintf(f, "%s", ds_kind_name(d->kind));
    if (d->kind_reason[0])
        fprintf(f, " - %s", d->kind_reason);
    fputc('\n', f);
    if (d->format == DS_FMT_MINIDUMP) {
        fprintf(f, L, "Dump flags:");
        fprintf(f, "0x%" PRIx64 "\n", d->dump_flags);
    }
    fprintf(f, L, "Architecture:");
    fprintf(f, "%s\n", ds_arch_display(d, b1, sizeof b1));
    os_line(d, b1, sizeof b1);
    fprintf(f, L, "OS:");
    fprintf(f, "%s\n", b1);
    if (d->sys.cpu_count || d->sys.cpu_vendor[0]) {
        fprintf(f, L, "CPUs:");
        fprintf(f, "%" PRIu32, d->sys.cpu_count);
        if (d->sys.cpu_vendor[0])
            fprintf(f, " %s", d->sys.cpu_vendor);
        if (d->sys.cpu_level || d->sys.cpu_revision)
            fprintf(f, " (level %" PRIu32 ", revision 0x%" PRIx32 ")", d->sys.cpu_level,
                    d->sys.cpu_revision);
        fputc('\n', f);
    }
    uint32_t pid;
    fprintf(f, L, "Process ID:");
    if (has_pid(d, &pid))
        fprintf(f, "%" PRIu32 " (0x%" PRIx32 ")\n", pid, pid);
    else
        fputs("unknown\n", f);
    if (d->lnx.has_prpsinfo && (d->lnx.fname[0] || d->lnx.psargs[0])) {
        fprintf(f, L, "Command:");
        fprintf(f, "%s (%s)\n", d->lnx.psargs, d->lnx.fname);
    }
    if (d->misc.has_times && d->misc.process_create_time) {
        fprintf(f, L, "Process start:");
        fprintf(f, "%s\n", ds_fmt_time(b2, sizeof b2, d->misc.process_create_time));
    }
    fprintf(f, L, "Dump time:");
    fprintf(f, "%s\n", d->dump_time ? ds_fmt_time(b2, sizeof b2, d->dump_time) : "unknown");
    if (has_uptime(d)) {
        fprintf(f, L, "Process uptime:");
        fprintf(f, "%s\n",
                ds_fmt_duration(b2, sizeof b2,
                                (uint64_t)(d->dump_time - d->misc.process_create_time) * 1000));
    }
    if (d->misc.has_times) {
        fprintf(f, L, "Process times:");
        fprintf(f, "user %" PRIu32 " s, kernel %" PRIu32 " s\n", d->misc.process_user_time,
                d->misc.process_kernel_time);
    }
    fprintf(f, L, "Exception:");
    if (!d->exc.present) {
        fputs("none\n", f);
    } else {
        unsigned ps = d->sys.target_ptr_size ? d->sys.target_ptr_size : d->sys.ptr_size;
        if (d->format == DS_FMT_MINIDUMP)
            fprintf(f, "code 0x%08" PRIx32, d->exc.code);
        else
            fprintf(f, "signal %" PRIu32, d->exc.code);
        fprintf(f, " %s at %s, thread 0x%" PRIx32 " (%" PRIu32 ")\n",
                d->exc.name ? d->exc.name : "(unknown)",
                ds_fmt_addr(b2, sizeof b2, d->exc.address, ps), d->exc.tid, d->exc.tid);
        if (d->exc.nparams) {
            fprintf(f, L, "  Parameters:");
            for (uint32_t i = 0; i < d->exc.nparams && i < 15; i++)
                fprintf(f, "%s%s", i ? " " : "", ds_fmt_hex(b2, sizeof b2, d->exc.params[i]));
            fputc('\n', f);
        }
        if (d->format != DS_FMT_MINIDUMP) {
            fprintf(f, L, "  siginfo:");
            fprintf(f, "si_code %" PRId32 ", si_errno %" PRId32 ", fault_addr 0x%" PRIx64 "\n",
                    d->exc.si_code, d->exc.si_errno, d->exc.fault_addr);
        }
    }
    fprintf(f, L, "Threads:");
    fprintf(f, "%zu\n", d->nthreads);
    fprintf(f, L, "Modules:");
    fprintf(f, "%zu (%zu managed), %zu unloaded\n", d->nmodules, managed_count(d), d->nunloaded);
    fprintf(f, L, "Regions:");
    if (d->has_region_table)
        fprintf(f, "%zu\n", d->nregions);
    else
        fputs("no region table\n", f);
    if (d->has_handles) {
        fprintf(f, L, "Handles:");
        fprintf(f, "%zu\n", d->nhandles);
    }
    fprintf(f, L, "Memory:");
    fprintf(f, "%s captured in %zu ranges", ds_fmt_size(b2, sizeof b2, caps->captured_bytes),
            d->vm.n);
    if (caps->mapped_bytes)
        fprintf(f, ", %s mapped (%" PRIu64 " / %" PRIu64 " bytes)",
                ds_fmt_size(b3, sizeof b3, caps->mapped_bytes), caps->captured_bytes,
                caps->mapped_bytes);
    else
        fprintf(f, " (%" PRIu64 " bytes); mapped size unknown", caps->captured_bytes);
    fputc('\n', f);
    if (d->comment_a) {
        fprintf(f, L, "Comment:");
        fprintf(f, "%s\n", d->comment_a);
    }
    if (d->comment_w) {
        fprintf(f, L, "Comment (UTF-16):");
        fprintf(f, "%s\n", d->comment_w);
    }
    if (d->vmc.present) {
        fputs("\nVM counters:\n", f);
        fprintf(f, "  %-26s %" PRIu32 "\n", "Page fault count", d->vmc.page_fault_count);
        for (size_t i = 0; i < sizeof vmc_rows / sizeof vmc_rows[0]; i++) {
            uint64_t v = vmc_get(&d->vmc, vmc_rows[i].off);
            fprintf(f, "  %-26s %16s (%11s)\n", vmc_rows[i].label, ds_fmt_hex(b2, sizeof b2, v),
                    ds_fmt_size(b3, sizeof b3, v));
        }
    }
    bool notes = d->format != DS_FMT_MINIDUMP;
    fprintf(f, "\n%s (%zu):\n", notes ? "Notes" : "Streams", d->nstreams);
    if (d->nstreams)
        fprintf(f, "  %4s  %-10s  %-32s  %10s  %10s  %s\n", "#", "Type", "Name", "Offset", "Size",
                "Status");
    for (size_t i = 0; i < d->nstreams; i++) {
        const ds_stream *s = &d->streams[i];
        fprintf(f, "  %4zu  0x%08" PRIx32 "  %-32s  0x%08" PRIx64 "  %10" PRIu64 "  %s\n", i,
                s->type, s->name ? s->name : "unknown", s->offset, s->size, stream_status(s));
    }
    fputs("\nCapabilities:\n", f);
    for (int i = 0; i < DS_CAP_COUNT; i++) {
        const ds_capability *c = &caps->cap[i];
        fprintf(f, "  %-44s %-8s %s\n", c->title, ds_cap_level_name(c->level), c->reason);
    }
}

static cJSON *os_json(const ds_dump *d)
{
    cJSON *o = cJSON_CreateObject();
    char b[256];
    cJSON_AddStringToObject(o, "name", ds_os_name(d->sys.os));
    ds_json_add_uint(o, "major", d->sys.os_major);
    ds_json_add_uint(o, "minor", d->sys.os_minor);
    ds_json_add_uint(o, "build", d->sys.os_build);
    ds_json_add_str_or_null(o, "csd", d->sys.csd);
    ds_json_add_str_or_null(o, "text", d->sys.os_text);
    os_line(d, b, sizeof b);
    cJSON_AddStringToObject(o, "display", b);
    ds_json_add_uint(o, "platform_id", d->sys.platform_id);
    ds_json_add_uint(o, "product_type", d->sys.product_type);
    ds_json_add_uint(o, "suite_mask", d->sys.suite_mask);
    return o;
}

static cJSON *exc_json(const ds_dump *d)
{
    if (!d->exc.present)
        return cJSON_CreateNull();
    char b[DS_FMT_BUF];
    cJSON *o = cJSON_CreateObject();
    ds_json_add_uint(o, "thread_id", d->exc.tid);
    ds_json_add_uint(o, "code", d->exc.code);
    snprintf(b, sizeof b, "0x%08" PRIx32, d->exc.code);
    cJSON_AddStringToObject(o, "code_hex", b);
    cJSON_AddStringToObject(o, "kind", d->format == DS_FMT_MINIDUMP ? "exception" : "signal");
    ds_json_add_str_or_null(o, "name", d->exc.name);
    ds_json_add_uint(o, "flags", d->exc.flags);
    ds_json_add_addr(o, "address", d->exc.address);
    ds_json_add_addr(o, "record", d->exc.record);
    cJSON *p = cJSON_AddArrayToObject(o, "parameters");
    for (uint32_t i = 0; i < d->exc.nparams && i < 15; i++)
        cJSON_AddItemToArray(p,
                             cJSON_CreateString(ds_fmt_json_addr(b, sizeof b, d->exc.params[i])));
    if (d->format != DS_FMT_MINIDUMP) {
        cJSON *s = cJSON_AddObjectToObject(o, "siginfo");
        cJSON_AddNumberToObject(s, "si_code", d->exc.si_code);
        cJSON_AddNumberToObject(s, "si_errno", d->exc.si_errno);
        ds_json_add_addr(s, "fault_addr", d->exc.fault_addr);
    } else {
        cJSON_AddNullToObject(o, "siginfo");
    }
    return o;
}

cJSON *ds_info_json(const ds_dump *d, const ds_capabilities *caps)
{
    char b[256];
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "format", ds_format_key(d->format));
    ds_json_add_str_or_null(r, "format_name", d->format_name);
    ds_json_add_str_or_null(r, "producer", d->producer);
    static const char *kinds[] = {"unknown", "full", "with_heap", "mini", "triage", "kernel"};
    cJSON_AddStringToObject(r, "kind", (unsigned)d->kind < 6 ? kinds[d->kind] : "unknown");
    cJSON_AddStringToObject(r, "kind_display", ds_kind_name(d->kind));
    ds_json_add_str_or_null(r, "kind_reason", d->kind_reason);
    snprintf(b, sizeof b, "0x%" PRIx64, d->dump_flags);
    cJSON_AddStringToObject(r, "dump_flags", b);
    cJSON_AddStringToObject(r, "arch", ds_arch_name(d->sys.arch));
    cJSON_AddStringToObject(r, "arch_display", ds_arch_display(d, b, sizeof b));
    cJSON_AddBoolToObject(r, "wow64", d->sys.wow64);
    ds_json_add_uint(r, "ptr_size", d->sys.ptr_size);
    ds_json_add_uint(r, "target_ptr_size",
                     d->sys.target_ptr_size ? d->sys.target_ptr_size : d->sys.ptr_size);
    cJSON_AddItemToObject(r, "os", os_json(d));
    cJSON *cpu = cJSON_AddObjectToObject(r, "cpu");
    ds_json_add_uint(cpu, "count", d->sys.cpu_count);
    ds_json_add_str_or_null(cpu, "vendor", d->sys.cpu_vendor);
    ds_json_add_uint(cpu, "level", d->sys.cpu_level);
    ds_json_add_uint(cpu, "revision", d->sys.cpu_revision);
    uint32_t pid;
    if (has_pid(d, &pid))
        ds_json_add_uint(r, "pid", pid);
    else
        cJSON_AddNullToObject(r, "pid");
    if (d->lnx.has_prpsinfo) {
        cJSON *p = cJSON_AddObjectToObject(r, "process");
        ds_json_add_uint(p, "ppid", d->lnx.ppid);
        ds_json_add_uint(p, "uid", d->lnx.uid);
        ds_json_add_uint(p, "gid", d->lnx.gid);
        ds_json_add_str_or_null(p, "fname", d->lnx.fname);
        ds_json_add_str_or_null(p, "psargs", d->lnx.psargs);
    } else {
        cJSON_AddNullToObject(r, "process");
    }
    bool start = d->misc.has_times && d->misc.process_create_time;
    ds_json_add_str_or_null(r, "process_start_time",
                            start ? ds_fmt_time(b, sizeof b, d->misc.process_create_time) : NULL);
    ds_json_add_str_or_null(r, "dump_time",
                            d->dump_time ? ds_fmt_time(b, sizeof b, d->dump_time) : NULL);
    if (d->dump_time)
        ds_json_add_uint(r, "dump_time_unix", d->dump_time);
    else
        cJSON_AddNullToObject(r, "dump_time_unix");
    if (has_uptime(d)) {
        uint64_t ms = (uint64_t)(d->dump_time - d->misc.process_create_time) * 1000;
        ds_json_add_uint(r, "process_uptime_ms", ms);
        cJSON_AddStringToObject(r, "process_uptime", ds_fmt_duration(b, sizeof b, ms));
    } else {
        cJSON_AddNullToObject(r, "process_uptime_ms");
        cJSON_AddNullToObject(r, "process_uptime");
    }
    if (d->misc.has_times) {
        ds_json_add_uint(r, "process_user_time_s", d->misc.process_user_time);
        ds_json_add_uint(r, "process_kernel_time_s", d->misc.process_kernel_time);
    } else {
        cJSON_AddNullToObject(r, "process_user_time_s");
        cJSON_AddNullToObject(r, "process_kernel_time_s");
    }
    cJSON_AddItemToObject(r, "exception", exc_json(d));
    cJSON *c = cJSON_AddObjectToObject(r, "counts");
    ds_json_add_uint(c, "threads", d->nthreads);
    ds_json_add_uint(c, "modules", d->nmodules);
    ds_json_add_uint(c, "managed_modules", managed_count(d));
    ds_json_add_uint(c, "unloaded_modules", d->nunloaded);
    if (d->has_region_table)
        ds_json_add_uint(c, "regions", d->nregions);
    else
        cJSON_AddNullToObject(c, "regions");
    if (d->has_handles)
        ds_json_add_uint(c, "handles", d->nhandles);
    else
        cJSON_AddNullToObject(c, "handles");
    ds_json_add_uint(c, "memory_ranges", d->vm.n);
    ds_json_add_uint(c, "captured_bytes", caps->captured_bytes);
    if (caps->mapped_bytes)
        ds_json_add_uint(c, "mapped_bytes", caps->mapped_bytes);
    else
        cJSON_AddNullToObject(c, "mapped_bytes");
    cJSON *cm = cJSON_AddObjectToObject(r, "comments");
    ds_json_add_str_or_null(cm, "ansi", d->comment_a);
    ds_json_add_str_or_null(cm, "unicode", d->comment_w);
    if (d->vmc.present) {
        cJSON *v = cJSON_AddObjectToObject(r, "vm_counters");
        ds_json_add_uint(v, "revision", d->vmc.revision);
        ds_json_add_uint(v, "page_fault_count", d->vmc.page_fault_count);
        for (size_t i = 0; i < sizeof vmc_rows / sizeof vmc_rows[0]; i++)
            ds_json_add_uint(v, vmc_rows[i].key, vmc_get(&d->vmc, vmc_rows[i].off));
    } else {
        cJSON_AddNullToObject(r, "vm_counters");
    }
    cJSON_AddStringToObject(r, "streams_kind", d->format == DS_FMT_MINIDUMP ? "streams" : "notes");
    cJSON *st = cJSON_AddArrayToObject(r, "streams");
    for (size_t i = 0; i < d->nstreams; i++) {
        const ds_stream *s = &d->streams[i];
        cJSON *o = cJSON_CreateObject();
        ds_json_add_uint(o, "index", i);
        ds_json_add_uint(o, "type", s->type);
        ds_json_add_str_or_null(o, "name", s->name);
        ds_json_add_uint(o, "offset", s->offset);
        ds_json_add_uint(o, "size", s->size);
        cJSON_AddStringToObject(o, "status", stream_status(s));
        cJSON_AddItemToArray(st, o);
    }
    cJSON *cp = cJSON_AddArrayToObject(r, "capabilities");
    for (int i = 0; i < DS_CAP_COUNT; i++) {
        const ds_capability *k = &caps->cap[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", k->key);
        cJSON_AddStringToObject(o, "title", k->title);
        cJSON_AddStringToObject(o, "level", ds_cap_level_name(k->level));
        cJSON_AddStringToObject(o, "reason", k->reason);
        cJSON_AddItemToArray(cp, o);
    }
    return r;
}
