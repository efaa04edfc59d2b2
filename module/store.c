/* SPDX-License-Identifier: MIT */
/*
 * store.c - CacheDir's files and the table-choice rule (see store.h).
 *
 * Every path comes from one table of file-name formats.  Table files are
 * written as three pieces (wrapper head, the body as received, the closing
 * brace) so the body is never re-encoded.  The previous file is a hard link
 * to the current one made before the current one is replaced (no copy, no
 * size limit, and the current name never disappears); where links are not
 * supported it is a copy.  Every loaded file goes through one function that
 * applies the size limit and the instance claim, so the rule in
 * o3b_store_choose() is the same whichever file it looks at.
 */
#include "o365bypass/store.h"

#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o365bypass/instance.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"

#define PATH_MAX_LEN 4096
#define STATUS_MAX_BYTES 65536
#define NAME_PREFIX "endpoints-"
#define NAME_SUFFIX ".json"

/* File names inside CacheDir: head, then the instance (unless tail is
   NULL), then tail. */
static const struct {
    const char *head, *tail;
} file_names[O3B_STORE_FILE_COUNT] = {
    [O3B_STORE_CURRENT] = {NAME_PREFIX, NAME_SUFFIX},
    [O3B_STORE_PREVIOUS] = {NAME_PREFIX, ".prev" NAME_SUFFIX},
    [O3B_STORE_PENDING] = {NAME_PREFIX, ".pending" NAME_SUFFIX},
    [O3B_STORE_STATUS] = {"status-", ".json"},
    [O3B_STORE_CLIENT_ID] = {"client-request-id", NULL},
};

static const char *const source_names[] = {
    [O3B_SOURCE_CACHE] = "CacheDir",
    [O3B_SOURCE_SEED] = "SeedFile",
    [O3B_SOURCE_EMPTY] = "empty",
    [O3B_SOURCE_KEEP] = "kept",
};

const char *o3b_store_source_name(enum o3b_store_source s)
{
    return (unsigned)s < sizeof source_names / sizeof source_names[0] ? source_names[s] : "?";
}

const char *o3b_store_path(const struct o3b_store_params *p, enum o3b_store_file f, char *buf,
                           size_t size)
{
    const char *tail;
    int n;

    if (p->dir == NULL || (unsigned)f >= O3B_STORE_FILE_COUNT)
        return NULL;
    tail = file_names[f].tail;
    n = snprintf(buf, size, "%s/%s%s%s", p->dir, file_names[f].head, tail ? p->instance : "",
                 tail ? tail : "");
    return n >= 0 && (size_t)n < size ? buf : NULL;
}

size_t o3b_store_max_table_bytes(const struct o3b_store_params *p)
{
    return (size_t)(p->max_feed_bytes > 0 ? p->max_feed_bytes : 0) + O3B_STORE_WRAPPER_SLACK;
}

o3b_table *o3b_store_load_path(const struct o3b_store_params *p, const char *path, o3b_err *err)
{
    struct o3b_load_opts lo = {.max_bytes = o3b_store_max_table_bytes(p)};

    return o3b_load_file(path, &lo, err);
}

/* The instance a file's name claims ("endpoints-<instance>.json", any
   case), or NULL when the name claims none. */
static const char *instance_of_name(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t n = strlen(base), pre = strlen(NAME_PREFIX), suf = strlen(NAME_SUFFIX);
    enum o3b_instance i;

    if (n <= pre + suf || strncasecmp(base, NAME_PREFIX, pre) != 0 ||
        strcasecmp(base + n - suf, NAME_SUFFIX) != 0)
        return NULL;
    if (o3b_instance_parse(base + pre, n - pre - suf, &i) != 0)
        return NULL;
    return o3b_instance_name(i);
}

/*
 * Load a table file and check that it is the configured instance's: the
 * wrapper's "instance", else the file name's, else the configured one (the
 * table then carries the configured instance).  Returns 0, -1 (does not
 * load) or -2 (another instance's table).
 */
static int load_claimed(const struct o3b_store_params *p, const char *path, o3b_table **out,
                        o3b_err *err)
{
    struct o3b_load_opts lo = {.max_bytes = o3b_store_max_table_bytes(p)};
    struct o3b_table_meta meta = {0};
    const char *named = instance_of_name(path);
    const char *claim;

    *out = NULL;
    snprintf(meta.instance, sizeof meta.instance, "%s", named ? named : p->instance);
    lo.meta = &meta;
    *out = o3b_load_file(path, &lo, err);
    if (*out == NULL)
        return -1;
    claim = o3b_table_meta(*out)->instance;
    if (strcasecmp(claim, p->instance) != 0) {
        o3b_err_set(err, "%s is the %s table, not %s (by its %s)", path,
                    claim[0] ? claim : "(unnamed)", p->instance,
                    named && strcasecmp(named, claim) == 0 ? "file name" : "\"instance\" field");
        o3b_table_free(out);
        return -2;
    }
    return 0;
}

