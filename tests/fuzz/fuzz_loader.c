/* SPDX-License-Identifier: MIT */
/*
 * fuzz_loader.c - libFuzzer target for the JSON loader (loader.h) and what
 * reads a loaded table: counts, tag, index lookups and the diff (tablediff.h).
 *
 * The input is loaded three ways: with the default options, with
 * allow_empty and a meta block, and with a byte limit one below its size
 * (which must refuse it).  The first two must agree: the same content hash,
 * or a table only the allow_empty load accepts, which is then empty.  Every
 * table that results is checked from the outside: its counts add up, each
 * set is found by its id, each URL is already normalized and each CIDR
 * canonical, each URL (with '*' made concrete) and each prefix is found by
 * the table's own index, the tag fits an ISTag, and it is compared with
 * itself (no change) and with the real Worldwide table, loaded once from
 * tests/data (see fuzz.h for how the path is found).
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "o365bypass/cidr.h"
#include "o365bypass/host.h"
#include "o365bypass/index.h"
#include "o365bypass/loader.h"
#include "o365bypass/table.h"
#include "o365bypass/tablediff.h"

#define REFERENCE_FILE "worldwide-2025-11-14.json"
#define DIFF_LINE_MAX 1024 /* longer than any line tablediff.c builds */

static const o3b_table *reference_table(void)
{
    static o3b_table *ref;
    char path[1024];
    o3b_err err;

    if (ref != NULL)
        return ref;
    snprintf(path, sizeof path, "%s/%s", o3b_fuzz_data_dir(), REFERENCE_FILE);
    ref = o3b_load_file(path, NULL, &err);
    if (ref == NULL) {
        fprintf(stderr,
                "fuzz_loader: cannot load the reference table: %s\n"
                "(set O3B_FUZZ_DATA to the tests/data directory)\n",
                err.msg);
        abort();
    }
    return ref;
}

static void check_error(const o3b_err *err)
{
    size_t n = strnlen(err->msg, sizeof err->msg);

    O3B_FUZZ_CHECK(n > 0 && n < sizeof err->msg);
}

static void check_counts(const o3b_table *t)
{
    struct o3b_table_counts c;
    size_t by_cat = 0, by_area = 0, n_entries = 0;

    o3b_table_get_counts(t, &c);
    for (int i = 0; i < O3B_CAT_COUNT; i++)
        by_cat += c.sets_by_category[i];
    for (int i = 0; i < O3B_AREA_COUNT; i++)
        by_area += c.sets_by_area[i];
    o3b_index_entries(o3b_table_index(t), &n_entries);
    O3B_FUZZ_CHECK(c.sets == o3b_table_set_count(t));
    O3B_FUZZ_CHECK(by_cat == c.sets && by_area == c.sets);
    O3B_FUZZ_CHECK(c.urls == c.exact + c.wildcards);
    O3B_FUZZ_CHECK(c.entries == c.urls + c.ipv4 + c.ipv6);
    O3B_FUZZ_CHECK(n_entries == c.entries);
    O3B_FUZZ_CHECK(c.sets <= O3B_MAX_SETS && c.entries <= O3B_MAX_ENTRIES);
    O3B_FUZZ_CHECK(o3b_table_memory(t) > 0);
}

/* A URL is found by the table's own index once its '*'s are made concrete. */
static void check_url(const o3b_table *t, const char *url)
{
    char norm[O3B_HOST_MAX + 1], host[O3B_HOST_MAX + 1];
    size_t nlen = 0, len = strlen(url);
    struct o3b_hit hit;
    const struct o3b_index_entry *e;

    O3B_FUZZ_CHECK(o3b_pattern_normalize(url, len, norm, &nlen, NULL) == 0);
    O3B_FUZZ_CHECK(nlen == len && memcmp(norm, url, len) == 0);
    for (size_t i = 0; i <= len; i++)
        host[i] = url[i] == '*' ? 'x' : url[i];
    o3b_index_lookup_host(o3b_table_index(t), host, len, 0, &hit);
    O3B_FUZZ_CHECK(hit.candidates > 0);
    e = hit.best ? hit.best : hit.listed;
    O3B_FUZZ_CHECK(e != NULL && e->kind <= O3B_ENTRY_GLOB);
    O3B_FUZZ_CHECK(o3b_glob_match(e->text, e->text_len, host, len));
}

/* A CIDR is canonical and its network address is found by the index. */
static void check_ip(const o3b_table *t, const char *ip)
{
    struct o3b_cidr c;
    bool host_bits = true;
    char text[64];
    struct o3b_hit hit;
    const struct o3b_index_entry *e;

    O3B_FUZZ_CHECK(o3b_cidr_parse(ip, strlen(ip), &c, &host_bits, NULL) == 0);
    O3B_FUZZ_CHECK(!host_bits);
    O3B_FUZZ_CHECK(strcmp(o3b_cidr_format(&c, text, sizeof text), ip) == 0);
    o3b_index_lookup_addr(o3b_table_index(t), c.family, c.addr, 0, &hit);
    O3B_FUZZ_CHECK(hit.candidates > 0);
    e = hit.best ? hit.best : hit.listed;
    O3B_FUZZ_CHECK(e != NULL && e->kind >= O3B_ENTRY_CIDR4);
    O3B_FUZZ_CHECK(o3b_cidr_contains(&e->cidr, c.family, c.addr));
}

