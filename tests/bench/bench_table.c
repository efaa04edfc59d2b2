/* SPDX-License-Identifier: MIT */
/*
 * bench_table.c - micro-benchmark of building the Worldwide table: time to
 * parse and build it from the file's bytes, and the memory it holds.
 *
 * Time: o3b_load_json() on the bytes already in memory (no I/O), median of
 * 50 loads after a few warm-up loads, in the thread's CPU time (other jobs
 * on a shared machine do not count); cJSON's parse alone is timed the same
 * way to show how the total splits.  Memory, three independent readings:
 *  - o3b_table_memory(), what the table says it holds;
 *  - the heap growth seen by mallinfo2() (bytes in use, including mmapped
 *    blocks) across building one table that is kept - allocator overhead
 *    included, cJSON's tree already freed;
 *  - cJSON's transient peak, counted exactly through cJSON_InitHooks() with
 *    malloc_usable_size(), and the process heap sampled with mallinfo2() at
 *    every cJSON allocation and free (the tree is complete and the table
 *    built when the loader starts freeing the tree, so that sample is the
 *    load's high-water mark up to the builder's short-lived arrays).
 * The goals are reported PASS/MISS and never change the exit status.
 *
 * usage: bench_table [--quick] [WORLDWIDE.json]
 */
#include <cjson/cJSON.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "o365bypass/index.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/table.h"

#define TABLE_FILE "worldwide-2025-11-14.json"
#define RUNS 50
#define WARMUP 5
#define GOAL_LOAD_MS 1.0
#define GOAL_MEMORY (256u * 1024u)

/* ---- counting cJSON's allocations ------------------------------------------------ */

static struct {
    size_t live, peak, allocations;
    size_t heap_base, heap_peak; /* mallinfo2 samples, process-wide */
} g_count;

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

static void sample_heap(void)
{
    size_t h = heap_in_use();

    if (h > g_count.heap_peak)
        g_count.heap_peak = h;
}

static void *counting_malloc(size_t size)
{
    void *p;

    sample_heap();
    p = malloc(size);
    if (p != NULL) {
        g_count.live += malloc_usable_size(p);
        g_count.allocations++;
        if (g_count.live > g_count.peak)
            g_count.peak = g_count.live;
    }
    return p;
}

static void counting_free(void *p)
{
    sample_heap();
    if (p != NULL)
        g_count.live -= malloc_usable_size(p);
    free(p);
}

/* ---- measurements ----------------------------------------------------------------- */

struct timing {
    double ms[RUNS];
    double median, min, max, first;
};

static o3b_table *load(const char *buf, size_t len)
{
    o3b_err err;
    o3b_table *t = o3b_load_json(buf, len, NULL, &err);

    if (t == NULL) {
        fprintf(stderr, "bench_table: %s\n", err.msg);
        exit(EXIT_FAILURE);
    }
    return t;
}

/* Load the table `runs` times (freeing it untimed); the first load is kept apart. */
static void time_loads(const char *buf, size_t len, int runs, struct timing *tm)
{
    for (int r = -WARMUP; r < runs; r++) {
        double t0 = bench_cpu_now(), elapsed;
        o3b_table *t = load(buf, len);

        elapsed = (bench_cpu_now() - t0) * 1e3;
        o3b_table_free(&t);
        if (r == -WARMUP)
            tm->first = elapsed;
        if (r >= 0)
            tm->ms[r] = elapsed;
    }
    tm->median = bench_median(tm->ms, (size_t)runs, &tm->min, &tm->max);
}

/* cJSON's share: parse the same bytes and delete the tree. */
static void time_parses(const char *buf, size_t len, int runs, struct timing *tm)
{
    for (int r = -WARMUP; r < runs; r++) {
        double t0 = bench_cpu_now(), elapsed;
        cJSON *root = cJSON_ParseWithLength(buf, len);

        if (root == NULL) {
            fprintf(stderr, "bench_table: cJSON could not parse the file\n");
            exit(EXIT_FAILURE);
        }
        cJSON_Delete(root); /* o3b_load_json deletes its tree too */
        elapsed = (bench_cpu_now() - t0) * 1e3;
        if (r == -WARMUP)
            tm->first = elapsed;
        if (r >= 0)
            tm->ms[r] = elapsed;
    }
    tm->median = bench_median(tm->ms, (size_t)runs, &tm->min, &tm->max);
}

struct memory {
    size_t table, index, growth;
    size_t cjson_peak, cjson_allocations, heap_peak_growth;
    struct o3b_table_counts counts;
};

/* Build one table and keep it: what a process holds per table. */
static o3b_table *measure_memory(const char *buf, size_t len, struct memory *mem)
{
    size_t before, after;
    o3b_table *kept, *t;
    cJSON_Hooks hooks = {counting_malloc, counting_free};

    before = heap_in_use();
    kept = load(buf, len);
    after = heap_in_use();
    mem->growth = after > before ? after - before : 0;
    mem->table = o3b_table_memory(kept);
    mem->index = o3b_index_memory(o3b_table_index(kept));
    o3b_table_get_counts(kept, &mem->counts);

    memset(&g_count, 0, sizeof g_count);
    g_count.heap_base = g_count.heap_peak = heap_in_use();
    cJSON_InitHooks(&hooks);
    t = load(buf, len);
    cJSON_InitHooks(NULL);
    mem->cjson_peak = g_count.peak;
    mem->cjson_allocations = g_count.allocations;
    mem->heap_peak_growth = g_count.heap_peak - g_count.heap_base;
    o3b_table_free(&t);
    return kept;
}

