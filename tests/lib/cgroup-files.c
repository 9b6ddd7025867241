/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/cgroup-files.h"
#include "util/macro.h"

void sleep_msec(unsigned ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int sys_pidfd_open(pid_t pid) {
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

int sys_pidfd_send_signal(int pidfd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int write_str(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

char *read_str(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;

        if (!f)
                return NULL;
        FILE *m = open_memstream(&buf, &size);
        if (m) {
                char chunk[4096];
                size_t k;
                while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                        fwrite(chunk, 1, k, m);
                fclose(m);
        }
        fclose(f);
        return buf;
}

bool list_has(const char *list, const char *word) {
        size_t l = strlen(word);

        for (const char *c = list; *c;) {
                size_t n = strcspn(c, ",");
                if (n == l && strncmp(c, word, l) == 0)
                        return true;
                c += n;
                c += *c == ',';
        }
        return false;
}

int cpuset_inherit(const char *dir) {
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *parent = NULL, *mine = NULL, *value = NULL;
                int r;

                if (asprintf(&parent, "%s/../%s", dir, files[i]) < 0 ||
                    asprintf(&mine, "%s/%s", dir, files[i]) < 0)
                        return -ENOMEM;
                value = read_str(parent);
                if (value && value[0] != '\n' && value[0] != '\0') {
                        r = write_str(mine, value);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A word of a space-separated list as cgroup.subtree_control has it ("cpuset cpu io memory\n")? */
static bool words_have(const char *words, const char *word) {
        size_t l = strlen(word);

        for (const char *c = words; *c;) {
                size_t n = strcspn(c, " \n");
                if (n == l && strncmp(c, word, l) == 0)
                        return true;
                c += n;
                c += strspn(c, " \n");
        }
        return false;
}

static int enable_cpu_to(const char *root, const char *rel) {
        _cleanup_free_ char *top = NULL, *value = NULL, *path = NULL;

        if (asprintf(&top, "%s/cgroup.subtree_control", root) < 0)
                return -ENOMEM;
        value = read_str(top);
        if (!value)
                return -ENOENT;
        if (!words_have(value, "cpu"))
                return 0;
        path = strdup(rel);
        if (!path)
                return -ENOMEM;
        for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
                _cleanup_free_ char *file = NULL;
                int r;

                *slash = '\0';
                if (asprintf(&file, "%s/%s/cgroup.subtree_control", root, path) < 0)
                        return -ENOMEM;
                r = write_str(file, "+cpu");
                *slash = '/';
                if (r < 0)
                        return r;
        }
        return 1;
}

int cg2_enable_cpu_to(const CgfsHierarchies *h, const char *rel, bool *ret_enabled) {
        for (size_t i = 0; i < h->n; i++) {
                int r = h->items[i].v2 ? enable_cpu_to(h->items[i].path, rel) : 0;

                if (r < 0)
                        return r;
                ret_enabled[i] = r > 0;
        }
        return 0;
}
