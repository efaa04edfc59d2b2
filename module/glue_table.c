/* SPDX-License-Identifier: MIT */
/*
 * glue_table.c - the table's life inside c-icap: one fetcher, every process
 * updated.
 *
 * The master (post-init) takes the start-up table from the store
 * (o3b_store_choose: CacheDir, else SeedFile, else empty), so every child
 * forked later inherits it, and schedules two self-rescheduling commands.
 * c-icap 0.5.10 runs a scheduled command only in the processes that execute
 * its type: CI_CMD_MONITOR_ONDEMAND in the master, CI_CMD_ONDEMAND in the
 * children (scheduled items are copied into children at fork; an item of
 * the other type just stays queued):
 *   master tick  runs the refresher when due (network, validation, shrink
 *                and grow guards, atomic write to CacheDir) and bumps the table generation in
 *                the shared page;
 *   child tick   follows the master (follow_master): a new generation within
 *                a second loads the store's choice and publishes it to the
 *                request threads through the snapshot (no request waits, the
 *                old table is freed when unused).
 * Control commands (o365bypass_refresh / _reload / _accept) run in the
 * master first, then in each child's main thread; in a child every one of
 * them is the same follow_master().  A publish that times out (readers of a
 * table two publishes old still busy) keeps the new table aside and retries
 * at the next tick; the ISTag and the "in use" line only follow a publish
 * that worked.  Reconfigure wipes commands and schedules; post-init runs
 * again and re-creates them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "glue.h"

#include "c_icap/commands.h"

#include "o365bypass/fetcher.h"
#include "o365bypass/refresher.h"
#include "o365bypass/store.h"
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
#define WHY_MAX 64

static pid_t master_pid;
static struct o3b_refresher *refresher;
static unsigned long seen_generation;    /* per process (copied at fork) */
static struct o3b_refresh_status status; /* the master's, published after each refresh */
static o3b_table *aside;                 /* a table whose publish timed out */
static char aside_why[WHY_MAX];

/* ---- helpers ------------------------------------------------------------------- */

static bool is_master(void)
{
    return getpid() == master_pid;
}

static struct o3b_store_params store_params(void)
{
    return o3b_config_store_params(&o3b_g_config);
}

static const char *version_of(const o3b_table *t)
{
    const struct o3b_table_meta *m = o3b_table_meta(t);

    if (m->version[0])
        return m->version;
    return o3b_table_set_count(t) > 0 ? "(no version: seed)" : "(empty)";
}

static void set_istag(const char *tag)
{
    if (o3b_g_xdata != NULL)
        ci_service_set_istag(o3b_g_xdata, tag);
}

/*
 * Publish in this process; takes ownership of `t`.  Only a publish that
 * worked sets the ISTag and says "in use"; one that timed out keeps `t`
 * aside for retry_aside() at the next tick (a newer table replaces it).
 */
static int publish(o3b_table *t, const char *why)
{
    struct o3b_table_counts c;
    char tag[40];

    o3b_table_get_counts(t, &c);
    o3b_table_tag(t, tag, sizeof tag);
    if (o3b_snapshot_publish_or_keep(&o3b_g_snapshot, &t, PUBLISH_WAIT_MS) != 0) {
        O3B_LOG(O3B_LOG_ERROR,
                "%s: table %s not published: old readers still busy; "
                "retrying at the next tick\n",
                why, tag);
        o3b_table_free(&aside);
        aside = t;
        snprintf(aside_why, sizeof aside_why, "%s (retried)", why);
        return -1;
    }
    o3b_table_free(&aside); /* anything older waiting is superseded */
    set_istag(tag);
    O3B_LOG(O3B_LOG_INFO, "%s: table %s in use in pid %ld (%zu sets, %zu entries)\n", why, tag,
            (long)getpid(), c.sets, c.entries);
    return 0;
}

static void retry_aside(void)
{
    o3b_table *t = aside;
    char why[WHY_MAX];

    if (t == NULL)
        return;
    aside = NULL;
    snprintf(why, sizeof why, "%s", aside_why);
    (void)publish(t, why);
}

static void log_diff_line(void *ud, const char *line)
{
    (void)ud;
    O3B_LOG(O3B_LOG_DETAIL, "  %s\n", line);
}

