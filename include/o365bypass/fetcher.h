/* SPDX-License-Identifier: MIT */
/*
 * fetcher.h - one HTTP(S) GET with libcurl, bounded in every direction.
 *
 * Used by the refresher (in the c-icap master process) and by the CLI's
 * `fetch`.  HTTPS verifies the peer and host name (CAFile/CAPath may
 * override the system store); connect and total timeouts; a cap on the body
 * size (the transfer is aborted as soon as it is exceeded); CURLOPT_NOSIGNAL
 * (the server is threaded); an optional outbound proxy; a User-Agent naming
 * the module and its version.  Only http:// and https:// URLs are followed,
 * redirects at most 3 times and only to http(s); from an https:// URL only
 * to https:// (a redirect to http is an error).  The fetcher keeps no
 * defaults of its own: the bounds come from the configuration
 * (o3b_config_fetch_opts, refresher.h).  No c-icap here.
 */
#ifndef O365BYPASS_FETCHER_H
#define O365BYPASS_FETCHER_H

#include <stddef.h>

#include "o365bypass/errors.h"

struct o3b_fetch_opts {
    const char *ca_file;    /* NULL: system store */
    const char *ca_path;    /* NULL: system store */
    const char *proxy;      /* NULL or "": none ("http://proxy:3128") */
    const char *user_agent; /* NULL: "o365bypass/VERSION" (who we are) */
    long connect_timeout_s; /* required, > 0 */
    long total_timeout_s;   /* required, > 0 (the whole transfer) */
    size_t max_bytes;       /* required, > 0: the body cap */
};

struct o3b_fetch_result {
    long http_status; /* 0 when no HTTP response arrived */
    char *body;       /* malloc'd, NUL-terminated; NULL when none */
    size_t len;
    long retry_after_s; /* Retry-After in seconds (delta or date), -1 if absent */
};

/*
 * GET `url`.  Returns 0 when an HTTP response was received completely,
 * whatever its status (inspect out->http_status), and -1 on transport
 * failure: DNS, connect refused, timeout, TLS, body over the cap, etc. (err
 * says which; out->http_status may still be set), or when `opts` is NULL or
 * lacks a timeout or the cap.  The caller frees the
 * result with o3b_fetch_result_free(), in both cases.
 */
int o3b_fetch(const char *url, const struct o3b_fetch_opts *opts, struct o3b_fetch_result *out,
              o3b_err *err);

void o3b_fetch_result_free(struct o3b_fetch_result *r);

/* curl_global_init once per process (idempotent, not thread-safe: call it
   from a single thread before any fetch). */
void o3b_fetch_global_init(void);

#endif
