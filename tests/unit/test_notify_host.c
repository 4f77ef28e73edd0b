/*
 * test_notify_host.c: commit status requests per host (notify_host.h):
 * paths, headers, fields and the webhook's signature; repositories from
 * remote URLs; the summary of a commit's records; and the repeatable
 * --notify option of the agent's configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hook.h"
#include "notify_host.h"
#include "testutil.h"

#define SHA	"0123456789abcdef0123456789abcdef01234567"

static bool
has_header(const struct ro_notify_req *r, const char *h)
{
	return ro_strv_contains(&r->headers, h);
}

static void
build(enum ro_notify_provider p, const char *base, const char *repo,
    enum ro_notify_state st, struct ro_notify_req *r)
{
	struct ro_notify_target	t = { p, base, repo, "tok", 3 };
	struct ro_notify_status	s = { SHA, st, "2 applied", "roomops",
	    "https://dash/x", "[{\"room\":\"r\"}]" };
	struct ro_err		err = RO_ERR_INIT;

	assert_int_equal(ro_notify_host_request(&t, &s, r, &err), 0);
}

static void
test_github(void **state)
{
	struct ro_notify_req	r;

	(void)state;
	build(RO_NOTIFY_GITHUB, "https://api.github.com", "acme/rooms",
	    RO_NOTIFY_FAILURE, &r);
	assert_string_equal(r.url, "https://api.github.com/repos/acme/rooms/"
	    "statuses/" SHA);
	assert_true(has_header(&r, "Authorization: Bearer tok"));
	assert_string_equal(ro_buf_cstr(&r.body), "{\"state\":\"failure\","
	    "\"description\":\"2 applied\",\"context\":\"roomops\","
	    "\"target_url\":\"https://dash/x\"}");
	ro_notify_req_release(&r);
}

static void
test_gitlab(void **state)
{
	struct ro_notify_req	r;

	(void)state;
	build(RO_NOTIFY_GITLAB, "https://gl.example", "acme%2Frooms",
	    RO_NOTIFY_FAILURE, &r);
	assert_string_equal(r.url, "https://gl.example/api/v4/projects/"
	    "acme%2Frooms/statuses/" SHA);
	assert_true(has_header(&r, "PRIVATE-TOKEN: tok"));
	assert_non_null(strstr(ro_buf_cstr(&r.body), "\"state\":\"failed\""));
	assert_non_null(strstr(ro_buf_cstr(&r.body), "\"name\":\"roomops\""));
	ro_notify_req_release(&r);
}

static void
test_gitea(void **state)
{
	struct ro_notify_req	r;

	(void)state;
	build(RO_NOTIFY_GITEA, "https://codeberg.org", "acme/rooms",
	    RO_NOTIFY_PENDING, &r);
	assert_string_equal(r.url, "https://codeberg.org/api/v1/repos/acme/"
	    "rooms/statuses/" SHA);
	assert_true(has_header(&r, "Authorization: token tok"));
	assert_non_null(strstr(ro_buf_cstr(&r.body), "\"state\":\"pending\""));
	ro_notify_req_release(&r);
}

static void
test_webhook(void **state)
{
	struct ro_notify_req	r;
	struct ro_hook_key	key;
	size_t			i;
	const char		*sig = NULL;

	(void)state;
	build(RO_NOTIFY_WEBHOOK, "https://relay/x", NULL, RO_NOTIFY_SUCCESS,
	    &r);
	assert_string_equal(r.url, "https://relay/x");
	assert_non_null(strstr(ro_buf_cstr(&r.body), "\"records\":[{\"room\":"
	    "\"r\"}]"));
	assert_non_null(strstr(ro_buf_cstr(&r.body), "\"sha\":\"" SHA "\""));
	for (i = 0; i < r.headers.n; i++)
		if (strncmp(r.headers.v[i], "X-Roomops-Signature-256: sha256=",
		    32) == 0)
			sig = r.headers.v[i] + 32;
	assert_non_null(sig);
	ro_hook_key_set(&key, "tok", 3);
	assert_true(ro_hook_hmac_eq(sig, r.body.ptr, r.body.len, &key));
	ro_hook_key_set(&key, "other", 5);
	assert_false(ro_hook_hmac_eq(sig, r.body.ptr, r.body.len, &key));
	/* the secret is never a header of its own */
	for (i = 0; i < r.headers.n; i++)
		assert_null(strstr(r.headers.v[i], "tok"));
	ro_notify_req_release(&r);
}

