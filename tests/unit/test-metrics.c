/* SPDX-License-Identifier: MIT */
/* --metrics-file: every file written is read back by a strict parser of the text exposition
 * format 0.0.4 written here, and, where Debian's python3-prometheus-client is installed, by
 * prometheus_client's parser too (tests/data/metrics/parse.py), the two agreeing on every series.
 * Values are checked against hand-built passes, against the JSON report of the same pass
 * (tests/data/metrics/against-json.py) and against a golden file (METRICS_UPDATE_GOLDEN=1
 * rewrites it). Each refusal reason is produced by the real planner. Atomicity: no temp file
 * left, an old file replaced whole or kept whole. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "reaper/metrics.h"
#include "reaper/report.h"
#include "tests/lib/action.h"
#include "util/macro.h"

#define FIXTURE_DIR "tests/data/metrics/"
#define PYTHON "/usr/bin/python3"

#define UID_A "3f2c6b1e-8d4a-4f7b-9c1e-5a6d7e8f9a0b"
#define UID_B "7a1e9c2d-4b3f-4e5a-8d6c-0f1e2d3c4b5a"
#define UID_C "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define UID_D "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f"
#define UID_E "e1e2e3e4-0000-4000-8000-00000000000e"
#define UID_F "f1f2f3f4-0000-4000-8000-00000000000f"
#define UID_G "a1a2a3a4-0000-4000-8000-00000000000a"

#define PODS "/var/lib/kubelet/pods/"
#define LOGS "/var/log/pods/"

#define NOW (1000 * USEC_PER_HOUR)
#define OLD (NOW - 2 * USEC_PER_HOUR)

/* A pass of 1.5 s that ended at 1718000001.75 (Unix time). */
#define STARTED (1718000000 * USEC_PER_SEC + 250000)
#define FINISHED (STARTED + 1500000)
#define LAST_SUCCESS (1717999940 * USEC_PER_SEC)

static char *tmp_dir; /* per test */
static bool have_prometheus_client;

/* ---- files --------------------------------------------------------------------------------------- */

static char *read_file(const char *path) {
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL, chunk[4096];
        size_t size = 0, n;
        FILE *m;

        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s: %s", path, strerror(errno));
        m = open_memstream(&buf, &size);
        assert_non_null(m);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(fwrite(chunk, 1, n, m), n);
        assert_int_equal(fclose(m), 0);
        return buf;
}

static void write_file(const char *path, const char *text) {
        _cleanup_fclose_ FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
}

static char *path_in(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

/* The names in dir, sorted, joined by " ". */
static char *dir_list(const char *dir) {
        struct dirent **entries = NULL;
        char *buf = NULL;
        size_t size = 0;
        bool first = true;
        FILE *f;
        int n;

        n = scandir(dir, &entries, NULL, alphasort);
        assert_true(n >= 0);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        for (int i = 0; i < n; i++) {
                if (strcmp(entries[i]->d_name, ".") != 0 && strcmp(entries[i]->d_name, "..") != 0) {
                        fprintf(f, "%s%s", first ? "" : " ", entries[i]->d_name);
                        first = false;
                }
                free(entries[i]);
        }
        free(entries);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static size_t count_fds(void) {
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        size_t n = 0;

        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) chmod(path, 0755);
        return remove(path) < 0 ? -1 : 0;
}

static int tmp_setup(void **state) {
        char template[] = "/tmp/test-metrics.XXXXXX";

        (void) state;
        if (!mkdtemp(template))
                return -1;
        tmp_dir = strdup(template);
        return tmp_dir ? 0 : -1;
}

static int tmp_teardown(void **state) {
        (void) state;
        if (tmp_dir) {
                (void) chmod(tmp_dir, 0755);
                (void) nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
        free(tmp_dir);
        tmp_dir = NULL;
        return 0;
}

/* ---- a strict parser of the text format ---------------------------------------------------------- */

#define MAX_LABELS 4

typedef struct Label {
        char *name, *value; /* value unescaped */
} Label;

typedef struct Sample {
        char *name;
        Label labels[MAX_LABELS];
        size_t n_labels;
        double value;
        char *key; /* name and labels, for duplicates and lookups */
} Sample;

typedef struct Family {
        char *name, *help, *type;
        size_t n_samples;
} Family;

typedef struct Exposition {
        Sample *samples;
        size_t n_samples;
        Family *families;
        size_t n_families;
} Exposition;

static void exposition_done(Exposition *e) {
        for (size_t i = 0; i < e->n_samples; i++) {
                free(e->samples[i].name);
                free(e->samples[i].key);
                for (size_t j = 0; j < e->samples[i].n_labels; j++) {
                        free(e->samples[i].labels[j].name);
                        free(e->samples[i].labels[j].value);
                }
        }
        for (size_t i = 0; i < e->n_families; i++) {
                free(e->families[i].name);
                free(e->families[i].help);
                free(e->families[i].type);
        }
        free(e->samples);
        free(e->families);
        *e = (Exposition){};
}

#define parse_fail(lineno, line, ...) \
        fail_msg( \
                "line %zu: %s\n    %s", \
                (lineno), \
                ({ \
                        char *_m_; \
                        assert_true(asprintf(&_m_, __VA_ARGS__) >= 0); \
                        _m_; \
                }), \
                (line))

static bool is_name_char(char c, bool first, bool colon) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
               (!first && c >= '0' && c <= '9');
}

/* Length of the metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*) at s. */
static size_t name_length(const char *s, bool metric) {
        size_t n = 0;

        while (s[n] && is_name_char(s[n], n == 0, metric))
                n++;
        return n;
}

static Family *family_get(Exposition *e, const char *name) {
        for (size_t i = 0; i < e->n_families; i++)
                if (strcmp(e->families[i].name, name) == 0)
                        return &e->families[i];
        return NULL;
}

/* All lines of a metric form one group: a name seen before, with another in between, is an error. */
static Family *
family_enter(Exposition *e, const char *name, char **current, size_t lineno, const char *line) {
        Family *fam = family_get(e, name);

        if (*current && strcmp(*current, name) == 0)
                return fam;
        if (fam)
                parse_fail(lineno, line, "lines of metric %s are not one group", name);
        e->families = reallocarray(e->families, e->n_families + 1, sizeof(Family));
        assert_non_null(e->families);
        fam = &e->families[e->n_families++];
        *fam = (Family){.name = strdup(name)};
        free(*current);
        *current = strdup(name);
        return fam;
}

/* "1", "-2.5", "1e3", "NaN", "+Inf", "-Inf": Go's ParseFloat as the format has it, no hex or words. */
static bool parse_value(const char *s, double *ret) {
        char *end;

        if (strcmp(s, "NaN") == 0)
                return *ret = NAN, true;
        if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0)
                return *ret = s[0] == '+' ? INFINITY : -INFINITY, true;
        if (s[0] == '\0' || s[strspn(s, "0123456789.eE+-")] != '\0')
                return false;
        errno = 0;
        *ret = strtod(s, &end);
        return errno == 0 && *end == '\0' && end != s;
}

