-- The workspace benchmark's data beyond the detectors' alerts.

-- Analysts' work on a share ({share:Float64}, 0..1) of the recorded alerts, each alert's
-- action chosen by its id's hash, as a queue in use has it: a quarter closed with an
-- outcome (mostly confirmed fake), a quarter acknowledged, a quarter assigned, a quarter
-- commented on, all an hour after the benchmark's moment.
{{define "analysts_act"}}
INSERT INTO {{.DB}}.alert_actions (action_id, alert_id, action, actor, assignee, outcome, comment, at)
SELECT lower(hex(sipHash64(alert_id, 'bench'))), alert_id, ['close', 'acknowledge', 'assign', 'comment'][h % 4 + 1], 'bench',
    if(h % 4 = 2, concat('analyst-', toString(h % 7)), ''), if(h % 4 = 0, if(h % 10 < 8, 'confirmed_fake', 'false_positive'), ''),
    if(h % 4 = 3, 'looked at the timeline', ''), {at:DateTime64(3, 'UTC')}
FROM (SELECT alert_id, cityHash64(alert_id) AS h FROM {{.DB}}.alerts FINAL)
WHERE bitShiftRight(h, 32) % 1000 < toUInt64({share:Float64} * 1000)
{{end}}

-- How many alerts analysts acted on.
{{define "count_acted"}}SELECT uniqExact(alert_id) FROM {{.DB}}.alert_actions{{end}}
