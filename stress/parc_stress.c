/*
 * parc-stress: the harness's command. Everything is in libparc_stress; the
 * adapters of parc's primitives (stress/impls) and the negative controls
 * (stress/mutants) are linked into this executable and register themselves.
 */
#include "parc/stress.h"

int main(int argc, char **argv)
{
    return parc_stress_main(argc, argv);
}
