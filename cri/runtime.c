/* SPDX-License-Identifier: MIT */
/* The typed CRI calls: build the request message, run it through the transport, decode the
 * answer into plain C structs. The structs point into the unpacked protobuf-c message they keep
 * (_message), so a list of 10,000 containers costs one unpack and a few arrays, no string copies.
 *
 * The generated code has a field named `linux`: this file is compiled with -Ulinux. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cri/api.pb-c.h"
#include "cri/cri-internal.h"
#include "cri/podresources.pb-c.h"
#include "util/macro.h"
#include "util/parse.h"

#define RUNTIME_SERVICE "/runtime.v1.RuntimeService/"
#define IMAGE_SERVICE "/runtime.v1.ImageService/"
#define POD_RESOURCES_SERVICE "/v1.PodResourcesLister/"

static const char *str(const char *s) {
        return s ?: "";
}

/* protobuf-c never writes through these: a const input string may stand in a request field. */
static char *unconst(const char *s) {
        return (char *) str(s);
}

static int status_return(CriStatus *ret_status, CriStatus *status, int r) {
        if (ret_status)
                *ret_status = *status;
        else
                cri_status_done(status);
        return r;
}

static void message_free(void *m) {
        if (m)
                protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- maps ---------------------------------------------------------------------------------------- */

/* Every generated map entry is {ProtobufCMessage base; char *key; char *value;}, each type with
 * its own descriptor: requests build them as this one struct, initialized with the field's entry
 * descriptor (protobuf-c packs by descriptor offsets). */
typedef struct MapEntry {
        ProtobufCMessage base;
        char *key;
        char *value;
} MapEntry;

#define ASSERT_MAP_ENTRY(T) \
        _Static_assert( \
                sizeof(T) == sizeof(MapEntry) && offsetof(T, key) == offsetof(MapEntry, key) && \
                        offsetof(T, value) == offsetof(MapEntry, value), \
                #T " is not laid out as MapEntry")

ASSERT_MAP_ENTRY(Runtime__V1__PodSandboxFilter__LabelSelectorEntry);
ASSERT_MAP_ENTRY(Runtime__V1__ContainerFilter__LabelSelectorEntry);
ASSERT_MAP_ENTRY(Runtime__V1__PodSandboxConfig__LabelsEntry);
ASSERT_MAP_ENTRY(Runtime__V1__PodSandboxConfig__AnnotationsEntry);
ASSERT_MAP_ENTRY(Runtime__V1__ContainerConfig__LabelsEntry);
ASSERT_MAP_ENTRY(Runtime__V1__ContainerConfig__AnnotationsEntry);

typedef struct MapBuild {
        MapEntry *entries;
        MapEntry **ptrs;
        size_t n;
} MapBuild;

static void map_build_done(MapBuild *b) {
        free(b->entries);
        free(b->ptrs);
        *b = (MapBuild){};
}

static size_t strv_length(const char *const *l) {
        size_t n = 0;

        for (; l && l[n]; n++)
                ;
        return n;
}

/* From NULL-terminated key/value pairs. -EINVAL for a key without a value. */
static int map_build(const ProtobufCMessageDescriptor *d, const char *const *pairs, MapBuild *ret) {
        size_t n = strv_length(pairs);

        *ret = (MapBuild){};
        if (n % 2 != 0)
                return -EINVAL;
        n /= 2;
        if (n == 0)
                return 0;
        ret->entries = calloc(n, sizeof(MapEntry));
        ret->ptrs = calloc(n, sizeof(MapEntry *));
        if (!ret->entries || !ret->ptrs) {
                map_build_done(ret);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                protobuf_c_message_init(d, &ret->entries[i]);
                ret->entries[i].key = unconst(pairs[2 * i]);
                ret->entries[i].value = unconst(pairs[2 * i + 1]);
                ret->ptrs[i] = &ret->entries[i];
        }
        ret->n = n;
        return 0;
}

/* Response maps: point into the message's entries. */
#define MAP_FROM(map, entries, count) \
        ({ \
                CriMap *_m = (map); \
                size_t _n = (count); \
                int _r = 0; \
                *_m = (CriMap){}; \
                if (_n > 0) { \
                        _m->items = calloc(_n, sizeof(CriKeyValue)); \
                        if (!_m->items) \
                                _r = -ENOMEM; \
                        else { \
                                for (size_t _i = 0; _i < _n; _i++) \
                                        _m->items[_i] = (CriKeyValue){ \
                                                str((entries)[_i]->key), \
                                                str((entries)[_i]->value), \
                                        }; \
                                _m->n = _n; \
                        } \
                } \
                _r; \
        })

const char *cri_map_get(const CriMap *m, const char *key) {
        assert(m);
        assert(key);

        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->items[i].key, key) == 0)
                        return m->items[i].value;
        return NULL;
}

static int bad_selector(CriStatus *status, int r) {
        if (r != -EINVAL)
                return cri_status_set_local(status, r, "label selector");
        (void) cri_status_set(status, CRI_CODE_INVALID_ARGUMENT, "label selector: a key without a value");
        return r;
}

/* ---- calls --------------------------------------------------------------------------------------- */

static int request_frame(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *packed = NULL;
        size_t n = protobuf_c_message_get_packed_size(m);

        packed = malloc(MAX(n, (size_t) 1));
        if (!packed)
                return -ENOMEM;
        if (protobuf_c_message_pack(m, packed) != n)
                return -EINVAL;
        return cri_frame_encode(packed, n, ret, ret_size);
}

