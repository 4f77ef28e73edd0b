/*
 * test_sim_datadir.c: roomserver-sim's data dir (docs/roomserver-sim.md):
 * 10,000 rooms loaded lazily, a damaged room that stays damaged and
 * alone, clean-up of what a crash leaves, one sim per data dir, and
 * acknowledged writes that survive kill -9 in the middle of traffic.
 * Always runs the sim itself ($RO_SIM); bounded in time and count.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "simctl.h"
#include "testutil.h"

#define ROOMS		10000
#define KILL_WRITERS	4
#define KILL_JOINS	400	/* at most, per writer */

static const char state_fmt[] =
    "{\"roomId\":\"%s\",\"revision\":%d,\"lastUpdated\":"
    "\"2026-01-01T00:00:00.000Z\",\"entities\":[{\"id\":\"E-seeded\","
    "\"kind\":\"agent\",\"displayName\":null,\"visibility\":\"team\","
    "\"ownerUserId\":null,\"capabilities\":[],\"policy\":{"
    "\"allow_commands_from\":\"any\",\"sandbox_mode\":false,"
    "\"env_whitelist\":[],\"scopes\":[]}}],\"artifacts\":[],\"policies\":{"
    "\"dmVisibilityDefault\":\"team\",\"allowResourceCreation\":false,"
    "\"maxArtifactsPerEntity\":100}}";

struct http {
	long		status;
	CURLcode	cc;
	struct ro_buf	body;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	return ro_buf_add(arg, p, sz * n) < 0 ? 0 : sz * n;
}

static void
req(struct http *h, const char *base, const char *method, const char *path,
    const char *body)
{
	CURL	*c = curl_easy_init();
	char	 url[512];
	struct curl_slist *hdrs = NULL;

	memset(h, 0, sizeof(*h));
	ro_buf_init(&h->body, 16u << 20);
	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &h->body);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	h->cc = curl_easy_perform(c);
	if (h->cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

static void
http_release(struct http *h)
{
	ro_buf_release(&h->body);
}

static void
write_file(const char *path, const char *s)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
	assert_int_equal(fclose(f), 0);
}

/* dir/rooms/<id>/state.json in the sim's own format, revision rev. */
static void
make_room(const char *dir, const char *id, int rev)
{
	char	path[4096], body[2048];

	snprintf(path, sizeof(path), "%s/rooms", dir);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rooms/%s", dir, id);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/rooms/%s/blobs", dir, id);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/rooms/%s/state.json", dir, id);
	snprintf(body, sizeof(body), state_fmt, id, rev);
	write_file(path, body);
}

static long
json_num(const struct http *h, const char *key)
{
	cJSON	*o = cJSON_ParseWithLength(ro_buf_cstr(&h->body), h->body.len);
	long	 v;

	assert_non_null(o);
	v = (long)cJSON_GetObjectItemCaseSensitive(o, key)->valuedouble;
	cJSON_Delete(o);
	return v;
}

