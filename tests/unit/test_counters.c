/* SPDX-License-Identifier: MIT */
/*
 * test_counters.c - the counter schema (counters.h) and what one request
 * counts.
 *
 * The frozen table below is the contract dashboards read: every c-icap
 * label this module has ever registered, with its Prometheus family, label
 * key and value.  The rows must equal it exactly (a label renamed, a
 * mapping dropped or moved to another family fails here); a new counter is
 * added to both.  Then: every reason and outcome has its row, labels and
 * family/label pairs are unique, and o3b_counters_of() gives each kind of
 * decision its counters.
 */
#include <stdbool.h>
#include <string.h>

#include "o365bypass/counters.h"
#include "o365bypass/policy.h"
#include "o365bypass/refresh.h"
#include "unit.h"

struct frozen {
    const char *label, *family, *key, *value;
};

/* Today's 33 labels (module/glue_stats.c before the schema moved to the core). */
static const struct frozen frozen[] = {
    {"REQMOD requests", "o365bypass_requests_total", "method", "REQMOD"},
    {"RESPMOD requests", "o365bypass_requests_total", "method", "RESPMOD"},
    {"CONNECT requests", "o365bypass_connect_requests_total", NULL, NULL},
    {"bypassed", "o365bypass_decisions_total", "verdict", "bypass"},
    {"inspected", "o365bypass_decisions_total", "verdict", "inspect"},
    {"bypassed Optimize", "o365bypass_bypassed_total", "category", "Optimize"},
    {"bypassed Allow", "o365bypass_bypassed_total", "category", "Allow"},
    {"bypassed Default", "o365bypass_bypassed_total", "category", "Default"},
    {"bypassed Exchange", "o365bypass_bypassed_by_area_total", "area", "Exchange"},
    {"bypassed SharePoint", "o365bypass_bypassed_by_area_total", "area", "SharePoint"},
    {"bypassed Skype", "o365bypass_bypassed_by_area_total", "area", "Skype"},
    {"bypassed Common", "o365bypass_bypassed_by_area_total", "area", "Common"},
    {"bypassed MEM", "o365bypass_bypassed_by_area_total", "area", "MEM"},
    {"bypassed other area", "o365bypass_bypassed_by_area_total", "area", "Other"},
    {"AlsoBypass hits", "o365bypass_also_bypass_hits_total", NULL, NULL},
    {"NeverBypass hits", "o365bypass_inspected_total", "reason", "never-bypass"},
    {"inspected not listed", "o365bypass_inspected_total", "reason", "not-listed"},
    {"inspected port not listed", "o365bypass_inspected_total", "reason", "port"},
    {"inspected category", "o365bypass_inspected_total", "reason", "category"},
    {"inspected service area", "o365bypass_inspected_total", "reason", "service-area"},
    {"inspected optional", "o365bypass_inspected_total", "reason", "optional"},
    {"inspected other tenant", "o365bypass_inspected_total", "reason", "tenant"},
    {"refused malformed", "o365bypass_inspected_total", "reason", "malformed"},
    {"refused Host mismatch", "o365bypass_inspected_total", "reason", "host-mismatch"},
    {"table loads", "o365bypass_table_loads_total", NULL, NULL},
    {"table load failures", "o365bypass_table_load_failures_total", NULL, NULL},
    {"refresh updated", "o365bypass_refresh_total", "outcome", "updated"},
    {"refresh not modified", "o365bypass_refresh_total", "outcome", "not-modified"},
    {"refresh failed", "o365bypass_refresh_total", "outcome", "failed"},
    {"refresh refused invalid", "o365bypass_refresh_total", "outcome", "invalid"},
    {"refresh refused shrink guard", "o365bypass_refresh_total", "outcome", "shrink-guard"},
    {"refresh throttled", "o365bypass_refresh_total", "outcome", "throttled"},
    {"refresh accepted", "o365bypass_refresh_total", "outcome", "accepted"},
    /* new counters go here, below the 33 of before */
    {"inspected decrypted", "o365bypass_inspected_total", "reason", "decrypted"},
    {"inspected SNI mismatch", "o365bypass_inspected_total", "reason", "sni-mismatch"},
    {"refresh refused grow guard", "o365bypass_refresh_total", "outcome", "grow-guard"},
};

