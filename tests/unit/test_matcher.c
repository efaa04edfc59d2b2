/* SPDX-License-Identifier: MIT */
/*
 * test_matcher.c - the index and o3b_decide() on real and synthetic tables.
 *
 * Every spec is a row: what an admin would type (parsed with
 * o3b_target_parse_text, so "http://..." means port 80 and a bare host 443)
 * and the decision that must come out: verdict, reason, the endpoint set
 * and the entry that decided.  The rows were checked by hand against the
 * JSON in tests/data (set numbers, ports, categories).  Nested prefixes and
 * patterns of different categories do not occur in the real data in the
 * shapes worth testing, so small tables are built with the builder API for
 * them.  The last test replays tests/data/hostile-targets.tsv (format at the
 * top of that file; decoder copied from test_target.c) through the parser
 * and o3b_decide() and compares the verdict column.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "o365bypass/config.h"
#include "o365bypass/index.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"
#include "o365bypass/target.h"
#include "o365bypass/tenant.h"
#include "unit.h"

/* ---- fixtures ----------------------------------------------------------------- */

enum real_table { WW, WW_LATER, CHINA, GCCH, N_REAL };

static const char *const real_paths[N_REAL] = {
    O3B_TEST_DATA "/worldwide-2025-11-14.json",
    O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json",
    O3B_TEST_DATA "/china-2025-11-14.json",
    O3B_TEST_DATA "/usgovgcchigh-2025-11-14.json",
};

static o3b_table *real_tables[N_REAL];
static struct o3b_policy default_policy;
static bool default_policy_ready;

static void free_fixtures(void)
{
    for (int i = 0; i < N_REAL; i++)
        o3b_table_free(&real_tables[i]);
    o3b_policy_release(&default_policy);
}

/* A real table, loaded once per program (freed at exit). */
static const o3b_table *real(enum real_table which)
{
    static bool registered;

    if (!registered) {
        atexit(free_fixtures);
        registered = true;
    }
    if (real_tables[which] == NULL) {
        o3b_err err = {{0}};
        real_tables[which] = o3b_load_file(real_paths[which], NULL, &err);
        if (real_tables[which] == NULL)
            fprintf(stderr, "\n  %s\n", err.msg);
    }
    return real_tables[which];
}

/* Optimize + Allow, all areas, no lists, no tenants. */
static const struct o3b_policy *dflt(void)
{
    if (!default_policy_ready) {
        (void)real(WW); /* registers the cleanup */
        o3b_policy_init(&default_policy);
        o3b_policy_finish(&default_policy, NULL);
        default_policy_ready = true;
    }
    return &default_policy;
}

/* Apply one directive to a config; the test fails if it is refused. */
static void set1(struct o3b_config *c, const char *name, const char *const *argv)
{
    o3b_err err = {{0}};

    if (o3b_config_set(c, name, argv, &err) != 0) {
        fprintf(stderr, "\n  %s refused: %s\n", name, err.msg);
        CU_FAIL("directive refused");
    }
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void finish(struct o3b_config *c)
{
    o3b_err err = {{0}};

    CU_ASSERT_EQUAL(o3b_config_finish(c, &err), 0);
}

/* ---- decision specs ----------------------------------------------------------- */

struct want {
    const char *target; /* as for o3b_target_parse_text */
    enum o3b_verdict verdict;
    enum o3b_reason reason;
    unsigned set;      /* endpoint set id in the decision, 0 = none */
    const char *match; /* entry text, NULL = no entry */
    unsigned or_set;   /* another set id that is just as right, 0 = none */
};

#define BYP(target, set, match)                                                                    \
    {                                                                                              \
        target, O3B_BYPASS, O3B_R_TABLE, set, match, 0                                             \
    }
#define INS(target, reason, set, match)                                                            \
    {                                                                                              \
        target, O3B_INSPECT, O3B_R_##reason, set, match, 0                                         \
    }
/* several sets list the host at the winning level and none for the port:
   which of them the decision names is not part of the contract */
#define PORT_ANY_OF(target, set, or_set, match)                                                    \
    {                                                                                              \
        target, O3B_INSPECT, O3B_R_PORT, set, match, or_set                                        \
    }
#define NOT_LISTED(target)                                                                         \
    {                                                                                              \
        target, O3B_INSPECT, O3B_R_NOT_LISTED, 0, NULL, 0                                          \
    }

static bool decision_is(const struct want *w, const struct o3b_decision *d)
{
    unsigned set = d->set ? d->set->id : 0;
    const char *match = d->entry ? d->entry->text : NULL;

    if (d->verdict != w->verdict || d->reason != w->reason ||
        (set != w->set && (w->or_set == 0 || set != w->or_set)))
        return false;
    if ((match == NULL) != (w->match == NULL))
        return false;
    return match == NULL || strcmp(match, w->match) == 0;
}

static bool run_want(const o3b_table *t, const struct o3b_policy *p, const struct want *w)
{
    struct o3b_target target;
    enum o3b_target_status st = o3b_target_parse_text(w->target, &target);
    struct o3b_decision d;
    char got[512];

    if (st != O3B_TARGET_OK) {
        fprintf(stderr, "\n  '%s' does not parse: %s\n", w->target, o3b_target_status_name(st));
        return false;
    }
    o3b_decide(t, p, &target, st, &d);
    if (decision_is(w, &d))
        return true;
    o3b_decision_format(&d, got, sizeof got);
    fprintf(stderr, "\n  '%s': expected %s reason=%s set=%u match=%s\n     got '%s'\n", w->target,
            w->verdict == O3B_BYPASS ? "bypass" : "inspect", o3b_reason_name(w->reason), w->set,
            w->match ? w->match : "-", got);
    return false;
}

static void run_wants(const o3b_table *t, const struct o3b_policy *p, const struct want *rows,
                      size_t n)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_TRUE(run_want(t, p, &rows[i]));
}

#define RUN(t, p, rows) run_wants(t, p, rows, sizeof rows / sizeof rows[0])

/* ---- URL shapes on the real Worldwide table ----------------------------------- */

static void test_exact_hosts_match_themselves_only(void)
{
    static const struct want rows[] = {
        BYP("outlook.office.com", 1, "outlook.office.com"),
        BYP("outlook.cloud.microsoft", 1, "outlook.cloud.microsoft"),
        BYP("teams.microsoft.com", 12, "teams.microsoft.com"),
        BYP("graph.microsoft.com", 56, "graph.microsoft.com"),
        BYP("Outlook.Office.COM.", 1, "outlook.office.com"),
        INS("storage.live.com", CATEGORY, 32, "storage.live.com"),
        NOT_LISTED("live.com"),
        NOT_LISTED("office.live.com.example"),
        /* an exact name covers no subdomain: this one falls to *.office.com */
        INS("a.outlook.office.com", CATEGORY, 147, "*.office.com"),
    };
    RUN(real(WW), dflt(), rows);
}

