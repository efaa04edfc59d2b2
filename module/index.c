/* SPDX-License-Identifier: MIT */
/*
 * index.c - host-pattern and CIDR index, the hot path of every decision.
 *
 * Design (see index.h for the precedence rules):
 * - Keys are hashed right to left (FNV-1a over the reversed string), so one
 *   pass over a host yields the hash of the whole host and of every
 *   label-aligned suffix ".b.c", ".c" at once.
 * - Three open-addressing tables: exact hosts, suffix keys (".suffix" for
 *   "*.suffix" patterns and the anchor of other glob shapes), and CIDRs keyed
 *   by (family, prefix length, masked address).  A slot points at a run of
 *   entries with the same key in `order`, in insertion order.
 * - Patterns with no label-aligned literal suffix ("*", "foo*", "*.*"):
 *   only the admin's NeverBypass list can hold them (a feed pattern must end
 *   in two whole literal labels), so they sit in one short "loose" run at the
 *   end of `order`, glob-matched on every lookup of that index.  The table's
 *   index never has any.
 * - Port first (index.h): an entry that does not list the port is noted for
 *   the "listed, not on this port" answer and otherwise ignored, so the walk
 *   stops early only on entries that accept the port.
 * - A 1024-bit filter over suffix-key hashes and the range of suffix-key
 *   lengths skip most suffix probes without touching the table.
 * - The hashing pass has no data-dependent branch (dot positions are
 *   recorded branch-free) and the port check is inlined: on the real table
 *   a lookup costs little more than hashing the host once (see
 *   tests/bench/bench_lookup.c).
 * - Everything lives in one allocation laid out by finish(); lookups only
 *   read it, allocate nothing and take no lock.
 */
#include "o365bypass/index.h"

#include <stdlib.h>
#include <string.h>

#include "o365bypass/host.h"

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u
#define MAX_DOTS (O3B_HOST_MAX + 1) /* any byte after the first may be a dot */
#define FILTER_BITS 1024u           /* 7% false hits with Worldwide's 74 suffix keys */

struct key_slot {    /* exact and suffix tables */
    const char *key; /* NULL: empty slot */
    uint32_t hash;
    uint32_t first; /* into order[] */
    uint16_t count;
    uint16_t key_len;
};

struct cidr_slot {
    uint32_t hash;
    uint32_t first;
    uint16_t count; /* 0: empty slot */
    uint8_t prefix;
    uint8_t addr[16];
};

struct cidr_table {
    struct cidr_slot *slots;
    uint32_t mask;
    uint8_t n_lengths;
    uint8_t lengths[129]; /* distinct prefix lengths present, longest first */
};

struct o3b_index {
    size_t memory;
    struct o3b_index_entry *entries;
    size_t n_entries;
    struct o3b_port_range *ranges;
    size_t n_ranges;
    uint32_t *order;
    struct key_slot *exact;
    uint32_t exact_mask;
    struct key_slot *suffix;
    uint32_t suffix_mask;
    uint64_t suffix_filter[FILTER_BITS / 64];
    uint16_t suffix_min_len, suffix_max_len;
    uint16_t glob_extra;  /* max(specificity - key length) over glob entries */
    uint32_t loose_first; /* into order[]: patterns without a suffix key */
    uint32_t n_loose;
    uint16_t loose_max_spec;
    struct cidr_table v4, v6;
};

/* ---- builder -------------------------------------------------------------- */

struct pending {
    struct o3b_index_entry e;
    size_t text_off; /* into the builder's text arena */
    size_t key_off;  /* offset of the key inside the text (host kinds) */
    size_t key_len;
};

struct o3b_index_builder {
    struct pending *items;
    size_t n_items, cap_items;
    struct o3b_port_range *ranges;
    size_t n_ranges, cap_ranges;
    char *text;
    size_t n_text, cap_text;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 16;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * elem);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

o3b_index_builder *o3b_index_builder_new(void)
{
    return calloc(1, sizeof(o3b_index_builder));
}

