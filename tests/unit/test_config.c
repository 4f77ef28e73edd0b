/*
 * test_config.c: the agent's configuration (agent/config.h): defaults,
 * each source alone, precedence flags > env > file > defaults, every
 * kind of bad value with its source named, the test profile, SIGHUP
 * reload and --print-config.
 *
 * Every ROOMOPS_* variable of an option, ROOMOPS_SHARDS and
 * ROOM_AUTH_TOKEN are saved before the tests, cleared before each test
 * and restored at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/guard.h"
#include "roomops/node.h"
#include "roomops/yaml.h"
#include "config.h"
#include "optval.h"
#include "testutil.h"

#define MAX_ARGS	96
#define SERVER		"--server=http://127.0.0.1:1"

struct saved_env {
	char	name[64];
	char	*value;		/* NULL: was unset */
};

static struct saved_env	saved[RO_CONFIG_NOPTS + 2];
static char		*tmp;		/* per-test folder */
static char		*cfgpath;	/* tmp/c.yaml */

static void
clear_env(void)
{
	size_t	i;

	for (i = 0; i < RO_NELEM(saved); i++)
		unsetenv(saved[i].name);
}

static int
group_setup(void **state)
{
	const char	*v;
	size_t		 i;

	(void)state;
	for (i = 0; i < RO_CONFIG_NOPTS; i++)
		ro_config_opt_env((enum ro_config_opt)i, saved[i].name,
		    sizeof(saved[i].name));
	snprintf(saved[i++].name, sizeof(saved[0].name), "%s",
	    RO_SHARD_ENV);
	snprintf(saved[i].name, sizeof(saved[0].name), "%s",
	    RO_CONFIG_TOKEN_ENV);
	for (i = 0; i < RO_NELEM(saved); i++)
		if ((v = getenv(saved[i].name)) != NULL &&
		    (saved[i].value = strdup(v)) == NULL)
			return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	size_t	i;

	(void)state;
	clear_env();
	for (i = 0; i < RO_NELEM(saved); i++) {
		if (saved[i].value != NULL)
			setenv(saved[i].name, saved[i].value, 1);
		free(saved[i].value);
		saved[i].value = NULL;
	}
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	tmp = tu_tmpdir();
	cfgpath = tu_path(tmp, "c.yaml");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	clear_env();
	tu_rmrf(tmp);
	free(tmp);
	free(cfgpath);
	tmp = cfgpath = NULL;
	return 0;
}

static void
write_cfg(const char *text)
{
	tu_write(tmp, "c.yaml", text);
}

/* ro_config_load() on "agent" and the NULL-terminated arguments. */
static int
vload(struct ro_config **cfg, struct ro_err *err, va_list ap)
{
	char		*argv[MAX_ARGS];
	const char	*a;
	int		 argc = 0, error, i;

	if ((argv[argc++] = strdup("agent")) == NULL)
		abort();
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < MAX_ARGS - 1);
		if ((argv[argc++] = strdup(a)) == NULL)
			abort();
	}
	argv[argc] = NULL;
	ro_err_clear(err);
	*cfg = NULL;
	error = ro_config_load(cfg, argc, argv, err);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return error;
}

static int
load(struct ro_config **cfg, struct ro_err *err, ...)
{
	va_list	ap;
	int	error;

	va_start(ap, err);
	error = vload(cfg, err, ap);
	va_end(ap);
	return error;
}

/* Load must fail with a message containing want. */
static void
expect_err(const char *want, ...)
{
	struct ro_config	*cfg = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	va_list			 ap;
	int			 error;

	va_start(ap, want);
	error = vload(&cfg, &err, ap);
	va_end(ap);
	if (error >= 0)
		fprintf(stderr, "expected failure \"%s\"\n", want);
	assert_true(error < 0);
	assert_null(cfg);
	assert_true(tu_contains(err.msg, want));
}

#define LOAD_OK(cfg, ...) do {						\
	struct ro_err e_ = RO_ERR_INIT;					\
	int rc_ = load(&(cfg), &e_, __VA_ARGS__, (const char *)NULL);	\
	if (rc_ != RO_OK)						\
		fprintf(stderr, "load: %s\n", e_.msg);			\
	assert_int_equal(rc_, RO_OK);					\
	assert_non_null(cfg);						\
} while (0)
#define EXPECT_ERR(want, ...) expect_err(want, __VA_ARGS__, (const char *)NULL)

/* The file error prefix "<cfgpath>:line:col: key: " into buf. */
static const char *
at(char *buf, size_t len, unsigned line, unsigned col, const char *key)
{
	snprintf(buf, len, "%s:%u:%u: %s: ", cfgpath, line, col, key);
	return buf;
}

/* Defaults */

static void
test_defaults(void **state)
{
	struct ro_config	*cfg;
	size_t			 i;

	(void)state;
	LOAD_OK(cfg, SERVER);
	assert_string_equal(cfg->server, "http://127.0.0.1:1");
	assert_int_equal(cfg->source[RO_CONFIG_SERVER], RO_CONFIG_SRC_FLAG);
	assert_null(cfg->repo);
	assert_string_equal(cfg->branch, "main");
	assert_string_equal(cfg->path, "");
	assert_int_equal(cfg->interval_ms, 10000);
	assert_int_equal(cfg->resync_ms, 600000);
	assert_null(cfg->watch);
	assert_false(cfg->apply_worktree);
	assert_int_equal(cfg->debounce_ms, 100);
	assert_int_equal(cfg->max_pending, 20);
	assert_null(cfg->token_file);
	assert_false(cfg->token_env);
	assert_null(cfg->cacert);
	assert_string_equal(cfg->listen, "127.0.0.1:8080");
	assert_string_equal(cfg->listen_host, "127.0.0.1");
	assert_int_equal(cfg->listen_port, 8080);
	assert_null(cfg->api_token_file);
	assert_null(cfg->webhook_secret_file);
	assert_string_equal(cfg->state_dir, "./.roomops");
	assert_string_equal(cfg->audit_log, "./.roomops/audit.jsonl");
	assert_int_equal(cfg->source[RO_CONFIG_AUDIT_LOG],
	    RO_CONFIG_SRC_DERIVED);
	assert_false(cfg->push_notes);
	assert_false(cfg->prune);
	assert_false(cfg->rollback);
	assert_int_equal(cfg->shard.index, 0);
	assert_int_equal(cfg->shard.count, 1);
	assert_int_equal(cfg->concurrency, 8);
	assert_int_equal(cfg->max_kicks, 5);
	assert_int_equal(cfg->max_artifact_deletes, 10);
	assert_true(cfg->change_threshold == 0.5);
	assert_true(cfg->require_confirm);
	assert_int_equal(cfg->profile, RO_CONFIG_PROFILE_DEFAULT);
	assert_null(cfg->git_username);
	assert_null(cfg->git_token_file);
	assert_null(cfg->git_password_file);
	assert_null(cfg->git_cacert);
	assert_null(cfg->ssh_key);
	assert_null(cfg->ssh_known_hosts);
	assert_false(cfg->ssh_allow_unknown);
	assert_false(cfg->once);
	assert_int_equal(cfg->log_format, RO_LOG_TEXT);
	assert_int_equal(cfg->log_level, RO_LOG_INFO);
	assert_false(cfg->print_config);
	assert_false(cfg->help);
	assert_null(cfg->config_file);
	assert_int_equal(cfg->changed, 0);
	for (i = 0; i < RO_CONFIG_NOPTS; i++)
		if (i != RO_CONFIG_SERVER && i != RO_CONFIG_AUDIT_LOG)
			assert_int_equal(cfg->source[i], RO_CONFIG_SRC_DEFAULT);
	ro_config_free(cfg);
	ro_config_free(NULL);
}

