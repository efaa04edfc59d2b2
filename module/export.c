/* SPDX-License-Identifier: MIT */
/*
 * export.c - PAC and Squid ACL exports of the table and the policy.
 *
 * The PAC file carries data, not logic per host: one array row per index
 * entry (pattern or CIDR, specificity, rank, ports, precomputed verdict,
 * length of the pattern's literal leading labels), the tenant namespaces and
 * forms of tenant.c, your tenant names and MX labels, and one fixed
 * JavaScript function that applies the index precedence (index.h: port
 * first), the rule order of o3b_decide() (policy.h) and tenant pinning
 * (tenant.h).  The rows are written in the index's insertion order, so "the
 * first entry wins a tie" means the same in both.
 *
 * The Squid export asks o3b_decide() itself for every concrete host it
 * writes (exact table hosts, apexes of exported suffixes, your tenant
 * hosts), so NeverBypass, AlsoBypass, ports and tenant pinning are applied
 * the same way; for patterns and CIDRs it takes the winner among the entries
 * with the same text, for ports 443 and 80, and leaves out entries listed for
 * neither (port first: they decide nothing on the web ports).  Pinning is
 * two more lists: the pinned namespaces under a bypassed wildcard (regexes,
 * "strictly below") and your hosts in them; a destination in the first and
 * not in the second is inspected.  Lists are collapsed (an entry covered by
 * a kept ".suffix" or a containing CIDR is dropped) and sorted.  Tables are
 * small (hundreds of entries), so the quadratic passes stay instant.
 *
 * What the Squid lists approximate (also written in their headers): ports
 * (a destination bypassed on 80 or 443 is bypassed on every port); the
 * precedence levels (a bypassed ".suffix" with more specific entries of other
 * categories is expressed by inspect lists, exact for the table's own
 * entries); the DNSSEC MX zone label (any single label).
 */
#include "o365bypass/export.h"

#include <stdlib.h>
#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/index.h"
#include "o365bypass/tenant.h"

/* ---- shared helpers ------------------------------------------------------------ */

static const uint16_t web_ports[] = {443, 80};

/* Does the policy pin anything at all (TenantName or TenantDomain)? */
static bool pins_of(const struct o3b_policy *p, struct o3b_tenant_pins *pins)
{
    o3b_policy_tenant_pins(p, pins);
    return pins->n_tenants > 0 || pins->n_mx_labels > 0;
}

/* Rule 8 for IP literals (decide.c): a set serving every tenant. */
static bool set_allows_ip(const struct o3b_policy *p, const struct o3b_set *s)
{
    struct o3b_tenant_pins pins;

    return !pins_of(p, &pins) || !o3b_tenant_set_pinned(s, &pins);
}

static const struct o3b_index_entry *table_entries(const o3b_table *t, size_t *n)
{
    if (t == NULL) {
        *n = 0;
        return NULL;
    }
    return o3b_index_entries(o3b_table_index(t), n);
}

static bool is_host_kind(const struct o3b_index_entry *e)
{
    return e->kind == O3B_ENTRY_EXACT || e->kind == O3B_ENTRY_SUFFIX || e->kind == O3B_ENTRY_GLOB;
}

static bool is_cidr_kind(const struct o3b_index_entry *e)
{
    return e->kind == O3B_ENTRY_CIDR4 || e->kind == O3B_ENTRY_CIDR6;
}

/* Is entry i the first one with its text (so each text is handled once)? */
static bool first_with_text(const struct o3b_index_entry *v, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (v[j].kind == v[i].kind && strcmp(v[j].text, v[i].text) == 0)
            return false;
    return true;
}

enum level_verdict { LEVEL_OFF_WEB, LEVEL_INSPECT, LEVEL_BYPASS };

/*
 * The verdict for hosts (or addresses) whose winner is among the entries
 * with `e`'s text: the winner for port 443, else for port 80 (the highest
 * rank accepting it, the first added on a tie), allowed by policy (and for
 * CIDRs by rule 8).  LEVEL_OFF_WEB when no such entry lists 80 or 443: port
 * first, they decide nothing there.
 */
static enum level_verdict level_verdict(const o3b_table *t, const struct o3b_policy *p,
                                        const struct o3b_index_entry *e)
{
    size_t n;
    const struct o3b_index_entry *v = table_entries(t, &n);
    const o3b_index *ix = o3b_table_index(t);
    enum level_verdict verdict = LEVEL_OFF_WEB;

    for (size_t k = 0; k < sizeof web_ports / sizeof web_ports[0]; k++) {
        const struct o3b_index_entry *best = NULL;
        const struct o3b_set *s;
        for (size_t i = 0; i < n; i++)
            if (v[i].kind == e->kind && strcmp(v[i].text, e->text) == 0 &&
                o3b_index_entry_accepts(ix, &v[i], web_ports[k]) &&
                (best == NULL || v[i].rank > best->rank))
                best = &v[i];
        if (best == NULL)
            continue;
        s = o3b_table_set(t, best->payload);
        if (o3b_policy_allows_set(p, s) && (!is_cidr_kind(e) || set_allows_ip(p, s)))
            return LEVEL_BYPASS;
        verdict = LEVEL_INSPECT;
    }
    return verdict;
}

/* o3b_decide() for a concrete host on port 443 or 80: bypassed on either? */
static bool host_bypassed(const o3b_table *t, const struct o3b_policy *p, const char *host)
{
    for (size_t k = 0; k < sizeof web_ports / sizeof web_ports[0]; k++) {
        char text[O3B_HOST_MAX + 16];
        struct o3b_target target;
        struct o3b_decision d;
        enum o3b_target_status st;

        snprintf(text, sizeof text, "%s:%u", host, (unsigned)web_ports[k]);
        st = o3b_target_parse_text(text, &target);
        o3b_decide(t, p, &target, st, &d);
        if (d.verdict == O3B_BYPASS)
            return true;
    }
    return false;
}

static int check_write(FILE *out, o3b_err *err)
{
    if (ferror(out)) {
        o3b_err_set(err, "write error");
        return -1;
    }
    return 0;
}

/* ---- PAC ------------------------------------------------------------------------ */

bool o3b_export_proxy_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    char host[O3B_HOST_MAX + 1];
    size_t hlen, nlen;
    uint8_t addr[16];
    long port = 0;

    if (colon == NULL || colon == s || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535)
        return false;
    hlen = (size_t)(colon - s);
    if (s[0] == '[')
        return hlen > 2 && s[hlen - 1] == ']' && o3b_ipv6_parse(s + 1, hlen - 2, addr) == 0;
    if (o3b_ipv4_parse(s, hlen, addr) == 0)
        return true;
    return hlen <= O3B_HOST_MAX && o3b_host_normalize(s, hlen, host, &nlen) == O3B_HOST_OK;
}

static void pac_ports(FILE *out, const o3b_index *ix, const struct o3b_index_entry *e)
{
    const struct o3b_port_range *r = o3b_index_entry_ports(ix, e);

    fputc('[', out);
    for (size_t i = 0; i < e->n_ports; i++)
        fprintf(out, "%s%u, %u", i ? ", " : "", (unsigned)r[i].lo, (unsigned)r[i].hi);
    fputc(']', out);
}

