/* SPDX-License-Identifier: MIT */
/*
 * table.c - endpoint sets plus their index: build, freeze, read, free.
 *
 * The builder validates every field as it arrives (so the loader only maps
 * JSON onto it) and copies strings into an arena owned by the future table.
 * finish() freezes the index, computes a content hash over the normalized
 * sets and hands everything to one table object.  After that nothing
 * changes until o3b_table_free(), which releases the arena, the index and
 * the table in three free() calls.
 */
#include "o365bypass/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "o365bypass/cidr.h"
#include "o365bypass/host.h"

/* ---- arena ----------------------------------------------------------------- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    char data[];
};

struct arena {
    struct arena_chunk *head;
    size_t bytes; /* everything malloc'd for chunks */
};

static void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->head;

    n = (n + 7u) & ~(size_t)7u;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + size);
        if (c == NULL)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->size = size;
        a->head = c;
        a->bytes += sizeof *c + size;
    }
    c->used += n;
    return c->data + c->used - n;
}

static const char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);

    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head != NULL) {
        struct arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    a->bytes = 0;
}

/* ---- names ----------------------------------------------------------------- */

static const char *const category_names[O3B_CAT_COUNT] = {"Default", "Allow", "Optimize"};
static const char *const area_names[O3B_AREA_COUNT] = {"Exchange", "SharePoint", "Skype",
                                                       "Common",   "MEM",        "Other"};

const char *o3b_category_name(enum o3b_category c)
{
    return (unsigned)c < O3B_CAT_COUNT ? category_names[c] : "?";
}

int o3b_category_parse(const char *s, enum o3b_category *out)
{
    for (int c = 0; c < O3B_CAT_COUNT; c++)
        if (strcasecmp(s, category_names[c]) == 0) {
            *out = (enum o3b_category)c;
            return 0;
        }
    return -1;
}

const char *o3b_area_name(enum o3b_area a)
{
    return (unsigned)a < O3B_AREA_COUNT ? area_names[a] : "?";
}

int o3b_area_parse(const char *s, enum o3b_area *out)
{
    for (int a = 0; a < O3B_AREA_OTHER; a++)
        if (strcasecmp(s, area_names[a]) == 0) {
            *out = (enum o3b_area)a;
            return 0;
        }
    *out = O3B_AREA_OTHER;
    return -1;
}

/* ---- builder --------------------------------------------------------------- */

struct building_set {
    struct o3b_set set;
    struct o3b_port_range tcp[O3B_PORT_RANGES_MAX];
    const char **urls, **ips;
    size_t cap_urls, cap_ips;
};

struct o3b_table_builder {
    struct arena arena;
    struct building_set *sets;
    size_t n_sets, cap_sets;
    size_t n_entries;
    o3b_index_builder *ix;
};

struct o3b_table {
    struct arena arena;
    struct o3b_set *sets;
    size_t n_sets;
    o3b_index *ix;
    struct o3b_table_meta meta;
    struct o3b_table_counts counts;
    uint64_t hash;
};

