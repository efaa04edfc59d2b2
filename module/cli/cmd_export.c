/* SPDX-License-Identifier: MIT */
/*
 * cmd_export.c - `o365bypass export FORMAT`: the decision for other tools.
 *
 * The format table (built from O3B_EXPORT_FORMATS, export.h) maps each
 * format name to its writer and its options; this file only parses the
 * command line (the format's own options plus -o FILE and, for formats
 * that write files, --dir DIR), builds the verdict model once and gives
 * the writer a sink: each output is built in memory (open_memstream) and
 * then written in one piece, to stdout or atomically to its file
 * (o3b_write_atomic), so a proxy that re-reads the files never sees half of
 * one.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#include "o365bypass/export.h"
#include "o365bypass/io.h"

#define O3B_EXPORT_ROW(name) &o3b_export_format_##name,
static const struct o3b_export_format *const formats[] = {O3B_EXPORT_FORMATS(O3B_EXPORT_ROW)};
#define N_FORMATS (sizeof formats / sizeof formats[0])
#define MAX_OPTIONS 8

static const struct o3b_export_format *format_find(const char *name)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

static int print_help(const struct cli_ctx *ctx)
{
    printf("Usage:");
    for (size_t i = 0; i < N_FORMATS; i++)
        printf("%s %s export %s %s\n", i ? "      " : "", ctx->prog, formats[i]->name,
               formats[i]->usage);
    for (size_t i = 0; i < N_FORMATS; i++)
        printf("\n%s", formats[i]->help);
    return ferror(stdout) ? CLI_ERROR : CLI_OK;
}

/* ---- the sink: one output at a time, in memory, then written ------------------------------ */

struct cli_sink {
    struct o3b_export_sink sink; /* first: the writer sees only this */
    struct cli_ctx *ctx;
    const char *out_path; /* -o FILE, or NULL: stdout */
    char name[256];       /* the open output's file name, "" for the main one */
    char *buf;
    size_t len;
    FILE *mem;
};

static FILE *sink_open(struct o3b_export_sink *s, const char *name)
{
    struct cli_sink *cs = (struct cli_sink *)s;

    if (cs->mem != NULL || (name && strlen(name) >= sizeof cs->name))
        return NULL;
    snprintf(cs->name, sizeof cs->name, "%s", name ? name : "");
    cs->buf = NULL;
    cs->mem = open_memstream(&cs->buf, &cs->len);
    return cs->mem;
}

/* Entries of an ACL list (its lines that are not comments). */
static size_t entries(const char *buf, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if ((i == 0 || buf[i - 1] == '\n') && buf[i] != '#' && buf[i] != '\n')
            n++;
    return n;
}

static int write_file(struct cli_sink *cs, const char *path, o3b_err *err)
{
    if (o3b_write_atomic(path, cs->buf, cs->len, err) != 0)
        return -1;
    /* a proxy or web server reads these under its own user */
    if (chmod(path, 0644) != 0)
        cli_warn(cs->ctx, "export: cannot make %s readable for all", path);
    if (!cs->ctx->quiet && cs->name[0] && strstr(cs->name, ".txt") != NULL)
        fprintf(stderr, "%s: %zu entr%s\n", path, entries(cs->buf, cs->len),
                entries(cs->buf, cs->len) == 1 ? "y" : "ies");
    else if (!cs->ctx->quiet && cs->name[0])
        fprintf(stderr, "%s: written\n", path);
    return 0;
}

