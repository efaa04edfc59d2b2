/* SPDX-License-Identifier: MIT */
/*
 * fetcher.c - one bounded HTTP(S) GET with libcurl (see fetcher.h).
 *
 * Each call builds a fresh easy handle, so nothing is shared between threads
 * except what curl_global_init() set up.  Every dimension is bounded:
 * connect and total timeouts, a low-speed abort (a server that drips the body
 * byte by byte fails well before the total timeout when that is long), at
 * most 3 redirects, http/https only (for the first URL and for redirects;
 * from an https URL only to https, so no redirect downgrades the feed), a
 * body cap enforced twice (CURLOPT_MAXFILESIZE_LARGE refuses an announced
 * Content-Length over the cap, and the write callback aborts the moment the
 * received bytes pass it, for chunked or lying servers).  Proxies come only
 * from the options: CURLOPT_PROXY is always set, to "" when there is none,
 * which stops libcurl from reading http_proxy/https_proxy/all_proxy from the
 * environment (a c-icap started from a shell must not pick up a user's proxy).
 * A CA file or directory given in the options replaces the system store
 * rather than adding to it.  Retry-After is read by a header callback that
 * starts afresh at each status line, so only the final response counts.
 */
#include "o365bypass/fetcher.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef O3B_VERSION
#error "O3B_VERSION must be defined by the build"
#endif

#define MAX_REDIRECTS 3L
/* Abort when fewer than LOW_SPEED_BYTES_PER_S arrive per second for
   LOW_SPEED_WINDOW_S seconds (or for the whole total timeout if shorter). */
#define LOW_SPEED_BYTES_PER_S 16L
#define LOW_SPEED_WINDOW_S 30L
/* Longest Retry-After we report (a week); larger values are clamped. */
#define RETRY_AFTER_MAX_S (7L * 24 * 3600)
/* Longest URL prefix quoted in error messages. */
#define URL_IN_ERROR_MAX 200

/* Per-transfer state shared with the callbacks. */
struct fetch_state {
    char *body;
    size_t len;
    size_t cap; /* allocated bytes of body */
    size_t max_bytes;
    bool over_cap;
    long retry_after_s;
};

static void result_reset(struct o3b_fetch_result *r)
{
    r->http_status = 0;
    r->body = NULL;
    r->len = 0;
    r->retry_after_s = -1;
}

/* Grow st->body to hold `need` bytes plus the final NUL; false on ENOMEM. */
static bool body_reserve(struct fetch_state *st, size_t need)
{
    size_t want = st->cap ? st->cap : 16384;
    char *grown;

    if (need + 1 <= st->cap)
        return true;
    while (want < need + 1)
        want = want > SIZE_MAX / 2 ? need + 1 : want * 2;
    grown = realloc(st->body, want);
    if (grown == NULL)
        return false;
    st->body = grown;
    st->cap = want;
    return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct fetch_state *st = userp;
    size_t n = size * nmemb;

    if (n > st->max_bytes - st->len) {
        st->over_cap = true;
        return 0; /* CURLE_WRITE_ERROR: abort now */
    }
    if (!body_reserve(st, st->len + n))
        return 0;
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return n;
}

/* Seconds from now named by a Retry-After value (delta or HTTP-date), or -1. */
static long retry_after_seconds(const char *value)
{
    char *end;
    time_t when, now;

    if (*value >= '0' && *value <= '9') {
        unsigned long long delta = strtoull(value, &end, 10);

        if (*end != '\0')
            return -1;
        return delta > (unsigned long long)RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)delta;
    }
    when = curl_getdate(value, NULL);
    if (when == (time_t)-1)
        return -1;
    now = time(NULL);
    if (when <= now)
        return 0;
    return when - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)(when - now);
}

/* The value of header line `line` (length n) if it is `name:`, trimmed, in out. */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t out_size)
{
    size_t name_len = strlen(name);
    size_t start, stop;

    if (n <= name_len || line[name_len] != ':' || strncasecmp(line, name, name_len) != 0)
        return false;
    start = name_len + 1;
    stop = n;
    while (start < stop && (line[start] == ' ' || line[start] == '\t'))
        start++;
    while (stop > start && strchr(" \t\r\n", line[stop - 1]) != NULL)
        stop--;
    if (stop - start >= out_size)
        return false;
    memcpy(out, line + start, stop - start);
    out[stop - start] = '\0';
    return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
    struct fetch_state *st = userp;
    size_t n = size * nmemb;
    char value[128];

    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0)
        st->retry_after_s = -1; /* a new response (after a redirect or 100) */
    else if (header_value(line, n, "Retry-After", value, sizeof value))
        st->retry_after_s = retry_after_seconds(value);
    return n;
}

/* `url` without its query string or fragment, shortened for messages. */
static void url_for_error(const char *url, char *out, size_t out_size)
{
    size_t n = strcspn(url, "?#");

    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

/* http and https; redirects from an https URL only to https (never a
   downgrade that a man in the middle could then rewrite). */
static CURLcode set_protocols(CURL *h, const char *url)
{
    bool tls = strncasecmp(url, "https://", 8) == 0;
    CURLcode rc;

#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    if ((rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK)
        return rc;
    return curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https");
#else
    if ((rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))) !=
        CURLE_OK)
        return rc;
    return curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
                            tls ? (long)CURLPROTO_HTTPS : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

