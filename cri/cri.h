/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cri: a client for the kubelet's Container Runtime Interface — gRPC unary calls over HTTP/2
 * (nghttp2) on a unix socket, messages from the project's own proto subset (protobuf-c) — with
 * typed calls that answer in plain C structs. One connection per pass; no threads; nothing here
 * logs above debug.
 *
 * Errors. Every call returns 0 when the runtime answered OK, else a negative errno:
 *  - a failed call: cri_code_to_errno() of its gRPC code, so that NOT_FOUND is -ENOENT ("already
 *    gone", as everywhere in podreaper), DEADLINE_EXCEEDED -ETIMEDOUT, UNAVAILABLE -EAGAIN, ...;
 *  - a local failure: -EINVAL for a bad argument (reported as INVALID_ARGUMENT; nothing was sent),
 *    -ENOMEM (reported as INTERNAL).
 * The CriStatus out-parameter (may be NULL) is the error report and, unlike other ret_* params, is
 * written on every return, without releasing what it held: code CRI_CODE_OK and message NULL on
 * success; otherwise the gRPC code and the runtime's percent-decoded grpc-message, or our own
 * words for a transport failure (these name the method and the endpoint). Release it with
 * cri_status_done(). Transport failures map as grpc-go's client does: no answer by the deadline
 * DEADLINE_EXCEEDED; a response over the receive cap RESOURCE_EXHAUSTED; a dropped connection
 * UNAVAILABLE; an HTTP status other than 200 by gRPC's HTTP mapping (404 UNIMPLEMENTED, 503
 * UNAVAILABLE, ...); a wrong content-type, a compressed or malformed frame, a message that does not
 * decode, a stream reset by the server (by its HTTP/2 code; REFUSED_STREAM: UNAVAILABLE) INTERNAL. */

/* ---- status ------------------------------------------------------------------------------------ */

typedef enum CriCode {
        CRI_CODE_OK = 0,
        CRI_CODE_CANCELLED = 1,
        CRI_CODE_UNKNOWN = 2,
        CRI_CODE_INVALID_ARGUMENT = 3,
        CRI_CODE_DEADLINE_EXCEEDED = 4,
        CRI_CODE_NOT_FOUND = 5,
        CRI_CODE_ALREADY_EXISTS = 6,
        CRI_CODE_PERMISSION_DENIED = 7,
        CRI_CODE_RESOURCE_EXHAUSTED = 8,
        CRI_CODE_FAILED_PRECONDITION = 9,
        CRI_CODE_ABORTED = 10,
        CRI_CODE_OUT_OF_RANGE = 11,
        CRI_CODE_UNIMPLEMENTED = 12,
        CRI_CODE_INTERNAL = 13,
        CRI_CODE_UNAVAILABLE = 14,
        CRI_CODE_DATA_LOSS = 15,
        CRI_CODE_UNAUTHENTICATED = 16,
        _CRI_CODE_MAX,
} CriCode;

typedef struct CriStatus {
        int code;      /* CriCode; a server may send codes beyond _CRI_CODE_MAX */
        char *message; /* owned; NULL with CRI_CODE_OK, never NULL otherwise */
} CriStatus;

void cri_status_done(CriStatus *s);

/* "NOT_FOUND"; NULL for a code gRPC does not define. */
const char *cri_code_to_string(int code);

/* OK 0, CANCELLED -ECANCELED, UNKNOWN -EIO, INVALID_ARGUMENT -EINVAL, DEADLINE_EXCEEDED -ETIMEDOUT,
 * NOT_FOUND -ENOENT, ALREADY_EXISTS -EEXIST, PERMISSION_DENIED -EACCES, RESOURCE_EXHAUSTED
 * -ENOBUFS, FAILED_PRECONDITION -EBUSY, ABORTED -ECONNABORTED, OUT_OF_RANGE -ERANGE, UNIMPLEMENTED
 * -EOPNOTSUPP, INTERNAL -EPROTO, UNAVAILABLE -EAGAIN, DATA_LOSS -EBADMSG, UNAUTHENTICATED -EPERM,
 * any other code -EIO. */
int cri_code_to_errno(int code);

/* ---- connection -------------------------------------------------------------------------------- */

typedef struct CriClient CriClient;

#define CRI_DEFAULT_TIMEOUT_USEC (2ULL * 60 * 1000 * 1000)    /* the kubelet's --runtime-request-timeout */
#define CRI_DEFAULT_MAX_RECV_SIZE ((size_t) 16 * 1024 * 1024) /* the kubelet's maxMsgSize */
#define CRI_DEFAULT_MAX_CONCURRENT 8U

