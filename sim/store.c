/*
 * store.c: durable per-room state of roomserver-sim.
 *
 * Data dir layout (docs/roomserver-sim.md):
 *   DIR/FORMAT                         "roomserver-sim data 1"
 *   DIR/lock                           flock(2): one sim per data dir
 *   DIR/rooms/<roomId>/state.json      RoomState, exactly as served
 *   DIR/rooms/<roomId>/blobs/<sha256>  artifact contents, by content hash
 *
 * Disk is the truth, memory a cache: a change is written with
 * ro_file_replace (temp file, fsync, rename, directory fsync) before it is
 * kept in memory or answered. A blob is written before the state that
 * names it and unlinked after the state that drops it, so a crash leaves
 * at worst an unreferenced blob, removed when the room is next loaded.
 *
 * Rooms live in a fixed hash table under a rwlock; each room has its own
 * mutex, held by one request at a time. Rooms on disk are listed at start
 * and read at first use. Rooms are never freed before store_close, so a
 * pointer stays valid after the table lock is dropped.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/clock.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/strmap.h"
#include "sim.h"

#include "../common/banned.h"

#define STORE_BUCKETS	(1u << 17)	/* hash chains; > SIM_ROOMS_MAX */
#define STORE_FORMAT	"roomserver-sim data 1\n"

struct store_json {
	atomic_uint	 refs;
	size_t		 len;
	char		*data;		/* NUL-terminated */
};

struct store_room {
	struct store_room *next;	/* hash chain */
	struct store	*store;
	pthread_mutex_t	 lock;
	char		*id;
	bool		 loaded;	/* st is valid */
	bool		 on_disk;	/* the room directory exists */
	struct ro_state	 st;
	size_t		 ent_cap, art_cap;
	struct store_json *enc;		/* encoding of st; NULL when stale */
};

struct store {
	char		*dir;
	int		 lock_fd;
	pthread_rwlock_t table_lock;
	struct store_room **buckets;
	size_t		 n_rooms;
};

static struct store_json *
json_new(char *data, size_t len)
{
	struct store_json *j;

	if ((j = malloc(sizeof(*j))) == NULL)
		return NULL;
	atomic_init(&j->refs, 1);
	j->data = data;
	j->len = len;
	return j;
}

char *
store_json_data(struct store_json *j)
{
	return j->data;
}

size_t
store_json_len(const struct store_json *j)
{
	return j->len;
}

void
store_json_unref(struct store_json *j)
{
	if (j == NULL || atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	free(j->data);
	free(j);
}

static int
room_path(char *out, size_t size, const struct store_room *r,
    const char *name, struct ro_err *err)
{
	int	n;

	n = name != NULL ?
	    snprintf(out, size, "%s/rooms/%s/%s", r->store->dir, r->id, name) :
	    snprintf(out, size, "%s/rooms/%s", r->store->dir, r->id);
	if (n < 0 || (size_t)n >= size)
		return ro_err_set(err, RO_EINVALID, "%s: path too long", r->id);
	return RO_OK;
}

static int
fsync_path(const char *path, struct ro_err *err)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return ro_err_errno(err, RO_EIO, "%s", path);
	rc = fsync(fd);
	close(fd);
	return rc == -1 ? ro_err_errno(err, RO_EIO, "fsync %s", path) : RO_OK;
}

static void
state_release(struct store_room *r)
{
	size_t	i;

	for (i = 0; i < r->st.n_entities; i++)
		ro_entity_release(&r->st.entities[i]);
	for (i = 0; i < r->st.n_artifacts; i++)
		ro_artifact_release(&r->st.artifacts[i]);
	free(r->st.entities);
	free(r->st.artifacts);
	free(r->st.room_id);
	free(r->st.last_updated);
	ro_policies_release(&r->st.policies);
	memset(&r->st, 0, sizeof(r->st));
	r->ent_cap = r->art_cap = 0;
	store_json_unref(r->enc);
	r->enc = NULL;
	r->loaded = false;
}

static int
state_empty(struct ro_state *st, const char *id)
{
	memset(st, 0, sizeof(*st));
	if ((st->room_id = strdup(id)) == NULL ||
	    ro_policies_default(&st->policies) < 0) {
		free(st->room_id);
		st->room_id = NULL;
		return RO_ENOMEM;
	}
	return RO_OK;
}

