-- What trackwatch concludes from a tracking number's shape (package trackingnumber),
-- per number and declared carrier: kept only where there is something to say (a number
-- that fits none of the declared carrier's formats, or fits another courier's; the
-- couriers of a number whose carrier is undeclared). A verdict depends on the number and
-- the carrier alone, so it is computed once, in Go, when ingest decodes the order event,
-- stored with the event (order_events.number_*, in the same insert: no verdict is lost
-- to a crash between two inserts) and copied here by a materialized view, where the
-- detectors' SQL (invalid_tracking_number, carrier_mismatch) reads it and lets a
-- carrier's physical scan outrank it. spec names the verdicts' version; when it changes,
-- the service judges every stored pair again into this table (number_check_runs records
-- each such run, and the detectors read the latest run's version).
CREATE TABLE IF NOT EXISTS {{.DB}}.number_checks{{.OnCluster}}
(
    tracking_number  String COMMENT 'upper case, no spaces or dashes',
    carrier          LowCardinality(String) COMMENT 'the declared carrier slug, or empty',
    verdict          LowCardinality(String) COMMENT 'invalid, other_courier, or unchecked (courier detection only)',
    couriers         Array(LowCardinality(String)) COMMENT 'the carriers whose formats the number fits',
    problem          LowCardinality(String) COMMENT 'few distinct texts: a dictionary per part',
    problem_ja       LowCardinality(String),
    spec             LowCardinality(String),
    checked_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine "ReplacingMergeTree" "checked_at"}}
ORDER BY (tracking_number, carrier);

CREATE TABLE IF NOT EXISTS {{.DB}}.number_check_runs{{.OnCluster}}
(
    spec         LowCardinality(String),
    pairs        UInt64,
    finished_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine "MergeTree" ""}}
ORDER BY finished_at;

ALTER TABLE {{.DB}}.order_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS number_verdict LowCardinality(String) DEFAULT '' COMMENT 'invalid, other_courier, unchecked (couriers named), or empty: nothing to say' AFTER source_line,
    ADD COLUMN IF NOT EXISTS number_couriers Array(LowCardinality(String)) AFTER number_verdict,
    ADD COLUMN IF NOT EXISTS number_problem LowCardinality(String) DEFAULT '' AFTER number_couriers,
    ADD COLUMN IF NOT EXISTS number_problem_ja LowCardinality(String) DEFAULT '' AFTER number_problem,
    ADD COLUMN IF NOT EXISTS number_spec LowCardinality(String) DEFAULT '' AFTER number_problem_ja;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.number_checks_mv{{.OnCluster}} TO {{.DB}}.number_checks AS
SELECT tracking_number, carrier, number_verdict AS verdict, number_couriers AS couriers, number_problem AS problem,
    number_problem_ja AS problem_ja, number_spec AS spec
FROM {{.DB}}.order_events
WHERE number_verdict != '';
