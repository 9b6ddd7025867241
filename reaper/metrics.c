/* SPDX-License-Identifier: MIT */
/* --metrics-file: the Prometheus text exposition format 0.0.4 (one "# HELP" and one "# TYPE" line
 * before each metric's samples, `name{label="value",...} value`, label values with \\, \" and \n
 * escaped and in UTF-8), for node_exporter's textfile collector. The collector may read the
 * directory at any moment: the file is written beside it under a name it ignores and renamed into
 * place, so it sees the old file or the new one, never half of one. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reaper/metrics.h"
#include "util/macro.h"
#include "util/utf8.h"

#define LAST_SUCCESS "podreaper_last_success_timestamp_seconds"

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- refusals ------------------------------------------------------------------------------------ */

const char *metrics_refusal_reason(const Action *a) {
        if (!a || a->kind != ACTION_SKIP_POD)
                return NULL;
        /* The planner sets it on every refusal; one built elsewhere without it is "other". */
        return refusal_to_string(a->refusal) ?: refusal_to_string(REFUSAL_OTHER);
}

/* ---- the format ---------------------------------------------------------------------------------- */

/* A label value: \\, \" and \n escaped as the format wants, anything that is not UTF-8 as U+FFFD
 * (Prometheus rejects a scrape with an invalid label value). */
static void label_value(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                bool valid;
                size_t n = utf8_sequence((const char *) p, &valid);

                if (!valid) {
                        fputs("\xef\xbf\xbd", f); /* one per byte */
                        n = 1;
                } else if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '"')
                        fputs("\\\"", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else
                        fwrite(p, 1, n, f);
                p += n;
        }
}

