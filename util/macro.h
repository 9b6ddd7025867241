/* SPDX-License-Identifier: MIT */
#pragma once

/* Cleanup attributes and ownership transfer, in the spirit of systemd's macro.h. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define streq(a, b) (strcmp((a), (b)) == 0)
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand ownership of a pointer or fd over: returns the value and resets the variable, so the
 * cleanup attribute of the old owner does nothing. */
#define TAKE_PTR(p) \
        ({ \
                __typeof__(p) _taken_ = (p); \
                (p) = NULL; \
                _taken_; \
        })
#define TAKE_FD(fd) \
        ({ \
                int _taken_fd_ = (fd); \
                (fd) = -EBADF; \
                _taken_fd_; \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

/* Free a NULL-terminated array of strings. */
static inline void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

static inline void strv_freep(char ***l) {
        strv_free(*l);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* errno as a negative return value; never 0, so a caller's "r < 0" always holds. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
