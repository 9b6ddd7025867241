/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"
#include "util/parse.h"

/* Hand-rolled rather than strtoul(): that one skips leading whitespace, takes "+" and wraps "-1"
 * to ULONG_MAX, accepts "0x" with base 0, and honours the locale. */

static bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

/* Consumes the decimal digits at *p and advances *p past all of them, even when they overflow, so
 * callers can report trailing garbage (-EINVAL) before size (-ERANGE). -EINVAL when there are
 * none. */
static int parse_digits(const char **p, uint64_t *ret) {
        uint64_t v = 0;
        bool overflow = false;

        if (!ascii_isdigit(**p))
                return -EINVAL;

        for (; ascii_isdigit(**p); (*p)++)
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t) (**p - '0'), &v))
                        overflow = true;
        if (overflow)
                return -ERANGE;

        *ret = v;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int r;

        assert(s);
        assert(ret);

        r = parse_digits(&p, &v);
        if (r == -EINVAL || *p != '\0')
                return -EINVAL;
        if (r < 0)
                return r;

        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r;

        assert(ret);

        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;

        *ret = (unsigned) v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        const char *p = s;
        uint64_t magnitude;
        bool negative;
        int r;

        assert(s);
        assert(ret);

        /* Only "-": a "+" is as unexpected in a config value as in an unsigned one. */
        negative = *p == '-';
        if (negative)
                p++;
        r = parse_digits(&p, &magnitude);
        if (r == -EINVAL || *p != '\0')
                return -EINVAL;
        if (r < 0)
                return r;

        if (negative) {
                /* INT64_MIN's magnitude is one more than INT64_MAX, so it has no positive twin. */
                if (magnitude > (uint64_t) INT64_MAX + 1)
                        return -ERANGE;
                *ret = magnitude == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) magnitude;
        } else {
                if (magnitude > (uint64_t) INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) magnitude;
        }
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int64_t v;
        int r;

        assert(ret);

        r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;

        *ret = (int) v;
        return 0;
}

/* 10^15 < 2^53: up to this many fraction digits are an exact double, and one division of two exact
 * doubles is correctly rounded. Later digits are below 1e-15, well past what a fraction needs. */
#define FRACTION_DIGITS_EXACT 15

int safe_atofraction(const char *s, double *ret) {
        const char *p = s;
        uint64_t integer, numerator = 0, denominator = 1;
        bool nonzero_tail = false;
        int r;

        assert(s);
        assert(ret);

        /* Digits on both sides of the point: ".5" and "1." read like typos in a config value. */
        r = parse_digits(&p, &integer);
        if (r == -EINVAL)
                return r;
        if (r == -ERANGE)
                integer = UINT64_MAX; /* still too large, but the syntax is checked first */

        if (*p == '.') {
                p++;
                if (!ascii_isdigit(*p))
                        return -EINVAL;
                for (unsigned n = 0; ascii_isdigit(*p); p++, n++) {
                        if (*p != '0')
                                nonzero_tail = true;
                        if (n < FRACTION_DIGITS_EXACT) {
                                numerator = numerator * 10 + (uint64_t) (*p - '0');
                                denominator *= 10;
                        }
                }
        }
        if (*p != '\0')
                return -EINVAL;

        /* Decided on the digits, not the double: "1.0000000000000000001" is above 1 too. */
        if (integer > 1 || (integer == 1 && nonzero_tail))
                return -ERANGE;

        *ret = integer == 1 ? 1.0 : (double) numerator / (double) denominator;
        return 0;
}

/* A unit is worth coeff * 10^exp10 ns; kept apart so fractions can be scaled without overflow. */
typedef struct DurationUnit {
        const char *name;
        usec_t usec; /* whole microseconds per unit; 0 for "ns" */
        uint64_t coeff;
        unsigned exp10;
} DurationUnit;

static const DurationUnit duration_units[] = {
        {"ns", 0, 1, 0},
        {"us", 1, 1, 3},
        {"\u00b5s", 1, 1, 3}, /* MICRO SIGN, as Go's unitMap */
        {"\u03bcs", 1, 1, 3}, /* GREEK SMALL LETTER MU, as Go's unitMap */
        {"ms", USEC_PER_MSEC, 1, 6},
        {"s", USEC_PER_SEC, 1, 9},
        {"m", USEC_PER_MINUTE, 6, 10},
        {"h", USEC_PER_HOUR, 36, 11},
};

static const DurationUnit *duration_unit_find(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                if (strlen(duration_units[i].name) == len && memcmp(duration_units[i].name, name, len) == 0)
                        return &duration_units[i];
        return NULL;
}

static const uint64_t pow10_table[] = {
        1ULL,
        10ULL,
        100ULL,
        1000ULL,
        10000ULL,
        100000ULL,
        1000000ULL,
        10000000ULL,
        100000000ULL,
        1000000000ULL,
        10000000000ULL,
        100000000000ULL,
        1000000000000ULL,
        10000000000000ULL,
        100000000000000ULL,
        1000000000000000ULL,
        10000000000000000ULL,
        100000000000000000ULL,
        1000000000000000000ULL,
        10000000000000000000ULL,
};

/* Like Go's leadingFraction, later digits are accepted but no longer add precision; 19 digits are
 * the most a uint64_t holds and already resolve far below a nanosecond. */
#define DURATION_FRACTION_DIGITS_MAX 19

/* floor(0.<digits> * unit) in ns, exactly, where digits is the n-digit integer f. The result is
 * below one unit (3.6e12 ns at most) and no step overflows: coeff * (f % 10^m) < coeff * 10^m,
 * trivially fine for coeff 1, and m = n - exp10 is at most 9 for "m" (coeff 6) and 8 for "h"
 * (coeff 36). */
