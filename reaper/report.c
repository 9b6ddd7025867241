/* SPDX-License-Identifier: MIT */
/* What a pass found and did: a text table for the operator, the JSON document of DESIGN §4 for
 * machines, and one log line per action and refusal for the audit trail (DESIGN §2). Directory
 * names can be any bytes: the text escapes whatever a terminal would act on, the JSON stays valid
 * whatever comes in. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "reaper/message-ids.h"
#include "reaper/report.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"
#include "util/utf8.h"

/* ---- escaping ------------------------------------------------------------------------------------ */

void report_json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }

        fputc('"', f);
        for (const char *p = s; *p;) {
                unsigned char c = (unsigned char) *p;
                bool valid;
                size_t n = utf8_sequence(p, &valid);

                if (!valid)
                        fputs("\\ufffd", f);
                else if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
        fputc('"', f);
}

/* For a terminal and a log line: control characters (C0, DEL, C1) and ill-formed bytes as \xNN,
 * so that a directory name can neither break a line nor talk to the terminal. */
static void text_escape(FILE *f, const char *s) {
        for (const char *p = s ?: ""; *p;) {
                const unsigned char *u = (const unsigned char *) p;
                bool valid;
                size_t n = utf8_sequence(p, &valid);

                if (!valid || u[0] < 0x20 || u[0] == 0x7f || (u[0] == 0xc2 && u[1] < 0xa0))
                        for (size_t i = 0; i < n; i++)
                                fprintf(f, "\\x%02x", u[i]);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
}

static char *text_escaped(const char *s) {
        char *buf = NULL;
        size_t size;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        text_escape(f, s);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Columns on screen of escaped text: one per code point (East Asian wide characters in a
 * directory name make a row a little wider than its neighbours; nothing else does). */
static size_t text_width(const char *s) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        n++;
        return n;
}

/* The first `width` columns of escaped text, as a byte count. */
static size_t text_prefix(const char *s, size_t width) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = 0;

        for (; *p; p++)
                if ((*p & 0xc0) != 0x80 && n++ == width)
                        break;
        return (size_t) (p - (const unsigned char *) s);
}

/* ---- words --------------------------------------------------------------------------------------- */

typedef struct KindWords {
        const char *verb; /* "would <verb> <object>", "failed to <verb> <object>" */
        const char *past; /* "<past> <object>" */
        const char *object;
} KindWords;

static const KindWords kind_words[_ACTION_KIND_MAX] = {
        [ACTION_REMOVE_CONTAINER] = {"remove", "removed", "container"},
        [ACTION_STOP_CONTAINER] = {"stop", "stopped", "container"},
        [ACTION_REMOVE_SANDBOX] = {"remove", "removed", "sandbox"},
        [ACTION_REMOVE_IMAGE] = {"remove", "removed", "image"},
        [ACTION_REMOVE_POD_DIR] = {"remove", "removed", "dir"},
        [ACTION_REMOVE_LOG_DIR] = {"remove", "removed", "logs"},
        [ACTION_REMOVE_LOG_SYMLINK] = {"remove", "removed", "log symlink"},
        [ACTION_DESTROY_CGROUP] = {"destroy", "destroyed", "cgroup"},
        [ACTION_REDUCE_CGROUP_CPU] = {"lower CPU of", "lowered CPU of", "cgroup"},
        [ACTION_SKIP_POD] = {"keep", "kept", "pod"},
};

static const KindWords *words_of(ActionKind k) {
        static const KindWords unknown = {"act on", "acted on", "something"};

        return (unsigned) k < _ACTION_KIND_MAX ? &kind_words[k] : &unknown;
}

static bool kind_is_cgroup(ActionKind k) {
        return k == ACTION_DESTROY_CGROUP || k == ACTION_REDUCE_CGROUP_CPU;
}

static bool planning(const Options *o) {
        return o->command == COMMAND_PLAN || o->dry_run;
}

/* What happened to one action, for the table: "destroyed cgroup", "would remove dir", "failed to
 * remove logs", "did not remove dir" (skipped), "kept" (a refusal). Short, so that the column stays
 * narrow: why something failed or was skipped goes in the WHY column. */
static int action_phrase(const Action *a, char **ret) {
        const KindWords *w = words_of(a->kind);
        int r;

        if (a->kind == ACTION_SKIP_POD)
                return (*ret = strdup("kept")) ? 0 : -ENOMEM;

        switch (a->result) {
        case RESULT_PLANNED:
                r = asprintf(ret, "would %s %s", w->verb, w->object);
                break;
        case RESULT_DONE:
                r = asprintf(ret, "%s %s", w->past, w->object);
                break;
        case RESULT_FAILED:
                r = asprintf(ret, "failed to %s %s", w->verb, w->object);
                break;
        case RESULT_SKIPPED:
                r = asprintf(ret, "did not %s %s", w->verb, w->object);
                break;
        default:
                r = asprintf(ret, "%s: result %d", w->object, (int) a->result);
                break;
        }
        return r < 0 ? -ENOMEM : 0;
}

