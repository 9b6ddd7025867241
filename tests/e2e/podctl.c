/* SPDX-License-Identifier: MIT */
/*
 * podctl: what the kubelet would do to the runtime, for the e2e scripts and the demo, through
 * podreaper's own CRI client. The endpoint comes from $PODREAPER_TEST_CRI_ENDPOINT.
 *
 *   podctl run-pod UID NAME NAMESPACE KUBEPODS LOG_DIR   a running pod like the kubelet's: a
 *        host-network sandbox in /<KUBEPODS>/besteffort/pod<UID>, labelled as the kubelet labels it,
 *        and one busybox container sleeping in it; prints "<sandbox id> <container id>".
 *        KUBEPODS may name the QoS class, KUBEPODS/QOS (besteffort, burstable, guaranteed), and
 *        the systemd driver's layout when it ends in ".slice": kubepods.slice/burstable gives the
 *        cgroup parent kubepods-burstable-pod<UID with _>.slice, as the kubelet passes it
 *   podctl rm-pod UID    stop and remove every container and sandbox of UID (the pod is deleted)
 *   podctl has-pod UID   exit 0 if the runtime has a sandbox of UID in any state, 1 if not
 *
 * For the runtime-GC scripts (kinds containers, sandboxes, images, logs):
 *   podctl run-sandbox UID NAME NAMESPACE KUBEPODS LOG_DIR ATTEMPT   a host-network sandbox like
 *        run-pod's, attempt ATTEMPT, without containers; prints its id
 *   podctl stop-sandbox ID        StopPodSandbox: the sandbox becomes NOTREADY
 *   podctl add-container SANDBOX_ID KUBEPODS LOG_DIR NAME ATTEMPT STATE [IMAGE [POD_UID]]
 *        a container NAME, attempt ATTEMPT, in the sandbox (the sandbox config is rebuilt from its
 *        metadata, cgroup parent as run-pod's), labelled as the kubelet labels
 *        it with io.kubernetes.pod.uid=POD_UID (default: the sandbox's uid), image IMAGE (default
 *        busybox). STATE: created (never started), running (sleeps), exited (runs /bin/true;
 *        returns once the runtime says EXITED). Its log goes to LOG_DIR/NAME/ATTEMPT.log (LOG_DIR
 *        must exist). Prints the container id.
 *   podctl rm-container ID        stop (timeout 0) and remove one container
 *   podctl list-containers        every container: "id pod-uid name attempt state sandbox-id
 *        image-ref created-ns", state CREATED|RUNNING|EXITED|UNKNOWN
 *   podctl list-sandboxes         every sandbox: "id pod-uid name attempt state created-ns",
 *        state READY|NOTREADY
 *   podctl list-images            every image: "id size tag,tag,..." ("-" without tags)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cri/cri.h"
#include "util/macro.h"

#define BUSYBOX_IMAGE "docker.io/library/busybox:1.35"

static CriClient *client;

static int fail(const char *what, int r, CriStatus *st) {
        fprintf(stderr, "podctl: %s: %s\n", what, st->message ?: strerror(-r));
        cri_status_done(st);
        return 1;
}

/* A host-network sandbox's config as the kubelet's: the cgroup parent of cgroup_parent_for(), the
 * kubelet's labels. Points to the caller's strings and into itself: do not move it. */
typedef struct SandboxSpec {
        char *cgroup_parent;
        const char *labels[7];
        CriPodSandboxConfig config;
} SandboxSpec;

static void sandbox_spec_done(SandboxSpec *spec) {
        free(spec->cgroup_parent);
}

/* KUBEPODS[/QOS] -> the cgroup parent the kubelet passes for that QoS class (default besteffort):
 * /<kubepods>/<qos>/pod<uid> (guaranteed: /<kubepods>/pod<uid>) for the cgroupfs driver; when
 * KUBEPODS ends in ".slice", the systemd driver's slice name kubepods-<qos>-pod<uid_>.slice, which
 * the runtime expands into its parent slices. */
