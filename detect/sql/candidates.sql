-- Stage 2 of a run: every order that at least one of the run's detectors flags, once per
-- detector that flags it, with what the detectors need to know about its tracking
-- number. The carrier history of each number is summarised once, as of {as_of}
-- (carrier_summary.sql); events
-- older than the recycle window belong to an earlier parcel with the same number and do
-- not count. Each detector contributes its flag (and any columns of its own) from its own
-- file; timelines are built later, only for the flagged numbers. A scheduled run
-- (.Tracked) also keeps, for each order with one, the next moment its findings can change
-- by time alone (a row with detector '~next'), and a scoped run (.Scoped) evaluates only
-- the orders on the numbers of its scope (the others on those numbers are there for
-- tracking_reuse to compare with). A varied set (.Vary) evaluates its detectors once per
-- variant over one join: each row is repeated per value and tagged with it (vary_value).
SELECT detector, * EXCEPT ({{journey_names}})
FROM
(
    SELECT *,{{if .Vary}}
        -- a varied set: the row once per variant, with the variant's value of the
        -- threshold varied, which the detectors' expressions read (fragments.sql, th)
        vary_value,{{end}}
        -- a shipment declared to dodge a cancellation (cancel_dodged.sql), kept for every
        -- order whatever the set: it lifts the severity of the order's other findings
        {{.Dodged}} AS cancel_dodged{{range .Detectors}}{{with .Columns}},
        {{.}}{{end}}{{end}}
        {{- if .Tracked}},
        -- the moments after this one at which something can change by time alone: the
        -- earliest event leaves the recycle window, and each detector's own (next_check)
        arrayFilter(at -> at > {as_of:DateTime64(3, 'UTC')}, arrayConcat(
            -- (month arithmetic clamps to a month's end: a window edge moves at midnights)
            if(events > 0, [if(first_event_at + toIntervalMonth({{recycle_months_min}}) > {as_of:DateTime64(3, 'UTC')},
                first_event_at + toIntervalMonth({{recycle_months_min}}), {{next_midnight}})], []){{range .Detectors}}{{with .NextCheck}},
            {{.}}{{end}}{{end}})) AS next_checks,
        if(empty(next_checks), toDateTime64(0, 3, 'UTC'), arrayMin(next_checks)) AS next_check_at
        {{- end}}
    FROM
    (
        SELECT
            o.order_id AS order_id, o.tracking_number AS tracking_number, o.seller_id AS seller_id, o.buyer_id AS buyer_id,
            o.marketplace AS marketplace, o.state AS state, o.carrier AS carrier, o.placed_at AS placed_at, o.shipped_at AS shipped_at,
            o.ship_to_country AS ship_to_country, o.ship_to_postal AS ship_to_postal, o.ship_to_city AS ship_to_city,
            o.protection_days AS protection_days, o.protection_extended_days AS protection_extended_days, o.amount AS amount,
            o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS ends_at,
            -- the journey, packed (orders.sql) and unpacked here for the detectors, kept
            -- packed in the candidates (findings.sql unpacks it again)
            o.journey AS journey, {{journey_columns}},
            t.events AS events, t.moving_events AS moving_events, t.first_event_at AS first_event_at, t.last_event_at AS last_event_at,
            t.preadvice_events AS preadvice_events, t.voided_events AS voided_events, t.first_voided_at AS first_voided_at,
            t.voided_raw AS voided_raw, t.first_scan_at AS first_scan_at, t.last_scan_sub_status AS last_scan_sub_status,
            t.last_scan_at AS last_scan_at, t.last_scan_raw AS last_scan_raw,
            t.dest_country AS dest_country, t.dest_postal AS dest_postal, t.dest_city AS dest_city,
            t.delivered_events > 0 AS delivered,
            t.delivered_country AS delivered_country, t.delivered_postal AS delivered_postal, t.delivered_city AS delivered_city,
            {{if .Reuse}}r.others{{else}}CAST([], 'Array(String)'){{end}} AS others,
            -- the verdict on the number's shape for its declared carrier (number_checks,
            -- stored at ingest by package trackingnumber): empty for a valid one
            n.verdict AS number_verdict, n.couriers AS number_couriers, n.problem AS number_problem,
            n.problem_ja AS number_problem_ja, n.spec AS number_spec
        FROM (SELECT * FROM {{.Orders}} WHERE {{shard "tracking_number"}}{{if .Scoped}} AND tracking_number IN (SELECT tracking_number FROM {{.ScopeNumbers}}){{end}}) AS o
        LEFT JOIN
        (
{{.CarrierSummary}}
        ) AS t ON t.tracking_number = o.tracking_number
        LEFT JOIN
        (
            -- the verdicts of the latest judging run's version (ingest.RecheckNumbers),
            -- or every verdict before the first run (read once per run: run.go)
            SELECT tracking_number, carrier, verdict, couriers, problem, problem_ja, spec
            FROM {{.DB}}.number_checks FINAL
            WHERE verdict IN ('invalid', 'other_courier') AND {{shard "tracking_number"}}
              {{- if .Scoped}} AND tracking_number IN (SELECT tracking_number FROM {{.ScopeNumbers}}){{end}}
              AND (spec = {number_spec:String} OR {number_spec_any:Bool})
        ) AS n ON n.tracking_number = o.tracking_number AND n.carrier = o.carrier
        {{- if .Reuse}}
        LEFT JOIN
        (
            -- the other orders with the same number, shipped within the recycle window, that
            -- go to another buyer or another address (one buyer's combined parcel is not reuse)
            SELECT a.order_id AS order_id, arraySort(groupUniqArray(b.order_id)) AS others
            FROM (SELECT * FROM {{.Orders}} WHERE {{shard "tracking_number"}}{{if .Scoped}} AND tracking_number IN (SELECT tracking_number FROM {{.ScopeNumbers}}){{end}}) AS a
            INNER JOIN (SELECT * FROM {{.Orders}} WHERE {{shard "tracking_number"}}) AS b ON b.tracking_number = a.tracking_number
            WHERE a.tracking_number != '' AND b.order_id != a.order_id
              AND abs(dateDiff('day', a.shipped_at, b.shipped_at)) <= {{th "recycle_months" "a.carrier" "a.marketplace"}} * 30
              AND (b.buyer_id != a.buyer_id
                   OR b.ship_to_country != a.ship_to_country
                   OR (b.ship_to_postal != '' AND a.ship_to_postal != '' AND b.ship_to_postal != a.ship_to_postal)
                   OR ((b.ship_to_postal = '' OR a.ship_to_postal = '') AND b.ship_to_city != a.ship_to_city))
            GROUP BY a.order_id
        ) AS r ON r.order_id = o.order_id
        {{- end}}
    ){{if .Vary}}
    ARRAY JOIN {vary_values:Array(UInt16)} AS vary_value{{end}}
)
ARRAY JOIN arrayFilter(d -> d != '', [
    {{- range $i, $d := .Detectors}}{{if $i}},{{end}}
    if({{$d.Flag}}, '{{$d.Name}}', '')
    {{- end}}
    {{- if .Tracked}},
    if(notEmpty(next_checks), '~next', '') -- a row that only carries next_check_at
    {{- end}}
]) AS detector