/* Each source alone */

static void
test_flags_alone(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	LOAD_OK(cfg, "--server", "https://rs.example:8443/base",
	    "--repo=https://git.example/rooms.git", "--branch", "prod",
	    "--path", "rooms", "--interval=0", "--resync", "1h30m",
	    "--watch", "/srv/specs", "--apply-worktree", "--debounce=250ms",
	    "--max-pending", "3", "--token-file", "/run/rs-token",
	    "--cacert=/etc/rs-ca.pem", "--listen", "[::1]:0",
	    "--api-token-file", "/run/api", "--webhook-secret-file=/run/wh",
	    "--state-dir", "/var/lib/roomops/", "--push-notes=true",
	    "--prune", "--rollback=false", "--shard", "2/5",
	    "--concurrency=16", "--max-kicks", "0",
	    "--max-artifact-deletes=1000000", "--change-threshold", "0.25",
	    "--require-confirm=false", "--git-username", "bot",
	    "--git-token-file", "/run/git", "--git-cacert", "/etc/g.pem",
	    "--ssh-key=/k", "--ssh-known-hosts", "/kh",
	    "--ssh-allow-unknown", "--once", "--log-format", "json",
	    "--log-level=debug");
	assert_string_equal(cfg->server, "https://rs.example:8443/base");
	assert_string_equal(cfg->repo, "https://git.example/rooms.git");
	assert_string_equal(cfg->branch, "prod");
	assert_string_equal(cfg->path, "rooms");
	assert_int_equal(cfg->interval_ms, 0);
	assert_int_equal(cfg->resync_ms, 5400000);
	assert_string_equal(cfg->watch, "/srv/specs");
	assert_true(cfg->apply_worktree);
	assert_int_equal(cfg->debounce_ms, 250);
	assert_int_equal(cfg->max_pending, 3);
	assert_string_equal(cfg->token_file, "/run/rs-token");
	assert_string_equal(cfg->cacert, "/etc/rs-ca.pem");
	assert_string_equal(cfg->listen, "[::1]:0");
	assert_string_equal(cfg->listen_host, "::1");
	assert_int_equal(cfg->listen_port, 0);
	assert_string_equal(cfg->api_token_file, "/run/api");
	assert_string_equal(cfg->webhook_secret_file, "/run/wh");
	assert_string_equal(cfg->state_dir, "/var/lib/roomops/");
	assert_string_equal(cfg->audit_log, "/var/lib/roomops/audit.jsonl");
	assert_true(cfg->push_notes);
	assert_true(cfg->prune);
	assert_false(cfg->rollback);
	assert_int_equal(cfg->shard.index, 2);
	assert_int_equal(cfg->shard.count, 5);
	assert_int_equal(cfg->concurrency, 16);
	assert_int_equal(cfg->max_kicks, 0);
	assert_int_equal(cfg->max_artifact_deletes, 1000000);
	assert_true(cfg->change_threshold == 0.25);
	assert_false(cfg->require_confirm);
	assert_string_equal(cfg->git_username, "bot");
	assert_string_equal(cfg->git_token_file, "/run/git");
	assert_string_equal(cfg->git_cacert, "/etc/g.pem");
	assert_string_equal(cfg->ssh_key, "/k");
	assert_string_equal(cfg->ssh_known_hosts, "/kh");
	assert_true(cfg->ssh_allow_unknown);
	assert_true(cfg->once);
	assert_int_equal(cfg->log_format, RO_LOG_JSON);
	assert_int_equal(cfg->log_level, RO_LOG_DEBUG);
	assert_int_equal(cfg->source[RO_CONFIG_SHARD], RO_CONFIG_SRC_FLAG);
	assert_int_equal(cfg->source[RO_CONFIG_PRUNE], RO_CONFIG_SRC_FLAG);
	assert_int_equal(cfg->source[RO_CONFIG_BRANCH], RO_CONFIG_SRC_FLAG);
	ro_config_free(cfg);

	/* the last of a repeated flag wins */
	LOAD_OK(cfg, SERVER, "--max-kicks=1", "--max-kicks", "2");
	assert_int_equal(cfg->max_kicks, 2);
	ro_config_free(cfg);
}

static void
test_env_alone(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	setenv("ROOMOPS_SERVER", "http://rs:80", 1);
	setenv("ROOMOPS_REPO", "/srv/git/rooms", 1);
	setenv("ROOMOPS_INTERVAL", "2m", 1);
	setenv("ROOMOPS_MAX_KICKS", "42", 1);
	setenv("ROOMOPS_MAX_ARTIFACT_DELETES", "7", 1);
	setenv("ROOMOPS_CHANGE_THRESHOLD", "1", 1);
	setenv("ROOMOPS_REQUIRE_CONFIRM", "false", 1);
	setenv("ROOMOPS_PUSH_NOTES", "true", 1);
	setenv("ROOMOPS_LISTEN", "0.0.0.0:9090", 1);
	setenv("ROOMOPS_STATE_DIR", "/state", 1);
	setenv("ROOMOPS_AUDIT_LOG", "/logs/a.jsonl", 1);
	setenv("ROOMOPS_SHARD", "0/2", 1);
	setenv("ROOMOPS_LOG_LEVEL", "warn", 1);
	setenv("ROOMOPS_GIT_PASSWORD_FILE", "/run/gp", 1);
	setenv("ROOMOPS_WATCH", "", 1);		/* empty = unset */
	setenv(RO_CONFIG_TOKEN_ENV, "t0ken", 1);
	LOAD_OK(cfg, "--once");
	assert_string_equal(cfg->server, "http://rs:80");
	assert_string_equal(cfg->repo, "/srv/git/rooms");
	assert_int_equal(cfg->interval_ms, 120000);
	assert_int_equal(cfg->max_kicks, 42);
	assert_int_equal(cfg->max_artifact_deletes, 7);
	assert_true(cfg->change_threshold == 1.0);
	assert_false(cfg->require_confirm);
	assert_true(cfg->push_notes);
	assert_string_equal(cfg->listen_host, "0.0.0.0");
	assert_int_equal(cfg->listen_port, 9090);
	assert_string_equal(cfg->state_dir, "/state");
	assert_string_equal(cfg->audit_log, "/logs/a.jsonl");
	assert_int_equal(cfg->shard.count, 2);
	assert_int_equal(cfg->log_level, RO_LOG_WARN);
	assert_string_equal(cfg->git_password_file, "/run/gp");
	assert_null(cfg->watch);
	assert_true(cfg->token_env);
	assert_int_equal(cfg->source[RO_CONFIG_SERVER], RO_CONFIG_SRC_ENV);
	assert_int_equal(cfg->source[RO_CONFIG_AUDIT_LOG], RO_CONFIG_SRC_ENV);
	assert_int_equal(cfg->source[RO_CONFIG_SHARD], RO_CONFIG_SRC_ENV);
	assert_int_equal(cfg->source[RO_CONFIG_WATCH],
	    RO_CONFIG_SRC_DEFAULT);
	assert_int_equal(cfg->source[RO_CONFIG_ONCE], RO_CONFIG_SRC_FLAG);
	ro_config_free(cfg);
}

