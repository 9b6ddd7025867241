/* SPDX-License-Identifier: MIT */
/* The planner (DESIGN §2), table-driven: each case describes a node in a few lines, the options
 * and the saved state, and lists the actions expected, in order, with parts of their reasons.
 *
 * The node, one statement per line or ';' (ages are "ago" from now, Go durations; "now"; "+1h" is
 * in the future; "epoch" is time 0):
 *   cg <uid> <age> [populated] [qos=g|bu|be]      a pod cgroup (default burstable)
 *   dir <uid or name> <age> [mounts=N[:<path>]]    <root-dir>/pods/<name>
 *   log <name> <age>                               <pod-logs-dir>/<name>
 *   cri <uid>... | kubelet <uid>...                 what the runtime / the kubelet know
 *   seen <uid> <age>                               the saved state: first seen as an orphan
 *   reaping <uid>                                  the saved state: a pass began reaping it
 *   down cgroups|cri|kubelet|disk <error...>       a source that failed
 *   kubelet-up <age>|unknown                       default 1h
 *   driver systemd                                  default cgroupfs
 * Runtime GC (reaper/plan-gc.c): the runtime's lists; a uid of either is in the runtime for the
 * pod-level kinds too, as gather makes it:
 *   sb <uid> <id> ready|notready|state=N <age> [attempt=N]       a sandbox
 *   ctr <uid> <id> <sandbox id> <name> exited|running|created|unknown <age> [attempt=N]
 *                                                  a container labelled io.kubernetes.pod.uid=<uid>
 *   deleted <uid> <age>                            the saved state: first seen deleted
 * A uid is a letter A-Z (a UUID) anywhere a uid stands alone, or {A} inside a word, {#A} for a
 * static pod's 32-hex uid.
 * Options: "grace=10m only=cgroups,pod-dirs,logs max=2 fraction=0.5 kubelet=off reap=A root=/x
 * podlogs=/y ttl=1h". Defaults as DESIGN §4.
 * Expected actions: "<kind> <uid or -> [@<target>] [!gone|!deleted] [: <reason part>]", one per
 * line or '|'; without !gone or !deleted the action must be neither a gone nor a deleted pod's.
 *
 * Links reaper/plan.c, reaper/snapshot.c and reaper/state.c (for the first-seen times). */

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

#include "reaper/plan.h"
#include "util/macro.h"

#define NOW (1000 * USEC_PER_HOUR)

/* ---- uids ---------------------------------------------------------------------------------------- */

static void uid_of(char letter, bool hash, char ret[static CGFS_UID_MAX + 1]) {
        unsigned n = (unsigned) (letter - 'A' + 1);

        if (hash)
                snprintf(ret, CGFS_UID_MAX + 1, "%032x", 0xf00u + n);
        else
                snprintf(ret, CGFS_UID_MAX + 1, "%08x-0000-4000-8000-00000000000%x", n, n % 16);
}

/* The alias of a uid for messages ("A", "#A"), or the uid itself, or "-" for none. */
static const char *alias_of(const char *uid, char ret[static CGFS_UID_MAX + 1]) {
        char u[CGFS_UID_MAX + 1];

        if (uid[0] == '\0')
                return "-";
        for (char c = 'A'; c <= 'Z'; c++) {
                uid_of(c, false, u);
                if (strcmp(u, uid) == 0)
                        return snprintf(ret, CGFS_UID_MAX + 1, "%c", c), ret;
                uid_of(c, true, u);
                if (strcmp(u, uid) == 0)
                        return snprintf(ret, CGFS_UID_MAX + 1, "#%c", c), ret;
        }
        return uid;
}

