/* SPDX-License-Identifier: MIT */
/* gRPC unary calls over HTTP/2 on a unix socket: nghttp2 in memory mode (mem_send/mem_recv) on a
 * non-blocking socket, one poll() loop, no threads. Several calls run as concurrent streams on the
 * one connection; each has its own deadline, enforced by the poll() timeout and sent along as
 * grpc-timeout. Everything that can go wrong on the way ends in a gRPC status, as grpc-go's client
 * would report it. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cri/cri-internal.h"
#include "util/macro.h"
#include "util/parse.h"

#ifndef PODREAPER_VERSION
#define PODREAPER_VERSION "0"
#endif

#define USER_AGENT "podreaper/" PODREAPER_VERSION " (nghttp2/" NGHTTP2_VERSION ")"
#define READ_BUFFER_SIZE ((size_t) 64 * 1024)
#define READS_PER_WAKEUP 16                  /* then look at the deadlines again */
#define STREAM_WINDOW_SIZE (4 * 1024 * 1024) /* fewer WINDOW_UPDATE round trips for big lists */
#define CONNECTION_WINDOW_SIZE (32 * 1024 * 1024)
#define CONTENT_TYPE_SHOWN_MAX 64

static const char *const default_endpoints[] = {
        "unix:///run/containerd/containerd.sock",
        "unix:///var/run/crio/crio.sock",
        "unix:///var/run/cri-dockerd.sock",
        NULL,
};

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

typedef struct CallState CallState;

/* A stream's user data. It outlives the run that opened the stream (a stream reset at its deadline
 * closes later), so it points at the call only while that call's run is in progress. */
typedef struct StreamRef {
        struct StreamRef *prev, *next;
        CallState *state;
        int32_t stream_id;
        const uint8_t *request; /* the framed request, valid while state is set */
        size_t request_size;
        size_t request_sent;
} StreamRef;

struct CallState {
        CriCall *call;
        CriClient *client;
        const char *method; /* the path's last component, for messages */
        uint64_t timeout_usec;
        uint64_t deadline; /* CLOCK_MONOTONIC, usec */
        int32_t stream_id;
        StreamRef *ref;
        CriFrameReader reader;
        unsigned http_status; /* of the final response header block; 0 none yet */
        bool block_has_status;
        bool content_type_seen;
        bool content_type_ok;
        char *content_type; /* shown in the error when it is not gRPC */
        int grpc_status;    /* -1: none received */
        char *grpc_message;
        bool reset_by_peer;
        bool started;
        bool finished;
};

struct CriClient {
        int fd;
        char *endpoint; /* "unix:///path" */
        nghttp2_session *session;
        uint64_t timeout_usec;
        size_t max_recv_size;
        unsigned max_concurrent;
        const volatile sig_atomic_t *cancel;

        uint8_t *rbuf;
        uint8_t *wbuf; /* what the socket did not take yet */
        size_t wbuf_off, wbuf_len, wbuf_allocated;

        StreamRef *streams;
        int broken;         /* 0, or the -errno of the connection's failure */
        char *broken_cause; /* its words */

        /* the run in progress */
        unsigned run_in_flight;
        size_t run_finished;
};

/* ---- status ------------------------------------------------------------------------------------ */