void o3b_index_builder_free(o3b_index_builder **b)
{
    if (b == NULL || *b == NULL)
        return;
    free((*b)->items);
    free((*b)->ranges);
    free((*b)->text);
    free(*b);
    *b = NULL;
}

/* Store the port ranges, reusing the previous list when identical (all the
   entries of one endpoint set share it). */
static int add_ports(o3b_index_builder *b, const struct o3b_port_range *ports, size_t n,
                     uint32_t *first)
{
    if (n > 0xffff)
        return -1;
    if (b->n_items > 0) {
        const struct o3b_index_entry *prev = &b->items[b->n_items - 1].e;
        if (prev->n_ports == n &&
            (n == 0 || memcmp(b->ranges + prev->ports, ports, n * sizeof *ports) == 0)) {
            *first = prev->ports;
            return 0;
        }
    }
    if (grow((void **)&b->ranges, &b->cap_ranges, b->n_ranges + n, sizeof *ports) != 0)
        return -1;
    if (n > 0)
        memcpy(b->ranges + b->n_ranges, ports, n * sizeof *ports);
    *first = (uint32_t)b->n_ranges;
    b->n_ranges += n;
    return 0;
}

static struct pending *add_item(o3b_index_builder *b, const char *text, size_t len,
                                const struct o3b_port_range *ports, size_t n_ports, o3b_err *err)
{
    struct pending *it;
    uint32_t first;

    if (b->n_items >= 0xfffffff0u || add_ports(b, ports, n_ports, &first) != 0 ||
        grow((void **)&b->items, &b->cap_items, b->n_items + 1, sizeof *b->items) != 0 ||
        grow((void **)&b->text, &b->cap_text, b->n_text + len + 1, 1) != 0) {
        o3b_err_set(err, "out of memory building the index");
        return NULL;
    }
    it = &b->items[b->n_items++];
    memset(it, 0, sizeof *it);
    it->text_off = b->n_text;
    memcpy(b->text + b->n_text, text, len);
    b->text[b->n_text + len] = '\0';
    b->n_text += len + 1;
    it->e.text_len = (uint16_t)len;
    it->e.ports = first;
    it->e.n_ports = (uint16_t)n_ports;
    return it;
}

int o3b_index_builder_add_pattern(o3b_index_builder *b, const char *pattern, size_t len,
                                  uint32_t payload, uint8_t rank,
                                  const struct o3b_port_range *ports, size_t n_ports, o3b_err *err)
{
    size_t stars = o3b_pattern_stars(pattern, len);
    const char *last_star = memrchr(pattern, '*', len);
    struct pending *it;

    if (len == 0 || len > O3B_HOST_MAX) {
        o3b_err_set(err, "bad pattern length %zu", len);
        return -1;
    }
    it = add_item(b, pattern, len, ports, n_ports, err);
    if (it == NULL)
        return -1;
    it->e.payload = payload;
    it->e.rank = rank;
    it->e.stars = (uint8_t)(stars > 255 ? 255 : stars);
    if (stars == 0) {
        it->e.kind = O3B_ENTRY_EXACT;
        it->e.specificity = O3B_SPEC_EXACT;
        it->key_off = 0;
        it->key_len = len;
        return 0;
    }
    it->e.specificity = (uint16_t)(len - stars);
    if (stars == 1 && len >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        it->e.kind = O3B_ENTRY_SUFFIX; /* key ".suffix" */
        it->key_off = 1;
    } else {
        const char *dot = memchr(last_star, '.', len - (size_t)(last_star - pattern));
        it->e.kind = O3B_ENTRY_GLOB; /* key: last label-aligned literal suffix */
        it->key_off = dot ? (size_t)(dot - pattern) : len; /* none: a loose pattern */
    }
    it->key_len = len - it->key_off;
    return 0;
}

