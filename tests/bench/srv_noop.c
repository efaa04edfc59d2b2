/* SPDX-License-Identifier: MIT */
/*
 * srv_noop.c - a c-icap service that does nothing: the floor of `make bench`.
 *
 * `make bench` loads it into the same c-icap instance as the module and
 * srv_echo.  It advertises what the module advertises (REQMOD and RESPMOD,
 * Preview: 0, Allow: 204) and its preview handler only unlocks the data and
 * answers 204: no per-request data, no header, no attribute, no counter.
 * Whatever c-icap spends on a request to it is the cost of being a c-icap
 * service at all, so the module's figures over noop's are the module's own
 * cost, and noop's over srv_echo's are c-icap's difference between two
 * services that hardly work.  Built by `make check`, never installed.
 */
#include "c_icap/c-icap.h"
#include "c_icap/request.h"
#include "c_icap/service.h"
#include "c_icap/simple_api.h"

static int noop_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    (void)server_conf;
    ci_service_set_preview(srv_xdata, 0);
    ci_service_enable_204(srv_xdata);
    ci_service_set_transfer_preview(srv_xdata, "*");
    return CI_OK;
}

static void noop_close_service(void)
{
}

static int noop_preview_handler(char *preview_data, int preview_data_len, ci_request_t *req)
{
    (void)preview_data;
    (void)preview_data_len;
    ci_req_unlock_data(req);
    return CI_MOD_ALLOW204;
}

/* Never reached with Preview: 0 and a 204 in the preview; kept harmless. */
static int noop_end_of_data_handler(ci_request_t *req)
{
    (void)req;
    return CI_MOD_DONE;
}

static int noop_service_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof,
                           ci_request_t *req)
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

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    "noop",
    "Does nothing: answers 204 in the preview (o365bypass benchmark floor)",
    ICAP_REQMOD | ICAP_RESPMOD,
    noop_init_service,
    NULL, /* nothing to do after configuration */
    noop_close_service,
    NULL, /* no per-request data */
    NULL,
    noop_preview_handler,
    noop_end_of_data_handler,
    noop_service_io,
    NULL, /* no directives */
    NULL,
};
