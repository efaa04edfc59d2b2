/* SPDX-License-Identifier: MIT */
/*
 * main.c - o365bypass: global options, configuration, dispatch, usage.
 *
 * Global options come before the subcommand (getopt_long with "+", so the
 * subcommand's own options are left to it).  The configuration is c-icap's
 * own c-icap.conf by default (else the include file): one source of settings
 * for the service and the tool.  It is read with the module's own reader
 * (o3b_config_read_scan: same directive table, same checks, Include followed
 * with relative names in c-icap's configuration directory, as c-icap does),
 * so the CLI sees exactly what c-icap would, and warns when no `Service
 * o365bypass` line loads the module (directives c-icap would not use).  A
 * configuration with bad lines is refused (c-icap would refuse to start),
 * except by check-config, which exists to list them.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#include "o365bypass/store.h"

static const char usage_text[] =
    "Usage: %s [-c|--config FILE] [-t|--table FILE] [-q|--quiet] COMMAND [ARGS]\n"
    "\n"
    "Ask what the o365bypass c-icap service decides, inspect its endpoint table,\n"
    "keep the table fresh, and export it for proxies and browsers.\n"
    "\n"
    "Global options:\n"
    "  -c, --config FILE  c-icap configuration to read o365bypass.* directives from\n"
    "                     (follows Include); default: c-icap's own\n"
    "                     %s if it exists, else\n"
    "                     %s, else built-in defaults\n"
    "  -t, --table FILE   endpoint table (the web service's JSON or a CacheDir file);\n"
    "                     default: what the module starts with (CacheDir, else SeedFile)\n"
    "  -q, --quiet        print less (no notes or warnings; lookup: verdict lines only)\n"
    "  -h, --help         this help;  -V, --version  the version\n"
    "\n"
    "Commands:\n"
    "  lookup [--json] [--server HOST:PORT] URL|HOST[:PORT]|IP ...\n"
    "                     decide for each argument like the service (port 443 when\n"
    "                     none); with --server also ask the running service and\n"
    "                     flag a DIFFERENT answer; exit 0 all bypassed, 1 any\n"
    "                     inspected, 2 error, 3 the service decided otherwise\n"
    "  show               the table, its counts, the policy and the refresh status\n"
    "  diff [OLD NEW]     what changed between two table files (default: CacheDir's\n"
    "                     previous and current); exit 0 same, 1 different, 2 error\n"
    "  fetch [-o FILE] [--force]\n"
    "                     fetch the table now if Microsoft has a newer version: into\n"
    "                     CacheDir like the service (previous kept), or with -o the\n"
    "                     raw validated response into FILE (for a mirror)\n"
    "  export pac [--proxy HOST:PORT] [-o FILE]\n"
    "                     a PAC file: DIRECT where the service bypasses, else PROXY\n"
    "  export squid [--dir DIR] [-o FILE]\n"
    "                     Squid ACL files per group of TCP ports in DIR (default .),\n"
    "                     the static ssl_bump splice file and a squid.conf snippet\n"
    "  stats [--server HOST:PORT] [--prometheus]\n"
    "                     counters of a running c-icap (info service) and the table\n"
    "                     it uses (OPTIONS); default server 127.0.0.1:1344\n"
    "  check-config [FILE]\n"
    "                     report every bad o365bypass line as FILE:LINE: message;\n"
    "                     exit 0 clean, 1 bad lines, 2 unreadable\n"
    "  check-config --list\n"
    "                     every directive: type and bounds, default, help\n"
    "\n"
    "Exit codes: 0 success, 1 a negative answer (see the commands), 2 usage or\n"
    "operational error.  `%s COMMAND --help` describes a command.\n";

static void usage(FILE *out, const char *prog)
{
    fprintf(out, usage_text, prog, O3B_CICAP_CONF, O3B_DEFAULT_CONFIG, prog);
}

/* ---- messages --------------------------------------------------------------------- */

void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", ctx->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warn(const struct cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->quiet)
        return;
    fprintf(stderr, "%s: warning: ", ctx->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const struct cli_ctx *ctx, const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s %s: ", ctx->prog, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s %s --help'.\n", ctx->prog, cmd);
    return CLI_ERROR;
}

char *cli_format_time(long long t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, size, "unknown");
    else
        strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

char *cli_format_age(long long s, char *buf, size_t size)
{
    long long a = s < 0 ? -s : s;

    if (a >= 2 * 86400)
        snprintf(buf, size, "%lld days", a / 86400);
    else if (a >= 2 * 3600)
        snprintf(buf, size, "%lld hours", a / 3600);
    else if (a >= 120)
        snprintf(buf, size, "%lld minutes", a / 60);
    else
        snprintf(buf, size, "%lld seconds", a);
    return buf;
}

/* ---- configuration and table ----------------------------------------------------------- */

static void report_bad_line(void *ud, const char *file, unsigned line, const char *message)
{
    (void)ud;
    if (line > 0)
        fprintf(stderr, "%s:%u: %s\n", file, line, message);
    else
        fprintf(stderr, "%s: %s\n", file, message);
}

void cli_warn_unloaded(const struct cli_ctx *ctx, const char *file,
                       const struct o3b_config_scan *scan)
{
    if (scan->services > 0)
        return;
    if (scan->directives > 0)
        cli_warn(ctx,
                 "%s: no `Service o365bypass` line (in it or its Includes) loads the "
                 "module, so c-icap does not use the %u o365bypass directive%s read here; "
                 "is `Include o365bypass.conf` missing from c-icap.conf?",
                 file, scan->directives, scan->directives == 1 ? "" : "s");
    else
        cli_warn(ctx,
                 "%s does not load the o365bypass service (no `Service o365bypass` line, "
                 "also not in its Includes): add `Include o365bypass.conf` to it; using "
                 "the built-in defaults",
                 file);
}

