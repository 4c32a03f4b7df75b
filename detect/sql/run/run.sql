-- The statements of a run (run.go, evaluate.go) around the stages in ../orders.sql,
-- ../candidates.sql and ../findings.sql.

-- The version of the tracking-number verdicts to read: the latest judging run's, or
-- every verdict before the first run.
{{define "number_spec"}}SELECT argMax(spec, finished_at), count() FROM {{.DB}}.number_check_runs{{end}}

-- A table's row count is in its metadata: no reading.
{{define "count_order_months"}}SELECT count() FROM {{.DB}}.order_months{{end}}

-- A table's primary index marks, for splitting a stage into passes of about as many rows.
{{define "pass_ranges"}}SELECT {{.Column}} AS key, toUInt64(rows_in_granule) AS rows FROM mergeTreeIndex({db:String}, {table:String}) WHERE rows_in_granule > 0 ORDER BY key{{end}}

{{define "drop_temporary"}}DROP TEMPORARY TABLE IF EXISTS {{.Table}}{{end}}

-- A stage's first pass creates its table; in memory for one pass, on disk for several
-- (the order state sorted by number, so that each candidates pass reads its range only).
{{define "create_stage"}}CREATE TEMPORARY TABLE {{.Table}} ENGINE = {{if not .OnDisk}}Memory{{else if .SortKey}}MergeTree ORDER BY {{.SortKey}}{{else}}MergeTree ORDER BY tuple(){{end}} AS
{{.Query}}{{end}}
{{define "insert_stage"}}INSERT INTO {{.Table}}
{{.Query}}{{end}}

-- A scheduled run writes each evaluated order's next check.
{{define "next_checks"}}INSERT INTO {{.DB}}.detect_next_checks (detectors, check_at, order_id)
SELECT {set_key:String}, next_check_at, order_id FROM {{.Candidates}} WHERE detector = '~next'{{end}}

-- The detectors that flagged an order (a scoped run renders stage 3 for them only).
{{define "found_detectors"}}SELECT DISTINCT detector FROM {{.Candidates}} WHERE detector != '~next'{{end}}

-- The findings brought to Go (Collect), in a stable order.
{{define "collect"}}SELECT * FROM (
{{.Findings}}
) ORDER BY indexOf({detectors:Array(String)}, detector), order_id, tracking_number, seller_id, marketplace{{end}}
