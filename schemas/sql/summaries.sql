-- Statements over the summaries and indexes the migrations create, for the code that
-- changes stored history in place (package rebuild) and its tests.

-- Makes the next scheduled run of every detector set evaluate every order: written after
-- stored history is changed in place, which no materialized view sees (migration 0014).
{{define "reset_detect_runs"}}
INSERT INTO {{.DB}}.detect_checkpoints (detectors, config_hash, as_of, watermark, full) SELECT '', 0, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), false
{{end}}

-- Indexes every stored order event's number (order_numbers, migration 0014); repeating
-- it adds nothing (the table replaces).
{{define "fill_order_numbers"}}
INSERT INTO {{.DB}}.order_numbers SELECT DISTINCT tracking_number, order_id FROM {{.DB}}.order_events WHERE tracking_number != ''
{{end}}
