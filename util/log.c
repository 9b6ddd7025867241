/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_AUTO;
static LogTarget resolved = LOG_TARGET_AUTO;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target(LogTarget t) {
        target = t;
        resolved = LOG_TARGET_AUTO;
}

/* systemd's own log_target=auto (stderr_is_journal()): the journal only when stderr already goes
 * there. For a unit's stdout/stderr connected to journald, systemd sets $JOURNAL_STREAM to that
 * stream's "DEV:INO"; a terminal, a pipe or a file does not match, even when the variable was
 * inherited from a service. Whether the machine booted with systemd says nothing about where a
 * person at a terminal looks for errors. */
bool log_stream_is_journal(const char *journal_stream, int fd) {
        _cleanup_free_ char *dev_str = NULL;
        const char *colon;
        uint64_t dev, ino;
        struct stat st;

        if (!journal_stream || fd < 0)
                return false;
        colon = strchr(journal_stream, ':');
        if (!colon)
                return false;
        dev_str = strndup(journal_stream, (size_t) (colon - journal_stream));
        if (!dev_str)
                return false;
        /* safe_atou64() takes digits only: no sign, space, "0x", empty part or second ':'. */
        if (safe_atou64(dev_str, &dev) < 0 || safe_atou64(colon + 1, &ino) < 0)
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return (uint64_t) st.st_dev == dev && (uint64_t) st.st_ino == ino;
}

LogTarget log_get_target(void) {
        if (resolved != LOG_TARGET_AUTO)
                return resolved;
        if (target != LOG_TARGET_AUTO)
                resolved = target;
        else
                resolved = log_stream_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO)
                                   ? LOG_TARGET_JOURNAL
                                   : LOG_TARGET_STDERR;
        return resolved;
}

static const char *level_prefix(int level) {
        switch (level) {
        case LOG_EMERG:
        case LOG_ALERT:
        case LOG_CRIT:
        case LOG_ERR:
                return "error: ";
        case LOG_WARNING:
                return "warning: ";
        case LOG_DEBUG:
                return "debug: ";
        default:
                return "";
        }
}

/* Fields log_dispatch() writes itself: a caller's copy would only confuse a reader of the journal. */
static const char *const reserved_fields[] = {
        "MESSAGE",
        "PRIORITY",
        "SYSLOG_IDENTIFIER",
        "CODE_FILE",
        "CODE_LINE",
        "CODE_FUNC",
        "ERRNO",
};

/* journald's own rule (journal_field_valid()): 1-64 of A-Z, 0-9 and '_', not starting with '_'
 * (trusted fields) or a digit. */
bool log_field_is_valid(const char *field) {
        const char *eq;
        size_t n;

        if (!field)
                return false;
        eq = strchr(field, '=');
        if (!eq)
                return false;
        n = (size_t) (eq - field);
        if (n == 0 || n > 64 || field[0] == '_' || (field[0] >= '0' && field[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((field[i] >= 'A' && field[i] <= 'Z') || (field[i] >= '0' && field[i] <= '9') ||
                      field[i] == '_'))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(reserved_fields); i++)
                if (strlen(reserved_fields[i]) == n && strncmp(field, reserved_fields[i], n) == 0)
                        return false;
        return true;
}

#define LOG_BASE_FIELDS 7

/* 0, or -errno when the line could not be sent (out of memory, journald refusing): then the caller
 * writes it to stderr, which is journald's stream anyway when LOG_TARGET_AUTO chose this sink.
 * (sd_journal_sendv() itself returns 0 when the socket is missing.) */
static int log_journal(
        int level,
        int error,
        const char *const *extra,
        const char *file,
        int line,
        const char *func,
        const char *message) {
        char *fields[LOG_BASE_FIELDS] = {};
        _cleanup_free_ struct iovec *iov = NULL;
        size_t n = 0, n_extra = 0;
        int r = -ENOMEM;

        for (const char *const *f = extra; f && *f; f++)
                n_extra++;
        iov = calloc(LOG_BASE_FIELDS + n_extra, sizeof(*iov));

        if (!iov || asprintf(&fields[n++], "MESSAGE=%s", message) < 0 ||
            asprintf(&fields[n++], "PRIORITY=%i", level) < 0 ||
            asprintf(&fields[n++], "SYSLOG_IDENTIFIER=%s", program_invocation_short_name) < 0 ||
            asprintf(&fields[n++], "CODE_FILE=%s", file) < 0 ||
            asprintf(&fields[n++], "CODE_LINE=%i", line) < 0 ||
            asprintf(&fields[n++], "CODE_FUNC=%s", func) < 0 ||
            (error != 0 && asprintf(&fields[n++], "ERRNO=%i", error) < 0)) {
                if (n > 0)
                        fields[--n] = NULL; /* asprintf() left it undefined */
                n = 0;                      /* out of memory: not half of the line */
        }
        if (n > 0) {
                size_t n_iov = 0;

                for (size_t i = 0; i < n; i++)
                        iov[n_iov++] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                for (const char *const *f = extra; f && *f; f++)
                        if (log_field_is_valid(*f))
                                iov[n_iov++] =
                                        (struct iovec){.iov_base = (char *) *f, .iov_len = strlen(*f)};
                r = sd_journal_sendv(iov, (int) n_iov);
        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
        return r < 0 ? r : 0;
}

_printf_(7, 0) static int log_dispatch(
        int level,
        int error,
        const char *const *extra,
        const char *file,
        int line,
        const char *func,
        const char *format,
        va_list ap) {
        char buf[2048]; /* a log line, not a path: truncation is acceptable here */
        int saved_errno = errno;

        error = abs(error);

        /* Make "%m" print the error we were given, not whatever errno happens to hold. */
        errno = error;
        (void) vsnprintf(buf, sizeof(buf), format, ap);

        if (log_get_target() != LOG_TARGET_JOURNAL ||
            log_journal(level, error, extra, file, line, func, buf) < 0)
                (void) fprintf(
                        stderr, "%s: %s%s\n", program_invocation_short_name, level_prefix(level), buf);

        errno = saved_errno;
        return -error;
}

int log_internal(
        int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_dispatch(level, error, NULL, file, line, func, format, ap);
        va_end(ap);
        return r;
}

int log_fields_internal(
        int level,
        int error,
        const char *const *fields,
        const char *file,
        int line,
        const char *func,
        const char *format,
        ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_dispatch(level, error, fields, file, line, func, format, ap);
        va_end(ap);
        return r;
}
