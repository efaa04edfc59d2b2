/* SPDX-License-Identifier: MIT */
/*
 * cmd_check_config.c - `o365bypass check-config`: every bad line, at once;
 * `--list`: every directive.
 *
 * The file is read with the module's own reader (cli_read_config: the
 * directive table c-icap uses, Include followed as c-icap follows it), which
 * reports each bad line and reads on, so an admin sees all of them with
 * their line numbers instead of c-icap stopping at the first.  Then the
 * checks c-icap would only make at start-up: a directive before the
 * `Service o365bypass` line (c-icap refuses it), the policy lists freeze
 * (o3b_config_finish), the SeedFile loads as the store would take it,
 * CacheDir is usable (missing is a warning: the service can create it only
 * where its user may write the parent, which on Debian is root's /var/lib;
 * the package or `make install` creates it).  `--list` prints the directive
 * rows themselves (config.h), one per line: name, type, default, help.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "o365bypass/store.h"

static const char check_help[] =
    "Usage: %s check-config [FILE]\n"
    "       %s check-config --list\n"
    "\n"
    "Read FILE (default: the -c file, else c-icap's c-icap.conf, else the include\n"
    "file) like c-icap reads o365bypass.* directives, following Include, and print\n"
    "every bad line as FILE:LINE: message on stderr; then check that no directive\n"
    "comes before the Service line, that the lists are usable, that SeedFile loads\n"
    "and that CacheDir is usable.  Warns when no `Service o365bypass` line loads the\n"
    "module.  Prints FILE: OK when clean.\n"
    "\n"
    "  -l, --list  print every directive instead, one per line, TAB-separated:\n"
    "              o365bypass.NAME, its type and bounds, its default (or what\n"
    "              leaving it unset means, in parentheses) and its help\n"
    "\n"
    "Exit status: 0 clean, 1 problems found, 2 FILE cannot be read.\n";

static void report(void *ud, const char *file, unsigned line, const char *message)
{
    (void)ud;
    if (line > 0)
        fprintf(stderr, "%s:%u: %s\n", file, line, message);
    else
        fprintf(stderr, "%s: %s\n", file, message);
}

/* The SeedFile as the store takes it at start-up.  0 good, 1 problem. */
static int check_seed(const struct cli_ctx *ctx, const char *file, const struct o3b_config *c)
{
    struct o3b_store_params p = o3b_config_store_params(c);
    o3b_table *t;
    o3b_err err;
    int rc = o3b_store_load_seed(&p, &t, &err);

    o3b_table_free(&t);
    if (rc == -2) { /* another instance's table: skipped, as the service does */
        if (!ctx->quiet)
            fprintf(stderr,
                    "%s: note: o365bypass.SeedFile is not used: %s; with Instance %s only "
                    "CacheDir or a download gives a table\n",
                    file, err.msg, c->instance);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: o365bypass.SeedFile does not load: %s\n", file, err.msg);
        return 1;
    }
    return 0;
}

/* CacheDir: a directory, or missing (a warning: who creates it).  0 good, 1 problem. */
static int check_cache_dir(const struct cli_ctx *ctx, const char *file, const struct o3b_config *c)
{
    struct o3b_store_params p = o3b_config_store_params(c);
    o3b_err err;

    switch (o3b_store_dir_check(&p, &err)) {
    case O3B_STORE_DIR_NONE:
        if (c->refresh_interval > 0)
            fprintf(stderr,
                    "%s: warning: CacheDir none with RefreshInterval %ld: a fetched "
                    "table cannot be saved, so refreshing always fails\n",
                    file, c->refresh_interval);
        return 0;
    case O3B_STORE_DIR_OK:
        return 0;
    case O3B_STORE_DIR_MISSING:
        if (!ctx->quiet)
            fprintf(stderr,
                    "%s: warning: o365bypass.CacheDir %s does not exist: until it does, "
                    "the service serves the SeedFile and cannot refresh.  The Debian "
                    "package and `make install` create it; else create it owned by the "
                    "user c-icap runs as (User/Group in c-icap.conf; Debian: c-icap): "
                    "the service itself can create it only where that user may write "
                    "the parent directory\n",
                    file, c->cache_dir);
        return 0;
    case O3B_STORE_DIR_NOT_WRITABLE:
        if (!ctx->quiet)
            fprintf(stderr,
                    "%s: warning: o365bypass.CacheDir %s is not writable by this user "
                    "(it must be by the c-icap user)\n",
                    file, c->cache_dir);
        return 0;
    default:
        fprintf(stderr, "%s: o365bypass.%s\n", file, err.msg);
        return 1;
    }
}

