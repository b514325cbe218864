-- Dates a listing cursor can encode, as the API accepts them.
ALTER TABLE articles ADD CONSTRAINT articles_published_on_range
    CHECK (published_on BETWEEN DATE '1000-01-01' AND DATE '9999-12-31');

-- A revoked token's name may be reused; names of active tokens stay unique.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_name_key;
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
