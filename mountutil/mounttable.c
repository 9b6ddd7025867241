/* SPDX-License-Identifier: MIT */
/* The mount-table snapshot: one libmount parse of mountinfo, copied into a flat array sorted by
 * target, so that "is anything mounted at or beneath this pod dir?" is two binary searches. */

#include <assert.h>
#include <errno.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mountutil/mountutil.h"
#include "util/macro.h"

typedef struct MountEntry {
        MuMount mount;  /* first, so that a handed-out "const MuMount *" is also an entry */
        unsigned depth; /* path components of the target: "/" is 0, "/a/b" is 2 */
        size_t seq;     /* line in the file: the later of two mounts on one target is on top */
} MountEntry;

struct MuMountTable {
        MountEntry *entries; /* sorted by target (strcmp), then seq */
        size_t n_entries;
        char *strings; /* every string of every entry, in one block */
};

typedef struct Range {
        size_t begin, end;
} Range;

static void libmnt_table_unrefp(struct libmnt_table **tb) {
        mnt_unref_table(*tb);
}

static void libmnt_iter_freep(struct libmnt_iter **iter) {
        mnt_free_iter(*iter);
}

/* A lexical lookup cannot resolve "." or "..": "/pods/x/.." names the pods dir itself but would
 * match no mount below it, so such a path is refused rather than answered with "nothing". */
static bool path_is_absolute_and_plain(const char *p) {
        if (p[0] != '/')
                return false;

        for (const char *c = p; *c;) {
                size_t l;

                c += strspn(c, "/");
                l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += l;
        }
        return true;
}

/* In place: collapses repeated slashes, drops a trailing one ("/" stays). Returns the length. */
static size_t path_normalize(char *p) {
        size_t n;

        /* The kernel's targets and most queries are clean: keep that case one fast scan. */
        if (!strstr(p, "//")) {
                n = strlen(p);
                if (n > 1 && p[n - 1] == '/')
                        p[--n] = '\0';
                return n;
        }

        n = 0;
        for (const char *s = p; *s; s++) {
                if (*s == '/' && n > 0 && p[n - 1] == '/')
                        continue;
                p[n++] = *s;
        }
        if (n > 1 && p[n - 1] == '/')
                n--;
        p[n] = '\0';
        return n;
}

static unsigned path_depth(const char *normalized) {
        unsigned depth = 0;

        if (normalized[1] == '\0')
                return 0;
        for (const char *c = normalized; *c; c++)
                depth += *c == '/';
        return depth;
}

static const char *strempty(const char *s) {
        return s ?: "";
}

/* Copies s to *p and moves *p past its NUL. */
static char *strings_append(char **p, const char *s) {
        char *start = *p;

        *p = stpcpy(*p, s) + 1;
        return start;
}

/* libmount skips a line it cannot parse without a word, and even with this callback it ignores a
 * fatal error on the last line (a truncated file). A snapshot that silently lost a mount would
 * let a mounted pod dir look empty, so any bad line fails the whole load. */
static int on_parse_error(struct libmnt_table *tb, const char *filename _unused_, int line _unused_) {
        bool *bad_line = mnt_table_get_userdata(tb);

        if (bad_line)
                *bad_line = true;
        return -EINVAL;
}

