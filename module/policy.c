/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the admin's policy: defaults, NeverBypass/AlsoBypass lists,
 * tenant names and mail domains.
 *
 * The lists reuse the endpoint index (index.h), so a NeverBypass pattern is
 * read exactly like a Microsoft pattern and looked up in the same constant
 * time.  NeverBypass entries apply to every port; AlsoBypass entries only to
 * the web ports 80 and 443, the traffic a proxy admin means by "bypass".
 * The two lists differ in what they accept: NeverBypass can only narrow the
 * hole, so it takes any pattern or prefix ("narrowing" parsers); AlsoBypass
 * widens it and keeps the feed's strict rules.
 */
#include "o365bypass/policy.h"

#include <stdlib.h>
#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/tenant.h"

static const struct o3b_port_range any_port[] = {{1, 65535}};
static const struct o3b_port_range web_ports[] = {{80, 80}, {443, 443}};

static const char *const decrypted_names[O3B_DECRYPTED_COUNT] = {
    [O3B_DECRYPTED_INSPECT] = "inspect",
    [O3B_DECRYPTED_SNI_BOUND] = "sni-bound",
};

const char *o3b_decrypted_mode_name(enum o3b_decrypted_mode m)
{
    return (unsigned)m < O3B_DECRYPTED_COUNT ? decrypted_names[m] : "?";
}

void o3b_policy_init(struct o3b_policy *p)
{
    memset(p, 0, sizeof *p);
    p->categories = (1u << O3B_CAT_OPTIMIZE) | (1u << O3B_CAT_ALLOW);
    p->areas = O3B_AREAS_ALL;
}

static void hostlist_release(struct o3b_hostlist *l)
{
    o3b_index_free(&l->ix);
    o3b_index_builder_free(&l->b);
    l->n = 0;
}

void o3b_policy_release(struct o3b_policy *p)
{
    hostlist_release(&p->never);
    hostlist_release(&p->also);
    for (size_t i = 0; i < p->n_tenants; i++)
        free(p->tenants[i]);
    for (size_t i = 0; i < p->n_domains; i++) {
        free(p->domains[i]);
        free(p->mx_labels[i]);
    }
    o3b_policy_init(p);
}

/* How a list reads its items: the feed's rules, or anything (NeverBypass). */
enum list_mode { LIST_STRICT, LIST_NARROWING };

static int list_add(struct o3b_hostlist *l, const char *item, enum list_mode mode,
                    const struct o3b_port_range *ports, size_t n_ports, o3b_err *err)
{
    size_t len = strlen(item);
    struct o3b_cidr c;
    char norm[O3B_HOST_MAX + 1];
    size_t nlen;

    if (l->ix != NULL) {
        o3b_err_set(err, "list already frozen");
        return -1;
    }
    if (l->n >= O3B_MAX_LIST_ITEMS) {
        o3b_err_set(err, "more than %d entries", O3B_MAX_LIST_ITEMS);
        return -1;
    }
    if (l->b == NULL && (l->b = o3b_index_builder_new()) == NULL) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    if (memchr(item, '/', len) != NULL) {
        if ((mode == LIST_NARROWING ? o3b_cidr_parse_any(item, len, &c, NULL, err)
                                    : o3b_cidr_parse(item, len, &c, NULL, err)) != 0)
            return -1;
        if (o3b_index_builder_add_cidr(l->b, &c, (uint32_t)l->n, 0, ports, n_ports, err) != 0)
            return -1;
    } else {
        uint8_t a[16];
        const char *s = item;
        size_t sl = len;

        if (sl >= 2 && s[0] == '[' && s[sl - 1] == ']') {
            s++;
            sl -= 2;
        }
        if (o3b_ipv4_parse(s, sl, a) == 0 || o3b_ipv6_parse(s, sl, a) == 0) {
            c.family = o3b_ipv4_parse(s, sl, a) == 0 ? O3B_AF_INET : O3B_AF_INET6;
            c.prefix = c.family == O3B_AF_INET ? 32 : 128;
            memcpy(c.addr, a, 16);
            if (c.family == O3B_AF_INET)
                memset(c.addr + 4, 0, 12);
            if (o3b_index_builder_add_cidr(l->b, &c, (uint32_t)l->n, 0, ports, n_ports, err) != 0)
                return -1;
        } else {
            if ((mode == LIST_NARROWING
                     ? o3b_pattern_normalize_narrowing(item, len, norm, &nlen, err)
                     : o3b_pattern_normalize(item, len, norm, &nlen, err)) != 0)
                return -1;
            if (o3b_index_builder_add_pattern(l->b, norm, nlen, (uint32_t)l->n, 0, ports, n_ports,
                                              err) != 0)
                return -1;
        }
    }
    l->n++;
    return 0;
}

