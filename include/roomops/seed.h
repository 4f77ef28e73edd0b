/*
 * seed.h: resolving artifact seed content (seedFrom) from a source root,
 * either a folder on disk or any other store through a reader callback
 * (Git blobs). Paths are confined to the root: absolute paths and escapes
 * after resolving ".." are errors; on disk, symlinks are resolved with
 * realpath(3) and must stay inside the root too.
 */
#ifndef RO_SEED_H
#define RO_SEED_H

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/model.h"

/*
 * Read the file at relpath (normalised, relative to the root, never
 * escaping it) into out, at most RO_ARTIFACT_MAX bytes.
 * @return RO_OK, RO_ENOTFOUND (absent: the artifact is blocked),
 *         RO_EINVALID (e.g. a symlink leaving the root), RO_ETOOBIG, RO_EIO
 */
typedef int ro_seed_reader(void *arg, const char *relpath,
	    struct ro_buf *out, struct ro_err *err);

/*
 * Normalise dir/seed_from lexically into out (relative to the root, no
 * "." or ".." parts). RO_EINVALID when absolute or escaping the root.
 */
int	ro_seed_normalize(struct ro_buf *out, const char *dir,
	    const char *seed_from, struct ro_err *err);

/*
 * For every artifact of spec with seedFrom: normalise against spec_dir
 * (the spec file's folder, relative to the root; "" for the root), read it
 * through reader, set content, fingerprint and seed state. A missing file
 * sets RO_SEED_MISSING with a reason (not an error); an escape or other
 * invalid path is an error in diag naming the seedFrom line.
 * @return RO_OK, RO_EINVALID (see diag), RO_ENOMEM, RO_EIO
 */
int	ro_seed_resolve(struct ro_spec *spec, const char *spec_dir,
	    ro_seed_reader *reader, void *arg, struct ro_diag *diag,
	    struct ro_err *err);

/* Reader over a folder: arg is the root path (const char *). Checks with
 * realpath(3) that the file stays inside the root. */
int	ro_seed_read_fs(void *arg, const char *relpath, struct ro_buf *out,
	    struct ro_err *err);

/* Drop content bytes of every artifact (fingerprints stay). */
void	ro_seed_drop_content(struct ro_spec *spec);

#endif
