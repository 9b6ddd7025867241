/* SPDX-License-Identifier: MIT */
/* The report: text tables and JSON documents of hand-built snapshots and plans against golden files
 * (tests/data/report/), every JSON document checked by Python's json module, hostile directory
 * names, and the log line per action. REPORT_UPDATE_GOLDEN=1 rewrites the golden files (then
 * read the diff). */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reaper/message-ids.h"
#include "reaper/report.h"
#include "tests/lib/action.h"
#include "tests/lib/capture.h"
#include "util/log.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/report/"
#define PYTHON "/usr/bin/python3"

#define UID_A "3f2c6b1e-8d4a-4f7b-9c1e-5a6d7e8f9a0b"
#define UID_B "7a1e9c2d-4b3f-4e5a-8d6c-0f1e2d3c4b5a"
#define UID_C "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define UID_D "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f"
#define UID_E "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
#define UID_STATIC "6d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a" /* a static pod: a manifest hash */

#define PODS "/var/lib/kubelet/pods/"
#define LOGS "/var/log/pods/"

#define REASON_ORPHAN \
        "orphaned: no sandbox or container in the runtime, not active in the kubelet, orphaned for 25m3s " \
        "(grace 10m)"
#define REASON_KILL REASON_ORPHAN "; its processes are killed"
#define REASON_AFTER REASON_ORPHAN "; after its cgroup is destroyed"
#define REASON_GRACE "orphan, within the grace (first seen 2m0s ago, changed 2m0s ago; grace 10m)"
#define REASON_MOUNTED "volume still mounted: " PODS UID_B "/volumes/kubernetes.io~nfs/data"
#define REASON_BREAKER \
        "3 of 4 pod cgroups with processes look orphaned (more than 50%): a wrong source? no process is " \
        "killed this pass"

/* ---- building snapshots and plans ---------------------------------------------------------------- */

/* The node of most cases: A fully orphaned (cgroup, dir, logs), B with a mounted volume, C within
 * the grace (dir only), D with logs only, E a live pod (not in the plan), and a stray lost+found. */
static CgfsPod pod_cgroups[] = {
        {.uid = UID_A, .qos = CGFS_QOS_BESTEFFORT, .populated = true},
        {.uid = UID_B, .qos = CGFS_QOS_BURSTABLE},
        {.uid = UID_E, .qos = CGFS_QOS_BURSTABLE, .populated = true},
};
static PodDir pod_dirs[] = {
        {.uid = (char *) UID_A},
        {.uid = (char *) UID_B,
         .n_mounts = 1,
         .first_mount = (char *) PODS UID_B "/volumes/kubernetes.io~nfs/data"},
        {.uid = (char *) UID_C},
        {.uid = (char *) UID_E},
        {.uid = (char *) "lost+found"},
};
static LogDir log_dirs[] = {
        {.name = (char *) "default_web-7d9f8c6b5-x2x4q_" UID_A, .uid = (char *) UID_A},
        {.name = (char *) "batch_report-28714560-abcde_" UID_D, .uid = (char *) UID_D},
        {.name = (char *) "default_api-0_" UID_E, .uid = (char *) UID_E},
};
static char *cri_uids[] = {(char *) UID_E};

static Snapshot node(void) {
        return (Snapshot){
                .now = 1000 * USEC_PER_HOUR,
                .cgroups = {.ok = true},
                .cri = {.ok = true},
                .kubelet = {.ok = true},
                .kubelet_started = 1,
                .disk = {.ok = true},
                .pod_cgroups =
                        {.items = pod_cgroups, .n = ELEMENTSOF(pod_cgroups), .driver = CGFS_DRIVER_CGROUPFS},
                .cri_uids = cri_uids,
                .n_cri_uids = ELEMENTSOF(cri_uids),
                .kubelet_uids = cri_uids,
                .n_kubelet_uids = ELEMENTSOF(cri_uids),
                .pod_dirs = pod_dirs,
                .n_pod_dirs = ELEMENTSOF(pod_dirs),
                .log_dirs = log_dirs,
                .n_log_dirs = ELEMENTSOF(log_dirs),
        };
}

static Options options(Command command, OutputFormat output) {
        return (Options){.command = command, .output = output, .require_kubelet = true};
}

/* The normal pass, with every action at `result` (planned for plan and --dry-run). */
static Action normal_actions[9];

static Plan normal_plan(ActionResult result) {
        size_t n = 0;

        normal_actions[n++] =
                act(ACTION_SKIP_POD, "", PODS "lost+found", "not a pod uid: kept", RESULT_PLANNED, NULL);
        normal_actions[n++] = act(
                ACTION_DESTROY_CGROUP, UID_A, "kubepods/besteffort/pod" UID_A, REASON_KILL, result, NULL);
        normal_actions[n++] = act(ACTION_REMOVE_POD_DIR, UID_A, PODS UID_A, REASON_AFTER, result, NULL);
        normal_actions[n++] =
                act(ACTION_REMOVE_LOG_DIR,
                    UID_A,
                    LOGS "default_web-7d9f8c6b5-x2x4q_" UID_A,
                    REASON_AFTER,
                    result,
                    NULL);
        normal_actions[n++] =
                act(ACTION_REDUCE_CGROUP_CPU,
                    UID_B,
                    "kubepods/burstable/pod" UID_B,
                    REASON_MOUNTED,
                    result,
                    NULL);
        normal_actions[n++] = act(ACTION_SKIP_POD, UID_B, PODS UID_B, REASON_MOUNTED, RESULT_PLANNED, NULL);
        normal_actions[n++] = act(ACTION_SKIP_POD, UID_C, PODS UID_C, REASON_GRACE, RESULT_PLANNED, NULL);
        normal_actions[n++] =
                act(ACTION_REMOVE_LOG_DIR,
                    UID_D,
                    LOGS "batch_report-28714560-abcde_" UID_D,
                    REASON_ORPHAN,
                    result,
                    NULL);
        assert_true(n <= ELEMENTSOF(normal_actions));
        return (Plan){.actions = normal_actions, .n_actions = n, .n_orphans = 4};
}

/* ---- rendering and checking ---------------------------------------------------------------------- */

