/* SPDX-License-Identifier: MIT */
/*
 * export_squid.c - the Squid writer: per port group, ACL lists of what is
 * bypassed and what must still be inspected, a squid.conf snippet tying
 * them to their ports, and the static ssl_bump splice file.
 *
 * Every verdict comes from the model (export.h): a concrete host (exact
 * table hosts, apexes of exported suffixes, your tenant hosts) is decided by
 * o3b_decide() on the group's port; a pattern or CIDR by the row of its
 * level there (o3b_export_model_level).  Rows of no level on a group's
 * ports are left out of its lists: port first, they decide nothing there.
 * NeverBypass rows go to every group's inspect lists, AlsoBypass rows to the
 * bypass lists of the groups they win on.  Tenant pinning is two more lists
 * per group: the pinned namespaces under a bypassed wildcard (regexes,
 * "strictly below", from tenant.h) and your hosts in them (each decided by
 * o3b_decide()); a destination in the first and not in the second is
 * inspected.  Lists are collapsed (an entry covered by a kept ".suffix" or
 * a containing CIDR is dropped: Squid warns about those) and sorted.
 * Groups whose lists come out identical are merged into one port ACL;
 * groups that bypass nothing are left out.  Tables are small (hundreds of
 * entries), so the quadratic passes stay instant.
 *
 * What these lists do not express (also written in the files; each errs
 * on the side of inspection, and none occurs in Microsoft's real tables):
 * an inspect entry applies to all of its hosts, so a host won by an entry
 * more specific than an inspected one that itself lies under a bypassed one
 * (three levels: *.a bypassed, *.b.a not, *.c.b.a bypassed again) is
 * inspected, and so is a host AlsoBypass exempts under a more specific
 * table entry that is not bypassed; and the lists follow the table only
 * as often as they are exported again.
 */
#include "o365bypass/export.h"

#include <stdlib.h>
#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/tenant.h"

/* ---- string lists ---------------------------------------------------------------------- */

struct strlist {
    char **v;
    size_t n, cap;
};

struct squid_group {
    struct strlist list[O3B_SQUID_LIST_COUNT];
    struct o3b_port_range *ranges;
    size_t n_ranges;
    char label[128];
};

