/* SPDX-License-Identifier: MIT */
/*
 * test_tablediff.c - set-by-set differences between two endpoint tables.
 *
 * The main spec diffs the two real Worldwide captures in tests/data.  The
 * expected counts were computed independently while writing this test, with
 * python3: load both files with json.load, normalise every set (URLs
 * lowercase without trailing dot, prefixes via ipaddress.ip_network), match
 * sets by id, and count URLs with and without '*' and prefixes present on
 * one side only (whole sets included).  See tests/data/SOURCES.md for the
 * same differences in words.  Field changes are checked on small synthetic
 * tables, one field per row.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/loader.h"
#include "o365bypass/table.h"
#include "o365bypass/tablediff.h"
#include "unit.h"

#define WW_FILE O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define WW_LATER_FILE O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json"

/* Every report line, kept for the assertions. */
struct lines {
    char **text;
    size_t n, cap;
};

static void keep_line(void *ud, const char *line)
{
    struct lines *l = ud;

    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **np = realloc(l->text, ncap * sizeof *np);
        if (np == NULL)
            return;
        l->text = np;
        l->cap = ncap;
    }
    l->text[l->n] = strdup(line);
    if (l->text[l->n] != NULL)
        l->n++;
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->text[i]);
    free(l->text);
    memset(l, 0, sizeof *l);
}

static bool has_line(const struct lines *l, const char *exact)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->text[i], exact) == 0)
            return true;
    fprintf(stderr, "\n  no line '%s'\n", exact);
    return false;
}

static size_t lines_starting(const struct lines *l, const char *prefix)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++)
        n += strncmp(l->text[i], prefix, strlen(prefix)) == 0;
    return n;
}

static o3b_table *load(const char *path)
{
    o3b_err err = {{0}};
    o3b_table *t = o3b_load_file(path, NULL, &err);

    if (t == NULL)
        fprintf(stderr, "\n  %s\n", err.msg);
    return t;
}

static o3b_table *load_text(const char *json)
{
    o3b_err err = {{0}};
    o3b_table *t = o3b_load_json(json, strlen(json), NULL, &err);

    if (t == NULL)
        fprintf(stderr, "\n  %s\n", err.msg);
    return t;
}

static bool counts_equal(const struct o3b_diff_counts *got, const struct o3b_diff_counts *want)
{
    char a[160], b[160];

    o3b_diff_summary(got, a, sizeof a);
    o3b_diff_summary(want, b, sizeof b);
    if (strcmp(a, b) != 0)
        fprintf(stderr, "\n  got  %s\n  want %s\n", a, b);
    return strcmp(a, b) == 0 && memcmp(got, want, sizeof *got) == 0;
}

/* ---- the two real Worldwide versions ----------------------------------------------- */

/*
 * python3 over the two files gave:
 *   removed sets 33 (3 patterns *.search.production.{apac,emea,us}.trafficmanager.net)
 *            and 105 (1 host www.acompli.com);
 *   added set 193 (2 patterns *.static.microsoft, *.usercontent.microsoft);
 *   changed 12 sets: 184 (-2 patterns, the two that moved to 193), 92 (-1 host
 *     officecdn.microsoft.com.edgesuite.net), and the 10 sets that had IPv6
 *     prefixes: 1 (-16), 2 (-16), 9 (-2), 10 (-2), 11 (-1), 12 (-7), 31 (-5),
 *     46 (-15), 56 (-12), 64 (-2) = 78 prefixes, all of them IPv6
 *     (SOURCES.md: 78 IPv6 entries before, 0 after);
 *   no field (category, serviceArea, required, ports, expressRoute, notes)
 *     changed in any set both files have.
 */
static const struct o3b_diff_counts ww_forward = {
    .sets_added = 1,
    .sets_removed = 2,
    .sets_changed = 12,
    .hosts_added = 0,
    .hosts_removed = 2,
    .patterns_added = 2,
    .patterns_removed = 5,
    .cidrs_added = 0,
    .cidrs_removed = 78,
};

static void test_diff_of_the_real_worldwide_versions_counts_exactly(void)
{
    o3b_table *before = load(WW_FILE), *after = load(WW_LATER_FILE);
    struct o3b_diff_counts got;
    char summary[160];

    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_EQUAL(o3b_table_diff(before, after, &got, NULL, NULL), 15);
    CU_ASSERT_TRUE(counts_equal(&got, &ww_forward));
    CU_ASSERT_STRING_EQUAL(o3b_diff_summary(&got, summary, sizeof summary),
                           "sets +1 -2 ~12, hosts +0 -2, patterns +2 -5, CIDRs +0 -78");
    o3b_table_free(&before);
    o3b_table_free(&after);
}

