-- The backfill benchmark's reference (backfill.go): the contract's JSON mapped to
-- tracking_events as ClickHouse itself can, the same columns, with the raw values where
-- trackwatch normalises. The file is the body of the HTTP request.
{{define "reference_insert"}}
INSERT INTO {{.DB}}.tracking_events (event_id, tracking_number, tracking_number_raw, carrier, status, raw_status, occurred_at,
 location_country, location_city, location_postal, dest_country, dest_city, dest_postal)
SELECT event_id, upper(replaceRegexpAll(tracking_number, '[ -]', '')), tracking_number, carrier, status, raw_status, parseDateTime64BestEffort(occurred_at, 3, 'UTC'),
 location.country, location.city, location.postal_code, destination.country, destination.city, destination.postal_code
FROM input('event_id String, tracking_number String, carrier String, status String, raw_status String, occurred_at String,
 location Tuple(country String, city String, postal_code String), destination Tuple(country String, city String, postal_code String)')
FORMAT JSONEachRow
{{end}}
