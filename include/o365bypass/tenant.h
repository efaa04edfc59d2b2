/* SPDX-License-Identifier: MIT */
/*
 * tenant.h - which wildcard entries address a customer tenant, and whose.
 *
 * Microsoft's list exempts "*.sharepoint.com" (Optimize) for every tenant in
 * the world, so without pinning an insider can upload to a personal or
 * foreign tenant's SharePoint/OneDrive unseen by DLP.  An entry is
 * tenant-addressable when it has exactly one '*' and what follows the label
 * holding the '*' is a tenant namespace Microsoft documents.  The part of
 * the host that stands for that label (for "*.ns" and "prefix.*.ns" the
 * '*' itself; for historical shapes such as "*-my.sharepoint.com" the whole
 * first label) must then be one of the tenant forms:
 *
 *   SharePoint / OneDrive  sharepoint.com, sharepoint.us, sharepoint-mil.us,
 *                          sharepoint.de, sharepoint.cn
 *       exactly one label: T, T-my, T-files or T-myfiles
 *       (<tenant>.sharepoint.com, <tenant>-my.sharepoint.com, ...)
 *   Tenant routing domains onmicrosoft.com, mail.onmicrosoft.com,
 *                          onmicrosoft.us, mail.onmicrosoft.us, onmicrosoft.de,
 *                          onmschina.cn, partner.onmschina.cn
 *       exactly T, or T.mail / T.partner for the parent domain
 *       (contoso.mail.onmicrosoft.com, contoso.partner.onmschina.cn)
 *
 * where T is one of the configured tenant names (o365bypass.TenantName).
 * Pure code, no allocation.
 */
#ifndef O365BYPASS_TENANT_H
#define O365BYPASS_TENANT_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/index.h"

enum o3b_tenant_ns {
    O3B_TENANT_NONE = 0,   /* not tenant-addressable */
    O3B_TENANT_SHAREPOINT, /* T, T-my, T-files, T-myfiles */
    O3B_TENANT_ROUTING     /* T, T.mail, T.partner */
};

/*
 * Where the tenant part of a host matched by the single-'*' entry `e` lies:
 * it starts `*label_start` characters from the beginning of the host (the
 * literal labels before the one holding the '*') and ends `*ns_len`
 * characters before its end (".namespace", 0 when the '*' label is last).
 */
void o3b_tenant_span(const struct o3b_index_entry *e, size_t *label_start, size_t *ns_len);

/* Is this index entry tenant-addressable, and how? */
enum o3b_tenant_ns o3b_tenant_namespace(const struct o3b_index_entry *e);

/*
 * For a tenant-addressable entry `e` that matched `host`, is the part of the
 * host under the '*' one of the allowed forms for one of `tenants` (lowercase
 * names)?  Entries that are not tenant-addressable always pass.
 */
bool o3b_tenant_allows(const struct o3b_index_entry *e, const char *host, size_t len,
                       const char *const *tenants, size_t n_tenants);

/* Is `name` a plausible tenant name (1..63 of [a-z0-9-], no leading or
   trailing '-', case-insensitive)? */
bool o3b_tenant_name_valid(const char *name);

#endif
