/* Opening a dump: map the file, pick the reader, finish the common description. */
#include "dumpsleuth/dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "dumpsleuth/pe.h"

typedef struct reader {
    const char *name;
    bool (*probe)(const uint8_t *, uint64_t);
    ds_status (*read)(ds_dump *);
} reader;

static const reader readers[] = {
    {"minidump", ds_minidump_probe, ds_minidump_read},
    {"kdump", ds_kdump_probe, ds_kdump_read}, /* before ELF: ELF vmcores carry VMCOREINFO */
    {"elfcore", ds_elfcore_probe, ds_elfcore_read},
};

static void free_modules(ds_module *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].path);
    free(m);
}

void ds_dump_close(ds_dump *d)
{
    if (!d)
        return;
    if (d->backend && d->backend_free)
        d->backend_free(d->backend);
    ds_vmem_free(&d->vm);
    free(d->threads);
    free_modules(d->modules, d->nmodules);
    free_modules(d->unloaded, d->nunloaded);
    free(d->regions);
    free(d->streams);
    for (size_t i = 0; i < d->nhandles; i++) {
        free(d->handles[i].type_name);
        free(d->handles[i].object_name);
    }
    free(d->handles);
    free(d->comment_a);
    free(d->comment_w);
    free(d->lnx.auxv);
    for (size_t i = 0; i < d->lnx.nfiles; i++)
        free(d->lnx.files[i].path);
    free(d->lnx.files);
    ds_diags_free(&d->diags);
    if (d->map && d->map != MAP_FAILED && d->map_size)
        munmap((void *)d->map, d->map_size);
    if (d->fd >= 0)
        close(d->fd);
    free(d->path);
    free(d);
}

static void copy_diags(ds_diags *to, const ds_diags *from)
{
    if (!to)
        return;
    for (size_t i = 0; i < from->n; i++) {
        const ds_diag *g = &from->v[i];
        if (g->has_address)
            ds_diag_add_addr(to, g->severity, g->structure, g->address, "%s", g->message);
        else
            ds_diag_add(to, g->severity, g->structure, g->has_offset, g->offset, "%s", g->message);
    }
}

ds_status ds_dump_open(const char *path, ds_dump **out, ds_diags *diags)
{
    *out = NULL;
    ds_dump *d = calloc(1, sizeof(*d));
    if (!d)
        return DS_E_NOMEM;
    d->fd = -1;
    ds_diags_init(&d->diags);
    d->path = ds_strdup(path);
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0) {
        ds_diag_add(diags, DS_SEV_ERROR, "file", 0, 0, "cannot open: %s", strerror(errno));
        ds_dump_close(d);
        return DS_E_IO;
    }
    struct stat st;
    if (fstat(d->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ds_diag_add(diags, DS_SEV_ERROR, "file", 0, 0, "not a regular file");
        ds_dump_close(d);
        return DS_E_IO;
    }
    d->map_size = (uint64_t)st.st_size;
    if (d->map_size == 0) {
        ds_diag_add(diags, DS_SEV_ERROR, "file header", 1, 0, "file is empty");
        ds_dump_close(d);
        return DS_E_FORMAT;
    }
    void *m = mmap(NULL, (size_t)d->map_size, PROT_READ, MAP_PRIVATE, d->fd, 0);
    if (m == MAP_FAILED) {
        d->map = NULL;
        ds_diag_add(diags, DS_SEV_ERROR, "file", 0, 0, "cannot map: %s", strerror(errno));
        ds_dump_close(d);
        return DS_E_IO;
    }
    d->map = m;
    madvise(m, (size_t)d->map_size, MADV_RANDOM);
    const reader *rd = NULL;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (readers[i].probe(d->map, d->map_size)) {
            rd = &readers[i];
            break;
        }
    if (!rd) {
        ds_diag_add(diags, DS_SEV_ERROR, "file header", 1, 0,
                    "not a dump format dumpsleuth knows (no MDMP, ELF core or kdump signature)");
        ds_dump_close(d);
        return DS_E_FORMAT;
    }
    ds_status s = rd->read(d);
    if (s != DS_OK && s != DS_E_PARTIAL) {
        copy_diags(diags, &d->diags);
        ds_dump_close(d);
        return s;
    }
    if (!d->vm.n && !d->vm.backend)
        ds_vmem_init(&d->vm, d->map, d->map_size, d->sys.ptr_size ? d->sys.ptr_size : 8);
    ds_dump_enrich_modules(d);
    if (s == DS_OK && ds_diags_count(&d->diags, DS_SEV_WARNING))
        s = DS_E_PARTIAL;
    *out = d;
    return s;
}

const char *ds_arch_name(ds_arch a)
{
    static const char *n[] = {"unknown", "x86",  "x64",   "arm",     "arm64", "ppc",
                              "ppc64",   "mips", "s390x", "riscv64", "other"};
    return (unsigned)a < sizeof n / sizeof n[0] ? n[a] : "unknown";
}

const char *ds_os_name(ds_os o)
{
    static const char *n[] = {"unknown", "Windows", "Linux", "macOS", "Android", "other"};
    return (unsigned)o < sizeof n / sizeof n[0] ? n[o] : "unknown";
}

const char *ds_kind_name(ds_dump_kind k)
{
    static const char *n[] = {"unknown", "full memory", "with heap", "mini", "triage", "kernel"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "unknown";
}

const ds_module *ds_module_at(const ds_dump *d, uint64_t addr)
{
    for (size_t i = 0; i < d->nmodules; i++)
        if (addr >= d->modules[i].base && addr - d->modules[i].base < d->modules[i].size)
            return &d->modules[i];
    return NULL;
}

const ds_region *ds_region_at(const ds_dump *d, uint64_t addr)
{
    size_t lo = 0, hi = d->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->regions[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && addr - d->regions[lo - 1].base < d->regions[lo - 1].size)
        return &d->regions[lo - 1];
    return NULL;
}

void ds_dump_enrich_modules(ds_dump *d)
{
    if (d->sys.os != DS_OS_WINDOWS)
        return;
    for (size_t i = 0; i < d->nmodules; i++) {
        ds_module *m = &d->modules[i];
        ds_pe pe;
        ds_status s = ds_pe_parse(&d->vm, m->base, &pe, NULL);
        if (s == DS_OK || s == DS_E_PARTIAL) {
            m->image_checked = true;
            m->managed = pe.has_clr;
            if (!m->file_version.valid && pe.file_version.valid) {
                m->file_version = pe.file_version;
                m->product_version = pe.product_version;
                m->file_flags = pe.file_flags;
                m->file_os = pe.file_os;
                m->file_type = pe.file_type;
            }
            if (!m->cv.kind && pe.cv.kind)
                m->cv = pe.cv;
        }
        ds_pe_free(&pe); /* ds_pe_parse always leaves pe freeable */
    }
}
