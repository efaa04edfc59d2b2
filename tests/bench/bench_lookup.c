/* SPDX-License-Identifier: MIT */
/*
 * bench_lookup.c - micro-benchmark of the hot path: host and address lookups
 * against the real Worldwide table, next to a naive baseline and a floor.
 *
 * Measured, single thread, on a fixed pseudo-random mix of a few thousand
 * lowercase hosts (hits of every pattern shape, Default hits, popular and
 * deep non-Microsoft names, look-alikes such as sharepoint.com.evil.example):
 *   (A)  o3b_index_lookup_host(), port 443 - the module's lookup;
 *   (A2) what the service does per request minus c-icap: o3b_target_parse()
 *        of "GET http://HOST/ HTTP/1.1" plus its Host header, snapshot
 *        acquire, o3b_decide(), o3b_decision_format() into a stack buffer,
 *        release;
 *   (B)  the naive baseline simple scripts use: fnmatch(3) of the host
 *        against every URL pattern of the table, keeping the best by the
 *        same precedence (checked once to give exactly the answers of A);
 *   (C)  the floor of any hash-based matcher: one FNV-1a pass over the host
 *        and one probe of an open-addressing hash of the exact hosts;
 *   (D)  o3b_index_lookup_addr() on IP literals inside and outside the
 *        published prefixes, and (D') a linear scan of every prefix.
 * Each figure is the median of 7 runs of at least 0.5 s of the thread's CPU
 * time (time spent descheduled on a shared machine is not counted); the runs
 * are interleaved (A, A2, B, C, D, D', A, A2, ...) so a slow moment of the
 * machine hits every measurement alike.  (C) is not inlined into its loop,
 * as (A) is a call into the library.  The goals are reported PASS/MISS
 * and never change the exit status: 0 unless the benchmark could not run
 * or A and B disagreed.
 *
 * usage: bench_lookup [--quick | --profile PASSES] [WORLDWIDE.json]
 *   --quick            3 runs of 0.05 s: a smoke test, not a measurement
 *   --profile PASSES   only PASSES untimed passes of (A), for callgrind/perf
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/index.h"
#include "o365bypass/loader.h"
#include "o365bypass/policy.h"
#include "o365bypass/snapshot.h"
#include "o365bypass/table.h"
#include "o365bypass/target.h"

#define TABLE_FILE "worldwide-2025-11-14.json"
#define PORT 443
#define MAX_RUNS 7
#define CLASS_RUNS 3
#define CLASS_SECONDS 0.25
#define MAX_ITEMS 1024 /* URLs, and prefixes, a table may have here */
#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

static volatile uint64_t g_sink; /* keeps every lookup's result alive */

/* ---- the host mix ------------------------------------------------------------ */

enum host_class {
    HC_EXACT = 0,
    HC_SUFFIX_ONE,
    HC_SUFFIX_DEEP,
    HC_GLOB,
    HC_POPULAR,
    HC_DEEP,
    HC_LOOKALIKE,
    HC_COUNT
};

static const char *const class_names[HC_COUNT] = {
    "exact hosts", "*.suffix, 1 label below", "*.suffix, 2-5 labels below",
    "other globs", "popular non-Microsoft",   "deep non-Microsoft",
    "look-alikes",
};

/* How many hosts of each class the mix holds. */
static const size_t class_sizes[HC_COUNT] = {900, 600, 400, 150, 900, 350, 300};

// clang-format off
static const char *const popular_hosts[] = {
    "www.google.com", "google.com", "accounts.google.com", "mail.google.com",
    "www.gstatic.com", "fonts.googleapis.com", "fonts.gstatic.com", "ajax.googleapis.com",
    "storage.googleapis.com", "www.googletagmanager.com", "www.google-analytics.com",
    "stats.g.doubleclick.net", "securepubads.g.doubleclick.net",
    "pagead2.googlesyndication.com", "www.youtube.com", "i.ytimg.com", "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com", "unpkg.com", "github.com", "api.github.com",
    "raw.githubusercontent.com", "objects.githubusercontent.com", "registry.npmjs.org",
    "pypi.org", "files.pythonhosted.org", "deb.debian.org", "security.debian.org",
    "archive.ubuntu.com", "www.facebook.com", "connect.facebook.net", "static.xx.fbcdn.net",
    "www.instagram.com", "twitter.com", "abs.twimg.com", "www.linkedin.com",
    "static.licdn.com", "media.licdn.com", "www.amazon.com", "s3.amazonaws.com",
    "images-na.ssl-images-amazon.com", "d1.awsstatic.com", "console.aws.amazon.com",
    "en.wikipedia.org", "upload.wikimedia.org", "www.reddit.com", "www.redditstatic.com",
    "www.netflix.com", "slack.com", "app.slack.com", "zoom.us", "us02web.zoom.us",
    "www.apple.com", "itunes.apple.com", "www.icloud.com", "www.dropbox.com",
    "login.salesforce.com", "www.paypal.com", "cdn.shopify.com", "www.bbc.co.uk",
    "www.nytimes.com", "news.ycombinator.com", "ocsp.pki.goog", "ocsp.sectigo.com",
    "r3.o.lencr.org", "x1.c.lencr.org", "www.yahoo.com", "duckduckgo.com",
};
// clang-format on

static const char *const deep_bases[] = {
    "example.co.uk",   "cloudfront.net", "akamaiedge.net", "compute.amazonaws.com",
    "googlevideo.com", "fastly.net",     "edgekey.net",    "internal.corp.example",
};