/* A row's WHY: the error of its first failed or skipped action (what the operator must look at),
 * else the reason of its first action. The full reasons are in the log and the JSON. */
static const char *row_why(const Plan *p, const size_t *idx, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const Action *a = &p->actions[idx[i]];

                if ((a->result == RESULT_FAILED || a->result == RESULT_SKIPPED) &&
                    a->kind != ACTION_SKIP_POD && a->error)
                        return a->error;
        }
        return p->actions[idx[0]].reason ?: "";
}

/* ---- what the snapshot holds of a pod ------------------------------------------------------------ */

typedef struct UidIndex {
        const char **uids; /* sorted, pointing into the snapshot */
        size_t n;
} UidIndex;

typedef struct Found {
        UidIndex dirs, cgroups, logs;
} Found;

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void uid_index_add(UidIndex *x, const char *uid) {
        if (uid)
                x->uids[x->n++] = uid;
}

static bool uid_index_has(const UidIndex *x, const char *uid) {
        return x->n > 0 && bsearch(&uid, x->uids, x->n, sizeof(*x->uids), compare_strings);
}

static void found_done(Found *fd) {
        free(fd->dirs.uids);
        free(fd->cgroups.uids);
        free(fd->logs.uids);
        *fd = (Found){};
}

/* The snapshot's lists are sorted by gather, but the report does not depend on it: its own
 * indexes keep a 5,000-pod table O(n log n). */
static int found_build(const Snapshot *s, Found *ret) {
        Found fd = {};

        if (!s) {
                *ret = fd;
                return 0;
        }
        fd.dirs.uids = calloc(s->n_pod_dirs + 1, sizeof(char *));
        fd.cgroups.uids = calloc(s->pod_cgroups.n + 1, sizeof(char *));
        fd.logs.uids = calloc(s->n_log_dirs + 1, sizeof(char *));
        if (!fd.dirs.uids || !fd.cgroups.uids || !fd.logs.uids) {
                found_done(&fd);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_pod_dirs; i++)
                uid_index_add(&fd.dirs, s->pod_dirs[i].uid);
        for (size_t i = 0; i < s->pod_cgroups.n; i++)
                uid_index_add(&fd.cgroups, s->pod_cgroups.items[i].uid);
        for (size_t i = 0; i < s->n_log_dirs; i++)
                uid_index_add(&fd.logs, s->log_dirs[i].uid);
        qsort(fd.dirs.uids, fd.dirs.n, sizeof(char *), compare_strings);
        qsort(fd.cgroups.uids, fd.cgroups.n, sizeof(char *), compare_strings);
        qsort(fd.logs.uids, fd.logs.n, sizeof(char *), compare_strings);
        *ret = fd;
        return 0;
}

/* ---- the table ----------------------------------------------------------------------------------- */

typedef enum Outcome {
        OUTCOME_REAPED,     /* every action done */
        OUTCOME_WOULD_REAP, /* every action planned (plan, --dry-run) */
        OUTCOME_REFUSED,    /* a skip-pod: its leftovers stay */
        OUTCOME_SKIPPED,    /* an action's precondition no longer held at act time */
        OUTCOME_FAILED,     /* an action failed */
} Outcome;

/* One pod (all actions of its uid, in plan order), or one action without a pod. */
typedef struct Row {
        const size_t *idx; /* into p->actions */
        size_t n;
        char *uid, *found, *done, *why; /* escaped */
        Outcome outcome;
} Row;

typedef struct Table {
        size_t *order; /* action indices by (uid, index): rows point into it */
        Row *rows;     /* by their first action */
        size_t n_rows;
} Table;

static void table_done(Table *t) {
        for (size_t i = 0; i < t->n_rows; i++) {
                free(t->rows[i].uid);
                free(t->rows[i].found);
                free(t->rows[i].done);
                free(t->rows[i].why);
        }
        free(t->rows);
        free(t->order);
        *t = (Table){};
}

static int compare_by_uid(const void *a, const void *b, void *userdata) {
        const Action *actions = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(actions[x].uid, actions[y].uid);

        if (c != 0)
                return c;
        return x < y ? -1 : x > y;
}

static int compare_rows(const void *a, const void *b) {
        const Row *x = a, *y = b;

        return x->idx[0] < y->idx[0] ? -1 : x->idx[0] > y->idx[0];
}

/* What exists of the pod: "dir,cgroup,logs", from the snapshot (a refused pod's things) and from
 * the actions (what they were about). */
