/* SPDX-License-Identifier: MIT */
/*
 * test_export.c - the verdict model and its PAC and Squid writers on a tiny
 * synthetic table.
 *
 * The table has one shape of each kind the exporter must handle: a bypassed
 * "*.a.com" with a bypassed exact host, a lower-category exact host and a
 * lower-category pattern under it, a pattern listed only for port 25, glob
 * shapes Squid's dstdomain cannot express, nested CIDRs of two categories,
 * and for tenant pinning SharePoint's wildcard and front doors and a wider
 * wildcard over the MX namespace.  The Squid lists are asserted per port
 * group (the one holding port 443 unless said).  The real tables are checked
 * against `lookup` with pacparser, a model of Squid's ACLs and `squid -k
 * parse` (tests/scripts/export-agree.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/export.h"
#include "o365bypass/loader.h"
#include "unit.h"

static const char feed[] =
    "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Optimize\", \"required\": true,"
    "  \"tcpPorts\": \"80,443\", \"urls\": [\"*.a.com\", \"x.example.com\"],"
    "  \"ips\": [\"10.1.0.0/16\", \"10.1.2.0/24\"]},"
    " {\"id\": 2, \"serviceArea\": \"Common\", \"category\": \"Default\", \"required\": true,"
    "  \"tcpPorts\": \"80,443\", \"urls\": [\"b.a.com\", \"*.c.a.com\", \"*.example.com\"],"
    "  \"ips\": [\"10.1.3.0/24\"]},"
    " {\"id\": 3, \"serviceArea\": \"Common\", \"category\": \"Allow\", \"required\": true,"
    "  \"tcpPorts\": \"443\", \"urls\": [\"autodiscover.*.onmicrosoft.com\","
    "  \"*cdn.onenote.net\", \"d.a.com\"]},"
    " {\"id\": 4, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true,"
    "  \"tcpPorts\": \"25\", \"urls\": [\"*.smtp.a.com\"]},"
    " {\"id\": 5, \"serviceArea\": \"SharePoint\", \"category\": \"Optimize\", \"required\": true,"
    "  \"tcpPorts\": \"80,443\", \"urls\": [\"*.sharepoint.com\"], \"ips\": [\"13.107.136.0/22\"]},"
    " {\"id\": 6, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true,"
    "  \"tcpPorts\": \"443\", \"urls\": [\"*.protection.outlook.com\"]}]";

static o3b_table *table_new(void)
{
    o3b_err err;
    o3b_table *t = o3b_load_json(feed, strlen(feed), NULL, &err);

    if (t == NULL)
        fprintf(stderr, "feed: %s\n", err.msg);
    return t;
}

/* A finished policy: defaults plus the given tenants / lists (NULL-terminated). */
static void policy_new(struct o3b_policy *p, const char *const *tenants, const char *const *never,
                       const char *const *also)
{
    o3b_err err;

    o3b_policy_init(p);
    for (size_t i = 0; tenants && tenants[i]; i++)
        CU_ASSERT_EQUAL(o3b_policy_add_tenant(p, tenants[i], &err), 0);
    for (size_t i = 0; never && never[i]; i++)
        CU_ASSERT_EQUAL(o3b_policy_add_never(p, never[i], &err), 0);
    for (size_t i = 0; also && also[i]; i++)
        CU_ASSERT_EQUAL(o3b_policy_add_also(p, also[i], &err), 0);
    CU_ASSERT_EQUAL(o3b_policy_finish(p, &err), 0);
}

/* The Squid lists for `t` and `p` (the model is only needed while building). */
static o3b_squid_export *squid_for(const o3b_table *t, const struct o3b_policy *p)
{
    o3b_err err;
    o3b_export_model *m = o3b_export_model_build(t, p, &err);
    o3b_squid_export *x;

    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    x = o3b_squid_export_build(m, &err);
    CU_ASSERT_PTR_NOT_NULL(x);
    o3b_export_model_free(&m);
    CU_ASSERT_PTR_NULL(m);
    return x;
}

