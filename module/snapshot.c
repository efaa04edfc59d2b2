/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c - two-slot publication of tables (see snapshot.h).
 *
 * Why this is safe: a reader only dereferences slot[i].table after it has
 * incremented slot[i].readers and then seen active == i.  The writer only
 * frees slot[i].table while active != i and readers == 0; a reader that
 * increments after the writer's check will find active != i on its re-check
 * and back off without reading the pointer, or, if the writer has meanwhile
 * installed a new table there and flipped, read the new one (stored before
 * the flip).  All operations are seq_cst, so these orders are global.
 */
#include "o365bypass/snapshot.h"

#include <time.h>

void o3b_snapshot_init(struct o3b_snapshot *s)
{
    for (int i = 0; i < 2; i++) {
        atomic_init(&s->slot[i].table, NULL);
        atomic_init(&s->slot[i].readers, 0);
    }
    atomic_init(&s->active, 0);
    atomic_init(&s->generation, 0);
}

const o3b_table *o3b_snapshot_acquire(struct o3b_snapshot *s, unsigned *ticket)
{
    for (;;) {
        unsigned i = atomic_load(&s->active);

        atomic_fetch_add(&s->slot[i].readers, 1);
        if (atomic_load(&s->active) == i) {
            *ticket = i;
            return atomic_load(&s->slot[i].table);
        }
        atomic_fetch_sub(&s->slot[i].readers, 1);
    }
}

void o3b_snapshot_release(struct o3b_snapshot *s, unsigned ticket)
{
    atomic_fetch_sub(&s->slot[ticket & 1].readers, 1);
}

void o3b_snapshot_reclaim(struct o3b_snapshot *s)
{
    unsigned idle = 1u - atomic_load(&s->active);

    if (atomic_load(&s->slot[idle].readers) == 0) {
        o3b_table *old = atomic_exchange(&s->slot[idle].table, NULL);
        o3b_table_free(&old);
    }
}

static void sleep_100us(void)
{
    struct timespec ts = {0, 100000};

    nanosleep(&ts, NULL);
}

int o3b_snapshot_publish_or_keep(struct o3b_snapshot *s, o3b_table **t, unsigned max_wait_ms)
{
    unsigned active = atomic_load(&s->active), idle = 1u - active;
    unsigned polls = max_wait_ms * 10u;

    /* the idle slot may still hold the table replaced by the previous
       publish; wait for its readers, then free it */
    while (atomic_load(&s->slot[idle].readers) != 0) {
        if (polls-- == 0)
            return -1; /* *t stays the caller's */
        sleep_100us();
    }
    {
        o3b_table *old = atomic_exchange(&s->slot[idle].table, *t);
        *t = NULL;
        o3b_table_free(&old);
    }
    atomic_store(&s->active, idle);
    atomic_fetch_add(&s->generation, 1);
    o3b_snapshot_reclaim(s); /* frees the replaced table now if unused */
    return 0;
}

int o3b_snapshot_publish(struct o3b_snapshot *s, o3b_table *t, unsigned max_wait_ms)
{
    if (o3b_snapshot_publish_or_keep(s, &t, max_wait_ms) == 0)
        return 0;
    o3b_table_free(&t);
    return -1;
}

void o3b_snapshot_destroy(struct o3b_snapshot *s)
{
    for (int i = 0; i < 2; i++) {
        o3b_table *t = atomic_exchange(&s->slot[i].table, NULL);
        o3b_table_free(&t);
    }
}
