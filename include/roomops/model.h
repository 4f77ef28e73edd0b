/*
 * model.h: the room data model shared by specs (desired) and RoomState
 * (observed), the plan, the RoomServer client and roomserver-sim.
 *
 * The structs are open on purpose: the plan, the sim and the encoders walk
 * them field by field, and accessors would add code and no safety. Every
 * pointer field is owned by the struct that holds it; strings are
 * NUL-terminated UTF-8; optional strings are NULL when absent. Release
 * functions free contents and accept zeroed structs. Not thread-safe.
 */
#ifndef RO_MODEL_H
#define RO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "roomops/err.h"
#include "roomops/strv.h"

/* Limits of roomspec.md. */
#define RO_SPEC_FILE_MAX	(1u << 20)	/* bytes */
#define RO_SPEC_DEPTH_MAX	32		/* nesting levels */
#define RO_SPEC_ENTITIES_MAX	10000
#define RO_SPEC_ARTIFACTS_MAX	10000
#define RO_SPEC_STRING_MAX	4096		/* bytes */
#define RO_ARTIFACT_MAX		(16u << 20)	/* bytes of seed content */
#define RO_STATE_JSON_MAX	(64u << 20)	/* bytes of a RoomState body */

#define RO_HEX_SHA256_LEN	64		/* characters */

enum ro_seed_state {
	RO_SEED_NONE = 0,	/* no seedFrom */
	RO_SEED_UNRESOLVED,	/* seedFrom set, content not read yet */
	RO_SEED_OK,		/* content read, fingerprint set */
	RO_SEED_MISSING		/* file absent: blocks this artifact only */
};

struct ro_entity_policy {
	char		*allow_commands_from;	/* default "any" */
	bool		 sandbox_mode;		/* default false */
	struct ro_strv	 env_whitelist;
	struct ro_strv	 scopes;
};

struct ro_entity {
	char		*id;
	char		*kind;		/* lower-case: human|agent|npc|orchestrator */
	char		*display_name;	/* NULL when absent */
	char		*visibility;	/* public|team|owner, default team */
	char		*owner_user_id;	/* NULL when absent */
	struct ro_strv	 capabilities;
	struct ro_entity_policy policy;
	unsigned	 line, col;	/* position in the spec file; 0 unknown */
};

struct ro_artifact {
	char		*name;
	char		*type;
	char		*workspace;
	struct ro_strv	 tags;
	/* desired side (spec) */
	char		*seed_from;	/* NULL when absent */
	bool		 promote_after_seed;
	enum ro_seed_state seed;
	char		*seed_reason;	/* why RO_SEED_MISSING; owned */
	unsigned char	*content;	/* resolved seed bytes; owned; may be NULL */
	size_t		 content_len;
	unsigned	 line, col;	/* of the list item */
	unsigned	 seed_line, seed_col;	/* of seedFrom */
	/* both sides: "" when unknown */
	char		 fingerprint[RO_HEX_SHA256_LEN + 1];
	/* observed side (RoomState) */
	char		 content_hash[RO_HEX_SHA256_LEN + 1];
	uint64_t	 size;
	long		 version;
	bool		 is_promoted;
};

struct ro_policies {
	char	*dm_visibility_default;		/* public|team|owner */
	bool	 allow_resource_creation;	/* default false */
	long	 max_artifacts_per_entity;	/* default 100 */
};

/* Bits naming policy fields (plan, PUT bodies). */
#define RO_POL_DM_VISIBILITY	0x1u
#define RO_POL_ALLOW_CREATION	0x2u
#define RO_POL_MAX_ARTIFACTS	0x4u

/* Desired state of one room, from one RoomSpec document. */
struct ro_spec {
	char		*path;		/* origin: file path or "<api>" */
	char		*name;		/* metadata.name, NULL when absent */
	long		 version;	/* metadata.version > 0 */
	struct ro_strv	 ann_keys;	/* metadata.annotations, parallel */
	struct ro_strv	 ann_values;
	char		*room_id;
	struct ro_entity *entities;
	size_t		 n_entities;
	struct ro_artifact *artifacts;
	size_t		 n_artifacts;
	struct ro_policies policies;	/* defaults applied */
	struct ro_strv	 warnings;	/* "path:line:col: field: text" */
	bool		 prune;		/* the room's spec was deleted: remove
					   every entity and artifact, leave
					   the policies as they are */
};

/* Observed state of one room (GET /room/{id}/state). */
struct ro_state {
	char		*room_id;
	long		 revision;
	char		*last_updated;	/* NULL when absent */
	struct ro_entity *entities;
	size_t		 n_entities;
	struct ro_artifact *artifacts;
	size_t		 n_artifacts;
	struct ro_policies policies;
};

void	ro_entity_release(struct ro_entity *e);
void	ro_artifact_release(struct ro_artifact *a);
void	ro_policies_release(struct ro_policies *p);
/* Deep copies; dst is overwritten (release it first). RO_ENOMEM. */
int	ro_entity_copy(struct ro_entity *dst, const struct ro_entity *src);
int	ro_artifact_copy(struct ro_artifact *dst, const struct ro_artifact *src);
int	ro_policies_copy(struct ro_policies *dst, const struct ro_policies *src);
/* Set p to the defaults of roomspec.md ("team", false, 100). RO_ENOMEM. */
int	ro_policies_default(struct ro_policies *p);
/* Entity drift: kind, displayName, visibility, ownerUserId, capabilities,
 * policy. */
bool	ro_entity_equal(const struct ro_entity *a, const struct ro_entity *b);
/* Equal strings, NULL equal only to NULL. */
bool	ro_model_str_eq(const char *a, const char *b);
/* Equal optional strings: NULL and "" are the same absent value. */
bool	ro_model_opt_eq(const char *a, const char *b);
/* The entity with id / the artifact named name among v[0..n), or NULL. */
const struct ro_entity	 *ro_entity_find(const struct ro_entity *v, size_t n,
	    const char *id);
const struct ro_artifact *ro_artifact_find(const struct ro_artifact *v,
	    size_t n, const char *name);
/* Bitmask of RO_POL_* fields that differ. */
unsigned ro_policies_diff(const struct ro_policies *want,
	    const struct ro_policies *have);

/* A deep copy of s (seed content included). RO_ENOMEM. */
int	ro_spec_copy(struct ro_spec **out, const struct ro_spec *s);
/* Value of annotation key, or NULL. */
const char *ro_spec_annotation(const struct ro_spec *s, const char *key);
void	ro_spec_free(struct ro_spec *s);
void	ro_state_free(struct ro_state *s);

/*
 * JSON encoders (cJSON trees, caller frees with cJSON_Delete). The entity
 * object is the Join body of roomserver-api.md when room_id is not NULL,
 * and the RoomState entity shape otherwise. NULL on ENOMEM.
 */
cJSON	*ro_entity_to_json(const struct ro_entity *e, const char *room_id);
cJSON	*ro_artifact_to_json(const struct ro_artifact *a);	/* state shape */
cJSON	*ro_policies_to_json(const struct ro_policies *p);
/* A JSON array of the strings of sv. NULL on ENOMEM. */
cJSON	*ro_strv_to_json(const struct ro_strv *sv);

#endif
