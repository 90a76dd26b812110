# The reference manual: HTML and man3 pages from the headers' doc comments
# (docs/Doxyfile.in), and ctest docs.undocumented, which fails when a
# public function has no doc comment. Both need doxygen (Debian: doxygen);
# without it the docs target says so and the test reports SKIP.
find_package(Doxygen QUIET)
find_program(PARC_AWK NAMES awk mawk gawk)
set(PARC_DOCS_DIR ${PROJECT_BINARY_DIR}/docs)
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PARC_DOCS_DIR}/Doxyfile @ONLY)

if(DOXYGEN_FOUND AND PARC_AWK)
  file(GLOB_RECURSE _parc_doc_inputs CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/include/parc/*.h ${PROJECT_SOURCE_DIR}/stress/include/parc/*.h)
  add_custom_command(OUTPUT ${PARC_DOCS_DIR}/html/index.html
    COMMAND ${CMAKE_COMMAND} -E remove_directory ${PARC_DOCS_DIR}/man
    COMMAND ${DOXYGEN_EXECUTABLE} ${PARC_DOCS_DIR}/Doxyfile
    DEPENDS ${_parc_doc_inputs} ${PARC_DOCS_DIR}/Doxyfile
            ${PROJECT_SOURCE_DIR}/docs/doc_filter.awk ${PROJECT_SOURCE_DIR}/README.md
    WORKING_DIRECTORY ${PARC_DOCS_DIR}
    COMMENT "doxygen: HTML in ${PARC_DOCS_DIR}/html, man3 in ${PARC_DOCS_DIR}/man/man3")
  add_custom_target(docs DEPENDS ${PARC_DOCS_DIR}/html/index.html)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen not found (apt-get install doxygen)"
    COMMAND ${CMAKE_COMMAND} -E false)
endif()

# Man pages are installed when they were built (cmake --build ... --target
# docs before cmake --install): the parc_* and PARC_* pages only (functions,
# types, macros, e.g. `man parc_mutex_lock`); doxygen also writes pages for
# struct members and files (arg.3, mutex.h.3), names too generic for
# /usr/share/man.
install(DIRECTORY ${PARC_DOCS_DIR}/man/man3 DESTINATION ${CMAKE_INSTALL_MANDIR}
        OPTIONAL FILES_MATCHING PATTERN "parc_*.3" PATTERN "PARC_*.3")

# ctest docs.undocumented, and its self-test on a header with one
# undocumented function. Without doxygen both report SKIP (exit 77).
if(PARC_BUILD_TESTS)
  foreach(t docs.undocumented docs.undocumented.selftest)
    if(DOXYGEN_FOUND AND PARC_AWK)
      set(extra "")
      if(t STREQUAL "docs.undocumented.selftest")
        set(extra -DEXTRA_INPUT=${PROJECT_SOURCE_DIR}/tests/docs/parc)
      endif()
      add_test(NAME ${t}
        COMMAND ${CMAKE_COMMAND} -DDOXYGEN=${DOXYGEN_EXECUTABLE}
          -DDOXYFILE=${PARC_DOCS_DIR}/Doxyfile -DWORK_DIR=${PARC_DOCS_DIR}/${t}
          ${extra} -P ${PROJECT_SOURCE_DIR}/cmake/check_docs.cmake)
    else()
      add_test(NAME ${t} COMMAND sh -c
        "echo '${t}: SKIP (doxygen not installed: apt-get install doxygen)'; exit 77")
    endif()
    set_tests_properties(${t} PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
  endforeach()
  if(DOXYGEN_FOUND AND PARC_AWK)
    set_tests_properties(docs.undocumented PROPERTIES
      PASS_REGULAR_EXPRESSION "docs: ok")
    set_tests_properties(docs.undocumented.selftest PROPERTIES
      PASS_REGULAR_EXPRESSION "parc_undocumented_example\\(\\) has no doc comment"
      FAIL_REGULAR_EXPRESSION "parc_documented_example|docs: ok")
  endif()
endif()