int o3b_index_builder_add_cidr(o3b_index_builder *b, const struct o3b_cidr *cidr, uint32_t payload,
                               uint8_t rank, const struct o3b_port_range *ports, size_t n_ports,
                               o3b_err *err)
{
    char text[64];
    struct pending *it;

    if ((cidr->family != O3B_AF_INET && cidr->family != O3B_AF_INET6) ||
        cidr->prefix > (cidr->family == O3B_AF_INET ? 32 : 128)) {
        o3b_err_set(err, "bad CIDR");
        return -1;
    }
    o3b_cidr_format(cidr, text, sizeof text);
    it = add_item(b, text, strlen(text), ports, n_ports, err);
    if (it == NULL)
        return -1;
    it->e.payload = payload;
    it->e.rank = rank;
    it->e.kind = cidr->family == O3B_AF_INET ? O3B_ENTRY_CIDR4 : O3B_ENTRY_CIDR6;
    it->e.specificity = cidr->prefix;
    it->e.cidr = *cidr;
    return 0;
}

/* ---- hashing ---------------------------------------------------------------- */

static inline uint32_t hash_rev(const char *s, size_t len)
{
    uint32_t h = FNV32_OFFSET;

    while (len > 0)
        h = (h ^ (unsigned char)s[--len]) * FNV32_PRIME;
    return h;
}

static uint32_t hash_cidr(uint8_t family, uint8_t prefix, const uint8_t *addr)
{
    uint32_t h = FNV32_OFFSET;
    unsigned n = family == O3B_AF_INET ? 4 : 16;

    h = (h ^ prefix) * FNV32_PRIME;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ addr[i]) * FNV32_PRIME;
    return h;
}

/* The filter takes the hash's top bits; the tables take its bottom bits. */
static inline unsigned filter_bit(uint32_t h)
{
    return h >> (32 - 10); /* log2(FILTER_BITS) */
}

static inline bool filter_has(const uint64_t *filter, uint32_t h)
{
    return (filter[filter_bit(h) >> 6] >> (filter_bit(h) & 63)) & 1u;
}

static uint32_t table_size(size_t keys)
{
    uint32_t n = 8;

    while (n < keys * 2 + 1)
        n *= 2;
    return n;
}

/* ---- finish: sort into runs, lay out one block, fill the tables ---------- */

enum { T_EXACT, T_SUFFIX, T_CIDR4, T_CIDR6, T_LOOSE, N_TABLES }; /* T_LOOSE: no slots */

static int table_of(const struct pending *p)
{
    switch (p->e.kind) {
    case O3B_ENTRY_EXACT:
        return T_EXACT;
    case O3B_ENTRY_SUFFIX:
        return T_SUFFIX;
    case O3B_ENTRY_GLOB:
        return p->key_len > 0 ? T_SUFFIX : T_LOOSE;
    case O3B_ENTRY_CIDR4:
        return T_CIDR4;
    default:
        return T_CIDR6;
    }
}

static int item_key_cmp(const struct pending *a, const struct pending *b, const char *text)
{
    if (table_of(a) == T_LOOSE)
        return 0; /* one run, in insertion order */
    if (a->e.kind >= O3B_ENTRY_CIDR4) {
        if (a->e.cidr.prefix != b->e.cidr.prefix)
            return a->e.cidr.prefix < b->e.cidr.prefix ? -1 : 1;
        return memcmp(a->e.cidr.addr, b->e.cidr.addr, 16);
    }
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return memcmp(text + a->text_off + a->key_off, text + b->text_off + b->key_off, a->key_len);
}

/* Order entries by table, then key, then insertion (qsort_r context: builder). */
static int order_cmp(const void *pa, const void *pb, void *ctx)
{
    const o3b_index_builder *sort_builder = ctx;
    uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
    const struct pending *a = &sort_builder->items[ia], *b = &sort_builder->items[ib];
    int ta = table_of(a), tb = table_of(b), c;

    if (ta != tb)
        return ta - tb;
    c = item_key_cmp(a, b, sort_builder->text);
    if (c != 0)
        return c;
    return ia < ib ? -1 : (ia > ib); /* stable: insertion order inside a run */
}

struct layout {
    size_t entries, ranges, order, exact, suffix, v4, v6, text, total;
};

static size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