int o3b_store_load_seed(const struct o3b_store_params *p, o3b_table **out, o3b_err *err)
{
    *out = NULL;
    if (p->seed_file == NULL) {
        o3b_err_set(err, "no SeedFile configured");
        return -1;
    }
    return load_claimed(p, p->seed_file, out, err);
}

int o3b_store_load(const struct o3b_store_params *p, enum o3b_store_file f, o3b_table **out,
                   o3b_err *err)
{
    char path[PATH_MAX_LEN];

    *out = NULL;
    if (f > O3B_STORE_PENDING || o3b_store_path(p, f, path, sizeof path) == NULL ||
        access(path, F_OK) != 0)
        return 1;
    return load_claimed(p, path, out, err) == 0 ? 0 : -1;
}

/* ---- CacheDir ------------------------------------------------------------------- */

enum o3b_store_dir_state o3b_store_dir_check(const struct o3b_store_params *p, o3b_err *err)
{
    struct stat st;

    if (p->dir == NULL)
        return O3B_STORE_DIR_NONE;
    if (stat(p->dir, &st) != 0) {
        o3b_err_set(err, "CacheDir %s: %s", p->dir, strerror(errno));
        return errno == ENOENT ? O3B_STORE_DIR_MISSING : O3B_STORE_DIR_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        o3b_err_set(err, "CacheDir %s is not a directory", p->dir);
        return O3B_STORE_DIR_NOT_A_DIR;
    }
    if (access(p->dir, W_OK | X_OK) != 0) {
        o3b_err_set(err, "CacheDir %s is not writable: %s", p->dir, strerror(errno));
        return O3B_STORE_DIR_NOT_WRITABLE;
    }
    return O3B_STORE_DIR_OK;
}

int o3b_store_dir_prepare(const struct o3b_store_params *p, o3b_err *err)
{
    if (p->dir == NULL) {
        o3b_err_set(err, "no CacheDir");
        return -1;
    }
    if (mkdir(p->dir, 0750) != 0 && errno != EEXIST) {
        o3b_err_set(err, "cannot create CacheDir %s: %s", p->dir, strerror(errno));
        return -1;
    }
    return o3b_store_dir_check(p, err) == O3B_STORE_DIR_OK ? 0 : -1;
}

/* ---- writing tables ---------------------------------------------------------------- */

