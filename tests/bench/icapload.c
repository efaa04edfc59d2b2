/* SPDX-License-Identifier: MIT */
/*
 * icapload.c - closed-loop ICAP load generator for the o365bypass benchmarks.
 *
 * -c threads, one persistent connection each, send Squid-shaped REQMOD/RESPMOD
 * requests back to back and read every response completely before sending the
 * next one.  All request bytes are built once at start-up (one head per
 * kind x target host, one preview tail and one 100-Continue remainder per
 * kind), so the hot loop is one sendmsg(), a few recv() into a per-thread
 * buffer and an in-place parse: no allocation, no formatting, no lock.
 * Request slots come from one atomic counter; slot i stores its latency in
 * lat[i], so the latency store is bounded by -n and needs no merging.
 * Latency runs from the send to the last byte of the final answer, 100
 * Continue round trip included, (re)connect time excluded (counted apart).
 * One blocking thread per connection on purpose: each request already costs
 * exactly one sendmsg() and one recv() (header-only), and driving several
 * connections per thread cut context switches but not CPU per request.
 *
 * The byte layout follows a capture of Squid 5.7 talking to c-icap 0.5.10:
 * ICAP header order Host, Date, Encapsulated, Preview, Allow;
 * "Allow: 204, trailers" for header-only requests and bodies below 64 KiB,
 * "Allow: trailers" above; Preview = min(service preview, body) with the last
 * chunk "0; ieof" when the whole body fits; the encapsulated request carries
 * the client's headers with Host last (Squid adds no Via at REQMOD).
 *
 * Standalone on purpose: C11 + POSIX + pthreads, nothing from the project.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_URL "icap://127.0.0.1:1344/echo"
#define DEFAULT_HOSTS "outlook.office365.com"
#define DEFAULT_CONNECTIONS 4u
#define MAX_CONNECTIONS 1024u
#define DEFAULT_REQUESTS 20000u
#define MAX_REQUESTS 50000000u
#define MAX_SECONDS 120.0
#define DEFAULT_BODY 4096u
#define MAX_BODY (16u << 20)
#define DEFAULT_TIMEOUT 10.0
#define MAX_HOSTS 20000u
#define MAX_HOST_ENTRY 1024u
#define MAX_KINDS 16u
#define READ_BUF_SIZE 65536u
#define HEAD_BUF_SIZE 4096u
#define BACKUP_LIMIT 65536u /* Squid offers Allow: 204 only for bodies below this */
#define MAX_HEADER_LINES 256u
#define MAX_CHUNK_SIZE (UINT64_C(1) << 40)
#define MAX_ERROR_REPORTS 5u
#define LAT_UNUSED UINT32_MAX
#define NO_PREVIEW (-1L)

#define USER_AGENT                                                                                 \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "                                \
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"

enum kind { KIND_GET, KIND_POST, KIND_CONNECT, KIND_RESPMOD, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"get", "post", "connect", "respmod"};

enum outcome { OUT_OK, OUT_CONNECT, OUT_IO, OUT_PARSE, OUT_STATUS, OUT_COUNT };
static const char *const outcome_keys[OUT_COUNT] = {"ok", "err_connect", "err_io", "err_parse",
                                                    "err_status"};

/* Command-line settings; hosts and match_name are owned (freed by options_free). */
struct options {
    const char *url;
    char authority[300]; /* host[:port] as written in the URL */
    char server_host[256];
    char server_port[8];
    unsigned connections;
    uint64_t max_requests;
    double max_seconds;
    double io_timeout;
    enum kind kinds[MAX_KINDS];
    size_t nkinds;
    char **hosts; /* "host" or "host/path" */
    size_t nhosts;
    size_t body_len;
    long preview;             /* NO_PREVIEW: no Preview header */
    const char *count_name;   /* -x */
    char *match_name;         /* -X, name part */
    const char *match_prefix; /* -X, value prefix (points into match_name's block) */
    bool json;
};

/* Body bytes shared by every message of one kind. */
struct kind_bytes {
    char *tail; /* sent right after the head: preview chunk or whole body */
    size_t tail_len;
    char *rest; /* sent after "100 Continue" */
    size_t rest_len;
    bool may_continue; /* a 100 Continue is legal (preview did not hold it all) */
};

struct message {
    size_t head_off; /* into plan.arena */
    size_t head_len;
    enum kind kind;
};

/* Everything sent, built once; read-only while the workers run. */
struct plan {
    char *arena;
    struct message *msgs; /* index = host * nkinds + kind position */
    size_t nmsgs;
    struct kind_bytes kb[KIND_COUNT];
};

struct target {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int family;
};

struct stats {
    uint64_t requests;
    uint64_t by_outcome[OUT_COUNT];
    uint64_t status_200, status_204, status_100;
    uint64_t connects, retries;
    uint64_t count_hits, match_hits;
};

struct worker {
    alignas(64) pthread_t thread;
    int fd;
    uint64_t served_on_conn;
    bool got_bytes; /* something arrived for the current request */
    char *buf;
    size_t pos, end;
    char detail[160]; /* last error, for the first few reports */
    struct stats st;
};

/* Parsed ICAP response head. */
struct icap_head {
    int status;
    bool conn_close;
    bool has_encapsulated;
    bool body_chunked;   /* else: null-body */
    uint64_t enc_offset; /* encapsulated header bytes before the body */
    bool count_hit, match_hit;
};

static struct options g_opt;
static struct plan g_plan;
static struct target g_target;
static uint32_t *g_lat;
static _Atomic uint64_t g_next_slot;
static atomic_bool g_stop;
static uint64_t g_deadline_ns;
static pthread_mutex_t g_report_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_reports;

