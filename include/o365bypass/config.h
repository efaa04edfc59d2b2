/*
 * config.h - every o365bypass directive: names, defaults, bounds, checks.
 *
 * One declarative table (o3b_directives) drives the c-icap glue (each entry
 * becomes an `o365bypass.Name` directive), the CLI's config reader and
 * `check-config`, and the documentation in conf/o365bypass.conf.  Values are
 * checked when set, so a bad line is reported with its directive and value.
 * Lists (NeverBypass, AlsoBypass, TenantName, TenantDomain) accumulate over lines; every
 * other directive keeps its last value.
 *
 * Ownership: o3b_config_init() sets defaults; the config owns every string
 * and list it holds until o3b_config_release().  Pure code (no c-icap).
 */
#ifndef O365BYPASS_CONFIG_H
#define O365BYPASS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/policy.h"

#define O3B_DEFAULT_SERVICE_URL "https://endpoints.office.com"
#define O3B_DEFAULT_INSTANCE "Worldwide"
#define O3B_DEFAULT_REFRESH 3600
#define O3B_MIN_REFRESH 60
#define O3B_MAX_REFRESH 604800

struct o3b_config {
    char *seed_file;          /* SeedFile */
    char *cache_dir;          /* CacheDir ("" = no cache) */
    char *instance;           /* Instance, canonical spelling */
    char *service_url;        /* ServiceURL, without trailing '/' */
    long refresh_interval;    /* RefreshInterval, seconds, 0 = never fetch */
    bool no_ipv6;             /* NoIPv6 */
    char *client_request_id;  /* ClientRequestId or NULL (generated, kept in CacheDir) */
    char *ca_file, *ca_path;  /* CAFile, CAPath or NULL */
    char *fetch_proxy;        /* FetchProxy or NULL */
    long connect_timeout;     /* ConnectTimeout, seconds */
    long fetch_timeout;       /* FetchTimeout, seconds (whole transfer) */
    long max_feed_bytes;      /* MaxFeedBytes */
    long max_shrink_percent;  /* MaxShrinkPercent */
    char *service_areas_param;/* ServiceAreas as the web service wants it, or NULL = all */
    struct o3b_policy policy; /* BypassCategories, ServiceAreas, RequiredOnly,
                                 NeverBypass, AlsoBypass, TenantName, TenantDomain */
};

struct o3b_directive {
    const char *name;         /* without the "o365bypass." prefix */
    int (*set)(struct o3b_config *c, const char *const *argv, o3b_err *err);
    const char *default_text; /* for docs and `check-config` */
    const char *help;         /* one line */
};

/* NULL-terminated table of every directive. */
extern const struct o3b_directive o3b_directives[];

/* Find a directive by name (case-insensitive; an "o365bypass." prefix or
   any "service." prefix is ignored).  NULL when unknown. */
const struct o3b_directive *o3b_directive_find(const char *name);

/* Defaults for everything. */
void o3b_config_init(struct o3b_config *c);

/* Free everything the config holds; it is left empty (NULL strings), so
   call o3b_config_init() before using it again. */
void o3b_config_release(struct o3b_config *c);

/*
 * Apply one directive: `name` as in the file ("o365bypass.RefreshInterval"
 * or "RefreshInterval"), `argv` its NULL-terminated arguments.  On error the
 * message names the directive and the value.  Returns 0 or -1.
 */
int o3b_config_set(struct o3b_config *c, const char *name, const char *const *argv,
                   o3b_err *err);

/* After the last directive: freeze the policy lists.  Returns 0 or -1. */
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

/* Is `s` a GUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits)? */
bool o3b_guid_valid(const char *s);

#endif