static const char *const words[] = {
    "contoso", "fabrikam", "northwind", "tailspin", "adatum",     "litware",  "wingtip", "eu",
    "us",      "emea",     "apac",      "prod",     "cdn",        "static",   "api",     "web",
    "m",       "a1",       "b2-c3",     "eus-01",   "westeurope", "tenant42", "x",
};

/* Fills for the '*' of the other glob shapes (invalid results are skipped). */
static const char *const glob_fills[] = {
    "contoso", "eu.contoso", "", "prod", "a.b", "tenant-7", "x1-y2.z",
};

struct mix_host {
    const char *name; /* normalized, NUL-terminated */
    const char *line; /* "GET http://NAME/ HTTP/1.1" */
    uint16_t len;
    uint8_t cls; /* enum host_class */
};

struct mix {
    char *text; /* names and request lines, NUL-separated */
    size_t text_len, text_cap;
    size_t *name_off, *line_off;
    struct mix_host *hosts;
    size_t n, cap;
};

static uint64_t g_rng = 0x9e3779b97f4a7c15ull; /* fixed: the same mix every run */

static uint64_t rng_next(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

static void *xrealloc(void *p, size_t size)
{
    void *np = realloc(p, size);

    if (np == NULL) {
        fprintf(stderr, "bench_lookup: out of memory\n");
        exit(EXIT_FAILURE);
    }
    return np;
}

static size_t mix_store(struct mix *m, const char *s, size_t len)
{
    size_t off = m->text_len;

    if (m->text_len + len + 1 > m->text_cap) {
        m->text_cap = (m->text_cap ? m->text_cap * 2 : 65536) + len + 1;
        m->text = xrealloc(m->text, m->text_cap);
    }
    memcpy(m->text + off, s, len);
    m->text[off + len] = '\0';
    m->text_len += len + 1;
    return off;
}

/* Add a host if it is a valid normalized name; returns 0 or -1 (skipped). */
static int mix_add(struct mix *m, enum host_class cls, const char *host)
{
    char norm[O3B_HOST_MAX + 1], line[O3B_HOST_MAX + 64];
    size_t len = strlen(host), nlen;

    if (o3b_host_normalize(host, len, norm, &nlen) != O3B_HOST_OK || nlen != len ||
        memcmp(norm, host, len) != 0)
        return -1;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->hosts = xrealloc(m->hosts, m->cap * sizeof *m->hosts);
        m->name_off = xrealloc(m->name_off, m->cap * sizeof *m->name_off);
        m->line_off = xrealloc(m->line_off, m->cap * sizeof *m->line_off);
    }
    snprintf(line, sizeof line, "GET http://%s/ HTTP/1.1", host);
    m->name_off[m->n] = mix_store(m, host, len);
    m->line_off[m->n] = mix_store(m, line, strlen(line));
    m->hosts[m->n].len = (uint16_t)len;
    m->hosts[m->n].cls = (uint8_t)cls;
    m->n++;
    return 0;
}

/* The table's patterns of one kind, as pointers into the index. */
static size_t entries_of_kind(const o3b_index *ix, enum o3b_entry_kind kind, const char **out,
                              size_t max)
{
    size_t n_entries, n = 0;
    const struct o3b_index_entry *e = o3b_index_entries(ix, &n_entries);

    for (size_t i = 0; i < n_entries && n < max; i++)
        if (e[i].kind == kind)
            out[n++] = e[i].text;
    return n;
}

static const char *random_word(void)
{
    return words[rng_below(sizeof words / sizeof words[0])];
}

/* Random lowercase/digit label of 1..max characters. */
static void random_label(char *buf, size_t max)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 1 + rng_below(max);

    for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[rng_below(sizeof alphabet - 1)];
    buf[n] = '\0';
}

/* "<w1>.<w2>...<suffix>" with `labels` random labels in front of `suffix`. */
static void below(char *buf, size_t size, unsigned labels, const char *suffix)
{
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < labels && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s.", random_word());
    if (used < size)
        snprintf(buf + used, size - used, "%s", suffix);
}

/* Replace every '*' of `pat` with `fill`. */
static void fill_glob(char *buf, size_t size, const char *pat, const char *fill)
{
    size_t used = 0;

    for (const char *p = pat; *p && used + 1 < size; p++) {
        if (*p == '*')
            used += (size_t)snprintf(buf + used, size - used, "%s", fill);
        else
            buf[used++] = *p;
        if (used >= size)
            used = size - 1;
    }
    buf[used] = '\0';
}

/* The literal part a look-alike imitates: after the last '*', no leading dot. */
static const char *imitated(const char *pat)
{
    const char *star = strrchr(pat, '*');

    if (star == NULL)
        return pat;
    star++;
    return *star == '.' ? star + 1 : star;
}

static void gen_lookalike(char *buf, size_t size, const char *lit)
{
    switch (rng_below(5)) {
    case 0:
        snprintf(buf, size, "%s.evil.example", lit);
        break;
    case 1:
        snprintf(buf, size, "evil%s", lit);
        break;
    case 2:
        snprintf(buf, size, "%s-evil.net", lit);
        break;
    case 3:
        snprintf(buf, size, "%s", lit); /* the apex of a "*." pattern */
        break;
    default:
        snprintf(buf, size, "%sm", lit);
        break;
    }
}

