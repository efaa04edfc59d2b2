/* SPDX-License-Identifier: MIT */
/*
 * test_fetcher.c - the libcurl fetcher against a loopback feed server.
 *
 * The suite starts tests/tools/feedserver.py twice (plain HTTP, and HTTPS
 * with a throwaway self-signed certificate made by the openssl CLI), reads
 * "PORT <n>" from each, and stops them by PID at the end.  Every test starts
 * from a clean server state (no fault, default file, empty request log) and
 * sets the fault it needs through /_control, using the fetcher itself as the
 * HTTP client.  The fetcher has no defaults of its own: every request here
 * starts from the configuration's fetch options (o3b_config_fetch_opts of a
 * default config) with 2 s timeouts, so the whole program runs in a few
 * seconds.  Only 127.0.0.1 is ever contacted.
 */
#include <cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o365bypass/config.h"
#include "o365bypass/fetcher.h"
#include "o365bypass/refresher.h"
#include "unit.h"

#include "feed.h" /* after unit.h: it uses its helpers */

#define DATA_FILE O3B_TEST_DATA "/worldwide-2025-11-14.json"
#define GUID "3f2b7c1e-5a4d-4e8f-9b6a-1c2d3e4f5a6b"
#define VERSION_QUERY "/version/Worldwide?ClientRequestId=" GUID
#define ENDPOINTS_QUERY                                                                            \
    "/endpoints/Worldwide?ClientRequestId=" GUID                                                   \
    "&ServiceAreas=Common,Exchange,SharePoint,Skype&TenantName=contoso&NoIPv6=true"
#define SHORT_TIMEOUT_S 2L

static struct test_feed plain_feed = TEST_FEED_INIT;
static struct test_feed tls_feed = TEST_FEED_INIT;
static char cert_dir[64]; /* holds key.pem and ca/cert.pem (+ hash links) */
static bool have_tls;

/* ---- helpers: processes and files ---------------------------------------- */

/* In a forked child: exec argv (searched in PATH), or _exit(127). */
static void exec_or_die(const char *const argv[])
{
    char *copy[32];
    size_t n = 0;

    /* execvp wants mutable strings; the copies die with the exec */
    for (; argv[n] != NULL && n < sizeof copy / sizeof copy[0] - 1; n++)
        if ((copy[n] = strdup(argv[n])) == NULL)
            _exit(127);
    copy[n] = NULL;
    execvp(copy[0], copy);
    _exit(127);
}

