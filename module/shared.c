/* SPDX-License-Identifier: MIT */
/*
 * shared.c - the master<->children page (see shared.h).
 *
 * The seqlock follows Boehm's C11 formulation ("Can seqlocks get along with
 * programming language memory models?", 2012): the writer makes the
 * sequence odd with a compare-exchange (which also keeps two writers out of
 * each other's way), then a release fence, then stores every data word with
 * relaxed atomics, then publishes the even sequence with a release store.
 * A reader loads the sequence with acquire, loads the data words with
 * relaxed atomics, issues an acquire fence and re-reads the sequence: equal
 * and even means the copy is whole.  The status is packed into 64-bit
 * atomic words (three times, then the two strings), so no byte of it is
 * ever accessed non-atomically.  Parked outcomes are plain counters moved
 * with atomic_exchange: whichever process exchanges first takes them all,
 * the others take zero, so each one is counted once.
 */
#include "o365bypass/shared.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define STATUS_BYTES sizeof(struct o3b_refresh_status)
#define STATUS_WORDS ((STATUS_BYTES + 7) / 8)
#define READ_TRIES 10000

struct o3b_shared {
    atomic_ulong generation;
    atomic_ulong parked[O3B_REFRESH_OUTCOME_COUNT];
    atomic_uint seq; /* odd while the status is being written */
    _Atomic uint64_t status[STATUS_WORDS];
};

struct o3b_shared *o3b_shared_new(o3b_err *err)
{
    struct o3b_shared *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (s == MAP_FAILED) {
        o3b_err_set(err, "cannot map the shared page");
        return NULL;
    }
    /* a fresh anonymous mapping is zero-filled; initialise the atomics anyway */
    atomic_init(&s->generation, 0);
    for (int i = 0; i < O3B_REFRESH_OUTCOME_COUNT; i++)
        atomic_init(&s->parked[i], 0);
    atomic_init(&s->seq, 0);
    for (size_t i = 0; i < STATUS_WORDS; i++)
        atomic_init(&s->status[i], 0);
    return s;
}

void o3b_shared_free(struct o3b_shared **s)
{
    if (s == NULL || *s == NULL)
        return;
    munmap(*s, sizeof **s);
    *s = NULL;
}

unsigned long o3b_shared_generation(const struct o3b_shared *s)
{
    return atomic_load(&((struct o3b_shared *)(uintptr_t)s)->generation);
}

unsigned long o3b_shared_bump_generation(struct o3b_shared *s)
{
    return atomic_fetch_add(&s->generation, 1) + 1;
}

void o3b_shared_park(struct o3b_shared *s, enum o3b_refresh_outcome o)
{
    if ((unsigned)o < O3B_REFRESH_OUTCOME_COUNT)
        atomic_fetch_add(&s->parked[o], 1);
}

unsigned long o3b_shared_drain(struct o3b_shared *s, unsigned long taken[O3B_REFRESH_OUTCOME_COUNT])
{
    unsigned long total = 0;

    for (int o = 0; o < O3B_REFRESH_OUTCOME_COUNT; o++) {
        taken[o] = atomic_load_explicit(&s->parked[o], memory_order_relaxed) == 0
                       ? 0
                       : atomic_exchange(&s->parked[o], 0);
        total += taken[o];
    }
    return total;
}

static void pause_briefly(void)
{
    struct timespec ts = {0, 1000};

    nanosleep(&ts, NULL);
}

void o3b_shared_set_status(struct o3b_shared *s, const struct o3b_refresh_status *st)
{
    uint64_t words[STATUS_WORDS] = {0};
    unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

    memcpy(words, st, STATUS_BYTES);
    /* take the write side: even -> odd */
    while ((seq & 1u) || !atomic_compare_exchange_weak_explicit(
                             &s->seq, &seq, seq + 1, memory_order_relaxed, memory_order_relaxed)) {
        if (seq & 1u) {
            pause_briefly();
            seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
        }
    }
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < STATUS_WORDS; i++)
        atomic_store_explicit(&s->status[i], words[i], memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

int o3b_shared_get_status(const struct o3b_shared *cs, struct o3b_refresh_status *st)
{
    struct o3b_shared *s = (struct o3b_shared *)(uintptr_t)cs; /* atomics: loads only */
    uint64_t words[STATUS_WORDS];

    for (int tries = 0; tries < READ_TRIES; tries++) {
        unsigned before = atomic_load_explicit(&s->seq, memory_order_acquire), after;

        if (before & 1u) {
            pause_briefly();
            continue;
        }
        for (size_t i = 0; i < STATUS_WORDS; i++)
            words[i] = atomic_load_explicit(&s->status[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        after = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (after == before) {
            memcpy(st, words, STATUS_BYTES);
            st->result[sizeof st->result - 1] = '\0';
            st->client_request_id[sizeof st->client_request_id - 1] = '\0';
            return 0;
        }
    }
    memset(st, 0, sizeof *st);
    return -1;
}
