cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# stress.weak.replay: under --weak the seed decides the schedule and every
# read choice, so a run replays exactly.
#   1. a lock and a queue workload, twice with --weak --seed S: both PASS
#      with identical schedule hashes and weak-memory counts;
#   2. a weak-only mutant under --weak --seed S FAILs, and --weak --replay S
#      FAILs again with the same schedule and the same first violation.
#   cmake -DPARC_STRESS=path -P weak_replay.cmake
set(SEED 0x5eed)
set(BUDGET --threads 3 --ops 3000 --watchdog 5)

include(${CMAKE_CURRENT_LIST_DIR}/replay_common.cmake)

foreach(sel "lock.exclusion/parc.spin_ttas" "queue.transfer/parc.mpmc")
  run(out1 rc1 --weak --seed ${SEED} --filter ${sel} ${BUDGET})
  run(out2 rc2 --weak --seed ${SEED} --filter ${sel} ${BUDGET})
  if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT out1 MATCHES "\n1 passed, 0 failed\n")
    message(FATAL_ERROR "${sel} under --weak did not pass twice (exit ${rc1}, ${rc2})")
  endif()
  fingerprint(f1 "${out1}")
  fingerprint(f2 "${out2}")
  if(NOT f1 MATCHES "weak memory: [0-9]+ loads")
    message(FATAL_ERROR "${sel}: no weak-memory line printed under --weak")
  endif()
  if(NOT f1 STREQUAL f2)
    message(FATAL_ERROR "${sel}: the same seed gave different runs:\n${f1}\n${f2}")
  endif()
endforeach()

set(MUTANT --mutants --impl mutant.weak_mp_store ${BUDGET})
run(out1 rc1 --weak --seed ${SEED} ${MUTANT})
if(NOT rc1 EQUAL 1 OR NOT out1 MATCHES "\n0 passed, 1 failed\n")
  message(FATAL_ERROR "the weak-only mutant was not caught with seed ${SEED} (exit ${rc1})")
endif()
if(NOT out1 MATCHES "--weak --replay")
  message(FATAL_ERROR "the re-run hint does not name --weak --replay")
endif()
run(out2 rc2 --weak --replay ${SEED} ${MUTANT})
fingerprint(f1 "${out1}")
fingerprint(f2 "${out2}")
if(NOT rc2 EQUAL 1 OR NOT f1 STREQUAL f2)
  message(FATAL_ERROR "--weak --replay did not reproduce the failure (exit ${rc2}):\n${f1}\n${f2}")
endif()
message("weak replay: ok")