o3b_table_builder *o3b_table_builder_new(void)
{
    o3b_table_builder *b = calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    b->ix = o3b_index_builder_new();
    if (b->ix == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

static void free_building_sets(o3b_table_builder *b)
{
    for (size_t i = 0; i < b->n_sets; i++) {
        free(b->sets[i].urls);
        free(b->sets[i].ips);
    }
    free(b->sets);
    b->sets = NULL;
    b->n_sets = 0;
}

void o3b_table_builder_free(o3b_table_builder **b)
{
    if (b == NULL || *b == NULL)
        return;
    free_building_sets(*b);
    o3b_index_builder_free(&(*b)->ix);
    arena_free(&(*b)->arena);
    free(*b);
    *b = NULL;
}

static const char *dup_or_empty(o3b_table_builder *b, const char *s)
{
    return arena_strndup(&b->arena, s ? s : "", s ? strlen(s) : 0);
}

/* Service-area names end up in log lines and ICAP headers: letters, digits,
   ' ', '.', '_', '-' only, 1..64 characters, starting with a letter or digit. */
static bool plain_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 64 ||
        !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_set_spec(const o3b_table_builder *b, const struct o3b_set_spec *spec,
                          enum o3b_category *cat, o3b_err *err)
{
    if (spec->id <= 0 || spec->id > 0x7fffffffLL) {
        o3b_err_set(err, "id %lld is not a positive 32-bit integer", spec->id);
        return -1;
    }
    for (size_t i = 0; i < b->n_sets; i++)
        if (b->sets[i].set.id == (uint32_t)spec->id) {
            o3b_err_set(err, "id %lld appears twice", spec->id);
            return -1;
        }
    if (!plain_name(spec->service_area)) {
        o3b_err_set(err, "serviceArea '%.64s' is missing or not a plain name",
                    spec->service_area ? spec->service_area : "");
        return -1;
    }
    if (spec->category == NULL || o3b_category_parse(spec->category, cat) != 0 ||
        strcmp(spec->category, category_names[*cat]) != 0) {
        o3b_err_set(err, "category '%s' is not Optimize, Allow or Default",
                    spec->category ? spec->category : "(missing)");
        return -1;
    }
    if (b->n_sets >= O3B_MAX_SETS) {
        o3b_err_set(err, "more than %d endpoint sets", O3B_MAX_SETS);
        return -1;
    }
    return 0;
}

int o3b_table_builder_add_set(o3b_table_builder *b, const struct o3b_set_spec *spec, o3b_err *err)
{
    struct building_set *bs;
    enum o3b_category cat;
    enum o3b_area area;
    struct o3b_port_range udp[O3B_PORT_RANGES_MAX];
    size_t n_udp;

    if (check_set_spec(b, spec, &cat, err) != 0)
        return -1;
    if (b->n_sets == b->cap_sets) {
        size_t ncap = b->cap_sets ? b->cap_sets * 2 : 64;
        void *np = realloc(b->sets, ncap * sizeof *b->sets);
        if (np == NULL) {
            o3b_err_set(err, "out of memory");
            return -1;
        }
        b->sets = np;
        b->cap_sets = ncap;
    }
    bs = &b->sets[b->n_sets];
    memset(bs, 0, sizeof *bs);
    if (spec->tcp_ports != NULL &&
        o3b_ports_parse(spec->tcp_ports, strlen(spec->tcp_ports), bs->tcp, O3B_PORT_RANGES_MAX,
                        &bs->set.n_tcp, err) != 0) {
        o3b_err_prefix(err, "tcpPorts");
        return -1;
    }
    if (spec->udp_ports != NULL && o3b_ports_parse(spec->udp_ports, strlen(spec->udp_ports), udp,
                                                   O3B_PORT_RANGES_MAX, &n_udp, err) != 0) {
        o3b_err_prefix(err, "udpPorts");
        return -1;
    }
    o3b_area_parse(spec->service_area, &area);
    bs->set.id = (uint32_t)spec->id;
    bs->set.category = (uint8_t)cat;
    bs->set.area = (uint8_t)area;
    bs->set.required = spec->required;
    bs->set.express_route = spec->express_route;
    bs->set.area_name = dup_or_empty(b, spec->service_area);
    bs->set.area_display = dup_or_empty(b, spec->area_display);
    bs->set.tcp_ports_text = dup_or_empty(b, spec->tcp_ports);
    bs->set.udp_ports_text = dup_or_empty(b, spec->udp_ports);
    bs->set.notes = dup_or_empty(b, spec->notes);
    if (!bs->set.area_name || !bs->set.area_display || !bs->set.tcp_ports_text ||
        !bs->set.udp_ports_text || !bs->set.notes) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    b->n_sets++;
    return 0;
}

static int push_item(const char ***arr, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        void *np = realloc((void *)*arr, ncap * sizeof **arr);
        if (np == NULL)
            return -1;
        *arr = np;
        *cap = ncap;
    }
    (*arr)[(*n)++] = s;
    return 0;
}

static struct building_set *current_set(o3b_table_builder *b, size_t already, o3b_err *err)
{
    if (b->n_sets == 0) {
        o3b_err_set(err, "no endpoint set to add to");
        return NULL;
    }
    if (already >= O3B_MAX_ITEMS_PER_SET || b->n_entries >= O3B_MAX_ENTRIES) {
        o3b_err_set(err, "too many entries (at most %d per set, %d in all)", O3B_MAX_ITEMS_PER_SET,
                    O3B_MAX_ENTRIES);
        return NULL;
    }
    return &b->sets[b->n_sets - 1];
}

int o3b_table_builder_add_url(o3b_table_builder *b, const char *url, size_t len, o3b_err *err)
{
    struct building_set *bs =
        current_set(b, b->n_sets ? b->sets[b->n_sets - 1].set.n_urls : 0, err);
    char norm[O3B_HOST_MAX + 1];
    size_t nlen;
    const char *copy;

    if (bs == NULL || o3b_pattern_normalize(url, len, norm, &nlen, err) != 0)
        return -1;
    for (size_t i = 0; i < bs->set.n_urls; i++)
        if (strcmp(bs->urls[i], norm) == 0)
            return 0; /* listed twice in one set: harmless, keep one */
    copy = arena_strndup(&b->arena, norm, nlen);
    if (copy == NULL || push_item(&bs->urls, &bs->set.n_urls, &bs->cap_urls, copy) != 0) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    b->n_entries++;
    return o3b_index_builder_add_pattern(b->ix, copy, nlen, (uint32_t)(b->n_sets - 1),
                                         bs->set.category, bs->tcp, bs->set.n_tcp, err);
}

int o3b_table_builder_add_ip(o3b_table_builder *b, const char *cidr, size_t len, o3b_err *err)
{
    struct building_set *bs = current_set(b, b->n_sets ? b->sets[b->n_sets - 1].set.n_ips : 0, err);
    struct o3b_cidr c;
    char text[64];
    const char *copy;

    if (bs == NULL || o3b_cidr_parse(cidr, len, &c, NULL, err) != 0)
        return -1;
    o3b_cidr_format(&c, text, sizeof text);
    for (size_t i = 0; i < bs->set.n_ips; i++)
        if (strcmp(bs->ips[i], text) == 0)
            return 0;
    copy = arena_strndup(&b->arena, text, strlen(text));
    if (copy == NULL || push_item(&bs->ips, &bs->set.n_ips, &bs->cap_ips, copy) != 0) {
        o3b_err_set(err, "out of memory");
        return -1;
    }
    b->n_entries++;
    return o3b_index_builder_add_cidr(b->ix, &c, (uint32_t)(b->n_sets - 1), bs->set.category,
                                      bs->tcp, bs->set.n_tcp, err);
}

/* ---- finish -------------------------------------------------------------------- */

uint64_t o3b_fnv1a64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    return o3b_fnv1a64(s, strlen(s) + 1, h); /* the NUL separates fields */
}

