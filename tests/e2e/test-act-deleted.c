/* SPDX-License-Identifier: MIT */
/* e2e: the actor's re-check of a deleted pod's runtime GC (DESIGN §2 "deleted", reaper/act-runtime.c)
 * against the private containerd (tests/e2e/with-containerd.sh). A deleted pod — its two sandboxes
 * NotReady (one holding an exited container, one empty), no pod dir, past the grace — is planned
 * through the real planner from the runtime's own lists; then, between the plan and the act, the
 * node changes the way a kubelet that came back would change it, and the removals must be skipped,
 * the container and the empty sandbox with the reason (the other sandbox for still holding the
 * container), the runtime keeping all three:
 *   - nothing changes: all three removals done, the runtime has nothing of the pod;
 *   - its pod dir is back;
 *   - it has a ready sandbox again;
 *   - a created container with its uid, in another pod's sandbox.
 * The pods are made with podctl ($PODREAPER_BUILD/tests/e2e/podctl), their cgroups under the run's
 * kubepods name; each test removes its pods again. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reaper/act.h"
#include "reaper/plan.h"
#include "util/macro.h"
#include "util/parse.h"

static const char *endpoint, *kubepods;
static char podctl[4096];
static CriClient *client;

typedef struct Fixture {
        char root[64];                   /* <root>/kubelet/pods, <root>/logs */
        char uid[37];                    /* the deleted pod */
        char other_uid[37];              /* a live pod, for the container case */
        char *sandbox_id, *container_id; /* attempt 0 and its exited container */
        char *empty_sandbox_id;          /* attempt 1, without containers */
} Fixture;

static char *run_podctl(const char *format, ...) _printf_(1, 2);
/* podctl ARGS..., its first line of output (an id), NULL on failure. */
static char *run_podctl(const char *format, ...) {
        _cleanup_free_ char *args = NULL, *command = NULL;
        char line[256] = "";
        va_list ap;
        FILE *p;
        int r;

        va_start(ap, format);
        r = vasprintf(&args, format, ap);
        va_end(ap);
        assert_true(r >= 0);
        assert_true(
                asprintf(&command, "PODREAPER_TEST_CRI_ENDPOINT='%s' '%s' %s", endpoint, podctl, args) >= 0);
        p = popen(command, "re");
        assert_non_null(p);
        if (!fgets(line, sizeof(line), p))
                line[0] = '\0';
        if (pclose(p) != 0) {
                print_error("podctl %s failed\n", args);
                return NULL;
        }
        line[strcspn(line, " \n")] = '\0';
        return strdup(line);
}

static void new_uid(char ret[static 37]) {
        FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

        assert_non_null(f);
        assert_non_null(fgets(ret, 37, f));
        fclose(f);
}

static char *fixture_path(const Fixture *fx, const char *format, ...) _printf_(2, 3);
static char *fixture_path(const Fixture *fx, const char *format, ...) {
        _cleanup_free_ char *rest = NULL;
        char *p;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&rest, format, ap);
        va_end(ap);
        assert_true(r >= 0);
        assert_true(asprintf(&p, "%s/%s", fx->root, rest) >= 0);
        return p;
}

/* The deleted pod: a sandbox, one exited container, the sandbox stopped, no pod dir. */
static int setup(void **state) {
        Fixture *fx = calloc(1, sizeof(*fx));
        _cleanup_free_ char *logs = NULL, *pods = NULL, *kubelet = NULL;

        assert_non_null(fx);
        strcpy(fx->root, "/tmp/test-act-deleted-XXXXXX");
        assert_non_null(mkdtemp(fx->root));
        kubelet = fixture_path(fx, "kubelet");
        pods = fixture_path(fx, "kubelet/pods");
        logs = fixture_path(fx, "logs");
        assert_int_equal(mkdir(kubelet, 0755), 0);
        assert_int_equal(mkdir(pods, 0755), 0);
        assert_int_equal(mkdir(logs, 0755), 0);
        new_uid(fx->uid);
        new_uid(fx->other_uid);

        fx->sandbox_id = run_podctl("run-sandbox %s pod-deleted e2e %s %s 0", fx->uid, kubepods, logs);
        assert_non_null(fx->sandbox_id);
        fx->container_id = run_podctl("add-container %s %s %s app 0 exited", fx->sandbox_id, kubepods, logs);
        assert_non_null(fx->container_id);
        {
                _cleanup_free_ char *out = run_podctl("stop-sandbox %s", fx->sandbox_id);

                assert_non_null(out);
        }
        fx->empty_sandbox_id = run_podctl("run-sandbox %s pod-deleted e2e %s %s 1", fx->uid, kubepods, logs);
        assert_non_null(fx->empty_sandbox_id);
        {
                _cleanup_free_ char *out = run_podctl("stop-sandbox %s", fx->empty_sandbox_id);

                assert_non_null(out);
        }
        *state = fx;
        return 0;
}

