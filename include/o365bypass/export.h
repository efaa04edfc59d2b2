/* SPDX-License-Identifier: MIT */
/*
 * export.h - the table and the policy as a PAC file or as Squid ACL files.
 *
 * For sites that cannot put the ICAP service in front of every proxy, or
 * that want browsers to go DIRECT: the same decision, exported.
 *
 * PAC: data-driven.  Every entry of the table (and of NeverBypass and
 * AlsoBypass) is written with its specificity, rank (category), TCP ports and
 * the policy verdict precomputed, plus a small JavaScript function that
 * applies exactly the index precedence of index.h and the rule order of
 * policy.h, so the file answers DIRECT exactly where o3b_decide() bypasses
 * (for the URL's port, the scheme's default when none).  IPv6 literals get
 * the proxy (PAC IPv6 support differs between browsers).
 *
 * Squid: dstdomain, dstdom_regex and dst lists of what is bypassed, lists
 * of what must still be inspected although a bypassed entry covers it (more
 * specific lower-category entries, the bare apex of each ".suffix" because
 * Squid's ".a.com" also matches "a.com", NeverBypass), and for tenant
 * pinning the pinned namespaces and your hosts in them (inspected: in the
 * first and not in the second, an all-of ACL).  Squid cannot encode the
 * ports: only entries whose TCP ports include 80 or 443 are exported, and
 * the file headers say what is approximated.
 * Overlapping entries are collapsed (Squid warns about, and ignores, a
 * domain or network covered by another one in the same ACL).
 *
 * Pure code: no I/O except writing to the FILE * the caller gives.
 */
#ifndef O365BYPASS_EXPORT_H
#define O365BYPASS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "o365bypass/errors.h"
#include "o365bypass/policy.h"
#include "o365bypass/table.h"

#define O3B_PAC_DEFAULT_PROXY "127.0.0.1:3128"

/* Is `s` a proxy "host:port" a PAC file may name (host name, IPv4 or
   [IPv6], port 1..65535)? */
bool o3b_export_proxy_valid(const char *s);

/*
 * Write a PAC file for `table` (may be NULL: nothing listed) and `policy`:
 * DIRECT where the service bypasses, "PROXY <proxy>" elsewhere.  `proxy`
 * NULL means O3B_PAC_DEFAULT_PROXY.  `generator` (e.g. "o365bypass 0.1.0",
 * may be NULL) goes into the header comment.  Returns 0, or -1 with `err`
 * set (invalid proxy, write error).
 */
int o3b_export_pac(FILE *out, const o3b_table *table, const struct o3b_policy *policy,
                   const char *proxy, const char *generator, o3b_err *err);

/* The Squid lists, in the order they are written. */
enum o3b_squid_list {
    O3B_SQUID_DOMAINS = 0,     /* dstdomain: bypassed hosts and ".suffix" */
    O3B_SQUID_REGEX,           /* dstdom_regex: bypassed middle-'*' / prefix globs */
    O3B_SQUID_DST,             /* dst: bypassed CIDRs */
    O3B_SQUID_INSPECT_DOMAINS, /* dstdomain: hosts to inspect although covered */
    O3B_SQUID_INSPECT_REGEX,   /* dstdom_regex: patterns to inspect although covered */
    O3B_SQUID_INSPECT_DST,     /* dst: CIDRs to inspect although covered */
    O3B_SQUID_PINNED,          /* dstdom_regex: pinned tenant namespaces under a
                                  bypassed wildcard (TenantName / TenantDomain) */
    O3B_SQUID_PINNED_OWN,      /* dstdom_regex: your hosts in them */
    O3B_SQUID_LIST_COUNT
};

/* "o365bypass-domains.txt", ... */
const char *o3b_squid_file_name(enum o3b_squid_list l);

typedef struct o3b_squid_export o3b_squid_export;

/*
 * Compute every list from `table` (may be NULL) and `policy`.  The result
 * is owned by the caller (o3b_squid_export_free) and borrows nothing.
 * NULL with `err` set when out of memory.
 */
o3b_squid_export *o3b_squid_export_build(const o3b_table *table, const struct o3b_policy *policy,
                                         o3b_err *err);

void o3b_squid_export_free(o3b_squid_export **x);

/* Items of a list (sorted; strings live as long as `x`). */
size_t o3b_squid_export_count(const o3b_squid_export *x, enum o3b_squid_list l);
const char *o3b_squid_export_item(const o3b_squid_export *x, enum o3b_squid_list l, size_t i);

/* Write one list as a Squid ACL file: '#' comment lines, then one item per
   line.  Returns 0 or -1 (write error). */
int o3b_squid_export_write(const o3b_squid_export *x, enum o3b_squid_list l, FILE *out);

/*
 * Write a squid.conf snippet that loads the files from `abs_dir` (acl lines
 * with absolute paths; empty lists are commented out so Squid does not warn)
 * and shows, commented, how to use them in adaptation_access and ssl_bump.
 * Returns 0 or -1.
 */
int o3b_squid_export_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out);

#endif