/* ---- small helpers ------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static bool parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *text, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0.0) || v > max)
        return false;
    *out = v;
    return true;
}

static void report_error(struct worker *w, uint64_t slot, enum outcome out)
{
    size_t idx = (size_t)(slot % g_plan.nmsgs);

    pthread_mutex_lock(&g_report_lock);
    if (g_reports++ < MAX_ERROR_REPORTS)
        fprintf(stderr, "icapload: request %" PRIu64 " (%s, %s): %s: %s\n", slot,
                kind_names[g_plan.msgs[idx].kind], g_opt.hosts[idx / g_opt.nkinds],
                outcome_keys[out], w->detail[0] ? w->detail : "-");
    pthread_mutex_unlock(&g_report_lock);
}

/* ---- options --------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to, "usage: icapload [options]\n"
                "Closed-loop ICAP load: -c persistent connections, each sends a request and\n"
                "reads the whole response before the next; stops after -n requests or -d s.\n"
                "  -u URL     ICAP service (default " DEFAULT_URL ")\n"
                "  -c N       connections, one thread each (default 4, max 1024)\n"
                "  -n N       total requests (default 20000, max 50000000)\n"
                "  -d SECS    stop after SECS seconds (default and max 120)\n"
                "  -k LIST    request kinds, cycled: get,post,connect,respmod (default get)\n"
                "  -H LIST    target hosts, cycled, host or host/path (default " DEFAULT_HOSTS ")\n"
                "  -F FILE    target hosts, one per line (# comments); replaces -H\n"
                "  -b BYTES   body size for post and respmod (default 4096, max 16 MiB)\n"
                "  -p BYTES   preview size (default 0; -1 or none: no Preview header)\n"
                "  -t SECS    socket I/O and connect timeout (default 10)\n"
                "  -x NAME    count responses carrying ICAP header NAME\n"
                "  -X 'NAME: PREFIX'  count responses whose header NAME starts with PREFIX\n"
                "  -j         one JSON line instead of the key=value and human lines\n"
                "  -h         this help\n"
                "Exit status: 0 no errors, 1 errors (or no request done), 2 usage error.\n");
}

static bool parse_url(struct options *o, const char *url)
{
    const char *auth = url + 7, *slash, *port = NULL, *host_end;
    size_t auth_len, host_len;

    if (strncasecmp(url, "icap://", 7) != 0 || !(slash = strchr(auth, '/')) || slash[1] == '\0')
        return false;
    auth_len = (size_t)(slash - auth);
    if (auth_len == 0 || auth_len >= sizeof(o->authority))
        return false;
    memcpy(o->authority, auth, auth_len);
    o->authority[auth_len] = '\0';
    if (auth[0] == '[') {
        host_end = memchr(auth, ']', auth_len);
        if (!host_end)
            return false;
        auth++;
        if (host_end + 1 < slash) {
            if (host_end[1] != ':')
                return false;
            port = host_end + 2;
        }
    } else {
        host_end = memchr(auth, ':', auth_len);
        if (host_end)
            port = host_end + 1;
        else
            host_end = slash;
    }
    host_len = (size_t)(host_end - auth);
    if (host_len == 0 || host_len >= sizeof(o->server_host))
        return false;
    memcpy(o->server_host, auth, host_len);
    o->server_host[host_len] = '\0';
    if (!port) {
        strcpy(o->server_port, "1344");
        return true;
    }
    if (slash - port < 1 || slash - port > 5 ||
        strspn(port, "0123456789") != (size_t)(slash - port))
        return false;
    memcpy(o->server_port, port, (size_t)(slash - port));
    o->server_port[slash - port] = '\0';
    return atoi(o->server_port) > 0 && atoi(o->server_port) < 65536;
}

static bool parse_kinds(struct options *o, const char *list)
{
    char copy[256], *save = NULL, *tok;

    if (strlen(list) >= sizeof(copy))
        return false;
    strcpy(copy, list);
    o->nkinds = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t k;
        for (k = 0; k < KIND_COUNT && strcmp(tok, kind_names[k]) != 0; k++)
            ;
        if (k == KIND_COUNT || o->nkinds == MAX_KINDS)
            return false;
        o->kinds[o->nkinds++] = (enum kind)k;
    }
    return o->nkinds > 0;
}

/* Adds one target host entry (trimmed); false on a malformed or surplus entry. */
static bool add_host(struct options *o, const char *text, size_t len)
{
    char *copy;

    while (len && (text[0] == ' ' || text[0] == '\t'))
        text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                   text[len - 1] == '\n'))
        len--;
    if (len == 0)
        return true;
    if (len > MAX_HOST_ENTRY || text[0] == '/' || o->nhosts == MAX_HOSTS)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= ' ' || text[i] == 0x7f)
            return false;
    copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    o->hosts[o->nhosts++] = copy;
    return true;
}

static bool parse_host_list(struct options *o, const char *list)
{
    const char *p = list;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!add_host(o, p, len))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

static bool read_host_file(struct options *o, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;

    if (!f) {
        fprintf(stderr, "icapload: %s: %s\n", path, strerror(errno));
        return false;
    }
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        size_t skip = strspn(line, " \t");
        if (line[skip] != '#')
            ok = add_host(o, line, (size_t)len);
    }
    free(line);
    fclose(f);
    return ok;
}

