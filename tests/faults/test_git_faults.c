/*
 * test_git_faults.c: the Git remote misbehaves (fault suite).
 *
 * - unreachable: the agent starts while its git:// remote (git daemon)
 *   is down: /health 200, /ready 503, source.lastError says why; the
 *   daemon comes up: it converges. Then the daemon goes down again, a
 *   generation is pushed, the agent keeps polling and reports the error;
 *   the daemon comes back on the same port: it converges again.
 * - slow: a TCP proxy in front of git daemon holds every connection for
 *   1.5 s before passing bytes: the agent converges, the HTTP API stays
 *   responsive meanwhile (the Git thread is not the API's).
 * - history rewritten: after two generations the branch is reset and
 *   force-pushed with a different third: one "history-rewritten" record,
 *   the new head reconciled.
 * - a burst of 1,000 commits pushed at once (made by git fast-import):
 *   more than --max-pending (20) pending, so each of the 999 intermediate
 *   commits gets exactly one "superseded" record for the room it changed
 *   (in its note too) and the newest spec of every room is applied.
 * Each ends with the ledger (faults.h).
 */
#include <poll.h>

#include "faults.h"

#define NBASE	3

/* ---- a delaying TCP proxy -------------------------------------------- */

struct proxy {
	int		 lfd;
	int		 port;
	int		 upstream;
	int		 delay_ms;
	pthread_t	 tid;
	atomic_bool	 stop;
	atomic_int	 conns;		/* connections being served */
	atomic_int	 served;	/* connections accepted */
};

struct pconn {
	struct proxy	*p;
	int		 cfd;
};

static int
connect_port(int port)
{
	struct sockaddr_in	sa;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Hold the connection delay_ms, then pump bytes both ways until one
 * side closes (bounded: 60 s without traffic ends it). */
static void *
proxy_conn(void *arg)
{
	struct pconn	*pc = arg;
	struct proxy	*p = pc->p;
	struct pollfd	 pfd[2];
	char		 buf[16384];
	int		 ufd, i, n;
	ssize_t		 r;

	ac_sleep_ms(p->delay_ms);
	if ((ufd = connect_port(p->upstream)) == -1)
		goto done;
	pfd[0].fd = pc->cfd;
	pfd[1].fd = ufd;
	for (;;) {
		pfd[0].events = pfd[1].events = POLLIN;
		if ((n = poll(pfd, 2, 60000)) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((r = read(pfd[i].fd, buf, sizeof(buf))) <= 0)
				goto closed;
			if (write(pfd[1 - i].fd, buf, (size_t)r) != r)
				goto closed;
		}
	}
closed:
	close(ufd);
done:
	close(pc->cfd);
	atomic_fetch_sub(&p->conns, 1);
	free(pc);
	return NULL;
}

static void *
proxy_accept(void *arg)
{
	struct proxy	*p = arg;
	struct pollfd	 pfd = { p->lfd, POLLIN, 0 };
	struct pconn	*pc;
	pthread_t	 t;
	int		 fd;

	while (!atomic_load(&p->stop)) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		if ((pc = malloc(sizeof(*pc))) == NULL) {
			close(fd);
			continue;
		}
		pc->p = p;
		pc->cfd = fd;
		atomic_fetch_add(&p->conns, 1);
		atomic_fetch_add(&p->served, 1);
		if (pthread_create(&t, NULL, proxy_conn, pc) != 0) {
			atomic_fetch_sub(&p->conns, 1);
			close(fd);
			free(pc);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static void
proxy_start(struct proxy *p, int upstream, int delay_ms)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			one = 1;

	memset(p, 0, sizeof(*p));
	p->upstream = upstream;
	p->delay_ms = delay_ms;
	assert_true((p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) != -1);
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->lfd, 16), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &len), 0);
	p->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&p->tid, NULL, proxy_accept, p), 0);
}

/* Stop accepting; wait (bounded) for the connections to end. */
static void
proxy_stop(struct proxy *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->tid, NULL);
	close(p->lfd);
	(void)AC_WAIT(atomic_load(&p->conns) == 0, 10000);
}

/* ---- helpers ------------------------------------------------------------ */

/* source.<key> of GET /status; malloc'd, NULL when null or absent. */
static char *
source_field(struct ff *f, const char *key)
{
	cJSON		*st = ac_get(f->a.url, "/status");
	const char	*v;
	char		*s = NULL;

	v = ac_str(cJSON_GetObjectItemCaseSensitive(st, "source"), key);
	if (v != NULL)
		s = strdup(v);
	cJSON_Delete(st);
	return s;
}

