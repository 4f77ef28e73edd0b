/*
 * test_roomsview.c: the dashboard's view of the room table (agent/rooms.h
 * ro_rooms_page, ro_rooms_row, the change callback) and its embedded
 * files (agent/api_ui.h): one status per room, counts over every room,
 * filters, search, paging and its bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ui.h"
#include "rooms.h"
#include "testutil.h"

struct seen {
	char	last[64];
	int	n;
};

static void
on_change(void *arg, const char *room_id)
{
	struct seen	*s = arg;

	snprintf(s->last, sizeof(s->last), "%s", room_id);
	s->n++;
}

static void
end(struct ro_rooms *r, const char *id, const char *outcome, bool converged,
    bool partial, bool failed, const char *blocked)
{
	struct ro_reconcile_result	res;

	memset(&res, 0, sizeof(res));
	res.outcome = outcome;
	res.converged = converged;
	res.partial = partial;
	res.failed = failed;
	res.phase = RO_PHASE_VERIFY;
	if (blocked != NULL)
		assert_int_equal(ro_strv_push(&res.blocked, blocked), RO_OK);
	ro_rooms_end(r, id, "abc123", &res, RO_OK);
	ro_strv_release(&res.blocked);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static cJSON *
page(struct ro_rooms *r, size_t off, size_t lim, const char *st,
    const char *q)
{
	struct ro_rooms_query	rq = { off, lim, st, q };
	cJSON			*o = ro_rooms_page(r, &rq);

	assert_non_null(o);
	return o;
}

/* One room in each status, and the page's counts of them. */
static void
test_statuses(void **state)
{
	struct ro_rooms	*r = NULL;
	struct ro_strv	 errs = RO_STRV_INIT;
	struct seen	 seen = { "", 0 };
	cJSON		*o, *c, *row;

	(void)state;
	assert_int_equal(ro_rooms_new(&r, NULL), RO_OK);
	ro_rooms_set_notify(r, on_change, &seen);
	assert_int_equal(ro_rooms_add(r, "room-pending", "a/p.yaml"), RO_OK);
	ro_rooms_begin(r, "room-applying");
	assert_string_equal(seen.last, "room-applying");
	end(r, "room-converged", "applied", true, false, false, NULL);
	end(r, "room-partial", "partial", false, true, false, NULL);
	end(r, "room-held", "blocked", true, false, false,
	    "kick E-x: awaiting confirmation");
	end(r, "room-failed", "failed", false, false, true, NULL);
	end(r, "room-rejected", "applied", true, false, false, NULL);
	assert_int_equal(ro_strv_push(&errs, "f.yaml:3:1: bad"), RO_OK);
	ro_rooms_rejected(r, "room-rejected", NULL, &errs);
	ro_strv_release(&errs);
	assert_string_equal(seen.last, "room-rejected");
	assert_int_equal(ro_rooms_suspend(r, "room-converged", true), RO_OK);
	assert_string_equal(seen.last, "room-converged");

	o = page(r, 0, 100, NULL, NULL);
	assert_int_equal(num(o, "total"), 7);
	assert_int_equal(num(o, "matched"), 7);
	c = cJSON_GetObjectItemCaseSensitive(o, "counts");
	assert_int_equal(num(c, "converged"), 1);
	assert_int_equal(num(c, "pending"), 1);
	assert_int_equal(num(c, "applying"), 1);
	assert_int_equal(num(c, "partial"), 1);
	assert_int_equal(num(c, "held"), 1);
	assert_int_equal(num(c, "rejected"), 1);
	assert_int_equal(num(c, "failed"), 1);
	assert_int_equal(num(c, "suspended"), 1);
	cJSON_Delete(o);

	row = ro_rooms_row(r, "room-rejected");
	assert_non_null(row);
	assert_string_equal(str(row, "status"), "rejected");
	assert_int_equal(num(row, "errors"), 1);
	assert_string_equal(str(row, "lastOutcome"), "rejected");
	cJSON_Delete(row);
	row = ro_rooms_row(r, "room-converged");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row,
	    "suspended")));
	assert_string_equal(str(row, "lastRevision"), "abc123");
	cJSON_Delete(row);
	assert_null(ro_rooms_row(r, "room-nothere"));

	/* a new cycle: the held room converges */
	end(r, "room-held", "applied", true, false, false, NULL);
	row = ro_rooms_row(r, "room-held");
	assert_string_equal(str(row, "status"), "converged");
	cJSON_Delete(row);

	seen.n = 0;
	ro_rooms_remove(r, "room-failed");
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last, "room-failed");
	ro_rooms_free(r);
}