static int teardown(void **state) {
        Fixture *fx = *state;
        _cleanup_free_ char *command = NULL;

        free(run_podctl("rm-pod %s", fx->uid));
        free(run_podctl("rm-pod %s", fx->other_uid));
        assert_true(asprintf(&command, "rm -rf --one-file-system '%s'", fx->root) >= 0);
        (void) !system(command);
        free(fx->sandbox_id);
        free(fx->container_id);
        free(fx->empty_sandbox_id);
        free(fx);
        return 0;
}

/* Only this test's pods: a leftover elsewhere in the runtime must not trip the guard. */
static bool ours(const Fixture *fx, const char *uid) {
        return uid && (streq(uid, fx->uid) || streq(uid, fx->other_uid));
}

static void sandboxes_keep_ours(const Fixture *fx, CriPodSandboxList *l) {
        size_t k = 0;

        for (size_t i = 0; i < l->n; i++)
                if (ours(fx, l->items[i].pod_uid))
                        l->items[k++] = l->items[i];
                else {
                        free(l->items[i].labels.items);
                        free(l->items[i].annotations.items);
                }
        l->n = k;
}

static void containers_keep_ours(const Fixture *fx, CriContainerList *l) {
        size_t k = 0;

        for (size_t i = 0; i < l->n; i++)
                if (ours(fx, cri_map_get(&l->items[i].labels, "io.kubernetes.pod.uid")))
                        l->items[k++] = l->items[i];
                else {
                        free(l->items[i].labels.items);
                        free(l->items[i].annotations.items);
                }
        l->n = k;
}

static usec_t realtime_now(void) {
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

/* <root>/kubelet/pods, as gather lists it (names only: nothing is mounted here). */
static void pod_dirs_read(const Fixture *fx, Snapshot *s) {
        _cleanup_free_ char *pods = fixture_path(fx, "kubelet/pods");
        _cleanup_closedir_ DIR *d = opendir(pods);
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                s->pod_dirs = reallocarray(s->pod_dirs, s->n_pod_dirs + 1, sizeof(*s->pod_dirs));
                assert_non_null(s->pod_dirs);
                s->pod_dirs[s->n_pod_dirs++] = (PodDir){.uid = strdup(de->d_name)};
        }
}

typedef struct Pass {
        Snapshot snapshot;
        State saved;
        Options options;
        Plan plan;
} Pass;

static void pass_done(Pass *p) {
        plan_done(&p->plan);
        state_done(&p->saved);
        snapshot_done(&p->snapshot);
        free(p->options.root_dir);
        free(p->options.pod_logs_dir);
        free(p->options.container_logs_dir);
        free(p->options.kubepods_cgroup);
}

/* The snapshot of a ready node from the runtime's lists, the pod first seen deleted an hour ago;
 * the plan must be the deleted pod's two removals. */