int o3b_policy_add_never(struct o3b_policy *p, const char *item, o3b_err *err)
{
    return list_add(&p->never, item, LIST_NARROWING, any_port, 1, err);
}

int o3b_policy_add_also(struct o3b_policy *p, const char *item, o3b_err *err)
{
    return list_add(&p->also, item, LIST_STRICT, web_ports, 2, err);
}

int o3b_policy_add_tenant(struct o3b_policy *p, const char *name, o3b_err *err)
{
    char *copy;

    if (!o3b_tenant_name_valid(name)) {
        o3b_err_set(err,
                    "'%s' is not a tenant name (letters, digits and '-', as in "
                    "<tenant>.sharepoint.com)",
                    name);
        return -1;
    }
    copy = strdup(name);
    if (copy == NULL) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    for (char *c = copy; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    for (size_t i = 0; i < p->n_tenants; i++)
        if (strcmp(p->tenants[i], copy) == 0) {
            free(copy);
            return 0; /* a duplicate, even when the list is full */
        }
    if (p->n_tenants >= O3B_MAX_TENANTS) {
        o3b_err_set(err, "more than %d tenant names", O3B_MAX_TENANTS);
        free(copy);
        return -1;
    }
    p->tenants[p->n_tenants++] = copy;
    return 0;
}

int o3b_policy_add_tenant_domain(struct o3b_policy *p, const char *domain, o3b_err *err)
{
    char label[O3B_LABEL_MAX + 1], norm[O3B_HOST_MAX + 1];
    size_t nlen;

    if (o3b_tenant_mx_label(domain, label, err) != 0)
        return -1;
    (void)o3b_host_normalize(domain, strlen(domain), norm, &nlen); /* valid: checked above */
    for (size_t i = 0; i < p->n_domains; i++)
        if (strcmp(p->mx_labels[i], label) == 0)
            return 0; /* a duplicate, even when the list is full */
    if (p->n_domains >= O3B_MAX_TENANT_DOMAINS) {
        o3b_err_set(err, "more than %d mail domains", O3B_MAX_TENANT_DOMAINS);
        return -1;
    }
    p->domains[p->n_domains] = strdup(norm);
    p->mx_labels[p->n_domains] = strdup(label);
    if (p->domains[p->n_domains] == NULL || p->mx_labels[p->n_domains] == NULL) {
        free(p->domains[p->n_domains]);
        free(p->mx_labels[p->n_domains]);
        o3b_err_set(err, "out of memory");
        return -1;
    }
    p->n_domains++;
    return 0;
}

void o3b_policy_tenant_pins(const struct o3b_policy *p, struct o3b_tenant_pins *pins)
{
    pins->tenants = (const char *const *)p->tenants;
    pins->n_tenants = p->n_tenants;
    pins->mx_labels = (const char *const *)p->mx_labels;
    pins->n_mx_labels = p->n_domains;
}

static int list_finish(struct o3b_hostlist *l, o3b_err *err)
{
    if (l->b == NULL)
        return 0;
    l->ix = o3b_index_builder_finish(&l->b, err);
    return l->ix ? 0 : -1;
}

int o3b_policy_finish(struct o3b_policy *p, o3b_err *err)
{
    if (list_finish(&p->never, err) != 0) {
        o3b_err_prefix(err, "NeverBypass");
        return -1;
    }
    if (list_finish(&p->also, err) != 0) {
        o3b_err_prefix(err, "AlsoBypass");
        return -1;
    }
    return 0;
}

enum o3b_reason o3b_policy_set_reason(const struct o3b_policy *p, const struct o3b_set *s)
{
    if (!(p->categories & (1u << s->category)))
        return O3B_R_CATEGORY;
    if (!(p->areas & (1u << s->area)))
        return O3B_R_AREA;
    if (p->required_only && !s->required)
        return O3B_R_OPTIONAL;
    return O3B_R_TABLE;
}

bool o3b_policy_allows_set(const struct o3b_policy *p, const struct o3b_set *s)
{
    return o3b_policy_set_reason(p, s) == O3B_R_TABLE;
}
