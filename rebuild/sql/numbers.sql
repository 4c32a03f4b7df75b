-- Judging the stored tracking numbers again (number_checks and number_check_runs,
-- migration 0015).

-- The checker version of the latest judging run ('' before any).
{{define "latest_run_spec"}}SELECT argMax(spec, finished_at) FROM {{.DB}}.number_check_runs{{end}}

-- Every number and carrier pair of the stored order events.
{{define "stored_numbers"}}SELECT DISTINCT tracking_number, carrier FROM {{.DB}}.order_events WHERE tracking_number != ''{{end}}

-- Verdicts, in the order insertNumberChecks appends them.
{{define "insert_number_checks"}}
INSERT INTO {{.DB}}.number_checks (tracking_number, carrier, verdict, couriers, problem, problem_ja, spec)
{{end}}

{{define "record_run"}}INSERT INTO {{.DB}}.number_check_runs (spec, pairs) VALUES ({spec:String}, {pairs:UInt64}){{end}}

-- The verdicts of other versions than the latest run's, which the detectors no longer read.
{{define "delete_older_checks"}}DELETE FROM {{.DB}}.number_checks WHERE spec != {spec:String}{{end}}
