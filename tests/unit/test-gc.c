/* SPDX-License-Identifier: MIT */
/* The runtime GC policies (reaper/gc.h) against the kubelet's own tests: every case named
 * "Test..." is a row of kuberuntime_gc_test.go or image_gc_manager_test.go with the same inputs and
 * the same survivors; the cases named "podreaper: ..." are where gc.h documents more than the
 * kubelet does.
 *
 * How the kubelet's fakes translate: makeGCContainer(pod, name, attempt, createdAt, state) uses the
 * pod name as the pod uid, createdAt in nanoseconds (0..4: ancient, time.Now(): NOW); a pod that
 * ShouldPodContentBeRemoved (deleted), or ShouldPodRuntimeBeRemoved with evictTerminatingPods, is
 * in gone_uids; allSourcesReady=false means no gone uids at all. Survivors are the GC_KEEP verdicts.
 *
 * Table cases report every mismatch (expected vs actual verdicts) and fail at the end, so that one
 * run lists all the disagreements. */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reaper/gc.h"
#include "reaper/state.h"
#include "util/macro.h"

#define NOW ((usec_t) 1700000000 * USEC_PER_SEC)
#define NS(usec) ((int64_t) (usec) *1000)
#define RECENT NS(NOW) /* the kubelet's time.Now().UnixNano() */

#define EXITED CRI_CONTAINER_EXITED
#define RUNNING CRI_CONTAINER_RUNNING
#define CREATED CRI_CONTAINER_CREATED
#define UNKNOWN CRI_CONTAINER_UNKNOWN
#define READY CRI_SANDBOX_READY
#define NOTREADY CRI_SANDBOX_NOTREADY

#define KEEP GC_KEEP
#define POD_GONE GC_EVICT_POD_GONE
#define PER_CTR GC_EVICT_PER_CONTAINER
#define TOTAL GC_EVICT_TOTAL
#define SANDBOX GC_EVICT_SANDBOX
#define SPACE GC_EVICT_IMAGE_SPACE
#define AGE GC_EVICT_IMAGE_AGE

#define MAX_ROWS 12

/* ---- verdict reports --------------------------------------------------------------------------- */

static const char *verdict_name(GcVerdict v) {
        switch (v) {
        case GC_KEEP:
                return "keep";
        case GC_EVICT_POD_GONE:
                return "pod-gone";
        case GC_EVICT_PER_CONTAINER:
                return "per-container";
        case GC_EVICT_TOTAL:
                return "total";
        case GC_EVICT_SANDBOX:
                return "sandbox";
        case GC_EVICT_IMAGE_SPACE:
                return "image-space";
        case GC_EVICT_IMAGE_AGE:
                return "image-age";
        }
        return "?";
}

/* "survivors [0 1] verdicts [keep keep per-container]" into buf. */
static const char *format_verdicts(char *buf, size_t size, const GcVerdict *v, size_t n) {
        size_t l = 0;

        buf[0] = '\0';
        l += (size_t) snprintf(buf + l, size - MIN(l, size), "survivors [");
        for (size_t i = 0, first = 1; i < n; i++)
                if (v[i] == GC_KEEP) {
                        l += (size_t) snprintf(
                                buf + MIN(l, size), size - MIN(l, size), "%s%zu", first ? "" : " ", i);
                        first = 0;
                }
        l += (size_t) snprintf(buf + MIN(l, size), size - MIN(l, size), "] verdicts [");
        for (size_t i = 0; i < n; i++)
                l += (size_t) snprintf(
                        buf + MIN(l, size), size - MIN(l, size), "%s%s", i ? " " : "", verdict_name(v[i]));
        (void) snprintf(buf + MIN(l, size), size - MIN(l, size), "]");
        return buf;
}

/* Prints the case and returns 1 when got differs from expect. */
static unsigned verdicts_check(const char *what, const GcVerdict *expect, const GcVerdict *got, size_t n) {
        char e[512], g[512];

        for (size_t i = 0; i < n; i++)
                if (expect[i] != got[i]) {
                        print_error(
                                "MISMATCH %s\n    expected %s\n    actual   %s\n",
                                what,
                                format_verdicts(e, sizeof(e), expect, n),
                                format_verdicts(g, sizeof(g), got, n));
                        return 1;
                }
        return 0;
}

/* ---- containers (TestContainerGC, TestUnknownStateContainerGC) --------------------------------- */

typedef struct CtrRow {
        const char *pod;    /* the pod uid label (the kubelet's test: the pod name); NULL: no label */
        const char *name;   /* NULL ends the table */
        int64_t created_at; /* ns */
        int state;
        GcVerdict expect;
} CtrRow;

typedef struct Containers {
        CriContainer items[MAX_ROWS];
        CriKeyValue labels[MAX_ROWS][2];
        char ids[MAX_ROWS][16];
        GcVerdict expect[MAX_ROWS];
        size_t n;
} Containers;

/* Built in place: the containers point into *cs. */
static void containers_build(Containers *cs, const CtrRow *rows) {
        *cs = (Containers){};
        for (size_t i = 0; i < MAX_ROWS && rows[i].name; i++) {
                snprintf(cs->ids[i], sizeof(cs->ids[i]), "ctr-%02zu", i);
                cs->labels[i][0] = (CriKeyValue){"io.kubernetes.container.name", rows[i].name};
                cs->labels[i][1] = (CriKeyValue){POD_UID_LABEL, rows[i].pod};
                cs->items[i] = (CriContainer){
                        .id = cs->ids[i],
                        .pod_sandbox_id = "",
                        .name = rows[i].name,
                        .image = "",
                        .image_ref = "",
                        .image_id = "",
                        .state = rows[i].state,
                        .created_at = rows[i].created_at,
                        .labels = {cs->labels[i], rows[i].pod ? 2 : 1},
                        .annotations = {NULL, 0},
                };
                cs->expect[i] = rows[i].expect;
                cs->n++;
        }
}