static void pac_set_comment(FILE *out, const o3b_table *t, const struct o3b_index_entry *e)
{
    const struct o3b_set *s;

    if (t == NULL)
        return;
    s = o3b_table_set(t, e->payload);
    fprintf(out, " // set %u %s %s%s", s->id, s->area_name, o3b_category_name(s->category),
            s->required ? "" : " optional");
}

/* One row of a host array: [pattern, specificity, rank, ports, verdict,
   characters of the pattern's literal leading labels (tenant.h)]. */
static void pac_host_row(FILE *out, const o3b_index *ix, const struct o3b_index_entry *e,
                         int verdict, bool last)
{
    fprintf(out, "  [\"%s\", %u, %u, ", e->text, (unsigned)e->specificity, (unsigned)e->rank);
    pac_ports(out, ix, e);
    fprintf(out, ", %d, %zu]%s", verdict,
            e->kind == O3B_ENTRY_EXACT ? 0 : o3b_tenant_literal_prefix(e->text, e->text_len),
            last ? "" : ",");
}

/* One row of an IPv4 array: [network, mask, prefix length, rank, ports, verdict]. */
static void pac_net_row(FILE *out, const o3b_index *ix, const struct o3b_index_entry *e,
                        int verdict, bool last)
{
    uint8_t mask[16] = {0}, ones[16];
    char net[64], mtext[64];

    memset(ones, 0xff, sizeof ones);
    o3b_addr_mask(O3B_AF_INET, ones, e->cidr.prefix, mask);
    o3b_addr_format(O3B_AF_INET, e->cidr.addr, net, sizeof net);
    o3b_addr_format(O3B_AF_INET, mask, mtext, sizeof mtext);
    fprintf(out, "  [\"%s\", \"%s\", %u, %u, ", net, mtext, (unsigned)e->cidr.prefix,
            (unsigned)e->rank);
    pac_ports(out, ix, e);
    fprintf(out, ", %d]%s", verdict, last ? "" : ",");
}

enum pac_role { PAC_TABLE, PAC_NEVER, PAC_ALSO };

static int pac_verdict(const o3b_table *t, const struct o3b_policy *p,
                       const struct o3b_index_entry *e, enum pac_role role)
{
    const struct o3b_set *s;

    if (role == PAC_NEVER)
        return 0;
    if (role == PAC_ALSO)
        return 1;
    s = o3b_table_set(t, e->payload);
    return o3b_policy_allows_set(p, s) && (!is_cidr_kind(e) || set_allows_ip(p, s)) ? 1 : 0;
}

/* Write `name` = the host rows (hosts = true) or IPv4 rows of index `ix`. */
static void pac_array(FILE *out, const char *name, const o3b_index *ix, bool hosts,
                      const o3b_table *t, const struct o3b_policy *p, enum pac_role role)
{
    const struct o3b_index_entry *v = NULL;
    size_t n = 0, left = 0, skipped_v6 = 0;

    if (ix != NULL)
        v = o3b_index_entries(ix, &n);
    for (size_t i = 0; i < n; i++)
        left += hosts ? is_host_kind(&v[i]) : v[i].kind == O3B_ENTRY_CIDR4;
    fprintf(out, "var %s = [\n", name);
    for (size_t i = 0; i < n; i++) {
        int verdict;
        if (v[i].kind == O3B_ENTRY_CIDR6)
            skipped_v6++;
        if (hosts ? !is_host_kind(&v[i]) : v[i].kind != O3B_ENTRY_CIDR4)
            continue;
        verdict = pac_verdict(t, p, &v[i], role);
        left--;
        if (hosts)
            pac_host_row(out, ix, &v[i], verdict, left == 0);
        else
            pac_net_row(out, ix, &v[i], verdict, left == 0);
        if (role == PAC_TABLE)
            pac_set_comment(out, t, &v[i]);
        fputc('\n', out);
    }
    if (!hosts && skipped_v6 > 0)
        fprintf(out, "  // %zu IPv6 prefixes left out: IPv6 literals always get the proxy\n",
                skipped_v6);
    fputs("];\n", out);
}

static void pac_policy_comment(FILE *out, const struct o3b_policy *p)
{
    fputs("// Policy: BypassCategories", out);
    for (int c = O3B_CAT_COUNT - 1; c >= 0; c--)
        if (p->categories & (1u << c))
            fprintf(out, " %s", o3b_category_name((enum o3b_category)c));
    fputs("; ServiceAreas", out);
    if ((p->areas & O3B_AREAS_ALL) == O3B_AREAS_ALL)
        fputs(" All", out);
    else
        for (int a = 0; a < O3B_AREA_COUNT; a++)
            if (p->areas & (1u << a))
                fprintf(out, " %s", o3b_area_name((enum o3b_area)a));
    fprintf(out, "; RequiredOnly %s;\n//   NeverBypass %zu, AlsoBypass %zu entries; TenantName",
            p->required_only ? "on" : "off", p->never.n, p->also.n);
    for (size_t i = 0; i < p->n_tenants; i++)
        fprintf(out, " %s", p->tenants[i]);
    fputs(p->n_tenants ? "" : " (none)", out);
    fputs("; TenantDomain", out);
    for (size_t i = 0; i < p->n_domains; i++)
        fprintf(out, " %s", p->domains[i]);
    fputs(p->n_domains ? "" : " (none)", out);
    fputs(p->n_tenants || p->n_domains ? " (tenant pinning on)\n" : " (no tenant pinning)\n",
          out);
}

static void pac_header(FILE *out, const o3b_table *t, const struct o3b_policy *p,
                       const char *generator)
{
    char tag[40] = "none";
    const struct o3b_table_meta *m = t ? o3b_table_meta(t) : NULL;

    if (t != NULL)
        o3b_table_tag(t, tag, sizeof tag);
    fprintf(out, "// o365bypass PAC file, generated by %s: do not edit, generate it again.\n",
            generator ? generator : "o365bypass");
    fprintf(out, "// Table: tag %s, version %s, instance %s, %zu endpoint sets.\n", tag,
            m && m->version[0] ? m->version : "(none)",
            m && m->instance[0] ? m->instance : "(unknown)", t ? o3b_table_set_count(t) : 0);
    pac_policy_comment(out, p);
}