static int cgroup_parent_for(const char *kubepods_qos, const char *uid, char **ret) {
        _cleanup_free_ char *kubepods = strdup(kubepods_qos), *uid_ = strdup(uid);
        const char *qos = "besteffort";
        char *slash, *p;
        int r;

        if (!kubepods || !uid_)
                return -ENOMEM;
        slash = strchr(kubepods, '/');
        if (slash) {
                *slash = '\0';
                qos = slash + 1;
        }
        if (!streq(qos, "besteffort") && !streq(qos, "burstable") && !streq(qos, "guaranteed"))
                return -EINVAL;
        bool guaranteed = streq(qos, "guaranteed");
        size_t n = strlen(kubepods);
        if (n > 6 && streq(kubepods + n - 6, ".slice")) {
                kubepods[n - 6] = '\0';
                for (p = uid_; *p; p++)
                        if (*p == '-')
                                *p = '_';
                r = asprintf(
                        ret,
                        "%s-%s%spod%s.slice",
                        kubepods,
                        guaranteed ? "" : qos,
                        guaranteed ? "" : "-",
                        uid_);
        } else
                r = asprintf(
                        ret, "/%s/%s%spod%s", kubepods, guaranteed ? "" : qos, guaranteed ? "" : "/", uid);
        return r < 0 ? -ENOMEM : 0;
}

static int sandbox_spec_init(
        SandboxSpec *spec,
        const char *uid,
        const char *name,
        const char *ns,
        const char *kubepods,
        const char *log_dir,
        uint32_t attempt) {
        *spec = (SandboxSpec){
                .labels =
                        {"io.kubernetes.pod.uid",
                         uid,
                         "io.kubernetes.pod.name",
                         name,
                         "io.kubernetes.pod.namespace",
                         ns,
                         NULL},
        };
        if (cgroup_parent_for(kubepods, uid, &spec->cgroup_parent) < 0) {
                fprintf(stderr,
                        "podctl: bad KUBEPODS '%s' (NAME[/QOS], QOS besteffort|burstable|guaranteed)\n",
                        kubepods);
                return 1;
        }
        spec->config = (CriPodSandboxConfig){
                .name = name,
                .namespace = ns,
                .uid = uid,
                .attempt = attempt,
                .hostname = "",
                .log_directory = log_dir,
                .cgroup_parent = spec->cgroup_parent,
                .host_network = true,
                .labels = spec->labels,
        };
        return 0;
}

