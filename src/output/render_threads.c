/* `threads`: one row per thread (WinDbg `~` plus TEB, stack range, priorities, PC/SP). */
#include <inttypes.h>
#include <string.h>

#include "output/format.h"
#include "output/render.h"

/* Stack range: from the TEB's NT_TIB when readable, else the captured stack memory. */
static const char *stack_range(const ds_thread *t, uint64_t *base, uint64_t *limit)
{
    if (t->has_tib && t->stack_base > t->stack_limit) {
        *base = t->stack_base;
        *limit = t->stack_limit;
        return "tib";
    }
    if (t->stack_size) {
        *limit = t->stack_start;
        *base = t->stack_start + t->stack_size;
        return "captured";
    }
    *base = *limit = 0;
    return NULL;
}

static bool is_exc_thread(const ds_dump *d, const ds_thread *t)
{
    return d->exc.present && d->exc.tid == t->tid;
}

static bool windows(const ds_dump *d)
{
    return d->sys.os == DS_OS_WINDOWS;
}

static const char *priority_class_name(uint32_t c)
{
    switch (c) {
    case 0x20:
        return "Normal";
    case 0x40:
        return "Idle";
    case 0x80:
        return "High";
    case 0x100:
        return "Realtime";
    case 0x4000:
        return "BelowNormal";
    case 0x8000:
        return "AboveNormal";
    }
    return "";
}

void ds_threads_text(FILE *f, const ds_dump *d)
{
    unsigned ps = d->sys.ptr_size ? d->sys.ptr_size : 8;
    int w = ps == 8 ? 17 : 10; /* 32-bit: 8 digits, but room for the column titles */
    bool win = windows(d), wow = d->sys.wow64;
    char a[DS_FMT_BUF], b[DS_FMT_BUF], c[DS_FMT_BUF], e[DS_FMT_BUF];
    /* header */
    fprintf(f, "  %4s  %-16s", "#", win ? "Id (hex/dec)" : "LWP (dec/hex)");
    if (win) {
        fprintf(f, "  %-*s", w, "TEB");
        if (wow)
            fprintf(f, "  %-10s", "TEB32");
    } else {
        fprintf(f, "  %-7s", "Signal");
    }
    fprintf(f, "  %-*s  %-*s  %-8s", w, "StackBase", w, "StackLimit", "(source)");
    if (win)
        fprintf(f, "  %4s  %-11s  %4s  %-24s", "Prio", "PrioClass", "Susp", "Created (UTC)");
    fprintf(f, "  %-*s  %-*s", w, "PC", win ? 0 : w, "SP");
    if (!win)
        fprintf(f, "  %s", "Name");
    fputc('\n', f);
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        char id[32];
        if (win)
            snprintf(id, sizeof id, "%" PRIx32 " (%" PRIu32 ")", t->tid, t->tid);
        else
            snprintf(id, sizeof id, "%" PRIu32 " (0x%" PRIx32 ")", t->tid, t->tid);
        fprintf(f, "%c %4zu  %-16s", is_exc_thread(d, t) ? '*' : ' ', i, id);
        if (win) {
            fprintf(f, "  %-*s", w, t->teb ? ds_fmt_addr(a, sizeof a, t->teb, ps) : "-");
            if (wow)
                fprintf(f, "  %-10s", t->teb32 ? ds_fmt_addr(a, sizeof a, t->teb32, 4) : "-");
        } else {
            char sig[16] = "-";
            if (t->signal)
                snprintf(sig, sizeof sig, "%" PRId32, t->signal);
            fprintf(f, "  %-7s", sig);
        }
        uint64_t sb, sl;
        const char *src = stack_range(t, &sb, &sl);
        fprintf(f, "  %-*s  %-*s  %-8s", w, src ? ds_fmt_addr(b, sizeof b, sb, ps) : "-", w,
                src ? ds_fmt_addr(c, sizeof c, sl, ps) : "-", src ? src : "-");
        if (win) {
            char created[DS_FMT_BUF];
            ds_fmt_filetime(created, sizeof created, t->has_info ? t->create_time : 0);
            char pc[24];
            snprintf(pc, sizeof pc, "%" PRIx32, t->priority_class);
            const char *pcn = priority_class_name(t->priority_class);
            fprintf(f, "  %4" PRIu32 "  %-11s  %4" PRIu32 "  %-24s", t->priority, *pcn ? pcn : pc,
                    t->suspend_count, created[0] ? created : "-");
        }
        fprintf(f, "  %-*s  %-*s", w, t->has_context ? ds_fmt_addr(a, sizeof a, t->pc, ps) : "-",
                win ? 0 : w, t->has_context ? ds_fmt_addr(e, sizeof e, t->sp, ps) : "-");
        if (!win && t->name[0])
            fprintf(f, "  %s", t->name);
        fputc('\n', f);
    }
}

