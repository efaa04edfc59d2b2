/* SPDX-License-Identifier: MIT */
/*
 * test_refresher.c - the refresher against a real loopback feed server.
 *
 * The suite starts tests/tools/feedserver.py once (plain HTTP on 127.0.0.1,
 * "PORT <n>" on its stdout) and stops it by PID at the end; libcurl is not
 * mocked.  Every test builds its own struct o3b_config the way the glue
 * does (o3b_config_init, o3b_config_set per directive, o3b_config_finish)
 * with a fresh mkdtemp CacheDir and 2 s timeouts, and starts from a clean
 * server (no fault, version 2025111400 = worldwide-2025-11-14.json, empty
 * request log).  Faults and versions are switched through /_control, and
 * the server's request log (/_requests) proves which feed calls were made,
 * e.g. that a NOT_MODIFIED or THROTTLED run never asked for /endpoints.
 * Time is passed in explicitly wherever the refresher takes it, so backoff
 * and Retry-After are checked without sleeping.  Only 127.0.0.1 is used.
 */
#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "o365bypass/config.h"
#include "o365bypass/fetcher.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/refresher.h"
#include "o365bypass/store.h"
#include "unit.h"

#include "feed.h" /* after unit.h: it uses its helpers */

#define FILE_A O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define FILE_B O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"
#define VERSION_A "2025111400"
#define VERSION_B "2025112000"
#define GUID "0d6f2a94-3c1b-4e7a-8f25-6b9c0e1d2a3f"
#define T0 ((time_t)1763100000) /* a fixed "now" where real time does not matter */

static struct test_feed feed = TEST_FEED_INIT;
#define feed_base (feed.base)

/* ---- small helpers ------------------------------------------------------------ */

static char *read_whole(const char *path, size_t *len)
{
    return test_read_file(path, len);
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Does `path` hold exactly `len` bytes equal to `data`? */
static bool file_equals(const char *path, const char *data, size_t len)
{
    size_t got_len = 0;
    char *got = read_whole(path, &got_len);
    bool same = got != NULL && got_len == len && memcmp(got, data, len) == 0;

    free(got);
    return same;
}

static int suite_init(void)
{
    o3b_fetch_global_init();
    signal(SIGPIPE, SIG_IGN);
    return feed_start(&feed, NULL, NULL);
}

static int suite_clean(void)
{
    feed_stop(&feed);
    return 0;
}

/* GET feed_base + path_query with short timeouts; the body or NULL. */
static char *feed_get(const char *path_query)
{
    static const struct o3b_fetch_opts quick = {
        .connect_timeout_s = 2, .total_timeout_s = 5, .max_bytes = 1u << 20};
    struct o3b_fetch_result res;
    char url[1024], *body = NULL;
    o3b_err err;

    str_format(url, sizeof url, "%s%s", feed_base, path_query);
    if (o3b_fetch(url, &quick, &res, &err) == 0 && res.http_status == 200) {
        body = res.body;
        res.body = NULL;
    }
    o3b_fetch_result_free(&res);
    return body;
}

/* Send a /_control query; asserts it was accepted. */
static void control(const char *query)
{
    char path[1024], *body;

    str_format(path, sizeof path, "/_control?%s", query);
    body = feed_get(path);
    CU_ASSERT_PTR_NOT_NULL(body);
    if (body == NULL)
        fprintf(stderr, "\n  control %s refused\n", query);
    free(body);
}

static void reset_feed(void)
{
    control("fault=none&clear_requests=1&version=" VERSION_A
            "&file=tests/data/worldwide-2025-11-14.json");
}

/* The feed request log (cleared); caller cJSON_Delete()s it. */
static cJSON *take_requests(void)
{
    char *body = feed_get("/_requests?clear=1");
    cJSON *log = body ? cJSON_Parse(body) : NULL;

    free(body);
    CU_ASSERT_TRUE(cJSON_IsArray(log));
    return log;
}

static void forget_requests(void)
{
    cJSON_Delete(take_requests());
}

/* Field of log entry `i` ("path", "query"), or "(absent)". */
static const char *req_field(const cJSON *log, int i, const char *name)
{
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(log, i), name));

    return v ? v : "(absent)";
}

/* Query parameter (lower-case name) of log entry `i`, or "(absent)". */
static const char *req_param(const cJSON *log, int i, const char *name)
{
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(log, i), "params");
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(params, name));

    return v ? v : "(absent)";
}

/* How many logged requests went to /endpoints/... */
static int endpoints_calls(const cJSON *log)
{
    int n = 0;

    for (int i = 0; i < cJSON_GetArraySize(log); i++)
        if (strncmp(req_field(log, i, "path"), "/endpoints/", 11) == 0)
            n++;
    return n;
}

/* ---- fixture: a config, a CacheDir, a refresher ------------------------------------ */

struct setting {
    const char *name;
    const char *argv[4]; /* NULL-terminated */
};

struct fixture {
    char dir[64];
    char cache_dir[128];
    char current[256], previous[256], pending[256];
    struct o3b_config cfg;
    struct o3b_store_params store; /* of cfg */
    struct o3b_refresher *r;
    o3b_table *table; /* the table "in use" */
};

static void apply(struct o3b_config *cfg, const char *name, const char *const *argv)
{
    o3b_err err;

    if (o3b_config_set(cfg, name, argv, &err) != 0) {
        fprintf(stderr, "\n  config %s: %s\n", name, err.msg);
        CU_FAIL("configuration refused");
    }
}

