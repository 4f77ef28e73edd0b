/*
 * config.h: the configuration of `roomops agent`, from command-line flags,
 * ROOMOPS_* environment variables and a YAML config file (--config FILE).
 *
 * One precedence rule, per option: flags > environment > config file >
 * defaults. Every source is parsed and checked in full, even where a
 * higher one overrides it, so a typo in the file is never hidden by a
 * flag. docs/configuration.md lists every option.
 *
 * Names: each option has one long name ("max-kicks"); the flag is
 * --max-kicks, the environment variable ROOMOPS_MAX_KICKS (upper case,
 * '-' -> '_'), the file key max-kicks. An empty environment variable
 * counts as unset; so does a null value (~) in the file.
 *
 * Values: durations are "0" or <digits><unit> parts with units h, m, s,
 * ms, largest first ("100ms", "10s", "1h30m"), stored in milliseconds;
 * booleans are true or false (a bare --flag means true); integers are
 * plain decimals within a range; ratios are decimals 0..1.
 *
 * Errors name where the bad value came from, e.g.
 *   --interval: invalid duration "10x": unknown unit "x"
 *   ROOMOPS_INTERVAL: invalid duration "10": missing unit (ms, s, m or h)
 *   /etc/roomops/config.yaml:4:11: interval: invalid duration "-1s": ...
 *
 * Secrets are never read here: the struct holds the paths of secret files
 * and whether ROOM_AUTH_TOKEN is set; the daemon reads the contents
 * (ro_cli_secret()).
 *
 * Thread rules: ro_config_load() uses getopt_long() and getenv(); call it
 * from the main thread before other threads start. ro_config_reload()
 * reads the environment and the file (no getopt); call it from the loop
 * thread. A loaded struct ro_config is immutable and may be read from
 * any thread.
 */
#ifndef RO_CONFIG_H
#define RO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "roomops/buf.h"
#include "roomops/err.h"
#include "roomops/log.h"
#include "roomops/shard.h"

#define RO_CONFIG_FILE_MAX	(64u << 10)	/* bytes of a config file */
#define RO_CONFIG_VALUE_MAX	4096	/* bytes of one option value */
#define RO_CONFIG_ENV_PREFIX	"ROOMOPS_"
#define RO_CONFIG_TOKEN_ENV	"ROOM_AUTH_TOKEN"	/* RoomServer token */

/* Every option, in the order of --help and --print-config. */
enum ro_config_opt {
	RO_CONFIG_CONFIG,		/* --config: flag and env only */
	RO_CONFIG_REPO,
	RO_CONFIG_BRANCH,
	RO_CONFIG_PATH,
	RO_CONFIG_INTERVAL,
	RO_CONFIG_RESYNC,
	RO_CONFIG_WATCH,
	RO_CONFIG_APPLY_WORKTREE,
	RO_CONFIG_DEBOUNCE,
	RO_CONFIG_MAX_PENDING,
	RO_CONFIG_SERVER,
	RO_CONFIG_TOKEN_FILE,
	RO_CONFIG_CACERT,
	RO_CONFIG_LISTEN,
	RO_CONFIG_API_TOKEN_FILE,
	RO_CONFIG_WEBHOOK_SECRET_FILE,
	RO_CONFIG_API_READ_TOKEN_FILE,
	RO_CONFIG_TLS_CERT,
	RO_CONFIG_TLS_KEY,
	RO_CONFIG_STATE_DIR,
	RO_CONFIG_AUDIT_LOG,
	RO_CONFIG_PUSH_NOTES,
	RO_CONFIG_PRUNE,
	RO_CONFIG_ROLLBACK,
	RO_CONFIG_SHARD,
	RO_CONFIG_CONCURRENCY,
	RO_CONFIG_MAX_KICKS,
	RO_CONFIG_MAX_ARTIFACT_DELETES,
	RO_CONFIG_CHANGE_THRESHOLD,
	RO_CONFIG_REQUIRE_CONFIRM,
	RO_CONFIG_PROFILE,
	RO_CONFIG_GIT_USERNAME,
	RO_CONFIG_GIT_TOKEN_FILE,
	RO_CONFIG_GIT_PASSWORD_FILE,
	RO_CONFIG_GIT_CACERT,
	RO_CONFIG_SSH_KEY,
	RO_CONFIG_SSH_KNOWN_HOSTS,
	RO_CONFIG_SSH_ALLOW_UNKNOWN,
	RO_CONFIG_NOTIFY,
	RO_CONFIG_NOTIFY_TOKEN_FILE,
	RO_CONFIG_NOTIFY_URL,
	RO_CONFIG_NOTIFY_REPO,
	RO_CONFIG_NOTIFY_TARGET_URL,
	RO_CONFIG_VERIFY_SIGNATURES,
	RO_CONFIG_TRUSTED_KEYS,
	RO_CONFIG_ONCE,
	RO_CONFIG_LOG_FORMAT,
	RO_CONFIG_LOG_LEVEL,
	RO_CONFIG_PRINT_CONFIG,
	RO_CONFIG_UI_COMMIT_URL,
	RO_CONFIG_NOPTS
};