/* --list: the directive rows. */
static int list_directives(void)
{
    char type[256];

    for (const struct o3b_directive *d = o3b_directives; d->name; d++) {
        o3b_directive_describe(d, type, sizeof type);
        if (d->default_value != NULL)
            printf("o365bypass.%s\t%s\t%s\t%s\n", d->name, type, d->default_value, d->help);
        else
            printf("o365bypass.%s\t%s\t(%s)\t%s\n", d->name, type,
                   d->unset_means ? d->unset_means : "unset", d->help);
    }
    return CLI_OK;
}

/* A directive before the Service line: c-icap refuses it.  0 good, 1 problem. */
static int check_order(const struct o3b_config_scan *scan)
{
    if (scan->services == 0 || scan->early_line == 0)
        return 0;
    fprintf(stderr,
            "%s:%u: this o365bypass directive comes before the `Service o365bypass` "
            "line: c-icap refuses it (\"Variable ... not found\") and does not start\n",
            scan->early_file, scan->early_line);
    return 1;
}

static int check_file(struct cli_ctx *ctx, const char *file)
{
    struct o3b_config_scan scan;
    struct o3b_config cfg;
    o3b_err err;
    int bad;

    o3b_config_init(&cfg);
    bad = cli_read_config(&cfg, file, &scan, report);
    if (bad < 0) {
        o3b_config_release(&cfg);
        return CLI_ERROR;
    }
    cli_warn_unloaded(ctx, file, &scan);
    bad += check_order(&scan);
    if (o3b_config_finish(&cfg, &err) != 0) {
        fprintf(stderr, "%s: %s\n", cfg.finish_at ? cfg.finish_at : file, err.msg);
        bad++;
    } else {
        bad += check_seed(ctx, file, &cfg);
    }
    bad += check_cache_dir(ctx, file, &cfg);
    o3b_config_release(&cfg);
    if (bad > 0) {
        fprintf(stderr, "%s: %d problem%s\n", file, bad, bad == 1 ? "" : "s");
        return CLI_NEGATIVE;
    }
    printf("%s: OK\n", file);
    return CLI_OK;
}

int cmd_check_config(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'}, {"list", no_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
    const char *file;
    bool list = false;
    int c;

    while ((c = getopt_long(argc, argv, "hl", opts, NULL)) != -1) {
        if (c == 'h')
            return printf(check_help, ctx->prog, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        if (c == 'l') {
            list = true;
            continue;
        }
        return cli_usage_error(ctx, "check-config", "unknown option '%s'", argv[optind - 1]);
    }
    if (list)
        return optind < argc ? cli_usage_error(ctx, "check-config", "--list takes no FILE")
                             : list_directives();
    if (argc - optind > 1)
        return cli_usage_error(ctx, "check-config", "give at most one FILE");
    file = optind < argc ? argv[optind] : ctx->config_path;
    if (file == NULL) {
        cli_error(ctx, "check-config: no FILE given and neither %s nor %s exists", O3B_CICAP_CONF,
                  O3B_DEFAULT_CONFIG);
        return CLI_ERROR;
    }
    return check_file(ctx, file);
}
