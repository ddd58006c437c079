/* bench/memmem_scan.c: the baseline for bench/search.sh: counts a literal in a file with a plain
 * single-threaded memmem loop over the mmap'ed file (no address space, no ranges).
 *
 *   memmem_scan FILE NEEDLE          prints "<count> <MB/s>"
 * Build: cc -O2 -o memmem_scan memmem_scan.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE NEEDLE\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    size_t n = (size_t)st.st_size, nl = strlen(argv[2]);
    const char *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    unsigned long long count = 0;
    const char *cur = p, *end = p + n;
    while ((size_t)(end - cur) >= nl && (cur = memmem(cur, (size_t)(end - cur), argv[2], nl))) {
        count++;
        cur++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%llu %.1f\n", count, (double)n / (1 << 20) / s);
    return 0;
}