/* Replaces {A} and {#A} by the uids; returns a new string. */
static char *expand(const char *text) {
        size_t size = strlen(text) * 8 + 1;
        char *out = malloc(size), *o = out;

        assert_non_null(out);
        for (const char *p = text; *p;) {
                char u[CGFS_UID_MAX + 1];

                if (p[0] == '{' && p[1] >= 'A' && p[1] <= 'Z' && p[2] == '}') {
                        uid_of(p[1], false, u);
                        o = stpcpy(o, u);
                        p += 3;
                } else if (p[0] == '{' && p[1] == '#' && p[2] >= 'A' && p[2] <= 'Z' && p[3] == '}') {
                        uid_of(p[2], true, u);
                        o = stpcpy(o, u);
                        p += 4;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        return out;
}

/* A uid token: a bare letter, or anything else as it is (already expanded). */
static char *uid_token(const char *t) {
        char u[CGFS_UID_MAX + 1];

        if (t[0] >= 'A' && t[0] <= 'Z' && t[1] == '\0') {
                uid_of(t[0], false, u);
                return strdup(u);
        }
        return strdup(t);
}

static usec_t time_token(const char *t) {
        usec_t d;

        if (strcmp(t, "now") == 0)
                return NOW;
        if (strcmp(t, "epoch") == 0)
                return 0;
        if (t[0] == '+') {
                assert_int_equal(parse_duration(t + 1, &d), 0);
                return NOW + d;
        }
        if (parse_duration(t, &d) < 0)
                fail_msg("bad age '%s'", t);
        return NOW - d;
}

/* ---- building the snapshot ----------------------------------------------------------------------- */

#define MAX_TOKENS 16

static size_t tokenize(char *line, char *tokens[static MAX_TOKENS]) {
        size_t n = 0;

        for (char *save = NULL, *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                assert_true(n < MAX_TOKENS);
                tokens[n++] = t;
        }
        return n;
}

static void *grow(void *p, size_t n, size_t size) {
        p = reallocarray(p, n + 1, size);
        assert_non_null(p);
        memset((char *) p + n * size, 0, size);
        return p;
}

static void uids_add(char ***uids, size_t *n, char *uid) {
        *uids = grow(*uids, *n, sizeof(**uids));
        (*uids)[(*n)++] = uid;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int compare_cgroups(const void *a, const void *b) {
        const CgfsPod *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);

        return c != 0 ? c : (int) x->qos - (int) y->qos;
}

static void source_down(SourceStatus *st, char **tokens, size_t n) {
        char buf[512] = "";

        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(buf, " ");
                strcat(buf, tokens[i]);
        }
        st->ok = false;
        st->error = strdup(buf);
}

/* The runtime's strings live in its message; here, until the case ends. */
static char **arena;
static size_t n_arena;

static const char *arena_strdup(const char *text) {
        arena = grow(arena, n_arena, sizeof(*arena));
        arena[n_arena] = strdup(text);
        assert_non_null(arena[n_arena]);
        return arena[n_arena++];
}

static void arena_free(void) {
        for (size_t i = 0; i < n_arena; i++)
                free(arena[i]);
        free(arena);
        arena = NULL;
        n_arena = 0;
}

static int64_t ns_token(const char *t) {
        return (int64_t) time_token(t) * 1000;
}

static uint32_t attempt_token(char **t, size_t n, size_t from) {
        unsigned a = 0;

        for (size_t i = from; i < n; i++) {
                if (strncmp(t[i], "attempt=", 8) != 0)
                        fail_msg("bad word '%s'", t[i]);
                assert_int_equal(safe_atou(t[i] + 8, &a), 0);
        }
        return a;
}

/* "state=N": a state this podreaper does not know. */
static int sandbox_state_token(const char *t) {
        int state = 0;

        if (strncmp(t, "state=", 6) != 0 || safe_atoi(t + 6, &state) < 0)
                fail_msg("bad sandbox state '%s'", t);
        return state;
}

static void node_build(const char *text, Snapshot *s, State *saved) {
        _cleanup_free_ char *copy = expand(text);

        *s = (Snapshot){
                .now = NOW,
                .cgroups.ok = true,
                .cri.ok = true,
                .kubelet.ok = true,
                .disk.ok = true,
                .kubelet_started = NOW - USEC_PER_HOUR,
                .pod_cgroups.driver = CGFS_DRIVER_CGROUPFS,
        };
        *saved = (State){};

        for (char *save = NULL, *line = strtok_r(copy, ";\n", &save); line;
             line = strtok_r(NULL, ";\n", &save)) {
                char *t[MAX_TOKENS];
                size_t n = tokenize(line, t);

                if (n == 0)
                        continue;
                if (strcmp(t[0], "cg") == 0) {
                        CgfsPod *cg;
                        _cleanup_free_ char *uid = NULL;

                        assert_true(n >= 3);
                        s->pod_cgroups.items = grow(s->pod_cgroups.items, s->pod_cgroups.n, sizeof(CgfsPod));
                        cg = &s->pod_cgroups.items[s->pod_cgroups.n++];
                        uid = uid_token(t[1]);
                        snprintf(cg->uid, sizeof(cg->uid), "%s", uid);
                        cg->qos = CGFS_QOS_BURSTABLE;
                        cg->changed = time_token(t[2]);
                        for (size_t i = 3; i < n; i++)
                                if (strcmp(t[i], "populated") == 0)
                                        cg->populated = true;
                                else if (strcmp(t[i], "qos=g") == 0)
                                        cg->qos = CGFS_QOS_GUARANTEED;
                                else if (strcmp(t[i], "qos=be") == 0)
                                        cg->qos = CGFS_QOS_BESTEFFORT;
                                else if (strcmp(t[i], "qos=bu") != 0)
                                        fail_msg("bad cg word '%s'", t[i]);
                } else if (strcmp(t[0], "dir") == 0) {
                        PodDir *d;

                        assert_true(n >= 3);
                        s->pod_dirs = grow(s->pod_dirs, s->n_pod_dirs, sizeof(PodDir));
                        d = &s->pod_dirs[s->n_pod_dirs++];
                        d->uid = uid_token(t[1]);
                        d->changed = time_token(t[2]);
                        if (n > 3) {
                                char *colon;

                                assert_true(strncmp(t[3], "mounts=", 7) == 0);
                                colon = strchr(t[3], ':');
                                if (colon) {
                                        d->first_mount = strdup(colon + 1);
                                        *colon = '\0';
                                }
                                d->n_mounts = strtoul(t[3] + 7, NULL, 10);
                        }
                } else if (strcmp(t[0], "log") == 0) {
                        LogDir *l;
                        const char *u;

                        assert_int_equal(n, 3);
                        s->log_dirs = grow(s->log_dirs, s->n_log_dirs, sizeof(LogDir));
                        l = &s->log_dirs[s->n_log_dirs++];
                        l->name = strdup(t[1]);
                        u = strrchr(t[1], '_');
                        l->uid = strdup(u ? u + 1 : t[1]);
                        l->changed = time_token(t[2]);
                } else if (strcmp(t[0], "cri") == 0) {
                        for (size_t i = 1; i < n; i++)
                                uids_add(&s->cri_uids, &s->n_cri_uids, uid_token(t[i]));
                } else if (strcmp(t[0], "kubelet") == 0) {
                        for (size_t i = 1; i < n; i++)
                                uids_add(&s->kubelet_uids, &s->n_kubelet_uids, uid_token(t[i]));
                } else if (strcmp(t[0], "seen") == 0) {
                        _cleanup_free_ char *uid = NULL;

                        assert_int_equal(n, 3);
                        uid = uid_token(t[1]);
                        assert_true(state_orphan_see(saved, uid, time_token(t[2])) >= 0);
                } else if (strcmp(t[0], "reaping") == 0) {
                        _cleanup_free_ char *uid = NULL;

                        assert_int_equal(n, 2);
                        uid = uid_token(t[1]);
                        assert_int_equal(state_orphan_set_reaping(saved, uid), 0);
                } else if (strcmp(t[0], "down") == 0) {
                        SourceStatus *st = strcmp(t[1], "cgroups") == 0   ? &s->cgroups
                                           : strcmp(t[1], "cri") == 0     ? &s->cri
                                           : strcmp(t[1], "kubelet") == 0 ? &s->kubelet
                                           : strcmp(t[1], "disk") == 0    ? &s->disk
                                                                          : NULL;

                        assert_non_null(st);
                        source_down(st, t + 2, n - 2);
                } else if (strcmp(t[0], "sb") == 0) {
                        _cleanup_free_ char *uid = NULL;
                        CriPodSandbox *sb;

                        assert_true(n >= 5);
                        uid = uid_token(t[1]);
                        s->sandboxes.items = grow(s->sandboxes.items, s->sandboxes.n, sizeof(CriPodSandbox));
                        sb = &s->sandboxes.items[s->sandboxes.n++];
                        *sb = (CriPodSandbox){
                                .id = arena_strdup(t[2]),
                                .pod_name = arena_strdup("p"),
                                .pod_namespace = arena_strdup("ns"),
                                .pod_uid = arena_strdup(uid),
                                .state = strcmp(t[3], "ready") == 0      ? CRI_SANDBOX_READY
                                         : strcmp(t[3], "notready") == 0 ? CRI_SANDBOX_NOTREADY
                                                                         : sandbox_state_token(t[3]),
                                .created_at = ns_token(t[4]),
                                .attempt = attempt_token(t, n, 5),
                        };
                        uids_add(&s->cri_uids, &s->n_cri_uids, TAKE_PTR(uid));
                } else if (strcmp(t[0], "ctr") == 0) {
                        static const char *const states[] = {
                                [CRI_CONTAINER_CREATED] = "created",
                                [CRI_CONTAINER_RUNNING] = "running",
                                [CRI_CONTAINER_EXITED] = "exited",
                                [CRI_CONTAINER_UNKNOWN] = "unknown",
                        };
                        _cleanup_free_ char *uid = NULL;
                        CriContainer *c;
                        int state = -1;

                        assert_true(n >= 7);
                        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                                if (strcmp(t[5], states[i]) == 0)
                                        state = (int) i;
                        if (state < 0)
                                fail_msg("bad container state '%s'", t[5]);
                        uid = uid_token(t[1]);
                        s->containers.items =
                                grow(s->containers.items, s->containers.n, sizeof(CriContainer));
                        c = &s->containers.items[s->containers.n++];
                        *c = (CriContainer){
                                .id = arena_strdup(t[2]),
                                .pod_sandbox_id = arena_strdup(t[3]),
                                .name = arena_strdup(t[4]),
                                .image = arena_strdup("docker.io/library/busybox:1.35"),
                                .image_ref = arena_strdup(""),
                                .image_id = arena_strdup(""),
                                .state = state,
                                .created_at = ns_token(t[6]),
                                .attempt = attempt_token(t, n, 7),
                        };
                        c->labels.items = calloc(1, sizeof(CriKeyValue));
                        assert_non_null(c->labels.items);
                        c->labels.items[0] =
                                (CriKeyValue){arena_strdup("io.kubernetes.pod.uid"), arena_strdup(uid)};
                        c->labels.n = 1;
                        uids_add(&s->cri_uids, &s->n_cri_uids, TAKE_PTR(uid));
                } else if (strcmp(t[0], "deleted") == 0) {
                        _cleanup_free_ char *uid = NULL;

                        assert_int_equal(n, 3);
                        uid = uid_token(t[1]);
                        assert_true(state_deleted_see(saved, uid, time_token(t[2])) >= 0);
                } else if (strcmp(t[0], "kubelet-up") == 0) {
                        s->kubelet_started = strcmp(t[1], "unknown") == 0 ? 0 : time_token(t[1]);
                } else if (strcmp(t[0], "driver") == 0) {
                        assert_int_equal(cgfs_driver_from_string(t[1], &s->pod_cgroups.driver), 0);
                } else
                        fail_msg("bad node statement '%s'", t[0]);
        }

        /* As the snapshot promises: cgroups by uid then QoS, uid lists sorted. */
        if (s->pod_cgroups.n > 1)
                qsort(s->pod_cgroups.items, s->pod_cgroups.n, sizeof(CgfsPod), compare_cgroups);
        if (s->n_cri_uids > 1)
                qsort(s->cri_uids, s->n_cri_uids, sizeof(char *), compare_strings);
        /* Without duplicates, as gather's: a sandbox and a container of one uid name it once. */
        for (size_t i = 1, k = 1; i <= s->n_cri_uids; i++) {
                if (i == s->n_cri_uids) {
                        s->n_cri_uids = s->n_cri_uids > 0 ? k : 0;
                        break;
                }
                if (strcmp(s->cri_uids[k - 1], s->cri_uids[i]) == 0)
                        free(s->cri_uids[i]);
                else
                        s->cri_uids[k++] = s->cri_uids[i];
        }
        if (s->n_kubelet_uids > 1)
                qsort(s->kubelet_uids, s->n_kubelet_uids, sizeof(char *), compare_strings);
}

/* --only names as DESIGN §4 has them (options.c is not linked into this test). */
static const struct {
        const char *name;
        ReapKind kind;
} kind_names[] = {
        {"containers", KIND_CONTAINERS},
        {"sandboxes", KIND_SANDBOXES},
        {"logs", KIND_LOGS},
        {"images", KIND_IMAGES},
        {"pod-dirs", KIND_POD_DIRS},
        {"cgroups", KIND_CGROUPS},
};

static void options_build(const char *text, Options *o) {
        _cleanup_free_ char *copy = expand(text ?: "");
        char *t[MAX_TOKENS];
        size_t n;

        *o = (Options){
                .command = COMMAND_RUN,
                .root_dir = strdup("/var/lib/kubelet"),
                .pod_logs_dir = strdup("/var/log/pods"),
                .kubepods_cgroup = strdup("kubepods"),
                .only = KIND_ALL,
                .orphan_grace = 10 * USEC_PER_MINUTE,
                .require_kubelet = true,
                .max_orphan_fraction = 0.5,
                .maximum_dead_containers_per_container = 1,
                .maximum_dead_containers = -1,
                .image_gc_high_threshold = 85,
                .image_gc_low_threshold = 80,
        };

        n = tokenize(copy, t);
        for (size_t i = 0; i < n; i++) {
                char *v = strchr(t[i], '=');

                assert_non_null(v);
                *v++ = '\0';
                if (strcmp(t[i], "grace") == 0)
                        assert_int_equal(parse_duration(v, &o->orphan_grace), 0);
                else if (strcmp(t[i], "only") == 0) {
                        o->only = 0;
                        for (char *save = NULL, *k = strtok_r(v, ",", &save); k;
                             k = strtok_r(NULL, ",", &save)) {
                                unsigned bit = 0;

                                for (size_t j = 0; j < ELEMENTSOF(kind_names); j++)
                                        if (strcmp(kind_names[j].name, k) == 0)
                                                bit = kind_names[j].kind;
                                assert_true(bit != 0);
                                o->only |= bit;
                        }
                } else if (strcmp(t[i], "max") == 0)
                        assert_int_equal(safe_atou(v, &o->max_deletions), 0);
                else if (strcmp(t[i], "fraction") == 0)
                        assert_int_equal(safe_atofraction(v, &o->max_orphan_fraction), 0);
                else if (strcmp(t[i], "kubelet") == 0)
                        o->require_kubelet = strcmp(v, "off") != 0;
                else if (strcmp(t[i], "reap") == 0) {
                        o->command = COMMAND_REAP_POD;
                        o->reap_pod_uid = uid_token(v);
                } else if (strcmp(t[i], "root") == 0) {
                        free(o->root_dir);
                        o->root_dir = strdup(v);
                } else if (strcmp(t[i], "ttl") == 0)
                        assert_int_equal(parse_duration(v, &o->minimum_container_ttl_duration), 0);
                else if (strcmp(t[i], "podlogs") == 0) {
                        free(o->pod_logs_dir);
                        o->pod_logs_dir = strdup(v);
                } else
                        fail_msg("bad option '%s'", t[i]);
        }
}

/* Only what options_build() sets: options.c is not linked into this test. */
static void options_free(Options *o) {
        free(o->reap_pod_uid);
        free(o->root_dir);
        free(o->pod_logs_dir);
        free(o->kubepods_cgroup);
}

/* ---- checking ------------------------------------------------------------------------------------ */

typedef struct Case {
        const char *name;
        const char *node;
        const char *options;
        const char *expect;  /* the actions, in order; "" none */
        const char *blocked; /* part of blocked_reason; NULL: not blocked */
        const char *breaker; /* part of breaker_reason; NULL: not tripped */
        const char *orphans; /* n_orphans; NULL: not checked */
        const char *state;   /* "<uid> <age>; ..." the output state exactly; NULL: not checked */
        /* The deleted-pod rule: "not considered", "on", "on: A deleted 15m, B grace 5m" (every pod,
         * by uid, since when), "off <sources|kubelet|no-pod-dir> [<uid>]: <reason part>"; NULL: not
         * checked. */
        const char *deleted;
        const char *deleted_state; /* "<uid> <age>; ..." the deleted records exactly; NULL: none */
} Case;

static void plan_print(const Plan *p) {
        print_message(
                "  plan (%zu actions)%s%s%s%s:\n",
                p->n_actions,
                p->blocked_reason ? ", blocked: " : "",
                p->blocked_reason ?: "",
                p->breaker_reason ? ", breaker: " : "",
                p->breaker_reason ?: "");
        for (size_t i = 0; i < p->n_actions; i++) {
                char a[CGFS_UID_MAX + 1];

                print_message(
                        "    %s %s @%s : %s\n",
                        action_kind_to_string(p->actions[i].kind),
                        alias_of(p->actions[i].uid, a),
                        p->actions[i].target,
                        p->actions[i].reason);
        }
        print_message("  state:");
        for (size_t i = 0; i < p->state.n_orphans; i++) {
                char a[CGFS_UID_MAX + 1];

                print_message(
                        " %s %" PRIu64 "us ago;",
                        alias_of(p->state.orphans[i].uid, a),
                        (uint64_t) (NOW - p->state.orphans[i].first_seen));
        }
        print_message(
                "\n  deleted: %s, rule %s (%s):",
                p->deleted.considered ? "considered" : "not considered",
                deleted_rule_to_string(p->deleted.rule),
                p->deleted.off_reason ?: "-");
        for (size_t i = 0; i < p->deleted.n_pods; i++) {
                char a[CGFS_UID_MAX + 1];

                print_message(
                        " %s %s %" PRIu64 "us ago;",
                        alias_of(p->deleted.pods[i].uid, a),
                        p->deleted.pods[i].past_grace ? "deleted" : "grace",
                        (uint64_t) (NOW - p->deleted.pods[i].first_seen));
        }
        print_message("\n  deleted state:");
        for (size_t i = 0; i < p->state.n_deleted; i++) {
                char a[CGFS_UID_MAX + 1];

                print_message(
                        " %s %" PRIu64 "us ago;",
                        alias_of(p->state.deleted[i].uid, a),
                        (uint64_t) (NOW - p->state.deleted[i].first_seen));
        }
        print_message("\n");
}

static bool check_action(const Action *a, char *line) {
        char *target = NULL, *reason = NULL, *t[MAX_TOKENS], *sep;
        bool gone = false, deleted = false;
        _cleanup_free_ char *uid = NULL;
        size_t n;

        sep = strstr(line, " : ");
        if (sep) {
                *sep = '\0';
                reason = sep + 3;
                for (char *e = reason + strlen(reason); e > reason && e[-1] == ' ';)
                        *--e = '\0';
        }
        n = tokenize(line, t);
        assert_true(n >= 2 && n <= 4);
        for (size_t i = 2; i < n; i++)
                if (t[i][0] == '@')
                        target = t[i] + 1;
                else if (strcmp(t[i], "!gone") == 0)
                        gone = true;
                else if (strcmp(t[i], "!deleted") == 0)
                        deleted = true;
                else
                        fail_msg("bad expected word '%s'", t[i]);
        uid = strcmp(t[1], "-") == 0 ? strdup("") : uid_token(t[1]);

        if (strcmp(action_kind_to_string(a->kind), t[0]) != 0 || strcmp(a->uid, uid) != 0) {
                print_error("expected %s %s\n", t[0], t[1]);
                return false;
        }
        if (target && strcmp(a->target, target) != 0) {
                print_error("%s %s: expected target '%s', got '%s'\n", t[0], t[1], target, a->target);
                return false;
        }
        if (reason && !strstr(a->reason, reason)) {
                print_error("%s %s: expected reason with '%s', got '%s'\n", t[0], t[1], reason, a->reason);
                return false;
        }
        if (a->pod_gone != gone || a->pod_deleted != deleted) {
                print_error(
                        "%s %s: pod_gone %d pod_deleted %d, expected %d %d\n",
                        t[0],
                        t[1],
                        a->pod_gone,
                        a->pod_deleted,
                        gone,
                        deleted);
                return false;
        }
        if (a->result != RESULT_PLANNED || a->error || !a->target || !a->reason || strchr(a->reason, '\n')) {
                print_error("%s %s: not a planned one-line action\n", t[0], t[1]);
                return false;
        }
        return true;
}

static bool check_state(const State *st, const char *expected) {
        _cleanup_free_ char *copy = expand(expected);
        size_t n = 0;

        for (char *save = NULL, *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save), n++) {
                char *t[MAX_TOKENS];
                _cleanup_free_ char *uid = NULL;

                assert_int_equal(tokenize(e, t), 2);
                uid = uid_token(t[0]);
                if (n >= st->n_orphans || strcmp(st->orphans[n].uid, uid) != 0 ||
                    st->orphans[n].first_seen != time_token(t[1])) {
                        print_error("state: expected %s first seen %s at position %zu\n", t[0], t[1], n);
                        return false;
                }
        }
        if (n != st->n_orphans) {
                print_error("state: %zu entries, expected %zu\n", st->n_orphans, n);
                return false;
        }
        /* plan.h: sorted by uid. */
        for (size_t i = 1; i < st->n_orphans; i++)
                if (strcmp(st->orphans[i - 1].uid, st->orphans[i].uid) >= 0) {
                        print_error("state: not sorted\n");
                        return false;
                }
        return true;
}