/* Polls the container until the runtime reports it EXITED (10 s at most). */
static int wait_exited(const char *id) {
        for (int i = 0; i < 1000; i++) {
                CriContainerStatus cs = {};
                CriStatus st = {};
                int r = cri_container_status(client, id, false, &cs, &st);
                if (r < 0)
                        return fail("ContainerStatus", r, &st);
                int state = cs.state;
                cri_container_status_done(&cs);
                if (state == CRI_CONTAINER_EXITED)
                        return 0;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        fprintf(stderr, "podctl: container %s did not exit within 10 s\n", id);
        return 1;
}

/* A container NAME, attempt ATTEMPT, in the sandbox, labelled as the kubelet labels it (pod uid
 * label: pod_uid), left in `state`: created, running (sleeps) or exited (ran /bin/true). Its log is
 * <log dir>/NAME/ATTEMPT.log. */
static int container_add(
        const char *sandbox_id,
        const SandboxSpec *spec,
        const char *pod_uid,
        const char *name,
        uint32_t attempt,
        const char *state,
        const char *image,
        char **ret_id) {
        static const char *const sleep_command[] = {"/bin/sleep", "100000", NULL};
        static const char *const true_command[] = {"/bin/true", NULL};
        _cleanup_free_ char *log_path = NULL, *log_sub = NULL, *id = NULL;
        const char *const labels[] = {
                "io.kubernetes.pod.uid",
                pod_uid,
                "io.kubernetes.pod.name",
                spec->config.name,
                "io.kubernetes.pod.namespace",
                spec->config.namespace,
                "io.kubernetes.container.name",
                name,
                NULL,
        };
        CriStatus st = {};
        int r, ret;

        if (asprintf(&log_path, "%s/%u.log", name, attempt) < 0 ||
            asprintf(&log_sub, "%s/%s", spec->config.log_directory, name) < 0)
                return 1;
        /* The kubelet makes the container's log dir before CreateContainer; containerd does not. */
        if ((mkdir(spec->config.log_directory, 0755) < 0 && errno != EEXIST) ||
            (mkdir(log_sub, 0755) < 0 && errno != EEXIST)) {
                fprintf(stderr, "podctl: mkdir %s: %m\n", log_sub);
                return 1;
        }
        CriContainerConfig container = {
                .name = name,
                .attempt = attempt,
                .image = image,
                .command = streq(state, "exited") ? true_command : sleep_command,
                .labels = labels,
                .log_path = log_path,
        };
        r = cri_create_container(client, sandbox_id, &container, &spec->config, &id, &st);
        if (r < 0)
                return fail("CreateContainer", r, &st);
        if (!streq(state, "created")) {
                r = cri_start_container(client, id, &st);
                if (r < 0)
                        return fail("StartContainer", r, &st);
        }
        ret = streq(state, "exited") ? wait_exited(id) : 0;
        if (ret == 0)
                *ret_id = TAKE_PTR(id);
        return ret;
}

static int
run_pod(const char *uid, const char *name, const char *ns, const char *kubepods, const char *log_dir) {
        _cleanup_(sandbox_spec_done) SandboxSpec spec = {};
        _cleanup_free_ char *sandbox_id = NULL, *container_id = NULL;
        CriStatus st = {};
        int r;

        if (sandbox_spec_init(&spec, uid, name, ns, kubepods, log_dir, 0) != 0)
                return 1;
        r = cri_run_pod_sandbox(client, &spec.config, &sandbox_id, &st);
        if (r < 0)
                return fail("RunPodSandbox", r, &st);
        r = container_add(sandbox_id, &spec, uid, "app", 0, "running", BUSYBOX_IMAGE, &container_id);
        if (r != 0)
                return r;
        printf("%s %s\n", sandbox_id, container_id);
        return 0;
}

static int rm_pod(const char *uid) {
        const char *const selector[] = {"io.kubernetes.pod.uid", uid, NULL};
        CriContainerList containers = {};
        CriPodSandboxList sandboxes = {};
        CriStatus st = {};
        int r, ret = 0;

        r = cri_list_containers(
                client, &(CriContainerFilter){.state = -1, .label_selector = selector}, &containers, &st);
        if (r < 0)
                return fail("ListContainers", r, &st);
        for (size_t i = 0; i < containers.n; i++) {
                (void) cri_stop_container(client, containers.items[i].id, 0, &st);
                cri_status_done(&st);
                r = cri_remove_container(client, containers.items[i].id, &st);
                if (r < 0)
                        ret = fail("RemoveContainer", r, &st);
        }
        cri_container_list_done(&containers);

        r = cri_list_pod_sandboxes(
                client, &(CriPodSandboxFilter){.state = -1, .label_selector = selector}, &sandboxes, &st);
        if (r < 0)
                return fail("ListPodSandbox", r, &st);
        for (size_t i = 0; i < sandboxes.n; i++) {
                (void) cri_stop_pod_sandbox(client, sandboxes.items[i].id, &st);
                cri_status_done(&st);
                r = cri_remove_pod_sandbox(client, sandboxes.items[i].id, &st);
                if (r < 0)
                        ret = fail("RemovePodSandbox", r, &st);
        }
        cri_pod_sandbox_list_done(&sandboxes);
        return ret;
}

static int has_pod(const char *uid) {
        const char *const selector[] = {"io.kubernetes.pod.uid", uid, NULL};
        CriPodSandboxList sandboxes = {};
        CriStatus st = {};

        int r = cri_list_pod_sandboxes(
                client, &(CriPodSandboxFilter){.state = -1, .label_selector = selector}, &sandboxes, &st);
        if (r < 0)
                return fail("ListPodSandbox", r, &st) + 1;
        r = sandboxes.n > 0 ? 0 : 1;
        cri_pod_sandbox_list_done(&sandboxes);
        return r;
}

static int parse_attempt(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX) {
                fprintf(stderr, "podctl: bad attempt '%s'\n", s);
                return -EINVAL;
        }
        *ret = (uint32_t) v;
        return 0;
}

