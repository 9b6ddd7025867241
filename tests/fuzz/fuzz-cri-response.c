/* SPDX-License-Identifier: MIT */
/* The CRI response path as the transport runs it: the bytes of a stream's DATA frames, in chunks
 * of any size, through the gRPC frame reassembly, then decoded into the client's structs, every
 * field of which is read back.
 *
 * Input: byte 0 picks the message (bit 0: ListPodSandboxResponse, else ListContainersResponse) and
 * the chunk size (bits 1-7, plus 1); the rest is the stream. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cri/cri-internal.h"

#define MAX_MESSAGE (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sink;

static void touch(const char *s) {
        if (!s) {
                fprintf(stderr, "a NULL string in a decoded struct\n");
                abort();
        }
        sink += strlen(s);
}

static void touch_map(const CriMap *m) {
        for (size_t i = 0; i < m->n; i++) {
                touch(m->items[i].key);
                touch(m->items[i].value);
                /* The first entry of a key is what a lookup finds. */
                if (!cri_map_get(m, m->items[i].key))
                        abort();
        }
}

/* The errors each step documents; anything else is a bug. */
static void check_error(const char *what, int r) {
        switch (r) {
        case 0:
        case -ENODATA:
        case -EMSGSIZE:
        case -EPROTONOSUPPORT:
        case -EBADMSG:
        case -ENOMEM:
                return;
        default:
                fprintf(stderr, "%s: unexpected error %d\n", what, r);
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CriFrameReader reader = {.max_size = MAX_MESSAGE};
        const uint8_t *message;
        size_t message_size, chunk;
        bool sandboxes;
        int r = 0;

        if (size < 1)
                return 0;
        sandboxes = data[0] & 1;
        chunk = (size_t) (data[0] >> 1) + 1;
        data++;
        size--;

        for (size_t off = 0; off < size && r >= 0; off += chunk)
                r = cri_frame_reader_feed(&reader, data + off, size - off < chunk ? size - off : chunk);
        check_error("feed", r);
        if (r == -ENODATA)
                abort(); /* only finish() says that */

        r = cri_frame_reader_finish(&reader, &message, &message_size);
        check_error("finish", r);
        if (r < 0) {
                cri_frame_reader_done(&reader);
                return 0;
        }
        if (message_size > MAX_MESSAGE || (message_size > 0) != (message != NULL)) {
                fprintf(stderr,
                        "finish: a message of %zu bytes at %p\n",
                        message_size,
                        (const void *) message);
                abort();
        }

        if (sandboxes) {
                CriPodSandboxList l = {};

                r = cri_decode_pod_sandbox_list(message, message_size, &l);
                check_error("decode sandboxes", r);
                for (size_t i = 0; r >= 0 && i < l.n; i++) {
                        touch(l.items[i].id);
                        touch(l.items[i].pod_name);
                        touch(l.items[i].pod_namespace);
                        touch(l.items[i].pod_uid);
                        touch(l.items[i].runtime_handler);
                        touch_map(&l.items[i].labels);
                        touch_map(&l.items[i].annotations);
                        sink += (size_t) l.items[i].state + (size_t) l.items[i].created_at +
                                l.items[i].attempt;
                }
                cri_pod_sandbox_list_done(&l);
        } else {
                CriContainerList l = {};

                r = cri_decode_container_list(message, message_size, &l);
                check_error("decode containers", r);
                for (size_t i = 0; r >= 0 && i < l.n; i++) {
                        touch(l.items[i].id);
                        touch(l.items[i].pod_sandbox_id);
                        touch(l.items[i].name);
                        touch(l.items[i].image);
                        touch(l.items[i].image_ref);
                        touch(l.items[i].image_id);
                        touch_map(&l.items[i].labels);
                        touch_map(&l.items[i].annotations);
                        sink += (size_t) l.items[i].state + (size_t) l.items[i].created_at +
                                l.items[i].attempt;
                }
                cri_container_list_done(&l);
        }

        cri_frame_reader_done(&reader);
        return 0;
}