/* Content hash over everything that can change a decision or a report. */
static uint64_t hash_sets(const struct o3b_set *sets, size_t n)
{
    uint64_t h = O3B_FNV64_SEED;

    for (size_t i = 0; i < n; i++) {
        const struct o3b_set *s = &sets[i];
        char head[96];

        snprintf(head, sizeof head, "%u|%u|%u|%d|%d", s->id, s->category, s->area, s->required,
                 s->express_route);
        h = hash_str(h, head);
        h = hash_str(h, s->area_name);
        h = hash_str(h, s->tcp_ports_text);
        h = hash_str(h, s->udp_ports_text);
        h = hash_str(h, s->notes);
        for (size_t k = 0; k < s->n_urls; k++)
            h = hash_str(h, s->urls[k]);
        h = hash_str(h, "|ips");
        for (size_t k = 0; k < s->n_ips; k++)
            h = hash_str(h, s->ips[k]);
    }
    return h;
}

static void count_table(o3b_table *t)
{
    struct o3b_table_counts *c = &t->counts;

    memset(c, 0, sizeof *c);
    c->sets = t->n_sets;
    for (size_t i = 0; i < t->n_sets; i++) {
        const struct o3b_set *s = &t->sets[i];
        c->sets_by_category[s->category]++;
        c->sets_by_area[s->area]++;
        c->urls += s->n_urls;
        for (size_t k = 0; k < s->n_urls; k++)
            *(strchr(s->urls[k], '*') ? &c->wildcards : &c->exact) += 1;
        for (size_t k = 0; k < s->n_ips; k++)
            *(strchr(s->ips[k], ':') ? &c->ipv6 : &c->ipv4) += 1;
    }
    c->entries = c->urls + c->ipv4 + c->ipv6;
}

