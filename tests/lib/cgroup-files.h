/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* What the kernel tests and the cgroup bench do to cgroupfs files and processes. */

void sleep_msec(unsigned ms);
int sys_pidfd_open(pid_t pid);
int sys_pidfd_send_signal(int pidfd, int sig);

/* Writes value to an existing file (a cgroup control file): 0 or -errno. */
int write_str(const char *path, const char *value);
/* The whole file, or NULL. */
char *read_str(const char *path);
/* Is word one of the comma-separated list ("cpuset,cpu,cpuacct")? */
bool list_has(const char *list, const char *word);
/* cpuset (v1) refuses tasks in a cgroup without cpus and mems: the new cgroup `dir` takes its
 * parent's. 0 or -errno. */
int cpuset_inherit(const char *dir);
