/* index/xap.cc: the Xapian wrapper — the only C++ file and the only file
 * that includes <xapian.h>. Everything here is static or in the anonymous
 * namespace except the sk_xdb_* entry points declared in private.h.
 *
 * Rules (CONVENTIONS.md "The Xapian C wrapper"):
 * - no exception crosses into C: every entry point is try/catch and
 *   xap_error() classifies what it caught; the C callbacks we hand to
 *   sk_analyze() catch too and stop the analyzer, and we rethrow after it
 *   returns (unwinding through C frames is undefined);
 * - objects live in std::unique_ptr until fully built;
 * - reads retry DatabaseModifiedError up to 3 times, reopening in between.
 *
 * The document layout (one place, here):
 *   docid          = the store id (messages.id), so result ids need no
 *                    document read; Q<id> is kept as the unique term too
 *   unprefixed     every term of every field, so a bare word matches any
 *                  field as in FTS5 (all columns)
 *   S<term>        subject terms (subject:)      A<term>  sender (from:)
 *   positions      field base + word position; bases far apart so that
 *                  phrases never cross fields
 *   K<slug> topic  G<slug> partner  H has attachment  V held  Y<year>
 *   value 0        date as YYYYMMDD (UTC)
 *   value 1        thread id (collapse key)
 *   value 2        sortable_serialise(date) (sort, exact date ranges)
 *   data           the id in decimal
 */
#include "index/private.h"

#include <xapian.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

const Xapian::valueno SLOT_DAY = 0;
const Xapian::valueno SLOT_THREAD = 1;
const Xapian::valueno SLOT_DATE = 2;

/* Position bases per field (termpos is 32-bit). */
const Xapian::termpos BASE_SUBJECT = 1;
const Xapian::termpos BASE_SENDER = 1000000;
const Xapian::termpos BASE_BODY = 2000000;
const Xapian::termpos BASE_ATTACH = 2000000000;

const Xapian::termcount WDF_SUBJECT = 3;

/* Xapian refuses terms over 245 bytes; prefixes take one more. */
const size_t MAX_TERM = 240;

const int READ_TRIES = 3;

enum sk_status
xap_error(struct sk_err *err, const char *what)
{
	try {
		throw;
	} catch (const Xapian::DatabaseModifiedError &e) {
		return sk_err_set(err, SK_EAGAIN, "%s: %s", what,
				  e.get_msg().c_str());
	} catch (const Xapian::DatabaseLockError &e) {
		return sk_err_set(err, SK_EAGAIN,
				  "%s: the xapian index is locked by another "
				  "writer (is an ingest running?): %s",
				  what, e.get_msg().c_str());
	} catch (const Xapian::DatabaseNotFoundError &e) {
		return sk_err_set(err, SK_ENOTFOUND, "%s: %s", what,
				  e.get_msg().c_str());
	} catch (const Xapian::QueryParserError &e) {
		return sk_err_set(err, SK_EINVAL, "%s: %s", what,
				  e.get_msg().c_str());
	} catch (const Xapian::Error &e) {
		return sk_err_set(err, SK_EINDEX, "%s: %s: %s", what,
				  e.get_type(), e.get_msg().c_str());
	} catch (const std::bad_alloc &) {
		return sk_err_set(err, SK_ENOMEM, "%s: out of memory", what);
	} catch (const std::exception &e) {
		return sk_err_set(err, SK_EINDEX, "%s: %s", what, e.what());
	} catch (...) {
		return sk_err_set(err, SK_EINDEX, "%s: unknown exception",
				  what);
	}
}

std::string
id_term(int64_t id)
{
	return "Q" + std::to_string(id);
}

/* ---- terms from the analyzer ---------------------------------------------- */

/* One word position of a query word or phrase: its terms, deduplicated. */
typedef std::vector<std::vector<std::string>> positions;

struct collect_ctx {
	positions *out;
	bool first_is_stop; /* the surface term of position 0 */
	std::exception_ptr ex;
};

int
collect_cb(void *vctx, const char *term, size_t len, uint32_t pos,
	   size_t start, size_t end, bool colocated)
{
	collect_ctx *c = static_cast<collect_ctx *>(vctx);
	(void)start;
	(void)end;
	try {
		if (!len)
			return 0;
		if (c->out->size() <= pos)
			c->out->resize(pos + 1);
		std::vector<std::string> &v = (*c->out)[pos];
		std::string t(term, len);
		if (pos == 0 && !colocated && v.empty())
			c->first_is_stop = sk_analyze_is_stop(term, len);
		for (const std::string &have : v)
			if (have == t)
				return 0;
		v.push_back(t);
	} catch (...) {
		c->ex = std::current_exception();
		return 1;
	}
	return 0;
}

