/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - every o365bypass directive: defaults, values, bounds,
 * messages, and the c-icap-style file reader.
 *
 * Good values are rows of (directive, arguments, field, expected value);
 * bad values are rows of (directive, arguments, words the message must
 * hold).  A last check walks o3b_directives[] and fails for any directive
 * that has no good row and no bad row here, so a new directive cannot slip
 * in untested.  File tests write their files into a mkdtemp(3) directory
 * and remove it afterwards.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "o365bypass/config.h"
#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "unit.h"

#ifndef O3B_TOP_SRCDIR
#define O3B_TOP_SRCDIR "."
#endif

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ARGS ((const char *const[]){NULL})
#define BIT(x) (1u << (x))

static int set(struct o3b_config *c, const char *name, const char *const *argv, o3b_err *err)
{
    memset(err, 0, sizeof *err);
    return o3b_config_set(c, name, argv, err);
}

/* ---- defaults ------------------------------------------------------------------ */

static void test_defaults_after_init(void)
{
    struct o3b_config c;

    o3b_config_init(&c);
    CU_ASSERT_STRING_EQUAL(c.seed_file, O3B_SEED_FILE);
    CU_ASSERT_STRING_EQUAL(c.cache_dir, O3B_CACHE_DIR);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide");
    CU_ASSERT_STRING_EQUAL(c.service_url, "https://endpoints.office.com");
    CU_ASSERT_EQUAL(c.refresh_interval, 3600);
    CU_ASSERT_FALSE(c.no_ipv6);
    CU_ASSERT_PTR_NULL(c.client_request_id);
    CU_ASSERT_PTR_NULL(c.ca_file);
    CU_ASSERT_PTR_NULL(c.ca_path);
    CU_ASSERT_PTR_NULL(c.fetch_proxy);
    CU_ASSERT_EQUAL(c.connect_timeout, 10);
    CU_ASSERT_EQUAL(c.fetch_timeout, 60);
    CU_ASSERT_EQUAL(c.max_feed_bytes, 4L * 1024 * 1024);
    CU_ASSERT_EQUAL(c.max_shrink_percent, 50);
    CU_ASSERT_PTR_NULL(c.service_areas_param);
    CU_ASSERT_EQUAL(c.policy.categories, BIT(O3B_CAT_OPTIMIZE) | BIT(O3B_CAT_ALLOW));
    CU_ASSERT_EQUAL(c.policy.areas, O3B_AREAS_ALL);
    CU_ASSERT_FALSE(c.policy.required_only);
    CU_ASSERT_EQUAL(c.policy.never.n, 0);
    CU_ASSERT_EQUAL(c.policy.also.n, 0);
    CU_ASSERT_EQUAL(c.policy.n_tenants, 0);
    o3b_config_release(&c);
}

/* The documented default (default_value) is what init really sets. */
static void test_documented_defaults_match_the_real_ones(void)
{
    static const struct {
        const char *name;
        size_t field;
    } numeric[] = {
        {"RefreshInterval", offsetof(struct o3b_config, refresh_interval)},
        {"ConnectTimeout", offsetof(struct o3b_config, connect_timeout)},
        {"FetchTimeout", offsetof(struct o3b_config, fetch_timeout)},
        {"MaxFeedBytes", offsetof(struct o3b_config, max_feed_bytes)},
        {"MaxShrinkPercent", offsetof(struct o3b_config, max_shrink_percent)},
    };
    struct o3b_config c;

    o3b_config_init(&c);
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        const struct o3b_directive *d = o3b_directive_find(numeric[i].name);
        long v;
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        memcpy(&v, (const char *)&c + numeric[i].field, sizeof v);
        CU_ASSERT_EQUAL(strtol(d->default_value, NULL, 10), v);
    }
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("SeedFile")->default_value, c.seed_file);
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("CacheDir")->default_value, c.cache_dir);
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("Instance")->default_value, c.instance);
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("ServiceURL")->default_value, c.service_url);
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("BypassCategories")->default_value, "Optimize Allow");
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("RequiredOnly")->default_value, "off");
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("NoIPv6")->default_value, "off");
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("AllowHttpServiceURL")->default_value, "off");
    CU_ASSERT_FALSE(c.allow_http_service_url);
    CU_ASSERT_STRING_EQUAL(o3b_directive_find("DecryptedRequests")->default_value, "inspect");
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_INSPECT);
    for (const struct o3b_directive *d = o3b_directives; d->name; d++) {
        struct o3b_config other;
        o3b_err err;
        /* every row reaches a setter (its own or its type's): no value is refused by it */
        o3b_config_init(&other);
        CU_ASSERT_EQUAL(set(&other, d->name, NO_ARGS, &err), -1);
        CU_ASSERT_PTR_NULL(strstr(err.msg, "no setter"));
        o3b_config_release(&other);
        CU_ASSERT_TRUE(d->help != NULL && strlen(d->help) > 10);
        CU_ASSERT_TRUE(d->default_value != NULL || d->unset_means != NULL);
    }
    o3b_config_release(&c);
}

/* o3b_config_init runs each row's one default through its setter: the field
   the row names holds exactly that default, whatever the type. */
static void test_every_row_default_lands_in_its_field_at_init(void)
{
    struct o3b_config c;
    size_t checked = 0;

    o3b_config_init(&c);
    for (const struct o3b_directive *d = o3b_directives; d->name; d++) {
        const char *field = (const char *)&c + d->offset;
        if (d->default_value == NULL || d->type == O3B_DT_ENUM_SET || d->type == O3B_DT_LIST ||
            (d->type == O3B_DT_ENUM && d->set != NULL)) /* set-valued, or not stored as text */
            continue;
        if (d->type == O3B_DT_INTEGER) {
            long v;
            memcpy(&v, field, sizeof v);
            CU_ASSERT_EQUAL(v, strtol(d->default_value, NULL, 10));
        } else if (d->type == O3B_DT_ONOFF) {
            bool v;
            memcpy(&v, field, sizeof v);
            CU_ASSERT_EQUAL(v, strcmp(d->default_value, "on") == 0);
        } else {
            const char *v;
            memcpy(&v, field, sizeof v);
            CU_ASSERT_PTR_NOT_NULL_FATAL(v);
            CU_ASSERT_STRING_EQUAL(v, d->default_value);
        }
        checked++;
    }
    CU_ASSERT_EQUAL(checked, 12);
    /* the set-valued rows: their defaults are the policy's */
    CU_ASSERT_EQUAL(c.policy.categories, BIT(O3B_CAT_OPTIMIZE) | BIT(O3B_CAT_ALLOW));
    CU_ASSERT_EQUAL(c.policy.areas, O3B_AREAS_ALL);
    CU_ASSERT_PTR_NULL(c.service_areas_param);
    CU_ASSERT_EQUAL(c.policy.decrypted, O3B_DECRYPTED_INSPECT); /* "inspect", as an enum */
    o3b_config_release(&c);
}

