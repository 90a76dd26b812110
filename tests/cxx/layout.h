/*
 * tests/cxx/layout.h — the public types whose layout C and C++ translation
 * units must agree on (they share objects: a parc_mutex_t initialised in C
 * is locked from C++). X(type) per type; layout.c records sizeof/alignof as
 * the C compiler sees them, cxx_use.cpp compares with the C++ compiler's.
 */
#define PARC_CXX_LAYOUT_TYPES(X)                                             \
    X(parc_backoff_t) X(parc_chaos_hooks_t) X(parc_park_word_t)              \
    X(parc_eventcount_t) X(parc_spin_tas_t) X(parc_spin_ttas_t)              \
    X(parc_spin_ticket_t) X(parc_spin_mcs_t) X(parc_spin_mcs_node_t)         \
    X(parc_mutex_t) X(parc_rlock_t) X(parc_rwlock_t) X(parc_cond_t)          \
    X(parc_sem_t) X(parc_event_t) X(parc_barrier_t) X(parc_latch_t)          \
    X(parc_once_t) X(parc_spsc_t) X(parc_mpsc_t) X(parc_mpsc_node_t)         \
    X(parc_mpmc_t) X(parc_lfqueue_t) X(parc_stack_t) X(parc_mpmc_cell_t)    \
    X(parc_deque_t) X(parc_queue_t) X(parc_queue_waiters_t)

struct parc_cxx_layout_row {
    const char *name;
    unsigned long size;
    unsigned long align;
};
