/*
 * specset.h: all RoomSpecs under one or more paths (files or folders,
 * searched recursively for *.yaml and *.yml; hidden entries skipped).
 *
 * One broken file never hides the others: invalid files are reported in
 * the diag and listed in bad_files; the valid specs are kept. Two files
 * declaring the same roomId are both errors and both left out (the room
 * is left as it is). Not thread-safe.
 */
#ifndef RO_SPECSET_H
#define RO_SPECSET_H

#include <stdbool.h>

#include "roomops/diag.h"
#include "roomops/model.h"

#define RO_SPECSET_FILES_MAX	100000	/* spec files per set */

struct ro_specset {
	struct ro_spec	**specs;	/* valid, unique roomIds, path order */
	size_t		  n;
	struct ro_strv	  bad_files;	/* files with errors */
	struct ro_strv	  bad_rooms;	/* roomIds left out as duplicates */
	struct ro_diag	  diag;		/* every error and warning */
};

/*
 * Load every spec under paths. With resolve_seeds, seed content is read
 * (ro_seed_read_fs) with each argument folder as the root (a file argument:
 * its folder), and content is dropped again after fingerprinting unless
 * keep_content.
 * @param[out] out  new set (ro_specset_free), also when some files failed
 * @return RO_OK (check out->bad_files), RO_ENOTFOUND (a path does not
 *         exist), RO_EIO, RO_ENOMEM, RO_ETOOBIG (too many files)
 */
int	ro_specset_load(struct ro_specset **out, char *const *paths,
	    size_t n_paths, bool resolve_seeds, bool keep_content,
	    struct ro_err *err);
/*
 * Only the walk of ro_specset_load(): every spec file under the folder
 * root (the same rules: *.yaml and *.yml, hidden entries and links leaving
 * the root skipped, sorted, each file once), as paths relative to root,
 * appended to out. Walk problems go to diag.
 * @return RO_OK, RO_ENOTFOUND, RO_EIO, RO_ENOMEM, RO_ETOOBIG
 */
int	ro_specset_list(struct ro_strv *out, const char *root,
	    struct ro_diag *diag, struct ro_err *err);
/* Is name (or a path) a spec file name: "*.yaml" or "*.yml"? */
bool	ro_specset_is_spec_name(const char *name);
/* Spec for roomId, or NULL. */
struct ro_spec *ro_specset_find(const struct ro_specset *set,
	    const char *room_id);
void	ro_specset_free(struct ro_specset *set);

#endif