/*
 * Temp dir, config (ServiceURL = the feed, CacheDir = <dir>/cache unless
 * `cache_dir` says otherwise, 2 s timeouts, RefreshInterval 3600, SeedFile
 * = the worldwide file), then `extra` settings, then the refresher with its
 * first run due at T0.
 */
static bool fixture_open_in(struct fixture *f, const char *cache_dir, const struct setting *extra,
                            size_t n_extra)
{
    const struct setting base[] = {
        {"ServiceURL", {feed_base, NULL}}, {"ConnectTimeout", {"2", NULL}},
        {"FetchTimeout", {"2", NULL}},     {"RefreshInterval", {"3600", NULL}},
        {"SeedFile", {FILE_A, NULL}},
    };
    o3b_err err;

    memset(f, 0, sizeof *f);
    if (!test_make_dir(f->dir, sizeof f->dir, "refresher"))
        return false;
    if (cache_dir != NULL)
        str_format(f->cache_dir, sizeof f->cache_dir, "%s", cache_dir);
    else
        str_format(f->cache_dir, sizeof f->cache_dir, "%s/cache", f->dir);
    o3b_config_init(&f->cfg);
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        apply(&f->cfg, base[i].name, base[i].argv);
    apply(&f->cfg, "CacheDir", (const char *const[]){f->cache_dir, NULL});
    for (size_t i = 0; i < n_extra; i++)
        apply(&f->cfg, extra[i].name, extra[i].argv);
    if (o3b_config_finish(&f->cfg, &err) != 0) {
        fprintf(stderr, "\n  config: %s\n", err.msg);
        return false;
    }
    f->store = o3b_config_store_params(&f->cfg);
    o3b_store_path(&f->store, O3B_STORE_CURRENT, f->current, sizeof f->current);
    o3b_store_path(&f->store, O3B_STORE_PREVIOUS, f->previous, sizeof f->previous);
    o3b_store_path(&f->store, O3B_STORE_PENDING, f->pending, sizeof f->pending);
    f->r = o3b_refresher_new(&f->cfg, T0, 0, &err);
    return f->r != NULL;
}

static bool fixture_open(struct fixture *f, const struct setting *extra, size_t n_extra)
{
    return fixture_open_in(f, NULL, extra, n_extra);
}

static void fixture_close(struct fixture *f)
{
    o3b_refresher_free(&f->r);
    o3b_table_free(&f->table);
    o3b_config_release(&f->cfg);
    if (f->dir[0] != '\0')
        test_remove_tree(f->dir);
}

/* A non-NULL pointer the refresher must overwrite with NULL or a table. */
static char not_a_table;
#define NOT_A_TABLE ((o3b_table *)(void *)&not_a_table)

/* One run; on UPDATED the new table becomes the one in use. */
static enum o3b_refresh_outcome run(struct fixture *f, time_t now, bool forced)
{
    o3b_table *fresh = NOT_A_TABLE;
    enum o3b_refresh_outcome rc;
    o3b_err err;

    rc = o3b_refresher_run(f->r, f->table, now, forced, &fresh, &err);
    if (rc == O3B_REFRESH_UPDATED) {
        CU_ASSERT_PTR_NOT_NULL(fresh);
        o3b_table_free(&f->table);
        f->table = fresh;
    } else {
        CU_ASSERT_PTR_NULL(fresh);
        if (rc != O3B_REFRESH_NOT_MODIFIED && rc != O3B_REFRESH_NOT_DUE)
            CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');
    }
    return rc;
}

/* Fixture with version A fetched and in use (cache file written), log clear. */
static bool fixture_with_a(struct fixture *f, const struct setting *extra, size_t n_extra)
{
    if (!fixture_open(f, extra, n_extra))
        return false;
    if (run(f, T0, true) != O3B_REFRESH_UPDATED)
        return false;
    forget_requests();
    return true;
}

/* What the service would start with: the store's rule, no table in use. */
static o3b_table *startup_table(const struct fixture *f, char *notes, size_t size)
{
    struct o3b_store_params p = o3b_config_store_params(&f->cfg);
    struct o3b_store_choice choice;

    if (o3b_store_choose(&p, NULL, &choice) != 0)
        return NULL;
    str_format(notes, size, "%s", choice.notes);
    return choice.table;
}

static const char *version_of(const o3b_table *t)
{
    return t ? o3b_table_meta(t)->version : "(none)";
}

static size_t entries_of(const o3b_table *t)
{
    struct o3b_table_counts c;

    o3b_table_get_counts(t, &c);
    return c.entries;
}

/* ---- the normal course --------------------------------------------------------------- */

