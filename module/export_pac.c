/* SPDX-License-Identifier: MIT */
/*
 * export_pac.c - the PAC writer: the model's rows as JavaScript data, then
 * the fixed runtime (module/pac_runtime.js, embedded at build time).
 *
 * One array row per model row (pattern or CIDR, specificity, rank, ports,
 * the row's verdict, length of the pattern's literal leading labels), the
 * tenant namespaces and forms of tenant.c, your tenant names and MX labels.
 * The verdict column is the model's, i.e. o3b_decide()'s answer for a host
 * the row wins (0 for a row that never wins: the runtime never picks it
 * either); the runtime applies the index precedence over the rows, the
 * rule order of policy.h and tenant pinning.  Rows are written in the
 * index's insertion order, so "the first entry wins a tie" means the same
 * in both.  IPv6 rows are left out: IPv6 literals always get the proxy.
 */
#include "o365bypass/export.h"

#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/tenant.h"

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

static bool is_host_row(const struct o3b_export_row *r)
{
    return r->entry->kind == O3B_ENTRY_EXACT || r->entry->kind == O3B_ENTRY_SUFFIX ||
           r->entry->kind == O3B_ENTRY_GLOB;
}

/* ---- rows ------------------------------------------------------------------------------ */

static void pac_ports(FILE *out, const struct o3b_export_row *r)
{
    const struct o3b_port_range *pr = o3b_index_entry_ports(r->ix, r->entry);

    fputc('[', out);
    for (size_t i = 0; i < r->entry->n_ports; i++)
        fprintf(out, "%s%u, %u", i ? ", " : "", (unsigned)pr[i].lo, (unsigned)pr[i].hi);
    fputc(']', out);
}

static int verdict_of(const struct o3b_export_row *r)
{
    return r->wins && r->verdict == O3B_BYPASS ? 1 : 0;
}

/* One row of a host array: [pattern, specificity, rank, ports, verdict,
   characters of the pattern's literal leading labels (tenant.h)]. */
static void pac_host_row(FILE *out, const struct o3b_export_row *r)
{
    const struct o3b_index_entry *e = r->entry;

    fprintf(out, "  [\"%s\", %u, %u, ", e->text, (unsigned)e->specificity, (unsigned)e->rank);
    pac_ports(out, r);
    fprintf(out, ", %d, %zu]", verdict_of(r),
            e->kind == O3B_ENTRY_EXACT ? 0 : o3b_tenant_literal_prefix(e->text, e->text_len));
}

/* One row of an IPv4 array: [network, mask, prefix length, rank, ports, verdict]. */
static void pac_net_row(FILE *out, const struct o3b_export_row *r)
{
    const struct o3b_index_entry *e = r->entry;
    uint8_t mask[16] = {0}, ones[16];
    char net[64], mtext[64];

    memset(ones, 0xff, sizeof ones);
    o3b_addr_mask(O3B_AF_INET, ones, e->cidr.prefix, mask);
    o3b_addr_format(O3B_AF_INET, e->cidr.addr, net, sizeof net);
    o3b_addr_format(O3B_AF_INET, mask, mtext, sizeof mtext);
    fprintf(out, "  [\"%s\", \"%s\", %u, %u, ", net, mtext, (unsigned)e->cidr.prefix,
            (unsigned)e->rank);
    pac_ports(out, r);
    fprintf(out, ", %d]", verdict_of(r));
}

static void pac_set_comment(FILE *out, const struct o3b_export_row *r)
{
    const struct o3b_set *s = r->set;

    if (s == NULL)
        return;
    fprintf(out, " // set %u %s %s%s%s", s->id, s->area_name, o3b_category_name(s->category),
            s->required ? "" : " optional", r->wins ? "" : ", never the winner");
}

static bool in_array(const struct o3b_export_row *r, enum o3b_export_source source, bool hosts)
{
    return r->source == source && (hosts ? is_host_row(r) : r->entry->kind == O3B_ENTRY_CIDR4);
}

/* Write `name` = the host rows (hosts = true) or IPv4 rows of one source. */
static void pac_array(FILE *out, const char *name, const o3b_export_model *m,
                      enum o3b_export_source source, bool hosts)
{
    size_t n, left = 0, skipped_v6 = 0;
    const struct o3b_export_row *rows = o3b_export_model_rows(m, &n);

