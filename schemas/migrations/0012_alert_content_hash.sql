-- A hash of what an alert says (severity, recommendation, reasons, evidence, the order's
-- parties, protection end, amount): a run rewrites a firing alert only when it changed,
-- instead of every firing alert every run. Rows written before this migration hash to 0
-- and are rewritten once, by the next run that finds them.
ALTER TABLE {{.DB}}.alerts{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS content_hash UInt64 DEFAULT 0 COMMENT 'what the alert says, hashed: unchanged alerts are not rewritten';