/* Run argv with stdout/stderr to /dev/null; true when it exits 0. */
static bool run_quietly(const char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        exec_or_die(argv);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A self-signed certificate for IP 127.0.0.1 in cert_dir/ca, hashed for CAPath. */
static bool make_certificate(void)
{
    char key[128], cert[128], ca[96];
    // clang-format off
    const char *req[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                         cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                         "-addext", "subjectAltName=IP:127.0.0.1", NULL};
    // clang-format on
    const char *rehash[] = {"openssl", "rehash", ca, NULL};

    if (!test_make_dir(cert_dir, sizeof cert_dir, "fetcher"))
        return false;
    str_format(ca, sizeof ca, "%s/ca", cert_dir);
    str_format(key, sizeof key, "%s/key.pem", cert_dir);
    str_format(cert, sizeof cert, "%s/cert.pem", ca);
    return mkdir(ca, 0700) == 0 && run_quietly(req) && run_quietly(rehash);
}

static int suite_init(void)
{
    char key[128], cert[128];

    o3b_fetch_global_init();
    signal(SIGPIPE, SIG_IGN);
    if (feed_start(&plain_feed, NULL, NULL) != 0)
        return -1;
    have_tls = make_certificate();
    if (!have_tls) {
        fprintf(stderr, "\nopenssl CLI unavailable: the TLS tests only check failure\n");
        return 0;
    }
    str_format(key, sizeof key, "%s/key.pem", cert_dir);
    str_format(cert, sizeof cert, "%s/ca/cert.pem", cert_dir);
    return feed_start(&tls_feed, cert, key);
}

static int suite_clean(void)
{
    feed_stop(&plain_feed);
    feed_stop(&tls_feed);
    if (cert_dir[0] != '\0')
        test_remove_tree(cert_dir);
    curl_global_cleanup();
    return 0;
}

/* ---- helpers: talking to the feed ------------------------------------------ */

/* The configuration's fetch options (no CAFile, CAPath or FetchProxy),
   with short timeouts. */
static struct o3b_fetch_opts quick_opts(void)
{
    struct o3b_config cfg;
    struct o3b_fetch_opts o;

    o3b_config_init(&cfg);
    o = o3b_config_fetch_opts(&cfg);
    o3b_config_release(&cfg);
    o.ca_file = o.ca_path = o.proxy = NULL; /* they were borrowed from cfg */
    o.connect_timeout_s = o.total_timeout_s = SHORT_TIMEOUT_S;
    return o;
}

/* GET base + path_query with opts (NULL: quick_opts()). */
static int get(const struct test_feed *f, const char *path_query, const struct o3b_fetch_opts *opts,
               struct o3b_fetch_result *res, o3b_err *err)
{
    struct o3b_fetch_opts quick = quick_opts();
    char url[512];

    str_format(url, sizeof url, "%s%s", f->base, path_query);
    return o3b_fetch(url, opts ? opts : &quick, res, err);
}

/* Send a /_control query to the plain feed; asserts it was accepted. */
static void control(const char *query)
{
    struct o3b_fetch_result res;
    o3b_err err;
    char path[256];

    str_format(path, sizeof path, "/_control?%s", query);
    CU_ASSERT_EQUAL(get(&plain_feed, path, NULL, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
}

static void reset_feed(void)
{
    control("fault=none&clear_requests=1&version=2025111400"
            "&file=tests/data/worldwide-2025-11-14.json");
}

/* The request log of the plain feed (cleared); caller cJSON_Delete()s it. */
static cJSON *take_requests(void)
{
    struct o3b_fetch_result res;
    o3b_err err;
    cJSON *log = NULL;

    if (get(&plain_feed, "/_requests?clear=1", NULL, &res, &err) == 0 && res.http_status == 200)
        log = cJSON_Parse(res.body);
    o3b_fetch_result_free(&res);
    CU_ASSERT_TRUE(cJSON_IsArray(log));
    return log;
}

/* A string field of log entry `index`, or "(absent)" (never NULL). */
static const char *request_field(const cJSON *log, int index, const char *name)
{
    const cJSON *entry = cJSON_GetArrayItem(log, index);
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, name));

    return value ? value : "(absent)";
}

/* ---- successful responses -------------------------------------------------- */

static void test_fetch_returns_the_endpoints_file_byte_exact(void)
{
    struct o3b_fetch_result res;
    o3b_err err;
    size_t expected_len = 0;
    char *expected = test_read_file(DATA_FILE, &expected_len);

    CU_ASSERT_PTR_NOT_NULL_FATAL(expected);
    CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, NULL, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    CU_ASSERT_EQUAL(res.retry_after_s, -1);
    CU_ASSERT_EQUAL_FATAL(res.len, expected_len);
    CU_ASSERT_EQUAL(memcmp(res.body, expected, expected_len), 0);
    CU_ASSERT_EQUAL(res.body[res.len], '\0');
    o3b_fetch_result_free(&res);
    CU_ASSERT_PTR_NULL(res.body);
    CU_ASSERT_EQUAL(res.len, 0);
    free(expected);
}

static void test_fetch_sends_the_module_user_agent_and_query(void)
{
    struct o3b_fetch_result res;
    struct o3b_fetch_opts custom = quick_opts();
    o3b_err err;
    cJSON *log;

    custom.user_agent = "tester/1";
    CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, NULL, &res, &err), 0);
    o3b_fetch_result_free(&res);
    CU_ASSERT_EQUAL(get(&plain_feed, VERSION_QUERY, &custom, &res, &err), 0);
    o3b_fetch_result_free(&res);
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 2);
    CU_ASSERT_STRING_EQUAL(request_field(log, 0, "user_agent"), "o365bypass/" O3B_VERSION);
    CU_ASSERT_STRING_EQUAL(request_field(log, 0, "path"), "/endpoints/Worldwide");
    CU_ASSERT_PTR_NOT_NULL(strstr(request_field(log, 0, "query"), "NoIPv6=true"));
    CU_ASSERT_STRING_EQUAL(request_field(log, 1, "user_agent"), "tester/1");
    cJSON_Delete(log);
}

