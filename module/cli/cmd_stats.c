/* SPDX-License-Identifier: MIT */
/*
 * cmd_stats.c - `o365bypass stats`: the counters of a running c-icap.
 *
 * Two ICAP requests (icap_client.c): REQMOD to c-icap's info service
 * ("info?view=text", the page `c-icap-client -s "info?view=text" -req
 * http://x/` shows), whose "o365bypass Statistics" section holds the
 * counters the module registers (counters.h; "label : value", summed over the
 * children), and OPTIONS to the o365bypass service for the
 * X-O365bypass-Table and X-O365bypass-Refresh headers (c-icap 0.5.10 has no
 * gauges).  Output for people, or the Prometheus text format: every label
 * the core's counter rows know (counters.h) maps to their family and label;
 * a label this version does not know is exported under a sanitized name
 * instead of being dropped.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "o365bypass/counters.h"

#define SECTION_TITLE "o365bypass Statistics"
#define MAX_COUNTERS 128
#define TIMEOUT_S 5

static const char stats_help[] =
    "Usage: %s stats [--server HOST:PORT] [--prometheus]\n"
    "\n"
    "Query a running c-icap (default 127.0.0.1:1344; 5 s timeout): the counters of\n"
    "the o365bypass service from c-icap's info service, summed over its children,\n"
    "and the table in use from the service's OPTIONS headers.\n"
    "\n"
    "  -s, --server HOST:PORT  the c-icap to ask ([v6]:PORT for IPv6)\n"
    "  -p, --prometheus        Prometheus text exposition format instead\n"
    "\n"
    "Exit status: 0 success, 2 no answer or no o365bypass service.\n";

struct counter {
    char label[64];
    unsigned long long value;
};

struct stats {
    struct counter c[MAX_COUNTERS];
    size_t n;
    char table[512], refresh[512]; /* OPTIONS header values, "" when absent */
};

/* ---- the info page -------------------------------------------------------------------- */

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* "12", or c-icap's "3 Kbs 120 bytes" form, as a number. */
static unsigned long long parse_value(const char *v)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);

    if (strncmp(end, " Kbs ", 5) == 0)
        n = n * 1024 + strtoull(end + 5, NULL, 10);
    return n;
}

/* Collect "label : value" lines of the o365bypass section.  Returns 0 or -1
   when the section is missing. */
static int parse_section(char *page, struct stats *st)
{
    char *line = strstr(page, "\n" SECTION_TITLE);
    bool in_body = false;

    if (line == NULL && strncmp(page, SECTION_TITLE, strlen(SECTION_TITLE)) == 0)
        line = page;
    if (line == NULL)
        return -1;
    for (line = strchr(line + 1, '\n'); line != NULL && st->n < MAX_COUNTERS;) {
        char *next = strchr(++line, '\n'), *sep;
        if (next)
            *next = '\0';
        if (line[0] == '=' && !in_body) {
            in_body = true;
        } else if (*trim(line) == '\0') {
            if (in_body)
                break;
        } else if ((sep = strstr(line, " : ")) != NULL) {
            *sep = '\0';
            snprintf(st->c[st->n].label, sizeof st->c[st->n].label, "%s", trim(line));
            st->c[st->n++].value = parse_value(trim(sep + 3));
            in_body = true;
        }
        line = next;
    }
    return 0;
}