static char *render(const Options *o, const Snapshot *s, const Plan *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        assert_non_null(f);
        report_print(f, o, s, p);
        assert_int_equal(fclose(f), 0);
        assert_non_null(buf);
        return buf;
}

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL;
        size_t size = 0, n;
        FILE *m;
        char chunk[4096];

        f = fopen(path, "re");
        if (!f)
                fail_msg(
                        "cannot open golden file %s: %s (REPORT_UPDATE_GOLDEN=1 writes it)",
                        path,
                        strerror(errno));
        m = open_memstream(&buf, &size);
        assert_non_null(m);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(fwrite(chunk, 1, n, m), n);
        assert_int_equal(fclose(m), 0);
        return buf;
}

static void golden_check(const char *name, const char *out) {
        _cleanup_free_ char *path = NULL, *expected = NULL;

        assert_true(asprintf(&path, FIXTURE_DIR "%s", name) >= 0);
        if (getenv("REPORT_UPDATE_GOLDEN")) {
                _cleanup_fclose_ FILE *f = fopen(path, "we");

                assert_non_null(f);
                assert_int_equal(fputs(out, f) >= 0, 1);
                return;
        }
        expected = read_file(path);
        if (strcmp(expected, out) != 0) {
                size_t i = 0;

                while (expected[i] && expected[i] == out[i])
                        i++;
                fail_msg(
                        "%s differs from the golden file at byte %zu:\n--- expected\n%s--- got\n%s",
                        path,
                        i,
                        expected,
                        out);
        }
}

/* Python's json module decides whether the document is valid JSON; `check` (may be NULL) is a
 * Python expression over the decoded document `d` that must hold. */
static void python_check(const char *json, const char *check) {
        _cleanup_free_ char *command = NULL;
        FILE *p;
        int status;

        if (access(PYTHON, X_OK) < 0)
                skip();
        assert_true(
                asprintf(
                        &command,
                        PYTHON " -c 'import json,sys; d = json.load(sys.stdin); sys.exit(0 if (%s) else 3)'",
                        check ?: "True") >= 0);
        p = popen(command, "we");
        assert_non_null(p);
        assert_int_equal(fwrite(json, 1, strlen(json), p), strlen(json));
        status = pclose(p);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg(
                        "%s: %s (status %d) for:\n%s",
                        PYTHON,
                        WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "check failed: " : "invalid JSON",
                        status,
                        json);
}

/* One JSON document: one line, ending in a newline. */
static void json_shape_check(const char *json) {
        size_t n = strlen(json);

        assert_true(n > 2);
        assert_int_equal(json[n - 1], '\n');
        assert_null(memchr(json, '\n', n - 1));
        python_check(
                json,
                "set(d) == {\"version\", \"sources\", \"actions\", \"summary\"} and d[\"version\"] == 1 and "
                "list(d[\"sources\"]) == [\"runtime\", \"kubelet\", \"cgroups\", \"disk\"] and "
                "d[\"summary\"][\"actions\"] == len(d[\"actions\"]) == d[\"summary\"][\"done\"] + "
                "d[\"summary\"][\"failed\"] + d[\"summary\"][\"skipped\"] + d[\"summary\"][\"planned\"] + "
                "d[\"summary\"][\"refused\"] and all(set(a) == {\"kind\", \"pod_uid\", \"target\", "
                "\"reason\", "
                "\"result\", \"error\"} for a in d[\"actions\"])");
}

static int setup(void **state) {
        (void) state;
        /* A terminal width from the environment would cut the WHY column of the golden files. */
        (void) unsetenv("COLUMNS");
        return 0;
}

/* ---- text ---------------------------------------------------------------------------------------- */

static void test_text_run(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Plan p = normal_plan(RESULT_DONE);
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("run.txt", out);
        /* The golden file is what an operator reads; the facts that matter, spelled out: */
        assert_non_null(strstr(out, "Sources: runtime ok, kubelet ok, cgroups ok, disk ok\n"));
        assert_non_null(
                strstr(out, UID_A "  dir,cgroup,logs  destroyed cgroup, removed dir, removed logs  "));
        assert_non_null(strstr(out, "lowered CPU of cgroup, kept"));
        assert_non_null(strstr(out, PODS "lost+found: kept (not a pod uid: kept)\n"));
        assert_non_null(
                strstr(out, "4 orphaned pods: 2 reaped, 2 refused; 0 failed; 1 non-pod entry kept\n"));
        /* The live pod E is on the node but in no action: not in the table. */
        assert_null(strstr(out, UID_E));
}

static void test_text_plan(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_PLAN, OUTPUT_TEXT);
        Plan p = normal_plan(RESULT_PLANNED);
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("plan.txt", out);
        assert_non_null(strstr(out, "PLANNED/REFUSED"));
        assert_non_null(strstr(out, "would destroy cgroup, would remove dir, would remove logs"));
        assert_non_null(
                strstr(out, "4 orphaned pods: 2 would be reaped, 2 refused; 1 non-pod entry kept\n"));
}

static void test_text_dry_run_kubelet_not_required(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Plan p = normal_plan(RESULT_PLANNED);
        _cleanup_free_ char *out = NULL;

        (void) state;
        o.dry_run = true;
        o.require_kubelet = false;
        s.kubelet = (SourceStatus){.error = (char *) "healthz on 127.0.0.1:10248: connection refused"};
        out = render(&o, &s, &p);
        golden_check("dry-run.txt", out);
        assert_non_null(
                strstr(out,
                       "Sources: runtime ok, kubelet: healthz on 127.0.0.1:10248: connection refused (not "
                       "required), "
                       "cgroups ok, disk ok\n"));
        assert_non_null(strstr(out, "2 would be reaped, 2 refused; 1 non-pod entry kept (dry run)\n"));
}

static void test_text_blocked(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Plan p = {
                .pod_level_blocked = true,
                .blocked_reason =
                        (char *) "kubelet not ready: healthz on 127.0.0.1:10248: connection refused",
                .n_orphans = 4,
        };
        _cleanup_free_ char *out = NULL;

        (void) state;
        s.kubelet = (SourceStatus){.error = (char *) "healthz on 127.0.0.1:10248: connection refused"};
        out = render(&o, &s, &p);
        golden_check("blocked.txt", out);
        assert_non_null(strstr(out, "kubelet: healthz on 127.0.0.1:10248: connection refused, cgroups ok"));
        assert_non_null(strstr(out, "\nNo pod-level action: kubelet not ready: healthz on 127.0.0.1:10248"));
        assert_null(strstr(out, "UID"));
        assert_non_null(strstr(out, "4 orphaned pods: none reaped, sources not ready; 0 failed\n"));
}

