/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/parse.h"

/* What podreaper remembers between passes: when it first saw each pod uid as an orphan (the
 * grace), when it first saw each pod as deleted (runtime GC, DESIGN §2), and when it first detected
 * and last saw in use each image (image GC). <state-dir>/state,
 * a small text file written to a temp file, fsync'd and renamed, so a run killed at any point
 * leaves either the old or the new file. */

typedef struct OrphanSeen {
        char *uid; /* first: the records are searched by it (state.c) */
        usec_t first_seen;
        bool reaping; /* a pass began removing its leftovers: the next one finishes the job */
} OrphanSeen;

/* The image GC's records (the kubelet keeps them in memory and forgets them on restart). */
typedef struct ImageSeen {
        char *id;              /* the runtime's image id, "sha256:..."; first, as OrphanSeen's uid */
        usec_t first_detected; /* never 0 */
        usec_t last_used;      /* 0: never seen in use */
        usec_t unused_since;   /* the first pass that saw it unused after its last use (or first
                                * detected it unused); 0: in use at the last pass. A time podreaper
                                * did not run is not counted as unused. */
} ImageSeen;

/* A pod the runtime still has sandboxes of, with no ready sandbox, no live container, no pod dir
 * and not active in the kubelet: deleted once it has been so for the grace (plan-gc.c). */
typedef struct DeletedSeen {
        char *uid; /* first, as OrphanSeen's */
        usec_t first_seen;
} DeletedSeen;

typedef struct State {
        OrphanSeen *orphans; /* sorted by uid */
        size_t n_orphans;
        DeletedSeen *deleted; /* sorted by uid */
        size_t n_deleted;
        ImageSeen *images; /* sorted by id */
        size_t n_images;
} State;

/* Loads <dir>/state. A missing file is an empty state (0). An unreadable or corrupt one is an
 * empty state too, and the reason is returned in *ret_problem (one line, caller frees) so that the
 * caller reports it: never fatal. -errno only for out of memory. */
int state_load(const char *dir, State *ret, char **ret_problem);
int state_save(const char *dir, const State *s);
void state_done(State *s);

/* First-seen time of uid, 0 if never seen. */
usec_t state_orphan_first_seen(const State *s, const char *uid);
/* Records uid as seen at `when` unless it is already there (then keeps the older time). */
int state_orphan_see(State *s, const char *uid, usec_t when);
/* A pass is about to remove uid's leftovers. Its own partial removal changes the pod dir's times,
 * so the change-time half of the grace must not hold back the pass that finishes a killed one. */
int state_orphan_set_reaping(State *s, const char *uid);
bool state_orphan_is_reaping(const State *s, const char *uid);
/* Drops every orphan entry not in keep (sorted uids): the pod came back or is gone for good. */
void state_orphans_retain(State *s, char *const *keep, size_t n_keep);

/* Since when uid has been seen deleted, 0 if not. */
usec_t state_deleted_first_seen(const State *s, const char *uid);
/* Records uid as seen deleted at `when` unless it is already there (then keeps the older time).
 * -EINVAL for a uid or time the file cannot hold, else 1 when added, 0 when there already. */
int state_deleted_see(State *s, const char *uid, usec_t when);

/* The record of image id, NULL if none. */
const ImageSeen *state_image_find(const State *s, const char *id);
/* Adds or replaces the record of id. -EINVAL for an id the file cannot hold (empty, longer than
 * 512 bytes, a space or a control character), first_detected 0, or a time of USEC_INFINITY. */
int state_image_set(State *s, const char *id, usec_t first_detected, usec_t last_used, usec_t unused_since);

/* One run at a time: flock(LOCK_EX|LOCK_NB) on <dir>/lock, which holds the holder's pid.
 * Returns the fd (>= 0), or -EWOULDBLOCK with *ret_holder_pid set (0 if unknown), or -errno. */
int state_lock(const char *dir, int *ret_holder_pid);
