/* SPDX-License-Identifier: MIT */
/*
 * table.h - Microsoft's endpoint table, built once, then read-only.
 *
 * A table is the list of endpoint sets of the "Office 365 IP Address and URL
 * web service" (/endpoints/{instance}) plus an index over their URLs and IP
 * prefixes (see index.h).  Sets keep everything the feed said about them, so
 * `lookup`, `show`, `diff` and the logs can explain a decision.
 *
 * Ownership: a builder is created, filled set by set, and consumed by
 * o3b_table_builder_finish(), which returns a table the caller owns and
 * frees with o3b_table_free().  Finished tables are immutable and may be
 * read by any number of threads.  Every string a table hands out lives as
 * long as the table.
 */
#ifndef O365BYPASS_TABLE_H
#define O365BYPASS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "o365bypass/errors.h"
#include "o365bypass/index.h"
#include "o365bypass/ports.h"

/* Categories in priority order: a larger value wins a tie. */
enum o3b_category { O3B_CAT_DEFAULT = 0, O3B_CAT_ALLOW = 1, O3B_CAT_OPTIMIZE = 2, O3B_CAT_COUNT };

enum o3b_area {
    O3B_AREA_EXCHANGE = 0,
    O3B_AREA_SHAREPOINT,
    O3B_AREA_SKYPE, /* "Skype" is Microsoft Teams in the feed */
    O3B_AREA_COMMON,
    O3B_AREA_MEM,   /* Intune, only when asked for */
    O3B_AREA_OTHER, /* a service area this version does not know */
    O3B_AREA_COUNT
};

/* Caps that keep a hostile feed from exhausting memory. */
#define O3B_MAX_SETS 4096
#define O3B_MAX_ITEMS_PER_SET 8192 /* urls or ips in one set */
#define O3B_MAX_ENTRIES 65536      /* urls + ips in the whole table */

const char *o3b_category_name(enum o3b_category c);            /* "Optimize" */
int o3b_category_parse(const char *s, enum o3b_category *out); /* case-insensitive */
const char *o3b_area_name(enum o3b_area a);                    /* "Exchange", "Other" */
/* Known area names, case-insensitive; anything else gives O3B_AREA_OTHER and -1. */
int o3b_area_parse(const char *s, enum o3b_area *out);

/* What the feed says about one endpoint set. */
struct o3b_set_spec {
    long long id;             /* > 0 */
    const char *service_area; /* required, e.g. "Exchange" */
    const char *area_display; /* serviceAreaDisplayName or NULL */
    const char *category;     /* "Optimize" | "Allow" | "Default" */
    const char *tcp_ports;    /* NULL or text as in the feed */
    const char *udp_ports;    /* NULL or text as in the feed */
    const char *notes;        /* NULL or text */
    bool required;
    bool express_route;
};

struct o3b_set {
    uint32_t id;
    uint8_t category; /* enum o3b_category */
    uint8_t area;     /* enum o3b_area */
    bool required;
    bool express_route;
    const char *area_name;      /* as the feed wrote it */
    const char *area_display;   /* "" when absent */
    const char *tcp_ports_text; /* "" when absent */
    const char *udp_ports_text; /* "" when absent */
    const char *notes;          /* "" when absent */
    const struct o3b_port_range *tcp;
    size_t n_tcp;
    const char *const *urls; /* normalized patterns, feed order */
    size_t n_urls;
    const char *const *ips; /* canonical CIDRs, feed order */
    size_t n_ips;
};

/* Where a table came from; copied into the table. */
struct o3b_table_meta {
    char source[512];  /* file path or URL */
    char instance[32]; /* "Worldwide", ... or "" */
    char version[32];  /* "2025111400", or "" when unknown (e.g. the seed) */
    long long fetched; /* unix time of the download, 0 when unknown */
};

struct o3b_table_counts {
    size_t sets, urls, exact, wildcards, ipv4, ipv6;
    size_t sets_by_category[O3B_CAT_COUNT];
    size_t sets_by_area[O3B_AREA_COUNT];
    size_t entries; /* urls + ipv4 + ipv6: what the shrink guard compares */
};

typedef struct o3b_table o3b_table;
typedef struct o3b_table_builder o3b_table_builder;

o3b_table_builder *o3b_table_builder_new(void);

/* Start a new set; later add_url/add_ip calls go to it.  Validates every
   field (category, area, id unique, ports syntax).  Returns 0 or -1. */
int o3b_table_builder_add_set(o3b_table_builder *b, const struct o3b_set_spec *spec, o3b_err *err);

/* Add a URL (host or pattern, any case, one trailing dot allowed) to the
   current set.  Returns 0 or -1 with the reason. */
int o3b_table_builder_add_url(o3b_table_builder *b, const char *url, size_t len, o3b_err *err);

/* Add a CIDR ("52.96.0.0/14", "2603:1006::/40") to the current set. */
int o3b_table_builder_add_ip(o3b_table_builder *b, const char *cidr, size_t len, o3b_err *err);

/*
 * Freeze into a table (consumes the builder: *b becomes NULL, also on
 * failure).  `meta` may be NULL.  The content hash (for the ISTag and for
 * "did anything change") is computed over the normalized sets, so the same
 * endpoints give the same hash whatever file format they came from.  A table
 * with no set at all is refused unless `allow_empty`.
 */
o3b_table *o3b_table_builder_finish(o3b_table_builder **b, const struct o3b_table_meta *meta,
                                    bool allow_empty, o3b_err *err);

void o3b_table_builder_free(o3b_table_builder **b);

/* An empty table (bypasses nothing); NULL when out of memory. */
o3b_table *o3b_table_new_empty(const struct o3b_table_meta *meta);

void o3b_table_free(o3b_table **t);

size_t o3b_table_set_count(const o3b_table *t);
const struct o3b_set *o3b_table_set(const o3b_table *t, size_t i);
const struct o3b_set *o3b_table_find_set(const o3b_table *t, uint32_t id);
const struct o3b_table_meta *o3b_table_meta(const o3b_table *t);
const o3b_index *o3b_table_index(const o3b_table *t);
void o3b_table_get_counts(const o3b_table *t, struct o3b_table_counts *c);
uint64_t o3b_table_hash(const o3b_table *t);
/* Bytes held by the table (all its blocks). */
size_t o3b_table_memory(const o3b_table *t);

/* Short tag that changes with the content: "<version>-<8 hex>", with
   "seed" for a table without version and "empty" for one without sets,
   at most 26 characters (fits c-icap's ISTag).  Returns buf. */
char *o3b_table_tag(const o3b_table *t, char *buf, size_t size);

/* 64-bit FNV-1a, exposed for content hashes. */
uint64_t o3b_fnv1a64(const void *data, size_t len, uint64_t seed);
#define O3B_FNV64_SEED 0xcbf29ce484222325ULL

#endif
