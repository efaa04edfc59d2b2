/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the fuzz targets and the replay driver share.
 *
 * Each target is one C file with LLVMFuzzerTestOneInput(); it is linked
 * either with libFuzzer (`make fuzz`, tests/fuzz/run-fuzz.sh) or with
 * replay_main.c (`make check` replays the committed corpora).  Targets set
 * themselves up lazily on the first input, so neither driver needs an init
 * hook.  A broken invariant prints what and where, then abort()s: libFuzzer
 * and the replay driver both report that as a crash.
 */
#ifndef O3B_TESTS_FUZZ_H
#define O3B_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef O3B_TEST_DATA
#define O3B_TEST_DATA "tests/data"
#endif

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where tests/data is: $O3B_FUZZ_DATA, else the path compiled in. */
static inline const char *o3b_fuzz_data_dir(void)
{
    const char *env = getenv("O3B_FUZZ_DATA");

    return (env != NULL && env[0] != '\0') ? env : O3B_TEST_DATA;
}

_Noreturn static inline void o3b_fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

/* assert() that survives NDEBUG and names the broken invariant. */
#define O3B_FUZZ_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            o3b_fuzz_fail(#cond, __FILE__, __LINE__);                                              \
    } while (0)

#endif
