/*
 * gitclone.c: the clone's folder: open the clone a previous run left
 * (checking that it is a bare clone of the configured URL, with readable
 * refs), clone afresh, replace a folder that holds something else, and
 * clear what an interrupted clone left behind.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "roomops/file.h"
#include "roomops/log.h"

#include "gitclone.h"
#include "gitrepo.h"
#include "gitrepo_impl.h"
#include "gitstream.h"

#include "../common/banned.h"

static int
rmrf_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

static int
rmrf(const char *path, struct ro_err *err)
{
	if (nftw(path, rmrf_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
	    errno != ENOENT)
		return ro_err_errno(err, RO_EIO, "remove %s", path);
	return RO_OK;
}

/* Remove leftovers <dir>.tmp-* and <dir>.old-* of interrupted runs. */
void
ro_gitclone_remove_leftovers(const char *dir)
{
	char		 parent[PATH_MAX], base[NAME_MAX + 1], path[PATH_MAX];
	const char	*slash = strrchr(dir, '/');
	struct dirent	*de;
	struct ro_err	 e = RO_ERR_INIT;
	DIR		*d;
	size_t		 bl;

	if (slash != NULL) {
		snprintf(parent, sizeof(parent), "%.*s",
		    (int)(slash - dir) > 0 ? (int)(slash - dir) : 1, dir);
		snprintf(base, sizeof(base), "%s", slash + 1);
	} else {
		snprintf(parent, sizeof(parent), ".");
		snprintf(base, sizeof(base), "%s", dir);
	}
	bl = strlen(base);
	if (bl == 0 || (d = opendir(parent)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, bl) != 0 ||
		    (strncmp(de->d_name + bl, ".tmp-", 5) != 0 &&
		    strncmp(de->d_name + bl, ".old-", 5) != 0))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent,
		    de->d_name) >= sizeof(path))
			continue;
		if (rmrf(path, &e) < 0)
			log_warnx("%s", e.msg);
	}
	closedir(d);
}

/* mkdir -p the folder that holds dir. */
int
ro_gitclone_make_parent(const char *dir, struct ro_err *err)
{
	char		 parent[PATH_MAX];
	const char	*slash = strrchr(dir, '/');

	if (slash == NULL || slash == dir)
		return RO_OK;
	if ((size_t)(slash - dir) >= sizeof(parent))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
	memcpy(parent, dir, (size_t)(slash - dir));
	parent[slash - dir] = '\0';
	return ro_file_mkdirs(parent, 0700, err);
}

/* Does dir exist, is it empty, does it look like a git dir? -1: error. */
int
ro_gitclone_dir_state(const char *dir, bool *exists, bool *empty,
    bool *gitlike)
{
	struct dirent	*de;
	DIR		*d;

	*exists = *empty = *gitlike = false;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	*exists = true;
	*empty = true;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0)
			continue;
		*empty = false;
		if (strcmp(de->d_name, "HEAD") == 0 ||
		    strcmp(de->d_name, "objects") == 0 ||
		    strcmp(de->d_name, "refs") == 0)
			*gitlike = true;
	}
	closedir(d);
	return 0;
}

/* Point origin's fetch refspecs at our branch and the notes. */
static int
configure_remote(struct ro_gitrepo *r, struct ro_err *err)
{
	git_config	*cfg = NULL;
	git_reference	*head = NULL;
	int		 rc, error = RO_OK;

	if (git_repository_config(&cfg, r->repo) < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "config");
		goto done;
	}
	rc = git_config_delete_multivar(cfg, "remote.origin.fetch", ".*");
	if ((rc < 0 && rc != GIT_ENOTFOUND) ||
	    git_remote_add_fetch(r->repo, RO_GITREPO_REMOTE,
	    r->fetch_branch) < 0 ||
	    git_remote_add_fetch(r->repo, RO_GITREPO_REMOTE,
	    RO_GITREPO_NOTES_REFSPEC) < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "configure remote");
		goto done;
	}
	/* HEAD follows the tracked branch, for git log in the clone. */
	if (git_reference_symbolic_create(&head, r->repo, "HEAD",
	    r->track_ref, 1, "roomops: track") < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "set HEAD");
		goto done;
	}
done:
	git_reference_free(head);
	git_config_free(cfg);
	return error;
}

/* Does the fetch configuration name exactly our two refspecs? */
static bool
remote_configured(git_remote *remote, const struct ro_gitrepo *r)
{
	git_strarray	specs = { NULL, 0 };
	bool		ok;

	if (git_remote_get_fetch_refspecs(&specs, remote) < 0)
		return false;
	ok = specs.count == 2 && strcmp(specs.strings[0], r->fetch_branch) ==
	    0 && strcmp(specs.strings[1], RO_GITREPO_NOTES_REFSPEC) == 0;
	git_strarray_dispose(&specs);
	return ok;
}