/* Is `item` in list `l` of the group holding `port`? */
static bool has_item_on(const o3b_squid_export *x, uint16_t port, enum o3b_squid_list l,
                        const char *item)
{
    size_t g = o3b_squid_export_group_of(x, port);

    for (size_t i = 0; i < o3b_squid_export_count(x, g, l); i++)
        if (strcmp(o3b_squid_export_item(x, g, l, i), item) == 0)
            return true;
    return false;
}

static bool has_item(const o3b_squid_export *x, enum o3b_squid_list l, const char *item)
{
    return has_item_on(x, 443, l, item);
}

static size_t count_of(const o3b_squid_export *x, enum o3b_squid_list l)
{
    return o3b_squid_export_count(x, o3b_squid_export_group_of(x, 443), l);
}

static const char *item_of(const o3b_squid_export *x, enum o3b_squid_list l, size_t i)
{
    return o3b_squid_export_item(x, o3b_squid_export_group_of(x, 443), l, i);
}

/* Run a writer into a memory buffer (caller frees). */
static char *pac_text(const o3b_table *t, const struct o3b_policy *p, const char *proxy, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    o3b_err err;
    o3b_export_model *m = o3b_export_model_build(t, p, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    *rc = o3b_export_pac(mem, m, proxy, "o365bypass test", &err);
    fclose(mem);
    o3b_export_model_free(&m);
    return buf;
}

/* ---- the model ---------------------------------------------------------------------- */

/* The row of the table entry with this text (the first one). */
static size_t row_of(const o3b_export_model *m, const char *text)
{
    size_t n;
    const struct o3b_export_row *rows = o3b_export_model_rows(m, &n);

    for (size_t i = 0; i < n; i++)
        if (rows[i].source == O3B_EXPORT_TABLE && strcmp(rows[i].entry->text, text) == 0)
            return i;
    return SIZE_MAX;
}

static void test_model_groups_ports_where_the_listing_rows_change(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_export_model *m;
    const struct o3b_export_group *g;
    size_t n;
    o3b_err err;

    policy_new(&p, NULL, NULL, NULL);
    m = o3b_export_model_build(t, &p, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    g = o3b_export_model_groups(m, &n);
    CU_ASSERT_EQUAL_FATAL(n, 3); /* 25, 80, 443: every other port bypasses nothing */
    CU_ASSERT_EQUAL(g[0].port, 25);
    CU_ASSERT_EQUAL(g[1].port, 80);
    CU_ASSERT_EQUAL(g[2].port, 443);
    CU_ASSERT_EQUAL(g[2].n_ranges, 1);
    CU_ASSERT_EQUAL(g[2].ranges[0].lo, 443);
    CU_ASSERT_EQUAL(g[2].ranges[0].hi, 443);
    /* the port-25 pattern wins only there; *.a.com on 80 and 443 */
    CU_ASSERT_TRUE(o3b_export_model_wins_on(m, row_of(m, "*.smtp.a.com"), 0));
    CU_ASSERT_FALSE(o3b_export_model_wins_on(m, row_of(m, "*.smtp.a.com"), 2));
    CU_ASSERT_TRUE(o3b_export_model_wins_on(m, row_of(m, "*.a.com"), 1));
    CU_ASSERT_TRUE(o3b_export_model_wins_on(m, row_of(m, "*.a.com"), 2));
    CU_ASSERT_FALSE(o3b_export_model_wins_on(m, row_of(m, "*.a.com"), 0));
    /* a prefix wins outside the prefixes nested in it */
    CU_ASSERT_TRUE(o3b_export_model_wins_on(m, row_of(m, "10.1.0.0/16"), 2));
    CU_ASSERT_TRUE(o3b_export_model_wins_on(m, row_of(m, "10.1.3.0/24"), 2));
    o3b_export_model_free(&m);
    CU_ASSERT_PTR_NULL(m);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static const char ties_feed[] =
    "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": false,"
    "  \"tcpPorts\": \"443\", \"urls\": [\"*.opt.example\", \"*.tie.example\"],"
    "  \"ips\": [\"10.7.0.0/16\"]},"
    " {\"id\": 2, \"serviceArea\": \"Exchange\", \"category\": \"Allow\", \"required\": true,"
    "  \"tcpPorts\": \"443\", \"urls\": [\"*.tie.example\"]}]";

/* The rows' verdicts are o3b_decide()'s: RequiredOnly, rank ties (the first
   set wins, the second never does) and prefixes alike. */
static void test_model_row_verdicts_are_the_decisions_of_their_probes(void)
{
    o3b_err err;
    o3b_table *t = o3b_load_json(ties_feed, strlen(ties_feed), NULL, &err);
    const struct o3b_export_row *rows;
    struct o3b_policy p;
    o3b_export_model *m;
    size_t n, opt, tie, tie2, net;

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (int required_only = 0; required_only <= 1; required_only++) {
        policy_new(&p, NULL, NULL, NULL);
        p.required_only = required_only;
        m = o3b_export_model_build(t, &p, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rows = o3b_export_model_rows(m, &n);
        CU_ASSERT_EQUAL(n, 4);
        opt = row_of(m, "*.opt.example");
        tie = row_of(m, "*.tie.example");
        net = row_of(m, "10.7.0.0/16");
        tie2 = n - 1; /* set 2's *.tie.example, added last */
        CU_ASSERT_STRING_EQUAL(rows[tie2].entry->text, "*.tie.example");
        CU_ASSERT_TRUE(rows[opt].wins);
        CU_ASSERT_EQUAL(rows[opt].verdict, required_only ? O3B_INSPECT : O3B_BYPASS);
        CU_ASSERT_EQUAL(rows[opt].reason, required_only ? O3B_R_OPTIONAL : O3B_R_TABLE);
        CU_ASSERT_EQUAL(rows[net].verdict, required_only ? O3B_INSPECT : O3B_BYPASS);
        CU_ASSERT_TRUE(rows[tie].wins);   /* set 1, listed first */
        CU_ASSERT_FALSE(rows[tie2].wins); /* set 2's: same rank, never the winner */
        CU_ASSERT_EQUAL(rows[tie2].verdict, O3B_INSPECT);
        CU_ASSERT_PTR_EQUAL(o3b_export_model_level(m, tie2, 0), &rows[tie]);
        o3b_export_model_free(&m);
        o3b_policy_release(&p);
    }
    o3b_table_free(&t);
}

/* ---- Squid ------------------------------------------------------------------------ */

static void test_squid_collapses_hosts_under_a_kept_suffix(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, ".a.com"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_DOMAINS, "d.a.com")); /* bypassed, covered */
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_DOMAINS, "b.a.com")); /* Default */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, "x.example.com"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_DOMAINS, ".example.com")); /* Default */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, ".sharepoint.com"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, ".protection.outlook.com"));
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_DOMAINS), 4);
    /* no pinning without TenantName / TenantDomain */
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_PINNED), 0);
    o3b_squid_export_free(&x);
    CU_ASSERT_PTR_NULL(x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_squid_inspects_apexes_and_lower_category_hosts(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "a.com"));          /* apex */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "sharepoint.com")); /* apex */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "protection.outlook.com"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "b.a.com"));  /* Default */
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "d.a.com")); /* bypassed */
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_INSPECT_DOMAINS), 4);
    /* more specific patterns that are not bypassed on 80/443 */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_REGEX, "\\.c\\.a\\.com$"));
    /* port first: *.smtp.a.com is for port 25 only, so on 80/443 *.a.com is the
       rule for x.smtp.a.com (bypassed): nothing to inspect */
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_INSPECT_REGEX, "\\.smtp\\.a\\.com$"));
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_INSPECT_REGEX), 1);
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_squid_writes_middle_star_and_prefix_globs_as_regexes(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_REGEX, "^autodiscover\\..*\\.onmicrosoft\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_REGEX, "cdn\\.onenote\\.net$"));
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_REGEX), 2);
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_squid_collapses_cidrs_and_inspects_inner_default_prefix(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_DST), 2);
    CU_ASSERT_STRING_EQUAL(item_of(x, O3B_SQUID_DST, 0), "10.1.0.0/16");
    CU_ASSERT_STRING_EQUAL(item_of(x, O3B_SQUID_DST, 1), "13.107.136.0/22");
    CU_ASSERT_EQUAL(count_of(x, O3B_SQUID_INSPECT_DST), 1);
    CU_ASSERT_STRING_EQUAL(item_of(x, O3B_SQUID_INSPECT_DST, 0), "10.1.3.0/24");
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* Pinning: the bypassed wildcards stay; their pinned namespaces and your
   hosts in them are two more lists (inspected: in the first, not in the
   second); SharePoint's front doors are inspected. */
