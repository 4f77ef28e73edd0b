/*
 * metrics.c: request counters of roomserver-sim and their Prometheus
 * text. One relaxed atomic counter per (route template, method, status):
 * no lock on the request path. Status slot 0 counts connections dropped
 * without an answer (fault "drop"), shown as status="dropped".
 */
#include <stdlib.h>

#include "sim.h"

#include "../common/banned.h"

#define STATUS_SLOTS	600	/* 100..599, and 0 */

struct metrics {
	atomic_uint_fast64_t req[T_COUNT][SIM_METHOD_COUNT][STATUS_SLOTS];
};

int
metrics_new(struct metrics **out)
{
	return (*out = calloc(1, sizeof(**out))) == NULL ? RO_ENOMEM : RO_OK;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

void
metrics_count(struct metrics *m, enum sim_tmpl t, enum sim_method me,
    int status)
{
	int	slot = status >= 100 && status < STATUS_SLOTS ? status : 0;

	atomic_fetch_add_explicit(&m->req[t][me][slot], 1,
	    memory_order_relaxed);
}

int
metrics_render(struct sim *sim, struct ro_buf *out)
{
	struct metrics	*m = sim->metrics;
	uint64_t	 v, delays, statuses, drops;
	int		 t, me, s, error = RO_OK;

	error = ro_buf_addstr(out,
	    "# HELP roomserver_requests_total Requests by method, route "
	    "template and status (\"dropped\": closed without an answer).\n"
	    "# TYPE roomserver_requests_total counter\n");
	for (t = 0; t < T_COUNT && error == RO_OK; t++)
		for (me = 0; me < SIM_METHOD_COUNT && error == RO_OK; me++)
			for (s = 0; s < STATUS_SLOTS && error == RO_OK; s++) {
				v = atomic_load_explicit(&m->req[t][me][s],
				    memory_order_relaxed);
				if (v == 0)
					continue;
				error = s == 0 ? ro_buf_printf(out,
				    "roomserver_requests_total{method=\"%s\","
				    "route=\"%s\",status=\"dropped\"} %ju\n",
				    routes_method_str((enum sim_method)me),
				    routes_tmpl_str((enum sim_tmpl)t),
				    (uintmax_t)v) : ro_buf_printf(out,
				    "roomserver_requests_total{method=\"%s\","
				    "route=\"%s\",status=\"%d\"} %ju\n",
				    routes_method_str((enum sim_method)me),
				    routes_tmpl_str((enum sim_tmpl)t), s,
				    (uintmax_t)v);
			}
	faults_counts(sim->faults, &delays, &statuses, &drops);
	if (error == RO_OK)
		error = ro_buf_printf(out,
		    "# HELP roomserver_faults_injected_total Faults injected, "
		    "by kind.\n"
		    "# TYPE roomserver_faults_injected_total counter\n"
		    "roomserver_faults_injected_total{kind=\"delay\"} %ju\n"
		    "roomserver_faults_injected_total{kind=\"status\"} %ju\n"
		    "roomserver_faults_injected_total{kind=\"drop\"} %ju\n"
		    "# HELP roomserver_rooms Rooms known (on disk or in "
		    "memory).\n"
		    "# TYPE roomserver_rooms gauge\n"
		    "roomserver_rooms %zu\n",
		    (uintmax_t)delays, (uintmax_t)statuses, (uintmax_t)drops,
		    store_room_count(sim->store));
	return error;
}