typedef struct CriOptions {
        uint64_t timeout_usec;   /* deadline of each call (also sent as grpc-timeout); 0: default */
        size_t max_recv_size;    /* largest response message accepted; 0: default */
        unsigned max_concurrent; /* streams in flight at once in cri_batch_run(); 0: default */
        /* Set (nonzero) by a signal handler: the calls in flight end with CANCELLED when the
         * signal interrupts their wait, and the connection is broken. NULL: never cancelled. */
        const volatile sig_atomic_t *cancel;
} CriOptions;

/* The sockets tried, in order, when no endpoint is given: containerd, CRI-O, cri-dockerd (as
 * crictl does). NULL-terminated, "unix://..." URLs. */
const char *const *cri_default_endpoints(void);

/* Connects to `endpoint`: "unix:///path", "unix:/path" or "/path" (only unix sockets). NULL tries
 * cri_default_endpoints() in order, skipping those that do not exist. Returns 0, or: -EINVAL a
 * malformed endpoint, -ENAMETOOLONG a path too long for a socket address, -ENOENT no socket there
 * (none of the defaults), -ENOTSOCK the path is not a socket, -EACCES permission denied,
 * -ECONNREFUSED nothing listens (a stale socket), -ENOMEM. The status message names the endpoint:
 * "CRI endpoint unix:///run/containerd/containerd.sock: no such socket". `opts` may be NULL. */
int cri_connect(const char *endpoint, const CriOptions *opts, CriClient **ret, CriStatus *ret_status);

/* Closes the connection (sends GOAWAY, best effort). Accepts NULL; returns NULL. */
CriClient *cri_client_free(CriClient *c);
static inline void cri_client_freep(CriClient **c) {
        cri_client_free(*c);
}
#define _cleanup_cri_client_ __attribute__((cleanup(cri_client_freep)))

/* The endpoint connected to, as "unix:///path". */
const char *cri_client_endpoint(const CriClient *c);

/* A connection that failed (dropped, reset, HTTP/2 protocol error) stays failed: every later call
 * fails at once with UNAVAILABLE; connect again for the next pass. */
bool cri_client_is_broken(const CriClient *c);

/* ---- result types ------------------------------------------------------------------------------ */

/* Every string below is non-NULL ("" where the runtime left a field out) and lives until the
 * owning list or status struct is released with its _done function. Times are nanoseconds since
 * the epoch, as CRI sends them. */

typedef struct CriKeyValue {
        const char *key;
        const char *value;
} CriKeyValue;

typedef struct CriMap {
        CriKeyValue *items;
        size_t n;
} CriMap;

/* The value of `key`, NULL if absent. */
const char *cri_map_get(const CriMap *m, const char *key);

typedef struct CriVersion {
        const char *version; /* the CRI API version, "v1" */
        const char *runtime_name;
        const char *runtime_version;
        const char *runtime_api_version;
        void *_message;
} CriVersion;

void cri_version_done(CriVersion *v);

typedef struct CriRuntimeCondition {
        const char *type; /* "RuntimeReady", "NetworkReady" */
        bool status;
        const char *reason;
        const char *message;
} CriRuntimeCondition;

typedef struct CriRuntimeStatus {
        CriRuntimeCondition *conditions;
        size_t n_conditions;
        CriMap info; /* with verbose: JSON documents by key; containerd's "config" names its
                      * "sandboxImage" */
        void *_message;
} CriRuntimeStatus;

void cri_runtime_status_done(CriRuntimeStatus *s);

typedef enum CriCgroupDriver {
        CRI_CGROUP_DRIVER_SYSTEMD = 0,
        CRI_CGROUP_DRIVER_CGROUPFS = 1,
} CriCgroupDriver;

typedef enum CriPodSandboxState {
        CRI_SANDBOX_READY = 0,
        CRI_SANDBOX_NOTREADY = 1,
} CriPodSandboxState;

typedef struct CriPodSandbox {
        const char *id;
        const char *pod_name; /* metadata */
        const char *pod_namespace;
        const char *pod_uid;
        uint32_t attempt;
        int state; /* CriPodSandboxState; unknown values are passed on */
        int64_t created_at;
        CriMap labels;
        CriMap annotations;
        const char *runtime_handler;
} CriPodSandbox;

typedef struct CriPodSandboxList {
        CriPodSandbox *items;
        size_t n;
        void *_message;
} CriPodSandboxList;

void cri_pod_sandbox_list_done(CriPodSandboxList *l);