static void test_rows_describe_their_type_and_bounds(void)
{
    static const struct {
        const char *name, *want;
    } rows[] = {
        {"ConnectTimeout", "integer 1..300 seconds"},
        {"RefreshInterval", "integer 0..604800 seconds"},
        {"Instance", "one of Worldwide|USGovDoD|USGovGCCHigh|China"},
        {"BypassCategories", "one or more of Optimize|Allow|Default"},
        {"ServiceAreas", "one or more of All|Exchange|SharePoint|Skype|Common|MEM"},
        {"CacheDir", "absolute path or none"},
        {"CAFile", "absolute path"},
        {"FetchProxy", "http(s) URL or none"},
        {"NoIPv6", "on|off"},
        {"TenantName", "list, repeatable"},
        {"DecryptedRequests", "one of inspect|sni-bound"},
    };
    char buf[256];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct o3b_directive *d = o3b_directive_find(rows[i].name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_STRING_EQUAL(o3b_directive_describe(d, buf, sizeof buf), rows[i].want);
    }
}

/* conf/o365bypass.conf.in shows every directive with its default. */
static void test_the_shipped_conf_documents_every_directive(void)
{
    size_t len;
    o3b_err err;
    char *text = o3b_read_file(O3B_TOP_SRCDIR "/conf/o365bypass.conf.in", 1u << 20, &len, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (const struct o3b_directive *d = o3b_directives; d->name; d++) {
        char line[96];
        str_format(line, sizeof line, "\n#o365bypass.%s ", d->name);
        if (strstr(text, line) == NULL)
            fprintf(stderr, "\n  conf/o365bypass.conf.in lacks '#o365bypass.%s'\n", d->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
    }
    free(text);
}

/* ---- good values ------------------------------------------------------------------ */

enum field_type { STR, LONG, BOOL, U8 };

struct good {
    const char *name;
    const char *argv[4];
    enum field_type type;
    size_t field;    /* offsetof(struct o3b_config, ...) */
    const char *str; /* STR: expected text, NULL = field must be NULL */
    long num;        /* LONG, BOOL, U8 (an enum stored in a byte) */
};

#define F(f) offsetof(struct o3b_config, f)
#define PF(f) (offsetof(struct o3b_config, policy) + offsetof(struct o3b_policy, f))

static const struct good goods[] = {
    {"SeedFile", {"/srv/o3b/seed.json"}, STR, F(seed_file), "/srv/o3b/seed.json", 0},
    {"CacheDir", {"/var/cache/o3b"}, STR, F(cache_dir), "/var/cache/o3b", 0},
    {"CacheDir", {"none"}, STR, F(cache_dir), NULL, 0},
    {"CacheDir", {"NONE"}, STR, F(cache_dir), NULL, 0},
    {"Instance", {"china"}, STR, F(instance), "China", 0},
    {"Instance", {"USGOVGCCHIGH"}, STR, F(instance), "USGovGCCHigh", 0},
    {"Instance", {"usgovdod"}, STR, F(instance), "USGovDoD", 0},
    {"Instance", {"worldwide"}, STR, F(instance), "Worldwide", 0},
    {"ServiceURL",
     {"https://endpoints.office.com/"},
     STR,
     F(service_url),
     "https://endpoints.office.com",
     0},
    {"ServiceURL", {"http://127.0.0.1:20080///"}, STR, F(service_url), "http://127.0.0.1:20080", 0},
    {"ServiceURL",
     {"HTTPS://Mirror.Example/m365"},
     STR,
     F(service_url),
     "HTTPS://Mirror.Example/m365",
     0},
    {"RefreshInterval", {"0"}, LONG, F(refresh_interval), NULL, 0},
    {"RefreshInterval", {"60"}, LONG, F(refresh_interval), NULL, 60},
    {"RefreshInterval", {"604800"}, LONG, F(refresh_interval), NULL, 604800},
    {"DecryptedRequests", {"sni-bound"}, U8, PF(decrypted), NULL, O3B_DECRYPTED_SNI_BOUND},
    {"DecryptedRequests", {"SNI-Bound"}, U8, PF(decrypted), NULL, O3B_DECRYPTED_SNI_BOUND},
    {"DecryptedRequests", {"inspect"}, U8, PF(decrypted), NULL, O3B_DECRYPTED_INSPECT},
    {"RequiredOnly", {"on"}, BOOL, PF(required_only), NULL, 1},
    {"RequiredOnly", {"YES"}, BOOL, PF(required_only), NULL, 1},
    {"RequiredOnly", {"true"}, BOOL, PF(required_only), NULL, 1},
    {"RequiredOnly", {"1"}, BOOL, PF(required_only), NULL, 1},
    {"RequiredOnly", {"Off"}, BOOL, PF(required_only), NULL, 0},
    {"RequiredOnly", {"no"}, BOOL, PF(required_only), NULL, 0},
    {"RequiredOnly", {"false"}, BOOL, PF(required_only), NULL, 0},
    {"RequiredOnly", {"0"}, BOOL, PF(required_only), NULL, 0},
    {"NoIPv6", {"on"}, BOOL, F(no_ipv6), NULL, 1},
    {"NoIPv6", {"off"}, BOOL, F(no_ipv6), NULL, 0},
    {"AllowHttpServiceURL", {"on"}, BOOL, F(allow_http_service_url), NULL, 1},
    {"AllowHttpServiceURL", {"off"}, BOOL, F(allow_http_service_url), NULL, 0},
    {"ClientRequestId",
     {"0f1e2d3c-4b5a-4697-8877-665544332211"},
     STR,
     F(client_request_id),
     "0f1e2d3c-4b5a-4697-8877-665544332211",
     0},
    {"ClientRequestId",
     {"0F1E2D3C-4B5A-4697-8877-66554433221A"},
     STR,
     F(client_request_id),
     "0F1E2D3C-4B5A-4697-8877-66554433221A",
     0},
    {"CAFile",
     {"/etc/ssl/certs/ca-certificates.crt"},
     STR,
     F(ca_file),
     "/etc/ssl/certs/ca-certificates.crt",
     0},
    {"CAPath", {"/etc/ssl/certs"}, STR, F(ca_path), "/etc/ssl/certs", 0},
    {"FetchProxy",
     {"http://proxy.example:3128"},
     STR,
     F(fetch_proxy),
     "http://proxy.example:3128",
     0},
    {"FetchProxy", {"none"}, STR, F(fetch_proxy), NULL, 0},
    {"ConnectTimeout", {"1"}, LONG, F(connect_timeout), NULL, 1},
    {"ConnectTimeout", {"300"}, LONG, F(connect_timeout), NULL, 300},
    {"FetchTimeout", {"1"}, LONG, F(fetch_timeout), NULL, 1},
    {"FetchTimeout", {"3600"}, LONG, F(fetch_timeout), NULL, 3600},
    {"MaxFeedBytes", {"65536"}, LONG, F(max_feed_bytes), NULL, 65536},
    {"MaxFeedBytes", {"67108864"}, LONG, F(max_feed_bytes), NULL, 67108864},
    {"MaxShrinkPercent", {"0"}, LONG, F(max_shrink_percent), NULL, 0},
    {"MaxShrinkPercent", {"100"}, LONG, F(max_shrink_percent), NULL, 100},
};

static bool good_applies(const struct good *g)
{
    struct o3b_config c;
    o3b_err err;
    bool ok = true;
    const char *field_base;

    o3b_config_init(&c);
    /* a different value first, to see the new one replace it */
    if (g->type == BOOL)
        set(&c, g->name, g->num ? ARGV("off") : ARGV("on"), &err);
    if (set(&c, g->name, g->argv, &err) != 0) {
        fprintf(stderr, "\n  %s %s refused: %s\n", g->name, g->argv[0], err.msg);
        o3b_config_release(&c);
        return false;
    }
    field_base = (const char *)&c + g->field;
    if (g->type == STR) {
        const char *s;
        memcpy(&s, field_base, sizeof s);
        ok = (s == NULL || g->str == NULL) ? s == g->str : strcmp(s, g->str) == 0;
    } else if (g->type == LONG) {
        long v;
        memcpy(&v, field_base, sizeof v);
        ok = v == g->num;
    } else if (g->type == U8) {
        ok = *(const uint8_t *)field_base == g->num;
    } else {
        bool v;
        memcpy(&v, field_base, sizeof v);
        ok = v == (g->num != 0);
    }
    if (!ok)
        fprintf(stderr, "\n  %s %s: field not set as expected\n", g->name, g->argv[0]);
    o3b_config_release(&c);
    return ok;
}

static void test_good_values_set_their_field(void)
{
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++)
        CU_ASSERT_TRUE(good_applies(&goods[i]));
}

/* ---- bad values --------------------------------------------------------------------- */

struct bad {
    const char *name;
    const char *argv[4];
    const char *want; /* must occur in the message, besides "o365bypass.<name>: " */
};

static const struct bad bads[] = {
    {"SeedFile", {"relative/seed.json"}, "'relative/seed.json' is not an absolute path"},
    {"SeedFile", {"/a", "/b"}, "takes exactly one value (got 2)"},
    {"CacheDir", {"cache"}, "'cache' is not an absolute path"},
    {"Instance", {"Germany"}, "'Germany' is not one of"},
    {"Instance", {"Worldwide2"}, "'Worldwide2'"},
    {"ServiceURL", {"ftp://endpoints.office.com"}, "'ftp://endpoints.office.com'"},
    {"ServiceURL", {"endpoints.office.com"}, "'endpoints.office.com'"},
    {"ServiceURL", {"https://"}, "'https://'"},
    {"ServiceURL", {"https:///x"}, "'https:///x'"},
    {"ServiceURL", {"https://a.example/ b"}, "'https://a.example/ b'"},
    {"ServiceURL", {"https://a.example/?x=1"}, "'https://a.example/?x=1'"},
    {"RefreshInterval", {"30"}, "'30' is too short"},
    {"RefreshInterval", {"59"}, "'59' is too short"},
    {"RefreshInterval", {"604801"}, "'604801'"},
    {"RefreshInterval", {"-1"}, "'-1'"},
    {"RefreshInterval", {"+60"}, "'+60'"},
    {"RefreshInterval", {"60s"}, "'60s'"},
    {"RefreshInterval", {" 60"}, "' 60'"},
    {"RefreshInterval", {""}, "''"},
    {"RefreshInterval", {"1e3"}, "'1e3'"},
    {"RefreshInterval", {"99999999999999999999"}, "'99999999999999999999'"},
    {"RefreshInterval", {NULL}, "takes exactly one value (got 0)"},
    {"BypassCategories", {"Block"}, "'Block' is not Optimize, Allow or Default"},
    {"BypassCategories", {"Optimize,Bogus"}, "'Bogus'"},
    {"BypassCategories", {","}, "needs at least one value"},
    {"ServiceAreas", {"Teams"}, "'Teams' is not All, Exchange"},
    {"ServiceAreas", {"Exchange,Intune"}, "'Intune'"},
    {"RequiredOnly", {"maybe"}, "'maybe' is not on or off"},
    {"DecryptedRequests", {"bypass"}, "'bypass' is not inspect or sni-bound"},
    {"DecryptedRequests", {"on"}, "'on'"},
    {"RequiredOnly", {"2"}, "'2'"},
    {"NoIPv6", {"enable"}, "'enable'"},
    {"AllowHttpServiceURL", {"sometimes"}, "'sometimes' is not on or off"},
    {"NeverBypass", {"10.*"}, "'10.*' looks like an address pattern"},
    {"NeverBypass", {"0.0.0.0/33"}, "'0.0.0.0/33'"},
    {"NeverBypass", {"bad_host.example"}, "'bad_host.example'"},
    {"NeverBypass", {"http://x.example"}, "'http://x.example'"},
    {"NeverBypass", {NULL}, "needs at least one value"},
    {"AlsoBypass", {"*"}, "'*'"},
    {"AlsoBypass", {"10.0.0.0/4"}, "'10.0.0.0/4'"},
    {"AlsoBypass", {"a.example.org", "foo*"}, "'foo*'"},
    {"AlsoBypass", {"*.com"}, "'*.com'"},
    {"AlsoBypass", {"0.0.0.0/0"}, "'0.0.0.0/0'"},
    {"TenantDomain", {"contoso"}, "'contoso' is not a mail domain"},
    {"TenantDomain", {"a.b.mail.protection.outlook.com"}, "is no MX host"},
    {"TenantDomain", {"bad_domain.example"}, "'bad_domain.example'"},
    {"TenantDomain", {NULL}, "needs at least one value"},
    {"TenantName", {"con_toso"}, "'con_toso' is not a tenant name"},
    {"TenantName", {"-contoso"}, "'-contoso'"},
    {"TenantName", {"contoso.sharepoint.com"}, "'contoso.sharepoint.com'"},
    {"ClientRequestId", {"not-a-guid"}, "'not-a-guid' is not a GUID"},
    {"ClientRequestId",
     {"b10c5ed1-bad1-445f-b386-b919946339a7"},
     "'b10c5ed1-bad1-445f-b386-b919946339a7' is the example GUID"},
    {"ClientRequestId", {"B10C5ED1-BAD1-445F-B386-B919946339A7"}, "is the example GUID"},
    {"ClientRequestId", {"{0f1e2d3c-4b5a-4697-8877-665544332211}"}, "is not a GUID"},
    {"ClientRequestId", {"0f1e2d3c-4b5a-4697-8877-66554433221"}, "is not a GUID"},
    {"ClientRequestId", {"0f1e2d3c-4b5a-4697-8877-6655443322110"}, "is not a GUID"},
    {"ClientRequestId", {"0f1e2d3c-4b5a-4697-8877-66554433221g"}, "is not a GUID"},
    {"CAFile", {"ca.pem"}, "'ca.pem' is not an absolute path"},
    {"CAPath", {"certs"}, "'certs' is not an absolute path"},
    {"FetchProxy", {"proxy.example:3128"}, "'proxy.example:3128' is not a proxy URL"},
    {"FetchProxy", {"socks5://proxy.example:1080"}, "'socks5://proxy.example:1080'"},
    {"ConnectTimeout", {"0"}, "'0' is not a whole number of seconds between 1 and 300"},
    {"ConnectTimeout", {"301"}, "'301'"},
    {"ConnectTimeout", {"ten"}, "'ten'"},
    {"FetchTimeout", {"0"}, "'0'"},
    {"FetchTimeout", {"3601"}, "'3601' is not a whole number of seconds between 1 and 3600"},
    {"MaxFeedBytes", {"65535"}, "'65535'"},
    {"MaxFeedBytes", {"67108865"}, "'67108865' is not a whole number of bytes"},
    {"MaxShrinkPercent", {"101"}, "'101' is not a whole number of percent between 0 and 100"},
    {"MaxShrinkPercent", {"-5"}, "'-5'"},
};

static bool bad_is_refused(const struct bad *b)
{
    struct o3b_config c;
    o3b_err err;
    char head[64];
    bool ok;

    o3b_config_init(&c);
    snprintf(head, sizeof head, "o365bypass.%s: ", b->name);
    ok = set(&c, b->name, b->argv, &err) == -1 && strncmp(err.msg, head, strlen(head)) == 0 &&
         strstr(err.msg, b->want) != NULL;
    if (!ok)
        fprintf(stderr, "\n  %s %s: message '%s' lacks '%s%s'\n", b->name,
                b->argv[0] ? b->argv[0] : "(none)", err.msg, head, b->want);
    o3b_config_release(&c);
    return ok;
}

static void test_bad_values_are_refused_naming_directive_and_value(void)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        CU_ASSERT_TRUE(bad_is_refused(&bads[i]));
}

