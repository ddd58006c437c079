/* dumpsleuth: rendering of dumpheap --strings (the most frequent System.String values). */
#ifndef DS_OUTPUT_RENDER_CLR_STRINGS_H
#define DS_OUTPUT_RENDER_CLR_STRINGS_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "dumpsleuth/clr.h"

/* "Count TotalSize Length Value" rows (descending total size), then the totals and, when it
 * applies, the cap / unreadable notes. */
void ds_clr_strings_text(FILE *f, const ds_clr_heap *h, const ds_clr_strings *s);
cJSON *ds_clr_strings_json(const ds_clr_strings *s);

#endif
