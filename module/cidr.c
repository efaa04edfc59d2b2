/* SPDX-License-Identifier: MIT */
/*
 * cidr.c - strict address and prefix parsing (see cidr.h).
 *
 * IPv4 is parsed by hand because inet_pton(AF_INET) is looser in places we
 * care about on some libcs; IPv6 goes through inet_pton(AF_INET6) after we
 * have refused zone ids and anything outside [0-9A-Fa-f:.].
 */
#include "o365bypass/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int o3b_ipv4_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part > 0) {
            if (i >= len || s[i] != '.')
                return -1;
            start = ++i;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - start >= 3)
                return -1;
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return -1;
        out[part] = (uint8_t)v;
    }
    return i == len ? 0 : -1;
}

int o3b_ipv6_parse(const char *s, size_t len, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (len == 0 || len >= sizeof buf)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.'))
            return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

bool o3b_ipv6_embeds_ipv4(const uint8_t a[16])
{
    static const uint8_t zero10[10] = {0};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    if (memcmp(a, zero10, 10) == 0 &&
        ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0 && (a[12] | a[13]) != 0)))
        return true; /* ::ffff:a.b.c.d mapped, ::a.b.c.d compatible (not :: or ::1) */
    return memcmp(a, nat64, 12) == 0;
}

void o3b_addr_mask(uint8_t family, const uint8_t *addr, unsigned prefix, uint8_t out[16])
{
    unsigned bytes = family == O3B_AF_INET ? 4 : 16;

    memset(out, 0, 16);
    for (unsigned i = 0; i < bytes; i++) {
        if (prefix >= 8) {
            out[i] = addr[i];
            prefix -= 8;
        } else {
            out[i] = (uint8_t)(addr[i] & (uint8_t)(0xff00u >> prefix));
            prefix = 0;
        }
    }
}

/* The parse behind both entry points; prefixes shorter than min4 / min6
   are refused. */
static int cidr_parse(const char *s, size_t len, struct o3b_cidr *out, bool *had_host_bits,
                      unsigned min4, unsigned min6, o3b_err *err)
{
    const char *slash = memchr(s, '/', len);
    uint8_t addr[16] = {0};
    unsigned prefix = 0, max, min;
    size_t plen;
    int shown = (int)(len > 80 ? 80 : len);

    if (had_host_bits)
        *had_host_bits = false;
    if (slash == NULL) {
        o3b_err_set(err, "'%.*s' is not a CIDR prefix (no '/length')", shown, s);
        return -1;
    }
    plen = len - (size_t)(slash + 1 - s);
    if (plen == 0 || plen > 3 || (slash[1] == '0' && plen > 1)) {
        o3b_err_set(err, "'%.*s': bad prefix length", shown, s);
        return -1;
    }
    for (size_t i = 0; i < plen; i++) {
        if (slash[1 + i] < '0' || slash[1 + i] > '9') {
            o3b_err_set(err, "'%.*s': bad prefix length", shown, s);
            return -1;
        }
        prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
    }
    if (o3b_ipv4_parse(s, (size_t)(slash - s), addr) == 0) {
        out->family = O3B_AF_INET;
        max = 32;
        min = min4;
    } else if (o3b_ipv6_parse(s, (size_t)(slash - s), addr) == 0) {
        out->family = O3B_AF_INET6;
        max = 128;
        min = min6;
    } else {
        o3b_err_set(err, "'%.*s': not an IPv4 or IPv6 address", shown, s);
        return -1;
    }
    if (prefix > max) {
        o3b_err_set(err, "'%.*s': prefix length above %u", shown, s, max);
        return -1;
    }
    if (prefix < min) {
        o3b_err_set(err, "'%.*s': prefix shorter than /%u is refused (too broad)", shown, s, min);
        return -1;
    }
    out->prefix = (uint8_t)prefix;
    o3b_addr_mask(out->family, addr, prefix, out->addr);
    if (had_host_bits)
        *had_host_bits = memcmp(out->addr, addr, 16) != 0;
    return 0;
}

int o3b_cidr_parse(const char *s, size_t len, struct o3b_cidr *out, bool *had_host_bits,
                   o3b_err *err)
{
    return cidr_parse(s, len, out, had_host_bits, O3B_CIDR4_MIN_PREFIX, O3B_CIDR6_MIN_PREFIX, err);
}

int o3b_cidr_parse_any(const char *s, size_t len, struct o3b_cidr *out, bool *had_host_bits,
                       o3b_err *err)
{
    return cidr_parse(s, len, out, had_host_bits, 0, 0, err);
}

bool o3b_cidr_contains(const struct o3b_cidr *c, uint8_t family, const uint8_t *addr)
{
    uint8_t masked[16];

    if (c->family != family)
        return false;
    o3b_addr_mask(family, addr, c->prefix, masked);
    return memcmp(masked, c->addr, family == O3B_AF_INET ? 4 : 16) == 0;
}

char *o3b_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
    if (inet_ntop(family == O3B_AF_INET ? AF_INET : AF_INET6, addr, buf, (socklen_t)size) == NULL &&
        size > 0)
        buf[0] = '\0';
    return buf;
}

char *o3b_cidr_format(const struct o3b_cidr *c, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];

    o3b_addr_format(c->family, c->addr, a, sizeof a);
    snprintf(buf, size, "%s/%u", a, c->prefix);
    return buf;
}
