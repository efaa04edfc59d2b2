/* SPDX-License-Identifier: MIT */
/*
 * tenant.c - tenant pinning of tenant-addressable wildcards (see tenant.h).
 *
 * The namespaces are fixed lists taken from Microsoft's documentation and
 * the published tables of every instance; a new one needs a code change on
 * purpose, so that nothing a feed says can widen pinning by itself.
 */
#include "o365bypass/tenant.h"

#include <string.h>

static const char *const sharepoint_ns[] = {
    "sharepoint.com", "sharepoint.us", "sharepoint-mil.us", "sharepoint.de", "sharepoint.cn",
};

static const char *const routing_ns[] = {
    "onmicrosoft.com", "mail.onmicrosoft.com", "onmicrosoft.us", "mail.onmicrosoft.us",
    "onmicrosoft.de",  "onmschina.cn",         "partner.onmschina.cn",
};

static const char *const sharepoint_forms[] = {"", "-my", "-files", "-myfiles"};
static const char *const routing_forms[] = {"", ".mail", ".partner"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

void o3b_tenant_span(const struct o3b_index_entry *e, size_t *label_start, size_t *ns_len)
{
    const char *star = e->text + e->star_prefix;
    const char *dot = memchr(star, '.', (size_t)e->text_len - e->star_prefix);
    size_t start = e->star_prefix;

    while (start > 0 && e->text[start - 1] != '.')
        start--;
    *label_start = start;
    *ns_len = dot ? (size_t)(e->text + e->text_len - dot) : 0;
}

enum o3b_tenant_ns o3b_tenant_namespace(const struct o3b_index_entry *e)
{
    const char *ns;
    size_t label_start, ns_len;

    if (e->stars != 1 || e->kind == O3B_ENTRY_EXACT || e->kind >= O3B_ENTRY_CIDR4)
        return O3B_TENANT_NONE;
    o3b_tenant_span(e, &label_start, &ns_len);
    if (ns_len == 0)
        return O3B_TENANT_NONE;
    ns = e->text + e->text_len - ns_len + 1; /* after the dot */
    if (in_list(ns, sharepoint_ns, sizeof sharepoint_ns / sizeof sharepoint_ns[0]))
        return O3B_TENANT_SHAREPOINT;
    if (in_list(ns, routing_ns, sizeof routing_ns / sizeof routing_ns[0]))
        return O3B_TENANT_ROUTING;
    return O3B_TENANT_NONE;
}

/* Is part[0..len) == tenant + form for one of the forms? */
static bool matches_form(const char *part, size_t len, const char *tenant,
                         const char *const *forms, size_t n_forms)
{
    size_t tl = strlen(tenant);

    if (len < tl || memcmp(part, tenant, tl) != 0)
        return false;
    for (size_t i = 0; i < n_forms; i++) {
        size_t fl = strlen(forms[i]);
        if (len == tl + fl && memcmp(part + tl, forms[i], fl) == 0)
            return true;
    }
    return false;
}

bool o3b_tenant_allows(const struct o3b_index_entry *e, const char *host, size_t len,
                       const char *const *tenants, size_t n_tenants)
{
    enum o3b_tenant_ns ns = o3b_tenant_namespace(e);
    const char *part;
    size_t part_len, label_start, ns_len;

    if (ns == O3B_TENANT_NONE)
        return true;
    o3b_tenant_span(e, &label_start, &ns_len);
    /* the host matched the pattern: it starts with the literal prefix before
       the '*' label and ends with ".namespace"; what is between stands for
       the '*' label */
    if (len <= label_start + ns_len)
        return false;
    part = host + label_start;
    part_len = len - label_start - ns_len;
    for (size_t t = 0; t < n_tenants; t++) {
        if (ns == O3B_TENANT_SHAREPOINT &&
            matches_form(part, part_len, tenants[t], sharepoint_forms,
                         sizeof sharepoint_forms / sizeof sharepoint_forms[0]))
            return true;
        if (ns == O3B_TENANT_ROUTING &&
            matches_form(part, part_len, tenants[t], routing_forms,
                         sizeof routing_forms / sizeof routing_forms[0]))
            return true;
    }
    return false;
}

bool o3b_tenant_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}
