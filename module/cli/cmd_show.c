/* SPDX-License-Identifier: MIT */
/*
 * cmd_show.c - `o365bypass show`: the table, the policy, the refresh state.
 *
 * Everything comes from the core (table counts and tag, the finished policy)
 * and, through the store, from the files the module keeps in CacheDir: the
 * status the master writes after each refresh attempt, and a table held
 * back by the shrink or grow guard.  Nothing here talks to the network.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#include "o365bypass/store.h"

static const char show_help[] =
    "Usage: %s show\n"
    "\n"
    "Show the endpoint table (-t FILE, or what the service starts with): where it\n"
    "came from, its version, age and content tag, its counts; the policy in effect;\n"
    "and, from CacheDir, the last refresh result and any table held back by the\n"
    "shrink or grow guard.\n";

static void show_table(const o3b_table *t)
{
    const struct o3b_table_meta *m = o3b_table_meta(t);
    struct o3b_table_counts c;
    char tag[40], when[64], age[64];

    o3b_table_get_counts(t, &c);
    printf("table       %s\n", m->source[0] ? m->source : "(unknown)");
    printf("instance    %s\n", m->instance[0] ? m->instance : "(unknown)");
    printf("version     %s\n", m->version[0] ? m->version : "none (seed or raw file)");
    if (m->fetched > 0)
        printf("fetched     %s (%s ago)\n", cli_format_time(m->fetched, when, sizeof when),
               cli_format_age((long long)time(NULL) - m->fetched, age, sizeof age));
    else
        printf("fetched     unknown\n");
    printf("tag         %s\n", o3b_table_tag(t, tag, sizeof tag));
    printf("sets        %zu: Optimize %zu, Allow %zu, Default %zu\n", c.sets,
           c.sets_by_category[O3B_CAT_OPTIMIZE], c.sets_by_category[O3B_CAT_ALLOW],
           c.sets_by_category[O3B_CAT_DEFAULT]);
    printf("areas       ");
    for (int a = 0, n = 0; a < O3B_AREA_COUNT; a++)
        if (c.sets_by_area[a] > 0)
            printf("%s%s %zu", n++ ? ", " : "", o3b_area_name((enum o3b_area)a), c.sets_by_area[a]);
    printf("\nURLs        %zu: %zu exact, %zu wildcard\n", c.urls, c.exact, c.wildcards);
    printf("IPv4        %zu prefixes\n", c.ipv4);
    printf("IPv6        %zu prefixes\n", c.ipv6);
    printf("entries     %zu (%zu KiB in memory)\n", c.entries, (o3b_table_memory(t) + 1023) / 1024);
}

static void show_policy(const struct cli_ctx *ctx)
{
    const struct o3b_policy *p = &ctx->cfg.policy;

    printf("\npolicy      (%s)\n", ctx->config_path ? ctx->config_path : "built-in defaults");
    printf("  BypassCategories  ");
    for (int c = O3B_CAT_COUNT - 1, n = 0; c >= 0; c--)
        if (p->categories & (1u << c))
            printf("%s%s", n++ ? ", " : "", o3b_category_name((enum o3b_category)c));
    printf("\n  ServiceAreas      ");
    if ((p->areas & O3B_AREAS_ALL) == O3B_AREAS_ALL)
        printf("All");
    else
        for (int a = 0, n = 0; a < O3B_AREA_COUNT; a++)
            if (p->areas & (1u << a))
                printf("%s%s", n++ ? ", " : "", o3b_area_name((enum o3b_area)a));
    printf("\n  RequiredOnly      %s\n", p->required_only ? "on" : "off");
    printf("  NeverBypass       %zu entr%s\n", p->never.n, p->never.n == 1 ? "y" : "ies");
    printf("  AlsoBypass        %zu entr%s\n", p->also.n, p->also.n == 1 ? "y" : "ies");
    printf("  TenantName        ");
    for (size_t i = 0; i < p->n_tenants; i++)
        printf("%s%s", i ? ", " : "", p->tenants[i]);
    printf("%s\n", p->n_tenants ? " (tenant pinning on)" : "(none: no tenant pinning)");
    printf("  TenantDomain      ");
    for (size_t i = 0; i < p->n_domains; i++)
        printf("%s%s (MX %s)", i ? ", " : "", p->domains[i], p->mx_labels[i]);
    printf("%s\n", p->n_domains ? "" : "(none: MX hosts pinned only with TenantName)");
}

/* The status the module's master writes after each refresh attempt. */
static void show_status(const struct o3b_store_params *p)
{
    struct o3b_refresh_status st;
    char path[4096], when[64], age[64];
    o3b_err err;
    int rc = o3b_store_status_read(p, &st, &err);

    o3b_store_path(p, O3B_STORE_STATUS, path, sizeof path);
    if (rc == 1) {
        printf("  last refresh      none recorded (no %s)\n", path);
        return;
    }
    if (rc != 0) {
        printf("  last refresh      %s is unreadable\n", path);
        return;
    }
    printf("  last refresh      %s (%s ago): %s\n",
           cli_format_time(st.last_attempt, when, sizeof when),
           cli_format_age((long long)time(NULL) - st.last_attempt, age, sizeof age),
           st.result[0] ? st.result : "?");
    if (st.last_success > 0)
        printf("  last success      %s\n", cli_format_time(st.last_success, when, sizeof when));
    if (st.next_due > 0)
        printf("  next refresh      %s\n", cli_format_time(st.next_due, when, sizeof when));
    if (st.client_request_id[0])
        printf("  ClientRequestId   %s\n", st.client_request_id);
}

