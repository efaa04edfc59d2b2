/* SPDX-License-Identifier: MIT */
/*
 * cmd_export.c - `o365bypass export pac|squid`: the decision for other tools.
 *
 * The exporter (export.h) is pure and writes to a FILE *; here each output
 * is built in memory (open_memstream) and then written in one piece: to
 * stdout, or atomically to its file (o3b_write_atomic), so a proxy that
 * re-reads the files never sees half of one.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#include "o365bypass/io.h"
#include "o365bypass/export.h"

static const char export_help[] =
    "Usage: %s export pac [--proxy HOST:PORT] [-o FILE]\n"
    "       %s export squid [--dir DIR]\n"
    "\n"
    "pac    a PAC file that answers DIRECT exactly where the service bypasses (for\n"
    "       the URL's port, the scheme's default when none) and PROXY HOST:PORT\n"
    "       (default " O3B_PAC_DEFAULT_PROXY ") elsewhere; IPv6 literals always get the\n"
    "       proxy.  To stdout, or atomically to FILE with -o.\n"
    "squid  Squid ACL files in DIR (default .): o365bypass-domains.txt (dstdomain),\n"
    "       o365bypass-domains-regex.txt (dstdom_regex), o365bypass-dst.txt (dst),\n"
    "       and what must still be inspected although covered:\n"
    "       o365bypass-inspect-domains.txt, o365bypass-inspect-regex.txt,\n"
    "       o365bypass-inspect-dst.txt.  Prints a squid.conf snippet using them.\n"
    "       Ports are not encoded: sets with TCP 80 or 443 only are exported.\n";

/* Run `fn` into a memory buffer; returns it (caller frees) or NULL. */
typedef int (*render_fn)(FILE *out, void *ud);

