/* SPDX-License-Identifier: MIT */
/*
 * loader.c - endpoint-service JSON (or our cache wrapper) into a table.
 *
 * cJSON parses the whole buffer; each endpoint set is then mapped onto the
 * table builder, which validates the values.  Errors name the place: a
 * line and column for syntax errors (computed from the parse end cJSON
 * reports, thread-safely), "set #N (id I): field[k]" for content.  The
 * finished table then passes trust.h's outright refusals or is freed.
 * Either the whole input becomes a table or nothing does.
 */
#include "o365bypass/loader.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/io.h"

#include "o365bypass/trust.h"

#define CACHE_FORMAT 1

static void where(const char *buf, size_t len, const char *at, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = buf; p < at && p < buf + len; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Optional string field: absent or null → NULL; anything else must be a string. */
static int opt_string(const cJSON *obj, const char *name, const char **out, o3b_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        o3b_err_set(err, "'%s' must be a string", name);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static int get_bool(const cJSON *obj, const char *name, bool required, bool *out, o3b_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = false;
    if (v == NULL || cJSON_IsNull(v)) {
        if (required) {
            o3b_err_set(err, "'%s' is missing", name);
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        o3b_err_set(err, "'%s' must be true or false", name);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_id(const cJSON *obj, long long *out, o3b_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "id");

    if (v == NULL || !cJSON_IsNumber(v)) {
        o3b_err_set(err, "'id' is missing or not a number");
        return -1;
    }
    if (v->valuedouble < 1 || v->valuedouble > 2147483647.0 ||
        v->valuedouble != (double)(long long)v->valuedouble) {
        o3b_err_set(err, "'id' %g is not a positive integer", v->valuedouble);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

/*
 * cJSON decodes "\u0000" into a NUL inside the C string it returns, so a
 * value such as "Exchange\u0000..." would be validated and stored cut short.
 * No feed has one: find the escape (an odd run of backslashes before
 * "u0000") so the input can be refused.  Returns where it starts, or NULL.
 */
static const char *escaped_nul(const char *buf, size_t len)
{
    for (size_t i = 0; i + 5 < len; i++) {
        if (buf[i] != '\\')
            continue;
        if (buf[i + 1] == '\\') {
            i++; /* an escaped backslash: the next character is plain */
            continue;
        }
        if (buf[i + 1] == 'u' && memcmp(buf + i + 2, "0000", 4) == 0)
            return buf + i;
    }
    return NULL;
}

typedef int (*add_item_fn)(o3b_table_builder *, const char *, size_t, o3b_err *);

/* "urls" / "ips": absent or null = none; otherwise an array of strings. */
static int add_list(o3b_table_builder *b, const cJSON *set, const char *name, add_item_fn add,
                    o3b_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(set, name);
    const cJSON *it;
    int k = 0;

    if (arr == NULL || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr)) {
        o3b_err_set(err, "'%s' must be an array of strings", name);
        return -1;
    }
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || it->valuestring == NULL) {
            o3b_err_set(err, "%s[%d] is not a string", name, k);
            return -1;
        }
        if (add(b, it->valuestring, strlen(it->valuestring), err) != 0) {
            o3b_err_prefix(err, "%s[%d]", name, k);
            return -1;
        }
        k++;
    }
    return 0;
}

static int add_set(o3b_table_builder *b, const cJSON *set, o3b_err *err)
{
    struct o3b_set_spec spec = {0};

    if (!cJSON_IsObject(set)) {
        o3b_err_set(err, "not a JSON object");
        return -1;
    }
    if (get_id(set, &spec.id, err) != 0 ||
        opt_string(set, "serviceArea", &spec.service_area, err) != 0 ||
        opt_string(set, "serviceAreaDisplayName", &spec.area_display, err) != 0 ||
        opt_string(set, "category", &spec.category, err) != 0 ||
        opt_string(set, "tcpPorts", &spec.tcp_ports, err) != 0 ||
        opt_string(set, "udpPorts", &spec.udp_ports, err) != 0 ||
        opt_string(set, "notes", &spec.notes, err) != 0 ||
        get_bool(set, "required", true, &spec.required, err) != 0 ||
        get_bool(set, "expressRoute", false, &spec.express_route, err) != 0)
        return -1;
    if (spec.service_area == NULL) {
        o3b_err_set(err, "'serviceArea' is missing");
        return -1;
    }
    if (spec.category == NULL) {
        o3b_err_set(err, "'category' is missing");
        return -1;
    }
    if (o3b_table_builder_add_set(b, &spec, err) != 0)
        return -1;
    if (add_list(b, set, "urls", o3b_table_builder_add_url, err) != 0 ||
        add_list(b, set, "ips", o3b_table_builder_add_ip, err) != 0)
        return -1;
    return 0;
}

/* 1..max characters of [A-Za-z0-9_-]. */
static bool plain_word(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static void copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* The cache wrapper: take meta from it and return its "endpoints" array. */
static const cJSON *unwrap(const cJSON *root, struct o3b_table_meta *meta, o3b_err *err)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "o365bypass");
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "endpoints");
    const cJSON *fetched = cJSON_GetObjectItemCaseSensitive(root, "fetched");
    const char *s;

    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != CACHE_FORMAT) {
        o3b_err_set(err, "a JSON object that is not an o365bypass cache file (expected an array "
                         "of endpoint sets)");
        return NULL;
    }
    if (!cJSON_IsArray(eps)) {
        o3b_err_set(err, "cache file without an 'endpoints' array");
        return NULL;
    }
    /* instance and version end up in log lines, the ISTag and ICAP headers:
       only the shapes Microsoft uses, so a tampered file cannot inject */
    if (opt_string(root, "instance", &s, err) != 0)
        return NULL;
    if (s && !plain_word(s, 31)) {
        o3b_err_set(err, "cache file: \"instance\" is not a plain name");
        return NULL;
    }
    if (s)
        copy_field(meta->instance, sizeof meta->instance, s);
    if (opt_string(root, "version", &s, err) != 0)
        return NULL;
    if (s && s[0] != '\0' && (strlen(s) != 10 || strspn(s, "0123456789") != 10)) {
        o3b_err_set(err, "cache file: \"version\" is not a 10-digit version");
        return NULL;
    }
    if (s)
        copy_field(meta->version, sizeof meta->version, s);
    if (opt_string(root, "source", &s, err) != 0)
        return NULL;
    for (const char *p = s; p && *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            o3b_err_set(err, "cache file: \"source\" holds a control or non-ASCII byte");
            return NULL;
        }
    if (s)
        copy_field(meta->source, sizeof meta->source, s);
    /* out of long long's range the cast is undefined: leave "unknown" (0) */
    if (cJSON_IsNumber(fetched) && fetched->valuedouble > -9.2e18 && fetched->valuedouble < 9.2e18)
        meta->fetched = (long long)fetched->valuedouble;
    return eps;
}

