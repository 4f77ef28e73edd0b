/*
 * sim.h: roomserver-sim, the contract-faithful RoomServer of
 * /work/shared/spec/roomserver-api.md. One header lists every sim file's
 * functions (after tmux's tmux.h); each function's prefix is its file name.
 *
 * Threads: libmicrohttpd runs a pool of epoll threads that call the access
 * handler (server.c); handlers (rooms.c entities.c artifacts.c policies.c
 * admin.c) run on those threads. The store takes one mutex per room, the
 * fault table and the metrics are safe to share. delay.c owns one thread
 * that resumes delayed connections. Nothing here is called from a signal
 * handler: main.c waits for signals with sigwaitinfo(2).
 */
#ifndef SIM_H
#define SIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/model.h"

/* Limits of inputs from the network (each enforced where it is read). */
#define SIM_BODY_MAX		(16u << 20)	/* bytes of a request body */
#define SIM_SEED_BODY_MAX	(RO_ARTIFACT_MAX + (256u << 10)) /* multipart */
#define SIM_BODY_BUDGET		(512u << 20)	/* bytes buffered, all requests */
#define SIM_SEGMENT_MAX		1024		/* bytes of a decoded path id */
#define SIM_ROOM_ID_MAX		128		/* bytes: one directory name */
#define SIM_ARTIFACT_NAME_MAX	256		/* bytes */
#define SIM_STRING_MAX		4096		/* bytes of any other string */
#define SIM_LIST_MAX		1000		/* items of any string list */
#define SIM_ROOMS_MAX		100000		/* rooms in one data dir */
#define SIM_CONNECTIONS_MAX	1024		/* open connections */
#define SIM_THREADS_MAX		64
#define SIM_THREADS_PER_CPU	8		/* default --threads */
#define SIM_FAULTS_MAX		64		/* fault rules */
#define SIM_DELAY_MS_MAX	60000		/* ms of one injected delay */

enum sim_method {
	SIM_GET, SIM_HEAD, SIM_POST, SIM_PUT, SIM_DELETE, SIM_OTHER,
	SIM_METHOD_COUNT
};

/* Route templates, the "route" label of the metrics and fault filters. */
enum sim_tmpl {
	T_HEALTH, T_METRICS, T_FAULTS, T_FAULT, T_STATE, T_JOIN, T_ENTITY,
	T_SEED, T_ARTIFACT_HASH, T_ARTIFACT, T_PROMOTE, T_POLICIES,
	T_UNMATCHED, T_COUNT
};

struct sim;
struct sim_req;
struct sim_resp;
struct store;
struct store_room;
struct store_json;
struct faults;
struct metrics;
struct auth;
struct delay;
struct MHD_Connection;

typedef void route_fn(struct sim *sim, struct sim_req *rq,
    struct sim_resp *rs);

struct route {
	enum sim_method	 method;
	enum sim_tmpl	 tmpl;
	route_fn	*fn;
	size_t		 body_max;	/* bytes accepted; 0: no body wanted */
	unsigned	 flags;
#define ROUTE_OPEN	0x1u		/* no token needed (GET /health) */
#define ROUTE_NOFAULT	0x2u		/* faults never apply (/_sim, /metrics) */
};

/* The whole server; one per process, shared by every thread. */
struct sim {
	struct store	*store;
	struct faults	*faults;
	struct metrics	*metrics;
	struct auth	*auth;		/* NULL: no token configured */
	struct delay	*delay;
	atomic_size_t	 body_bytes;	/* buffered bodies, <= SIM_BODY_BUDGET */
};

/* One request, from its first handler call to its completion. */
struct sim_req {
	enum sim_method	 method;
	const char	*method_str;
	enum sim_tmpl	 tmpl;		/* T_UNMATCHED when no route */
	const struct route *route;	/* NULL: see path_status */
	int		 path_status;	/* 404, 405 or 400 when route NULL */
	char		 allow[64];	/* Allow header for 405 */
	char		*room;		/* decoded {roomId}; owned */
	char		*item;		/* decoded {entityId} / {name} / {id} */
	const char	*ctype;		/* Content-Type header or NULL */
	struct ro_buf	 body;
	size_t		 reserved;	/* bytes of sim->body_bytes held */
	uint64_t	 discarded;	/* body bytes past the cap */
	bool		 too_big;
	bool		 faulted;	/* faults evaluated */
	int		 fault_action;	/* enum faults_action */
	int		 fault_status;
	int		 fault_retry_after;
	bool		 answered;
};

