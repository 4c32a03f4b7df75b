-- A comparison of the sellers' detector's target (backtest --vary
-- detect.seller_vtr_target=0.9,0.95), a share rather than a whole number: setting_value
-- is each row's value as given (7, 0.95), and value, the row's key in the table's order,
-- holds a share in millionths (950000). Rows kept before this migration read their
-- whole-number value as setting_value.
ALTER TABLE {{.DB}}.backtest_comparisons{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS setting_value Float64 DEFAULT toFloat64(value) COMMENT 'the value compared (value is its key: a share in millionths)' AFTER value;
