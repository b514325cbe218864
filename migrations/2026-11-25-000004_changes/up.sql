-- The change log: one row per write, inserted in the write's own
-- transaction. `xid` is that transaction's id; `GET /v1/sync` reads the rows
-- between two snapshot horizons (see src/content/sync.rs).
CREATE TABLE changes (
    seq         bigserial PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    article_id  uuid NOT NULL,
    slug        text NOT NULL,
    event       text NOT NULL CHECK (event IN (
                    'article.created', 'article.updated', 'article.deleted',
                    'article.published', 'article.unpublished')),
    version     bigint NOT NULL,
    revision_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_xid ON changes (xid);
CREATE INDEX changes_created_at ON changes (created_at);

-- One row: change rows of transactions below `pruned_before` may have been
-- deleted, so cursors below it are expired.
CREATE TABLE sync_horizon (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pruned_before xid8 NOT NULL
);
INSERT INTO sync_horizon (pruned_before) VALUES ('0');