static int compare_labels(const void *a, const void *b) {
        return strcmp(((const Label *) a)->name, ((const Label *) b)->name);
}

static void parse_sample(Exposition *e, char *line, char **current, size_t lineno) {
        const char *orig = line;
        Sample s = {};
        size_t n = name_length(line, true);
        char *p = line + n, *keybuf = NULL;
        size_t keysize = 0;
        Family *fam;
        FILE *k;

        if (n == 0)
                parse_fail(lineno, orig, "no metric name");
        s.name = strndup(line, n);
        if (*p == '{') {
                p++;
                for (;;) {
                        char *value, *o;
                        size_t ln = name_length(p, false);

                        if (ln == 0)
                                parse_fail(lineno, orig, "bad label name at '%s'", p);
                        if (s.n_labels == MAX_LABELS)
                                parse_fail(lineno, orig, "too many labels");
                        if (strncmp(p, "__", 2) == 0)
                                parse_fail(lineno, orig, "reserved label name");
                        s.labels[s.n_labels].name = strndup(p, ln);
                        p += ln;
                        if (p[0] != '=' || p[1] != '"')
                                parse_fail(lineno, orig, "label without =\"");
                        p += 2;
                        value = o = malloc(strlen(p) + 1);
                        assert_non_null(value);
                        for (; *p != '"'; p++) {
                                if (*p == '\0')
                                        parse_fail(lineno, orig, "unterminated label value");
                                if (*p != '\\') {
                                        *o++ = *p;
                                        continue;
                                }
                                p++;
                                if (*p == '\\' || *p == '"')
                                        *o++ = *p;
                                else if (*p == 'n')
                                        *o++ = '\n';
                                else
                                        parse_fail(lineno, orig, "bad escape \\%c in a label value", *p);
                        }
                        *o = '\0';
                        s.labels[s.n_labels++].value = value;
                        p++;
                        for (size_t i = 0; i + 1 < s.n_labels; i++)
                                if (strcmp(s.labels[i].name, s.labels[s.n_labels - 1].name) == 0)
                                        parse_fail(lineno, orig, "label %s twice", s.labels[i].name);
                        if (*p == ',') {
                                p++;
                                continue;
                        }
                        if (*p != '}')
                                parse_fail(lineno, orig, "expected , or } after a label");
                        p++;
                        break;
                }
        }
        if (*p != ' ')
                parse_fail(lineno, orig, "expected one space before the value");
        p++;
        /* No timestamps: a textfile collector sample must not carry one. */
        if (!parse_value(p, &s.value))
                parse_fail(lineno, orig, "bad value '%s'", p);

        fam = family_enter(e, s.name, current, lineno, orig);
        if (!fam->help || !fam->type)
                parse_fail(lineno, orig, "sample of %s before its HELP and TYPE", s.name);
        fam->n_samples++;

        qsort(s.labels, s.n_labels, sizeof(Label), compare_labels);
        k = open_memstream(&keybuf, &keysize);
        assert_non_null(k);
        fputs(s.name, k);
        for (size_t i = 0; i < s.n_labels; i++)
                fprintf(k, "%c%s=%s", i == 0 ? '{' : '\x01', s.labels[i].name, s.labels[i].value);
        assert_int_equal(fclose(k), 0);
        s.key = keybuf;
        for (size_t i = 0; i < e->n_samples; i++)
                if (strcmp(e->samples[i].key, s.key) == 0)
                        parse_fail(lineno, orig, "duplicate series");

        e->samples = reallocarray(e->samples, e->n_samples + 1, sizeof(Sample));
        assert_non_null(e->samples);
        e->samples[e->n_samples++] = s;
}

static void parse_comment(Exposition *e, char *line, char **current, size_t lineno) {
        const char *orig = line;
        bool help = strncmp(line, "# HELP ", 7) == 0;
        char *name, *text;
        size_t n;
        Family *fam;

        if (!help && strncmp(line, "# TYPE ", 7) != 0)
                parse_fail(lineno, orig, "a comment that is neither HELP nor TYPE");
        line += 7;
        n = name_length(line, true);
        if (n == 0 || line[n] != ' ' || line[n + 1] == '\0')
                parse_fail(lineno, orig, "expected '<name> <text>'");
        name = strndup(line, n);
        text = line + n + 1;
        fam = family_enter(e, name, current, lineno, orig);
        free(name);

        if (help) {
                if (fam->help)
                        parse_fail(lineno, orig, "second HELP");
                for (const char *p = text; *p; p++)
                        if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
                                parse_fail(lineno, orig, "bad escape in HELP");
                        else if (*p == '\\')
                                p++;
                fam->help = strdup(text);
        } else {
                if (fam->type)
                        parse_fail(lineno, orig, "second TYPE");
                if (fam->n_samples > 0)
                        parse_fail(lineno, orig, "TYPE after a sample");
                if (strcmp(text, "gauge") != 0 && strcmp(text, "counter") != 0 &&
                    strcmp(text, "histogram") != 0 && strcmp(text, "summary") != 0 &&
                    strcmp(text, "untyped") != 0)
                        parse_fail(lineno, orig, "unknown type '%s'", text);
                fam->type = strdup(text);
        }
}

/* Parses text strictly: only HELP, TYPE and sample lines, each ending in '\n'; no empty line. */
static void exposition_parse(const char *text, Exposition *ret) {
        _cleanup_free_ char *copy = strdup(text), *current = NULL;
        size_t lineno = 0;
        char *line = copy, *nl;

        *ret = (Exposition){};
        assert_non_null(copy);
        assert_true(text[0] != '\0');
        assert_true(text[strlen(text) - 1] == '\n');
        for (; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                *nl = '\0';
                lineno++;
                if (line[0] == '#')
                        parse_comment(ret, line, &current, lineno);
                else
                        parse_sample(ret, line, &current, lineno);
        }
        /* Our writer never announces a metric without a sample. */
        for (size_t i = 0; i < ret->n_families; i++) {
                if (ret->families[i].n_samples == 0)
                        fail_msg("metric %s has no sample", ret->families[i].name);
                assert_string_equal(ret->families[i].type, "gauge");
                assert_int_equal(strncmp(ret->families[i].name, "podreaper_", 10), 0);
        }
}

