/* SPDX-License-Identifier: MIT */
/*
 * test_trust.c - the outright refusals and the grow guard (trust.h).
 *
 * Tables are the real ones of tests/data (the four instances' files and the
 * bundled seed) and edits of the Worldwide table made with cJSON: a set
 * added, a category changed, an entry added to a set, so each finding is
 * shown against Microsoft's real data.  Policies are built field by field
 * as o3b_config would set them (ServiceAreas always holds Common).
 */
#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"
#include "o365bypass/trust.h"
#include "unit.h"

#ifndef O3B_TOP_SRCDIR
#define O3B_TOP_SRCDIR "."
#endif

#define WW_A O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define WW_B O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"
#define CHINA O3B_TEST_DATA "/china-2025-11-14.json"
#define GCCH O3B_TEST_DATA "/usgovgcchigh-2025-11-14.json"
#define SEED O3B_TOP_SRCDIR "/module/data/endpoints-worldwide.json"

static const char *const real_tables[] = {WW_A, WW_B, CHINA, GCCH, SEED};

/* ---- helpers ------------------------------------------------------------------ */

static o3b_table *load(const char *path)
{
    o3b_err err;
    o3b_table *t = o3b_load_file(path, NULL, &err);

    if (t == NULL)
        fprintf(stderr, "\n    %s\n", err.msg);
    return t;
}

static o3b_table *load_text(const char *json, const o3b_table *in_use, o3b_err *err)
{
    struct o3b_load_opts lo = {.in_use = in_use};

    return o3b_load_json(json, strlen(json), &lo, err);
}

static cJSON *read_json(const char *path)
{
    size_t len;
    o3b_err err;
    char *text = o3b_read_file(path, 1u << 24, &len, &err);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;

    free(text);
    return root;
}

static cJSON *set_by_id(cJSON *root, int id)
{
    cJSON *s;

    cJSON_ArrayForEach(s, root)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "id");
        if (cJSON_IsNumber(v) && v->valueint == id)
            return s;
    }
    return NULL;
}

/* The real Worldwide table A with the sets in `extra_sets` (a JSON array)
   appended and, when `raise_id` > 0, that set's category replaced. */
static o3b_table *edited_a(const char *extra_sets, int raise_id, const char *category)
{
    cJSON *root = read_json(WW_A), *extra = cJSON_Parse(extra_sets ? extra_sets : "[]"), *s;
    char *text;
    o3b_table *t;
    o3b_err err;

    CU_ASSERT_FATAL(root != NULL && extra != NULL);
    while ((s = cJSON_DetachItemFromArray(extra, 0)) != NULL)
        cJSON_AddItemToArray(root, s);
    if (raise_id > 0) {
        s = set_by_id(root, raise_id);
        CU_ASSERT_FATAL(s != NULL);
        cJSON_ReplaceItemInObjectCaseSensitive(s, "category", cJSON_CreateString(category));
    }
    text = cJSON_PrintUnformatted(root);
    t = load_text(text, NULL, &err);
    if (t == NULL)
        fprintf(stderr, "\n    %s\n", err.msg);
    free(text);
    cJSON_Delete(root);
    cJSON_Delete(extra);
    return t;
}

/* A new set of the given category holding one URL or one CIDR. */
static void one_set(char *buf, size_t size, int id, const char *category, const char *field,
                    const char *item)
{
    str_format(buf, size,
               "[{\"id\": %d, \"serviceArea\": \"Exchange\", \"%s\": [\"%s\"], \"tcpPorts\": "
               "\"443\", \"category\": \"%s\", \"required\": true}]",
               id, field, item, category);
}

static struct o3b_policy policy(unsigned categories, unsigned areas, bool required_only)
{
    struct o3b_policy p;

    o3b_policy_init(&p);
    p.categories = categories;
    p.areas = areas == O3B_AREAS_ALL ? areas : areas | (1u << O3B_AREA_COMMON);
    p.required_only = required_only;
    return p;
}

