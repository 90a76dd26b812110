/* parc/pool.h: the pool's life cycle: create, close, terminate, join,
 * shutdown, free. The workers and the scheduling policy are in pool.c. */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_internal.h"

/* The calling thread's worker record when it is one of p's workers. */
static pool_worker_t *own_worker(const parc_pool_t *p)
{
    pool_worker_t *w = parc_pool_self_();
    return w != NULL && w->pool == p ? w : NULL;
}

/* The calling thread is one of p's threads: a worker or a compensator. */
static bool own_thread(parc_pool_t *p)
{
    return own_worker(p) != NULL || parc_pool_block_self_() == p;
}

static void *alloc_aligned(size_t size)
{
    size_t rounded = (size + PARC_CACHELINE - 1) / PARC_CACHELINE * PARC_CACHELINE;
    void *m = aligned_alloc(PARC_CACHELINE, rounded);
    if (m != NULL)
        memset(m, 0, rounded);
    return m;
}

static void stop_and_join(parc_pool_t *p, bool cancel)
{
    if (cancel)
        parc_pool_terminate(p);
    else
        parc_pool_close(p);
    pthread_mutex_lock(&p->join_lock);
    if (!p->joined) {
        for (unsigned i = 0; i < p->nworkers; i++)
            if (p->workers[i].started)
                pthread_join(p->workers[i].thread, NULL);
        parc_pool_block_join_(p);
        p->joined = true;
    }
    pthread_mutex_unlock(&p->join_lock);
}

/* Close the injection queue, then cancel what it still holds. */
static void inject_cancel_all(parc_pool_t *p)
{
    (void)parc_inject_close(&p->inject);
    parc_inject_entry_t batch[INJECT_BATCH];
    size_t k;
    while (parc_inject_drain(&p->inject, batch, INJECT_BATCH, &k) == 0 && k > 0)
        for (size_t j = 0; j < k; j++)
            parc_pool_cancel_entry_(&batch[j]);
}

static void destroy_pool(parc_pool_t *p)
{
    inject_cancel_all(p); /* none after a join; keeps create's failure path exact */
    for (unsigned i = 0; i < p->nworkers; i++)
        parc_deque_destroy(&p->workers[i].deque);
    (void)parc_inject_destroy(&p->inject);
    pthread_mutex_destroy(&p->join_lock);
    pthread_mutex_destroy(&p->sleep_lock);
    parc_pool_block_fini_(p);
    free(p->workers);
    free(p);
}

int parc_pool_create(unsigned workers, const parc_pool_options_t *opts,
                     parc_pool_t **out)
{
    if (out == NULL || workers > POOL_MAX_WORKERS)
        return EINVAL;
    parc_pool_options_t defaults = PARC_POOL_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (workers == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        workers = cpus < 1 ? 1u : cpus > (long)POOL_MAX_WORKERS ? POOL_MAX_WORKERS
                                                                : (unsigned)cpus;
    }
    for (size_t i = 0; opts->cpus != NULL && i < opts->ncpus; i++)
        if (opts->cpus[i] < 0 || opts->cpus[i] >= CPU_SETSIZE)
            return EINVAL;

    parc_pool_t *p = alloc_aligned(sizeof *p);
    if (p == NULL)
        return ENOMEM;
    p->workers = alloc_aligned(sizeof *p->workers * workers);
    if (p->workers == NULL || parc_inject_init(&p->inject, INJECT_SHARDS) != 0) {
        free(p->workers);
        free(p);
        return ENOMEM;
    }
    parc_atomic_init(&p->searching, 0u);
    parc_atomic_init(&p->nsleepers, 0u);
    pthread_mutex_init(&p->sleep_lock, NULL);
    p->sleepers = NULL;
    parc_atomic_init(&p->terminating, 0);
    parc_atomic_init(&p->closed, 0);
    p->initializer = opts->initializer;
    p->initializer_arg = opts->initializer_arg;
    snprintf(p->prefix, sizeof p->prefix, "%s",
             opts->name_prefix != NULL ? opts->name_prefix : "parc-w");
    pthread_mutex_init(&p->join_lock, NULL);
    p->nworkers = workers;
    parc_pool_block_init_(p);
    int rc = 0;
    for (unsigned i = 0; i < workers; i++) {
        pool_worker_t *w = &p->workers[i];
        w->pool = p;
        w->index = i;
        parc_eventcount_init(&w->ec);
        parc_atomic_init(&w->claimed, 0);
        for (unsigned k = 0; k < 4; k++)
            parc_atomic_init(&w->tg_lineage[k], NULL);
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
        if (parc_deque_init(&w->deque, opts->deque_capacity) != 0) {
            /* the deques before this one are destroyed with the pool */
            for (unsigned j = 0; j < i; j++)
                parc_deque_destroy(&p->workers[j].deque);
            (void)parc_inject_destroy(&p->inject);
            pthread_mutex_destroy(&p->join_lock);
            pthread_mutex_destroy(&p->sleep_lock);
            parc_pool_block_fini_(p);
            free(p->workers);
            free(p);
            return ENOMEM;
        }
    }
    for (unsigned i = 0; i < workers && rc == 0; i++) {
        pool_worker_t *w = &p->workers[i];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (opts->cpus != NULL && opts->ncpus > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(opts->cpus[i % opts->ncpus], &set);
            pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        int e = pthread_create(&w->thread, &attr, parc_pool_worker_main_, w);
        pthread_attr_destroy(&attr);
        if (e == 0)
            w->started = true;
        else
            rc = e == EINVAL ? EINVAL : EAGAIN;
    }
    if (rc != 0) {
        stop_and_join(p, true);
        destroy_pool(p);
        return rc;
    }
    *out = p;
    return 0;
}

unsigned parc_pool_workers(const parc_pool_t *p)
{
    return p != NULL ? p->nworkers : 0;
}

int parc_pool_current_worker(const parc_pool_t *p)
{
    pool_worker_t *w = p != NULL ? own_worker(p) : NULL;
    return w != NULL ? (int)w->index : -1;
}

int parc_pool_close(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    (void)parc_inject_close(&p->inject);
    parc_store(&p->closed, 1, PARC_RELAXED); /* a flag: see pool_open */
    /* Parked workers re-check: the ones that find the pool drained exit
     * (and each exiting worker wakes the rest, see parc_pool_worker_main_). */
    parc_pool_wake_all_(p);
    return 0;
}

int parc_pool_terminate(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    /* release: orders nothing but the flag before the drains below;
     * pairs with the acquire loads in pool_terminating(). */
    parc_store(&p->terminating, 1, PARC_RELEASE);
    inject_cancel_all(p);
    void *item;
    for (unsigned i = 0; i < p->nworkers; i++) {
        pool_worker_t *v = &p->workers[i];
        while (parc_deque_size(&v->deque) > 0)
            if (parc_deque_steal(&v->deque, &item) == 0)
                parc_pool_cancel_item_(item);
    }
    parc_pool_wake_all_(p);
    return 0;
}

int parc_pool_join(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    if (own_thread(p))
        return EDEADLK;
    stop_and_join(p, false);
    return 0;
}

int parc_pool_shutdown(parc_pool_t *p, bool wait, bool cancel_pending)
{
    if (p == NULL)
        return EINVAL;
    if (cancel_pending)
        parc_pool_terminate(p);
    else
        parc_pool_close(p);
    return wait ? parc_pool_join(p) : 0;
}

int parc_pool_free(parc_pool_t *p)
{
    if (p == NULL)
        return EINVAL;
    if (own_thread(p))
        return EDEADLK;
    stop_and_join(p, false);
    destroy_pool(p);
    return 0;
}
