/* SPDX-License-Identifier: MIT */
/*
 * fuzz_headers.c - libFuzzer target for whole request header blocks
 * (o3b_target_parse_headers, target.h), as c-icap hands them to the glue.
 *
 * Input: the header block, lines separated by '\n' (at most MAX_LINES; the
 * last takes the rest): line 0 is the request line, the others are header
 * lines.  Every line is copied into a NUL-terminated buffer of exactly its
 * size, so ASan sees a read past any of them.
 *
 * Oracles, on every input:
 *   - the status is a known one and CONNECT is reported exactly when the
 *     request line starts with "CONNECT " (well-formed or not);
 *   - the result equals o3b_target_parse() on the request line and the Host
 *     values a plain reference scan finds (name "host" in any case, SP/HTAB
 *     allowed before the colon), or duplicate-host beyond 8 of them;
 *   - a second Host line can never hide: adding one (in another spelling)
 *     to a block with a Host line that parsed OK gives duplicate-host;
 *   - lines that only look like Host ("X-Host:", "Hostname:", no colon)
 *     change nothing.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "o365bypass/target.h"

#define MAX_LINES 64

struct block {
    char *lines[MAX_LINES + 3]; /* room for the lines the oracles add */
    size_t n;
};

static char *copy_line(const char *p, size_t len)
{
    char *s = malloc(len + 1);

    if (s != NULL) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

static bool split_block(const char *data, size_t size, struct block *b)
{
    const char *p = data, *end = data + size;

    b->n = 0;
    for (;;) {
        const char *nl = b->n + 1 < MAX_LINES ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if ((b->lines[b->n] = copy_line(p, len)) == NULL)
            return false;
        b->n++;
        if (nl == NULL)
            return true;
        p = nl + 1;
    }
}

static void free_block(struct block *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->lines[i]);
    b->n = 0;
}

/* The reference scan: is this line a Host header, and where is its value? */
static const char *reference_host_value(const char *line)
{
    const char *colon = strchr(line, ':');
    size_t n;

    if (colon == NULL)
        return NULL;
    n = (size_t)(colon - line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    if (n != 4)
        return NULL;
    for (size_t i = 0; i < 4; i++)
        if ((line[i] | 0x20) != "host"[i])
            return NULL;
    return colon + 1;
}

/* What the block must give, by the reference scan and o3b_target_parse();
   `*n_hosts` is how many Host lines the scan found. */
static enum o3b_target_status reference(const struct block *b, struct o3b_target *out,
                                        size_t *n_hosts)
{
    const char *hosts[O3B_TARGET_MAX_HOSTS];
    size_t lens[O3B_TARGET_MAX_HOSTS], n = 0;

    *n_hosts = 0;
    for (size_t i = 1; i < b->n; i++) {
        const char *v = reference_host_value(b->lines[i]);
        if (v == NULL)
            continue;
        (*n_hosts)++;
        if (n == O3B_TARGET_MAX_HOSTS)
            continue;
        hosts[n] = v;
        lens[n++] = strlen(v);
    }
    if (*n_hosts > O3B_TARGET_MAX_HOSTS)
        return O3B_TARGET_DUPLICATE_HOST;
    return o3b_target_parse(b->lines[0], strlen(b->lines[0]), hosts, lens, n, out);
}

static bool same_target(const struct o3b_target *a, const struct o3b_target *b)
{
    return strcmp(a->host, b->host) == 0 && a->host_len == b->host_len && a->port == b->port &&
           a->kind == b->kind && a->form == b->form && a->scheme == b->scheme &&
           memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

static enum o3b_target_status parse(const struct block *b, struct o3b_target *t, bool *connect)
{
    return o3b_target_parse_headers((const char *const *)b->lines, b->n, t, connect);
}

/* Lines that are not Host headers change nothing; a second Host always shows. */
static void check_additions(struct block *b, enum o3b_target_status st, const struct o3b_target *t,
                            size_t n_hosts)
{
    static char decoy1[] = "X-Host: evil.example", decoy2[] = "Hostname: evil.example",
                decoy3[] = "Host evil.example", extra_host[] = "hOsT \t: evil.example";
    char *const decoys[] = {decoy1, decoy2, decoy3};
    struct o3b_target again;
    size_t n = b->n;

    for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++) {
        b->lines[b->n++] = decoys[i];
        O3B_FUZZ_CHECK(parse(b, &again, NULL) == st);
        if (st == O3B_TARGET_OK)
            O3B_FUZZ_CHECK(same_target(t, &again));
        b->n = n;
    }
    if (st != O3B_TARGET_OK || n_hosts == 0)
        return;
    b->lines[b->n++] = extra_host;
    O3B_FUZZ_CHECK(parse(b, &again, NULL) == O3B_TARGET_DUPLICATE_HOST);
    b->n = n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct block b;
    struct o3b_target t, want;
    enum o3b_target_status st, ref;
    size_t n_hosts;
    bool connect = true;

    if (!split_block((const char *)data, size, &b)) {
        free_block(&b);
        return 0;
    }
    st = parse(&b, &t, &connect);
    O3B_FUZZ_CHECK((unsigned)st < O3B_TARGET_STATUS_COUNT);
    O3B_FUZZ_CHECK(connect == (strncmp(b.lines[0], "CONNECT ", 8) == 0));
    ref = reference(&b, &want, &n_hosts);
    O3B_FUZZ_CHECK(st == ref);
    if (st == O3B_TARGET_OK)
        O3B_FUZZ_CHECK(same_target(&t, &want));
    O3B_FUZZ_CHECK(parse(&b, NULL, NULL) == st);
    check_additions(&b, st, &t, n_hosts);
    free_block(&b);
    /* no lines at all */
    O3B_FUZZ_CHECK(o3b_target_parse_headers(NULL, 0, NULL, &connect) ==
                       O3B_TARGET_BAD_REQUEST_LINE &&
                   !connect);
    return 0;
}
