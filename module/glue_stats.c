/*
 * glue_stats.c - c-icap counters and the page the master shares.
 *
 * c-icap 0.5.10 sums each counter over its children's shared memory and
 * silently drops increments made in the master.  Per-request counters are
 * therefore counted where requests are served; refresh outcomes, which
 * happen in the master, are parked in a small MAP_SHARED page created
 * before the children fork, and the first child to look moves them into its
 * counters with an atomic exchange, so each outcome is counted exactly once.
 * The same page carries the refresh status (seqlock) and the generation of
 * the table file, which children poll to reload.
 *
 * Per-request counts do not go to c-icap directly: c-icap 0.5.10 guards all
 * its statistics with one process-wide mutex, and three or four increments
 * per request made the request threads contend on it (futex calls, 5-14x
 * srv_echo's, in a profile of `make bench`'s header-only runs).  They
 * go to relaxed atomics of this process, one cache line each, and the
 * child's one-second tick moves them into c-icap's counters
 * (o3b_stats_flush), as it does with the parked refresh outcomes.
 */
#include <string.h>
#include <sys/mman.h>

#include "glue.h"

#include "c_icap/stats.h"

#define GROUP O3B_SERVICE_NAME

/* c-icap wants `char *` (it keeps the pointers): mutable storage, never changed. */
static char labels[O3B_C_COUNT][40] = {
    [O3B_C_REQMOD] = "REQMOD requests",
    [O3B_C_RESPMOD] = "RESPMOD requests",
    [O3B_C_CONNECT] = "CONNECT requests",
    [O3B_C_BYPASSED] = "bypassed",
    [O3B_C_INSPECTED] = "inspected",
    [O3B_C_BYPASS_OPTIMIZE] = "bypassed Optimize",
    [O3B_C_BYPASS_ALLOW] = "bypassed Allow",
    [O3B_C_BYPASS_DEFAULT] = "bypassed Default",
    [O3B_C_BYPASS_EXCHANGE] = "bypassed Exchange",
    [O3B_C_BYPASS_SHAREPOINT] = "bypassed SharePoint",
    [O3B_C_BYPASS_SKYPE] = "bypassed Skype",
    [O3B_C_BYPASS_COMMON] = "bypassed Common",
    [O3B_C_BYPASS_MEM] = "bypassed MEM",
    [O3B_C_BYPASS_OTHER_AREA] = "bypassed other area",
    [O3B_C_ALSO_HITS] = "AlsoBypass hits",
    [O3B_C_NEVER_HITS] = "NeverBypass hits",
    [O3B_C_INSPECT_NOT_LISTED] = "inspected not listed",
    [O3B_C_INSPECT_PORT] = "inspected port not listed",
    [O3B_C_INSPECT_CATEGORY] = "inspected category",
    [O3B_C_INSPECT_AREA] = "inspected service area",
    [O3B_C_INSPECT_OPTIONAL] = "inspected optional",
    [O3B_C_INSPECT_TENANT] = "inspected other tenant",
    [O3B_C_INSPECT_DECRYPTED] = "inspected decrypted",
    [O3B_C_INSPECT_SNI_MISMATCH] = "inspected SNI mismatch",
    [O3B_C_REFUSED_MALFORMED] = "refused malformed",
    [O3B_C_REFUSED_MISMATCH] = "refused Host mismatch",
    [O3B_C_TABLE_LOADS] = "table loads",
    [O3B_C_TABLE_LOAD_FAILURES] = "table load failures",
    [O3B_C_REFRESH_UPDATED] = "refresh updated",
    [O3B_C_REFRESH_NOT_MODIFIED] = "refresh not modified",
    [O3B_C_REFRESH_FAILED] = "refresh failed",
    [O3B_C_REFRESH_INVALID] = "refresh refused invalid",
    [O3B_C_REFRESH_SHRINK] = "refresh refused shrink guard",
    [O3B_C_REFRESH_THROTTLED] = "refresh throttled",
    [O3B_C_REFRESH_ACCEPTED] = "refresh accepted",
};

static char group[] = GROUP;
static int ids[O3B_C_COUNT];

/* Counts not yet handed to c-icap, one cache line per counter. */
static struct {
    atomic_ulong n;
    char pad[64 - sizeof(atomic_ulong)];
} pending[O3B_C_COUNT];

