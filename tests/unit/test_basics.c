/* SPDX-License-Identifier: MIT */
/*
 * test_basics.c - host names, patterns, globs, CIDRs and port lists.
 */
#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/ports.h"
#include "unit.h"

static void test_host_normalize_lowercases_and_drops_trailing_dot(void)
{
    char out[O3B_HOST_MAX + 1];
    size_t n;

    CU_ASSERT_EQUAL(o3b_host_normalize("Outlook.Office.COM.", 19, out, &n), O3B_HOST_OK);
    CU_ASSERT_STRING_EQUAL(out, "outlook.office.com");
    CU_ASSERT_EQUAL(n, 18);
}

static void test_host_normalize_refuses_malformed_names(void)
{
    static const struct {
        const char *in;
        enum o3b_host_status st;
    } cases[] = {
        {"", O3B_HOST_EMPTY},
        {".", O3B_HOST_EMPTY},
        {"a..b", O3B_HOST_EMPTY_LABEL},
        {".a.com", O3B_HOST_EMPTY_LABEL},
        {"a.com..", O3B_HOST_EMPTY_LABEL},
        {"a_b.com", O3B_HOST_BAD_CHAR},
        {"a%2eb.com", O3B_HOST_BAD_CHAR},
        {"a b.com", O3B_HOST_BAD_CHAR},
        {"*.a.com", O3B_HOST_BAD_CHAR},
        {"-a.com", O3B_HOST_BAD_HYPHEN},
        {"a-.com", O3B_HOST_BAD_HYPHEN},
        {"a.com-", O3B_HOST_BAD_HYPHEN},
        {"1.2.3.4", O3B_HOST_NUMERIC},
        {"a.0x10", O3B_HOST_NUMERIC},
        {"885063937", O3B_HOST_NUMERIC},
    };
    char out[O3B_HOST_MAX + 1];
    size_t n;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT_EQUAL(o3b_host_normalize(cases[i].in, strlen(cases[i].in), out, &n), cases[i].st);
    CU_ASSERT_EQUAL(o3b_host_normalize("a\0b.com", 7, out, &n), O3B_HOST_BAD_CHAR);
}

static void test_host_normalize_enforces_length_limits(void)
{
    char in[300], out[O3B_HOST_MAX + 1];
    size_t n;

    memset(in, 'a', 64);
    memcpy(in + 64, ".com", 5);
    CU_ASSERT_EQUAL(o3b_host_normalize(in, 68, out, &n), O3B_HOST_LABEL_TOO_LONG);
    CU_ASSERT_EQUAL(o3b_host_normalize(in + 1, 67, out, &n), O3B_HOST_OK);
    for (int i = 0; i < 300; i++)
        in[i] = (i % 2) ? '.' : 'a';
    CU_ASSERT_EQUAL(o3b_host_normalize(in, 253, out, &n), O3B_HOST_OK);
    CU_ASSERT_EQUAL(o3b_host_normalize(in, 255, out, &n), O3B_HOST_TOO_LONG);
    /* 253 characters plus the trailing dot is still fine */
    in[253] = '.';
    CU_ASSERT_EQUAL(o3b_host_normalize(in, 254, out, &n), O3B_HOST_OK);
}

static void test_pattern_normalize_accepts_microsoft_shapes(void)
{
    static const char *const ok[] = {"*.sharepoint.com", "autodiscover.*.onmicrosoft.com",
                                     "*cdn.onenote.net", "outlook.office.com",
                                     "*.mx.microsoft",   "*.Cloud.Microsoft."};
    char out[O3B_HOST_MAX + 1];
    size_t n;
    o3b_err err;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CU_ASSERT_EQUAL(o3b_pattern_normalize(ok[i], strlen(ok[i]), out, &n, &err), 0);
    CU_ASSERT_STRING_EQUAL(out, "*.cloud.microsoft");
}

