/* reconcile.c: plan, pre-check, apply, verify and roll back one room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/audit.h"
#include "roomops/log.h"
#include "roomops/plan.h"
#include "roomops/state.h"
#include "intent.h"
#include "reconcile.h"
#include "version.h"

#include "../common/banned.h"

/* What one applied item needs to be undone. */
struct undo {
	enum ro_op		 op;
	char			*id;		/* entity id / artifact name */
	bool			 existed;	/* seed replaced an artifact */
	bool			 have_entity;
	struct ro_entity	 entity;	/* before update / kicked one */
	bool			 have_artifact;
	struct ro_artifact	 artifact;	/* before replace / delete */
	struct ro_policies	 policies;	/* before PUT */
};

struct undolog {
	struct undo	*v;
	size_t		 n, cap;
};

struct cycle {
	struct ro_client		*c;
	const struct ro_spec		*spec;
	const struct ro_reconcile_opts	*opts;
	struct ro_reconcile_result	*res;
	struct ro_audit_rec		 rec;
	struct ro_state			*state;
	struct ro_plan			 plan;
	struct ro_guard_result		 guard;
	struct undolog			 undo;
	struct ro_strv			 failed_seeds;	/* this cycle */
	bool				 item_failed;
	struct ro_intent		*prior;		/* of a stopped cycle */
	bool				 prior_recorded;	/* its record is
							   written */
	bool				 remove_intent;	/* after the record */
	bool				 keep_intent;	/* items in doubt */
	struct ro_audit_diff		 carry;		/* in the intent */
	struct ro_state			*applied;	/* the state applied to */
	struct ro_intent_item		*doubt;		/* outcome unknown */
	size_t				 ndoubt;
};

const char *
ro_phase_name(enum ro_phase p)
{
	static const char *const names[] = { "PLANNING", "PRE_CHECKS", "APPLY",
	    "VERIFY", "ROLLBACK" };

	return p < RO_NELEM(names) ? names[p] : "UNKNOWN";
}

static void
undo_release(struct undo *u)
{
	free(u->id);
	if (u->have_entity)
		ro_entity_release(&u->entity);
	if (u->have_artifact)
		ro_artifact_release(&u->artifact);
	ro_policies_release(&u->policies);
}

