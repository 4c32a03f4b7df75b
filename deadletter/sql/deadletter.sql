-- Listing the stored dead letters with their replays, and recording replays.

-- The newest dead letters matching the filter (an empty topic or reason matches all),
-- each with how often and when last it was replayed.
{{define "list"}}
SELECT d.topic AS topic, d.partition AS partition, d.offset AS offset, d.source_file AS source_file, d.source_line AS source_line, d.message_key AS message_key, d.raw AS raw,
    d.reason AS reason, d.error AS error, d.message_time AS message_time, d.dead_lettered_at AS dead_lettered_at,
    r.replays AS replays, r.last_replayed_at AS last_replayed_at
FROM {{.DB}}.dead_letters AS d FINAL
LEFT JOIN (SELECT topic, partition, offset, source_file, source_line, count() AS replays, max(replayed_at) AS last_replayed_at
    FROM {{.DB}}.dead_letter_replays GROUP BY topic, partition, offset, source_file, source_line) AS r
ON d.topic = r.topic AND d.partition = r.partition AND d.offset = r.offset AND d.source_file = r.source_file AND d.source_line = r.source_line
WHERE ({topic:String} = '' OR d.topic = {topic:String}) AND ({reason:String} = '' OR d.reason = {reason:String})
    AND d.dead_lettered_at >= {since:DateTime64(3, 'UTC')} AND (NOT {open:Bool} OR r.replays = 0)
ORDER BY d.dead_lettered_at DESC, d.topic, d.partition, d.offset, d.source_file, d.source_line LIMIT {limit:UInt32}
{{end}}

-- The replays of a batch of dead letters, in the order Replay appends them.
{{define "insert_replays"}}
INSERT INTO {{.DB}}.dead_letter_replays (topic, partition, offset, source_file, source_line, replayed_at)
{{end}}