static long guard(const o3b_table *in_use, const o3b_table *fresh, struct o3b_grow_report *r)
{
    struct o3b_policy p;

    o3b_policy_init(&p);
    return o3b_grow_guard(in_use, fresh, &p, r);
}

#define C_OPT (1u << O3B_CAT_OPTIMIZE)
#define C_ALLOW (1u << O3B_CAT_ALLOW)
#define C_DEF (1u << O3B_CAT_DEFAULT)

/* ---- the list and the real tables ------------------------------------------------ */

static void test_the_public_suffix_list_is_loaded_from_libpsl(void)
{
    const char *src = o3b_psl_source();

    printf("\n    %s\n", src);
    CU_ASSERT_PTR_NOT_NULL(strstr(src, "libpsl "));
    CU_ASSERT_PTR_NULL(strstr(src, "(none"));
    CU_ASSERT_TRUE(o3b_public_suffix("co.uk"));
    CU_ASSERT_TRUE(o3b_public_suffix("github.io")); /* private section */
    CU_ASSERT_FALSE(o3b_public_suffix("sharepoint.com"));
    CU_ASSERT_STRING_EQUAL(o3b_registrable_domain("a.b.cloud.microsoft"), "cloud.microsoft");
    CU_ASSERT_STRING_EQUAL(o3b_registrable_domain("x.partner.outlook.cn"), "outlook.cn");
    CU_ASSERT_PTR_NULL(o3b_registrable_domain("co.uk"));
}

static void test_every_real_table_and_the_seed_load_unchanged(void)
{
    for (size_t i = 0; i < sizeof real_tables / sizeof real_tables[0]; i++) {
        o3b_table *t = load(real_tables[i]);
        o3b_err err;

        CU_ASSERT_PTR_NOT_NULL(t);
        if (t == NULL)
            continue;
        CU_ASSERT_EQUAL(o3b_trust_check_table(t, NULL, &err), 0);
        o3b_table_free(&t);
    }
}

static void test_microsoft_patterns_of_every_shape_pass(void)
{
    // clang-format off
    static const char *const ok[] = {
        "*.cloud.microsoft", "*.static.microsoft", "*cdn.onenote.net",
        "autodiscover.*.onmicrosoft.com", "*.sharepoint.com", "*.mx.microsoft",
        "*.partner.outlook.cn", "autodiscover.*.mail.onmicrosoft.us", "outlook.office.com",
        "*.usgovcloud.microsoft", "*.search.production.us.trafficmanager.net",
        "**.sharepoint.com", /* two stars: tenant pinning's business, not a refusal */
    };
    // clang-format on
    o3b_err err;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = o3b_trust_check_pattern(ok[i], &err);
        if (rc != 0)
            fprintf(stderr, "\n    %s: %s\n", ok[i], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
    }
}

/* ---- outright refusals -------------------------------------------------------------- */

/* pattern, why, the suffix the message names */
static const char *const refused_patterns[][3] = {
    {"*.co.uk", "is a public suffix", "'co.uk'"},
    {"*.github.io", "is a public suffix", "'github.io'"}, /* private section */
    {"*.azurewebsites.net", "is a public suffix", "'azurewebsites.net'"},
    {"*.s3.amazonaws.com", "is a public suffix", "'s3.amazonaws.com'"},
    {"*.compute.amazonaws.com", "is a public suffix", "'compute.amazonaws.com'"},
    {"autodiscover.*.co.uk", "is a public suffix", "'co.uk'"},
    {"*.blogspot.com", "is a public suffix", "'blogspot.com'"},
    {"*cdn.co.uk", "inside the registrable domain", "'co.uk'"}, /* "evilcdn.co.uk" */
    {"*app.github.io", "inside the registrable domain", "'github.io'"},
    {"a*b.cloudapp.net", "inside the registrable domain", "'cloudapp.net'"},
    {"github.io", "itself a public suffix", "'github.io'"}, /* exact names too */
    {"co.uk", "itself a public suffix", "'co.uk'"},
    {"azurewebsites.net", "itself a public suffix", "'azurewebsites.net'"},
};