static bool parse_match(struct options *o, const char *spec)
{
    const char *colon = strchr(spec, ':');
    char *value;

    if (!colon || colon == spec)
        return false;
    o->match_name = strdup(spec);
    if (!o->match_name)
        return false;
    value = o->match_name + (colon - spec);
    *value++ = '\0';
    while (*value == ' ' || *value == '\t')
        value++;
    o->match_prefix = value;
    return true;
}

static void options_free(struct options *o)
{
    for (size_t i = 0; i < o->nhosts; i++)
        free(o->hosts[i]);
    free(o->hosts);
    free(o->match_name);
    o->hosts = NULL;
    o->match_name = NULL;
}

static bool set_option(struct options *o, int opt, const char *arg, const char **hosts_list,
                       const char **hosts_file)
{
    uint64_t v;

    switch (opt) {
    case 'u':
        o->url = arg;
        return parse_url(o, arg);
    case 'c':
        if (!parse_u64(arg, 1, MAX_CONNECTIONS, &v))
            return false;
        o->connections = (unsigned)v;
        return true;
    case 'n':
        return parse_u64(arg, 1, MAX_REQUESTS, &o->max_requests);
    case 'd':
        return parse_seconds(arg, MAX_SECONDS, &o->max_seconds);
    case 't':
        return parse_seconds(arg, MAX_SECONDS, &o->io_timeout);
    case 'k':
        return parse_kinds(o, arg);
    case 'H':
        *hosts_list = arg;
        return true;
    case 'F':
        *hosts_file = arg;
        return true;
    case 'b':
        if (!parse_u64(arg, 0, MAX_BODY, &v))
            return false;
        o->body_len = (size_t)v;
        return true;
    case 'p':
        if (strcmp(arg, "-1") == 0 || strcmp(arg, "none") == 0) {
            o->preview = NO_PREVIEW;
            return true;
        }
        if (!parse_u64(arg, 0, MAX_BODY, &v))
            return false;
        o->preview = (long)v;
        return true;
    case 'x':
        o->count_name = arg;
        return arg[0] != '\0' && !strchr(arg, ':');
    case 'X':
        free(o->match_name);
        return parse_match(o, arg);
    case 'j':
        o->json = true;
        return true;
    default:
        return false;
    }
}

/* Returns 0 to run, 1 after -h, 2 on a usage error (message printed). */
static int parse_options(struct options *o, int argc, char **argv)
{
    const char *hosts_list = DEFAULT_HOSTS, *hosts_file = NULL;
    int opt;

    *o = (struct options){.connections = DEFAULT_CONNECTIONS,
                          .max_requests = DEFAULT_REQUESTS,
                          .max_seconds = MAX_SECONDS,
                          .io_timeout = DEFAULT_TIMEOUT,
                          .kinds = {KIND_GET},
                          .nkinds = 1,
                          .body_len = DEFAULT_BODY};
    if (!parse_url(o, DEFAULT_URL))
        return 2;
    o->url = DEFAULT_URL;
    while ((opt = getopt(argc, argv, "u:c:n:d:k:H:F:b:p:t:x:X:jh")) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        }
        if (!set_option(o, opt, optarg, &hosts_list, &hosts_file)) {
            if (opt != '?')
                fprintf(stderr, "icapload: bad value for -%c: %s\n", opt, optarg);
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "icapload: unexpected argument: %s\n", argv[optind]);
        return 2;
    }
    o->hosts = calloc(MAX_HOSTS, sizeof(*o->hosts));
    if (!o->hosts ||
        !(hosts_file ? read_host_file(o, hosts_file) : parse_host_list(o, hosts_list)) ||
        o->nhosts == 0) {
        fprintf(stderr, "icapload: bad target host list (at most %u entries, no blanks)\n",
                MAX_HOSTS);
        return 2;
    }
    return 0;
}

/* ---- building the requests --------------------------------------------------- */

static size_t kind_body_len(enum kind k)
{
    return (k == KIND_POST || k == KIND_RESPMOD) ? g_opt.body_len : 0;
}

/* Preview bytes actually sent for a body of body_len (Squid: min(advertised, body)). */
static size_t preview_len(size_t body_len)
{
    return (size_t)g_opt.preview < body_len ? (size_t)g_opt.preview : body_len;
}

/* Splits "host/path" into a lowercased host (as Squid writes it) and a path. */
static bool split_host(const char *entry, char *host, size_t host_cap, const char **path)
{
    size_t len = strcspn(entry, "/");

    if (len == 0 || len >= host_cap)
        return false;
    for (size_t i = 0; i < len; i++)
        host[i] = (entry[i] >= 'A' && entry[i] <= 'Z') ? (char)(entry[i] + 32) : entry[i];
    host[len] = '\0';
    *path = entry[len] ? entry + len : "/";
    return true;
}

/* Encapsulated HTTP headers; *req_len gets the length of the request part. */
static int format_http(char *out, size_t cap, enum kind k, const char *entry, const char *date,
                       size_t *req_len)
{
    char host[MAX_HOST_ENTRY + 1];
    const char *path;
    size_t body = kind_body_len(k);
    int n, m = 0;

    if (!split_host(entry, host, sizeof(host), &path))
        return -1;
    if (k == KIND_CONNECT)
        n = snprintf(out, cap,
                     "CONNECT %s:443 HTTP/1.1\r\nUser-Agent: " USER_AGENT
                     "\r\nHost: %s:443\r\n\r\n",
                     host, host);
    else if (k == KIND_POST)
        n = snprintf(out, cap,
                     "POST http://%s%s HTTP/1.1\r\nUser-Agent: " USER_AGENT
                     "\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.9\r\n"
                     "Content-Length: %zu\r\nContent-Type: application/octet-stream\r\n"
                     "Host: %s\r\n\r\n",
                     host, path, body, host);
    else
        n = snprintf(out, cap,
                     "GET http://%s%s HTTP/1.1\r\nUser-Agent: " USER_AGENT
                     "\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
                     "\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br"
                     "\r\nHost: %s\r\n\r\n",
                     host, path, host);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    *req_len = (size_t)n;
    if (k == KIND_RESPMOD)
        m = snprintf(out + n, cap - (size_t)n,
                     "HTTP/1.1 200 OK\r\nDate: %s\r\n"
                     "Server: Microsoft-IIS/10.0\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nCache-Control: private\r\n\r\n",
                     date, body);
    if (m < 0 || (size_t)m >= cap - (size_t)n)
        return -1;
    return n + m;
}

