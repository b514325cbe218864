-- A release stages translations too (API.md §13): a staged change names the
-- locale of its texts (null: the default locale, text and structure).
ALTER TABLE release_items ADD COLUMN locale text;
DROP INDEX release_items_unique;
CREATE UNIQUE INDEX release_items_unique ON release_items (release_id, slug, kind, locale) NULLS NOT DISTINCT;
