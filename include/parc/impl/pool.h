/*
 * parc/impl/pool.h — the implementation of parc/pool.h's inline parts: the
 * typed map that PARC_POOL_MAP_DEFINE generates (a loop over typed arrays
 * per chunk, on top of parc_pool_parallel_for). Included at the bottom of
 * parc/pool.h; not an API of its own: read parc/pool.h.
 */
#ifndef PARC_IMPL_POOL_H
#define PARC_IMPL_POOL_H

#ifndef PARC_POOL_H
#error "include parc/pool.h, not parc/impl/pool.h"
#endif

#define PARC_POOL_MAP_DEFINE(NAME, ELEM_FN, IN_T, OUT_T)                        \
    struct NAME##_parc_map_args {                                               \
        const IN_T *in;                                                         \
        OUT_T *out;                                                             \
    };                                                                          \
    static int NAME##_parc_map_range(void *arg_, int64_t lo_, int64_t hi_)      \
    {                                                                           \
        const struct NAME##_parc_map_args *a_ =                                 \
            (const struct NAME##_parc_map_args *)arg_;                          \
        const IN_T *in_ = a_->in;                                               \
        OUT_T *out_ = a_->out;                                                  \
        for (int64_t i_ = lo_; i_ < hi_; i_++) {                                \
            int rc_ = ELEM_FN(&in_[i_], &out_[i_]);                             \
            if (rc_ != 0)                                                       \
                return rc_;                                                     \
        }                                                                       \
        return 0;                                                               \
    }                                                                           \
    static inline int NAME(parc_pool_t *p, const IN_T *in, OUT_T *out,          \
                           size_t n, size_t chunksize)                          \
    {                                                                           \
        if (n > (size_t)INT64_MAX || chunksize > (size_t)INT64_MAX              \
            || (n > 0 && (in == NULL || out == NULL)))                          \
            return EINVAL;                                                      \
        struct NAME##_parc_map_args a_ = { in, out };                           \
        return parc_pool_parallel_for(p, 0, (int64_t)n, (int64_t)chunksize,    \
                                      NAME##_parc_map_range, &a_);             \
    }                                                                           \
    typedef struct NAME##_parc_map_args NAME##_parc_map_args_t

#endif /* PARC_IMPL_POOL_H */
