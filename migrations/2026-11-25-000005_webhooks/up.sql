-- Webhook endpoints, managed by admins. `events` holds event names or '*'.
CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    url             text NOT NULL,
    events          text[] NOT NULL,
    description     text NOT NULL DEFAULT '',
    secret          text NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per event and endpoint, inserted in the write's own
-- transaction, so an event exists exactly when its write committed and
-- survives crashes. `id` is the `webhook-id` header, the same on every retry.
CREATE TABLE webhook_deliveries (
    seq             bigserial UNIQUE NOT NULL,
    id              uuid PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    article_id      uuid,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status     integer,
    last_error      text,
    leased_until    timestamptz,
    -- When the row was written (not when its transaction began): the worker
    -- waits a little past it, so every node has seen the write's NOTIFY.
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- What the worker scans: due pending rows, oldest first.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at, seq) WHERE state = 'pending';
-- Ordering per endpoint and article, and the deliveries list.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, article_id, seq);
