/* SPDX-License-Identifier: MIT */
/*
 * test_store.c - CacheDir's files and the one table-choice rule (store.h).
 *
 * Every test gets its own mkdtemp(3) CacheDir and builds the store's
 * parameters by hand (the store never sees the configuration).  Tables are
 * the real files of tests/data and the bundled seed of module/data, so the
 * choice rule is checked on what the service really loads: the Worldwide
 * seed for Instance China at start-up and at reload, a corrupt cache file,
 * a missing seed, CacheDir none, a wrapper naming another instance, an
 * instance named by the file name.  Then the writes: save with the previous
 * file kept, pending, accept (re-validated), the status file both ways, the
 * ClientRequestId, the size limit and the directory checks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/store.h"
#include "unit.h"

#ifndef O3B_TOP_SRCDIR
#define O3B_TOP_SRCDIR "."
#endif

#define BUNDLED_SEED O3B_TOP_SRCDIR "/module/data/endpoints-worldwide.json"
#define WW_FILE O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define WW_LATER_FILE O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"
#define CHINA_FILE O3B_TEST_DATA "/china-2025-11-14.json"
#define MAX_FEED (4L << 20)

struct fixture {
    char dir[64];   /* the temporary tree */
    char cache[96]; /* <dir>/cache: CacheDir (created by the store when needed) */
    struct o3b_store_params p;
};

static bool fixture_open(struct fixture *f, const char *instance, const char *seed)
{
    memset(f, 0, sizeof *f);
    if (!test_make_dir(f->dir, sizeof f->dir, "store"))
        return false;
    str_format(f->cache, sizeof f->cache, "%s/cache", f->dir);
    f->p = (struct o3b_store_params){f->cache, instance, seed, MAX_FEED};
    return true;
}

static void fixture_close(struct fixture *f)
{
    test_remove_tree(f->dir);
}

/* Save `file` (a raw feed) as the current cache file, wrapped with `instance`. */
static bool save_as_current(struct fixture *f, const char *file, const char *instance,
                            const char *version)
{
    struct o3b_table_meta meta = {.fetched = 1763100000};
    size_t len;
    char *body = test_read_file(file, &len);
    o3b_err err = {{0}};
    int rc;

    if (body == NULL)
        return false;
    str_format(meta.instance, sizeof meta.instance, "%s", instance);
    str_format(meta.version, sizeof meta.version, "%s", version);
    str_format(meta.source, sizeof meta.source, "https://feed.example/endpoints/%s", instance);
    rc = o3b_store_save_current(&f->p, body, len, &meta, &err);
    if (rc != 0)
        fprintf(stderr, "\n  save: %s\n", err.msg);
    free(body);
    return rc == 0;
}

static bool write_text(const char *path, const char *text)
{
    o3b_err err;

    return o3b_write_atomic(path, text, strlen(text), &err) == 0;
}

static size_t sets_of(const o3b_table *t)
{
    return o3b_table_set_count(t);
}

/* The choice with `in_use`; asserts it succeeded. */
static struct o3b_store_choice choose(struct fixture *f, const o3b_table *in_use)
{
    struct o3b_store_choice c;

    CU_ASSERT_EQUAL(o3b_store_choose(&f->p, in_use, &c), 0);
    return c;
}

/* ---- the choice at start-up ---------------------------------------------------- */

