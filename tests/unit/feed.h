/* SPDX-License-Identifier: MIT */
/*
 * feed.h - start and stop tests/tools/feedserver.py for a test program.
 *
 * The one copy test_fetcher and test_refresher share: the server listens on
 * 127.0.0.1 on a port it picks and prints "PORT <n>" on its stdout, which is
 * read within FEED_START_TIMEOUT_S; it dies with the test (PR_SET_PDEATHSIG)
 * and is stopped by PID (SIGTERM, then SIGKILL after 5 s, always reaped).
 * Header-only: include it once, after unit.h.
 */
#ifndef O3B_TESTS_FEED_H
#define O3B_TESTS_FEED_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef O3B_TOP_SRCDIR
#define O3B_TOP_SRCDIR "."
#endif

#define FEED_PYTHON "/usr/bin/python3"
#define FEED_SERVER O3B_TOP_SRCDIR "/tests/tools/feedserver.py"
#define FEED_START_TIMEOUT_S 10.0

struct test_feed {
    pid_t pid;
    int out_fd;    /* the server's stdout; kept open until stop */
    char base[64]; /* "http://127.0.0.1:PORT" (https with a certificate) */
};

#define TEST_FEED_INIT                                                                             \
    {                                                                                              \
        .pid = -1, .out_fd = -1, .base = ""                                                        \
    }

/* Read the "PORT <n>" line within FEED_START_TIMEOUT_S; the port or -1. */
static inline int feed_read_port(int fd)
{
    char line[64];
    size_t used = 0;
    double deadline = now_s() + FEED_START_TIMEOUT_S;
    int port;

    while (used < sizeof line - 1 && now_s() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};

        if (poll(&p, 1, 200) <= 0)
            continue;
        if (read(fd, line + used, 1) != 1)
            return -1;
        if (line[used++] == '\n')
            break;
    }
    line[used] = '\0';
    if (sscanf(line, "PORT %d", &port) != 1 || port <= 0 || port > 65535)
        return -1;
    return port;
}

/* In the forked child: the server, with stdout to `out_fd`, or _exit(127). */
static inline void feed_exec(int out_fd, const char *cert, const char *key)
{
    const char *argv[] = {FEED_PYTHON, FEED_SERVER,           "--port", "0", "--lifetime",
                          "300",       cert ? "--tls" : NULL, cert,     key, NULL};
    char *copy[sizeof argv / sizeof argv[0]];
    size_t n = 0;

#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    /* execv wants mutable strings; the copies die with the exec */
    for (; argv[n] != NULL; n++)
        if ((copy[n] = strdup(argv[n])) == NULL)
            _exit(127);
    copy[n] = NULL;
    if (dup2(out_fd, STDOUT_FILENO) >= 0)
        execv(FEED_PYTHON, copy);
    _exit(127);
}

/* Start the server (HTTPS when `cert` and `key` are given); 0 or -1. */
static inline int feed_start(struct test_feed *f, const char *cert, const char *key)
{
    int fds[2];
    int port;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    f->pid = fork();
    if (f->pid == 0)
        feed_exec(fds[1], cert, key);
    close(fds[1]);
    f->out_fd = fds[0];
    if (f->pid < 0 || (port = feed_read_port(f->out_fd)) < 0) {
        fprintf(stderr, "feedserver.py did not start\n");
        return -1;
    }
    str_format(f->base, sizeof f->base, "%s://127.0.0.1:%d", cert ? "https" : "http", port);
    return 0;
}

/* SIGTERM, wait up to 5 s, then SIGKILL; always reaps the child. */
static inline void feed_stop(struct test_feed *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        for (int i = 0; i < 100 && waitpid(f->pid, NULL, WNOHANG) == 0; i++)
            usleep(50000);
        if (waitpid(f->pid, NULL, WNOHANG) == 0) {
            kill(f->pid, SIGKILL);
            waitpid(f->pid, NULL, 0);
        }
    }
    if (f->out_fd >= 0)
        close(f->out_fd);
    f->pid = -1;
    f->out_fd = -1;
}

#endif