static void plan_layout(const o3b_index_builder *b, const size_t keys[N_TABLES], struct layout *l,
                        uint32_t sizes[N_TABLES])
{
    size_t off = align8(sizeof(struct o3b_index));

    for (int t = 0; t < T_LOOSE; t++)
        sizes[t] = keys[t] ? table_size(keys[t]) : 1;
    l->entries = off;
    off = align8(off + b->n_items * sizeof(struct o3b_index_entry));
    l->ranges = off;
    off = align8(off + b->n_ranges * sizeof(struct o3b_port_range));
    l->order = off;
    off = align8(off + b->n_items * sizeof(uint32_t));
    l->exact = off;
    off = align8(off + sizes[0] * sizeof(struct key_slot));
    l->suffix = off;
    off = align8(off + sizes[1] * sizeof(struct key_slot));
    l->v4 = off;
    off = align8(off + sizes[2] * sizeof(struct cidr_slot));
    l->v6 = off;
    off = align8(off + sizes[3] * sizeof(struct cidr_slot));
    l->text = off;
    off += b->n_text;
    l->total = off;
}

static void put_key_slot(struct key_slot *slots, uint32_t mask, const char *key, size_t key_len,
                         uint32_t first, uint16_t count)
{
    uint32_t h = hash_rev(key, key_len), i = h & mask;

    while (slots[i].key != NULL)
        i = (i + 1) & mask;
    slots[i].key = key;
    slots[i].hash = h;
    slots[i].first = first;
    slots[i].count = count;
    slots[i].key_len = (uint16_t)key_len;
}

static void put_cidr_slot(struct cidr_table *t, const struct o3b_cidr *c, uint32_t first,
                          uint16_t count)
{
    uint32_t h = hash_cidr(c->family, c->prefix, c->addr), i = h & t->mask;
    unsigned k;

    while (t->slots[i].count != 0)
        i = (i + 1) & t->mask;
    t->slots[i].hash = h;
    t->slots[i].first = first;
    t->slots[i].count = count;
    t->slots[i].prefix = c->prefix;
    memcpy(t->slots[i].addr, c->addr, 16);
    for (k = 0; k < t->n_lengths && t->lengths[k] != c->prefix; k++)
        ;
    if (k == t->n_lengths) { /* insert keeping longest first */
        while (k > 0 && t->lengths[k - 1] < c->prefix) {
            t->lengths[k] = t->lengths[k - 1];
            k--;
        }
        t->lengths[k] = c->prefix;
        t->n_lengths++;
    }
}

/* The loose run order[i..j): no slot, a range scanned by every lookup. */
static void fill_loose(o3b_index *ix, const o3b_index_builder *b, size_t i, size_t j)
{
    ix->loose_first = (uint32_t)i;
    ix->n_loose = (uint32_t)(j - i);
    for (size_t k = i; k < j; k++)
        if (b->items[ix->order[k]].e.specificity > ix->loose_max_spec)
            ix->loose_max_spec = b->items[ix->order[k]].e.specificity;
}