/* "WHY: endpoint table OLD -> NEW: summary" (the master's view of a change). */
static void log_change(const char *why, const o3b_table *before, const o3b_table *after)
{
    struct o3b_diff_counts dc;
    char summary[256];

    o3b_table_diff(before, after, &dc, log_diff_line, NULL);
    O3B_LOG(O3B_LOG_EVENT, "%s: endpoint table %s -> %s: %s\n", why,
            before ? version_of(before) : "(none)", version_of(after),
            o3b_diff_summary(&dc, summary, sizeof summary));
}

/* Log what is about to replace the table in use (the master only: children
   follow the same change, and say so at O3B_LOG_INFO when they publish). */
static void log_change_in_use(const char *why, const o3b_table *after)
{
    unsigned ticket;
    const o3b_table *cur;

    if (!is_master())
        return;
    cur = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    log_change(why, cur, after);
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
}

/* ---- from the store (reload command, children following the master) -------------- */

/* The store's choice against the table in use; publish it, or say why not. */
static void load_from_store(const char *why)
{
    struct o3b_store_params p = store_params();
    struct o3b_store_choice choice;
    unsigned ticket;
    const o3b_table *cur = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    int rc = o3b_store_choose(&p, cur, &choice);

    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    if (rc != 0 || choice.table == NULL) {
        o3b_stats_inc(O3B_C_TABLE_LOAD_FAILURES);
        O3B_LOG(O3B_LOG_ERROR, "%s: table not reloaded, the one in use stays: %s\n", why,
                rc != 0 ? "out of memory" : choice.notes);
        return;
    }
    o3b_stats_inc(O3B_C_TABLE_LOADS);
    if (choice.notes[0] != '\0')
        O3B_LOG(O3B_LOG_EVENT, "%s: %s\n", why, choice.notes);
    log_change_in_use(why, choice.table);
    (void)publish(choice.table, why);
}

/*
 * THE generation follow, for the child tick, the control commands in a
 * child and child start: take the parked counts, retry a table kept aside,
 * and load the store's choice when the master announced a new generation
 * this process has not followed yet (a command after the tick already
 * followed it loads nothing twice).
 */
static void follow_master(const char *why)
{
    unsigned long g;

    retry_aside();
    if (o3b_g_shared != NULL) {
        g = o3b_shared_generation(o3b_g_shared);
        if (g != seen_generation) {
            seen_generation = g;
            load_from_store(why);
        }
    }
    o3b_stats_flush();
}

/* ---- the master's refresh ---------------------------------------------------------- */

static void bump_generation(void)
{
    if (o3b_g_shared != NULL)
        seen_generation = o3b_shared_bump_generation(o3b_g_shared);
}

/* After every refresh attempt: the shared page (OPTIONS) and the status file. */
static void record_status(enum o3b_refresh_outcome rc, time_t now, const char *result)
{
    struct o3b_store_params p = store_params();
    o3b_err err;

    status.last_attempt = (long long)now;
    if (rc == O3B_REFRESH_UPDATED || rc == O3B_REFRESH_NOT_MODIFIED)
        status.last_success = (long long)now;
    status.next_due = (long long)o3b_refresher_next_due(refresher);
    snprintf(status.result, sizeof status.result, "%s", result);
    snprintf(status.client_request_id, sizeof status.client_request_id, "%s",
             o3b_refresher_client_id(refresher));
    if (o3b_g_shared != NULL)
        o3b_shared_set_status(o3b_g_shared, &status);
    if (p.dir != NULL && o3b_store_status_write(&p, &status, &err) != 0)
        O3B_LOG(O3B_LOG_DETAIL, "status file not written: %s\n", err.msg);
}