/* JSON string escaping for the few metadata strings of the wrapper. */
static void json_str(char *out, size_t size, const char *s)
{
    size_t o = 0;

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

static int write_table(const char *path, const char *body, size_t len,
                       const struct o3b_table_meta *meta, o3b_err *err)
{
    char head[2048], inst[80], ver[80], src[1100];
    struct o3b_piece pieces[3];

    json_str(inst, sizeof inst, meta->instance);
    json_str(ver, sizeof ver, meta->version);
    json_str(src, sizeof src, meta->source);
    snprintf(head, sizeof head,
             "{\"o365bypass\": 1, \"instance\": %s, \"version\": %s, \"fetched\": %lld, "
             "\"source\": %s,\n\"endpoints\": ",
             inst, ver, meta->fetched, src);
    pieces[0] = (struct o3b_piece){head, strlen(head)};
    pieces[1] = (struct o3b_piece){body, len};
    pieces[2] = (struct o3b_piece){"\n}\n", 3};
    return o3b_write_atomic_pieces(path, pieces, 3, err);
}

/* Copy `from` to `to` byte for byte, atomically. */
static int copy_file(const struct o3b_store_params *p, const char *from, const char *to,
                     o3b_err *err)
{
    size_t len;
    char *data = o3b_read_file(from, o3b_store_max_table_bytes(p), &len, err);
    int rc;

    if (data == NULL)
        return -1;
    rc = o3b_write_atomic(to, data, len, err);
    free(data);
    return rc;
}

/* current -> previous, before a new current; nothing to do without one. */
static int keep_previous(const struct o3b_store_params *p, o3b_err *err)
{
    char cur[PATH_MAX_LEN], prev[PATH_MAX_LEN], tmp[PATH_MAX_LEN + 32];

    if (o3b_store_path(p, O3B_STORE_CURRENT, cur, sizeof cur) == NULL ||
        o3b_store_path(p, O3B_STORE_PREVIOUS, prev, sizeof prev) == NULL) {
        o3b_err_set(err, "no CacheDir, or its path is too long");
        return -1;
    }
    if (access(cur, F_OK) != 0)
        return 0;
    snprintf(tmp, sizeof tmp, "%s.link.%ld", prev, (long)getpid());
    unlink(tmp);
    if (link(cur, tmp) == 0) {
        if (rename(tmp, prev) == 0)
            return 0;
        o3b_err_set(err, "rename %s -> %s: %s", tmp, prev, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return copy_file(p, cur, prev, err);
}

int o3b_store_save_current(const struct o3b_store_params *p, const char *body, size_t len,
                           const struct o3b_table_meta *meta, o3b_err *err)
{
    char path[PATH_MAX_LEN];

    if (p->dir == NULL) {
        o3b_err_set(err, "no CacheDir: a fetched table cannot reach the other processes");
        return -1;
    }
    if (o3b_store_dir_prepare(p, err) != 0 || keep_previous(p, err) != 0)
        return -1;
    if (o3b_store_path(p, O3B_STORE_CURRENT, path, sizeof path) == NULL) {
        o3b_err_set(err, "CacheDir path too long");
        return -1;
    }
    if (write_table(path, body, len, meta, err) != 0)
        return -1;
    /* a table held back before must not be accepted over a newer one */
    if (o3b_store_path(p, O3B_STORE_PENDING, path, sizeof path) != NULL)
        (void)unlink(path);
    return 0;
}

int o3b_store_save_pending(const struct o3b_store_params *p, const char *body, size_t len,
                           const struct o3b_table_meta *meta, o3b_err *err)
{
    char path[PATH_MAX_LEN];

    if (o3b_store_dir_prepare(p, err) != 0)
        return -1;
    if (o3b_store_path(p, O3B_STORE_PENDING, path, sizeof path) == NULL) {
        o3b_err_set(err, "CacheDir path too long");
        return -1;
    }
    return write_table(path, body, len, meta, err);
}

int o3b_store_accept(const struct o3b_store_params *p, o3b_table **out, o3b_err *err)
{
    char pending[PATH_MAX_LEN], current[PATH_MAX_LEN];
    o3b_table *t;

    *out = NULL;
    if (o3b_store_path(p, O3B_STORE_PENDING, pending, sizeof pending) == NULL ||
        o3b_store_path(p, O3B_STORE_CURRENT, current, sizeof current) == NULL) {
        o3b_err_set(err, "no CacheDir, so no pending table");
        return -1;
    }
    if (load_claimed(p, pending, &t, err) != 0) { /* validate again: the file is what counts */
        o3b_err_prefix(err, "no table to accept");
        return -1;
    }
    if (keep_previous(p, err) != 0) {
        o3b_table_free(&t);
        return -1;
    }
    if (rename(pending, current) != 0) {
        o3b_err_set(err, "cannot move %s to %s: %s", pending, current, strerror(errno));
        o3b_table_free(&t);
        return -1;
    }
    *out = t;
    return 0;
}

/* ---- the status file ------------------------------------------------------------------ */

int o3b_store_status_write(const struct o3b_store_params *p, const struct o3b_refresh_status *s,
                           o3b_err *err)
{
    char path[PATH_MAX_LEN];
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    int rc = -1;

    if (o3b_store_path(p, O3B_STORE_STATUS, path, sizeof path) == NULL) {
        o3b_err_set(err, "no CacheDir");
        goto out;
    }
    if (root == NULL || !cJSON_AddNumberToObject(root, "last_attempt", (double)s->last_attempt) ||
        !cJSON_AddNumberToObject(root, "last_success", (double)s->last_success) ||
        !cJSON_AddNumberToObject(root, "next_due", (double)s->next_due) ||
        !cJSON_AddStringToObject(root, "result", s->result) ||
        !cJSON_AddStringToObject(root, "client_request_id", s->client_request_id) ||
        (text = cJSON_PrintUnformatted(root)) == NULL) {
        o3b_err_set(err, "%s: out of memory", path);
        goto out;
    }
    {
        const struct o3b_piece pieces[2] = {{text, strlen(text)}, {"\n", 1}};
        rc = o3b_write_atomic_pieces(path, pieces, 2, err);
    }
out:
    free(text);
    cJSON_Delete(root);
    return rc;
}

static long long json_time(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    /* out of long long's range the cast is undefined: treat as unknown */
    return cJSON_IsNumber(v) && v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18
               ? (long long)v->valuedouble
               : 0;
}

static void json_text(const cJSON *o, const char *name, char *buf, size_t size)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));

    snprintf(buf, size, "%s", v ? v : "");
}

int o3b_store_status_read(const struct o3b_store_params *p, struct o3b_refresh_status *s,
                          o3b_err *err)
{
    char path[PATH_MAX_LEN];
    size_t len;
    char *text;
    cJSON *root;

    memset(s, 0, sizeof *s);
    if (o3b_store_path(p, O3B_STORE_STATUS, path, sizeof path) == NULL || access(path, F_OK) != 0)
        return 1;
    text = o3b_read_file(path, STATUS_MAX_BYTES, &len, err);
    root = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!cJSON_IsObject(root)) {
        if (text != NULL)
            o3b_err_set(err, "%s: not a JSON object", path);
        cJSON_Delete(root);
        return -1;
    }
    s->last_attempt = json_time(root, "last_attempt");
    s->last_success = json_time(root, "last_success");
    s->next_due = json_time(root, "next_due");
    json_text(root, "result", s->result, sizeof s->result);
    json_text(root, "client_request_id", s->client_request_id, sizeof s->client_request_id);
    cJSON_Delete(root);
    return 0;
}