static o3b_table *build(const cJSON *arr, const struct o3b_table_meta *meta, bool allow_empty,
                        o3b_err *err)
{
    o3b_table_builder *b = o3b_table_builder_new();
    const cJSON *set;
    int k = 0;

    if (b == NULL) {
        o3b_err_set(err, "out of memory");
        return NULL;
    }
    cJSON_ArrayForEach(set, arr)
    {
        if (add_set(b, set, err) != 0) {
            const cJSON *id =
                cJSON_IsObject(set) ? cJSON_GetObjectItemCaseSensitive(set, "id") : NULL;
            if (cJSON_IsNumber(id))
                o3b_err_prefix(err, "set #%d (id %g)", k + 1, id->valuedouble);
            else
                o3b_err_prefix(err, "set #%d", k + 1);
            o3b_table_builder_free(&b);
            return NULL;
        }
        k++;
    }
    return o3b_table_builder_finish(&b, meta, allow_empty, err);
}

o3b_table *o3b_load_json(const char *buf, size_t len, const struct o3b_load_opts *opts,
                         o3b_err *err)
{
    size_t max = (opts && opts->max_bytes) ? opts->max_bytes : O3B_LOAD_MAX_BYTES_DEFAULT;
    struct o3b_table_meta meta = {0};
    const char *end = NULL;
    const cJSON *arr;
    cJSON *root;
    o3b_table *t = NULL;

    if (opts && opts->meta)
        meta = *opts->meta;
    if (len > max) {
        o3b_err_set(err, "%zu bytes is over the %zu-byte limit", len, max);
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (root == NULL) {
        unsigned line, col;
        where(buf, len, end ? end : buf, &line, &col);
        o3b_err_set(err, "line %u, column %u: %s", line, col,
                    (end && (size_t)(end - buf) + 1 >= len) ? "unexpected end of JSON"
                                                            : "invalid JSON");
        return NULL;
    }
    for (const char *p = end; p && p < buf + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
            unsigned line, col;
            where(buf, len, p, &line, &col);
            o3b_err_set(err, "line %u, column %u: data after the end of the JSON value", line, col);
            cJSON_Delete(root);
            return NULL;
        }
    }
    {
        const char *nul = escaped_nul(buf, end ? (size_t)(end - buf) : len);
        if (nul != NULL) {
            unsigned line, col;
            where(buf, len, nul, &line, &col);
            o3b_err_set(err, "line %u, column %u: \\u0000 (NUL) inside a string is refused", line,
                        col);
            cJSON_Delete(root);
            return NULL;
        }
    }
    if (cJSON_IsArray(root)) {
        arr = root;
    } else if (cJSON_IsObject(root)) {
        arr = unwrap(root, &meta, err);
    } else {
        o3b_err_set(err, "expected a JSON array of endpoint sets");
        arr = NULL;
    }
    if (arr != NULL)
        t = build(arr, &meta, opts && opts->allow_empty, err);
    cJSON_Delete(root);
    if (t != NULL && o3b_trust_check_table(t, opts ? opts->in_use : NULL, err) != 0)
        o3b_table_free(&t);
    return t;
}

o3b_table *o3b_load_file(const char *path, const struct o3b_load_opts *opts, o3b_err *err)
{
    size_t max = (opts && opts->max_bytes) ? opts->max_bytes : O3B_LOAD_MAX_BYTES_DEFAULT;
    struct o3b_table_meta meta = {0};
    struct o3b_load_opts o = {0};
    size_t len;
    char *buf = o3b_read_file(path, max, &len, err);
    o3b_table *t;

    if (buf == NULL)
        return NULL;
    if (opts)
        o = *opts;
    if (opts && opts->meta)
        meta = *opts->meta;
    if (meta.source[0] == '\0')
        copy_field(meta.source, sizeof meta.source, path);
    o.meta = &meta;
    t = o3b_load_json(buf, len, &o, err);
    if (t == NULL)
        o3b_err_prefix(err, "%s", path);
    free(buf);
    return t;
}
