/*
 * test_notify.c: the commit status queue (notify.h) against the fake Git
 * host: order kept, the oldest dropped and counted when the queue is
 * full, delivery after the host comes back, the marker file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roomops/file.h"
#include "fakehost.h"
#include "metrics.h"
#include "notify.h"
#include "testutil.h"

#define SHA_FMT	"%040x"

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
test_queue_drops_oldest(void **state)
{
	struct fakehost		 h;
	struct ro_metrics	 m;
	struct ro_notify_opts	 o;
	struct ro_notify	*n = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct fh_req		 r;
	char			*dir = tu_tmpdir(), *tok, sha[41], *marker, *s;
	const char		*line;
	unsigned long		 prev = 0, cur;
	uint64_t		 dropped, ok;
	long long		 end;
	size_t			 i;
	int			 k;

	(void)state;
	assert_int_equal(fh_start(&h, "T0K", "S"), 0);
	tu_write(dir, "tok", "T0K\n");
	tok = tu_path(dir, "tok");
	ro_metrics_init(&m);
	memset(&o, 0, sizeof(o));
	o.providers = "github";
	o.token_files = tok;
	o.urls = h.url;
	o.repo = "acme/rooms";
	o.shard = (struct ro_shard){ 0, 1 };
	o.state_dir = dir;
	o.metrics = &m;
	o.queue_max = 4;
	o.backoff_ms = 20;
	fh_down(&h);
	if (ro_notify_start(&n, &o, &err) != 0)
		fail_msg("%s", err.msg);
	for (k = 1; k <= 12; k++) {
		snprintf(sha, sizeof(sha), SHA_FMT, k);
		ro_notify_final(n, sha, NULL, 0);
	}
	/* 12 queued: one in flight at most, 4 waiting, the rest dropped */
	dropped = ro_metrics_notifies(&m, 0, RO_M_NOTIFY_DROPPED);
	assert_true(dropped >= 7 && dropped <= 8);
	assert_int_equal(ro_metrics_gauge(&m, RO_M_NOTIFY_QUEUE_DEPTH), 4);

	assert_int_equal(fh_up(&h), 0);
	end = now_ms() + 20000;
	while (ro_metrics_notifies(&m, 0, RO_M_NOTIFY_SUCCESS) + dropped < 12 &&
	    now_ms() < end)
		nap(20);
	ok = ro_metrics_notifies(&m, 0, RO_M_NOTIFY_SUCCESS);
	assert_int_equal(ok + dropped, 12);
	/* in order, the newest last */
	for (i = 0; fh_get(&h, FH_GITHUB, NULL, i, &r); i++) {
		if (r.status == 201) {
			cur = strtoul(r.sha, NULL, 16);
			assert_true(cur > prev);
			prev = cur;
			assert_string_equal(r.state, "success");
			assert_string_equal(r.description, "no rooms changed");
		}
		fh_req_release(&r);
	}
	assert_int_equal(prev, 12);
	ro_notify_free(n);

	/* the newest final status is marked delivered */
	marker = tu_path(dir, RO_NOTIFY_FILE);
	s = NULL;
	{
		struct ro_buf	b = RO_BUF_INIT;

		assert_int_equal(ro_file_read(marker, 1u << 20, &b, NULL), 0);
		s = strdup(ro_buf_cstr(&b));
		ro_buf_release(&b);
	}
	snprintf(sha, sizeof(sha), SHA_FMT, 12);
	line = strstr(s, sha);
	assert_non_null(line);
	assert_non_null(strstr(s, "\"delivered\":true"));
	free(s);
	free(marker);
	ro_metrics_release(&m);
	fh_stop(&h);
	free(tok);
	tu_rmrf(dir);
	free(dir);
}

static void
test_bad_options(void **state)
{
	struct ro_notify_opts	 o;
	struct ro_notify	*n = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	char			*dir = tu_tmpdir(), *tok;

	(void)state;
	tu_write(dir, "tok", "T\n");
	tok = tu_path(dir, "tok");
	memset(&o, 0, sizeof(o));
	o.state_dir = dir;
	o.shard = (struct ro_shard){ 0, 1 };
	assert_int_equal(ro_notify_start(&n, &o, &err), 0);	/* off */
	assert_null(n);
	o.providers = "bitbucket";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	assert_non_null(strstr(err.msg, "unknown provider"));
	o.providers = "github";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	assert_non_null(strstr(err.msg, "--notify-token-file"));
	o.token_files = tok;
	o.remote = "/srv/rooms.git";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	assert_non_null(strstr(err.msg, "--notify-repo"));
	o.providers = "webhook";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	assert_non_null(strstr(err.msg, "--notify-url"));
	o.urls = "github=https://x,ftp://relay";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	o.urls = "github=https://x,webhook=https://relay/h";
	o.providers = "webhook,github";
	o.remote = "git@github.com:acme/rooms.git";
	if (ro_notify_start(&n, &o, &err) != 0)
		fail_msg("%s", err.msg);
	ro_notify_free(n);
	o.providers = "github,github";
	assert_int_equal(ro_notify_start(&n, &o, &err), RO_EINVALID);
	free(tok);
	tu_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_drops_oldest),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