static void test_squid_pins_tenant_namespaces_to_your_hosts(void)
{
    static const char *const tenants[] = {"contoso", NULL};
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;
    o3b_err err;

    o3b_policy_init(&p);
    CU_ASSERT_EQUAL(o3b_policy_add_tenant(&p, tenants[0], &err), 0);
    CU_ASSERT_EQUAL(o3b_policy_add_tenant_domain(&p, "contoso.com", &err), 0);
    CU_ASSERT_EQUAL(o3b_policy_finish(&p, &err), 0);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, ".sharepoint.com"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_REGEX, "^autodiscover\\..*\\.onmicrosoft\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_PINNED, "\\.sharepoint\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_PINNED, "\\.onmicrosoft\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_PINNED, "\\.mail\\.protection\\.outlook\\.com$"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_PINNED, "\\.mx\\.microsoft$")); /* no such entry */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_PINNED_OWN, "^contoso\\.sharepoint\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_PINNED_OWN, "^contoso-myfiles\\.sharepoint\\.com$"));
    CU_ASSERT_TRUE(
        has_item(x, O3B_SQUID_PINNED_OWN, "^autodiscover\\.contoso\\.onmicrosoft\\.com$"));
    CU_ASSERT_TRUE(
        has_item(x, O3B_SQUID_PINNED_OWN, "^contoso-com\\.mail\\.protection\\.outlook\\.com$"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_PINNED_OWN, "^evil\\.sharepoint\\.com$"));
    /* the front doors of every tenant */
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_DST, "13.107.136.0/22"));
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* Squid reads 0.0.0.0/0 as "all" and matches IPv4 against IPv6 entries
   over ::ffff:0:0/96: the lists say exactly what NeverBypass means. */
