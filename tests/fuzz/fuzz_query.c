/* tests/fuzz/fuzz_query.c: the query language — sk_query_parse() and
 * sk_query_dump() on any bytes. A parsed tree respects the documented
 * limits; a refusal is SK_EINVAL with a Polish message in valid UTF-8. */
#include "fuzz_common.h"
#include "index/private.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count_nodes(const struct sk_qnode *n, size_t depth, size_t *max_depth)
{
	size_t c = 1;
	if (depth > *max_depth)
		*max_depth = depth;
	for (size_t i = 0; i < n->n_kids; i++)
		c += count_nodes(n->kids[i], depth + 1, max_depth);
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_arena *a;
	struct sk_qnode *root = NULL;
	struct sk_err err = { 0 };
	enum sk_status rc;
	char *q;

	if (size > 4096)
		return 0;
	q = fuzz_cstr(data, size);
	a = sk_arena_new(0);
	rc = sk_query_parse(a, q, &root, &err);
	if (rc == SK_OK) {
		size_t depth = 0;
		char *dump;
		FUZZ_CHECK(root);
		FUZZ_CHECK(strlen(q) <= SK_QUERY_MAX_BYTES);
		count_nodes(root, 0, &depth);
		/* The tree is a little deeper than the parentheses (AND/OR/NOT
		 * levels), never unbounded. */
		FUZZ_CHECK(depth <= 4 * SK_QUERY_MAX_DEPTH + 8);
		dump = sk_query_dump(a, root);
		FUZZ_CHECK(dump);
		FUZZ_CHECK(sk_utf8_valid(dump, strlen(dump)) ||
		           !sk_utf8_valid(q, strlen(q)));
	} else {
		FUZZ_CHECK(rc == SK_EINVAL);
		FUZZ_CHECK(err.msg[0]);
		FUZZ_CHECK(sk_utf8_valid(err.msg, strlen(err.msg)));
	}
	sk_arena_free(&a);
	free(q);
	return 0;
}