static int row_found(const Plan *p, const Found *fd, Row *row) {
        const Action *first = &p->actions[row->idx[0]];
        bool dir = uid_index_has(&fd->dirs, first->uid), cgroup = uid_index_has(&fd->cgroups, first->uid),
             logs = uid_index_has(&fd->logs, first->uid);

        for (size_t i = 0; i < row->n; i++) {
                ActionKind k = p->actions[row->idx[i]].kind;

                dir = dir || k == ACTION_REMOVE_POD_DIR;
                cgroup = cgroup || kind_is_cgroup(k);
                logs = logs || k == ACTION_REMOVE_LOG_DIR;
        }
        if (asprintf(
                    &row->found,
                    "%s%s%s%s%s",
                    dir ? "dir" : "",
                    dir && cgroup ? "," : "",
                    cgroup ? "cgroup" : "",
                    (dir || cgroup) && logs ? "," : "",
                    logs ? "logs" : "") < 0)
                return -ENOMEM;
        if (row->found[0] == '\0') {
                free(row->found);
                row->found = strdup(first->uid[0] ? "-" : "");
                if (!row->found)
                        return -ENOMEM;
        }
        return 0;
}

/* "destroyed cgroup, removed dir, removed logs"; the same phrase twice (a pod cgroup left in two
 * QoS classes) once, with "x2". */
static int row_done(const Plan *p, Row *row) {
        char **phrases;
        size_t *counts, n = 0;
        char *buf = NULL;
        size_t size;
        FILE *f = NULL;
        int r = 0;

        phrases = calloc(row->n, sizeof(*phrases));
        counts = calloc(row->n, sizeof(*counts));
        if (!phrases || !counts) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < row->n; i++) {
                _cleanup_free_ char *phrase = NULL;
                size_t j;

                r = action_phrase(&p->actions[row->idx[i]], &phrase);
                if (r < 0)
                        goto finish;
                for (j = 0; j < n && strcmp(phrases[j], phrase) != 0; j++)
                        ;
                if (j == n)
                        phrases[n++] = TAKE_PTR(phrase);
                counts[j]++;
        }

        f = open_memstream(&buf, &size);
        if (!f) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s%s", i > 0 ? ", " : "", phrases[i]);
                if (counts[i] > 1)
                        fprintf(f, " x%zu", counts[i]);
        }
        if (fclose(f) != 0) {
                free(buf);
                r = -ENOMEM;
                goto finish;
        }
        row->done = buf;

finish:
        for (size_t i = 0; phrases && i < n; i++)
                free(phrases[i]);
        free(phrases);
        free(counts);
        return r;
}

static void row_outcome(const Plan *p, Row *row) {
        bool failed = false, refused = false, skipped = false, planned = false;

        for (size_t i = 0; i < row->n; i++) {
                const Action *a = &p->actions[row->idx[i]];

                if (a->kind == ACTION_SKIP_POD)
                        refused = true;
                else if (a->result == RESULT_FAILED)
                        failed = true;
                else if (a->result == RESULT_SKIPPED)
                        skipped = true;
                else if (a->result == RESULT_PLANNED)
                        planned = true;
        }
        row->outcome = failed    ? OUTCOME_FAILED
                       : refused ? OUTCOME_REFUSED
                       : skipped ? OUTCOME_SKIPPED
                       : planned ? OUTCOME_WOULD_REAP
                                 : OUTCOME_REAPED;
}

static int table_build(const Snapshot *s, const Plan *p, Table *ret) {
        _cleanup_(found_done) Found fd = {};
        Table t = {};
        int r;

        r = found_build(s, &fd);
        if (r < 0)
                return r;
        t.order = calloc(p->n_actions + 1, sizeof(*t.order));
        t.rows = calloc(p->n_actions + 1, sizeof(*t.rows));
        if (!t.order || !t.rows) {
                table_done(&t);
                return -ENOMEM;
        }
        /* The pod-level actions; runtime GC has its own section. */
        size_t n = 0;
        for (size_t i = 0; i < p->n_actions; i++)
                if (!action_kind_is_runtime_gc(p->actions[i].kind))
                        t.order[n++] = i;
        qsort_r(t.order, n, sizeof(*t.order), compare_by_uid, p->actions);

        for (size_t i = 0, j; i < n; i = j) {
                const char *uid = p->actions[t.order[i]].uid;
                Row *row = &t.rows[t.n_rows++];

                /* Actions without a pod (names that are no pod uid) stand alone. */
                j = i + 1;
                if (uid[0] != '\0')
                        while (j < n && strcmp(p->actions[t.order[j]].uid, uid) == 0)
                                j++;
                *row = (Row){.idx = t.order + i, .n = j - i};
                row->uid = text_escaped(uid);
                row->why = text_escaped(row_why(p, row->idx, row->n));
                if (!row->uid || !row->why) {
                        table_done(&t);
                        return -ENOMEM;
                }
                r = row_found(p, &fd, row);
                if (r >= 0)
                        r = row_done(p, row);
                if (r < 0) {
                        table_done(&t);
                        return r;
                }
                row_outcome(p, row);
        }
        qsort(t.rows, t.n_rows, sizeof(*t.rows), compare_rows);

        *ret = t;
        return 0;
}

