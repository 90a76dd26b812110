/*
 * bench/issue16/pingpong_cpus.c -- where the two sides of a semaphore
 * ping-pong run: two processes (PARC_PSHARED semaphores in a shared
 * mapping) or two threads, N round trips; prints ns per round trip and
 * the CPU of each side sampled 64 times over the run. Run it under perf
 * stat to count what each hop costs:
 *
 *   cc -O2 -Iinclude -Ibuild/default/include bench/issue16/pingpong_cpus.c \
 *      build/default/libparc.a -lpthread -lck -o /tmp/pingpong_cpus
 *   perf stat -e syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield,\
 *   cpu-migrations,context-switches /tmp/pingpong_cpus p 100000   # t: threads
 *
 * A diagnostic for docs/bench/issue16.md, not a benchmark (parc-bench's
 * xproc_pingpong is) and not a test.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include "parc/sem.h"
#include "parc/event.h"

typedef struct { parc_sem_t s[2]; int cpu[2][64]; } sh_t;
static long N = 200000;
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e9+t.tv_nsec;}
static void side(sh_t *p, int id) {
    for (long i = 0; i < N; i++) {
        if (id == 0) { parc_sem_release(&p->s[0],1); parc_sem_acquire(&p->s[1],1); }
        else { parc_sem_acquire(&p->s[0],1); parc_sem_release(&p->s[1],1); }
        if (i % (N/64) == 0 && i/(N/64) < 64) p->cpu[id][i/(N/64)] = sched_getcpu();
    }
}
static sh_t *g;
static void *thr(void *a){ side(g,1); return a; }
int main(int argc, char **argv) {
    int threads = argc > 1 && strcmp(argv[1],"t")==0;
    if (argc > 2) N = atol(argv[2]);
    sh_t *p = mmap(NULL, sizeof *p, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    unsigned fl = threads ? 0 : PARC_PSHARED;
    parc_sem_init_flags(&p->s[0],0,PARC_SEM_VALUE_MAX,fl);
    parc_sem_init_flags(&p->s[1],0,PARC_SEM_VALUE_MAX,fl);
    g = p;
    double t0 = now();
    pid_t pid = 0; pthread_t th;
    if (threads) pthread_create(&th,0,thr,0);
    else if ((pid = fork()) == 0) { side(p,1); _exit(0); }
    side(p,0);
    double t1 = now();
    if (threads) pthread_join(th,0); else waitpid(pid,0,0);
    printf("%s: %.0f ns/rt\n", threads?"threads":"procs", (t1-t0)/N);
    for (int k=0;k<2;k++){ printf("side%d cpus:",k); for(int j=0;j<64;j++) printf("%d",p->cpu[k][j]); printf("\n"); }
    return 0;
}
