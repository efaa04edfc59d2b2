/* SPDX-License-Identifier: MIT */
/*
 * test_acl_proto.c - the Squid helper's protocol layer and its answers.
 *
 * proto.c and answer.c of module/acl are pure, so everything Squid can
 * write is fed here directly: lines split across reads and hundreds in one
 * read, overlong lines, channel IDs, "-" values, Squid's %-escaping (and
 * the '%' it leaves alone), the request line built for the parser, reply
 * quoting, and the answers on the real Worldwide table.  The last test
 * holds the helper to the module's decision on every CONNECT row of the
 * hostile corpus: the reply is OK exactly when o3b_decide() bypasses the
 * row's own request line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

#include "corpus.h"
#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "o365bypass/target.h"
#include "unit.h"

/* ---- fixtures ------------------------------------------------------------------------ */

static o3b_table *table;
static struct o3b_policy policy;
static char tag[40];

static int load_fixtures(void)
{
    o3b_err err;

    table = o3b_load_file(O3B_TEST_DATA "/worldwide-2025-11-14.json", NULL, &err);
    if (table == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    o3b_table_tag(table, tag, sizeof tag);
    o3b_policy_init(&policy);
    return o3b_policy_finish(&policy, &err);
}

static int free_fixtures(void)
{
    o3b_table_free(&table);
    o3b_policy_release(&policy);
    return 0;
}

static struct acl_state state(void)
{
    struct acl_state s = {table, &policy, tag, NULL, false};
    return s;
}

/* The reply to `text` (one line, no '\n'), NUL-terminated, in a static buffer. */
static const char *answer_with(const struct acl_state *s, const char *text)
{
    static char line[ACL_LINE_MAX + 1], out[ACL_REPLY_MAX + 1];
    struct acl_reply r;
    size_t len = strlen(text);

    CU_ASSERT_FATAL(len <= ACL_LINE_MAX);
    memcpy(line, text, len);
    acl_answer_line(s, line, len, &r);
    memcpy(out, r.buf, r.len);
    out[r.len] = '\0';
    return out;
}

static const char *answer(const char *text)
{
    struct acl_state s = state();
    return answer_with(&s, text);
}

/* The value of `key` in a reply (bare or quoted, unescaped), or "" if absent. */
static const char *note(const char *reply, const char *key)
{
    static char value[ACL_REPLY_MAX];
    char pat[64];
    const char *p;
    size_t n = 0;

    str_format(pat, sizeof pat, " %s=", key);
    if ((p = strstr(reply, pat)) == NULL)
        return "";
    p += strlen(pat);
    if (*p != '"') {
        while (p[n] && p[n] != ' ' && p[n] != '\n')
            n++;
        memcpy(value, p, n);
    } else {
        for (p++; *p && *p != '"'; p++)
            value[n++] = (*p == '\\' && p[1]) ? *++p : *p;
    }
    value[n] = '\0';
    return value;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- framing ------------------------------------------------------------------------- */

static void feed(struct acl_framer *f, const char *data)
{
    size_t room, len = strlen(data);
    char *space = acl_framer_space(f, &room);

    CU_ASSERT_FATAL(len <= room);
    memcpy(space, data, len);
    acl_framer_commit(f, len);
}

static void test_framer_joins_a_line_split_across_reads(void)
{
    static struct acl_framer f;
    char *line;
    size_t len;

    acl_framer_init(&f);
    feed(&f, "0 outlook.off");
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_NONE);
    feed(&f, "ice.com 44");
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_NONE);
    feed(&f, "3 -\n1 x");
    CU_ASSERT_EQUAL_FATAL(acl_framer_next(&f, &line, &len), ACL_FRAME_LINE);
    CU_ASSERT_EQUAL(len, strlen("0 outlook.office.com 443 -"));
    CU_ASSERT_NSTRING_EQUAL(line, "0 outlook.office.com 443 -", len);
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_NONE);
}