/* The deleted-pod records of st, exactly: "<uid> <age>; ...". */
static bool check_deleted_state(const State *st, const char *expected) {
        _cleanup_free_ char *copy = expand(expected ?: "");
        size_t n = 0;

        for (char *save = NULL, *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save), n++) {
                char *t[MAX_TOKENS];
                _cleanup_free_ char *uid = NULL;

                assert_int_equal(tokenize(e, t), 2);
                uid = uid_token(t[0]);
                if (n >= st->n_deleted || strcmp(st->deleted[n].uid, uid) != 0 ||
                    st->deleted[n].first_seen != time_token(t[1])) {
                        print_error(
                                "deleted state: expected %s first seen %s at position %zu\n", t[0], t[1], n);
                        return false;
                }
        }
        if (n != st->n_deleted) {
                print_error("deleted state: %zu records, expected %zu\n", st->n_deleted, n);
                return false;
        }
        return true;
}

static bool check_deleted(const Plan *p, const char *expected) {
        _cleanup_free_ char *copy = expand(expected);
        const DeletedPods *d = &p->deleted;
        char *colon = strstr(copy, ": "), *t[MAX_TOKENS];
        size_t n;

        if (colon) {
                *colon = '\0';
                colon += 2;
        }
        if (strcmp(copy, "not considered") == 0) {
                if (d->considered) {
                        print_error("deleted: considered, expected not\n");
                        return false;
                }
                return true;
        }
        n = tokenize(copy, t);
        if (!d->considered) {
                print_error("deleted: not considered\n");
                return false;
        }
        if (strcmp(t[0], "on") == 0) {
                size_t k = 0;

                if (d->rule != DELETED_RULE_ON || d->off_reason) {
                        print_error(
                                "deleted: rule %s (%s), expected on\n",
                                deleted_rule_to_string(d->rule),
                                d->off_reason);
                        return false;
                }
                for (char *save = NULL, *e = colon ? strtok_r(colon, ",", &save) : NULL; e;
                     e = strtok_r(NULL, ",", &save), k++) {
                        char *w[MAX_TOKENS];
                        _cleanup_free_ char *uid = NULL;

                        assert_int_equal(tokenize(e, w), 3);
                        uid = uid_token(w[0]);
                        if (k >= d->n_pods || strcmp(d->pods[k].uid, uid) != 0 ||
                            d->pods[k].past_grace != (strcmp(w[1], "deleted") == 0) ||
                            d->pods[k].first_seen != time_token(w[2]) || !d->pods[k].evidence) {
                                print_error(
                                        "deleted: expected %s %s %s at position %zu\n", w[0], w[1], w[2], k);
                                return false;
                        }
                }
                if (k != d->n_pods) {
                        print_error("deleted: %zu pods, expected %zu\n", d->n_pods, k);
                        return false;
                }
                return true;
        }
        assert_true(strcmp(t[0], "off") == 0 && n >= 2);
        if (strcmp(deleted_rule_to_string(d->rule), t[1]) != 0 || !d->off_reason ||
            (colon && !strstr(d->off_reason, colon)) || d->n_pods != 0) {
                print_error(
                        "deleted: rule %s (%s, %zu pods), expected off %s with '%s'\n",
                        deleted_rule_to_string(d->rule),
                        d->off_reason,
                        d->n_pods,
                        t[1],
                        colon ?: "");
                return false;
        }
        if (n >= 3) {
                _cleanup_free_ char *uid = uid_token(t[2]);

                if (!d->no_pod_dir_uid || strcmp(d->no_pod_dir_uid, uid) != 0 ||
                    !strstr(d->off_reason, uid)) {
                        print_error("deleted: no pod dir uid %s, expected %s\n", d->no_pod_dir_uid, t[2]);
                        return false;
                }
        } else if (d->no_pod_dir_uid) {
                print_error("deleted: no pod dir uid %s, expected none\n", d->no_pod_dir_uid);
                return false;
        }
        return true;
}

