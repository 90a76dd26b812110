/*
 * parc/api.h — what every public header opens with (layer 0): the export
 * macro and the C++ linkage brackets.
 *
 * PARC_API marks a function that libparc exports. The library is built
 * with hidden visibility, so whatever is not marked stays inside it: users
 * link only against what an installed header declares. Functions that the
 * inline fast paths call (names ending in _) are marked too, and are
 * declared in include/parc/impl/, not in the API headers.
 *
 * PARC_BEGIN_DECLS / PARC_END_DECLS wrap a header's declarations in
 * extern "C" when a C++ compiler reads it, so C++ programs link against
 * the C symbols; in C they are empty.
 */
#ifndef PARC_API_H
#define PARC_API_H

#if defined(__GNUC__) || defined(__clang__)
#define PARC_API __attribute__((visibility("default")))
#else
#define PARC_API
#endif

#ifdef __cplusplus
#define PARC_BEGIN_DECLS extern "C" {
#define PARC_END_DECLS }
#else
#define PARC_BEGIN_DECLS
#define PARC_END_DECLS
#endif

#endif /* PARC_API_H */
