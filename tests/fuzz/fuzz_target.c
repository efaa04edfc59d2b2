/* SPDX-License-Identifier: MIT */
/*
 * fuzz_target.c - libFuzzer target for the request-target parser (target.h).
 *
 * Input: a request line, then up to three Host header values, separated by
 * '\n' bytes; the third Host value takes the rest, '\n' included, so every
 * byte still reaches the parser.  The line and the values point straight
 * into the fuzzer's buffer (no NUL after them), so ASan sees any read past
 * a length.  The whole input, NUL-terminated, also goes through
 * o3b_target_parse_text().
 *
 * On every OK result the destination must be well formed (see check_target)
 * and must survive a round trip: written back as "CONNECT host:port", as an
 * absolute URL with a matching Host header and, for names, in uppercase
 * with a trailing dot, it parses to the same destination.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/target.h"

#define MAX_HOSTS 3
#define LINE_MAX_BUILT (O3B_HOST_MAX + 64)

/* Lowercase letters, digits, '-' and '.', nothing else. */
static bool is_lower_ldh(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void check_name(const struct o3b_target *t)
{
    char norm[O3B_HOST_MAX + 1];
    size_t nlen = 0;

    O3B_FUZZ_CHECK(is_lower_ldh(t->host, t->host_len));
    O3B_FUZZ_CHECK(t->host[t->host_len - 1] != '.');
    O3B_FUZZ_CHECK(o3b_host_normalize(t->host, t->host_len, norm, &nlen) == O3B_HOST_OK);
    O3B_FUZZ_CHECK(nlen == t->host_len && memcmp(norm, t->host, nlen) == 0);
    O3B_FUZZ_CHECK(all_zero(t->addr, sizeof t->addr));
}

static void check_ip(const struct o3b_target *t)
{
    uint8_t addr[16] = {0};
    char text[64];

    if (t->kind == O3B_KIND_IPV4) {
        O3B_FUZZ_CHECK(o3b_ipv4_parse(t->host, t->host_len, addr) == 0);
        O3B_FUZZ_CHECK(memcmp(addr, t->addr, 4) == 0);
        O3B_FUZZ_CHECK(all_zero(t->addr + 4, 12));
    } else {
        O3B_FUZZ_CHECK(o3b_ipv6_parse(t->host, t->host_len, addr) == 0);
        O3B_FUZZ_CHECK(memcmp(addr, t->addr, 16) == 0);
        O3B_FUZZ_CHECK(!o3b_ipv6_embeds_ipv4(t->addr));
    }
    o3b_addr_format(t->kind == O3B_KIND_IPV4 ? O3B_AF_INET : O3B_AF_INET6, t->addr, text,
                    sizeof text);
    O3B_FUZZ_CHECK(strcmp(text, t->host) == 0); /* canonical text */
}

/* What every OK result must look like. */
static void check_target(const struct o3b_target *t)
{
    O3B_FUZZ_CHECK(t->host_len >= 1 && t->host_len <= O3B_HOST_MAX);
    O3B_FUZZ_CHECK(t->host_len == strlen(t->host));
    O3B_FUZZ_CHECK(t->port != 0);
    O3B_FUZZ_CHECK(t->kind <= O3B_KIND_IPV6);
    O3B_FUZZ_CHECK(t->form <= O3B_FORM_ORIGIN);
    if (t->form == O3B_FORM_CONNECT)
        O3B_FUZZ_CHECK(t->scheme == O3B_SCHEME_NONE);
    else if (t->form == O3B_FORM_ORIGIN)
        O3B_FUZZ_CHECK(t->scheme == O3B_SCHEME_HTTP);
    else
        O3B_FUZZ_CHECK(t->scheme == O3B_SCHEME_HTTP || t->scheme == O3B_SCHEME_HTTPS);
    if (t->kind == O3B_KIND_NAME)
        check_name(t);
    else
        check_ip(t);
}

static bool same_destination(const struct o3b_target *a, const struct o3b_target *b)
{
    return a->host_len == b->host_len && strcmp(a->host, b->host) == 0 && a->port == b->port &&
           a->kind == b->kind && memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

/* "host" as an authority: brackets around IPv6, uppercase (+ '.') on request. */
static int authority(const struct o3b_target *t, bool shout, char *buf, size_t size)
{
    char host[O3B_HOST_MAX + 2];

    memcpy(host, t->host, t->host_len + 1u);
    if (shout) {
        for (size_t i = 0; i < t->host_len; i++)
            if (host[i] >= 'a' && host[i] <= 'z')
                host[i] = (char)(host[i] - 'a' + 'A');
        if (t->kind == O3B_KIND_NAME) {
            host[t->host_len] = '.';
            host[t->host_len + 1] = '\0';
        }
    }
    if (t->kind == O3B_KIND_IPV6)
        return snprintf(buf, size, "[%s]:%u", host, t->port);
    return snprintf(buf, size, "%s:%u", host, t->port);
}

/* Parse `line` with at most one Host value; must give the destination of `t`. */
static void expect_same(const struct o3b_target *t, const char *line, const char *host)
{
    struct o3b_target again;
    size_t host_len = host ? strlen(host) : 0;
    enum o3b_target_status st =
        o3b_target_parse(line, strlen(line), &host, &host_len, host ? 1 : 0, &again);

    O3B_FUZZ_CHECK(st == O3B_TARGET_OK);
    O3B_FUZZ_CHECK(same_destination(t, &again));
}

static void check_round_trips(const struct o3b_target *t)
{
    char auth[LINE_MAX_BUILT], line[2 * LINE_MAX_BUILT];
    struct o3b_target again;

    for (int shout = 0; shout <= 1; shout++) {
        authority(t, shout, auth, sizeof auth);
        snprintf(line, sizeof line, "CONNECT %s HTTP/1.1", auth);
        expect_same(t, line, NULL);
        expect_same(t, line, auth);
        snprintf(line, sizeof line, "GET http://%s/x HTTP/1.1", auth);
        expect_same(t, line, auth);
        expect_same(t, "GET /x HTTP/1.1", auth);
        O3B_FUZZ_CHECK(o3b_target_parse_text(auth, &again) == O3B_TARGET_OK);
        O3B_FUZZ_CHECK(same_destination(t, &again));
    }
}

static void check_status(enum o3b_target_status st)
{
    O3B_FUZZ_CHECK((unsigned)st < O3B_TARGET_STATUS_COUNT);
    O3B_FUZZ_CHECK(o3b_target_status_name(st) != NULL);
    O3B_FUZZ_CHECK(o3b_target_status_text(st) != NULL);
}

/* Split the input into the request line and the Host values. */
static size_t split_input(const char *text, size_t size, size_t *line_len,
                          const char *hosts[MAX_HOSTS], size_t lens[MAX_HOSTS])
{
    const char *nl = memchr(text, '\n', size);
    const char *p;
    size_t rest, n = 0;

    *line_len = nl ? (size_t)(nl - text) : size;
    if (nl == NULL)
        return 0;
    p = nl + 1;
    rest = size - *line_len - 1;
    for (;;) {
        const char *end = n + 1 < MAX_HOSTS ? memchr(p, '\n', rest) : NULL;
        size_t len = end ? (size_t)(end - p) : rest;

        hosts[n] = p;
        lens[n++] = len;
        if (end == NULL)
            return n;
        p = end + 1;
        rest -= len + 1;
    }
}

static void fuzz_request(const char *text, size_t size)
{
    const char *hosts[MAX_HOSTS];
    size_t lens[MAX_HOSTS], line_len;
    size_t n_hosts = split_input(text, size, &line_len, hosts, lens);
    struct o3b_target t;
    enum o3b_target_status st = o3b_target_parse(text, line_len, hosts, lens, n_hosts, &t);

    check_status(st);
    O3B_FUZZ_CHECK(o3b_target_parse(text, line_len, hosts, lens, n_hosts, NULL) == st);
    if (st != O3B_TARGET_OK)
        return;
    check_target(&t);
    check_round_trips(&t);
    if (n_hosts == 0)
        O3B_FUZZ_CHECK(t.form != O3B_FORM_ORIGIN);
}

static void fuzz_text(const char *text, size_t size)
{
    char *copy = malloc(size + 1);
    struct o3b_target t;
    enum o3b_target_status st;

    if (copy == NULL)
        return;
    memcpy(copy, text, size);
    copy[size] = '\0';
    st = o3b_target_parse_text(copy, &t);
    check_status(st);
    /* no Host header is involved ("/x://" is a path: no-host is possible) */
    O3B_FUZZ_CHECK(st != O3B_TARGET_HOST_MISMATCH && st != O3B_TARGET_DUPLICATE_HOST);
    if (st == O3B_TARGET_OK) {
        check_target(&t);
        check_round_trips(&t);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    fuzz_request(text, size);
    fuzz_text(text, size);
    return 0;
}