/* Fill the hash tables from the sorted order: one slot per run of equal keys. */
static int fill_tables(o3b_index *ix, const o3b_index_builder *b, o3b_err *err)
{
    size_t i = 0;

    ix->suffix_min_len = 0xffff;
    while (i < b->n_items) {
        const struct pending *p = &b->items[ix->order[i]];
        size_t j = i + 1;
        int t = table_of(p);

        while (j < b->n_items && table_of(&b->items[ix->order[j]]) == t &&
               item_key_cmp(p, &b->items[ix->order[j]], b->text) == 0)
            j++;
        if (t == T_LOOSE) {
            fill_loose(ix, b, i, j);
            i = j;
            continue;
        }
        if (j - i > 0xffff) {
            o3b_err_set(err, "more than 65535 entries share the key '%s'", b->text + p->text_off);
            return -1;
        }
        if (t <= T_SUFFIX) {
            const char *key = ix->entries[ix->order[i]].text + p->key_off;
            struct key_slot *slots = t == T_EXACT ? ix->exact : ix->suffix;
            uint32_t mask = t == T_EXACT ? ix->exact_mask : ix->suffix_mask;

            put_key_slot(slots, mask, key, p->key_len, (uint32_t)i, (uint16_t)(j - i));
            if (t == T_SUFFIX) {
                uint32_t h = hash_rev(key, p->key_len);
                ix->suffix_filter[filter_bit(h) >> 6] |= 1ull << (filter_bit(h) & 63);
                if (p->key_len < ix->suffix_min_len)
                    ix->suffix_min_len = (uint16_t)p->key_len;
                if (p->key_len > ix->suffix_max_len)
                    ix->suffix_max_len = (uint16_t)p->key_len;
            }
        } else {
            put_cidr_slot(t == T_CIDR4 ? &ix->v4 : &ix->v6, &p->e.cidr, (uint32_t)i,
                          (uint16_t)(j - i));
        }
        for (size_t k = i; k < j; k++) {
            const struct pending *q = &b->items[ix->order[k]];
            if (q->e.kind == O3B_ENTRY_GLOB && q->e.specificity - q->key_len > ix->glob_extra)
                ix->glob_extra = (uint16_t)(q->e.specificity - q->key_len);
        }
        i = j;
    }
    return 0;
}

static void count_keys(const o3b_index_builder *b, const uint32_t *order, size_t keys[N_TABLES])
{
    memset(keys, 0, N_TABLES * sizeof keys[0]);
    for (size_t i = 0; i < b->n_items; i++) {
        const struct pending *p = &b->items[order[i]];
        if (i == 0 || table_of(&b->items[order[i - 1]]) != table_of(p) ||
            item_key_cmp(&b->items[order[i - 1]], p, b->text) != 0)
            keys[table_of(p)]++;
    }
}

o3b_index *o3b_index_builder_finish(o3b_index_builder **bp, o3b_err *err)
{
    o3b_index_builder *b = *bp;
    uint32_t *order = NULL, sizes[N_TABLES];
    size_t keys[N_TABLES];
    struct layout l;
    o3b_index *ix = NULL;
    char *block;

    *bp = NULL;
    if (b == NULL) {
        o3b_err_set(err, "no index builder");
        return NULL;
    }
    order = malloc((b->n_items ? b->n_items : 1) * sizeof *order);
    if (order == NULL)
        goto oom;
    for (size_t i = 0; i < b->n_items; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, b->n_items, sizeof *order, order_cmp, b);
    count_keys(b, order, keys);
    plan_layout(b, keys, &l, sizes);
    block = calloc(1, l.total);
    if (block == NULL)
        goto oom;
    ix = (o3b_index *)block;
    ix->memory = l.total;
    ix->entries = (struct o3b_index_entry *)(block + l.entries);
    ix->n_entries = b->n_items;
    ix->ranges = (struct o3b_port_range *)(block + l.ranges);
    ix->n_ranges = b->n_ranges;
    ix->order = (uint32_t *)(block + l.order);
    ix->exact = (struct key_slot *)(block + l.exact);
    ix->exact_mask = sizes[0] - 1;
    ix->suffix = (struct key_slot *)(block + l.suffix);
    ix->suffix_mask = sizes[1] - 1;
    ix->v4.slots = (struct cidr_slot *)(block + l.v4);
    ix->v4.mask = sizes[2] - 1;
    ix->v6.slots = (struct cidr_slot *)(block + l.v6);
    ix->v6.mask = sizes[3] - 1;
    if (b->n_text)
        memcpy(block + l.text, b->text, b->n_text);
    if (b->n_ranges)
        memcpy(ix->ranges, b->ranges, b->n_ranges * sizeof *ix->ranges);
    if (b->n_items)
        memcpy(ix->order, order, b->n_items * sizeof *order);
    for (size_t i = 0; i < b->n_items; i++) {
        ix->entries[i] = b->items[i].e;
        ix->entries[i].text = block + l.text + b->items[i].text_off;
    }
    if (fill_tables(ix, b, err) != 0) {
        free(block);
        ix = NULL;
    }
    free(order);
    o3b_index_builder_free(&b);
    return ix;
oom:
    o3b_err_set(err, "out of memory building the index");
    free(order);
    o3b_index_builder_free(&b);
    return NULL;
}

