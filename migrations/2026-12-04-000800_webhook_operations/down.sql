DROP INDEX webhook_deliveries_endpoint_seq;
DROP TABLE webhook_attempts;
ALTER TABLE webhook_endpoints
    DROP COLUMN previous_secret,
    DROP COLUMN previous_secret_until,
    DROP COLUMN slugs,
    DROP COLUMN section_kinds,
    DROP COLUMN status;
