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

#include <stdlib.h>
#include <string.h>

#define CORPUS_FILE O3B_TEST_DATA "/hostile-targets.tsv"
#define FIELD_MAX (1u << 20) /* one decoded field, after {repeat} */

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
        case 't': buf[w++] = '\t'; r += 2; break;
        case 'r': buf[w++] = '\r'; r += 2; break;
        case 'n': buf[w++] = '\n'; r += 2; break;
        case '\\': buf[w++] = '\\'; r += 2; break;
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

#endif