static size_t strv_length(const char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

typedef struct ContainerCase {
        const char *what;
        GcContainerPolicy policy;
        const char *gone[4]; /* sorted, NULL-terminated */
        CtrRow rows[MAX_ROWS];
} ContainerCase;

/* The kubelet's defaultGCPolicy in TestContainerGC. */
#define KUBELET_DEFAULT \
        { .min_age = USEC_PER_HOUR, .max_per_pod_container = 2, .max_containers = 6 }

static const ContainerCase container_cases[] = {
        {
                .what = "TestContainerGC: all containers should be removed when max container limit is 0",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = 1, .max_containers = 0},
                .rows = {{"foo", "bar", 0, EXITED, TOTAL}},
        },
        {
                .what = "TestContainerGC: max containers should be complied when no max per pod container "
                        "limit is set",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = -1, .max_containers = 4},
                .rows =
                        {
                                {"foo", "bar", 4, EXITED, KEEP},
                                {"foo", "bar", 3, EXITED, KEEP},
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, TOTAL},
                        },
        },
        {
                .what = "TestContainerGC: no containers should be removed if both max container and per pod "
                        "container limits are not set",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = -1, .max_containers = -1},
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, KEEP},
                        },
        },
        {
                .what = "TestContainerGC: recently started containers should not be removed",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", RECENT, EXITED, KEEP},
                                {"foo", "bar", RECENT, EXITED, KEEP},
                                {"foo", "bar", RECENT, EXITED, KEEP},
                        },
        },
        {
                .what = "TestContainerGC: oldest containers should be removed when per pod container limit "
                        "exceeded",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, PER_CTR},
                        },
        },
        {
                .what = "TestContainerGC: running containers should not be removed",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, RUNNING, KEEP},
                        },
        },
        {
                .what = "TestContainerGC: no containers should be removed when limits are not exceeded",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, KEEP},
                        },
        },
        {
                .what = "TestContainerGC: max container count should apply per (UID, container) pair",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, PER_CTR},
                                {"foo1", "baz", 2, EXITED, KEEP},
                                {"foo1", "baz", 1, EXITED, KEEP},
                                {"foo1", "baz", 0, EXITED, PER_CTR},
                                {"foo2", "bar", 2, EXITED, KEEP},
                                {"foo2", "bar", 1, EXITED, KEEP},
                                {"foo2", "bar", 0, EXITED, PER_CTR},
                        },
        },
        {
                .what = "TestContainerGC: max limit should apply and try to keep from every pod",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, TOTAL},
                                {"foo1", "bar1", 1, EXITED, KEEP},
                                {"foo1", "bar1", 0, EXITED, TOTAL},
                                {"foo2", "bar2", 1, EXITED, KEEP},
                                {"foo2", "bar2", 0, EXITED, TOTAL},
                                {"foo3", "bar3", 1, EXITED, KEEP},
                                {"foo3", "bar3", 0, EXITED, TOTAL},
                                {"foo4", "bar4", 1, EXITED, KEEP},
                                {"foo4", "bar4", 0, EXITED, TOTAL},
                        },
        },
        {
                .what = "TestContainerGC: oldest pods should be removed if limit exceeded",
                .policy = KUBELET_DEFAULT,
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, KEEP},
                                {"foo", "bar", 1, EXITED, TOTAL},
                                {"foo1", "bar1", 2, EXITED, KEEP},
                                {"foo1", "bar1", 1, EXITED, TOTAL},
                                {"foo2", "bar2", 1, EXITED, KEEP},
                                {"foo3", "bar3", 0, EXITED, TOTAL},
                                {"foo4", "bar4", 1, EXITED, KEEP},
                                {"foo5", "bar5", 0, EXITED, TOTAL},
                                {"foo6", "bar6", 2, EXITED, KEEP},
                                {"foo7", "bar7", 1, EXITED, KEEP},
                        },
        },
        {
                /* Every pod but "running" is terminated, and evictTerminatingPods: all gone. */
                .what = "TestContainerGC: all non-running containers should be removed when "
                        "evictTerminatingPods is set",
                .policy = KUBELET_DEFAULT,
                .gone = {"foo", "foo1", "foo3"},
                .rows =
                        {
                                {"foo", "bar", 2, EXITED, POD_GONE},
                                {"foo", "bar", 1, EXITED, POD_GONE},
                                {"foo1", "bar1", 2, EXITED, POD_GONE},
                                {"foo1", "bar1", 1, EXITED, POD_GONE},
                                {"running", "bar2", 1, EXITED, KEEP},
                                {"foo3", "bar3", 0, RUNNING, KEEP},
                        },
        },
        {
                .what = "TestContainerGC: containers for deleted pods should be removed (deleted pods still "
                        "respect MinAge)",
                .policy = KUBELET_DEFAULT,
                .gone = {"deleted"},
                .rows =
                        {
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, KEEP},
                                {"deleted", "bar1", RECENT, EXITED, KEEP},
                                {"deleted", "bar1", 1, EXITED, POD_GONE},
                                {"deleted", "bar1", 0, EXITED, POD_GONE},
                        },
        },
        {
                /* allSourcesReady=false: the kubelet does not trust "deleted": no gone uids. */
                .what = "TestContainerGC: containers for deleted pods may not be removed if allSourcesReady "
                        "is set false",
                .policy = KUBELET_DEFAULT,
                .rows = {{"deleted", "bar1", 0, EXITED, KEEP}},
        },
        {
                .what = "TestUnknownStateContainerGC: a container in unknown state is removed",
                .policy = {.min_age = USEC_PER_HOUR, .max_per_pod_container = 0, .max_containers = 0},
                .rows = {{"foo", "bar", 0, UNKNOWN, PER_CTR}},
        },

        /* ---- beyond the kubelet's tables ---- */
        {
                /* The kubelet groups an unlabeled container under uid "" and evicts it; gc.h keeps it. */
                .what = "podreaper: a container without the pod uid label is kept",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = 0, .max_containers = 0},
                .gone = {""},
                .rows =
                        {
                                {NULL, "bar", 0, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, PER_CTR},
                        },
        },
        {
                /* evictableContainers: newestGCTime.Before(createdAt) is kept; exactly min_age old goes. */
                .what = "podreaper: min_age boundary, by created_at",
                .policy = {.min_age = USEC_PER_HOUR, .max_per_pod_container = 0, .max_containers = -1},
                .rows =
                        {
                                {"foo", "bar", NS(NOW - USEC_PER_HOUR), EXITED, PER_CTR},
                                {"foo", "bar", NS(NOW - USEC_PER_HOUR + 1), EXITED, KEEP},
                                {"foo", "bar", NS(NOW + USEC_PER_HOUR), EXITED, KEEP},
                        },
        },
        {
                .what = "podreaper: CREATED and UNKNOWN containers are evictable, RUNNING ones are not",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = 0, .max_containers = -1},
                .rows =
                        {
                                {"foo", "a", 0, CREATED, PER_CTR},
                                {"foo", "b", 0, UNKNOWN, PER_CTR},
                                {"foo", "c", 0, RUNNING, KEEP},
                                {"foo", "d", 0, EXITED, PER_CTR},
                        },
        },
        {
                /* A gone pod's containers leave evictUnits before the total is counted. */
                .what = "podreaper: containers of a gone pod do not count towards max_containers",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = -1, .max_containers = 2},
                .gone = {"gone"},
                .rows =
                        {
                                {"gone", "x", 3, EXITED, POD_GONE},
                                {"gone", "x", 2, EXITED, POD_GONE},
                                {"gone", "y", 1, EXITED, POD_GONE},
                                {"foo", "bar", 1, EXITED, KEEP},
                                {"foo", "bar", 0, EXITED, KEEP},
                        },
        },
        {
                /* Groups are (pod uid, container name): the same name in two pods is two groups. */
                .what = "podreaper: per-container limit is per (pod uid, name), newest first whatever the "
                        "order",
                .policy = {.min_age = USEC_PER_MINUTE, .max_per_pod_container = 1, .max_containers = -1},
                .rows =
                        {
                                {"foo", "bar", 1, EXITED, PER_CTR},
                                {"foo1", "bar", 5, EXITED, KEEP},
                                {"foo", "bar", 3, EXITED, KEEP},
                                {"foo1", "bar", 4, EXITED, PER_CTR},
                                {"foo", "baz", 0, EXITED, KEEP},
                        },
        },
};

static void test_containers(void **state) {
        unsigned failed = 0;

        (void) state;
        for (size_t c = 0; c < ELEMENTSOF(container_cases); c++) {
                const ContainerCase *t = &container_cases[c];
                GcVerdict got[MAX_ROWS];
                Containers cs;

                containers_build(&cs, t->rows);
                for (size_t i = 0; i < cs.n; i++)
                        got[i] = (GcVerdict) 0x5a; /* must be written */
                assert_int_equal(
                        gc_containers(
                                cs.items,
                                cs.n,
                                &t->policy,
                                (char *const *) t->gone,
                                strv_length(t->gone),
                                NOW,
                                got),
                        0);
                failed += verdicts_check(t->what, cs.expect, got, cs.n);
        }
        if (failed > 0)
                fail_msg("%u of %zu container cases differ", failed, ELEMENTSOF(container_cases));
}

static void test_containers_empty(void **state) {
        const GcContainerPolicy p = KUBELET_DEFAULT;

        (void) state;
        assert_int_equal(gc_containers(NULL, 0, &p, NULL, 0, NOW, NULL), 0);
}

/* ---- sandboxes (TestSandboxGC) ----------------------------------------------------------------- */

typedef struct SbRow {
        const char *pod; /* pod uid; NULL ends the table */
        uint32_t attempt;
        int state;
        int64_t created_at;
        GcVerdict expect;
} SbRow;

typedef struct SbCtrRow {
        const char *pod; /* NULL ends the table */
        uint32_t sandbox_attempt;
        int state;
        GcVerdict verdict; /* the container's own verdict, passed as container_verdicts */
} SbCtrRow;

typedef struct SandboxCase {
        const char *what;
        const char *gone[4];
        SbRow sandboxes[MAX_ROWS];
        SbCtrRow containers[MAX_ROWS];
        bool with_container_verdicts; /* else container_verdicts NULL: every container stays */
} SandboxCase;

/* The kubelet's pods in TestSandboxGC: foo1 (uid 1234), foo2 (5678), deleted (9012). */
#define P0 "1234"
#define P1 "5678"
#define P2 "9012"

