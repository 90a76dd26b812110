# Findck.cmake — Concurrency Kit (Debian: libck-dev), as imported targets.
#
#   ck::ck          the shared library (libck.so)
#   ck::ck_static   the static archive (libck.a), defined only when one is
#                   installed; parc::parc_static links it, so a static
#                   consumer of parc does not need libck.so.0 at run time
#
# Sets ck_FOUND, ck_INCLUDE_DIR, ck_LIBRARY, ck_STATIC_LIBRARY. Looks where
# pkg-config's ck.pc points first, then in the compiler's usual places (a
# cross build's sysroot included, through CMAKE_FIND_ROOT_PATH). parc's
# build uses this file, and installs it beside parcConfig.cmake, which
# finds ck again with find_dependency(ck): the exported targets name
# ck::ck, never a path on the machine that built parc.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT CMAKE_CROSSCOMPILING)
  pkg_check_modules(PC_CK QUIET ck)
endif()

find_path(ck_INCLUDE_DIR ck_epoch.h HINTS ${PC_CK_INCLUDEDIR})
find_library(ck_LIBRARY NAMES ck HINTS ${PC_CK_LIBDIR})
find_library(ck_STATIC_LIBRARY NAMES libck.a HINTS ${PC_CK_LIBDIR})
mark_as_advanced(ck_INCLUDE_DIR ck_LIBRARY ck_STATIC_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ck
  REQUIRED_VARS ck_LIBRARY ck_INCLUDE_DIR
  VERSION_VAR PC_CK_VERSION)

if(ck_FOUND)
  if(NOT TARGET ck::ck)
    add_library(ck::ck UNKNOWN IMPORTED)
    set_target_properties(ck::ck PROPERTIES
      IMPORTED_LOCATION "${ck_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${ck_INCLUDE_DIR}")
  endif()
  if(ck_STATIC_LIBRARY AND NOT TARGET ck::ck_static)
    add_library(ck::ck_static STATIC IMPORTED)
    set_target_properties(ck::ck_static PROPERTIES
      IMPORTED_LOCATION "${ck_STATIC_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${ck_INCLUDE_DIR}")
  endif()
endif()