static void test_every_directive_has_good_and_bad_rows(void)
{
    size_t n = 0;

    for (const struct o3b_directive *d = o3b_directives; d->name; d++, n++) {
        bool has_good = false, has_bad = false;
        for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++)
            has_good |= strcmp(goods[i].name, d->name) == 0;
        for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
            has_bad |= strcmp(bads[i].name, d->name) == 0;
        /* list directives are checked by the tests below instead of rows */
        has_good |= strcmp(d->name, "BypassCategories") == 0 ||
                    strcmp(d->name, "ServiceAreas") == 0 || strcmp(d->name, "NeverBypass") == 0 ||
                    strcmp(d->name, "AlsoBypass") == 0 || strcmp(d->name, "TenantName") == 0 ||
                    strcmp(d->name, "TenantDomain") == 0;
        if (!has_good || !has_bad)
            fprintf(stderr, "\n  directive %s lacks %s rows\n", d->name, has_good ? "bad" : "good");
        CU_ASSERT_TRUE(has_good && has_bad);
    }
    CU_ASSERT_EQUAL(n, 23);
}

/* ---- ServiceURL and AllowHttpServiceURL: checked together at finish -------------- */

/* Set ServiceURL (and AllowHttpServiceURL before or after it, when given),
   then finish: its result, the message in `err`. */
