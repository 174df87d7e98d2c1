-- 0002_fts.sql: full-text index in the store itself, updated in the same
-- transaction as the message. Contentless: the text lives in messages and
-- attachments; rows are deleted with the 'delete' command and the original
-- values. Tokens come from Skarbnica's Polish analyzer (index/fts.c), which
-- every connection registers before this table is touched.
CREATE VIRTUAL TABLE messages_fts USING fts5(
	subject, sender, body, attachments,
	content = '',
	tokenize = 'skarbnica'
);
