/*
 * glue_table.c - the table's life inside c-icap: one fetcher, every process
 * updated.
 *
 * The master (post-init) loads the start-up table (cache, else seed, else
 * empty), so every child forked later inherits it, and schedules two
 * self-rescheduling commands.  c-icap 0.5.10 runs a scheduled command only
 * in the processes that execute its type: CI_CMD_MONITOR_ONDEMAND in the
 * master, CI_CMD_ONDEMAND in the children (scheduled items are copied into
 * children at fork; an item of the other type just stays queued):
 *   master tick  runs the refresher when due (network, validation, shrink
 *                and grow guards, atomic write to CacheDir) and bumps the table
 *                generation in the shared page;
 *   child tick   notices a new generation within a second and loads the
 *                file, publishing it to its request threads through the
 *                snapshot (no request waits, the old table is freed when
 *                unused).
 * Control commands (o365bypass_refresh / _reload / _accept) run in the
 * master first, then in each child's main thread.  Reconfigure wipes
 * commands and schedules; post-init runs again and re-creates them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "glue.h"

#include "c_icap/commands.h"

#include "o365bypass/cachefile.h"
#include "o365bypass/fetcher.h"
#include "o365bypass/loader.h"
#include "o365bypass/tablediff.h"
#include "o365bypass/trust.h"

#define TICK_NAME "o365bypass_tick"               /* children */
#define MASTER_TICK_NAME "o365bypass_master_tick" /* master */
#define CMD_REFRESH "o365bypass_refresh"
#define CMD_RELOAD "o365bypass_reload"
#define CMD_ACCEPT "o365bypass_accept"
#define MASTER_TICK_S 5
#define CHILD_TICK_S 1
#define FIRST_REFRESH_DELAY_S 10
#define PUBLISH_WAIT_MS 2000

static pid_t master_pid;
static struct o3b_refresher *refresher;
static unsigned long seen_generation; /* per process (copied at fork) */

/* ---- helpers ------------------------------------------------------------------- */

static const char *version_of(const o3b_table *t)
{
    const struct o3b_table_meta *m = o3b_table_meta(t);

    return m->version[0] ? m->version : "(no version: seed)";
}

static void set_istag(const o3b_table *t)
{
    char tag[40];

    if (o3b_g_xdata == NULL || t == NULL)
        return;
    o3b_table_tag(t, tag, sizeof tag);
    ci_service_set_istag(o3b_g_xdata, tag);
}

/* Publish in this process; takes ownership of `t`. */
static void publish(o3b_table *t, const char *why)
{
    struct o3b_table_counts c;
    char tag[40];

    o3b_table_get_counts(t, &c);
    o3b_table_tag(t, tag, sizeof tag);
    set_istag(t);
    if (o3b_snapshot_publish(&o3b_g_snapshot, t, PUBLISH_WAIT_MS) != 0) {
        O3B_LOG(O3B_LOG_ERROR, "table %s not published: old readers still busy; will retry\n",
                tag);
        return;
    }
    O3B_LOG(O3B_LOG_INFO, "%s: table %s in use in pid %ld (%zu sets, %zu entries)\n", why, tag,
            (long)getpid(), c.sets, c.entries);
}

static void log_diff_line(void *ud, const char *line)
{
    (void)ud;
    O3B_LOG(O3B_LOG_DETAIL, "  %s\n", line);
}

static void log_change(const o3b_table *before, const o3b_table *after)
{
    struct o3b_diff_counts dc;
    char summary[256];

    o3b_table_diff(before, after, &dc, log_diff_line, NULL);
    O3B_LOG(O3B_LOG_TABLE, "endpoint table %s -> %s: %s\n",
            before ? version_of(before) : "(none)", version_of(after),
            o3b_diff_summary(&dc, summary, sizeof summary));
}