static int run_sandbox(
        const char *uid,
        const char *name,
        const char *ns,
        const char *kubepods,
        const char *log_dir,
        const char *attempt_s) {
        _cleanup_(sandbox_spec_done) SandboxSpec spec = {};
        _cleanup_free_ char *sandbox_id = NULL;
        CriStatus st = {};
        uint32_t attempt;
        int r;

        if (parse_attempt(attempt_s, &attempt) < 0)
                return 2;
        if (sandbox_spec_init(&spec, uid, name, ns, kubepods, log_dir, attempt) != 0)
                return 1;
        r = cri_run_pod_sandbox(client, &spec.config, &sandbox_id, &st);
        if (r < 0)
                return fail("RunPodSandbox", r, &st);
        printf("%s\n", sandbox_id);
        return 0;
}

static int stop_sandbox(const char *id) {
        CriStatus st = {};
        int r = cri_stop_pod_sandbox(client, id, &st);

        return r < 0 ? fail("StopPodSandbox", r, &st) : 0;
}

static int add_container(char *argv[], int argc) {
        const char *sandbox_id = argv[0], *kubepods = argv[1], *log_dir = argv[2], *name = argv[3],
                   *state = argv[5];
        const char *image = argc > 6 ? argv[6] : BUSYBOX_IMAGE;
        _cleanup_(sandbox_spec_done) SandboxSpec spec = {};
        _cleanup_free_ char *container_id = NULL;
        CriPodSandboxList sandboxes = {};
        CriStatus st = {};
        uint32_t attempt;
        int r, ret;

        if (parse_attempt(argv[4], &attempt) < 0)
                return 2;
        if (!streq(state, "created") && !streq(state, "running") && !streq(state, "exited")) {
                fprintf(stderr, "podctl: STATE must be created, running or exited, not '%s'\n", state);
                return 2;
        }

        /* The sandbox config is rebuilt from its metadata: CreateContainer wants it again. */
        r = cri_list_pod_sandboxes(
                client, &(CriPodSandboxFilter){.id = sandbox_id, .state = -1}, &sandboxes, &st);
        if (r < 0)
                return fail("ListPodSandbox", r, &st);
        if (sandboxes.n != 1) {
                fprintf(stderr, "podctl: no sandbox %s\n", sandbox_id);
                cri_pod_sandbox_list_done(&sandboxes);
                return 1;
        }
        const CriPodSandbox *sb = &sandboxes.items[0];
        ret = sandbox_spec_init(
                &spec, sb->pod_uid, sb->pod_name, sb->pod_namespace, kubepods, log_dir, sb->attempt);
        if (ret == 0)
                ret = container_add(
                        sandbox_id,
                        &spec,
                        argc > 7 ? argv[7] : sb->pod_uid,
                        name,
                        attempt,
                        state,
                        image,
                        &container_id);
        if (ret == 0)
                printf("%s\n", container_id);
        cri_pod_sandbox_list_done(&sandboxes);
        return ret;
}

static int rm_container(const char *id) {
        CriStatus st = {};
        int r;

        (void) cri_stop_container(client, id, 0, &st);
        cri_status_done(&st);
        r = cri_remove_container(client, id, &st);
        return r < 0 ? fail("RemoveContainer", r, &st) : 0;
}

static const char *state_name(const char *s) {
        return s && strncmp(s, "CONTAINER_", 10) == 0 ? s + 10
               : s && strncmp(s, "SANDBOX_", 8) == 0  ? s + 8
                                                      : s;
}

static int list_containers(void) {
        CriContainerList l = {};
        CriStatus st = {};
        int r = cri_list_containers(client, &(CriContainerFilter){.state = -1}, &l, &st);

        if (r < 0)
                return fail("ListContainers", r, &st);
        for (size_t i = 0; i < l.n; i++) {
                const CriContainer *c = &l.items[i];
                const char *uid = cri_map_get(&c->labels, "io.kubernetes.pod.uid");
                const char *state = state_name(cri_container_state_to_string(c->state));

                printf("%s %s %s %u %s %s %s %lld\n",
                       c->id,
                       uid && *uid ? uid : "-",
                       *c->name ? c->name : "-",
                       c->attempt,
                       state ?: "?",
                       *c->pod_sandbox_id ? c->pod_sandbox_id : "-",
                       *c->image_ref ? c->image_ref : "-",
                       (long long) c->created_at);
        }
        cri_container_list_done(&l);
        return 0;
}

