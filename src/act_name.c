/* Scheduled actors (parc/act.h): the name registry (Erlang's register/2,
 * whereis/1, Name ! Msg) and dead letters.
 *
 * Names: a chained hash table per runtime, each entry in two chains: by
 * name (whereis, send) and by actor (the actor's stop drops its name).
 * An actor has at most one name; F_NAMED says it has one, so an unnamed
 * actor's stop costs no lookup. The table grows by doubling when it
 * holds twice as many names as buckets.
 *
 * The table is read far more often than it changes (every send by name
 * reads it; register, unregister and a named actor's stop write it), so
 * readers pay no atomic read-modify-write: each thread has a reader
 * record (on a list of every thread's, as liburcu's registry) whose `in`
 * it sets to the table it reads, then, after an asymmetric fence
 * (parc/asymfence.h: a compiler barrier), checks the table's writer
 * flag; a writer raises the flag, runs the heavy side of the fence
 * (membarrier: every running thread's barrier) and waits until no
 * record reads its table (Dice, Lev and Moir's asymmetric Dekker).
 * Without membarrier (and under ThreadSanitizer) both sides are seq_cst
 * fences. A single-word reader-writer lock made every send by name
 * bounce one line between all senders (two RMWs on it: 1.5x the time of
 * a send by reference); per-slot counters (Hsieh and Weihl's scalable
 * lock, Linux's brlock) kept the line local but still paid two RMWs and
 * came to 1.4x. The price is on the writers: a membarrier (microseconds)
 * per register, unregister and named actor's stop.
 * While a reader reads, the registry's reference keeps a named actor
 * alive, so a send that cannot block (no bounded mailbox) is made inside
 * the read section with no reference taken; a send that may block takes
 * one and sends after leaving (a blocked reader would hold writers up).
 *
 * Dead letters: a message that can no longer reach its actor (left in
 * its mailbox when it stopped, a timer's that fires after the stop) is
 * counted and handed to the runtime's hook, or disposed when there is
 * none. A send to a stopped actor is not one: it returns EPIPE and the
 * message stays the caller's. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "act_internal.h"
#include "parc/asymfence.h"

typedef struct name_ent {
    char *name;
    parc_act_t *actor;          /* a reference, held while registered */
    struct name_ent *next_name, *next_actor;
} name_ent_t;

/* The writer flag's bits. */
#define W_HELD 1u   /* a writer holds the table or waits for readers */
#define W_PARKED 2u /* a reader parked on the flag */

struct act_names {
    PARC_CACHE_ALIGNED parc_park_word_t wflag; /* W_HELD | W_PARKED */
    bool asym;                                 /* membarrier works */
    /* Changes with every write (write_unlock), from a process-wide
     * counter, so no two tables ever show the same value: a thread's
     * lookup hints (send_name) hold only while it has not moved. */
    uint64_t gen;
    parc_mutex_t wlock;                        /* one writer at a time */
    name_ent_t **by_name, **by_actor;
    size_t nbuckets, count;
};

/* A thread's lookup hints for send_name: what a name pointer found in a
 * table at a generation. Sending to the same names again and again (a
 * client to its server, a ring's hops) skips the hash and the chain; the
 * name's bytes are still compared, since the caller may have reused its
 * buffer, against a copy in the hint when the name is short, so that a
 * hit reads one line of hints and the actor, not the entry and its name
 * (two more lines, which a ring of 100 actors does not keep in L1).
 * The hints are indexed by the name pointer (hint_index) with linear
 * probing over HINT_PROBE slots: a thread cycling through 100 names (a
 * ring) found ~35% of them evicted by another at every turn in a
 * direct-mapped table of 256; within a window of 8 slots a name keeps
 * its hint unless 8 others hold the window (a simulation of 100 names at
 * strides of 8 to 4096 bytes: under 1% misses). A hint holds its name
 * pointer, so a hit in a name's first slot reads one line of the record.
 * Rejected: the pointers in an array of their own (a probe of 8 slots in
 * one line), where a hit reads two lines: the bench's ring of 100 ran at
 * 0.81-0.87 of by reference's speed, against 0.86-0.96 with one line
 * (4 alternated pairs, SCHED_RR, slow regime). A generation is unique across tables (gens), so it names the table
 * too. In the reader record: 16 KiB a thread that ever sends by name. */