/* The sample of name with up to two labels (k1 and k2 may be NULL), or NULL. */
static const Sample *sample_find(
        const Exposition *e,
        const char *name,
        const char *k1,
        const char *v1,
        const char *k2,
        const char *v2) {
        for (size_t i = 0; i < e->n_samples; i++) {
                const Sample *s = &e->samples[i];
                size_t want = (k1 != NULL) + (k2 != NULL), got = 0;

                if (strcmp(s->name, name) != 0 || s->n_labels != want)
                        continue;
                for (size_t j = 0; j < s->n_labels; j++)
                        if ((k1 && strcmp(s->labels[j].name, k1) == 0 &&
                             strcmp(s->labels[j].value, v1) == 0) ||
                            (k2 && strcmp(s->labels[j].name, k2) == 0 &&
                             strcmp(s->labels[j].value, v2) == 0))
                                got++;
                if (got == want)
                        return s;
        }
        return NULL;
}

static double value_of(
        const Exposition *e,
        const char *name,
        const char *k1,
        const char *v1,
        const char *k2,
        const char *v2) {
        const Sample *s = sample_find(e, name, k1, v1, k2, v2);

        if (!s)
                fail_msg("no sample %s{%s=%s,%s=%s}", name, k1 ?: "", v1 ?: "", k2 ?: "", v2 ?: "");
        return s->value;
}

#define value0(e, name) value_of(e, name, NULL, NULL, NULL, NULL)
#define value1(e, name, k, v) value_of(e, name, k, v, NULL, NULL)

static size_t count_samples(const Exposition *e, const char *name) {
        size_t n = 0;

        for (size_t i = 0; i < e->n_samples; i++)
                n += strcmp(e->samples[i].name, name) == 0;
        return n;
}

static double sum_samples(const Exposition *e, const char *name) {
        double sum = 0;

        for (size_t i = 0; i < e->n_samples; i++)
                if (strcmp(e->samples[i].name, name) == 0)
                        sum += e->samples[i].value;
        return sum;
}

/* ---- the second opinion: prometheus_client ------------------------------------------------------- */

static int run_python(const char *script, const char *arg1, const char *arg2, char **ret_out) {
        _cleanup_free_ char *command = NULL, *buf = NULL;
        size_t size = 0, n;
        char chunk[4096];
        FILE *p, *m;
        int status;

        assert_true(
                asprintf(
                        &command,
                        PYTHON " " FIXTURE_DIR "%s '%s'%s%s%s",
                        script,
                        arg1,
                        arg2 ? " '" : "",
                        arg2 ?: "",
                        arg2 ? "'" : "") >= 0);
        p = popen(command, "re");
        assert_non_null(p);
        m = open_memstream(&buf, &size);
        assert_non_null(m);
        while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
                assert_int_equal(fwrite(chunk, 1, n, m), n);
        assert_int_equal(fclose(m), 0);
        status = pclose(p);
        assert_true(WIFEXITED(status));
        if (ret_out)
                *ret_out = TAKE_PTR(buf);
        return WEXITSTATUS(status);
}

static void hex(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                fprintf(f, "%02x", *p);
}

/* prometheus_client reads the file too, and finds exactly the series and values we found. */
static void python_agrees(const char *path, const Exposition *e) {
        _cleanup_free_ char *out = NULL;
        size_t n_types = 0, n_samples = 0;
        int r;

        if (!have_prometheus_client)
                return;
        r = run_python("parse.py", path, NULL, &out);
        if (r != 0)
                fail_msg("prometheus_client parser: exit %d on %s", r, path);

        for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *value_text = strrchr(line, '|');
                bool found = false;

                assert_non_null(value_text);
                if (strncmp(line, "TYPE|", 5) == 0) {
                        char *name = line + 5;

                        *value_text = '\0';
                        assert_non_null(family_get((Exposition *) e, name));
                        assert_string_equal(value_text + 1, family_get((Exposition *) e, name)->type);
                        n_types++;
                        continue;
                }
                *value_text++ = '\0';
                for (size_t i = 0; i < e->n_samples && !found; i++) {
                        const Sample *s = &e->samples[i];
                        _cleanup_free_ char *key = NULL;
                        size_t size = 0;
                        FILE *k = open_memstream(&key, &size);

                        assert_non_null(k);
                        fprintf(k, "%s|", s->name);
                        for (size_t j = 0; j < s->n_labels; j++) {
                                fprintf(k, "%s%s=", j > 0 ? "," : "", s->labels[j].name);
                                hex(k, s->labels[j].value);
                        }
                        assert_int_equal(fclose(k), 0);
                        if (strcmp(key, line) != 0)
                                continue;
                        found = true;
                        if (strtod(value_text, NULL) != s->value)
                                fail_msg(
                                        "%s: prometheus_client reads %s, we %g", line, value_text, s->value);
                }
                if (!found)
                        fail_msg("prometheus_client found a series we did not: %s", line);
                n_samples++;
        }
        assert_int_equal(n_types, e->n_families);
        assert_int_equal(n_samples, e->n_samples);
}

/* Writes m, checks the file (strict parser, prometheus_client) and that no temp file stayed. */
static void write_and_parse(const PassMetrics *m, usec_t last_success, Exposition *ret, char **ret_text) {
        _cleanup_free_ char *path = path_in(tmp_dir, "podreaper.prom"), *text = NULL, *names = NULL;

        assert_int_equal(metrics_write(path, m, last_success), 0);
        names = dir_list(tmp_dir);
        assert_string_equal(names, "podreaper.prom");
        text = read_file(path);
        exposition_parse(text, ret);
        python_agrees(path, ret);
        if (ret_text)
                *ret_text = TAKE_PTR(text);
}

/* ---- a hand-built pass --------------------------------------------------------------------------- */

#define REASON_ORPHAN \
        "orphaned: no sandbox or container in the runtime, not active in the kubelet, orphaned for 25m3s " \
        "(grace 10m)"
#define REASON_GRACE "orphan, within the grace (first seen 2m0s ago, changed 2m0s ago; grace 10m)"
#define REASON_MOUNTED "volume still mounted: " PODS UID_B "/volumes/kubernetes.io~nfs/data"

static Action run_actions[10];
/* Runtime GC found E deleted (past the grace) and F and G within it. */
static DeletedPod run_deleted[] = {
        {.uid = UID_E,
         .first_seen = STARTED - 15 * USEC_PER_MINUTE,
         .past_grace = true,
         .evidence = (char *) "for 15m"},
        {.uid = UID_F, .first_seen = STARTED - 2 * USEC_PER_MINUTE, .evidence = (char *) "for 2m"},
        {.uid = UID_G, .first_seen = STARTED, .evidence = (char *) "for 0s"},
};