/* ---- text ---------------------------------------------------------------------------------------- */

#define WHY_MIN_WIDTH 24

/* On a terminal the WHY column is cut at its width so that each pod stays one line; piped or
 * redirected, lines stay whole (grep, pagers). $COLUMNS wins, as in systemd. 0: no limit. */
static size_t columns_of(FILE *f) {
        const char *e = getenv("COLUMNS");
        struct winsize ws = {};
        unsigned c;
        int fd;

        if (e && safe_atou(e, &c) >= 0 && c > 0)
                return c;
        fd = fileno(f);
        if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 0;
}

static void pad(FILE *f, const char *cell, size_t width) {
        fputs(cell, f);
        for (size_t w = text_width(cell); w < width + 2; w++)
                fputc(' ', f);
}

static void why_print(FILE *f, const char *why, size_t avail) {
        if (avail == 0 || text_width(why) <= avail) {
                fputs(why, f);
                return;
        }
        avail = MAX(avail, (size_t) WHY_MIN_WIDTH);
        fwrite(why, 1, text_prefix(why, avail - 3), f);
        fputs("...", f);
}

static void sources_print(FILE *f, const Options *o, const Snapshot *s) {
        const struct {
                const char *name;
                const SourceStatus *st;
        } sources[] = {
                {"runtime", s ? &s->cri : NULL},
                {"kubelet", s ? &s->kubelet : NULL},
                {"cgroups", s ? &s->cgroups : NULL},
                {"disk", s ? &s->disk : NULL},
        };

        fputs("Sources: ", f);
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                const SourceStatus *st = sources[i].st;

                fprintf(f, "%s%s", i > 0 ? ", " : "", sources[i].name);
                if (st && st->ok) {
                        fputs(" ok", f);
                        if (st->detail) {
                                fputs(" (", f);
                                text_escape(f, st->detail);
                                fputc(')', f);
                        }
                        continue;
                }
                fputs(": ", f);
                text_escape(f, st ? st->error ?: "not read" : "not gathered");
                if (i == 1 && !o->require_kubelet)
                        fputs(" (not required)", f);
        }
        fputc('\n', f);
}

static const char *pods_word(size_t n) {
        return n == 1 ? "pod" : "pods";
}

static void summary_print(FILE *f, const Options *o, const Plan *p, const Table *t) {
        size_t n[OUTCOME_FAILED + 1] = {}, n_other_kept = 0;

        for (size_t i = 0; i < t->n_rows; i++) {
                const Row *row = &t->rows[i];

                if (p->actions[row->idx[0]].uid[0] == '\0' && row->outcome == OUTCOME_REFUSED)
                        n_other_kept++;
                else
                        n[row->outcome]++;
        }

        fprintf(f, "%zu orphaned %s: ", p->n_orphans, pods_word(p->n_orphans));
        if (p->pod_level_blocked)
                fputs("none reaped, sources not ready", f);
        else if (planning(o)) {
                fprintf(f, "%zu would be reaped, %zu refused", n[OUTCOME_WOULD_REAP], n[OUTCOME_REFUSED]);
                if (n[OUTCOME_REAPED] > 0)
                        fprintf(f, ", %zu reaped", n[OUTCOME_REAPED]);
        } else {
                fprintf(f, "%zu reaped, %zu refused", n[OUTCOME_REAPED], n[OUTCOME_REFUSED]);
                if (n[OUTCOME_WOULD_REAP] > 0)
                        fprintf(f, ", %zu not acted on", n[OUTCOME_WOULD_REAP]);
        }
        if (n[OUTCOME_SKIPPED] > 0)
                fprintf(f, ", %zu skipped (changed since the plan)", n[OUTCOME_SKIPPED]);
        if (!planning(o) || n[OUTCOME_FAILED] > 0)
                fprintf(f, "; %zu failed", n[OUTCOME_FAILED]);
        if (n_other_kept > 0)
                fprintf(f, "; %zu non-pod %s kept", n_other_kept, n_other_kept == 1 ? "entry" : "entries");
        if (o->dry_run)
                fputs(" (dry run)", f);
        fputc('\n', f);
}

static void action_line_print(FILE *f, const Action *a) {
        fprintf(f, "%s %s ", a->uid[0] ? a->uid : "-", action_kind_to_string(a->kind) ?: "unknown");
        text_escape(f, a->target);
        fprintf(f, ": %s", action_result_to_string(a->result) ?: "unknown");
        if (a->error) {
                fputs(": ", f);
                text_escape(f, a->error);
        }
        fputs(" (", f);
        text_escape(f, a->reason);
        fputs(")\n", f);
}