/* Where an option's effective value came from. */
enum ro_config_source {
	RO_CONFIG_SRC_DEFAULT = 0,
	RO_CONFIG_SRC_FILE,
	RO_CONFIG_SRC_ENV,
	RO_CONFIG_SRC_FLAG,
	RO_CONFIG_SRC_PROFILE,	/* set by --profile test */
	RO_CONFIG_SRC_DERIVED	/* audit-log from state-dir; shard from
				   ROOMOPS_SHARDS and the host name */
};

enum ro_config_profile {
	RO_CONFIG_PROFILE_DEFAULT = 0,
	RO_CONFIG_PROFILE_TEST	/* require-confirm false, max-kicks 1000 */
};

/* Limits of the options (inclusive). */
#define RO_CONFIG_INTERVAL_MAX_MS	(24ull * 3600 * 1000)	/* 24h */
#define RO_CONFIG_RESYNC_MAX_MS		(7ull * 24 * 3600 * 1000) /* 168h */
#define RO_CONFIG_DEBOUNCE_MAX_MS	(60ull * 1000)		/* 1m */
#define RO_CONFIG_COUNT_MAX		1000000	/* max-kicks, -deletes */
#define RO_CONFIG_CONCURRENCY_MAX	256
#define RO_CONFIG_PENDING_MAX		10000
#define RO_CONFIG_TEST_MAX_KICKS	1000	/* --profile test */

struct ro_config_layer;		/* opaque: raw values of one source */

/*
 * The effective configuration. Strings are owned (freed by
 * ro_config_free()); NULL means unset where noted. Durations are in
 * milliseconds.
 */
struct ro_config {
	/* spec sources: both, one, or neither (API-only: POST /apply) */
	char		*repo;		/* --repo: Git URL or path; NULL none */
	char		*branch;	/* --branch: never NULL ("main") */
	char		*path;		/* --path: spec folder in the repo;
					   never NULL, "" = the root */
	uint64_t	 interval_ms;	/* --interval: poll period, ms;
					   0 = polling off (default 10000) */
	uint64_t	 resync_ms;	/* --resync: full drift check, ms;
					   0 = off (default 600000) */
	char		*watch;		/* --watch: local spec folder
					   (inotify); NULL none */
	bool		 apply_worktree; /* --apply-worktree: apply
					   uncommitted edits of a watched
					   work tree (default false) */
	uint64_t	 debounce_ms;	/* --debounce: per-file inotify
					   debounce, ms (default 100) */
	unsigned	 max_pending;	/* --max-pending: K; more pending
					   commits are "superseded" (20) */

	/* RoomServer */
	char		*server;	/* --server: http(s) URL; NULL only
					   with print_config or help */
	char		*token_file;	/* --token-file: bearer token file;
					   NULL: use ROOM_AUTH_TOKEN */
	bool		 token_env;	/* ROOM_AUTH_TOKEN was set (and not
					   empty) when loaded */
	char		*cacert;	/* --cacert: PEM CA bundle; NULL:
					   system CAs */

