/* test_audit.c: audit record format, the JSONL log, group commit, and
 * a full file system (RLIMIT_FSIZE) leaving no torn line. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/audit.h"
#include "roomops/file.h"
#include "testutil.h"

static void
fill(struct ro_audit_rec *r, const char *room)
{
	memset(r, 0, sizeof(*r));
	ro_audit_rec_init(r);
	r->room = room;
	r->rev = "0123456789abcdef0123456789abcdef01234567";
	r->source = "git";
	r->outcome = "applied";
	r->diff.join = 3;
	r->diff.seed = 1;
	r->agent = "test";
	r->shard = "0/1";
}

static void
test_format_is_one_json_line(void **state)
{
	struct ro_audit_rec	 r;
	struct ro_buf		 b = RO_BUF_INIT;
	cJSON			*o, *d;

	(void)state;
	fill(&r, "room-format-1");
	assert_int_equal(ro_strv_push(&r.errors, "join E-x: HTTP 400 \"q\"\n"),
	    0);
	assert_int_equal(ro_audit_format(&r, &b), 0);
	assert_true(b.len > 2 && b.ptr[b.len - 1] == '\n');
	assert_null(memchr(b.ptr, '\n', b.len - 1));
	o = cJSON_Parse(b.ptr);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "room")->valuestring,
	    "room-format-1");
	assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring,
	    "applied");
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "id")->valuestring),
	    RO_UUID_LEN);
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "ts")->valuestring),
	    RO_TS_LEN);
	d = cJSON_GetObjectItem(o, "diff");
	assert_int_equal(cJSON_GetObjectItem(d, "join")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(d, "delete")->valueint, 0);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
	    "errors"), 0)->valuestring, "join E-x: HTTP 400 \"q\"\n");
	cJSON_Delete(o);
	ro_buf_release(&b);
	ro_audit_rec_release(&r);
}

struct writer {
	struct ro_auditlog	*log;
	int			 id;
};

#define WRITERS		8
#define PER_WRITER	50

static void *
write_many(void *arg)
{
	struct writer		*w = arg;
	struct ro_audit_rec	 r;
	struct ro_buf		 b = RO_BUF_INIT;
	char			 room[64];
	int			 i;

	for (i = 0; i < PER_WRITER; i++) {
		snprintf(room, sizeof(room), "room-writer-%d", w->id);
		fill(&r, room);
		ro_buf_reset(&b);
		if (ro_audit_format(&r, &b) < 0 ||
		    ro_auditlog_append(w->log, b.ptr, b.len, NULL) < 0)
			abort();
	}
	ro_buf_release(&b);
	return NULL;
}

static void
test_concurrent_appends_all_land(void **state)
{
	char			*dir = tu_tmpdir(), *path = tu_path(dir, "a.jsonl");
	struct ro_auditlog	 log;
	struct writer		 w[WRITERS];
	pthread_t		 t[WRITERS];
	cJSON			*arr = cJSON_CreateArray();
	size_t			 bad;
	int			 i;

	(void)state;
	assert_int_equal(ro_auditlog_open(&log, path, NULL), 0);
	for (i = 0; i < WRITERS; i++) {
		w[i].log = &log;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]),
		    0);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(log.written, WRITERS * PER_WRITER);
	assert_int_equal(log.durable, WRITERS * PER_WRITER);
	ro_auditlog_close(&log);
	assert_int_equal(ro_auditlog_read(path, &(struct ro_audit_query)
	    RO_AUDIT_QUERY_INIT, arr, &bad, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(cJSON_GetArraySize(arr), WRITERS * PER_WRITER);
	cJSON_Delete(arr);
	arr = cJSON_CreateArray();
	assert_int_equal(ro_auditlog_read(path, &(struct ro_audit_query){
	    .room = "room-writer-3" }, arr, &bad, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(arr), PER_WRITER);
	cJSON_Delete(arr);
	tu_rmrf(dir);
	free(path);
	free(dir);
}

/* Disk full: the append fails with RO_EIO and leaves no partial line;
 * after space returns, appends work again. Run in a child so the limit
 * does not leak into other tests. */
static void
test_full_disk_leaves_no_torn_line(void **state)
{
	char			*dir = tu_tmpdir(), *path = tu_path(dir, "a.jsonl");
	struct ro_buf		 b = RO_BUF_INIT;
	struct ro_audit_rec	 r;
	pid_t			 pid;
	int			 status;

	(void)state;
	fill(&r, "room-full-disk");
	assert_int_equal(ro_audit_format(&r, &b), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ro_auditlog	log;
		struct ro_err		err = RO_ERR_INIT;
		struct rlimit		rl;
		struct stat		st;
		int			i;

		signal(SIGXFSZ, SIG_IGN);
		if (ro_auditlog_open(&log, path, NULL) < 0)
			_exit(10);
		for (i = 0; i < 3; i++)
			if (ro_auditlog_append(&log, b.ptr, b.len, NULL) < 0)
				_exit(11);
		/* room for half a line more */
		rl.rlim_cur = rl.rlim_max = 3 * b.len + b.len / 2;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(12);
		if (ro_auditlog_append(&log, b.ptr, b.len, &err) != RO_EIO)
			_exit(13);
		if (stat(path, &st) < 0 || (size_t)st.st_size != 3 * b.len)
			_exit(14);
		if (log.write_errors != 1)
			_exit(15);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		struct ro_auditlog	log;
		cJSON			*arr = cJSON_CreateArray();
		size_t			 bad;

		assert_int_equal(ro_auditlog_open(&log, path, NULL), 0);
		assert_int_equal(ro_auditlog_append(&log, b.ptr, b.len, NULL),
		    0);
		ro_auditlog_close(&log);
		assert_int_equal(ro_auditlog_read(path, &(struct ro_audit_query)
		    RO_AUDIT_QUERY_INIT, arr, &bad, NULL), 0);
		assert_int_equal(bad, 0);
		assert_int_equal(cJSON_GetArraySize(arr), 4);
		cJSON_Delete(arr);
	}
	ro_buf_release(&b);
	ro_audit_rec_release(&r);
	tu_rmrf(dir);
	free(path);
	free(dir);
}

static void
test_missing_log_reads_empty(void **state)
{
	cJSON	*arr = cJSON_CreateArray();
	size_t	 bad = 7;

	(void)state;
	assert_int_equal(ro_auditlog_read("/nonexistent/roomops/a.jsonl",
	    &(struct ro_audit_query)RO_AUDIT_QUERY_INIT, arr, &bad, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_is_one_json_line),
		cmocka_unit_test(test_concurrent_appends_all_land),
		cmocka_unit_test(test_full_disk_leaves_no_torn_line),
		cmocka_unit_test(test_missing_log_reads_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
