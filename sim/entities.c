/*
 * entities.c: POST /room/{roomId}/join, PUT and DELETE
 * /room/{roomId}/entities/{entityId}.
 */
#include <string.h>

#include "sim.h"

#include "../common/banned.h"

static int
check_entity_id(struct sim_req *rq, struct sim_resp *rs)
{
	if (validate_entity_id(rq->item))
		return RO_OK;
	return reply_error(rs, 400, "INVALID_ENTITY_ID", "\"%.80s\" is not "
	    "^E-[A-Za-z0-9_-]{2,64}$", rq->item);
}

/* The Join body of the request, checked; 400 with the contract's code. */
static int
parse_entity(struct ro_entity *e, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	const char	*code = "INVALID_FIELD";
	cJSON		*o;
	int		 error;

	if ((o = reply_parse_body(rq, rs)) == NULL)
		return RO_EINVALID;
	error = codec_entity_from_join(e, o, rq->room, rq->item, &code, &err);
	cJSON_Delete(o);
	if (error == RO_ENOMEM)
		return reply_error(rs, 500, "INTERNAL", "out of memory");
	if (error < 0)
		return reply_error(rs, 400, code, "%s", err.msg);
	return RO_OK;
}

void
entities_join(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_entity e;
	struct store_room *r;
	int		 error;

	memset(&e, 0, sizeof(e));
	if (rooms_check_id(rq, rs) < 0 || parse_entity(&e, rq, rs) < 0)
		return;
	if ((error = store_lock(sim->store, rq->room, true, &r, &err)) < 0) {
		reply_store_error(rs, error, &err);
		goto done;
	}
	if (store_entity_find(r, e.id) >= 0)
		reply_error(rs, 409, "ENTITY_EXISTS", "%s is already in %s",
		    e.id, rq->room);
	else if ((error = store_entity_add(r, &e)) == RO_ETOOBIG)
		reply_error(rs, 400, "LIMIT_EXCEEDED", "%s has %d entities, "
		    "the limit", rq->room, RO_SPEC_ENTITIES_MAX);
	else if (error < 0)
		reply_error(rs, 500, "INTERNAL", "out of memory");
	else if ((error = store_commit(r, &err)) < 0)
		reply_store_error(rs, error, &err);
	else
		reply_json(rs, 201, codec_entities_json(store_state(r)));
	store_unlock(r);
done:
	ro_entity_release(&e);
}

void
entities_put(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_entity e, *cur;
	struct store_room *r;
	long		 i;
	int		 error;

	memset(&e, 0, sizeof(e));
	if (rooms_check_id(rq, rs) < 0 || check_entity_id(rq, rs) < 0 ||
	    parse_entity(&e, rq, rs) < 0)
		return;
	error = store_lock(sim->store, rq->room, false, &r, &err);
	if (error == RO_ENOTFOUND) {
		reply_error(rs, 404, "ENTITY_NOT_FOUND", "%s is not in %s",
		    rq->item, rq->room);
		goto done;
	}
	if (error < 0) {
		reply_store_error(rs, error, &err);
		goto done;
	}
	if ((i = store_entity_find(r, rq->item)) < 0) {
		reply_error(rs, 404, "ENTITY_NOT_FOUND", "%s is not in %s",
		    rq->item, rq->room);
		goto unlock;
	}
	cur = &store_state(r)->entities[i];
	if (!ro_entity_equal(cur, &e)) {	/* no change, no revision */
		ro_entity_release(cur);
		*cur = e;
		memset(&e, 0, sizeof(e));
		if ((error = store_commit(r, &err)) < 0) {
			reply_store_error(rs, error, &err);
			goto unlock;
		}
		cur = &store_state(r)->entities[i];
	}
	reply_json(rs, 200, ro_entity_to_json(cur, NULL));
unlock:
	store_unlock(r);
done:
	ro_entity_release(&e);
}

void
entities_delete(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct store_room *r;
	long		 i;
	int		 error;

	if (rooms_check_id(rq, rs) < 0 || check_entity_id(rq, rs) < 0)
		return;
	error = store_lock(sim->store, rq->room, false, &r, &err);
	if (error == RO_ENOTFOUND) {
		reply_error(rs, 404, "ENTITY_NOT_FOUND", "%s is not in %s",
		    rq->item, rq->room);
		return;
	}
	if (error < 0) {
		reply_store_error(rs, error, &err);
		return;
	}
	if ((i = store_entity_find(r, rq->item)) < 0)
		reply_error(rs, 404, "ENTITY_NOT_FOUND", "%s is not in %s",
		    rq->item, rq->room);
	else {
		store_entity_remove(r, (size_t)i);
		if ((error = store_commit(r, &err)) < 0)
			reply_store_error(rs, error, &err);
		else {
			reply_release(rs);
			rs->status = 204;
		}
	}
	store_unlock(r);
}
