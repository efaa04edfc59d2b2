/* SPDX-License-Identifier: MIT */
/*
 * target.c - request line and Host headers to one destination (see target.h).
 *
 * One pass, no allocation: the request line is split into method, target
 * and version; the target's form (CONNECT authority, absolute-form,
 * origin-form) picks where the authority text is; every authority (URL,
 * CONNECT, each Host value) goes through the same parse_authority(), which
 * leans on host.h for names and cidr.h for IP literals.  Only then are the
 * URL and the Host header compared, by normalized host text (IP literals in
 * canonical inet_ntop form, so IPv6 spellings compare equal) and effective
 * port.
 *
 * Choices the header leaves open, each one "refuse rather than guess":
 *  - ports with leading zeros ("0443") are refused (bad-port): Squid never
 *    sends them and other parsers read them differently;
 *  - a dotted quad with a trailing dot ("52.96.1.1.") is refused (bad-ip);
 *  - more than one ':' outside brackets is an unbracketed IPv6 address
 *    (bad-ip) when the text before the first ':' is hex digits and dots,
 *    otherwise the host is checked first and the port ("443:443") fails;
 *  - an empty Host value (after trimming SP/HTAB) is bad-host, not no-host;
 *  - "CONNECT" is matched case-sensitively; any other method with an
 *    authority-form target is an unsupported form;
 *  - `out` may be NULL (validation only); it is written only on success.
 * Precedence when several things are wrong: request line, form, scheme,
 * URL authority, Host count, Host value, missing Host, disagreement.
 */
#include "o365bypass/target.h"

#include <string.h>

#include "o365bypass/cidr.h"

#define METHOD_MAX 32
#define PORT_DIGITS_MAX 5
#define TEXT_MAX 8192 /* o3b_target_parse_text(): longest text accepted */

/* One parsed authority: a host (name or IP literal) and an optional port. */
struct authority {
    char host[O3B_HOST_MAX + 1];
    size_t host_len;
    uint8_t kind;
    uint8_t addr[16];
    bool has_port;
    uint16_t port;
};

static const char *const status_names[O3B_TARGET_STATUS_COUNT] = {
    [O3B_TARGET_OK] = "ok",
    [O3B_TARGET_BAD_REQUEST_LINE] = "bad-request-line",
    [O3B_TARGET_UNSUPPORTED_FORM] = "unsupported-form",
    [O3B_TARGET_BAD_SCHEME] = "bad-scheme",
    [O3B_TARGET_USERINFO] = "userinfo",
    [O3B_TARGET_BAD_HOST] = "bad-host",
    [O3B_TARGET_HOST_TOO_LONG] = "host-too-long",
    [O3B_TARGET_BAD_IP] = "bad-ip",
    [O3B_TARGET_BAD_PORT] = "bad-port",
    [O3B_TARGET_NO_HOST] = "no-host",
    [O3B_TARGET_DUPLICATE_HOST] = "duplicate-host",
    [O3B_TARGET_HOST_MISMATCH] = "host-mismatch",
};

static const char *const status_texts[O3B_TARGET_STATUS_COUNT] = {
    [O3B_TARGET_OK] = "the request names a well-formed destination",
    [O3B_TARGET_BAD_REQUEST_LINE] =
        "the request line is not METHOD SP target SP HTTP/d.d or holds control bytes",
    [O3B_TARGET_UNSUPPORTED_FORM] =
        "the request target is not an absolute URL, a CONNECT authority or a path",
    [O3B_TARGET_BAD_SCHEME] = "the URL scheme is neither http nor https",
    [O3B_TARGET_USERINFO] = "the authority carries user information (user@host)",
    [O3B_TARGET_BAD_HOST] = "the host is empty or not a well-formed host name",
    [O3B_TARGET_HOST_TOO_LONG] =
        "the host name is longer than 253 characters or has a label over 63",
    [O3B_TARGET_BAD_IP] = "the IP literal is not a plain dotted quad or bracketed IPv6 address",
    [O3B_TARGET_BAD_PORT] = "the port is missing, empty, not decimal or outside 1..65535",
    [O3B_TARGET_NO_HOST] = "a path-only request came without a Host header",
    [O3B_TARGET_DUPLICATE_HOST] = "the request has more than one Host header",
    [O3B_TARGET_HOST_MISMATCH] = "the Host header names a different host than the URL",
};

