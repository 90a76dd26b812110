/* parc/version.h: the version this library was built as. */
#include <stddef.h>

#include "parc/version.h"

int parc_version(int *major, int *minor, int *patch)
{
    if (major != NULL)
        *major = PARC_VERSION_MAJOR;
    if (minor != NULL)
        *minor = PARC_VERSION_MINOR;
    if (patch != NULL)
        *patch = PARC_VERSION_PATCH;
    return PARC_VERSION_NUMBER;
}

const char *parc_version_string(void)
{
    return PARC_VERSION;
}
