/* SPDX-License-Identifier: MIT */
/*
 * cmd_diff.c - `o365bypass diff`: what changed between two tables.
 *
 * Both files go through the module's loader (either format: the web
 * service's JSON or a CacheDir file), then o3b_table_diff() writes the same
 * report the refresher logs.  Exit status like diff(1): 0 same, 1 different,
 * 2 trouble.  Without arguments it compares CacheDir's previous table with
 * the current one: what the last refresh changed.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

#include "o365bypass/store.h"
#include "o365bypass/tablediff.h"

static const char diff_help[] =
    "Usage: %s diff [OLD NEW]\n"
    "\n"
    "Compare two endpoint tables (web-service JSON or CacheDir files) set by set:\n"
    "a summary line, then one line per added, removed or changed set or item.\n"
    "Without arguments: CacheDir's previous table against the current one.\n"
    "With -q only the summary line is printed.\n"
    "\n"
    "Exit status: 0 same content, 1 different, 2 error.\n";

static void print_line(void *ud, const char *line)
{
    (void)ud;
    printf("%s\n", line);
}

static int diff_tables(struct cli_ctx *ctx, const char *old_path, const char *new_path)
{
    o3b_table *before = cli_load_table_file(ctx, old_path), *after = NULL;
    struct o3b_diff_counts counts;
    char summary[256];
    size_t changed;

    if (before == NULL)
        return CLI_ERROR;
    after = cli_load_table_file(ctx, new_path);
    if (after == NULL) {
        o3b_table_free(&before);
        return CLI_ERROR;
    }
    changed = o3b_table_diff(before, after, &counts, NULL, NULL);
    printf("%s\n", o3b_diff_summary(&counts, summary, sizeof summary));
    if (!ctx->quiet)
        (void)o3b_table_diff(before, after, &counts, print_line, NULL);
    o3b_table_free(&before);
    o3b_table_free(&after);
    return changed > 0 ? CLI_NEGATIVE : CLI_OK;
}

int cmd_diff(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct o3b_store_params p = o3b_config_store_params(&ctx->cfg);
    char prev[4096], cur[4096];
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h')
            return printf(diff_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        return cli_usage_error(ctx, "diff", "unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind == 2)
        return diff_tables(ctx, argv[optind], argv[optind + 1]);
    if (argc - optind != 0)
        return cli_usage_error(ctx, "diff", "give two table files, or none");
    if (o3b_store_path(&p, O3B_STORE_PREVIOUS, prev, sizeof prev) == NULL ||
        o3b_store_path(&p, O3B_STORE_CURRENT, cur, sizeof cur) == NULL) {
        cli_error(ctx, "diff: no CacheDir configured: give OLD and NEW");
        return CLI_ERROR;
    }
    return diff_tables(ctx, prev, cur);
}
