-- The Dispatcher's statements (dispatch.go). Values are query parameters; the receiver's
-- filters are detectors, min_rank, marketplaces, recommendations and send_resolved (see
-- filterArgs).

-- The changes due for a receiver: not delivered or failed for good, due now, matching
-- the receiver's filters, logged within max_age (or replayed), and not claimed by
-- another instance.
{{define "due"}}
SELECT c.*, s.attempts AS attempts, s.base AS base, if(s.replayed_at > c.created_at, s.replayed_at, c.created_at) AS origin
FROM {{.DB}}.alert_changes AS c FINAL
LEFT JOIN (
    SELECT change_id, max(attempt) AS attempts, argMax(outcome, attempt) AS last_outcome, argMax(next_attempt_at, attempt) AS next_at,
        maxIf(attempt, outcome = 'replay') AS base, maxIf(attempted_at, outcome = 'replay') AS replayed_at
    FROM {{.DB}}.notify_attempts WHERE receiver = {receiver:String}
    GROUP BY change_id
) AS s ON s.change_id = c.change_id
WHERE (s.last_outcome = '' AND c.created_at >= {now:DateTime64(3, 'UTC')} - toIntervalSecond({max_age:UInt32})
       OR s.last_outcome IN ('retry', 'replay', 'gone') AND ifNull(s.next_at, toDateTime64(0, 3, 'UTC')) <= {now:DateTime64(3, 'UTC')})
  AND (empty({detectors:Array(String)}) OR has({detectors:Array(String)}, c.detector))
  AND indexOf(['low', 'medium', 'high', 'critical'], c.severity) >= {min_rank:UInt8}
  AND (empty({marketplaces:Array(String)}) OR has({marketplaces:Array(String)}, c.marketplace))
  AND (empty({recommendations:Array(String)}) OR has({recommendations:Array(String)}, c.recommendation))
  AND ({send_resolved:Bool} OR c.kind != 'resolved')
  -- an alert someone acknowledged or closed is not notified again (its resolution is)
  AND (c.kind = 'resolved' OR c.alert_id NOT IN (SELECT alert_id FROM ({{alertCases .DB}}) WHERE case_state IN ('acknowledged', 'closed')))
  AND c.change_id NOT IN (
      SELECT change_id FROM {{.DB}}.notify_claims
      WHERE receiver = {receiver:String} AND claim_until > {now:DateTime64(3, 'UTC')}
      GROUP BY change_id HAVING argMin(instance, (_block_number, claimed_at)) != {instance:String})
ORDER BY c.created_at, c.change_id
LIMIT {limit:UInt32}
{{end}}

-- This instance's claims on a batch of changes (ids) until a moment.
{{define "claim"}}
INSERT INTO {{.DB}}.notify_claims (receiver, change_id, instance, claim_until)
SELECT {receiver:String}, arrayJoin({ids:Array(String)}), {instance:String}, {until:DateTime64(3, 'UTC')}
{{end}}

-- The changes of a batch whose winning unexpired claim is this instance's: the claim the
-- server committed first (its block number).
{{define "claims_won"}}
SELECT change_id FROM {{.DB}}.notify_claims
WHERE receiver = {receiver:String} AND change_id IN {ids:Array(String)} AND claim_until > {now:DateTime64(3, 'UTC')}
GROUP BY change_id HAVING argMin(instance, (_block_number, claimed_at)) = {instance:String}
{{end}}

-- The delivery log's batch insert (rows appended as attempt structs).
{{define "log_attempts"}}
INSERT INTO {{.DB}}.notify_attempts (receiver, change_id, attempt, outcome, status_code, error, message_id, instance, attempted_at, next_attempt_at, duration_ms)
{{end}}

-- Whether a receiver (r) is disabled.
{{define "receiver_disabled"}}
SELECT disabled FROM {{.DB}}.notify_receivers FINAL WHERE receiver = {r:String}
{{end}}

-- Disables or enables a receiver (r), with the reason (why).
{{define "set_disabled"}}
INSERT INTO {{.DB}}.notify_receivers (receiver, disabled, reason) VALUES ({r:String}, {d:UInt8}, {why:String})
{{end}}

-- The firing alerts a receiver's filters select, for a resend (send_resolved, one of
-- the filters' parameters, is named and has no effect).
{{define "firing"}}
SELECT * EXCEPT (content_hash) FROM {{currentAlerts .DB}}
WHERE status = 'firing'
  AND (empty({detectors:Array(String)}) OR has({detectors:Array(String)}, detector))
  AND indexOf(['low', 'medium', 'high', 'critical'], severity) >= {min_rank:UInt8}
  AND (empty({marketplaces:Array(String)}) OR has({marketplaces:Array(String)}, marketplace))
  AND (empty({recommendations:Array(String)}) OR has({recommendations:Array(String)}, recommendation))
  AND {send_resolved:Bool} = {send_resolved:Bool}
ORDER BY alert_id
{{end}}

-- The alerts of cases (cases, ids as alert.CaseID), for a receiver that groups by case:
-- each one's current row (found without FINAL: an alert's case never changes; then read
-- by id).
{{define "case_members"}}
SELECT alert_id, {{caseID}} AS case_id, status, first_detected_at, resolved_at FROM {{.DB}}.alerts FINAL
WHERE alert_id IN (SELECT alert_id FROM {{.DB}}.alerts WHERE {{caseID}} IN {cases:Array(String)})
{{end}}

-- The logged changes of alerts (ids) up to a moment, oldest first (a change logged twice
-- is one row here: the same id, kind and moment).
{{define "member_changes"}}
SELECT DISTINCT alert_id, kind, as_of FROM {{.DB}}.alert_changes
WHERE alert_id IN {ids:Array(String)} AND as_of <= {until:DateTime64(3, 'UTC')}
ORDER BY as_of
{{end}}
