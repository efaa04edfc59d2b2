/* SPDX-License-Identifier: MIT */
/*
 * test_target.c - request line + Host headers to destination (target.h).
 *
 * Table-driven specs, one table per rule, each row a request and what must
 * come out of it; a last test checks that the tables together produce every
 * status.  The file-driven test replays tests/data/hostile-targets.tsv (its
 * format is described at the top of that file) and names the line of every
 * row that fails.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "corpus.h"
#include "o365bypass/cidr.h"
#include "o365bypass/target.h"
#include "unit.h"

enum { N = O3B_KIND_NAME, V4 = O3B_KIND_IPV4, V6 = O3B_KIND_IPV6 };
enum { ABS = O3B_FORM_ABSOLUTE, CON = O3B_FORM_CONNECT, ORI = O3B_FORM_ORIGIN };
enum { NONE = O3B_SCHEME_NONE, HTTP = O3B_SCHEME_HTTP, HTTPS = O3B_SCHEME_HTTPS };

/* One request and its expected outcome.  `host` NULL: only the status is
   checked.  Host values are the non-NULL entries of `hosts`. */
struct spec {
    const char *line;
    const char *hosts[3];
    enum o3b_target_status st;
    const char *host;
    uint16_t port;
    uint8_t kind, form, scheme;
};

#define OK O3B_TARGET_OK
// clang-format off
#define NH {NULL}
// clang-format on

static bool seen_status[O3B_TARGET_STATUS_COUNT];

static size_t count_hosts(const struct spec *s, size_t *lens)
{
    size_t n = 0;

    while (n < 3 && s->hosts[n] != NULL) {
        lens[n] = strlen(s->hosts[n]);
        n++;
    }
    return n;
}

static bool outcome_matches(const struct spec *s, enum o3b_target_status st,
                            const struct o3b_target *t)
{
    if (st != s->st)
        return false;
    if (st != OK || s->host == NULL)
        return true;
    return strcmp(t->host, s->host) == 0 && t->host_len == strlen(s->host) && t->port == s->port &&
           t->kind == s->kind && t->form == s->form && t->scheme == s->scheme;
}

/* Run one spec; on a mismatch say which one and what came out. */
static bool run_spec(const struct spec *s)
{
    size_t lens[3];
    size_t n = count_hosts(s, lens);
    struct o3b_target t;
    enum o3b_target_status st;

    memset(&t, 0x5a, sizeof t);
    st = o3b_target_parse(s->line, strlen(s->line), s->hosts, lens, n, &t);
    seen_status[st < O3B_TARGET_STATUS_COUNT ? st : 0] = true;
    if (outcome_matches(s, st, &t))
        return true;
    fprintf(stderr, "\n  '%s' (+%zu Host): expected %s %s:%u, got %s", s->line, n,
            o3b_target_status_name(s->st), s->host ? s->host : "", s->port,
            o3b_target_status_name(st));
    if (st == OK)
        fprintf(stderr, " %s:%u kind %u form %u scheme %u", t.host, t.port, t.kind, t.form,
                t.scheme);
    fputc('\n', stderr);
    return false;
}

#define RUN_SPECS(table)                                                                           \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < sizeof table / sizeof table[0]; i_++)                             \
            CU_ASSERT_TRUE(run_spec(&table[i_]));                                                  \
    } while (0)

/* ---- accepted forms and default ports ------------------------------------ */

