/* SPDX-License-Identifier: MIT */
/*
 * icap_client.c - a tiny blocking ICAP client (RFC 3507) for `stats`, `lookup`.
 *
 * One request per connection: OPTIONS, or REQMOD with a minimal
 * encapsulated "GET http://x/" (what `c-icap-client -req http://x/` sends)
 * and no Allow: 204, so the server answers with its page (`stats`); or a
 * REQMOD shaped like Squid's for a header-only request (Allow: 204,
 * Preview: 0, null body), so the service answers as it answers Squid
 * (`lookup --server`).  The socket is
 * non-blocking and every wait is a poll() against one deadline for the whole
 * exchange; the answer is capped in size.  The response is re-parsed after
 * each read until complete: ICAP headers, the encapsulated header block,
 * then a chunked body (answers are a few KiB, so this stays cheap).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_RESPONSE (4u * 1024u * 1024u)

static void set_err(char *buf, size_t size, const char *fmt, ...) O3B_PRINTF(3, 4);

static void set_err(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {fd, events, 0};
    long long left = deadline - now_ms();
    int rc;

    if (left <= 0)
        return 0;
    do
        rc = poll(&p, 1, (int)left);
    while (rc < 0 && errno == EINTR);
    return rc;
}

int icap_split_server(const char *text, const char *def_port, char *host, size_t hsize, char *port,
                      size_t psize)
{
    const char *colon;
    size_t hlen;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        hlen = (size_t)(close - text - 1);
        colon = close[1] == ':' ? close + 1 : NULL;
        text++;
    } else {
        colon = strrchr(text, ':');
        if (colon != NULL && strchr(text, ':') != colon)
            return -1; /* IPv6 needs brackets */
        hlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hlen == 0 || hlen >= hsize)
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    snprintf(port, psize, "%s", colon ? colon + 1 : def_port);
    if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || atol(port) < 1 ||
        atol(port) > 65535)
        return -1;
    return 0;
}

