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

int log_internal(
        int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        char buf[2048]; /* a log line, not a path: truncation is acceptable here */
        va_list ap;
        int saved_errno = errno;

        error = abs(error);

        /* Make "%m" print the error we were given, not whatever errno happens to hold. */
        errno = error;
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (log_get_target() == LOG_TARGET_JOURNAL) {
                char *fields[7] = {};
                struct iovec iov[ELEMENTSOF(fields)];
                size_t n = 0;

                if (asprintf(&fields[n++], "MESSAGE=%s", buf) < 0 ||
                    asprintf(&fields[n++], "PRIORITY=%i", level) < 0 ||
                    asprintf(&fields[n++], "SYSLOG_IDENTIFIER=%s", program_invocation_short_name) < 0 ||
                    asprintf(&fields[n++], "CODE_FILE=%s", file) < 0 ||
                    asprintf(&fields[n++], "CODE_LINE=%i", line) < 0 ||
                    asprintf(&fields[n++], "CODE_FUNC=%s", func) < 0 ||
                    (error != 0 && asprintf(&fields[n++], "ERRNO=%i", error) < 0)) {
                        fields[--n] = NULL; /* asprintf() left it undefined */
                        n = 0;              /* out of memory: drop the line rather than half of it */
                }
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                if (n > 0)
                        (void) sd_journal_sendv(iov, (int) n);
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        free(fields[i]);
        } else
                (void) fprintf(
                        stderr, "%s: %s%s\n", program_invocation_short_name, level_prefix(level), buf);

        errno = saved_errno;
        return -error;
}