static void test_squid_writes_never_bypass_slash_zero_as_squid_reads_it(void)
{
    static const char *const never[] = {"0.0.0.0/0", "::/0", "*", NULL};
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;
    size_t v6 = 0;

    policy_new(&p, NULL, never, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "0.0.0.0/1"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "128.0.0.0/1"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_INSPECT_DST, "0.0.0.0/0"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_INSPECT_DST, "::/0"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "8000::/1"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "::1:0:0:0/80"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "::/81"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "::fffe:0:0/96"));
    for (size_t i = 0; i < count_of(x, O3B_SQUID_INSPECT_DST); i++)
        v6 += strchr(item_of(x, O3B_SQUID_INSPECT_DST, i), ':') != NULL;
    CU_ASSERT_EQUAL(v6, 96);                                   /* ::/0 without ::ffff:0:0/96 */
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_REGEX, "$")); /* every name */
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_squid_sends_never_bypass_to_the_inspect_lists(void)
{
    static const char *const never[] = {"evil.a.com", "*.bad.a.com", "10.1.9.0/24", NULL};
    static const char *const also[] = {"intranet.example.org", NULL};
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, never, also);
    x = squid_for(t, &p);
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DOMAINS, "evil.a.com"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_REGEX, "\\.bad\\.a\\.com$"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_INSPECT_DST, "10.1.9.0/24"));
    CU_ASSERT_TRUE(has_item(x, O3B_SQUID_DOMAINS, "intranet.example.org"));
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* Run the snippet (tls = false) or the TLS file writer into memory. */
static char *conf_text(const o3b_squid_export *x, const char *dir, bool tls)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);

    CU_ASSERT_EQUAL((tls ? o3b_squid_export_tls_conf : o3b_squid_export_conf)(x, dir, mem), 0);
    fclose(mem);
    return buf;
}

