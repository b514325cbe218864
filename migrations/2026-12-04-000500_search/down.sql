DROP FUNCTION search_reindex(uuid);
DROP TABLE search_words;
DROP TABLE search_texts;
DROP FUNCTION search_config(text);
DROP TABLE search_languages;
DO $$
DECLARE
    config record;
BEGIN
    FOR config IN SELECT cfgname FROM pg_ts_config WHERE cfgname LIKE 'lamina\_%' LOOP
        EXECUTE format('DROP TEXT SEARCH CONFIGURATION %I', config.cfgname);
    END LOOP;
END
$$;
DROP EXTENSION IF EXISTS pg_trgm;
DROP EXTENSION IF EXISTS unaccent;
