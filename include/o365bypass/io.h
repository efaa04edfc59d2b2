/* SPDX-License-Identifier: MIT */
/*
 * io.h - whole-file reads and atomic whole-file writes, below the loader
 * and the store.
 *
 * A read is bounded: a file over the caller's limit is refused before
 * anything is allocated for it.  A write never leaves a half-written file
 * where a reader could see it: the data goes to "<path>.tmp.<pid>" in the
 * same directory, is fsync'd, renamed over `path`, and the directory is
 * fsync'd, so a reader sees the old file or the new one.  Pure POSIX I/O,
 * no c-icap; thread-safe (the temporary name is per process, so two threads
 * of one process must not write the same path at once).
 */
#ifndef O365BYPASS_IO_H
#define O365BYPASS_IO_H

#include <stddef.h>

#include "o365bypass/errors.h"

/* Read a whole regular file into a new NUL-terminated buffer (caller frees),
   at most `max_bytes`.  Returns NULL with `err` set ("PATH: ..."). */
char *o3b_read_file(const char *path, size_t max_bytes, size_t *len, o3b_err *err);

/* One piece of a file written by o3b_write_atomic_pieces(). */
struct o3b_piece {
    const void *data;
    size_t len;
};

/* Write `data` to `path` atomically (mode 0640).  Returns 0 or -1; on
   failure `path` is untouched and no temporary file is left. */
int o3b_write_atomic(const char *path, const void *data, size_t len, o3b_err *err);

/* The same for the concatenation of `n` pieces (a header, a body...). */
int o3b_write_atomic_pieces(const char *path, const struct o3b_piece *pieces, size_t n,
                            o3b_err *err);

#endif
