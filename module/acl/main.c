/* SPDX-License-Identifier: MIT */
/*
 * main.c - o365bypass-acl: the module's decision as a Squid external ACL helper.
 *
 * Squid starts the helper, writes lookups to its stdin and reads one reply
 * line per lookup from its stdout (see acl.h for the format and notes).
 * One thread, one loop: poll(2) on stdin with a one-second timeout, so the
 * table is followed (follow.c) whether or not lookups arrive; every read is
 * cut into lines, each line answered, and the replies of one read written
 * together (hundreds of lookups in one write get one write back).  End of
 * input (Squid stopping or reconfiguring) is a clean exit with status 0.
 * Nothing a lookup contains can make the helper exit or wait: it answers
 * ERR instead.  Bad arguments do not make it exit either (Squid would keep
 * restarting it, then give up): they are logged, and every lookup is
 * answered ERR.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "cli.h" /* the configuration paths the CLI uses */

#define POLL_TIMEOUT_MS 1000
#define OUT_CAP 65536

static const char usage_text[] =
    "Usage: o365bypass-acl [-b] [-c FILE]\n"
    "\n"
    "A Squid external ACL helper answering with the o365bypass service's decision:\n"
    "OK = bypass, ERR = inspect.  squid.conf:\n"
    "  external_acl_type o365bypass ... %%DST %%PORT %%ssl::>sni %%>rs PATH -c FILE\n"
    "(see squid-o365bypass-acl.conf).  It reads the module's directives from FILE\n"
    "(a c-icap.conf with its Includes, or the include file; default %s,\n"
    "else %s, as the o365bypass command) and follows the table\n"
    "the service serves (CacheDir, else SeedFile).\n"
    "\n"
    "  -c, --config FILE  the configuration\n"
    "  -b, --brief        answer with o365bypass_verdict, o365bypass_reason and log=\n"
    "                     (%%ea) only: Squid copies every note into each request\n"
    "  -h, --help         this help;  -V, --version  the version\n";

void acl_log(const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    if (localtime_r(&now, &tm) == NULL ||
        strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm) == 0)
        stamp[0] = '\0';
    fprintf(stderr, "%s| o365bypass-acl[%ld]: ", stamp, (long)getpid());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static time_t monotonic_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* ---- output -------------------------------------------------------------------------- */

struct output {
    char buf[OUT_CAP];
    size_t used;
};

static int flush_output(struct output *o)
{
    size_t done = 0;

    while (done < o->used) {
        ssize_t n = write(STDOUT_FILENO, o->buf + done, o->used - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            acl_log("cannot write to Squid: %s", n < 0 ? strerror(errno) : "nothing written");
            return -1;
        }
        done += (size_t)n;
    }
    o->used = 0;
    return 0;
}

static int emit(struct output *o, const struct acl_reply *r)
{
    if (sizeof o->buf - o->used < r->len && flush_output(o) != 0)
        return -1;
    memcpy(o->buf + o->used, r->buf, r->len);
    o->used += r->len;
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Answer every complete line the framer holds. */
static int answer_lines(struct acl_framer *fr, const struct acl_state *s, struct output *o)
{
    struct acl_reply r;
    enum acl_frame kind;
    char *line;
    size_t len;

    while ((kind = acl_framer_next(fr, &line, &len)) != ACL_FRAME_NONE) {
        if (kind == ACL_FRAME_LINE)
            acl_answer_line(s, line, len, &r);
        else
            acl_answer_refused(s, fr->channel[0] ? fr->channel : NULL, ACL_IN_OVERLONG, &r);
        if (emit(o, &r) != 0)
            return -1;
    }
    return 0;
}

/* End of input: a last line without '\n' is answered ERR, never decided. */
static int answer_rest(struct acl_framer *fr, const struct acl_state *s, struct output *o)
{
    struct acl_query q;
    struct acl_reply r;
    bool overlong;
    char *line;
    size_t len;

    if (acl_framer_rest(fr, &line, &len, &overlong)) {
        if (overlong) {
            acl_answer_refused(s, fr->channel[0] ? fr->channel : NULL, ACL_IN_OVERLONG, &r);
        } else {
            char channel[ACL_CHANNEL_MAX + 1] = "";

            (void)acl_parse_line(line, len, &q); /* only for its channel ID */
            if (q.channel != NULL)
                memcpy(channel, q.channel, q.channel_len);
            acl_answer_refused(s, channel[0] ? channel : NULL, ACL_IN_TRUNCATED, &r);
        }
        if (emit(o, &r) != 0)
            return -1;
    }
    return flush_output(o);
}

static int serve(struct acl_follow *f)
{
    static struct acl_framer fr;
    static struct output out;
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    struct acl_state s;

    acl_framer_init(&fr);
    for (;;) {
        size_t room;
        char *space;
        ssize_t n;

        acl_follow_tick(f, monotonic_s());
        acl_follow_state(f, &s);
        n = poll(&p, 1, POLL_TIMEOUT_MS);
        if (n < 0 && errno != EINTR) {
            acl_log("cannot wait for Squid: %s", strerror(errno));
            return 1;
        }
        if (n <= 0)
            continue;
        space = acl_framer_space(&fr, &room);
        n = read(STDIN_FILENO, space, room);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            acl_log("cannot read from Squid: %s", strerror(errno));
            return 1;
        }
        if (n == 0)
            return answer_rest(&fr, &s, &out) == 0 ? 0 : 1;
        acl_framer_commit(&fr, (size_t)n);
        if (answer_lines(&fr, &s, &out) != 0 || flush_output(&out) != 0)
            return 1;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"brief", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static struct acl_follow follow;
    const char *config = NULL;
    bool bad_args = false, brief = false;
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "bc:hV", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'b')
            brief = true;
        else if (c == 'h')
            return printf(usage_text, O3B_CICAP_CONF, O3B_DEFAULT_CONFIG) < 0;
        else if (c == 'V')
            return printf("o365bypass-acl %s\n", O3B_VERSION) < 0;
        else
            bad_args = true;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, then a clean exit */
    if (bad_args || optind < argc) {
        acl_log("bad arguments (usage: o365bypass-acl [-b] [-c FILE]): every lookup is answered "
                "ERR (inspected)");
        o3b_config_init(&follow.cfg);
        follow.unavailable = "arguments";
    } else {
        acl_follow_start(&follow, config);
    }
    follow.brief = brief;
    rc = serve(&follow);
    acl_follow_stop(&follow);
    return rc;
}
