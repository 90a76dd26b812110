/* Scheduled actors (parc/act.h): the name registry (Erlang's register/2,
 * whereis/1, Name ! Msg) and dead letters.
 *
 * Names: a chained hash table per runtime under a reader-writer lock,
 * each entry in two chains: by name (whereis, send) and by actor (the
 * actor's stop drops its name). An actor has at most one name; F_NAMED
 * says it has one, so an unnamed actor's stop costs no lookup. The table
 * grows by doubling when it holds twice as many names as buckets.
 * Rejected: a lock-free table (a name is looked up far more often than
 * it changes, and a read lock is one atomic pair; the send costs more).
 *
 * Dead letters: a message that can no longer reach its actor (left in
 * its mailbox when it stopped, a timer's that fires after the stop) is
 * counted and handed to the runtime's hook, or disposed when there is
 * none. A send to a stopped actor is not one: it returns EPIPE and the
 * message stays the caller's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act_internal.h"

typedef struct name_ent {
    char *name;
    parc_act_t *actor;          /* a reference, held while registered */
    struct name_ent *next_name, *next_actor;
} name_ent_t;

struct act_names {
    parc_rwlock_t lock;
    name_ent_t **by_name, **by_actor;
    size_t nbuckets, count;
};

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t hash_ptr(const void *p)
{
    uintptr_t v = (uintptr_t)p / sizeof(parc_act_t);
    return (size_t)(v * 0x9E3779B97F4A7C15u >> 16);
}

static act_names_t *names_get(parc_act_rt_t *rt, bool create)
{
    /* acquire: pairs with the release CAS below; the table is whole. */
    act_names_t *t = (act_names_t *)parc_load(&rt->names, PARC_ACQUIRE);
    if (t != NULL || !create)
        return t;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->nbuckets = 64;
    t->by_name = calloc(t->nbuckets, sizeof *t->by_name);
    t->by_actor = calloc(t->nbuckets, sizeof *t->by_actor);
    if (t->by_name == NULL || t->by_actor == NULL) {
        free(t->by_name);
        free(t->by_actor);
        free(t);
        return NULL;
    }
    parc_rwlock_init(&t->lock);
    uintptr_t expect = 0;
    /* release: publishes the initialised table to names_get's acquire;
     * acquire on failure: the winner's table is whole. */
    if (!parc_cas(&rt->names, &expect, (uintptr_t)t, PARC_ACQ_REL,
                  PARC_ACQUIRE)) {
        parc_rwlock_destroy(&t->lock);
        free(t->by_name);
        free(t->by_actor);
        free(t);
        t = (act_names_t *)expect;
    }
    return t;
}

static name_ent_t *find_name(act_names_t *t, const char *name)
{
    name_ent_t *e = t->by_name[hash_str(name) & (t->nbuckets - 1)];
    while (e != NULL && strcmp(e->name, name) != 0)
        e = e->next_name;
    return e;
}

/* Double the buckets (write-locked). Failure to grow only slows lookups. */
static void grow(act_names_t *t)
{
    size_t nb = t->nbuckets * 2;
    name_ent_t **bn = calloc(nb, sizeof *bn), **ba = calloc(nb, sizeof *ba);
    if (bn == NULL || ba == NULL) {
        free(bn);
        free(ba);
        return;
    }
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (name_ent_t *e = t->by_name[i], *next; e != NULL; e = next) {
            next = e->next_name;
            size_t h = hash_str(e->name) & (nb - 1);
            e->next_name = bn[h];
            bn[h] = e;
            size_t ha = hash_ptr(e->actor) & (nb - 1);
            e->next_actor = ba[ha];
            ba[ha] = e;
        }
    }
    free(t->by_name);
    free(t->by_actor);
    t->by_name = bn;
    t->by_actor = ba;
    t->nbuckets = nb;
}

/* Unlink e from both chains (write-locked). */
static void unlink_ent(act_names_t *t, name_ent_t *e)
{
    name_ent_t **p = &t->by_name[hash_str(e->name) & (t->nbuckets - 1)];
    while (*p != e)
        p = &(*p)->next_name;
    *p = e->next_name;
    p = &t->by_actor[hash_ptr(e->actor) & (t->nbuckets - 1)];
    while (*p != e)
        p = &(*p)->next_actor;
    *p = e->next_actor;
    t->count--;
}

