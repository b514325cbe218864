ALTER TABLE releases
    DROP COLUMN retry_at,
    DROP COLUMN publish_attempts;
