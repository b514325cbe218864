-- A scheduled release that could not be published (the database failed or
-- timed out) is tried again later, not at every poll: `publish_attempts`
-- counts the failures, `retry_at` is when the scheduler may try again. After
-- a few failures the release is `failed` (see content::releases::postpone).
ALTER TABLE releases
    ADD COLUMN publish_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN retry_at timestamptz;
