/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot.c - publishing tables to concurrent readers (snapshot.h).
 *
 * The single-threaded specs follow one table through the two slots: who
 * holds it, when it is freed (the slot's pointer goes back to NULL; under
 * ASan a premature free would be a use-after-free in the checks that follow
 * and a missing one a leak at exit).  The stress test runs 8 reader threads
 * for 2 seconds against a writer that publishes a freshly loaded table
 * about every millisecond, alternating the two real Worldwide versions; a
 * reader checks that everything it sees in one acquired table belongs to
 * the same version (www.acompli.com exists only in the older one, set 193
 * only in the later one).  Built with --enable-sanitizers=thread this is
 * the TSan check of the swap.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "o365bypass/index.h"
#include "o365bypass/io.h"
#include "o365bypass/loader.h"
#include "o365bypass/snapshot.h"
#include "o365bypass/table.h"
#include "unit.h"

#define OLD_VERSION "2025111400"
#define NEW_VERSION "2025121200" /* a label for the later capture, which has none */
#define READERS 8
#define STRESS_SECONDS 2.0

/* ---- the two versions, read once, loaded as often as wanted --------------------------- */

struct version {
    const char *path, *label;
    char *json;
    size_t len;
};

static struct version versions[2] = {
    {O3B_TEST_DATA "/worldwide-2025-11-14.json", OLD_VERSION, NULL, 0},
    {O3B_TEST_DATA "/worldwide-noipv6-post-2025-11-14.json", NEW_VERSION, NULL, 0},
};

static void free_versions(void)
{
    for (int i = 0; i < 2; i++)
        free(versions[i].json);
}

/* A new table of version 0 (older) or 1 (later), owned by the caller. */
static o3b_table *fresh(int which)
{
    struct o3b_table_meta meta;
    struct o3b_load_opts opts = {.meta = &meta};
    struct version *v = &versions[which];
    o3b_err err = {{0}};
    o3b_table *t;

    if (v->json == NULL) {
        static bool registered;
        if (!registered) {
            atexit(free_versions);
            registered = true;
        }
        v->json = o3b_read_file(v->path, 1u << 20, &v->len, &err);
        if (v->json == NULL) {
            fprintf(stderr, "\n  %s\n", err.msg);
            return NULL;
        }
    }
    memset(&meta, 0, sizeof meta);
    snprintf(meta.version, sizeof meta.version, "%s", v->label);
    t = o3b_load_json(v->json, v->len, &opts, &err);
    if (t == NULL)
        fprintf(stderr, "\n  %s\n", err.msg);
    return t;
}

static const struct o3b_set *winner(const o3b_table *t, const char *host)
{
    struct o3b_hit hit;

    o3b_index_lookup_host(o3b_table_index(t), host, strlen(host), 443, &hit);
    return hit.best ? o3b_table_set(t, hit.best->payload) : NULL;
}

/* Does everything in `t` agree with the version its meta names? */
static bool consistent(const o3b_table *t)
{
    bool old = strcmp(o3b_table_meta(t)->version, OLD_VERSION) == 0;
    const struct o3b_set *s;

    if (!old && strcmp(o3b_table_meta(t)->version, NEW_VERSION) != 0)
        return false;
    if (o3b_table_set_count(t) != (old ? 64u : 63u))
        return false;
    s = winner(t, "www.acompli.com"); /* set 105, older file only */
    if ((s != NULL) != old || (s != NULL && s->id != 105))
        return false;
    s = winner(t, "a.static.microsoft"); /* set 184, later moved to 193 */
    if (s == NULL || s->id != (old ? 184u : 193u))
        return false;
    s = winner(t, "outlook.office.com"); /* set 1 in both */
    if (s == NULL || s->id != 1)
        return false;
    return (o3b_table_find_set(t, 105) != NULL) == old;
}

/* ---- one thread ---------------------------------------------------------------------- */

static void test_acquire_on_an_empty_snapshot_gives_null(void)
{
    struct o3b_snapshot s;
    unsigned ticket;

    o3b_snapshot_init(&s);
    CU_ASSERT_PTR_NULL(o3b_snapshot_acquire(&s, &ticket));
    o3b_snapshot_release(&s, ticket);
    o3b_snapshot_reclaim(&s);
    CU_ASSERT_PTR_NULL(o3b_snapshot_acquire(&s, &ticket));
    o3b_snapshot_release(&s, ticket);
    CU_ASSERT_EQUAL(atomic_load(&s.generation), 0);
    o3b_snapshot_destroy(&s);
}

