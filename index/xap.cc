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
 *   value 3        partner slug (facets of federated searches)
 *   value 4        topic slugs joined by ' ' (facets of federated searches)
 *   data           "id\nmessage-id\nthread\ndate\nsubject\nsender": the id
 *                  in decimal first (older indexes hold only that line),
 *                  then what a federated search needs to show a hit from
 *                  a remote shard without that shard's store (newlines in
 *                  the fields become spaces; message-id is empty until
 *                  struct sk_xdoc carries it)
 *
 * Federation (sk_xdb_open_federated): one Xapian::Database made of the
 * local index (optional) and Remote::open() shards served by xapian-tcpsrv.
 * Xapian interleaves docids: merged = (local - 1) * n_shards + shard + 1.
 * The remote protocol only runs match spies it knows by name, so federated
 * searches use ValueCountMatchSpy only (no id_spy): totals come from the
 * MSet with checkatleast = doccount (exact), facets from values 0, 3, 4.
 */
#include "index/private.h"

#include <xapian.h>

#include <algorithm>
#include <cinttypes>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

const Xapian::valueno SLOT_DAY = 0;
const Xapian::valueno SLOT_THREAD = 1;
const Xapian::valueno SLOT_DATE = 2;
const Xapian::valueno SLOT_PARTNER = 3;
const Xapian::valueno SLOT_TOPICS = 4;

/* Remote shards: how long to wait for a connection and for a reply. */
const unsigned REMOTE_TIMEOUT_MS = 10000;
const unsigned REMOTE_CONNECT_TIMEOUT_MS = 5000;
const size_t MAX_SHARDS = 64;

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
		/* "Error writing block 30" alone hides a full disk: add the
		 * system's reason when Xapian has one. */
		const char *sys = e.get_error_string();
		return sk_err_set(err, SK_EINDEX, "%s: %s: %s%s%s%s", what,
				  e.get_type(), e.get_msg().c_str(),
				  sys ? " (" : "", sys ? sys : "",
				  sys ? ")" : "");
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
	sk_analyze_doc(text, strlen(text), posting_cb, &c);
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

void
data_field(std::string &out, const char *s)
{
	out += '\n';
	if (!s)
		return;
	for (; *s; s++)
		out += (*s == '\n' || *s == '\r') ? ' ' : *s;
}

std::string
doc_data(const struct sk_xdoc *d)
{
	std::string out = std::to_string(d->id);
	data_field(out, d->message_id);
	data_field(out, std::to_string(d->thread_id).c_str());
	data_field(out, std::to_string((long long)d->date).c_str());
	data_field(out, d->subject);
	data_field(out, d->sender);
	return out;
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

typedef std::vector<Xapian::docid> docids;

void
read_postlist(Xapian::Database &db, const std::string &term, docids &out)
{
	out.clear();
	out.reserve(db.get_termfreq(term));
	for (auto it = db.postlist_begin(term); it != db.postlist_end(term);
	     ++it)
		out.push_back(*it);
}

/* True when match_ids can evaluate q: terms and the boolean operators.
 * Phrases and value ranges need the matcher (positions, value streams). */
bool
evaluable(const Xapian::Query &q)
{
	switch (q.get_type()) {
	case Xapian::Query::LEAF_TERM:
	case Xapian::Query::LEAF_MATCH_ALL:
	case Xapian::Query::LEAF_MATCH_NOTHING:
		return true;
	case Xapian::Query::OP_SCALE_WEIGHT:
	case Xapian::Query::OP_AND_MAYBE:
	case Xapian::Query::OP_AND:
	case Xapian::Query::OP_FILTER:
	case Xapian::Query::OP_OR:
	case Xapian::Query::OP_SYNONYM:
	case Xapian::Query::OP_AND_NOT:
		for (size_t i = 0; i < q.get_num_subqueries(); i++)
			if (!evaluable(q.get_subquery(i)))
				return false;
		return true;
	default:
		return false;
	}
}

/* The ids matching an evaluable q, ascending, straight from the posting
 * lists: no weights, no Document per match (an Enquire with BoolWeight
 * and a spy was 600 instructions a match, 53 M for the 88,000 matches of
 * "btrfs" at 100k; this is 11 M). */
void
match_ids(Xapian::Database &db, const Xapian::Query &q, docids &out)
{
	size_t n = q.get_num_subqueries();
	docids x, y;

	switch (q.get_type()) {
	case Xapian::Query::LEAF_TERM:
		read_postlist(db, *q.get_terms_begin(), out);
		return;
	case Xapian::Query::LEAF_MATCH_ALL:
		read_postlist(db, std::string(), out);
		return;
	case Xapian::Query::OP_SCALE_WEIGHT:
	case Xapian::Query::OP_AND_MAYBE: /* matches what the first does */
		match_ids(db, q.get_subquery(0), out);
		return;
	case Xapian::Query::OP_AND:
	case Xapian::Query::OP_FILTER:
	case Xapian::Query::OP_AND_NOT:
		match_ids(db, q.get_subquery(0), out);
		for (size_t i = 1; i < n && !out.empty(); i++) {
			match_ids(db, q.get_subquery(i), x);
			y.clear();
			if (q.get_type() == Xapian::Query::OP_AND_NOT)
				std::set_difference(out.begin(), out.end(),
						    x.begin(), x.end(),
						    std::back_inserter(y));
			else
				std::set_intersection(out.begin(), out.end(),
						      x.begin(), x.end(),
						      std::back_inserter(y));
			out.swap(y);
		}
		return;
	case Xapian::Query::OP_OR:
	case Xapian::Query::OP_SYNONYM:
		out.clear();
		for (size_t i = 0; i < n; i++) {
			match_ids(db, q.get_subquery(i), x);
			out.insert(out.end(), x.begin(), x.end());
		}
		std::sort(out.begin(), out.end());
		out.erase(std::unique(out.begin(), out.end()), out.end());
		return;
	default: /* LEAF_MATCH_NOTHING; others are not evaluable */
		out.clear();
	}
}

} // namespace

