/*
 * test_git_history.c: what the reconcile loop reads from Git: ranges of
 * first-parent commits (30 pushed at once, merges, bounds), history
 * rewrites after a force push, changed paths under the spec folder,
 * blob reads with their refusals, the seed reader, spec listing, confirm
 * trailers; and the clone's life: warm reopen, damaged clone, other URL,
 * branch change, leftovers of an interrupted clone.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitrepo.h"
#include "gitserv.h"
#include "history.h"
#include "roomops/model.h"
#include "testutil.h"

struct fx {
	struct gs_repo		 r;
	struct ro_gitrepo	*g;
	struct ro_gitrepo_opts	 o;
	char			*dir;
};

static void
fx_open(struct fx *f)
{
	struct ro_err	err = RO_ERR_INIT;

	if (ro_gitrepo_open(&f->g, &f->o, &err) != RO_OK)
		fail_msg("open: %s", err.msg);
}

static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	gs_repo_init(&f->r, "main");
	gs_commit_file(&f->r, "specs/a.yaml", "a: 1\n", "initial");
	gs_push(&f->r, false);
	f->dir = tu_path(f->r.root, "state/repo.git");
	f->o = (struct ro_gitrepo_opts)RO_GITREPO_OPTS_INIT;
	f->o.url = f->r.origin;
	f->o.dir = f->dir;
	fx_open(f);
}

static void
fx_free(struct fx *f)
{
	ro_gitrepo_free(f->g);
	free(f->dir);
	gs_repo_free(&f->r);
}

static git_oid
oid_of(const char *hex)
{
	git_oid	id;

	assert_int_equal(git_oid_fromstr(&id, hex), 0);
	return id;
}

static git_oid
fetch_head(struct fx *f)
{
	struct ro_err	err = RO_ERR_INIT;
	git_oid		head;

	if (ro_gitrepo_fetch(f->g, RO_GITREPO_FETCH_BRANCH, NULL, &err) !=
	    RO_OK)
		fail_msg("fetch: %s", err.msg);
	assert_int_equal(ro_gitrepo_head(f->g, &head, &err), RO_OK);
	return head;
}

static void
test_thirty_commits_in_order(void **state)
{
	struct fx		 f;
	struct ro_history	 h = RO_HISTORY_INIT;
	struct ro_err		 err = RO_ERR_INIT;
	git_oid			 old, head, want;
	char			*list, *p, name[32], body[32];
	size_t			 i;

	(void)state;
	fx_init(&f);
	assert_int_equal(ro_gitrepo_head(f.g, &old, &err), RO_OK);
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "specs/r%02zu.yaml", i);
		snprintf(body, sizeof(body), "n: %zu\n", i);
		gs_commit_file(&f.r, name, body, name);
	}
	gs_push(&f.r, false);
	head = fetch_head(&f);
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), &old, &head, 0,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 30);
	assert_int_equal(h.total, 30);
	assert_false(h.truncated);
	list = gs_sh_out("git -C '%s' rev-list --first-parent --reverse "
	    "%.40s..HEAD", f.r.work, git_oid_tostr_s(&old));
	for (i = 0, p = list; i < 30; i++, p += 41) {
		want = oid_of(p);
		assert_true(git_oid_equal(&h.ids[i], &want));
	}
	free(list);
	ro_history_release(&h);

	/* Bounded: the newest 20 are kept, the count tells the rest. */
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), &old, &head, 20,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 20);
	assert_int_equal(h.total, 30);
	assert_true(h.truncated);
	assert_true(git_oid_equal(&h.ids[19], &head));
	want = oid_of(gs_rev(&f.r, "HEAD~19"));
	assert_true(git_oid_equal(&h.ids[0], &want));
	ro_history_release(&h);

	/* Nothing new, or going backwards: empty. */
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), &head, &head, 0,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 0);
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), &head, &old, 0,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 0);
	/* No start: the whole first-parent line (31 commits). */
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), NULL, &head, 0,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 31);
	ro_history_release(&h);
	fx_free(&f);
}

