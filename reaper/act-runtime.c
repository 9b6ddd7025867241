/* SPDX-License-Identifier: MIT */
/* The actor's runtime GC half: the plan's container, sandbox, container log symlink and image
 * actions, in that order, as the kubelet's GC runs them. Each step first lists the runtime afresh
 * and drops the actions whose precondition no longer holds (a container started since the plan, a
 * sandbox ready again or with containers, an image in use again), then sends the rest as
 * concurrent CRI calls on the one connection (cri_batch_run). NOT_FOUND is success: already gone. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reaper/act-internal.h"
#include "reaper/gc.h"
#include "util/strutil.h"

/* What the runtime has right now. */
typedef struct Fresh {
        CriPodSandboxList sandboxes;
        CriContainerList containers;
        CriImageList images;
} Fresh;

static void fresh_done(Fresh *f) {
        cri_pod_sandbox_list_done(&f->sandboxes);
        cri_container_list_done(&f->containers);
        cri_image_list_done(&f->images);
        *f = (Fresh){};
}

/* Lists again (with_images: the images too). On failure *ret_error says which call and why. */
static int fresh_load(CriClient *cri, bool with_images, Fresh *f, char **ret_error) {
        CriStatus st = {};
        const char *call;
        int r;

        fresh_done(f);
        call = "ListPodSandbox";
        r = cri_list_pod_sandboxes(cri, NULL, &f->sandboxes, &st);
        if (r >= 0) {
                call = "ListContainers";
                r = cri_list_containers(cri, NULL, &f->containers, &st);
        }
        if (r >= 0 && with_images) {
                call = "ListImages";
                r = cri_list_images(cri, &f->images, &st);
        }
        if (r < 0 &&
            asprintf(ret_error, "runtime re-check failed: %s: %s", call, st.message ?: strerror(-r)) < 0)
                *ret_error = NULL;
        cri_status_done(&st);
        return r;
}

static const CriContainer *fresh_container(const Fresh *f, const char *id) {
        for (size_t i = 0; i < f->containers.n; i++)
                if (streq(f->containers.items[i].id, id))
                        return &f->containers.items[i];
        return NULL;
}

static const CriPodSandbox *fresh_sandbox(const Fresh *f, const char *id) {
        for (size_t i = 0; i < f->sandboxes.n; i++)
                if (streq(f->sandboxes.items[i].id, id))
                        return &f->sandboxes.items[i];
        return NULL;
}

static bool fresh_has_sandbox_of(const Fresh *f, const char *uid) {
        for (size_t i = 0; i < f->sandboxes.n; i++)
                if (streq(f->sandboxes.items[i].pod_uid, uid))
                        return true;
        return false;
}

/* A deleted pod's evidence, again (DESIGN §2): no sandbox that may be ready, no container that may
 * run, no pod dir — the kubelet may have come back and started it since the plan. NULL while it
 * holds, else why not. */