const char *o3b_target_status_name(enum o3b_target_status st)
{
    if ((unsigned)st < O3B_TARGET_STATUS_COUNT)
        return status_names[st];
    return "unknown";
}

const char *o3b_target_status_text(enum o3b_target_status st)
{
    if ((unsigned)st < O3B_TARGET_STATUS_COUNT)
        return status_texts[st];
    return "unknown status";
}

/* ---- character classes ---------------------------------------------------- */

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 3986 scheme character after the first ALPHA. */
static bool is_scheme_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}

static bool equals_nocase(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);

    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + ('a' - 'A'));
        if (c != (unsigned char)lit[i])
            return false;
    }
    return true;
}

/* ---- request line --------------------------------------------------------- */

/* METHOD SP target SP HTTP/d.d, nothing else, no control bytes anywhere. */
static enum o3b_target_status split_request_line(const char *line, size_t len, const char **method,
                                                 size_t *method_len, const char **target,
                                                 size_t *target_len)
{
    const size_t vlen = 8; /* "HTTP/d.d" */
    const char *sp1, *sp2, *v;

    if (line == NULL || len == 0)
        return O3B_TARGET_BAD_REQUEST_LINE;
    for (size_t i = 0; i < len; i++)
        if (is_ctl((unsigned char)line[i]))
            return O3B_TARGET_BAD_REQUEST_LINE;
    sp1 = memchr(line, ' ', len);
    if (sp1 == NULL || sp1 == line || (size_t)(sp1 - line) > METHOD_MAX)
        return O3B_TARGET_BAD_REQUEST_LINE;
    for (const char *p = line; p < sp1; p++)
        if (!is_tchar((unsigned char)*p))
            return O3B_TARGET_BAD_REQUEST_LINE;
    sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
    if (sp2 == NULL || sp2 == sp1 + 1 || len - (size_t)(sp2 + 1 - line) != vlen)
        return O3B_TARGET_BAD_REQUEST_LINE;
    v = sp2 + 1;
    if (memcmp(v, "HTTP/", 5) != 0 || !is_digit((unsigned char)v[5]) || v[6] != '.' ||
        !is_digit((unsigned char)v[7]))
        return O3B_TARGET_BAD_REQUEST_LINE;
    *method = line;
    *method_len = (size_t)(sp1 - line);
    *target = sp1 + 1;
    *target_len = (size_t)(sp2 - sp1 - 1);
    return O3B_TARGET_OK;
}

/* ---- authority ------------------------------------------------------------ */

/* Decimal 1..65535, digits only, no sign, no leading zero. */
static enum o3b_target_status parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned long value = 0;

    if (len == 0 || len > PORT_DIGITS_MAX || s[0] == '0')
        return O3B_TARGET_BAD_PORT;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return O3B_TARGET_BAD_PORT;
        value = value * 10 + (unsigned long)(s[i] - '0');
    }
    if (value > 65535)
        return O3B_TARGET_BAD_PORT;
    *port = (uint16_t)value;
    return O3B_TARGET_OK;
}

static void set_ip(struct authority *a, uint8_t family, const uint8_t *addr, size_t n)
{
    memset(a->addr, 0, sizeof a->addr);
    memcpy(a->addr, addr, n);
    a->kind = family == O3B_AF_INET ? O3B_KIND_IPV4 : O3B_KIND_IPV6;
    o3b_addr_format(family, a->addr, a->host, sizeof a->host);
    a->host_len = strlen(a->host);
}

/* The text between '[' and ']': a plain IPv6 address, no zone, no IPv4 in it. */
static enum o3b_target_status parse_ipv6_literal(const char *s, size_t len, struct authority *a)
{
    uint8_t addr[16];

    if (memchr(s, '%', len) != NULL || o3b_ipv6_parse(s, len, addr) != 0 ||
        o3b_ipv6_embeds_ipv4(addr))
        return O3B_TARGET_BAD_IP;
    set_ip(a, O3B_AF_INET6, addr, 16);
    return O3B_TARGET_OK;
}

