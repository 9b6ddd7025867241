/* SPDX-License-Identifier: MIT */
/*
 * podctl: what the kubelet would do to the runtime, for the e2e scripts and the demo, through
 * podreaper's own CRI client. The endpoint comes from $PODREAPER_TEST_CRI_ENDPOINT.
 *
 *   podctl run-pod UID NAME NAMESPACE KUBEPODS LOG_DIR   a running pod like the kubelet's: a
 *        host-network sandbox in /<KUBEPODS>/besteffort/pod<UID>, labelled as the kubelet labels it,
 *        and one busybox container sleeping in it; prints "<sandbox id> <container id>"
 *   podctl rm-pod UID    stop and remove every container and sandbox of UID (the pod is deleted)
 *   podctl has-pod UID   exit 0 if the runtime has a sandbox of UID in any state, 1 if not
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cri/cri.h"
#include "util/macro.h"

#define BUSYBOX_IMAGE "docker.io/library/busybox:1.35"

static CriClient *client;

static int fail(const char *what, int r, CriStatus *st) {
        fprintf(stderr, "podctl: %s: %s\n", what, st->message ?: strerror(-r));
        cri_status_done(st);
        return 1;
}

static int
run_pod(const char *uid, const char *name, const char *ns, const char *kubepods, const char *log_dir) {
        _cleanup_free_ char *cgroup_parent = NULL, *sandbox_id = NULL, *container_id = NULL;
        const char *const labels[] = {
                "io.kubernetes.pod.uid",
                uid,
                "io.kubernetes.pod.name",
                name,
                "io.kubernetes.pod.namespace",
                ns,
                NULL,
        };
        CriStatus st = {};
        int r;

        if (asprintf(&cgroup_parent, "/%s/besteffort/pod%s", kubepods, uid) < 0)
                return 1;
        CriPodSandboxConfig config = {
                .name = name,
                .namespace = ns,
                .uid = uid,
                .hostname = "",
                .log_directory = log_dir,
                .cgroup_parent = cgroup_parent,
                .host_network = true,
                .labels = labels,
        };
        r = cri_run_pod_sandbox(client, &config, &sandbox_id, &st);
        if (r < 0)
                return fail("RunPodSandbox", r, &st);

        const char *const container_labels[] = {
                "io.kubernetes.pod.uid",
                uid,
                "io.kubernetes.pod.name",
                name,
                "io.kubernetes.pod.namespace",
                ns,
                "io.kubernetes.container.name",
                "app",
                NULL,
        };
        CriContainerConfig container = {
                .name = "app",
                .image = BUSYBOX_IMAGE,
                .command = (const char *const[]){"/bin/sleep", "100000", NULL},
                .labels = container_labels,
                .log_path = "app/0.log",
        };
        r = cri_create_container(client, sandbox_id, &container, &config, &container_id, &st);
        if (r < 0)
                return fail("CreateContainer", r, &st);
        r = cri_start_container(client, container_id, &st);
        if (r < 0)
                return fail("StartContainer", r, &st);
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
        else {
                fprintf(stderr,
                        "usage: podctl run-pod UID NAME NAMESPACE KUBEPODS LOG_DIR | rm-pod UID | has-pod "
                        "UID\n");
                r = 2;
        }
        cri_client_free(client);
        return r;
}
