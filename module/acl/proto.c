/* SPDX-License-Identifier: MIT */
/*
 * proto.c - Squid's external ACL helper protocol, without any I/O.
 *
 * Squid writes one lookup per line: an optional channel ID (with
 * concurrency=N) and the FORMAT values separated by spaces, each escaped
 * by Squid (see acl_unescape), "-" for an empty value; it expects exactly
 * one reply line per lookup, "[channel ]OK|ERR key=value ...".  This file
 * frames the byte stream (partial lines across reads, overlong lines
 * discarded up to their newline but still answered), splits and checks the
 * tokens, builds the request line the proxy would make for them, and
 * formats replies the way Squid's reply parser reads them.  The host,
 * port and scheme rules are not here: the request-target parser decides
 * those on the built line, exactly as for the module.
 */
#include <string.h>

#include "acl.h"

/* ---- framing ------------------------------------------------------------------------ */

void acl_framer_init(struct acl_framer *f)
{
    f->start = f->end = 0;
    f->discarding = false;
    f->channel[0] = '\0';
}

char *acl_framer_space(struct acl_framer *f, size_t *room)
{
    if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    *room = sizeof f->buf - f->end;
    return f->buf + f->end;
}

void acl_framer_commit(struct acl_framer *f, size_t n)
{
    f->end += n;
}

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Keep the channel ID of an overlong line (its leading digits before a space). */
static void keep_channel(struct acl_framer *f, const char *line, size_t len)
{
    size_t n = 0;

    while (n < len && n <= ACL_CHANNEL_MAX && line[n] >= '0' && line[n] <= '9')
        n++;
    if (n == 0 || n > ACL_CHANNEL_MAX || n >= len || (line[n] != ' ' && line[n] != '\t'))
        n = 0;
    memcpy(f->channel, line, n);
    f->channel[n] = '\0';
}

enum acl_frame acl_framer_next(struct acl_framer *f, char **line, size_t *len)
{
    char *p = f->buf + f->start;
    size_t avail = f->end - f->start;
    char *nl = memchr(p, '\n', avail);

    if (nl == NULL) {
        if (!f->discarding && avail > ACL_LINE_MAX) {
            keep_channel(f, p, avail);
            f->discarding = true;
        }
        if (f->discarding)
            f->start = f->end = 0; /* drop what we have: only its end matters */
        return ACL_FRAME_NONE;
    }
    f->start += (size_t)(nl - p) + 1;
    if (f->discarding) {
        f->discarding = false;
        return ACL_FRAME_OVERLONG;
    }
    if ((size_t)(nl - p) > ACL_LINE_MAX) {
        keep_channel(f, p, (size_t)(nl - p));
        return ACL_FRAME_OVERLONG;
    }
    *line = p;
    *len = (size_t)(nl - p);
    return ACL_FRAME_LINE;
}

bool acl_framer_rest(struct acl_framer *f, char **line, size_t *len, bool *overlong)
{
    bool any = f->discarding || f->end > f->start;

    *overlong = f->discarding;
    *line = f->buf + f->start;
    *len = f->end - f->start;
    f->start = f->end = 0;
    f->discarding = false;
    return any;
}

/* ---- tokens --------------------------------------------------------------------------- */

static const char *const input_names[ACL_IN_COUNT] = {
    [ACL_IN_OK] = "ok",
    [ACL_IN_EMPTY] = "empty-line",
    [ACL_IN_NO_HOST] = "no-host",
    [ACL_IN_NO_PORT] = "no-port",
    [ACL_IN_BAD_PORT] = "bad-port",
    [ACL_IN_BAD_SCHEME] = "bad-scheme",
    [ACL_IN_DELIMITER] = "url-delimiter",
    [ACL_IN_BAD_BYTE] = "bad-byte",
    [ACL_IN_EXTRA] = "extra-token",
    [ACL_IN_OVERLONG] = "overlong-line",
    [ACL_IN_TRUNCATED] = "truncated-line",
};

