/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "util/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

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

/* sd_journal_send() returns 0 even when nothing listens, so its result cannot pick the sink:
 * decide up front from sd_booted() and whether the journal socket exists. */
bool log_journal_available(const char *socket_path) {
        struct stat st;

        if (sd_booted() <= 0)
                return false;
        return stat(socket_path, &st) >= 0 && S_ISSOCK(st.st_mode);
}

LogTarget log_get_target(void) {
        if (resolved != LOG_TARGET_AUTO)
                return resolved;
        if (target != LOG_TARGET_AUTO)
                resolved = target;
        else
                resolved = log_journal_available(JOURNAL_SOCKET) ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
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

static void log_journal(
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
                n = 0;                      /* out of memory: drop the line rather than half of it */
        }
        if (n > 0) {
                size_t n_iov = 0;

                for (size_t i = 0; i < n; i++)
                        iov[n_iov++] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                for (const char *const *f = extra; f && *f; f++)
                        if (log_field_is_valid(*f))
                                iov[n_iov++] =
                                        (struct iovec){.iov_base = (char *) *f, .iov_len = strlen(*f)};
                (void) sd_journal_sendv(iov, (int) n_iov);
        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
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

        if (log_get_target() == LOG_TARGET_JOURNAL)
                log_journal(level, error, extra, file, line, func, buf);
        else
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