static void test_text_breaker(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Action actions[] = {
                act(ACTION_SKIP_POD, UID_A, PODS UID_A, REASON_BREAKER, RESULT_PLANNED, NULL),
                act(ACTION_SKIP_POD, UID_C, PODS UID_C, REASON_BREAKER, RESULT_PLANNED, NULL),
                /* An empty leftover (no processes) is not held back by the fraction. */
                act(ACTION_DESTROY_CGROUP,
                    UID_B,
                    "kubepods/burstable/pod" UID_B,
                    REASON_ORPHAN,
                    RESULT_DONE,
                    NULL),
                act(ACTION_REMOVE_POD_DIR, UID_B, PODS UID_B, REASON_ORPHAN, RESULT_DONE, NULL),
        };
        Plan p = {
                .actions = actions,
                .n_actions = ELEMENTSOF(actions),
                .breaker_tripped = true,
                .breaker_reason = (char *) REASON_BREAKER,
                .n_orphans = 3,
        };
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("breaker.txt", out);
        assert_non_null(strstr(out, "\nCircuit breaker tripped: " REASON_BREAKER "\n"));
        assert_non_null(strstr(out, "3 orphaned pods: 1 reaped, 2 refused; 0 failed\n"));
}

static void test_text_failed_and_skipped(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Action actions[] = {
                act(ACTION_DESTROY_CGROUP,
                    UID_A,
                    "kubepods/besteffort/pod" UID_A,
                    REASON_KILL,
                    RESULT_DONE,
                    NULL),
                act(ACTION_REMOVE_POD_DIR,
                    UID_A,
                    PODS UID_A,
                    REASON_AFTER,
                    RESULT_FAILED,
                    "Device or resource busy"),
                act(ACTION_REMOVE_LOG_DIR,
                    UID_A,
                    LOGS "default_web-7d9f8c6b5-x2x4q_" UID_A,
                    REASON_AFTER,
                    RESULT_DONE,
                    NULL),
                act(ACTION_REMOVE_POD_DIR,
                    UID_C,
                    PODS UID_C,
                    REASON_ORPHAN,
                    RESULT_SKIPPED,
                    "a volume was mounted since the plan: " PODS UID_C
                    "/volumes/kubernetes.io~empty-dir/cache"),
                act(ACTION_REMOVE_LOG_DIR,
                    UID_D,
                    LOGS "batch_report-28714560-abcde_" UID_D,
                    REASON_ORPHAN,
                    RESULT_DONE,
                    NULL),
        };
        Plan p = {.actions = actions, .n_actions = ELEMENTSOF(actions), .n_orphans = 3};
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("failed.txt", out);
        /* The error is the row's why; the plan's reason is in the log and the JSON. */
        assert_non_null(strstr(
                out, "  destroyed cgroup, failed to remove dir, removed logs  Device or resource busy\n"));
        assert_non_null(
                strstr(out,
                       "  did not remove dir                                    a volume was mounted since "
                       "the plan: "));
        assert_non_null(strstr(
                out,
                "3 orphaned pods: 1 reaped, 0 refused, 1 skipped (changed since the plan); 1 failed\n"));
}

/* A pod cgroup left in two QoS classes, a static pod's uid, and reap-pod of a pod nothing is left
 * of: FOUND comes from the snapshot and the actions, the same phrase twice is counted. */
static void test_text_found_and_repeats(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_REAP_POD, OUTPUT_TEXT);
        CgfsPod cgroups[] = {
                {.uid = UID_STATIC, .qos = CGFS_QOS_GUARANTEED},
                {.uid = UID_STATIC, .qos = CGFS_QOS_BURSTABLE},
        };
        Action actions[] = {
                act(ACTION_DESTROY_CGROUP,
                    UID_STATIC,
                    "kubepods/pod" UID_STATIC,
                    REASON_ORPHAN,
                    RESULT_DONE,
                    NULL),
                act(ACTION_DESTROY_CGROUP,
                    UID_STATIC,
                    "kubepods/burstable/pod" UID_STATIC,
                    REASON_ORPHAN,
                    RESULT_DONE,
                    NULL),
                act(ACTION_SKIP_POD,
                    UID_E,
                    PODS UID_E,
                    "live: the container runtime has a sandbox or container of it; reap-pod never touches a "
                    "live pod",
                    RESULT_PLANNED,
                    NULL),
                act(ACTION_SKIP_POD,
                    "0f0f0f0f-0000-4000-8000-000000000000",
                    PODS "0f0f0f0f-0000-4000-8000-000000000000",
                    "nothing of this pod on the node (no pod dir, pod cgroup or log dir)",
                    RESULT_PLANNED,
                    NULL),
        };
        Plan p = {.actions = actions, .n_actions = ELEMENTSOF(actions), .n_orphans = 1};
        _cleanup_free_ char *out = NULL;

        (void) state;
        s.pod_cgroups.items = cgroups;
        s.pod_cgroups.n = ELEMENTSOF(cgroups);
        out = render(&o, &s, &p);
        golden_check("found.txt", out);
        assert_non_null(strstr(out, UID_STATIC "      cgroup    destroyed cgroup x2  orphaned: "));
        /* E is live: its dir and log dir are on the node (the snapshot), the refusal says why. */
        assert_non_null(strstr(out, UID_E "  dir,logs  kept                 live: "));
        assert_non_null(strstr(
                out,
                "0f0f0f0f-0000-4000-8000-000000000000  -         kept                 nothing of this pod"));
}

/* Directory names are any bytes: nothing that reaches a terminal may break a row or be an escape
 * sequence. */
