/*
 * admin.c: GET /health, GET /metrics and the fault-injection API
 * (GET/POST/DELETE /_sim/faults, DELETE /_sim/faults/{id}).
 */
#include <errno.h>
#include <stdlib.h>

#include "sim.h"

#include "../common/banned.h"

#define METRICS_MAX	(4u << 20)	/* bytes of the exposition */

void
admin_health(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_buf	b = RO_BUF_INIT;

	if (ro_buf_addstr(&b, "{\"status\":\"healthy\"}") < 0)
		reply_error(rs, 500, "INTERNAL", "out of memory");
	else
		reply_text(rs, 200, NULL, &b);
	ro_buf_release(&b);
}

void
admin_metrics(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_buf	b = RO_BUF_INIT;

	ro_buf_init(&b, METRICS_MAX);
	if (metrics_render(sim, &b) < 0)
		reply_error(rs, 500, "INTERNAL", "cannot render the metrics");
	else
		reply_text(rs, 200, "text/plain; version=0.0.4", &b);
	ro_buf_release(&b);
}

void
admin_faults_get(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	reply_json(rs, 200, faults_to_json(sim->faults));
}

void
admin_faults_post(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	struct ro_err	 err = RO_ERR_INIT;
	cJSON		*o;
	int		 error;

	if ((o = reply_parse_value(rq, rs)) == NULL)
		return;
	if ((error = faults_add_json(sim->faults, o, &err)) < 0)
		reply_error(rs, 400, "INVALID_FAULT", "%s", err.msg);
	else
		reply_json(rs, 201, faults_to_json(sim->faults));
	cJSON_Delete(o);
}

void
admin_faults_clear(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	faults_clear(sim->faults);
	reply_release(rs);
	rs->status = 204;
}

void
admin_fault_delete(struct sim *sim, struct sim_req *rq, struct sim_resp *rs)
{
	unsigned long	 id;
	char		*end;

	errno = 0;
	id = strtoul(rq->item, &end, 10);
	if (errno != 0 || *end != '\0' || end == rq->item || id > 0xffffffffUL ||
	    faults_remove(sim->faults, (unsigned)id) < 0) {
		reply_error(rs, 404, "FAULT_NOT_FOUND", "no fault %.40s",
		    rq->item);
		return;
	}
	reply_release(rs);
	rs->status = 204;
}