static const char *method_of(const char *path) {
        return strrchr(path, '/') + 1;
}

/* One unary call: request out, decoded response (a `response_type` message) back. */
static int call_unary(
        CriClient *c,
        const char *path,
        const ProtobufCMessage *request,
        uint64_t timeout_usec,
        const ProtobufCMessageDescriptor *response_type,
        ProtobufCMessage **ret,
        CriStatus *status) {

        _cleanup_free_ uint8_t *framed = NULL;
        CriCall call = {.path = path, .timeout_usec = timeout_usec};
        ProtobufCMessage *m;
        int r;

        assert(c);

        r = request_frame(request, &framed, &call.request_size);
        if (r < 0)
                return cri_status_set_local(status, r, "encoding the request");
        call.request = framed;

        (void) cri_calls_run(c, &call, 1);
        if (call.result < 0) {
                r = call.result;
                *status = TAKE_STRUCT(call.status);
                cri_call_done(&call);
                return r;
        }

        m = protobuf_c_message_unpack(
                response_type, NULL, call.response_size, call.response ?: (const uint8_t *) "");
        cri_call_done(&call);
        if (!m)
                return cri_status_set(
                        status,
                        CRI_CODE_INTERNAL,
                        "%s on %s: the response is not a valid %s message",
                        method_of(path),
                        cri_client_endpoint(c),
                        response_type->name);
        cri_status_done(status);
        *ret = m;
        return 0;
}

/* ---- Version, Status, RuntimeConfig ----------------------------------------------------------------- */

void cri_version_done(CriVersion *v) {
        if (!v)
                return;
        message_free(v->_message);
        *v = (CriVersion){};
}

int cri_version(CriClient *c, CriVersion *ret, CriStatus *ret_status) {
        Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;
        Runtime__V1__VersionResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        req.version = "v1";
        r = call_unary(
                c,
                RUNTIME_SERVICE "Version",
                &req.base,
                0,
                &runtime__v1__version_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);

        *ret = (CriVersion){
                .version = str(m->version),
                .runtime_name = str(m->runtime_name),
                .runtime_version = str(m->runtime_version),
                .runtime_api_version = str(m->runtime_api_version),
                ._message = m,
        };
        return status_return(ret_status, &status, 0);
}

void cri_runtime_status_done(CriRuntimeStatus *s) {
        if (!s)
                return;
        free(s->conditions);
        free(s->info.items);
        message_free(s->_message);
        *s = (CriRuntimeStatus){};
}

int cri_runtime_status(CriClient *c, bool verbose, CriRuntimeStatus *ret, CriStatus *ret_status) {
        _cleanup_(cri_runtime_status_done) CriRuntimeStatus s = {};
        Runtime__V1__StatusRequest req = RUNTIME__V1__STATUS_REQUEST__INIT;
        Runtime__V1__StatusResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        req.verbose = verbose;
        r = call_unary(
                c,
                RUNTIME_SERVICE "Status",
                &req.base,
                0,
                &runtime__v1__status_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        s._message = m;

        if (m->status && m->status->n_conditions > 0) {
                s.conditions = calloc(m->status->n_conditions, sizeof(CriRuntimeCondition));
                if (!s.conditions)
                        return status_return(
                                ret_status, &status, cri_status_set_local(&status, -ENOMEM, "decoding"));
                for (size_t i = 0; i < m->status->n_conditions; i++) {
                        const Runtime__V1__RuntimeCondition *cond = m->status->conditions[i];

                        s.conditions[i] = (CriRuntimeCondition){
                                .type = str(cond->type),
                                .status = cond->status,
                                .reason = str(cond->reason),
                                .message = str(cond->message),
                        };
                }
                s.n_conditions = m->status->n_conditions;
        }
        r = MAP_FROM(&s.info, m->info, m->n_info);
        if (r < 0)
                return status_return(ret_status, &status, cri_status_set_local(&status, r, "decoding"));

        *ret = TAKE_STRUCT(s);
        return status_return(ret_status, &status, 0);
}

int cri_runtime_config(CriClient *c, CriCgroupDriver *ret, CriStatus *ret_status) {
        Runtime__V1__RuntimeConfigRequest req = RUNTIME__V1__RUNTIME_CONFIG_REQUEST__INIT;
        Runtime__V1__RuntimeConfigResponse *m = NULL;
        CriStatus status = {};
        CriCgroupDriver driver;
        int r;

        assert(ret);

        r = call_unary(
                c,
                RUNTIME_SERVICE "RuntimeConfig",
                &req.base,
                0,
                &runtime__v1__runtime_config_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);

        /* As the kubelet: no Linux part means the runtime does not say; fall back as for UNIMPLEMENTED. */
        if (!m->linux) {
                message_free(m);
                r = cri_status_set(
                        &status,
                        CRI_CODE_UNIMPLEMENTED,
                        "RuntimeConfig on %s: no Linux configuration in the answer",
                        cri_client_endpoint(c));
                return status_return(ret_status, &status, r);
        }
        driver = m->linux->cgroup_driver == RUNTIME__V1__CGROUP_DRIVER__CGROUPFS ? CRI_CGROUP_DRIVER_CGROUPFS
                                                                                 : CRI_CGROUP_DRIVER_SYSTEMD;
        message_free(m);
        *ret = driver;
        return status_return(ret_status, &status, 0);
}

/* ---- sandboxes ---------------------------------------------------------------------------------------- */

static const char *const sandbox_states[] = {
        [CRI_SANDBOX_READY] = "SANDBOX_READY",
        [CRI_SANDBOX_NOTREADY] = "SANDBOX_NOTREADY",
};

static const char *const container_states[] = {
        [CRI_CONTAINER_CREATED] = "CONTAINER_CREATED",
        [CRI_CONTAINER_RUNNING] = "CONTAINER_RUNNING",
        [CRI_CONTAINER_EXITED] = "CONTAINER_EXITED",
        [CRI_CONTAINER_UNKNOWN] = "CONTAINER_UNKNOWN",
};

const char *cri_pod_sandbox_state_to_string(int state) {
        if (state < 0 || (size_t) state >= ELEMENTSOF(sandbox_states))
                return NULL;
        return sandbox_states[state];
}

const char *cri_container_state_to_string(int state) {
        if (state < 0 || (size_t) state >= ELEMENTSOF(container_states))
                return NULL;
        return container_states[state];
}

void cri_pod_sandbox_list_done(CriPodSandboxList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].labels.items);
                free(l->items[i].annotations.items);
        }
        free(l->items);
        message_free(l->_message);
        *l = (CriPodSandboxList){};
}