static void test_publish_then_acquire_gives_that_table(void)
{
    struct o3b_snapshot s;
    o3b_table *a = fresh(0);
    unsigned ticket;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, a, 100), 0);
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &ticket), a);
    CU_ASSERT_TRUE(consistent(a));
    o3b_snapshot_release(&s, ticket);
    CU_ASSERT_EQUAL(atomic_load(&s.generation), 1);
    CU_ASSERT_EQUAL(atomic_load(&s.slot[0].readers) + atomic_load(&s.slot[1].readers), 0);
    o3b_snapshot_destroy(&s); /* frees a */
}

static void test_a_held_table_survives_a_publish_and_is_freed_once_released(void)
{
    struct o3b_snapshot s;
    o3b_table *a = fresh(0), *b = fresh(1);
    const o3b_table *got;
    unsigned held, ticket;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, a, 100), 0);
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &held), a);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, b, 100), 0);
    /* the reader still has a whole, usable table (ASan: no use-after-free) */
    CU_ASSERT_TRUE(consistent(a));
    CU_ASSERT_PTR_NOT_NULL(winner(a, "www.acompli.com"));
    /* new readers get b */
    got = o3b_snapshot_acquire(&s, &ticket);
    CU_ASSERT_PTR_EQUAL(got, b);
    o3b_snapshot_release(&s, ticket);
    /* a stays in its slot while held, even across reclaim() */
    o3b_snapshot_reclaim(&s);
    CU_ASSERT_PTR_EQUAL(atomic_load(&s.slot[held].table), a);
    CU_ASSERT_TRUE(consistent(a));
    o3b_snapshot_release(&s, held);
    o3b_snapshot_reclaim(&s); /* now a is freed: its slot is empty */
    CU_ASSERT_PTR_NULL(atomic_load(&s.slot[held].table));
    CU_ASSERT_PTR_EQUAL(atomic_load(&s.slot[1 - held].table), b);
    o3b_snapshot_destroy(&s);
}

static void test_an_unheld_replaced_table_is_freed_by_the_publish(void)
{
    struct o3b_snapshot s;
    o3b_table *a = fresh(0), *b = fresh(1);
    unsigned active;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, a, 100), 0);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, b, 100), 0);
    active = atomic_load(&s.active);
    CU_ASSERT_PTR_EQUAL(atomic_load(&s.slot[active].table), b);
    CU_ASSERT_PTR_NULL(atomic_load(&s.slot[1 - active].table)); /* a freed at once */
    o3b_snapshot_destroy(&s);
}

static void test_publish_gives_up_while_the_slot_to_reuse_is_held(void)
{
    struct o3b_snapshot s;
    o3b_table *a = fresh(0), *b = fresh(1), *c = fresh(0), *d = fresh(1);
    unsigned held, ticket;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, a, 100), 0);
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &held), a);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, b, 100), 0);
    /* the third publish needs a's slot: it waits 5 ms, then frees c and fails */
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, c, 5), -1);
    CU_ASSERT_EQUAL(atomic_load(&s.generation), 2);
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &ticket), b); /* nothing changed */
    o3b_snapshot_release(&s, ticket);
    CU_ASSERT_TRUE(consistent(a));
    o3b_snapshot_release(&s, held);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, d, 5), 0); /* frees a, then b */
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &ticket), d);
    o3b_snapshot_release(&s, ticket);
    CU_ASSERT_PTR_NULL(atomic_load(&s.slot[1 - atomic_load(&s.active)].table));
    o3b_snapshot_destroy(&s);
}

/* The glue's retry: a publish that timed out leaves the table with the
   caller, who publishes the very same table once the old readers are gone. */
static void test_a_refused_publish_keeps_the_table_for_a_retry(void)
{
    struct o3b_snapshot s;
    o3b_table *a = fresh(0), *b = fresh(1), *c = fresh(0), *kept;
    unsigned held, ticket;

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish_or_keep(&s, &a, 100), 0);
    CU_ASSERT_PTR_NULL(a); /* the snapshot owns it now */
    CU_ASSERT_TRUE(consistent(o3b_snapshot_acquire(&s, &held)));
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, b, 100), 0);
    kept = c;
    CU_ASSERT_EQUAL(o3b_snapshot_publish_or_keep(&s, &c, 5), -1);
    CU_ASSERT_PTR_EQUAL(c, kept); /* still ours, not freed */
    CU_ASSERT_TRUE(consistent(c));
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &ticket), b);
    o3b_snapshot_release(&s, ticket);
    o3b_snapshot_release(&s, held);
    CU_ASSERT_EQUAL(o3b_snapshot_publish_or_keep(&s, &c, 5), 0); /* the retry */
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_EQUAL(o3b_snapshot_acquire(&s, &ticket), kept);
    o3b_snapshot_release(&s, ticket);
    o3b_snapshot_destroy(&s);
}

