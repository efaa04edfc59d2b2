/* SPDX-License-Identifier: MIT */
/*
 * counters.h - the counter schema: one declarative row per counter.
 *
 * The ids are derived from the core's enums: a few fixed counters, then one
 * per category, per service area, per decision reason and per refresh
 * outcome, in enum order.  Each row holds the label c-icap shows (these are
 * what dashboards read: never rename one), the Prometheus family, and the
 * Prometheus label key and value (the value of a per-enum row is the enum's
 * own name: o3b_reason_name, o3b_category_name, ...).  A value that counts
 * nothing on its own says why instead (a table bypass is counted by its
 * category and area; a refresh that was not due did nothing).  Each group
 * of rows is a positional array whose size is checked against its enum at
 * compile time, so a new reason or outcome without its row does not build.
 *
 * o3b_counters_of() says which counters one request increments; the glue
 * only iterates and increments, and the CLI's `stats --prometheus` maps the
 * labels it reads back through the same rows.  Pure code: no allocation,
 * no lock, usable on the hot path.
 */
#ifndef O365BYPASS_COUNTERS_H
#define O365BYPASS_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "o365bypass/policy.h"
#include "o365bypass/refresh.h"
#include "o365bypass/table.h"

enum o3b_counter {
    O3B_C_REQMOD = 0,
    O3B_C_RESPMOD,
    O3B_C_CONNECT, /* every REQMOD of a CONNECT, well-formed or not */
    O3B_C_BYPASSED,
    O3B_C_INSPECTED,
    O3B_C_CATEGORY_FIRST,                                    /* + enum o3b_category */
    O3B_C_AREA_FIRST = O3B_C_CATEGORY_FIRST + O3B_CAT_COUNT, /* + enum o3b_area */
    O3B_C_REASON_FIRST = O3B_C_AREA_FIRST + O3B_AREA_COUNT,  /* + enum o3b_reason */
    O3B_C_TABLE_LOADS = O3B_C_REASON_FIRST + O3B_R_COUNT,
    O3B_C_TABLE_LOAD_FAILURES,
    O3B_C_REFRESH_FIRST, /* + enum o3b_refresh_outcome */
    O3B_C_COUNT = O3B_C_REFRESH_FIRST + O3B_REFRESH_OUTCOME_COUNT
};

/* Prometheus metric families. */
enum o3b_counter_family {
    O3B_FAMILY_REQUESTS = 0,
    O3B_FAMILY_CONNECT,
    O3B_FAMILY_DECISIONS,
    O3B_FAMILY_BYPASSED,
    O3B_FAMILY_BYPASSED_AREA,
    O3B_FAMILY_ALSO_BYPASS,
    O3B_FAMILY_INSPECTED,
    O3B_FAMILY_TABLE_LOADS,
    O3B_FAMILY_TABLE_LOAD_FAILURES,
    O3B_FAMILY_REFRESH,
    O3B_FAMILY_COUNT
};

struct o3b_counter_family_info {
    const char *name; /* "o365bypass_inspected_total" */
    const char *help; /* the HELP line */
};

struct o3b_counter_row {
    const char *label; /* c-icap's label; NULL: this value counts nothing on its own */
    enum o3b_counter_family family;
    const char *key;       /* Prometheus label name, or NULL */
    const char *value;     /* its value; NULL with a key: the enum value's name */
    const char *uncounted; /* with label NULL: why */
};

extern const struct o3b_counter_family_info o3b_counter_families[O3B_FAMILY_COUNT];

/* The row of a counter id (never NULL for an id below O3B_C_COUNT). */
const struct o3b_counter_row *o3b_counter_row(enum o3b_counter c);

/* The Prometheus label value of a row with a key (the literal, or the
   name of the enum value the row stands for); NULL without a key. */
const char *o3b_counter_value(enum o3b_counter c);

/* The counter with this c-icap label, or O3B_C_COUNT when none has it. */
enum o3b_counter o3b_counter_find(const char *label);

/* The counter of one refresh outcome, or O3B_C_COUNT (out of range). */
enum o3b_counter o3b_counter_of_outcome(enum o3b_refresh_outcome o);

enum o3b_request_kind { O3B_REQ_REQMOD = 0, O3B_REQ_RESPMOD };

#define O3B_COUNTERS_PER_REQUEST_MAX 6

/* The counters one classified request increments, into `out`; returns how
   many.  Only rows with a label are returned. */
size_t o3b_counters_of(const struct o3b_decision *d, enum o3b_request_kind kind, bool is_connect,
                       enum o3b_counter out[O3B_COUNTERS_PER_REQUEST_MAX]);

#endif
