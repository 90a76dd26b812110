/*
 * parc-stress-procs — the kill -9 workloads: processes that share parc
 * objects are killed at random under load, and the survivors must neither
 * hang nor lose anything that the dead did not hold.
 *
 *   queue   producers and consumers of a parc_shmqueue_t, each a process; a
 *           supervisor kill -9s random ones and starts replacements; some
 *           producers die on purpose in the middle of a send (a copy across
 *           a page they cannot read), so producer deaths inside the claim
 *           happen every run. Checks: no message received twice; every
 *           message whose send returned 0 is received, except those a dead
 *           consumer held (found in its receive buffer, which lives in
 *           shared memory) or lost while taking (lost_receives); at least
 *           one reported loss per producer that died mid-send; nobody hangs.
 *   mutex   workers increment a counter and then its shadow copy under a
 *           robust process-shared mutex; random holders are killed between
 *           the two. Checks: every EOWNERDEAD finds counter == shadow or
 *           shadow + 1 and repairs it; the final counter is within [sum
 *           of acknowledged increments, that + kills]; the mutex still
 *           locks afterwards; nobody waits past the patience.
 *   pool    a process pool runs tasks while its workers are killed: every
 *           future completes with the right result or ECHILD (never hangs),
 *           ECHILDs <= kills, and the pool is back at full size; now and
 *           then a map_elems of 60,000 items (through the map arena) while
 *           a forked helper kills a random worker mid-map: every item comes
 *           back right or ECHILD, nothing is written past the results.
 *
 * Mutants (negative controls, --mutant; the run must catch them and then
 * prints "mutant caught" and exits 0):
 *   lossy-queue     a receive that, after reporting a dead producer's
 *                   message, silently drops the next one (a recovery that
 *                   skips one cell too many);
 *   nonrobust-mutex the mutex without PARC_MUTEX_ROBUST: after a holder's
 *                   death the survivors wait until the patience runs out.
 *
 * Usage: parc-stress-procs [queue|mutex|pool|all] [--seconds S] [--seed N]
 *                          [--mutant lossy-queue|nonrobust-mutex]
 * Exit status: 0 when every check held (or the mutant was caught).
 *
 * Under ThreadSanitizer the pool workload runs (its processes fork from a
 * single-threaded fork server); the queue and mutex workloads fork from a
 * single-threaded supervisor and run too, but TSan sees one process at a
 * time: it checks each process's own accesses, not the cross-process
 * protocol (the checks above do that).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "parc/mutex.h"
#include "parc/procpool.h"
#include "parc/shm.h"
#include "parc/shmqueue.h"
#include "parc/time.h"

#ifndef PARC_SLOWDOWN
#define PARC_SLOWDOWN 1
#endif
#define PATIENCE_NS ((int64_t)10 * PARC_NS_PER_S * PARC_SLOWDOWN)

/* Children killed on purpose by SIGSEGV: no sanitizer report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "handle_segv=0"; }
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "handle_segv=0"; }

static double seconds = 2.0;
static uint64_t rng_state = 88172645463325252ull;
static const char *mutant;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int violations;

static void violation(const char *what)
{
    printf("  VIOLATION: %s\n", what);
    violations++;
}

/* Wait for a child, but never forever: a survivor that hangs is a failure. */
static int reap(pid_t pid, int64_t patience_ns)
{
    parc_deadline_t d;
    parc_deadline_in(&d, patience_ns);
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        if (parc_deadline_passed(d)) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -2; /* hung */
        }
        parc_sleep_ns(PARC_NS_PER_MS);
    }
}

/* ---- queue ------------------------------------------------------------ */

enum { QP = 3, QC = 3, MAX_IDS = 1024, PER_ID = 1 << 14, MSG = 256 };

struct qmsg {
    uint32_t id, seq;
    uint64_t check;
    char pad[MSG - 16];
};

struct qshared {
    parc_atomic(uint32_t) stop;
    parc_atomic(uint32_t) next_id;
    parc_atomic(uint32_t) acked[MAX_IDS];   /* sends that returned 0 */
    parc_atomic(uint32_t) reported;         /* EOWNERDEAD seen by consumers */
    struct qmsg cbuf[64];                   /* consumers' receive buffers */
};

