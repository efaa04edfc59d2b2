/* SPDX-License-Identifier: MIT */
/*
 * tenant.c - tenant pinning (see tenant.h for the rule).
 *
 * The namespaces are one fixed table taken from Microsoft's documentation
 * and the published tables of every instance; a new one needs a code change
 * on purpose, so that nothing a feed says can widen pinning by itself.  The
 * PAC and Squid exporters read the same table (o3b_tenant_namespace_at,
 * o3b_tenant_forms), so the three cannot drift apart.  Every check is a few
 * suffix comparisons over short lists: no allocation, safe per request.
 */
#include "o365bypass/tenant.h"

#include <string.h>

#define NS(name, kind)                                                                             \
    {                                                                                              \
        name, sizeof name - 1, kind                                                                \
    }

static const struct {
    const char *name;
    size_t len;
    enum o3b_tenant_ns kind;
} namespaces[] = {
    NS("sharepoint.com", O3B_TENANT_SHAREPOINT),
    NS("sharepoint.us", O3B_TENANT_SHAREPOINT),
    NS("sharepoint-mil.us", O3B_TENANT_SHAREPOINT),
    NS("sharepoint.de", O3B_TENANT_SHAREPOINT),
    NS("sharepoint.cn", O3B_TENANT_SHAREPOINT),
    NS("onmicrosoft.com", O3B_TENANT_ROUTING),
    NS("mail.onmicrosoft.com", O3B_TENANT_ROUTING),
    NS("onmicrosoft.us", O3B_TENANT_ROUTING),
    NS("mail.onmicrosoft.us", O3B_TENANT_ROUTING),
    NS("onmicrosoft.de", O3B_TENANT_ROUTING),
    NS("onmschina.cn", O3B_TENANT_ROUTING),
    NS("partner.onmschina.cn", O3B_TENANT_ROUTING),
    /* <domain-key>.mail.protection.* (Worldwide, GCC High/DoD, 21Vianet) */
    NS("mail.protection.outlook.com", O3B_TENANT_MX),
    NS("mail.protection.office365.us", O3B_TENANT_MX),
    NS("mail.protection.partner.outlook.cn", O3B_TENANT_MX),
    /* DNSSEC MX: <domain-key>.<zone>.mx.microsoft ("contoso-com.o-v1.mx.microsoft") */
    NS("mx.microsoft", O3B_TENANT_MX_ZONED),
    NS("usgovcloud-mx.microsoft", O3B_TENANT_MX_ZONED),
};

#define N_NAMESPACES (sizeof namespaces / sizeof namespaces[0])

static const char *const sharepoint_forms[] = {"", "-my", "-files", "-myfiles"};
static const char *const routing_forms[] = {"", ".mail", ".partner"};
static const char *const mx_forms[] = {""};

size_t o3b_tenant_namespace_count(void)
{
    return N_NAMESPACES;
}

const char *o3b_tenant_namespace_at(size_t i, enum o3b_tenant_ns *kind)
{
    if (i >= N_NAMESPACES) {
        *kind = O3B_TENANT_NONE;
        return NULL;
    }
    *kind = namespaces[i].kind;
    return namespaces[i].name;
}

const char *const *o3b_tenant_forms(enum o3b_tenant_ns kind, size_t *n)
{
    switch (kind) {
    case O3B_TENANT_SHAREPOINT:
        *n = sizeof sharepoint_forms / sizeof sharepoint_forms[0];
        return sharepoint_forms;
    case O3B_TENANT_ROUTING:
        *n = sizeof routing_forms / sizeof routing_forms[0];
        return routing_forms;
    case O3B_TENANT_MX:
    case O3B_TENANT_MX_ZONED:
        *n = 1;
        return mx_forms;
    default:
        *n = 0;
        return NULL;
    }
}

/* Is s[0..len) strictly below `domain` (label-aligned)? */
static bool strictly_under(const char *s, size_t len, const char *domain, size_t dlen)
{
    return len > dlen + 1 && s[len - dlen - 1] == '.' && memcmp(s + len - dlen, domain, dlen) == 0;
}

