/*
 * parc/impl/select.h — inline bodies for parc/select.h (the case
 * builders). Not an API header: include parc/select.h.
 */
#ifndef PARC_IMPL_SELECT_H
#define PARC_IMPL_SELECT_H

#include "parc/select.h"

PARC_BEGIN_DECLS

static inline parc_select_case_t parc_select_case_(parc_select_kind_t kind,
                                                   void *obj, void *buf, int fd)
{
    parc_select_case_t c;
    c.kind = kind;
    c.obj = obj;
    c.buf = buf;
    c.fd = fd;
    return c;
}

static inline parc_select_case_t parc_select_send(parc_chan_t *c, const void *value)
{
    return parc_select_case_(PARC_SELECT_SEND, c, (void *)value, -1);
}

static inline parc_select_case_t parc_select_recv(parc_chan_t *c, void *out)
{
    return parc_select_case_(PARC_SELECT_RECV, c, out, -1);
}

static inline parc_select_case_t parc_select_future(parc_future_t *f)
{
    return parc_select_case_(PARC_SELECT_FUTURE, f, NULL, -1);
}

static inline parc_select_case_t parc_select_event(parc_event_t *e)
{
    return parc_select_case_(PARC_SELECT_EVENT, e, NULL, -1);
}

static inline parc_select_case_t parc_select_sem(parc_sem_t *s)
{
    return parc_select_case_(PARC_SELECT_SEM, s, NULL, -1);
}

static inline parc_select_case_t parc_select_readable(int fd)
{
    return parc_select_case_(PARC_SELECT_READABLE, NULL, NULL, fd);
}

static inline parc_select_case_t parc_select_writable(int fd)
{
    return parc_select_case_(PARC_SELECT_WRITABLE, NULL, NULL, fd);
}

PARC_END_DECLS

#endif /* PARC_IMPL_SELECT_H */
