/* SPDX-License-Identifier: MIT */
/*
 * test_loader.c - Microsoft's JSON (and our cache wrapper) into a table.
 *
 * The four real files in tests/data are loaded and their counts compared
 * twice: with numbers written down from tests/data/SOURCES.md (and a
 * python3 json count made while writing this test), and with a count taken
 * here by walking the same file with cJSON directly, so the loader cannot
 * agree with itself by accident.  Every refusal is a table row: the input,
 * then words the message must contain (the place and the reason).  A
 * refused input must give NULL and nothing else; under ASan a half-built
 * table left behind would show up as a leak.
 */
#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o365bypass/index.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/store.h"
#include "o365bypass/table.h"
#include "unit.h"

#define WW_FILE O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define WW_LATER_FILE O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"
#define CHINA_FILE O3B_TEST_DATA "/china-2025-11-14.json"
#define GCCH_FILE O3B_TEST_DATA "/usgovgcchigh-2025-11-14.json"

/* A valid set to put in front of a broken one, so messages must say "set #2". */
#define GOOD_SET                                                                                   \
    "{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Optimize\", \"required\": true,"   \
    " \"tcpPorts\": \"443\", \"urls\": [\"good.example.com\"]}"
/* The mandatory fields of set #2 (id 7); rows append what they test. */
#define BASE7                                                                                      \
    "\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true"
#define SET2(extra) "[" GOOD_SET ", {" BASE7 extra "}]"

/* ---- helpers ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    return test_read_file(path, len);
}

static o3b_table *load_path(const char *path)
{
    o3b_err err = {{0}};
    o3b_table *t = o3b_load_file(path, NULL, &err);

    if (t == NULL)
        fprintf(stderr, "\n  load %s: %s\n", path, err.msg);
    return t;
}

static o3b_table *load_text(const char *json, o3b_err *err)
{
    return o3b_load_json(json, strlen(json), NULL, err);
}

/* Load text that must be accepted; prints the message when it is not. */
static o3b_table *load_ok(const char *json)
{
    o3b_err err = {{0}};
    o3b_table *t = load_text(json, &err);

    if (t == NULL)
        fprintf(stderr, "\n  unexpected refusal: %s\n  of: %.200s\n", err.msg, json);
    return t;
}

/* Does `msg` hold every non-NULL needle?  Prints what is missing. */
static bool mentions(const char *msg, const char *const *needles, size_t n, const char *what)
{
    bool ok = msg[0] != '\0';

    for (size_t i = 0; i < n && needles[i] != NULL; i++)
        if (strstr(msg, needles[i]) == NULL) {
            fprintf(stderr, "\n  %s: message lacks '%s': %s\n", what, needles[i], msg);
            ok = false;
        }
    return ok;
}

static uint64_t hash_of_text(const char *json)
{
    o3b_table *t = load_ok(json);
    uint64_t h = t ? o3b_table_hash(t) : 0;

    o3b_table_free(&t);
    return h;
}

static const struct o3b_index_entry *lookup(const o3b_table *t, const char *host, uint16_t port)
{
    struct o3b_hit hit;

    o3b_index_lookup_host(o3b_table_index(t), host, strlen(host), port, &hit);
    return hit.best;
}

/* ---- the real files: counts ---------------------------------------------------- */

/* Counted independently: each set once, each urls[]/ips[] string once per set. */
struct raw_counts {
    size_t sets, urls, exact, wildcards, ipv4, ipv6;
    size_t by_category[O3B_CAT_COUNT];
};

static void count_raw_list(const cJSON *set, const char *name, struct raw_counts *rc)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(set, name))
    {
        const char *s = it->valuestring;
        if (strcmp(name, "urls") == 0) {
            rc->urls++;
            *(strchr(s, '*') ? &rc->wildcards : &rc->exact) += 1;
        } else {
            *(strchr(s, ':') ? &rc->ipv6 : &rc->ipv4) += 1;
        }
    }
}

static bool count_raw(const char *path, struct raw_counts *rc)
{
    size_t len;
    char *buf = slurp(path, &len);
    cJSON *root = buf ? cJSON_ParseWithLength(buf, len) : NULL;
    const cJSON *set;

    memset(rc, 0, sizeof *rc);
    free(buf);
    if (root == NULL)
        return false;
    cJSON_ArrayForEach(set, root)
    {
        const char *cat = cJSON_GetObjectItemCaseSensitive(set, "category")->valuestring;
        rc->sets++;
        rc->by_category[strcmp(cat, "Optimize") == 0 ? O3B_CAT_OPTIMIZE
                        : strcmp(cat, "Allow") == 0  ? O3B_CAT_ALLOW
                                                     : O3B_CAT_DEFAULT]++;
        count_raw_list(set, "urls", rc);
        count_raw_list(set, "ips", rc);
    }
    cJSON_Delete(root);
    return true;
}

/*
 * Expected numbers: sets, url entries and ip entries v4/v6 from
 * tests/data/SOURCES.md; exact/wildcard split, categories and areas from
 * python3 -c 'json.load(...)' over the same files (no URL or IP is listed
 * twice inside one set in any of them, so per-set dedup changes nothing).
 */
static const struct file_counts {
    const char *path;
    size_t sets, urls, exact, wildcards, ipv4, ipv6;
    size_t optimize, allow, dflt;
    size_t exchange, sharepoint, skype, common;
} real_files[] = {
    {WW_FILE, 64, 204, 127, 77, 51, 78, 3, 7, 54, 5, 7, 7, 45},
    {WW_LATER_FILE, 63, 199, 125, 74, 51, 0, 3, 7, 53, 5, 6, 7, 45},
    {CHINA_FILE, 21, 49, 15, 34, 72, 29, 2, 9, 10, 4, 2, 2, 13},
    {GCCH_FILE, 26, 87, 58, 29, 25, 15, 3, 7, 16, 4, 3, 3, 16},
};