/* A handler's answer; server.c turns it into an HTTP response. */
struct sim_resp {
	int		 status;
	const char	*ctype;		/* NULL: application/json */
	struct ro_buf	 body;
	struct store_json *json;	/* shared body instead of body (a ref) */
	int		 fd;		/* file body instead of body; -1 none */
	uint64_t	 fd_len;
	int		 retry_after;	/* seconds; < 0 none */
	const char	*allow;		/* Allow header or NULL */
	bool		 auth_challenge;	/* WWW-Authenticate: Bearer */
};

/* server.c: libmicrohttpd daemon and the request lifecycle */
struct server;
struct server_opts {
	const char	*host;		/* IPv4 literal */
	unsigned	 port;		/* 0: any free port */
	unsigned	 threads;
};
int	server_start(struct server **out, struct sim *sim,
	    const struct server_opts *o, struct ro_err *err);
unsigned server_port(const struct server *s);
/* Stop accepting, release delayed connections, close everything. */
void	server_stop(struct server *s);

/* reply.c: building answers */
void	reply_init(struct sim_resp *rs);
void	reply_release(struct sim_resp *rs);
/* {"error": code, "message": ...}; returns RO_ERROR for chaining. */
int	reply_error(struct sim_resp *rs, int status, const char *code,
	    const char *fmt, ...) RO_PRINTF(4, 5);
/* Error for a store failure (500 STORAGE_ERROR or ENOMEM). */
int	reply_store_error(struct sim_resp *rs, int error,
	    const struct ro_err *err);
/* Print obj (consumed) as the body; 500 on ENOMEM. */
void	reply_json(struct sim_resp *rs, int status, cJSON *obj);
void	reply_text(struct sim_resp *rs, int status, const char *ctype,
	    struct ro_buf *body);	/* body's contents move */
/* The request body as one JSON value / object; else 400 INVALID_JSON. */
cJSON	*reply_parse_value(struct sim_req *rq, struct sim_resp *rs);
cJSON	*reply_parse_body(struct sim_req *rq, struct sim_resp *rs);

/* routes.c: the route table, path matching and percent-decoding */
void	routes_match(const char *url, struct sim_req *rq);
const char *routes_tmpl_str(enum sim_tmpl t);
/* Template index of s ("/room/{roomId}/join"), or -1. */
int	routes_tmpl_parse(const char *s);
const char *routes_method_str(enum sim_method m);
enum sim_method routes_method_parse(const char *s);
/* Decode one percent-encoded segment: RO_EINVALID on bad escapes or NUL. */
int	routes_decode(char **out, const char *s, size_t len);

/* rooms.c: GET /room/{roomId}/state */
void	rooms_state(struct sim *, struct sim_req *, struct sim_resp *);
/* 400 INVALID_ROOM_ID unless rq->room is well-formed. */
int	rooms_check_id(struct sim_req *rq, struct sim_resp *rs);

/* entities.c: join, update, kick */
void	entities_join(struct sim *, struct sim_req *, struct sim_resp *);
void	entities_put(struct sim *, struct sim_req *, struct sim_resp *);
void	entities_delete(struct sim *, struct sim_req *, struct sim_resp *);

/* artifacts.c: seed, raw bytes, hash, promote, delete */
void	artifacts_seed(struct sim *, struct sim_req *, struct sim_resp *);
void	artifacts_get(struct sim *, struct sim_req *, struct sim_resp *);
void	artifacts_hash(struct sim *, struct sim_req *, struct sim_resp *);
void	artifacts_promote(struct sim *, struct sim_req *, struct sim_resp *);
void	artifacts_delete(struct sim *, struct sim_req *, struct sim_resp *);

