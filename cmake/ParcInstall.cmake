# Install: headers, both libraries, a CMake package (find_package(parc)) and
# a pkg-config file (parc.pc).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/parc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/parc/config.h
              ${CMAKE_CURRENT_BINARY_DIR}/include/parc/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parc)
install(TARGETS parc parc_static EXPORT parcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT parcTargets NAMESPACE parc::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parc)
configure_package_config_file(cmake/parcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/parcConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parc)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/parcConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parcConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/parcConfigVersion.cmake
              ${CMAKE_CURRENT_SOURCE_DIR}/cmake/Findck.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/parc)

# The .pc file finds its prefix relative to itself, so an install with
# `cmake --install --prefix DIR` (or a moved tree) stays usable.
file(RELATIVE_PATH PARC_PC_TO_PREFIX
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/parc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/parc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parc.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The stress harness's own .pc file (parc_stress.pc: -lparc_stress over
# parc's static library), when the harness is built.
if(TARGET parc_stress)
  configure_file(cmake/parc_stress.pc.in ${CMAKE_CURRENT_BINARY_DIR}/parc_stress.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/parc_stress.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
