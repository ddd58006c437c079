/* dumpsleuth: private structures shared by the src/clr sources (MethodTable cache, name
 * resolution). */
#ifndef DS_CLR_PRIV_H
#define DS_CLR_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "dumpsleuth/clr.h"

/* The fields of a CoreCLR 2.x MethodTable (release build). */
typedef struct clr_mt_raw {
    uint32_t flags, base_size;
    uint16_t flags2, token, num_virtuals, num_interfaces;
    uint64_t parent, loader_module, writeable, eeclass_or_canon, per_inst_or_elem, interface_map;
} clr_mt_raw;

typedef struct clr_mt_entry {
    uint64_t mt;
    uint8_t state; /* 0 unchecked, 1 valid, 2 invalid */
    bool is_free;
    bool is_interface;
    bool name_done;
    uint32_t base_size, comp_size;
    clr_mt_raw raw;
    char *name; /* owned; NULL = unknown */
    char why[64];
} clr_mt_entry;

typedef struct clr_module_entry {
    uint64_t module;  /* Module* */
    uint64_t image;   /* PE image base (0 unknown) */
    char simple[128]; /* m_pSimpleName */
    void *meta;       /* ds_clrmeta*, NULL when unavailable */
    bool meta_disk;   /* meta is a --module-path file's (owned by the modpath state) */
    bool done;
} clr_module_entry;

typedef struct clr_priv {
    clr_mt_entry *v;
    size_t n, cap;
    clr_module_entry *mods;
    size_t nmods, capmods;
    void *modpath; /* --module-path state (modpath.c), NULL when not given */
} clr_priv;

clr_mt_entry *clr_mt_lookup(ds_clr_heap *h, uint64_t mt, bool create);
bool clr_read_mt(ds_clr_heap *h, uint64_t mt, clr_mt_raw *r);
void clr_names_free(clr_priv *p);
/* --module-path (modpath.c) */
void clr_modpath_init(ds_clr_heap *h, const char *spec, ds_diags *diags);
void clr_modpath_free(clr_priv *p);
/* Metadata from disk for the Module whose m_pSimpleName is name_va (simple: the name when the dump
 * has it). *meta stays owned by the modpath state; name gets the file's assembly name. */
bool clr_modpath_resolve(ds_clr_heap *h, uint64_t module, uint64_t name_va, const char *simple,
                         void **meta, char *name, size_t namesz);

#endif
