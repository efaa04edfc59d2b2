/*
 * test_tenant.c - tenant.c's pieces one by one: the namespace list, a host's
 * namespace, a pattern's literal labels and reach, the tenant forms, the IP
 * rule for sets, and the MX label of a TenantDomain.
 *
 * The decisions these pieces make together (TenantName / TenantDomain over
 * the real tables, 1, 2 and 3 stars over every namespace, IP literals) are
 * specified in test_matcher.c; the PAC export's transcription of the same
 * rules is checked against lookup by tests/e2e/e2e-cli.sh.
 */
#include <string.h>

#include "o365bypass/config.h"
#include "o365bypass/index.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"
#include "o365bypass/tenant.h"
#include "unit.h"

static const char *const contoso[] = {"contoso", "fabrikam"};
static const char *const contoso_com[] = {"contoso-com"};
static const struct o3b_tenant_pins names_only = {contoso, 2, NULL, 0};
static const struct o3b_tenant_pins domains_only = {NULL, 0, contoso_com, 1};
static const struct o3b_tenant_pins both = {contoso, 2, contoso_com, 1};
static const struct o3b_tenant_pins nothing = {NULL, 0, NULL, 0};

static void test_the_namespaces_are_a_fixed_list_of_every_instance(void)
{
    static const struct {
        const char *ns;
        enum o3b_tenant_ns kind;
    } want[] = {
        {"sharepoint.com", O3B_TENANT_SHAREPOINT},
        {"sharepoint-mil.us", O3B_TENANT_SHAREPOINT},
        {"sharepoint.cn", O3B_TENANT_SHAREPOINT},
        {"onmicrosoft.com", O3B_TENANT_ROUTING},
        {"partner.onmschina.cn", O3B_TENANT_ROUTING},
        {"mail.onmicrosoft.us", O3B_TENANT_ROUTING},
        {"mail.protection.outlook.com", O3B_TENANT_MX},
        {"mail.protection.office365.us", O3B_TENANT_MX},
        {"mail.protection.partner.outlook.cn", O3B_TENANT_MX},
        {"mx.microsoft", O3B_TENANT_MX_ZONED},
        {"usgovcloud-mx.microsoft", O3B_TENANT_MX_ZONED},
    };
    size_t n = o3b_tenant_namespace_count();
    enum o3b_tenant_ns kind;

    CU_ASSERT_EQUAL(n, 17);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (size_t k = 0; k < n; k++)
            if (strcmp(o3b_tenant_namespace_at(k, &kind), want[i].ns) == 0)
                found = kind == want[i].kind;
        CU_ASSERT_TRUE(found);
    }
    CU_ASSERT_PTR_NULL(o3b_tenant_namespace_at(n, &kind));
    CU_ASSERT_EQUAL(kind, O3B_TENANT_NONE);
}

static void test_a_host_lies_under_the_longest_namespace_strictly_above_it(void)
{
    static const struct {
        const char *host;
        enum o3b_tenant_ns kind;
        size_t ns_len;
    } rows[] = {
        {"contoso.sharepoint.com", O3B_TENANT_SHAREPOINT, 14},
        {"a.b.contoso-my.sharepoint.de", O3B_TENANT_SHAREPOINT, 13},
        {"contoso.mail.onmicrosoft.com", O3B_TENANT_ROUTING, 20},
        {"mail.onmicrosoft.com", O3B_TENANT_ROUTING, 15}, /* itself under onmicrosoft.com */
        {"contoso.partner.onmschina.cn", O3B_TENANT_ROUTING, 20},
        {"contoso-com.mail.protection.outlook.com", O3B_TENANT_MX, 27},
        {"contoso-com.o-v1.mx.microsoft", O3B_TENANT_MX_ZONED, 12},
        {"sharepoint.com", O3B_TENANT_NONE, 0},
        {"mail.protection.outlook.com", O3B_TENANT_NONE, 0},
        {"eur.protection.outlook.com", O3B_TENANT_NONE, 0},
        {"evilsharepoint.com", O3B_TENANT_NONE, 0},
        {"contoso.sharepoint.com.evil.example", O3B_TENANT_NONE, 0},
        {"xmx.microsoft", O3B_TENANT_NONE, 0},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t ns_len = 99;
        enum o3b_tenant_ns kind =
            o3b_tenant_host_namespace(rows[i].host, strlen(rows[i].host), &ns_len);
        if (kind != rows[i].kind || ns_len != rows[i].ns_len)
            fprintf(stderr, "\n  %s: kind %d, %zu\n", rows[i].host, (int)kind, ns_len);
        CU_ASSERT_EQUAL(kind, rows[i].kind);
        CU_ASSERT_EQUAL(ns_len, rows[i].ns_len);
    }
}