static const SandboxCase sandbox_cases[] = {
        {
                .what = "TestSandboxGC: notready sandboxes without containers for deleted pods should be "
                        "garbage collected",
                .gone = {P2},
                .sandboxes = {{P2, 0, NOTREADY, 0, POD_GONE}},
        },
        {
                .what = "TestSandboxGC: ready sandboxes without containers for deleted pods should not be "
                        "garbage collected",
                .gone = {P2},
                .sandboxes = {{P2, 0, READY, 0, KEEP}},
        },
        {
                .what = "TestSandboxGC: sandboxes for existing pods should not be garbage collected",
                .sandboxes =
                        {
                                {P0, 0, READY, 0, KEEP},
                                {P1, 0, NOTREADY, 0, KEEP},
                        },
        },
        {
                .what = "TestSandboxGC: older exited sandboxes without containers for existing pods should "
                        "be garbage collected if there are more than one exited sandboxes",
                .sandboxes =
                        {
                                {P0, 1, NOTREADY, 1, KEEP},
                                {P0, 0, NOTREADY, 0, SANDBOX},
                        },
        },
        {
                .what = "TestSandboxGC: older exited sandboxes with containers for existing pods should not "
                        "be garbage collected even if there are more than one exited sandboxes",
                .sandboxes =
                        {
                                {P0, 1, NOTREADY, 1, KEEP},
                                {P0, 0, NOTREADY, 0, KEEP},
                        },
                .containers = {{P0, 0, EXITED, KEEP}},
        },
        {
                /* Both pods terminating and evictTerminatingPods: both gone. */
                .what = "TestSandboxGC: non-running sandboxes for existing pods should be garbage collected "
                        "if evictTerminatingPods is set",
                .gone = {P0, P1},
                .sandboxes =
                        {
                                {P0, 0, READY, 0, KEEP},
                                {P1, 0, NOTREADY, 0, POD_GONE},
                        },
        },
        {
                .what = "TestSandboxGC: sandbox with containers should not be garbage collected",
                .sandboxes = {{P0, 0, NOTREADY, 0, KEEP}},
                .containers = {{P0, 0, EXITED, KEEP}},
        },
        {
                .what = "TestSandboxGC: multiple sandboxes should be handled properly",
                .gone = {P2},
                .sandboxes =
                        {
                                {P0, 1, READY, 1, KEEP},        /* running sandbox */
                                {P0, 0, NOTREADY, 0, SANDBOX},  /* exited, without containers */
                                {P1, 1, NOTREADY, 1, KEEP},     /* exited, with containers */
                                {P1, 0, NOTREADY, 0, SANDBOX},  /* exited, without containers */
                                {P2, 0, NOTREADY, 0, POD_GONE}, /* exited, of a deleted pod */
                        },
                .containers = {{P1, 1, EXITED, KEEP}},
        },

        /* ---- beyond the kubelet's tables ---- */
        {
                .what = "podreaper: a gone pod's sandbox with a container that stays is kept",
                .gone = {P0},
                .sandboxes = {{P0, 0, NOTREADY, 0, KEEP}},
                .containers = {{P0, 0, EXITED, KEEP}},
                .with_container_verdicts = true,
        },
        {
                /* As evictSandboxes runs after evictContainers: a container this pass removes does not
                 * hold its sandbox. */
                .what = "podreaper: containers evicted in the same pass do not keep their sandbox active",
                .gone = {P2},
                .sandboxes =
                        {
                                {P0, 2, NOTREADY, 2, KEEP},
                                {P0, 1, NOTREADY, 1, SANDBOX},
                                {P0, 0, NOTREADY, 0, KEEP},
                                {P2, 0, NOTREADY, 0, POD_GONE},
                        },
                .containers =
                        {
                                {P0, 1, EXITED, PER_CTR},
                                {P0, 0, RUNNING, KEEP},
                                {P2, 0, EXITED, POD_GONE},
                        },
                .with_container_verdicts = true,
        },
        {
                /* The newest stays whatever its state; a READY older one stays too. */
                .what = "podreaper: newest by created_at, not by list order or attempt",
                .sandboxes =
                        {
                                {P1, 0, NOTREADY, 10, SANDBOX},
                                {P1, 1, NOTREADY, 30, KEEP},
                                {P1, 2, READY, 5, KEEP},
                                {P1, 3, NOTREADY, 20, SANDBOX},
                        },
        },
};

static void test_sandboxes(void **state) {
        unsigned failed = 0;

        (void) state;
        for (size_t c = 0; c < ELEMENTSOF(sandbox_cases); c++) {
                const SandboxCase *t = &sandbox_cases[c];
                CriPodSandbox sb[MAX_ROWS] = {};
                char sb_ids[MAX_ROWS][32], ctr_sb_ids[MAX_ROWS][32];
                GcVerdict expect[MAX_ROWS], got[MAX_ROWS], cverdicts[MAX_ROWS];
                CtrRow crows[MAX_ROWS + 1] = {};
                Containers cs;
                size_t n = 0;

                for (; n < MAX_ROWS && t->sandboxes[n].pod; n++) {
                        const SbRow *r = &t->sandboxes[n];

                        snprintf(sb_ids[n], sizeof(sb_ids[n]), "sandbox-%s-%" PRIu32, r->pod, r->attempt);
                        sb[n] = (CriPodSandbox){
                                .id = sb_ids[n],
                                .pod_name = "",
                                .pod_namespace = "new",
                                .pod_uid = r->pod,
                                .attempt = r->attempt,
                                .state = r->state,
                                .created_at = r->created_at,
                                .runtime_handler = "",
                        };
                        expect[n] = r->expect;
                        got[n] = (GcVerdict) 0x5a;
                }
                for (size_t i = 0; i < MAX_ROWS && t->containers[i].pod; i++) {
                        const SbCtrRow *r = &t->containers[i];

                        snprintf(
                                ctr_sb_ids[i],
                                sizeof(ctr_sb_ids[i]),
                                "sandbox-%s-%" PRIu32,
                                r->pod,
                                r->sandbox_attempt);
                        crows[i] = (CtrRow){r->pod, "bar1", 0, r->state, r->verdict};
                        cverdicts[i] = r->verdict;
                }
                containers_build(&cs, crows);
                for (size_t i = 0; i < cs.n; i++)
                        cs.items[i].pod_sandbox_id = ctr_sb_ids[i];

                assert_int_equal(
                        gc_sandboxes(
                                sb,
                                n,
                                cs.items,
                                cs.n,
                                t->with_container_verdicts ? cverdicts : NULL,
                                (char *const *) t->gone,
                                strv_length(t->gone),
                                got),
                        0);
                failed += verdicts_check(t->what, expect, got, n);
        }
        if (failed > 0)
                fail_msg("%u of %zu sandbox cases differ", failed, ELEMENTSOF(sandbox_cases));
}

/* ---- image records (TestDetectImages*) --------------------------------------------------------- */

#define IMG0 "image-0"
#define IMG1 "image-1"
#define IMG2 "image-2"

/* One detectImages pass: *st becomes the records after it. The kubelet's detectTime is our `now`
 * (its tests pass zero or a second later; only the order matters). */
static void detect(State *st, const char *const *ids, const bool *in_use, size_t n, usec_t now) {
        State out = {};

        assert_int_equal(gc_images_detect(st, ids, in_use, n, now, &out), 0);
        state_done(st);
        *st = out;
}

static void assert_record(const State *st, const char *id, usec_t first_detected, usec_t last_used) {
        const ImageSeen *r = state_image_find(st, id);

        if (!r)
                fail_msg("no record of %s", id);
        if (r->first_detected != first_detected || r->last_used != last_used)
                fail_msg(
                        "%s: first detected %" PRIu64 " last used %" PRIu64 ", expected %" PRIu64
                        " %" PRIu64,
                        id,
                        r->first_detected,
                        r->last_used,
                        first_detected,
                        last_used);
}

/* The kubelet's makeContainer(id): image "image-<id>-name", image id "image-<id>". */
static CriContainer make_container(const char *id, const char *image, const char *image_id) {
        return (CriContainer){
                .id = id,
                .pod_sandbox_id = "",
                .name = "c",
                .image = image,
                .image_ref = "",
                .image_id = image_id,
                .state = RUNNING,
        };
}

static CriImage make_cri_image(const char *id) {
        return (CriImage){.id = id, .username = ""};
}

static void test_detect_images_initial_detect(void **state) {
        /* TestDetectImagesInitialDetect: container-1 uses image-1 by id only (a no-name image),
         * container-2 uses image-2 by name and id. */
        const CriContainer containers[] = {
                make_container("container-1", "", IMG1),
                make_container("container-2", IMG2 "-name", IMG2),
        };
        const char *const ids[] = {IMG0, IMG1, IMG2};
        bool in_use[3];
        State st = {};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                CriImage img = make_cri_image(ids[i]);

                in_use[i] = gc_image_in_use(&img, containers, ELEMENTSOF(containers), NULL, NULL);
        }
        assert_false(in_use[0]);
        assert_true(in_use[1]);
        assert_true(in_use[2]);

        detect(&st, ids, in_use, ELEMENTSOF(ids), NOW);
        assert_int_equal(st.n_images, 3);
        assert_record(&st, IMG0, NOW, 0);
        assert_record(&st, IMG1, NOW, NOW);
        assert_record(&st, IMG2, NOW, NOW);
        state_done(&st);
}

static void test_detect_images_with_new_image(void **state) {
        /* TestDetectImagesWithNewImage */
        const char *const ids1[] = {IMG0, IMG1}, *const ids2[] = {IMG0, IMG1, IMG2};
        const bool use1[] = {false, true}, use2[] = {false, true, false};
        const usec_t t1 = NOW + USEC_PER_SEC;
        State st = {};

        (void) state;
        detect(&st, ids1, use1, 2, NOW);
        assert_int_equal(st.n_images, 2);
        detect(&st, ids2, use2, 3, t1);
        assert_int_equal(st.n_images, 3);
        assert_record(&st, IMG0, NOW, 0);
        assert_record(&st, IMG1, NOW, t1);
        assert_record(&st, IMG2, t1, 0);
        state_done(&st);
}

static void test_detect_images_container_stopped(void **state) {
        /* TestDetectImagesContainerStopped: last used stays when the container is gone. */
        const char *const ids[] = {IMG0, IMG1};
        const bool use1[] = {false, true}, use2[] = {false, false};
        State st = {};

        (void) state;
        detect(&st, ids, use1, 2, NOW);
        assert_int_equal(st.n_images, 2);
        detect(&st, ids, use2, 2, NOW + USEC_PER_MINUTE);
        assert_int_equal(st.n_images, 2);
        assert_record(&st, IMG0, NOW, 0);
        assert_record(&st, IMG1, NOW, NOW);
        state_done(&st);
}

static void test_detect_images_with_removed_images(void **state) {
        /* TestDetectImagesWithRemovedImages */
        const char *const ids[] = {IMG0, IMG1};
        const bool use[] = {false, true};
        State st = {};

        (void) state;
        detect(&st, ids, use, 2, NOW);
        assert_int_equal(st.n_images, 2);
        detect(&st, NULL, NULL, 0, NOW + USEC_PER_MINUTE);
        assert_int_equal(st.n_images, 0);
        assert_null(state_image_find(&st, IMG0));
        assert_null(state_image_find(&st, IMG1));
        state_done(&st);
}

