/* SPDX-License-Identifier: MIT */
/*
 * cmd_lookup.c - `o365bypass lookup`: the service's decision, explained.
 *
 * Each argument goes through o3b_target_parse_text() (the request-target
 * parser itself, fed a CONNECT or absolute-form request line) and
 * o3b_decide() against the table and policy, exactly as a request would;
 * this file only explains the result: the matching entry, its endpoint set,
 * and which precedence rule or policy rule gave the verdict.
 *
 * With --server the same request line (o3b_target_text_request) also goes
 * to the running service as Squid sends it: a header-only REQMOD with the
 * Host header of the request target.  Its X-O365bypass-Decision header is
 * printed beside the local decision (both are o3b_decision_format() text),
 * and any difference is flagged DIFFERENT (exit status 3): the service runs
 * with other settings, another table, or another version than this file.
 */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "o365bypass/policy.h"
#include "o365bypass/target.h"

#define SERVER_TIMEOUT 5 /* seconds per request to --server */

static const char lookup_help[] =
    "Usage: %s lookup [--json] [--server HOST:PORT [--service NAME]] URL|HOST[:PORT]|IP ...\n"
    "\n"
    "Decide for each argument as the o365bypass service would for a request to it:\n"
    "an http:// URL as that request (port from the URL, else 80; plain http to\n"
    "port 443 is a decrypted request), an https:// URL as the CONNECT a browser\n"
    "sends for it, or HOST, HOST:PORT, an IPv4 address or an IPv6 address\n"
    "(bracketed with a port), taken as a CONNECT (port 443 when none).  The first\n"
    "word of each answer is `bypass` or `inspect`; the lines below it say which\n"
    "entry matched and why.\n"
    "\n"
    "  --json            one JSON object per argument, one per line\n"
    "  --server HOST:PORT\n"
    "                    also ask the running service ([v6]:PORT for IPv6; 5 s\n"
    "                    timeout): the same request goes to it as a REQMOD shaped\n"
    "                    like Squid's (GET URL or CONNECT HOST:PORT with its Host\n"
    "                    header); its X-O365bypass-Decision is printed beside the\n"
    "                    local one and any difference is marked DIFFERENT\n"
    "  --service NAME    the ICAP service to ask (default o365bypass)\n"
    "\n"
    "Exit status: 0 every argument is bypassed, 1 at least one is inspected,\n"
    "2 usage or operational error, 3 the running service decided differently\n"
    "for at least one argument (--server).\n";

/* ---- words for people ------------------------------------------------------------ */

static const char *entry_kind_text(const struct o3b_index_entry *e, char *buf, size_t size)
{
    switch (e->kind) {
    case O3B_ENTRY_EXACT:
        return "exact host";
    case O3B_ENTRY_SUFFIX:
        snprintf(buf, size, "wildcard, %u literal characters", (unsigned)e->specificity);
        return buf;
    case O3B_ENTRY_GLOB:
        snprintf(buf, size, "glob pattern, %u literal characters", (unsigned)e->specificity);
        return buf;
    case O3B_ENTRY_CIDR4:
        snprintf(buf, size, "IPv4 prefix /%u", (unsigned)e->specificity);
        return buf;
    default:
        snprintf(buf, size, "IPv6 prefix /%u", (unsigned)e->specificity);
        return buf;
    }
}

static const char *entry_kind_token(const struct o3b_index_entry *e)
{
    static const char *const tokens[] = {"exact", "wildcard", "glob", "ipv4-prefix", "ipv6-prefix"};

    return e->kind < sizeof tokens / sizeof tokens[0] ? tokens[e->kind] : "?";
}

static void category_list(unsigned mask, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int c = O3B_CAT_COUNT - 1; c >= 0; c--)
        if (mask & (1u << c))
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
                                     used ? ", " : "", o3b_category_name((enum o3b_category)c));
}

