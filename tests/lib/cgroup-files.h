/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroupfs/cgroupfs.h"

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
/* cgroup2 gives a cgroup cpu.weight only when its parent's cgroup.subtree_control has +cpu. As the
 * kubelet and runc do on the way down, enables cpu in every cgroup between a cgroup2 hierarchy's
 * root and `rel`, rel excluded, where the root already hands it to its children (the machine's
 * choice, never changed here). ret_enabled[i], one per hierarchy of h: does rel have cpu.weight in
 * it now (false for v1, and for a cgroup2 without cpu, as on hybrid where cpu is v1's). 0 or -errno. */
int cg2_enable_cpu_to(const CgfsHierarchies *h, const char *rel, bool *ret_enabled);
