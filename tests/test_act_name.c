/*
 * Unit tests for parc/act.h's name registry and dead letters: register,
 * whereis, send by name, unregister, the name dropped when its actor
 * stops; the messages left in a stopping actor's mailbox and a timer's
 * that fires after the stop reach the dead-letter hook and its counter,
 * each exactly once, none lost (handled + dead = sent).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parc/act.h"
#include "parc/event.h"
#include "testutil.h"

enum { T_WORK = PARC_MSG_USER };

static parc_atomic(int) handled;

static void slow(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    (void)state;
    usleep(50);
    parc_faa(&handled, 1, PARC_RELAXED); /* a count */
    parc_msg_free(m);
}

static parc_msg_t *work(void)
{
    parc_msg_t *m;
    ck_assert_int_eq(parc_msg_new(T_WORK, NULL, 0, &m), 0);
    return m;
}

START_TEST(names_register_find_send_and_drop_at_stop)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    parc_atomic_init(&handled, 0);
    parc_act_t *a, *b, *found;
    ck_assert_int_eq(parc_act_spawn(rt, slow, NULL, NULL, &a), 0);
    ck_assert_int_eq(parc_act_spawn(rt, slow, NULL, NULL, &b), 0);
    ck_assert_int_eq(parc_act_whereis(rt, "a", &found), ESRCH);
    ck_assert_ptr_null(found);
    ck_assert_int_eq(parc_act_register(a, "a"), 0);
    ck_assert_int_eq(parc_act_register(b, "a"), EEXIST);
    ck_assert_int_eq(parc_act_register(a, "other"), EBUSY);
    ck_assert_int_eq(parc_act_register(a, ""), EINVAL);
    ck_assert_int_eq(parc_act_whereis(rt, "a", &found), 0);
    ck_assert_ptr_eq(found, a);
    parc_act_release(found);
    /* Many names: the table grows, every one is still found. */
    char name[32];
    enum { MANY = 300 };
    parc_act_t *many[MANY];
    for (int i = 0; i < MANY; i++) {
        ck_assert_int_eq(parc_act_spawn(rt, slow, NULL, NULL, &many[i]), 0);
        snprintf(name, sizeof name, "w%d", i);
        ck_assert_int_eq(parc_act_register(many[i], name), 0);
    }
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof name, "w%d", i);
        ck_assert_int_eq(parc_act_whereis(rt, name, &found), 0);
        ck_assert_ptr_eq(found, many[i]);
        parc_act_release(found);
        ck_assert_int_eq(parc_act_send_name(rt, name, work()), 0);
    }
    parc_msg_t *m = work();
    ck_assert_int_eq(parc_act_send_name(rt, "nobody", m), ESRCH);
    parc_msg_free(m);
    ck_assert_int_eq(parc_act_send_name(rt, "a", work()), 0);
    ck_assert_int_eq(parc_act_unregister(rt, "a"), 0);
    ck_assert_int_eq(parc_act_unregister(rt, "a"), ESRCH);
    ck_assert_int_eq(parc_act_whereis(rt, "a", &found), ESRCH);
    ck_assert_int_eq(parc_act_register(b, "a"), 0); /* free again */
    /* A stop drops the name (by the time the stop can be waited for). */
    ck_assert_int_eq(parc_act_stop_wait(b, 0, NULL), 0);
    ck_assert_int_eq(parc_act_whereis(rt, "a", &found), ESRCH);
    ck_assert_int_eq(parc_act_register(b, "b"), EPIPE);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_int_eq(parc_load(&handled, PARC_RELAXED), MANY + 1);
    for (int i = 0; i < MANY; i++)
        ck_assert_int_eq(parc_act_stop(many[i], 0), 0);
    ck_assert_int_eq(parc_act_stop(a, 0), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof name, "w%d", i);
        ck_assert_int_eq(parc_act_whereis(rt, name, &found), ESRCH);
        parc_act_release(many[i]);
    }
    parc_act_release(a);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_free(rt), 0); /* no reference kept */
}
END_TEST