static void test_framer_gives_every_line_of_one_read_in_order(void)
{
    static struct acl_framer f;
    char chunk[600 * 16 + 1], want[32], *line;
    size_t used = 0, len;
    int n = 0;

    acl_framer_init(&f);
    for (int i = 0; i < 600; i++)
        used += (size_t)snprintf(chunk + used, sizeof chunk - used, "%d h%d 443\n", i % 100, i);
    feed(&f, chunk);
    while (acl_framer_next(&f, &line, &len) == ACL_FRAME_LINE) {
        str_format(want, sizeof want, "%d h%d 443", n % 100, n);
        CU_ASSERT_EQUAL(len, strlen(want));
        CU_ASSERT_NSTRING_EQUAL(line, want, len);
        n++;
    }
    CU_ASSERT_EQUAL(n, 600);
}

static void test_framer_accepts_a_line_of_exactly_the_maximum(void)
{
    static struct acl_framer f;
    static char big[ACL_LINE_MAX + 2];
    char *line;
    size_t len;

    acl_framer_init(&f);
    memset(big, 'a', ACL_LINE_MAX);
    big[ACL_LINE_MAX] = '\n';
    feed(&f, big);
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_LINE);
    CU_ASSERT_EQUAL(len, ACL_LINE_MAX);
}

static void test_framer_discards_an_overlong_line_up_to_its_newline_keeping_its_channel(void)
{
    static struct acl_framer f;
    static char part[4096 + 1];
    char *line;
    size_t len;
    int overlong = 0;

    acl_framer_init(&f);
    memset(part, 'x', 4096);
    feed(&f, "7 ");
    for (int i = 0; i < 10; i++) { /* 40 KiB without a newline, over several reads */
        feed(&f, part);
        while (acl_framer_next(&f, &line, &len) != ACL_FRAME_NONE)
            overlong++;
    }
    CU_ASSERT_EQUAL(overlong, 0); /* nothing to answer before its newline */
    feed(&f, "xx 443\n8 outlook.office.com 443\n");
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_OVERLONG);
    CU_ASSERT_STRING_EQUAL(f.channel, "7");
    CU_ASSERT_EQUAL_FATAL(acl_framer_next(&f, &line, &len), ACL_FRAME_LINE);
    CU_ASSERT_NSTRING_EQUAL(line, "8 outlook.office.com 443", len);
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_NONE);
}

static void test_framer_reports_an_overlong_line_that_arrives_whole(void)
{
    static struct acl_framer f;
    static char big[ACL_LINE_MAX + 64];
    char *line;
    size_t len;

    acl_framer_init(&f);
    memset(big, 'h', ACL_LINE_MAX + 10);
    memcpy(big + ACL_LINE_MAX + 10, " 443\nh 80\n", 11);
    feed(&f, big);
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_OVERLONG);
    CU_ASSERT_STRING_EQUAL(f.channel, ""); /* "hhh..." is no channel ID */
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_LINE);
    CU_ASSERT_NSTRING_EQUAL(line, "h 80", len);
}

static void test_framer_rest_is_the_unterminated_last_line(void)
{
    static struct acl_framer f;
    char *line;
    size_t len;
    bool overlong;

    acl_framer_init(&f);
    feed(&f, "outlook.office.com 443\n3 outlook.office.com 44");
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_LINE);
    CU_ASSERT_EQUAL(acl_framer_next(&f, &line, &len), ACL_FRAME_NONE);
    CU_ASSERT_TRUE(acl_framer_rest(&f, &line, &len, &overlong));
    CU_ASSERT_FALSE(overlong);
    CU_ASSERT_NSTRING_EQUAL(line, "3 outlook.office.com 44", len);
    CU_ASSERT_FALSE(acl_framer_rest(&f, &line, &len, &overlong));
}

/* ---- tokens -------------------------------------------------------------------------- */

static enum acl_input_error parse(const char *text, struct acl_query *q, char *buf, size_t size)
{
    size_t len = strlen(text);

    CU_ASSERT_FATAL(len < size);
    memcpy(buf, text, len + 1);
    return acl_parse_line(buf, len, q);
}