static void test_text_hostile_names(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Action actions[] = {
                act(ACTION_SKIP_POD,
                    "",
                    PODS "evil\n\x1b[2Jname\x01\x9b\xc2\x9b\xff",
                    "not a pod uid: kept",
                    RESULT_PLANNED,
                    NULL),
                act(ACTION_REMOVE_POD_DIR,
                    UID_A,
                    PODS UID_A,
                    REASON_AFTER,
                    RESULT_FAILED,
                    "error\r\nwith CRLF"),
                act(ACTION_SKIP_POD,
                    UID_C,
                    PODS UID_C,
                    "reason with\nnewline and \x1b]0;title\x07",
                    RESULT_PLANNED,
                    NULL),
        };
        Plan p = {.actions = actions, .n_actions = ELEMENTSOF(actions), .n_orphans = 1};
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("hostile.txt", out);
        assert_non_null(strstr(out, PODS "evil\\x0a\\x1b[2Jname\\x01\\x9b\\xc2\\x9b\\xff: kept"));
        assert_non_null(strstr(out, "failed to remove dir  error\\x0d\\x0awith CRLF\n"));
        assert_non_null(strstr(out, "reason with\\x0anewline and \\x1b]0;title\\x07\n"));
        for (const char *c = out; *c; c++)
                if (*c != '\n' && ((unsigned char) *c < 0x20 || *c == 0x7f))
                        fail_msg("control character 0x%02x at byte %zu", (unsigned) *c, (size_t) (c - out));
}

/* On a terminal ($COLUMNS here) the WHY column is cut so that a pod stays one line; the uid never
 * is. */
static void test_text_columns(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Plan p = normal_plan(RESULT_DONE);
        _cleanup_free_ char *out = NULL;
        char *line, *save = NULL;
        size_t n_cut = 0;

        (void) state;
        assert_int_equal(setenv("COLUMNS", "140", 1), 0);
        out = render(&o, &s, &p);
        (void) unsetenv("COLUMNS");

        golden_check("columns.txt", out);
        assert_non_null(strstr(out, UID_A "  "));
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* The table's rows; the sources and summary lines are sentences, not cut. */
                if (strlen(line) < 36 || line[8] != '-' || line[36] != ' ')
                        continue;
                assert_true(strlen(line) <= 140);
                if (strlen(line) == 140 && strcmp(line + 137, "...") == 0)
                        n_cut++;
        }
        assert_int_equal(n_cut, 4);
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

static void test_json_run(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        Plan p = normal_plan(RESULT_DONE);
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("run.json", out);
        json_shape_check(out);
        python_check(
                out,
                "d[\"actions\"][0][\"pod_uid\"] is None and d[\"actions\"][1] == {\"kind\": "
                "\"destroy-cgroup\", "
                "\"pod_uid\": \"" UID_A "\", \"target\": \"kubepods/besteffort/pod" UID_A "\", "
                "\"reason\": \"" REASON_KILL "\", \"result\": \"done\", \"error\": None} and "
                "d[\"summary\"] == {\"orphans\": 4, \"actions\": 8, \"done\": 5, \"failed\": 0, "
                "\"skipped\": 0, "
                "\"planned\": 0, \"refused\": 3, \"blocked\": False, \"breaker\": False}");
}

static void test_json_plan(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_PLAN, OUTPUT_JSON);
        Plan p = normal_plan(RESULT_PLANNED);
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("plan.json", out);
        json_shape_check(out);
        python_check(
                out,
                "all(a[\"result\"] == \"planned\" for a in d[\"actions\"]) and d[\"summary\"][\"planned\"] "
                "== 5 "
                "and d[\"summary\"][\"refused\"] == 3");
}

static void test_json_blocked_and_breaker(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        Plan p = {
                .pod_level_blocked = true,
                .blocked_reason =
                        (char *) "container runtime not ready: connect /run/containerd/containerd.sock: "
                                 "No such file or directory",
                .breaker_tripped = true,
                .breaker_reason = (char *) REASON_BREAKER,
        };
        _cleanup_free_ char *out = NULL;

        (void) state;
        s.cri = (SourceStatus){
                .error = (char *) "connect /run/containerd/containerd.sock: No such file or directory"};
        out = render(&o, &s, &p);
        golden_check("blocked.json", out);
        json_shape_check(out);
        python_check(
                out,
                "d[\"sources\"][\"runtime\"] == {\"ok\": False, \"error\": \"connect "
                "/run/containerd/containerd.sock: No such file or directory\"} and "
                "d[\"sources\"][\"kubelet\"] "
                "== {\"ok\": True} and d[\"actions\"] == [] and d[\"summary\"][\"blocked\"].startswith("
                "\"container runtime not ready\") and d[\"summary\"][\"breaker\"] == \"" REASON_BREAKER
                "\"");
}

static void test_json_failed(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        Action actions[] = {
                act(ACTION_DESTROY_CGROUP,
                    UID_A,
                    "kubepods/besteffort/pod" UID_A,
                    REASON_KILL,
                    RESULT_FAILED,
                    "processes still running after 5s"),
                act(ACTION_REMOVE_POD_DIR,
                    UID_A,
                    PODS UID_A,
                    REASON_AFTER,
                    RESULT_SKIPPED,
                    "pod cgroup still holds processes"),
        };
        Plan p = {.actions = actions, .n_actions = ELEMENTSOF(actions), .n_orphans = 1};
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        golden_check("failed.json", out);
        json_shape_check(out);
        python_check(
                out,
                "[(a[\"result\"], a[\"error\"]) for a in d[\"actions\"]] == [(\"failed\", \"processes still "
                "running after 5s\"), (\"skipped\", \"pod cgroup still holds processes\")] and "
                "d[\"summary\"][\"failed\"] == 1 and d[\"summary\"][\"skipped\"] == 1");
}

/* A target with a newline, a quote, a backslash, \x01, DEL and ill-formed UTF-8 (a stray
 * continuation byte, 0xff, a truncated sequence, an overlong '/', a surrogate), next to valid
 * multi-byte characters. */
static void test_json_hostile_target(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        Action actions[] = {
                act(ACTION_SKIP_POD,
                    "",
                    PODS "a\nb\"c\\d\x01"
                         "e\x7f"
                         "f\x80g\xffh\xe2\x82i\xc0\xafj\xed\xa0\x80k caf\xc3\xa9 \xf0\x9f\x92\xa9",
                    "not a pod uid: kept",
                    RESULT_PLANNED,
                    NULL),
        };
        Plan p = {.actions = actions, .n_actions = ELEMENTSOF(actions)};
        _cleanup_free_ char *out = render(&o, &s, &p);

        (void) state;
        assert_non_null(
                strstr(out,
                       "\"target\":\"" PODS
                       "a\\u000ab\\\"c\\\\d\\u0001e\\u007ff\\ufffdg\\ufffdh\\ufffdi\\ufffd\\ufffdj"
                       "\\ufffd\\ufffd\\ufffdk caf\xc3\xa9 \xf0\x9f\x92\xa9\""));
        json_shape_check(out);
        python_check(
                out,
                "d[\"actions\"][0][\"target\"] == \"" PODS
                "a\\nb\\\"c\\\\d\\x01e\\x7ff\\ufffdg\\ufffdh\\ufffdi"
                "\\ufffd\\ufffdj\\ufffd\\ufffd\\ufffdk caf\\u00e9 \\U0001f4a9\"");
}