/* Counts its messages in its state. */
static void tally(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)self;
    parc_faa((parc_atomic(int) *)state, 1, PARC_RELAXED); /* a count */
    parc_msg_free(m);
}

/* A sender keeps a hint of where its name pointer led; a name moved to
 * another actor (unregister, the old owner's stop, a new register) must
 * be followed, and a name with no owner any more must say ESRCH, with
 * the very same pointer and a reused buffer. */
START_TEST(send_by_name_follows_a_name_that_moved)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    parc_atomic(int) na, nb;
    parc_atomic_init(&na, 0);
    parc_atomic_init(&nb, 0);
    parc_act_t *a, *b;
    ck_assert_int_eq(parc_act_spawn(rt, tally, (void *)&na, NULL, &a), 0);
    ck_assert_int_eq(parc_act_spawn(rt, tally, (void *)&nb, NULL, &b), 0);
    char name[16] = "srv";
    ck_assert_int_eq(parc_act_register(a, name), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(parc_act_send_name(rt, name, work()), 0);
    ck_assert_int_eq(parc_act_unregister(rt, name), 0);
    parc_msg_t *m = work();
    ck_assert_int_eq(parc_act_send_name(rt, name, m), ESRCH);
    ck_assert_int_eq(parc_act_register(b, name), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(parc_act_send_name(rt, name, work()), 0);
    /* the same buffer names another actor now: a's new name */
    strcpy(name, "old");
    ck_assert_int_eq(parc_act_register(a, name), 0);
    ck_assert_int_eq(parc_act_send_name(rt, name, work()), 0);
    ck_assert_int_eq(parc_act_stop_wait(a, 0, NULL), 0); /* drops "old" */
    ck_assert_int_eq(parc_act_send_name(rt, name, m), ESRCH);
    parc_msg_free(m);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_int_eq(parc_load(&na, PARC_RELAXED), 11);
    ck_assert_int_eq(parc_load(&nb, PARC_RELAXED), 5);
    ck_assert_int_eq(parc_act_stop_wait(b, 0, NULL), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    parc_act_release(a);
    parc_act_release(b);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
}
END_TEST

/* The hints are keyed by the name pointer: a buffer rewritten with
 * another name while the table did not change must reach the other
 * actor (short names are compared with the hint's copy, long ones with
 * the entry's), and more name pointers than hint slots, cycled through,
 * must each reach their own actor. */
START_TEST(send_by_name_hints_compare_the_bytes)
{
    enum { ACTORS = 8, POINTERS = 700 };
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    parc_atomic(int) n[ACTORS];
    parc_act_t *a[ACTORS];
    char name[64];
    for (int i = 0; i < ACTORS; i++) {
        parc_atomic_init(&n[i], 0);
        ck_assert_int_eq(parc_act_spawn(rt, tally, (void *)&n[i], NULL, &a[i]), 0);
        /* even: short names (copied into the hint); odd: 40 bytes */
        if (i % 2 == 0)
            snprintf(name, sizeof name, "s%d", i);
        else
            snprintf(name, sizeof name, "a-long-name-of-forty-bytes-number-%05d", i);
        ck_assert_int_eq(parc_act_register(a[i], name), 0);
    }
    char buf[64];
    int want[ACTORS] = { 0 };
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < ACTORS; i++) {
            /* one buffer, rewritten: the same pointer names each actor */
            if (i % 2 == 0)
                snprintf(buf, sizeof buf, "s%d", i);
            else
                snprintf(buf, sizeof buf, "a-long-name-of-forty-bytes-number-%05d", i);
            ck_assert_int_eq(parc_act_send_name(rt, buf, work()), 0);
            ck_assert_int_eq(parc_act_send_name(rt, buf, work()), 0);
            want[i] += 2;
        }
    static char names[POINTERS][48];
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < POINTERS; k++) {
            int i = k % ACTORS;
            if (i % 2 == 0)
                snprintf(names[k], sizeof names[k], "s%d", i);
            else
                snprintf(names[k], sizeof names[k], "a-long-name-of-forty-bytes-number-%05d", i);
            ck_assert_int_eq(parc_act_send_name(rt, names[k], work()), 0);
            want[i]++;
        }
    strcpy(buf, "s1"); /* registered by nobody */
    parc_msg_t *m = work();
    ck_assert_int_eq(parc_act_send_name(rt, buf, m), ESRCH);
    parc_msg_free(m);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    for (int i = 0; i < ACTORS; i++) {
        ck_assert_int_eq(parc_load(&n[i], PARC_RELAXED), want[i]);
        ck_assert_int_eq(parc_act_stop_wait(a[i], 0, NULL), 0);
        parc_act_release(a[i]);
    }
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
}
END_TEST

