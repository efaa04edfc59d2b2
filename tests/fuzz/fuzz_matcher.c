/* SPDX-License-Identifier: MIT */
/*
 * fuzz_matcher.c - libFuzzer target for the hot path: index lookups, the
 * glob matcher and the bypass decision (index.h, host.h, policy.h).
 *
 * Input: two bytes of TCP port (big-endian, 0 = "any"), then lines split
 * on '\n'.  Line 0 is a host as an admin would type it (o3b_target_parse_
 * text()); lines 1..8 are host patterns or CIDRs, each optionally followed
 * by a space and a tcpPorts list.
 *
 * Set up once: the real Worldwide table from tests/data and four policies
 * (defaults; a loose one; a strict one with NeverBypass, AlsoBypass,
 * TenantName, TenantDomain and RequiredOnly; one whose NeverBypass is as
 * broad as it gets: "*", "0.0.0.0/0" and "::/0" besides narrower items).
 * Oracles, all written independently of index.c, decide.c and tenant.c:
 *  - a brute-force lookup that scans every entry (exact: equal; "*.s":
 *    ends with ".s"; other globs: a dynamic-programming glob) with index.h's
 *    port-first precedence, so the hashed suffix walk must find the same
 *    winner, listed entry and candidate count, in the table, in the policy
 *    lists and in a small index built from the input's own patterns (feed
 *    rules, or NeverBypass's when those refuse them);
 *  - o3b_glob_match() against the dynamic-programming glob on raw bytes;
 *  - the decision recomputed from policy.h's rules (a foreign or malformed
 *    SNI, then decrypted requests per DecryptedRequests, NeverBypass, then
 *    AlsoBypass, then the table's winner, category, area, RequiredOnly and
 *    an independent reading of tenant.h's pinning: the host's namespace,
 *    the entry's literal labels, the forms, and for IP literals the winning
 *    set's URLs), for each target without an SNI, with its own host as SNI,
 *    and with a foreign and a malformed one (the loose policy is
 *    DecryptedRequests sni-bound);
 *  - the same decision for the host in uppercase with a trailing dot;
 *  - tenant pinning (o3b_tenant_allows) of the input's own patterns.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/index.h"
#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"
#include "o365bypass/target.h"
#include "o365bypass/tenant.h"

#define TABLE_FILE "worldwide-2025-11-14.json"
#define MAX_LINES 9 /* the host, then up to 8 patterns */
#define N_POLICIES 4

// clang-format off
static const char *const never_items[] = {
    "attacker.sharepoint.com", "*.evil.onmicrosoft.com", "upload*.office.net",
    "52.112.1.1",              "2603:1063::/38",         "login.live.com",
    "*.de",                    "evil*",                  "198.18.0.0/15",
};
// clang-format on
static const char *const broad_never_items[] = {"*", "0.0.0.0/0", "::/0", "outlook*", "*.com"};
static const char *const also_items[] = {
    "intranet.example.com", "*.cdn.example.net", "*cdn.contoso.example",
    "198.51.100.0/24",      "[2001:db8::1]",     "teams.microsoft.com",
};
static const char *const tenant_items[] = {"contoso", "Fabrikam"};
static const char *const domain_items[] = {"contoso.com",
                                           "fabrikam-com01b.mail.protection.outlook.com"};

struct world {
    o3b_table *table;
    struct o3b_policy policies[N_POLICIES]; /* default, loose, strict, broad NeverBypass */
};

/* ---- set-up ------------------------------------------------------------------ */

static void add_items(struct o3b_policy *p, const char *const *items, size_t n,
                      int (*add)(struct o3b_policy *, const char *, o3b_err *))
{
    o3b_err err;

    for (size_t i = 0; i < n; i++)
        if (add(p, items[i], &err) != 0) {
            fprintf(stderr, "fuzz_matcher: policy item '%s': %s\n", items[i], err.msg);
            abort();
        }
}

