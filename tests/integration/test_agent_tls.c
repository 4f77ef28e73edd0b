/*
 * test_agent_tls.c: the agent's HTTP API over TLS (--tls-cert,
 * --tls-key) and the read token (--api-read-token-file), checked with
 * the real curl and openssl tools: HTTPS served and verified with
 * `curl --cacert`, plain HTTP refused on the TLS port, a new certificate
 * served after SIGHUP, a bad certificate a clear start-up error, the
 * read endpoints closed without the token while the probes stay open.
 *
 * Skipped (exit 77) when this libmicrohttpd has no TLS support.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent_git_fx.h"
#include "apitls.h"

#define SKIP_RC		77
#define READ_TOKEN	"read-token-for-tls-tests"
#define API_TOKEN	"api-token-for-tls-tests"

struct tls {
	struct fx	 f;
	char		*dir;
	char		*cert, *key;	/* served (paths the agent reads) */
	char		*ca1, *ca2;	/* first and second certificate */
	char		*read_file, *api_file;
};

/* A self-signed certificate for 127.0.0.1 (cert and key into dir). */
static void
make_cert(const char *dir, const char *name)
{
	if (gs_sh("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=%s' "
	    "-addext 'subjectAltName=IP:127.0.0.1' -keyout '%s.key' "
	    "-out '%s.pem' >/dev/null 2>&1", dir, name, name, name) != 0)
		fail_msg("openssl req failed");
}

static int
setup(void **state)
{
	struct tls	*t = calloc(1, sizeof(*t));

	assert_non_null(t);
	if (!ro_apitls_supported()) {
		fprintf(stderr, "SKIP: libmicrohttpd without TLS\n");
		exit(SKIP_RC);
	}
	fx_init(&t->f);
	t->dir = t->f.r.root;
	make_cert(t->dir, "one");
	make_cert(t->dir, "two");
	t->cert = tu_path(t->dir, "api.pem");
	t->key = tu_path(t->dir, "api.key");
	t->ca1 = tu_path(t->dir, "one.pem");
	t->ca2 = tu_path(t->dir, "two.pem");
	gs_sh("cp '%s/one.pem' '%s' && cp '%s/one.key' '%s'", t->dir, t->cert,
	    t->dir, t->key);
	tu_write(t->dir, "read.token", READ_TOKEN "\n");
	tu_write(t->dir, "api.token", API_TOKEN "\n");
	t->read_file = tu_path(t->dir, "read.token");
	t->api_file = tu_path(t->dir, "api.token");
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tls	*t = *state;

	free(t->cert);
	free(t->key);
	free(t->ca1);
	free(t->ca2);
	free(t->read_file);
	free(t->api_file);
	fx_free(&t->f);
	free(t);
	return 0;
}

/* The agent, API only, over TLS; waits for its port. */
static void
start(struct tls *t, struct agent *a)
{
	static const char	 tag[] = "API on https://127.0.0.1:";
	const char		*argv[] = { "roomops", "agent", "--server",
	    t->f.sim.url, "--state-dir", t->f.state, "--listen",
	    "127.0.0.1:0", "--tls-cert", t->cert, "--tls-key", t->key,
	    "--api-read-token-file", t->read_file, "--api-token-file",
	    t->api_file, NULL };
	long long		 end = fx_now_ms() + FX_WAIT_MS;
	char			*log, *p;

	fx_spawn(&t->f, a, argv);
	while (a->port == 0) {
		log = fx_slurp(a->log);
		if ((p = strstr(log, tag)) != NULL)
			a->port = (unsigned)strtoul(p + strlen(tag), NULL, 10);
		free(log);
		if (a->port == 0 && fx_now_ms() > end) {
			fx_dump("agent log", a->log);
			fail_msg("the agent's HTTPS API did not come up");
		}
		if (a->port == 0)
			fx_nap(20);
	}
}

/* HTTP status of curl with args (000: no HTTP answer). */
static int
curl_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
curl_status(const char *fmt, ...)
{
	va_list	 ap;
	char	 args[1024], *out;
	int	 code;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	out = gs_sh_out("curl -s -m 10 -o /dev/null -w '%%{http_code}' %s; "
	    "true", args);
	code = atoi(out);
	free(out);
	return code;
}