/* A host name, or an IPv4 literal when host.h says the name is numeric. */
static enum o3b_target_status parse_name(const char *s, size_t len, struct authority *a)
{
    uint8_t addr[4];

    switch (o3b_host_normalize(s, len, a->host, &a->host_len)) {
    case O3B_HOST_OK:
        a->kind = O3B_KIND_NAME;
        memset(a->addr, 0, sizeof a->addr);
        return O3B_TARGET_OK;
    case O3B_HOST_NUMERIC:
        if (o3b_ipv4_parse(s, len, addr) != 0)
            return O3B_TARGET_BAD_IP; /* 885063937, 0300.0250.1.1, 52.96.1, "a.b.c.d." */
        set_ip(a, O3B_AF_INET, addr, 4);
        return O3B_TARGET_OK;
    case O3B_HOST_TOO_LONG:
    case O3B_HOST_LABEL_TOO_LONG:
        return O3B_TARGET_HOST_TOO_LONG;
    default:
        return O3B_TARGET_BAD_HOST;
    }
}

/* Hex digits and dots only: what stands before the first ':' of an IPv6 address. */
static bool looks_like_ipv6_head(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_hex((unsigned char)s[i]) && s[i] != '.')
            return false;
    return true;
}

/* Split "host[:port]" (no brackets) and parse both halves. */
static enum o3b_target_status parse_unbracketed(const char *s, size_t len, struct authority *a)
{
    const char *colon = memchr(s, ':', len);
    size_t host_len = colon ? (size_t)(colon - s) : len;
    enum o3b_target_status st;

    if (colon && memchr(colon + 1, ':', len - host_len - 1) != NULL &&
        looks_like_ipv6_head(s, host_len))
        return O3B_TARGET_BAD_IP; /* "2603:1006::1", "::1:443" */
    if (host_len == 0)
        return O3B_TARGET_BAD_HOST;
    st = parse_name(s, host_len, a);
    if (st != O3B_TARGET_OK)
        return st;
    a->has_port = colon != NULL;
    return colon ? parse_port(colon + 1, len - host_len - 1, &a->port) : O3B_TARGET_OK;
}

/* "[v6]" or "[v6]:port". */
static enum o3b_target_status parse_bracketed(const char *s, size_t len, struct authority *a)
{
    const char *close = memchr(s, ']', len);
    size_t rest;
    enum o3b_target_status st;

    if (close == NULL)
        return O3B_TARGET_BAD_IP;
    st = parse_ipv6_literal(s + 1, (size_t)(close - s - 1), a);
    if (st != O3B_TARGET_OK)
        return st;
    rest = len - (size_t)(close + 1 - s);
    if (rest == 0)
        return O3B_TARGET_OK;
    if (close[1] != ':')
        return O3B_TARGET_BAD_IP;
    a->has_port = true;
    return parse_port(close + 2, rest - 1, &a->port);
}

/* host[:port] as it appears in a URL, a CONNECT target or a Host value. */
static enum o3b_target_status parse_authority(const char *s, size_t len, struct authority *a)
{
    a->has_port = false;
    a->port = 0;
    if (memchr(s, '@', len) != NULL)
        return O3B_TARGET_USERINFO;
    if (len > 0 && s[0] == '[')
        return parse_bracketed(s, len, a);
    return parse_unbracketed(s, len, a);
}

/* ---- target forms --------------------------------------------------------- */

/* Where the authority of the request target is, and what it defaults to. */
struct target_form {
    uint8_t form;
    uint8_t scheme;
    const char *authority; /* NULL for origin-form */
    size_t authority_len;
};

static uint16_t default_port(const struct target_form *tf)
{
    return tf->scheme == O3B_SCHEME_HTTP ? 80 : 443;
}

