-- Each number's carrier summary as of {as_of}: its events within the recycle window
-- summarised (counts by kind, first and last event, first and last physical scan, the
-- first voided label, the latest destination and place of delivery). With .Summaries
-- the stored monthly summaries (carrier_months, kept at insert) stand for every month
-- row that lies wholly inside the window, and only the rows that cross its start or its
-- moment (a number that has events both sides of an edge) are summarised again from
-- their events; without, every event of the window is summarised. Both read the same
-- packed columns, so both give the same result. A scoped run (.Scoped) summarises the
-- numbers of its scope only, from its copy of their rows of carrier_months (merged).
SELECT
    tracking_number,
    sum(events) AS events, -- producer re-sends may count twice; only "any" and "none" matter
    sum(moving_events) AS moving_events,
    sum(preadvice_events) AS preadvice_events,
    sum(voided_events) AS voided_events,
    sum(delivered_events) AS delivered_events,
    min(first_event_at) AS first_event_at,
    max(last_event_at) AS last_event_at,
    ifNull(min(first_scan_at), toDateTime64(0, 3, 'UTC')) AS first_scan_at,
    min(first_voided) AS fv, max(last_scan) AS ls, max(dest) AS dst, max(delivered_place) AS dp,
    fromUnixTimestamp64Milli(toInt64OrZero(substring(fv, 1, 15)), 'UTC') AS first_voided_at,
    splitByChar('\x1f', fv)[2] AS voided_raw,
    fromUnixTimestamp64Milli(toInt64OrZero(substring(ls, 1, 15)), 'UTC') AS last_scan_at,
    splitByChar('\x1f', ls)[2] AS last_scan_sub_status,
    splitByChar('\x1f', ls)[3] AS last_scan_raw,
    splitByChar('\x1f', dst)[2] AS dest_country,
    splitByChar('\x1f', dst)[3] AS dest_postal,
    splitByChar('\x1f', dst)[4] AS dest_city,
    splitByChar('\x1f', dp)[2] AS delivered_country,
    splitByChar('\x1f', dp)[3] AS delivered_postal,
    splitByChar('\x1f', dp)[4] AS delivered_city
FROM
(
{{- if .Summaries}}
    SELECT * FROM {{if .Scoped}}{{.ScopeCarrierMonths}}{{else}}{{.DB}}.carrier_months FINAL{{end}}
    WHERE {{shard "tracking_number"}} AND month >= toStartOfMonth({{window_start_min}}) AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')})
      AND first_event_at >= {{window_start}} AND last_event_at <= {as_of:DateTime64(3, 'UTC')}
    UNION ALL
{{- end}}
    {{carrier_month_states (printf "%s.tracking_events" .DB) (summary_events_where .Summaries .DB .Scoped)}}
)
GROUP BY tracking_number