static void gen_deep(char *buf, size_t size)
{
    unsigned labels = 3 + (unsigned)rng_below(8);
    size_t used = 0;
    char label[32];

    for (unsigned i = 0; i < labels && used < size; i++) {
        random_label(label, 20);
        used += (size_t)snprintf(buf + used, size - used, "%s.", label);
    }
    if (used < size)
        snprintf(buf + used, size - used, "%s", deep_bases[rng_below(8)]);
}

struct patterns {
    const char *exact[MAX_ITEMS], *suffix[MAX_ITEMS], *glob[MAX_ITEMS], *all[3 * MAX_ITEMS];
    size_t n_exact, n_suffix, n_glob, n_all;
};

/* One candidate host of a class (may be invalid: the caller retries). */
static void gen_host(const struct patterns *p, enum host_class cls, char *buf, size_t size)
{
    switch (cls) {
    case HC_EXACT:
        snprintf(buf, size, "%s", p->exact[rng_below(p->n_exact)]);
        break;
    case HC_SUFFIX_ONE:
        below(buf, size, 1, p->suffix[rng_below(p->n_suffix)] + 2);
        break;
    case HC_SUFFIX_DEEP:
        below(buf, size, 2 + (unsigned)rng_below(4), p->suffix[rng_below(p->n_suffix)] + 2);
        break;
    case HC_GLOB:
        fill_glob(buf, size, p->glob[rng_below(p->n_glob)],
                  glob_fills[rng_below(sizeof glob_fills / sizeof glob_fills[0])]);
        break;
    case HC_POPULAR:
        snprintf(buf, size, "%s",
                 popular_hosts[rng_below(sizeof popular_hosts / sizeof popular_hosts[0])]);
        break;
    case HC_DEEP:
        gen_deep(buf, size);
        break;
    default:
        gen_lookalike(buf, size, imitated(p->all[rng_below(p->n_all)]));
        break;
    }
}

static void shuffle(struct mix *m)
{
    for (size_t i = m->n; i > 1; i--) {
        size_t j = rng_below(i);
        struct mix_host th = m->hosts[i - 1];
        size_t tn = m->name_off[i - 1], tl = m->line_off[i - 1];

        m->hosts[i - 1] = m->hosts[j];
        m->name_off[i - 1] = m->name_off[j];
        m->line_off[i - 1] = m->line_off[j];
        m->hosts[j] = th;
        m->name_off[j] = tn;
        m->line_off[j] = tl;
    }
}

static int build_mix(const o3b_index *ix, struct mix *m)
{
    static struct patterns p;
    static const char *const fixed_lookalikes[] = {
        "sharepoint.com.evil.example", "evilsharepoint.com",
        "outlook.office.com.evil",     "login.microsoftonline.com.attacker.net",
        "cdn.onenote.net.evil.com",
    };
    char buf[512];

    p.n_exact = entries_of_kind(ix, O3B_ENTRY_EXACT, p.exact, MAX_ITEMS);
    p.n_suffix = entries_of_kind(ix, O3B_ENTRY_SUFFIX, p.suffix, MAX_ITEMS);
    p.n_glob = entries_of_kind(ix, O3B_ENTRY_GLOB, p.glob, MAX_ITEMS);
    if (p.n_exact == 0 || p.n_suffix == 0)
        return -1;
    memcpy(p.all, p.exact, p.n_exact * sizeof p.all[0]);
    memcpy(p.all + p.n_exact, p.suffix, p.n_suffix * sizeof p.all[0]);
    memcpy(p.all + p.n_exact + p.n_suffix, p.glob, p.n_glob * sizeof p.all[0]);
    p.n_all = p.n_exact + p.n_suffix + p.n_glob;
    for (size_t i = 0; i < sizeof fixed_lookalikes / sizeof fixed_lookalikes[0]; i++)
        if (mix_add(m, HC_LOOKALIKE, fixed_lookalikes[i]) != 0)
            return -1;
    for (int cls = 0; cls < HC_COUNT; cls++) {
        size_t made = cls == HC_LOOKALIKE ? 5 : 0;
        if (cls == HC_GLOB && p.n_glob == 0)
            continue; /* a table without other glob shapes (e.g. China) */
        for (size_t tries = 0; made < class_sizes[cls] && tries < 100 * class_sizes[cls]; tries++) {
            gen_host(&p, (enum host_class)cls, buf, sizeof buf);
            made += mix_add(m, (enum host_class)cls, buf) == 0;
        }
        if (made < class_sizes[cls])
            return -1;
    }
    shuffle(m);
    for (size_t i = 0; i < m->n; i++) {
        m->hosts[i].name = m->text + m->name_off[i];
        m->hosts[i].line = m->text + m->line_off[i];
    }
    return 0;
}

/* ---- the address mix --------------------------------------------------------- */

struct mix_addr {
    uint8_t family;
    uint8_t inside; /* generated inside a published prefix */
    uint8_t addr[16];
};

// clang-format off
static const char *const outside_addrs[] = {
    "8.8.8.8", "1.1.1.1", "140.82.112.3", "151.101.1.69", "142.250.185.78",
    "52.95.255.255", "40.95.255.255", "52.104.0.1", "2001:4860:4860::8888",
    "2606:4700:4700::1111", "2603:1005:ffff::1", "2a00:1450:4001:80b::200e",
};
// clang-format on

/* An address inside `c`: its network with random host bits. */
static void random_inside(const struct o3b_cidr *c, uint8_t out[16])
{
    unsigned bits = c->family == O3B_AF_INET ? 32 : 128;

    memcpy(out, c->addr, 16);
    for (unsigned b = c->prefix; b < bits; b++)
        if (rng_next() & 1)
            out[b / 8] |= (uint8_t)(0x80u >> (b % 8));
}