/* Takes the message, also on failure. */
static int pod_sandbox_list_from(Runtime__V1__ListPodSandboxResponse *m, CriPodSandboxList *ret) {
        _cleanup_(cri_pod_sandbox_list_done) CriPodSandboxList l = {._message = m};
        int r;

        if (m->n_items > 0) {
                l.items = calloc(m->n_items, sizeof(CriPodSandbox));
                if (!l.items)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_items; i++) {
                const Runtime__V1__PodSandbox *p = m->items[i];
                const Runtime__V1__PodSandboxMetadata *md = p->metadata;
                CriPodSandbox *d = &l.items[l.n++];

                *d = (CriPodSandbox){
                        .id = str(p->id),
                        .pod_name = md ? str(md->name) : "",
                        .pod_namespace = md ? str(md->namespace_) : "",
                        .pod_uid = md ? str(md->uid) : "",
                        .attempt = md ? md->attempt : 0,
                        .state = (int) p->state,
                        .created_at = p->created_at,
                        .runtime_handler = str(p->runtime_handler),
                };
                r = MAP_FROM(&d->labels, p->labels, p->n_labels);
                if (r < 0)
                        return r;
                r = MAP_FROM(&d->annotations, p->annotations, p->n_annotations);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_STRUCT(l);
        return 0;
}

int cri_decode_pod_sandbox_list(const uint8_t *data, size_t size, CriPodSandboxList *ret) {
        Runtime__V1__ListPodSandboxResponse *m;

        assert(ret);

        m = runtime__v1__list_pod_sandbox_response__unpack(NULL, size, data ?: (const uint8_t *) "");
        if (!m)
                return -EBADMSG;
        return pod_sandbox_list_from(m, ret);
}

int cri_list_pod_sandboxes(
        CriClient *c, const CriPodSandboxFilter *filter, CriPodSandboxList *ret, CriStatus *ret_status) {

        _cleanup_(map_build_done) MapBuild selector = {};
        Runtime__V1__ListPodSandboxRequest req = RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__PodSandboxFilter f = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
        Runtime__V1__PodSandboxStateValue state = RUNTIME__V1__POD_SANDBOX_STATE_VALUE__INIT;
        Runtime__V1__ListPodSandboxResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        if (filter) {
                r = map_build(
                        &runtime__v1__pod_sandbox_filter__label_selector_entry__descriptor,
                        filter->label_selector,
                        &selector);
                if (r < 0)
                        return status_return(ret_status, &status, bad_selector(&status, r));
                f.id = unconst(filter->id);
                if (filter->state >= 0) {
                        state.state = (Runtime__V1__PodSandboxState) filter->state;
                        f.state = &state;
                }
                f.n_label_selector = selector.n;
                f.label_selector = (Runtime__V1__PodSandboxFilter__LabelSelectorEntry **) selector.ptrs;
                req.filter = &f;
        }

        r = call_unary(
                c,
                RUNTIME_SERVICE "ListPodSandbox",
                &req.base,
                0,
                &runtime__v1__list_pod_sandbox_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        r = pod_sandbox_list_from(m, ret);
        if (r < 0)
                return status_return(ret_status, &status, cri_status_set_local(&status, r, "decoding"));
        return status_return(ret_status, &status, 0);
}

/* ---- containers --------------------------------------------------------------------------------------- */

void cri_container_list_done(CriContainerList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].labels.items);
                free(l->items[i].annotations.items);
        }
        free(l->items);
        message_free(l->_message);
        *l = (CriContainerList){};
}

