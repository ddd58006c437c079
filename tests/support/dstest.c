#include "dstest.h"

#include "dumpsleuth/dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

bool dstest_open_fixture(const char *name, ds_dump **d, cJSON **truth)
{
    const char *path = dstest_fixture(name);
    const char *dot = strrchr(name, '.');
    if (!path || !dot)
        return false;
    char tname[256];
    snprintf(tname, sizeof tname, "%.*s.truth.json", (int)(dot - name), name);
    const char *tpath = dstest_fixture(tname);
    if (!tpath)
        return false;
    *truth = dstest_load_json(tpath);
    ds_status st = ds_dump_open(path, d, NULL);
    assert_true(st == DS_OK || st == DS_E_PARTIAL);
    return true;
}
