/* SPDX-License-Identifier: MIT */
/*
 * counters.c - the counter rows and which of them a request counts (see
 * counters.h).
 *
 * One positional array per group, in the order of the enum it follows; the
 * static assertions below make a group that lacks a row (a new reason, a
 * new outcome) fail to compile.  test_counters checks every row against a
 * frozen copy of the labels and Prometheus series dashboards use.
 */
#include "o365bypass/counters.h"

#include <string.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

const struct o3b_counter_family_info o3b_counter_families[O3B_FAMILY_COUNT] = {
    [O3B_FAMILY_REQUESTS] = {"o365bypass_requests_total",
                             "ICAP requests the service classified, by method."},
    [O3B_FAMILY_CONNECT] = {"o365bypass_connect_requests_total",
                            "Classified requests that were HTTP CONNECTs (HTTPS without "
                            "ssl-bump)."},
    [O3B_FAMILY_DECISIONS] = {"o365bypass_decisions_total", "Decisions, by verdict."},
    [O3B_FAMILY_BYPASSED] = {"o365bypass_bypassed_total",
                             "Requests bypassed because of Microsoft's table, by category."},
    [O3B_FAMILY_BYPASSED_AREA] = {"o365bypass_bypassed_by_area_total",
                                  "Requests bypassed because of Microsoft's table, by service "
                                  "area."},
    [O3B_FAMILY_ALSO_BYPASS] = {"o365bypass_also_bypass_hits_total",
                                "Requests bypassed because of the local AlsoBypass list."},
    [O3B_FAMILY_INSPECTED] = {"o365bypass_inspected_total",
                              "Requests sent on to inspection, by reason."},
    [O3B_FAMILY_TABLE_LOADS] = {"o365bypass_table_loads_total",
                                "Endpoint tables loaded by the children."},
    [O3B_FAMILY_TABLE_LOAD_FAILURES] = {"o365bypass_table_load_failures_total",
                                        "Endpoint table files the children could not load."},
    [O3B_FAMILY_REFRESH] = {"o365bypass_refresh_total",
                            "Refresh attempts of the master, by outcome."},
};

/* O3B_C_REQMOD .. O3B_C_INSPECTED */
static const struct o3b_counter_row fixed_rows[] = {
    {"REQMOD requests", O3B_FAMILY_REQUESTS, "method", "REQMOD", NULL},
    {"RESPMOD requests", O3B_FAMILY_REQUESTS, "method", "RESPMOD", NULL},
    {"CONNECT requests", O3B_FAMILY_CONNECT, NULL, NULL, NULL},
    {"bypassed", O3B_FAMILY_DECISIONS, "verdict", "bypass", NULL},
    {"inspected", O3B_FAMILY_DECISIONS, "verdict", "inspect", NULL},
};

/* enum o3b_category, in its order */
static const struct o3b_counter_row category_rows[] = {
    /* O3B_CAT_DEFAULT */ {"bypassed Default", O3B_FAMILY_BYPASSED, "category", NULL, NULL},
    /* O3B_CAT_ALLOW */ {"bypassed Allow", O3B_FAMILY_BYPASSED, "category", NULL, NULL},
    /* O3B_CAT_OPTIMIZE */ {"bypassed Optimize", O3B_FAMILY_BYPASSED, "category", NULL, NULL},
};