static void
test_bad_sha(void **state)
{
	struct ro_notify_target	t = { RO_NOTIFY_GITHUB, "https://x", "a/b",
	    "tok", 3 };
	struct ro_notify_status	s = { "HEAD", RO_NOTIFY_SUCCESS, "", "c",
	    NULL, NULL };
	struct ro_notify_req	r;
	struct ro_err		err = RO_ERR_INIT;

	(void)state;
	assert_int_equal(ro_notify_host_request(&t, &s, &r, &err),
	    RO_EINVALID);
	ro_notify_req_release(&r);
}

static void
repo_is(enum ro_notify_provider p, const char *url, const char *host,
    const char *repo)
{
	struct ro_buf	h = RO_BUF_INIT, r = RO_BUF_INIT;
	struct ro_err	err = RO_ERR_INIT;

	if (ro_notify_host_repo(p, url, &h, &r, &err) != 0)
		fail_msg("%s: %s", url, err.msg);
	assert_string_equal(ro_buf_cstr(&h), host);
	assert_string_equal(ro_buf_cstr(&r), repo);
	ro_buf_release(&h);
	ro_buf_release(&r);
}

static void
test_repo_from_url(void **state)
{
	struct ro_buf	h = RO_BUF_INIT, r = RO_BUF_INIT, b = RO_BUF_INIT;
	struct ro_err	err = RO_ERR_INIT;

	(void)state;
	repo_is(RO_NOTIFY_GITHUB, "https://github.com/acme/rooms.git",
	    "github.com", "acme/rooms");
	repo_is(RO_NOTIFY_GITHUB, "git@github.com:acme/rooms.git",
	    "github.com", "acme/rooms");
	repo_is(RO_NOTIFY_GITEA, "ssh://git@git.example:2222/acme/rooms",
	    "git.example", "acme/rooms");
	repo_is(RO_NOTIFY_GITEA, "https://x.example/gitea/acme/rooms/",
	    "x.example", "acme/rooms");
	repo_is(RO_NOTIFY_GITLAB, "https://gitlab.com/grp/sub/rooms.git",
	    "gitlab.com", "grp%2Fsub%2Frooms");
	repo_is(RO_NOTIFY_GITLAB, "https://u:p@gl.example/a/b", "gl.example",
	    "a%2Fb");
	assert_int_equal(ro_notify_host_repo(RO_NOTIFY_GITHUB, "/srv/rooms.git",
	    &h, &r, &err), RO_EINVALID);
	assert_int_equal(ro_notify_host_repo(RO_NOTIFY_GITHUB,
	    "file:///srv/rooms.git", &h, &r, &err), RO_EINVALID);
	ro_buf_reset(&r);
	assert_int_equal(ro_notify_host_repo_arg(RO_NOTIFY_GITLAB, "1234", &r,
	    &err), 0);
	assert_string_equal(ro_buf_cstr(&r), "1234");
	ro_buf_reset(&r);
	assert_int_equal(ro_notify_host_repo_arg(RO_NOTIFY_GITHUB, "rooms", &r,
	    &err), RO_EINVALID);
	assert_int_equal(ro_notify_host_default_base(RO_NOTIFY_GITHUB,
	    "github.com", &b), 0);
	assert_string_equal(ro_buf_cstr(&b), "https://api.github.com");
	ro_buf_reset(&b);
	assert_int_equal(ro_notify_host_default_base(RO_NOTIFY_GITHUB,
	    "ghe.corp", &b), 0);
	assert_string_equal(ro_buf_cstr(&b), "https://ghe.corp/api/v3");
	ro_buf_release(&h);
	ro_buf_release(&r);
	ro_buf_release(&b);
}

