/* SPDX-License-Identifier: MIT */
/*
 * refresh.h - what a refresh reports: its outcome and the status kept
 * after it.
 *
 * The refresher (refresher.h) produces these; the counters (counters.h)
 * count the outcomes, the shared page (shared.h) carries them and the
 * status from the c-icap master to its children, and the store (store.h)
 * keeps the status in CacheDir for `o365bypass show`.  They live in the
 * core so all of those can see them without the fetch layer.  Pure code.
 */
#ifndef O365BYPASS_REFRESH_H
#define O365BYPASS_REFRESH_H

enum o3b_refresh_outcome {
    O3B_REFRESH_UPDATED = 0,  /* new table validated, saved, returned */
    O3B_REFRESH_NOT_MODIFIED, /* the version in use is the latest */
    O3B_REFRESH_FAILED,       /* network/HTTP/cache-write failure */
    O3B_REFRESH_INVALID,      /* the feed failed validation */
    O3B_REFRESH_SHRINK,       /* held back by the shrink guard (kept as pending) */
    O3B_REFRESH_THROTTLED,    /* HTTP 429, or still inside its wait */
    O3B_REFRESH_NOT_DUE,      /* not forced and not due yet: nothing happened */
    O3B_REFRESH_ACCEPTED,     /* admin accepted a pending table */
    O3B_REFRESH_GROW,         /* held back by the grow guard (kept as pending) */
    O3B_REFRESH_OUTCOME_COUNT
};

/* Short token: "updated", "not-modified", "failed", "invalid",
   "shrink-guard", "throttled", "not-due", "accepted", "grow-guard"; "?" out of
   range. */
const char *o3b_refresh_outcome_name(enum o3b_refresh_outcome o);

#define O3B_REFRESH_RESULT_MAX 200
#define O3B_CLIENT_ID_SIZE 37 /* a GUID and its NUL */

/* The last refresh as the master saw it.  Times are unix seconds, 0 = none
   (never attempted, never succeeded, never due). */
struct o3b_refresh_status {
    long long last_attempt;
    long long last_success; /* last attempt that reached the service */
    long long next_due;
    char result[O3B_REFRESH_RESULT_MAX];        /* "updated to 2025111400", "failed: ..." */
    char client_request_id[O3B_CLIENT_ID_SIZE]; /* "" when unknown */
};

#endif
