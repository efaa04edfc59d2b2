/* SPDX-License-Identifier: MIT */
/*
 * export.h - the table and the policy for other tools: one verdict model and
 * the writers that read it (PAC, Squid ACLs).
 *
 * For sites that cannot put the ICAP service in front of every proxy, or
 * that want browsers to go DIRECT: the same decision, exported.  The
 * export library (libo3bexport) links into the command-line tool only,
 * never into the c-icap module.
 *
 * The model (export_model.c) holds one row per entry of the table's index,
 * of NeverBypass and of AlsoBypass, and the port groups: the ports split
 * where the set of rows listing them changes (every port of a group is
 * decided alike; ports no table or AlsoBypass row lists bypass nothing).
 * Every verdict in it is o3b_decide()'s own, asked for concrete probes: for
 * each row and each group whose ports it lists, a host (the pattern with
 * each '*' filled) or an address (inside the prefix, outside the more
 * specific prefixes) on the group's port; the row "wins" there when
 * o3b_decide() answers with that very entry.  Nothing in the exporters
 * re-derives the policy or the index precedence; what a static format must
 * express itself (the local lists, and tenant pinning of names, which
 * depends on the whole host) it takes from the rows and from tenant.h.
 *
 * Writers:
 *   PAC (export_pac.c): data rows (pattern or prefix, specificity, rank,
 *     ports, the row's verdict) and the fixed runtime module/pac_runtime.js,
 *     embedded at build time, which applies the index precedence (port
 *     first), the rule order of policy.h and tenant pinning.  DIRECT
 *     exactly where o3b_decide() bypasses; IPv6 literals get the proxy.
 *   Squid (export_squid.c): per port group, dstdomain / dstdom_regex / dst
 *     lists of what is bypassed and of what must still be inspected although
 *     a bypassed entry covers it, and the tenant-pinning lists; a port ACL
 *     per group ties them to their ports.  The same domain lists serve
 *     ssl::server_name for the static ssl_bump splice file.
 *
 * Pure code: no I/O except writing to the FILE * the caller gives.
 */
#ifndef O365BYPASS_EXPORT_H
#define O365BYPASS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "o365bypass/errors.h"
#include "o365bypass/index.h"
#include "o365bypass/policy.h"
#include "o365bypass/ports.h"
#include "o365bypass/table.h"

/* ---- the verdict model (export_model.c) ------------------------------------------------ */

enum o3b_export_source { O3B_EXPORT_TABLE = 0, O3B_EXPORT_NEVER, O3B_EXPORT_ALSO };

struct o3b_export_row {
    const struct o3b_index_entry *entry; /* borrowed: from the table's or the list's index */
    const o3b_index *ix;                 /* that index (the entry's ports) */
    enum o3b_export_source source;
    const struct o3b_set *set; /* TABLE rows: the entry's set; else NULL */
    bool wins;                 /* o3b_decide() chose this row for a probe */
    enum o3b_verdict verdict;  /* its answer then (O3B_INSPECT when !wins) */
    enum o3b_reason reason;
};

struct o3b_export_group {
    const struct o3b_port_range *ranges; /* the group's ports */
    size_t n_ranges;
    uint16_t port; /* the lowest: the port of the group's probes */
};

typedef struct o3b_export_model o3b_export_model;

/*
 * Build the model of `table` (may be NULL: nothing listed) and `policy`
 * (finished).  Probes decide table rows with the policy minus its local
 * lists and, for host rows, minus TenantName / TenantDomain (the writers
 * pin names themselves); NeverBypass and AlsoBypass rows with their list
 * alone.  The model borrows both (keep them alive while it is used); the
 * caller frees it with o3b_export_model_free().  NULL with `err` set when
 * out of memory.
 */
o3b_export_model *o3b_export_model_build(const o3b_table *table, const struct o3b_policy *policy,
                                         o3b_err *err);

void o3b_export_model_free(o3b_export_model **m);

const o3b_table *o3b_export_model_table(const o3b_export_model *m);
const struct o3b_policy *o3b_export_model_policy(const o3b_export_model *m);

/* The rows: the table's entries in index order, then NeverBypass's, then
   AlsoBypass's (each in its index order). */
const struct o3b_export_row *o3b_export_model_rows(const o3b_export_model *m, size_t *n);

/* The port groups, by lowest port. */
const struct o3b_export_group *o3b_export_model_groups(const o3b_export_model *m, size_t *n);

/* Does row `row` win its probes on group `group`'s ports? */
bool o3b_export_model_wins_on(const o3b_export_model *m, size_t row, size_t group);

/*
 * The level of row `row`'s text on group `group`: of the rows with the same
 * source, kind and text (they address the same hosts), the one that wins
 * there, or NULL when none does (none lists those ports, or more specific
 * rows decide all of its probes).
 */
const struct o3b_export_row *o3b_export_model_level(const o3b_export_model *m, size_t row,
                                                    size_t group);

/* o3b_decide() with the model's table and whole policy for a CONNECT to the
   normalized host or IP literal `host` on `port`: bypassed? */
bool o3b_export_model_bypassed(const o3b_export_model *m, const char *host, uint16_t port);

/* ---- the formats: what cmd_export.c's format table holds ------------------------------- */

/* Where a writer's output goes: the caller keeps each one in memory and
   writes it in one piece (stdout, or an atomic file). */
