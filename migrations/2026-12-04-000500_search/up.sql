-- Search (API.md §14): an index of every text of every article in every
-- locale, one row per text, written by the write's own transaction
-- (`search_reindex`, called when a write is recorded), so a committed write
-- is searchable by the next request on any node.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One text search configuration per language PostgreSQL ships (and
-- `simple`), each folding accents before stemming: `lamina_english`,
-- `lamina_german`, …, `lamina_simple`. Folding inside the configuration
-- (rather than unaccent() around the text) lets ts_headline mark the
-- matches in the text as written.
DO $$
DECLARE
    config record;
BEGIN
    FOR config IN
        SELECT c.oid, c.cfgname,
               (SELECT string_agg(quote_ident(d.dictname), ', ' ORDER BY m.mapseqno)
                  FROM pg_ts_config_map m JOIN pg_ts_dict d ON d.oid = m.mapdict
                 WHERE m.mapcfg = c.oid
                   AND m.maptokentype = (SELECT tokid FROM ts_token_type('default') WHERE alias = 'word')) AS dictionaries
          FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
         WHERE n.nspname = 'pg_catalog'
    LOOP
        EXECUTE format('CREATE TEXT SEARCH CONFIGURATION %I (COPY = pg_catalog.%I)',
                       'lamina_' || config.cfgname, config.cfgname);
        EXECUTE format('ALTER TEXT SEARCH CONFIGURATION %I ALTER MAPPING FOR hword, hword_part, word WITH unaccent, %s',
                       'lamina_' || config.cfgname, config.dictionaries);
    END LOOP;
END
$$;

-- Which configuration stems a language (the first subtag of a locale, ISO
-- 639-1). Languages without one here are searched with `lamina_simple`
-- (words as written, lower case, accents folded).
CREATE TABLE search_languages (
    language text PRIMARY KEY,
    config   regconfig NOT NULL
);
INSERT INTO search_languages (language, config)
SELECT l.language, ('lamina_' || l.name)::regconfig
  FROM (VALUES ('ar', 'arabic'), ('hy', 'armenian'), ('eu', 'basque'), ('ca', 'catalan'),
               ('da', 'danish'), ('nl', 'dutch'), ('en', 'english'), ('fi', 'finnish'),
               ('fr', 'french'), ('de', 'german'), ('el', 'greek'), ('hi', 'hindi'),
               ('hu', 'hungarian'), ('id', 'indonesian'), ('ga', 'irish'), ('it', 'italian'),
               ('lt', 'lithuanian'), ('ne', 'nepali'), ('no', 'norwegian'), ('nb', 'norwegian'),
               ('nn', 'norwegian'), ('pt', 'portuguese'), ('ro', 'romanian'), ('ru', 'russian'),
               ('sr', 'serbian'), ('es', 'spanish'), ('sv', 'swedish'), ('ta', 'tamil'),
               ('tr', 'turkish'), ('yi', 'yiddish')) AS l (language, name)
  JOIN pg_ts_config c ON c.cfgname = 'lamina_' || l.name;

-- The configuration of a locale tag: its language's, else `lamina_simple`.
CREATE FUNCTION search_config(locale text) RETURNS regconfig
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT config FROM search_languages WHERE language = split_part(locale, '-', 1)),
                    'lamina_simple'::regconfig)
$$;

-- One searchable text: which article, section and item it belongs to, the
-- field and its JSON pointer in the article as read, in which locale.
-- `key` is the text's translation key (see `translations`), so that a
-- search in a locale finds each text as that locale reads it: its own
-- translation, else its fallback's.
CREATE TABLE search_texts (
    article_id   uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    locale       text NOT NULL,
    key          text NOT NULL,
    section_id   uuid,
    section_kind text,
    item_id      uuid,
    field        text NOT NULL,
    pointer      text NOT NULL,
    -- Ranking: 1 the article's title, 2 a section heading, 3 an item title, 4 any other text.
    rank_weight  smallint NOT NULL CHECK (rank_weight BETWEEN 1 AND 4),
    -- Whether anonymous readers see this text: the article is published and,
    -- in a locale other than the default, so is its translation.
    public       boolean NOT NULL,
    published_on date NOT NULL,
    text         text NOT NULL,
    document     tsvector NOT NULL,
    PRIMARY KEY (article_id, locale, key)
);
CREATE INDEX search_texts_document ON search_texts USING gin (document);
-- Titles and headings alone, so a search finds all of them for a common
-- word before it caps the other texts it ranks.
CREATE INDEX search_texts_titles ON search_texts USING gin (document) WHERE rank_weight < 4;