/* policies.c: PUT and the older POST form */
void	policies_put(struct sim *, struct sim_req *, struct sim_resp *);
void	policies_post(struct sim *, struct sim_req *, struct sim_resp *);

/* admin.c: /health, /metrics, /_sim/faults */
void	admin_health(struct sim *, struct sim_req *, struct sim_resp *);
void	admin_metrics(struct sim *, struct sim_req *, struct sim_resp *);
void	admin_faults_get(struct sim *, struct sim_req *, struct sim_resp *);
void	admin_faults_post(struct sim *, struct sim_req *, struct sim_resp *);
void	admin_faults_clear(struct sim *, struct sim_req *, struct sim_resp *);
void	admin_fault_delete(struct sim *, struct sim_req *, struct sim_resp *);

/* validate.c: ids, enumerations and strings of the contract */
bool	validate_room_id(const char *s);
bool	validate_entity_id(const char *s);
/* Lower-case kind ("Agent" -> "agent") or NULL when not a kind. */
const char *validate_kind(const char *s);
bool	validate_visibility(const char *s);
/* Well-formed UTF-8 without NUL or C0/DEL controls, at most max bytes. */
bool	validate_text(const char *s, size_t len, size_t max);

/* codec.c: JSON of entities, policies and RoomState */
/*
 * Entity from a Join body. path_id: the entity id of the URL (PUT) or
 * NULL (join). On error *code is the contract error code and err says why.
 */
int	codec_entity_from_join(struct ro_entity *e, const cJSON *o,
	    const char *room_id, const char *path_id, const char **code,
	    struct ro_err *err);
/* All three policy fields of o into p (INVALID_POLICY otherwise). */
int	codec_policies_from_json(struct ro_policies *p, const cJSON *o,
	    struct ro_err *err);
/* One named policy field (the older POST form). */
int	codec_policy_set(struct ro_policies *p, const char *name,
	    const cJSON *value, struct ro_err *err);
/* RoomState of the data dir (the same JSON as served) into st. */
int	codec_state_from_json(struct ro_state *st, const char *buf, size_t len,
	    struct ro_err *err);
/* Compact RoomState JSON of st appended to out. */
int	codec_state_encode(const struct ro_state *st, struct ro_buf *out);
/* {"entities":[...]} of st. NULL on ENOMEM. */
cJSON	*codec_entities_json(const struct ro_state *st);

/* store.c: durable per-room state under the data dir */
int	store_open(struct store **out, const char *dir, struct ro_err *err);
void	store_close(struct store *st);
size_t	store_room_count(struct store *st);
/*
 * Find room id and lock it, loading it from disk at first use.
 * create: make an in-memory room when it does not exist (a write);
 * otherwise RO_ENOTFOUND for a room never written. RO_EIO when its file
 * cannot be read, RO_ETOOBIG past SIM_ROOMS_MAX.
 */
int	store_lock(struct store *st, const char *id, bool create,
	    struct store_room **out, struct ro_err *err);
void	store_unlock(struct store_room *r);
/*
 * The locked room's state. Handlers validate first and change it only
 * when nothing but store_commit can fail any more.
 */
struct ro_state *store_state(struct store_room *r);
/* Index of entity id / artifact name in the locked room, or -1. */
long	store_entity_find(struct store_room *r, const char *id);
long	store_artifact_find(struct store_room *r, const char *name);
/* Append *e / *a, taking its contents (zeroed). RO_ENOMEM, RO_ETOOBIG. */
int	store_entity_add(struct store_room *r, struct ro_entity *e);
int	store_artifact_add(struct store_room *r, struct ro_artifact *a);
void	store_entity_remove(struct store_room *r, size_t i);
void	store_artifact_remove(struct store_room *r, size_t i);
/*
 * Bump revision, stamp lastUpdated, write state.json durably, and only
 * then keep the change. On error the change is forgotten: the room is
 * read back from disk at its next use.
 */
int	store_commit(struct store_room *r, struct ro_err *err);
/* Encoded state of the locked room (a new reference). */
int	store_encoded(struct store_room *r, struct store_json **out,
	    struct ro_err *err);
