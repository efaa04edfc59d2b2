/* SPDX-License-Identifier: MIT */
/*
 * unit.h - tiny helpers shared by the CUnit test programs.
 *
 * Every test program registers its suites and calls o3b_unit_run(), which
 * runs them verbosely and returns a non-zero exit status when anything
 * failed, so `make check` sees the failure.  O3B_TEST_DATA is the path of
 * tests/data (set by Makefile.am).  The file helpers below (read a file,
 * make and remove a temporary tree, a closed loopback port) are the one
 * copy every test program uses.
 */
#ifndef O3B_TESTS_UNIT_H
#define O3B_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "o365bypass/io.h"

#ifndef O3B_TEST_DATA
#define O3B_TEST_DATA "tests/data"
#endif

struct o3b_unit_test {
    const char *name;
    CU_TestFunc fn;
};

#define O3B_TEST(fn)                                                                               \
    {                                                                                              \
#fn, fn                                                                                    \
    }

/* Register one suite: init/clean around it, setup before each test (any may be NULL). */
static inline int o3b_unit_add_suite(const char *name, const struct o3b_unit_test *tests, size_t n,
                                     CU_InitializeFunc init, CU_CleanupFunc clean,
                                     CU_SetUpFunc setup)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(name, init, clean, setup, NULL);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
            return -1;
    return 0;
}

/* snprintf that treats truncation as a bug in the test (abort). */
static inline void str_format(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void str_format(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "test: string too long for its buffer: %s\n", fmt);
        abort();
    }
}

/* Seconds on the monotonic clock. */
static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- files ------------------------------------------------------------------ */

/* A whole file (at most 64 MiB) into a new NUL-terminated buffer (caller
   frees), or NULL (the reason on stderr). */
static inline char *test_read_file(const char *path, size_t *len)
{
    o3b_err err = {{0}};
    char *buf = o3b_read_file(path, 64u << 20, len, &err);

    if (buf == NULL)
        fprintf(stderr, "\n  %s\n", err.msg);
    return buf;
}

/* A fresh directory "/tmp/o3b-test-NAME-XXXXXX" into buf; false on failure. */
static inline bool test_make_dir(char *buf, size_t size, const char *name)
{
    str_format(buf, size, "/tmp/o3b-test-%s-XXXXXX", name);
    return mkdtemp(buf) != NULL;
}

/* Remove `dir` and everything below it (or `dir` itself if it is a file). */
static inline void test_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];

    if (d == NULL) {
        unlink(dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        str_format(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            test_remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* A 127.0.0.1 port nobody listens on (bound, then released). */
static inline int test_closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Run everything registered; exit status for main(). */
static inline int o3b_unit_run(void)
{
    unsigned failed;

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    if (CU_get_error() != CUE_SUCCESS)
        failed++;
    CU_cleanup_registry();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* main() of a test program: one suite, init/clean around it and setup before
   each test (NULL when not needed). */
#define O3B_UNIT_MAIN_WITH(suite_name, table, init, clean, setup)                                  \
    int main(void)                                                                                 \
    {                                                                                              \
        if (CU_initialize_registry() != CUE_SUCCESS)                                               \
            return EXIT_FAILURE;                                                                   \
        if (o3b_unit_add_suite(suite_name, table, sizeof table / sizeof table[0], init, clean,     \
                               setup))                                                             \
            return EXIT_FAILURE;                                                                   \
        return o3b_unit_run();                                                                     \
    }

#define O3B_UNIT_MAIN(suite_name, table) O3B_UNIT_MAIN_WITH(suite_name, table, NULL, NULL, NULL)

#endif