static void build_policies(struct o3b_policy *p)
{
    o3b_err err;

    for (int i = 0; i < N_POLICIES; i++)
        o3b_policy_init(&p[i]);
    p[1].categories = (1u << O3B_CAT_COUNT) - 1u;
    p[1].areas = O3B_AREAS_ALL & ~(1u << O3B_AREA_SKYPE);
    p[1].decrypted = O3B_DECRYPTED_SNI_BOUND;
    p[2].required_only = true;
    add_items(&p[2], never_items, sizeof never_items / sizeof never_items[0], o3b_policy_add_never);
    add_items(&p[2], also_items, sizeof also_items / sizeof also_items[0], o3b_policy_add_also);
    add_items(&p[2], tenant_items, sizeof tenant_items / sizeof tenant_items[0],
              o3b_policy_add_tenant);
    add_items(&p[2], domain_items, sizeof domain_items / sizeof domain_items[0],
              o3b_policy_add_tenant_domain);
    add_items(&p[3], broad_never_items, sizeof broad_never_items / sizeof broad_never_items[0],
              o3b_policy_add_never);
    add_items(&p[3], domain_items, 1, o3b_policy_add_tenant_domain);
    for (int i = 0; i < N_POLICIES; i++)
        if (o3b_policy_finish(&p[i], &err) != 0) {
            fprintf(stderr, "fuzz_matcher: policy: %s\n", err.msg);
            abort();
        }
}

static void check_entry_shapes(const o3b_index *ix);

static const struct world *world(void)
{
    static struct world w;
    char path[1024];
    o3b_err err;

    if (w.table != NULL)
        return &w;
    snprintf(path, sizeof path, "%s/%s", o3b_fuzz_data_dir(), TABLE_FILE);
    w.table = o3b_load_file(path, NULL, &err);
    if (w.table == NULL) {
        fprintf(stderr,
                "fuzz_matcher: cannot load the table: %s\n"
                "(set O3B_FUZZ_DATA to the tests/data directory)\n",
                err.msg);
        abort();
    }
    build_policies(w.policies);
    check_entry_shapes(o3b_table_index(w.table));
    for (int i = 0; i < N_POLICIES; i++) {
        if (w.policies[i].never.ix != NULL)
            check_entry_shapes(w.policies[i].never.ix);
        if (w.policies[i].also.ix != NULL)
            check_entry_shapes(w.policies[i].also.ix);
    }
    return &w;
}

/* ---- reference matchers -------------------------------------------------------- */

/* Shell glob by dynamic programming over (pattern prefix, text prefix). */
static bool ref_glob(const char *pat, size_t plen, const char *s, size_t slen)
{
    bool *rows = calloc(2 * (slen + 1), sizeof *rows), *prev = rows, *cur, result;

    if (rows == NULL)
        abort();
    cur = rows + slen + 1;
    prev[0] = true;
    for (size_t i = 0; i < plen; i++) {
        cur[0] = prev[0] && pat[i] == '*';
        for (size_t j = 1; j <= slen; j++)
            cur[j] = pat[i] == '*' ? (prev[j] || cur[j - 1]) : (prev[j - 1] && pat[i] == s[j - 1]);
        memcpy(prev, cur, (slen + 1) * sizeof *prev);
    }
    result = prev[slen];
    free(rows);
    return result;
}

/* What is being looked up: a normalized name or an address. */
struct probe {
    const char *host;
    size_t len;
    uint8_t family; /* 0 for names */
    const uint8_t *addr;
};

static struct probe probe_of(const struct o3b_target *t)
{
    struct probe q = {t->host, t->host_len, 0, t->addr};

    if (t->kind != O3B_KIND_NAME)
        q.family = t->kind == O3B_KIND_IPV4 ? O3B_AF_INET : O3B_AF_INET6;
    return q;
}

static bool entry_matches(const struct o3b_index_entry *e, const struct probe *q)
{
    switch (e->kind) {
    case O3B_ENTRY_EXACT:
        return q->family == 0 && e->text_len == q->len && memcmp(e->text, q->host, q->len) == 0;
    case O3B_ENTRY_SUFFIX: /* "*.s": any host that ends in ".s" */
        return q->family == 0 && q->len >= e->text_len &&
               memcmp(q->host + q->len - (e->text_len - 1u), e->text + 1, e->text_len - 1u) == 0;
    case O3B_ENTRY_GLOB:
        return q->family == 0 && ref_glob(e->text, e->text_len, q->host, q->len);
    case O3B_ENTRY_CIDR4:
        return q->family == O3B_AF_INET && o3b_cidr_contains(&e->cidr, q->family, q->addr);
    default:
        return q->family == O3B_AF_INET6 && o3b_cidr_contains(&e->cidr, q->family, q->addr);
    }
}