/* report_json_string() alone: every escape and every kind of ill-formed UTF-8, one replacement
 * character per maximal subpart. */
static void test_json_string(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                {NULL, "null"},
                {"", "\"\""},
                {"plain /var/lib/kubelet", "\"plain /var/lib/kubelet\""},
                {"\"\\/", "\"\\\"\\\\/\""},
                {"\t\n\r\b\f\x1f", "\"\\u0009\\u000a\\u000d\\u0008\\u000c\\u001f\""},
                {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9\""},
                {"\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\""}, /* U+FFFF, U+10FFFF */
                {"\xe2\x80\xa8", "\"\xe2\x80\xa8\""},                                 /* valid in JSON */
                {"\x80", "\"\\ufffd\""},
                {"\xc3", "\"\\ufffd\""},
                {"\xe2\x82", "\"\\ufffd\""}, /* truncated: one maximal subpart */
                {"\xf0\x9f\x92", "\"\\ufffd\""},
                {"\xe2\x82x", "\"\\ufffdx\""},
                {"\xc0\xaf", "\"\\ufffd\\ufffd\""}, /* overlong '/' */
                {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},
                {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* a surrogate */
                {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
                {"\xf5\xff\xfe", "\"\\ufffd\\ufffd\\ufffd\""},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *buf = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&buf, &size);

                assert_non_null(f);
                report_json_string(f, cases[i].in);
                assert_int_equal(fclose(f), 0);
                if (strcmp(buf, cases[i].out) != 0)
                        fail_msg("case %zu: got %s, expected %s", i, buf, cases[i].out);
                if (cases[i].in)
                        python_check(buf, "isinstance(d, str)");
                free(buf);
        }
}

/* No snapshot (the sources could not even be gathered), no plan, no options: still a document. */
static void test_json_nothing(void **state) {
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        _cleanup_free_ char *out = render(&o, NULL, NULL);
        _cleanup_free_ char *text = render(NULL, NULL, NULL);

        (void) state;
        assert_string_equal(
                out,
                "{\"version\":1,\"sources\":{\"runtime\":{\"ok\":false,\"error\":\"not "
                "gathered\"},\"kubelet\":{\"ok\":"
                "false,\"error\":\"not gathered\"},\"cgroups\":{\"ok\":false,\"error\":\"not "
                "gathered\"},\"disk\":{"
                "\"ok\":false,\"error\":\"not "
                "gathered\"}},\"actions\":[],\"summary\":{\"orphans\":0,\"actions\":0,"
                "\"done\":0,\"failed\":0,\"skipped\":0,\"planned\":0,\"refused\":0,\"blocked\":false,"
                "\"breaker\":"
                "false}}\n");
        json_shape_check(out);
        assert_string_equal(
                text,
                "Sources: runtime: not gathered, kubelet: not gathered, cgroups: not gathered, disk: not "
                "gathered\n"
                "\n"
                "0 orphaned pods: 0 reaped, 0 refused; 0 failed\n");
}

/* 5,000 orphaned pods (the benchmark's node): every pod one row, in plan order, valid JSON. */
static void test_many_pods(void **state) {
        enum { N = 5000 };
        Snapshot s = {
                .cgroups = {.ok = true}, .cri = {.ok = true}, .kubelet = {.ok = true}, .disk = {.ok = true}};
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        _cleanup_free_ Action *actions = calloc(2 * N, sizeof(*actions));
        _cleanup_free_ char *targets = calloc(N, 64), *text = NULL, *json = NULL;
        Plan p = {.actions = actions, .n_actions = 2 * N, .n_orphans = N};
        size_t n_lines = 0;
        const char *row;

        (void) state;
        assert_non_null(actions);
        assert_non_null(targets);
        for (size_t i = 0; i < N; i++) {
                char uid[CGFS_UID_MAX + 1];

                /* Descending uids: rows must follow the plan, not the uid order. */
                (void) snprintf(uid, sizeof(uid), "%08zx-0000-4000-8000-000000000000", (size_t) N - i);
                (void) snprintf(targets + 64 * i, 64, PODS "%s", uid);
                actions[2 * i] =
                        act(ACTION_DESTROY_CGROUP, uid, targets + 64 * i, REASON_ORPHAN, RESULT_DONE, NULL);
                actions[2 * i + 1] =
                        act(ACTION_REMOVE_POD_DIR, uid, targets + 64 * i, REASON_ORPHAN, RESULT_DONE, NULL);
        }
        text = render(&o, &s, &p);
        for (const char *c = text; *c; c++)
                n_lines += *c == '\n';
        assert_int_equal(n_lines, N + 5); /* sources, blank, header ... blank, summary */
        row = strstr(
                text, "\n00001388-0000-4000-8000-000000000000  dir,cgroup  destroyed cgroup, removed dir  ");
        assert_non_null(row);
        assert_true(row < strstr(text, "\n00000001-0000-4000-8000-000000000000  "));
        assert_non_null(strstr(text, "5000 orphaned pods: 5000 reaped, 0 refused; 0 failed\n"));

        o.output = OUTPUT_JSON;
        json = render(&o, &s, &p);
        json_shape_check(json);
}

/* ---- the log ------------------------------------------------------------------------------------- */