static void check_counts(const struct file_counts *w)
{
    o3b_table *t = load_path(w->path);
    struct o3b_table_counts c;
    struct raw_counts rc;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    o3b_table_get_counts(t, &c);
    CU_ASSERT_EQUAL(c.sets, w->sets);
    CU_ASSERT_EQUAL(o3b_table_set_count(t), w->sets);
    CU_ASSERT_EQUAL(c.urls, w->urls);
    CU_ASSERT_EQUAL(c.exact, w->exact);
    CU_ASSERT_EQUAL(c.wildcards, w->wildcards);
    CU_ASSERT_EQUAL(c.ipv4, w->ipv4);
    CU_ASSERT_EQUAL(c.ipv6, w->ipv6);
    CU_ASSERT_EQUAL(c.entries, w->urls + w->ipv4 + w->ipv6);
    CU_ASSERT_EQUAL(c.sets_by_category[O3B_CAT_OPTIMIZE], w->optimize);
    CU_ASSERT_EQUAL(c.sets_by_category[O3B_CAT_ALLOW], w->allow);
    CU_ASSERT_EQUAL(c.sets_by_category[O3B_CAT_DEFAULT], w->dflt);
    CU_ASSERT_EQUAL(c.sets_by_area[O3B_AREA_EXCHANGE], w->exchange);
    CU_ASSERT_EQUAL(c.sets_by_area[O3B_AREA_SHAREPOINT], w->sharepoint);
    CU_ASSERT_EQUAL(c.sets_by_area[O3B_AREA_SKYPE], w->skype);
    CU_ASSERT_EQUAL(c.sets_by_area[O3B_AREA_COMMON], w->common);
    CU_ASSERT_EQUAL(c.sets_by_area[O3B_AREA_OTHER], 0);
    {
        size_t n;
        o3b_index_entries(o3b_table_index(t), &n);
        CU_ASSERT_EQUAL(n, c.entries); /* one index entry per URL and per prefix */
    }
    /* the independent walk of the same file */
    CU_ASSERT_TRUE_FATAL(count_raw(w->path, &rc));
    CU_ASSERT_EQUAL(rc.sets, c.sets);
    CU_ASSERT_EQUAL(rc.urls, c.urls);
    CU_ASSERT_EQUAL(rc.exact, c.exact);
    CU_ASSERT_EQUAL(rc.wildcards, c.wildcards);
    CU_ASSERT_EQUAL(rc.ipv4, c.ipv4);
    CU_ASSERT_EQUAL(rc.ipv6, c.ipv6);
    for (int k = 0; k < O3B_CAT_COUNT; k++)
        CU_ASSERT_EQUAL(rc.by_category[k], c.sets_by_category[k]);
    o3b_table_free(&t);
    CU_ASSERT_PTR_NULL(t);
}

static void test_loader_counts_match_sources_md_for_all_four_real_files(void)
{
    for (size_t i = 0; i < sizeof real_files / sizeof real_files[0]; i++)
        check_counts(&real_files[i]);
}

static void test_loader_keeps_every_field_of_a_real_set(void)
{
    o3b_table *t = load_path(WW_FILE);
    const struct o3b_set *s1, *s2;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    s1 = o3b_table_find_set(t, 1);
    s2 = o3b_table_find_set(t, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    CU_ASSERT_PTR_EQUAL(o3b_table_set(t, 0), s1); /* feed order */
    CU_ASSERT_EQUAL(s1->category, O3B_CAT_OPTIMIZE);
    CU_ASSERT_EQUAL(s1->area, O3B_AREA_EXCHANGE);
    CU_ASSERT_STRING_EQUAL(s1->area_name, "Exchange");
    CU_ASSERT_STRING_EQUAL(s1->area_display, "Exchange Online");
    CU_ASSERT_STRING_EQUAL(s1->tcp_ports_text, "80,443");
    CU_ASSERT_STRING_EQUAL(s1->udp_ports_text, "443");
    CU_ASSERT_STRING_EQUAL(s1->notes, "");
    CU_ASSERT_TRUE(s1->required);
    CU_ASSERT_TRUE(s1->express_route);
    CU_ASSERT_EQUAL(s1->n_tcp, 2);
    CU_ASSERT_EQUAL(s1->n_urls, 3);
    CU_ASSERT_STRING_EQUAL(s1->urls[1], "outlook.office.com");
    CU_ASSERT_EQUAL(s1->n_ips, 27);
    CU_ASSERT_STRING_EQUAL(s1->ips[6], "52.96.0.0/14");
    CU_ASSERT_STRING_EQUAL(s1->ips[11], "2603:1006::/40");
    CU_ASSERT_FALSE(s2->required);
    CU_ASSERT_STRING_EQUAL(s2->tcp_ports_text, "143, 587, 993, 995");
    CU_ASSERT_STRING_EQUAL(s2->notes, "POP3, IMAP4, SMTP Client traffic");
    CU_ASSERT_PTR_NULL(o3b_table_find_set(t, 193));
    CU_ASSERT_PTR_NULL(o3b_table_set(t, 64));
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->source, WW_FILE);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->version, "");
    o3b_table_free(&t);
}

/* ---- line endings, the cache wrapper, the tag ------------------------------------ */

static void test_loader_reads_crlf_exactly_like_lf(void)
{
    size_t len, w = 0;
    char *crlf = slurp(WW_LATER_FILE, &len);
    char *lf;
    o3b_table *a, *b;
    const struct o3b_set *s193;

    CU_ASSERT_PTR_NOT_NULL_FATAL(crlf);
    CU_ASSERT_PTR_NOT_NULL(memchr(crlf, '\r', len)); /* the file really is CRLF */
    lf = malloc(len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lf);
    for (size_t r = 0; r < len; r++)
        if (crlf[r] != '\r')
            lf[w++] = crlf[r];
    a = o3b_load_json(crlf, len, NULL, NULL);
    b = o3b_load_json(lf, w, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(o3b_table_hash(a), o3b_table_hash(b));
    s193 = o3b_table_find_set(a, 193);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s193);
    CU_ASSERT_STRING_EQUAL(s193->notes, ""); /* "notes": "" */
    CU_ASSERT_EQUAL(s193->n_urls, 2);
    CU_ASSERT_STRING_EQUAL(s193->urls[0], "*.static.microsoft");
    CU_ASSERT_PTR_NULL(o3b_table_find_set(a, 33));
    CU_ASSERT_PTR_NULL(o3b_table_find_set(a, 105));
    o3b_table_free(&a);
    o3b_table_free(&b);
    free(lf);
    free(crlf);
}

/* A CacheDir of its own, and the store's current file in it. */
struct tmpdir {
    char path[64];
    char file[128];
    struct o3b_store_params store;
};

static bool tmpdir_make(struct tmpdir *d)
{
    if (!test_make_dir(d->path, sizeof d->path, "loader"))
        return false;
    d->store = (struct o3b_store_params){d->path, "Worldwide", NULL, 4L << 20};
    return o3b_store_path(&d->store, O3B_STORE_CURRENT, d->file, sizeof d->file) != NULL;
}