static void
test_many_rooms(void **state)
{
	struct simctl	 sim = SIMCTL_INIT;
	struct http	 h;
	char		 id[64], path[256], expect[2048];
	struct timespec	 t0, t1;
	int		 i;

	sim.data_dir = tu_tmpdir();
	sim.own_dir = true;
	for (i = 0; i < ROOMS; i++) {
		snprintf(id, sizeof(id), "room-many-%05d", i);
		make_room(sim.data_dir, id, 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(simctl_start(&sim, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "started on %d rooms in %ld ms\n", ROOMS,
	    (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000);
	req(&h, sim.url, "GET", "/metrics", NULL);
	assert_int_equal(h.status, 200);
	assert_true(tu_contains(ro_buf_cstr(&h.body), "roomserver_rooms 10000\n"));
	http_release(&h);

	/* served byte for byte as stored, rooms read at first use */
	for (i = 0; i < ROOMS; i += 50) {
		snprintf(id, sizeof(id), "room-many-%05d", i);
		snprintf(path, sizeof(path), "/room/%s/state", id);
		snprintf(expect, sizeof(expect), state_fmt, id, 1);
		req(&h, sim.url, "GET", path, NULL);
		assert_int_equal(h.status, 200);
		assert_string_equal(ro_buf_cstr(&h.body), expect);
		http_release(&h);
	}
	for (i = 0; i < ROOMS; i += 100) {
		snprintf(path, sizeof(path), "/room/room-many-%05d/join", i);
		req(&h, sim.url, "POST", path,
		    "{\"entityId\":\"E-new\",\"kind\":\"npc\"}");
		assert_int_equal(h.status, 201);
		http_release(&h);
	}
	assert_int_equal(simctl_kill9(&sim), 0);
	assert_int_equal(simctl_start(&sim, NULL), 0);
	for (i = 0; i < ROOMS; i += 50) {
		snprintf(path, sizeof(path), "/room/room-many-%05d/state", i);
		req(&h, sim.url, "GET", path, NULL);
		assert_int_equal(h.status, 200);
		assert_int_equal(json_num(&h, "revision"), i % 100 == 0 ? 2 : 1);
		http_release(&h);
	}
	assert_int_equal(simctl_stop(&sim), 0);
	simctl_cleanup(&sim);
}

static void
test_damaged_room(void **state)
{
	struct simctl	 sim = SIMCTL_INIT;
	struct http	 h;
	struct ro_buf	 after = RO_BUF_INIT;
	char		 path[4096];
	static const char junk[] = "{\"roomId\":\"room-broken1\",\"revis";

	sim.data_dir = tu_tmpdir();
	sim.own_dir = true;
	make_room(sim.data_dir, "room-healthy1", 3);
	make_room(sim.data_dir, "room-broken1", 1);
	snprintf(path, sizeof(path), "%s/rooms/room-broken1/state.json",
	    sim.data_dir);
	write_file(path, junk);
	assert_int_equal(simctl_start(&sim, NULL), 0);

	req(&h, sim.url, "GET", "/room/room-broken1/state", NULL);
	assert_int_equal(h.status, 500);
	assert_true(tu_contains(ro_buf_cstr(&h.body), "STORAGE_ERROR"));
	http_release(&h);
	req(&h, sim.url, "POST", "/room/room-broken1/join",
	    "{\"entityId\":\"E-x1\",\"kind\":\"npc\"}");
	assert_int_equal(h.status, 500);
	http_release(&h);
	/* never overwritten: the operator can still recover it */
	assert_int_equal(ro_file_read(path, 4096, &after, NULL), 0);
	assert_string_equal(ro_buf_cstr(&after), junk);
	ro_buf_release(&after);
	/* the other rooms do not care */
	req(&h, sim.url, "GET", "/room/room-healthy1/state", NULL);
	assert_int_equal(h.status, 200);
	assert_int_equal(json_num(&h, "revision"), 3);
	http_release(&h);
	req(&h, sim.url, "GET", "/health", NULL);
	assert_int_equal(h.status, 200);
	http_release(&h);
	assert_int_equal(simctl_stop(&sim), 0);
	simctl_cleanup(&sim);
}

static void
test_crash_leftovers(void **state)
{
	struct simctl	 sim = SIMCTL_INIT;
	struct http	 h;
	struct stat	 sb;
	char		 blob[4096], tmp[4096];

	sim.data_dir = tu_tmpdir();
	sim.own_dir = true;
	make_room(sim.data_dir, "room-leftover", 1);
	snprintf(blob, sizeof(blob), "%s/rooms/room-leftover/blobs/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    sim.data_dir);
	write_file(blob, "orphan");
	snprintf(tmp, sizeof(tmp), "%s/rooms/room-leftover/state.json.tmp",
	    sim.data_dir);
	write_file(tmp, "{half");
	assert_int_equal(simctl_start(&sim, NULL), 0);
	req(&h, sim.url, "GET", "/room/room-leftover/state", NULL);
	assert_int_equal(h.status, 200);
	http_release(&h);
	assert_int_equal(stat(blob, &sb), -1);
	assert_int_equal(stat(tmp, &sb), -1);
	assert_int_equal(simctl_stop(&sim), 0);
	simctl_cleanup(&sim);
}

static void
test_one_sim_per_dir(void **state)
{
	struct simctl	 a = SIMCTL_INIT, b = SIMCTL_INIT;
	char		 path[4096];

	assert_int_equal(simctl_start(&a, NULL), 0);
	b.data_dir = a.data_dir;
	assert_int_equal(simctl_start(&b, NULL), -1);	/* locked */
	assert_int_equal(simctl_stop(&a), 0);
	/* a data dir of another format is refused */
	snprintf(path, sizeof(path), "%s/FORMAT", a.data_dir);
	write_file(path, "something else 7\n");
	assert_int_equal(simctl_start(&b, NULL), -1);
	b.data_dir = NULL;
	simctl_cleanup(&a);
}

struct killer_writer {
	const char	*url;
	int		 n;
	int		 acked;		/* joins answered 201, in order */
};

static void *
killer_writer_main(void *arg)
{
	struct killer_writer *w = arg;
	struct http	 h;
	char		 body[128];
	int		 i;

	for (i = 0; i < KILL_JOINS; i++) {
		snprintf(body, sizeof(body), "{\"entityId\":\"E-k%d-%d\","
		    "\"kind\":\"agent\"}", w->n, i);
		req(&h, w->url, "POST", "/room/room-killed/join", body);
		http_release(&h);
		if (h.cc != CURLE_OK || h.status != 201)
			break;		/* the sim is gone */
		w->acked = i + 1;
	}
	return NULL;
}

static void
test_kill9_during_writes(void **state)
{
	struct simctl	 sim = SIMCTL_INIT;
	struct killer_writer w[KILL_WRITERS];
	pthread_t	 th[KILL_WRITERS];
	struct http	 h;
	cJSON		*o;
	const cJSON	*ents, *it;
	char		 id[64];
	int		 i, j, n_ents;
	long		 rev;

	assert_int_equal(simctl_start(&sim, NULL), 0);
	for (i = 0; i < KILL_WRITERS; i++) {
		w[i].url = sim.url;
		w[i].n = i;
		w[i].acked = 0;
		assert_int_equal(pthread_create(&th[i], NULL,
		    killer_writer_main, &w[i]), 0);
	}
	usleep(300 * 1000);
	assert_int_equal(simctl_kill9(&sim), 0);
	for (i = 0; i < KILL_WRITERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(simctl_start(&sim, NULL), 0);
	req(&h, sim.url, "GET", "/room/room-killed/state", NULL);
	assert_int_equal(h.status, 200);
	o = cJSON_ParseWithLength(ro_buf_cstr(&h.body), h.body.len);
	assert_non_null(o);
	ents = cJSON_GetObjectItemCaseSensitive(o, "entities");
	n_ents = cJSON_GetArraySize(ents);
	rev = (long)cJSON_GetObjectItemCaseSensitive(o,
	    "revision")->valuedouble;
	/* a consistent room: one revision per join that reached the disk */
	assert_int_equal(rev, n_ents);
	fprintf(stderr, "killed after %d entities written\n", n_ents);
	/* every acknowledged join survived */
	for (i = 0; i < KILL_WRITERS; i++)
		for (j = 0; j < w[i].acked; j++) {
			snprintf(id, sizeof(id), "E-k%d-%d", i, j);
			cJSON_ArrayForEach(it, ents)
				if (strcmp(cJSON_GetObjectItemCaseSensitive(it,
				    "id")->valuestring, id) == 0)
					break;
			if (it == NULL)
				fail_msg("acknowledged %s is lost", id);
		}
	cJSON_Delete(o);
	http_release(&h);
	/* and it takes writes again */
	req(&h, sim.url, "POST", "/room/room-killed/join",
	    "{\"entityId\":\"E-after\",\"kind\":\"npc\"}");
	assert_int_equal(h.status, 201);
	http_release(&h);
	assert_int_equal(simctl_stop(&sim), 0);
	simctl_cleanup(&sim);
}

static int
setup(void **state)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_rooms),
		cmocka_unit_test(test_damaged_room),
		cmocka_unit_test(test_crash_leftovers),
		cmocka_unit_test(test_one_sim_per_dir),
		cmocka_unit_test(test_kill9_during_writes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
