/* test.h: a tiny test harness for Candor's C unit tests. */
#ifndef CANDOR_TEST_H
#define CANDOR_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed, test_current_failed;

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        test_current_failed = 1; \
    } } while (0)

#define CHECK_STR(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    if (!g_ || !w_ || strcmp(g_, w_) != 0) { \
        fprintf(stderr, "%s:%d: %s\n   got: %s\n  want: %s\n", __FILE__, __LINE__, \
                #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
        test_current_failed = 1; \
    } } while (0)

#define RUN(fn) do { \
    test_current_failed = 0; fn(); \
    if (test_current_failed) { test_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
    else test_passed++; } while (0)

/* The closing line CI reads: "N passed, N failed". */
#define TEST_SUMMARY(name) \
    (printf("%s: %d passed, %d failed\n", name, test_passed, test_failed), test_failed ? 1 : 0)

#endif
