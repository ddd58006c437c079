#include "dstest.h"

#include "dumpsleuth/dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *join(char *buf, size_t n, const char *env, const char *name)
{
    const char *dir = getenv(env);
    if (!dir || !*dir)
        return NULL;
    snprintf(buf, n, "%s/%s", dir, name);
    struct stat st;
    return stat(buf, &st) == 0 ? buf : NULL;
}

const char *dstest_corpus(const char *name)
{
    static char buf[8][4096];
    static int k;
    char sub[512];
    snprintf(sub, sizeof sub, "corpus/%s", name);
    k = (k + 1) % 8;
    return join(buf[k], sizeof buf[k], "DS_SHARED_DIR", sub);
}

const char *dstest_fixture(const char *name)
{
    static char buf[8][4096];
    static int k;
    k = (k + 1) % 8;
    return join(buf[k], sizeof buf[k], "DS_FIXTURE_DIR", name);
}

const char *dstest_data(const char *name)
{
    static char buf[8][4096];
    static int k;
    k = (k + 1) % 8;
    return join(buf[k], sizeof buf[k], "DS_TEST_DATA", name);
}

void dstest_require_corpus(void)
{
    if (!dstest_corpus("MANIFEST.tsv")) {
        fprintf(stderr, "SKIP: ../shared/corpus is not available (DS_SHARED_DIR)\n");
        exit(DSTEST_SKIP);
    }
}

void dstest_require_fixture(const char *name)
{
    if (!dstest_fixture(name)) {
        fprintf(stderr, "SKIP: fixture %s is not available (DS_FIXTURE_DIR)\n", name);
        exit(DSTEST_SKIP);
    }
}

uint8_t *dstest_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && sz > 0 && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b && len)
        *len = (size_t)(sz > 0 ? sz : 0);
    return b;
}

cJSON *dstest_load_json(const char *path)
{
    size_t n = 0;
    uint8_t *b = path ? dstest_read_file(path, &n) : NULL;
    assert_non_null(b);
    cJSON *j = cJSON_ParseWithLength((const char *)b, n);
    free(b);
    assert_non_null(j);
    return j;
}

void dstest_reserve(dstest_buf *x, size_t n)
{
    if (x->n + n <= x->cap)
        return;
    size_t c = x->cap ? x->cap : 4096;
    while (c < x->n + n)
        c *= 2;
    x->b = realloc(x->b, c);
    assert_non_null(x->b);
    memset(x->b + x->cap, 0, c - x->cap);
    x->cap = c;
}