cJSON *ds_threads_json(const ds_dump *d)
{
    char b[DS_FMT_BUF];
    bool win = windows(d);
    cJSON *r = cJSON_CreateObject();
    ds_json_add_uint(r, "count", d->nthreads);
    if (d->exc.present)
        ds_json_add_uint(r, "exception_thread_id", d->exc.tid);
    else
        cJSON_AddNullToObject(r, "exception_thread_id");
    cJSON *a = cJSON_AddArrayToObject(r, "threads");
    for (size_t i = 0; i < d->nthreads; i++) {
        const ds_thread *t = &d->threads[i];
        cJSON *o = cJSON_CreateObject();
        ds_json_add_uint(o, "index", i);
        ds_json_add_uint(o, "tid", t->tid);
        cJSON_AddBoolToObject(o, "exception_thread", is_exc_thread(d, t));
        ds_json_add_addr_or_null(o, "teb", t->teb != 0, t->teb);
        ds_json_add_addr_or_null(o, "teb32", t->teb32 != 0, t->teb32);
        uint64_t sb, sl;
        const char *src = stack_range(t, &sb, &sl);
        if (src) {
            cJSON *s = cJSON_AddObjectToObject(o, "stack");
            ds_json_add_addr(s, "base", sb);
            ds_json_add_addr(s, "limit", sl);
            ds_json_add_uint(s, "size", sb - sl);
            cJSON_AddStringToObject(s, "source", src);
        } else {
            cJSON_AddNullToObject(o, "stack");
        }
        if (t->stack_size) {
            cJSON *s = cJSON_AddObjectToObject(o, "stack_memory");
            ds_json_add_addr(s, "start", t->stack_start);
            ds_json_add_uint(s, "size", t->stack_size);
        } else {
            cJSON_AddNullToObject(o, "stack_memory");
        }
        if (win) {
            ds_json_add_uint(o, "priority", t->priority);
            ds_json_add_uint(o, "priority_class", t->priority_class);
            ds_json_add_str_or_null(o, "priority_class_name",
                                    priority_class_name(t->priority_class));
            ds_json_add_uint(o, "suspend_count", t->suspend_count);
        } else {
            cJSON_AddNullToObject(o, "priority");
            cJSON_AddNullToObject(o, "priority_class");
            cJSON_AddNullToObject(o, "priority_class_name");
            cJSON_AddNullToObject(o, "suspend_count");
        }
        bool ct = t->has_info && t->create_time;
        ds_json_add_str_or_null(o, "create_time",
                                ct ? ds_fmt_filetime(b, sizeof b, t->create_time) : NULL);
        ds_json_add_addr_or_null(o, "start_address", t->has_info && t->start_address,
                                 t->start_address);
        cJSON_AddBoolToObject(o, "has_context", t->has_context);
        ds_json_add_addr_or_null(o, "pc", t->has_context, t->pc);
        ds_json_add_addr_or_null(o, "sp", t->has_context, t->sp);
        ds_json_add_addr_or_null(o, "fp", t->has_context, t->fp);
        if (win) {
            cJSON_AddNullToObject(o, "signal");
            cJSON_AddNullToObject(o, "name");
        } else {
            if (t->signal)
                cJSON_AddNumberToObject(o, "signal", t->signal);
            else
                cJSON_AddNullToObject(o, "signal");
            ds_json_add_str_or_null(o, "name", t->name);
        }
        cJSON_AddItemToArray(a, o);
    }
    return r;
}