static void test_parse_reads_dst_port_and_the_data_dash_squid_appends(void)
{
    struct acl_query q;
    char buf[128];

    CU_ASSERT_EQUAL_FATAL(parse("outlook.office.com 443 -", &q, buf, sizeof buf), ACL_IN_OK);
    CU_ASSERT_PTR_NULL(q.channel);
    CU_ASSERT_NSTRING_EQUAL(q.host, "outlook.office.com", q.host_len);
    CU_ASSERT_NSTRING_EQUAL(q.port, "443", q.port_len);
    CU_ASSERT_PTR_NULL(q.sni);
    CU_ASSERT_PTR_NULL(q.scheme);
    CU_ASSERT_EQUAL(parse("outlook.office.com 443", &q, buf, sizeof buf), ACL_IN_OK);
    /* %DST %PORT %ssl::>sni %>rs, then Squid's %DATA, with a trailing space */
    CU_ASSERT_EQUAL_FATAL(parse("outlook.office.com 80 - http - \r", &q, buf, sizeof buf),
                          ACL_IN_OK);
    CU_ASSERT_NSTRING_EQUAL(q.scheme, "http", q.scheme_len);
    CU_ASSERT_EQUAL(parse("a.example 443 a.example - -", &q, buf, sizeof buf), ACL_IN_OK);
    CU_ASSERT_NSTRING_EQUAL(q.sni, "a.example", q.sni_len);
}

static void test_parse_takes_a_leading_number_as_the_channel_id(void)
{
    struct acl_query q;
    char buf[128];

    CU_ASSERT_EQUAL_FATAL(parse("12 outlook.office.com 443 - -", &q, buf, sizeof buf), ACL_IN_OK);
    CU_ASSERT_NSTRING_EQUAL(q.channel, "12", q.channel_len);
    CU_ASSERT_NSTRING_EQUAL(q.host, "outlook.office.com", q.host_len);
    /* the channel is known even when the rest is refused */
    CU_ASSERT_EQUAL(parse("3 outlook.office.com", &q, buf, sizeof buf), ACL_IN_NO_PORT);
    CU_ASSERT_NSTRING_EQUAL(q.channel, "3", q.channel_len);
    CU_ASSERT_EQUAL(parse("4", &q, buf, sizeof buf), ACL_IN_EMPTY);
    CU_ASSERT_NSTRING_EQUAL(q.channel, "4", q.channel_len);
}

static void test_parse_refuses_missing_dash_and_malformed_values(void)
{
    static const struct {
        const char *line;
        enum acl_input_error want;
    } rows[] = {
        {"", ACL_IN_EMPTY},
        {"   \t ", ACL_IN_EMPTY},
        {"- 443", ACL_IN_NO_HOST},
        {"outlook.office.com", ACL_IN_NO_PORT},
        {"outlook.office.com -", ACL_IN_NO_PORT},
        {"outlook.office.com 44x3", ACL_IN_BAD_PORT},
        {"outlook.office.com 443443", ACL_IN_BAD_PORT},
        {"outlook.office.com %34%34%33", ACL_IN_BAD_PORT},
        {"outlook.office.com 443 - http:x", ACL_IN_BAD_SCHEME},
        {"outlook.office.com 443 - 1http", ACL_IN_BAD_SCHEME},
        {"outlook.office.com/x 443", ACL_IN_DELIMITER},
        {"evil.example?outlook.office.com 443", ACL_IN_DELIMITER},
        {"evil.example#outlook.office.com 80 - http", ACL_IN_DELIMITER},
        {"outlook.office.com%20x 443", ACL_IN_BAD_BYTE},
        {"outlook.office.com%0D%0AX 443", ACL_IN_BAD_BYTE},
        {"outlook.office.com 443 a%00b", ACL_IN_BAD_BYTE},
        {"outlook.office.com 443 - - foo", ACL_IN_EXTRA}, /* an ACL argument */
        {"outlook.office.com 443 - - - x", ACL_IN_EXTRA},
        {"1 outlook.office.com 443 - - - - -", ACL_IN_EXTRA},
    };
    struct acl_query q;
    char buf[128];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enum acl_input_error got = parse(rows[i].line, &q, buf, sizeof buf);
        if (got != rows[i].want)
            fprintf(stderr, "\n  '%s': %s, want %s", rows[i].line, acl_input_error_name(got),
                    acl_input_error_name(rows[i].want));
        CU_ASSERT_EQUAL(got, rows[i].want);
    }
}

