/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/macro.h"
#include "util/parse.h"

/* Every failing call must leave ret_* alone; the sentinel shows whether it did. */
#define SENTINEL_U 12345U
#define SENTINEL_U64 UINT64_C(0xdeadbeefcafe)
#define SENTINEL_I (-777)
#define SENTINEL_I64 INT64_C(-777777777777)
#define SENTINEL_D 0.75

typedef struct ErrCase {
        const char *input;
        int error;
} ErrCase;

/* ---- safe_atou ---- */

static void test_atou_valid(void **state) {
        static const struct {
                const char *input;
                unsigned value;
        } cases[] = {
                {"0", 0},
                {"1", 1},
                {"42", 42},
                {"007", 7}, /* leading zeros are decimal, not octal */
                {"4294967295", UINT_MAX},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned v = SENTINEL_U;
                int r = safe_atou(cases[i].input, &v);

                if (r != 0 || v != cases[i].value)
                        fail_msg("safe_atou(\"%s\") = %d, %u", cases[i].input, r, v);
        }
}

static void test_atou_invalid(void **state) {
        static const ErrCase cases[] = {
                {"", -EINVAL},
                {"-1", -EINVAL}, /* strtoul would wrap this to UINT_MAX */
                {"-0", -EINVAL},
                {"+1", -EINVAL},
                {" 1", -EINVAL},
                {"\t1", -EINVAL},
                {"1 ", -EINVAL},
                {"1\n", -EINVAL},
                {"0x10", -EINVAL},
                {"1e3", -EINVAL},
                {"1.0", -EINVAL},
                {"abc", -EINVAL},
                {"12abc", -EINVAL},
                {"4294967296", -ERANGE},
                {"99999999999999999999", -ERANGE},
                {"99999999999999999999x", -EINVAL}, /* garbage is reported before size */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned v = SENTINEL_U;
                int r = safe_atou(cases[i].input, &v);

                if (r != cases[i].error || v != SENTINEL_U)
                        fail_msg("safe_atou(\"%s\") = %d, %u", cases[i].input, r, v);
        }
}

/* ---- safe_atou64 ---- */