/* An entry's kind and specificity, recomputed from its text (index.h). */
static void check_entry_shape(const struct o3b_index_entry *e)
{
    size_t stars = 0;

    for (size_t i = 0; i < e->text_len; i++)
        stars += e->text[i] == '*';
    O3B_FUZZ_CHECK(e->text_len == strlen(e->text));
    switch (e->kind) {
    case O3B_ENTRY_EXACT:
        O3B_FUZZ_CHECK(stars == 0 && e->specificity == O3B_SPEC_EXACT);
        break;
    case O3B_ENTRY_SUFFIX:
        O3B_FUZZ_CHECK(stars == 1 && e->text[0] == '*' && e->text[1] == '.');
        O3B_FUZZ_CHECK(e->specificity == e->text_len - 1u);
        break;
    case O3B_ENTRY_GLOB:
        O3B_FUZZ_CHECK(stars >= 1 && !(stars == 1 && e->text[0] == '*' && e->text[1] == '.'));
        O3B_FUZZ_CHECK(e->specificity == e->text_len - stars);
        break;
    default:
        O3B_FUZZ_CHECK(e->kind <= O3B_ENTRY_CIDR6 && e->specificity == e->cidr.prefix);
        O3B_FUZZ_CHECK((e->kind == O3B_ENTRY_CIDR4) == (e->cidr.family == O3B_AF_INET));
    }
}

static void check_entry_shapes(const o3b_index *ix)
{
    size_t n;
    const struct o3b_index_entry *all = o3b_index_entries(ix, &n);

    for (size_t i = 0; i < n; i++)
        check_entry_shape(&all[i]);
}

/* The most specific level of `e`s accepted by `want_port` (or of all
   matches), scanning every entry in insertion order: its first entry with
   the highest rank and its size. */
static const struct o3b_index_entry *brute_level(const o3b_index *ix, const struct probe *q,
                                                 uint16_t port, bool want_port, uint16_t *count)
{
    size_t n;
    const struct o3b_index_entry *all = o3b_index_entries(ix, &n), *best = NULL;

    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const struct o3b_index_entry *e = &all[i];
        if (!entry_matches(e, q) || (want_port && !o3b_index_entry_accepts(ix, e, port)))
            continue;
        if (best == NULL || e->specificity > best->specificity) {
            best = e;
            *count = 1;
        } else if (e->specificity == best->specificity) {
            (*count)++;
            if (want_port && e->rank > best->rank)
                best = e;
        }
    }
    return best;
}

/* index.h's precedence, port first: of the entries listing the port the most
   specific, then the highest rank, then the first; without any, the first of
   the most specific matching entries is "listed". */
static void brute_lookup(const o3b_index *ix, const struct probe *q, uint16_t port,
                         struct o3b_hit *hit)
{
    memset(hit, 0, sizeof *hit);
    hit->best = brute_level(ix, q, port, true, &hit->candidates);
    if (hit->best == NULL)
        hit->listed = brute_level(ix, q, port, false, &hit->candidates);
}

static void lookup(const o3b_index *ix, const struct probe *q, uint16_t port, struct o3b_hit *hit)
{
    if (q->family == 0)
        o3b_index_lookup_host(ix, q->host, q->len, port, hit);
    else
        o3b_index_lookup_addr(ix, q->family, q->addr, port, hit);
}

/* The index must agree with the brute-force scan; `want` gets the latter. */
static void check_lookup(const o3b_index *ix, const struct probe *q, uint16_t port,
                         struct o3b_hit *want)
{
    struct o3b_hit got;

    lookup(ix, q, port, &got);
    brute_lookup(ix, q, port, want);
    O3B_FUZZ_CHECK(got.best == want->best);
    O3B_FUZZ_CHECK(got.listed == want->listed);
    O3B_FUZZ_CHECK(got.candidates == want->candidates);
}