static int sink_close(struct o3b_export_sink *s, FILE *f, o3b_err *err)
{
    struct cli_sink *cs = (struct cli_sink *)s;
    char path[PATH_MAX + 300];
    int rc = 0;

    if (f == NULL || f != cs->mem)
        return -1;
    cs->mem = NULL;
    if (fclose(f) != 0 || cs->buf == NULL) {
        o3b_err_set(err, "out of memory");
        rc = -1;
    } else if (cs->name[0]) {
        snprintf(path, sizeof path, "%s/%s", s->dir, cs->name);
        rc = write_file(cs, path, err);
    } else if (cs->out_path != NULL) {
        rc = write_file(cs, cs->out_path, err);
    } else if (fwrite(cs->buf, 1, cs->len, stdout) != cs->len || fflush(stdout) != 0) {
        o3b_err_set(err, "cannot write to standard output");
        rc = -1;
    }
    free(cs->buf);
    cs->buf = NULL;
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

struct export_cmd {
    const struct o3b_export_format *f;
    const char *values[MAX_OPTIONS];
    const char *out_path, *dir;
};

/* The format's options, then -o and (named outputs) --dir; getopt_long's
   index tells which one matched. */
static int parse_options(struct cli_ctx *ctx, struct export_cmd *c, int argc, char **argv)
{
    struct option opts[MAX_OPTIONS + 3];
    size_t n = 0;
    int c_opt, idx;

    for (; n < c->f->n_options && n < MAX_OPTIONS; n++)
        opts[n] = (struct option){c->f->options[n].name, required_argument, NULL, 0};
    opts[n++] = (struct option){"output", required_argument, NULL, 'o'};
    if (c->f->named_outputs)
        opts[n++] = (struct option){"dir", required_argument, NULL, 'd'};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0;
    while ((c_opt = getopt_long(argc, argv, c->f->named_outputs ? "o:d:" : "o:", opts, &idx)) !=
           -1) {
        if (c_opt == 'o')
            c->out_path = optarg;
        else if (c_opt == 'd')
            c->dir = optarg;
        else if (c_opt == 0 && (size_t)idx < c->f->n_options)
            c->values[idx] = optarg;
        else
            return cli_usage_error(ctx, "export", "unknown option or missing argument '%s'",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error(ctx, "export", "unexpected argument '%s'", argv[optind]);
    for (size_t i = 0; i < c->f->n_options && i < MAX_OPTIONS; i++) {
        const struct o3b_export_option *o = &c->f->options[i];
        if (c->values[i] != NULL && o->valid != NULL && !o->valid(c->values[i]))
            return cli_usage_error(ctx, "export", "--%s '%s' is not %s", o->name, c->values[i],
                                   o->metavar);
    }
    return CLI_OK;
}

static int run(struct cli_ctx *ctx, const struct export_cmd *c, const o3b_table *t)
{
    char abs_dir[PATH_MAX];
    struct cli_sink cs = {{sink_open, sink_close, abs_dir}, ctx, c->out_path, "", NULL, 0, NULL};
    struct o3b_export_args args = {NULL, "o365bypass " O3B_VERSION, c->values};
    o3b_export_model *m;
    o3b_err err = {{0}};
    int rc;

    if (realpath(c->dir ? c->dir : ".", abs_dir) == NULL) {
        cli_error(ctx, "export %s: %s: no such directory", c->f->name, c->dir ? c->dir : ".");
        return CLI_ERROR;
    }
    m = o3b_export_model_build(t, &ctx->cfg.policy, &err);
    if (m == NULL) {
        cli_error(ctx, "export %s: %s", c->f->name, err.msg);
        return CLI_ERROR;
    }
    args.model = m;
    rc = c->f->write(&args, &cs.sink, &err) == 0 ? CLI_OK : CLI_ERROR;
    if (rc != CLI_OK)
        cli_error(ctx, "export %s: %s", c->f->name, err.msg[0] ? err.msg : "out of memory");
    if (cs.mem != NULL) { /* a writer that failed between open and close */
        fclose(cs.mem);
        free(cs.buf);
    }
    o3b_export_model_free(&m);
    return rc;
}

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    struct export_cmd c = {0};
    char notes[2048];
    o3b_table *t;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error(ctx, "export", "say what to export: pac or squid");
        return print_help(ctx);
    }
    c.f = format_find(argv[1]);
    if (c.f == NULL)
        return cli_usage_error(ctx, "export", "unknown format '%s' (pac or squid)", argv[1]);
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return print_help(ctx);
    rc = parse_options(ctx, &c, argc - 1, argv + 1);
    if (rc != CLI_OK)
        return rc;
    t = cli_load_table(ctx, notes, sizeof notes);
    if (t == NULL)
        return CLI_ERROR;
    if (notes[0])
        cli_warn(ctx, "%s", notes);
    rc = run(ctx, &c, t);
    o3b_table_free(&t);
    return rc;
}
