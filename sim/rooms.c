/* rooms.c: GET /room/{roomId}/state and the room id check. */
#include "sim.h"

#include "../common/banned.h"

int
rooms_check_id(struct sim_req *rq, struct sim_resp *rs)
{
	if (validate_room_id(rq->room))
		return RO_OK;
	return reply_error(rs, 400, "INVALID_ROOM_ID", "\"%.80s\" is not "
	    "^room-[A-Za-z0-9_-]{6,}$ (at most %d characters)", rq->room,
	    SIM_ROOM_ID_MAX);
}

/*
 * The encoded state is cached per room (rebuilt only after a change), so
 * a read is a lock, a reference count and a send.
 */
void
rooms_state(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	struct store_room *r;
	struct store_json *j = NULL;
	int		 error;

	if (rooms_check_id(rq, rs) < 0)
		return;
	error = store_lock(sim->store, rq->room, false, &r, &err);
	if (error == RO_ENOTFOUND)
		error = store_encoded_empty(rq->room, &j, &err);
	else if (error == RO_OK) {
		error = store_encoded(r, &j, &err);
		store_unlock(r);
	}
	if (error < 0) {
		reply_store_error(rs, error, &err);
		return;
	}
	reply_release(rs);
	rs->status = 200;
	rs->json = j;
}