struct o3b_squid_export {
    struct squid_group *groups;
    size_t n_groups;
    char tag[40], version[32], instance[32];
    size_t n_sets;
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

static bool strlist_equal(const struct strlist *a, const struct strlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
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

/* ---- one group's lists: collecting ----------------------------------------------------- */

/* What building one group's lists needs, and its work lists. */
struct squid_work {
    const o3b_export_model *m;
    size_t g;                        /* the model's group */
    uint16_t port;                   /* its probe port */
    struct strlist *out;             /* the group's O3B_SQUID_LIST_COUNT lists */
    struct strlist exact, suffixes;  /* bypass candidates ("host", "suffix") */
    struct strlist inspect_hosts;    /* concrete hosts decided "inspect" */
    struct strlist inspect_patterns; /* non-bypassed table patterns */
    struct strlist inspect_cidrs;    /* non-bypassed table CIDRs */
    struct strlist globs;            /* bypassed glob patterns (for coverage) */
};

static bool is_host_kind(const struct o3b_index_entry *e)
{
    return e->kind == O3B_ENTRY_EXACT || e->kind == O3B_ENTRY_SUFFIX || e->kind == O3B_ENTRY_GLOB;
}

static bool bypassed(const struct squid_work *w, const char *host)
{
    return o3b_export_model_bypassed(w->m, host, w->port);
}

/* Is row i the first of its source with its kind and text (each text is
   handled once, by its level)? */
static bool first_with_text(const struct o3b_export_row *rows, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (rows[j].source == rows[i].source && rows[j].entry->kind == rows[i].entry->kind &&
            strcmp(rows[j].entry->text, rows[i].entry->text) == 0)
            return false;
    return true;
}

static int add_concrete_host(struct squid_work *w, const char *host)
{
    return strlist_add(bypassed(w, host) ? &w->exact : &w->inspect_hosts, host);
}

static int add_bypassed_pattern(struct squid_work *w, const struct o3b_index_entry *e)
{
    char re[2 * O3B_HOST_MAX + 8];

    if (e->kind == O3B_ENTRY_SUFFIX)
        return strlist_add(&w->suffixes, e->text + 2);
    glob_to_regex(e->text, re, sizeof re);
    if (strlist_add(&w->globs, e->text) != 0)
        return -1;
    return strlist_add(&w->out[O3B_SQUID_REGEX], re);
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

/* A table pattern or CIDR by the row of its level on the group's ports. */
static int collect_level(struct squid_work *w, size_t i)
{
    const struct o3b_export_row *lvl = o3b_export_model_level(w->m, i, w->g);
    const struct o3b_index_entry *e;

    if (lvl == NULL) /* port first: nothing of this text decides here */
        return 0;
    e = lvl->entry;
    if (is_host_kind(e))
        return lvl->verdict == O3B_BYPASS ? add_bypassed_pattern(w, e)
                                          : strlist_add(&w->inspect_patterns, e->text);
    return add_dst(lvl->verdict == O3B_BYPASS ? &w->out[O3B_SQUID_DST] : &w->inspect_cidrs,
                   e->text);
}

static int collect_rows(struct squid_work *w)
{
    size_t n;
    const struct o3b_export_row *rows = o3b_export_model_rows(w->m, &n);
    char re[2 * O3B_HOST_MAX + 8];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct o3b_index_entry *e = rows[i].entry;
        if (!first_with_text(rows, i))
            continue;
        if (rows[i].source == O3B_EXPORT_NEVER) { /* every port: straight to inspection */
            if (e->kind == O3B_ENTRY_EXACT) {
                rc = strlist_add(&w->out[O3B_SQUID_INSPECT_DOMAINS], e->text);
            } else if (is_host_kind(e)) {
                glob_to_regex(e->text, re, sizeof re);
                rc = strlist_add(&w->out[O3B_SQUID_INSPECT_REGEX], re);
            } else {
                rc = add_dst(&w->out[O3B_SQUID_INSPECT_DST], e->text);
            }
        } else if (rows[i].source == O3B_EXPORT_ALSO) {
            if (!o3b_export_model_wins_on(w->m, i, w->g) || rows[i].verdict != O3B_BYPASS)
                continue;
            if (e->kind == O3B_ENTRY_EXACT)
                rc = strlist_add(&w->exact, e->text);
            else
                rc = is_host_kind(e) ? add_bypassed_pattern(w, e)
                                     : add_dst(&w->out[O3B_SQUID_DST], e->text);
        } else {
            rc = e->kind == O3B_ENTRY_EXACT ? add_concrete_host(w, e->text) : collect_level(w, i);
        }
    }
    return rc;
}

/* ---- one group's lists: tenant pinning ------------------------------------------------- */

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
static int add_pinned_ns(struct squid_work *w, const char *ns)
{
    char re[2 * O3B_HOST_MAX + 8] = "\\.";
    size_t o = regex_put(re, 2, sizeof re - 1, ns, strlen(ns));

    re[o++] = '$';
    re[o] = '\0';
    return strlist_add(&w->out[O3B_SQUID_PINNED], re);
}

/* One of your hosts `head` + "." + ns (DNSSEC MX: with any one zone label in
   between), when o3b_decide() bypasses it. */
static int add_own_host(struct squid_work *w, const char *head, const char *ns, bool zoned)
{
    char host[2 * O3B_HOST_MAX + 16], norm[O3B_HOST_MAX + 1], re[4 * O3B_HOST_MAX + 40];
    size_t nlen, o;

    snprintf(host, sizeof host, "%s%s.%s", head, zoned ? ".z-v1" : "", ns);
    if (o3b_host_normalize(host, strlen(host), norm, &nlen) != O3B_HOST_OK || !bypassed(w, norm))
        return 0;
    re[0] = '^';
    o = regex_put(re, 1, sizeof re, head, strlen(head));
    if (zoned)
        o += (size_t)snprintf(re + o, sizeof re - o, "(\\.[a-z0-9-]+)?");
    o = regex_put(re, o, sizeof re, ".", 1);
    o = regex_put(re, o, sizeof re, ns, strlen(ns));
    snprintf(re + o, sizeof re - o, "$");
    return strlist_add(&w->out[O3B_SQUID_PINNED_OWN], re);
}

/* Your names in every form under `ns`, after the pattern's literal labels. */
static int add_own_hosts(struct squid_work *w, const struct o3b_index_entry *e, const char *ns,
                         enum o3b_tenant_ns kind)
{
    const struct o3b_policy *p = o3b_export_model_policy(w->m);
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
            rc = add_own_host(w, head, ns, false);
            if (rc == 0 && kind == O3B_TENANT_MX_ZONED)
                rc = add_own_host(w, head, ns, true);
        }
    return rc;
}

/* A bypassed table wildcard: the active namespaces it reaches are pinned. */
static int pin_pattern(struct squid_work *w, const struct o3b_tenant_pins *pins,
                       const struct o3b_index_entry *e)
{
    int rc = 0;

    for (size_t k = 0; rc == 0 && k < o3b_tenant_namespace_count(); k++) {
        enum o3b_tenant_ns kind;
        const char *ns = o3b_tenant_namespace_at(k, &kind);
        if (!o3b_tenant_pinning_on(pins, kind) ||
            !o3b_tenant_pattern_reaches(e->text, e->text_len, ns))
            continue;
        rc = add_pinned_ns(w, ns);
        if (rc == 0)
            rc = add_own_hosts(w, e, ns, kind);
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
static int add_own_unpinned(struct squid_work *w, const struct o3b_tenant_pins *pins)
{
    size_t n;
    const struct o3b_export_row *rows = o3b_export_model_rows(w->m, &n);
    char re[2 * O3B_HOST_MAX + 8];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->exact.n; i++)
        if (in_pinned_namespace(pins, w->exact.v[i])) {
            glob_to_regex(w->exact.v[i], re, sizeof re);
            rc = strlist_add(&w->out[O3B_SQUID_PINNED_OWN], re);
        }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (rows[i].source == O3B_EXPORT_ALSO && o3b_export_model_wins_on(w->m, i, w->g) &&
            (rows[i].entry->kind == O3B_ENTRY_SUFFIX || rows[i].entry->kind == O3B_ENTRY_GLOB)) {
            glob_to_regex(rows[i].entry->text, re, sizeof re);
            rc = strlist_add(&w->out[O3B_SQUID_PINNED_OWN], re);
        }
    return rc;
}

/* Tenant pinning (tenant.h) as two lists: the pinned namespaces under a
   bypassed wildcard, and your hosts in them. */
static int collect_pins(struct squid_work *w)
{
    struct o3b_tenant_pins pins;
    size_t n;
    const struct o3b_export_row *rows = o3b_export_model_rows(w->m, &n);
    int rc = 0;

    o3b_policy_tenant_pins(o3b_export_model_policy(w->m), &pins);
    if (pins.n_tenants == 0 && pins.n_mx_labels == 0)
        return 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct o3b_export_row *lvl;
        if (rows[i].source != O3B_EXPORT_TABLE ||
            (rows[i].entry->kind != O3B_ENTRY_SUFFIX && rows[i].entry->kind != O3B_ENTRY_GLOB) ||
            !first_with_text(rows, i))
            continue;
        lvl = o3b_export_model_level(w->m, i, w->g);
        if (lvl != NULL && lvl->verdict == O3B_BYPASS)
            rc = pin_pattern(w, &pins, lvl->entry);
    }
    if (rc == 0 && w->out[O3B_SQUID_PINNED].n > 0)
        rc = add_own_unpinned(w, &pins);
    return rc;
}

/* ---- one group's lists: collapsing and the inspect lists ------------------------------- */

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
static int write_domains(struct squid_work *w, const struct strlist *kept)
{
    struct strlist *out = &w->out[O3B_SQUID_DOMAINS];
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
static int write_inspect_hosts(struct squid_work *w, const struct strlist *kept)
{
    struct strlist *out = &w->out[O3B_SQUID_INSPECT_DOMAINS];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < kept->n; i++)
        if (!bypassed(w, kept->v[i]))
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
static int write_inspect_patterns(struct squid_work *w, const struct strlist *kept)
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
            rc = strlist_add(&w->out[O3B_SQUID_INSPECT_REGEX], re);
            break;
        }
    }
    return rc;
}

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
static int write_inspect_cidrs(struct squid_work *w)
{
    const struct strlist *dst = &w->out[O3B_SQUID_DST];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < w->inspect_cidrs.n; i++) {
        struct o3b_cidr c, k;
        if (!cidr_of(w->inspect_cidrs.v[i], &c))
            continue;
        for (size_t j = 0; j < dst->n; j++)
            if (cidr_of(dst->v[j], &k) && cidr_covers(&k, &c) && k.prefix < c.prefix) {
                rc = strlist_add(&w->out[O3B_SQUID_INSPECT_DST], w->inspect_cidrs.v[i]);
                break;
            }
    }
    return rc;
}

