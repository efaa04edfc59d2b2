/* SPDX-License-Identifier: MIT */
/*
 * errors.c - the core's error messages (see errors.h).
 */
#include "o365bypass/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void o3b_err_set(o3b_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

void o3b_err_prefix(o3b_err *err, const char *fmt, ...)
{
    char head[O3B_ERR_MAX];
    char tail[O3B_ERR_MAX];
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(tail, err->msg, sizeof tail);
    tail[sizeof tail - 1] = '\0';
    /* head + ": " + tail, truncated to the buffer (truncation is fine here) */
    {
        size_t hl = strlen(head), tl = strlen(tail), cap = sizeof err->msg - 1;

        if (hl > cap)
            hl = cap;
        memcpy(err->msg, head, hl);
        for (const char *sep = ": "; *sep && hl < cap; sep++)
            err->msg[hl++] = *sep;
        if (tl > cap - hl)
            tl = cap - hl;
        memcpy(err->msg + hl, tail, tl);
        err->msg[hl + tl] = '\0';
    }
}

void o3b_err_clear(o3b_err *err)
{
    if (err != NULL)
        err->msg[0] = '\0';
}
