/* parc/time.h: sleeping until a deadline. */
#include <errno.h>

#include "parc/time.h"

int64_t parc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * PARC_NS_PER_S + ts.tv_nsec;
}

int parc_sleep_until(parc_deadline_t deadline)
{
    if (deadline == PARC_FOREVER)
        return EINVAL;
    struct timespec ts = parc_deadline_timespec(deadline);
    /* An absolute deadline: restarting after EINTR does not stretch it. */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    return 0;
}

int parc_sleep_ns(int64_t ns)
{
    if (ns < 0 || ns == PARC_FOREVER)
        return EINVAL;
    return parc_sleep_until(parc_add_sat(parc_now_ns(), ns));
}