/* ---- the ClientRequestId ----------------------------------------------------------------- */

bool o3b_guid_valid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    const char *p = s;

    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
                return false;
        if (g < 4 && *p++ != '-')
            return false;
    }
    return *p == '\0';
}

static int random_guid(char out[O3B_CLIENT_ID_SIZE])
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
    snprintf(out, O3B_CLIENT_ID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    return 0;
}

/* The GUID stored at `path`, if it holds one. */
static bool read_guid(const char *path, char out[O3B_CLIENT_ID_SIZE])
{
    char buf[64];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n \t")] = '\0';
    if (!o3b_guid_valid(buf)) /* exactly 36 characters */
        return false;
    memcpy(out, buf, O3B_CLIENT_ID_SIZE);
    return true;
}

int o3b_store_client_id(const struct o3b_store_params *p, char out[O3B_CLIENT_ID_SIZE],
                        o3b_err *err)
{
    char path[PATH_MAX_LEN], line[64];
    bool stored = o3b_store_path(p, O3B_STORE_CLIENT_ID, path, sizeof path) != NULL;

    out[0] = '\0';
    if (stored && read_guid(path, out))
        return 0;
    if (random_guid(out) != 0) {
        o3b_err_set(err, "getrandom: %s", strerror(errno));
        return -1;
    }
    if (!stored)
        return 0;
    /* create CacheDir now, so a fresh GUID is kept from the first start */
    snprintf(line, sizeof line, "%s\n", out);
    if (o3b_store_dir_prepare(p, err) != 0)
        return -1;
    return o3b_write_atomic(path, line, strlen(line), err);
}

/* ---- which table serves ----------------------------------------------------------------- */

static void note(struct o3b_store_choice *c, const char *fmt, ...) O3B_PRINTF(2, 3);
static void note(struct o3b_store_choice *c, const char *fmt, ...)
{
    size_t used = strlen(c->notes);
    va_list ap;

    if (used + 1 >= sizeof c->notes)
        return;
    va_start(ap, fmt);
    vsnprintf(c->notes + used, sizeof c->notes - used, fmt, ap);
    va_end(ap);
}

/* 1 chosen, 0 no current file (or no CacheDir), -1 there but unusable. */
static int try_cache(const struct o3b_store_params *p, struct o3b_store_choice *c)
{
    o3b_err err = {{0}};
    int rc = o3b_store_load(p, O3B_STORE_CURRENT, &c->table, &err);

    if (rc == 1)
        return 0;
    if (rc != 0) {
        note(c, "cache file skipped: %s; ", err.msg);
        return -1;
    }
    c->source = O3B_SOURCE_CACHE;
    return 1;
}

static bool try_seed(const struct o3b_store_params *p, struct o3b_store_choice *c)
{
    o3b_err err = {{0}};

    if (o3b_store_load_seed(p, &c->table, &err) != 0) {
        note(c, "SeedFile skipped: %s; ", err.msg);
        return false;
    }
    c->source = O3B_SOURCE_SEED;
    return true;
}

static int choose_empty(const struct o3b_store_params *p, struct o3b_store_choice *c)
{
    struct o3b_table_meta meta = {0};

    note(c, "starting with an EMPTY table: nothing is bypassed");
    snprintf(meta.source, sizeof meta.source, "(empty)");
    snprintf(meta.instance, sizeof meta.instance, "%s", p->instance);
    c->table = o3b_table_new_empty(&meta);
    c->source = O3B_SOURCE_EMPTY;
    return c->table != NULL ? 0 : -1;
}

int o3b_store_choose(const struct o3b_store_params *p, const o3b_table *in_use,
                     struct o3b_store_choice *out)
{
    int cache;

    memset(out, 0, sizeof *out);
    cache = try_cache(p, out);
    if (cache == 1)
        return 0;
    /* a broken current file never hands over to the seed: keep what serves */
    if (cache < 0 && in_use != NULL) {
        note(out, "the table in use stays");
        out->source = O3B_SOURCE_KEEP;
        return 0;
    }
    if (try_seed(p, out))
        return 0;
    if (in_use != NULL) { /* never replace a table by an empty one */
        note(out, "the table in use stays");
        out->source = O3B_SOURCE_KEEP;
        return 0;
    }
    return choose_empty(p, out);
}