static void
test_file_alone(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	write_cfg("# the agent\n"
	    "server: https://rs.example\n"
	    "repo: git@git.example:org/rooms.git\n"
	    "branch: 2024\n"			/* a number, taken as text */
	    "path: \"\"\n"
	    "interval: 0\n"
	    "resync: 5m\n"
	    "debounce: 1s\n"
	    "prune: true\n"
	    "max-kicks: 9\n"
	    "change-threshold: 0\n"
	    "require-confirm: false\n"
	    "listen: \"localhost:8081\"\n"
	    "log-format: json\n"
	    "audit-log: ~\n"			/* null = not set */
	    "ssh-allow-unknown: false\n");
	LOAD_OK(cfg, "--config", cfgpath);
	assert_string_equal(cfg->config_file, cfgpath);
	assert_string_equal(cfg->server, "https://rs.example");
	assert_string_equal(cfg->repo, "git@git.example:org/rooms.git");
	assert_string_equal(cfg->branch, "2024");
	assert_string_equal(cfg->path, "");
	assert_int_equal(cfg->interval_ms, 0);
	assert_int_equal(cfg->resync_ms, 300000);
	assert_int_equal(cfg->debounce_ms, 1000);
	assert_true(cfg->prune);
	assert_int_equal(cfg->max_kicks, 9);
	assert_true(cfg->change_threshold == 0.0);
	assert_false(cfg->require_confirm);
	assert_string_equal(cfg->listen_host, "localhost");
	assert_int_equal(cfg->listen_port, 8081);
	assert_int_equal(cfg->log_format, RO_LOG_JSON);
	assert_string_equal(cfg->audit_log, "./.roomops/audit.jsonl");
	assert_int_equal(cfg->source[RO_CONFIG_SERVER], RO_CONFIG_SRC_FILE);
	assert_int_equal(cfg->line[RO_CONFIG_SERVER], 2);
	assert_int_equal(cfg->source[RO_CONFIG_MAX_KICKS], RO_CONFIG_SRC_FILE);
	assert_int_equal(cfg->line[RO_CONFIG_MAX_KICKS], 10);
	assert_int_equal(cfg->source[RO_CONFIG_AUDIT_LOG],
	    RO_CONFIG_SRC_DERIVED);
	assert_int_equal(cfg->source[RO_CONFIG_CONFIG], RO_CONFIG_SRC_FLAG);
	ro_config_free(cfg);

	/* the file named by ROOMOPS_CONFIG */
	setenv("ROOMOPS_CONFIG", cfgpath, 1);
	LOAD_OK(cfg, "--once");
	assert_int_equal(cfg->max_kicks, 9);
	assert_int_equal(cfg->source[RO_CONFIG_CONFIG], RO_CONFIG_SRC_ENV);
	ro_config_free(cfg);

	/* an empty file, or one of comments only, sets nothing */
	write_cfg("");
	LOAD_OK(cfg, SERVER);
	ro_config_free(cfg);
	write_cfg("# nothing yet\n\n   # really\n");
	LOAD_OK(cfg, SERVER);
	assert_int_equal(cfg->max_kicks, 5);
	ro_config_free(cfg);
}

/* Precedence */

static void
test_precedence(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	write_cfg("server: http://file:1\n"
	    "interval: 1m\n"
	    "prune: false\n"
	    "branch: from-file\n"
	    "max-kicks: 11\n");
	setenv("ROOMOPS_CONFIG", cfgpath, 1);
	setenv("ROOMOPS_SERVER", "http://env:1", 1);
	setenv("ROOMOPS_INTERVAL", "2m", 1);
	setenv("ROOMOPS_PRUNE", "true", 1);
	setenv("ROOMOPS_BRANCH", "from-env", 1);

	/* all three set: the flag wins */
	LOAD_OK(cfg, "--server=http://flag:1", "--interval", "3m",
	    "--prune=false", "--branch", "from-flag");
	assert_string_equal(cfg->server, "http://flag:1");
	assert_int_equal(cfg->interval_ms, 180000);
	assert_false(cfg->prune);
	assert_string_equal(cfg->branch, "from-flag");
	assert_int_equal(cfg->source[RO_CONFIG_INTERVAL], RO_CONFIG_SRC_FLAG);
	assert_int_equal(cfg->source[RO_CONFIG_PRUNE], RO_CONFIG_SRC_FLAG);
	/* only the file: the file wins over the default */
	assert_int_equal(cfg->max_kicks, 11);
	assert_int_equal(cfg->source[RO_CONFIG_MAX_KICKS], RO_CONFIG_SRC_FILE);
	ro_config_free(cfg);

	/* no flags: the environment wins */
	LOAD_OK(cfg, "--once");
	assert_string_equal(cfg->server, "http://env:1");
	assert_int_equal(cfg->interval_ms, 120000);
	assert_true(cfg->prune);
	assert_string_equal(cfg->branch, "from-env");
	assert_int_equal(cfg->source[RO_CONFIG_INTERVAL], RO_CONFIG_SRC_ENV);
	ro_config_free(cfg);

	/* no environment either: the file */
	unsetenv("ROOMOPS_SERVER");
	unsetenv("ROOMOPS_INTERVAL");
	unsetenv("ROOMOPS_PRUNE");
	unsetenv("ROOMOPS_BRANCH");
	LOAD_OK(cfg, "--once");
	assert_string_equal(cfg->server, "http://file:1");
	assert_int_equal(cfg->interval_ms, 60000);
	assert_false(cfg->prune);
	assert_string_equal(cfg->branch, "from-file");
	assert_int_equal(cfg->source[RO_CONFIG_INTERVAL], RO_CONFIG_SRC_FILE);
	assert_int_equal(cfg->line[RO_CONFIG_INTERVAL], 2);
	ro_config_free(cfg);

	/* nothing: the default */
	unsetenv("ROOMOPS_CONFIG");
	LOAD_OK(cfg, SERVER);
	assert_int_equal(cfg->interval_ms, 10000);
	assert_string_equal(cfg->branch, "main");
	assert_int_equal(cfg->source[RO_CONFIG_INTERVAL],
	    RO_CONFIG_SRC_DEFAULT);
	ro_config_free(cfg);

	/* --config beats ROOMOPS_CONFIG */
	tu_write(tmp, "other.yaml", "max-kicks: 12\n");
	setenv("ROOMOPS_CONFIG", cfgpath, 1);
	{
		char	*other = tu_path(tmp, "other.yaml");

		LOAD_OK(cfg, "--config", other, SERVER);
		assert_int_equal(cfg->max_kicks, 12);
		assert_string_equal(cfg->config_file, other);
		ro_config_free(cfg);
		free(other);
	}
}

/* Parse errors, each naming its source */

