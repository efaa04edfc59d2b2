/* SPDX-License-Identifier: MIT */
/*
 * config.h - every o365bypass directive: one typed row each.
 *
 * One declarative table (o3b_directives) holds, per directive: its name,
 * its type (and bounds, unit or choices), where its value lands in struct
 * o3b_config, its ONE default as text and its help.  o3b_config_init()
 * applies every default through the directive's own setter, exactly as if
 * it had been written in the file, so a default cannot disagree with what
 * the directive accepts.  The table drives the c-icap glue (each row becomes
 * an `o365bypass.Name` directive), the CLI's config reader, `check-config`
 * and `check-config --list`, which a test compares with
 * conf/o365bypass.conf.in.  Values are checked when set, so a bad line is
 * reported with its directive and value.  Lists (NeverBypass, AlsoBypass,
 * TenantName, TenantDomain) accumulate over lines; every other directive keeps its last
 * value.  "Unset" is NULL for every optional string (CacheDir none,
 * FetchProxy none, no CAFile, ...).
 *
 * Ownership: the config owns every string and list it holds until
 * o3b_config_release().  Pure code (no c-icap).
 */
#ifndef O365BYPASS_CONFIG_H
#define O365BYPASS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/policy.h"
#include "o365bypass/store.h"

#define O3B_MIN_REFRESH 60 /* RefreshInterval: 0, or at least this */

struct o3b_config {
    char *seed_file;             /* SeedFile, or NULL */
    char *cache_dir;             /* CacheDir, or NULL: none (no cache) */
    char *instance;              /* Instance, canonical spelling */
    char *service_url;           /* ServiceURL, without trailing '/' */
    bool allow_http_service_url; /* AllowHttpServiceURL: plain http to a non-loopback host */
    long refresh_interval;       /* RefreshInterval, seconds, 0 = never fetch */
    bool no_ipv6;                /* NoIPv6 */
    char *client_request_id;     /* ClientRequestId or NULL (generated, kept in CacheDir) */
    char *ca_file, *ca_path;     /* CAFile, CAPath or NULL */
    char *fetch_proxy;           /* FetchProxy or NULL */
    long connect_timeout;        /* ConnectTimeout, seconds */
    long fetch_timeout;          /* FetchTimeout, seconds (whole transfer) */
    long max_feed_bytes;         /* MaxFeedBytes */
    long max_shrink_percent;     /* MaxShrinkPercent */
    char *service_areas_param;   /* ServiceAreas as the web service wants it, or NULL = all */
    struct o3b_policy policy;    /* BypassCategories, ServiceAreas, RequiredOnly,
                                    NeverBypass, AlsoBypass, TenantName, TenantDomain */
    char service_url_at[320];    /* "FILE:LINE" of the ServiceURL line the file
                                    reader applied last, "" otherwise */
    const char *finish_at;       /* after o3b_config_finish failed: "FILE:LINE" of the
                                    line it names when known, else NULL */
};

enum o3b_directive_type {
    O3B_DT_STRING = 0, /* one word */
    O3B_DT_PATH,       /* an absolute path */
    O3B_DT_URL,        /* an http:// or https:// URL */
    O3B_DT_INTEGER,    /* a whole number in [min, max] of `unit` */
    O3B_DT_ONOFF,      /* on/off (also yes/no, true/false, 1/0) */
    O3B_DT_ENUM,       /* one of the choices */
    O3B_DT_ENUM_SET,   /* one or more of the choices; the last line wins */
    O3B_DT_LIST,       /* values accumulate over lines (repeatable) */
    O3B_DT_COUNT
};

#define O3B_DF_NONE 1u /* the word "none" unsets the value (NULL) */

struct o3b_directive;
typedef int (*o3b_directive_set_fn)(struct o3b_config *c, const struct o3b_directive *d,
                                    const char *const *argv, o3b_err *err);