/* "contoso, contoso.com" (TenantName, then TenantDomain), or "none". */
static void tenant_list(const struct o3b_policy *p, char *buf, size_t size)
{
    size_t used = 0;

    snprintf(buf, size, "none");
    for (size_t i = 0; i < p->n_tenants + p->n_domains && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                                 i < p->n_tenants ? p->tenants[i] : p->domains[i - p->n_tenants]);
}

/* The policy's part of the rule line, after the precedence part. */
static void policy_clause(const struct o3b_decision *d, const struct o3b_target *t,
                          const struct o3b_policy *p, char *buf, size_t size)
{
    const struct o3b_set *s = d->set;
    char list[400];

    switch (d->reason) {
    case O3B_R_TABLE:
        snprintf(buf, size, "category %s is bypassed", o3b_category_name(s->category));
        break;
    case O3B_R_CATEGORY:
        category_list(p->categories, list, sizeof list);
        snprintf(buf, size, "category %s is not in BypassCategories (%s)",
                 o3b_category_name(s->category), list);
        break;
    case O3B_R_AREA:
        snprintf(buf, size, "service area %s is not in ServiceAreas", s->area_name);
        break;
    case O3B_R_OPTIONAL:
        snprintf(buf, size, "the set is optional and RequiredOnly is on");
        break;
    case O3B_R_TENANT:
        tenant_list(p, list, sizeof list);
        if (t->kind != O3B_KIND_NAME)
            snprintf(buf, size,
                     "the set serves every tenant and an IP literal names none "
                     "(TenantName / TenantDomain: %.200s)",
                     list);
        else
            snprintf(buf, size,
                     "%s is not a host of your tenants or mail domains "
                     "(TenantName / TenantDomain: %.200s)",
                     t->host, list);
        break;
    case O3B_R_PORT:
        snprintf(buf, size, "but %s listed for TCP port %u",
                 d->candidates > 1 ? "none of them is" : "it is not", (unsigned)t->port);
        break;
    default:
        buf[0] = '\0';
        break;
    }
}

static void print_rule(const struct o3b_decision *d, const struct o3b_target *t,
                       const struct o3b_policy *p)
{
    char clause[600];
    const char *level = t->kind == O3B_KIND_NAME ? "the most specific entry" : "the longest prefix";

    policy_clause(d, t, p, clause, sizeof clause);
    if (d->reason == O3B_R_PORT)
        printf("  rule   port first: %s matching (%u candidate%s at its level)%s %s\n", level,
               d->candidates, d->candidates == 1 ? "" : "s", ",", clause);
    else if (d->candidates > 1)
        printf("  rule   port first: of the entries listed for port %u, %s wins (%u candidates "
               "at this level: the highest category); %s\n",
               (unsigned)t->port, level, d->candidates, clause);
    else
        printf("  rule   port first: of the entries listed for port %u, %s wins; %s\n",
               (unsigned)t->port, level, clause);
}

static void print_set(const struct o3b_set *s)
{
    printf("  set %u  %s%s%s%s, category %s, %s, TCP %s", s->id,
           s->area_display[0] ? s->area_display : s->area_name, s->area_display[0] ? " (" : "",
           s->area_display[0] ? s->area_name : "", s->area_display[0] ? ")" : "",
           o3b_category_name(s->category), s->required ? "required" : "optional",
           s->tcp_ports_text[0] ? s->tcp_ports_text : "(none)");
    if (s->udp_ports_text[0])
        printf(", UDP %s", s->udp_ports_text);
    putchar('\n');
}

static bool from_list(const struct o3b_decision *d)
{
    return d->reason == O3B_R_NEVER || d->reason == O3B_R_ALSO;
}

