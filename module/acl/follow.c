/* SPDX-License-Identifier: MIT */
/*
 * follow.c - the helper's configuration and table: the service's own, live.
 *
 * The configuration is read with the module's reader (same directives,
 * same checks, Include followed as c-icap does); the table is chosen by the
 * one table-choice rule (choose_table below).  The c-icap master's refresh
 * replaces CacheDir's current file atomically (rename), so the helper
 * stats that path at most once a second (device, inode, size, mtime,
 * ctime): a new identity means a new file to load.  A new file is used
 * only when it loads and validates as the file itself; if it is corrupt,
 * gone or unreadable the table in use stays.  One line goes to stderr
 * (Squid's cache.log) per table change or failure.  Nothing here ever
 * touches the network.
 *
 * The configuration is the CLI's (module/cli/defaults.c: without -c, c-icap's
 * c-icap.conf, else the include file) and the choice is the store's
 * (o3b_store_choose), so helper, tool and service cannot disagree.
 * A configuration with bad lines, or a CacheDir file the helper's user
 * cannot read, leaves the helper without a table: it then answers ERR
 * (inspect) to everything rather than exit, because Squid treats a helper
 * that keeps dying as fatal and would stop serving altogether.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "cli.h"

#include "o365bypass/store.h"

#define CHECK_INTERVAL_S 1

/* The one table-choice rule (store.h): CacheDir's current file, else
   SeedFile, else empty; with a table in use, a broken current file keeps
   it (source "kept").  Returns 0, or -1 when out of memory. */
static int choose_table(const struct acl_follow *f, struct o3b_store_choice *c)
{
    return o3b_store_choose(&f->params, f->table, c);
}

static void report_bad_line(void *ud, const char *file, unsigned line, const char *message)
{
    (void)ud;
    if (line > 0)
        acl_log("%s:%u: %s", file, line, message);
    else
        acl_log("%s: %s", file, message);
}

/* Read the configuration as the CLI does (cli_read_config: c-icap's Include
   rule); say when it loads no o365bypass service (then c-icap does not use
   these settings, and the helper may not decide as the service does). */
static bool read_config(struct acl_follow *f, const char *path)
{
    struct o3b_config_scan scan;
    o3b_err err;
    int bad = 0;

    if (path != NULL)
        bad = cli_read_config(&f->cfg, path, &scan, report_bad_line);
    if (bad != 0) {
        acl_log("%s: %s: every lookup is answered ERR (inspected) until Squid restarts "
                "the helper with a good configuration",
                path, bad < 0 ? "cannot be read" : "has bad lines (c-icap would not start)");
        return false;
    }
    if (path != NULL && scan.services == 0)
        acl_log("warning: %s loads no o365bypass service (no `Service o365bypass` line, also "
                "not in its Includes): c-icap does not use these settings",
                path);
    if (o3b_config_finish(&f->cfg, &err) != 0) {
        acl_log("%s: %s: every lookup is answered ERR (inspected)",
                path ? path : "built-in defaults", err.msg);
        return false;
    }
    return true;
}

static void file_id(const char *path, struct acl_file_id *id)
{
    struct stat st;

    memset(id, 0, sizeof *id);
    if (path[0] == '\0')
        return;
    if (stat(path, &st) != 0) {
        /* a directory the helper may not search hides the file: that is
           not "no file", which would silently mean the seed */
        id->error = errno;
        id->exists = errno != ENOENT && errno != ENOTDIR;
        return;
    }
    id->exists = true;
    id->dev = (unsigned long long)st.st_dev;
    id->ino = (unsigned long long)st.st_ino;
    id->size = (unsigned long long)st.st_size;
    id->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    id->ctime_ns = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
}

