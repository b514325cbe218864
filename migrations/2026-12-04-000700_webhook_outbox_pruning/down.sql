DROP INDEX webhook_deliveries_finished;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at, seq) WHERE state = 'pending';
DROP INDEX webhook_deliveries_due;
ALTER TABLE webhook_deliveries DROP COLUMN waiting;
DROP INDEX webhook_deliveries_pending_chain;