static void test_detect_images_podreaper(void **state) {
        /* Beyond the kubelet: records survive from `saved` (a restart does not reset them), the
         * caller's orphan records in `out` are untouched, and an id the file cannot hold is
         * -EINVAL. */
        const char *const ids[] = {"sha256:aaaa", "sha256:bbbb"};
        const bool use[] = {true, false};
        const char *const bad[] = {"sha256:aaaa", "not an id"};
        State saved = {}, out = {};
        int r;

        (void) state;
        assert_true(state_image_set(&saved, "sha256:aaaa", NOW - USEC_PER_HOUR, 0, 0) >= 0);
        assert_true(
                state_image_set(&saved, "sha256:gone", NOW - USEC_PER_HOUR, NOW - USEC_PER_MINUTE, 0) >= 0);
        assert_int_equal(state_orphan_see(&out, "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10", NOW - 5), 1);

        assert_int_equal(gc_images_detect(&saved, ids, use, 2, NOW, &out), 0);
        assert_int_equal(out.n_images, 2);
        assert_record(&out, "sha256:aaaa", NOW - USEC_PER_HOUR, NOW);
        assert_record(&out, "sha256:bbbb", NOW, 0);
        assert_null(state_image_find(&out, "sha256:gone"));
        assert_true(state_orphan_first_seen(&out, "0f5a2c1e-9b1d-4c3e-8f7a-6d5e4c3b2a10") == NOW - 5);
        assert_int_equal(out.n_orphans, 1);
        /* Records stay sorted by id. */
        assert_string_equal(out.images[0].id, "sha256:aaaa");
        assert_string_equal(out.images[1].id, "sha256:bbbb");
        state_done(&out);

        /* An id the state file cannot hold gets no record; the other images still get theirs. */
        out = (State){};
        r = gc_images_detect(&saved, bad, use, 2, NOW, &out);
        assert_record(&out, "sha256:aaaa", NOW - USEC_PER_HOUR, NOW);
        assert_null(state_image_find(&out, "not an id"));
        assert_int_equal(r, 0);
        state_done(&out);
        state_done(&saved);
}

/* ---- gc_image_in_use ----------------------------------------------------------------------------- */

