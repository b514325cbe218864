-- Releases: changes staged to go live together, now or at `publish_at`.
CREATE TABLE releases (
    id           uuid PRIMARY KEY,
    title        text NOT NULL,
    publish_at   timestamptz,
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'scheduled', 'published', 'failed')),
    conflicts    jsonb NOT NULL DEFAULT '[]',
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- What the scheduler scans: due scheduled releases.
CREATE INDEX releases_due ON releases (publish_at) WHERE state = 'scheduled';

-- One staged change: a whole article (`kind` null) or one section. `body` is
-- the validated write body; `base_version` the live version it was staged on
-- (null: the article or section did not exist).
CREATE TABLE release_items (
    id           uuid PRIMARY KEY,
    release_id   uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    slug         text NOT NULL,
    kind         text,
    body         jsonb NOT NULL,
    base_version bigint,
    staged_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX release_items_unique ON release_items (release_id, slug, kind) NULLS NOT DISTINCT;
