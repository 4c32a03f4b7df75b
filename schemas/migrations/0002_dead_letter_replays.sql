-- Which dead letters were re-submitted to their topic (trackwatch dlq replay), so that a
-- replay is not repeated by accident and `dlq list` can show what is still open.
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letter_replays{{.OnCluster}}
(
    topic        LowCardinality(String),
    partition    Int32,
    offset       Int64,
    replayed_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = {{engine "ReplacingMergeTree" "replayed_at"}}
ORDER BY (topic, partition, offset);
