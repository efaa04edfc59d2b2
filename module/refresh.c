/* SPDX-License-Identifier: MIT */
/*
 * refresh.c - the refresh outcome name table (see refresh.h).
 */
#include "o365bypass/refresh.h"

static const char *const outcome_names[] = {
    [O3B_REFRESH_UPDATED] = "updated",     [O3B_REFRESH_NOT_MODIFIED] = "not-modified",
    [O3B_REFRESH_FAILED] = "failed",       [O3B_REFRESH_INVALID] = "invalid",
    [O3B_REFRESH_SHRINK] = "shrink-guard", [O3B_REFRESH_THROTTLED] = "throttled",
    [O3B_REFRESH_NOT_DUE] = "not-due",     [O3B_REFRESH_ACCEPTED] = "accepted",
    [O3B_REFRESH_GROW] = "grow-guard",
};

_Static_assert(sizeof outcome_names / sizeof outcome_names[0] == O3B_REFRESH_OUTCOME_COUNT,
               "every refresh outcome needs a name");

const char *o3b_refresh_outcome_name(enum o3b_refresh_outcome o)
{
    return (unsigned)o < O3B_REFRESH_OUTCOME_COUNT && outcome_names[o] ? outcome_names[o] : "?";
}
