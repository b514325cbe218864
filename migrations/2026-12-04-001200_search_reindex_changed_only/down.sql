-- The rewrite of every index row of an article on every write, as before.
DROP FUNCTION search_reindex(uuid);
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

DROP FUNCTION search_texts_of(uuid);