static const char *const code_names[_CRI_CODE_MAX] = {
        [CRI_CODE_OK] = "OK",
        [CRI_CODE_CANCELLED] = "CANCELLED",
        [CRI_CODE_UNKNOWN] = "UNKNOWN",
        [CRI_CODE_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
        [CRI_CODE_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
        [CRI_CODE_NOT_FOUND] = "NOT_FOUND",
        [CRI_CODE_ALREADY_EXISTS] = "ALREADY_EXISTS",
        [CRI_CODE_PERMISSION_DENIED] = "PERMISSION_DENIED",
        [CRI_CODE_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
        [CRI_CODE_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [CRI_CODE_ABORTED] = "ABORTED",
        [CRI_CODE_OUT_OF_RANGE] = "OUT_OF_RANGE",
        [CRI_CODE_UNIMPLEMENTED] = "UNIMPLEMENTED",
        [CRI_CODE_INTERNAL] = "INTERNAL",
        [CRI_CODE_UNAVAILABLE] = "UNAVAILABLE",
        [CRI_CODE_DATA_LOSS] = "DATA_LOSS",
        [CRI_CODE_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

static const int code_errnos[_CRI_CODE_MAX] = {
        [CRI_CODE_OK] = 0,
        [CRI_CODE_CANCELLED] = -ECANCELED,
        [CRI_CODE_UNKNOWN] = -EIO,
        [CRI_CODE_INVALID_ARGUMENT] = -EINVAL,
        [CRI_CODE_DEADLINE_EXCEEDED] = -ETIMEDOUT,
        [CRI_CODE_NOT_FOUND] = -ENOENT,
        [CRI_CODE_ALREADY_EXISTS] = -EEXIST,
        [CRI_CODE_PERMISSION_DENIED] = -EACCES,
        [CRI_CODE_RESOURCE_EXHAUSTED] = -ENOBUFS,
        [CRI_CODE_FAILED_PRECONDITION] = -EBUSY,
        [CRI_CODE_ABORTED] = -ECONNABORTED,
        [CRI_CODE_OUT_OF_RANGE] = -ERANGE,
        [CRI_CODE_UNIMPLEMENTED] = -EOPNOTSUPP,
        [CRI_CODE_INTERNAL] = -EPROTO,
        [CRI_CODE_UNAVAILABLE] = -EAGAIN,
        [CRI_CODE_DATA_LOSS] = -EBADMSG,
        [CRI_CODE_UNAUTHENTICATED] = -EPERM,
};

const char *cri_code_to_string(int code) {
        if (code < 0 || code >= _CRI_CODE_MAX)
                return NULL;
        return code_names[code];
}

int cri_code_to_errno(int code) {
        if (code < 0 || code >= _CRI_CODE_MAX)
                return -EIO;
        return code_errnos[code];
}

void cri_status_done(CriStatus *s) {
        if (!s)
                return;
        s->message = mfree(s->message);
        s->code = CRI_CODE_OK;
}

int cri_status_set(CriStatus *s, int code, const char *format, ...) {
        char *m = NULL;
        va_list ap;

        if (s) {
                va_start(ap, format);
                if (vasprintf(&m, format, ap) < 0)
                        m = NULL; /* out of memory: the code still tells */
                va_end(ap);
                free(s->message);
                s->code = code;
                s->message = code == CRI_CODE_OK ? mfree(m) : m;
        }
        return cri_code_to_errno(code);
}

int cri_status_set_local(CriStatus *s, int error, const char *what) {
        assert(error < 0);
        (void) cri_status_set(s, CRI_CODE_INTERNAL, "%s: %s", what, strerror(-error));
        return error;
}

/* ---- framing ----------------------------------------------------------------------------------- */

int cri_frame_encode(const void *message, size_t size, uint8_t **ret, size_t *ret_size) {
        uint8_t *buf;

        assert(message || size == 0);
        assert(ret);
        assert(ret_size);

        if (size > UINT32_MAX)
                return -EMSGSIZE;
        buf = malloc(CRI_FRAME_HEADER_SIZE + size);
        if (!buf)
                return -ENOMEM;
        buf[0] = 0; /* not compressed */
        buf[1] = (uint8_t) (size >> 24);
        buf[2] = (uint8_t) (size >> 16);
        buf[3] = (uint8_t) (size >> 8);
        buf[4] = (uint8_t) size;
        if (size > 0)
                memcpy(buf + CRI_FRAME_HEADER_SIZE, message, size);
        *ret = buf;
        *ret_size = CRI_FRAME_HEADER_SIZE + size;
        return 0;
}

static int frame_reader_fail(CriFrameReader *r, int error) {
        r->error = error;
        return error;
}

int cri_frame_reader_feed(CriFrameReader *r, const void *data, size_t size) {
        const uint8_t *p = data;

        assert(r);
        assert(p || size == 0);

        if (r->error < 0)
                return r->error;

        while (size > 0) {
                size_t k;

                /* A unary response carries exactly one message. */
                if (r->n_messages > 0)
                        return frame_reader_fail(r, -EBADMSG);

                if (r->header_len < CRI_FRAME_HEADER_SIZE) {
                        k = MIN(CRI_FRAME_HEADER_SIZE - r->header_len, size);
                        memcpy(r->header + r->header_len, p, k);
                        r->header_len += k;
                        p += k;
                        size -= k;
                        if (r->header_len < CRI_FRAME_HEADER_SIZE)
                                break;

                        if (r->header[0] == 1)
                                return frame_reader_fail(r, -EPROTONOSUPPORT);
                        if (r->header[0] != 0)
                                return frame_reader_fail(r, -EBADMSG);
                        r->message_size = (size_t) r->header[1] << 24 | (size_t) r->header[2] << 16 |
                                          (size_t) r->header[3] << 8 | (size_t) r->header[4];
                        if (r->message_size > r->max_size)
                                return frame_reader_fail(r, -EMSGSIZE);
                        r->message_len = 0;
                        if (r->message_size == 0)
                                r->n_messages++;
                        continue;
                }

                k = MIN(r->message_size - r->message_len, size);
                if (r->message_len + k > r->message_allocated) {
                        /* Grow with what arrives: an announced length alone allocates nothing. */
                        size_t want =
                                MAX(r->message_len + k, MIN(r->message_allocated * 2, r->message_size));
                        uint8_t *m;

                        want = MAX(want, MIN((size_t) 4096, r->message_size));
                        m = realloc(r->message, want);
                        if (!m)
                                return frame_reader_fail(r, -ENOMEM);
                        r->message = m;
                        r->message_allocated = want;
                }
                memcpy(r->message + r->message_len, p, k);
                r->message_len += k;
                p += k;
                size -= k;
                if (r->message_len == r->message_size)
                        r->n_messages++;
        }

        return 0;
}

int cri_frame_reader_finish(CriFrameReader *r, const uint8_t **ret_data, size_t *ret_size) {
        assert(r);
        assert(ret_data);
        assert(ret_size);

        if (r->error < 0)
                return r->error;
        if (r->n_messages == 0)
                return r->header_len == 0 ? -ENODATA : -EBADMSG;
        *ret_data = r->message_size > 0 ? r->message : NULL;
        *ret_size = r->message_size;
        return 0;
}

void cri_frame_reader_done(CriFrameReader *r) {
        if (!r)
                return;
        r->message = mfree(r->message);
        r->message_allocated = r->message_len = r->message_size = 0;
}

/* ---- headers ------------------------------------------------------------------------------------ */

char *cri_grpc_timeout_format(uint64_t usec, char buf[static CRI_GRPC_TIMEOUT_MAX]) {
        static const struct {
                char unit;
                uint64_t usec;
        } units[] = {
                {'u', 1},
                {'m', USEC_PER_MSEC},
                {'S', USEC_PER_SEC},
                {'M', USEC_PER_MINUTE},
                {'H', USEC_PER_HOUR},
        };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                /* Rounded up: never tell the server a shorter deadline than ours. */
                uint64_t v = usec / units[i].usec + (usec % units[i].usec != 0);

                if (v <= 99999999) {
                        snprintf(buf, CRI_GRPC_TIMEOUT_MAX, "%" PRIu64 "%c", v, units[i].unit);
                        return buf;
                }
        }
        snprintf(buf, CRI_GRPC_TIMEOUT_MAX, "99999999H");
        return buf;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int cri_percent_decode(const char *s, size_t len, char **ret) {
        char *out, *q;

        assert(s || len == 0);
        assert(ret);

        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        q = out;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '%' && len - i > 2) {
                        int hi = unhex(s[i + 1]), lo = unhex(s[i + 2]);

                        if (hi >= 0 && lo >= 0) {
                                c = (unsigned char) (hi << 4 | lo);
                                i += 2;
                        }
                }
                if (c < 0x20 || c == 0x7f)
                        c = ' ';
                *q++ = (char) c;
        }
        *q = '\0';
        *ret = out;
        return 0;
}

bool cri_content_type_is_grpc(const char *value, size_t len) {
        static const char grpc[] = "application/grpc";
        const size_t n = sizeof(grpc) - 1;

        if (!value || len < n || strncasecmp(value, grpc, n) != 0)
                return false;
        return len == n || value[n] == '+' || value[n] == ';';
}

int cri_code_from_http_status(unsigned status) {
        switch (status) {
        case 400:
                return CRI_CODE_INTERNAL;
        case 401:
                return CRI_CODE_UNAUTHENTICATED;
        case 403:
                return CRI_CODE_PERMISSION_DENIED;
        case 404:
                return CRI_CODE_UNIMPLEMENTED;
        case 429:
        case 502:
        case 503:
        case 504:
                return CRI_CODE_UNAVAILABLE;
        default:
                return CRI_CODE_UNKNOWN;
        }
}

int cri_code_from_h2_error(uint32_t error_code) {
        switch (error_code) {
        case NGHTTP2_REFUSED_STREAM:
                return CRI_CODE_UNAVAILABLE;
        case NGHTTP2_CANCEL:
                return CRI_CODE_CANCELLED;
        case NGHTTP2_ENHANCE_YOUR_CALM:
                return CRI_CODE_RESOURCE_EXHAUSTED;
        case NGHTTP2_INADEQUATE_SECURITY:
                return CRI_CODE_PERMISSION_DENIED;
        default:
                return CRI_CODE_INTERNAL;
        }
}

int cri_endpoint_parse(const char *endpoint, char **ret_path) {
        const char *path;
        char *p;

        assert(ret_path);

        if (!endpoint)
                return -EINVAL;
        if (strncmp(endpoint, "unix://", 7) == 0)
                path = endpoint + 7;
        else if (strncmp(endpoint, "unix:", 5) == 0)
                path = endpoint + 5;
        else
                path = endpoint;
        /* Also rejects "unix://host/path" and other schemes: only absolute socket paths. */
        if (path[0] != '/')
                return -EINVAL;
        if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return -ENAMETOOLONG;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

const char *const *cri_default_endpoints(void) {
        return default_endpoints;
}

/* ---- client ------------------------------------------------------------------------------------ */

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static const char *format_usec(char buf[static DURATION_MAX_LEN], uint64_t usec) {
        return format_duration(buf, DURATION_MAX_LEN, usec);
}

const char *cri_client_endpoint(const CriClient *c) {
        assert(c);
        return c->endpoint;
}

bool cri_client_is_broken(const CriClient *c) {
        assert(c);
        return c->broken < 0;
}

uint64_t cri_client_timeout_usec(const CriClient *c) {
        assert(c);
        return c->timeout_usec;
}

static StreamRef *stream_ref_new(CriClient *c) {
        StreamRef *ref = calloc(1, sizeof(*ref));

        if (!ref)
                return NULL;
        ref->next = c->streams;
        if (c->streams)
                c->streams->prev = ref;
        c->streams = ref;
        return ref;
}

static void stream_ref_free(CriClient *c, StreamRef *ref) {
        if (!ref)
                return;
        if (ref->prev)
                ref->prev->next = ref->next;
        else
                c->streams = ref->next;
        if (ref->next)
                ref->next->prev = ref->prev;
        if (ref->state)
                ref->state->ref = NULL;
        free(ref);
}

static CallState *stream_state(nghttp2_session *session, int32_t stream_id) {
        StreamRef *ref = nghttp2_session_get_stream_user_data(session, stream_id);

        if (!ref || !ref->state || ref->state->finished)
                return NULL;
        return ref->state;
}

/* Our own record of a stream, also of one nghttp2 never opened. */
static StreamRef *stream_ref_find(CriClient *c, int32_t stream_id) {
        for (StreamRef *ref = c->streams; ref; ref = ref->next)
                if (ref->stream_id == stream_id)
                        return ref;
        return NULL;
}

/* Ends a call with a status. A stream still open is reset: nothing more is wanted from it. */
_printf_(3, 4) static void call_finish(CallState *s, int code, const char *format, ...) {
        CriClient *c = s->client;
        va_list ap;

        assert(!s->finished);

        if (code == CRI_CODE_OK)
                cri_status_done(&s->call->status);
        else {
                char *m = NULL;

                va_start(ap, format);
                if (vasprintf(&m, format, ap) < 0)
                        m = NULL;
                va_end(ap);
                free(s->call->status.message);
                s->call->status.message = m;
                s->call->status.code = code;
        }
        s->call->result = cri_code_to_errno(code);
        s->finished = true;

        if (s->ref) {
                s->ref->state = NULL;
                s->ref = NULL;
                if (code != CRI_CODE_OK && s->stream_id > 0 && !c->broken)
                        (void) nghttp2_submit_rst_stream(
                                c->session, NGHTTP2_FLAG_NONE, s->stream_id, NGHTTP2_CANCEL);
        }
        if (s->started)
                c->run_in_flight--;
        c->run_finished++;
}

static void call_finish_local(CallState *s, int error, const char *what) {
        call_finish(
                s,
                CRI_CODE_INTERNAL,
                "%s on %s: %s: %s",
                s->method,
                s->client->endpoint,
                what,
                strerror(-error));
        s->call->result = error;
}

/* The stream ended: decide the call's outcome from what arrived. */
static void call_complete(CallState *s, uint32_t error_code) {
        CriClient *c = s->client;
        const uint8_t *data;
        size_t size;
        int r;

        if (s->grpc_status > CRI_CODE_OK) {
                if (s->grpc_message && s->grpc_message[0])
                        call_finish(s, s->grpc_status, "%s", s->grpc_message);
                else
                        call_finish(
                                s,
                                s->grpc_status,
                                "%s on %s: %s without a message",
                                s->method,
                                c->endpoint,
                                cri_code_to_string(s->grpc_status) ?: "unknown status");
                return;
        }
        if (s->grpc_status == CRI_CODE_OK) {
                r = cri_frame_reader_finish(&s->reader, &data, &size);
                if (r == -ENODATA)
                        call_finish(
                                s,
                                CRI_CODE_INTERNAL,
                                "%s on %s: status OK but no response message",
                                s->method,
                                c->endpoint);
                else if (r < 0)
                        call_finish(
                                s,
                                CRI_CODE_INTERNAL,
                                "%s on %s: truncated response message",
                                s->method,
                                c->endpoint);
                else {
                        /* The reader's buffer becomes the response: no copy. */
                        s->call->response = data ? TAKE_PTR(s->reader.message) : NULL;
                        s->call->response_size = size;
                        call_finish(s, CRI_CODE_OK, "OK");
                }
                return;
        }
        if (error_code != NGHTTP2_NO_ERROR) {
                call_finish(
                        s,
                        cri_code_from_h2_error(error_code),
                        "%s on %s: stream reset %s(HTTP/2 %s)",
                        s->method,
                        c->endpoint,
                        s->reset_by_peer ? "by the runtime " : "",
                        nghttp2_http2_strerror(error_code));
                return;
        }
        call_finish(
                s,
                CRI_CODE_INTERNAL,
                "%s on %s: the response ended without a grpc-status",
                s->method,
                c->endpoint);
}

/* A malformed grpc-status is kept as -2, so that it is reported instead of being ignored. */
static int parse_grpc_status(const uint8_t *value, size_t len) {
        unsigned v = 0;

        if (len == 0 || len > 4)
                return -2;
        for (size_t i = 0; i < len; i++) {
                if (value[i] < '0' || value[i] > '9')
                        return -2;
                v = v * 10 + (unsigned) (value[i] - '0');
        }
        return (int) v;
}

static bool header_is(const uint8_t *name, size_t len, const char *what) {
        return len == strlen(what) && memcmp(name, what, len) == 0;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *userdata) {
        CallState *s = stream_state(session, frame->hd.stream_id);

        (void) userdata;
        if (s)
                s->block_has_status = false;
        return 0;
}

static int on_header(
        nghttp2_session *session,
        const nghttp2_frame *frame,
        const uint8_t *name,
        size_t namelen,
        const uint8_t *value,
        size_t valuelen,
        uint8_t flags,
        void *userdata) {

        CallState *s;
        int r;

        (void) flags;
        (void) userdata;

        if (frame->hd.type != NGHTTP2_HEADERS)
                return 0;
        s = stream_state(session, frame->hd.stream_id);
        if (!s)
                return 0;

        if (header_is(name, namelen, ":status")) {
                unsigned v = 0;

                for (size_t i = 0; i < valuelen && i < 3; i++)
                        v = v * 10 + (unsigned) (value[i] - '0'); /* nghttp2 checked: 3 digits */
                s->http_status = v;
                s->block_has_status = true;
        } else if (header_is(name, namelen, "content-type")) {
                s->content_type_seen = true;
                s->content_type_ok = cri_content_type_is_grpc((const char *) value, valuelen);
                if (!s->content_type_ok && !s->content_type) {
                        r = cri_percent_decode(
                                (const char *) value,
                                MIN(valuelen, (size_t) CONTENT_TYPE_SHOWN_MAX),
                                &s->content_type);
                        if (r < 0)
                                call_finish_local(s, r, "reading the response headers");
                }
        } else if (header_is(name, namelen, "grpc-status"))
                s->grpc_status = parse_grpc_status(value, valuelen);
        else if (header_is(name, namelen, "grpc-message")) {
                s->grpc_message = mfree(s->grpc_message);
                r = cri_percent_decode((const char *) value, valuelen, &s->grpc_message);
                if (r < 0)
                        call_finish_local(s, r, "reading the response headers");
        }
        return 0;
}

/* A complete response header block: anything but HTTP 200 with gRPC's content-type ends the call.
 * A trailers-only response (END_STREAM, grpc-status) may come without a content-type. */
static void check_response_headers(CallState *s, bool end_stream) {
        CriClient *c = s->client;

        if (s->http_status != 200) {
                call_finish(
                        s,
                        cri_code_from_http_status(s->http_status),
                        "%s on %s: HTTP status %u from the runtime%s%s%s",
                        s->method,
                        c->endpoint,
                        s->http_status,
                        s->content_type ? " (content-type '" : "",
                        s->content_type ?: "",
                        s->content_type ? "')" : "");
                return;
        }
        if (s->content_type_seen && !s->content_type_ok) {
                call_finish(
                        s,
                        CRI_CODE_INTERNAL,
                        "%s on %s: unexpected content-type '%s', not gRPC",
                        s->method,
                        c->endpoint,
                        s->content_type ?: "");
                return;
        }
        if (!s->content_type_seen && !(end_stream && s->grpc_status != -1))
                call_finish(
                        s,
                        CRI_CODE_INTERNAL,
                        "%s on %s: response without a content-type",
                        s->method,
                        c->endpoint);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *userdata) {
        CallState *s;

        (void) userdata;

        if (frame->hd.stream_id == 0)
                return 0;
        s = stream_state(session, frame->hd.stream_id);
        if (!s)
                return 0;

        switch (frame->hd.type) {
        case NGHTTP2_HEADERS:
                if (s->grpc_status == -2) {
                        call_finish(
                                s,
                                CRI_CODE_INTERNAL,
                                "%s on %s: malformed grpc-status",
                                s->method,
                                s->client->endpoint);
                        break;
                }
                /* 1xx blocks are skipped; a block without :status is the trailers. */
                if (s->block_has_status && s->http_status >= 200)
                        check_response_headers(s, frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
                break;
        case NGHTTP2_RST_STREAM:
                s->reset_by_peer = true;
                break;
        }
        return 0;
}

static int on_data_chunk_recv(
        nghttp2_session *session,
        uint8_t flags,
        int32_t stream_id,
        const uint8_t *data,
        size_t len,
        void *userdata) {

        CallState *s = stream_state(session, stream_id);
        CriClient *c;
        int r;

        (void) flags;
        (void) userdata;

        if (!s)
                return 0;
        c = s->client;

        r = cri_frame_reader_feed(&s->reader, data, len);
        switch (r) {
        case 0:
                break;
        case -EMSGSIZE:
                call_finish(
                        s,
                        CRI_CODE_RESOURCE_EXHAUSTED,
                        "%s on %s: response message of %zu bytes exceeds the limit of %zu bytes",
                        s->method,
                        c->endpoint,
                        s->reader.message_size,
                        s->reader.max_size);
                break;
        case -EPROTONOSUPPORT:
                call_finish(
                        s,
                        CRI_CODE_INTERNAL,
                        "%s on %s: compressed response message, but no compression was offered",
                        s->method,
                        c->endpoint);
                break;
        case -EBADMSG:
                call_finish(
                        s,
                        CRI_CODE_INTERNAL,
                        "%s on %s: malformed gRPC message framing (flag byte %u, or more than one message)",
                        s->method,
                        c->endpoint,
                        s->reader.header[0]);
                break;
        default:
                call_finish_local(s, r, "receiving the response");
        }
        return 0;
}

static int
on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *userdata) {
        CriClient *c = userdata;
        StreamRef *ref = nghttp2_session_get_stream_user_data(session, stream_id);
        CallState *s;

        if (!ref)
                return 0;
        s = ref->state;
        stream_ref_free(c, ref);
        if (s && !s->finished)
                call_complete(s, error_code);
        return 0;
}

static int
on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame, int lib_error_code, void *userdata) {
        CriClient *c = userdata;
        StreamRef *ref;
        CallState *s;

        if (frame->hd.type != NGHTTP2_HEADERS)
                return 0;
        /* A request that never went out (after a GOAWAY, say): nghttp2 may have no stream to look
         * up, so find it in our own list. */
        ref = stream_ref_find(c, frame->hd.stream_id);
        if (!ref)
                return 0;
        s = ref->state;
        if (s && !s->finished) {
                s->stream_id = 0; /* never sent: nothing to reset */
                call_finish(
                        s,
                        CRI_CODE_UNAVAILABLE,
                        "%s on %s: the request could not be sent: %s",
                        s->method,
                        c->endpoint,
                        nghttp2_strerror(lib_error_code));
        }
        /* A stream that was never opened gets no on_stream_close: let go of it here. */
        if (!nghttp2_session_find_stream(session, frame->hd.stream_id))
                stream_ref_free(c, ref);
        return 0;
}

static ssize_t read_request(
        nghttp2_session *session,
        int32_t stream_id,
        uint8_t *buf,
        size_t length,
        uint32_t *data_flags,
        nghttp2_data_source *source,
        void *userdata) {

        StreamRef *ref = source->ptr;
        size_t k;

        (void) session;
        (void) stream_id;
        (void) userdata;

        /* The call gave up (deadline) while its request was still going out. */
        if (!ref->state)
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;

        k = MIN(length, ref->request_size - ref->request_sent);
        memcpy(buf, ref->request + ref->request_sent, k);
        ref->request_sent += k;
        if (ref->request_sent == ref->request_size)
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t) k;
}

/* The connection is gone: every call still waiting fails with UNAVAILABLE, as do later ones. */
static void
connection_fail(CriClient *c, CallState *states, size_t n_started, int error, const char *cause) {
        if (c->broken >= 0) {
                c->broken = error < 0 ? error : -ECONNRESET;
                c->broken_cause = strdup(cause);
        }
        for (size_t i = 0; i < n_started; i++)
                if (!states[i].finished)
                        call_finish(
                                &states[i],
                                CRI_CODE_UNAVAILABLE,
                                "%s on %s: connection lost: %s",
                                states[i].method,
                                c->endpoint,
                                cause);
}

/* The caller is stopping (CriOptions.cancel): what is in flight ends now, with CANCELLED, and the
 * connection, whose streams were left half-way, takes no more calls. */
static void calls_cancel(CriClient *c, CallState *states, size_t n_started) {
        if (c->broken >= 0) {
                c->broken = -ECANCELED;
                c->broken_cause = strdup("cancelled");
        }
        for (size_t i = 0; i < n_started; i++)
                if (!states[i].finished)
                        call_finish(
                                &states[i],
                                CRI_CODE_CANCELLED,
                                "%s on %s: cancelled",
                                states[i].method,
                                c->endpoint);
}

static int wbuf_append(CriClient *c, const uint8_t *data, size_t size) {
        if (c->wbuf_off > 0) {
                memmove(c->wbuf, c->wbuf + c->wbuf_off, c->wbuf_len - c->wbuf_off);
                c->wbuf_len -= c->wbuf_off;
                c->wbuf_off = 0;
        }
        if (c->wbuf_len + size > c->wbuf_allocated) {
                size_t want = MAX(c->wbuf_len + size, c->wbuf_allocated * 2);
                uint8_t *b = realloc(c->wbuf, want);

                if (!b)
                        return -ENOMEM;
                c->wbuf = b;
                c->wbuf_allocated = want;
        }
        memcpy(c->wbuf + c->wbuf_len, data, size);
        c->wbuf_len += size;
        return 0;
}

static ssize_t send_some(int fd, const uint8_t *data, size_t size) {
        for (;;) {
                /* MSG_NOSIGNAL: a runtime that went away must not kill us with SIGPIPE. */
                ssize_t n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n >= 0)
                        return n;
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return 0;
                return -errno;
        }
}

/* Writes what nghttp2 has to send until the socket would block. */
static int flush(CriClient *c, const char **ret_cause) {
        for (;;) {
                const uint8_t *data;
                ssize_t n, w;

                while (c->wbuf_off < c->wbuf_len) {
                        w = send_some(c->fd, c->wbuf + c->wbuf_off, c->wbuf_len - c->wbuf_off);
                        if (w < 0) {
                                *ret_cause = strerror((int) -w);
                                return (int) w;
                        }
                        if (w == 0)
                                return 0;
                        c->wbuf_off += (size_t) w;
                }
                c->wbuf_off = c->wbuf_len = 0;

                n = nghttp2_session_mem_send(c->session, &data);
                if (n < 0) {
                        *ret_cause = nghttp2_strerror((int) n);
                        return -EPROTO;
                }
                if (n == 0)
                        return 0;
                w = send_some(c->fd, data, (size_t) n);
                if (w < 0) {
                        *ret_cause = strerror((int) -w);
                        return (int) w;
                }
                if (w < n && wbuf_append(c, data + w, (size_t) (n - w)) < 0) {
                        *ret_cause = strerror(ENOMEM);
                        return -ENOMEM;
                }
        }
}

static int receive(CriClient *c, const char **ret_cause) {
        for (unsigned i = 0; i < READS_PER_WAKEUP; i++) {
                ssize_t n = recv(c->fd, c->rbuf, READ_BUFFER_SIZE, MSG_DONTWAIT);
                ssize_t rv;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        *ret_cause = strerror(errno);
                        return -errno;
                }
                if (n == 0) {
                        *ret_cause = "closed by the runtime";
                        return -ECONNRESET;
                }
                rv = nghttp2_session_mem_recv(c->session, c->rbuf, (size_t) n);
                if (rv < 0) {
                        *ret_cause = nghttp2_strerror((int) rv);
                        return -EPROTO;
                }
        }
        return 0;
}

static void call_start(CriClient *c, CallState *s) {
        char timeout[CRI_GRPC_TIMEOUT_MAX];
        StreamRef *ref;
        int32_t id;

        s->started = true;
        c->run_in_flight++;
        s->deadline = now_usec() + s->timeout_usec;

        if (c->broken < 0) {
                call_finish(
                        s,
                        CRI_CODE_UNAVAILABLE,
                        "%s on %s: connection lost earlier: %s",
                        s->method,
                        c->endpoint,
                        c->broken_cause ?: strerror(-c->broken));
                return;
        }

        ref = stream_ref_new(c);
        if (!ref) {
                call_finish_local(s, -ENOMEM, "sending the request");
                return;
        }
        ref->request = s->call->request;
        ref->request_size = s->call->request_size;

        cri_grpc_timeout_format(s->timeout_usec, timeout);
#define NV(n, v) \
        { (uint8_t *) (n), (uint8_t *) (v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE }
        const nghttp2_nv headers[] = {
                NV(":method", "POST"),
                NV(":scheme", "http"),
                NV(":path", s->call->path),
                NV(":authority", "localhost"),
                NV("content-type", "application/grpc"),
                NV("te", "trailers"),
                NV("grpc-timeout", timeout),
                NV("user-agent", USER_AGENT),
        };
#undef NV
        const nghttp2_data_provider body = {
                .source = {.ptr = ref},
                .read_callback = read_request,
        };

        id = nghttp2_submit_request(c->session, NULL, headers, ELEMENTSOF(headers), &body, ref);
        if (id < 0) {
                stream_ref_free(c, ref);
                call_finish(
                        s,
                        CRI_CODE_UNAVAILABLE,
                        "%s on %s: the request could not be sent: %s",
                        s->method,
                        c->endpoint,
                        nghttp2_strerror(id));
                return;
        }
        s->stream_id = id;
        s->ref = ref;
        ref->state = s;
        ref->stream_id = id;
}

/* One round of the loop: send, wait for the socket or the first deadline, receive, expire. */
static void pump(CriClient *c, CallState *states, size_t first, size_t n_started) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        uint64_t now, deadline = UINT64_MAX;
        const char *cause = NULL;
        int r, timeout_ms;

        r = flush(c, &cause);
        if (r < 0) {
                connection_fail(c, states, n_started, r, cause);
                return;
        }
        if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
                connection_fail(c, states, n_started, -ECONNRESET, "the HTTP/2 session ended (GOAWAY)");
                return;
        }

        for (size_t i = first; i < n_started; i++)
                if (!states[i].finished)
                        deadline = MIN(deadline, states[i].deadline);
        if (deadline == UINT64_MAX)
                return; /* everything finished while sending */

        now = now_usec();
        if (deadline > now) {
                uint64_t ms = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
                timeout_ms = (int) MIN(ms, (uint64_t) INT_MAX);
                if (c->wbuf_off < c->wbuf_len)
                        p.events |= POLLOUT;
                r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno != EINTR) {
                        connection_fail(c, states, n_started, -errno, strerror(errno));
                        return;
                }
                if (r < 0 && c->cancel && *c->cancel) {
                        calls_cancel(c, states, n_started);
                        return;
                }
                if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
                        r = receive(c, &cause);
                        if (r < 0) {
                                connection_fail(c, states, n_started, r, cause);
                                return;
                        }
                }
        }

        now = now_usec();
        for (size_t i = first; i < n_started; i++) {
                CallState *s = &states[i];
                char buf[DURATION_MAX_LEN];

                if (!s->finished && s->deadline <= now)
                        call_finish(
                                s,
                                CRI_CODE_DEADLINE_EXCEEDED,
                                "%s on %s: deadline exceeded, no answer within %s",
                                s->method,
                                c->endpoint,
                                format_usec(buf, s->timeout_usec));
        }
}