static const char *const input_texts[ACL_IN_COUNT] = {
    [ACL_IN_OK] = "the lookup is well-formed",
    [ACL_IN_EMPTY] = "the lookup line is empty",
    [ACL_IN_NO_HOST] = "the lookup names no destination host (%DST)",
    [ACL_IN_NO_PORT] = "the lookup names no destination port (%PORT)",
    [ACL_IN_BAD_PORT] = "the destination port (%PORT) is not a decimal number",
    [ACL_IN_BAD_SCHEME] = "the URL scheme (%>rs) is not a scheme",
    [ACL_IN_DELIMITER] = "the destination host (%DST) holds '/', '?' or '#'",
    [ACL_IN_BAD_BYTE] = "a value holds a space, control or non-ASCII byte",
    [ACL_IN_EXTRA] = ("the lookup has more values than %DST %PORT %ssl::>sni %>rs "
                      "(ACL arguments are not supported)"),
    [ACL_IN_OVERLONG] = "the lookup line is longer than 8192 bytes",
    [ACL_IN_TRUNCATED] = "the input ended inside a lookup line",
};

const char *acl_input_error_name(enum acl_input_error e)
{
    return (unsigned)e < ACL_IN_COUNT ? input_names[e] : "?";
}

const char *acl_input_error_text(enum acl_input_error e)
{
    return (unsigned)e < ACL_IN_COUNT ? input_texts[e] : "?";
}

static int upper_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The bytes Squid's %-escaping of logformat values writes as %XX. */
static bool squid_escapes(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || strchr("\"#<>[\\]^`{|}~'", c) != NULL;
}

size_t acl_unescape(char *s, size_t len)
{
    size_t r = 0, w = 0;

    while (r < len) {
        int hi = r + 2 < len && s[r] == '%' ? upper_hex(s[r + 1]) : -1;
        int lo = hi >= 0 ? upper_hex(s[r + 2]) : -1;

        if (lo >= 0 && squid_escapes((unsigned char)(hi * 16 + lo))) {
            s[w++] = (char)(hi * 16 + lo);
            r += 3;
        } else {
            s[w++] = s[r++];
        }
    }
    return w;
}

static bool is_dash(const char *s, size_t len)
{
    return len == 1 && s[0] == '-';
}