/* Out of memory for the table: still one line per action, straight from the plan. */
static void text_print_plain(FILE *f, const Plan *p) {
        for (size_t i = 0; i < p->n_actions; i++)
                action_line_print(f, &p->actions[i]);
}

/* The deleted pods of runtime GC (DESIGN §2), one line each with the evidence and the verdict. */
static void deleted_print(FILE *f, const Options *o, const Plan *p, bool after_actions) {
        for (size_t i = 0; i < p->deleted.n_pods; i++) {
                const DeletedPod *d = &p->deleted.pods[i];

                if (i == 0 && !after_actions)
                        fputc('\n', f);
                fputs("Deleted pod ", f);
                text_escape(f, d->uid);
                fputs(": ", f);
                text_escape(f, d->evidence);
                if (!d->past_grace)
                        fputs(": within the grace, its last sandbox and dead containers kept\n", f);
                else
                        fprintf(f,
                                ": every inactive sandbox and dead container of it %s\n",
                                planning(o) ? "would go" : "goes");
        }
}

/* Runtime GC: one line per action (there may be a thousand containers; grep-able), then the
 * counts, the deleted pods, then the image filesystem. */
static void runtime_gc_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p) {
        size_t n[_ACTION_KIND_MAX] = {}, n_result[RESULT_SKIPPED + 1] = {}, total = 0;
        const ImageGc *ig = &p->image_gc;
        bool first = true;

        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (!action_kind_is_runtime_gc(a->kind))
                        continue;
                if (total++ == 0)
                        fputc('\n', f);
                action_line_print(f, a);
                n[a->kind]++;
                if ((unsigned) a->result < ELEMENTSOF(n_result))
                        n_result[a->result]++;
        }

        if (total > 0) {
                fputs("\nRuntime GC: ", f);
                for (ActionKind k = 0; k < _ACTION_KIND_MAX; k++) {
                        if (n[k] == 0)
                                continue;
                        fprintf(f,
                                "%s%zu %s%s %s%s",
                                first ? "" : ", ",
                                n[k],
                                words_of(k)->object,
                                n[k] == 1                    ? ""
                                : k == ACTION_REMOVE_SANDBOX ? "es"
                                                             : "s",
                                planning(o) ? "to " : "",
                                planning(o) ? words_of(k)->verb : words_of(k)->past);
                        first = false;
                }
                if (!planning(o))
                        fprintf(f,
                                "; %zu done, %zu failed, %zu skipped",
                                n_result[RESULT_DONE],
                                n_result[RESULT_FAILED],
                                n_result[RESULT_SKIPPED]);
                fputc('\n', f);
        }

        deleted_print(f, o, p, total > 0);

        if (ig->ran) {
                char cap[BYTES_MAX_LEN], to_free[BYTES_MAX_LEN], freed[BYTES_MAX_LEN];

                fputs(total > 0 || p->deleted.n_pods > 0 ? "" : "\n", f);
                fputs("Image filesystem ", f);
                text_escape(f, s ? s->image_fs.mountpoint : "?");
                fprintf(f,
                        ": %u%% of %s used (GC at %u%%, down to %u%%)",
                        ig->usage_percent,
                        format_bytes(cap, sizeof(cap), s ? s->image_fs.capacity : 0),
                        o->image_gc_high_threshold,
                        o->image_gc_low_threshold);
                if (ig->over_threshold)
                        fprintf(f,
                                ": %s to free, %s in unused images",
                                format_bytes(to_free, sizeof(to_free), ig->bytes_to_free),
                                format_bytes(freed, sizeof(freed), ig->bytes_freed));
                fputc('\n', f);
        }
        if (ig->problem) {
                fputs(ig->ran ? "Image GC: " : "\nImage GC: ", f);
                text_escape(f, ig->problem);
                fputc('\n', f);
        }
}