	/* HTTP API */
	char		*listen;	/* --listen: "ADDR:PORT" as given */
	char		*listen_host;	/* its ADDR, IPv6 without brackets */
	unsigned	 listen_port;	/* its PORT, 0..65535 (0: any free) */
	char		*api_token_file;	/* --api-token-file; NULL: the
					   mutating endpoints are open */
	char		*webhook_secret_file;	/* --webhook-secret-file; NULL:
					   webhooks are refused */
	char		*ui_commit_url;	/* --ui-commit-url: the dashboard's
					   commit link, "{sha}" replaced;
					   NULL: no links */
	char		*api_read_token_file;	/* --api-read-token-file; NULL:
					   /status, /audit, /events open */
	char		*tls_cert;	/* --tls-cert: PEM certificate (chain)
					   of the API; NULL: plain HTTP */
	char		*tls_key;	/* --tls-key: its PEM private key;
					   set with tls_cert or not at all */

	/* state and audit */
	char		*state_dir;	/* --state-dir: never NULL
					   ("./.roomops"); writability is
					   the daemon's check */
	char		*audit_log;	/* --audit-log: never NULL; default
					   "<state_dir>/audit.jsonl" */
	bool		 push_notes;	/* --push-notes: push
					   refs/notes/roomops (false) */

	/* reconcile */
	bool		 prune;		/* --prune (false) */
	bool		 rollback;	/* --rollback (false) */
	struct ro_shard	 shard;		/* --shard I/N, else from the host
					   name and ROOMOPS_SHARDS, else 0/1 */
	unsigned	 concurrency;	/* --concurrency: rooms reconciled
					   in parallel, 1..256 (8) */

	/* guardrails (see ro_config_guard_opts()) */
	unsigned	 max_kicks;	/* --max-kicks: per room per cycle (5;
					   1000 with --profile test) */
	unsigned	 max_artifact_deletes;	/* per room per cycle (10) */
	double		 change_threshold;	/* removal ratio 0..1 (0.5) */
	bool		 require_confirm;	/* (true; false with --profile
					   test) */
	enum ro_config_profile profile;	/* --profile default|test */

	/* Git transport (see struct ro_gitrepo_opts) */
	char		*git_username;		/* NULL: the URL's or "git" */
	char		*git_token_file;	/* http(s) token file */
	char		*git_password_file;	/* http(s) password file; not
					   with git_token_file */
	char		*git_cacert;		/* PEM CA bundle for Git */
	char		*ssh_key;		/* private key file */
	char		*ssh_known_hosts;	/* NULL: ~/.ssh/known_hosts */
	bool		 ssh_allow_unknown;	/* accept new host keys */

	/* commit statuses (docs/notify.md; agent/notify.h parses them) */
	char		*notify;	/* --notify (repeatable): providers,
					   comma-separated; NULL none */
	char		*notify_token_file;	/* [PROVIDER=]FILE, ... */
	char		*notify_url;	/* [PROVIDER=]URL, ...: API base or
					   the webhook's URL */
	char		*notify_repo;	/* OWNER/NAME or GitLab project id;
					   NULL: from the remote URL */
	char		*notify_target_url;	/* template: {sha} {room}
					   {shard}; NULL none */
	/* signed commits (sigverify.h) */
	char		*verify_signatures;	/* --verify-signatures: never
					   NULL; off|openpgp|ssh|any */
	char		*trusted_keys;	/* --trusted-keys: keyring file or
					   folder (openpgp), allowed-signers
					   file (ssh); NULL: none */

	/* process */
	bool		 once;		/* --once: process what is pending,
					   then exit */
	enum ro_log_format log_format;	/* --log-format text|json */
	enum ro_log_level log_level;	/* --log-level error|warn|info|
					   debug (info) */
	bool		 print_config;	/* --print-config: print, exit 0 */
	bool		 help;		/* -h/--help given; nothing else was
					   validated */
	char		*config_file;	/* the file read, or NULL */