static uint64_t checksum(uint32_t id, uint32_t seq)
{
    return ((uint64_t)id * 0x9e3779b97f4a7c15ull) ^ (seq * 0xff51afd7ed558ccdull);
}

static void producer(parc_shmqueue_t *q, struct qshared *s, unsigned char *seen,
                     bool crash_mid_send)
{
    (void)seen;
    uint32_t id = parc_faa(&s->next_id, 1u, PARC_RELAXED);
    if (id >= MAX_IDS)
        _exit(0);
    long pg = sysconf(_SC_PAGESIZE);
    for (uint32_t seq = 0; seq < PER_ID; seq++) {
        if (parc_load(&s->stop, PARC_ACQUIRE))
            _exit(0);
        if (crash_mid_send && seq == 100) {
            /* claim a cell, then fault copying from an unreadable page */
            unsigned char *p = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            mprotect(p + pg, (size_t)pg, PROT_NONE);
            parc_shmqueue_send(q, p + pg - 64, MSG);
            _exit(99); /* not reached */
        }
        struct qmsg m;
        memset(&m, 0, sizeof m);
        m.id = id;
        m.seq = seq;
        m.check = checksum(id, seq);
        int rc = parc_shmqueue_send_timed(q, &m, sizeof m, PATIENCE_NS);
        if (rc == EPIPE)
            _exit(0);
        if (rc != 0)
            _exit(2); /* ETIMEDOUT: a hang */
        /* release: the count of accepted messages, read by the checker */
        parc_store(&s->acked[id], seq + 1, PARC_RELEASE);
    }
    _exit(0);
}

/* The mutant's receive: after a reported loss it drops the next message. */
static int recv_maybe_lossy(parc_shmqueue_t *q, void *buf, size_t *n)
{
    int rc = parc_shmqueue_recv_timed(q, buf, MSG, n, PATIENCE_NS);
    if (rc == EOWNERDEAD && mutant != NULL && strcmp(mutant, "lossy-queue") == 0) {
        struct qmsg dropped;
        size_t m;
        (void)parc_shmqueue_recv_timed(q, &dropped, MSG, &m, PATIENCE_NS);
    }
    return rc;
}

static void consumer(parc_shmqueue_t *q, struct qshared *s, unsigned char *seen,
                     int slot)
{
    struct qmsg *buf = &s->cbuf[slot];
    for (;;) {
        size_t n;
        int rc = recv_maybe_lossy(q, buf, &n);
        if (rc == EPIPE)
            _exit(0);
        if (rc == EOWNERDEAD) {
            parc_faa(&s->reported, 1u, PARC_RELAXED);
            continue;
        }
        if (rc != 0)
            _exit(2);
        if (n != MSG || buf->id >= MAX_IDS || buf->seq >= PER_ID ||
            buf->check != checksum(buf->id, buf->seq))
            _exit(3); /* torn or corrupt message */
        seen[(size_t)buf->id * PER_ID + buf->seq]++;
    }
}