static void
test_flag_errors(void **state)
{
	(void)state;
	EXPECT_ERR("--interval: invalid duration \"10x\": unknown unit",
	    SERVER, "--interval", "10x");
	EXPECT_ERR("--interval: invalid duration \"10\": missing unit",
	    SERVER, "--interval=10");
	EXPECT_ERR("--interval: invalid duration \"-1s\": negative",
	    SERVER, "--interval=-1s");
	EXPECT_ERR("--resync: invalid duration \"99999999999999999999s\": "
	    "too large", SERVER, "--resync=99999999999999999999s");
	EXPECT_ERR("--resync: invalid duration \"5124095576030432h\": "
	    "too large", SERVER, "--resync=5124095576030432h");
	EXPECT_ERR("--interval: invalid duration \"25h\": too large (at most "
	    "24h)", SERVER, "--interval=25h");
	EXPECT_ERR("--debounce: invalid duration \"1.5s\": no fractions",
	    SERVER, "--debounce=1.5s");
	EXPECT_ERR("--resync: invalid duration \"30m1h\": units must be",
	    SERVER, "--resync=30m1h");
	EXPECT_ERR("--resync: invalid duration \"\": empty", SERVER,
	    "--resync=");
	EXPECT_ERR("--interval: invalid duration \" 10s\"", SERVER,
	    "--interval= 10s");
	EXPECT_ERR("--prune: invalid boolean \"yes\" (expected true or false)",
	    SERVER, "--prune=yes");
	EXPECT_ERR("--max-kicks: invalid integer \"-1\" (expected 0..1000000)",
	    SERVER, "--max-kicks", "-1");
	EXPECT_ERR("--max-kicks: invalid integer \"1x\"", SERVER,
	    "--max-kicks=1x");
	EXPECT_ERR("--max-kicks: invalid integer \"05\"", SERVER,
	    "--max-kicks=05");
	EXPECT_ERR("--max-kicks: invalid integer \"1000001\"", SERVER,
	    "--max-kicks=1000001");
	EXPECT_ERR("--max-kicks: invalid integer \"18446744073709551616\"",
	    SERVER, "--max-kicks=18446744073709551616");
	EXPECT_ERR("--concurrency: invalid integer \"0\" (expected 1..256)",
	    SERVER, "--concurrency=0");
	EXPECT_ERR("--change-threshold: invalid ratio \"1.5\"", SERVER,
	    "--change-threshold=1.5");
	EXPECT_ERR("--change-threshold: invalid ratio \"1e-1\"", SERVER,
	    "--change-threshold=1e-1");
	EXPECT_ERR("--change-threshold: invalid ratio \"nan\"", SERVER,
	    "--change-threshold=nan");
	EXPECT_ERR("--log-format: invalid value \"xml\" (expected text or "
	    "json)", SERVER, "--log-format=xml");
	EXPECT_ERR("--log-level: invalid value \"trace\"", SERVER,
	    "--log-level=trace");
	EXPECT_ERR("--profile: invalid value \"prod\" (expected default or "
	    "test)", SERVER, "--profile=prod");
	EXPECT_ERR("--shard: shard '3/3': index I", SERVER, "--shard=3/3");
	EXPECT_ERR("--shard: shard 'x': expected I/N", SERVER, "--shard=x");
	EXPECT_ERR("--listen: invalid address \"8080\": missing :PORT",
	    SERVER, "--listen=8080");
	EXPECT_ERR("--listen: invalid address \":80\": empty address", SERVER,
	    "--listen=:80");
	EXPECT_ERR("--listen: invalid address \"1.2.3.4:70000\": port", SERVER,
	    "--listen=1.2.3.4:70000");
	EXPECT_ERR("--listen: invalid address \"::1:80\": put an IPv6", SERVER,
	    "--listen=::1:80");
	/* a name passed here and failed when the API started */
	EXPECT_ERR("--listen: invalid address \"myhost:8080\": expected an "
	    "IPv4 address or localhost", SERVER, "--listen=myhost:8080");
	EXPECT_ERR("--listen: invalid address \"[::g]:80\": not an IPv6 "
	    "address", SERVER, "--listen=[::g]:80");
	EXPECT_ERR("--listen: invalid address \"a b:80\": expected an IPv4 "
	    "address", SERVER, "--listen=a b:80");
	EXPECT_ERR("--server: invalid URL \"ftp://x\"", "--server=ftp://x");
	EXPECT_ERR("--server: invalid URL \"http://\"", "--server=http://");
	EXPECT_ERR("--repo: empty value", SERVER, "--repo=");
	EXPECT_ERR("--config: empty value", SERVER, "--config=");
	/* command-line syntax */
	EXPECT_ERR("unknown option \"--bogus\"", SERVER, "--bogus=1");
	EXPECT_ERR("unknown option -x", SERVER, "-x");
	EXPECT_ERR("unknown option \"--inter\" (did you mean --interval?)",
	    SERVER, "--inter", "5s");
	EXPECT_ERR("--interval: missing value", SERVER, "--interval");
	EXPECT_ERR("unexpected argument \"specs/\"", SERVER, "specs/");
	EXPECT_ERR("unexpected argument \"false\" (write --prune=false)",
	    SERVER, "--prune", "false");
	EXPECT_ERR("--help takes no value", "--help=1");
}

static void
test_env_errors(void **state)
{
	(void)state;
	setenv("ROOMOPS_INTERVAL", "10", 1);
	EXPECT_ERR("ROOMOPS_INTERVAL: invalid duration \"10\": missing unit",
	    SERVER);
	unsetenv("ROOMOPS_INTERVAL");
	setenv("ROOMOPS_MAX_KICKS", "many", 1);
	EXPECT_ERR("ROOMOPS_MAX_KICKS: invalid integer \"many\"", SERVER);
	unsetenv("ROOMOPS_MAX_KICKS");
	setenv("ROOMOPS_REQUIRE_CONFIRM", "yes", 1);
	EXPECT_ERR("ROOMOPS_REQUIRE_CONFIRM: invalid boolean \"yes\"", SERVER);
	unsetenv("ROOMOPS_REQUIRE_CONFIRM");
	setenv("ROOMOPS_SERVER", "rs.local", 1);
	EXPECT_ERR("ROOMOPS_SERVER: invalid URL \"rs.local\"", "--once");
	unsetenv("ROOMOPS_SERVER");
	setenv("ROOMOPS_CHANGE_THRESHOLD", "-0.1", 1);
	EXPECT_ERR("ROOMOPS_CHANGE_THRESHOLD: invalid ratio", SERVER);
	unsetenv("ROOMOPS_CHANGE_THRESHOLD");
	/* a bad value is reported even where a flag overrides it */
	setenv("ROOMOPS_INTERVAL", "soon", 1);
	EXPECT_ERR("ROOMOPS_INTERVAL: invalid duration \"soon\"", SERVER,
	    "--interval=5s");
	unsetenv("ROOMOPS_INTERVAL");
	/* control characters are escaped in messages */
	setenv("ROOMOPS_LOG_LEVEL", "info\n", 1);
	EXPECT_ERR("ROOMOPS_LOG_LEVEL: invalid value \"info\\n\"", SERVER);
	unsetenv("ROOMOPS_LOG_LEVEL");
	setenv("ROOMOPS_CONFIG", "/nonexistent/roomops.yaml", 1);
	EXPECT_ERR("ROOMOPS_CONFIG: /nonexistent/roomops.yaml", SERVER);
	unsetenv("ROOMOPS_CONFIG");
}