static void test_atou64_boundaries(void **state) {
        uint64_t v = SENTINEL_U64;

        (void) state;
        assert_int_equal(safe_atou64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(safe_atou64("4294967296", &v), 0);
        assert_true(v == UINT64_C(4294967296));
        assert_int_equal(safe_atou64("0", &v), 0);
        assert_true(v == 0);
}

static void test_atou64_invalid(void **state) {
        static const ErrCase cases[] = {
                {"", -EINVAL},
                {"-1", -EINVAL},
                {"+1", -EINVAL},
                {" 1", -EINVAL},
                {"1 ", -EINVAL},
                {"0x10", -EINVAL},
                {"1e3", -EINVAL},
                {"18446744073709551616", -ERANGE},
                {"184467440737095516150", -ERANGE},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = SENTINEL_U64;
                int r = safe_atou64(cases[i].input, &v);

                if (r != cases[i].error || v != SENTINEL_U64)
                        fail_msg("safe_atou64(\"%s\") = %d, %ju", cases[i].input, r, (uintmax_t) v);
        }
}

/* ---- safe_atoi ---- */

static void test_atoi_valid(void **state) {
        static const struct {
                const char *input;
                int value;
        } cases[] = {
                {"0", 0},
                {"-0", 0},
                {"17", 17},
                {"-17", -17},
                {"2147483647", INT_MAX},
                {"-2147483648", INT_MIN},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int v = SENTINEL_I;
                int r = safe_atoi(cases[i].input, &v);

                if (r != 0 || v != cases[i].value)
                        fail_msg("safe_atoi(\"%s\") = %d, %d", cases[i].input, r, v);
        }
}

static void test_atoi_invalid(void **state) {
        static const ErrCase cases[] = {
                {"", -EINVAL},
                {"-", -EINVAL},
                {"+1", -EINVAL},
                {"--1", -EINVAL},
                {"- 1", -EINVAL},
                {" -1", -EINVAL},
                {"-1 ", -EINVAL},
                {"0x10", -EINVAL},
                {"1e3", -EINVAL},
                {"2147483648", -ERANGE},
                {"-2147483649", -ERANGE},
                {"9223372036854775808", -ERANGE},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int v = SENTINEL_I;
                int r = safe_atoi(cases[i].input, &v);

                if (r != cases[i].error || v != SENTINEL_I)
                        fail_msg("safe_atoi(\"%s\") = %d, %d", cases[i].input, r, v);
        }
}

/* ---- safe_atoi64 ---- */

static void test_atoi64_boundaries(void **state) {
        int64_t v = SENTINEL_I64;

        (void) state;
        assert_int_equal(safe_atoi64("-9223372036854775808", &v), 0);
        assert_true(v == INT64_MIN);
        assert_int_equal(safe_atoi64("9223372036854775807", &v), 0);
        assert_true(v == INT64_MAX);
        assert_int_equal(safe_atoi64("-9223372036854775807", &v), 0);
        assert_true(v == -INT64_MAX);
        assert_int_equal(safe_atoi64("-1", &v), 0);
        assert_true(v == -1);
}

static void test_atoi64_invalid(void **state) {
        static const ErrCase cases[] = {
                {"", -EINVAL},
                {"-", -EINVAL},
                {"+5", -EINVAL},
                {" 5", -EINVAL},
                {"5 ", -EINVAL},
                {"0x10", -EINVAL},
                {"1e3", -EINVAL},
                {"9223372036854775808", -ERANGE},
                {"-9223372036854775809", -ERANGE},
                {"-18446744073709551616", -ERANGE},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t v = SENTINEL_I64;
                int r = safe_atoi64(cases[i].input, &v);

                if (r != cases[i].error || v != SENTINEL_I64)
                        fail_msg("safe_atoi64(\"%s\") = %d, %jd", cases[i].input, r, (intmax_t) v);
        }
}

/* ---- safe_atofraction ---- */

static void test_fraction_valid(void **state) {
        static const struct {
                const char *input;
                double value;
        } cases[] = {
                {"0", 0.0},
                {"1", 1.0},
                {"0.5", 0.5},
                {"0.25", 0.25},
                {"0.1", 0.1}, /* correctly rounded, so == the literal */
                {"0.333", 0.333},
                {"1.0", 1.0},
                {"1.000000000000000000000", 1.0},
                {"0.000", 0.0},
                {"00.5", 0.5},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double v = SENTINEL_D;
                int r = safe_atofraction(cases[i].input, &v);

                if (r != 0 || v != cases[i].value)
                        fail_msg("safe_atofraction(\"%s\") = %d, %.17g", cases[i].input, r, v);
        }
}

static void test_fraction_invalid(void **state) {
        static const ErrCase cases[] = {
                {"", -EINVAL},
                {".5", -EINVAL},
                {"1.", -EINVAL},
                {".", -EINVAL},
                {"-0.5", -EINVAL},
                {"+0.5", -EINVAL},
                {" 0.5", -EINVAL},
                {"0.5 ", -EINVAL},
                {"0,5", -EINVAL},
                {"5e-1", -EINVAL},
                {"0x1p-1", -EINVAL},
                {"nan", -EINVAL},
                {"inf", -EINVAL},
                {"0.5.5", -EINVAL},
                {"1.1", -ERANGE},
                {"2", -ERANGE},
                {"1.0000000000000000001", -ERANGE}, /* decided on the digits, not the double */
                {"99999999999999999999999", -ERANGE},
                {"99999999999999999999999x", -EINVAL},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double v = SENTINEL_D;
                int r = safe_atofraction(cases[i].input, &v);

                if (r != cases[i].error || v != SENTINEL_D)
                        fail_msg("safe_atofraction(\"%s\") = %d, %.17g", cases[i].input, r, v);
        }
}

/* ---- parse_duration ---- */

typedef struct DurationCase {
        const char *input;
        usec_t value;
} DurationCase;

/* UINT64_MAX - 1, the largest value that is not USEC_INFINITY. */
#define DURATION_LARGEST "5124095576h1m49s551ms614us"

static void check_duration(const char *input, usec_t expected) {
        usec_t v = SENTINEL_U64;
        int r = parse_duration(input, &v);

        if (r != 0 || v != expected)
                fail_msg("\"%s\": %d, %ju, not %ju", input, r, (uintmax_t) v, (uintmax_t) expected);
}

static void check_duration_error(const char *input, int error) {
        usec_t v = SENTINEL_U64;
        int r = parse_duration(input, &v);

        if (r != error || v != SENTINEL_U64)
                fail_msg("parse_duration(\"%s\") = %d, %ju; expected %d", input, r, (uintmax_t) v, error);
}

static const DurationCase valid_durations[] = {
        {"0", 0},
        {"0s", 0},
        {"0h0m", 0},
        {"90s", 90 * USEC_PER_SEC},
        {"10m", 10 * USEC_PER_MINUTE},
        {"1h30m", USEC_PER_HOUR + 30 * USEC_PER_MINUTE},
        {"30m1h", USEC_PER_HOUR + 30 * USEC_PER_MINUTE}, /* Go takes any order */
        {"1h1h", 2 * USEC_PER_HOUR},                     /* and repeated units */
        {"500ms", 500 * USEC_PER_MSEC},
        {"1.5h", USEC_PER_HOUR + 30 * USEC_PER_MINUTE},
        {".5s", 500 * USEC_PER_MSEC},
        {"1.s", USEC_PER_SEC}, /* Go accepts a point without fraction digits */
        {"2m1.5s", 121500 * USEC_PER_MSEC},
        {"1us", 1},
        {"1\u00b5s", 1}, /* MICRO SIGN */
        {"1\u03bcs", 1}, /* GREEK SMALL LETTER MU */
        {"1000ns", 1},
        {"0.5ms", 500},
        {"0.001s", USEC_PER_MSEC},
        {"1h1m1s1ms1us", USEC_PER_HOUR + USEC_PER_MINUTE + USEC_PER_SEC + USEC_PER_MSEC + 1},
        {"007s", 7 * USEC_PER_SEC},
        {"5124095576h", UINT64_C(5124095576) * USEC_PER_HOUR}, /* fits: usec, not Go's ns */
        {"18446744073709551614us", UINT64_MAX - 1},
        {DURATION_LARGEST, UINT64_MAX - 1},
};

static void test_duration_valid(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(valid_durations); i++)
                check_duration(valid_durations[i].input, valid_durations[i].value);
}

