/* SPDX-License-Identifier: MIT */
/* Unit tests for decoding CRI responses into the client's structs. The messages are encoded here
 * by hand with the field numbers of kubernetes/cri-api (runtime/v1) — an independent check of
 * cri/api.proto's numbering — including fields our subset leaves out, which must be skipped. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cri/cri-internal.h"
#include "util/macro.h"

/* ---- a tiny protobuf encoder -------------------------------------------------------------------- */

typedef struct Buf {
        uint8_t data[4096];
        size_t len;
} Buf;

static void put_byte(Buf *b, uint8_t v) {
        assert_true(b->len < sizeof(b->data));
        b->data[b->len++] = v;
}

static void put_varint(Buf *b, uint64_t v) {
        do {
                put_byte(b, (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
                v >>= 7;
        } while (v);
}

static void put_uint(Buf *b, unsigned field, uint64_t v) {
        put_varint(b, (uint64_t) field << 3 | 0);
        put_varint(b, v);
}

static void put_bytes(Buf *b, unsigned field, const void *data, size_t len) {
        put_varint(b, (uint64_t) field << 3 | 2);
        put_varint(b, len);
        assert_true(b->len + len <= sizeof(b->data));
        memcpy(b->data + b->len, data, len);
        b->len += len;
}

static void put_string(Buf *b, unsigned field, const char *s) {
        put_bytes(b, field, s, strlen(s));
}

static void put_message(Buf *b, unsigned field, const Buf *m) {
        put_bytes(b, field, m->data, m->len);
}

static void put_map_entry(Buf *b, unsigned field, const char *key, const char *value) {
        Buf e = {};

        put_string(&e, 1, key);
        put_string(&e, 2, value);
        put_message(b, field, &e);
}

/* runtime.v1.Container */
static void
encode_container(Buf *out, const char *id, const char *uid, const char *name, int state, int64_t created) {
        Buf c = {}, md = {}, image = {};

        put_string(&c, 1, id);
        put_string(
                &c,
                2,
                "sandbox-of-"
                "x");
        put_string(&md, 1, name);
        put_uint(&md, 2, 3); /* attempt */
        put_message(&c, 3, &md);
        put_string(&image, 1, "docker.io/library/busybox:1.35");
        put_message(&c, 4, &image);
        put_string(&c, 5, "sha256:ref");
        if (state != 0)
                put_uint(&c, 6, (uint64_t) state);
        put_uint(&c, 7, (uint64_t) created);
        put_map_entry(&c, 8, "io.kubernetes.pod.uid", uid);
        put_map_entry(&c, 8, "io.kubernetes.container.name", name);
        put_map_entry(&c, 9, "annotation", "value");
        put_string(&c, 10, "sha256:image-id");
        put_string(&c, 99, "a field from a newer CRI"); /* unknown: skipped */
        put_message(out, 1, &c);
}

/* runtime.v1.PodSandbox */
static void encode_sandbox(Buf *out, const char *id, const char *uid, int state, bool with_metadata) {
        Buf s = {}, md = {};

        put_string(&s, 1, id);
        if (with_metadata) {
                put_string(&md, 1, "pod-name");
                put_string(&md, 2, uid);
                put_string(&md, 3, "pod-namespace");
                put_uint(&md, 4, 2);
                put_message(&s, 2, &md);
        }
        if (state != 0)
                put_uint(&s, 3, (uint64_t) state);
        put_uint(&s, 4, 1700000000000000000ULL);
        put_map_entry(&s, 5, "io.kubernetes.pod.uid", uid);
        put_map_entry(&s, 6, "kubernetes.io/config.source", "api");
        put_string(&s, 7, "runc");
        put_uint(&s, 42, 7); /* unknown varint: skipped */
        put_message(out, 1, &s);
}

/* ---- tests -------------------------------------------------------------------------------------- */

static void test_decode_containers(void **state) {
        CriContainerList l = {};
        Buf b = {};

        (void) state;
        encode_container(&b, "c1", "uid-1", "app", CRI_CONTAINER_RUNNING, 1000);
        encode_container(&b, "c2", "uid-2", "sidecar", CRI_CONTAINER_CREATED, 2000);
        encode_container(&b, "c3", "uid-2", "init", CRI_CONTAINER_UNKNOWN, 3000);

        assert_int_equal(cri_decode_container_list(b.data, b.len, &l), 0);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.items[0].id, "c1");
        assert_string_equal(l.items[0].pod_sandbox_id, "sandbox-of-x");
        assert_string_equal(l.items[0].name, "app");
        assert_int_equal(l.items[0].attempt, 3);
        assert_string_equal(l.items[0].image, "docker.io/library/busybox:1.35");
        assert_string_equal(l.items[0].image_ref, "sha256:ref");
        assert_string_equal(l.items[0].image_id, "sha256:image-id");
        assert_int_equal(l.items[0].state, CRI_CONTAINER_RUNNING);
        assert_int_equal(l.items[0].created_at, 1000);
        assert_int_equal(l.items[0].labels.n, 2);
        assert_string_equal(cri_map_get(&l.items[0].labels, "io.kubernetes.pod.uid"), "uid-1");
        assert_string_equal(cri_map_get(&l.items[0].labels, "io.kubernetes.container.name"), "app");
        assert_null(cri_map_get(&l.items[0].labels, "missing"));
        assert_string_equal(cri_map_get(&l.items[0].annotations, "annotation"), "value");
        /* proto3: a state of 0 (CONTAINER_CREATED) is not on the wire */
        assert_int_equal(l.items[1].state, CRI_CONTAINER_CREATED);
        assert_int_equal(l.items[2].state, CRI_CONTAINER_UNKNOWN);
        assert_string_equal(cri_map_get(&l.items[2].labels, "io.kubernetes.pod.uid"), "uid-2");
        cri_container_list_done(&l);
        assert_null(l.items);
        assert_int_equal(l.n, 0);
        cri_container_list_done(&l); /* twice is fine */
}

static void test_decode_empty_lists(void **state) {
        CriContainerList cl = {};
        CriPodSandboxList sl = {};

        (void) state;
        assert_int_equal(cri_decode_container_list(NULL, 0, &cl), 0);
        assert_int_equal(cl.n, 0);
        assert_null(cl.items);
        assert_non_null(cl._message);
        cri_container_list_done(&cl);

        assert_int_equal(cri_decode_pod_sandbox_list((const uint8_t *) "", 0, &sl), 0);
        assert_int_equal(sl.n, 0);
        cri_pod_sandbox_list_done(&sl);
}

static void test_decode_sandboxes(void **state) {
        CriPodSandboxList l = {};
        Buf b = {};

        (void) state;
        encode_sandbox(&b, "s1", "uid-1", CRI_SANDBOX_READY, true);
        encode_sandbox(&b, "s2", "uid-2", CRI_SANDBOX_NOTREADY, false);
        encode_sandbox(&b, "s3", "uid-3", 7, true); /* a state from the future passes through */

        assert_int_equal(cri_decode_pod_sandbox_list(b.data, b.len, &l), 0);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.items[0].id, "s1");
        assert_string_equal(l.items[0].pod_name, "pod-name");
        assert_string_equal(l.items[0].pod_namespace, "pod-namespace");
        assert_string_equal(l.items[0].pod_uid, "uid-1");
        assert_int_equal(l.items[0].attempt, 2);
        assert_int_equal(l.items[0].state, CRI_SANDBOX_READY);
        assert_int_equal(l.items[0].created_at, 1700000000000000000LL);
        assert_string_equal(l.items[0].runtime_handler, "runc");
        assert_string_equal(cri_map_get(&l.items[0].labels, "io.kubernetes.pod.uid"), "uid-1");
        assert_string_equal(cri_map_get(&l.items[0].annotations, "kubernetes.io/config.source"), "api");
        /* No metadata: empty strings, never NULL. */
        assert_string_equal(l.items[1].pod_uid, "");
        assert_string_equal(l.items[1].pod_name, "");
        assert_int_equal(l.items[1].state, CRI_SANDBOX_NOTREADY);
        assert_int_equal(l.items[2].state, 7);
        assert_null(cri_pod_sandbox_state_to_string(l.items[2].state));
        cri_pod_sandbox_list_done(&l);
}

