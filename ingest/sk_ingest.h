/* ingest/sk_ingest.h: reading mail from its sources into the store.
 *
 * A run (struct sk_ingest) owns a small pool of parser worker processes:
 * untrusted mail is parsed there (libetpan, charsets, HTML, attachment
 * extraction), so a crash costs one message, never the run. The calling
 * process stores the parsed messages in order, in batched transactions, and
 * records each source's position in the same transaction as the messages
 * up to it — so a kill at any moment loses nothing and duplicates nothing.
 * The only header other code includes from ingest/. */
#ifndef SK_INGEST_H
#define SK_INGEST_H

#include "lib/sk_base.h"
#include "index/sk_index.h"

SK_BEGIN_DECLS

struct sk_ingest;

struct sk_ingest_settings {
	struct sk_limits limits; /* 0 fields = defaults */
	const char *list_id;	 /* take only this list's mail when set */
	unsigned workers;	 /* parser processes; 0 = number of cores */
	unsigned batch;		 /* messages per transaction; 0 = 500 */
	bool quiet;		 /* no progress lines */
};

struct sk_ingest_counts {
	int64_t seen;	    /* raw messages read from sources */
	int64_t stored;	    /* new messages stored */
	int64_t duplicates; /* already stored */
	int64_t flagged;    /* stored but malformed (kept raw, flagged) */
	int64_t held;	    /* stored, held for review (outside partners) */
	int64_t skipped;    /* not the list's mail (List-Id) */
	int64_t failed;	    /* could not be stored at all (reported) */
};

/* Start a run writing into ix (opened with SK_INDEX_WRITE). The run does
 * not own ix. */
enum sk_status sk_ingest_new(struct sk_index *ix,
			     const struct sk_ingest_settings *set,
			     struct sk_ingest **ing_out, struct sk_err *err);
/* Flush what is pending, stop the workers, free. Returns the status of the
 * final flush. */
enum sk_status sk_ingest_finish(struct sk_ingest **ing, struct sk_err *err);
void sk_ingest_counts(const struct sk_ingest *ing,
		      struct sk_ingest_counts *out);

/* Where a message came from: recorded with the transaction that stores it.
 * Exactly one of the position fields applies, by the source's kind. */
struct sk_ingest_pos {
	int64_t source_id;	 /* from sk_index_source_get() */
	const char *maildir_name; /* Maildir unique name */
	int64_t mbox_offset;	 /* mbox: offset just after this message */
	int64_t imap_uidvalidity, imap_uid;
};

/* Queue one raw message (copied) for parsing and storing. May block while
 * the pipeline is full; may commit a batch. pos may be NULL (stdin). */
enum sk_status sk_ingest_submit(struct sk_ingest *ing, const char *raw,
				size_t len, const struct sk_ingest_pos *pos,
				struct sk_err *err);
/* Wait for everything queued to be stored and committed. */
enum sk_status sk_ingest_flush(struct sk_ingest *ing, struct sk_err *err);

/* Sources. Each resumes where the store says it stopped. */
enum sk_status sk_ingest_maildir(struct sk_ingest *ing, const char *dir,
				 bool watch, struct sk_err *err);
enum sk_status sk_ingest_mbox(struct sk_ingest *ing, const char *path,
			      struct sk_err *err);
/* Read one message from fd (an MTA pipe). */
enum sk_status sk_ingest_fd(struct sk_ingest *ing, int fd,
			    struct sk_err *err);
/* IMAP with the [imap] settings of cfg; watch = IDLE until interrupted. */
enum sk_status sk_ingest_imap(struct sk_ingest *ing,
			      const struct sk_config *cfg, bool watch,
			      struct sk_err *err);

/* Ask a running watch loop (maildir or IMAP) to stop: async-signal-safe. */
void sk_ingest_stop(void);

/* Parse one raw message in this process (no worker) into m, allocating from
 * a. For tests and fuzzing: hostile input may crash here, which is why runs
 * use the worker pool. Never fails: malformed mail comes back flagged. */
void sk_ingest_parse(struct sk_arena *a, const struct sk_limits *limits,
		     const char *raw, size_t len, struct sk_message *m);

SK_END_DECLS
#endif
