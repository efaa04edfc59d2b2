/* SPDX-License-Identifier: MIT */
/*
 * host.h - host names and host patterns: validation, normalization, glob.
 *
 * One place decides what a well-formed host is, so the request-target
 * parser, the table loader and the policy lists can never disagree.
 * A host is ASCII letters, digits and '-' in dot-separated labels of 1..63
 * characters, no label starting or ending with '-', 1..253 characters in
 * all after one trailing dot is removed.  Normalized means lowercase without
 * the trailing dot.  A pattern is a host in which labels may also hold '*'
 * (shell-glob reading, as Microsoft's own PAC generator: '*' is any run of
 * characters, dots included).  Nothing here allocates.
 */
#ifndef O365BYPASS_HOST_H
#define O365BYPASS_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"

#define O3B_HOST_MAX 253 /* characters, without the trailing dot */
#define O3B_LABEL_MAX 63

enum o3b_host_status {
    O3B_HOST_OK = 0,
    O3B_HOST_EMPTY,          /* "" or "." */
    O3B_HOST_TOO_LONG,       /* > 253 characters */
    O3B_HOST_LABEL_TOO_LONG, /* a label > 63 characters */
    O3B_HOST_EMPTY_LABEL,    /* "a..b", ".a", "a.." */
    O3B_HOST_BAD_CHAR,       /* anything but [A-Za-z0-9.-] ('*' too, for hosts) */
    O3B_HOST_BAD_HYPHEN,     /* a label starting or ending with '-' */
    O3B_HOST_NUMERIC         /* last label all digits or 0x...: an IPv4
                                number form, never a name */
};

/* Short lowercase token for logs and tests, e.g. "bad-char". */
const char *o3b_host_status_name(enum o3b_host_status st);

/*
 * Validate and normalize the host `in[0..len)` into `out` (lowercase, one
 * trailing dot removed, NUL-terminated).  `out` must hold O3B_HOST_MAX + 1
 * bytes; `*out_len` receives the length.  On failure `out` is unspecified.
 */
enum o3b_host_status o3b_host_normalize(const char *in, size_t len, char *out, size_t *out_len);

/*
 * Validate and normalize a host pattern from the endpoint table or from the
 * admin's NeverBypass/AlsoBypass lists into `out` (same size rule).  '*' may
 * appear anywhere inside labels; '?' and other glob syntax are refused.
 * The literal part after the last '*' must end in at least two whole labels
 * ("*.office.com", "*cdn.onenote.net", "autodiscover.*.onmicrosoft.com"), so a
 * poisoned "*", "*.com" or "foo*" is refused.  Returns 0 or -1 with `err` set.
 */
int o3b_pattern_normalize(const char *in, size_t len, char *out, size_t *out_len, o3b_err *err);

/*
 * The NeverBypass mode of the same: a list that can only narrow what is
 * bypassed may name anything, so the same label syntax is checked but no
 * literal tail is required: "*" (every host name), "*.de", "foo*" and
 * "*.sharepoint.com" are all accepted.  Refused besides what a host refuses:
 * patterns of digits and '*' only ("10.*"), which would never match an IP
 * literal (those are matched as addresses: write a CIDR).  Everything that
 * can widen the hole (the table, AlsoBypass) uses o3b_pattern_normalize().
 * Returns 0 or -1 with `err` set.
 */
int o3b_pattern_normalize_narrowing(const char *in, size_t len, char *out, size_t *out_len,
                                    o3b_err *err);

/* Number of '*' in a normalized pattern (0 = exact host). */
size_t o3b_pattern_stars(const char *pat, size_t len);

/* Literal (non-'*') characters of a pattern: its specificity. */
size_t o3b_pattern_literals(const char *pat, size_t len);

/*
 * Shell-glob match of a normalized host against a normalized pattern: '*'
 * matches any run of characters, dots included, and also the empty run;
 * everything else matches itself.  Linear in practice, never recursive.
 */
bool o3b_glob_match(const char *pat, size_t plen, const char *s, size_t slen);

#endif