static int container_list_from(Runtime__V1__ListContainersResponse *m, CriContainerList *ret) {
        _cleanup_(cri_container_list_done) CriContainerList l = {._message = m};
        int r;

        if (m->n_containers > 0) {
                l.items = calloc(m->n_containers, sizeof(CriContainer));
                if (!l.items)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_containers; i++) {
                const Runtime__V1__Container *p = m->containers[i];
                CriContainer *d = &l.items[l.n++];

                *d = (CriContainer){
                        .id = str(p->id),
                        .pod_sandbox_id = str(p->pod_sandbox_id),
                        .name = p->metadata ? str(p->metadata->name) : "",
                        .attempt = p->metadata ? p->metadata->attempt : 0,
                        .image = p->image ? str(p->image->image) : "",
                        .image_ref = str(p->image_ref),
                        .image_id = str(p->image_id),
                        .state = (int) p->state,
                        .created_at = p->created_at,
                };
                r = MAP_FROM(&d->labels, p->labels, p->n_labels);
                if (r < 0)
                        return r;
                r = MAP_FROM(&d->annotations, p->annotations, p->n_annotations);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_STRUCT(l);
        return 0;
}

int cri_decode_container_list(const uint8_t *data, size_t size, CriContainerList *ret) {
        Runtime__V1__ListContainersResponse *m;

        assert(ret);

        m = runtime__v1__list_containers_response__unpack(NULL, size, data ?: (const uint8_t *) "");
        if (!m)
                return -EBADMSG;
        return container_list_from(m, ret);
}

int cri_list_containers(
        CriClient *c, const CriContainerFilter *filter, CriContainerList *ret, CriStatus *ret_status) {

        _cleanup_(map_build_done) MapBuild selector = {};
        Runtime__V1__ListContainersRequest req = RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;
        Runtime__V1__ContainerFilter f = RUNTIME__V1__CONTAINER_FILTER__INIT;
        Runtime__V1__ContainerStateValue state = RUNTIME__V1__CONTAINER_STATE_VALUE__INIT;
        Runtime__V1__ListContainersResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        if (filter) {
                r = map_build(
                        &runtime__v1__container_filter__label_selector_entry__descriptor,
                        filter->label_selector,
                        &selector);
                if (r < 0)
                        return status_return(ret_status, &status, bad_selector(&status, r));
                f.id = unconst(filter->id);
                f.pod_sandbox_id = unconst(filter->pod_sandbox_id);
                if (filter->state >= 0) {
                        state.state = (Runtime__V1__ContainerState) filter->state;
                        f.state = &state;
                }
                f.n_label_selector = selector.n;
                f.label_selector = (Runtime__V1__ContainerFilter__LabelSelectorEntry **) selector.ptrs;
                req.filter = &f;
        }

        r = call_unary(
                c,
                RUNTIME_SERVICE "ListContainers",
                &req.base,
                0,
                &runtime__v1__list_containers_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        r = container_list_from(m, ret);
        if (r < 0)
                return status_return(ret_status, &status, cri_status_set_local(&status, r, "decoding"));
        return status_return(ret_status, &status, 0);
}

void cri_container_status_done(CriContainerStatus *s) {
        if (!s)
                return;
        free(s->labels.items);
        free(s->annotations.items);
        free(s->info.items);
        message_free(s->_message);
        *s = (CriContainerStatus){};
}

int cri_container_status(
        CriClient *c,
        const char *container_id,
        bool verbose,
        CriContainerStatus *ret,
        CriStatus *ret_status) {

        _cleanup_(cri_container_status_done) CriContainerStatus s = {};
        Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
        Runtime__V1__ContainerStatusResponse *m = NULL;
        const Runtime__V1__ContainerStatus *p;
        CriStatus status = {};
        int r;

        assert(ret);

        if (!container_id || !container_id[0])
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status, CRI_CODE_INVALID_ARGUMENT, "ContainerStatus: no container id"));

        req.container_id = unconst(container_id);
        req.verbose = verbose;
        r = call_unary(
                c,
                RUNTIME_SERVICE "ContainerStatus",
                &req.base,
                0,
                &runtime__v1__container_status_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        s._message = m;

        if (!m->status)
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status,
                                CRI_CODE_INTERNAL,
                                "ContainerStatus on %s: the answer holds no status",
                                cri_client_endpoint(c)));
        p = m->status;
        s.id = str(p->id);
        s.name = p->metadata ? str(p->metadata->name) : "";
        s.attempt = p->metadata ? p->metadata->attempt : 0;
        s.state = (int) p->state;
        s.created_at = p->created_at;
        s.started_at = p->started_at;
        s.finished_at = p->finished_at;
        s.exit_code = p->exit_code;
        s.image = p->image ? str(p->image->image) : "";
        s.image_ref = str(p->image_ref);
        s.image_id = str(p->image_id);
        s.reason = str(p->reason);
        s.message = str(p->message);
        s.log_path = str(p->log_path);
        r = MAP_FROM(&s.labels, p->labels, p->n_labels);
        if (r >= 0)
                r = MAP_FROM(&s.annotations, p->annotations, p->n_annotations);
        if (r >= 0)
                r = MAP_FROM(&s.info, m->info, m->n_info);
        if (r < 0)
                return status_return(ret_status, &status, cri_status_set_local(&status, r, "decoding"));

        *ret = TAKE_STRUCT(s);
        return status_return(ret_status, &status, 0);
}

/* ---- images ------------------------------------------------------------------------------------------- */

void cri_image_list_done(CriImageList *l) {
        if (!l)
                return;
        free(l->items);
        message_free(l->_message);
        *l = (CriImageList){};
}