/* HELP and TYPE of a metric; the help texts are this file's constants, with no \ or newline. */
static void family(FILE *f, const char *name, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{k1="v1",k2="v2"} and the space before the value; k1 and k2 may be NULL. */
static void
series(FILE *f, const char *name, const char *k1, const char *v1, const char *k2, const char *v2) {
        fputs(name, f);
        if (k1) {
                fprintf(f, "{%s=\"", k1);
                label_value(f, v1 ?: "");
                fputc('"', f);
                if (k2) {
                        fprintf(f, ",%s=\"", k2);
                        label_value(f, v2 ?: "");
                        fputc('"', f);
                }
                fputc('}', f);
        }
        fputc(' ', f);
}

/* Seconds with microseconds, exactly: "1718000000.250000", "12" (never a float's rounding). */
static void seconds(FILE *f, usec_t t) {
        fprintf(f, "%" PRIu64, t / USEC_PER_SEC);
        if (t % USEC_PER_SEC != 0)
                fprintf(f, ".%06" PRIu64, t % USEC_PER_SEC);
        fputc('\n', f);
}

static void gauge_seconds(FILE *f, const char *name, const char *help, usec_t t) {
        family(f, name, help);
        series(f, name, NULL, NULL, NULL, NULL);
        seconds(f, t);
}

static void gauge_count(FILE *f, const char *name, const char *help, size_t n) {
        family(f, name, help);
        series(f, name, NULL, NULL, NULL, NULL);
        fprintf(f, "%zu\n", n);
}

static void plan_metrics(FILE *f, const Plan *p) {
        size_t actions[_ACTION_KIND_MAX][RESULT_SKIPPED + 1] = {}, refusals[_REFUSAL_MAX] = {};

        for (size_t i = 0; i < p->n_actions; i++) {
                const Action *a = &p->actions[i];

                if (a->kind == ACTION_SKIP_POD)
                        refusals
                                [a->refusal > REFUSAL_NONE && a->refusal < _REFUSAL_MAX ? a->refusal
                                                                                        : REFUSAL_OTHER]++;
                else if ((unsigned) a->kind < _ACTION_KIND_MAX && (unsigned) a->result <= RESULT_SKIPPED)
                        actions[a->kind][a->result]++;
        }

        family(f,
               "podreaper_actions",
               "Actions of the last pass by kind and result (its refusals are in podreaper_refusals).");
        for (ActionKind k = 0; k < _ACTION_KIND_MAX; k++) {
                if (k == ACTION_SKIP_POD)
                        continue;
                for (ActionResult r = RESULT_PLANNED; r <= RESULT_SKIPPED; r++) {
                        series(f,
                               "podreaper_actions",
                               "kind",
                               action_kind_to_string(k),
                               "result",
                               action_result_to_string(r));
                        fprintf(f, "%zu\n", actions[k][r]);
                }
        }

        gauge_count(
                f, "podreaper_orphans", "Pods the last pass found orphaned, reaped or not.", p->n_orphans);

        family(f,
               "podreaper_refusals",
               "Orphans and entries under the pod and log dirs that the last pass kept, by reason.");
        for (RefusalReason r = REFUSAL_NONE + 1; r < _REFUSAL_MAX; r++) {
                series(f, "podreaper_refusals", "reason", refusal_to_string(r), NULL, NULL);
                fprintf(f, "%zu\n", refusals[r]);
        }

        gauge_count(
                f,
                "podreaper_pod_level_blocked",
                "1 if the last pass took no pod-level action because a source was not ready.",
                p->pod_level_blocked);
        gauge_count(
                f,
                "podreaper_breaker_tripped",
                "1 if the circuit breaker kept the last pass from killing any pod cgroup's processes.",
                p->breaker_tripped);

        /* The deleted-pod rule of runtime GC (DESIGN §2): every state and every reason, 0 where
         * none, as above. */
        family(f,
               "podreaper_deleted_pods",
               "Pods the last pass found deleted (pod dir removed by the kubelet, no ready sandbox, not "
               "active in the kubelet): past the grace (their sandboxes and dead containers go) or "
               "within it.");
        series(f, "podreaper_deleted_pods", "state", "deleted", NULL, NULL);
        fprintf(f, "%zu\n", plan_deleted_count(p, true));
        series(f, "podreaper_deleted_pods", "state", "grace", NULL, NULL);
        fprintf(f, "%zu\n", plan_deleted_count(p, false));

        family(f,
               "podreaper_deleted_rule_off",
               "1 if the deleted-pod rule was off in the last pass, by why: sources not read, the kubelet "
               "not read, a ready sandbox without a pod dir.");
        for (DeletedRule r = DELETED_RULE_ON + 1; r < _DELETED_RULE_MAX; r++) {
                series(f, "podreaper_deleted_rule_off", "reason", deleted_rule_to_string(r), NULL, NULL);
                fprintf(f, "%d\n", p->deleted.considered && p->deleted.rule == r);
        }
}

static void source_up(FILE *f, const char *source, const SourceStatus *st) {
        series(f, "podreaper_source_up", "source", source, NULL, NULL);
        fprintf(f, "%d\n", st && st->ok);
}

static void cgroup_metrics(FILE *f, const CgfsControllerCount *c, size_t n) {
        bool any = false;

        for (size_t i = 0; i < n; i++) {
                bool seen = c[i].name[0] == '\0';

                /* Each controller once: a repeated series would make the whole file invalid. */
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strncmp(c[j].name, c[i].name, sizeof(c[i].name)) == 0;
                if (seen)
                        continue;
                if (!any)
                        family(f,
                               "podreaper_cgroups",
                               "Cgroups per controller, from /proc/cgroups (memory cgroup ids run out at "
                               "65535).");
                any = true;
                series(f, "podreaper_cgroups", "controller", c[i].name, NULL, NULL);
                fprintf(f, "%u\n", c[i].num_cgroups);
        }
}

static int metrics_format(const PassMetrics *m, usec_t last_success, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        gauge_seconds(
                f,
                "podreaper_pass_duration_seconds",
                "Wall-clock time the last pass took, from its start to its report.",
                m->finished > m->started ? m->finished - m->started : 0);
        gauge_seconds(
                f,
                "podreaper_last_pass_timestamp_seconds",
                "When the last pass finished, in seconds since the epoch.",
                m->finished);
        gauge_count(
                f,
                "podreaper_last_pass_success",
                "1 if the last pass succeeded (sources ready, no action failed), else 0.",
                m->success);
        gauge_seconds(
                f,
                LAST_SUCCESS,
                "When a pass last succeeded, in seconds since the epoch; 0 if none has.",
                m->success ? m->finished : last_success);

        if (m->plan)
                plan_metrics(f, m->plan);

        family(f, "podreaper_source_up", "1 if the last pass could read the source, else 0.");
        source_up(f, "runtime", m->snapshot ? &m->snapshot->cri : NULL);
        source_up(f, "kubelet", m->snapshot ? &m->snapshot->kubelet : NULL);
        source_up(f, "cgroups", m->snapshot ? &m->snapshot->cgroups : NULL);
        source_up(f, "disk", m->snapshot ? &m->snapshot->disk : NULL);

        if (m->cgroup_counts)
                cgroup_metrics(f, m->cgroup_counts, m->n_cgroup_counts);

        if (m->image_fs_known && isfinite(m->image_fs_usage_ratio) && m->image_fs_usage_ratio >= 0) {
                family(f,
                       "podreaper_image_fs_usage_ratio",
                       "Used fraction of the image filesystem, 0 to 1.");
                series(f, "podreaper_image_fs_usage_ratio", NULL, NULL, NULL, NULL);
                fprintf(f, "%.6g\n", m->image_fs_usage_ratio);
        }

        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}

/* ---- the file ------------------------------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* The temp file goes when its owner does, unless it was renamed into place (TAKE_PTR). */
static void unlink_and_freep(char **p) {
        if (*p) {
                (void) unlink(*p);
                free(*p);
        }
}

int metrics_write(const char *path, const PassMetrics *m, usec_t last_success) {
        _cleanup_(unlink_and_freep) char *tmp = NULL;
        _cleanup_free_ char *template = NULL, *dir = NULL, *buf = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        const char *slash, *base;
        size_t size;
        int r;

        if (!path || !m)
                return -EINVAL;
        slash = strrchr(path, '/');
        base = slash ? slash + 1 : path;
        if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return -EISDIR;

        /* Not a *.prom name: the textfile collector never reads a half-written file. */
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir || asprintf(&template, "%.*s.%s.XXXXXX", (int) (base - path), path, base) < 0)
                return -ENOMEM;

        r = metrics_format(m, last_success, &buf, &size);
        if (r < 0)
                return r;

        fd = mkostemp(template, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        tmp = TAKE_PTR(template);

        /* node_exporter runs as its own user: readable by all, as mkostemp()'s 0600 is not. */
        if (fchmod(fd, 0644) < 0)
                return -errno;
        r = write_all(fd, buf, size);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return -errno;
        if (close(TAKE_FD(fd)) < 0)
                return -errno;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rename(tmp, path) < 0)
                return -errno;
        free(TAKE_PTR(tmp));

        /* The rename on disk too; should it be lost in a crash the file is the previous pass's, which
         * its timestamp says: not worth failing for. */
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

/* "<seconds>[.<1 to 6 digits>]", as seconds() writes it. */
static int parse_seconds(const char *s, usec_t *ret) {
        _cleanup_free_ char *whole = NULL;
        const char *dot = strchr(s, '.');
        uint64_t sec, frac = 0;
        size_t n_frac = 0;

        whole = dot ? strndup(s, (size_t) (dot - s)) : strdup(s);
        if (!whole)
                return -ENOMEM;
        if (safe_atou64(whole, &sec) < 0)
                return -EINVAL;
        if (dot) {
                n_frac = strlen(dot + 1);
                if (n_frac == 0 || n_frac > 6 || strspn(dot + 1, "0123456789") != n_frac)
                        return -EINVAL;
                for (size_t i = 0; i < 6; i++)
                        frac = frac * 10 + (i < n_frac ? (uint64_t) (dot[1 + i] - '0') : 0);
        }
        if (sec > (USEC_INFINITY - 1 - frac) / USEC_PER_SEC)
                return -EINVAL;

        *ret = sec * USEC_PER_SEC + frac;
        return 0;
}

int metrics_read_last_success(const char *path, usec_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t l;

        if (!path || !ret)
                return -EINVAL;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();

        while ((l = getline(&line, &size, f)) >= 0) {
                if (l > 0 && line[l - 1] == '\n')
                        line[--l] = '\0';
                if (startswith(line, LAST_SUCCESS " "))
                        return parse_seconds(line + strlen(LAST_SUCCESS " "), ret);
        }
        if (ferror(f))
                return -EIO;
        return -ENODATA;
}