static void test_public_suffix_tails_and_stars_inside_the_registrable_domain_are_refused(void)
{
    o3b_err err;

    for (size_t i = 0; i < sizeof refused_patterns / sizeof refused_patterns[0]; i++) {
        const char *const *c = refused_patterns[i];
        CU_ASSERT_EQUAL(o3b_trust_check_pattern(c[0], &err), -1);
        if (strstr(err.msg, c[1]) == NULL || strstr(err.msg, c[2]) == NULL)
            fprintf(stderr, "\n    %s: %s\n", c[0], err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, c[1]));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, c[2]));
    }
}

static void test_a_refused_pattern_makes_the_whole_table_invalid_naming_set_and_entry(void)
{
    static const char json[] =
        "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"urls\": [\"outlook.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true},"
        " {\"id\": 77, \"serviceArea\": \"Common\", \"urls\": [\"login.microsoftonline.com\","
        "  \"*.github.io\"], \"category\": \"Allow\", \"required\": true}]";
    o3b_err err;
    o3b_table *t = load_text(json, NULL, &err);

    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "set #2 (id 77): '*.github.io' is refused"));
    o3b_table_free(&t);
}

static void test_short_prefixes_are_refused_and_the_bounds_pass(void)
{
    static const char *const cases[][2] = {
        {"3.0.0.0/8", "refused"}, {"34.0.0.0/8", "refused"}, {"34.0.0.0/11", "refused"},
        {"34.0.0.0/12", "ok"},    {"2600::/16", "refused"},  {"2600::/27", "refused"},
        {"2600::/28", "ok"},      {"40.96.0.0/13", "ok"},    {"2603:1063:6000::/35", "ok"},
    };
    char json[512];
    o3b_err err;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o3b_table *t;
        one_set(json, sizeof json, 5, "Optimize", "ips", cases[i][0]);
        t = load_text(json, NULL, &err);
        if (strcmp(cases[i][1], "ok") == 0) {
            CU_ASSERT_PTR_NOT_NULL(t);
        } else {
            CU_ASSERT_PTR_NULL(t);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "set #1 (id 5): '"));
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i][0]));
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too broad"));
        }
        o3b_table_free(&t);
    }
}

/* A table in use holding the /11 exactly (built without the loader, which
   would refuse it) lets that prefix through, and only that one. */
static void test_a_short_prefix_passes_only_when_the_table_in_use_holds_exactly_it(void)
{
    struct o3b_set_spec spec = {
        .id = 9, .service_area = "Common", .category = "Allow", .required = true};
    o3b_table_builder *b = o3b_table_builder_new();
    o3b_table *in_use, *t;
    char json[512];
    o3b_err err;

    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_EQUAL_FATAL(o3b_table_builder_add_set(b, &spec, &err), 0);
    CU_ASSERT_EQUAL_FATAL(o3b_table_builder_add_ip(b, "34.0.0.0/11", 11, &err), 0);
    in_use = o3b_table_builder_finish(&b, NULL, false, &err);
    CU_ASSERT_FATAL(in_use != NULL);
    one_set(json, sizeof json, 5, "Optimize", "ips", "34.0.0.0/11");
    t = load_text(json, in_use, &err);
    CU_ASSERT_PTR_NOT_NULL(t);
    o3b_table_free(&t);
    t = load_text(json, NULL, &err); /* no table in use: strict */
    CU_ASSERT_PTR_NULL(t);
    one_set(json, sizeof json, 5, "Optimize", "ips", "34.32.0.0/11");
    t = load_text(json, in_use, &err);
    CU_ASSERT_PTR_NULL(t);
    o3b_table_free(&in_use);
}

/* ---- the grow guard: Microsoft's ordinary changes ------------------------------------ */