/* The query-mode terms of text, by position. Empty positions (the analyzer
 * should emit none) are removed so that a phrase stays contiguous. */
positions
analyze_query(const char *text, bool *is_stop)
{
	positions p;
	collect_ctx c{ &p, false, nullptr };
	sk_analyze(sk_analyzer_thread(), text, strlen(text), SK_ANALYZE_QUERY,
		   collect_cb, &c);
	if (c.ex)
		std::rethrow_exception(c.ex);
	positions out;
	for (auto &v : p)
		if (!v.empty())
			out.push_back(std::move(v));
	if (is_stop)
		*is_stop = out.size() == 1 && c.first_is_stop;
	return out;
}

struct posting_ctx {
	Xapian::Document *doc;
	Xapian::termpos base, limit;
	Xapian::termcount wdf;
	const char *prefix;
	std::exception_ptr ex;
};

int
posting_cb(void *vctx, const char *term, size_t len, uint32_t pos,
	   size_t start, size_t end, bool colocated)
{
	posting_ctx *c = static_cast<posting_ctx *>(vctx);
	(void)start;
	(void)end;
	(void)colocated;
	try {
		if (!len || len > MAX_TERM)
			return 0;
		if (pos >= c->limit) /* the field is full */
			return 1;
		std::string t(term, len);
		c->doc->add_posting(t, c->base + pos, c->wdf);
		if (c->prefix)
			c->doc->add_posting(c->prefix + t, c->base + pos,
					    c->wdf);
	} catch (...) {
		c->ex = std::current_exception();
		return 1;
	}
	return 0;
}

void
index_field(Xapian::Document &doc, const char *text, Xapian::termpos base,
	    Xapian::termpos limit, Xapian::termcount wdf, const char *prefix)
{
	if (!text || !*text)
		return;
	posting_ctx c{ &doc, base, limit, wdf, prefix, nullptr };
	sk_analyze(sk_analyzer_thread(), text, strlen(text), SK_ANALYZE_INDEX,
		   posting_cb, &c);
	if (c.ex)
		std::rethrow_exception(c.ex);
}