/* A: reaped but its log dir failed; B: volume mounted; C: within the grace; D: its log dir skipped
 * at act time; lost+found; an image the runtime GC left planned. */
static Plan run_plan(void) {
        size_t n = 0;

        run_actions[n] =
                act(ACTION_SKIP_POD, "", PODS "lost+found", "not a pod uid: kept", RESULT_PLANNED, NULL);
        run_actions[n++].refusal = REFUSAL_NOT_A_POD;
        run_actions[n++] =
                act(ACTION_DESTROY_CGROUP,
                    UID_A,
                    "kubepods/besteffort/pod" UID_A,
                    REASON_ORPHAN,
                    RESULT_DONE,
                    NULL);
        run_actions[n++] = act(ACTION_REMOVE_POD_DIR, UID_A, PODS UID_A, REASON_ORPHAN, RESULT_DONE, NULL);
        run_actions[n++] =
                act(ACTION_REMOVE_LOG_DIR,
                    UID_A,
                    LOGS "default_web-0_" UID_A,
                    REASON_ORPHAN,
                    RESULT_FAILED,
                    "Permission denied");
        run_actions[n++] =
                act(ACTION_REDUCE_CGROUP_CPU,
                    UID_B,
                    "kubepods/burstable/pod" UID_B,
                    REASON_MOUNTED,
                    RESULT_DONE,
                    NULL);
        run_actions[n] = act(ACTION_SKIP_POD, UID_B, PODS UID_B, REASON_MOUNTED, RESULT_PLANNED, NULL);
        run_actions[n++].refusal = REFUSAL_MOUNTED;
        run_actions[n] = act(ACTION_SKIP_POD, UID_C, PODS UID_C, REASON_GRACE, RESULT_PLANNED, NULL);
        run_actions[n++].refusal = REFUSAL_GRACE;
        run_actions[n++] =
                act(ACTION_REMOVE_LOG_DIR,
                    UID_D,
                    LOGS "batch_report-1_" UID_D,
                    REASON_ORPHAN,
                    RESULT_SKIPPED,
                    "the runtime knows this pod now");
        run_actions[n++] =
                act(ACTION_REMOVE_IMAGE, "", "sha256:0123abcd", "unused for 3h", RESULT_PLANNED, NULL);
        assert_true(n <= ELEMENTSOF(run_actions));
        return (Plan){
                .actions = run_actions,
                .n_actions = n,
                .n_orphans = 4,
                .deleted = {.considered = true, .pods = run_deleted, .n_pods = ELEMENTSOF(run_deleted)},
        };
}

static Snapshot run_snapshot(void) {
        return (Snapshot){
                .now = STARTED,
                .cgroups = {.ok = true},
                .cri = {.ok = true},
                .kubelet = {.ok = false, .error = (char *) "healthz: connection refused"},
                .disk = {.ok = true},
        };
}

static const CgfsControllerCount controllers[] = {
        {.name = "cpu", .num_cgroups = 80, .enabled = true},
        {.name = "memory", .num_cgroups = 61234, .enabled = true},
        {.name = "pids", .num_cgroups = 80, .enabled = true},
};

static PassMetrics run_metrics(const Snapshot *s, const Plan *p) {
        return (PassMetrics){
                .started = STARTED,
                .finished = FINISHED,
                .success = false, /* an action failed */
                .snapshot = s,
                .plan = p,
                .cgroup_counts = controllers,
                .n_cgroup_counts = ELEMENTSOF(controllers),
                .image_fs_known = true,
                .image_fs_usage_ratio = 0.8125,
        };
}

/* ---- tests: values ------------------------------------------------------------------------------- */

static void test_values(void **state) {
        Snapshot s = run_snapshot();
        Plan p = run_plan();
        PassMetrics m = run_metrics(&s, &p);
        _cleanup_(exposition_done) Exposition e = {};
        static const char *const families[] = {
                "podreaper_pass_duration_seconds",
                "podreaper_last_pass_timestamp_seconds",
                "podreaper_last_pass_success",
                "podreaper_last_success_timestamp_seconds",
                "podreaper_actions",
                "podreaper_orphans",
                "podreaper_refusals",
                "podreaper_pod_level_blocked",
                "podreaper_breaker_tripped",
                "podreaper_deleted_pods",
                "podreaper_deleted_rule_off",
                "podreaper_source_up",
                "podreaper_cgroups",
                "podreaper_image_fs_usage_ratio",
        };

        (void) state;
        write_and_parse(&m, LAST_SUCCESS, &e, NULL);

        assert_int_equal(e.n_families, ELEMENTSOF(families));
        for (size_t i = 0; i < ELEMENTSOF(families); i++)
                assert_string_equal(e.families[i].name, families[i]);

        assert_true(value0(&e, "podreaper_pass_duration_seconds") == 1.5);
        assert_true(value0(&e, "podreaper_last_pass_timestamp_seconds") == 1718000001.75);
        assert_true(value0(&e, "podreaper_last_pass_success") == 0);
        /* This pass failed: the previous success stands. */
        assert_true(value0(&e, "podreaper_last_success_timestamp_seconds") == 1717999940);

        /* Every kind but skip-pod, by every result; what happened has its count, the rest 0. */
        assert_int_equal(count_samples(&e, "podreaper_actions"), (_ACTION_KIND_MAX - 1) * 4);
        assert_true(value_of(&e, "podreaper_actions", "kind", "destroy-cgroup", "result", "done") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-pod-dir", "result", "done") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-log-dir", "result", "failed") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-log-dir", "result", "skipped") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "reduce-cgroup-cpu", "result", "done") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-image", "result", "planned") == 1);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-log-dir", "result", "done") == 0);
        assert_true(value_of(&e, "podreaper_actions", "kind", "remove-sandbox", "result", "failed") == 0);
        assert_null(sample_find(&e, "podreaper_actions", "kind", "skip-pod", "result", "planned"));
        assert_true(sum_samples(&e, "podreaper_actions") == 6);

        assert_true(value0(&e, "podreaper_orphans") == 4);
        assert_int_equal(count_samples(&e, "podreaper_refusals"), 8);
        assert_true(value1(&e, "podreaper_refusals", "reason", "mounted") == 1);
        assert_true(value1(&e, "podreaper_refusals", "reason", "grace") == 1);
        assert_true(value1(&e, "podreaper_refusals", "reason", "not-a-pod") == 1);
        assert_true(value1(&e, "podreaper_refusals", "reason", "breaker") == 0);
        assert_true(value1(&e, "podreaper_refusals", "reason", "other") == 0);
        assert_true(sum_samples(&e, "podreaper_refusals") == 3);

        assert_true(value1(&e, "podreaper_source_up", "source", "runtime") == 1);
        assert_true(value1(&e, "podreaper_source_up", "source", "kubelet") == 0);
        assert_true(value1(&e, "podreaper_source_up", "source", "cgroups") == 1);
        assert_true(value1(&e, "podreaper_source_up", "source", "disk") == 1);
        assert_true(value0(&e, "podreaper_pod_level_blocked") == 0);
        assert_true(value0(&e, "podreaper_breaker_tripped") == 0);

        assert_int_equal(count_samples(&e, "podreaper_deleted_pods"), 2);
        assert_true(value1(&e, "podreaper_deleted_pods", "state", "deleted") == 1);
        assert_true(value1(&e, "podreaper_deleted_pods", "state", "grace") == 2);
        /* Every reason, 0 while the rule is on. */
        assert_int_equal(count_samples(&e, "podreaper_deleted_rule_off"), _DELETED_RULE_MAX - 1);
        assert_true(sum_samples(&e, "podreaper_deleted_rule_off") == 0);

        assert_int_equal(count_samples(&e, "podreaper_cgroups"), 3);
        assert_true(value1(&e, "podreaper_cgroups", "controller", "memory") == 61234);
        assert_true(value1(&e, "podreaper_cgroups", "controller", "pids") == 80);
        assert_true(value0(&e, "podreaper_image_fs_usage_ratio") == 0.8125);
}

