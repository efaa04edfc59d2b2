/* SPDX-License-Identifier: MIT */
/*
 * decide.c - one bypass decision: request target x table x policy.
 *
 * The order of the rules is documented in policy.h; this file is their
 * literal transcription, so the glue, the CLI's `lookup` and the PAC
 * exporter's self-check all get the same answer for the same input.  No
 * allocation, no lock: safe on the hot path.
 */
#include <stdio.h>
#include <string.h>

#include "o365bypass/policy.h"
#include "o365bypass/tenant.h"

/* The names and texts of O3B_REASONS (policy.h), by enum value. */
#define REASON_NAME(value, name, text) [value] = name,
#define REASON_TEXT(value, name, text) [value] = text,
static const char *const reason_names[O3B_R_COUNT] = {O3B_REASONS(REASON_NAME)};
static const char *const reason_texts[O3B_R_COUNT] = {O3B_REASONS(REASON_TEXT)};

const char *o3b_reason_name(enum o3b_reason r)
{
    return (unsigned)r < O3B_R_COUNT ? reason_names[r] : "?";
}

const char *o3b_reason_text(enum o3b_reason r)
{
    return (unsigned)r < O3B_R_COUNT ? reason_texts[r] : "?";
}

static void lookup(const o3b_index *ix, const struct o3b_target *t, uint16_t port,
                   struct o3b_hit *hit)
{
    if (t->kind == O3B_KIND_NAME)
        o3b_index_lookup_host(ix, t->host, t->host_len, port, hit);
    else
        o3b_index_lookup_addr(ix, t->kind == O3B_KIND_IPV4 ? O3B_AF_INET : O3B_AF_INET6, t->addr,
                              port, hit);
}

static void set_verdict(struct o3b_decision *d, enum o3b_verdict v, enum o3b_reason r)
{
    d->verdict = v;
    d->reason = r;
}

/* Rule 8 (tenant.h): names by the winning entry and the host's namespace,
   IP literals by whether the winning set carries pinned URLs. */
static bool tenant_allows(const struct o3b_policy *p, const struct o3b_target *t,
                          const struct o3b_decision *d)
{
    struct o3b_tenant_pins pins;

    if (p->n_tenants == 0 && p->n_domains == 0)
        return true;
    o3b_policy_tenant_pins(p, &pins);
    if (t->kind != O3B_KIND_NAME)
        return !o3b_tenant_set_pinned(d->set, &pins);
    return o3b_tenant_allows(d->entry, t->host, t->host_len, &pins);
}

/* Rules 5-8 on the table's winner. */
static void apply_policy(const struct o3b_policy *p, const struct o3b_target *t,
                         struct o3b_decision *d)
{
    enum o3b_reason set_reason = o3b_policy_set_reason(p, d->set);

    if (set_reason != O3B_R_TABLE)
        set_verdict(d, O3B_INSPECT, set_reason);
    else if (!tenant_allows(p, t, d))
        set_verdict(d, O3B_INSPECT, O3B_R_TENANT);
    else
        set_verdict(d, O3B_BYPASS, O3B_R_TABLE);
}

bool o3b_target_decrypted(const struct o3b_target *t)
{
    if (t->form == O3B_FORM_CONNECT)
        return false;
    return t->scheme == O3B_SCHEME_HTTPS || (t->scheme == O3B_SCHEME_HTTP && t->port == 443);
}

/* Rules 2 and 3: is the request bound to the destination it names? */
static bool tls_unbound(const struct o3b_policy *p, const struct o3b_target *t,
                        struct o3b_decision *d)
{
    if (t->sni_state == O3B_SNI_BAD ||
        (t->sni_state == O3B_SNI_OK && (t->kind != O3B_KIND_NAME || t->sni_len != t->host_len ||
                                        memcmp(t->sni, t->host, t->host_len) != 0))) {
        set_verdict(d, O3B_INSPECT, O3B_R_SNI_MISMATCH);
        return true;
    }
    if (o3b_target_decrypted(t) &&
        (p->decrypted != O3B_DECRYPTED_SNI_BOUND || t->sni_state != O3B_SNI_OK)) {
        set_verdict(d, O3B_INSPECT, O3B_R_DECRYPTED);
        if (p->decrypted == O3B_DECRYPTED_SNI_BOUND)
            d->detail = "no-sni";
        return true;
    }
    return false;
}