static void check_sets(const o3b_table *t)
{
    for (size_t i = 0; i < o3b_table_set_count(t); i++) {
        const struct o3b_set *s = o3b_table_set(t, i);

        O3B_FUZZ_CHECK(s != NULL && o3b_table_find_set(t, s->id) == s);
        O3B_FUZZ_CHECK(s->id > 0 && s->category < O3B_CAT_COUNT && s->area < O3B_AREA_COUNT);
        O3B_FUZZ_CHECK(s->area_name != NULL && s->area_display != NULL && s->notes != NULL &&
                       s->tcp_ports_text != NULL && s->udp_ports_text != NULL);
        for (size_t k = 0; k < s->n_tcp; k++)
            O3B_FUZZ_CHECK(s->tcp[k].lo >= 1 && s->tcp[k].lo <= s->tcp[k].hi);
        for (size_t k = 0; k < s->n_urls; k++)
            check_url(t, s->urls[k]);
        for (size_t k = 0; k < s->n_ips; k++)
            check_ip(t, s->ips[k]);
    }
    O3B_FUZZ_CHECK(o3b_table_set(t, o3b_table_set_count(t)) == NULL);
}

static void check_tag(const o3b_table *t)
{
    char tag[64], tiny[6];

    o3b_table_tag(t, tag, sizeof tag);
    O3B_FUZZ_CHECK(strlen(tag) >= 10 && strlen(tag) <= 26);
    o3b_table_tag(t, tiny, sizeof tiny);
    O3B_FUZZ_CHECK(strlen(tiny) < sizeof tiny);
}

static void on_diff_line(void *ud, const char *line)
{
    size_t *lines = ud;

    O3B_FUZZ_CHECK(line != NULL && strnlen(line, DIFF_LINE_MAX) < DIFF_LINE_MAX);
    (*lines)++;
}

static void check_diff(const o3b_table *t)
{
    const o3b_table *ref = reference_table();
    struct o3b_diff_counts c, zero;
    size_t lines = 0, changed;
    char summary[256];

    memset(&zero, 0, sizeof zero);
    O3B_FUZZ_CHECK(o3b_table_diff(t, t, &c, on_diff_line, &lines) == 0);
    O3B_FUZZ_CHECK(lines == 0 && memcmp(&c, &zero, sizeof c) == 0);
    changed = o3b_table_diff(ref, t, &c, on_diff_line, &lines);
    O3B_FUZZ_CHECK(changed == c.sets_added + c.sets_removed + c.sets_changed);
    O3B_FUZZ_CHECK((changed == 0) == (lines == 0));
    if (o3b_table_hash(t) == o3b_table_hash(ref))
        O3B_FUZZ_CHECK(changed == 0);
    changed = o3b_table_diff(t, ref, &c, NULL, NULL);
    O3B_FUZZ_CHECK(changed == c.sets_added + c.sets_removed + c.sets_changed);
    o3b_table_diff(NULL, t, &c, NULL, NULL);
    O3B_FUZZ_CHECK(c.sets_added == o3b_table_set_count(t) && c.sets_removed == 0);
    o3b_diff_summary(&c, summary, sizeof summary);
    O3B_FUZZ_CHECK(strlen(summary) < sizeof summary);
}

static void check_table(const o3b_table *t)
{
    check_counts(t);
    check_sets(t);
    check_tag(t);
    check_diff(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct o3b_table_meta meta = {
        .source = "fuzz", .instance = "Worldwide", .version = "2025111400", .fetched = 1763078400};
    struct o3b_load_opts opts = {0};
    o3b_table *plain, *lenient, *capped;
    o3b_err err;

    reference_table();
    plain = o3b_load_json(buf, size, &opts, &err);
    if (plain == NULL)
        check_error(&err);
    opts.allow_empty = true;
    opts.meta = &meta;
    lenient = o3b_load_json(buf, size, &opts, &err);
    if (lenient == NULL)
        check_error(&err);
    if (plain != NULL) { /* same content: checking `lenient` below covers both */
        O3B_FUZZ_CHECK(lenient != NULL);
        O3B_FUZZ_CHECK(o3b_table_hash(plain) == o3b_table_hash(lenient));
        O3B_FUZZ_CHECK(o3b_table_set_count(plain) == o3b_table_set_count(lenient));
    } else if (lenient != NULL) {
        O3B_FUZZ_CHECK(o3b_table_set_count(lenient) == 0);
    }
    if (lenient != NULL)
        check_table(lenient);
    if (size > 1) { /* max_bytes 0 would mean the default */
        opts.max_bytes = size - 1;
        capped = o3b_load_json(buf, size, &opts, &err);
        O3B_FUZZ_CHECK(capped == NULL);
        check_error(&err);
    }
    o3b_table_free(&plain);
    o3b_table_free(&lenient);
    O3B_FUZZ_CHECK(plain == NULL && lenient == NULL);
    return 0;
}