/* ---- tenant pinning, read independently from tenant.h ------------------------ */

/* Kinds: 1 SharePoint, 2 routing domain, 3 MX, 4 DNSSEC MX (tenant.h). */
static const struct {
    const char *name;
    int kind;
} namespaces[] = {
    {"sharepoint.com", 1},
    {"sharepoint.us", 1},
    {"sharepoint-mil.us", 1},
    {"sharepoint.de", 1},
    {"sharepoint.cn", 1},
    {"onmicrosoft.com", 2},
    {"mail.onmicrosoft.com", 2},
    {"onmicrosoft.us", 2},
    {"mail.onmicrosoft.us", 2},
    {"onmicrosoft.de", 2},
    {"onmschina.cn", 2},
    {"partner.onmschina.cn", 2},
    {"mail.protection.outlook.com", 3},
    {"mail.protection.office365.us", 3},
    {"mail.protection.partner.outlook.cn", 3},
    {"mx.microsoft", 4},
    {"usgovcloud-mx.microsoft", 4},
};

#define N_NS (sizeof namespaces / sizeof namespaces[0])

static bool pinned(const struct o3b_policy *p, int kind)
{
    return kind <= 2 ? p->n_tenants > 0 : p->n_tenants + p->n_domains > 0;
}

/* Does s[0..len) end in "." + d? */
static bool below(const char *s, size_t len, const char *d)
{
    size_t dl = strlen(d);

    return len > dl + 1 && s[len - dl - 1] == '.' && memcmp(s + len - dl, d, dl) == 0;
}

static bool tenant_part_allowed(const char *part, size_t len, const struct o3b_policy *p, int kind)
{
    static const char *const sp_forms[] = {"", "-my", "-files", "-myfiles"};
    static const char *const rt_forms[] = {"", ".mail", ".partner"};
    char want[300];

    if (kind >= 3) { /* the first label is one of your MX labels; then <= 1 zone label */
        size_t first = 0, dots = 0;
        while (first < len && part[first] != '.')
            first++;
        for (size_t i = 0; i < len; i++)
            dots += part[i] == '.';
        if (dots > (kind == 4 ? 1u : 0u))
            return false;
        for (size_t d = 0; d < p->n_domains; d++)
            if (strlen(p->mx_labels[d]) == first && memcmp(p->mx_labels[d], part, first) == 0)
                return true;
        return false;
    }
    for (size_t t = 0; t < p->n_tenants; t++)
        for (size_t f = 0; f < (kind == 1 ? 4u : 3u); f++) {
            int w = snprintf(want, sizeof want, "%s%s", p->tenants[t],
                             kind == 1 ? sp_forms[f] : rt_forms[f]);
            if (w > 0 && (size_t)w == len && memcmp(want, part, len) == 0)
                return true;
        }
    return false;
}

/* Would pinning refuse this name for this entry?  The host's namespace is
   the longest one it lies strictly under; the tenant part is the host minus
   the entry's leading labels without '*' (none for an exact host) minus the
   namespace. */
static bool name_blocked(const struct o3b_policy *p, const struct o3b_index_entry *e,
                         const char *host, size_t len)
{
    size_t best = N_NS, prefix = 0;

    if (e->kind != O3B_ENTRY_EXACT && e->kind != O3B_ENTRY_SUFFIX && e->kind != O3B_ENTRY_GLOB)
        return false;
    for (size_t i = 0; i < N_NS; i++)
        if (below(host, len, namespaces[i].name) &&
            (best == N_NS || strlen(namespaces[i].name) > strlen(namespaces[best].name)))
            best = i;
    if (best == N_NS || !pinned(p, namespaces[best].kind))
        return false;
    for (size_t i = 0; e->kind != O3B_ENTRY_EXACT && i < e->text_len && e->text[i] != '*'; i++)
        if (e->text[i] == '.')
            prefix = i + 1;
    if (len <= prefix + strlen(namespaces[best].name) + 1)
        return true;
    return !tenant_part_allowed(host + prefix, len - prefix - strlen(namespaces[best].name) - 1, p,
                                namespaces[best].kind);
}

