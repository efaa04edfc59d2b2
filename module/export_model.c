/* SPDX-License-Identifier: MIT */
/*
 * export_model.c - the verdict model every exporter reads (export.h).
 *
 * Rows: the entries of the table's index, NeverBypass and AlsoBypass, as
 * they are.  Port groups: the points where some table or AlsoBypass row's
 * port ranges start or end cut 1..65535 into intervals; intervals listed by
 * the same rows (o3b_index_entry_accepts) form one group, so o3b_decide()
 * answers alike for every port of a group.  Verdicts: for each row and
 * each group whose lowest port the row lists, o3b_decide() on a concrete
 * probe -- the pattern with each '*' filled (a few fills, in case one is
 * taken by a more specific pattern) or, for a prefix, its first addresses
 * and the address after each more specific prefix inside it (the first
 * address no nested prefix covers is always among them) -- and the row
 * wins there when the decision names that very entry.  So what a row means
 * is whatever decide.c and index.c say, never restated here.
 *
 * Probes of table rows see the policy minus its local lists (the writers
 * write those as rows of their own) and, for names, minus TenantName and
 * TenantDomain (pinning depends on the whole host: the writers express it
 * through tenant.h).  A few hundred rows times a handful of groups: the
 * model is built in milliseconds.
 */
#include "o365bypass/export.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/target.h"

struct o3b_export_model {
    const o3b_table *table;
    const struct o3b_policy *policy;
    struct o3b_policy host_view, ip_view, never_view, also_view; /* shallow, borrowed */
    struct o3b_export_row *rows;
    size_t n_rows;
    struct o3b_export_group *groups;
    size_t n_groups;
    struct o3b_port_range *ranges; /* every group's ranges, one slice each */
    bool *wins_on;                 /* n_rows * n_groups */
};

/* ---- probes ---------------------------------------------------------------------------- */

/* o3b_decide() for a CONNECT to `host` (name or IP literal) on `port`. */
static void decide_connect(const o3b_table *t, const struct o3b_policy *p, const char *host,
                           uint16_t port, struct o3b_decision *d)
{
    char text[2 * O3B_HOST_MAX + 16];
    struct o3b_target target;
    enum o3b_target_status st;

    snprintf(text, sizeof text, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
    st = o3b_target_parse_text(text, &target);
    o3b_decide(t, p, &target, st, d);
}

static const o3b_table *table_of(const o3b_export_model *m, const struct o3b_export_row *r)
{
    return r->source == O3B_EXPORT_TABLE ? m->table : NULL;
}

static const struct o3b_policy *view_of(const o3b_export_model *m, const struct o3b_export_row *r)
{
    if (r->source == O3B_EXPORT_NEVER)
        return &m->never_view;
    if (r->source == O3B_EXPORT_ALSO)
        return &m->also_view;
    return r->entry->kind == O3B_ENTRY_CIDR4 || r->entry->kind == O3B_ENTRY_CIDR6 ? &m->ip_view
                                                                                  : &m->host_view;
}

/* Does o3b_decide() answer `host` with row r's entry?  Its decision in d. */
static bool probe_hits(const o3b_export_model *m, const struct o3b_export_row *r, const char *host,
                       uint16_t port, struct o3b_decision *d)
{
    decide_connect(table_of(m, r), view_of(m, r), host, port, d);
    return d->entry == r->entry;
}

/* The pattern with every '*' replaced by `fill`. */
static bool fill_pattern(const char *pat, const char *fill, char *out, size_t size)
{
    size_t o = 0, flen = strlen(fill);

    for (const char *p = pat; *p; p++) {
        const char *s = *p == '*' ? fill : p;
        size_t n = *p == '*' ? flen : 1;
        if (o + n >= size)
            return false;
        memcpy(out + o, s, n);
        o += n;
    }
    out[o] = '\0';
    return true;
}

static bool probe_host_row(const o3b_export_model *m, const struct o3b_export_row *r, uint16_t port,
                           struct o3b_decision *d)
{
    static const char *const fills[] = {"o3b-probe", "o3b-probe.o3b-probe", "x"};
    char host[2 * O3B_HOST_MAX];

    if (r->entry->kind == O3B_ENTRY_EXACT)
        return probe_hits(m, r, r->entry->text, port, d);
    for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++)
        if (fill_pattern(r->entry->text, fills[i], host, sizeof host) &&
            probe_hits(m, r, host, port, d))
            return true;
    return false;
}