static void write_status_file(const char *result, long long attempt, long long next_due)
{
    const struct o3b_config *c = &o3b_g_config;
    char path[4096], body[1024], esc[400];
    size_t k = 0;
    o3b_err err;

    if (c->cache_dir == NULL || c->cache_dir[0] == '\0')
        return;
    for (const char *p = result; *p && k + 2 < sizeof esc; p++) {
        if (*p == '"' || *p == '\\')
            esc[k++] = '\\';
        esc[k++] = (*p >= 0x20) ? *p : ' ';
    }
    esc[k] = '\0';
    snprintf(path, sizeof path, "%s/status-%s.json", c->cache_dir, c->instance);
    snprintf(body, sizeof body,
             "{\"last_attempt\": %lld, \"next_due\": %lld, \"result\": \"%s\", "
             "\"client_request_id\": \"%s\"}\n",
             attempt, next_due, esc, refresher ? o3b_refresher_client_id(refresher) : "");
    if (o3b_write_atomic(path, body, strlen(body), &err) != 0)
        O3B_LOG(O3B_LOG_DETAIL, "status file not written: %s\n", err.msg);
}

/* ---- loading from disk (reload command, children following the master) -------- */

/*
 * Reload from disk: the CacheDir file if there is one (refusing to replace a
 * good table with a broken file), else SeedFile.  Never falls back to an
 * empty table: the one in use stays.
 */
static void reload_from_disk(const char *why)
{
    const struct o3b_config *cfg = &o3b_g_config;
    struct o3b_load_opts lo = {0};
    char path[4096];
    o3b_table *t = NULL;
    o3b_err err = {{0}};

    lo.max_bytes = (size_t)cfg->max_feed_bytes + 4096;
    if (cfg->cache_dir[0] != '\0') {
        o3b_cache_path(cfg->cache_dir, cfg->instance, O3B_CACHE_CURRENT, path, sizeof path);
        if (access(path, F_OK) == 0)
            t = o3b_load_file(path, &lo, &err);
        else
            path[0] = '\0';
    } else {
        path[0] = '\0';
    }
    if (t == NULL && path[0] == '\0')
        t = o3b_load_file(cfg->seed_file, &lo, &err);
    if (t == NULL) {
        o3b_stats_inc(O3B_C_TABLE_LOAD_FAILURES);
        O3B_LOG(O3B_LOG_ERROR, "%s: table not reloaded, the one in use stays: %s\n", why,
                err.msg);
        return;
    }
    o3b_stats_inc(O3B_C_TABLE_LOADS);
    publish(t, why);
}

static void child_follow_master(void)
{
    struct o3b_shared_status *s = o3b_shared();
    unsigned long g;

    o3b_stats_drain_parked();
    if (s != NULL) {
        g = atomic_load(&s->table_generation);
        if (g != seen_generation) {
            seen_generation = g;
            reload_from_disk("new table from the master");
        }
    }
    o3b_stats_flush();
}

/* ---- the master's refresh ---------------------------------------------------------- */

static void bump_generation(void)
{
    struct o3b_shared_status *s = o3b_shared();

    if (s != NULL)
        seen_generation = atomic_fetch_add(&s->table_generation, 1) + 1;
}

static void master_refresh(bool forced)
{
    unsigned ticket;
    const o3b_table *cur;
    o3b_table *fresh = NULL;
    enum o3b_refresh_outcome rc;
    time_t now = time(NULL);
    char result[200];
    o3b_err err = {{0}};

    if (refresher == NULL) {
        if (forced)
            O3B_LOG(O3B_LOG_ERROR, "refresh requested, but RefreshInterval is 0 (offline)\n");
        return;
    }
    cur = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    rc = o3b_refresher_run(refresher, cur, now, forced, &fresh, &err);
    if (rc == O3B_REFRESH_NOT_DUE) {
        o3b_snapshot_release(&o3b_g_snapshot, ticket);
        return;
    }
    if (fresh != NULL)
        log_change(cur, fresh);
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    switch (rc) {
    case O3B_REFRESH_UPDATED:
        snprintf(result, sizeof result, "updated to %s", version_of(fresh));
        publish(fresh, "refresh");
        bump_generation();
        break;
    case O3B_REFRESH_NOT_MODIFIED:
        snprintf(result, sizeof result, "not modified");
        O3B_LOG(O3B_LOG_INFO, "refresh: the table in use is the latest version\n");
        break;
    default:
        snprintf(result, sizeof result, "%s: %.180s", o3b_refresh_outcome_name(rc), err.msg);
        O3B_LOG(O3B_LOG_ERROR, "refresh %s; the table in use stays: %s\n",
                o3b_refresh_outcome_name(rc), err.msg);
        break;
    }
    o3b_stats_park_refresh(rc);
    {
        long long attempt, success, next;
        char ignored[8];
        o3b_shared_get_status(&attempt, &success, &next, ignored, sizeof ignored);
        if (rc == O3B_REFRESH_UPDATED || rc == O3B_REFRESH_NOT_MODIFIED)
            success = (long long)now;
        o3b_shared_set_status((long long)now, success,
                              (long long)o3b_refresher_next_due(refresher), result);
    }
    write_status_file(result, (long long)now, (long long)o3b_refresher_next_due(refresher));
}

