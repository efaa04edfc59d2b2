/* SPDX-License-Identifier: MIT */
/*
 * srv_o365bypass.c - the c-icap service: Microsoft 365 destinations end the
 * adaptation chain with a 204, everything else continues to inspection.
 *
 * The whole per-request work happens in the preview handler (we advertise
 * Preview: 0, so no body byte is ever read): parse the encapsulated request
 * target, decide against the current table and the policy, answer 204 -
 * with an empty X-Next-Services header when bypassing, without it
 * otherwise - and an X-O365bypass-Decision header saying why.  That path
 * allocates nothing of its own, takes no lock that waits on I/O, and reads
 * the table through the snapshot (snapshot.h), so a reload never stalls it.
 * Anything unexpected (no request headers, a malformed request) is
 * inspected, never bypassed.  Every rule lives in the core: the header
 * block is parsed by o3b_target_parse_headers(), decided by o3b_decide(),
 * counted by o3b_counters_of(); this file only hands c-icap's data over.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "glue.h"

#include "c_icap/header.h"
#include "c_icap/request.h"
#include "c_icap/simple_api.h"

#include "o365bypass/target.h"

#define DECISION_HEADER "X-O365bypass-Decision: "
/* ICAP request header Squid sets with `adaptation_meta X-O365bypass-SNI
   "%ssl::>sni"`: the TLS server name of the client connection (policy.h). */
#define SNI_HEADER "X-O365bypass-SNI"

struct o3b_config o3b_g_config;
struct o3b_snapshot o3b_g_snapshot;
ci_service_xdata_t *o3b_g_xdata;
struct o3b_shared *o3b_g_shared;

static int config_failed;

/* ---- configuration: one c-icap directive per row of o3b_directives ---------- */

/*
 * c-icap 0.5.10 parses its configuration before ServerLog is open and, unless
 * run with -D, prints nothing about a refused directive (it just exits, with
 * status 0): say it on stderr too, so the admin (or the service manager's
 * journal) sees which directive and value stopped c-icap.
 */
static void config_error(const char *msg)
{
    O3B_LOG(O3B_LOG_ERROR, "configuration error: %s\n", msg);
    if (!CI_DEBUG_STDOUT)
        fprintf(stderr, O3B_LOG_PREFIX "configuration error: %s\n", msg);
}

static int set_directive(const char *name, const char **argv, void *setdata)
{
    o3b_err err;

    (void)setdata;
    if (o3b_config_set(&o3b_g_config, name, (const char *const *)argv, &err) != 0) {
        config_error(err.msg);
        config_failed = 1;
        return 0; /* c-icap stops on a failing directive */
    }
    return 1;
}

/* c-icap's directive table, filled from o3b_directives (config.c) when the
   module is loaded, so a directive is declared in one place only. */
#define MAX_DIRECTIVES 64
static struct ci_conf_entry conf_table[MAX_DIRECTIVES + 1];

__attribute__((constructor)) static void fill_conf_table(void)
{
    size_t n = 0;

    for (const struct o3b_directive *d = o3b_directives; d->name && n < MAX_DIRECTIVES; d++, n++) {
        conf_table[n].name = d->name;
        conf_table[n].data = NULL;
        conf_table[n].action = set_directive;
        conf_table[n].msg = d->help;
    }
    /* conf_table[n] stays all NULL: the sentinel c-icap looks for */
}

/* ---- OPTIONS ------------------------------------------------------------------- */

static int options_handler(ci_request_t *req)
{
    char table_hdr[512], refresh_hdr[512];

    o3b_table_describe(table_hdr, sizeof table_hdr, refresh_hdr, sizeof refresh_hdr);
    ci_icap_add_xheader(req, table_hdr);
    ci_icap_add_xheader(req, refresh_hdr);
    return CI_OK;
}

/* ---- the decision --------------------------------------------------------------- */

/* Count one classified request: the counters the core names for it. */
static void count(const struct o3b_decision *d, ci_request_t *req, bool is_connect)
{
    enum o3b_counter ids[O3B_COUNTERS_PER_REQUEST_MAX];
    enum o3b_request_kind kind =
        ci_req_type(req) == ICAP_RESPMOD ? O3B_REQ_RESPMOD : O3B_REQ_REQMOD;
    size_t n = o3b_counters_of(d, kind, is_connect, ids);

    for (size_t i = 0; i < n; i++)
        o3b_stats_inc(ids[i]);
}

/* Attributes for c-icap's access log: %{o365bypass_verdict}Sa etc. */
static void set_log_attributes(ci_request_t *req, const struct o3b_decision *d)
{
    char id[16];

    ci_request_set_str_attribute(req, "o365bypass_verdict",
                                 d->verdict == O3B_BYPASS ? "bypass" : "inspect");
    ci_request_set_str_attribute(req, "o365bypass_reason", o3b_reason_name(d->reason));
    if (d->set != NULL) {
        snprintf(id, sizeof id, "%u", d->set->id);
        ci_request_set_str_attribute(req, "o365bypass_set", id);
        ci_request_set_str_attribute(req, "o365bypass_category",
                                     o3b_category_name(d->set->category));
        ci_request_set_str_attribute(req, "o365bypass_area", d->set->area_name);
    }
    if (d->entry != NULL)
        ci_request_set_str_attribute(req, "o365bypass_match", d->entry->text);
}