/* The fetcher has no defaults: options without timeouts or a cap are refused. */
static void test_fetch_refuses_missing_options_and_accepts_a_null_error(void)
{
    struct o3b_fetch_opts quick = quick_opts(), no_cap = quick, no_timeout = quick;
    struct o3b_fetch_result res;
    o3b_err err;
    char url[128];

    no_cap.max_bytes = 0;
    no_timeout.connect_timeout_s = 0;
    str_format(url, sizeof url, "%s%s", plain_feed.base, VERSION_QUERY);
    CU_ASSERT_EQUAL(o3b_fetch(url, NULL, &res, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fetch options"));
    CU_ASSERT_EQUAL(o3b_fetch(url, &no_cap, &res, &err), -1);
    CU_ASSERT_EQUAL(o3b_fetch(url, &no_timeout, &res, NULL), -1);
    CU_ASSERT_PTR_NULL(res.body);
    CU_ASSERT_EQUAL(o3b_fetch(url, &quick, &res, NULL), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    CU_ASSERT_STRING_EQUAL(res.body, "{\"instance\":\"Worldwide\",\"latest\":\"2025111400\"}");
    o3b_fetch_result_free(&res);
    o3b_fetch_result_free(NULL);
}

static void test_fetch_follows_a_redirect(void)
{
    struct o3b_fetch_result res;
    o3b_err err;

    control("fault=redirect-once");
    CU_ASSERT_EQUAL(get(&plain_feed, VERSION_QUERY, NULL, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    CU_ASSERT_EQUAL(res.retry_after_s, -1); /* the 302's Retry-After is not the answer's */
    o3b_fetch_result_free(&res);
}

/* ---- HTTP errors are responses, not failures -------------------------------- */

static void test_fetch_reports_http_errors_as_responses(void)
{
    static const struct {
        const char *fault;
        long status;
    } cases[] = {{"fault=404", 404}, {"fault=500", 500}, {"fault=500&target=endpoints", 200}};
    struct o3b_fetch_result res;
    o3b_err err;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        control(cases[i].fault);
        CU_ASSERT_EQUAL(get(&plain_feed, VERSION_QUERY, NULL, &res, &err), 0);
        CU_ASSERT_EQUAL(res.http_status, cases[i].status);
        CU_ASSERT_PTR_NOT_NULL(res.body);
        o3b_fetch_result_free(&res);
    }
}

static void test_fetch_captures_retry_after_as_seconds_from_now(void)
{
    static const struct {
        const char *fault;
        long min, max;
    } cases[] = {
        {"fault=429&retry_after=120", 120, 120},
        {"fault=429", 3600, 3600},
        {"fault=429&retry_after_in=300", 295, 300},                              /* HTTP-date */
        {"fault=429&retry_after=Thu,%2001%20Jan%201998%2000:00:00%20GMT", 0, 0}, /* past */
        {"fault=429&retry_after=99999999999", 604800, 604800},                   /* clamped */
        {"fault=429&retry_after=soon", -1, -1},                                  /* unreadable */
    };
    struct o3b_fetch_result res;
    o3b_err err;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        control(cases[i].fault);
        CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, NULL, &res, &err), 0);
        CU_ASSERT_EQUAL(res.http_status, 429);
        CU_ASSERT_TRUE(res.retry_after_s >= cases[i].min && res.retry_after_s <= cases[i].max);
        if (res.retry_after_s < cases[i].min || res.retry_after_s > cases[i].max)
            fprintf(stderr, "\n%s: got %ld\n", cases[i].fault, res.retry_after_s);
        o3b_fetch_result_free(&res);
    }
}

/* ---- transport failures ----------------------------------------------------- */

static void test_fetch_fails_on_refused_connection_and_names_the_url(void)
{
    struct o3b_fetch_opts quick = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;
    char url[128], shown[64];
    int port = test_closed_port();

    CU_ASSERT_FATAL(port > 0);
    str_format(url, sizeof url, "http://127.0.0.1:%d/version/Worldwide?ClientRequestId=" GUID,
               port);
    str_format(shown, sizeof shown, "http://127.0.0.1:%d/version/Worldwide", port);
    CU_ASSERT_EQUAL(o3b_fetch(url, &quick, &res, &err), -1);
    CU_ASSERT_EQUAL(res.http_status, 0);
    CU_ASSERT_PTR_NULL(res.body);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, shown));
    CU_ASSERT_PTR_NULL(strstr(err.msg, GUID));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "onnect"));
    o3b_fetch_result_free(&res);
}

static void test_fetch_fails_on_broken_responses(void)
{
    static const char *const faults[] = {"fault=refuse", "fault=truncated", "fault=redirect-loop",
                                         "fault=redirect-ftp"};
    struct o3b_fetch_result res;
    o3b_err err;

    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        control(faults[i]);
        err.msg[0] = '\0';
        CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, NULL, &res, &err), -1);
        CU_ASSERT_PTR_NULL(res.body);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/endpoints/Worldwide: "));
        o3b_fetch_result_free(&res);
    }
}