typedef enum CriContainerState {
        CRI_CONTAINER_CREATED = 0,
        CRI_CONTAINER_RUNNING = 1,
        CRI_CONTAINER_EXITED = 2,
        CRI_CONTAINER_UNKNOWN = 3,
} CriContainerState;

const char *cri_container_state_to_string(int state); /* "CONTAINER_EXITED"; NULL if unknown */
const char *cri_pod_sandbox_state_to_string(int state);

typedef struct CriContainer {
        const char *id;
        const char *pod_sandbox_id;
        const char *name; /* metadata */
        uint32_t attempt;
        const char *image;     /* image spec as created, e.g. "docker.io/library/busybox:1.35" */
        const char *image_ref; /* historically a digest or image id */
        const char *image_id;  /* the image's id on the node (newer runtimes; may be "") */
        int state;             /* CriContainerState; unknown values are passed on */
        int64_t created_at;
        CriMap labels; /* io.kubernetes.pod.uid, io.kubernetes.container.name, ... */
        CriMap annotations;
} CriContainer;

typedef struct CriContainerList {
        CriContainer *items;
        size_t n;
        void *_message;
} CriContainerList;

void cri_container_list_done(CriContainerList *l);

typedef struct CriContainerStatus {
        const char *id;
        const char *name;
        uint32_t attempt;
        int state;
        int64_t created_at;
        int64_t started_at;
        int64_t finished_at;
        int32_t exit_code;
        const char *image;
        const char *image_ref;
        const char *image_id;
        const char *reason;
        const char *message;
        const char *log_path;
        CriMap labels;
        CriMap annotations;
        CriMap info; /* with verbose */
        void *_message;
} CriContainerStatus;

void cri_container_status_done(CriContainerStatus *s);

typedef struct CriImage {
        const char *id;
        const char *const *repo_tags;
        size_t n_repo_tags;
        const char *const *repo_digests;
        size_t n_repo_digests;
        uint64_t size;
        bool pinned; /* a recommendation; containerd 1.6 always says false */
        const char *username;
} CriImage;

typedef struct CriImageList {
        CriImage *items;
        size_t n;
        void *_message;
} CriImageList;

void cri_image_list_done(CriImageList *l);

typedef struct CriFilesystemUsage {
        int64_t timestamp;
        const char *mountpoint;
        uint64_t used_bytes;  /* UINT64_MAX when the runtime did not say */
        uint64_t inodes_used; /* UINT64_MAX when the runtime did not say */
} CriFilesystemUsage;

typedef struct CriImageFsInfo {
        CriFilesystemUsage *image_filesystems;
        size_t n_image_filesystems;
        CriFilesystemUsage *container_filesystems;
        size_t n_container_filesystems;
        void *_message;
} CriImageFsInfo;

void cri_image_fs_info_done(CriImageFsInfo *i);

/* The kubelet's pod-resources List: the pods it considers active. */
typedef struct CriPodResources {
        const char *name;
        const char *namespace;
        const char *const *containers; /* container names */
        size_t n_containers;
} CriPodResources;

typedef struct CriPodResourcesList {
        CriPodResources *items;
        size_t n;
        void *_message;
} CriPodResourcesList;

void cri_pod_resources_list_done(CriPodResourcesList *l);

/* ---- calls ------------------------------------------------------------------------------------- */

/* Input maps (label selectors, labels, annotations, environment) are NULL-terminated key/value
 * string pairs: (const char *const[]) {"io.kubernetes.pod.uid", uid, NULL}. NULL: none. */

typedef struct CriPodSandboxFilter {
        const char *id;                    /* NULL: any */
        int state;                         /* CriPodSandboxState, or -1: any */
        const char *const *label_selector; /* all must match */
} CriPodSandboxFilter;

typedef struct CriContainerFilter {
        const char *id;             /* NULL: any */
        const char *pod_sandbox_id; /* NULL: any */
        int state;                  /* CriContainerState, or -1: any */
        const char *const *label_selector;
} CriContainerFilter;

int cri_version(CriClient *c, CriVersion *ret, CriStatus *ret_status);
int cri_runtime_status(CriClient *c, bool verbose, CriRuntimeStatus *ret, CriStatus *ret_status);
/* UNIMPLEMENTED (-EOPNOTSUPP) on runtimes older than CRI 1.28 (containerd 1.6): detect the cgroup
 * driver from the cgroup layout instead. */
int cri_runtime_config(CriClient *c, CriCgroupDriver *ret, CriStatus *ret_status);