/* enum o3b_area, in its order */
static const struct o3b_counter_row area_rows[] = {
    /* O3B_AREA_EXCHANGE */ {"bypassed Exchange", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
    /* O3B_AREA_SHAREPOINT */
    {"bypassed SharePoint", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
    /* O3B_AREA_SKYPE */ {"bypassed Skype", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
    /* O3B_AREA_COMMON */ {"bypassed Common", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
    /* O3B_AREA_MEM */ {"bypassed MEM", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
    /* O3B_AREA_OTHER */ {"bypassed other area", O3B_FAMILY_BYPASSED_AREA, "area", NULL, NULL},
};

/* enum o3b_reason, in its order */
static const struct o3b_counter_row reason_rows[] = {
    /* O3B_R_TABLE */
    {NULL, O3B_FAMILY_DECISIONS, NULL, NULL,
     "a table bypass is counted as bypassed, by its category and its area"},
    /* O3B_R_ALSO */ {"AlsoBypass hits", O3B_FAMILY_ALSO_BYPASS, NULL, NULL, NULL},
    /* O3B_R_MALFORMED */ {"refused malformed", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_MISMATCH */ {"refused Host mismatch", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_NEVER */ {"NeverBypass hits", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_NOT_LISTED */ {"inspected not listed", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_PORT */ {"inspected port not listed", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_CATEGORY */ {"inspected category", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_AREA */ {"inspected service area", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_OPTIONAL */ {"inspected optional", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_TENANT */ {"inspected other tenant", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_DECRYPTED */ {"inspected decrypted", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
    /* O3B_R_SNI_MISMATCH */
    {"inspected SNI mismatch", O3B_FAMILY_INSPECTED, "reason", NULL, NULL},
};

/* O3B_C_TABLE_LOADS, O3B_C_TABLE_LOAD_FAILURES */
static const struct o3b_counter_row table_rows[] = {
    {"table loads", O3B_FAMILY_TABLE_LOADS, NULL, NULL, NULL},
    {"table load failures", O3B_FAMILY_TABLE_LOAD_FAILURES, NULL, NULL, NULL},
};

/* enum o3b_refresh_outcome, in its order */
static const struct o3b_counter_row outcome_rows[] = {
    /* O3B_REFRESH_UPDATED */ {"refresh updated", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_NOT_MODIFIED */
    {"refresh not modified", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_FAILED */ {"refresh failed", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_INVALID */
    {"refresh refused invalid", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_SHRINK */
    {"refresh refused shrink guard", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_THROTTLED */ {"refresh throttled", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_NOT_DUE */
    {NULL, O3B_FAMILY_REFRESH, "outcome", NULL, "a refresh that was not due did nothing"},
    /* O3B_REFRESH_ACCEPTED */ {"refresh accepted", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
    /* O3B_REFRESH_GROW */
    {"refresh refused grow guard", O3B_FAMILY_REFRESH, "outcome", NULL, NULL},
};

_Static_assert(COUNT_OF(fixed_rows) == O3B_C_CATEGORY_FIRST, "a fixed counter lacks its row");
_Static_assert(COUNT_OF(category_rows) == O3B_CAT_COUNT, "a category lacks its counter row");
_Static_assert(COUNT_OF(area_rows) == O3B_AREA_COUNT, "a service area lacks its counter row");
_Static_assert(COUNT_OF(reason_rows) == O3B_R_COUNT, "a decision reason lacks its counter row");
_Static_assert(COUNT_OF(table_rows) == O3B_C_REFRESH_FIRST - O3B_C_TABLE_LOADS,
               "a table counter lacks its row");
_Static_assert(COUNT_OF(outcome_rows) == O3B_REFRESH_OUTCOME_COUNT,
               "a refresh outcome lacks its counter row");

/* The group of an id: its rows, its first id, and the name of its values. */
struct group {
    const struct o3b_counter_row *rows;
    enum o3b_counter first;
    size_t n;
};

static struct group group_of(enum o3b_counter c)
{
    static const struct group groups[] = {
        {fixed_rows, O3B_C_REQMOD, COUNT_OF(fixed_rows)},
        {category_rows, O3B_C_CATEGORY_FIRST, COUNT_OF(category_rows)},
        {area_rows, O3B_C_AREA_FIRST, COUNT_OF(area_rows)},
        {reason_rows, O3B_C_REASON_FIRST, COUNT_OF(reason_rows)},
        {table_rows, O3B_C_TABLE_LOADS, COUNT_OF(table_rows)},
        {outcome_rows, O3B_C_REFRESH_FIRST, COUNT_OF(outcome_rows)},
    };
    static const struct group none = {NULL, O3B_C_COUNT, 0};

    for (size_t g = 0; g < COUNT_OF(groups); g++)
        if (c >= groups[g].first && (size_t)(c - groups[g].first) < groups[g].n)
            return groups[g];
    return none;
}

const struct o3b_counter_row *o3b_counter_row(enum o3b_counter c)
{
    struct group g = group_of(c);

    return g.rows ? &g.rows[c - g.first] : NULL;
}

const char *o3b_counter_value(enum o3b_counter c)
{
    const struct o3b_counter_row *r = o3b_counter_row(c);
    int i;

    if (r == NULL || r->key == NULL)
        return NULL;
    if (r->value != NULL)
        return r->value;
    i = (int)(c - group_of(c).first);
    if (c >= O3B_C_REFRESH_FIRST)
        return o3b_refresh_outcome_name((enum o3b_refresh_outcome)i);
    if (c >= O3B_C_REASON_FIRST)
        return o3b_reason_name((enum o3b_reason)i);
    if (c >= O3B_C_AREA_FIRST)
        return o3b_area_name((enum o3b_area)i);
    return o3b_category_name((enum o3b_category)i);
}

enum o3b_counter o3b_counter_find(const char *label)
{
    for (int c = 0; c < O3B_C_COUNT; c++) {
        const struct o3b_counter_row *r = o3b_counter_row((enum o3b_counter)c);
        if (r->label != NULL && strcmp(r->label, label) == 0)
            return (enum o3b_counter)c;
    }
    return O3B_C_COUNT;
}

enum o3b_counter o3b_counter_of_outcome(enum o3b_refresh_outcome o)
{
    return (unsigned)o < O3B_REFRESH_OUTCOME_COUNT ? (enum o3b_counter)(O3B_C_REFRESH_FIRST + o)
                                                   : O3B_C_COUNT;
}

/* Append `c` when its row counts. */
static void add(enum o3b_counter c, enum o3b_counter *out, size_t *n)
{
    const struct o3b_counter_row *r = o3b_counter_row(c);

    if (r != NULL && r->label != NULL && *n < O3B_COUNTERS_PER_REQUEST_MAX)
        out[(*n)++] = c;
}

size_t o3b_counters_of(const struct o3b_decision *d, enum o3b_request_kind kind, bool is_connect,
                       enum o3b_counter out[O3B_COUNTERS_PER_REQUEST_MAX])
{
    size_t n = 0;

    add(kind == O3B_REQ_RESPMOD ? O3B_C_RESPMOD : O3B_C_REQMOD, out, &n);
    if (is_connect)
        add(O3B_C_CONNECT, out, &n);
    add(d->verdict == O3B_BYPASS ? O3B_C_BYPASSED : O3B_C_INSPECTED, out, &n);
    if ((unsigned)d->reason < O3B_R_COUNT)
        add((enum o3b_counter)(O3B_C_REASON_FIRST + d->reason), out, &n);
    if (d->verdict == O3B_BYPASS && d->reason == O3B_R_TABLE && d->set != NULL) {
        if (d->set->category < O3B_CAT_COUNT)
            add((enum o3b_counter)(O3B_C_CATEGORY_FIRST + d->set->category), out, &n);
        if (d->set->area < O3B_AREA_COUNT)
            add((enum o3b_counter)(O3B_C_AREA_FIRST + d->set->area), out, &n);
    }
    return n;
}
