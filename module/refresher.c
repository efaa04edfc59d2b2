/* SPDX-License-Identifier: MIT */
/*
 * refresher.c - version check, download, validation, guards, store.
 *
 * The state machine is small on purpose: `next_due` (when the next version
 * check may run), `endpoints_not_before` (the 429 rule) and `failures` (for
 * the backoff).  The guards are one ordered list of functions with one
 * signature; what they hold back goes to the store's pending file, never
 * into memory.  Every exit path either returns a table that is already
 * saved in CacheDir or leaves the table in use untouched.
 */
#include "o365bypass/refresher.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "o365bypass/fetcher.h"
#include "o365bypass/loader.h"
#include "o365bypass/store.h"
#include "o365bypass/trust.h"

/* Copy with truncation (snprintf without the truncation warning). */
static void copy_trunc(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

struct o3b_refresher {
    const struct o3b_config *cfg;
    char client_id[O3B_CLIENT_ID_SIZE];
    time_t next_due;
    time_t endpoints_not_before;
    unsigned failures;
};

/* The guards, in order: the first that holds a new table back decides. */
static const struct {
    o3b_guard_fn check;
    enum o3b_refresh_outcome held; /* the outcome when it holds */
} guards[] = {
    {o3b_guard_shrink, O3B_REFRESH_SHRINK},
    {o3b_guard_grow, O3B_REFRESH_GROW},
};

struct o3b_refresher *o3b_refresher_new(const struct o3b_config *cfg, time_t now, long first_delay,
                                        o3b_err *err)
{
    struct o3b_store_params store = o3b_config_store_params(cfg);
    struct o3b_refresher *r = calloc(1, sizeof *r);

    if (r == NULL) {
        o3b_err_set(err, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->next_due = now + (first_delay > 0 ? first_delay : 0);
    if (cfg->client_request_id != NULL) {
        copy_trunc(r->client_id, sizeof r->client_id, cfg->client_request_id);
    } else if (o3b_store_client_id(&store, r->client_id, err) != 0 && r->client_id[0] == '\0') {
        free(r);
        return NULL;
    }
    return r;
}

void o3b_refresher_free(struct o3b_refresher **r)
{
    if (r == NULL || *r == NULL)
        return;
    free(*r);
    *r = NULL;
}

time_t o3b_refresher_next_due(const struct o3b_refresher *r)
{
    return r->cfg->refresh_interval > 0 ? r->next_due : 0;
}

const char *o3b_refresher_client_id(const struct o3b_refresher *r)
{
    return r->client_id;
}

char *o3b_refresher_endpoints_url(const struct o3b_config *cfg, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/endpoints/%s", cfg->service_url, cfg->instance);
    char sep = '?';

    if (n < 0 || (size_t)n >= size)
        return buf;
    if (cfg->service_areas_param != NULL) {
        n +=
            snprintf(buf + n, size - (size_t)n, "%cServiceAreas=%s", sep, cfg->service_areas_param);
        sep = '&';
    }
    if (cfg->policy.n_tenants == 1 && (size_t)n < size) {
        n += snprintf(buf + n, size - (size_t)n, "%cTenantName=%s", sep, cfg->policy.tenants[0]);
        sep = '&';
    }
    if (cfg->no_ipv6 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "%cNoIPv6=true", sep);
    return buf;
}

static void with_client_id(const char *url, const char *id, char *buf, size_t size)
{
    snprintf(buf, size, "%s%cClientRequestId=%s", url, strchr(url, '?') ? '&' : '?', id);
}

struct o3b_fetch_opts o3b_config_fetch_opts(const struct o3b_config *cfg)
{
    struct o3b_fetch_opts o = {0};

    o.ca_file = cfg->ca_file;
    o.ca_path = cfg->ca_path;
    o.proxy = cfg->fetch_proxy;
    o.connect_timeout_s = cfg->connect_timeout;
    o.total_timeout_s = cfg->fetch_timeout;
    o.max_bytes = (size_t)cfg->max_feed_bytes;
    return o;
}

static unsigned jitter_percent(void)
{
    unsigned char b = 0;

    if (getrandom(&b, 1, GRND_NONBLOCK) != 1)
        b = (unsigned char)(time(NULL) & 0xff);
    return b % 26u; /* 0..25 */
}

static void schedule_after_success(struct o3b_refresher *r, time_t now)
{
    r->failures = 0;
    r->next_due = now + r->cfg->refresh_interval;
}

static void schedule_after_failure(struct o3b_refresher *r, time_t now)
{
    long base = r->cfg->refresh_interval > 0 ? r->cfg->refresh_interval : 3600;
    unsigned shift = r->failures < 4 ? r->failures : 3;
    long delay = base << shift;

    r->failures++;
    delay += delay * (long)jitter_percent() / 100;
    r->next_due = now + delay;
}

static time_t top_of_next_hour(time_t now)
{
    return (now / 3600 + 1) * 3600;
}

/* GET {ServiceURL}/version/{Instance}: the "latest" version string. */
static int fetch_latest(struct o3b_refresher *r, char latest[32], o3b_err *err)
{
    const struct o3b_config *cfg = r->cfg;
    struct o3b_fetch_opts o = o3b_config_fetch_opts(cfg);
    struct o3b_fetch_result res = {0};
    char base[600], url[700];
    const cJSON *v;
    cJSON *root;
    int rc = -1;

    o.max_bytes = 65536;
    snprintf(base, sizeof base, "%s/version/%s", cfg->service_url, cfg->instance);
    with_client_id(base, r->client_id, url, sizeof url);
    if (o3b_fetch(url, &o, &res, err) != 0)
        goto out;
    if (res.http_status != 200) {
        o3b_err_set(err, "%s: HTTP %ld", base, res.http_status);
        goto out;
    }
    root = cJSON_ParseWithLength(res.body, res.len);
    v = root ? cJSON_GetObjectItemCaseSensitive(root, "latest") : NULL;
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 10 ||
        strspn(v->valuestring, "0123456789") != 10) {
        o3b_err_set(err, "%s: no 10-digit \"latest\" version in the answer", base);
    } else {
        memcpy(latest, v->valuestring, 11);
        rc = 0;
    }
    cJSON_Delete(root);
out:
    o3b_fetch_result_free(&res);
    return rc;
}

int o3b_refresher_latest(struct o3b_refresher *r, char latest[32], o3b_err *err)
{
    return fetch_latest(r, latest, err);
}

static bool newer(const char *latest, const o3b_table *current, const char *want_source)
{
    const struct o3b_table_meta *m;

    if (current == NULL)
        return true;
    m = o3b_table_meta(current);
    if (m->version[0] == '\0' || strcmp(m->source, want_source) != 0)
        return true; /* the seed, or fetched with other parameters */
    return strcmp(latest, m->version) > 0;
}

enum o3b_guard_verdict o3b_guard_shrink(const o3b_table *in_use, const o3b_table *fresh,
                                        const struct o3b_config *cfg, o3b_err *err)
{
    struct o3b_table_counts a, b;

    if (in_use == NULL)
        return O3B_GUARD_PASS;
    o3b_table_get_counts(in_use, &a);
    o3b_table_get_counts(fresh, &b);
    if (a.entries == 0 || b.entries >= a.entries)
        return O3B_GUARD_PASS;
    if ((a.entries - b.entries) * 100 <= a.entries * (size_t)cfg->max_shrink_percent)
        return O3B_GUARD_PASS;
    o3b_err_set(err,
                "new table has %zu entries against %zu in use (-%zu%%, more than "
                "MaxShrinkPercent %ld): held back; accept it with o365bypass_accept",
                b.entries, a.entries, (a.entries - b.entries) * 100 / a.entries,
                cfg->max_shrink_percent);
    return O3B_GUARD_HOLD;
}

enum o3b_guard_verdict o3b_guard_grow(const o3b_table *in_use, const o3b_table *fresh,
                                      const struct o3b_config *cfg, o3b_err *err)
{
    return o3b_grow_guard_holds(in_use, fresh, &cfg->policy, err) ? O3B_GUARD_HOLD : O3B_GUARD_PASS;
}

/* Run the guards in order; O3B_REFRESH_UPDATED when all pass, else the
   outcome of the first that holds the table back (its reason in `err`). */
static enum o3b_refresh_outcome run_guards(const struct o3b_config *cfg, const o3b_table *in_use,
                                           const o3b_table *fresh, o3b_err *err)
{
    for (size_t i = 0; i < sizeof guards / sizeof guards[0]; i++)
        if (guards[i].check(in_use, fresh, cfg, err) == O3B_GUARD_HOLD)
            return guards[i].held;
    return O3B_REFRESH_UPDATED;
}

/* o3b_refresher_download, with the table in use for the refusals of trust.h
   (NULL: strict). */
static enum o3b_refresh_outcome download(struct o3b_refresher *r, const char *latest, time_t now,
                                         const o3b_table *in_use, struct o3b_fetch_result *res,
                                         o3b_table **out, o3b_err *err)
{
    const struct o3b_config *cfg = r->cfg;
    struct o3b_fetch_opts o = o3b_config_fetch_opts(cfg);
    struct o3b_load_opts lo = {0};
    struct o3b_table_meta meta = {0};
    char source[1024], url[1200];

    *out = NULL;
    o3b_refresher_endpoints_url(cfg, source, sizeof source);
    with_client_id(source, r->client_id, url, sizeof url);
    if (o3b_fetch(url, &o, res, err) != 0)
        return O3B_REFRESH_FAILED;
    if (res->http_status == 429) {
        r->endpoints_not_before =
            res->retry_after_s > 0 ? now + res->retry_after_s : top_of_next_hour(now);
        o3b_err_set(err,
                    "%s: HTTP 429 (throttled); next /endpoints call not before %lld s "
                    "from now",
                    source, (long long)(r->endpoints_not_before - now));
        return O3B_REFRESH_THROTTLED;
    }
    if (res->http_status != 200) {
        o3b_err_set(err, "%s: HTTP %ld", source, res->http_status);
        return O3B_REFRESH_FAILED;
    }
    copy_trunc(meta.source, sizeof meta.source, source);
    copy_trunc(meta.instance, sizeof meta.instance, cfg->instance);
    copy_trunc(meta.version, sizeof meta.version, latest);
    meta.fetched = (long long)now;
    lo.max_bytes = o.max_bytes;
    lo.meta = &meta;
    lo.in_use = in_use;
    *out = o3b_load_json(res->body, res->len, &lo, err);
    if (*out == NULL) {
        o3b_err_prefix(err, "%s: refused", source);
        return O3B_REFRESH_INVALID;
    }
    return O3B_REFRESH_UPDATED;
}

enum o3b_refresh_outcome o3b_refresher_download(struct o3b_refresher *r, const char *latest,
                                                time_t now, struct o3b_fetch_result *res,
                                                o3b_table **out, o3b_err *err)
{
    return download(r, latest, now, NULL, res, out, err);
}

/* Download, then the guards, then the store: the table returned is on disk. */
static enum o3b_refresh_outcome fetch_endpoints(struct o3b_refresher *r, const o3b_table *current,
                                                const char *latest, time_t now, o3b_table **out,
                                                o3b_err *err)
{
    struct o3b_store_params store = o3b_config_store_params(r->cfg);
    struct o3b_fetch_result res = {0};
    enum o3b_refresh_outcome rc;
    o3b_table *t;

    rc = download(r, latest, now, current, &res, &t, err);
    if (rc != O3B_REFRESH_UPDATED)
        goto out;
    rc = run_guards(r->cfg, current, t, err);
    if (rc != O3B_REFRESH_UPDATED) {
        o3b_err ignored; /* the guard's reason is what matters */
        (void)o3b_store_save_pending(&store, res.body, res.len, o3b_table_meta(t), &ignored);
    } else if (o3b_store_save_current(&store, res.body, res.len, o3b_table_meta(t), err) != 0) {
        rc = O3B_REFRESH_FAILED;
    } else {
        *out = t;
        t = NULL;
    }
    o3b_table_free(&t);
out:
    o3b_fetch_result_free(&res);
    return rc;
}

enum o3b_refresh_outcome o3b_refresher_run(struct o3b_refresher *r, const o3b_table *current,
                                           time_t now, bool forced, o3b_table **out, o3b_err *err)
{
    char latest[32], source[1024];
    enum o3b_refresh_outcome rc;

    *out = NULL;
    o3b_err_clear(err);
    if (!forced && (r->cfg->refresh_interval == 0 || now < r->next_due))
        return O3B_REFRESH_NOT_DUE;
    if (fetch_latest(r, latest, err) != 0) {
        schedule_after_failure(r, now);
        return O3B_REFRESH_FAILED;
    }
    o3b_refresher_endpoints_url(r->cfg, source, sizeof source);
    if (!newer(latest, current, source)) {
        schedule_after_success(r, now);
        return O3B_REFRESH_NOT_MODIFIED;
    }
    if (now < r->endpoints_not_before) {
        o3b_err_set(err,
                    "version %s is available but /endpoints is throttled for %lld s more "
                    "(HTTP 429)",
                    latest, (long long)(r->endpoints_not_before - now));
        r->next_due = r->endpoints_not_before;
        return O3B_REFRESH_THROTTLED;
    }
    rc = fetch_endpoints(r, current, latest, now, out, err);
    if (rc == O3B_REFRESH_THROTTLED)
        r->next_due = r->endpoints_not_before > now + r->cfg->refresh_interval
                          ? r->endpoints_not_before
                          : now + r->cfg->refresh_interval;
    else if (rc == O3B_REFRESH_FAILED || rc == O3B_REFRESH_INVALID)
        schedule_after_failure(r, now);
    else /* updated, or held back by a guard: the service answered */
        schedule_after_success(r, now);
    return rc;
}
