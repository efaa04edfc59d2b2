/* SPDX-License-Identifier: MIT */
/*
 * bench_acl.c - what one answer of o365bypass-acl costs, measured on the binary.
 *
 * Squid caches helper answers, so the helper only works on the first
 * lookup of each key (per ttl): the cold case is the one to measure.  The
 * driver starts the real helper (the built binary, a configuration naming
 * the real Worldwide table) and feeds it N distinct keys - instances of
 * every host and pattern of the table, unlisted names, addresses inside the
 * published prefixes, each on port 443 - in three ways:
 *   start-up   from spawn to the first answer (what a new helper process
 *              costs Squid: children-startup / children-idle);
 *   batch      all N lines with channel IDs written as fast as the helper
 *              reads them (Squid with concurrency=): answers/s on the wall
 *              clock and the helper's own CPU time per answer (getrusage of
 *              the child, user + system, less what a helper that answers
 *              once costs), the figure to compare with the module's
 *              ns-scale lookup;
 *   ping-pong  one line, wait for its reply, next line (Squid without
 *              concurrency): the round trip per lookup, p50 and p99.
 * Each helper answers one line before the clock starts (start-up excluded).
 * Every reply must be one line starting OK or ERR (with the channel ID in
 * batch mode); anything else is an error of the benchmark (exit 1).
 * Output: human lines, then one "ACLBENCH key=value ..." line for bench.sh.
 *
 * usage: bench_acl HELPER CONFIG [KEYS]   (KEYS default 100000, 100..1000000)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "o365bypass/loader.h"
#include "o365bypass/table.h"

#define PINGPONG_MAX 5000

struct helper {
    pid_t pid;
    int to, from; /* its stdin, its stdout */
};

static int spawn(struct helper *h, const char *path, const char *config)
{
    int in[2], out[2];

    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    h->pid = fork();
    if (h->pid < 0)
        return -1;
    if (h->pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execl(path, path, "-c", config, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    h->to = in[1];
    h->from = out[0];
    return 0;
}

/* Close its stdin, wait for it; its CPU seconds (user + system). */
static double finish(struct helper *h)
{
    struct rusage ru;
    int status;

    close(h->to);
    close(h->from);
    if (wait4(h->pid, &status, 0, &ru) != h->pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_acl: the helper did not exit cleanly\n");
        return -1;
    }
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* Key i: an instance of a table URL, an unlisted name, or a listed address. */
static void key(const o3b_table *t, size_t i, char *out, size_t size)
{
    size_t sets = o3b_table_set_count(t), n = 0;
    const struct o3b_set *s = o3b_table_set(t, i % sets);

    if (i % 3 == 1 || (s->n_urls == 0 && s->n_ips == 0)) {
        snprintf(out, size, "h%zu.example%zu.org 443", i, i % 97);
        return;
    }
    if (i % 3 == 0 && s->n_urls > 0) {
        const char *u = s->urls[(i / sets) % s->n_urls];
        char inst[280];

        for (const char *p = u; *p && n + 12 < sizeof inst; p++) {
            if (*p == '*')
                n += (size_t)snprintf(inst + n, sizeof inst - n, "k%zu", i);
            else
                inst[n++] = *p;
        }
        inst[n] = '\0';
        snprintf(out, size, "%s 443", inst);
        return;
    }
    if (s->n_ips > 0) {
        const char *c = s->ips[(i / sets) % s->n_ips];
        unsigned a, b, d, e;

        if (sscanf(c, "%u.%u.%u.%u", &a, &b, &d, &e) == 4)
            snprintf(out, size, "%u.%u.%u.%zu 443", a, b, d, (e + i) % 256);
        else
            snprintf(out, size, "%%5B%.*s%zx%%5D 443", (int)(strchr(c, '/') - c), c, i % 0xffff);
        return;
    }
    snprintf(out, size, "h%zu.example.net 443", i);
}

/* All N lines, "CHANNEL KEY - -\n", with channel IDs cycling 0..99. */
static char *batch_input(const o3b_table *t, size_t n, size_t *len)
{
    char *buf = malloc(n * 320), k[300];
    size_t used = 0;

    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        key(t, i, k, sizeof k);
        used += (size_t)sprintf(buf + used, "%zu %s - -\n", i % 100, k);
    }
    *len = used;
    return buf;
}

/* ---- replies --------------------------------------------------------------------------- */

struct tally {
    size_t lines, ok, err, bad;
    size_t next_channel; /* batch: the channel the next reply must carry */
    bool channels;
    char partial[4096];
    size_t partial_len;
};

static void count_line(struct tally *t, const char *line, size_t len)
{
    char want[16];
    size_t w = 0;

    if (t->channels) {
        w = (size_t)snprintf(want, sizeof want, "%zu ", t->next_channel);
        t->next_channel = (t->next_channel + 1) % 100;
        if (len < w || memcmp(line, want, w) != 0) {
            t->bad++;
            return;
        }
    }
    t->lines++;
    if (len >= w + 3 && memcmp(line + w, "OK ", 3) == 0)
        t->ok++;
    else if (len >= w + 4 && memcmp(line + w, "ERR ", 4) == 0)
        t->err++;
    else
        t->bad++;
}

static void count_replies(struct tally *t, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (t->partial_len < sizeof t->partial)
                t->partial[t->partial_len++] = data[i];
            continue;
        }
        count_line(t, t->partial, t->partial_len);
        t->partial_len = 0;
    }
}

/* ---- the three measurements ---------------------------------------------------------------- */