static void print_human(const char *input, const struct o3b_target *t, const struct o3b_decision *d,
                        const struct o3b_policy *p, bool quiet)
{
    char kind[64];

    if (d->reason == O3B_R_MALFORMED || d->reason == O3B_R_MISMATCH) {
        printf("inspect  %s\n", input);
        if (!quiet)
            printf("  refused  %s [%s]\n  reason   %s\n", o3b_target_status_text(d->target_status),
                   o3b_target_status_name(d->target_status), o3b_reason_text(d->reason));
        return;
    }
    printf("%s  %s  (%s%s%s:%u)\n", d->verdict == O3B_BYPASS ? "bypass" : "inspect", input,
           t->kind == O3B_KIND_IPV6 ? "[" : "", t->host, t->kind == O3B_KIND_IPV6 ? "]" : "",
           (unsigned)t->port);
    if (quiet)
        return;
    if (d->verdict == O3B_INSPECT)
        printf("  reason   %s\n", o3b_reason_text(d->reason));
    if (d->entry != NULL)
        printf("  matched  %s  (%s%s)\n", d->entry->text,
               from_list(d) ? (d->reason == O3B_R_NEVER ? "NeverBypass, " : "AlsoBypass, ") : "",
               from_list(d) ? (d->reason == O3B_R_NEVER ? "every port" : "ports 80 and 443")
                            : entry_kind_text(d->entry, kind, sizeof kind));
    if (d->set != NULL && !from_list(d)) {
        print_set(d->set);
        print_rule(d, t, p);
    }
}

/* ---- the running service (--server) ---------------------------------------------------- */

struct remote {
    const char *text;    /* HOST:PORT as given */
    const char *service; /* ICAP service name */
    char host[256], port[8];
};

/* What the service said for one argument. */
struct remote_answer {
    bool asked;         /* false: the argument cannot be sent (see note) */
    bool next_services; /* X-Next-Services present (the chain ends) */
    char header[640];   /* its X-O365bypass-Decision */
    const char *note;   /* why it was not asked */
};

/* "LINE\r\nHost: AUTHORITY\r\n\r\n" for the request line o3b_target_text_request
   gives `input`, as Squid sends it.  false (with a.note) when it cannot be sent. */
static bool squid_request(const char *input, char *http, size_t size, struct remote_answer *a)
{
    char line[8192 + 64];
    const char *target, *auth, *end;
    size_t len = o3b_target_text_request(input, line, sizeof line);

    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
            a->note = "not sent: it holds control characters";
            return false;
        }
    if (len == 0 || (target = strchr(line, ' ')) == NULL ||
        strchr(++target, ' ') != strrchr(line, ' ')) {
        a->note = "not sent: it is not one request target";
        return false;
    }
    end = strchr(target, ' ');
    auth = strncmp(line, "CONNECT ", 8) == 0 ? target : strstr(target, "://");
    auth = auth == target ? target : auth + 3;
    if (auth != target)
        end = auth + strcspn(auth, "/?# ");
    snprintf(http, size, "%s\r\nHost: %.*s\r\n\r\n", line, (int)(end - auth), auth);
    return true;
}

static int ask_service(struct cli_ctx *ctx, const struct remote *srv, const char *input,
                       struct remote_answer *a)
{
    char http[2 * 8192 + 256], err[300], tmp[8];
    struct icap_response r;

    memset(a, 0, sizeof *a);
    if (!squid_request(input, http, sizeof http, a))
        return 0;
    if (icap_reqmod(srv->host, srv->port, srv->service, http, SERVER_TIMEOUT, &r, err,
                    sizeof err) != 0) {
        cli_error(ctx, "lookup --server %s: %s", srv->text, err);
        return -1;
    }
    a->asked = icap_header(r.headers, "X-O365bypass-Decision", a->header, sizeof a->header);
    a->next_services = icap_header(r.headers, "X-Next-Services", tmp, sizeof tmp) != NULL;
    if (!a->asked)
        cli_error(ctx,
                  "lookup --server %s: ICAP %d without an X-O365bypass-Decision header "
                  "(is %s the o365bypass service?)",
                  srv->text, r.status, srv->service);
    icap_response_free(&r);
    return a->asked ? 0 : -1;
}

