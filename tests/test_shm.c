/*
 * Unit tests for parc/shm.h.
 *
 * Besides the argument checks: blocks never overlap and are reused by
 * their class; exhaustion says ENOMEM; a double free is caught; a child
 * process sees what the parent wrote through an inherited anonymous
 * region, and a process opening a named region (or a memfd by its
 * descriptor) finds the creator's objects through the root offset; several
 * processes allocating and freeing at once never get the same block (each
 * stamps its blocks with its pid and checks the stamp before freeing).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parc/shm.h"
#include "testutil.h"

static void wait_child_ok(pid_t pid)
{
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "child failed: status %#x", st);
}

START_TEST(rejects_bad_arguments)
{
    parc_shm_t shm;
    uint64_t off;
    ck_assert_int_eq(parc_shm_create(NULL, NULL, 4096), EINVAL);
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 0), EINVAL);
    ck_assert_int_eq(parc_shm_create(&shm, "no-slash", 4096), EINVAL);
    ck_assert_int_eq(parc_shm_open(&shm, NULL), EINVAL);
    ck_assert_int_eq(parc_shm_open(&shm, "/parc-test-does-not-exist"), ENOENT);
    ck_assert_int_eq(parc_shm_open_fd(&shm, -1), EBADF);
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 4096), 0);
    ck_assert_int_eq(parc_shm_alloc(&shm, 0, &off), EINVAL);
    ck_assert_int_eq(parc_shm_alloc(NULL, 8, &off), EINVAL);
    ck_assert_int_eq(parc_shm_alloc(&shm, 8, NULL), EINVAL);
    ck_assert_int_eq(parc_shm_free(&shm, PARC_SHM_NULL), 0);
    ck_assert_int_eq(parc_shm_free(&shm, 3), EINVAL);
    ck_assert_int_eq(parc_shm_free(&shm, 1u << 30), EINVAL);
    ck_assert_ptr_null(parc_shm_ptr(&shm, PARC_SHM_NULL));
    ck_assert_int_eq(parc_shm_close(&shm), 0);
    ck_assert_int_eq(parc_shm_close(&shm), EINVAL);
}
END_TEST

START_TEST(blocks_are_disjoint_reused_and_bounded)
{
    parc_shm_t shm;
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 64 * 1024), 0);
    ck_assert_uint_eq(parc_shm_root(&shm), PARC_SHM_NULL);
    enum { N = 64 };
    uint64_t offs[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(parc_shm_alloc(&shm, 40, &offs[i]), 0);
        ck_assert_uint_eq(offs[i] % 16, 0);
        memset(parc_shm_ptr(&shm, offs[i]), i, 40);
    }
    for (int i = 0; i < N; i++) {
        unsigned char *p = parc_shm_ptr(&shm, offs[i]);
        for (int k = 0; k < 40; k++)
            ck_assert_int_eq(p[k], i); /* no neighbour overwrote it */
        ck_assert_uint_eq(parc_shm_offset(&shm, p), offs[i]);
    }
    uint64_t used = parc_shm_used(&shm);
    ck_assert_int_eq(parc_shm_free(&shm, offs[7]), 0);
    ck_assert_int_eq(parc_shm_free(&shm, offs[7]), EINVAL); /* double free */
    uint64_t again;
    ck_assert_int_eq(parc_shm_alloc(&shm, 33, &again), 0);
    ck_assert_uint_eq(again, offs[7]);          /* same class: reused */
    ck_assert_uint_eq(parc_shm_used(&shm), used); /* nothing carved */
    /* Exhaustion: big blocks until ENOMEM, then small ones still fit or
     * also fail cleanly. */
    uint64_t big;
    int rc;
    int got = 0;
    while ((rc = parc_shm_alloc(&shm, 4000, &big)) == 0)
        got++;
    ck_assert_int_eq(rc, ENOMEM);
    ck_assert_int_gt(got, 0);
    ck_assert_int_eq(parc_shm_alloc(&shm, 1u << 20, &big), ENOMEM);
    ck_assert_int_eq(parc_shm_close(&shm), 0);
}
END_TEST

