/* SPDX-License-Identifier: MIT */
/*
 * glue.h - what the c-icap glue files share (never included by the core).
 *
 * srv_o365bypass.c  the service: module table, OPTIONS, the preview handler
 * glue_table.c      table life: start-up, refresh in the master, children
 *                   following the master, control commands, ISTag, status
 * glue_stats.c      c-icap counters (the schema is the core's counters.h)
 * The glue holds no rule of its own: the decision, the header parsing, the
 * counter schema, the table choice and the shared page are core parts.
 */
#ifndef O3B_GLUE_H
#define O3B_GLUE_H

#include <stdbool.h>

#include "o365bypass/config.h"
#include "o365bypass/counters.h"
#include "o365bypass/policy.h"
#include "o365bypass/refresh.h"
#include "o365bypass/shared.h"
#include "o365bypass/snapshot.h"

#include "c_icap/c-icap.h"
#include "c_icap/debug.h"
#include "c_icap/service.h"

#define O3B_SERVICE_NAME "o365bypass"
#define O3B_LOG_PREFIX "o365bypass: "

/* ci_debug_printf is a bare `if` in 0.5.10: make it one statement. */
#define O3B_LOG(level, ...)                                                                        \
    do {                                                                                           \
        ci_debug_printf((level), O3B_LOG_PREFIX __VA_ARGS__);                                      \
    } while (0)

/* Log levels used throughout (see README "Logs"): what happened (start-up
   table, table changes, accept, reload, failures) at 1, Debian's default. */
#define O3B_LOG_EVENT 1
#define O3B_LOG_ERROR 1
#define O3B_LOG_INFO 3
#define O3B_LOG_DETAIL 5
#define O3B_LOG_TRACE 8

/* ---- module-wide state (srv_o365bypass.c) --------------------------------- */
extern struct o3b_config o3b_g_config;
extern struct o3b_snapshot o3b_g_snapshot;
extern ci_service_xdata_t *o3b_g_xdata;
/* The page the master shares with its children (mapped once, at the first
   post-init, before children fork; NULL if mmap failed). */
extern struct o3b_shared *o3b_g_shared;

/* ---- counters (glue_stats.c) ------------------------------------------------ */

/* Register every counter row with a label (mod_init_service: c-icap
   requires it there). */
void o3b_stats_register(void);
/* Count in this process (children only: the master's increments are lost).
   Lock-free; the count reaches c-icap at the next o3b_stats_flush(). */
void o3b_stats_inc(enum o3b_counter c);
/* Move this process's counts, and the refresh outcomes parked in the
   shared page, into c-icap's counters (children's tick, at child stop, and
   before answering a control command). */
void o3b_stats_flush(void);
/* Count a refresh outcome from the master: parked in the shared page until
   a child's flush takes it. */
void o3b_stats_park_refresh(enum o3b_refresh_outcome o);

/* ---- table life (glue_table.c) ---------------------------------------------- */
/* Master, post-init: start-up table, refresher, commands, schedule. */
int o3b_table_post_init(void);
/* mod_close_service. */
void o3b_table_close(void);
/* The X-O365bypass-Table / -Refresh headers for OPTIONS (any process). */
void o3b_table_describe(char *table_hdr, size_t a, char *refresh_hdr, size_t b);

#endif
