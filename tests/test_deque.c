/*
 * Unit tests for parc/deque.h.
 *
 * The central test: one owner pushes tasks in bursts (growing the deque
 * from a capacity of 2) and pops some of them back, while thieves steal;
 * every task must be taken exactly once, by the owner or by one thief.
 * Bursts end with the owner popping until empty, so the race for the last
 * item (owner's CAS against thieves' CAS on top) is run constantly.
 */
#include <stdint.h>

#include "parc/deque.h"
#include "testutil.h"

#define TASK(i) ((void *)(uintptr_t)((i) + 1))
#define TASK_INDEX(v) ((size_t)(uintptr_t)(v) - 1)

START_TEST(rejects_bad_arguments)
{
    parc_deque_t d;
    void *v;
    ck_assert_int_eq(parc_deque_init(NULL, 0), EINVAL);
    ck_assert_int_eq(parc_deque_init(&d, SIZE_MAX), EINVAL);
    ck_assert_int_eq(parc_deque_init(&d, 0), 0);
    ck_assert_int_eq(parc_deque_push(NULL, TASK(0)), EINVAL);
    ck_assert_int_eq(parc_deque_pop(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_deque_pop(&d, NULL), EINVAL);
    ck_assert_int_eq(parc_deque_steal(NULL, &v), EINVAL);
    ck_assert_int_eq(parc_deque_steal(&d, NULL), EINVAL);
    ck_assert_uint_eq(parc_deque_size(NULL), 0);
    ck_assert_int_eq(parc_deque_destroy(NULL), EINVAL);
    ck_assert_int_eq(parc_deque_destroy(&d), 0);
}
END_TEST

START_TEST(owner_lifo_thief_fifo)
{
    parc_deque_t d;
    ck_assert_int_eq(parc_deque_init(&d, 4), 0);
    void *v = TASK(42);
    ck_assert_int_eq(parc_deque_pop(&d, &v), EAGAIN);
    ck_assert_int_eq(parc_deque_steal(&d, &v), EAGAIN);
    ck_assert_ptr_eq(v, TASK(42)); /* untouched */
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(parc_deque_push(&d, TASK(i)), 0);
    ck_assert_uint_eq(parc_deque_size(&d), 6);
    ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
    ck_assert_ptr_eq(v, TASK(0));
    ck_assert_int_eq(parc_deque_pop(&d, &v), 0);
    ck_assert_ptr_eq(v, TASK(5));
    ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
    ck_assert_ptr_eq(v, TASK(1));
    ck_assert_int_eq(parc_deque_push(&d, NULL), 0); /* NULL is an item */
    ck_assert_int_eq(parc_deque_pop(&d, &v), 0);
    ck_assert_ptr_null(v);
    for (size_t i = 5; i-- > 2;) {
        ck_assert_int_eq(parc_deque_pop(&d, &v), 0);
        ck_assert_ptr_eq(v, TASK(i));
    }
    ck_assert_int_eq(parc_deque_pop(&d, &v), EAGAIN);
    ck_assert_int_eq(parc_deque_steal(&d, &v), EAGAIN);
    ck_assert_uint_eq(parc_deque_size(&d), 0);
    ck_assert_int_eq(parc_deque_destroy(&d), 0);
}
END_TEST

START_TEST(growth_keeps_every_item)
{
    parc_deque_t d;
    ck_assert_int_eq(parc_deque_init(&d, 1), 0);
    void *v;
    const size_t n = 10000;
    /* wrap the indices first, so that growth copies a wrapped range */
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(parc_deque_push(&d, TASK(i)), 0);
        ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(parc_deque_push(&d, TASK(i)), 0);
    ck_assert_uint_eq(parc_deque_size(&d), n);
    for (size_t i = 0; i < n / 2; i++) {
        ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
        ck_assert_ptr_eq(v, TASK(i));
    }
    for (size_t i = n; i-- > n / 2;) {
        ck_assert_int_eq(parc_deque_pop(&d, &v), 0);
        ck_assert_ptr_eq(v, TASK(i));
    }
    ck_assert_int_eq(parc_deque_pop(&d, &v), EAGAIN);
    for (size_t i = 0; i < 100; i++) /* left inside for destroy */
        ck_assert_int_eq(parc_deque_push(&d, TASK(i)), 0);
    ck_assert_int_eq(parc_deque_destroy(&d), 0);
}
END_TEST

/* push's room check uses a top it read before; it must still see slots
 * that thieves freed (reading top again when the cache says full), and
 * must never overwrite an item that is still inside. */
START_TEST(push_reuses_slots_thieves_freed)
{
    parc_deque_t d;
    void *v;
    ck_assert_int_eq(parc_deque_init(&d, 4), 0);
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(parc_deque_push(&d, TASK(i)), 0);
    struct parc_deque_array *a = parc_load(&d.array, PARC_RELAXED);
    ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
    ck_assert_ptr_eq(v, TASK(0));
    ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
    ck_assert_ptr_eq(v, TASK(1));
    ck_assert_int_eq(parc_deque_push(&d, TASK(4)), 0);
    ck_assert_int_eq(parc_deque_push(&d, TASK(5)), 0);
    /* two slots were free: no growth */
    ck_assert_ptr_eq(parc_load(&d.array, PARC_RELAXED), a);
    ck_assert_int_eq(parc_deque_push(&d, TASK(6)), 0); /* full: grows */
    ck_assert_ptr_ne(parc_load(&d.array, PARC_RELAXED), a);
    for (size_t i = 2; i <= 6; i++) {
        ck_assert_int_eq(parc_deque_steal(&d, &v), 0);
        ck_assert_ptr_eq(v, TASK(i));
    }
    ck_assert_int_eq(parc_deque_pop(&d, &v), EAGAIN);
    ck_assert_int_eq(parc_deque_destroy(&d), 0);
}
END_TEST

START_TEST(pop_if_takes_only_the_expected_newest)
{
    parc_deque_t d;
    void *v;
    ck_assert_int_eq(parc_deque_init(&d, 2), 0);
    ck_assert_int_eq(parc_deque_pop_if_inline_(&d, TASK(0)), EAGAIN); /* empty */
    ck_assert_int_eq(parc_deque_push(&d, TASK(0)), 0);
    ck_assert_int_eq(parc_deque_pop(&d, &v), 0);
    /* empty again, but the slot still holds TASK(0): not taken twice */
    ck_assert_int_eq(parc_deque_pop_if_inline_(&d, TASK(0)), EAGAIN);
    ck_assert_int_eq(parc_deque_push(&d, TASK(1)), 0);
    ck_assert_int_eq(parc_deque_push(&d, TASK(2)), 0);
    ck_assert_int_eq(parc_deque_pop_if_inline_(&d, TASK(1)), EAGAIN); /* not newest */
    ck_assert_uint_eq(parc_deque_size(&d), 2);
    ck_assert_int_eq(parc_deque_pop_if_inline_(&d, TASK(2)), 0);
    ck_assert_uint_eq(parc_deque_size(&d), 1);
    ck_assert_int_eq(parc_deque_pop_if_inline_(&d, TASK(1)), 0); /* the last */
    ck_assert_uint_eq(parc_deque_size(&d), 0);
    ck_assert_int_eq(parc_deque_steal(&d, &v), EAGAIN);
    ck_assert_int_eq(parc_deque_destroy(&d), 0);
}
END_TEST

/* ---- owner and thieves ---------------------------------------------- */

enum { THIEVES = 3 };
#define TASKS (300000 / PARC_SLOWDOWN)

struct work {
    parc_deque_t d;
    parc_atomic(uint8_t) *taken; /* per task: times taken */
    parc_atomic(int) done;       /* owner finished: thieves drain and stop */
    parc_atomic(int) failed;
    uint64_t by_thieves[THIEVES];
    uint64_t by_owner;
};

struct thief {
    struct work *w;
    unsigned id;
};

static void take(struct work *w, void *v)
{
    size_t t = TASK_INDEX(v);
    if (t >= TASKS || parc_faa(&w->taken[t], 1, PARC_RELAXED) != 0)
        parc_store(&w->failed, 1, PARC_RELAXED);
}

static void *thief_run(void *arg)
{
    struct thief *th = arg;
    struct work *w = th->w;
    void *v;
    uint64_t n = 0;
    for (;;) {
        /* acquire: the owner's final pushes happened before done = 1 */
        int finished = parc_load(&w->done, PARC_ACQUIRE);
        int rc = parc_deque_steal(&w->d, &v);
        if (rc == 0) {
            take(w, v);
            n++;
        } else if (finished && parc_deque_size(&w->d) == 0) {
            break;
        } else {
            parc_cpu_relax();
        }
    }
    w->by_thieves[th->id] = n;
    return NULL;
}

/* The owner's side of an exactly-once race: the work, and THIEVES
 * threads stealing from it until the owner says it is done. */
struct race {
    struct work *w;
    struct thief ths[THIEVES];
    pthread_t th[THIEVES];
};

static void race_start(struct race *r)
{
    struct work *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    w->taken = calloc(TASKS, sizeof w->taken[0]);
    ck_assert_ptr_nonnull(w->taken);
    ck_assert_int_eq(parc_deque_init(&w->d, 2), 0);
    r->w = w;
    for (unsigned i = 0; i < THIEVES; i++)
        r->ths[i] = (struct thief){ w, i };
    parc_test_spawn(r->th, THIEVES, thief_run, r->ths, sizeof r->ths[0]);
}

/* The owner took v. */
static void owner_take(struct work *w, void *v)
{
    take(w, v);
    w->by_owner++;
}

/* Pop what is left, stop the thieves, and check that every task was
 * taken exactly once (by the owner or one thief). */
static void race_finish(struct race *r)
{
    struct work *w = r->w;
    void *v;
    while (parc_deque_pop(&w->d, &v) == 0)
        owner_take(w, v);
    /* release: pairs with the thieves' acquire load of done */
    parc_store(&w->done, 1, PARC_RELEASE);
    parc_test_join(r->th, THIEVES);

    ck_assert_int_eq(parc_load(&w->failed, PARC_RELAXED), 0);
    uint64_t total = w->by_owner;
    for (unsigned i = 0; i < THIEVES; i++)
        total += w->by_thieves[i];
    ck_assert_uint_eq(total, TASKS);
    for (size_t i = 0; i < TASKS; i++)
        ck_assert_uint_eq(parc_load(&w->taken[i], PARC_RELAXED), 1);
    ck_assert_int_eq(parc_deque_destroy(&w->d), 0);
    free(w->taken);
    free(w);
}

START_TEST(every_task_taken_exactly_once)
{
    struct race r;
    race_start(&r);
    struct work *w = r.w;
    uint64_t seed = 88172645463325252ull;
    void *v;
    size_t next = 0;
    while (next < TASKS) {
        /* a burst of 1..512 pushes, then pop a random share of it */
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        size_t burst = 1 + seed % 512;
        for (size_t i = 0; i < burst && next < TASKS; i++)
            ck_assert_int_eq(parc_deque_push(&w->d, TASK(next++)), 0);
        size_t pops = (seed >> 20) % (burst + burst / 2 + 1);
        for (size_t i = 0; i < pops; i++) {
            if (parc_deque_pop(&w->d, &v) != 0)
                break;
            owner_take(w, v);
        }
    }
    race_finish(&r);
}
END_TEST

/* The join's pop_if against thieves: the owner pushes a few tasks and
 * takes back the newest with pop_if (a wrong guess must take nothing),
 * so the race for the last item runs through pop_if constantly. */
START_TEST(pop_if_races_thieves_exactly_once)
{
    struct race r;
    race_start(&r);
    struct work *w = r.w;
    uint64_t seed = 88172645463325252ull;
    size_t next = 0;
    while (next < TASKS) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        size_t k = 1 + seed % 3;
        for (size_t i = 0; i < k && next < TASKS; i++)
            ck_assert_int_eq(parc_deque_push(&w->d, TASK(next++)), 0);
        /* a wrong guess (an older item, never the newest) takes nothing */
        if (next >= 2)
            ck_assert_int_eq(parc_deque_pop_if_inline_(&w->d, TASK(next - 2)), EAGAIN);
        if (parc_deque_pop_if_inline_(&w->d, TASK(next - 1)) == 0)
            owner_take(w, TASK(next - 1));
    }
    race_finish(&r);
}
END_TEST

static Suite *deque_suite(void)
{
    Suite *s = suite_create("deque");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, owner_lifo_thief_fifo);
    tcase_add_test(tc, growth_keeps_every_item);
    tcase_add_test(tc, every_task_taken_exactly_once);
    tcase_add_test(tc, push_reuses_slots_thieves_freed);
    tcase_add_test(tc, pop_if_takes_only_the_expected_newest);
    tcase_add_test(tc, pop_if_races_thieves_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(deque_suite());
}
