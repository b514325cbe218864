DELETE FROM release_items WHERE locale IS NOT NULL;
DROP INDEX release_items_unique;
CREATE UNIQUE INDEX release_items_unique ON release_items (release_id, slug, kind) NULLS NOT DISTINCT;
ALTER TABLE release_items DROP COLUMN locale;
