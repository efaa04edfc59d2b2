/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the o365bypass command-line tool's files share.
 *
 * main.c parses the global options, reads the configuration (the same
 * reader and directive table as the module) and dispatches to one
 * cmd_*.c file per subcommand.  Every subcommand gets the context below and
 * its own argv (argv[0] = the subcommand's name) and returns an exit code.
 * The CLI never re-implements a decision: it calls the core (loader,
 * o3b_decide, target parser, store, fetcher, refresher, exporter).
 */
#ifndef O3B_CLI_H
#define O3B_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "o365bypass/config.h"
#include "o365bypass/errors.h"
#include "o365bypass/table.h"

#ifndef O3B_VERSION
#define O3B_VERSION "unknown"
#endif
#ifndef O3B_DEFAULT_CONFIG /* the include file */
#define O3B_DEFAULT_CONFIG "/etc/c-icap/o365bypass.conf"
#endif
#ifndef O3B_CICAP_CONFDIR /* c-icap-config --configdir */
#define O3B_CICAP_CONFDIR "/etc/c-icap"
#endif
#ifndef O3B_CICAP_CONF /* c-icap's own configuration: the default */
#define O3B_CICAP_CONF O3B_CICAP_CONFDIR "/c-icap.conf"
#endif

/* Exit codes. */
enum {
    CLI_OK = 0,       /* success */
    CLI_NEGATIVE = 1, /* a "no" answer: inspected, differences, bad lines */
    CLI_ERROR = 2,    /* usage or operational error */
    CLI_DIFFERENT = 3 /* lookup --server: the running service decided otherwise */
};

struct cli_ctx {
    const char *prog;        /* "o365bypass" */
    const char *config_path; /* the file read, or NULL: built-in defaults */
    const char *table_path;  /* -t FILE, or NULL: the start-up table */
    bool quiet;              /* -q */
    struct o3b_config cfg;   /* read and finished (except for check-config) */
};

/* ---- main.c ------------------------------------------------------------------ */

/* "o365bypass: " + message + "\n" on stderr. */
void cli_error(const struct cli_ctx *ctx, const char *fmt, ...) O3B_PRINTF(2, 3);
/* Same, prefixed "warning: ", suppressed by -q. */
void cli_warn(const struct cli_ctx *ctx, const char *fmt, ...) O3B_PRINTF(2, 3);
/* A usage error for a subcommand: message plus "try --help"; returns CLI_ERROR. */
int cli_usage_error(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
    O3B_PRINTF(3, 4);

/* ---- defaults.c (also linked into the Squid helper, o365bypass-acl) ------------ */

/*
 * Read a c-icap configuration the way c-icap does (o3b_config_read_scan with
 * relative Includes in c-icap's configuration directory); bad lines go to
 * `report`.  Returns as o3b_config_read_file().
 */
int cli_read_config(struct o3b_config *cfg, const char *path, struct o3b_config_scan *scan,
                    o3b_config_report_fn report);

/* The configuration read without -c: c-icap's c-icap.conf when it exists,
   else the include file, else NULL (built-in defaults).  Static strings. */
const char *cli_default_config(void);

/* Warn (unless -q) when what `scan` saw in `file` loads no o365bypass
   service: directives c-icap would not use, or no service at all. */
void cli_warn_unloaded(const struct cli_ctx *ctx, const char *file,
                       const struct o3b_config_scan *scan);

/*
 * The table to work on: -t FILE, else what the module would start with
 * (o3b_store_choose: CacheDir file, else SeedFile, else empty).  `notes`
 * (may be NULL) receives what the start-up fallback skipped.  Returns a
 * table the caller frees, or NULL after printing the error.
 */
o3b_table *cli_load_table(struct cli_ctx *ctx, char *notes, size_t notes_size);

/* Load a named table file (web-service JSON or cache file, the store's size
   limit), printing errors. */
o3b_table *cli_load_table_file(struct cli_ctx *ctx, const char *path);

/* "2025-11-14 13:31:00 UTC" into buf (or "unknown" for 0); returns buf. */
char *cli_format_time(long long t, char *buf, size_t size);
/* "3 days", "5 hours", "42 seconds" into buf; returns buf. */
char *cli_format_age(long long seconds, char *buf, size_t size);

/* ---- subcommands (cmd_*.c) ------------------------------------------------------ */

int cmd_lookup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_show(struct cli_ctx *ctx, int argc, char **argv);
int cmd_diff(struct cli_ctx *ctx, int argc, char **argv);
int cmd_fetch(struct cli_ctx *ctx, int argc, char **argv);
int cmd_export(struct cli_ctx *ctx, int argc, char **argv);
int cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
int cmd_check_config(struct cli_ctx *ctx, int argc, char **argv);

/* ---- icap_client.c ----------------------------------------------------------------- */

struct icap_response {
    int status;    /* ICAP status code, e.g. 200 */
    char *headers; /* ICAP header block (NUL-terminated, CRLF lines) */
    char *body;    /* de-chunked encapsulated body, NUL-terminated, or NULL */
    size_t body_len;
};

/*
 * One blocking ICAP exchange with `host`:`port` (numeric IPv4/IPv6 or a
 * name), every step bounded by `timeout_s` in all.  `method` is "OPTIONS"
 * or "REQMOD"; `service` the path after the port ("info?view=text").  For
 * REQMOD a minimal encapsulated "GET http://x/" is sent.  Returns 0 and
 * fills `out` (free with icap_response_free), or -1 with `errbuf` set.
 */
int icap_request(const char *host, const char *port, const char *method, const char *service,
                 int timeout_s, struct icap_response *out, char *errbuf, size_t errsize);

/*
 * A REQMOD as Squid sends it for a header-only request: `http_head` is the
 * encapsulated HTTP request header block ("GET http://h/ HTTP/1.1\r\nHost:
 * h\r\n\r\n"), sent with Allow: 204, Preview: 0 and a null body, so the
 * service answers 204 (or 200) with the headers it gives Squid.  Returns as
 * icap_request().
 */
int icap_reqmod(const char *host, const char *port, const char *service, const char *http_head,
                int timeout_s, struct icap_response *out, char *errbuf, size_t errsize);

void icap_response_free(struct icap_response *r);

/* The value of ICAP header `name` in `headers` (case-insensitive) into buf;
   returns buf, or NULL when absent. */
char *icap_header(const char *headers, const char *name, char *buf, size_t size);

/* Split "HOST:PORT", "[v6]:PORT" or "HOST" (default port `def_port`).
   Returns 0 or -1. */
int icap_split_server(const char *text, const char *def_port, char *host, size_t hsize, char *port,
                      size_t psize);

#endif