static void
test_merge_is_one_first_parent_commit(void **state)
{
	struct fx			 f;
	struct ro_history		 h = RO_HISTORY_INIT;
	struct ro_history_changes	 ch = RO_HISTORY_CHANGES_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	git_oid				 old, head;

	(void)state;
	fx_init(&f);
	assert_int_equal(ro_gitrepo_head(f.g, &old, &err), RO_OK);
	assert_int_equal(gs_sh("cd '%s' && git checkout -q -b topic",
	    f.r.work), 0);
	gs_commit_file(&f.r, "specs/t1.yaml", "t: 1\n", "topic 1");
	gs_commit_file(&f.r, "specs/t2.yaml", "t: 2\n", "topic 2");
	assert_int_equal(gs_sh("cd '%s' && git checkout -q main && "
	    "git merge -q --no-ff -m 'merge topic' topic", f.r.work), 0);
	gs_push(&f.r, false);
	head = fetch_head(&f);
	assert_int_equal(ro_history_range(ro_gitrepo_git(f.g), &old, &head, 0,
	    &h, &err), RO_OK);
	assert_int_equal(h.n, 1);
	assert_true(git_oid_equal(&h.ids[0], &head));
	ro_history_release(&h);
	/* Against its first parent, the merge brings both files. */
	assert_int_equal(ro_history_changes(ro_gitrepo_git(f.g), &head,
	    "specs", &ch, &err), RO_OK);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.v[0].path, "specs/t1.yaml");
	assert_string_equal(ch.v[1].path, "specs/t2.yaml");
	assert_int_equal(ch.v[0].status, RO_HISTORY_ADDED);
	ro_history_changes_release(&ch);
	fx_free(&f);
}

static void
test_force_push_is_a_rewrite(void **state)
{
	struct fx		 f;
	struct ro_err		 err = RO_ERR_INIT;
	git_oid			 c1, c2, c2b, unknown;
	bool			 rw;

	(void)state;
	fx_init(&f);
	gs_commit_file(&f.r, "specs/a.yaml", "a: 2\n", "two");
	gs_push(&f.r, false);
	c1 = oid_of(gs_rev(&f.r, "HEAD~1"));
	c2 = fetch_head(&f);

	assert_int_equal(ro_history_rewritten(ro_gitrepo_git(f.g), &c1, &c2,
	    &rw, &err), RO_OK);
	assert_false(rw);
	assert_int_equal(ro_history_rewritten(ro_gitrepo_git(f.g), &c2, &c2,
	    &rw, &err), RO_OK);
	assert_false(rw);

	/* Amend and force-push: the old head is gone from the branch. */
	gs_reset(&f.r, "HEAD~1");
	gs_commit_file(&f.r, "specs/a.yaml", "a: 3\n", "two, rewritten");
	gs_push(&f.r, true);
	c2b = fetch_head(&f);
	assert_false(git_oid_equal(&c2, &c2b));
	assert_int_equal(ro_history_rewritten(ro_gitrepo_git(f.g), &c2, &c2b,
	    &rw, &err), RO_OK);
	assert_true(rw);
	/* The common base is still an ancestor. */
	assert_int_equal(ro_history_rewritten(ro_gitrepo_git(f.g), &c1, &c2b,
	    &rw, &err), RO_OK);
	assert_false(rw);
	/* A commit this clone never saw counts as rewritten. */
	memset(&unknown, 0x5a, sizeof(unknown));
	assert_int_equal(ro_history_rewritten(ro_gitrepo_git(f.g), &unknown,
	    &c2b, &rw, &err), RO_OK);
	assert_true(rw);
	fx_free(&f);
}

