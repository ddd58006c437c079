/* dumpsleuth: clrthreads output, shaped like SOS's !threads (counts, then one row per Thread:
 * DBG, ID, OSID, ThreadOBJ, State, GC Mode, GC Alloc Context, Domain, Lock Count, Apt, labels). */
#include "output/render_clrthreads.h"

#include <inttypes.h>

#include "output/render.h"

void ds_clrthreads_text(FILE *f, const ds_clr_runtime *rt, const ds_clr_threads *t)
{
    int w = rt->ptr == 4 ? 8 : 16;
    fprintf(f, "ThreadCount:      %" PRId32 "\n", t->thread_count);
    fprintf(f, "UnstartedThread:  %" PRId32 "\n", t->unstarted);
    fprintf(f, "BackgroundThread: %" PRId32 "\n", t->background);
    fprintf(f, "PendingThread:    %" PRId32 "\n", t->pending);
    fprintf(f, "DeadThread:       %" PRId32 "\n", t->dead);
    fprintf(f, "%*s Lock\n", 5 + 5 + 5 + w + 9 + 12 + 2 * w + 1 + w + 2, "");
    fprintf(f, " DBG   ID OSID %-*s    State GC Mode     %-*s %-*s Count Apt Exception\n", w,
            "ThreadOBJ", 2 * w + 1, "GC Alloc Context", w, "Domain");
    for (size_t i = 0; i < t->n; i++) {
        const ds_clr_thread *x = &t->v[i];
        char dbg[24], ac[64];
        if (x->dbg_index >= 0)
            snprintf(dbg, sizeof dbg, "%4ld", x->dbg_index);
        else
            snprintf(dbg, sizeof dbg, "XXXX");
        if (x->has_alloc)
            snprintf(ac, sizeof ac, "%0*" PRIX64 ":%0*" PRIX64, w, x->alloc_ptr, w, x->alloc_limit);
        else
            snprintf(ac, sizeof ac, "%s", "?");
        fprintf(f,
                "%4s %4" PRIu32 " %4" PRIx32 " %0*" PRIX64 " %8" PRIx32 " %-11s %-*s %0*" PRIX64
                " %-5" PRIu32 " %-3s",
                dbg, x->managed_id, x->os_id, w, x->addr, x->state,
                x->cooperative ? "Cooperative" : "Preemptive", 2 * w + 1, ac, w, x->domain,
                x->lock_count, ds_clr_thread_apartment(x->state));
        if (x->finalizer)
            fputs(" (Finalizer)", f);
        if (x->state & DS_CLR_TS_TP_WORKER)
            fputs(" (Threadpool Worker)", f);
        if (x->state & DS_CLR_TS_TP_COMPLETION_PORT)
            fputs(" (Threadpool Completion Port)", f);
        if (x->has_exc && x->exc_object)
            fprintf(f, " %s %0*" PRIx64, x->exc_type[0] ? x->exc_type : "UNKNOWN", w,
                    x->exc_object);
        fputc('\n', f);
    }
    fprintf(f, "\nThreadStore at 0x%" PRIx64 "; offsets: %s\n", t->thread_store,
            t->layout ? t->layout : "?");
    if (t->finalizer_source)
        fprintf(f, "Finalizer from %s\n", t->finalizer_source);
    if (!t->exc_verified)
        fprintf(f, "Exception column: not verified for this build (left empty)\n");
    if (t->truncated)
        fprintf(f, "Warning: the thread list was cut after %zu threads\n", t->n);
}

cJSON *ds_clrthreads_json(const ds_clr_runtime *rt, const ds_clr_threads *t)
{
    (void)rt;
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr(o, "thread_store", t->thread_store);
    ds_json_add_str_or_null(o, "layout", t->layout);
    cJSON_AddNumberToObject(o, "thread_count", t->thread_count);
    cJSON_AddNumberToObject(o, "unstarted", t->unstarted);
    cJSON_AddNumberToObject(o, "background", t->background);
    cJSON_AddNumberToObject(o, "pending", t->pending);
    cJSON_AddNumberToObject(o, "dead", t->dead);
    ds_json_add_addr_or_null(o, "finalizer_thread", t->finalizer != 0, t->finalizer);
    ds_json_add_str_or_null(o, "finalizer_source", t->finalizer_source);
    cJSON_AddBoolToObject(o, "truncated", t->truncated);
    cJSON_AddBoolToObject(o, "exception_verified", t->exc_verified);
    cJSON *a = cJSON_AddArrayToObject(o, "threads");
    for (size_t i = 0; i < t->n; i++) {
        const ds_clr_thread *x = &t->v[i];
        cJSON *r = cJSON_CreateObject();
        if (x->dbg_index >= 0)
            ds_json_add_uint(r, "dbg_index", (uint64_t)x->dbg_index);
        else
            cJSON_AddNullToObject(r, "dbg_index");
        ds_json_add_uint(r, "managed_id", x->managed_id);
        ds_json_add_uint(r, "os_id", x->os_id);
        ds_json_add_addr(r, "thread_obj", x->addr);
        ds_json_add_uint(r, "state", x->state);
        cJSON_AddStringToObject(r, "gc_mode", x->cooperative ? "cooperative" : "preemptive");
        ds_json_add_addr_or_null(r, "alloc_ptr", x->has_alloc, x->alloc_ptr);
        ds_json_add_addr_or_null(r, "alloc_limit", x->has_alloc, x->alloc_limit);
        ds_json_add_addr(r, "domain", x->domain);
        ds_json_add_uint(r, "lock_count", x->lock_count);
        cJSON_AddStringToObject(r, "apartment", ds_clr_thread_apartment(x->state));
        cJSON_AddBoolToObject(r, "background", (x->state & DS_CLR_TS_BACKGROUND) != 0);
        cJSON_AddBoolToObject(r, "finalizer", x->finalizer);
        cJSON_AddBoolToObject(r, "threadpool_worker", (x->state & DS_CLR_TS_TP_WORKER) != 0);
        if (x->has_exc && x->exc_object) {
            cJSON *e = cJSON_AddObjectToObject(r, "exception");
            ds_json_add_addr(e, "object", x->exc_object);
            ds_json_add_addr(e, "handle", x->exc_handle);
            ds_json_add_addr_or_null(e, "mt", x->exc_mt != 0, x->exc_mt);
            ds_json_add_str_or_null(e, "type", x->exc_type[0] ? x->exc_type : NULL);
        } else {
            cJSON_AddNullToObject(r, "exception");
        }
        cJSON_AddItemToArray(a, r);
    }
    return o;
}

void ds_clr_finalizer_line(FILE *f, const ds_clr_threads *t)
{
    const ds_clr_thread *x = ds_clr_threads_finalizer(t);
    if (!x)
        return;
    if (x->dbg_index >= 0)
        fprintf(f, "Finalizer thread: ~%ld (OSID %" PRIx32 ", managed id %" PRIu32 ")\n",
                x->dbg_index, x->os_id, x->managed_id);
    else
        fprintf(f, "Finalizer thread: ~? (OSID %" PRIx32 ", managed id %" PRIu32 ")\n", x->os_id,
                x->managed_id);
}
