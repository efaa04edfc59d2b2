/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h - publish a new table to the request threads of one process.
 *
 * Readers (request threads) acquire the current table, use it, release it;
 * a writer (the process's main thread, on a reload command) publishes a new
 * table at any time.  Readers never block, never allocate and never see a
 * half-built table; the replaced table is freed only once no reader holds
 * it.
 *
 * How: two slots, each with a reader counter and a table pointer, and an
 * index naming the active slot.  A reader increments the active slot's
 * counter, re-reads the index (if it moved, it backs off and retries), then
 * reads that slot's table.  The writer installs the new table in the
 * inactive slot (after that slot's old table has no readers and was freed),
 * then flips the index.  Sequentially consistent C11 atomics throughout.
 *
 * One writer at a time per snapshot (the caller serializes publishes; in
 * c-icap every publish runs in the process's main thread).
 */
#ifndef O365BYPASS_SNAPSHOT_H
#define O365BYPASS_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "o365bypass/table.h"

struct o3b_snapshot_slot {
    _Atomic(o3b_table *) table;
    atomic_uint readers;
    char pad[64 - sizeof(void *) - sizeof(unsigned)]; /* one cache line each */
};

struct o3b_snapshot {
    struct o3b_snapshot_slot slot[2];
    atomic_uint active;
    atomic_ulong generation; /* bumped by every publish */
};

/* A snapshot with no table (acquire returns NULL). */
void o3b_snapshot_init(struct o3b_snapshot *s);

/*
 * Make `t` (owned by the snapshot from now on; may be NULL) the table new
 * readers get.  The table it replaces is freed as soon as its last reader
 * releases it: immediately when none holds it, otherwise at the next
 * publish or o3b_snapshot_reclaim().  Waits (polling, at most `max_wait_ms`)
 * only if the slot to reuse still has readers from two publishes ago.
 * Returns 0, or -1 if that wait timed out (then `t` is freed, nothing
 * changes, and the caller can retry later).
 */
int o3b_snapshot_publish(struct o3b_snapshot *s, o3b_table *t, unsigned max_wait_ms);

/* The same, except that a publish that timed out leaves `*t` with the
   caller (to retry later); on success `*t` becomes NULL (the snapshot owns
   it).  Returns 0 or -1. */
int o3b_snapshot_publish_or_keep(struct o3b_snapshot *s, o3b_table **t, unsigned max_wait_ms);

/* Free the replaced table if no reader holds it any more. */
void o3b_snapshot_reclaim(struct o3b_snapshot *s);

/* Take the current table (may be NULL).  Pass `*ticket` to release. */
const o3b_table *o3b_snapshot_acquire(struct o3b_snapshot *s, unsigned *ticket);

/* Give back what acquire returned. */
void o3b_snapshot_release(struct o3b_snapshot *s, unsigned ticket);

/* Free both tables.  Only when no reader can still run. */
void o3b_snapshot_destroy(struct o3b_snapshot *s);

#endif