/* The fixed part: the decision, as in policy.h and index.h. */
static const char pac_explanation[] =
    "//\n"
    "// DIRECT exactly where the o365bypass ICAP service bypasses inspection, for the\n"
    "// port of the URL (80 for http:, 443 for https: when the URL names none);\n"
    "// PROXY everywhere else.  Rules, first that applies wins:\n"
    "//   1. what the service refuses as malformed -> PROXY: schemes other than http\n"
    "//      and https, user@host, bad ports, bad host names, IPv4 number forms;\n"
    "//   2. IPv6 literals -> PROXY (not evaluated: browsers differ in how they pass them);\n"
    "//   3. a NeverBypass match -> PROXY; an AlsoBypass match on port 80 or 443 -> DIRECT;\n"
    "//   4. the table, port first: of the matching entries only those whose TCP ports\n"
    "//      contain the port count; of those the most specific (an exact host beats\n"
    "//      every pattern, a pattern with more literal characters beats one with fewer;\n"
    "//      for an IPv4 address the longest prefix); then the highest rank (category:\n"
    "//      2 Optimize, 1 Allow, 0 Default), then the first listed.  None -> PROXY;\n"
    "//   5. the winner's verdict, precomputed from BypassCategories, ServiceAreas and\n"
    "//      RequiredOnly (1 DIRECT, 0 PROXY; for IPv4 rows also tenant pinning of the\n"
    "//      sets serving every tenant), then for the winner tenant pinning:\n"
    "//      a host under one of the tenant namespaces below must name one of your\n"
    "//      tenants (TenantName) or mail domains (TenantDomain): the host minus the\n"
    "//      pattern's literal leading labels (last row column) minus the namespace.\n"
    "// Patterns read like shExpMatch: '*' is any run of characters, dots included.\n";

static const char pac_functions[] =
    "\n"
    "// The port of the URL, or -1 when the service would refuse the URL.\n"
    "function o3bPortOf(url) {\n"
    "  if (/[\\x00-\\x20\\x7f]/.test(url)) return -1; // no request line holds these\n"
    "  var m = /^([A-Za-z][A-Za-z0-9+.\\-]*):\\/\\/([^\\/?#]*)/.exec(url);\n"
    "  if (m === null) return -1;\n"
    "  var scheme = m[1].toLowerCase(), auth = m[2], port;\n"
    "  if (scheme == \"http\") port = 80;\n"
    "  else if (scheme == \"https\") port = 443;\n"
    "  else return -1;\n"
    "  if (auth.indexOf(\"@\") >= 0) return -1;\n"
    "  var colon = auth.lastIndexOf(\":\");\n"
    "  if (colon > auth.lastIndexOf(\"]\")) {\n"
    "    var digits = auth.substring(colon + 1);\n"
    "    if (!/^[1-9][0-9]{0,4}$/.test(digits) || parseInt(digits, 10) > 65535) return -1;\n"
    "    port = parseInt(digits, 10);\n"
    "  }\n"
    "  return port;\n"
    "}\n"
    "\n"
    "function o3bIsIPv4(h) {\n"
    "  return /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/.test(h);\n"
    "}\n"
    "\n"
    "// A well-formed host name (lowercase, no trailing dot) that is no IPv4 number form.\n"
    "function o3bIsName(h) {\n"
    "  if (h.length == 0 || h.length > 253) return false;\n"
    "  var labels = h.split(\".\");\n"
    "  for (var i = 0; i < labels.length; i++)\n"
    "    if (!/^[a-z0-9]([a-z0-9\\-]{0,61}[a-z0-9])?$/.test(labels[i])) return false;\n"
    "  return !/^([0-9]+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]);\n"
    "}\n"
    "\n"
    "function o3bPortIn(ranges, port) {\n"
    "  for (var i = 0; i + 1 < ranges.length; i += 2)\n"
    "    if (port >= ranges[i] && port <= ranges[i + 1]) return true;\n"
    "  return false;\n"
    "}\n"
    "\n"
    "function o3bHostMatches(e, h) {\n"
    "  return e[1] == 65535 ? h == e[0] : shExpMatch(h, e[0]);\n"
    "}\n"
    "\n"
    "function o3bNetMatches(e, ip) {\n"
    "  return isInNet(ip, e[0], e[1]);\n"
    "}\n"
    "\n"
    "// The winning row, port first: of the rows listing the port, the most specific\n"
    "// (index spec), then the highest rank, then the first.\n"
    "function o3bBest(rows, h, port, matches, spec, rank, ports) {\n"
    "  var best = null;\n"
    "  for (var i = 0; i < rows.length; i++) {\n"
    "    var e = rows[i];\n"
    "    if (best !== null && e[spec] < best[spec]) continue;\n"
    "    if (!o3bPortIn(e[ports], port) || !matches(e, h)) continue;\n"
    "    if (best === null || e[spec] > best[spec] || e[rank] > best[rank]) best = e;\n"
    "  }\n"
    "  return best;\n"
    "}\n"
    "\n"
    "function o3bBestHost(rows, h, port) {\n"
    "  return o3bBest(rows, h, port, o3bHostMatches, 1, 2, 3);\n"
    "}\n"
    "\n"
    "function o3bBestNet(rows, ip, port) {\n"
    "  return o3bBest(rows, ip, port, o3bNetMatches, 2, 3, 4);\n"
    "}\n"
    "\n"
    "function o3bIn(list, s) {\n"
    "  for (var i = 0; i < list.length; i++)\n"
    "    if (list[i] == s) return true;\n"
    "  return false;\n"
    "}\n"
    "\n"
    "// The longest tenant namespace h lies strictly under, or null.\n"
    "function o3bNamespace(h) {\n"
    "  var best = null;\n"
    "  for (var i = 0; i < O3B_TENANT_NS.length; i++) {\n"
    "    var n = O3B_TENANT_NS[i][0];\n"
    "    if (h.length > n.length + 1 && h.substring(h.length - n.length - 1) == \".\" + n &&\n"
    "        (best === null || n.length > best[0].length)) best = O3B_TENANT_NS[i];\n"
    "  }\n"
    "  return best;\n"
    "}\n"
    "\n"
    "function o3bPinned(kind) {\n"
    "  return kind <= 2 ? O3B_TENANTS.length > 0 : O3B_TENANTS.length + O3B_MX_LABELS.length > 0;\n"
    "}\n"
    "\n"
    "// Tenant pinning of a winning host row (exact rows too: their last column is 0).\n"
    "function o3bTenantAllows(e, h) {\n"
    "  var ns = o3bNamespace(h);\n"
    "  if (ns === null || !o3bPinned(ns[1])) return true;\n"
    "  var end = h.length - ns[0].length - 1;\n"
    "  if (end <= e[5]) return false;\n"
    "  var part = h.substring(e[5], end);\n"
    "  if (ns[1] >= 3) { // MX: your label; DNSSEC MX (4): your label, then one zone label\n"
    "    var labels = part.split(\".\");\n"
    "    return labels.length <= (ns[1] == 4 ? 2 : 1) && o3bIn(O3B_MX_LABELS, labels[0]);\n"
    "  }\n"
    "  var forms = O3B_TENANT_FORMS[ns[1]];\n"
    "  for (var t = 0; t < O3B_TENANTS.length; t++)\n"
    "    for (var f = 0; f < forms.length; f++)\n"
    "      if (part == O3B_TENANTS[t] + forms[f]) return true;\n"
    "  return false;\n"
    "}\n"
    "\n"
    "function FindProxyForURL(url, host) {\n"
    "  var port = o3bPortOf(url);\n"
    "  if (port < 0) return O3B_PROXY;\n"
    "  var h = host.toLowerCase();\n"
    "  if (h.indexOf(\":\") >= 0 || h.indexOf(\"[\") >= 0) return O3B_PROXY; // IPv6\n"
    "  if (o3bIsIPv4(h)) {\n"
    "    if (o3bBestNet(O3B_NEVER_NETS4, h, port) !== null) return O3B_PROXY;\n"
    "    if (o3bBestNet(O3B_ALSO_NETS4, h, port) !== null) return \"DIRECT\";\n"
    "    var n = o3bBestNet(O3B_NETS4, h, port);\n"
    "    return n !== null && n[5] == 1 ? \"DIRECT\" : O3B_PROXY;\n"
    "  }\n"
    "  if (h.charAt(h.length - 1) == \".\") h = h.substring(0, h.length - 1);\n"
    "  if (!o3bIsName(h)) return O3B_PROXY;\n"
    "  if (o3bBestHost(O3B_NEVER_HOSTS, h, port) !== null) return O3B_PROXY;\n"
    "  if (o3bBestHost(O3B_ALSO_HOSTS, h, port) !== null) return \"DIRECT\";\n"
    "  var e = o3bBestHost(O3B_HOSTS, h, port);\n"
    "  if (e === null || e[4] != 1 || !o3bTenantAllows(e, h)) return O3B_PROXY;\n"
    "  return \"DIRECT\";\n"
    "}\n";