static void
test_file_errors(void **state)
{
	struct ro_config	*cfg;
	struct ro_err		 err = RO_ERR_INIT;
	char			 want[1024], prefix[900];
	char			*big;
	size_t			 i;

	(void)state;
#define FILE_ERR(text, line, col, key, msg) do {			\
	write_cfg(text);						\
	snprintf(want, sizeof(want), "%s%s",				\
	    at(prefix, sizeof(prefix), line, col, key), msg);		\
	expect_err(want, SERVER, "--config", cfgpath,			\
	    (const char *)NULL);					\
} while (0)
	FILE_ERR("prune: true\ninterval: 10x\n", 2, 11, "interval",
	    "invalid duration \"10x\": unknown unit");
	FILE_ERR("interval: 10\n", 1, 11, "interval",
	    "invalid duration \"10\": missing unit");
	FILE_ERR("interval: -1s\n", 1, 11, "interval",
	    "invalid duration \"-1s\": negative");
	FILE_ERR("prune: yes\n", 1, 8, "prune",
	    "expected true or false, not a string");
	FILE_ERR("prune: \"true\"\n", 1, 8, "prune",
	    "expected true or false, not a string");
	FILE_ERR("prune: True\n", 1, 8, "prune",
	    "invalid boolean \"True\"");
	FILE_ERR("max-kicks: \"5\"\n", 1, 12, "max-kicks",
	    "expected an integer, not a string");
	FILE_ERR("max-kicks: 2.5\n", 1, 12, "max-kicks",
	    "expected an integer, not a number");
	FILE_ERR("max-kicks: -3\n", 1, 12, "max-kicks",
	    "invalid integer \"-3\"");
	FILE_ERR("change-threshold: 2\n", 1, 19, "change-threshold",
	    "invalid ratio \"2\"");
	FILE_ERR("change-threshold: half\n", 1, 19, "change-threshold",
	    "expected a number from 0 to 1, not a string");
	FILE_ERR("listen: [a, b]\n", 1, 9, "listen",
	    "expected a string, not a list");
	FILE_ERR("repo: {url: x}\n", 1, 7, "repo",
	    "expected a string, not a mapping");
	FILE_ERR("repo: true\n", 1, 7, "repo",
	    "expected a string, not a boolean");
	FILE_ERR("server: \"a\\0b\"\n", 1, 9, "server", "contains a NUL byte");
	FILE_ERR("log-format: 1\n", 1, 13, "log-format",
	    "expected a string, not an integer");
	FILE_ERR("shard: 4/2\n", 1, 8, "shard", "shard '4/2'");
	/* unknown, duplicate and forbidden keys point at the key */
	FILE_ERR("prune: true\nintervall: 10s\n", 2, 1, "intervall",
	    "unknown option");
	FILE_ERR("max-kicks: 1\nprune: true\nmax-kicks: 2\n", 3, 1,
	    "max-kicks", "duplicate key (first at line 1)");
	FILE_ERR("config: /etc/other.yaml\n", 1, 1, "config",
	    "not allowed in a config file");
	/* the document itself */
	snprintf(want, sizeof(want), "%s:1:1: expected a mapping of option "
	    "names to values, not a list", cfgpath);
	write_cfg("- interval: 10s\n");
	EXPECT_ERR(want, SERVER, "--config", cfgpath);
	snprintf(want, sizeof(want), "%s:2:", cfgpath);
	write_cfg("prune: true\n  interval: [\n");
	EXPECT_ERR(want, SERVER, "--config", cfgpath);
	write_cfg("a: &x 1\nprune: *x\n");
	EXPECT_ERR("anchor", SERVER, "--config", cfgpath);
	/* a bad file value is reported even where a flag overrides it */
	FILE_ERR("interval: soon\n", 1, 11, "interval",
	    "invalid duration \"soon\"");
	write_cfg("interval: soon\n");
	EXPECT_ERR("interval: invalid duration \"soon\"", SERVER,
	    "--interval=1s", "--config", cfgpath);
	/* over 64 KiB */
	big = malloc(RO_CONFIG_FILE_MAX + 64);
	assert_non_null(big);
	for (i = 0; i < RO_CONFIG_FILE_MAX + 32; i++)
		big[i] = i % 64 == 63 ? '\n' : '#';
	big[i] = '\0';
	write_cfg(big);
	free(big);
	assert_int_equal(load(&cfg, &err, SERVER, "--config", cfgpath,
	    (const char *)NULL), RO_ETOOBIG);
	assert_true(tu_contains(err.msg, "--config: "));
	/* missing */
	snprintf(want, sizeof(want), "--config: %s/missing.yaml", tmp);
	snprintf(prefix, sizeof(prefix), "%s/missing.yaml", tmp);
	assert_int_equal(load(&cfg, &err, SERVER, "--config", prefix,
	    (const char *)NULL), RO_ENOTFOUND);
	assert_true(tu_contains(err.msg, want));
#undef FILE_ERR
}

/* A key that is no option is refused, with its position and name. */
static void
test_unknown_key(void **state)
{
	struct ro_config	*cfg;
	struct ro_err		 err = RO_ERR_INIT;
	char			 want[1024];

	(void)state;
	write_cfg("server: http://x:1\n\n  # aligned\nmax_kicks: 3\n");
	assert_int_equal(load(&cfg, &err, "--config", cfgpath,
	    (const char *)NULL), RO_EINVALID);
	snprintf(want, sizeof(want), "%s:4:1: max_kicks: unknown option",
	    cfgpath);
	assert_string_equal(err.msg, want);
	assert_null(cfg);

	write_cfg("\"odd key\": 1\n");
	assert_int_equal(load(&cfg, &err, SERVER, "--config", cfgpath,
	    (const char *)NULL), RO_EINVALID);
	snprintf(want, sizeof(want), "%s:1:1: [\"odd key\"]: unknown option",
	    cfgpath);
	assert_string_equal(err.msg, want);
}

/* Cross-option rules */

