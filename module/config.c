/*
 * config.c - the directive table and its parsers (see config.h).
 *
 * Each directive is one row: name, setter, default text, help.  Setters
 * check bounds and syntax and produce messages of the form
 * "o365bypass.Name: 'value' is not ..." so an admin sees the line's fault
 * without reading the docs.  The file reader used by the CLI mimics c-icap's
 * own tokenizer (whitespace-separated words, "double quotes" group words,
 * '#' starts a comment line, Include follows files).
 */
#include "o365bypass/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "o365bypass/table.h"

#define PREFIX "o365bypass."
#define MAX_ITEMS 256
#define MAX_INCLUDE_DEPTH 16
#define MAX_LINE 8192

static const char *const instances[] = {"Worldwide", "USGovDoD", "USGovGCCHigh", "China"};

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
    else if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 ||
             strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
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

bool o3b_guid_valid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    const char *p = s;

    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                  (*p >= 'A' && *p <= 'F')))
                return false;
        if (g < 4 && *p++ != '-')
            return false;
    }
    return *p == '\0';
}

/* ---- setters ---------------------------------------------------------------------- */

static int set_path(char **slot, const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (v[0] != '/') {
        o3b_err_set(err, "'%s' is not an absolute path", v);
        return -1;
    }
    return set_string(slot, v, err);
}

static int d_seed_file(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return set_path(&c->seed_file, argv, err);
}

static int d_cache_dir(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (strcasecmp(v, "none") == 0)
        return set_string(&c->cache_dir, "", err);
    return set_path(&c->cache_dir, argv, err);
}

static int d_instance(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++)
        if (strcasecmp(v, instances[i]) == 0)
            return set_string(&c->instance, instances[i], err);
    o3b_err_set(err, "'%s' is not one of Worldwide, USGovDoD, USGovGCCHigh, China", v);
    return -1;
}

static int d_service_url(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    const char *v;
    size_t n;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (!url_ok(v) || strpbrk(v, " \t?#") != NULL || strlen(v) > 400) {
        o3b_err_set(err, "'%s' is not an http:// or https:// base URL", v);
        return -1;
    }
    if (set_string(&c->service_url, v, err) != 0)
        return -1;
    n = strlen(c->service_url);
    while (n > 0 && c->service_url[n - 1] == '/')
        c->service_url[--n] = '\0';
    return 0;
}

static int d_refresh(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    long v;

    if (number(argv, 0, O3B_MAX_REFRESH, &v, "seconds", err) != 0)
        return -1;
    if (v != 0 && v < O3B_MIN_REFRESH) {
        o3b_err_set(err, "'%s' is too short: 0 (never fetch) or at least %d seconds", argv[0],
                    O3B_MIN_REFRESH);
        return -1;
    }
    c->refresh_interval = v;
    return 0;
}