static void squid_work_free(struct squid_work *w)
{
    strlist_free(&w->exact);
    strlist_free(&w->suffixes);
    strlist_free(&w->inspect_hosts);
    strlist_free(&w->inspect_patterns);
    strlist_free(&w->inspect_cidrs);
    strlist_free(&w->globs);
}

/* Every list of model group `g` into `out`. */
static int fill_group(const o3b_export_model *m, size_t g, struct strlist *out)
{
    size_t n_groups;
    const struct o3b_export_group *groups = o3b_export_model_groups(m, &n_groups);
    struct squid_work w = {.m = m, .g = g, .port = groups[g].port, .out = out};
    struct strlist kept = {0};
    int rc;

    rc = collect_rows(&w);
    if (rc == 0)
        rc = collect_pins(&w);
    if (rc == 0)
        rc = collapse_suffixes(&w.suffixes, &kept);
    if (rc == 0)
        rc = write_domains(&w, &kept);
    if (rc == 0)
        rc = write_inspect_hosts(&w, &kept);
    if (rc == 0)
        rc = write_inspect_patterns(&w, &kept);
    if (rc == 0)
        rc = collapse_cidrs(&out[O3B_SQUID_DST]);
    if (rc == 0)
        rc = write_inspect_cidrs(&w);
    if (rc == 0)
        rc = collapse_cidrs(&out[O3B_SQUID_INSPECT_DST]);
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        if (l != O3B_SQUID_DST && l != O3B_SQUID_INSPECT_DST)
            strlist_sort(&out[l]);
    strlist_free(&kept);
    squid_work_free(&w);
    return rc;
}

