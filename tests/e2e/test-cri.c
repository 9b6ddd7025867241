/* SPDX-License-Identifier: MIT */
/* e2e tests for cri/ against a real containerd (tests/e2e/with-containerd.sh): every typed call,
 * a full pod lifecycle (sandbox, container, list with filters, status, stop, remove), images,
 * ImageFsInfo, errors from the real runtime, and a concurrent batch of removals.
 *
 * Every test registers what it creates; its teardown removes it again (sandboxes with their
 * containers, the extra image), also when the test failed halfway. Pod cgroups go under the run's
 * own kubepods name; with-containerd.sh removes that tree at the end. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cri/cri.h"
#include "util/macro.h"

#define SANDBOX_IMAGE "registry.k8s.io/pause:3.9"
#define BUSYBOX_IMAGE "docker.io/library/busybox:1.35"
#define NAMESPACE "podreaper-e2e"
#define MISSING_ID "0000000000000000000000000000000000000000000000000000000000000000"
#define MAX_CREATED 8

extern char **environ;

static const char *endpoint;
static const char *kubepods;
static CriClient *client;

/* What the running test created, for its teardown. */
static char *created_sandboxes[MAX_CREATED];
static char *created_image;
static unsigned pod_counter;

typedef struct Pod {
        char uid[37];
        char *name;
        char *cgroup_parent;
        const char *labels[9];
        CriPodSandboxConfig config;
        char *sandbox_id; /* borrowed from created_sandboxes */
} Pod;

/* Fails the test with the call's status. */
#define assert_cri_ok(r, st) \
        do { \
                if ((r) < 0) \
                        fail_msg( \
                                "%s:%d: %s: %s (%s)", \
                                __FILE__, \
                                __LINE__, \
                                strerror(-(r)), \
                                (st).message ?: "(no message)", \
                                cri_code_to_string((st).code) ?: "?"); \
                cri_status_done(&(st)); \
        } while (0)

static void random_uuid(char ret[static 37]) {
        FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

        assert_non_null(f);
        assert_non_null(fgets(ret, 37, f));
        fclose(f);
        assert_int_equal(strlen(ret), 36);
}

/* Takes the id; returns it, owned by the registry. */
static char *register_sandbox(char *id) {
        for (size_t i = 0; i < MAX_CREATED; i++)
                if (!created_sandboxes[i])
                        return created_sandboxes[i] = id;
        fail_msg("more than %d sandboxes in one test", MAX_CREATED);
        return NULL;
}

static void pod_done(Pod *p) {
        free(p->name);
        free(p->cgroup_parent);
}

/* Runs a host-network sandbox for a new pod, as the kubelet would for a BestEffort pod. */
static void pod_run(Pod *p, const char *role) {
        CriStatus st = {};
        char *id = NULL;
        int r;

        *p = (Pod){};
        random_uuid(p->uid);
        assert_true(asprintf(&p->name, "e2e-%s-%u", role, ++pod_counter) > 0);
        assert_true(asprintf(&p->cgroup_parent, "/%s/besteffort/pod%s", kubepods, p->uid) > 0);
        p->labels[0] = "io.kubernetes.pod.uid";
        p->labels[1] = p->uid;
        p->labels[2] = "io.kubernetes.pod.name";
        p->labels[3] = p->name;
        p->labels[4] = "io.kubernetes.pod.namespace";
        p->labels[5] = NAMESPACE;
        p->labels[6] = "podreaper.test/role";
        p->labels[7] = role;
        p->labels[8] = NULL;
        p->config = (CriPodSandboxConfig){
                .name = p->name,
                .namespace = NAMESPACE,
                .uid = p->uid,
                .hostname = "", /* host network: must be empty */
                .cgroup_parent = p->cgroup_parent,
                .host_network = true,
                .labels = p->labels,
                .annotations = (const char *const[]){"podreaper.test/annotation", "yes", NULL},
        };

        r = cri_run_pod_sandbox(client, &p->config, &id, &st);
        assert_cri_ok(r, st);
        assert_non_null(id);
        assert_int_equal(strlen(id), 64);
        p->sandbox_id = register_sandbox(id);
}

