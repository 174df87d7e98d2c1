-- 0006_login_tokens.sql: one-time login links sent by e-mail (the web's
-- "Wyślij link"). Only the hex BLAKE2b-256 of the token is stored; the
-- link itself never reaches the store. A token is good once (used_at) and
-- for a short time (expires_at, 15 minutes from the request).
CREATE TABLE login_tokens (
	token_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER
);
CREATE INDEX login_tokens_expires ON login_tokens(expires_at);
CREATE INDEX audit_action ON audit(action, at);