static void test_image_in_use_by_containers(void **state) {
        static const char *const tags[] = {"docker.io/library/busybox:1.35"};
        static const char *const digests[] = {
                "docker.io/library/"
                "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
        const CriImage img = {
                .id = "sha256:bbbb",
                .repo_tags = tags,
                .n_repo_tags = 1,
                .repo_digests = digests,
                .n_repo_digests = 1,
                .size = 1024,
                .username = "",
        };
        CriContainer by_id = make_container("c1", "", "sha256:bbbb");
        CriContainer by_tag = make_container("c2", "docker.io/library/busybox:1.35", "");
        CriContainer by_digest = make_container("c3", "", "");
        CriContainer by_image_as_id = make_container("c4", "sha256:bbbb", "");
        CriContainer other = make_container("c5", "docker.io/library/busybox:1.36", "sha256:cccc");
        const GcVerdict keep = GC_KEEP, evicted = GC_EVICT_PER_CONTAINER;

        (void) state;
        by_digest.image_ref = digests[0];
        assert_true(gc_image_in_use(&img, &by_id, 1, NULL, NULL));
        assert_true(gc_image_in_use(&img, &by_tag, 1, NULL, NULL));
        assert_true(gc_image_in_use(&img, &by_digest, 1, NULL, NULL));
        assert_true(gc_image_in_use(&img, &by_image_as_id, 1, NULL, NULL));
        assert_false(gc_image_in_use(&img, &other, 1, NULL, NULL));
        assert_false(gc_image_in_use(&img, NULL, 0, NULL, NULL));

        /* An exited container that stays still uses its image (the kubelet lists all containers);
         * one this pass removes does not. */
        by_id.state = EXITED;
        assert_true(gc_image_in_use(&img, &by_id, 1, &keep, NULL));
        assert_false(gc_image_in_use(&img, &by_id, 1, &evicted, NULL));
}

static void test_image_in_use_sandbox_image(void **state) {
        /* TestDeleteUnusedImagesExemptSandboxImage: the sandbox image, as the id. */
        static const char *const sandbox_image[] = {"registry.k8s.io/pause-amd64:latest", NULL};
        static const char *const pause_tags[] = {
                "docker.io/library/pause:latest", "docker.io/library/pause:3.9"};
        static const char *const k8s_tags[] = {"registry.k8s.io/pause:3.9"};
        static const char *const k8s_latest[] = {"registry.k8s.io/pause:latest"};
        static const char *const k8s_digests[] = {
                "registry.k8s.io/"
                "pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097"};
        const CriImage by_id = make_cri_image("registry.k8s.io/pause-amd64:latest");
        const CriImage docker = {
                .id = "sha256:1111", .repo_tags = pause_tags, .n_repo_tags = 2, .username = ""};
        const CriImage k8s = {
                .id = "sha256:2222",
                .repo_tags = k8s_tags,
                .n_repo_tags = 1,
                .repo_digests = k8s_digests,
                .n_repo_digests = 1,
                .username = ""};
        const CriImage k8s_l = {
                .id = "sha256:3333", .repo_tags = k8s_latest, .n_repo_tags = 1, .username = ""};

        (void) state;
        assert_true(gc_image_in_use(&by_id, NULL, 0, NULL, sandbox_image));
        assert_false(gc_image_in_use(&by_id, NULL, 0, NULL, NULL));

        /* Beyond the kubelet (it relies on the runtime's pinning): tags, digests, the id, and the
         * runtime's normalization of Docker Hub names. */
        assert_true(gc_image_in_use(&docker, NULL, 0, NULL, (const char *const[]){"pause", NULL}));
        assert_true(gc_image_in_use(&docker, NULL, 0, NULL, (const char *const[]){"pause:3.9", NULL}));
        assert_true(
                gc_image_in_use(&docker, NULL, 0, NULL, (const char *const[]){"library/pause:3.9", NULL}));
        assert_true(gc_image_in_use(
                &docker, NULL, 0, NULL, (const char *const[]){"docker.io/library/pause:3.9", NULL}));
        assert_true(gc_image_in_use(&docker, NULL, 0, NULL, (const char *const[]){"sha256:1111", NULL}));
        assert_false(gc_image_in_use(&docker, NULL, 0, NULL, (const char *const[]){"pause:3.8", NULL}));
        assert_false(gc_image_in_use(
                &docker, NULL, 0, NULL, (const char *const[]){"registry.k8s.io/pause:3.9", NULL}));

        assert_true(gc_image_in_use(
                &k8s, NULL, 0, NULL, (const char *const[]){"registry.k8s.io/pause:3.9", NULL}));
        assert_true(
                gc_image_in_use(&k8s, NULL, 0, NULL, (const char *const[]){"x:1", k8s_digests[0], NULL}));
        assert_false(gc_image_in_use(
                &k8s, NULL, 0, NULL, (const char *const[]){"registry.k8s.io/pause:3.8", NULL}));
        assert_false(gc_image_in_use(&k8s, NULL, 0, NULL, (const char *const[]){"pause:3.9", NULL}));

        assert_true(gc_image_in_use(
                &k8s_l, NULL, 0, NULL, (const char *const[]){"registry.k8s.io/pause", NULL}));
        assert_false(gc_image_in_use(
                &k8s_l, NULL, 0, NULL, (const char *const[]){"registry.k8s.io/pause:3.9", NULL}));
}

/* ---- gc_images ----------------------------------------------------------------------------------- */

/* A GcImage from the records of a detect pass. */
static GcImage image_from(const State *st, const char *id, uint64_t size, bool pinned, bool in_use) {
        const ImageSeen *r = state_image_find(st, id);

        if (!r)
                fail_msg("no record of %s", id);
        return (GcImage){
                .id = id,
                .size = size,
                .pinned = pinned,
                .in_use = in_use,
                .first_detected = r->first_detected,
                .last_used = r->last_used,
        };
}

/* The kubelet's getImagesAndFreeSpace(spaceToFree, ...) and DeleteUnusedImages (spaceToFree
 * MaxInt64): freeSpace alone. Its tests use ImageGCPolicy{} (thresholds 0) or skip the threshold
 * check; here thresholds 0 put usage always over, and bytes_to_free is capacity - available. */
#define CAPACITY (UINT64_C(1) << 40)
#define FREE_ALL CAPACITY

static void free_space(
        const char *what,
        const GcImage *images,
        size_t n,
        usec_t min_age,
        uint64_t space_to_free,
        usec_t now,
        const GcVerdict *expect,
        uint64_t expect_freed) {
        const GcImagePolicy p = {.high_threshold = 0, .low_threshold = 0, .min_age = min_age, .max_age = 0};
        GcVerdict got[MAX_ROWS];
        GcImageResult res = {};
        unsigned failed;

        assert_true(n <= MAX_ROWS);
        for (size_t i = 0; i < n; i++)
                got[i] = (GcVerdict) 0x5a;
        assert_int_equal(gc_images(images, n, &p, CAPACITY, CAPACITY - space_to_free, now, got, &res), 0);
        assert_true(res.over_threshold);
        assert_true(res.bytes_to_free == space_to_free);
        failed = verdicts_check(what, expect, got, n);
        if (res.bytes_freed != expect_freed) {
                print_error(
                        "MISMATCH %s: freed %" PRIu64 ", expected %" PRIu64 "\n",
                        what,
                        res.bytes_freed,
                        expect_freed);
                failed++;
        }
        assert_true(res.bytes_aged == 0);
        if (failed)
                fail_msg("%s", what);
}

static void test_delete_unused_images_exempt_sandbox_image(void **state) {
        /* TestDeleteUnusedImagesExemptSandboxImage: the sandbox image, pinned by the runtime. */
        const GcImage images[] = {
                {.id = "registry.k8s.io/pause-amd64:latest",
                 .size = 1024,
                 .pinned = true,
                 .first_detected = NOW},
        };

        (void) state;
        free_space(
                "TestDeleteUnusedImagesExemptSandboxImage",
                images,
                1,
                0,
                FREE_ALL,
                NOW,
                (GcVerdict[]){KEEP},
                0);
}

static void test_delete_pinned_image(void **state) {
        /* TestDeletePinnedImage: two images of the same id, one pinned: one stays. (The kubelet's
         * records are by id, so which one the fake runtime drops is an accident; the pinned one is
         * the one that must stay.) */
        const GcImage images[] = {
                {.id = "registry.k8s.io/pause-amd64:latest",
                 .size = 1024,
                 .pinned = true,
                 .first_detected = NOW},
                {.id = "registry.k8s.io/pause-amd64:latest", .size = 1024, .first_detected = NOW},
        };

        (void) state;
        free_space("TestDeletePinnedImage", images, 2, 0, FREE_ALL, NOW, (GcVerdict[]){KEEP, SPACE}, 1024);
}

static void test_do_not_delete_pinned_image(void **state) {
        /* TestDoNotDeletePinnedImage: free 4096, freed 1024, 1 image left. */
        const GcImage images[] = {
                {.id = "1", .size = 1024, .pinned = true, .first_detected = NOW},
                {.id = "2", .size = 1024, .first_detected = NOW},
        };

        (void) state;
        free_space("TestDoNotDeletePinnedImage", images, 2, 0, 4096, NOW, (GcVerdict[]){KEEP, SPACE}, 1024);
}

static void test_delete_unpinned_image(void **state) {
        /* TestDeleteUnPinnedImage: free 2048, freed 2048, 0 left. */
        const GcImage images[] = {
                {.id = "1", .size = 1024, .first_detected = NOW},
                {.id = "2", .size = 1024, .first_detected = NOW},
        };

        (void) state;
        free_space("TestDeleteUnPinnedImage", images, 2, 0, 2048, NOW, (GcVerdict[]){SPACE, SPACE}, 2048);
}

static void test_all_pinned_images(void **state) {
        /* TestAllPinnedImages: free 2048, freed 0, 2 left. */
        const GcImage images[] = {
                {.id = "1", .size = 1024, .pinned = true, .first_detected = NOW},
                {.id = "2", .size = 1024, .pinned = true, .first_detected = NOW},
        };

        (void) state;
        free_space("TestAllPinnedImages", images, 2, 0, 2048, NOW, (GcVerdict[]){KEEP, KEEP}, 0);
}

/* Images 0..n-1 of the kubelet's makeImage(i, sizes[i]), containers using those in `used` (its
 * makeContainer(i)): in_use by gc_image_in_use, records by one detect pass at `now`. */
static void
kubelet_images(State *st, GcImage *images, const uint64_t *sizes, const bool *used, size_t n, usec_t now) {
        static const char *const ids[] = {IMG0, IMG1, IMG2};
        static const char *const names[] = {IMG0 "-name", IMG1 "-name", IMG2 "-name"};
        CriContainer containers[3];
        bool in_use[3];
        size_t n_containers = 0;

        assert_true(n <= 3);
        for (size_t i = 0; i < n; i++)
                if (used[i])
                        containers[n_containers++] = make_container("container", names[i], ids[i]);
        for (size_t i = 0; i < n; i++) {
                CriImage img = make_cri_image(ids[i]);

                in_use[i] = gc_image_in_use(&img, containers, n_containers, NULL, NULL);
                assert_true(in_use[i] == used[i]);
        }
        detect(st, ids, in_use, n, now);
        for (size_t i = 0; i < n; i++)
                images[i] = image_from(st, ids[i], sizes[i], false, in_use[i]);
}

static void test_free_space_images_in_use_containers_are_ignored(void **state) {
        /* TestFreeSpaceImagesInUseContainersAreIgnored: free 2048, freed 1024, 1 left. */
        GcImage images[2];
        State st = {};

        (void) state;
        kubelet_images(&st, images, (uint64_t[]){1024, 2048}, (bool[]){false, true}, 2, NOW);
        free_space(
                "TestFreeSpaceImagesInUseContainersAreIgnored",
                images,
                2,
                0,
                2048,
                NOW,
                (GcVerdict[]){SPACE, KEEP},
                1024);
        state_done(&st);
}

static void test_delete_unused_images_remove_all_unused_images(void **state) {
        /* TestDeleteUnusedImagesRemoveAllUnusedImages: 1 left. */
        GcImage images[3];
        State st = {};

        (void) state;
        kubelet_images(&st, images, (uint64_t[]){1024, 2048, 2048}, (bool[]){false, false, true}, 3, NOW);
        free_space(
                "TestDeleteUnusedImagesRemoveAllUnusedImages",
                images,
                3,
                0,
                FREE_ALL,
                NOW,
                (GcVerdict[]){SPACE, SPACE, KEEP},
                3072);
        state_done(&st);
}

static void test_delete_unused_images_limit_by_image_live_time(void **state) {
        /* TestDeleteUnusedImagesLimitByImageLiveTime: MinAge 3s; at once nothing goes, 3s later the
         * two unused images do. */
        const uint64_t sizes[] = {1024, 2048, 2048};
        const bool used[] = {false, false, true};
        GcImage images[3];
        State st = {};

        (void) state;
        kubelet_images(&st, images, sizes, used, 3, NOW);
        free_space(
                "TestDeleteUnusedImagesLimitByImageLiveTime (at once)",
                images,
                3,
                3 * USEC_PER_SEC,
                FREE_ALL,
                NOW,
                (GcVerdict[]){KEEP, KEEP, KEEP},
                0);
        kubelet_images(&st, images, sizes, used, 3, NOW + 3 * USEC_PER_SEC);
        assert_true(images[0].first_detected == NOW);
        free_space(
                "TestDeleteUnusedImagesLimitByImageLiveTime (3s later)",
                images,
                3,
                3 * USEC_PER_SEC,
                FREE_ALL,
                NOW + 3 * USEC_PER_SEC,
                (GcVerdict[]){SPACE, SPACE, KEEP},
                3072);
        state_done(&st);
}

static void test_free_space_remove_by_least_recently_used(void **state) {
        /* TestFreeSpaceRemoveByLeastRecentlyUsed: both used, then only 1, then neither; freeing
         * 1024 a minute later takes image-0, the least recently used. */
        const char *const ids[] = {IMG0, IMG1};
        GcImage images[2];
        State st = {};

        (void) state;
        detect(&st, ids, (bool[]){true, true}, 2, NOW);
        detect(&st, ids, (bool[]){false, true}, 2, NOW + USEC_PER_SEC);
        detect(&st, ids, (bool[]){false, false}, 2, NOW + 2 * USEC_PER_SEC);
        assert_int_equal(st.n_images, 2);
        images[0] = image_from(&st, IMG0, 1024, false, false);
        images[1] = image_from(&st, IMG1, 2048, false, false);
        free_space(
                "TestFreeSpaceRemoveByLeastRecentlyUsed",
                images,
                2,
                0,
                1024,
                NOW + 2 * USEC_PER_SEC + USEC_PER_MINUTE,
                (GcVerdict[]){SPACE, KEEP},
                1024);
        state_done(&st);
}

static void test_free_space_ties_broken_by_detected_time(void **state) {
        /* TestFreeSpaceTiesBrokenByDetectedTime: image-0 used, then image-1 appears unused, then
         * nothing is used: image-1 (never used) goes first, freeing 2048 for 1024 asked. */
        const char *const ids0[] = {IMG0}, *const ids[] = {IMG0, IMG1};
        GcImage images[2];
        State st = {};

        (void) state;
        detect(&st, ids0, (bool[]){true}, 1, NOW);
        detect(&st, ids, (bool[]){true, false}, 2, NOW + USEC_PER_SEC);
        detect(&st, ids, (bool[]){false, false}, 2, NOW + 2 * USEC_PER_SEC);
        assert_int_equal(st.n_images, 2);
        images[0] = image_from(&st, IMG0, 1024, false, false);
        images[1] = image_from(&st, IMG1, 2048, false, false);
        free_space(
                "TestFreeSpaceTiesBrokenByDetectedTime",
                images,
                2,
                0,
                1024,
                NOW + 2 * USEC_PER_SEC,
                (GcVerdict[]){KEEP, SPACE},
                2048);
        state_done(&st);
}

static void test_garbage_collect_image_not_old_enough(void **state) {
        /* TestGarbageCollectImageNotOldEnough: MinAge 1m; image-1 in use, image-0 too young, then
         * a minute later image-0 goes. */
        GcImage images[2];
        State st = {};

        (void) state;
        kubelet_images(&st, images, (uint64_t[]){1024, 2048}, (bool[]){false, true}, 2, NOW);
        free_space(
                "TestGarbageCollectImageNotOldEnough (at once)",
                images,
                2,
                USEC_PER_MINUTE,
                1024,
                NOW,
                (GcVerdict[]){KEEP, KEEP},
                0);
        free_space(
                "TestGarbageCollectImageNotOldEnough (a minute later)",
                images,
                2,
                USEC_PER_MINUTE,
                1024,
                NOW + USEC_PER_MINUTE,
                (GcVerdict[]){SPACE, KEEP},
                1024);
        state_done(&st);
}

/* GarbageCollect with HighThresholdPercent 90, LowThresholdPercent 80. */
static const GcImagePolicy kubelet_gc_policy = {.high_threshold = 90, .low_threshold = 80};

static void test_garbage_collect_below_low_threshold(void **state) {
        /* TestGarbageCollectBelowLowThreshold: 40% usage, nothing to do. The kubelet's runtime has
         * no images; one old unused image here shows that nothing goes. */
        const GcImage images[] = {{.id = IMG0, .size = 450, .first_detected = NOW - USEC_PER_HOUR}};
        GcImageResult res = {};
        GcVerdict v[1] = {(GcVerdict) 0x5a};

        (void) state;
        assert_int_equal(gc_images(NULL, 0, &kubelet_gc_policy, 1000, 600, NOW, NULL, &res), 0);
        assert_int_equal(res.usage_percent, 40);
        assert_false(res.over_threshold);
        assert_true(res.bytes_to_free == 0);
        assert_true(res.bytes_freed == 0);

        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 600, NOW, v, &res), 0);
        assert_int_equal(v[0], KEEP);
        assert_false(res.over_threshold);
        assert_true(res.bytes_freed == 0);
}