static void format_encapsulated(char *out, size_t cap, enum kind k, size_t req_len, size_t http_len)
{
    bool body = kind_body_len(k) > 0;

    if (k == KIND_RESPMOD)
        snprintf(out, cap, "req-hdr=0, res-hdr=%zu, %s=%zu", req_len,
                 body ? "res-body" : "null-body", http_len);
    else
        snprintf(out, cap, "req-hdr=0, %s=%zu", body && k == KIND_POST ? "req-body" : "null-body",
                 http_len);
}

/* ICAP head + encapsulated headers for one kind and target; length or -1. */
static int format_head(char *out, size_t cap, enum kind k, const char *entry, const char *date)
{
    char http[HEAD_BUF_SIZE], encap[96], preview[40] = "";
    size_t req_len, body = kind_body_len(k);
    int http_len, n;

    http_len = format_http(http, sizeof(http), k, entry, date, &req_len);
    if (http_len < 0)
        return -1;
    format_encapsulated(encap, sizeof(encap), k, req_len, (size_t)http_len);
    if (g_opt.preview != NO_PREVIEW)
        snprintf(preview, sizeof(preview), "Preview: %zu\r\n", preview_len(body));
    n = snprintf(out, cap,
                 "%s %s ICAP/1.0\r\nHost: %s\r\nDate: %s\r\nEncapsulated: %s\r\n%s"
                 "Allow: %s\r\n\r\n%s",
                 k == KIND_RESPMOD ? "RESPMOD" : "REQMOD", g_opt.url, g_opt.authority, date, encap,
                 preview, body < BACKUP_LIMIT ? "204, trailers" : "trailers", http);
    return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* Appends one chunk (size line, data, CRLF) to out; returns the new end. */
static char *put_chunk(char *out, const char *data, size_t len)
{
    out += sprintf(out, "%zx\r\n", len);
    memcpy(out, data, len);
    memcpy(out + len, "\r\n", 2);
    return out + len + 2;
}

/* Preview tail and 100-Continue remainder for a kind with a body. */
static bool build_kind_bytes(struct kind_bytes *kb, const char *body, size_t len)
{
    size_t pre = g_opt.preview == NO_PREVIEW ? len : preview_len(len);
    bool all = pre == len;
    char *p;

    kb->tail = malloc(pre + 64);
    kb->rest = malloc(len - pre + 64);
    if (!kb->tail || !kb->rest)
        return false;
    p = kb->tail;
    if (pre > 0)
        p = put_chunk(p, body, pre);
    p += sprintf(p, "%s", all && g_opt.preview != NO_PREVIEW ? "0; ieof\r\n\r\n" : "0\r\n\r\n");
    kb->tail_len = (size_t)(p - kb->tail);
    kb->may_continue = !all;
    p = put_chunk(kb->rest, body + pre, len - pre);
    p += sprintf(p, "0\r\n\r\n");
    kb->rest_len = all ? 0 : (size_t)(p - kb->rest);
    return true;
}

static void fill_body(char *body, size_t len)
{
    static const char text[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do\n";

    for (size_t i = 0; i < len; i++)
        body[i] = text[i % (sizeof(text) - 1)];
}

static bool build_bodies(void)
{
    char *body = malloc(g_opt.body_len + 1);
    bool ok = body != NULL;

    if (ok)
        fill_body(body, g_opt.body_len);
    for (size_t i = 0; ok && i < g_opt.nkinds; i++) {
        enum kind k = g_opt.kinds[i];
        if (kind_body_len(k) > 0 && !g_plan.kb[k].tail)
            ok = build_kind_bytes(&g_plan.kb[k], body, g_opt.body_len);
    }
    free(body);
    return ok;
}

static bool build_plan(void)
{
    char date[64], head[2 * HEAD_BUF_SIZE];
    time_t t = time(NULL);
    struct tm tm;
    size_t used = 0, cap = 1u << 16;

    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
    g_plan.nmsgs = g_opt.nhosts * g_opt.nkinds;
    g_plan.msgs = calloc(g_plan.nmsgs, sizeof(*g_plan.msgs));
    g_plan.arena = malloc(cap);
    if (!g_plan.msgs || !g_plan.arena || !build_bodies())
        return false;
    for (size_t i = 0; i < g_plan.nmsgs; i++) {
        enum kind k = g_opt.kinds[i % g_opt.nkinds];
        int len = format_head(head, sizeof(head), k, g_opt.hosts[i / g_opt.nkinds], date);
        if (len < 0)
            return false;
        while (used + (size_t)len > cap) {
            char *bigger = realloc(g_plan.arena, cap * 2);
            if (!bigger)
                return false;
            g_plan.arena = bigger;
            cap *= 2;
        }
        memcpy(g_plan.arena + used, head, (size_t)len);
        g_plan.msgs[i] = (struct message){.head_off = used, .head_len = (size_t)len, .kind = k};
        used += (size_t)len;
    }
    return true;
}

static void plan_free(void)
{
    for (size_t k = 0; k < KIND_COUNT; k++) {
        free(g_plan.kb[k].tail);
        free(g_plan.kb[k].rest);
    }
    free(g_plan.arena);
    free(g_plan.msgs);
    memset(&g_plan, 0, sizeof(g_plan));
}

/* ---- connections --------------------------------------------------------------- */

static bool resolve_target(void)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(g_opt.server_host, g_opt.server_port, &hints, &res);

    if (rc != 0) {
        fprintf(stderr, "icapload: %s: %s\n", g_opt.server_host, gai_strerror(rc));
        return false;
    }
    memcpy(&g_target.addr, res->ai_addr, res->ai_addrlen);
    g_target.addr_len = res->ai_addrlen;
    g_target.family = res->ai_family;
    freeaddrinfo(res);
    return true;
}

static void set_socket_options(int fd)
{
    int one = 1;
    struct timeval tv = {
        .tv_sec = (time_t)g_opt.io_timeout,
        .tv_usec = (suseconds_t)((g_opt.io_timeout - (double)(time_t)g_opt.io_timeout) * 1e6)};

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Connects with a timeout; returns a blocking socket or -1 (errno set). */
static int open_connection(void)
{
    int fd = socket(g_target.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
    socklen_t err_len = sizeof(err);
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&g_target.addr, g_target.addr_len) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        if (poll(&pfd, 1, (int)(g_opt.io_timeout * 1000)) != 1) {
            errno = ETIMEDOUT;
            goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
            errno = err ? err : errno;
            goto fail;
        }
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        goto fail;
    set_socket_options(fd);
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static void drop_connection(struct worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->served_on_conn = 0;
    w->pos = w->end = 0;
}

static enum outcome io_fail(struct worker *w, const char *what, ssize_t rc)
{
    snprintf(w->detail, sizeof(w->detail), "%s: %s", what,
             rc == 0                                     ? "connection closed by server"
             : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout"
                                                         : strerror(errno));
    return OUT_IO;
}

static enum outcome parse_fail(struct worker *w, const char *what)
{
    snprintf(w->detail, sizeof(w->detail), "%s", what);
    return OUT_PARSE;
}

/* Sends the whole iovec array (modified in place). */
static enum outcome send_all(struct worker *w, struct iovec *iov, int count)
{
    struct msghdr mh = {0};

    while (count > 0) {
        ssize_t n;
        if (iov->iov_len == 0) {
            iov++, count--;
            continue;
        }
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)count;
        n = sendmsg(w->fd, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return io_fail(w, "send", n);
        while (n > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++, count--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return OUT_OK;
}

/* ---- reading responses ------------------------------------------------------------ */

static enum outcome conn_fill(struct worker *w)
{
    ssize_t n;

    if (w->pos == w->end) {
        w->pos = w->end = 0;
    } else if (w->end == READ_BUF_SIZE) {
        if (w->pos == 0)
            return parse_fail(w, "response line longer than the read buffer");
        memmove(w->buf, w->buf + w->pos, w->end - w->pos);
        w->end -= w->pos;
        w->pos = 0;
    }
    do
        n = recv(w->fd, w->buf + w->end, READ_BUF_SIZE - w->end, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return io_fail(w, "recv", n);
    w->end += (size_t)n;
    w->got_bytes = true;
    return OUT_OK;
}

/* Next line without its CRLF; valid until the next read. */
static enum outcome conn_line(struct worker *w, const char **line, size_t *len)
{
    for (;;) {
        char *start = w->buf + w->pos;
        char *nl = memchr(start, '\n', w->end - w->pos);
        enum outcome out;
        if (nl) {
            size_t l = (size_t)(nl - start);
            w->pos += l + 1;
            if (l > 0 && start[l - 1] == '\r')
                l--;
            *line = start;
            *len = l;
            return OUT_OK;
        }
        if ((out = conn_fill(w)) != OUT_OK)
            return out;
    }
}

static enum outcome conn_skip(struct worker *w, uint64_t count)
{
    while (count > 0) {
        size_t avail = w->end - w->pos, take;
        enum outcome out;
        if (avail == 0) {
            if ((out = conn_fill(w)) != OUT_OK)
                return out;
            avail = w->end - w->pos;
        }
        take = avail < count ? avail : (size_t)count;
        w->pos += take;
        count -= take;
    }
    return OUT_OK;
}

static bool parse_status_line(const char *line, size_t len, int *status)
{
    if (len < 12 || memcmp(line, "ICAP/1.", 7) != 0 || line[8] != ' ')
        return false;
    for (size_t i = 9; i < 12; i++)
        if (line[i] < '0' || line[i] > '9')
            return false;
    if (len > 12 && line[12] != ' ')
        return false;
    *status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return true;
}

/* "req-hdr=0, res-body=123": the last entry names the body and gives its offset. */
static bool parse_encapsulated(const char *v, size_t len, struct icap_head *h)
{
    const char *end = v + len, *last_name = NULL;
    size_t last_len = 0;
    uint64_t offset = 0;

    while (v < end) {
        const char *eq, *name;
        uint64_t num = 0;
        while (v < end && (*v == ' ' || *v == ','))
            v++;
        if (v == end)
            break;
        name = v;
        eq = memchr(v, '=', (size_t)(end - v));
        if (!eq || eq == v || eq + 1 == end || eq[1] < '0' || eq[1] > '9')
            return false;
        for (v = eq + 1; v < end && *v >= '0' && *v <= '9' && num < MAX_CHUNK_SIZE; v++)
            num = num * 10 + (uint64_t)(*v - '0');
        if (num < offset || (v < end && *v != ',' && *v != ' '))
            return false;
        offset = num;
        last_name = name;
        last_len = (size_t)(eq - name);
    }
    if (!last_name)
        return false;
    h->body_chunked = name_is(last_name, last_len, "req-body") ||
                      name_is(last_name, last_len, "res-body") ||
                      name_is(last_name, last_len, "opt-body");
    if (!h->body_chunked && !name_is(last_name, last_len, "null-body"))
        return false;
    h->has_encapsulated = true;
    h->enc_offset = offset;
    return true;
}

static bool value_has_close(const char *v, size_t len)
{
    for (size_t i = 0; i + 5 <= len; i++)
        if (strncasecmp(v + i, "close", 5) == 0)
            return true;
    return false;
}

static bool parse_header_line(const char *line, size_t len, struct icap_head *h)
{
    const char *colon = memchr(line, ':', len), *v;
    size_t name_len, v_len;

    if (!colon || colon == line)
        return false;
    name_len = (size_t)(colon - line);
    v = colon + 1;
    v_len = len - name_len - 1;
    while (v_len && (*v == ' ' || *v == '\t'))
        v++, v_len--;
    while (v_len && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t'))
        v_len--;
    if (name_is(line, name_len, "Encapsulated"))
        return parse_encapsulated(v, v_len, h);
    if (name_is(line, name_len, "Connection"))
        h->conn_close |= value_has_close(v, v_len);
    if (g_opt.count_name && name_is(line, name_len, g_opt.count_name))
        h->count_hit = true;
    if (g_opt.match_name && name_is(line, name_len, g_opt.match_name) &&
        strlen(g_opt.match_prefix) <= v_len &&
        memcmp(v, g_opt.match_prefix, strlen(g_opt.match_prefix)) == 0)
        h->match_hit = true;
    return true;
}

static enum outcome read_icap_head(struct worker *w, struct icap_head *h)
{
    const char *line;
    size_t len;
    enum outcome out;

    memset(h, 0, sizeof(*h));
    if ((out = conn_line(w, &line, &len)) != OUT_OK)
        return out;
    if (!parse_status_line(line, len, &h->status))
        return parse_fail(w, "bad ICAP status line");
    for (unsigned n = 0; n < MAX_HEADER_LINES; n++) {
        if ((out = conn_line(w, &line, &len)) != OUT_OK)
            return out;
        if (len == 0)
            return OUT_OK;
        if (!parse_header_line(line, len, h))
            return parse_fail(w, "bad ICAP header line");
    }
    return parse_fail(w, "too many ICAP header lines");
}

static bool parse_chunk_size(const char *line, size_t len, uint64_t *size)
{
    size_t i;

    *size = 0;
    for (i = 0; i < len && *size < MAX_CHUNK_SIZE; i++) {
        char c = line[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        *size = *size * 16 + (uint64_t)d;
    }
    return i > 0 && *size < MAX_CHUNK_SIZE && (i == len || line[i] == ';' || line[i] == ' ');
}

/* Chunked body up to and including the last chunk and its (empty) trailer. */
static enum outcome read_chunked(struct worker *w)
{
    const char *line;
    size_t len;
    uint64_t size;
    enum outcome out;

    for (;;) {
        if ((out = conn_line(w, &line, &len)) != OUT_OK)
            return out;
        if (!parse_chunk_size(line, len, &size))
            return parse_fail(w, "bad chunk size line");
        if (size == 0)
            break;
        if ((out = conn_skip(w, size)) != OUT_OK || (out = conn_line(w, &line, &len)) != OUT_OK)
            return out;
        if (len != 0)
            return parse_fail(w, "chunk data not followed by CRLF");
    }
    for (unsigned n = 0; n < MAX_HEADER_LINES; n++) {
        if ((out = conn_line(w, &line, &len)) != OUT_OK)
            return out;
        if (len == 0)
            return OUT_OK;
    }
    return parse_fail(w, "too many trailer lines");
}

/* Reads what follows a final ICAP head; counts status and -x/-X hits. */
static enum outcome finish_response(struct worker *w, const struct icap_head *h)
{
    enum outcome out;

    w->st.count_hits += h->count_hit;
    w->st.match_hits += h->match_hit;
    if (h->status == 204) {
        w->st.status_204++;
        return OUT_OK;
    }
    if (h->status != 200) {
        snprintf(w->detail, sizeof(w->detail), "ICAP status %d", h->status);
        return OUT_STATUS;
    }
    w->st.status_200++;
    if (!h->has_encapsulated)
        return parse_fail(w, "200 without Encapsulated");
    if ((out = conn_skip(w, h->enc_offset)) != OUT_OK)
        return out;
    return h->body_chunked ? read_chunked(w) : OUT_OK;
}

/* One request/response exchange on an open connection. */
static enum outcome exchange(struct worker *w, const struct message *m, struct icap_head *h)
{
    const struct kind_bytes *kb = &g_plan.kb[m->kind];
    struct iovec iov[2] = {{g_plan.arena + m->head_off, m->head_len}, {kb->tail, kb->tail_len}};
    enum outcome out;

    if ((out = send_all(w, iov, 2)) != OUT_OK || (out = read_icap_head(w, h)) != OUT_OK)
        return out;
    if (h->status == 100) {
        if (!kb->may_continue) {
            snprintf(w->detail, sizeof(w->detail), "100 Continue with no body left to send");
            return OUT_STATUS;
        }
        w->st.status_100++;
        iov[0] = (struct iovec){kb->rest, kb->rest_len};
        if ((out = send_all(w, iov, 1)) != OUT_OK || (out = read_icap_head(w, h)) != OUT_OK)
            return out;
        if (h->status == 100) {
            snprintf(w->detail, sizeof(w->detail), "second 100 Continue");
            return OUT_STATUS;
        }
    }
    if ((out = finish_response(w, h)) != OUT_OK)
        return out;
    return w->pos == w->end ? OUT_OK : parse_fail(w, "bytes after the end of the response");
}

/* ---- workers --------------------------------------------------------------------------- */

static enum outcome ensure_connection(struct worker *w)
{
    if (w->fd >= 0)
        return OUT_OK;
    w->fd = open_connection();
    if (w->fd < 0) {
        snprintf(w->detail, sizeof(w->detail), "connect: %s", strerror(errno));
        return OUT_CONNECT;
    }
    w->st.connects++;
    return OUT_OK;
}

/* Runs request slot `slot`; a reused connection that fails before any byte of
 * the answer (the server closed it while idle) is retried once on a new one.
 * Returns the time it ended. */
static uint64_t run_one(struct worker *w, uint64_t slot)
{
    const struct message *m = &g_plan.msgs[slot % g_plan.nmsgs];
    struct icap_head h = {0};
    uint64_t t0 = 0, t1;
    enum outcome out;

    for (bool retried = false;; retried = true) {
        bool reused;
        if ((out = ensure_connection(w)) != OUT_OK)
            break;
        reused = w->served_on_conn > 0;
        w->got_bytes = false;
        if (!retried)
            t0 = now_ns();
        out = exchange(w, m, &h);
        if (out != OUT_IO || !reused || w->got_bytes || retried)
            break;
        drop_connection(w);
        w->st.retries++;
    }
    t1 = now_ns();
    w->st.requests++;
    w->st.by_outcome[out]++;
    if (out == OUT_OK) {
        uint64_t us = (t1 - t0 + 500) / 1000;
        g_lat[slot] = us < LAT_UNUSED ? (uint32_t)us : LAT_UNUSED - 1;
        w->served_on_conn++;
    } else {
        report_error(w, slot, out);
    }
    if (out != OUT_OK || h.conn_close)
        drop_connection(w);
    return t1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t now = now_ns();

    while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && now < g_deadline_ns) {
        uint64_t slot = atomic_fetch_add_explicit(&g_next_slot, 1, memory_order_relaxed);
        if (slot >= g_opt.max_requests)
            break;
        now = run_one(w, slot);
    }
    drop_connection(w);
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, true);
}

static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Starts and joins the workers; returns the number started (0 on failure). */
static unsigned run_workers(struct worker *workers)
{
    unsigned started = 0;

    g_deadline_ns = now_ns() + (uint64_t)(g_opt.max_seconds * 1e9);
    for (; started < g_opt.connections; started++) {
        struct worker *w = &workers[started];
        w->fd = -1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fprintf(stderr, "icapload: cannot start thread %u\n", started);
            atomic_store(&g_stop, true);
            break;
        }
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    return started == g_opt.connections ? started : 0;
}

/* ---- report ------------------------------------------------------------------------------- */

struct summary {
    struct stats st;
    uint64_t errors;
    double seconds;
    uint32_t p50, p90, p99, max;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted[0..n). */
static uint32_t percentile(const uint32_t *sorted, size_t n, unsigned pct)
{
    size_t rank = (n * pct + 99) / 100;
    return n ? sorted[rank ? rank - 1 : 0] : 0;
}

static void summarize(struct summary *s, const struct worker *workers, double seconds)
{
    size_t n = 0, slots = (size_t)g_opt.max_requests;

    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < g_opt.connections; i++) {
        const struct stats *t = &workers[i].st;
        s->st.requests += t->requests;
        for (size_t o = 0; o < OUT_COUNT; o++)
            s->st.by_outcome[o] += t->by_outcome[o];
        s->st.status_200 += t->status_200;
        s->st.status_204 += t->status_204;
        s->st.status_100 += t->status_100;
        s->st.connects += t->connects;
        s->st.retries += t->retries;
        s->st.count_hits += t->count_hits;
        s->st.match_hits += t->match_hits;
    }
    s->errors = s->st.requests - s->st.by_outcome[OUT_OK];
    s->seconds = seconds;
    for (size_t i = 0; i < slots; i++)
        if (g_lat[i] != LAT_UNUSED)
            g_lat[n++] = g_lat[i];
    qsort(g_lat, n, sizeof(*g_lat), cmp_u32);
    s->p50 = percentile(g_lat, n, 50);
    s->p90 = percentile(g_lat, n, 90);
    s->p99 = percentile(g_lat, n, 99);
    s->max = n ? g_lat[n - 1] : 0;
}

static void kind_list(char *out, size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < g_opt.nkinds && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "",
                                 kind_names[g_opt.kinds[i]]);
}

static void print_json_string(const char *text)
{
    putchar('"');
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            printf("\\%c", *text);
        else if ((unsigned char)*text < 0x20)
            printf("\\u%04x", (unsigned)(unsigned char)*text);
        else
            putchar(*text);
    }
    putchar('"');
}

static void print_json(const struct summary *s, const char *kinds)
{
    printf("{\"requests\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"seconds\":%.3f,\"rps\":%.0f,"
           "\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,\"connections\":%u,"
           "\"connects\":%" PRIu64 ",\"retries\":%" PRIu64 ",\"status_200\":%" PRIu64
           ",\"status_204\":%" PRIu64 ",\"status_100\":%" PRIu64,
           s->st.requests, s->errors, s->seconds, s->st.requests / s->seconds, s->p50, s->p90,
           s->p99, s->max, g_opt.connections, s->st.connects, s->st.retries, s->st.status_200,
           s->st.status_204, s->st.status_100);
    for (size_t o = OUT_CONNECT; o < OUT_COUNT; o++)
        printf(",\"%s\":%" PRIu64, outcome_keys[o], s->st.by_outcome[o]);
    printf(",\"kinds\":\"%s\",\"hosts\":%zu,\"body\":%zu,\"preview\":%ld", kinds, g_opt.nhosts,
           g_opt.body_len, g_opt.preview);
    if (g_opt.count_name) {
        printf(",\"x_header\":");
        print_json_string(g_opt.count_name);
        printf(",\"x_count\":%" PRIu64, s->st.count_hits);
    }
    if (g_opt.match_name) {
        printf(",\"match_header\":");
        print_json_string(g_opt.match_name);
        printf(",\"match_prefix\":");
        print_json_string(g_opt.match_prefix);
        printf(",\"match_count\":%" PRIu64, s->st.match_hits);
    }
    printf("}\n");
}

static void print_text(const struct summary *s, const char *kinds)
{
    printf("requests=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f rps=%.0f p50_us=%u p90_us=%u"
           " p99_us=%u max_us=%u connections=%u connects=%" PRIu64 " retries=%" PRIu64
           " status_200=%" PRIu64 " status_204=%" PRIu64 " status_100=%" PRIu64,
           s->st.requests, s->errors, s->seconds, s->st.requests / s->seconds, s->p50, s->p90,
           s->p99, s->max, g_opt.connections, s->st.connects, s->st.retries, s->st.status_200,
           s->st.status_204, s->st.status_100);
    for (size_t o = OUT_CONNECT; o < OUT_COUNT; o++)
        printf(" %s=%" PRIu64, outcome_keys[o], s->st.by_outcome[o]);
    printf(" kinds=%s hosts=%zu body=%zu preview=%ld", kinds, g_opt.nhosts, g_opt.body_len,
           g_opt.preview);
    if (g_opt.count_name)
        printf(" x_header=%s x_count=%" PRIu64, g_opt.count_name, s->st.count_hits);
    if (g_opt.match_name)
        printf(" match_header=%s match_count=%" PRIu64, g_opt.match_name, s->st.match_hits);
    printf("\nicapload: %" PRIu64
           " requests (%s, %zu hosts) on %u connections in %.3f s: %.0f req/s, "
           "%" PRIu64 " errors; latency us p50 %u p90 %u p99 %u max %u",
           s->st.requests, kinds, g_opt.nhosts, g_opt.connections, s->seconds,
           s->st.requests / s->seconds, s->errors, s->p50, s->p90, s->p99, s->max);
    if (g_opt.count_name)
        printf("; %s in %" PRIu64, g_opt.count_name, s->st.count_hits);
    if (g_opt.match_name)
        printf("; %s: \"%s\"... in %" PRIu64, g_opt.match_name, g_opt.match_prefix,
               s->st.match_hits);
    printf("\n");
}

/* ---- main --------------------------------------------------------------------------------- */

static void free_workers(struct worker *workers)
{
    if (!workers)
        return;
    for (unsigned i = 0; i < g_opt.connections; i++)
        free(workers[i].buf);
    free(workers);
}

/* Workers with their read buffers, fd not yet set; NULL when out of memory. */
static struct worker *alloc_workers(void)
{
    size_t size = sizeof(struct worker) * g_opt.connections;
    struct worker *workers = aligned_alloc(64, (size + 63) / 64 * 64);

    if (!workers)
        return NULL;
    memset(workers, 0, size);
    for (unsigned i = 0; i < g_opt.connections; i++) {
        workers[i].buf = malloc(READ_BUF_SIZE);
        if (!workers[i].buf) {
            free_workers(workers);
            return NULL;
        }
    }
    return workers;
}

static int run(void)
{
    struct worker *workers;
    struct summary sum;
    char kinds[128];
    uint64_t start;
    int status = 1;

    if (!resolve_target())
        return 1;
    if (!build_plan()) {
        fprintf(stderr, "icapload: cannot build the requests (out of memory or host too long)\n");
        return 1;
    }
    g_lat = malloc(sizeof(*g_lat) * (size_t)g_opt.max_requests);
    workers = g_lat ? alloc_workers() : NULL;
    if (workers) {
        memset(g_lat, 0xff, sizeof(*g_lat) * (size_t)g_opt.max_requests);
        install_signals();
        start = now_ns();
        if (run_workers(workers)) {
            summarize(&sum, workers, (double)(now_ns() - start) / 1e9);
            kind_list(kinds, sizeof(kinds));
            (g_opt.json ? print_json : print_text)(&sum, kinds);
            status = (sum.errors == 0 && sum.st.requests > 0) ? 0 : 1;
        }
    } else {
        fprintf(stderr, "icapload: out of memory\n");
    }
    free_workers(workers);
    free(g_lat);
    plan_free();
    return status;
}

int main(int argc, char **argv)
{
    int rc = parse_options(&g_opt, argc, argv);

    if (rc == 0)
        rc = run();
    else if (rc == 1)
        rc = 0;
    options_free(&g_opt);
    return rc;
}