static void test_success_blocked_breaker(void **state) {
        Snapshot s = run_snapshot();
        Plan p = {
                .pod_level_blocked = true,
                .blocked_reason = (char *) "kubelet not ready",
                .breaker_tripped = true,
                .breaker_reason = (char *) "3 of 4 pod cgroups with processes look orphaned",
        };
        PassMetrics m = {
                .started = STARTED, .finished = STARTED, .success = true, .snapshot = &s, .plan = &p};
        _cleanup_(exposition_done) Exposition e = {};

        (void) state;
        write_and_parse(&m, LAST_SUCCESS, &e, NULL);
        assert_true(value0(&e, "podreaper_pass_duration_seconds") == 0);
        assert_true(value0(&e, "podreaper_last_pass_success") == 1);
        /* A success is this pass's end, whatever came before. */
        assert_true(value0(&e, "podreaper_last_success_timestamp_seconds") == 1718000000.25);
        assert_true(value0(&e, "podreaper_pod_level_blocked") == 1);
        assert_true(value0(&e, "podreaper_breaker_tripped") == 1);
        assert_true(value0(&e, "podreaper_orphans") == 0);
        assert_true(sum_samples(&e, "podreaper_actions") == 0);
        assert_int_equal(count_samples(&e, "podreaper_actions"), (_ACTION_KIND_MAX - 1) * 4);
        /* Unknown is left out, not 0. */
        assert_int_equal(count_samples(&e, "podreaper_cgroups"), 0);
        assert_null(family_get(&e, "podreaper_cgroups"));
        assert_int_equal(count_samples(&e, "podreaper_image_fs_usage_ratio"), 0);
}

/* The deleted-pod rule off: its reason is 1, every other 0; not considered: all 0. */
static void test_deleted_rule_off(void **state) {
        Snapshot s = run_snapshot();

        (void) state;
        for (DeletedRule r = DELETED_RULE_ON; r < _DELETED_RULE_MAX; r++)
                for (int considered = 0; considered <= 1; considered++) {
                        Plan p = {.deleted = {.considered = considered, .rule = r}};
                        PassMetrics m = {
                                .started = STARTED, .finished = FINISHED, .snapshot = &s, .plan = &p};
                        _cleanup_(exposition_done) Exposition e = {};

                        write_and_parse(&m, 0, &e, NULL);
                        for (DeletedRule k = DELETED_RULE_ON + 1; k < _DELETED_RULE_MAX; k++)
                                if (value1(&e,
                                           "podreaper_deleted_rule_off",
                                           "reason",
                                           deleted_rule_to_string(k)) != (considered && k == r))
                                        fail_msg(
                                                "rule %s, considered %d: reason %s wrong",
                                                deleted_rule_to_string(r),
                                                considered,
                                                deleted_rule_to_string(k));
                        assert_true(sum_samples(&e, "podreaper_deleted_pods") == 0);
                }
}

/* Gathering failed: no snapshot, no plan. What is known is written, and nothing pretends. */
static void test_no_snapshot_no_plan(void **state) {
        PassMetrics m = {.started = FINISHED, .finished = STARTED /* a clock step back */};
        _cleanup_(exposition_done) Exposition e = {};

        (void) state;
        write_and_parse(&m, 0, &e, NULL);
        assert_true(value0(&e, "podreaper_pass_duration_seconds") == 0);
        assert_true(value0(&e, "podreaper_last_pass_success") == 0);
        assert_true(value0(&e, "podreaper_last_success_timestamp_seconds") == 0);
        assert_int_equal(count_samples(&e, "podreaper_actions"), 0);
        assert_int_equal(count_samples(&e, "podreaper_refusals"), 0);
        assert_int_equal(count_samples(&e, "podreaper_orphans"), 0);
        assert_int_equal(count_samples(&e, "podreaper_pod_level_blocked"), 0);
        assert_int_equal(count_samples(&e, "podreaper_source_up"), 4);
        assert_true(sum_samples(&e, "podreaper_source_up") == 0);
}

static void test_image_fs_unknown_values(void **state) {
        const double bad[] = {-1, NAN, INFINITY};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                PassMetrics m = {
                        .finished = STARTED, .image_fs_known = true, .image_fs_usage_ratio = bad[i]};
                _cleanup_(exposition_done) Exposition e = {};

                write_and_parse(&m, 0, &e, NULL);
                assert_int_equal(count_samples(&e, "podreaper_image_fs_usage_ratio"), 0);
        }
}

/* The JSON report of the same pass says the same (against-json.py). */
static void test_against_json_report(void **state) {
        Snapshot s = run_snapshot();
        Plan p = run_plan();
        PassMetrics m = run_metrics(&s, &p);
        Options o = {.command = COMMAND_RUN, .output = OUTPUT_JSON, .require_kubelet = true};
        _cleanup_free_ char *metrics = path_in(tmp_dir, "podreaper.prom"),
                            *json = path_in(tmp_dir, "report.json"), *out = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        (void) state;
        if (!have_prometheus_client)
                skip();
        f = fopen(json, "we");
        assert_non_null(f);
        report_print(f, &o, &s, &p);
        assert_int_equal(fflush(f), 0);
        assert_int_equal(metrics_write(metrics, &m, LAST_SUCCESS), 0);
        r = run_python("against-json.py", metrics, json, &out);
        assert_int_equal(r, 0);
}