/* Does a set carry a pattern whose literal tail (after the label holding its
   last '*') equals, lies under or is a parent of a pinned namespace, or an
   exact host under one? */
static bool set_blocked(const struct o3b_policy *p, const struct o3b_set *s)
{
    for (size_t u = 0; u < s->n_urls; u++) {
        const char *url = s->urls[u], *star = strrchr(url, '*'), *tail;
        if (star == NULL) {
            for (size_t i = 0; i < N_NS; i++)
                if (pinned(p, namespaces[i].kind) && below(url, strlen(url), namespaces[i].name))
                    return true;
            continue;
        }
        tail = strchr(star, '.');
        for (size_t i = 0; i < N_NS; i++) {
            const char *ns = namespaces[i].name;
            if (!pinned(p, namespaces[i].kind))
                continue;
            if (tail == NULL || strcmp(tail + 1, ns) == 0 ||
                below(tail + 1, strlen(tail + 1), ns) || below(ns, strlen(ns), tail + 1))
                return true;
        }
    }
    return false;
}

/* Would tenant pinning refuse this target for this winning entry? */
static bool tenant_blocks(const struct world *w, const struct o3b_policy *p,
                          const struct o3b_index_entry *e, const struct o3b_target *t)
{
    if (t->kind != O3B_KIND_NAME)
        return set_blocked(p, o3b_table_set(w->table, e->payload));
    return name_blocked(p, e, t->host, t->host_len);
}

/* ---- the decision ------------------------------------------------------------ */

static bool list_hits(const o3b_index *ix, const struct probe *q, uint16_t port)
{
    struct o3b_hit hit;

    if (ix == NULL)
        return false;
    check_lookup(ix, q, port, &hit);
    return hit.best != NULL;
}

/* policy.h rules 4-9 for the table's winner `best`. */
static enum o3b_reason table_reason(const struct world *w, const struct o3b_policy *p,
                                    const struct o3b_target *t, const struct o3b_hit *hit)
{
    const struct o3b_set *s;

    if (hit->best == NULL)
        return hit->listed ? O3B_R_PORT : O3B_R_NOT_LISTED;
    s = o3b_table_set(w->table, hit->best->payload);
    O3B_FUZZ_CHECK(s != NULL);
    if (!(p->categories & (1u << s->category)))
        return O3B_R_CATEGORY;
    if (!(p->areas & (1u << s->area)))
        return O3B_R_AREA;
    if (p->required_only && !s->required)
        return O3B_R_OPTIONAL;
    return tenant_blocks(w, p, hit->best, t) ? O3B_R_TENANT : O3B_R_TABLE;
}

static void check_format(const struct o3b_decision *d)
{
    char buf[512], tiny[8];
    size_t n = o3b_decision_format(d, buf, sizeof buf);

    O3B_FUZZ_CHECK(n == strlen(buf) && n > 0);
    O3B_FUZZ_CHECK(strncmp(buf, d->verdict == O3B_BYPASS ? "bypass" : "inspect",
                           d->verdict == O3B_BYPASS ? 6 : 7) == 0);
    n = o3b_decision_format(d, tiny, sizeof tiny);
    O3B_FUZZ_CHECK(n == strlen(tiny) && n < sizeof tiny);
}

/* policy.h rules 2 and 3, read from the header: the reason they give, or
   O3B_R_COUNT when they let the request through. */
static enum o3b_reason tls_reason(const struct o3b_policy *p, const struct o3b_target *t)
{
    bool decrypted =
        t->form != O3B_FORM_CONNECT &&
        (t->scheme == O3B_SCHEME_HTTPS || (t->scheme == O3B_SCHEME_HTTP && t->port == 443));

    if (t->sni_state == O3B_SNI_BAD)
        return O3B_R_SNI_MISMATCH;
    if (t->sni_state == O3B_SNI_OK && (t->kind != O3B_KIND_NAME || strlen(t->sni) != t->host_len ||
                                       memcmp(t->sni, t->host, t->host_len) != 0))
        return O3B_R_SNI_MISMATCH;
    if (decrypted && (p->decrypted != O3B_DECRYPTED_SNI_BOUND || t->sni_state != O3B_SNI_OK))
        return O3B_R_DECRYPTED;
    return O3B_R_COUNT;
}

