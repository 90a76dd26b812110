# Tests of the package as users receive it (included from the top level
# when tests are built): its exported symbols, its reference manual.

# package.symbols: libparc.so and libparc_stress.a, installed into a fresh
# prefix, export only parc_ names declared in the installed headers.
add_test(NAME package.symbols
  COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM}
    -DINSTALL_FROM=${PROJECT_BINARY_DIR}
    -DPREFIX=${PROJECT_BINARY_DIR}/symbols-test
    -P ${PROJECT_SOURCE_DIR}/cmake/check_symbols.cmake)
set_tests_properties(package.symbols PROPERTIES TIMEOUT 120
  PASS_REGULAR_EXPRESSION "symbols: ok")

# package.symbols.selftest: the check rejects a library that exports an
# unprefixed name and parc_ names no header declares.
add_library(parc_bad_exports SHARED EXCLUDE_FROM_ALL
  ${PROJECT_SOURCE_DIR}/tests/symbols/bad_exports.c)
target_include_directories(parc_bad_exports PRIVATE ${PROJECT_SOURCE_DIR}/include)
add_test(NAME package.symbols.selftest.build
  COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target parc_bad_exports)
set_tests_properties(package.symbols.selftest.build PROPERTIES
  FIXTURES_SETUP parc_bad_exports)
add_test(NAME package.symbols.selftest
  COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM}
    -DLIBS=$<TARGET_FILE:parc_bad_exports>
    "-DHEADERS=${PROJECT_SOURCE_DIR}/include\\;${PROJECT_BINARY_DIR}/include"
    -P ${PROJECT_SOURCE_DIR}/cmake/check_symbols.cmake)
set_tests_properties(package.symbols.selftest PROPERTIES
  FIXTURES_REQUIRED parc_bad_exports
  PASS_REGULAR_EXPRESSION "stress_unprefixed: not prefixed parc_.*parc_declared_nowhere: declared in no installed header|parc_declared_nowhere: declared in no installed header.*stress_unprefixed: not prefixed parc_"
  FAIL_REGULAR_EXPRESSION "symbols: ok")