static void test_diff_backwards_swaps_added_and_removed(void)
{
    static const struct o3b_diff_counts backward = {
        .sets_added = 2,
        .sets_removed = 1,
        .sets_changed = 12,
        .hosts_added = 2,
        .hosts_removed = 0,
        .patterns_added = 5,
        .patterns_removed = 2,
        .cidrs_added = 78,
        .cidrs_removed = 0,
    };
    o3b_table *older = load(WW_FILE), *later = load(WW_LATER_FILE);
    struct o3b_diff_counts got;

    CU_ASSERT_PTR_NOT_NULL_FATAL(older);
    CU_ASSERT_PTR_NOT_NULL_FATAL(later);
    CU_ASSERT_EQUAL(o3b_table_diff(later, older, &got, NULL, NULL), 15);
    CU_ASSERT_TRUE(counts_equal(&got, &backward));
    o3b_table_free(&older);
    o3b_table_free(&later);
}

static void test_diff_report_lines_name_each_change(void)
{
    o3b_table *before = load(WW_FILE), *after = load(WW_LATER_FILE);
    struct o3b_diff_counts got;
    struct lines l = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    o3b_table_diff(before, after, &got, keep_line, &l);
    CU_ASSERT_TRUE(
        has_line(&l, "- set 33 (SharePoint, Default, optional, tcp '443'): 3 urls, 0 ips"));
    CU_ASSERT_TRUE(has_line(&l, "- set 33: url *.search.production.emea.trafficmanager.net"));
    CU_ASSERT_TRUE(has_line(&l, "- set 105 (Common, Default, optional, tcp '443'): 1 urls, 0 ips"));
    CU_ASSERT_TRUE(has_line(&l, "- set 105: url www.acompli.com"));
    CU_ASSERT_TRUE(has_line(&l, "+ set 193 (Common, Default, tcp '443'): 2 urls, 0 ips"));
    CU_ASSERT_TRUE(has_line(&l, "+ set 193: url *.static.microsoft"));
    CU_ASSERT_TRUE(has_line(&l, "+ set 193: url *.usercontent.microsoft"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 92: - url officecdn.microsoft.com.edgesuite.net"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 184: - url *.static.microsoft"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 184: - url *.usercontent.microsoft"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 1: - ip 2603:1006::/40"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 11: - ip 2603:1063::/38"));
    CU_ASSERT_TRUE(has_line(&l, "~ set 46: - ip 2a01:111:f100:2000::a83e:3019/128"));
    /* 3 whole-set headers + 6 of their URLs + 3 URLs and 78 prefixes in changed sets */
    CU_ASSERT_EQUAL(lines_starting(&l, "- set "), 2 + 4);
    CU_ASSERT_EQUAL(lines_starting(&l, "+ set "), 1 + 2);
    CU_ASSERT_EQUAL(lines_starting(&l, "~ set "), 3 + 78);
    CU_ASSERT_EQUAL(lines_starting(&l, "~ set 1: - ip "), 16);
    CU_ASSERT_EQUAL(l.n, 90);
    CU_ASSERT_EQUAL(lines_starting(&l, "~ set 184: + "), 0);
    lines_free(&l);
    o3b_table_free(&before);
    o3b_table_free(&after);
}

/* ---- no change ---------------------------------------------------------------------- */

static void test_identical_content_gives_zero_and_no_line(void)
{
    o3b_table *a = load(WW_FILE), *b = load(WW_FILE);
    o3b_table *c = load(WW_LATER_FILE);
    struct o3b_diff_counts got;
    static const struct o3b_diff_counts zero = {0};
    struct lines l = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(o3b_table_diff(a, b, &got, keep_line, &l), 0);
    CU_ASSERT_TRUE(counts_equal(&got, &zero));
    CU_ASSERT_EQUAL(o3b_table_diff(a, a, &got, keep_line, &l), 0);
    CU_ASSERT_EQUAL(o3b_table_diff(c, c, &got, keep_line, &l), 0);
    CU_ASSERT_EQUAL(o3b_table_diff(NULL, NULL, &got, keep_line, &l), 0);
    CU_ASSERT_TRUE(counts_equal(&got, &zero));
    CU_ASSERT_EQUAL(l.n, 0);
    lines_free(&l);
    o3b_table_free(&a);
    o3b_table_free(&b);
    o3b_table_free(&c);
}

static void test_the_same_sets_in_another_order_and_spelling_are_no_change(void)
{
    o3b_table *a =
        load_text("[{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Optimize\", "
                  "\"required\": true,"
                  " \"tcpPorts\": \"443\", \"urls\": [\"a.example.com\", \"*.b.example.com\"],"
                  " \"ips\": [\"192.0.2.0/24\", \"2001:db8::/32\"]},"
                  " {\"id\": 2, \"serviceArea\": \"Common\", \"category\": \"Default\", "
                  "\"required\": false}]");
    o3b_table *b = load_text(
        "[{\"id\": 2, \"serviceArea\": \"Common\", \"category\": \"Default\", \"required\": false,"
        " \"notes\": null},"
        " {\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Optimize\", \"required\": "
        "true,"
        " \"tcpPorts\": \"443\", \"urls\": [\"*.B.example.com.\", \"A.example.com\"],"
        " \"ips\": [\"2001:0db8:0::/32\", \"192.0.2.7/24\"]}]");
    struct o3b_diff_counts got;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(o3b_table_diff(a, b, &got, NULL, NULL), 0);
    o3b_table_free(&a);
    o3b_table_free(&b);
}

static void test_diff_against_nothing_lists_every_set(void)
{
    o3b_table *t = load(WW_FILE);
    struct o3b_diff_counts got;
    /* SOURCES.md and the loader counts: 64 sets, 127 hosts, 77 patterns, 129 prefixes */
    static const struct o3b_diff_counts all_added = {
        .sets_added = 64, .hosts_added = 127, .patterns_added = 77, .cidrs_added = 129};
    static const struct o3b_diff_counts all_removed = {
        .sets_removed = 64, .hosts_removed = 127, .patterns_removed = 77, .cidrs_removed = 129};

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(o3b_table_diff(NULL, t, &got, NULL, NULL), 64);
    CU_ASSERT_TRUE(counts_equal(&got, &all_added));
    CU_ASSERT_EQUAL(o3b_table_diff(t, NULL, &got, NULL, NULL), 64);
    CU_ASSERT_TRUE(counts_equal(&got, &all_removed));
    o3b_table_free(&t);
}

/* ---- one field at a time -------------------------------------------------------------- */

#define BEFORE_SET                                                                                 \
    "[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "    \
    "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "    \
    "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]"

static void test_each_field_change_is_one_changed_set_with_one_line(void)
{
    static const struct {
        const char *after;
        const char *line;
    } rows[] = {
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Optimize\", \"required\": "
         "true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: category 'Allow' -> 'Optimize'"},
        {"[{\"id\": 7, \"serviceArea\": \"Common\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: serviceArea 'Exchange' -> 'Common'"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": "
         "false, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: required 'true' -> 'false'"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"80,443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": "
         "\"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: tcpPorts '443' -> '80,443'"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: udpPorts '443' -> ''"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": true, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: expressRoute 'false' -> 'true'"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"m\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: notes 'n' -> 'm'"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\", \"c.example.com\"], "
         "\"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: + url c.example.com"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\"], \"ips\": [\"192.0.2.0/24\"]}]",
         "~ set 7: - url *.b.example.com"},
        {"[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
         "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
         "\"urls\": [\"a.example.com\", \"*.b.example.com\"], \"ips\": [\"192.0.2.0/25\"]}]",
         "~ set 7: + ip 192.0.2.0/25"},
    };
    o3b_table *before = load_text(BEFORE_SET);

    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        o3b_table *after = load_text(rows[i].after);
        struct o3b_diff_counts got;
        struct lines l = {0};
        CU_ASSERT_PTR_NOT_NULL_FATAL(after);
        CU_ASSERT_EQUAL(o3b_table_diff(before, after, &got, keep_line, &l), 1);
        CU_ASSERT_EQUAL(got.sets_changed, 1);
        CU_ASSERT_EQUAL(got.sets_added + got.sets_removed, 0);
        CU_ASSERT_TRUE(has_line(&l, rows[i].line));
        /* a moved prefix (/24 -> /25) is one removal and one addition */
        CU_ASSERT_EQUAL(l.n, strstr(rows[i].line, " ip ") ? 2u : 1u);
        lines_free(&l);
        o3b_table_free(&after);
    }
    o3b_table_free(&before);
}

