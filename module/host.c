/* SPDX-License-Identifier: MIT */
/*
 * host.c - host names and host patterns (see host.h).
 *
 * All normalizers make one pass over the input, lowercase into the output
 * and check label syntax as they go; the only difference is that a pattern
 * may hold '*', and that the feed's pattern rule refuses broad shapes the
 * NeverBypass ("narrowing") rule accepts.  The glob matcher is the classic iterative two-pointer
 * algorithm with a single backtrack point, so it is linear for a single '*'
 * and never recursive for any pattern.
 */
#include "o365bypass/host.h"

#include <string.h>

static const char *const host_status_names[] = {
    [O3B_HOST_OK] = "ok",
    [O3B_HOST_EMPTY] = "empty",
    [O3B_HOST_TOO_LONG] = "too-long",
    [O3B_HOST_LABEL_TOO_LONG] = "label-too-long",
    [O3B_HOST_EMPTY_LABEL] = "empty-label",
    [O3B_HOST_BAD_CHAR] = "bad-char",
    [O3B_HOST_BAD_HYPHEN] = "bad-hyphen",
    [O3B_HOST_NUMERIC] = "numeric",
};

const char *o3b_host_status_name(enum o3b_host_status st)
{
    if ((unsigned)st < sizeof host_status_names / sizeof host_status_names[0])
        return host_status_names[st];
    return "unknown";
}

static int is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Is the last label all digits, or a 0x.. hex number?  Then the name is an
   IPv4 number form to a URL parser (WHATWG "ends in a number"). */
static int last_label_numeric(const char *s, size_t len)
{
    size_t start = len;

    while (start > 0 && s[start - 1] != '.')
        start--;
    if (start == len)
        return 0;
    if (len - start >= 2 && s[start] == '0' && s[start + 1] == 'x') {
        for (size_t i = start + 2; i < len; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                return 0;
        return 1;
    }
    for (size_t i = start; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Shared walk: copy lowercase, check labels.  `allow_star` for patterns. */
static enum o3b_host_status normalize(const char *in, size_t len, char *out, size_t *out_len,
                                      int allow_star)
{
    size_t label = 0;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return O3B_HOST_EMPTY;
    if (len > O3B_HOST_MAX)
        return O3B_HOST_TOO_LONG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = lower((unsigned char)in[i]);

        if (c == '.') {
            if (label == 0)
                return O3B_HOST_EMPTY_LABEL;
            if (out[i - 1] == '-')
                return O3B_HOST_BAD_HYPHEN;
            label = 0;
        } else if (is_ldh(c) || (allow_star && c == '*')) {
            if (c == '-' && label == 0)
                return O3B_HOST_BAD_HYPHEN;
            if (++label > O3B_LABEL_MAX)
                return O3B_HOST_LABEL_TOO_LONG;
        } else {
            return O3B_HOST_BAD_CHAR;
        }
        out[i] = (char)c;
    }
    if (label == 0)
        return O3B_HOST_EMPTY_LABEL; /* "a.com.." */
    if (out[len - 1] == '-')
        return O3B_HOST_BAD_HYPHEN;
    out[len] = '\0';
    *out_len = len;
    if (last_label_numeric(out, len))
        return O3B_HOST_NUMERIC;
    return O3B_HOST_OK;
}

enum o3b_host_status o3b_host_normalize(const char *in, size_t len, char *out, size_t *out_len)
{
    return normalize(in, len, out, out_len, 0);
}

size_t o3b_pattern_stars(const char *pat, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += pat[i] == '*';
    return n;
}

size_t o3b_pattern_literals(const char *pat, size_t len)
{
    return len - o3b_pattern_stars(pat, len);
}

int o3b_pattern_normalize(const char *in, size_t len, char *out, size_t *out_len, o3b_err *err)
{
    enum o3b_host_status st = normalize(in, len, out, out_len, 1);
    const char *last_star;
    size_t dots = 0;

    if (st != O3B_HOST_OK) {
        o3b_err_set(err, "'%.*s' is not a valid host pattern (%s)", (int)(len > 300 ? 300 : len),
                    in, o3b_host_status_name(st));
        return -1;
    }
    last_star = memrchr(out, '*', *out_len);
    if (last_star == NULL)
        return 0;
    /* The fixed tail after the last '*' must hold ".label.label" at least. */
    for (const char *p = last_star + 1; p < out + *out_len; p++)
        dots += *p == '.';
    if (dots < 2) {
        o3b_err_set(err,
                    "pattern '%s' is too broad: the part after the last '*' must end in "
                    "at least two whole labels",
                    out);
        return -1;
    }
    return 0;
}

/* Do the labels hold only digits and '*', at least one digit ("10.*")? */
static bool looks_like_an_address(const char *s, size_t len)
{
    bool digit = false;

    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else if (s[i] != '*' && s[i] != '.')
            return false;
    }
    return digit;
}

int o3b_pattern_normalize_narrowing(const char *in, size_t len, char *out, size_t *out_len,
                                    o3b_err *err)
{
    enum o3b_host_status st = normalize(in, len, out, out_len, 1);

    if (st != O3B_HOST_OK) {
        o3b_err_set(err, "'%.*s' is not a valid host pattern (%s)", (int)(len > 300 ? 300 : len),
                    in, o3b_host_status_name(st));
        return -1;
    }
    if (memchr(out, '*', *out_len) != NULL && looks_like_an_address(out, *out_len)) {
        o3b_err_set(err,
                    "'%s' looks like an address pattern, which never matches an IP "
                    "literal: write a CIDR (10.0.0.0/8)",
                    out);
        return -1;
    }
    return 0;
}

bool o3b_glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t p = 0, i = 0;
    size_t star = (size_t)-1, mark = 0;

    while (i < slen) {
        if (p < plen && pat[p] == '*') {
            star = p++;
            mark = i;
        } else if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
        } else if (star != (size_t)-1) {
            p = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}
