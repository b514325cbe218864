-- The claim's ordering probe ("no older pending delivery of the same endpoint
-- and article") looked through every delivery of the pair, delivered ones
-- too; this index holds only pending rows, so the probe is one lookup.
CREATE INDEX webhook_deliveries_pending_chain ON webhook_deliveries (endpoint_id, article_id, seq)
    WHERE state = 'pending';

-- A pending delivery queued behind an older pending one of the same endpoint
-- and article is `waiting`: not due whatever its next_attempt_at, and out of
-- the claim's index, so a dead receiver's backlog costs the claim nothing.
-- The worker releases the next one when a delivery is delivered or fails.
ALTER TABLE webhook_deliveries ADD COLUMN waiting boolean NOT NULL DEFAULT false;
UPDATE webhook_deliveries c SET waiting = true
WHERE c.state = 'pending' AND EXISTS (
    SELECT 1 FROM webhook_deliveries o
    WHERE o.endpoint_id = c.endpoint_id AND o.article_id = c.article_id
      AND o.state = 'pending' AND o.seq < c.seq);
-- What the claim scans: pending rows not waiting, oldest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
    WHERE state = 'pending' AND NOT waiting;
DROP INDEX webhook_deliveries_pending;

-- Pruning finds finished deliveries past the retention by age, in batches.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at)
    WHERE state IN ('delivered', 'failed');