#define N_FROZEN (sizeof frozen / sizeof frozen[0])

static bool same(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static const char *family_of(enum o3b_counter c)
{
    return o3b_counter_families[o3b_counter_row(c)->family].name;
}

static void test_the_labels_are_exactly_the_frozen_ones_with_the_same_series(void)
{
    size_t counted = 0;

    CU_ASSERT_TRUE(N_FROZEN >= 33);
    for (size_t i = 0; i < N_FROZEN; i++) {
        enum o3b_counter c = o3b_counter_find(frozen[i].label);
        if (c == O3B_C_COUNT) {
            fprintf(stderr, "\n  label '%s' is gone\n", frozen[i].label);
            CU_FAIL("a frozen label is gone");
            continue;
        }
        if (!same(family_of(c), frozen[i].family) ||
            !same(o3b_counter_row(c)->key, frozen[i].key) ||
            !same(o3b_counter_value(c), frozen[i].value)) {
            fprintf(stderr, "\n  '%s' is %s{%s=%s}\n", frozen[i].label, family_of(c),
                    o3b_counter_row(c)->key ? o3b_counter_row(c)->key : "",
                    o3b_counter_value(c) ? o3b_counter_value(c) : "");
            CU_FAIL("a frozen label maps to another series");
        }
    }
    for (int c = 0; c < O3B_C_COUNT; c++)
        counted += o3b_counter_row((enum o3b_counter)c)->label != NULL;
    CU_ASSERT_EQUAL(counted, N_FROZEN); /* and no label besides them */
}

static void test_every_counted_row_has_a_unique_label_and_series(void)
{
    for (int a = 0; a < O3B_C_COUNT; a++) {
        const struct o3b_counter_row *ra = o3b_counter_row((enum o3b_counter)a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
        CU_ASSERT_TRUE((unsigned)ra->family < O3B_FAMILY_COUNT);
        if (ra->label == NULL)
            continue;
        CU_ASSERT_TRUE(strlen(ra->label) < 48); /* the glue's copy */
        if (ra->key != NULL)
            CU_ASSERT_PTR_NOT_NULL(o3b_counter_value((enum o3b_counter)a));
        for (int b = a + 1; b < O3B_C_COUNT; b++) {
            const struct o3b_counter_row *rb = o3b_counter_row((enum o3b_counter)b);
            if (rb->label == NULL)
                continue;
            CU_ASSERT_STRING_NOT_EQUAL(ra->label, rb->label);
            CU_ASSERT_FALSE(ra->family == rb->family && same(ra->key, rb->key) &&
                            same(o3b_counter_value((enum o3b_counter)a),
                                 o3b_counter_value((enum o3b_counter)b)));
        }
    }
}

static void test_every_reason_and_outcome_has_its_row_or_says_why_not(void)
{
    for (int r = 0; r < O3B_R_COUNT; r++) {
        const struct o3b_counter_row *row = o3b_counter_row(O3B_C_REASON_FIRST + r);
        CU_ASSERT_STRING_NOT_EQUAL(o3b_reason_name((enum o3b_reason)r), "?");
        /* only a table bypass is counted by its category and area instead */
        CU_ASSERT_EQUAL(row->label == NULL, r == O3B_R_TABLE);
        if (row->label == NULL)
            CU_ASSERT_PTR_NOT_NULL(row->uncounted);
    }
    for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++) {
        enum o3b_counter c = o3b_counter_of_outcome((enum o3b_refresh_outcome)o);
        CU_ASSERT_STRING_NOT_EQUAL(o3b_refresh_outcome_name((enum o3b_refresh_outcome)o), "?");
        CU_ASSERT_TRUE_FATAL(c < O3B_C_COUNT);
        CU_ASSERT_EQUAL(o3b_counter_row(c)->family, O3B_FAMILY_REFRESH);
        CU_ASSERT_EQUAL(o3b_counter_row(c)->label == NULL, o == O3B_REFRESH_NOT_DUE);
    }
    /* an unknown outcome counts nothing (never "refresh failed") */
    CU_ASSERT_EQUAL(o3b_counter_of_outcome(O3B_REFRESH_OUTCOME_COUNT), O3B_C_COUNT);
    CU_ASSERT_EQUAL(o3b_counter_find("no such label"), O3B_C_COUNT);
}

/* The labels o3b_counters_of gives, joined by '|'. */
static const char *labels_of(const struct o3b_decision *d, enum o3b_request_kind kind,
                             bool is_connect, char *buf, size_t size)
{
    enum o3b_counter ids[O3B_COUNTERS_PER_REQUEST_MAX];
    size_t n = o3b_counters_of(d, kind, is_connect, ids), used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "|" : "",
                                 o3b_counter_row(ids[i])->label);
    return buf;
}

