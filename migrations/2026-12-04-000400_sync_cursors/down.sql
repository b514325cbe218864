DROP INDEX changes_article_xid_seq;
CREATE INDEX changes_xid ON changes (xid);
DROP INDEX changes_xid_seq;
ALTER TABLE changes DROP COLUMN published;
ALTER TABLE sync_horizon
    DROP COLUMN pruned_last_revision,
    DROP COLUMN pruned_last_seq,
    DROP COLUMN cursor_key;
