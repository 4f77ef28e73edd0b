/* test_watchgit.c: a work tree's git dir and common dir, by libgit2. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/err.h"
#include "watch.h"
#include "watchgit.h"
#include "testutil.h"

#define GIT	"git -c user.name=t -c user.email=t@example.com " \
		"-c init.defaultBranch=main -c advice.detachedHead=false"

static void
sh(const char *fmt, ...)
{
	char	cmd[4096];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void
expect_dirs(const char *root, const char *gitdir, const char *commondir)
{
	struct ro_err	 err = RO_ERR_INIT;
	char		*g = NULL, *c = NULL, rg[PATH_MAX], rc[PATH_MAX];

	assert_non_null(realpath(gitdir, rg));
	assert_non_null(realpath(commondir, rc));
	assert_int_equal(ro_watchgit_dirs(root, &g, &c, &err), RO_OK);
	assert_string_equal(g, rg);		/* canonical, no '/' at the end */
	assert_string_equal(c, rc);
	assert_true(ro_watch_is_git_worktree(root));
	free(g);
	free(c);
}

static void
expect_none(const char *root, int code)
{
	struct ro_err	 err = RO_ERR_INIT;
	char		*g = (char *)"x", *c = (char *)"x";

	assert_int_equal(ro_watchgit_dirs(root, &g, &c, &err), code);
	assert_null(g);
	assert_null(c);
	assert_true(err.msg[0] != '\0');
	assert_false(ro_watch_is_git_worktree(root));
}

static void
test_dirs(void **state)
{
	char	*dir = tu_tmpdir(), *repo = tu_path(dir, "repo");
	char	*wt = tu_path(dir, "wt"), *bare = tu_path(dir, "bare.git");
	char	*plain = tu_path(dir, "plain"), *sub = tu_path(repo, "rooms");
	char	*dotgit = tu_path(repo, ".git");
	char	*wtgit = tu_path(dotgit, "worktrees/wt");

	(void)state;
	tu_write(plain, "a.yaml", "x");
	tu_write(repo, "rooms/a.yaml", "x");
	sh(GIT " init -q '%s'", repo);
	sh(GIT " -C '%s' add -A && " GIT " -C '%s' commit -qm one", repo,
	    repo);
	sh(GIT " -C '%s' worktree add -q -b side '%s'", repo, wt);
	sh(GIT " init -q --bare '%s'", bare);

	/* an ordinary work tree: both are .git */
	expect_dirs(repo, dotgit, dotgit);
	/* a linked work tree: HEAD in .git/worktrees/wt, refs in .git */
	expect_dirs(wt, wtgit, dotgit);
	/* no search upwards, no bare repository, no plain folder */
	expect_none(sub, RO_ENOTFOUND);
	expect_none(bare, RO_ENOTFOUND);
	expect_none(plain, RO_ENOTFOUND);
	/* a broken pointer file: not a work tree */
	tu_write(plain, ".git", "gitdir: /nonexistent/x\n");
	assert_false(ro_watch_is_git_worktree(plain));

	tu_rmrf(dir);
	free(wtgit);
	free(dotgit);
	free(sub);
	free(plain);
	free(bare);
	free(wt);
	free(repo);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