static void test_garbage_collect_below_success(void **state) {
        /* TestGarbageCollectBelowSuccess: 95% usage, 150 to free, 450 freed. */
        State st = {};
        GcImage images[1];
        GcImageResult res = {};
        GcVerdict v[1];

        (void) state;
        kubelet_images(&st, images, (uint64_t[]){450}, (bool[]){false}, 1, NOW);
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 50, NOW, v, &res), 0);
        assert_int_equal(res.usage_percent, 95);
        assert_true(res.over_threshold);
        assert_true(res.bytes_to_free == 150);
        assert_int_equal(v[0], SPACE);
        assert_true(res.bytes_freed == 450);
        assert_true(res.bytes_freed >= res.bytes_to_free); /* the kubelet: no error */
        state_done(&st);
}

static void test_garbage_collect_not_enough_freed(void **state) {
        /* TestGarbageCollectNotEnoughFreed: 95% usage, 150 to free, only 50 there (the kubelet
         * returns an error; here the caller sees bytes_freed < bytes_to_free). */
        State st = {};
        GcImage images[1];
        GcImageResult res = {};
        GcVerdict v[1];

        (void) state;
        kubelet_images(&st, images, (uint64_t[]){50}, (bool[]){false}, 1, NOW);
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 50, NOW, v, &res), 0);
        assert_true(res.over_threshold);
        assert_true(res.bytes_to_free == 150);
        assert_int_equal(v[0], SPACE);
        assert_true(res.bytes_freed == 50);
        assert_true(res.bytes_freed < res.bytes_to_free);
        state_done(&st);
}

static void test_garbage_collect_image_too_old(void **state) {
        /* TestGarbageCollectImageTooOld: MaxAge 1m; image-0 just used (lastUsed = now) stays; a
         * MaxAge and a tick later it goes. image-1 is in use throughout. */
        const GcImagePolicy p = {
                .high_threshold = 90, .low_threshold = 80, .min_age = 0, .max_age = USEC_PER_MINUTE};
        const GcImage images[] = {
                {.id = IMG0, .size = 1024, .first_detected = NOW, .last_used = NOW},
                {.id = IMG1, .size = 2048, .in_use = true, .first_detected = NOW, .last_used = NOW},
        };
        GcImageResult res = {};
        GcVerdict v[2];

        (void) state;
        assert_int_equal(gc_images(images, 2, &p, 1000, 1000, NOW, v, &res), 0);
        assert_int_equal(v[0], KEEP);
        assert_int_equal(v[1], KEEP);
        assert_true(res.bytes_aged == 0);

        assert_int_equal(gc_images(images, 2, &p, 1000, 1000, NOW + USEC_PER_MINUTE + 1, v, &res), 0);
        assert_int_equal(v[0], AGE);
        assert_int_equal(v[1], KEEP);
        assert_true(res.bytes_aged == 1024);
        assert_true(res.bytes_freed == 0);
        assert_false(res.over_threshold);
}

static void test_garbage_collect_image_max_age_disabled(void **state) {
        /* TestGarbageCollectImageMaxAgeDisabled: MaxAge 0; even at the end of time nothing goes. */
        const GcImagePolicy p = {.high_threshold = 90, .low_threshold = 80, .min_age = 0, .max_age = 0};
        const GcImage images[] = {
                {.id = IMG0, .size = 1024, .first_detected = NOW},
                {.id = IMG1, .size = 2048, .in_use = true, .first_detected = NOW, .last_used = NOW},
        };
        GcImageResult res = {};
        GcVerdict v[2];

        (void) state;
        assert_int_equal(gc_images(images, 2, &p, 1000, 1000, NOW, v, &res), 0);
        assert_int_equal(v[0], KEEP);
        assert_int_equal(v[1], KEEP);
        assert_int_equal(gc_images(images, 2, &p, 1000, 1000, (usec_t) INT64_MAX, v, &res), 0);
        assert_int_equal(v[0], KEEP);
        assert_int_equal(v[1], KEEP);
        assert_true(res.bytes_aged == 0);
}

/* ---- gc_images beyond the kubelet's tests --------------------------------------------------------- */

static void test_images_capacity(void **state) {
        const GcImage images[] = {{.id = IMG0, .size = 10, .first_detected = NOW - USEC_PER_HOUR}};
        GcImageResult res = {};
        GcVerdict v[1];

        (void) state;
        /* The kubelet's "invalid capacity 0 on image filesystem". */
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 0, 0, NOW, v, &res), -EINVAL);
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 0, 100, NOW, v, &res), -EINVAL);

        /* Available beyond capacity is clamped to it: 0% used. */
        res = (GcImageResult){.usage_percent = 77, .bytes_to_free = 77};
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 5000, NOW, v, &res), 0);
        assert_int_equal(res.usage_percent, 0);
        assert_false(res.over_threshold);
        assert_true(res.bytes_to_free == 0);
        assert_int_equal(v[0], KEEP);

        /* Exactly at the high threshold is over (usagePercent >= HighThresholdPercent). */
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 100, NOW, v, &res), 0);
        assert_int_equal(res.usage_percent, 90);
        assert_true(res.over_threshold);
        assert_true(res.bytes_to_free == 100);
        assert_int_equal(v[0], SPACE);
        /* Just below: 89%. */
        assert_int_equal(gc_images(images, 1, &kubelet_gc_policy, 1000, 110, NOW, v, &res), 0);
        assert_int_equal(res.usage_percent, 89);
        assert_false(res.over_threshold);
        assert_int_equal(v[0], KEEP);
}

/* The kubelet's StartGarbageCollection: ImageGCHighThresholdPercent 100 and no max age disable
 * image GC, even at 100% usage; with a max age the age part still runs. */
static void test_images_high_threshold_100(void **state) {
        const GcImage images[] = {{.id = IMG0, .size = 10, .first_detected = NOW - 48 * USEC_PER_HOUR}};
        GcImagePolicy p = {.high_threshold = 100, .low_threshold = 80};
        GcImageResult res = {};
        GcVerdict v[1];

        (void) state;
        assert_int_equal(gc_images(images, 1, &p, 1000, 0, NOW, v, &res), 0);
        assert_int_equal(res.usage_percent, 100);
        assert_false(res.over_threshold);
        assert_int_equal(v[0], KEEP);

        p.max_age = USEC_PER_HOUR;
        assert_int_equal(gc_images(images, 1, &p, 1000, 0, NOW, v, &res), 0);
        assert_int_equal(v[0], AGE);
}

