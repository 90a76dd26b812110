# Required Debian packages: a missing one stops configuration and names the
# package to install.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# Concurrency Kit through cmake/Findck.cmake: the imported targets ck::ck
# and (where libck.a is installed) ck::ck_static.
find_package(ck QUIET)
if(NOT ck_FOUND)
  message(FATAL_ERROR "Concurrency Kit not found (ck_epoch.h, libck). "
                      "Install the Debian package: apt-get install libck-dev")
endif()
# The names bench/ uses.
set(CK_INCLUDE_DIR ${ck_INCLUDE_DIR})
set(CK_LIBRARY ${ck_LIBRARY})

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