static void test_first_run_without_table_fetches_and_writes_the_wrapped_cache_file(void)
{
    struct fixture f;
    char url[512];
    size_t len = 0, body_len = 0;
    char *file, *body = read_whole(FILE_A, &body_len);
    cJSON *log, *wrapper;

    CU_ASSERT_FATAL(fixture_open(&f, NULL, 0));
    CU_ASSERT_EQUAL(run(&f, T0, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    CU_ASSERT_EQUAL(o3b_table_set_count(f.table), 64);
    o3b_refresher_endpoints_url(&f.cfg, url, sizeof url);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(f.table)->source, url);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(req_field(log, 0, "path"), "/version/Worldwide");
    CU_ASSERT_STRING_EQUAL(req_field(log, 1, "path"), "/endpoints/Worldwide");
    cJSON_Delete(log);

    file = read_whole(f.current, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    /* the body is embedded byte for byte */
    CU_ASSERT(body != NULL && memmem(file, len, body, body_len) != NULL);
    wrapper = cJSON_Parse(file);
    CU_ASSERT_EQUAL(cJSON_GetNumberValue(cJSON_GetObjectItem(wrapper, "o365bypass")), 1);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(wrapper, "instance")),
                           "Worldwide");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(wrapper, "version")),
                           VERSION_A);
    CU_ASSERT_EQUAL(cJSON_GetNumberValue(cJSON_GetObjectItem(wrapper, "fetched")), (double)T0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(wrapper, "source")), url);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(wrapper, "endpoints")), 64);
    CU_ASSERT_FALSE(file_exists(f.previous));
    CU_ASSERT_FALSE(file_exists(f.pending));
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), T0 + 3600);
    cJSON_Delete(wrapper);
    free(file);
    free(body);
    fixture_close(&f);
}

static void test_second_update_keeps_the_replaced_file_as_previous(void)
{
    struct fixture f;
    size_t len_a = 0;
    char *file_a;
    o3b_table *reloaded;
    struct o3b_load_opts lo = {0};
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    file_a = read_whole(f.current, &len_a);
    control("version=" VERSION_B "&file=tests/data/worldwide-noipv6-post-2025-11-14.json");
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_B);
    CU_ASSERT(file_equals(f.previous, file_a, len_a));
    reloaded = o3b_load_file(f.current, &lo, &err);
    CU_ASSERT_STRING_EQUAL(version_of(reloaded), VERSION_B);
    CU_ASSERT_EQUAL(o3b_table_hash(reloaded), o3b_table_hash(f.table));
    o3b_table_free(&reloaded);
    free(file_a);
    fixture_close(&f);
}

static void test_same_version_is_not_modified_and_never_calls_endpoints(void)
{
    struct fixture f;
    size_t len = 0;
    char *before;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    before = read_whole(f.current, &len);
    CU_ASSERT_EQUAL(run(&f, T0 + 10, true), O3B_REFRESH_NOT_MODIFIED);
    CU_ASSERT_EQUAL(run(&f, T0 + 3610, false), O3B_REFRESH_NOT_MODIFIED);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(req_field(log, 0, "path"), "/version/Worldwide");
    CU_ASSERT_STRING_EQUAL(req_field(log, 1, "path"), "/version/Worldwide");
    CU_ASSERT_EQUAL(endpoints_calls(log), 0);
    CU_ASSERT(file_equals(f.current, before, len));
    CU_ASSERT_FALSE(file_exists(f.previous));
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), T0 + 3610 + 3600);
    cJSON_Delete(log);
    free(before);
    fixture_close(&f);
}

static void test_newer_version_fetches_with_the_configured_parameters(void)
{
    const struct setting extra[] = {
        {"NoIPv6", {"on", NULL}},
        {"ServiceAreas", {"Exchange", "SharePoint", NULL}},
        {"TenantName", {"contoso", NULL}},
    };
    struct fixture f;
    struct o3b_table_counts c;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_with_a(&f, extra, sizeof extra / sizeof extra[0]));
    control("version=" VERSION_B "&file=tests/data/worldwide-noipv6-post-2025-11-14.json");
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_B);
    o3b_table_get_counts(f.table, &c);
    CU_ASSERT_EQUAL(c.sets, 63);
    CU_ASSERT_EQUAL(c.ipv6, 0);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(req_field(log, 1, "path"), "/endpoints/Worldwide");
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "noipv6"), "true");
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "serviceareas"), "Exchange,SharePoint");
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "tenantname"), "contoso");
    /* /version takes none of them */
    CU_ASSERT_STRING_EQUAL(req_param(log, 0, "noipv6"), "(absent)");
    CU_ASSERT_STRING_EQUAL(req_param(log, 0, "serviceareas"), "(absent)");
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_default_parameters_ask_for_everything(void)
{
    struct fixture f;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, NULL, 0));
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_UPDATED);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "noipv6"), "(absent)");
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "serviceareas"), "(absent)");
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "tenantname"), "(absent)");
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_client_request_id_is_constant_and_persisted_in_cache_dir(void)
{
    struct fixture f;
    struct o3b_refresher *again;
    char path[256], line[64];
    const char *id;
    size_t len = 0;
    char *stored;
    cJSON *log;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_open(&f, NULL, 0));
    id = o3b_refresher_client_id(f.r);
    CU_ASSERT(o3b_guid_valid(id));
    /* persisted from the start, even though CacheDir did not exist yet */
    str_format(path, sizeof path, "%s/client-request-id", f.cache_dir);
    str_format(line, sizeof line, "%s\n", id);
    stored = read_whole(path, &len);
    CU_ASSERT(stored != NULL && strcmp(stored, line) == 0);
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_UPDATED);
    CU_ASSERT_EQUAL(run(&f, T0 + 1, true), O3B_REFRESH_NOT_MODIFIED);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(req_param(log, i, "clientrequestid"), id);
    /* a new refresher (a restart) reads the same id back */
    again = o3b_refresher_new(&f.cfg, T0, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    CU_ASSERT_STRING_EQUAL(o3b_refresher_client_id(again), id);
    o3b_refresher_free(&again);
    cJSON_Delete(log);
    free(stored);
    fixture_close(&f);
}