static const char *deleted_no_longer(const ActContext *c, const Fresh *f, const char *uid) {
        _cleanup_free_ char *pods = NULL, *dir = NULL;
        struct stat st;

        for (size_t i = 0; i < f->sandboxes.n; i++)
                if (streq(f->sandboxes.items[i].pod_uid ?: "", uid) &&
                    f->sandboxes.items[i].state != CRI_SANDBOX_NOTREADY)
                        return "its pod has a ready sandbox again";
        for (size_t i = 0; i < f->containers.n; i++) {
                const CriContainer *ct = &f->containers.items[i];
                const CriPodSandbox *sb;

                if (ct->state == CRI_CONTAINER_EXITED)
                        continue;
                sb = fresh_sandbox(f, ct->pod_sandbox_id ?: "");
                if (streq(cri_map_get(&ct->labels, POD_UID_LABEL) ?: "", uid) ||
                    (sb && streq(sb->pod_uid ?: "", uid)))
                        return "its pod has a running, created or unknown container again";
        }
        /* The kubelet makes the pod dir before anything else of a pod it starts. */
        if (path_join(c->options->root_dir, "pods", &pods) < 0 || path_join(pods, uid, &dir) < 0)
                return "out of memory";
        if (fstatat(AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return "its pod dir is there again";
        if (errno != ENOENT)
                return "cannot tell whether its pod dir is there again";
        return NULL;
}

static size_t fresh_containers_in(const Fresh *f, const char *sandbox_id) {
        size_t n = 0;

        for (size_t i = 0; i < f->containers.n; i++)
                n += streq(f->containers.items[i].pod_sandbox_id, sandbox_id);
        return n;
}

static bool stopping(const ActContext *c) {
        return c->stop && *c->stop;
}

static bool planned(const Action *a, ActionKind kind) {
        return a->kind == kind && a->result == RESULT_PLANNED;
}

/* The step's actions that still hold get a call each; `calls` has room for all of them. */
typedef struct Batch {
        CriBatchCall *calls;
        Action **actions;
        size_t n;
} Batch;

static void batch_done(Batch *b) {
        cri_batch_done(b->calls, b->n);
        free(b->calls);
        free(b->actions);
        *b = (Batch){};
}

static int batch_new(Batch *b, size_t max) {
        *b = (Batch){
                .calls = calloc(max + 1, sizeof(*b->calls)),
                .actions = calloc(max + 1, sizeof(*b->actions)),
        };
        return b->calls && b->actions ? 0 : -ENOMEM;
}

static void batch_add(Batch *b, CriBatchOp op, Action *a) {
        b->calls[b->n] = (CriBatchCall){.op = op, .id = a->target};
        b->actions[b->n++] = a;
}

/* Runs the calls; with finish, each action ends done (OK or NOT_FOUND) or failed. Returns the
 * failures. */
static size_t batch_run(const ActContext *c, Batch *b, bool finish) {
        size_t n_failed = 0;

        if (b->n == 0)
                return 0;
        (void) cri_batch_run(c->cri, b->calls, b->n);
        for (size_t i = 0; i < b->n; i++) {
                const CriBatchCall *call = &b->calls[i];
                bool ok = call->result >= 0 || call->result == -ENOENT;

                if (ok && finish)
                        action_finish(b->actions[i], RESULT_DONE, NULL);
                else if (!ok) {
                        action_finish(
                                b->actions[i],
                                RESULT_FAILED,
                                "%s",
                                call->status.message ?: strerror(-call->result));
                        n_failed++;
                }
        }
        return n_failed;
}

#define KIND(k) (1u << (k))

static size_t count_planned(const Plan *p, unsigned kinds) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_actions; i++)
                n += p->actions[i].result == RESULT_PLANNED && (kinds & KIND(p->actions[i].kind));
        return n;
}

/* Every planned action of the kinds ends with the same result and words; returns how many. */
static size_t finish_all(Plan *p, unsigned kinds, ActionResult result, const char *why) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].result == RESULT_PLANNED && (kinds & KIND(p->actions[i].kind))) {
                        action_finish(&p->actions[i], result, "%s", why);
                        n++;
                }
        return n;
}

/* The step cannot run: a failed re-check is a skip (nothing was touched); no memory, a failure. */
static size_t step_cannot_run(Plan *p, unsigned kinds, const char *recheck_error) {
        if (recheck_error) {
                (void) finish_all(p, kinds, RESULT_SKIPPED, recheck_error);
                return 0;
        }
        return finish_all(p, kinds, RESULT_FAILED, strerror(ENOMEM));
}

/* ---- containers ---------------------------------------------------------------------------------- */

/* A deleted pod's action goes ahead only while the pod still looks deleted; else it is skipped. */
static bool deleted_still(const ActContext *c, const Fresh *f, Action *a) {
        const char *why = deleted_no_longer(c, f, a->uid);

        if (why)
                action_finish(a, RESULT_SKIPPED, "%s", why);
        return !why;
}

static bool container_still_dead(const ActContext *c, const Fresh *f, Action *a) {
        const CriContainer *ct = fresh_container(f, a->target);

        if (!ct) {
                action_finish(a, RESULT_DONE, NULL); /* already gone */
                return false;
        }
        if (ct->state == CRI_CONTAINER_RUNNING) {
                action_finish(a, RESULT_SKIPPED, "running since the plan");
                return false;
        }
        if (a->pod_gone && fresh_has_sandbox_of(f, a->uid)) {
                action_finish(a, RESULT_SKIPPED, "its pod has a sandbox again");
                return false;
        }
        return !a->pod_deleted || deleted_still(c, f, a);
}

