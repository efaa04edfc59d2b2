/*
 * cachefile.c - atomic files in CacheDir (see cachefile.h).
 */
#include "o365bypass/cachefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o365bypass/config.h"
#include "o365bypass/loader.h"

char *o3b_cache_path(const char *dir, const char *instance, enum o3b_cache_kind kind, char *buf,
                     size_t size)
{
    static const char *const suffix[] = {"", ".prev", ".pending"};

    snprintf(buf, size, "%s/endpoints-%s%s.json", dir, instance, suffix[kind]);
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

/* Write pieces to a temp file next to `path`, fsync, rename. */
static int write_pieces(const char *path, const void *const *data, const size_t *lens, int n,
                        o3b_err *err)
{
    char tmp[4200];
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        o3b_err_set(err, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (write_all(fd, data[i], lens[i]) != 0)
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
    const void *pieces[1] = {data};
    size_t lens[1] = {len};

    return write_pieces(path, pieces, lens, 1, err);
}

/* JSON string escaping for the few metadata strings we write. */
static void json_str(char *out, size_t size, const char *s)
{
    size_t o = 0;

    if (size < 3)
        return;
    out[o++] = '"';
    for (; *s && o + 8 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

int o3b_cache_write_table(const char *path, const char *body, size_t len,
                          const struct o3b_table_meta *meta, o3b_err *err)
{
    char head[2048], inst[80], ver[80], src[1100];
    const void *pieces[3];
    size_t lens[3];

    json_str(inst, sizeof inst, meta->instance);
    json_str(ver, sizeof ver, meta->version);
    json_str(src, sizeof src, meta->source);
    snprintf(head, sizeof head,
             "{\"o365bypass\": 1, \"instance\": %s, \"version\": %s, \"fetched\": %lld, "
             "\"source\": %s,\n\"endpoints\": ",
             inst, ver, meta->fetched, src);
    pieces[0] = head;
    lens[0] = strlen(head);
    pieces[1] = body;
    lens[1] = len;
    pieces[2] = "\n}\n";
    lens[2] = 3;
    return write_pieces(path, pieces, lens, 3, err);
}

int o3b_cache_keep_previous(const char *dir, const char *instance, o3b_err *err)
{
    char cur[4096], prev[4096];
    size_t len;
    char *data;
    int rc;

    o3b_cache_path(dir, instance, O3B_CACHE_CURRENT, cur, sizeof cur);
    o3b_cache_path(dir, instance, O3B_CACHE_PREVIOUS, prev, sizeof prev);
    if (access(cur, F_OK) != 0)
        return 0; /* nothing to keep yet */
    data = o3b_read_file(cur, 64u * 1024 * 1024, &len, err);
    if (data == NULL)
        return -1;
    rc = o3b_write_atomic(prev, data, len, err);
    free(data);
    return rc;
}

static int random_guid(char out[37])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
    return 0;
}

int o3b_client_request_id(const char *dir, char out[37], o3b_err *err)
{
    char path[4096], buf[64];
    FILE *f;

    out[0] = '\0';
    if (dir != NULL && dir[0] != '\0') {
        snprintf(path, sizeof path, "%s/client-request-id", dir);
        f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            buf[strcspn(buf, "\r\n \t")] = '\0';
            if (o3b_guid_valid(buf)) { /* exactly 36 characters */
                memcpy(out, buf, 37);
                return 0;
            }
        }
    }
    if (random_guid(out) != 0) {
        o3b_err_set(err, "getrandom: %s", strerror(errno));
        return -1;
    }
    if (dir == NULL || dir[0] == '\0')
        return 0;
    snprintf(buf, sizeof buf, "%s\n", out);
    return o3b_write_atomic(path, buf, strlen(buf), err);
}

int o3b_cache_dir_prepare(const char *dir, o3b_err *err)
{
    struct stat st;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        o3b_err_set(err, "cannot create CacheDir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        o3b_err_set(err, "CacheDir %s is not a directory", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        o3b_err_set(err, "CacheDir %s is not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}