/* ---- output ------------------------------------------------------------------------- */

static void print_timing(const char *label, const struct timing *tm)
{
    printf("  %-44s %8.3f %8.3f %8.3f %8.3f\n", label, tm->median, tm->min, tm->max, tm->first);
}

static void print_memory(const struct memory *mem, bool have_mallinfo)
{
    printf("\nmemory of one table (kept)\n");
    printf("  %-56s %9zu B (%.1f KiB)\n", "o3b_table_memory()", mem->table, mem->table / 1024.0);
    printf("  %-56s %9zu B (%.1f KiB)\n", "  of which the index block (o3b_index_memory)",
           mem->index, mem->index / 1024.0);
    if (have_mallinfo)
        printf("  %-56s %9zu B (%.1f KiB)\n", "heap growth across the load (mallinfo2)",
               mem->growth, mem->growth / 1024.0);
    else
        printf("  %-56s %9s\n", "heap growth across the load (mallinfo2)",
               "n/a (mallinfo2 sees nothing: sanitizer build?)");
    printf("\ntransient, during one load (freed before o3b_load_json returns)\n");
    printf("  %-56s %9zu B (%.1f KiB) in %zu allocations\n", "cJSON tree, peak live bytes",
           mem->cjson_peak, mem->cjson_peak / 1024.0, mem->cjson_allocations);
    if (have_mallinfo)
        printf("  %-56s %9zu B (%.1f KiB)\n",
               "process heap high-water mark over the base (sampled)", mem->heap_peak_growth,
               mem->heap_peak_growth / 1024.0);
}

static void print_goals(const struct timing *load_tm, int runs, const struct memory *mem,
                        bool have_mallinfo)
{
    char label[64];

    snprintf(label, sizeof label, "parse + build, median of %d", runs);
    printf("\n  %-44s %14s %12s %s\n", "goal", "measured", "goal", "result");
    printf("  %-44s %11.3f ms %12s %s\n", label, load_tm->median, "<= 1 ms",
           bench_verdict(load_tm->median <= GOAL_LOAD_MS));
    printf("  %-44s %10.1f KiB %12s %s\n", "memory per table: o3b_table_memory()",
           mem->table / 1024.0, "<= 256 KiB", bench_verdict(mem->table <= GOAL_MEMORY));
    if (have_mallinfo)
        printf("  %-44s %10.1f KiB %12s %s\n", "memory per table: heap growth (mallinfo2)",
               mem->growth / 1024.0, "<= 256 KiB", bench_verdict(mem->growth <= GOAL_MEMORY));
}

int main(int argc, char **argv)
{
    struct timing load_tm, parse_tm;
    struct memory mem;
    char path[4096];
    o3b_err err;
    size_t len;
    char *buf;
    o3b_table *kept;
    bool have_mallinfo;
    int runs = RUNS, argi = 1;

    if (argi < argc && strcmp(argv[argi], "--quick") == 0) {
        runs = 5;
        argi++;
    }
    bench_data_path(argi < argc ? argv[argi] : NULL, TABLE_FILE, path, sizeof path);
    buf = o3b_read_file(path, O3B_LOAD_MAX_BYTES_DEFAULT, &len, &err);
    if (buf == NULL) {
        fprintf(stderr, "bench_table: %s: %s\n", path, err.msg);
        return EXIT_FAILURE;
    }
    /* memory first, on a heap the timing loops have not churned */
    kept = measure_memory(buf, len, &mem);
    have_mallinfo = mem.growth > 0;
    time_loads(buf, len, runs, &load_tm);
    time_parses(buf, len, runs, &parse_tm);

    printf("bench_table: parse + build of the endpoint table, and its memory\n");
    printf("table:     %s: %zu bytes, %zu sets, %zu URLs, %zu+%zu prefixes\n", path, len,
           mem.counts.sets, mem.counts.urls, mem.counts.ipv4, mem.counts.ipv6);
    bench_print_machine();
    printf("method:    one thread; the file's bytes in memory; %d timed runs after %d "
           "warm-up runs;\n           times are the thread's CPU time\n",
           runs, WARMUP);
    printf("\n  %-44s %8s %8s %8s %8s\n", "time, ms", "median", "min", "max", "first");
    print_timing("o3b_load_json (parse, build, delete the tree)", &load_tm);
    print_timing("  of which cJSON_ParseWithLength + Delete", &parse_tm);
    printf("  (first: the first warm-up run, cold caches)\n");
    print_memory(&mem, have_mallinfo);
    print_goals(&load_tm, runs, &mem, have_mallinfo);
    o3b_table_free(&kept);
    free(buf);
    return EXIT_SUCCESS;
}