static void test_decode_garbage(void **state) {
        static const struct {
                const char *what;
                const char *data;
                size_t len;
        } cases[] = {
                {"truncated varint", "\x08\xff", 2},
                {"length beyond the end",
                 "\x0a\x05"
                 "ab",
                 4},
                {"wire type 7", "\x0f", 1},
                {"field number 0", "\x02\x00", 2},
                {"text", "<html>oops</html>", 17},
                {"nested length beyond its parent", "\x0a\x02\x0a\x05", 4},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CriContainerList cl = {.n = 12345};
                CriPodSandboxList sl = {.n = 12345};

                if (cri_decode_container_list((const uint8_t *) cases[i].data, cases[i].len, &cl) !=
                    -EBADMSG)
                        fail_msg("containers from %s decoded", cases[i].what);
                if (cri_decode_pod_sandbox_list((const uint8_t *) cases[i].data, cases[i].len, &sl) !=
                    -EBADMSG)
                        fail_msg("sandboxes from %s decoded", cases[i].what);
                /* not written */
                assert_int_equal(cl.n, 12345);
                assert_int_equal(sl.n, 12345);
        }
}

static void test_decode_wrong_type_for_field(void **state) {
        CriContainerList l = {};
        Buf b = {};

        (void) state;
        /* field 1 (containers) as a varint instead of a message */
        put_uint(&b, 1, 5);
        assert_int_equal(cri_decode_container_list(b.data, b.len, &l), -EBADMSG);
}

static void test_decode_through_frames(void **state) {
        _cleanup_free_ uint8_t *framed = NULL;
        CriFrameReader r = {.max_size = 1 << 20};
        CriContainerList l = {};
        const uint8_t *data;
        size_t size;
        Buf b = {};

        (void) state;
        encode_container(&b, "framed", "uid-f", "app", CRI_CONTAINER_EXITED, 5);
        assert_int_equal(cri_frame_encode(b.data, b.len, &framed, &size), 0);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(cri_frame_reader_feed(&r, framed + i, 1), 0);
        assert_int_equal(cri_frame_reader_finish(&r, &data, &size), 0);
        assert_int_equal(cri_decode_container_list(data, size, &l), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0].id, "framed");
        assert_int_equal(l.items[0].state, CRI_CONTAINER_EXITED);
        cri_container_list_done(&l);
        cri_frame_reader_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decode_containers),
                cmocka_unit_test(test_decode_empty_lists),
                cmocka_unit_test(test_decode_sandboxes),
                cmocka_unit_test(test_decode_garbage),
                cmocka_unit_test(test_decode_wrong_type_for_field),
                cmocka_unit_test(test_decode_through_frames),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