void cri_call_done(CriCall *call) {
        if (!call)
                return;
        call->response = mfree(call->response);
        call->response_size = 0;
        cri_status_done(&call->status);
}

int cri_calls_run(CriClient *c, CriCall *calls, size_t n) {
        _cleanup_free_ CallState *states = NULL;
        size_t next = 0, first = 0, failed = 0;

        assert(c);
        assert(calls || n == 0);

        for (size_t i = 0; i < n; i++)
                calls[i] = (CriCall){
                        .path = calls[i].path,
                        .request = calls[i].request,
                        .request_size = calls[i].request_size,
                        .timeout_usec = calls[i].timeout_usec,
                };
        if (n == 0)
                return 0;

        states = calloc(n, sizeof(*states));
        if (!states) {
                for (size_t i = 0; i < n; i++)
                        calls[i].result =
                                cri_status_set_local(&calls[i].status, -ENOMEM, "starting the calls");
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *slash = calls[i].path ? strrchr(calls[i].path, '/') : NULL;

                states[i] = (CallState){
                        .call = &calls[i],
                        .client = c,
                        .method = slash ? slash + 1 : "(no method)",
                        .timeout_usec = calls[i].timeout_usec ?: c->timeout_usec,
                        .grpc_status = -1,
                        .reader.max_size = c->max_recv_size,
                };
        }

        c->run_in_flight = 0;
        c->run_finished = 0;
        while (c->run_finished < n) {
                while (next < n && c->run_in_flight < c->max_concurrent)
                        call_start(c, &states[next++]);
                while (first < next && states[first].finished)
                        first++;
                if (c->run_finished == n)
                        break;
                pump(c, states, first, next);
        }

        /* Resets of calls that gave up go out now; a failure here shows in the next run. */
        if (c->broken >= 0) {
                const char *cause;
                (void) flush(c, &cause);
        }

        for (size_t i = 0; i < n; i++) {
                assert(!states[i].ref);
                cri_frame_reader_done(&states[i].reader);
                free(states[i].grpc_message);
                free(states[i].content_type);
                if (calls[i].result < 0)
                        failed++;
        }
        return (int) MIN(failed, (size_t) INT_MAX);
}