static void show_pending(const struct o3b_store_params *p)
{
    char path[4096];
    o3b_table *t;
    o3b_err err;
    int rc = o3b_store_load(p, O3B_STORE_PENDING, &t, &err);

    o3b_store_path(p, O3B_STORE_PENDING, path, sizeof path);
    if (rc == 1)
        return;
    if (rc == 0) {
        struct o3b_table_counts c;
        o3b_table_get_counts(t, &c);
        printf("  PENDING           %s: version %s, %zu entries, held back by the shrink "
               "or grow guard\n                    (see the last refresh); accept it with the "
               "c-icap command o365bypass_accept\n",
               path, o3b_table_meta(t)->version[0] ? o3b_table_meta(t)->version : "?", c.entries);
        o3b_table_free(&t);
    } else {
        printf("  PENDING           %s exists but does not load: %s\n", path, err.msg);
    }
}

static void show_refresh(const struct cli_ctx *ctx)
{
    const struct o3b_config *cfg = &ctx->cfg;
    struct o3b_store_params p = o3b_config_store_params(cfg);
    static const char *const dir_notes[] = {
        [O3B_STORE_DIR_OK] = "",
        [O3B_STORE_DIR_MISSING] = " (does not exist yet)",
        [O3B_STORE_DIR_NOT_WRITABLE] = " (not writable by this user)",
        [O3B_STORE_DIR_NOT_A_DIR] = " (NOT a directory)",
        [O3B_STORE_DIR_ERROR] = " (cannot be examined)",
    };
    enum o3b_store_dir_state dir;
    o3b_err err;

    printf("\nrefresh\n");
    if (cfg->refresh_interval > 0)
        printf("  RefreshInterval   %ld s\n", cfg->refresh_interval);
    else
        printf("  RefreshInterval   0 (never fetched: cache or SeedFile only)\n");
    printf("  ServiceURL        %s (Instance %s)\n", cfg->service_url, cfg->instance);
    printf("  SeedFile          %s\n", cfg->seed_file ? cfg->seed_file : "none");
    dir = o3b_store_dir_check(&p, &err);
    if (dir == O3B_STORE_DIR_NONE) {
        printf("  CacheDir          none\n");
        return;
    }
    printf("  CacheDir          %s%s\n", cfg->cache_dir, dir_notes[dir]);
    show_status(&p);
    show_pending(&p);
}

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    char notes[2048];
    o3b_table *t;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h')
            return printf(show_help, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
        return cli_usage_error(ctx, "show", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(ctx, "show", "takes no arguments");
    t = cli_load_table(ctx, notes, sizeof notes);
    if (t == NULL)
        return CLI_ERROR;
    printf("module      o365bypass %s\n", O3B_VERSION);
    show_table(t);
    if (notes[0] && !ctx->quiet)
        printf("notes       %s\n", notes);
    show_policy(ctx);
    show_refresh(ctx);
    o3b_table_free(&t);
    return CLI_OK;
}