/* ---- groups: build, merge, free, read -------------------------------------------------- */

static void group_free(struct squid_group *grp)
{
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        strlist_free(&grp->list[l]);
    free(grp->ranges);
    grp->ranges = NULL;
}

static bool bypasses_anything(const struct squid_group *grp)
{
    return grp->list[O3B_SQUID_DOMAINS].n + grp->list[O3B_SQUID_REGEX].n +
               grp->list[O3B_SQUID_DST].n >
           0;
}

static bool same_lists(const struct squid_group *a, const struct squid_group *b)
{
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++)
        if (!strlist_equal(&a->list[l], &b->list[l]))
            return false;
    return true;
}

static int cmp_range(const void *a, const void *b)
{
    const struct o3b_port_range *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Add the ports to a kept group (sorted, adjacent ranges joined). */
static int add_ports(struct squid_group *grp, const struct o3b_port_range *r, size_t n)
{
    struct o3b_port_range *v = realloc(grp->ranges, (grp->n_ranges + n) * sizeof *v);
    size_t k = 0;

    if (v == NULL)
        return -1;
    memcpy(v + grp->n_ranges, r, n * sizeof *v);
    grp->ranges = v;
    grp->n_ranges += n;
    qsort(v, grp->n_ranges, sizeof *v, cmp_range);
    for (size_t i = 1; i < grp->n_ranges; i++) {
        if ((uint32_t)v[k].hi + 1 >= v[i].lo)
            v[k].hi = v[i].hi > v[k].hi ? v[i].hi : v[k].hi;
        else
            v[++k] = v[i];
    }
    grp->n_ranges = k + 1;
    return 0;
}

/* "443", "143_587_993_995", "3478-3481" */
static void group_label(struct squid_group *grp)
{
    size_t o = 0;

    grp->label[0] = '\0';
    for (size_t i = 0; i < grp->n_ranges && o + 16 < sizeof grp->label; i++) {
        const struct o3b_port_range *r = &grp->ranges[i];
        o += (size_t)snprintf(grp->label + o, sizeof grp->label - o, "%s%u", i ? "_" : "",
                              (unsigned)r->lo);
        if (r->hi != r->lo)
            o += (size_t)snprintf(grp->label + o, sizeof grp->label - o, "-%u", (unsigned)r->hi);
    }
}

/* Build model group g's lists and keep them: merged into a kept group with
   the same lists, or as a new group (when they bypass anything). */
static int keep_group(o3b_squid_export *x, const o3b_export_model *m, size_t g)
{
    size_t n;
    const struct o3b_export_group *mg = &o3b_export_model_groups(m, &n)[g];
    struct squid_group grp;
    int rc;

    memset(&grp, 0, sizeof grp);
    rc = fill_group(m, g, grp.list);
    for (size_t k = 0; rc == 0 && k < x->n_groups; k++)
        if (same_lists(&x->groups[k], &grp)) {
            rc = add_ports(&x->groups[k], mg->ranges, mg->n_ranges);
            group_free(&grp);
            return rc;
        }
    if (rc == 0 && bypasses_anything(&grp)) {
        rc = add_ports(&grp, mg->ranges, mg->n_ranges);
        if (rc == 0) {
            x->groups[x->n_groups++] = grp;
            return 0;
        }
    }
    group_free(&grp);
    return rc;
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

o3b_squid_export *o3b_squid_export_build(const o3b_export_model *m, o3b_err *err)
{
    size_t n_groups;
    o3b_squid_export *x = calloc(1, sizeof *x);

    o3b_export_model_groups(m, &n_groups);
    if (x == NULL || (x->groups = calloc(n_groups + 1, sizeof *x->groups)) == NULL)
        goto oom;
    squid_meta(x, o3b_export_model_table(m));
    for (size_t g = 0; g < n_groups; g++)
        if (keep_group(x, m, g) != 0)
            goto oom;
    for (size_t g = 0; g < x->n_groups; g++)
        group_label(&x->groups[g]);
    return x;
oom:
    o3b_squid_export_free(&x);
    o3b_err_set(err, "out of memory");
    return NULL;
}

void o3b_squid_export_free(o3b_squid_export **x)
{
    if (x == NULL || *x == NULL)
        return;
    for (size_t g = 0; g < (*x)->n_groups; g++)
        group_free(&(*x)->groups[g]);
    free((*x)->groups);
    free(*x);
    *x = NULL;
}

size_t o3b_squid_export_groups(const o3b_squid_export *x)
{
    return x->n_groups;
}

size_t o3b_squid_export_group_of(const o3b_squid_export *x, uint16_t port)
{
    for (size_t g = 0; g < x->n_groups; g++)
        if (o3b_ports_contain(x->groups[g].ranges, x->groups[g].n_ranges, port))
            return g;
    return SIZE_MAX;
}

const char *o3b_squid_export_group_label(const o3b_squid_export *x, size_t g)
{
    return g < x->n_groups ? x->groups[g].label : "?";
}

size_t o3b_squid_export_count(const o3b_squid_export *x, size_t g, enum o3b_squid_list l)
{
    return g < x->n_groups && (unsigned)l < O3B_SQUID_LIST_COUNT ? x->groups[g].list[l].n : 0;
}

const char *o3b_squid_export_item(const o3b_squid_export *x, size_t g, enum o3b_squid_list l,
                                  size_t i)
{
    if (i >= o3b_squid_export_count(x, g, l))
        return NULL;
    return x->groups[g].list[l].v[i];
}

/* ---- writing: the list files ----------------------------------------------------------- */

/* Per list: file name part, ACL name part, the ACL type and its ssl::
   counterpart for the TLS file (NULL: the TLS file reuses the dst ACL). */
static const struct squid_file {
    const char *file, *acl, *type, *tls_type, *what;
} squid_files[O3B_SQUID_LIST_COUNT] = {
    [O3B_SQUID_DOMAINS] = {"domains", "domains", "dstdomain -n", "ssl::server_name",
                           "bypassed hosts and domains (\".a.com\" is a.com and below)"},
    [O3B_SQUID_REGEX] = {"domains-regex", "domains_regex", "dstdom_regex -n -i",
                         "ssl::server_name_regex -i",
                         "bypassed patterns dstdomain cannot express ('*' inside)"},
    [O3B_SQUID_DST] = {"dst", "dst", "dst -n", NULL, "bypassed IPv4 and IPv6 prefixes"},
    [O3B_SQUID_INSPECT_DOMAINS] = {"inspect-domains", "inspect_domains", "dstdomain -n",
                                   "ssl::server_name",
                                   "hosts to inspect although a bypassed domain covers them"},
    [O3B_SQUID_INSPECT_REGEX] = {"inspect-regex", "inspect_regex", "dstdom_regex -n -i",
                                 "ssl::server_name_regex -i",
                                 "patterns to inspect although a bypassed domain covers them"},
    [O3B_SQUID_INSPECT_DST] = {"inspect-dst", "inspect_dst", "dst -n", NULL,
                               "prefixes to inspect although a bypassed prefix covers them"},
    [O3B_SQUID_PINNED] = {"pinned-regex", "pinned_ns", "dstdom_regex -n -i",
                          "ssl::server_name_regex -i",
                          "tenant namespaces pinned to your TenantName / TenantDomain names "
                          "(hosts strictly below them are inspected unless they are yours)"},
    [O3B_SQUID_PINNED_OWN] = {"pinned-own-regex", "pinned_own", "dstdom_regex -n -i",
                              "ssl::server_name_regex -i",
                              "your hosts in the pinned tenant namespaces"},
};

/* What every file says about what Squid's ACLs cannot express exactly. */
static const char squid_approximations[] =
    "# Not expressed here (inspected, where the module bypasses): a host won by an\n"
    "# entry more specific than a non-bypassed one under a bypassed one (three\n"
    "# levels of nesting), and AlsoBypass over a more specific non-bypassed table\n"
    "# entry.  The lists change only when exported again (then squid -k\n"
    "# reconfigure); the module follows the live table.\n";

char *o3b_squid_file_name(const o3b_squid_export *x, size_t g, enum o3b_squid_list l, char *buf,
                          size_t size)
{
    snprintf(buf, size, "o365bypass-%s-%s.txt", o3b_squid_export_group_label(x, g),
             (unsigned)l < O3B_SQUID_LIST_COUNT ? squid_files[l].file : "?");
    return buf;
}

/* The group's ports as Squid's port ACL takes them: "143 587 993 995", "3478-3481". */
static void ports_text(const struct squid_group *grp, char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < grp->n_ranges && o + 16 < size; i++) {
        const struct o3b_port_range *r = &grp->ranges[i];
        o += (size_t)snprintf(buf + o, size - o, "%s%u", i ? " " : "", (unsigned)r->lo);
        if (r->hi != r->lo)
            o += (size_t)snprintf(buf + o, size - o, "-%u", (unsigned)r->hi);
    }
}

int o3b_squid_export_write(const o3b_squid_export *x, size_t g, enum o3b_squid_list l, FILE *out)
{
    const struct squid_group *grp;
    char name[160], ports[512];

    if (g >= x->n_groups || (unsigned)l >= O3B_SQUID_LIST_COUNT)
        return -1;
    grp = &x->groups[g];
    ports_text(grp, ports, sizeof ports);
    fprintf(out, "# %s - %s, TCP ports %s.\n", o3b_squid_file_name(x, g, l, name, sizeof name),
            squid_files[l].what, ports);
    fprintf(out,
            "# Generated by o365bypass from table %s (version %s, instance %s); "
            "do not edit.\n",
            x->tag, x->version[0] ? x->version : "none", x->instance[0] ? x->instance : "unknown");
    if (squid_files[l].tls_type != NULL)
        fprintf(out, "# Read by %s and, in %s, by %s.\n", squid_files[l].type, O3B_SQUID_TLS_FILE,
                squid_files[l].tls_type);
    fputs(squid_approximations, out);
    for (size_t i = 0; i < grp->list[l].n; i++)
        fprintf(out, "%s\n", grp->list[l].v[i]);
    return ferror(out) ? -1 : 0;
}

/* ---- writing: the snippet and the TLS file --------------------------------------------- */

/* ACL names of a group's lists: "o365bypass_443_domains" (http) or
   "o365bypass_443_sni_domains" (tls; dst lists keep their http ACL). */
static void acl_name(const o3b_squid_export *x, size_t g, enum o3b_squid_list l, bool tls,
                     char *buf, size_t size)
{
    bool sni = tls && squid_files[l].tls_type != NULL;

    snprintf(buf, size, "o365bypass_%s_%s%s", x->groups[g].label, sni ? "sni_" : "",
             squid_files[l].acl);
}

static void conf_list_acls(const o3b_squid_export *x, size_t g, const char *dir, bool tls,
                           FILE *out)
{
    char name[200], file[160];

    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++) {
        const char *type = tls ? squid_files[l].tls_type : squid_files[l].type;
        if (type == NULL)
            continue;
        acl_name(x, g, (enum o3b_squid_list)l, tls, name, sizeof name);
        if (x->groups[g].list[l].n == 0)
            fputs("# (empty, left out: Squid warns about empty ACLs)\n# ", out);
        fprintf(out, "acl %s %s \"%s/%s\"\n", name, type, dir,
                o3b_squid_file_name(x, g, (enum o3b_squid_list)l, file, sizeof file));
    }
}