/* Recompute the decision for an OK target and compare; `hit` is the
   brute-force lookup of the target in the table. */
static void check_decision(const struct world *w, const struct o3b_policy *p,
                           const struct o3b_target *t, const struct o3b_hit *hit,
                           const struct o3b_decision *d)
{
    struct probe q = probe_of(t);
    enum o3b_reason tls = tls_reason(p, t);

    O3B_FUZZ_CHECK((d->verdict == O3B_BYPASS) ==
                   (d->reason == O3B_R_TABLE || d->reason == O3B_R_ALSO));
    check_format(d);
    if (tls != O3B_R_COUNT) {
        O3B_FUZZ_CHECK(d->reason == tls && d->verdict == O3B_INSPECT && d->set == NULL);
        return;
    }
    if (list_hits(p->never.ix, &q, t->port)) {
        O3B_FUZZ_CHECK(d->reason == O3B_R_NEVER && d->entry != NULL);
        O3B_FUZZ_CHECK(entry_matches(d->entry, &q));
        return;
    }
    if (list_hits(p->also.ix, &q, t->port)) {
        O3B_FUZZ_CHECK(d->reason == O3B_R_ALSO && d->entry != NULL);
        O3B_FUZZ_CHECK(entry_matches(d->entry, &q) && (t->port == 80 || t->port == 443));
        return;
    }
    O3B_FUZZ_CHECK(d->reason == table_reason(w, p, t, hit));
    O3B_FUZZ_CHECK(d->entry == (hit->best ? hit->best : hit->listed));
    O3B_FUZZ_CHECK(d->candidates == hit->candidates);
    O3B_FUZZ_CHECK(d->set == (d->entry ? o3b_table_set(w->table, d->entry->payload) : NULL));
    if (d->verdict == O3B_BYPASS) /* a bypass always names its set and a matching entry */
        O3B_FUZZ_CHECK(d->set != NULL && entry_matches(d->entry, &q) &&
                       o3b_index_entry_accepts(o3b_table_index(w->table), d->entry, t->port));
}

static bool same_decision(const struct o3b_decision *a, const struct o3b_decision *b)
{
    return a->verdict == b->verdict && a->reason == b->reason && a->set == b->set &&
           a->entry == b->entry && a->candidates == b->candidates;
}

/* "HOST.:port" / "[V6]:port": must decide exactly like the canonical form. */
static void check_shouted(const struct world *w, const struct o3b_target *t,
                          const struct o3b_decision d[N_POLICIES])
{
    char text[O3B_HOST_MAX + 16];
    struct o3b_target again;
    struct o3b_decision d2;
    size_t n = 0;

    if (t->form == O3B_FORM_ABSOLUTE) /* keep the form: "http://HOST.:port/" */
        n += (size_t)snprintf(text, sizeof text, "http://");
    if (t->kind == O3B_KIND_IPV6)
        text[n++] = '[';
    for (size_t i = 0; i < t->host_len; i++)
        text[n++] = (t->host[i] >= 'a' && t->host[i] <= 'z') ? (char)(t->host[i] - 32) : t->host[i];
    snprintf(text + n, sizeof text - n, "%s:%u%s",
             t->kind == O3B_KIND_IPV6   ? "]"
             : t->kind == O3B_KIND_NAME ? "."
                                        : "",
             t->port, t->form == O3B_FORM_ABSOLUTE ? "/" : "");
    O3B_FUZZ_CHECK(o3b_target_parse_text(text, &again) == O3B_TARGET_OK);
    again.sni_state = t->sni_state;
    again.sni_len = t->sni_len;
    memcpy(again.sni, t->sni, sizeof again.sni);
    for (int i = 0; i < N_POLICIES; i++) {
        o3b_decide(w->table, &w->policies[i], &again, O3B_TARGET_OK, &d2);
        O3B_FUZZ_CHECK(same_decision(&d[i], &d2));
    }
}

