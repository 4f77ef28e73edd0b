/*
 * fuzz_state.c: libFuzzer target for RoomState decoding.
 *
 * Any body must decode or fail cleanly (ASan/UBSan watch). A body that
 * decodes must re-encode, and the encoding must decode again to the same
 * encoding: what we accept we can also write back exactly.
 * Seed corpus: tests/fuzz/corpus/state/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/state.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
encode(const struct ro_state *s)
{
	cJSON	*j;
	char	*txt;

	if ((j = ro_state_to_json(s)) == NULL)
		abort();		/* only ENOMEM could do this */
	txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (txt == NULL)
		abort();
	return txt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ro_state	*s = NULL, *s2 = NULL;
	struct ro_err	 err = RO_ERR_INIT;
	char		*t1 = NULL, *t2 = NULL;
	int		 rc;

	rc = ro_state_parse_json(&s, (const char *)data, size, &err);
	if (rc != RO_OK) {
		/* a failure always says why, and leaves out untouched */
		if (s != NULL || err.code != rc || err.msg[0] == '\0')
			abort();
		return 0;
	}
	t1 = encode(s);
	if (ro_state_parse_json(&s2, t1, strlen(t1), &err) != RO_OK) {
		fprintf(stderr, "re-decode failed: %s\n%s\n", err.msg, t1);
		abort();
	}
	t2 = encode(s2);
	if (strcmp(t1, t2) != 0 || s->n_entities != s2->n_entities ||
	    s->n_artifacts != s2->n_artifacts ||
	    s->revision != s2->revision) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	ro_state_free(s);
	ro_state_free(s2);
	return 0;
}
