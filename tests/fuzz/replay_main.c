/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c - run a fuzz target over saved inputs, without libFuzzer.
 *
 * Usage: replay_NAME [FILE|DIR]...  Every regular file named (directories:
 * every regular file directly inside, in name order, dot files skipped) is
 * read into a buffer of exactly its size, so ASan catches reads past the
 * end as libFuzzer would, and handed to LLVMFuzzerTestOneInput().  Without
 * arguments the corpus compiled in as O3B_FUZZ_CORPUS is replayed; that is
 * what `make check` runs.  A broken invariant aborts (the target's own
 * check); unreadable or missing inputs, or no input at all, fail with exit
 * status 1.  Prints how many inputs ran.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define INPUT_MAX (64u * 1024u * 1024u)

/* Read a whole file into an exact-size buffer (caller frees). */
static unsigned char *read_input(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    unsigned char *buf = NULL;

    if (f == NULL)
        return NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= INPUT_MAX) {
        *size = (size_t)st.st_size;
        buf = malloc(*size ? *size : 1);
        if (buf != NULL && fread(buf, 1, *size, f) != *size) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static int run_file(const char *path, unsigned long *count)
{
    size_t size = 0;
    unsigned char *buf;

    errno = 0;
    buf = read_input(path, &size);
    if (buf == NULL) {
        fprintf(stderr, "replay: %s: cannot read: %s\n", path, errno ? strerror(errno) : "?");
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    (*count)++;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int run_dir(const char *dir, unsigned long *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_dot, by_name), rc = 0;

    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path, count) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static int run_path(const char *path, unsigned long *count)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? run_dir(path, count) : run_file(path, count);
}

int main(int argc, char **argv)
{
#ifdef O3B_FUZZ_CORPUS
    static const char *const fallback[] = {O3B_FUZZ_CORPUS};
#else
    static const char *const fallback[] = {"."};
#endif
    unsigned long count = 0;
    int rc = 0, n = argc > 1 ? argc - 1 : 1;

    for (int i = 0; i < n; i++)
        if (run_path(argc > 1 ? argv[i + 1] : fallback[0], &count) != 0)
            rc = 1;
    printf("%s: replayed %lu inputs%s\n", argv[0], count, rc ? " (some unreadable)" : "");
    if (count == 0) {
        fprintf(stderr, "replay: no input found\n");
        rc = 1;
    }
    return rc;
}