static bool same_id(const struct acl_file_id *a, const struct acl_file_id *b)
{
    return a->exists == b->exists && a->error == b->error && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Take `t` as the table in use (owned from now on) and log it. */
static void install(struct acl_follow *f, o3b_table *t, const char *why)
{
    struct o3b_table_counts c;
    char tag[40];

    o3b_table_tag(t, tag, sizeof tag);
    o3b_table_get_counts(t, &c);
    acl_log("%s: table %s%s%s in use (%zu sets, %zu entries, from %s)", why, f->table ? f->tag : "",
            f->table ? " -> " : "", tag, c.sets, c.entries, o3b_table_meta(t)->source);
    o3b_table_free(&f->table);
    f->table = t;
    memcpy(f->tag, tag, sizeof f->tag);
    f->unavailable = NULL;
}

/* The service can read CacheDir's file; a helper running as another user
   may not: then it cannot serve the service's table, and says so. */
static bool cache_file_unreadable(const struct acl_follow *f)
{
    int saved = f->seen.error;

    if (!f->seen.exists || (saved == 0 && access(f->cache_path, R_OK) == 0))
        return false;
    if (saved == 0)
        saved = errno;
    acl_log("cannot read %s (%s): %s; make CacheDir readable by Squid's helper user", f->cache_path,
            strerror(saved),
            f->table ? "the table in use stays" : "every lookup is answered ERR (inspected)");
    return true;
}

void acl_follow_start(struct acl_follow *f, const char *config_path)
{
    struct o3b_store_choice c;

    memset(f, 0, sizeof *f);
    o3b_config_init(&f->cfg);
    f->unavailable = "config";
    if (config_path == NULL)
        config_path = cli_default_config();
    f->config_ok = read_config(f, config_path);
    if (!f->config_ok)
        return;
    f->params = o3b_config_store_params(&f->cfg);
    if (o3b_store_path(&f->params, O3B_STORE_CURRENT, f->cache_path, sizeof f->cache_path) == NULL)
        f->cache_path[0] = '\0';
    file_id(f->cache_path, &f->seen);
    f->unavailable = "cache-unreadable";
    if (cache_file_unreadable(f))
        return;
    if (choose_table(f, &c) != 0 || c.table == NULL) {
        f->unavailable = "no-table";
        acl_log("out of memory loading the table: every lookup is answered ERR (inspected)");
        return;
    }
    if (c.notes[0] != '\0')
        acl_log("start-up: %s", c.notes);
    install(f, c.table, config_path ? config_path : "built-in defaults");
}

void acl_follow_tick(struct acl_follow *f, time_t now)
{
    struct o3b_store_choice c;
    struct acl_file_id id;

    if (now < f->next_check || !f->config_ok || f->cache_path[0] == '\0')
        return;
    f->next_check = now + CHECK_INTERVAL_S;
    file_id(f->cache_path, &id);
    if (same_id(&id, &f->seen))
        return;
    f->seen = id;
    if (!id.exists) {
        if (f->table != NULL)
            acl_log("%s is gone: the table in use (%s) stays", f->cache_path, f->tag);
        return;
    }
    if (cache_file_unreadable(f) || choose_table(f, &c) != 0)
        return;
    if (c.source == O3B_SOURCE_KEEP || (f->table != NULL && c.source != O3B_SOURCE_CACHE)) {
        acl_log("new %s refused: %s%s%s", f->cache_path, c.notes,
                f->table ? "; the table in use stays: " : "", f->table ? f->tag : "");
        o3b_table_free(&c.table);
    } else if (f->table == NULL || o3b_table_hash(c.table) != o3b_table_hash(f->table) ||
               strcmp(o3b_table_meta(c.table)->version, o3b_table_meta(f->table)->version) != 0) {
        install(f, c.table, "new CacheDir file");
    } else {
        o3b_table_free(&c.table); /* the same table, rewritten */
    }
}

void acl_follow_state(const struct acl_follow *f, struct acl_state *s)
{
    s->table = f->table;
    s->policy = &f->cfg.policy;
    s->table_tag = f->table ? f->tag : NULL;
    s->unavailable = f->table ? NULL : f->unavailable;
    s->brief = f->brief;
}

void acl_follow_stop(struct acl_follow *f)
{
    o3b_table_free(&f->table);
    o3b_config_release(&f->cfg);
}