static void
test_validation(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	EXPECT_ERR("no RoomServer", "--once");
	EXPECT_ERR("git-token-file and git-password-file are both set (flag, "
	    "flag)", SERVER, "--git-token-file=/a", "--git-password-file=/b");
	setenv("ROOMOPS_GIT_PASSWORD_FILE", "/b", 1);
	EXPECT_ERR("git-token-file and git-password-file are both set (flag, "
	    "env)", SERVER, "--git-token-file=/a");
	unsetenv("ROOMOPS_GIT_PASSWORD_FILE");

	/* repo, watch, both or neither (API-only) */
	LOAD_OK(cfg, SERVER);
	assert_null(cfg->repo);
	assert_null(cfg->watch);
	ro_config_free(cfg);
	LOAD_OK(cfg, SERVER, "--repo", "/r", "--watch", "/w");
	assert_string_equal(cfg->repo, "/r");
	assert_string_equal(cfg->watch, "/w");
	ro_config_free(cfg);
	LOAD_OK(cfg, SERVER, "--watch", "/w");
	ro_config_free(cfg);

	/* print-config and --help need no server */
	LOAD_OK(cfg, "--print-config");
	assert_true(cfg->print_config);
	assert_null(cfg->server);
	ro_config_free(cfg);
	LOAD_OK(cfg, "-h");
	assert_true(cfg->help);
	ro_config_free(cfg);
	LOAD_OK(cfg, "--help");
	assert_true(cfg->help);
	ro_config_free(cfg);

	/* signed commits and TLS */
	EXPECT_ERR("verify-signatures (flag): \"gpg\" is not off, openpgp, "
	    "ssh or any", SERVER, "--verify-signatures", "gpg");
	EXPECT_ERR("verify-signatures ssh needs trusted-keys", SERVER,
	    "--verify-signatures", "ssh");
	EXPECT_ERR("tls-cert and tls-key go together", SERVER, "--tls-cert",
	    "/c");
	EXPECT_ERR("tls-cert and tls-key go together", SERVER, "--tls-key",
	    "/k");
	LOAD_OK(cfg, SERVER);
	assert_string_equal(cfg->verify_signatures, "off");
	assert_null(cfg->trusted_keys);
	assert_null(cfg->tls_cert);
	assert_null(cfg->api_read_token_file);
	ro_config_free(cfg);
	setenv("ROOMOPS_VERIFY_SIGNATURES", "openpgp", 1);
	LOAD_OK(cfg, SERVER, "--trusted-keys", "/keys", "--tls-cert", "/c",
	    "--tls-key", "/k", "--api-read-token-file", "/r");
	unsetenv("ROOMOPS_VERIFY_SIGNATURES");
	assert_string_equal(cfg->verify_signatures, "openpgp");
	assert_string_equal(cfg->trusted_keys, "/keys");
	assert_string_equal(cfg->tls_cert, "/c");
	assert_string_equal(cfg->tls_key, "/k");
	assert_string_equal(cfg->api_read_token_file, "/r");
	ro_config_free(cfg);

	/* the state dir "/" gives "/audit.jsonl", not "//audit.jsonl" */
	LOAD_OK(cfg, SERVER, "--state-dir", "/");
	assert_string_equal(cfg->audit_log, "/audit.jsonl");
	ro_config_free(cfg);
}

/* ROOMOPS_SHARDS with the host name, unless --shard is given. */
static void
test_shard_from_env(void **state)
{
	struct ro_config	*cfg;

	(void)state;
	setenv(RO_SHARD_ENV, "zero", 1);
	EXPECT_ERR("ROOMOPS_SHARDS='zero'", SERVER);
	LOAD_OK(cfg, SERVER, "--shard", "1/3");
	assert_int_equal(cfg->shard.index, 1);
	assert_int_equal(cfg->shard.count, 3);
	ro_config_free(cfg);
	setenv("ROOMOPS_SHARD", "0/4", 1);
	LOAD_OK(cfg, SERVER);
	assert_int_equal(cfg->shard.count, 4);
	assert_int_equal(cfg->source[RO_CONFIG_SHARD], RO_CONFIG_SRC_ENV);
	ro_config_free(cfg);
}

/* --profile test */

static void
test_profile(void **state)
{
	struct ro_config	*cfg;
	struct ro_guard_opts	 g;

	(void)state;
	LOAD_OK(cfg, SERVER, "--profile", "test");
	assert_int_equal(cfg->profile, RO_CONFIG_PROFILE_TEST);
	assert_false(cfg->require_confirm);
	assert_int_equal(cfg->max_kicks, RO_CONFIG_TEST_MAX_KICKS);
	assert_int_equal(cfg->source[RO_CONFIG_REQUIRE_CONFIRM],
	    RO_CONFIG_SRC_PROFILE);
	assert_int_equal(cfg->source[RO_CONFIG_MAX_KICKS],
	    RO_CONFIG_SRC_PROFILE);
	/* the others keep their defaults */
	assert_int_equal(cfg->max_artifact_deletes, 10);
	assert_true(cfg->change_threshold == 0.5);
	ro_config_guard_opts(cfg, &g);
	assert_int_equal(g.max_kicks, 1000);
	assert_false(g.require_confirm);
	assert_int_equal(g.max_deletes, 10);
	assert_false(g.confirmed);
	ro_config_free(cfg);

	/* explicit values win over the profile, from any source */
	LOAD_OK(cfg, SERVER, "--profile=test", "--max-kicks", "7");
	assert_int_equal(cfg->max_kicks, 7);
	assert_false(cfg->require_confirm);
	ro_config_free(cfg);
	setenv("ROOMOPS_PROFILE", "test", 1);
	write_cfg("require-confirm: true\nmax-kicks: 5\n");
	LOAD_OK(cfg, SERVER, "--config", cfgpath);
	assert_int_equal(cfg->profile, RO_CONFIG_PROFILE_TEST);
	assert_true(cfg->require_confirm);
	assert_int_equal(cfg->max_kicks, 5);
	assert_int_equal(cfg->source[RO_CONFIG_MAX_KICKS], RO_CONFIG_SRC_FILE);
	ro_config_free(cfg);
	unsetenv("ROOMOPS_PROFILE");
	LOAD_OK(cfg, SERVER, "--profile=default");
	assert_true(cfg->require_confirm);
	assert_int_equal(cfg->max_kicks, 5);
	ro_config_free(cfg);
}

/* SIGHUP reload */

