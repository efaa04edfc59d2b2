/* SPDX-License-Identifier: MIT */
/*
 * bench.h - small helpers shared by the micro-benchmarks (bench_lookup.c,
 * bench_table.c): a monotonic clock, medians, the CPU model, the build's
 * flags and the PASS/MISS wording.
 *
 * Everything is static inline so each benchmark stays one translation unit.
 * Benchmarks only report: they exit non-zero when they could not measure
 * (missing data, a wrong answer), never because a figure missed its goal.
 */
#ifndef O3B_TESTS_BENCH_H
#define O3B_TESTS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef O3B_TEST_DATA
#define O3B_TEST_DATA "tests/data"
#endif
#ifndef O3B_BENCH_CFLAGS
#define O3B_BENCH_CFLAGS "(unknown)"
#endif

#define BENCH_NOISY_SPREAD 0.10 /* (max - min) / median above this: noisy */

/* Seconds on the monotonic (wall) clock. */
static inline double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Seconds of CPU time of the calling thread.  The benchmarks time with this
 * clock so that time spent descheduled (other jobs on a shared machine) is
 * not counted; the share of the wall time the thread got is reported as a
 * sign of noise, since preemption still costs caches.
 */
static inline double bench_cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median, minimum and maximum of v[0..n) (n >= 1); v is sorted in place. */
static inline double bench_median(double *v, size_t n, double *min, double *max)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    if (min != NULL)
        *min = v[0];
    if (max != NULL)
        *max = v[n - 1];
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The CPU's model name from /proc/cpuinfo, or "unknown". */
static inline void bench_cpu_model(char *buf, size_t size)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");

    snprintf(buf, size, "unknown");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += 1 + (colon[1] == ' ');
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, size, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* One line on the machine and the build, so figures are never read bare. */
static inline void bench_print_machine(void)
{
    char cpu[256];

    bench_cpu_model(cpu, sizeof cpu);
    printf("cpu:       %s, %ld CPU(s) online\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
#if defined(__clang__)
    printf("compiler:  clang %s, CFLAGS %s\n", __clang_version__, O3B_BENCH_CFLAGS);
#elif defined(__GNUC__)
    printf("compiler:  gcc %s, CFLAGS %s\n", __VERSION__, O3B_BENCH_CFLAGS);
#endif
#if !defined(__OPTIMIZE__)
    printf("WARNING:   built without optimization: the figures mean little\n");
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    printf("WARNING:   built with sanitizers: the figures mean little\n");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    printf("WARNING:   built with sanitizers: the figures mean little\n");
#endif
#endif
}

static inline const char *bench_verdict(int pass)
{
    return pass ? "PASS" : "MISS";
}

/* Path of a data file: `arg` when given, else O3B_TEST_DATA/name. */
static inline void bench_data_path(const char *arg, const char *name, char *buf, size_t size)
{
    if (arg != NULL)
        snprintf(buf, size, "%s", arg);
    else
        snprintf(buf, size, "%s/%s", O3B_TEST_DATA, name);
}

#endif