void o3b_index_free(o3b_index **ix)
{
    if (ix == NULL)
        return;
    free(*ix);
    *ix = NULL;
}

/* ---- lookups ------------------------------------------------------------------ */

/* o3b_ports_contain(), inlined: it runs for every candidate of every lookup. */
static inline bool accepts(const o3b_index *ix, const struct o3b_index_entry *e, uint16_t port)
{
    const struct o3b_port_range *r = ix->ranges + e->ports;

    if (port == 0)
        return e->n_ports > 0;
    for (unsigned i = 0; i < e->n_ports; i++)
        if (port >= r[i].lo && port <= r[i].hi)
            return true;
    return false;
}

bool o3b_index_entry_accepts(const o3b_index *ix, const struct o3b_index_entry *e, uint16_t port)
{
    return accepts(ix, e, port);
}

/*
 * Bookkeeping shared by host and address lookups (index.h's precedence):
 * `best` among the entries that accept the port (its level `spec`, `cand`
 * such entries there), and, while there is no such entry, the most specific
 * level of the others (`top`, its first entry, `top_cand` entries) for the
 * "listed, not on this port" answer; once a winner exists that answer is
 * never given, so the common path only ranks port-accepting entries.
 * Entries are pointers into one array in insertion order, so "first added"
 * is the lower address.
 */
struct level {
    const struct o3b_index_entry *best, *first;
    uint16_t spec, cand;
    uint16_t top, top_cand;
    bool any;
};

static inline void consider(const o3b_index *ix, struct level *lv, const struct o3b_index_entry *e,
                            uint16_t port)
{
    uint16_t s = e->specificity;

    if (accepts(ix, e, port)) {
        if (lv->best == NULL || s > lv->spec) {
            lv->best = e;
            lv->spec = s;
            lv->cand = 1;
        } else if (s == lv->spec) {
            lv->cand++;
            if (e->rank > lv->best->rank || (e->rank == lv->best->rank && e < lv->best))
                lv->best = e;
        }
        return;
    }
    if (lv->best != NULL)
        return;
    if (!lv->any || s > lv->top) {
        lv->any = true;
        lv->top = s;
        lv->first = e;
        lv->top_cand = 1;
    } else if (s == lv->top) {
        lv->top_cand++;
        if (e < lv->first)
            lv->first = e;
    }
}

static void finish_hit(const struct level *lv, struct o3b_hit *hit)
{
    hit->best = lv->best;
    hit->listed = (lv->any && lv->best == NULL) ? lv->first : NULL;
    hit->candidates = lv->best ? lv->cand : lv->any ? lv->top_cand : 0;
}