static void run_case(void **state) {
        const Case *c = *state;
        _cleanup_free_ char *expect = expand(c->expect);
        Snapshot s;
        State saved;
        Options o;
        Plan p = {};
        bool ok = true;
        size_t i = 0;

        node_build(c->node, &s, &saved);
        options_build(c->options, &o);
        assert_int_equal(plan_build(&s, &o, &saved, &p), 0);

        for (char *save = NULL, *line = strtok_r(expect, "|\n", &save); line && ok;
             line = strtok_r(NULL, "|\n", &save), i++) {
                if (i >= p.n_actions) {
                        print_error("missing action %zu: %s\n", i, line);
                        ok = false;
                } else
                        ok = check_action(&p.actions[i], line);
        }
        if (ok && i != p.n_actions) {
                print_error("%zu actions, expected %zu\n", p.n_actions, i);
                ok = false;
        }

        if (ok &&
            (c->blocked ? !p.pod_level_blocked || !p.blocked_reason || !strstr(p.blocked_reason, c->blocked)
                        : p.pod_level_blocked || p.blocked_reason)) {
                print_error("blocked: expected %s\n", c->blocked ?: "not blocked");
                ok = false;
        }
        if (ok &&
            (c->breaker ? !p.breaker_tripped || !p.breaker_reason || !strstr(p.breaker_reason, c->breaker)
                        : p.breaker_tripped || p.breaker_reason)) {
                print_error("breaker: expected %s\n", c->breaker ?: "not tripped");
                ok = false;
        }
        if (ok && c->orphans && p.n_orphans != strtoul(c->orphans, NULL, 10)) {
                print_error("n_orphans %zu, expected %s\n", p.n_orphans, c->orphans);
                ok = false;
        }
        if (ok && c->state)
                ok = check_state(&p.state, c->state);
        if (ok && c->deleted)
                ok = check_deleted(&p, c->deleted);
        if (ok)
                ok = check_deleted_state(&p.state, c->deleted_state);

        if (!ok)
                plan_print(&p);

        plan_done(&p);
        state_done(&saved);
        snapshot_done(&s);
        arena_free();
        options_free(&o);
        if (!ok)
                fail_msg("case '%s'", c->name);
}

/* ---- the cases ----------------------------------------------------------------------------------- */

#define ORPHANED "orphaned: no sandbox or container in the runtime, not active in the kubelet"
#define BREAKER_TAIL "a wrong source? no process is killed this pass"
#define EVIDENCE \
        "pod dir removed by the kubelet, no ready sandbox, no running container, not active in the kubelet"
/* A deleted pod past the grace: its one dead container in its one NotReady sandbox. */
#define DELETED_BASE "sb A sa0 notready 2h; ctr A c0 sa0 app exited 2h; deleted A 15m"