static void master_accept(void)
{
    o3b_table *fresh = NULL;
    const o3b_table *cur;
    unsigned ticket;
    o3b_err err = {{0}};
    enum o3b_refresh_outcome rc;

    if (refresher == NULL) {
        struct o3b_refresher *tmp = o3b_refresher_new(&o3b_g_config, time(NULL), 0, &err);
        if (tmp == NULL) {
            O3B_LOG(O3B_LOG_ERROR, "accept: %s\n", err.msg);
            return;
        }
        rc = o3b_refresher_accept(tmp, time(NULL), &fresh, &err);
        o3b_refresher_free(&tmp);
    } else {
        rc = o3b_refresher_accept(refresher, time(NULL), &fresh, &err);
    }
    if (rc != O3B_REFRESH_ACCEPTED) {
        O3B_LOG(O3B_LOG_ERROR, "accept: %s\n", err.msg);
        return;
    }
    cur = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    log_change(cur, fresh);
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    O3B_LOG(O3B_LOG_TABLE, "accept: the table held back by the shrink or grow guard is now in "
                           "use\n");
    publish(fresh, "accept");
    bump_generation();
    o3b_stats_park_refresh(O3B_REFRESH_ACCEPTED);
}

/* ---- commands ------------------------------------------------------------------- */

static bool is_master(void)
{
    return getpid() == master_pid;
}

/* CI_CMD_MONITOR_ONDEMAND: only the master runs it. */
static void master_tick(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    if (is_master())
        master_refresh(false);
    ci_command_schedule(MASTER_TICK_NAME, NULL, MASTER_TICK_S);
}

/* CI_CMD_ONDEMAND: only children run it. */
static void child_tick(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    if (!is_master())
        child_follow_master();
    ci_command_schedule(TICK_NAME, NULL, CHILD_TICK_S);
}

static void child_start(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    child_follow_master();
    {
        unsigned ticket;
        const o3b_table *t = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
        set_istag(t);
        o3b_snapshot_release(&o3b_g_snapshot, ticket);
    }
}

static void cmd_refresh(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master())
        master_refresh(true);
    else
        child_follow_master();
}

static void cmd_reload(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master()) {
        reload_from_disk("reload command");
        bump_generation();
    } else {
        struct o3b_shared_status *s = o3b_shared();
        if (s != NULL) {
            unsigned long g = atomic_load(&s->table_generation);
            /* the master bumped the generation before passing the command
               on: if this child's tick already followed it, the file is
               loaded (and counted) once already */
            if (g == seen_generation) {
                o3b_stats_flush();
                return;
            }
            seen_generation = g;
        }
        reload_from_disk("reload command");
        o3b_stats_flush();
    }
}

/* A child going away hands over what it counted since its last tick. */
static void child_stop(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    o3b_stats_flush();
}

static void cmd_accept(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master())
        master_accept();
    else
        child_follow_master();
}

/* ---- post-init / close ------------------------------------------------------------- */