static void test_the_literal_prefix_is_the_leading_labels_without_a_star(void)
{
    static const struct {
        const char *pattern;
        size_t prefix;
    } rows[] = {
        {"*.sharepoint.com", 0},
        {"**.sharepoint.com", 0},
        {"*-my.sharepoint.com", 0},
        {"x*.sharepoint.com", 0},
        {"autodiscover.*.onmicrosoft.com", 13},
        {"a.b.*.*.onmicrosoft.com", 4},
        {"a.b*.onmicrosoft.com", 2},
        {"contoso.sharepoint.com", 22}, /* no star: every label (exact hosts are not pinned) */
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CU_ASSERT_EQUAL(o3b_tenant_literal_prefix(rows[i].pattern, strlen(rows[i].pattern)),
                        rows[i].prefix);
}

#define KIND(k) (1u << O3B_TENANT_##k)

/* What a pattern can address: its literal tail equals a namespace, lies
   under one, or is a parent domain of one; whatever the number of stars. */
static void test_a_pattern_reaches_the_namespaces_its_literal_tail_touches(void)
{
    static const struct {
        const char *pattern;
        unsigned kinds;
    } rows[] = {
        {"*.sharepoint.com", KIND(SHAREPOINT)},
        {"**.sharepoint.com", KIND(SHAREPOINT)},
        {"*.*.sharepoint-mil.us", KIND(SHAREPOINT)},
        {"*-*.sharepoint.cn", KIND(SHAREPOINT)},
        {"*-my.sharepoint.com", KIND(SHAREPOINT)},
        {"*.x.sharepoint.com", KIND(SHAREPOINT)}, /* under the namespace */
        {"autodiscover.*.onmicrosoft.com", KIND(ROUTING)},
        {"*.partner.onmschina.cn", KIND(ROUTING)},
        {"*.mail.protection.outlook.com", KIND(MX)},
        {"*.protection.outlook.com", KIND(MX)}, /* a parent domain of the namespace */
        {"*.outlook.com", KIND(MX)},
        {"*.protection.partner.outlook.cn", KIND(MX)},
        {"*.mx.microsoft", KIND(MX_ZONED)},
        {"*.usgovcloud-mx.microsoft", KIND(MX_ZONED)},
        {"*.evilsharepoint.com", 0},
        {"*.sharepoint.com.evil.example", 0},
        {"*.sharepointonline.com", 0},
        {"*.office.com", 0},
        {"contoso.sharepoint.com", KIND(SHAREPOINT)}, /* exact: the host's own namespace */
        {"sharepoint.com", 0},                        /* the namespace itself names no tenant */
        {"outlook.office.com", 0},
        {"*", KIND(SHAREPOINT) | KIND(ROUTING) | KIND(MX) | KIND(MX_ZONED)},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned k = o3b_tenant_pattern_kinds(rows[i].pattern, strlen(rows[i].pattern));
        if (k != rows[i].kinds)
            fprintf(stderr, "\n  %s: kinds %#x\n", rows[i].pattern, k);
        CU_ASSERT_EQUAL(k, rows[i].kinds);
    }
    CU_ASSERT_TRUE(o3b_tenant_pattern_reaches("*.onmicrosoft.com", 17, "mail.onmicrosoft.com"));
    CU_ASSERT_FALSE(o3b_tenant_pattern_reaches("*.onmicrosoft.com", 17, "onmicrosoft.us"));
}

static bool part_ok(enum o3b_tenant_ns kind, const char *part, const struct o3b_tenant_pins *p)
{
    return o3b_tenant_part_allowed(kind, part, strlen(part), p);
}

static void test_each_kind_has_its_tenant_forms(void)
{
    static const char *const sp_yes[] = {"contoso", "contoso-my", "contoso-files",
                                         "contoso-myfiles", "fabrikam-my"};
    static const char *const sp_no[] = {"",          "evil",      "contoso-admin",    "contoso.my",
                                        "contosomy", "a.contoso", "contoso-my-files", "Contoso"};
    static const char *const rt_yes[] = {"contoso", "contoso.mail", "contoso.partner"};
    static const char *const rt_no[] = {"contoso-my", "x.contoso", "contoso.mail.x", "evil.mail"};

    for (size_t i = 0; i < sizeof sp_yes / sizeof sp_yes[0]; i++)
        CU_ASSERT_TRUE(part_ok(O3B_TENANT_SHAREPOINT, sp_yes[i], &names_only));
    for (size_t i = 0; i < sizeof sp_no / sizeof sp_no[0]; i++)
        CU_ASSERT_FALSE(part_ok(O3B_TENANT_SHAREPOINT, sp_no[i], &both));
    for (size_t i = 0; i < sizeof rt_yes / sizeof rt_yes[0]; i++)
        CU_ASSERT_TRUE(part_ok(O3B_TENANT_ROUTING, rt_yes[i], &names_only));
    for (size_t i = 0; i < sizeof rt_no / sizeof rt_no[0]; i++)
        CU_ASSERT_FALSE(part_ok(O3B_TENANT_ROUTING, rt_no[i], &both));
    /* MX: exactly your label; DNSSEC MX: your label, then at most one zone label */
    CU_ASSERT_TRUE(part_ok(O3B_TENANT_MX, "contoso-com", &domains_only));
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_MX, "contoso-com.x", &domains_only));
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_MX, "contoso", &both)); /* a tenant name is no domain */
    CU_ASSERT_TRUE(part_ok(O3B_TENANT_MX_ZONED, "contoso-com.o-v1", &domains_only));
    CU_ASSERT_TRUE(part_ok(O3B_TENANT_MX_ZONED, "contoso-com", &domains_only));
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_MX_ZONED, "contoso-com.a.b", &domains_only));
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_MX_ZONED, "o-v1.contoso-com", &domains_only));
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_MX_ZONED, "contoso-com.o-v1", &names_only));
    /* nothing configured: nothing is yours */
    CU_ASSERT_FALSE(part_ok(O3B_TENANT_SHAREPOINT, "contoso", &nothing));
}