static void tmpdir_remove(struct tmpdir *d)
{
    test_remove_tree(d->path);
}

static void test_cache_wrapper_round_trip_restores_meta_and_content(void)
{
    static const struct o3b_table_meta meta = {
        .source = "https://endpoints.office.com/endpoints/Worldwide?ClientRequestId=x&a=\"b\\c",
        .instance = "Worldwide",
        .version = "2025111400",
        .fetched = 1763100000,
    };
    struct o3b_load_opts with_version = {.meta = &meta};
    struct tmpdir d;
    size_t len;
    char *body = slurp(WW_FILE, &len);
    o3b_table *raw, *cached;
    const struct o3b_table_meta *m;
    char tag_raw[32], tag_cached[32];
    o3b_err err = {{0}};

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    CU_ASSERT_EQUAL(o3b_store_save_current(&d.store, body, len, &meta, &err), 0);
    raw = o3b_load_json(body, len, &with_version, &err);
    cached = o3b_load_file(d.file, NULL, &err);
    tmpdir_remove(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cached);
    m = o3b_table_meta(cached);
    CU_ASSERT_STRING_EQUAL(m->version, "2025111400");
    CU_ASSERT_STRING_EQUAL(m->instance, "Worldwide");
    CU_ASSERT_EQUAL(m->fetched, 1763100000);
    CU_ASSERT_STRING_EQUAL(m->source, meta.source); /* the wrapper's, not the path */
    CU_ASSERT_EQUAL(o3b_table_hash(raw), o3b_table_hash(cached));
    CU_ASSERT_STRING_EQUAL(o3b_table_tag(raw, tag_raw, sizeof tag_raw),
                           o3b_table_tag(cached, tag_cached, sizeof tag_cached));
    CU_ASSERT_EQUAL(strncmp(tag_cached, "2025111400-", 11), 0);
    CU_ASSERT_EQUAL(o3b_table_set_count(cached), 64);
    o3b_table_free(&raw);
    o3b_table_free(&cached);
    free(body);
}

static void test_cache_wrapper_of_the_crlf_file_loads(void)
{
    static const struct o3b_table_meta meta = {.instance = "Worldwide", .version = "2025121200"};
    struct tmpdir d;
    size_t len;
    char *body = slurp(WW_LATER_FILE, &len);
    o3b_table *t;
    o3b_err err = {{0}};

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    CU_ASSERT_EQUAL(o3b_store_save_current(&d.store, body, len, &meta, &err), 0);
    t = o3b_load_file(d.file, NULL, &err);
    tmpdir_remove(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_set_count(t), 63);
    CU_ASSERT_STRING_EQUAL(o3b_table_meta(t)->source, ""); /* written empty, kept empty */
    CU_ASSERT_EQUAL(o3b_table_meta(t)->fetched, 0);
    o3b_table_free(&t);
    free(body);
}

static void test_cache_wrapper_refuses_other_formats(void)
{
    static const struct {
        const char *json;
        const char *want;
    } rows[] = {
        {"{\"o365bypass\": 2, \"endpoints\": [" GOOD_SET "]}", "not an o365bypass cache file"},
        {"{\"o365bypass\": \"1\", \"endpoints\": [" GOOD_SET "]}", "not an o365bypass cache file"},
        {"{\"endpoints\": [" GOOD_SET "]}", "not an o365bypass cache file"},
        {"{\"o365bypass\": 1}", "without an 'endpoints' array"},
        {"{\"o365bypass\": 1, \"endpoints\": {}}", "without an 'endpoints' array"},
        {"{\"o365bypass\": 1, \"instance\": 5, \"endpoints\": [" GOOD_SET "]}", "'instance'"},
        {"{\"o365bypass\": 1, \"version\": [], \"endpoints\": [" GOOD_SET "]}", "'version'"},
        {"{\"o365bypass\": 1, \"endpoints\": []}", "no endpoint set"},
        /* meta that reaches logs, the ISTag and ICAP headers: no injection */
        {"{\"o365bypass\": 1, \"version\": \"2025\\r\\nX: y\", \"endpoints\": [" GOOD_SET "]}",
         "10-digit version"},
        {"{\"o365bypass\": 1, \"version\": \"v1\", \"endpoints\": [" GOOD_SET "]}",
         "10-digit version"},
        {"{\"o365bypass\": 1, \"instance\": \"World wide\", \"endpoints\": [" GOOD_SET "]}",
         "plain name"},
        {"{\"o365bypass\": 1, \"source\": \"a\\nb\", \"endpoints\": [" GOOD_SET "]}", "control"},
    };
    o3b_err err;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        o3b_table *t;
        err.msg[0] = '\0';
        t = load_text(rows[i].json, &err);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_TRUE(mentions(err.msg, &rows[i].want, 1, rows[i].json));
        o3b_table_free(&t);
    }
    /* unknown wrapper fields are ignored like unknown set fields */
    {
        o3b_table *t = load_ok("{\"o365bypass\": 1, \"future\": {\"x\": [1]}, \"fetched\": 17,"
                               " \"endpoints\": [" GOOD_SET "]}");
        CU_ASSERT_PTR_NOT_NULL(t);
        if (t)
            CU_ASSERT_EQUAL(o3b_table_meta(t)->fetched, 17);
        o3b_table_free(&t);
    }
}

static void test_table_tag_follows_content_not_format(void)
{
    static const struct o3b_table_meta v = {.version = "2025111400"};
    struct o3b_load_opts opts = {.meta = &v};
    size_t len;
    char *body = slurp(WW_FILE, &len);
    o3b_table *plain = load_path(WW_FILE);
    o3b_table *versioned = o3b_load_json(body, len, &opts, NULL);
    o3b_table *later = load_path(WW_LATER_FILE);
    char a[32], b[32], c[32];

    CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
    CU_ASSERT_PTR_NOT_NULL_FATAL(versioned);
    CU_ASSERT_PTR_NOT_NULL_FATAL(later);
    o3b_table_tag(plain, a, sizeof a);
    o3b_table_tag(versioned, b, sizeof b);
    o3b_table_tag(later, c, sizeof c);
    CU_ASSERT_EQUAL(strncmp(a, "seed-", 5), 0); /* no version known */
    CU_ASSERT_EQUAL(strlen(a), 13);
    CU_ASSERT_STRING_EQUAL(a + 5, b + 11); /* same content, same hash part */
    CU_ASSERT_TRUE(strlen(b) <= 26);       /* fits c-icap's ISTag */
    CU_ASSERT_EQUAL(o3b_table_hash(plain), o3b_table_hash(versioned));
    CU_ASSERT_NOT_EQUAL(o3b_table_hash(plain), o3b_table_hash(later));
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    o3b_table_free(&plain);
    o3b_table_free(&versioned);
    o3b_table_free(&later);
    free(body);
}

