-- Recording a detector run's findings as alerts (store.go, Store.Record). The findings
-- are the run's ({{.Drafts}}, {{call .FindingsOf "table"}}: detect.Findings.Data), in
-- the temporary tables of its session; values are parameters: as_of, record (the
-- detectors recorded), since (per detector, the moment of its latest recorded run in
-- Unix milliseconds: changes after it may not have reached alerts yet), firing.

-- Each detector's latest recorded run.
{{define "latest_runs"}}SELECT detector, max(a) AS as_of, toUInt64(argMax(firing, a)) AS firing FROM (SELECT detector, as_of AS a, firing FROM {{.DB}}.alert_runs WHERE has({detectors:Array(String)}, detector)) GROUP BY detector{{end}}

{{define "drop_temporary"}}DROP TEMPORARY TABLE IF EXISTS {{.Table}}{{end}}

-- The alerts an analyst closed as false positives: they do not fire again for the same
-- order and number.
{{define "false_positives"}}SELECT alert_id FROM ({{template "cases" .}}) WHERE case_state = 'closed' AND outcome = 'false_positive'{{end}}

-- Every finding as a draft (no timelines) with the hash of what its alert says: the
-- draft's fields and what its timeline is built from. Only the ids and the hash are
-- kept: the texts are hashed as they stream by.
{{define "findings"}}CREATE TEMPORARY TABLE trackwatch_run_findings ENGINE = Memory AS
SELECT {{template "alert_id"}} AS alert_id, detector, order_id, tracking_number,
    sipHash64(seller_id, buyer_id, marketplace, severity, recommendation, reason, reasons, evidence, timeline_key,
        isNull(protection_ends_at), ifNull(protection_ends_at, toDateTime64(0, 3, 'UTC')), isNull(amount), ifNull(amount, 0)) AS content_hash
FROM ({{.Drafts}}){{end}}

-- Each alert's latest state: the alerts row, or a change logged after the detector's
-- latest complete run, whichever is later. A run that logged its changes and died
-- before writing alerts is so taken as done, and its changes are not made twice.
{{define "prior_state"}}CREATE TEMPORARY TABLE trackwatch_run_prior ENGINE = Memory AS
SELECT alert_id, any(detector) AS detector, argMax(status, v) AS status, argMax(first_detected_at, v) AS first_detected_at, max(v) AS as_of,
    argMax(content_hash, v) AS content_hash
FROM (
    -- (a scoped run reads the alerts of its orders only, without FINAL, which ClickHouse
    -- 26.7 cannot combine with a temporary table's filter: the latest version is
    -- picked below anyway)
    SELECT alert_id, detector, status, first_detected_at, as_of AS v, content_hash FROM {{.DB}}.alerts {{if not .Scoped}}FINAL{{end}}
    WHERE has({record:Array(String)}, detector){{if .Scoped}} AND {{call .ScopeOf "order_id"}}{{end}}
    UNION ALL
    -- a state only logged (its run died before writing alerts) has no hash: it is written
    SELECT alert_id, detector, status, first_detected_at, as_of AS v, toUInt64(0) AS content_hash FROM {{.DB}}.alert_changes
    WHERE has({record:Array(String)}, detector) AND as_of > fromUnixTimestamp64Milli({since:Map(String, Int64)}[detector], 'UTC')
      AND as_of <= {as_of:DateTime64(3, 'UTC')}{{if .Scoped}} AND {{call .ScopeOf "order_id"}}{{end}}
)
GROUP BY alert_id{{end}}

-- The changes: found and not firing before (fired, or refired after a resolve); firing
-- before and not found now (resolved). A state written as of this moment or a later one
-- is never changed.
{{define "changes"}}CREATE TEMPORARY TABLE trackwatch_run_changes ENGINE = Memory AS
SELECT alert_id, detector, kind, lower(hex(sipHash128(alert_id, kind, {as_of:DateTime64(3, 'UTC')}))) AS change_id
FROM (
    SELECT f.alert_id AS alert_id, f.detector AS detector, if(p.status = '', 'fired', 'refired') AS kind
    FROM trackwatch_run_findings AS f LEFT JOIN trackwatch_run_prior AS p ON p.alert_id = f.alert_id
    WHERE has({record:Array(String)}, f.detector)
      AND (p.status = '' OR (p.status = 'resolved' AND p.as_of < {as_of:DateTime64(3, 'UTC')}))
      AND f.alert_id NOT IN ({{template "false_positives" .}})
    UNION ALL
    SELECT alert_id, detector, 'resolved' AS kind FROM trackwatch_run_prior
    WHERE status = 'firing' AND as_of < {as_of:DateTime64(3, 'UTC')}
      AND alert_id NOT IN (SELECT alert_id FROM trackwatch_run_findings)
){{end}}