START_TEST(child_sees_inherited_region)
{
    parc_shm_t shm;
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 1 << 16), 0);
    uint64_t off;
    ck_assert_int_eq(parc_shm_alloc(&shm, sizeof(uint64_t) * 2, &off), 0);
    uint64_t *v = parc_shm_ptr(&shm, off);
    v[0] = 41;
    v[1] = 0;
    parc_shm_set_root(&shm, off);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        uint64_t *w = parc_shm_ptr(&shm, parc_shm_root(&shm));
        w[1] = w[0] + 1;
        /* the child allocates too: the parent must not get its block */
        uint64_t mine;
        if (parc_shm_alloc(&shm, 16, &mine) != 0 || mine == off)
            _exit(1);
        *(uint64_t *)parc_shm_ptr(&shm, mine) = 0xabcdef;
        w[0] = mine;
        _exit(0);
    }
    wait_child_ok(pid);
    ck_assert_uint_eq(v[1], 42);
    ck_assert_uint_eq(*(uint64_t *)parc_shm_ptr(&shm, v[0]), 0xabcdef);
    ck_assert_int_eq(parc_shm_close(&shm), 0);
}
END_TEST

START_TEST(named_region_opened_by_another_process)
{
    char name[64];
    snprintf(name, sizeof name, "/parc-test-shm-%ld", (long)getpid());
    parc_shm_unlink(name);
    parc_shm_t shm;
    ck_assert_int_eq(parc_shm_create(&shm, name, 8192), 0);
    parc_shm_t dup;
    ck_assert_int_eq(parc_shm_create(&dup, name, 8192), EEXIST);
    uint64_t off;
    ck_assert_int_eq(parc_shm_alloc(&shm, 64, &off), 0);
    strcpy(parc_shm_ptr(&shm, off), "hello");
    parc_shm_set_root(&shm, off);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* A fresh mapping, wherever mmap puts it this time. */
        parc_shm_t mine;
        if (parc_shm_open(&mine, name) != 0)
            _exit(1);
        char *s = parc_shm_ptr(&mine, parc_shm_root(&mine));
        if (strcmp(s, "hello") != 0)
            _exit(2);
        strcpy(s, "world");
        parc_shm_close(&mine);
        _exit(0);
    }
    wait_child_ok(pid);
    ck_assert_str_eq(parc_shm_ptr(&shm, off), "world");
    /* And through the file descriptor (what a memfd receiver does). */
    parc_shm_t byfd;
    ck_assert_int_eq(parc_shm_open_fd(&byfd, parc_shm_fd(&shm)), 0);
    ck_assert_str_eq(parc_shm_ptr(&byfd, parc_shm_root(&byfd)), "world");
    ck_assert_int_eq(parc_shm_close(&byfd), 0);
    ck_assert_int_eq(parc_shm_unlink(name), 0);
    ck_assert_int_eq(parc_shm_open(&dup, name), ENOENT);
    ck_assert_int_eq(parc_shm_close(&shm), 0);
}
END_TEST

START_TEST(processes_allocate_concurrently_without_overlap)
{
    parc_shm_t shm;
    ck_assert_int_eq(parc_shm_create(&shm, NULL, 1 << 20), 0);
    enum { PROCS = 4, ROUNDS = 3000, HELD = 8 };
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            uint64_t held[HELD] = {0};
            uint32_t x = (uint32_t)getpid();
            for (int r = 0; r < ROUNDS; r++) {
                x = x * 1103515245u + 12345u;
                int i = (int)((x >> 16) % HELD);
                if (held[i] != 0) {
                    uint64_t *b = parc_shm_ptr(&shm, held[i]);
                    if (b[0] != (uint64_t)getpid() || b[1] != held[i])
                        _exit(3); /* someone else got our block */
                    if (parc_shm_free(&shm, held[i]) != 0)
                        _exit(4);
                    held[i] = 0;
                } else {
                    size_t sz = 16 + (x >> 8) % 200;
                    if (parc_shm_alloc(&shm, sz, &held[i]) != 0)
                        _exit(5);
                    uint64_t *b = parc_shm_ptr(&shm, held[i]);
                    b[0] = (uint64_t)getpid();
                    b[1] = held[i];
                }
            }
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++)
        wait_child_ok(pids[p]);
    ck_assert_int_eq(parc_shm_close(&shm), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shm");
    TCase *basic = tcase_create("basic");
    tcase_add_test(basic, rejects_bad_arguments);
    tcase_add_test(basic, blocks_are_disjoint_reused_and_bounded);
    suite_add_tcase(s, basic);
    TCase *procs = tcase_create("processes");
    tcase_set_timeout(procs, 120 * PARC_SLOWDOWN);
    tcase_add_test(procs, child_sees_inherited_region);
    tcase_add_test(procs, named_region_opened_by_another_process);
    tcase_add_test(procs, processes_allocate_concurrently_without_overlap);
    suite_add_tcase(s, procs);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