static void
test_summary(void **state)
{
	const char *const lines[] = {
	    "{\"room\":\"room-a\",\"rev\":\"" SHA "\",\"outcome\":\"failed\","
	    "\"shard\":\"0/1\",\"errors\":[\"unreachable\"]}",
	    "{\"room\":\"room-b\",\"rev\":\"" SHA "\",\"outcome\":\"applied\","
	    "\"shard\":\"0/1\",\"errors\":[]}",
	    "{\"room\":\"room-lab\",\"rev\":\"" SHA "\",\"outcome\":"
	    "\"rejected\",\"shard\":\"0/1\",\"errors\":[\"specs/lab.yaml:6:22: "
	    "spec.entities[2].kind: bad\"]}",
	    /* retried: the last record of a room counts */
	    "{\"room\":\"room-a\",\"rev\":\"" SHA "\",\"outcome\":\"applied\","
	    "\"shard\":\"0/1\",\"errors\":[]}",
	    /* other shard, other commit: ignored */
	    "{\"room\":\"room-x\",\"rev\":\"" SHA "\",\"outcome\":\"failed\","
	    "\"shard\":\"1/2\"}",
	    "{\"room\":\"room-y\",\"rev\":\"ffff\",\"outcome\":\"failed\","
	    "\"shard\":\"0/1\"}",
	    "not json",
	};
	const char *const good[] = {
	    "{\"room\":\"room-a\",\"rev\":\"" SHA "\",\"outcome\":"
	    "\"superseded\",\"shard\":\"0/1\"}",
	    "{\"room\":\"room-b\",\"rev\":\"" SHA "\",\"outcome\":"
	    "\"converged\",\"shard\":\"0/1\"}",
	};
	enum ro_notify_state	st;
	char			desc[RO_NOTIFY_DESC_MAX + 1];
	struct ro_buf		room = RO_BUF_INIT, recs = RO_BUF_INIT;

	(void)state;
	assert_int_equal(ro_notify_host_summary(lines, 7, SHA, "0/1", &st,
	    desc, &room, &recs), 0);
	assert_int_equal(st, RO_NOTIFY_FAILURE);
	assert_string_equal(desc, "2 applied, 1 rejected: room-lab: "
	    "spec.entities[2].kind: bad");
	assert_string_equal(ro_buf_cstr(&room), "room-lab");
	assert_non_null(strstr(ro_buf_cstr(&recs), "room-lab"));
	assert_null(strstr(ro_buf_cstr(&recs), "room-x"));
	ro_buf_reset(&room);
	assert_int_equal(ro_notify_host_summary(good, 2, SHA, "0/1", &st, desc,
	    &room, NULL), 0);
	assert_int_equal(st, RO_NOTIFY_SUCCESS);
	assert_string_equal(desc, "1 converged, 1 superseded");
	assert_int_equal(ro_notify_host_summary(NULL, 0, SHA, "0/1", &st, desc,
	    NULL, NULL), 0);
	assert_int_equal(st, RO_NOTIFY_SUCCESS);
	assert_string_equal(desc, "no rooms changed");
	ro_buf_release(&room);
	ro_buf_release(&recs);
}

static void
test_cut(void **state)
{
	char	s[8];

	(void)state;
	/* "ab" + U+00E9 (2 bytes) + "c": cut at 3 keeps "ab" */
	snprintf(s, sizeof(s), "ab\xc3\xa9" "c");
	ro_notify_host_cut(s, 3);
	assert_string_equal(s, "ab");
	snprintf(s, sizeof(s), "abc");
	ro_notify_host_cut(s, 3);
	assert_string_equal(s, "abc");
}

static void
test_config_repeat(void **state)
{
	char			*argv[] = { "agent", "--server", "http://x",
	    "--notify", "github", "--notify", "webhook", "--notify-url",
	    "webhook=https://relay/x", NULL };
	struct ro_config	*cfg = NULL;
	struct ro_err		 err = RO_ERR_INIT;

	(void)state;
	unsetenv("ROOMOPS_NOTIFY");
	unsetenv("ROOMOPS_CONFIG");
	if (ro_config_load(&cfg, 9, argv, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg->notify, "github,webhook");
	assert_string_equal(cfg->notify_url, "webhook=https://relay/x");
	assert_null(cfg->notify_repo);
	ro_config_free(cfg);
	setenv("ROOMOPS_NOTIFY", "gitlab,webhook", 1);
	if (ro_config_load(&cfg, 3, argv, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg->notify, "gitlab,webhook");
	ro_config_free(cfg);
	unsetenv("ROOMOPS_NOTIFY");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_gitea),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_bad_sha),
		cmocka_unit_test(test_repo_from_url),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_config_repeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