static bool
has_source_error(struct ff *f)
{
	char	*e = source_field(f, "lastError");
	bool	 yes = e != NULL && e[0] != '\0';

	free(e);
	return yes;
}

static void
set_repo_url(struct ff *f, const char *url)
{
	free(f->repo_url);
	if ((f->repo_url = strdup(url)) == NULL)
		abort();
}

/* ---- the scenarios ----------------------------------------------------------- */

static void
test_remote_unreachable(void **state)
{
	struct ff		f;
	struct gs_server	gd;
	char			url[128];
	int			port;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_put_rooms(&f, 3, 0, NBASE);
	/* the remote is down at start: the port is free, nothing listens */
	port = gs_free_port();
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/origin.git", port);
	set_repo_url(&f, url);
	ff_agent_start(&f, NULL);
	if (!AC_WAIT(has_source_error(&f), 15000)) {
		ac_agent_dump(&f.a);
		fail_msg("no source.lastError while the remote is down");
	}
	snprintf(url, sizeof(url), "%s/health", f.a.url);
	assert_int_equal(ac_http("GET", url, NULL, 0, NULL, NULL), 200);
	assert_false(ac_ready(&f.a));
	assert_int_equal(ff_count(&f, NULL, NULL), 0);

	assert_int_equal(gs_daemon_start_port(&gd, &f.r, port), 0);
	ff_wait_converged(&f, 3, 0, NBASE, 30000);
	assert_true(AC_WAIT(ac_ready(&f.a) && !has_source_error(&f), 15000));

	/* down again while a generation is pushed */
	gs_server_stop(&gd);
	ff_put_rooms(&f, 3, 1, NBASE);
	if (!AC_WAIT(has_source_error(&f), 15000)) {
		ac_agent_dump(&f.a);
		fail_msg("no source.lastError after the remote went away");
	}
	assert_true(ff_rooms_are(&f, 3, 0, NBASE));
	assert_int_equal(gs_daemon_start_port(&gd, &f.r, port), 0);
	ff_wait_converged(&f, 3, 1, NBASE, 30000);
	assert_true(AC_WAIT(!has_source_error(&f), 15000));
	assert_int_equal(ff_assert_ledger_n(&f, 3), 3 * (NBASE + 1) * 2);
	gs_server_stop(&gd);
	ff_free(&f);
}

static void
test_remote_slow(void **state)
{
	struct ff		f;
	struct gs_server	gd;
	struct proxy		p;
	char			url[128];
	long long		t0, t1;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	assert_int_equal(gs_daemon_start(&gd, &f.r), 0);
	proxy_start(&p, gd.port, 1500);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/origin.git", p.port);
	set_repo_url(&f, url);
	ff_put_rooms(&f, 3, 0, NBASE);
	ff_agent_start(&f, NULL);
	ff_wait_converged(&f, 3, 0, NBASE, 30000);

	t0 = ac_now_ms();
	ff_put_rooms(&f, 3, 1, NBASE);
	/* while the Git thread waits on the proxy, the API answers */
	snprintf(url, sizeof(url), "%s/health", f.a.url);
	while (!ff_rooms_are(&f, 3, 1, NBASE) && ac_now_ms() - t0 < 30000) {
		t1 = ac_now_ms();
		assert_int_equal(ac_http("GET", url, NULL, 0, NULL, NULL), 200);
		assert_true(ac_now_ms() - t1 < 1000);
		ac_sleep_ms(100);
	}
	ff_wait_converged(&f, 3, 1, NBASE, 30000);
	/* the head check and the fetch each waited 1.5 s */
	assert_true(ac_now_ms() - t0 >= 1500);
	assert_true(atomic_load(&p.served) >= 2);
	assert_false(has_source_error(&f));
	assert_int_equal(ff_assert_ledger_n(&f, 3), 3 * (NBASE + 1) * 2);
	assert_int_equal(ac_agent_stop(&f.a), 0);
	proxy_stop(&p);
	gs_server_stop(&gd);
	ff_free(&f);
}