static int list_sandboxes(void) {
        CriPodSandboxList l = {};
        CriStatus st = {};
        int r = cri_list_pod_sandboxes(client, &(CriPodSandboxFilter){.state = -1}, &l, &st);

        if (r < 0)
                return fail("ListPodSandbox", r, &st);
        for (size_t i = 0; i < l.n; i++) {
                const CriPodSandbox *s = &l.items[i];
                const char *state = state_name(cri_pod_sandbox_state_to_string(s->state));

                printf("%s %s %s %u %s %lld\n",
                       s->id,
                       *s->pod_uid ? s->pod_uid : "-",
                       *s->pod_name ? s->pod_name : "-",
                       s->attempt,
                       state ?: "?",
                       (long long) s->created_at);
        }
        cri_pod_sandbox_list_done(&l);
        return 0;
}

static int list_images(void) {
        CriImageList l = {};
        CriStatus st = {};
        int r = cri_list_images(client, &l, &st);

        if (r < 0)
                return fail("ListImages", r, &st);
        for (size_t i = 0; i < l.n; i++) {
                const CriImage *im = &l.items[i];

                printf("%s %llu ", im->id, (unsigned long long) im->size);
                for (size_t j = 0; j < im->n_repo_tags; j++)
                        printf("%s%s", j > 0 ? "," : "", im->repo_tags[j]);
                printf("%s\n", im->n_repo_tags == 0 ? "-" : "");
        }
        cri_image_list_done(&l);
        return 0;
}

int main(int argc, char *argv[]) {
        const char *endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        CriStatus st = {};
        int r;

        if (!endpoint) {
                fprintf(stderr,
                        "podctl: set PODREAPER_TEST_CRI_ENDPOINT (tests/e2e/with-containerd.sh does)\n");
                return 2;
        }
        r = cri_connect(endpoint, NULL, &client, &st);
        if (r < 0)
                return fail("connect", r, &st) + 1;

        if (argc == 7 && strcmp(argv[1], "run-pod") == 0)
                r = run_pod(argv[2], argv[3], argv[4], argv[5], argv[6]);
        else if (argc == 3 && strcmp(argv[1], "rm-pod") == 0)
                r = rm_pod(argv[2]);
        else if (argc == 3 && strcmp(argv[1], "has-pod") == 0)
                r = has_pod(argv[2]);
        else if (argc == 8 && streq(argv[1], "run-sandbox"))
                r = run_sandbox(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
        else if (argc == 3 && streq(argv[1], "stop-sandbox"))
                r = stop_sandbox(argv[2]);
        else if (argc >= 8 && argc <= 10 && streq(argv[1], "add-container"))
                r = add_container(argv + 2, argc - 2);
        else if (argc == 3 && streq(argv[1], "rm-container"))
                r = rm_container(argv[2]);
        else if (argc == 2 && streq(argv[1], "list-containers"))
                r = list_containers();
        else if (argc == 2 && streq(argv[1], "list-sandboxes"))
                r = list_sandboxes();
        else if (argc == 2 && streq(argv[1], "list-images"))
                r = list_images();
        else {
                fprintf(stderr,
                        "usage: podctl run-pod UID NAME NAMESPACE KUBEPODS LOG_DIR | rm-pod UID | has-pod "
                        "UID\n"
                        "       | run-sandbox UID NAME NAMESPACE KUBEPODS LOG_DIR ATTEMPT | stop-sandbox "
                        "ID\n"
                        "       | add-container SANDBOX_ID KUBEPODS LOG_DIR NAME ATTEMPT "
                        "created|running|exited\n"
                        "         [IMAGE [POD_UID]] | rm-container ID\n"
                        "       | list-containers | list-sandboxes | list-images\n");
                r = 2;
        }
        cri_client_free(client);
        return r;
}