/* ---- connecting ----------------------------------------------------------------------------------- */

static int client_setup_session(CriClient *c) {
        nghttp2_session_callbacks *callbacks = NULL;
        nghttp2_option *option = NULL;
        const nghttp2_settings_entry settings[] = {
                {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW_SIZE},
        };
        int r;

        if (nghttp2_session_callbacks_new(&callbacks) != 0)
                return -ENOMEM;
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
        nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, on_frame_not_send);

        r = nghttp2_option_new(&option);
        if (r == 0) {
                /* Until the server's SETTINGS arrive, assume gRPC's usual limit, not unlimited. */
                nghttp2_option_set_peer_max_concurrent_streams(option, 100);
                r = nghttp2_session_client_new2(&c->session, callbacks, c, option);
        }
        nghttp2_option_del(option);
        nghttp2_session_callbacks_del(callbacks);
        if (r != 0)
                return -ENOMEM;

        if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, ELEMENTSOF(settings)) != 0 ||
            nghttp2_session_set_local_window_size(
                    c->session, NGHTTP2_FLAG_NONE, 0, CONNECTION_WINDOW_SIZE) != 0)
                return -ENOMEM;
        return 0;
}

/* connect() on a non-blocking unix socket: EAGAIN means the listen backlog is full (a wedged
 * runtime), so retry until the deadline instead of blocking forever. */