static void test_unescape_decodes_only_what_squid_escapes(void)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"%5B2603:1006::1%5D", "[2603:1006::1]"},
        {"a%22b%3Cc%3E.com", "a\"b<c>.com"},
        {"a%5Cb%5Ec%7Bd%7D%7Ce%7Ef%60g%27h", "a\\b^c{d}|e~f`g'h"},
        {"x%20y%00z%7F%C3%A9", "x y\0z\x7f\xc3\xa9"},
        /* Squid leaves '%' alone: these are literal, and refused later */
        {"outlook.office.co%6D", "outlook.office.co%6D"},
        {"outlook.office.co%6d", "outlook.office.co%6d"},
        {"outlook%2Eoffice.com", "outlook%2Eoffice.com"},
        {"%5b2603:1006::1%5d", "%5b2603:1006::1%5d"}, /* Squid lowercases hosts */
        {"100%", "100%"},
        {"%4", "%4"},
        {"%zz", "%zz"},
    };
    char buf[64];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = strlen(rows[i].in), want = strlen(rows[i].out), n;
        if (strcmp(rows[i].in, "x%20y%00z%7F%C3%A9") == 0)
            want = 8;
        memcpy(buf, rows[i].in, len);
        n = acl_unescape(buf, len);
        CU_ASSERT_EQUAL(n, want);
        CU_ASSERT_EQUAL(memcmp(buf, rows[i].out, want), 0);
    }
}

static void test_request_line_is_the_connect_or_url_the_proxy_would_send(void)
{
    static const struct {
        const char *line, *request;
    } rows[] = {
        {"outlook.office.com 443 -", "CONNECT outlook.office.com:443 HTTP/1.1"},
        {"7 %5B2603:1006::1%5D 443 - -", "CONNECT [2603:1006::1]:443 HTTP/1.1"},
        {"2603:1006::1 443", "CONNECT 2603:1006::1:443 HTTP/1.1"}, /* refused: bare IPv6 */
        {"outlook.office.com 80 - http -", "GET http://outlook.office.com:80/ HTTP/1.1"},
        {"%5B2603:1006::1%5D 443 - https", "GET https://[2603:1006::1]:443/ HTTP/1.1"},
        {"user@outlook.office.com 443", "CONNECT user@outlook.office.com:443 HTTP/1.1"},
    };
    struct acl_query q;
    char buf[128], req[256];
    size_t n;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(parse(rows[i].line, &q, buf, sizeof buf), ACL_IN_OK);
        n = acl_request_line(&q, req, sizeof req);
        CU_ASSERT_EQUAL(n, strlen(rows[i].request));
        CU_ASSERT_NSTRING_EQUAL(req, rows[i].request, n);
    }
    CU_ASSERT_EQUAL(acl_request_line(&q, req, 10), 0); /* does not fit: nothing */
}

/* ---- replies ----------------------------------------------------------------------------- */

static void test_reply_quotes_what_is_not_a_bare_token_as_squid_reads_it(void)
{
    struct acl_reply r;

    acl_reply_begin(&r, "12", 2, true);
    acl_reply_kv(&r, "a", "Optimize");
    acl_reply_kv(&r, "b", "*.sharepoint.com");
    acl_reply_kv(&r, "c", "52.96.0.0/14");
    acl_reply_kv(&r, "d", "two words");
    acl_reply_kv(&r, "e", "say \"hi\" \\ bye");
    acl_reply_kv(&r, "f", "line\nbreak");
    acl_reply_kv(&r, "g", "");
    acl_reply_kv(&r, "h", "100%");
    acl_reply_end(&r);
    CU_ASSERT_EQUAL(r.len, strlen("12 OK a=Optimize b=*.sharepoint.com c=52.96.0.0/14 "
                                  "d=\"two words\" e=\"say \\\"hi\\\" \\\\ bye\" "
                                  "f=\"line?break\" g=\"\" h=\"100%\"\n"));
    CU_ASSERT_NSTRING_EQUAL(r.buf,
                            "12 OK a=Optimize b=*.sharepoint.com c=52.96.0.0/14 "
                            "d=\"two words\" e=\"say \\\"hi\\\" \\\\ bye\" f=\"line?break\" "
                            "g=\"\" h=\"100%\"\n",
                            r.len);
    acl_reply_begin(&r, NULL, 0, false);
    CU_ASSERT_NSTRING_EQUAL(r.buf, "ERR", r.len);
}

