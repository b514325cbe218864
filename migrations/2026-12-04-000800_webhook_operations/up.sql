-- Secret rotation: the secret replaced last still signs (as a second
-- signature) until previous_secret_until.
ALTER TABLE webhook_endpoints
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_secret_until timestamptz,
    -- Filters besides events (NULL: no filter): article events are sent only
    -- for these slugs, when one of these section kinds changed, and for
    -- articles in this status.
    ADD COLUMN slugs text[],
    ADD COLUMN section_kinds text[],
    ADD COLUMN status text CHECK (status IN ('draft', 'published'));

-- Every attempt of a delivery, kept with it (and deleted with it).
CREATE TABLE webhook_attempts (
    id           bigserial PRIMARY KEY,
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL,
    duration_ms  integer NOT NULL,
    status       integer,
    error        text,
    -- The first 1 KiB of the answer's body.
    response     text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- The deliveries list pages newest first by seq within an endpoint.
CREATE INDEX webhook_deliveries_endpoint_seq ON webhook_deliveries (endpoint_id, seq DESC);