typedef struct dead_log {
    parc_atomic(int) n;
    parc_atomic(parc_act_t *) to; /* the hook runs on workers and the timer
                                   * thread at once */
} dead_log_t;

static void on_dead(parc_act_t *to, parc_msg_t *m, void *arg)
{
    dead_log_t *d = arg;
    ck_assert_int_eq(m->type, T_WORK);
    parc_store(&d->to, to, PARC_RELAXED); /* read after quiescence */
    parc_faa(&d->n, 1, PARC_RELAXED); /* a count */
    parc_msg_free(m);
}

static parc_event_t gate;

/* Waits at the gate on its first message, exits after its tenth. */
static void gated(parc_act_t *self, void *state, parc_msg_t *m)
{
    (void)state;
    int n = parc_faa(&handled, 1, PARC_RELAXED) + 1; /* a count */
    if (n == 1)
        ck_assert_int_eq(parc_event_wait_timed(&gate, PARC_TEST_PATIENCE_NS),
                         0);
    if (n == 10)
        parc_act_exit(self, 1);
    parc_msg_free(m);
}

START_TEST(dead_letters_reach_the_hook_none_lost)
{
    parc_act_rt_t *rt;
    ck_assert_int_eq(parc_act_rt_create(2, &rt), 0);
    dead_log_t d;
    parc_atomic_init(&d.n, 0);
    parc_atomic_init(&d.to, NULL);
    ck_assert_int_eq(parc_act_rt_on_dead_letter(rt, on_dead, &d), 0);
    parc_atomic_init(&handled, 0);
    parc_event_init(&gate);
    parc_act_t *a;
    ck_assert_int_eq(parc_act_spawn(rt, gated, NULL, NULL, &a), 0);
    enum { SENT = 2000 };
    for (int i = 0; i < SENT; i++)
        ck_assert_int_eq(parc_act_send(a, work()), 0);
    parc_event_set(&gate);
    ck_assert_int_eq(parc_act_wait(a, NULL), 0);
    /* A timer's message that fires after the stop is one too. */
    ck_assert_int_eq(
        parc_act_rt_send_after(rt, PARC_NS_PER_MS, a, work(), NULL), 0);
    ck_assert_int_eq(parc_act_rt_quiesce(rt), 0);
    ck_assert_int_eq(parc_load(&handled, PARC_RELAXED), 10);
    ck_assert_int_eq(parc_load(&d.n, PARC_RELAXED), SENT - 10 + 1);
    ck_assert_uint_eq(parc_act_rt_dead_letters(rt), SENT - 10 + 1);
    ck_assert_ptr_eq(parc_load(&d.to, PARC_RELAXED), a);
    /* A send to the stopped actor is refused, not a dead letter. */
    parc_msg_t *m = work();
    ck_assert_int_eq(parc_act_send(a, m), EPIPE);
    parc_msg_free(m);
    ck_assert_uint_eq(parc_act_rt_dead_letters(rt), SENT - 10 + 1);
    parc_act_release(a);
    ck_assert_int_eq(parc_act_rt_free(rt), 0);
    parc_event_destroy(&gate);
}
END_TEST

static Suite *act_name_suite(void)
{
    Suite *s = suite_create("act_name");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, names_register_find_send_and_drop_at_stop);
    tcase_add_test(tc, dead_letters_reach_the_hook_none_lost);
    tcase_add_test(tc, send_by_name_follows_a_name_that_moved);
    tcase_add_test(tc, send_by_name_hints_compare_the_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return parc_test_run(act_name_suite());
}