static void test_star_dot_suffix_matches_any_depth_but_never_the_apex(void)
{
    static const struct want rows[] = {
        BYP("contoso.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("contoso-my.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("a.b.c.d.sharepoint.com", 31, "*.sharepoint.com"),
        NOT_LISTED("sharepoint.com"),
        BYP("a.lync.com", 12, "*.lync.com"),
        NOT_LISTED("lync.com"),
        INS("a.cloud.microsoft", CATEGORY, 184, "*.cloud.microsoft"),
        NOT_LISTED("cloud.microsoft"),
        INS("x.y.mediaservices.windows.net", NOT_LISTED, 0, NULL),
        INS("a.streaming.mediaservices.windows.net", CATEGORY, 16,
            "*.streaming.mediaservices.windows.net"),
    };
    RUN(real(WW), dflt(), rows);
}

static void test_middle_label_star_matches_one_or_more_labels(void)
{
    static const struct want rows[] = {
        INS("autodiscover.contoso.onmicrosoft.com", CATEGORY, 8, "autodiscover.*.onmicrosoft.com"),
        INS("autodiscover.a.b.c.onmicrosoft.com", CATEGORY, 8, "autodiscover.*.onmicrosoft.com"),
        /* '*' must match at least ".x": the bare form is only under *.onmicrosoft.com */
        INS("autodiscover.onmicrosoft.com", CATEGORY, 78, "*.onmicrosoft.com"),
        INS("x.autodiscover.contoso.onmicrosoft.com", CATEGORY, 78, "*.onmicrosoft.com"),
        INS("xautodiscover.contoso.onmicrosoft.com", CATEGORY, 78, "*.onmicrosoft.com"),
        NOT_LISTED("autodiscover.contoso.onmicrosoft.com.evil.example"),
        NOT_LISTED("onmicrosoft.com"),
    };
    RUN(real(WW), dflt(), rows);
}

static void test_star_inside_the_first_label_matches_with_and_without_prefix(void)
{
    static const struct want rows[] = {
        INS("cdn.onenote.net", CATEGORY, 51, "*cdn.onenote.net"),
        INS("appcdn.onenote.net", CATEGORY, 51, "*cdn.onenote.net"),
        INS("a.b.cdn.onenote.net", CATEGORY, 51, "*cdn.onenote.net"),
        INS("x-cdn.onenote.net", CATEGORY, 51, "*cdn.onenote.net"),
        NOT_LISTED("onenote.net"),
        NOT_LISTED("cdnx.onenote.net"),
        NOT_LISTED("cd.onenote.net"),
        NOT_LISTED("xcdn.onenote.net.evil.example"),
        INS("cdn.onenote.com", CATEGORY, 49, "*.onenote.com"),
    };
    RUN(real(WW), dflt(), rows);
}

/* ---- precedence ------------------------------------------------------------------- */

static void test_the_most_specific_level_decides(void)
{
    static const struct want rows[] = {
        /* exact Optimize vs *.office.com Default (set 147) */
        BYP("outlook.office.com", 1, "outlook.office.com"),
        INS("www.office.com", CATEGORY, 147, "*.office.com"),
        /* *.protection.outlook.com Allow vs *.outlook.com Default */
        BYP("eur.protection.outlook.com", 9, "*.protection.outlook.com"),
        INS("eur.outlook.com", CATEGORY, 8, "*.outlook.com"),
        /* teams.microsoft.com Allow vs *.microsoft.com Default */
        BYP("teams.microsoft.com", 12, "teams.microsoft.com"),
        BYP("x.teams.microsoft.com", 12, "*.teams.microsoft.com"),
        /* more literal characters win */
        BYP("x.online.office.com", 46, "*.online.office.com"),
        INS("x.office365.com", CATEGORY, 71, "*.office365.com"),
        BYP("x.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        /* an exact name beats any wildcard (listing the port) */
        BYP("login.microsoftonline.com", 56, "login.microsoftonline.com"),
        INS("x.microsoftonline.com", CATEGORY, 59, "*.microsoftonline.com"),
        BYP("protection.office.com", 64, "protection.office.com"),
        BYP("x.protection.office.com", 64, "*.protection.office.com"),
        INS("www.microsoft.com", CATEGORY, 125, "www.microsoft.com"),
    };
    RUN(real(WW), dflt(), rows);
}

static void test_the_same_name_in_two_sets_is_split_by_port(void)
{
    static const struct want rows[] = {
        BYP("outlook.office365.com:443", 1, "outlook.office365.com"),
        BYP("outlook.office365.com:80", 1, "outlook.office365.com"),
        BYP("outlook.office365.com:993", 2, "outlook.office365.com"),
        BYP("outlook.office365.com:587", 2, "outlook.office365.com"),
        PORT_ANY_OF("outlook.office365.com:25", 1, 2, "outlook.office365.com"),
        PORT_ANY_OF("outlook.office365.com:8443", 1, 2, "outlook.office365.com"),
        /* *.microsoft.com is in 50 (443) and 78 (80,443), both Default: first wins */
        INS("foo.microsoft.com:443", CATEGORY, 50, "*.microsoft.com"),
        INS("foo.microsoft.com:80", CATEGORY, 78, "*.microsoft.com"),
    };
    struct o3b_target t;
    struct o3b_decision d;

    RUN(real(WW), dflt(), rows);
    /* candidates: the entries listing the port at the winning level (set 1
       only; set 2's entry is for other ports); without a winner the
       entries at the most specific level (both) */
    CU_ASSERT_EQUAL(o3b_target_parse_text("outlook.office365.com", &t), O3B_TARGET_OK);
    o3b_decide(real(WW), dflt(), &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(d.candidates, 1);
    CU_ASSERT_EQUAL(o3b_target_parse_text("outlook.office365.com:25", &t), O3B_TARGET_OK);
    o3b_decide(real(WW), dflt(), &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(d.candidates, 2);
    CU_ASSERT_EQUAL(o3b_target_parse_text("contoso.sharepoint.com", &t), O3B_TARGET_OK);
    o3b_decide(real(WW), dflt(), &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(d.candidates, 1);
}

static void test_ports_come_first_an_entry_for_other_ports_says_nothing_about_this_one(void)
{
    static const struct want rows[] = {
        BYP("http://outlook.office.com/", 1, "outlook.office.com"),
        BYP("https://outlook.office.com/owa/", 1, "outlook.office.com"),
        BYP("outlook.office.com", 1, "outlook.office.com"),
        /* no entry matching it lists 8080 (not even *.office.com): the most
           specific one is named */
        INS("outlook.office.com:8080", PORT, 1, "outlook.office.com"),
        INS("http://outlook.office.com:8080/", PORT, 1, "outlook.office.com"),
        /* the issue's case: set 10 lists *.mail.protection.outlook.com for 25
           only; on 443 set 9's *.protection.outlook.com is the rule */
        BYP("x.mail.protection.outlook.com:443", 9, "*.protection.outlook.com"),
        BYP("17gm.mail.protection.outlook.com:443", 9, "*.protection.outlook.com"),
        BYP("https://x.mail.protection.outlook.com/", 9, "*.protection.outlook.com"),
        BYP("x.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        /* on 80 neither lists it: *.outlook.com (set 8, Default, 80/443) does */
        INS("http://x.mail.protection.outlook.com/", CATEGORY, 8, "*.outlook.com"),
        BYP("x.mx.microsoft:25", 10, "*.mx.microsoft"),
        INS("x.mx.microsoft:443", PORT, 10, "*.mx.microsoft"),
        /* set 64 is 443 only; on port 80 *.microsoft.com (78, Default) decides */
        BYP("https://compliance.microsoft.com/", 64, "compliance.microsoft.com"),
        INS("http://compliance.microsoft.com/", CATEGORY, 78, "*.microsoft.com"),
        /* the exact name is in set 2 only (143, 587, 993, 995): on 443
         *.office365.com (set 71, Default, 80/443) is the rule */
        BYP("smtp.office365.com:587", 2, "smtp.office365.com"),
        INS("smtp.office365.com:443", CATEGORY, 71, "*.office365.com"),
    };
    RUN(real(WW), dflt(), rows);
}

/* ---- addresses ------------------------------------------------------------------- */

static void test_addresses_match_the_published_prefixes(void)
{
    static const struct want rows[] = {
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
        BYP("http://52.96.1.1/", 1, "52.96.0.0/14"),
        BYP("52.96.1.1:993", 2, "52.96.0.0/14"),
        PORT_ANY_OF("52.96.1.1:25", 1, 2, "52.96.0.0/14"),
        BYP("[2603:1006::1]:443", 1, "2603:1006::/40"),
        BYP("2603:1006::1", 1, "2603:1006::/40"),
        BYP("[2603:1006:ff:ffff:ffff:ffff:ffff:ffff]:443", 1, "2603:1006::/40"),
        NOT_LISTED("[2603:1006:100::1]:443"),
        BYP("40.92.0.1:443", 9, "40.92.0.0/15"),
        BYP("40.92.0.1:25", 10, "40.92.0.0/15"),
        BYP("52.238.78.88:443", 9, "52.238.78.88/32"),
        INS("52.238.78.88:25", PORT, 9, "52.238.78.88/32"),
        NOT_LISTED("52.238.78.89:443"),
        /* 13.107.6.152/31 holds .152 and .153 only */
        BYP("13.107.6.153:443", 1, "13.107.6.152/31"),
        NOT_LISTED("13.107.6.154:443"),
        BYP("13.107.6.171:443", 46, "13.107.6.171/32"),
        BYP("52.104.0.1:443", 31, "52.104.0.0/14"),
        /* set 11 (Teams media) has no TCP port; set 12 has the same prefix on 80/443 */
        BYP("52.112.0.1:443", 12, "52.112.0.0/14"),
        PORT_ANY_OF("52.112.0.1:3478", 11, 12, "52.112.0.0/14"),
        NOT_LISTED("8.8.8.8:443"),
        NOT_LISTED("[2001:db8::1]:443"),
        NOT_LISTED("10.0.0.1"),
    };
    RUN(real(WW), dflt(), rows);
}

/* ---- synthetic tables: nesting and ties ------------------------------------------ */

struct synth_set {
    unsigned id;
    const char *category;
    const char *ports;
    const char *items[4]; /* hosts, patterns or CIDRs (with '/') */
};

static o3b_table *build(const struct synth_set *sets, size_t n)
{
    o3b_table_builder *b = o3b_table_builder_new();
    o3b_err err = {{0}};

    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct o3b_set_spec spec = {.id = sets[i].id,
                                    .service_area = "Common",
                                    .category = sets[i].category,
                                    .tcp_ports = sets[i].ports,
                                    .required = true};
        if (o3b_table_builder_add_set(b, &spec, &err) != 0)
            goto fail;
        for (size_t k = 0; k < 4 && sets[i].items[k]; k++) {
            const char *it = sets[i].items[k];
            int rc = strchr(it, '/') ? o3b_table_builder_add_ip(b, it, strlen(it), &err)
                                     : o3b_table_builder_add_url(b, it, strlen(it), &err);
            if (rc != 0)
                goto fail;
        }
    }
    return o3b_table_builder_finish(&b, NULL, false, &err);
fail:
    fprintf(stderr, "\n  build: %s\n", err.msg);
    o3b_table_builder_free(&b);
    return NULL;
}

#define BUILD(sets) build(sets, sizeof sets / sizeof sets[0])

static void test_nested_patterns_of_different_categories(void)
{
    static const struct synth_set sets[] = {
        {1, "Optimize", "443", {"*.example.com"}}, {2, "Default", "443", {"*.b.example.com"}},
        {3, "Allow", "443", {"a.b.example.com"}},  {4, "Optimize", "443", {"x*.b.example.com"}},
        {5, "Allow", "25", {"*.c.example.com"}},
    };
    static const struct want rows[] = {
        BYP("y.example.com", 1, "*.example.com"),
        INS("q.b.example.com", CATEGORY, 2, "*.b.example.com"),
        BYP("a.b.example.com", 3, "a.b.example.com"),
        INS("z.a.b.example.com", CATEGORY, 2, "*.b.example.com"),
        /* "x*.b.example.com" has one literal more than "*.b.example.com" */
        BYP("xy.b.example.com", 4, "x*.b.example.com"),
        BYP("x.a.b.example.com", 4, "x*.b.example.com"),
        /* port first: the more specific entry is for port 25 only, so on 443
           the less specific Optimize wildcard is the rule */
        BYP("q.c.example.com:443", 1, "*.example.com"),
        BYP("q.c.example.com:25", 5, "*.c.example.com"),
        INS("q.c.example.com:8080", PORT, 5, "*.c.example.com"),
        NOT_LISTED("example.com"),
        NOT_LISTED("b.example.com.evil"),
    };
    o3b_table *t = BUILD(sets);

    RUN(t, dflt(), rows);
    o3b_table_free(&t);
}

static void test_nested_prefixes_longest_wins_whatever_the_category(void)
{
    static const struct synth_set sets[] = {
        {30, "Allow", "443", {"10.0.0.0/8", "2001:db8::/32"}},
        {31, "Default", "443", {"10.1.0.0/16", "2001:db8:1::/48"}},
        {32, "Optimize", "443", {"10.1.2.0/24", "2001:db8:1:2::/64"}},
        {33, "Optimize", "25", {"10.1.3.0/24", "2001:db8:1:3::/64"}},
        {34, "Default", "443", {"10.1.2.3/32", "2001:db8:1:2::3/128"}},
    };
    static const struct want rows[] = {
        BYP("10.1.2.4", 32, "10.1.2.0/24"),
        INS("10.1.2.3", CATEGORY, 34, "10.1.2.3/32"),
        INS("10.1.4.1", CATEGORY, 31, "10.1.0.0/16"),
        BYP("10.2.0.1", 30, "10.0.0.0/8"),
        /* port first: the /24 is for port 25 only; on 443 the /16 decides */
        INS("10.1.3.1:443", CATEGORY, 31, "10.1.0.0/16"),
        BYP("10.1.3.1:25", 33, "10.1.3.0/24"),
        INS("10.1.3.1:8080", PORT, 33, "10.1.3.0/24"),
        NOT_LISTED("11.0.0.1"),
        BYP("[2001:db8:1:2::4]:443", 32, "2001:db8:1:2::/64"),
        INS("[2001:db8:1:2::3]:443", CATEGORY, 34, "2001:db8:1:2::3/128"),
        INS("[2001:db8:1:4::1]:443", CATEGORY, 31, "2001:db8:1::/48"),
        BYP("[2001:db8:2::1]:443", 30, "2001:db8::/32"),
        INS("[2001:db8:1:3::1]:443", CATEGORY, 31, "2001:db8:1::/48"),
        BYP("[2001:db8:1:3::1]:25", 33, "2001:db8:1:3::/64"),
        NOT_LISTED("[2001:db9::1]:443"),
    };
    o3b_table *t = BUILD(sets);

    RUN(t, dflt(), rows);
    o3b_table_free(&t);
}

static void test_ties_go_to_the_higher_category_then_the_first_set(void)
{
    static const struct synth_set low_first[] = {
        {10, "Default", "443", {"tie.example.net", "192.0.2.0/24"}},
        {11, "Allow", "443", {"tie.example.net", "192.0.2.0/24"}},
        {12, "Optimize", "80", {"tie.example.net", "192.0.2.0/24"}},
        {20, "Allow", "443", {"*.same.example.net"}},
        {21, "Allow", "443", {"*.same.example.net"}},
    };
    static const struct synth_set high_first[] = {
        {11, "Allow", "443", {"tie.example.net", "192.0.2.0/24"}},
        {10, "Default", "443", {"tie.example.net", "192.0.2.0/24"}},
        {12, "Optimize", "80", {"tie.example.net", "192.0.2.0/24"}},
        {21, "Allow", "443", {"*.same.example.net"}},
        {20, "Allow", "443", {"*.same.example.net"}},
    };
    static const struct want rows_low[] = {
        BYP("tie.example.net:443", 11, "tie.example.net"),
        BYP("tie.example.net:80", 12, "tie.example.net"),
        BYP("192.0.2.1:443", 11, "192.0.2.0/24"),
        BYP("192.0.2.1:80", 12, "192.0.2.0/24"),
        INS("tie.example.net:25", PORT, 10, "tie.example.net"),
        BYP("a.same.example.net", 20, "*.same.example.net"),
    };
    static const struct want rows_high[] = {
        BYP("tie.example.net:443", 11, "tie.example.net"),
        BYP("192.0.2.1:443", 11, "192.0.2.0/24"),
        INS("tie.example.net:25", PORT, 11, "tie.example.net"),
        BYP("a.same.example.net", 21, "*.same.example.net"),
    };
    o3b_table *a = BUILD(low_first), *b = BUILD(high_first);
    struct o3b_hit hit;

    RUN(a, dflt(), rows_low);
    RUN(b, dflt(), rows_high);
    o3b_index_lookup_host(o3b_table_index(a), "tie.example.net", 15, 443, &hit);
    CU_ASSERT_EQUAL(hit.candidates, 2); /* sets 10 and 11; 12 is for port 80 */
    o3b_table_free(&a);
    o3b_table_free(&b);
}

/* ---- the index API itself ------------------------------------------------------------ */

static const struct o3b_set *set_of(const o3b_table *t, const struct o3b_index_entry *e)
{
    return e ? o3b_table_set(t, e->payload) : NULL;
}

static void test_index_port_zero_means_any_listed_port(void)
{
    const o3b_table *t = real(WW);
    const o3b_index *ix;
    struct o3b_hit hit;
    static const uint8_t teams_media[4] = {52, 112, 0, 1};

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    ix = o3b_table_index(t);
    o3b_index_lookup_host(ix, "x.mail.protection.outlook.com", 29, 0, &hit);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hit.best);
    CU_ASSERT_EQUAL(set_of(t, hit.best)->id, 10);
    CU_ASSERT_PTR_NULL(hit.listed);
    CU_ASSERT_TRUE(o3b_index_entry_accepts(ix, hit.best, 25));
    CU_ASSERT_FALSE(o3b_index_entry_accepts(ix, hit.best, 443));
    CU_ASSERT_EQUAL(o3b_index_entry_ports(ix, hit.best)[0].lo, 25);
    /* an entry without any TCP port (set 11) never accepts, not even port 0 */
    o3b_index_lookup_addr(ix, O3B_AF_INET, teams_media, 0, &hit);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hit.best);
    CU_ASSERT_EQUAL(set_of(t, hit.best)->id, 12);
    CU_ASSERT_EQUAL(hit.candidates, 1);
    /* nothing at all */
    o3b_index_lookup_host(ix, "example.invalid", 15, 0, &hit);
    CU_ASSERT_PTR_NULL(hit.best);
    CU_ASSERT_PTR_NULL(hit.listed);
    CU_ASSERT_EQUAL(hit.candidates, 0);
    o3b_index_lookup_host(ix, "", 0, 443, &hit);
    CU_ASSERT_PTR_NULL(hit.best);
}

static void test_index_entries_keep_kind_and_specificity(void)
{
    const o3b_table *t = real(WW);
    size_t n, kinds[5] = {0};
    const struct o3b_index_entry *e;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    e = o3b_index_entries(o3b_table_index(t), &n);
    for (size_t i = 0; i < n; i++) {
        kinds[e[i].kind]++;
        if (strcmp(e[i].text, "autodiscover.*.onmicrosoft.com") == 0) {
            CU_ASSERT_EQUAL(e[i].kind, O3B_ENTRY_GLOB);
            CU_ASSERT_EQUAL(e[i].specificity, 29);
        } else if (strcmp(e[i].text, "*cdn.onenote.net") == 0) {
            CU_ASSERT_EQUAL(e[i].kind, O3B_ENTRY_GLOB);
            CU_ASSERT_EQUAL(e[i].specificity, 15);
        } else if (strcmp(e[i].text, "*.sharepoint.com") == 0) {
            CU_ASSERT_EQUAL(e[i].kind, O3B_ENTRY_SUFFIX);
            CU_ASSERT_EQUAL(e[i].specificity, 15);
        } else if (strcmp(e[i].text, "2603:1006::/40") == 0) {
            CU_ASSERT_EQUAL(e[i].specificity, 40);
        }
    }
    /* tests/data: 127 exact, 75 "*." + 2 other globs, 51 IPv4 and 78 IPv6 prefixes */
    CU_ASSERT_EQUAL(kinds[O3B_ENTRY_EXACT], 127);
    CU_ASSERT_EQUAL(kinds[O3B_ENTRY_SUFFIX], 75);
    CU_ASSERT_EQUAL(kinds[O3B_ENTRY_GLOB], 2);
    CU_ASSERT_EQUAL(kinds[O3B_ENTRY_CIDR4], 51);
    CU_ASSERT_EQUAL(kinds[O3B_ENTRY_CIDR6], 78);
}

/* ---- look-alikes and refused targets ---------------------------------------------- */

static void test_look_alikes_are_not_bypassed(void)
{
    static const struct want rows[] = {
        NOT_LISTED("sharepoint.com"),
        NOT_LISTED("evilsharepoint.com"),
        NOT_LISTED("sharepoint.com.example.org"),
        NOT_LISTED("contoso.sharepoint.com.example.org"),
        NOT_LISTED("outlook.office.com.evil.example"),
        NOT_LISTED("outlook-office.com"),
        NOT_LISTED("outlook.office.co"),
        NOT_LISTED("login.microsoftonline.com.evil.example"),
        /* a label glued in front of an exact name is another name: here it falls
           under *.office.com (set 147, Default), never under set 1 */
        INS("xoutlook.office.com", CATEGORY, 147, "*.office.com"),
        INS("evil-outlook.office.com", CATEGORY, 147, "*.office.com"),
    };
    RUN(real(WW), dflt(), rows);
}

static void test_refused_targets_are_inspected_with_the_status(void)
{
    struct o3b_target t;
    struct o3b_decision d;
    char buf[128];

    memset(&t, 0, sizeof t);
    o3b_decide(real(WW), dflt(), &t, O3B_TARGET_BAD_HOST, &d);
    CU_ASSERT_EQUAL(d.verdict, O3B_INSPECT);
    CU_ASSERT_EQUAL(d.reason, O3B_R_MALFORMED);
    o3b_decision_format(&d, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "inspect; reason=malformed; detail=bad-host");
    o3b_decide(real(WW), dflt(), &t, O3B_TARGET_HOST_MISMATCH, &d);
    CU_ASSERT_EQUAL(d.reason, O3B_R_MISMATCH);
    o3b_decision_format(&d, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "inspect; reason=host-mismatch; detail=host-mismatch");
    /* no table: nothing is listed */
    CU_ASSERT_EQUAL(o3b_target_parse_text("outlook.office.com", &t), O3B_TARGET_OK);
    o3b_decide(NULL, dflt(), &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(d.verdict, O3B_INSPECT);
    CU_ASSERT_EQUAL(d.reason, O3B_R_NOT_LISTED);
}

/* ---- TLS: decrypted requests and the SNI ---------------------------------------------- */

/* Decide one request as Squid encapsulates it: request line, one Host value
   (NULL: none) and the X-O365bypass-SNI value (NULL: none). */
static void decide_request(const struct o3b_policy *p, const char *line, const char *host,
                           const char *sni, struct o3b_decision *d, char *header, size_t size)
{
    const char *hosts[1] = {host};
    size_t lens[1] = {host ? strlen(host) : 0};
    struct o3b_target t;
    enum o3b_target_status st;

    st = o3b_target_parse(line, strlen(line), hosts, lens, host ? 1 : 0, &t);
    if (st == O3B_TARGET_OK)
        o3b_target_set_sni(&t, sni, sni ? strlen(sni) : 0);
    o3b_decide(real(WW), p, &t, st, d);
    o3b_decision_format(d, header, size);
}

struct tls_want {
    const char *line, *host, *sni;
    const char *dflt;  /* header prefix under the default policy */
    const char *bound; /* ... under DecryptedRequests sni-bound */
};

/* One row under one policy: the header must start with `want`. */
static void check_tls_want(const struct tls_want *w, const struct o3b_policy *p, const char *want,
                           const char *mode)
{
    char got[512];
    struct o3b_decision d;

    decide_request(p, w->line, w->host, w->sni, &d, got, sizeof got);
    if (strncmp(got, want, strlen(want)) == 0)
        return;
    fprintf(stderr, "\n  %s [Host %s, SNI %s] %s: want '%s...', got '%s'\n", w->line,
            w->host ? w->host : "-", w->sni ? w->sni : "-", mode, want, got);
    CU_FAIL("TLS decision");
}

/* Each row under `inspect` (DecryptedRequests inspect) and `bound` (sni-bound). */
static void run_tls_wants(const struct tls_want *w, size_t n, const struct o3b_policy *inspect,
                          const struct o3b_policy *bound)
{
    for (size_t i = 0; i < n; i++) {
        check_tls_want(&w[i], inspect, w[i].dflt, "inspect mode");
        check_tls_want(&w[i], bound, w[i].bound, "sni-bound");
    }
}

static void test_decrypted_requests_are_inspected_unless_sni_bound(void)
{
    static const struct tls_want w[] = {
        /* a bumped request: https URL, Host as the client wrote it inside the tunnel */
        {"GET https://outlook.office.com/owa/ HTTP/1.1", "outlook.office.com", NULL,
         "inspect; reason=decrypted", "inspect; reason=decrypted; detail=no-sni"},
        {"GET https://outlook.office.com/owa/ HTTP/1.1", "outlook.office.com", "-",
         "inspect; reason=decrypted", "inspect; reason=decrypted; detail=no-sni"},
        {"GET https://outlook.office.com/owa/ HTTP/1.1", "outlook.office.com", "outlook.office.com",
         "inspect; reason=decrypted", "bypass; set=1; category=Optimize"},
        {"POST https://outlook.office.com/exfil HTTP/1.1", "outlook.office.com",
         "Outlook.Office.Com.", "inspect; reason=decrypted", "bypass; set=1;"},
        /* the forged-Host reproducer: SNI of the real destination differs */
        {"POST https://outlook.office.com/exfil HTTP/1.1", "outlook.office.com", "evil.example",
         "inspect; reason=sni-mismatch; sni=evil.example",
         "inspect; reason=sni-mismatch; sni=evil.example"},
        /* the absolute form inside a bumped tunnel: plain http to port 443 */
        {"POST http://outlook.office.com:443/exfil HTTP/1.1", "outlook.office.com:443", NULL,
         "inspect; reason=decrypted", "inspect; reason=decrypted; detail=no-sni"},
        {"POST http://outlook.office.com:443/exfil HTTP/1.1", "outlook.office.com:443",
         "evil.example", "inspect; reason=sni-mismatch", "inspect; reason=sni-mismatch"},
        {"GET /owa/ HTTP/1.1", "outlook.office.com:443", NULL, "inspect; reason=decrypted",
         "inspect; reason=decrypted"},
        /* an address never has a valid SNI, so it is never bound */
        {"GET https://52.96.1.1/ HTTP/1.1", "52.96.1.1", NULL, "inspect; reason=decrypted",
         "inspect; reason=decrypted; detail=no-sni"},
        {"GET https://52.96.1.1/ HTTP/1.1", "52.96.1.1", "52.96.1.1",
         "inspect; reason=sni-mismatch; sni=invalid", "inspect; reason=sni-mismatch; sni=invalid"},
        /* a bound request still needs the table and the policy */
        {"GET https://www.office.com/ HTTP/1.1", "www.office.com", "www.office.com",
         "inspect; reason=decrypted", "inspect; reason=category; set=147"},
        {"GET https://www.example.org/ HTTP/1.1", "www.example.org", "www.example.org",
         "inspect; reason=decrypted", "inspect; reason=not-listed"},
        /* not decrypted: plain http on 80, and every CONNECT (the tunnel itself) */
        {"GET http://outlook.office.com/ HTTP/1.1", "outlook.office.com", NULL, "bypass; set=1;",
         "bypass; set=1;"},
        {"CONNECT outlook.office.com:443 HTTP/1.1", "outlook.office.com:443", NULL,
         "bypass; set=1;", "bypass; set=1;"},
        {"CONNECT outlook.office365.com:993 HTTP/1.1", "outlook.office365.com", NULL,
         "bypass; set=2;", "bypass; set=2;"},
        /* an SNI that names another host than a CONNECT (step 2 of ssl-bump) */
        {"CONNECT outlook.office.com:443 HTTP/1.1", "outlook.office.com", "outlook.office.com",
         "bypass; set=1;", "bypass; set=1;"},
        {"CONNECT evil.example:443 HTTP/1.1", "evil.example", "outlook.office.com",
         "inspect; reason=sni-mismatch; sni=outlook.office.com", "inspect; reason=sni-mismatch"},
        {"CONNECT outlook.office.com:443 HTTP/1.1", NULL, "evil.example",
         "inspect; reason=sni-mismatch", "inspect; reason=sni-mismatch"},
        {"CONNECT 52.96.1.1:443 HTTP/1.1", NULL, "outlook.office.com",
         "inspect; reason=sni-mismatch", "inspect; reason=sni-mismatch"},
        {"CONNECT outlook.office.com:443 HTTP/1.1", NULL, "outlook.office.com:443",
         "inspect; reason=sni-mismatch; sni=invalid", "inspect; reason=sni-mismatch; sni=invalid"},
        /* a refused target stays malformed whatever the SNI says */
        {"GET https://outlook.office.com/ HTTP/1.1", "evil.example", "outlook.office.com",
         "inspect; reason=host-mismatch", "inspect; reason=host-mismatch"},
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "o365bypass.DecryptedRequests", ARGV("sni-bound"));
    finish(&c);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_SNI_BOUND);
    run_tls_wants(w, sizeof w / sizeof w[0], dflt(), &c.policy);
    o3b_config_release(&c);
}

/* Decrypted requests are inspected before the admin's lists are read: an
   AlsoBypass host inside a bumped tunnel is still an unbound Host. */
static void test_decrypted_rule_comes_before_also_and_never_bypass(void)
{
    static const struct tls_want w[] = {
        {"GET https://intranet.example.com/ HTTP/1.1", "intranet.example.com", NULL,
         "inspect; reason=decrypted", "inspect; reason=decrypted"},
        {"GET http://intranet.example.com/ HTTP/1.1", "intranet.example.com", NULL,
         "bypass; reason=also-bypass", "bypass; reason=also-bypass"},
        {"GET https://intranet.example.com/ HTTP/1.1", "intranet.example.com",
         "intranet.example.com", "inspect; reason=decrypted", "bypass; reason=also-bypass"},
        {"GET https://upload.contoso.sharepoint.com/ HTTP/1.1", "upload.contoso.sharepoint.com",
         "upload.contoso.sharepoint.com", "inspect; reason=decrypted",
         "inspect; reason=never-bypass"},
    };
    struct o3b_config c[2];

    for (int i = 0; i < 2; i++) {
        o3b_config_init(&c[i]);
        set1(&c[i], "o365bypass.AlsoBypass", ARGV("intranet.example.com"));
        set1(&c[i], "o365bypass.NeverBypass", ARGV("upload.contoso.sharepoint.com"));
        set1(&c[i], "o365bypass.DecryptedRequests", ARGV(i ? "sni-bound" : "inspect"));
        finish(&c[i]);
    }
    run_tls_wants(w, sizeof w / sizeof w[0], &c[0].policy, &c[1].policy);
    o3b_config_release(&c[0]);
    o3b_config_release(&c[1]);
}

static void test_decrypted_requests_directive_takes_two_values(void)
{
    struct o3b_config c;
    o3b_err err = {{0}};

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_INSPECT);
    CU_ASSERT_EQUAL(o3b_config_set(&c, "o365bypass.DecryptedRequests", ARGV("SNI-Bound"), &err), 0);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_SNI_BOUND);
    CU_ASSERT_EQUAL(o3b_config_set(&c, "o365bypass.DecryptedRequests", ARGV("inspect"), &err), 0);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_INSPECT);
    CU_ASSERT_EQUAL(o3b_config_set(&c, "o365bypass.DecryptedRequests", ARGV("bypass"), &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "o365bypass.DecryptedRequests"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'bypass'"));
    CU_ASSERT_EQUAL(o3b_config_set(&c, "o365bypass.DecryptedRequests", ARGV("inspect", "x"), &err),
                    -1);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_INSPECT);
    o3b_config_release(&c);
}

/* ---- policy ------------------------------------------------------------------------ */

static void test_default_config_policy_equals_default_policy(void)
{
    static const struct want rows[] = {
        BYP("outlook.office.com", 1, "outlook.office.com"),
        BYP("outlook.office365.com:993", 2, "outlook.office365.com"),
        INS("www.office.com", CATEGORY, 147, "*.office.com"),
        BYP("evil.sharepoint.com", 31, "*.sharepoint.com"), /* no pinning by default */
    };
    struct o3b_config c;

    o3b_config_init(&c);
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    RUN(real(WW), dflt(), rows);
    o3b_config_release(&c);
}

static void test_bypass_categories_with_default_bypasses_default_sets(void)
{
    static const struct want rows[] = {
        BYP("www.office.com", 147, "*.office.com"),
        BYP("autodiscover.contoso.onmicrosoft.com", 8, "autodiscover.*.onmicrosoft.com"),
        BYP("outlook.office.com", 1, "outlook.office.com"),
        NOT_LISTED("example.com"),
    };
    static const struct want optimize_only[] = {
        BYP("outlook.office.com", 1, "outlook.office.com"),
        INS("teams.microsoft.com", CATEGORY, 12, "teams.microsoft.com"),
        INS("outlook.office365.com:993", CATEGORY, 2, "outlook.office365.com"),
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "o365bypass.BypassCategories", ARGV("Optimize", "Allow", "Default"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
    o3b_config_init(&c);
    set1(&c, "BypassCategories", ARGV("Optimize"));
    finish(&c);
    RUN(real(WW), &c.policy, optimize_only);
    o3b_config_release(&c);
}

static void test_service_areas_limit_what_is_bypassed(void)
{
    static const struct want rows[] = {
        BYP("outlook.office.com", 1, "outlook.office.com"),
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
        INS("contoso.sharepoint.com", AREA, 31, "*.sharepoint.com"),
        INS("52.104.0.1", AREA, 31, "52.104.0.0/14"),
        /* Common is the others' prerequisite: always bypassed with them */
        BYP("login.microsoftonline.com", 56, "login.microsoftonline.com"),
        INS("teams.microsoft.com", AREA, 12, "teams.microsoft.com"),
        /* category is checked before the area */
        INS("www.office.com", CATEGORY, 147, "*.office.com"),
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "ServiceAreas", ARGV("Exchange"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
}

static void test_required_only_inspects_optional_sets(void)
{
    static const struct want rows[] = {
        INS("outlook.office365.com:993", OPTIONAL, 2, "outlook.office365.com"),
        BYP("outlook.office365.com:443", 1, "outlook.office365.com"),
        INS("52.96.1.1:993", OPTIONAL, 2, "52.96.0.0/14"),
        BYP("52.96.1.1:443", 1, "52.96.0.0/14"),
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "RequiredOnly", ARGV("on"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
}

static void test_never_bypass_always_wins(void)
{
    static const struct want rows[] = {
        INS("outlook.office.com", NEVER, 0, "outlook.office.com"),
        INS("outlook.office.com:80", NEVER, 0, "outlook.office.com"),
        BYP("outlook.office365.com", 1, "outlook.office365.com"),
        INS("contoso.sharepoint.com", NEVER, 0, "*.sharepoint.com"),
        INS("52.96.1.1", NEVER, 0, "52.96.1.1/32"),
        INS("52.96.1.1:993", NEVER, 0, "52.96.1.1/32"),
        BYP("52.96.1.2", 1, "52.96.0.0/14"),
        INS("[2603:1006::1]:443", NEVER, 0, "2603:1006::/40"),
        BYP("[2603:1016::1]:443", 1, "2603:1016::/36"),
        INS("[2620:1ec:4::152]:443", NEVER, 0, "2620:1ec:4::152/128"),
        /* also in AlsoBypass: NeverBypass still wins */
        INS("never.example.org", NEVER, 0, "never.example.org"),
        {"other.example.org", O3B_BYPASS, O3B_R_ALSO, 0, "*.example.org", 0},
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "NeverBypass", ARGV("outlook.office.com", "*.SharePoint.com", "52.96.1.1"));
    set1(&c, "NeverBypass", ARGV("2603:1006::/40,[2620:1ec:4::152],never.example.org"));
    set1(&c, "AlsoBypass", ARGV("*.example.org", "outlook.office.com"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
}

/* NeverBypass can only narrow: any host, pattern or prefix, each inspecting
   what it names and nothing else. */
static void test_never_bypass_takes_any_breadth_and_inspects_only_what_it_names(void)
{
    static const struct {
        const char *item;
        struct want rows[5];
    } cases[] = {
        {"0.0.0.0/0",
         {INS("52.96.1.1", NEVER, 0, "0.0.0.0/0"), INS("40.92.0.1:25", NEVER, 0, "0.0.0.0/0"),
          INS("8.8.8.8:8443", NEVER, 0, "0.0.0.0/0"),
          BYP("[2603:1006::1]:443", 1, "2603:1006::/40"),
          BYP("outlook.office.com", 1, "outlook.office.com")}},
        {"::/0",
         {INS("[2603:1006::1]:443", NEVER, 0, "::/0"), INS("[2001:db8::1]:80", NEVER, 0, "::/0"),
          BYP("52.96.1.1", 1, "52.96.0.0/14"), BYP("outlook.office.com", 1, "outlook.office.com"),
          BYP("contoso.sharepoint.com", 31, "*.sharepoint.com")}},
        {"*.de",
         {INS("x.de", NEVER, 0, "*.de"), INS("contoso.sharepoint.de:25", NEVER, 0, "*.de"),
          NOT_LISTED("de"), NOT_LISTED("x.de.example.com"),
          BYP("outlook.office.com", 1, "outlook.office.com")}},
        {"*",
         {INS("outlook.office.com", NEVER, 0, "*"), INS("contoso.sharepoint.com", NEVER, 0, "*"),
          INS("x:8080", NEVER, 0, "*"), BYP("52.96.1.1", 1, "52.96.0.0/14"),
          BYP("[2603:1006::1]:443", 1, "2603:1006::/40")}},
        {"outlook*",
         {INS("outlook.office.com", NEVER, 0, "outlook*"),
          INS("outlook.office365.com:993", NEVER, 0, "outlook*"),
          BYP("teams.microsoft.com", 12, "teams.microsoft.com"),
          INS("xyz.outlook.com", CATEGORY, 8, "*.outlook.com"), NOT_LISTED("xoutlook.example")}},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct o3b_config c;
        o3b_config_init(&c);
        set1(&c, "NeverBypass", ARGV(cases[i].item));
        finish(&c);
        RUN(real(WW), &c.policy, cases[i].rows);
        o3b_config_release(&c);
    }
}

/* AlsoBypass widens the hole: it keeps the feed's rules; NeverBypass still
   refuses what would never match. */
static void test_also_bypass_refuses_what_never_bypass_accepts(void)
{
    static const char *const broad[] = {"*",    "*.de",       "foo*",     "0.0.0.0/0",
                                        "::/0", "10.0.0.0/7", "2600::/15"};
    static const char *const never_bad[] = {"10.*",       "52.96.*.*", "a..b",       ".*",
                                            "0.0.0.0/33", "::/129",    "x_y.example"};

    for (size_t i = 0; i < sizeof broad / sizeof broad[0]; i++) {
        struct o3b_config c;
        o3b_err err = {{0}};
        o3b_config_init(&c);
        CU_ASSERT_EQUAL(o3b_config_set(&c, "AlsoBypass", ARGV(broad[i]), &err), -1);
        CU_ASSERT_TRUE(err.msg[0] != '\0');
        CU_ASSERT_EQUAL(o3b_config_set(&c, "NeverBypass", ARGV(broad[i]), &err), 0);
        o3b_config_release(&c);
    }
    for (size_t i = 0; i < sizeof never_bad / sizeof never_bad[0]; i++) {
        struct o3b_config c;
        o3b_err err = {{0}};
        o3b_config_init(&c);
        CU_ASSERT_EQUAL(o3b_config_set(&c, "NeverBypass", ARGV(never_bad[i]), &err), -1);
        CU_ASSERT_TRUE(err.msg[0] != '\0');
        o3b_config_release(&c);
    }
}

static void test_also_bypass_adds_web_ports_only(void)
{
    static const struct want rows[] = {
        {"a.example.org", O3B_BYPASS, O3B_R_ALSO, 0, "*.example.org", 0},
        {"http://a.example.org/", O3B_BYPASS, O3B_R_ALSO, 0, "*.example.org", 0},
        NOT_LISTED("a.example.org:8080"),
        NOT_LISTED("example.org"),
        {"intranet.example.net", O3B_BYPASS, O3B_R_ALSO, 0, "intranet.example.net", 0},
        {"192.0.2.10", O3B_BYPASS, O3B_R_ALSO, 0, "192.0.2.10/32", 0},
        NOT_LISTED("192.0.2.11"),
        {"http://198.51.100.7/", O3B_BYPASS, O3B_R_ALSO, 0, "198.51.100.0/24", 0},
        {"[2001:db8::5]:443", O3B_BYPASS, O3B_R_ALSO, 0, "2001:db8::5/128", 0},
        /* a listed host on a port AlsoBypass does not cover: the table decides */
        PORT_ANY_OF("outlook.office365.com:25", 1, 2, "outlook.office365.com"),
        BYP("outlook.office365.com:993", 2, "outlook.office365.com"),
    };
    struct o3b_config c;
    struct o3b_target t;
    struct o3b_decision d;

    o3b_config_init(&c);
    set1(&c, "AlsoBypass", ARGV("*.example.org", "intranet.example.net", "192.0.2.10"));
    set1(&c, "AlsoBypass", ARGV("198.51.100.0/24,", "[2001:db8::5]", "outlook.office365.com"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    /* without any table AlsoBypass still applies */
    CU_ASSERT_EQUAL(o3b_target_parse_text("a.example.org", &t), O3B_TARGET_OK);
    o3b_decide(NULL, &c.policy, &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(d.verdict, O3B_BYPASS);
    CU_ASSERT_EQUAL(d.reason, O3B_R_ALSO);
    o3b_config_release(&c);
}

static void test_tenant_pinning_limits_tenant_wildcards_to_named_tenants(void)
{
    static const struct want rows[] = {
        BYP("contoso.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("contoso-my.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("contoso-files.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("contoso-myfiles.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("fabrikam.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("fabrikam-my.sharepoint.com", 31, "*.sharepoint.com"),
        INS("evil.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("contosoevil.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("evil-contoso.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("a.contoso.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("contoso-admin.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("contoso-my-files.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        INS("contoso.my.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        BYP("autodiscover.contoso.onmicrosoft.com", 8, "autodiscover.*.onmicrosoft.com"),
        BYP("autodiscover.contoso.mail.onmicrosoft.com", 8, "autodiscover.*.onmicrosoft.com"),
        INS("autodiscover.other.onmicrosoft.com", TENANT, 8, "autodiscover.*.onmicrosoft.com"),
        INS("autodiscover.a.contoso.onmicrosoft.com", TENANT, 8, "autodiscover.*.onmicrosoft.com"),
        BYP("contoso.onmicrosoft.com", 78, "*.onmicrosoft.com"),
        BYP("fabrikam.mail.onmicrosoft.com", 78, "*.onmicrosoft.com"),
        INS("other.onmicrosoft.com", TENANT, 78, "*.onmicrosoft.com"),
        /* wildcards outside the tenant namespaces, exact names and other sets'
           IPs: unchanged */
        BYP("eur.protection.outlook.com", 9, "*.protection.outlook.com"),
        BYP("a.lync.com", 12, "*.lync.com"),
        BYP("www.office.com", 147, "*.office.com"),
        BYP("outlook.office.com", 1, "outlook.office.com"),
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
        /* set 31's front doors serve every tenant: an IP literal says none */
        INS("52.104.0.1", TENANT, 31, "52.104.0.0/14"),
        /* TenantName without TenantDomain: no mail domain is yours */
        INS("contoso-com.mail.protection.outlook.com:25", TENANT, 10,
            "*.mail.protection.outlook.com"),
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("Contoso", "fabrikam"));
    set1(&c, "BypassCategories", ARGV("Optimize,Allow,Default"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
}

static void test_without_tenant_names_nothing_is_pinned(void)
{
    static const struct want rows[] = {
        BYP("evil.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("a.contoso.sharepoint.com", 31, "*.sharepoint.com"),
        BYP("autodiscover.other.onmicrosoft.com", 8, "autodiscover.*.onmicrosoft.com"),
    };
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "BypassCategories", ARGV("Optimize", "Allow", "Default"));
    finish(&c);
    RUN(real(WW), &c.policy, rows);
    o3b_config_release(&c);
}

/* Historical shapes ("*-my.sharepoint.com", more specific than
   "*.sharepoint.com") must not open an unpinned path around TenantName. */
static void test_tenant_pinning_covers_historical_star_inside_label_shapes(void)
{
    static const struct {
        const char *host;
        enum o3b_verdict verdict;
        unsigned set;
    } rows[] = {
        {"contoso-my.sharepoint.com", O3B_BYPASS, 2},
        {"contoso-files.sharepoint.com", O3B_BYPASS, 3},
        {"evil-my.sharepoint.com", O3B_INSPECT, 2},
        {"contoso-evil-my.sharepoint.com", O3B_INSPECT, 2},
        {"evil-files.sharepoint.com", O3B_INSPECT, 3},
        {"contoso.sharepoint.com", O3B_BYPASS, 1},
        {"evil.sharepoint.com", O3B_INSPECT, 1},
    };
    static const char *const urls[] = {"*.sharepoint.com", "*-my.sharepoint.com",
                                       "*-files.sharepoint.com"};
    o3b_table_builder *b = o3b_table_builder_new();
    struct o3b_config c;
    o3b_table *t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < 3; i++) {
        struct o3b_set_spec spec = {.id = (long long)i + 1,
                                    .service_area = "SharePoint",
                                    .category = "Optimize",
                                    .tcp_ports = "443",
                                    .required = true};
        CU_ASSERT_EQUAL(o3b_table_builder_add_set(b, &spec, NULL), 0);
        CU_ASSERT_EQUAL(o3b_table_builder_add_url(b, urls[i], strlen(urls[i]), NULL), 0);
    }
    t = o3b_table_builder_finish(&b, NULL, false, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("contoso"));
    finish(&c);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct o3b_target tg;
        struct o3b_decision d;

        CU_ASSERT_EQUAL_FATAL(o3b_target_parse_text(rows[i].host, &tg), O3B_TARGET_OK);
        o3b_decide(t, &c.policy, &tg, O3B_TARGET_OK, &d);
        if (d.verdict != rows[i].verdict || d.set == NULL || d.set->id != rows[i].set)
            fprintf(stderr, "\n  %s: verdict %d set %u\n", rows[i].host, (int)d.verdict,
                    d.set ? d.set->id : 0);
        CU_ASSERT_EQUAL(d.verdict, rows[i].verdict);
        CU_ASSERT_PTR_NOT_NULL(d.set);
        if (d.set)
            CU_ASSERT_EQUAL(d.set->id, rows[i].set);
        if (rows[i].verdict == O3B_INSPECT)
            CU_ASSERT_EQUAL(d.reason, O3B_R_TENANT);
    }
    o3b_config_release(&c);
    o3b_table_free(&t);
}

/* A feed may add names under a registrable domain the table in use already
   bypasses, in a set already bypassed (the grow guard lets that through):
   "evil.sharepoint.com" listed by name in set 31 of the real table is still
   another tenant's host, so pinning judges exact table hosts too. */
static void test_tenant_pinning_holds_for_an_exact_host_a_feed_adds(void)
{
    size_t len;
    char *json = o3b_read_file(real_paths[WW], 1u << 20, &len, NULL), *at, *poisoned;
    static const char needle[] = "\"*.sharepoint.com\"";
    static const char added[] = "\"evil.sharepoint.com\", \"contoso.sharepoint.com\", ";
    struct o3b_config with, without;
    o3b_table *t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    at = strstr(json, needle);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    poisoned = malloc(len + sizeof added);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poisoned);
    memcpy(poisoned, json, (size_t)(at - json));
    memcpy(poisoned + (at - json), added, sizeof added - 1);
    memcpy(poisoned + (at - json) + sizeof added - 1, at, len - (size_t)(at - json));
    t = o3b_load_json(poisoned, len + sizeof added - 1, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    o3b_config_init(&with);
    set1(&with, "TenantName", ARGV("contoso"));
    finish(&with);
    o3b_config_init(&without);
    finish(&without);
    {
        static const struct want pinned[] = {
            INS("evil.sharepoint.com", TENANT, 31, "evil.sharepoint.com"),
            INS("http://evil.sharepoint.com/", TENANT, 31, "evil.sharepoint.com"),
            BYP("contoso.sharepoint.com", 31, "contoso.sharepoint.com"),
            INS("fabrikam.sharepoint.com", TENANT, 31, "*.sharepoint.com"),
        };
        static const struct want unpinned[] = {
            BYP("evil.sharepoint.com", 31, "evil.sharepoint.com"),
        };
        RUN(t, &with.policy, pinned);
        RUN(t, &without.policy, unpinned);
    }
    o3b_config_release(&with);
    o3b_config_release(&without);
    o3b_table_free(&t);
    free(poisoned);
    free(json);
}

/* IP literals: with TenantName, an address whose winning set carries URLs
   of a pinned namespace is inspected; with TenantDomain only, the MX sets'
   addresses are; without either, nothing is. */
static void test_tenant_pinning_inspects_ip_literals_of_sets_serving_every_tenant(void)
{
    static const struct want none[] = {
        BYP("13.107.136.9:443", 31, "13.107.136.0/22"),
        BYP("[2603:1061:1300::5]:443", 31, "2603:1061:1300::/40"),
        BYP("40.92.0.1:25", 10, "40.92.0.0/15"),
        BYP("40.92.0.1:443", 9, "40.92.0.0/15"),
    };
    static const struct want tenant[] = {
        INS("13.107.136.9:443", TENANT, 31, "13.107.136.0/22"),
        INS("[2603:1061:1300::5]:443", TENANT, 31, "2603:1061:1300::/40"),
        INS("http://13.107.136.9/", TENANT, 31, "13.107.136.0/22"),
        /* set 10 (*.mail.protection.outlook.com) and set 9 (*.protection.outlook.com,
           the MX hosts' parent domain) */
        INS("40.92.0.1:25", TENANT, 10, "40.92.0.0/15"),
        INS("40.92.0.1:443", TENANT, 9, "40.92.0.0/15"),
        /* sets without tenant URLs: unchanged */
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
        BYP("[2603:1006::1]:443", 1, "2603:1006::/40"),
        BYP("52.112.0.1:443", 12, "52.112.0.0/14"),
    };
    static const struct want domain[] = {
        BYP("13.107.136.9:443", 31, "13.107.136.0/22"),
        INS("40.92.0.1:25", TENANT, 10, "40.92.0.0/15"),
        INS("40.92.0.1:443", TENANT, 9, "40.92.0.0/15"),
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
    };
    struct o3b_config c;

    RUN(real(WW), dflt(), none);
    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("contoso"));
    finish(&c);
    RUN(real(WW), &c.policy, tenant);
    o3b_config_release(&c);
    o3b_config_init(&c);
    set1(&c, "TenantDomain", ARGV("contoso.com"));
    finish(&c);
    RUN(real(WW), &c.policy, domain);
    o3b_config_release(&c);
}

/* MX hosts: <domain-with-dashes>.mail.protection.outlook.com and the DNSSEC
   form <domain-with-dashes>.<zone>.mx.microsoft, on the real tables. */
static void test_tenant_domain_pins_mx_hosts_to_your_mail_domains(void)
{
    static const struct want none[] = {
        BYP("contoso-com.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        BYP("evil-com.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        BYP("evil-com.o-v1.mx.microsoft:25", 10, "*.mx.microsoft"),
        BYP("evil-com.mail.protection.outlook.com:443", 9, "*.protection.outlook.com"),
    };
    static const struct want pinned[] = {
        BYP("contoso-com.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        BYP("fabrikam-co-uk.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        BYP("fabrikam-com01b.mail.protection.outlook.com:25", 10, "*.mail.protection.outlook.com"),
        INS("evil-com.mail.protection.outlook.com:25", TENANT, 10, "*.mail.protection.outlook.com"),
        INS("contoso.mail.protection.outlook.com:25", TENANT, 10, "*.mail.protection.outlook.com"),
        INS("x.contoso-com.mail.protection.outlook.com:25", TENANT, 10,
            "*.mail.protection.outlook.com"),
        BYP("contoso-com.o-v1.mx.microsoft:25", 10, "*.mx.microsoft"),
        BYP("contoso-com.a-v1.mx.microsoft:25", 10, "*.mx.microsoft"),
        INS("evil-com.o-v1.mx.microsoft:25", TENANT, 10, "*.mx.microsoft"),
        INS("contoso-com.o-v1.x.mx.microsoft:25", TENANT, 10, "*.mx.microsoft"),
        INS("o-v1.mx.microsoft:25", TENANT, 10, "*.mx.microsoft"),
        /* port 443: set 9's wider *.protection.outlook.com decides, pinned the same */
        BYP("contoso-com.mail.protection.outlook.com:443", 9, "*.protection.outlook.com"),
        INS("evil-com.mail.protection.outlook.com:443", TENANT, 9, "*.protection.outlook.com"),
        /* not in an MX namespace: unpinned */
        BYP("eur.protection.outlook.com", 9, "*.protection.outlook.com"),
        BYP("mail.protection.outlook.com", 9, "*.protection.outlook.com"),
        /* SharePoint is pinned by TenantName only */
        BYP("evil.sharepoint.com", 31, "*.sharepoint.com"),
    };
    static const struct want gcch[] = {
        BYP("contoso-com.mail.protection.office365.us:25", 6, "*.protection.office365.us"),
        INS("evil-com.mail.protection.office365.us:25", TENANT, 6, "*.protection.office365.us"),
        BYP("contoso-com.usgovcloud-mx.microsoft:25", 6, "*.usgovcloud-mx.microsoft"),
        INS("evil-com.usgovcloud-mx.microsoft:25", TENANT, 6, "*.usgovcloud-mx.microsoft"),
        BYP("x.protection.office365.us:443", 6, "*.protection.office365.us"),
    };
    static const struct want china[] = {
        BYP("contoso-com.mail.protection.partner.outlook.cn:25", 2,
            "*.protection.partner.outlook.cn"),
        INS("evil-com.mail.protection.partner.outlook.cn:25", TENANT, 2,
            "*.protection.partner.outlook.cn"),
        /* 993: set 20's *.partner.outlook.cn is the rule, still an MX host */
        INS("evil-com.mail.protection.partner.outlook.cn:993", TENANT, 20, "*.partner.outlook.cn"),
    };
    struct o3b_config c;

    RUN(real(WW), dflt(), none);
    o3b_config_init(&c);
    set1(&c, "TenantDomain", ARGV("Contoso.COM", "fabrikam.co.uk"));
    set1(&c, "TenantDomain", ARGV("fabrikam-com01b.mail.protection.outlook.com"));
    finish(&c);
    RUN(real(WW), &c.policy, pinned);
    RUN(real(GCCH), &c.policy, gcch);
    RUN(real(CHINA), &c.policy, china);
    o3b_config_release(&c);
}

/* One synthetic one-set table per pattern: does tenant pinning (TenantName
   contoso, TenantDomain contoso.com) let the host through? */
struct pin_row {
    const char *pattern; /* "@" stands for the namespace */
    const char *host;    /* "@" likewise */
    bool bypass;
};

/* `tmpl` with its '@' replaced by `ns`. */
static void fill_in(char *out, size_t size, const char *tmpl, const char *ns)
{
    const char *at = strchr(tmpl, '@');

    if (at == NULL)
        snprintf(out, size, "%s", tmpl);
    else
        snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, ns, at + 1);
}

static bool pin_row_holds(const struct o3b_policy *p, const struct pin_row *r, const char *ns)
{
    char pattern[256], host[256];
    struct o3b_set_spec spec = {.id = 7,
                                .service_area = "SharePoint",
                                .category = "Optimize",
                                .tcp_ports = "25,80,443",
                                .required = true};
    o3b_table_builder *b = o3b_table_builder_new();
    o3b_table *t = NULL;
    struct o3b_target target;
    struct o3b_decision d;
    bool ok = false;

    fill_in(pattern, sizeof pattern, r->pattern, ns);
    fill_in(host, sizeof host, r->host, ns);
    if (b != NULL && o3b_table_builder_add_set(b, &spec, NULL) == 0 &&
        o3b_table_builder_add_url(b, pattern, strlen(pattern), NULL) == 0)
        t = o3b_table_builder_finish(&b, NULL, false, NULL);
    o3b_table_builder_free(&b);
    if (t != NULL && o3b_target_parse_text(host, &target) == O3B_TARGET_OK) {
        o3b_decide(t, p, &target, O3B_TARGET_OK, &d);
        ok = d.entry != NULL && strcmp(d.entry->text, pattern) == 0 &&
             (r->bypass ? d.verdict == O3B_BYPASS
                        : d.verdict == O3B_INSPECT && d.reason == O3B_R_TENANT);
    }
    if (!ok)
        fprintf(stderr, "\n  pattern %s, host %s: expected %s\n", pattern, host,
                r->bypass ? "bypass" : "inspect (tenant)");
    o3b_table_free(&t);
    return ok;
}

static void run_pin_rows(const struct o3b_policy *p, const struct pin_row *rows, size_t n,
                         const char *const *namespaces, size_t n_ns)
{
    for (size_t k = 0; k < n_ns; k++)
        for (size_t i = 0; i < n; i++)
            CU_ASSERT_TRUE(pin_row_holds(p, &rows[i], namespaces[k]));
}

#define PIN_ROWS(p, rows, ns)                                                                      \
    run_pin_rows(p, rows, sizeof rows / sizeof rows[0], ns, sizeof ns / sizeof ns[0])

static void test_tenant_pinning_holds_for_one_two_and_three_stars_over_every_namespace(void)
{
    static const char *const sharepoint[] = {"sharepoint.com", "sharepoint.us", "sharepoint-mil.us",
                                             "sharepoint.de", "sharepoint.cn"};
    static const char *const routing[] = {
        "onmicrosoft.com", "mail.onmicrosoft.com", "onmicrosoft.us",      "mail.onmicrosoft.us",
        "onmicrosoft.de",  "onmschina.cn",         "partner.onmschina.cn"};
    static const char *const mx[] = {"mail.protection.outlook.com", "mail.protection.office365.us",
                                     "mail.protection.partner.outlook.cn"};
    static const char *const zoned[] = {"mx.microsoft", "usgovcloud-mx.microsoft"};
    static const struct pin_row sp_rows[] = {
        {"*.@", "contoso.@", true},
        {"*.@", "contoso-myfiles.@", true},
        {"*.@", "evil.@", false},
        {"*.@", "a.contoso.@", false},
        {"**.@", "contoso-my.@", true},
        {"**.@", "evil.@", false},
        {"*.*.@", "contoso.x.@", false},
        {"*-*.@", "contoso-files.@", true},
        {"*-*.@", "evil-my.@", false},
        {"x.*.@", "x.contoso.@", true},
        {"x.*.@", "x.evil.@", false},
        {"***.@", "contoso.@", true},
        {"***.@", "evil-my.@", false},
        {"*.*.*.@", "a.b.contoso.@", false},
        {"c*n*s*.@", "contoso-my.@", true},
        {"c*n*s*.@", "consevil.@", false},
        {"*-*-*.@", "contoso-my-files.@", false},
    };
    static const struct pin_row routing_rows[] = {
        {"*.@", "contoso.@", true},
        {"*.@", "evil.@", false},
        {"autodiscover.*.@", "autodiscover.contoso.@", true},
        {"autodiscover.*.@", "autodiscover.evil.@", false},
        {"autodiscover.*.@", "autodiscover.a.contoso.@", false},
        {"**.@", "contoso.@", true},
        {"**.@", "evil.@", false},
        {"*.*.@", "x.contoso.@", false},
        {"a.*.*.@", "a.x.evil.@", false},
        {"***.@", "contoso.@", true},
        {"*.*.*.@", "a.b.contoso.@", false},
        {"c*n*s*.@", "contoso.@", true},
        {"c*n*s*.@", "consevil.@", false},
    };
    static const struct pin_row mx_rows[] = {
        {"*.@", "contoso-com.@", true},        {"*.@", "evil-com.@", false},
        {"*.@", "contoso.@", false},           {"**.@", "contoso-com.@", true},
        {"**.@", "x.contoso-com.@", false},    {"*.*.@", "a.contoso-com.@", false},
        {"*-*.@", "contoso-com.@", true},      {"*-*.@", "evil-com.@", false},
        {"*-*-*.@", "contoso-com-x.@", false}, {"c*s*-*.@", "contoso-com.@", true},
    };
    static const struct pin_row zoned_rows[] = {
        {"*.@", "contoso-com.o-v1.@", true},
        {"*.@", "contoso-com.@", true},
        {"*.@", "evil-com.o-v1.@", false},
        {"*.@", "contoso-com.a.b.@", false},
        {"*.@", "o-v1.@", false},
        {"**.@", "contoso-com.z-v9.@", true},
        {"*.*.@", "contoso-com.a-v1.@", true},
        {"*.*.@", "evil-com.a-v1.@", false},
        {"*-*.*.@", "contoso-com.b-v1.@", true},
        {"*-*.*.@", "evil-com.b-v1.@", false},
    };
    /* wider and narrower wildcards over a namespace: what the host names counts */
    static const struct pin_row others[] = {
        {"*.protection.outlook.com", "contoso-com.mail.protection.outlook.com", true},
        {"*.protection.outlook.com", "evil-com.mail.protection.outlook.com", false},
        {"*.outlook.com", "evil-com.mail.protection.outlook.com", false},
        {"*.partner.outlook.cn", "evil-com.mail.protection.partner.outlook.cn", false},
        {"*.x.sharepoint.com", "y.x.sharepoint.com", false},
        {"*.contoso.sharepoint.com", "y.contoso.sharepoint.com", false},
        {"*.onmicrosoft.com", "contoso.mail.onmicrosoft.com", true},
        {"*.onmicrosoft.com", "evil.mail.onmicrosoft.com", false},
    };
    static const char *const none[] = {""};
    struct o3b_config c;

    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("contoso"));
    set1(&c, "TenantDomain", ARGV("contoso.com"));
    finish(&c);
    PIN_ROWS(&c.policy, sp_rows, sharepoint);
    PIN_ROWS(&c.policy, routing_rows, routing);
    PIN_ROWS(&c.policy, mx_rows, mx);
    PIN_ROWS(&c.policy, zoned_rows, zoned);
    PIN_ROWS(&c.policy, others, none);
    o3b_config_release(&c);
}

static void test_tenant_names_are_dns_labels(void)
{
    static const char *const good[] = {
        "contoso", "Contoso", "a",
        "a-b",     "x1",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad[] = {
        "",
        "-a",
        "a-",
        "a.b",
        "a_b",
        "a b",
        "*",
        "contoso.sharepoint.com",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT_TRUE(o3b_tenant_name_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_FALSE(o3b_tenant_name_valid(bad[i]));
}

/* ---- the informational header value ------------------------------------------------ */

static void format_of(const o3b_table *table, const struct o3b_policy *p, const char *text,
                      char *buf, size_t size)
{
    struct o3b_target t;
    struct o3b_decision d;

    CU_ASSERT_EQUAL(o3b_target_parse_text(text, &t), O3B_TARGET_OK);
    o3b_decide(table, p, &t, O3B_TARGET_OK, &d);
    o3b_decision_format(&d, buf, size);
}

static void test_decision_format_names_set_category_area_and_match(void)
{
    static const struct {
        const char *target, *text;
    } rows[] = {
        {"outlook.office.com",
         "bypass; set=1; category=Optimize; area=Exchange; match=outlook.office.com"},
        {"contoso.sharepoint.com",
         "bypass; set=31; category=Optimize; area=SharePoint; match=*.sharepoint.com"},
        {"[2603:1006::1]:443", "bypass; set=1; category=Optimize; area=Exchange; "
                               "match=2603:1006::/40"},
        {"example.com", "inspect; reason=not-listed"},
        {"x.mail.protection.outlook.com:443", "bypass; set=9; category=Allow; area=Exchange; "
                                              "match=*.protection.outlook.com"},
        {"x.mail.protection.outlook.com:8443",
         "inspect; reason=port; set=10; category=Allow; "
         "area=Exchange; match=*.mail.protection.outlook.com"},
        {"www.office.com", "inspect; reason=category; set=147; category=Default; area=Common; "
                           "match=*.office.com"},
        {"teams.microsoft.com",
         "bypass; set=12; category=Allow; area=Skype; match=teams.microsoft.com"},
    };
    char buf[256];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        format_of(real(WW), dflt(), rows[i].target, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(buf, rows[i].text);
    }
}

static void test_decision_format_for_lists_and_truncation(void)
{
    struct o3b_config c;
    struct o3b_target t;
    struct o3b_decision d;
    char buf[256], small[10];

    o3b_config_init(&c);
    set1(&c, "NeverBypass", ARGV("outlook.office.com"));
    set1(&c, "AlsoBypass", ARGV("*.example.org"));
    finish(&c);
    format_of(real(WW), &c.policy, "outlook.office.com", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "inspect; reason=never-bypass; match=outlook.office.com");
    format_of(real(WW), &c.policy, "a.example.org", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "bypass; reason=also-bypass; match=*.example.org");
    CU_ASSERT_EQUAL(o3b_target_parse_text("outlook.office365.com", &t), O3B_TARGET_OK);
    o3b_decide(real(WW), &c.policy, &t, O3B_TARGET_OK, &d);
    CU_ASSERT_EQUAL(o3b_decision_format(&d, small, sizeof small), 9);
    CU_ASSERT_STRING_EQUAL(small, "bypass; s");
    CU_ASSERT_EQUAL(o3b_decision_format(&d, small, 0), 0);
    CU_ASSERT_EQUAL(o3b_decision_format(&d, buf, sizeof buf), strlen(buf));
    o3b_config_release(&c);
}

static void test_reason_names_and_texts_are_distinct(void)
{
    for (int i = 0; i < O3B_R_COUNT; i++) {
        const char *name = o3b_reason_name((enum o3b_reason)i);
        /* a token that can go into a header value as is */
        CU_ASSERT_TRUE(name[0] != '\0' &&
                       strspn(name, "abcdefghijklmnopqrstuvwxyz-") == strlen(name));
        CU_ASSERT_TRUE(strlen(o3b_reason_text((enum o3b_reason)i)) > 20);
        for (int k = 0; k < i; k++)
            CU_ASSERT_STRING_NOT_EQUAL(o3b_reason_name((enum o3b_reason)i),
                                       o3b_reason_name((enum o3b_reason)k));
    }
    CU_ASSERT_STRING_EQUAL(o3b_reason_name(O3B_R_COUNT), "?");
}

/* ---- other instances --------------------------------------------------------------- */

static void test_china_table(void)
{
    static const struct want rows[] = {
        BYP("contoso.sharepoint.cn", 4, "*.sharepoint.cn"),
        BYP("partner.outlook.cn", 1, "partner.outlook.cn"),
        /* *.partner.outlook.cn: set 12 Default (80,443) and set 20 Allow (587,993,995) */
        INS("x.partner.outlook.cn:443", CATEGORY, 12, "*.partner.outlook.cn"),
        BYP("x.partner.outlook.cn:993", 20, "*.partner.outlook.cn"),
        /* *.protection.partner.outlook.cn: set 2 Allow and set 18 Default both on 443 */
        BYP("x.protection.partner.outlook.cn:443", 2, "*.protection.partner.outlook.cn"),
        BYP("x.protection.partner.outlook.cn:53", 2, "*.protection.partner.outlook.cn"),
        INS("login.microsoftonline.com", CATEGORY, 13, "login.microsoftonline.com"),
        NOT_LISTED("outlook.office.com"),
        NOT_LISTED("contoso.sharepoint.com"),
    };
    static const struct want pinned[] = {
        BYP("contoso.sharepoint.cn", 4, "*.sharepoint.cn"),
        INS("evil.sharepoint.cn", TENANT, 4, "*.sharepoint.cn"),
        BYP("contoso.onmschina.cn", 8, "*.onmschina.cn"),
        BYP("contoso.partner.onmschina.cn", 8, "*.onmschina.cn"),
        INS("evil.onmschina.cn", TENANT, 8, "*.onmschina.cn"),
    };
    struct o3b_config c;

    RUN(real(CHINA), dflt(), rows);
    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("contoso"));
    finish(&c);
    RUN(real(CHINA), &c.policy, pinned);
    o3b_config_release(&c);
}

static void test_gcc_high_table(void)
{
    static const struct want rows[] = {
        INS("autodiscover.contoso.mail.onmicrosoft.us", CATEGORY, 4,
            "autodiscover.*.mail.onmicrosoft.us"),
        INS("autodiscover.contoso.onmicrosoft.us", CATEGORY, 4, "autodiscover.*.onmicrosoft.us"),
        BYP("outlook.office365.us", 1, "outlook.office365.us"),
        INS("outlook.office365.us:993", CATEGORY, 5, "outlook.office365.us"),
        BYP("contoso.sharepoint.us", 9, "*.sharepoint.us"),
        BYP("x.gov.online.office365.us", 11, "*.gov.online.office365.us"),
        INS("x.office365.us", CATEGORY, 23, "*.office365.us"),
        /* scc.office365.us: sets 6 (25,443) and 26 (80,443), both Allow */
        BYP("scc.office365.us:443", 6, "scc.office365.us"),
        BYP("scc.office365.us:80", 26, "scc.office365.us"),
        BYP("scc.office365.us:25", 6, "scc.office365.us"),
        NOT_LISTED("outlook.office.com"),
    };
    static const struct want pinned[] = {
        BYP("autodiscover.contoso.mail.onmicrosoft.us", 4, "autodiscover.*.mail.onmicrosoft.us"),
        INS("autodiscover.other.mail.onmicrosoft.us", TENANT, 4,
            "autodiscover.*.mail.onmicrosoft.us"),
        BYP("contoso.sharepoint.us", 9, "*.sharepoint.us"),
        INS("other.sharepoint.us", TENANT, 9, "*.sharepoint.us"),
    };
    struct o3b_config c;

    RUN(real(GCCH), dflt(), rows);
    o3b_config_init(&c);
    set1(&c, "TenantName", ARGV("contoso"));
    set1(&c, "BypassCategories", ARGV("Optimize", "Allow", "Default"));
    finish(&c);
    RUN(real(GCCH), &c.policy, pinned);
    o3b_config_release(&c);
}

static void test_later_worldwide_table_dropped_ipv6_and_set_105(void)
{
    static const struct want rows[] = {
        BYP("52.96.1.1", 1, "52.96.0.0/14"),
        NOT_LISTED("[2603:1006::1]:443"),
        NOT_LISTED("www.acompli.com"),
        INS("a.static.microsoft", CATEGORY, 193, "*.static.microsoft"),
        INS("a.cloud.microsoft", CATEGORY, 184, "*.cloud.microsoft"),
    };
    RUN(real(WW_LATER), dflt(), rows);
}

/* ---- the hostile corpus ---------------------------------------------------------------- */

struct corpus_run {
    unsigned rows, failures, bypassed, decrypted;
};

/* The default policy with DecryptedRequests sni-bound. */
static const struct o3b_policy *sni_bound(void)
{
    static struct o3b_policy p;
    static bool done;

    if (!done) {
        o3b_policy_init(&p);
        p.decrypted = O3B_DECRYPTED_SNI_BOUND;
        done = true;
    }
    return &p;
}

static bool corpus_mismatch(unsigned lineno, const char *want, const char *mode,
                            const struct o3b_decision *d)
{
    char got[512];

    o3b_decision_format(d, got, sizeof got);
    fprintf(stderr, "\n  hostile-targets.tsv:%u: expected %s (%s), got '%s'\n", lineno, want, mode,
            got);
    return false;
}

/* Column 3: "bypass" and "inspect" hold with and without SNI binding;
   "decrypted" is inspected by default (reason decrypted) and bypassed in
   sni-bound mode when the client's SNI is the request's host. */
static bool corpus_row(unsigned lineno, struct corpus_row *r, const char *malformed, void *ud)
{
    struct corpus_run *cr = ud;
    const char *want = r->fields[2];
    bool decrypted = strcmp(want, "decrypted") == 0;
    struct o3b_target t;
    struct o3b_decision d;
    enum o3b_target_status st;

    if (malformed != NULL) {
        fprintf(stderr, "\n  hostile-targets.tsv:%u: %s\n", lineno, malformed);
        return false;
    }
    st = o3b_target_parse(r->bufs[0], (size_t)r->line_len, r->hosts, r->host_lens, r->n_hosts, &t);
    o3b_decide(real(WW), dflt(), &t, st, &d);
    cr->bypassed += d.verdict == O3B_BYPASS;
    if (decrypted ? d.verdict != O3B_INSPECT || d.reason != O3B_R_DECRYPTED
                  : strcmp(want, d.verdict == O3B_BYPASS ? "bypass" : "inspect") != 0)
        return corpus_mismatch(lineno, want, "default policy", &d);
    if (st != O3B_TARGET_OK)
        return true;
    if (t.kind == O3B_KIND_NAME) /* clients send no SNI for an address */
        o3b_target_set_sni(&t, t.host, t.host_len);
    o3b_decide(real(WW), sni_bound(), &t, st, &d);
    if ((d.verdict == O3B_BYPASS) != (decrypted || strcmp(want, "bypass") == 0))
        return corpus_mismatch(lineno, want, "sni-bound, SNI = host", &d);
    cr->decrypted += decrypted;
    return true;
}

static void test_hostile_corpus_verdicts_match_the_real_table(void)
{
    struct corpus_run cr = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(real(WW));
    CU_ASSERT_EQUAL_FATAL(corpus_each_row(corpus_row, &cr, &cr.rows, &cr.failures), 0);
    printf(" [%u rows, %u bypassed, %u decrypted, %u mismatches] ", cr.rows, cr.bypassed,
           cr.decrypted, cr.failures);
    CU_ASSERT_EQUAL(cr.failures, 0);
    CU_ASSERT_TRUE(cr.decrypted >= 30);
    CU_ASSERT_TRUE(cr.rows >= 800);
    CU_ASSERT_TRUE(cr.bypassed >= 200);
    CU_ASSERT_TRUE(cr.bypassed < cr.rows);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_exact_hosts_match_themselves_only),
    O3B_TEST(test_star_dot_suffix_matches_any_depth_but_never_the_apex),
    O3B_TEST(test_middle_label_star_matches_one_or_more_labels),
    O3B_TEST(test_star_inside_the_first_label_matches_with_and_without_prefix),
    O3B_TEST(test_the_most_specific_level_decides),
    O3B_TEST(test_the_same_name_in_two_sets_is_split_by_port),
    O3B_TEST(test_ports_come_first_an_entry_for_other_ports_says_nothing_about_this_one),
    O3B_TEST(test_addresses_match_the_published_prefixes),
    O3B_TEST(test_nested_patterns_of_different_categories),
    O3B_TEST(test_nested_prefixes_longest_wins_whatever_the_category),
    O3B_TEST(test_ties_go_to_the_higher_category_then_the_first_set),
    O3B_TEST(test_index_port_zero_means_any_listed_port),
    O3B_TEST(test_index_entries_keep_kind_and_specificity),
    O3B_TEST(test_look_alikes_are_not_bypassed),
    O3B_TEST(test_refused_targets_are_inspected_with_the_status),
    O3B_TEST(test_decrypted_requests_are_inspected_unless_sni_bound),
    O3B_TEST(test_decrypted_rule_comes_before_also_and_never_bypass),
    O3B_TEST(test_decrypted_requests_directive_takes_two_values),
    O3B_TEST(test_default_config_policy_equals_default_policy),
    O3B_TEST(test_bypass_categories_with_default_bypasses_default_sets),
    O3B_TEST(test_service_areas_limit_what_is_bypassed),
    O3B_TEST(test_required_only_inspects_optional_sets),
    O3B_TEST(test_never_bypass_always_wins),
    O3B_TEST(test_never_bypass_takes_any_breadth_and_inspects_only_what_it_names),
    O3B_TEST(test_also_bypass_refuses_what_never_bypass_accepts),
    O3B_TEST(test_also_bypass_adds_web_ports_only),
    O3B_TEST(test_tenant_pinning_limits_tenant_wildcards_to_named_tenants),
    O3B_TEST(test_without_tenant_names_nothing_is_pinned),
    O3B_TEST(test_tenant_pinning_covers_historical_star_inside_label_shapes),
    O3B_TEST(test_tenant_pinning_holds_for_an_exact_host_a_feed_adds),
    O3B_TEST(test_tenant_pinning_inspects_ip_literals_of_sets_serving_every_tenant),
    O3B_TEST(test_tenant_domain_pins_mx_hosts_to_your_mail_domains),
    O3B_TEST(test_tenant_pinning_holds_for_one_two_and_three_stars_over_every_namespace),
    O3B_TEST(test_tenant_names_are_dns_labels),
    O3B_TEST(test_decision_format_names_set_category_area_and_match),
    O3B_TEST(test_decision_format_for_lists_and_truncation),
    O3B_TEST(test_reason_names_and_texts_are_distinct),
    O3B_TEST(test_china_table),
    O3B_TEST(test_gcc_high_table),
    O3B_TEST(test_later_worldwide_table_dropped_ipv6_and_set_105),
    O3B_TEST(test_hostile_corpus_verdicts_match_the_real_table),
};

O3B_UNIT_MAIN("matcher", tests)
