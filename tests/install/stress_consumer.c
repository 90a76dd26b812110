/* A user's stress run built against an installed parc: a pthread mutex
 * registered as a lock implementation, run through parc_stress_main. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <parc/stress.h>

static int m_create(void **l)
{
    pthread_mutex_t *m = malloc(sizeof *m);
    if (m == NULL)
        return ENOMEM;
    pthread_mutex_init(m, NULL);
    *l = m;
    return 0;
}
static void m_destroy(void *l) { pthread_mutex_destroy(l); free(l); }
static int m_lock(void *l, void *ctx) { (void)ctx; return pthread_mutex_lock(l); }
static int m_unlock(void *l, void *ctx) { (void)ctx; return pthread_mutex_unlock(l); }

static const parc_stress_lock_impl_t consumer_mutex = {
    .name = "consumer.pthread_mutex",
    .description = "glibc's mutex, registered by an installed-parc consumer",
    .create = m_create, .destroy = m_destroy, .lock = m_lock, .unlock = m_unlock,
};
PARC_STRESS_LOCK(consumer_mutex)

int main(int argc, char **argv) { return parc_stress_main(argc, argv); }