/* Remove temp files and blobs that no artifact of the room names. */
static void
room_gc(struct store_room *r)
{
	char		 dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent	*de;
	DIR		*d;
	size_t		 i;
	bool		 used;

	if (room_path(dir, sizeof(dir), r, "blobs", NULL) < 0 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		used = false;
		for (i = 0; i < r->st.n_artifacts && !used; i++)
			used = strcmp(r->st.artifacts[i].content_hash,
			    de->d_name) == 0;
		if (used)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			log_info("room %s: removed unused blob %s", r->id,
			    de->d_name);
	}
	closedir(d);
	if (room_path(path, sizeof(path), r, "state.json.tmp", NULL) == 0)
		(void)unlink(path);
}

static int
room_load(struct store_room *r, struct ro_err *err)
{
	struct ro_err	 why = RO_ERR_INIT;
	struct ro_buf	 buf = RO_BUF_INIT;
	char		 path[PATH_MAX];
	char		*data;
	size_t		 len;
	int		 error;

	state_release(r);
	if (!r->on_disk) {
		if (state_empty(&r->st, r->id) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		r->loaded = true;
		return RO_OK;
	}
	if ((error = room_path(path, sizeof(path), r, "state.json", err)) < 0)
		return error;
	error = ro_file_read(path, RO_STATE_JSON_MAX, &buf, err);
	if (error == RO_ENOTFOUND) {
		/* directory made, first state never written: still empty */
		if (state_empty(&r->st, r->id) < 0)
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		r->loaded = true;
		room_gc(r);
		return RO_OK;
	}
	if (error < 0)
		goto done;
	if ((error = codec_state_from_json(&r->st, buf.ptr, buf.len,
	    &why)) < 0) {
		error = ro_err_set(err, RO_EIO, "%s: %s", path, why.msg);
		state_release(r);
		goto done;
	}
	if (r->st.room_id == NULL || strcmp(r->st.room_id, r->id) != 0) {
		error = ro_err_set(err, RO_EIO, "%s: roomId does not match "
		    "its directory", path);
		state_release(r);
		goto done;
	}
	r->ent_cap = r->st.n_entities;
	r->art_cap = r->st.n_artifacts;
	data = ro_buf_detach(&buf, &len);
	if ((r->enc = json_new(data, len)) == NULL)
		free(data);	/* encoded again when asked */
	r->loaded = true;
	room_gc(r);
done:
	ro_buf_release(&buf);
	return error;
}

static struct store_room *
room_new(struct store *st, const char *id, bool on_disk)
{
	struct store_room *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->id = strdup(id)) == NULL ||
	    pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r->id);
		free(r);
		return NULL;
	}
	r->store = st;
	r->on_disk = on_disk;
	return r;
}

static void
room_free(struct store_room *r)
{
	state_release(r);
	pthread_mutex_destroy(&r->lock);
	free(r->id);
	free(r);
}

/* Caller holds the table lock for writing. */
static void
room_insert(struct store *st, struct store_room *r)
{
	size_t		b = ro_strmap_hash(r->id) & (STORE_BUCKETS - 1);

	r->next = st->buckets[b];
	st->buckets[b] = r;
	st->n_rooms++;
}

static struct store_room *
room_find(struct store *st, const char *id)
{
	struct store_room *r;

	for (r = st->buckets[ro_strmap_hash(id) & (STORE_BUCKETS - 1)];
	    r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static int
scan_rooms(struct store *st, struct ro_err *err)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	struct store_room *r;
	DIR		*d;
	int		 error = RO_OK;

	snprintf(path, sizeof(path), "%s/rooms", st->dir);
	if ((d = opendir(path)) == NULL)
		return ro_err_errno(err, RO_EIO, "%s", path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!validate_room_id(de->d_name)) {
			log_warnx("%s/%s: not a room id, ignored", path,
			    de->d_name);
			continue;
		}
		if (st->n_rooms >= SIM_ROOMS_MAX) {
			error = ro_err_set(err, RO_ETOOBIG, "%s: more than %d "
			    "rooms", path, SIM_ROOMS_MAX);
			break;
		}
		if ((r = room_new(st, de->d_name, true)) == NULL) {
			error = ro_err_set(err, RO_ENOMEM, "out of memory");
			break;
		}
		room_insert(st, r);
	}
	closedir(d);
	return error;
}

