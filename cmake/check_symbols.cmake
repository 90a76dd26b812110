cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# ctest package.symbols: what libparc.so (nm -D) and libparc_stress.a (nm -g)
# export must all start with parc_ and be declared in an installed header.
#
#   cmake -DNM=<nm> -DLIBS="<lib>;<lib>" -DHEADERS="<dir>;<dir>" -P check_symbols.cmake
#   cmake -DNM=<nm> -DINSTALL_FROM=<build dir> -DPREFIX=<empty dir> -P check_symbols.cmake
#
# The second form installs the build into PREFIX first and checks the
# installed libparc.so and libparc_stress.a against the installed headers.
#
# A shared library is read with nm -D (its dynamic symbol table: what a
# program can link against), an archive with nm -g (its global symbols:
# what takes part in a user's static link). "Declared" means the name is
# followed by "(", ";" or "[" somewhere in the headers with comments
# stripped: a prototype, an extern variable, or a call from inline code.
# Prints every offender and fails when there is one.
if(INSTALL_FROM)
  file(REMOVE_RECURSE ${PREFIX})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${INSTALL_FROM} --prefix ${PREFIX}
    OUTPUT_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install ${INSTALL_FROM} --prefix ${PREFIX} failed")
  endif()
  file(GLOB_RECURSE LIBS ${PREFIX}/libparc.so ${PREFIX}/libparc_stress.a)
  set(HEADERS ${PREFIX}/include)
endif()
if(NOT NM OR NOT LIBS OR NOT HEADERS)
  message(FATAL_ERROR "usage: cmake -DNM=nm -DLIBS=a;b -DHEADERS=dir;dir -P check_symbols.cmake")
endif()

set(text "")
foreach(dir ${HEADERS})
  file(GLOB_RECURSE headers ${dir}/*.h)
  foreach(h ${headers})
    file(READ ${h} t)
    string(APPEND text "${t}\n")
  endforeach()
endforeach()
# Strip comments (non-greedy /* ... */ has no CMake regex: walk them).
set(code "")
while(TRUE)
  string(FIND "${text}" "/*" open)
  if(open EQUAL -1)
    string(APPEND code "${text}")
    break()
  endif()
  string(SUBSTRING "${text}" 0 ${open} before)
  string(APPEND code "${before} ")
  math(EXPR rest "${open} + 2")
  string(SUBSTRING "${text}" ${rest} -1 text)
  string(FIND "${text}" "*/" close)
  if(close EQUAL -1)
    break()
  endif()
  math(EXPR rest "${close} + 2")
  string(SUBSTRING "${text}" ${rest} -1 text)
endwhile()
string(REGEX REPLACE "//[^\n]*" "" code "${code}")

set(bad 0)
set(total 0)
foreach(lib ${LIBS})
  if(lib MATCHES "\\.a$")
    set(mode -g)
  else()
    set(mode -D)
  endif()
  execute_process(COMMAND ${NM} ${mode} --defined-only ${lib}
    OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${mode} --defined-only ${lib} failed")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(count 0)
  foreach(line ${lines})
    # "<address> <type> <name>"; archives also print "member.o:" lines.
    if(NOT line MATCHES "^[0-9a-fA-F]+ ([A-Za-z]) ([^ ]+)$")
      continue()
    endif()
    set(name ${CMAKE_MATCH_2})
    math(EXPR count "${count} + 1")
    # AddressSanitizer gives each exported variable X an ODR indicator,
    # __odr_asan.X (or __odr_asan_gen_X): it stands or falls with X.
    if(name MATCHES "^__odr_asan(\\.|_gen_)(.+)$")
      set(name ${CMAKE_MATCH_2})
    endif()
    if(NOT name MATCHES "^parc_")
      message("${lib}: exports ${name}: not prefixed parc_")
      math(EXPR bad "${bad} + 1")
      continue()
    endif()
    if(NOT code MATCHES "[^A-Za-z0-9_]${name}[ \t\n]*[(;[]")
      message("${lib}: exports ${name}: declared in no installed header")
      math(EXPR bad "${bad} + 1")
    endif()
  endforeach()
  if(count EQUAL 0)
    message("${lib}: exports nothing (wrong file?)")
    math(EXPR bad "${bad} + 1")
  endif()
  message("${lib}: ${count} exported symbols")
  math(EXPR total "${total} + ${count}")
endforeach()
if(bad GREATER 0)
  message(FATAL_ERROR "${bad} exported symbols are not parc_ API")
endif()
message("symbols: ok (${total} exported, all parc_ and declared)")