static void text_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p) {
        const char *done_title = planning(o) ? "PLANNED/REFUSED" : "DONE/REFUSED";
        size_t w_uid = strlen("UID"), w_found = strlen("FOUND"), w_done = strlen(done_title);
        size_t columns = columns_of(f), n_pod_rows = 0, used;
        Table t = {};
        int r;

        sources_print(f, o, s);
        if (p->pod_level_blocked) {
                fputs("No pod-level action: ", f);
                text_escape(f, p->blocked_reason ?: "sources not ready");
                fputc('\n', f);
        }
        if (p->breaker_tripped) {
                fputs("Circuit breaker tripped: ", f);
                text_escape(f, p->breaker_reason ?: "too many orphans hold processes");
                fputc('\n', f);
        }
        if (p->deleted.considered && p->deleted.rule != DELETED_RULE_ON) {
                fputs("Deleted-pod rule off (a pod's last sandbox and dead containers stay): ", f);
                text_escape(f, p->deleted.off_reason ?: deleted_rule_to_string(p->deleted.rule));
                fputc('\n', f);
        }

        r = table_build(s, p, &t);
        if (r < 0) {
                log_error_errno(r, "Failed to format the report table, listing actions plainly: %m");
                text_print_plain(f, p);
                return;
        }

        for (size_t i = 0; i < t.n_rows; i++) {
                const Row *row = &t.rows[i];

                if (row->uid[0] == '\0')
                        continue;
                n_pod_rows++;
                w_uid = MAX(w_uid, text_width(row->uid));
                w_found = MAX(w_found, text_width(row->found));
                w_done = MAX(w_done, text_width(row->done));
        }
        used = w_uid + w_found + w_done + 3 * 2;

        if (n_pod_rows > 0) {
                fputc('\n', f);
                pad(f, "UID", w_uid);
                pad(f, "FOUND", w_found);
                pad(f, done_title, w_done);
                fputs("WHY\n", f);
                for (size_t i = 0; i < t.n_rows; i++) {
                        const Row *row = &t.rows[i];

                        if (row->uid[0] == '\0')
                                continue;
                        pad(f, row->uid, w_uid);
                        pad(f, row->found, w_found);
                        pad(f, row->done, w_done);
                        why_print(f, row->why, columns > used ? columns - used : (columns > 0 ? 1 : 0));
                        fputc('\n', f);
                }
        }

        /* What is no pod's (names under pods/ that are no uid): the target says what it is. */
        if (n_pod_rows < t.n_rows)
                fputc('\n', f);
        for (size_t i = 0; i < t.n_rows; i++) {
                const Row *row = &t.rows[i];

                if (row->uid[0] != '\0')
                        continue;
                text_escape(f, p->actions[row->idx[0]].target);
                fprintf(f, ": %s (%s)\n", row->done, row->why);
        }

        fputc('\n', f);
        summary_print(f, o, p, &t);
        table_done(&t);
        runtime_gc_print(f, o, s, p);
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

static void json_source(FILE *f, const char *name, const SourceStatus *st) {
        report_json_string(f, name);
        if (st && st->ok) {
                fputs(":{\"ok\":true", f);
                if (st->detail) {
                        fputs(",\"detail\":", f);
                        report_json_string(f, st->detail);
                }
                fputc('}', f);
                return;
        }
        fputs(":{\"ok\":false,\"error\":", f);
        report_json_string(f, st ? st->error ?: "not read" : "not gathered");
        fputc('}', f);
}

static void json_reason_or_false(FILE *f, const char *key, bool set, const char *reason) {
        fprintf(f, ",\"%s\":", key);
        if (set)
                report_json_string(f, reason ?: "");
        else
                fputs("false", f);
}

/* "image_gc": what image GC measured and planned; only when images were among --only. */
static void json_image_gc_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p) {
        const ImageGc *ig = &p->image_gc;

        if (!ig->ran && !ig->problem)
                return;
        fputs(",\"image_gc\":{\"mountpoint\":", f);
        report_json_string(f, s && ig->ran ? s->image_fs.mountpoint : NULL);
        if (ig->ran)
                fprintf(f,
                        ",\"capacity_bytes\":%" PRIu64 ",\"available_bytes\":%" PRIu64
                        ",\"usage_percent\":%u,\"high_threshold\":%u,\"low_threshold\":%u,\"bytes_to_free\":"
                        "%" PRIu64 ",\"bytes_freed\":%" PRIu64 ",\"bytes_aged\":%" PRIu64,
                        s ? s->image_fs.capacity : 0,
                        s ? s->image_fs.available : 0,
                        ig->usage_percent,
                        o->image_gc_high_threshold,
                        o->image_gc_low_threshold,
                        ig->bytes_to_free,
                        ig->bytes_freed,
                        ig->bytes_aged);
        fputs(",\"problem\":", f);
        report_json_string(f, ig->problem);
        fputc('}', f);
}

/* "deleted_pods": the deleted-pod rule of runtime GC and the pods it found; only when it was
 * considered (containers or sandboxes among --only, the runtime read). */
