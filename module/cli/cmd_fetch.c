/* SPDX-License-Identifier: MIT */
/*
 * cmd_fetch.c - `o365bypass fetch`: one refresh now, for cron or a mirror.
 *
 * Into CacheDir it is the module's own refresher (o3b_refresher_run: version
 * check, /endpoints, validation, shrink and grow guards, previous kept,
 * atomic write),
 * so a cron job leaves exactly the files the service would.  With -o FILE it
 * writes the raw validated response instead (an internal mirror serves the
 * web service's format): the version check is the refresher's, the download
 * the fetcher's, the validation the loader's with MaxFeedBytes.  The
 * ClientRequestId is the refresher's in both cases (ClientRequestId, else
 * CacheDir/client-request-id, created when missing).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#include "o365bypass/fetcher.h"
#include "o365bypass/io.h"
#include "o365bypass/refresher.h"
#include "o365bypass/store.h"
#include "o365bypass/tablediff.h"

static const char fetch_help[] =
    "Usage: %s fetch [-o FILE] [--force]\n"
    "\n"
    "Ask {ServiceURL}/version/{Instance} for the latest version and, when it is\n"
    "newer than the table in use (-t FILE, else what the service starts with) or\n"
    "with --force, download /endpoints with the configured ServiceAreas,\n"
    "TenantName and NoIPv6, and validate it like the service (MaxFeedBytes).\n"
    "\n"
    "  -o, --output FILE  write the raw validated response to FILE, atomically\n"
    "                     (for an internal mirror: point ServiceURL at it)\n"
    "      --force        download even when the version is not newer, and skip the\n"
    "                     shrink and grow guards (the outright refusals stay): takes\n"
    "                     a table they held back, like o365bypass_accept\n"
    "\n"
    "Without -o the table is stored in CacheDir exactly as the service's refresher\n"
    "does (previous one kept); running services load it on the c-icap command\n"
    "o365bypass_reload.  The first word printed is the version.\n"
    "\n"
    "Exit status: 0 fetched or already the latest, 2 error.\n";

static const char *version_of(const o3b_table *t)
{
    return t && o3b_table_meta(t)->version[0] ? o3b_table_meta(t)->version : NULL;
}

/* ---- into CacheDir: the module's refresher ------------------------------------------ */

static void print_change(const struct cli_ctx *ctx, const o3b_table *before, const o3b_table *after)
{
    struct o3b_diff_counts dc;
    char summary[256];

    if (ctx->quiet)
        return;
    o3b_table_diff(before, after, &dc, NULL, NULL);
    printf("  against the table before: %s\n", o3b_diff_summary(&dc, summary, sizeof summary));
    printf("  running services load it with the c-icap command o365bypass_reload\n");
}

static int fetch_into_cache(struct cli_ctx *ctx, struct o3b_refresher *r, const o3b_table *current,
                            bool force)
{
    struct o3b_store_params p = o3b_config_store_params(&ctx->cfg);
    o3b_table *fresh = NULL;
    enum o3b_refresh_outcome rc;
    char path[4096], prev[4096];
    o3b_err err = {{0}};

    if (o3b_store_path(&p, O3B_STORE_CURRENT, path, sizeof path) == NULL ||
        o3b_store_path(&p, O3B_STORE_PREVIOUS, prev, sizeof prev) == NULL) {
        cli_error(ctx, "fetch: CacheDir is none: give -o FILE");
        return CLI_ERROR;
    }
    rc = o3b_refresher_run(r, force ? NULL : current, time(NULL), true, &fresh, &err);
    switch (rc) {
    case O3B_REFRESH_UPDATED:
        printf("%s updated: %s (previous kept as %s)\n", version_of(fresh), path, prev);
        print_change(ctx, current, fresh);
        o3b_table_free(&fresh);
        return CLI_OK;
    case O3B_REFRESH_NOT_MODIFIED:
        printf("%s not modified: the table in use is the latest version\n",
               version_of(current) ? version_of(current) : "?");
        return CLI_OK;
    default:
        cli_error(ctx, "fetch %s: %s", o3b_refresh_outcome_name(rc),
                  err.msg[0] ? err.msg : "no detail");
        return CLI_ERROR;
    }
}

/* ---- -o FILE: the raw validated response --------------------------------------------- */

/* GET /endpoints as the refresher does; the validated table (caller frees)
   with the raw body in `res`. */
static o3b_table *download(struct cli_ctx *ctx, struct o3b_refresher *r, const char *latest,
                           struct o3b_fetch_result *res)
{
    o3b_table *t = NULL;
    o3b_err err;
    enum o3b_refresh_outcome rc = o3b_refresher_download(r, latest, time(NULL), res, &t, &err);

    if (rc != O3B_REFRESH_UPDATED)
        cli_error(ctx, "fetch: %s%s", err.msg,
                  rc == O3B_REFRESH_THROTTLED ? " (wait an hour, see Retry-After)" : "");
    return t;
}

static int fetch_raw(struct cli_ctx *ctx, struct o3b_refresher *r, const o3b_table *current,
                     bool force, const char *out_path)
{
    struct o3b_fetch_result res = {0};
    struct o3b_table_counts c;
    char latest[32];
    o3b_table *t;
    o3b_err err;
    int rc = CLI_ERROR;

    if (o3b_refresher_latest(r, latest, &err) != 0) {
        cli_error(ctx, "fetch: %s", err.msg);
        return CLI_ERROR;
    }
    if (!force && version_of(current) && strcmp(latest, version_of(current)) <= 0) {
        printf("%s not modified: the table in use is the latest version (%s not written)\n", latest,
               out_path);
        return CLI_OK;
    }
    t = download(ctx, r, latest, &res);
    if (t != NULL && o3b_write_atomic(out_path, res.body, res.len, &err) != 0) {
        cli_error(ctx, "fetch: %s", err.msg);
    } else if (t != NULL) {
        o3b_table_get_counts(t, &c);
        printf("%s written: %s (%zu bytes, %zu sets, %zu entries)\n", latest, out_path, res.len,
               c.sets, c.entries);
        rc = CLI_OK;
    }
    o3b_table_free(&t);
    o3b_fetch_result_free(&res);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int cmd_fetch(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out_path = NULL;
    bool force = false;
    struct o3b_refresher *r;
    o3b_table *current;
    o3b_err err;
    int c, rc;

    while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
        if (c == 'o')
            out_path = optarg;
        else if (c == 'f')
            force = true;
        else if (c == 'h')
            return printf(fetch_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        else
            return cli_usage_error(ctx, "fetch", "unknown option or missing argument '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(ctx, "fetch", "unexpected argument '%s'", argv[optind]);
    current = cli_load_table(ctx, NULL, 0);
    if (current == NULL)
        return CLI_ERROR;
    o3b_fetch_global_init();
    r = o3b_refresher_new(&ctx->cfg, time(NULL), 0, &err);
    if (r == NULL) {
        cli_error(ctx, "fetch: %s", err.msg);
        o3b_table_free(&current);
        return CLI_ERROR;
    }
    rc = out_path ? fetch_raw(ctx, r, current, force, out_path)
                  : fetch_into_cache(ctx, r, current, force);
    o3b_refresher_free(&r);
    o3b_table_free(&current);
    return rc;
}
