-- The case statements of cases.go: an action recorded, an alert's actions and its case
-- (common.sql's fragment cases).

-- Records one case action.
{{define "case_act"}}
INSERT INTO {{.DB}}.alert_actions (action_id, alert_id, action, actor, assignee, outcome, comment, at)
VALUES ({id:String}, {alert:String}, {action:String}, {actor:String}, {assignee:String}, {outcome:String}, {comment:String}, {at:DateTime64(3, 'UTC')})
{{end}}

-- An alert's actions (id), oldest first.
{{define "case_actions"}}
SELECT * FROM {{.DB}}.alert_actions FINAL WHERE alert_id = {id:String} ORDER BY at, action_id
{{end}}

-- An alert's case (id): no row when nobody has acted on it.
{{define "case_of"}}
SELECT * FROM ({{template "cases" .}}) WHERE alert_id = {id:String}
{{end}}