static int run_queue(void)
{
    printf("queue: %d producers, %d consumers, kill -9 under load, %.1f s%s%s\n",
           QP, QC, seconds, mutant ? ", mutant " : "", mutant ? mutant : "");
    parc_shm_t shm;
    size_t seen_bytes = (size_t)MAX_IDS * PER_ID;
    /* the allocator rounds the bitmap up to a power of two past it */
    if (parc_shm_create(&shm, NULL, 2 * seen_bytes + (8 << 20)) != 0)
        return 1;
    uint64_t qoff, soff, voff;
    if (parc_shmqueue_create(&shm, 64, MSG, &qoff) != 0 ||
        parc_shm_alloc(&shm, sizeof(struct qshared), &soff) != 0 ||
        parc_shm_alloc(&shm, seen_bytes, &voff) != 0) {
        printf("  out of shared memory\n");
        return 1;
    }
    parc_shmqueue_t *q = parc_shm_ptr(&shm, qoff);
    struct qshared *s = parc_shm_ptr(&shm, soff);
    unsigned char *seen = parc_shm_ptr(&shm, voff);
    memset(s, 0, sizeof *s);
    pid_t prod[QP], cons[QC];
    unsigned kills_p = 0, kills_c = 0, crashes = 0;
    int cslot[QC];
    int next_slot = 0;
    unsigned char dead_cslot[64] = {0};
    for (int i = 0; i < QP; i++)
        if ((prod[i] = fork()) == 0)
            producer(q, s, seen, false);
    for (int i = 0; i < QC; i++) {
        cslot[i] = next_slot++;
        if ((cons[i] = fork()) == 0)
            consumer(q, s, seen, cslot[i]);
    }
    parc_deadline_t end;
    parc_deadline_in(&end, (int64_t)(seconds * PARC_NS_PER_S));
    while (!parc_deadline_passed(end)) {
        parc_sleep_ns((int64_t)(5 + rnd() % 30) * PARC_NS_PER_MS);
        uint64_t r = rnd();
        if (r % 4 == 0 && next_slot < 64) { /* a consumer */
            int i = (int)(r / 4 % QC);
            kill(cons[i], SIGKILL);
            waitpid(cons[i], NULL, 0);
            dead_cslot[cslot[i]] = 1;
            kills_c++;
            cslot[i] = next_slot++;
            if ((cons[i] = fork()) == 0)
                consumer(q, s, seen, cslot[i]);
        } else { /* a producer: killed, or one that crashes mid-send */
            int i = (int)(r / 4 % QP);
            kill(prod[i], SIGKILL);
            waitpid(prod[i], NULL, 0);
            kills_p++;
            bool crashy = r % 3 == 0;
            crashes += crashy;
            if ((prod[i] = fork()) == 0)
                producer(q, s, seen, crashy);
        }
    }
    /* Wind down: producers stop, the queue closes, consumers drain. */
    parc_store(&s->stop, 1u, PARC_RELEASE);
    for (int i = 0; i < QP; i++) {
        int st = reap(prod[i], PATIENCE_NS);
        if (st == -2)
            violation("a producer hung");
    }
    size_t swept = parc_shmqueue_recover(q); /* claims of the dead */
    parc_shmqueue_close(q);
    for (int i = 0; i < QC; i++) {
        int st = reap(cons[i], PATIENCE_NS);
        if (st == -2)
            violation("a consumer hung");
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            violation("a consumer failed (corrupt message or timeout)");
    }
    swept += parc_shmqueue_recover(q);
    /* Check. */
    uint32_t ids = parc_load(&s->next_id, PARC_RELAXED);
    if (ids > MAX_IDS)
        ids = MAX_IDS;
    uint64_t accepted = 0, missing = 0, explained = 0, dups = 0;
    for (uint32_t id = 0; id < ids; id++) {
        uint32_t acked = parc_load(&s->acked[id], PARC_ACQUIRE);
        accepted += acked;
        for (uint32_t seq = 0; seq < PER_ID; seq++) {
            unsigned char c = seen[(size_t)id * PER_ID + seq];
            if (c > 1)
                dups++;
            if (seq < acked && c == 0)
                missing++;
        }
    }
    for (int k = 0; k < next_slot; k++) {
        struct qmsg *m = &s->cbuf[k];
        if (dead_cslot[k] && m->id < ids && m->seq < PER_ID &&
            m->check == checksum(m->id, m->seq) &&
            seen[(size_t)m->id * PER_ID + m->seq] == 0 &&
            m->seq < parc_load(&s->acked[m->id], PARC_ACQUIRE))
            explained++; /* received by a consumer that died before noting it */
    }
    uint64_t lost_send = parc_shmqueue_lost_sends(q), lost_recv = parc_shmqueue_lost_receives(q);
    printf("  accepted %llu, missing %llu (held by dead consumers %llu, lost while "
           "taken %llu), duplicates %llu\n",
           (unsigned long long)accepted, (unsigned long long)missing,
           (unsigned long long)explained, (unsigned long long)lost_recv,
           (unsigned long long)dups);
    printf("  kills: %u producers (%u crashed mid-send), %u consumers; lost sends "
           "%llu (reported to receivers %u, swept %zu)\n",
           kills_p, crashes, kills_c, (unsigned long long)lost_send,
           parc_load(&s->reported, PARC_RELAXED), swept);
    if (dups > 0)
        violation("a message was received twice");
    if (missing > explained + lost_recv)
        violation("an accepted message was lost that no dead process held");
    /* Each crashy producer that got to its 100th send died holding a cell. */
    uint64_t crashed_in_claim = 0;
    for (uint32_t id = 0; id < ids; id++)
        crashed_in_claim += parc_load(&s->acked[id], PARC_ACQUIRE) == 100;
    if (crashed_in_claim >= 2 && lost_send == 0)
        violation("producers died holding cells but no loss was reported");
    parc_shm_close(&shm);
    return 0;
}

