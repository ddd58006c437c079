/* Shared helpers for dumpsleuth's cmocka tests. */
#ifndef DSTEST_H
#define DSTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

/* Exit code that ctest treats as "skipped" (SKIP_RETURN_CODE). */
#define DSTEST_SKIP 77

/* Path of a file in ../shared/corpus (static buffer), or NULL when the corpus is absent. */
const char *dstest_corpus(const char *name);
/* Path of a decompressed fixture in the build tree (static buffer), or NULL when absent. */
const char *dstest_fixture(const char *name);
/* Path of a file in tests/data (static buffer). */
const char *dstest_data(const char *name);
/* Exits with DSTEST_SKIP (and a message) when the corpus / a fixture is not available. */
void dstest_require_corpus(void);
void dstest_require_fixture(const char *name);
/* Reads and parses a JSON file (fixture truth files). Fails the test when unreadable. */
cJSON *dstest_load_json(const char *path);
/* Reads a whole file into memory (for building in-memory test images). */
uint8_t *dstest_read_file(const char *path, size_t *len);

/* Opens fixture `name` ("x.dmp") and its truth file ("x.truth.json"). Returns false when either is
 * absent (the caller skips); fails the test when the dump does not open. */
struct ds_dump;
bool dstest_open_fixture(const char *name, struct ds_dump **d, cJSON **truth);

/* A PE file mapped as the Windows loader maps it: headers, then each section at its VirtualAddress
 * in a zero-filled buffer of SizeOfImage bytes (img is malloc'ed). The input files are test data
 * we built (checked by asserts, not treated as hostile). */
typedef struct dstest_mapped {
    uint8_t *img;
    uint32_t size;
} dstest_mapped;
dstest_mapped dstest_map_pe(const uint8_t *f, size_t flen);

#endif