static void test_configured_client_request_id_is_sent_and_not_stored(void)
{
    const struct setting extra[] = {{"ClientRequestId", {GUID, NULL}}};
    struct fixture f;
    char path[256];
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, extra, 1));
    CU_ASSERT_STRING_EQUAL(o3b_refresher_client_id(f.r), GUID);
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_UPDATED);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(req_param(log, 0, "clientrequestid"), GUID);
    CU_ASSERT_STRING_EQUAL(req_param(log, 1, "clientrequestid"), GUID);
    str_format(path, sizeof path, "%s/client-request-id", f.cache_dir);
    CU_ASSERT_FALSE(file_exists(path));
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_table_from_the_seed_is_always_replaced_by_a_fetch(void)
{
    struct fixture f;
    char notes[512];
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, NULL, 0));
    f.table = startup_table(&f, notes, sizeof notes);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), ""); /* the seed has no version */
    CU_ASSERT_EQUAL(o3b_table_set_count(f.table), 64);
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    log = take_requests();
    CU_ASSERT_EQUAL(endpoints_calls(log), 1);
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_table_fetched_with_other_parameters_is_fetched_again(void)
{
    const struct setting extra[] = {{"NoIPv6", {"on", NULL}}};
    struct fixture f;
    struct o3b_table_meta meta = {.instance = "Worldwide", .version = VERSION_A};
    struct o3b_load_opts lo = {.meta = &meta};
    o3b_err err;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, extra, 1));
    /* same version, but downloaded without NoIPv6=true */
    str_format(meta.source, sizeof meta.source, "%s/endpoints/Worldwide", feed_base);
    f.table = o3b_load_file(FILE_A, &lo, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.table);
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_UPDATED);
    log = take_requests();
    CU_ASSERT_EQUAL(endpoints_calls(log), 1);
    cJSON_Delete(log);
    fixture_close(&f);
}

/* ---- faults: nothing new returned, the cache file untouched ------------------------- */

struct fault_case {
    const char *control; /* /_control query, after version=VERSION_B */
    enum o3b_refresh_outcome want;
    bool asks_endpoints; /* did the run get as far as /endpoints? */
};

static const struct fault_case fault_cases[] = {
    {"fault=500", O3B_REFRESH_FAILED, false},
    {"fault=500&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=404&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=429&target=endpoints", O3B_REFRESH_THROTTLED, true},
    {"fault=refuse&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=hang&target=version", O3B_REFRESH_FAILED, false},
    {"fault=hang&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=drip&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=truncated&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=invalid-json&target=endpoints", O3B_REFRESH_INVALID, true},
    {"fault=wrong-shape&target=endpoints", O3B_REFRESH_INVALID, true},
    {"fault=empty-array&target=endpoints", O3B_REFRESH_INVALID, true},
    {"fault=huge&target=endpoints", O3B_REFRESH_FAILED, true}, /* over MaxFeedBytes */
    {"fault=garbage-version", O3B_REFRESH_FAILED, false},
    {"fault=redirect-loop&target=endpoints", O3B_REFRESH_FAILED, true},
    {"fault=redirect-ftp&target=endpoints", O3B_REFRESH_FAILED, true},
};

static void run_fault_case(const struct fault_case *fc)
{
    const struct setting extra[] = {{"MaxFeedBytes", {"65536", NULL}}};
    struct fixture f;
    char query[256];
    size_t len = 0;
    char *before;
    enum o3b_refresh_outcome rc;
    double started;
    cJSON *log;

    reset_feed();
    CU_ASSERT_FATAL(fixture_with_a(&f, extra, 1));
    before = read_whole(f.current, &len);
    str_format(query, sizeof query, "version=" VERSION_B "&%s", fc->control);
    control(query);
    started = now_s();
    rc = run(&f, T0 + 3600, false);
    if (rc != fc->want)
        fprintf(stderr, "\n  %s: %s, expected %s\n", fc->control, o3b_refresh_outcome_name(rc),
                o3b_refresh_outcome_name(fc->want));
    CU_ASSERT_EQUAL(rc, fc->want);
    CU_ASSERT(now_s() - started < 8.0); /* 2 s timeouts bound every fault */
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    CU_ASSERT(file_equals(f.current, before, len));
    CU_ASSERT_FALSE(file_exists(f.previous));
    CU_ASSERT_FALSE(file_exists(f.pending));
    CU_ASSERT(o3b_refresher_next_due(f.r) >= T0 + 3600 + 3600);
    log = take_requests();
    CU_ASSERT_EQUAL(endpoints_calls(log) > 0, fc->asks_endpoints);
    cJSON_Delete(log);
    free(before);
    fixture_close(&f);
}

static void test_every_feed_fault_leaves_the_table_and_the_cache_file_alone(void)
{
    for (size_t i = 0; i < sizeof fault_cases / sizeof fault_cases[0]; i++)
        run_fault_case(&fault_cases[i]);
}

static void test_refused_connection_fails_without_touching_the_cache(void)
{
    struct fixture f;
    char url[64];
    size_t len = 0;
    char *before;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    before = read_whole(f.current, &len);
    str_format(url, sizeof url, "http://127.0.0.1:%d", test_closed_port());
    apply(&f.cfg, "ServiceURL", (const char *const[]){url, NULL});
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, true), O3B_REFRESH_FAILED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    CU_ASSERT(file_equals(f.current, before, len));
    free(before);
    fixture_close(&f);
}

