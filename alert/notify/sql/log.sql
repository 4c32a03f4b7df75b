-- The delivery log's readers (log.go): `trackwatch notifications` and `trackwatch receivers`.

-- The latest attempt of each (receiver, change), newest first; receiver '' is every
-- receiver, failed selects the changes whose latest attempt did not deliver.
{{define "notifications"}}
SELECT s.receiver AS receiver, s.change_id AS change_id, c.kind AS kind, c.alert_id AS alert_id, c.detector AS detector,
    c.order_id AS order_id, c.tracking_number AS tracking_number, s.attempts AS attempts, s.outcome AS outcome,
    s.status_code AS status_code, s.error AS error, s.message_id AS message_id, s.last_attempt_at AS last_attempt_at,
    s.next_attempt_at AS next_attempt_at, c.created_at AS created_at
FROM (
    SELECT receiver, change_id, max(attempt) AS attempts, argMax(outcome, attempt) AS outcome, argMax(status_code, attempt) AS status_code,
        argMax(error, attempt) AS error, argMax(message_id, attempt) AS message_id, max(attempted_at) AS last_attempt_at,
        argMax(next_attempt_at, attempt) AS next_attempt_at
    FROM {{.DB}}.notify_attempts FINAL
    WHERE {receiver:String} = '' OR receiver = {receiver:String}
    GROUP BY receiver, change_id
) AS s
INNER JOIN (SELECT change_id, kind, alert_id, detector, order_id, tracking_number, created_at FROM {{.DB}}.alert_changes FINAL) AS c
    ON c.change_id = s.change_id
WHERE NOT {failed:Bool} OR s.outcome IN ('retry', 'failed', 'gone')
ORDER BY last_attempt_at DESC, change_id
LIMIT {limit:UInt32}
{{end}}

-- The attempts of the changes logged in [since, until) that were sent (or tried) to a
-- receiver, by change: what a replay makes due again.
{{define "replayed_changes"}}FROM {{.DB}}.notify_attempts
WHERE receiver = {receiver:String}
  AND change_id IN (SELECT change_id FROM {{.DB}}.alert_changes WHERE created_at >= {since:DateTime64(3, 'UTC')} AND created_at < {until:DateTime64(3, 'UTC')})
GROUP BY change_id{{end}}

-- How many changes a replay makes due again.
{{define "replay_count"}}
SELECT count() FROM (SELECT change_id {{template "replayed_changes" .}})
{{end}}

-- The replay: an attempt of outcome 'replay' for each change, due now.
{{define "replay"}}
INSERT INTO {{.DB}}.notify_attempts (receiver, change_id, attempt, outcome, instance, attempted_at, next_attempt_at)
SELECT {receiver:String}, change_id, max(attempt) + 1, 'replay', {instance:String}, {now:DateTime64(3, 'UTC')}, {now:DateTime64(3, 'UTC')}
{{template "replayed_changes" .}}
{{end}}

-- The named receivers' delivery counts, by each change's latest attempt.
{{define "receiver_counts"}}
SELECT receiver, countIf(outcome = 'delivered') AS delivered, countIf(outcome = 'retry') AS retrying,
    countIf(outcome IN ('failed', 'gone')) AS failed, maxIf(last_at, outcome = 'delivered') AS last_delivered_at
FROM (
    SELECT receiver, change_id, argMax(outcome, attempt) AS outcome, max(attempted_at) AS last_at
    FROM {{.DB}}.notify_attempts FINAL WHERE has({names:Array(String)}, receiver) GROUP BY receiver, change_id
)
GROUP BY receiver
{{end}}

-- The named receivers' states (disabled, with the reason).
{{define "receiver_states"}}
SELECT receiver, disabled, reason FROM {{.DB}}.notify_receivers FINAL WHERE has({names:Array(String)}, receiver)
{{end}}