/* "acl NAME any-of" over the group's non-empty lists in [from, to) and
   `extra` (another ACL, or NULL); false when there is nothing to name. */
static bool conf_any_of(const o3b_squid_export *x, size_t g, bool tls, const char *name, int from,
                        int to, const char *extra, FILE *out)
{
    char acl[200];
    bool any = extra != NULL;

    for (int l = from; l < to; l++)
        any = any || x->groups[g].list[l].n > 0;
    if (!any)
        return false;
    fprintf(out, "acl %s any-of", name);
    for (int l = from; l < to; l++)
        if (x->groups[g].list[l].n > 0) {
            acl_name(x, g, (enum o3b_squid_list)l, tls, acl, sizeof acl);
            fprintf(out, " %s", acl);
        }
    if (extra != NULL)
        fprintf(out, " %s", extra);
    fputc('\n', out);
    return true;
}

/* One group: its lists, then NAME_listed and (when it has any) NAME_inspect. */
static void conf_group(const o3b_squid_export *x, size_t g, const char *dir, bool tls, FILE *out)
{
    const struct squid_group *grp = &x->groups[g];
    const char *mid = tls ? "_tls" : "";
    char ns[200], own[200], pinned[200], listed[200], inspect[200], ports[512];

    ports_text(grp, ports, sizeof ports);
    fprintf(out, "\n# TCP ports %s\n", ports);
    if (!tls)
        fprintf(out, "acl o365bypass_%s_port port %s\n", grp->label, ports);
    conf_list_acls(x, g, dir, tls, out);
    snprintf(pinned, sizeof pinned, "o365bypass_%s%s_pinned", grp->label, mid);
    if (grp->list[O3B_SQUID_PINNED].n > 0) {
        acl_name(x, g, O3B_SQUID_PINNED, tls, ns, sizeof ns);
        acl_name(x, g, O3B_SQUID_PINNED_OWN, tls, own, sizeof own);
        fprintf(out, "acl %s all-of %s%s%s\n", pinned, ns,
                grp->list[O3B_SQUID_PINNED_OWN].n ? " !" : "",
                grp->list[O3B_SQUID_PINNED_OWN].n ? own : "");
    }
    snprintf(listed, sizeof listed, "o365bypass_%s%s_listed", grp->label, mid);
    snprintf(inspect, sizeof inspect, "o365bypass_%s%s_inspect", grp->label, mid);
    conf_any_of(x, g, tls, listed, O3B_SQUID_DOMAINS, O3B_SQUID_INSPECT_DOMAINS, NULL, out);
    conf_any_of(x, g, tls, inspect, O3B_SQUID_INSPECT_DOMAINS, O3B_SQUID_PINNED,
                grp->list[O3B_SQUID_PINNED].n ? pinned : NULL, out);
}

