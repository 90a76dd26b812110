cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# stress.baton.replay: --baton makes a run a function of its seed, and
# --replay SEED re-runs a failure on the same schedule.
#   1. each selection, run twice with --baton --seed S, must PASS both times
#      with identical schedule hashes (the "under the baton: ... schedule H"
#      lines) — a lock workload and a queue workload without kernel parks,
#      whose schedules the baton decides alone;
#   2. a deliberately failing mutant under --baton must FAIL, and --replay S
#      must FAIL again with the same schedule and the same first violation;
#   3. a case that cannot run under the baton (the pool's own threads) must
#      report SKIP, never PASS.
#   cmake -DPARC_STRESS=path -P baton_replay.cmake
set(SEED 0x5eed)
set(BUDGET --threads 3 --ops 3000 --watchdog 2)

include(${CMAKE_CURRENT_LIST_DIR}/replay_common.cmake)

foreach(sel "lock.exclusion/parc.spin_tas" "queue.transfer/parc.lfqueue")
  run(out1 rc1 --baton --seed ${SEED} --filter ${sel} ${BUDGET})
  run(out2 rc2 --baton --seed ${SEED} --filter ${sel} ${BUDGET})
  if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT out1 MATCHES "\n1 passed, 0 failed\n")
    message(FATAL_ERROR "${sel} under the baton did not pass twice (exit ${rc1}, ${rc2})")
  endif()
  fingerprint(f1 "${out1}")
  fingerprint(f2 "${out2}")
  if(NOT f1 MATCHES "schedule [0-9a-f]+")
    message(FATAL_ERROR "${sel}: no schedule hash printed under the baton")
  endif()
  if(NOT f1 STREQUAL f2)
    message(FATAL_ERROR "${sel}: the same seed gave different schedules:\n${f1}\n${f2}")
  endif()
endforeach()

set(MUTANT --mutants --filter queue.transfer/mutant.reorder_queue ${BUDGET})
run(out1 rc1 --baton --seed ${SEED} ${MUTANT})
if(NOT rc1 EQUAL 1 OR NOT out1 MATCHES "\n0 passed, 1 failed\n")
  message(FATAL_ERROR "the mutant was not caught under the baton (exit ${rc1})")
endif()
if(NOT out1 MATCHES "--replay ${SEED}|--replay 0x0*5eed")
  message(FATAL_ERROR "the re-run hint does not name --replay")
endif()
run(out2 rc2 --replay ${SEED} ${MUTANT})
fingerprint(f1 "${out1}")
fingerprint(f2 "${out2}")
if(NOT rc2 EQUAL 1 OR NOT f1 STREQUAL f2)
  message(FATAL_ERROR "--replay did not reproduce the failure (exit ${rc2}):\n${f1}\n${f2}")
endif()

run(out rc --baton --seed ${SEED} --filter "pool.exactly_once/*" ${BUDGET})
if(out MATCHES "pool.exactly_once" AND NOT out MATCHES "SKIP +not under --baton")
  message(FATAL_ERROR "a case with threads of its own was not SKIPped under the baton")
endif()
message("replayed: same seed, same schedule; --replay reproduced the failure")
message("baton replay: ok")