static int connect_unix(int fd, const char *path, uint64_t timeout_usec) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        uint64_t deadline = now_usec() + timeout_usec;

        assert(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);

        for (;;) {
                if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) >= 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno == EINPROGRESS) {
                        struct pollfd p = {.fd = fd, .events = POLLOUT};
                        int error = 0;
                        socklen_t len = sizeof(error);
                        uint64_t now = now_usec();
                        int r;

                        if (now >= deadline)
                                return -ETIMEDOUT;
                        r = poll(&p, 1, (int) MIN((deadline - now) / USEC_PER_MSEC + 1, (uint64_t) INT_MAX));
                        if (r < 0)
                                return -errno;
                        if (r == 0)
                                return -ETIMEDOUT;
                        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                                return -errno;
                        return error > 0 ? -error : 0;
                }
                if (errno != EAGAIN)
                        return -errno;
                if (now_usec() >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(10 * 1000);
        }
}

static int
connect_endpoint(const char *endpoint, const CriOptions *opts, CriClient **ret, CriStatus *status) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[DURATION_MAX_LEN];
        CriClient *c;
        struct stat st;
        int r;

        r = cri_endpoint_parse(endpoint, &path);
        if (r == -ENOMEM)
                return cri_status_set_local(status, r, "connecting");
        if (r == -ENAMETOOLONG) {
                (void) cri_status_set(
                        status,
                        CRI_CODE_INVALID_ARGUMENT,
                        "CRI endpoint %s: socket path too long",
                        endpoint);
                return r;
        }
        if (r < 0) {
                (void) cri_status_set(
                        status,
                        CRI_CODE_INVALID_ARGUMENT,
                        "invalid CRI endpoint '%s': expected unix:///path/to/socket",
                        endpoint);
                return r;
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return cri_status_set_local(status, -errno, "creating a socket");

        r = connect_unix(fd, path, opts->timeout_usec);
        if (r == -ECONNREFUSED && stat(path, &st) >= 0 && !S_ISSOCK(st.st_mode))
                r = -ENOTSOCK; /* connect() says "refused" for a regular file or a directory */
        switch (r) {
        case 0:
                break;
        case -ENOENT:
        case -ENOTDIR:
                (void) cri_status_set(
                        status, CRI_CODE_UNAVAILABLE, "CRI endpoint unix://%s: no such socket", path);
                return -ENOENT;
        case -ENOTSOCK:
                (void) cri_status_set(
                        status, CRI_CODE_UNAVAILABLE, "CRI endpoint unix://%s: not a socket", path);
                return r;
        case -EACCES:
        case -EPERM:
                (void) cri_status_set(
                        status, CRI_CODE_UNAVAILABLE, "CRI endpoint unix://%s: permission denied", path);
                return -EACCES;
        case -ECONNREFUSED:
                (void) cri_status_set(
                        status,
                        CRI_CODE_UNAVAILABLE,
                        "CRI endpoint unix://%s: connection refused (nothing listens on the socket)",
                        path);
                return r;
        case -ETIMEDOUT:
                (void) cri_status_set(
                        status,
                        CRI_CODE_DEADLINE_EXCEEDED,
                        "CRI endpoint unix://%s: connection not accepted within %s",
                        path,
                        format_usec(buf, opts->timeout_usec));
                return r;
        default:
                (void) cri_status_set(
                        status, CRI_CODE_UNAVAILABLE, "CRI endpoint unix://%s: %s", path, strerror(-r));
                return r;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return cri_status_set_local(status, -ENOMEM, "connecting");
        c->fd = TAKE_FD(fd);
        c->timeout_usec = opts->timeout_usec;
        c->max_recv_size = opts->max_recv_size;
        c->max_concurrent = opts->max_concurrent;
        c->cancel = opts->cancel;
        c->rbuf = malloc(READ_BUFFER_SIZE);
        if (!c->rbuf || asprintf(&c->endpoint, "unix://%s", path) < 0) {
                c->endpoint = NULL;
                cri_client_free(c);
                return cri_status_set_local(status, -ENOMEM, "connecting");
        }
        r = client_setup_session(c);
        if (r < 0) {
                cri_client_free(c);
                return cri_status_set_local(status, r, "setting up HTTP/2");
        }

        cri_status_done(status);
        *ret = c;
        return 0;
}

int cri_connect(const char *endpoint, const CriOptions *opts, CriClient **ret, CriStatus *ret_status) {
        CriStatus status = {};
        CriOptions o = {};
        int r;

        assert(ret);

        if (opts)
                o = *opts;
        if (o.timeout_usec == 0)
                o.timeout_usec = CRI_DEFAULT_TIMEOUT_USEC;
        if (o.max_recv_size == 0)
                o.max_recv_size = CRI_DEFAULT_MAX_RECV_SIZE;
        if (o.max_concurrent == 0)
                o.max_concurrent = CRI_DEFAULT_MAX_CONCURRENT;

        if (endpoint)
                r = connect_endpoint(endpoint, &o, ret, &status);
        else {
                /* As crictl: the first default socket that exists decides; its error is the answer. */
                r = -ENOENT;
                for (size_t i = 0; default_endpoints[i] && r == -ENOENT; i++)
                        r = connect_endpoint(default_endpoints[i], &o, ret, &status);
                if (r == -ENOENT)
                        (void) cri_status_set(
                                &status,
                                CRI_CODE_UNAVAILABLE,
                                "no CRI runtime socket found (tried %s, %s, %s); set "
                                "--container-runtime-endpoint",
                                default_endpoints[0],
                                default_endpoints[1],
                                default_endpoints[2]);
        }

        if (ret_status)
                *ret_status = status;
        else
                cri_status_done(&status);
        return r;
}

CriClient *cri_client_free(CriClient *c) {
        if (!c)
                return NULL;

        if (c->session && c->fd >= 0 && c->broken >= 0) {
                const char *cause;

                /* Say goodbye (GOAWAY), best effort: never wait for the socket here. */
                if (nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR) == 0)
                        (void) flush(c, &cause);
        }
        nghttp2_session_del(c->session);
        while (c->streams)
                stream_ref_free(c, c->streams);
        safe_close(c->fd);
        free(c->endpoint);
        free(c->rbuf);
        free(c->wbuf);
        free(c->broken_cause);
        free(c);
        return NULL;
}