/* addr + 1 (big-endian, `len` bytes); false when it wraps. */
static bool addr_next(uint8_t *addr, size_t len)
{
    for (size_t i = len; i-- > 0;)
        if (++addr[i] != 0)
            return true;
    return false;
}

/* The last address of a prefix. */
static void cidr_last(const struct o3b_cidr *c, uint8_t out[16])
{
    size_t bits = c->family == O3B_AF_INET ? 32 : 128;

    memcpy(out, c->addr, 16);
    for (size_t b = c->prefix; b < bits; b++)
        out[b / 8] |= (uint8_t)(0x80u >> (b % 8));
}

static bool probe_addr(const o3b_export_model *m, const struct o3b_export_row *r,
                       const uint8_t *addr, uint16_t port, struct o3b_decision *d)
{
    char text[64];

    if (!o3b_cidr_contains(&r->entry->cidr, r->entry->cidr.family, addr))
        return false;
    o3b_addr_format(r->entry->cidr.family, addr, text, sizeof text);
    return probe_hits(m, r, text, port, d);
}

/* A prefix row: its first, second and last addresses, then the address
   after each more specific prefix of the same index inside it. */
static bool probe_cidr_row(const o3b_export_model *m, const struct o3b_export_row *r, uint16_t port,
                           struct o3b_decision *d)
{
    const struct o3b_cidr *c = &r->entry->cidr;
    size_t len = c->family == O3B_AF_INET ? 4 : 16, n;
    const struct o3b_index_entry *v = o3b_index_entries(r->ix, &n);
    uint8_t a[16];

    memcpy(a, c->addr, 16);
    if (probe_addr(m, r, a, port, d) || (addr_next(a, len) && probe_addr(m, r, a, port, d)))
        return true;
    cidr_last(c, a);
    if (probe_addr(m, r, a, port, d))
        return true;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != r->entry->kind || v[i].cidr.prefix <= c->prefix ||
            !o3b_cidr_contains(c, c->family, v[i].cidr.addr))
            continue;
        cidr_last(&v[i].cidr, a);
        if (addr_next(a, len) && probe_addr(m, r, a, port, d))
            return true;
    }
    return false;
}

static bool probe_row(const o3b_export_model *m, const struct o3b_export_row *r, uint16_t port,
                      struct o3b_decision *d)
{
    if (r->entry->kind == O3B_ENTRY_CIDR4 || r->entry->kind == O3B_ENTRY_CIDR6)
        return probe_cidr_row(m, r, port, d);
    return probe_host_row(m, r, port, d);
}

/* ---- rows and views -------------------------------------------------------------------- */

/* Copies of the policy the probes decide with (they borrow its lists). */
static void make_views(o3b_export_model *m)
{
    static const struct o3b_hostlist none;

    m->ip_view = *m->policy;
    m->ip_view.never = none;
    m->ip_view.also = none;
    m->host_view = m->ip_view;
    m->host_view.n_tenants = 0;
    m->host_view.n_domains = 0;
    m->never_view = m->host_view;
    m->never_view.never = m->policy->never;
    m->also_view = m->host_view;
    m->also_view.also = m->policy->also;
}

static void add_rows(o3b_export_model *m, const o3b_index *ix, enum o3b_export_source source)
{
    size_t n = 0;
    const struct o3b_index_entry *v = ix ? o3b_index_entries(ix, &n) : NULL;

    for (size_t i = 0; i < n; i++) {
        struct o3b_export_row *r = &m->rows[m->n_rows++];
        memset(r, 0, sizeof *r);
        r->entry = &v[i];
        r->ix = ix;
        r->source = source;
        r->set = source == O3B_EXPORT_TABLE ? o3b_table_set(m->table, v[i].payload) : NULL;
        r->verdict = O3B_INSPECT;
    }
}

static size_t index_size(const o3b_index *ix)
{
    size_t n = 0;

    if (ix != NULL)
        o3b_index_entries(ix, &n);
    return n;
}