static void test_publishing_null_empties_the_snapshot(void)
{
    struct o3b_snapshot s;
    unsigned ticket;

    o3b_snapshot_init(&s);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, fresh(0), 100), 0);
    CU_ASSERT_EQUAL(o3b_snapshot_publish(&s, NULL, 100), 0);
    CU_ASSERT_PTR_NULL(o3b_snapshot_acquire(&s, &ticket));
    o3b_snapshot_release(&s, ticket);
    o3b_snapshot_destroy(&s);
}

/* ---- many threads ------------------------------------------------------------------------ */

struct stress {
    struct o3b_snapshot snap;
    atomic_bool stop;
    atomic_ulong reads, nulls, inconsistent;
};

static void *reader(void *arg)
{
    struct stress *st = arg;
    unsigned long reads = 0, nulls = 0, bad = 0;

    while (!atomic_load(&st->stop)) {
        unsigned ticket;
        const o3b_table *t = o3b_snapshot_acquire(&st->snap, &ticket);
        if (t == NULL)
            nulls++;
        else if (!consistent(t))
            bad++;
        o3b_snapshot_release(&st->snap, ticket);
        if (++reads % 8 == 0)
            sched_yield(); /* 8 spinning readers on few cores would starve the writer */
    }
    atomic_fetch_add(&st->reads, reads);
    atomic_fetch_add(&st->nulls, nulls);
    atomic_fetch_add(&st->inconsistent, bad);
    return NULL;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_readers_always_see_one_whole_table_while_tables_are_swapped(void)
{
    static struct stress st; /* large: keep it off the stack */
    pthread_t threads[READERS];
    unsigned long publishes = 0, refused = 0;
    const struct timespec one_ms = {0, 1000000};
    double end;
    int started = 0;

    memset(&st, 0, sizeof st);
    o3b_snapshot_init(&st.snap);
    atomic_init(&st.stop, false);
    CU_ASSERT_EQUAL_FATAL(o3b_snapshot_publish(&st.snap, fresh(0), 100), 0);
    for (int i = 0; i < READERS; i++)
        if (pthread_create(&threads[i], NULL, reader, &st) == 0)
            started++;
    CU_ASSERT_EQUAL(started, READERS);
    end = now() + STRESS_SECONDS;
    for (int which = 1; now() < end; which ^= 1) {
        o3b_table *t = fresh(which);
        if (t == NULL)
            break;
        if (o3b_snapshot_publish(&st.snap, t, 1000) == 0)
            publishes++;
        else
            refused++;
        nanosleep(&one_ms, NULL);
    }
    atomic_store(&st.stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    printf(" [%lu reads, %lu publishes, %lu refused, %lu inconsistent] ",
           (unsigned long)atomic_load(&st.reads), publishes, refused,
           (unsigned long)atomic_load(&st.inconsistent));
    CU_ASSERT_EQUAL(atomic_load(&st.inconsistent), 0);
    CU_ASSERT_EQUAL(atomic_load(&st.nulls), 0);
    CU_ASSERT_TRUE(atomic_load(&st.reads) > 0);
    CU_ASSERT_TRUE(publishes > 0);
    CU_ASSERT_EQUAL(refused, 0);
    CU_ASSERT_EQUAL(atomic_load(&st.snap.generation), publishes + 1);
    CU_ASSERT_EQUAL(atomic_load(&st.snap.slot[0].readers) + atomic_load(&st.snap.slot[1].readers),
                    0);
    o3b_snapshot_destroy(&st.snap);
}

static const struct o3b_unit_test tests[] = {
    O3B_TEST(test_acquire_on_an_empty_snapshot_gives_null),
    O3B_TEST(test_publish_then_acquire_gives_that_table),
    O3B_TEST(test_a_held_table_survives_a_publish_and_is_freed_once_released),
    O3B_TEST(test_an_unheld_replaced_table_is_freed_by_the_publish),
    O3B_TEST(test_publish_gives_up_while_the_slot_to_reuse_is_held),
    O3B_TEST(test_a_refused_publish_keeps_the_table_for_a_retry),
    O3B_TEST(test_publishing_null_empties_the_snapshot),
    O3B_TEST(test_readers_always_see_one_whole_table_while_tables_are_swapped),
};

O3B_UNIT_MAIN("snapshot", tests)
