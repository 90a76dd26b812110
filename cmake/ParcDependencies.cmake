# Required Debian packages: a missing one stops configuration and names the
# package to install.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

find_path(CK_INCLUDE_DIR ck_epoch.h)
find_library(CK_LIBRARY ck)
if(NOT CK_INCLUDE_DIR OR NOT CK_LIBRARY)
  message(FATAL_ERROR "Concurrency Kit not found (ck_epoch.h, libck). "
                      "Install the Debian package: apt-get install libck-dev")
endif()

if(PARC_BUILD_TESTS OR PARC_BUILD_STRESS)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(CHECK QUIET IMPORTED_TARGET check)
  endif()
  if(NOT CHECK_FOUND)
    message(FATAL_ERROR "Check (the C unit-test framework) not found. "
                        "Install the Debian packages: apt-get install check pkg-config")
  endif()
endif()