/* Move the building sets into the arena as final o3b_set records. */
static int freeze_sets(o3b_table_builder *b, o3b_table *t)
{
    t->sets = arena_alloc(&b->arena, (b->n_sets ? b->n_sets : 1) * sizeof *t->sets);
    if (t->sets == NULL)
        return -1;
    for (size_t i = 0; i < b->n_sets; i++) {
        struct building_set *bs = &b->sets[i];
        struct o3b_set *s = &t->sets[i];
        struct o3b_port_range *tcp = arena_alloc(&b->arena, (bs->set.n_tcp + 1) * sizeof *tcp);
        const char **urls = arena_alloc(&b->arena, (bs->set.n_urls + 1) * sizeof *urls);
        const char **ips = arena_alloc(&b->arena, (bs->set.n_ips + 1) * sizeof *ips);

        if (tcp == NULL || urls == NULL || ips == NULL)
            return -1;
        *s = bs->set;
        memcpy(tcp, bs->tcp, bs->set.n_tcp * sizeof *tcp);
        if (bs->set.n_urls)
            memcpy(urls, bs->urls, bs->set.n_urls * sizeof *urls);
        if (bs->set.n_ips)
            memcpy(ips, bs->ips, bs->set.n_ips * sizeof *ips);
        s->tcp = tcp;
        s->urls = urls;
        s->ips = ips;
    }
    t->n_sets = b->n_sets;
    return 0;
}

o3b_table *o3b_table_builder_finish(o3b_table_builder **bp, const struct o3b_table_meta *meta,
                                    bool allow_empty, o3b_err *err)
{
    o3b_table_builder *b = *bp;
    o3b_table *t;

    *bp = NULL;
    if (b == NULL) {
        o3b_err_set(err, "no table builder");
        return NULL;
    }
    if (b->n_sets == 0 && !allow_empty) {
        o3b_err_set(err, "the table holds no endpoint set");
        o3b_table_builder_free(&b);
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL || freeze_sets(b, t) != 0) {
        o3b_err_set(err, "out of memory");
        free(t);
        o3b_table_builder_free(&b);
        return NULL;
    }
    t->ix = o3b_index_builder_finish(&b->ix, err);
    if (t->ix == NULL) {
        free(t);
        o3b_table_builder_free(&b);
        return NULL;
    }
    t->arena = b->arena; /* the table takes the arena over */
    b->arena.head = NULL;
    if (meta != NULL)
        t->meta = *meta;
    t->meta.source[sizeof t->meta.source - 1] = '\0';
    t->meta.instance[sizeof t->meta.instance - 1] = '\0';
    t->meta.version[sizeof t->meta.version - 1] = '\0';
    t->hash = hash_sets(t->sets, t->n_sets);
    count_table(t);
    o3b_table_builder_free(&b);
    return t;
}

o3b_table *o3b_table_new_empty(const struct o3b_table_meta *meta)
{
    o3b_table_builder *b = o3b_table_builder_new();

    if (b == NULL)
        return NULL;
    return o3b_table_builder_finish(&b, meta, true, NULL);
}

void o3b_table_free(o3b_table **t)
{
    if (t == NULL || *t == NULL)
        return;
    o3b_index_free(&(*t)->ix);
    arena_free(&(*t)->arena);
    free(*t);
    *t = NULL;
}

/* ---- readers ------------------------------------------------------------------- */

size_t o3b_table_set_count(const o3b_table *t)
{
    return t->n_sets;
}

const struct o3b_set *o3b_table_set(const o3b_table *t, size_t i)
{
    return i < t->n_sets ? &t->sets[i] : NULL;
}

const struct o3b_set *o3b_table_find_set(const o3b_table *t, uint32_t id)
{
    for (size_t i = 0; i < t->n_sets; i++)
        if (t->sets[i].id == id)
            return &t->sets[i];
    return NULL;
}

const struct o3b_table_meta *o3b_table_meta(const o3b_table *t)
{
    return &t->meta;
}

const o3b_index *o3b_table_index(const o3b_table *t)
{
    return t->ix;
}

void o3b_table_get_counts(const o3b_table *t, struct o3b_table_counts *c)
{
    *c = t->counts;
}

uint64_t o3b_table_hash(const o3b_table *t)
{
    return t->hash;
}

size_t o3b_table_memory(const o3b_table *t)
{
    return sizeof *t + t->arena.bytes + o3b_index_memory(t->ix);
}

char *o3b_table_tag(const o3b_table *t, char *buf, size_t size)
{
    const char *v = t->meta.version[0] ? t->meta.version : t->n_sets ? "seed" : "empty";

    snprintf(buf, size, "%.17s-%08x", v, (unsigned)(t->hash ^ (t->hash >> 32)));
    return buf;
}
