/* SPDX-License-Identifier: MIT */
/*
 * instance.h - the Microsoft 365 instances, as the web service names them.
 *
 * One name table for the Instance directive, the table store (which reads
 * an instance from a file name) and anything that prints one.  Pure code.
 */
#ifndef O365BYPASS_INSTANCE_H
#define O365BYPASS_INSTANCE_H

#include <stddef.h>

enum o3b_instance {
    O3B_INSTANCE_WORLDWIDE = 0, /* also GCC */
    O3B_INSTANCE_USGOVDOD,
    O3B_INSTANCE_USGOVGCCHIGH,
    O3B_INSTANCE_CHINA,
    O3B_INSTANCE_COUNT
};

/* "Worldwide", "USGovDoD", "USGovGCCHigh", "China", then NULL. */
extern const char *const o3b_instance_names[O3B_INSTANCE_COUNT + 1];

/* The canonical spelling, or "?" for a value out of range. */
const char *o3b_instance_name(enum o3b_instance i);

/* Case-insensitive; the first `len` bytes of `s` (not NUL-terminated).
   Returns 0 with `*out` set, or -1 for anything else. */
int o3b_instance_parse(const char *s, size_t len, enum o3b_instance *out);

#endif