static void random_outside(struct mix_addr *a)
{
    memset(a, 0, sizeof *a);
    if (rng_below(4) != 0) {
        a->family = O3B_AF_INET;
        for (int i = 0; i < 4; i++)
            a->addr[i] = (uint8_t)rng_next();
        a->addr[0] = (uint8_t)(1 + rng_below(223));
    } else {
        a->family = O3B_AF_INET6;
        for (int i = 0; i < 16; i++)
            a->addr[i] = (uint8_t)rng_next();
        a->addr[0] = (uint8_t)(0x20 | (a->addr[0] & 0x1f)); /* 2000::/3 */
    }
}

static size_t build_addr_mix(const o3b_table *t, struct mix_addr *out, size_t max)
{
    size_t n = 0;

    for (size_t s = 0; s < o3b_table_set_count(t); s++) {
        const struct o3b_set *set = o3b_table_set(t, s);
        for (size_t k = 0; k < set->n_ips; k++) {
            struct o3b_cidr c;
            if (o3b_cidr_parse(set->ips[k], strlen(set->ips[k]), &c, NULL, NULL) != 0)
                continue;
            for (int r = 0; r < 4 && n < max; r++, n++) {
                out[n].family = c.family;
                out[n].inside = 1;
                random_inside(&c, out[n].addr);
            }
        }
    }
    for (size_t i = 0; i < sizeof outside_addrs / sizeof outside_addrs[0] && n < max; i++) {
        const char *s = outside_addrs[i];
        memset(&out[n], 0, sizeof out[n]);
        out[n].family = strchr(s, ':') ? O3B_AF_INET6 : O3B_AF_INET;
        if ((out[n].family == O3B_AF_INET ? o3b_ipv4_parse(s, strlen(s), out[n].addr)
                                          : o3b_ipv6_parse(s, strlen(s), out[n].addr)) == 0)
            n++;
    }
    for (size_t i = 0; i < 400 && n < max; i++)
        random_outside(&out[n++]);
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(i);
        struct mix_addr tmp = out[i - 1];
        out[i - 1] = out[j];
        out[j] = tmp;
    }
    return n;
}

/* ---- (B) the naive baseline: fnmatch over every pattern ------------------------ */

/* One URL or prefix of the table, as a script would keep it. */
struct naive_item {
    const char *text;
    const struct o3b_port_range *tcp;
    size_t n_tcp;
    struct o3b_cidr cidr;
    uint32_t set;  /* index of the set in the table */
    uint16_t spec; /* O3B_SPEC_EXACT, literal characters or prefix length */
    uint8_t rank;  /* the category */
};

/* The same precedence as index.h (port first), written for a linear scan in
   table order: the best entry listing the port, and apart from the port the
   first entry of the most specific level for "listed". */
struct naive_level {
    long best, first;
    unsigned spec, candidates, top, top_candidates;
    bool any;
};

struct naive_hit {
    const struct naive_item *best, *listed;
    unsigned candidates;
};

static bool naive_ports(const struct naive_item *it, uint16_t port)
{
    for (size_t i = 0; i < it->n_tcp; i++)
        if (port >= it->tcp[i].lo && port <= it->tcp[i].hi)
            return true;
    return false;
}

static void naive_consider(struct naive_level *lv, const struct naive_item *items, long k,
                           uint16_t port)
{
    const struct naive_item *it = &items[k];

    if (!lv->any || it->spec > lv->top) {
        lv->any = true;
        lv->top = it->spec;
        lv->first = k; /* the scan runs in table order: the first seen is first */
        lv->top_candidates = 1;
    } else if (it->spec == lv->top) {
        lv->top_candidates++;
    }
    if (!naive_ports(it, port) || (lv->best >= 0 && it->spec < lv->spec))
        return;
    if (lv->best < 0 || it->spec > lv->spec) {
        lv->best = k;
        lv->spec = it->spec;
        lv->candidates = 1;
    } else {
        lv->candidates++;
        if (it->rank > items[lv->best].rank)
            lv->best = k;
    }
}

static void naive_finish(const struct naive_level *lv, const struct naive_item *items,
                         struct naive_hit *hit)
{
    hit->best = lv->best >= 0 ? &items[lv->best] : NULL;
    hit->listed = lv->any && lv->best < 0 ? &items[lv->first] : NULL;
    hit->candidates = lv->best >= 0 ? lv->candidates : lv->any ? lv->top_candidates : 0;
}

static void naive_lookup_host(const struct naive_item *items, size_t n, const char *host,
                              uint16_t port, struct naive_hit *hit)
{
    struct naive_level lv = {-1, -1, 0, 0, 0, 0, false};

    for (size_t k = 0; k < n; k++)
        if (fnmatch(items[k].text, host, 0) == 0)
            naive_consider(&lv, items, (long)k, port);
    naive_finish(&lv, items, hit);
}

static void naive_lookup_addr(const struct naive_item *items, size_t n, uint8_t family,
                              const uint8_t *addr, uint16_t port, struct naive_hit *hit)
{
    struct naive_level lv = {-1, -1, 0, 0, 0, 0, false};

    for (size_t k = 0; k < n; k++)
        if (o3b_cidr_contains(&items[k].cidr, family, addr))
            naive_consider(&lv, items, (long)k, port);
    naive_finish(&lv, items, hit);
}

