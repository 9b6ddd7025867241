/* SPDX-License-Identifier: MIT */
#pragma once

/* cri's own pieces, shared by transport.c and runtime.c and exposed to the unit tests and the fuzz
 * harness. Not for reaper/: it uses cri.h only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cri/cri.h"

/* Moves a struct out, leaving zeroes behind (its cleanup attribute then does nothing). */
#ifndef TAKE_STRUCT
#define TAKE_STRUCT(s) \
        ({ \
                __typeof__(s) _taken_struct_ = (s); \
                (s) = (__typeof__(s)){}; \
                _taken_struct_; \
        })
#endif

/* ---- gRPC message framing: 1 byte compressed-flag, 4 bytes big-endian length, the message ---- */

#define CRI_FRAME_HEADER_SIZE 5

/* A new buffer with the framed message. -ENOMEM, -EMSGSIZE beyond 4 GiB - 1. */
int cri_frame_encode(const void *message, size_t size, uint8_t **ret, size_t *ret_size);

/* Reassembles the one message of a unary response from DATA chunks of any size. */
typedef struct CriFrameReader {
        size_t max_size; /* largest message accepted */
        uint8_t header[CRI_FRAME_HEADER_SIZE];
        size_t header_len;
        uint8_t *message;
        size_t message_size;      /* announced */
        size_t message_len;       /* received so far */
        size_t message_allocated; /* grows with what arrives, not with what is announced */
        unsigned n_messages;      /* complete messages */
        int error;                /* sticky: the first error of feed() */
} CriFrameReader;

/* Returns 0, or (sticky) -EMSGSIZE a message larger than max_size, -EPROTONOSUPPORT a compressed
 * message (we never offer compression), -EBADMSG a flag byte other than 0/1 or a second message
 * (unary), -ENOMEM. */
int cri_frame_reader_feed(CriFrameReader *r, const void *data, size_t size);
/* At the end of the stream: the message (ret_data NULL for an empty one). -ENODATA no message,
 * -EBADMSG a truncated one, or feed()'s error. */
int cri_frame_reader_finish(CriFrameReader *r, const uint8_t **ret_data, size_t *ret_size);
void cri_frame_reader_done(CriFrameReader *r);

/* ---- headers ------------------------------------------------------------------------------------ */

/* grpc-timeout: at most 8 digits and a unit (u m S M H; "n" is finer than we measure), the finest
 * unit that fits, rounded up: 2 min -> "120000m". */
#define CRI_GRPC_TIMEOUT_MAX 16
char *cri_grpc_timeout_format(uint64_t usec, char buf[static CRI_GRPC_TIMEOUT_MAX]);

/* grpc-message: "%XX" decoded; an invalid escape is kept as is (the spec: never fail on a
 * message); control characters become spaces so that a message stays one printable line. */
int cri_percent_decode(const char *s, size_t len, char **ret);

/* Is this content-type gRPC's: "application/grpc", optionally followed by "+proto" / ";..." */
bool cri_content_type_is_grpc(const char *value, size_t len);

/* The code gRPC gives a response that is not HTTP 200 (the spec's http-grpc-status-mapping):
 * 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504
 * UNAVAILABLE, anything else UNKNOWN. */
int cri_code_from_http_status(unsigned status);
/* The code of a stream reset with an HTTP/2 error code (as grpc-go): REFUSED_STREAM UNAVAILABLE,
 * CANCEL CANCELLED, ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY PERMISSION_DENIED,
 * everything else INTERNAL. */
int cri_code_from_h2_error(uint32_t error_code);

/* "unix:///path", "unix:/path" or "/path" -> "/path". -EINVAL another scheme, a relative or
 * empty path; -ENAMETOOLONG a path that does not fit a socket address. */
int cri_endpoint_parse(const char *endpoint, char **ret_path);

/* ---- unary calls ---------------------------------------------------------------------------------- */

typedef struct CriCall {
        const char *path;       /* "/runtime.v1.RuntimeService/Version" */
        const uint8_t *request; /* framed */
        size_t request_size;
        uint64_t timeout_usec; /* 0: the client's */

        uint8_t *response; /* out: the message, unframed, owned; NULL when empty or failed */
        size_t response_size;
        int result; /* out: 0, or -errno as described in cri.h */
        CriStatus status;
} CriCall;

/* Runs the calls as concurrent streams, at most the client's max_concurrent at once. Returns the
 * number of calls that failed (each has its result and status), or -errno when none could run. */
int cri_calls_run(CriClient *c, CriCall *calls, size_t n);
uint64_t cri_client_timeout_usec(const CriClient *c);
void cri_call_done(CriCall *call);

/* Status helpers: set code and a printf-formatted message; return cri_code_to_errno(code) (or
 * -ENOMEM when the message could not be allocated). */
int cri_status_set(CriStatus *s, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* A local failure: CRI_CODE_INTERNAL and the words; returns `error`. */
int cri_status_set_local(CriStatus *s, int error, const char *what);

/* ---- decoding (runtime.c) --------------------------------------------------------------------------- */

/* Decode a response message (unframed) into the client's structs: -EBADMSG when it is not that
 * message, -ENOMEM. */
int cri_decode_pod_sandbox_list(const uint8_t *data, size_t size, CriPodSandboxList *ret);
int cri_decode_container_list(const uint8_t *data, size_t size, CriContainerList *ret);