static const Case cases[] = {
        /* -- liveness -- */
        {
                .name = "orphan past the grace: cgroup destroyed, then pod dir, then log dir",
                .node = "cg A 1h populated; dir A 1h; log default_web-0_{A} 1h; seen A 25m",
                .expect =
                        "destroy-cgroup A @kubepods/burstable/pod{A} : " ORPHANED
                        ", orphaned for 25m (grace 10m); its processes are killed\n"
                        "remove-pod-dir A @/var/lib/kubelet/pods/{A} : orphaned for 25m (grace 10m); after "
                        "its "
                        "cgroup is destroyed\n"
                        "remove-log-dir A @/var/log/pods/default_web-0_{A} : after its cgroup is destroyed",
                .orphans = "1",
                .state = "A 25m",
        },
        {
                .name = "a sandbox or container in the runtime makes a pod live: nothing listed",
                .node = "cg A 1h populated; dir A 1h; log ns_p_{A} 1h; cri A; seen A 1h",
                .expect = "",
                .orphans = "0",
                .state = "",
        },
        {
                .name = "the kubelet reporting it active makes a pod live",
                .node = "cg A 1h; dir A 1h mounts=1:/x; log ns_p_{A} 1h; kubelet A; seen A 1h",
                .expect = "",
                .orphans = "0",
                .state = "",
        },
        {
                .name = "live and orphaned pods: only orphans listed, by uid",
                .node = "cg C 1h; dir B 1h; dir A 1h; cg A 1h; kubelet B; cri A; seen C 1h; seen D 1h; dir "
                        "D 1h",
                .expect = "destroy-cgroup C | remove-pod-dir D",
                .orphans = "2",
                .state = "C 1h; D 1h",
        },
        {
                .name = "a pass was killed while reaping: its own change of the dir does not restart the "
                        "grace",
                .node = "dir A 1s; log ns_p_{A} 1s; seen A 1h; reaping A",
                .expect = "remove-pod-dir A | remove-log-dir A",
        },
        {
                .name = "without the reaping mark a change 1s ago is within the grace",
                .node = "dir A 1s; seen A 1h",
                .expect = "skip-pod A : within the grace",
        },
        {
                .name = "the reaping mark never shortens the first-seen half of the grace",
                .node = "dir A 1h; seen A 1m; reaping A",
                .expect = "skip-pod A : within the grace",
        },
        {
                .name = "a pod only in cgroups",
                .node = "cg A 2h qos=be; seen A 2h",
                .expect = "destroy-cgroup A @kubepods/besteffort/pod{A} : orphaned for 2h (grace 10m)",
        },
        {
                .name = "a pod only in the log dir",
                .node = "log kube-system_coredns-5d78c9869d-abcde_{A} 1h; seen A 1h",
                .expect = "remove-log-dir A @/var/log/pods/kube-system_coredns-5d78c9869d-abcde_{A}",
                .orphans = "1",
        },
        {
                .name = "a uid in two QoS cgroups (leftovers): both destroyed",
                .node = "cg A 1h qos=be; cg A 1h qos=g populated; dir A 1h; seen A 1h",
                .expect = "destroy-cgroup A @kubepods/pod{A} : its processes are killed | destroy-cgroup A "
                          "@kubepods/besteffort/pod{A} | remove-pod-dir A : after its cgroup is destroyed",
        },
        {
                .name = "systemd driver: the slice path is the target",
                .node = "driver systemd; cg A 1h; cg B 1h qos=g; seen A 1h; seen B 1h",
                .expect = "destroy-cgroup A "
                          "@kubepods.slice/kubepods-burstable.slice/"
                          "kubepods-burstable-pod00000001_0000_4000_8000_"
                          "000000000001.slice | destroy-cgroup B "
                          "@kubepods.slice/kubepods-pod00000002_0000_4000_8000_000000000002.slice",
        },
        {
                .name = "a static pod's 32-hex uid",
                .node = "dir {#S} 1h; log kube-system_etcd-node1_{#S} 1h; seen {#S} 1h",
                .expect = "remove-pod-dir {#S} @/var/lib/kubelet/pods/{#S} | remove-log-dir {#S}",
        },
        {
                .name = "root dir and pod logs dir with a trailing slash",
                .node = "dir A 1h; log ns_p_{A} 1h; seen A 1h",
                .options = "root=/srv/kubelet/ podlogs=/logs/pods/",
                .expect = "remove-pod-dir A @/srv/kubelet/pods/{A} | remove-log-dir A @/logs/pods/ns_p_{A}",
        },

        /* -- sources ready -- */
        {
                .name = "runtime not ready: no pod-level action, orphans counted, state unchanged",
                .node = "down cri connect /run/containerd/containerd.sock: connection refused; cg A 1h "
                        "populated; "
                        "dir B 1h; seen A 1h; seen Z 5m; seen B +1h",
                .expect = "",
                .blocked = "container runtime not ready: connect /run/containerd/containerd.sock: "
                           "connection refused",
                .orphans = "2",
                .state = "A 1h; B +1h; Z 5m",
        },
        {
                .name = "pod cgroups not read: blocked",
                .node = "down cgroups no kubepods hierarchy; dir A 1h; seen A 1h",
                .expect = "",
                .blocked = "pod cgroups not read: no kubepods hierarchy",
                .orphans = "1",
                .state = "A 1h",
        },
        {
                .name = "disk not read: blocked",
                .node = "down disk /proc/self/mountinfo: Permission denied; cg A 1h; seen A 1h",
                .expect = "",
                .blocked = "disk not read: /proc/self/mountinfo: Permission denied",
        },
        {
                .name = "kubelet not answering healthz: blocked",
                .node = "down kubelet healthz: connection refused; dir A 1h; seen A 1h",
                .expect = "",
                .blocked = "kubelet not ready: healthz: connection refused",
                .orphans = "1",
        },
        {
                .name = "kubelet up for less than the grace: blocked",
                .node = "kubelet-up 3m; dir A 1h; seen A 1h",
                .expect = "",
                .blocked = "kubelet up for 3m, less than the 10m grace",
        },
        {
                .name = "kubelet up for exactly the grace: ready",
                .node = "kubelet-up 10m; dir A 1h; seen A 1h",
                .expect = "remove-pod-dir A",
        },
        {
                .name = "kubelet start time unknown: blocked",
                .node = "kubelet-up unknown; dir A 1h; seen A 1h",
                .expect = "",
                .blocked = "kubelet start time unknown",
        },
        {
                .name = "two sources down: both named",
                .node = "down cri deadline exceeded; down kubelet healthz: 500; dir A 1h",
                .expect = "",
                .blocked = "container runtime not ready: deadline exceeded; kubelet not ready: healthz: 500",
        },
        {
                .name = "--require-kubelet=false: a kubelet down or young is not waited for, and said so",
                .node = "down kubelet healthz: connection refused; kubelet-up 1m; dir A 1h; seen A 1h",
                .options = "kubelet=off",
                .expect = "remove-pod-dir A : orphaned: no sandbox or container in the runtime, kubelet not "
                          "consulted (--require-kubelet=false), orphaned for 1h (grace 10m)",
        },

        /* -- the grace -- */
        {
                .name = "a new orphan: first seen now, within the grace, recorded",
                .node = "cg A 1h populated; dir A 1h; seen Z 1h",
                .expect = "skip-pod A @/var/lib/kubelet/pods/{A} : orphan, within the grace (first seen "
                          "now, changed "
                          "1h ago; grace 10m)",
                .orphans = "1",
                .state = "A now",
        },
        {
                .name = "first seen less than the grace ago",
                .node = "cg A 12m; seen A 3m",
                .expect = "skip-pod A @kubepods/burstable/pod{A} : orphan, within the grace (first seen 3m "
                          "ago, "
                          "changed 12m ago; grace 10m)",
                .state = "A 3m",
        },
        {
                .name = "the newest change counts: a cgroup changed within the grace, its dirs long ago",
                .node = "cg A 3m; dir A 1h; log ns_p_{A} 2h; seen A 1h",
                .expect = "skip-pod A : (first seen 1h ago, changed 3m ago; grace 10m)",
        },
        {
                .name = "seen long ago, but its pod dir changed within the grace",
                .node = "cg A 1h; dir A 2m; seen A 1h",
                .expect = "skip-pod A : (first seen 1h ago, changed 2m ago; grace 10m)",
        },
        {
                .name = "the newest change counts: a log dir written within the grace",
                .node = "dir A 1h; log ns_p_{A} 5m30.5s; seen A 1h",
                .expect = "skip-pod A : changed 5m30s ago",
        },
        {
                .name = "exactly at the grace (first seen and changed): past the grace",
                .node = "dir A 10m; seen A 10m",
                .expect = "remove-pod-dir A : orphaned for 10m (grace 10m)",
        },
        {
                .name = "one microsecond short of the grace: within",
                .node = "dir A 1h; dir B 9m59.999999s; seen A 9m59.999999s; seen B 1h",
                .expect = "skip-pod A : first seen 9m59s ago | skip-pod B : changed 9m59s ago",
        },
        {
                .name = "first seen in the future (the clock went back): restarts now",
                .node = "dir A 1h; seen A +2h",
                .expect = "skip-pod A : first seen now",
                .state = "A now",
        },
        {
                .name = "change time unknown counts as old; first seen still applies",
                .node = "cg A epoch; seen A 5m",
                .expect = "skip-pod A : (first seen 5m ago, change time unknown; grace 10m)",
        },
        {
                .name = "--orphan-grace=0: a new orphan goes at once",
                .node = "cg A now populated",
                .options = "grace=0",
                .expect = "destroy-cgroup A : orphaned for 0s (grace 0s)",
                .state = "A now",
        },
        {
                .name = "state: old first-seen kept, new added, live and gone dropped",
                .node = "dir A 1h; seen A 40m; cg B 1h; cri B; seen B 1h; seen C 1h; log x_y_{D} 1h; "
                        "kubelet E; "
                        "dir E 1h; seen E 2h",
                .expect = "remove-pod-dir A | skip-pod D",
                .orphans = "2",
                .state = "A 40m; D now",
        },

        /* -- mounts -- */
        {
                .name = "volume still mounted: skipped, its cgroup gets less CPU, its log dir stays",
                .node = "cg A 1h populated; dir A 1h "
                        "mounts=3:/var/lib/kubelet/pods/{A}/volumes/kubernetes.io~nfs/"
                        "data; log ns_p_{A} 1h; seen A 1h",
                .expect = "reduce-cgroup-cpu A @kubepods/burstable/pod{A} : volume still mounted\n"
                          "skip-pod A @/var/lib/kubelet/pods/{A} : volume still mounted: "
                          "/var/lib/kubelet/pods/{A}/volumes/kubernetes.io~nfs/data (and 2 more)",
                .state = "A 1h",
        },
        {
                .name = "one mount, no cgroup: just the skip",
                .node = "dir A 1h mounts=1:/var/lib/kubelet/pods/{A}/volumes/kubernetes.io~secret/token; "
                        "seen A 1h",
                .expect = "skip-pod A : volume still mounted: /var/lib/kubelet/pods/{A}/volumes/"
                          "kubernetes.io~secret/token",
        },
        {
                .name = "mounted, cgroups not in --only: skip only",
                .node = "cg A 1h; dir A 1h mounts=2; seen A 1h",
                .options = "only=pod-dirs,logs",
                .expect = "skip-pod A : volume still mounted (2 mounts beneath the pod dir)",
        },
        {
                .name = "mounted but within the grace: the grace is the reason, no CPU change",
                .node = "cg A 1h populated; dir A 1h mounts=1:/m; seen A 1m",
                .expect = "skip-pod A : within the grace",
        },

        /* -- rule 4 -- */
        {
                .name = "rule 4: cgroups not in --only and the cgroup holds processes: dir and logs held",
                .node = "cg A 1h populated; dir A 1h; log ns_p_{A} 1h; seen A 1h",
                .options = "only=pod-dirs,logs",
                .expect = "skip-pod A @/var/lib/kubelet/pods/{A} : pod cgroup still holds processes",
        },
        {
                .name = "rule 4: an empty cgroup does not hold the dir back (cgroups not in --only)",
                .node = "cg A 1h; dir A 1h; seen A 1h",
                .options = "only=pod-dirs",
                .expect = "remove-pod-dir A : " ORPHANED,
        },

        /* -- the circuit breaker -- */
        {
                .name = "breaker: 3 of 4 populated look orphaned; empty leftovers still reaped",
                .node = "cg A 1h populated; dir A 1h; cg B 1h populated; cg C 2m populated; cg D 1h "
                        "populated; cri D; "
                        "cg E 1h; dir E 1h; log ns_f_{F} 1h; seen A 1h; seen B 1h; seen C 1h; seen E 1h; "
                        "seen F 1h",
                .breaker = "3 of 4 pod cgroups with processes look orphaned (more than 50%): " BREAKER_TAIL,
                .expect = "skip-pod A @/var/lib/kubelet/pods/{A} : 3 of 4 pod cgroups with processes look "
                          "orphaned\n"
                          "skip-pod B : " BREAKER_TAIL "\n"
                          "skip-pod C : within the grace\n"
                          "destroy-cgroup E | remove-pod-dir E | remove-log-dir F",
                .orphans = "5",
        },
        {
                .name = "breaker: exactly at the fraction holds",
                .node = "cg A 1h populated; cg B 1h populated; cg C 1h populated; cg D 1h populated; cri C "
                        "D; seen A "
                        "1h; seen B 1h",
                .expect = "destroy-cgroup A | destroy-cgroup B",
        },
        {
                .name = "breaker: one orphan alone never trips it",
                .node = "cg A 1h populated; dir A 1h; seen A 1h",
                .expect = "destroy-cgroup A | remove-pod-dir A",
        },
        {
                .name = "breaker: empty orphan cgroups do not count, however many",
                .node = "cg A 1h; cg B 1h; cg C 1h; cg D 1h populated; cri D; seen A 1h; seen B 1h; seen C "
                        "1h",
                .expect = "destroy-cgroup A | destroy-cgroup B | destroy-cgroup C",
        },
        {
                .name = "breaker: --max-orphan-fraction=0.3, 4 of 10 trips",
                .node = "cg A 1h populated; cg B 1h populated; cg C 1h populated; cg D 1h populated; cg E "
                        "1h "
                        "populated; cg F 1h populated; cg G 1h populated; cg H 1h populated; cg I 1h "
                        "populated; cg J "
                        "1h populated; cri E F G H I J; seen A 1h; seen B 1h; seen C 1h; seen D 1h",
                .options = "fraction=0.3",
                .breaker = "4 of 10 pod cgroups with processes look orphaned (more than 30%)",
                .expect = "skip-pod A | skip-pod B | skip-pod C | skip-pod D",
        },
        {
                .name = "breaker: --max-orphan-fraction=0.3, 3 of 10 holds",
                .node = "cg A 1h populated; cg B 1h populated; cg C 1h populated; cg D 1h populated; cg E "
                        "1h "
                        "populated; cg F 1h populated; cg G 1h populated; cg H 1h populated; cg I 1h "
                        "populated; cg J "
                        "1h populated; cri D E F G H I J; seen A 1h; seen B 1h; seen C 1h",
                .options = "fraction=0.3",
                .expect = "destroy-cgroup A | destroy-cgroup B | destroy-cgroup C",
        },
        {
                .name = "breaker: tripped while cgroups are not in --only, dirs of populated pods still "
                        "held",
                .node = "cg A 1h populated; dir A 1h; cg B 1h populated; dir B 1h; cg C 1h; dir C 1h; seen "
                        "A 1h; seen "
                        "B 1h; seen C 1h",
                .options = "only=pod-dirs",
                .breaker = "2 of 2",
                .expect = "skip-pod A : pod cgroup still holds processes | skip-pod B : pod cgroup still "
                          "holds "
                          "processes | remove-pod-dir C",
        },

        /* -- --max-deletions -- */
        {
                .name = "--max-deletions=2: the oldest first (first seen, then uid), the rest wait",
                .node = "dir A 1h; seen A 20m; dir B 2h; seen B 1h; dir C 2h; seen C 30m; cg D 2h; log "
                        "n_p_{D} 2h; "
                        "seen D 1h",
                .options = "max=2",
                .expect = "skip-pod A : over --max-deletions (2) this pass | remove-pod-dir B | skip-pod C "
                          ": over "
                          "--max-deletions (2) this pass | destroy-cgroup D | remove-log-dir D",
        },
        {
                .name = "--max-deletions: refusals do not use it up",
                .node = "dir A 1h mounts=1:/m; seen A 1h; dir B 1h; seen B 1m; dir C 1h; seen C 1h; dir D "
                        "1h; seen D "
                        "30m",
                .options = "max=1",
                .expect = "skip-pod A : volume still mounted | skip-pod B : within the grace | "
                          "remove-pod-dir C | "
                          "skip-pod D : over --max-deletions (1)",
        },

        /* -- --only -- */
        {
                .name = "--only cgroups",
                .node = "cg A 1h populated; dir A 1h; log n_p_{A} 1h; seen A 1h",
                .options = "only=cgroups",
                .expect = "destroy-cgroup A",
        },
        {
                .name = "--only logs: a pod with nothing but a cgroup is not listed",
                .node = "cg A 1h; dir A 1h; log n_p_{A} 1h; seen A 1h; cg B 1h; seen B 1m",
                .options = "only=logs",
                .expect = "remove-log-dir A",
                .orphans = "2",
        },
        {
                .name = "--only of no pod-level kind: no action, state still kept up",
                .node = "cg A 1h; dir A 1h; dir lost+found 1h; seen A 1h; seen Z 1h; dir B 1h",
                .options = "only=containers,images",
                .expect = "",
                .orphans = "2",
                .state = "A 1h; B now",
        },

        /* -- reap-pod -- */
        {
                .name = "reap-pod of a live uid: refused, with why",
                .node = "cg A 1h populated; dir A 1h; cri A; kubelet A",
                .options = "reap=A",
                .expect = "skip-pod A @/var/lib/kubelet/pods/{A} : live: the container runtime has a "
                          "sandbox or "
                          "container of it, the kubelet reports it active",
                .orphans = "0",
        },
        {
                .name = "reap-pod ignores the grace; other pods and their state untouched",
                .node = "cg A now populated; dir A now; log n_p_{A} now; dir B 1h; seen B 1h; seen C 1h; "
                        "cri C; seen "
                        "A +1h; dir lost+found 1h",
                .options = "reap=A",
                .expect =
                        "destroy-cgroup A : reap-pod (grace ignored) | remove-pod-dir A | remove-log-dir A",
                .orphans = "1",
                .state = "A now; B 1h; C 1h",
        },
        {
                .name = "reap-pod still needs the sources ready",
                .node = "kubelet-up 1m; dir A 1h",
                .options = "reap=A",
                .expect = "",
                .blocked = "kubelet up for 1m",
        },
        {
                .name = "reap-pod never removes what is mounted",
                .node = "cg A 1h; dir A 1h mounts=1:/m",
                .options = "reap=A",
                .expect = "reduce-cgroup-cpu A | skip-pod A : volume still mounted: /m",
        },
        {
                .name = "reap-pod under a tripped breaker kills nothing",
                .node = "cg A 1h populated; cg B 1h populated; dir A 1h",
                .options = "reap=A",
                .breaker = "2 of 2",
                .expect = "skip-pod A : " BREAKER_TAIL,
        },
        {
                .name = "reap-pod of a uid with nothing on the node",
                .node = "dir B 1h",
                .options = "reap=A",
                .expect = "skip-pod A @/var/lib/kubelet/pods/{A} : nothing of this pod on the node",
                .orphans = "0",
        },

        /* -- names -- */
        {
                .name = "pod dir names that are not uids: kept, listed by name",
                .node = "dir lost+found 1h; dir {A}.bak 1h; dir 00000001-0000-4000-8000-00000000000A 1h; "
                        "dir A 1h; "
                        "seen A 1h",
                .expect = "skip-pod - @/var/lib/kubelet/pods/{A}.bak : not a pod uid\n"
                          "skip-pod - @/var/lib/kubelet/pods/00000001-0000-4000-8000-00000000000A : not a "
                          "pod uid\n"
                          "skip-pod - @/var/lib/kubelet/pods/lost+found : not a pod uid\n"
                          "remove-pod-dir A",
        },
        {
                .name = "log dir names: the uid is what follows the last '_'",
                .node = "log ns_name_x_{A} 1h; log {B} 1h; log ns_{B} 1h; log _p_{B} 1h; log ns__{B} 1h; "
                        "log "
                        "ns_p_{B}x 1h; log ns_p_ 1h; seen A 1h",
                .expect = "skip-pod - @/var/log/pods/{B} : not a pod log dir\n"
                          "skip-pod - @/var/log/pods/_p_{B} : not a pod log dir\n"
                          "skip-pod - @/var/log/pods/ns_{B} | skip-pod - @/var/log/pods/ns__{B}\n"
                          "skip-pod - @/var/log/pods/ns_p_ | skip-pod - @/var/log/pods/ns_p_{B}x\n"
                          "remove-log-dir A @/var/log/pods/ns_name_x_{A}",
                .orphans = "1",
        },
        {
                .name = "one uid in two log dirs: both go, in name order",
                .node = "log ns_b_{A} 1h; log ns_a_{A} 1h; seen A 1h",
                .expect = "remove-log-dir A @/var/log/pods/ns_a_{A} | remove-log-dir A "
                          "@/var/log/pods/ns_b_{A}",
        },

        /* -- runtime GC: deleted pods (DESIGN §2, issue 12) -- */
        {
                .name = "deleted, past the grace: every dead container and the last sandbox go; its cgroup "
                        "and log dir stay while the runtime has it",
                .node = "sb A sa0 notready 3h; sb A sa1 notready 2h attempt=1; ctr A c0 sa0 app exited 3h; "
                        "ctr A c1 sa1 app exited 2h attempt=1; ctr A i1 sa1 init exited 2h; cg A 3h; "
                        "log ns_p_{A} 3h; deleted A 15m",
                .expect = "remove-container A @c0 !deleted : exited container 'app' (attempt 0, created 3h "
                          "ago) of a deleted pod: " EVIDENCE ", for 15m (grace 10m)\n"
                          "remove-container A @c1 !deleted : 'app' (attempt 1\n"
                          "remove-container A @i1 !deleted : 'init'\n"
                          "remove-sandbox A @sa0 !deleted : NotReady sandbox (attempt 0, created 3h ago) "
                          "without containers: its pod is deleted (" EVIDENCE ", for 15m (grace 10m)); "
                          "stopped, then removed\n"
                          "remove-sandbox A @sa1 !deleted : (attempt 1, created 2h ago)",
                .orphans = "0",
                .state = "",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted, within the grace: treated as live, the newest sandbox and dead container "
                        "per name stay",
                .node = "sb A sa0 notready 3h; sb A sa1 notready 2h attempt=1; ctr A c0 sa0 app exited 3h; "
                        "ctr A c1 sa1 app exited 2h attempt=1; ctr A i1 sa1 init exited 2h; deleted A 9m59s",
                .expect = "remove-container A @c0 : more than 1 dead of it in the pod | "
                          "remove-sandbox A @sa0 : not the pod's newest sandbox",
                .deleted = "on: A grace 9m59s",
                .deleted_state = "A 9m59s",
        },
        {
                .name = "deleted, first seen: the clock starts now",
                .node = "sb A sa0 notready 3h; ctr A c0 sa0 app exited 3h",
                .expect = "",
                .deleted = "on: A grace now",
                .deleted_state = "A now",
        },
        {
                .name = "deleted, exactly the grace ago: deleted",
                .node = "sb A sa0 notready 3h; ctr A c0 sa0 app exited 3h; deleted A 10m",
                .expect = "remove-container A @c0 !deleted : for 10m (grace 10m) | remove-sandbox A @sa0 "
                          "!deleted",
                .deleted = "on: A deleted 10m",
                .deleted_state = "A 10m",
        },
        {
                .name = "deleted, --orphan-grace=0: at first sight",
                .node = "sb A sa0 notready 3h; ctr A c0 sa0 app exited 3h",
                .options = "grace=0",
                .expect = "remove-container A @c0 !deleted : for 0s (grace 0s) | remove-sandbox A @sa0 "
                          "!deleted",
                .deleted = "on: A deleted now",
                .deleted_state = "A now",
        },
        {
                .name = "deleted, first seen in the future (the clock went back): starts now",
                .node = "sb A sa0 notready 3h; ctr A c0 sa0 app exited 3h; deleted A +1h",
                .expect = "",
                .deleted = "on: A grace now",
                .deleted_state = "A now",
        },
        {
                .name = "not deleted: a ready sandbox (the record goes)",
                .node = DELETED_BASE "; sb A sa1 ready 1h attempt=1; dir A 3h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: a running container",
                .node = DELETED_BASE "; ctr A c1 sa0 web running 1h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: a created container (about to start)",
                .node = DELETED_BASE "; ctr A c1 sa0 web created 1h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: an unknown-state container (may run)",
                .node = DELETED_BASE "; ctr A c1 sa0 web unknown 1h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: another pod's running container in its sandbox",
                .node = DELETED_BASE "; ctr B b1 sa0 web running 1h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: a sandbox in a state podreaper does not know",
                .node = DELETED_BASE "; sb A sa1 state=7 1h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: its pod dir is there (a finished Job): newest sandbox and container "
                        "stay",
                .node = DELETED_BASE "; sb A sa1 notready 1h attempt=1; ctr A c1 sa1 app exited 1h "
                                     "attempt=1; dir A 3h",
                .expect = "remove-container A @c0 : more than 1 dead of it in the pod | remove-sandbox A "
                          "@sa0 : not the pod's newest sandbox",
                .deleted = "on",
        },
        {
                .name = "not deleted: the kubelet reports it active",
                .node = DELETED_BASE "; kubelet A",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "not deleted: not a pod uid",
                .node = "sb not-a-uid sx notready 3h; ctr not-a-uid cx sx app exited 3h",
                .expect = "",
                .deleted = "on",
        },
        {
                .name = "deleted and gone at once: each with its own reason",
                .node = DELETED_BASE "; ctr G g0 sa0 g exited 1h",
                .expect =
                        "remove-container A @c0 !deleted : of a deleted pod | remove-container G @g0 !gone "
                        ": of a gone pod: no sandbox of it | remove-sandbox A @sa0 !deleted",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted, --minimum-container-ttl-duration: a young container and its sandbox stay",
                .node = "sb A sa0 notready 3h; sb A sa1 notready 2h attempt=1; ctr A c0 sa0 app exited 3h; "
                        "ctr A c1 sa1 app exited 5m attempt=1; deleted A 15m",
                .options = "ttl=1h",
                .expect = "remove-container A @c0 !deleted | remove-sandbox A @sa0 !deleted",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted, --only sandboxes: the newest empty sandbox goes, one with a container "
                        "stays",
                .node = DELETED_BASE "; sb A sa1 notready 1h attempt=1",
                .options = "only=sandboxes",
                .expect = "remove-sandbox A @sa1 !deleted : its pod is deleted",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted, --only of no runtime GC kind: not considered, the clock kept",
                .node = DELETED_BASE,
                .options = "only=pod-dirs,cgroups,logs",
                .expect = "",
                .deleted = "not considered",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule off: sources not read; the clock kept, not advanced",
                .node = DELETED_BASE "; down disk cannot read /var/lib/kubelet/pods",
                .expect = "",
                .blocked = "disk not read",
                .deleted = "off sources: not every source was read",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule off: the runtime not read",
                .node = DELETED_BASE "; down cri connection refused",
                .expect = "",
                .blocked = "container runtime not ready",
                .deleted = "not considered",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule off: --require-kubelet=false and the kubelet not read",
                .node = DELETED_BASE "; down kubelet healthz refused",
                .options = "kubelet=off",
                .expect = "",
                .deleted =
                        "off kubelet: the kubelet was not read (--require-kubelet=false): healthz refused",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule off: --require-kubelet=false and the kubelet up for less than the "
                        "grace",
                .node = DELETED_BASE "; kubelet-up 5m",
                .options = "kubelet=off",
                .expect = "",
                .deleted = "off kubelet: kubelet up for 5m, less than the 10m grace",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule off: --require-kubelet=false and the kubelet's start unknown",
                .node = DELETED_BASE "; kubelet-up unknown",
                .options = "kubelet=off",
                .expect = "",
                .deleted = "off kubelet: kubelet start time unknown",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted rule on: --require-kubelet=false with the kubelet read and up for the "
                        "grace",
                .node = DELETED_BASE,
                .options = "kubelet=off",
                .expect = "remove-container A @c0 !deleted | remove-sandbox A @sa0 !deleted",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted guard: a ready sandbox without its pod dir turns the rule off, names it, "
                        "restarts every clock",
                .node = DELETED_BASE "; sb B sb0 ready 1h; ctr B b0 sb0 web running 1h",
                .options = "root=/srv/kubelet",
                .expect = "",
                .deleted = "off no-pod-dir B: pod {B} has a ready sandbox but no pod dir in "
                           "/srv/kubelet/pods: --root-dir is not the kubelet's",
        },
        {
                .name = "deleted guard: holds when every ready pod has its dir",
                .node = DELETED_BASE "; sb B sb0 ready 1h; ctr B b0 sb0 web running 1h; dir B 1h",
                .expect = "remove-container A @c0 !deleted | remove-sandbox A @sa0 !deleted",
                .deleted = "on: A deleted 15m",
                .deleted_state = "A 15m",
        },
        {
                .name = "deleted guard: two ready pods without dirs, the first by uid named",
                .node = DELETED_BASE "; sb C sc0 ready 1h; sb B sb0 ready 1h",
                .expect = "",
                .deleted = "off no-pod-dir B: (and 1 more such pods)",
        },
        {
                .name = "deleted, then its sandboxes gone: an ordinary orphan with its own grace",
                .node = "cg A 1h; log ns_p_{A} 1h; deleted A 30m",
                .expect = "skip-pod A : orphan, within the grace (first seen now",
                .orphans = "1",
                .state = "A now",
                .deleted = "on",
        },
        {
                .name = "deleted, reap-pod: runtime GC not considered, the clock kept",
                .node = DELETED_BASE "; dir B 1h; seen B 1h",
                .options = "reap=B",
                .expect = "remove-pod-dir B",
                .deleted = "not considered",
                .deleted_state = "A 15m",
        },
};