std::string
day_string(time_t t)
{
	struct tm tm;
	char s[48];
	gmtime_r(&t, &tm);
	snprintf(s, sizeof(s), "%04d%02d%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
	return s;
}

/* ---- compiling the query tree ------------------------------------------- */

/* A node compiles to a query, or to nothing when it imposes no condition
 * (a stop word outside a phrase, a word without terms such as "---"): the
 * parent then drops it. search.c's FTS5 compiler applies the same rules so
 * that both backends return the same set. */
struct compiled {
	bool present;
	bool negative; /* a NOT: the parent subtracts q */
	Xapian::Query q;
};

class compiler {
      public:
	bool drop_stops = true;

	compiled compile(const sk_qnode *n);

      private:
	compiled text(const sk_qnode *n);
};

const char *
field_prefix(enum sk_qfield f)
{
	switch (f) {
	case SK_QF_SUBJECT:
		return "S";
	case SK_QF_FROM:
		return "A";
	case SK_QF_ANY:
		break;
	}
	return "";
}

Xapian::Query
position_query(const std::vector<std::string> &terms, const char *prefix,
	       Xapian::Query::op op)
{
	std::vector<Xapian::Query> v;
	for (const std::string &t : terms)
		v.emplace_back(prefix + t);
	if (v.size() == 1)
		return v[0];
	return Xapian::Query(op, v.begin(), v.end());
}

compiled
compiler::text(const sk_qnode *n)
{
	bool stop = false;
	positions p = analyze_query(n->text, &stop);
	const char *prefix = field_prefix(n->field);

	if (p.empty())
		return compiled{ false, false, Xapian::Query() };
	if (p.size() == 1) {
		if (n->kind == SK_Q_WORD && stop && drop_stops)
			return compiled{ false, false, Xapian::Query() };
		return compiled{ true, false,
				 position_query(p[0], prefix,
						Xapian::Query::OP_SYNONYM) };
	}
	/* OP_PHRASE in 1.4 takes only terms or OP_OR of terms (OP_SYNONYM
	 * throws UnimplementedError), so each position is an OR. */
	std::vector<Xapian::Query> v;
	for (const auto &terms : p)
		v.push_back(position_query(terms, prefix, Xapian::Query::OP_OR));
	return compiled{ true, false,
			 Xapian::Query(Xapian::Query::OP_PHRASE, v.begin(),
				       v.end(), (Xapian::termcount)v.size()) };
}

Xapian::Query
positive(const compiled &c)
{
	if (!c.negative)
		return c.q;
	return Xapian::Query(Xapian::Query::OP_AND_NOT, Xapian::Query::MatchAll,
			     c.q);
}

compiled
compiler::compile(const sk_qnode *n)
{
	switch (n->kind) {
	case SK_Q_WORD:
	case SK_Q_PHRASE:
		return text(n);
	case SK_Q_NOT: {
		compiled k = compile(n->kids[0]);
		if (!k.present)
			return k;
		if (k.negative) /* NOT NOT x */
			return compiled{ true, false, k.q };
		return compiled{ true, true, k.q };
	}
	case SK_Q_AND: {
		std::vector<Xapian::Query> pos, filters, neg;
		for (size_t i = 0; i < n->n_kids; i++) {
			compiled k = compile(n->kids[i]);
			if (!k.present)
				continue;
			if (k.negative)
				neg.push_back(k.q);
			else if (n->kids[i]->kind == SK_Q_TOPIC ||
				 n->kids[i]->kind == SK_Q_PARTNER ||
				 n->kids[i]->kind == SK_Q_DATE ||
				 n->kids[i]->kind == SK_Q_HAS_ATTACHMENT)
				filters.push_back(k.q);
			else
				pos.push_back(k.q);
		}
		if (pos.empty() && filters.empty() && neg.empty())
			return compiled{ false, false, Xapian::Query() };
		if (pos.empty() && filters.empty())
			/* Only exclusions: the parent subtracts their union. */
			return compiled{ true, true,
					 Xapian::Query(Xapian::Query::OP_OR,
						       neg.begin(), neg.end()) };
		Xapian::Query q;
		if (!pos.empty())
			q = Xapian::Query(Xapian::Query::OP_AND, pos.begin(),
					  pos.end());
		if (!filters.empty()) {
			Xapian::Query f(Xapian::Query::OP_AND, filters.begin(),
					filters.end());
			q = pos.empty() ? f
					: Xapian::Query(Xapian::Query::OP_FILTER,
							q, f);
		}
		if (!neg.empty())
			q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
					  Xapian::Query(Xapian::Query::OP_OR,
							neg.begin(), neg.end()));
		return compiled{ true, false, q };
	}
	case SK_Q_OR: {
		std::vector<Xapian::Query> v;
		for (size_t i = 0; i < n->n_kids; i++) {
			compiled k = compile(n->kids[i]);
			if (k.present)
				v.push_back(positive(k));
		}
		if (v.empty())
			return compiled{ false, false, Xapian::Query() };
		return compiled{ true, false,
				 Xapian::Query(Xapian::Query::OP_OR, v.begin(),
					       v.end()) };
	}
	case SK_Q_TOPIC:
		return compiled{ true, false, Xapian::Query(std::string("K") +
							    n->text) };
	case SK_Q_PARTNER:
		return compiled{ true, false, Xapian::Query(std::string("G") +
							    n->text) };
	case SK_Q_HAS_ATTACHMENT:
		return compiled{ true, false, Xapian::Query("H") };
	case SK_Q_DATE: {
		/* [from, to) in whole seconds: exact on slot 2. */
		Xapian::Query q;
		if (n->date_from && n->date_to)
			q = Xapian::Query(
				Xapian::Query::OP_VALUE_RANGE, SLOT_DATE,
				Xapian::sortable_serialise((double)n->date_from),
				Xapian::sortable_serialise(
					(double)n->date_to - 1));
		else if (n->date_from)
			q = Xapian::Query(Xapian::Query::OP_VALUE_GE, SLOT_DATE,
					  Xapian::sortable_serialise(
						  (double)n->date_from));
		else if (n->date_to)
			q = Xapian::Query(Xapian::Query::OP_VALUE_LE, SLOT_DATE,
					  Xapian::sortable_serialise(
						  (double)n->date_to - 1));
		else
			q = Xapian::Query::MatchAll;
		return compiled{ true, false, q };
	}
	case SK_Q_ALL:
		return compiled{ true, false, Xapian::Query::MatchAll };
	}
	return compiled{ false, false, Xapian::Query() };
}

/* True when every leaf is a stop word (or has no terms) and at least one
 * is a stop word: then stop words are kept ("a", "w" alone still search). */