static int query(struct cli_ctx *ctx, const char *host, const char *port, struct stats *st)
{
    struct icap_response r;
    char err[256];

    if (icap_request(host, port, "REQMOD", "info?view=text", TIMEOUT_S, &r, err, sizeof err) != 0) {
        cli_error(ctx, "stats: info service at %s port %s: %s", host, port, err);
        return -1;
    }
    if (r.status != 200 || r.body == NULL || parse_section(r.body, st) != 0) {
        cli_error(ctx,
                  "stats: %s port %s: ICAP %d, no \"" SECTION_TITLE "\" section on the info "
                  "page (is the info service and o365bypass loaded?)",
                  host, port, r.status);
        icap_response_free(&r);
        return -1;
    }
    icap_response_free(&r);
    if (icap_request(host, port, "OPTIONS", "o365bypass", TIMEOUT_S, &r, err, sizeof err) != 0) {
        cli_warn(ctx, "stats: OPTIONS o365bypass: %s", err);
        return 0;
    }
    if (r.status != 200)
        cli_warn(ctx, "stats: OPTIONS o365bypass: ICAP %d", r.status);
    if (icap_header(r.headers, "X-O365bypass-Table", st->table, sizeof st->table) == NULL)
        st->table[0] = '\0';
    if (icap_header(r.headers, "X-O365bypass-Refresh", st->refresh, sizeof st->refresh) == NULL)
        st->refresh[0] = '\0';
    icap_response_free(&r);
    return 0;
}

/* ---- "k=v; k=v" header values ---------------------------------------------------------- */

static bool field(const char *header, const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);

    for (const char *p = header; p && *p; p = strchr(p, ';')) {
        const char *end;
        size_t len;
        while (*p == ';' || *p == ' ')
            p++;
        if (strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        p += klen + 1;
        end = strchr(p, ';');
        len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len >= size)
            len = size - 1;
        memcpy(buf, p, len);
        buf[len] = '\0';
        return true;
    }
    return false;
}

/* ---- Prometheus -------------------------------------------------------------------------- */

/* A label value with \, " and newline escaped. */
static void put_label_value(const char *v)
{
    putchar('"');
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            printf("\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", stdout);
        else
            putchar(*v);
    }
    putchar('"');
}

static void prom_family(enum o3b_counter_family fam, const struct stats *st)
{
    const struct o3b_counter_family_info *f = &o3b_counter_families[fam];
    bool header = false;

    for (size_t i = 0; i < st->n; i++) {
        enum o3b_counter c = o3b_counter_find(st->c[i].label);
        const struct o3b_counter_row *r = c < O3B_C_COUNT ? o3b_counter_row(c) : NULL;
        if (r == NULL || r->family != fam)
            continue;
        if (!header)
            printf("# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
        header = true;
        fputs(f->name, stdout);
        if (r->key) {
            printf("{%s=", r->key);
            put_label_value(o3b_counter_value(c));
            putchar('}');
        }
        printf(" %llu\n", st->c[i].value);
    }
}

/* A counter this version does not know: "o365bypass_" + sanitized label. */
static void prom_unknown(const struct counter *c)
{
    char name[128] = "o365bypass_";
    size_t n = strlen(name);
    bool underscore = true;

    for (const char *p = c->label; *p && n + 2 < sizeof name; p++) {
        char ch = *p;
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
            alnum = true;
        }
        if (alnum)
            name[n++] = ch;
        else if (!underscore)
            name[n++] = '_';
        underscore = !alnum;
    }
    while (n > 0 && name[n - 1] == '_')
        n--;
    name[n] = '\0';
    printf("# HELP %s c-icap counter \"%s\" (not known to this o365bypass version).\n", name,
           c->label);
    printf("# TYPE %s untyped\n%s %llu\n", name, name, c->value);
}

