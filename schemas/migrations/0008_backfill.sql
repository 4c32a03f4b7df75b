-- Backfill. Rows loaded from files name their origin as a source kind plus the file and
-- the line (or Parquet row) instead of an offset: Kafka rows keep source_kind 'kafka' and
-- their topic/partition/offset; file rows have source_kind 'file', the topic their kind
-- of event travels on, partition -1 (no Kafka partition), and source_file/source_line.
ALTER TABLE {{.DB}}.tracking_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS source_kind LowCardinality(String) DEFAULT 'kafka' AFTER source_offset,
    ADD COLUMN IF NOT EXISTS source_file String DEFAULT '' CODEC(ZSTD(1)) AFTER source_kind,
    ADD COLUMN IF NOT EXISTS source_line Int64 DEFAULT 0 CODEC(Delta, ZSTD(1)) AFTER source_file;

ALTER TABLE {{.DB}}.order_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS source_kind LowCardinality(String) DEFAULT 'kafka' AFTER source_offset,
    ADD COLUMN IF NOT EXISTS source_file String DEFAULT '' CODEC(ZSTD(1)) AFTER source_kind,
    ADD COLUMN IF NOT EXISTS source_line Int64 DEFAULT 0 CODEC(Delta, ZSTD(1)) AFTER source_file;

-- Dead letters from files carry the file and line; they join the sorting key so that
-- two files' rejected rows never replace each other in merges. (A column added to the
-- sorting key must come in the same ALTER and without a default expression.)
ALTER TABLE {{.DB}}.dead_letters{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS source_file String,
    ADD COLUMN IF NOT EXISTS source_line Int64,
    MODIFY ORDER BY (topic, partition, offset, source_file, source_line);

ALTER TABLE {{.DB}}.dead_letter_replays{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS source_file String,
    ADD COLUMN IF NOT EXISTS source_line Int64,
    MODIFY ORDER BY (topic, partition, offset, source_file, source_line);

-- One row per file a backfill has started, rewritten after every block it stores: a
-- load killed half-way resumes after the last stored block (with the same block size,
-- so the same deduplication tokens), and a file loaded before is skipped. file_id is the
-- SHA-256 of the file's bytes: a renamed or copied file is still the same file.
CREATE TABLE IF NOT EXISTS {{.DB}}.backfill_files{{.OnCluster}}
(
    file_id        String COMMENT 'sha256 of the file as stored (compressed or not)',
    path           String COMMENT 'as named when last loaded',
    kind           LowCardinality(String) COMMENT 'tracking or order',
    format         LowCardinality(String) COMMENT 'ndjson, csv, parquet',
    size           UInt64,
    batch_rows     UInt32 COMMENT 'records per block: a resumed load cuts the same blocks',
    position       Int64 COMMENT 'last line or row stored (0: none yet)',
    records        UInt64 COMMENT 'records read up to position',
    rows_stored    UInt64,
    duplicates     UInt64 COMMENT 'records whose event_id repeated one in the same block',
    dead_lettered  UInt64,
    done           Bool,
    started_at     DateTime64(3, 'UTC'),
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "updated_at"}}
ORDER BY file_id;

-- Backtests (trackwatch backtest): what the detectors would have said as of each step
-- over stored history, kept apart from the live alerts.
CREATE TABLE IF NOT EXISTS {{.DB}}.backtests{{.OnCluster}}
(
    backtest_id   String,
    from_date     DateTime64(3, 'UTC'),
    to_date       DateTime64(3, 'UTC'),
    step_seconds  UInt32,
    detectors     Array(LowCardinality(String)),
    steps         UInt32,
    steps_done    UInt32,
    started_at    DateTime64(3, 'UTC'),
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "updated_at"}}
ORDER BY backtest_id;

-- One row per finding per step of a backtest.
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_history{{.OnCluster}}
(
    backtest_id         String,
    as_of               DateTime64(3, 'UTC'),
    detector            LowCardinality(String),
    order_id            String,
    tracking_number     String,
    seller_id           String CODEC(ZSTD(1)),
    marketplace         LowCardinality(String),
    severity            LowCardinality(String),
    recommendation      LowCardinality(String),
    protection_ends_at  Nullable(DateTime64(3, 'UTC')),
    reason              String CODEC(ZSTD(3))
)
ENGINE = {{engine "ReplacingMergeTree" ""}}
ORDER BY (backtest_id, detector, order_id, tracking_number, as_of);
