/*
 * Unit tests for parc/shmqueue.h.
 *
 * The three forms and close in one process; two producer and two consumer
 * processes exchanging messages exactly once, in order per producer for
 * each consumer; a producer that dies between claiming a cell and
 * publishing it (it segfaults copying its message from a page it cannot
 * read) costs exactly that message, reported as EOWNERDEAD and counted,
 * and the next message still comes; a consumer that dies copying a
 * message out costs that message, counted, and producers get the cell
 * back; close wakes a receiver blocked in another process.
 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/shmqueue.h"
#include "testutil.h"

/* Children that die of SIGSEGV on purpose: no sanitizer report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "handle_segv=0"; }
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "handle_segv=0"; }

static parc_shm_t shm;

static void setup(void)
{
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 4 << 20), 0);
}

static void teardown(void)
{
    parc_shm_close(&shm);
}

static parc_shmqueue_t *make_queue(size_t capacity, size_t msg_size)
{
    uint64_t off;
    ck_assert_int_eq(parc_shmqueue_create(&shm, capacity, msg_size, &off), 0);
    return parc_shm_ptr(&shm, off);
}

static void wait_ok(pid_t pid)
{
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

START_TEST(rejects_bad_arguments)
{
    ck_assert_uint_eq(parc_shmqueue_footprint(3, 8), 0);
    ck_assert_uint_eq(parc_shmqueue_footprint(4, 0), 0);
    ck_assert_uint_gt(parc_shmqueue_footprint(4, 8), 0);
    uint64_t off;
    ck_assert_int_eq(parc_shmqueue_create(&shm, 0, 8, &off), EINVAL);
    ck_assert_int_eq(parc_shmqueue_init(NULL, 4, 8), EINVAL);
    parc_shmqueue_t *q = make_queue(4, 8);
    char buf[8];
    size_t n;
    ck_assert_int_eq(parc_shmqueue_send(NULL, "x", 1), EINVAL);
    ck_assert_int_eq(parc_shmqueue_send(q, NULL, 1), EINVAL);
    ck_assert_int_eq(parc_shmqueue_send(q, "123456789", 9), EMSGSIZE);
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, 4, &n), EINVAL);
    ck_assert_int_eq(parc_shmqueue_recv(q, NULL, 8, &n), EINVAL);
    ck_assert_int_eq(parc_shmqueue_recv_timed(q, buf, 8, &n, -1), EINVAL);
    ck_assert_int_eq(parc_shmqueue_close(NULL), EINVAL);
}
END_TEST

START_TEST(forms_and_close_in_one_process)
{
    parc_shmqueue_t *q = make_queue(4, 16);
    char buf[16];
    size_t n;
    ck_assert_int_eq(parc_shmqueue_recv_try(q, buf, sizeof buf, &n), EAGAIN);
    ck_assert_int_eq(parc_shmqueue_recv_timed(q, buf, sizeof buf, &n, PARC_NS_PER_MS),
                     ETIMEDOUT);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(parc_shmqueue_send_try(q, &i, sizeof i), 0);
    ck_assert_uint_eq(parc_shmqueue_size(q), 4);
    int x = 9;
    ck_assert_int_eq(parc_shmqueue_send_try(q, &x, sizeof x), EAGAIN);
    ck_assert_int_eq(parc_shmqueue_send_timed(q, &x, sizeof x, PARC_NS_PER_MS), ETIMEDOUT);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(parc_shmqueue_recv(q, buf, sizeof buf, &n), 0);
        ck_assert_uint_eq(n, sizeof(int));
        ck_assert_int_eq(*(int *)buf, i);
    }
    ck_assert_int_eq(parc_shmqueue_send(q, "", 0), 0); /* empty message */
    ck_assert_int_eq(parc_shmqueue_close(q), 0);
    ck_assert_int_eq(parc_shmqueue_close(q), 0);
    ck_assert_int_eq(parc_shmqueue_send(q, &x, sizeof x), EPIPE);
    ck_assert_int_eq(parc_shmqueue_send_try(q, &x, sizeof x), EPIPE);
    /* what was accepted still comes out, then EPIPE */
    for (int i = 2; i < 4; i++) {
        ck_assert_int_eq(parc_shmqueue_recv(q, buf, sizeof buf, &n), 0);
        ck_assert_int_eq(*(int *)buf, i);
    }
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, sizeof buf, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, sizeof buf, &n), EPIPE);
    ck_assert_int_eq(parc_shmqueue_recv_try(q, buf, sizeof buf, &n), EPIPE);
    ck_assert_uint_eq(parc_shmqueue_lost_sends(q), 0);
    ck_assert_uint_eq(parc_shmqueue_lost_receives(q), 0);
}
END_TEST

