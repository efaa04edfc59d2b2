/* SPDX-License-Identifier: MIT */
/*
 * index.h - the lookup structure behind every decision (the hot path).
 *
 * An index holds host patterns and CIDR prefixes, each with a payload (the
 * caller's id, e.g. an endpoint-set number), a rank (tie-break: higher wins,
 * e.g. the category) and the TCP ports it applies to.  It is built once,
 * then read-only: lookups take no lock and allocate nothing.
 *
 * Precedence ("port first": each endpoint set is a rule "these URLs on
 * these ports", so an entry for other ports says nothing about this one):
 *   1. Only the matching entries whose ports contain the request's port
 *      count; the others are ignored.
 *   2. Of those, the most specific: an exact host beats any pattern; among
 *      patterns more literal (non-'*') characters is more specific
 *      ("*.online.office.com" beats "*.office.com"); for an address the
 *      longest prefix.
 *   3. At that level the highest rank; then the entry added first.
 * When entries match but none lists the port, the lookup reports the most
 * specific of them as "listed" (not on this port).
 *
 * How: exact hosts in one open-addressing hash; "*.suffix" patterns keyed by
 * ".suffix" in a second hash, probed once per dot of the host (one
 * right-to-left pass hashes every label-aligned suffix); other glob shapes
 * ("*cdn.onenote.net", "autodiscover.*.onmicrosoft.com") are keyed by their
 * last label-aligned literal suffix in the same hash and confirmed with a
 * glob match, so no lookup ever scans all patterns.  Patterns without any
 * label-aligned literal suffix ("*", "foo*": only the admin's NeverBypass
 * list may hold them, see o3b_pattern_normalize_narrowing) are kept apart
 * and glob-matched on every lookup of their index.  CIDRs (any prefix
 * length, /0 included): one hash per family keyed by (prefix length, masked
 * address), probed from the longest prefix length present to the shortest.
 * Lookups stop at the first level holding an entry that accepts the port.
 */
#ifndef O365BYPASS_INDEX_H
#define O365BYPASS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/cidr.h"
#include "o365bypass/errors.h"
#include "o365bypass/ports.h"

#define O3B_SPEC_EXACT 0xffffu /* specificity of an exact host */

enum o3b_entry_kind {
    O3B_ENTRY_EXACT = 0, /* "outlook.office.com" */
    O3B_ENTRY_SUFFIX,    /* "*.sharepoint.com": any host strictly below */
    O3B_ENTRY_GLOB,      /* any other shape with '*' */
    O3B_ENTRY_CIDR4,
    O3B_ENTRY_CIDR6
};

struct o3b_index_entry {
    const char *text; /* normalized pattern or canonical CIDR (index-owned) */
    uint32_t payload; /* the caller's id */
    uint32_t ports;   /* first range in the index's range array */
    uint16_t n_ports; /* 0: applies to no TCP port at all */
    uint16_t text_len;
    uint16_t specificity; /* O3B_SPEC_EXACT, literal characters, or prefix length */
    uint8_t kind;         /* enum o3b_entry_kind */
    uint8_t rank;
    uint8_t stars;        /* number of '*' */
    struct o3b_cidr cidr; /* CIDR entries only */
};

typedef struct o3b_index o3b_index;
typedef struct o3b_index_builder o3b_index_builder;

/* Result of a lookup; pointers are into the index and live as long as it. */
struct o3b_hit {
    const struct o3b_index_entry *best;   /* the winner, or NULL */
    const struct o3b_index_entry *listed; /* when best is NULL but entries matched
                                             (none lists the port): the first of
                                             the most specific ones; else NULL */
    uint16_t candidates;                  /* with a winner: the entries listing the
                                             port at its level (rank chose among
                                             them); else the matching entries at
                                             the most specific level */
};

/* A new, empty builder, or NULL when out of memory. */
o3b_index_builder *o3b_index_builder_new(void);

/*
 * Add a normalized host pattern (see o3b_pattern_normalize and
 * o3b_pattern_normalize_narrowing; the caller has validated it) or exact
 * host.  `ports` are copied.  Returns 0 or -1.
 */
int o3b_index_builder_add_pattern(o3b_index_builder *b, const char *pattern, size_t len,
                                  uint32_t payload, uint8_t rank,
                                  const struct o3b_port_range *ports, size_t n_ports, o3b_err *err);

/* Add a CIDR prefix. `ports` are copied.  Returns 0 or -1. */
int o3b_index_builder_add_cidr(o3b_index_builder *b, const struct o3b_cidr *cidr, uint32_t payload,
                               uint8_t rank, const struct o3b_port_range *ports, size_t n_ports,
                               o3b_err *err);

/*
 * Freeze: build the read-only index in one allocation and free the builder
 * (*b becomes NULL, also on failure).  The caller owns the result and frees
 * it with o3b_index_free().
 */
o3b_index *o3b_index_builder_finish(o3b_index_builder **b, o3b_err *err);

/* Free a builder that was not finished; *b becomes NULL. NULL-safe. */
void o3b_index_builder_free(o3b_index_builder **b);

/* Free an index; *ix becomes NULL.  NULL-safe. */
void o3b_index_free(o3b_index **ix);

/*
 * Look up a normalized host (lowercase, no trailing dot) for a TCP port.
 * Port 0 means "any port": every entry with at least one port accepts it.
 */
void o3b_index_lookup_host(const o3b_index *ix, const char *host, size_t len, uint16_t port,
                           struct o3b_hit *hit);

/* Look up an address (family O3B_AF_INET/INET6, network-order bytes). */
void o3b_index_lookup_addr(const o3b_index *ix, uint8_t family, const uint8_t *addr, uint16_t port,
                           struct o3b_hit *hit);

/* All entries, in the order they were added. */
const struct o3b_index_entry *o3b_index_entries(const o3b_index *ix, size_t *n);

/* The port ranges of an entry. */
const struct o3b_port_range *o3b_index_entry_ports(const o3b_index *ix,
                                                   const struct o3b_index_entry *e);

/* Does the entry apply to this port (0 = any)? */
bool o3b_index_entry_accepts(const o3b_index *ix, const struct o3b_index_entry *e, uint16_t port);

/* Bytes held by the index (one block). */
size_t o3b_index_memory(const o3b_index *ix);

#endif