static void test_pinning_is_on_for_sharepoint_with_tenant_names_and_for_mx_with_either(void)
{
    for (int k = O3B_TENANT_SHAREPOINT; k < O3B_TENANT_NS_COUNT; k++) {
        bool mx = k == O3B_TENANT_MX || k == O3B_TENANT_MX_ZONED;
        CU_ASSERT_TRUE(o3b_tenant_pinning_on(&names_only, (enum o3b_tenant_ns)k));
        CU_ASSERT_EQUAL(o3b_tenant_pinning_on(&domains_only, (enum o3b_tenant_ns)k), mx);
        CU_ASSERT_FALSE(o3b_tenant_pinning_on(&nothing, (enum o3b_tenant_ns)k));
    }
    CU_ASSERT_FALSE(o3b_tenant_pinning_on(&both, O3B_TENANT_NONE));
}

/* o3b_tenant_allows on index entries: wildcards and exact hosts are pinned
   (a feed adding "evil.sharepoint.com" by name to a bypassed set still names
   another tenant); CIDR entries always pass (the set rule covers them). */
static void test_host_entries_are_pinned_cidr_entries_are_not(void)
{
    static const struct o3b_port_range web[] = {{443, 443}};
    static const char *const patterns[] = {"*.sharepoint.com", "contoso.sharepoint.com",
                                           "evil.sharepoint.com", "autodiscover.*.onmicrosoft.com"};
    o3b_index_builder *b = o3b_index_builder_new();
    struct o3b_cidr c = {O3B_AF_INET, 22, {13, 107, 136, 0}};
    const struct o3b_index_entry *e;
    o3b_index *ix;
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(o3b_index_builder_add_pattern(b, patterns[i], strlen(patterns[i]),
                                                      (uint32_t)i, 2, web, 1, NULL),
                        0);
    CU_ASSERT_EQUAL(o3b_index_builder_add_cidr(b, &c, 4, 2, web, 1, NULL), 0);
    ix = o3b_index_builder_finish(&b, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    e = o3b_index_entries(ix, &n);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[0], "contoso.sharepoint.com", 22, &both));
    CU_ASSERT_FALSE(o3b_tenant_allows(&e[0], "evil.sharepoint.com", 19, &both));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[0], "evil.sharepoint.com", 19, &domains_only));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[0], "evil.sharepoint.com", 19, &nothing));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[1], "contoso.sharepoint.com", 22, &both));
    CU_ASSERT_FALSE(o3b_tenant_allows(&e[2], "evil.sharepoint.com", 19, &both)); /* exact */
    CU_ASSERT_FALSE(o3b_tenant_allows(&e[2], "evil.sharepoint.com", 19, &names_only));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[2], "evil.sharepoint.com", 19, &domains_only));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[2], "evil.sharepoint.com", 19, &nothing));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[3], "autodiscover.fabrikam.onmicrosoft.com", 37, &both));
    CU_ASSERT_FALSE(o3b_tenant_allows(&e[3], "autodiscover.evil.onmicrosoft.com", 33, &both));
    CU_ASSERT_TRUE(o3b_tenant_allows(&e[4], "13.107.136.9", 12, &both)); /* a CIDR entry */
    o3b_index_free(&ix);
}