static enum o3b_target_status classify_connect(const char *t, size_t len, struct target_form *tf)
{
    for (size_t i = 0; i < len; i++)
        if (t[i] == '/' || t[i] == '?' || t[i] == '#')
            return O3B_TARGET_UNSUPPORTED_FORM; /* a path, a URL, a query */
    if (len == 1 && t[0] == '*')
        return O3B_TARGET_UNSUPPORTED_FORM;
    tf->form = O3B_FORM_CONNECT;
    tf->scheme = O3B_SCHEME_NONE;
    tf->authority = t;
    tf->authority_len = len;
    return O3B_TARGET_OK;
}

/* Length of a syntactically valid RFC 3986 scheme followed by ':', or 0. */
static size_t scheme_length(const char *t, size_t len)
{
    size_t i = 0;

    if (len == 0 || !is_alpha((unsigned char)t[0]))
        return 0;
    while (i < len && is_scheme_char((unsigned char)t[i]))
        i++;
    return (i < len && t[i] == ':') ? i : 0;
}

static enum o3b_target_status classify_absolute(const char *t, size_t len, struct target_form *tf)
{
    size_t slen = scheme_length(t, len);
    bool slashes = slen > 0 && len - slen >= 3 && t[slen + 1] == '/' && t[slen + 2] == '/';
    size_t start = slen + 3, end;

    if (equals_nocase(t, slen, "http"))
        tf->scheme = O3B_SCHEME_HTTP;
    else if (equals_nocase(t, slen, "https"))
        tf->scheme = O3B_SCHEME_HTTPS;
    else
        return slashes ? O3B_TARGET_BAD_SCHEME : O3B_TARGET_UNSUPPORTED_FORM;
    if (!slashes)
        return O3B_TARGET_UNSUPPORTED_FORM; /* "http:host", "http:/path" */
    end = start;
    while (end < len && t[end] != '/' && t[end] != '?' && t[end] != '#')
        end++;
    tf->form = O3B_FORM_ABSOLUTE;
    tf->authority = t + start;
    tf->authority_len = end - start;
    return O3B_TARGET_OK;
}

static enum o3b_target_status classify_target(const char *method, size_t method_len, const char *t,
                                              size_t len, struct target_form *tf)
{
    if (method_len == 7 && memcmp(method, "CONNECT", 7) == 0)
        return classify_connect(t, len, tf);
    if (t[0] == '/') {
        tf->form = O3B_FORM_ORIGIN;
        tf->scheme = O3B_SCHEME_HTTP;
        tf->authority = NULL;
        tf->authority_len = 0;
        return O3B_TARGET_OK;
    }
    if (len == 1 && t[0] == '*')
        return O3B_TARGET_UNSUPPORTED_FORM; /* asterisk-form */
    return classify_absolute(t, len, tf);
}

/* ---- Host header and agreement -------------------------------------------- */

/* The single Host value, trimmed and parsed; *present says whether there was one. */
static enum o3b_target_status parse_host_header(const char *const *hosts, const size_t *lens,
                                                size_t n, struct authority *a, bool *present)
{
    const char *s;
    size_t len;

    *present = n > 0;
    if (n == 0)
        return O3B_TARGET_OK;
    if (n > 1)
        return O3B_TARGET_DUPLICATE_HOST;
    if (hosts == NULL || lens == NULL || (hosts[0] == NULL && lens[0] > 0))
        return O3B_TARGET_BAD_HOST;
    s = hosts[0];
    len = lens[0];
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return O3B_TARGET_BAD_HOST; /* empty Host: refused, not "no Host" */
    for (size_t i = 0; i < len; i++)
        if (is_ctl((unsigned char)s[i]))
            return O3B_TARGET_BAD_HOST;
    return parse_authority(s, len, a);
}

static bool same_destination(const struct authority *url, uint16_t url_port,
                             const struct authority *host, uint16_t host_port)
{
    return url->kind == host->kind && url->host_len == host->host_len &&
           memcmp(url->host, host->host, url->host_len) == 0 && url_port == host_port;
}

static void fill_target(struct o3b_target *out, const struct authority *a, uint16_t port,
                        const struct target_form *tf)
{
    memset(out, 0, sizeof *out);
    memcpy(out->host, a->host, a->host_len + 1);
    out->host_len = (uint16_t)a->host_len;
    out->port = port;
    out->kind = a->kind;
    out->form = tf->form;
    out->scheme = tf->scheme;
    memcpy(out->addr, a->addr, sizeof out->addr);
}