static void
test_history_rewritten(void **state)
{
	struct ff	f;
	char		base[41];

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_put_rooms(&f, 3, 0, NBASE);
	snprintf(base, sizeof(base), "%s", gs_rev(&f.r, "HEAD"));
	ff_agent_start(&f, NULL);
	ff_wait_converged(&f, 3, 0, NBASE, 30000);
	ff_put_rooms(&f, 3, 1, NBASE);
	ff_wait_converged(&f, 3, 1, NBASE, 30000);
	/* rewrite: back to generation 0, then a different generation 2 */
	gs_reset(&f.r, base);
	gs_sh("cd '%s' && git rm -q 'specs/room-fault-02.yaml' && "
	    "git commit -q -m 'drop a room'", f.r.work);
	ff_commit_rooms(&f, 2, 2, NBASE);
	gs_push(&f.r, true);
	ff_wait_converged(&f, 2, 2, NBASE, 30000);
	assert_int_equal(ff_count(&f, NULL, "history-rewritten"), 1);
	/* without prune the dropped room is left as it was */
	assert_true(ff_room_is(&f, "room-fault-02", 1, NBASE));
	ff_assert_ledger_n(&f, 3);
	ff_free(&f);
}

#define BURST	1000
#define BROOMS	5

static void
test_burst_1000(void **state)
{
	struct ff	 f;
	struct ro_buf	 b = RO_BUF_INIT;
	char		 room[32], *s, *path, *all;
	cJSON		*recs, *notes;
	const cJSON	*o;
	long long	 t0;
	int		 i, n;

	(void)state;
	ff_init(&f, true);
	ff_sim_start(&f, NULL);
	ff_put_rooms(&f, BROOMS, 0, NBASE);
	ff_agent_start(&f, NULL);
	ff_wait_converged(&f, BROOMS, 0, NBASE, 30000);

	/* commit i (1..1000) sets room i % 5 to generation i */
	ro_buf_init(&b, 64u << 20);
	for (i = 1; i <= BURST; i++) {
		ff_room(room, sizeof(room), i % BROOMS);
		s = ff_spec(room, i, NBASE);
		assert_int_equal(ro_buf_printf(&b, "commit refs/heads/main\n"
		    "committer T <t@example.invalid> %d +0000\n"
		    "data <<EOM\nburst %d\nEOM\n%s"
		    "M 100644 inline specs/%s.yaml\ndata %zu\n%s\n",
		    1700000000 + i, i, i == 1 ? "from refs/heads/main^0\n" : "",
		    room, strlen(s), s), 0);
		free(s);
	}
	path = tu_path(f.root, "burst.fi");
	tu_write(f.root, "burst.fi", ro_buf_cstr(&b));
	ro_buf_release(&b);
	assert_int_equal(gs_sh("cd '%s' && git fast-import --quiet < '%s' && "
	    "git reset -q --hard main", f.r.work, path), 0);
	free(path);
	t0 = ac_now_ms();
	gs_push(&f.r, false);

	for (i = 0; i < BROOMS; i++) {
		ff_room(room, sizeof(room), i);
		n = BURST - ((BURST - i) % BROOMS);	/* last commit of room i */
		if (!AC_WAIT(ff_room_is(&f, room, n, NBASE), 120000)) {
			ac_agent_dump(&f.a);
			fail_msg("%s not at generation %d", room, n);
		}
	}
	assert_true(AC_WAIT(ff_cursor_at_head(&f) && ff_agent_idle(&f),
	    30000));
	fprintf(stderr, "burst of %d commits converged in %lld ms\n", BURST,
	    ac_now_ms() - t0);

	/* one superseded record per intermediate commit, for its room */
	recs = ac_audit_all(f.audit);
	assert_int_equal(ff_count(&f, NULL, "superseded"), BURST - 1);
	all = gs_sh_out("git -C '%s' rev-list --first-parent -n %d main",
	    f.r.work, BURST);
	notes = ff_notes(&f);
	for (i = 0, s = all; i < BURST; i++, s += 41) {
		char	rev[41];
		int	k = 0, kn = 0;

		snprintf(rev, sizeof(rev), "%.40s", s);
		cJSON_ArrayForEach(o, recs)
			k += strcmp(ac_str(o, "rev"), rev) == 0;
		cJSON_ArrayForEach(o, notes)
			kn += strcmp(ac_str(o, "rev"), rev) == 0;
		/* the newest: one applied per room; the others: one each */
		if (k != (i == 0 ? BROOMS : 1) || kn != k) {
			ac_agent_dump(&f.a);
			fail_msg("commit %s (%d from the head): %d records, "
			    "%d in its note", rev, i, k, kn);
		}
	}
	free(all);
	cJSON_Delete(notes);
	cJSON_Delete(recs);
	ff_assert_ledger_n(&f, BROOMS);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_unreachable),
		cmocka_unit_test(test_remote_slow),
		cmocka_unit_test(test_history_rewritten),
		cmocka_unit_test(test_burst_1000),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