-- The alerts to write: every finding that fires (new, or again after a resolve) or that
-- was firing and says something else now. A state written as of a later moment is never
-- changed; an alert closed as a false positive does not fire again.
{{define "write"}}CREATE TEMPORARY TABLE trackwatch_run_write ENGINE = Memory AS
SELECT f.alert_id AS alert_id, f.detector AS detector, f.order_id AS order_id, f.tracking_number AS tracking_number,
    f.content_hash AS content_hash, if(p.status = 'firing', p.first_detected_at, {as_of:DateTime64(3, 'UTC')}) AS first_detected_at
FROM trackwatch_run_findings AS f LEFT JOIN trackwatch_run_prior AS p ON p.alert_id = f.alert_id
WHERE has({record:Array(String)}, f.detector) AND (p.status = '' OR p.as_of <= {as_of:DateTime64(3, 'UTC')})
  AND (p.status != 'firing' OR p.content_hash != f.content_hash)
  AND f.alert_id NOT IN ({{template "false_positives" .}}){{end}}

-- A resolved alert is logged as it last fired, with the moment it resolved. It was last
-- detected by its detector's previous run (a row is rewritten only when it changes, so
-- the stored last detection may be older).
{{define "log_resolved"}}INSERT INTO {{.DB}}.alert_changes (change_id, kind, {{template "alert_columns"}})
SELECT c.change_id, 'resolved', a.alert_id, a.detector, a.order_id, a.tracking_number, a.seller_id, a.buyer_id, a.marketplace,
    a.severity, a.recommendation, a.reason, a.reasons, a.evidence, a.protection_ends_at, a.amount,
    a.first_detected_at, greatest(a.last_detected_at, fromUnixTimestamp64Milli({since:Map(String, Int64)}[a.detector], 'UTC')),
    'resolved', {as_of:DateTime64(3, 'UTC')}, {as_of:DateTime64(3, 'UTC')}
FROM (
    -- no FINAL where a temporary table filters: ClickHouse 26.7 can lose the session's
    -- temporary tables in FINAL's reading of many parts ("Unknown table expression
    -- identifier", seen at 10M events); the latest version is picked below anyway
    SELECT * FROM (
        SELECT {{template "alert_columns"}} FROM {{.DB}}.alerts
        WHERE alert_id IN (SELECT alert_id FROM trackwatch_run_changes WHERE kind = 'resolved')
        UNION ALL
        SELECT {{template "alert_columns"}} FROM {{.DB}}.alert_changes
        WHERE alert_id IN (SELECT alert_id FROM trackwatch_run_changes WHERE kind = 'resolved') AND as_of < {as_of:DateTime64(3, 'UTC')}
    )
    ORDER BY as_of DESC LIMIT 1 BY alert_id
) AS a INNER JOIN trackwatch_run_changes AS c ON c.alert_id = a.alert_id AND c.kind = 'resolved'{{end}}

-- How many alerts to write, and one chunk of them (by a hash of the alert id).
{{define "count_write"}}SELECT count() AS n FROM trackwatch_run_write{{end}}
{{define "chunk"}}CREATE TEMPORARY TABLE trackwatch_run_chunk ENGINE = Memory AS SELECT * FROM trackwatch_run_write
WHERE cityHash64(alert_id) % {chunks:UInt64} = {chunk:UInt64}{{end}}

-- A chunk's findings in full, timelines and all (a run where little changed builds few).
{{define "full_findings"}}CREATE TEMPORARY TABLE trackwatch_run_full ENGINE = Memory AS
SELECT {{template "alert_id"}} AS alert_id, * FROM ({{call .FindingsOf "trackwatch_run_chunk"}}){{end}}

-- The change log first: a run that dies after it is completed by the next one (see
-- prior_state); one that dies before it has changed nothing.
{{define "log_fired"}}INSERT INTO {{.DB}}.alert_changes (change_id, kind, {{template "alert_columns"}})
SELECT c.change_id, c.kind, f.alert_id, f.detector, f.order_id, f.tracking_number, f.seller_id, f.buyer_id, f.marketplace,
    f.severity, f.recommendation, f.reason, f.reasons, f.evidence, f.protection_ends_at, f.amount,
    {as_of:DateTime64(3, 'UTC')}, {as_of:DateTime64(3, 'UTC')}, 'firing', NULL, {as_of:DateTime64(3, 'UTC')}