/* Connect to the first address that answers before the deadline. */
static int dial(const char *host, const char *port, long long deadline, char *err, size_t esize)
{
    struct addrinfo hints = {0}, *res = NULL;
    int fd = -1, rc;

    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        set_err(err, esize, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    set_err(err, esize, "%s port %s: no address", host, port);
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS)
            soerr = errno;
        else if (wait_fd(fd, POLLOUT, deadline) <= 0)
            soerr = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr != 0) {
            set_err(err, esize, "connect to %s port %s: %s", host, port, strerror(soerr));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *p, size_t len, long long deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        } else if (wait_fd(fd, POLLOUT, deadline) <= 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- parsing the answer ----------------------------------------------------------------- */

char *icap_header(const char *headers, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);

    for (const char *line = headers; line && *line; line = strstr(line, "\r\n")) {
        if (line[0] == '\r')
            line += 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1, *end = strstr(v, "\r\n");
            size_t len;
            while (*v == ' ' || *v == '\t')
                v++;
            len = end ? (size_t)(end - v) : strlen(v);
            if (len >= size)
                len = size - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

/* Offset of the body in the encapsulated part, or -1 with `*null_body` the
   header length when there is no body. */
static long body_offset(const char *encapsulated, long *null_body)
{
    const char *p;

    *null_body = -1;
    if ((p = strstr(encapsulated, "null-body=")) != NULL)
        *null_body = atol(p + 10);
    if ((p = strstr(encapsulated, "-body=")) != NULL &&
        (p < encapsulated + 4 || strncmp(p - 4, "null", 4) != 0))
        return atol(p + 6);
    return -1;
}

/* De-chunk from `p`; 1 complete, 0 need more, -1 malformed. */
static int dechunk(const char *p, const char *end, struct icap_response *out)
{
    char *body = malloc((size_t)(end - p) + 1);
    size_t used = 0;

    if (body == NULL)
        return -1;
    for (;;) {
        char *eol = memmem(p, (size_t)(end - p), "\r\n", 2), *stop;
        unsigned long size;
        if (eol == NULL)
            break;
        size = strtoul(p, &stop, 16);
        if (stop == p) {
            free(body);
            return -1;
        }
        if (size == 0) {
            body[used] = '\0';
            out->body = body;
            out->body_len = used;
            return 1;
        }
        if ((size_t)(end - (eol + 2)) < size + 2)
            break;
        memcpy(body + used, eol + 2, size);
        used += size;
        p = eol + 2 + size + 2;
    }
    free(body);
    return 0;
}

/* 1 complete (fills `out`), 0 need more, -1 malformed. */
static int parse_response(const char *buf, size_t len, struct icap_response *out)
{
    const char *hend = memmem(buf, len, "\r\n\r\n", 4), *enc;
    char encapsulated[256];
    long body, null_body;

    if (hend == NULL)
        return 0;
    if (strncmp(buf, "ICAP/1.0 ", 9) != 0)
        return -1;
    out->status = atoi(buf + 9);
    if (icap_header(buf, "Encapsulated", encapsulated, sizeof encapsulated) == NULL)
        return 1; /* e.g. an error answer without encapsulation */
    enc = hend + 4;
    body = body_offset(encapsulated, &null_body);
    if (body < 0)
        return (size_t)(buf + len - enc) >= (size_t)(null_body > 0 ? null_body : 0) ? 1 : 0;
    if ((size_t)(buf + len - enc) < (size_t)body)
        return 0;
    return dechunk(enc + body, buf + len, out);
}

static int read_response(int fd, long long deadline, struct icap_response *out, char *err,
                         size_t esize)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    int state = 0;

    while (buf != NULL && state == 0) {
        ssize_t n;
        if (len + 4096 + 1 > cap) {
            char *bigger = cap < MAX_RESPONSE ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
        n = recv(fd, buf + len, cap - len - 1, 0);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
            state = parse_response(buf, len, out);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            state = -2;
        } else if (wait_fd(fd, POLLIN, deadline) <= 0) {
            state = -3;
        }
    }
    if (state == 1) {
        const char *hend = strstr(buf, "\r\n\r\n");
        out->headers = strndup(buf, (size_t)(hend - buf) + 2);
    }
    set_err(err, esize, "%s",
            state == -1   ? "malformed ICAP answer"
            : state == -2 ? "connection closed before the answer ended"
            : state == -3 ? "timed out waiting for the answer"
                          : "answer too large or out of memory");
    free(buf);
    return state == 1 && out->headers ? 0 : -1;
}

/* ---- the request ------------------------------------------------------------------------ */

/* The ICAP request: request line, Host, User-Agent, `extra` header lines
   (CRLF-terminated, may be ""), Encapsulated for the HTTP header block
   `http` (NULL: none), then that block.  Caller frees; NULL when out of memory. */
static char *format_request(const char *host, const char *port, const char *method,
                            const char *service, const char *extra, const char *http)
{
    bool v6 = strchr(host, ':') != NULL;
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    size_t http_len = http ? strlen(http) : 0;
    size_t size =
        2 * strlen(host) + strlen(port) * 2 + strlen(service) + strlen(extra) + http_len + 256;
    char *req = malloc(size);

    if (req != NULL)
        snprintf(req, size,
                 "%s icap://%s%s%s:%s/%s ICAP/1.0\r\nHost: %s%s%s:%s\r\n"
                 "User-Agent: o365bypass/" O3B_VERSION "\r\n%sEncapsulated: %s%zu\r\n\r\n%s",
                 method, lb, host, rb, port, service, lb, host, rb, port, extra,
                 http ? "req-hdr=0, null-body=" : "null-body=", http_len, http ? http : "");
    return req;
}

/* Send `req`, read one answer into `out`; every step before the deadline. */
static int exchange(const char *host, const char *port, const char *req, int timeout_s,
                    struct icap_response *out, char *errbuf, size_t errsize)
{
    long long deadline = now_ms() + (long long)timeout_s * 1000;
    int fd, rc;

    memset(out, 0, sizeof *out);
    if (req == NULL) {
        set_err(errbuf, errsize, "out of memory");
        return -1;
    }
    fd = dial(host, port, deadline, errbuf, errsize);
    if (fd < 0)
        return -1;
    if (send_all(fd, req, strlen(req), deadline) != 0) {
        set_err(errbuf, errsize, "sending to %s port %s failed or timed out", host, port);
        close(fd);
        return -1;
    }
    rc = read_response(fd, deadline, out, errbuf, errsize);
    close(fd);
    if (rc != 0)
        icap_response_free(out);
    return rc;
}

int icap_request(const char *host, const char *port, const char *method, const char *service,
                 int timeout_s, struct icap_response *out, char *errbuf, size_t errsize)
{
    static const char http_req[] = "GET http://x/ HTTP/1.0\r\nHost: x\r\n\r\n";
    bool reqmod = strcmp(method, "REQMOD") == 0;
    char *req = format_request(host, port, method, service, "", reqmod ? http_req : NULL);
    int rc = exchange(host, port, req, timeout_s, out, errbuf, errsize);

    free(req);
    return rc;
}

int icap_reqmod(const char *host, const char *port, const char *service, const char *http_head,
                int timeout_s, struct icap_response *out, char *errbuf, size_t errsize)
{
    char *req = format_request(host, port, "REQMOD", service,
                               "Allow: 204, trailers\r\nPreview: 0\r\n", http_head);
    int rc = exchange(host, port, req, timeout_s, out, errbuf, errsize);

    free(req);
    return rc;
}

void icap_response_free(struct icap_response *r)
{
    free(r->headers);
    free(r->body);
    r->headers = NULL;
    r->body = NULL;
    r->body_len = 0;
}