static void test_golden(void **state) {
        Snapshot s = run_snapshot();
        Plan p = run_plan();
        PassMetrics m = run_metrics(&s, &p);
        _cleanup_free_ CgfsControllerCount *counts = NULL;
        _cleanup_(exposition_done) Exposition e = {};
        _cleanup_free_ char *text = NULL, *expected = NULL;
        size_t n_counts = 0;

        (void) state;
        /* /proc/cgroups as cgfs_count_cgroups() reads it, from cgroupfs's fixture of a hybrid node. */
        assert_int_equal(cgfs_count_cgroups("tests/data/cgroup/hybrid.cgroups", &counts, &n_counts), 0);
        m.cgroup_counts = counts;
        m.n_cgroup_counts = n_counts;
        write_and_parse(&m, LAST_SUCCESS, &e, &text);
        assert_int_equal(count_samples(&e, "podreaper_cgroups"), n_counts);
        assert_true(value1(&e, "podreaper_cgroups", "controller", "memory") == 12);

        if (getenv("METRICS_UPDATE_GOLDEN")) {
                write_file(FIXTURE_DIR "run.prom", text);
                return;
        }
        expected = read_file(FIXTURE_DIR "run.prom");
        if (strcmp(expected, text) != 0)
                fail_msg(
                        "the metrics differ from " FIXTURE_DIR
                        "run.prom (METRICS_UPDATE_GOLDEN=1 rewrites it):\n%s",
                        text);
}

/* A controller name is the only label value from outside: \ " newline and bytes that are no UTF-8
 * must come out as a valid file with the value intact (invalid bytes as U+FFFD). */
static void test_hostile_label_value(void **state) {
        const CgfsControllerCount hostile[] = {
                {.name = "bad\"\\\n}x=\"y\xff\xc3\xa9", .num_cgroups = 7},
                {.name = "memory", .num_cgroups = 3},
                {.name = "memory", .num_cgroups = 5}, /* a repeat would make the file invalid */
                {.name = "", .num_cgroups = 9},
        };
        PassMetrics m = {
                .finished = STARTED, .cgroup_counts = hostile, .n_cgroup_counts = ELEMENTSOF(hostile)};
        _cleanup_(exposition_done) Exposition e = {};
        _cleanup_free_ char *text = NULL;

        (void) state;
        write_and_parse(&m, 0, &e, &text);
        assert_non_null(strstr(
                text, "podreaper_cgroups{controller=\"bad\\\"\\\\\\n}x=\\\"y\xef\xbf\xbd\xc3\xa9\"} 7\n"));
        assert_true(
                value1(&e, "podreaper_cgroups", "controller", "bad\"\\\n}x=\"y\xef\xbf\xbd\xc3\xa9") == 7);
        assert_int_equal(count_samples(&e, "podreaper_cgroups"), 2);
        assert_true(value1(&e, "podreaper_cgroups", "controller", "memory") == 3);
}

/* The strict parser is worth something only if it refuses what is wrong. */
static void test_parser_refuses(void **state) {
        static const char *const bad[] = {
                "podreaper_x 1\n",                                                   /* no HELP/TYPE */
                "# HELP podreaper_x h\npodreaper_x 1\n",                             /* no TYPE */
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x one\n", /* value */
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x{a=\"\\t\"} 1\n",
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x{a=\"1\"} "
                "1\npodreaper_x{a=\"1\"} 2\n",
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x{1a=\"1\"} 1\n",
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x 1 1718000000\n",
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x 1\n\n",
                "# HELP 1podreaper h\n# TYPE 1podreaper gauge\n1podreaper 1\n",
                "# HELP podreaper_x h\n# TYPE podreaper_x gauge\npodreaper_x 1\n"
                "# HELP podreaper_y h\n# TYPE podreaper_y gauge\npodreaper_y 1\npodreaper_x{a=\"b\"} 1\n",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                pid_t pid;
                int status;

                /* A refusal is a cmocka failure: in a child, so that this test goes on. */
                fflush(NULL);
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        Exposition e;

                        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                        if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                                _exit(0); /* reads as "took it": the test fails, not hides */
                        exposition_parse(bad[i], &e);
                        _exit(0);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        fail_msg("the parser took bad input %zu:\n%s", i, bad[i]);
        }
}

/* ---- tests: the file ----------------------------------------------------------------------------- */

static void test_replaces_atomically(void **state) {
        _cleanup_free_ char *path = path_in(tmp_dir, "podreaper.prom"), *text = NULL, *names = NULL;
        PassMetrics m = {.finished = STARTED, .success = true};
        struct stat before, after;
        size_t fds;
        mode_t old_umask;

        (void) state;
        write_file(path, "old\n");
        assert_int_equal(stat(path, &before), 0);
        fds = count_fds();

        old_umask = umask(077);
        assert_int_equal(metrics_write(path, &m, 0), 0);
        (void) umask(old_umask);

        assert_int_equal(stat(path, &after), 0);
        assert_true(before.st_ino != after.st_ino); /* renamed over, not rewritten in place */
        assert_true(S_ISREG(after.st_mode));
        assert_int_equal(after.st_mode & 07777, 0644); /* node_exporter's user reads it, umask or not */
        assert_int_equal(count_fds(), fds);
        names = dir_list(tmp_dir);
        assert_string_equal(names, "podreaper.prom");
        text = read_file(path);
        assert_non_null(strstr(text, "podreaper_last_pass_success 1\n"));
}

static void test_relative_path(void **state) {
        _cleanup_free_ char *cwd = getcwd(NULL, 0), *names = NULL;
        PassMetrics m = {.finished = STARTED};

        (void) state;
        assert_non_null(cwd);
        assert_int_equal(chdir(tmp_dir), 0);
        assert_int_equal(metrics_write("podreaper.prom", &m, 0), 0);
        assert_int_equal(chdir(cwd), 0);
        names = dir_list(tmp_dir);
        assert_string_equal(names, "podreaper.prom");
}

/* The writer runs as nobody when we are root (root writes anywhere). */
static int write_unprivileged(const char *path, const PassMetrics *m) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
                        _exit(100);
                _exit(-metrics_write(path, m, 0));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) != 100);
        return -WEXITSTATUS(status);
}

