# cmake/aarch64-linux-gnu.cmake — cross-build parc for 64-bit ARM Linux and
# run its tests under qemu-user (Debian: gcc-aarch64-linux-gnu, qemu-user).
#
#   ./build.sh test arm64        builds the sysroot below, then this preset
#
# or by hand:
#
#   cmake -S . -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#         [-DPARC_ARM64_SYSROOT=DIR]
#
# The sysroot holds what parc links against, unpacked from Debian's arm64
# packages (apt-get download <pkg>:arm64, then dpkg -x; installing them
# would replace the amd64 libck-dev): libck-dev, libck0, check,
# libsubunit-dev, libsubunit0, and libc6, libgcc-s1, libstdc++6 so that
# `qemu-aarch64 -L <sysroot>` runs the test programs with nothing else.
# build.sh's arm64_sysroot makes it.
#
# qemu-user on an x86 host runs the ARM code with x86's strong ordering:
# this proves the code builds and works on aarch64, not that its memory
# orderings are right on ARM's weaker model.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT PARC_ARM64_SYSROOT)
  get_filename_component(PARC_ARM64_SYSROOT
    "${CMAKE_CURRENT_LIST_DIR}/../build/sysroot-arm64" ABSOLUTE)
endif()
set(PARC_ARM64_SYSROOT "${PARC_ARM64_SYSROOT}" CACHE PATH
  "Debian arm64 packages unpacked with dpkg -x (see cmake/aarch64-linux-gnu.cmake)")
if(NOT EXISTS "${PARC_ARM64_SYSROOT}/usr/include/ck_epoch.h")
  message(FATAL_ERROR "No arm64 sysroot at ${PARC_ARM64_SYSROOT}: run ./build.sh test arm64 "
                      "(it unpacks Debian's arm64 packages there) or pass -DPARC_ARM64_SYSROOT=DIR")
endif()

# Look for libraries and headers in the sysroot (and the cross compiler's
# own /usr/aarch64-linux-gnu), programs on the host.
set(CMAKE_FIND_ROOT_PATH "${PARC_ARM64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the sysroot's .pc files (check.pc) and prefixes paths.
set(ENV{PKG_CONFIG_LIBDIR}
  "${PARC_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${PARC_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PARC_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# Shared libraries in the sysroot need each other's dependencies at link
# time (libcheck -> libsubunit).
set(_parc_arm64_libdirs
  "${PARC_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu" "${PARC_ARM64_SYSROOT}/lib/aarch64-linux-gnu")
set(_parc_arm64_ldflags "")
foreach(d ${_parc_arm64_libdirs})
  string(APPEND _parc_arm64_ldflags " -L${d} -Wl,-rpath-link,${d}")
endforeach()
# set, not append: CMake reads this file more than once.
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_parc_arm64_ldflags}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_parc_arm64_ldflags}")

# ctest runs every test program (and the script-mode tests run the programs
# they build) through qemu, with the sysroot as the root of the ARM side.
find_program(PARC_QEMU_AARCH64 qemu-aarch64)
if(NOT PARC_QEMU_AARCH64)
  message(FATAL_ERROR "qemu-aarch64 not found: apt-get install qemu-user")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${PARC_QEMU_AARCH64};-L;${PARC_ARM64_SYSROOT}")