static void pac_strings(FILE *out, const char *name, char *const *v, size_t n)
{
    fprintf(out, "var %s = [", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", v[i]);
    fputs("];\n", out);
}

/* Your names, and tenant.c's namespaces [name, kind] and forms by kind. */
static void pac_tenants(FILE *out, const struct o3b_policy *p)
{
    enum o3b_tenant_ns kind;

    pac_strings(out, "O3B_TENANTS", p->tenants, p->n_tenants);
    pac_strings(out, "O3B_MX_LABELS", p->mx_labels, p->n_domains);
    fputs("// Tenant namespaces: [namespace, kind]; kinds 1 SharePoint, 2 routing domain,\n"
          "// 3 MX, 4 DNSSEC MX (fixed in the module: a feed cannot add one).\n"
          "var O3B_TENANT_NS = [",
          out);
    for (size_t i = 0; i < o3b_tenant_namespace_count(); i++) {
        const char *ns = o3b_tenant_namespace_at(i, &kind);
        fprintf(out, "%s[\"%s\", %d]", i ? ", " : "", ns, (int)kind);
    }
    fputs("];\nvar O3B_TENANT_FORMS = [", out);
    for (int k = 0; k < O3B_TENANT_NS_COUNT; k++) {
        size_t n;
        const char *const *forms = o3b_tenant_forms((enum o3b_tenant_ns)k, &n);
        fputs(k ? ", [" : "[", out);
        for (size_t f = 0; f < n; f++)
            fprintf(out, "%s\"%s\"", f ? ", " : "", forms[f]);
        fputc(']', out);
    }
    fputs("];\n", out);
}

static void pac_data(FILE *out, const o3b_table *t, const struct o3b_policy *p)
{
    const o3b_index *tix = t ? o3b_table_index(t) : NULL;

    fputs("\n// Host rows, in table order: [pattern, specificity (65535 = exact host, else\n"
          "// literal characters), rank, TCP port ranges [lo, hi, ...], verdict (1 DIRECT),\n"
          "// characters of the pattern's literal leading labels].\n",
          out);
    pac_array(out, "O3B_HOSTS", tix, true, t, p, PAC_TABLE);
    fputs("\n// IPv4 rows: [network, mask, prefix length, rank, TCP port ranges, verdict].\n", out);
    pac_array(out, "O3B_NETS4", tix, false, t, p, PAC_TABLE);
    fputs("\n// NeverBypass (every port) and AlsoBypass (ports 80 and 443), same row shapes.\n",
          out);
    pac_array(out, "O3B_NEVER_HOSTS", p->never.ix, true, t, p, PAC_NEVER);
    pac_array(out, "O3B_NEVER_NETS4", p->never.ix, false, t, p, PAC_NEVER);
    pac_array(out, "O3B_ALSO_HOSTS", p->also.ix, true, t, p, PAC_ALSO);
    pac_array(out, "O3B_ALSO_NETS4", p->also.ix, false, t, p, PAC_ALSO);
}

int o3b_export_pac(FILE *out, const o3b_table *table, const struct o3b_policy *policy,
                   const char *proxy, const char *generator, o3b_err *err)
{
    if (proxy == NULL)
        proxy = O3B_PAC_DEFAULT_PROXY;
    if (!o3b_export_proxy_valid(proxy)) {
        o3b_err_set(err, "'%s' is not a proxy host:port", proxy);
        return -1;
    }
    pac_header(out, table, policy, generator);
    fputs(pac_explanation, out);
    fprintf(out, "\nvar O3B_PROXY = \"PROXY %s\";\n", proxy);
    pac_tenants(out, policy);
    pac_data(out, table, policy);
    fputs(pac_functions, out);
    return check_write(out, err);
}

/* ---- Squid: string lists ------------------------------------------------------------ */

struct strlist {
    char **v;
    size_t n, cap;
};

struct o3b_squid_export {
    struct strlist list[O3B_SQUID_LIST_COUNT];
    char tag[40], version[32], instance[32];
    size_t n_sets;
};

/* Work lists used while building, freed at the end. */
struct squid_work {
    struct strlist exact, suffixes;  /* bypass candidates ("host", "suffix") */
    struct strlist inspect_hosts;    /* concrete hosts decided "inspect" */
    struct strlist inspect_patterns; /* non-bypassed table patterns */
    struct strlist inspect_cidrs;    /* non-bypassed table CIDRs */
    struct strlist globs;            /* bypassed glob patterns (for coverage) */
};

static bool strlist_has(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

/* Append a copy (duplicates skipped).  Returns 0 or -1 (out of memory). */
static int strlist_add(struct strlist *l, const char *s)
{
    char *copy;

    if (strlist_has(l, s))
        return 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        char **nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    copy = strdup(s);
    if (copy == NULL)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strlist_sort(struct strlist *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

/* Is `host` equal to `suffix` or below it (label-aligned)? */
static bool under_or_at(const char *host, const char *suffix)
{
    size_t hl = strlen(host), sl = strlen(suffix);

    if (hl == sl)
        return strcmp(host, suffix) == 0;
    return hl > sl && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, suffix) == 0;
}

/* Glob to an anchored POSIX ERE: '*' -> ".*", '.' -> "\.".  A leading '*'
   drops the '^' instead (Squid warns about a needless "^.*"). */
static void glob_to_regex(const char *glob, char *out, size_t size)
{
    size_t o = 0;
    const char *p = glob;

    if (*p == '*')
        p++;
    else
        out[o++] = '^';
    for (; *p && o + 4 < size; p++) {
        if (*p == '*') {
            out[o++] = '.';
            out[o++] = '*';
        } else if (*p == '.') {
            out[o++] = '\\';
            out[o++] = '.';
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '$';
    out[o] = '\0';
}

static bool cidr_of(const char *text, struct o3b_cidr *c)
{
    return o3b_cidr_parse_any(text, strlen(text), c, NULL, NULL) == 0;
}

/* Does `outer` contain `inner` (same family, prefix no longer)? */
static bool cidr_covers(const struct o3b_cidr *outer, const struct o3b_cidr *inner)
{
    return outer->family == inner->family && outer->prefix <= inner->prefix &&
           o3b_cidr_contains(outer, inner->family, inner->addr);
}

/* ---- Squid: collecting candidates --------------------------------------------------- */

static int add_concrete_host(const o3b_table *t, const struct o3b_policy *p, struct squid_work *w,
                             const char *host)
{
    return strlist_add(host_bypassed(t, p, host) ? &w->exact : &w->inspect_hosts, host);
}

static int add_bypassed_pattern(struct squid_work *w, o3b_squid_export *x,
                                const struct o3b_index_entry *e)
{
    char re[2 * O3B_HOST_MAX + 8];

    if (e->kind == O3B_ENTRY_SUFFIX)
        return strlist_add(&w->suffixes, e->text + 2);
    glob_to_regex(e->text, re, sizeof re);
    if (strlist_add(&w->globs, e->text) != 0)
        return -1;
    return strlist_add(&x->list[O3B_SQUID_REGEX], re);
}

/*
 * A CIDR for a Squid dst list.  Squid refuses "0.0.0.0/0" (it reads it as
 * "all", IPv6 included) and matches IPv4 destinations against IPv6 entries
 * covering ::ffff:0:0/96 (it keeps IPv4 as mapped IPv6), so 0.0.0.0/0 is
 * written as its two halves and an IPv6 prefix covering the mapped space as
 * the prefixes around it (up to 96 lines, only for NeverBypass ::/0 and the
 * like).
 */
static int add_dst(struct strlist *l, const char *text)
{
    static const struct o3b_cidr mapped = {O3B_AF_INET6, 96, {[10] = 0xff, [11] = 0xff}};
    struct o3b_cidr c;
    char buf[64];
    int rc = 0;

    if (!cidr_of(text, &c) || (c.family == O3B_AF_INET && c.prefix > 0) ||
        (c.family == O3B_AF_INET6 && !cidr_covers(&c, &mapped)))
        return strlist_add(l, text);
    if (c.family == O3B_AF_INET) {
        rc = strlist_add(l, "0.0.0.0/1");
        return rc == 0 ? strlist_add(l, "128.0.0.0/1") : rc;
    }
    for (unsigned b = c.prefix; rc == 0 && b < 96; b++) { /* the sibling at each bit */
        struct o3b_cidr sib = {O3B_AF_INET6, (uint8_t)(b + 1), {0}};
        o3b_addr_mask(O3B_AF_INET6, mapped.addr, b + 1, sib.addr);
        sib.addr[b / 8] ^= (uint8_t)(0x80u >> (b % 8));
        rc = strlist_add(l, o3b_cidr_format(&sib, buf, sizeof buf));
    }
    return rc;
}

static int collect_table_pattern(const o3b_table *t, const struct o3b_policy *p,
                                 struct squid_work *w, o3b_squid_export *x,
                                 const struct o3b_index_entry *e)
{
    switch (level_verdict(t, p, e)) {
    case LEVEL_BYPASS:
        return add_bypassed_pattern(w, x, e);
    case LEVEL_INSPECT:
        return strlist_add(&w->inspect_patterns, e->text);
    default:
        return 0;
    }
}

static int collect_table(const o3b_table *t, const struct o3b_policy *p, struct squid_work *w,
                         o3b_squid_export *x)
{
    size_t n;
    const struct o3b_index_entry *v = table_entries(t, &n);
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        enum level_verdict lv;
        if (!first_with_text(v, i))
            continue;
        if (v[i].kind == O3B_ENTRY_EXACT) {
            rc = add_concrete_host(t, p, w, v[i].text);
        } else if (is_host_kind(&v[i])) {
            rc = collect_table_pattern(t, p, w, x, &v[i]);
        } else if ((lv = level_verdict(t, p, &v[i])) != LEVEL_OFF_WEB) {
            rc = add_dst(lv == LEVEL_BYPASS ? &x->list[O3B_SQUID_DST] : &w->inspect_cidrs,
                         v[i].text);
        }
    }
    return rc;
}

/* ---- Squid: tenant pinning ---------------------------------------------------------- */

/* Append s with regex metacharacters ('.') escaped; returns the new length. */
static size_t regex_put(char *out, size_t o, size_t size, const char *s, size_t len)
{
    for (size_t i = 0; i < len && o + 3 < size; i++) {
        if (s[i] == '.')
            out[o++] = '\\';
        out[o++] = s[i];
    }
    out[o] = '\0';
    return o;
}

/* "\.ns$": strictly below the namespace (the apex is not in it). */
static int add_pinned_ns(o3b_squid_export *x, const char *ns)
{
    char re[2 * O3B_HOST_MAX + 8] = "\\.";
    size_t o = regex_put(re, 2, sizeof re - 1, ns, strlen(ns));

    re[o++] = '$';
    re[o] = '\0';
    return strlist_add(&x->list[O3B_SQUID_PINNED], re);
}

/* One of your hosts `head` + "." + ns (DNSSEC MX: with any one zone label in
   between), when o3b_decide() bypasses it. */
static int add_own_host(const o3b_table *t, const struct o3b_policy *p, o3b_squid_export *x,
                        const char *head, const char *ns, bool zoned)
{
    char host[2 * O3B_HOST_MAX + 16], norm[O3B_HOST_MAX + 1], re[4 * O3B_HOST_MAX + 40];
    size_t nlen, o;

    snprintf(host, sizeof host, "%s%s.%s", head, zoned ? ".z-v1" : "", ns);
    if (o3b_host_normalize(host, strlen(host), norm, &nlen) != O3B_HOST_OK ||
        !host_bypassed(t, p, norm))
        return 0;
    re[0] = '^';
    o = regex_put(re, 1, sizeof re, head, strlen(head));
    if (zoned)
        o += (size_t)snprintf(re + o, sizeof re - o, "(\\.[a-z0-9-]+)?");
    o = regex_put(re, o, sizeof re, ".", 1);
    o = regex_put(re, o, sizeof re, ns, strlen(ns));
    snprintf(re + o, sizeof re - o, "$");
    return strlist_add(&x->list[O3B_SQUID_PINNED_OWN], re);
}

/* Your names in every form under `ns`, after the pattern's literal labels. */
static int add_own_hosts(const o3b_table *t, const struct o3b_policy *p, o3b_squid_export *x,
                         const struct o3b_index_entry *e, const char *ns, enum o3b_tenant_ns kind)
{
    size_t before = o3b_tenant_literal_prefix(e->text, e->text_len), n_forms;
    const char *const *forms = o3b_tenant_forms(kind, &n_forms);
    bool mx = kind == O3B_TENANT_MX || kind == O3B_TENANT_MX_ZONED;
    char *const *names = mx ? p->mx_labels : p->tenants;
    size_t n_names = mx ? p->n_domains : p->n_tenants;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n_names; i++)
        for (size_t f = 0; rc == 0 && f < n_forms; f++) {
            char head[2 * O3B_HOST_MAX + 8];
            snprintf(head, sizeof head, "%.*s%s%s", (int)before, e->text, names[i], forms[f]);
            rc = add_own_host(t, p, x, head, ns, false);
            if (rc == 0 && kind == O3B_TENANT_MX_ZONED)
                rc = add_own_host(t, p, x, head, ns, true);
        }
    return rc;
}

/* A bypassed table wildcard: the active namespaces it reaches are pinned. */
static int pin_pattern(const o3b_table *t, const struct o3b_policy *p,
                       const struct o3b_tenant_pins *pins, const struct o3b_index_entry *e,
                       o3b_squid_export *x)
{
    int rc = 0;

    for (size_t k = 0; rc == 0 && k < o3b_tenant_namespace_count(); k++) {
        enum o3b_tenant_ns kind;
        const char *ns = o3b_tenant_namespace_at(k, &kind);
        if (!o3b_tenant_pinning_on(pins, kind) ||
            !o3b_tenant_pattern_reaches(e->text, e->text_len, ns))
            continue;
        rc = add_pinned_ns(x, ns);
        if (rc == 0)
            rc = add_own_hosts(t, p, x, e, ns, kind);
    }
    return rc;
}

/* Is `host` strictly below a namespace whose pinning is on? */
static bool in_pinned_namespace(const struct o3b_tenant_pins *pins, const char *host)
{
    size_t ns_len;

    return o3b_tenant_pinning_on(pins, o3b_tenant_host_namespace(host, strlen(host), &ns_len));
}

/* What o3b_decide() bypasses in a pinned namespace without a pinned wildcard
   deciding: exact hosts (the table's and AlsoBypass's) and AlsoBypass
   patterns.  They must not fall under the pinned-namespace inspection. */
static int add_own_unpinned(const struct o3b_policy *p, const struct o3b_tenant_pins *pins,
                            const struct squid_work *w, o3b_squid_export *x)
{
    size_t n = 0;
    const struct o3b_index_entry *v = p->also.ix ? o3b_index_entries(p->also.ix, &n) : NULL;
    char re[2 * O3B_HOST_MAX + 8];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->exact.n; i++)
        if (in_pinned_namespace(pins, w->exact.v[i])) {
            glob_to_regex(w->exact.v[i], re, sizeof re);
            rc = strlist_add(&x->list[O3B_SQUID_PINNED_OWN], re);
        }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i].kind == O3B_ENTRY_SUFFIX || v[i].kind == O3B_ENTRY_GLOB) {
            glob_to_regex(v[i].text, re, sizeof re);
            rc = strlist_add(&x->list[O3B_SQUID_PINNED_OWN], re);
        }
    return rc;
}