static void test_log_actions(void **state) {
        Capture *c = *state;
        Plan p = normal_plan(RESULT_DONE);
        Action failed =
                act(ACTION_REMOVE_POD_DIR,
                    UID_A,
                    PODS UID_A,
                    REASON_AFTER,
                    RESULT_FAILED,
                    "Device or resource busy");
        Action skipped =
                act(ACTION_REMOVE_LOG_DIR,
                    UID_D,
                    LOGS "x_y_" UID_D,
                    REASON_ORPHAN,
                    RESULT_SKIPPED,
                    "the runtime knows the pod again");
        Action planned =
                act(ACTION_DESTROY_CGROUP,
                    UID_A,
                    "kubepods/besteffort/pod" UID_A,
                    REASON_KILL,
                    RESULT_PLANNED,
                    NULL);
        Action hostile =
                act(ACTION_SKIP_POD, "", PODS "x\ny\x1b", "not a pod uid: kept", RESULT_PLANNED, NULL);
        _cleanup_free_ char *out = NULL;

        for (size_t i = 0; i < p.n_actions; i++)
                report_log_action(&p.actions[i]);
        report_log_action(&failed);
        report_log_action(&skipped);
        report_log_action(&planned);
        report_log_action(&hostile);
        report_log_action(NULL);

        out = capture_read(c);
        assert_non_null(
                strstr(out,
                       ": destroy-cgroup pod " UID_A " kubepods/besteffort/pod" UID_A ": done (" REASON_KILL
                       ")\n"));
        assert_non_null(
                strstr(out,
                       ": remove-log-dir pod " UID_D " " LOGS "batch_report-28714560-abcde_" UID_D
                       ": done (" REASON_ORPHAN ")\n"));
        assert_non_null(strstr(
                out, ": warning: skip-pod pod " UID_B " " PODS UID_B ": refused (" REASON_MOUNTED ")\n"));
        assert_non_null(
                strstr(out, ": warning: skip-pod " PODS "lost+found: refused (not a pod uid: kept)\n"));
        assert_non_null(
                strstr(out, ": reduce-cgroup-cpu pod " UID_B " kubepods/burstable/pod" UID_B ": done ("));
        assert_non_null(
                strstr(out,
                       ": error: remove-pod-dir pod " UID_A " " PODS UID_A
                       ": failed: Device or resource busy (" REASON_AFTER ")\n"));
        assert_non_null(
                strstr(out,
                       ": warning: remove-log-dir pod " UID_D " " LOGS "x_y_" UID_D
                       ": skipped: the runtime knows the pod again ("));
        assert_non_null(
                strstr(out,
                       ": destroy-cgroup pod " UID_A " kubepods/besteffort/pod" UID_A
                       ": planned (" REASON_KILL ")\n"));
        assert_non_null(
                strstr(out, ": warning: skip-pod " PODS "x\\x0ay\\x1b: refused (not a pod uid: kept)\n"));
        /* One line per action and refusal, nothing else. */
        {
                size_t n_lines = 0;

                for (const char *ch = out; *ch; ch++)
                        n_lines += *ch == '\n';
                assert_int_equal(n_lines, p.n_actions + 4);
        }
        /* journald fields are not part of the stderr line. */
        assert_null(strstr(out, "POD_UID="));
}

static void test_log_levels(void **state) {
        Capture *c = *state;
        Action done = act(ACTION_REMOVE_POD_DIR, UID_A, PODS UID_A, REASON_ORPHAN, RESULT_DONE, NULL);
        Action refused = act(ACTION_SKIP_POD, UID_C, PODS UID_C, REASON_GRACE, RESULT_PLANNED, NULL);
        Action failed =
                act(ACTION_DESTROY_CGROUP, UID_D, "kubepods/pod" UID_D, REASON_ORPHAN, RESULT_FAILED, NULL);
        _cleanup_free_ char *out = NULL;

        log_set_max_level(LOG_WARNING);
        report_log_action(&done);
        report_log_action(&refused);
        log_set_max_level(LOG_ERR);
        report_log_action(&refused);
        report_log_action(&failed);

        out = capture_read(c);
        assert_null(strstr(out, ": done ("));
        assert_non_null(strstr(out, "warning: skip-pod pod " UID_C));
        assert_null(strstr(strstr(out, "skip-pod") + 1, "skip-pod"));
        /* A failure without an error text still says it failed. */
        assert_non_null(strstr(out, "error: destroy-cgroup pod " UID_D " kubepods/pod" UID_D ": failed ("));

        /* Waiting out the grace is no warning: shown at info, not at warning. */
        size_t before = strlen(out);
        free(out);
        refused.refusal = REFUSAL_GRACE;
        log_set_max_level(LOG_WARNING);
        report_log_action(&refused);
        log_set_max_level(LOG_INFO);
        report_log_action(&refused);
        out = capture_read(c);
        const char *tail = out + MIN(before, strlen(out));
        assert_null(strstr(tail, "warning: skip-pod"));
        assert_non_null(strstr(tail, "skip-pod pod " UID_C));
        assert_null(strstr(strstr(tail, "skip-pod") + 1, "skip-pod"));
}

/* ---- deleted pods (runtime GC, DESIGN §2) --------------------------------------------------------- */

#define EVIDENCE_15M \
        "pod dir removed by the kubelet, no ready sandbox, no running container, not active in the " \
        "kubelet, for 15m (grace 10m)"
#define EVIDENCE_2M \
        "pod dir removed by the kubelet, no ready sandbox, no running container, not active in the " \
        "kubelet, for 2m (grace 10m)"
#define REASON_NO_POD_DIR \
        "pod " UID_E " has a ready sandbox but no pod dir in /var/lib/kubelet/pods: --root-dir is not " \
        "the kubelet's, or the kubelet does not manage this node's pods"

static DeletedPod deleted_pods[] = {
        {.uid = UID_A,
         .first_seen = 1718000000 * USEC_PER_SEC - 15 * USEC_PER_MINUTE,
         .past_grace = true,
         .evidence = (char *) EVIDENCE_15M},
        {.uid = UID_C,
         .first_seen = 1718000000 * USEC_PER_SEC - 2 * USEC_PER_MINUTE,
         .evidence = (char *) EVIDENCE_2M},
};

static Action deleted_actions[2];

static Plan deleted_plan(ActionResult result) {
        deleted_actions[0] =
                act(ACTION_REMOVE_CONTAINER,
                    UID_A,
                    "c0ffee",
                    "exited container 'app' (attempt 0, created 3h ago) of a deleted pod: " EVIDENCE_15M,
                    result,
                    NULL);
        deleted_actions[1] =
                act(ACTION_REMOVE_SANDBOX,
                    UID_A,
                    "5a5a5a",
                    "NotReady sandbox (attempt 0, created 3h ago) without containers: its pod is "
                    "deleted (" EVIDENCE_15M "); stopped, then removed",
                    result,
                    NULL);
        deleted_actions[0].pod_deleted = deleted_actions[1].pod_deleted = true;
        return (Plan){
                .actions = deleted_actions,
                .n_actions = ELEMENTSOF(deleted_actions),
                .deleted = {.considered = true, .pods = deleted_pods, .n_pods = ELEMENTSOF(deleted_pods)},
        };
}