int parc_act_register(parc_act_t *a, const char *name)
{
    if (a == NULL || name == NULL || name[0] == '\0')
        return EINVAL;
    parc_act_rt_t *rt = act_rt_of(a);
    act_names_t *t = names_get(rt, true);
    name_ent_t *e = malloc(sizeof *e);
    char *copy = strdup(name);
    if (t == NULL || e == NULL || copy == NULL) {
        free(e);
        free(copy);
        return ENOMEM;
    }
    e->name = copy;
    e->actor = a;
    int rc = 0;
    parc_rwlock_wrlock(&t->lock);
    /* F_NAMED under the write lock: finish reads it before taking the
     * lock, then looks again under it (act_name_drop). */
    if (find_name(t, name) != NULL) {
        rc = EEXIST;
    } else if (parc_for(&a->flags, F_NAMED, PARC_SEQ_CST) & F_NAMED) {
        rc = EBUSY; /* one name per actor */
    } else if (parc_load(&a->flags, PARC_SEQ_CST) & F_STOPPED) {
        /* seq_cst (both): finish sets F_STOPPED, then reads F_NAMED;
         * we set F_NAMED, then read F_STOPPED: one of us sees the
         * other, so a stopping actor's name is always dropped. */
        parc_fand(&a->flags, ~F_NAMED, PARC_RELAXED);
        rc = EPIPE;
    } else {
        parc_act_retain(a);
        size_t h = hash_str(name) & (t->nbuckets - 1);
        e->next_name = t->by_name[h];
        t->by_name[h] = e;
        size_t ha = hash_ptr(a) & (t->nbuckets - 1);
        e->next_actor = t->by_actor[ha];
        t->by_actor[ha] = e;
        if (++t->count > 2 * t->nbuckets)
            grow(t);
        e = NULL;
        copy = NULL;
    }
    parc_rwlock_wrunlock(&t->lock);
    free(e);
    free(copy);
    return rc;
}

/* Take a's name out (write-locked); returns the entry or NULL. */
static name_ent_t *take_actor(act_names_t *t, parc_act_t *a)
{
    name_ent_t *e = t->by_actor[hash_ptr(a) & (t->nbuckets - 1)];
    while (e != NULL && e->actor != a)
        e = e->next_actor;
    if (e != NULL) {
        unlink_ent(t, e);
        parc_fand(&a->flags, ~F_NAMED, PARC_RELAXED); /* under the lock */
    }
    return e;
}

static void free_ent(name_ent_t *e)
{
    parc_act_release(e->actor);
    free(e->name);
    free(e);
}

int parc_act_unregister(parc_act_rt_t *rt, const char *name)
{
    if (rt == NULL || name == NULL)
        return EINVAL;
    act_names_t *t = names_get(rt, false);
    if (t == NULL)
        return ESRCH;
    parc_rwlock_wrlock(&t->lock);
    name_ent_t *e = find_name(t, name);
    if (e != NULL) {
        unlink_ent(t, e);
        parc_fand(&e->actor->flags, ~F_NAMED, PARC_RELAXED); /* locked */
    }
    parc_rwlock_wrunlock(&t->lock);
    if (e == NULL)
        return ESRCH;
    free_ent(e);
    return 0;
}

void act_name_drop(parc_act_rt_t *rt, parc_act_t *a)
{
    act_names_t *t = names_get(rt, false);
    if (t == NULL)
        return;
    parc_rwlock_wrlock(&t->lock);
    name_ent_t *e = take_actor(t, a);
    parc_rwlock_wrunlock(&t->lock);
    if (e != NULL)
        free_ent(e); /* not a's last reference: finish still holds one */
}

int parc_act_whereis(parc_act_rt_t *rt, const char *name, parc_act_t **out)
{
    if (rt == NULL || name == NULL || out == NULL)
        return EINVAL;
    act_names_t *t = names_get(rt, false);
    parc_act_t *a = NULL;
    if (t != NULL) {
        parc_rwlock_rdlock(&t->lock);
        name_ent_t *e = find_name(t, name);
        if (e != NULL) {
            a = e->actor;
            parc_act_retain(a);
        }
        parc_rwlock_rdunlock(&t->lock);
    }
    *out = a;
    return a != NULL ? 0 : ESRCH;
}

int parc_act_send_name(parc_act_rt_t *rt, const char *name, parc_msg_t *m)
{
    if (m == NULL)
        return EINVAL;
    parc_act_t *a;
    int rc = parc_act_whereis(rt, name, &a);
    if (rc != 0)
        return rc;
    rc = parc_act_send(a, m);
    parc_act_release(a);
    return rc;
}

void act_names_free(parc_act_rt_t *rt)
{
    act_names_t *t = names_get(rt, false);
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (name_ent_t *e = t->by_name[i], *next; e != NULL; e = next) {
            next = e->next_name;
            free(e->name); /* the actor goes with the runtime */
            free(e);
        }
    parc_rwlock_destroy(&t->lock);
    free(t->by_name);
    free(t->by_actor);
    free(t);
}

/* ---- dead letters -------------------------------------------------------- */

void act_dead_letter(parc_act_t *to, parc_msg_t *m)
{
    if (m->type < PARC_MSG_USER) { /* the runtime's own: not a letter */
        parc_msg_free(m);
        return;
    }
    parc_act_rt_t *rt = act_rt_of(to);
    parc_faa(&rt->dead, 1u, PARC_RELAXED); /* a statistic */
    if (rt->dead_fn != NULL)
        rt->dead_fn(to, m, rt->dead_arg);
    else
        parc_msg_free(m);
}

int parc_act_rt_on_dead_letter(parc_act_rt_t *rt,
                               void (*fn)(parc_act_t *to, parc_msg_t *m,
                                          void *arg),
                               void *arg)
{
    if (rt == NULL)
        return EINVAL;
    rt->dead_fn = fn;
    rt->dead_arg = arg;
    return 0;
}

uint64_t parc_act_rt_dead_letters(parc_act_rt_t *rt)
{
    /* relaxed: a statistic. */
    return rt == NULL ? 0 : parc_load(&rt->dead, PARC_RELAXED);
}