/* Encoded empty state of a room never written (a new reference). */
int	store_encoded_empty(const char *id, struct store_json **out,
	    struct ro_err *err);
char	*store_json_data(struct store_json *j);	/* not const: MHD's API */
size_t	store_json_len(const struct store_json *j);
void	store_json_unref(struct store_json *j);	/* any thread; NULL ok */
/* Write content as the blob named by its sha256 (hex), durably. */
int	store_blob_write(struct store_room *r, const char *hash,
	    const void *p, size_t n, struct ro_err *err);
/* Open the blob of hash read-only; *size set. */
int	store_blob_open(struct store_room *r, const char *hash, int *fd,
	    uint64_t *size, struct ro_err *err);
/* Unlink the blob of hash unless an artifact of the room still uses it. */
void	store_blob_gc(struct store_room *r, const char *hash);

/* multipart.c: bounded multipart/form-data parser (RFC 7578) */
#define MULTIPART_PARTS_MAX	16
#define MULTIPART_NAME_MAX	64	/* bytes of a part name */
#define MULTIPART_HEADERS_MAX	(8u << 10)	/* bytes of one part's headers */
struct multipart_part {
	char		 name[MULTIPART_NAME_MAX + 1];
	const char	*data;		/* into the body */
	size_t		 len;
};
/*
 * Split body by the boundary of ctype. Parts point into body.
 * @return RO_OK, RO_EINVALID (malformed; err says where)
 */
int	multipart_parse(const char *ctype, const char *body, size_t len,
	    struct multipart_part *parts, size_t max, size_t *n,
	    struct ro_err *err);
/* The part called name, or NULL. */
const struct multipart_part *multipart_find(const struct multipart_part *p,
	    size_t n, const char *name);

/* faults.c: fault injection rules */
enum faults_action { FAULTS_NONE, FAULTS_STATUS, FAULTS_DROP };
struct faults_outcome {
	unsigned	 delay_ms;
	enum faults_action action;
	int		 status;
	int		 retry_after;	/* seconds; < 0 none */
};
int	faults_new(struct faults **out);
void	faults_free(struct faults *f);
/* "kind,key=value,..." of --fault. */
int	faults_add_spec(struct faults *f, const char *spec, struct ro_err *err);
/* One rule object, an array of them, or {"faults": [...]}: all or none. */
int	faults_add_json(struct faults *f, const cJSON *o, struct ro_err *err);
void	faults_clear(struct faults *f);
int	faults_remove(struct faults *f, unsigned id);
cJSON	*faults_to_json(struct faults *f);
/* Which faults fire for this request (counts are consumed). */
void	faults_eval(struct faults *f, enum sim_tmpl t, enum sim_method m,
	    struct faults_outcome *out);
/* Injected so far, by kind: delay, status, drop. */
void	faults_counts(struct faults *f, uint64_t *delays, uint64_t *statuses,
	    uint64_t *drops);

/* delay.c: resume suspended connections when their delay is over */
int	delay_start(struct delay **out, struct ro_err *err);
/* Resume conn after ms; false when no slot is free (no delay then). */
bool	delay_add(struct delay *d, struct MHD_Connection *conn, unsigned ms);
/* Resume every connection now and stop the thread; later adds fail. */
void	delay_stop(struct delay *d);
void	delay_free(struct delay *d);	/* after the server has stopped */

/* metrics.c: request counters and their Prometheus text */
int	metrics_new(struct metrics **out);
void	metrics_free(struct metrics *m);
/* status 0: connection dropped without an answer. */
void	metrics_count(struct metrics *m, enum sim_tmpl t, enum sim_method me,
	    int status);
int	metrics_render(struct sim *sim, struct ro_buf *out);

/* auth.c: bearer token, compared in constant time */
int	auth_load(struct auth **out, const char *path, struct ro_err *err);
void	auth_free(struct auth *a);
/* Does the Authorization header value carry the token? */
bool	auth_check(const struct auth *a, const char *header);

#endif