enum o3b_tenant_ns o3b_tenant_host_namespace(const char *host, size_t len, size_t *ns_len)
{
    enum o3b_tenant_ns kind = O3B_TENANT_NONE;
    size_t best = 0;

    for (size_t i = 0; i < N_NAMESPACES; i++) {
        size_t nl = namespaces[i].len;
        if (nl > best && strictly_under(host, len, namespaces[i].name, nl)) {
            best = nl;
            kind = namespaces[i].kind;
        }
    }
    *ns_len = best;
    return kind;
}

size_t o3b_tenant_literal_prefix(const char *pat, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        if (pat[i] == '*')
            return start;
        if (pat[i] == '.')
            start = i + 1;
    }
    return len; /* no '*': every label is literal */
}

/* The literal tail of a pattern (after the label holding its last '*'):
   1 with *tail set, 0 for an exact host, -1 when there is none ("*"). */
static int literal_tail(const char *pat, size_t len, const char **tail, size_t *tlen)
{
    const char *star = memrchr(pat, '*', len), *dot;

    if (star == NULL)
        return 0;
    dot = memchr(star, '.', len - (size_t)(star - pat));
    if (dot == NULL)
        return -1;
    *tail = dot + 1;
    *tlen = len - (size_t)(*tail - pat);
    return 1;
}

/* Is tail equal to ns, under it, or a parent domain of it? */
static bool touches(const char *tail, size_t tlen, const char *ns, size_t nl)
{
    return (nl == tlen && memcmp(ns, tail, tlen) == 0) || strictly_under(tail, tlen, ns, nl) ||
           strictly_under(ns, nl, tail, tlen);
}

bool o3b_tenant_pattern_reaches(const char *pat, size_t len, const char *ns)
{
    const char *tail = NULL;
    size_t tlen = 0;
    int t = literal_tail(pat, len, &tail, &tlen);

    if (t == 0) /* an exact host names one tenant part under ns, or none */
        return strictly_under(pat, len, ns, strlen(ns));
    return t < 0 || touches(tail, tlen, ns, strlen(ns));
}

unsigned o3b_tenant_pattern_kinds(const char *pat, size_t len)
{
    const char *tail = NULL;
    size_t tlen = 0;
    int t = literal_tail(pat, len, &tail, &tlen);
    unsigned kinds = 0;

    for (size_t i = 0; i < N_NAMESPACES; i++)
        if (t < 0 || (t == 0 && strictly_under(pat, len, namespaces[i].name, namespaces[i].len)) ||
            (t > 0 && touches(tail, tlen, namespaces[i].name, namespaces[i].len)))
            kinds |= 1u << namespaces[i].kind;
    return kinds;
}

bool o3b_tenant_pinning_on(const struct o3b_tenant_pins *pins, enum o3b_tenant_ns kind)
{
    if (kind == O3B_TENANT_SHAREPOINT || kind == O3B_TENANT_ROUTING)
        return pins->n_tenants > 0;
    if (kind == O3B_TENANT_MX || kind == O3B_TENANT_MX_ZONED)
        return pins->n_tenants > 0 || pins->n_mx_labels > 0;
    return false;
}

