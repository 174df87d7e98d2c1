-- 0005_xapian_pending_seq.sql: every change to a message's Xapian document
-- is queued in xapian_pending inside the transaction that makes it, and the
-- Xapian writer drains the queue after committing. seq orders the queue and
-- lets the drain delete only the entries it has applied: a change queued
-- again meanwhile (by the web, say) gets a new seq and stays.
ALTER TABLE xapian_pending ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX xapian_pending_seq ON xapian_pending(seq);