/* ---- the rest, not table-shaped ------------------------------------------------------------------ */

static void test_kind_and_result_names(void **state) {
        (void) state;
        assert_string_equal(action_kind_to_string(ACTION_REMOVE_POD_DIR), "remove-pod-dir");
        assert_string_equal(action_kind_to_string(ACTION_REMOVE_LOG_SYMLINK), "remove-log-symlink");
        assert_string_equal(action_kind_to_string(ACTION_REDUCE_CGROUP_CPU), "reduce-cgroup-cpu");
        assert_string_equal(action_kind_to_string(ACTION_SKIP_POD), "skip-pod");
        assert_null(action_kind_to_string(_ACTION_KIND_MAX));
        for (int k = 0; k < _ACTION_KIND_MAX; k++)
                assert_non_null(action_kind_to_string((ActionKind) k));
        assert_string_equal(action_result_to_string(RESULT_PLANNED), "planned");
        assert_string_equal(action_result_to_string(RESULT_SKIPPED), "skipped");
        assert_null(action_result_to_string((ActionResult) 4));
}

static void test_bad_arguments(void **state) {
        Snapshot s;
        State saved;
        Options o;
        Plan p = {};

        (void) state;
        node_build("dir A 1h", &s, &saved);
        options_build("reap=not-a-uid", &o);
        assert_int_equal(plan_build(&s, &o, &saved, &p), -EINVAL);
        assert_int_equal(p.n_actions, 0);
        free(o.reap_pod_uid);
        o.reap_pod_uid = NULL;
        assert_int_equal(plan_build(&s, &o, &saved, &p), -EINVAL);
        o.command = COMMAND_RUN;
        assert_int_equal(plan_build(NULL, &o, &saved, &p), -EINVAL);
        assert_int_equal(plan_build(&s, &o, &saved, NULL), -EINVAL);

        /* plan_done and snapshot_done on empty ones, twice. */
        plan_done(&p);
        plan_done(&p);
        plan_done(NULL);
        snapshot_done(&s);
        snapshot_done(&s);
        snapshot_done(NULL);
        options_free(&o);
        state_done(&saved);
}

