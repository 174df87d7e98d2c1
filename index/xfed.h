/* index/xfed.h: federated search over the local Xapian index and
 * xapian-tcpsrv shards (index/xap.cc). Inside index/ only (tests aside).
 * Meant to join private.h next to the other sk_xdb_* declarations. */
#ifndef SK_INDEX_XFED_H
#define SK_INDEX_XFED_H

#include "index/private.h"

SK_BEGIN_DECLS

/* One hit of a federated search. Strings live in the caller's arena. */
struct sk_xfed_hit {
	unsigned shard;		/* position in the shard list: 0 is the
				   local index when there is one */
	const char *shard_name;	/* "local" or "host:port" */
	int64_t id;		/* the message id in that shard's store */
	const char *message_id;	/* without <>; "" when the shard's index
				   predates it (reindex the shard) */
	int64_t thread_id;	/* in that shard's store */
	time_t date;
	const char *subject, *sender; /* as indexed ("" in old indexes) */
	const char *partner;	/* slug or NULL */
	const char **topics;	/* slugs */
	size_t n_topics;
	double weight;
};

struct sk_xfed_facet {
	const char *value; /* slug, or a year "2024" */
	int64_t count;	   /* matching messages, summed over shards */
};

struct sk_xfed_results {
	int64_t total; /* exact number of matching messages, all shards */
	struct sk_xfed_hit *hits;
	size_t n_hits;
	struct sk_xfed_facet *topics, *partners, *years;
	size_t n_topics, n_partners, n_years;
};

/* Open, read-only, one database made of the Xapian index in local_dir
 * (NULL: none) and the shards of spec, "host:port, host:port" (commas or
 * blanks between; [v6]:port), each served by xapian-tcpsrv. The remote
 * protocol has no authentication: private networks or SSH only.
 * SK_EINVAL: a bad spec. SK_ENOTFOUND/SK_EINDEX: a shard cannot be
 * reached or opened (the message names it). Close with sk_xdb_close();
 * sk_xdb_reopen() and sk_xdb_doccount() work on it; sk_xdb_search() does
 * not (SK_EINVAL): use sk_xdb_fed_search(). */
enum sk_status sk_xdb_open_federated(const char *local_dir, const char *spec,
				     struct sk_xdb **db_out,
				     struct sk_err *err);
/* True for a database opened by sk_xdb_open_federated(). */
bool sk_xdb_is_federated(struct sk_xdb *db);
/* 1 for a plain index, else the number of shards (local included). */
size_t sk_xdb_shard_count(struct sk_xdb *db);
/* True for a plain index and for a federation with a local shard 0. */
bool sk_xdb_has_local(struct sk_xdb *db);

/* Run s over every shard: one ranking (Xapian merges the shards' weights
 * with global statistics), flat by message (s->collapse_threads is
 * ignored: thread ids are per store), the exact total, and with
 * want_facets the topic, partner and year counts merged over the shards
 * (from value slots; an index written before them gives no topic or
 * partner counts). SK_EAGAIN: the index kept changing; SK_EINDEX: a shard
 * failed (network errors included). */
enum sk_status sk_xdb_fed_search(struct sk_xdb *db, struct sk_arena *a,
				 const struct sk_xsearch *s, bool want_facets,
				 struct sk_xfed_results *out,
				 struct sk_err *err);

/* Make a read-only handle search the shards of spec as well as its own
 * index (index/search.c; belongs in sk_index.h, called by whoever reads
 * the [search] shards setting). Empty spec: no change. A handle without
 * Xapian federates the remote shards only. From then on sk_search() with
 * the Xapian backend returns hits of every shard: local hits as usual,
 * remote ones with id 0, thread_id 0, no snippet (render them by
 * message_id), flat by message; facets are merged, labelled by slug.
 * SK_EINVAL: a writer, or a bad spec; SK_EINDEX and friends: a shard is
 * unreachable (the handle keeps its own index then). */
enum sk_status sk_index_set_shards(struct sk_index *ix, const char *spec,
				   struct sk_err *err);

SK_END_DECLS
#endif
