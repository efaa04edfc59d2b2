/* SPDX-License-Identifier: MIT */
/*
 * bench_origin.c - a fast loopback HTTP/1.1 origin for the end-to-end benchmark.
 *
 * tests/e2e/origin.py is right for tests but far too slow to measure a proxy
 * with (~180 req/s: it writes the head and the body of an answer separately
 * and every answer then waits for a delayed ACK).  This one answers every
 * request with the same small 200, written with one send(), on persistent
 * connections, and reads request bodies completely (Content-Length or
 * chunked, any size) without keeping them: enough for Squid in front of it.
 *
 * One thread, one epoll set, non-blocking sockets, a fixed input buffer per
 * connection; a request head larger than that buffer gets a 431 and a close.
 * It listens on loopback addresses only (it refuses others), stops cleanly on
 * SIGTERM/SIGINT, and writes its PID to --ready-file once every port listens.
 *
 * usage: bench_origin --addr 127.0.0.42 --port 80 [--port 443] [--ready-file F]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 4
#define MAX_CONNECTIONS 4096
#define IN_BUF_SIZE 32768
#define MAX_EVENTS 64

/* Every answer (HEAD: without its last ANSWER_BODY_LEN bytes, the body). */
#define ANSWER_BODY_LEN 10
static const char ANSWER[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 10\r\n"
                             "Cache-Control: no-store\r\n"
                             "\r\n"
                             "origin ok\n";
static const char TOO_LARGE[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n";

/* Where the parser is inside one request. */
enum phase {
    PH_HEAD,       /* reading the request head up to the empty line */
    PH_BODY,       /* discarding body_left bytes (Content-Length or chunk data) */
    PH_CHUNK_SIZE, /* reading a chunk-size line */
    PH_CHUNK_CRLF, /* reading the CRLF after chunk data */
    PH_TRAILER     /* reading trailer lines up to the empty one */
};

struct conn {
    int fd;
    enum phase phase;
    bool chunked;
    bool close_after; /* "Connection: close" seen: close once answered */
    bool head_method; /* HEAD: answer without the body */
    uint64_t body_left;
    size_t used; /* bytes in buf */
    char buf[IN_BUF_SIZE];
};

struct options {
    const char *addr;
    int ports[MAX_PORTS];
    int nports;
    const char *ready_file;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int signum)
{
    (void)signum;
    g_stop = 1;
}

static bool address_is_loopback(const char *addr)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (inet_pton(AF_INET, addr, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_origin --addr LOOPBACK_ADDR --port N [--port N]... "
                    "[--ready-file FILE]\n");
    return 2;
}

static bool parse_options(int argc, char **argv, struct options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->addr = "127.0.0.42";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--addr") == 0) {
            opt->addr = argv[i + 1];
        } else if (strcmp(argv[i], "--port") == 0 && opt->nports < MAX_PORTS) {
            int port = atoi(argv[i + 1]);
            if (port <= 0 || port > 65535)
                return false;
            opt->ports[opt->nports++] = port;
        } else if (strcmp(argv[i], "--ready-file") == 0) {
            opt->ready_file = argv[i + 1];
        } else {
            return false;
        }
    }
    if (argc % 2 == 0 || opt->nports == 0)
        return false;
    if (!address_is_loopback(opt->addr)) {
        fprintf(stderr, "bench_origin: refusing non-loopback address %s\n", opt->addr);
        return false;
    }
    return true;
}

static int set_nonblocking_nodelay(int fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A listening socket on addr:port, or -1 (message printed). */
static int open_listener(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd;

    memset(&ss, 0, sizeof(ss));
    if (strchr(addr, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &s4->sin_addr);
        len = sizeof(*s4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 512) != 0) {
        fprintf(stderr, "bench_origin: cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void conn_reset_request(struct conn *c)
{
    c->phase = PH_HEAD;
    c->chunked = false;
    c->head_method = false;
    c->body_left = 0;
}

/* The value of header NAME in the head [head, head + len), or NULL. */
static const char *find_header(const char *head, size_t len, const char *name)
{
    size_t name_len = strlen(name);
    const char *end = head + len;
    const char *line = memchr(head, '\n', len);

    while (line != NULL && line + 1 < end) {
        line++;
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0 &&
            line[name_len] == ':') {
            const char *value = line + name_len + 1;
            while (value < end && (*value == ' ' || *value == '\t'))
                value++;
            return value;
        }
        line = memchr(line, '\n', (size_t)(end - line));
    }
    return NULL;
}

/* Starts with WORD, case-insensitively, within the line at value? */
static bool value_has_prefix(const char *value, const char *word)
{
    return value != NULL && strncasecmp(value, word, strlen(word)) == 0;
}

/* The head [buf, buf + len) is complete: pick the body framing. */
static void parse_head(struct conn *c, size_t len)
{
    const char *length = find_header(c->buf, len, "Content-Length");

    c->head_method = len > 5 && memcmp(c->buf, "HEAD ", 5) == 0;
    c->close_after = value_has_prefix(find_header(c->buf, len, "Connection"), "close");
    c->chunked = value_has_prefix(find_header(c->buf, len, "Transfer-Encoding"), "chunked");
    c->body_left = (!c->chunked && length != NULL) ? strtoull(length, NULL, 10) : 0;
    if (c->chunked)
        c->phase = PH_CHUNK_SIZE;
    else
        c->phase = c->body_left > 0 ? PH_BODY : PH_HEAD;
}

static bool send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL); /* a ~60-byte answer: never in practice */
            continue;
        }
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static bool answer(struct conn *c)
{
    size_t len = sizeof(ANSWER) - 1;

    if (c->head_method)
        len -= ANSWER_BODY_LEN;
    return send_all(c->fd, ANSWER, len);
}

/* Drop the first n bytes of the input buffer. */
static void consume(struct conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->used - n);
    c->used -= n;
}

