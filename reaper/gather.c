/* SPDX-License-Identifier: MIT */
/* The snapshot of one pass (DESIGN §3): pod cgroups first, then the CRI lists and the kubelet, then
 * the disk. Reads only; every source that cannot be read is marked with its reason, one line, so
 * that the planner refuses pod-level work and the report says why. Logs at debug at most. */

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "mountutil/mountutil.h"
#include "reaper/gather.h"
#include "reaper/gc.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strutil.h"

#define KUBELET_HEALTHZ_HOST "127.0.0.1"
#define KUBELET_HEALTHZ_PORT 10248
#define KUBELET_HEALTHZ_TIMEOUT (2 * USEC_PER_SEC)
/* As the kubelet's own pod-resources clients (podresources.DefaultTimeout... 10 s). */
#define POD_RESOURCES_TIMEOUT (10 * USEC_PER_SEC)

/* A healthz answer is "ok"; anything longer than this is not healthy anyway. */
#define HEALTHZ_RESPONSE_MAX 4096
#define HEALTHZ_EXCERPT_MAX 80

/* ---- small helpers ----------------------------------------------------------------------------- */

static usec_t timespec_to_usec(const struct timespec *ts) {
        if (ts->tv_sec < 0)
                return 0;
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / 1000;
}

static usec_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return timespec_to_usec(&ts);
}

/* For the orphan grace: whichever of the content and the inode changed last. */
static usec_t stat_changed(const struct stat *st) {
        return MAX(timespec_to_usec(&st->st_mtim), timespec_to_usec(&st->st_ctim));
}

/* strerror() as words inside a sentence: "connection refused". */
static const char *errno_words(int error, char *buf, size_t size) {
        snprintf(buf, size, "%s", strerror(abs(error)));
        buf[0] = (char) tolower((unsigned char) buf[0]);
        return buf;
}
#define ERRNO_WORDS(error) errno_words((error), (char[128]){}, 128)

/* Marks the source failed. The first reason is kept (it is the cause; later ones tend to follow
 * from it), made one line. Returns 0, or -ENOMEM. */
