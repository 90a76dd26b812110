/* Unit tests for parc/version.h. */
#include <stdio.h>
#include <string.h>

#include "parc/version.h"
#include "testutil.h"

START_TEST(library_reports_the_headers_version)
{
    int major = -1, minor = -1, patch = -1;
    ck_assert_int_eq(parc_version(&major, &minor, &patch), PARC_VERSION_NUMBER);
    ck_assert_int_eq(major, PARC_VERSION_MAJOR);
    ck_assert_int_eq(minor, PARC_VERSION_MINOR);
    ck_assert_int_eq(patch, PARC_VERSION_PATCH);
    ck_assert_int_eq(PARC_VERSION_NUMBER,
                     major * 10000 + minor * 100 + patch);
}
END_TEST

START_TEST(parts_may_be_null)
{
    ck_assert_int_eq(parc_version(NULL, NULL, NULL), PARC_VERSION_NUMBER);
    int minor = -1;
    ck_assert_int_eq(parc_version(NULL, &minor, NULL), PARC_VERSION_NUMBER);
    ck_assert_int_eq(minor, PARC_VERSION_MINOR);
}
END_TEST

START_TEST(string_matches_the_parts)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", PARC_VERSION_MAJOR,
             PARC_VERSION_MINOR, PARC_VERSION_PATCH);
    ck_assert_str_eq(PARC_VERSION, expect);
    ck_assert_str_eq(parc_version_string(), expect);
#ifdef PARC_TEST_PROJECT_VERSION
    /* CMake's project(VERSION) is where all of them come from. */
    ck_assert_str_eq(parc_version_string(), PARC_TEST_PROJECT_VERSION);
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("version");
    tcase_add_test(tc, library_reports_the_headers_version);
    tcase_add_test(tc, parts_may_be_null);
    tcase_add_test(tc, string_matches_the_parts);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
