-- Each tracking number's carrier history summarised per calendar month (UTC), kept up
-- to date at insert by a materialized view: what a detector run needs to know about a
-- number (how many events of each kind, the first and last physical scan, the latest
-- destination and place of delivery, ...) as partial aggregates that merge (the latest
-- of something as a packed string: see schemas/summaries.go). A run as of a moment reads
-- the rows that lie wholly inside its recycle window from here and summarises from
-- tracking_events only the rows that cross an edge of it (a number with events both
-- before and after the window's start, or both before and after the moment), so it is
-- exact for every moment while reading a fraction of the events. Counts are of events as
-- inserted: a re-sent event counts again here (as in tracking_events until a merge
-- collapses it); the detectors test counts only against zero, and the counts shown as
-- evidence come from the deduplicated timeline.
--
-- After tracking_events is changed in place (`trackwatch phrases renormalise`), the
-- months that hold changed events are summarised again (a mutation does not
-- reach a materialized view).
CREATE TABLE IF NOT EXISTS {{.DB}}.carrier_months{{.OnCluster}}
(
    tracking_number   String,
    carrier           LowCardinality(String),
    month             Date COMMENT 'toStartOfMonth(occurred_at), UTC',
    events            SimpleAggregateFunction(sum, UInt64),
    moving_events     SimpleAggregateFunction(sum, UInt64) COMMENT 'physical scans',
    preadvice_events  SimpleAggregateFunction(sum, UInt64),
    voided_events     SimpleAggregateFunction(sum, UInt64),
    delivered_events  SimpleAggregateFunction(sum, UInt64),
    first_event_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_event_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    first_scan_at     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first physical scan',
    first_voided      SimpleAggregateFunction(min, String) COMMENT 'packed: time, raw_status; ~ when none',
    last_scan         SimpleAggregateFunction(max, String) COMMENT 'packed: time, sub_status, raw_status of the last physical scan',
    dest              SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city of the latest destination',
    delivered_place   SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city of the latest delivery'
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(month)
ORDER BY (tracking_number, carrier, month);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.carrier_months_mv{{.OnCluster}} TO {{.DB}}.carrier_months AS
{{carrierMonthStates (printf "%s.tracking_events" .DB) "1"}};

-- The history stored before this migration. (An insert that lands between the view's
-- creation and this statement counts twice; migrations run before the ingest starts.)
-- On a cluster an INSERT reaches one shard only: there, `trackwatch summaries rebuild`
-- summarises the history once the migration has run.
{{- if not .OnCluster}}
INSERT INTO {{.DB}}.carrier_months
{{carrierMonthStates (printf "%s.tracking_events" .DB) "1"}};
{{- end}}
