/* SPDX-License-Identifier: MIT */
/*
 * tablediff.c - set-by-set comparison of two tables (see tablediff.h).
 *
 * Tables hold at most a few thousand items per set, so a quadratic
 * membership test per set is simpler than sorting and is still instant on
 * real data (64 sets, ~330 items).
 */
#include "o365bypass/tablediff.h"

#include <stdio.h>
#include <string.h>

#include "o365bypass/ports.h"

struct ctx {
    struct o3b_diff_counts *c;
    o3b_diff_line_fn fn;
    void *ud;
};

static void emit(const struct ctx *x, const char *line)
{
    if (x->fn)
        x->fn(x->ud, line);
}

static size_t set_count(const o3b_table *t)
{
    return t ? o3b_table_set_count(t) : 0;
}

static const struct o3b_set *find(const o3b_table *t, uint32_t id)
{
    return t ? o3b_table_find_set(t, id) : NULL;
}

static int contains(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static void count_item(struct o3b_diff_counts *c, const char *item, int is_ip, int added)
{
    size_t *slot;

    if (is_ip)
        slot = added ? &c->cidrs_added : &c->cidrs_removed;
    else if (strchr(item, '*'))
        slot = added ? &c->patterns_added : &c->patterns_removed;
    else
        slot = added ? &c->hosts_added : &c->hosts_removed;
    (*slot)++;
}

/* Items of `a` missing from `b`: report with `sign` and count. */
static size_t one_way(const struct ctx *x, const struct o3b_set *s, const char *const *a, size_t na,
                      const char *const *b, size_t nb, int is_ip, int added)
{
    char line[512];
    size_t n = 0;

    for (size_t i = 0; i < na; i++) {
        if (contains(b, nb, a[i]))
            continue;
        count_item(x->c, a[i], is_ip, added);
        snprintf(line, sizeof line, "~ set %u: %c %s %s", s->id, added ? '+' : '-',
                 is_ip ? "ip" : "url", a[i]);
        emit(x, line);
        n++;
    }
    return n;
}

static size_t field(const struct ctx *x, uint32_t id, const char *name, const char *before,
                    const char *after)
{
    char line[600];

    if (strcmp(before, after) == 0)
        return 0;
    snprintf(line, sizeof line, "~ set %u: %s '%.200s' -> '%.200s'", id, name, before, after);
    emit(x, line);
    return 1;
}

static size_t compare_set(const struct ctx *x, const struct o3b_set *o, const struct o3b_set *n)
{
    size_t ch = 0;

    ch +=
        field(x, n->id, "category", o3b_category_name(o->category), o3b_category_name(n->category));
    ch += field(x, n->id, "serviceArea", o->area_name, n->area_name);
    ch +=
        field(x, n->id, "required", o->required ? "true" : "false", n->required ? "true" : "false");
    ch += field(x, n->id, "tcpPorts", o->tcp_ports_text, n->tcp_ports_text);
    ch += field(x, n->id, "udpPorts", o->udp_ports_text, n->udp_ports_text);
    ch += field(x, n->id, "expressRoute", o->express_route ? "true" : "false",
                n->express_route ? "true" : "false");
    ch += field(x, n->id, "notes", o->notes, n->notes);
    ch += one_way(x, n, n->urls, n->n_urls, o->urls, o->n_urls, 0, 1);
    ch += one_way(x, n, o->urls, o->n_urls, n->urls, n->n_urls, 0, 0);
    ch += one_way(x, n, n->ips, n->n_ips, o->ips, o->n_ips, 1, 1);
    ch += one_way(x, n, o->ips, o->n_ips, n->ips, n->n_ips, 1, 0);
    return ch;
}

static void whole_set(const struct ctx *x, const struct o3b_set *s, int added)
{
    char line[600];

    snprintf(line, sizeof line, "%c set %u (%s, %s%s, tcp '%s'): %zu urls, %zu ips",
             added ? '+' : '-', s->id, s->area_name, o3b_category_name(s->category),
             s->required ? "" : ", optional", s->tcp_ports_text, s->n_urls, s->n_ips);
    emit(x, line);
    for (size_t i = 0; i < s->n_urls; i++) {
        count_item(x->c, s->urls[i], 0, added);
        snprintf(line, sizeof line, "%c set %u: url %s", added ? '+' : '-', s->id, s->urls[i]);
        emit(x, line);
    }
    for (size_t i = 0; i < s->n_ips; i++) {
        count_item(x->c, s->ips[i], 1, added);
        snprintf(line, sizeof line, "%c set %u: ip %s", added ? '+' : '-', s->id, s->ips[i]);
        emit(x, line);
    }
}

size_t o3b_table_diff(const o3b_table *before, const o3b_table *after,
                      struct o3b_diff_counts *counts, o3b_diff_line_fn fn, void *ud)
{
    struct ctx x = {counts, fn, ud};

    memset(counts, 0, sizeof *counts);
    for (size_t i = 0; i < set_count(before); i++) {
        const struct o3b_set *o = o3b_table_set(before, i);
        if (find(after, o->id) == NULL) {
            counts->sets_removed++;
            whole_set(&x, o, 0);
        }
    }
    for (size_t i = 0; i < set_count(after); i++) {
        const struct o3b_set *n = o3b_table_set(after, i), *o = find(before, n->id);
        if (o == NULL) {
            counts->sets_added++;
            whole_set(&x, n, 1);
        } else if (compare_set(&x, o, n) > 0) {
            counts->sets_changed++;
        }
    }
    return counts->sets_added + counts->sets_removed + counts->sets_changed;
}

char *o3b_diff_summary(const struct o3b_diff_counts *c, char *buf, size_t size)
{
    snprintf(buf, size, "sets +%zu -%zu ~%zu, hosts +%zu -%zu, patterns +%zu -%zu, CIDRs +%zu -%zu",
             c->sets_added, c->sets_removed, c->sets_changed, c->hosts_added, c->hosts_removed,
             c->patterns_added, c->patterns_removed, c->cidrs_added, c->cidrs_removed);
    return buf;
}
