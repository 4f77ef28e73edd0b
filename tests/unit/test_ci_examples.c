/*
 * test_ci_examples.c: the CI examples of docs/ci.md (the three files in
 * deploy/ci/) parse as YAML and do what the page says: on pull/merge
 * requests, run `roomops validate` and `roomops plan --git-diff ...
 * --output markdown`, and post the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roomops/buf.h"
#include "roomops/diag.h"
#include "roomops/file.h"
#include "roomops/yaml.h"
#include "testutil.h"

static const struct ro_node *
get(const struct ro_node *map, const char *key)
{
	size_t	i;

	if (map == NULL || map->type != RO_NODE_MAP)
		return NULL;
	for (i = 0; i < ro_node_map_size(map); i++)
		if (strcmp(ro_node_map_key(map, i)->str, key) == 0)
			return ro_node_map_value(map, i);
	return NULL;
}

/* Does a scalar under n hold every needle? (one scalar for all) */
static bool
holds(const struct ro_node *n, const char *const *needles)
{
	size_t	i;

	if (n == NULL)
		return false;
	if (n->type == RO_NODE_SEQ || n->type == RO_NODE_MAP) {
		for (i = 0; i < n->n; i++)
			if (holds(&n->items[i], needles))
				return true;
		return false;
	}
	if (n->str == NULL)
		return false;
	for (i = 0; needles[i] != NULL; i++)
		if (strstr(n->str, needles[i]) == NULL)
			return false;
	return true;
}

static void
load(const char *name, struct ro_node *root)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct ro_diag	 diag = RO_DIAG_INIT;
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/deploy/ci/%s",
	    tu_env("RO_SOURCE_DIR", "."), name);
	ro_buf_init(&b, 1u << 20);
	assert_int_equal(ro_file_read(path, 1u << 20, &b, NULL), 0);
	if (ro_yaml_parse(root, path, ro_buf_cstr(&b), b.len, 64, &diag) != 0)
		fail_msg("%s", diag.errors.n > 0 ? diag.errors.v[0] : path);
	assert_int_equal(root->type, RO_NODE_MAP);
	ro_diag_release(&diag);
	ro_buf_release(&b);
}

static const char *const validate[] = { "roomops", "validate", NULL };
static const char *const plan_md[] = { "plan", "--git-diff",
    "--output markdown", NULL };

/* GitHub and Gitea Actions share the workflow syntax. */
static void
check_actions(const char *name, const char *const *comment)
{
	struct ro_node		 root = RO_NODE_INIT;
	const struct ro_node	*on, *steps;

	load(name, &root);
	on = get(&root, "on");
	assert_non_null(get(on, "pull_request"));
	steps = get(get(get(&root, "jobs"), "plan"), "steps");
	assert_non_null(steps);
	assert_int_equal(steps->type, RO_NODE_SEQ);
	assert_true(holds(steps, validate));
	assert_true(holds(steps, plan_md));
	assert_true(holds(steps, comment));
	ro_node_release(&root);
}

static void
test_github(void **state)
{
	static const char *const comment[] = { "gh pr comment", NULL };

	(void)state;
	check_actions("github-actions.yml", comment);
}

static void
test_gitea(void **state)
{
	static const char *const comment[] = { "/issues/", "/comments", NULL };

	(void)state;
	check_actions("gitea-actions.yml", comment);
}

static void
test_gitlab(void **state)
{
	static const char *const mr[] = { "merge_request_event", NULL };
	static const char *const note[] = { "/merge_requests/", "/notes",
	    NULL };
	struct ro_node		 root = RO_NODE_INIT;
	const struct ro_node	*plan, *comment;

	(void)state;
	load("gitlab-ci.yml", &root);
	plan = get(&root, "roomops-plan");
	comment = get(&root, "roomops-comment");
	assert_non_null(plan);
	assert_non_null(comment);
	assert_true(holds(get(plan, "rules"), mr));
	assert_true(holds(get(plan, "script"), validate));
	assert_true(holds(get(plan, "script"), plan_md));
	assert_true(holds(get(comment, "script"), note));
	ro_node_release(&root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github),
		cmocka_unit_test(test_gitlab),
		cmocka_unit_test(test_gitea),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