static void test_table_hash_ignores_spelling_but_not_meaning(void)
{
    uint64_t base = hash_of_text(
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]");
    /* same endpoints: keys reordered, CRLF and blanks, case, trailing dot, host bits */
    static const char *const same[] = {
        "[{\"urls\": [\"*.SharePoint.COM.\"], \"ips\": [\"13.107.136.1/22\"], \"required\": true,"
        "\r\n \"tcpPorts\": \"80,443\", \"category\": \"Optimize\", \"serviceArea\": "
        "\"SharePoint\", \"id\": 5, \"unknown\": 1}]\r\n",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\", "
        "\"*.sharepoint.com\"], \"ips\": [\"13.107.136.0/22\"], \"notes\": null}]",
    };
    /* one meaningful difference each */
    static const char *const different[] = {
        "[{\"id\": 6, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Allow\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": false, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.de\"], "
        "\"ips\": [\"13.107.136.0/22\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/23\"]}]",
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": [\"13.107.136.0/22\"], \"notes\": \"n\"}]",
        /* the same set without its prefix */
        "[{\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", "
        "\"required\": true, \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], "
        "\"ips\": []}]",
    };

    CU_ASSERT_NOT_EQUAL(base, 0);
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        CU_ASSERT_EQUAL(hash_of_text(same[i]), base);
    for (size_t i = 0; i < sizeof different / sizeof different[0]; i++)
        CU_ASSERT_NOT_EQUAL(hash_of_text(different[i]), base);
}

static void test_table_memory_of_worldwide_is_under_256_kib(void)
{
    o3b_table *t = load_path(WW_FILE);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    printf(" [%zu bytes] ", o3b_table_memory(t));
    CU_ASSERT_TRUE(o3b_table_memory(t) < 256u * 1024u);
    CU_ASSERT_TRUE(o3b_table_memory(t) > o3b_index_memory(o3b_table_index(t)));
    o3b_table_free(&t);
}

/* ---- optional fields, unknown fields, port spellings ------------------------------ */

static void test_loader_treats_omitted_and_null_optional_fields_as_absent(void)
{
    static const char *const inputs[] = {
        "[{" BASE7 "}]",
        "[{" BASE7 ", \"serviceAreaDisplayName\": null, \"urls\": null, \"ips\": null, "
        "\"tcpPorts\": null, \"udpPorts\": null, \"notes\": null, \"expressRoute\": null}]",
    };

    for (size_t i = 0; i < 2; i++) {
        o3b_table *t = load_ok(inputs[i]);
        const struct o3b_set *s;
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        s = o3b_table_find_set(t, 7);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_STRING_EQUAL(s->area_display, "");
        CU_ASSERT_STRING_EQUAL(s->tcp_ports_text, "");
        CU_ASSERT_STRING_EQUAL(s->udp_ports_text, "");
        CU_ASSERT_STRING_EQUAL(s->notes, "");
        CU_ASSERT_EQUAL(s->n_tcp, 0);
        CU_ASSERT_EQUAL(s->n_urls, 0);
        CU_ASSERT_EQUAL(s->n_ips, 0);
        CU_ASSERT_FALSE(s->express_route);
        CU_ASSERT_EQUAL(s->category, O3B_CAT_ALLOW);
        o3b_table_free(&t);
    }
}

static void test_loader_ignores_unknown_fields(void)
{
    o3b_table *t = load_ok("[{" BASE7 ", \"impact\": \"AddedUrl\", \"future\": {\"a\": [1, null]},"
                           " \"urls\": [\"a.example.com\"], \"MEM\": true, \"Category\": 3}]");

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_find_set(t, 7)->n_urls, 1);
    CU_ASSERT_EQUAL(o3b_table_find_set(t, 7)->category, O3B_CAT_ALLOW);
    o3b_table_free(&t);
}

static void test_loader_accepts_empty_notes_and_empty_udp_ports(void)
{
    o3b_table *t = load_ok("[{" BASE7 ", \"notes\": \"\", \"udpPorts\": \"\", \"tcpPorts\": "
                           "\"443\", \"urls\": [\"a.example.com\"]}]");
    o3b_table *china = load_path(CHINA_FILE);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(t, 7)->notes, "");
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(t, 7)->udp_ports_text, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(china); /* China set 26 has "udpPorts": "" */
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(china, 26)->udp_ports_text, "");
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(china, 26)->tcp_ports_text, "443,80");
    o3b_table_free(&t);
    o3b_table_free(&china);
}

static void test_loader_accepts_an_escaped_backslash_before_u0000(void)
{
    /* the JSON text "a\\u0000b" holds a backslash, then "u0000b": no NUL,
       since only an odd run of backslashes starts an escape */
    o3b_table *t = load_ok("[{" BASE7 ", \"notes\": \"a\\\\u0000b \\\\\\\\\"}]");

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(t, 7)->notes, "a\\u0000b \\\\");
    o3b_table_free(&t);
}

static void test_loader_accepts_every_port_spelling_microsoft_uses(void)
{
    static const struct {
        const char *text;
        size_t n_ranges;
        uint16_t in[4], out[3];
    } rows[] = {
        {"80,443", 2, {80, 443}, {81, 8080, 25}},
        {"443,80", 2, {443, 80}, {444, 79, 1}},
        {"143, 587, 993, 995", 4, {143, 587, 993, 995}, {443, 80, 994}},
        {"80, 443", 2, {80, 443}, {8443}},
        {"25,53,80,443", 4, {25, 53, 80, 443}, {52, 54}},
        {"3478-3481", 1, {3478, 3479, 3480, 3481}, {3477, 3482, 443}},
        {"3478-3481, 443", 2, {3478, 3481, 443}, {3482}},
        {"", 0, {0}, {80, 443, 1}},
    };
    char json[512];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        o3b_table *t;
        const struct o3b_set *s;
        snprintf(json, sizeof json,
                 "[{" BASE7 ", \"tcpPorts\": \"%s\", \"urls\": [\"a.example.com\"]}]",
                 rows[i].text);
        t = load_ok(json);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        s = o3b_table_find_set(t, 7);
        CU_ASSERT_STRING_EQUAL(s->tcp_ports_text, rows[i].text); /* kept as written */
        CU_ASSERT_EQUAL(s->n_tcp, rows[i].n_ranges);
        for (size_t k = 0; k < 4 && rows[i].in[k]; k++) {
            CU_ASSERT_TRUE(o3b_ports_contain(s->tcp, s->n_tcp, rows[i].in[k]));
            CU_ASSERT_PTR_NOT_NULL(lookup(t, "a.example.com", rows[i].in[k]));
        }
        for (size_t k = 0; k < 3 && rows[i].out[k]; k++) {
            CU_ASSERT_FALSE(o3b_ports_contain(s->tcp, s->n_tcp, rows[i].out[k]));
            CU_ASSERT_PTR_NULL(lookup(t, "a.example.com", rows[i].out[k]));
        }
        o3b_table_free(&t);
    }
}

