/* SPDX-License-Identifier: MIT */
/*
 * policy.h - the admin's policy and the bypass decision.
 *
 * A decision needs three things to agree: a well-formed request bound to its
 * real destination (target.h), Microsoft's table (table.h) and the admin's
 * policy here.  Order of rules, first that applies wins:
 *   1. a refused request target              -> inspect (malformed / mismatch)
 *   2. the proxy reported a TLS server name (SNI) that is malformed or names
 *      another host than the target          -> inspect (sni-mismatch)
 *   3. the request was decrypted by the proxy: an https URL (ssl-bump, an
 *      https_port, or a client asking the proxy for https://...), or plain
 *      http to port 443 (the absolute form sent inside a bumped tunnel).  Its
 *      Host is whatever the client wrote inside the tunnel, so
 *        DecryptedRequests inspect (default)   -> inspect (decrypted)
 *        DecryptedRequests sni-bound            -> inspect (decrypted) unless
 *          an SNI was reported (rule 2 made it equal to the host)
 *   4. NeverBypass matches the host or IP    -> inspect
 *   5. AlsoBypass matches (ports 80 and 443)  -> bypass
 *   6. the table's winner (index.h precedence, port first; none, or listed
 *      but not on this port                 -> inspect)
 *   7. its category not in BypassCategories  -> inspect
 *   8. its service area not in ServiceAreas  -> inspect
 *   9. RequiredOnly and the set is optional  -> inspect
 *  10. tenant pinning (tenant.h), with TenantName or TenantDomain set: a
 *      wildcard winner and a host in a pinned namespace that is not one of
 *      your tenants or mail domains, or an IP literal whose winning set
 *      carries URLs of a pinned namespace -> inspect
 *  11. otherwise                            -> bypass
 * A CONNECT is never "decrypted": it is the tunnel itself, bound to the
 * destination it names.
 * Pure code.  o3b_decide() allocates nothing and takes no lock.
 */
#ifndef O365BYPASS_POLICY_H
#define O365BYPASS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/index.h"
#include "o365bypass/table.h"
#include "o365bypass/target.h"
#include "o365bypass/tenant.h"

#define O3B_AREAS_ALL ((1u << O3B_AREA_COUNT) - 1u)
#define O3B_MAX_TENANTS 64
#define O3B_MAX_TENANT_DOMAINS 256
#define O3B_MAX_LIST_ITEMS 4096 /* NeverBypass / AlsoBypass entries each */

/* A NeverBypass or AlsoBypass list: host patterns and CIDRs. */
struct o3b_hostlist {
    o3b_index *ix;        /* NULL while empty */
    o3b_index_builder *b; /* while collecting */
    size_t n;
};

/* DecryptedRequests: what happens to requests the proxy decrypted (rule 3). */
enum o3b_decrypted_mode {
    O3B_DECRYPTED_INSPECT = 0, /* always inspected (default) */
    O3B_DECRYPTED_SNI_BOUND,   /* decided like the rest when the SNI names the host */
    O3B_DECRYPTED_COUNT
};

/* "inspect", "sni-bound" (the DecryptedRequests values); "?" out of range. */
const char *o3b_decrypted_mode_name(enum o3b_decrypted_mode m);

struct o3b_policy {
    unsigned categories; /* bit (1 << enum o3b_category) */
    unsigned areas;      /* bit (1 << enum o3b_area) */
    bool required_only;
    uint8_t decrypted; /* enum o3b_decrypted_mode */
    struct o3b_hostlist never, also;
    char *tenants[O3B_MAX_TENANTS]; /* lowercase, malloc'd */
    size_t n_tenants;
    char *domains[O3B_MAX_TENANT_DOMAINS];   /* TenantDomain as given (lowercase) */
    char *mx_labels[O3B_MAX_TENANT_DOMAINS]; /* their MX labels ("contoso-com") */
    size_t n_domains;
};

/* Defaults: Optimize + Allow, all areas, RequiredOnly off, decrypted
   requests inspected, empty lists, no tenants, no mail domains. */
void o3b_policy_init(struct o3b_policy *p);

/* Free what the policy owns and reset it to the defaults. */
void o3b_policy_release(struct o3b_policy *p);

/*
 * Add one NeverBypass / AlsoBypass item: a host or host pattern, an IP
 * address ("52.96.1.1", "2603:1006::1", "[2603:1006::1]") or a CIDR
 * ("52.96.0.0/14").  NeverBypass applies to every port and, because it can
 * only narrow what is bypassed, takes anything (o3b_pattern_normalize_
 * narrowing, o3b_cidr_parse_any): "*", "*.de", "0.0.0.0/0", "::/0".
 * AlsoBypass widens the hole: it applies to ports 80 and 443 only and keeps
 * the feed's rules (o3b_pattern_normalize, o3b_cidr_parse).  Returns 0 or -1
 * with the reason.
 */
int o3b_policy_add_never(struct o3b_policy *p, const char *item, o3b_err *err);
int o3b_policy_add_also(struct o3b_policy *p, const char *item, o3b_err *err);

/* Add a tenant name (o3b_tenant_name_valid; stored lowercase; duplicates
   ignored).  Returns 0 or -1. */
int o3b_policy_add_tenant(struct o3b_policy *p, const char *name, o3b_err *err);

/* Add a mail domain (o3b_tenant_mx_label: "contoso.com", or the MX host
   Microsoft assigned it; duplicates ignored).  Returns 0 or -1. */
int o3b_policy_add_tenant_domain(struct o3b_policy *p, const char *domain, o3b_err *err);