int cri_list_images(CriClient *c, CriImageList *ret, CriStatus *ret_status) {
        _cleanup_(cri_image_list_done) CriImageList l = {};
        Runtime__V1__ListImagesRequest req = RUNTIME__V1__LIST_IMAGES_REQUEST__INIT;
        Runtime__V1__ListImagesResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        r = call_unary(
                c,
                IMAGE_SERVICE "ListImages",
                &req.base,
                0,
                &runtime__v1__list_images_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        l._message = m;

        if (m->n_images > 0) {
                l.items = calloc(m->n_images, sizeof(CriImage));
                if (!l.items)
                        return status_return(
                                ret_status, &status, cri_status_set_local(&status, -ENOMEM, "decoding"));
        }
        for (size_t i = 0; i < m->n_images; i++) {
                const Runtime__V1__Image *p = m->images[i];

                l.items[i] = (CriImage){
                        .id = str(p->id),
                        .repo_tags = (const char *const *) p->repo_tags,
                        .n_repo_tags = p->n_repo_tags,
                        .repo_digests = (const char *const *) p->repo_digests,
                        .n_repo_digests = p->n_repo_digests,
                        .size = p->size,
                        .pinned = p->pinned,
                        .username = str(p->username),
                };
        }
        l.n = m->n_images;

        *ret = TAKE_STRUCT(l);
        return status_return(ret_status, &status, 0);
}

void cri_image_fs_info_done(CriImageFsInfo *i) {
        if (!i)
                return;
        free(i->image_filesystems);
        free(i->container_filesystems);
        message_free(i->_message);
        *i = (CriImageFsInfo){};
}

static int filesystems_from(Runtime__V1__FilesystemUsage **in, size_t n, CriFilesystemUsage **ret) {
        CriFilesystemUsage *a;

        *ret = NULL;
        if (n == 0)
                return 0;
        a = calloc(n, sizeof(CriFilesystemUsage));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                a[i] = (CriFilesystemUsage){
                        .timestamp = in[i]->timestamp,
                        .mountpoint = in[i]->fs_id ? str(in[i]->fs_id->mountpoint) : "",
                        .used_bytes = in[i]->used_bytes ? in[i]->used_bytes->value : UINT64_MAX,
                        .inodes_used = in[i]->inodes_used ? in[i]->inodes_used->value : UINT64_MAX,
                };
        *ret = a;
        return 0;
}

int cri_image_fs_info(CriClient *c, CriImageFsInfo *ret, CriStatus *ret_status) {
        _cleanup_(cri_image_fs_info_done) CriImageFsInfo info = {};
        Runtime__V1__ImageFsInfoRequest req = RUNTIME__V1__IMAGE_FS_INFO_REQUEST__INIT;
        Runtime__V1__ImageFsInfoResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        r = call_unary(
                c,
                IMAGE_SERVICE "ImageFsInfo",
                &req.base,
                0,
                &runtime__v1__image_fs_info_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        info._message = m;

        r = filesystems_from(m->image_filesystems, m->n_image_filesystems, &info.image_filesystems);
        if (r >= 0) {
                info.n_image_filesystems = m->n_image_filesystems;
                r = filesystems_from(
                        m->container_filesystems, m->n_container_filesystems, &info.container_filesystems);
        }
        if (r < 0)
                return status_return(ret_status, &status, cri_status_set_local(&status, r, "decoding"));
        info.n_container_filesystems = m->n_container_filesystems;

        *ret = TAKE_STRUCT(info);
        return status_return(ret_status, &status, 0);
}

/* ---- pod resources ------------------------------------------------------------------------------------- */

void cri_pod_resources_list_done(CriPodResourcesList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                free((void *) l->items[i].containers);
        free(l->items);
        message_free(l->_message);
        *l = (CriPodResourcesList){};
}

int cri_list_pod_resources(CriClient *c, CriPodResourcesList *ret, CriStatus *ret_status) {
        _cleanup_(cri_pod_resources_list_done) CriPodResourcesList l = {};
        V1__ListPodResourcesRequest req = V1__LIST_POD_RESOURCES_REQUEST__INIT;
        V1__ListPodResourcesResponse *m = NULL;
        CriStatus status = {};
        int r;

        assert(ret);

        r = call_unary(
                c,
                POD_RESOURCES_SERVICE "List",
                &req.base,
                0,
                &v1__list_pod_resources_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        l._message = m;

        if (m->n_pod_resources > 0) {
                l.items = calloc(m->n_pod_resources, sizeof(CriPodResources));
                if (!l.items)
                        return status_return(
                                ret_status, &status, cri_status_set_local(&status, -ENOMEM, "decoding"));
        }
        for (size_t i = 0; i < m->n_pod_resources; i++) {
                const V1__PodResources *p = m->pod_resources[i];
                CriPodResources *d = &l.items[l.n++];
                const char **names = NULL;

                if (p->n_containers > 0) {
                        names = calloc(p->n_containers, sizeof(char *));
                        if (!names)
                                return status_return(
                                        ret_status,
                                        &status,
                                        cri_status_set_local(&status, -ENOMEM, "decoding"));
                        for (size_t j = 0; j < p->n_containers; j++)
                                names[j] = str(p->containers[j]->name);
                }
                *d = (CriPodResources){
                        .name = str(p->name),
                        .namespace = str(p->namespace_),
                        .containers = names,
                        .n_containers = p->n_containers,
                };
        }

        *ret = TAKE_STRUCT(l);
        return status_return(ret_status, &status, 0);
}

/* ---- creating pods ------------------------------------------------------------------------------------- */

typedef struct SandboxConfigBuild {
        Runtime__V1__PodSandboxConfig config;
        Runtime__V1__PodSandboxMetadata metadata;
        Runtime__V1__LinuxPodSandboxConfig linux_config;
        Runtime__V1__LinuxSandboxSecurityContext security;
        Runtime__V1__NamespaceOption namespaces;
        MapBuild labels;
        MapBuild annotations;
} SandboxConfigBuild;

static void sandbox_config_build_done(SandboxConfigBuild *b) {
        map_build_done(&b->labels);
        map_build_done(&b->annotations);
}

/* Points into itself: build it where it stays. */
static int sandbox_config_build(const CriPodSandboxConfig *in, SandboxConfigBuild *b) {
        int r;

        *b = (SandboxConfigBuild){
                .config = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT,
                .metadata = RUNTIME__V1__POD_SANDBOX_METADATA__INIT,
                .linux_config = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT,
                .security = RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT,
                .namespaces = RUNTIME__V1__NAMESPACE_OPTION__INIT,
        };
        if (!in->name || !in->namespace || !in->uid)
                return -EINVAL;

        b->metadata.name = unconst(in->name);
        b->metadata.namespace_ = unconst(in->namespace);
        b->metadata.uid = unconst(in->uid);
        b->metadata.attempt = in->attempt;
        b->config.metadata = &b->metadata;
        b->config.hostname = unconst(in->hostname);
        b->config.log_directory = unconst(in->log_directory);

        r = map_build(&runtime__v1__pod_sandbox_config__labels_entry__descriptor, in->labels, &b->labels);
        if (r < 0)
                return r;
        r = map_build(
                &runtime__v1__pod_sandbox_config__annotations_entry__descriptor,
                in->annotations,
                &b->annotations);
        if (r < 0)
                return r;
        b->config.n_labels = b->labels.n;
        b->config.labels = (Runtime__V1__PodSandboxConfig__LabelsEntry **) b->labels.ptrs;
        b->config.n_annotations = b->annotations.n;
        b->config.annotations = (Runtime__V1__PodSandboxConfig__AnnotationsEntry **) b->annotations.ptrs;

        b->linux_config.cgroup_parent = unconst(in->cgroup_parent);
        if (in->host_network) {
                b->namespaces.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
                b->security.namespace_options = &b->namespaces;
                b->linux_config.security_context = &b->security;
        }
        b->config.linux = &b->linux_config;
        return 0;
}

int cri_run_pod_sandbox(
        CriClient *c, const CriPodSandboxConfig *config, char **ret_sandbox_id, CriStatus *ret_status) {

        _cleanup_(sandbox_config_build_done) SandboxConfigBuild b = {};
        Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__RunPodSandboxResponse *m = NULL;
        CriStatus status = {};
        char *id;
        int r;

        assert(config);
        assert(ret_sandbox_id);

        r = sandbox_config_build(config, &b);
        if (r == -EINVAL)
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status,
                                CRI_CODE_INVALID_ARGUMENT,
                                "RunPodSandbox: name, namespace and uid are required; labels and "
                                "annotations are pairs"));
        if (r < 0)
                return status_return(
                        ret_status, &status, cri_status_set_local(&status, r, "encoding the request"));
        req.config = &b.config;
        req.runtime_handler = unconst(config->runtime_handler);

        r = call_unary(
                c,
                RUNTIME_SERVICE "RunPodSandbox",
                &req.base,
                0,
                &runtime__v1__run_pod_sandbox_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        id = strdup(str(m->pod_sandbox_id));
        message_free(m);
        if (!id)
                return status_return(
                        ret_status, &status, cri_status_set_local(&status, -ENOMEM, "decoding"));
        *ret_sandbox_id = id;
        return status_return(ret_status, &status, 0);
}

int cri_create_container(
        CriClient *c,
        const char *sandbox_id,
        const CriContainerConfig *config,
        const CriPodSandboxConfig *sandbox_config,
        char **ret_container_id,
        CriStatus *ret_status) {

        _cleanup_(sandbox_config_build_done) SandboxConfigBuild sb = {};
        _cleanup_(map_build_done) MapBuild labels = {}, annotations = {};
        _cleanup_free_ Runtime__V1__KeyValue *envs = NULL;
        _cleanup_free_ Runtime__V1__KeyValue **env_ptrs = NULL;
        Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
        Runtime__V1__ContainerConfig cc = RUNTIME__V1__CONTAINER_CONFIG__INIT;
        Runtime__V1__ContainerMetadata md = RUNTIME__V1__CONTAINER_METADATA__INIT;
        Runtime__V1__ImageSpec image = RUNTIME__V1__IMAGE_SPEC__INIT;
        Runtime__V1__CreateContainerResponse *m = NULL;
        CriStatus status = {};
        size_t n_envs;
        char *id;
        int r;

        assert(config);
        assert(sandbox_config);
        assert(ret_container_id);

        n_envs = strv_length(config->envs);
        if (!sandbox_id || !sandbox_id[0] || !config->name || !config->image || n_envs % 2 != 0)
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status,
                                CRI_CODE_INVALID_ARGUMENT,
                                "CreateContainer: sandbox id, name and image are required; envs are pairs"));

        r = sandbox_config_build(sandbox_config, &sb);
        if (r >= 0)
                r = map_build(
                        &runtime__v1__container_config__labels_entry__descriptor, config->labels, &labels);
        if (r >= 0)
                r = map_build(
                        &runtime__v1__container_config__annotations_entry__descriptor,
                        config->annotations,
                        &annotations);
        if (r >= 0 && n_envs > 0) {
                n_envs /= 2;
                envs = calloc(n_envs, sizeof(Runtime__V1__KeyValue));
                env_ptrs = calloc(n_envs, sizeof(Runtime__V1__KeyValue *));
                if (!envs || !env_ptrs)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < n_envs; i++) {
                        runtime__v1__key_value__init(&envs[i]);
                        envs[i].key = unconst(config->envs[2 * i]);
                        envs[i].value = unconst(config->envs[2 * i + 1]);
                        env_ptrs[i] = &envs[i];
                }
        } else
                n_envs = 0;
        if (r == -EINVAL)
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status,
                                CRI_CODE_INVALID_ARGUMENT,
                                "CreateContainer: the sandbox config needs name, namespace and uid; maps "
                                "are pairs"));
        if (r < 0)
                return status_return(
                        ret_status, &status, cri_status_set_local(&status, r, "encoding the request"));

        md.name = unconst(config->name);
        md.attempt = config->attempt;
        image.image = unconst(config->image);
        cc.metadata = &md;
        cc.image = &image;
        cc.n_command = strv_length(config->command);
        cc.command = (char **) config->command;
        cc.n_args = strv_length(config->args);
        cc.args = (char **) config->args;
        cc.working_dir = unconst(config->working_dir);
        cc.n_envs = n_envs;
        cc.envs = env_ptrs;
        cc.n_labels = labels.n;
        cc.labels = (Runtime__V1__ContainerConfig__LabelsEntry **) labels.ptrs;
        cc.n_annotations = annotations.n;
        cc.annotations = (Runtime__V1__ContainerConfig__AnnotationsEntry **) annotations.ptrs;
        cc.log_path = unconst(config->log_path);

        req.pod_sandbox_id = unconst(sandbox_id);
        req.config = &cc;
        req.sandbox_config = &sb.config;

        r = call_unary(
                c,
                RUNTIME_SERVICE "CreateContainer",
                &req.base,
                0,
                &runtime__v1__create_container_response__descriptor,
                (ProtobufCMessage **) &m,
                &status);
        if (r < 0)
                return status_return(ret_status, &status, r);
        id = strdup(str(m->container_id));
        message_free(m);
        if (!id)
                return status_return(
                        ret_status, &status, cri_status_set_local(&status, -ENOMEM, "decoding"));
        *ret_container_id = id;
        return status_return(ret_status, &status, 0);
}

