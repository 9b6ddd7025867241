/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
                char code_file[256], code_line[32];

                (void) snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
                (void) snprintf(code_line, sizeof(code_line), "CODE_LINE=%i", line);
                if (error != 0)
                        (void) sd_journal_send_with_location(
                                code_file,
                                code_line,
                                func,
                                "MESSAGE=%s",
                                buf,
                                "PRIORITY=%i",
                                level,
                                "ERRNO=%i",
                                error,
                                "SYSLOG_IDENTIFIER=%s",
                                program_invocation_short_name,
                                NULL);
                else
                        (void) sd_journal_send_with_location(
                                code_file,
                                code_line,
                                func,
                                "MESSAGE=%s",
                                buf,
                                "PRIORITY=%i",
                                level,
                                "SYSLOG_IDENTIFIER=%s",
                                program_invocation_short_name,
                                NULL);
        } else
                (void) fprintf(
                        stderr, "%s: %s%s\n", program_invocation_short_name, level_prefix(level), buf);

        errno = saved_errno;
        return -error;
}
