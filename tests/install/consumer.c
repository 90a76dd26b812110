/* A program outside parc's tree, built against an installed parc. */
#include <stdio.h>
#include <string.h>

#include <parc/parc.h>

int main(void)
{
    parc_eventcount_t ec = PARC_EVENTCOUNT_INIT;
    parc_eventcount_notify_all(&ec);
    parc_deadline_t d;
    if (parc_deadline_in(&d, 1000) != 0 || parc_deadline_passed(PARC_FOREVER))
        return 1;
    if (strcmp(parc_strerror(EPIPE), "EPIPE: closed, shut down or aborted") != 0)
        return 2;
    printf("parc %s consumer ok (park: %s)\n", PARC_VERSION, parc_park_backend());
    return 0;
}
