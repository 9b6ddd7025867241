/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "util/macro.h"

/* Logging: journald when stderr is already the journal (a systemd service or timer run), stderr
 * otherwise. Log where the decision is made, once, with the object's identity and the reason. "%m"
 * prints the error passed in. */

typedef enum LogTarget {
        LOG_TARGET_AUTO, /* journald if log_stream_is_journal($JOURNAL_STREAM, stderr), else stderr */
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
} LogTarget;

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_target(LogTarget target);
/* Which sink log_* writes to, after LOG_TARGET_AUTO is resolved. */
LogTarget log_get_target(void);

/* Returns -abs(error) when error != 0, else 0, so "return log_error_errno(r, ...)" passes r on. */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);

/* The same, with structured fields: `fields` is a NULL-terminated list of "KEY=value" (may be NULL).
 * journald gets them next to MESSAGE; a key that journald would not take (not 1-64 of A-Z, 0-9,
 * '_', starting with '_' or a digit, or one log_* sets itself such as MESSAGE) is dropped. stderr
 * gets the message only: put what matters in the text too. */
int log_fields_internal(
        int level,
        int error,
        const char *const *fields,
        const char *file,
        int line,
        const char *func,
        const char *format,
        ...) _printf_(7, 8);

/* Would log_fields_internal() pass this "KEY=value" on to journald? Exposed for the unit test. */
bool log_field_is_valid(const char *field);

#define log_fields_errno(level, error, fields, ...) \
        ({ \
                int _level_ = (level), _e_ = (error); \
                _level_ <= log_get_max_level() \
                        ? log_fields_internal( \
                                  _level_, _e_, (fields), __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e_); \
        })
#define log_fields(level, fields, ...) (void) log_fields_errno(level, 0, fields, __VA_ARGS__)

#define log_full_errno(level, error, ...) \
        ({ \
                int _level_ = (level), _e_ = (error); \
                _level_ <= log_get_max_level() \
                        ? log_internal(_level_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e_); \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_notice_errno(error, ...) log_full_errno(LOG_NOTICE, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

/* Is fd the stream journald gave a unit, as journal_stream (the value of $JOURNAL_STREAM, may be
 * NULL) names it: "DEV:INO", two unsigned decimals? A malformed value, a closed fd or another file
 * is no. LOG_TARGET_AUTO asks it about stderr, as systemd's log_target=auto does; exposed for the
 * unit test. */
bool log_stream_is_journal(const char *journal_stream, int fd);