/* ---- entry points ------------------------------------------------------- */

namespace {

/* A writer's background thread (sk_xdb_commit_async): it applies queued
 * puts, deletes and commits in order while the caller goes on (Xapian's
 * inverter and commit were a third of the storing process). The caller
 * builds each Xapian::Document itself (its thread has the batch's
 * analysis memo) and never touches the database while the queue is not
 * empty: every other entry point settles first. After an error the rest
 * of the queue is skipped until sk_xdb_wait() reports it. */
struct xop {
	enum { PUT, DEL, COMMIT } kind;
	Xapian::docid id;
	Xapian::Document doc;
};

struct xwriter {
	std::mutex mu;
	std::condition_variable wake, idle;
	std::deque<xop> q;
	bool busy = false, quit = false;
	enum sk_status rc = SK_OK;
	struct sk_err err = {};
	std::thread th;
};

} // namespace

/* A reader's second handle on its index and a thread that uses it: the
 * boolean pass of a phrase or date-range search runs there, beside the
 * ranked one (q04 "free space cache" at 100k: 59 M and 21 M instructions).
 * The thread lives as long as the handle: one started per search ran the
 * same pass 60 % slower (a fresh malloc arena faults its pages in again).
 * Xapian objects are used by one thread at a time. */
struct side_pass {
	Xapian::Database db;
	std::thread th;
	std::mutex mu;
	std::condition_variable cv;
	std::function<void()> job; /* set: to run; cleared when done */
	bool quit = false;

	explicit side_pass(const std::string &dir) : db(dir)
	{
		th = std::thread([this] { loop(); });
	}
	~side_pass()
	{
		{
			std::lock_guard<std::mutex> lk(mu);
			quit = true;
		}
		cv.notify_all();
		th.join();
	}
	void loop()
	{
		std::unique_lock<std::mutex> lk(mu);
		for (;;) {
			cv.wait(lk, [this] { return quit || job; });
			if (quit)
				return;
			lk.unlock();
			job(); /* catches what it throws */
			lk.lock();
			job = nullptr;
			cv.notify_all();
		}
	}
	void start(std::function<void()> f)
	{
		std::lock_guard<std::mutex> lk(mu);
		job = std::move(f);
		cv.notify_all();
	}
	void wait()
	{
		std::unique_lock<std::mutex> lk(mu);
		cv.wait(lk, [this] { return !job; });
	}
};

