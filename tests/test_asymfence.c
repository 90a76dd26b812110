/*
 * Unit tests for parc/asymfence.h: Dekker's pattern with a light side and a
 * heavy side never lets both threads miss the other's store.
 */
#include "parc/asymfence.h"
#include "testutil.h"

#define ROUNDS (20000 / PARC_SLOWDOWN)

struct dekker {
    bool asym;
    parc_atomic(int) x, y;         /* the two flags of a round */
    parc_atomic(int) round_go;     /* round number the light side may run */
    parc_atomic(int) round_done;   /* rounds the light side finished */
    int light_saw[ROUNDS];         /* what the light side loaded */
};

static void *light_side(void *arg)
{
    struct dekker *d = arg;
    for (int r = 1; r <= ROUNDS; r++) {
        /* acquire: pairs with the heavy side's release of the round */
        while (parc_load(&d->round_go, PARC_ACQUIRE) < r)
            parc_cpu_relax();
        parc_store(&d->x, r, PARC_RELAXED);
        parc_asymfence_light(d->asym);
        d->light_saw[r - 1] = parc_load(&d->y, PARC_RELAXED);
        /* release: publishes light_saw to the heavy side */
        parc_store(&d->round_done, r, PARC_RELEASE);
    }
    return NULL;
}

START_TEST(available_is_stable)
{
    bool a = parc_asymfence_available();
    ck_assert(a == parc_asymfence_available());
#ifdef PARC_TSAN
    ck_assert(!a); /* TSan does not model membarrier: fences both sides */
#endif
}
END_TEST

START_TEST(dekker_never_both_miss)
{
    static struct dekker d;
    d.asym = _i == 0 ? parc_asymfence_available() : false;
    parc_atomic_init(&d.x, 0);
    parc_atomic_init(&d.y, 0);
    parc_atomic_init(&d.round_go, 0);
    parc_atomic_init(&d.round_done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, light_side, &d), 0);
    int both_missed = 0;
    for (int r = 1; r <= ROUNDS; r++) {
        /* release: starts round r */
        parc_store(&d.round_go, r, PARC_RELEASE);
        /* Jitter: the light side sees the round a cache-line transfer
         * later; delaying our store by 0..15 PAUSEs makes the two
         * store-load windows overlap in some rounds, where a missing
         * barrier shows. */
        for (int k = r % 16; k > 0; k--)
            parc_cpu_relax();
        parc_store(&d.y, r, PARC_RELAXED);
        parc_asymfence_heavy(d.asym);
        int heavy_saw = parc_load(&d.x, PARC_RELAXED);
        /* acquire: pairs with the light side's release of round_done */
        while (parc_load(&d.round_done, PARC_ACQUIRE) < r)
            parc_cpu_relax();
        if (heavy_saw < r && d.light_saw[r - 1] < r)
            both_missed++;
    }
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(both_missed, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("asymfence");
    TCase *tc = tcase_create("asymfence");
    tcase_set_timeout(tc, 60 * PARC_SLOWDOWN);
    tcase_add_test(tc, available_is_stable);
    /* 0: membarrier when available; 1: fences on both sides */
    tcase_add_loop_test(tc, dekker_never_both_miss, 0, 2);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