static void
undolog_release(struct undolog *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		undo_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Move u into the log (u is emptied). RO_ENOMEM leaves u to the caller. */
static int
undolog_add(struct undolog *l, struct undo *u)
{
	struct undo	*v;
	size_t		 cap;

	if (l->n == l->cap) {
		cap = l->cap != 0 ? l->cap * 2 : 8;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return RO_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *u;
	memset(u, 0, sizeof(*u));
	return RO_OK;
}

/* Keep a copy of an artifact and, when the server has it, its bytes. */
static int
keep_artifact(struct cycle *cy, struct undo *u, const struct ro_artifact *was)
{
	struct ro_buf	 bytes = RO_BUF_INIT;
	struct ro_err	 e = RO_ERR_INIT;
	int		 error;

	if ((error = ro_artifact_copy(&u->artifact, was)) < 0)
		return error;
	u->have_artifact = true;
	ro_buf_init(&bytes, RO_ARTIFACT_MAX + 1);
	if (ro_client_get_artifact(cy->c, cy->spec->room_id, was->name, &bytes,
	    &e) == RO_OK) {
		u->artifact.content_len = bytes.len;
		u->artifact.content = (unsigned char *)ro_buf_detach(&bytes,
		    NULL);
	} else
		log_debug("room %s: previous content of %s not kept: %s",
		    cy->spec->room_id, was->name, e.msg);
	ro_buf_release(&bytes);
	return RO_OK;
}

static int
item_failed(struct cycle *cy, const struct ro_err *e)
{
	cy->item_failed = true;
	log_warnx("room %s: %s", cy->spec->room_id, e->msg);
	return ro_strv_push(&cy->rec.errors, e->msg);
}

static int
add_doubt(struct cycle *cy, enum ro_op op, const char *id)
{
	struct ro_intent_item	*v;

	if ((v = reallocarray(cy->doubt, cy->ndoubt + 1, sizeof(*v))) == NULL)
		return RO_ENOMEM;
	cy->doubt = v;
	if ((v[cy->ndoubt].id = strdup(id)) == NULL)
		return RO_ENOMEM;
	v[cy->ndoubt++].op = op;
	return RO_OK;
}

static void
doubt_release(struct cycle *cy)
{
	size_t	i;

	for (i = 0; i < cy->ndoubt; i++)
		free(cy->doubt[i].id);
	free(cy->doubt);
	cy->doubt = NULL;
	cy->ndoubt = 0;
}

/*
 * Items whose request failed after it was sent (RO_EAGAIN: the server may
 * have made the change and lost the answer) against the state VERIFY
 * read: what it shows done was done, once, and is counted.
 */
static int
settle_doubt(struct cycle *cy)
{
	size_t	i;

	for (i = 0; i < cy->ndoubt; i++) {
		if (!ro_intent_effect(cy->doubt[i].op, cy->doubt[i].id,
		    cy->spec, cy->state))
			continue;
		ro_audit_diff_count(&cy->rec.diff, cy->doubt[i].op);
		log_info("room %s: %s %s: the request failed, yet the room "
		    "shows it done: counted", cy->spec->room_id,
		    ro_op_name(cy->doubt[i].op), cy->doubt[i].id);
		if (ro_strv_pushf(&cy->rec.warnings, "%s %s: the request "
		    "failed, yet the room shows it done: counted",
		    ro_op_name(cy->doubt[i].op), cy->doubt[i].id) < 0)
			return RO_ENOMEM;
	}
	doubt_release(cy);
	return RO_OK;
}

/* Apply one item; on success note how to undo it. ENOMEM is fatal. */
static int
apply_item(struct cycle *cy, enum ro_op op, size_t i)
{
	const struct ro_spec	*spec = cy->spec;
	const struct ro_state	*st = cy->state;
	const char		*room = spec->room_id;
	const struct ro_entity	*e = NULL, *before;
	const struct ro_artifact *a = NULL, *was = NULL;
	struct ro_err		 ie = RO_ERR_INIT;
	struct undo		 u;
	bool			 rb = cy->opts->rollback;
	int			 rc = RO_OK, error = RO_OK;

	memset(&u, 0, sizeof(u));
	u.op = op;
	switch (op) {
	case RO_OP_JOIN:
		e = &spec->entities[i];
		rc = ro_client_join(cy->c, room, e, &ie);
		break;
	case RO_OP_UPDATE:
		e = &spec->entities[cy->plan.update.v[i]];
		before = &st->entities[cy->plan.update_have.v[i]];
		if (rb && (error = ro_entity_copy(&u.entity, before)) < 0)
			goto done;
		u.have_entity = rb;
		rc = ro_client_update(cy->c, room, e, &ie);
		if (rc == RO_ENOTFOUND)
			ro_err_set(&ie, rc, "%.180s (update not supported by "
			    "the server; reported, not forced)", ie.msg);
		break;
	case RO_OP_KICK:
		e = &st->entities[i];
		if (rb && (error = ro_entity_copy(&u.entity, e)) < 0)
			goto done;
		u.have_entity = rb;
		rc = ro_client_kick(cy->c, room, e->id, &ie);
		break;
	case RO_OP_SEED:
		a = &spec->artifacts[i];
		if ((was = ro_artifact_find(st->artifacts, st->n_artifacts,
		    a->name)) != NULL) {
			u.existed = true;
			if (rb && (error = keep_artifact(cy, &u, was)) < 0)
				goto done;
		}
		rc = ro_client_seed(cy->c, room, a, &ie);
		break;
	case RO_OP_PROMOTE:
		a = &spec->artifacts[i];
		if (ro_strv_contains(&cy->failed_seeds, a->name)) {
			rc = ro_err_set(&ie, RO_EINVALID, "promote %s: not "
			    "tried, its seed failed", a->name);
			break;
		}
		rc = ro_client_promote(cy->c, room, a->name, &ie);
		break;
	case RO_OP_DELETE:
		a = &st->artifacts[i];
		u.existed = true;
		if (rb && (error = keep_artifact(cy, &u, a)) < 0)
			goto done;
		rc = ro_client_delete_artifact(cy->c, room, a->name, &ie);
		break;
	case RO_OP_POLICIES:
		if (rb && (error = ro_policies_copy(&u.policies,
		    &st->policies)) < 0)
			goto done;
		rc = ro_client_put_policies(cy->c, room, &spec->policies, &ie);
		break;
	}
	if (rc == RO_ENOMEM) {
		error = rc;
		goto done;
	}
	if (rc < 0) {
		if (rc == RO_EAGAIN) {
			cy->res->unreachable = true;
			/* sent, maybe done: VERIFY settles it */
			if (add_doubt(cy, op, op == RO_OP_POLICIES ?
			    "policies" : e != NULL ? e->id : a->name) < 0) {
				error = RO_ENOMEM;
				goto done;
			}
		}
		if (op == RO_OP_SEED && ro_strv_push(&cy->failed_seeds,
		    a->name) < 0) {
			error = RO_ENOMEM;
			goto done;
		}
		error = item_failed(cy, &ie);
		goto done;
	}
	switch (op) {
	case RO_OP_JOIN:	cy->rec.diff.join++; break;
	case RO_OP_UPDATE:	cy->rec.diff.update++; break;
	case RO_OP_KICK:	cy->rec.diff.kick++; break;
	case RO_OP_SEED:	cy->rec.diff.seed++; break;
	case RO_OP_PROMOTE:	cy->rec.diff.promote++; break;
	case RO_OP_DELETE:	cy->rec.diff.del++; break;
	case RO_OP_POLICIES:	cy->rec.diff.policies++; break;
	}
	if (!rb)
		goto done;
	if ((u.id = strdup(op == RO_OP_POLICIES ? "policies" :
	    e != NULL ? e->id : a->name)) == NULL ||
	    undolog_add(&cy->undo, &u) < 0)
		error = RO_ENOMEM;
done:
	undo_release(&u);
	return error;
}

static int
apply_plan(struct cycle *cy)
{
	const struct ro_plan	*p = &cy->plan;
	size_t			 i;
	int			 error = RO_OK;

	for (i = 0; i < p->join.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_JOIN, p->join.v[i]);
	for (i = 0; i < p->update.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_UPDATE, i);
	for (i = 0; i < p->kick.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_KICK, p->kick.v[i]);
	for (i = 0; i < p->seed.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_SEED, p->seed.v[i]);
	for (i = 0; i < p->promote.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_PROMOTE, p->promote.v[i]);
	for (i = 0; i < p->del.n && error == RO_OK; i++)
		error = apply_item(cy, RO_OP_DELETE, p->del.v[i]);
	if (p->policies != 0 && error == RO_OK)
		error = apply_item(cy, RO_OP_POLICIES, 0);
	return error;
}

/* Undo what this cycle applied, newest first; say what was undone. */
static int
rollback(struct cycle *cy)
{
	const char	*room = cy->spec->room_id;
	struct ro_err	 e;
	struct undo	*u;
	size_t		 k;
	int		 rc, error = RO_OK;

	for (k = cy->undo.n; k > 0 && error == RO_OK; k--) {
		u = &cy->undo.v[k - 1];
		ro_err_clear(&e);
		rc = RO_OK;
		switch (u->op) {
		case RO_OP_JOIN:
			rc = ro_client_kick(cy->c, room, u->id, &e);
			break;
		case RO_OP_UPDATE:
			rc = u->have_entity ? ro_client_update(cy->c, room,
			    &u->entity, &e) : ro_err_set(&e, RO_ENOTFOUND,
			    "previous attributes unknown");
			break;
		case RO_OP_KICK:
			rc = ro_client_join(cy->c, room, &u->entity, &e);
			break;
		case RO_OP_SEED:
		case RO_OP_DELETE:
			if (!u->existed)
				rc = ro_client_delete_artifact(cy->c, room,
				    u->id, &e);
			else if (u->have_artifact &&
			    u->artifact.content != NULL) {
				rc = ro_client_seed(cy->c, room, &u->artifact,
				    &e);
				if (rc == RO_OK && u->artifact.is_promoted)
					rc = ro_client_promote(cy->c, room,
					    u->id, &e);
			} else
				rc = ro_err_set(&e, RO_ENOTFOUND, "previous "
				    "content not held by the server");
			break;
		case RO_OP_PROMOTE:
			rc = ro_err_set(&e, RO_EINVALID, "a promotion cannot "
			    "be undone");
			break;
		case RO_OP_POLICIES:
			rc = ro_client_put_policies(cy->c, room, &u->policies,
			    &e);
			break;
		}
		if (rc == RO_ENOMEM)
			return rc;
		if (rc == RO_OK)
			error = ro_strv_pushf(&cy->rec.rollback, "undone: %s %s",
			    ro_op_name(u->op), u->id);
		else
			error = ro_strv_pushf(&cy->rec.rollback, "not undone: "
			    "%s %s: %s", ro_op_name(u->op), u->id, e.msg);
	}
	return error;
}

static int
blocked_strings(struct ro_strv *out, const struct ro_plan *p)
{
	size_t	i;
	int	error;

	for (i = 0; i < p->n_blocked; i++)
		if ((error = ro_strv_pushf(out, "%s %s: %s",
		    ro_op_name(p->blocked[i].op), p->blocked[i].id,
		    p->blocked[i].reason)) < 0)
			return error;
	return RO_OK;
}

static int
plan_room(struct cycle *cy, struct ro_err *err)
{
	int	error;

	ro_plan_release(&cy->plan);
	if ((error = ro_plan_build(&cy->plan, cy->spec, cy->state, err)) < 0)
		return error;
	return ro_guard_apply(&cy->plan, &cy->opts->guard, &cy->guard, err);
}

static int
write_record(struct cycle *cy, long long t0, struct ro_err *err)
{
	const struct ro_reconcile_opts *o = cy->opts;
	struct ro_buf	line = RO_BUF_INIT;
	struct ro_err	se = RO_ERR_INIT;
	int		error;

	cy->rec.duration_ms = (long)(ro_now_ms() - t0);
	ro_now_iso(cy->rec.ts);		/* when the outcome is known */
	if (o->audit == NULL)
		return RO_OK;
	ro_buf_init(&line, RO_AUDIT_LINE_MAX);
	if ((error = ro_audit_format(&cy->rec, &line)) < 0) {
		ro_err_set(err, error, "room %s: audit record: %s",
		    cy->spec->room_id, ro_status_str(error));
		goto done;
	}
	if ((error = ro_auditlog_append(o->audit, line.ptr, line.len,
	    err)) < 0) {
		cy->res->audit_failed = true;
		goto done;
	}
	/* the record is on disk: its intent has served */
	if (cy->remove_intent && !cy->keep_intent &&
	    ro_intent_remove(o->intent_dir, cy->spec->room_id, &se) < 0)
		log_warnx("room %s: %s", cy->spec->room_id, se.msg);
	if (o->sink != NULL && o->sink(o->sink_arg, cy->spec->room_id,
	    line.ptr, line.len, &se) < 0)
		log_warnx("room %s: audit sink: %s", cy->spec->room_id, se.msg);
	if (o->publish != NULL)
		(void)o->publish(o->publish_arg, cy->spec->room_id, line.ptr,
		    line.len, &se);
done:
	ro_buf_release(&line);
	return error;
}

static size_t
diff_total(const struct ro_audit_diff *d)
{
	return d->join + d->kick + d->update + d->seed + d->promote + d->del +
	    d->policies;
}

/* The changes a stopped cycle made (its intent against the state just
 * read) go into this cycle's record; its intent file goes once that
 * record is written. */
static int
count_prior(struct cycle *cy)
{
	size_t	n;

	n = ro_intent_done(cy->prior, cy->state, cy->prior_recorded,
	    &cy->rec.diff);
	cy->remove_intent = true;
	if (n == 0)
		return RO_OK;
	log_warnx("room %s: %zu change%s of an interrupted reconcile (record "
	    "%s %s) counted in this record", cy->spec->room_id, n,
	    n == 1 ? "" : "s", ro_intent_record(cy->prior),
	    cy->prior_recorded ? "left them in doubt" : "was never written");
	return ro_strv_pushf(&cy->rec.warnings, "%zu change%s of an "
	    "interrupted reconcile (record %s %s) counted here", n,
	    n == 1 ? "" : "s", ro_intent_record(cy->prior),
	    cy->prior_recorded ? "left them in doubt" : "was never written");
}

/* One cycle. *again: removals were deferred and progress was made. */
static int
run_cycle(struct cycle *cy, bool first, bool *again, struct ro_err *err)
{
	const struct ro_reconcile_opts *o = cy->opts;
	struct ro_reconcile_result *res = cy->res;
	struct ro_err	 se = RO_ERR_INIT;
	long long	 t0 = ro_now_ms();
	size_t		 i;
	int		 error;

	*again = false;
	memcpy(cy->rec.cid, res->cid, sizeof(cy->rec.cid));
	ro_audit_rec_init(&cy->rec);
	cy->rec.room = cy->spec->room_id;
	cy->rec.rev = o->rev != NULL ? o->rev : "api";
	cy->rec.source = o->source != NULL ? o->source : "api";
	cy->rec.agent = ro_version();
	cy->rec.shard = o->shard != NULL ? o->shard : "0/1";
	cy->rec.signer = o->signer;
	if (first) {
		for (i = 0; o->warnings != NULL && i < o->warnings->n; i++)
			if (ro_strv_push(&cy->rec.warnings,
			    o->warnings->v[i]) < 0)
				return ro_err_set(err, RO_ENOMEM, "out of memory");
		if (ro_strv_copy(&cy->rec.warnings, &cy->spec->warnings) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
	}

	res->phase = RO_PHASE_PLANNING;
	if ((error = ro_client_get_state(cy->c, cy->spec->room_id, &cy->state,
	    &se)) < 0) {
		if (error == RO_ENOMEM)
			return ro_err_set(err, error, "%s", se.msg);
		res->unreachable = error == RO_EAGAIN;
		res->failed = true;
		cy->rec.outcome = "failed";
		log_warnx("room %s: %s", cy->spec->room_id, se.msg);
		if (ro_strv_push(&cy->rec.errors, se.msg) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		return o->dry_run ? RO_OK : write_record(cy, t0, err);
	}
	if (cy->prior != NULL && (error = count_prior(cy)) < 0)
		return ro_err_set(err, error, "out of memory");
	if ((error = plan_room(cy, err)) < 0)
		return error;
	if (first && (res->diff = ro_plan_to_json(&cy->plan)) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	res->phase = RO_PHASE_PRE_CHECKS;
	if ((error = blocked_strings(&cy->rec.blocked, &cy->plan)) < 0)
		return ro_err_set(err, error, "out of memory");
	if (o->dry_run) {
		res->converged = ro_plan_converged(&cy->plan);
		cy->rec.outcome = res->converged ? "converged" : "planned";
		return RO_OK;
	}
	if (ro_plan_count(&cy->plan) == 0) {
		res->converged = true;
		cy->rec.outcome = cy->plan.n_blocked > 0 ? "blocked" :
		    diff_total(&cy->rec.diff) > 0 ? "applied" : "converged";
		return write_record(cy, t0, err);
	}

	/* the ledger first: no change while a record waits for the disk,
	 * and none before its intent is saved */
	if (o->audit != NULL && (error = ro_auditlog_wait(o->audit, err)) < 0)
		return error;
	if (o->intent_dir != NULL && o->audit != NULL) {
		cy->carry = cy->rec.diff;
		if ((error = ro_intent_save(o->intent_dir, cy->spec, &cy->plan,
		    cy->rec.id, &cy->carry, NULL, 0, &se)) < 0) {
			if (error == RO_ENOMEM)
				return ro_err_set(err, error, "%s", se.msg);
			res->failed = true;
			cy->rec.outcome = "failed";
			log_warnx("room %s: nothing applied: %s",
			    cy->spec->room_id, se.msg);
			if (ro_strv_pushf(&cy->rec.errors, "nothing applied: "
			    "intent: %s", se.msg) < 0)
				return ro_err_set(err, RO_ENOMEM,
				    "out of memory");
			return write_record(cy, t0, err);
		}
		cy->remove_intent = true;
	}

	res->phase = RO_PHASE_APPLY;
	if ((error = apply_plan(cy)) < 0)
		return ro_err_set(err, error, "out of memory");
	if (cy->item_failed && o->rollback) {
		res->phase = RO_PHASE_ROLLBACK;
		if ((error = rollback(cy)) < 0)
			return ro_err_set(err, error, "out of memory");
	}

	if (res->phase == RO_PHASE_APPLY)
		res->phase = RO_PHASE_VERIFY;
	cy->applied = cy->state;	/* the plan still points into it */
	cy->state = NULL;
	if ((error = ro_client_get_state(cy->c, cy->spec->room_id, &cy->state,
	    &se)) < 0) {
		if (error == RO_ENOMEM)
			return ro_err_set(err, error, "%s", se.msg);
		cy->item_failed = true;
		if (error == RO_EAGAIN)
			res->unreachable = true;
		if (ro_strv_pushf(&cy->rec.errors, "verify: %s", se.msg) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		res->converged = false;
		/* requests in doubt and no state to settle them: the intent
		 * keeps them for the room's next reconcile (intent.h) */
		if (cy->ndoubt > 0 && cy->remove_intent) {
			if ((error = ro_intent_save(o->intent_dir, cy->spec,
			    &cy->plan, cy->rec.id, &cy->carry, cy->doubt,
			    cy->ndoubt, &se)) == RO_ENOMEM)
				return ro_err_set(err, error, "%s", se.msg);
			if (error < 0)
				log_warnx("room %s: %zu request%s in doubt not "
				    "kept: %s", cy->spec->room_id, cy->ndoubt,
				    cy->ndoubt == 1 ? "" : "s", se.msg);
			else
				cy->keep_intent = true;
		}
	} else {
		struct ro_guard_result before = cy->guard;

		if ((error = settle_doubt(cy)) < 0)
			return ro_err_set(err, error, "out of memory");

		if ((error = plan_room(cy, err)) < 0)
			return error;
		res->converged = ro_plan_converged(&cy->plan);
		ro_strv_release(&cy->rec.blocked);
		if ((error = blocked_strings(&cy->rec.blocked, &cy->plan)) < 0)
			return ro_err_set(err, error, "out of memory");
		*again = !cy->item_failed && !res->converged &&
		    before.deferred > 0 &&
		    (cy->rec.diff.kick > 0 || cy->rec.diff.del > 0);
	}
	if (cy->item_failed)
		res->partial = true;
	if (cy->item_failed && o->rollback)
		cy->rec.outcome = "rolled-back";
	else if (cy->item_failed)
		cy->rec.outcome = "partial";
	else if (cy->plan.n_blocked > 0 && !*again)
		cy->rec.outcome = "blocked";
	else
		cy->rec.outcome = "applied";
	return write_record(cy, t0, err);
}

static void
add_counts(struct ro_audit_diff *sum, const struct ro_audit_diff *d)
{
	sum->join += d->join;
	sum->kick += d->kick;
	sum->update += d->update;
	sum->seed += d->seed;
	sum->promote += d->promote;
	sum->del += d->del;
	sum->policies += d->policies;
}

/*
 * The intent a stopped cycle of room left, unless its record was written
 * after all (then the file is only removed). NULL: none, or unusable
 * (logged).
 */
static struct ro_intent *
load_prior(const struct ro_reconcile_opts *o, const char *room,
    bool *recorded)
{
	struct ro_intent	*in = NULL;
	struct ro_err		 e = RO_ERR_INIT;
	int			 rc;

	*recorded = false;
	if (o->dry_run || o->intent_dir == NULL || o->audit == NULL)
		return NULL;
	if ((rc = ro_intent_load(o->intent_dir, room, &in, &e)) ==
	    RO_ENOTFOUND)
		return NULL;
	if (rc < 0) {
		log_warnx("room %s: %s: changes of an interrupted reconcile "
		    "may be missing from the audit log", room, e.msg);
		if (rc == RO_EINVALID)
			(void)ro_intent_remove(o->intent_dir, room, NULL);
		return NULL;
	}
	if ((rc = ro_intent_recorded(o->audit->path, ro_intent_record(in),
	    recorded, &e)) < 0 || (*recorded && ro_intent_ndoubt(in) == 0)) {
		if (rc < 0)
			log_warnx("room %s: %s: intent %s kept for later", room,
			    e.msg, ro_intent_record(in));
		else
			(void)ro_intent_remove(o->intent_dir, room, NULL);
		ro_intent_free(in);
		return NULL;
	}
	return in;
}

int
ro_reconcile_room(struct ro_client *c, const struct ro_spec *spec,
    const struct ro_reconcile_opts *opts, struct ro_reconcile_result *res,
    struct ro_err *err)
{
	struct cycle	 cy;
	struct ro_intent *prior;
	bool		 prior_recorded;
	long long	 t0 = ro_now_ms();
	int		 max = opts->max_cycles > 0 ? opts->max_cycles :
			    RO_RECONCILE_MAX_CYCLES;
	bool		 again = true;
	int		 error = RO_OK;

	memset(res, 0, sizeof(*res));
	if (opts->cid != NULL)
		snprintf(res->cid, sizeof(res->cid), "%s", opts->cid);
	else
		ro_uuid(res->cid);
	ro_log_set_cid(res->cid);
	prior = load_prior(opts, spec->room_id, &prior_recorded);
	while (again && res->cycles < max) {
		memset(&cy, 0, sizeof(cy));
		cy.c = c;
		cy.spec = spec;
		cy.opts = opts;
		cy.res = res;
		cy.prior = res->cycles == 0 ? prior : NULL;
		cy.prior_recorded = prior_recorded;
		res->partial = res->failed = res->unreachable = false;
		error = run_cycle(&cy, res->cycles == 0, &again, err);
		res->cycles++;
		res->outcome = cy.rec.outcome;
		add_counts(&res->applied, &cy.rec.diff);
		if (error == RO_OK) {
			ro_strv_release(&res->blocked);
			if (ro_strv_copy(&res->errors, &cy.rec.errors) < 0 ||
			    ro_strv_copy(&res->warnings, &cy.rec.warnings) < 0 ||
			    ro_strv_copy(&res->blocked, &cy.rec.blocked) < 0)
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
		}
		ro_audit_rec_release(&cy.rec);
		ro_plan_release(&cy.plan);
		ro_state_free(cy.state);
		ro_state_free(cy.applied);
		doubt_release(&cy);
		undolog_release(&cy.undo);
		ro_strv_release(&cy.failed_seeds);
		if (error < 0)
			break;
		log_info("room %s: %s (cycle %d, %s)", spec->room_id,
		    res->outcome, res->cycles, ro_phase_name(res->phase));
	}
	ro_intent_free(prior);
	res->duration_ms = (long)(ro_now_ms() - t0);
	ro_log_set_cid(NULL);
	return error;
}

void
ro_reconcile_result_release(struct ro_reconcile_result *res)
{
	ro_strv_release(&res->errors);
	ro_strv_release(&res->warnings);
	ro_strv_release(&res->blocked);
	cJSON_Delete(res->diff);
	res->diff = NULL;
}

int
ro_reconcile_audit_only(const struct ro_reconcile_opts *o, const char *room,
    const char *outcome, const struct ro_strv *errors, struct ro_err *err)
{
	struct ro_audit_rec	rec;
	struct ro_buf		line = RO_BUF_INIT;
	struct ro_err		se = RO_ERR_INIT;
	int			error;

	if (o->audit == NULL)
		return RO_OK;
	memset(&rec, 0, sizeof(rec));
	if (o->cid != NULL)
		snprintf(rec.cid, sizeof(rec.cid), "%s", o->cid);
	ro_audit_rec_init(&rec);
	rec.room = room;
	rec.rev = o->rev != NULL ? o->rev : "api";
	rec.source = o->source != NULL ? o->source : "api";
	rec.outcome = outcome;
	rec.agent = ro_version();
	rec.shard = o->shard != NULL ? o->shard : "0/1";
	rec.signer = o->signer;
	ro_buf_init(&line, RO_AUDIT_LINE_MAX);
	if ((errors != NULL && ro_strv_copy(&rec.errors, errors) < 0) ||
	    (o->warnings != NULL && ro_strv_copy(&rec.warnings,
	    o->warnings) < 0) || ro_audit_format(&rec, &line) < 0) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = ro_auditlog_append(o->audit, line.ptr, line.len, err)) < 0)
		goto done;
	if (o->sink != NULL && o->sink(o->sink_arg, room, line.ptr, line.len,
	    &se) < 0)
		log_warnx("room %s: audit sink: %s", room, se.msg);
	if (o->publish != NULL)
		(void)o->publish(o->publish_arg, room, line.ptr, line.len, &se);
done:
	ro_audit_rec_release(&rec);
	ro_buf_release(&line);
	return error;
}