static int build_rows(o3b_export_model *m)
{
    const o3b_index *tix = m->table ? o3b_table_index(m->table) : NULL;
    size_t n = index_size(tix) + index_size(m->policy->never.ix) + index_size(m->policy->also.ix);

    m->rows = calloc(n ? n : 1, sizeof *m->rows);
    if (m->rows == NULL)
        return -1;
    add_rows(m, tix, O3B_EXPORT_TABLE);
    add_rows(m, m->policy->never.ix, O3B_EXPORT_NEVER);
    add_rows(m, m->policy->also.ix, O3B_EXPORT_ALSO);
    return 0;
}

/* ---- port groups ----------------------------------------------------------------------- */

/* Rows that split the ports: NeverBypass lists every port alike. */
static bool splits_ports(const struct o3b_export_row *r)
{
    return r->source != O3B_EXPORT_NEVER;
}

static int cmp_port(const void *a, const void *b)
{
    unsigned x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Where a row's port ranges start and end (1 and 65536 bound them all). */
static uint32_t *cut_points(const o3b_export_model *m, size_t *n_out)
{
    size_t n = 2, cap = 2;
    uint32_t *pts;

    for (size_t i = 0; i < m->n_rows; i++)
        cap += splits_ports(&m->rows[i]) ? 2u * m->rows[i].entry->n_ports : 0;
    pts = malloc(cap * sizeof *pts);
    if (pts == NULL)
        return NULL;
    pts[0] = 1;
    pts[1] = 65536;
    for (size_t i = 0; i < m->n_rows; i++) {
        const struct o3b_export_row *r = &m->rows[i];
        const struct o3b_port_range *pr = o3b_index_entry_ports(r->ix, r->entry);
        for (size_t k = 0; splits_ports(r) && k < r->entry->n_ports; k++) {
            pts[n++] = pr[k].lo;
            pts[n++] = (uint32_t)pr[k].hi + 1;
        }
    }
    qsort(pts, n, sizeof *pts, cmp_port);
    *n_out = 0;
    for (size_t i = 0; i < n; i++)
        if (*n_out == 0 || pts[*n_out - 1] != pts[i])
            pts[(*n_out)++] = pts[i];
    return pts;
}

/* Which rows list `port` (one flag per row); any? */
static bool listing(const o3b_export_model *m, uint16_t port, bool *flags)
{
    bool any = false;

    for (size_t i = 0; i < m->n_rows; i++) {
        const struct o3b_export_row *r = &m->rows[i];
        flags[i] = splits_ports(r) && o3b_index_entry_accepts(r->ix, r->entry, port);
        any = any || flags[i];
    }
    return any;
}

/* The group of the rows `flags` marks (`seen` holds each group's flags),
   a new one when no group has them. */
static size_t group_for(o3b_export_model *m, bool *seen, const bool *flags, uint16_t lo)
{
    size_t g = 0, size = m->n_rows * sizeof *flags;

    while (g < m->n_groups && memcmp(seen + g * m->n_rows, flags, size) != 0)
        g++;
    if (g == m->n_groups) {
        memcpy(seen + g * m->n_rows, flags, size);
        m->groups[m->n_groups++].port = lo;
    }
    return g;
}

/* Lay the intervals out as each group's ascending ranges (adjacent ones
   joined).  gid[k] is interval k's group, SIZE_MAX for none. */
static void lay_out_ranges(o3b_export_model *m, const uint32_t *pts, const size_t *gid, size_t n_iv)
{
    size_t used = 0;

    for (size_t g = 0; g < m->n_groups; g++) {
        struct o3b_port_range *rr = &m->ranges[used];
        size_t n = 0;
        for (size_t k = 0; k < n_iv; k++) {
            uint16_t lo = (uint16_t)pts[k], hi = (uint16_t)(pts[k + 1] - 1);
            if (gid[k] != g)
                continue;
            if (n > 0 && (uint32_t)rr[n - 1].hi + 1 == lo)
                rr[n - 1].hi = hi;
            else
                rr[n++] = (struct o3b_port_range){lo, hi};
        }
        m->groups[g].ranges = rr;
        m->groups[g].n_ranges = n;
        used += n;
    }
}

static int build_groups(o3b_export_model *m)
{
    size_t n_pts, n_iv, *gid;
    uint32_t *pts = cut_points(m, &n_pts);
    bool *flags, *seen;
    int rc = -1;

    if (pts == NULL)
        return -1;
    n_iv = n_pts - 1;
    m->groups = calloc(n_iv, sizeof *m->groups);
    m->ranges = calloc(n_iv, sizeof *m->ranges);
    gid = calloc(n_iv, sizeof *gid);
    flags = calloc(m->n_rows + 1, sizeof *flags);
    seen = calloc((m->n_rows + 1) * n_iv, sizeof *seen);
    if (m->groups != NULL && m->ranges != NULL && gid != NULL && flags != NULL && seen != NULL) {
        for (size_t k = 0; k < n_iv; k++)
            gid[k] = listing(m, (uint16_t)pts[k], flags)
                         ? group_for(m, seen, flags, (uint16_t)pts[k])
                         : SIZE_MAX;
        lay_out_ranges(m, pts, gid, n_iv);
        rc = 0;
    }
    free(pts);
    free(gid);
    free(flags);
    free(seen);
    return rc;
}

/* ---- build ----------------------------------------------------------------------------- */

/* Probe every row on every group whose port it lists. */
static void decide_rows(o3b_export_model *m)
{
    for (size_t i = 0; i < m->n_rows; i++) {
        struct o3b_export_row *r = &m->rows[i];
        for (size_t g = 0; g < m->n_groups; g++) {
            struct o3b_decision d;
            uint16_t port = m->groups[g].port;
            if (!o3b_index_entry_accepts(r->ix, r->entry, port) || !probe_row(m, r, port, &d))
                continue;
            m->wins_on[i * m->n_groups + g] = true;
            r->wins = true;
            r->verdict = d.verdict;
            r->reason = d.reason;
        }
    }
}

o3b_export_model *o3b_export_model_build(const o3b_table *table, const struct o3b_policy *policy,
                                         o3b_err *err)
{
    o3b_export_model *m = calloc(1, sizeof *m);

    if (m == NULL)
        goto oom;
    m->table = table;
    m->policy = policy;
    make_views(m);
    if (build_rows(m) != 0 || build_groups(m) != 0)
        goto oom;
    m->wins_on = calloc(m->n_rows * m->n_groups + 1, sizeof *m->wins_on);
    if (m->wins_on == NULL)
        goto oom;
    decide_rows(m);
    return m;
oom:
    o3b_export_model_free(&m);
    o3b_err_set(err, "out of memory");
    return NULL;
}

void o3b_export_model_free(o3b_export_model **m)
{
    if (m == NULL || *m == NULL)
        return;
    free((*m)->rows);
    free((*m)->groups);
    free((*m)->ranges);
    free((*m)->wins_on);
    free(*m);
    *m = NULL;
}

/* ---- reading --------------------------------------------------------------------------- */

const o3b_table *o3b_export_model_table(const o3b_export_model *m)
{
    return m->table;
}

const struct o3b_policy *o3b_export_model_policy(const o3b_export_model *m)
{
    return m->policy;
}

const struct o3b_export_row *o3b_export_model_rows(const o3b_export_model *m, size_t *n)
{
    *n = m->n_rows;
    return m->rows;
}

const struct o3b_export_group *o3b_export_model_groups(const o3b_export_model *m, size_t *n)
{
    *n = m->n_groups;
    return m->groups;
}

bool o3b_export_model_wins_on(const o3b_export_model *m, size_t row, size_t group)
{
    return row < m->n_rows && group < m->n_groups && m->wins_on[row * m->n_groups + group];
}

const struct o3b_export_row *o3b_export_model_level(const o3b_export_model *m, size_t row,
                                                    size_t group)
{
    const struct o3b_export_row *r;

    if (row >= m->n_rows)
        return NULL;
    r = &m->rows[row];
    for (size_t i = 0; i < m->n_rows; i++) {
        const struct o3b_export_row *o = &m->rows[i];
        if (o->source == r->source && o->entry->kind == r->entry->kind &&
            strcmp(o->entry->text, r->entry->text) == 0 && o3b_export_model_wins_on(m, i, group))
            return o;
    }
    return NULL;
}

bool o3b_export_model_bypassed(const o3b_export_model *m, const char *host, uint16_t port)
{
    struct o3b_decision d;

    decide_connect(m->table, m->policy, host, port, &d);
    return d.verdict == O3B_BYPASS;
}
