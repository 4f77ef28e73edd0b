/*
 * client.h: the RoomServer REST client (roomserver-api.md) on libcurl.
 *
 * One struct ro_client owns one curl easy handle, so connections are kept
 * alive between requests. A client is NOT thread-safe: give each worker
 * thread its own. ro_client_global_init() must run once, before threads.
 *
 * Every request is retried on transport errors, 429 and 5xx with
 * exponential backoff (100 ms doubling to a 5 s cap, ±20 % jitter,
 * Retry-After honoured) up to max_attempts. Idempotent outcomes (409 on
 * join, 404 on kick and delete) count as done. Other 4xx fail at once.
 * The bearer token is sent but never logged or put into an error.
 */
#ifndef RO_CLIENT_H
#define RO_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "roomops/buf.h"
#include "roomops/model.h"

#define RO_CLIENT_BODY_MAX	(64u << 20)	/* bytes of any response */
#define RO_CLIENT_ATTEMPTS	4
#define RO_CLIENT_BACKOFF_MS	100		/* first retry delay */
#define RO_CLIENT_BACKOFF_CAP_MS 5000
#define RO_CLIENT_TIMEOUT_MS	30000		/* whole request */
#define RO_CLIENT_CONNECT_MS	5000

struct ro_client_opts {
	const char	*base_url;	/* http(s)://host:port, no trailing / */
	const char	*token;		/* bearer token or NULL */
	const char	*cacert;	/* CA bundle for https or NULL */
	long		 timeout_ms;	/* 0: RO_CLIENT_TIMEOUT_MS */
	long		 connect_timeout_ms;	/* 0: RO_CLIENT_CONNECT_MS */
	int		 max_attempts;	/* 0: RO_CLIENT_ATTEMPTS */
	long		 backoff_ms;	/* 0: RO_CLIENT_BACKOFF_MS */
	long		 backoff_cap_ms;	/* 0: RO_CLIENT_BACKOFF_CAP_MS */
};

/* Counters since creation; read by the owner thread only. */
struct ro_client_stats {
	uint64_t	requests;	/* attempts sent, retries included */
	uint64_t	retries;
	uint64_t	mutations;	/* successful mutating requests */
};

struct ro_client;

int	ro_client_global_init(struct ro_err *err);
/* opts strings are copied. RO_EINVALID (bad URL), RO_ENOMEM. */
int	ro_client_new(struct ro_client **out, const struct ro_client_opts *opts,
	    struct ro_err *err);
void	ro_client_free(struct ro_client *c);
const struct ro_client_stats *ro_client_stats(const struct ro_client *c);
/* HTTP status of the last attempt (0 when no answer). */
long	ro_client_last_status(const struct ro_client *c);

/*
 * Return codes of the calls below: RO_OK; RO_ENOTFOUND (404 where it is
 * not an idempotent outcome); RO_EINVALID (another 4xx: err carries the
 * status and the server's error code); RO_EAGAIN (retries exhausted on a
 * transient failure); RO_ETOOBIG; RO_ENOMEM.
 */
int	ro_client_health(struct ro_client *c, struct ro_err *err);
int	ro_client_get_state(struct ro_client *c, const char *room_id,
	    struct ro_state **out, struct ro_err *err);
int	ro_client_join(struct ro_client *c, const char *room_id,
	    const struct ro_entity *e, struct ro_err *err);
/* PUT; 404 and 405 are RO_ENOTFOUND (the caller reports, never forces). */
int	ro_client_update(struct ro_client *c, const char *room_id,
	    const struct ro_entity *e, struct ro_err *err);
int	ro_client_kick(struct ro_client *c, const char *room_id,
	    const char *entity_id, struct ro_err *err);
/* Multipart upload of a->content (content must be resolved). */
int	ro_client_seed(struct ro_client *c, const char *room_id,
	    const struct ro_artifact *a, struct ro_err *err);
int	ro_client_promote(struct ro_client *c, const char *room_id,
	    const char *name, struct ro_err *err);
int	ro_client_delete_artifact(struct ro_client *c, const char *room_id,
	    const char *name, struct ro_err *err);
/* Raw bytes of an artifact into out (≤ RO_ARTIFACT_MAX). */
int	ro_client_get_artifact(struct ro_client *c, const char *room_id,
	    const char *name, struct ro_buf *out, struct ro_err *err);
int	ro_client_put_policies(struct ro_client *c, const char *room_id,
	    const struct ro_policies *p, struct ro_err *err);

#endif
