/* SPDX-License-Identifier: MIT */
/*
 * trust.h - what a new endpoint table may claim: outright refusals and the
 * grow guard.
 *
 * The module bypasses what its table says, so a poisoned or MITM'd feed is
 * the widest hole there is.  Two checks stand between a downloaded table
 * and the traffic, both pure code over finished tables:
 *
 * Outright refusals (o3b_trust_check_table; the loader runs it on every
 * table it builds, so a table holding one is invalid like a schema error):
 *   - a pattern whose literal tail (after the last '*', leading '.' removed)
 *     is itself a public suffix, ICANN or private section of the Public
 *     Suffix List: "*.co.uk", "*.github.io", "*.azurewebsites.net";
 *   - a pattern with a '*' inside the registrable domain: the whole labels
 *     after the last '*' are a public suffix ("*cdn.co.uk": the '*' would
 *     stand for other owners' domains).  libpsl counts the parent of a
 *     wildcard rule as a public suffix too ("*.compute.amazonaws.com" makes
 *     compute.amazonaws.com one);
 *   - an IPv4 prefix shorter than /12 or an IPv6 prefix shorter than /28,
 *     unless the table in use holds exactly that prefix (no table in use, as
 *     at start-up: no exception).  cidr.h refuses /0../7 and ::/0..15 anyway.
 *
 * The grow guard (o3b_grow_guard; the refresher runs it after the shrink
 * guard and holds a table back as pending when it finds anything): what the
 * new table bypasses under the configured policy (o3b_policy_allows_set)
 * must not grow beyond what the table in use bypasses:
 *   (a) domain:   a bypassed entry's registrable domain that no bypassed
 *                 entry of the table in use has and that is not in the fixed
 *                 list of Microsoft's domains (o3b_trust_microsoft_domain);
 *   (b) prefix:   a bypassed prefix not inside a prefix the table in use
 *                 bypasses;
 *   (c) category: a host pattern the table in use does not bypass, in a set
 *                 that the policy bypasses now and did not before: an
 *                 existing set id raised into a bypassed category (or made
 *                 required under RequiredOnly, or moved into a bypassed
 *                 service area), or a new set id.
 * A table in use without sets (an empty start) gives no baseline for (b)
 * and (c): only (a) is checked then, against the fixed list alone.
 *
 * Registrable domains and public suffixes come from libpsl's newest list
 * (psl_latest(): the built-in data or the system's publicsuffix file,
 * whichever is newer), loaded once per process.  Without any list every
 * pattern is refused (fail closed).  Thread-safe; the guard allocates
 * scratch memory (it runs at refresh time, never per request).
 */
#ifndef O365BYPASS_TRUST_H
#define O365BYPASS_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/errors.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"

#define O3B_TRUST_MIN_PREFIX4 12 /* shorter IPv4 prefixes are refused */
#define O3B_TRUST_MIN_PREFIX6 28 /* shorter IPv6 prefixes are refused */

/* ---- the Public Suffix List ------------------------------------------------ */

/* Where the list in use comes from, for logs and `show`: e.g. "libpsl 0.21.2,
   /usr/share/publicsuffix/public_suffix_list.dafsa", or "(none)". */
const char *o3b_psl_source(void);

/* Is the normalized host `name` itself a public suffix (any section)?  True
   when no list could be loaded. */
bool o3b_public_suffix(const char *name);

/* The registrable domain of the normalized host `name`: a pointer into
   `name`, or NULL when `name` is a public suffix (or no list is loaded). */
const char *o3b_registrable_domain(const char *name);

/* Is `domain` (a registrable domain) in the built-in list of Microsoft's
   domains?  Fixed in code: a feed cannot extend it. */
bool o3b_trust_microsoft_domain(const char *domain);

/* That list (sorted, static): its length in `*n`. */
const char *const *o3b_trust_microsoft_domains(size_t *n);

/* ---- outright refusals ------------------------------------------------------ */

/* One normalized pattern: refused when its literal tail is a public
   suffix, when a '*' lies inside its registrable domain, or (an exact
   name) when the name itself is a public suffix.  Returns 0, or -1 with
   `err` saying why. */
int o3b_trust_check_pattern(const char *pat, o3b_err *err);

/* Every entry of `t`; `in_use` (may be NULL) holds the short prefixes that
   are let through.  Returns 0, or -1 with `err` naming the set and entry
   ("set #3 (id 9): '*.co.uk': ..."). */
int o3b_trust_check_table(const o3b_table *t, const o3b_table *in_use, o3b_err *err);

/* ---- the grow guard -------------------------------------------------------- */

enum o3b_grow_kind {
    O3B_GROW_DOMAIN = 0, /* (a) a new registrable domain */
    O3B_GROW_PREFIX,     /* (b) a prefix outside the bypassed ones */
    O3B_GROW_CATEGORY    /* (c) a pattern moved into a bypassed set */
};

#define O3B_GROW_SHOWN 4 /* findings kept for the message */

struct o3b_grow_finding {
    enum o3b_grow_kind kind;
    uint32_t set_id; /* the set of the new table */
    char entry[64];  /* the entry, shortened when longer */
    char detail[64]; /* the domain; or "Default->Optimize", "new set" */
};

struct o3b_grow_report {
    size_t n;                                      /* findings in all */
    struct o3b_grow_finding shown[O3B_GROW_SHOWN]; /* the first few */
};

/* Short token: "domain", "prefix", "category". */
const char *o3b_grow_kind_name(enum o3b_grow_kind k);

/*
 * Compare `fresh` with `in_use` under `p`.  Returns the number of findings
 * (0: the table may go live; the report holds the first few), or -1 when
 * out of memory (treat as held back).  `in_use` NULL: no table to compare
 * with, 0.  `r` may be NULL.
 */
long o3b_grow_guard(const o3b_table *in_use, const o3b_table *fresh, const struct o3b_policy *p,
                    struct o3b_grow_report *r);

/*
 * The guard as the refresher runs it: true when `fresh` must be held back,
 * with `err` holding the one log line ("grow guard: held back (accept it
 * with o365bypass_accept), ...: 3 finding(s): set 990 domain
 * '*.amazonaws.com' (amazonaws.com); ...").  Out of memory holds back too.
 */
bool o3b_grow_guard_holds(const o3b_table *in_use, const o3b_table *fresh,
                          const struct o3b_policy *p, o3b_err *err);

/* The report as one line: "3 finding(s): set 990 domain '*.amazonaws.com'
   (amazonaws.com); ...".  Returns buf. */
char *o3b_grow_report_format(const struct o3b_grow_report *r, char *buf, size_t size);

#endif