/* The policy's TenantName and TenantDomain names as tenant.h reads them
   (borrowed: valid while the policy is). */
void o3b_policy_tenant_pins(const struct o3b_policy *p, struct o3b_tenant_pins *pins);

/* Freeze the lists (call once after the last add).  Returns 0 or -1. */
int o3b_policy_finish(struct o3b_policy *p, o3b_err *err);

enum o3b_verdict { O3B_INSPECT = 0, O3B_BYPASS = 1 };

/*
 * Every decision reason, in enum order: X(enum value, short token for
 * headers, logs and counters, one sentence for people).  THE list: the enum
 * below and o3b_reason_name() / o3b_reason_text() are made from it; a new
 * reason is one line here plus its counter row (counters.c, which does not
 * build without it).
 */
// clang-format off
#define O3B_REASONS(X)                                                                      \
    /* bypass */                                                                            \
    X(O3B_R_TABLE, "table",                                                                 \
      "Microsoft lists this destination and the policy bypasses its category")             \
    X(O3B_R_ALSO, "also-bypass", "the destination is in the local AlsoBypass list")        \
    /* inspect */                                                                           \
    X(O3B_R_MALFORMED, "malformed",                                                         \
      "the request target is malformed, so it is never bypassed")                          \
    X(O3B_R_MISMATCH, "host-mismatch",                                                      \
      "the Host header and the URL name different destinations")                           \
    X(O3B_R_NEVER, "never-bypass", "the destination is in the local NeverBypass list")     \
    X(O3B_R_NOT_LISTED, "not-listed", "Microsoft's table does not list this destination")  \
    X(O3B_R_PORT, "port", "Microsoft lists this host, but not for this port")              \
    X(O3B_R_CATEGORY, "category",                                                           \
      "the matching endpoint set's category is not in BypassCategories")                   \
    X(O3B_R_AREA, "service-area",                                                           \
      "the matching endpoint set's service area is not in ServiceAreas")                   \
    X(O3B_R_OPTIONAL, "optional",                                                           \
      "RequiredOnly is on and the matching endpoint set is optional")                      \
    X(O3B_R_TENANT, "tenant",                                                               \
      "the host names a tenant or mail domain not in TenantName / TenantDomain, or is "    \
      "an IP literal of a set that serves every tenant")                                   \
    X(O3B_R_DECRYPTED, "decrypted",                                                         \
      "the proxy decrypted this request (ssl-bump): its Host is not bound to the "         \
      "destination, so it is inspected (DecryptedRequests)")                               \
    X(O3B_R_SNI_MISMATCH, "sni-mismatch",                                                   \
      "the TLS server name (SNI) the client sent names another host than the request")
// clang-format on

#define O3B_REASON_ENUM(value, name, text) value,
enum o3b_reason { O3B_REASONS(O3B_REASON_ENUM) O3B_R_COUNT };
#undef O3B_REASON_ENUM

struct o3b_decision {
    enum o3b_verdict verdict;
    enum o3b_reason reason;
    enum o3b_target_status target_status; /* for MALFORMED / MISMATCH */
    const struct o3b_set *set;            /* the table's winner (or the set
                                             listed at the top level), or NULL */
    const struct o3b_index_entry *entry;  /* matching table or list entry, or NULL */
    unsigned candidates;                  /* entries at the winning level */
    const struct o3b_target *target;      /* the target decided on (NULL when it
                                             was refused); borrowed */
    const char *detail;                   /* static extra word for the header, or NULL */
};

/*
 * Rules 5-7 on one endpoint set: O3B_R_CATEGORY when its category is not in
 * BypassCategories, O3B_R_AREA when its service area is not in ServiceAreas,
 * O3B_R_OPTIONAL when RequiredOnly is on and the set is optional, else
 * O3B_R_TABLE.  THE rule for "this set is bypassed under the policy":
 * o3b_decide(), the PAC export and the grow guard (trust.h) all ask here.
 */
enum o3b_reason o3b_policy_set_reason(const struct o3b_policy *p, const struct o3b_set *s);

/* o3b_policy_set_reason() == O3B_R_TABLE: the policy bypasses this set's
   entries (before tenant pinning, which looks at the host). */
bool o3b_policy_allows_set(const struct o3b_policy *p, const struct o3b_set *s);

/* Short token: "table", "also-bypass", "malformed", "not-listed", "port"... */
const char *o3b_reason_name(enum o3b_reason r);

/* One sentence for people. */
const char *o3b_reason_text(enum o3b_reason r);

/*
 * Decide for a parsed target (`st` is what o3b_target_parse returned; when
 * it is not OK, `target` is not read).  `table` may be NULL (no table:
 * nothing bypassed except AlsoBypass).  Pointers in `d` live as long as the
 * table and the policy.
 */
void o3b_decide(const o3b_table *table, const struct o3b_policy *p, const struct o3b_target *target,
                enum o3b_target_status st, struct o3b_decision *d);

/* Was this request decrypted by the proxy (rule 3)? */
bool o3b_target_decrypted(const struct o3b_target *t);

/*
 * The informational header value: "bypass; set=1; category=Optimize;
 * area=Exchange; match=outlook.office.com" or "inspect; reason=not-listed"
 * (plus set/category/match when a set was involved; "sni=NAME" or
 * "sni=invalid" for sni-mismatch; "detail=no-sni" for a decrypted request
 * in sni-bound mode without an SNI).  Returns the length written (truncated
 * to size-1, always NUL-terminated).
 */
size_t o3b_decision_format(const struct o3b_decision *d, char *buf, size_t size);

#endif
