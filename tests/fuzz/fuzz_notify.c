/*
 * fuzz_notify.c: libFuzzer target for the summary of a commit's audit
 * records and the remote URL parsing of the commit statuses
 * (agent/notify_host.c). The records come from refs/notes/roomops, which
 * anyone who can push to origin can write.
 *
 * Input: the first line is a remote URL; every other line is a record.
 *
 * Oracles, besides ASan/UBSan:
 * - the summary never fails but for ENOMEM, its description is at most
 *   RO_NOTIFY_DESC_MAX bytes and valid UTF-8 when the input is (and has
 *   no JSON escapes), and the
 *   records it returns are a JSON array;
 * - a repository derived from a URL is never empty; for GitLab it holds
 *   no '/', for the others exactly one.
 *
 *	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRO_FUZZ=ON \
 *	    -DRO_TESTS=OFF && cmake --build build-fuzz --target fuzz_notify
 *	build-fuzz/fuzz_notify -max_total_time=60 tests/fuzz/corpus/notify
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "roomops/node.h"
#include "notify_host.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINES_MAX	64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*buf, *p, *nl, *lines[LINES_MAX];
	char			 desc[RO_NOTIFY_DESC_MAX + 1];
	struct ro_buf		 host = RO_BUF_INIT, repo = RO_BUF_INIT,
				 room = RO_BUF_INIT, recs = RO_BUF_INIT;
	enum ro_notify_state	 st;
	size_t			 n = 0, i, slashes;
	bool			 plain;
	cJSON			*arr;
	int			 k;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* before the lines are cut out of buf */
	plain = memchr(buf, '\\', size) == NULL &&
	    ro_node_utf8_valid(buf, size, NULL);
	p = buf;
	while (p != NULL && n < LINES_MAX) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		lines[n++] = p;
		p = nl != NULL ? nl + 1 : NULL;
	}
	for (k = 0; k < RO_NOTIFY_PROVIDER_MAX; k++) {
		ro_buf_reset(&host);
		ro_buf_reset(&repo);
		if (ro_notify_host_repo((enum ro_notify_provider)k, lines[0],
		    &host, &repo, NULL) != RO_OK)
			continue;
		if (repo.len == 0)
			abort();
		for (i = 0, slashes = 0; i < repo.len; i++)
			slashes += repo.ptr[i] == '/';
		if (k == RO_NOTIFY_GITLAB ? slashes != 0 : slashes != 1)
			abort();
	}
	if (n > 1) {
		if (ro_notify_host_summary((const char *const *)lines + 1,
		    n - 1, NULL, NULL, &st, desc, &room, &recs) != RO_OK)
			abort();
		if (strlen(desc) > RO_NOTIFY_DESC_MAX)
			abort();
		/* (\u escapes may decode to anything) */
		if (plain && !ro_node_utf8_valid(desc, strlen(desc), NULL))
			abort();
		if ((arr = cJSON_Parse(ro_buf_cstr(&recs))) == NULL ||
		    !cJSON_IsArray(arr))
			abort();
		cJSON_Delete(arr);
	}
	ro_buf_release(&host);
	ro_buf_release(&repo);
	ro_buf_release(&room);
	ro_buf_release(&recs);
	free(buf);
	return 0;
}
