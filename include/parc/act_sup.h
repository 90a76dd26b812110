/*
 * parc/act_sup.h — supervisors for scheduled actors (parc/act.h), after
 * Erlang/OTP's supervisor behaviour (layer 4).
 *
 * A supervisor is an actor that starts its children from child specs,
 * monitors them, and restarts them when they stop, by its strategy:
 *
 *   PARC_ACT_SUP_ONE_FOR_ONE   only the child that stopped
 *   PARC_ACT_SUP_ONE_FOR_ALL   every child: the others are stopped first
 *   PARC_ACT_SUP_REST_FOR_ONE  the child and those started after it
 *
 * and each child's restart type:
 *
 *   PARC_ACT_SUP_PERMANENT     always restarted
 *   PARC_ACT_SUP_TRANSIENT     restarted when its exit status is abnormal
 *                              (not 0 and not PARC_ACT_SUP_SHUTDOWN)
 *   PARC_ACT_SUP_TEMPORARY     never restarted (removed when it stops)
 *
 * Restart intensity: more than `intensity` restarts within `period_ns`
 * and the supervisor gives up: it stops every child and exits with
 * status PARC_ACT_SUP_GAVE_UP, which a supervisor above it (or a link)
 * sees as abnormal.
 *
 * Order: children start in spec order; for one_for_all and rest_for_one
 * the children to restart are stopped (in reverse order, each after the
 * messages already sent to it), and only once every one of them has
 * stopped are they started again, in spec order: an old and a new
 * instance of a child never run at once, so a child's state (the spec's
 * `state`, the same each time; reset it in on_start) is never shared by
 * two running actors. Messages sent to an instance that has stopped get
 * EPIPE: parc_act_sup_child gives the current one.
 *
 *     parc_act_sup_spec_t spec = PARC_ACT_SUP_SPEC_INIT;
 *     spec.fn = worker; spec.state = &w;
 *     parc_act_sup_options_t o = PARC_ACT_SUP_OPTIONS_INIT;
 *     parc_act_sup_t *sup;
 *     parc_act_sup_start(rt, &o, &spec, 1, &sup);
 *     parc_act_t *c;
 *     if (parc_act_sup_child(sup, 0, &c) == 0) {
 *         parc_act_send(c, msg);
 *         parc_act_release(c);
 *     }
 *     ...
 *     parc_act_sup_free(sup);   // stops it (and its children), waits
 */
#ifndef PARC_ACT_SUP_H
#define PARC_ACT_SUP_H

#include <stddef.h>
#include <stdint.h>

#include "parc/act.h"
#include "parc/api.h"

PARC_BEGIN_DECLS

/** Exit status of a child stopped by its supervisor (for a group
 * restart or because the supervisor stops): counts as normal. */
#define PARC_ACT_SUP_SHUTDOWN (-32767)
/** Exit status of a supervisor whose restart intensity was exceeded. */
#define PARC_ACT_SUP_GAVE_UP (-32766)

typedef enum parc_act_sup_strategy {
    PARC_ACT_SUP_ONE_FOR_ONE,
    PARC_ACT_SUP_ONE_FOR_ALL,
    PARC_ACT_SUP_REST_FOR_ONE
} parc_act_sup_strategy_t;

typedef enum parc_act_sup_restart {
    PARC_ACT_SUP_PERMANENT,
    PARC_ACT_SUP_TRANSIENT,
    PARC_ACT_SUP_TEMPORARY
} parc_act_sup_restart_t;

/** A child spec: what to spawn and when to restart it. Start from
 * PARC_ACT_SUP_SPEC_INIT. */
typedef struct parc_act_sup_spec {
    parc_act_fn fn;                 /* the child's behaviour */
    void *state;                    /* its state, the same at each start */
    parc_act_options_t opts;        /* spawn options */
    parc_act_sup_restart_t restart;
    /* Called by the supervisor after each start (the first included),
     * before the child can be reached through parc_act_sup_child; NULL:
     * none. For resetting state, registering a name. */
    void (*on_start)(parc_act_t *child, void *state);
} parc_act_sup_spec_t;

#define PARC_ACT_SUP_SPEC_INIT \
    { NULL, NULL, PARC_ACT_OPTIONS_INIT, PARC_ACT_SUP_PERMANENT, NULL }

/** A supervisor's options. Start from PARC_ACT_SUP_OPTIONS_INIT (one for
 * one, at most 3 restarts in 5 seconds: OTP's defaults). */
typedef struct parc_act_sup_options {
    parc_act_sup_strategy_t strategy;
    uint32_t intensity;             /* restarts allowed per period */
    int64_t period_ns;
} parc_act_sup_options_t;

#define PARC_ACT_SUP_OPTIONS_INIT \
    { PARC_ACT_SUP_ONE_FOR_ONE, 3u, 5000000000LL }

typedef struct parc_act_sup parc_act_sup_t;

/** Start a supervisor on rt and its n children (specs copied; n may be
 * 0). opts may be NULL (defaults). Returns 0, EINVAL (NULL rt/out, specs
 * NULL with n > 0, a spec without fn, negative period), ENOMEM, EAGAIN,
 * EPIPE (as parc_act_spawn; nothing is left running then). Any thread,
 * behaviours included; never blocks. */
PARC_API int parc_act_sup_start(parc_act_rt_t *rt,
                                const parc_act_sup_options_t *opts,
                                const parc_act_sup_spec_t *specs, size_t n,
                                parc_act_sup_t **out);

/** The supervisor's own actor (borrowed: valid until parc_act_sup_free):
 * monitor or link it. Any thread; never blocks. */
PARC_API parc_act_t *parc_act_sup_actor(parc_act_sup_t *s);

/** The current instance of child i, in *out with a reference of its own
 * (parc_act_release it). Returns 0, EINVAL (NULL, i out of range), EAGAIN
 * (not running now: being restarted, or temporary and gone, or the
 * supervisor stopped). Any thread; never blocks (a short lock). */
PARC_API int parc_act_sup_child(parc_act_sup_t *s, size_t i,
                                parc_act_t **out);

/** Restarts so far (each failure that was answered counts one). Any
 * thread; never blocks. */
PARC_API uint64_t parc_act_sup_restarts(parc_act_sup_t *s);

/** Stop the supervisor: it stops its children and exits with status 0,
 * after the messages already sent to it. Returns 0, EINVAL (NULL), EPIPE
 * (stopped already). Any thread; never blocks. */
PARC_API int parc_act_sup_stop(parc_act_sup_t *s);

/** Stop the supervisor (as parc_act_sup_stop, unless it has stopped),
 * wait until it has, and free s. Children it stopped may still be
 * finishing their last messages. Returns 0, EINVAL (NULL), EDEADLK (as
 * parc_act_wait: from a pool worker; s untouched). Blocks. */
PARC_API int parc_act_sup_free(parc_act_sup_t *s);

PARC_END_DECLS

#endif /* PARC_ACT_SUP_H */