static void test_reply_is_bounded_and_still_ends_with_a_quote_and_newline(void)
{
    static char huge[3 * ACL_REPLY_MAX];
    struct acl_reply r;

    memset(huge, '"', sizeof huge - 1);
    acl_reply_begin(&r, "1", 1, false);
    acl_reply_kv(&r, "message", huge);
    acl_reply_kv(&r, "more", "x");
    acl_reply_end(&r);
    CU_ASSERT_TRUE(r.len <= ACL_REPLY_MAX);
    CU_ASSERT_EQUAL(r.buf[r.len - 1], '\n');
    CU_ASSERT_EQUAL(r.buf[r.len - 2], '"');
    CU_ASSERT_EQUAL(r.buf[r.len - 3], '"'); /* the last escape pair \" is whole */
    CU_ASSERT_EQUAL(r.buf[r.len - 4], '\\');
    CU_ASSERT_PTR_NULL(memchr(r.buf, '\n', r.len - 1));
}

/* ---- answers on the real table ------------------------------------------------------------- */

static void test_answer_ok_for_a_bypassed_host_with_the_decision_as_notes(void)
{
    const char *r = answer("outlook.office.com 443 - -");

    CU_ASSERT_TRUE(starts(r, "OK "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_verdict"), "bypass");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "table");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_set"), "1");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_category"), "Optimize");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_area"), "Exchange");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_match"), "outlook.office.com");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_table"), tag);
    CU_ASSERT_STRING_EQUAL(note(r, "log"), "bypass; set=1; category=Optimize; area=Exchange; "
                                           "match=outlook.office.com");
    CU_ASSERT_STRING_EQUAL(note(r, "message"), o3b_reason_text(O3B_R_TABLE));
    CU_ASSERT_EQUAL(r[strlen(r) - 1], '\n');
}