static void json_deleted_print(FILE *f, const Plan *p, const Snapshot *s) {
        const DeletedPods *d = &p->deleted;

        if (!d->considered)
                return;
        fputs(",\"deleted_pods\":{\"rule\":", f);
        report_json_string(f, deleted_rule_to_string(d->rule));
        fputs(",\"reason\":", f);
        report_json_string(f, d->off_reason);
        fputs(",\"no_pod_dir_pod_uid\":", f);
        report_json_string(f, d->no_pod_dir_uid);
        fputs(",\"pods\":[", f);
        for (size_t i = 0; i < d->n_pods; i++) {
                const DeletedPod *x = &d->pods[i];
                usec_t now = s ? s->now : x->first_seen;

                fputs(i > 0 ? ",{\"pod_uid\":" : "{\"pod_uid\":", f);
                report_json_string(f, x->uid);
                fprintf(f,
                        ",\"verdict\":\"%s\",\"first_seen\":%" PRIu64 ",\"for_seconds\":%" PRIu64
                        ",\"evidence\":",
                        x->past_grace ? "deleted" : "grace",
                        x->first_seen / USEC_PER_SEC,
                        (now > x->first_seen ? now - x->first_seen : 0) / USEC_PER_SEC);
                report_json_string(f, x->evidence);
                fputc('}', f);
        }
        fputs("]}", f);
}

/* One line, DESIGN §4. Counts in "summary": "refused" are the skip-pod actions, the others count
 * the remaining actions by result, so that actions = done + failed + skipped + planned + refused. */
static void json_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p) {
        size_t n_result[RESULT_SKIPPED + 1] = {}, n_refused = 0;

        fputs("{\"version\":1,\"sources\":{", f);
        json_source(f, "runtime", s ? &s->cri : NULL);
        fputc(',', f);
        json_source(f, "kubelet", s ? &s->kubelet : NULL);
        fputc(',', f);
        json_source(f, "cgroups", s ? &s->cgroups : NULL);
        fputc(',', f);
        json_source(f, "disk", s ? &s->disk : NULL);
        if (s && (s->images.ok || s->images.error)) {
                fputc(',', f);
                json_source(f, "images", &s->images);
        }

        fputs("},\"actions\":[", f);
        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (a->kind == ACTION_SKIP_POD)
                        n_refused++;
                else if ((unsigned) a->result < ELEMENTSOF(n_result))
                        n_result[a->result]++;

                fputs(i > 0 ? ",{\"kind\":" : "{\"kind\":", f);
                report_json_string(f, action_kind_to_string(a->kind));
                fputs(",\"pod_uid\":", f);
                report_json_string(f, a->uid[0] ? a->uid : NULL);
                fputs(",\"target\":", f);
                report_json_string(f, a->target);
                fputs(",\"reason\":", f);
                report_json_string(f, a->reason);
                fputs(",\"result\":", f);
                report_json_string(f, action_result_to_string(a->result));
                fputs(",\"error\":", f);
                report_json_string(f, a->error);
                fputc('}', f);
        }

        fprintf(f,
                "],\"summary\":{\"orphans\":%zu,\"actions\":%zu,\"done\":%zu,\"failed\":%zu,\"skipped\":%zu,"
                "\"planned\":%zu,\"refused\":%zu",
                p->n_orphans,
                p->n_actions,
                n_result[RESULT_DONE],
                n_result[RESULT_FAILED],
                n_result[RESULT_SKIPPED],
                n_result[RESULT_PLANNED],
                n_refused);
        json_reason_or_false(f, "blocked", p->pod_level_blocked, p->blocked_reason);
        json_reason_or_false(f, "breaker", p->breaker_tripped, p->breaker_reason);
        fputc('}', f);
        json_image_gc_print(f, o, s, p);
        json_deleted_print(f, p, s);
        fputs("}\n", f);
}

void report_print(FILE *f, const Options *o, const Snapshot *s, const Plan *p) {
        static const Plan empty = {};

        if (!p)
                p = &empty;
        if (o && o->output == OUTPUT_JSON)
                json_print(f, o, s, p);
        else {
                static const Options defaults = {.command = COMMAND_RUN, .require_kubelet = true};

                text_print(f, o ?: &defaults, s, p);
        }
}

/* ---- the log ------------------------------------------------------------------------------------- */

static int action_level(const Action *a) {
        if (a->result == RESULT_FAILED)
                return LOG_ERR;
        /* An orphan waiting out its grace is the normal course, every pass until it is reaped: a
         * warning each minute from the daemon would drown the ones that matter. */
        if (a->kind == ACTION_SKIP_POD && a->refusal == REFUSAL_GRACE)
                return LOG_INFO;
        if (a->kind == ACTION_SKIP_POD || a->result == RESULT_SKIPPED)
                return LOG_WARNING;
        return LOG_INFO;
}

/* A refusal is one event whatever its result; the others by what happened to the action. */
static const char *action_message_id(const Action *a) {
        if (a->kind == ACTION_SKIP_POD)
                return PODREAPER_MESSAGE_REFUSAL;
        switch (a->result) {
        case RESULT_DONE:
                return PODREAPER_MESSAGE_ACTION_DONE;
        case RESULT_FAILED:
                return PODREAPER_MESSAGE_ACTION_FAILED;
        case RESULT_SKIPPED:
                return PODREAPER_MESSAGE_ACTION_SKIPPED;
        default:
                return PODREAPER_MESSAGE_ACTION_PLANNED;
        }
}