/* The same input, the same plan: byte for byte, whatever order the disk listing came in. */
static void test_deterministic(void **state) {
        const char *nodes[] = {
                "dir C 1h; log n_p_{B} 1h; dir A 1h; cg B 1h populated; log n_q_{A} 1h; seen A 1h; seen B "
                "1h; "
                "seen C 1h",
                "log n_q_{A} 1h; seen C 1h; dir A 1h; seen B 1h; log n_p_{B} 1h; cg B 1h populated; seen A "
                "1h; "
                "dir C 1h",
        };
        char *out[2] = {};

        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(nodes); k++) {
                Snapshot s;
                State saved;
                Options o;
                Plan p = {};
                size_t size = 0;
                FILE *f = open_memstream(&out[k], &size);

                assert_non_null(f);
                node_build(nodes[k], &s, &saved);
                options_build(NULL, &o);
                assert_int_equal(plan_build(&s, &o, &saved, &p), 0);
                assert_int_equal(p.n_actions, 5);
                for (size_t i = 0; i < p.n_actions; i++)
                        fprintf(f,
                                "%s %s %s %s\n",
                                action_kind_to_string(p.actions[i].kind),
                                p.actions[i].uid,
                                p.actions[i].target,
                                p.actions[i].reason);
                fclose(f);
                plan_done(&p);
                state_done(&saved);
                snapshot_done(&s);
                options_free(&o);
        }
        assert_string_equal(out[0], out[1]);
        free(out[0]);
        free(out[1]);
}