/* Creates (and with start, starts) a busybox container running `sleep 1000` in the pod. */
static char *container_create(Pod *p, const char *name, bool start) {
        const char *labels[] = {
                "io.kubernetes.pod.uid",
                p->uid,
                "io.kubernetes.pod.name",
                p->name,
                "io.kubernetes.pod.namespace",
                NAMESPACE,
                "io.kubernetes.container.name",
                name,
                NULL,
        };
        const CriContainerConfig config = {
                .name = name,
                .image = BUSYBOX_IMAGE,
                .command = (const char *const[]){"/bin/sleep", "1000", NULL},
                .envs = (const char *const[]){"PODREAPER_E2E", "1", NULL},
                .labels = labels,
        };
        CriStatus st = {};
        char *id = NULL;
        int r;

        r = cri_create_container(client, p->sandbox_id, &config, &p->config, &id, &st);
        assert_cri_ok(r, st);
        assert_non_null(id);
        assert_int_equal(strlen(id), 64);
        if (start) {
                r = cri_start_container(client, id, &st);
                assert_cri_ok(r, st);
        }
        return id;
}

static size_t count_containers(const CriContainerFilter *f) {
        CriContainerList l = {};
        CriStatus st = {};
        size_t n;
        int r;

        r = cri_list_containers(client, f, &l, &st);
        assert_cri_ok(r, st);
        n = l.n;
        cri_container_list_done(&l);
        return n;
}

static size_t count_sandboxes(const CriPodSandboxFilter *f) {
        CriPodSandboxList l = {};
        CriStatus st = {};
        size_t n;
        int r;

        r = cri_list_pod_sandboxes(client, f, &l, &st);
        assert_cri_ok(r, st);
        n = l.n;
        cri_pod_sandbox_list_done(&l);
        return n;
}

static bool image_listed(const char *ref) {
        CriImageList l = {};
        CriStatus st = {};
        bool found = false;
        int r;

        r = cri_list_images(client, &l, &st);
        assert_cri_ok(r, st);
        for (size_t i = 0; i < l.n; i++)
                for (size_t j = 0; j < l.items[i].n_repo_tags; j++)
                        if (strcmp(l.items[i].repo_tags[j], ref) == 0)
                                found = true;
        cri_image_list_done(&l);
        return found;
}

/* ---- setup and teardown ------------------------------------------------------------------------- */

static int group_setup(void **state) {
        const CriOptions opts = {.timeout_usec = 60ULL * 1000 * 1000};
        CriStatus st = {};
        int r;

        (void) state;
        r = cri_connect(endpoint, &opts, &client, &st);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", endpoint, st.message);
                cri_status_done(&st);
                return -1;
        }
        return 0;
}

static int group_teardown(void **state) {
        (void) state;
        client = cri_client_free(client);
        return 0;
}