static void test_loader_normalizes_urls_and_prefixes(void)
{
    o3b_table *t =
        load_ok("[{" BASE7 ", \"tcpPorts\": \"443\", \"urls\": [\"OUTLOOK.Office.COM\","
                " \"trailing.example.com.\", \"*.Example.ORG\", \"outlook.office.com\"],"
                " \"ips\": [\"52.96.1.1/14\", \"2603:1006:0:0::5/40\", \"52.96.0.0/14\"]}]");
    const struct o3b_set *s;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    s = o3b_table_find_set(t, 7);
    CU_ASSERT_EQUAL_FATAL(s->n_urls, 3); /* the repeated name is kept once */
    CU_ASSERT_STRING_EQUAL(s->urls[0], "outlook.office.com");
    CU_ASSERT_STRING_EQUAL(s->urls[1], "trailing.example.com");
    CU_ASSERT_STRING_EQUAL(s->urls[2], "*.example.org");
    CU_ASSERT_EQUAL_FATAL(s->n_ips, 2); /* host bits masked, then equal to the third */
    CU_ASSERT_STRING_EQUAL(s->ips[0], "52.96.0.0/14");
    CU_ASSERT_STRING_EQUAL(s->ips[1], "2603:1006::/40");
    CU_ASSERT_PTR_NOT_NULL(lookup(t, "trailing.example.com", 443));
    CU_ASSERT_PTR_NOT_NULL(lookup(t, "a.b.example.org", 443));
    o3b_table_free(&t);
}

/* ---- refusals ------------------------------------------------------------------ */

struct refusal {
    const char *name;
    const char *json;
    const char *want[3]; /* each must occur in the message */
};

static const struct refusal syntax_refusals[] = {
    /* cJSON points one past the character where a key was expected */
    {"invalid JSON on line 1", "[{\"id\": 1,, }]", {"line 1, column 12", "invalid JSON"}},
    {"invalid JSON on line 3",
     "[\n  {\"id\": 1,\n   \"serviceArea\": }\n]",
     {"line 3, column 19", "invalid JSON"}},
    {"invalid JSON after CRLF lines",
     "[\r\n  {\r\n    \"id\": x\r\n  }\r\n]",
     {"line 3, column 11", "invalid JSON"}},
    /* inside an unterminated string cJSON points at its opening quote */
    {"truncated in a string", "[{\"id\": 1, \"serviceArea\": \"Exch", {"line 1, column 28"}},
    {"truncated after a value", "[{\"id\": 1", {"line 1, column 9", "unexpected end"}},
    {"truncated after a newline", "[\n  {\"id\": 1,\n", {"line 2, column 12", "unexpected end"}},
    {"empty input", "", {"line 1, column 1"}},
    {"blank input", "  \n ", {"line"}},
    {"trailing garbage", "[" GOOD_SET "] x", {"line 1, column", "data after the end"}},
    {"a second value", "[" GOOD_SET "]\n[]", {"line 2, column 1", "data after the end"}},
    {"a number", "42", {"expected a JSON array"}},
    {"a string", "\"[]\"", {"expected a JSON array"}},
    {"null", "null", {"expected a JSON array"}},
    {"an object", "{\"id\": 1}", {"not an o365bypass cache file"}},
    {"an empty array", "[]", {"no endpoint set"}},
    {"an empty array with blanks", " [ ]\r\n", {"no endpoint set"}},
};

// clang-format off
static const struct refusal set_refusals[] = {
    {"set is a number", "[" GOOD_SET ", 3]", {"set #2", "not a JSON object"}},
    {"set is an array", "[[" GOOD_SET "]]", {"set #1", "not a JSON object"}},
    {"set is null", "[null]", {"set #1", "not a JSON object"}},
    {"id missing", "[{\"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true}]",
     {"set #1:", "'id' is missing"}},
    {"id a string", "[{\"id\": \"7\", \"serviceArea\": \"Exchange\", \"category\": \"Allow\", "
                    "\"required\": true}]",
     {"set #1", "'id'", "not a number"}},
    {"id 0", "[{\"id\": 0, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true}]",
     {"set #1 (id 0)", "not a positive integer"}},
    {"id negative", "[" GOOD_SET ", {\"id\": -3, \"serviceArea\": \"Exchange\", \"category\": "
                    "\"Allow\", \"required\": true}]",
     {"set #2 (id -3)", "not a positive integer"}},
    {"id fractional", "[{\"id\": 1.5, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", "
                      "\"required\": true}]",
     {"set #1 (id 1.5)", "not a positive integer"}},
    {"id too large", "[{\"id\": 4294967297, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", "
                     "\"required\": true}]",
     {"set #1", "not a positive integer"}},
    {"id duplicate", "[" GOOD_SET ", {\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": "
                     "\"Allow\", \"required\": true}]",
     {"set #2 (id 1)", "appears twice"}},
    {"serviceArea missing", "[" GOOD_SET ", {\"id\": 7, \"category\": \"Allow\", \"required\": true}]",
     {"set #2 (id 7)", "'serviceArea' is missing"}},
    {"serviceArea a number", "[{\"id\": 7, \"serviceArea\": 3, \"category\": \"Allow\", "
                             "\"required\": true}]",
     {"set #1 (id 7)", "'serviceArea' must be a string"}},
    {"category missing", "[" GOOD_SET ", {\"id\": 7, \"serviceArea\": \"Exchange\", "
                         "\"required\": true}]",
     {"set #2 (id 7)", "'category' is missing"}},
    {"required missing", "[" GOOD_SET ", {\"id\": 7, \"serviceArea\": \"Exchange\", "
                         "\"category\": \"Allow\"}]",
     {"set #2 (id 7)", "'required' is missing"}},
    {"required a string", "[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", "
                          "\"required\": \"true\"}]",
     {"set #1 (id 7)", "'required' must be true or false"}},
    {"expressRoute a number", SET2(", \"expressRoute\": 1"), {"set #2 (id 7)", "'expressRoute'"}},
    {"notes a number", SET2(", \"notes\": 5"), {"set #2 (id 7)", "'notes' must be a string"}},
    {"unknown category", "[" GOOD_SET ", {\"id\": 7, \"serviceArea\": \"Exchange\", "
                         "\"category\": \"Block\", \"required\": true}]",
     {"set #2 (id 7)", "category 'Block'"}},
    /* decided: the feed's spelling is exact; a lowercase category is not Microsoft's */
    {"lowercase category", "[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": "
                           "\"optimize\", \"required\": true}]",
     {"set #1 (id 7)", "category 'optimize'"}},
    {"uppercase category", "[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": "
                           "\"ALLOW\", \"required\": true}]",
     {"set #1 (id 7)", "category 'ALLOW'"}},
};
// clang-format on

