/* parc/parc.h — everything parc offers, in layer order. */
#ifndef PARC_PARC_H
#define PARC_PARC_H

#include "parc/config.h"
#include "parc/version.h"
#include "parc/chaos.h"
#include "parc/atomic.h"
#include "parc/status.h"
#include "parc/time.h"
#include "parc/park.h"
#include "parc/eventcount.h"
#include "parc/asymfence.h"
#include "parc/spinlock.h"
#include "parc/mutex.h"
#include "parc/rlock.h"
#include "parc/rwlock.h"
#include "parc/cond.h"
#include "parc/sem.h"
#include "parc/event.h"
#include "parc/barrier.h"
#include "parc/latch.h"
#include "parc/once.h"
#include "parc/spsc.h"
#include "parc/mpsc.h"
#include "parc/mpmc.h"
#include "parc/lfqueue.h"
#include "parc/stack.h"
#include "parc/deque.h"
#include "parc/queue.h"
#include "parc/inject.h"
#include "parc/future.h"
#include "parc/pool.h"
#include "parc/msg.h"
#include "parc/actor.h"
#include "parc/act.h"
#include "parc/act_sup.h"
#include "parc/act_msg.h"

#include "parc/chan.h"
#include "parc/chan_timer.h"
#include "parc/select.h"

#include "parc/fiber.h"
#include "parc/generator.h"

/* processes */
#include "parc/shm.h"
#include "parc/procpool.h"
#include "parc/shmqueue.h"

#include "parc/task_group.h"

#endif /* PARC_PARC_H */
