/* bench/rss_peak.c: runs a command and reports its peak memory, for bench/heap.sh.
 *
 *   rss_peak OUTFILE CMD [ARGS...]    CMD's stdout/stderr are passed through; OUTFILE gets
 *                                     "<maxrss_kb> <anon_kb> <file_kb> <cpu_s>"
 *
 * maxrss_kb is exact (getrusage of the child: ru_maxrss, the peak resident set including the
 * file-backed pages of the mmap'ed dump that the command touched). anon_kb and file_kb are the
 * largest RssAnon (the process's own allocations) and RssFile values seen in /proc/PID/status,
 * sampled every millisecond: a lower bound of the true peaks, close for runs of many ms. cpu_s is
 * the child's user + system CPU time (less sensitive than wall time to other load on the machine).
 * Exit status: the child's. Build: cc -O2 -o rss_peak rss_peak.c */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sample(pid_t pid, long *anon, long *file)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        long v;
        if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > *anon)
            *anon = v;
        else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > *file)
            *file = v;
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s OUTFILE CMD [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    long anon = 0, file = 0;
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    const struct timespec ms = {0, 1000000};
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0) {
            perror("wait4");
            return 2;
        }
        sample(pid, &anon, &file);
        nanosleep(&ms, NULL);
    }
    FILE *o = fopen(argv[1], "w");
    if (!o) {
        perror(argv[1]);
        return 2;
    }
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    fprintf(o, "%ld %ld %ld %.3f\n", ru.ru_maxrss, anon, file, cpu);
    fclose(o);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
