-- Bulk seed for benches/scale: :count clones of the seeded micro-needling
-- article, cloned in SQL from the rows its create (the API's write path)
-- stored, so every clone is a complete, consistent stored article:
--   articles          one row (slug scale-N, own title and published_on)
--   sections          its 8 sections
--   section_items     its 29 items
--   search_texts      its search index rows (ids, keys and the title's
--                     document rewritten; every other document is the same text)
--   revisions         one 'create' revision with its snapshot
--   changes           one 'article.created' change (the sync log)
-- search_words needs nothing new (a clone's title adds only a number, which
-- the word list leaves out); no webhook endpoint exists, so no outbox rows;
-- no translations or article_locales (the seed has none).
-- Ids are md5-derived, so a clone's section and item ids follow from the
-- template's. Batches of :batch articles commit one by one: the change log
-- holds one transaction id per batch, as a busy installation's would hold
-- many writes per transaction horizon.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SELECT set_config('scale.count', :'count', false), set_config('scale.batch', :'batch', false);
DO $$
DECLARE
    template articles%ROWTYPE;
    total integer := current_setting('scale.count')::integer;
    batch integer := current_setting('scale.batch')::integer;
    lo integer := 1;
    hi integer;
BEGIN
    SELECT * INTO template FROM articles WHERE slug = 'explore-micro-needling-for-flawless-skin-today';
    WHILE lo <= total LOOP
        hi := least(lo + batch - 1, total);
        INSERT INTO articles (id, slug, title, author, published_on, status, summary, word_count,
                              reading_time_minutes, version, created_at, updated_at)
        SELECT md5('scale:' || n)::uuid, 'scale-' || n, template.title || ' (' || n || ')', template.author,
               template.published_on - (n % 3650), template.status, template.summary, template.word_count,
               template.reading_time_minutes, template.version, now(), now()
          FROM generate_series(lo, hi) AS n;

        INSERT INTO sections (id, article_id, kind, position, heading, intro, body, note, call_to_action,
                              phase_headings, version, updated_at)
        SELECT md5('scale:' || n || ':' || s.id)::uuid, md5('scale:' || n)::uuid, s.kind, s.position,
               s.heading, s.intro, s.body, s.note, s.call_to_action, s.phase_headings, s.version, now()
          FROM generate_series(lo, hi) AS n CROSS JOIN sections s
         WHERE s.article_id = template.id;

        INSERT INTO section_items (id, section_id, kind, position, phase, title, body, description)
        SELECT md5('scale:' || n || ':' || i.id)::uuid, md5('scale:' || n || ':' || i.section_id)::uuid,
               i.kind, i.position, i.phase, i.title, i.body, i.description
          FROM generate_series(lo, hi) AS n
         CROSS JOIN section_items i JOIN sections s ON s.id = i.section_id
         WHERE s.article_id = template.id;

        INSERT INTO search_texts (article_id, locale, key, section_id, section_kind, item_id, field, pointer,
                                  rank_weight, public, published_on, text, document)
        SELECT md5('scale:' || n)::uuid, t.locale,
               CASE WHEN t.item_id IS NULL THEN t.key
                    ELSE replace(t.key, t.item_id::text, md5('scale:' || n || ':' || t.item_id)::uuid::text) END,
               CASE WHEN t.section_id IS NULL THEN NULL ELSE md5('scale:' || n || ':' || t.section_id)::uuid END,
               t.section_kind,
               CASE WHEN t.item_id IS NULL THEN NULL ELSE md5('scale:' || n || ':' || t.item_id)::uuid END,
               t.field, t.pointer, t.rank_weight, t.public, template.published_on - (n % 3650),
               CASE WHEN t.key = 'title' THEN template.title || ' (' || n || ')' ELSE t.text END,
               CASE WHEN t.key = 'title'
                    THEN to_tsvector(search_config(t.locale), template.title || ' (' || n || ')')
                    ELSE t.document END
          FROM generate_series(lo, hi) AS n CROSS JOIN search_texts t
         WHERE t.article_id = template.id;

        INSERT INTO revisions (id, article_id, slug, actor, request_id, created_at, action, target,
                               section_kind, item_id, article_version, snapshot, locale, translations)
        SELECT md5('scale-revision:' || n)::uuid, md5('scale:' || n)::uuid, 'scale-' || n, r.actor,
               'bench-scale', now(), r.action, r.target, r.section_kind, r.item_id, r.article_version,
               jsonb_set(jsonb_set(r.snapshot, '{title}', to_jsonb(template.title || ' (' || n || ')')),
                         '{published_on}', to_jsonb(template.published_on - (n % 3650))),
               r.locale, r.translations
          FROM generate_series(lo, hi) AS n
         CROSS JOIN (SELECT * FROM revisions WHERE article_id = template.id ORDER BY seq LIMIT 1) r;

        INSERT INTO changes (article_id, slug, event, version, revision_id, created_at, published)
        SELECT md5('scale:' || n)::uuid, 'scale-' || n, 'article.created', template.version,
               md5('scale-revision:' || n)::uuid, now(), template.status = 'published'
          FROM generate_series(lo, hi) AS n;
        COMMIT;
        lo := hi + 1;
    END LOOP;
END
$$;
VACUUM ANALYZE;
