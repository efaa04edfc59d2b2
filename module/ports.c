/* SPDX-License-Identifier: MIT */
/*
 * ports.c - tcpPorts/udpPorts lists (see ports.h).
 */
#include "o365bypass/ports.h"

#include <stdio.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parse a decimal port at s[*i..end); 1..65535, at most 5 digits. */
static int parse_port(const char *s, size_t *i, size_t end, uint16_t *out)
{
    unsigned long v = 0;
    size_t start = *i;

    while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
        if (*i - start >= 5)
            return -1;
        v = v * 10 + (unsigned long)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int o3b_ports_parse(const char *s, size_t len, struct o3b_port_range *out, size_t max,
                    size_t *n_out, o3b_err *err)
{
    size_t i = 0, n = 0;

    *n_out = 0;
    while (i < len && is_blank(s[i]))
        i++;
    if (i == len)
        return 0; /* "" or all blank: no port */
    i = 0;
    for (;;) {
        size_t item = i;
        struct o3b_port_range r;

        while (i < len && is_blank(s[i]))
            i++;
        if (parse_port(s, &i, len, &r.lo) != 0)
            goto bad;
        r.hi = r.lo;
        while (i < len && is_blank(s[i]))
            i++;
        if (i < len && s[i] == '-') {
            i++;
            while (i < len && is_blank(s[i]))
                i++;
            if (parse_port(s, &i, len, &r.hi) != 0 || r.hi < r.lo)
                goto bad;
            while (i < len && is_blank(s[i]))
                i++;
        }
        if (i < len && s[i] != ',')
            goto bad;
        if (n == max) {
            o3b_err_set(err, "more than %zu port items in '%.*s'", max,
                        (int)(len > 200 ? 200 : len), s);
            return -1;
        }
        out[n++] = r;
        if (i == len)
            break;
        i++; /* ',' */
        continue;
    bad : {
        size_t end = item;
        while (end < len && s[end] != ',')
            end++;
        o3b_err_set(err, "bad port item '%.*s' in '%.*s' (ports are 1..65535, ranges a-b)",
                    (int)(end - item > 60 ? 60 : end - item), s + item,
                    (int)(len > 200 ? 200 : len), s);
    }
        return -1;
    }
    *n_out = n;
    return 0;
}

bool o3b_ports_contain(const struct o3b_port_range *r, size_t n, uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        if (port >= r[i].lo && port <= r[i].hi)
            return true;
    return false;
}

char *o3b_ports_format(const struct o3b_port_range *r, size_t n, char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = r[i].lo == r[i].hi
                    ? snprintf(buf + used, size - used, "%s%u", i ? "," : "", r[i].lo)
                    : snprintf(buf + used, size - used, "%s%u-%u", i ? "," : "", r[i].lo, r[i].hi);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}