/* Tenant pinning (tenant.h) as two lists: the pinned namespaces under a
   bypassed wildcard, and your hosts in them. */
static int collect_pins(const o3b_table *t, const struct o3b_policy *p, const struct squid_work *w,
                        o3b_squid_export *x)
{
    struct o3b_tenant_pins pins;
    size_t n;
    const struct o3b_index_entry *v = table_entries(t, &n);
    int rc = 0;

    if (!pins_of(p, &pins))
        return 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((v[i].kind == O3B_ENTRY_SUFFIX || v[i].kind == O3B_ENTRY_GLOB) &&
            first_with_text(v, i) && level_verdict(t, p, &v[i]) == LEVEL_BYPASS)
            rc = pin_pattern(t, p, &pins, &v[i], x);
    if (rc == 0 && x->list[O3B_SQUID_PINNED].n > 0)
        rc = add_own_unpinned(p, &pins, w, x);
    return rc;
}

/* AlsoBypass entries are bypassed (on 80 and 443), whatever the table says. */
static int collect_also(const struct o3b_policy *p, struct squid_work *w, o3b_squid_export *x)
{
    size_t n = 0;
    const struct o3b_index_entry *v = p->also.ix ? o3b_index_entries(p->also.ix, &n) : NULL;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (v[i].kind == O3B_ENTRY_EXACT)
            rc = strlist_add(&w->exact, v[i].text);
        else if (is_host_kind(&v[i]))
            rc = add_bypassed_pattern(w, x, &v[i]);
        else
            rc = add_dst(&x->list[O3B_SQUID_DST], v[i].text);
    }
    return rc;
}