static void test_the_real_worldwide_update_passes_the_guard_under_every_policy(void)
{
    static const unsigned areas[] = {
        O3B_AREAS_ALL,
        1u << O3B_AREA_EXCHANGE,
        1u << O3B_AREA_SHAREPOINT,
        1u << O3B_AREA_SKYPE,
        1u << O3B_AREA_COMMON,
        1u << O3B_AREA_MEM,
        (1u << O3B_AREA_EXCHANGE) | (1u << O3B_AREA_SHAREPOINT),
        (1u << O3B_AREA_SKYPE) | (1u << O3B_AREA_SHAREPOINT),
    };
    o3b_table *a = load(WW_A), *b = load(WW_B);
    unsigned tried = 0;

    CU_ASSERT_FATAL(a != NULL && b != NULL);
    for (unsigned cats = 1; cats < (1u << O3B_CAT_COUNT); cats++)
        for (size_t k = 0; k < sizeof areas / sizeof areas[0]; k++)
            for (int req = 0; req < 2; req++) {
                struct o3b_policy p = policy(cats, areas[k], req);
                struct o3b_grow_report r;
                char line[512];
                long n = o3b_grow_guard(a, b, &p, &r);
                if (n != 0)
                    fprintf(stderr, "\n    categories %#x areas %#x RequiredOnly %d: %s\n", cats,
                            areas[k], req, o3b_grow_report_format(&r, line, sizeof line));
                CU_ASSERT_EQUAL(n, 0);
                tried++;
            }
    CU_ASSERT_EQUAL(tried, 7 * 8 * 2);
    o3b_table_free(&a);
    o3b_table_free(&b);
}

/* The way back (IPv6 and sets 33/105 return) is a growth: the guard sees it. */
static void test_the_way_back_from_noipv6_is_held_for_the_returning_prefixes(void)
{
    o3b_table *a = load(WW_A), *b = load(WW_B);
    struct o3b_grow_report r;

    CU_ASSERT_FATAL(a != NULL && b != NULL);
    CU_ASSERT_TRUE(guard(b, a, &r) > 0);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_PREFIX);
    CU_ASSERT_PTR_NOT_NULL(strchr(r.shown[0].entry, ':'));
    o3b_table_free(&a);
    o3b_table_free(&b);
}

static void test_from_an_empty_table_each_real_table_passes_the_default_policy(void)
{
    o3b_table *empty = o3b_table_new_empty(NULL);

    for (size_t i = 0; i < sizeof real_tables / sizeof real_tables[0]; i++) {
        o3b_table *t = load(real_tables[i]);
        struct o3b_grow_report r;
        char line[512];
        long n;

        CU_ASSERT_FATAL(t != NULL);
        n = guard(empty, t, &r);
        if (n != 0)
            fprintf(stderr, "\n    %s: %s\n", real_tables[i],
                    o3b_grow_report_format(&r, line, sizeof line));
        CU_ASSERT_EQUAL(n, 0);
        o3b_table_free(&t);
    }
    o3b_table_free(&empty);
}

