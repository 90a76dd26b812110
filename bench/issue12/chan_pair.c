/*
 * bench/issue12/chan_pair.c — one thread sends and receives a long through
 * a bounded channel (capacity 1024), N times: the ring's fast path of
 * parc_chan_send + parc_chan_recv with nobody waiting, for instruction
 * counts (A/B of builds of parc, e.g. after moving code between files).
 * Not a parc-bench case: no peers, no timing. Per pair = the difference
 * of the counts at two N, divided by the difference of the N:
 *   cc -O2 -std=c11 -Iinclude -Ibuild/default/include \
 *      bench/issue12/chan_pair.c build/default/libparc.a -lpthread \
 *      -o build/chan_pair && for n in 100000 200000; do \
 *      valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *      build/chan_pair $n 2>&1 | grep refs; done
 */
#include <stdio.h>
#include <stdlib.h>

#include "parc/chan.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    parc_chan_t *c;
    if (parc_chan_create(&c, sizeof(long), 1024) != 0)
        return 1;
    long v, sum = 0;
    for (long i = 0; i < n; i++) {
        /* Unchecked: the loop around the pair stays the same few
         * instructions in every build compared (the sum checks it). */
        parc_chan_send(c, &i);
        parc_chan_recv(c, &v);
        sum += v;
    }
    parc_chan_free(c);
    printf("%ld\n", sum); /* keeps the loop's values used */
    return 0;
}