struct shared_page {
    struct o3b_shared_status status;
    atomic_ulong parked[O3B_REFRESH_OUTCOME_COUNT];
};

static struct shared_page *page;

void o3b_stats_register(void)
{
    for (int i = 0; i < O3B_C_COUNT; i++)
        ids[i] = ci_stat_entry_register(labels[i], STAT_INT64_T, group);
}

void o3b_stats_inc(enum o3b_counter c)
{
    if ((unsigned)c < O3B_C_COUNT)
        atomic_fetch_add_explicit(&pending[c].n, 1, memory_order_relaxed);
}

void o3b_stats_flush(void)
{
    for (int i = 0; i < O3B_C_COUNT; i++) {
        unsigned long n;

        if (atomic_load_explicit(&pending[i].n, memory_order_relaxed) == 0)
            continue;
        n = atomic_exchange_explicit(&pending[i].n, 0, memory_order_relaxed);
        while (n > 0 && ids[i] >= 0) {
            int chunk = n > 0x40000000ul ? 0x40000000 : (int)n;
            ci_stat_uint64_inc(ids[i], chunk);
            n -= (unsigned long)chunk;
        }
    }
}

static struct shared_page *map_page(void)
{
    void *p;

    if (page != NULL)
        return page;
    p = mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        O3B_LOG(O3B_LOG_ERROR, "cannot map the shared status page\n");
        return NULL;
    }
    memset(p, 0, sizeof *page);
    page = p;
    return page;
}

struct o3b_shared_status *o3b_shared(void)
{
    struct shared_page *p = map_page();

    return p ? &p->status : NULL;
}

void o3b_stats_park_refresh(enum o3b_refresh_outcome o)
{
    struct shared_page *p = map_page();

    if (p != NULL && (unsigned)o < O3B_REFRESH_OUTCOME_COUNT)
        atomic_fetch_add(&p->parked[o], 1);
}

static enum o3b_counter counter_of(enum o3b_refresh_outcome o)
{
    switch (o) {
    case O3B_REFRESH_UPDATED:
        return O3B_C_REFRESH_UPDATED;
    case O3B_REFRESH_NOT_MODIFIED:
        return O3B_C_REFRESH_NOT_MODIFIED;
    case O3B_REFRESH_INVALID:
        return O3B_C_REFRESH_INVALID;
    case O3B_REFRESH_SHRINK:
        return O3B_C_REFRESH_SHRINK;
    case O3B_REFRESH_THROTTLED:
        return O3B_C_REFRESH_THROTTLED;
    case O3B_REFRESH_ACCEPTED:
        return O3B_C_REFRESH_ACCEPTED;
    default:
        return O3B_C_REFRESH_FAILED;
    }
}

void o3b_stats_drain_parked(void)
{
    if (page == NULL)
        return;
    for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++) {
        unsigned long n;
        if (o == O3B_REFRESH_NOT_DUE)
            continue;
        n = atomic_exchange(&page->parked[o], 0);
        if (n > 0 && ids[counter_of((enum o3b_refresh_outcome)o)] >= 0)
            ci_stat_uint64_inc(ids[counter_of((enum o3b_refresh_outcome)o)], (int)n);
    }
}

void o3b_shared_set_status(long long attempt, long long success, long long next_due,
                           const char *result)
{
    struct o3b_shared_status *s = o3b_shared();

    if (s == NULL)
        return;
    atomic_fetch_add(&s->seq, 1); /* odd: writing */
    s->last_attempt = attempt;
    s->last_success = success;
    s->next_due = next_due;
    strncpy(s->last_result, result, sizeof s->last_result - 1);
    s->last_result[sizeof s->last_result - 1] = '\0';
    atomic_fetch_add(&s->seq, 1);
}

void o3b_shared_get_status(long long *attempt, long long *success, long long *next_due,
                           char *result, size_t size)
{
    struct o3b_shared_status *s = page ? &page->status : NULL;

    *attempt = *success = *next_due = 0;
    if (size)
        result[0] = '\0';
    if (s == NULL || size == 0)
        return;
    for (int tries = 0; tries < 100; tries++) {
        unsigned before = atomic_load(&s->seq);
        if (before & 1u)
            continue;
        *attempt = s->last_attempt;
        *success = s->last_success;
        *next_due = s->next_due;
        strncpy(result, s->last_result, size - 1);
        result[size - 1] = '\0';
        if (atomic_load(&s->seq) == before)
            return;
    }
}