static void test_squid_files_and_conf_name_every_list(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;
    char *buf = NULL, *conf, name[160];
    size_t len = 0, g443;
    FILE *mem;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    g443 = o3b_squid_export_group_of(x, 443);
    mem = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(o3b_squid_export_write(x, g443, O3B_SQUID_DOMAINS, mem), 0);
    fclose(mem);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n.a.com\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# o365bypass-443-domains.txt - "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "TCP ports 443."));
    conf = conf_text(x, "/etc/squid/o365", false);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        conf,
        "acl o365bypass_443_domains dstdomain -n \"/etc/squid/o365/o365bypass-443-domains.txt\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "acl o365bypass_443_port port 443\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "acl o365bypass_443_listed any-of o365bypass_443_domains"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(conf, "acl o365bypass all-of o365bypass_443_port o365bypass_443_listed\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(conf, "acl o365bypass_inspect all-of o365bypass_443_port o365bypass_443_inspect\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "acl o365bypass_inspect all-of o365bypass_decrypted\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "# adaptation_access dlp_chain deny o365bypass "
                                        "!o365bypass_inspect\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "# include /etc/squid/o365/o365bypass-tls.conf\n"));
    CU_ASSERT_STRING_EQUAL(o3b_squid_file_name(x, g443, O3B_SQUID_REGEX, name, sizeof name),
                           "o365bypass-443-domains-regex.txt");
    free(conf);
    free(buf);
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_squid_conf_comments_out_empty_lists(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;
    char *conf;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(NULL, &p); /* no table: no group, nothing bypassed */
    CU_ASSERT_EQUAL(o3b_squid_export_groups(x), 0);
    conf = conf_text(x, "/d", false);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "acl o365bypass dstdomain o365bypass.invalid"));
    CU_ASSERT_PTR_NULL(strstr(conf, "_domains "));
    free(conf);
    o3b_squid_export_free(&x);
    x = squid_for(t, &p); /* port 25 bypasses one pattern: no regex, no dst */
    conf = conf_text(x, "/d", false);
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "# acl o365bypass_25_domains_regex dstdom_regex"));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "# acl o365bypass_25_dst dst"));
    CU_ASSERT_PTR_NULL(strstr(conf, "\nacl o365bypass_25_dst "));
    CU_ASSERT_PTR_NOT_NULL(strstr(conf, "\nacl o365bypass_25_domains dstdomain"));
    free(conf);
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* Ports are encoded: each group of ports gets its own lists, and ports no
   bypassed entry lists get none at all. */
