/*
 * cachefile.h - the files o365bypass keeps in CacheDir.
 *
 *   endpoints-<Instance>.json          the table in use (last known good)
 *   endpoints-<Instance>.prev.json     the one it replaced (for `diff`)
 *   endpoints-<Instance>.pending.json  a table held back by the shrink guard
 *   client-request-id                  the GUID sent to the web service
 *
 * Table files are the web service's response wrapped with what it lacks:
 *   {"o365bypass": 1, "instance": "Worldwide", "version": "2025111400",
 *    "fetched": 1763100000, "source": "https://...", "endpoints": <body>}
 * with the body embedded byte for byte.  Every write goes to a temporary
 * file in the same directory, is fsync'd, then renamed over the target and
 * the directory fsync'd, so a reader sees the old or the new file, never a
 * mix.  Pure POSIX I/O, no c-icap.
 */
#ifndef O365BYPASS_CACHEFILE_H
#define O365BYPASS_CACHEFILE_H

#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/table.h"

enum o3b_cache_kind { O3B_CACHE_CURRENT, O3B_CACHE_PREVIOUS, O3B_CACHE_PENDING };

/* "<dir>/endpoints-<instance>[.prev|.pending].json" into buf; returns buf. */
char *o3b_cache_path(const char *dir, const char *instance, enum o3b_cache_kind kind, char *buf,
                     size_t size);

/* Write `data` to `path` atomically (temp file, fsync, rename, fsync dir). */
int o3b_write_atomic(const char *path, const void *data, size_t len, o3b_err *err);

/*
 * Write a wrapped table file for `body` (the web service's JSON, as
 * received) with `meta`.  Returns 0 or -1.
 */
int o3b_cache_write_table(const char *path, const char *body, size_t len,
                          const struct o3b_table_meta *meta, o3b_err *err);

/* Rotate: current -> previous (copy, atomically), before a new current. */
int o3b_cache_keep_previous(const char *dir, const char *instance, o3b_err *err);

/*
 * The ClientRequestId: read `<dir>/client-request-id`, or generate a random
 * GUID (getrandom) and store it there.  With dir NULL/"" a fresh GUID is
 * generated and not stored.  `out` holds 37 bytes.  Returns 0 or -1 (the
 * GUID is still generated when only the store failed: check `out[0]`).
 */
int o3b_client_request_id(const char *dir, char out[37], o3b_err *err);

/* Create the directory (one level, mode 0750) if missing; check writable. */
int o3b_cache_dir_prepare(const char *dir, o3b_err *err);

#endif