static void pass_plan(const Fixture *fx, Pass *p) {
        usec_t now = realtime_now();
        CriStatus st = {};

        *p = (Pass){
                .snapshot =
                        {
                                .now = now,
                                .cgroups.ok = true,
                                .cri.ok = true,
                                .kubelet.ok = true,
                                .disk.ok = true,
                                .kubelet_started = now - USEC_PER_HOUR,
                                .pod_cgroups.driver = CGFS_DRIVER_CGROUPFS,
                        },
                .options =
                        {
                                .command = COMMAND_RUN,
                                .root_dir = fixture_path(fx, "kubelet"),
                                .pod_logs_dir = fixture_path(fx, "logs"),
                                .container_logs_dir = fixture_path(fx, "containers"),
                                .kubepods_cgroup = strdup(kubepods),
                                .only = KIND_CONTAINERS | KIND_SANDBOXES,
                                .orphan_grace = 10 * USEC_PER_MINUTE,
                                .require_kubelet = true,
                                .maximum_dead_containers_per_container = 1,
                                .maximum_dead_containers = -1,
                        },
        };
        assert_int_equal(cri_list_pod_sandboxes(client, NULL, &p->snapshot.sandboxes, &st), 0);
        assert_int_equal(cri_list_containers(client, NULL, &p->snapshot.containers, &st), 0);
        cri_status_done(&st);
        pod_dirs_read(fx, &p->snapshot);
        sandboxes_keep_ours(fx, &p->snapshot.sandboxes);
        containers_keep_ours(fx, &p->snapshot.containers);
        assert_true(state_deleted_see(&p->saved, fx->uid, now - USEC_PER_HOUR) > 0);

        assert_int_equal(plan_build(&p->snapshot, &p->options, &p->saved, &p->plan), 0);
        assert_int_equal(p->plan.deleted.rule, DELETED_RULE_ON);
        assert_int_equal(p->plan.n_actions, 3);
        assert_int_equal(p->plan.actions[0].kind, ACTION_REMOVE_CONTAINER);
        assert_string_equal(p->plan.actions[0].target, fx->container_id);
        /* Both of the pod's sandboxes, the newest too, in the runtime's order. */
        assert_int_equal(p->plan.actions[1].kind, ACTION_REMOVE_SANDBOX);
        assert_int_equal(p->plan.actions[2].kind, ACTION_REMOVE_SANDBOX);
        assert_true(
                (streq(p->plan.actions[1].target, fx->sandbox_id) &&
                 streq(p->plan.actions[2].target, fx->empty_sandbox_id)) ||
                (streq(p->plan.actions[2].target, fx->sandbox_id) &&
                 streq(p->plan.actions[1].target, fx->empty_sandbox_id)));
        for (size_t i = 0; i < p->plan.n_actions; i++) {
                assert_true(p->plan.actions[i].pod_deleted);
                assert_false(p->plan.actions[i].pod_gone);
        }
}

static int no_knowledge(void *userdata, const char *uid) {
        (void) userdata;
        (void) uid;
        return 0; /* no pod-level action in these plans */
}

static size_t pass_act(Pass *p) {
        const CgfsHierarchies none = {};
        ActContext c = {
                .options = &p->options,
                .hierarchies = &none,
                .pod_cgroups = &p->snapshot.pod_cgroups,
                .runtime_knows_uid = no_knowledge,
                .cri = client,
        };

        return act_run(&c, &p->plan);
}

/* Whether the runtime still has the fixture's sandboxes and container. */
static void assert_runtime_has(const Fixture *fx, bool sandbox, bool container) {
        CriPodSandboxList sbs = {};
        CriContainerList cs = {};
        CriStatus st = {};
        bool has_sandbox = false, has_container = false;
        size_t n_sandboxes = 0;

        assert_int_equal(cri_list_pod_sandboxes(client, NULL, &sbs, &st), 0);
        assert_int_equal(cri_list_containers(client, NULL, &cs, &st), 0);
        for (size_t i = 0; i < sbs.n; i++)
                n_sandboxes += streq(sbs.items[i].id, fx->sandbox_id) ||
                               streq(sbs.items[i].id, fx->empty_sandbox_id);
        /* Both or none. */
        assert_true(n_sandboxes == 0 || n_sandboxes == 2);
        has_sandbox = n_sandboxes == 2;
        for (size_t i = 0; i < cs.n; i++)
                has_container = has_container || streq(cs.items[i].id, fx->container_id);
        cri_pod_sandbox_list_done(&sbs);
        cri_container_list_done(&cs);
        cri_status_done(&st);
        if (has_sandbox != sandbox || has_container != container)
                fail_msg(
                        "runtime has sandbox %d container %d, expected %d %d",
                        has_sandbox,
                        has_container,
                        sandbox,
                        container);
}

/* The container and the empty sandbox skipped for `why`; the sandbox that holds the container for
 * holding it. */
