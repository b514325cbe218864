-- Search (API.md §14): a write re-indexes only the texts it changed.
-- `search_reindex` used to delete and re-insert every index row of the
-- article (every text in every locale, each through to_tsvector and two GIN
-- indexes, and every word of every text into `search_words`) on every
-- write: a third of a section PUT's time in the database. Now the rows the
-- article's stored texts make (`search_texts_of`) are compared with those
-- indexed: rows that differ in anything are deleted, rows not indexed as
-- they are now are inserted, and only the inserted texts' words are added.
-- What is indexed after a write is the same as before.

-- The index rows (all but the document) of one article, from what is
-- stored: every text of the default locale and every translation.
CREATE OR REPLACE FUNCTION search_texts_of(target uuid)
RETURNS TABLE (locale text, key text, section_id uuid, section_kind text, item_id uuid, field text,
               pointer text, rank_weight smallint, public boolean, published_on date, text text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    -- PL/pgSQL, not SQL: its plan is made once per connection, not per call.
    RETURN QUERY
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
    SELECT (SELECT code FROM locales WHERE is_default), t.key, t.section_id, t.section_kind, t.item_id,
           t.field, t.pointer, t.rank_weight::smallint, a.status = 'published', a.published_on, t.text
      FROM texts t CROSS JOIN article a
    UNION ALL
    SELECT tr.locale, t.key, t.section_id, t.section_kind, t.item_id, t.field, t.pointer,
           t.rank_weight::smallint, a.status = 'published' AND coalesce(al.status = 'published', false),
           a.published_on, tr.text
      FROM texts t CROSS JOIN article a
      JOIN translations tr ON tr.article_id = target AND tr.key = t.key
      LEFT JOIN article_locales al ON al.article_id = target AND al.locale = tr.locale;
END
$$;

-- Brings the index rows of one article up to date with what is stored.
-- Called by every write in its own transaction; an article that no longer
-- exists leaves no rows.
CREATE OR REPLACE FUNCTION search_reindex(target uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The stored texts are read once per statement (a CTE, not a function
    -- call per compared row); rows pair up by their key, then compare whole.
    WITH fresh AS MATERIALIZED (SELECT * FROM search_texts_of(target))
    DELETE FROM search_texts st
     WHERE st.article_id = target
       AND NOT EXISTS (
           SELECT 1 FROM fresh f
            WHERE f.locale = st.locale AND f.key = st.key
              AND (f.section_id, f.section_kind, f.item_id, f.field, f.pointer, f.rank_weight, f.public,
                   f.published_on, f.text)
                  IS NOT DISTINCT FROM
                  (st.section_id, st.section_kind, st.item_id, st.field, st.pointer, st.rank_weight, st.public,
                   st.published_on, st.text));
    WITH fresh AS MATERIALIZED (SELECT * FROM search_texts_of(target)),
    inserted AS (
        INSERT INTO search_texts (article_id, locale, key, section_id, section_kind, item_id, field, pointer,
                                  rank_weight, public, published_on, text, document)
        SELECT target, f.locale, f.key, f.section_id, f.section_kind, f.item_id, f.field, f.pointer,
               f.rank_weight, f.public, f.published_on, f.text, to_tsvector(search_config(f.locale), f.text)
          FROM fresh f
         WHERE NOT EXISTS (SELECT 1 FROM search_texts st
                            WHERE st.article_id = target AND st.locale = f.locale AND st.key = f.key)
        RETURNING text
    )
    -- In one order, so that writes adding the same new words never deadlock.
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
      FROM inserted i
     CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('lamina_simple', i.text))) AS w (word)
     WHERE char_length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
     ORDER BY w.word
    ON CONFLICT DO NOTHING;
END
$$;