/* NeverBypass entries are always inspected: straight into the inspect lists. */
static int collect_never(const struct o3b_policy *p, o3b_squid_export *x)
{
    size_t n = 0;
    const struct o3b_index_entry *v = p->never.ix ? o3b_index_entries(p->never.ix, &n) : NULL;
    char re[2 * O3B_HOST_MAX + 8];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (v[i].kind == O3B_ENTRY_EXACT) {
            rc = strlist_add(&x->list[O3B_SQUID_INSPECT_DOMAINS], v[i].text);
        } else if (is_host_kind(&v[i])) {
            glob_to_regex(v[i].text, re, sizeof re);
            rc = strlist_add(&x->list[O3B_SQUID_INSPECT_REGEX], re);
        } else {
            rc = add_dst(&x->list[O3B_SQUID_INSPECT_DST], v[i].text);
        }
    }
    return rc;
}

/* ---- Squid: collapsing and the inspect lists --------------------------------------- */

static int cmp_len(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

    return la < lb ? -1 : la > lb ? 1 : strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the suffixes no other kept suffix covers (shortest first). */
static int collapse_suffixes(const struct strlist *in, struct strlist *kept)
{
    char **sorted;
    int rc = 0;

    if (in->n == 0)
        return 0;
    sorted = malloc(in->n * sizeof *sorted);
    if (sorted == NULL)
        return -1;
    memcpy(sorted, in->v, in->n * sizeof *sorted);
    qsort(sorted, in->n, sizeof *sorted, cmp_len);
    for (size_t i = 0; rc == 0 && i < in->n; i++) {
        bool covered = false;
        for (size_t k = 0; k < kept->n && !covered; k++)
            covered = under_or_at(sorted[i], kept->v[k]);
        if (!covered)
            rc = strlist_add(kept, sorted[i]);
    }
    free(sorted);
    return rc;
}

static bool covered_by_suffix(const struct strlist *suffixes, const char *host)
{
    for (size_t k = 0; k < suffixes->n; k++)
        if (under_or_at(host, suffixes->v[k]))
            return true;
    return false;
}

static bool covered_by_glob(const struct strlist *globs, const char *host)
{
    for (size_t k = 0; k < globs->n; k++)
        if (o3b_glob_match(globs->v[k], strlen(globs->v[k]), host, strlen(host)))
            return true;
    return false;
}

/* The dstdomain list: exact hosts not covered, then ".suffix" entries. */
static int write_domains(const struct squid_work *w, const struct strlist *kept,
                         o3b_squid_export *x)
{
    struct strlist *out = &x->list[O3B_SQUID_DOMAINS];
    char dotted[O3B_HOST_MAX + 2];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->exact.n; i++)
        if (!covered_by_suffix(kept, w->exact.v[i]))
            rc = strlist_add(out, w->exact.v[i]);
    for (size_t i = 0; rc == 0 && i < kept->n; i++) {
        snprintf(dotted, sizeof dotted, ".%s", kept->v[i]);
        rc = strlist_add(out, dotted);
    }
    return rc;
}