static int entry_compare_target(const void *a, const void *b) {
        const MountEntry *x = a, *y = b;
        int c;

        c = strcmp(x->mount.target, y->mount.target);
        if (c != 0)
                return c;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Deepest first, so a caller unmounting in this order never finds a mount still busy with one on
 * top of it; of two mounts on one target, the later one (on top) first. */
static int mount_compare_depth(const void *a, const void *b) {
        const MountEntry *x = (const MountEntry *) *(const MuMount *const *) a;
        const MountEntry *y = (const MountEntry *) *(const MuMount *const *) b;
        int c;

        if (x->depth != y->depth)
                return x->depth > y->depth ? -1 : 1;
        c = strcmp(x->mount.target, y->mount.target);
        if (c != 0)
                return c;
        return x->seq > y->seq ? -1 : x->seq < y->seq;
}

int mu_table_load(const char *path, MuMountTable **ret) {
        _cleanup_(libmnt_table_unrefp) struct libmnt_table *tb = NULL;
        _cleanup_(libmnt_iter_freep) struct libmnt_iter *iter = NULL;
        _cleanup_(mu_table_freep) MuMountTable *t = NULL;
        struct libmnt_fs *fs;
        bool bad_line = false;
        size_t n_bytes = 0, i = 0;
        char *p;
        int r, n;

        assert(ret);

        tb = mnt_new_table();
        iter = mnt_new_iter(MNT_ITER_FORWARD);
        if (!tb || !iter)
                return -ENOMEM;

        r = mnt_table_set_userdata(tb, &bad_line);
        if (r < 0)
                return r;
        r = mnt_table_set_parser_errcb(tb, on_parse_error);
        if (r < 0)
                return r;

        r = mnt_table_parse_file(tb, path ?: "/proc/self/mountinfo");
        if (r < 0)
                return r;
        if (bad_line)
                return -EINVAL;

        /* Every mount namespace has a root; an empty table means we read the wrong thing, and it
         * would say "nothing mounted" about every path. */
        n = mnt_table_get_nents(tb);
        if (n <= 0)
                return -ENODATA;

        while ((r = mnt_table_next_fs(tb, iter, &fs)) == 0) {
                const char *target = mnt_fs_get_target(fs), *root = mnt_fs_get_root(fs);

                /* libmount guesses the format from the first line: an fstab, or garbage first,
                 * parses as fstab entries, which have no root. The kernel prints only absolute,
                 * plain targets. */
                if (!mnt_fs_is_kernel(fs) || !root || !target || !path_is_absolute_and_plain(target))
                        return -EINVAL;

                n_bytes += strlen(target) + 1 + strlen(root) + 1 + strlen(strempty(mnt_fs_get_source(fs))) +
                           1 + strlen(strempty(mnt_fs_get_fstype(fs))) + 1;
        }
        if (r < 0)
                return r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->entries = calloc((size_t) n, sizeof(*t->entries));
        t->strings = malloc(n_bytes);
        if (!t->entries || !t->strings)
                return -ENOMEM;

        p = t->strings;
        mnt_reset_iter(iter, MNT_ITER_FORWARD);
        while (i < (size_t) n && mnt_table_next_fs(tb, iter, &fs) == 0) {
                MountEntry *e = &t->entries[i];
                char *target;

                target = strings_append(&p, mnt_fs_get_target(fs));
                path_normalize(target);
                e->mount.target = target;
                e->mount.source = strings_append(&p, strempty(mnt_fs_get_source(fs)));
                e->mount.fstype = strings_append(&p, strempty(mnt_fs_get_fstype(fs)));
                e->mount.root = strings_append(&p, mnt_fs_get_root(fs));
                e->mount.id = mnt_fs_get_id(fs);
                e->mount.parent_id = mnt_fs_get_parent_id(fs);
                e->depth = path_depth(target);
                e->seq = i++;
        }
        if (i != (size_t) n)
                return -EIO; /* the table changed under us; cannot happen with a private table */
        t->n_entries = i;

        qsort(t->entries, t->n_entries, sizeof(*t->entries), entry_compare_target);

        *ret = TAKE_PTR(t);
        return 0;
}

MuMountTable *mu_table_free(MuMountTable *t) {
        if (!t)
                return NULL;
        free(t->entries);
        free(t->strings);
        free(t);
        return NULL;
}

size_t mu_table_size(const MuMountTable *t) {
        return t ? t->n_entries : 0;
}

/* strcmp(target, key[0..len)), key not NUL-terminated at len. */
static int compare_exact(const char *target, const char *key, size_t len) {
        int c = strncmp(target, key, len);

        if (c != 0)
                return c;
        return target[len] != '\0';
}

/* Compares the first len+1 bytes of target with key[0..len) + "/": 0 means target lies beneath. */
static int compare_beneath(const char *target, const char *key, size_t len) {
        int c = strncmp(target, key, len);

        if (c != 0)
                return c;
        return (int) (unsigned char) target[len] - '/';
}

/* Index of the first entry that compares >= 0 (upper: > 0) with the key. */
static size_t table_bound(
        const MuMountTable *t,
        const char *key,
        size_t len,
        int (*compare)(const char *, const char *, size_t),
        bool upper) {
        size_t lo = 0, hi = t->n_entries;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = compare(t->entries[mid].mount.target, key, len);

                if (upper ? c <= 0 : c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* The mounts at `path` and those beneath it are two ranges of the sorted table, not one: "/a/b-x"
 * and "/a/b.x" sort between "/a/b" and "/a/b/..." and belong to neither. */
static int table_find(const MuMountTable *t, const char *path, Range *ret_exact, Range *ret_beneath) {
        _cleanup_free_ char *copy = NULL;
        const char *key = path;
        Range exact = {0, 0}, beneath = {0, 0};
        size_t len;

        assert(t);
        assert(path);

        if (!path_is_absolute_and_plain(path))
                return -EINVAL;

        /* Callers pass clean paths nearly always; copy only to collapse "//". */
        if (strstr(path, "//")) {
                copy = strdup(path);
                if (!copy)
                        return -ENOMEM;
                path_normalize(copy);
                key = copy;
        }
        len = strlen(key);
        if (len > 1 && key[len - 1] == '/')
                len--;

        if (len == 1) /* "/": every target is absolute, checked at load */
                beneath = (Range){0, t->n_entries};
        else {
                exact.begin = table_bound(t, key, len, compare_exact, false);
                exact.end = table_bound(t, key, len, compare_exact, true);
                beneath.begin = table_bound(t, key, len, compare_beneath, false);
                beneath.end = table_bound(t, key, len, compare_beneath, true);
        }

        *ret_exact = exact;
        *ret_beneath = beneath;
        return 0;
}

/* The array is one allocation owned by the caller, who frees it with free(); the MuMounts it
 * points to belong to the table and live until mu_table_free(). With no match *ret is NULL.
 * ret and ret_n may be NULL to only count. */
int mu_table_mounts_beneath(const MuMountTable *t, const char *path, const MuMount ***ret, size_t *ret_n) {
        _cleanup_free_ const MuMount **list = NULL;
        Range exact, beneath;
        size_t n, k = 0;
        int r;

        r = table_find(t, path, &exact, &beneath);
        if (r < 0)
                return r;

        n = (exact.end - exact.begin) + (beneath.end - beneath.begin);
        if (n > 0 && ret) {
                list = malloc(n * sizeof(*list));
                if (!list)
                        return -ENOMEM;
                for (size_t i = exact.begin; i < exact.end; i++)
                        list[k++] = &t->entries[i].mount;
                for (size_t i = beneath.begin; i < beneath.end; i++)
                        list[k++] = &t->entries[i].mount;
                qsort(list, n, sizeof(*list), mount_compare_depth);
        }

        if (ret)
                *ret = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return (int) n; /* n <= mnt_table_get_nents(), an int */
}

int mu_table_has_mounts_beneath(const MuMountTable *t, const char *path) {
        Range exact, beneath;
        int r;

        r = table_find(t, path, &exact, &beneath);
        if (r < 0)
                return r;
        return exact.end > exact.begin || beneath.end > beneath.begin;
}