/* Everything about where to connect and whom to trust. */
static CURLcode set_transport(CURL *h, const char *url, const struct o3b_fetch_opts *o)
{
    const char *proxy = (o->proxy != NULL) ? o->proxy : "";
    CURLcode rc;

    if ((rc = set_protocols(h, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_PROXY, proxy)) != CURLE_OK)
        return rc;
    /* With an explicit proxy, ignore no_proxy from the environment too. */
    if (*proxy != '\0' && (rc = curl_easy_setopt(h, CURLOPT_NOPROXY, "")) != CURLE_OK)
        return rc;
    /* A given CA file or directory replaces the built-in store (NULL disables). */
    if (o->ca_file != NULL || o->ca_path != NULL) {
        if ((rc = curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file)) != CURLE_OK ||
            (rc = curl_easy_setopt(h, CURLOPT_CAPATH, o->ca_path)) != CURLE_OK)
            return rc;
    }
    return CURLE_OK;
}

/* Timeouts, the low-speed abort and the announced-size cap. */
static CURLcode set_limits(CURL *h, const struct o3b_fetch_opts *o, size_t max_bytes)
{
    long connect_s = o->connect_timeout_s, total_s = o->total_timeout_s;
    long low_speed_s = total_s < LOW_SPEED_WINDOW_S ? total_s : LOW_SPEED_WINDOW_S;
    curl_off_t announced_max = max_bytes > (size_t)INT64_MAX ? INT64_MAX : (curl_off_t)max_bytes;
    CURLcode rc;

    if ((rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, connect_s)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_TIMEOUT, total_s)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES_PER_S)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, low_speed_s)) != CURLE_OK)
        return rc;
    return curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, announced_max);
}

static CURLcode set_request(CURL *h, const char *url, const struct o3b_fetch_opts *o,
                            struct fetch_state *st, char *errbuf)
{
    const char *agent = (o->user_agent != NULL) ? o->user_agent : "o365bypass/" O3B_VERSION;
    CURLcode rc;

    if ((rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_URL, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_USERAGENT, agent)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, st)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK ||
        (rc = curl_easy_setopt(h, CURLOPT_HEADERDATA, st)) != CURLE_OK)
        return rc;
    return CURLE_OK;
}

static void report_failure(const char *url, CURLcode rc, const struct fetch_state *st,
                           const char *errbuf, o3b_err *err)
{
    char shown[URL_IN_ERROR_MAX + 1];

    url_for_error(url, shown, sizeof shown);
    if (st->over_cap || rc == CURLE_FILESIZE_EXCEEDED)
        o3b_err_set(err, "GET %s: response body exceeds the cap of %zu bytes", shown,
                    st->max_bytes);
    else
        o3b_err_set(err, "GET %s: %s", shown, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* Hand the collected body to `out` (an empty body becomes ""). */
static int take_body(struct fetch_state *st, struct o3b_fetch_result *out, o3b_err *err)
{
    if (!body_reserve(st, st->len)) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    st->body[st->len] = '\0';
    out->body = st->body;
    out->len = st->len;
    st->body = NULL;
    return 0;
}

/*
 * curl_easy_perform with SIGPIPE blocked in this thread.  CURLOPT_NOSIGNAL
 * stops libcurl from ignoring SIGPIPE itself, and c-icap's master (where the
 * refresher runs) does not ignore it: a peer closing mid-write must not kill
 * the server.  A SIGPIPE raised meanwhile is consumed before unblocking.
 */
static CURLcode perform_without_sigpipe(CURL *h)
{
    sigset_t pipe_only, old;
    CURLcode rc;

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &pipe_only, &old) != 0)
        return curl_easy_perform(h);
    rc = curl_easy_perform(h);
    if (!sigismember(&old, SIGPIPE)) {
        struct timespec none = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &none) == SIGPIPE)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int o3b_fetch(const char *url, const struct o3b_fetch_opts *opts, struct o3b_fetch_result *out,
              o3b_err *err)
{
    const struct o3b_fetch_opts *o = opts;
    struct fetch_state st = {.retry_after_s = -1};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    CURL *h;
    int ret = -1;

    result_reset(out);
    if (url == NULL || *url == '\0') {
        o3b_err_set(err, "GET: no URL given");
        return -1;
    }
    if (o == NULL || o->connect_timeout_s <= 0 || o->total_timeout_s <= 0 || o->max_bytes == 0) {
        o3b_err_set(err, "GET: fetch options without timeouts or a size cap");
        return -1;
    }
    st.max_bytes = o->max_bytes;
    if ((h = curl_easy_init()) == NULL) {
        o3b_err_set(err, "GET: curl_easy_init failed");
        return -1;
    }
    rc = set_request(h, url, o, &st, errbuf);
    if (rc == CURLE_OK)
        rc = set_transport(h, url, o);
    if (rc == CURLE_OK)
        rc = set_limits(h, o, st.max_bytes);
    if (rc == CURLE_OK)
        rc = perform_without_sigpipe(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->http_status);
    out->retry_after_s = st.retry_after_s;
    if (rc != CURLE_OK)
        report_failure(url, rc, &st, errbuf, err);
    else
        ret = take_body(&st, out, err);
    free(st.body);
    curl_easy_cleanup(h);
    return ret;
}

void o3b_fetch_result_free(struct o3b_fetch_result *r)
{
    if (r == NULL)
        return;
    free(r->body);
    result_reset(r);
}

void o3b_fetch_global_init(void)
{
    /* libcurl counts calls, so calling this again is harmless. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
}