static void test_images_max_age_watch_time(void **state) {
        /* max_age counts from max(last used, first detected): an image never seen in use is
         * watched since first detected (the kubelet's wait of MaxAge after its start); a record
         * older than its last use (restored) counts from first detected too. */
        const GcImagePolicy p = {
                .high_threshold = 90,
                .low_threshold = 80,
                .min_age = 3 * USEC_PER_HOUR,
                .max_age = USEC_PER_HOUR};
        const GcImage images[] = {
                /* 0: never used, detected exactly max_age ago: not longer than max_age */
                {.id = "a", .size = 1, .first_detected = NOW - USEC_PER_HOUR},
                /* 1: never used, detected max_age and a tick ago */
                {.id = "b", .size = 2, .first_detected = NOW - USEC_PER_HOUR - 1},
                /* 2: used 10h ago */
                {.id = "c",
                 .size = 4,
                 .first_detected = NOW - 20 * USEC_PER_HOUR,
                 .last_used = NOW - 10 * USEC_PER_HOUR},
                /* 3: used 2h ago, but first detected 30 minutes ago */
                {.id = "d",
                 .size = 8,
                 .first_detected = NOW - 30 * USEC_PER_MINUTE,
                 .last_used = NOW - 2 * USEC_PER_HOUR},
                /* 4: detected long ago, used 30 minutes ago */
                {.id = "e",
                 .size = 16,
                 .first_detected = NOW - 20 * USEC_PER_HOUR,
                 .last_used = NOW - 30 * USEC_PER_MINUTE},
                /* 5: old and in use */
                {.id = "f",
                 .size = 32,
                 .in_use = true,
                 .first_detected = NOW - 20 * USEC_PER_HOUR,
                 .last_used = NOW - 10 * USEC_PER_HOUR},
                /* 6: old and pinned: the kubelet drops pinned images from the list before any GC */
                {.id = "g", .size = 64, .pinned = true, .first_detected = NOW - 20 * USEC_PER_HOUR},
                /* 7: min_age (3h) does not hold back the max age (freeOldImages ignores it) */
                {.id = "h", .size = 128, .first_detected = NOW - 2 * USEC_PER_HOUR},
        };
        const GcVerdict expect[] = {KEEP, AGE, AGE, KEEP, KEEP, KEEP, KEEP, AGE};
        GcVerdict v[ELEMENTSOF(images)];
        GcImageResult res = {};

        (void) state;
        assert_int_equal(gc_images(images, ELEMENTSOF(images), &p, 1000, 1000, NOW, v, &res), 0);
        if (verdicts_check(
                    "podreaper: max age since max(last used, first detected)",
                    expect,
                    v,
                    ELEMENTSOF(images)))
                fail();
        assert_true(res.bytes_aged == 2 + 4 + 128);
        assert_true(res.bytes_freed == 0);
}

/* The max age counts from the first pass that saw the image unused: a month without podreaper
 * (the timer off, the node down) after its last use is no month of proven disuse. */
/* A runtime that does not say which its sandbox image is: any ".../pause" image is kept, as the
 * kubelet's runtime would pin it. "docker.io/busybox" is the official image's short form. */
static void test_image_refs_for_node(void **state) {
        const CriImage pause = {
                .id = "sha256:p",
                .repo_tags = (const char *const[]){"example.com/eks/pause:3.5"},
                .n_repo_tags = 1};
        const CriImage other = {
                .id = "sha256:o", .repo_tags = (const char *const[]){"example.com/app:1"}, .n_repo_tags = 1};
        const CriImage busybox = {
                .id = "sha256:b",
                .repo_tags = (const char *const[]){"docker.io/library/busybox:1.35"},
                .n_repo_tags = 1};
        const CriContainer c = {
                .id = "c", .image = "docker.io/busybox:1.35", .image_ref = "", .image_id = ""};
        GcImageRefs *r = NULL;

        (void) state;
        assert_int_equal(gc_image_refs_for_node(&c, 1, NULL, NULL, "registry.k8s.io/pause:3.9", &r), 0);
        assert_true(gc_image_refs_has(r, &pause));
        assert_false(gc_image_refs_has(r, &other));
        assert_true(gc_image_refs_has(r, &busybox));
        r = gc_image_refs_free(r);

        /* The runtime named its sandbox image: only that one (and the flag's) is kept. */
        assert_int_equal(gc_image_refs_for_node(&c, 1, NULL, "example.com/app:1", NULL, &r), 0);
        assert_false(gc_image_refs_has(r, &pause));
        assert_true(gc_image_refs_has(r, &other));
        /* The container goes this pass: its image is no longer kept by it. */
        r = gc_image_refs_free(r);
        assert_int_equal(
                gc_image_refs_for_node(
                        &c, 1, (const GcVerdict[]){GC_EVICT_PER_CONTAINER}, "example.com/app:1", NULL, &r),
                0);
        assert_false(gc_image_refs_has(r, &busybox));
        gc_image_refs_free(r);
}

static void test_images_max_age_after_a_gap(void **state) {
        const GcImagePolicy p = {.high_threshold = 90, .low_threshold = 80, .max_age = 24 * USEC_PER_HOUR};
        const usec_t month = 30 * 24 * USEC_PER_HOUR, later = NOW + month;
        const char *const ids[] = {IMG0};
        State a = {}, b = {}, c = {};
        const ImageSeen *rec;
        GcImageResult res = {};
        GcVerdict v[1];

        (void) state;
        /* In use at NOW; the next pass a month later sees it unused. */
        assert_int_equal(gc_images_detect(&a, ids, (const bool[]){true}, 1, NOW, &b), 0);
        assert_non_null(rec = state_image_find(&b, IMG0));
        assert_true(rec->unused_since == 0);
        assert_int_equal(gc_images_detect(&b, ids, (const bool[]){false}, 1, later, &c), 0);
        assert_non_null(rec = state_image_find(&c, IMG0));
        assert_true(rec->last_used == NOW);
        assert_true(rec->unused_since == later);

        GcImage im = {
                .id = IMG0,
                .size = 10,
                .first_detected = rec->first_detected,
                .last_used = rec->last_used,
                .unused_since = rec->unused_since};
        assert_int_equal(gc_images(&im, 1, &p, 1000, 1000, later, v, &res), 0);
        assert_int_equal(v[0], KEEP);
        assert_int_equal(gc_images(&im, 1, &p, 1000, 1000, later + p.max_age + 1, v, &res), 0);
        assert_int_equal(v[0], AGE);

        /* Still unused at a later pass: the time stays the first one. */
        state_done(&b);
        b = (State){};
        assert_int_equal(gc_images_detect(&c, ids, (const bool[]){false}, 1, later + USEC_PER_HOUR, &b), 0);
        assert_true(state_image_find(&b, IMG0)->unused_since == later);
        state_done(&b);
        state_done(&c);
}

static void test_images_space_order(void **state) {
        /* Least recently used first; ties by first detected, then by id; stops once enough is
         * freed; skips (does not stop at) the young, the pinned and the used. */
        const GcImagePolicy p = {.high_threshold = 90, .low_threshold = 80, .min_age = USEC_PER_MINUTE};
        const GcImage images[] = {
                /* 0 */ {
                        .id = "sha256:bbbb",
                        .size = 40,
                        .first_detected = NOW - USEC_PER_HOUR,
                        .last_used = NOW - 50 * USEC_PER_MINUTE},
                /* 1 */
                {.id = "sha256:aaaa",
                 .size = 40,
                 .first_detected = NOW - USEC_PER_HOUR,
                 .last_used = NOW - 50 * USEC_PER_MINUTE},
                /* 2: too young, though least recently used */
                {.id = "sha256:young", .size = 1000, .first_detected = NOW - 30 * USEC_PER_SEC},
                /* 3: pinned */
                {.id = "sha256:pinned", .size = 1000, .pinned = true, .first_detected = NOW - USEC_PER_HOUR},
                /* 4: in use */
                {.id = "sha256:used",
                 .size = 1000,
                 .in_use = true,
                 .first_detected = NOW - USEC_PER_HOUR,
                 .last_used = NOW - USEC_PER_HOUR},
                /* 5: same last use as 0 and 1, detected earlier: first of the three */
                {.id = "sha256:zzzz",
                 .size = 40,
                 .first_detected = NOW - 2 * USEC_PER_HOUR,
                 .last_used = NOW - 50 * USEC_PER_MINUTE},
                /* 6: used more recently: last */
                {.id = "sha256:0000",
                 .size = 40,
                 .first_detected = NOW - 2 * USEC_PER_HOUR,
                 .last_used = NOW - 10 * USEC_PER_MINUTE},
        };
        /* 150 to free (1000 capacity, 50 available): zzzz, aaaa, bbbb, 0000 = 160. */
        const GcVerdict expect_all[] = {SPACE, SPACE, KEEP, KEEP, KEEP, SPACE, SPACE};
        /* 110 to free (1000 capacity, 90 available, low 80): zzzz, aaaa, bbbb = 120. */
        const GcVerdict expect_some[] = {SPACE, SPACE, KEEP, KEEP, KEEP, SPACE, KEEP};
        /* 50 to free (low 86: 1000 * 14 / 100 - 90): zzzz, aaaa = 80. */
        const GcVerdict expect_two[] = {KEEP, SPACE, KEEP, KEEP, KEEP, SPACE, KEEP};
        GcImagePolicy p86 = p;
        GcVerdict v[ELEMENTSOF(images)];
        GcImageResult res = {};
        unsigned failed = 0;

        (void) state;
        assert_int_equal(gc_images(images, ELEMENTSOF(images), &p, 1000, 50, NOW, v, &res), 0);
        assert_true(res.bytes_to_free == 150);
        failed += verdicts_check("podreaper: LRU order, 150 to free", expect_all, v, ELEMENTSOF(images));
        assert_true(res.bytes_freed == 160);

        assert_int_equal(gc_images(images, ELEMENTSOF(images), &p, 1000, 90, NOW, v, &res), 0);
        assert_true(res.bytes_to_free == 110);
        failed += verdicts_check("podreaper: LRU order, 110 to free", expect_some, v, ELEMENTSOF(images));

        p86.low_threshold = 86;
        assert_int_equal(gc_images(images, ELEMENTSOF(images), &p86, 1000, 90, NOW, v, &res), 0);
        assert_true(res.bytes_to_free == 50);
        failed += verdicts_check(
                "podreaper: LRU order, 50 to free (ties by detected, then id)",
                expect_two,
                v,
                ELEMENTSOF(images));
        if (failed)
                fail();
}

