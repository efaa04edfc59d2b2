/* SPDX-License-Identifier: MIT */
/*
 * refresher.h - follow Microsoft's web service: version check, download,
 * validation, guards, store.
 *
 * One refresh: GET {ServiceURL}/version/{Instance}; only when `latest` is
 * newer than the table in use (or the table in use was fetched with other
 * parameters, or came from the seed), GET {ServiceURL}/endpoints/{Instance}
 * with ServiceAreas / TenantName / NoIPv6 as configured.  The body is loaded
 * and validated (loader.h, with the outright refusals of trust.h), then
 * passed through the guards in order - the shrink guard, then the grow
 * guard (trust.h) - the first that holds the table back wins: it is saved as
 * CacheDir's pending file (replacing one held back before) and the outcome
 * says which guard.  A table every guard passes is saved as CacheDir's
 * current file (store.h: previous kept, a pending file removed) - only then
 * is it returned as the new table, so the version in use only advances
 * after a validated, saved table.  The refresher keeps no table of its own.
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
#include "o365bypass/refresh.h"
#include "o365bypass/table.h"

/*
 * A guard: may a validated new table replace the one in use?  `in_use` may
 * be NULL (nothing to compare with: a guard passes).  On HOLD `err` says why,
 * in one line an admin can act on.  Guards are pure.
 */
enum o3b_guard_verdict { O3B_GUARD_PASS = 0, O3B_GUARD_HOLD };
typedef enum o3b_guard_verdict (*o3b_guard_fn)(const o3b_table *in_use, const o3b_table *fresh,
                                               const struct o3b_config *cfg, o3b_err *err);

/* The shrink guard: HOLD when `fresh` loses more than MaxShrinkPercent of
   the entries of `in_use`. */
enum o3b_guard_verdict o3b_guard_shrink(const o3b_table *in_use, const o3b_table *fresh,
                                        const struct o3b_config *cfg, o3b_err *err);

/* The grow guard (trust.h): HOLD when what `fresh` bypasses under the
   configured policy grows beyond what `in_use` bypasses. */
enum o3b_guard_verdict o3b_guard_grow(const o3b_table *in_use, const o3b_table *fresh,
                                      const struct o3b_config *cfg, o3b_err *err);

struct o3b_refresher;

/*
 * New refresher for `cfg` (borrowed: must outlive the refresher).  Reads or
 * creates the ClientRequestId (config value, else CacheDir file, else a
 * fresh GUID).  The first refresh is due at `now` + `first_delay` seconds.
 */
struct o3b_refresher *o3b_refresher_new(const struct o3b_config *cfg, time_t now, long first_delay,
                                        o3b_err *err);
void o3b_refresher_free(struct o3b_refresher **r);

/*
 * Run one refresh if due (or `forced`).  `current` is the table in use (may
 * be NULL).  On UPDATED `*out` is the new table (caller owns; already saved
 * in CacheDir); otherwise NULL.  `err` explains FAILED, INVALID, a guard's
 * outcome and THROTTLED.  With `current` NULL no guard runs (`o365bypass
 * fetch --force`), and the refusals of trust.h are strict.
 */
enum o3b_refresh_outcome o3b_refresher_run(struct o3b_refresher *r, const o3b_table *current,
                                           time_t now, bool forced, o3b_table **out, o3b_err *err);

/* Only the version check: GET {ServiceURL}/version/{Instance} with the
   ClientRequestId and put its 10-digit "latest" into `latest`.  Changes no
   state (for the CLI's `fetch -o`).  Returns 0 or -1 with `err` set. */
int o3b_refresher_latest(struct o3b_refresher *r, char latest[32], o3b_err *err);

/*
 * Only the download: GET {ServiceURL}/endpoints/{Instance} with the
 * configured parameters and validate the body as the refresh does, with
 * `latest` as the table's version.  No guard, nothing saved.  Returns
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
   ConnectTimeout, FetchTimeout, MaxFeedBytes): every field set; strings
   borrowed from cfg. */
struct o3b_fetch_opts o3b_config_fetch_opts(const struct o3b_config *cfg);

/* The URL the endpoints would be fetched from, without ClientRequestId
   (also stored as the table's source).  Returns buf. */
char *o3b_refresher_endpoints_url(const struct o3b_config *cfg, char *buf, size_t size);

#endif
