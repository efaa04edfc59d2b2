/* SPDX-License-Identifier: MIT */
/*
 * acl.h - what the o365bypass-acl helper's files share.
 *
 * o365bypass-acl answers Squid's external ACL lookups with the module's own
 * decision, so Squid can skip the ICAP round trip for Microsoft 365 flows.
 * No second decision exists here: every line becomes the request the proxy
 * would make ("CONNECT host:port HTTP/1.1", or "GET scheme://host:port/
 * HTTP/1.1" when Squid passes the URL scheme), parsed by o3b_target_parse()
 * and decided by o3b_decide() against the table and policy the service uses.
 *
 *   proto.c   Squid's helper protocol: framing (partial and overlong lines),
 *             the optional channel ID, tokens and Squid's escaping, the
 *             request line to parse, reply formatting.  Pure, no I/O.
 *   answer.c  one line -> one reply, through the core.  Pure, no I/O.
 *   follow.c  the configuration and the table the service serves, followed
 *             live (CacheDir's current file), logged to stderr.
 *   main.c    options and the poll(2) loop on stdin.
 *
 * proto.c and answer.c are unit-tested (tests/unit/test_acl_proto.c).
 */
#ifndef O3B_ACL_H
#define O3B_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "o365bypass/config.h"
#include "o365bypass/errors.h"
#include "o365bypass/store.h"
#include "o365bypass/table.h"

#ifndef O3B_VERSION
#define O3B_VERSION "unknown"
#endif

#define ACL_LINE_MAX 8192    /* longest request line, without its '\n' */
#define ACL_FRAMER_CAP 65536 /* input buffer; > ACL_LINE_MAX */
#define ACL_CHANNEL_MAX 10   /* digits of a channel ID */
#define ACL_REPLY_MAX 2048   /* longest reply line, '\n' included */

/* ---- proto.c: framing ----------------------------------------------------------- */

/*
 * Cuts the byte stream from Squid into lines.  Read into the space it
 * offers, commit what was read, then take lines until ACL_FRAME_NONE.  A
 * line longer than ACL_LINE_MAX is discarded up to its '\n' and reported
 * once, as ACL_FRAME_OVERLONG, with its channel ID (if it had one) kept in
 * `channel`, so it still gets its one reply.
 */
struct acl_framer {
    char buf[ACL_FRAMER_CAP];
    size_t start, end;                 /* unconsumed bytes: buf[start..end) */
    bool discarding;                   /* inside an overlong line */
    char channel[ACL_CHANNEL_MAX + 1]; /* of the overlong line, "" if none */
};

enum acl_frame { ACL_FRAME_NONE = 0, ACL_FRAME_LINE, ACL_FRAME_OVERLONG };

void acl_framer_init(struct acl_framer *f);

/* Where to read next and how much fits (always > 0). */
char *acl_framer_space(struct acl_framer *f, size_t *room);

/* `n` bytes were read into the space. */
void acl_framer_commit(struct acl_framer *f, size_t n);

/* The next complete line (without '\n', mutable, valid until the next
   space/commit), an overlong one, or NONE when more input is needed. */
enum acl_frame acl_framer_next(struct acl_framer *f, char **line, size_t *len);

/* At end of input: true when an unterminated line was left (it is consumed;
   `*overlong` tells whether it was too long, then `channel` is set). */
bool acl_framer_rest(struct acl_framer *f, char **line, size_t *len, bool *overlong);

/* ---- proto.c: one request line ------------------------------------------------- */

/* Why a line cannot be asked about (the parser's refusals come from the core). */
enum acl_input_error {
    ACL_IN_OK = 0,
    ACL_IN_EMPTY,      /* no token at all */
    ACL_IN_NO_HOST,    /* %DST missing or "-" */
    ACL_IN_NO_PORT,    /* %PORT missing or "-" */
    ACL_IN_BAD_PORT,   /* %PORT not 1 to 5 decimal digits */
    ACL_IN_BAD_SCHEME, /* %>rs not a URI scheme */
    ACL_IN_DELIMITER,  /* '/', '?' or '#' in %DST: would change the URL's shape */
    ACL_IN_BAD_BYTE,   /* a space, control or non-ASCII byte in a value */
    ACL_IN_EXTRA,      /* a token after the four we read, other than "-" */
    ACL_IN_OVERLONG,   /* longer than ACL_LINE_MAX */
    ACL_IN_TRUNCATED,  /* the input ended inside a line */
    ACL_IN_COUNT
};

/* Short token ("no-port") and one sentence for people. */
const char *acl_input_error_name(enum acl_input_error e);
const char *acl_input_error_text(enum acl_input_error e);

/*
 * One lookup.  Tokens, in this order (the external_acl_type FORMAT):
 *   [channel-ID] %DST %PORT [%ssl::>sni [%>rs]] [-]
 * "-" is Squid's empty value; Squid appends %DATA ("-" without ACL
 * arguments) when FORMAT lacks it.  Pointers go into the line (decoded in
 * place).
 */