struct sk_xdb {
	std::string dir;
	std::unique_ptr<Xapian::Database> db;
	std::unique_ptr<side_pass> side; /* readers: see side_pass */
	Xapian::WritableDatabase *w = nullptr; /* db, when writable */
	std::unique_ptr<xwriter> bg; /* writers, once committing async */
	/* Federated: shard 0 is the local index when has_local; the names
	 * are "local" or "host:port", in add_database() order. */
	bool federated = false;
	bool has_local = false;
	std::vector<std::string> shards;
};

/* Run a read, reopening the database and trying again (READ_TRIES in all)
 * when a writer's commit overtook it; any other exception is the error. */
template <typename Read>
static enum sk_status
with_reopen(struct sk_xdb *db, const char *what, const char *reopen_what,
	    struct sk_err *err, Read read)
{
	for (int attempt = 1;; attempt++) {
		try {
			return read();
		} catch (const Xapian::DatabaseModifiedError &) {
			if (attempt >= READ_TRIES)
				return xap_error(err, what);
			try {
				db->db->reopen();
			} catch (...) {
				return xap_error(err, reopen_what);
			}
		} catch (...) {
			return xap_error(err, what);
		}
	}
}

namespace {

/* The ids of q from a boolean match (what match_ids cannot evaluate). */
void
bool_ids(Xapian::Database &d, const Xapian::Query &q, Xapian::doccount all,
	 id_spy &spy)
{
	Xapian::Enquire b(d);
	b.set_query(q);
	b.set_weighting_scheme(Xapian::BoolWeight());
	b.add_matchspy(&spy);
	b.get_mset(0, 0, all);
}

/* db's side pass at the revision of db, or NULL for writers and
 * federations or when it cannot get there (the caller then runs both
 * passes itself). */
side_pass *
side_at_revision(sk_xdb *db)
{
	if (db->w || db->federated)
		return nullptr;
	try {
		Xapian::rev want = db->db->get_revision();
		if (!db->side)
			db->side.reset(new side_pass(db->dir));
		if (db->side->db.get_revision() != want)
			db->side->db.reopen();
		if (db->side->db.get_revision() == want)
			return db->side.get();
	} catch (...) {
		db->side.reset();
	}
	return nullptr;
}

/* Waits for a started side pass however the scope is left: the job
 * points into the caller's frame. */
struct side_wait {
	side_pass *p = nullptr;
	~side_wait()
	{
		if (p)
			p->wait();
	}
};

} // namespace

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

namespace {

void
bg_run(sk_xdb *db)
{
	xwriter &b = *db->bg;
	std::unique_lock<std::mutex> lk(b.mu);
	for (;;) {
		b.wake.wait(lk, [&] { return b.quit || !b.q.empty(); });
		if (b.q.empty())
			return; /* quit */
		xop op = std::move(b.q.front());
		b.q.pop_front();
		bool skip = b.rc != SK_OK;
		b.busy = true;
		lk.unlock();
		enum sk_status rc = SK_OK;
		struct sk_err e = {};
		if (!skip) {
			try {
				if (op.kind == xop::PUT)
					db->w->replace_document(op.id, op.doc);
				else if (op.kind == xop::DEL)
					db->w->delete_document(
						id_term((int64_t)op.id));
				else
					db->w->commit();
			} catch (...) {
				rc = xap_error(&e, op.kind == xop::COMMIT
							   ? "commit xapian index"
							   : "index message in xapian");
			}
		}
		/* The document's memory goes outside the lock. */
		op.doc = Xapian::Document();
		lk.lock();
		if (rc && b.rc == SK_OK) {
			b.rc = rc;
			b.err = e;
		}
		b.busy = false;
		if (b.q.empty())
			b.idle.notify_all();
	}
}

/* Wait until the background thread has applied everything queued. */
void
settle(sk_xdb *db)
{
	if (!db->bg)
		return;
	xwriter &b = *db->bg;
	std::unique_lock<std::mutex> lk(b.mu);
	b.idle.wait(lk, [&] { return b.q.empty() && !b.busy; });
}

/* Queue op for the background thread, starting it on first use. */
void
bg_push(sk_xdb *db, xop &&op)
{
	if (!db->bg) {
		db->bg.reset(new xwriter);
		db->bg->th = std::thread(bg_run, db);
	}
	std::lock_guard<std::mutex> lk(db->bg->mu);
	db->bg->q.push_back(std::move(op));
	db->bg->wake.notify_one();
}

} // namespace