	/* bookkeeping */
	enum ro_config_source source[RO_CONFIG_NOPTS];
	unsigned	 line[RO_CONFIG_NOPTS];	/* file line of a file value */
	uint64_t	 changed;	/* ro_config_reload(): bit (1 << opt)
					   for each option whose effective
					   value differs from the old one */
	struct ro_config_layer *flags;	/* the argv values, kept so a
					   reload keeps them on top */
};

/*
 * Parse argv (argv[0] is the verb, options follow; no operands), the
 * environment and the config file named by --config or ROOMOPS_CONFIG,
 * then merge them. With -h/--help, (*out)->help is set and required
 * options are not checked.
 *
 * @param[out] out  new config on success (ro_config_free()); untouched on
 *                  error
 * @param err       one line naming the source of the bad value
 * @return RO_OK, RO_EINVALID (bad option, value or file content),
 *         RO_ENOTFOUND (no such config file), RO_ETOOBIG (file over
 *         RO_CONFIG_FILE_MAX), RO_EIO, RO_ENOMEM
 */
int	ro_config_load(struct ro_config **out, int argc, char *argv[],
	    struct ro_err *err);

/*
 * SIGHUP: build a new config from old's flags plus the environment and
 * config file as they are now (the file named by old's --config flag, or
 * by ROOMOPS_CONFIG now). (*out)->changed has a bit per option whose
 * value differs from old; see ro_config_changed() and
 * ro_config_opt_live(). On error old stays in force.
 *
 * @return as ro_config_load()
 */
int	ro_config_reload(const struct ro_config *old, struct ro_config **out,
	    struct ro_err *err);

/* NULL is a no-op. */
void	ro_config_free(struct ro_config *cfg);

/* Did opt change in the reload that produced cfg? */
bool	ro_config_changed(const struct ro_config *cfg, enum ro_config_opt opt);

/*
 * Can a change of opt be applied by a running daemon? True for the
 * intervals (interval, resync, debounce, max-pending), the guardrails
 * (max-kicks, max-artifact-deletes, change-threshold, require-confirm,
 * profile), prune, rollback, push-notes, apply-worktree and log-level.
 * Every other option (listen, state-dir, repo, ...) needs a restart.
 */
bool	ro_config_opt_live(enum ro_config_opt opt);

/*
 * Append the names of the changed options of cfg that are live (live =
 * true) or need a restart (live = false) to out, comma-separated.
 * @return the number of names appended, or RO_ENOMEM / RO_ETOOBIG
 */
int	ro_config_changes(const struct ro_config *cfg, bool live,
	    struct ro_buf *out);

/* Long name of opt ("max-kicks"); NULL when out of range. */
const char *ro_config_opt_name(enum ro_config_opt opt);

/* Environment variable of opt ("ROOMOPS_MAX_KICKS") into buf. */
const char *ro_config_opt_env(enum ro_config_opt opt, char *buf, size_t len);

/* "default", "file", "env", "flag", "profile", "derived". */
const char *ro_config_source_name(enum ro_config_source src);

/*
 * The effective values as YAML, one "name: value  # source" line per
 * option, that ro_config_load() accepts back as a config file. Secret
 * files are shown by path only; passwords in URLs become "***";
 * ROOM_AUTH_TOKEN is shown as "(set)" or "(unset)" in a comment.
 * @return RO_OK, RO_ENOMEM, RO_ETOOBIG (out's limit)
 */
int	ro_config_print(const struct ro_config *cfg, struct ro_buf *out);

/* The option list of `roomops agent --help`. */
int	ro_config_usage(struct ro_buf *out);

/* The guardrail options of cfg (confirmed is false). */
struct ro_guard_opts;
void	ro_config_guard_opts(const struct ro_config *cfg,
	    struct ro_guard_opts *out);

#endif
