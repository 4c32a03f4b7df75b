-- Stage 3 of a run: the findings. Each flagged order gets its number's timeline (built
-- only for numbers whose detector shows it) and, from its detector's file, its severity,
-- recommendation, reason and evidence. Three forms (.Mode): "all", every finding;
-- "draft", every finding without timelines (empty, their counts 0) but with a key that
-- changes whenever the number's events in the window change (timeline_key), for a
-- recorder to tell which alerts changed at a fraction of the cost; "only", the findings
-- whose (detector, order, number) are rows of a table (Findings.Data's FindingsOf), with timelines.
-- A varied set's findings also carry the value of their variant (vary_value).
SELECT
    detector, order_id, tracking_number, seller_id, buyer_id, marketplace,
    -- a shipment declared to dodge a cancellation lifts the order's other findings a level
    if(cancel_dodged AND detector != 'cancel_dodged',
        multiIf(detector_severity = 'low', 'medium', detector_severity = 'medium', 'high', 'critical'), detector_severity) AS severity,
    multiIf({{range .Detectors}}detector = '{{.Name}}', {{.Recommendation}}, {{end}}'') AS recommendation,
    -- the reason in every language the files define, kept for the configured ones; the
    -- first configured language is also the plain reason
    mapFilter((lang, text) -> has({reason_languages:Array(String)}, lang), map({{range $i, $l := .Langs}}{{if $i}}, {{end}}
        '{{$l}}', multiIf({{range $.Detectors}}detector = '{{.Name}}', {{index .Reasons $l}}, {{end}}''){{end}})) AS reasons,
    reasons[{reason_languages:Array(String)}[1]] AS reason,
    multiIf({{range .Detectors}}
        detector = '{{.Name}}', {{.Evidence}},{{end}}
        '') AS evidence,
    -- an order never shipped (a cancellation before shipment) has no protection period
    -- running: no deadline, rather than one counted from 1970
    if(shipped_at = toDateTime64(0, 3, 'UTC'), NULL, ends_at) AS protection_ends_at,
    amount
    {{- if .Vary}},
    vary_value
    {{- end}}
    {{- if eq .Mode "draft"}},
    timeline_key
    {{- end}}
FROM
(
SELECT *, multiIf({{range .Detectors}}detector = '{{.Name}}', {{.Severity}}, {{end}}'') AS detector_severity
    -- each detector's facts (its "facts" block): computed here once, for the texts above
    -- to read as columns (an expression its texts repeat was planned once per use)
    {{range .Detectors}}{{with .Facts}},
    {{.}}{{end}}{{end}}
FROM
(
{{- if eq .Mode "draft"}}
    SELECT c.*, {{journey_columns}}, CAST([], 'Array(Tuple(at DateTime64(3, \'UTC\'), status String, raw_status String, country String, city String, sub_status String, physical Bool))') AS timeline,
        toUInt64(0) AS timeline_events, toUInt64(0) AS timeline_scans,
        sipHash64(c.events, c.moving_events, c.first_event_at, c.last_event_at) AS timeline_key
    FROM {{.Candidates}} AS c
{{- else}}
    SELECT c.*, {{journey_columns}}, e.timeline AS timeline, e.timeline_events AS timeline_events, e.timeline_scans AS timeline_scans
    FROM {{.FlaggedRows}} AS c
    LEFT JOIN
    (
        SELECT
            tracking_number,
            -- each event once: a re-sent event stays a second row until a merge collapses
            -- it, so counts shown as evidence come from here, not from the summaries
            arraySort(groupUniqArray((occurred_at, status, raw_status, location_country, location_city, sub_status, physical = 1))) AS events_seen,
            length(events_seen) AS timeline_events,
            countEqual(arrayMap(e -> e.7, events_seen), 1) AS timeline_scans,
            -- sorted by time first (a tuple sorts by its first element, then the others)
            CAST(arraySlice(events_seen, 1, 50),
                'Array(Tuple(at DateTime64(3, \'UTC\'), status String, raw_status String, country String, city String, sub_status String, physical Bool))') AS timeline
        FROM {{.DB}}.tracking_events
        WHERE {{carrier_history}}
          AND tracking_number IN (SELECT tracking_number FROM {{.FlaggedRows}} WHERE has({event_detectors:Array(String)}, detector))
        GROUP BY tracking_number
    ) AS e ON e.tracking_number = c.tracking_number
{{- end}}
)
)
{{- with .SellerRows}}
-- the sellers stage's findings (seller_valid_tracking_rate: sellers, not orders)
UNION ALL
SELECT *{{if eq $.Mode "draft"}}, toUInt64(0) AS timeline_key{{end}} FROM {{.}}
{{- end}}