/* Hosts decided "inspect" that a bypassed entry would catch in Squid: the
   apex of each kept suffix and every inspected host under one. */
static int write_inspect_hosts(const o3b_table *t, const struct o3b_policy *p,
                               const struct squid_work *w, const struct strlist *kept,
                               o3b_squid_export *x)
{
    struct strlist *out = &x->list[O3B_SQUID_INSPECT_DOMAINS];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < kept->n; i++)
        if (!host_bypassed(t, p, kept->v[i]))
            rc = strlist_add(out, kept->v[i]);
    for (size_t i = 0; rc == 0 && i < w->inspect_hosts.n; i++) {
        const char *h = w->inspect_hosts.v[i];
        if (covered_by_suffix(kept, h) || covered_by_glob(&w->globs, h))
            rc = strlist_add(out, h);
    }
    return rc;
}

/* The literal tail of a pattern after the '.' that follows its last '*'. */
static const char *pattern_tail(const char *pattern)
{
    const char *star = strrchr(pattern, '*'), *dot = star ? strchr(star, '.') : NULL;

    return dot ? dot + 1 : pattern;
}

/* Non-bypassed patterns more specific than a kept suffix that covers them. */
static int write_inspect_patterns(const struct squid_work *w, const struct strlist *kept,
                                  o3b_squid_export *x)
{
    char re[2 * O3B_HOST_MAX + 8];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->inspect_patterns.n; i++) {
        const char *pat = w->inspect_patterns.v[i], *tail = pattern_tail(pat);
        size_t literals = o3b_pattern_literals(pat, strlen(pat));
        for (size_t k = 0; k < kept->n; k++) {
            if (!under_or_at(tail, kept->v[k]) || literals <= strlen(kept->v[k]) + 1)
                continue;
            glob_to_regex(pat, re, sizeof re);
            rc = strlist_add(&x->list[O3B_SQUID_INSPECT_REGEX], re);
            break;
        }
    }
    return rc;
}

/* ---- Squid: CIDR lists --------------------------------------------------------------- */

static int cmp_cidr_text(const void *a, const void *b)
{
    struct o3b_cidr ca, cb;
    const char *ta = *(char *const *)a, *tb = *(char *const *)b;

    if (!cidr_of(ta, &ca) || !cidr_of(tb, &cb))
        return strcmp(ta, tb);
    if (ca.family != cb.family)
        return ca.family < cb.family ? -1 : 1;
    if (ca.prefix != cb.prefix)
        return ca.prefix < cb.prefix ? -1 : 1;
    return memcmp(ca.addr, cb.addr, 16);
}

/* Drop every CIDR covered by another one kept (widest first). */
static int collapse_cidrs(struct strlist *l)
{
    struct strlist kept = {0};
    int rc = 0;

    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_cidr_text);
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        struct o3b_cidr c, k;
        bool covered = false;
        if (!cidr_of(l->v[i], &c))
            continue;
        for (size_t j = 0; j < kept.n && !covered; j++)
            covered = cidr_of(kept.v[j], &k) && cidr_covers(&k, &c);
        if (!covered)
            rc = strlist_add(&kept, l->v[i]);
    }
    strlist_free(l);
    *l = kept;
    return rc;
}

/* Non-bypassed table CIDRs inside a bypassed one go to the inspect list. */
static int write_inspect_cidrs(const struct squid_work *w, o3b_squid_export *x)
{
    const struct strlist *dst = &x->list[O3B_SQUID_DST];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->inspect_cidrs.n; i++) {
        struct o3b_cidr c, k;
        if (!cidr_of(w->inspect_cidrs.v[i], &c))
            continue;
        for (size_t j = 0; j < dst->n; j++)
            if (cidr_of(dst->v[j], &k) && cidr_covers(&k, &c) && k.prefix < c.prefix) {
                rc = strlist_add(&x->list[O3B_SQUID_INSPECT_DST], w->inspect_cidrs.v[i]);
                break;
            }
    }
    return rc;
}

/* ---- Squid: build, free, read -------------------------------------------------------- */

static void squid_work_free(struct squid_work *w)
{
    strlist_free(&w->exact);
    strlist_free(&w->suffixes);
    strlist_free(&w->inspect_hosts);
    strlist_free(&w->inspect_patterns);
    strlist_free(&w->inspect_cidrs);
    strlist_free(&w->globs);
}

static void squid_meta(o3b_squid_export *x, const o3b_table *t)
{
    const struct o3b_table_meta *m;

    snprintf(x->tag, sizeof x->tag, "none");
    if (t == NULL)
        return;
    m = o3b_table_meta(t);
    o3b_table_tag(t, x->tag, sizeof x->tag);
    snprintf(x->version, sizeof x->version, "%s", m->version);
    snprintf(x->instance, sizeof x->instance, "%s", m->instance);
    x->n_sets = o3b_table_set_count(t);
}

static int squid_fill(const o3b_table *t, const struct o3b_policy *p, struct squid_work *w,
                      o3b_squid_export *x)
{
    struct strlist kept = {0};
    int rc;

    rc = collect_table(t, p, w, x);
    if (rc == 0)
        rc = collect_also(p, w, x);
    if (rc == 0)
        rc = collect_never(p, x);
    if (rc == 0)
        rc = collect_pins(t, p, w, x);
    if (rc == 0)
        rc = collapse_suffixes(&w->suffixes, &kept);
    if (rc == 0)
        rc = write_domains(w, &kept, x);
    if (rc == 0)
        rc = write_inspect_hosts(t, p, w, &kept, x);
    if (rc == 0)
        rc = write_inspect_patterns(w, &kept, x);
    if (rc == 0)
        rc = collapse_cidrs(&x->list[O3B_SQUID_DST]);
    if (rc == 0)
        rc = write_inspect_cidrs(w, x);
    if (rc == 0)
        rc = collapse_cidrs(&x->list[O3B_SQUID_INSPECT_DST]);
    strlist_free(&kept);
    return rc;
}

o3b_squid_export *o3b_squid_export_build(const o3b_table *table, const struct o3b_policy *policy,
                                         o3b_err *err)
{
    o3b_squid_export *x = calloc(1, sizeof *x);
    struct squid_work w;

    if (x == NULL) {
        o3b_err_set(err, "out of memory");
        return NULL;
    }
    memset(&w, 0, sizeof w);
    squid_meta(x, table);
    if (squid_fill(table, policy, &w, x) != 0) {
        squid_work_free(&w);
        o3b_squid_export_free(&x);
        o3b_err_set(err, "out of memory");
        return NULL;
    }
    squid_work_free(&w);
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        if (l != O3B_SQUID_DST && l != O3B_SQUID_INSPECT_DST)
            strlist_sort(&x->list[l]);
    return x;
}

void o3b_squid_export_free(o3b_squid_export **x)
{
    if (x == NULL || *x == NULL)
        return;
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        strlist_free(&(*x)->list[l]);
    free(*x);
    *x = NULL;
}

size_t o3b_squid_export_count(const o3b_squid_export *x, enum o3b_squid_list l)
{
    return (unsigned)l < O3B_SQUID_LIST_COUNT ? x->list[l].n : 0;
}