static void test_unwritable_dir(void **state) {
        _cleanup_free_ char *dir = path_in(tmp_dir, "textfile"), *path = NULL, *text = NULL, *names = NULL;
        PassMetrics m = {.finished = STARTED};

        (void) state;
        assert_int_equal(chmod(tmp_dir, 0755), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        path = path_in(dir, "podreaper.prom");
        write_file(path, "old\n");
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(chmod(dir, 0555), 0);

        assert_int_equal(write_unprivileged(path, &m), -EACCES);

        assert_int_equal(chmod(dir, 0755), 0);
        text = read_file(path);
        assert_string_equal(text, "old\n");
        names = dir_list(dir);
        assert_string_equal(names, "podreaper.prom");
}

static void test_errors_leave_nothing(void **state) {
        _cleanup_free_ char *dir_target = path_in(tmp_dir, "a-dir"),
                            *missing = path_in(tmp_dir, "no/such.prom"), *trailing = path_in(tmp_dir, "x/"),
                            *names = NULL;
        PassMetrics m = {.finished = STARTED};

        (void) state;
        /* The rename fails after the temp file was written: the temp file goes. */
        assert_int_equal(mkdir(dir_target, 0755), 0);
        assert_int_equal(metrics_write(dir_target, &m, 0), -EISDIR);
        assert_int_equal(metrics_write(missing, &m, 0), -ENOENT);
        assert_int_equal(metrics_write(trailing, &m, 0), -EISDIR);
        assert_int_equal(metrics_write(NULL, &m, 0), -EINVAL);
        assert_int_equal(metrics_write(missing, NULL, 0), -EINVAL);
        names = dir_list(tmp_dir);
        assert_string_equal(names, "a-dir");
}

static void test_read_last_success(void **state) {
        _cleanup_free_ char *path = path_in(tmp_dir, "podreaper.prom");
        PassMetrics ok = {.started = STARTED, .finished = FINISHED, .success = true};
        PassMetrics failed = {.started = FINISHED, .finished = FINISHED + 60 * USEC_PER_SEC};
        usec_t t = 0;

        (void) state;
        assert_int_equal(metrics_read_last_success(path, &t), -ENOENT);

        /* The oneshot `run` carries a success over failed passes through the file itself. */
        assert_int_equal(metrics_write(path, &ok, 0), 0);
        assert_int_equal(metrics_read_last_success(path, &t), 0);
        assert_int_equal(t, FINISHED);
        assert_int_equal(metrics_write(path, &failed, t), 0);
        t = 0;
        assert_int_equal(metrics_read_last_success(path, &t), 0);
        assert_int_equal(t, FINISHED);

        write_file(path, "podreaper_last_success_timestamp_seconds 12\n");
        assert_int_equal(metrics_read_last_success(path, &t), 0);
        assert_int_equal(t, 12 * USEC_PER_SEC);
        write_file(path, "podreaper_last_success_timestamp_seconds 12.5\n");
        assert_int_equal(metrics_read_last_success(path, &t), 0);
        assert_int_equal(t, 12 * USEC_PER_SEC + 500000);

        t = 42;
        write_file(path, "# nothing\n");
        assert_int_equal(metrics_read_last_success(path, &t), -ENODATA);
        write_file(path, "podreaper_last_success_timestamp_seconds 1e9\n");
        assert_int_equal(metrics_read_last_success(path, &t), -EINVAL);
        write_file(path, "podreaper_last_success_timestamp_seconds 1.1234567\n");
        assert_int_equal(metrics_read_last_success(path, &t), -EINVAL);
        write_file(path, "podreaper_last_success_timestamp_seconds -1\n");
        assert_int_equal(metrics_read_last_success(path, &t), -EINVAL);
        write_file(path, "podreaper_last_success_timestamp_seconds 99999999999999999\n");
        assert_int_equal(metrics_read_last_success(path, &t), -EINVAL);
        assert_int_equal(t, 42); /* written only on success */
}

/* ---- tests: refusal reasons, each produced by the planner ---------------------------------------- */

static Options plan_options(void) {
        return (Options){
                .command = COMMAND_RUN,
                .root_dir = (char *) "/var/lib/kubelet",
                .pod_logs_dir = (char *) "/var/log/pods",
                .kubepods_cgroup = (char *) "kubepods",
                .only = KIND_ALL,
                .orphan_grace = 10 * USEC_PER_MINUTE,
                .require_kubelet = true,
                .max_orphan_fraction = 0.5,
        };
}

static Snapshot plan_snapshot(CgfsPod *cgroups, size_t n_cgroups, PodDir *dirs, size_t n_dirs) {
        return (Snapshot){
                .now = NOW,
                .cgroups = {.ok = true},
                .cri = {.ok = true},
                .kubelet = {.ok = true},
                .kubelet_started = NOW - USEC_PER_HOUR,
                .disk = {.ok = true},
                .pod_cgroups = {.items = cgroups, .n = n_cgroups, .driver = CGFS_DRIVER_CGROUPFS},
                .pod_dirs = dirs,
                .n_pod_dirs = n_dirs,
        };
}

/* Plans the node, and every refusal must be `expected`, at least one, also in the metrics file. */
static void
refusal_case(const Snapshot *s, const Options *o, const char *const *seen, const char *expected) {
        _cleanup_(plan_done) Plan p = {};
        _cleanup_(state_done) State saved = {};
        _cleanup_(exposition_done) Exposition e = {};
        PassMetrics m = {.finished = NOW, .snapshot = s, .plan = &p};
        size_t n = 0;

        for (; seen && *seen; seen++)
                assert_true(state_orphan_see(&saved, *seen, OLD) >= 0);
        assert_int_equal(plan_build(s, o, &saved, &p), 0);

        for (size_t i = 0; i < p.n_actions; i++) {
                const char *reason = metrics_refusal_reason(&p.actions[i]);

                if (p.actions[i].kind != ACTION_SKIP_POD) {
                        assert_null(reason);
                        continue;
                }
                if (!reason || strcmp(reason, expected) != 0)
                        fail_msg(
                                "refusal '%s' classified as %s, expected %s",
                                p.actions[i].reason,
                                reason ?: "(null)",
                                expected);
                n++;
        }
        if (n == 0)
                fail_msg("the planner refused nothing: no %s refusal to classify", expected);

        write_and_parse(&m, 0, &e, NULL);
        assert_true(value1(&e, "podreaper_refusals", "reason", expected) == (double) n);
        assert_true(sum_samples(&e, "podreaper_refusals") == (double) n);
}

static void test_refusal_mounted(void **state) {
        CgfsPod cgroups[] = {{.uid = UID_A, .qos = CGFS_QOS_BURSTABLE, .changed = OLD}};
        PodDir dirs[] = {
                {.uid = (char *) UID_A,
                 .changed = OLD,
                 .n_mounts = 2,
                 .first_mount = (char *) PODS UID_A "/volumes/x"}};
        Snapshot s = plan_snapshot(cgroups, ELEMENTSOF(cgroups), dirs, ELEMENTSOF(dirs));
        Options o = plan_options();

        (void) state;
        refusal_case(&s, &o, (const char *const[]){UID_A, NULL}, "mounted");
}

static void test_refusal_grace(void **state) {
        PodDir dirs[] = {{.uid = (char *) UID_A, .changed = NOW - USEC_PER_MINUTE}};
        Snapshot s = plan_snapshot(NULL, 0, dirs, ELEMENTSOF(dirs));
        Options o = plan_options();

        (void) state;
        refusal_case(&s, &o, NULL, "grace");
}

static void test_refusal_breaker(void **state) {
        CgfsPod cgroups[] = {
                {.uid = UID_A, .qos = CGFS_QOS_BURSTABLE, .changed = OLD, .populated = true},
                {.uid = UID_B, .qos = CGFS_QOS_BURSTABLE, .changed = OLD, .populated = true},
        };
        Snapshot s = plan_snapshot(cgroups, ELEMENTSOF(cgroups), NULL, 0);
        Options o = plan_options();

        (void) state;
        refusal_case(&s, &o, (const char *const[]){UID_A, UID_B, NULL}, "breaker");
}

static void test_refusal_max_deletions(void **state) {
        PodDir dirs[] = {{.uid = (char *) UID_A, .changed = OLD}, {.uid = (char *) UID_B, .changed = OLD}};
        Snapshot s = plan_snapshot(NULL, 0, dirs, ELEMENTSOF(dirs));
        Options o = plan_options();

        (void) state;
        o.max_deletions = 1;
        refusal_case(&s, &o, (const char *const[]){UID_A, UID_B, NULL}, "max-deletions");
}

static void test_refusal_live(void **state) {
        PodDir dirs[] = {{.uid = (char *) UID_A, .changed = OLD}};
        char *cri[] = {(char *) UID_A};
        Snapshot s = plan_snapshot(NULL, 0, dirs, ELEMENTSOF(dirs));
        Options o = plan_options();

        (void) state;
        s.cri_uids = cri;
        s.n_cri_uids = ELEMENTSOF(cri);
        o.command = COMMAND_REAP_POD;
        o.reap_pod_uid = (char *) UID_A;
        refusal_case(&s, &o, NULL, "live");
}

static void test_refusal_processes(void **state) {
        CgfsPod cgroups[] = {{.uid = UID_A, .qos = CGFS_QOS_BURSTABLE, .changed = OLD, .populated = true}};
        PodDir dirs[] = {{.uid = (char *) UID_A, .changed = OLD}};
        Snapshot s = plan_snapshot(cgroups, ELEMENTSOF(cgroups), dirs, ELEMENTSOF(dirs));
        Options o = plan_options();

        (void) state;
        o.only = KIND_POD_DIRS;
        refusal_case(&s, &o, (const char *const[]){UID_A, NULL}, "processes");
}

static void test_refusal_not_a_pod(void **state) {
        PodDir dirs[] = {{.uid = (char *) "lost+found", .changed = OLD}};
        Snapshot s = plan_snapshot(NULL, 0, dirs, ELEMENTSOF(dirs));
        Options o = plan_options();
        LogDir logs[] = {
                {.name = (char *) "not-a-log-dir", .uid = (char *) "not-a-log-dir", .changed = OLD}};

        (void) state;
        s.log_dirs = logs;
        s.n_log_dirs = ELEMENTSOF(logs);
        refusal_case(&s, &o, NULL, "not-a-pod");
}

static void test_refusal_other(void **state) {
        Snapshot s = plan_snapshot(NULL, 0, NULL, 0);
        Options o = plan_options();

        (void) state;
        o.command = COMMAND_REAP_POD;
        o.reap_pod_uid = (char *) UID_D; /* nothing of it on the node */
        refusal_case(&s, &o, NULL, "other");
}

static void test_refusal_classifier_edges(void **state) {
        Action a = act(ACTION_SKIP_POD, UID_A, PODS UID_A, "", RESULT_PLANNED, NULL);

        (void) state;
        assert_null(metrics_refusal_reason(NULL));
        a.kind = ACTION_REMOVE_POD_DIR;
        a.refusal = REFUSAL_MOUNTED;
        assert_null(metrics_refusal_reason(&a));
        a.kind = ACTION_SKIP_POD;
        assert_string_equal(metrics_refusal_reason(&a), "mounted");
        /* The verdict, not the words: a reason's text does not change it. */
        a.reason = (char *) "3 of 4 pod cgroups with processes look orphaned (more than 50%): ...";
        assert_string_equal(metrics_refusal_reason(&a), "mounted");
        /* A refusal built without one, or with a value out of range, is "other". */
        a.refusal = REFUSAL_NONE;
        assert_string_equal(metrics_refusal_reason(&a), "other");
        a.refusal = _REFUSAL_MAX;
        assert_string_equal(metrics_refusal_reason(&a), "other");
}

static int group_setup(void **state) {
        (void) state;
        have_prometheus_client = access(PYTHON, X_OK) == 0 &&
                                 system(PYTHON " -c 'import prometheus_client.parser' 2>/dev/null") == 0;
        if (!have_prometheus_client)
                fprintf(stderr,
                        "# prometheus_client not importable by " PYTHON
                        " (Debian python3-prometheus-client): only the strict parser checks the files\n");
        return 0;
}

#define tmp_test(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                tmp_test(test_values),
                tmp_test(test_success_blocked_breaker),
                tmp_test(test_no_snapshot_no_plan),
                tmp_test(test_deleted_rule_off),
                tmp_test(test_image_fs_unknown_values),
                tmp_test(test_against_json_report),
                tmp_test(test_golden),
                tmp_test(test_hostile_label_value),
                cmocka_unit_test(test_parser_refuses),
                tmp_test(test_replaces_atomically),
                tmp_test(test_relative_path),
                tmp_test(test_unwritable_dir),
                tmp_test(test_errors_leave_nothing),
                tmp_test(test_read_last_success),
                tmp_test(test_refusal_mounted),
                tmp_test(test_refusal_grace),
                tmp_test(test_refusal_breaker),
                tmp_test(test_refusal_max_deletions),
                tmp_test(test_refusal_live),
                tmp_test(test_refusal_processes),
                tmp_test(test_refusal_not_a_pod),
                tmp_test(test_refusal_other),
                cmocka_unit_test(test_refusal_classifier_edges),
        };

        return cmocka_run_group_tests(tests, group_setup, NULL);
}