static void test_fetch_stops_after_three_redirects(void)
{
    struct o3b_fetch_result res;
    o3b_err err;
    cJSON *log;

    control("fault=redirect-loop&clear_requests=1");
    CU_ASSERT_EQUAL(get(&plain_feed, VERSION_QUERY, NULL, &res, &err), -1);
    CU_ASSERT_EQUAL(res.http_status, 302);
    o3b_fetch_result_free(&res);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 4);
    cJSON_Delete(log);
}

static void test_fetch_refuses_schemes_other_than_http(void)
{
    static const char *const urls[] = {"ftp://127.0.0.1/x",
                                       "file:///etc/hostname",
                                       "gopher://127.0.0.1/",
                                       "dict://127.0.0.1/",
                                       "",
                                       NULL};
    struct o3b_fetch_opts quick = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;

    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        CU_ASSERT_EQUAL(o3b_fetch(urls[i], &quick, &res, &err), -1);
        CU_ASSERT_PTR_NULL(res.body);
        o3b_fetch_result_free(&res);
    }
}

static void test_fetch_gives_up_on_stalled_servers_within_the_total_timeout(void)
{
    static const char *const faults[] = {"fault=hang", "fault=drip"};
    struct o3b_fetch_result res;
    o3b_err err;

    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        double start, took;

        control(faults[i]);
        start = now_s();
        CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, NULL, &res, &err), -1);
        took = now_s() - start;
        CU_ASSERT_TRUE(took >= SHORT_TIMEOUT_S - 0.5 && took < SHORT_TIMEOUT_S + 1.5);
        CU_ASSERT_TRUE(strstr(err.msg, "timed out") != NULL || strstr(err.msg, "too slow") != NULL);
        CU_ASSERT_PTR_NULL(res.body);
        o3b_fetch_result_free(&res);
    }
}

static void test_fetch_refuses_an_announced_body_over_the_cap(void)
{
    struct o3b_fetch_opts small = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;

    small.max_bytes = 1000;
    CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, &small, &res, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cap of 1000 bytes"));
    CU_ASSERT_PTR_NULL(res.body);
    o3b_fetch_result_free(&res);
}

static void test_fetch_aborts_a_streamed_body_as_soon_as_it_passes_the_cap(void)
{
    struct o3b_fetch_opts one_mib = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;
    double start;

    one_mib.max_bytes = 1 << 20;
    one_mib.total_timeout_s = 10;
    control("fault=huge");
    start = now_s();
    CU_ASSERT_EQUAL(get(&plain_feed, ENDPOINTS_QUERY, &one_mib, &res, &err), -1);
    CU_ASSERT_TRUE(now_s() - start < 5.0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cap of 1048576 bytes"));
    CU_ASSERT_PTR_NULL(res.body);
    o3b_fetch_result_free(&res);
}

/* ---- proxies ---------------------------------------------------------------- */

static void test_fetch_ignores_proxies_from_the_environment(void)
{
    static const char *const vars[] = {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                                       "all_proxy"};
    struct o3b_fetch_result res;
    o3b_err err;
    char dead_proxy[64];

    str_format(dead_proxy, sizeof dead_proxy, "http://127.0.0.1:%d", test_closed_port());
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        setenv(vars[i], dead_proxy, 1);
    CU_ASSERT_EQUAL(get(&plain_feed, VERSION_QUERY, NULL, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static void test_fetch_goes_through_the_configured_proxy(void)
{
    struct o3b_fetch_opts via = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;
    cJSON *log;

    via.proxy = plain_feed.base;
    /* no_proxy from the environment does not apply to a configured proxy either */
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    CU_ASSERT_EQUAL(o3b_fetch("http://o365.invalid" VERSION_QUERY, &via, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    log = take_requests();
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(log), 1);
    CU_ASSERT_STRING_EQUAL(request_field(log, 0, "target"), "http://o365.invalid" VERSION_QUERY);
    cJSON_Delete(log);
}

/* ---- TLS -------------------------------------------------------------------- */

static void test_fetch_rejects_a_self_signed_certificate(void)
{
    struct o3b_fetch_result res;
    o3b_err err;

    if (!have_tls)
        return;
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, NULL, &res, &err), -1);
    CU_ASSERT_EQUAL(res.http_status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "https://127.0.0.1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "certificate"));
    o3b_fetch_result_free(&res);
}

static void test_fetch_trusts_the_given_ca_file_or_path(void)
{
    char ca_file[128], ca_path[128];
    struct o3b_fetch_opts by_file = quick_opts(), by_path = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;

    by_file.ca_file = ca_file;
    by_path.ca_path = ca_path;
    if (!have_tls)
        return;
    str_format(ca_path, sizeof ca_path, "%s/ca", cert_dir);
    str_format(ca_file, sizeof ca_file, "%s/cert.pem", ca_path);
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, &by_file, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, &by_path, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
}

/* /_control?QUERY on the TLS feed (trusting its certificate). */
static void tls_control(const char *query)
{
    char ca_file[128], path[512];
    struct o3b_fetch_opts by_file = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;

    by_file.ca_file = ca_file;
    str_format(ca_file, sizeof ca_file, "%s/ca/cert.pem", cert_dir);
    str_format(path, sizeof path, "/_control?%s", query);
    CU_ASSERT_EQUAL(get(&tls_feed, path, &by_file, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
}

/* A MITM must not be able to move the feed from https to plain http. */
static void test_fetch_never_follows_a_redirect_from_https_to_http(void)
{
    char ca_file[128], query[256];
    struct o3b_fetch_opts by_file = quick_opts();
    struct o3b_fetch_result res;
    cJSON *log;
    o3b_err err;

    if (!have_tls)
        return;
    by_file.ca_file = ca_file;
    str_format(ca_file, sizeof ca_file, "%s/ca/cert.pem", cert_dir);
    str_format(query, sizeof query, "fault=redirect-to&base=%s", plain_feed.base);
    tls_control(query);
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, &by_file, &res, &err), -1);
    CU_ASSERT_PTR_NULL(res.body);
    o3b_fetch_result_free(&res);
    log = take_requests();
    CU_ASSERT_EQUAL(cJSON_GetArraySize(log), 0); /* the plain feed was never asked */
    cJSON_Delete(log);
    /* https to https is still followed */
    str_format(query, sizeof query, "fault=redirect-to&base=%s", tls_feed.base);
    tls_control(query);
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, &by_file, &res, &err), -1); /* a loop */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "redirect"));
    o3b_fetch_result_free(&res);
    tls_control("fault=redirect-once");
    CU_ASSERT_EQUAL(get(&tls_feed, VERSION_QUERY, &by_file, &res, &err), 0);
    CU_ASSERT_EQUAL(res.http_status, 200);
    o3b_fetch_result_free(&res);
    tls_control("fault=none");
}

