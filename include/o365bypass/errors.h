/* SPDX-License-Identifier: MIT */
/*
 * errors.h - the one error type of the o365bypass core.
 *
 * Every core function that can fail returns 0 on success and -1 on failure
 * (or NULL for constructors) and, when given a non-NULL `o3b_err *`, leaves a
 * human-readable message there that says what was wrong and where.  The
 * message is complete on its own: callers print it as is, optionally after
 * adding context with o3b_err_prefix().  The struct lives on the caller's
 * stack; nothing is allocated.
 */
#ifndef O365BYPASS_ERRORS_H
#define O365BYPASS_ERRORS_H

#include <stddef.h>

#define O3B_ERR_MAX 512

typedef struct o3b_err {
    char msg[O3B_ERR_MAX];
} o3b_err;

#if defined(__GNUC__)
#define O3B_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define O3B_PRINTF(a, b)
#endif

/* Replace the message.  `err` may be NULL (then nothing happens). */
void o3b_err_set(o3b_err *err, const char *fmt, ...) O3B_PRINTF(2, 3);

/* Prepend "context: " to the current message.  `err` may be NULL. */
void o3b_err_prefix(o3b_err *err, const char *fmt, ...) O3B_PRINTF(2, 3);

/* Clear the message (msg[0] = '\0').  `err` may be NULL. */
void o3b_err_clear(o3b_err *err);

#endif