static void test_answer_err_for_inspected_hosts_with_the_reason(void)
{
    const char *r = answer("www.example.org 443");

    CU_ASSERT_TRUE(starts(r, "ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_verdict"), "inspect");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "not-listed");
    r = answer("www.office.com 443"); /* Default category */
    CU_ASSERT_TRUE(starts(r, "ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "category");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_category"), "Default");
    r = answer("outlook.office.com 8443"); /* listed, but for no entry on 8443 */
    CU_ASSERT_TRUE(starts(r, "ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "port");
    /* port first: set 10 lists *.mail.protection.outlook.com for 25 only, so
       on 443 set 9's *.protection.outlook.com (Allow) decides */
    r = answer("x.mail.protection.outlook.com 443");
    CU_ASSERT_TRUE(starts(r, "OK "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_set"), "9");
    CU_ASSERT_TRUE(starts(answer("outlook.office365.com 993"), "OK ")); /* set 2, Allow */
}

static void test_answer_echoes_the_channel_id_on_every_kind_of_reply(void)
{
    CU_ASSERT_TRUE(starts(answer("0 outlook.office.com 443 - -"), "0 OK "));
    CU_ASSERT_TRUE(starts(answer("41 www.example.org 443 - -"), "41 ERR "));
    CU_ASSERT_TRUE(starts(answer("9 outlook.office.com - - -"), "9 ERR "));
    CU_ASSERT_TRUE(starts(answer("5"), "5 ERR "));
}

static void test_answer_ip_literals_as_squid_writes_them(void)
{
    CU_ASSERT_TRUE(starts(answer("%5B2603:1006::1%5D 443 - -"), "OK "));
    CU_ASSERT_TRUE(starts(answer("52.96.1.1 443 - -"), "OK "));
    CU_ASSERT_TRUE(starts(answer("8.8.8.8 443 - -"), "ERR "));
    CU_ASSERT_STRING_EQUAL(note(answer("2603:1006::1 443"), "o365bypass_detail"), "bad-ip");
    /* what Squid would have canonicalized is refused here, as by the module */
    CU_ASSERT_TRUE(starts(answer("%5B::ffff:52.96.1.1%5D 443"), "ERR "));
    CU_ASSERT_STRING_EQUAL(note(answer("0x34.96.1.1 443"), "o365bypass_detail"), "bad-ip");
}

static void test_answer_never_decodes_a_percent_squid_left_alone(void)
{
    const char *r = answer("outlook.office.co%6D 443 - -");

    CU_ASSERT_TRUE(starts(r, "ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "malformed");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_detail"), "bad-host");
    CU_ASSERT_TRUE(starts(answer("%5b2603:1006::1%5d 443"), "ERR "));
}

static void test_answer_err_for_every_unreadable_line(void)
{
    // clang-format off
    static const char *const lines[] = {
        "", "-", "outlook.office.com", "outlook.office.com -", "- 443",
        "outlook.office.com 0443", "outlook.office.com 0", "outlook.office.com 65536",
        "outlook.office.com 443 - ftp", "user@outlook.office.com 443",
        "outlook.office.com@evil.example 443", "outlook.office.com. 443 - - x",
        "outlook..office.com 443", "outlook.office.com%20 443",
    };
    // clang-format on

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *r = answer(lines[i]);
        if (!starts(r, "ERR "))
            fprintf(stderr, "\n  '%s' -> %s", lines[i], r);
        CU_ASSERT_TRUE(starts(r, "ERR "));
        CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_verdict"), "inspect");
        CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "malformed");
        CU_ASSERT_NOT_EQUAL(note(r, "o365bypass_detail")[0], '\0');
        CU_ASSERT_NOT_EQUAL(note(r, "message")[0], '\0');
    }
}

static void test_answer_sni_must_name_the_destination(void)
{
    const char *r;

    CU_ASSERT_TRUE(starts(answer("outlook.office.com 443 outlook.office.com -"), "OK "));
    CU_ASSERT_TRUE(starts(answer("outlook.office.com 443 OUTLOOK.Office.com. -"), "OK "));
    r = answer("evil.example 443 outlook.office.com -"); /* a forged SNI cannot widen */
    CU_ASSERT_TRUE(starts(r, "ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "sni-mismatch");
    r = answer("outlook.office.com 443 evil.example -"); /* nor the other way round */
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "sni-mismatch");
    CU_ASSERT_TRUE(starts(answer("52.96.1.1 443 outlook.office.com"), "ERR "));
    CU_ASSERT_TRUE(starts(answer("outlook.office.com 443 outlook..office.com"), "ERR "));
    /* a malformed destination is malformed before any SNI question */
    CU_ASSERT_STRING_EQUAL(
        note(answer("outlook.office.co%6D 443 outlook.office.com"), "o365bypass_reason"),
        "malformed");
}

static void test_answer_with_a_scheme_decides_the_url_the_proxy_forwards(void)
{
    struct o3b_target t;
    struct o3b_decision d;
    const char *want;

    CU_ASSERT_TRUE(starts(answer("outlook.office.com 80 - http -"), "OK "));
    CU_ASSERT_TRUE(starts(answer("www.example.org 80 - http -"), "ERR "));
    /* https and plain http to 443 get whatever the core decides for that URL */
    const char *urls[][2] = {
        {"outlook.office.com 443 - https -", "GET https://outlook.office.com/ HTTP/1.1"},
        {"outlook.office.com 443 - http -", "GET http://outlook.office.com:443/ HTTP/1.1"},
    };
    for (size_t i = 0; i < 2; i++) {
        enum o3b_target_status st =
            o3b_target_parse(urls[i][1], strlen(urls[i][1]), NULL, NULL, 0, &t);
        o3b_decide(table, &policy, &t, st, &d);
        want = d.verdict == O3B_BYPASS ? "OK " : "ERR ";
        CU_ASSERT_TRUE(starts(answer(urls[i][0]), want));
    }
    CU_ASSERT_TRUE(starts(answer("outlook.office.com 21 - ftp -"), "ERR "));
}

static void test_answer_uses_the_policy(void)
{
    struct o3b_policy never;
    struct acl_state s = state();
    o3b_err err;

    o3b_policy_init(&never);
    CU_ASSERT_EQUAL_FATAL(o3b_policy_add_never(&never, "outlook.office.com", &err), 0);
    CU_ASSERT_EQUAL_FATAL(o3b_policy_finish(&never, &err), 0);
    s.policy = &never;
    CU_ASSERT_STRING_EQUAL(note(answer_with(&s, "outlook.office.com 443"), "o365bypass_reason"),
                           "never-bypass");
    o3b_policy_release(&never);
}

/* --brief: the same verdict on the same channel, with only the note the fast
   path matches (verdict), the reason and the whole decision text (log=). */
static void test_brief_answers_carry_only_verdict_reason_and_log(void)
{
    static const char *const lines[] = {"outlook.office.com 443", "7 outlook.office.com 443 - -",
                                        "www.example.org 443", "www.office.com 443",
                                        "outlook.office.com 443 evil.example -"};
    struct acl_state s = state();

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char full[ACL_REPLY_MAX + 1], want[ACL_REPLY_MAX + 1], verdict[32], reason[64];
        const char *brief;

        str_format(full, sizeof full, "%s", answer(lines[i]));
        str_format(verdict, sizeof verdict, "%s", note(full, "o365bypass_verdict"));
        str_format(reason, sizeof reason, "%s", note(full, "o365bypass_reason"));
        s.brief = true;
        brief = answer_with(&s, lines[i]);
        s.brief = false;
        /* "[ch ]OK|ERR o365bypass_verdict=V o365bypass_reason=R log=...\n", the
           full answer's log= (its last pair) unchanged */
        CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(full, " log=\""));
        CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(full, "message="));
        str_format(want, sizeof want, "%.*so365bypass_verdict=%s o365bypass_reason=%s%s",
                   (int)(strstr(full, "message=") - full), full, verdict, reason,
                   strstr(full, " log=\""));
        if (strcmp(brief, want) != 0)
            fprintf(stderr, "\n    %s:\n      %s      want %s", lines[i], brief, want);
        CU_ASSERT_STRING_EQUAL(brief, want);
    }
}