static void test_fetch_checks_the_host_name_against_the_certificate(void)
{
    char ca_file[128], url[160];
    struct o3b_fetch_opts by_file = quick_opts();
    struct o3b_fetch_result res;
    o3b_err err;
    const char *port;

    by_file.ca_file = ca_file;
    if (!have_tls)
        return;
    str_format(ca_file, sizeof ca_file, "%s/ca/cert.pem", cert_dir);
    port = strrchr(tls_feed.base, ':') + 1;
    /* the certificate names IP 127.0.0.1 only, not "localhost" */
    str_format(url, sizeof url, "https://localhost:%s%s", port, VERSION_QUERY);
    CU_ASSERT_EQUAL(o3b_fetch(url, &by_file, &res, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "https://localhost:"));
    o3b_fetch_result_free(&res);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_fetch_returns_the_endpoints_file_byte_exact),
    O3B_TEST(test_fetch_sends_the_module_user_agent_and_query),
    O3B_TEST(test_fetch_refuses_missing_options_and_accepts_a_null_error),
    O3B_TEST(test_fetch_follows_a_redirect),
    O3B_TEST(test_fetch_reports_http_errors_as_responses),
    O3B_TEST(test_fetch_captures_retry_after_as_seconds_from_now),
    O3B_TEST(test_fetch_fails_on_refused_connection_and_names_the_url),
    O3B_TEST(test_fetch_fails_on_broken_responses),
    O3B_TEST(test_fetch_stops_after_three_redirects),
    O3B_TEST(test_fetch_refuses_schemes_other_than_http),
    O3B_TEST(test_fetch_gives_up_on_stalled_servers_within_the_total_timeout),
    O3B_TEST(test_fetch_refuses_an_announced_body_over_the_cap),
    O3B_TEST(test_fetch_aborts_a_streamed_body_as_soon_as_it_passes_the_cap),
    O3B_TEST(test_fetch_ignores_proxies_from_the_environment),
    O3B_TEST(test_fetch_goes_through_the_configured_proxy),
    O3B_TEST(test_fetch_rejects_a_self_signed_certificate),
    O3B_TEST(test_fetch_trusts_the_given_ca_file_or_path),
    O3B_TEST(test_fetch_checks_the_host_name_against_the_certificate),
    O3B_TEST(test_fetch_never_follows_a_redirect_from_https_to_http),
};

O3B_UNIT_MAIN_WITH("fetcher", tests, suite_init, suite_clean, reset_feed)
