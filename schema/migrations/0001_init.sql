-- 0001_init.sql: the store. SQLite is the source of truth; every index can be
-- rebuilt from it. Times are Unix seconds (UTC).

-- Every message exactly as received, content-addressed so that a message read
-- twice from a source is stored once.
CREATE TABLE raw_messages (
	id INTEGER PRIMARY KEY,
	sha256 TEXT NOT NULL UNIQUE,
	size INTEGER NOT NULL,
	raw BLOB NOT NULL,
	received_at INTEGER NOT NULL
);

CREATE TABLE partners (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL DEFAULT 'gmina'
		CHECK (kind IN ('gmina', 'powiat', 'miasto', 'inna'))
);

CREATE TABLE partner_domains (
	domain TEXT PRIMARY KEY, -- lowercase, e.g. 'stolno.pl'
	partner_id INTEGER NOT NULL REFERENCES partners(id) ON DELETE CASCADE
);

CREATE TABLE threads (
	id INTEGER PRIMARY KEY,
	subject TEXT NOT NULL DEFAULT '', -- decoded subject of the first message
	first_date INTEGER NOT NULL DEFAULT 0,
	last_date INTEGER NOT NULL DEFAULT 0,
	message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threads_last_date ON threads(last_date);

-- One row per distinct message. message_id is not unique: two different
-- messages that claim one Message-ID are both kept (raw_id differs).
CREATE TABLE messages (
	id INTEGER PRIMARY KEY,
	message_id TEXT NOT NULL,      -- without angle brackets
	raw_id INTEGER NOT NULL UNIQUE REFERENCES raw_messages(id),
	thread_id INTEGER NOT NULL REFERENCES threads(id),
	parent_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
	subject TEXT NOT NULL DEFAULT '',
	subject_norm TEXT NOT NULL DEFAULT '', -- without Re:/Odp:/[tag], folded
	from_name TEXT NOT NULL DEFAULT '',
	from_addr TEXT NOT NULL DEFAULT '',
	to_addrs TEXT NOT NULL DEFAULT '',
	cc_addrs TEXT NOT NULL DEFAULT '',
	date INTEGER NOT NULL,
	in_reply_to TEXT,
	list_id TEXT,
	quote_start INTEGER,            -- byte offset where quoted text begins
	partner_id INTEGER REFERENCES partners(id) ON DELETE SET NULL,
	flags INTEGER NOT NULL DEFAULT 0, -- SK_MSG_* in index/sk_index.h
	parse_error TEXT,
	approved_at INTEGER,            -- set when a coordinator approves held mail
	ingested_at INTEGER NOT NULL,
	-- Last: long bodies spill into overflow pages, which reads of the
	-- columns before them never touch.
	body TEXT NOT NULL DEFAULT ''   -- UTF-8 text for reading and search
);
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_thread ON messages(thread_id, date);
CREATE INDEX messages_date ON messages(date);
CREATE INDEX messages_partner ON messages(partner_id, date);
CREATE INDEX messages_subject_norm ON messages(subject_norm, date);
CREATE INDEX messages_from_addr ON messages(from_addr);
CREATE INDEX messages_held ON messages(id) WHERE flags & 8 AND approved_at IS NULL;

-- The References chain of each message, in order (for threading).
CREATE TABLE message_refs (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	pos INTEGER NOT NULL,
	ref TEXT NOT NULL,
	PRIMARY KEY (message_id, pos)
);
CREATE INDEX message_refs_ref ON message_refs(ref);

-- Message-IDs referenced by stored mail but not (yet) received: a thread
-- waits for them, so a late parent joins its children (JWZ's containers).
CREATE TABLE ghosts (
	message_id TEXT PRIMARY KEY,
	thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE
);

-- Attachment contents, stored once by content hash.
CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	size INTEGER NOT NULL,
	data BLOB NOT NULL
);

CREATE TABLE attachments (
	id INTEGER PRIMARY KEY,
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	filename TEXT NOT NULL DEFAULT '',
	content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL REFERENCES blobs(sha256),
	text TEXT,                        -- extracted text, NULL when none
	extract_status TEXT NOT NULL DEFAULT 'none', -- ok|none|failed|skipped
	extract_error TEXT,
	UNIQUE (message_id, position)
);
CREATE INDEX attachments_sha256 ON attachments(sha256);

CREATE TABLE topics (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	parent_id INTEGER REFERENCES topics(id) ON DELETE SET NULL,
	keywords TEXT NOT NULL DEFAULT '',     -- lemmas, space separated
	subject_tags TEXT NOT NULL DEFAULT '', -- list tags, '|' separated
	position INTEGER NOT NULL DEFAULT 0
);

-- source: 'tag', 'keyword', 'model' (automatic) or 'manual' (a person's
-- decision; never overwritten by reclassification). removed = 1 records a
-- manual "not this topic".
CREATE TABLE message_topics (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	confidence REAL NOT NULL DEFAULT 1.0,
	source TEXT NOT NULL DEFAULT 'keyword',
	PRIMARY KEY (message_id, topic_id)
);
CREATE INDEX message_topics_topic ON message_topics(topic_id, message_id);

CREATE TABLE thread_topics (
	thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	confidence REAL NOT NULL DEFAULT 1.0,
	source TEXT NOT NULL DEFAULT 'keyword',
	removed INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (thread_id, topic_id)
);
CREATE INDEX thread_topics_topic ON thread_topics(topic_id, thread_id);

-- Where each source stands. For IMAP: uidvalidity + last_uid; for Maildir
-- the names of files done live in source_files; for mbox the byte offset
-- after the last committed message.
CREATE TABLE sources (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('imap', 'maildir', 'mbox', 'stdin')),
	location TEXT NOT NULL,
	uidvalidity INTEGER,
	last_uid INTEGER,
	mbox_offset INTEGER,
	updated_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (kind, location)
);

CREATE TABLE source_files (
	source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
	name TEXT NOT NULL,  -- Maildir unique name (before ':2,')
	PRIMARY KEY (source_id, name)
) WITHOUT ROWID;

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name TEXT NOT NULL DEFAULT '',
	role TEXT NOT NULL DEFAULT 'reader'
		CHECK (role IN ('reader', 'coordinator', 'admin')),
	password_hash TEXT,            -- argon2id (libsodium), NULL = link login only
	partner_id INTEGER REFERENCES partners(id) ON DELETE SET NULL,
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,   -- hash of the cookie value, never the value
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

-- Quarterly meeting notes posted by coordinators.
CREATE TABLE notes (
	id INTEGER PRIMARY KEY,
	quarter TEXT NOT NULL,         -- '2011-Q4'
	title TEXT NOT NULL,
	place TEXT NOT NULL DEFAULT '',
	body_md TEXT NOT NULL,
	author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
	message_id TEXT NOT NULL UNIQUE, -- fixed when posted; the list copy matches it
	created_at INTEGER NOT NULL
);

-- Outgoing mail. The Message-ID is fixed when queued; state moves
-- queued -> sending -> sent, or failed with the server's reply.
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('note', 'digest', 'login')),
	message_id TEXT NOT NULL UNIQUE,
	dedup_key TEXT UNIQUE,         -- e.g. 'digest:USER:PERIOD'
	sender TEXT NOT NULL,
	recipients TEXT NOT NULL,      -- comma separated envelope recipients
	raw BLOB NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	created_at INTEGER NOT NULL,
	sent_at INTEGER
);
CREATE INDEX outbox_state ON outbox(state, next_attempt_at);

CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,           -- user e-mail or 'cli'
	action TEXT NOT NULL,
	object TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);

-- Key/value facts about the store itself (index generation, demo marker).
CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