/* URL authority (if any) and Host header (if any) to the final destination. */
static enum o3b_target_status resolve(const struct target_form *tf, const char *const *hosts,
                                      const size_t *host_lens, size_t n_hosts,
                                      struct o3b_target *out)
{
    struct authority url, host;
    bool has_host;
    uint16_t url_port = 0, host_port;
    enum o3b_target_status st;

    if (tf->authority != NULL) {
        st = parse_authority(tf->authority, tf->authority_len, &url);
        if (st != O3B_TARGET_OK)
            return st;
        if (tf->form == O3B_FORM_CONNECT && !url.has_port)
            return O3B_TARGET_BAD_PORT;
        url_port = url.has_port ? url.port : default_port(tf);
    }
    st = parse_host_header(hosts, host_lens, n_hosts, &host, &has_host);
    if (st != O3B_TARGET_OK)
        return st;
    if (tf->authority == NULL) {
        if (!has_host)
            return O3B_TARGET_NO_HOST;
        fill_target(out, &host, host.has_port ? host.port : default_port(tf), tf);
        return O3B_TARGET_OK;
    }
    /* a Host without port names the URL's port for CONNECT (Squid's generated
       CONNECT after peek-and-splice), the scheme's default port otherwise */
    if (has_host && host.has_port)
        host_port = host.port;
    else
        host_port = tf->form == O3B_FORM_CONNECT ? url_port : default_port(tf);
    if (has_host && !same_destination(&url, url_port, &host, host_port))
        return O3B_TARGET_HOST_MISMATCH;
    fill_target(out, &url, url_port, tf);
    return O3B_TARGET_OK;
}

enum o3b_target_status o3b_target_parse(const char *line, size_t line_len, const char *const *hosts,
                                        const size_t *host_lens, size_t n_hosts,
                                        struct o3b_target *out)
{
    const char *method, *target;
    size_t method_len, target_len;
    struct target_form tf;
    struct o3b_target result;
    enum o3b_target_status st;

    st = split_request_line(line, line_len, &method, &method_len, &target, &target_len);
    if (st == O3B_TARGET_OK)
        st = classify_target(method, method_len, target, target_len, &tf);
    if (st == O3B_TARGET_OK)
        st = resolve(&tf, hosts, host_lens, n_hosts, &result);
    if (st == O3B_TARGET_OK && out != NULL)
        *out = result;
    return st;
}

/* ---- TLS server name ------------------------------------------------------ */

void o3b_target_set_sni(struct o3b_target *t, const char *sni, size_t len)
{
    size_t n;

    t->sni_state = O3B_SNI_NONE;
    t->sni_len = 0;
    t->sni[0] = '\0';
    if (sni == NULL)
        return;
    while (len > 0 && (sni[0] == ' ' || sni[0] == '\t')) {
        sni++;
        len--;
    }
    while (len > 0 && (sni[len - 1] == ' ' || sni[len - 1] == '\t'))
        len--;
    if (len == 0 || (len == 1 && sni[0] == '-'))
        return;
    t->sni_state = O3B_SNI_BAD;
    if (o3b_host_normalize(sni, len, t->sni, &n) != O3B_HOST_OK) {
        t->sni[0] = '\0';
        return;
    }
    t->sni_state = O3B_SNI_OK;
    t->sni_len = (uint16_t)n;
}

/* ---- command-line text ---------------------------------------------------- */

/* Append `s[0..len)` to buf at *used; false when it does not fit. */
static bool append(char *buf, size_t size, size_t *used, const char *s, size_t len)
{
    if (len > size - *used)
        return false;
    memcpy(buf + *used, s, len);
    *used += len;
    return true;
}

/* "https://AUTHORITY[/...]" as "AUTHORITY" (the CONNECT a browser sends for
   it); false for anything else. */
static bool https_authority(const char **text, size_t *len)
{
    const char *t = *text, *end;

    if (*len < 8 || !equals_nocase(t, 8, "https://"))
        return false;
    t += 8;
    end = t;
    while (end < *text + *len && *end != '/' && *end != '?' && *end != '#')
        end++;
    *text = t;
    *len = (size_t)(end - t);
    return true;
}

