/* SPDX-License-Identifier: MIT */
/*
 * io.c - bounded whole-file reads, atomic whole-file writes (see io.h).
 *
 * The read checks the size with fstat() on the opened file (not the path),
 * so what is measured is what is read; a file that grows meanwhile yields a
 * short read and is refused.  The write is the classic temp + fsync +
 * rename + fsync(dir); the temporary name carries the pid so processes
 * never share one.
 */
#include "o365bypass/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *o3b_read_file(const char *path, size_t max_bytes, size_t *len, o3b_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;
    size_t n;

    if (f == NULL) {
        o3b_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        o3b_err_set(err, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        o3b_err_set(err, "%s: %lld bytes is over the %zu-byte limit", path, (long long)st.st_size,
                    max_bytes);
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        o3b_err_set(err, "%s: out of memory", path);
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size || ferror(f)) {
        o3b_err_set(err, "%s: short read", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding `path`, so the rename itself is durable. */
static void fsync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path > 0 ? slash - path : 1), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int o3b_write_atomic_pieces(const char *path, const struct o3b_piece *pieces, size_t n,
                            o3b_err *err)
{
    char tmp[4200];
    int fd;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        o3b_err_set(err, "%s: path too long", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        o3b_err_set(err, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (write_all(fd, pieces[i].data, pieces[i].len) != 0)
            goto fail;
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        o3b_err_set(err, "rename %s -> %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    fsync_dir_of(path);
    return 0;
fail:
    o3b_err_set(err, "%s: %s", tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int o3b_write_atomic(const char *path, const void *data, size_t len, o3b_err *err)
{
    const struct o3b_piece one = {data, len};

    return o3b_write_atomic_pieces(path, &one, 1, err);
}