/* filter may be NULL: everything, in every state. */
int cri_list_pod_sandboxes(
        CriClient *c, const CriPodSandboxFilter *filter, CriPodSandboxList *ret, CriStatus *ret_status);
int cri_list_containers(
        CriClient *c, const CriContainerFilter *filter, CriContainerList *ret, CriStatus *ret_status);
int cri_container_status(
        CriClient *c,
        const char *container_id,
        bool verbose,
        CriContainerStatus *ret,
        CriStatus *ret_status);
int cri_list_images(CriClient *c, CriImageList *ret, CriStatus *ret_status);
int cri_image_fs_info(CriClient *c, CriImageFsInfo *ret, CriStatus *ret_status);

/* The runtime kills the container after `timeout_sec` (0: at once); the call's deadline is the
 * client's timeout plus that grace, as the kubelet does. */
int cri_stop_container(CriClient *c, const char *container_id, int64_t timeout_sec, CriStatus *ret_status);
int cri_remove_container(CriClient *c, const char *container_id, CriStatus *ret_status);
int cri_stop_pod_sandbox(CriClient *c, const char *sandbox_id, CriStatus *ret_status);
int cri_remove_pod_sandbox(CriClient *c, const char *sandbox_id, CriStatus *ret_status);
/* `image` is an id, a tag or a digest reference. */
int cri_remove_image(CriClient *c, const char *image, CriStatus *ret_status);

/* On the kubelet's pod-resources socket (connect to <root-dir>/pod-resources/kubelet.sock). */
int cri_list_pod_resources(CriClient *c, CriPodResourcesList *ret, CriStatus *ret_status);

/* ---- creating pods (tests, demo) --------------------------------------------------------------- */

typedef struct CriPodSandboxConfig {
        const char *name; /* metadata: pod name, namespace, uid, attempt */
        const char *namespace;
        const char *uid;
        uint32_t attempt;
        const char *hostname; /* must be "" (NULL) with host_network */
        const char *log_directory;
        const char *cgroup_parent; /* cgroupfs syntax: "/kubepods/besteffort/pod<uid>" */
        bool host_network;         /* network namespace NODE: needs no CNI */
        const char *const *labels;
        const char *const *annotations;
        const char *runtime_handler;
} CriPodSandboxConfig;

typedef struct CriContainerConfig {
        const char *name;
        uint32_t attempt;
        const char *image;
        const char *const *command; /* NULL-terminated; NULL: the image's entrypoint */
        const char *const *args;
        const char *working_dir;
        const char *const *envs; /* key/value pairs */
        const char *const *labels;
        const char *const *annotations;
        const char *log_path; /* relative to the sandbox's log_directory */
} CriContainerConfig;

int cri_run_pod_sandbox(
        CriClient *c, const CriPodSandboxConfig *config, char **ret_sandbox_id, CriStatus *ret_status);
/* sandbox_config: the config the sandbox was run with (CRI passes it again). */
int cri_create_container(
        CriClient *c,
        const char *sandbox_id,
        const CriContainerConfig *config,
        const CriPodSandboxConfig *sandbox_config,
        char **ret_container_id,
        CriStatus *ret_status);
int cri_start_container(CriClient *c, const char *container_id, CriStatus *ret_status);

/* ---- bulk removals ------------------------------------------------------------------------------ */

typedef enum CriBatchOp {
        CRI_BATCH_STOP_CONTAINER,
        CRI_BATCH_REMOVE_CONTAINER,
        CRI_BATCH_STOP_POD_SANDBOX,
        CRI_BATCH_REMOVE_POD_SANDBOX,
        CRI_BATCH_REMOVE_IMAGE,
        _CRI_BATCH_OP_MAX,
} CriBatchOp;

typedef struct CriBatchCall {
        CriBatchOp op;
        const char *id;      /* container id, sandbox id, or image reference */
        int64_t timeout_sec; /* CRI_BATCH_STOP_CONTAINER: the grace, as cri_stop_container() */
        int result;          /* out: what the single call would have returned */
        CriStatus status;    /* out: this call's own status; release with cri_batch_done() */
} CriBatchCall;

/* Runs the calls as concurrent streams on the one connection, at most max_concurrent (CriOptions)
 * in flight, each with its own deadline, and reports each call's own result and status, in place.
 * Returns how many calls failed (>= 0), or -errno when it could not run them at all (-ENOMEM,
 * -EINVAL); calls that never ran then report that error. */
int cri_batch_run(CriClient *c, CriBatchCall *calls, size_t n);
void cri_batch_done(CriBatchCall *calls, size_t n);