static void test_startup_prefers_a_valid_cache_file_of_the_instance(void)
{
    struct fixture f;
    struct o3b_store_choice c;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    CU_ASSERT_FATAL(save_as_current(&f, WW_LATER_FILE, "Worldwide", "2025112000"));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_CACHE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.table);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->version, "2025112000");
    CU_ASSERT_STRING_EQUAL(c.notes, "");
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_startup_without_cache_file_takes_the_seed_as_the_configured_instance(void)
{
    struct fixture f;
    struct o3b_store_choice c;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.table);
    CU_ASSERT_EQUAL(sets_of(c.table), 64);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->instance, "Worldwide"); /* not "-" */
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->version, "");
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_china_with_the_bundled_seed_starts_empty(void)
{
    struct fixture f;
    struct o3b_store_choice c;

    CU_ASSERT_FATAL(fixture_open(&f, "China", BUNDLED_SEED));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_EMPTY);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.table);
    CU_ASSERT_EQUAL(sets_of(c.table), 0);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->instance, "China");
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "SeedFile skipped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "is the Worldwide table, not China"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "EMPTY"));
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_a_corrupt_cache_file_at_startup_gives_the_seed(void)
{
    struct fixture f;
    struct o3b_store_choice c;
    char path[256];

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    CU_ASSERT_FATAL(save_as_current(&f, WW_LATER_FILE, "Worldwide", "2025112000"));
    o3b_store_path(&f.p, O3B_STORE_CURRENT, path, sizeof path);
    CU_ASSERT_FATAL(write_text(path, "{\"o365bypass\": 1, \"endpoints\": [{\"id\": "));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    CU_ASSERT_EQUAL(sets_of(c.table), 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "cache file skipped"));
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_a_missing_seed_without_cache_file_starts_empty(void)
{
    struct fixture f;
    struct o3b_store_choice c;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", "/nonexistent/o3b-seed.json"));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_EMPTY);
    CU_ASSERT_EQUAL(sets_of(c.table), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "SeedFile skipped: /nonexistent/o3b-seed.json"));
    o3b_table_free(&c.table);
    f.p.seed_file = NULL; /* no SeedFile at all: the same */
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_EMPTY);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "no SeedFile"));
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_cache_dir_none_takes_the_seed(void)
{
    struct fixture f;
    struct o3b_store_choice c;
    o3b_table *in_use;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    f.p.dir = NULL;
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    in_use = c.table;
    c = choose(&f, in_use); /* a reload reads the seed again */
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    CU_ASSERT_EQUAL(o3b_table_hash(c.table), o3b_table_hash(in_use));
    o3b_table_free(&c.table);
    o3b_table_free(&in_use);
    fixture_close(&f);
}

static void test_a_cache_file_whose_wrapper_names_another_instance_is_skipped(void)
{
    struct fixture f;
    struct o3b_store_choice c;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    /* endpoints-Worldwide.json, but the wrapper says China */
    CU_ASSERT_FATAL(save_as_current(&f, CHINA_FILE, "China", "2025111400"));
    c = choose(&f, NULL);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "is the China table, not Worldwide"));
    o3b_table_free(&c.table);
    fixture_close(&f);
}

static void test_a_raw_seed_is_of_the_instance_its_file_name_names(void)
{
    static const struct {
        const char *name, *instance;
        bool taken;
    } rows[] = {
        {"endpoints-worldwide.json", "China", false},
        {"endpoints-WORLDWIDE.json", "China", false},
        {"endpoints-china.json", "Worldwide", false},
        {"endpoints-china.json", "China", true},
        {"endpoints-usgovdod.json", "USGovDoD", true},
        {"endpoints-mars.json", "China", true}, /* names no instance: the configured one */
        {"custom-seed.json", "China", true},
        {"endpoints-china.json.bak", "Worldwide", true},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct fixture f;
        struct o3b_store_choice c;
        char seed[192];
        size_t len;
        char *body = test_read_file(WW_FILE, &len);

        CU_ASSERT_FATAL(body != NULL && fixture_open(&f, rows[i].instance, seed));
        str_format(seed, sizeof seed, "%s/%s", f.dir, rows[i].name);
        CU_ASSERT_FATAL(write_text(seed, body));
        c = choose(&f, NULL);
        if ((c.source == O3B_SOURCE_SEED) != rows[i].taken)
            fprintf(stderr, "\n  %s for %s: %s\n", rows[i].name, rows[i].instance, c.notes);
        CU_ASSERT_EQUAL(c.source == O3B_SOURCE_SEED, rows[i].taken);
        CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->instance, rows[i].instance);
        o3b_table_free(&c.table);
        fixture_close(&f);
        free(body);
    }
}

/* ---- the choice with a table in use (reload, children following) ------------------- */