static void master_refresh(bool forced)
{
    unsigned ticket;
    const o3b_table *cur;
    o3b_table *fresh = NULL;
    enum o3b_refresh_outcome rc;
    time_t now = time(NULL);
    char result[O3B_REFRESH_RESULT_MAX];
    o3b_err err = {{0}};

    if (refresher == NULL) {
        if (forced)
            O3B_LOG(O3B_LOG_ERROR, "refresh requested, but RefreshInterval is 0 (offline)\n");
        return;
    }
    cur = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    rc = o3b_refresher_run(refresher, cur, now, forced, &fresh, &err);
    if (fresh != NULL)
        log_change("refresh", cur, fresh);
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    if (rc == O3B_REFRESH_NOT_DUE)
        return;
    if (rc == O3B_REFRESH_UPDATED) {
        snprintf(result, sizeof result, "updated to %s", version_of(fresh));
        (void)publish(fresh, "refresh");
        bump_generation();
    } else if (rc == O3B_REFRESH_NOT_MODIFIED) {
        snprintf(result, sizeof result, "not modified");
        O3B_LOG(O3B_LOG_INFO, "refresh: the table in use is the latest version\n");
    } else {
        snprintf(result, sizeof result, "%s: %.180s", o3b_refresh_outcome_name(rc), err.msg);
        O3B_LOG(O3B_LOG_ERROR, "refresh %s; the table in use stays: %s\n",
                o3b_refresh_outcome_name(rc), err.msg);
    }
    o3b_stats_park_refresh(rc);
    record_status(rc, now, result);
}

static void master_accept(void)
{
    struct o3b_store_params p = store_params();
    o3b_table *fresh = NULL;
    o3b_err err = {{0}};

    if (o3b_store_accept(&p, &fresh, &err) != 0) {
        O3B_LOG(O3B_LOG_ERROR, "accept: %s\n", err.msg);
        return;
    }
    log_change_in_use("accept", fresh);
    O3B_LOG(O3B_LOG_EVENT, "accept: the table held back by the shrink or grow guard is now in "
                           "use\n");
    (void)publish(fresh, "accept");
    bump_generation();
    o3b_stats_park_refresh(O3B_REFRESH_ACCEPTED);
}

/* ---- commands ------------------------------------------------------------------- */

/* CI_CMD_MONITOR_ONDEMAND: only the master runs it. */
static void master_tick(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    if (is_master()) {
        retry_aside();
        master_refresh(false);
    }
    ci_command_schedule(MASTER_TICK_NAME, NULL, MASTER_TICK_S);
}

/* CI_CMD_ONDEMAND: only children run it. */
static void child_tick(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    if (!is_master())
        follow_master("new table from the master");
    ci_command_schedule(TICK_NAME, NULL, CHILD_TICK_S);
}

static void child_start(const char *name, int type, void *data)
{
    unsigned ticket;
    const o3b_table *t;
    char tag[40];

    (void)name;
    (void)type;
    (void)data;
    follow_master("new table from the master");
    /* the table inherited at fork was published by the master */
    t = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    if (t != NULL)
        set_istag(o3b_table_tag(t, tag, sizeof tag));
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
}

static void cmd_refresh(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master())
        master_refresh(true);
    else
        follow_master("new table from the master");
}

static void cmd_reload(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master()) {
        /* the master bumps the generation before passing the command on */
        load_from_store("reload command");
        bump_generation();
    } else {
        follow_master("reload command");
    }
}

static void cmd_accept(const char *name, int type, const char **argv)
{
    (void)name;
    (void)argv;
    if (type == CI_CMD_MONITOR_PROC && is_master())
        master_accept();
    else
        follow_master("new table from the master");
}

/* A child going away hands over what it counted since its last tick. */
static void child_stop(const char *name, int type, void *data)
{
    (void)name;
    (void)type;
    (void)data;
    o3b_stats_flush();
}

/* ---- post-init / close ------------------------------------------------------------- */

static int startup_table(void)
{
    struct o3b_store_params p = store_params();
    struct o3b_store_choice choice;
    struct o3b_table_counts c;
    const o3b_table *t;

    if (o3b_store_choose(&p, NULL, &choice) != 0) {
        O3B_LOG(O3B_LOG_ERROR, "out of memory loading the endpoint table\n");
        return -1;
    }
    t = choice.table;
    o3b_table_get_counts(t, &c);
    if (choice.notes[0] != '\0')
        O3B_LOG(O3B_LOG_EVENT, "start-up: %s\n", choice.notes);
    O3B_LOG(O3B_LOG_EVENT, "start-up table from %s, version %s: %zu sets, %zu entries (%s)\n",
            o3b_table_meta(t)->source, version_of(t), c.sets, c.entries,
            o3b_store_source_name(choice.source));
    O3B_LOG(O3B_LOG_EVENT, "public suffix list for the feed checks: %s\n", o3b_psl_source());
    (void)publish(choice.table, "start-up");
    return 0;
}

