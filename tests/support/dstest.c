#include "dstest.h"

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