#define AREA_SET(area)                                                                             \
    "[{\"id\": 7, \"serviceArea\": \"" area "\", \"category\": \"Allow\", \"required\": true}]"

/* serviceArea reaches log lines and ICAP headers: only plain names pass. */
static const struct refusal area_refusals[] = {
    {"CR LF header injection",
     AREA_SET("Exchange\\r\\nX-Next-Services: "),
     {"set #1 (id 7)", "serviceArea", "not a plain name"}},
    {"bare LF", AREA_SET("Exchange\\nX"), {"serviceArea", "not a plain name"}},
    {"bare CR", AREA_SET("Exchange\\r"), {"serviceArea", "not a plain name"}},
    {"tab", AREA_SET("Ex\\tchange"), {"serviceArea", "not a plain name"}},
    /* cJSON would hand out "Exchange": refused before it can be cut short */
    {"escaped NUL", AREA_SET("Exchange\\u0000X"), {"line 1, column 36", "\\u0000 (NUL)"}},
    {"colon", AREA_SET("X-Next-Services:"), {"serviceArea", "not a plain name"}},
    {"semicolon", AREA_SET("Exchange; set=1"), {"serviceArea", "not a plain name"}},
    {"quote", AREA_SET("Ex\\\"change"), {"serviceArea", "not a plain name"}},
    {"non-ASCII", AREA_SET("\\u00c9xchange"), {"serviceArea", "not a plain name"}},
    {"leading blank", AREA_SET(" Exchange"), {"serviceArea", "not a plain name"}},
    {"empty", AREA_SET(""), {"serviceArea", "not a plain name"}},
    {"65 characters",
     AREA_SET("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
     {"serviceArea", "not a plain name"}},
};

static const struct refusal url_refusals[] = {
    {"urls a string",
     SET2(", \"urls\": \"a.example.com\""),
     {"set #2 (id 7)", "'urls' must be an array"}},
    {"urls an object", SET2(", \"urls\": {}"), {"set #2 (id 7)", "'urls' must be an array"}},
    {"url a number",
     SET2(", \"urls\": [\"a.example.com\", 5]"),
     {"set #2 (id 7)", "urls[1] is not a string"}},
    {"url null", SET2(", \"urls\": [null]"), {"set #2 (id 7)", "urls[0] is not a string"}},
    {"url bad character",
     SET2(", \"urls\": [\"a.example.com\", \"a_b.example.com\"]"),
     {"set #2 (id 7): urls[1]: ", "a_b.example.com", "bad-char"}},
    {"url with scheme",
     SET2(", \"urls\": [\"https://a.example.com\"]"),
     {"urls[0]", "https://a.example.com"}},
    {"url with port", SET2(", \"urls\": [\"a.example.com:443\"]"), {"urls[0]", "bad-char"}},
    {"url with path", SET2(", \"urls\": [\"a.example.com/x\"]"), {"urls[0]", "bad-char"}},
    {"url empty", SET2(", \"urls\": [\"\"]"), {"urls[0]", "empty"}},
    {"url empty label", SET2(", \"urls\": [\"a..example.com\"]"), {"urls[0]", "empty-label"}},
    {"url hyphen", SET2(", \"urls\": [\"-a.example.com\"]"), {"urls[0]", "bad-hyphen"}},
    {"url numeric", SET2(", \"urls\": [\"10.1.2.3\"]"), {"urls[0]", "numeric"}},
    {"url a lone star", SET2(", \"urls\": [\"*\"]"), {"set #2 (id 7): urls[0]: ", "too broad"}},
    {"url star dot tld", SET2(", \"urls\": [\"*.com\"]"), {"urls[0]", "'*.com'", "too broad"}},
    {"url trailing star", SET2(", \"urls\": [\"foo*\"]"), {"urls[0]", "too broad"}},
    {"url star star", SET2(", \"urls\": [\"*.*\"]"), {"urls[0]", "too broad"}},
    {"url with an escaped NUL",
     SET2(", \"urls\": [\"evil.example\\u0000.sharepoint.com\"]"),
     {"line 1, column", "(NUL)"}},
    {"url glob question mark", SET2(", \"urls\": [\"a?.example.com\"]"), {"urls[0]", "bad-char"}},
    {"url too long label",
     SET2(", \"urls\": [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"]"),
     {"urls[0]", "label-too-long"}},
};

// clang-format off
static const struct refusal ip_refusals[] = {
    {"ips a string", SET2(", \"ips\": \"52.96.0.0/14\""), {"set #2 (id 7)", "'ips' must be an array"}},
    {"ip a number", SET2(", \"ips\": [1]"), {"set #2 (id 7)", "ips[0] is not a string"}},
    {"ip without prefix", SET2(", \"ips\": [\"52.96.0.0/14\", \"52.96.0.0\"]"),
     {"set #2 (id 7): ips[1]: ", "'52.96.0.0'", "no '/length'"}},
    {"ip prefix too long", SET2(", \"ips\": [\"52.96.0.0/33\"]"), {"ips[0]", "above 32"}},
    {"ip bad octet", SET2(", \"ips\": [\"300.1.1.0/24\"]"), {"ips[0]", "not an IPv4 or IPv6"}},
    {"ip a name", SET2(", \"ips\": [\"outlook.office.com/32\"]"), {"ips[0]", "not an IPv4 or IPv6"}},
    {"ip zone id", SET2(", \"ips\": [\"fe80::1%eth0/64\"]"), {"ips[0]", "not an IPv4 or IPv6"}},
    {"ip the whole IPv4 Internet", SET2(", \"ips\": [\"0.0.0.0/0\"]"),
     {"ips[0]", "'0.0.0.0/0'", "too broad"}},
    {"ip the whole IPv6 Internet", SET2(", \"ips\": [\"::/0\"]"), {"ips[0]", "too broad"}},
    {"ip a /7", SET2(", \"ips\": [\"10.0.0.0/7\"]"), {"ips[0]", "too broad"}},
    {"ip a /15 IPv6", SET2(", \"ips\": [\"2600::/15\"]"), {"ips[0]", "too broad"}},
    {"ip leading zero prefix", SET2(", \"ips\": [\"52.96.0.0/014\"]"), {"ips[0]", "bad prefix"}},
};
// clang-format on

// clang-format off
static const struct refusal port_refusals[] = {
    {"tcpPorts a number", SET2(", \"tcpPorts\": 443"), {"set #2 (id 7)", "'tcpPorts' must be a string"}},
    {"tcpPorts semicolons", SET2(", \"tcpPorts\": \"80;443\""),
     {"set #2 (id 7)", "tcpPorts", "'80;443'"}},
    {"tcpPorts a word", SET2(", \"tcpPorts\": \"https\""), {"tcpPorts", "https"}},
    {"tcpPorts zero", SET2(", \"tcpPorts\": \"0\""), {"tcpPorts", "bad port item '0'"}},
    {"tcpPorts too large", SET2(", \"tcpPorts\": \"80,65536\""), {"tcpPorts", "'65536'"}},
    {"tcpPorts reversed range", SET2(", \"tcpPorts\": \"443-80\""), {"tcpPorts", "'443-80'"}},
    {"tcpPorts empty item", SET2(", \"tcpPorts\": \"80,,443\""), {"tcpPorts"}},
    {"tcpPorts trailing comma", SET2(", \"tcpPorts\": \"80,\""), {"tcpPorts"}},
    {"udpPorts garbage", SET2(", \"udpPorts\": \"3478-\""), {"set #2 (id 7)", "udpPorts"}},
};
// clang-format on

static void expect_refusals(const struct refusal *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        o3b_err err;
        o3b_table *t;

        memset(&err, 0, sizeof err);
        t = load_text(rows[i].json, &err);
        if (t != NULL)
            fprintf(stderr, "\n  accepted: %s\n", rows[i].name);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_TRUE(mentions(err.msg, rows[i].want, 3, rows[i].name));
        o3b_table_free(&t);
    }
}

