-- What trackwatch concludes from a tracking number's shape (package trackingnumber),
-- per number and declared carrier: kept only where there is something to say (a number
-- that fits none of the declared carrier's formats, or fits another courier's; the
-- couriers an undeclared number fits). A verdict depends on the number and the carrier
-- alone, so it is computed once, in Go, when the order event is stored, and read by the
-- detectors' SQL (invalid_tracking_number, carrier_mismatch), which let a carrier's
-- physical scan outrank it. spec names the specification version; when it changes, the
-- service recomputes every stored pair (number_check_runs records that it did).
CREATE TABLE IF NOT EXISTS {{.DB}}.number_checks{{.OnCluster}}
(
    tracking_number  String COMMENT 'upper case, no spaces or dashes',
    carrier          LowCardinality(String) COMMENT 'the declared carrier slug, or empty',
    verdict          LowCardinality(String) COMMENT 'invalid, other_courier, or unchecked (courier detection only)',
    couriers         Array(LowCardinality(String)) COMMENT 'the carriers whose formats the number fits',
    problem          String CODEC(ZSTD(1)),
    problem_ja       String CODEC(ZSTD(1)),
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