static void test_endpoints_failure_is_retried_since_the_version_did_not_advance(void)
{
    struct fixture f;
    time_t due;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    control("version=" VERSION_B "&file=tests/data/worldwide-noipv6-post-2025-11-14.json"
            "&fault=500&target=endpoints");
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_FAILED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    due = o3b_refresher_next_due(f.r);
    control("fault=none");
    CU_ASSERT_EQUAL(run(&f, due - 1, false), O3B_REFRESH_NOT_DUE);
    CU_ASSERT_EQUAL(run(&f, due, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_B);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 4);
    CU_ASSERT_STRING_EQUAL(req_field(log, 2, "path"), "/version/Worldwide");
    CU_ASSERT_STRING_EQUAL(req_field(log, 3, "path"), "/endpoints/Worldwide");
    cJSON_Delete(log);
    fixture_close(&f);
}

/* ---- HTTP 429 ------------------------------------------------------------------------ */

static void test_429_retry_after_blocks_endpoints_even_for_forced_runs(void)
{
    struct fixture f;
    time_t now = time(NULL);
    cJSON *log;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    control("version=" VERSION_B "&fault=429&target=endpoints&retry_after=120");
    CU_ASSERT_EQUAL(run(&f, now, true), O3B_REFRESH_THROTTLED);
    CU_ASSERT(o3b_refresher_next_due(f.r) >= now + 3600);
    control("fault=none");
    forget_requests();
    CU_ASSERT_EQUAL(run(&f, now + 1, true), O3B_REFRESH_THROTTLED);
    CU_ASSERT_EQUAL(run(&f, now + 119, true), O3B_REFRESH_THROTTLED);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 2); /* two version checks... */
    CU_ASSERT_EQUAL(endpoints_calls(log), 0);    /* ...and no /endpoints */
    cJSON_Delete(log);
    CU_ASSERT_EQUAL(run(&f, now + 120, true), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_B);
    fixture_close(&f);
}

static void test_429_retry_after_as_http_date_is_honoured(void)
{
    struct fixture f;
    time_t now = time(NULL);

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    control("version=" VERSION_B "&fault=429&target=endpoints&retry_after_in=600");
    CU_ASSERT_EQUAL(run(&f, now, true), O3B_REFRESH_THROTTLED);
    control("fault=none");
    CU_ASSERT_EQUAL(run(&f, now + 590, true), O3B_REFRESH_THROTTLED);
    CU_ASSERT_EQUAL(run(&f, now + 602, true), O3B_REFRESH_UPDATED);
    fixture_close(&f);
}

static void test_429_without_retry_after_waits_until_the_top_of_the_next_hour(void)
{
    struct fixture f;
    time_t now = (T0 / 3600) * 3600 + 1234; /* 20:34 past the hour */
    time_t top = (T0 / 3600 + 1) * 3600;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    control("version=" VERSION_B "&fault=429&target=endpoints&retry_after=none");
    CU_ASSERT_EQUAL(run(&f, now, true), O3B_REFRESH_THROTTLED);
    control("fault=none");
    forget_requests();
    CU_ASSERT_EQUAL(run(&f, top - 1, true), O3B_REFRESH_THROTTLED);
    log = take_requests();
    CU_ASSERT_EQUAL(endpoints_calls(log), 0);
    cJSON_Delete(log);
    CU_ASSERT_EQUAL(run(&f, top, true), O3B_REFRESH_UPDATED);
    fixture_close(&f);
}

/* ---- the cache directory ------------------------------------------------------------- */

/*
 * Tests run as root, where chmod 0500 does not stop a write.  A CacheDir
 * below a regular file fails for root too (ENOTDIR): that is the
 * "unwritable" directory here.
 */
static void test_cache_dir_below_a_regular_file_fails_and_returns_nothing(void)
{
    struct fixture f;
    char parent[64], blocked[96];
    int fd;

    strcpy(parent, "/tmp/o3b-test-refresher-file-XXXXXX");
    fd = mkstemp(parent);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    str_format(blocked, sizeof blocked, "%s/cache", parent);
    CU_ASSERT_FATAL(fixture_open_in(&f, blocked, NULL, 0));
    CU_ASSERT(o3b_guid_valid(o3b_refresher_client_id(f.r))); /* generated, not stored */
    CU_ASSERT_EQUAL(run(&f, T0, true), O3B_REFRESH_FAILED);
    CU_ASSERT_PTR_NULL(f.table);
    CU_ASSERT_FALSE(file_exists(f.current));
    fixture_close(&f);
    unlink(parent);
}

/* The temporary file's name taken by a directory: open() fails, also as root. */
static void test_failed_cache_write_keeps_the_file_and_returns_nothing(void)
{
    struct fixture f;
    char blocker[300];
    size_t len = 0;
    char *before;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    before = read_whole(f.current, &len);
    str_format(blocker, sizeof blocker, "%s.tmp.%ld", f.current, (long)getpid());
    CU_ASSERT_FATAL(mkdir(blocker, 0700) == 0);
    control("version=" VERSION_B "&file=tests/data/worldwide-noipv6-post-2025-11-14.json");
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_FAILED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    CU_ASSERT(file_equals(f.current, before, len));
    rmdir(blocker);
    /* once the write works again, the next due run retries /endpoints */
    CU_ASSERT_EQUAL(run(&f, o3b_refresher_next_due(f.r), false), O3B_REFRESH_UPDATED);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_B);
    free(before);
    fixture_close(&f);
}