#define NHINTS 256u
#define HINT_PROBE 8u
#define HINT_COPY 31u /* names up to 30 bytes are copied: a hint is a line */
typedef struct {
    const char *name;      /* the name pointer it is for; NULL: empty */
    uint64_t gen;          /* the table's generation it was found at */
    name_ent_t *ent;
    parc_act_t *actor;     /* ent->actor */
    bool inline_send;      /* its sends cannot block (see send_name) */
    char copy[HINT_COPY];  /* the name, or "" when longer: ent->name */
} name_hint_t;
_Static_assert(sizeof(name_hint_t) == 64, "a hint is one line");

/* A thread's reader record: `in` is the table it reads now (0: none).
 * On the list of every thread's record from its first read to its exit
 * (a pthread key's destructor unlinks and frees it). */
typedef struct name_reader {
    PARC_CACHE_ALIGNED parc_atomic(uintptr_t) in;
    struct name_reader *next, *prev; /* readers_lock */
    PARC_CACHE_ALIGNED name_hint_t hints[NHINTS]; /* the owner's only */
} name_reader_t;

static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static name_reader_t *readers;
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static bool reader_key_ok;
static _Thread_local name_reader_t *me;

static void reader_exit(void *arg)
{
    name_reader_t *r = arg;
    pthread_mutex_lock(&readers_lock);
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        readers = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    pthread_mutex_unlock(&readers_lock);
    free(r);
    me = NULL; /* the exiting thread's later reads make a new one */
}

static void reader_key_make(void)
{
    reader_key_ok = pthread_key_create(&reader_key, reader_exit) == 0;
}

/* The calling thread's record, made at its first read; NULL when it
 * cannot be (no memory): the caller then reads under the write lock. */