void dstest_put(dstest_buf *x, const void *p, size_t n)
{
    dstest_reserve(x, n);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

void dstest_zeros(dstest_buf *x, size_t n)
{
    dstest_reserve(x, n);
    memset(x->b + x->n, 0, n);
    x->n += n;
}

void dstest_put_le(dstest_buf *x, uint64_t v, unsigned size)
{
    uint8_t t[8];
    for (unsigned i = 0; i < size; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    dstest_put(x, t, size);
}

void dstest_put_be(dstest_buf *x, uint64_t v, unsigned size)
{
    uint8_t t[8];
    for (unsigned i = 0; i < size; i++)
        t[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    dstest_put(x, t, size);
}

void dstest_align(dstest_buf *x, size_t a)
{
    dstest_zeros(x, (a - x->n % a) % a);
}

void dstest_set_le(dstest_buf *x, size_t off, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        x->b[off + i] = (uint8_t)(v >> (8 * i));
}

void dstest_elf_note(dstest_buf *x, const char *owner, uint32_t type, const void *desc,
                     size_t descsz)
{
    uint32_t namesz = (uint32_t)strlen(owner) + 1;
    dstest_put_le(x, namesz, 4);
    dstest_put_le(x, descsz, 4);
    dstest_put_le(x, type, 4);
    dstest_put(x, owner, namesz);
    dstest_align(x, 4);
    dstest_put(x, desc, descsz);
    dstest_align(x, 4);
}

void dstest_write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

char *dstest_write_temp(const char *prefix, const void *b, size_t n)
{
    char *path = malloc(strlen(prefix) + 16);
    assert_non_null(path);
    sprintf(path, "/tmp/%s-XXXXXX", prefix);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
    return path;
}

dstest_mapped dstest_map_pe(const uint8_t *f, size_t flen)
{
    dstest_mapped m = {0};
    assert_true(flen >= 0x40);
    uint32_t lfanew = (uint32_t)(f[0x3c] | f[0x3d] << 8 | f[0x3e] << 16 | (uint32_t)f[0x3f] << 24);
    assert_true(lfanew + 24 <= flen);
    const uint8_t *fh = f + lfanew + 4;
    uint16_t nsec = (uint16_t)(fh[2] | fh[3] << 8);
    uint16_t optsz = (uint16_t)(fh[16] | fh[17] << 8);
    const uint8_t *opt = fh + 20;
    uint32_t soi, soh;
    memcpy(&soi, opt + 56, 4);
    memcpy(&soh, opt + 60, 4);
    assert_true(soh <= flen && soh <= soi);
    m.img = calloc(1, soi);
    assert_non_null(m.img);
    m.size = soi;
    memcpy(m.img, f, soh);
    const uint8_t *st = opt + optsz;
    for (uint16_t i = 0; i < nsec; i++) {
        const uint8_t *s = st + 40 * i;
        uint32_t vs, va, rs, ro;
        memcpy(&vs, s + 8, 4);
        memcpy(&va, s + 12, 4);
        memcpy(&rs, s + 16, 4);
        memcpy(&ro, s + 20, 4);
        uint32_t n = vs && vs < rs ? vs : rs;
        if (!n)
            continue;
        assert_true((uint64_t)ro + n <= flen);
        assert_true((uint64_t)va + n <= soi);
        memcpy(m.img + va, f + ro, n);
    }
    return m;
}

ds_dump *dstest_open_dump(const char *name)
{
    const char *path = dstest_fixture(name);
    if (!path)
        return NULL;
    ds_dump *d = NULL;
    ds_status st = ds_dump_open(path, &d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    return d;
}

bool dstest_open_fixture(const char *name, ds_dump **d, cJSON **truth)
{
    const char *dot = strrchr(name, '.');
    if (!dstest_fixture(name) || !dot)
        return false;
    char tname[256];
    snprintf(tname, sizeof tname, "%.*s.truth.json", (int)(dot - name), name);
    const char *tpath = dstest_fixture(tname);
    if (!tpath)
        return false;
    if (truth)
        *truth = dstest_load_json(tpath);
    *d = dstest_open_dump(name);
    return true;
}

char *dstest_source_text(const char *rel)
{
    const char *src = getenv("DS_SOURCE_DIR");
    char p[4096];
    if (!src)
        return NULL;
    snprintf(p, sizeof p, "%s/%s", src, rel);
    size_t n;
    uint8_t *b = dstest_read_file(p, &n);
    if (!b)
        return NULL;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, b, n);
    s[n] = 0;
    free(b);
    return s;
}

uint64_t dstest_json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    assert_true(cJSON_IsNumber(v));
    return (uint64_t)v->valuedouble;
}

uint64_t dstest_json_hex(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    return strtoull(v->valuestring, NULL, 16);
}

const ds_module *dstest_module_named(const ds_dump *d, const char *name)
{
    for (size_t i = 0; i < d->nmodules; i++)
        if (d->modules[i].name && !strcmp(d->modules[i].name, name))
            return &d->modules[i];
    return NULL;
}

const char *dstest_require_coreclr(const char *env_var, const char *fallback_dir)
{
    const char *env = getenv(env_var);
    const char *dir = env && *env ? env : fallback_dir;
    char probe[512];
    snprintf(probe, sizeof probe, "%s/libcoreclr.so", dir);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "skipped: no %s (set %s)\n", probe, env_var);
        exit(DSTEST_SKIP);
    }
    return dir;
}

void dstest_clr_symbol_finalizer(const char *name, const char *dir)
{
    ds_dump *d = dstest_open_dump(name);
    assert_non_null(d);
    ds_clr_options opt = {.runtime_dir = dir};
    ds_clr_runtime rt;
    ds_clr_symbols s;
    assert_int_equal(ds_clr_runtime_find_sym(d, &opt, &rt, &s, &d->diags), DS_OK);
    assert_int_equal((int)rt.route, DS_CLR_ROUTE_SYMBOLS);
    ds_clr_threads t;
    assert_int_equal(ds_clr_threads_read(d, &rt, &t, &d->diags), DS_OK);
    uint64_t by_rva = t.finalizer;
    assert_int_not_equal(by_rva, 0);
    ds_clr_threads_use_symbols(d, &rt, &s, &t, &d->diags);
    assert_int_equal(t.finalizer, by_rva);
    assert_non_null(strstr(t.finalizer_source, "--runtime-dir"));
    assert_int_equal(ds_diags_count(&d->diags, DS_SEV_WARNING), 0);
    ds_clr_threads_free(&t);
    ds_dump_close(d);
}