/* Read -c FILE or the default file (if it exists); finish the policy.
   `warn`: say when the file loads no o365bypass service (for commands that
   answer with these settings). */
static int load_config(struct cli_ctx *ctx, bool warn)
{
    struct o3b_config_scan scan;
    o3b_err err;
    int bad;

    if (ctx->config_path != NULL) {
        bad = cli_read_config(&ctx->cfg, ctx->config_path, &scan, report_bad_line);
        if (bad < 0) {
            cli_error(ctx, "cannot use the configuration %s", ctx->config_path);
            return -1;
        }
        if (bad > 0) {
            cli_error(ctx, "%s: %d bad line%s (c-icap would not start); see check-config",
                      ctx->config_path, bad, bad == 1 ? "" : "s");
            return -1;
        }
        if (warn)
            cli_warn_unloaded(ctx, ctx->config_path, &scan);
    }
    if (o3b_config_finish(&ctx->cfg, &err) != 0) {
        cli_error(ctx, "%s: %s",
                  ctx->cfg.finish_at ? ctx->cfg.finish_at
                  : ctx->config_path ? ctx->config_path
                                     : "defaults",
                  err.msg);
        return -1;
    }
    return 0;
}

o3b_table *cli_load_table_file(struct cli_ctx *ctx, const char *path)
{
    struct o3b_store_params p = o3b_config_store_params(&ctx->cfg);
    o3b_table *t;
    o3b_err err;

    t = o3b_store_load_path(&p, path, &err);
    if (t == NULL)
        cli_error(ctx, "%s", err.msg);
    return t;
}

o3b_table *cli_load_table(struct cli_ctx *ctx, char *notes, size_t notes_size)
{
    struct o3b_store_params p = o3b_config_store_params(&ctx->cfg);
    struct o3b_store_choice choice;

    if (notes && notes_size)
        notes[0] = '\0';
    if (ctx->table_path != NULL)
        return cli_load_table_file(ctx, ctx->table_path);
    if (o3b_store_choose(&p, NULL, &choice) != 0) {
        cli_error(ctx, "out of memory loading the start-up table");
        return NULL;
    }
    if (notes && notes_size)
        snprintf(notes, notes_size, "%s", choice.notes);
    return choice.table;
}

/* ---- dispatch ----------------------------------------------------------------------- */

struct command {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
    bool needs_config; /* read and finish the configuration first */
    bool uses_policy;  /* answers with the settings: warn when nothing loads them */
};

static const struct command commands[] = {
    {"lookup", cmd_lookup, true, true},
    {"show", cmd_show, true, true},
    {"diff", cmd_diff, true, false},
    {"fetch", cmd_fetch, true, true},
    {"export", cmd_export, true, true},
    {"stats", cmd_stats, false, false},
    {"check-config", cmd_check_config, false, false},
    {NULL, NULL, false, false},
};

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Subcommand help needs no configuration: skip reading it then. */
static bool asks_for_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int parse_global(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"table", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+c:t:qhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctx->config_path = optarg;
            break;
        case 't':
            ctx->table_path = optarg;
            break;
        case 'q':
            ctx->quiet = true;
            break;
        case 'h':
            usage(stdout, ctx->prog);
            return CLI_OK;
        case 'V':
            printf("o365bypass %s\n", O3B_VERSION);
            return CLI_OK;
        default:
            if (optopt)
                fprintf(stderr, "%s: option -%c: unknown or missing its argument\n", ctx->prog,
                        optopt);
            else
                fprintf(stderr, "%s: unknown option '%s'\n", ctx->prog, argv[optind - 1]);
            fprintf(stderr, "Try '%s --help'.\n", ctx->prog);
            return CLI_ERROR;
        }
    }
    return -1; /* go on */
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct command *cmd;
    int rc = parse_global(ctx, argc, argv);

    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        usage(stderr, ctx->prog);
        return CLI_ERROR;
    }
    if (strcmp(argv[optind], "help") == 0) {
        usage(stdout, ctx->prog);
        return CLI_OK;
    }
    cmd = find_command(argv[optind]);
    if (cmd == NULL) {
        fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", ctx->prog, argv[optind],
                ctx->prog);
        return CLI_ERROR;
    }
    if (ctx->config_path == NULL)
        ctx->config_path = cli_default_config();
    if (cmd->needs_config && !asks_for_help(argc - optind, argv + optind) &&
        load_config(ctx, cmd->uses_policy) != 0)
        return CLI_ERROR;
    argv += optind;
    argc -= optind;
    optind = 0; /* GNU getopt: start afresh for the subcommand */
    return cmd->run(ctx, argc, argv);
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx;
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    int rc;

    memset(&ctx, 0, sizeof ctx);
    ctx.prog = slash ? slash + 1 : (argc > 0 ? argv[0] : "o365bypass");
    if (strncmp(ctx.prog, "lt-", 3) == 0) /* libtool's wrapper name */
        ctx.prog += 3;
    o3b_config_init(&ctx.cfg);
    rc = run(&ctx, argc, argv);
    o3b_config_release(&ctx.cfg);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: error writing to standard output\n", ctx.prog);
        rc = CLI_ERROR;
    }
    return rc;
}