/* Every URL (urls != 0) or every prefix of the table, in table order. */
static size_t naive_items(const o3b_table *t, bool urls, struct naive_item *out, size_t max)
{
    size_t n = 0;

    for (size_t s = 0; s < o3b_table_set_count(t); s++) {
        const struct o3b_set *set = o3b_table_set(t, s);
        size_t count = urls ? set->n_urls : set->n_ips;
        for (size_t k = 0; k < count && n < max; k++, n++) {
            const char *text = urls ? set->urls[k] : set->ips[k];
            memset(&out[n], 0, sizeof out[n]);
            out[n].text = text;
            out[n].tcp = set->tcp;
            out[n].n_tcp = set->n_tcp;
            out[n].set = (uint32_t)s;
            out[n].rank = set->category;
            if (urls) {
                size_t stars = o3b_pattern_stars(text, strlen(text));
                out[n].spec = stars ? (uint16_t)(strlen(text) - stars) : O3B_SPEC_EXACT;
            } else if (o3b_cidr_parse(text, strlen(text), &out[n].cidr, NULL, NULL) == 0) {
                out[n].spec = out[n].cidr.prefix;
            }
        }
    }
    return n;
}

/* ---- (C) the floor: one hash of the host, one probe ----------------------------- */

struct floor_slot {
    const char *key; /* NULL: empty */
    uint32_t hash;
    uint16_t len;
};

struct floor_table {
    struct floor_slot *slots;
    uint32_t mask;
};

/* FNV-1a right to left, exactly as the index hashes a host. */
static inline uint32_t floor_hash(const char *s, size_t len)
{
    uint32_t h = FNV32_OFFSET;

    while (len > 0)
        h = (h ^ (unsigned char)s[--len]) * FNV32_PRIME;
    return h;
}

/* Not inlined: the index's lookup is a call into the library too. */
static NOINLINE const struct floor_slot *floor_lookup(const struct floor_table *f, const char *host,
                                                      size_t len)
{
    uint32_t h = floor_hash(host, len);

    for (uint32_t i = h & f->mask;; i = (i + 1) & f->mask) {
        const struct floor_slot *s = &f->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, host, len) == 0)
            return s;
    }
}

/* The table's exact hosts, sized like the index's tables (>= 2n+1 slots). */
static void floor_build(const o3b_index *ix, struct floor_table *f)
{
    size_t n_entries, n_exact = 0;
    const struct o3b_index_entry *e = o3b_index_entries(ix, &n_entries);
    uint32_t size = 8;

    for (size_t i = 0; i < n_entries; i++)
        n_exact += e[i].kind == O3B_ENTRY_EXACT;
    while (size < n_exact * 2 + 1)
        size *= 2;
    f->slots = calloc(size, sizeof *f->slots);
    if (f->slots == NULL)
        exit(EXIT_FAILURE);
    f->mask = size - 1;
    for (size_t i = 0; i < n_entries; i++) {
        uint32_t h, k;
        if (e[i].kind != O3B_ENTRY_EXACT || floor_lookup(f, e[i].text, e[i].text_len) != NULL)
            continue;
        h = floor_hash(e[i].text, e[i].text_len);
        for (k = h & f->mask; f->slots[k].key != NULL; k = (k + 1) & f->mask)
            ;
        f->slots[k] = (struct floor_slot){e[i].text, h, e[i].text_len};
    }
}

/* ---- the world every pass reads ------------------------------------------------ */

struct world {
    const o3b_table *table;
    const o3b_index *ix;
    struct o3b_snapshot *snap;
    struct o3b_policy policy;
    struct naive_item urls[MAX_ITEMS], cidrs[MAX_ITEMS];
    size_t n_urls, n_cidrs;
    struct floor_table floor;
    struct mix_addr addrs[2048];
    size_t n_addrs;
};

typedef uint64_t (*pass_fn)(const struct world *w, const struct mix_host *h, size_t n);

static uint64_t pass_index(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;
    struct o3b_hit hit;

    for (size_t i = 0; i < n; i++) {
        o3b_index_lookup_host(w->ix, h[i].name, h[i].len, PORT, &hit);
        sink += (uintptr_t)hit.best;
    }
    return sink;
}

static uint64_t pass_service(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;
    struct o3b_target target;
    struct o3b_decision d;
    char header[512];

    for (size_t i = 0; i < n; i++) {
        const char *host_value = h[i].name;
        size_t host_len = h[i].len;
        enum o3b_target_status st =
            o3b_target_parse(h[i].line, strlen(h[i].line), &host_value, &host_len, 1, &target);
        unsigned ticket;
        const o3b_table *t = o3b_snapshot_acquire(w->snap, &ticket);

        o3b_decide(t, &w->policy, &target, st, &d);
        sink += o3b_decision_format(&d, header, sizeof header);
        o3b_snapshot_release(w->snap, ticket);
    }
    return sink;
}

static uint64_t pass_naive(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;
    struct naive_hit hit;

    for (size_t i = 0; i < n; i++) {
        naive_lookup_host(w->urls, w->n_urls, h[i].name, PORT, &hit);
        sink += (uintptr_t)hit.best;
    }
    return sink;
}

static uint64_t pass_floor(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;

    for (size_t i = 0; i < n; i++)
        sink += (uintptr_t)floor_lookup(&w->floor, h[i].name, h[i].len);
    return sink;
}

/* The address passes ignore `h` and use w->addrs (n is w->n_addrs). */
static uint64_t pass_addr(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;
    struct o3b_hit hit;

    (void)h;
    for (size_t i = 0; i < n; i++) {
        o3b_index_lookup_addr(w->ix, w->addrs[i].family, w->addrs[i].addr, PORT, &hit);
        sink += (uintptr_t)hit.best;
    }
    return sink;
}

