/* SPDX-License-Identifier: MIT */
/*
 * cmd_check_config.c - `o365bypass check-config`: every bad line, at once;
 * `--list`: every directive.
 *
 * The file is read with the module's own reader (o3b_config_read_file: the
 * directive table c-icap uses, Include followed), which reports each bad
 * line and reads on, so an admin sees all of them with their line numbers
 * instead of c-icap stopping at the first.  Then the checks c-icap would
 * only make at start-up: the policy lists freeze (o3b_config_finish), the
 * SeedFile loads as the store would take it, CacheDir is usable (missing is
 * only a warning: the service creates it).  `--list` prints the directive
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
    "Read FILE (default: the -c file, else the installed configuration) like\n"
    "c-icap reads o365bypass.* directives, following Include, and print every bad\n"
    "line as FILE:LINE: message on stderr; then check that the lists are usable,\n"
    "that SeedFile loads and that CacheDir is usable.  Prints FILE: OK when clean.\n"
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

/* CacheDir: a directory, or missing (the service creates it).  0 good, 1 problem. */
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
                    "%s: warning: o365bypass.CacheDir %s does not exist yet (the "
                    "service creates it: its parent must be writable by c-icap)\n",
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

static int check_file(struct cli_ctx *ctx, const char *file)
{
    struct o3b_config cfg;
    o3b_err err;
    int bad;

    o3b_config_init(&cfg);
    bad = o3b_config_read_file(&cfg, file, report, NULL);
    if (bad < 0) {
        o3b_config_release(&cfg);
        return CLI_ERROR;
    }
    if (o3b_config_finish(&cfg, &err) != 0) {
        fprintf(stderr, "%s: %s\n", file, err.msg);
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
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"list", no_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
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
        cli_error(ctx, "check-config: no FILE given and %s does not exist", O3B_DEFAULT_CONFIG);
        return CLI_ERROR;
    }
    return check_file(ctx, file);
}
