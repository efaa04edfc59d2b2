/* SPDX-License-Identifier: MIT */
/*
 * store.h - the table store: CacheDir's files, and which table serves.
 *
 * The only code that knows CacheDir's file names and formats:
 *   endpoints-<Instance>.json          the table in use (last known good)
 *   endpoints-<Instance>.prev.json     the one it replaced (for `diff`)
 *   endpoints-<Instance>.pending.json  a table held back by a guard
 *   status-<Instance>.json             the last refresh (struct o3b_refresh_status)
 *   client-request-id                  the GUID sent to the web service
 * Table files are the web service's response wrapped with what it lacks:
 *   {"o365bypass": 1, "instance": "Worldwide", "version": "2025111400",
 *    "fetched": 1763100000, "source": "https://...", "endpoints": <body>}
 * with the body embedded byte for byte (the loader reads both forms).
 * Every write is atomic (io.h).  One size limit covers every table file:
 * MaxFeedBytes plus the wrapper's slack (o3b_store_max_table_bytes).
 *
 * THE rule for which table serves (o3b_store_choose), used at start-up, on
 * reload, by every child following a new table, and by the CLI:
 *   1. the CacheDir current file, if present, valid and of the configured
 *      instance;
 *   2. else SeedFile, if valid and of the configured instance;
 *   3. else an empty table (nothing is bypassed).
 * A file's instance is its wrapper's "instance" field; a raw feed has none,
 * so its file name decides when it reads endpoints-<instance>.json (one of
 * the four instances, any case), and otherwise it is taken to be the
 * configured one.  So the bundled Worldwide seed is refused for Instance
 * China wherever it is installed.  A seed's table takes the configured
 * instance as its meta.instance.  With a table already in use (reload, a
 * child following the master) the choice never falls to an empty table, and
 * a current file that exists but is broken never hands over to the seed:
 * the table in use stays, and the notes say why.
 *
 * The store takes its parameters explicitly (struct o3b_store_params), not
 * the configuration.  Pure POSIX I/O and cJSON; no c-icap; not meant for
 * concurrent writers (the c-icap master, or one CLI run, writes).
 */
#ifndef O365BYPASS_STORE_H
#define O365BYPASS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/refresh.h"
#include "o365bypass/table.h"

/* Bytes a cache file may hold beyond MaxFeedBytes: its wrapper. */
#define O3B_STORE_WRAPPER_SLACK 4096

struct o3b_store_params {
    const char *dir;       /* CacheDir, or NULL: no cache */
    const char *instance;  /* the configured Instance, canonical spelling */
    const char *seed_file; /* SeedFile, or NULL: none */
    long max_feed_bytes;   /* MaxFeedBytes */
};

enum o3b_store_file {
    O3B_STORE_CURRENT = 0,
    O3B_STORE_PREVIOUS,
    O3B_STORE_PENDING,
    O3B_STORE_STATUS,
    O3B_STORE_CLIENT_ID,
    O3B_STORE_FILE_COUNT
};

/* The path of one file into buf; NULL when there is no CacheDir (or it
   does not fit). */
const char *o3b_store_path(const struct o3b_store_params *p, enum o3b_store_file f, char *buf,
                           size_t size);

/* The one size limit for table files: MaxFeedBytes + O3B_STORE_WRAPPER_SLACK. */
size_t o3b_store_max_table_bytes(const struct o3b_store_params *p);

/* Load any table file (wrapped or raw) with that limit.  meta.source is
   the path.  Returns a table the caller frees, or NULL with `err` set. */
o3b_table *o3b_store_load_path(const struct o3b_store_params *p, const char *path, o3b_err *err);

/* Load SeedFile as the rule below does: it must load and be of the
   configured instance.  Returns 0 with `*out` (caller frees), -1 with `err`
   when it does not load (or there is none), -2 with `err` when it is
   another instance's table. */
int o3b_store_load_seed(const struct o3b_store_params *p, o3b_table **out, o3b_err *err);

/* Load one of CacheDir's table files.  Returns 0 with `*out` (caller
   frees), 1 when there is no such file (or no CacheDir), -1 with `err` when
   it exists but does not load. */
int o3b_store_load(const struct o3b_store_params *p, enum o3b_store_file f, o3b_table **out,
                   o3b_err *err);

/* ---- CacheDir itself ----------------------------------------------------------- */