static void
test_https_and_read_token(void **state)
{
	struct tls	*t = *state;
	struct agent	 a;
	char		 base[64];

	start(t, &a);
	snprintf(base, sizeof(base), "https://127.0.0.1:%u", a.port);
	/* served and verified against the certificate */
	assert_int_equal(curl_status("--cacert '%s' %s/health", t->ca1, base),
	    200);
	/* not verified against another certificate */
	assert_int_equal(curl_status("--cacert '%s' %s/health", t->ca2, base),
	    0);
	/* plain HTTP on the TLS port gets no HTTP answer */
	assert_int_equal(curl_status("http://127.0.0.1:%u/health", a.port), 0);
	/* probes stay open; reads need the read (or the API) token */
	assert_int_equal(curl_status("--cacert '%s' %s/metrics", t->ca1, base),
	    200);
	assert_int_not_equal(curl_status("--cacert '%s' %s/ready", t->ca1,
	    base), 401);
	assert_int_equal(curl_status("--cacert '%s' %s/status", t->ca1, base),
	    401);
	assert_int_equal(curl_status("--cacert '%s' -H 'Authorization: Bearer "
	    "nope' %s/audit", t->ca1, base), 401);
	assert_int_equal(curl_status("--cacert '%s' %s/status/rooms/"
	    "room-nothing-01", t->ca1, base), 401);
	assert_int_equal(curl_status("--cacert '%s' -N -m 2 %s/events", t->ca1,
	    base), 401);
	assert_int_equal(curl_status("--cacert '%s' -H 'Authorization: Bearer "
	    READ_TOKEN "' %s/status", t->ca1, base), 200);
	assert_int_equal(curl_status("--cacert '%s' -H 'Authorization: Bearer "
	    API_TOKEN "' %s/audit", t->ca1, base), 200);
	/* the read token does not allow mutations */
	assert_int_equal(curl_status("--cacert '%s' -X POST -H "
	    "'Authorization: Bearer " READ_TOKEN "' %s/reconcile", t->ca1,
	    base), 401);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	fx_agent_release(&a);
}

/* SIGHUP: the new certificate is served on the same port; a bad one is
 * refused and the old one stays. */
static void
test_sighup_new_cert(void **state)
{
	struct tls	*t = *state;
	struct agent	 a;
	char		 base[64];
	long long	 end;
	int		 code = 0;

	start(t, &a);
	snprintf(base, sizeof(base), "https://127.0.0.1:%u", a.port);
	assert_int_equal(curl_status("--cacert '%s' %s/health", t->ca1, base),
	    200);
	/* a broken pair first: refused, the first certificate still served */
	gs_sh("cp '%s/two.pem' '%s' && cp '%s/one.key' '%s'", t->dir, t->cert,
	    t->dir, t->key);
	kill(a.pid, SIGHUP);
	for (end = fx_now_ms() + FX_WAIT_MS; !fx_file_has(a.log,
	    "TLS certificate not reloaded") && fx_now_ms() < end;)
		fx_nap(20);
	assert_true(fx_file_has(a.log, "does not belong to the certificate"));
	assert_int_equal(curl_status("--cacert '%s' %s/health", t->ca1, base),
	    200);
	/* the matching pair */
	gs_sh("cp '%s/two.key' '%s'", t->dir, t->key);
	kill(a.pid, SIGHUP);
	for (end = fx_now_ms() + FX_WAIT_MS; fx_now_ms() < end; fx_nap(50))
		if ((code = curl_status("--cacert '%s' %s/health", t->ca2,
		    base)) == 200)
			break;
	if (code != 200) {
		fx_dump("agent log", a.log);
		fail_msg("the new certificate is not served after SIGHUP");
	}
	assert_int_equal(curl_status("--cacert '%s' %s/health", t->ca1, base),
	    0);
	kill(a.pid, SIGTERM);
	assert_int_equal(fx_wait(&a, FX_WAIT_MS), 0);
	fx_agent_release(&a);
}

/* A certificate that is not one, a key that does not match, a cert
 * without a key: clear start-up errors. */
static void
test_bad_cert_startup(void **state)
{
	struct tls	*t = *state;
	struct agent	 a;
	const char	*argv[] = { "roomops", "agent", "--server",
	    t->f.sim.url, "--state-dir", t->f.state, "--listen",
	    "127.0.0.1:0", "--tls-cert", t->cert, "--tls-key", t->key, NULL };
	const char	*half[] = { "roomops", "agent", "--server",
	    t->f.sim.url, "--state-dir", t->f.state, "--listen",
	    "127.0.0.1:0", "--tls-cert", t->cert, NULL };

	tu_write(t->dir, "api.pem", "not a certificate\n");
	fx_spawn(&t->f, &a, argv);
	assert_int_not_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_true(fx_file_has(a.log, "api.pem: not a PEM certificate"));
	fx_agent_release(&a);

	gs_sh("cp '%s/two.pem' '%s' && cp '%s/one.key' '%s'", t->dir, t->cert,
	    t->dir, t->key);
	fx_spawn(&t->f, &a, argv);
	assert_int_not_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_true(fx_file_has(a.log, "does not belong to the certificate"));
	fx_agent_release(&a);

	fx_spawn(&t->f, &a, half);
	assert_int_not_equal(fx_wait(&a, FX_WAIT_MS), 0);
	assert_true(fx_file_has(a.log, "tls-cert and tls-key go together"));
	fx_agent_release(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_https_and_read_token,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sighup_new_cert, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_cert_startup, setup,
		    teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
