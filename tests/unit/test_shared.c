/* SPDX-License-Identifier: MIT */
/*
 * test_shared.c - the master<->children page (shared.h) under contention.
 *
 * Two shapes of the same race, each bounded in count and time:
 *   processes  fork() children that drain parked outcomes and read the
 *              status in a loop while the parent (the "master") parks
 *              outcomes and publishes statuses, as c-icap's master and
 *              children do through the MAP_SHARED page;
 *   threads    the same with threads in one process, so ThreadSanitizer
 *              (scripts/test-all builds this test with
 *              --enable-sanitizers=thread) sees every access of the page.
 * Both must account for every parked outcome exactly once (the drainers'
 * totals plus a last drain equal what was parked, per outcome), and no
 * status read may mix two writes: each status the writer publishes is
 * derived from one number (attempt n, success 2n, next 3n, a result and a
 * client id spelling n), which every reader checks.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "o365bypass/refresh.h"
#include "o365bypass/shared.h"
#include "unit.h"

#define DRAINERS 4
#define PARKS 200000
#define STATUS_EVERY 16  /* a status write every this many parks */
#define MAX_SECONDS 20.0 /* a drainer gives up after this long (a hung writer) */

/* What the drainers report back (itself in shared memory for the processes). */
struct board {
    atomic_int done; /* the writer finished */
    atomic_ulong taken[DRAINERS][O3B_REFRESH_OUTCOME_COUNT];
    atomic_ulong reads[DRAINERS], torn[DRAINERS], busy[DRAINERS];
};

static void status_of(long long n, struct o3b_refresh_status *st)
{
    memset(st, 0, sizeof *st);
    st->last_attempt = n;
    st->last_success = 2 * n;
    st->next_due = 3 * n;
    snprintf(st->result, sizeof st->result, "status %lld: %0*lld", n, 150, n);
    snprintf(st->client_request_id, sizeof st->client_request_id, "%036lld", n);
}

static bool whole(const struct o3b_refresh_status *st)
{
    struct o3b_refresh_status want;

    if (st->last_attempt == 0) /* nothing written yet: all zero */
        return st->last_success == 0 && st->next_due == 0 && st->result[0] == '\0';
    status_of(st->last_attempt, &want);
    return memcmp(st, &want, sizeof want) == 0;
}

/* One drainer's loop; `me` indexes its slots on the board. */
static void drain_until_done(struct o3b_shared *s, struct board *b, int me)
{
    unsigned long taken[O3B_REFRESH_OUTCOME_COUNT];
    double start = now_s();
    int last_round = 0;

    while (last_round < 2 && now_s() - start < MAX_SECONDS) {
        struct o3b_refresh_status st;

        if (atomic_load(&b->done))
            last_round++; /* one more pass after the writer stopped */
        o3b_shared_drain(s, taken);
        for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++)
            atomic_fetch_add(&b->taken[me][o], taken[o]);
        if (o3b_shared_get_status(s, &st) != 0)
            atomic_fetch_add(&b->busy[me], 1);
        else if (!whole(&st))
            atomic_fetch_add(&b->torn[me], 1);
        atomic_fetch_add(&b->reads[me], 1);
    }
}

/* The "master": park every outcome in turn, publish a status now and then. */
static void write_all(struct o3b_shared *s, unsigned long parked[O3B_REFRESH_OUTCOME_COUNT])
{
    struct o3b_refresh_status st;

    memset(parked, 0, sizeof(unsigned long) * O3B_REFRESH_OUTCOME_COUNT);
    for (long long n = 1; n <= PARKS; n++) {
        enum o3b_refresh_outcome o = (enum o3b_refresh_outcome)(n % O3B_REFRESH_OUTCOME_COUNT);
        o3b_shared_park(s, o);
        parked[o]++;
        if (n % STATUS_EVERY == 0) {
            status_of(n, &st);
            o3b_shared_set_status(s, &st);
        }
    }
}

/* Every parked outcome taken exactly once; no torn read. */
static void check_board(struct o3b_shared *s, struct board *b,
                        const unsigned long parked[O3B_REFRESH_OUTCOME_COUNT])
{
    unsigned long rest[O3B_REFRESH_OUTCOME_COUNT], reads = 0, torn = 0, busy = 0;

    o3b_shared_drain(s, rest); /* should find nothing left */
    for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++) {
        unsigned long sum = rest[o];
        for (int d = 0; d < DRAINERS; d++)
            sum += atomic_load(&b->taken[d][o]);
        CU_ASSERT_EQUAL(sum, parked[o]);
        if (sum != parked[o])
            fprintf(stderr, "\n  outcome %d: %lu taken, %lu parked\n", o, sum, parked[o]);
    }
    for (int d = 0; d < DRAINERS; d++) {
        reads += atomic_load(&b->reads[d]);
        torn += atomic_load(&b->torn[d]);
        busy += atomic_load(&b->busy[d]);
    }
    printf(" [%lu status reads, %lu torn, %lu gave up] ", reads, torn, busy);
    CU_ASSERT_TRUE(reads >= DRAINERS);
    CU_ASSERT_EQUAL(torn, 0);
    CU_ASSERT_EQUAL(busy, 0);
}

