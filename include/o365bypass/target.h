/* SPDX-License-Identifier: MIT */
/*
 * target.h - the destination of an HTTP request, as a proxy would use it.
 *
 * Input is what an ICAP client encapsulates: the HTTP request line and the
 * values of every Host header (o3b_target_parse), or the whole header block
 * (o3b_target_parse_headers).  Output is one normalized destination (host
 * name or IP literal, port) or a precise reason to refuse.  A refused target
 * is never bypassed: the caller sends it down the inspection chain.
 *
 * Accepted forms (RFC 9112 section 3.2):
 *   CONNECT authority   "CONNECT host:port HTTP/1.1", "CONNECT [v6]:port ..."
 *                       (the port is required)
 *   absolute-form       "GET http://host[:port]/path HTTP/1.1"
 *                       (schemes http and https only, case-insensitive)
 *   origin-form         "GET /path HTTP/1.1" plus exactly one Host header
 *                       (scheme taken as http, default port 80)
 * Refused: asterisk-form, other schemes, userinfo ("user@host"), empty,
 * over-long or badly formed hosts (see host.h), percent-encoding or any byte
 * outside [A-Za-z0-9.-] in a host name, IPv4 in anything but a strict dotted
 * quad (decimal, octal, hex and short forms are refused), IPv6 without
 * brackets, with a zone id or embedding an IPv4 address, ports that are
 * empty, not decimal, 0 or above 65535, more than one Host header, an empty
 * Host header, a request line that is not METHOD SP target SP HTTP/d.d, and
 * control bytes or NULs anywhere in what is examined.
 *
 * Host header and URL must agree.  When both name an authority they must be
 * equal after lowercasing, removing one trailing dot and supplying the
 * default port (80 for http, 443 for https) - otherwise the request is
 * refused as a mismatch (domain fronting through the proxy).  For CONNECT a
 * Host header without a port means the CONNECT's own port: Squid's generated
 * CONNECT after peek-and-splice is "CONNECT host:8443" with "Host: host",
 * and a Host without port cannot name another destination.  A Host naming
 * another host, or another explicit port, is still a mismatch.
 *
 * TLS: the proxy may also report the TLS server name (SNI) the client sent on
 * the connection the request arrived on (o3b_target_set_sni).  It is data for
 * the decision (policy.h), not for the target: a request whose SNI names
 * another host than its target is inspected, and requests the proxy
 * decrypted are bypassed at most when the SNI binds them to their host.
 *
 * Pure code: no allocation, no I/O, no c-icap.  Thread-safe.
 */
#ifndef O365BYPASS_TARGET_H
#define O365BYPASS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/host.h"

enum o3b_target_status {
    O3B_TARGET_OK = 0,
    O3B_TARGET_BAD_REQUEST_LINE, /* not METHOD SP target SP HTTP/d.d, NUL/CTL */
    O3B_TARGET_UNSUPPORTED_FORM, /* asterisk-form, CONNECT without authority... */
    O3B_TARGET_BAD_SCHEME,       /* absolute-form with a scheme other than http(s) */
    O3B_TARGET_USERINFO,         /* "user@host" in an authority */
    O3B_TARGET_BAD_HOST,         /* empty host, bad characters, %-encoding, labels */
    O3B_TARGET_HOST_TOO_LONG,    /* > 253 characters or a label > 63 */
    O3B_TARGET_BAD_IP,           /* IPv4 number forms, bad IPv6, zone id,
                                    IPv4-embedding IPv6, missing brackets */
    O3B_TARGET_BAD_PORT,         /* empty, non-decimal, 0, > 65535, missing on CONNECT */
    O3B_TARGET_NO_HOST,          /* origin-form without a Host header */
    O3B_TARGET_DUPLICATE_HOST,   /* more than one Host header */
    O3B_TARGET_HOST_MISMATCH,    /* URL authority and Host header disagree */
    O3B_TARGET_STATUS_COUNT
};

enum o3b_host_kind { O3B_KIND_NAME = 0, O3B_KIND_IPV4, O3B_KIND_IPV6 };
enum o3b_sni_state {
    O3B_SNI_NONE = 0, /* no TLS, or the proxy did not say ("", "-" or absent) */
    O3B_SNI_OK,       /* a well-formed host name, normalized in .sni */
    O3B_SNI_BAD       /* something else (an IP literal, bad bytes): never trusted */
};
enum o3b_target_form { O3B_FORM_ABSOLUTE = 0, O3B_FORM_CONNECT, O3B_FORM_ORIGIN };
enum o3b_scheme { O3B_SCHEME_NONE = 0, O3B_SCHEME_HTTP, O3B_SCHEME_HTTPS };

