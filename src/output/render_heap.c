/* Text and JSON for the heap command from the NT heap walker's structures (ntheap.h).
 * Text shapes follow real WinDbg output: !heap -s and !heap <h> -m as in the second seed article
 * (checked line by line in tests/unit/test_render_heap.c), -stat, -a and -x as in the public
 * samples listed in docs/commands/heap.md. */
#include "output/render_heap.h"

#include <inttypes.h>
#include <string.h>

#include "output/render.h"

/* ---- keys and small helpers ---- */

const char *ds_heap_kind_key(ds_heap_kind k)
{
    switch (k) {
    case DS_HEAP_NT:
        return "nt";
    case DS_HEAP_SEGMENT:
        return "segment";
    case DS_HEAP_NOT_NT:
        return "not_nt";
    case DS_HEAP_UNREADABLE:
        return "unreadable";
    }
    return "unknown";
}

const char *ds_heap_issue_key(ds_heap_issue_kind k)
{
    static const char *const names[] = {"checksum",      "size_chain", "bad_size",
                                        "list_cycle",    "list_link",  "not_in_dump",
                                        "bad_signature", "lfh",        "limit"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

const char *ds_heap_entry_kind_key(ds_heap_entry_kind k)
{
    static const char *const names[] = {"busy",    "free",     "internal",
                                        "virtual", "lfh_busy", "lfh_free"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

const char *ds_heap_layout_key(ds_heap_layout_group g)
{
    switch (g) {
    case DS_HEAP_LAYOUT_W7:
        return "w7";
    case DS_HEAP_LAYOUT_W8:
        return "w8";
    case DS_HEAP_LAYOUT_10B:
        return "10b";
    case DS_HEAP_LAYOUT_10C:
        return "10c";
    case DS_HEAP_LAYOUT_NONE:
        break;
    }
    return "none";
}

const char *ds_heap_stat_order_key(ds_heap_stat_order o)
{
    return o == DS_HEAP_STAT_BY_COUNT ? "count" : o == DS_HEAP_STAT_BY_SIZE ? "size" : "total";
}

uint64_t ds_heap_virt_bytes(const ds_heap *h)
{
    return h->counters.virtual_bytes;
}

/* A pointer as WinDbg's %p: 8 hex digits for 32-bit heaps, 16 for 64-bit ones. */
static const char *P(char *b, size_t n, uint64_t v, unsigned bits)
{
    if (bits == 32 && v <= 0xffffffffu)
        snprintf(b, n, "%08" PRIx64, v);
    else
        snprintf(b, n, "%016" PRIx64, v);
    return b;
}

static bool selected(const ds_heap_view *v, const ds_heap *h)
{
    return !v->only_heap || v->only_heap == h->addr;
}

void ds_heap_section_text(FILE *f, const ds_heap_set *s, const ds_heap *h, unsigned *last_bits)
{
    if (!s->wow64 || h->bits == *last_bits)
        return;
    *last_bits = h->bits;
    fprintf(f, "%s heaps (PEB%s at 0x%" PRIx64 "):\n", h->bits == 64 ? "64-bit" : "32-bit",
            h->bits == 64 ? "" : "32", h->bits == 64 ? s->peb : s->peb32);
}

static bool is_busy(const ds_heap_entry *e)
{
    return e->kind == DS_HEAP_ENTRY_BUSY || e->kind == DS_HEAP_ENTRY_INTERNAL ||
           e->kind == DS_HEAP_ENTRY_VIRTUAL || e->kind == DS_HEAP_ENTRY_LFH_BUSY;
}

static void json_hex32(cJSON *o, const char *key, uint32_t v)
{
    char b[16];
    snprintf(b, sizeof b, "0x%08" PRIx32, v);
    cJSON_AddStringToObject(o, key, b);
}

/* ---- issues and notes (shared by every mode) ---- */

static void issues_text(FILE *f, const ds_heap *h, const char *indent)
{
    char a[24];
    if (!h->nissues && !h->issues_truncated)
        return;
    fprintf(f, "%sIssues in heap %s (%zu%s):\n", indent, P(a, sizeof a, h->addr, h->bits),
            h->nissues, h->issues_truncated ? ", more not kept" : "");
    for (size_t i = 0; i < h->nissues; i++) {
        const ds_heap_issue *is = &h->issues[i];
        fprintf(f, "%s    %s at %s: %s\n", indent, ds_heap_issue_key(is->kind),
                P(a, sizeof a, is->addr, h->bits), is->detail);
    }
}

static cJSON *issues_json(const ds_heap *h)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < h->nissues; i++) {
        const ds_heap_issue *is = &h->issues[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", ds_heap_issue_key(is->kind));
        ds_json_add_addr(o, "address", is->addr);
        cJSON_AddStringToObject(o, "detail", is->detail);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void lfh_note_text(FILE *f, const ds_heap *h, const char *indent)
{
    if (h->kind == DS_HEAP_NT && h->lfh.present && !h->lfh.walked)
        fprintf(f, "%sLFH blocks not walked: %s\n", indent,
                h->lfh.why[0] ? h->lfh.why : "reason not recorded");
}

/* A heap that is not walked as an NT heap, in one line. */
static void not_nt_text(FILE *f, const ds_heap *h, const char *prefix)
{
    char a[24];
    const char *why = h->why[0] ? h->why : "no reason recorded";
    if (h->kind == DS_HEAP_UNREADABLE)
        fprintf(f, "%s%s not readable: %s\n", prefix, P(a, sizeof a, h->addr, h->bits), why);
    else if (h->kind == DS_HEAP_SEGMENT)
        fprintf(f, "%s%s segment heap (summary in the segment heap table)\n", prefix,
                P(a, sizeof a, h->addr, h->bits));
    else
        fprintf(f, "%s%s not an NT heap: %s\n", prefix, P(a, sizeof a, h->addr, h->bits), why);
}

/* ---- heap -s ---- */

static const char STARS[] = "*****************************************************************"
                            "*******************************************************";

static void nt_global_flag_text(FILE *f, uint32_t g)
{
    static const struct {
        uint32_t bit;
        const char *text;
    } aids[] = {{0x10, "tail checking"},
                {0x20, "free checking"},
                {0x40, "validate parameters"},
                {0x1000, "stack back traces"}};
    bool any = false;
    for (size_t i = 0; i < sizeof aids / sizeof aids[0]; i++)
        if (g & aids[i].bit) {
            if (!any)
                fprintf(f, "NtGlobalFlag enables following debugging aids for new heaps:\n");
            any = true;
            fprintf(f, "    %s\n", aids[i].text);
        }
}

static const ds_heap *lfh_key_heap(const ds_heap_set *s, unsigned bits)
{
    for (size_t i = 0; i < s->nheaps; i++)
        if (s->heaps[i].bits == bits && s->heaps[i].kind == DS_HEAP_NT &&
            s->heaps[i].lfh.key_recovered)
            return &s->heaps[i];
    return NULL;
}

/* The recovered LFH key; on 64-bit heaps only its low 32 bits are in the data. */
static uint64_t lfh_key_value(const ds_heap *h)
{
    return h->bits == 64 ? h->lfh.key & 0xffffffffu : h->lfh.key;
}

static const char *term_text(ds_heap_term t)
{
    return t == DS_HEAP_TERM_ENABLED ? "ENABLED" : t == DS_HEAP_TERM_DISABLED ? "DISABLED" : NULL;
}

static void summary_row(FILE *f, const ds_heap *h)
{
    char a[24];
    const ds_heap_counters *c = &h->counters;
    fprintf(f,
            "%s %08" PRIx32 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %5" PRIu32
            " %5" PRIu32 " %4" PRIu32 " %6" PRIx32 "   %s\n",
            P(a, sizeof a, h->addr, h->bits), h->flags, c->reserved / 1024, c->committed / 1024,
            ds_heap_virt_bytes(h) / 1024, c->free_bytes / 1024, c->free_list_length, c->ucrs,
            c->virtual_blocks, c->lock_collisions, h->frontend_type == 2 ? "LFH" : "   ");
}

static void summary_group(FILE *f, const ds_heap_view *v, unsigned bits)
{
    const ds_heap_set *s = v->set;
    const char *pad = bits == 64 ? "        " : "";
    size_t dashes = bits == 64 ? 85 : 77;
    if (s->wow64)
        fprintf(f, "%s heaps (PEB%s at 0x%" PRIx64 "):\n", bits == 64 ? "64-bit" : "32-bit",
                bits == 64 ? "" : "32", bits == 64 ? s->peb : s->peb32);
    const ds_heap *kh = lfh_key_heap(s, bits);
    if (kh && bits == 64) /* the LFH encodings use 32-bit XORs: only the low half is in the data */
        fprintf(f, "LFH Key                   : 0x%08" PRIx64 " (low 32 bits, from the LFH data)\n",
                lfh_key_value(kh));
    else if (kh)
        fprintf(f, "LFH Key                   : 0x%" PRIx64 "\n", kh->lfh.key);
    else
        fprintf(f, "LFH Key                   : unknown (ntdll!RtlpLFHKey needs symbols; not "
                   "recovered from the heaps)\n");
    const char *t = term_text(v->term);
    fprintf(f, "Termination on corruption : %s%s%s%s\n", t ? t : "unknown", v->term_why ? " (" : "",
            v->term_why ? v->term_why : "", v->term_why ? ")" : "");
    fprintf(f, "%s  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast \n",
            pad);
    fprintf(f, "%s                    (k)     (k)    (k)     (k) length      blocks cont. heap \n",
            pad);
    for (size_t i = 0; i < dashes; i++)
        fputc('-', f);
    fputc('\n', f);
    for (size_t i = 0; i < s->nheaps; i++) {
        const ds_heap *h = &s->heaps[i];
        if (h->bits != bits || !selected(v, h))
            continue;
        if (h->kind == DS_HEAP_NT)
            summary_row(f, h);
        else
            not_nt_text(f, h, "");
    }
    for (size_t i = 0; i < dashes; i++)
        fputc('-', f);
    fputc('\n', f);
}

static void segheap_table_text(FILE *f, const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    bool any = false;
    char a[24];
    for (size_t i = 0; i < s->nheaps; i++) {
        const ds_heap *h = &s->heaps[i];
        if (h->kind != DS_HEAP_SEGMENT || !selected(v, h))
            continue;
        if (!any) {
            fprintf(f, "\nSegment heaps (summary from _SEGMENT_HEAP; blocks are not walked):\n");
            fprintf(f, "%16s %8s %8s %8s %8s %8s %8s %8s %8s\n", "Heap", "Flags", "Reserv",
                    "Commit", "Free", "LFHfree", "LargeRes", "LargeCom", "Segments");
            fprintf(f, "%16s %8s %8s %8s %8s %8s %8s %8s %8s\n", "", "", "(k)", "(k)", "(k)", "(k)",
                    "(k)", "(k)", "");
            any = true;
        }
        const ds_heap_segheap *g = &h->seg;
        fprintf(f,
                "%16s %08" PRIx32 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                " %8" PRIu64 " %8" PRIu32 "\n",
                P(a, sizeof a, h->addr, h->bits), g->global_flags, g->reserved / 1024,
                g->committed / 1024, g->free_committed / 1024, g->lfh_free_committed / 1024,
                g->large_reserved / 1024, g->large_committed / 1024,
                g->segment_count[0] + g->segment_count[1]);
        if (g->nlarge || g->large_walked) {
            uint64_t lb = 0;
            for (size_t k = 0; k < g->nlarge; k++)
                lb += g->large_blocks[k].user_size;
            fprintf(f, "%16s   large blocks: %zu, %" PRIu64 " bytes requested%s\n", "", g->nlarge,
                    lb, g->large_walked ? "" : " (incomplete)");
        }
        if (g->not_walked[0])
            fprintf(f, "%16s   not walked: %s\n", "", g->not_walked);
    }
}

void ds_heap_summary_text(FILE *f, const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    /* WinDbg wraps the NT table in this banner from Windows 10 on (segment heaps get their own
     * section); Windows 7/8/8.1 outputs start with the LFH Key line (nt-heap.md section 3) */
    if (!s->os_build || s->os_build >= 10240) {
        fprintf(f, "%s\n", STARS);
        fprintf(f, "                                              NT HEAP STATS BELOW\n");
        fprintf(f, "%s\n", STARS);
    }
    nt_global_flag_text(f, s->nt_global_flag);
    bool has64 = false, has32 = false;
    for (size_t i = 0; i < s->nheaps; i++) {
        if (!selected(v, &s->heaps[i]))
            continue;
        if (s->heaps[i].bits == 64)
            has64 = true;
        else
            has32 = true;
    }
    if (has64)
        summary_group(f, v, 64);
    if (has64 && has32)
        fputc('\n', f);
    if (has32)
        summary_group(f, v, 32);
    if (!has64 && !has32)
        fprintf(f, "No heap in PEB.ProcessHeaps%s.\n", v->only_heap ? " matches --heap" : "");
    segheap_table_text(f, v);
    bool first = true;
    for (size_t i = 0; i < s->nheaps; i++) {
        const ds_heap *h = &s->heaps[i];
        if (!selected(v, h))
            continue;
        if ((h->nissues || h->issues_truncated || (h->lfh.present && !h->lfh.walked)) && first) {
            fputc('\n', f);
            first = false;
        }
        issues_text(f, h, "");
        if (h->lfh.present && !h->lfh.walked && h->kind == DS_HEAP_NT) {
            char a[24];
            fprintf(f, "Heap %s: ", P(a, sizeof a, h->addr, h->bits));
            lfh_note_text(f, h, "");
        }
    }
}

static cJSON *segheap_json(const ds_heap_segheap *g)
{
    cJSON *o = cJSON_CreateObject();
    json_hex32(o, "global_flags", g->global_flags);
    ds_json_add_uint(o, "reserved", g->reserved);
    ds_json_add_uint(o, "committed", g->committed);
    ds_json_add_uint(o, "free_committed", g->free_committed);
    ds_json_add_uint(o, "lfh_free_committed", g->lfh_free_committed);
    ds_json_add_uint(o, "large_reserved", g->large_reserved);
    ds_json_add_uint(o, "large_committed", g->large_committed);
    cJSON *sc = cJSON_AddArrayToObject(o, "segment_count");
    cJSON_AddItemToArray(sc, cJSON_CreateNumber(g->segment_count[0]));
    cJSON_AddItemToArray(sc, cJSON_CreateNumber(g->segment_count[1]));
    ds_json_add_str_or_null(o, "not_walked", g->not_walked[0] ? g->not_walked : NULL);
    cJSON_AddBoolToObject(o, "large_walked", g->large_walked);
    ds_json_add_str_or_null(o, "large_why", g->large_why[0] ? g->large_why : NULL);
    cJSON *lb = cJSON_AddArrayToObject(o, "large_blocks");
    for (size_t i = 0; i < g->nlarge; i++) {
        const ds_heap_large_block *b = &g->large_blocks[i];
        cJSON *bo = cJSON_CreateObject();
        ds_json_add_addr(bo, "address", b->addr);
        ds_json_add_uint(bo, "allocated_pages", b->allocated_pages);
        ds_json_add_uint(bo, "unused", b->unused);
        ds_json_add_uint(bo, "user_size", b->user_size);
        cJSON_AddItemToArray(lb, bo);
    }
    return o;
}

/* The fields every mode gives for a heap. */
static cJSON *heap_base_json(const ds_heap *h)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr(o, "address", h->addr);
    ds_json_add_uint(o, "bits", h->bits);
    ds_json_add_uint(o, "index", (uint64_t)h->index + 1);
    cJSON_AddBoolToObject(o, "process_heap", h->process_heap);
    cJSON_AddStringToObject(o, "kind", ds_heap_kind_key(h->kind));
    ds_json_add_str_or_null(o, "reason", h->kind != DS_HEAP_NT && h->why[0] ? h->why : NULL);
    ds_json_add_str_or_null(
        o, "layout", h->layout != DS_HEAP_LAYOUT_NONE ? ds_heap_layout_key(h->layout) : NULL);
    ds_json_add_str_or_null(o, "layout_name", h->layout_name[0] ? h->layout_name : NULL);
    return o;
}

static void heap_issues_json(cJSON *o, const ds_heap *h)
{
    cJSON_AddItemToObject(o, "issues", issues_json(h));
    cJSON_AddBoolToObject(o, "issues_truncated", h->issues_truncated);
}

static cJSON *lfh_json(const ds_heap *h)
{
    if (h->kind != DS_HEAP_NT)
        return cJSON_CreateNull();
    const ds_heap_lfh *l = &h->lfh;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "present", l->present);
    ds_json_add_addr_or_null(o, "frontend", l->present, l->frontend);
    cJSON_AddBoolToObject(o, "walked", l->walked);
    ds_json_add_str_or_null(o, "not_walked_reason", !l->walked && l->why[0] ? l->why : NULL);
    ds_json_add_addr_or_null(o, "key", l->key_recovered, lfh_key_value(h));
    ds_json_add_uint(o, "subsegments", l->nsubsegments);
    ds_json_add_uint(o, "busy_blocks", l->busy_blocks);
    ds_json_add_uint(o, "busy_bytes", l->busy_bytes);
    ds_json_add_uint(o, "free_blocks", l->free_blocks);
    ds_json_add_uint(o, "free_bytes", l->free_bytes);
    return o;
}

static cJSON *heap_summary_json(const ds_heap *h)
{
    cJSON *o = heap_base_json(h);
    bool nt = h->kind == DS_HEAP_NT;
    if (nt) {
        const ds_heap_counters *c = &h->counters;
        json_hex32(o, "flags", h->flags);
        json_hex32(o, "force_flags", h->force_flags);
        ds_json_add_uint(o, "granularity", h->granularity);
        cJSON_AddBoolToObject(o, "encoded", h->encoded);
        ds_json_add_uint(o, "reserved", c->reserved);
        ds_json_add_uint(o, "committed", c->committed);
        ds_json_add_uint(o, "large_ucr", c->large_ucr);
        ds_json_add_uint(o, "virtual", ds_heap_virt_bytes(h));
        ds_json_add_uint(o, "free", c->free_bytes);
        ds_json_add_uint(o, "free_list_length", c->free_list_length);
        ds_json_add_uint(o, "ucr_count", c->ucrs);
        ds_json_add_uint(o, "virtual_blocks", c->virtual_blocks);
        ds_json_add_uint(o, "lock_contention", c->lock_collisions);
        ds_json_add_uint(o, "total_segments", c->total_segments);
        cJSON_AddBoolToObject(o, "lfh_active", h->frontend_type == 2);
        ds_json_add_uint(o, "frontend_type", h->frontend_type);
        ds_json_add_uint(o, "segments", h->nsegments);
        ds_json_add_uint(o, "busy_blocks", h->busy_blocks);
        ds_json_add_uint(o, "busy_bytes", h->busy_bytes);
        ds_json_add_uint(o, "free_blocks", h->free_blocks);
        ds_json_add_uint(o, "free_bytes", h->free_bytes);
        ds_json_add_uint(o, "internal_blocks", h->internal_blocks);
    }
    cJSON_AddItemToObject(o, "lfh", lfh_json(h));
    cJSON_AddItemToObject(o, "segment_heap",
                          h->kind == DS_HEAP_SEGMENT ? segheap_json(&h->seg) : cJSON_CreateNull());
    heap_issues_json(o, h);
    return o;
}

static void set_json(cJSON *o, const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    ds_json_add_uint(o, "os_build", s->os_build);
    ds_json_add_str_or_null(
        o, "layout_hint",
        s->layout_hint != DS_HEAP_LAYOUT_NONE ? ds_heap_layout_key(s->layout_hint) : NULL);
    cJSON_AddBoolToObject(o, "wow64", s->wow64);
    ds_json_add_addr_or_null(o, "peb", s->peb != 0, s->peb);
    ds_json_add_addr_or_null(o, "peb32", s->peb32 != 0, s->peb32);
    json_hex32(o, "nt_global_flag", s->nt_global_flag);
    ds_json_add_addr_or_null(o, "only_heap", v->only_heap != 0, v->only_heap);
}

cJSON *ds_heap_summary_json(const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", "summary");
    set_json(o, v);
    const char *t = term_text(v->term);
    if (t)
        cJSON_AddStringToObject(o, "termination_on_corruption",
                                v->term == DS_HEAP_TERM_ENABLED ? "enabled" : "disabled");
    else
        cJSON_AddNullToObject(o, "termination_on_corruption");
    bool has64 = false;
    for (size_t i = 0; i < s->nheaps; i++)
        has64 |= s->heaps[i].bits == 64;
    const ds_heap *km = lfh_key_heap(s, has64 ? 64 : 32), *k32 = lfh_key_heap(s, 32);
    ds_json_add_addr_or_null(o, "lfh_key", km != NULL, km ? lfh_key_value(km) : 0);
    ds_json_add_addr_or_null(o, "lfh_key32", s->wow64 && k32, k32 ? lfh_key_value(k32) : 0);
    cJSON *arr = cJSON_AddArrayToObject(o, "heaps");
    for (size_t i = 0; i < s->nheaps; i++)
        if (selected(v, &s->heaps[i]))
            cJSON_AddItemToArray(arr, heap_summary_json(&s->heaps[i]));
    return o;
}

/* ---- heap -m ---- */

static void hf_line(FILE *f, const ds_heap *h, unsigned bit, const char *label, const char *val)
{
    fprintf(f, "    %-22s%s\n", label, (h->hdr.have & bit) ? val : "(not read)");
}

static void header_block_text(FILE *f, const ds_heap *h)
{
    char b[40], a[24];
    const ds_heap_header_fields *x = &h->hdr;
    fprintf(f, "    Flags:                %08" PRIx32 "\n", h->flags);
    fprintf(f, "    ForceFlags:           %08" PRIx32 "\n", h->force_flags);
    fprintf(f, "    Granularity:          %" PRIu32 " bytes\n", h->granularity);
    fprintf(f, "    Segment Reserve:      %08" PRIx64 "\n", h->segment_reserve);
    fprintf(f, "    Segment Commit:       %08" PRIx64 "\n", h->segment_commit);
    snprintf(b, sizeof b, "%08" PRIx64, x->decommit_block_threshold);
    hf_line(f, h, DS_HEAP_HF_DECOMMIT, "DeCommit Block Thres:", b);
    snprintf(b, sizeof b, "%08" PRIx64, x->decommit_total_threshold);
    hf_line(f, h, DS_HEAP_HF_DECOMMIT, "DeCommit Total Thres:", b);
    fprintf(f, "    Total Free Size:      %08" PRIx64 "\n",
            h->granularity ? h->counters.free_bytes / h->granularity : 0);
    hf_line(f, h, DS_HEAP_HF_MAX_ALLOC,
            "Max. Allocation Size:", P(a, sizeof a, x->maximum_allocation_size, h->bits));
    hf_line(f, h, DS_HEAP_HF_LOCK, "Lock Variable at:", P(a, sizeof a, x->lock_variable, h->bits));
    snprintf(b, sizeof b, "%04" PRIx16, x->next_tag_index);
    hf_line(f, h, DS_HEAP_HF_TAGS, "Next TagIndex:", b);
    snprintf(b, sizeof b, "%04" PRIx16, x->maximum_tag_index);
    hf_line(f, h, DS_HEAP_HF_TAGS, "Maximum TagIndex:", b);
    hf_line(f, h, DS_HEAP_HF_TAG_ENTRIES, "Tag Entries:", P(a, sizeof a, x->tag_entries, h->bits));
    hf_line(f, h, DS_HEAP_HF_PSEUDO_TAGS,
            "PsuedoTag Entries:", P(a, sizeof a, x->pseudo_tag_entries, h->bits));
    hf_line(f, h, DS_HEAP_HF_VA_LIST,
            "Virtual Alloc List:", P(a, sizeof a, x->va_list_head, h->bits));
}

static void vblock_text(FILE *f, const ds_heap *h, const ds_heap_vblock *vb)
{
    char a[24];
    fprintf(f, "        %s: %08" PRIx64 " [commited %" PRIx64 ", unused %" PRIx64 "] - busy",
            P(a, sizeof a, vb->addr, h->bits), vb->user_size, vb->commit_size, vb->unused);
    if (vb->flags)
        fprintf(f, " (%x)", vb->flags);
    fputc('\n', f);
}

/* A segment heap's large blocks (LargeAllocMetadata), in address order. */
static void large_blocks_text(FILE *f, const ds_heap *h)
{
    char a[24];
    const ds_heap_segheap *g = &h->seg;
    if (g->nlarge)
        fprintf(f, "    Large blocks (LargeAllocMetadata):\n");
    for (size_t i = 0; i < g->nlarge; i++) {
        const ds_heap_large_block *b = &g->large_blocks[i];
        fprintf(f, "        %s: %08" PRIx64 " [pages %" PRIx64 ", unused %" PRIx32 "] - busy\n",
                P(a, sizeof a, b->addr, h->bits), b->user_size, b->allocated_pages, b->unused);
    }
    if (!g->large_walked)
        fprintf(f, "    Large blocks not (completely) walked: %s\n",
                g->large_why[0] ? g->large_why : "reason not recorded");
}

/* Index line, segments, header block, VirtualAlloc list (with_va). */
static void heap_m_text(FILE *f, const ds_heap *h, bool with_va)
{
    char a[24], b[24];
    fprintf(f, "%3u:   %08" PRIx64 " \n", h->index + 1, h->addr);
    if (h->kind != DS_HEAP_NT) {
        if (h->kind != DS_HEAP_SEGMENT)
            not_nt_text(f, h, "    ");
        if (h->kind == DS_HEAP_SEGMENT) {
            const ds_heap_segheap *g = &h->seg;
            fprintf(f,
                    "    Segment heap (_SEGMENT_HEAP): reserved %08" PRIx64 ", committed %08" PRIx64
                    ", large blocks reserved %08" PRIx64 ", committed %08" PRIx64 "\n",
                    g->reserved, g->committed, g->large_reserved, g->large_committed);
            if (g->not_walked[0])
                fprintf(f, "    Not walked: %s\n", g->not_walked);
            large_blocks_text(f, h);
        }
        issues_text(f, h, "    ");
        return;
    }
    for (size_t i = 0; i < h->nsegments; i++) {
        const ds_heap_segment *s = &h->segments[i];
        fprintf(f, "    Segment at %s to %s (%08" PRIx64 " bytes committed)\n",
                P(a, sizeof a, s->base, h->bits), P(b, sizeof b, s->last_valid_entry, h->bits),
                s->committed);
    }
    header_block_text(f, h);
    if (with_va)
        for (size_t i = 0; i < h->nvblocks; i++)
            vblock_text(f, h, &h->vblocks[i]);
    lfh_note_text(f, h, "    ");
    issues_text(f, h, "    ");
}

static void index_header(FILE *f)
{
    fprintf(f, "Index   Address  Name      Debugging options enabled\n");
}

void ds_heap_segments_text(FILE *f, const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    bool any = false;
    unsigned last = 0;
    index_header(f);
    for (size_t i = 0; i < s->nheaps; i++)
        if (selected(v, &s->heaps[i])) {
            ds_heap_section_text(f, s, &s->heaps[i], &last);
            heap_m_text(f, &s->heaps[i], true);
            any = true;
        }
    if (!any)
        fprintf(f, "No heap in PEB.ProcessHeaps%s.\n", v->only_heap ? " matches --heap" : "");
}

static cJSON *segment_json(const ds_heap_segment *s)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr(o, "address", s->addr);
    ds_json_add_addr(o, "base", s->base);
    ds_json_add_addr(o, "first_entry", s->first_entry);
    ds_json_add_addr(o, "last_valid_entry", s->last_valid_entry);
    ds_json_add_uint(o, "pages", s->pages);
    ds_json_add_uint(o, "uncommitted_pages", s->uncommitted_pages);
    ds_json_add_uint(o, "ucr_count", s->ucr_count);
    ds_json_add_uint(o, "committed", s->committed);
    ds_json_add_uint(o, "largest_ucr", s->largest_ucr);
    cJSON *u = cJSON_AddArrayToObject(o, "ucrs");
    for (size_t i = 0; i < s->nucrs; i++) {
        cJSON *r = cJSON_CreateObject();
        ds_json_add_addr(r, "address", s->ucrs[i].addr);
        ds_json_add_uint(r, "size", s->ucrs[i].size);
        cJSON_AddItemToArray(u, r);
    }
    return o;
}

static cJSON *vblock_json(const ds_heap_vblock *vb)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr(o, "address", vb->addr);
    ds_json_add_addr(o, "user", vb->user);
    ds_json_add_uint(o, "commit_size", vb->commit_size);
    ds_json_add_uint(o, "reserve_size", vb->reserve_size);
    ds_json_add_uint(o, "unused", vb->unused);
    ds_json_add_uint(o, "user_size", vb->user_size);
    if (vb->flags)
        ds_json_add_uint(o, "flags", vb->flags);
    else
        cJSON_AddNullToObject(o, "flags");
    return o;
}

static void hf_json(cJSON *o, const ds_heap *h, unsigned bit, const char *key, uint64_t v,
                    bool addr)
{
    if (!(h->hdr.have & bit))
        cJSON_AddNullToObject(o, key);
    else if (addr)
        ds_json_add_addr(o, key, v);
    else
        ds_json_add_uint(o, key, v);
}

static cJSON *heap_m_json(const ds_heap *h)
{
    cJSON *o = heap_base_json(h);
    if (h->kind == DS_HEAP_NT) {
        const ds_heap_header_fields *x = &h->hdr;
        json_hex32(o, "flags", h->flags);
        json_hex32(o, "force_flags", h->force_flags);
        ds_json_add_uint(o, "granularity", h->granularity);
        ds_json_add_uint(o, "segment_reserve", h->segment_reserve);
        ds_json_add_uint(o, "segment_commit", h->segment_commit);
        hf_json(o, h, DS_HEAP_HF_DECOMMIT, "decommit_block_threshold", x->decommit_block_threshold,
                false);
        hf_json(o, h, DS_HEAP_HF_DECOMMIT, "decommit_total_threshold", x->decommit_total_threshold,
                false);
        ds_json_add_uint(o, "total_free_size",
                         h->granularity ? h->counters.free_bytes / h->granularity : 0);
        hf_json(o, h, DS_HEAP_HF_MAX_ALLOC, "maximum_allocation_size", x->maximum_allocation_size,
                false);
        hf_json(o, h, DS_HEAP_HF_LOCK, "lock_variable", x->lock_variable, true);
        hf_json(o, h, DS_HEAP_HF_TAGS, "next_tag_index", x->next_tag_index, false);
        hf_json(o, h, DS_HEAP_HF_TAGS, "maximum_tag_index", x->maximum_tag_index, false);
        hf_json(o, h, DS_HEAP_HF_TAG_ENTRIES, "tag_entries", x->tag_entries, true);
        hf_json(o, h, DS_HEAP_HF_PSEUDO_TAGS, "pseudo_tag_entries", x->pseudo_tag_entries, true);
        hf_json(o, h, DS_HEAP_HF_VA_LIST, "virtual_alloc_list", x->va_list_head, true);
        ds_json_add_uint(o, "vm_threshold", h->vm_threshold);
        cJSON_AddBoolToObject(o, "encoded", h->encoded);
        cJSON *segs = cJSON_AddArrayToObject(o, "segments");
        for (size_t i = 0; i < h->nsegments; i++)
            cJSON_AddItemToArray(segs, segment_json(&h->segments[i]));
        cJSON *vbs = cJSON_AddArrayToObject(o, "virtual_blocks");
        for (size_t i = 0; i < h->nvblocks; i++)
            cJSON_AddItemToArray(vbs, vblock_json(&h->vblocks[i]));
    }
    cJSON_AddItemToObject(o, "lfh", lfh_json(h));
    cJSON_AddItemToObject(o, "segment_heap",
                          h->kind == DS_HEAP_SEGMENT ? segheap_json(&h->seg) : cJSON_CreateNull());
    heap_issues_json(o, h);
    return o;
}

cJSON *ds_heap_segments_json(const ds_heap_view *v)
{
    const ds_heap_set *s = v->set;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", "segments");
    set_json(o, v);
    cJSON *arr = cJSON_AddArrayToObject(o, "heaps");
    for (size_t i = 0; i < s->nheaps; i++)
        if (selected(v, &s->heaps[i]))
            cJSON_AddItemToArray(arr, heap_m_json(&s->heaps[i]));
    return o;
}

/* ---- heap -a ---- */

static bool entry_matches(const ds_heap_entry *e, const ds_heap_entry_filter *flt)
{
    bool busy = is_busy(e);
    if ((flt->busy || flt->free) && !((flt->busy && busy) || (flt->free && !busy)))
        return false;
    if (e->user_size < flt->min_size)
        return false;
    if (flt->max_size && e->user_size > flt->max_size)
        return false;
    return true;
}

static bool filtering(const ds_heap_entry_filter *flt)
{
    return flt->busy || flt->free || flt->min_size || flt->max_size;
}

static void entry_line(FILE *f, const ds_heap *h, const ds_heap_entry *e)
{
    char a[24];
    P(a, sizeof a, e->addr, h->bits);
    switch ((ds_heap_entry_kind)e->kind) {
    case DS_HEAP_ENTRY_BUSY:
    case DS_HEAP_ENTRY_INTERNAL:
        fprintf(f, "        %s: %05" PRIx64 " . %05" PRIx64 " [%02x] - busy (%" PRIx64 ")%s\n", a,
                e->prev_size, e->size, e->flags, e->user_size,
                e->kind == DS_HEAP_ENTRY_INTERNAL ? " Internal" : "");
        break;
    case DS_HEAP_ENTRY_FREE:
        fprintf(f, "        %s: %05" PRIx64 " . %05" PRIx64 " [%02x] - free\n", a, e->prev_size,
                e->size, e->flags);
        break;
    case DS_HEAP_ENTRY_VIRTUAL:
        fprintf(
            f, "        %s: %08" PRIx64 " [commited %" PRIx64 ", unused %" PRIx64 "] - busy (%x)\n",
            a, e->user_size, e->size, (uint64_t)e->unused, e->flags);
        break;
    case DS_HEAP_ENTRY_LFH_BUSY:
        fprintf(f, "        %s: %05" PRIx64 " - busy (%" PRIx64 ")\n", a, e->size, e->user_size);
        break;
    case DS_HEAP_ENTRY_LFH_FREE:
        fprintf(f, "        %s: %05" PRIx64 " - free\n", a, e->size);
        break;
    }
}

typedef struct entry_walk {
    const ds_heap_entry_filter *flt;
    size_t shown, matching;
} entry_walk;

static void show_entry(FILE *f, const ds_heap *h, const ds_heap_entry *e, entry_walk *w)
{
    if (!entry_matches(e, w->flt))
        return;
    w->matching++;
    if (w->flt->limit && w->shown >= w->flt->limit)
        return;
    w->shown++;
    entry_line(f, h, e);
}

/* The --limit is reached: uncommitted-range lines stop too. */
static bool full(const entry_walk *w)
{
    return w->flt->limit && w->shown >= w->flt->limit;
}

static void heap_entries_text(FILE *f, const ds_heap *h, entry_walk *w)
{
    char a[24], b[24];
    bool filt = filtering(w->flt);
    heap_m_text(f, h, false);
    if (h->kind != DS_HEAP_NT)
        return;
    const char *pad = h->bits == 64 ? "        " : "";
    for (size_t si = 0; si < h->nsegments; si++) {
        const ds_heap_segment *s = &h->segments[si];
        fprintf(f, "\n    Heap entries for Segment%02zu in Heap %s\n", si,
                P(a, sizeof a, h->addr, h->bits));
        fprintf(f, "         %saddress: psize . size  flags   state (requested size)\n", pad);
        size_t u = 0;
        for (size_t i = 0; i < h->nentries; i++) {
            const ds_heap_entry *e = &h->entries[i];
            if (e->segment != si || e->kind == DS_HEAP_ENTRY_VIRTUAL ||
                e->kind == DS_HEAP_ENTRY_LFH_BUSY || e->kind == DS_HEAP_ENTRY_LFH_FREE)
                continue;
            for (; u < s->nucrs && s->ucrs[u].addr <= e->addr; u++)
                if (!filt && !full(w))
                    fprintf(f, "        %s:      %08" PRIx64 "      - uncommitted bytes.\n",
                            P(b, sizeof b, s->ucrs[u].addr, h->bits), s->ucrs[u].size);
            show_entry(f, h, e, w);
        }
        for (; u < s->nucrs; u++)
            if (!filt && !full(w))
                fprintf(f, "        %s:      %08" PRIx64 "      - uncommitted bytes.\n",
                        P(b, sizeof b, s->ucrs[u].addr, h->bits), s->ucrs[u].size);
    }
    bool va = false, lfh = false;
    for (size_t i = 0; i < h->nentries; i++) {
        const ds_heap_entry *e = &h->entries[i];
        if (e->kind != DS_HEAP_ENTRY_VIRTUAL || !entry_matches(e, w->flt))
            continue;
        if (!va)
            fprintf(f, "\n    Virtual Alloc blocks in Heap %s\n", P(a, sizeof a, h->addr, h->bits));
        va = true;
        show_entry(f, h, e, w);
    }
    for (size_t i = 0; i < h->nentries; i++) {
        const ds_heap_entry *e = &h->entries[i];
        if ((e->kind != DS_HEAP_ENTRY_LFH_BUSY && e->kind != DS_HEAP_ENTRY_LFH_FREE) ||
            !entry_matches(e, w->flt))
            continue;
        if (!lfh)
            fprintf(f, "\n    LFH blocks in Heap %s\n", P(a, sizeof a, h->addr, h->bits));
        lfh = true;
        show_entry(f, h, e, w);
    }
}

void ds_heap_entries_text(FILE *f, const ds_heap_view *v, const ds_heap_entry_filter *flt)
{
    const ds_heap_set *s = v->set;
    entry_walk w = {flt, 0, 0};
    bool any = false;
    unsigned last = 0;
    index_header(f);
    for (size_t i = 0; i < s->nheaps; i++)
        if (selected(v, &s->heaps[i])) {
            if (any)
                fputc('\n', f);
            ds_heap_section_text(f, s, &s->heaps[i], &last);
            heap_entries_text(f, &s->heaps[i], &w);
            any = true;
        }
    if (!any)
        fprintf(f, "No heap in PEB.ProcessHeaps%s.\n", v->only_heap ? " matches --heap" : "");
    if (w.matching > w.shown)
        fprintf(f, "\n%zu of %zu matching entries shown (--limit %zu).\n", w.shown, w.matching,
                flt->limit);
}

static cJSON *entry_json(const ds_heap_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    ds_json_add_addr(o, "address", e->addr);
    ds_json_add_addr(o, "user", e->user);
    cJSON_AddStringToObject(o, "kind", ds_heap_entry_kind_key((ds_heap_entry_kind)e->kind));
    cJSON_AddBoolToObject(o, "busy", is_busy(e));
    ds_json_add_uint(o, "size", e->size);
    ds_json_add_uint(o, "prev_size", e->prev_size);
    ds_json_add_uint(o, "user_size", e->user_size);
    ds_json_add_uint(o, "unused", e->unused);
    ds_json_add_uint(o, "flags", e->flags);
    if (e->segment == 0xffff)
        cJSON_AddNullToObject(o, "segment");
    else
        ds_json_add_uint(o, "segment", e->segment);
    return o;
}

cJSON *ds_heap_entries_json(const ds_heap_view *v, const ds_heap_entry_filter *flt)
{
    const ds_heap_set *s = v->set;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", "entries");
    set_json(o, v);
    cJSON *fj = cJSON_AddObjectToObject(o, "filter");
    cJSON_AddBoolToObject(fj, "busy", flt->busy);
    cJSON_AddBoolToObject(fj, "free", flt->free);
    ds_json_add_uint(fj, "min_size", flt->min_size);
    if (flt->max_size)
        ds_json_add_uint(fj, "max_size", flt->max_size);
    else
        cJSON_AddNullToObject(fj, "max_size");
    ds_json_add_uint(fj, "limit", flt->limit);
    cJSON *arr = cJSON_AddArrayToObject(o, "heaps");
    size_t shown = 0, matching = 0;
    for (size_t i = 0; i < s->nheaps; i++) {
        const ds_heap *h = &s->heaps[i];
        if (!selected(v, h))
            continue;
        cJSON *hj = heap_m_json(h);
        cJSON *ents = cJSON_AddArrayToObject(hj, "entries");
        size_t hm = 0;
        /* same order as the text: backend per segment, VA blocks, LFH blocks */
        for (int pass = 0; pass < 3; pass++)
            for (size_t k = 0; k < h->nentries; k++) {
                const ds_heap_entry *e = &h->entries[k];
                int p = e->kind == DS_HEAP_ENTRY_VIRTUAL ? 1
                        : e->kind == DS_HEAP_ENTRY_LFH_BUSY || e->kind == DS_HEAP_ENTRY_LFH_FREE
                            ? 2
                            : 0;
                if (p != pass || !entry_matches(e, flt))
                    continue;
                hm++;
                matching++;
                if (flt->limit && shown >= flt->limit)
                    continue;
                shown++;
                cJSON_AddItemToArray(ents, entry_json(e));
            }
        ds_json_add_uint(hj, "matching_entries", hm);
        cJSON_AddItemToArray(arr, hj);
    }
    ds_json_add_uint(o, "matching", matching);
    ds_json_add_uint(o, "shown", shown);
    return o;
}

/* ---- heap -stat ---- */

static const char *grp_name(ds_heap_stat_order o)
{
    return o == DS_HEAP_STAT_BY_COUNT  ? "BLOCKCOUNT"
           : o == DS_HEAP_STAT_BY_SIZE ? "ALLOCATIONSIZE"
                                       : "TOTSIZE";
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void ds_heap_stat_text(FILE *f, const ds_heap *h, const ds_heap_stat *st, ds_heap_stat_order o,
                       size_t limit, bool banner)
{
    char a[24];
    if (banner)
        fprintf(f, "Allocations statistics for\n");
    fprintf(f, " heap @ %s\n", P(a, sizeof a, h->addr, h->bits));
    fprintf(f, "group-by: %s max-display: %zu\n", grp_name(o), limit);
    fprintf(f, "    size     #blocks     total     ( %%) (percent of total busy bytes)\n");
    for (size_t i = 0; i < st->nrows && (!limit || i < limit); i++) {
        const ds_heap_stat_row *r = &st->rows[i];
        fprintf(f, "    %" PRIx64 " %" PRIx64 " - %" PRIx64 "  (%.2f)\n", r->user_size, r->count,
                r->total, pct(r->total, st->busy_bytes));
    }
    if (limit && st->nrows > limit)
        fprintf(f, "    ... %zu more sizes (--limit 0 shows all)\n", st->nrows - limit);
    lfh_note_text(f, h, "    ");
    issues_text(f, h, "    ");
}

void ds_heap_stat_skip_text(FILE *f, const ds_heap *h)
{
    char a[24];
    fprintf(f, " heap @ %s\n", P(a, sizeof a, h->addr, h->bits));
    not_nt_text(f, h, "    ");
    issues_text(f, h, "    ");
}

cJSON *ds_heap_stat_json(const ds_heap *h, const ds_heap_stat *st, ds_heap_stat_order o,
                         size_t limit)
{
    cJSON *hj = heap_base_json(h);
    cJSON_AddStringToObject(hj, "group_by", ds_heap_stat_order_key(o));
    ds_json_add_uint(hj, "max_display", limit);
    ds_json_add_uint(hj, "busy_blocks", st->busy_blocks);
    ds_json_add_uint(hj, "busy_bytes", st->busy_bytes);
    ds_json_add_uint(hj, "sizes", st->nrows);
    cJSON *rows = cJSON_AddArrayToObject(hj, "rows");
    for (size_t i = 0; i < st->nrows && (!limit || i < limit); i++) {
        const ds_heap_stat_row *r = &st->rows[i];
        cJSON *ro = cJSON_CreateObject();
        ds_json_add_uint(ro, "size", r->user_size);
        ds_json_add_uint(ro, "count", r->count);
        ds_json_add_uint(ro, "total", r->total);
        cJSON_AddNumberToObject(ro, "percent", pct(r->total, st->busy_bytes));
        cJSON_AddItemToArray(rows, ro);
    }
    cJSON_AddItemToObject(hj, "lfh", lfh_json(h));
    cJSON_AddNullToObject(hj, "segment_heap");
    heap_issues_json(hj, h);
    return hj;
}

cJSON *ds_heap_stat_skip_json(const ds_heap *h)
{
    cJSON *hj = heap_base_json(h);
    cJSON_AddNullToObject(hj, "rows");
    cJSON_AddItemToObject(hj, "lfh", lfh_json(h));
    cJSON_AddItemToObject(hj, "segment_heap",
                          h->kind == DS_HEAP_SEGMENT ? segheap_json(&h->seg) : cJSON_CreateNull());
    heap_issues_json(hj, h);
    return hj;
}

/* ---- heap -x ---- */

static void flags_words(char *b, size_t n, const ds_heap_entry *e)
{
    bool lfh = e->kind == DS_HEAP_ENTRY_LFH_BUSY || e->kind == DS_HEAP_ENTRY_LFH_FREE;
    snprintf(b, n, "%s%s %s%s%s%s", lfh ? "LFH;" : "", is_busy(e) ? "busy" : "free",
             (e->flags & 0x02) ? "extra " : "", (e->flags & 0x04) ? "fill " : "",
             e->kind == DS_HEAP_ENTRY_VIRTUAL ? "virtual " : "",
             e->kind == DS_HEAP_ENTRY_INTERNAL ? " internal" : "");
}

static void lookup_header(FILE *f, unsigned bits)
{
    if (bits == 64) {
        fprintf(f, "Entry             User              Heap              Segment               "
                   "Size  PrevSize  Unused    Flags\n");
        fprintf(f, "-----------------------------------------------------------------------------"
                   "--------------------------------\n");
    } else {
        fprintf(f, "Entry     User      Heap      Segment       Size  PrevSize  Unused    Flags\n");
        fprintf(f,
                "-----------------------------------------------------------------------------\n");
    }
}

void ds_heap_lookup_text(FILE *f, uint64_t addr, const ds_heap_lookup *lk)
{
    char a[24], b[24], c[24], d[24], fl[64];
    if (!lk->found || !lk->heap) {
        fprintf(f,
                "0x%" PRIx64 " is not in a segment, VirtualAlloc block or LFH block of any NT "
                "heap, nor in a large block of a segment heap, in this dump\n",
                addr);
        if (lk->large_incomplete)
            fprintf(f,
                    "note: the large blocks of segment heap %s were not (completely) walked: %s\n",
                    P(a, sizeof a, lk->large_incomplete->addr, lk->large_incomplete->bits),
                    lk->large_incomplete->seg.large_why[0] ? lk->large_incomplete->seg.large_why
                                                           : "reason not recorded");
        return;
    }
    const ds_heap *h = lk->heap;
    unsigned bits = h->bits;
    if (lk->large) {
        /* a segment-heap large block: no _HEAP_ENTRY in front of it, Entry = User */
        const ds_heap_large_block *lb = lk->large;
        lookup_header(f, bits);
        fprintf(f,
                "%s  %s  %s  %s  %8" PRIx64 "      -     %8" PRIx32 "  busy large (segment heap)\n",
                P(a, sizeof a, lb->addr, bits), P(b, sizeof b, lb->addr, bits),
                P(c, sizeof c, h->addr, bits), bits == 64 ? "       -        " : "   -    ",
                lb->allocated_pages << 12, lb->unused);
        return;
    }
    const ds_heap_segment *seg =
        lk->segment >= 0 && (size_t)lk->segment < h->nsegments ? &h->segments[lk->segment] : NULL;
    if (!lk->entry) {
        fprintf(f, "%s is in heap %s", P(a, sizeof a, addr, bits), P(b, sizeof b, h->addr, bits));
        if (seg)
            fprintf(f, ", segment %s", P(c, sizeof c, seg->addr, bits));
        fprintf(f, "%s, but in no heap entry\n", lk->in_ucr ? ", in an uncommitted range" : "");
        return;
    }
    const ds_heap_entry *e = lk->entry;
    lookup_header(f, bits);
    bool lfh = e->kind == DS_HEAP_ENTRY_LFH_BUSY || e->kind == DS_HEAP_ENTRY_LFH_FREE;
    char prev[16];
    if (lfh || e->kind == DS_HEAP_ENTRY_VIRTUAL)
        snprintf(prev, sizeof prev, "      -   ");
    else
        snprintf(prev, sizeof prev, "%10" PRIx64, e->prev_size);
    flags_words(fl, sizeof fl, e);
    fprintf(f, "%s  %s  %s  %s  %8" PRIx64 "%s  %8" PRIx32 "  %s\n", P(a, sizeof a, e->addr, bits),
            P(b, sizeof b, e->user, bits), P(c, sizeof c, h->addr, bits),
            seg ? P(d, sizeof d, seg->addr, bits) : (bits == 64 ? "       -        " : "   -    "),
            e->size, prev, e->unused, fl);
}

cJSON *ds_heap_lookup_json(uint64_t addr, const ds_heap_lookup *lk)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", "lookup");
    ds_json_add_addr(o, "address", addr);
    bool found = lk->found && lk->heap;
    cJSON_AddBoolToObject(o, "found", found);
    const ds_heap *h = found ? lk->heap : NULL;
    ds_json_add_addr_or_null(o, "heap", h != NULL, h ? h->addr : 0);
    if (h)
        ds_json_add_uint(o, "heap_bits", h->bits);
    else
        cJSON_AddNullToObject(o, "heap_bits");
    const ds_heap_segment *seg = h && lk->segment >= 0 && (size_t)lk->segment < h->nsegments
                                     ? &h->segments[lk->segment]
                                     : NULL;
    if (seg)
        ds_json_add_uint(o, "segment_index", (uint64_t)lk->segment);
    else
        cJSON_AddNullToObject(o, "segment_index");
    ds_json_add_addr_or_null(o, "segment", seg != NULL, seg ? seg->addr : 0);
    cJSON_AddBoolToObject(o, "in_ucr", found && lk->in_ucr);
    if (found && lk->entry)
        cJSON_AddItemToObject(o, "entry", entry_json(lk->entry));
    else
        cJSON_AddNullToObject(o, "entry");
    if (found && lk->large) {
        cJSON *lb = cJSON_AddObjectToObject(o, "large_block");
        ds_json_add_addr(lb, "address", lk->large->addr);
        ds_json_add_uint(lb, "allocated_pages", lk->large->allocated_pages);
        ds_json_add_uint(lb, "unused", lk->large->unused);
        ds_json_add_uint(lb, "user_size", lk->large->user_size);
    } else {
        cJSON_AddNullToObject(o, "large_block");
    }
    ds_json_add_addr_or_null(o, "large_incomplete", !found && lk->large_incomplete,
                             lk->large_incomplete ? lk->large_incomplete->addr : 0);
    return o;
}
