-- Locales (API.md §13): one structure, text in many languages. The default
-- locale's text stays where it always was (articles, sections, section_items),
-- so an article written before locales reads exactly as before; every other
-- locale's text is a row of `translations`, keyed by which text it is.

-- The configured locales: BCP 47 tags in canonical case. Exactly one is the
-- default; every other one falls back to another (null: the default), and
-- every chain ends at the default (checked by lamina when a locale is written).
CREATE TABLE locales (
    code       text PRIMARY KEY
               CHECK (code ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*$'
                      AND char_length(code) <= 35),
    name       text NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    fallback   text REFERENCES locales (code),
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (is_default AND fallback IS NOT NULL)),
    CHECK (fallback IS DISTINCT FROM code)
);
CREATE UNIQUE INDEX locales_one_default ON locales (is_default) WHERE is_default;
-- `lamina serve` renames it to LAMINA_DEFAULT_LOCALE on a database that holds no translation yet.
INSERT INTO locales (code, name, is_default) VALUES ('en', 'English', true);

-- One translated text. `key` names the text independently of positions, so
-- a translation follows its section or item through reorders and restores:
-- `title`, `summary`, `<kind>.heading`, `<kind>.intro`, `<kind>.body`,
-- `<kind>.note`, `<kind>.call_to_action`, `<kind>.phase_headings.<phase>`,
-- `<kind>.<item id>.title|body|description`.
-- `source_hash` is a hash of the default locale's text when the translation
-- was last written: when it no longer matches, the translation is outdated.
CREATE TABLE translations (
    article_id  uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    locale      text NOT NULL REFERENCES locales (code),
    key         text NOT NULL CHECK (char_length(key) <= 100),
    text        text NOT NULL CHECK (char_length(btrim(text)) BETWEEN 1 AND 5000),
    source_hash text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, locale, key)
);
CREATE INDEX translations_by_locale ON translations (locale);

-- Whether an article's translation into a locale is live: anonymous readers
-- of a draft translation get the fallback's text. No row: draft.
CREATE TABLE article_locales (
    article_id uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    locale     text NOT NULL REFERENCES locales (code),
    status     text NOT NULL CHECK (status IN ('draft', 'published')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, locale)
);
CREATE INDEX article_locales_by_locale ON article_locales (locale);

-- Revisions say which locale a write was in (null: the default) and keep
-- every locale's text, so a restore restores them all.
ALTER TABLE revisions ADD COLUMN locale text;
ALTER TABLE revisions ADD COLUMN translations jsonb;