static inline const struct key_slot *probe(const struct key_slot *slots, uint32_t mask, uint32_t h,
                                           const char *key, size_t len)
{
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const struct key_slot *s = &slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

/* The run order[first..first+count): consider the entries matching `host`. */
static void visit_run(const o3b_index *ix, uint32_t first, uint32_t count, const char *host,
                      size_t len, uint16_t port, struct level *lv)
{
    for (uint32_t k = 0; k < count; k++) {
        const struct o3b_index_entry *e = &ix->entries[ix->order[first + k]];
        if (e->kind == O3B_ENTRY_GLOB && !o3b_glob_match(e->text, e->text_len, host, len))
            continue;
        consider(ix, lv, e, port);
    }
}

/*
 * One right-to-left FNV-1a pass over host[0..len) (len >= 1): returns the
 * hash of the whole host in *whole and, for every dot after the first byte,
 * the hash of the suffix starting at it, right to left.  Branch-free per
 * byte: each position is written and kept only if it holds a dot, so the
 * data-dependent dot positions cost no mispredicted branch.
 */
static inline unsigned hash_suffixes(const char *host, size_t len, uint32_t *whole,
                                     uint32_t dot_hash[MAX_DOTS], uint16_t dot_pos[MAX_DOTS])
{
    uint32_t h = FNV32_OFFSET;
    unsigned n = 0;

    for (size_t i = len - 1; i > 0; i--) {
        unsigned char c = (unsigned char)host[i];
        h = (h ^ c) * FNV32_PRIME;
        dot_hash[n] = h;
        dot_pos[n] = (uint16_t)i;
        n += c == '.';
    }
    *whole = (h ^ (unsigned char)host[0]) * FNV32_PRIME;
    return n;
}

void o3b_index_lookup_host(const o3b_index *ix, const char *host, size_t len, uint16_t port,
                           struct o3b_hit *hit)
{
    uint32_t dot_hash[MAX_DOTS];
    uint16_t dot_pos[MAX_DOTS];
    unsigned n_dots;
    uint32_t h;
    struct level lv = {0};
    const struct key_slot *s;

    if (len == 0 || len > O3B_HOST_MAX) {
        finish_hit(&lv, hit);
        return;
    }
    n_dots = hash_suffixes(host, len, &h, dot_hash, dot_pos);
    s = probe(ix->exact, ix->exact_mask, h, host, len);
    if (s != NULL) {
        visit_run(ix, s->first, s->count, host, len, port, &lv);
        if (lv.best != NULL) { /* an exact host is the most specific level there is */
            finish_hit(&lv, hit);
            return;
        }
    }
    /* dot_* are right to left; walk longest suffix (leftmost dot) first */
    while (n_dots-- > 0) {
        size_t pos = dot_pos[n_dots], klen = len - pos;
        uint32_t kh = dot_hash[n_dots];

        if (lv.best != NULL && lv.spec > klen + ix->glob_extra)
            break; /* nothing shorter can reach the level already found */
        if (klen < ix->suffix_min_len || klen > ix->suffix_max_len ||
            !filter_has(ix->suffix_filter, kh))
            continue;
        s = probe(ix->suffix, ix->suffix_mask, kh, host + pos, klen);
        if (s != NULL)
            visit_run(ix, s->first, s->count, host, len, port, &lv);
    }
    if (ix->n_loose > 0 && !(lv.best != NULL && lv.spec > ix->loose_max_spec))
        visit_run(ix, ix->loose_first, ix->n_loose, host, len, port, &lv);
    finish_hit(&lv, hit);
}

void o3b_index_lookup_addr(const o3b_index *ix, uint8_t family, const uint8_t *addr, uint16_t port,
                           struct o3b_hit *hit)
{
    const struct cidr_table *t = family == O3B_AF_INET ? &ix->v4 : &ix->v6;
    unsigned bytes = family == O3B_AF_INET ? 4 : 16;
    struct level lv = {0};

    for (unsigned k = 0; k < t->n_lengths && lv.best == NULL; k++) {
        uint8_t masked[16];
        uint8_t prefix = t->lengths[k];
        uint32_t h;

        o3b_addr_mask(family, addr, prefix, masked);
        h = hash_cidr(family, prefix, masked);
        for (uint32_t i = h & t->mask; t->slots[i].count != 0; i = (i + 1) & t->mask) {
            const struct cidr_slot *s = &t->slots[i];
            if (s->hash != h || s->prefix != prefix || memcmp(s->addr, masked, bytes) != 0)
                continue;
            for (uint32_t r = 0; r < s->count; r++)
                consider(ix, &lv, &ix->entries[ix->order[s->first + r]], port);
            break;
        }
    }
    finish_hit(&lv, hit);
}

const struct o3b_index_entry *o3b_index_entries(const o3b_index *ix, size_t *n)
{
    *n = ix->n_entries;
    return ix->entries;
}

const struct o3b_port_range *o3b_index_entry_ports(const o3b_index *ix,
                                                   const struct o3b_index_entry *e)
{
    return ix->ranges + e->ports;
}

size_t o3b_index_memory(const o3b_index *ix)
{
    return ix->memory;
}