static uint64_t pass_addr_naive(const struct world *w, const struct mix_host *h, size_t n)
{
    uint64_t sink = 0;
    struct naive_hit hit;

    (void)h;
    for (size_t i = 0; i < n; i++) {
        naive_lookup_addr(w->cidrs, w->n_cidrs, w->addrs[i].family, w->addrs[i].addr, PORT, &hit);
        sink += (uintptr_t)hit.best;
    }
    return sink;
}

/* ---- checking that A and B agree ---------------------------------------------- */

static bool same_entry(const o3b_index *ix, const struct o3b_index_entry *e,
                       const struct naive_item *it)
{
    (void)ix;
    if (e == NULL || it == NULL)
        return e == NULL && it == NULL;
    return e->payload == it->set && strcmp(e->text, it->text) == 0;
}

static bool same_hit(const o3b_index *ix, const struct o3b_hit *a, const struct naive_hit *b)
{
    return same_entry(ix, a->best, b->best) && same_entry(ix, a->listed, b->listed) &&
           a->candidates == b->candidates;
}

static void describe(const char *what, const struct o3b_hit *a, const struct naive_hit *b)
{
    fprintf(stderr,
            "bench_lookup: index and naive scan disagree on %s:\n"
            "  index: best=%s listed=%s candidates=%u\n"
            "  naive: best=%s listed=%s candidates=%u\n",
            what, a->best ? a->best->text : "-", a->listed ? a->listed->text : "-", a->candidates,
            b->best ? b->best->text : "-", b->listed ? b->listed->text : "-", b->candidates);
}

/* Counts of answers per class: Optimize, Allow, Default, port-only, none. */
static int check_hosts(const struct world *w, const struct mix *m, size_t answers[HC_COUNT][5])
{
    memset(answers, 0, sizeof(size_t) * HC_COUNT * 5);
    for (size_t i = 0; i < m->n; i++) {
        struct o3b_hit a;
        struct naive_hit b;
        const struct mix_host *h = &m->hosts[i];

        o3b_index_lookup_host(w->ix, h->name, h->len, PORT, &a);
        naive_lookup_host(w->urls, w->n_urls, h->name, PORT, &b);
        if (!same_hit(w->ix, &a, &b)) {
            describe(h->name, &a, &b);
            return -1;
        }
        if (a.best != NULL)
            answers[h->cls][O3B_CAT_OPTIMIZE - a.best->rank]++;
        else
            answers[h->cls][a.listed ? 3 : 4]++;
    }
    return 0;
}

static int check_addrs(const struct world *w, size_t *inside_hits, size_t *outside_hits)
{
    *inside_hits = *outside_hits = 0;
    for (size_t i = 0; i < w->n_addrs; i++) {
        const struct mix_addr *ad = &w->addrs[i];
        struct o3b_hit a;
        struct naive_hit b;

        o3b_index_lookup_addr(w->ix, ad->family, ad->addr, PORT, &a);
        naive_lookup_addr(w->cidrs, w->n_cidrs, ad->family, ad->addr, PORT, &b);
        if (!same_hit(w->ix, &a, &b)) {
            char text[64];
            o3b_addr_format(ad->family, ad->addr, text, sizeof text);
            describe(text, &a, &b);
            return -1;
        }
        if (a.best != NULL || a.listed != NULL)
            *(ad->inside ? inside_hits : outside_hits) += 1;
    }
    return 0;
}

/* ---- measuring ------------------------------------------------------------------ */

struct measure {
    const char *label;
    pass_fn fn;
    const struct mix_host *hosts;
    size_t n;
    double rate[MAX_RUNS]; /* lookups per CPU second, one per run */
    double median, min, max;
    double share; /* lowest share of the wall clock the thread got */
    size_t batch; /* passes between two readings of the clock */
};

/* One run: batches of whole passes until `seconds` of CPU time went by. */
static void run_once(const struct world *w, struct measure *m, int run, double seconds)
{
    uint64_t sink = 0;
    size_t passes = 0;
    double c0 = bench_cpu_now(), w0 = bench_now(), cpu, share;

    do {
        for (size_t b = 0; b < m->batch; b++)
            sink += m->fn(w, m->hosts, m->n);
        passes += m->batch;
        cpu = bench_cpu_now() - c0;
    } while (cpu < seconds);
    g_sink += sink;
    m->rate[run] = (double)passes * (double)m->n / cpu;
    share = cpu / (bench_now() - w0);
    if (run == 0 || share < m->share)
        m->share = share;
}

/* Warm caches, predictors and the clock; size batches to ~2 ms so reading the
   clock (a system call for CPU time) costs nothing measurable. */
static void warm_up(const struct world *w, struct measure *m, double seconds)
{
    size_t passes = 0;
    double c0 = bench_cpu_now(), cpu;
    uint64_t sink = 0;

    do {
        sink += m->fn(w, m->hosts, m->n);
        passes++;
        cpu = bench_cpu_now() - c0;
    } while (cpu < seconds);
    g_sink += sink;
    m->batch = (size_t)(0.002 / (cpu / (double)passes));
    if (m->batch == 0)
        m->batch = 1;
}

