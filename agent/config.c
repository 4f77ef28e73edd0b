/*
 * config.c: the agent's configuration from flags, ROOMOPS_* environment
 * variables and a YAML config file, merged by one rule: flags >
 * environment > config file > defaults.
 *
 * Every option is one row of `opts` (tmux-style designated initialisers):
 * its name, value type, field in struct ro_config, default text and
 * limits. Each source is read into a layer of raw strings (struct
 * ro_config_layer); the layers are then parsed from the highest
 * precedence down, the first value of an option going into the config
 * and the others into a scratch struct, so every value is checked.
 *
 * Split by concern: scalar values are parsed by optval.c (shared with the
 * verbs' flags), the YAML file is read by configfile.c and the
 * configuration printed (--print-config, --help) by configprint.c; the
 * option table, the layers and the merge stay here.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/file.h"
#include "roomops/guard.h"
#include "roomops/node.h"
#include "roomops/yaml.h"
#include "config.h"
#include "config_impl.h"
#include "optval.h"

#include "../common/banned.h"

_Static_assert(RO_CONFIG_NOPTS <= 64, "changed is a 64-bit mask");

#define WHERE_MAX	1024	/* bytes of an origin in a message */

#define OFF(f)	offsetof(struct ro_config, f)

static const struct opt opts[RO_CONFIG_NOPTS] = {
	[RO_CONFIG_CONFIG] = { "config", T_STR, OFF(config_file), NULL,
	    0, 0, F_NOFILE, "FILE", "YAML config file (flag or env only)" },
	[RO_CONFIG_REPO] = { "repo", T_STR, OFF(repo), NULL,
	    0, 0, F_URL, "URL|PATH", "Git repository of the specs" },
	[RO_CONFIG_BRANCH] = { "branch", T_STR, OFF(branch), "main",
	    0, 0, 0, "NAME", "branch to follow" },
	[RO_CONFIG_PATH] = { "path", T_STR, OFF(path), "",
	    0, 0, F_EMPTY, "DIR", "spec folder inside the repo (root)" },
	[RO_CONFIG_INTERVAL] = { "interval", T_DURATION, OFF(interval_ms),
	    "10s", 0, RO_CONFIG_INTERVAL_MAX_MS, F_LIVE, "DURATION",
	    "poll period; 0 disables polling" },
	[RO_CONFIG_RESYNC] = { "resync", T_DURATION, OFF(resync_ms), "10m",
	    0, RO_CONFIG_RESYNC_MAX_MS, F_LIVE, "DURATION",
	    "full drift check; 0 disables it" },
	[RO_CONFIG_WATCH] = { "watch", T_STR, OFF(watch), NULL,
	    0, 0, 0, "DIR", "local spec folder (inotify)" },
	[RO_CONFIG_APPLY_WORKTREE] = { "apply-worktree", T_BOOL,
	    OFF(apply_worktree), "false", 0, 0, 0, "BOOL",
	    "apply uncommitted edits of --watch" },
	[RO_CONFIG_DEBOUNCE] = { "debounce", T_DURATION, OFF(debounce_ms),
	    "100ms", 0, RO_CONFIG_DEBOUNCE_MAX_MS, 0, "DURATION",
	    "per-file delay of the watched folder" },
	[RO_CONFIG_MAX_PENDING] = { "max-pending", T_UINT, OFF(max_pending),
	    "20", 1, RO_CONFIG_PENDING_MAX, 0, "N",
	    "pending commits kept; older: superseded" },
	[RO_CONFIG_SERVER] = { "server", T_STR, OFF(server), NULL,
	    0, 0, F_URL | F_HTTP, "URL", "RoomServer base URL (required)" },
	[RO_CONFIG_TOKEN_FILE] = { "token-file", T_STR, OFF(token_file), NULL,
	    0, 0, 0, "FILE", "RoomServer token (or ROOM_AUTH_TOKEN)" },
	[RO_CONFIG_CACERT] = { "cacert", T_STR, OFF(cacert), NULL,
	    0, 0, 0, "FILE", "CA bundle for the RoomServer" },
	[RO_CONFIG_LISTEN] = { "listen", T_LISTEN, OFF(listen),
	    "127.0.0.1:8080", 0, 0, 0, "ADDR:PORT", "HTTP API address" },
	[RO_CONFIG_API_TOKEN_FILE] = { "api-token-file", T_STR,
	    OFF(api_token_file), NULL, 0, 0, 0, "FILE",
	    "bearer token for mutating API calls" },
	[RO_CONFIG_WEBHOOK_SECRET_FILE] = { "webhook-secret-file", T_STR,
	    OFF(webhook_secret_file), NULL, 0, 0, 0, "FILE",
	    "secret of the push webhooks" },
	[RO_CONFIG_API_READ_TOKEN_FILE] = { "api-read-token-file", T_STR,
	    OFF(api_read_token_file), NULL, 0, 0, 0, "FILE",
	    "bearer token for /status, /audit, /events" },
	[RO_CONFIG_TLS_CERT] = { "tls-cert", T_STR, OFF(tls_cert), NULL,
	    0, 0, 0, "FILE", "PEM certificate of the API (TLS)" },
	[RO_CONFIG_TLS_KEY] = { "tls-key", T_STR, OFF(tls_key), NULL,
	    0, 0, 0, "FILE", "PEM private key of the API (TLS)" },
	[RO_CONFIG_STATE_DIR] = { "state-dir", T_STR, OFF(state_dir),
	    "./.roomops", 0, 0, 0, "DIR", "clone, cursors and audit log" },
	[RO_CONFIG_AUDIT_LOG] = { "audit-log", T_STR, OFF(audit_log), NULL,
	    0, 0, 0, "FILE", "audit JSONL (STATE_DIR/audit.jsonl)" },
	[RO_CONFIG_PUSH_NOTES] = { "push-notes", T_BOOL, OFF(push_notes),
	    "false", 0, 0, 0, "BOOL", "push refs/notes/roomops" },
	[RO_CONFIG_PRUNE] = { "prune", T_BOOL, OFF(prune), "false",
	    0, 0, 0, "BOOL", "remove what the specs no longer list" },
	[RO_CONFIG_ROLLBACK] = { "rollback", T_BOOL, OFF(rollback), "false",
	    0, 0, 0, "BOOL", "roll back a failed apply" },
	[RO_CONFIG_SHARD] = { "shard", T_SHARD, OFF(shard), "0/1",
	    0, 0, 0, "I/N", "shard of this replica" },
	[RO_CONFIG_CONCURRENCY] = { "concurrency", T_UINT, OFF(concurrency),
	    "8", 1, RO_CONFIG_CONCURRENCY_MAX, 0, "N",
	    "rooms reconciled in parallel" },
	[RO_CONFIG_MAX_KICKS] = { "max-kicks", T_UINT, OFF(max_kicks), "5",
	    0, RO_CONFIG_COUNT_MAX, F_LIVE, "N",
	    "kicks per room per cycle" },
	[RO_CONFIG_MAX_ARTIFACT_DELETES] = { "max-artifact-deletes", T_UINT,
	    OFF(max_artifact_deletes), "10", 0, RO_CONFIG_COUNT_MAX, F_LIVE,
	    "N", "artifact deletes per room per cycle" },
	[RO_CONFIG_CHANGE_THRESHOLD] = { "change-threshold", T_RATIO,
	    OFF(change_threshold), "0.5", 0, 0, F_LIVE, "R",
	    "removal ratio that needs confirmation" },
	[RO_CONFIG_REQUIRE_CONFIRM] = { "require-confirm", T_BOOL,
	    OFF(require_confirm), "true", 0, 0, F_LIVE, "BOOL",
	    "apply the confirmation rule" },
	[RO_CONFIG_PROFILE] = { "profile", T_PROFILE, OFF(profile), "default",
	    0, 0, F_LIVE, "default|test",
	    "test: no confirm, max-kicks 1000" },
	[RO_CONFIG_GIT_USERNAME] = { "git-username", T_STR, OFF(git_username),
	    NULL, 0, 0, 0, "NAME", "Git user name (http(s) and ssh)" },
	[RO_CONFIG_GIT_TOKEN_FILE] = { "git-token-file", T_STR,
	    OFF(git_token_file), NULL, 0, 0, 0, "FILE", "Git token file" },
	[RO_CONFIG_GIT_PASSWORD_FILE] = { "git-password-file", T_STR,
	    OFF(git_password_file), NULL, 0, 0, 0, "FILE",
	    "Git password file" },
	[RO_CONFIG_GIT_CACERT] = { "git-cacert", T_STR, OFF(git_cacert), NULL,
	    0, 0, 0, "FILE", "CA bundle for Git over https" },
	[RO_CONFIG_SSH_KEY] = { "ssh-key", T_STR, OFF(ssh_key), NULL,
	    0, 0, 0, "FILE", "ssh private key" },
	[RO_CONFIG_SSH_KNOWN_HOSTS] = { "ssh-known-hosts", T_STR,
	    OFF(ssh_known_hosts), NULL, 0, 0, 0, "FILE",
	    "known_hosts (~/.ssh/known_hosts)" },
	[RO_CONFIG_SSH_ALLOW_UNKNOWN] = { "ssh-allow-unknown", T_BOOL,
	    OFF(ssh_allow_unknown), "false", 0, 0, 0, "BOOL",
	    "accept unknown ssh host keys" },
	[RO_CONFIG_NOTIFY] = { "notify", T_STR, OFF(notify), NULL,
	    0, 0, F_LIST, "PROVIDER", "commit statuses: github, gitlab, "
	    "gitea or webhook (repeatable)" },
	[RO_CONFIG_NOTIFY_TOKEN_FILE] = { "notify-token-file", T_STR,
	    OFF(notify_token_file), NULL, 0, 0, F_LIST, "[P=]FILE",
	    "token (webhook: HMAC secret) file" },
	[RO_CONFIG_NOTIFY_URL] = { "notify-url", T_STR, OFF(notify_url), NULL,
	    0, 0, F_LIST, "[P=]URL", "API base URL (webhook: its URL)" },
	[RO_CONFIG_NOTIFY_REPO] = { "notify-repo", T_STR, OFF(notify_repo),
	    NULL, 0, 0, 0, "OWNER/NAME", "repository (from --repo)" },
	[RO_CONFIG_NOTIFY_TARGET_URL] = { "notify-target-url", T_STR,
	    OFF(notify_target_url), NULL, 0, 0, 0, "TEMPLATE",
	    "status link: {sha} {room} {shard}" },
	[RO_CONFIG_VERIFY_SIGNATURES] = { "verify-signatures", T_STR,
	    OFF(verify_signatures), "off", 0, 0, 0, "off|openpgp|ssh|any",
	    "apply only commits signed by a trusted key" },
	[RO_CONFIG_TRUSTED_KEYS] = { "trusted-keys", T_STR, OFF(trusted_keys),
	    NULL, 0, 0, 0, "PATH", "keyring (openpgp) or allowed signers" },
	[RO_CONFIG_ONCE] = { "once", T_BOOL, OFF(once), "false",
	    0, 0, 0, "BOOL", "process what is pending, then exit" },
	[RO_CONFIG_LOG_FORMAT] = { "log-format", T_LOGFMT, OFF(log_format),
	    "text", 0, 0, 0, "text|json", "log line format" },
	[RO_CONFIG_LOG_LEVEL] = { "log-level", T_LOGLEVEL, OFF(log_level),
	    "info", 0, 0, F_LIVE, "error|warn|info|debug", "log level" },
	[RO_CONFIG_PRINT_CONFIG] = { "print-config", T_BOOL, OFF(print_config),
	    "false", 0, 0, 0, "BOOL", "print the effective configuration" },
	[RO_CONFIG_UI_COMMIT_URL] = { "ui-commit-url", T_STR,
	    OFF(ui_commit_url), NULL, 0, 0, F_HTTP, "URL",
	    "dashboard commit link, {sha} replaced" },
};