/* FORMAT marker: written once, checked at every start. */
static int
check_format(struct store *st, struct ro_err *err)
{
	struct ro_buf	buf = RO_BUF_INIT;
	char		path[PATH_MAX];
	int		error;

	snprintf(path, sizeof(path), "%s/FORMAT", st->dir);
	error = ro_file_read(path, 256, &buf, err);
	if (error == RO_ENOTFOUND)
		error = ro_file_replace(path, STORE_FORMAT,
		    strlen(STORE_FORMAT), err);
	else if (error == RO_OK && strcmp(ro_buf_cstr(&buf), STORE_FORMAT) != 0)
		error = ro_err_set(err, RO_EINVALID, "%s: not a roomserver-sim "
		    "data dir of format 1", path);
	ro_buf_release(&buf);
	return error;
}

int
store_open(struct store **out, const char *dir, struct ro_err *err)
{
	struct store	*st;
	char		 path[PATH_MAX];
	int		 error;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	st->lock_fd = -1;
	if (pthread_rwlock_init(&st->table_lock, NULL) != 0) {
		free(st);
		return ro_err_set(err, RO_ENOMEM, "rwlock");
	}
	if ((st->dir = strdup(dir)) == NULL ||
	    (st->buckets = calloc(STORE_BUCKETS, sizeof(*st->buckets))) ==
	    NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto fail;
	}
	if (snprintf(path, sizeof(path), "%s/rooms", dir) >=
	    (int)sizeof(path) - 400) {
		error = ro_err_set(err, RO_EINVALID, "%s: path too long", dir);
		goto fail;
	}
	if ((error = ro_file_mkdirs(path, 0755, err)) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/lock", dir);
	if ((st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0644)) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", path);
		goto fail;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		error = errno == EWOULDBLOCK ?
		    ro_err_set(err, RO_ECONFLICT, "%s: in use by another "
		    "roomserver-sim", dir) :
		    ro_err_errno(err, RO_EIO, "flock %s", path);
		goto fail;
	}
	if ((error = check_format(st, err)) < 0 ||
	    (error = scan_rooms(st, err)) < 0)
		goto fail;
	*out = st;
	return RO_OK;
fail:
	store_close(st);
	return error;
}

void
store_close(struct store *st)
{
	struct store_room *r, *next;
	size_t		 b;

	if (st == NULL)
		return;
	for (b = 0; st->buckets != NULL && b < STORE_BUCKETS; b++)
		for (r = st->buckets[b]; r != NULL; r = next) {
			next = r->next;
			room_free(r);
		}
	free(st->buckets);
	if (st->lock_fd != -1)
		close(st->lock_fd);
	pthread_rwlock_destroy(&st->table_lock);
	free(st->dir);
	free(st);
}

size_t
store_room_count(struct store *st)
{
	size_t	n;

	pthread_rwlock_rdlock(&st->table_lock);
	n = st->n_rooms;
	pthread_rwlock_unlock(&st->table_lock);
	return n;
}

int
store_lock(struct store *st, const char *id, bool create,
    struct store_room **out, struct ro_err *err)
{
	struct store_room *r;
	int		 error;

	pthread_rwlock_rdlock(&st->table_lock);
	r = room_find(st, id);
	pthread_rwlock_unlock(&st->table_lock);
	if (r == NULL) {
		if (!create)
			return RO_ENOTFOUND;
		pthread_rwlock_wrlock(&st->table_lock);
		if ((r = room_find(st, id)) == NULL) {
			if (st->n_rooms >= SIM_ROOMS_MAX)
				error = ro_err_set(err, RO_ETOOBIG, "more than "
				    "%d rooms", SIM_ROOMS_MAX);
			else if ((r = room_new(st, id, false)) == NULL)
				error = ro_err_set(err, RO_ENOMEM,
				    "out of memory");
			else
				room_insert(st, r);
		}
		pthread_rwlock_unlock(&st->table_lock);
		if (r == NULL)
			return error;
	}
	pthread_mutex_lock(&r->lock);
	if (!r->loaded && (error = room_load(r, err)) < 0) {
		log_warnx("room %s: %s", id, err != NULL ? err->msg : "");
		pthread_mutex_unlock(&r->lock);
		return error;
	}
	*out = r;
	return RO_OK;
}