struct acl_query {
    const char *channel; /* NULL without a channel ID */
    size_t channel_len;
    char *host; /* %DST, unescaped */
    size_t host_len;
    char *port; /* %PORT: decimal digits */
    size_t port_len;
    char *sni; /* %ssl::>sni, unescaped; NULL when absent */
    size_t sni_len;
    char *scheme; /* %>rs; NULL when absent ("-": a CONNECT) */
    size_t scheme_len;
};

/*
 * Split and unescape `line[0..len)` (modified in place).  The channel ID is
 * filled in first, so even a refused line is answered on its channel.  A
 * leading all-digit token is the channel ID: no well-formed %DST is all
 * digits, so this never turns a refused line into an accepted one.
 */
enum acl_input_error acl_parse_line(char *line, size_t len, struct acl_query *q);

/*
 * Undo Squid's escaping of one value, in place; returns the new length.
 * Squid writes %XX with upper-case hex for the bytes it escapes (space,
 * " # < > [ \ ] ^ ` { | } ~ ' control and non-ASCII bytes) and leaves '%'
 * itself alone, so only such escapes are decoded: any other '%' is a
 * literal percent sign, which the request-target parser then refuses, as
 * the module does.
 */
size_t acl_unescape(char *s, size_t len);

/*
 * The request the proxy makes for `q`: "CONNECT host:port HTTP/1.1" without
 * a scheme, "GET scheme://host:port/ HTTP/1.1" with one.  Squid writes an
 * IPv6 %DST bracketed ("%5B2603:1006::1%5D"); the host goes in as Squid
 * wrote it, so an unbracketed IPv6 address is refused by the parser, as by
 * the module.  Returns the length, or 0 when it does not fit `size`.
 */
size_t acl_request_line(const struct acl_query *q, char *buf, size_t size);

/* ---- proto.c: replies ---------------------------------------------------------- */

/* One reply line being built, bounded by ACL_REPLY_MAX. */
struct acl_reply {
    char buf[ACL_REPLY_MAX];
    size_t len;
};

/* "[channel ]OK" or "[channel ]ERR". */
void acl_reply_begin(struct acl_reply *r, const char *channel, size_t channel_len, bool ok);

/* " key=value": the value as a bare token when it is only letters, digits
   and -._:*, else double-quoted with \" and \\ escaped (control bytes become
   '?'), as Squid's reply parser reads it.  Truncated, never overrun. */
void acl_reply_kv(struct acl_reply *r, const char *key, const char *value);

/* The final '\n' (always room for it). */
void acl_reply_end(struct acl_reply *r);

/* ---- answer.c --------------------------------------------------------------------- */

/* What an answer needs: borrowed for the duration of one call. */
struct acl_state {
    const o3b_table *table; /* NULL when unavailable */
    const struct o3b_policy *policy;
    const char *table_tag;   /* o3b_table_tag() of `table` */
    const char *unavailable; /* non-NULL: no usable configuration or
                                table; every answer is ERR with this
                                detail token */
    bool brief;              /* --brief: a decision's reply carries only
                                o365bypass_verdict, o365bypass_reason and
                                log (Squid copies every note of a cached
                                answer into each request it matches) */
};

/* Answer one complete line (modified in place) into `r`. */
void acl_answer_line(const struct acl_state *s, char *line, size_t len, struct acl_reply *r);

/* Answer a line that could not be read (overlong, truncated) on `channel`. */
void acl_answer_refused(const struct acl_state *s, const char *channel, enum acl_input_error e,
                        struct acl_reply *r);

/* ---- follow.c ------------------------------------------------------------------------ */

/* The configuration and the table, followed from CacheDir. */
struct acl_follow {
    struct o3b_config cfg;
    struct o3b_store_params params; /* borrowed from cfg */
    bool config_ok;
    char cache_path[4096]; /* CacheDir's current file, "" without CacheDir */
    struct acl_file_id {
        bool exists; /* or hidden: stat failed other than ENOENT */
        int error;   /* errno of stat, 0 when it worked */
        unsigned long long dev, ino, size;
        long long mtime_ns, ctime_ns;
    } seen;
    o3b_table *table; /* NULL: unusable (see unavailable) */
    char tag[40];
    const char *unavailable; /* detail token, or NULL */
    time_t next_check;
    bool brief; /* --brief (main.c sets it after acl_follow_start) */
};

/*
 * Read the configuration (`config_path`, or NULL: the CLI's default,
 * cli_default_config()) and the table the service would serve.
 * Never fails: a bad configuration or an unreadable CacheDir file leaves
 * the helper answering ERR to everything, which is logged.
 */
void acl_follow_start(struct acl_follow *f, const char *config_path);

/* At most once a second: notice a new CacheDir file, validate, swap (the
   last good table stays on any failure); one log line per change or failure. */
void acl_follow_tick(struct acl_follow *f, time_t now);

/* The state answers are made from (valid until the next tick). */
void acl_follow_state(const struct acl_follow *f, struct acl_state *s);

/* Free everything. */
void acl_follow_stop(struct acl_follow *f);

/* ---- main.c --------------------------------------------------------------------------- */

/* "YYYY/MM/DD HH:MM:SS| o365bypass-acl[PID]: message" on stderr (Squid's
   cache.log), one line, flushed. */
void acl_log(const char *fmt, ...) O3B_PRINTF(1, 2);

#endif