#define EXPECT_REFUSALS(rows) expect_refusals(rows, sizeof rows / sizeof rows[0])

static void test_loader_refuses_bad_syntax_saying_where(void)
{
    EXPECT_REFUSALS(syntax_refusals);
}

static void test_loader_refuses_bad_sets_saying_which(void)
{
    EXPECT_REFUSALS(set_refusals);
}

static void test_loader_refuses_service_areas_that_are_not_plain_names(void)
{
    EXPECT_REFUSALS(area_refusals);
}

static void test_loader_accepts_plain_unknown_service_areas_as_other(void)
{
    o3b_table *t =
        load_ok("[" GOOD_SET ", {\"id\": 8, \"serviceArea\": \"MEM\", \"category\": "
                "\"Allow\", \"required\": true}, {\"id\": 9, \"serviceArea\": "
                "\"New Area_2.0-beta\", \"category\": \"Default\", \"required\": false}]");

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_find_set(t, 8)->area, O3B_AREA_MEM);
    CU_ASSERT_EQUAL(o3b_table_find_set(t, 9)->area, O3B_AREA_OTHER);
    CU_ASSERT_STRING_EQUAL(o3b_table_find_set(t, 9)->area_name, "New Area_2.0-beta");
    o3b_table_free(&t);
}

static void test_loader_refuses_bad_urls_naming_the_item(void)
{
    EXPECT_REFUSALS(url_refusals);
}

static void test_loader_refuses_bad_prefixes_naming_the_item(void)
{
    EXPECT_REFUSALS(ip_refusals);
}

static void test_loader_refuses_bad_port_lists(void)
{
    EXPECT_REFUSALS(port_refusals);
}

static void test_loader_accepts_an_empty_array_only_when_allowed(void)
{
    struct o3b_load_opts opts = {.allow_empty = true};
    o3b_table *t = o3b_load_json("[]", 2, &opts, NULL);
    static const char wrapped_json[] = "{\"o365bypass\": 1, \"endpoints\": []}";
    o3b_table *wrapped = o3b_load_json(wrapped_json, strlen(wrapped_json), &opts, NULL);
    o3b_table *empty = o3b_table_new_empty(NULL);
    struct o3b_table_counts c;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wrapped);
    CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
    CU_ASSERT_EQUAL(o3b_table_set_count(t), 0);
    o3b_table_get_counts(t, &c);
    CU_ASSERT_EQUAL(c.entries, 0);
    CU_ASSERT_PTR_NULL(lookup(t, "outlook.office.com", 443));
    CU_ASSERT_EQUAL(o3b_table_hash(t), o3b_table_hash(empty));
    CU_ASSERT_EQUAL(o3b_table_hash(t), o3b_table_hash(wrapped));
    o3b_table_free(&t);
    o3b_table_free(&wrapped);
    o3b_table_free(&empty);
}

/* ---- size limits -------------------------------------------------------------------- */

static void test_loader_refuses_input_over_max_bytes(void)
{
    size_t len;
    char *body = slurp(WW_FILE, &len);
    struct o3b_load_opts tight = {.max_bytes = len - 1}, exact = {.max_bytes = len};
    struct o3b_load_opts tiny = {.max_bytes = 1000};
    o3b_err err = {{0}};
    o3b_table *t;
    const char *want_json[] = {"27359 bytes", "27358-byte limit"};
    const char *want_file[] = {WW_FILE, "1000-byte limit"};

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL(len, 27359); /* SOURCES.md */
    t = o3b_load_json(body, len, &tight, &err);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_TRUE(mentions(err.msg, want_json, 2, "max_bytes"));
    t = o3b_load_json(body, len, &exact, &err);
    CU_ASSERT_PTR_NOT_NULL(t);
    o3b_table_free(&t);
    t = o3b_load_file(WW_FILE, &tiny, &err);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_TRUE(mentions(err.msg, want_file, 2, "file max_bytes"));
    free(body);
}