int cri_start_container(CriClient *c, const char *container_id, CriStatus *ret_status) {
        Runtime__V1__StartContainerRequest req = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
        ProtobufCMessage *m = NULL;
        CriStatus status = {};
        int r;

        if (!container_id || !container_id[0])
                return status_return(
                        ret_status,
                        &status,
                        cri_status_set(
                                &status, CRI_CODE_INVALID_ARGUMENT, "StartContainer: no container id"));
        req.container_id = unconst(container_id);
        r = call_unary(
                c,
                RUNTIME_SERVICE "StartContainer",
                &req.base,
                0,
                &runtime__v1__start_container_response__descriptor,
                &m,
                &status);
        message_free(m);
        return status_return(ret_status, &status, r);
}

/* ---- removals, one or many ------------------------------------------------------------------------------- */

static const struct {
        const char *path;
        const ProtobufCMessageDescriptor *response;
} batch_ops[_CRI_BATCH_OP_MAX] = {
        [CRI_BATCH_STOP_CONTAINER] =
                {RUNTIME_SERVICE "StopContainer", &runtime__v1__stop_container_response__descriptor},
        [CRI_BATCH_REMOVE_CONTAINER] =
                {RUNTIME_SERVICE "RemoveContainer", &runtime__v1__remove_container_response__descriptor},
        [CRI_BATCH_STOP_POD_SANDBOX] =
                {RUNTIME_SERVICE "StopPodSandbox", &runtime__v1__stop_pod_sandbox_response__descriptor},
        [CRI_BATCH_REMOVE_POD_SANDBOX] =
                {RUNTIME_SERVICE "RemovePodSandbox", &runtime__v1__remove_pod_sandbox_response__descriptor},
        [CRI_BATCH_REMOVE_IMAGE] =
                {IMAGE_SERVICE "RemoveImage", &runtime__v1__remove_image_response__descriptor},
};

