/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers the files of cgroupfs/ share (cgroup-util.c); not part of the module's interface. */

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroupfs/cgroupfs.h"

#define CG_OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Does errno (or -errno) e mean "already gone": ENOENT, or ENODEV (removed while we look)? */
bool cg_errno_is_gone(int e);

/* All of `name` beneath dir_fd read to EOF, NUL-terminated; -EFBIG when longer than max bytes. */
int cg_read_file_at(int dir_fd, const char *name, size_t max, char **ret);

/* A listing of `name` beneath dir_fd ("." for dir_fd itself, on a file description of its own). */
int cg_opendir_at(int dir_fd, const char *name, DIR **ret);

/* Next child directory of d, no "."/".."/gone ones, stat'ed into ret_st if given: 1, 0 at the end. */
int cg_readdir_child(DIR *d, struct dirent **ret_de, struct stat *ret_st);

/* `key` in cgroup.events text ("populated"): 1/0; -ENODATA without it, -EBADMSG if not 0/1. */
int cg_events_get(const char *events, const char *key);

/* v1: does cgroup.procs of `child` beneath dir_fd (NULL: of dir_fd) list a pid? Gone: 0. */
int cg_has_procs(int dir_fd, const char *child);

/* cg_has_procs() of `child` (`depth` levels down) or any beneath it; at max_depth or deeper: 1. */
int cg_tree_has_procs(
        int dir_fd, const char *child, const struct stat *child_st, unsigned depth, unsigned max_depth);

/* Processes in the cgroup at dir_fd or beneath? v2: cgroup.events, else cg_tree_has_procs(). */
int cg_is_populated(int dir_fd, bool v2, unsigned max_depth);

/* Is `controller` (its first len bytes) one of the comma-separated `list` ("cpu,cpuacct")? */
bool cg_controllers_contain(const char *list, const char *controller, size_t len);

/* Relative, no empty, "." or ".." component: it can only lead beneath the fd it is opened at. */
bool cg_path_is_safe(const char *p);

/* Makes room for item n of *items (`size` bytes each), doubling *allocated. */
int cg_grow(void **items, size_t *allocated, size_t n, size_t size);

/* A struct timespec (a stat time, a clock reading) in usec. */
cgfs_usec_t cg_timespec_to_usec(const struct timespec *ts);

/* The time on `clock` (CLOCK_MONOTONIC for timeouts), in usec. */
cgfs_usec_t cg_now_usec(clockid_t clock);
