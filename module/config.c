/* SPDX-License-Identifier: MIT */
/*
 * config.c - the directive rows and their setters (see config.h).
 *
 * Each directive is one typed row.  Most rows need no code of their own:
 * the type's setter (path, integer, on/off, one-of) finds the field by the
 * row's offset and checks the row's bounds or choices; only directives with
 * rules beyond their type (ServiceURL, RefreshInterval, the lists, ...) name
 * a setter.  Defaults are rows' text run through those same setters at
 * init.  Setters produce messages of the form "o365bypass.Name: 'value' is
 * not ..." so an admin sees the line's fault without reading the docs.  The
 * file reader used by the CLI mimics c-icap's own tokenizer
 * (whitespace-separated words, "double quotes" group words, '#' starts a
 * comment line, Include follows files).
 */
#include "o365bypass/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "o365bypass/cidr.h"
#include "o365bypass/instance.h"
#include "o365bypass/table.h"

#define PREFIX "o365bypass."
#define SERVICE_NAME "o365bypass" /* PREFIX without the dot */
#define MAX_ITEMS 256
#define MAX_INCLUDE_DEPTH 16
#define MAX_LINE 8192
#define MAX_DEFAULT_WORDS 16

/* ---- small helpers ----------------------------------------------------------- */

static int argc_of(const char *const *argv)
{
    int n = 0;

    while (argv && argv[n])
        n++;
    return n;
}

static int set_string(char **slot, const char *value, o3b_err *err)
{
    char *copy = strdup(value);

    if (copy == NULL) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static int one_arg(const char *const *argv, const char **out, o3b_err *err)
{
    if (argc_of(argv) != 1) {
        o3b_err_set(err, "takes exactly one value (got %d)", argc_of(argv));
        return -1;
    }
    *out = argv[0];
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (*s == '\0' || *s == '+' || *s == '-' || *s == ' ')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int number(const char *const *argv, long lo, long hi, long *out, const char *unit,
                  o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (parse_long(v, lo, hi, out) != 0) {
        o3b_err_set(err, "'%s' is not a whole number of %s between %ld and %ld", v, unit, lo, hi);
        return -1;
    }
    return 0;
}

static int onoff(const char *const *argv, bool *out, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
        strcmp(v, "1") == 0)
        *out = true;
    else if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
             strcmp(v, "0") == 0)
        *out = false;
    else {
        o3b_err_set(err, "'%s' is not on or off", v);
        return -1;
    }
    return 0;
}

/* Split all arguments on commas into items (spaces already split them). */
static int items(const char *const *argv, char buf[][128], size_t max, size_t *n, o3b_err *err)
{
    *n = 0;
    if (argc_of(argv) == 0) {
        o3b_err_set(err, "needs at least one value");
        return -1;
    }
    for (int i = 0; argv[i]; i++) {
        const char *p = argv[i];
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len > 0) {
                if (*n == max || len >= 128) {
                    o3b_err_set(err, "too many or too long values");
                    return -1;
                }
                memcpy(buf[*n], p, len);
                buf[(*n)++][len] = '\0';
            }
            p += len + (comma != NULL);
        }
    }
    if (*n == 0) {
        o3b_err_set(err, "needs at least one value");
        return -1;
    }
    return 0;
}

static int url_ok(const char *v)
{
    return (strncasecmp(v, "http://", 7) == 0 && v[7] != '\0' && v[7] != '/') ||
           (strncasecmp(v, "https://", 8) == 0 && v[8] != '\0' && v[8] != '/');
}

/* ---- where a row's value lands ------------------------------------------------ */

static char **str_slot(struct o3b_config *c, const struct o3b_directive *d)
{
    return (char **)(void *)((char *)c + d->offset);
}

static long *long_slot(struct o3b_config *c, const struct o3b_directive *d)
{
    return (long *)(void *)((char *)c + d->offset);
}

static bool *bool_slot(struct o3b_config *c, const struct o3b_directive *d)
{
    return (bool *)(void *)((char *)c + d->offset);
}

/* Does the row's field hold a malloc'd string?  A one-of keeps the choice's
   text unless its own setter stores something else (DecryptedRequests). */
static bool holds_string(const struct o3b_directive *d)
{
    return d->type == O3B_DT_STRING || d->type == O3B_DT_PATH || d->type == O3B_DT_URL ||
           (d->type == O3B_DT_ENUM && d->set == NULL);
}

