/*
 * unit.h - tiny helpers shared by the CUnit test programs.
 *
 * Every test program registers its suites and calls o3b_unit_run(), which
 * runs them verbosely and returns a non-zero exit status when anything
 * failed, so `make check` sees the failure.  O3B_TEST_DATA is the path of
 * tests/data (set by Makefile.am).
 */
#ifndef O3B_TESTS_UNIT_H
#define O3B_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef O3B_TEST_DATA
#define O3B_TEST_DATA "tests/data"
#endif

struct o3b_unit_test {
    const char *name;
    CU_TestFunc fn;
};

#define O3B_TEST(fn) { #fn, fn }

/* Register one suite: init/clean around it, setup before each test (any may be NULL). */
static inline int o3b_unit_add_suite(const char *name, const struct o3b_unit_test *tests,
                                     size_t n, CU_InitializeFunc init, CU_CleanupFunc clean,
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
#define O3B_UNIT_MAIN_WITH(suite_name, table, init, clean, setup)                 \
    int main(void)                                                                \
    {                                                                             \
        if (CU_initialize_registry() != CUE_SUCCESS)                              \
            return EXIT_FAILURE;                                                  \
        if (o3b_unit_add_suite(suite_name, table, sizeof table / sizeof table[0], \
                               init, clean, setup))                               \
            return EXIT_FAILURE;                                                  \
        return o3b_unit_run();                                                    \
    }

#define O3B_UNIT_MAIN(suite_name, table) O3B_UNIT_MAIN_WITH(suite_name, table, NULL, NULL, NULL)

#endif