static bool visible_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), kept short. */
static bool scheme_shaped(const char *s, size_t len)
{
    if (len == 0 || len > 16 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '+' || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

#define MAX_TOKENS 8 /* channel, four values, %DATA, and one to notice extras */

struct tokens {
    char *p[MAX_TOKENS];
    size_t len[MAX_TOKENS];
    size_t n;
};

/* Split on runs of spaces and tabs; a trailing CR is ignored. */
static void split(char *line, size_t len, struct tokens *t)
{
    size_t i = 0;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    t->n = 0;
    while (i < len && t->n < MAX_TOKENS) {
        size_t start;

        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        t->p[t->n] = line + start;
        t->len[t->n++] = i - start;
    }
}

/* An optional value: NULL for "-" or absent; unescaped in place otherwise. */
static enum acl_input_error optional_value(const struct tokens *t, size_t i, char **out,
                                           size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (i >= t->n || is_dash(t->p[i], t->len[i]))
        return ACL_IN_OK;
    *out = t->p[i];
    *out_len = acl_unescape(t->p[i], t->len[i]);
    return visible_ascii(*out, *out_len) ? ACL_IN_OK : ACL_IN_BAD_BYTE;
}

static enum acl_input_error check_values(const struct tokens *t, size_t v, struct acl_query *q)
{
    enum acl_input_error e;

    if (v >= t->n)
        return ACL_IN_EMPTY;
    if (is_dash(t->p[v], t->len[v]))
        return ACL_IN_NO_HOST;
    if (v + 1 >= t->n || is_dash(t->p[v + 1], t->len[v + 1]))
        return ACL_IN_NO_PORT;
    q->host = t->p[v];
    q->host_len = acl_unescape(q->host, t->len[v]);
    if (!visible_ascii(q->host, q->host_len))
        return ACL_IN_BAD_BYTE;
    if (memchr(q->host, '/', q->host_len) || memchr(q->host, '?', q->host_len) ||
        memchr(q->host, '#', q->host_len))
        return ACL_IN_DELIMITER;
    q->port = t->p[v + 1];
    q->port_len = t->len[v + 1];
    if (q->port_len > 5 || !all_digits(q->port, q->port_len))
        return ACL_IN_BAD_PORT;
    if ((e = optional_value(t, v + 2, &q->sni, &q->sni_len)) != ACL_IN_OK ||
        (e = optional_value(t, v + 3, &q->scheme, &q->scheme_len)) != ACL_IN_OK)
        return e;
    if (q->scheme != NULL && !scheme_shaped(q->scheme, q->scheme_len))
        return ACL_IN_BAD_SCHEME;
    for (size_t i = v + 4; i < t->n; i++)
        if (!is_dash(t->p[i], t->len[i]))
            return ACL_IN_EXTRA;
    return t->n == MAX_TOKENS ? ACL_IN_EXTRA : ACL_IN_OK;
}

enum acl_input_error acl_parse_line(char *line, size_t len, struct acl_query *q)
{
    struct tokens t;
    size_t v = 0;

    memset(q, 0, sizeof *q);
    split(line, len, &t);
    if (t.n > 0 && t.len[0] <= ACL_CHANNEL_MAX && all_digits(t.p[0], t.len[0])) {
        q->channel = t.p[0];
        q->channel_len = t.len[0];
        v = 1;
    }
    return check_values(&t, v, q);
}

/* ---- the request line ----------------------------------------------------------------- */

/* A bounded appender. */
struct out {
    char *buf;
    size_t size, used;
    bool full;
};

static void put(struct out *o, const char *s, size_t len)
{
    if (o->full || len > o->size - o->used) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->used, s, len);
    o->used += len;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

size_t acl_request_line(const struct acl_query *q, char *buf, size_t size)
{
    struct out o = {buf, size, 0, false};

    if (q->scheme != NULL) {
        put_str(&o, "GET ");
        put(&o, q->scheme, q->scheme_len);
        put_str(&o, "://");
    } else {
        put_str(&o, "CONNECT ");
    }
    put(&o, q->host, q->host_len);
    put_str(&o, ":");
    put(&o, q->port, q->port_len);
    put_str(&o, q->scheme != NULL ? "/ HTTP/1.1" : " HTTP/1.1");
    return o.full ? 0 : o.used;
}

/* ---- replies ----------------------------------------------------------------------------- */

void acl_reply_begin(struct acl_reply *r, const char *channel, size_t channel_len, bool ok)
{
    struct out o = {r->buf, sizeof r->buf - 1, 0, false};

    if (channel != NULL && channel_len > 0) {
        put(&o, channel, channel_len);
        put_str(&o, " ");
    }
    put_str(&o, ok ? "OK" : "ERR");
    r->len = o.used;
}

static bool bare_token(const char *v)
{
    if (*v == '\0')
        return false;
    for (; *v != '\0'; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("-._:*/,", *v) != NULL))
            return false;
    return true;
}

void acl_reply_kv(struct acl_reply *r, const char *key, const char *value)
{
    /* room for the '\n' (and, when quoted, the closing quote) is kept back */
    struct out o = {r->buf, sizeof r->buf - 1, r->len, false};
    bool quoted = !bare_token(value);

    put_str(&o, " ");
    put_str(&o, key);
    put_str(&o, quoted ? "=\"" : "=");
    if (o.full)
        return; /* not even the key fits: leave the reply as it was */
    o.size -= quoted ? 1 : 0;
    for (const char *v = value; *v != '\0' && !o.full; v++) {
        char esc[2] = {'\\', *v};

        if (quoted && (*v == '"' || *v == '\\'))
            put(&o, esc, 2);
        else if ((unsigned char)*v < 0x20 || *v == 0x7f)
            put(&o, "?", 1);
        else
            put(&o, v, 1);
    }
    if (quoted)
        o.buf[o.used++] = '"';
    r->len = o.used;
}

void acl_reply_end(struct acl_reply *r)
{
    r->buf[r->len++] = '\n';
}