static void test_parked_outcomes_are_drained_exactly_once_by_concurrent_processes(void)
{
    unsigned long parked[O3B_REFRESH_OUTCOME_COUNT];
    struct board *b =
        mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct o3b_shared *s = o3b_shared_new(NULL);
    pid_t pids[DRAINERS];

    CU_ASSERT_FATAL(b != MAP_FAILED && s != NULL);
    memset(b, 0, sizeof *b);
    for (int d = 0; d < DRAINERS; d++) {
        pids[d] = fork();
        CU_ASSERT_FATAL(pids[d] >= 0);
        if (pids[d] == 0) {
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
            drain_until_done(s, b, d);
            _exit(0);
        }
    }
    write_all(s, parked);
    atomic_store(&b->done, 1);
    for (int d = 0; d < DRAINERS; d++) {
        int status = -1;
        CU_ASSERT_EQUAL(waitpid(pids[d], &status, 0), pids[d]);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    check_board(s, b, parked);
    o3b_shared_free(&s);
    CU_ASSERT_PTR_NULL(s);
    munmap(b, sizeof *b);
}

struct drainer {
    struct o3b_shared *s;
    struct board *b;
    int me;
};

static void *drainer_thread(void *arg)
{
    struct drainer *d = arg;

    drain_until_done(d->s, d->b, d->me);
    return NULL;
}

static void test_parked_outcomes_are_drained_exactly_once_by_concurrent_threads(void)
{
    unsigned long parked[O3B_REFRESH_OUTCOME_COUNT];
    static struct board b;
    struct o3b_shared *s = o3b_shared_new(NULL);
    struct drainer ds[DRAINERS];
    pthread_t th[DRAINERS];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(&b, 0, sizeof b);
    for (int d = 0; d < DRAINERS; d++) {
        ds[d] = (struct drainer){s, &b, d};
        CU_ASSERT_FATAL(pthread_create(&th[d], NULL, drainer_thread, &ds[d]) == 0);
    }
    write_all(s, parked);
    atomic_store(&b.done, 1);
    for (int d = 0; d < DRAINERS; d++)
        pthread_join(th[d], NULL);
    check_board(s, &b, parked);
    o3b_shared_free(&s);
}

static void test_the_page_starts_empty_and_counts_generations(void)
{
    struct o3b_shared *s = o3b_shared_new(NULL);
    struct o3b_refresh_status st, want;
    unsigned long taken[O3B_REFRESH_OUTCOME_COUNT];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(o3b_shared_generation(s), 0);
    CU_ASSERT_EQUAL(o3b_shared_bump_generation(s), 1);
    CU_ASSERT_EQUAL(o3b_shared_bump_generation(s), 2);
    CU_ASSERT_EQUAL(o3b_shared_generation(s), 2);
    CU_ASSERT_EQUAL(o3b_shared_drain(s, taken), 0);
    CU_ASSERT_EQUAL(o3b_shared_get_status(s, &st), 0);
    CU_ASSERT_EQUAL(st.last_attempt, 0);
    CU_ASSERT_STRING_EQUAL(st.result, "");
    o3b_shared_park(s, O3B_REFRESH_FAILED);
    o3b_shared_park(s, O3B_REFRESH_FAILED);
    o3b_shared_park(s, O3B_REFRESH_OUTCOME_COUNT); /* out of range: ignored */
    CU_ASSERT_EQUAL(o3b_shared_drain(s, taken), 2);
    CU_ASSERT_EQUAL(taken[O3B_REFRESH_FAILED], 2);
    CU_ASSERT_EQUAL(o3b_shared_drain(s, taken), 0);
    status_of(7, &want);
    o3b_shared_set_status(s, &want);
    CU_ASSERT_EQUAL(o3b_shared_get_status(s, &st), 0);
    CU_ASSERT_EQUAL(memcmp(&st, &want, sizeof st), 0);
    o3b_shared_free(&s);
    o3b_shared_free(&s); /* twice is harmless */
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_the_page_starts_empty_and_counts_generations),
    O3B_TEST(test_parked_outcomes_are_drained_exactly_once_by_concurrent_processes),
    O3B_TEST(test_parked_outcomes_are_drained_exactly_once_by_concurrent_threads),
};

O3B_UNIT_MAIN("shared", tests)