const char *o3b_squid_export_item(const o3b_squid_export *x, enum o3b_squid_list l, size_t i)
{
    if ((unsigned)l >= O3B_SQUID_LIST_COUNT || i >= x->list[l].n)
        return NULL;
    return x->list[l].v[i];
}

/* ---- Squid: writing ------------------------------------------------------------------ */

/* What every file says about what Squid's ACLs cannot express exactly. */
static const char squid_approximations[] =
    "# Approximations: ports are not encoded (only entries listed for TCP 80 or 443\n"
    "# are exported, and Squid applies them to every port); the DNSSEC MX zone label\n"
    "# of your hosts under mx.microsoft is any one label.\n";

static const struct squid_file {
    const char *file, *acl, *type, *what;
} squid_files[O3B_SQUID_LIST_COUNT] = {
    [O3B_SQUID_DOMAINS] = {"o365bypass-domains.txt", "o365bypass_domains", "dstdomain",
                           "bypassed hosts and domains (\".a.com\" is a.com and below)"},
    [O3B_SQUID_REGEX] = {"o365bypass-domains-regex.txt", "o365bypass_domains_regex",
                         "dstdom_regex -i",
                         "bypassed patterns dstdomain cannot express ('*' inside)"},
    [O3B_SQUID_DST] = {"o365bypass-dst.txt", "o365bypass_dst", "dst -n",
                       "bypassed IPv4 and IPv6 prefixes"},
    [O3B_SQUID_INSPECT_DOMAINS] = {"o365bypass-inspect-domains.txt", "o365bypass_inspect_domains",
                                   "dstdomain",
                                   "hosts to inspect although a bypassed domain covers them"},
    [O3B_SQUID_INSPECT_REGEX] = {"o365bypass-inspect-regex.txt", "o365bypass_inspect_regex",
                                 "dstdom_regex -i",
                                 "patterns to inspect although a bypassed domain covers them"},
    [O3B_SQUID_INSPECT_DST] = {"o365bypass-inspect-dst.txt", "o365bypass_inspect_dst", "dst -n",
                               "prefixes to inspect although a bypassed prefix covers them"},
    [O3B_SQUID_PINNED] = {"o365bypass-pinned-regex.txt", "o365bypass_pinned_ns",
                          "dstdom_regex -i",
                          "tenant namespaces pinned to your TenantName / TenantDomain names "
                          "(hosts strictly below them are inspected unless they are yours)"},
    [O3B_SQUID_PINNED_OWN] = {"o365bypass-pinned-own-regex.txt", "o365bypass_pinned_own",
                              "dstdom_regex -i",
                              "your hosts in the pinned tenant namespaces"},
};

const char *o3b_squid_file_name(enum o3b_squid_list l)
{
    return (unsigned)l < O3B_SQUID_LIST_COUNT ? squid_files[l].file : "?";
}

int o3b_squid_export_write(const o3b_squid_export *x, enum o3b_squid_list l, FILE *out)
{
    const struct strlist *list;

    if ((unsigned)l >= O3B_SQUID_LIST_COUNT)
        return -1;
    list = &x->list[l];
    fprintf(out, "# %s - %s.\n", squid_files[l].file, squid_files[l].what);
    fprintf(out,
            "# Generated by o365bypass from table %s (version %s, instance %s); "
            "do not edit.\n",
            x->tag, x->version[0] ? x->version : "none", x->instance[0] ? x->instance : "unknown");
    fputs(squid_approximations, out);
    for (size_t i = 0; i < list->n; i++)
        fprintf(out, "%s\n", list->v[i]);
    return ferror(out) ? -1 : 0;
}

static void conf_acl(const o3b_squid_export *x, enum o3b_squid_list l, const char *dir, FILE *out)
{
    const struct squid_file *f = &squid_files[l];

    if (x->list[l].n == 0)
        fprintf(out, "# (empty, left out: Squid warns about empty ACLs)\n# ");
    fprintf(out, "acl %s %s \"%s/%s\"\n", f->acl, f->type, dir, f->file);
}

/* "acl NAME any-of ..." over the non-empty lists in [from, to) and `extra`
   (another ACL, or NULL). */
static void conf_any_of(const o3b_squid_export *x, const char *name, int from, int to,
                        const char *extra, FILE *out)
{
    bool any = extra != NULL;

    for (int l = from; l < to; l++)
        any = any || x->list[l].n > 0;
    if (!any) {
        fprintf(out, "acl %s dstdomain %s.invalid\n", name, name);
        return;
    }
    fprintf(out, "acl %s any-of", name);
    for (int l = from; l < to; l++)
        if (x->list[l].n > 0)
            fprintf(out, " %s", squid_files[l].acl);
    if (extra != NULL)
        fprintf(out, " %s", extra);
    fputc('\n', out);
}

/* "acl o365bypass_pinned all-of ns !own": pinned and not yours. */
static bool conf_pinned(const o3b_squid_export *x, FILE *out)
{
    if (x->list[O3B_SQUID_PINNED].n == 0)
        return false;
    fprintf(out, "acl o365bypass_pinned all-of %s%s%s\n", squid_files[O3B_SQUID_PINNED].acl,
            x->list[O3B_SQUID_PINNED_OWN].n ? " !" : "",
            x->list[O3B_SQUID_PINNED_OWN].n ? squid_files[O3B_SQUID_PINNED_OWN].acl : "");
    return true;
}

int o3b_squid_export_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out)
{
    bool pinned;

    fprintf(out,
            "# o365bypass ACLs for Squid: table %s (version %s, instance %s, %zu sets).\n"
            "# Ports are not encoded: only entries listed for TCP port 80 or 443 are\n"
            "# exported, and Squid applies them to whatever port a request uses.\n"
            "# A destination is bypassed when it is in o365bypass and not in\n"
            "# o365bypass_inspect (more specific entries of lower categories, bare\n"
            "# apexes, NeverBypass, and with TenantName / TenantDomain the hosts of\n"
            "# other tenants: o365bypass_pinned).  dst -n: no DNS lookup for named\n"
            "# requests.\n",
            x->tag, x->version[0] ? x->version : "none", x->instance[0] ? x->instance : "unknown",
            x->n_sets);
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        conf_acl(x, (enum o3b_squid_list)l, abs_dir, out);
    pinned = conf_pinned(x, out);
    conf_any_of(x, "o365bypass", O3B_SQUID_DOMAINS, O3B_SQUID_INSPECT_DOMAINS, NULL, out);
    conf_any_of(x, "o365bypass_inspect", O3B_SQUID_INSPECT_DOMAINS, O3B_SQUID_PINNED,
                pinned ? "o365bypass_pinned" : NULL, out);
    fputs("# Examples (use your own service, chain and port names):\n"
          "#   keep Microsoft 365 away from the inspection chain\n"
          "# adaptation_access dlp_chain deny o365bypass !o365bypass_inspect\n"
          "# adaptation_access dlp_chain allow all\n"
          "#   and do not decrypt it (ssl_bump on the http_port)\n"
          "# ssl_bump splice o365bypass !o365bypass_inspect\n"
          "# ssl_bump bump all\n",
          out);
    return ferror(out) ? -1 : 0;
}
