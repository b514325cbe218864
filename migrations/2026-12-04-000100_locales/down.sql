ALTER TABLE revisions DROP COLUMN translations;
ALTER TABLE revisions DROP COLUMN locale;
DROP TABLE article_locales;
DROP TABLE translations;
DROP TABLE locales;