static size_t step_containers(const ActContext *c, Plan *p, Fresh *f) {
        const unsigned kinds = KIND(ACTION_STOP_CONTAINER) | KIND(ACTION_REMOVE_CONTAINER);
        _cleanup_(batch_done) Batch stops = {}, removes = {};
        _cleanup_free_ char *error = NULL;
        size_t n = count_planned(p, kinds), n_failed;

        if (n == 0)
                return 0;
        if (fresh_load(c->cri, false, f, &error) < 0)
                return step_cannot_run(p, kinds, error ?: "runtime re-check failed");
        if (batch_new(&stops, n) < 0 || batch_new(&removes, n) < 0)
                return step_cannot_run(p, kinds, NULL);

        for (size_t i = 0; i < p->n_actions; i++)
                if (planned(&p->actions[i], ACTION_STOP_CONTAINER) &&
                    container_still_dead(c, f, &p->actions[i]))
                        batch_add(&stops, CRI_BATCH_STOP_CONTAINER, &p->actions[i]); /* timeout 0 */
        n_failed = batch_run(c, &stops, true);

        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];
                bool stop_failed = false;

                if (!planned(a, ACTION_REMOVE_CONTAINER))
                        continue;
                /* removeOldestN: a container that could not be stopped is not removed. */
                for (size_t j = 0; j < stops.n; j++)
                        stop_failed = stop_failed || (streq(stops.actions[j]->target, a->target) &&
                                                      stops.actions[j]->result == RESULT_FAILED);
                if (stop_failed)
                        action_finish(a, RESULT_SKIPPED, "not stopped, so not removed");
                else if (container_still_dead(c, f, a))
                        batch_add(&removes, CRI_BATCH_REMOVE_CONTAINER, a);
        }
        return n_failed + batch_run(c, &removes, true);
}

/* ---- sandboxes ----------------------------------------------------------------------------------- */

static size_t step_sandboxes(const ActContext *c, Plan *p, Fresh *f) {
        const unsigned kinds = KIND(ACTION_REMOVE_SANDBOX);
        _cleanup_(batch_done) Batch stops = {}, removes = {};
        _cleanup_free_ char *error = NULL;
        size_t n = count_planned(p, kinds), n_failed;

        if (n == 0)
                return 0;
        if (fresh_load(c->cri, false, f, &error) < 0)
                return step_cannot_run(p, kinds, error ?: "runtime re-check failed");
        if (batch_new(&stops, n) < 0 || batch_new(&removes, n) < 0)
                return step_cannot_run(p, kinds, NULL);

        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];
                const CriPodSandbox *sb;
                size_t k;

                if (!planned(a, ACTION_REMOVE_SANDBOX))
                        continue;
                sb = fresh_sandbox(f, a->target);
                if (!sb)
                        action_finish(a, RESULT_DONE, NULL);
                else if (sb->state == CRI_SANDBOX_READY)
                        action_finish(a, RESULT_SKIPPED, "ready since the plan");
                else if ((k = fresh_containers_in(f, a->target)) > 0)
                        /* RemovePodSandbox would take them along. */
                        action_finish(
                                a, RESULT_SKIPPED, "still holds %zu container%s", k, k == 1 ? "" : "s");
                else if (!a->pod_deleted || deleted_still(c, f, a))
                        batch_add(&stops, CRI_BATCH_STOP_POD_SANDBOX, a);
        }
        /* As the kubelet's removeSandbox: stop first, in case nobody did. */
        n_failed = batch_run(c, &stops, false);
        for (size_t i = 0; i < stops.n; i++)
                if (stops.actions[i]->result == RESULT_PLANNED)
                        batch_add(&removes, CRI_BATCH_REMOVE_POD_SANDBOX, stops.actions[i]);
        return n_failed + batch_run(c, &removes, true);
}

/* ---- dead container log symlinks ----------------------------------------------------------------- */

/* The link's name, if the target is directly in --container-logs-dir. */
static const char *log_link_name(const Options *o, const Action *a) {
        const char *name = strrchr(a->target, '/');
        size_t l = strlen(o->container_logs_dir);

        while (l > 1 && o->container_logs_dir[l - 1] == '/')
                l--;
        if (!name || (size_t) (name - a->target) != l || strncmp(a->target, o->container_logs_dir, l) != 0)
                return NULL;
        return name + 1;
}