/* ---- mutex ------------------------------------------------------------ */

enum { MW = 4 };

struct mshared {
    parc_mutex_t m;
    long counter, shadow; /* shadow == counter whenever consistent */
    parc_atomic(long) done[64];       /* increments acknowledged per slot */
    parc_atomic(uint32_t) recovered;
    parc_atomic(uint32_t) bad;        /* inconsistency found */
    parc_atomic(uint32_t) hung;       /* a lock waited past the patience */
    parc_atomic(uint32_t) stop;
};

/* How long a worker waits for the lock before it calls that a hang: the
 * patience, or 1 s (x slowdown) for the non-robust mutant, which hangs
 * at its first death by design. */
static int64_t lock_patience = PATIENCE_NS;

static void mutex_worker(struct mshared *s, int slot)
{
    while (!parc_load(&s->stop, PARC_ACQUIRE)) {
        int rc = parc_mutex_lock_timed(&s->m, lock_patience);
        if (rc == ETIMEDOUT) {
            parc_store(&s->hung, 1u, PARC_RELEASE);
            _exit(4);
        }
        if (rc == EOWNERDEAD) {
            if (s->counter != s->shadow && s->counter != s->shadow + 1)
                parc_store(&s->bad, 1u, PARC_RELEASE);
            s->shadow = s->counter; /* repair */
            parc_faa(&s->recovered, 1u, PARC_RELAXED);
            parc_mutex_consistent(&s->m);
        } else if (rc != 0) {
            parc_store(&s->bad, 2u, PARC_RELEASE);
            _exit(5);
        } else if (s->counter != s->shadow) {
            parc_store(&s->bad, 3u, PARC_RELEASE);
        }
        s->counter++;
        for (volatile int i = 0; i < 200; i++) /* widen the window */
            ;
        s->shadow = s->counter;
        parc_mutex_unlock(&s->m);
        parc_faa(&s->done[slot], 1L, PARC_RELAXED);
    }
    _exit(0);
}

static int run_mutex(void)
{
    bool robust = !(mutant != NULL && strcmp(mutant, "nonrobust-mutex") == 0);
    printf("mutex: %d workers, %s mutex, kill -9 of holders, %.1f s\n", MW,
           robust ? "robust" : "NON-robust (mutant)", seconds);
    parc_shm_t shm;
    uint64_t off;
    if (parc_shm_create(&shm, NULL, 1 << 20) != 0 ||
        parc_shm_alloc(&shm, sizeof(struct mshared), &off) != 0)
        return 1;
    struct mshared *s = parc_shm_ptr(&shm, off);
    memset(s, 0, sizeof *s);
    parc_mutex_init(&s->m, PARC_PSHARED | (robust ? PARC_MUTEX_ROBUST : 0u));
    pid_t w[MW];
    int slot[MW], next_slot = 0;
    unsigned kills = 0;
    for (int i = 0; i < MW; i++) {
        slot[i] = next_slot++;
        if ((w[i] = fork()) == 0)
            mutex_worker(s, slot[i]);
    }
    if (!robust)
        lock_patience = (int64_t)PARC_NS_PER_S * PARC_SLOWDOWN;
    int64_t patience = PATIENCE_NS;
    parc_deadline_t end;
    parc_deadline_in(&end, (int64_t)(seconds * PARC_NS_PER_S));
    while (!parc_deadline_passed(end) && next_slot < 64 &&
           !parc_load(&s->hung, PARC_ACQUIRE)) {
        parc_sleep_ns((int64_t)(2 + rnd() % 20) * PARC_NS_PER_MS);
        int i = (int)(rnd() % MW);
        kill(w[i], SIGKILL);
        waitpid(w[i], NULL, 0);
        kills++;
        slot[i] = next_slot++;
        if ((w[i] = fork()) == 0)
            mutex_worker(s, slot[i]);
    }
    parc_store(&s->stop, 1u, PARC_RELEASE);
    for (int i = 0; i < MW; i++) {
        int st = reap(w[i], patience);
        if (st == -2 || parc_load(&s->hung, PARC_ACQUIRE))
            parc_store(&s->hung, 1u, PARC_RELEASE);
    }
    long acked = 0;
    for (int k = 0; k < next_slot; k++)
        acked += parc_load(&s->done[k], PARC_RELAXED);
    printf("  increments acknowledged %ld, counter %ld, shadow %ld, kills %u, "
           "recoveries %u\n", acked, s->counter, s->shadow, kills,
           parc_load(&s->recovered, PARC_RELAXED));
    if (parc_load(&s->hung, PARC_ACQUIRE))
        violation("a survivor waited past the patience for a dead holder's lock");
    if (parc_load(&s->bad, PARC_ACQUIRE))
        violation("the protected state was inconsistent after a lock");
    int rc = parc_mutex_lock_timed(&s->m, PATIENCE_NS / 10);
    if (rc == EOWNERDEAD) {
        s->shadow = s->counter;
        parc_mutex_consistent(&s->m);
        rc = 0;
    }
    if (rc != 0)
        violation("the mutex does not lock after the run");
    else
        parc_mutex_unlock(&s->m);
    if (s->counter != s->shadow)
        violation("counter and shadow differ after recovery");
    if (s->counter < acked || s->counter > acked + (long)kills)
        violation("the counter is not within [acknowledged, acknowledged + kills]");
    parc_shm_close(&shm);
    return 0;
}

