# What baton_replay.cmake and weak_replay.cmake share: running parc-stress
# (through PARC_EMULATOR in a cross build) and the lines that identify a
# run: each schedule hash, the weak-memory counts and the failure lines.

function(run out_var rc_var)
  execute_process(COMMAND ${PARC_EMULATOR} ${PARC_STRESS} ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("$ parc-stress ${ARGN}\n${out}${err}")
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

function(fingerprint out_var text)
  string(REGEX MATCHALL "[^\n]*(under the baton|weak memory:|FAIL: )[^\n]*" lines "${text}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()
