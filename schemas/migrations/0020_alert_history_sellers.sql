-- A seller's alert (seller_valid_tracking_rate) has no order and no tracking number, so
-- the sellers flagged at one backtest step shared alert_history's sorting key and
-- collapsed into one row when read FINAL. seller_key (the marketplace and the seller,
-- written by each step; empty for an order's alert) ends the key. A column added to a
-- sorting key may have no default expression, so the steps write it (backtest.sql).
-- Backtests run before keep what they kept: run one again to record every seller.
ALTER TABLE {{.DB}}.alert_history{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS seller_key String COMMENT 'a seller''s alert: marketplace NUL seller_id; empty for an order''s',
    MODIFY ORDER BY (backtest_id, detector, order_id, tracking_number, as_of, seller_key);
