# Run parc-stress on a negative control and pass only when it was caught:
# exit status 1 with a "N failed" closing line (N > 0), or status 66 with a
# ThreadSanitizer report. A run that misses the bug (on a loaded machine a
# race window can stay shut for seconds) is repeated with a fresh seed
# while the time budget lasts: the requirement is "caught within 60 s", not
# "caught by the first run". A crash or usage error fails at once.
#   cmake -DPARC_STRESS=path "-DARGS=a;b;c" -DBUDGET=seconds
#         ["-DPARC_EMULATOR=qemu-aarch64;-L;sysroot"] -P expect_fail.cmake
# (PARC_EMULATOR: a cross build's CMAKE_CROSSCOMPILING_EMULATOR runs parc-stress.)
cmake_minimum_required(VERSION 3.20) # script mode: modern if()/while() rules
if(NOT BUDGET)
  set(BUDGET 45)
endif()
string(TIMESTAMP start "%s")
set(attempt 0)
while(TRUE)
  math(EXPR attempt "${attempt} + 1")
  execute_process(COMMAND ${PARC_EMULATOR} ${PARC_STRESS} ${ARGS}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("--- attempt ${attempt}\n${out}")
  if(err)
    message("${err}")
  endif()
  if(rc EQUAL 1 AND out MATCHES "\n[0-9]+ passed, [1-9][0-9]* failed")
    message("caught: parc-stress reported the failure (exit 1), attempt ${attempt}")
    return()
  elseif(rc EQUAL 66 AND err MATCHES "ThreadSanitizer")
    message("caught: ThreadSanitizer reported (exit 66), attempt ${attempt}")
    return()
  elseif(NOT rc EQUAL 0)
    message(FATAL_ERROR "parc-stress ended with status ${rc}: neither a PASS nor a caught failure")
  endif()
  string(TIMESTAMP now "%s")
  math(EXPR elapsed "${now} - ${start}")
  if(elapsed GREATER_EQUAL BUDGET)
    message(FATAL_ERROR "the negative control was NOT caught in ${attempt} runs (${elapsed} s)")
  endif()
endwhile()
