/* parc_stress_main: the command line (placeholder while the engine lands). */
#include <stdio.h>

#include "stress_internal.h"

int parc_stress_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const stress_entry_t *e;
    size_t n = stress_registry(&e);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", stress_entry_name(&e[i]));
    printf("0 passed, 0 failed\n");
    return 0;
}
