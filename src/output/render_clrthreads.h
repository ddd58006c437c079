/* dumpsleuth: renderer of clrthreads (SOS !threads shape), text and JSON. */
#ifndef DS_OUTPUT_RENDER_CLRTHREADS_H
#define DS_OUTPUT_RENDER_CLRTHREADS_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/clr.h"

void ds_clrthreads_text(FILE *f, const ds_clr_runtime *rt, const ds_clr_threads *t);
cJSON *ds_clrthreads_json(const ds_clr_runtime *rt, const ds_clr_threads *t);
/* "Finalizer thread: ~N (OSID x, managed id y)" or nothing when unknown. */
void ds_clr_finalizer_line(FILE *f, const ds_clr_threads *t);

#endif
