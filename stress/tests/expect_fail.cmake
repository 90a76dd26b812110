# Run parc-stress on a negative control and pass only when it was caught:
# exit status 1 with a "N failed" closing line (N > 0), or status 66 with a
# ThreadSanitizer report. Anything else — a PASS, a crash, a usage error —
# fails the test.
#   cmake -DPARC_STRESS=path "-DARGS=a;b;c" -P expect_fail.cmake
execute_process(COMMAND ${PARC_STRESS} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(err)
  message("${err}")
endif()
if(rc EQUAL 1 AND out MATCHES "\n[0-9]+ passed, [1-9][0-9]* failed")
  message("caught: parc-stress reported the failure (exit 1)")
elseif(rc EQUAL 66 AND err MATCHES "ThreadSanitizer")
  if(out MATCHES "\n[0-9]+ passed, [1-9][0-9]* failed")
    message("caught: parc-stress reported the failure (exit 66: ThreadSanitizer also reported)")
  else()
    message("caught: ThreadSanitizer reported (exit 66)")
  endif()
else()
  message(FATAL_ERROR "the negative control was NOT caught (exit status ${rc})")
endif()
