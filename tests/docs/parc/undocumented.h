/* A header that breaks the documentation rule, for ctest
 * docs.undocumented.selftest: cmake/check_docs.cmake must reject it. */
#ifndef PARC_UNDOCUMENTED_H
#define PARC_UNDOCUMENTED_H

#include "parc/api.h"

/* Documented: the check accepts this one. */
PARC_API int parc_documented_example(void);

PARC_API int parc_undocumented_example(void);

#endif
