/*
 * cmd_lookup.c - `o365bypass lookup`: the service's decision, explained.
 *
 * Each argument goes through o3b_target_parse_text() (the request-target
 * parser itself, fed a CONNECT or absolute-form request line) and
 * o3b_decide() against the table and policy, exactly as a request would;
 * this file only explains the result: the matching entry, its endpoint set,
 * and which precedence rule or policy rule gave the verdict.
 */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "o365bypass/policy.h"
#include "o365bypass/target.h"

static const char lookup_help[] =
    "Usage: %s lookup [--json] URL|HOST[:PORT]|IP ...\n"
    "\n"
    "Decide for each argument as the o365bypass service would for a request to it:\n"
    "an absolute http(s) URL (port from the URL, else 80/443 by scheme), or HOST,\n"
    "HOST:PORT, an IPv4 address or an IPv6 address (bracketed with a port), taken\n"
    "as a CONNECT (port 443 when none).  The first word of each answer is `bypass`\n"
    "or `inspect`; the lines below it say which entry matched and why.\n"
    "\n"
    "  --json   one JSON object per argument, one per line\n"
    "\n"
    "Exit status: 0 every argument is bypassed, 1 at least one is inspected,\n"
    "2 usage or operational error.\n";

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
                                 i < p->n_tenants ? p->tenants[i]
                                                  : p->domains[i - p->n_tenants]);
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
            snprintf(buf, size, "the set serves every tenant and an IP literal names none "
                                "(TenantName / TenantDomain: %.200s)", list);
        else
            snprintf(buf, size, "%s is not a host of your tenants or mail domains "
                                "(TenantName / TenantDomain: %.200s)", t->host, list);
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

static int print_json(const char *input, const struct o3b_target *t, const struct o3b_decision *d)
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
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

/* ---- the command ----------------------------------------------------------------------- */

int cmd_lookup(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    char notes[2048];
    bool json = false, any_inspect = false;
    o3b_table *table;
    int c, rc = CLI_OK;

    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'h')
            return printf(lookup_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        else
            return cli_usage_error(ctx, "lookup", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage_error(ctx, "lookup", "give at least one URL, host or address");
    table = cli_load_table(ctx, notes, sizeof notes);
    if (table == NULL)
        return CLI_ERROR;
    if (notes[0])
        cli_warn(ctx, "%s", notes);
    for (int i = optind; i < argc; i++) {
        struct o3b_target target;
        struct o3b_decision d;
        enum o3b_target_status st = o3b_target_parse_text(argv[i], &target);

        o3b_decide(table, &ctx->cfg.policy, &target, st, &d);
        any_inspect = any_inspect || d.verdict == O3B_INSPECT;
        if (!json)
            print_human(argv[i], &target, &d, &ctx->cfg.policy, ctx->quiet);
        else if (print_json(argv[i], &target, &d) != 0)
            rc = CLI_ERROR;
    }
    o3b_table_free(&table);
    if (rc != CLI_OK)
        return rc;
    return any_inspect ? CLI_NEGATIVE : CLI_OK;
}