static void test_pattern_normalize_refuses_overbroad_patterns(void)
{
    static const char *const bad[] = {"*",      "*.com",    "foo*",   "*.*", "a.*",
                                      "*x.com", "a?.b.com", "*..com", ""};
    char out[O3B_HOST_MAX + 1];
    size_t n;
    o3b_err err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(o3b_pattern_normalize(bad[i], strlen(bad[i]), out, &n, &err), -1);
}

static int glob(const char *p, const char *s)
{
    return o3b_glob_match(p, strlen(p), s, strlen(s));
}

static void test_glob_star_spans_dots_but_not_the_apex(void)
{
    CU_ASSERT_TRUE(glob("*.sharepoint.com", "contoso.sharepoint.com"));
    CU_ASSERT_TRUE(glob("*.sharepoint.com", "a.b.sharepoint.com"));
    CU_ASSERT_FALSE(glob("*.sharepoint.com", "sharepoint.com"));
    CU_ASSERT_FALSE(glob("*.sharepoint.com", "evilsharepoint.com"));
    CU_ASSERT_FALSE(glob("*.sharepoint.com", "sharepoint.com.example.org"));
    CU_ASSERT_TRUE(glob("autodiscover.*.onmicrosoft.com", "autodiscover.contoso.onmicrosoft.com"));
    CU_ASSERT_TRUE(glob("autodiscover.*.onmicrosoft.com", "autodiscover.a.b.onmicrosoft.com"));
    CU_ASSERT_FALSE(glob("autodiscover.*.onmicrosoft.com", "autodiscover.onmicrosoft.com"));
    CU_ASSERT_TRUE(glob("*cdn.onenote.net", "cdn.onenote.net"));
    CU_ASSERT_TRUE(glob("*cdn.onenote.net", "appcdn.onenote.net"));
    CU_ASSERT_TRUE(glob("*cdn.onenote.net", "a.cdn.onenote.net"));
    CU_ASSERT_FALSE(glob("*cdn.onenote.net", "cdn.onenote.net.evil.com"));
    CU_ASSERT_TRUE(glob("a*b*c.x.y", "aXbYc.x.y"));
    CU_ASSERT_FALSE(glob("a*b*c.x.y", "aXcYb.x.y"));
}

static void test_ipv4_parse_is_strict(void)
{
    uint8_t a[4];

    CU_ASSERT_EQUAL(o3b_ipv4_parse("52.96.1.1", 9, a), 0);
    CU_ASSERT_EQUAL(a[0], 52);
    CU_ASSERT_EQUAL(a[3], 1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("052.96.1.1", 10, a), -1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("52.96.1", 7, a), -1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("256.1.1.1", 9, a), -1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("52.96.1.1.", 10, a), -1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("0x34.96.1.1", 11, a), -1);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("885063937", 9, a), -1);
}

static void test_cidr_parse_and_contains(void)
{
    struct o3b_cidr c;
    bool hb;
    o3b_err err;
    uint8_t a[16];
    char buf[64];

    CU_ASSERT_EQUAL(o3b_cidr_parse("52.96.0.0/14", 12, &c, &hb, &err), 0);
    CU_ASSERT_FALSE(hb);
    CU_ASSERT_EQUAL(o3b_ipv4_parse("52.99.255.255", 13, a), 0);
    CU_ASSERT_TRUE(o3b_cidr_contains(&c, O3B_AF_INET, a));
    CU_ASSERT_EQUAL(o3b_ipv4_parse("52.100.0.0", 10, a), 0);
    CU_ASSERT_FALSE(o3b_cidr_contains(&c, O3B_AF_INET, a));
    CU_ASSERT_EQUAL(o3b_cidr_parse("2603:1006::/40", 14, &c, &hb, &err), 0);
    CU_ASSERT_STRING_EQUAL(o3b_cidr_format(&c, buf, sizeof buf), "2603:1006::/40");
    CU_ASSERT_EQUAL(o3b_ipv6_parse("2603:1006::1", 12, a), 0);
    CU_ASSERT_TRUE(o3b_cidr_contains(&c, O3B_AF_INET6, a));
    CU_ASSERT_EQUAL(o3b_cidr_parse("52.96.1.0/14", 12, &c, &hb, &err), 0);
    CU_ASSERT_TRUE(hb);
    CU_ASSERT_EQUAL(o3b_cidr_parse("0.0.0.0/0", 9, &c, &hb, &err), -1);
    CU_ASSERT_EQUAL(o3b_cidr_parse("::/0", 4, &c, &hb, &err), -1);
    CU_ASSERT_EQUAL(o3b_cidr_parse("52.96.0.0", 9, &c, &hb, &err), -1);
    CU_ASSERT_EQUAL(o3b_cidr_parse("52.96.0.0/33", 12, &c, &hb, &err), -1);
    CU_ASSERT_EQUAL(o3b_cidr_parse("fe80::1%eth0/64", 15, &c, &hb, &err), -1);
}