/* Did the service decide otherwise than this configuration? */
static bool differs(const struct o3b_decision *d, const struct remote_answer *a)
{
    char local[640];

    o3b_decision_format(d, local, sizeof local);
    return a->asked && strcmp(local, a->header) != 0;
}

/* Print the service's answer beside the local one; true when they differ. */
static bool print_remote(const struct remote *srv, const struct o3b_decision *d,
                         const struct remote_answer *a, bool quiet)
{
    char local[640];
    bool differ;

    if (!a->asked) {
        if (!quiet)
            printf("  service  %s\n", a->note);
        return false;
    }
    o3b_decision_format(d, local, sizeof local);
    differ = differs(d, a);
    if (!quiet || differ)
        printf("  service  %s says: %s%s\n", srv->text, a->header,
               a->next_services ? " (X-Next-Services: ends the chain)" : "");
    if (differ)
        printf("  DIFFERENT  this configuration says: %s\n", local);
    return differ;
}

static void add_remote_json(cJSON *o, const struct remote *srv, const struct o3b_decision *d,
                            const struct remote_answer *a)
{
    cJSON *r;

    if (srv == NULL)
        return;
    if (!a->asked) {
        cJSON_AddNullToObject(o, "service");
        return;
    }
    r = cJSON_AddObjectToObject(o, "service");
    cJSON_AddStringToObject(r, "server", srv->text);
    cJSON_AddStringToObject(r, "header", a->header);
    cJSON_AddBoolToObject(r, "next_services", a->next_services);
    cJSON_AddBoolToObject(r, "same", !differs(d, a));
}

/* ---- JSON ---------------------------------------------------------------------------- */

static cJSON *set_json(const struct o3b_set *s)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "service_area", s->area_name);
    cJSON_AddStringToObject(o, "service_area_display", s->area_display);
    cJSON_AddStringToObject(o, "category", o3b_category_name(s->category));
    cJSON_AddBoolToObject(o, "required", s->required);
    cJSON_AddBoolToObject(o, "express_route", s->express_route);
    cJSON_AddStringToObject(o, "tcp_ports", s->tcp_ports_text);
    cJSON_AddStringToObject(o, "udp_ports", s->udp_ports_text);
    cJSON_AddStringToObject(o, "notes", s->notes);
    return o;
}

static void add_target_json(cJSON *o, const struct o3b_target *t)
{
    static const char *const kinds[] = {"name", "ipv4", "ipv6"};
    static const char *const forms[] = {"absolute", "connect", "origin"};

    cJSON_AddStringToObject(o, "host", t->host);
    cJSON_AddNumberToObject(o, "port", t->port);
    cJSON_AddStringToObject(o, "kind", t->kind < 3 ? kinds[t->kind] : "?");
    cJSON_AddStringToObject(o, "form", t->form < 3 ? forms[t->form] : "?");
}

static void add_match_json(cJSON *o, const struct o3b_decision *d)
{
    cJSON *m;

    if (d->entry == NULL) {
        cJSON_AddNullToObject(o, "match");
        return;
    }
    m = cJSON_AddObjectToObject(o, "match");
    cJSON_AddStringToObject(m, "text", d->entry->text);
    cJSON_AddStringToObject(m, "kind", entry_kind_token(d->entry));
    cJSON_AddNumberToObject(m, "specificity", d->entry->specificity);
    cJSON_AddStringToObject(m, "list",
                            d->reason == O3B_R_NEVER  ? "NeverBypass"
                            : d->reason == O3B_R_ALSO ? "AlsoBypass"
                                                      : "table");
}