/* Can the tip of refname be read as a commit with its tree? */
static bool
ref_readable(git_repository *repo, const char *refname)
{
	git_oid		 id;
	git_commit	*c = NULL;
	git_tree	*t = NULL;
	int		 rc;

	rc = git_reference_name_to_id(&id, repo, refname);
	if (rc == GIT_ENOTFOUND)
		return true;
	if (rc < 0)
		return false;
	rc = git_commit_lookup(&c, repo, &id) == 0 &&
	    git_commit_tree(&t, c) == 0;
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* A local clone problem: name the folder, not the URL. */
static int
dir_fail(struct ro_gitrepo *r, struct ro_err *err, const char *what)
{
	const git_error	*e = git_error_last();

	return ro_err_set(err, RO_EIO, "%s: %s: %s", r->dir, what,
	    e != NULL && e->message != NULL ? e->message : "unknown error");
}

/* (Re)load r->remote from the configuration. */
static int
remote_load(struct ro_gitrepo *r, struct ro_err *err)
{
	git_remote_free(r->remote);
	r->remote = NULL;
	if (git_remote_lookup(&r->remote, r->repo, RO_GITREPO_REMOTE) < 0)
		return dir_fail(r, err, "cannot load remote origin");
	return RO_OK;
}

/*
 * Try the existing clone. RO_OK: usable (r->repo set); RO_ECONFLICT: a
 * clone of another URL; RO_EIO: broken (reason in err).
 */
int
ro_gitclone_open_existing(struct ro_gitrepo *r, struct ro_err *err)
{
	git_repository	*repo = NULL;
	git_remote	*remote = NULL;
	char		 other[RO_GITREPO_URL_MAX];
	int		 error;

	if (git_repository_open_ext(&repo, r->dir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	    NULL) < 0) {
		error = dir_fail(r, err, "cannot open the clone");
		goto done;
	}
	if (!git_repository_is_bare(repo)) {
		error = ro_err_set(err, RO_EIO, "%s: not a bare clone", r->dir);
		goto done;
	}
	if (git_remote_lookup(&remote, repo, RO_GITREPO_REMOTE) < 0) {
		error = dir_fail(r, err, "the clone has no origin");
		goto done;
	}
	if (git_remote_url(remote) == NULL ||
	    strcmp(git_remote_url(remote), r->url) != 0) {
		ro_gitrepo_redact_url(other, sizeof(other),
		    git_remote_url(remote));
		error = ro_err_set(err, RO_ECONFLICT,
		    "%s holds a clone of %s, not of %s: remove it or use "
		    "another state dir", r->dir, other, r->url_redacted);
		goto done;
	}
	if (!ref_readable(repo, r->track_ref) ||
	    !ref_readable(repo, RO_GITREPO_NOTES_REF) ||
	    !ref_readable(repo, RO_GITREPO_NOTES_TRACKING)) {
		error = dir_fail(r, err, "the clone is damaged");
		goto done;
	}
	r->repo = repo;
	repo = NULL;
	if (remote_configured(remote, r)) {
		r->remote = remote;
		remote = NULL;
	} else if ((error = configure_remote(r, err)) < 0 ||
	    (error = remote_load(r, err)) < 0)
		goto done;
	error = RO_OK;
done:
	git_remote_free(remote);
	git_repository_free(repo);
	return error;
}

/* Clone into a temporary sibling of r->dir, then rename it into place. */
int
ro_gitclone_fresh(struct ro_gitrepo *r, struct ro_err *err)
{
	git_repository_init_options	 io;
	git_remote			*remote = NULL;
	char				 tmp[PATH_MAX];
	struct ro_err			 e2 = RO_ERR_INIT;
	int				 error, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", r->dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ro_err_set(err, RO_EINVALID, "%s: path too long",
		    r->dir);
	if (mkdtemp(tmp) == NULL)
		return ro_err_errno(err, RO_EIO, "mkdtemp %s", tmp);
	git_repository_init_options_init(&io,
	    GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT;
	if (git_repository_init_ext(&r->repo, tmp, &io) < 0) {
		error = ro_gitrepo_fail(r, err, RO_EIO, "init clone at");
		goto fail;
	}
	if (git_remote_create_with_fetchspec(&remote, r->repo,
	    RO_GITREPO_REMOTE, r->url, r->fetch_branch) < 0) {
		error = ro_gitrepo_fail(r, err, RO_ERROR, "create remote");
		goto fail;
	}
	git_remote_free(remote);
	remote = NULL;
	if ((error = configure_remote(r, err)) < 0 ||
	    (error = remote_load(r, err)) < 0 ||
	    (error = ro_gitrepo_fetch(r, RO_GITREPO_FETCH_BRANCH |
	    RO_GITREPO_FETCH_NOTES, NULL, err)) < 0)
		goto fail;
	git_remote_free(r->remote);
	r->remote = NULL;
	git_repository_free(r->repo);
	r->repo = NULL;
	if (rename(tmp, r->dir) == -1) {
		error = ro_err_errno(err, RO_EIO, "rename %s to %s", tmp,
		    r->dir);
		goto fail;
	}
	if (git_repository_open_ext(&r->repo, r->dir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	    NULL) < 0)
		return dir_fail(r, err, "cannot open the new clone");
	if ((error = remote_load(r, err)) < 0)
		return error;
	r->cloned = true;
	return RO_OK;
fail:
	git_remote_free(remote);
	git_remote_free(r->remote);
	r->remote = NULL;
	git_repository_free(r->repo);
	r->repo = NULL;
	if (rmrf(tmp, &e2) < 0)
		log_warnx("%s", e2.msg);
	return error;
}

/* Move a broken clone aside, then remove it. */
int
ro_gitclone_replace_dir(const char *dir, struct ro_err *err)
{
	char	old[PATH_MAX];
	int	n;

	n = snprintf(old, sizeof(old), "%s.old-%ld", dir, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(old))
		return ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
	if (rename(dir, old) == -1)
		return ro_err_errno(err, RO_EIO, "rename %s to %s", dir, old);
	return rmrf(old, err);
}