static char *render(render_fn fn, void *ud, size_t *len)
{
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    int rc;

    if (mem == NULL)
        return NULL;
    rc = fn(mem, ud);
    if (fclose(mem) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int emit(struct cli_ctx *ctx, const char *path, const char *buf, size_t len)
{
    o3b_err err;

    if (path == NULL)
        return fwrite(buf, 1, len, stdout) == len ? CLI_OK : CLI_ERROR;
    if (o3b_write_atomic(path, buf, len, &err) != 0) {
        cli_error(ctx, "export: %s", err.msg);
        return CLI_ERROR;
    }
    /* a proxy or web server reads these under its own user */
    if (chmod(path, 0644) != 0)
        cli_warn(ctx, "export: cannot make %s readable for all", path);
    return CLI_OK;
}

/* ---- pac ------------------------------------------------------------------------------ */

struct pac_job {
    const o3b_table *table;
    const struct o3b_policy *policy;
    const char *proxy;
    o3b_err err;
};

static int render_pac(FILE *out, void *ud)
{
    struct pac_job *job = ud;

    return o3b_export_pac(out, job->table, job->policy, job->proxy, "o365bypass " O3B_VERSION,
                          &job->err);
}

static int export_pac(struct cli_ctx *ctx, int argc, char **argv, const o3b_table *t)
{
    static const struct option opts[] = {{"proxy", required_argument, NULL, 'p'},
                                         {"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    struct pac_job job = {t, &ctx->cfg.policy, O3B_PAC_DEFAULT_PROXY, {{0}}};
    const char *out_path = NULL;
    size_t len;
    char *buf;
    int c, rc;

    while ((c = getopt_long(argc, argv, "p:o:", opts, NULL)) != -1) {
        if (c == 'p')
            job.proxy = optarg;
        else if (c == 'o')
            out_path = optarg;
        else
            return cli_usage_error(ctx, "export", "unknown option or missing argument '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(ctx, "export", "unexpected argument '%s'", argv[optind]);
    if (!o3b_export_proxy_valid(job.proxy))
        return cli_usage_error(ctx, "export", "--proxy '%s' is not HOST:PORT", job.proxy);
    buf = render(render_pac, &job, &len);
    if (buf == NULL) {
        cli_error(ctx, "export pac: %s", job.err.msg[0] ? job.err.msg : "out of memory");
        return CLI_ERROR;
    }
    rc = emit(ctx, out_path, buf, len);
    free(buf);
    return rc;
}

/* ---- squid ---------------------------------------------------------------------------- */

struct squid_job {
    const o3b_squid_export *x;
    enum o3b_squid_list list;
    const char *dir;
};

static int render_list(FILE *out, void *ud)
{
    const struct squid_job *job = ud;

    return o3b_squid_export_write(job->x, job->list, out);
}

static int render_conf(FILE *out, void *ud)
{
    const struct squid_job *job = ud;

    return o3b_squid_export_conf(job->x, job->dir, out);
}

static int write_squid_files(struct cli_ctx *ctx, const o3b_squid_export *x, const char *dir)
{
    for (int l = 0; l < O3B_SQUID_LIST_COUNT; l++) {
        struct squid_job job = {x, (enum o3b_squid_list)l, dir};
        char path[PATH_MAX + 64];
        size_t len;
        char *buf = render(render_list, &job, &len);
        int rc;

        if (buf == NULL) {
            cli_error(ctx, "export squid: out of memory");
            return CLI_ERROR;
        }
        snprintf(path, sizeof path, "%s/%s", dir, o3b_squid_file_name(job.list));
        rc = emit(ctx, path, buf, len);
        free(buf);
        if (rc != CLI_OK)
            return rc;
        if (!ctx->quiet)
            fprintf(stderr, "%s: %zu entr%s\n", path, o3b_squid_export_count(x, job.list),
                    o3b_squid_export_count(x, job.list) == 1 ? "y" : "ies");
    }
    return CLI_OK;
}

static int export_squid(struct cli_ctx *ctx, int argc, char **argv, const o3b_table *t)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    const char *dir = ".";
    char abs_dir[PATH_MAX];
    struct squid_job job = {NULL, O3B_SQUID_DOMAINS, abs_dir};
    o3b_squid_export *x;
    o3b_err err;
    size_t len;
    char *buf;
    int c, rc;

    while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
        if (c != 'd')
            return cli_usage_error(ctx, "export", "unknown option or missing argument '%s'",
                                   argv[optind - 1]);
        dir = optarg;
    }
    if (optind < argc)
        return cli_usage_error(ctx, "export", "unexpected argument '%s'", argv[optind]);
    if (realpath(dir, abs_dir) == NULL) {
        cli_error(ctx, "export squid: %s: no such directory", dir);
        return CLI_ERROR;
    }
    x = o3b_squid_export_build(t, &ctx->cfg.policy, &err);
    if (x == NULL) {
        cli_error(ctx, "export squid: %s", err.msg);
        return CLI_ERROR;
    }
    job.x = x;
    rc = write_squid_files(ctx, x, abs_dir);
    buf = rc == CLI_OK ? render(render_conf, &job, &len) : NULL;
    if (buf != NULL)
        rc = emit(ctx, NULL, buf, len);
    else if (rc == CLI_OK)
        rc = CLI_ERROR;
    free(buf);
    o3b_squid_export_free(&x);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    char notes[2048];
    o3b_table *t;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error(ctx, "export", "say what to export: pac or squid");
        return printf(export_help, ctx->prog, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
    }
    if (strcmp(argv[1], "pac") != 0 && strcmp(argv[1], "squid") != 0)
        return cli_usage_error(ctx, "export", "unknown format '%s' (pac or squid)", argv[1]);
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return printf(export_help, ctx->prog, ctx->prog) < 0 ? CLI_ERROR : CLI_OK;
    t = cli_load_table(ctx, notes, sizeof notes);
    if (t == NULL)
        return CLI_ERROR;
    if (notes[0])
        cli_warn(ctx, "%s", notes);
    optind = 0;
    if (strcmp(argv[1], "pac") == 0)
        rc = export_pac(ctx, argc - 1, argv + 1, t);
    else
        rc = export_squid(ctx, argc - 1, argv + 1, t);
    o3b_table_free(&t);
    return rc;
}
