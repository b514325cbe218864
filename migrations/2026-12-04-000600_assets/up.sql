-- Images as content (API.md §15). The bytes live in the asset store under
-- `storage_key` (the SHA-256 of the bytes, so the same bytes are stored once
-- however often they are uploaded); a row is inserted only after its file
-- is durably in place.
CREATE TABLE assets (
    id uuid PRIMARY KEY,
    filename text NOT NULL,
    content_type text NOT NULL,
    bytes bigint NOT NULL CHECK (bytes > 0),
    width integer NOT NULL CHECK (width > 0),
    height integer NOT NULL CHECK (height > 0),
    sha256 text NOT NULL,
    storage_key text NOT NULL,
    placeholder text NOT NULL,
    -- {locale: text}
    alt jsonb NOT NULL DEFAULT '{}',
    -- null or {locale: text}
    caption jsonb,
    focal_x double precision NOT NULL DEFAULT 0.5 CHECK (focal_x BETWEEN 0 AND 1),
    focal_y double precision NOT NULL DEFAULT 0.5 CHECK (focal_y BETWEEN 0 AND 1),
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The list, newest first, paged by (created_at, id).
CREATE INDEX assets_newest ON assets (created_at DESC, id DESC);
-- Whether a stored file is still used by another asset.
CREATE INDEX assets_storage_key ON assets (storage_key);
