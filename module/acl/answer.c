/* SPDX-License-Identifier: MIT */
/*
 * answer.c - one lookup line in, one reply line out, decided by the core.
 *
 * The line's tokens become the request the proxy would make (proto.c);
 * o3b_target_parse() refuses what the module refuses, the SNI goes in with
 * o3b_target_set_sni() as the module's X-O365bypass-SNI header does,
 * o3b_decide() decides what the module decides, o3b_decision_format() gives
 * the same decision text as the module's X-O365bypass-Decision header.  OK means bypass,
 * ERR means inspect; every reply carries the decision as notes Squid can
 * log (%note, %{name}note) and match (acl ... note):
 *   o365bypass_verdict   bypass | inspect (the note the fast path matches)
 *   o365bypass_reason    the decision's reason ("table", "not-listed",
 *                        "sni-mismatch", "decrypted", ...), or "malformed"
 *                        for a line that cannot be read,
 *                        "unavailable" when the helper has no usable table
 *   o365bypass_detail    why a target or a line was refused
 *   o365bypass_set, _category, _area, _match   the endpoint set and entry
 *   o365bypass_table     the table's tag (version and content hash)
 *   message              one sentence (Squid's %o on error pages)
 *   log                  the decision header text (Squid's %ea)
 * The names are the request attributes the module logs in c-icap.  With
 * --brief a decision carries only o365bypass_verdict, o365bypass_reason and
 * log (a line that cannot be read is still answered in full).
 * Pure: no I/O, no allocation.
 */
#include <stdio.h>
#include <string.h>

#include "acl.h"

#include "o365bypass/policy.h"
#include "o365bypass/target.h"

/* The common tail of every reply: the table in use and the log text. */
static void finish(const struct acl_state *s, const char *log, struct acl_reply *r)
{
    if (s->table_tag != NULL && s->table_tag[0] != '\0')
        acl_reply_kv(r, "o365bypass_table", s->table_tag);
    acl_reply_kv(r, "log", log);
    acl_reply_end(r);
}

/* An inspect reply that is not a decision (a refused line, no table):
   "inspect; reason=R[; detail=D]", shaped like the decision header. */
static void inspect_reply(const struct acl_state *s, const char *channel, size_t channel_len,
                          const char *reason, const char *detail, const char *message,
                          struct acl_reply *r)
{
    char log[160];

    snprintf(log, sizeof log, "inspect; reason=%s%s%s", reason, detail ? "; detail=" : "",
             detail ? detail : "");
    acl_reply_begin(r, channel, channel_len, false);
    acl_reply_kv(r, "message", message);
    acl_reply_kv(r, "o365bypass_verdict", "inspect");
    acl_reply_kv(r, "o365bypass_reason", reason);
    if (detail != NULL)
        acl_reply_kv(r, "o365bypass_detail", detail);
    finish(s, log, r);
}

void acl_answer_refused(const struct acl_state *s, const char *channel, enum acl_input_error e,
                        struct acl_reply *r)
{
    inspect_reply(s, channel, channel ? strlen(channel) : 0, "malformed", acl_input_error_name(e),
                  acl_input_error_text(e), r);
}

static void decision_reply(const struct acl_state *s, const struct acl_query *q,
                           const struct o3b_decision *d, struct acl_reply *r)
{
    bool refused = d->reason == O3B_R_MALFORMED || d->reason == O3B_R_MISMATCH;
    char log[640], id[16];

    o3b_decision_format(d, log, sizeof log);
    acl_reply_begin(r, q->channel, q->channel_len, d->verdict == O3B_BYPASS);
    if (!s->brief)
        acl_reply_kv(r, "message",
                     refused ? o3b_target_status_text(d->target_status)
                             : o3b_reason_text(d->reason));
    acl_reply_kv(r, "o365bypass_verdict", d->verdict == O3B_BYPASS ? "bypass" : "inspect");
    acl_reply_kv(r, "o365bypass_reason", o3b_reason_name(d->reason));
    if (s->brief) {
        acl_reply_kv(r, "log", log);
        acl_reply_end(r);
        return;
    }
    if (refused)
        acl_reply_kv(r, "o365bypass_detail", o3b_target_status_name(d->target_status));
    if (d->set != NULL) {
        snprintf(id, sizeof id, "%u", (unsigned)d->set->id);
        acl_reply_kv(r, "o365bypass_set", id);
        acl_reply_kv(r, "o365bypass_category", o3b_category_name(d->set->category));
        acl_reply_kv(r, "o365bypass_area", d->set->area_name);
    }
    if (d->entry != NULL)
        acl_reply_kv(r, "o365bypass_match", d->entry->text);
    finish(s, log, r);
}

void acl_answer_line(const struct acl_state *s, char *line, size_t len, struct acl_reply *r)
{
    char request[ACL_LINE_MAX + 64];
    struct o3b_target target;
    struct o3b_decision d;
    struct acl_query q;
    enum acl_input_error e = acl_parse_line(line, len, &q);
    enum o3b_target_status st;
    size_t n;

    if (e != ACL_IN_OK) {
        inspect_reply(s, q.channel, q.channel_len, "malformed", acl_input_error_name(e),
                      acl_input_error_text(e), r);
        return;
    }
    if (s->unavailable != NULL) {
        inspect_reply(s, q.channel, q.channel_len, "unavailable", s->unavailable,
                      "o365bypass-acl has no usable configuration or table (see cache.log)", r);
        return;
    }
    n = acl_request_line(&q, request, sizeof request);
    st = n > 0 ? o3b_target_parse(request, n, NULL, NULL, 0, &target) : O3B_TARGET_BAD_REQUEST_LINE;
    if (st == O3B_TARGET_OK)
        o3b_target_set_sni(&target, q.sni, q.sni_len); /* NULL: no SNI */
    o3b_decide(s->table, s->policy, &target, st, &d);
    decision_reply(s, &q, &d, r);
}