/* "none" on a row that may be unset: NULL, and true. */
static bool unset_by_none(struct o3b_config *c, const struct o3b_directive *d, const char *v)
{
    if (!(d->flags & O3B_DF_NONE) || strcasecmp(v, "none") != 0)
        return false;
    free(*str_slot(c, d));
    *str_slot(c, d) = NULL;
    return true;
}

/* ---- the types' own setters ----------------------------------------------------- */

static int set_path(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                    o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (unset_by_none(c, d, v))
        return 0;
    if (v[0] != '/') {
        o3b_err_set(err, "'%s' is not an absolute path", v);
        return -1;
    }
    return set_string(str_slot(c, d), v, err);
}

static int set_integer(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                       o3b_err *err)
{
    long v;

    if (number(argv, d->min, d->max, &v, d->unit, err) != 0)
        return -1;
    *long_slot(c, d) = v;
    return 0;
}

static int set_onoff(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                     o3b_err *err)
{
    return onoff(argv, bool_slot(c, d), err);
}

/* "A, B, C" from the row's choices. */
static void join_choices(const struct o3b_directive *d, const char *sep, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned i = 0; d->choice && d->choice(i) && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? sep : "", d->choice(i));
}

static int set_enum(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                    o3b_err *err)
{
    char all[256];
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    for (unsigned i = 0; d->choice(i) != NULL; i++)
        if (strcasecmp(v, d->choice(i)) == 0)
            return set_string(str_slot(c, d), d->choice(i), err);
    join_choices(d, ", ", all, sizeof all);
    o3b_err_set(err, "'%s' is not one of %s", v, all);
    return -1;
}

static const o3b_directive_set_fn type_setters[O3B_DT_COUNT] = {
    [O3B_DT_PATH] = set_path,
    [O3B_DT_INTEGER] = set_integer,
    [O3B_DT_ONOFF] = set_onoff,
    [O3B_DT_ENUM] = set_enum,
};

/* ---- rows with rules beyond their type --------------------------------------------- */

static int d_service_url(struct o3b_config *c, const struct o3b_directive *d,
                         const char *const *argv, o3b_err *err)
{
    const char *v;
    size_t n;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (!url_ok(v) || strpbrk(v, " \t?#") != NULL || strlen(v) > 400) {
        o3b_err_set(err, "'%s' is not an http:// or https:// base URL", v);
        return -1;
    }
    if (set_string(str_slot(c, d), v, err) != 0)
        return -1;
    n = strlen(c->service_url);
    while (n > 0 && c->service_url[n - 1] == '/')
        c->service_url[--n] = '\0';
    return 0;
}

/* Is the host of this http(s) URL loopback: 127.0.0.0/8, [::1] or localhost?
   A URL with user information ("http://127.0.0.1@host/") never is. */
static bool url_host_is_loopback(const char *url)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    const char *h = strstr(url, "://") + 3;
    size_t n = strcspn(h, "/?#");
    uint8_t a[16];

    if (memchr(h, '@', n) != NULL)
        return false;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);
        return close != NULL && o3b_ipv6_parse(h + 1, (size_t)(close - h - 1), a) == 0 &&
               memcmp(a, v6_loopback, 16) == 0;
    }
    n = strcspn(h, ":/?#");
    if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
        return true;
    return o3b_ipv4_parse(h, n, a) == 0 && a[0] == 127;
}

/* A plain http:// ServiceURL lets anyone on the path write the table. */
static int check_service_url(const struct o3b_config *c, o3b_err *err)
{
    if (strncasecmp(c->service_url, "http://", 7) != 0 || c->allow_http_service_url ||
        url_host_is_loopback(c->service_url))
        return 0;
    o3b_err_set(err,
                PREFIX "ServiceURL: '%s' is plain http to a host that is not loopback, "
                       "so anyone on the path could write the endpoint table: use https://, a "
                       "mirror on 127.0.0.0/8, [::1] or localhost, or set " PREFIX
                       "AllowHttpServiceURL on",
                c->service_url);
    return -1;
}

