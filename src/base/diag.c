#include "dumpsleuth/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void ds_diags_init(ds_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void ds_diags_free(ds_diags *d)
{
    free(d->v);
    memset(d, 0, sizeof(*d));
}

static ds_diag *slot(ds_diags *d)
{
    size_t max = d->max_entries ? d->max_entries : 1000;
    if (d->n >= max || !ds_grow((void **)&d->v, &d->cap, d->n + 1, sizeof(ds_diag))) {
        d->dropped++;
        return NULL;
    }
    ds_diag *g = &d->v[d->n++];
    memset(g, 0, sizeof(*g));
    return g;
}

static void fill(ds_diag *g, ds_severity sev, const char *structure, const char *fmt, va_list ap)
{
    g->severity = sev;
    snprintf(g->structure, sizeof g->structure, "%s", structure ? structure : "");
    vsnprintf(g->message, sizeof g->message, fmt, ap);
}

void ds_diag_add(ds_diags *d, ds_severity sev, const char *structure, int has_offset,
                 uint64_t offset, const char *fmt, ...)
{
    if (!d)
        return;
    ds_diag *g = slot(d);
    if (!g)
        return;
    va_list ap;
    va_start(ap, fmt);
    fill(g, sev, structure, fmt, ap);
    va_end(ap);
    g->has_offset = has_offset;
    g->offset = offset;
}

void ds_diag_add_addr(ds_diags *d, ds_severity sev, const char *structure, uint64_t address,
                      const char *fmt, ...)
{
    if (!d)
        return;
    ds_diag *g = slot(d);
    if (!g)
        return;
    va_list ap;
    va_start(ap, fmt);
    fill(g, sev, structure, fmt, ap);
    va_end(ap);
    g->has_address = 1;
    g->address = address;
}

size_t ds_diags_count(const ds_diags *d, ds_severity min_sev)
{
    size_t c = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].severity >= min_sev)
            c++;
    return c;
}

const char *ds_status_str(ds_status s)
{
    switch (s) {
    case DS_OK:
        return "ok";
    case DS_E_NOMEM:
        return "out of memory";
    case DS_E_USAGE:
        return "usage error";
    case DS_E_IO:
        return "cannot read input";
    case DS_E_FORMAT:
        return "invalid or unrecognised dump";
    case DS_E_UNSUPPORTED:
        return "not supported for this dump";
    case DS_E_PARTIAL:
        return "partial results";
    case DS_E_NOTFOUND:
        return "not found";
    }
    return "unknown status";
}