/* Interleaved runs of every measurement, then their medians. */
static void run_all(const struct world *w, struct measure *ms, size_t n_ms, int runs,
                    double seconds)
{
    for (size_t k = 0; k < n_ms; k++)
        warm_up(w, &ms[k], seconds / 5);
    for (int r = 0; r < runs; r++)
        for (size_t k = 0; k < n_ms; k++)
            run_once(w, &ms[k], r, seconds);
    for (size_t k = 0; k < n_ms; k++)
        ms[k].median = bench_median(ms[k].rate, (size_t)runs, &ms[k].min, &ms[k].max);
}

static double spread(const struct measure *m)
{
    return (m->max - m->min) / m->median;
}

static void print_measure(const struct measure *m)
{
    printf("  %-50s %9.2f M %10.1f %7.1f%%\n", m->label, m->median / 1e6, 1e9 / m->median,
           100.0 * spread(m));
}

/* ---- output ------------------------------------------------------------------------ */

static void print_mix(const struct mix *m, size_t answers[HC_COUNT][5])
{
    size_t total[5] = {0};

    printf("\nhost mix: %zu lowercase hosts, shuffled; answers of (A) at port %d\n", m->n, PORT);
    printf("  %-28s %6s %9s %6s %8s %5s %5s\n", "class", "hosts", "Optimize", "Allow", "Default",
           "port", "none");
    for (int c = 0; c < HC_COUNT; c++) {
        size_t n = 0;
        for (int k = 0; k < 5; k++) {
            n += answers[c][k];
            total[k] += answers[c][k];
        }
        printf("  %-28s %6zu %9zu %6zu %8zu %5zu %5zu\n", class_names[c], n, answers[c][0],
               answers[c][1], answers[c][2], answers[c][3], answers[c][4]);
    }
    printf("  %-28s %6zu %9zu %6zu %8zu %5zu %5zu\n", "all", m->n, total[0], total[1], total[2],
           total[3], total[4]);
    printf("  (port: listed, but not for port %d; none: not listed)\n", PORT);
}

static void print_goals(const struct measure *a, const struct measure *b, const struct measure *c)
{
    double speedup = a->median / b->median, over_floor = c->median / a->median;

    printf("\n  %-40s %12s %12s %s\n", "goal", "measured", "goal", "result");
    printf("  %-40s %11.0fx %12s %s\n", "A vs B: speed-up over the naive scan", speedup, ">= 100x",
           bench_verdict(speedup >= 100.0));
    printf("  %-40s %12.2f %12s %s\n", "A / C: cost over the hash floor", over_floor, "<= 2.00",
           bench_verdict(over_floor <= 2.0));
    printf("  %-40s %10.2f M %12s %s\n", "A absolute, lookups/s", a->median / 1e6, ">= 20 M",
           bench_verdict(a->median >= 20e6));
    printf("  %-40s %10.2f M %12s %s\n", "A absolute, lookups/s (issue 2)", a->median / 1e6,
           ">= 5 M", bench_verdict(a->median >= 5e6));
}

static void print_noise(const struct measure *ms, size_t n, int runs)
{
    double worst = 0, share = 1.0;
    size_t who = 0;

    for (size_t k = 0; k < n; k++) {
        if (spread(&ms[k]) > worst) {
            worst = spread(&ms[k]);
            who = k;
        }
        if (ms[k].share < share)
            share = ms[k].share;
    }
    printf("\nmachine:   %s: largest spread (max-min)/median over %d runs %.1f%% (%.*s); "
           "the thread got >= %.0f%% of a CPU\n"
           "           (noisy: a spread above %.0f%% or under 90%% of a CPU; times are the "
           "thread's CPU time)\n",
           worst > BENCH_NOISY_SPREAD || share < 0.9 ? "NOISY, compare figures with care"
                                                     : "looked quiet",
           runs, 100.0 * worst, (int)strcspn(ms[who].label, ")") + 1, ms[who].label, 100.0 * share,
           100.0 * BENCH_NOISY_SPREAD);
}

/* Informational: (A) per host class, fewer and shorter runs. */
static void per_class(const struct world *w, const struct mix *m, double seconds)
{
    static struct mix_host by_class[HC_COUNT][4096];
    size_t n[HC_COUNT] = {0}, n_ms = 0;
    struct measure ms[HC_COUNT];

    for (size_t i = 0; i < m->n; i++)
        if (n[m->hosts[i].cls] < 4096)
            by_class[m->hosts[i].cls][n[m->hosts[i].cls]++] = m->hosts[i];
    memset(ms, 0, sizeof ms);
    for (int c = 0; c < HC_COUNT; c++) {
        if (n[c] == 0)
            continue; /* e.g. no other glob shapes in the table */
        ms[n_ms].label = class_names[c];
        ms[n_ms].fn = pass_index;
        ms[n_ms].hosts = by_class[c];
        ms[n_ms++].n = n[c];
    }
    run_all(w, ms, n_ms, CLASS_RUNS, seconds);
    printf("\n(A) by host class (informational: median of %d interleaved runs of >= %.2f s)\n",
           CLASS_RUNS, seconds);
    printf("  %-50s %11s %10s %8s\n", "class", "lookups/s", "ns/lookup", "spread");
    for (size_t k = 0; k < n_ms; k++)
        print_measure(&ms[k]);
}

/* ---- main ------------------------------------------------------------------------------ */