static void classify(ci_request_t *req, struct o3b_target *target, struct o3b_decision *d,
                     char *header, size_t header_size)
{
    ci_headers_list_t *h = ci_http_request_headers(req);
    bool is_connect;
    enum o3b_target_status st;
    const o3b_table *table;
    unsigned ticket;

    st = o3b_target_parse_headers(h ? (const char *const *)h->headers : NULL,
                                  h && h->used > 0 ? (size_t)h->used : 0, target, &is_connect);
    if (st == O3B_TARGET_OK) { /* the SNI Squid saw, from the ICAP request (adaptation_meta) */
        const char *sni = ci_headers_value(req->request_header, SNI_HEADER);
        o3b_target_set_sni(target, sni, sni ? strlen(sni) : 0);
    }
    table = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    o3b_decide(table, &o3b_g_config.policy, target, st, d);
    /* the decision points into the table: format while we hold it */
    memcpy(header, DECISION_HEADER, sizeof DECISION_HEADER);
    o3b_decision_format(d, header + sizeof DECISION_HEADER - 1,
                        header_size - (sizeof DECISION_HEADER - 1));
    count(d, req, is_connect);
    set_log_attributes(req, d);
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
}

static int preview_handler(char *preview_data, int preview_data_len, ci_request_t *req)
{
    struct o3b_target target;
    struct o3b_decision d;
    char header[640];

    (void)preview_data;
    (void)preview_data_len;
    /* let c-icap echo the body itself if the client cannot take a 204 */
    ci_req_unlock_data(req);
    classify(req, &target, &d, header, sizeof header);
    ci_icap_add_xheader(req, header);
    if (d.verdict == O3B_BYPASS)
        ci_icap_add_xheader(req, "X-Next-Services: ");
    O3B_LOG(O3B_LOG_TRACE, "%s -> %s\n", ci_http_request(req) ? ci_http_request(req) : "-",
            header + sizeof DECISION_HEADER - 1);
    return CI_MOD_ALLOW204;
}

/* Never reached with Preview: 0 and a 204 in the preview; kept harmless. */
static int end_of_data_handler(ci_request_t *req)
{
    (void)req;
    return CI_MOD_DONE;
}

static int service_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    (void)wbuf;
    (void)rbuf;
    (void)iseof;
    (void)req;
    if (rlen)
        *rlen = 0;
    if (wlen)
        *wlen = CI_EOF;
    return CI_OK;
}

/* ---- life cycle ---------------------------------------------------------------- */

static int init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    (void)server_conf;
    o3b_g_xdata = srv_xdata;
    config_failed = 0;
    /* first load or reconfigure: free what a previous run left (all NULL the
       first time), then start again from the defaults and no table */
    o3b_config_release(&o3b_g_config);
    o3b_config_init(&o3b_g_config);
    o3b_snapshot_destroy(&o3b_g_snapshot);
    o3b_snapshot_init(&o3b_g_snapshot);
    o3b_stats_register();
    ci_service_set_preview(srv_xdata, 0);
    ci_service_enable_204(srv_xdata);
    ci_service_set_transfer_preview(srv_xdata, "*");
    ci_service_set_istag(srv_xdata, "starting");
    ci_service_add_option_handler(srv_xdata, "o365bypass", options_handler);
    return CI_OK;
}

static int post_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    o3b_err err;

    (void)srv_xdata;
    (void)server_conf;
    /* here, not in init_service: c-icap opens its ServerLog in between */
    O3B_LOG(O3B_LOG_EVENT, "version %s loaded\n", O3B_VERSION);
    if (config_failed)
        return CI_ERROR;
    if (o3b_config_finish(&o3b_g_config, &err) != 0) {
        config_error(err.msg);
        return CI_ERROR;
    }
    return o3b_table_post_init() == 0 ? CI_OK : CI_ERROR;
}

static void close_service(void)
{
    o3b_table_close();
    o3b_snapshot_destroy(&o3b_g_snapshot);
    o3b_config_release(&o3b_g_config);
}

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    O3B_SERVICE_NAME,
    "Ends the ICAP chain for Microsoft 365 endpoints (Office 365 IP Address and URL web "
    "service)",
    ICAP_REQMOD | ICAP_RESPMOD,
    init_service,
    post_init_service,
    close_service,
    NULL, /* no per-request data: nothing to allocate */
    NULL,
    preview_handler,
    end_of_data_handler,
    service_io,
    conf_table,
    NULL,
};