/* How the admin's text becomes a request target: an http URL as is, else
   (https URL, host, host:port, IP) CONNECT. */
static bool build_text_request(const char *text, size_t len, char *buf, size_t size, size_t *used)
{
    bool https = https_authority(&text, &len);
    const char *colon = memchr(text, ':', len);
    bool url = !https && len >= 3 && colon != NULL && (size_t)(colon - text) + 3 <= len &&
               colon[1] == '/' && colon[2] == '/';
    bool bare_v6 =
        !url && colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - text) - 1);
    bool ok = append(buf, size, used, url ? "GET " : "CONNECT ", url ? 4 : 8);

    if (https) { /* a URL's authority as written: no bracket added, ":443" if no port */
        const char *close = len > 0 && text[0] == '[' ? memchr(text, ']', len) : NULL;
        bool port = close ? (size_t)(close - text) + 1 < len : colon != NULL;
        ok = ok && append(buf, size, used, text, len) &&
             (port || append(buf, size, used, ":443", 4));
    } else if (bare_v6 && len > 0 && text[0] != '[')
        ok = ok && append(buf, size, used, "[", 1) && append(buf, size, used, text, len) &&
             append(buf, size, used, "]:443", 5);
    else if (!url && (colon == NULL || (len > 0 && text[0] == '[' && text[len - 1] == ']')))
        ok = ok && append(buf, size, used, text, len) && append(buf, size, used, ":443", 4);
    else
        ok = ok && append(buf, size, used, text, len);
    return ok && append(buf, size, used, " HTTP/1.1", 9);
}

size_t o3b_target_text_request(const char *text, char *buf, size_t size)
{
    size_t len, used = 0;

    if (text == NULL || size == 0)
        return 0;
    len = strnlen(text, TEXT_MAX + 1);
    if (len > TEXT_MAX || !build_text_request(text, len, buf, size - 1, &used))
        return 0;
    buf[used] = '\0';
    return used;
}

enum o3b_target_status o3b_target_parse_text(const char *text, struct o3b_target *out)
{
    char line[TEXT_MAX + 32];
    size_t used = o3b_target_text_request(text, line, sizeof line);

    if (used == 0)
        return O3B_TARGET_BAD_REQUEST_LINE;
    return o3b_target_parse(line, used, NULL, NULL, 0, out);
}

/* ---- a whole header block --------------------------------------------------- */

/* Is `line` a Host header?  The name compared case-insensitively, also with
   SP/HTAB before the colon, so such a line cannot hide a second Host.  The
   value (after the colon) into *value. */
static bool host_line(const char *line, const char **value)
{
    const char *colon = strchr(line, ':');
    size_t name_len;

    if (colon == NULL)
        return false;
    name_len = (size_t)(colon - line);
    while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
        name_len--;
    if (!equals_nocase(line, name_len, "host"))
        return false;
    *value = colon + 1;
    return true;
}

enum o3b_target_status o3b_target_parse_headers(const char *const *lines, size_t n_lines,
                                                struct o3b_target *out, bool *is_connect)
{
    const char *hosts[O3B_TARGET_MAX_HOSTS];
    size_t lens[O3B_TARGET_MAX_HOSTS], n_hosts = 0;

    if (is_connect != NULL)
        *is_connect = false;
    if (lines == NULL || n_lines == 0 || lines[0] == NULL)
        return O3B_TARGET_BAD_REQUEST_LINE;
    if (is_connect != NULL) /* counted whether the request is well-formed or not */
        *is_connect = strncmp(lines[0], "CONNECT ", 8) == 0;
    for (size_t i = 1; i < n_lines; i++) {
        const char *value;
        if (lines[i] == NULL || !host_line(lines[i], &value))
            continue;
        if (n_hosts == O3B_TARGET_MAX_HOSTS)
            return O3B_TARGET_DUPLICATE_HOST;
        hosts[n_hosts] = value;
        lens[n_hosts++] = strlen(value);
    }
    return o3b_target_parse(lines[0], strlen(lines[0]), hosts, lens, n_hosts, out);
}