static name_reader_t *reader_self(void)
{
    if (me != NULL)
        return me;
    pthread_once(&reader_once, reader_key_make);
    if (!reader_key_ok)
        return NULL;
    name_reader_t *r = aligned_alloc(PARC_CACHELINE, sizeof *r);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    parc_atomic_init(&r->in, 0u);
    if (pthread_setspecific(reader_key, r) != 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_lock(&readers_lock);
    r->next = readers;
    if (readers != NULL)
        readers->prev = r;
    readers = r;
    pthread_mutex_unlock(&readers_lock);
    return me = r;
}

static void write_lock(act_names_t *t);
static void write_unlock(act_names_t *t);

/* Enter a read of t: returns the record to hand to read_unlock, or NULL
 * when the thread has none and holds the write lock instead. */
static name_reader_t *read_lock_slow(act_names_t *t);

/* The read section's fast path, inline in every reader: a store, a
 * compiler barrier and a load when no writer is in. */
static inline name_reader_t *read_lock(act_names_t *t)
{
    name_reader_t *r = me;
    if (r != NULL) {
        /* as in read_lock_slow */
        parc_store(&r->in, (uintptr_t)t, PARC_RELAXED);
        parc_asymfence_light(t->asym);
        if ((parc_load(&t->wflag, PARC_ACQUIRE) & W_HELD) == 0)
            return r;
        parc_store(&r->in, 0u, PARC_RELEASE);
    }
    return read_lock_slow(t);
}

static __attribute__((noinline)) name_reader_t *read_lock_slow(act_names_t *t)
{
    name_reader_t *r = reader_self();
    if (r == NULL) {
        write_lock(t);
        return NULL;
    }
    for (;;) {
        /* relaxed store, then the light fence: ordered before the load
         * of the flag by the writer's heavy fence (asymmetric Dekker). */
        parc_store(&r->in, (uintptr_t)t, PARC_RELAXED);
        parc_asymfence_light(t->asym);
        /* acquire: pairs with write_unlock's release: the last writer's
         * changes to the table are visible. */
        uint32_t f = parc_load(&t->wflag, PARC_ACQUIRE);
        if ((f & W_HELD) == 0)
            return r;
        /* release: we read nothing; a waiting writer may go on */
        parc_store(&r->in, 0u, PARC_RELEASE);
        while ((f & W_HELD) != 0) {
            if ((f & W_PARKED) != 0
                || parc_cas(&t->wflag, &f, f | W_PARKED, PARC_RELAXED,
                            PARC_RELAXED)) /* relaxed: the park rechecks */
                parc_park_wait(&t->wflag, f | W_PARKED, PARC_FOREVER);
            f = parc_load(&t->wflag, PARC_RELAXED); /* rechecked above */
        }
    }
}

static inline void read_unlock(act_names_t *t, name_reader_t *r)
{
    if (__builtin_expect(r == NULL, 0)) {
        write_unlock(t);
        return;
    }
    /* release: our reads of the table happen before a writer that sees
     * the record leave (write_lock's acquire load) changes it */
    parc_store(&r->in, 0u, PARC_RELEASE);
}

static void write_lock(act_names_t *t)
{
    parc_mutex_lock(&t->wlock);
    /* relaxed store, then the heavy fence: see read_lock */
    parc_store(&t->wflag, W_HELD, PARC_RELAXED);
    parc_asymfence_heavy(t->asym);
    pthread_mutex_lock(&readers_lock);
    for (name_reader_t *r = readers; r != NULL; r = r->next) {
        unsigned spins = 0;
        /* acquire: pairs with read_unlock's release */
        while (parc_load(&r->in, PARC_ACQUIRE) == (uintptr_t)t) {
            if (++spins < PARC_SPIN_POLLS)
                parc_cpu_relax();
            else
                sched_yield(); /* a read is a lookup and a send long */
        }
    }
    pthread_mutex_unlock(&readers_lock);
}

static parc_atomic(uint64_t) gens; /* hands out table generations */

static void write_unlock(act_names_t *t)
{
    t->gen = parc_faa(&gens, 1u, PARC_RELAXED) + 1; /* unique; published
                                                     * by the flag's release */
    /* release: publishes our changes to the table to the next readers'
     * acquire load of the flag */
    if (parc_xchg(&t->wflag, 0u, PARC_RELEASE) & W_PARKED)
        parc_park_wake_all(&t->wflag);
    parc_mutex_unlock(&t->wlock);
}

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

static act_names_t *names_make(parc_act_rt_t *rt);

static inline act_names_t *names_get(parc_act_rt_t *rt, bool create)
{
    /* acquire: pairs with the release CAS in names_make; the table is
     * whole. */
    act_names_t *t = (act_names_t *)parc_load(&rt->names, PARC_ACQUIRE);
    if (t != NULL || !create)
        return t;
    return names_make(rt);
}

static act_names_t *names_make(parc_act_rt_t *rt)
{
    act_names_t *t;
    t = aligned_alloc(PARC_CACHELINE, sizeof *t);
    if (t != NULL)
        memset(t, 0, sizeof *t);
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
    parc_mutex_init(&t->wlock, PARC_MUTEX_NORMAL);
    parc_atomic_init(&t->wflag, 0u);
    t->asym = parc_asymfence_available();
    t->gen = parc_faa(&gens, 1u, PARC_RELAXED) + 1; /* unique only */
    uintptr_t expect = 0;
    /* release: publishes the initialised table to names_get's acquire;
     * acquire on failure: the winner's table is whole. */
    if (!parc_cas(&rt->names, &expect, (uintptr_t)t, PARC_ACQ_REL,
                  PARC_ACQUIRE)) {
        parc_mutex_destroy(&t->wlock);
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
    write_lock(t);
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
    write_unlock(t);
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
    write_lock(t);
    name_ent_t *e = find_name(t, name);
    if (e != NULL) {
        unlink_ent(t, e);
        parc_fand(&e->actor->flags, ~F_NAMED, PARC_RELAXED); /* locked */
    }
    write_unlock(t);
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
    write_lock(t);
    name_ent_t *e = take_actor(t, a);
    write_unlock(t);
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
        name_reader_t *r = read_lock(t);
        name_ent_t *e = find_name(t, name);
        if (e != NULL) {
            a = e->actor;
            parc_act_retain(a);
        }
        read_unlock(t, r);
    }
    *out = a;
    return a != NULL ? 0 : ESRCH;
}

/* A name pointer's first slot. Fibonacci hashing alone maps pointers
 * 48 bytes apart (names in an array of structs) onto three short runs of
 * slots; folding the high half back and multiplying again spreads any
 * stride like a random function would. */
static size_t hint_index(const char *name)
{
    _Static_assert(NHINTS == 1u << 8, "the shift below");
    uint64_t x = (uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15u;
    x ^= x >> 32;
    return (size_t)(x * 0x9E3779B97F4A7C15u >> (64 - 8));
}

/* Whether a send to a's mailbox never blocks (no bounded mailbox): it may
 * be made inside the read section. a's ext is set at its spawn. */
static bool send_cannot_block(const parc_act_t *a)
{
    return a->ext == NULL || a->ext->capacity == 0;
}

/* The hint of `name` in r when it holds for t as it is now, else NULL. */
static inline const name_hint_t *hint_find(const act_names_t *t,
                                           const name_reader_t *r,
                                           const char *name)
{
    size_t i = hint_index(name);
    for (unsigned k = 0; k < HINT_PROBE; k++, i = (i + 1) & (NHINTS - 1)) {
        const name_hint_t *h = &r->hints[i];
        if (h->name != name)
            continue;
        /* t->gen: written only under the write lock (see write_unlock);
         * an unchanged table still holds the entry and the actor. No
         * other table ever had this generation. */
        if (h->gen != t->gen)
            return NULL;
        const char *known = h->copy[0] != '\0' ? h->copy : h->ent->name;
        return strcmp(known, name) == 0 ? h : NULL; /* libc's: word-wise */
    }
    return NULL;
}

/* Remember that `name` found e in t (read-locked by r): in name's own
 * slot of the window, else an empty or stale one (a hint at another
 * generation: older, or another table's), else the window's first. */
static void hint_fill(const act_names_t *t, name_reader_t *r, const char *name,
                      name_ent_t *e)
{
    size_t first = hint_index(name), at = first, i = first;
    bool found = false;
    for (unsigned k = 0; k < HINT_PROBE; k++, i = (i + 1) & (NHINTS - 1)) {
        if (r->hints[i].name == name) {
            at = i;
            break;
        }
        if (!found && (r->hints[i].name == NULL || r->hints[i].gen != t->gen)) {
            at = i;
            found = true;
        }
    }
    name_hint_t *h = &r->hints[at];
    h->name = name;
    h->gen = t->gen;
    h->ent = e;
    h->actor = e->actor;
    h->inline_send = send_cannot_block(e->actor);
    size_t len = strlen(e->name);
    if (len < HINT_COPY)
        memcpy(h->copy, e->name, len + 1);
    else
        h->copy[0] = '\0';
}

/* send_name past its fast path: no hint that holds, a writer in, no
 * reader record yet, or a mailbox that may block. */
static __attribute__((noinline)) int send_name_slow(parc_act_rt_t *rt,
                                                    act_names_t *t,
                                                    const char *name,
                                                    parc_msg_t *m)
{
    if (t == NULL)
        return ESRCH;
    name_reader_t *r = read_lock(t);
    name_ent_t *e = find_name(t, name);
    if (e != NULL && r != NULL)
        hint_fill(t, r, name, e);
    if (e != NULL && send_cannot_block(e->actor)) {
        /* A send that cannot block, to an actor the registry holds a
         * reference to while we read: no reference of our own. */
        int rc = act_send_(e->actor, m);
        read_unlock(t, r);
        return rc;
    }
    read_unlock(t, r);
    parc_act_t *a;
    int rc = parc_act_whereis(rt, name, &a);
    if (rc != 0)
        return rc;
    rc = parc_act_send(a, m);
    parc_act_release(a);
    return rc;
}

int parc_act_send_name(parc_act_rt_t *rt, const char *name, parc_msg_t *m)
{
    if (m == NULL || rt == NULL || name == NULL)
        return EINVAL;
    act_names_t *t = names_get(rt, false);
    name_reader_t *r = me;
    if (__builtin_expect(t != NULL && r != NULL, 1)) {
        /* read_lock's fast path (see there), without its slow one */
        parc_store(&r->in, (uintptr_t)t, PARC_RELAXED);
        parc_asymfence_light(t->asym);
        /* acquire: as in read_lock_slow */
        if ((parc_load(&t->wflag, PARC_ACQUIRE) & W_HELD) == 0) {
            const name_hint_t *h = hint_find(t, r, name);
            if (h != NULL && h->inline_send) {
                /* as in send_name_slow */
                int rc = act_send_(h->actor, m);
                read_unlock(t, r);
                return rc;
            }
        }
        read_unlock(t, r);
    }
    return send_name_slow(rt, t, name, m);
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
    parc_mutex_destroy(&t->wlock);
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
