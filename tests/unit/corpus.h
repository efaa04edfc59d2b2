/* SPDX-License-Identifier: MIT */
/*
 * corpus.h - decoding fields of tests/data/hostile-targets.tsv.
 *
 * Shared by test_target (parse results) and test_matcher (verdicts on the
 * real table).  The file's header describes the format: TAB-separated
 * fields with the escapes \t \r \n \\ \xHH, "\e" for an empty field, and
 * {repeat:N:TEXT} for long runs.  Header-only: each test program includes it
 * once.
 */
#ifndef O3B_TESTS_CORPUS_H
#define O3B_TESTS_CORPUS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define CORPUS_FILE O3B_TEST_DATA "/hostile-targets.tsv"
#define FIELD_MAX (1u << 20) /* one decoded field, after {repeat} */
#define CORPUS_MAX_HOSTS 8   /* Host columns after the request line */

/* Expand {repeat:N:TEXT} into out (FIELD_MAX bytes); returns the length or -1. */
static inline long expand_repeats(const char *in, char *out)
{
    size_t used = 0;

    while (*in != '\0') {
        const char *text, *end;
        char *after;
        unsigned long n;

        if (strncmp(in, "{repeat:", 8) != 0) {
            if (used >= FIELD_MAX)
                return -1;
            out[used++] = *in++;
            continue;
        }
        n = strtoul(in + 8, &after, 10);
        if (after == in + 8 || *after != ':' || (end = strchr(after + 1, '}')) == NULL)
            return -1;
        text = after + 1;
        if (n > FIELD_MAX || n * (size_t)(end - text) > FIELD_MAX - used)
            return -1;
        for (unsigned long k = 0; k < n; k++, used += (size_t)(end - text))
            memcpy(out + used, text, (size_t)(end - text));
        in = end + 1;
    }
    return (long)used;
}

static inline int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the escapes of buf[0..len) in place; returns the new length or -1. */
static inline long decode_escapes(char *buf, size_t len)
{
    size_t r = 0, w = 0;

    if (len == 2 && buf[0] == '\\' && buf[1] == 'e')
        return 0;
    while (r < len) {
        if (buf[r] != '\\') {
            buf[w++] = buf[r++];
            continue;
        }
        if (r + 1 >= len)
            return -1;
        switch (buf[r + 1]) {
        case 't':
            buf[w++] = '\t';
            r += 2;
            break;
        case 'r':
            buf[w++] = '\r';
            r += 2;
            break;
        case 'n':
            buf[w++] = '\n';
            r += 2;
            break;
        case '\\':
            buf[w++] = '\\';
            r += 2;
            break;
        case 'x':
            if (r + 3 >= len || hex_value(buf[r + 2]) < 0 || hex_value(buf[r + 3]) < 0)
                return -1;
            buf[w++] = (char)(hex_value(buf[r + 2]) * 16 + hex_value(buf[r + 3]));
            r += 4;
            break;
        default:
            return -1;
        }
    }
    return (long)w;
}

/* A field of the file, decoded into its own FIELD_MAX buffer. */
static inline long decode_field(const char *field, char *buf)
{
    long n = expand_repeats(field, buf);

    return n < 0 ? -1 : decode_escapes(buf, (size_t)n);
}

/* One row, split and decoded: columns 1-3 as written, the request line and
   the Host values decoded into the row's own buffers. */
struct corpus_row {
    char *fields[4 + CORPUS_MAX_HOSTS + 1];
    size_t nf;
    char *bufs[1 + CORPUS_MAX_HOSTS]; /* FIELD_MAX + 1 each: request line, Hosts */
    long line_len;                    /* of bufs[0] */
    const char *hosts[CORPUS_MAX_HOSTS];
    size_t host_lens[CORPUS_MAX_HOSTS];
    size_t n_hosts;
};

/* Split `row` on TABs (in place) and decode its request line and Host
   fields.  NULL on success, else why the row is malformed. */
static inline const char *corpus_decode_row(char *row, struct corpus_row *r)
{
    r->nf = 0;
    r->fields[r->nf++] = row;
    for (char *p = row; *p != '\0' && r->nf < sizeof r->fields / sizeof r->fields[0]; p++)
        if (*p == '\t') {
            *p = '\0';
            r->fields[r->nf++] = p + 1;
        }
    if (r->nf < 4 || r->nf > 4 + CORPUS_MAX_HOSTS)
        return "needs 4 to 12 TAB-separated columns";
    r->line_len = decode_field(r->fields[3], r->bufs[0]);
    if (r->line_len < 0)
        return "bad escape or {repeat} in the request line";
    r->n_hosts = r->nf - 4;
    for (size_t i = 0; i < r->n_hosts; i++) {
        long n = decode_field(r->fields[4 + i], r->bufs[1 + i]);
        if (n < 0 || (n == 0 && strcmp(r->fields[4 + i], "\\e") != 0))
            return "bad Host field (empty values are written \\e)";
        r->hosts[i] = r->bufs[1 + i];
        r->host_lens[i] = (size_t)n;
    }
    return NULL;
}

/*
 * Call check(lineno, row, ud) for every data row of the corpus (blank and
 * '#' lines skipped), with `row` split and decoded (or `why` set when it is
 * malformed).  Counts rows and rows for which check returned false.
 * Returns -1 when the file or the buffers cannot be had.
 */
static inline int corpus_each_row(bool (*check)(unsigned lineno, struct corpus_row *row,
                                                const char *why, void *ud),
                                  void *ud, unsigned *rows, unsigned *failures)
{
    struct corpus_row r;
    FILE *f = fopen(CORPUS_FILE, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned lineno = 0;
    int rc = 0;

    memset(&r, 0, sizeof r);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < 1 + CORPUS_MAX_HOSTS; i++)
        if ((r.bufs[i] = malloc(FIELD_MAX + 1)) == NULL)
            rc = -1;
    while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (got > 0 && line[got - 1] == '\n')
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        (*rows)++;
        if (!check(lineno, &r, corpus_decode_row(line, &r), ud))
            (*failures)++;
    }
    fclose(f);
    free(line);
    for (size_t i = 0; i < 1 + CORPUS_MAX_HOSTS; i++)
        free(r.bufs[i]);
    return rc;
}

#endif