enum sk_status
sk_xdb_commit_async(struct sk_xdb *db, struct sk_err *err)
{
	if (!db->w)
		return sk_err_set(err, SK_EINVAL,
				  "xapian index opened read-only");
	try {
		bg_push(db, xop{ xop::COMMIT, 0, Xapian::Document() });
		return SK_OK;
	} catch (...) {
		return xap_error(err, "commit xapian index");
	}
}

enum sk_status
sk_xdb_wait(struct sk_xdb *db, struct sk_err *err)
{
	enum sk_status rc;
	if (!db->bg)
		return SK_OK;
	settle(db);
	std::lock_guard<std::mutex> lk(db->bg->mu);
	rc = db->bg->rc;
	if (rc && err)
		*err = db->bg->err;
	db->bg->rc = SK_OK;
	return rc;
}

void
sk_xdb_close(struct sk_xdb **db)
{
	if (!*db)
		return;
	if ((*db)->bg) {
		/* What is queued is applied; a commit queued last makes it
		 * durable, else the caller's queue still holds it. */
		settle(*db);
		{
			std::lock_guard<std::mutex> lk((*db)->bg->mu);
			(*db)->bg->quit = true;
			(*db)->bg->wake.notify_one();
		}
		(*db)->bg->th.join();
	}
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
	settle(db); /* a writer's background commits */
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
		if (d->partner && *d->partner)
			doc.add_value(SLOT_PARTNER, d->partner);
		{
			std::string topics;
			for (size_t i = 0; i < d->n_topics; i++) {
				if (!d->topics[i] || !*d->topics[i])
					continue;
				if (!topics.empty())
					topics += ' ';
				topics += d->topics[i];
			}
			if (!topics.empty())
				doc.add_value(SLOT_TOPICS, topics);
		}
		doc.set_data(doc_data(d));
		if (db->bg)
			bg_push(db, xop{ xop::PUT, (Xapian::docid)d->id,
					 std::move(doc) });
		else
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
	if (id <= 0 || id > (int64_t)UINT32_MAX)
		return sk_err_set(err, SK_EINVAL, "message id %" PRId64
				  " out of xapian's docid range", id);
	try {
		if (db->bg)
			bg_push(db, xop{ xop::DEL, (Xapian::docid)id,
					 Xapian::Document() });
		else
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
	if (db->bg) {
		enum sk_status rc = sk_xdb_commit_async(db, err);
		return rc ? rc : sk_xdb_wait(db, err);
	}
	try {
		db->w->commit();
		return SK_OK;
	} catch (...) {
		return xap_error(err, "commit xapian index");
	}
}

enum sk_status
sk_xdb_doc_dump(struct sk_xdb *db, int64_t id, struct sk_buf *out,
		struct sk_err *err)
{
	if (id <= 0 || id > (int64_t)UINT32_MAX)
		return sk_err_set(err, SK_EINVAL, "message id %" PRId64
				  " out of xapian's docid range", id);
	settle(db);
	try {
		Xapian::Document doc = db->db->get_document((Xapian::docid)id);
		for (auto t = doc.termlist_begin(); t != doc.termlist_end();
		     ++t) {
			const std::string &term = *t;
			sk_buf_add(out, term.data(), term.size());
			sk_buf_addf(out, " %u:", (unsigned)t.get_wdf());
			for (auto p = t.positionlist_begin();
			     p != t.positionlist_end(); ++p)
				sk_buf_addf(out, " %u", (unsigned)*p);
			sk_buf_addc(out, '\n');
		}
		for (Xapian::valueno v = 0; v <= SLOT_TOPICS; v++) {
			std::string s = doc.get_value(v);
			sk_buf_addf(out, "value %u: ", (unsigned)v);
			sk_buf_add(out, s.data(), s.size());
			sk_buf_addc(out, '\n');
		}
		std::string data = doc.get_data();
		sk_buf_add(out, data.data(), data.size());
		return SK_OK;
	} catch (...) {
		return xap_error(err, "read xapian document");
	}
}

int64_t
sk_xdb_doccount(struct sk_xdb *db)
{
	settle(db); /* a writer's background commits */
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
sk_xdb_terms(struct sk_xdb *db, const char *prefix,
	     int (*fn)(void *ctx, const char *term, int64_t docs), void *ctx,
	     struct sk_err *err)
{
	settle(db); /* a writer's background commits */
	if (db->federated)
		return sk_err_set(err, SK_EINVAL,
				  "federated index: no local term list");
	return with_reopen(db, "read xapian terms", "reopen xapian index",
			   err, [&]() -> enum sk_status {
		std::string p(prefix);
		for (auto it = db->db->allterms_begin(p);
		     it != db->db->allterms_end(p); ++it) {
			std::string t = *it;
			if (fn(ctx, t.c_str(),
			       (int64_t)it.get_termfreq()))
				break;
		}
		return SK_OK;
	});
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
	settle(db); /* a writer's background commits */
	if (db->federated)
		return sk_err_set(err, SK_EINVAL,
				  "federated index: use sk_xdb_fed_search");
	return with_reopen(db, "search xapian index", "reopen xapian index",
			   err, [&]() -> enum sk_status {
		std::vector<Xapian::docid> page;
		Xapian::Query q = compile_root(s->query,
					       s->include_held);
		Xapian::Enquire enq(*db->db);
		id_spy spy;
		Xapian::Query side_q;
		std::exception_ptr side_err;
		side_wait side; /* after what the side pass uses: waits first */
		Xapian::ValueCountMatchSpy threads(SLOT_THREAD);
		Xapian::doccount all = db->db->get_doccount();
		bool xapian_counts_threads = s->collapse_threads &&
					     !s->caller_counts_threads;
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
		if (xapian_counts_threads) {
			/* One full match: the spies see every match
			 * (checkatleast = doccount); with collapsing, the
			 * MSet's estimate stays an estimate for a short
			 * page (measured: 70 for 50 threads under
			 * OP_SYNONYM). */
			enq.add_matchspy(&spy);
			enq.add_matchspy(&threads);
		} else if (evaluable(q)) {
			match_ids(*db->db, q, spy.ids);
		} else if (side_pass *sp = side_at_revision(db)) {
			/* Phrases and date ranges cost the boolean match as
			 * much as the page (q04 "free space cache" at 100k:
			 * 59 M and 21 M instructions): the second core runs it.
			 * The thread gets its own copy of the query (Xapian's
			 * reference counts are not atomic). */
			side_q = Xapian::Query::unserialise(q.serialise());
			sp->start([&, sp] {
				try {
					bool_ids(sp->db, side_q, all, spy);
				} catch (...) {
					side_err = std::current_exception();
				}
			});
			side.p = sp;
		} else {
			bool_ids(*db->db, q, all, spy);
		}
		/* The page: without spies Xapian stops weighing what can
		 * no longer reach it ("btrfs" at 100k: 28 -> 5 ms with the
		 * ids read apart). */
		Xapian::MSet ms = enq.get_mset(
			(Xapian::doccount)s->offset,
			(Xapian::doccount)s->limit,
			xapian_counts_threads ? all : 0);
		for (auto it = ms.begin(); it != ms.end(); ++it)
			page.push_back(*it);
		if (side.p) {
			side.p->wait();
			side.p = nullptr;
			if (side_err)
				std::rethrow_exception(side_err);
		}
		if (xapian_counts_threads)
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
	});
}

/* ---- federation: the local index plus xapian-tcpsrv shards -------------- */

namespace {

/* "host:port, host:port" (commas or blanks between; "[::1]:port" for
 * IPv6) into (host, port) pairs. false with *why on a bad entry. */
bool
parse_shards(const char *spec, std::vector<std::pair<std::string, int>> &out,
	     std::string &why)
{
	const char *p = spec ? spec : "";
	while (*p) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		std::string item(p, (size_t)(e - p));
		p = e;
		size_t colon = item.rfind(':');
		if (colon == std::string::npos || colon == 0 ||
		    colon + 1 == item.size()) {
			why = "'" + item + "' is not host:port";
			return false;
		}
		std::string host = item.substr(0, colon);
		if (host.size() >= 2 && host.front() == '[' &&
		    host.back() == ']')
			host = host.substr(1, host.size() - 2);
		long port = 0;
		for (size_t i = colon + 1; i < item.size(); i++) {
			if (item[i] < '0' || item[i] > '9' || port > 65535) {
				port = -1;
				break;
			}
			port = port * 10 + (item[i] - '0');
		}
		if (port < 1 || port > 65535) {
			why = "bad port in '" + item + "'";
			return false;
		}
		if (out.size() >= MAX_SHARDS) {
			why = "more than " + std::to_string(MAX_SHARDS) +
			      " shards";
			return false;
		}
		out.emplace_back(host, (int)port);
	}
	return true;
}

const char *
arena_str(struct sk_arena *a, const std::string &s)
{
	return sk_arena_strndup(a, s.data(), s.size());
}

/* Split document data into its lines (see the layout at the top). */
std::vector<std::string>
data_lines(const std::string &data)
{
	std::vector<std::string> v;
	size_t at = 0;
	for (;;) {
		size_t nl = data.find('\n', at);
		if (nl == std::string::npos) {
			v.push_back(data.substr(at));
			return v;
		}
		v.push_back(data.substr(at, nl - at));
		at = nl + 1;
	}
}

int64_t
to_i64(const std::string &s)
{
	long long v = 0;
	bool neg = false;
	size_t i = 0;
	if (i < s.size() && s[i] == '-') {
		neg = true;
		i++;
	}
	for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	return neg ? -v : v;
}

struct facet_acc {
	std::vector<std::pair<std::string, int64_t>> v;
	void add(const std::string &key, int64_t n)
	{
		for (auto &kv : v)
			if (kv.first == key) {
				kv.second += n;
				return;
			}
		v.emplace_back(key, n);
	}
};

/* Most frequent first, then by value; years newest first. */
void
facet_out(struct sk_arena *a, facet_acc &acc, bool years,
	  struct sk_xfed_facet **out, size_t *n_out)
{
	std::vector<std::pair<std::string, int64_t>> &v = acc.v;
	std::sort(v.begin(), v.end(), [years](const auto &x, const auto &y) {
		if (years)
			return x.first > y.first;
		if (x.second != y.second)
			return x.second > y.second;
		return x.first < y.first;
	});
	*out = static_cast<struct sk_xfed_facet *>(
		sk_arena_alloc(a, (v.size() + 1) * sizeof(**out)));
	for (size_t i = 0; i < v.size(); i++) {
		(*out)[i].value = arena_str(a, v[i].first);
		(*out)[i].count = v[i].second;
	}
	*n_out = v.size();
}

} // namespace

enum sk_status
sk_xdb_open_federated(const char *local_dir, const char *shards,
		      struct sk_xdb **db_out, struct sk_err *err)
{
	std::vector<std::pair<std::string, int>> remotes;
	std::string why;
	*db_out = nullptr;
	if (!parse_shards(shards, remotes, why))
		return sk_err_set(err, SK_EINVAL, "search shards: %s",
				  why.c_str());
	if (!local_dir && remotes.empty())
		return sk_err_set(err, SK_EINVAL,
				  "search shards: no local index and no shard");
	std::string current = local_dir ? local_dir : "";
	try {
		std::unique_ptr<sk_xdb> x(new sk_xdb);
		x->dir = current;
		x->federated = true;
		x->db.reset(new Xapian::Database());
		if (local_dir) {
			x->db->add_database(Xapian::Database(local_dir));
			x->has_local = true;
			x->shards.push_back("local");
		}
		for (const auto &r : remotes) {
			current = r.first + ":" + std::to_string(r.second);
			x->db->add_database(Xapian::Remote::open(
				r.first, (unsigned)r.second, REMOTE_TIMEOUT_MS,
				REMOTE_CONNECT_TIMEOUT_MS));
			x->shards.push_back(current);
		}
		*db_out = x.release();
		return SK_OK;
	} catch (...) {
		char what[300];
		snprintf(what, sizeof(what), "open search shard '%s'",
			 current.c_str());
		return xap_error(err, what);
	}
}

bool
sk_xdb_is_federated(struct sk_xdb *db)
{
	return db->federated;
}

size_t
sk_xdb_shard_count(struct sk_xdb *db)
{
	return db->federated ? db->shards.size() : 1;
}

bool
sk_xdb_has_local(struct sk_xdb *db)
{
	return !db->federated || db->has_local;
}

enum sk_status
sk_xdb_fed_search(struct sk_xdb *db, struct sk_arena *a,
		  const struct sk_xsearch *s, bool want_facets,
		  struct sk_xfed_results *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	return with_reopen(db, "search xapian shards",
			   "reopen xapian shards", err,
			   [&]() -> enum sk_status {
		Xapian::Query q = compile_root(s->query,
					       s->include_held);
		Xapian::Enquire enq(*db->db);
		Xapian::ValueCountMatchSpy days(SLOT_DAY),
			partners(SLOT_PARTNER), topics(SLOT_TOPICS);
		Xapian::doccount all = db->db->get_doccount();
		size_t n_shards = sk_xdb_shard_count(db);

		enq.set_query(q);
		/* Thread ids are per store: no collapsing across
		 * shards (a federated hit is a message). */
		if (s->sort_by_date)
			enq.set_sort_by_value_then_relevance(SLOT_DATE,
							     true);
		else
			enq.set_sort_by_relevance_then_value(SLOT_DATE,
							     true);
		if (want_facets) {
			enq.add_matchspy(&days);
			enq.add_matchspy(&partners);
			enq.add_matchspy(&topics);
		}
		Xapian::MSet ms = enq.get_mset(
			(Xapian::doccount)s->offset,
			(Xapian::doccount)s->limit, all);

		std::vector<struct sk_xfed_hit> hits;
		for (auto it = ms.begin(); it != ms.end(); ++it) {
			struct sk_xfed_hit h;
			memset(&h, 0, sizeof(h));
			Xapian::docid merged = *it;
			h.shard = (unsigned)((merged - 1) % n_shards);
			h.shard_name = arena_str(a, db->shards[h.shard]);
			h.id = (int64_t)((merged - 1) / n_shards + 1);
			h.weight = it.get_weight();
			Xapian::Document doc = it.get_document();
			std::vector<std::string> f =
				data_lines(doc.get_data());
			f.resize(6);
			h.message_id = arena_str(a, f[1]);
			h.thread_id = to_i64(f[2]);
			h.date = (time_t)to_i64(f[3]);
			h.subject = arena_str(a, f[4]);
			h.sender = arena_str(a, f[5]);
			std::string p = doc.get_value(SLOT_PARTNER);
			h.partner = p.empty() ? nullptr : arena_str(a, p);
			std::string t = doc.get_value(SLOT_TOPICS);
			std::vector<std::string> tv;
			for (size_t at = 0; at < t.size();) {
				size_t sp = t.find(' ', at);
				if (sp == std::string::npos)
					sp = t.size();
				if (sp > at)
					tv.push_back(t.substr(at, sp - at));
				at = sp + 1;
			}
			h.topics = static_cast<const char **>(
				sk_arena_alloc(a, (tv.size() + 1) *
							  sizeof(char *)));
			for (size_t i = 0; i < tv.size(); i++)
				h.topics[i] = arena_str(a, tv[i]);
			h.n_topics = tv.size();
			hits.push_back(h);
		}

		facet_acc fy, fp, ft;
		if (want_facets) {
			for (auto v = days.values_begin();
			     v != days.values_end(); ++v)
				fy.add((*v).substr(0, 4),
				       (int64_t)v.get_termfreq());
			for (auto v = partners.values_begin();
			     v != partners.values_end(); ++v)
				fp.add(*v, (int64_t)v.get_termfreq());
			/* A value is a set of topics: each one counts
			 * the documents of every set it is in. */
			for (auto v = topics.values_begin();
			     v != topics.values_end(); ++v) {
				std::string t = *v;
				for (size_t at = 0; at < t.size();) {
					size_t sp = t.find(' ', at);
					if (sp == std::string::npos)
						sp = t.size();
					if (sp > at)
						ft.add(t.substr(at, sp - at),
						       (int64_t)v.get_termfreq());
					at = sp + 1;
				}
			}
		}

		/* checkatleast = doccount makes the count exact. */
		out->total = (int64_t)ms.get_matches_estimated();
		out->hits = static_cast<struct sk_xfed_hit *>(
			sk_arena_alloc(a, (hits.size() + 1) *
						  sizeof(*out->hits)));
		for (size_t i = 0; i < hits.size(); i++)
			out->hits[i] = hits[i];
		out->n_hits = hits.size();
		if (want_facets) {
			facet_out(a, ft, false, &out->topics,
				  &out->n_topics);
			facet_out(a, fp, false, &out->partners,
				  &out->n_partners);
			facet_out(a, fy, true, &out->years,
				  &out->n_years);
		}
		return SK_OK;
	});
}
