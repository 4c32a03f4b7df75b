-- Statements for the renderer's tests.
{{define "count"}}
SELECT count() FROM {{.DB}}.alerts WHERE detector = {detector:String}
{{end}}

{{define "where"}}status = 'firing'{{end}}

{{define "firing"}}
SELECT alert_id FROM {{.DB}}.{{.Table}} WHERE {{template "where"}} -- only firing
{{end}}