static int finish_with_url(const char *url, const char *allow, bool allow_first, o3b_err *err)
{
    struct o3b_config c;
    int rc;

    o3b_config_init(&c);
    if (allow && allow_first)
        CU_ASSERT_EQUAL(set(&c, "AllowHttpServiceURL", ARGV(allow), err), 0);
    CU_ASSERT_EQUAL(set(&c, "ServiceURL", ARGV(url), err), 0);
    if (allow && !allow_first)
        CU_ASSERT_EQUAL(set(&c, "AllowHttpServiceURL", ARGV(allow), err), 0);
    rc = o3b_config_finish(&c, err);
    o3b_config_release(&c);
    return rc;
}

static void test_a_plain_http_service_url_is_refused_unless_its_host_is_loopback(void)
{
    // clang-format off
    static const char *const refused[] = {
        "http://endpoints.example.com", "HTTP://endpoints.office.com", "http://128.0.0.1",
        "http://127.0.0.1@evil.example", "http://[::2]:8080", "http://localhost.evil.example",
        "http://127.1:8080", "http://10.0.0.1/m365",
    };
    // clang-format on
    static const char *const accepted[] = {
        "https://endpoints.office.com",
        "https://mirror.example/m365",
        "http://127.0.0.1:20080",
        "http://127.42.0.9",
        "http://[::1]:8080/m365",
        "http://localhost:8080",
        "http://LOCALHOST",
    };
    o3b_err err;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char head[512];
        str_format(head, sizeof head, "o365bypass.ServiceURL: '%s", refused[i]);
        CU_ASSERT_EQUAL(finish_with_url(refused[i], NULL, false, &err), -1);
        if (strncmp(err.msg, head, strlen(head)) != 0)
            fprintf(stderr, "\n  %s: %s\n", refused[i], err.msg);
        CU_ASSERT_EQUAL(strncmp(err.msg, head, strlen(head)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "o365bypass.AllowHttpServiceURL on"));
    }
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        int rc = finish_with_url(accepted[i], NULL, false, &err);
        if (rc != 0)
            fprintf(stderr, "\n  %s: %s\n", accepted[i], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
    }
}

static void test_allow_http_service_url_works_before_or_after_the_service_url_line(void)
{
    o3b_err err;

    CU_ASSERT_EQUAL(finish_with_url("http://endpoints.example.com", "on", false, &err), 0);
    CU_ASSERT_EQUAL(finish_with_url("http://endpoints.example.com", "on", true, &err), 0);
    CU_ASSERT_EQUAL(finish_with_url("http://endpoints.example.com", "off", false, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "o365bypass.ServiceURL: "));
}