static void
test_reload(void **state)
{
	struct ro_config	*old, *cfg, *bad = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct ro_buf		 live = RO_BUF_INIT, restart = RO_BUF_INIT;
	char			*sd1 = tu_path(tmp, "s1"), *sd2 = tu_path(tmp,
				    "s2");
	char			 text[2048];

	(void)state;
	snprintf(text, sizeof(text), "server: http://rs:1\n"
	    "interval: 1m\n"
	    "resync: 1m\n"
	    "listen: 127.0.0.1:9999\n"
	    "state-dir: %s\n"
	    "log-level: info\n", sd1);
	write_cfg(text);
	setenv("ROOMOPS_MAX_KICKS", "3", 1);
	LOAD_OK(old, "--config", cfgpath, "--interval", "5s",
	    "--listen=127.0.0.1:9000", "--prune");
	assert_int_equal(old->interval_ms, 5000);
	assert_int_equal(old->resync_ms, 60000);
	assert_int_equal(old->listen_port, 9000);
	assert_int_equal(old->max_kicks, 3);

	/* nothing changed: nothing reported */
	assert_int_equal(ro_config_reload(old, &cfg, &err), RO_OK);
	assert_int_equal(cfg->changed, 0);
	assert_int_equal(ro_config_changes(cfg, true, &live), 0);
	ro_config_free(cfg);

	/* the file and the environment change under the running agent */
	snprintf(text, sizeof(text), "server: http://rs:1\n"
	    "interval: 30s\n"
	    "resync: 2m\n"
	    "listen: 127.0.0.1:9998\n"
	    "state-dir: %s\n"
	    "log-level: debug\n"
	    "prune: false\n", sd2);
	write_cfg(text);
	setenv("ROOMOPS_MAX_KICKS", "4", 1);
	assert_int_equal(ro_config_reload(old, &cfg, &err), RO_OK);
	/* the flags still win */
	assert_int_equal(cfg->interval_ms, 5000);
	assert_int_equal(cfg->source[RO_CONFIG_INTERVAL], RO_CONFIG_SRC_FLAG);
	assert_int_equal(cfg->listen_port, 9000);
	assert_true(cfg->prune);
	assert_false(ro_config_changed(cfg, RO_CONFIG_INTERVAL));
	assert_false(ro_config_changed(cfg, RO_CONFIG_LISTEN));
	assert_false(ro_config_changed(cfg, RO_CONFIG_PRUNE));
	/* the file and the environment are read again */
	assert_int_equal(cfg->resync_ms, 120000);
	assert_int_equal(cfg->log_level, RO_LOG_DEBUG);
	assert_int_equal(cfg->max_kicks, 4);
	assert_string_equal(cfg->state_dir, sd2);
	assert_true(ro_config_changed(cfg, RO_CONFIG_RESYNC));
	assert_true(ro_config_changed(cfg, RO_CONFIG_LOG_LEVEL));
	assert_true(ro_config_changed(cfg, RO_CONFIG_MAX_KICKS));
	assert_true(ro_config_changed(cfg, RO_CONFIG_STATE_DIR));
	assert_true(ro_config_changed(cfg, RO_CONFIG_AUDIT_LOG));
	assert_false(ro_config_changed(cfg, RO_CONFIG_SERVER));
	assert_int_equal(ro_config_changes(cfg, true, &live), 3);
	assert_string_equal(ro_buf_cstr(&live), "resync, max-kicks, "
	    "log-level");
	assert_int_equal(ro_config_changes(cfg, false, &restart), 2);
	assert_string_equal(ro_buf_cstr(&restart), "state-dir, audit-log");
	assert_true(ro_config_opt_live(RO_CONFIG_INTERVAL));
	assert_true(ro_config_opt_live(RO_CONFIG_CHANGE_THRESHOLD));
	assert_false(ro_config_opt_live(RO_CONFIG_LISTEN));
	assert_false(ro_config_opt_live(RO_CONFIG_REPO));
	assert_false(ro_config_opt_live(RO_CONFIG_STATE_DIR));
	assert_false(ro_config_opt_live(RO_CONFIG_NOPTS));

	/* a reload of a reload compares with the newer one */
	assert_int_equal(ro_config_reload(cfg, &bad, &err), RO_OK);
	assert_int_equal(bad->changed, 0);
	ro_config_free(bad);
	bad = NULL;

	/* a broken file: an error, and the running config is untouched */
	write_cfg("interval: [\n");
	assert_true(ro_config_reload(cfg, &bad, &err) < 0);
	assert_null(bad);
	assert_true(tu_contains(err.msg, cfgpath));
	write_cfg("resync: forever\n");
	assert_true(ro_config_reload(cfg, &bad, &err) < 0);
	assert_true(tu_contains(err.msg, "resync: invalid duration"));
	assert_int_equal(cfg->resync_ms, 120000);

	ro_config_free(cfg);
	ro_config_free(old);
	ro_buf_release(&live);
	ro_buf_release(&restart);
	free(sd1);
	free(sd2);
}

/* The file named by ROOMOPS_CONFIG: reload follows the variable. */
static void
test_reload_env_config(void **state)
{
	struct ro_config	*old, *cfg;
	struct ro_err		 err = RO_ERR_INIT;
	char			*other = tu_path(tmp, "other.yaml");

	(void)state;
	write_cfg("server: http://a:1\nmax-artifact-deletes: 1\n");
	tu_write(tmp, "other.yaml", "server: http://b:1\n");
	setenv("ROOMOPS_CONFIG", cfgpath, 1);
	LOAD_OK(old, "--once");
	setenv("ROOMOPS_CONFIG", other, 1);
	assert_int_equal(ro_config_reload(old, &cfg, &err), RO_OK);
	assert_string_equal(cfg->server, "http://b:1");
	assert_int_equal(cfg->max_artifact_deletes, 10);
	assert_true(ro_config_changed(cfg, RO_CONFIG_SERVER));
	assert_true(ro_config_changed(cfg, RO_CONFIG_CONFIG));
	assert_true(ro_config_changed(cfg, RO_CONFIG_MAX_ARTIFACT_DELETES));
	assert_false(ro_config_changed(cfg, RO_CONFIG_ONCE));
	assert_true(cfg->once);
	ro_config_free(cfg);
	ro_config_free(old);
	free(other);
}

/* --print-config */

static void
test_print_masks_secrets(void **state)
{
	struct ro_config	*cfg;
	struct ro_buf		 out = RO_BUF_INIT;
	char			*tok = tu_path(tmp, "rs-token");
	char			*api = tu_path(tmp, "api-token");
	char			*gp = tu_path(tmp, "git-pass");
	const char		*s;
	char			 line[128];

	(void)state;
	tu_write(tmp, "rs-token", "rs-SECRET-1\n");
	tu_write(tmp, "api-token", "api-SECRET-2\n");
	tu_write(tmp, "git-pass", "git-SECRET-3\n");
	setenv(RO_CONFIG_TOKEN_ENV, "env-SECRET-4", 1);
	setenv("ROOMOPS_API_TOKEN_FILE", api, 1);
	write_cfg("max-kicks: 3\n");
	LOAD_OK(cfg, "--server", "https://svc:SECRET5@rs.example/x",
	    "--repo", "https://SECRET6@git.example/r.git?x=1",
	    "--token-file", tok, "--git-password-file", gp,
	    "--config", cfgpath, "--print-config");
	assert_int_equal(ro_config_print(cfg, &out), RO_OK);
	s = ro_buf_cstr(&out);
	assert_null(strstr(s, "SECRET"));
	assert_true(tu_contains(s, "# ROOM_AUTH_TOKEN: (set)\n"));
	assert_true(tu_contains(s, "server: \"https://svc:***@rs.example/x\""));
	assert_true(tu_contains(s, "repo: \"https://***@git.example/r.git"));
	assert_true(tu_contains(s, tok));
	assert_true(tu_contains(s, api));
	assert_true(tu_contains(s, gp));
	assert_true(tu_contains(s, "# env ROOMOPS_API_TOKEN_FILE\n"));
	assert_true(tu_contains(s, "# flag --token-file\n"));
	assert_true(tu_contains(s, "max-kicks: 3 "));
	assert_true(tu_contains(s, "# file "));
	assert_true(tu_contains(s, ":1\n"));
	assert_true(tu_contains(s, "\ninterval: 10s "));
	assert_true(tu_contains(s, "\nresync: 10m "));
	assert_true(tu_contains(s, "\ndebounce: 100ms "));
	assert_true(tu_contains(s, "\nchange-threshold: 0.5 "));
	assert_true(tu_contains(s, "\nshard: \"0/1\" "));
	assert_true(tu_contains(s, "\nwatch: ~ "));
	assert_true(tu_contains(s, "\naudit-log: \"./.roomops/audit.jsonl\""));
	assert_true(tu_contains(s, "# default: state-dir/audit.jsonl\n"));
	snprintf(line, sizeof(line), "\n%-40s# default\n", "branch: \"main\"");
	assert_true(tu_contains(s, line));
	ro_config_free(cfg);

	unsetenv(RO_CONFIG_TOKEN_ENV);
	LOAD_OK(cfg, SERVER);
	ro_buf_reset(&out);
	assert_int_equal(ro_config_print(cfg, &out), RO_OK);
	assert_true(tu_contains(ro_buf_cstr(&out),
	    "# ROOM_AUTH_TOKEN: (unset)\n"));
	assert_true(tu_contains(ro_buf_cstr(&out), "# config file: none\n"));
	ro_config_free(cfg);

	ro_buf_release(&out);
	free(tok);
	free(api);
	free(gp);
}