static uint64_t duration_fraction_ns(uint64_t f, unsigned n, const DurationUnit *u) {
        unsigned m;

        if (u->exp10 >= n)
                return f * u->coeff * pow10_table[u->exp10 - n];

        m = n - u->exp10;
        return u->coeff * (f / pow10_table[m]) + u->coeff * (f % pow10_table[m]) / pow10_table[m];
}

/* Adds one <integer>.<fraction><unit> component to total and total_ns; false on overflow. The
 * ns are carried along so that, as in Go which sums nanoseconds, "500ns500ns" is 1us: only the
 * sum is rounded down. */
static bool duration_add(
        usec_t *total,
        unsigned *total_ns,
        uint64_t integer,
        uint64_t fraction,
        unsigned fraction_digits,
        const DurationUnit *u) {
        uint64_t usec, ns, frac_ns;

        if (u->usec == 0) {
                usec = integer / 1000;
                ns = integer % 1000;
        } else {
                if (__builtin_mul_overflow(integer, u->usec, &usec))
                        return false;
                ns = 0;
        }

        frac_ns = duration_fraction_ns(fraction, fraction_digits, u);
        ns += frac_ns % 1000 + *total_ns;
        if (__builtin_add_overflow(usec, frac_ns / 1000 + ns / 1000, &usec))
                return false;
        if (__builtin_add_overflow(*total, usec, total))
                return false;

        *total_ns = (unsigned) (ns % 1000);
        return true;
}

int parse_duration(const char *s, usec_t *ret) {
        usec_t total = 0;
        unsigned total_ns = 0;
        bool overflow = false;
        const char *p = s;

        assert(s);
        assert(ret);

        /* As Go: "0" is the one number allowed without a unit. */
        if (strcmp(s, "0") == 0) {
                *ret = 0;
                return 0;
        }
        if (*p == '\0')
                return -EINVAL;

        /* Overflow is only noted and the rest still parsed, so a malformed string is -EINVAL
         * however large its numbers. */
        while (*p != '\0') {
                uint64_t integer = 0, fraction = 0;
                unsigned fraction_digits = 0;
                bool have_integer, have_fraction = false;
                const DurationUnit *u;
                size_t len;
                int r;

                /* Also rejects a sign or whitespace: neither a digit nor a '.'. */
                if (!ascii_isdigit(*p) && *p != '.')
                        return -EINVAL;

                r = parse_digits(&p, &integer);
                have_integer = r != -EINVAL;
                if (r == -ERANGE)
                        overflow = true;

                if (*p == '.')
                        for (p++; ascii_isdigit(*p); p++) {
                                have_fraction = true;
                                if (fraction_digits < DURATION_FRACTION_DIGITS_MAX) {
                                        fraction = fraction * 10 + (uint64_t) (*p - '0');
                                        fraction_digits++;
                                }
                        }

                /* "1.s" is fine (Go's "pre"), ".s" is not. */
                if (!have_integer && !have_fraction)
                        return -EINVAL;

                /* As Go, the unit is everything up to the next number, so "1h 30m" has unit "h ". */
                len = strcspn(p, "0123456789.");
                if (len == 0)
                        return -EINVAL;
                u = duration_unit_find(p, len);
                if (!u)
                        return -EINVAL;
                p += len;

                if (overflow || !duration_add(&total, &total_ns, integer, fraction, fraction_digits, u))
                        overflow = true;
        }

        /* USEC_INFINITY is reserved for "never", it cannot be a parsed value. */
        if (overflow || total == USEC_INFINITY)
                return -ERANGE;

        *ret = total;
        return 0;
}

char *format_duration(char *buf, size_t size, usec_t d) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } table[] = {
                {"h", USEC_PER_HOUR},
                {"m", USEC_PER_MINUTE},
                {"s", USEC_PER_SEC},
                {"ms", USEC_PER_MSEC},
                {"us", 1},
        };
        char *p = buf;
        size_t left = size;

        assert(buf || size == 0);

        if (size == 0)
                return buf;

        /* Never a parse_duration() result, so no round trip to keep; a log line should say it. */
        if (d == USEC_INFINITY) {
                (void) snprintf(buf, size, "infinity");
                return buf;
        }
        if (d == 0) {
                (void) snprintf(buf, size, "0s");
                return buf;
        }

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(table) && d > 0; i++) {
                int n;

                if (d < table[i].usec)
                        continue;

                n = snprintf(p, left, "%" PRIu64 "%s", d / table[i].usec, table[i].suffix);
                /* Too small a buffer: drop the whole component, as a cut one may read as another
                 * valid duration ("5ms" cut to "5m"). */
                if (n < 0 || (size_t) n >= left) {
                        *p = '\0';
                        break;
                }
                p += n;
                left -= (size_t) n;
                d %= table[i].usec;
        }

        return buf;
}

char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char suffixes[] = "KMGTPE";
        uint64_t unit = 1024;
        size_t i = 0;

        if (bytes < 1024) {
                (void) snprintf(buf, size, "%" PRIu64 "B", bytes);
                return buf;
        }
        while (i + 1 < sizeof(suffixes) - 1 && bytes / unit >= 1024) {
                unit *= 1024;
                i++;
        }
        (void) snprintf(
                buf,
                size,
                "%" PRIu64 ".%" PRIu64 "%c",
                bytes / unit,
                (uint64_t) ((unsigned __int128) (bytes % unit) * 10 / unit),
                suffixes[i]);
        return buf;
}
