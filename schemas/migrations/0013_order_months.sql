-- Each order's events summarised per calendar month (UTC), kept up to date at insert by a
-- materialized view, as carrier_months is for tracking numbers: a detector run reads an
-- order's state (its latest status and parties, its latest shipment's number and carrier,
-- when it was placed and shipped, the latest ship-to address, protection, extension and
-- amount) from the rows that lie wholly before its moment, and summarises from
-- order_events only the rows that cross the moment. The latest of something is a packed
-- string (schemas/summaries.go): the greatest is the latest event, ties broken by value.
CREATE TABLE IF NOT EXISTS {{.DB}}.order_months{{.OnCluster}}
(
    order_id          String,
    month             Date COMMENT 'toStartOfMonth(occurred_at), UTC',
    first_event_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_event_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    latest            SimpleAggregateFunction(max, String) COMMENT 'packed: time, status, marketplace, seller_id, buyer_id',
    shipped           SimpleAggregateFunction(max, String) COMMENT 'packed: time, tracking_number, carrier of the latest shipped event',
    placed_at         SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    ship_to           SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city',
    protection        SimpleAggregateFunction(max, String) COMMENT 'packed: time, protection_days',
    extension         SimpleAggregateFunction(max, String) COMMENT 'packed: time, protection_extended_days',
    amount_at         SimpleAggregateFunction(max, String) COMMENT 'packed: time, amount'
)
ENGINE = {{engine "AggregatingMergeTree"}}
PARTITION BY toYYYYMM(month)
ORDER BY (order_id, month);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.order_months_mv{{.OnCluster}} TO {{.DB}}.order_months AS
{{orderMonthStates (printf "%s.order_events" .DB) "1"}};

-- The history stored before this migration (see 0011 on a cluster and on inserts that
-- land meanwhile: here a second count changes nothing, every column is a min or a max).
{{- if not .OnCluster}}
INSERT INTO {{.DB}}.order_months
{{orderMonthStates (printf "%s.order_events" .DB) "1"}};
{{- end}}