static void test_startup_table_prefers_a_valid_cache_file(void)
{
    struct fixture f;
    char notes[512];
    o3b_table *t;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    t = startup_table(&f, notes, sizeof notes);
    CU_ASSERT_STRING_EQUAL(version_of(t), VERSION_A);
    CU_ASSERT_STRING_EQUAL(notes, "");
    o3b_table_free(&t);
    fixture_close(&f);
}

static void test_startup_skips_a_corrupt_cache_file_for_the_seed(void)
{
    struct fixture f;
    char notes[1024];
    o3b_table *t;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    CU_ASSERT_EQUAL(o3b_write_atomic(f.current, "{\"o365bypass\": 1, garbage", 25, &err), 0);
    t = startup_table(&f, notes, sizeof notes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_set_count(t), 64);
    CU_ASSERT_STRING_EQUAL(version_of(t), "");
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "cache file skipped"));
    o3b_table_free(&t);
    fixture_close(&f);
}

static void test_startup_without_cache_or_seed_gives_an_empty_table_and_says_so(void)
{
    const struct setting extra[] = {{"SeedFile", {"/nonexistent/o3b-seed.json", NULL}}};
    struct fixture f;
    char notes[1024];
    o3b_table *t;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, extra, 1));
    CU_ASSERT_EQUAL(o3b_write_atomic(f.current, "[]", 2, &err), 0);
    t = startup_table(&f, notes, sizeof notes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_set_count(t), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "cache file skipped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "SeedFile skipped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(notes, "EMPTY"));
    o3b_table_free(&t);
    fixture_close(&f);
}

/* ---- the shrink guard ------------------------------------------------------------------ */

static const char small_table[] =
    "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"urls\": [\"outlook.office.com\"],"
    " \"tcpPorts\": \"443\", \"category\": \"Optimize\", \"required\": true},"
    " {\"id\": 2, \"serviceArea\": \"SharePoint\", \"urls\": [\"*.sharepoint.com\"],"
    " \"tcpPorts\": \"443\", \"category\": \"Optimize\", \"required\": true},"
    " {\"id\": 3, \"serviceArea\": \"Common\", \"urls\": [\"login.microsoftonline.com\"],"
    " \"ips\": [\"20.190.128.0/18\"], \"tcpPorts\": \"443\", \"category\": \"Allow\","
    " \"required\": true}]";

