-- API tokens: only a SHA-256 hash of each secret is stored.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    role         text NOT NULL CHECK (role IN ('preview', 'editor', 'admin')),
    -- The first characters of the secret, to recognise a token in a list.
    prefix       text NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Every successful write, with a snapshot of the whole article after it.
-- Not tied to articles by a foreign key: the history of a deleted article stays.
CREATE TABLE revisions (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    article_id      uuid NOT NULL,
    slug            text NOT NULL,
    actor           text NOT NULL,
    request_id      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    action          text NOT NULL CHECK (action IN ('create', 'replace', 'delete', 'restore')),
    target          text NOT NULL CHECK (target IN ('article', 'section', 'item')),
    section_kind    text,
    item_id         uuid,
    article_version bigint NOT NULL,
    -- The article as a PUT body (item ids included); null after a delete of the article.
    snapshot        jsonb
);

CREATE INDEX revisions_by_article ON revisions (article_id, seq DESC);