/* One line (through '\n') at the start of buf: its length, or 0 if incomplete. */
static size_t line_length(const struct conn *c)
{
    const char *nl = memchr(c->buf, '\n', c->used);
    return nl == NULL ? 0 : (size_t)(nl - c->buf) + 1;
}

/* Advance one step; false when more input is needed. *done: a request ended. */
static bool step(struct conn *c, bool *done)
{
    size_t n;

    switch (c->phase) {
    case PH_HEAD: {
        char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
        if (end == NULL)
            return false;
        n = (size_t)(end - c->buf) + 4;
        parse_head(c, n);
        consume(c, n);
        *done = c->phase == PH_HEAD;
        return true;
    }
    case PH_BODY:
        n = c->used < c->body_left ? c->used : (size_t)c->body_left;
        if (n == 0)
            return false;
        consume(c, n);
        c->body_left -= n;
        if (c->body_left == 0) {
            c->phase = c->chunked ? PH_CHUNK_CRLF : PH_HEAD;
            *done = !c->chunked;
        }
        return true;
    case PH_CHUNK_SIZE:
        if ((n = line_length(c)) == 0)
            return false;
        c->body_left = strtoull(c->buf, NULL, 16);
        consume(c, n);
        c->phase = c->body_left > 0 ? PH_BODY : PH_TRAILER;
        return true;
    case PH_CHUNK_CRLF:
        if ((n = line_length(c)) == 0)
            return false;
        consume(c, n);
        c->phase = PH_CHUNK_SIZE;
        return true;
    case PH_TRAILER:
        if ((n = line_length(c)) == 0)
            return false;
        consume(c, n);
        if (n <= 2) {
            c->phase = PH_HEAD;
            *done = true;
        }
        return true;
    }
    return false;
}

/* Parse what is buffered, answering each complete request.  false: close. */
static bool process_input(struct conn *c)
{
    for (;;) {
        bool done = false;
        if (!step(c, &done))
            break;
        if (done) {
            if (!answer(c) || c->close_after)
                return false;
            conn_reset_request(c);
        }
    }
    if (c->used == sizeof(c->buf) && c->phase != PH_BODY) {
        send_all(c->fd, TOO_LARGE, sizeof(TOO_LARGE) - 1);
        return false;
    }
    return true;
}

/* Read what the socket has.  false: the connection is finished. */
static bool on_readable(struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->used, sizeof(c->buf) - c->used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        c->used += (size_t)n;
        if (!process_input(c))
            return false;
    }
}

static void accept_all(int epfd, int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct conn *c = calloc(1, sizeof(*c));
        if (c == NULL || fd >= MAX_CONNECTIONS || set_nonblocking_nodelay(fd) != 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        conn_reset_request(c);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
        }
    }
}

static bool write_ready_file(const char *path)
{
    char tmp[4096];
    FILE *f;

    if (path == NULL)
        return true;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 && rename(tmp, path) == 0;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Listener descriptors are tagged by a pointer into this array. */
static int g_listeners[MAX_PORTS];

static void serve(int epfd, int nlisteners)
{
    struct epoll_event events[MAX_EVENTS];

    while (!g_stop) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, 1000);
        for (int i = 0; i < n; i++) {
            int *tag = events[i].data.ptr;
            if (tag >= g_listeners && tag < g_listeners + nlisteners) {
                accept_all(epfd, *tag);
                continue;
            }
            struct conn *c = events[i].data.ptr;
            if (!on_readable(c)) {
                close(c->fd); /* also leaves the epoll set */
                free(c);
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct options opt;
    int epfd;

    if (!parse_options(argc, argv, &opt))
        return usage();
    install_signals();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return 1;
    for (int i = 0; i < opt.nports; i++) {
        g_listeners[i] = open_listener(opt.addr, opt.ports[i]);
        if (g_listeners[i] < 0)
            return 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g_listeners[i]};
        epoll_ctl(epfd, EPOLL_CTL_ADD, g_listeners[i], &ev);
    }
    if (!write_ready_file(opt.ready_file)) {
        fprintf(stderr, "bench_origin: cannot write %s\n", opt.ready_file);
        return 1;
    }
    serve(epfd, opt.nports);
    return 0;
}