static void test_answer_err_to_everything_without_a_usable_table(void)
{
    struct acl_state s = {NULL, &policy, NULL, "config", false};
    const char *r = answer_with(&s, "3 outlook.office.com 443 - -");

    CU_ASSERT_TRUE(starts(r, "3 ERR "));
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_reason"), "unavailable");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_detail"), "config");
    CU_ASSERT_STRING_EQUAL(note(r, "o365bypass_table"), "");
}

static void test_answer_refused_lines_keep_their_channel(void)
{
    struct acl_state s = state();
    struct acl_reply r;

    acl_answer_refused(&s, "17", ACL_IN_OVERLONG, &r);
    CU_ASSERT_TRUE(r.len > 7 && strncmp(r.buf, "17 ERR ", 7) == 0);
    acl_answer_refused(&s, NULL, ACL_IN_TRUNCATED, &r);
    CU_ASSERT_TRUE(r.len > 4 && strncmp(r.buf, "ERR ", 4) == 0);
    CU_ASSERT_EQUAL(r.buf[r.len - 1], '\n');
}

/* ---- the hostile corpus: the helper and the module agree ------------------------------------- */

/* Squid's %DST/%PORT for a CONNECT authority: brackets and bytes escaped as
   Squid escapes them; "-" for a missing port.  Returns false when the row's
   target is not one token. */
static bool squid_tokens(const char *auth, size_t len, char *out, size_t size)
{
    const char *colon = NULL, *end = auth + len;
    size_t used = 0;

    if (len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', len);
        colon = close && close + 1 < end && close[1] == ':' ? close + 1 : NULL;
    } else {
        for (const char *p = auth; p < end; p++)
            if (*p == ':')
                colon = p;
    }
    for (const char *p = auth; p < (colon ? colon : end) && used + 4 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"#<>[\\]^`{|}~'", c))
            used += (size_t)snprintf(out + used, size - used, "%%%02X", c);
        else
            out[used++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); /* Squid lowercases */
    }
    if (used + 8 >= size)
        return false;
    out[used++] = ' ';
    if (colon == NULL || colon + 1 == end) {
        out[used++] = '-';
    } else {
        size_t n = (size_t)(end - colon - 1);
        if (used + n + 1 >= size)
            return false;
        memcpy(out + used, colon + 1, n);
        used += n;
    }
    out[used] = '\0';
    return true;
}

struct corpus_tally {
    unsigned compared, skipped, bypassed;
};

