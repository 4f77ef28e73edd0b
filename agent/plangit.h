/*
 * plangit.h: `roomops plan --git-diff` (and --base/--head): plan the rooms
 * a pull request touches (plandiff.h) against the live RoomServer or a
 * state file, read-only, and print them as text, JSON or Markdown
 * (planout.h). Called by cmd_plan.c on the main thread.
 */
#ifndef RO_PLANGIT_H
#define RO_PLANGIT_H

#include <stdbool.h>

#include "roomops/guard.h"
#include "roomops/model.h"
#include "plandiff.h"

enum ro_plangit_output { RO_PLANGIT_TEXT, RO_PLANGIT_JSON,
	RO_PLANGIT_MARKDOWN };

/* Where a room's state comes from (cmd_plan's client or state file). */
typedef int ro_plangit_state_fn(void *arg, const char *room_id,
	    struct ro_state **out, struct ro_err *err);

struct ro_plangit_args {
	struct ro_plandiff_opts	 diff;
	enum ro_plangit_output	 output;
	struct ro_guard_opts	 guard;
	ro_plangit_state_fn	*state;
	void			*state_arg;
};

/* Parse "BASE..HEAD" or "BASE...HEAD" into diff's base, head and
 * merge_base (pointers into range, which is modified). false if bad. */
bool	ro_plangit_range(char *range, struct ro_plandiff_opts *diff);

/* Run and print. @return RO_EXIT_OK, RO_EXIT_CHANGES or RO_EXIT_ERROR. */
int	ro_plangit_run(const struct ro_plangit_args *a);

#endif
