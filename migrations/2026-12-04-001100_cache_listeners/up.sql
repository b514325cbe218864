-- Every node's cache listener connection, registered when it connects (one
-- row per connection, not per heartbeat): the webhook worker waits for each
-- live one to acknowledge a probe before it sends an event (API.md §9:
-- read-after-event). Unlogged: it describes running processes, which a
-- crash of the database ends anyway.
CREATE UNLOGGED TABLE cache_listeners (
    -- The listener's backend, as pg_stat_activity names it.
    pid           integer NOT NULL,
    backend_start timestamptz NOT NULL,
    -- How long after a heartbeat began the node serves cached entries (ms).
    serves_ms     integer NOT NULL,
    -- When a worker first saw its backend gone; the node stops serving
    -- within serves_ms of that, so it is waited for until then.
    gone_at       timestamptz,
    PRIMARY KEY (pid, backend_start)
);