/* Send one line, wait for its reply. */
static int prime(struct helper *h)
{
    struct tally t = {0};
    char buf[4096];
    ssize_t n;

    if (write(h->to, "outlook.office.com 443\n", 23) != 23)
        return -1;
    while (t.lines + t.bad == 0 && (n = read(h->from, buf, sizeof buf)) > 0)
        count_replies(&t, buf, (size_t)n);
    return t.ok == 1 ? 0 : -1;
}

/* Spawn to first answer, in ms; `*cpu`: the helper's CPU seconds for that
   (configuration, table, one answer), subtracted from the batch's. */
static double startup_ms(const char *path, const char *config, double *cpu)
{
    struct helper h;
    double t0 = bench_now(), ms;

    if (spawn(&h, path, config) != 0 || prime(&h) != 0)
        return -1;
    ms = (bench_now() - t0) * 1e3;
    *cpu = finish(&h);
    return *cpu < 0 ? -1 : ms;
}

/* Write everything while reading the replies (poll both pipes). */
static int batch(const char *path, const char *config, const char *in, size_t len, size_t n,
                 double *wall, double *cpu, struct tally *t)
{
    struct helper h;
    size_t sent = 0;
    char buf[65536];
    double t0;

    memset(t, 0, sizeof *t);
    t->channels = true;
    if (spawn(&h, path, config) != 0 || prime(&h) != 0)
        return -1;
    fcntl(h.to, F_SETFL, O_NONBLOCK);
    t0 = bench_now();
    while (t->lines + t->bad < n) {
        struct pollfd p[2] = {{h.from, POLLIN, 0}, {sent < len ? h.to : -1, POLLOUT, 0}};
        ssize_t k;

        if (poll(p, 2, 10000) <= 0)
            return -1;
        if (p[1].revents & POLLOUT) {
            k = write(h.to, in + sent, len - sent > 65536 ? 65536 : len - sent);
            if (k < 0 && errno != EAGAIN)
                return -1;
            sent += k > 0 ? (size_t)k : 0;
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            if ((k = read(h.from, buf, sizeof buf)) <= 0)
                return -1;
            count_replies(t, buf, (size_t)k);
        }
    }
    *wall = bench_now() - t0;
    *cpu = finish(&h);
    return *cpu < 0 ? -1 : 0;
}

static int pingpong(const char *path, const char *config, const o3b_table *tab, size_t n,
                    double *p50, double *p99)
{
    static double rtt[PINGPONG_MAX];
    struct helper h;
    struct tally t = {0};
    char line[320], k[300], buf[4096];
    double mn, mx;

    if (spawn(&h, path, config) != 0 || prime(&h) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t before = t.lines + t.bad;
        double t0 = bench_now();
        int len;
        ssize_t r;

        key(tab, i + 7919, k, sizeof k); /* other keys than the batch's */
        len = snprintf(line, sizeof line, "%s - -\n", k);
        if (write(h.to, line, (size_t)len) != len)
            return -1;
        while (t.lines + t.bad == before && (r = read(h.from, buf, sizeof buf)) > 0)
            count_replies(&t, buf, (size_t)r);
        rtt[i] = (bench_now() - t0) * 1e6;
    }
    if (finish(&h) < 0 || t.bad != 0 || t.lines != n)
        return -1;
    *p50 = bench_median(rtt, n, &mn, &mx);
    *p99 = rtt[(size_t)((double)(n - 1) * 0.99)];
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL, *config = argc > 2 ? argv[2] : NULL;
    long keys = argc > 3 ? strtol(argv[3], NULL, 10) : 100000;
    struct o3b_load_opts lo = {0};
    struct tally t;
    double wall = 0, cpu = 0, start, start_cpu = 0, p50 = 0, p99 = 0;
    size_t n, len, pp;
    o3b_table *tab;
    char *in;
    o3b_err err;

    if (path == NULL || config == NULL) {
        fprintf(stderr, "usage: bench_acl HELPER CONFIG [KEYS]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    n = (size_t)(keys < 100 ? 100 : keys > 1000000 ? 1000000 : keys);
    pp = n < PINGPONG_MAX ? n : PINGPONG_MAX;
    tab = o3b_load_file(O3B_TEST_DATA "/worldwide-2025-11-14.json", &lo, &err);
    if (tab == NULL || (in = batch_input(tab, n, &len)) == NULL) {
        fprintf(stderr, "bench_acl: %s\n", tab ? "out of memory" : err.msg);
        return 1;
    }
    start = startup_ms(path, config, &start_cpu);
    if (start < 0 || batch(path, config, in, len, n, &wall, &cpu, &t) != 0 || t.bad != 0 ||
        pingpong(path, config, tab, pp, &p50, &p99) != 0) {
        fprintf(stderr, "bench_acl: the helper failed or answered something else than OK/ERR\n");
        return 1;
    }
    cpu -= start_cpu; /* what the N answers cost, without start-up */
    printf("start-up: %.1f ms from spawn to the first answer\n", start);
    printf("batch:    %zu distinct keys (%zu OK, %zu ERR) in %.3f s: %.0f answers/s, "
           "helper CPU %.2f us per answer\n",
           n, t.ok, t.err, wall, (double)n / wall, cpu * 1e6 / (double)n);
    printf("ping-pong: %zu keys one at a time: round trip p50 %.1f us, p99 %.1f us\n", pp, p50,
           p99);
    printf("ACLBENCH keys=%zu ok=%zu err=%zu answers_per_s=%.0f cpu_us=%.3f startup_ms=%.2f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           n, t.ok, t.err, (double)n / wall, cpu * 1e6 / (double)n, start, p50, p99);
    free(in);
    o3b_table_free(&tab);
    return 0;
}