static int batch_request(const CriBatchCall *b, uint8_t **ret, size_t *ret_size) {
        switch (b->op) {
        case CRI_BATCH_STOP_CONTAINER: {
                Runtime__V1__StopContainerRequest m = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
                m.container_id = unconst(b->id);
                m.timeout = MAX(b->timeout_sec, (int64_t) 0);
                return request_frame(&m.base, ret, ret_size);
        }
        case CRI_BATCH_REMOVE_CONTAINER: {
                Runtime__V1__RemoveContainerRequest m = RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;
                m.container_id = unconst(b->id);
                return request_frame(&m.base, ret, ret_size);
        }
        case CRI_BATCH_STOP_POD_SANDBOX: {
                Runtime__V1__StopPodSandboxRequest m = RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
                m.pod_sandbox_id = unconst(b->id);
                return request_frame(&m.base, ret, ret_size);
        }
        case CRI_BATCH_REMOVE_POD_SANDBOX: {
                Runtime__V1__RemovePodSandboxRequest m = RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
                m.pod_sandbox_id = unconst(b->id);
                return request_frame(&m.base, ret, ret_size);
        }
        case CRI_BATCH_REMOVE_IMAGE: {
                Runtime__V1__RemoveImageRequest m = RUNTIME__V1__REMOVE_IMAGE_REQUEST__INIT;
                Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
                spec.image = unconst(b->id);
                m.image = &spec;
                return request_frame(&m.base, ret, ret_size);
        }
        default:
                return -EINVAL;
        }
}

