/* SPDX-License-Identifier: MIT */
/*
 * shared.h - the page the c-icap master shares with its children.
 *
 * One MAP_SHARED | MAP_ANONYMOUS page, mapped before the children fork, so
 * every process sees the same memory.  It carries three things:
 *   - the table generation, bumped by the master each time CacheDir's
 *     current file changes; a process that sees a generation it has not
 *     followed loads the file (store.h);
 *   - refresh outcomes parked by the master (c-icap drops the master's own
 *     counter increments): any process may drain them, and each parked
 *     outcome is handed out exactly once, however many drain at once;
 *   - the refresh status (struct o3b_refresh_status) for OPTIONS, behind a
 *     seqlock: a reader gets one whole status, never a mix of two writes.
 * Every field read concurrently is a C11 atomic (no plain-field race; the
 * status is copied as atomic words inside the seqlock).  Writers of the
 * status are serialized by the seqlock itself.  No allocation after
 * o3b_shared_new(), no lock, no system call: usable from request threads.
 * Pure code (no c-icap).
 */
#ifndef O365BYPASS_SHARED_H
#define O365BYPASS_SHARED_H

#include "o365bypass/errors.h"
#include "o365bypass/refresh.h"

struct o3b_shared;

/* Map a new zeroed page (generation 0, nothing parked, an empty status).
   Returns NULL with `err` set when mmap fails.  Free with o3b_shared_free
   (in one process; the others' mappings go when they exit). */
struct o3b_shared *o3b_shared_new(o3b_err *err);
void o3b_shared_free(struct o3b_shared **s);

/* The current table generation. */
unsigned long o3b_shared_generation(const struct o3b_shared *s);

/* Bump it (the master, after CacheDir's current file changed); returns the
   new generation. */
unsigned long o3b_shared_bump_generation(struct o3b_shared *s);

/* Park one refresh outcome (out-of-range values are ignored). */
void o3b_shared_park(struct o3b_shared *s, enum o3b_refresh_outcome o);

/* Take everything parked so far: taken[o] is how many of outcome `o` this
   call took (each parked outcome is taken by exactly one call).  Returns
   the total taken. */
unsigned long o3b_shared_drain(struct o3b_shared *s,
                               unsigned long taken[O3B_REFRESH_OUTCOME_COUNT]);

/* Publish a new refresh status. */
void o3b_shared_set_status(struct o3b_shared *s, const struct o3b_refresh_status *st);

/* Read the last status published (all zero / "" before the first).  Never
   returns a torn status: it retries while a write is under way, and after
   many retries (a writer stuck mid-write) returns -1 with `*st` zeroed;
   otherwise 0. */
int o3b_shared_get_status(const struct o3b_shared *s, struct o3b_refresh_status *st);

#endif
