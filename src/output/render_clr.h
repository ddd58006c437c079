/* dumpsleuth: renderers for the managed-heap commands (eeheap, dumpheap, finalizequeue/fq/frq),
 * shaped like SOS's output, text and JSON from the same structures. */
#ifndef DS_OUTPUT_RENDER_CLR_H
#define DS_OUTPUT_RENDER_CLR_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/clr.h"

/* "Runtime: ..." block: module, version and its source, the route to the GC globals. */
void ds_clr_runtime_text(FILE *f, const ds_clr_runtime *rt);
cJSON *ds_clr_runtime_json(const ds_clr_runtime *rt);

/* eeheap -gc */
void ds_eeheap_text(FILE *f, const ds_clr_heap *h);
cJSON *ds_eeheap_json(const ds_clr_heap *h);

/* The walk's problems (bad objects, gaps): text goes to f, JSON is an object. */
void ds_clr_walk_text(FILE *f, const ds_clr_walk_stats *ws);
cJSON *ds_clr_walk_json(const ds_clr_walk_stats *ws);

/* SOS's statistics table: "Statistics:", MT/Count/TotalSize/Class Name rows, "Total N objects,
 * M bytes". */
void ds_clr_stats_text(FILE *f, const ds_clr_heap *h, const ds_clr_stats *s);
cJSON *ds_clr_stats_json(const ds_clr_stats *s);

/* dumpheap's object list (Address, MT, Size). */
typedef struct ds_clr_objlist {
    ds_clr_object *v;
    size_t n, cap;
} ds_clr_objlist;
void ds_clr_objects_text(FILE *f, const ds_clr_heap *h, const ds_clr_objlist *l);
cJSON *ds_clr_objects_json(const ds_clr_heap *h, const ds_clr_objlist *l);

/* finalizequeue: per heap the generation ranges and the ready-for-finalization range, then the
 * statistics (all finalizable objects, or the ready ones only for frq). */
void ds_finq_text(FILE *f, const ds_clr_heap *h, const ds_clr_finq *q, bool ready_only,
                  bool stat_only);
cJSON *ds_finq_json(const ds_clr_heap *h, const ds_clr_finq *q, bool ready_only);

#endif
