cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# ctest install.consume: install parc into a fresh prefix, then build and
# run the programs of tests/install/ as a user would:
#
#   - consumer.c through find_package(parc) with parc::parc (shared), and
#     with parc::parc_static: that one must need neither libparc.so nor
#     libck.so.0 (readelf finds no such NEEDED entry, and it runs with
#     LD_LIBRARY_PATH pointing at an empty directory);
#   - stress_consumer.c with parc::parc_stress;
#   - consumer.c and stress_consumer.c again through pkg-config (parc.pc,
#     parc_stress.pc).
#
# ctest install.consume_cxx (PARC_CXX=ON) builds consumer_cxx.cpp instead:
# through find_package with each C++ compiler in PARC_CXX_COMPILERS at
# -std=c++17, and through pkg-config at C++20 and C++23.
#
# Programs run through PARC_EMULATOR when set (a cross build's
# CMAKE_CROSSCOMPILING_EMULATOR, its words separated by spaces). Fails on the first step that fails.
set(prefix ${PARC_WORK_DIR}/prefix)
separate_arguments(PARC_EMULATOR UNIX_COMMAND "${PARC_EMULATOR}")
file(REMOVE_RECURSE ${PARC_WORK_DIR})
file(MAKE_DIRECTORY ${PARC_WORK_DIR})

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok ${out}")
endfunction()

# Run a program built for the target (through the emulator if any).
function(run what)
  step("${what}" ${PARC_EMULATOR} ${ARGN})
endfunction()

step("install" ${CMAKE_COMMAND} --install ${PARC_BUILD_DIR} --prefix ${prefix})

# The exported targets name no file of the machine that built parc: every
# library path is relative to the prefix, dependencies are targets (ck::ck).
file(GLOB_RECURSE target_files ${prefix}/parcTargets*.cmake)
foreach(f ${target_files})
  file(READ ${f} text)
  # A path starts after a quote, a list ";" or a generator expression ":".
  if(text MATCHES "[\";:](/[^\";>]*\\.(so|a)(\\.[0-9.]+)?)[\";>]")
    message(FATAL_ERROR "${f} names an absolute library path: ${CMAKE_MATCH_1}")
  endif()
endforeach()
message(STATUS "exported targets: no absolute library path")

set(toolchain "")
if(PARC_TOOLCHAIN_FILE)
  # A cross build's toolchain file looks for packages in its sysroot only;
  # the fresh prefix is outside it: name the package's directory.
  file(GLOB_RECURSE config ${prefix}/parcConfig.cmake)
  get_filename_component(config_dir "${config}" DIRECTORY)
  set(toolchain -DCMAKE_TOOLCHAIN_FILE=${PARC_TOOLCHAIN_FILE} -Dparc_DIR=${config_dir})
endif()
separate_arguments(sanflags UNIX_COMMAND "${PARC_CONSUMER_FLAGS}")
# Flags for the consumers' configure: only when there are any, so that a
# toolchain file's own linker flags (a cross build's sysroot) stay.
set(cflags "")
set(cxxflags "")
if(PARC_CONSUMER_FLAGS)
  set(cflags "-DCMAKE_C_FLAGS=${PARC_CONSUMER_FLAGS}"
             "-DCMAKE_EXE_LINKER_FLAGS=${PARC_CONSUMER_FLAGS}")
  set(cxxflags "-DCMAKE_CXX_FLAGS=${PARC_CONSUMER_FLAGS}"
               "-DCMAKE_EXE_LINKER_FLAGS=${PARC_CONSUMER_FLAGS}")
endif()
# The direct (pkg-config) builds also take the build's linker flags.
separate_arguments(ldflags UNIX_COMMAND "${PARC_CONSUMER_LDFLAGS}")