/* ---- pool ------------------------------------------------------------- */

static int cube(const void *arg, size_t len, void **out, size_t *out_len)
{
    (void)len;
    long x = *(const long *)arg;
    for (volatile int i = 0; i < 20000; i++) /* some work to be killed in */
        ;
    long *r = malloc(sizeof *r);
    if (r == NULL)
        return ENOMEM;
    *r = x * x * x;
    *out = r;
    *out_len = sizeof *r;
    return 0;
}

/* map_elems' element: the cube, after some work to be killed in. */
static int cube_elem(const void *in, void *out)
{
    long x = *(const long *)in;
    for (volatile int i = 0; i < 200; i++)
        ;
    *(long *)out = x * x * x;
    return 0;
}

/* One big map (cross memory, or the arena) while a random worker is
 * killed: every item comes back right or fails with ECHILD (its rerun's
 * worker was killed too), at most one item per kill, and nothing is
 * written past the results (guard words after them). */
static void pool_map_round(parc_procpool_t *pool, uint64_t *ok, uint64_t *died,
                           unsigned *kills)
{
    enum { N = 60000, GUARD = 512 };
    static long in[N], out[N + GUARD];
    static int st[N];
    long base = (long)(rnd() % 1000);
    for (long i = 0; i < N; i++)
        in[i] = base + i % 1000;
    for (long i = 0; i < N + GUARD; i++)
        out[i] = -7;
    unsigned before = *kills;
    pid_t pids[3];
    size_t n = parc_procpool_pids(pool, pids, 3);
    bool kill_one = n > 0 && rnd() % 2 == 0;
    pid_t victim = kill_one ? pids[rnd() % n] : 0;
    /* the map runs in this thread: kill from a forked helper after a
     * random delay of up to 2 ms, while chunks run */
    pid_t killer = kill_one ? fork() : 0;
    if (killer == 0 && kill_one) {
        struct timespec ts = {0, (long)(rnd() % 2000000)};
        nanosleep(&ts, NULL);
        kill(victim, SIGKILL);
        _exit(0);
    }
    if (killer > 0)
        (*kills)++;
    int rc = parc_procpool_map_elems(pool, cube_elem, in, sizeof in[0], N, out,
                                     sizeof out[0], st, 0);
    if (killer > 0)
        waitpid(killer, NULL, 0);
    uint64_t failed = 0;
    for (long i = 0; i < N; i++) {
        if (st[i] == 0 && out[i] == in[i] * in[i] * in[i])
            (*ok)++;
        else if (st[i] == ECHILD)
            failed++;
        else
            violation("a map item came back wrong");
    }
    for (long i = N; i < N + GUARD; i++)
        if (out[i] != -7)
            violation("a map wrote past its results");
    if (failed > *kills - before)
        violation("more map items failed than workers were killed");
    if ((rc == 0) != (failed == 0))
        violation("the map's return code disagrees with its statuses");
    *died += failed;
}