static size_t step_log_links(const ActContext *c, Plan *p, Fresh *f) {
        const unsigned kinds = KIND(ACTION_REMOVE_LOG_SYMLINK);
        _cleanup_free_ char *error = NULL, *dir_error = NULL;
        _cleanup_close_ int dfd = -EBADF;
        size_t n_failed = 0;

        if (count_planned(p, kinds) == 0)
                return 0;
        /* Afresh, not an earlier step's list: a container started since then keeps its link (its
         * log may be between the steps of a rotation). */
        if (fresh_load(c->cri, false, f, &error) < 0)
                return step_cannot_run(p, kinds, error ?: "runtime re-check failed");
        dfd = open(c->options->container_logs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 && errno != ENOENT) {
                /* Gone with its dir is done; a dir that cannot be opened is not. */
                if (asprintf(
                            &dir_error,
                            "cannot open %s: %s",
                            c->options->container_logs_dir,
                            strerror(errno)) < 0)
                        dir_error = NULL;
                return finish_all(p, kinds, RESULT_FAILED, dir_error ?: strerror(ENOMEM));
        }

        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];
                const char *name;
                struct stat st;

                if (!planned(a, ACTION_REMOVE_LOG_SYMLINK))
                        continue;
                name = log_link_name(c->options, a);
                if (!name || name[0] == '\0') {
                        action_finish(a, RESULT_FAILED, "not a link in --container-logs-dir");
                        n_failed++;
                } else if (dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        action_finish(a, RESULT_DONE, NULL); /* gone with its dir, or already */
                else if (!S_ISLNK(st.st_mode))
                        action_finish(a, RESULT_SKIPPED, "no longer a symlink");
                else if (fstatat(dfd, name, &st, 0) >= 0 || errno != ENOENT)
                        action_finish(a, RESULT_SKIPPED, "its target is there again");
                else if (!gc_log_symlink_removable(name, f->containers.items, f->containers.n))
                        action_finish(
                                a, RESULT_SKIPPED, "its container is running or created since the plan");
                else if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
                        action_finish(a, RESULT_FAILED, "%s", strerror(errno));
                        n_failed++;
                } else
                        action_finish(a, RESULT_DONE, NULL);
        }
        return n_failed;
}

/* ---- images -------------------------------------------------------------------------------------- */

static size_t step_images(const ActContext *c, Plan *p, Fresh *f) {
        const unsigned kinds = KIND(ACTION_REMOVE_IMAGE);
        _cleanup_(gc_image_refs_freep) GcImageRefs *refs = NULL;
        _cleanup_(batch_done) Batch removes = {};
        _cleanup_free_ char *error = NULL;
        size_t n = count_planned(p, kinds);

        if (n == 0)
                return 0;
        /* After the container removals: an image whose last user could not be removed stays. */
        if (fresh_load(c->cri, true, f, &error) < 0)
                return step_cannot_run(p, kinds, error ?: "runtime re-check failed");
        if (batch_new(&removes, n) < 0 || gc_image_refs_for_node(
                                                  f->containers.items,
                                                  f->containers.n,
                                                  NULL,
                                                  c->sandbox_image,
                                                  c->options->pod_infra_container_image,
                                                  &refs) < 0)
                return step_cannot_run(p, kinds, NULL);

        for (size_t i = 0; i < p->n_actions; i++) {
                Action *a = &p->actions[i];
                const CriImage *im = NULL;

                if (!planned(a, ACTION_REMOVE_IMAGE))
                        continue;
                for (size_t j = 0; j < f->images.n && !im; j++)
                        if (streq(f->images.items[j].id, a->target))
                                im = &f->images.items[j];
                if (!im)
                        action_finish(a, RESULT_DONE, NULL);
                else if (gc_image_refs_has(refs, im))
                        /* containerd 1.6 removes an image in use if asked: never ask. */
                        action_finish(a, RESULT_SKIPPED, "in use since the plan");
                else if (im->pinned)
                        action_finish(a, RESULT_SKIPPED, "pinned since the plan");
                else
                        batch_add(&removes, CRI_BATCH_REMOVE_IMAGE, a);
        }
        return batch_run(c, &removes, true);
}

size_t act_runtime_gc(const ActContext *c, Plan *p) {
        size_t (*const steps[])(const ActContext *, Plan *, Fresh *) = {
                step_containers,
                step_sandboxes,
                step_log_links,
                step_images,
        };
        _cleanup_(fresh_done) Fresh f = {};
        size_t n_failed = 0;

        if (!c->cri) {
                size_t n = 0;

                for (size_t i = 0; i < p->n_actions; i++) {
                        Action *a = &p->actions[i];

                        if (planned(a, ACTION_STOP_CONTAINER) || planned(a, ACTION_REMOVE_CONTAINER) ||
                            planned(a, ACTION_REMOVE_SANDBOX) || planned(a, ACTION_REMOVE_LOG_SYMLINK) ||
                            planned(a, ACTION_REMOVE_IMAGE)) {
                                action_finish(a, RESULT_FAILED, "not connected to the container runtime");
                                n++;
                        }
                }
                return n;
        }

        /* Between steps only, as between the pod-level actions. */
        for (size_t i = 0; i < ELEMENTSOF(steps) && !stopping(c); i++)
                n_failed += steps[i](c, p, &f);
        return n_failed;
}
