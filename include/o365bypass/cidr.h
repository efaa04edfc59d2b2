/* SPDX-License-Identifier: MIT */
/*
 * cidr.h - IPv4/IPv6 addresses and CIDR prefixes, parsed strictly.
 *
 * Addresses are kept as 16 network-order bytes; an IPv4 address uses the
 * first 4.  Only the forms Microsoft publishes and Squid sends are accepted:
 * IPv4 as a dotted quad of decimal numbers 0..255 without leading zeros, IPv6
 * as inet_pton(3) reads it, without zone ids.  Nothing here allocates.
 */
#ifndef O365BYPASS_CIDR_H
#define O365BYPASS_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/errors.h"

#define O3B_AF_INET 4
#define O3B_AF_INET6 6

/* Smallest prefix lengths accepted from a feed: a poisoned 0.0.0.0/0 must
   never bypass the whole Internet. */
#define O3B_CIDR4_MIN_PREFIX 8
#define O3B_CIDR6_MIN_PREFIX 16

struct o3b_cidr {
    uint8_t family;   /* O3B_AF_INET or O3B_AF_INET6 */
    uint8_t prefix;   /* 0..32 or 0..128 */
    uint8_t addr[16]; /* network address, host bits cleared */
};

/* Strict dotted quad "a.b.c.d" (each 0..255, no leading zeros, no other
   characters).  Returns 0 or -1. */
int o3b_ipv4_parse(const char *s, size_t len, uint8_t out[4]);

/* IPv6 text as inet_pton(AF_INET6) takes it (no brackets, no "%zone").
   Returns 0 or -1. */
int o3b_ipv6_parse(const char *s, size_t len, uint8_t out[16]);

/* True for IPv6 addresses that really carry an IPv4 address
   (::ffff:0:0/96 mapped, ::/96 compatible, 64:ff9b::/96 NAT64). */
bool o3b_ipv6_embeds_ipv4(const uint8_t addr[16]);

/*
 * Parse "addr/prefix" (prefix required) for either family.  Host bits that
 * are set are cleared and reported through `*had_host_bits` (may be NULL).
 * Prefixes shorter than O3B_CIDR*_MIN_PREFIX are refused.  Returns 0 or -1
 * with `err` set.
 */
int o3b_cidr_parse(const char *s, size_t len, struct o3b_cidr *out, bool *had_host_bits,
                   o3b_err *err);

/*
 * The same without the minimum: any prefix length, 0.0.0.0/0 and ::/0
 * included.  Only for lists that can only narrow what is bypassed
 * (NeverBypass); everything that can widen it uses o3b_cidr_parse().
 */
int o3b_cidr_parse_any(const char *s, size_t len, struct o3b_cidr *out, bool *had_host_bits,
                       o3b_err *err);

/* Does `c` contain the address of the given family? */
bool o3b_cidr_contains(const struct o3b_cidr *c, uint8_t family, const uint8_t *addr);

/* Copy `addr` with all bits after the first `prefix` cleared. */
void o3b_addr_mask(uint8_t family, const uint8_t *addr, unsigned prefix, uint8_t out[16]);

/* Canonical text ("52.96.0.0/14", "2603:1006::/40") into buf; returns buf. */
char *o3b_cidr_format(const struct o3b_cidr *c, char *buf, size_t size);

/* Canonical address text (no brackets) into buf; returns buf. */
char *o3b_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t size);

#endif
