/* SPDX-License-Identifier: MIT */
/*
 * glue_stats.c - c-icap counters, registered from the core's counter rows.
 *
 * c-icap 0.5.10 sums each counter over its children's shared memory and
 * silently drops increments made in the master.  Per-request counters are
 * therefore counted where requests are served; refresh outcomes, which
 * happen in the master, are parked in the shared page (shared.h) and moved
 * into the counters by whichever child drains them first, exactly once.
 *
 * Per-request counts do not go to c-icap directly: c-icap 0.5.10 guards all
 * its statistics with one process-wide mutex, and three or four increments
 * per request made the request threads contend on it (futex calls, 5-14x
 * srv_echo's, in a profile of `make bench`'s header-only runs).  They
 * go to relaxed atomics of this process, one cache line each, and the
 * child's one-second tick moves them into c-icap's counters
 * (o3b_stats_flush), together with the parked refresh outcomes.  Which
 * counters exist, their labels and which ones a request counts all come
 * from counters.h: nothing here names a counter.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "glue.h"

#include "c_icap/stats.h"

#define LABEL_MAX 48

/* c-icap wants `char *` (it keeps the pointers): mutable copies of the
   rows' labels, never changed after registration. */
static char labels[O3B_C_COUNT][LABEL_MAX];
static char group[] = O3B_SERVICE_NAME;
static int ids[O3B_C_COUNT];

/* Counts not yet handed to c-icap, one cache line per counter. */
static struct {
    atomic_ulong n;
    char pad[64 - sizeof(atomic_ulong)];
} pending[O3B_C_COUNT];

void o3b_stats_register(void)
{
    for (int i = 0; i < O3B_C_COUNT; i++) {
        const struct o3b_counter_row *r = o3b_counter_row((enum o3b_counter)i);

        ids[i] = -1;
        if (r == NULL || r->label == NULL)
            continue; /* a value that counts nothing on its own */
        snprintf(labels[i], sizeof labels[i], "%s", r->label);
        ids[i] = ci_stat_entry_register(labels[i], STAT_INT64_T, group);
    }
}

void o3b_stats_inc(enum o3b_counter c)
{
    if ((unsigned)c < O3B_C_COUNT)
        atomic_fetch_add_explicit(&pending[c].n, 1, memory_order_relaxed);
}

static void add_to_cicap(int i, unsigned long n)
{
    while (n > 0 && ids[i] >= 0) {
        int chunk = n > 0x40000000ul ? 0x40000000 : (int)n;
        ci_stat_uint64_inc(ids[i], chunk);
        n -= (unsigned long)chunk;
    }
}

/* The refresh outcomes the master parked, into this process's counts. */
static void take_parked(void)
{
    unsigned long taken[O3B_REFRESH_OUTCOME_COUNT];

    if (o3b_g_shared == NULL || o3b_shared_drain(o3b_g_shared, taken) == 0)
        return;
    for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++) {
        enum o3b_counter c = o3b_counter_of_outcome((enum o3b_refresh_outcome)o);
        if (taken[o] > 0 && c < O3B_C_COUNT)
            atomic_fetch_add_explicit(&pending[c].n, taken[o], memory_order_relaxed);
    }
}

void o3b_stats_flush(void)
{
    take_parked();
    for (int i = 0; i < O3B_C_COUNT; i++) {
        if (atomic_load_explicit(&pending[i].n, memory_order_relaxed) == 0)
            continue;
        add_to_cicap(i, atomic_exchange_explicit(&pending[i].n, 0, memory_order_relaxed));
    }
}

void o3b_stats_park_refresh(enum o3b_refresh_outcome o)
{
    if (o3b_g_shared != NULL)
        o3b_shared_park(o3b_g_shared, o);
}