/* The printout is a config file that loads back to the same values. */
static void
test_print_round_trip(void **state)
{
	struct ro_config	*a, *b;
	struct ro_buf		 pa = RO_BUF_INIT, pb = RO_BUF_INIT;
	struct ro_node		 root = RO_NODE_INIT;
	struct ro_diag		 diag = RO_DIAG_INIT;
	char			*line, *save = NULL, *pa_s, *pb_s;

	(void)state;
	LOAD_OK(a, SERVER, "--repo", "/srv/r \"q\"\\", "--change-threshold",
	    "0.3", "--resync", "1h1m1s1ms", "--listen", "[::]:80",
	    "--profile", "test", "--shard", "3/7", "--log-format=json");
	assert_int_equal(ro_config_print(a, &pa), RO_OK);
	assert_int_equal(ro_yaml_parse(&root, "print", pa.ptr, pa.len, 4,
	    &diag), RO_OK);
	assert_int_equal(root.type, RO_NODE_MAP);
	assert_int_equal(ro_node_map_size(&root), RO_CONFIG_NOPTS - 1);
	ro_node_release(&root);
	ro_diag_release(&diag);

	write_cfg(ro_buf_cstr(&pa));
	LOAD_OK(b, "--config", cfgpath);
	assert_string_equal(b->repo, "/srv/r \"q\"\\");
	assert_true(b->change_threshold == 0.3);
	assert_int_equal(b->resync_ms, 3661001);
	assert_string_equal(b->listen_host, "::");
	assert_int_equal(b->shard.index, 3);
	assert_int_equal(b->max_kicks, 1000);
	assert_int_equal(b->source[RO_CONFIG_MAX_KICKS], RO_CONFIG_SRC_FILE);
	assert_int_equal(ro_config_print(b, &pb), RO_OK);

	/* the same values, line by line, comments aside */
	pa_s = ro_buf_detach(&pa, NULL);
	pb_s = ro_buf_detach(&pb, NULL);
	{
		char	*sa = pa_s, *sb = pb_s, *la, *lb, *save_b = NULL;

		line = strtok_r(sa, "\n", &save);
		lb = strtok_r(sb, "\n", &save_b);
		while (line != NULL && lb != NULL) {
			la = line;
			if (la[0] != '#') {
				assert_non_null(strstr(la, " # "));
				assert_non_null(strstr(lb, " # "));
				*strstr(la, " # ") = '\0';
				*strstr(lb, " # ") = '\0';
				assert_string_equal(la, lb);
			}
			line = strtok_r(NULL, "\n", &save);
			lb = strtok_r(NULL, "\n", &save_b);
		}
		assert_null(line);
		assert_null(lb);
	}
	free(pa_s);
	free(pb_s);
	ro_config_free(a);
	ro_config_free(b);
}

/* Durations, names, usage */

static void
test_durations(void **state)
{
	static const struct {
		const char	*s;
		uint64_t	 ms;
		const char	*canon;
	} ok[] = {
		{ "0", 0, "0" }, { "0s", 0, "0" }, { "1ms", 1, "1ms" },
		{ "100ms", 100, "100ms" }, { "10s", 10000, "10s" },
		{ "10m", 600000, "10m" }, { "1h", 3600000, "1h" },
		{ "90m", 5400000, "1h30m" }, { "1h30m", 5400000, "1h30m" },
		{ "2s500ms", 2500, "2s500ms" }, { "1500ms", 1500, "1s500ms" },
		{ "1h0m0s1ms", 3600001, "1h1ms" },
	};
	static const char *const bad[] = { "", "10", "-1s", "+1s", "1.5s",
	    "10x", "s", "1 s", "1s ", "1m1h", "1s1s", "1mss", "1S", "1e3ms",
	    "0x10s", "99999999999999999999ms", "18446744073709551615h" };
	char		 buf[64];
	const char	*why;
	uint64_t	 ms;
	size_t		 i;

	(void)state;
	for (i = 0; i < RO_NELEM(ok); i++) {
		assert_int_equal(ro_optval_parse_duration(ok[i].s, UINT64_MAX,
		    &ms, &why), RO_OK);
		assert_int_equal(ms, ok[i].ms);
		assert_string_equal(ro_optval_format_duration(ms, buf,
		    sizeof(buf)), ok[i].canon);
	}
	for (i = 0; i < RO_NELEM(bad); i++) {
		why = NULL;
		if (ro_optval_parse_duration(bad[i], UINT64_MAX, &ms, &why) ==
		    RO_OK)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		assert_int_equal(ro_optval_parse_duration(bad[i], UINT64_MAX,
		    &ms, &why), RO_EINVALID);
		assert_non_null(why);
	}
	assert_int_equal(ro_optval_parse_duration("24h", 86400000, &ms, &why),
	    RO_OK);
	assert_int_equal(ro_optval_parse_duration("24h1ms", 86400000, &ms,
	    &why), RO_EINVALID);
	assert_string_equal(ro_optval_format_duration(UINT64_MAX, buf,
	    sizeof(buf)), "5124095576030h25m51s615ms");
}

static void
test_names_and_usage(void **state)
{
	struct ro_buf	 u = RO_BUF_INIT;
	char		 env[64], flag[64], bflag[64];
	size_t		 i, j;

	(void)state;
	assert_string_equal(ro_config_opt_env(RO_CONFIG_MAX_KICKS, env,
	    sizeof(env)), "ROOMOPS_MAX_KICKS");
	assert_string_equal(ro_config_opt_env(RO_CONFIG_WEBHOOK_SECRET_FILE,
	    env, sizeof(env)), "ROOMOPS_WEBHOOK_SECRET_FILE");
	assert_string_equal(ro_config_opt_env(RO_CONFIG_CONFIG, env,
	    sizeof(env)), "ROOMOPS_CONFIG");
	assert_null(ro_config_opt_name(RO_CONFIG_NOPTS));
	assert_string_equal(ro_config_source_name(RO_CONFIG_SRC_FLAG), "flag");
	assert_int_equal(ro_config_usage(&u), RO_OK);
	for (i = 0; i < RO_CONFIG_NOPTS; i++) {
		assert_non_null(ro_config_opt_name((enum ro_config_opt)i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(ro_config_opt_name(
			    (enum ro_config_opt)i), ro_config_opt_name(
			    (enum ro_config_opt)j));
		/* "  --name ARG" or, for booleans, "  --name[=BOOL]" */
		snprintf(flag, sizeof(flag), "  --%s ",
		    ro_config_opt_name((enum ro_config_opt)i));
		snprintf(bflag, sizeof(bflag), "  --%s[=BOOL] ",
		    ro_config_opt_name((enum ro_config_opt)i));
		assert_true(strstr(ro_buf_cstr(&u), flag) != NULL ||
		    strstr(ro_buf_cstr(&u), bflag) != NULL);
	}
	assert_true(tu_contains(ro_buf_cstr(&u), "  --prune[=BOOL] "));
	assert_true(tu_contains(ro_buf_cstr(&u), "  --max-kicks N "));
	ro_buf_release(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flags_alone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_alone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_alone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flag_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shard_from_env, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_profile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_env_config, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_print_masks_secrets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_durations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names_and_usage, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
