-- Sync cursors bound to this database and its history, entries in change
-- order, and pages that cost the same at any age (see src/content/sync.rs).

-- The key that signs cursors (random per database: a cursor another
-- database handed out does not verify), and the newest change row pruning
-- deleted (`pruned_before` is its xid + 1): the fingerprint of a cursor whose
-- newest change was pruned.
ALTER TABLE sync_horizon
    ADD COLUMN cursor_key bytea NOT NULL
        DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
    ADD COLUMN pruned_last_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN pruned_last_revision uuid;
ALTER TABLE sync_horizon ALTER COLUMN cursor_key DROP DEFAULT;

-- Whether the article was published in the row the write recorded (after
-- the write; before it, for a delete): what says whether an anonymous reader
-- could see it on either side of the change. NULL for rows written before
-- this column existed: unknown, taken as visible.
ALTER TABLE changes ADD COLUMN published boolean;

-- Windows are ranges of xid, paged in seq order; an article's other changes
-- in a window are found by article.
CREATE INDEX changes_xid_seq ON changes (xid, seq);
DROP INDEX changes_xid;
CREATE INDEX changes_article_xid_seq ON changes (article_id, xid, seq);
