-- A tracking aggregator's own reading of each checkpoint (package feeds: AfterShip's
-- tag and subtag, 17TRACK's sub-status, EasyPost's status_detail, ...), mapped to
-- trackwatch's sub-statuses and stored beside the carrier's words: a second opinion on
-- "pre-advice or a physical scan?". Where no phrase table knows the words, the
-- provider's reading decided sub_status; where both know them and disagree, sub_status
-- keeps trackwatch's reading and `trackwatch phrases --disagreements` lists them.
ALTER TABLE {{.DB}}.tracking_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS provider LowCardinality(String) DEFAULT '' COMMENT 'the aggregator that sent the event (aftership, 17track, ...), or empty' AFTER status_given,
    ADD COLUMN IF NOT EXISTS provider_status LowCardinality(String) DEFAULT '' COMMENT 'the provider''s reading as status/detail, or empty' AFTER provider;