/* A Worldwide table in use, as a refresh would have left it. */
static o3b_table *worldwide_in_use(void)
{
    struct o3b_table_meta meta = {.instance = "Worldwide", .version = "2025111400"};
    struct o3b_load_opts lo = {.meta = &meta};
    o3b_err err;

    return o3b_load_file(WW_FILE, &lo, &err);
}

static void test_china_reload_never_publishes_the_worldwide_seed(void)
{
    struct fixture f;
    struct o3b_store_choice c, start;

    CU_ASSERT_FATAL(fixture_open(&f, "China", BUNDLED_SEED));
    start = choose(&f, NULL); /* the empty table of the start-up */
    CU_ASSERT_EQUAL_FATAL(start.source, O3B_SOURCE_EMPTY);
    c = choose(&f, start.table);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_KEEP);
    CU_ASSERT_PTR_NULL(c.table);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "is the Worldwide table, not China"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "the table in use stays"));
    /* once a China table is in CacheDir, a reload takes it */
    CU_ASSERT_FATAL(save_as_current(&f, CHINA_FILE, "China", "2025111400"));
    c = choose(&f, start.table);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_CACHE);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->instance, "China");
    o3b_table_free(&c.table);
    o3b_table_free(&start.table);
    fixture_close(&f);
}

static void test_a_corrupt_cache_file_at_reload_keeps_the_table_in_use(void)
{
    struct fixture f;
    struct o3b_store_choice c;
    o3b_table *in_use = worldwide_in_use();
    char path[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(in_use);
    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    CU_ASSERT_FATAL(save_as_current(&f, WW_FILE, "Worldwide", "2025111400"));
    o3b_store_path(&f.p, O3B_STORE_CURRENT, path, sizeof path);
    CU_ASSERT_FATAL(write_text(path, "{\"o365bypass\": 1, \"endpoints\": [{\"id\": "));
    c = choose(&f, in_use); /* never the seed just because the cache file broke */
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_KEEP);
    CU_ASSERT_PTR_NULL(c.table);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "cache file skipped"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "the table in use stays"));
    o3b_table_free(&in_use);
    fixture_close(&f);
}

static void test_reload_never_falls_to_an_empty_table(void)
{
    struct fixture f;
    struct o3b_store_choice c;
    o3b_table *in_use = worldwide_in_use();

    CU_ASSERT_PTR_NOT_NULL_FATAL(in_use);
    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", "/nonexistent/o3b-seed.json"));
    c = choose(&f, in_use);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_KEEP);
    CU_ASSERT_PTR_NULL(c.table);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.notes, "SeedFile skipped"));
    o3b_table_free(&in_use);
    fixture_close(&f);
}

static void test_reload_without_cache_file_takes_the_seed(void)
{
    struct fixture f;
    struct o3b_store_choice c;
    o3b_table *in_use = worldwide_in_use();

    CU_ASSERT_PTR_NOT_NULL_FATAL(in_use);
    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", BUNDLED_SEED));
    c = choose(&f, in_use);
    CU_ASSERT_EQUAL(c.source, O3B_SOURCE_SEED);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(c.table)->instance, "Worldwide");
    o3b_table_free(&c.table);
    o3b_table_free(&in_use);
    fixture_close(&f);
}

/* ---- writing -------------------------------------------------------------------------- */

static void test_paths_are_named_after_the_instance(void)
{
    static const struct {
        enum o3b_store_file f;
        const char *name;
    } rows[] = {
        {O3B_STORE_CURRENT, "/c/endpoints-USGovDoD.json"},
        {O3B_STORE_PREVIOUS, "/c/endpoints-USGovDoD.prev.json"},
        {O3B_STORE_PENDING, "/c/endpoints-USGovDoD.pending.json"},
        {O3B_STORE_STATUS, "/c/status-USGovDoD.json"},
        {O3B_STORE_CLIENT_ID, "/c/client-request-id"},
    };
    struct o3b_store_params p = {"/c", "USGovDoD", NULL, MAX_FEED};
    char buf[64];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CU_ASSERT_STRING_EQUAL(o3b_store_path(&p, rows[i].f, buf, sizeof buf), rows[i].name);
    CU_ASSERT_PTR_NULL(o3b_store_path(&p, O3B_STORE_CURRENT, buf, 10)); /* does not fit */
    p.dir = NULL;
    CU_ASSERT_PTR_NULL(o3b_store_path(&p, O3B_STORE_CURRENT, buf, sizeof buf));
}