static Plan no_pod_dir_plan(void) {
        return (Plan){
                .deleted =
                        {.considered = true,
                         .rule = DELETED_RULE_OFF_NO_POD_DIR,
                         .off_reason = (char *) REASON_NO_POD_DIR,
                         .no_pod_dir_uid = (char *) UID_E},
        };
}

static void test_text_deleted(void **state) {
        Snapshot s = node();
        Options run = options(COMMAND_RUN, OUTPUT_TEXT), plan = options(COMMAND_PLAN, OUTPUT_TEXT);
        Plan p = deleted_plan(RESULT_DONE);
        _cleanup_free_ char *out = NULL, *out_plan = NULL;

        (void) state;
        out = render(&run, &s, &p);
        assert_non_null(
                strstr(out,
                       "\nDeleted pod " UID_A ": " EVIDENCE_15M
                       ": every inactive sandbox and dead container of it goes\n"));
        assert_non_null(
                strstr(out,
                       "\nDeleted pod " UID_C ": " EVIDENCE_2M
                       ": within the grace, its last sandbox and dead containers kept\n"));
        assert_non_null(strstr(out, "Runtime GC: 1 container removed, 1 sandbox removed; 2 done"));
        /* The rule is on: no word of it being off. */
        assert_null(strstr(out, "Deleted-pod rule off"));

        /* The static actions are rebuilt: planned now. */
        p = deleted_plan(RESULT_PLANNED);
        out_plan = render(&plan, &s, &p);
        assert_non_null(
                strstr(out_plan,
                       "Deleted pod " UID_A ": " EVIDENCE_15M
                       ": every inactive sandbox and dead container of it would go\n"));
}

static void test_text_deleted_rule_off(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_TEXT);
        Plan p = no_pod_dir_plan(), not_considered = no_pod_dir_plan();
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        (void) state;
        out = render(&o, &s, &p);
        assert_non_null(strstr(
                out,
                "\nDeleted-pod rule off (a pod's last sandbox and dead containers stay): " REASON_NO_POD_DIR
                "\n"));
        assert_null(strstr(out, "Deleted pod "));

        /* Not considered (no runtime GC kind, the runtime not read): nothing to say. */
        not_considered.deleted.considered = false;
        out2 = render(&o, &s, &not_considered);
        assert_null(strstr(out2, "Deleted"));
}

static void test_json_deleted(void **state) {
        Snapshot s = node();
        Options o = options(COMMAND_RUN, OUTPUT_JSON);
        Plan p = deleted_plan(RESULT_DONE), off = no_pod_dir_plan();
        _cleanup_free_ char *out = NULL, *out_off = NULL;

        (void) state;
        s.now = 1718000000 * USEC_PER_SEC;
        out = render(&o, &s, &p);
        python_check(
                out,
                "d[\"deleted_pods\"] == {\"rule\": \"on\", \"reason\": None, \"no_pod_dir_pod_uid\": None, "
                "\"pods\": [{\"pod_uid\": \"" UID_A
                "\", \"verdict\": \"deleted\", \"first_seen\": 1717999100, "
                "\"for_seconds\": 900, \"evidence\": \"" EVIDENCE_15M "\"}, {\"pod_uid\": \"" UID_C
                "\", \"verdict\": \"grace\", \"first_seen\": 1717999880, \"for_seconds\": 120, "
                "\"evidence\": "
                "\"" EVIDENCE_2M "\"}]} and [a[\"kind\"] for a in d[\"actions\"]] == [\"remove-container\", "
                "\"remove-sandbox\"] and all(\"of a deleted pod\" in a[\"reason\"] or \"its pod is "
                "deleted\" in "
                "a[\"reason\"] for a in d[\"actions\"])");

        out_off = render(&o, &s, &off);
        python_check(
                out_off,
                "d[\"deleted_pods\"][\"rule\"] == \"no-pod-dir\" and "
                "d[\"deleted_pods\"][\"reason\"].startswith(\"pod " UID_E
                " has a ready sandbox but no pod dir in /var/lib/kubelet/pods: --root-dir\") and "
                "d[\"deleted_pods\"][\"no_pod_dir_pod_uid\"] == \"" UID_E
                "\" and d[\"deleted_pods\"][\"pods\"] == [] "
                "and len(d[\"deleted_pods\"]) == 4");

        /* Not considered: no object at all (DESIGN §4's document as it was). */
        off.deleted.considered = false;
        free(out_off);
        out_off = render(&o, &s, &off);
        json_shape_check(out_off);
}

static void test_log_deleted(void **state) {
        Capture *c = *state;
        Plan p = deleted_plan(RESULT_DONE), off = no_pod_dir_plan();
        Plan sources = {
                .deleted = {
                        .considered = true,
                        .rule = DELETED_RULE_OFF_SOURCES,
                        .off_reason = (char *) "not every source was read"}};
        Plan kubelet = {
                .deleted = {
                        .considered = true,
                        .rule = DELETED_RULE_OFF_KUBELET,
                        .off_reason = (char *) "the kubelet was not read"}};
        _cleanup_free_ char *out = NULL;

        log_set_max_level(LOG_INFO);
        report_log_deleted(&p, true);
        report_log_deleted(&p, false); /* plan: its report has them */
        report_log_deleted(&off, true);
        report_log_deleted(&sources, true);
        report_log_deleted(&kubelet, true);
        p.deleted.considered = false;
        report_log_deleted(&p, true);
        report_log_deleted(NULL, true);

        out = capture_read(c);
        assert_non_null(
                strstr(out,
                       ": pod " UID_A " deleted: " EVIDENCE_15M
                       "; every inactive sandbox and dead container of it goes\n"));
        assert_non_null(
                strstr(out,
                       ": pod " UID_C " deleted: " EVIDENCE_2M
                       "; within the grace, its last sandbox and dead containers kept\n"));
        assert_non_null(
                strstr(out,
                       ": warning: Deleted-pod rule off this pass, a pod's last sandbox and dead "
                       "containers stay: " REASON_NO_POD_DIR "\n"));
        assert_non_null(
                strstr(out,
                       "Deleted-pod rule off this pass, a pod's last sandbox and dead containers "
                       "stay: the kubelet was not read\n"));
        assert_null(
                strstr(out,
                       "warning: Deleted-pod rule off this pass, a pod's last sandbox and dead "
                       "containers stay: the kubelet"));
        /* Sources not read: the pass's error says it; pods once (pods=false adds none). */
        assert_null(strstr(out, "not every source was read"));
        {
                size_t n_lines = 0;

                for (const char *ch = out; *ch; ch++)
                        n_lines += *ch == '\n';
                assert_int_equal(n_lines, 4);
        }
}