static void test_a_refused_value_keeps_the_previous_one(void)
{
    struct o3b_config c;
    o3b_err err;

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(set(&c, "RefreshInterval", ARGV("120"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "RefreshInterval", ARGV("30"), &err), -1);
    CU_ASSERT_EQUAL(c.refresh_interval, 120);
    CU_ASSERT_EQUAL(set(&c, "Instance", ARGV("Germany"), &err), -1);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide");
    CU_ASSERT_EQUAL(set(&c, "BypassCategories", ARGV("Optimize,Bogus"), &err), -1);
    CU_ASSERT_EQUAL(c.policy.categories, BIT(O3B_CAT_OPTIMIZE) | BIT(O3B_CAT_ALLOW));
    CU_ASSERT_EQUAL(set(&c, "ClientRequestId", ARGV("b10c5ed1-bad1-445f-b386-b919946339a7"), &err),
                    -1);
    CU_ASSERT_PTR_NULL(c.client_request_id);
    o3b_config_release(&c);
}

/* ---- names --------------------------------------------------------------------------- */

static void test_directive_names_are_found_with_or_without_prefix(void)
{
    static const char *const found[] = {"RefreshInterval", "o365bypass.RefreshInterval",
                                        "O365BYPASS.refreshinterval", "bypass2.RefreshInterval"};
    static const char *const missing[] = {"Nope", "o365bypass.Nope", "o365bypass.", "",
                                          "RefreshIntervals"};
    struct o3b_config c;
    o3b_err err;

    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
        CU_ASSERT_PTR_NOT_NULL(o3b_directive_find(found[i]));
        if (o3b_directive_find(found[i]))
            CU_ASSERT_STRING_EQUAL(o3b_directive_find(found[i])->name, "RefreshInterval");
    }
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        CU_ASSERT_PTR_NULL(o3b_directive_find(missing[i]));
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(set(&c, "o365bypass.Nope", ARGV("1"), &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "o365bypass.Nope: unknown directive");
    /* the message uses the directive's own spelling, whatever the line said */
    CU_ASSERT_EQUAL(set(&c, "o365bypass.refreshinterval", ARGV("5"), &err), -1);
    CU_ASSERT_EQUAL(strncmp(err.msg, "o365bypass.RefreshInterval: '5'", 31), 0);
    o3b_config_release(&c);
}

/* ---- lists and scalars ------------------------------------------------------------------ */

static void test_lists_accumulate_over_lines(void)
{
    struct o3b_config c;
    o3b_err err;
    struct o3b_target t;
    struct o3b_decision d;
    static const struct {
        const char *host;
        enum o3b_reason reason;
    } rows[] = {
        {"a.example.org", O3B_R_NEVER},
        {"b.example.org", O3B_R_NEVER},
        {"c.example.org", O3B_R_ALSO},
    };

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(set(&c, "NeverBypass", ARGV("a.example.org"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "NeverBypass", ARGV("b.example.org"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "AlsoBypass", ARGV("*.example.org"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV("contoso"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV("fabrikam", "Contoso"), &err), 0);
    CU_ASSERT_EQUAL(o3b_config_finish(&c, &err), 0);
    CU_ASSERT_EQUAL(c.policy.never.n, 2);
    CU_ASSERT_EQUAL(c.policy.n_tenants, 2); /* "Contoso" is contoso again */
    CU_ASSERT_STRING_EQUAL(c.policy.tenants[0], "contoso");
    CU_ASSERT_STRING_EQUAL(c.policy.tenants[1], "fabrikam");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CU_ASSERT_EQUAL(o3b_target_parse_text(rows[i].host, &t), O3B_TARGET_OK);
        o3b_decide(NULL, &c.policy, &t, O3B_TARGET_OK, &d);
        CU_ASSERT_EQUAL(d.reason, rows[i].reason);
    }
    /* frozen: a later NeverBypass line is refused, not silently lost */
    CU_ASSERT_EQUAL(set(&c, "NeverBypass", ARGV("d.example.org"), &err), -1);
    CU_ASSERT_EQUAL(strncmp(err.msg, "o365bypass.NeverBypass: ", 24), 0);
    o3b_config_release(&c);
}

static void test_list_items_split_on_commas_and_blanks(void)
{
    const char *const *const spellings[] = {
        ARGV("a.example.com,b.example.com"),     ARGV("a.example.com,", "b.example.com"),
        ARGV("a.example.com", ",b.example.com"), ARGV("a.example.com", "b.example.com"),
        ARGV(",a.example.com,,b.example.com,"),
    };

    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        struct o3b_config c;
        o3b_err err;
        o3b_config_init(&c);
        CU_ASSERT_EQUAL(set(&c, "NeverBypass", spellings[i], &err), 0);
        CU_ASSERT_EQUAL(c.policy.never.n, 2);
        CU_ASSERT_EQUAL(set(&c, "AlsoBypass", spellings[i], &err), 0);
        CU_ASSERT_EQUAL(c.policy.also.n, 2);
        o3b_config_release(&c);
    }
}

static void test_too_many_tenant_names_are_refused(void)
{
    struct o3b_config c;
    o3b_err err;
    char name[16];

    o3b_config_init(&c);
    for (int i = 0; i < O3B_MAX_TENANTS; i++) {
        snprintf(name, sizeof name, "t%d", i);
        CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV(name), &err), 0);
    }
    CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV("t0"), &err), 0); /* a duplicate is no new name */
    CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV("one-more"), &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "o365bypass.TenantName: more than 64 tenant names"));
    CU_ASSERT_EQUAL(c.policy.n_tenants, O3B_MAX_TENANTS);
    o3b_config_release(&c);
}