/* ---- the .NET fixtures ---- */

const dstest_dotnet dstest_dotnet_fixtures[] = {
    {"dotnet-2.0-linux-x64.core", true, false},    {"dotnet-2.0-x64.dmp", false, false},
    {"dotnet-2.2-x64.dmp", false, false},          {"dotnet-2.1-x86.dmp", false, false},
    {"dotnet-2.0-linux-x64-svr.core", true, true}, {"dotnet-2.2-x64-svr.dmp", false, true},
    {"dotnet-2.1-x86-svr.dmp", false, true},       {"dotnet-3.0-x64.dmp", false, false},
    {"dotnet-3.1-x64.dmp", false, false},          {"dotnet-3.1-x86.dmp", false, false},
    {"dotnet-3.1-linux-x64.core", true, false},    {"dotnet-3.1-linux-x64-svr.core", true, true},
    {"dotnet-3.1-x64-svr.dmp", false, true},
};
const size_t dstest_ndotnet = sizeof dstest_dotnet_fixtures / sizeof dstest_dotnet_fixtures[0];

const dstest_dotnet *dstest_dotnet_named(const char *name)
{
    for (size_t i = 0; i < dstest_ndotnet; i++)
        if (!strcmp(dstest_dotnet_fixtures[i].name, name))
            return &dstest_dotnet_fixtures[i];
    fail_msg("%s is not in dstest_dotnet_fixtures", name);
    return NULL;
}

bool dstest_clr_open(const dstest_dotnet *fx, unsigned what, dstest_clr *c)
{
    memset(c, 0, sizeof *c);
    c->fx = fx;
    if (!dstest_open_fixture(fx->name, &c->d, &c->truth))
        return false;
    ds_dump *d = c->d;
    if (what & DSTEST_CLR_THREADS) {
        assert_int_equal(ds_clr_runtime_find(d, NULL, &c->rt, &d->diags), DS_OK);
        assert_int_equal(ds_clr_threads_read(d, &c->rt, &c->t, &d->diags), DS_OK);
        c->what |= DSTEST_CLR_THREADS;
    }
    if (what & DSTEST_CLR_HEAP) {
        assert_int_equal(ds_clr_heap_open(d, NULL, &c->h, &d->diags), DS_OK);
        c->what |= DSTEST_CLR_HEAP;
        /* the GC mode the scenario process reported (GCSettings.IsServerGC); server GC has one
         * heap per processor (Environment.ProcessorCount), workstation GC one */
        const cJSON *rtj = cJSON_GetObjectItemCaseSensitive(c->truth, "runtime");
        const cJSON *svr = cJSON_GetObjectItemCaseSensitive(rtj, "server_gc");
        assert_true(cJSON_IsBool(svr));
        assert_int_equal(fx->server_gc, cJSON_IsTrue(svr));
        assert_int_equal(c->h.rt.server, cJSON_IsTrue(svr));
        assert_int_equal(c->h.nheaps,
                         cJSON_IsTrue(svr) ? dstest_json_num(rtj, "processor_count") : 1);
    }
    return true;
}

void dstest_clr_close(dstest_clr *c)
{
    if (c->what & DSTEST_CLR_HEAP)
        ds_clr_heap_close(&c->h);
    if (c->what & DSTEST_CLR_THREADS)
        ds_clr_threads_free(&c->t);
    cJSON_Delete(c->truth);
    ds_dump_close(c->d);
    memset(c, 0, sizeof *c);
}

void dstest_clr_each(unsigned what, dstest_clr_fn fn, void *ctx)
{
    int ran = 0;
    for (size_t i = 0; i < dstest_ndotnet; i++) {
        const dstest_dotnet *fx = &dstest_dotnet_fixtures[i];
        dstest_clr c;
        if ((what & DSTEST_CLR_LINUX) && !fx->linux_core)
            continue;
        if (!dstest_clr_open(fx, what, &c))
            continue;
        ran += fn(&c, ctx);
        dstest_clr_close(&c);
    }
    if (!ran)
        skip();
}