static bool equals(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* Is part[0..len) == name + form for one of the forms? */
static bool matches_form(const char *part, size_t len, const char *name, const char *const *forms,
                         size_t n_forms)
{
    size_t nl = strlen(name);

    if (len < nl || memcmp(part, name, nl) != 0)
        return false;
    for (size_t i = 0; i < n_forms; i++)
        if (equals(part + nl, len - nl, forms[i]))
            return true;
    return false;
}

/* D, or D.Z for the DNSSEC zone Z (one label; the host is well formed). */
static bool mx_label_allowed(const char *part, size_t len, bool zoned,
                             const struct o3b_tenant_pins *pins)
{
    const char *dot = memchr(part, '.', len);
    size_t first = dot ? (size_t)(dot - part) : len;

    if (dot != NULL && (!zoned || memchr(dot + 1, '.', len - first - 1) != NULL))
        return false;
    for (size_t i = 0; i < pins->n_mx_labels; i++)
        if (equals(part, first, pins->mx_labels[i]))
            return true;
    return false;
}

bool o3b_tenant_part_allowed(enum o3b_tenant_ns kind, const char *part, size_t len,
                             const struct o3b_tenant_pins *pins)
{
    size_t n_forms;
    const char *const *forms = o3b_tenant_forms(kind, &n_forms);

    if (len == 0)
        return false;
    if (kind == O3B_TENANT_MX || kind == O3B_TENANT_MX_ZONED)
        return mx_label_allowed(part, len, kind == O3B_TENANT_MX_ZONED, pins);
    for (size_t t = 0; t < pins->n_tenants; t++)
        if (matches_form(part, len, pins->tenants[t], forms, n_forms))
            return true;
    return false;
}

bool o3b_tenant_allows(const struct o3b_index_entry *e, const char *host, size_t len,
                       const struct o3b_tenant_pins *pins)
{
    size_t ns_len, before;
    enum o3b_tenant_ns kind;

    if (e->kind >= O3B_ENTRY_CIDR4)
        return true;
    kind = o3b_tenant_host_namespace(host, len, &ns_len);
    if (kind == O3B_TENANT_NONE || !o3b_tenant_pinning_on(pins, kind))
        return true;
    /* an exact host is its own tenant part (no literal labels to skip) */
    before = e->kind == O3B_ENTRY_EXACT ? 0 : o3b_tenant_literal_prefix(e->text, e->text_len);
    if (len <= before + ns_len + 1)
        return false; /* the literal labels reach into the namespace */
    return o3b_tenant_part_allowed(kind, host + before, len - before - ns_len - 1, pins);
}

bool o3b_tenant_set_pinned(const struct o3b_set *s, const struct o3b_tenant_pins *pins)
{
    for (size_t i = 0; i < s->n_urls; i++) {
        unsigned kinds = o3b_tenant_pattern_kinds(s->urls[i], strlen(s->urls[i]));
        for (int k = O3B_TENANT_SHAREPOINT; kinds != 0 && k < O3B_TENANT_NS_COUNT; k++)
            if ((kinds & (1u << k)) && o3b_tenant_pinning_on(pins, (enum o3b_tenant_ns)k))
                return true;
    }
    return false;
}

int o3b_tenant_mx_label(const char *domain, char out[O3B_LABEL_MAX + 1], o3b_err *err)
{
    char norm[O3B_HOST_MAX + 1];
    size_t len, ns_len, i;
    enum o3b_tenant_ns kind;
    enum o3b_host_status st = o3b_host_normalize(domain, strlen(domain), norm, &len);

    if (st != O3B_HOST_OK || memchr(norm, '.', len) == NULL) {
        o3b_err_set(err, "'%.100s' is not a mail domain (a host name such as contoso.com%s%s)",
                    domain, st != O3B_HOST_OK ? ": " : "",
                    st != O3B_HOST_OK ? o3b_host_status_name(st) : "");
        return -1;
    }
    kind = o3b_tenant_host_namespace(norm, len, &ns_len);
    if (kind == O3B_TENANT_MX || kind == O3B_TENANT_MX_ZONED) { /* an MX host: its label */
        const char *dot = memchr(norm, '.', len);
        size_t before_ns = len - ns_len - 1;
        if ((size_t)(dot - norm) != before_ns &&
            (kind == O3B_TENANT_MX || memchr(dot + 1, '.', before_ns - (size_t)(dot + 1 - norm)))) {
            o3b_err_set(err,
                        "'%s' is under an MX namespace but is no MX host (one label, "
                        "or a label and a zone under mx.microsoft)",
                        norm);
            return -1;
        }
        memcpy(out, norm, (size_t)(dot - norm));
        out[dot - norm] = '\0';
        return 0;
    }
    if (len > O3B_LABEL_MAX) {
        o3b_err_set(err, "'%s': its MX label (dots as dashes) would be longer than %d characters",
                    norm, O3B_LABEL_MAX);
        return -1;
    }
    for (i = 0; i < len; i++)
        out[i] = norm[i] == '.' ? '-' : norm[i];
    out[len] = '\0';
    return 0;
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
