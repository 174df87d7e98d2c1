/* index/fts.c: the 'skarbnica' FTS5 tokenizer. FTS5 gets exactly the terms
 * the Polish analyzer gives Xapian (analyze.c); nothing here tokenizes on
 * its own or wraps unicode61, and no query logic lives here. */
#include "index/private.h"

#include <sqlite3.h>
#include <string.h>

/* The tokenizer has no state of its own: each call uses the calling
 * thread's analyzer, so one connection may be used from any thread. */
struct fts_tokenizer {
	int unused;
};

static struct fts_tokenizer the_tokenizer;

struct fts_call {
	void *pctx;
	int (*xtoken)(void *, int, const char *, int, int, int);
	bool prefix; /* a prefix query: the folded surface only */
	int rc;
};

static int
tok_create(void *ctx, const char **args, int nargs, Fts5Tokenizer **out)
{
	(void)ctx;
	(void)args;
	*out = NULL;
	if (nargs > 0) /* tokenize = 'skarbnica' takes no options */
		return SQLITE_ERROR;
	*out = (Fts5Tokenizer *)&the_tokenizer;
	return SQLITE_OK;
}

static void
tok_delete(Fts5Tokenizer *t)
{
	(void)t;
}

static int
on_term(void *vctx, const char *term, size_t len, uint32_t pos, size_t start,
        size_t end, bool colocated)
{
	struct fts_call *c = vctx;
	(void)pos;

	if (c->prefix && colocated)
		return 0;
	c->rc = c->xtoken(c->pctx, colocated ? FTS5_TOKEN_COLOCATED : 0, term,
	                  (int)len, (int)start, (int)end);
	return c->rc != SQLITE_OK;
}

/* FTS5 calls this for documents (FTS5_TOKENIZE_DOCUMENT, and for the
 * 'delete' command with the old values, which must give the same tokens:
 * the analyzer is deterministic), for auxiliary functions (AUX) and for
 * the strings of a MATCH expression (QUERY, maybe with PREFIX). Colocated
 * tokens in a query are alternatives for one position. */
static int
tok_tokenize(Fts5Tokenizer *t, void *pctx, int flags, const char *text, int n,
             int (*xtoken)(void *, int, const char *, int, int, int))
{
	struct fts_call c = { pctx, xtoken, false, SQLITE_OK };
	enum sk_analyze_mode mode = SK_ANALYZE_INDEX;
	(void)t;

	if (flags & FTS5_TOKENIZE_QUERY) {
		mode = SK_ANALYZE_QUERY;
		c.prefix = (flags & FTS5_TOKENIZE_PREFIX) != 0;
	}
	if (!text || n <= 0)
		return SQLITE_OK;
	/* Documents may replay the batch's earlier analysis (terms.c). */
	if (mode == SK_ANALYZE_INDEX)
		sk_analyze_doc(text, (size_t)n, on_term, &c);
	else
		sk_analyze(sk_analyzer_thread(), text, (size_t)n, mode, on_term,
			   &c);
	return c.rc;
}

int
sk_fts_register(struct sqlite3 *db, void *unused)
{
	fts5_tokenizer tok = { tok_create, tok_delete, tok_tokenize };
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;
	int rc;
	(void)unused;

	rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	rc = sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	if (!api || api->iVersion < 2)
		return SQLITE_ERROR;
	return api->xCreateTokenizer(api, "skarbnica", NULL, &tok, NULL);
}