struct o3b_target {
    /* Names: lowercase, no trailing dot.  IP literals: canonical text without
       brackets (inet_ntop form), e.g. "52.96.1.1", "2603:1006::1". */
    char host[O3B_HOST_MAX + 1];
    uint16_t host_len;
    uint16_t port;     /* effective port, 1..65535 */
    uint8_t kind;      /* enum o3b_host_kind */
    uint8_t form;      /* enum o3b_target_form */
    uint8_t scheme;    /* enum o3b_scheme (NONE for CONNECT) */
    uint8_t addr[16];  /* IP literals: network order; IPv4 in addr[0..3] */
    uint8_t sni_state; /* enum o3b_sni_state; O3B_SNI_NONE after a parse */
    uint16_t sni_len;
    char sni[O3B_HOST_MAX + 1]; /* O3B_SNI_OK: lowercase, no trailing dot */
};

/* Short token for logs, stats and tests: "ok", "bad-host", "host-mismatch"... */
const char *o3b_target_status_name(enum o3b_target_status st);

/* One sentence for people: "the Host header names a different host than the URL". */
const char *o3b_target_status_text(enum o3b_target_status st);

/*
 * Parse a request.  `line[0..line_len)` is the request line without CRLF.
 * `hosts[i][0..host_lens[i])` are the raw values of the Host headers in the
 * order received (leading/trailing SP and HTAB are ignored), `n_hosts` of
 * them (0 when there is none).  On O3B_TARGET_OK `*out` is filled; on any
 * other status `*out` is unspecified.
 */
enum o3b_target_status o3b_target_parse(const char *line, size_t line_len, const char *const *hosts,
                                        const size_t *host_lens, size_t n_hosts,
                                        struct o3b_target *out);

/*
 * Record the TLS server name the proxy saw for this request's connection
 * (Squid's %ssl::>sni, passed as the X-O365bypass-SNI ICAP header or as the
 * helper's third token) in a target o3b_target_parse() filled.  NULL, an
 * empty value and "-" (Squid's "none") mean no SNI; leading and trailing SP
 * and HTAB are ignored; anything that is not a well-formed host name (RFC
 * 6066 forbids IP literals in SNI) is kept as O3B_SNI_BAD.  No allocation.
 */
void o3b_target_set_sni(struct o3b_target *t, const char *sni, size_t len);

/*
 * What an admin types on the command line: an absolute URL
 * ("https://outlook.office.com/"), "host", "host:port", an IPv4 address
 * ("52.96.1.1", "52.96.1.1:443"), or an IPv6 address with or without
 * brackets ("2603:1006::1", "[2603:1006::1]:443").  Without a port, 443 is
 * assumed (HTTPS through the proxy, i.e. a CONNECT).  An https:// URL is the
 * CONNECT a browser sends for it through a proxy (its authority, port 443 by
 * default; the path does not matter), not a request the proxy decrypted;
 * an http:// URL is the request as is.  Parsed with exactly the rules of
 * o3b_target_parse(), as if it were the request a proxy forwards.
 */
enum o3b_target_status o3b_target_parse_text(const char *text, struct o3b_target *out);

#define O3B_TARGET_MAX_HOSTS 8 /* Host lines examined; more is duplicate-host */

/*
 * Parse a request as an ICAP server holds its encapsulated header block:
 * `lines[0]` the request line, `lines[1..n_lines)` the header lines
 * "Name: value" (NUL-terminated, without CRLF), as c-icap's
 * ci_headers_list_t has them.  Every Host line counts, its name compared
 * case-insensitively and also with SP or HTAB before the colon (so such a
 * line cannot hide a second Host); more than O3B_TARGET_MAX_HOSTS of them
 * is duplicate-host without looking further.  Then as o3b_target_parse().
 * `*is_connect` (may be NULL) says whether the method is CONNECT, whether
 * or not the request is well-formed (for the CONNECT counter).  No lines
 * at all is bad-request-line.
 */
enum o3b_target_status o3b_target_parse_headers(const char *const *lines, size_t n_lines,
                                                struct o3b_target *out, bool *is_connect);

/*
 * The request line o3b_target_parse_text() parses for `text`: "GET URL
 * HTTP/1.1" for an absolute URL, else "CONNECT HOST:PORT HTTP/1.1" (port
 * 443 added when none), NUL-terminated in buf (caller's, `size` bytes; 8 KiB
 * plus 32 always suffice).  Returns its length, or 0 when `text` is NULL,
 * longer than 8 KiB or does not fit.  (`lookup --server` sends this line.)
 */
size_t o3b_target_text_request(const char *text, char *buf, size_t size);

#endif