static void start_refresher(void)
{
    o3b_err err;

    o3b_refresher_free(&refresher);
    if (o3b_g_config.refresh_interval == 0) {
        O3B_LOG(O3B_LOG_INFO, "RefreshInterval 0: the table is never fetched\n");
        return;
    }
    refresher = o3b_refresher_new(&o3b_g_config, time(NULL), FIRST_REFRESH_DELAY_S, &err);
    if (refresher == NULL)
        O3B_LOG(O3B_LOG_ERROR, "refresh disabled: %s\n", err.msg);
    else
        O3B_LOG(O3B_LOG_INFO, "refresh every %ld s from %s (ClientRequestId %s)\n",
                o3b_g_config.refresh_interval, o3b_g_config.service_url,
                o3b_refresher_client_id(refresher));
}

static void register_commands(void)
{
    ci_command_register_ctl_cmd(CMD_REFRESH, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC, cmd_refresh);
    ci_command_register_ctl_cmd(CMD_RELOAD, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC, cmd_reload);
    ci_command_register_ctl_cmd(CMD_ACCEPT, CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC, cmd_accept);
    ci_command_register_action("o365bypass_child_start", CI_CMD_CHILD_START, NULL, child_start);
    ci_command_register_action("o365bypass_child_stop", CI_CMD_CHILD_STOP, NULL, child_stop);
    ci_command_register_action(TICK_NAME, CI_CMD_ONDEMAND, NULL, child_tick);
    ci_command_register_action(MASTER_TICK_NAME, CI_CMD_MONITOR_ONDEMAND, NULL, master_tick);
    ci_command_schedule(TICK_NAME, NULL, CHILD_TICK_S);
    ci_command_schedule(MASTER_TICK_NAME, NULL, MASTER_TICK_S);
}

int o3b_table_post_init(void)
{
    o3b_err err;

    master_pid = getpid();
    o3b_table_free(&aside); /* a reconfigure starts afresh */
    o3b_fetch_global_init();
    if (o3b_g_shared == NULL && (o3b_g_shared = o3b_shared_new(&err)) == NULL)
        O3B_LOG(O3B_LOG_ERROR, "%s: children will not follow new tables\n", err.msg);
    if (o3b_g_shared != NULL)
        seen_generation = o3b_shared_generation(o3b_g_shared);
    if (startup_table() != 0)
        return -1;
    start_refresher();
    register_commands();
    return 0;
}

void o3b_table_close(void)
{
    o3b_refresher_free(&refresher);
    o3b_table_free(&aside);
}

void o3b_table_describe(char *table_hdr, size_t a, char *refresh_hdr, size_t b)
{
    unsigned ticket;
    const o3b_table *t = o3b_snapshot_acquire(&o3b_g_snapshot, &ticket);
    struct o3b_refresh_status st = {0};
    char tag[40];

    if (t != NULL) {
        const struct o3b_table_meta *m = o3b_table_meta(t);
        struct o3b_table_counts c;
        o3b_table_get_counts(t, &c);
        snprintf(table_hdr, a,
                 "X-O365bypass-Table: version=%s; tag=%s; instance=%s; sets=%zu; entries=%zu; "
                 "fetched=%lld; pid=%ld; module=%s",
                 m->version[0] ? m->version
                 : c.sets      ? "seed"
                               : "empty",
                 o3b_table_tag(t, tag, sizeof tag), m->instance[0] ? m->instance : "-", c.sets,
                 c.entries, m->fetched, (long)getpid(), O3B_VERSION);
    } else {
        snprintf(table_hdr, a, "X-O365bypass-Table: none; module=%s", O3B_VERSION);
    }
    o3b_snapshot_release(&o3b_g_snapshot, ticket);
    if (o3b_g_shared != NULL)
        (void)o3b_shared_get_status(o3b_g_shared, &st);
    for (char *p = st.result; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == ';')
            *p = ' ';
    snprintf(refresh_hdr, b,
             "X-O365bypass-Refresh: interval=%ld; last-attempt=%lld; last-success=%lld; "
             "next=%lld; result=%s",
             o3b_g_config.refresh_interval, st.last_attempt, st.last_success, st.next_due,
             st.result[0] ? st.result : "-");
}