static void decide_one(const struct world *w, const struct o3b_target *t, const struct o3b_hit *hit)
{
    struct o3b_decision d[N_POLICIES];

    for (int i = 0; i < N_POLICIES; i++) {
        o3b_decide(w->table, &w->policies[i], t, O3B_TARGET_OK, &d[i]);
        check_decision(w, &w->policies[i], t, hit, &d[i]);
    }
    check_shouted(w, t, d);
}

/* Without an SNI, with its own host, a foreign name and a malformed one. */
static void decide_all(const struct world *w, const struct o3b_target *t)
{
    static const char *const other_sni[] = {"sni.other.example", "52.96.1.1"};
    struct probe q = probe_of(t);
    struct o3b_target with;
    struct o3b_hit hit;

    check_lookup(o3b_table_index(w->table), &q, t->port, &hit);
    decide_one(w, t, &hit);
    with = *t;
    o3b_target_set_sni(&with, t->host, t->host_len);
    O3B_FUZZ_CHECK(with.sni_state == (t->kind == O3B_KIND_NAME ? O3B_SNI_OK : O3B_SNI_BAD));
    decide_one(w, &with, &hit);
    for (size_t i = 0; i < sizeof other_sni / sizeof other_sni[0]; i++) {
        with = *t;
        o3b_target_set_sni(&with, other_sni[i], strlen(other_sni[i]));
        decide_one(w, &with, &hit);
    }
}

/* The host line through parse_text(), then every policy; returns the target. */
static enum o3b_target_status fuzz_decisions(const struct world *w, const char *line, size_t len,
                                             uint16_t port, struct o3b_target *t)
{
    char *copy = malloc(len + 1);
    struct o3b_decision d;
    enum o3b_target_status st;

    if (copy == NULL)
        abort();
    memcpy(copy, line, len);
    copy[len] = '\0';
    st = o3b_target_parse_text(copy, t);
    free(copy);
    if (st != O3B_TARGET_OK) {
        o3b_decide(w->table, &w->policies[2], t, st, &d);
        O3B_FUZZ_CHECK(d.verdict == O3B_INSPECT && d.reason == O3B_R_MALFORMED);
        check_format(&d);
        return st;
    }
    decide_all(w, t);
    if (port != 0 && port != t->port) {
        struct o3b_target other = *t;
        other.port = port;
        decide_all(w, &other);
    }
    return st;
}

/* ---- input-derived patterns ------------------------------------------------------ */

struct line {
    const char *s;
    size_t len;
};

static size_t split_lines(const char *text, size_t size, struct line *lines)
{
    size_t n = 0;

    while (n < MAX_LINES) {
        const char *nl = memchr(text, '\n', size);
        size_t len = nl ? (size_t)(nl - text) : size;

        lines[n].s = text;
        lines[n++].len = len;
        if (nl == NULL)
            break;
        text = nl + 1;
        size -= len + 1;
    }
    return n;
}

/* "pattern[ ports]" into the builder; refused items are simply left out. */
static void add_pattern_line(o3b_index_builder *b, const struct line *l, uint8_t rank)
{
    const char *sp = memchr(l->s, ' ', l->len);
    size_t plen = sp ? (size_t)(sp - l->s) : l->len, nlen, n_ports = 0;
    struct o3b_port_range ports[O3B_PORT_RANGES_MAX];
    char norm[O3B_HOST_MAX + 1];
    struct o3b_cidr c;

    if (sp != NULL &&
        o3b_ports_parse(sp + 1, l->len - plen - 1, ports, O3B_PORT_RANGES_MAX, &n_ports, NULL) != 0)
        n_ports = 0;
    if (sp == NULL) { /* no list: ports 80 and 443 */
        ports[0] = (struct o3b_port_range){80, 80};
        ports[1] = (struct o3b_port_range){443, 443};
        n_ports = 2;
    }
    if (memchr(l->s, '/', plen) != NULL) { /* any prefix, /0 included (NeverBypass) */
        if (o3b_cidr_parse_any(l->s, plen, &c, NULL, NULL) == 0)
            O3B_FUZZ_CHECK(o3b_index_builder_add_cidr(b, &c, rank, rank, ports, n_ports, NULL) ==
                           0);
    } else if (o3b_pattern_normalize(l->s, plen, norm, &nlen, NULL) == 0 ||
               o3b_pattern_normalize_narrowing(l->s, plen, norm, &nlen, NULL) == 0) {
        /* the feed's rules, else NeverBypass's ("*", "foo*": loose patterns) */
        O3B_FUZZ_CHECK(
            o3b_index_builder_add_pattern(b, norm, nlen, rank, rank, ports, n_ports, NULL) == 0);
    }
}