/* Below a microsecond is rounded down, but only after the components are summed. */
static void test_duration_rounds_down_sub_usec(void **state) {
        static const DurationCase cases[] = {
                {"100ns", 0},
                {"999ns", 0},
                {"1500ns", 1},
                {"1999ns", 1},
                {"500ns500ns", 1},
                {"0.9us", 0},
                {"1.9999999us", 1},
                {"0.0000009s", 0},
                {"0.000001s", 1},
                {"1.0000005s", USEC_PER_SEC},
                {"0.5us0.5us", 1},
                /* digits past the 19th add no precision but must still be digits */
                {"0.99999999999999999999999h", USEC_PER_HOUR - 1},
                {"0.10000000000000000000009s", 100 * USEC_PER_MSEC},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_duration(cases[i].input, cases[i].value);
}

static void test_duration_invalid(void **state) {
        static const char *const cases[] = {
                "",
                "10",  /* a bare number other than "0" */
                "-5m", /* no sign, not even Go's */
                "+5m",
                "-0",
                "+0",
                "00",
                "1x",
                "h",
                "1h 30m", /* unit "h " */
                "1h30",   /* missing unit */
                " 1s",
                "1s ",
                "1s\n",
                ".s",
                ".",
                "1.5.5s",
                "1e3s",
                "1H",
                "1sec",
                "1\u00b5", /* the micro sign without "s" */
                "1\xb5s",  /* a lone UTF-8 continuation byte */
                "1\xc2s",  /* a truncated UTF-8 sequence */
                "1h-5m",
                "0x10s",
                "9999999999999999999h x", /* garbage is reported before size */
                "99999999999999999999x",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_duration_error(cases[i], -EINVAL);
}

static void test_duration_overflow(void **state) {
        static const char *const cases[] = {
                "9999999999999999999h",
                "99999999999999999999ns", /* the digits alone overflow */
                "5124095577h",
                DURATION_LARGEST "1us", /* exactly USEC_INFINITY, which is reserved */
                DURATION_LARGEST "2us",
                "18446744073709551615us",
                "18446744073709551616us",
                "5124095576h5124095576h",
                "9999999999999999999h1s",
                "1s9999999999999999999h",
                "2562047788015215.5h", /* integer part already too large for usec */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_duration_error(cases[i], -ERANGE);
}

/* ---- format_duration ---- */

static void test_format_duration(void **state) {
        static const struct {
                usec_t value;
                const char *text;
        } cases[] = {
                {0, "0s"},
                {1, "1us"},
                {999, "999us"},
                {1500, "1ms500us"},
                {500 * USEC_PER_MSEC, "500ms"},
                {1500 * USEC_PER_MSEC, "1s500ms"},
                {90 * USEC_PER_SEC, "1m30s"},
                {10 * USEC_PER_MINUTE, "10m"},
                {USEC_PER_HOUR + 30 * USEC_PER_MINUTE, "1h30m"},
                {USEC_PER_HOUR + 1, "1h1us"},
                {100 * USEC_PER_HOUR, "100h"},
                {UINT64_MAX - 1, DURATION_LARGEST},
                {USEC_INFINITY, "infinity"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[DURATION_MAX_LEN];

                assert_ptr_equal(format_duration(buf, sizeof(buf), cases[i].value), buf);
                assert_string_equal(buf, cases[i].text);
        }
}

static void test_format_duration_small_buffer(void **state) {
        char buf[8];

        (void) state;
        memset(buf, 'X', sizeof(buf));
        assert_ptr_equal(format_duration(buf, sizeof(buf), USEC_PER_HOUR + 30 * USEC_PER_MINUTE + 1), buf);
        assert_non_null(memchr(buf, '\0', sizeof(buf)));
        /* Whole components only, never half a number. */
        assert_string_equal(buf, "1h30m");

        /* "5ms" cut to "5m" would be a valid, very different duration. */
        memset(buf, 'X', sizeof(buf));
        assert_string_equal(format_duration(buf, 5, USEC_PER_HOUR + 5 * USEC_PER_MSEC), "1h");

        memset(buf, 'X', sizeof(buf));
        format_duration(buf, 0, 1);
        assert_int_equal(buf[0], 'X');
}

static void assert_round_trip(usec_t value) {
        char buf[DURATION_MAX_LEN];
        usec_t parsed = SENTINEL_U64;

        format_duration(buf, sizeof(buf), value);
        assert_true(strlen(buf) < DURATION_MAX_LEN - 1);
        if (parse_duration(buf, &parsed) != 0)
                fail_msg("format_duration(%ju) = \"%s\" does not parse", (uintmax_t) value, buf);
        if (parsed != value)
                fail_msg("\"%s\" parses as %ju, not %ju", buf, (uintmax_t) parsed, (uintmax_t) value);
}

static void test_format_round_trip_edges(void **state) {
        static const usec_t values[] = {
                0,
                1,
                999,
                USEC_PER_MSEC,
                USEC_PER_SEC - 1,
                USEC_PER_SEC,
                USEC_PER_MINUTE - 1,
                USEC_PER_HOUR - 1,
                USEC_PER_HOUR,
                UINT32_MAX,
                (usec_t) INT64_MAX,
                UINT64_MAX - USEC_PER_HOUR,
                UINT64_MAX - 1,
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                assert_round_trip(values[i]);
}

static void test_format_round_trip_pseudo_random(void **state) {
        uint64_t x = UINT64_C(0x9e3779b97f4a7c15);

        (void) state;
        for (unsigned i = 0; i < 100000; i++) {
                usec_t v;

                /* xorshift64: deterministic, so a failure reproduces */
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                /* All magnitudes, not just the huge ones a uniform draw would give. */
                v = x >> (i % 64);
                if (v == USEC_INFINITY)
                        v--;
                assert_round_trip(v);
        }
}

static void test_parse_format_parse(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(valid_durations); i++) {
                char buf[DURATION_MAX_LEN];
                usec_t v, w;

                assert_int_equal(parse_duration(valid_durations[i].input, &v), 0);
                format_duration(buf, sizeof(buf), v);
                assert_int_equal(parse_duration(buf, &w), 0);
                assert_true(v == w);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_atou_valid),
                cmocka_unit_test(test_atou_invalid),
                cmocka_unit_test(test_atou64_boundaries),
                cmocka_unit_test(test_atou64_invalid),
                cmocka_unit_test(test_atoi_valid),
                cmocka_unit_test(test_atoi_invalid),
                cmocka_unit_test(test_atoi64_boundaries),
                cmocka_unit_test(test_atoi64_invalid),
                cmocka_unit_test(test_fraction_valid),
                cmocka_unit_test(test_fraction_invalid),
                cmocka_unit_test(test_duration_valid),
                cmocka_unit_test(test_duration_rounds_down_sub_usec),
                cmocka_unit_test(test_duration_invalid),
                cmocka_unit_test(test_duration_overflow),
                cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_format_duration_small_buffer),
                cmocka_unit_test(test_format_round_trip_edges),
                cmocka_unit_test(test_format_round_trip_pseudo_random),
                cmocka_unit_test(test_parse_format_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