static void test_scalars_keep_the_last_value(void)
{
    struct o3b_config c;
    o3b_err err;

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(set(&c, "RefreshInterval", ARGV("60"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "RefreshInterval", ARGV("120"), &err), 0);
    CU_ASSERT_EQUAL(c.refresh_interval, 120);
    CU_ASSERT_EQUAL(set(&c, "Instance", ARGV("China"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "Instance", ARGV("worldwide"), &err), 0);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide");
    CU_ASSERT_EQUAL(set(&c, "BypassCategories", ARGV("Default"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "BypassCategories", ARGV("optimize"), &err), 0);
    CU_ASSERT_EQUAL(c.policy.categories, BIT(O3B_CAT_OPTIMIZE));
    CU_ASSERT_EQUAL(set(&c, "BypassCategories", ARGV("Optimize", "Allow,Default"), &err), 0);
    CU_ASSERT_EQUAL(c.policy.categories,
                    BIT(O3B_CAT_OPTIMIZE) | BIT(O3B_CAT_ALLOW) | BIT(O3B_CAT_DEFAULT));
    CU_ASSERT_EQUAL(set(&c, "ServiceAreas", ARGV("Exchange"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "ServiceAreas", ARGV("SharePoint"), &err), 0);
    CU_ASSERT_EQUAL(c.policy.areas, BIT(O3B_AREA_SHAREPOINT) | BIT(O3B_AREA_COMMON));
    CU_ASSERT_STRING_EQUAL(c.service_areas_param, "SharePoint");
    CU_ASSERT_EQUAL(set(&c, "FetchProxy", ARGV("http://p.example:3128"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "FetchProxy", ARGV("none"), &err), 0);
    CU_ASSERT_PTR_NULL(c.fetch_proxy);
    CU_ASSERT_EQUAL(set(&c, "SeedFile", ARGV("/a.json"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "SeedFile", ARGV("/b.json"), &err), 0);
    CU_ASSERT_STRING_EQUAL(c.seed_file, "/b.json");
    o3b_config_release(&c);
}

static void test_service_areas_build_the_web_service_parameter(void)
{
    static const struct {
        const char *argv[4];
        const char *param; /* NULL: no parameter (all areas) */
        unsigned areas;    /* Common, the others' prerequisite, is always in */
    } rows[] = {
        {{"Exchange,SharePoint"},
         "Exchange,SharePoint",
         BIT(O3B_AREA_EXCHANGE) | BIT(O3B_AREA_SHAREPOINT) | BIT(O3B_AREA_COMMON)},
        {{"Exchange", "Common", "SharePoint"},
         "Exchange,SharePoint",
         BIT(O3B_AREA_EXCHANGE) | BIT(O3B_AREA_COMMON) | BIT(O3B_AREA_SHAREPOINT)},
        {{"exchange"}, "Exchange", BIT(O3B_AREA_EXCHANGE) | BIT(O3B_AREA_COMMON)},
        {{"Exchange,Exchange"}, "Exchange", BIT(O3B_AREA_EXCHANGE) | BIT(O3B_AREA_COMMON)},
        {{"Skype,MEM"},
         "Skype,MEM",
         BIT(O3B_AREA_SKYPE) | BIT(O3B_AREA_MEM) | BIT(O3B_AREA_COMMON)},
        {{"Common"}, "Common", BIT(O3B_AREA_COMMON)},
        {{"All"}, NULL, O3B_AREAS_ALL},
        {{"all"}, NULL, O3B_AREAS_ALL},
        {{"All,Exchange"}, NULL, O3B_AREAS_ALL},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct o3b_config c;
        o3b_err err;
        o3b_config_init(&c);
        /* something else first: the new line must replace it */
        CU_ASSERT_EQUAL(set(&c, "ServiceAreas", ARGV("Skype"), &err), 0);
        CU_ASSERT_EQUAL(set(&c, "ServiceAreas", rows[i].argv, &err), 0);
        if (rows[i].param == NULL) {
            CU_ASSERT_PTR_NULL(c.service_areas_param);
        } else if (c.service_areas_param == NULL) {
            CU_FAIL("no ServiceAreas parameter");
        } else {
            CU_ASSERT_STRING_EQUAL(c.service_areas_param, rows[i].param);
        }
        CU_ASSERT_EQUAL(c.policy.areas, rows[i].areas);
        o3b_config_release(&c);
    }
}

static void test_guid_check(void)
{
    static const char *const good[] = {"00000000-0000-0000-0000-000000000000",
                                       "abcdefAB-CDEF-0123-4567-89abcdef0123",
                                       "b10c5ed1-bad1-445f-b386-b919946339a7"};
    static const char *const bad[] = {"",
                                      "0",
                                      "00000000000000000000000000000000",
                                      "00000000-0000-0000-0000-00000000000",
                                      "00000000-0000-0000-0000-0000000000000",
                                      "00000000-0000-0000-00000-00000000000",
                                      "0000000-00000-0000-0000-000000000000",
                                      "00000000_0000_0000_0000_000000000000",
                                      " 00000000-0000-0000-0000-000000000000",
                                      "g0000000-0000-0000-0000-000000000000"};

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT_TRUE(o3b_guid_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_FALSE(o3b_guid_valid(bad[i]));
}

static void test_release_frees_everything_and_init_makes_it_usable_again(void)
{
    struct o3b_config c;
    o3b_err err;

    o3b_config_init(&c);
    CU_ASSERT_EQUAL(set(&c, "Instance", ARGV("China"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "NeverBypass", ARGV("a.example.org"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "TenantName", ARGV("contoso"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "ServiceAreas", ARGV("Exchange"), &err), 0);
    CU_ASSERT_EQUAL(set(&c, "ClientRequestId", ARGV("0f1e2d3c-4b5a-4697-8877-665544332211"), &err),
                    0);
    CU_ASSERT_EQUAL(o3b_config_finish(&c, &err), 0);
    o3b_config_release(&c); /* everything freed (ASan would see a leak otherwise) */
    CU_ASSERT_PTR_NULL(c.instance);
    CU_ASSERT_PTR_NULL(c.seed_file);
    CU_ASSERT_PTR_NULL(c.client_request_id);
    CU_ASSERT_PTR_NULL(c.service_areas_param);
    CU_ASSERT_EQUAL(c.policy.never.n, 0);
    CU_ASSERT_PTR_NULL(c.policy.never.ix);
    CU_ASSERT_EQUAL(c.policy.n_tenants, 0);
    o3b_config_release(&c); /* twice is harmless */
    /* init again gives the defaults, and the config is usable */
    o3b_config_init(&c);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide");
    CU_ASSERT_EQUAL(set(&c, "NeverBypass", ARGV("b.example.org"), &err), 0);
    CU_ASSERT_EQUAL(o3b_config_finish(&c, &err), 0);
    CU_ASSERT_EQUAL(c.policy.never.n, 1);
    o3b_config_release(&c);
}

/* ---- the file reader ---------------------------------------------------------------------- */

#define MAX_REPORTS 8

struct reports {
    unsigned n;
    char file[MAX_REPORTS][256];
    unsigned line[MAX_REPORTS];
    char msg[MAX_REPORTS][O3B_ERR_MAX];
};

static void collect(void *ud, const char *file, unsigned line, const char *message)
{
    struct reports *r = ud;

    if (r->n < MAX_REPORTS) {
        snprintf(r->file[r->n], sizeof r->file[0], "%s", file);
        r->line[r->n] = line;
        snprintf(r->msg[r->n], sizeof r->msg[0], "%s", message);
    }
    r->n++;
}

struct tmpdir {
    char path[64];
    char files[24][128]; /* the paths written, in creation order */
    unsigned n_files;
};

static bool tmpdir_make(struct tmpdir *d)
{
    memset(d, 0, sizeof *d);
    return test_make_dir(d->path, sizeof d->path, "config");
}

/* Write `text` to d/rel (creating one level of subdirectory when rel has a '/'). */
static const char *tmpdir_write(struct tmpdir *d, const char *rel, const char *text)
{
    char *path, full[sizeof d->files[0]];
    const char *slash = strchr(rel, '/');
    FILE *f;

    if (d->n_files == sizeof d->files / sizeof d->files[0])
        return NULL;
    path = d->files[d->n_files];
    if (slash != NULL) {
        char sub[128];
        snprintf(sub, sizeof sub, "%s/%.*s", d->path, (int)(slash - rel), rel);
        mkdir(sub, 0700);
    }
    snprintf(full, sizeof full, "%s/%s", d->path, rel);
    memcpy(path, full, sizeof full);
    f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fputs(text, f);
    fclose(f);
    d->n_files++;
    return path;
}

static void tmpdir_remove(struct tmpdir *d)
{
    test_remove_tree(d->path);
}

static void test_read_file_applies_our_lines_and_ignores_the_rest(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *main_conf;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    main_conf = tmpdir_write(&d, "main.conf",
                             "# c-icap configuration with the o365bypass lines\n"
                             "\n"
                             "Port 127.0.0.1:1344\n"
                             "Service o365bypass /usr/lib/c_icap/srv_o365bypass.so\n"
                             "  # o365bypass.RefreshInterval 30 (a comment)\n"
                             "o365bypass.RefreshInterval 120\n"
                             "o365bypass.SeedFile \"/srv/with space/seed.json\"\n"
                             "o365bypass.NeverBypass a.example.com\n"
                             "\to365bypass.NeverBypass b.example.com, c.example.com\n"
                             "Include sub/extra.conf\n"
                             "ServerLog /var/log/c-icap/server.log\n"
                             "o365bypass.NoIPv6 on\r\n"
                             "   \t  \n"
                             "o365bypass.ServiceURL https://mirror.example/  ");
    CU_ASSERT_PTR_NOT_NULL(
        tmpdir_write(&d, "sub/extra.conf", "o365bypass.Instance china\nInclude more.conf\n"));
    CU_ASSERT_PTR_NOT_NULL(tmpdir_write(&d, "sub/more.conf", "o365bypass.TenantName contoso\n"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(main_conf);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, main_conf, collect, &r), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    if (r.n)
        fprintf(stderr, "\n  %s:%u: %s\n", r.file[0], r.line[0], r.msg[0]);
    CU_ASSERT_EQUAL(c.refresh_interval, 120);
    CU_ASSERT_STRING_EQUAL(c.seed_file, "/srv/with space/seed.json");
    CU_ASSERT_EQUAL(c.policy.never.n, 3);
    CU_ASSERT_STRING_EQUAL(c.instance, "China"); /* sub/extra.conf */
    CU_ASSERT_EQUAL(c.policy.n_tenants, 1);      /* sub/more.conf, relative to sub/ */
    CU_ASSERT_TRUE(c.no_ipv6);                   /* CRLF line */
    CU_ASSERT_STRING_EQUAL(c.service_url, "https://mirror.example"); /* no final newline */
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static void test_read_file_reports_each_bad_line_and_applies_the_good_ones(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *path;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    path = tmpdir_write(&d, "bad.conf",
                        "o365bypass.RefreshInterval 300\n"
                        "o365bypass.RefreshInterval 30\n"
                        "Port 1344\n"
                        "o365bypass.Instance Germany\n"
                        "o365bypass.NeverBypass good.example.com\n"
                        "o365bypass.AlsoBypass *.com\n"
                        "o365bypass.MaxShrinkPercent 20\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, path, collect, &r), 3);
    CU_ASSERT_EQUAL(r.n, 3); /* r is zeroed: reading unset reports is safe */
    CU_ASSERT_STRING_EQUAL(r.file[0], path);
    CU_ASSERT_STRING_EQUAL(r.file[2], path);
    CU_ASSERT_EQUAL(r.line[0], 2);
    CU_ASSERT_EQUAL(r.line[1], 4);
    CU_ASSERT_EQUAL(r.line[2], 6);
    CU_ASSERT_EQUAL(strncmp(r.msg[0], "o365bypass.RefreshInterval: '30'", 32), 0);
    CU_ASSERT_EQUAL(strncmp(r.msg[1], "o365bypass.Instance: 'Germany'", 30), 0);
    CU_ASSERT_EQUAL(strncmp(r.msg[2], "o365bypass.AlsoBypass: ", 23), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[2], "'*.com'"));
    CU_ASSERT_EQUAL(c.refresh_interval, 300);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide");
    CU_ASSERT_EQUAL(c.policy.never.n, 1);
    CU_ASSERT_EQUAL(c.max_shrink_percent, 20);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

/* The plain-http ServiceURL check runs at finish, after every line: its
   error still points at the ServiceURL line (the last one applied). */
static void test_finish_names_the_line_of_a_refused_service_url(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *path;
    char want[512];
    o3b_err err;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    path = tmpdir_write(&d, "url.conf",
                        "o365bypass.ServiceURL https://endpoints.office.com\n"
                        "# a comment\n"
                        "o365bypass.ServiceURL http://mirror.example/\n"
                        "o365bypass.RefreshInterval 300\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, path, collect, &r), 0);
    CU_ASSERT_EQUAL(o3b_config_finish(&c, &err), -1);
    str_format(want, sizeof want, "%s:3", path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.finish_at);
    CU_ASSERT_STRING_EQUAL(c.finish_at, want);
    CU_ASSERT_EQUAL(strncmp(err.msg, "o365bypass.ServiceURL: 'http://mirror.example'", 46), 0);
    o3b_config_release(&c);

    /* set without the file reader (c-icap's own parser): no line known */
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_set(&c, "ServiceURL",
                                   (const char *const[]){"http://mirror.example", NULL}, &err),
                    0);
    CU_ASSERT_EQUAL(o3b_config_finish(&c, &err), -1);
    CU_ASSERT_PTR_NULL(c.finish_at);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static void test_read_file_names_the_included_file_of_a_bad_line(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *main_conf, *bad;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    main_conf = tmpdir_write(&d, "main.conf",
                             "Include sub/bad.conf\nInclude missing.conf\n"
                             "o365bypass.FetchTimeout 30\n");
    bad = tmpdir_write(&d, "sub/bad.conf", "# first\no365bypass.FetchTimeout 0\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(main_conf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, main_conf, collect, &r), 2);
    CU_ASSERT_EQUAL(r.n, 2); /* r is zeroed: reading unset reports is safe */
    CU_ASSERT_STRING_EQUAL(r.file[0], bad);
    CU_ASSERT_EQUAL(r.line[0], 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "o365bypass.FetchTimeout: '0'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.file[1], "/missing.conf"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[1], "cannot read"));
    CU_ASSERT_EQUAL(c.fetch_timeout, 30);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

/* f0.conf includes f1.conf ... up to f<last>.conf, which sets FetchTimeout 42. */
static int read_include_chain(unsigned last, struct reports *r, long *fetch_timeout)
{
    struct tmpdir d;
    struct o3b_config c;
    char name[32], text[64];
    const char *first = NULL;
    int rc;

    if (!tmpdir_make(&d))
        return -99;
    for (unsigned i = 0; i <= last; i++) {
        const char *p;
        snprintf(name, sizeof name, "f%u.conf", i);
        if (i < last)
            snprintf(text, sizeof text, "Include f%u.conf\n", i + 1);
        else
            snprintf(text, sizeof text, "o365bypass.FetchTimeout 42\n");
        p = tmpdir_write(&d, name, text);
        if (i == 0)
            first = p;
    }
    o3b_config_init(&c);
    rc = o3b_config_read_file(&c, first, collect, r);
    *fetch_timeout = c.fetch_timeout;
    o3b_config_release(&c);
    tmpdir_remove(&d);
    return rc;
}

static void test_include_nesting_is_limited_to_16_levels(void)
{
    struct reports r = {0};
    long fetch_timeout;

    /* f0 (depth 0) ... f16 (depth 16): allowed */
    CU_ASSERT_EQUAL(read_include_chain(16, &r, &fetch_timeout), 0);
    CU_ASSERT_EQUAL(r.n, 0);
    CU_ASSERT_EQUAL(fetch_timeout, 42);
    /* f17 would be depth 17: refused and reported once, naming it */
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(read_include_chain(17, &r, &fetch_timeout), 1);
    CU_ASSERT_EQUAL(r.n, 1); /* r is zeroed: reading unset reports is safe */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.file[0], "/f17.conf"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "nested too deeply"));
    CU_ASSERT_EQUAL(fetch_timeout, 60);
}

static void test_a_file_including_itself_stops(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *path;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    path = tmpdir_write(&d, "loop.conf", "o365bypass.RefreshInterval 600\nInclude loop.conf\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, path, collect, &r), 1);
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "nested too deeply"));
    CU_ASSERT_EQUAL(c.refresh_interval, 600);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static void test_read_file_reports_what_cannot_be_read(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, "/nonexistent/o365bypass.conf", collect, &r), -1);
    CU_ASSERT_EQUAL(r.n, 1); /* r is zeroed: reading unset reports is safe */
    CU_ASSERT_STRING_EQUAL(r.file[0], "/nonexistent/o365bypass.conf");
    CU_ASSERT_EQUAL(r.line[0], 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "cannot read"));
    /* a directory opens, but cannot be read as a file */
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, d.path, collect, &r), -1);
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_STRING_EQUAL(r.file[0], d.path);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "cannot read"));
    /* a NULL callback is allowed */
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, "/nonexistent/o365bypass.conf", NULL, NULL), -1);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static void test_read_file_reports_unbalanced_quotes_and_long_lines(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config c;
    const char *path;
    char *text = malloc(10000);
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    n = (size_t)snprintf(text, 10000,
                         "o365bypass.SeedFile \"/unterminated\no365bypass.NeverBypass ");
    memset(text + n, 'a', 9000);
    snprintf(text + n + 9000, 10000 - n - 9000, ".example\no365bypass.ConnectTimeout 5\n");
    path = tmpdir_write(&d, "odd.conf", text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, path, collect, &r), 2);
    CU_ASSERT_EQUAL(r.n, 2); /* r is zeroed: reading unset reports is safe */
    CU_ASSERT_EQUAL(r.line[0], 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[0], "unbalanced quotes"));
    CU_ASSERT_EQUAL(r.line[1], 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg[1], "line too long"));
    CU_ASSERT_STRING_EQUAL(c.seed_file, O3B_SEED_FILE);
    CU_ASSERT_EQUAL(c.policy.never.n, 0);
    CU_ASSERT_EQUAL(c.connect_timeout, 5); /* the line after the long one is line 3 and read */
    o3b_config_release(&c);
    tmpdir_remove(&d);
    free(text);
}

static void test_scan_takes_relative_includes_in_the_given_directory_as_c_icap_does(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config_scan scan = {0};
    struct o3b_config c;
    const char *main_conf;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    /* c-icap looks for `Include o365bypass.conf` in its configuration
       directory, not next to the including file (sub/main.conf here). */
    main_conf = tmpdir_write(&d, "sub/main.conf", "Port 1344\nInclude o365bypass.conf\n");
    CU_ASSERT_PTR_NOT_NULL(tmpdir_write(&d, "o365bypass.conf",
                                        "Service o365bypass srv_o365bypass.so\n"
                                        "o365bypass.RefreshInterval 600\n"));
    CU_ASSERT_PTR_NOT_NULL(tmpdir_write(&d, "sub/o365bypass.conf", "o365bypass.Instance china\n"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(main_conf);
    o3b_config_init(&c);
    scan.include_dir = d.path;
    CU_ASSERT_EQUAL(o3b_config_read_scan(&c, main_conf, &scan, collect, &r), 0);
    CU_ASSERT_EQUAL(c.refresh_interval, 600);
    CU_ASSERT_STRING_EQUAL(c.instance, "Worldwide"); /* sub/o365bypass.conf not read */
    CU_ASSERT_EQUAL(scan.services, 1);
    CU_ASSERT_EQUAL(scan.directives, 1);
    CU_ASSERT_EQUAL(scan.early_line, 0);
    o3b_config_release(&c);
    /* without include_dir: next to the including file, as before */
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_file(&c, main_conf, collect, &r), 0);
    CU_ASSERT_STRING_EQUAL(c.instance, "China");
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static void test_scan_counts_service_lines_and_finds_a_directive_before_them(void)
{
    struct tmpdir d;
    struct reports r = {0};
    struct o3b_config_scan scan = {0};
    struct o3b_config c;
    const char *none, *early, *other;

    CU_ASSERT_TRUE_FATAL(tmpdir_make(&d));
    none = tmpdir_write(&d, "none.conf",
                        "o365bypass.TenantName contoso\n"
                        "o365bypass.RefreshInterval 0\n");
    early = tmpdir_write(&d, "early.conf",
                         "# comment\n"
                         "o365bypass.RefreshInterval 0\n"
                         "service O365BYPASS /x/srv_o365bypass.so\n"
                         "o365bypass.NoIPv6 on\n");
    other = tmpdir_write(&d, "other.conf",
                         "Service echo srv_echo.so\n"
                         "Service o365bypassx srv_x.so\n"
                         "Service o365bypass\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    o3b_config_init(&c);
    CU_ASSERT_EQUAL(o3b_config_read_scan(&c, none, &scan, collect, &r), 0);
    CU_ASSERT_EQUAL(scan.directives, 2);
    CU_ASSERT_EQUAL(scan.services, 0); /* an include file nobody loads */
    CU_ASSERT_EQUAL(o3b_config_read_scan(&c, early, &scan, collect, &r), 0);
    CU_ASSERT_EQUAL(scan.directives, 2); /* counts start afresh per reading */
    CU_ASSERT_EQUAL(scan.services, 1);   /* keyword and name in any case */
    CU_ASSERT_EQUAL(scan.early_line, 2);
    CU_ASSERT_STRING_EQUAL(scan.early_file, early);
    CU_ASSERT_EQUAL(o3b_config_read_scan(&c, other, &scan, collect, &r), 0);
    CU_ASSERT_EQUAL(scan.services, 0); /* other services, and a line without a module */
    CU_ASSERT_EQUAL(scan.directives, 0);
    CU_ASSERT_EQUAL(r.n, 0);
    o3b_config_release(&c);
    tmpdir_remove(&d);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_defaults_after_init),
    O3B_TEST(test_documented_defaults_match_the_real_ones),
    O3B_TEST(test_every_row_default_lands_in_its_field_at_init),
    O3B_TEST(test_rows_describe_their_type_and_bounds),
    O3B_TEST(test_the_shipped_conf_documents_every_directive),
    O3B_TEST(test_good_values_set_their_field),
    O3B_TEST(test_bad_values_are_refused_naming_directive_and_value),
    O3B_TEST(test_every_directive_has_good_and_bad_rows),
    O3B_TEST(test_a_plain_http_service_url_is_refused_unless_its_host_is_loopback),
    O3B_TEST(test_allow_http_service_url_works_before_or_after_the_service_url_line),
    O3B_TEST(test_a_refused_value_keeps_the_previous_one),
    O3B_TEST(test_directive_names_are_found_with_or_without_prefix),
    O3B_TEST(test_lists_accumulate_over_lines),
    O3B_TEST(test_list_items_split_on_commas_and_blanks),
    O3B_TEST(test_too_many_tenant_names_are_refused),
    O3B_TEST(test_scalars_keep_the_last_value),
    O3B_TEST(test_service_areas_build_the_web_service_parameter),
    O3B_TEST(test_guid_check),
    O3B_TEST(test_release_frees_everything_and_init_makes_it_usable_again),
    O3B_TEST(test_read_file_applies_our_lines_and_ignores_the_rest),
    O3B_TEST(test_read_file_reports_each_bad_line_and_applies_the_good_ones),
    O3B_TEST(test_finish_names_the_line_of_a_refused_service_url),
    O3B_TEST(test_read_file_names_the_included_file_of_a_bad_line),
    O3B_TEST(test_include_nesting_is_limited_to_16_levels),
    O3B_TEST(test_a_file_including_itself_stops),
    O3B_TEST(test_read_file_reports_what_cannot_be_read),
    O3B_TEST(test_read_file_reports_unbalanced_quotes_and_long_lines),
    O3B_TEST(test_scan_takes_relative_includes_in_the_given_directory_as_c_icap_does),
    O3B_TEST(test_scan_counts_service_lines_and_finds_a_directive_before_them),
};

O3B_UNIT_MAIN("config", tests)
