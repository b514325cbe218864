DROP TABLE sync_horizon;
DROP TABLE changes;