static void test_images_age_then_space(void **state) {
        /* GarbageCollect runs freeOldImages first and only then reads ImageFsStats, so the bytes
         * removed for age are free when the threshold is checked; gc.h: they "count as freed". */
        const GcImagePolicy p = {.high_threshold = 90, .low_threshold = 80, .max_age = USEC_PER_HOUR};
        const GcImage images[] = {
                {.id = "old",
                 .size = 200,
                 .first_detected = NOW - 3 * USEC_PER_HOUR,
                 .last_used = NOW - 2 * USEC_PER_HOUR},
                {.id = "fresh",
                 .size = 300,
                 .first_detected = NOW - 3 * USEC_PER_HOUR,
                 .last_used = NOW - 10 * USEC_PER_MINUTE},
                {.id = "small",
                 .size = 50,
                 .first_detected = NOW - 3 * USEC_PER_HOUR,
                 .last_used = NOW - 2 * USEC_PER_HOUR},
        };
        GcImageResult res = {}, first;
        GcVerdict v[2];

        (void) state;
        /* 95% used, 200 aged: 75% after, under the high threshold: "fresh" stays. */
        assert_int_equal(gc_images(images, 2, &p, 1000, 50, NOW, v, &res), 0);
        assert_int_equal(v[0], AGE);
        assert_true(res.bytes_aged == 200);
        assert_int_equal(v[1], KEEP);
        assert_true(res.bytes_freed == 0);
        assert_true(res.bytes_to_free == 0);
        assert_false(res.over_threshold);
        first = res;

        /* 95% used, only 50 aged: 90% after, still over: 200 - 100 = 100 to free, from the rest. */
        assert_int_equal(gc_images(images + 1, 2, &p, 1000, 50, NOW, v, &res), 0);
        assert_int_equal(v[0], SPACE);
        assert_int_equal(v[1], AGE);
        assert_true(res.bytes_aged == 50);
        assert_true(res.over_threshold);
        assert_true(res.bytes_to_free == 100);
        assert_true(res.bytes_freed == 300);

        /* gc.h: usage_percent is as measured; over_threshold counts the aged bytes as freed (the
         * kubelet measures again after freeOldImages). */
        assert_int_equal(first.usage_percent, 95);
        assert_false(first.over_threshold);
}

/* ---- dead log symlinks (evictPodLogsDirectories) -------------------------------------------------- */

#define HEX64 "4f1a9c3e5b7d2f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"

static void assert_symlink_id(const char *name, const char *expect) {
        size_t len = 12345;
        const char *id = gc_log_symlink_container_id(name, &len);

        if (!expect) {
                if (id)
                        fail_msg("%s: id '%.*s', expected none", name, (int) len, id);
                return;
        }
        if (!id)
                fail_msg("%s: no id, expected '%s'", name, expect);
        if (len != strlen(expect) || strncmp(id, expect, len) != 0)
                fail_msg("%s: id '%.*s', expected '%s'", name, (int) len, id, expect);
        /* Points into name. */
        assert_true(id >= name && id + len <= name + strlen(name));
}

static void test_log_symlink_container_id(void **state) {
        (void) state;
        /* getContainerIDFromLegacyLogSymlink: the last '-' field, without ".log", >= 6 chars. */
        assert_symlink_id("nginx-7d4b9c-xk2p_default_nginx-" HEX64 ".log", HEX64);
        assert_symlink_id("pod_ns_my-side-car-" HEX64 ".log", HEX64);
        assert_symlink_id("pod_ns_ctr-abcdef.log", "abcdef");
        assert_symlink_id("pod_ns_ctr-abcde.log", NULL);     /* too short */
        assert_symlink_id("pod_ns_ctr-.log", NULL);          /* empty */
        assert_symlink_id("pod_ns_ctr-" HEX64 ".txt", NULL); /* not ".log" */
        assert_symlink_id("pod_ns_ctr-" HEX64, NULL);
        assert_symlink_id("pod_ns_ctr-" HEX64 ".log.1", NULL);
        /* No '-': the kubelet splits the whole path, so its "id" starts with /var/log/containers/
         * and never names a container; here: no id (the link goes, as the kubelet's does). */
        assert_symlink_id("podnsctr" HEX64 ".log", NULL);
        assert_symlink_id("", NULL);
        assert_symlink_id(".log", NULL);
}

static void test_log_symlink_removable(void **state) {
        const char *name = "web-0_default_nginx-" HEX64 ".log";
        const char *short_name = "web-0_default_nginx-4f1a9c3e5b7d.log"; /* a 12-char prefix */
        CriContainer c[] = {
                make_container(HEX64, "", ""),
                make_container("9f" HEX64 "0", "", ""), /* an id that merely contains it */
        };

        (void) state;
        /* Not listed (the kubelet: ContainerStatus fails): goes. */
        assert_true(gc_log_symlink_removable(name, NULL, 0));
        assert_true(gc_log_symlink_removable(name, c + 1, 1));

        /* Listed: only EXITED lets it go; RUNNING, CREATED, UNKNOWN keep it (log rotation). */
        c[0].state = EXITED;
        assert_true(gc_log_symlink_removable(name, c, 2));
        assert_true(gc_log_symlink_removable(short_name, c, 2));
        c[0].state = RUNNING;
        assert_false(gc_log_symlink_removable(name, c, 2));
        assert_false(gc_log_symlink_removable(short_name, c, 2)); /* a prefix match */
        c[0].state = CREATED;
        assert_false(gc_log_symlink_removable(name, c, 2));
        c[0].state = UNKNOWN;
        assert_false(gc_log_symlink_removable(name, c, 2));

        /* A name without an id goes whatever runs (the kubelet: "unable to obtain container ID"). */
        c[0].state = RUNNING;
        assert_true(gc_log_symlink_removable("web-0_default_nginx-4f1a9.log", c, 2));
        assert_true(gc_log_symlink_removable("podnsctr" HEX64 ".log", c, 2));

        /* A container id shorter than the link's id is not a match. */
        c[0].id = "4f1a9c3e5b7d";
        assert_true(gc_log_symlink_removable(name, c, 1));

        /* Two containers share the prefix, one still running: kept (gc.h: any that is not EXITED). */
        c[0].id = HEX64;
        c[1] = make_container("4f1a9c3e5b7dffff", "", "");
        c[0].state = EXITED;
        c[1].state = RUNNING;
        assert_false(gc_log_symlink_removable(short_name, c, 2));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_containers),
                cmocka_unit_test(test_containers_empty),
                cmocka_unit_test(test_sandboxes),
                cmocka_unit_test(test_detect_images_initial_detect),
                cmocka_unit_test(test_detect_images_with_new_image),
                cmocka_unit_test(test_detect_images_container_stopped),
                cmocka_unit_test(test_detect_images_with_removed_images),
                cmocka_unit_test(test_detect_images_podreaper),
                cmocka_unit_test(test_image_in_use_by_containers),
                cmocka_unit_test(test_image_in_use_sandbox_image),
                cmocka_unit_test(test_delete_unused_images_exempt_sandbox_image),
                cmocka_unit_test(test_delete_pinned_image),
                cmocka_unit_test(test_do_not_delete_pinned_image),
                cmocka_unit_test(test_delete_unpinned_image),
                cmocka_unit_test(test_all_pinned_images),
                cmocka_unit_test(test_free_space_images_in_use_containers_are_ignored),
                cmocka_unit_test(test_delete_unused_images_remove_all_unused_images),
                cmocka_unit_test(test_delete_unused_images_limit_by_image_live_time),
                cmocka_unit_test(test_free_space_remove_by_least_recently_used),
                cmocka_unit_test(test_free_space_ties_broken_by_detected_time),
                cmocka_unit_test(test_garbage_collect_image_not_old_enough),
                cmocka_unit_test(test_garbage_collect_below_low_threshold),
                cmocka_unit_test(test_garbage_collect_below_success),
                cmocka_unit_test(test_garbage_collect_not_enough_freed),
                cmocka_unit_test(test_garbage_collect_image_too_old),
                cmocka_unit_test(test_garbage_collect_image_max_age_disabled),
                cmocka_unit_test(test_images_capacity),
                cmocka_unit_test(test_images_high_threshold_100),
                cmocka_unit_test(test_images_max_age_watch_time),
                cmocka_unit_test(test_image_refs_for_node),
                cmocka_unit_test(test_images_max_age_after_a_gap),
                cmocka_unit_test(test_images_space_order),
                cmocka_unit_test(test_images_age_then_space),
                cmocka_unit_test(test_log_symlink_container_id),
                cmocka_unit_test(test_log_symlink_removable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