static bool compare_row(unsigned lineno, struct corpus_row *row, const char *why, void *ud)
{
    struct corpus_tally *tally = ud;
    static char tokens[4 * ACL_LINE_MAX];
    const char *line = row->bufs[0], *sp;
    struct o3b_target t;
    struct o3b_decision d;
    enum o3b_target_status st;
    size_t len = (size_t)row->line_len;

    if (why != NULL || row->n_hosts > 0 || len < 18 || strncmp(line, "CONNECT ", 8) != 0 ||
        (sp = memchr(line + 8, ' ', len - 8)) == NULL ||
        memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line)) != NULL ||
        !squid_tokens(line + 8, (size_t)(sp - line - 8), tokens, sizeof tokens) ||
        strlen(tokens) > ACL_LINE_MAX) {
        tally->skipped++;
        return true;
    }
    st = o3b_target_parse(line, len, NULL, NULL, 0, &t);
    o3b_decide(table, &policy, &t, st, &d);
    tally->compared++;
    tally->bypassed += d.verdict == O3B_BYPASS;
    if (starts(answer(tokens), "OK ") != (d.verdict == O3B_BYPASS)) {
        fprintf(stderr, "\n  corpus line %u: tokens '%s': helper %.40s, module %s", lineno, tokens,
                answer(tokens), d.verdict == O3B_BYPASS ? "bypass" : "inspect");
        return false;
    }
    return true;
}

static void test_answer_agrees_with_the_module_on_every_connect_row_of_the_corpus(void)
{
    struct corpus_tally tally = {0, 0, 0};
    unsigned rows = 0, failures = 0;

    CU_ASSERT_EQUAL_FATAL(corpus_each_row(compare_row, &tally, &rows, &failures), 0);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_TRUE(tally.compared >= 50); /* the CONNECT rows without a Host header */
    CU_ASSERT_TRUE(tally.bypassed >= 5);
    fprintf(stderr, "\n  corpus: %u CONNECT rows compared (%u bypassed), %u other rows skipped ",
            tally.compared, tally.bypassed, tally.skipped);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_framer_joins_a_line_split_across_reads),
    O3B_TEST(test_framer_gives_every_line_of_one_read_in_order),
    O3B_TEST(test_framer_accepts_a_line_of_exactly_the_maximum),
    O3B_TEST(test_framer_discards_an_overlong_line_up_to_its_newline_keeping_its_channel),
    O3B_TEST(test_framer_reports_an_overlong_line_that_arrives_whole),
    O3B_TEST(test_framer_rest_is_the_unterminated_last_line),
    O3B_TEST(test_parse_reads_dst_port_and_the_data_dash_squid_appends),
    O3B_TEST(test_parse_takes_a_leading_number_as_the_channel_id),
    O3B_TEST(test_parse_refuses_missing_dash_and_malformed_values),
    O3B_TEST(test_unescape_decodes_only_what_squid_escapes),
    O3B_TEST(test_request_line_is_the_connect_or_url_the_proxy_would_send),
    O3B_TEST(test_reply_quotes_what_is_not_a_bare_token_as_squid_reads_it),
    O3B_TEST(test_reply_is_bounded_and_still_ends_with_a_quote_and_newline),
    O3B_TEST(test_answer_ok_for_a_bypassed_host_with_the_decision_as_notes),
    O3B_TEST(test_answer_err_for_inspected_hosts_with_the_reason),
    O3B_TEST(test_answer_echoes_the_channel_id_on_every_kind_of_reply),
    O3B_TEST(test_answer_ip_literals_as_squid_writes_them),
    O3B_TEST(test_answer_never_decodes_a_percent_squid_left_alone),
    O3B_TEST(test_answer_err_for_every_unreadable_line),
    O3B_TEST(test_answer_sni_must_name_the_destination),
    O3B_TEST(test_answer_with_a_scheme_decides_the_url_the_proxy_forwards),
    O3B_TEST(test_answer_uses_the_policy),
    O3B_TEST(test_brief_answers_carry_only_verdict_reason_and_log),
    O3B_TEST(test_answer_err_to_everything_without_a_usable_table),
    O3B_TEST(test_answer_refused_lines_keep_their_channel),
    O3B_TEST(test_answer_agrees_with_the_module_on_every_connect_row_of_the_corpus),
};

O3B_UNIT_MAIN_WITH("acl_proto", tests, load_fixtures, free_fixtures, NULL)