/* 29 of 50 at --max-orphan-fraction=0.58 is exactly the fraction, though 0.58 * 50 is
 * 28.999999999999996 in doubles: the breaker holds. One more orphan trips it. */
static void test_breaker_fraction_rounding(void **state) {
        (void) state;
        for (unsigned n_orphaned = 29; n_orphaned <= 30; n_orphaned++) {
                Snapshot s;
                State saved;
                Options o;
                Plan p = {};

                node_build("", &s, &saved);
                options_build("fraction=0.58", &o);
                s.pod_cgroups.items = calloc(50, sizeof(CgfsPod));
                assert_non_null(s.pod_cgroups.items);
                s.pod_cgroups.n = 50;
                for (unsigned i = 0; i < 50; i++) {
                        CgfsPod *cg = &s.pod_cgroups.items[i];

                        snprintf(cg->uid, sizeof(cg->uid), "%08x-0000-4000-8000-000000000000", i);
                        cg->qos = CGFS_QOS_BURSTABLE;
                        cg->populated = true;
                        cg->changed = NOW - USEC_PER_HOUR;
                        if (i >= n_orphaned)
                                uids_add(&s.cri_uids, &s.n_cri_uids, strdup(cg->uid));
                        else
                                assert_true(state_orphan_see(&saved, cg->uid, NOW - USEC_PER_HOUR) >= 0);
                }
                assert_int_equal(plan_build(&s, &o, &saved, &p), 0);
                assert_int_equal(p.n_orphans, n_orphaned);
                if (n_orphaned == 29) {
                        assert_false(p.breaker_tripped);
                        assert_int_equal(p.n_actions, 29);
                        assert_int_equal(p.actions[0].kind, ACTION_DESTROY_CGROUP);
                } else {
                        assert_true(p.breaker_tripped);
                        assert_non_null(
                                strstr(p.breaker_reason,
                                       "30 of 50 pod cgroups with processes look orphaned (more than 58%)"));
                        assert_int_equal(p.n_actions, 30);
                        assert_int_equal(p.actions[0].kind, ACTION_SKIP_POD);
                }
                plan_done(&p);
                state_done(&saved);
                snapshot_done(&s);
                options_free(&o);
        }
}

static void test_uid_helpers(void **state) {
        char *uids[] = {"00000001-0000-4000-8000-000000000001", "5f0c", "9b1d", "c3e8"};

        (void) state;
        assert_true(uid_list_contains(uids, 4, "00000001-0000-4000-8000-000000000001"));
        assert_true(uid_list_contains(uids, 4, "c3e8"));
        assert_true(uid_list_contains(uids, 4, "9b1d"));
        assert_false(uid_list_contains(uids, 4, "9b1"));
        assert_false(uid_list_contains(uids, 4, "zzz"));
        assert_false(uid_list_contains(uids, 0, "5f0c"));
        assert_false(uid_list_contains(NULL, 0, "5f0c"));
        assert_false(uid_list_contains(uids, 4, NULL));

        assert_true(cgfs_uid_is_valid("5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a11"));
        assert_true(cgfs_uid_is_valid("b2f9d5c8e1a34d7f9c0e6a2b8d4f1c37"));
        assert_false(cgfs_uid_is_valid("5F0C6A2E-3B7D-4C1E-9A8F-2D4B6C8E0A11"));
        assert_false(cgfs_uid_is_valid("5f0c6a2e_3b7d_4c1e_9a8f_2d4b6c8e0a11"));
        assert_false(cgfs_uid_is_valid("5f0c6a2e-3b7d-4c1e-9a8f-2d4b6c8e0a1"));
        assert_false(cgfs_uid_is_valid("../../etc"));
        assert_false(cgfs_uid_is_valid(""));
        assert_false(cgfs_uid_is_valid(NULL));
}

int main(void) {
        const struct CMUnitTest extra[] = {
                cmocka_unit_test(test_kind_and_result_names),
                cmocka_unit_test(test_bad_arguments),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_breaker_fraction_rounding),
                cmocka_unit_test(test_uid_helpers),
        };
        struct CMUnitTest tests[ELEMENTSOF(cases) + ELEMENTSOF(extra)];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[i] = (struct CMUnitTest){
                        .name = cases[i].name,
                        .test_func = run_case,
                        .initial_state = (void *) &cases[i],
                };
        memcpy(tests + ELEMENTSOF(cases), extra, sizeof(extra));
        return _cmocka_run_group_tests("plan", tests, ELEMENTSOF(tests), NULL, NULL);
}
