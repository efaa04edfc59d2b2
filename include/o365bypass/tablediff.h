/* SPDX-License-Identifier: MIT */
/*
 * tablediff.h - what changed between two endpoint tables, set by set.
 *
 * Used for the change report the refresher logs on every new version and
 * by the CLI's `diff`.  Sets are matched by id; inside a set, URLs and IP
 * prefixes are compared as sets of normalized strings, plus the fields that
 * change a decision (category, serviceArea, required, tcpPorts) and the
 * informational ones (udpPorts, expressRoute, notes).  Pure code.
 */
#ifndef O365BYPASS_TABLEDIFF_H
#define O365BYPASS_TABLEDIFF_H

#include <stddef.h>

#include "o365bypass/table.h"

struct o3b_diff_counts {
    size_t sets_added, sets_removed, sets_changed;
    size_t hosts_added, hosts_removed;       /* exact host names */
    size_t patterns_added, patterns_removed; /* wildcard patterns */
    size_t cidrs_added, cidrs_removed;       /* IPv4 and IPv6 prefixes */
};

/* Called once per line of the detailed report ("+ set 193 ...",
   "~ set 92: - url officecdn.microsoft.com.edgesuite.net"). */
typedef void (*o3b_diff_line_fn)(void *ud, const char *line);

/* Compare `before` and `after` (either may be NULL = empty).  `fn` may be
   NULL when only the counts are wanted.  Returns the number of changed,
   added or removed sets (0 = same content). */
size_t o3b_table_diff(const o3b_table *before, const o3b_table *after,
                      struct o3b_diff_counts *counts, o3b_diff_line_fn fn, void *ud);

/* "sets +1 -2 ~3, hosts +0 -1, patterns +2 -2, CIDRs +0 -78" into buf. */
char *o3b_diff_summary(const struct o3b_diff_counts *c, char *buf, size_t size);

#endif
