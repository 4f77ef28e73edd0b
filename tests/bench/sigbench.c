/*
 * sigbench.c: the cost of verifying one commit signature, the agent's way
 * (ro_sigverify_commit: gpgme, or one ssh-keygen run) beside `git
 * verify-commit` of the same commit with the same keys, in the same run.
 *
 *   sigbench --repo DIR --commit SHA --mode openpgp|ssh --keys PATH
 *            --state DIR [--count N]
 *
 * The agent's keyring goes to DIR (--state) as the agent keeps it; git
 * is given the very same keys: GNUPGHOME=STATE/gnupg (same keyring, same
 * gpg.conf) or gpg.ssh.allowedSignersFile=STATE/allowed_signers. Prints
 * one line per side: "agent|git N p50_ms mean_ms" and then
 * "ratio p50 X" (agent / git). Exit 1 when a verification fails.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <git2.h>

#include "roomops/log.h"
#include "sigverify.h"

extern char **environ;

#define RUNS_MAX	10000

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *who, double *v, int n, double *p50)
{
	double	sum = 0;
	int	i;

	for (i = 0; i < n; i++)
		sum += v[i];
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	*p50 = v[n / 2];
	printf("%s %d %.3f %.3f\n", who, n, *p50, sum / n);
}

static int
git_verify(char *repo, char *commit, const char *mode, const char *state)
{
	posix_spawn_file_actions_t	 fa;
	char				 opt[4096], home[4096];
	char				*argv[12];
	char				**envp = NULL;
	size_t				 n = 0, i;
	pid_t				 pid;
	int				 st, rc;

	snprintf(opt, sizeof(opt), "gpg.ssh.allowedSignersFile=%s/"
	    "allowed_signers", state);
	snprintf(home, sizeof(home), "GNUPGHOME=%s/gnupg", state);
	argv[n++] = (char *)"git";
	argv[n++] = (char *)"-C";
	argv[n++] = repo;
	if (strcmp(mode, "ssh") == 0) {
		argv[n++] = (char *)"-c";
		argv[n++] = opt;
	}
	argv[n++] = (char *)"verify-commit";
	argv[n++] = commit;
	argv[n] = NULL;
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
		return -1;
	for (i = 0, n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "GNUPGHOME=", 10) != 0)
			envp[n++] = environ[i];
	envp[n++] = home;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "git", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	if (rc != 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct ro_sigverify_opts	 o;
	struct ro_sigverify		*v = NULL;
	struct ro_sigverify_result	 res;
	struct ro_err			 err = RO_ERR_INIT;
	git_repository			*repo = NULL;
	git_oid				 id;
	char				*dir = NULL, *sha = NULL;
	const char			*mode = NULL;
	static double			 a[RUNS_MAX], g[RUNS_MAX];
	double				 t0, pa, pg;
	int				 i, count = 20;

	memset(&o, 0, sizeof(o));
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--repo") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--commit") == 0)
			sha = argv[i + 1];
		else if (strcmp(argv[i], "--mode") == 0)
			mode = argv[i + 1];
		else if (strcmp(argv[i], "--keys") == 0)
			o.trusted_keys = argv[i + 1];
		else if (strcmp(argv[i], "--state") == 0)
			o.state_dir = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[i + 1]);
	}
	if (dir == NULL || sha == NULL || mode == NULL ||
	    o.trusted_keys == NULL || o.state_dir == NULL || count < 1 ||
	    count > RUNS_MAX || ro_sigverify_parse_mode(mode, &o.mode) < 0) {
		fprintf(stderr, "usage: sigbench --repo DIR --commit SHA --mode "
		    "openpgp|ssh --keys PATH --state DIR [--count N]\n");
		return 2;
	}
	ro_log_set_level(RO_LOG_WARN);
	git_libgit2_init();
	if (git_repository_open(&repo, dir) < 0 ||
	    git_oid_fromstr(&id, sha) < 0) {
		fprintf(stderr, "sigbench: cannot open %s or %s\n", dir, sha);
		return 1;
	}
	if (ro_sigverify_new(&v, &o, &err) < 0) {
		fprintf(stderr, "sigbench: %s\n", err.msg);
		return 1;
	}
	/* one of each first: caches warm, both sides checked to succeed */
	if (ro_sigverify_commit(v, repo, &id, &res, &err) < 0 ||
	    !res.verified) {
		fprintf(stderr, "sigbench: not verified: %s %s\n", err.msg,
		    res.reason);
		return 1;
	}
	if (git_verify(dir, sha, mode, o.state_dir) < 0) {
		fprintf(stderr, "sigbench: git verify-commit failed\n");
		return 1;
	}
	/* interleaved, so that load on the machine hits both alike */
	for (i = 0; i < count; i++) {
		t0 = now_ms();
		if (ro_sigverify_commit(v, repo, &id, &res, &err) < 0 ||
		    !res.verified)
			return 1;
		a[i] = now_ms() - t0;
		t0 = now_ms();
		if (git_verify(dir, sha, mode, o.state_dir) < 0)
			return 1;
		g[i] = now_ms() - t0;
	}
	report("agent", a, count, &pa);
	report("git", g, count, &pg);
	printf("ratio %.3f\n", pa / pg);
	printf("signer %s\n", res.signer);
	ro_sigverify_free(v);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}