static int d_refresh(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                     o3b_err *err)
{
    long v;

    if (number(argv, d->min, d->max, &v, d->unit, err) != 0)
        return -1;
    if (v != 0 && v < O3B_MIN_REFRESH) {
        o3b_err_set(err, "'%s' is too short: 0 (never fetch) or at least %d seconds", argv[0],
                    O3B_MIN_REFRESH);
        return -1;
    }
    *long_slot(c, d) = v;
    return 0;
}

static int d_categories(struct o3b_config *c, const struct o3b_directive *d,
                        const char *const *argv, o3b_err *err)
{
    char it[MAX_ITEMS][128];
    size_t n;
    unsigned mask = 0;

    (void)d;
    if (items(argv, it, MAX_ITEMS, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        enum o3b_category cat;
        if (o3b_category_parse(it[i], &cat) != 0) {
            o3b_err_set(err, "'%s' is not Optimize, Allow or Default", it[i]);
            return -1;
        }
        mask |= 1u << cat;
    }
    c->policy.categories = mask;
    return 0;
}

/* The areas named (besides All), as the web service's parameter. */
static int areas_of(char it[][128], size_t n, unsigned *mask, bool *all, char *param, size_t size,
                    o3b_err *err)
{
    *mask = 0;
    *all = false;
    param[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        enum o3b_area a;
        if (strcasecmp(it[i], "All") == 0) {
            *all = true;
            continue;
        }
        if (o3b_area_parse(it[i], &a) != 0) {
            o3b_err_set(err, "'%s' is not All, Exchange, SharePoint, Skype, Common or MEM", it[i]);
            return -1;
        }
        if (!(*mask & (1u << a)) && a != O3B_AREA_COMMON)
            snprintf(param + strlen(param), size - strlen(param), "%s%s", param[0] ? "," : "",
                     o3b_area_name(a));
        *mask |= 1u << a;
    }
    return 0;
}

static int d_areas(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                   o3b_err *err)
{
    char it[MAX_ITEMS][128], param[256];
    size_t n;
    unsigned mask;
    bool all;

    (void)d;
    if (items(argv, it, MAX_ITEMS, &n, err) != 0 ||
        areas_of(it, n, &mask, &all, param, sizeof param, err) != 0)
        return -1;
    free(c->service_areas_param);
    c->service_areas_param = NULL;
    if (all) {
        c->policy.areas = O3B_AREAS_ALL;
        return 0;
    }
    /* Common is a prerequisite of every other area: Microsoft's web service
       always returns it, and so it is always bypassed with them */
    c->policy.areas = mask | (1u << O3B_AREA_COMMON);
    /* ask the web service for the others named (only Common: for Common) */
    return set_string(&c->service_areas_param, param[0] ? param : "Common", err);
}

/* DecryptedRequests: a one-of stored as the policy's enum, not as text. */
static int d_decrypted(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                       o3b_err *err)
{
    const char *v;

    (void)d;
    if (one_arg(argv, &v, err) != 0)
        return -1;
    for (unsigned i = 0; i < O3B_DECRYPTED_COUNT; i++)
        if (strcasecmp(v, o3b_decrypted_mode_name((enum o3b_decrypted_mode)i)) == 0) {
            c->policy.decrypted = (uint8_t)i;
            return 0;
        }
    o3b_err_set(err, "'%s' is not inspect or sni-bound", v);
    return -1;
}

typedef int (*add_fn)(struct o3b_policy *, const char *, o3b_err *);

static int add_items(struct o3b_config *c, const char *const *argv, add_fn add, o3b_err *err)
{
    char it[MAX_ITEMS][128];
    size_t n;

    if (items(argv, it, MAX_ITEMS, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (add(&c->policy, it[i], err) != 0)
            return -1;
    return 0;
}

static int d_never(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                   o3b_err *err)
{
    (void)d;
    return add_items(c, argv, o3b_policy_add_never, err);
}

static int d_also(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                  o3b_err *err)
{
    (void)d;
    return add_items(c, argv, o3b_policy_add_also, err);
}

static int d_tenants(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                     o3b_err *err)
{
    (void)d;
    return add_items(c, argv, o3b_policy_add_tenant, err);
}

static int d_tenant_domains(struct o3b_config *c, const struct o3b_directive *d,
                            const char *const *argv, o3b_err *err)
{
    (void)d;
    return add_items(c, argv, o3b_policy_add_tenant_domain, err);
}

static int d_client_id(struct o3b_config *c, const struct o3b_directive *d, const char *const *argv,
                       o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (!o3b_guid_valid(v)) {
        o3b_err_set(err, "'%s' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
        return -1;
    }
    if (strcasecmp(v, "b10c5ed1-bad1-445f-b386-b919946339a7") == 0) {
        o3b_err_set(err,
                    "'%s' is the example GUID from Microsoft's documentation, which the "
                    "service may block; use your own (or leave it unset)",
                    v);
        return -1;
    }
    return set_string(str_slot(c, d), v, err);
}

static int d_fetch_proxy(struct o3b_config *c, const struct o3b_directive *d,
                         const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (unset_by_none(c, d, v))
        return 0;
    if (!url_ok(v) || strpbrk(v, " \t") != NULL) {
        o3b_err_set(err, "'%s' is not a proxy URL like http://proxy.example:3128", v);
        return -1;
    }
    return set_string(str_slot(c, d), v, err);
}

/* ---- choices, through the one name table of each ----------------------------------- */

static const char *instance_choice(unsigned i)
{
    return i < O3B_INSTANCE_COUNT ? o3b_instance_name((enum o3b_instance)i) : NULL;
}

static const char *category_choice(unsigned i)
{
    /* highest first, as people write them */
    return i < O3B_CAT_COUNT ? o3b_category_name((enum o3b_category)(O3B_CAT_COUNT - 1 - i)) : NULL;
}

static const char *decrypted_choice(unsigned i)
{
    return i < O3B_DECRYPTED_COUNT ? o3b_decrypted_mode_name((enum o3b_decrypted_mode)i) : NULL;
}

static const char *area_choice(unsigned i)
{
    if (i == 0)
        return "All";
    return i - 1 < O3B_AREA_OTHER ? o3b_area_name((enum o3b_area)(i - 1)) : NULL;
}

/* ---- the rows ------------------------------------------------------------------------- */

#define F(field) offsetof(struct o3b_config, field)

/* clang-format off */
const struct o3b_directive o3b_directives[] = {
    {.name = "SeedFile", .type = O3B_DT_PATH, .offset = F(seed_file),
     .default_value = O3B_SEED_FILE,
     .help = "endpoint table used when CacheDir holds nothing newer (the bundled Worldwide "
             "snapshot)"},
    {.name = "CacheDir", .type = O3B_DT_PATH, .offset = F(cache_dir), .flags = O3B_DF_NONE,
     .default_value = O3B_CACHE_DIR,
     .help = "where the last good table, the previous one and the client id are kept "
             "(none = no cache)"},
    {.name = "Instance", .type = O3B_DT_ENUM, .offset = F(instance), .choice = instance_choice,
     .default_value = "Worldwide",
     .help = "Microsoft 365 instance: Worldwide, USGovDoD, USGovGCCHigh or China"},
    {.name = "ServiceURL", .type = O3B_DT_URL, .offset = F(service_url), .set = d_service_url,
     .default_value = "https://endpoints.office.com",
     .help = "base URL of the endpoint web service: https://, or http:// only on loopback (a "
             "local mirror) or with AllowHttpServiceURL on"},
    {.name = "AllowHttpServiceURL", .type = O3B_DT_ONOFF, .offset = F(allow_http_service_url),
     .default_value = "off",
     .help = "accept a plain http:// ServiceURL on a host that is not loopback (whoever is on "
             "the path can then write the table, within the refusals and guards)"},
    {.name = "RefreshInterval", .type = O3B_DT_INTEGER, .offset = F(refresh_interval),
     .min = 0, .max = 604800, .unit = "seconds", .set = d_refresh, .default_value = "3600",
     .help = "seconds between version checks; 0 never fetches (offline: cache or SeedFile "
             "only), otherwise at least 60"},
    {.name = "BypassCategories", .type = O3B_DT_ENUM_SET, .choice = category_choice,
     .set = d_categories, .default_value = "Optimize Allow",
     .help = "categories whose endpoints are bypassed (Optimize, Allow, Default)"},
    {.name = "ServiceAreas", .type = O3B_DT_ENUM_SET, .choice = area_choice, .set = d_areas,
     .default_value = "All",
     .help = "service areas bypassed: All or a list of Exchange, SharePoint, Skype, MEM "
             "(Common, their prerequisite, always included)"},
    {.name = "RequiredOnly", .type = O3B_DT_ONOFF, .offset = F(policy.required_only),
     .default_value = "off", .help = "bypass only endpoint sets marked required"},
    {.name = "DecryptedRequests", .type = O3B_DT_ENUM, .offset = F(policy.decrypted),
     .choice = decrypted_choice, .set = d_decrypted, .default_value = "inspect",
     .help = "requests the proxy decrypted (ssl-bump: https URLs, plain http to port 443): "
             "inspect, or sni-bound (decided like the rest only when the client's TLS SNI, "
             "passed in X-O365bypass-SNI, names the request's host)"},
    {.name = "NeverBypass", .type = O3B_DT_LIST, .set = d_never, .unset_means = "none",
     .help = "hosts, host patterns, IPs or CIDRs never bypassed, any breadth (*, *.de, "
             "0.0.0.0/0, ::/0); always wins; repeatable"},
    {.name = "AlsoBypass", .type = O3B_DT_LIST, .set = d_also, .unset_means = "none",
     .help = "hosts, host patterns, IPs or CIDRs bypassed on ports 80/443 although not "
             "listed; repeatable"},
    {.name = "TenantName", .type = O3B_DT_LIST, .set = d_tenants,
     .unset_means = "none: no tenant pinning",
     .help = "your tenant names; tenant-addressable wildcards are bypassed only for them; "
             "repeatable"},
    {.name = "TenantDomain", .type = O3B_DT_LIST, .set = d_tenant_domains,
     .unset_means = "none: MX hosts pinned only with TenantName (then all inspected)",
     .help = "your mail domains; other domains' MX hosts are inspected; repeatable"},
    {.name = "NoIPv6", .type = O3B_DT_ONOFF, .offset = F(no_ipv6), .default_value = "off",
     .help = "ask the web service for IPv4 prefixes only"},
    {.name = "ClientRequestId", .type = O3B_DT_STRING, .offset = F(client_request_id),
     .set = d_client_id, .unset_means = "generated once, kept in CacheDir",
     .help = "GUID sent to the web service"},
    {.name = "CAFile", .type = O3B_DT_PATH, .offset = F(ca_file),
     .unset_means = "the system store", .help = "CA bundle for the web service's certificate"},
    {.name = "CAPath", .type = O3B_DT_PATH, .offset = F(ca_path),
     .unset_means = "the system store",
     .help = "CA directory for the web service's certificate"},
    {.name = "FetchProxy", .type = O3B_DT_URL, .offset = F(fetch_proxy), .flags = O3B_DF_NONE,
     .set = d_fetch_proxy, .unset_means = "none: direct",
     .help = "proxy for the web service requests"},
    {.name = "ConnectTimeout", .type = O3B_DT_INTEGER, .offset = F(connect_timeout), .min = 1,
     .max = 300, .unit = "seconds", .default_value = "10",
     .help = "seconds to connect to the web service"},
    {.name = "FetchTimeout", .type = O3B_DT_INTEGER, .offset = F(fetch_timeout), .min = 1,
     .max = 3600, .unit = "seconds", .default_value = "60",
     .help = "seconds for a whole web service request"},
    {.name = "MaxFeedBytes", .type = O3B_DT_INTEGER, .offset = F(max_feed_bytes),
     .min = 65536, .max = 64L * 1024 * 1024, .unit = "bytes", .default_value = "4194304",
     .help = "largest endpoint response accepted, in bytes"},
    {.name = "MaxShrinkPercent", .type = O3B_DT_INTEGER, .offset = F(max_shrink_percent),
     .min = 0, .max = 100, .unit = "percent", .default_value = "50",
     .help = "refuse a new table that loses more than this share of the entries in use"},
    {.name = NULL},
};
/* clang-format on */

/* ---- public ----------------------------------------------------------------------- */

const struct o3b_directive *o3b_directive_find(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot != NULL)
        name = dot + 1;
    for (const struct o3b_directive *d = o3b_directives; d->name; d++)
        if (strcasecmp(d->name, name) == 0)
            return d;
    return NULL;
}

char *o3b_directive_describe(const struct o3b_directive *d, char *buf, size_t size)
{
    const char *none = (d->flags & O3B_DF_NONE) ? " or none" : "";
    char choices[256];

    join_choices(d, "|", choices, sizeof choices);
    switch (d->type) {
    case O3B_DT_PATH:
        snprintf(buf, size, "absolute path%s", none);
        break;
    case O3B_DT_URL:
        snprintf(buf, size, "http(s) URL%s", none);
        break;
    case O3B_DT_INTEGER:
        snprintf(buf, size, "integer %ld..%ld %s", d->min, d->max, d->unit);
        break;
    case O3B_DT_ONOFF:
        snprintf(buf, size, "on|off");
        break;
    case O3B_DT_ENUM:
        snprintf(buf, size, "one of %s", choices);
        break;
    case O3B_DT_ENUM_SET:
        snprintf(buf, size, "one or more of %s", choices);
        break;
    case O3B_DT_LIST:
        snprintf(buf, size, "list, repeatable");
        break;
    default:
        snprintf(buf, size, "text");
        break;
    }
    return buf;
}

static o3b_directive_set_fn setter_of(const struct o3b_directive *d)
{
    if (d->set != NULL)
        return d->set;
    return (unsigned)d->type < O3B_DT_COUNT ? type_setters[d->type] : NULL;
}

/* Split a default's text into words and apply it like a line of the file. */
static int apply_default(struct o3b_config *c, const struct o3b_directive *d, o3b_err *err)
{
    char text[512], *words[MAX_DEFAULT_WORDS + 1], *save = NULL;
    int n = 0;

    snprintf(text, sizeof text, "%s", d->default_value);
    for (char *w = strtok_r(text, " \t", &save); w && n < MAX_DEFAULT_WORDS;
         w = strtok_r(NULL, " \t", &save))
        words[n++] = w;
    words[n] = NULL;
    return setter_of(d)(c, d, (const char *const *)words, err);
}

void o3b_config_init(struct o3b_config *c)
{
    o3b_err err;

    memset(c, 0, sizeof *c);
    o3b_policy_init(&c->policy);
    for (const struct o3b_directive *d = o3b_directives; d->name; d++)
        if (d->default_value != NULL && setter_of(d) != NULL)
            (void)apply_default(c, d, &err); /* each default is checked by test_config */
}

void o3b_config_release(struct o3b_config *c)
{
    for (const struct o3b_directive *d = o3b_directives; d->name; d++)
        if (holds_string(d)) {
            free(*str_slot(c, d));
            *str_slot(c, d) = NULL;
        }
    free(c->service_areas_param);
    o3b_policy_release(&c->policy);
    memset(c, 0, sizeof *c); /* nothing left to free: o3b_config_init() to reuse */
    o3b_policy_init(&c->policy);
}

int o3b_config_set(struct o3b_config *c, const char *name, const char *const *argv, o3b_err *err)
{
    const struct o3b_directive *d = o3b_directive_find(name);

    if (d == NULL) {
        o3b_err_set(err, "%s: unknown directive", name);
        return -1;
    }
    if (setter_of(d) == NULL) {
        o3b_err_set(err, PREFIX "%s: no setter for this directive", d->name);
        return -1;
    }
    if (setter_of(d)(c, d, argv, err) != 0) {
        o3b_err_prefix(err, PREFIX "%s", d->name);
        return -1;
    }
    return 0;
}

int o3b_config_finish(struct o3b_config *c, o3b_err *err)
{
    c->finish_at = NULL;
    if (c->policy.categories == 0) {
        o3b_err_set(err, PREFIX "BypassCategories: no category left to bypass");
        return -1;
    }
    if (check_service_url(c, err) != 0) {
        c->finish_at = c->service_url_at[0] ? c->service_url_at : NULL;
        return -1;
    }
    return o3b_policy_finish(&c->policy, err);
}

struct o3b_store_params o3b_config_store_params(const struct o3b_config *c)
{
    struct o3b_store_params p = {c->cache_dir, c->instance, c->seed_file, c->max_feed_bytes};

    return p;
}

/* ---- file reader (CLI, check-config) ----------------------------------------------- */

/* c-icap-style words: whitespace separates, "..." groups.  Returns count or -1. */
static int split_words(char *line, char **words, int max)
{
    int n = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return n;
        if (n == max - 1)
            return -1;
        if (*p == '"') {
            char *end = strchr(++p, '"');
            if (end == NULL)
                return -1;
            *end = '\0';
            words[n++] = p;
            p = end + 1;
        } else {
            words[n++] = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
        }
        words[n] = NULL;
    }
}

/* One reading: the config, where bad lines go, what is counted. */
struct reader {
    struct o3b_config *c;
    o3b_config_report_fn report;
    void *ud;
    struct o3b_config_scan *scan; /* never NULL inside the reader */
};

static void report_err(const struct reader *r, const char *file, unsigned line, const char *msg)
{
    if (r->report)
        r->report(r->ud, file, line, msg);
}

static int read_file_depth(struct reader *r, const char *path, int depth);

/* c-icap takes a relative Include in its configuration directory; without
   scan->include_dir, in the including file's directory. */
static int include_file(struct reader *r, const char *from, const char *target, int depth)
{
    char full[PATH_MAX];
    const char *slash = strrchr(from, '/'), *dir = r->scan->include_dir;

    if (target[0] == '/' || (dir == NULL && slash == NULL))
        snprintf(full, sizeof full, "%s", target);
    else if (dir != NULL)
        snprintf(full, sizeof full, "%s/%s", dir, target);
    else
        snprintf(full, sizeof full, "%.*s/%s", (int)(slash - from), from, target);
    return read_file_depth(r, full, depth + 1);
}

/* `Service o365bypass MODULE`: the line that makes c-icap load the module. */
static bool is_service_line(char *const *words, int n)
{
    return n >= 3 && strcasecmp(words[0], "Service") == 0 &&
           strcasecmp(words[1], SERVICE_NAME) == 0;
}

static void count_directive(struct reader *r, const char *path, unsigned lineno)
{
    struct o3b_config_scan *scan = r->scan;

    if (scan->services == 0 && scan->early_line == 0) {
        snprintf(scan->early_file, sizeof scan->early_file, "%s", path);
        scan->early_line = lineno;
    }
    scan->directives++;
}

static int handle_line(struct reader *r, const char *path, unsigned lineno, char *line, int depth)
{
    char *words[64];
    o3b_err err;
    int n = split_words(line, words, 64);

    if (n < 0) {
        report_err(r, path, lineno, "unbalanced quotes or too many words");
        return strncasecmp(line, PREFIX, strlen(PREFIX)) == 0 ? 1 : 0;
    }
    if (n == 0 || words[0][0] == '#')
        return 0;
    if (strcasecmp(words[0], "Include") == 0 && n == 2) {
        int rc = include_file(r, path, words[1], depth);
        return rc < 0 ? 1 : rc;
    }
    if (is_service_line(words, n))
        r->scan->services++;
    if (strncasecmp(words[0], PREFIX, strlen(PREFIX)) != 0)
        return 0;
    count_directive(r, path, lineno);
    if (o3b_config_set(r->c, words[0], (const char *const *)(words + 1), &err) != 0) {
        report_err(r, path, lineno, err.msg);
        return 1;
    }
    if (strcasecmp(words[0], PREFIX "ServiceURL") == 0)
        snprintf(r->c->service_url_at, sizeof r->c->service_url_at, "%s:%u", path, lineno);
    return 0;
}

static int read_file_depth(struct reader *r, const char *path, int depth)
{
    char line[MAX_LINE];
    unsigned lineno = 0;
    int bad = 0;
    FILE *f;

    if (depth > MAX_INCLUDE_DEPTH) {
        report_err(r, path, 0, "Include nested too deeply");
        return -1;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
        report_err(r, path, 0, msg);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            report_err(r, path, lineno, "line too long");
            bad++;
            continue;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        bad += handle_line(r, path, lineno, line, depth);
    }
    if (ferror(f)) { /* e.g. a directory: fopen() succeeds, reading fails */
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
        report_err(r, path, lineno, msg);
        fclose(f);
        return lineno == 0 ? -1 : bad + 1;
    }
    fclose(f);
    return bad;
}

int o3b_config_read_scan(struct o3b_config *c, const char *path, struct o3b_config_scan *scan,
                         o3b_config_report_fn report, void *ud)
{
    struct reader r = {c, report, ud, scan};

    scan->directives = 0;
    scan->services = 0;
    scan->early_file[0] = '\0';
    scan->early_line = 0;
    return read_file_depth(&r, path, 0);
}

int o3b_config_read_file(struct o3b_config *c, const char *path, o3b_config_report_fn report,
                         void *ud)
{
    struct o3b_config_scan scan = {0};

    return o3b_config_read_scan(c, path, &scan, report, ud);
}
