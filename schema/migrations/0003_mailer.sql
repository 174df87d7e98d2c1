-- 0003_mailer.sql: what the mailer needs beyond 0001's outbox and notes —
-- the bookkeeping that makes a send happen exactly once, topic
-- subscriptions for digests, one-click unsubscribe tokens, and the details
-- of a meeting note.

-- One send. claimed_at: when the current attempt took the row (state
-- 'sending'). dot_at: set, and committed, just before the final "." of
-- DATA is written. An SMTP server accepts a message only at that dot, so a
-- row found in 'sending' with dot_at NULL (the mailer died before it) is
-- queued again; with dot_at set the server may have it, so the row fails
-- with uncertain = 1 and only a person sends it again.
ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;
ALTER TABLE outbox ADD COLUMN dot_at INTEGER;
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN reply TEXT;      -- the server's 250 (queue id)
ALTER TABLE outbox ADD COLUMN user_id INTEGER  -- digests: who it is for
	REFERENCES users(id) ON DELETE SET NULL;

-- Digest subscriptions: a user follows a topic daily or weekly.
CREATE TABLE subscriptions (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
	period TEXT NOT NULL DEFAULT 'weekly'
		CHECK (period IN ('daily', 'weekly')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_period ON subscriptions(period, user_id);

-- The token of each digest's List-Unsubscribe link (RFC 8058 one-click),
-- stored as the hex BLAKE2b-256 of the token: the link itself never
-- reaches the store. Using it removes the user's subscriptions of period.
CREATE TABLE unsubscribe_tokens (
	token_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	period TEXT NOT NULL CHECK (period IN ('daily', 'weekly')),
	created_at INTEGER NOT NULL,
	used_at INTEGER
);

-- A meeting note's details (the body is notes.body_md).
ALTER TABLE notes ADD COLUMN partners_present TEXT NOT NULL DEFAULT '';
ALTER TABLE notes ADD COLUMN topics TEXT NOT NULL DEFAULT ''; -- slugs, space separated
ALTER TABLE notes ADD COLUMN decisions TEXT NOT NULL DEFAULT ''; -- Markdown
CREATE INDEX notes_quarter ON notes(quarter, created_at);