# pkg-config: parc.pc under the prefix (lib/ or lib/<multiarch>/).
file(GLOB_RECURSE pcs ${prefix}/parc.pc)
list(GET pcs 0 pc)
get_filename_component(pcdir ${pc} DIRECTORY)
get_filename_component(libdir ${pcdir} DIRECTORY)
function(pkgflags out)
  set(ENV{PKG_CONFIG_PATH} ${pcdir})
  execute_process(COMMAND pkg-config --cflags --libs ${ARGN}
    OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs ${ARGN} failed")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

if(PARC_CXX)
  foreach(cxx ${PARC_CXX_COMPILERS})
    get_filename_component(name ${cxx} NAME)
    set(dir ${PARC_WORK_DIR}/cxx-${name})
    step("configure C++ consumer (${name}, C++17, find_package)" ${CMAKE_COMMAND}
         -S ${PARC_CONSUMER_DIR} -B ${dir} ${toolchain} -DPARC_CONSUMER_CXX=ON
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${PARC_C_COMPILER}
         -DCMAKE_CXX_COMPILER=${cxx} -DCMAKE_CXX_STANDARD=17
         -DCMAKE_CXX_STANDARD_REQUIRED=ON -DCMAKE_CXX_EXTENSIONS=OFF ${cxxflags}
         -DCMAKE_BUILD_RPATH=${libdir})
    step("build C++ consumer (${name}, C++17, find_package)" ${CMAKE_COMMAND} --build ${dir})
    run("run C++ consumer (${name}, C++17, find_package)" ${dir}/consumer_cxx)
    pkgflags(flags parc)
    foreach(std c++20 c++23)
      if(name MATCHES "clang" AND std STREQUAL "c++23")
        set(std c++2b) # clang 14 (Debian 12) knows C++23 by its draft name
      endif()
      step("build C++ consumer (${name}, ${std}, pkg-config)" ${cxx} -std=${std}
           -Wall -Wextra -Wpedantic -Werror ${sanflags}
           ${PARC_CONSUMER_DIR}/consumer_cxx.cpp -o ${dir}/consumer_cxx_${std}
           ${flags} ${ldflags} -Wl,-rpath,${libdir})
      run("run C++ consumer (${name}, ${std}, pkg-config)" ${dir}/consumer_cxx_${std})
    endforeach()
  endforeach()
  message("install and consume C++: ok")
  return()
endif()

step("configure consumer (find_package)" ${CMAKE_COMMAND}
     -S ${PARC_CONSUMER_DIR} -B ${PARC_WORK_DIR}/cmake-build ${toolchain}
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${PARC_C_COMPILER} ${cflags}
     -DCMAKE_BUILD_RPATH=${libdir})
step("build consumer (find_package)" ${CMAKE_COMMAND} --build ${PARC_WORK_DIR}/cmake-build)
run("run consumer (find_package)" ${PARC_WORK_DIR}/cmake-build/consumer)
run("run a user's stress run (find_package, parc::parc_stress)"
    ${PARC_WORK_DIR}/cmake-build/stress_consumer --impl consumer.pthread_mutex
    --threads 4 --seconds 0.2)

# The static consumer: no libparc.so, no libck.so.0 among what it needs.
set(static ${PARC_WORK_DIR}/cmake-build/consumer_static)
execute_process(COMMAND ${PARC_READELF} -d ${static} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PARC_READELF} -d ${static} failed")
endif()
if(dyn MATCHES "NEEDED[^\n]*(libck\\.so[^\n]*|libparc\\.so[^\n]*)")
  message(FATAL_ERROR "the static consumer still needs ${CMAKE_MATCH_1}:\n${dyn}")
endif()
message(STATUS "static consumer needs neither libparc.so nor libck.so")
file(MAKE_DIRECTORY ${PARC_WORK_DIR}/no-libs)
set(ENV{LD_LIBRARY_PATH} ${PARC_WORK_DIR}/no-libs)
run("run consumer (find_package, parc::parc_static, no library path)" ${static})
unset(ENV{LD_LIBRARY_PATH})

pkgflags(flags parc)
step("build consumer (pkg-config)" ${PARC_C_COMPILER} -std=c11 ${sanflags}
     ${PARC_CONSUMER_DIR}/consumer.c -o ${PARC_WORK_DIR}/consumer-pc ${flags}
     ${ldflags} -Wl,-rpath,${libdir})
run("run consumer (pkg-config)" ${PARC_WORK_DIR}/consumer-pc)
pkgflags(flags parc_stress)
step("build a user's stress run (pkg-config, parc_stress)" ${PARC_C_COMPILER} -std=c11
     ${sanflags} ${PARC_CONSUMER_DIR}/stress_consumer.c -o ${PARC_WORK_DIR}/stress-pc ${flags}
     ${ldflags})
run("run a user's stress run (pkg-config, parc_stress)" ${PARC_WORK_DIR}/stress-pc
    --impl consumer.pthread_mutex --threads 4 --seconds 0.2)
message("install and consume: ok")
