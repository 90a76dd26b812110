cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# ctest cxx.headers: every public header (include/parc/*.h, globbed, so a
# header added later is covered) must compile as C++17, C++20 and C++23
# with g++ and clang++ (a compiler that is not installed is skipped) under
# -Wall -Wextra -Wpedantic -Werror, one translation unit per header so each
# header is checked on its own; then cxx_use.cpp (a lock, a queue and an
# atomic, and the C/C++ layout of every public type) is built against the
# static library and run with each compiler and standard.
#
# In: PARC_SOURCE_DIR, PARC_BUILD_DIR, PARC_WORK_DIR, PARC_C_COMPILER,
# PARC_C_COMPILER_ID, PARC_LIBRARY, PARC_LINK_LIBS (;-list),
# PARC_SANITIZER_FLAGS (space-separated).
file(REMOVE_RECURSE ${PARC_WORK_DIR})
file(MAKE_DIRECTORY ${PARC_WORK_DIR})
separate_arguments(sanflags UNIX_COMMAND "${PARC_SANITIZER_FLAGS}")
set(warn -Wall -Wextra -Wpedantic -Werror)
set(incs -I${PARC_SOURCE_DIR}/include -I${PARC_BUILD_DIR}/include
         -I${PARC_SOURCE_DIR}/tests/cxx)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# The first spelling of each standard the compiler accepts (clang 14 knows
# C++23 only as c++2b).
function(pick_std cxx out)
  set(stds "")
  foreach(group "c++17" "c++20" "c++23;c++2b")
    foreach(s ${group})
      execute_process(COMMAND ${cxx} -std=${s} -x c++ -fsyntax-only /dev/null
                      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        list(APPEND stds ${s})
        break()
      endif()
    endforeach()
  endforeach()
  set(${out} ${stds} PARENT_SCOPE)
endfunction()

file(GLOB headers RELATIVE ${PARC_SOURCE_DIR}/include ${PARC_SOURCE_DIR}/include/parc/*.h)
list(SORT headers)
step("compile layout.c" ${PARC_C_COMPILER} -std=c11 ${sanflags} ${incs} -c
     ${PARC_SOURCE_DIR}/tests/cxx/layout.c -o ${PARC_WORK_DIR}/layout.o)

# Sanitizer runtimes do not mix: with sanitizers on, only the C++ compiler
# of the C compiler's family links and runs the program. The headers
# compile the same with and without sanitizers, so a sanitizer build skips
# that part (the default and chaos builds cover it; chaos compiles the
# chaos points in).
set(run_with g++ clang++)
set(headers_to_check ${headers})
if(sanflags)
  set(headers_to_check "")
  if(PARC_C_COMPILER_ID STREQUAL "Clang")
    set(run_with clang++)
  else()
    set(run_with g++)
  endif()
endif()

set(compilers 0)
foreach(name g++ clang++)
  find_program(cxx_${name} NAMES ${name})
  set(cxx ${cxx_${name}})
  if(NOT cxx)
    message(STATUS "${name}: not installed, skipped")
    continue()
  endif()
  math(EXPR compilers "${compilers} + 1")
  pick_std(${cxx} stds)
  foreach(std ${stds})
    foreach(h ${headers_to_check})
      string(MAKE_C_IDENTIFIER ${h} id)
      set(tu ${PARC_WORK_DIR}/${id}.cpp)
      file(WRITE ${tu} "#include \"${h}\"\n#include \"${h}\"\nint main() { return 0; }\n")
      step("${name} -std=${std} ${h}" ${cxx} -std=${std} ${warn} ${incs}
           -fsyntax-only ${tu})
    endforeach()
    if(name IN_LIST run_with)
      set(exe ${PARC_WORK_DIR}/cxx_use_${name}_${std})
      step("${name} -std=${std} build cxx_use.cpp" ${cxx} -std=${std} ${warn}
           ${sanflags} ${incs} -pthread ${PARC_SOURCE_DIR}/tests/cxx/cxx_use.cpp
           ${PARC_WORK_DIR}/layout.o ${PARC_LIBRARY} ${PARC_LINK_LIBS}
           -o ${exe})
      step("${name} -std=${std} run cxx_use" ${exe})
    endif()
    message(STATUS "${name} -std=${std}: ok")
  endforeach()
endforeach()
if(compilers EQUAL 0)
  message("cxx headers: SKIP (no C++ compiler)")
else()
  message("cxx headers: ok")
endif()