static int setup(struct world *w, const char *path, struct mix *m)
{
    o3b_err err;
    o3b_table *t = o3b_load_file(path, NULL, &err);

    if (t == NULL) {
        fprintf(stderr, "bench_lookup: %s: %s\n", path, err.msg);
        return -1;
    }
    o3b_snapshot_init(w->snap);
    if (o3b_snapshot_publish(w->snap, t, 1000) != 0)
        return -1;
    w->table = t; /* owned by the snapshot from now on */
    w->ix = o3b_table_index(t);
    o3b_policy_init(&w->policy);
    if (o3b_policy_finish(&w->policy, &err) != 0)
        return -1;
    w->n_urls = naive_items(t, true, w->urls, MAX_ITEMS);
    w->n_cidrs = naive_items(t, false, w->cidrs, MAX_ITEMS);
    if (w->n_urls == MAX_ITEMS || w->n_cidrs == MAX_ITEMS) {
        fprintf(stderr, "bench_lookup: %s: more than %d URLs or prefixes\n", path, MAX_ITEMS - 1);
        return -1;
    }
    floor_build(w->ix, &w->floor);
    w->n_addrs = build_addr_mix(t, w->addrs, 2048);
    if (build_mix(w->ix, m) != 0) {
        fprintf(stderr, "bench_lookup: could not build the host mix from %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct world w;
    static struct o3b_snapshot snap;
    struct mix m = {0};
    struct o3b_table_counts counts;
    size_t answers[HC_COUNT][5], inside_hits, outside_hits, n_inside = 0;
    char path[4096];
    double seconds = 0.5;
    int runs = MAX_RUNS, argi = 1;
    long profile_passes = 0;

    if (argi < argc && strcmp(argv[argi], "--quick") == 0) {
        seconds = 0.05;
        runs = 3;
        argi++;
    } else if (argi + 1 < argc && strcmp(argv[argi], "--profile") == 0) {
        profile_passes = strtol(argv[argi + 1], NULL, 10);
        argi += 2;
    }
    bench_data_path(argi < argc ? argv[argi] : NULL, TABLE_FILE, path, sizeof path);
    w.snap = &snap;
    if (setup(&w, path, &m) != 0)
        return EXIT_FAILURE;
    if (check_hosts(&w, &m, answers) != 0 || check_addrs(&w, &inside_hits, &outside_hits) != 0)
        return EXIT_FAILURE;
    for (size_t i = 0; i < w.n_addrs; i++)
        n_inside += w.addrs[i].inside;
    if (profile_passes > 0) { /* only (A), untimed: for callgrind or perf */
        for (long i = 0; i < profile_passes; i++)
            g_sink += pass_index(&w, m.hosts, m.n);
        return EXIT_SUCCESS;
    }

    o3b_table_get_counts(w.table, &counts);
    printf("bench_lookup: the hot path against a naive scan and a hash floor\n");
    printf("table:     %s: %zu sets, %zu URLs (%zu exact, %zu patterns), %zu+%zu prefixes\n", path,
           counts.sets, counts.urls, counts.exact, counts.wildcards, counts.ipv4, counts.ipv6);
    bench_print_machine();
    printf("method:    one thread; each figure is the median of %d runs of >= %.2f s of "
           "CPU time,\n           interleaved A A2 B C D D'\n",
           runs, seconds);
    if (runs != MAX_RUNS)
        printf("WARNING:   --quick: too few and too short runs to judge the goals\n");
    print_mix(&m, answers);
    printf("  check: (A) and (B) give the same winner, listed entry and candidate count "
           "for all %zu hosts\n",
           m.n);
    printf("\naddress mix: %zu IP literals, %zu inside published prefixes (%zu found), "
           "%zu outside (%zu found);\n  check: (D) and (D') agree on all of them\n",
           w.n_addrs, n_inside, inside_hits, w.n_addrs - n_inside, outside_hits);

#define MEASURE(label_, fn_, hosts_, n_)                                                           \
    {                                                                                              \
        .label = (label_), .fn = (fn_), .hosts = (hosts_), .n = (n_)                               \
    }
    struct measure ms[] = {
        MEASURE("(A)  o3b_index_lookup_host, port 443", pass_index, m.hosts, m.n),
        MEASURE("(A2) parse + acquire + decide + format + release", pass_service, m.hosts, m.n),
        MEASURE("(B)  naive: fnmatch(3) over every URL pattern", pass_naive, m.hosts, m.n),
        MEASURE("(C)  floor: one FNV-1a pass + one exact probe", pass_floor, m.hosts, m.n),
        MEASURE("(D)  o3b_index_lookup_addr, IP-literal mix", pass_addr, NULL, w.n_addrs),
        MEASURE("(D') naive: o3b_cidr_contains over every prefix", pass_addr_naive, NULL,
                w.n_addrs),
    };
#undef MEASURE
    size_t n_ms = sizeof ms / sizeof ms[0];

    fflush(stdout);
    run_all(&w, ms, n_ms, runs, seconds);
    printf("\n  %-50s %11s %10s %8s\n", "measurement", "lookups/s", "ns/lookup", "spread");
    for (size_t k = 0; k < n_ms; k++)
        print_measure(&ms[k]);
    printf("  (B scans %zu URL patterns per host; D' scans %zu prefixes per address)\n", w.n_urls,
           w.n_cidrs);
    print_goals(&ms[0], &ms[2], &ms[3]);
    print_noise(ms, n_ms, runs);
    fflush(stdout);
    per_class(&w, &m, runs == MAX_RUNS ? CLASS_SECONDS : seconds);

    o3b_policy_release(&w.policy);
    o3b_snapshot_destroy(&snap);
    free(w.floor.slots);
    free(m.text);
    free(m.hosts);
    free(m.name_off);
    free(m.line_off);
    return EXIT_SUCCESS;
}