static void assert_skipped(const Fixture *fx, const Plan *p, const char *why) {
        for (size_t i = 0; i < p->n_actions; i++) {
                const char *want =
                        streq(p->actions[i].target, fx->sandbox_id) ? "still holds 1 container" : why;

                if (p->actions[i].result != RESULT_SKIPPED || !p->actions[i].error ||
                    !strstr(p->actions[i].error, want))
                        fail_msg(
                                "%s %s: result %s (%s), expected skipped: %s",
                                action_kind_to_string(p->actions[i].kind),
                                p->actions[i].target,
                                action_result_to_string(p->actions[i].result),
                                p->actions[i].error ?: "",
                                want);
        }
}

static void test_nothing_changed(void **state) {
        Fixture *fx = *state;
        Pass p;

        pass_plan(fx, &p);
        assert_int_equal(pass_act(&p), 0);
        for (size_t i = 0; i < p.plan.n_actions; i++)
                assert_int_equal(p.plan.actions[i].result, RESULT_DONE);
        assert_runtime_has(fx, false, false);
        pass_done(&p);
}

static void test_pod_dir_back(void **state) {
        Fixture *fx = *state;
        _cleanup_free_ char *dir = NULL;
        Pass p;

        pass_plan(fx, &p);
        dir = fixture_path(fx, "kubelet/pods/%s", fx->uid);
        assert_int_equal(mkdir(dir, 0750), 0);
        assert_int_equal(pass_act(&p), 0);
        assert_skipped(fx, &p.plan, "its pod dir is there again");
        assert_runtime_has(fx, true, true);
        pass_done(&p);
}

static void test_ready_sandbox_again(void **state) {
        Fixture *fx = *state;
        _cleanup_free_ char *logs = fixture_path(fx, "logs"), *id = NULL;
        Pass p;

        pass_plan(fx, &p);
        id = run_podctl("run-sandbox %s pod-deleted e2e %s %s 2", fx->uid, kubepods, logs);
        assert_non_null(id);
        assert_int_equal(pass_act(&p), 0);
        assert_skipped(fx, &p.plan, "its pod has a ready sandbox again");
        assert_runtime_has(fx, true, true);
        pass_done(&p);
}

static void test_created_container_again(void **state) {
        Fixture *fx = *state;
        _cleanup_free_ char *logs = fixture_path(fx, "logs"), *other = NULL, *id = NULL;
        Pass p;

        /* Another pod's ready sandbox, made before the plan, with its pod dir (the guard). */
        other = run_podctl("run-sandbox %s pod-other e2e %s %s 0", fx->other_uid, kubepods, logs);
        assert_non_null(other);
        {
                _cleanup_free_ char *dir = fixture_path(fx, "kubelet/pods/%s", fx->other_uid);

                assert_int_equal(mkdir(dir, 0750), 0);
        }
        pass_plan(fx, &p);
        id = run_podctl(
                "add-container %s %s %s web 0 created docker.io/library/busybox:1.35 %s",
                other,
                kubepods,
                logs,
                fx->uid);
        assert_non_null(id);
        assert_int_equal(pass_act(&p), 0);
        assert_skipped(fx, &p.plan, "its pod has a running, created or unknown container again");
        assert_runtime_has(fx, true, true);
        pass_done(&p);
}

int main(void) {
        const char *build = getenv("PODREAPER_BUILD") ?: "build";
        CriStatus st = {};
        int r;

        endpoint = getenv("PODREAPER_TEST_CRI_ENDPOINT");
        kubepods = getenv("PODREAPER_TEST_KUBEPODS");
        if (!endpoint || !kubepods) {
                fprintf(stderr, "run under tests/e2e/with-containerd.sh\n");
                return 77;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "needs root\n");
                return 77;
        }
        (void) snprintf(podctl, sizeof(podctl), "%s/tests/e2e/podctl", build);
        if (access(podctl, X_OK) < 0) {
                fprintf(stderr, "no %s\n", podctl);
                return 77;
        }
        r = cri_connect(endpoint, &(CriOptions){.timeout_usec = 30 * USEC_PER_SEC}, &client, &st);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", endpoint, st.message ?: strerror(-r));
                return 1;
        }
        cri_status_done(&st);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_nothing_changed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pod_dir_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ready_sandbox_again, setup, teardown),
                cmocka_unit_test_setup_teardown(test_created_container_again, setup, teardown),
        };
        r = cmocka_run_group_tests(tests, NULL, NULL);
        cri_client_free(client);
        return r;
}