/* Has the group anything to inspect although listed (conf_group's NAME_inspect)? */
static bool group_inspects(const struct squid_group *grp)
{
    for (int l = O3B_SQUID_INSPECT_DOMAINS; l <= O3B_SQUID_PINNED; l++)
        if (grp->list[l].n > 0)
            return true;
    return false;
}

/* Every group, then `name` (listed on the group's ports, the groups ORed)
   and `name`_inspect. */
static void conf_groups(const o3b_squid_export *x, const char *dir, bool tls, const char *name,
                        FILE *out)
{
    const char *mid = tls ? "_tls" : "";
    bool any_inspect = false;

    for (size_t g = 0; g < x->n_groups; g++) {
        conf_group(x, g, dir, tls, out);
        any_inspect = any_inspect || group_inspects(&x->groups[g]);
    }
    fputs("\n# Listed on its ports (the groups ORed), and to inspect although listed.\n", out);
    if (x->n_groups == 0)
        fprintf(out, "acl %s %s %s.invalid\n", name, tls ? "ssl::server_name" : "dstdomain", name);
    for (size_t g = 0; g < x->n_groups; g++)
        fprintf(out, "acl %s all-of o365bypass_%s_port o365bypass_%s%s_listed\n", name,
                x->groups[g].label, x->groups[g].label, mid);
    for (size_t g = 0; g < x->n_groups; g++)
        if (group_inspects(&x->groups[g]))
            fprintf(out, "acl %s_inspect all-of o365bypass_%s_port o365bypass_%s%s_inspect\n", name,
                    x->groups[g].label, x->groups[g].label, mid);
    if (!tls)
        fprintf(out, "acl %s_inspect all-of o365bypass_decrypted\n", name);
    else if (!any_inspect)
        fprintf(out, "acl %s_inspect ssl::server_name %s-inspect.invalid\n", name, name);
}