static void prom_gauge(const char *name, const char *help, const char *value)
{
    char *end;

    if (value == NULL || value[0] == '\0' || (strtod(value, &end), *end != '\0'))
        return;
    printf("# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, value);
}

static void prom_table(const struct stats *st)
{
    static const char *const info_keys[] = {"version", "tag", "instance"};
    char v[128];
    bool first = true;

    if (field(st->table, "module", v, sizeof v)) {
        printf("# HELP o365bypass_module_info The o365bypass module serving (OPTIONS).\n"
               "# TYPE o365bypass_module_info gauge\no365bypass_module_info{version=");
        put_label_value(v);
        printf("} 1\n");
    }
    if (st->table[0] == '\0' || strncmp(st->table, "none", 4) == 0)
        return;
    printf("# HELP o365bypass_table_info The endpoint table in use (OPTIONS, one child).\n"
           "# TYPE o365bypass_table_info gauge\no365bypass_table_info{");
    for (size_t i = 0; i < sizeof info_keys / sizeof info_keys[0]; i++)
        if (field(st->table, info_keys[i], v, sizeof v)) {
            printf("%s%s=", first ? "" : ",", info_keys[i]);
            put_label_value(v);
            first = false;
        }
    printf("} 1\n");
    prom_gauge("o365bypass_table_sets", "Endpoint sets in the table in use.",
               field(st->table, "sets", v, sizeof v) ? v : NULL);
    prom_gauge("o365bypass_table_entries", "URLs and IP prefixes in the table in use.",
               field(st->table, "entries", v, sizeof v) ? v : NULL);
    prom_gauge("o365bypass_table_fetched_timestamp_seconds",
               "When the table in use was downloaded (0: unknown, e.g. the seed).",
               field(st->table, "fetched", v, sizeof v) ? v : NULL);
}

static void prom_refresh(const struct stats *st)
{
    char v[128];

    prom_gauge("o365bypass_refresh_interval_seconds", "RefreshInterval (0: never fetch).",
               field(st->refresh, "interval", v, sizeof v) ? v : NULL);
    prom_gauge("o365bypass_refresh_last_attempt_timestamp_seconds",
               "Last refresh attempt (0: none yet).",
               field(st->refresh, "last-attempt", v, sizeof v) ? v : NULL);
    prom_gauge("o365bypass_refresh_last_success_timestamp_seconds",
               "Last refresh that reached the web service (0: none yet).",
               field(st->refresh, "last-success", v, sizeof v) ? v : NULL);
    prom_gauge("o365bypass_refresh_next_timestamp_seconds", "Next refresh due (0: never).",
               field(st->refresh, "next", v, sizeof v) ? v : NULL);
}

static void print_prometheus(const struct stats *st)
{
    for (int f = 0; f < O3B_FAMILY_COUNT; f++)
        prom_family((enum o3b_counter_family)f, st);
    for (size_t i = 0; i < st->n; i++)
        if (o3b_counter_find(st->c[i].label) == O3B_C_COUNT)
            prom_unknown(&st->c[i]);
    prom_table(st);
    prom_refresh(st);
}

/* ---- for people ---------------------------------------------------------------------------- */

static void print_human(const char *host, const char *port, const struct stats *st)
{
    char module[64];

    printf("o365bypass on c-icap %s port %s\n", host, port);
    printf("module     %s\n",
           field(st->table, "module", module, sizeof module) ? module : "(not in OPTIONS)");
    printf("table      %s\n", st->table[0] ? st->table : "(no OPTIONS answer)");
    printf("refresh    %s\n", st->refresh[0] ? st->refresh : "(no OPTIONS answer)");
    printf("\ncounters (summed over the c-icap children)\n");
    for (size_t i = 0; i < st->n; i++)
        printf("  %-32s %llu\n", st->c[i].label, st->c[i].value);
}

int cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"server", required_argument, NULL, 's'},
                                         {"prometheus", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *server = "127.0.0.1:1344";
    char host[256], port[16];
    bool prometheus = false;
    struct stats *st;
    int c;

    while ((c = getopt_long(argc, argv, "s:ph", opts, NULL)) != -1) {
        if (c == 's')
            server = optarg;
        else if (c == 'p')
            prometheus = true;
        else if (c == 'h')
            return printf(stats_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        else
            return cli_usage_error(ctx, "stats", "unknown option or missing argument '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(ctx, "stats", "unexpected argument '%s'", argv[optind]);
    if (icap_split_server(server, "1344", host, sizeof host, port, sizeof port) != 0)
        return cli_usage_error(ctx, "stats", "--server '%s' is not HOST:PORT", server);
    st = calloc(1, sizeof *st);
    if (st == NULL || query(ctx, host, port, st) != 0) {
        free(st);
        return CLI_ERROR;
    }
    if (prometheus)
        print_prometheus(st);
    else
        print_human(host, port, st);
    free(st);
    return CLI_OK;
}