static void test_one_size_limit_covers_feed_and_wrapper(void)
{
    struct o3b_store_params p = {"/c", "Worldwide", NULL, 65536};
    struct fixture f;
    char big[200];
    o3b_err err;

    CU_ASSERT_EQUAL(o3b_store_max_table_bytes(&p), 65536 + O3B_STORE_WRAPPER_SLACK);
    /* a file one byte over the limit is refused by every load */
    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    f.p.max_feed_bytes = 65536;
    str_format(big, sizeof big, "%s/big.json", f.dir);
    {
        size_t n = 65536 + O3B_STORE_WRAPPER_SLACK + 1;
        char *text = malloc(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        memset(text, ' ', n);
        text[0] = '[';
        text[n - 1] = ']';
        CU_ASSERT_EQUAL(o3b_write_atomic(big, text, n, &err), 0);
        free(text);
    }
    CU_ASSERT_PTR_NULL(o3b_store_load_path(&f.p, big, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "over the 69632-byte limit"));
    fixture_close(&f);
}

static void test_saving_keeps_the_replaced_file_as_previous(void)
{
    struct fixture f;
    char cur[256], prev[256];
    size_t len_a = 0, len_prev = 0;
    char *a, *p;
    o3b_table *t;
    o3b_err err;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    CU_ASSERT_FATAL(save_as_current(&f, WW_FILE, "Worldwide", "2025111400")); /* creates CacheDir */
    o3b_store_path(&f.p, O3B_STORE_CURRENT, cur, sizeof cur);
    o3b_store_path(&f.p, O3B_STORE_PREVIOUS, prev, sizeof prev);
    CU_ASSERT_EQUAL(access(prev, F_OK), -1); /* nothing replaced yet */
    a = test_read_file(cur, &len_a);
    CU_ASSERT_FATAL(save_as_current(&f, WW_LATER_FILE, "Worldwide", "2025112000"));
    p = test_read_file(prev, &len_prev);
    CU_ASSERT_TRUE(a != NULL && p != NULL && len_a == len_prev && memcmp(a, p, len_a) == 0);
    CU_ASSERT_EQUAL(o3b_store_load(&f.p, O3B_STORE_CURRENT, &t, &err), 0);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->version, "2025112000");
    o3b_table_free(&t);
    CU_ASSERT_EQUAL(o3b_store_load(&f.p, O3B_STORE_PREVIOUS, &t, &err), 0);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->version, "2025111400");
    o3b_table_free(&t);
    CU_ASSERT_EQUAL(o3b_store_load(&f.p, O3B_STORE_PENDING, &t, &err), 1);
    free(a);
    free(p);
    fixture_close(&f);
}

