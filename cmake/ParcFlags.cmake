# Warnings and sanitizers for parc's own targets.
add_library(parc_warnings INTERFACE)
target_compile_options(parc_warnings INTERFACE -Wall -Wextra -Wpedantic
  $<$<BOOL:${PARC_WERROR}>:-Werror>)

set(PARC_SANITIZER_FLAGS "")
if(PARC_SANITIZE STREQUAL "thread")
  set(PARC_SANITIZER_FLAGS -fsanitize=thread)
elseif(PARC_SANITIZE STREQUAL "address")
  set(PARC_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(PARC_SANITIZE STREQUAL "undefined")
  set(PARC_SANITIZER_FLAGS -fsanitize=undefined -fno-sanitize-recover=undefined)
elseif(NOT PARC_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PARC_SANITIZE must be thread, address, undefined or empty, not '${PARC_SANITIZE}'")
endif()
if(PARC_SANITIZER_FLAGS)
  # Everything in the build (library, tests, harness, examples) is
  # instrumented alike: mixing instrumented and plain code hides reports.
  add_compile_options(${PARC_SANITIZER_FLAGS})
  add_link_options(${PARC_SANITIZER_FLAGS})
endif()
# A scale for timeouts in tests and the harness watchdog: sanitizers slow
# code down 2-15x, and so does an emulator (qemu-user runs a cross build's
# tests at a fraction of native speed).
if(PARC_SANITIZE STREQUAL "thread" OR PARC_CHAOS OR CMAKE_CROSSCOMPILING_EMULATOR)
  set(PARC_SLOWDOWN 10)
elseif(PARC_SANITIZE)
  set(PARC_SLOWDOWN 4)
else()
  set(PARC_SLOWDOWN 1)
endif()