void cri_batch_done(CriBatchCall *calls, size_t n) {
        for (size_t i = 0; calls && i < n; i++)
                cri_status_done(&calls[i].status);
}

int cri_batch_run(CriClient *c, CriBatchCall *calls, size_t n) {
        _cleanup_free_ CriCall *cc = NULL;
        _cleanup_free_ size_t *index = NULL;
        size_t m = 0, failed = 0;
        uint64_t timeout = cri_client_timeout_usec(c);
        int r, run = 0;

        assert(calls || n == 0);

        for (size_t i = 0; i < n; i++) {
                calls[i].result = 0;
                calls[i].status = (CriStatus){};
        }
        if (n == 0)
                return 0;

        cc = calloc(n, sizeof(CriCall));
        index = calloc(n, sizeof(size_t));
        if (!cc || !index) {
                for (size_t i = 0; i < n; i++)
                        calls[i].result =
                                cri_status_set_local(&calls[i].status, -ENOMEM, "starting the calls");
                return -ENOMEM;
        }

        for (size_t i = 0; i < n; i++) {
                CriBatchCall *b = &calls[i];
                uint8_t *framed = NULL;
                size_t size;

                if ((unsigned) b->op >= _CRI_BATCH_OP_MAX || !b->id || !b->id[0]) {
                        b->result = cri_status_set(
                                &b->status,
                                CRI_CODE_INVALID_ARGUMENT,
                                "batch call %zu: unknown operation or no id",
                                i);
                        continue;
                }
                r = batch_request(b, &framed, &size);
                if (r < 0) {
                        b->result = cri_status_set_local(&b->status, r, "encoding the request");
                        continue;
                }
                cc[m] = (CriCall){
                        .path = batch_ops[b->op].path,
                        .request = framed,
                        .request_size = size,
                };
                /* As the kubelet: StopContainer may take its grace period on top of the timeout. */
                if (b->op == CRI_BATCH_STOP_CONTAINER && b->timeout_sec > 0)
                        cc[m].timeout_usec =
                                timeout +
                                (uint64_t) MIN(b->timeout_sec, (int64_t) (INT32_MAX)) * USEC_PER_SEC;
                index[m++] = i;
        }

        if (m > 0)
                run = cri_calls_run(c, cc, m);

        for (size_t j = 0; j < m; j++) {
                CriBatchCall *b = &calls[index[j]];
                ProtobufCMessage *resp;

                free((void *) cc[j].request);
                if (cc[j].result < 0) {
                        b->result = cc[j].result;
                        b->status = TAKE_STRUCT(cc[j].status);
                } else {
                        /* An empty message, but it must be one. */
                        resp = protobuf_c_message_unpack(
                                batch_ops[b->op].response,
                                NULL,
                                cc[j].response_size,
                                cc[j].response ?: (const uint8_t *) "");
                        if (resp)
                                message_free(resp);
                        else
                                b->result = cri_status_set(
                                        &b->status,
                                        CRI_CODE_INTERNAL,
                                        "%s on %s: the response is not a valid %s message",
                                        method_of(batch_ops[b->op].path),
                                        cri_client_endpoint(c),
                                        batch_ops[b->op].response->name);
                }
                cri_call_done(&cc[j]);
        }

        if (run < 0 && m == n)
                return run; /* nothing ran; each call says why */
        for (size_t i = 0; i < n; i++)
                if (calls[i].result < 0)
                        failed++;
        return (int) MIN(failed, (size_t) INT_MAX);
}

static int
batch_one(CriClient *c, CriBatchOp op, const char *id, int64_t timeout_sec, CriStatus *ret_status) {
        CriBatchCall call = {.op = op, .id = id, .timeout_sec = timeout_sec};

        (void) cri_batch_run(c, &call, 1);
        return status_return(ret_status, &call.status, call.result);
}

int cri_stop_container(CriClient *c, const char *container_id, int64_t timeout_sec, CriStatus *ret_status) {
        return batch_one(c, CRI_BATCH_STOP_CONTAINER, container_id, timeout_sec, ret_status);
}

int cri_remove_container(CriClient *c, const char *container_id, CriStatus *ret_status) {
        return batch_one(c, CRI_BATCH_REMOVE_CONTAINER, container_id, 0, ret_status);
}

int cri_stop_pod_sandbox(CriClient *c, const char *sandbox_id, CriStatus *ret_status) {
        return batch_one(c, CRI_BATCH_STOP_POD_SANDBOX, sandbox_id, 0, ret_status);
}

int cri_remove_pod_sandbox(CriClient *c, const char *sandbox_id, CriStatus *ret_status) {
        return batch_one(c, CRI_BATCH_REMOVE_POD_SANDBOX, sandbox_id, 0, ret_status);
}

int cri_remove_image(CriClient *c, const char *image, CriStatus *ret_status) {
        return batch_one(c, CRI_BATCH_REMOVE_IMAGE, image, 0, ret_status);
}
