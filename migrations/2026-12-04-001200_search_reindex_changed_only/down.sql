-- Back to rewriting every index row of an article on every write. The rows
-- come from search_texts_of, which stays: it makes exactly the rows the
-- earlier search_reindex made inline (the texts of 2026-12-04-000500_search).
CREATE OR REPLACE FUNCTION search_reindex(target uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_texts WHERE article_id = target;
    INSERT INTO search_texts (article_id, locale, key, section_id, section_kind, item_id, field, pointer,
                              rank_weight, public, published_on, text, document)
    SELECT target, f.*, to_tsvector(search_config(f.locale), f.text) FROM search_texts_of(target) f;
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
      FROM search_texts st
     CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('lamina_simple', st.text))) AS w (word)
     WHERE st.article_id = target AND char_length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
     ORDER BY w.word
    ON CONFLICT DO NOTHING;
END
$$;
