/* SPDX-License-Identifier: MIT */
/*
 * tenant.h - tenant pinning: which hosts name a customer tenant or a
 * customer mail domain, and whether it is one of yours.
 *
 * Microsoft's list exempts "*.sharepoint.com" (Optimize) for every tenant in
 * the world and "*.mail.protection.outlook.com" / "*.mx.microsoft" (port 25)
 * for every customer domain's MX host, so without pinning an insider can
 * upload to, or mail, a personal or foreign tenant unseen by DLP.
 *
 * The namespaces are fixed lists in tenant.c (from Microsoft's documentation
 * and the tables of every instance), never taken from a feed, so a feed
 * cannot widen pinning:
 *
 *   kind        namespaces                              tenant part of a host
 *   SharePoint  sharepoint.com, sharepoint.us,          T, T-my, T-files,
 *               sharepoint-mil.us, sharepoint.de,       T-myfiles
 *               sharepoint.cn
 *   routing     onmicrosoft.com, mail.onmicrosoft.com,  T, T.mail, T.partner
 *               onmicrosoft.us, mail.onmicrosoft.us,
 *               onmicrosoft.de, onmschina.cn,
 *               partner.onmschina.cn
 *   MX          mail.protection.outlook.com,            D
 *               mail.protection.office365.us,
 *               mail.protection.partner.outlook.cn
 *   DNSSEC MX   mx.microsoft, usgovcloud-mx.microsoft   D or D.Z
 *
 * T is a TenantName; D the MX label of a TenantDomain (o3b_tenant_mx_label:
 * "contoso.com" gives "contoso-com"); Z one label, the DNSSEC zone Microsoft
 * put the domain in ("contoso-com.o-v1.mx.microsoft"): the first label is
 * pinned, the zone is not.
 *
 * The rule, for a table entry (with any number of '*', anywhere:
 * "*.sharepoint.com", "**.sharepoint.com", "*-*.sharepoint.com",
 * "autodiscover.*.onmicrosoft.com"; or none: an exact host) that matched a
 * host H:
 *   - H's namespace N is the longest listed namespace H lies strictly under
 *     (none: nothing to pin);
 *   - the tenant part is H minus the entry's leading fully literal labels
 *     ("autodiscover." for "autodiscover.*.onmicrosoft.com", nothing for
 *     "*-my.sharepoint.com", nothing for an exact host) minus ".N", and
 *     must be exactly one of N's forms for one of your names.
 * What the host names is checked, not what the entry's tail is: a wider
 * wildcard ("*.protection.outlook.com" over the MX hosts under
 * mail.protection.outlook.com, Microsoft's only MX entry in GCC High and
 * China) is pinned the same way.  Exact table hosts are pinned too: no real
 * table lists one under a namespace, so a feed that adds
 * "evil.sharepoint.com" to a bypassed set (which the grow guard lets through:
 * its registrable domain is already bypassed) still names another tenant.
 *
 * Pinning is on for the SharePoint and routing kinds when TenantName is set,
 * for the MX kinds when TenantName or TenantDomain is set (with TenantName
 * alone, every MX host is inspected).  Pure code, no allocation.
 */
#ifndef O365BYPASS_TENANT_H
#define O365BYPASS_TENANT_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/host.h"
#include "o365bypass/index.h"
#include "o365bypass/table.h"

enum o3b_tenant_ns {
    O3B_TENANT_NONE = 0,   /* not in a tenant namespace */
    O3B_TENANT_SHAREPOINT, /* T, T-my, T-files, T-myfiles */
    O3B_TENANT_ROUTING,    /* T, T.mail, T.partner */
    O3B_TENANT_MX,         /* D */
    O3B_TENANT_MX_ZONED,   /* D or D.Z */
    O3B_TENANT_NS_COUNT
};

/* Your names, as the policy holds them (lowercase; borrowed). */
struct o3b_tenant_pins {
    const char *const *tenants; /* TenantName */
    size_t n_tenants;
    const char *const *mx_labels; /* from TenantDomain */
    size_t n_mx_labels;
};

/* The fixed namespace list: its length, and entry i (and its kind). */
size_t o3b_tenant_namespace_count(void);
const char *o3b_tenant_namespace_at(size_t i, enum o3b_tenant_ns *kind);

/* The suffix forms after T of a SharePoint or routing kind ("", "-my", ...);
   the MX kinds have the single form "" (D itself).  `*n` gets the count. */
const char *const *o3b_tenant_forms(enum o3b_tenant_ns kind, size_t *n);

/* The namespace a normalized host lies strictly under (the longest listed
   one), with its length in `*ns_len` (0 for O3B_TENANT_NONE). */
enum o3b_tenant_ns o3b_tenant_host_namespace(const char *host, size_t len, size_t *ns_len);

/* Characters of a pattern's leading labels that hold no '*', their dots
   included ("autodiscover.*.onmicrosoft.com": 13; "*.sharepoint.com": 0). */
size_t o3b_tenant_literal_prefix(const char *pat, size_t len);

/* Can a pattern address hosts strictly under namespace `ns`: does its
   literal tail (the labels after the label holding its last '*') equal `ns`,
   lie under it or is it a parent domain of it?  For an exact host: does it
   lie strictly under `ns`.  True for a pattern without any literal tail
   ("*"). */
bool o3b_tenant_pattern_reaches(const char *pat, size_t len, const char *ns);

/* The kinds (bit 1 << enum o3b_tenant_ns) of the namespaces a pattern (or
   an exact host) reaches. */
unsigned o3b_tenant_pattern_kinds(const char *pat, size_t len);

/* Is pinning on for this kind? */
bool o3b_tenant_pinning_on(const struct o3b_tenant_pins *pins, enum o3b_tenant_ns kind);

/* Is `part[0..len)` one of `kind`'s tenant forms for one of your names? */
bool o3b_tenant_part_allowed(enum o3b_tenant_ns kind, const char *part, size_t len,
                             const struct o3b_tenant_pins *pins);

/*
 * For a table entry `e` that matched the normalized host `host`: true when
 * the rule above lets it through (also for CIDRs, hosts in no namespace and
 * kinds whose pinning is off).
 */
bool o3b_tenant_allows(const struct o3b_index_entry *e, const char *host, size_t len,
                       const struct o3b_tenant_pins *pins);

/* Does the set carry a URL pattern that can address a namespace whose
   pinning is on?  Then IP literals it wins for are inspected: its front
   doors serve every tenant. */
bool o3b_tenant_set_pinned(const struct o3b_set *s, const struct o3b_tenant_pins *pins);

/*
 * The MX label for an o365bypass.TenantDomain value into `out`: a mail
 * domain ("contoso.com", any case, one trailing dot allowed) gives its labels
 * joined by '-' ("contoso-com"); an MX host under an MX namespace (for the
 * labels Microsoft assigns differently, e.g. "fabrikam-com01b.mail.
 * protection.outlook.com" for fab-rikam.com) gives its first label.  Returns 0, or -1 with
 * `err` set (not a host name, a single label, a label over 63 characters).
 */
int o3b_tenant_mx_label(const char *domain, char out[O3B_LABEL_MAX + 1], o3b_err *err);

/* Is `name` a plausible tenant name (1..63 of [a-z0-9-], no leading or
   trailing '-', case-insensitive)? */
bool o3b_tenant_name_valid(const char *name);

#endif