static int print_json(const char *input, const struct o3b_target *t, const struct o3b_decision *d,
                      const struct remote *srv, const struct remote_answer *a)
{
    cJSON *o = cJSON_CreateObject();
    char header[640], *text;

    if (o == NULL)
        return -1;
    cJSON_AddStringToObject(o, "input", input);
    cJSON_AddStringToObject(o, "verdict", d->verdict == O3B_BYPASS ? "bypass" : "inspect");
    cJSON_AddStringToObject(o, "reason", o3b_reason_name(d->reason));
    cJSON_AddStringToObject(o, "reason_text", o3b_reason_text(d->reason));
    cJSON_AddStringToObject(o, "target_status", o3b_target_status_name(d->target_status));
    if (d->target_status == O3B_TARGET_OK)
        add_target_json(o, t);
    add_match_json(o, d);
    cJSON_AddNumberToObject(o, "candidates", d->candidates);
    if (d->set != NULL)
        cJSON_AddItemToObject(o, "set", set_json(d->set));
    else
        cJSON_AddNullToObject(o, "set");
    o3b_decision_format(d, header, sizeof header);
    cJSON_AddStringToObject(o, "header", header);
    add_remote_json(o, srv, d, a);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

/* ---- the command ----------------------------------------------------------------------- */

/* Options of `lookup`; returns -1 to go on, else the exit code. */
static int parse_options(struct cli_ctx *ctx, int argc, char **argv, bool *json, struct remote *srv,
                         bool *use_server)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"server", required_argument, NULL, 's'},
                                         {"service", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
        if (c == 'j')
            *json = true;
        else if (c == 's')
            srv->text = optarg;
        else if (c == 'S')
            srv->service = optarg;
        else if (c == 'h')
            return printf(lookup_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        else
            return cli_usage_error(ctx, "lookup", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage_error(ctx, "lookup", "give at least one URL, host or address");
    *use_server = srv->text != NULL;
    if (*use_server && icap_split_server(srv->text, "1344", srv->host, sizeof srv->host, srv->port,
                                         sizeof srv->port) != 0)
        return cli_usage_error(ctx, "lookup", "--server '%s' is not HOST:PORT", srv->text);
    if (!*use_server && srv->service != NULL)
        return cli_usage_error(ctx, "lookup", "--service needs --server");
    if (srv->service == NULL)
        srv->service = "o365bypass";
    return -1;
}

int cmd_lookup(struct cli_ctx *ctx, int argc, char **argv)
{
    struct remote srv = {0};
    char notes[2048];
    bool json = false, use_server = false, any_inspect = false, any_different = false;
    o3b_table *table;
    int rc = parse_options(ctx, argc, argv, &json, &srv, &use_server);

    if (rc >= 0)
        return rc;
    rc = CLI_OK;
    table = cli_load_table(ctx, notes, sizeof notes);
    if (table == NULL)
        return CLI_ERROR;
    if (notes[0])
        cli_warn(ctx, "%s", notes);
    for (int i = optind; i < argc; i++) {
        struct remote_answer remote = {0};
        struct o3b_target target;
        struct o3b_decision d;
        enum o3b_target_status st = o3b_target_parse_text(argv[i], &target);

        o3b_decide(table, &ctx->cfg.policy, &target, st, &d);
        any_inspect = any_inspect || d.verdict == O3B_INSPECT;
        if (use_server && ask_service(ctx, &srv, argv[i], &remote) != 0)
            rc = CLI_ERROR;
        if (json) {
            if (print_json(argv[i], &target, &d, use_server ? &srv : NULL, &remote) != 0)
                rc = CLI_ERROR;
            any_different = any_different || (remote.asked && differs(&d, &remote));
            continue;
        }
        print_human(argv[i], &target, &d, &ctx->cfg.policy, ctx->quiet);
        if (use_server && (remote.asked || remote.note))
            any_different = print_remote(&srv, &d, &remote, ctx->quiet) || any_different;
    }
    o3b_table_free(&table);
    if (rc != CLI_OK)
        return rc;
    return any_different ? CLI_DIFFERENT : any_inspect ? CLI_NEGATIVE : CLI_OK;
}