void report_log_action(const Action *a) {
        _cleanup_free_ char *target = NULL, *reason = NULL, *error = NULL;
        char *fields[9] = {}; /* 8 at most and the terminating NULL */
        const char *kind, *result, *status;
        size_t n = 0;
        int level;

        if (!a)
                return;
        level = action_level(a);
        if (level > log_get_max_level())
                return;

        kind = action_kind_to_string(a->kind) ?: "unknown";
        result = action_result_to_string(a->result) ?: "unknown";
        status = a->kind == ACTION_SKIP_POD ? "refused" : result;
        target = text_escaped(a->target ?: "");
        reason = text_escaped(a->reason ?: "");
        if (a->error)
                error = text_escaped(a->error);

        /* Out of memory on the way: fewer fields, never no line. */
        if (asprintf(&fields[n++], "MESSAGE_ID=%s", action_message_id(a)) >= 0 &&
            (a->uid[0] == '\0' || asprintf(&fields[n++], "POD_UID=%s", a->uid) >= 0) &&
            asprintf(&fields[n++], "PODREAPER_ACTION=%s", kind) >= 0 &&
            asprintf(&fields[n++], "PODREAPER_RESULT=%s", result) >= 0 &&
            asprintf(&fields[n++], "PODREAPER_TARGET=%s", a->target ?: "") >= 0 &&
            asprintf(&fields[n++], "PODREAPER_REASON=%s", a->reason ?: "") >= 0 &&
            (!a->error || asprintf(&fields[n++], "PODREAPER_ERROR=%s", a->error) >= 0) &&
            (!kind_is_cgroup(a->kind) || asprintf(&fields[n++], "CGROUP_PATH=%s", a->target ?: "") >= 0))
                ;
        else
                fields[--n] = NULL; /* asprintf() left it undefined */

        log_fields(
                level,
                (const char *const *) fields,
                "%s%s%s %s: %s%s%s (%s)",
                kind,
                a->uid[0] ? " pod " : "",
                a->uid,
                target ?: "(unprintable target)",
                status,
                error ? ": " : "",
                error ?: "",
                reason ?: "");
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
}

void report_log_deleted(const Plan *p, bool pods) {
        const DeletedPods *d;

        if (!p || !p->deleted.considered)
                return;
        d = &p->deleted;
        /* Sources not read: the pass's own error says so already. */
        if (d->rule != DELETED_RULE_ON && d->rule != DELETED_RULE_OFF_SOURCES) {
                _cleanup_free_ char *reason = text_escaped(d->off_reason ?: "");
                char *fields[] = {NULL, NULL, NULL, NULL};
                size_t n = 0;

                /* A ready pod without its pod dir is a node or a --root-dir to look at; a kubelet
                 * that is not required and not read is how podreaper was set up. */
                if (asprintf(&fields[n++], "MESSAGE_ID=%s", PODREAPER_MESSAGE_DELETED_RULE_OFF) < 0 ||
                    (d->no_pod_dir_uid && asprintf(&fields[n++], "POD_UID=%s", d->no_pod_dir_uid) < 0) ||
                    asprintf(&fields[n++], "PODREAPER_REASON=%s", d->off_reason ?: "") < 0)
                        fields[--n] = NULL;
                log_fields(
                        d->rule == DELETED_RULE_OFF_NO_POD_DIR ? LOG_WARNING : LOG_INFO,
                        (const char *const *) fields,
                        "Deleted-pod rule off this pass, a pod's last sandbox and dead containers stay: %s",
                        reason ?: "(unprintable)");
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        free(fields[i]);
        }
        if (!pods)
                return;
        for (size_t i = 0; i < d->n_pods; i++) {
                const DeletedPod *x = &d->pods[i];
                char *fields[] = {NULL, NULL, NULL, NULL};
                size_t n = 0;

                if (asprintf(&fields[n++], "MESSAGE_ID=%s", PODREAPER_MESSAGE_DELETED_POD) < 0 ||
                    asprintf(&fields[n++], "POD_UID=%s", x->uid) < 0 ||
                    asprintf(&fields[n++], "PODREAPER_REASON=%s", x->evidence ?: "") < 0)
                        fields[--n] = NULL;
                log_fields(
                        LOG_INFO,
                        (const char *const *) fields,
                        "pod %s deleted: %s; %s",
                        x->uid,
                        x->evidence ?: "",
                        x->past_grace ? "every inactive sandbox and dead container of it goes"
                                      : "within the grace, its last sandbox and dead containers kept");
                for (size_t j = 0; j < ELEMENTSOF(fields); j++)
                        free(fields[j]);
        }
}