static void test_parse_accepts_absolute_form_http_and_https(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET http://outlook.office.com/ HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET https://outlook.office.com/owa/ HTTP/1.1", NH, OK, "outlook.office.com", 443, N, ABS, HTTPS},
        {"GET http://outlook.office.com HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET http://outlook.office.com?x HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET http://outlook.office.com#x HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET http://outlook.office.com:8080/ HTTP/1.1", NH, OK, "outlook.office.com", 8080, N, ABS, HTTP},
        {"GET https://outlook.office.com:80/ HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTPS},
        {"GET HTTPS://Outlook.Office.COM./ HTTP/1.1", NH, OK, "outlook.office.com", 443, N, ABS, HTTPS},
        {"GET hTTp://x.sharepoint.com:65535/ HTTP/1.0", NH, OK, "x.sharepoint.com", 65535, N, ABS, HTTP},
        {"POST http://outlook.office.com/@x HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"get http://outlook.office.com/ HTTP/1.1", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET http://outlook.office.com:1/ HTTP/2.0", NH, OK, "outlook.office.com", 1, N, ABS, HTTP},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_accepts_connect_authority(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"CONNECT outlook.office.com:443 HTTP/1.1", NH, OK, "outlook.office.com", 443, N, CON, NONE},
        {"CONNECT Outlook.Office365.COM.:993 HTTP/1.1", NH, OK, "outlook.office365.com", 993, N, CON, NONE},
        {"CONNECT 52.96.1.1:443 HTTP/1.1", NH, OK, "52.96.1.1", 443, V4, CON, NONE},
        {"CONNECT [2603:1006::1]:443 HTTP/1.1", NH, OK, "2603:1006::1", 443, V6, CON, NONE},
        {"CONNECT [2603:1006:0:0::ABCD]:80 HTTP/1.1", NH, OK, "2603:1006::abcd", 80, V6, CON, NONE},
        {"CONNECT x.sharepoint.com:443 HTTP/1.1", {"x.sharepoint.com:443"}, OK, "x.sharepoint.com", 443, N, CON, NONE},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_accepts_origin_form_with_one_host(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET / HTTP/1.1", {"outlook.office.com"}, OK, "outlook.office.com", 80, N, ORI, HTTP},
        {"GET /owa/?a=b HTTP/1.1", {"Outlook.Office.Com.:8080"}, OK, "outlook.office.com", 8080, N, ORI, HTTP},
        {"GET //evil.example/ HTTP/1.1", {"outlook.office.com"}, OK, "outlook.office.com", 80, N, ORI, HTTP},
        {"GET / HTTP/1.1", {" \toutlook.office.com:443\t "}, OK, "outlook.office.com", 443, N, ORI, HTTP},
        {"GET / HTTP/1.1", {"52.96.1.1"}, OK, "52.96.1.1", 80, V4, ORI, HTTP},
        {"GET / HTTP/1.1", {"[2603:1006::1]:443"}, OK, "2603:1006::1", 443, V6, ORI, HTTP},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_applies_scheme_default_ports(void)
{
    // clang-format off
    static const struct spec specs[] = {
        /* http 80, https 443, origin-form 80; a Host without port means the same */
        {"GET http://a.sharepoint.com/ HTTP/1.1", {"a.sharepoint.com"}, OK, "a.sharepoint.com", 80, N, ABS, HTTP},
        {"GET https://a.sharepoint.com/ HTTP/1.1", {"a.sharepoint.com"}, OK, "a.sharepoint.com", 443, N, ABS, HTTPS},
        {"GET http://a.sharepoint.com/ HTTP/1.1", {"a.sharepoint.com:80"}, OK, "a.sharepoint.com", 80, N, ABS, HTTP},
        {"GET https://a.sharepoint.com/ HTTP/1.1", {"a.sharepoint.com:443"}, OK, "a.sharepoint.com", 443, N, ABS, HTTPS},
        {"GET / HTTP/1.1", {"a.sharepoint.com"}, OK, "a.sharepoint.com", 80, N, ORI, HTTP},
        /* CONNECT: a Host without port stands for the CONNECT's own port */
        {"CONNECT a.sharepoint.com:443 HTTP/1.1", {"a.sharepoint.com"}, OK, "a.sharepoint.com", 443, N, CON, NONE},
    };
    // clang-format on
    RUN_SPECS(specs);
}

/* Squid's generated CONNECT after peek at step 1 and splice at step 2 names
   the host in Host without a port: it cannot name another destination, so it
   is the CONNECT's own on every port.  Another host or another explicit port
   is still domain fronting. */
static void test_connect_host_without_port_is_the_connect_destination(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"CONNECT a.sharepoint.com:80 HTTP/1.1", {"a.sharepoint.com"}, OK, "a.sharepoint.com", 80, N, CON, NONE},
        {"CONNECT outlook.office365.com:993 HTTP/1.1", {"outlook.office365.com"}, OK, "outlook.office365.com", 993, N, CON, NONE},
        {"CONNECT outlook.office365.com:993 HTTP/1.1", {"Outlook.Office365.Com."}, OK, "outlook.office365.com", 993, N, CON, NONE},
        {"CONNECT 52.96.1.1:8443 HTTP/1.1", {"52.96.1.1"}, OK, "52.96.1.1", 8443, V4, CON, NONE},
        {"CONNECT [2603:1006::1]:993 HTTP/1.1", {"[2603:1006::1]"}, OK, "2603:1006::1", 993, V6, CON, NONE},
        {"CONNECT outlook.office365.com:993 HTTP/1.1", {"outlook.office365.com:443"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office365.com:993 HTTP/1.1", {"evil.example"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT evil.example:993 HTTP/1.1", {"outlook.office365.com"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT 52.96.1.1:993 HTTP/1.1", {"52.96.1.2"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT a.sharepoint.com:80 HTTP/1.1", {"a.sharepoint.com:443"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        /* http keeps the scheme's default: a Host without port is port 80 */
        {"GET http://a.sharepoint.com:8080/ HTTP/1.1", {"a.sharepoint.com"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

struct sni_spec {
    const char *sni;
    size_t len; /* 0: strlen */
    uint8_t state;
    const char *norm;
};

static void test_sni_is_normalized_or_marked_bad(void)
{
    static const struct sni_spec specs[] = {
        {NULL, 0, O3B_SNI_NONE, ""},
        {"", 0, O3B_SNI_NONE, ""},
        {"-", 0, O3B_SNI_NONE, ""},
        {"  \t", 0, O3B_SNI_NONE, ""},
        {"outlook.office.com", 0, O3B_SNI_OK, "outlook.office.com"},
        {" Outlook.Office.COM. ", 0, O3B_SNI_OK, "outlook.office.com"},
        {"52.96.1.1", 0, O3B_SNI_BAD, ""},
        {"2603:1006::1", 0, O3B_SNI_BAD, ""},
        {"[2603:1006::1]", 0, O3B_SNI_BAD, ""},
        {"outlook.office.com:443", 0, O3B_SNI_BAD, ""},
        {"evil.example\r\nX: y", 0, O3B_SNI_BAD, ""},
        {"outlook.office.com\0evil", sizeof "outlook.office.com\0evil" - 1, O3B_SNI_BAD, ""},
        {"%6Futlook.office.com", 0, O3B_SNI_BAD, ""},
        {"--", 0, O3B_SNI_BAD, ""},
        {"a..b", 0, O3B_SNI_BAD, ""},
    };
    struct o3b_target t;

    CU_ASSERT_EQUAL_FATAL(o3b_target_parse_text("outlook.office.com", &t), OK);
    CU_ASSERT_EQUAL(t.sni_state, O3B_SNI_NONE);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const struct sni_spec *sp = &specs[i];
        size_t len = sp->len ? sp->len : sp->sni ? strlen(sp->sni) : 0;

        o3b_target_set_sni(&t, sp->sni, len);
        if (t.sni_state != sp->state || strcmp(t.sni, sp->norm) != 0)
            fprintf(stderr, "\n  sni '%s': state %u '%s'\n", sp->sni ? sp->sni : "(null)",
                    t.sni_state, t.sni);
        CU_ASSERT_EQUAL(t.sni_state, sp->state);
        CU_ASSERT_STRING_EQUAL(t.sni, sp->norm);
        CU_ASSERT_EQUAL(t.sni_len, strlen(sp->norm));
        CU_ASSERT_STRING_EQUAL(t.host, "outlook.office.com"); /* the target is untouched */
    }
}

static void test_parse_fills_ip_address_bytes(void)
{
    static const char v6_line[] = "CONNECT [2603:1006::1]:443 HTTP/1.1";
    static const char v4_line[] = "GET http://52.96.1.1/ HTTP/1.1";
    static const uint8_t v6[16] = {0x26, 0x03, 0x10, 0x06, [15] = 1};
    static const uint8_t v4[16] = {52, 96, 1, 1};
    struct o3b_target t;

    CU_ASSERT_EQUAL(o3b_target_parse(v6_line, sizeof v6_line - 1, NULL, NULL, 0, &t), OK);
    CU_ASSERT_EQUAL(memcmp(t.addr, v6, 16), 0);
    CU_ASSERT_EQUAL(o3b_target_parse(v4_line, sizeof v4_line - 1, NULL, NULL, 0, &t), OK);
    CU_ASSERT_EQUAL(memcmp(t.addr, v4, 16), 0);
}

/* ---- Host header and URL agreement ------------------------------------------ */

static void test_host_header_must_agree_with_url(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET http://outlook.office.com/ HTTP/1.1", {"OUTLOOK.office.com."}, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"GET http://outlook.office.com./ HTTP/1.1", {"outlook.office.com"}, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"CONNECT [2603:1006::1]:443 HTTP/1.1", {"[2603:1006:0::1]:443"}, OK, "2603:1006::1", 443, V6, CON, NONE},
        {"CONNECT 52.96.1.1:443 HTTP/1.1", {"52.96.1.1"}, OK, "52.96.1.1", 443, V4, CON, NONE},
        {"GET http://outlook.office.com/ HTTP/1.1", {"evil.example"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET http://evil.example/ HTTP/1.1", {"outlook.office.com"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com:443 HTTP/1.1", {"evil.example:443"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com:443 HTTP/1.1", {"outlook.office.com:80"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.1", {"outlook.office.com:443"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET https://outlook.office.com/ HTTP/1.1", {"outlook.office.com:80"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET http://52.96.1.1/ HTTP/1.1", {"outlook.office.com"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.1", {"52.96.1.1"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"CONNECT [2603:1006::1]:443 HTTP/1.1", {"[2603:1006::2]:443"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
        {"GET http://a.sharepoint.com/ HTTP/1.1", {"b.sharepoint.com"}, O3B_TARGET_HOST_MISMATCH, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_refuses_more_than_one_host_header(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET / HTTP/1.1", {"outlook.office.com", "outlook.office.com"}, O3B_TARGET_DUPLICATE_HOST, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"outlook.office.com", "evil.example"}, O3B_TARGET_DUPLICATE_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.1", {"outlook.office.com", ""}, O3B_TARGET_DUPLICATE_HOST, NULL, 0, 0, 0, 0},
        {"CONNECT a.b:443 HTTP/1.1", {"a.b:443", "a.b:443", "a.b:443"}, O3B_TARGET_DUPLICATE_HOST, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_requires_host_for_origin_form_only(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET / HTTP/1.1", NH, O3B_TARGET_NO_HOST, NULL, 0, 0, 0, 0},
        {"GET //outlook.office.com/ HTTP/1.0", NH, O3B_TARGET_NO_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.0", NH, OK, "outlook.office.com", 80, N, ABS, HTTP},
        {"CONNECT outlook.office.com:443 HTTP/1.0", NH, OK, "outlook.office.com", 443, N, CON, NONE},
    };
    // clang-format on
    RUN_SPECS(specs);
}

/* Documented choice: an empty (or all-blank) Host value is a bad host, not "no Host". */
static void test_parse_refuses_empty_host_header_as_bad_host(void)
{
    static const struct spec specs[] = {
        {"GET / HTTP/1.1", {""}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {" \t "}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.1", {""}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com:443 HTTP/1.1", {"\t"}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
    };
    RUN_SPECS(specs);
}

/* ---- refusals ---------------------------------------------------------------- */

static void test_parse_refuses_malformed_request_lines(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {" GET http://a.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET  http://a.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/  HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/ HTTP/1.1 ", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/ HTTP/1.1\r", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET\thttp://a.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/ http/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/ HTTP/11", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a.b/ HTTP/1.1x", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"G(T http://a.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GET http://a\x7f.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GETGETGETGETGETGETGETGETGETGETGET http://a.b/ HTTP/1.1", NH, O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0, 0},
        {"GETGETGETGETGETGETGETGETGETGETGE http://a.b/ HTTP/1.1", NH, OK, "a.b", 80, N, ABS, HTTP},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_examines_exactly_the_given_lengths(void)
{
    static const char nul_line[] = "GET http://outlook.office.com\0.evil.example/ HTTP/1.1";
    static const char long_line[] = "GET http://a.b/ HTTP/1.1 trailing junk";
    static const char nul_host[] = "outlook.office.com\0.evil.example";
    const char *hosts[] = {nul_host};
    size_t lens[] = {sizeof nul_host - 1};
    struct o3b_target t;

    CU_ASSERT_EQUAL(o3b_target_parse(nul_line, sizeof nul_line - 1, NULL, NULL, 0, &t),
                    O3B_TARGET_BAD_REQUEST_LINE);
    CU_ASSERT_EQUAL(o3b_target_parse(long_line, 24, NULL, NULL, 0, &t), OK);
    CU_ASSERT_EQUAL(o3b_target_parse("GET / HTTP/1.1", 14, hosts, lens, 1, &t),
                    O3B_TARGET_BAD_HOST);
    lens[0] = 18; /* only "outlook.office.com" */
    CU_ASSERT_EQUAL(o3b_target_parse("GET / HTTP/1.1", 14, hosts, lens, 1, &t), OK);
    CU_ASSERT_STRING_EQUAL(t.host, "outlook.office.com");
    CU_ASSERT_EQUAL(o3b_target_parse(NULL, 0, NULL, NULL, 0, &t), O3B_TARGET_BAD_REQUEST_LINE);
}

static void test_parse_refuses_unsupported_forms(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"OPTIONS * HTTP/1.1", {"outlook.office.com"}, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"CONNECT / HTTP/1.1", {"outlook.office.com:443"}, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"CONNECT * HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"CONNECT http://outlook.office.com:443 HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com:443/x HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"connect outlook.office.com:443 HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"GET outlook.office.com:443 HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"GET outlook.office.com HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"GET http:/outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"GET http:outlook.office.com HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
        {"GET mailto:a@outlook.office.com HTTP/1.1", NH, O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_refuses_schemes_other_than_http_and_https(void)
{
    static const struct spec specs[] = {
        {"GET ftp://outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
        {"GET ws://outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
        {"GET wss://outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
        {"GET file:///etc/passwd HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
        {"GET gopher://outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
        {"GET httpx://outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0, 0},
    };
    RUN_SPECS(specs);
}

static void test_parse_refuses_userinfo_everywhere(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET http://outlook.office.com@evil.example/ HTTP/1.1", NH, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"GET http://evil@outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"GET http://u:p@outlook.office.com:80/ HTTP/1.1", NH, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"CONNECT evil@outlook.office.com:443 HTTP/1.1", NH, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com@evil.example:443 HTTP/1.1", NH, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"evil@outlook.office.com"}, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com/ HTTP/1.1", {"u@outlook.office.com"}, O3B_TARGET_USERINFO, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_refuses_badly_formed_hosts(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET http:/// HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://:80/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"CONNECT :443 HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook%2eoffice.com/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com\\.evil.example/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook..office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com../ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://-outlook.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://out_look.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://outl\xd0\xbeok.office.com/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET http://x[2603:1006::1]/ HTTP/1.1", NH, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"outlook.office.com\r\nX: y"}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"outlook.office.com/path"}, O3B_TARGET_BAD_HOST, NULL, 0, 0, 0, 0},
        {"CONNECT xn--bcher-kva.sharepoint.com:443 HTTP/1.1", NH, OK, "xn--bcher-kva.sharepoint.com", 443, N, CON, NONE},
    };
    // clang-format on
    RUN_SPECS(specs);
}

static void test_parse_refuses_overlong_hosts(void)
{
    char line[400], label64[65], name254[255];
    struct spec s = {line, NH, O3B_TARGET_HOST_TOO_LONG, NULL, 0, 0, 0, 0};

    memset(label64, 'a', 64);
    label64[64] = '\0';
    snprintf(line, sizeof line, "CONNECT %s.sharepoint.com:443 HTTP/1.1", label64);
    CU_ASSERT_TRUE(run_spec(&s));
    snprintf(line, sizeof line, "CONNECT %s.sharepoint.com:443 HTTP/1.1", label64 + 1);
    s.st = OK;
    CU_ASSERT_TRUE(run_spec(&s));
    for (size_t i = 0; i < 254; i++)
        name254[i] = (i % 2) ? '.' : 'a';
    name254[253] = '\0'; /* 253 characters: the longest name */
    snprintf(line, sizeof line, "GET http://%s./ HTTP/1.1", name254);
    CU_ASSERT_TRUE(run_spec(&s));
    name254[253] = 'a';
    name254[254] = '\0';
    snprintf(line, sizeof line, "GET http://%s/ HTTP/1.1", name254);
    s.st = O3B_TARGET_HOST_TOO_LONG;
    CU_ASSERT_TRUE(run_spec(&s));
}

static void test_parse_refuses_ipv4_number_forms(void)
{
    static const struct spec specs[] = {
        {"GET http://885063937/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://0300.0250.1.1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://0x34.0x60.1.1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://0x34600101/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://52.96.1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://052.96.1.1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://256.96.1.1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://52.96.1.1./ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://evil.0x10/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT 885063937:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"0x34.0x60.1.1"}, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://52.96.1.1/ HTTP/1.1", NH, OK, "52.96.1.1", 80, V4, ABS, HTTP},
    };
    RUN_SPECS(specs);
}

static void test_parse_refuses_unsafe_ipv6_literals(void)
{
    static const struct spec specs[] = {
        {"CONNECT [fe80::1%25eth0]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [fe80::1%eth0]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [::ffff:52.96.1.1]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [::52.96.1.1]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [64:ff9b::3460:101]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT 2603:1006::1:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET http://2603:1006::1/ HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"2603:1006::1"}, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [2603:1006::1:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT []:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [52.96.1.1]:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [2603:1006::1]x:443 HTTP/1.1", NH, O3B_TARGET_BAD_IP, NULL, 0, 0, 0, 0},
        {"CONNECT [::1]:443 HTTP/1.1", NH, OK, "::1", 443, V6, CON, NONE},
    };
    RUN_SPECS(specs);
}

/* Documented choice: leading zeros are refused ("0443"). */
static void test_parse_refuses_bad_ports(void)
{
    // clang-format off
    static const struct spec specs[] = {
        {"GET http://outlook.office.com:/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:0/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:65536/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:-1/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:+443/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:0443/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:123456/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET http://outlook.office.com:0x1bb/ HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com: HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"CONNECT [2603:1006::1] HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"CONNECT outlook.office.com::443 HTTP/1.1", NH, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"outlook.office.com:65536"}, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
        {"GET / HTTP/1.1", {"outlook.office.com: 80"}, O3B_TARGET_BAD_PORT, NULL, 0, 0, 0, 0},
    };
    // clang-format on
    RUN_SPECS(specs);
}

/* ---- status names and the command-line form -------------------------------------- */

static void test_status_names_are_distinct_tokens_with_texts(void)
{
    for (int i = 0; i < O3B_TARGET_STATUS_COUNT; i++) {
        const char *name = o3b_target_status_name((enum o3b_target_status)i);
        const char *text = o3b_target_status_text((enum o3b_target_status)i);

        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_TRUE(strlen(name) > 1 &&
                       strspn(name, "abcdefghijklmnopqrstuvwxyz-") == strlen(name));
        CU_ASSERT_TRUE(strlen(text) > 10);
        for (int j = 0; j < i; j++)
            CU_ASSERT_STRING_NOT_EQUAL(name, o3b_target_status_name((enum o3b_target_status)j));
    }
    CU_ASSERT_STRING_EQUAL(o3b_target_status_name(O3B_TARGET_OK), "ok");
    CU_ASSERT_STRING_EQUAL(o3b_target_status_name(O3B_TARGET_HOST_MISMATCH), "host-mismatch");
    CU_ASSERT_STRING_EQUAL(o3b_target_status_name(O3B_TARGET_STATUS_COUNT), "unknown");
    CU_ASSERT_PTR_NOT_NULL(o3b_target_status_text(O3B_TARGET_STATUS_COUNT));
}

struct text_spec {
    const char *text;
    enum o3b_target_status st;
    const char *host;
    uint16_t port;
    uint8_t kind, form;
};

static bool run_text_spec(const struct text_spec *s)
{
    struct o3b_target t;
    enum o3b_target_status st = o3b_target_parse_text(s->text, &t);

    seen_status[st < O3B_TARGET_STATUS_COUNT ? st : 0] = true;
    if (st == s->st && (st != OK || (strcmp(t.host, s->host) == 0 && t.port == s->port &&
                                     t.kind == s->kind && t.form == s->form)))
        return true;
    fprintf(stderr, "\n  text '%s': expected %s, got %s %s:%u\n", s->text,
            o3b_target_status_name(s->st), o3b_target_status_name(st), st == OK ? t.host : "",
            st == OK ? t.port : 0);
    return false;
}

static void test_parse_text_accepts_what_an_admin_types(void)
{
    static const struct text_spec specs[] = {
        /* an https URL is the CONNECT a browser sends for it */
        {"https://outlook.office.com/", OK, "outlook.office.com", 443, N, CON},
        {"HTTPS://Outlook.Office.Com/owa/?a=b#c", OK, "outlook.office.com", 443, N, CON},
        {"https://outlook.office365.com:993/", OK, "outlook.office365.com", 993, N, CON},
        {"https://outlook.office.com", OK, "outlook.office.com", 443, N, CON},
        {"http://outlook.office.com/owa", OK, "outlook.office.com", 80, N, ABS},
        {"HTTP://Outlook.Office.Com:8080", OK, "outlook.office.com", 8080, N, ABS},
        {"outlook.office.com", OK, "outlook.office.com", 443, N, CON},
        {"Outlook.Office.Com.", OK, "outlook.office.com", 443, N, CON},
        {"outlook.office365.com:993", OK, "outlook.office365.com", 993, N, CON},
        {"52.96.1.1", OK, "52.96.1.1", 443, V4, CON},
        {"52.96.1.1:80", OK, "52.96.1.1", 80, V4, CON},
        {"2603:1006::1", OK, "2603:1006::1", 443, V6, CON},
        {"2603:1006:0::ABCD", OK, "2603:1006::abcd", 443, V6, CON},
        {"[2603:1006::1]", OK, "2603:1006::1", 443, V6, CON},
        {"[2603:1006::1]:80", OK, "2603:1006::1", 80, V6, CON},
        {"https://[2603:1006::1]/", OK, "2603:1006::1", 443, V6, CON},
        {"https://[2603:1006::1]:8443/x", OK, "2603:1006::1", 8443, V6, CON},
        /* plain http stays the request it is, port 443 included */
        {"http://outlook.office.com:443/", OK, "outlook.office.com", 443, N, ABS},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        CU_ASSERT_TRUE(run_text_spec(&specs[i]));
}

static void test_parse_text_refuses_what_parse_refuses(void)
{
    static const struct text_spec specs[] = {
        {"", O3B_TARGET_BAD_HOST, NULL, 0, 0, 0},
        {"evil@outlook.office.com", O3B_TARGET_USERINFO, NULL, 0, 0, 0},
        {"https://evil@outlook.office.com/", O3B_TARGET_USERINFO, NULL, 0, 0, 0},
        {"https://2603:1006::1/", O3B_TARGET_BAD_IP, NULL, 0, 0, 0},
        {"https:///owa", O3B_TARGET_BAD_HOST, NULL, 0, 0, 0},
        {"https://outlook.office.com:0/", O3B_TARGET_BAD_PORT, NULL, 0, 0, 0},
        {"outlook.office.com evil", O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0},
        {"outlook.office.com\r\n", O3B_TARGET_BAD_REQUEST_LINE, NULL, 0, 0, 0},
        {"ftp://outlook.office.com/", O3B_TARGET_BAD_SCHEME, NULL, 0, 0, 0},
        {"fe80::1%eth0", O3B_TARGET_BAD_IP, NULL, 0, 0, 0},
        {"::ffff:52.96.1.1", O3B_TARGET_BAD_IP, NULL, 0, 0, 0},
        {"885063937", O3B_TARGET_BAD_IP, NULL, 0, 0, 0},
        {"outlook.office.com:0", O3B_TARGET_BAD_PORT, NULL, 0, 0, 0},
        {"outlook.office.com:", O3B_TARGET_BAD_PORT, NULL, 0, 0, 0},
        {"outlook.office.com/owa", O3B_TARGET_UNSUPPORTED_FORM, NULL, 0, 0, 0},
        {"outlook%2eoffice.com", O3B_TARGET_BAD_HOST, NULL, 0, 0, 0},
    };
    static char huge[20000];
    struct o3b_target t;

    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        CU_ASSERT_TRUE(run_text_spec(&specs[i]));
    memcpy(huge, "https://outlook.office.com/", 27);
    memset(huge + 27, 'a', sizeof huge - 28);
    CU_ASSERT_EQUAL(o3b_target_parse_text(huge, &t), O3B_TARGET_BAD_REQUEST_LINE);
    CU_ASSERT_EQUAL(o3b_target_parse_text(NULL, &t), O3B_TARGET_BAD_REQUEST_LINE);
}

static void test_text_request_is_the_line_parse_text_parses(void)
{
    static const char *const pairs[][2] = {
        {"https://outlook.office.com/x?y", "CONNECT outlook.office.com:443 HTTP/1.1"},
        {"https://outlook.office365.com:993/", "CONNECT outlook.office365.com:993 HTTP/1.1"},
        {"http://outlook.office.com/x?y", "GET http://outlook.office.com/x?y HTTP/1.1"},
        {"outlook.office.com", "CONNECT outlook.office.com:443 HTTP/1.1"},
        {"outlook.office365.com:993", "CONNECT outlook.office365.com:993 HTTP/1.1"},
        {"2603:1006::1", "CONNECT [2603:1006::1]:443 HTTP/1.1"},
        {"[2603:1006::1]", "CONNECT [2603:1006::1]:443 HTTP/1.1"},
        {"[2603:1006::1]:80", "CONNECT [2603:1006::1]:80 HTTP/1.1"},
    };
    char buf[8192 + 32], small[16];
    static char huge[9000];

    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t n = o3b_target_text_request(pairs[i][0], buf, sizeof buf);
        CU_ASSERT_EQUAL(n, strlen(pairs[i][1]));
        CU_ASSERT_STRING_EQUAL(buf, pairs[i][1]);
    }
    CU_ASSERT_EQUAL(o3b_target_text_request("outlook.office.com", small, sizeof small), 0);
    CU_ASSERT_EQUAL(o3b_target_text_request(NULL, buf, sizeof buf), 0);
    memset(huge, 'a', sizeof huge - 1);
    CU_ASSERT_EQUAL(o3b_target_text_request(huge, buf, sizeof buf), 0);
}

/* Must run after the table tests: together they reach every status. */
static void test_specs_cover_every_status(void)
{
    for (int i = 0; i < O3B_TARGET_STATUS_COUNT; i++) {
        if (!seen_status[i])
            fprintf(stderr, "\n  no spec produced %s\n",
                    o3b_target_status_name((enum o3b_target_status)i));
        CU_ASSERT_TRUE(seen_status[i]);
    }
}

/* ---- the hostile corpus -------------------------------------------------------------- */

#define CORPUS_MIN_ROWS 330

static const char *const corpus_classes[] = {
    "fronting", "userinfo", "lookalike",      "dots",       "case",       "percent",
    "idn",      "control",  "long",           "ipv4-forms", "ipv6-forms", "port",
    "scheme",   "connect",  "duplicate-host", "long-line",  "plain-ok",   "decrypted",
};
#define N_CLASSES (sizeof corpus_classes / sizeof corpus_classes[0])

static int class_index(const char *name)
{
    for (size_t i = 0; i < N_CLASSES; i++)
        if (strcmp(name, corpus_classes[i]) == 0)
            return (int)i;
    return -1;
}

static int status_by_name(const char *name)
{
    for (int i = 0; i < O3B_TARGET_STATUS_COUNT; i++)
        if (strcmp(name, o3b_target_status_name((enum o3b_target_status)i)) == 0)
            return i;
    return -1;
}

/* What column 2 expects. */
struct expectation {
    int status;
    char host[O3B_HOST_MAX + 2];
    unsigned port;
};

static bool parse_expectation(const char *col, struct expectation *e)
{
    char extra;

    if (strncmp(col, "ok ", 3) == 0) {
        e->status = OK;
        return sscanf(col + 3, "%254s %u%c", e->host, &e->port, &extra) == 2 && e->port >= 1 &&
               e->port <= 65535;
    }
    e->status = status_by_name(col);
    return e->status > OK;
}

struct corpus_state {
    unsigned rows, failures, per_class[N_CLASSES];
};

static bool row_fail(unsigned lineno, const char *why, const char *detail)
{
    fprintf(stderr, "\n  hostile-targets.tsv:%u: %s%s%s\n", lineno, why, detail ? ": " : "",
            detail ? detail : "");
    return false;
}

/* Run the request of one row and compare with column 2. */
static bool check_outcome(unsigned lineno, const struct corpus_row *r, const struct expectation *e)
{
    struct o3b_target t;
    enum o3b_target_status st;
    char got[O3B_HOST_MAX + 64];

    st = o3b_target_parse(r->bufs[0], (size_t)r->line_len, r->hosts, r->host_lens, r->n_hosts, &t);
    if (st == OK)
        snprintf(got, sizeof got, "ok %s %u", t.host, t.port);
    else
        snprintf(got, sizeof got, "%s", o3b_target_status_name(st));
    if ((int)st != e->status || (st == OK && (strcmp(t.host, e->host) != 0 || t.port != e->port ||
                                              t.host_len != strlen(t.host)))) {
        char why[O3B_HOST_MAX + 64];
        snprintf(why, sizeof why, "expected '%s', got", r->fields[1]);
        return row_fail(lineno, why, got);
    }
    return true;
}

static bool check_row(unsigned lineno, struct corpus_row *r, const char *malformed, void *ud)
{
    struct corpus_state *cs = ud;
    struct expectation e;
    int cls;

    if (malformed != NULL)
        return row_fail(lineno, malformed, NULL);
    cls = class_index(r->fields[0]);
    if (cls < 0)
        return row_fail(lineno, "unknown class", r->fields[0]);
    cs->per_class[cls]++;
    if (!parse_expectation(r->fields[1], &e))
        return row_fail(lineno, "bad expected-parse column", r->fields[1]);
    if (strcmp(r->fields[2], "bypass") != 0 && strcmp(r->fields[2], "inspect") != 0 &&
        strcmp(r->fields[2], "decrypted") != 0)
        return row_fail(lineno, "verdict must be bypass, inspect or decrypted", r->fields[2]);
    if (e.status != OK && strcmp(r->fields[2], "inspect") != 0)
        return row_fail(lineno, "a refused target must be inspected", r->fields[1]);
    return check_outcome(lineno, r, &e);
}

static void report_corpus(const struct corpus_state *cs)
{
    printf("\n  hostile corpus: %u rows, %u failing;", cs->rows, cs->failures);
    for (size_t i = 0; i < N_CLASSES; i++)
        printf(" %s %u", corpus_classes[i], cs->per_class[i]);
    printf("\n");
}

static void test_hostile_corpus_parses_as_recorded(void)
{
    struct corpus_state cs = {0};

    CU_ASSERT_EQUAL_FATAL(corpus_each_row(check_row, &cs, &cs.rows, &cs.failures), 0);
    report_corpus(&cs);
    CU_ASSERT_EQUAL(cs.failures, 0);
    CU_ASSERT_TRUE(cs.rows >= CORPUS_MIN_ROWS);
    for (size_t i = 0; i < N_CLASSES; i++)
        CU_ASSERT_TRUE(cs.per_class[i] >= 5);
}

/* ---- whole header blocks ----------------------------------------------------- */

static enum o3b_target_status parse_block(const char *const *lines, size_t n, bool *connect,
                                          struct o3b_target *t)
{
    return o3b_target_parse_headers(lines, n, t, connect);
}

static void test_header_block_finds_every_host_line_however_spelled(void)
{
    static const char *const one[] = {"GET / HTTP/1.1", "User-Agent: x",
                                      "HoSt \t:  outlook.office.com ", "Accept: */*"};
    static const char *const two[] = {"GET / HTTP/1.1", "Host: outlook.office.com",
                                      "X-Host: evil.example", "host\t: evil.example"};
    static const char *const decoys[] = {"GET http://outlook.office.com/ HTTP/1.1",
                                         "X-Host: evil.example", "Hostname: evil.example",
                                         "Host evil.example", "Ho st: evil.example"};
    struct o3b_target t;
    bool connect;

    CU_ASSERT_EQUAL(parse_block(one, 4, &connect, &t), OK);
    CU_ASSERT_STRING_EQUAL(t.host, "outlook.office.com");
    CU_ASSERT_FALSE(connect);
    CU_ASSERT_EQUAL(parse_block(two, 4, &connect, &t), O3B_TARGET_DUPLICATE_HOST);
    CU_ASSERT_EQUAL(parse_block(decoys, 5, &connect, &t), OK); /* none of them is a Host */
    CU_ASSERT_STRING_EQUAL(t.host, "outlook.office.com");
}

static void test_header_block_with_more_than_eight_host_lines_is_duplicate_host(void)
{
    const char *lines[1 + 10] = {"GET / HTTP/1.1"};

    for (size_t i = 1; i <= 10; i++)
        lines[i] = "Host: outlook.office.com";
    /* one Host is fine, two are a duplicate, nine stop the scan: all refused */
    CU_ASSERT_EQUAL(parse_block(lines, 2, NULL, NULL), OK);
    CU_ASSERT_EQUAL(parse_block(lines, 3, NULL, NULL), O3B_TARGET_DUPLICATE_HOST);
    CU_ASSERT_EQUAL(parse_block(lines, 1 + O3B_TARGET_MAX_HOSTS, NULL, NULL),
                    O3B_TARGET_DUPLICATE_HOST);
    CU_ASSERT_EQUAL(parse_block(lines, 1 + O3B_TARGET_MAX_HOSTS + 1, NULL, NULL),
                    O3B_TARGET_DUPLICATE_HOST);
    CU_ASSERT_EQUAL(parse_block(lines, 11, NULL, NULL), O3B_TARGET_DUPLICATE_HOST);
}

static void test_header_block_reports_connect_whether_well_formed_or_not(void)
{
    static const char *const good[] = {"CONNECT outlook.office.com:443 HTTP/1.1",
                                       "Host: outlook.office.com:443"};
    static const char *const no_port[] = {"CONNECT outlook.office.com HTTP/1.1"};
    static const char *const lower[] = {"connect outlook.office.com:443 HTTP/1.1"};
    bool connect = false;

    CU_ASSERT_EQUAL(parse_block(good, 2, &connect, NULL), OK);
    CU_ASSERT_TRUE(connect);
    CU_ASSERT_EQUAL(parse_block(no_port, 1, &connect, NULL), O3B_TARGET_BAD_PORT);
    CU_ASSERT_TRUE(connect);
    CU_ASSERT_NOT_EQUAL(parse_block(lower, 1, &connect, NULL), OK);
    CU_ASSERT_FALSE(connect);
    connect = true;
    CU_ASSERT_EQUAL(parse_block(NULL, 0, &connect, NULL), O3B_TARGET_BAD_REQUEST_LINE);
    CU_ASSERT_FALSE(connect);
    CU_ASSERT_EQUAL(parse_block(good, 0, &connect, NULL), O3B_TARGET_BAD_REQUEST_LINE);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_parse_accepts_absolute_form_http_and_https),
    O3B_TEST(test_parse_accepts_connect_authority),
    O3B_TEST(test_parse_accepts_origin_form_with_one_host),
    O3B_TEST(test_parse_applies_scheme_default_ports),
    O3B_TEST(test_connect_host_without_port_is_the_connect_destination),
    O3B_TEST(test_sni_is_normalized_or_marked_bad),
    O3B_TEST(test_parse_fills_ip_address_bytes),
    O3B_TEST(test_host_header_must_agree_with_url),
    O3B_TEST(test_parse_refuses_more_than_one_host_header),
    O3B_TEST(test_parse_requires_host_for_origin_form_only),
    O3B_TEST(test_parse_refuses_empty_host_header_as_bad_host),
    O3B_TEST(test_parse_refuses_malformed_request_lines),
    O3B_TEST(test_parse_examines_exactly_the_given_lengths),
    O3B_TEST(test_parse_refuses_unsupported_forms),
    O3B_TEST(test_parse_refuses_schemes_other_than_http_and_https),
    O3B_TEST(test_parse_refuses_userinfo_everywhere),
    O3B_TEST(test_parse_refuses_badly_formed_hosts),
    O3B_TEST(test_parse_refuses_overlong_hosts),
    O3B_TEST(test_parse_refuses_ipv4_number_forms),
    O3B_TEST(test_parse_refuses_unsafe_ipv6_literals),
    O3B_TEST(test_parse_refuses_bad_ports),
    O3B_TEST(test_status_names_are_distinct_tokens_with_texts),
    O3B_TEST(test_parse_text_accepts_what_an_admin_types),
    O3B_TEST(test_parse_text_refuses_what_parse_refuses),
    O3B_TEST(test_text_request_is_the_line_parse_text_parses),
    O3B_TEST(test_specs_cover_every_status),
    O3B_TEST(test_hostile_corpus_parses_as_recorded),
    O3B_TEST(test_header_block_finds_every_host_line_however_spelled),
    O3B_TEST(test_header_block_with_more_than_eight_host_lines_is_duplicate_host),
    O3B_TEST(test_header_block_reports_connect_whether_well_formed_or_not),
};

O3B_UNIT_MAIN("target", tests)