static void test_from_an_empty_table_a_foreign_domain_is_held_and_prefixes_are_not(void)
{
    o3b_table *empty = o3b_table_new_empty(NULL), *t;
    struct o3b_grow_report r;
    char json[512];
    o3b_err err;

    one_set(json, sizeof json, 5, "Optimize", "urls", "*.amazonaws.com");
    t = load_text(json, NULL, &err);
    CU_ASSERT_EQUAL(guard(empty, t, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_DOMAIN);
    CU_ASSERT_STRING_EQUAL(r.shown[0].detail, "amazonaws.com");
    o3b_table_free(&t);
    one_set(json, sizeof json, 5, "Optimize", "ips", "3.5.0.0/16");
    t = load_text(json, NULL, &err);
    CU_ASSERT_EQUAL(guard(empty, t, &r), 0); /* no baseline for prefixes */
    o3b_table_free(&t);
    o3b_table_free(&empty);
}

static void test_no_table_in_use_means_no_guard(void)
{
    o3b_table *b = load(WW_B);

    CU_ASSERT_EQUAL(guard(NULL, b, NULL), 0);
    o3b_table_free(&b);
}

/* ---- the grow guard: findings ------------------------------------------------------ */

static void test_a_bypassed_entry_under_a_new_registrable_domain_is_held(void)
{
    o3b_table *a = load(WW_A), *t;
    struct o3b_grow_report r;
    char sets[512];

    one_set(sets, sizeof sets, 990, "Optimize", "urls", "*.amazonaws.com");
    t = edited_a(sets, 0, NULL);
    CU_ASSERT_FATAL(a != NULL && t != NULL);
    CU_ASSERT_EQUAL(guard(a, t, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_DOMAIN);
    CU_ASSERT_EQUAL(r.shown[0].set_id, 990);
    CU_ASSERT_STRING_EQUAL(r.shown[0].entry, "*.amazonaws.com");
    CU_ASSERT_STRING_EQUAL(r.shown[0].detail, "amazonaws.com");
    o3b_table_free(&t);
    o3b_table_free(&a);
}

static void test_a_new_domain_in_a_category_the_policy_does_not_bypass_is_no_finding(void)
{
    o3b_table *a = load(WW_A), *t;
    char sets[512];

    one_set(sets, sizeof sets, 990, "Default", "urls", "*.amazonaws.com");
    t = edited_a(sets, 0, NULL);
    CU_ASSERT_FATAL(a != NULL && t != NULL);
    CU_ASSERT_EQUAL(guard(a, t, NULL), 0);
    o3b_table_free(&t);
    o3b_table_free(&a);
}

static void test_a_domain_the_table_in_use_bypasses_needs_no_list_entry(void)
{
    static const char in_use_json[] =
        "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"urls\": [\"mail.example.net\"],"
        "  \"category\": \"Optimize\", \"required\": true}]";
    static const char fresh_json[] =
        "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"urls\": [\"mail.example.net\","
        "  \"*.cdn.example.net\"], \"category\": \"Optimize\", \"required\": true}]";
    o3b_err err;
    o3b_table *in_use = load_text(in_use_json, NULL, &err);
    o3b_table *fresh = load_text(fresh_json, NULL, &err);

    CU_ASSERT_FATAL(in_use != NULL && fresh != NULL);
    CU_ASSERT_FALSE(o3b_trust_microsoft_domain("example.net"));
    CU_ASSERT_EQUAL(guard(in_use, fresh, NULL), 0);
    o3b_table_free(&in_use);
    o3b_table_free(&fresh);
}

static void test_the_microsoft_list_is_fixed_and_holds_no_third_party(void)
{
    static const char *const ms[] = {
        "microsoft.com",   "office.com",      "office.net",          "office365.com", "outlook.com",
        "sharepoint.com",  "onmicrosoft.com", "microsoftonline.com", "live.com",      "windows.net",
        "cloud.microsoft", "outlook.cn",      "office365.us"};
    static const char *const not_ms[] = {"digicert.com",  "letsencrypt.org", "entrust.net",
                                         "verisign.com",  "akamaihd.net",    "edgesuite.net",
                                         "amazonaws.com", "azureedge.net",   "trafficmanager.net",
                                         "azure.com",     "example.com",     "github.io"};

    size_t n;
    const char *const *list = o3b_trust_microsoft_domains(&n);

    /* sorted (the lookup is a binary search), each a registrable domain */
    for (size_t i = 0; i < n; i++) {
        const char *reg = o3b_registrable_domain(list[i]);
        CU_ASSERT_TRUE(i == 0 || strcmp(list[i - 1], list[i]) < 0);
        CU_ASSERT_TRUE(reg != NULL && strcmp(reg, list[i]) == 0);
    }
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        CU_ASSERT_TRUE(o3b_trust_microsoft_domain(ms[i]));
    for (size_t i = 0; i < sizeof not_ms / sizeof not_ms[0]; i++)
        CU_ASSERT_FALSE(o3b_trust_microsoft_domain(not_ms[i]));
}

static void test_a_prefix_outside_the_bypassed_prefixes_is_held(void)
{
    o3b_table *a = load(WW_A), *t;
    struct o3b_grow_report r;
    char sets[512];

    one_set(sets, sizeof sets, 992, "Optimize", "ips", "3.5.0.0/16");
    t = edited_a(sets, 0, NULL);
    CU_ASSERT_FATAL(a != NULL && t != NULL);
    CU_ASSERT_EQUAL(guard(a, t, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_PREFIX);
    CU_ASSERT_STRING_EQUAL(r.shown[0].entry, "3.5.0.0/16");
    o3b_table_free(&t);
    o3b_table_free(&a);
}

/* Set 1 (Optimize) has 40.96.0.0/13 and 2603:1006::/40 in A. */
static void test_a_prefix_inside_a_bypassed_prefix_passes(void)
{
    static const char sets[] =
        "[{\"id\": 993, \"serviceArea\": \"Exchange\", \"ips\": [\"40.97.4.0/24\","
        "  \"2603:1006:1::/48\"], \"tcpPorts\": \"443\", \"category\": \"Optimize\","
        "  \"required\": true}]";
    o3b_table *a = load(WW_A), *t = edited_a(sets, 0, NULL);

    CU_ASSERT_FATAL(a != NULL && t != NULL);
    CU_ASSERT_EQUAL(guard(a, t, NULL), 0);
    o3b_table_free(&t);
    o3b_table_free(&a);
}

/* Under "Optimize only", a prefix the table in use has only in an Allow
   set is not bypassed now: in an Optimize set it would be. */
static void test_a_prefix_bypassed_only_in_a_lower_category_is_held(void)
{
    static const char in_use_json[] =
        "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"ips\": [\"52.96.0.0/14\"],"
        "  \"category\": \"Allow\", \"required\": true}]";
    static const char fresh_json[] =
        "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"ips\": [\"52.96.0.0/14\"],"
        "  \"category\": \"Allow\", \"required\": true},"
        " {\"id\": 2, \"serviceArea\": \"Exchange\", \"ips\": [\"52.96.0.0/16\"],"
        "  \"category\": \"Optimize\", \"required\": true}]";
    struct o3b_policy p = policy(C_OPT, O3B_AREAS_ALL, false);
    struct o3b_policy both = policy(C_OPT | C_ALLOW, O3B_AREAS_ALL, false);
    o3b_err err;
    o3b_table *in_use = load_text(in_use_json, NULL, &err);
    o3b_table *fresh = load_text(fresh_json, NULL, &err);
    struct o3b_grow_report r;

    CU_ASSERT_FATAL(in_use != NULL && fresh != NULL);
    CU_ASSERT_EQUAL(o3b_grow_guard(in_use, fresh, &p, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_PREFIX);
    CU_ASSERT_EQUAL(o3b_grow_guard(in_use, fresh, &both, NULL), 0);
    o3b_table_free(&in_use);
    o3b_table_free(&fresh);
}

static void test_set_147_raised_from_default_to_optimize_is_held(void)
{
    o3b_table *a = load(WW_A), *t = edited_a(NULL, 147, "Optimize");
    struct o3b_grow_report r;
    bool office = false;

    CU_ASSERT_FATAL(a != NULL && t != NULL);
    CU_ASSERT_TRUE(guard(a, t, &r) >= 1);
    for (size_t i = 0; i < r.n && i < O3B_GROW_SHOWN; i++) {
        CU_ASSERT_EQUAL(r.shown[i].kind, O3B_GROW_CATEGORY);
        CU_ASSERT_EQUAL(r.shown[i].set_id, 147);
        CU_ASSERT_STRING_EQUAL(r.shown[i].detail, "Default->Optimize");
        office |= strcmp(r.shown[i].entry, "*.office.com") == 0;
    }
    CU_ASSERT_TRUE(office);
    /* with Default bypassed anyway, raising it bypasses nothing new */
    {
        struct o3b_policy p = policy(C_OPT | C_ALLOW | C_DEF, O3B_AREAS_ALL, false);
        CU_ASSERT_EQUAL(o3b_grow_guard(a, t, &p, NULL), 0);
    }
    o3b_table_free(&t);
    o3b_table_free(&a);
}

static void test_a_new_bypassed_set_with_entries_not_bypassed_before_is_held(void)
{
    static const char sets[] =
        "[{\"id\": 991, \"serviceArea\": \"Common\", \"urls\": [\"*.office.net\","
        "  \"outlook.office.com\"], \"tcpPorts\": \"443\", \"category\": \"Optimize\","
        "  \"required\": true}]";
    o3b_table *a = load(WW_A), *t = edited_a(sets, 0, NULL);
    struct o3b_grow_report r;

    CU_ASSERT_FATAL(a != NULL && t != NULL);
    /* *.office.net was only in Default sets; outlook.office.com is bypassed */
    CU_ASSERT_EQUAL(guard(a, t, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_CATEGORY);
    CU_ASSERT_STRING_EQUAL(r.shown[0].entry, "*.office.net");
    CU_ASSERT_STRING_EQUAL(r.shown[0].detail, "new set");
    o3b_table_free(&t);
    o3b_table_free(&a);
}

static void test_required_only_sees_an_optional_set_made_required(void)
{
    static const char in_use_json[] =
        "[{\"id\": 4, \"serviceArea\": \"Exchange\", \"urls\": [\"a.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true},"
        " {\"id\": 5, \"serviceArea\": \"Exchange\", \"urls\": [\"b.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": false}]";
    static const char fresh_json[] =
        "[{\"id\": 4, \"serviceArea\": \"Exchange\", \"urls\": [\"a.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true},"
        " {\"id\": 5, \"serviceArea\": \"Exchange\", \"urls\": [\"b.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true}]";
    struct o3b_policy on = policy(C_OPT, O3B_AREAS_ALL, true);
    struct o3b_policy off = policy(C_OPT, O3B_AREAS_ALL, false);
    o3b_err err;
    o3b_table *in_use = load_text(in_use_json, NULL, &err);
    o3b_table *fresh = load_text(fresh_json, NULL, &err);
    struct o3b_grow_report r;

    CU_ASSERT_FATAL(in_use != NULL && fresh != NULL);
    CU_ASSERT_EQUAL(o3b_grow_guard(in_use, fresh, &on, &r), 1);
    CU_ASSERT_EQUAL(r.shown[0].kind, O3B_GROW_CATEGORY);
    CU_ASSERT_STRING_EQUAL(r.shown[0].detail, "optional->required");
    CU_ASSERT_EQUAL(o3b_grow_guard(in_use, fresh, &off, NULL), 0);
    o3b_table_free(&in_use);
    o3b_table_free(&fresh);
}

static void test_service_areas_see_a_set_moved_into_a_bypassed_area(void)
{
    static const char in_use_json[] =
        "[{\"id\": 4, \"serviceArea\": \"Exchange\", \"urls\": [\"a.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true},"
        " {\"id\": 5, \"serviceArea\": \"SharePoint\", \"urls\": [\"b.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true}]";
    static const char fresh_json[] =
        "[{\"id\": 4, \"serviceArea\": \"Exchange\", \"urls\": [\"a.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true},"
        " {\"id\": 5, \"serviceArea\": \"Exchange\", \"urls\": [\"b.office.com\"],"
        "  \"category\": \"Optimize\", \"required\": true}]";
    struct o3b_policy exchange = policy(C_OPT, 1u << O3B_AREA_EXCHANGE, false);
    o3b_err err;
    o3b_table *in_use = load_text(in_use_json, NULL, &err);
    o3b_table *fresh = load_text(fresh_json, NULL, &err);
    struct o3b_grow_report r;

    CU_ASSERT_FATAL(in_use != NULL && fresh != NULL);
    CU_ASSERT_EQUAL(o3b_grow_guard(in_use, fresh, &exchange, &r), 1);
    CU_ASSERT_STRING_EQUAL(r.shown[0].detail, "area SharePoint->Exchange");
    CU_ASSERT_EQUAL(guard(in_use, fresh, NULL), 0); /* all areas: nothing new */
    o3b_table_free(&in_use);
    o3b_table_free(&fresh);
}

static void test_the_report_names_the_first_findings_and_counts_them_all(void)
{
    static const char sets[] =
        "[{\"id\": 990, \"serviceArea\": \"Common\", \"urls\": [\"*.example.com\","
        "  \"*.example.net\", \"*.example.org\", \"a.example.info\", \"b.example.biz\","
        "  \"*.amazonaws.com\"], \"category\": \"Optimize\", \"required\": true}]";
    o3b_table *a = load(WW_A), *t = edited_a(sets, 147, "Optimize");
    struct o3b_grow_report r;
    char line[512], more[32];
    long n;
    o3b_err err;

    CU_ASSERT_FATAL(a != NULL && t != NULL);
    n = guard(a, t, &r);
    CU_ASSERT_TRUE(n > O3B_GROW_SHOWN);
    o3b_grow_report_format(&r, line, sizeof line);
    CU_ASSERT_EQUAL(n, 8); /* six new domains, two raised entries of set 147 */
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "8 finding(s): set 147 category '*.office.com' "
                                        "(Default->Optimize); set 147 category"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "set 990 domain '*.example.com' (example.com)"));
    str_format(more, sizeof more, "and %ld more", n - O3B_GROW_SHOWN);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, more));
    {
        struct o3b_policy p;
        o3b_policy_init(&p);
        CU_ASSERT_TRUE(o3b_grow_guard_holds(a, t, &p, &err));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "grow guard: held back (accept it with "
                                               "o365bypass_accept)"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "set 147"));
        CU_ASSERT_FALSE(o3b_grow_guard_holds(a, a, &p, &err));
    }
    o3b_table_free(&t);
    o3b_table_free(&a);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_the_public_suffix_list_is_loaded_from_libpsl),
    O3B_TEST(test_every_real_table_and_the_seed_load_unchanged),
    O3B_TEST(test_microsoft_patterns_of_every_shape_pass),
    O3B_TEST(test_public_suffix_tails_and_stars_inside_the_registrable_domain_are_refused),
    O3B_TEST(test_a_refused_pattern_makes_the_whole_table_invalid_naming_set_and_entry),
    O3B_TEST(test_short_prefixes_are_refused_and_the_bounds_pass),
    O3B_TEST(test_a_short_prefix_passes_only_when_the_table_in_use_holds_exactly_it),
    O3B_TEST(test_the_real_worldwide_update_passes_the_guard_under_every_policy),
    O3B_TEST(test_the_way_back_from_noipv6_is_held_for_the_returning_prefixes),
    O3B_TEST(test_from_an_empty_table_each_real_table_passes_the_default_policy),
    O3B_TEST(test_from_an_empty_table_a_foreign_domain_is_held_and_prefixes_are_not),
    O3B_TEST(test_no_table_in_use_means_no_guard),
    O3B_TEST(test_a_bypassed_entry_under_a_new_registrable_domain_is_held),
    O3B_TEST(test_a_new_domain_in_a_category_the_policy_does_not_bypass_is_no_finding),
    O3B_TEST(test_a_domain_the_table_in_use_bypasses_needs_no_list_entry),
    O3B_TEST(test_the_microsoft_list_is_fixed_and_holds_no_third_party),
    O3B_TEST(test_a_prefix_outside_the_bypassed_prefixes_is_held),
    O3B_TEST(test_a_prefix_inside_a_bypassed_prefix_passes),
    O3B_TEST(test_a_prefix_bypassed_only_in_a_lower_category_is_held),
    O3B_TEST(test_set_147_raised_from_default_to_optimize_is_held),
    O3B_TEST(test_a_new_bypassed_set_with_entries_not_bypassed_before_is_held),
    O3B_TEST(test_required_only_sees_an_optional_set_made_required),
    O3B_TEST(test_service_areas_see_a_set_moved_into_a_bypassed_area),
    O3B_TEST(test_the_report_names_the_first_findings_and_counts_them_all),
};

O3B_UNIT_MAIN("trust", tests)