/* The IP rule: a set is pinned when one of its URL patterns reaches a
   namespace whose pinning is on. */
static void test_sets_with_tenant_urls_pin_their_ip_literals(void)
{
    o3b_table_builder *b = o3b_table_builder_new();
    static const char *const urls[][2] = {{"*.sharepoint.com", NULL},
                                          {"*.protection.outlook.com", NULL},
                                          {"contoso.sharepoint.com", NULL},
                                          {"*.office.com", "outlook.office.com"}};
    static const char *const cats[] = {"Optimize", "Allow", "Optimize", "Optimize"};
    static const int ids[] = {31, 9, 2, 1};
    o3b_table *t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < 4; i++) {
        struct o3b_set_spec spec = {.id = ids[i],
                                    .service_area = "Common",
                                    .category = cats[i],
                                    .tcp_ports = "443",
                                    .required = true};
        CU_ASSERT_EQUAL(o3b_table_builder_add_set(b, &spec, NULL), 0);
        for (size_t u = 0; u < 2 && urls[i][u]; u++)
            CU_ASSERT_EQUAL(o3b_table_builder_add_url(b, urls[i][u], strlen(urls[i][u]), NULL), 0);
    }
    t = o3b_table_builder_finish(&b, NULL, false, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_TRUE(o3b_tenant_set_pinned(o3b_table_find_set(t, 31), &names_only));
    CU_ASSERT_FALSE(o3b_tenant_set_pinned(o3b_table_find_set(t, 31), &domains_only));
    CU_ASSERT_TRUE(o3b_tenant_set_pinned(o3b_table_find_set(t, 9), &names_only));
    CU_ASSERT_TRUE(o3b_tenant_set_pinned(o3b_table_find_set(t, 9), &domains_only));
    CU_ASSERT_FALSE(o3b_tenant_set_pinned(o3b_table_find_set(t, 31), &nothing));
    CU_ASSERT_TRUE(o3b_tenant_set_pinned(o3b_table_find_set(t, 2), &both)); /* exact only */
    CU_ASSERT_FALSE(o3b_tenant_set_pinned(o3b_table_find_set(t, 2), &domains_only));
    CU_ASSERT_FALSE(o3b_tenant_set_pinned(o3b_table_find_set(t, 1), &both));
    o3b_table_free(&t);
}