static int source_fail(SourceStatus *st, const char *format, ...) _printf_(2, 3);
static int source_fail(SourceStatus *st, const char *format, ...) {
        char *reason;
        va_list ap;
        int r;

        st->ok = false;
        if (st->error)
                return 0;

        va_start(ap, format);
        r = vasprintf(&reason, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        for (char *p = reason; *p; p++)
                if (iscntrl((unsigned char) *p))
                        *p = ' ';
        st->error = reason;
        return 0;
}

/* Marks the source read and says what it read, for the report. Returns 0, or -ENOMEM. */
static int source_ok(SourceStatus *st, const char *format, ...) _printf_(2, 3);
static int source_ok(SourceStatus *st, const char *format, ...) {
        va_list ap;
        int r;

        st->ok = true;
        free(st->detail);
        va_start(ap, format);
        r = vasprintf(&st->detail, format, ap);
        va_end(ap);
        if (r < 0) {
                st->detail = NULL;
                return -ENOMEM;
        }
        return 0;
}

static bool dot_or_dot_dot(const char *name) {
        return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* ---- uid lists ----------------------------------------------------------------------------------- */

typedef struct UidSet {
        char **items;
        size_t n, allocated;
} UidSet;

static void uid_set_done(UidSet *u) {
        for (size_t i = 0; i < u->n; i++)
                free(u->items[i]);
        free(u->items);
        *u = (UidSet){};
}

/* An empty or missing uid is not added: it names no pod. */
static int uid_set_add(UidSet *u, const char *uid) {
        char *copy;

        if (!uid || uid[0] == '\0')
                return 0;
        if (u->n == u->allocated) {
                size_t allocated = MAX(u->allocated * 2, (size_t) 16);
                char **items = reallocarray(u->items, allocated, sizeof(*items));

                if (!items)
                        return -ENOMEM;
                u->items = items;
                u->allocated = allocated;
        }
        copy = strdup(uid);
        if (!copy)
                return -ENOMEM;
        u->items[u->n++] = copy;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted and without duplicates (snapshot.h), handed over; u is empty afterwards. */
static void uid_set_finish(UidSet *u, char ***ret, size_t *ret_n) {
        size_t n = 0;

        if (u->n > 0)
                qsort(u->items, u->n, sizeof(*u->items), compare_strings);
        for (size_t i = 0; i < u->n; i++) {
                if (n > 0 && strcmp(u->items[n - 1], u->items[i]) == 0) {
                        free(u->items[i]);
                        continue;
                }
                u->items[n++] = u->items[i];
        }
        *ret = n > 0 ? u->items : NULL;
        *ret_n = n;
        if (n == 0)
                free(u->items);
        *u = (UidSet){};
}

/* ---- pod cgroups --------------------------------------------------------------------------------- */

/* The pod cgroups' names, before anything else is read (DESIGN §2): the set of pods is fixed here. */
static int gather_cgroups(const Options *o, const CgfsHierarchies *h, Snapshot *s) {
        int r;

        if (!h || h->n == 0)
                return source_fail(&s->cgroups, "no cgroup hierarchy under %s", o->cgroup_root);

        r = cgfs_pods_list(h, o->kubepods_cgroup, o->cgroup_driver, &s->pod_cgroups);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return source_fail(
                        &s->cgroups,
                        "cannot enumerate the pod cgroups under '%s': %s",
                        o->kubepods_cgroup,
                        ERRNO_WORDS(r));
        size_t n_v1 = 0;
        bool v2 = false;
        for (size_t i = 0; i < h->n; i++)
                if (h->items[i].v2)
                        v2 = true;
                else
                        n_v1++;
        char layout[64];
        if (n_v1 == 0)
                (void) snprintf(layout, sizeof(layout), "cgroup2");
        else
                (void) snprintf(
                        layout, sizeof(layout), "%zu v1 hierarchies%s", n_v1, v2 ? " + cgroup2" : "");
        return source_ok(
                &s->cgroups,
                "%s driver, %s at %s",
                s->pod_cgroups.driver == CGFS_DRIVER_AUTO ? "no kubepods tree yet, any"
                                                          : cgfs_driver_to_string(s->pod_cgroups.driver),
                layout,
                o->cgroup_root);
}

static bool cgroup_needs_detail(const char *uid, void *userdata) {
        const Snapshot *s = userdata;

        return !uid_list_contains(s->cri_uids, s->n_cri_uids, uid) &&
               !uid_list_contains(s->kubelet_uids, s->n_kubelet_uids, uid);
}

/* Then what the planner needs of them: children and change times of the pods no source knows
 * (the orphan candidates), and of every pod whether it holds processes (the circuit breaker
 * counts them all). A live pod costs one read of cgroup.events instead of a walk of every
 * hierarchy: on a busy node that was most of an idle pass. */
static int gather_cgroup_details(const Options *o, const CgfsHierarchies *h, Snapshot *s) {
        int r;

        if (!s->cgroups.ok)
                return 0;
        r = cgfs_pods_fill(h, &s->pod_cgroups, cgroup_needs_detail, s);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return source_fail(
                        &s->cgroups,
                        "cannot read the pod cgroups under '%s': %s",
                        o->kubepods_cgroup,
                        ERRNO_WORDS(r));
        return 0;
}

/* ---- the container runtime ----------------------------------------------------------------------- */

/* Every uid the runtime knows, in any state (DESIGN §2 rule 1): sandboxes by their metadata, and
 * containers by their io.kubernetes.pod.uid label (a container may outlive its sandbox's record).
 * The lists stay in the snapshot: the kubelet step maps names to uids through the sandboxes, and
 * runtime GC works on both. */
static int gather_cri(CriClient *cri, const char *connect_error, Snapshot *s) {
        _cleanup_(uid_set_done) UidSet uids = {};
        CriContainerList containers = {};
        CriPodSandboxList sandboxes = {};
        CriStatus st = {};
        int r;

        if (!cri)
                return source_fail(&s->cri, "%s", connect_error ?: "not connected to the container runtime");

        r = cri_list_pod_sandboxes(cri, NULL, &sandboxes, &st);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = source_fail(&s->cri, "ListPodSandbox: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }
        for (size_t i = 0; i < sandboxes.n; i++) {
                /* A sandbox without a uid names no pod; the kubelet never creates one. */
                if (sandboxes.items[i].pod_uid[0] == '\0')
                        log_debug("Sandbox %s has no pod uid in its metadata", sandboxes.items[i].id);
                r = uid_set_add(&uids, sandboxes.items[i].pod_uid);
                if (r < 0)
                        goto finish;
        }

        r = cri_list_containers(cri, NULL, &containers, &st);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = source_fail(&s->cri, "ListContainers: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }
        for (size_t i = 0; i < containers.n; i++) {
                r = uid_set_add(&uids, cri_map_get(&containers.items[i].labels, POD_UID_LABEL));
                if (r < 0)
                        goto finish;
        }
        r = source_ok(&s->cri, "%s", cri_client_endpoint(cri));

finish:
        /* What was learnt stays even when a later call failed: knowing more uids only keeps more
         * pods live. */
        uid_set_finish(&uids, &s->cri_uids, &s->n_cri_uids);
        cri_status_done(&st);
        if (r < 0) {
                cri_container_list_done(&containers);
                cri_pod_sandbox_list_done(&sandboxes);
                return r;
        }
        s->sandboxes = sandboxes;
        s->containers = containers;
        return 0;
}

/* The runtime's own sandbox image, from its verbose Status: containerd and CRI-O put their config
 * there as JSON with "sandboxImage". A plain string scan: the value is a reference, never escaped;
 * anything unexpected is "unknown" (--pod-infra-container-image is still protected). */
static char *sandbox_image_from_config(const char *json) {
        const char *key = "\"sandboxImage\"", *p, *end;

        p = json ? strstr(json, key) : NULL;
        if (!p)
                return NULL;
        p += strlen(key);
        p += strspn(p, " \t\r\n");
        if (*p++ != ':')
                return NULL;
        p += strspn(p, " \t\r\n");
        if (*p++ != '"')
                return NULL;
        end = strchr(p, '"');
        if (!end || end == p || memchr(p, '\\', (size_t) (end - p)))
                return NULL;
        return strndup(p, (size_t) (end - p));
}

/* What image GC needs: the images, the image filesystem's size (ImageFsInfo's mountpoint measured
 * by statvfs, as the kubelet's cadvisor does) and the runtime's sandbox image. */
static int gather_images(CriClient *cri, Snapshot *s) {
        CriRuntimeStatus status = {};
        CriImageFsInfo info = {};
        struct statvfs sv;
        CriStatus st = {};
        int r;

        if (!s->cri.ok)
                return source_fail(&s->images, "container runtime not ready");

        r = cri_list_images(cri, &s->image_list, &st);
        if (r < 0) {
                if (r != -ENOMEM)
                        r = source_fail(&s->images, "ListImages: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }
        r = cri_image_fs_info(cri, &info, &st);
        if (r < 0) {
                if (r != -ENOMEM)
                        r = source_fail(&s->images, "ImageFsInfo: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }
        if (info.n_image_filesystems == 0 || info.image_filesystems[0].mountpoint[0] != '/') {
                r = source_fail(&s->images, "ImageFsInfo named no image filesystem");
                goto finish;
        }
        s->image_fs.mountpoint = strdup(info.image_filesystems[0].mountpoint);
        if (!s->image_fs.mountpoint) {
                r = -ENOMEM;
                goto finish;
        }
        if (statvfs(s->image_fs.mountpoint, &sv) < 0) {
                r = source_fail(&s->images, "statvfs %s: %s", s->image_fs.mountpoint, ERRNO_WORDS(-errno));
                goto finish;
        }
        s->image_fs.capacity = (uint64_t) sv.f_blocks * sv.f_frsize;
        s->image_fs.available = (uint64_t) sv.f_bavail * sv.f_frsize;

        r = cri_runtime_status(cri, true, &status, &st);
        if (r == -ENOMEM)
                goto finish;
        if (r >= 0) {
                s->sandbox_image = sandbox_image_from_config(cri_map_get(&status.info, "config"));
                if (!s->sandbox_image)
                        log_debug("The runtime's status names no sandbox image");
        } else
                log_debug("Status: %s, sandbox image unknown", st.message ?: ERRNO_WORDS(r));
        s->images.ok = true;
        r = 0;

finish:
        cri_runtime_status_done(&status);
        cri_image_fs_info_done(&info);
        cri_status_done(&st);
        return r;
}

/* ---- kubelet healthz ----------------------------------------------------------------------------- */

typedef struct HealthzAnswer {
        int http_status;
        char excerpt[HEALTHZ_EXCERPT_MAX + 1]; /* the body's first line, printable */
} HealthzAnswer;

/* Waits for `events` on fd until the monotonic `deadline`: 0, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, usec_t deadline) {
        for (;;) {
                struct pollfd p = {.fd = fd, .events = events};
                usec_t now = now_usec(CLOCK_MONOTONIC);
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(
                        &p,
                        1,
                        (int) MIN((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) INT_MAX));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (r > 0)
                        return 0;
        }
}

/* Where the body starts (after the blank line), or NULL while the headers are incomplete. */
static const char *http_body(const char *buf, size_t n) {
        const char *end = memmem(buf, n, "\r\n\r\n", 4);

        return end ? end + 4 : NULL;
}

/* The value of header `name` (case-insensitive) in the header block [buf, body), copied into
 * value (NUL-terminated, trimmed). false if absent. */
static bool http_header(const char *buf, const char *body, const char *name, char *value, size_t size) {
        size_t l = strlen(name);

        for (const char *line = memchr(buf, '\n', (size_t) (body - buf)); line && line < body;
             line = memchr(line, '\n', (size_t) (body - line))) {
                const char *eol, *v;

                line++;
                eol = memchr(line, '\r', (size_t) (body - line));
                if (!eol || (size_t) (eol - line) <= l || line[l] != ':' || strncasecmp(line, name, l) != 0)
                        continue;
                for (v = line + l + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
                        ;
                while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
                        eol--;
                snprintf(value, size, "%.*s", (int) (eol - v), v);
                return true;
        }
        return false;
}

/* Decodes a chunked body in place into [body, *ret_n). -EAGAIN while incomplete. */
static int http_dechunk(char *body, size_t n, size_t *ret_n) {
        size_t in = 0, out = 0;

        for (;;) {
                const char *eol = memmem(body + in, n - in, "\r\n", 2);
                unsigned long size;
                char *end;

                if (!eol)
                        return -EAGAIN;
                errno = 0;
                size = strtoul(body + in, &end, 16);
                if (errno != 0 || end == body + in || (*end != '\r' && *end != ';'))
                        return -EBADMSG;
                in = (size_t) (eol - body) + 2;
                if (size == 0) {
                        *ret_n = out;
                        return 0;
                }
                if (size > n - in || n - in - size < 2)
                        return -EAGAIN;
                memmove(body + out, body + in, size);
                out += size;
                in += size + 2;
        }
}

/* Is the response in buf complete: headers and (by Content-Length or chunked framing) the body?
 * Without either, the body ends with the connection (we ask for Connection: close). */
static bool http_complete(char *buf, size_t n) {
        const char *body = http_body(buf, n);
        char value[64];

        if (!body)
                return false;
        if (http_header(buf, body, "Content-Length", value, sizeof(value))) {
                unsigned long long cl = strtoull(value, NULL, 10);

                return (size_t) (buf + n - body) >= cl;
        }
        if (http_header(buf, body, "Transfer-Encoding", value, sizeof(value)) &&
            strcasestr(value, "chunked"))
                return memmem(body, (size_t) (buf + n - body), "\r\n0\r\n\r\n", 7) ||
                       (buf + n - body >= 5 && memcmp(body, "0\r\n\r\n", 5) == 0);
        return false;
}

/* Parses a complete (or connection-closed) response: 1 healthy, 0 not, -EBADMSG not HTTP. */
static int http_parse_healthz(char *buf, size_t n, HealthzAnswer *ret) {
        HealthzAnswer a = {};
        char *body, value[64];
        size_t body_n;
        int r;

        buf[n] = '\0';
        if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || !isdigit((unsigned char) buf[7]) || buf[8] != ' ' ||
            !isdigit((unsigned char) buf[9]) || !isdigit((unsigned char) buf[10]) ||
            !isdigit((unsigned char) buf[11]))
                return -EBADMSG;
        a.http_status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');

        body = (char *) http_body(buf, n);
        if (!body)
                body = buf + n; /* closed within the headers: no body */
        body_n = (size_t) (buf + n - body);
        if (body < buf + n && http_header(buf, body, "Content-Length", value, sizeof(value)))
                body_n = MIN(body_n, (size_t) strtoull(value, NULL, 10));
        else if (
                body < buf + n && http_header(buf, body, "Transfer-Encoding", value, sizeof(value)) &&
                strcasestr(value, "chunked")) {
                r = http_dechunk(body, body_n, &body_n);
                if (r < 0)
                        body_n = 0;
        }

        for (size_t i = 0; i < body_n && i < HEALTHZ_EXCERPT_MAX && body[i] != '\n'; i++)
                a.excerpt[i] = isprint((unsigned char) body[i]) ? body[i] : ' ';
        /* The kubelet's healthz writes exactly "ok" (k8s.io/apiserver healthz). */
        while (body_n > 0 && isspace((unsigned char) body[body_n - 1]))
                body_n--;
        *ret = a;
        return a.http_status == 200 && body_n == 2 && memcmp(body, "ok", 2) == 0;
}

static int healthz_query(const char *host, uint16_t port, usec_t timeout, HealthzAnswer *ret) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr = {};
        _cleanup_free_ char *request = NULL, *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;
        socklen_t addr_len;
        size_t n = 0, sent = 0;
        int r, error = 0;
        socklen_t error_len = sizeof(error);
        bool v6 = false;

        if (!host)
                return -EINVAL;
        /* Numeric only: a name would need a resolver, which may hang beyond any timeout. */
        if (inet_pton(AF_INET, host, &addr.in.sin_addr) == 1) {
                addr.in.sin_family = AF_INET;
                addr.in.sin_port = htons(port);
                addr_len = sizeof(addr.in);
        } else if (inet_pton(AF_INET6, host, &addr.in6.sin6_addr) == 1) {
                addr.in6.sin6_family = AF_INET6;
                addr.in6.sin6_port = htons(port);
                addr_len = sizeof(addr.in6);
                v6 = true;
        } else
                return -EINVAL;

        if (asprintf(
                    &request,
                    "GET /healthz HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: podreaper\r\n"
                    "Accept: */*\r\nConnection: close\r\n\r\n",
                    v6 ? "[" : "",
                    host,
                    v6 ? "]" : "",
                    (unsigned) port) < 0)
                return -ENOMEM;
        buf = malloc(HEALTHZ_RESPONSE_MAX + 1);
        if (!buf)
                return -ENOMEM;

        fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, &addr.sa, addr_len) < 0) {
                if (errno != EINPROGRESS)
                        return negative_errno();
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0)
                        return negative_errno();
                if (error != 0)
                        return -error;
        }

        while (sent < strlen(request)) {
                ssize_t k = send(fd, request + sent, strlen(request) - sent, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = wait_fd(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                sent += (size_t) k;
        }

        while (n < HEALTHZ_RESPONSE_MAX && !http_complete(buf, n)) {
                ssize_t k = recv(fd, buf + n, HEALTHZ_RESPONSE_MAX - n, 0);

                if (k == 0)
                        break;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = wait_fd(fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                n += (size_t) k;
        }
        if (n == 0)
                return -ECONNRESET; /* closed without a word */

        return http_parse_healthz(buf, n, ret);
}

int gather_kubelet_healthz(const char *host, uint16_t port, usec_t timeout) {
        HealthzAnswer a;

        return healthz_query(host, port, timeout, &a);
}

/* ---- kubelet ------------------------------------------------------------------------------------- */

/* Names of the entries of a directory (no stat: the kubelet step only needs log dir names). A
 * missing directory has none. */
static int read_dir_names(const char *path, char ***ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(uid_set_done) UidSet names = {};
        struct dirent *de;

        d = opendir(path);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                return negative_errno();
        }
        for (errno = 0; (de = readdir(d)); errno = 0) {
                int r;

                if (dot_or_dot_dot(de->d_name))
                        continue;
                r = uid_set_add(&names, de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return negative_errno();
        uid_set_finish(&names, ret, ret_n);
        return 0;
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* The uids of the pod the kubelet names (namespace, name): every sandbox with that metadata and
 * every log dir "<namespace>_<name>_<uid>" (DESIGN §2 rule 2). A name can belong to several uids
 * (a pod deleted and created again, a StatefulSet's pod): all of them stay live, the safe side. */
static int kubelet_pod_uids(
        const CriPodResources *pr,
        const CriPodSandboxList *sandboxes,
        char *const *log_names,
        size_t n_log_names,
        UidSet *uids) {
        _cleanup_free_ char *prefix = NULL;
        size_t before = uids->n, l;
        int r;

        for (size_t i = 0; i < sandboxes->n; i++) {
                const CriPodSandbox *sb = &sandboxes->items[i];

                if (strcmp(sb->pod_namespace, pr->namespace) != 0 || strcmp(sb->pod_name, pr->name) != 0)
                        continue;
                r = uid_set_add(uids, sb->pod_uid);
                if (r < 0)
                        return r;
        }

        /* Namespaces and pod names cannot hold '_': the prefix is exact. */
        if (asprintf(&prefix, "%s_%s_", pr->namespace, pr->name) < 0)
                return -ENOMEM;
        l = strlen(prefix);
        for (size_t i = 0; i < n_log_names; i++) {
                const char *uid = log_names[i] + l;

                if (strncmp(log_names[i], prefix, l) != 0 || strchr(uid, '_'))
                        continue;
                r = uid_set_add(uids, uid);
                if (r < 0)
                        return r;
        }

        if (uids->n == before)
                log_debug(
                        "Pod %s/%s is active in the kubelet, but no sandbox or log dir names its uid",
                        pr->namespace,
                        pr->name);
        return 0;
}

static int gather_kubelet(const Options *o, const char *root_dir, Snapshot *s) {
        _cleanup_free_ char *socket_path = NULL, *endpoint = NULL;
        _cleanup_(uid_set_done) UidSet uids = {};
        _cleanup_cri_client_ CriClient *c = NULL;
        CriPodResourcesList resources = {};
        char **log_names = NULL;
        size_t n_log_names = 0;
        HealthzAnswer a = {};
        CriStatus st = {};
        struct stat sst;
        int r;

        /* Cheap first: a kubelet that does not answer its healthz is not asked anything else. */
        r = healthz_query(KUBELET_HEALTHZ_HOST, KUBELET_HEALTHZ_PORT, KUBELET_HEALTHZ_TIMEOUT, &a);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return source_fail(
                        &s->kubelet,
                        "healthz on %s:%u: %s",
                        KUBELET_HEALTHZ_HOST,
                        KUBELET_HEALTHZ_PORT,
                        r == -EBADMSG ? "not an HTTP answer" : ERRNO_WORDS(r));
        if (r == 0)
                return source_fail(
                        &s->kubelet,
                        "healthz on %s:%u: HTTP %d%s%s%s",
                        KUBELET_HEALTHZ_HOST,
                        KUBELET_HEALTHZ_PORT,
                        a.http_status,
                        a.excerpt[0] ? ", \"" : "",
                        a.excerpt,
                        a.excerpt[0] ? "\"" : "");

        r = path_join(root_dir, "pod-resources/kubelet.sock", &socket_path);
        if (r < 0)
                return r;
        /* The kubelet creates its pod-resources socket at start: its change time is the start. */
        if (stat(socket_path, &sst) >= 0)
                s->kubelet_started = timespec_to_usec(&sst.st_ctim);
        else
                log_debug_errno(errno, "Cannot stat %s, kubelet start time unknown: %m", socket_path);

        if (asprintf(&endpoint, "unix://%s", socket_path) < 0)
                return -ENOMEM;
        r = cri_connect(endpoint, &(CriOptions){.timeout_usec = POD_RESOURCES_TIMEOUT}, &c, &st);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = source_fail(&s->kubelet, "pod-resources: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }
        r = cri_list_pod_resources(c, &resources, &st);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = source_fail(&s->kubelet, "pod-resources List: %s", st.message ?: ERRNO_WORDS(r));
                goto finish;
        }

        r = read_dir_names(o->pod_logs_dir, &log_names, &n_log_names);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = source_fail(
                        &s->kubelet,
                        "cannot read the pod log dirs in %s: %s",
                        o->pod_logs_dir,
                        ERRNO_WORDS(r));
                goto finish;
        }
        for (size_t i = 0; i < resources.n; i++) {
                r = kubelet_pod_uids(&resources.items[i], &s->sandboxes, log_names, n_log_names, &uids);
                if (r < 0)
                        goto finish;
        }
        s->kubelet.ok = true;
        r = 0;

finish:
        uid_set_finish(&uids, &s->kubelet_uids, &s->n_kubelet_uids);
        names_free(log_names, n_log_names);
        cri_pod_resources_list_done(&resources);
        cri_status_done(&st);
        return r;
}

/* ---- disk ---------------------------------------------------------------------------------------- */

typedef struct PodDirs {
        PodDir *items;
        size_t n, allocated;
} PodDirs;

static void pod_dirs_done(PodDirs *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->items[i].uid);
                free(d->items[i].first_mount);
        }
        free(d->items);
        *d = (PodDirs){};
}

static int grow(void **items, size_t *allocated, size_t n, size_t size) {
        size_t a;
        void *p;

        if (n < *allocated)
                return 0;
        a = MAX(*allocated * 2, (size_t) 16);
        p = reallocarray(*items, a, size);
        if (!p)
                return -ENOMEM;
        *items = p;
        *allocated = a;
        return 0;
}

/* Is `target` exactly "<dir>/<name>"? */
static bool mount_is_child(const char *target, const char *dir, size_t dir_len, const char *name) {
        return strncmp(target, dir, dir_len) == 0 && target[dir_len] == '/' &&
               strcmp(target + dir_len + 1, name) == 0;
}

/* The newest change of a pod dir and its direct children (volumes/, containers/, plugins/,
 * etc-hosts, ...). Never deeper: a volume dir may be a dead NFS mount, and stat on it blocks. A
 * direct child that is itself a mount point is not stat'ed either. 0 on success, -ENOENT when the
 * dir went away meanwhile, -ENOTDIR when it is not a directory, else -errno. */
static int pod_dir_changed(
        int pods_fd,
        const char *name,
        const char *path,
        const MuMount *const *mounts,
        size_t n_mounts,
        usec_t *ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t path_len = strlen(path);
        struct dirent *de;
        struct stat st;
        usec_t changed;

        if (fstatat(pods_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        changed = stat_changed(&st);

        fd = openat(pods_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -ENOTDIR : negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);

        for (errno = 0; (de = readdir(d)); errno = 0) {
                bool mount_point = false;

                if (dot_or_dot_dot(de->d_name))
                        continue;
                for (size_t i = 0; i < n_mounts && !mount_point; i++)
                        mount_point = mount_is_child(mounts[i]->target, path, path_len, de->d_name);
                if (mount_point)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                changed = MAX(changed, stat_changed(&st));
        }
        if (errno != 0)
                return negative_errno();

        *ret = changed;
        return 0;
}

/* One entry of <root-dir>/pods: 1 added, 0 not a pod dir (not a directory, gone meanwhile). */
static int pod_dir_read(
        int pods_fd,
        const char *pods_path,
        const char *name,
        const MuMountTable *t,
        Snapshot *s,
        PodDirs *dirs) {
        _cleanup_free_ const MuMount **mounts = NULL;
        _cleanup_free_ char *path = NULL, *uid = NULL, *first_mount = NULL;
        size_t n_mounts = 0;
        usec_t changed = 0;
        bool self_mounted = false;
        int r;

        r = path_join(pods_path, name, &path);
        if (r < 0)
                return r;
        r = mu_table_mounts_beneath(t, path, &mounts, &n_mounts);
        if (r < 0)
                return r == -ENOMEM ? r
                                    : source_fail(
                                              &s->disk,
                                              "cannot match mounts beneath %s: %s",
                                              path,
                                              ERRNO_WORDS(r));
        for (size_t i = 0; i < n_mounts; i++)
                if (strcmp(mounts[i]->target, path) == 0)
                        self_mounted = true;

        if (self_mounted)
                /* Something is mounted on the pod dir itself: not even stat'ed (it could be a dead
                 * NFS mount). It cannot be reaped while mounted; "changed now" keeps it in the
                 * grace once the mount is gone, too. */
                changed = s->now;
        else {
                r = pod_dir_changed(pods_fd, name, path, mounts, n_mounts, &changed);
                if (r == -ENOENT || r == -ENOTDIR)
                        return 0;
                if (r < 0)
                        return source_fail(&s->disk, "cannot read pod dir %s: %s", path, ERRNO_WORDS(r));
        }

        uid = strdup(name);
        if (!uid)
                return -ENOMEM;
        if (n_mounts > 0) {
                /* Deepest first: the one most likely to be the volume that blocks. */
                first_mount = strdup(mounts[0]->target);
                if (!first_mount)
                        return -ENOMEM;
        }
        r = grow((void **) &dirs->items, &dirs->allocated, dirs->n, sizeof(*dirs->items));
        if (r < 0)
                return r;
        dirs->items[dirs->n++] = (PodDir){
                .uid = TAKE_PTR(uid),
                .changed = changed,
                .n_mounts = n_mounts,
                .first_mount = TAKE_PTR(first_mount),
        };
        return 1;
}

static int compare_pod_dirs(const void *a, const void *b) {
        return strcmp(((const PodDir *) a)->uid, ((const PodDir *) b)->uid);
}

/* The entries of <root-dir>/pods, with their mounts from the one mount-table snapshot `t`.
 * root_dir is canonical: the mount table is matched lexically. A missing pods/ has no pod dirs. A
 * pods/ that is a symlink is refused: the mounts beneath its target would not match. */
static int gather_pod_dirs(const char *root_dir, const MuMountTable *t, Snapshot *s) {
        _cleanup_(pod_dirs_done) PodDirs dirs = {};
        _cleanup_free_ char *pods_path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        int r;

        r = path_join(root_dir, "pods", &pods_path);
        if (r < 0)
                return r;
        fd = open(pods_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return source_fail(
                        &s->disk,
                        "cannot open %s: %s",
                        pods_path,
                        errno == ELOOP ? "a symlink" : ERRNO_WORDS(errno));
        }
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        TAKE_FD(fd);

        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (dot_or_dot_dot(de->d_name))
                        continue;
                r = pod_dir_read(dirfd(d), pods_path, de->d_name, t, s, &dirs);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return source_fail(&s->disk, "cannot read %s: %s", pods_path, ERRNO_WORDS(errno));

        if (dirs.n > 0)
                qsort(dirs.items, dirs.n, sizeof(*dirs.items), compare_pod_dirs);
        s->pod_dirs = TAKE_PTR(dirs.items);
        s->n_pod_dirs = dirs.n;
        dirs = (PodDirs){};
        return 0;
}

typedef struct LogDirs {
        LogDir *items;
        size_t n, allocated;
} LogDirs;

static void log_dirs_done(LogDirs *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->items[i].name);
                free(d->items[i].uid);
        }
        free(d->items);
        *d = (LogDirs){};
}

static int compare_log_dirs(const void *a, const void *b) {
        return strcmp(((const LogDir *) a)->name, ((const LogDir *) b)->name);
}

/* The directories in --pod-logs-dir ("<namespace>_<pod name>_<uid>", kubelet
 * BuildPodLogsDirectory). The uid is what follows the last '_'; the planner validates it. The
 * logs dir itself may be a symlink (an admin's choice of disk); its entries are never followed. */
static int gather_log_dirs(const char *logs_dir, Snapshot *s) {
        _cleanup_(log_dirs_done) LogDirs dirs = {};
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        d = opendir(logs_dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return source_fail(&s->disk, "cannot open %s: %s", logs_dir, ERRNO_WORDS(errno));
        }

        for (errno = 0; (de = readdir(d)); errno = 0) {
                _cleanup_free_ char *name = NULL, *uid = NULL;
                const char *underscore;
                struct stat st;

                if (dot_or_dot_dot(de->d_name))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return source_fail(
                                &s->disk, "cannot stat %s/%s: %s", logs_dir, de->d_name, ERRNO_WORDS(errno));
                }
                if (!S_ISDIR(st.st_mode))
                        continue;

                name = strdup(de->d_name);
                if (!name)
                        return -ENOMEM;
                underscore = strrchr(name, '_');
                if (underscore && underscore[1] != '\0') {
                        uid = strdup(underscore + 1);
                        if (!uid)
                                return -ENOMEM;
                }
                r = grow((void **) &dirs.items, &dirs.allocated, dirs.n, sizeof(*dirs.items));
                if (r < 0)
                        return r;
                dirs.items[dirs.n++] = (LogDir){
                        .name = TAKE_PTR(name),
                        .uid = TAKE_PTR(uid),
                        .changed = stat_changed(&st),
                };
        }
        if (errno != 0)
                return source_fail(&s->disk, "cannot read %s: %s", logs_dir, ERRNO_WORDS(errno));

        if (dirs.n > 0)
                qsort(dirs.items, dirs.n, sizeof(*dirs.items), compare_log_dirs);
        s->log_dirs = TAKE_PTR(dirs.items);
        s->n_log_dirs = dirs.n;
        dirs = (LogDirs){};
        return 0;
}

/* The kubelet's dead container log symlinks: *.log in --container-logs-dir that are symlinks
 * whose target is gone. lstat-free: the entry type, then fstatat following the link. */
static int gather_log_links(const char *dir, Snapshot *s) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_(uid_set_done) UidSet names = {};
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        s->log_links.ok = true;
                        return 0;
                }
                return source_fail(&s->log_links, "cannot read %s: %s", dir, ERRNO_WORDS(-errno));
        }
        for (;;) {
                struct stat st;
                size_t l;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return source_fail(
                                        &s->log_links, "cannot read %s: %s", dir, ERRNO_WORDS(-errno));
                        break;
                }
                l = strlen(de->d_name);
                if (l <= 4 || !streq(de->d_name + l - 4, ".log"))
                        continue;
                if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) >= 0 || errno != ENOENT)
                        continue; /* the target is there, or cannot tell: kept */
                r = uid_set_add(&names, de->d_name);
                if (r < 0)
                        return r;
        }
        uid_set_finish(&names, &s->dead_log_links, &s->n_dead_log_links);
        s->log_links.ok = true;
        return 0;
}

static int gather_disk(const Options *o, const char *root_dir, int root_error, Snapshot *s) {
        _cleanup_mu_table_ MuMountTable *t = NULL;
        int r;

        r = source_ok(&s->disk, "%s/pods, %s", root_dir ?: o->root_dir, o->pod_logs_dir);
        if (r < 0)
                return r;

        /* One mount-table snapshot for the whole pass. Without it (or without a canonical root
         * dir to match it against) no pod dir is listed: "no mounts" would be a claim nobody
         * checked. */
        if (!root_dir)
                r = source_fail(&s->disk, "cannot resolve %s: %s", o->root_dir, ERRNO_WORDS(root_error));
        else {
                r = mu_table_load(NULL, &t);
                if (r >= 0)
                        r = gather_pod_dirs(root_dir, t, s);
                else if (r != -ENOMEM)
                        r = source_fail(&s->disk, "cannot read the mount table: %s", ERRNO_WORDS(r));
        }
        if (r < 0)
                return r;

        return gather_log_dirs(o->pod_logs_dir, s);
}

/* ---- the pass ------------------------------------------------------------------------------------ */

int gather_snapshot(
        const Options *o,
        const CgfsHierarchies *h,
        CriClient *cri,
        const char *connect_error,
        Snapshot *ret) {
        _cleanup_(snapshot_done) Snapshot s = {};
        _cleanup_free_ char *root_dir = NULL;
        int r, root_error = 0;

        if (!o || !ret)
                return -EINVAL;

        s.now = now_usec(CLOCK_REALTIME);

        /* Cgroups before anything else: a pod created during the pass has a sandbox by the time the
         * runtime is asked, so it can never be seen as a cgroup nobody knows. */
        r = gather_cgroups(o, h, &s);
        if (r < 0)
                return r;

        /* Canonical once, for the lexical match against the mount table (a symlinked
         * /var/lib/kubelet is common). */
        root_dir = realpath(o->root_dir, NULL);
        if (!root_dir) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                root_error = errno;
        }

        r = gather_cri(cri, connect_error, &s);
        if (r < 0)
                return r;
        r = gather_kubelet(o, root_dir ?: o->root_dir, &s);
        if (r < 0)
                return r;
        r = gather_cgroup_details(o, h, &s);
        if (r < 0)
                return r;
        if (o->only & KIND_IMAGES) {
                r = gather_images(cri, &s);
                if (r < 0)
                        return r;
        }

        r = gather_disk(o, root_dir, root_error, &s);
        if (r < 0)
                return r;
        if (o->only & KIND_LOGS) {
                r = gather_log_links(o->container_logs_dir, &s);
                if (r < 0)
                        return r;
        }

        log_debug(
                "Snapshot: %zu pod cgroups, %zu uids in the runtime, %zu in the kubelet, %zu pod dirs, "
                "%zu log dirs",
                s.pod_cgroups.n,
                s.n_cri_uids,
                s.n_kubelet_uids,
                s.n_pod_dirs,
                s.n_log_dirs);
        *ret = s;
        s = (Snapshot){};
        return 0;
}