static void
test_changes_under_folder(void **state)
{
	struct fx			 f;
	struct ro_history_changes	 ch = RO_HISTORY_CHANGES_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	git_repository			*repo;
	git_oid				 c, root;
	size_t				 i;
	char				 name[32];

	(void)state;
	fx_init(&f);
	repo = ro_gitrepo_git(f.g);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "other/f%02zu.txt", i);
		tu_write(f.r.work, name, "x\n");
	}
	tu_write(f.r.work, "specs/b.yaml", "b\n");
	tu_write(f.r.work, "specs/deep/c.yml", "c\n");
	assert_int_equal(gs_sh("cd '%s' && git add -A && git commit -q -m "
	    "bulk", f.r.work), 0);
	gs_push(&f.r, false);
	c = fetch_head(&f);
	assert_int_equal(ro_history_changes(repo, &c, "specs/", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.v[0].path, "specs/b.yaml");
	assert_string_equal(ch.v[1].path, "specs/deep/c.yml");
	ro_history_changes_release(&ch);
	/* The root covers everything. */
	assert_int_equal(ro_history_changes(repo, &c, "", &ch, &err), RO_OK);
	assert_int_equal(ch.n, 52);
	ro_history_changes_release(&ch);
	/* A folder name is literal: "spec" is not "specs". */
	assert_int_equal(ro_history_changes(repo, &c, "spec", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 0);

	/* A commit outside the folder changes nothing in it. */
	gs_commit_file(&f.r, "other/f00.txt", "y\n", "other only");
	/* Delete and modify in one commit; a file turned into a symlink. */
	assert_int_equal(gs_sh("cd '%s' && git rm -q specs/b.yaml && "
	    "echo a2 > specs/a.yaml && rm specs/deep/c.yml && "
	    "ln -s ../a.yaml specs/deep/c.yml && git add -A && "
	    "git commit -q -m mixed", f.r.work), 0);
	gs_push(&f.r, false);
	c = fetch_head(&f);
	git_oid other = oid_of(gs_rev(&f.r, "HEAD~1"));
	assert_int_equal(ro_history_changes(repo, &other, "specs", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 0);
	assert_int_equal(ro_history_changes(repo, &c, "specs", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 3);
	assert_string_equal(ch.v[0].path, "specs/a.yaml");
	assert_int_equal(ch.v[0].status, RO_HISTORY_MODIFIED);
	assert_string_equal(ch.v[1].path, "specs/b.yaml");
	assert_int_equal(ch.v[1].status, RO_HISTORY_DELETED);
	assert_string_equal(ch.v[2].path, "specs/deep/c.yml");
	assert_int_equal(ch.v[2].status, RO_HISTORY_TYPECHANGE);
	ro_history_changes_release(&ch);

	/* The root commit: everything it holds is added. */
	root = oid_of(gs_rev(&f.r, "HEAD~3"));
	assert_int_equal(ro_history_changes(repo, &root, "specs", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.v[0].status, RO_HISTORY_ADDED);
	ro_history_changes_release(&ch);
	/* A vanished folder: its files are deleted. */
	assert_int_equal(gs_sh("cd '%s' && git rm -q -r specs && git commit -q "
	    "-m 'drop specs'", f.r.work), 0);
	gs_push(&f.r, false);
	c = fetch_head(&f);
	assert_int_equal(ro_history_changes(repo, &c, "specs", &ch, &err),
	    RO_OK);
	assert_int_equal(ch.n, 2);
	assert_int_equal(ch.v[0].status, RO_HISTORY_DELETED);
	ro_history_changes_release(&ch);
	assert_int_equal(ro_history_changes(repo, &c, "../x", &ch, &err),
	    RO_EINVALID);
	fx_free(&f);
}

static void
test_read_blobs(void **state)
{
	struct fx			 f;
	struct ro_buf			 b = RO_BUF_INIT;
	struct ro_err			 err = RO_ERR_INIT;
	struct ro_history_source	 src;
	git_repository			*repo;
	git_oid				 c;

	(void)state;
	fx_init(&f);
	repo = ro_gitrepo_git(f.g);
	tu_write(f.r.work, "specs/seeds/faq.md", "# FAQ\n");
	assert_int_equal(gs_sh("cd '%s' && ln -s a.yaml specs/link.yaml && "
	    "git add -A && git update-index --add --cacheinfo "
	    "160000,%s,specs/sub && git commit -q -m blobs", f.r.work,
	    gs_rev(&f.r, "HEAD")), 0);
	gs_push(&f.r, false);
	c = fetch_head(&f);

	assert_int_equal(ro_history_read(repo, &c, "specs/a.yaml", 0, &b,
	    &err), RO_OK);
	assert_string_equal(ro_buf_cstr(&b), "a: 1\n");
	ro_buf_reset(&b);
	assert_int_equal(ro_history_read(repo, &c, "specs/link.yaml", 0, &b,
	    &err), RO_EINVALID);
	assert_true(tu_contains(err.msg, "symlink"));
	assert_true(tu_contains(err.msg, "120000"));
	assert_int_equal(ro_history_read(repo, &c, "specs/sub", 0, &b, &err),
	    RO_EINVALID);
	assert_true(tu_contains(err.msg, "submodule"));
	assert_int_equal(ro_history_read(repo, &c, "specs", 0, &b, &err),
	    RO_EINVALID);
	assert_int_equal(ro_history_read(repo, &c, "specs/none.yaml", 0, &b,
	    &err), RO_ENOTFOUND);
	assert_int_equal(ro_history_read(repo, &c, "specs/a.yaml", 3, &b,
	    &err), RO_ETOOBIG);
	assert_int_equal(ro_history_read(repo, &c, "../specs/a.yaml", 0, &b,
	    &err), RO_EINVALID);
	assert_int_equal(ro_history_read(repo, &c, "/specs/a.yaml", 0, &b,
	    &err), RO_EINVALID);
	assert_int_equal(ro_history_read(repo, &c, "specs//a.yaml", 0, &b,
	    &err), RO_EINVALID);
	assert_int_equal(ro_history_read(repo, &c, "specs/./a.yaml", 0, &b,
	    &err), RO_EINVALID);
	assert_int_equal(b.len, 0);

	/* As a ro_seed_reader rooted at the spec folder. */
	src.repo = repo;
	git_oid_cpy(&src.commit, &c);
	src.root = "specs";
	assert_int_equal(ro_history_seed_reader(&src, "seeds/faq.md", &b,
	    &err), RO_OK);
	assert_string_equal(ro_buf_cstr(&b), "# FAQ\n");
	ro_buf_reset(&b);
	assert_int_equal(ro_history_seed_reader(&src, "seeds/none.md", &b,
	    &err), RO_ENOTFOUND);
	assert_int_equal(ro_history_seed_reader(&src, "../other.md", &b,
	    &err), RO_EINVALID);
	src.root = "";
	assert_int_equal(ro_history_seed_reader(&src, "specs/seeds/faq.md", &b,
	    &err), RO_OK);
	ro_buf_release(&b);

	/* The RO_ARTIFACT_MAX default cap holds. */
	assert_int_equal(gs_sh("cd '%s' && head -c %u /dev/zero > specs/big.bin"
	    " && git add specs/big.bin && git commit -q -m big", f.r.work,
	    RO_ARTIFACT_MAX + 1u), 0);
	gs_push(&f.r, false);
	c = fetch_head(&f);
	assert_int_equal(ro_history_read(repo, &c, "specs/big.bin", 0, &b,
	    &err), RO_ETOOBIG);
	assert_int_equal(b.len, 0);
	fx_free(&f);
}

static void
test_list_specs_and_confirms(void **state)
{
	struct fx	 f;
	struct ro_strv	 sv = RO_STRV_INIT;
	struct ro_err	 err = RO_ERR_INIT;
	git_repository	*repo;
	git_oid		 c;

	(void)state;
	fx_init(&f);
	repo = ro_gitrepo_git(f.g);
	tu_write(f.r.work, "specs/b.yml", "b\n");
	tu_write(f.r.work, "specs/team/c.yaml", "c\n");
	tu_write(f.r.work, "specs/seeds/notes.md", "n\n");
	tu_write(f.r.work, "specs/.hidden/d.yaml", "d\n");
	tu_write(f.r.work, "specs/.e.yaml", "e\n");
	tu_write(f.r.work, "specs/f.yaml.bak", "f\n");
	tu_write(f.r.work, "other/g.yaml", "g\n");
	tu_write(f.r.root, "msg.txt", "Prune old rooms\n\n"
	    "Roomops-Confirm: room-a\nRoomops-Confirm: all\n");
	assert_int_equal(gs_sh("cd '%s' && ln -s b.yml specs/link.yaml && "
	    "git add -A && git commit -q -F '%s/msg.txt'", f.r.work, f.r.root),
	    0);
	gs_push(&f.r, false);
	c = fetch_head(&f);
	assert_int_equal(ro_history_list_specs(repo, &c, "specs", &sv, &err),
	    RO_OK);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "specs/a.yaml");
	assert_string_equal(sv.v[1], "specs/b.yml");
	assert_string_equal(sv.v[2], "specs/team/c.yaml");
	ro_strv_release(&sv);
	assert_int_equal(ro_history_list_specs(repo, &c, NULL, &sv, &err),
	    RO_OK);
	assert_int_equal(sv.n, 4);
	ro_strv_release(&sv);
	assert_int_equal(ro_history_list_specs(repo, &c, "nothere", &sv, &err),
	    RO_OK);
	assert_int_equal(sv.n, 0);
	assert_int_equal(ro_history_list_specs(repo, &c, "specs/b.yml", &sv,
	    &err), RO_EINVALID);

	assert_int_equal(ro_history_confirms(repo, &c, &sv, &err), RO_OK);
	assert_int_equal(sv.n, 2);
	assert_string_equal(sv.v[0], "room-a");
	assert_string_equal(sv.v[1], "all");
	ro_strv_release(&sv);
	fx_free(&f);
}

static void
test_clone_life(void **state)
{
	struct fx		 f;
	struct ro_gitrepo	*g2 = NULL;
	struct ro_err		 err = RO_ERR_INIT;
	struct stat		 sb;
	git_oid			 head;
	char			*p, *marker, *leftover;

	(void)state;
	fx_init(&f);
	assert_true(ro_gitrepo_cloned(f.g));
	ro_gitrepo_free(f.g);
	f.g = NULL;
	/* A marker inside the clone survives a warm reopen. */
	tu_write(f.dir, "roomops-marker", "x\n");
	marker = tu_path(f.dir, "roomops-marker");
	fx_open(&f);
	assert_false(ro_gitrepo_cloned(f.g));
	assert_int_equal(stat(marker, &sb), 0);
	ro_gitrepo_free(f.g);
	f.g = NULL;

	/* Leftovers of an interrupted clone are cleaned up. */
	if (asprintf(&leftover, "%s.tmp-abc123", f.dir) < 0)
		abort();
	assert_int_equal(mkdir(leftover, 0700), 0);
	fx_open(&f);
	assert_int_equal(stat(leftover, &sb), -1);
	ro_gitrepo_free(f.g);
	f.g = NULL;

	/* Damaged (HEAD and refs gone): cloned again. */
	p = tu_path(f.dir, "HEAD");
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(gs_sh("rm -rf '%s/refs'", f.dir), 0);
	fx_open(&f);
	assert_true(ro_gitrepo_cloned(f.g));
	assert_int_equal(stat(marker, &sb), -1);
	assert_int_equal(ro_gitrepo_head(f.g, &head, &err), RO_OK);
	ro_gitrepo_free(f.g);
	f.g = NULL;

	/* Damaged (the head commit's object lost): cloned again. */
	assert_int_equal(gs_sh("cd '%s' && for f in objects/pack/*.pack "
	    "objects/pack/*.idx; do rm -f \"$f\"; done && "
	    "find objects -type f -path 'objects/[0-9a-f][0-9a-f]/*' -delete", f.dir), 0);
	fx_open(&f);
	assert_true(ro_gitrepo_cloned(f.g));
	ro_gitrepo_free(f.g);
	f.g = NULL;

	/* Another URL: refused, left alone, unless replacing is allowed. */
	f.o.url = "/nonexistent/other.git";
	assert_int_equal(ro_gitrepo_open(&g2, &f.o, &err), RO_ECONFLICT);
	assert_true(tu_contains(err.msg, "holds a clone of"));
	f.o.url = f.r.origin;
	assert_int_equal(gs_sh("git clone -q --bare '%s' '%s/other.git'",
	    f.r.origin, f.r.root), 0);
	if (asprintf(&p, "%s/other.git", f.r.root) < 0)
		abort();
	f.o.url = p;
	f.o.replace_mismatch = true;
	fx_open(&f);
	assert_true(ro_gitrepo_cloned(f.g));
	ro_gitrepo_free(f.g);
	f.g = NULL;
	f.o.replace_mismatch = false;

	/* Another branch: the same clone, refspecs rewritten. */
	assert_int_equal(gs_sh("cd '%s' && git checkout -q -b dev && "
	    "git commit -q --allow-empty -m dev && git push -q '%s' dev",
	    f.r.work, p), 0);
	f.o.branch = "dev";
	fx_open(&f);
	assert_false(ro_gitrepo_cloned(f.g));
	assert_int_equal(ro_gitrepo_head(f.g, &head, &err), RO_ENOTFOUND);
	head = fetch_head(&f);
	assert_string_equal(ro_gitrepo_branch(f.g), "dev");
	ro_gitrepo_free(f.g);
	f.g = NULL;

	/* A folder that is no repository is never removed. */
	f.o.dir = tu_path(f.r.root, "not-a-repo");
	tu_write(f.o.dir, "precious.txt", "keep me\n");
	assert_int_equal(ro_gitrepo_open(&g2, &f.o, &err), RO_EINVALID);
	p = tu_path(f.o.dir, "precious.txt");
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	free((char *)(uintptr_t)f.o.dir);
	free((char *)(uintptr_t)f.o.url);
	free(marker);
	free(leftover);
	fx_free(&f);
}

/* An origin with no commit yet: open works, the first push is seen. */
static void
test_empty_origin(void **state)
{
	struct gs_repo			 r;
	struct ro_gitrepo_opts		 o = RO_GITREPO_OPTS_INIT;
	struct ro_gitrepo		*g = NULL;
	struct ro_gitrepo_remote	 rh;
	struct ro_gitrepo_fetch_result	 fr;
	struct ro_err			 err = RO_ERR_INIT;
	git_oid				 head;
	char				*dir;

	(void)state;
	gs_repo_init(&r, "main");
	dir = tu_path(r.root, "state/repo.git");
	o.url = r.origin;
	o.dir = dir;
	if (ro_gitrepo_open(&g, &o, &err) != RO_OK)
		fail_msg("open: %s", err.msg);
	assert_int_equal(ro_gitrepo_head(g, &head, &err), RO_ENOTFOUND);
	assert_int_equal(ro_gitrepo_remote_head(g, &rh, &err), RO_OK);
	assert_false(rh.head_present);
	assert_false(rh.moved);
	gs_commit_file(&r, "specs/a.yaml", "a\n", "first");
	gs_push(&r, false);
	assert_int_equal(ro_gitrepo_remote_head(g, &rh, &err), RO_OK);
	assert_true(rh.head_present);
	assert_false(rh.local_present);
	assert_true(rh.moved);
	assert_int_equal(ro_gitrepo_fetch(g, RO_GITREPO_FETCH_BRANCH, &fr,
	    &err), RO_OK);
	assert_false(fr.head_before_present);
	assert_true(fr.head_present);
	assert_true(fr.head_moved);
	ro_gitrepo_free(g);
	free(dir);
	gs_repo_free(&r);
}

/* Every test cleans up after itself, even when it fails. */
#define T(f)	cmocka_unit_test_teardown(f, gs_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_thirty_commits_in_order),
		T(test_merge_is_one_first_parent_commit),
		T(test_force_push_is_a_rewrite),
		T(test_changes_under_folder),
		T(test_read_blobs),
		T(test_list_specs_and_confirms),
		T(test_clone_life),
		T(test_empty_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