static int run_pool(void)
{
    printf("pool: 3 workers, kill -9 of random workers under load, %.1f s\n", seconds);
    parc_procpool_options_t o = PARC_PROCPOOL_OPTIONS_INIT;
    o.workers = 3;
    parc_procpool_t *pool;
    if (parc_procpool_create(&o, &pool) != 0)
        return 1;
    enum { BATCH = 64 };
    uint64_t ok = 0, died = 0, submitted = 0, maps = 0, map_ok = 0, map_died = 0;
    unsigned kills = 0;
    parc_deadline_t end;
    parc_deadline_in(&end, (int64_t)(seconds * PARC_NS_PER_S));
    while (!parc_deadline_passed(end)) {
        parc_future_t *f[BATCH];
        long x[BATCH];
        for (int i = 0; i < BATCH; i++) {
            x[i] = (long)(rnd() % 1000);
            if (parc_procpool_submit(pool, cube, &x[i], sizeof x[i], &f[i]) != 0) {
                violation("submit failed");
                return 0;
            }
            submitted++;
        }
        pid_t pids[3];
        size_t n = parc_procpool_pids(pool, pids, 3);
        if (n > 0 && rnd() % 2 == 0) {
            kill(pids[rnd() % n], SIGKILL);
            kills++;
        }
        if (rnd() % 4 == 0) {
            pool_map_round(pool, &map_ok, &map_died, &kills);
            maps++;
        }
        for (int i = 0; i < BATCH; i++) {
            void *v;
            int rc = parc_future_get_timed(f[i], &v, PATIENCE_NS);
            if (rc == 0 && *(long *)v == x[i] * x[i] * x[i])
                ok++;
            else if (rc == ECHILD)
                died++;
            else if (rc == ETIMEDOUT && !parc_future_is_done(f[i]))
                violation("a task's future never completed");
            else
                violation("a task came back wrong");
            parc_procpool_release(f[i]);
        }
    }
    parc_deadline_t d;
    parc_deadline_in(&d, PATIENCE_NS);
    pid_t pids[3];
    while (parc_procpool_pids(pool, pids, 3) < 3 && !parc_deadline_passed(d))
        parc_sleep_ns(PARC_NS_PER_MS);
    if (parc_procpool_pids(pool, pids, 3) < 3)
        violation("the pool did not get back to its size");
    printf("  tasks %llu: ok %llu, ECHILD %llu; kills %u, workers replaced %llu\n",
           (unsigned long long)submitted, (unsigned long long)ok,
           (unsigned long long)died, kills,
           (unsigned long long)parc_procpool_respawns(pool));
    printf("  maps %llu of 60,000 items: ok %llu, ECHILD %llu\n", (unsigned long long)maps,
           (unsigned long long)map_ok, (unsigned long long)map_died);
    if (died + map_died > kills)
        violation("more tasks failed than workers were killed");
    parc_procpool_close(pool);
    parc_procpool_join(pool);
    parc_procpool_free(pool);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines out before any fork */
    const char *which = "all";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 0) | 1u;
        else if (strcmp(argv[i], "--mutant") == 0 && i + 1 < argc)
            mutant = argv[++i];
        else
            which = argv[i];
    }
    /* The pool's fork server first, while this process has one thread. */
    if (parc_procpool_forkserver_start() != 0)
        return 1;
    printf("parc-stress-procs: seed %llu\n", (unsigned long long)rng_state);
    bool all = strcmp(which, "all") == 0;
    int rc = 0;
    if (all || strcmp(which, "queue") == 0)
        rc |= run_queue();
    if (all || strcmp(which, "mutex") == 0)
        rc |= run_mutex();
    if (all || strcmp(which, "pool") == 0)
        rc |= run_pool();
    if (mutant != NULL) {
        printf(violations > 0 ? "mutant caught: %s\n" : "MUTANT NOT CAUGHT: %s\n", mutant);
        return violations > 0 ? 0 : 1;
    }
    printf(violations == 0 && rc == 0 ? "PASS\n" : "FAIL\n");
    return violations == 0 && rc == 0 ? 0 : 1;
}
