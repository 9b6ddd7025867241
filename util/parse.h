/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Safe number and duration parsing: the whole string must be consumed, no sign where none is
 * allowed, no leading/trailing whitespace. Return 0 or -EINVAL (not a number) / -ERANGE
 * (does not fit); ret_* is written only on success. */

typedef uint64_t usec_t;

#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define USEC_INFINITY ((usec_t) UINT64_MAX)

int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
/* A decimal in [0, 1] such as "0.5", "1", "0" (for fractions like --max-orphan-fraction). */
int safe_atofraction(const char *s, double *ret);

/* Durations in the kubelet's (Go's time.ParseDuration) syntax: "0", or one or more
 * <decimal><unit> with unit ns, us, µs, ms, s, m, h: "90s", "10m", "1h30m", "1.5h", "500ms".
 * A bare number other than "0" ("10"), a sign ("-5m", "+5m"), an unknown unit ("1x"), or an empty
 * string is -EINVAL; a value beyond USEC_INFINITY-1 is -ERANGE. Sub-microsecond parts round down. */
int parse_duration(const char *s, usec_t *ret);

/* Formats a duration back in the same syntax ("1h30m", "90ms", "0s") into buf; returns buf. */
char *format_duration(char *buf, size_t size, usec_t d);
#define DURATION_MAX_LEN 32
#define BYTES_MAX_LEN 16

/* "512B", "1.5K", "300.2M", "12.0G": 1024-based, one decimal, as systemd's format_bytes(). */
char *format_bytes(char *buf, size_t size, uint64_t bytes);
