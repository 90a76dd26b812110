cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# ctest docs.undocumented: run doxygen over the public headers (the
# Doxyfile of the docs target, without output) and fail when a public
# function has no doc comment. Functions whose names end in _ are the
# inline fast paths' helpers, not API, and need none. Exits 77 (SKIP)
# without doxygen.
#
#   cmake -DDOXYGEN=<doxygen> -DDOXYFILE=<Doxyfile> -DWORK_DIR=<dir>
#         [-DEXTRA_INPUT=<dir>] -P check_docs.cmake
#
# EXTRA_INPUT adds headers to doxygen's input (the self-test's bad one).

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(READ ${DOXYFILE} config)
string(APPEND config "
OUTPUT_DIRECTORY = ${WORK_DIR}
WARN_LOGFILE = ${WORK_DIR}/warnings.log
GENERATE_HTML = NO
GENERATE_MAN = NO
")
if(EXTRA_INPUT)
  string(APPEND config "INPUT += ${EXTRA_INPUT}\n")
endif()
file(WRITE ${WORK_DIR}/Doxyfile "${config}")
execute_process(COMMAND ${DOXYGEN} ${WORK_DIR}/Doxyfile
  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${rc}):\n${out}\n${err}")
endif()

file(STRINGS ${WORK_DIR}/warnings.log warnings)
set(missing 0)
foreach(w ${warnings})
  # "<file>:<line>: warning: Member parc_x(args) (function) of file x.h is not documented."
  if(w MATCHES "^(.*): warning: Member ([A-Za-z0-9_]+)[ ]*\\(.*\\) \\(function\\) of .* is not documented")
    set(where ${CMAKE_MATCH_1})
    set(name ${CMAKE_MATCH_2})
    if(name MATCHES "_$")
      continue()
    endif()
    message("${where}: ${name}() has no doc comment")
    math(EXPR missing "${missing} + 1")
  endif()
endforeach()
if(missing GREATER 0)
  message(FATAL_ERROR "${missing} public functions have no doc comment")
endif()
message("docs: ok (every public function has a doc comment)")
