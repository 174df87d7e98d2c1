/* ingest/sk_ingest.h: reading mail from its sources into the store.
 *
 * A run (struct sk_ingest) owns a small pool of parser worker processes:
 * untrusted mail is parsed there (libetpan, charsets, HTML, attachment
 * extraction), so a crash costs one message, never the run. The calling
 * process stores the parsed messages in order, in batched transactions, and
 * records each source's position in the same transaction as the messages
 * up to it — so a kill at any moment loses nothing and duplicates nothing.
 * The only header other code includes from ingest/.
 *
 * Not thread-safe: one run per thread, and the run forks its workers, so
 * start it before other threads when you can. */
#ifndef SK_INGEST_H
#define SK_INGEST_H

#include "lib/sk_base.h"
#include "index/sk_index.h"

SK_BEGIN_DECLS

struct sk_ingest;

struct sk_ingest_settings {
	struct sk_limits limits; /* 0 fields = defaults */
	/* Take only this list's mail when set: a message whose List-Id
	 * (the id inside <>) differs, compared without case, is skipped and
	 * counted; mail without a List-Id is kept. */
	const char *list_id;
	unsigned workers; /* parser processes; 0 = number of cores (max 8) */
	unsigned batch;   /* messages per transaction; 0 = 500 (and a
	                     commit at least every second while busy) */
	bool quiet;       /* no progress lines */
};

/* Counts of committed work: a batch that was rolled back is not in them. */
struct sk_ingest_counts {
	int64_t seen;       /* raw messages read from sources */
	int64_t stored;     /* new messages stored */
	int64_t duplicates; /* already stored (SK_EEXIST from the store) */
	int64_t flagged;    /* stored but malformed (kept raw, flagged) */
	int64_t held;       /* NEEDSWORK: always 0 — the store decides
	                       SK_MSG_HELD and does not report it back */
	int64_t skipped;    /* not the list's mail (List-Id) */
	int64_t failed;     /* refused by the store (SK_EINVAL, SK_EPARSE,
	                       SK_ETOOBIG), logged with its Message-ID */
};

/* Start a run writing into ix (opened with SK_INDEX_WRITE); forks the
 * workers. The run does not own ix. SK_EIO: no worker could be started. */
enum sk_status sk_ingest_new(struct sk_index *ix,
                             const struct sk_ingest_settings *set,
                             struct sk_ingest **ing_out, struct sk_err *err);
/* Flush what is pending, stop the workers, free. Returns the status of the
 * final flush; after a failure what was not committed is dropped (its
 * source positions were not recorded either, so the next run reads it
 * again). */
enum sk_status sk_ingest_finish(struct sk_ingest **ing, struct sk_err *err);
void sk_ingest_counts(const struct sk_ingest *ing,
                      struct sk_ingest_counts *out);

/* Where a message came from: recorded with the transaction that stores it.
 * Exactly one of the position fields applies, by the source's kind. */
struct sk_ingest_pos {
	int64_t source_id;        /* from sk_index_source_get() */
	const char *maildir_name; /* Maildir: "folder/unique" (see below) */
	int64_t mbox_offset;      /* mbox: offset just after this message */
	int64_t imap_uidvalidity, imap_uid;
};

/* Queue one raw message (copied) for parsing and storing. May block while
 * the pipeline is full; may commit a batch. pos may be NULL (stdin). A
 * message longer than limits.message_bytes is stored whole but parsed on
 * its first message_bytes only (SK_MSG_TRUNCATED).
 * Errors are those of the store (SK_EDB, SK_EAGAIN, SK_EIO, SK_EINDEX):
 * they end the run — every later call returns the same error. */
enum sk_status sk_ingest_submit(struct sk_ingest *ing, const char *raw,
                                size_t len, const struct sk_ingest_pos *pos,
                                struct sk_err *err);
/* Wait for everything queued to be stored and committed. */
enum sk_status sk_ingest_flush(struct sk_ingest *ing, struct sk_err *err);

/* Sources. Each resumes where the store says it stopped, and flushes
 * before it returns.
 *
 * Maildir: every folder of the tree, files in new/ and cur/ (and, as
 * notmuch does, files elsewhere that start with a header field; never
 * tmp/, .notmuch/ or dovecot/courier state files). A file is recorded as
 * its folder relative to dir plus the unique part of its name (before
 * ':'), so flag changes and new/ -> cur/ moves are not new mail. watch:
 * after the scan, inotify picks up new files and folders until
 * sk_ingest_stop(). SK_ENOTFOUND when dir is not a directory. */
enum sk_status sk_ingest_maildir(struct sk_ingest *ing, const char *dir,
                                 bool watch, struct sk_err *err);
/* mbox: mapped read-only, never written. mboxrd when the first separator
 * is "From mboxrd@z" (public-inbox, lore), else mboxo; see mbox.c. A
 * recorded offset that is not a message start (the file was rewritten)
 * means reading it all again (duplicates are recognised). SK_EPARSE when
 * the file does not start with a "From " line. */
enum sk_status sk_ingest_mbox(struct sk_ingest *ing, const char *path,
                              struct sk_err *err);
/* Read one message from fd (an MTA pipe) and store it before returning.
 * SK_EINVAL for empty input (do not make the MTA retry that); store errors
 * as sk_ingest_submit() (SK_EAGAIN: try again later). */
enum sk_status sk_ingest_fd(struct sk_ingest *ing, int fd, struct sk_err *err);
/* IMAP with the [imap] settings of cfg; watch = IDLE until interrupted. */
enum sk_status sk_ingest_imap(struct sk_ingest *ing,
                              const struct sk_config *cfg, bool watch,
                              struct sk_err *err);

/* Ask a running watch loop (maildir or IMAP) to stop: async-signal-safe.
 * sk_ingest_new() clears the request. */
void sk_ingest_stop(void);

/* Parse one raw message in this process (no worker) into m, allocating from
 * a; limits may be NULL (defaults). For tests and fuzzing: hostile input
 * may crash here (libetpan 1.9.4), which is why runs use the worker pool.
 * Attachment text is extracted, which may run pdftotext, antiword or
 * xls2csv. Never fails: malformed mail comes back flagged, with the best
 * text available. m->raw and m->raw_len are set to raw and len. All text
 * is valid UTF-8; in_reply_to, list_id and parse_error may be NULL, every
 * other string is non-NULL (possibly ""). */
void sk_ingest_parse(struct sk_arena *a, const struct sk_limits *limits,
                     const char *raw, size_t len, struct sk_message *m);

SK_END_DECLS
#endif