static void test_a_request_counts_its_kind_verdict_reason_category_and_area(void)
{
    struct o3b_set set = {.id = 31, .category = O3B_CAT_OPTIMIZE, .area = O3B_AREA_SHAREPOINT};
    struct o3b_set other = {.id = 9, .category = O3B_CAT_ALLOW, .area = O3B_AREA_OTHER};
    struct o3b_decision table = {.verdict = O3B_BYPASS, .reason = O3B_R_TABLE, .set = &set};
    struct o3b_decision other_area = {.verdict = O3B_BYPASS, .reason = O3B_R_TABLE, .set = &other};
    struct o3b_decision also = {.verdict = O3B_BYPASS, .reason = O3B_R_ALSO};
    struct o3b_decision tenant = {.verdict = O3B_INSPECT, .reason = O3B_R_TENANT, .set = &set};
    struct o3b_decision bad = {.verdict = O3B_INSPECT, .reason = O3B_R_MALFORMED};
    char buf[256];

    CU_ASSERT_STRING_EQUAL(labels_of(&table, O3B_REQ_REQMOD, false, buf, sizeof buf),
                           "REQMOD requests|bypassed|bypassed Optimize|bypassed SharePoint");
    CU_ASSERT_STRING_EQUAL(labels_of(&other_area, O3B_REQ_RESPMOD, false, buf, sizeof buf),
                           "RESPMOD requests|bypassed|bypassed Allow|bypassed other area");
    CU_ASSERT_STRING_EQUAL(labels_of(&also, O3B_REQ_REQMOD, true, buf, sizeof buf),
                           "REQMOD requests|CONNECT requests|bypassed|AlsoBypass hits");
    /* an inspected request is never counted by its set's category or area */
    CU_ASSERT_STRING_EQUAL(labels_of(&tenant, O3B_REQ_REQMOD, true, buf, sizeof buf),
                           "REQMOD requests|CONNECT requests|inspected|inspected other tenant");
    CU_ASSERT_STRING_EQUAL(labels_of(&bad, O3B_REQ_REQMOD, true, buf, sizeof buf),
                           "REQMOD requests|CONNECT requests|inspected|refused malformed");
    for (int r = 0; r < O3B_R_COUNT; r++) {
        struct o3b_decision d = {.verdict =
                                     r == O3B_R_TABLE || r == O3B_R_ALSO ? O3B_BYPASS : O3B_INSPECT,
                                 .reason = (enum o3b_reason)r};
        enum o3b_counter ids[O3B_COUNTERS_PER_REQUEST_MAX];
        /* kind + verdict + the reason's own counter (a table bypass without a set: none) */
        CU_ASSERT_EQUAL(o3b_counters_of(&d, O3B_REQ_REQMOD, false, ids), r == O3B_R_TABLE ? 2 : 3);
    }
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_the_labels_are_exactly_the_frozen_ones_with_the_same_series),
    O3B_TEST(test_every_counted_row_has_a_unique_label_and_series),
    O3B_TEST(test_every_reason_and_outcome_has_its_row_or_says_why_not),
    O3B_TEST(test_a_request_counts_its_kind_verdict_reason_category_and_area),
};

O3B_UNIT_MAIN("counters", tests)