static void test_shrink_beyond_the_limit_is_held_back_until_accepted(void)
{
    struct fixture f;
    char path[256], query[512];
    size_t len_a = 0, len_pending = 0;
    char *file_a, *pending;
    o3b_table *accepted = NULL;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    file_a = read_whole(f.current, &len_a);
    str_format(path, sizeof path, "%s/small.json", f.dir);
    CU_ASSERT_EQUAL_FATAL(o3b_write_atomic(path, small_table, strlen(small_table), &err), 0);
    str_format(query, sizeof query, "version=" VERSION_B "&file=%s", path);
    control(query);

    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_SHRINK);
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    CU_ASSERT(file_equals(f.current, file_a, len_a));
    pending = read_whole(f.pending, &len_pending);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pending);
    CU_ASSERT_PTR_NOT_NULL(strstr(pending, "\"version\": \"" VERSION_B "\""));

    CU_ASSERT_EQUAL(o3b_store_accept(&f.store, &accepted, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(accepted);
    CU_ASSERT_EQUAL(o3b_table_set_count(accepted), 3);
    CU_ASSERT_EQUAL(entries_of(accepted), 4);
    CU_ASSERT_STRING_EQUAL(version_of(accepted), VERSION_B);
    CU_ASSERT(file_equals(f.current, pending, len_pending));
    CU_ASSERT(file_equals(f.previous, file_a, len_a));
    CU_ASSERT_FALSE(file_exists(f.pending));
    o3b_table_free(&f.table);
    f.table = accepted;
    /* the accepted table is in use: the same version is not fetched again */
    CU_ASSERT_EQUAL(run(&f, T0 + 7300, false), O3B_REFRESH_NOT_MODIFIED);
    free(pending);
    free(file_a);
    fixture_close(&f);
}

static void test_shrink_within_the_limit_is_taken_at_once(void)
{
    struct fixture f;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    /* 333 -> 250 entries: -25%, below the default 50% */
    control("version=" VERSION_B "&file=tests/data/worldwide-noipv6-post-2025-11-14.json");
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_EQUAL(entries_of(f.table), 250);
    fixture_close(&f);
}

static void test_accept_without_a_pending_table_fails(void)
{
    struct fixture f;
    o3b_table *accepted = NOT_A_TABLE;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    CU_ASSERT_EQUAL(o3b_store_accept(&f.store, &accepted, &err), -1);
    CU_ASSERT_PTR_NULL(accepted);
    CU_ASSERT_NOT_EQUAL(err.msg[0], '\0');
    fixture_close(&f);
}

/* ---- the outright refusals and the grow guard (trust.h) ---------------------------------- */

/* Serve table A plus the sets of `extra_sets` (a JSON array) as VERSION_B. */
static void serve_a_plus(struct fixture *f, const char *name, const char *extra_sets)
{
    cJSON *root = NULL, *extra = cJSON_Parse(extra_sets), *s;
    char path[256], query[512], *text;
    size_t len = 0;
    char *a = read_whole(FILE_A, &len);
    o3b_err err;

    if (a != NULL)
        root = cJSON_ParseWithLength(a, len);
    CU_ASSERT_FATAL(root != NULL && extra != NULL);
    while ((s = cJSON_DetachItemFromArray(extra, 0)) != NULL)
        cJSON_AddItemToArray(root, s);
    text = cJSON_PrintUnformatted(root);
    str_format(path, sizeof path, "%s/%s", f->dir, name);
    CU_ASSERT_EQUAL_FATAL(o3b_write_atomic(path, text, strlen(text), &err), 0);
    str_format(query, sizeof query, "version=" VERSION_B "&file=%s", path);
    control(query);
    free(text);
    free(a);
    cJSON_Delete(root);
    cJSON_Delete(extra);
}

static const char foreign_set[] =
    "[{\"id\": 990, \"serviceArea\": \"Common\", \"urls\": [\"*.amazonaws.com\"],"
    " \"tcpPorts\": \"443\", \"category\": \"Optimize\", \"required\": true}]";

static void test_growth_beyond_the_table_in_use_is_held_back_until_accepted(void)
{
    struct fixture f;
    o3b_table *fresh = NOT_A_TABLE, *accepted = NULL;
    size_t len_a = 0;
    char *file_a;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    file_a = read_whole(f.current, &len_a);
    serve_a_plus(&f, "grown.json", foreign_set);
    CU_ASSERT_EQUAL(o3b_refresher_run(f.r, f.table, T0 + 3600, false, &fresh, &err),
                    O3B_REFRESH_GROW);
    CU_ASSERT_PTR_NULL(fresh);
    CU_ASSERT_STRING_EQUAL(o3b_refresh_outcome_name(O3B_REFRESH_GROW), "grow-guard");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "grow guard: held back"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "set 990 domain '*.amazonaws.com' (amazonaws.com)"));
    CU_ASSERT(file_equals(f.current, file_a, len_a));
    CU_ASSERT_TRUE(file_exists(f.pending));
    /* held back counts as an answer: the next check waits the full interval */
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), T0 + 3600 + 3600);

    CU_ASSERT_EQUAL(o3b_store_accept(&f.store, &accepted, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(accepted);
    CU_ASSERT_STRING_EQUAL(version_of(accepted), VERSION_B);
    CU_ASSERT_PTR_NOT_NULL(o3b_table_find_set(accepted, 990));
    CU_ASSERT(file_equals(f.previous, file_a, len_a));
    CU_ASSERT_FALSE(file_exists(f.pending));
    o3b_table_free(&accepted);
    free(file_a);
    fixture_close(&f);
}

static void test_a_table_with_a_refused_entry_is_invalid_and_nothing_is_pending(void)
{
    static const char poisoned[] =
        "[{\"id\": 991, \"serviceArea\": \"Common\", \"urls\": [\"*.co.uk\"],"
        " \"tcpPorts\": \"443\", \"category\": \"Optimize\", \"required\": true}]";
    struct fixture f;
    o3b_table *fresh = NOT_A_TABLE;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    serve_a_plus(&f, "poisoned.json", poisoned);
    CU_ASSERT_EQUAL(o3b_refresher_run(f.r, f.table, T0 + 3600, false, &fresh, &err),
                    O3B_REFRESH_INVALID);
    CU_ASSERT_PTR_NULL(fresh);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(id 991): '*.co.uk' is refused"));
    CU_ASSERT_FALSE(file_exists(f.pending));
    CU_ASSERT_STRING_EQUAL(version_of(f.table), VERSION_A);
    fixture_close(&f);
}

/* A held-back table must never be accepted over a newer one saved since. */
static void test_a_newer_table_saved_drops_the_one_held_back(void)
{
    struct fixture f;
    o3b_table *accepted = NOT_A_TABLE;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    serve_a_plus(&f, "grown.json", foreign_set);
    CU_ASSERT_EQUAL(run(&f, T0 + 3600, false), O3B_REFRESH_GROW);
    CU_ASSERT_TRUE(file_exists(f.pending));
    control("version=2025113000&file=tests/data/worldwide-noipv6-post-2025-11-14.json");
    CU_ASSERT_EQUAL(run(&f, T0 + 7200, false), O3B_REFRESH_UPDATED);
    CU_ASSERT_FALSE(file_exists(f.pending));
    CU_ASSERT_EQUAL(o3b_store_accept(&f.store, &accepted, &err), -1);
    CU_ASSERT_PTR_NULL(accepted);
    fixture_close(&f);
}

/* `o365bypass fetch --force` runs without a table in use: no guard. */
static void test_a_run_without_a_table_in_use_skips_the_grow_guard(void)
{
    struct fixture f;
    o3b_table *fresh = NULL;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    serve_a_plus(&f, "grown.json", foreign_set);
    CU_ASSERT_EQUAL(o3b_refresher_run(f.r, NULL, T0 + 3600, true, &fresh, &err),
                    O3B_REFRESH_UPDATED);
    CU_ASSERT_PTR_NOT_NULL(fresh);
    CU_ASSERT_PTR_NOT_NULL(fresh ? o3b_table_find_set(fresh, 990) : NULL);
    o3b_table_free(&fresh);
    fixture_close(&f);
}

/* ---- timing -------------------------------------------------------------------------- */

static void test_failures_back_off_from_the_interval_up_to_eight_times_plus_jitter(void)
{
    static const long factor[] = {1, 2, 4, 8, 8, 8};
    struct fixture f;

    CU_ASSERT_FATAL(fixture_with_a(&f, NULL, 0));
    control("version=" VERSION_B "&fault=500");
    for (size_t i = 0; i < sizeof factor / sizeof factor[0]; i++) {
        time_t now = T0 + 100000 * (time_t)(i + 1);
        long delay;

        CU_ASSERT_EQUAL(run(&f, now, true), O3B_REFRESH_FAILED);
        delay = (long)(o3b_refresher_next_due(f.r) - now);
        CU_ASSERT(delay >= 3600 * factor[i]);
        CU_ASSERT(delay <= 3600 * factor[i] * 125 / 100);
        if (delay < 3600 * factor[i] || delay > 3600 * factor[i] * 125 / 100)
            fprintf(stderr, "\n  failure %zu: next run after %ld s\n", i + 1, delay);
    }
    control("fault=none");
    CU_ASSERT_EQUAL(run(&f, T0 + 700000, true), O3B_REFRESH_UPDATED);
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), T0 + 700000 + 3600);
    /* the count starts again after a success */
    control("version=2025113000&fault=500");
    CU_ASSERT_EQUAL(run(&f, T0 + 800000, true), O3B_REFRESH_FAILED);
    CU_ASSERT(o3b_refresher_next_due(f.r) - (T0 + 800000) <= 4500);
    fixture_close(&f);
}