void
scan_stops(const sk_qnode *n, bool *other, bool *stop)
{
	switch (n->kind) {
	case SK_Q_AND:
	case SK_Q_OR:
	case SK_Q_NOT:
		for (size_t i = 0; i < n->n_kids; i++)
			scan_stops(n->kids[i], other, stop);
		return;
	case SK_Q_WORD: {
		bool is_stop = false;
		positions p = analyze_query(n->text, &is_stop);
		if (is_stop)
			*stop = true;
		else if (!p.empty())
			*other = true;
		return;
	}
	default:
		*other = true;
	}
}

Xapian::Query
compile_root(const sk_qnode *root, bool include_held)
{
	compiler c;
	bool other = false, stop = false;
	scan_stops(root, &other, &stop);
	c.drop_stops = other || !stop;
	compiled k = c.compile(root);
	if (!k.present)
		return Xapian::Query::MatchNothing;
	Xapian::Query q = positive(k);
	if (!include_held)
		q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
				  Xapian::Query("V"));
	return q;
}

/* Sees every matching document (checkatleast = doccount), collapsed or
 * not; document data is never read (docid = store id). */
class id_spy : public Xapian::MatchSpy {
      public:
	std::vector<Xapian::docid> ids;
	void operator()(const Xapian::Document &doc, double) override
	{
		ids.push_back(doc.get_docid());
	}
};

} // namespace

/* ---- entry points ------------------------------------------------------- */

struct sk_xdb {
	std::string dir;
	std::unique_ptr<Xapian::Database> db;
	Xapian::WritableDatabase *w = nullptr; /* db, when writable */
};

enum sk_status
sk_xdb_open(const char *dir, enum sk_xdb_mode mode, struct sk_xdb **db_out,
	    struct sk_err *err)
{
	*db_out = nullptr;
	try {
		std::unique_ptr<sk_xdb> x(new sk_xdb);
		x->dir = dir;
		if (mode == SK_XDB_WRITE) {
			std::unique_ptr<Xapian::WritableDatabase> w(
				new Xapian::WritableDatabase(
					dir, Xapian::DB_CREATE_OR_OPEN));
			x->w = w.get();
			x->db = std::move(w);
		} else {
			x->db.reset(new Xapian::Database(dir));
		}
		*db_out = x.release();
		return SK_OK;
	} catch (...) {
		char what[300];
		snprintf(what, sizeof(what), "open xapian index '%s'", dir);
		return xap_error(err, what);
	}
}

void
sk_xdb_close(struct sk_xdb **db)
{
	if (!*db)
		return;
	try {
		/* A writer's destructor commits; closing first surfaces
		 * nothing we could report, so just close. */
		(*db)->db->close();
	} catch (...) {
	}
	delete *db;
	*db = nullptr;
}

enum sk_status
sk_xdb_reopen(struct sk_xdb *db, struct sk_err *err)
{
	try {
		if (!db->w)
			db->db->reopen();
		return SK_OK;
	} catch (...) {
		return xap_error(err, "reopen xapian index");
	}
}

enum sk_status
sk_xdb_put(struct sk_xdb *db, const struct sk_xdoc *d, struct sk_err *err)
{
	if (!db->w)
		return sk_err_set(err, SK_EINVAL,
				  "xapian index opened read-only");
	if (d->id <= 0 || d->id > (int64_t)UINT32_MAX)
		return sk_err_set(err, SK_EINVAL, "message id %" PRId64
				  " out of xapian's docid range", d->id);
	try {
		Xapian::Document doc;
		std::string id = std::to_string(d->id);
		struct tm tm;
		time_t date = d->date;

		index_field(doc, d->subject, BASE_SUBJECT,
			    BASE_SENDER - BASE_SUBJECT, WDF_SUBJECT, "S");
		index_field(doc, d->sender, BASE_SENDER,
			    BASE_BODY - BASE_SENDER, 1, "A");
		index_field(doc, d->body, BASE_BODY, BASE_ATTACH - BASE_BODY,
			    1, nullptr);
		index_field(doc, d->attachments, BASE_ATTACH,
			    UINT32_MAX - BASE_ATTACH, 1, nullptr);

		doc.add_boolean_term("Q" + id);
		for (size_t i = 0; i < d->n_topics; i++)
			if (d->topics[i] && *d->topics[i])
				doc.add_boolean_term(std::string("K") +
						     d->topics[i]);
		if (d->partner && *d->partner)
			doc.add_boolean_term(std::string("G") + d->partner);
		if (d->has_attachment)
			doc.add_boolean_term("H");
		if (d->held)
			doc.add_boolean_term("V");
		gmtime_r(&date, &tm);
		doc.add_boolean_term("Y" + std::to_string(tm.tm_year + 1900));

		doc.add_value(SLOT_DAY, day_string(d->date));
		doc.add_value(SLOT_THREAD,
			      Xapian::sortable_serialise((double)d->thread_id));
		doc.add_value(SLOT_DATE,
			      Xapian::sortable_serialise((double)d->date));
		doc.set_data(id);
		db->w->replace_document((Xapian::docid)d->id, doc);
		return SK_OK;
	} catch (...) {
		return xap_error(err, "index message in xapian");
	}
}

