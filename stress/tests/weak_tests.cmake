# ctest tests of the weak-memory mode (parc/weak.h, parc-stress --weak),
# included from stress/tests/CMakeLists.txt:
#
#   stress.weak.suite          (PARC_WEAK) every workload that runs under the
#                              baton passes under --weak;
#   stress.weak.mutant.<name>  (PARC_WEAK) each weak-only negative control
#                              (stress/mutants/weak_*.c) is caught by --weak
#                              within 60 s;
#   stress.weak_only.<name>    (every other build) the same negative control
#                              PASSES a plain run: only --weak sees the bug;
#   stress.weak.litmus         (PARC_WEAK) the litmus catalogue under the
#                              model: outcome sets checked against C11;
#   stress.weak.explore        (PARC_WEAK) --explore: litmus and the core
#                              protocols, every execution within bounds;
#   stress.weak.explore.mutants (PARC_WEAK) its negative control is caught;
#   stress.weak.user[_bug]     (PARC_WEAK) a user's ring over parc/atomic.h
#                              passes --weak; its relaxed twin is caught;
#   stress.weak.replay         (PARC_WEAK) --weak --seed S replays exactly.
file(GLOB PARC_STRESS_WEAK_MUTANTS CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/../mutants/weak_*.c)

if(PARC_WEAK)
  add_test(NAME stress.weak.suite
    COMMAND parc-stress --weak --threads 4 --ops 4000 --watchdog 5 --quiet
      --json ${CMAKE_CURRENT_BINARY_DIR}/stress-weak-suite.json)
  set_tests_properties(stress.weak.suite PROPERTIES TIMEOUT 300
    FAIL_REGULAR_EXPRESSION " [1-9][0-9]* failed")
  foreach(src ${PARC_STRESS_WEAK_MUTANTS})
    get_filename_component(name ${src} NAME_WE)
    # The issue's bound: caught within 60 s; fresh seeds while 45 s last.
    add_test(NAME stress.weak.mutant.${name}
      COMMAND ${CMAKE_COMMAND}
        -DPARC_STRESS=$<TARGET_FILE:parc-stress>
        "-DARGS=--weak;--mutants;--impl;mutant.${name};--threads;3;--ops;20000;--fail-fast;--watchdog;5"
        -DBUDGET=45
        -P ${CMAKE_CURRENT_LIST_DIR}/expect_fail.cmake)
    set_tests_properties(stress.weak.mutant.${name} PROPERTIES TIMEOUT 60
      PASS_REGULAR_EXPRESSION "caught: ")
  endforeach()
  add_test(NAME stress.weak.litmus
    COMMAND parc-stress --weak --litmus --ops 2560)
  set_tests_properties(stress.weak.litmus PROPERTIES TIMEOUT 120
    PASS_REGULAR_EXPRESSION "lb.relaxed[^\n]*\n  SKIP: [^\n]*\n\n14 passed, 0 failed, 1 skipped\n")
  # The exhaustive mode: litmus outcome sets exactly, parc's core protocols
  # within bounds; and its negative control (a lost wake-up) caught.
  add_test(NAME stress.weak.explore COMMAND parc-stress --explore)
  set_tests_properties(stress.weak.explore PROPERTIES TIMEOUT 600
    PASS_REGULAR_EXPRESSION "\n18 passed, 0 failed, 1 skipped\n")
  add_test(NAME stress.weak.explore.mutants COMMAND parc-stress --explore --mutants)
  set_tests_properties(stress.weak.explore.mutants PROPERTIES TIMEOUT 120
    PASS_REGULAR_EXPRESSION "\n1 passed, 0 failed\n")
  # A user's own lock-free queue over parc/atomic.h (user_ring.c): it
  # passes --weak; its relaxed-publish twin is caught.
  add_executable(stress_user_ring ${CMAKE_CURRENT_LIST_DIR}/user_ring.c)
  target_link_libraries(stress_user_ring PRIVATE parc_stress parc_warnings)
  add_executable(stress_user_ring_bug ${CMAKE_CURRENT_LIST_DIR}/user_ring.c)
  target_compile_definitions(stress_user_ring_bug PRIVATE USER_RING_BUG)
  target_link_libraries(stress_user_ring_bug PRIVATE parc_stress parc_warnings)
  add_test(NAME stress.weak.user
    COMMAND stress_user_ring --weak --impl my.ring --threads 2 --ops 20000)
  set_tests_properties(stress.weak.user PROPERTIES TIMEOUT 120
    PASS_REGULAR_EXPRESSION "\n[1-9][0-9]* passed, 0 failed")
  add_test(NAME stress.weak.user_bug
    COMMAND ${CMAKE_COMMAND}
      -DPARC_STRESS=$<TARGET_FILE:stress_user_ring_bug>
      "-DARGS=--weak;--impl;my.ring;--threads;2;--ops;20000;--fail-fast"
      -DBUDGET=45
      -P ${CMAKE_CURRENT_LIST_DIR}/expect_fail.cmake)
  set_tests_properties(stress.weak.user_bug PROPERTIES TIMEOUT 60
    PASS_REGULAR_EXPRESSION "caught: ")
  add_test(NAME stress.weak.replay
    COMMAND ${CMAKE_COMMAND} -DPARC_STRESS=$<TARGET_FILE:parc-stress>
      -P ${CMAKE_CURRENT_LIST_DIR}/weak_replay.cmake)
  set_tests_properties(stress.weak.replay PROPERTIES TIMEOUT 120
    PASS_REGULAR_EXPRESSION "weak replay: ok")
else()
  foreach(src ${PARC_STRESS_WEAK_MUTANTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME stress.weak_only.${name}
      COMMAND parc-stress --mutants --impl mutant.${name} --threads 3 --seconds 1)
    math(EXPR _weak_only_timeout "60 * ${PARC_SLOWDOWN}")
    set_tests_properties(stress.weak_only.${name} PROPERTIES
      TIMEOUT ${_weak_only_timeout} ENVIRONMENT "${PARC_STRESS_TEST_ENV}"
      PASS_REGULAR_EXPRESSION "\n1 passed, 0 failed\n")
  endforeach()
endif()