/* Filters, search (case-insensitive, id or file), paging and its cap. */
static void
test_filter_page(void **state)
{
	struct ro_rooms	*r = NULL;
	const cJSON	*rooms;
	char		 id[32], file[32];
	cJSON		*o;
	int		 i;

	(void)state;
	assert_int_equal(ro_rooms_new(&r, NULL), RO_OK);
	for (i = 0; i < 2500; i++) {
		snprintf(id, sizeof(id), "room-n%05d", i);
		snprintf(file, sizeof(file), "g%d/Spec%d.yaml", i % 3, i);
		assert_int_equal(ro_rooms_add(r, id, file), RO_OK);
		if (i % 10 == 0)
			end(r, id, "failed", false, false, true, NULL);
	}
	o = page(r, 0, 0, NULL, NULL);	/* counts only */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "rooms")), 0);
	assert_int_equal(num(o, "total"), 2500);
	cJSON_Delete(o);

	o = page(r, 100, 50, "failed", NULL);
	assert_int_equal(num(o, "matched"), 250);
	rooms = cJSON_GetObjectItemCaseSensitive(o, "rooms");
	assert_int_equal(cJSON_GetArraySize(rooms), 50);
	/* the 101st failed room is room 1000 */
	assert_string_equal(str(cJSON_GetArrayItem(rooms, 0), "roomId"),
	    "room-n01000");
	cJSON_Delete(o);

	o = page(r, 0, 100, NULL, "SPEC123");	/* file, any case */
	assert_int_equal(num(o, "matched"), 11);	/* 123, 1230..1239 */
	cJSON_Delete(o);
	o = page(r, 0, 100, "pending", "n0000");
	assert_int_equal(num(o, "matched"), 9);		/* 1..9, not 0 */
	cJSON_Delete(o);

	o = page(r, 0, 100000, NULL, NULL);		/* capped */
	assert_int_equal(num(o, "limit"), RO_ROOMS_PAGE_MAX);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "rooms")), RO_ROOMS_PAGE_MAX);
	cJSON_Delete(o);
	o = page(r, 5000, 10, NULL, NULL);		/* past the end */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "rooms")), 0);
	assert_int_equal(num(o, "matched"), 2500);
	cJSON_Delete(o);
	ro_rooms_free(r);
}

/* The embedded files: present, typed, tagged; no inline script. */
static void
test_assets(void **state)
{
	const struct ro_api_ui_asset	*a;

	(void)state;
	assert_ptr_equal(ro_api_ui_find(""), ro_api_ui_find("index.html"));
	assert_ptr_equal(ro_api_ui_find(NULL), ro_api_ui_find("index.html"));
	assert_null(ro_api_ui_find("../CMakeLists.txt"));
	assert_null(ro_api_ui_find("config.yaml"));
	a = ro_api_ui_find("index.html");
	assert_non_null(a);
	assert_true(strncmp(a->type, "text/html", 9) == 0);
	assert_true(a->len > 100 && a->data[a->len] == '\0');
	assert_non_null(strstr((const char *)a->data,
	    "<script src=\"/ui/app.js\" defer></script>"));
	assert_null(strstr((const char *)a->data, "<script>"));
	assert_true(a->etag[0] == '"' && strlen(a->etag) == 18);
	a = ro_api_ui_find("app.js");
	assert_non_null(a);
	assert_true(strncmp(a->type, "text/javascript", 15) == 0);
	assert_null(strstr((const char *)a->data, "innerHTML"));
	assert_non_null(ro_api_ui_find("app.css"));
	assert_non_null(strstr(RO_API_UI_CSP, "default-src 'none'"));
	assert_null(strstr(RO_API_UI_CSP, "unsafe"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_filter_page),
		cmocka_unit_test(test_assets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