/* JSON text for `sets` sets of `urls` distinct names each (caller frees). */
static char *many_items(size_t sets, size_t urls)
{
    size_t cap = 64 + sets * (160 + urls * 32), used = 0;
    char *buf = malloc(cap);

    if (buf == NULL)
        return NULL;
    used += (size_t)snprintf(buf + used, cap - used, "[");
    for (size_t s = 0; s < sets; s++) {
        used += (size_t)snprintf(buf + used, cap - used,
                                 "%s{\"id\": %zu, \"serviceArea\": \"Common\", \"category\": "
                                 "\"Default\", \"required\": true, \"tcpPorts\": \"443\", "
                                 "\"urls\": [",
                                 s ? ", " : "", s + 1);
        for (size_t u = 0; u < urls; u++)
            used += (size_t)snprintf(buf + used, cap - used, "%s\"h%zu.s%zu.example\"",
                                     u ? ", " : "", u, s);
        used += (size_t)snprintf(buf + used, cap - used, "]}");
    }
    snprintf(buf + used, cap - used, "]");
    return buf;
}

static void check_many(size_t sets, size_t urls, bool accepted, const char *want1,
                       const char *want2)
{
    char *json = many_items(sets, urls);
    o3b_err err = {{0}};
    o3b_table *t;
    const char *want[] = {want1, want2};

    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    t = load_text(json, &err);
    if (accepted) {
        CU_ASSERT_PTR_NOT_NULL(t);
    } else {
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT_TRUE(mentions(err.msg, want, 2, "too many"));
    }
    o3b_table_free(&t);
    free(json);
}

static void test_loader_refuses_too_many_items(void)
{
    check_many(1, O3B_MAX_ITEMS_PER_SET, true, NULL, NULL);
    check_many(1, O3B_MAX_ITEMS_PER_SET + 1, false, "set #1 (id 1): urls[8192]",
               "too many entries");
    check_many(O3B_MAX_SETS, 1, true, NULL, NULL);
    check_many(O3B_MAX_SETS + 1, 1, false, "set #4097", "more than 4096 endpoint sets");
    /* 8 sets of 8000 fit in 65536 entries; the 9th set crosses the limit */
    check_many(8, 8000, true, NULL, NULL);
    check_many(9, 8000, false, "set #9 (id 9): urls[1536]", "too many entries");
}

/* ---- nothing half-loaded ---------------------------------------------------------- */

static void test_loader_returns_nothing_when_the_last_item_is_bad(void)
{
    size_t len;
    char *body = slurp(WW_FILE, &len);
    char *bad;
    o3b_err err = {{0}};
    o3b_table *t;
    const char *last = "\"*.usercontent.microsoft\"";
    char *at;
    const char *want[] = {"set #64 (id 184): urls[2]", "too broad"};

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    bad = strdup(body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
    at = strstr(bad, last);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    /* same length: "*.usercontent.microsoft" -> "*.microsoft" padded with spaces */
    memcpy(at, "\"*.microsoft\"            ", strlen(last));
    t = o3b_load_json(bad, len, NULL, &err);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_TRUE(mentions(err.msg, want, 2, "last item"));
    /* truncated anywhere: never a table */
    for (size_t cut = 1; cut < len; cut += 997) {
        t = o3b_load_json(body, cut, NULL, &err);
        CU_ASSERT_PTR_NULL(t);
        o3b_table_free(&t);
    }
    free(bad);
    free(body);
}

static void test_read_file_refuses_what_is_not_a_regular_file(void)
{
    size_t len;
    o3b_err err = {{0}};
    const char *want_missing[] = {O3B_TEST_DATA "/no-such-file.json", "No such file"};
    const char *want_dir[] = {O3B_TEST_DATA, "not a regular file"};

    CU_ASSERT_PTR_NULL(o3b_read_file(O3B_TEST_DATA "/no-such-file.json", 1000, &len, &err));
    CU_ASSERT_TRUE(mentions(err.msg, want_missing, 2, "missing file"));
    CU_ASSERT_PTR_NULL(o3b_read_file(O3B_TEST_DATA, 1000, &len, &err));
    CU_ASSERT_TRUE(mentions(err.msg, want_dir, 2, "directory"));
    CU_ASSERT_PTR_NULL(o3b_load_file(O3B_TEST_DATA "/no-such-file.json", NULL, &err));
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_loader_counts_match_sources_md_for_all_four_real_files),
    O3B_TEST(test_loader_keeps_every_field_of_a_real_set),
    O3B_TEST(test_loader_reads_crlf_exactly_like_lf),
    O3B_TEST(test_cache_wrapper_round_trip_restores_meta_and_content),
    O3B_TEST(test_cache_wrapper_of_the_crlf_file_loads),
    O3B_TEST(test_cache_wrapper_refuses_other_formats),
    O3B_TEST(test_table_tag_follows_content_not_format),
    O3B_TEST(test_table_hash_ignores_spelling_but_not_meaning),
    O3B_TEST(test_table_memory_of_worldwide_is_under_256_kib),
    O3B_TEST(test_loader_treats_omitted_and_null_optional_fields_as_absent),
    O3B_TEST(test_loader_ignores_unknown_fields),
    O3B_TEST(test_loader_accepts_empty_notes_and_empty_udp_ports),
    O3B_TEST(test_loader_accepts_an_escaped_backslash_before_u0000),
    O3B_TEST(test_loader_accepts_every_port_spelling_microsoft_uses),
    O3B_TEST(test_loader_normalizes_urls_and_prefixes),
    O3B_TEST(test_loader_refuses_bad_syntax_saying_where),
    O3B_TEST(test_loader_refuses_bad_sets_saying_which),
    O3B_TEST(test_loader_refuses_service_areas_that_are_not_plain_names),
    O3B_TEST(test_loader_accepts_plain_unknown_service_areas_as_other),
    O3B_TEST(test_loader_refuses_bad_urls_naming_the_item),
    O3B_TEST(test_loader_refuses_bad_prefixes_naming_the_item),
    O3B_TEST(test_loader_refuses_bad_port_lists),
    O3B_TEST(test_loader_accepts_an_empty_array_only_when_allowed),
    O3B_TEST(test_loader_refuses_input_over_max_bytes),
    O3B_TEST(test_loader_refuses_too_many_items),
    O3B_TEST(test_loader_returns_nothing_when_the_last_item_is_bad),
    O3B_TEST(test_read_file_refuses_what_is_not_a_regular_file),
};

O3B_UNIT_MAIN("loader", tests)