void o3b_decide(const o3b_table *table, const struct o3b_policy *p, const struct o3b_target *t,
                enum o3b_target_status st, struct o3b_decision *d)
{
    struct o3b_hit hit;

    memset(d, 0, sizeof *d);
    d->target_status = st;
    if (st != O3B_TARGET_OK) {
        set_verdict(d, O3B_INSPECT,
                    st == O3B_TARGET_HOST_MISMATCH ? O3B_R_MISMATCH : O3B_R_MALFORMED);
        return;
    }
    d->target = t;
    if (tls_unbound(p, t, d))
        return;
    if (p->never.ix != NULL) {
        lookup(p->never.ix, t, t->port, &hit);
        if (hit.best != NULL) {
            d->entry = hit.best;
            set_verdict(d, O3B_INSPECT, O3B_R_NEVER);
            return;
        }
    }
    if (p->also.ix != NULL) {
        lookup(p->also.ix, t, t->port, &hit);
        if (hit.best != NULL) {
            d->entry = hit.best;
            set_verdict(d, O3B_BYPASS, O3B_R_ALSO);
            return;
        }
    }
    if (table == NULL) {
        set_verdict(d, O3B_INSPECT, O3B_R_NOT_LISTED);
        return;
    }
    lookup(o3b_table_index(table), t, t->port, &hit);
    d->candidates = hit.candidates;
    if (hit.best == NULL) {
        d->entry = hit.listed;
        d->set = hit.listed ? o3b_table_set(table, hit.listed->payload) : NULL;
        set_verdict(d, O3B_INSPECT, hit.listed ? O3B_R_PORT : O3B_R_NOT_LISTED);
        return;
    }
    d->entry = hit.best;
    d->set = o3b_table_set(table, hit.best->payload);
    apply_policy(p, t, d);
}

/* A bounded appender: the decision header is built on every request, and
   snprintf's format parsing was a visible share of the per-request cost. */
struct out {
    char *buf;
    size_t size, used; /* used < size always: room for the NUL */
};

static void put(struct out *o, const char *s)
{
    while (*s != '\0' && o->used + 1 < o->size)
        o->buf[o->used++] = *s++;
    o->buf[o->used] = '\0';
}

static void put_uint(struct out *o, unsigned v)
{
    char digits[12];
    size_t n = sizeof digits - 1;

    digits[n] = '\0';
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, digits + n);
}

/* "; set=1; category=Optimize; area=Exchange" */
static void put_set(struct out *o, const struct o3b_set *s)
{
    put(o, "; set=");
    put_uint(o, s->id);
    put(o, "; category=");
    put(o, o3b_category_name(s->category));
    put(o, "; area=");
    put(o, s->area_name);
}

size_t o3b_decision_format(const struct o3b_decision *d, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    const char *match = d->entry ? d->entry->text : "-";

    if (size == 0)
        return 0;
    buf[0] = '\0';
    put(&o, d->verdict == O3B_BYPASS ? "bypass" : "inspect");
    if (d->verdict != O3B_BYPASS || d->set == NULL) {
        put(&o, "; reason=");
        put(&o, o3b_reason_name(d->reason));
    }
    if (d->verdict == O3B_INSPECT &&
        (d->reason == O3B_R_MALFORMED || d->reason == O3B_R_MISMATCH)) {
        put(&o, "; detail=");
        put(&o, o3b_target_status_name(d->target_status));
        return o.used;
    }
    if (d->reason == O3B_R_SNI_MISMATCH && d->target != NULL) {
        put(&o, "; sni=");
        put(&o, d->target->sni_state == O3B_SNI_OK ? d->target->sni : "invalid");
    }
    if (d->detail != NULL) {
        put(&o, "; detail=");
        put(&o, d->detail);
    }
    if (d->set != NULL)
        put_set(&o, d->set);
    if (d->set != NULL || d->entry != NULL || d->verdict == O3B_BYPASS) {
        put(&o, "; match=");
        put(&o, match);
    }
    return o.used;
}
