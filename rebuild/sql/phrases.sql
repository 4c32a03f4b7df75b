-- The carrier wordings stored in tracking_events, and their classification done again.

-- The wordings matching a filter (an empty carrier matches all), most frequent first:
-- each group of events with the same carrier, words, status and sub-status, and whether
-- the producer gave the status.
{{define "phrases"}}
SELECT carrier, raw_status, status, sub_status, status_given, provider_status, count() AS events, max(occurred_at) AS last_seen FROM {{.DB}}.tracking_events
WHERE raw_status != '' AND occurred_at >= {since:DateTime64(3, 'UTC')} AND ({carrier:String} = '' OR carrier = {carrier:String})
  AND (NOT {unmapped:Bool} OR sub_status = 'unknown/unknown')
GROUP BY carrier, raw_status, status, sub_status, status_given, provider_status ORDER BY events DESC, carrier, raw_status LIMIT {limit:UInt32}
{{end}}

-- Every wording group, for Renormalise to classify again.
{{define "wordings"}}
SELECT carrier, raw_status, status, sub_status, status_given, provider_status, count() AS events, max(occurred_at) AS last_seen FROM {{.DB}}.tracking_events
WHERE raw_status != '' GROUP BY carrier, raw_status, status, sub_status, status_given, provider_status
{{end}}

-- A wording group's key, as Renormalise makes the keys of the groups it changes
-- (carrier, words, status, status_given and the provider's reading joined by NUL bytes).
{{define "wording_key"}}concat(carrier, '\0', raw_status, '\0', status, '\0', toString(status_given), '\0', provider_status){{end}}

-- The calendar months (UTC) that hold events of the groups keys names: the months of the
-- summary to rebuild after they change.
{{define "wording_months"}}
SELECT DISTINCT toDateTime(toStartOfMonth(occurred_at), 'UTC') AS month FROM {{.DB}}.tracking_events
WHERE {{template "wording_key"}} IN {keys:Array(String)} ORDER BY month
{{end}}

-- The groups keys names take the sub-status and status at the same place in subs and
-- statuses.
{{define "renormalise"}}
ALTER TABLE {{.DB}}.tracking_events UPDATE
  sub_status = transform({{template "wording_key"}}, {keys:Array(String)}, {subs:Array(String)}, sub_status),
  status = transform({{template "wording_key"}}, {keys:Array(String)}, {statuses:Array(String)}, status)
WHERE {{template "wording_key"}} IN {keys:Array(String)}
{{end}}

-- The wordings a phrase table and a tracking aggregator read as different statuses
-- (the stored status kept the phrase table's reading), most frequent first.
{{define "disagreements"}}
SELECT provider, carrier, raw_status, sub_status, provider_status, count() AS events, max(occurred_at) AS last_seen FROM {{.DB}}.tracking_events
WHERE provider_status != '' AND status_given = 0 AND sub_status != 'unknown/unknown'
  AND splitByChar('/', provider_status)[1] != status
  AND occurred_at >= {since:DateTime64(3, 'UTC')} AND ({carrier:String} = '' OR carrier = {carrier:String})
GROUP BY provider, carrier, raw_status, sub_status, provider_status ORDER BY events DESC, provider, carrier, raw_status LIMIT {limit:UInt32}
{{end}}