static void test_item_counts_separate_hosts_patterns_and_prefixes(void)
{
    o3b_table *before = load_text(BEFORE_SET);
    o3b_table *after = load_text(
        "[{\"id\": 7, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true, "
        "\"tcpPorts\": \"443\", \"udpPorts\": \"443\", \"expressRoute\": false, \"notes\": \"n\", "
        "\"urls\": [\"x.example.com\", \"y.example.com\", \"*.b.example.com\", "
        "\"*c.example.com\"], "
        "\"ips\": [\"2001:db8::/32\", \"198.51.100.0/24\", \"192.0.2.0/24\"]}]");
    static const struct o3b_diff_counts want = {.sets_changed = 1,
                                                .hosts_added = 2,
                                                .hosts_removed = 1,
                                                .patterns_added = 1,
                                                .cidrs_added = 2};
    struct o3b_diff_counts got;

    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_EQUAL(o3b_table_diff(before, after, &got, NULL, NULL), 1);
    CU_ASSERT_TRUE(counts_equal(&got, &want));
    o3b_table_free(&before);
    o3b_table_free(&after);
}

static void test_summary_truncates_safely(void)
{
    char small[12];

    CU_ASSERT_STRING_EQUAL(o3b_diff_summary(&ww_forward, small, sizeof small), "sets +1 -2 ");
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_diff_of_the_real_worldwide_versions_counts_exactly),
    O3B_TEST(test_diff_backwards_swaps_added_and_removed),
    O3B_TEST(test_diff_report_lines_name_each_change),
    O3B_TEST(test_identical_content_gives_zero_and_no_line),
    O3B_TEST(test_the_same_sets_in_another_order_and_spelling_are_no_change),
    O3B_TEST(test_diff_against_nothing_lists_every_set),
    O3B_TEST(test_each_field_change_is_one_changed_set_with_one_line),
    O3B_TEST(test_item_counts_separate_hosts_patterns_and_prefixes),
    O3B_TEST(test_summary_truncates_safely),
};

O3B_UNIT_MAIN("tablediff", tests)
