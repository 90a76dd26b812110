/* Unit tests for parc/status.h. */
#include <string.h>

#include "parc/status.h"
#include "testutil.h"

START_TEST(strerror_names_every_parc_code)
{
    const int codes[] = { 0, EAGAIN, ETIMEDOUT, EPIPE, EINVAL, EPERM,
                          EDEADLK, EOVERFLOW, ENOMEM, ECANCELED, EALREADY, EBUSY };
    const char *names[] = { "OK", "EAGAIN", "ETIMEDOUT", "EPIPE", "EINVAL",
                            "EPERM", "EDEADLK", "EOVERFLOW", "ENOMEM", "ECANCELED",
                            "EALREADY", "EBUSY" };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = parc_strerror(codes[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strncmp(s, names[i], strlen(names[i])) == 0,
                      "code %d described as '%s'", codes[i], s);
    }
    ck_assert_int_eq(PARC_OK, 0);
}
END_TEST

/* A code parc never returns is still an errno value: the C library's
 * description, not a made-up "unknown". */
START_TEST(strerror_falls_back_to_the_c_library)
{
    const int codes[] = { ENOENT, EACCES, EEXIST, -1, 123456 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char want[256];
        strncpy(want, strerror(codes[i]), sizeof want - 1);
        want[sizeof want - 1] = '\0';
        const char *s = parc_strerror(codes[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, want);
    }
    ck_assert_str_ne(parc_strerror(ENOENT), "unknown parc status");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("strerror");
    tcase_add_test(tc, strerror_names_every_parc_code);
    tcase_add_test(tc, strerror_falls_back_to_the_c_library);
    suite_add_tcase(s, tc);
    return parc_test_run(s);
}