enum sk_status
sk_xdb_delete(struct sk_xdb *db, int64_t id, struct sk_err *err)
{
	if (!db->w)
		return sk_err_set(err, SK_EINVAL,
				  "xapian index opened read-only");
	try {
		db->w->delete_document(id_term(id));
		return SK_OK;
	} catch (...) {
		return xap_error(err, "delete message from xapian");
	}
}

enum sk_status
sk_xdb_commit(struct sk_xdb *db, struct sk_err *err)
{
	if (!db->w)
		return sk_err_set(err, SK_EINVAL,
				  "xapian index opened read-only");
	try {
		db->w->commit();
		return SK_OK;
	} catch (...) {
		return xap_error(err, "commit xapian index");
	}
}

int64_t
sk_xdb_doccount(struct sk_xdb *db)
{
	for (int i = 0; i < READ_TRIES; i++) {
		try {
			return (int64_t)db->db->get_doccount();
		} catch (const Xapian::DatabaseModifiedError &) {
			try {
				db->db->reopen();
			} catch (...) {
				return -1;
			}
		} catch (...) {
			return -1;
		}
	}
	return -1;
}

enum sk_status
sk_xdb_search(struct sk_xdb *db, struct sk_arena *a,
	      const struct sk_xsearch *s, int64_t **ids_out, size_t *n_out,
	      int64_t *total_out, int64_t **all_ids_out, size_t *n_all_out,
	      struct sk_err *err)
{
	*ids_out = nullptr;
	*n_out = 0;
	*total_out = 0;
	if (all_ids_out) {
		*all_ids_out = nullptr;
		*n_all_out = 0;
	}
	for (int attempt = 1;; attempt++) {
		try {
			std::vector<Xapian::docid> page;
			Xapian::Query q = compile_root(s->query,
						       s->include_held);
			Xapian::Enquire enq(*db->db);
			id_spy spy;
			Xapian::ValueCountMatchSpy threads(SLOT_THREAD);
			Xapian::doccount all = db->db->get_doccount();
			int64_t total = 0;

			enq.set_query(q);
			if (s->collapse_threads)
				enq.set_collapse_key(SLOT_THREAD);
			if (s->sort_by_date)
				enq.set_sort_by_value_then_relevance(SLOT_DATE,
								     true);
			else
				enq.set_sort_by_relevance_then_value(SLOT_DATE,
								     true);
			/* Totals come from the spies, which see every match
			 * (checkatleast = doccount): with collapsing, the
			 * MSet's estimate stays an estimate for a short page
			 * (measured: 70 for 50 threads under OP_SYNONYM). */
			enq.add_matchspy(&spy);
			if (s->collapse_threads)
				enq.add_matchspy(&threads);
			Xapian::MSet ms = enq.get_mset(
				(Xapian::doccount)s->offset,
				(Xapian::doccount)s->limit, all);
			for (auto it = ms.begin(); it != ms.end(); ++it)
				page.push_back(*it);
			if (s->collapse_threads)
				for (auto v = threads.values_begin();
				     v != threads.values_end(); ++v)
					total++;
			else
				total = (int64_t)spy.ids.size();

			/* Nothing can throw from here on. */
			*total_out = total;
			*ids_out = static_cast<int64_t *>(sk_arena_alloc(
				a, (page.size() + 1) * sizeof(int64_t)));
			for (size_t i = 0; i < page.size(); i++)
				(*ids_out)[i] = (int64_t)page[i];
			*n_out = page.size();
			if (all_ids_out) {
				*all_ids_out = static_cast<int64_t *>(
					sk_arena_alloc(a, (spy.ids.size() + 1) *
								  sizeof(int64_t)));
				for (size_t i = 0; i < spy.ids.size(); i++)
					(*all_ids_out)[i] = (int64_t)spy.ids[i];
				*n_all_out = spy.ids.size();
			}
			return SK_OK;
		} catch (const Xapian::DatabaseModifiedError &) {
			if (attempt >= READ_TRIES)
				return xap_error(err, "search xapian index");
			try {
				db->db->reopen();
			} catch (...) {
				return xap_error(err, "reopen xapian index");
			}
		} catch (...) {
			return xap_error(err, "search xapian index");
		}
	}
}