/* journald gets a MESSAGE_ID per kind of event. In a private mount namespace a datagram socket
 * stands in for journald's, as in test-log. 0 pass, 1 fail, 77 cannot set up. */
static int message_ids_child(void) {
        const struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
        const struct {
                Action action;
                const char *want;
        } events[] = {
                {act(ACTION_DESTROY_CGROUP, UID_A, "kubepods/pod" UID_A, REASON_KILL, RESULT_DONE, NULL),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_ACTION_DONE "\n"},
                {act(ACTION_REMOVE_POD_DIR, UID_A, PODS UID_A, REASON_AFTER, RESULT_FAILED, "busy"),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_ACTION_FAILED "\n"},
                {act(ACTION_REMOVE_LOG_DIR, UID_D, LOGS "x_y_" UID_D, REASON_ORPHAN, RESULT_SKIPPED, "live"),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_ACTION_SKIPPED "\n"},
                {act(ACTION_SKIP_POD, UID_B, PODS UID_B, REASON_MOUNTED, RESULT_PLANNED, NULL),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_REFUSAL "\n"},
                {act(ACTION_SKIP_POD, "", PODS "lost+found", "not a pod uid: kept", RESULT_PLANNED, NULL),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_REFUSAL "\n"},
                {act(ACTION_REMOVE_POD_DIR, UID_A, PODS UID_A, REASON_AFTER, RESULT_PLANNED, NULL),
                 "\nMESSAGE_ID=" PODREAPER_MESSAGE_ACTION_PLANNED "\n"},
        };
        char buf[8192];
        int fd;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/systemd", 0755) < 0 ||
            mkdir("/run/systemd/journal", 0755) < 0)
                return 77;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return 77;
        log_set_target(LOG_TARGET_JOURNAL);
        log_set_max_level(LOG_DEBUG);

        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                ssize_t n;

                report_log_action(&events[i].action);
                n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (n <= 0) {
                        fprintf(stderr, "event %zu: nothing reached the journal\n", i);
                        return 1;
                }
                buf[n] = '\0';
                /* The id, once, and the other fields still there. */
                if (!strstr(buf, events[i].want) || strstr(strstr(buf, "MESSAGE_ID=") + 1, "MESSAGE_ID=") ||
                    !strstr(buf, "\nPODREAPER_ACTION=")) {
                        fprintf(stderr, "event %zu: expected %s in:\n%s\n", i, events[i].want + 1, buf);
                        return 1;
                }
        }

        /* The deleted-pod rule: off (with the ready pod's uid), then a pod it found. */
        const Plan off = no_pod_dir_plan();
        DeletedPod one = deleted_pods[0];
        const Plan found = {.deleted = {.considered = true, .pods = &one, .n_pods = 1}};
        const char *const want[][3] = {
                {"MESSAGE_ID=" PODREAPER_MESSAGE_DELETED_RULE_OFF "\n",
                 "POD_UID=" UID_E "\n",
                 "PODREAPER_REASON=" REASON_NO_POD_DIR "\n"},
                {"MESSAGE_ID=" PODREAPER_MESSAGE_DELETED_POD "\n",
                 "POD_UID=" UID_A "\n",
                 "PODREAPER_REASON=" EVIDENCE_15M "\n"},
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                ssize_t n;

                report_log_deleted(i == 0 ? &off : &found, true);
                n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (n <= 0) {
                        fprintf(stderr, "deleted event %zu: nothing reached the journal\n", i);
                        return 1;
                }
                buf[n] = '\0';
                for (size_t k = 0; k < ELEMENTSOF(want[i]); k++)
                        if (!strstr(buf, want[i][k])) {
                                fprintf(stderr,
                                        "deleted event %zu: expected %s in:\n%s\n",
                                        i,
                                        want[i][k],
                                        buf);
                                return 1;
                        }
        }
        return 0;
}

static void test_log_message_ids(void **state) {
        (void) state;
        /* Distinct ids of sd-id128's form. */
        {
                const char *const ids[] = {
                        PODREAPER_MESSAGE_ACTION_DONE,
                        PODREAPER_MESSAGE_ACTION_FAILED,
                        PODREAPER_MESSAGE_ACTION_SKIPPED,
                        PODREAPER_MESSAGE_REFUSAL,
                        PODREAPER_MESSAGE_ACTION_PLANNED,
                        PODREAPER_MESSAGE_DELETED_POD,
                        PODREAPER_MESSAGE_DELETED_RULE_OFF,
                };

                for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                        assert_int_equal(strlen(ids[i]), 32);
                        assert_int_equal(strspn(ids[i], "0123456789abcdef"), 32);
                        for (size_t j = 0; j < i; j++)
                                assert_string_not_equal(ids[i], ids[j]);
                }
        }
        assert_child_passes(message_ids_child);
}

#define capture_test(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_run),
                cmocka_unit_test(test_text_plan),
                cmocka_unit_test(test_text_dry_run_kubelet_not_required),
                cmocka_unit_test(test_text_blocked),
                cmocka_unit_test(test_text_breaker),
                cmocka_unit_test(test_text_failed_and_skipped),
                cmocka_unit_test(test_text_found_and_repeats),
                cmocka_unit_test(test_text_hostile_names),
                cmocka_unit_test(test_text_columns),
                cmocka_unit_test(test_json_run),
                cmocka_unit_test(test_json_plan),
                cmocka_unit_test(test_json_blocked_and_breaker),
                cmocka_unit_test(test_json_failed),
                cmocka_unit_test(test_json_hostile_target),
                cmocka_unit_test(test_json_string),
                cmocka_unit_test(test_json_nothing),
                cmocka_unit_test(test_many_pods),
                cmocka_unit_test(test_text_deleted),
                cmocka_unit_test(test_text_deleted_rule_off),
                cmocka_unit_test(test_json_deleted),
                capture_test(test_log_actions),
                capture_test(test_log_levels),
                capture_test(test_log_deleted),
                cmocka_unit_test(test_log_message_ids),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