enum o3b_store_dir_state {
    O3B_STORE_DIR_NONE = 0,     /* CacheDir none */
    O3B_STORE_DIR_OK,           /* a writable directory */
    O3B_STORE_DIR_MISSING,      /* does not exist (yet) */
    O3B_STORE_DIR_NOT_WRITABLE, /* exists, but this user cannot write it */
    O3B_STORE_DIR_NOT_A_DIR,    /* exists, and is something else */
    O3B_STORE_DIR_ERROR         /* cannot be examined (`err` says why) */
};

/* Look at CacheDir without changing anything. */
enum o3b_store_dir_state o3b_store_dir_check(const struct o3b_store_params *p, o3b_err *err);

/* Create CacheDir (one level, mode 0750) if missing; check it is a
   writable directory.  Returns 0 or -1 (also -1 without CacheDir). */
int o3b_store_dir_prepare(const struct o3b_store_params *p, o3b_err *err);

/* ---- writing tables ------------------------------------------------------------- */

/* Save `body` (the web service's JSON as received) wrapped with `meta` as
   the current file, after copying the current one to the previous one, and
   remove a pending file (a table held back before is not to be accepted
   over a newer one).  Creates CacheDir if missing.  Returns 0 or -1
   (nothing changed then, except perhaps the previous file). */
int o3b_store_save_current(const struct o3b_store_params *p, const char *body, size_t len,
                           const struct o3b_table_meta *meta, o3b_err *err);

/* Save it as the pending file (a table a guard held back; it replaces one
   held back before).  Returns 0 or -1. */
int o3b_store_save_pending(const struct o3b_store_params *p, const char *body, size_t len,
                           const struct o3b_table_meta *meta, o3b_err *err);

/* Accept the pending table: load and validate the pending file again (the
   file is what counts), keep the current one as previous, move pending to
   current.  Returns 0 with `*out` (the accepted table, caller frees), or -1
   with `err` set (no pending file, or it does not load, or cannot move). */
int o3b_store_accept(const struct o3b_store_params *p, o3b_table **out, o3b_err *err);

/* ---- the status file and the ClientRequestId -------------------------------------- */

/* Is `s` a GUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits)? */
bool o3b_guid_valid(const char *s);

/* Write the status file (JSON).  Returns 0 or -1 (also without CacheDir). */
int o3b_store_status_write(const struct o3b_store_params *p, const struct o3b_refresh_status *s,
                           o3b_err *err);

/* Read it back.  Returns 0 with `*s` filled (missing fields are 0 / ""),
   1 when there is none (or no CacheDir; `*s` zeroed), -1 with `err` when
   it exists but cannot be read or parsed. */
int o3b_store_status_read(const struct o3b_store_params *p, struct o3b_refresh_status *s,
                          o3b_err *err);

/* The ClientRequestId kept in CacheDir: read it, or generate a random
   GUID (getrandom) and store it.  Without CacheDir a fresh GUID is
   generated and not stored.  Returns 0, or -1 with `err`; the GUID is still
   generated when only storing it failed (check `out[0]`). */
int o3b_store_client_id(const struct o3b_store_params *p, char out[O3B_CLIENT_ID_SIZE],
                        o3b_err *err);

/* ---- which table serves ----------------------------------------------------------- */

enum o3b_store_source {
    O3B_SOURCE_CACHE = 0, /* CacheDir's current file */
    O3B_SOURCE_SEED,      /* SeedFile */
    O3B_SOURCE_EMPTY,     /* nothing usable: an empty table */
    O3B_SOURCE_KEEP       /* nothing better: keep the table in use (no table returned) */
};

/* "CacheDir", "SeedFile", "empty", "kept". */
const char *o3b_store_source_name(enum o3b_store_source s);

#define O3B_STORE_NOTES_MAX 1024

struct o3b_store_choice {
    o3b_table *table; /* the caller owns it; NULL with O3B_SOURCE_KEEP */
    enum o3b_store_source source;
    char notes[O3B_STORE_NOTES_MAX]; /* each skipped step and why; "" when none */
};

/*
 * Apply the rule above.  `in_use` is the table serving now, or NULL at
 * start-up (and in the CLI).  Never touches the network.  Returns 0, or
 * -1 only when out of memory (no table then).
 */
int o3b_store_choose(const struct o3b_store_params *p, const o3b_table *in_use,
                     struct o3b_store_choice *out);

#endif