void
store_unlock(struct store_room *r)
{
	pthread_mutex_unlock(&r->lock);
}

struct ro_state *
store_state(struct store_room *r)
{
	return &r->st;
}

long
store_entity_find(struct store_room *r, const char *id)
{
	size_t	i;

	for (i = 0; i < r->st.n_entities; i++)
		if (strcmp(r->st.entities[i].id, id) == 0)
			return (long)i;
	return -1;
}

long
store_artifact_find(struct store_room *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->st.n_artifacts; i++)
		if (strcmp(r->st.artifacts[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Make room for one more of n items of size sz in *v (capacity *cap). */
static int
grow(void **v, size_t *cap, size_t n, size_t sz, size_t max)
{
	size_t	 ncap;
	void	*p;

	if (n >= max)
		return RO_ETOOBIG;
	if (n < *cap)
		return RO_OK;
	ncap = *cap != 0 ? *cap * 2 : 8;
	if (ncap > max)
		ncap = max;
	if ((p = reallocarray(*v, ncap, sz)) == NULL)
		return RO_ENOMEM;
	*v = p;
	*cap = ncap;
	return RO_OK;
}

int
store_entity_add(struct store_room *r, struct ro_entity *e)
{
	int	error;

	if ((error = grow((void **)&r->st.entities, &r->ent_cap,
	    r->st.n_entities, sizeof(*e), RO_SPEC_ENTITIES_MAX)) < 0)
		return error;
	r->st.entities[r->st.n_entities++] = *e;
	memset(e, 0, sizeof(*e));
	return RO_OK;
}

int
store_artifact_add(struct store_room *r, struct ro_artifact *a)
{
	int	error;

	if ((error = grow((void **)&r->st.artifacts, &r->art_cap,
	    r->st.n_artifacts, sizeof(*a), RO_SPEC_ARTIFACTS_MAX)) < 0)
		return error;
	r->st.artifacts[r->st.n_artifacts++] = *a;
	memset(a, 0, sizeof(*a));
	return RO_OK;
}

void
store_entity_remove(struct store_room *r, size_t i)
{
	ro_entity_release(&r->st.entities[i]);
	memmove(&r->st.entities[i], &r->st.entities[i + 1],
	    (r->st.n_entities - i - 1) * sizeof(r->st.entities[0]));
	r->st.n_entities--;
}

void
store_artifact_remove(struct store_room *r, size_t i)
{
	ro_artifact_release(&r->st.artifacts[i]);
	memmove(&r->st.artifacts[i], &r->st.artifacts[i + 1],
	    (r->st.n_artifacts - i - 1) * sizeof(r->st.artifacts[0]));
	r->st.n_artifacts--;
}

/* Room directory and blobs/ exist, and their names are durable. */
static int
room_dirs(struct store_room *r, struct ro_err *err)
{
	char	path[PATH_MAX];
	int	error;

	if (r->on_disk)
		return RO_OK;
	if ((error = room_path(path, sizeof(path), r, "blobs", err)) < 0 ||
	    (error = ro_file_mkdirs(path, 0755, err)) < 0 ||
	    (error = room_path(path, sizeof(path), r, NULL, err)) < 0 ||
	    (error = fsync_path(path, err)) < 0)
		return error;
	snprintf(path, sizeof(path), "%s/rooms", r->store->dir);
	if ((error = fsync_path(path, err)) < 0)
		return error;
	r->on_disk = true;
	return RO_OK;
}

int
store_commit(struct store_room *r, struct ro_err *err)
{
	struct ro_buf	 buf = RO_BUF_INIT;
	char		 path[PATH_MAX], when[RO_TS_LEN + 1];
	char		*ts, *data;
	size_t		 len;
	int		 error;

	ro_buf_init(&buf, RO_STATE_JSON_MAX);
	ro_now_iso(when);
	if ((ts = strdup(when)) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto fail;
	}
	free(r->st.last_updated);
	r->st.last_updated = ts;
	r->st.revision++;
	if ((error = codec_state_encode(&r->st, &buf)) < 0) {
		error = ro_err_set(err, error, "room %s: cannot encode its "
		    "state: %s", r->id, ro_status_str(error));
		goto fail;
	}
	if ((error = room_dirs(r, err)) < 0 ||
	    (error = room_path(path, sizeof(path), r, "state.json", err)) < 0 ||
	    (error = ro_file_replace(path, buf.ptr, buf.len, err)) < 0)
		goto fail;
	data = ro_buf_detach(&buf, &len);
	store_json_unref(r->enc);
	if ((r->enc = json_new(data, len)) == NULL)
		free(data);	/* encoded again when asked */
	return RO_OK;
fail:
	log_warnx("room %s: change not saved: %s", r->id,
	    err != NULL ? err->msg : ro_status_str(error));
	ro_buf_release(&buf);
	state_release(r);	/* read back from disk at next use */
	return error;
}

int
store_encoded(struct store_room *r, struct store_json **out,
    struct ro_err *err)
{
	struct ro_buf	 buf = RO_BUF_INIT;
	char		*data;
	size_t		 len;
	int		 error;

	if (r->enc == NULL) {
		ro_buf_init(&buf, RO_STATE_JSON_MAX);
		if ((error = codec_state_encode(&r->st, &buf)) < 0) {
			ro_buf_release(&buf);
			return ro_err_set(err, error, "room %s: cannot encode "
			    "its state", r->id);
		}
		data = ro_buf_detach(&buf, &len);
		if ((r->enc = json_new(data, len)) == NULL) {
			free(data);
			return ro_err_set(err, RO_ENOMEM, "out of memory");
		}
	}
	atomic_fetch_add(&r->enc->refs, 1);
	*out = r->enc;
	return RO_OK;
}

int
store_encoded_empty(const char *id, struct store_json **out,
    struct ro_err *err)
{
	struct ro_state	 st;
	struct ro_buf	 buf = RO_BUF_INIT;
	char		*data;
	size_t		 len;
	int		 error;

	if (state_empty(&st, id) < 0)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	error = codec_state_encode(&st, &buf);
	free(st.room_id);
	ro_policies_release(&st.policies);
	if (error < 0) {
		ro_buf_release(&buf);
		return ro_err_set(err, error, "cannot encode an empty state");
	}
	data = ro_buf_detach(&buf, &len);
	if ((*out = json_new(data, len)) == NULL) {
		free(data);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	return RO_OK;
}

static int
blob_path(char *out, size_t size, struct store_room *r, const char *hash,
    struct ro_err *err)
{
	char	name[RO_HEX_SHA256_LEN + 8];

	if (strlen(hash) != RO_HEX_SHA256_LEN ||
	    strspn(hash, "0123456789abcdef") != RO_HEX_SHA256_LEN)
		return ro_err_set(err, RO_EINVALID, "not a blob name");
	snprintf(name, sizeof(name), "blobs/%s", hash);
	return room_path(out, size, r, name, err);
}

int
store_blob_write(struct store_room *r, const char *hash, const void *p,
    size_t n, struct ro_err *err)
{
	char	path[PATH_MAX];
	int	error;

	if ((error = room_dirs(r, err)) < 0 ||
	    (error = room_path(path, sizeof(path), r, "blobs", err)) < 0)
		return error;
	/* a room dir made by hand (or by an older crash) may lack blobs/ */
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return ro_err_errno(err, RO_EIO, "mkdir %s", path);
	if ((error = blob_path(path, sizeof(path), r, hash, err)) < 0)
		return error;
	if (access(path, F_OK) == 0)
		return RO_OK;	/* same content already stored durably */
	return ro_file_replace(path, p, n, err);
}

int
store_blob_open(struct store_room *r, const char *hash, int *fd,
    uint64_t *size, struct ro_err *err)
{
	struct stat	sb;
	char		path[PATH_MAX];
	int		error;

	if ((error = blob_path(path, sizeof(path), r, hash, err)) < 0)
		return error;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ro_err_errno(err, errno == ENOENT ? RO_ENOTFOUND :
		    RO_EIO, "%s", path);
	if (fstat(*fd, &sb) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", path);
		close(*fd);
		*fd = -1;
		return error;
	}
	*size = (uint64_t)sb.st_size;
	return RO_OK;
}

void
store_blob_gc(struct store_room *r, const char *hash)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < r->st.n_artifacts; i++)
		if (strcmp(r->st.artifacts[i].content_hash, hash) == 0)
			return;
	if (blob_path(path, sizeof(path), r, hash, NULL) == 0 &&
	    unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);	/* removed at the next load */
}
