/*
 * glue.h - what the c-icap glue files share (never included by the core).
 *
 * srv_o365bypass.c  the service: module table, OPTIONS, the preview handler
 * glue_table.c      table life: startup, refresh in the master, reload in
 *                   the children, control commands, ISTag, status
 * glue_stats.c      c-icap counters and the master->children shared page
 */
#ifndef O3B_GLUE_H
#define O3B_GLUE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "o365bypass/config.h"
#include "o365bypass/policy.h"
#include "o365bypass/refresher.h"
#include "o365bypass/snapshot.h"

#include "c_icap/c-icap.h"
#include "c_icap/debug.h"
#include "c_icap/service.h"

#define O3B_SERVICE_NAME "o365bypass"
#define O3B_LOG_PREFIX "o365bypass: "

/* ci_debug_printf is a bare `if` in 0.5.10: make it one statement. */
#define O3B_LOG(level, ...)                          \
    do {                                             \
        ci_debug_printf((level), O3B_LOG_PREFIX __VA_ARGS__); \
    } while (0)

/* Log levels used throughout (see README "Logs"). */
#define O3B_LOG_ERROR 1
#define O3B_LOG_TABLE 2
#define O3B_LOG_INFO 3
#define O3B_LOG_DETAIL 5
#define O3B_LOG_TRACE 8

/* ---- module-wide state (srv_o365bypass.c) --------------------------------- */
extern struct o3b_config o3b_g_config;
extern struct o3b_snapshot o3b_g_snapshot;
extern ci_service_xdata_t *o3b_g_xdata;

/* ---- counters (glue_stats.c) ------------------------------------------------ */
enum o3b_counter {
    O3B_C_REQMOD, O3B_C_RESPMOD, O3B_C_CONNECT,
    O3B_C_BYPASSED, O3B_C_INSPECTED,
    O3B_C_BYPASS_OPTIMIZE, O3B_C_BYPASS_ALLOW, O3B_C_BYPASS_DEFAULT,
    O3B_C_BYPASS_EXCHANGE, O3B_C_BYPASS_SHAREPOINT, O3B_C_BYPASS_SKYPE,
    O3B_C_BYPASS_COMMON, O3B_C_BYPASS_MEM, O3B_C_BYPASS_OTHER_AREA,
    O3B_C_ALSO_HITS, O3B_C_NEVER_HITS,
    O3B_C_INSPECT_NOT_LISTED, O3B_C_INSPECT_PORT, O3B_C_INSPECT_CATEGORY,
    O3B_C_INSPECT_AREA, O3B_C_INSPECT_OPTIONAL, O3B_C_INSPECT_TENANT,
    O3B_C_INSPECT_DECRYPTED, O3B_C_INSPECT_SNI_MISMATCH,
    O3B_C_REFUSED_MALFORMED, O3B_C_REFUSED_MISMATCH,
    O3B_C_TABLE_LOADS, O3B_C_TABLE_LOAD_FAILURES,
    O3B_C_REFRESH_UPDATED, O3B_C_REFRESH_NOT_MODIFIED, O3B_C_REFRESH_FAILED,
    O3B_C_REFRESH_INVALID, O3B_C_REFRESH_SHRINK, O3B_C_REFRESH_THROTTLED,
    O3B_C_REFRESH_ACCEPTED,
    O3B_C_COUNT
};

/* Register every counter (mod_init_service: c-icap requires it there). */
void o3b_stats_register(void);
/* Count in this process (children only: the master's increments are lost).
   Lock-free; the count reaches c-icap at the next o3b_stats_flush(). */
void o3b_stats_inc(enum o3b_counter c);
/* Move this process's counts into c-icap's counters (children's tick, at
   child stop, and before answering a control command). */
void o3b_stats_flush(void);
/* Count a refresh outcome from the master: parked in the shared page until
   a child moves it into c-icap's counters. */
void o3b_stats_park_refresh(enum o3b_refresh_outcome o);
/* In a child: move parked refresh outcomes into the counters. */
void o3b_stats_drain_parked(void);

/* ---- the page the master shares with its children (glue_stats.c) -------- */
struct o3b_shared_status {
    atomic_ulong table_generation; /* bumped by the master when the file changes */
    atomic_uint seq;               /* seqlock over the fields below */
    long long last_attempt, last_success, next_due;
    char last_result[200];
};

/* Map the page (master, post-init, before children fork).  Idempotent. */
struct o3b_shared_status *o3b_shared(void);
void o3b_shared_set_status(long long attempt, long long success, long long next_due,
                           const char *result);
void o3b_shared_get_status(long long *attempt, long long *success, long long *next_due,
                           char *result, size_t size);

/* ---- table life (glue_table.c) ---------------------------------------------- */
/* Master, post-init: start-up table, refresher, commands, schedule. */
int o3b_table_post_init(void);
/* mod_close_service. */
void o3b_table_close(void);
/* The ISTag/status headers for OPTIONS (any process). */
void o3b_table_describe(char *table_hdr, size_t a, char *refresh_hdr, size_t b);

#endif