-- Every word ever indexed (lower case, accents folded), for spelling
-- suggestions; which of them a caller may be shown is checked against
-- `search_texts` when suggesting.
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trigrams ON search_words USING gin (word gin_trgm_ops);

-- Rewrites the index rows of one article from what is stored: every text
-- of the default locale and every translation. Called by every write in
-- its own transaction; an article that no longer exists leaves no rows.
CREATE FUNCTION search_reindex(target uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    default_locale text := (SELECT code FROM locales WHERE is_default);
BEGIN
    DELETE FROM search_texts WHERE article_id = target;
    INSERT INTO search_texts (article_id, locale, key, section_id, section_kind, item_id, field, pointer,
                              rank_weight, public, published_on, text, document)
    WITH article AS (
        SELECT * FROM articles WHERE id = target
    ), texts (key, section_id, section_kind, item_id, field, pointer, rank_weight, text) AS (
        SELECT 'title', NULL::uuid, NULL::text, NULL::uuid, 'title', '/title', 1, a.title FROM article a
        UNION ALL
        SELECT 'summary', NULL, NULL, NULL, 'summary', '/summary', 4, a.summary FROM article a
        UNION ALL
        SELECT s.kind || '.heading', s.id, s.kind, NULL, 'heading',
               '/sections/' || (s.position - 1) || '/heading', 2, s.heading
          FROM sections s WHERE s.article_id = target
        UNION ALL
        SELECT s.kind || '.' || f.field, s.id, s.kind, NULL, f.field,
               '/sections/' || (s.position - 1) || '/' || f.field, 4, f.text
          FROM sections s
         CROSS JOIN LATERAL (VALUES ('intro', s.intro), ('body', s.body), ('note', s.note),
                                    ('call_to_action', s.call_to_action)) AS f (field, text)
         WHERE s.article_id = target AND f.text IS NOT NULL
        UNION ALL
        SELECT s.kind || '.phase_headings.' || p.key, s.id, s.kind, NULL, 'phase_headings',
               '/sections/' || (s.position - 1) || '/phase_headings/' || p.key, 2, p.value
          FROM sections s CROSS JOIN LATERAL jsonb_each_text(s.phase_headings) AS p
         WHERE s.article_id = target AND s.phase_headings IS NOT NULL
        UNION ALL
        SELECT s.kind || '.' || i.id || '.' || f.field, s.id, s.kind, i.id, f.field,
               '/sections/' || (s.position - 1) || '/items/' || (i.position - 1) || '/' || f.field,
               CASE f.field WHEN 'title' THEN 3 ELSE 4 END, f.text
          FROM sections s
          JOIN section_items i ON i.section_id = s.id
         CROSS JOIN LATERAL (VALUES ('title', i.title), ('body', i.body),
                                    ('description', i.description)) AS f (field, text)
         WHERE s.article_id = target AND f.text IS NOT NULL
    )
    SELECT target, default_locale, t.key, t.section_id, t.section_kind, t.item_id, t.field, t.pointer,
           t.rank_weight, a.status = 'published', a.published_on, t.text,
           to_tsvector(search_config(default_locale), t.text)
      FROM texts t CROSS JOIN article a
    UNION ALL
    SELECT target, tr.locale, t.key, t.section_id, t.section_kind, t.item_id, t.field, t.pointer,
           t.rank_weight, a.status = 'published' AND coalesce(al.status = 'published', false),
           a.published_on, tr.text, to_tsvector(search_config(tr.locale), tr.text)
      FROM texts t CROSS JOIN article a
      JOIN translations tr ON tr.article_id = target AND tr.key = t.key
      LEFT JOIN article_locales al ON al.article_id = target AND al.locale = tr.locale;

    -- In one order, so that writes adding the same new words never deadlock.
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
      FROM search_texts st
     CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('lamina_simple', st.text))) AS w (word)
     WHERE st.article_id = target AND char_length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
     ORDER BY w.word
    ON CONFLICT DO NOTHING;
END
$$;

SELECT search_reindex(id) FROM articles;
