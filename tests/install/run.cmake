cmake_minimum_required(VERSION 3.20) # script mode: modern if() rules
# ctest install.consume: install parc into a fresh prefix, then build and run
# tests/install/consumer.c twice: through find_package(parc) and through
# pkg-config. Fails on the first step that fails.
set(prefix ${PARC_WORK_DIR}/prefix)
file(REMOVE_RECURSE ${PARC_WORK_DIR})
file(MAKE_DIRECTORY ${PARC_WORK_DIR})

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok ${out}")
endfunction()

step("install" ${CMAKE_COMMAND} --install ${PARC_BUILD_DIR} --prefix ${prefix})

step("configure consumer (find_package)" ${CMAKE_COMMAND}
     -S ${PARC_CONSUMER_DIR} -B ${PARC_WORK_DIR}/cmake-build
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${PARC_C_COMPILER}
     "-DCMAKE_C_FLAGS=${PARC_CONSUMER_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${PARC_CONSUMER_FLAGS}"
     -DCMAKE_BUILD_RPATH=${prefix}/lib)
step("build consumer (find_package)" ${CMAKE_COMMAND} --build ${PARC_WORK_DIR}/cmake-build)
step("run consumer (find_package)" ${PARC_WORK_DIR}/cmake-build/consumer)
step("run a user's stress run (find_package, parc::parc_stress)"
     ${PARC_WORK_DIR}/cmake-build/stress_consumer --impl consumer.pthread_mutex
     --threads 4 --seconds 0.2)

# pkg-config: find parc.pc under the prefix (lib/ or lib/<multiarch>/).
file(GLOB_RECURSE pcs ${prefix}/parc.pc)
list(GET pcs 0 pc)
get_filename_component(pcdir ${pc} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pcdir})
execute_process(COMMAND pkg-config --cflags --libs parc
                OUTPUT_VARIABLE pkgflags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs parc failed")
endif()
separate_arguments(pkgflags UNIX_COMMAND "${pkgflags}")
separate_arguments(sanflags UNIX_COMMAND "${PARC_CONSUMER_FLAGS}")
get_filename_component(libdir ${pcdir} DIRECTORY)
step("build consumer (pkg-config)" ${PARC_C_COMPILER} -std=c11 ${sanflags}
     ${PARC_CONSUMER_DIR}/consumer.c -o ${PARC_WORK_DIR}/consumer-pc ${pkgflags}
     -Wl,-rpath,${libdir})
step("run consumer (pkg-config)" ${PARC_WORK_DIR}/consumer-pc)
message("install and consume: ok")
