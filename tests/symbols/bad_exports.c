/* A library that breaks the export rule twice, for ctest
 * package.symbols.selftest: check_symbols.cmake must reject it. */
#include "parc/api.h"

PARC_API int stress_unprefixed(void) { return 1; }       /* not parc_ */
PARC_API int parc_declared_nowhere(void) { return 2; }   /* in no header */
PARC_API int parc_version_string_(void) { return 3; }    /* a prefix of a declared name is no declaration */
