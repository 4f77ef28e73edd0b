/*
 * policies.c: PUT /room/{roomId}/policies (all three fields) and the
 * older POST form {"policyName": ..., "policyValue": ...}.
 */
#include <string.h>

#include "sim.h"

#include "../common/banned.h"

/* Room r (locked) gets policies want: a change only when they differ. */
static void
apply(struct store_room *r, struct ro_policies *want, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_policies *cur = &store_state(r)->policies;
	int		 error;

	if (ro_policies_diff(want, cur) != 0) {
		ro_policies_release(cur);
		*cur = *want;
		memset(want, 0, sizeof(*want));
		if ((error = store_commit(r, &err)) < 0) {
			reply_store_error(rs, error, &err);
			return;
		}
	}
	reply_json(rs, 200, ro_policies_to_json(&store_state(r)->policies));
}

void
policies_put(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_policies want;
	struct store_room *r;
	cJSON		*o;
	int		 error;

	memset(&want, 0, sizeof(want));
	if (rooms_check_id(rq, rs) < 0 || (o = reply_parse_body(rq, rs)) ==
	    NULL)
		return;
	error = codec_policies_from_json(&want, o, &err);
	cJSON_Delete(o);
	if (error == RO_ENOMEM)
		reply_error(rs, 500, "INTERNAL", "out of memory");
	else if (error < 0)
		reply_error(rs, 400, "INVALID_POLICY", "%s", err.msg);
	else if ((error = store_lock(sim->store, rq->room, true, &r,
	    &err)) < 0)
		reply_store_error(rs, error, &err);
	else {
		apply(r, &want, rs);
		store_unlock(r);
	}
	ro_policies_release(&want);
}

void
policies_post(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct ro_policies want;
	struct store_room *r;
	const cJSON	*name, *value;
	cJSON		*o;
	int		 error;

	memset(&want, 0, sizeof(want));
	if (rooms_check_id(rq, rs) < 0 || (o = reply_parse_body(rq, rs)) ==
	    NULL)
		return;
	name = cJSON_GetObjectItemCaseSensitive(o, "policyName");
	value = cJSON_GetObjectItemCaseSensitive(o, "policyValue");
	if (!cJSON_IsString(name) || value == NULL) {
		reply_error(rs, 400, "INVALID_POLICY", "expected "
		    "{\"policyName\": \"...\", \"policyValue\": ...}");
		goto done;
	}
	/* check the value on a scratch copy before touching the room */
	if ((error = ro_policies_default(&want)) < 0 ||
	    (error = codec_policy_set(&want, name->valuestring, value,
	    &err)) < 0) {
		if (error == RO_ENOMEM)
			reply_error(rs, 500, "INTERNAL", "out of memory");
		else
			reply_error(rs, 400, "INVALID_POLICY", "%s", err.msg);
		goto done;
	}
	ro_policies_release(&want);
	if ((error = store_lock(sim->store, rq->room, true, &r, &err)) < 0) {
		reply_store_error(rs, error, &err);
		goto done;
	}
	if (ro_policies_copy(&want, &store_state(r)->policies) < 0 ||
	    codec_policy_set(&want, name->valuestring, value, &err) < 0)
		reply_error(rs, 500, "INTERNAL", "out of memory");
	else
		apply(r, &want, rs);
	store_unlock(r);
done:
	ro_policies_release(&want);
	cJSON_Delete(o);
}