struct msg {
    uint32_t producer;
    uint32_t seq;
};

START_TEST(processes_exchange_exactly_once)
{
    enum { PRODUCERS = 2, CONSUMERS = 2, PER = 20000 };
    parc_shmqueue_t *q = make_queue(64, sizeof(struct msg));
    uint64_t off;
    ck_assert_int_eq(parc_shm_alloc(&shm, PRODUCERS * PER, &off), 0);
    unsigned char *seen = parc_shm_ptr(&shm, off); /* times each arrived */
    memset(seen, 0, PRODUCERS * PER);
    pid_t pids[PRODUCERS + CONSUMERS];
    for (int c = 0; c < CONSUMERS; c++) {
        if ((pids[c] = fork()) == 0) {
            int64_t last[PRODUCERS] = {-1, -1};
            struct msg m;
            size_t n;
            int rc;
            while ((rc = parc_shmqueue_recv(q, &m, sizeof m, &n)) == 0) {
                if (n != sizeof m || m.producer >= PRODUCERS || m.seq >= PER)
                    _exit(1);
                if ((int64_t)m.seq <= last[m.producer])
                    _exit(2); /* out of order for this consumer */
                last[m.producer] = m.seq;
                seen[m.producer * PER + m.seq]++;
            }
            _exit(rc == EPIPE ? 0 : 3);
        }
    }
    for (int p = 0; p < PRODUCERS; p++) {
        if ((pids[CONSUMERS + p] = fork()) == 0) {
            for (uint32_t i = 0; i < PER; i++) {
                struct msg m = {(uint32_t)p, i};
                if (parc_shmqueue_send(q, &m, sizeof m) != 0)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < PRODUCERS; p++)
        wait_ok(pids[CONSUMERS + p]);
    ck_assert_int_eq(parc_shmqueue_close(q), 0);
    for (int c = 0; c < CONSUMERS; c++)
        wait_ok(pids[c]);
    for (int i = 0; i < PRODUCERS * PER; i++)
        ck_assert_msg(seen[i] == 1, "message %d seen %d times", i, seen[i]);
}
END_TEST

/* A page that reads fine followed by one that faults: a copy across the
 * boundary kills the copier in the middle. */
static unsigned char *trap_pages(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *p = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    ck_assert_int_eq(mprotect(p + pg, (size_t)pg, PROT_NONE), 0);
    return p;
}

START_TEST(dead_producer_costs_one_reported_message)
{
    long pg = sysconf(_SC_PAGESIZE);
    parc_shmqueue_t *q = make_queue(8, 2 * (size_t)pg);
    unsigned char *trap = trap_pages();
    ck_assert_int_eq(parc_shmqueue_send(q, "before", 7), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* claims a cell, then faults reading the second page */
        parc_shmqueue_send(q, trap, 2 * (size_t)pg);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0));
    ck_assert_int_eq(parc_shmqueue_send(q, "after", 6), 0);
    char *buf = malloc(2 * (size_t)pg);
    size_t n;
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, 2 * (size_t)pg, &n), 0);
    ck_assert_str_eq(buf, "before");
    /* the try form looks twice before asking about the claimant */
    ck_assert_int_eq(parc_shmqueue_recv_try(q, buf, 2 * (size_t)pg, &n), EAGAIN);
    ck_assert_int_eq(parc_shmqueue_recv_try(q, buf, 2 * (size_t)pg, &n), EOWNERDEAD);
    ck_assert_uint_eq(parc_shmqueue_lost_sends(q), 1);
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, 2 * (size_t)pg, &n), 0);
    ck_assert_str_eq(buf, "after");

    /* the blocking form finds it too, after a park slice */
    pid = fork();
    if (pid == 0) {
        parc_shmqueue_send(q, trap, 2 * (size_t)pg);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_int_eq(parc_shmqueue_recv_timed(q, buf, 2 * (size_t)pg, &n,
                                              PARC_TEST_PATIENCE_NS), EOWNERDEAD);
    ck_assert_uint_eq(parc_shmqueue_lost_sends(q), 2);

    /* and recover() sweeps one nobody reached yet */
    pid = fork();
    if (pid == 0) {
        parc_shmqueue_send(q, trap, 2 * (size_t)pg);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_uint_eq(parc_shmqueue_recover(q), 1);
    ck_assert_uint_eq(parc_shmqueue_lost_sends(q), 3);
    ck_assert_int_eq(parc_shmqueue_send(q, "last", 5), 0);
    ck_assert_int_eq(parc_shmqueue_recv_timed(q, buf, 2 * (size_t)pg, &n,
                                              PARC_TEST_PATIENCE_NS), 0);
    ck_assert_str_eq(buf, "last");
    free(buf);
}
END_TEST

START_TEST(dead_consumer_costs_one_counted_message)
{
    long pg = sysconf(_SC_PAGESIZE);
    parc_shmqueue_t *q = make_queue(2, (size_t)pg + 64);
    unsigned char *trap = trap_pages();
    char *big = calloc(1, (size_t)pg + 64);
    strcpy(big, "taken by the dead");
    ck_assert_int_eq(parc_shmqueue_send(q, big, (size_t)pg + 64), 0);
    ck_assert_int_eq(parc_shmqueue_send(q, "second", 7), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* the copy-out runs past the readable page: dies holding cell 0 */
        size_t n;
        parc_shmqueue_recv(q, trap + pg - 64, (size_t)pg + 64, &n);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    char *buf = malloc((size_t)pg + 64);
    size_t n;
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, (size_t)pg + 64, &n), 0);
    ck_assert_str_eq(buf, "second");
    /* cell 0 is next for producers: they take it back from the dead */
    ck_assert_int_eq(parc_shmqueue_send_timed(q, "third", 6, PARC_TEST_PATIENCE_NS), 0);
    ck_assert_uint_eq(parc_shmqueue_lost_receives(q), 1);
    ck_assert_int_eq(parc_shmqueue_recv(q, buf, (size_t)pg + 64, &n), 0);
    ck_assert_str_eq(buf, "third");
    free(buf);
    free(big);
}
END_TEST

START_TEST(close_wakes_receiver_in_another_process)
{
    parc_shmqueue_t *q = make_queue(4, 8);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[8];
        size_t n;
        _exit(parc_shmqueue_recv_timed(q, buf, sizeof buf, &n, PARC_TEST_PATIENCE_NS)
                      == EPIPE ? 0 : 1);
    }
    parc_sleep_ns(50 * PARC_NS_PER_MS);
    ck_assert_int_eq(parc_shmqueue_close(q), 0);
    wait_ok(pid);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shmqueue");
    TCase *tc = tcase_create("processes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120 * PARC_SLOWDOWN);
    tcase_add_test(tc, rejects_bad_arguments);
    tcase_add_test(tc, forms_and_close_in_one_process);
    tcase_add_test(tc, processes_exchange_exactly_once);
    tcase_add_test(tc, dead_producer_costs_one_reported_message);
    tcase_add_test(tc, dead_consumer_costs_one_counted_message);
    tcase_add_test(tc, close_wakes_receiver_in_another_process);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