static int d_categories(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    char it[MAX_ITEMS][128];
    size_t n;
    unsigned mask = 0;

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

static int d_areas(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    char it[MAX_ITEMS][128], param[256] = "";
    size_t n;
    unsigned mask = 0;
    bool all = false;

    if (items(argv, it, MAX_ITEMS, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        enum o3b_area a;
        if (strcasecmp(it[i], "All") == 0) {
            all = true;
            continue;
        }
        if (o3b_area_parse(it[i], &a) != 0) {
            o3b_err_set(err, "'%s' is not All, Exchange, SharePoint, Skype, Common or MEM", it[i]);
            return -1;
        }
        if (!(mask & (1u << a)) && a != O3B_AREA_COMMON) {
            if (param[0])
                strcat(param, ",");
            strcat(param, o3b_area_name(a));
        }
        mask |= 1u << a;
    }
    free(c->service_areas_param);
    c->service_areas_param = NULL;
    if (all) {
        c->policy.areas = O3B_AREAS_ALL;
        return 0;
    }
    /* Common is a prerequisite of every other area: Microsoft's web service
       always returns it, and so it is always bypassed with them */
    c->policy.areas = mask | (1u << O3B_AREA_COMMON);
    /* ask the web service for the others named */
    if (param[0] && set_string(&c->service_areas_param, param, err) != 0)
        return -1;
    if (!param[0] && set_string(&c->service_areas_param, "Common", err) != 0)
        return -1;
    return 0;
}

static int d_required_only(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return onoff(argv, &c->policy.required_only, err);
}

static int d_no_ipv6(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return onoff(argv, &c->no_ipv6, err);
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

static int d_never(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return add_items(c, argv, o3b_policy_add_never, err);
}

static int d_also(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return add_items(c, argv, o3b_policy_add_also, err);
}

static int d_tenants(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return add_items(c, argv, o3b_policy_add_tenant, err);
}

static int d_tenant_domains(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return add_items(c, argv, o3b_policy_add_tenant_domain, err);
}

static int d_client_id(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (!o3b_guid_valid(v)) {
        o3b_err_set(err, "'%s' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
        return -1;
    }
    if (strcasecmp(v, "b10c5ed1-bad1-445f-b386-b919946339a7") == 0) {
        o3b_err_set(err, "'%s' is the example GUID from Microsoft's documentation, which the "
                         "service may block; use your own (or leave it unset)", v);
        return -1;
    }
    return set_string(&c->client_request_id, v, err);
}

static int d_ca_file(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return set_path(&c->ca_file, argv, err);
}

static int d_ca_path(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return set_path(&c->ca_path, argv, err);
}

static int d_fetch_proxy(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    const char *v;

    if (one_arg(argv, &v, err) != 0)
        return -1;
    if (strcasecmp(v, "none") == 0) {
        free(c->fetch_proxy);
        c->fetch_proxy = NULL;
        return 0;
    }
    if (!url_ok(v) || strpbrk(v, " \t") != NULL) {
        o3b_err_set(err, "'%s' is not a proxy URL like http://proxy.example:3128", v);
        return -1;
    }
    return set_string(&c->fetch_proxy, v, err);
}

static int d_connect_timeout(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return number(argv, 1, 300, &c->connect_timeout, "seconds", err);
}

static int d_fetch_timeout(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return number(argv, 1, 3600, &c->fetch_timeout, "seconds", err);
}

static int d_max_feed(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return number(argv, 65536, 64L * 1024 * 1024, &c->max_feed_bytes, "bytes", err);
}

static int d_max_shrink(struct o3b_config *c, const char *const *argv, o3b_err *err)
{
    return number(argv, 0, 100, &c->max_shrink_percent, "percent", err);
}

const struct o3b_directive o3b_directives[] = {
    {"SeedFile", d_seed_file, O3B_SEED_FILE,
     "endpoint table used when CacheDir holds nothing newer (the bundled Worldwide snapshot)"},
    {"CacheDir", d_cache_dir, O3B_CACHE_DIR,
     "where the last good table, the previous one and the client id are kept (none = no cache)"},
    {"Instance", d_instance, O3B_DEFAULT_INSTANCE,
     "Microsoft 365 instance: Worldwide, USGovDoD, USGovGCCHigh or China"},
    {"ServiceURL", d_service_url, O3B_DEFAULT_SERVICE_URL, "base URL of the endpoint web service"},
    {"RefreshInterval", d_refresh, "3600",
     "seconds between version checks; 0 never fetches (offline: cache or SeedFile only)"},
    {"BypassCategories", d_categories, "Optimize Allow",
     "categories whose endpoints are bypassed (Optimize, Allow, Default)"},
    {"ServiceAreas", d_areas, "All",
     "service areas bypassed: All or a list of Exchange, SharePoint, Skype, MEM "
     "(Common, their prerequisite, always included)"},
    {"RequiredOnly", d_required_only, "off", "bypass only endpoint sets marked required"},
    {"NeverBypass", d_never, "(empty)",
     "hosts, host patterns, IPs or CIDRs never bypassed, any breadth (*, *.de, 0.0.0.0/0, "
     "::/0); always wins; repeatable"},
    {"AlsoBypass", d_also, "(empty)",
     "hosts, host patterns, IPs or CIDRs bypassed on ports 80/443 although not listed; "
     "repeatable"},
    {"TenantName", d_tenants, "(empty: no pinning)",
     "your tenant names; tenant-addressable wildcards are bypassed only for them; repeatable"},
    {"TenantDomain", d_tenant_domains, "(empty)",
     "your mail domains; other domains' MX hosts are inspected; repeatable"},
    {"NoIPv6", d_no_ipv6, "off", "ask the web service for IPv4 prefixes only"},
    {"ClientRequestId", d_client_id, "(generated once, kept in CacheDir)",
     "GUID sent to the web service"},
    {"CAFile", d_ca_file, "(system store)", "CA bundle for the web service's certificate"},
    {"CAPath", d_ca_path, "(system store)", "CA directory for the web service's certificate"},
    {"FetchProxy", d_fetch_proxy, "none", "proxy for the web service requests"},
    {"ConnectTimeout", d_connect_timeout, "10", "seconds to connect to the web service"},
    {"FetchTimeout", d_fetch_timeout, "60", "seconds for a whole web service request"},
    {"MaxFeedBytes", d_max_feed, "4194304", "largest endpoint response accepted, in bytes"},
    {"MaxShrinkPercent", d_max_shrink, "50",
     "refuse a new table that loses more than this share of the entries in use"},
    {NULL, NULL, NULL, NULL},
};

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

void o3b_config_init(struct o3b_config *c)
{
    memset(c, 0, sizeof *c);
    c->seed_file = strdup(O3B_SEED_FILE);
    c->cache_dir = strdup(O3B_CACHE_DIR);
    c->instance = strdup(O3B_DEFAULT_INSTANCE);
    c->service_url = strdup(O3B_DEFAULT_SERVICE_URL);
    c->refresh_interval = O3B_DEFAULT_REFRESH;
    c->connect_timeout = 10;
    c->fetch_timeout = 60;
    c->max_feed_bytes = 4L * 1024 * 1024;
    c->max_shrink_percent = 50;
    o3b_policy_init(&c->policy);
}

void o3b_config_release(struct o3b_config *c)
{
    free(c->seed_file);
    free(c->cache_dir);
    free(c->instance);
    free(c->service_url);
    free(c->client_request_id);
    free(c->ca_file);
    free(c->ca_path);
    free(c->fetch_proxy);
    free(c->service_areas_param);
    o3b_policy_release(&c->policy);
    memset(c, 0, sizeof *c); /* nothing left to free: o3b_config_init() to reuse */
    o3b_policy_init(&c->policy);
}

int o3b_config_set(struct o3b_config *c, const char *name, const char *const *argv,
                   o3b_err *err)
{
    const struct o3b_directive *d = o3b_directive_find(name);

    if (d == NULL) {
        o3b_err_set(err, "%s: unknown directive", name);
        return -1;
    }
    if (d->set(c, argv, err) != 0) {
        o3b_err_prefix(err, PREFIX "%s", d->name);
        return -1;
    }
    return 0;
}

int o3b_config_finish(struct o3b_config *c, o3b_err *err)
{
    if (c->policy.categories == 0) {
        o3b_err_set(err, PREFIX "BypassCategories: no category left to bypass");
        return -1;
    }
    return o3b_policy_finish(&c->policy, err);
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

static void report_err(o3b_config_report_fn report, void *ud, const char *file, unsigned line,
                       const char *msg)
{
    if (report)
        report(ud, file, line, msg);
}

static int read_file_depth(struct o3b_config *c, const char *path, o3b_config_report_fn report,
                           void *ud, int depth);

static int include_file(struct o3b_config *c, const char *from, const char *target,
                        o3b_config_report_fn report, void *ud, int depth)
{
    char full[PATH_MAX];
    const char *slash = strrchr(from, '/');

    if (target[0] == '/' || slash == NULL)
        snprintf(full, sizeof full, "%s", target);
    else
        snprintf(full, sizeof full, "%.*s/%s", (int)(slash - from), from, target);
    return read_file_depth(c, full, report, ud, depth + 1);
}

static int handle_line(struct o3b_config *c, const char *path, unsigned lineno, char *line,
                       o3b_config_report_fn report, void *ud, int depth)
{
    char *words[64];
    o3b_err err;
    int n = split_words(line, words, 64);

    if (n < 0) {
        report_err(report, ud, path, lineno, "unbalanced quotes or too many words");
        return strncasecmp(line, PREFIX, strlen(PREFIX)) == 0 ? 1 : 0;
    }
    if (n == 0 || words[0][0] == '#')
        return 0;
    if (strcasecmp(words[0], "Include") == 0 && n == 2) {
        int r = include_file(c, path, words[1], report, ud, depth);
        return r < 0 ? 1 : r;
    }
    if (strncasecmp(words[0], PREFIX, strlen(PREFIX)) != 0)
        return 0;
    if (o3b_config_set(c, words[0], (const char *const *)(words + 1), &err) != 0) {
        report_err(report, ud, path, lineno, err.msg);
        return 1;
    }
    return 0;
}

static int read_file_depth(struct o3b_config *c, const char *path, o3b_config_report_fn report,
                           void *ud, int depth)
{
    char line[MAX_LINE];
    unsigned lineno = 0;
    int bad = 0;
    FILE *f;

    if (depth > MAX_INCLUDE_DEPTH) {
        report_err(report, ud, path, 0, "Include nested too deeply");
        return -1;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
        report_err(report, ud, path, 0, msg);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) {
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            report_err(report, ud, path, lineno, "line too long");
            bad++;
            continue;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        bad += handle_line(c, path, lineno, line, report, ud, depth);
    }
    if (ferror(f)) { /* e.g. a directory: fopen() succeeds, reading fails */
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
        report_err(report, ud, path, lineno, msg);
        fclose(f);
        return lineno == 0 ? -1 : bad + 1;
    }
    fclose(f);
    return bad;
}

int o3b_config_read_file(struct o3b_config *c, const char *path, o3b_config_report_fn report,
                         void *ud)
{
    return read_file_depth(c, path, report, ud, 0);
}
