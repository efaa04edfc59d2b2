/*
 * refresher.h - follow Microsoft's web service: check, fetch, validate, keep.
 *
 * One refresh: GET {ServiceURL}/version/{Instance}; only when `latest` is
 * newer than the table in use (or the table in use was fetched with other
 * parameters, or came from the seed), GET {ServiceURL}/endpoints/{Instance}
 * with ServiceAreas / TenantName / NoIPv6 as configured.  The body is loaded
 * and validated (loader.h, with the outright refusals of trust.h), checked
 * by the shrink guard and the grow guard (trust.h), then written to
 * CacheDir (previous kept) - only then is it returned as the new table, so
 * the version in use only advances after a validated, saved table.  A
 * table either guard holds back is kept as the pending file (replaced by
 * the next one held back, removed when a newer table is saved).
 *
 * Timing: a refresh is due every RefreshInterval seconds.  After a failure
 * the next one waits RefreshInterval x 2^(failures-1) (at most x8) plus up
 * to 25% jitter: never more often than the interval allows.  After HTTP 429
 * /endpoints is not called again before Retry-After, or else the top of the
 * next hour, even when forced.
 *
 * Runs in one process (the c-icap master); not thread-safe; blocking (the
 * fetcher's timeouts bound it).  No c-icap here: the glue schedules it.
 */
#ifndef O365BYPASS_REFRESHER_H
#define O365BYPASS_REFRESHER_H

#include <stdbool.h>
#include <time.h>

#include "o365bypass/config.h"
#include "o365bypass/errors.h"
#include "o365bypass/fetcher.h"
#include "o365bypass/table.h"

enum o3b_refresh_outcome {
    O3B_REFRESH_UPDATED = 0,    /* new table validated, saved, returned */
    O3B_REFRESH_NOT_MODIFIED,   /* the version in use is the latest */
    O3B_REFRESH_FAILED,         /* network/HTTP/cache-write failure */
    O3B_REFRESH_INVALID,        /* the feed failed validation */
    O3B_REFRESH_SHRINK,         /* refused by the shrink guard (kept as pending) */
    O3B_REFRESH_THROTTLED,      /* HTTP 429, or still inside its wait */
    O3B_REFRESH_NOT_DUE,        /* not forced and not due yet */
    O3B_REFRESH_ACCEPTED,       /* admin accepted a pending table */
    O3B_REFRESH_GROW,           /* refused by the grow guard (kept as pending) */
    O3B_REFRESH_OUTCOME_COUNT
};

struct o3b_refresher;

/* Short token: "updated", "not-modified", "failed", ... */
const char *o3b_refresh_outcome_name(enum o3b_refresh_outcome o);

/*
 * New refresher for `cfg` (borrowed: must outlive the refresher).  Reads or
 * creates the ClientRequestId (config value, else CacheDir file, else a
 * fresh GUID).  The first refresh is due at `now` + `first_delay` seconds.
 */
struct o3b_refresher *o3b_refresher_new(const struct o3b_config *cfg, time_t now,
                                        long first_delay, o3b_err *err);
void o3b_refresher_free(struct o3b_refresher **r);

/*
 * Run one refresh if due (or `forced`).  `current` is the table in use (may
 * be NULL).  On UPDATED and ACCEPTED `*out` is the new table (caller owns);
 * otherwise NULL.  `err` explains FAILED/INVALID/SHRINK/GROW/THROTTLED.
 * With `current` NULL neither guard runs (`o365bypass fetch --force`).
 */
enum o3b_refresh_outcome o3b_refresher_run(struct o3b_refresher *r, const o3b_table *current,
                                           time_t now, bool forced, o3b_table **out,
                                           o3b_err *err);

/* Accept the table held back by the shrink or the grow guard (the pending
   file, validated again with the refusals): save it as current and return
   it as ACCEPTED; FAILED with `err` when there is none or it cannot be
   saved. */
enum o3b_refresh_outcome o3b_refresher_accept(struct o3b_refresher *r, time_t now,
                                              o3b_table **out, o3b_err *err);

/* Only the version check: GET {ServiceURL}/version/{Instance} with the
   ClientRequestId and put its 10-digit "latest" into `latest`.  Changes no
   state (for the CLI's `fetch -o`).  Returns 0 or -1 with `err` set. */
int o3b_refresher_latest(struct o3b_refresher *r, char latest[32], o3b_err *err);

/*
 * Only the download: GET {ServiceURL}/endpoints/{Instance} with the
 * configured parameters and validate the body as the refresh does, with
 * `latest` as the table's version.  No shrink guard, nothing saved.  Returns
 * UPDATED with `*out` (caller owns) and the raw response in `res` (caller
 * frees with o3b_fetch_result_free, whatever the outcome), or FAILED,
 * THROTTLED (HTTP 429: the 429 wait is recorded) or INVALID with `err` set.
 * For the CLI's `fetch -o`.
 */
enum o3b_refresh_outcome o3b_refresher_download(struct o3b_refresher *r, const char *latest,
                                                time_t now, struct o3b_fetch_result *res,
                                                o3b_table **out, o3b_err *err);

/* When the next refresh is due (unix time; 0 = never). */
time_t o3b_refresher_next_due(const struct o3b_refresher *r);

/* The ClientRequestId in use. */
const char *o3b_refresher_client_id(const struct o3b_refresher *r);

/* The fetch options the configuration asks for (CAFile, CAPath, FetchProxy,
   ConnectTimeout, FetchTimeout, MaxFeedBytes); strings borrowed from cfg. */
struct o3b_fetch_opts o3b_config_fetch_opts(const struct o3b_config *cfg);

/* The URL the endpoints would be fetched from, without ClientRequestId
   (also stored as the table's source).  Returns buf. */
char *o3b_refresher_endpoints_url(const struct o3b_config *cfg, char *buf, size_t size);

/* Load the table to start with, never touching the network: the CacheDir
   file if it is valid, else SeedFile, else an empty table.  Each skipped
   step is described in `notes` (for the log; may be NULL).  Never NULL
   unless out of memory. */
o3b_table *o3b_startup_table(const struct o3b_config *cfg, char *notes, size_t notes_size);

#endif