static void test_the_mx_label_of_a_mail_domain_or_of_an_mx_host(void)
{
    static const struct {
        const char *in, *label;
    } good[] = {
        {"contoso.com", "contoso-com"},
        {"Contoso.COM.", "contoso-com"},
        {"fabrikam.co.uk", "fabrikam-co-uk"},
        {"my-company.com", "my-company-com"},
        {"contoso.onmicrosoft.com", "contoso-onmicrosoft-com"},
        {"fabrikam-com01b.mail.protection.outlook.com", "fabrikam-com01b"},
        {"contoso-com.mail.protection.office365.us", "contoso-com"},
        {"contoso-com.o-v1.mx.microsoft", "contoso-com"},
        {"contoso-com.usgovcloud-mx.microsoft", "contoso-com"},
    };
    // clang-format off
    static const char *const bad[] = {
        "", "contoso", "a..b", "-a.com", "1.2.3.4", "*.contoso.com", "contoso.com/x",
        "x.y.mail.protection.outlook.com", "a.b.c.mx.microsoft",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbb.com", /* 68 */
    };
    // clang-format on
    char label[O3B_LABEL_MAX + 1];

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        o3b_err err = {{0}};
        CU_ASSERT_EQUAL(o3b_tenant_mx_label(good[i].in, label, &err), 0);
        CU_ASSERT_STRING_EQUAL(label, good[i].label);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o3b_err err = {{0}};
        CU_ASSERT_EQUAL(o3b_tenant_mx_label(bad[i], label, &err), -1);
        CU_ASSERT_TRUE(err.msg[0] != '\0');
    }
}

static void test_tenant_domain_directive_collects_labels_once(void)
{
    struct o3b_config c;
    o3b_err err = {{0}};

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_set(&c, "o365bypass.TenantDomain",
                                   (const char *const[]){"Contoso.com,fabrikam.co.uk,", NULL},
                                   &err),
                    0);
    CU_ASSERT_EQUAL(
        o3b_config_set(&c, "TenantDomain",
                       (const char *const[]){"contoso.com", "contoso-com.o-v1.mx.microsoft", NULL},
                       &err),
        0);
    CU_ASSERT_EQUAL_FATAL(c.policy.n_domains, 2);
    CU_ASSERT_STRING_EQUAL(c.policy.domains[0], "contoso.com");
    CU_ASSERT_STRING_EQUAL(c.policy.mx_labels[0], "contoso-com");
    CU_ASSERT_STRING_EQUAL(c.policy.mx_labels[1], "fabrikam-co-uk");
    CU_ASSERT_EQUAL(
        o3b_config_set(&c, "TenantDomain", (const char *const[]){"contoso", NULL}, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "contoso"));
    CU_ASSERT_EQUAL(c.policy.n_domains, 2);
    o3b_config_release(&c);
    CU_ASSERT_EQUAL(c.policy.n_domains, 0);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_the_namespaces_are_a_fixed_list_of_every_instance),
    O3B_TEST(test_a_host_lies_under_the_longest_namespace_strictly_above_it),
    O3B_TEST(test_the_literal_prefix_is_the_leading_labels_without_a_star),
    O3B_TEST(test_a_pattern_reaches_the_namespaces_its_literal_tail_touches),
    O3B_TEST(test_each_kind_has_its_tenant_forms),
    O3B_TEST(test_pinning_is_on_for_sharepoint_with_tenant_names_and_for_mx_with_either),
    O3B_TEST(test_host_entries_are_pinned_cidr_entries_are_not),
    O3B_TEST(test_sets_with_tenant_urls_pin_their_ip_literals),
    O3B_TEST(test_the_mx_label_of_a_mail_domain_or_of_an_mx_host),
    O3B_TEST(test_tenant_domain_directive_collects_labels_once),
};

O3B_UNIT_MAIN("tenant", tests)