const struct opt *const ro_config_table = opts;

const char *const ro_config_log_levels[] = {
	[RO_LOG_ERROR] = "error", [RO_LOG_WARN] = "warn",
	[RO_LOG_INFO] = "info", [RO_LOG_DEBUG] = "debug"
};
const char *const ro_config_log_formats[] = {
	[RO_LOG_TEXT] = "text", [RO_LOG_JSON] = "json"
};
const char *const ro_config_profiles[] = {
	[RO_CONFIG_PROFILE_DEFAULT] = "default",
	[RO_CONFIG_PROFILE_TEST] = "test"
};

static int
parse_name(const char *s, const char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* http://HOST... or https://HOST..., no spaces or control characters. */
static bool
http_url_ok(const char *s)
{
	const char	*p;

	if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return false;
	if (*p == '\0' || *p == '/')
		return false;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Option names and origins */

const char *
ro_config_opt_name(enum ro_config_opt opt)
{
	if ((unsigned)opt >= RO_CONFIG_NOPTS)
		return NULL;
	return opts[opt].name;
}

const char *
ro_config_opt_env(enum ro_config_opt opt, char *buf, size_t len)
{
	const char	*name = ro_config_opt_name(opt);
	size_t		 i, o;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (name == NULL)
		return buf;
	o = (size_t)snprintf(buf, len, "%s", RO_CONFIG_ENV_PREFIX);
	for (i = 0; name[i] != '\0' && o + 1 < len; i++, o++) {
		if (name[i] == '-')
			buf[o] = '_';
		else if (name[i] >= 'a' && name[i] <= 'z')
			buf[o] = (char)(name[i] - 'a' + 'A');
		else
			buf[o] = name[i];
	}
	buf[o < len ? o : len - 1] = '\0';
	return buf;
}

const char *
ro_config_source_name(enum ro_config_source src)
{
	switch (src) {
	case RO_CONFIG_SRC_DEFAULT:	return "default";
	case RO_CONFIG_SRC_FILE:	return "file";
	case RO_CONFIG_SRC_ENV:		return "env";
	case RO_CONFIG_SRC_FLAG:	return "flag";
	case RO_CONFIG_SRC_PROFILE:	return "profile";
	case RO_CONFIG_SRC_DERIVED:	return "derived";
	}
	return "unknown";
}

bool
ro_config_opt_live(enum ro_config_opt opt)
{
	return (unsigned)opt < RO_CONFIG_NOPTS &&
	    (opts[opt].flags & F_LIVE) != 0;
}

/* "--interval", "ROOMOPS_INTERVAL" or "FILE:LINE:COL: interval". */
static const char *
where(const struct ro_config_layer *l, enum ro_config_opt o, char *buf,
    size_t len)
{
	char	env[ENV_NAME_MAX];

	switch (l->src) {
	case RO_CONFIG_SRC_FLAG:
		snprintf(buf, len, "--%s", opts[o].name);
		break;
	case RO_CONFIG_SRC_ENV:
		snprintf(buf, len, "%s",
		    ro_config_opt_env(o, env, sizeof(env)));
		break;
	case RO_CONFIG_SRC_FILE:
		snprintf(buf, len, "%s:%u:%u: %s", l->file, l->line[o],
		    l->col[o], opts[o].name);
		break;
	default:
		snprintf(buf, len, "default %s", opts[o].name);
		break;
	}
	return buf;
}

/* Setting and formatting one value */

static void *
field(struct ro_config *cfg, enum ro_config_opt o)
{
	return (char *)cfg + opts[o].off;
}

const void *
ro_config_cfield(const struct ro_config *cfg, enum ro_config_opt o)
{
	return (const char *)cfg + opts[o].off;
}

static int
set_value(struct ro_config *cfg, enum ro_config_opt o, const char *raw,
    const char *at, struct ro_err *err)
{
	const struct opt *op = &opts[o];
	char		 q[RO_NODE_QUOTE_SIZE];
	char		*s = NULL, *host = NULL;
	struct ro_shard	 shard;
	struct ro_err	 e = RO_ERR_INIT;
	uint64_t	 u;
	unsigned	 port;
	size_t		 len;
	double		 d;
	bool		 b;
	int		 k, error;

	if ((len = strnlen(raw, RO_CONFIG_VALUE_MAX + 1)) >
	    RO_CONFIG_VALUE_MAX)
		return ro_err_set(err, RO_ETOOBIG, "%s: value longer than %d "
		    "bytes", at, RO_CONFIG_VALUE_MAX);
	ro_node_quote(q, raw, len);
	switch (op->type) {
	case T_STR:
		if (len == 0 && !(op->flags & F_EMPTY))
			return ro_err_set(err, RO_EINVALID, "%s: empty value",
			    at);
		if ((op->flags & F_HTTP) && !http_url_ok(raw))
			return ro_err_set(err, RO_EINVALID, "%s: invalid URL "
			    "%s (expected http://HOST[:PORT] or https://...)",
			    at, q);
		if ((s = strdup(raw)) == NULL)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		free(*(char **)field(cfg, o));
		*(char **)field(cfg, o) = s;
		break;
	case T_DURATION:
		if ((error = ro_optval_duration(at, raw, op->max, &u, err)) < 0)
			return error;
		*(uint64_t *)field(cfg, o) = u;
		break;
	case T_BOOL:
		if ((error = ro_optval_bool(at, raw, &b, err)) < 0)
			return error;
		*(bool *)field(cfg, o) = b;
		break;
	case T_UINT:
		if ((error = ro_optval_uint(at, raw, op->min, op->max, &u,
		    err)) < 0)
			return error;
		*(unsigned *)field(cfg, o) = (unsigned)u;
		break;
	case T_RATIO:
		if ((error = ro_optval_ratio(at, raw, &d, err)) < 0)
			return error;
		*(double *)field(cfg, o) = d;
		break;
	case T_LOGFMT:
		if ((k = parse_name(raw, ro_config_log_formats,
		    RO_NELEM(ro_config_log_formats))) < 0)
			return ro_err_set(err, RO_EINVALID, "%s: invalid value "
			    "%s (expected text or json)", at, q);
		*(enum ro_log_format *)field(cfg, o) = (enum ro_log_format)k;
		break;
	case T_LOGLEVEL:
		if ((k = parse_name(raw, ro_config_log_levels,
		    RO_NELEM(ro_config_log_levels))) < 0)
			return ro_err_set(err, RO_EINVALID, "%s: invalid value "
			    "%s (expected error, warn, info or debug)", at, q);
		*(enum ro_log_level *)field(cfg, o) = (enum ro_log_level)k;
		break;
	case T_PROFILE:
		if ((k = parse_name(raw, ro_config_profiles,
		    RO_NELEM(ro_config_profiles))) < 0)
			return ro_err_set(err, RO_EINVALID, "%s: invalid value "
			    "%s (expected default or test)", at, q);
		*(enum ro_config_profile *)field(cfg, o) =
		    (enum ro_config_profile)k;
		break;
	case T_SHARD:
		if (ro_shard_parse(&shard, raw, &e) < 0)
			return ro_err_set(err, e.code, "%s: %s", at, e.msg);
		*(struct ro_shard *)field(cfg, o) = shard;
		break;
	case T_LISTEN:
		if ((error = ro_optval_listen(at, raw, &host, &port, err)) < 0)
			return error;
		if ((s = strdup(raw)) == NULL) {
			free(host);
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		}
		free(cfg->listen);
		free(cfg->listen_host);
		cfg->listen = s;
		cfg->listen_host = host;
		cfg->listen_port = port;
		break;
	}
	return RO_OK;
}

/* Layers */

/* Merging */

static void
config_release(struct ro_config *cfg)
{
	size_t	i;

	for (i = 0; i < RO_CONFIG_NOPTS; i++)
		if (opts[i].type == T_STR || opts[i].type == T_LISTEN) {
			free(*(char **)field(cfg, (enum ro_config_opt)i));
			*(char **)field(cfg, (enum ro_config_opt)i) = NULL;
		}
	free(cfg->listen_host);
	cfg->listen_host = NULL;
	ro_config_layer_free(cfg->flags);
	cfg->flags = NULL;
}

void
ro_config_free(struct ro_config *cfg)
{
	if (cfg == NULL)
		return;
	config_release(cfg);
	free(cfg);
}

/* ROOMOPS_SHARDS and the host name, when --shard is not given. */
static int
shard_from_env(struct ro_config *cfg, bool *used, struct ro_err *err)
{
	char		 host[RO_SHARD_HOST_MAX + 2];
	const char	*n = getenv(RO_SHARD_ENV);

	*used = false;
	if (n == NULL || n[0] == '\0')
		return RO_OK;
	if (gethostname(host, sizeof(host)) < 0)
		return ro_err_errno(err, RO_ERROR, "%s is set but the host "
		    "name is unknown; use --shard I/N", RO_SHARD_ENV);
	host[sizeof(host) - 1] = '\0';
	*used = true;
	return ro_shard_from_env(&cfg->shard, host, n, err);
}

/*
 * Build a config from the flag layer (taken over, freed on error) plus
 * the environment and the config file as they are now.
 */
static int
build(struct ro_config **out, struct ro_config_layer *flags,
    struct ro_err *err)
{
	struct ro_config	*cfg = NULL, scratch;
	struct ro_config_layer	 env, file;
	struct ro_config_layer	*layers[3];
	struct ro_buf		 path = RO_BUF_INIT;
	char			 at[WHERE_MAX];
	const char		*cpath;
	bool			 set[RO_CONFIG_NOPTS] = { false };
	bool			 used;
	size_t			 li, o;
	int			 error;

	memset(&scratch, 0, sizeof(scratch));
	memset(&env, 0, sizeof(env));
	memset(&file, 0, sizeof(file));
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	cfg->flags = flags;
	flags = NULL;			/* cfg owns it now */

	if ((error = ro_config_layer_from_env(&env, err)) < 0)
		goto done;
	if ((cpath = cfg->flags->val[RO_CONFIG_CONFIG]) != NULL) {
		if (cpath[0] == '\0') {
			error = ro_err_set(err, RO_EINVALID, "--config: empty "
			    "value");
			goto done;
		}
		if ((error = ro_config_layer_from_file(&file, cpath, "--config",
		    err)) < 0)
			goto done;
	} else if ((cpath = env.val[RO_CONFIG_CONFIG]) != NULL) {
		if ((error = ro_config_layer_from_file(&file, cpath,
		    "ROOMOPS_CONFIG",
		    err)) < 0)
			goto done;
	}

	/* highest precedence first: the first value wins, all are checked */
	layers[0] = cfg->flags;
	layers[1] = &env;
	layers[2] = &file;
	for (li = 0; li < RO_NELEM(layers); li++) {
		for (o = 0; o < RO_CONFIG_NOPTS; o++) {
			if (layers[li]->val[o] == NULL)
				continue;
			where(layers[li], (enum ro_config_opt)o, at,
			    sizeof(at));
			if ((error = set_value(set[o] ? &scratch : cfg,
			    (enum ro_config_opt)o, layers[li]->val[o], at,
			    err)) < 0)
				goto done;
			if (set[o])
				continue;
			set[o] = true;
			cfg->source[o] = layers[li]->src;
			cfg->line[o] = layers[li]->line[o];
		}
	}

	if (!set[RO_CONFIG_SHARD]) {
		if ((error = shard_from_env(cfg, &used, err)) < 0)
			goto done;
		if (used) {
			set[RO_CONFIG_SHARD] = true;
			cfg->source[RO_CONFIG_SHARD] = RO_CONFIG_SRC_DERIVED;
		}
	}
	for (o = 0; o < RO_CONFIG_NOPTS; o++) {
		if (set[o] || opts[o].def == NULL)
			continue;
		snprintf(at, sizeof(at), "default %s", opts[o].name);
		if ((error = set_value(cfg, (enum ro_config_opt)o, opts[o].def,
		    at, err)) < 0)
			goto done;
		cfg->source[o] = RO_CONFIG_SRC_DEFAULT;
	}

	if (cfg->profile == RO_CONFIG_PROFILE_TEST) {
		if (!set[RO_CONFIG_REQUIRE_CONFIRM]) {
			cfg->require_confirm = false;
			cfg->source[RO_CONFIG_REQUIRE_CONFIRM] =
			    RO_CONFIG_SRC_PROFILE;
		}
		if (!set[RO_CONFIG_MAX_KICKS]) {
			cfg->max_kicks = RO_CONFIG_TEST_MAX_KICKS;
			cfg->source[RO_CONFIG_MAX_KICKS] =
			    RO_CONFIG_SRC_PROFILE;
		}
	}
	if (!set[RO_CONFIG_AUDIT_LOG]) {
		ro_buf_init(&path, RO_CONFIG_VALUE_MAX + 64);
		if ((error = ro_buf_addstr(&path, cfg->state_dir)) < 0)
			goto nomem;
		while (path.len > 1 && path.ptr[path.len - 1] == '/')
			path.ptr[--path.len] = '\0';
		if ((path.len != 1 || path.ptr[0] != '/') &&
		    (error = ro_buf_addch(&path, '/')) < 0)
			goto nomem;
		if ((error = ro_buf_addstr(&path, "audit.jsonl")) < 0)
			goto nomem;
		cfg->audit_log = ro_buf_detach(&path, NULL);
		cfg->source[RO_CONFIG_AUDIT_LOG] = RO_CONFIG_SRC_DERIVED;
	}
	cfg->help = cfg->flags->help;
	cfg->token_env = getenv(RO_CONFIG_TOKEN_ENV) != NULL &&
	    getenv(RO_CONFIG_TOKEN_ENV)[0] != '\0';

	/* checks across options; help and print-config need no server */
	if (cfg->server == NULL && !cfg->help && !cfg->print_config) {
		error = ro_err_set(err, RO_EINVALID, "no RoomServer: set "
		    "--server URL, ROOMOPS_SERVER or server: in the config "
		    "file");
		goto done;
	}
	if (cfg->git_token_file != NULL && cfg->git_password_file != NULL) {
		error = ro_err_set(err, RO_EINVALID, "git-token-file and "
		    "git-password-file are both set (%s, %s); set one",
		    ro_config_source_name(cfg->source[RO_CONFIG_GIT_TOKEN_FILE]),
		    ro_config_source_name(
		    cfg->source[RO_CONFIG_GIT_PASSWORD_FILE]));
		goto done;
	}
	if (strcmp(cfg->verify_signatures, "off") != 0 &&
	    strcmp(cfg->verify_signatures, "openpgp") != 0 &&
	    strcmp(cfg->verify_signatures, "ssh") != 0 &&
	    strcmp(cfg->verify_signatures, "any") != 0) {
		error = ro_err_set(err, RO_EINVALID, "verify-signatures (%s): "
		    "\"%s\" is not off, openpgp, ssh or any",
		    ro_config_source_name(
		    cfg->source[RO_CONFIG_VERIFY_SIGNATURES]),
		    cfg->verify_signatures);
		goto done;
	}
	if (strcmp(cfg->verify_signatures, "off") != 0 &&
	    cfg->trusted_keys == NULL && !cfg->help) {
		error = ro_err_set(err, RO_EINVALID, "verify-signatures %s "
		    "needs trusted-keys (a keyring file or folder, or an "
		    "allowed-signers file)", cfg->verify_signatures);
		goto done;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		error = ro_err_set(err, RO_EINVALID, "tls-cert and tls-key go "
		    "together: set both or neither");
		goto done;
	}
	*out = cfg;
	cfg = NULL;
	error = RO_OK;
	goto done;
nomem:
	ro_err_set(err, error, "out of memory");
done:
	ro_buf_release(&path);
	config_release(&scratch);
	ro_config_layer_release(&env);
	ro_config_layer_release(&file);
	ro_config_layer_free(flags);
	ro_config_free(cfg);
	return error;
}

int
ro_config_load(struct ro_config **out, int argc, char *argv[],
    struct ro_err *err)
{
	struct ro_config_layer	*flags;
	int			 error;

	if ((flags = calloc(1, sizeof(*flags))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	if ((error = ro_config_layer_from_argv(flags, argc, argv, err)) < 0) {
		ro_config_layer_free(flags);
		return error;
	}
	return build(out, flags, err);
}

int
ro_config_reload(const struct ro_config *old, struct ro_config **out,
    struct ro_err *err)
{
	struct ro_config_layer	*flags = NULL;
	struct ro_config	*cfg = NULL;
	struct ro_buf		 a = RO_BUF_INIT, b = RO_BUF_INIT;
	size_t			 o;
	int			 error;

	RO_ASSERT(old != NULL && old->flags != NULL);
	if ((error = ro_config_layer_copy(&flags, old->flags, err)) < 0)
		return error;
	if ((error = build(&cfg, flags, err)) < 0)
		return error;
	ro_buf_init(&a, 2 * RO_CONFIG_VALUE_MAX + 64);
	ro_buf_init(&b, 2 * RO_CONFIG_VALUE_MAX + 64);
	for (o = 0; o < RO_CONFIG_NOPTS; o++) {
		ro_buf_reset(&a);
		ro_buf_reset(&b);
		if ((error = ro_config_format_value(old, (enum ro_config_opt)o,
		    false,
		    &a)) < 0 || (error = ro_config_format_value(cfg,
		    (enum ro_config_opt)o, false, &b)) < 0) {
			ro_err_set(err, error, "out of memory");
			goto done;
		}
		if (strcmp(ro_buf_cstr(&a), ro_buf_cstr(&b)) != 0)
			cfg->changed |= UINT64_C(1) << o;
	}
	*out = cfg;
	cfg = NULL;
	error = RO_OK;
done:
	ro_buf_release(&a);
	ro_buf_release(&b);
	ro_config_free(cfg);
	return error;
}

bool
ro_config_changed(const struct ro_config *cfg, enum ro_config_opt opt)
{
	return (unsigned)opt < RO_CONFIG_NOPTS &&
	    (cfg->changed & (UINT64_C(1) << opt)) != 0;
}

int
ro_config_changes(const struct ro_config *cfg, bool live, struct ro_buf *out)
{
	size_t	o;
	int	n = 0, error;

	for (o = 0; o < RO_CONFIG_NOPTS; o++) {
		if (!ro_config_changed(cfg, (enum ro_config_opt)o) ||
		    ro_config_opt_live((enum ro_config_opt)o) != live)
			continue;
		if ((error = ro_buf_printf(out, "%s%s", n > 0 ? ", " : "",
		    opts[o].name)) < 0)
			return error;
		n++;
	}
	return n;
}

void
ro_config_guard_opts(const struct ro_config *cfg, struct ro_guard_opts *out)
{
	out->threshold = cfg->change_threshold;
	out->max_kicks = cfg->max_kicks;
	out->max_deletes = cfg->max_artifact_deletes;
	out->require_confirm = cfg->require_confirm;
	out->confirmed = false;
}