static void test_accept_revalidates_the_pending_file_then_promotes_it(void)
{
    struct o3b_table_meta meta = {.instance = "Worldwide", .version = "2025112000"};
    struct fixture f;
    char pending[256];
    size_t len;
    char *body = test_read_file(WW_LATER_FILE, &len);
    o3b_table *t = NULL, *cur;
    o3b_err err;

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    CU_ASSERT_FATAL(save_as_current(&f, WW_FILE, "Worldwide", "2025111400"));
    /* nothing pending: refused */
    CU_ASSERT_EQUAL(o3b_store_accept(&f.p, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no table to accept"));
    /* a pending file that went bad: refused, nothing moves */
    o3b_store_path(&f.p, O3B_STORE_PENDING, pending, sizeof pending);
    CU_ASSERT_FATAL(write_text(pending, "[{\"id\": 1}]"));
    CU_ASSERT_EQUAL(o3b_store_accept(&f.p, &t, &err), -1);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(access(pending, F_OK), 0);
    /* a good one: promoted, the current one kept as previous */
    CU_ASSERT_EQUAL(o3b_store_save_pending(&f.p, body, len, &meta, &err), 0);
    CU_ASSERT_EQUAL(o3b_store_accept(&f.p, &t, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->version, "2025112000");
    CU_ASSERT_EQUAL(access(pending, F_OK), -1);
    CU_ASSERT_EQUAL(o3b_store_load(&f.p, O3B_STORE_CURRENT, &cur, &err), 0);
    CU_ASSERT_EQUAL(o3b_table_hash(cur), o3b_table_hash(t));
    o3b_table_free(&cur);
    CU_ASSERT_EQUAL(o3b_store_load(&f.p, O3B_STORE_PREVIOUS, &cur, &err), 0);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(cur)->version, "2025111400");
    o3b_table_free(&cur);
    o3b_table_free(&t);
    free(body);
    fixture_close(&f);
}

static void test_without_cache_dir_nothing_is_saved(void)
{
    struct o3b_store_params p = {NULL, "Worldwide", NULL, MAX_FEED};
    struct o3b_table_meta meta = {.instance = "Worldwide"};
    struct o3b_refresh_status st = {.last_attempt = 1};
    o3b_table *t = NULL;
    o3b_err err;

    CU_ASSERT_EQUAL(o3b_store_save_current(&p, "[]", 2, &meta, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no CacheDir"));
    CU_ASSERT_EQUAL(o3b_store_save_pending(&p, "[]", 2, &meta, &err), -1);
    CU_ASSERT_EQUAL(o3b_store_accept(&p, &t, &err), -1);
    CU_ASSERT_EQUAL(o3b_store_status_write(&p, &st, &err), -1);
    CU_ASSERT_EQUAL(o3b_store_status_read(&p, &st, &err), 1);
    CU_ASSERT_EQUAL(st.last_attempt, 0);
    CU_ASSERT_EQUAL(o3b_store_load(&p, O3B_STORE_CURRENT, &t, &err), 1);
    CU_ASSERT_EQUAL(o3b_store_dir_check(&p, &err), O3B_STORE_DIR_NONE);
}

/* ---- status, ClientRequestId, CacheDir -------------------------------------------------- */

static void test_status_file_round_trip(void)
{
    struct o3b_refresh_status out = {.last_attempt = 1763100000,
                                     .last_success = 1763096400,
                                     .next_due = 1763103600,
                                     .result = "failed: GET http://x/ \"quoted\" \\ and a\nnewline",
                                     .client_request_id = "0f8fad5b-d9cb-469f-a165-70867728950e"};
    struct o3b_refresh_status in;
    struct fixture f;
    char path[256];
    o3b_err err;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    CU_ASSERT_EQUAL(o3b_store_status_read(&f.p, &in, &err), 1); /* none recorded yet */
    CU_ASSERT_EQUAL(o3b_store_dir_prepare(&f.p, &err), 0);
    CU_ASSERT_EQUAL(o3b_store_status_write(&f.p, &out, &err), 0);
    CU_ASSERT_EQUAL(o3b_store_status_read(&f.p, &in, &err), 0);
    CU_ASSERT_EQUAL(in.last_attempt, out.last_attempt);
    CU_ASSERT_EQUAL(in.last_success, out.last_success);
    CU_ASSERT_EQUAL(in.next_due, out.next_due);
    CU_ASSERT_STRING_EQUAL(in.result, out.result);
    CU_ASSERT_STRING_EQUAL(in.client_request_id, out.client_request_id);
    /* what an older module wrote (no last_success) reads with 0 for it */
    o3b_store_path(&f.p, O3B_STORE_STATUS, path, sizeof path);
    CU_ASSERT_FATAL(write_text(path, "{\"last_attempt\": 5, \"next_due\": 7, \"result\": \"ok\"}"));
    CU_ASSERT_EQUAL(o3b_store_status_read(&f.p, &in, &err), 0);
    CU_ASSERT_EQUAL(in.last_attempt, 5);
    CU_ASSERT_EQUAL(in.last_success, 0);
    CU_ASSERT_STRING_EQUAL(in.client_request_id, "");
    CU_ASSERT_FATAL(write_text(path, "not json"));
    CU_ASSERT_EQUAL(o3b_store_status_read(&f.p, &in, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    fixture_close(&f);
}

static void test_client_request_id_is_created_once_and_kept(void)
{
    struct fixture f;
    char first[O3B_CLIENT_ID_SIZE], again[O3B_CLIENT_ID_SIZE], path[256];
    o3b_err err;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    CU_ASSERT_EQUAL(o3b_store_client_id(&f.p, first, &err), 0); /* creates CacheDir too */
    CU_ASSERT_TRUE(o3b_guid_valid(first));
    CU_ASSERT_EQUAL(o3b_store_client_id(&f.p, again, &err), 0);
    CU_ASSERT_STRING_EQUAL(again, first);
    /* a damaged file is replaced by a new GUID */
    o3b_store_path(&f.p, O3B_STORE_CLIENT_ID, path, sizeof path);
    CU_ASSERT_FATAL(write_text(path, "not-a-guid\n"));
    CU_ASSERT_EQUAL(o3b_store_client_id(&f.p, again, &err), 0);
    CU_ASSERT_TRUE(o3b_guid_valid(again));
    CU_ASSERT_STRING_NOT_EQUAL(again, first);
    /* without CacheDir: a fresh one each time, nothing stored */
    f.p.dir = NULL;
    CU_ASSERT_EQUAL(o3b_store_client_id(&f.p, first, &err), 0);
    CU_ASSERT_TRUE(o3b_guid_valid(first));
    fixture_close(&f);
}

static void test_cache_dir_states(void)
{
    struct fixture f;
    char file[128];
    o3b_err err;

    CU_ASSERT_FATAL(fixture_open(&f, "Worldwide", NULL));
    CU_ASSERT_EQUAL(o3b_store_dir_check(&f.p, &err), O3B_STORE_DIR_MISSING);
    CU_ASSERT_EQUAL(o3b_store_dir_prepare(&f.p, &err), 0);
    CU_ASSERT_EQUAL(o3b_store_dir_check(&f.p, &err), O3B_STORE_DIR_OK);
    str_format(file, sizeof file, "%s/plain-file", f.dir);
    CU_ASSERT_FATAL(write_text(file, "x"));
    f.p.dir = file;
    CU_ASSERT_EQUAL(o3b_store_dir_check(&f.p, &err), O3B_STORE_DIR_NOT_A_DIR);
    CU_ASSERT_EQUAL(o3b_store_dir_prepare(&f.p, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a directory"));
    fixture_close(&f);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_startup_prefers_a_valid_cache_file_of_the_instance),
    O3B_TEST(test_startup_without_cache_file_takes_the_seed_as_the_configured_instance),
    O3B_TEST(test_china_with_the_bundled_seed_starts_empty),
    O3B_TEST(test_a_corrupt_cache_file_at_startup_gives_the_seed),
    O3B_TEST(test_a_missing_seed_without_cache_file_starts_empty),
    O3B_TEST(test_cache_dir_none_takes_the_seed),
    O3B_TEST(test_a_cache_file_whose_wrapper_names_another_instance_is_skipped),
    O3B_TEST(test_a_raw_seed_is_of_the_instance_its_file_name_names),
    O3B_TEST(test_china_reload_never_publishes_the_worldwide_seed),
    O3B_TEST(test_a_corrupt_cache_file_at_reload_keeps_the_table_in_use),
    O3B_TEST(test_reload_never_falls_to_an_empty_table),
    O3B_TEST(test_reload_without_cache_file_takes_the_seed),
    O3B_TEST(test_paths_are_named_after_the_instance),
    O3B_TEST(test_one_size_limit_covers_feed_and_wrapper),
    O3B_TEST(test_saving_keeps_the_replaced_file_as_previous),
    O3B_TEST(test_accept_revalidates_the_pending_file_then_promotes_it),
    O3B_TEST(test_without_cache_dir_nothing_is_saved),
    O3B_TEST(test_status_file_round_trip),
    O3B_TEST(test_client_request_id_is_created_once_and_kept),
    O3B_TEST(test_cache_dir_states),
};

O3B_UNIT_MAIN("store", tests)
