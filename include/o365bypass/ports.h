/* SPDX-License-Identifier: MIT */
/*
 * ports.h - TCP port lists as Microsoft writes them in tcpPorts/udpPorts.
 *
 * "80,443", "443,80", "143, 587, 993, 995", "" (no port) and ranges "a-b".
 * Items are separated by ',' with optional spaces or tabs around each item;
 * an empty item, a port outside 1..65535, a range with a > b, or any other
 * character is an error.  Nothing here allocates.
 */
#ifndef O365BYPASS_PORTS_H
#define O365BYPASS_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/errors.h"

#define O3B_PORT_RANGES_MAX 64

struct o3b_port_range {
    uint16_t lo, hi; /* inclusive, 1 <= lo <= hi */
};

/*
 * Parse `s[0..len)` into at most `max` ranges (in the order written).  The
 * empty or all-blank string gives zero ranges.  Returns 0 or -1 with `err`
 * set (naming the offending item).
 */
int o3b_ports_parse(const char *s, size_t len, struct o3b_port_range *out, size_t max,
                    size_t *n_out, o3b_err *err);

/* Is `port` inside one of the ranges? */
bool o3b_ports_contain(const struct o3b_port_range *r, size_t n, uint16_t port);

/* "80,443" style text (ranges as "a-b") into buf; returns buf. */
char *o3b_ports_format(const struct o3b_port_range *r, size_t n, char *buf, size_t size);

#endif