/* Rule 3 of policy.h in Squid's terms: a request that is not a CONNECT but
   an https URL, or plain http to port 443, was decrypted. */
static const char squid_decrypted[] =
    "\n# Decrypted requests (ssl-bump, https_port, GET https://...; plain http to\n"
    "# port 443): their Host is whatever the client wrote inside the tunnel, so\n"
    "# they are inspected whatever the lists say, as the module does.\n"
    "acl o365bypass_connect method CONNECT\n"
    "acl o365bypass_https proto HTTPS\n"
    "acl o365bypass_port443 port 443\n"
    "acl o365bypass_decrypted all-of !o365bypass_connect o365bypass_https\n"
    "acl o365bypass_decrypted all-of !o365bypass_connect o365bypass_port443\n";

static void conf_header(const o3b_squid_export *x, const char *what, FILE *out)
{
    fprintf(out,
            "# o365bypass %s for Squid: table %s (version %s, instance %s, %zu sets).\n"
            "# Generated by `o365bypass export squid`: do not edit, export again (and\n"
            "# squid -k reconfigure) when the table changes.  Per group of TCP ports:\n"
            "# bypassed when listed on its port and not in the inspect lists (more\n"
            "# specific entries of lower categories, bare apexes, NeverBypass, and with\n"
            "# TenantName / TenantDomain the hosts of other tenants).\n",
            what, x->tag, x->version[0] ? x->version : "none",
            x->instance[0] ? x->instance : "unknown", x->n_sets);
}