struct o3b_export_sink {
    /* Start an output: `name` NULL is the main output (stdout or -o FILE),
       else a file name inside `dir`.  NULL when out of memory. */
    FILE *(*open)(struct o3b_export_sink *s, const char *name);
    /* Finish the output `f` came from: 0, or -1 with `err` set. */
    int (*close)(struct o3b_export_sink *s, FILE *f, o3b_err *err);
    const char *dir; /* absolute directory of the named outputs */
};

struct o3b_export_option {
    const char *name;                 /* "proxy" (--proxy VALUE) */
    const char *metavar;              /* "HOST:PORT" */
    bool (*valid)(const char *value); /* NULL: any value */
};

struct o3b_export_args {
    const o3b_export_model *model;
    const char *generator;     /* "o365bypass 0.1.0" (header comments) */
    const char *const *values; /* the format's options in its order; NULL when not given */
};

struct o3b_export_format {
    const char *name;  /* "pac" */
    const char *usage; /* "[--proxy HOST:PORT] [-o FILE]" */
    const char *help;  /* lines of `export --help`, each starting with the name */
    const struct o3b_export_option *options;
    size_t n_options;
    bool named_outputs; /* writes files into --dir */
    int (*write)(const struct o3b_export_args *a, struct o3b_export_sink *s, o3b_err *err);
};

/* Every format, in `export --help` order: X(name) for each
   o3b_export_format_<name> (defined in module/export_<name>.c).
   cmd_export.c's format table is made from this list. */
#define O3B_EXPORT_FORMATS(X) X(pac) X(squid)

#define O3B_EXPORT_DECLARE(name) extern const struct o3b_export_format o3b_export_format_##name;
O3B_EXPORT_FORMATS(O3B_EXPORT_DECLARE)

/* ---- PAC (export_pac.c) ---------------------------------------------------------------- */

#define O3B_PAC_DEFAULT_PROXY "127.0.0.1:3128"

/* module/pac_runtime.js, embedded at build time (pac_runtime.c). */
extern const char o3b_pac_runtime[];

/* Is `s` a proxy "host:port" a PAC file may name (host name, IPv4 or
   [IPv6], port 1..65535)? */
bool o3b_export_proxy_valid(const char *s);

/*
 * Write a PAC file for the model: DIRECT where the service bypasses, "PROXY
 * <proxy>" elsewhere.  `proxy` NULL means O3B_PAC_DEFAULT_PROXY.
 * `generator` (may be NULL) goes into the header comment.  Returns 0, or -1
 * with `err` set (invalid proxy, write error).
 */
int o3b_export_pac(FILE *out, const o3b_export_model *m, const char *proxy, const char *generator,
                   o3b_err *err);

/* ---- Squid (export_squid.c) ------------------------------------------------------------ */

/* The lists of a port group, in the order they are written. */
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

typedef struct o3b_squid_export o3b_squid_export;

/* The name of the TLS include file (ssl::server_name ACLs, ssl_bump splice). */
#define O3B_SQUID_TLS_FILE "o365bypass-tls.conf"

/*
 * Compute every list of every port group of the model (groups whose lists
 * come out identical are merged; groups that bypass nothing are left out).
 * The result is owned by the caller (o3b_squid_export_free) and borrows
 * nothing.  NULL with `err` set when out of memory.
 */
o3b_squid_export *o3b_squid_export_build(const o3b_export_model *m, o3b_err *err);

void o3b_squid_export_free(o3b_squid_export **x);

/* The port groups: how many, the one holding `port` (SIZE_MAX: none, so
   nothing is bypassed on it), and a group's label ("443",
   "143_587_993_995", ranges as "3478-3481"). */
size_t o3b_squid_export_groups(const o3b_squid_export *x);
size_t o3b_squid_export_group_of(const o3b_squid_export *x, uint16_t port);
const char *o3b_squid_export_group_label(const o3b_squid_export *x, size_t g);

/* Items of a group's list (sorted; strings live as long as `x`). */
size_t o3b_squid_export_count(const o3b_squid_export *x, size_t g, enum o3b_squid_list l);
const char *o3b_squid_export_item(const o3b_squid_export *x, size_t g, enum o3b_squid_list l,
                                  size_t i);

/* "o365bypass-443-domains.txt", ... into buf; returns buf. */
char *o3b_squid_file_name(const o3b_squid_export *x, size_t g, enum o3b_squid_list l, char *buf,
                          size_t size);

/* Write one list as a Squid ACL file: '#' comment lines, then one item per
   line.  Returns 0 or -1 (write error). */
int o3b_squid_export_write(const o3b_squid_export *x, size_t g, enum o3b_squid_list l, FILE *out);

/*
 * Write the squid.conf snippet that loads the files from `abs_dir` (acl
 * lines with absolute paths; empty lists are commented out so Squid does
 * not warn): per group a port ACL and its lists, then "o365bypass" (listed
 * on its port) and "o365bypass_inspect" (to inspect although listed, and
 * every decrypted request), and, commented, how to use them.  Returns 0 or -1.
 */
int o3b_squid_export_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out);

/*
 * Write O3B_SQUID_TLS_FILE: the same lists as ssl::server_name /
 * ssl::server_name_regex ACLs (at SslBump step 1 the CONNECT host) and the
 * "ssl_bump splice" line, to include after the snippet and before the
 * site's own ssl_bump peek / bump lines.  Returns 0 or -1.
 */
int o3b_squid_export_tls_conf(const o3b_squid_export *x, const char *abs_dir, FILE *out);

#endif
