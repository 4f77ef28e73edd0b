/*
 * test_disk_full.c: the audit log's file system fills up (fault suite).
 *
 * The log lives on a 512 KiB tmpfs mounted for the test (the suite runs
 * as root in CI); where mounting is not allowed, the agent's file size
 * limit is lowered instead (prlimit --fsize on its pid, the soft limit
 * only, which it may raise again: the next append gets EFBIG, as the
 * agent blocks SIGXFSZ). FF_NO_TMPFS=1 forces the
 * latter.
 *
 * With --concurrency 1, generations of four rooms are committed until an
 * append fails (a file keeps the slack of its last page, so the first
 * records after the fill may still fit): the room in flight is applied,
 * its record cannot be written, and then:
 * - the agent holds the record and retries it every second; exactly
 *   that room's changes lack a record, and no other room gets a single
 *   mutating request (3 s are watched): they stay queued;
 * - it says so: a log line, /status audit.blocked and health Unhealthy,
 *   roomops_audit_write_errors_total > 0;
 * - once space returns, the held record is written, the other rooms are
 *   applied, and the ledger is exact (each room's changes recorded
 *   exactly once, JSONL and notes the same).
 */
#include <sys/mount.h>

#include "faults.h"

#define NROOMS	4
#define NBASE	3

static char	*mounted;	/* to unmount on failure too */

static int
teardown(void **state)
{
	(void)state;
	if (mounted != NULL) {
		(void)umount2(mounted, MNT_DETACH);
		free(mounted);
		mounted = NULL;
	}
	return 0;
}

static bool
audit_blocked(struct ff *f)
{
	cJSON	*st = ac_get(f->a.url, "/status");
	bool	 b;

	b = ac_bool(cJSON_GetObjectItemCaseSensitive(st, "audit"), "blocked");
	cJSON_Delete(st);
	return b;
}

static double
status_num(struct ff *f, const char *key)
{
	cJSON	*st = ac_get(f->a.url, "/status");
	double	 v = ac_num(st, key, -1);

	cJSON_Delete(st);
	return v;
}

static bool
health_is(struct ff *f, const char *want)
{
	cJSON		*st = ac_get(f->a.url, "/status");
	const char	*h = ac_str(st, "health");
	bool		 ok = h != NULL && strcmp(h, want) == 0;

	cJSON_Delete(st);
	return ok;
}

/* Fill the tmpfs with a file until ENOSPC. */
static void
fill(const char *path)
{
	static char	zeros[4096];
	int		fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) != -1);
	while (write(fd, zeros, sizeof(zeros)) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(close(fd), 0);
}

/* Changes of one room from generation gen - 1 to gen (faults.h's
 * ff_spec: updates of the base entities, a join, from 2 on a kick). */
static int
changes(int gen)
{
	return gen < 2 ? NBASE + 1 : NBASE + 2;
}

/* The changes the JSONL records claim so far. */
static long
recorded_changes(struct ff *f)
{
	cJSON		*all = ac_audit_all(f->audit);
	const cJSON	*o;
	long		 n = 0;

	cJSON_ArrayForEach(o, all)
		n += ff_diff_sum(o);
	cJSON_Delete(all);
	return n;
}

static long
file_size(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void
test_disk_full(void **state)
{
	struct ff	 f;
	char		*mnt, *filler = NULL, *log;
	bool		 tmpfs;
	long		 base, m1;
	const cJSON	*o;
	cJSON		*all;
	int		 n, i, gen, queued;

	(void)state;
	ff_init(&f, true);
	mnt = tu_path(f.root, "auditfs");
	assert_int_equal(mkdir(mnt, 0755), 0);
	tmpfs = getenv("FF_NO_TMPFS") == NULL &&
	    mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=512k,mode=0755") == 0;
	if (tmpfs) {
		mounted = strdup(mnt);
		free(f.audit);
		f.audit = tu_path(mnt, "audit.jsonl");
		filler = tu_path(mnt, "filler");
	}
	fprintf(stderr, "disk full by %s\n", tmpfs ? "a full tmpfs" :
	    "RLIMIT_FSIZE (prlimit)");
	ff_sim_start(&f, NULL);
	ff_agent_start(&f, "--audit-log", f.audit, "--concurrency", "1",
	    NULL);
	ff_put_rooms(&f, NROOMS, 0, NBASE);
	ff_wait_converged(&f, NROOMS, 0, NBASE, 30000);
	base = ff_sim_mut2xx(&f);
	assert_int_equal(base, NROOMS * (NBASE + 1));

	/* the disk is full */
	if (tmpfs)
		fill(filler);
	else
		assert_int_equal(gs_sh("prlimit --pid %d --fsize=%ld:",
		    (int)f.a.pid, file_size(f.audit) + 1), 0);
	/* a file keeps the slack of its last page: records may still fit
	 * there, so generations go on until one blocks */
	for (gen = 1; gen <= 10; gen++) {
		ff_put_rooms(&f, NROOMS, gen, NBASE);
		if (AC_WAIT(audit_blocked(&f) || (ff_rooms_are(&f, NROOMS, gen,
		    NBASE) && ff_cursor_at_head(&f) && ff_agent_idle(&f)),
		    20000) && audit_blocked(&f))
			break;
	}
	if (gen > 10) {
		ac_agent_dump(&f.a);
		fail_msg("/status never said the audit log is blocked");
	}
	/* exactly the room in flight was applied without its record */
	m1 = ff_sim_mut2xx(&f);
	assert_int_equal(m1 - recorded_changes(&f), changes(gen));
	assert_true(health_is(&f, "Unhealthy"));
	assert_true(ac_metric(&f.a, "roomops_audit_write_errors_total") >= 1);
	log = f.a.log;
	assert_true(ac_file_count(log, "holding the record") >= 1);
	queued = (int)status_num(&f, "queuedRequests");
	ac_sleep_ms(3000);
	/* and nothing after it: no request, the other rooms wait */
	assert_int_equal(ff_sim_mut2xx(&f), m1);
	assert_true(audit_blocked(&f));
	assert_int_equal((int)status_num(&f, "queuedRequests"), queued);
	/* the held record is retried: more failed appends counted */
	assert_true(ac_metric(&f.a, "roomops_audit_write_errors_total") >= 2);

	/* space returns */
	if (tmpfs)
		assert_int_equal(unlink(filler), 0);
	else
		assert_int_equal(gs_sh("prlimit --pid %d "
		    "--fsize=unlimited:", (int)f.a.pid), 0);
	ff_wait_converged(&f, NROOMS, gen, NBASE, 30000);
	assert_false(audit_blocked(&f));
	assert_true(AC_WAIT(health_is(&f, "Healthy"), 15000));
	assert_true(ac_file_count(log, "writable again") >= 1);
	/* one record per room for the commit, none lost */
	all = ac_audit_all(f.audit);
	n = 0;
	cJSON_ArrayForEach(o, all)
		n += strcmp(ac_str(o, "rev"), gs_origin_rev(&f.r, "main")) == 0;
	cJSON_Delete(all);
	assert_int_equal(n, NROOMS);
	for (n = 0, i = 0; i <= gen; i++)
		n += NROOMS * changes(i);
	assert_int_equal(ff_assert_ledger_n(&f, NROOMS), n);
	assert_int_equal(ac_agent_stop(&f.a), 0);
	teardown(NULL);
	free(filler);
	free(mnt);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_disk_full, teardown),
	};

	FF_FILTER();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