static void test_ipv6_embedded_ipv4_is_recognised(void)
{
    uint8_t a[16];

    CU_ASSERT_EQUAL(o3b_ipv6_parse("::ffff:52.96.1.1", 16, a), 0);
    CU_ASSERT_TRUE(o3b_ipv6_embeds_ipv4(a));
    CU_ASSERT_EQUAL(o3b_ipv6_parse("64:ff9b::3460:101", 17, a), 0);
    CU_ASSERT_TRUE(o3b_ipv6_embeds_ipv4(a));
    CU_ASSERT_EQUAL(o3b_ipv6_parse("::1", 3, a), 0);
    CU_ASSERT_FALSE(o3b_ipv6_embeds_ipv4(a));
    CU_ASSERT_EQUAL(o3b_ipv6_parse("2603:1006::1", 12, a), 0);
    CU_ASSERT_FALSE(o3b_ipv6_embeds_ipv4(a));
}

static void test_ports_parse_accepts_microsoft_spellings(void)
{
    struct o3b_port_range r[8];
    size_t n;
    o3b_err err;
    char buf[64];

    CU_ASSERT_EQUAL(o3b_ports_parse("80,443", 6, r, 8, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(o3b_ports_parse("143, 587, 993, 995", 18, r, 8, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_TRUE(o3b_ports_contain(r, n, 993));
    CU_ASSERT_FALSE(o3b_ports_contain(r, n, 443));
    CU_ASSERT_EQUAL(o3b_ports_parse("", 0, r, 8, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(o3b_ports_parse("3478-3481, 443", 14, r, 8, &n, &err), 0);
    CU_ASSERT_TRUE(o3b_ports_contain(r, n, 3480));
    CU_ASSERT_STRING_EQUAL(o3b_ports_format(r, n, buf, sizeof buf), "3478-3481,443");
}

static void test_ports_parse_refuses_garbage(void)
{
    static const char *const bad[] = {"80,,443", "0",  "65536", "80;443", "443-80", "80,",
                                      ",80",     "8o", "-",     "1-",     "123456"};
    struct o3b_port_range r[8];
    size_t n;
    o3b_err err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(o3b_ports_parse(bad[i], strlen(bad[i]), r, 8, &n, &err), -1);
    CU_ASSERT_EQUAL(o3b_ports_parse("1,2,3", 5, r, 2, &n, &err), -1);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_host_normalize_lowercases_and_drops_trailing_dot),
    O3B_TEST(test_host_normalize_refuses_malformed_names),
    O3B_TEST(test_host_normalize_enforces_length_limits),
    O3B_TEST(test_pattern_normalize_accepts_microsoft_shapes),
    O3B_TEST(test_pattern_normalize_refuses_overbroad_patterns),
    O3B_TEST(test_glob_star_spans_dots_but_not_the_apex),
    O3B_TEST(test_ipv4_parse_is_strict),
    O3B_TEST(test_cidr_parse_and_contains),
    O3B_TEST(test_ipv6_embedded_ipv4_is_recognised),
    O3B_TEST(test_ports_parse_accepts_microsoft_spellings),
    O3B_TEST(test_ports_parse_refuses_garbage),
};

O3B_UNIT_MAIN("basics", tests)
