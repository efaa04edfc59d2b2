/* SPDX-License-Identifier: MIT */
/*
 * loader.h - the web service's JSON (or our cache file) into a table.
 *
 * Accepts the body of /endpoints/{instance}: a JSON array of endpoint sets
 * with `id`, `serviceArea`, `category`, `required` (required), `urls`, `ips`,
 * `tcpPorts`, `udpPorts`, `notes`, `expressRoute`,
 * `serviceAreaDisplayName` (optional: omitted, or null, means absent).
 * Unknown fields are ignored; LF or CRLF, with or without a final newline.
 * Also accepts the cache wrapper the table store writes (store.h):
 *   {"o365bypass": 1, "instance": "...", "version": "...", "fetched": N,
 *    "source": "...", "endpoints": [ ...the array above... ]}
 * Any error rejects the whole input, with a message that says where
 * ("line 12, column 5: ..." for syntax, "set #3 (id 9): urls[2]: ..." for
 * content); nothing half-loaded is ever returned.  Every table built is
 * also put through the outright refusals of trust.h (public-suffix
 * patterns, a '*' inside the registrable domain, too-short prefixes): a
 * table holding one is refused like a schema error.  No I/O except in
 * o3b_load_file().  Thread-safe.
 */
#ifndef O365BYPASS_LOADER_H
#define O365BYPASS_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/errors.h"
#include "o365bypass/table.h"

#define O3B_LOAD_MAX_BYTES_DEFAULT (16u * 1024u * 1024u)

struct o3b_load_opts {
    size_t max_bytes;                  /* 0 = O3B_LOAD_MAX_BYTES_DEFAULT */
    bool allow_empty;                  /* accept "[]" (default: refuse) */
    const struct o3b_table_meta *meta; /* defaults for what the input lacks; may be NULL */
    const o3b_table *in_use;           /* the table in use, or NULL (strict): a prefix shorter
                                          than trust.h's bounds passes only if it holds exactly it */
};

/* Parse `len` bytes (need not be NUL-terminated).  Returns a table the
   caller owns, or NULL with `err` set. */
o3b_table *o3b_load_json(const char *buf, size_t len, const struct o3b_load_opts *opts,
                         o3b_err *err);

/* Read a file and parse it.  meta.source defaults to `path`. */
o3b_table *o3b_load_file(const char *path, const struct o3b_load_opts *opts, o3b_err *err);

#endif