static void test_squid_keeps_each_entry_on_its_ports(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    CU_ASSERT_EQUAL(o3b_squid_export_groups(x), 3); /* 25, 80, 443 */
    CU_ASSERT_STRING_EQUAL(o3b_squid_export_group_label(x, o3b_squid_export_group_of(x, 25)), "25");
    CU_ASSERT_EQUAL(o3b_squid_export_group_of(x, 8443), SIZE_MAX);
    CU_ASSERT_EQUAL(o3b_squid_export_group_of(x, 26), SIZE_MAX);
    CU_ASSERT_TRUE(has_item_on(x, 25, O3B_SQUID_DOMAINS, ".smtp.a.com"));
    CU_ASSERT_TRUE(has_item_on(x, 25, O3B_SQUID_INSPECT_DOMAINS, "smtp.a.com")); /* apex */
    CU_ASSERT_FALSE(has_item_on(x, 25, O3B_SQUID_DOMAINS, ".a.com"));
    CU_ASSERT_FALSE(has_item(x, O3B_SQUID_DOMAINS, ".smtp.a.com"));
    /* set 3 (443 only) on port 80: d.a.com is *.a.com's again, and the globs are out */
    CU_ASSERT_TRUE(has_item_on(x, 80, O3B_SQUID_DOMAINS, ".a.com"));
    CU_ASSERT_EQUAL(o3b_squid_export_count(x, o3b_squid_export_group_of(x, 80), O3B_SQUID_REGEX),
                    0);
    CU_ASSERT_FALSE(has_item_on(x, 80, O3B_SQUID_DOMAINS, ".protection.outlook.com"));
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* The static splice: the same lists as ssl::server_name ACLs, tied to their
   ports, and the ssl_bump line at step 1. */
static void test_squid_tls_file_splices_the_lists_at_step_one(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    o3b_squid_export *x;
    char *tls;

    policy_new(&p, NULL, NULL, NULL);
    x = squid_for(t, &p);
    tls = conf_text(x, "/etc/squid/o365", true);
    CU_ASSERT_PTR_NOT_NULL(strstr(tls, "acl o365bypass_443_sni_domains ssl::server_name "
                                       "\"/etc/squid/o365/o365bypass-443-domains.txt\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tls, "acl o365bypass_443_sni_domains_regex "
                                       "ssl::server_name_regex -i "));
    CU_ASSERT_PTR_NOT_NULL(strstr(tls,
                                  "acl o365bypass_443_tls_listed any-of "
                                  "o365bypass_443_sni_domains o365bypass_443_sni_domains_regex "
                                  "o365bypass_443_dst\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(tls, "acl o365bypass_tls all-of o365bypass_25_port o365bypass_25_tls_listed\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tls, "acl o365bypass_step1 at_step SslBump1\n"
                                       "ssl_bump splice o365bypass_step1 o365bypass_tls "
                                       "!o365bypass_tls_inspect\n"));
    CU_ASSERT_PTR_NULL(strstr(tls, "dstdomain"));
    free(tls);
    o3b_squid_export_free(&x);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

/* ---- PAC ---------------------------------------------------------------------------- */

static void test_pac_has_the_decision_function_and_one_row_per_entry(void)
{
    o3b_table *t = table_new();
    struct o3b_policy p;
    int rc;
    char *pac;

    policy_new(&p, NULL, NULL, NULL);
    pac = pac_text(t, &p, NULL, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "function FindProxyForURL(url, host) {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_PROXY = \"PROXY 127.0.0.1:3128\";"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "shExpMatch(h, e[0])"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "isInNet(ip, e[0], e[1])"));
    /* pattern, specificity, rank, ports, verdict, literal leading labels */
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"*.a.com\", 6, 2, [80, 80, 443, 443], 1, 0],"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"b.a.com\", 65535, 0, [80, 80, 443, 443], 0, 0]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"*.smtp.a.com\", 11, 1, [25, 25], 1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"*.sharepoint.com\", 15, 2, [80, 80, 443, 443], 1, 0]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"10.1.0.0\", \"255.255.0.0\", 16, 2, [80, 80, 443, 443], 1]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"13.107.136.0\", \"255.255.252.0\", 22, 2, [80, 80, 443, 443], 1]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "// set 2 Common Default"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_TENANTS = [];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_MX_LABELS = [];"));
    /* port first: the rows listing the port, then the most specific */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "if (!o3bPortIn(e[ports], port) || !matches(e, h)) continue;"));
    /* tenant.c's namespaces and forms */
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"sharepoint.com\", 1]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"mail.protection.outlook.com\", 3]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"mx.microsoft\", 4]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "var O3B_TENANT_FORMS = [[], [\"\", \"-my\", \"-files\", "
                    "\"-myfiles\"], [\"\", \".mail\", \".partner\"], [\"\"], [\"\"]];"));
    free(pac);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_pac_carries_tenants_and_local_lists(void)
{
    static const char *const tenants[] = {"Contoso", NULL};
    static const char *const never[] = {"evil.a.com", "10.1.9.0/24", NULL};
    static const char *const also[] = {"*.intranet.example.org", NULL};
    o3b_table *t = table_new();
    struct o3b_policy p;
    int rc;
    char *pac;

    policy_new(&p, tenants, never, also);
    CU_ASSERT_EQUAL(o3b_policy_add_tenant_domain(&p, "Contoso.com", NULL), 0);
    pac = pac_text(t, &p, "proxy.example.net:8080", &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_PROXY = \"PROXY proxy.example.net:8080\";"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_TENANTS = [\"contoso\"];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_MX_LABELS = [\"contoso-com\"];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "TenantDomain contoso.com (tenant pinning on)"));
    /* the host's tenant part starts after "autodiscover." (13 characters) */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"autodiscover.*.onmicrosoft.com\", 29, 1, [443, 443], 1, 13]"));
    /* SharePoint's front doors serve every tenant: PROXY for its IPv4 rows */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"13.107.136.0\", \"255.255.252.0\", 22, 2, [80, 80, 443, 443], 0]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"10.1.0.0\", \"255.255.0.0\", 16, 2, [80, 80, 443, 443], 1]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "var O3B_NEVER_HOSTS = [\n  [\"evil.a.com\", 65535, 0, "
                                       "[1, 65535], 0, 0]\n];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(pac, "[\"10.1.9.0\", \"255.255.255.0\", 24, 0, [1, 65535], 0]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(pac, "[\"*.intranet.example.org\", 21, 0, [80, 80, 443, 443], 1, 0]"));
    free(pac);
    o3b_policy_release(&p);
    o3b_table_free(&t);
}

static void test_pac_refuses_a_proxy_that_is_not_host_port(void)
{
    struct o3b_policy p;
    int rc;
    char *pac;

    policy_new(&p, NULL, NULL, NULL);
    pac = pac_text(NULL, &p, "proxy\"; alert(1); \"x:1", &rc);
    CU_ASSERT_EQUAL(rc, -1);
    free(pac);
    o3b_policy_release(&p);
}

static void test_proxy_valid_accepts_host_ipv4_and_bracketed_ipv6(void)
{
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        {"127.0.0.1:3128", true}, {"proxy.example.net:8080", true},
        {"[::1]:3128", true},     {"proxy:65535", true},
        {"proxy", false},         {"proxy:", false},
        {"proxy:0", false},       {"proxy:65536", false},
        {":3128", false},         {"::1:3128", false},
        {"pro xy:1", false},      {"a\"b:1", false},
        {"[::1:3128", false},     {"proxy:12a", false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT_EQUAL(o3b_export_proxy_valid(cases[i].text), cases[i].ok);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_model_groups_ports_where_the_listing_rows_change),
    O3B_TEST(test_model_row_verdicts_are_the_decisions_of_their_probes),
    O3B_TEST(test_squid_collapses_hosts_under_a_kept_suffix),
    O3B_TEST(test_squid_inspects_apexes_and_lower_category_hosts),
    O3B_TEST(test_squid_writes_middle_star_and_prefix_globs_as_regexes),
    O3B_TEST(test_squid_collapses_cidrs_and_inspects_inner_default_prefix),
    O3B_TEST(test_squid_pins_tenant_namespaces_to_your_hosts),
    O3B_TEST(test_squid_writes_never_bypass_slash_zero_as_squid_reads_it),
    O3B_TEST(test_squid_sends_never_bypass_to_the_inspect_lists),
    O3B_TEST(test_squid_files_and_conf_name_every_list),
    O3B_TEST(test_squid_conf_comments_out_empty_lists),
    O3B_TEST(test_squid_keeps_each_entry_on_its_ports),
    O3B_TEST(test_squid_tls_file_splices_the_lists_at_step_one),
    O3B_TEST(test_pac_has_the_decision_function_and_one_row_per_entry),
    O3B_TEST(test_pac_carries_tenants_and_local_lists),
    O3B_TEST(test_pac_refuses_a_proxy_that_is_not_host_port),
    O3B_TEST(test_proxy_valid_accepts_host_ipv4_and_bracketed_ipv6),
};

O3B_UNIT_MAIN("export", tests)