FROM trackwatch_run_changes AS c INNER JOIN trackwatch_run_full AS f ON f.alert_id = c.alert_id
WHERE c.kind != 'resolved'{{end}}

-- Every finding fires, as of this moment, keeping the start of a firing episode. A
-- finding that was firing already and says the same (its content hash) is not
-- rewritten: readers take a firing alert's last detection from its detector's latest
-- run (current_alerts).
{{define "write_firing"}}INSERT INTO {{.DB}}.alerts ({{template "alert_columns"}}, content_hash)
SELECT f.alert_id, f.detector, f.order_id, f.tracking_number, f.seller_id, f.buyer_id, f.marketplace, f.severity, f.recommendation,
    f.reason, f.reasons, f.evidence, f.protection_ends_at, f.amount,
    w.first_detected_at, {as_of:DateTime64(3, 'UTC')}, 'firing', NULL, {as_of:DateTime64(3, 'UTC')}, w.content_hash
FROM trackwatch_run_chunk AS w INNER JOIN trackwatch_run_full AS f ON f.alert_id = w.alert_id{{end}}

-- After the chunks: the resolved alerts (logged before the chunks), and the run's
-- counts, the mark that the run is complete.
{{define "write_resolved"}}INSERT INTO {{.DB}}.alerts ({{template "alert_columns"}})
SELECT {{template "alert_columns"}} FROM {{.DB}}.alert_changes
WHERE change_id IN (SELECT change_id FROM trackwatch_run_changes WHERE kind = 'resolved'){{end}}
{{define "runs"}}INSERT INTO {{.DB}}.alert_runs (detector, as_of, firing, fired, refired, resolved)
SELECT r.d, {as_of:DateTime64(3, 'UTC')}, {firing:Map(String, UInt64)}[r.d], c.fired, c.refired, c.resolved
FROM (SELECT arrayJoin({record:Array(String)}) AS d) AS r
LEFT JOIN (
    SELECT detector, countIf(kind = 'fired') AS fired, countIf(kind = 'refired') AS refired, countIf(kind = 'resolved') AS resolved
    FROM trackwatch_run_changes GROUP BY detector
) AS c ON c.detector = r.d{{end}}

-- The alerts firing per detector once the run is recorded: its findings, for a run
-- over every order; for a scoped run, the changes since the detector's previous run.
{{define "count_firing"}}SELECT detector, count() AS up, toUInt64(0) AS down FROM trackwatch_run_findings GROUP BY detector{{end}}
{{define "count_firing_scoped"}}SELECT detector, uniqExactIf(change_id, kind != 'resolved') AS up, uniqExactIf(change_id, kind = 'resolved') AS down
FROM {{.DB}}.alert_changes WHERE has({record:Array(String)}, detector)
  AND as_of > fromUnixTimestamp64Milli({since:Map(String, Int64)}[detector], 'UTC') AND as_of <= {as_of:DateTime64(3, 'UTC')}
GROUP BY detector{{end}}

-- The run's changes: counted by kind, and the first MaxChangesRead read without reason
-- and evidence. (Not FINAL, see log_resolved: a change logged twice is one row here.)
{{define "count_changes"}}SELECT kind, count() AS n FROM trackwatch_run_changes GROUP BY kind{{end}}
{{define "read_changes"}}SELECT change_id, kind, alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity,
    recommendation, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of, created_at
FROM {{.DB}}.alert_changes WHERE change_id IN (SELECT change_id FROM trackwatch_run_changes)
ORDER BY detector, order_id, kind, change_id, created_at LIMIT 1 BY change_id LIMIT {max:UInt32}{{end}}

-- One alert as it stands, and alerts by detector and status (Get, List).
{{define "get_alert"}}SELECT {{template "alert_columns"}} FROM {{template "current_alerts" .}} WHERE alert_id = {id:String}{{end}}
{{define "list_alerts"}}SELECT {{template "alert_columns"}} FROM {{template "current_alerts" .}}
WHERE ({detector:String} = '' OR detector = {detector:String}) AND ({status:String} = '' OR status = {status:String})
ORDER BY last_detected_at DESC, alert_id LIMIT {limit:UInt32}{{end}}