/* Tenant pinning of every entry of `ix` that matches the name `t`, as the
   strict policy's tenants would see it, against the independent reading. */
static void check_tenants(const struct world *w, const o3b_index *ix, const struct o3b_target *t)
{
    struct probe q = probe_of(t);
    size_t n;
    const struct o3b_index_entry *all = o3b_index_entries(ix, &n);

    for (int k = 2; k < N_POLICIES; k++) {
        const struct o3b_policy *p = &w->policies[k];
        struct o3b_tenant_pins pins;
        o3b_policy_tenant_pins(p, &pins);
        for (size_t i = 0; i < n; i++)
            if (all[i].kind <= O3B_ENTRY_GLOB && entry_matches(&all[i], &q))
                O3B_FUZZ_CHECK(o3b_tenant_allows(&all[i], t->host, t->host_len, &pins) ==
                               !name_blocked(p, &all[i], t->host, t->host_len));
    }
}

/* Glob on raw bytes, and a small index of the input's patterns. */
static void fuzz_patterns(const struct world *w, const struct line *lines, size_t n,
                          const struct o3b_target *t, bool t_ok, uint16_t port)
{
    o3b_index_builder *b = o3b_index_builder_new();
    o3b_index *ix;

    if (b == NULL)
        abort();
    for (size_t i = 1; i < n; i++) {
        const struct line *p = &lines[i];
        O3B_FUZZ_CHECK(o3b_glob_match(p->s, p->len, lines[0].s, lines[0].len) ==
                       ref_glob(p->s, p->len, lines[0].s, lines[0].len));
        if (t_ok)
            O3B_FUZZ_CHECK(o3b_glob_match(p->s, p->len, t->host, t->host_len) ==
                           ref_glob(p->s, p->len, t->host, t->host_len));
        add_pattern_line(b, p, (uint8_t)(i % 3));
    }
    ix = o3b_index_builder_finish(&b, NULL);
    O3B_FUZZ_CHECK(ix != NULL && b == NULL);
    check_entry_shapes(ix);
    if (t_ok) {
        struct probe q = probe_of(t);
        struct o3b_hit hit;
        check_lookup(ix, &q, 0, &hit);
        check_lookup(ix, &q, t->port, &hit);
        check_lookup(ix, &q, port, &hit);
        if (t->kind == O3B_KIND_NAME)
            check_tenants(w, ix, t);
    }
    o3b_index_free(&ix);
}

/* The raw line straight into the table's index: never crashes; when it is
   already a normalized host, the "any port" lookup (which decisions never
   make) must agree with the brute-force scan. */
static void fuzz_raw_lookup(const struct world *w, const struct line *l, uint16_t port)
{
    char norm[O3B_HOST_MAX + 1];
    size_t nlen = 0;
    struct o3b_hit hit;

    o3b_index_lookup_host(o3b_table_index(w->table), l->s, l->len, port, &hit);
    if (port == 0 && o3b_host_normalize(l->s, l->len, norm, &nlen) == O3B_HOST_OK &&
        nlen == l->len && memcmp(norm, l->s, nlen) == 0) {
        struct probe q = {l->s, l->len, 0, NULL};
        check_lookup(o3b_table_index(w->table), &q, port, &hit);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct world *w = world();
    struct line lines[MAX_LINES];
    struct o3b_target t;
    uint16_t port;
    size_t n;
    bool t_ok;

    if (size < 2)
        return 0;
    port = (uint16_t)((data[0] << 8) | data[1]);
    n = split_lines((const char *)data + 2, size - 2, lines);
    fuzz_raw_lookup(w, &lines[0], port);
    t_ok = fuzz_decisions(w, lines[0].s, lines[0].len, port, &t) == O3B_TARGET_OK;
    fuzz_patterns(w, lines, n, &t, t_ok, port);
    return 0;
}
