/* tests/cxx/layout.c — the layout of parc's public types as C sees them. */
#include <stdalign.h>

#include "parc/atomic.h"
#include "parc/barrier.h"
#include "parc/chaos.h"
#include "parc/cond.h"
#include "parc/deque.h"
#include "parc/event.h"
#include "parc/eventcount.h"
#include "parc/latch.h"
#include "parc/lfqueue.h"
#include "parc/mpmc.h"
#include "parc/mpsc.h"
#include "parc/mutex.h"
#include "parc/once.h"
#include "parc/park.h"
#include "parc/queue.h"
#include "parc/rlock.h"
#include "parc/rwlock.h"
#include "parc/sem.h"
#include "parc/spinlock.h"
#include "parc/spsc.h"
#include "parc/stack.h"
#include "parc/status.h"
#include "layout.h"

#define ROW(T) { #T, sizeof(T), alignof(T) },
const struct parc_cxx_layout_row parc_cxx_c_layout[] = {
    PARC_CXX_LAYOUT_TYPES(ROW)
    { 0, 0, 0 }
};