static void test_not_due_runs_make_no_network_request(void)
{
    struct fixture f;
    struct o3b_refresher *later;
    o3b_err err;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, NULL, 0));
    later = o3b_refresher_new(&f.cfg, T0, 10, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(later);
    o3b_refresher_free(&f.r);
    f.r = later;
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), T0 + 10);
    CU_ASSERT_EQUAL(run(&f, T0, false), O3B_REFRESH_NOT_DUE);
    CU_ASSERT_EQUAL(run(&f, T0 + 9, false), O3B_REFRESH_NOT_DUE);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);
    CU_ASSERT_EQUAL(run(&f, T0 + 10, false), O3B_REFRESH_UPDATED);
    forget_requests();
    CU_ASSERT_EQUAL(run(&f, T0 + 10 + 3599, false), O3B_REFRESH_NOT_DUE);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);
    fixture_close(&f);
}

static void test_interval_zero_is_never_due_and_reports_no_next_time(void)
{
    const struct setting extra[] = {{"RefreshInterval", {"0", NULL}}};
    struct fixture f;
    cJSON *log;

    CU_ASSERT_FATAL(fixture_open(&f, extra, 1));
    CU_ASSERT_EQUAL(o3b_refresher_next_due(f.r), 0);
    CU_ASSERT_EQUAL(run(&f, T0 + 999999, false), O3B_REFRESH_NOT_DUE);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 0);
    cJSON_Delete(log);
    fixture_close(&f);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_first_run_without_table_fetches_and_writes_the_wrapped_cache_file),
    O3B_TEST(test_second_update_keeps_the_replaced_file_as_previous),
    O3B_TEST(test_same_version_is_not_modified_and_never_calls_endpoints),
    O3B_TEST(test_newer_version_fetches_with_the_configured_parameters),
    O3B_TEST(test_default_parameters_ask_for_everything),
    O3B_TEST(test_client_request_id_is_constant_and_persisted_in_cache_dir),
    O3B_TEST(test_configured_client_request_id_is_sent_and_not_stored),
    O3B_TEST(test_table_from_the_seed_is_always_replaced_by_a_fetch),
    O3B_TEST(test_table_fetched_with_other_parameters_is_fetched_again),
    O3B_TEST(test_every_feed_fault_leaves_the_table_and_the_cache_file_alone),
    O3B_TEST(test_refused_connection_fails_without_touching_the_cache),
    O3B_TEST(test_endpoints_failure_is_retried_since_the_version_did_not_advance),
    O3B_TEST(test_429_retry_after_blocks_endpoints_even_for_forced_runs),
    O3B_TEST(test_429_retry_after_as_http_date_is_honoured),
    O3B_TEST(test_429_without_retry_after_waits_until_the_top_of_the_next_hour),
    O3B_TEST(test_cache_dir_below_a_regular_file_fails_and_returns_nothing),
    O3B_TEST(test_failed_cache_write_keeps_the_file_and_returns_nothing),
    O3B_TEST(test_startup_table_prefers_a_valid_cache_file),
    O3B_TEST(test_startup_skips_a_corrupt_cache_file_for_the_seed),
    O3B_TEST(test_startup_without_cache_or_seed_gives_an_empty_table_and_says_so),
    O3B_TEST(test_shrink_beyond_the_limit_is_held_back_until_accepted),
    O3B_TEST(test_shrink_within_the_limit_is_taken_at_once),
    O3B_TEST(test_accept_without_a_pending_table_fails),
    O3B_TEST(test_growth_beyond_the_table_in_use_is_held_back_until_accepted),
    O3B_TEST(test_a_table_with_a_refused_entry_is_invalid_and_nothing_is_pending),
    O3B_TEST(test_a_newer_table_saved_drops_the_one_held_back),
    O3B_TEST(test_a_run_without_a_table_in_use_skips_the_grow_guard),
    O3B_TEST(test_failures_back_off_from_the_interval_up_to_eight_times_plus_jitter),
    O3B_TEST(test_not_due_runs_make_no_network_request),
    O3B_TEST(test_interval_zero_is_never_due_and_reports_no_next_time),
};

O3B_UNIT_MAIN_WITH("refresher", tests, suite_init, suite_clean, reset_feed)