struct o3b_directive {
    const char *name; /* without the "o365bypass." prefix */
    enum o3b_directive_type type;
    size_t offset;                     /* where the value lands in struct o3b_config */
    long min, max;                     /* O3B_DT_INTEGER */
    const char *unit;                  /* O3B_DT_INTEGER: "seconds" */
    const char *(*choice)(unsigned i); /* ENUM, ENUM_SET: the i-th choice, NULL past the end */
    unsigned flags;                    /* O3B_DF_* */
    o3b_directive_set_fn set;          /* NULL: the type's own setter */
    const char *default_value;         /* THE default, applied at init; NULL: unset */
    const char *unset_means;           /* without a default: what unset means */
    const char *help;                  /* one line */
};

/* NULL-terminated table of every directive. */
extern const struct o3b_directive o3b_directives[];

/* Find a directive by name (case-insensitive; an "o365bypass." prefix or
   any "service." prefix is ignored).  NULL when unknown. */
const struct o3b_directive *o3b_directive_find(const char *name);

/* "integer 60..604800 seconds", "one of Worldwide USGovDoD ...", "on|off",
   "absolute path or none" ... into buf; returns buf. */
char *o3b_directive_describe(const struct o3b_directive *d, char *buf, size_t size);

/* Defaults for everything: every row's default through its setter. */
void o3b_config_init(struct o3b_config *c);

/* Free everything the config holds; it is left empty (NULL strings), so
   call o3b_config_init() before using it again. */
void o3b_config_release(struct o3b_config *c);

/*
 * Apply one directive: `name` as in the file ("o365bypass.RefreshInterval"
 * or "RefreshInterval"), `argv` its NULL-terminated arguments.  On error the
 * message names the directive and the value.  Returns 0 or -1.
 */
int o3b_config_set(struct o3b_config *c, const char *name, const char *const *argv, o3b_err *err);

/* After the last directive: check what only the combination tells (a plain
   http:// ServiceURL needs a loopback host or AllowHttpServiceURL on, in
   any order of the lines; BypassCategories not empty) and freeze the policy
   lists.  Returns 0 or -1 with the directive named (and `c->finish_at`
   set to its line when the file reader saw it). */
int o3b_config_finish(struct o3b_config *c, o3b_err *err);

/*
 * Read a c-icap configuration file the way c-icap does for our directives:
 * applies every `o365bypass.*` line (other lines are c-icap's and ignored),
 * follows `Include FILE` (relative paths against the including file's
 * directory), at most 16 levels deep.  Every bad line is reported through
 * `report(ud, file, line, message)` and reading continues; returns the number
 * of bad lines (0 = all good) or -1 when the file cannot be read at all
 * (also reported).  Does not call o3b_config_finish().
 */
typedef void (*o3b_config_report_fn)(void *ud, const char *file, unsigned line,
                                     const char *message);
int o3b_config_read_file(struct o3b_config *c, const char *path, o3b_config_report_fn report,
                         void *ud);

/* The table store's parameters (strings borrowed from `c`). */
struct o3b_store_params o3b_config_store_params(const struct o3b_config *c);

/*
 * The same reading, c-icap's way and with a report of what loads what:
 * `scan->include_dir` (set by the caller; NULL = as o3b_config_read_file)
 * is where a relative `Include` is looked for, as c-icap looks for it in its
 * own configuration directory whatever file includes it.  The other fields
 * are filled: how many `o365bypass.*` lines were seen (good or bad), how
 * many `Service o365bypass MODULE` lines (without one c-icap loads no module
 * and uses none of the directives), and where the first directive before
 * any Service line is (c-icap refuses such a line).  Returns as
 * o3b_config_read_file.
 */
struct o3b_config_scan {
    const char *include_dir; /* in: c-icap's configuration directory, or NULL */
    unsigned directives;     /* out: o365bypass.* lines */
    unsigned services;       /* out: `Service o365bypass ...` lines */
    char early_file[4096];   /* out: file of the first directive before any */
    unsigned early_line;     /*      Service line, or 0 when there is none */
};
int o3b_config_read_scan(struct o3b_config *c, const char *path, struct o3b_config_scan *scan,
                         o3b_config_report_fn report, void *ud);

#endif
