DROP INDEX api_tokens_active_name;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_name_key UNIQUE (name);
ALTER TABLE articles DROP CONSTRAINT articles_published_on_range;