    for (size_t i = 0; i < n; i++)
        left += in_array(&rows[i], source, hosts);
    fprintf(out, "var %s = [\n", name);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].source == source && rows[i].entry->kind == O3B_ENTRY_CIDR6)
            skipped_v6++;
        if (!in_array(&rows[i], source, hosts))
            continue;
        if (hosts)
            pac_host_row(out, &rows[i]);
        else
            pac_net_row(out, &rows[i]);
        fputs(--left == 0 ? "" : ",", out);
        pac_set_comment(out, &rows[i]);
        fputc('\n', out);
    }
    if (!hosts && skipped_v6 > 0)
        fprintf(out, "  // %zu IPv6 prefixes left out: IPv6 literals always get the proxy\n",
                skipped_v6);
    fputs("];\n", out);
}

static void pac_data(FILE *out, const o3b_export_model *m)
{
    fputs("\n// Host rows, in table order: [pattern, specificity (65535 = exact host, else\n"
          "// literal characters), rank, TCP port ranges [lo, hi, ...], verdict (1 DIRECT),\n"
          "// characters of the pattern's literal leading labels].\n",
          out);
    pac_array(out, "O3B_HOSTS", m, O3B_EXPORT_TABLE, true);
    fputs("\n// IPv4 rows: [network, mask, prefix length, rank, TCP port ranges, verdict].\n", out);
    pac_array(out, "O3B_NETS4", m, O3B_EXPORT_TABLE, false);
    fputs("\n// NeverBypass (every port) and AlsoBypass (ports 80 and 443), same row shapes.\n",
          out);
    pac_array(out, "O3B_NEVER_HOSTS", m, O3B_EXPORT_NEVER, true);
    pac_array(out, "O3B_NEVER_NETS4", m, O3B_EXPORT_NEVER, false);
    pac_array(out, "O3B_ALSO_HOSTS", m, O3B_EXPORT_ALSO, true);
    pac_array(out, "O3B_ALSO_NETS4", m, O3B_EXPORT_ALSO, false);
}

/* ---- header, tenants ------------------------------------------------------------------- */

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
    fputs(p->n_tenants || p->n_domains ? " (tenant pinning on)\n" : " (no tenant pinning)\n", out);
}

static void pac_header(FILE *out, const o3b_export_model *m, const char *generator)
{
    char tag[40] = "none";
    const o3b_table *t = o3b_export_model_table(m);
    const struct o3b_table_meta *meta = t ? o3b_table_meta(t) : NULL;

    if (t != NULL)
        o3b_table_tag(t, tag, sizeof tag);
    fprintf(out, "// o365bypass PAC file, generated by %s: do not edit, generate it again.\n",
            generator ? generator : "o365bypass");
    fprintf(out, "// Table: tag %s, version %s, instance %s, %zu endpoint sets.\n", tag,
            meta && meta->version[0] ? meta->version : "(none)",
            meta && meta->instance[0] ? meta->instance : "(unknown)",
            t ? o3b_table_set_count(t) : 0);
    pac_policy_comment(out, o3b_export_model_policy(m));
}

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

/* ---- the file -------------------------------------------------------------------------- */

int o3b_export_pac(FILE *out, const o3b_export_model *m, const char *proxy, const char *generator,
                   o3b_err *err)
{
    if (proxy == NULL)
        proxy = O3B_PAC_DEFAULT_PROXY;
    if (!o3b_export_proxy_valid(proxy)) {
        o3b_err_set(err, "'%s' is not a proxy host:port", proxy);
        return -1;
    }
    pac_header(out, m, generator);
    fprintf(out, "\nvar O3B_PROXY = \"PROXY %s\";\n", proxy);
    pac_tenants(out, o3b_export_model_policy(m));
    pac_data(out, m);
    fputc('\n', out);
    fputs(o3b_pac_runtime, out);
    if (ferror(out)) {
        o3b_err_set(err, "write error");
        return -1;
    }
    return 0;
}

static int write_pac(const struct o3b_export_args *a, struct o3b_export_sink *s, o3b_err *err)
{
    FILE *out = s->open(s, NULL);
    int rc;

    if (out == NULL) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    rc = o3b_export_pac(out, a->model, a->values[0], a->generator, err);
    if (s->close(s, out, err) != 0)
        rc = -1;
    return rc;
}

static const struct o3b_export_option pac_options[] = {
    {"proxy", "HOST:PORT", o3b_export_proxy_valid},
};

const struct o3b_export_format o3b_export_format_pac = {
    .name = "pac",
    .usage = "[--proxy HOST:PORT] [-o FILE]",
    .help = "pac    a PAC file that answers DIRECT exactly where the service bypasses (for\n"
            "       the URL's port, the scheme's default when none) and PROXY HOST:PORT\n"
            "       (default " O3B_PAC_DEFAULT_PROXY ") elsewhere; IPv6 literals always get the\n"
            "       proxy.  To stdout, or atomically to FILE with -o.\n",
    .options = pac_options,
    .n_options = sizeof pac_options / sizeof pac_options[0],
    .named_outputs = false,
    .write = write_pac,
};