int o3b_squid_export_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out)
{
    conf_header(x, "ACLs", out);
    fputs("# dst -n / dstdomain -n: no DNS lookup of names, no reverse lookup of addresses.\n",
          out);
    fputs(squid_decrypted, out);
    conf_groups(x, abs_dir, false, "o365bypass", out);
    fprintf(out,
            "\n# Examples (use your own service, chain and port names):\n"
            "#   keep Microsoft 365 away from the inspection chain\n"
            "# adaptation_access dlp_chain deny o365bypass !o365bypass_inspect\n"
            "# adaptation_access dlp_chain allow all\n"
            "#   and do not decrypt it (static fallback: the module's own decision in\n"
            "#   squid-o365bypass-tls.conf follows the live table): after these lines,\n"
            "#   before your ssl_bump peek / bump lines\n"
            "# include %s/%s\n",
            abs_dir, O3B_SQUID_TLS_FILE);
    return ferror(out) ? -1 : 0;
}

int o3b_squid_export_tls_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out)
{
    conf_header(x, "ssl_bump splice (static fallback)", out);
    fputs("# Include after the ACL snippet (it uses its port and dst ACLs) and before\n"
          "# your own ssl_bump peek / bump lines.  At step 1 ssl::server_name is the\n"
          "# CONNECT host: the tunnel goes where the CONNECT named, never decide the\n"
          "# splice on the client's SNI alone.  The module's own decision (the\n"
          "# adaptation_service ACL of squid-o365bypass-tls.conf) or o365bypass-acl\n"
          "# follow the live table; this file only what it was exported from.\n",
          out);
    conf_groups(x, abs_dir, true, "o365bypass_tls", out);
    fputs("\nacl o365bypass_step1 at_step SslBump1\n"
          "ssl_bump splice o365bypass_step1 o365bypass_tls !o365bypass_tls_inspect\n",
          out);
    return ferror(out) ? -1 : 0;
}

/* ---- the format ------------------------------------------------------------------------ */

typedef int (*render_fn)(const o3b_squid_export *x, size_t g, int l, const char *dir, FILE *out);

/* One output: `name` NULL is the main one. */
static int emit(struct o3b_export_sink *s, const char *name, render_fn fn,
                const o3b_squid_export *x, size_t g, int l, o3b_err *err)
{
    FILE *out = s->open(s, name);
    int rc;

    if (out == NULL) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    rc = fn(x, g, l, s->dir, out);
    if (rc != 0)
        o3b_err_set(err, "write error");
    return s->close(s, out, err) != 0 ? -1 : rc;
}

static int render_list(const o3b_squid_export *x, size_t g, int l, const char *dir, FILE *out)
{
    (void)dir;
    return o3b_squid_export_write(x, g, (enum o3b_squid_list)l, out);
}

static int render_tls(const o3b_squid_export *x, size_t g, int l, const char *dir, FILE *out)
{
    (void)g;
    (void)l;
    return o3b_squid_export_tls_conf(x, dir, out);
}

static int render_conf(const o3b_squid_export *x, size_t g, int l, const char *dir, FILE *out)
{
    (void)g;
    (void)l;
    return o3b_squid_export_conf(x, dir, out);
}

static int write_squid(const struct o3b_export_args *a, struct o3b_export_sink *s, o3b_err *err)
{
    o3b_squid_export *x = o3b_squid_export_build(a->model, err);
    char name[160];
    int rc = x ? 0 : -1;

    for (size_t g = 0; rc == 0 && x && g < x->n_groups; g++)
        for (int l = 0; rc == 0 && l < O3B_SQUID_LIST_COUNT; l++)
            rc = emit(s, o3b_squid_file_name(x, g, (enum o3b_squid_list)l, name, sizeof name),
                      render_list, x, g, l, err);
    if (rc == 0)
        rc = emit(s, O3B_SQUID_TLS_FILE, render_tls, x, 0, 0, err);
    if (rc == 0)
        rc = emit(s, NULL, render_conf, x, 0, 0, err);
    o3b_squid_export_free(&x);
    return rc;
}

const struct o3b_export_format o3b_export_format_squid = {
    .name = "squid",
    .usage = "[--dir DIR] [-o FILE]",
    .help = "squid  Squid ACL files in DIR (default .), one set per group of TCP ports\n"
            "       (o365bypass-PORTS-KIND.txt): what is bypassed (domains, domains-regex,\n"
            "       dst), what must still be inspected although covered (inspect-domains,\n"
            "       inspect-regex, inspect-dst) and tenant pinning (pinned-regex,\n"
            "       pinned-own-regex); " O3B_SQUID_TLS_FILE ", the same lists as\n"
            "       ssl::server_name ACLs with the ssl_bump splice line (the static\n"
            "       fallback: export again and squid -k reconfigure on every table\n"
            "       change).  Prints the squid.conf snippet that loads them (-o FILE: into\n"
            "       FILE).\n",
    .options = NULL,
    .n_options = 0,
    .named_outputs = true,
    .write = write_squid,
};