/* Removes what the test created; RemovePodSandbox also removes the sandbox's containers. */
static int teardown_created(void **state) {
        CriStatus st = {};
        int ret = 0;

        (void) state;
        for (size_t i = 0; i < MAX_CREATED; i++) {
                char *id = created_sandboxes[i];
                int r;

                if (!id)
                        continue;
                (void) cri_stop_pod_sandbox(client, id, &st);
                cri_status_done(&st);
                r = cri_remove_pod_sandbox(client, id, &st);
                if (r < 0 && r != -ENOENT) {
                        fprintf(stderr, "teardown: cannot remove sandbox %s: %s\n", id, st.message);
                        ret = -1;
                }
                cri_status_done(&st);
                free(id);
                created_sandboxes[i] = NULL;
        }
        if (created_image) {
                int r = cri_remove_image(client, created_image, &st);

                if (r < 0 && r != -ENOENT) {
                        fprintf(stderr, "teardown: cannot remove image %s: %s\n", created_image, st.message);
                        ret = -1;
                }
                cri_status_done(&st);
                free(created_image);
                created_image = NULL;
        }
        return ret;
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void test_version(void **state) {
        CriVersion v = {};
        CriStatus st = {};
        int r;

        (void) state;
        r = cri_version(client, &v, &st);
        assert_cri_ok(r, st);
        assert_string_equal(v.runtime_name, "containerd");
        assert_string_equal(v.runtime_api_version, "v1");
        assert_true(v.runtime_version[0] != '\0');
        assert_true(v.version[0] != '\0');
        cri_version_done(&v);
        assert_null(v._message);
}

static void test_status_verbose(void **state) {
        CriRuntimeStatus s = {};
        CriStatus st = {};
        const char *config;
        bool runtime_ready = false;
        int r;

        (void) state;
        r = cri_runtime_status(client, true, &s, &st);
        assert_cri_ok(r, st);
        for (size_t i = 0; i < s.n_conditions; i++)
                if (strcmp(s.conditions[i].type, "RuntimeReady") == 0)
                        runtime_ready = s.conditions[i].status;
        assert_true(runtime_ready);
        /* containerd's verbose info: its CRI config as JSON, which names the sandbox image. */
        config = cri_map_get(&s.info, "config");
        assert_non_null(config);
        if (!strstr(config, "\"sandboxImage\":\"" SANDBOX_IMAGE "\""))
                fail_msg("no sandboxImage %s in the info's config: %.300s", SANDBOX_IMAGE, config);
        cri_runtime_status_done(&s);

        /* Not verbose: no info. */
        r = cri_runtime_status(client, false, &s, &st);
        assert_cri_ok(r, st);
        assert_int_equal(s.info.n, 0);
        assert_true(s.n_conditions >= 1);
        cri_runtime_status_done(&s);
}

static void test_runtime_config(void **state) {
        CriCgroupDriver driver = (CriCgroupDriver) -1;
        CriStatus st = {};
        int r;

        (void) state;
        r = cri_runtime_config(client, &driver, &st);
        if (r == 0) {
                /* A runtime with CRI >= 1.28: containerd is configured with SystemdCgroup = false. */
                assert_int_equal(driver, CRI_CGROUP_DRIVER_CGROUPFS);
                assert_int_equal(st.code, CRI_CODE_OK);
                return;
        }
        /* containerd 1.6 */
        assert_int_equal(r, -EOPNOTSUPP);
        assert_int_equal(st.code, CRI_CODE_UNIMPLEMENTED);
        assert_non_null(st.message);
        assert_int_equal(driver, (CriCgroupDriver) -1); /* not written */
        cri_status_done(&st);
}

/* The container's main process lives in the pod cgroup given as cgroup_parent. */
static void assert_in_pod_cgroup(const CriContainerStatus *cs, const Pod *p) {
        _cleanup_free_ char *path = NULL, *want = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const char *info = cri_map_get(&cs->info, "info"), *pid_at;
        size_t size = 0;
        bool found = false;
        long pid;

        assert_non_null(info);
        pid_at = strstr(info, "\"pid\":");
        assert_non_null(pid_at);
        pid = strtol(pid_at + 6, NULL, 10);
        assert_true(pid > 0);

        assert_true(asprintf(&path, "/proc/%ld/cgroup", pid) > 0);
        assert_true(asprintf(&want, "%s/", p->cgroup_parent) > 0);
        f = fopen(path, "re");
        assert_non_null(f);
        while (getline(&line, &size, f) > 0)
                if (strstr(line, want))
                        found = true;
        if (!found)
                fail_msg("pid %ld is not in a cgroup below %s", pid, p->cgroup_parent);
}

static void test_pod_lifecycle(void **state) {
        _cleanup_free_ char *cid = NULL;
        CriContainerStatus cs = {};
        CriContainerList cl = {};
        CriPodSandboxList sl = {};
        CriStatus st = {};
        Pod p;
        int r;

        (void) state;
        pod_run(&p, "lifecycle");
        cid = container_create(&p, "sleeper", true);

        /* ListPodSandbox by id: metadata, state, labels, annotations as given. */
        r = cri_list_pod_sandboxes(
                client, &(CriPodSandboxFilter){.id = p.sandbox_id, .state = -1}, &sl, &st);
        assert_cri_ok(r, st);
        assert_int_equal(sl.n, 1);
        assert_string_equal(sl.items[0].id, p.sandbox_id);
        assert_string_equal(sl.items[0].pod_name, p.name);
        assert_string_equal(sl.items[0].pod_namespace, NAMESPACE);
        assert_string_equal(sl.items[0].pod_uid, p.uid);
        assert_int_equal(sl.items[0].state, CRI_SANDBOX_READY);
        assert_true(sl.items[0].created_at > 0);
        assert_string_equal(cri_map_get(&sl.items[0].labels, "io.kubernetes.pod.uid"), p.uid);
        assert_string_equal(cri_map_get(&sl.items[0].annotations, "podreaper.test/annotation"), "yes");
        cri_pod_sandbox_list_done(&sl);

        /* ListContainers by the pod's uid label. */
        r = cri_list_containers(
                client,
                &(CriContainerFilter){
                        .state = -1,
                        .label_selector = (const char *const[]){"io.kubernetes.pod.uid", p.uid, NULL},
                },
                &cl,
                &st);
        assert_cri_ok(r, st);
        assert_int_equal(cl.n, 1);
        assert_string_equal(cl.items[0].id, cid);
        assert_string_equal(cl.items[0].pod_sandbox_id, p.sandbox_id);
        assert_string_equal(cl.items[0].name, "sleeper");
        assert_int_equal(cl.items[0].state, CRI_CONTAINER_RUNNING);
        assert_string_equal(cl.items[0].image, BUSYBOX_IMAGE);
        assert_true(cl.items[0].image_ref[0] != '\0');
        assert_string_equal(cri_map_get(&cl.items[0].labels, "io.kubernetes.container.name"), "sleeper");
        cri_container_list_done(&cl);

        /* ContainerStatus, verbose: running, in the pod's cgroup. */
        r = cri_container_status(client, cid, true, &cs, &st);
        assert_cri_ok(r, st);
        assert_string_equal(cs.id, cid);
        assert_string_equal(cs.name, "sleeper");
        assert_int_equal(cs.state, CRI_CONTAINER_RUNNING);
        assert_true(cs.started_at >= cs.created_at && cs.created_at > 0);
        assert_int_equal(cs.finished_at, 0);
        assert_string_equal(cri_map_get(&cs.labels, "io.kubernetes.pod.uid"), p.uid);
        assert_in_pod_cgroup(&cs, &p);
        cri_container_status_done(&cs);

        /* Stop (no grace): exited, killed by SIGKILL. */
        r = cri_stop_container(client, cid, 0, &st);
        assert_cri_ok(r, st);
        r = cri_container_status(client, cid, false, &cs, &st);
        assert_cri_ok(r, st);
        assert_int_equal(cs.state, CRI_CONTAINER_EXITED);
        assert_true(cs.finished_at > 0);
        assert_int_equal(cs.exit_code, 137);
        assert_int_equal(cs.info.n, 0);
        cri_container_status_done(&cs);

        /* Remove: gone from the list; a second remove is no error (CRI: idempotent). */
        r = cri_remove_container(client, cid, &st);
        assert_cri_ok(r, st);
        assert_int_equal(count_containers(&(CriContainerFilter){.id = cid, .state = -1}), 0);
        r = cri_remove_container(client, cid, &st);
        assert_cri_ok(r, st);

        /* The sandbox: NOTREADY once stopped, gone once removed. */
        r = cri_stop_pod_sandbox(client, p.sandbox_id, &st);
        assert_cri_ok(r, st);
        r = cri_list_pod_sandboxes(
                client, &(CriPodSandboxFilter){.id = p.sandbox_id, .state = -1}, &sl, &st);
        assert_cri_ok(r, st);
        assert_int_equal(sl.n, 1);
        assert_int_equal(sl.items[0].state, CRI_SANDBOX_NOTREADY);
        cri_pod_sandbox_list_done(&sl);
        r = cri_remove_pod_sandbox(client, p.sandbox_id, &st);
        assert_cri_ok(r, st);
        assert_int_equal(count_sandboxes(&(CriPodSandboxFilter){.id = p.sandbox_id, .state = -1}), 0);

        pod_done(&p);
}

static void test_list_filters(void **state) {
        _cleanup_free_ char *a_running = NULL, *a_created = NULL, *b_running = NULL;
        Pod a, b;
        CriStatus st = {};
        int r;

        (void) state;
        pod_run(&a, "filter-a");
        pod_run(&b, "filter-b");
        a_running = container_create(&a, "running", true);
        a_created = container_create(&a, "created", false);
        b_running = container_create(&b, "running", true);

        /* Sandboxes by label, by state, by id with a mismatching label (AND). */
        assert_int_equal(
                count_sandboxes(&(CriPodSandboxFilter){
                        .state = -1,
                        .label_selector = (const char *const[]){"podreaper.test/role", "filter-a", NULL},
                }),
                1);
        assert_int_equal(
                count_sandboxes(&(CriPodSandboxFilter){
                        .state = CRI_SANDBOX_READY,
                        .label_selector =
                                (const char *const[]){"io.kubernetes.pod.namespace", NAMESPACE, NULL},
                }),
                2);
        assert_int_equal(
                count_sandboxes(&(CriPodSandboxFilter){
                        .id = a.sandbox_id,
                        .state = -1,
                        .label_selector = (const char *const[]){"podreaper.test/role", "filter-b", NULL},
                }),
                0);

        /* Containers by sandbox, by sandbox and state, by label. */
        assert_int_equal(
                count_containers(&(CriContainerFilter){.pod_sandbox_id = a.sandbox_id, .state = -1}), 2);
        assert_int_equal(
                count_containers(&(CriContainerFilter){
                        .pod_sandbox_id = a.sandbox_id, .state = CRI_CONTAINER_CREATED}),
                1);
        assert_int_equal(
                count_containers(&(CriContainerFilter){
                        .pod_sandbox_id = a.sandbox_id, .state = CRI_CONTAINER_RUNNING}),
                1);
        assert_int_equal(
                count_containers(&(CriContainerFilter){
                        .state = CRI_CONTAINER_RUNNING,
                        .label_selector =
                                (const char *const[]){"io.kubernetes.pod.namespace", NAMESPACE, NULL},
                }),
                2);
        assert_int_equal(count_containers(&(CriContainerFilter){.id = b_running, .state = -1}), 1);

        /* A stopped sandbox is listed as NOTREADY, and no longer as READY. */
        r = cri_stop_pod_sandbox(client, b.sandbox_id, &st);
        assert_cri_ok(r, st);
        assert_int_equal(
                count_sandboxes(&(CriPodSandboxFilter){.id = b.sandbox_id, .state = CRI_SANDBOX_NOTREADY}),
                1);
        assert_int_equal(
                count_sandboxes(&(CriPodSandboxFilter){.id = b.sandbox_id, .state = CRI_SANDBOX_READY}), 0);

        pod_done(&a);
        pod_done(&b);
}

static void test_images(void **state) {
        CriImageList l = {};
        CriImageFsInfo fs = {};
        CriStatus st = {};
        bool busybox = false, pause = false;
        int r;

        (void) state;
        r = cri_list_images(client, &l, &st);
        assert_cri_ok(r, st);
        assert_true(l.n >= 2);
        for (size_t i = 0; i < l.n; i++) {
                assert_true(strncmp(l.items[i].id, "sha256:", 7) == 0);
                for (size_t j = 0; j < l.items[i].n_repo_tags; j++) {
                        if (strcmp(l.items[i].repo_tags[j], BUSYBOX_IMAGE) == 0) {
                                busybox = true;
                                assert_true(l.items[i].size > 1000 * 1000); /* a static busybox */
                        }
                        if (strcmp(l.items[i].repo_tags[j], SANDBOX_IMAGE) == 0)
                                pause = true;
                }
        }
        assert_true(busybox);
        assert_true(pause);
        cri_image_list_done(&l);

        r = cri_image_fs_info(client, &fs, &st);
        assert_cri_ok(r, st);
        assert_true(fs.n_image_filesystems >= 1);
        assert_true(fs.image_filesystems[0].mountpoint[0] == '/');
        assert_true(fs.image_filesystems[0].timestamp > 0);
        /* containerd samples the usage every few seconds: present, but may still be 0. */
        assert_true(fs.image_filesystems[0].used_bytes != UINT64_MAX);
        assert_true(fs.image_filesystems[0].inodes_used != UINT64_MAX);
        if (getenv("CTD_DIR"))
                assert_true(
                        strncmp(fs.image_filesystems[0].mountpoint,
                                getenv("CTD_DIR"),
                                strlen(getenv("CTD_DIR"))) == 0);
        cri_image_fs_info_done(&fs);
}

/* An image of its own (its own id, so removing it leaves busybox alone), built and imported by
 * the e2e library. */
static void build_image(const char *ref) {
        const char *lib = getenv("PODREAPER_TEST_E2E_LIB") ?: "tests/e2e/lib/containerd.sh";
        char *argv[] = {
                (char *) "bash",
                (char *) "-c",
                (char *) ". \"$1\" && ctd_build_image \"$2\" /bin/sleep 1000",
                (char *) "bash",
                (char *) lib,
                (char *) ref,
                NULL,
        };
        pid_t pid;
        int status;

        if (!getenv("CTD_DIR") || !getenv("CTD_SOCK"))
                fail_msg("CTD_DIR/CTD_SOCK not set: run under tests/e2e/with-containerd.sh");
        assert_int_equal(posix_spawn(&pid, "/bin/bash", NULL, NULL, argv, environ), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("ctd_build_image %s failed (status 0x%x)", ref, status);
}

static void test_remove_image(void **state) {
        CriStatus st = {};
        int r;

        (void) state;
        assert_true(
                asprintf(&created_image, "docker.io/library/podreaper-e2e-extra:%d", (int) getpid()) > 0);
        build_image(created_image);
        assert_true(image_listed(created_image));

        r = cri_remove_image(client, created_image, &st);
        assert_cri_ok(r, st);
        assert_false(image_listed(created_image));
        assert_true(image_listed(BUSYBOX_IMAGE));

        /* Again: idempotent in CRI, NOT_FOUND at most. */
        r = cri_remove_image(client, created_image, &st);
        if (r < 0)
                assert_int_equal(st.code, CRI_CODE_NOT_FOUND);
        cri_status_done(&st);
}

static void test_not_found(void **state) {
        CriContainerStatus cs = {};
        CriStatus st = {};
        int r;

        (void) state;
        r = cri_container_status(client, MISSING_ID, false, &cs, &st);
        assert_int_equal(r, -ENOENT);
        assert_int_equal(st.code, CRI_CODE_NOT_FOUND);
        assert_non_null(st.message);
        assert_non_null(strstr(st.message, "not found"));
        assert_null(cs._message); /* not written */
        cri_status_done(&st);
        assert_null(st.message);

        r = cri_stop_container(client, MISSING_ID, 0, &st);
        assert_int_equal(r, -ENOENT);
        assert_int_equal(st.code, CRI_CODE_NOT_FOUND);
        cri_status_done(&st);

        /* The connection is fine after errors. */
        assert_int_equal(count_containers(&(CriContainerFilter){.id = MISSING_ID, .state = -1}), 0);
        assert_false(cri_client_is_broken(client));
}

static void test_batch_removals(void **state) {
#define N_CONTAINERS 12 /* more than the 8 streams in flight */
        char *ids[N_CONTAINERS] = {};
        CriBatchCall calls[N_CONTAINERS + 1];
        Pod p;
        int r;

        (void) state;
        pod_run(&p, "batch");
        for (size_t i = 0; i < N_CONTAINERS; i++) {
                char name[32];

                snprintf(name, sizeof(name), "c%zu", i);
                ids[i] = container_create(&p, name, i % 2 == 0);
        }
        assert_int_equal(
                count_containers(&(CriContainerFilter){.pod_sandbox_id = p.sandbox_id, .state = -1}),
                N_CONTAINERS);

        /* Stop all, with one id the runtime does not know in the middle: only that one fails. */
        for (size_t i = 0; i <= N_CONTAINERS; i++)
                calls[i] = (CriBatchCall){
                        .op = CRI_BATCH_STOP_CONTAINER,
                        .id = i == N_CONTAINERS / 2 ? MISSING_ID : ids[i < N_CONTAINERS / 2 ? i : i - 1],
                };
        r = cri_batch_run(client, calls, N_CONTAINERS + 1);
        assert_int_equal(r, 1);
        for (size_t i = 0; i <= N_CONTAINERS; i++) {
                if (i == N_CONTAINERS / 2) {
                        assert_int_equal(calls[i].result, -ENOENT);
                        assert_int_equal(calls[i].status.code, CRI_CODE_NOT_FOUND);
                        assert_non_null(calls[i].status.message);
                } else if (calls[i].result != 0)
                        fail_msg("stop %s: %s", calls[i].id, calls[i].status.message);
        }
        cri_batch_done(calls, N_CONTAINERS + 1);
        assert_int_equal(
                count_containers(&(CriContainerFilter){
                        .pod_sandbox_id = p.sandbox_id, .state = CRI_CONTAINER_RUNNING}),
                0);

        /* Remove all at once. */
        for (size_t i = 0; i < N_CONTAINERS; i++)
                calls[i] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = ids[i]};
        r = cri_batch_run(client, calls, N_CONTAINERS);
        for (size_t i = 0; i < N_CONTAINERS; i++)
                if (calls[i].result != 0)
                        fail_msg("remove %s: %s", calls[i].id, calls[i].status.message);
        assert_int_equal(r, 0);
        cri_batch_done(calls, N_CONTAINERS);
        assert_int_equal(
                count_containers(&(CriContainerFilter){.pod_sandbox_id = p.sandbox_id, .state = -1}), 0);

        /* And the sandbox, stop then remove, in one batch each. */
        calls[0] = (CriBatchCall){.op = CRI_BATCH_STOP_POD_SANDBOX, .id = p.sandbox_id};
        assert_int_equal(cri_batch_run(client, calls, 1), 0);
        calls[0] = (CriBatchCall){.op = CRI_BATCH_REMOVE_POD_SANDBOX, .id = p.sandbox_id};
        assert_int_equal(cri_batch_run(client, calls, 1), 0);
        assert_int_equal(count_sandboxes(&(CriPodSandboxFilter){.id = p.sandbox_id, .state = -1}), 0);

        /* Calls that cannot run report their own error; the rest still run. */
        calls[0] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = NULL};
        calls[1] = (CriBatchCall){.op = CRI_BATCH_REMOVE_CONTAINER, .id = MISSING_ID};
        r = cri_batch_run(client, calls, 2);
        assert_int_equal(r, 1);
        assert_int_equal(calls[0].result, -EINVAL);
        assert_int_equal(calls[0].status.code, CRI_CODE_INVALID_ARGUMENT);
        assert_int_equal(calls[1].result, 0); /* RemoveContainer is idempotent */
        cri_batch_done(calls, 2);

        for (size_t i = 0; i < N_CONTAINERS; i++)
                free(ids[i]);
        pod_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version),
                cmocka_unit_test(test_status_verbose),
                cmocka_unit_test(test_runtime_config),
                cmocka_unit_test_teardown(test_pod_lifecycle, teardown_created),
                cmocka_unit_test_teardown(test_list_filters, teardown_created),
                cmocka_unit_test(test_images),
                cmocka_unit_test_teardown(test_remove_image, teardown_created),
                cmocka_unit_test(test_not_found),
                cmocka_unit_test_teardown(test_batch_removals, teardown_created),
        };

        endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        if (!endpoint || !kubepods) {
                fprintf(stderr,
                        "PODREAPER_TEST_CRI_ENDPOINT / PODREAPER_TEST_KUBEPODS not set: run under "
                        "tests/e2e/with-containerd.sh (make check does)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