int o3b_table_post_init(void)
{
    char notes[2048];
    struct o3b_table_counts c;
    o3b_table *t;
    o3b_err err;

    master_pid = getpid();
    o3b_fetch_global_init();
    if (o3b_shared() != NULL)
        seen_generation = atomic_load(&o3b_shared()->table_generation);
    t = o3b_startup_table(&o3b_g_config, notes, sizeof notes);
    if (t == NULL) {
        O3B_LOG(O3B_LOG_ERROR, "out of memory loading the endpoint table\n");
        return -1;
    }
    o3b_table_get_counts(t, &c);
    if (notes[0] != '\0')
        O3B_LOG(c.sets ? O3B_LOG_TABLE : O3B_LOG_ERROR, "start-up: %s\n", notes);
    O3B_LOG(O3B_LOG_TABLE, "start-up table from %s, version %s: %zu sets, %zu entries\n",
            o3b_table_meta(t)->source, version_of(t), c.sets, c.entries);
    O3B_LOG(O3B_LOG_TABLE, "public suffix list for the feed checks: %s\n", o3b_psl_source());
    publish(t, "start-up");
    o3b_refresher_free(&refresher);
    if (o3b_g_config.refresh_interval > 0) {
        refresher = o3b_refresher_new(&o3b_g_config, time(NULL), FIRST_REFRESH_DELAY_S, &err);
        if (refresher == NULL)
            O3B_LOG(O3B_LOG_ERROR, "refresh disabled: %s\n", err.msg);
        else
            O3B_LOG(O3B_LOG_INFO, "refresh every %ld s from %s (ClientRequestId %s)\n",
                    o3b_g_config.refresh_interval, o3b_g_config.service_url,
                    o3b_refresher_client_id(refresher));
    } else {
        O3B_LOG(O3B_LOG_INFO, "RefreshInterval 0: the table is never fetched\n");
    }
    ci_command_register_ctl_cmd(CMD_REFRESH, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC,
                                cmd_refresh);
    ci_command_register_ctl_cmd(CMD_RELOAD, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC, cmd_reload);
    ci_command_register_ctl_cmd(CMD_ACCEPT, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC, cmd_accept);
    ci_command_register_action("o365bypass_child_start", CI_CMD_CHILD_START, NULL, child_start);
    ci_command_register_action("o365bypass_child_stop", CI_CMD_CHILD_STOP, NULL, child_stop);
    ci_command_register_action(TICK_NAME, CI_CMD_ONDEMAND, NULL, child_tick);
    ci_command_register_action(MASTER_TICK_NAME, CI_CMD_MONITOR_ONDEMAND, NULL, master_tick);
    ci_command_schedule(TICK_NAME, NULL, CHILD_TICK_S);
    ci_command_schedule(MASTER_TICK_NAME, NULL, MASTER_TICK_S);
    return 0;
}

void o3b_table_close(void)
{
    o3b_refresher_free(&refresher);
}

void o3b_table_describe(char *table_hdr, size_t a, char *refresh_hdr, size_t b)
{
    unsigned ticket;
    const o3b_table *t = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    long long attempt, success, next;
    char result[200], tag[40];

    if (t != NULL) {
        const struct o3b_table_meta *m = o3b_table_meta(t);
        struct o3b_table_counts c;
        o3b_table_get_counts(t, &c);
        snprintf(table_hdr, a,
                 "X-O365bypass-Table: version=%s; tag=%s; instance=%s; sets=%zu; entries=%zu; "
                 "fetched=%lld; pid=%ld",
                 m->version[0] ? m->version : c.sets ? "seed" : "empty",
                 o3b_table_tag(t, tag, sizeof tag),
                 m->instance[0] ? m->instance : "-", c.sets, c.entries, m->fetched,
                 (long)getpid());
    } else {
        snprintf(table_hdr, a, "X-O365bypass-Table: none");
    }
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    o3b_shared_get_status(&attempt, &success, &next, result, sizeof result);
    for (char *p = result; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == ';')
            *p = ' ';
    snprintf(refresh_hdr, b,
             "X-O365bypass-Refresh: interval=%ld; last-attempt=%lld; last-success=%lld; "
             "next=%lld; result=%s",
             o3b_g_config.refresh_interval, attempt, success, next, result[0] ? result : "-");
}
