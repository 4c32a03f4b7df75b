-- Claims on alert changes are ordered by the order in which the server committed them
-- (the row's block number) instead of their timestamp: an insert that started first can
-- become visible after a later one has already been read alone, and then both of the
-- instances that claimed would win. A MergeTree numbers its blocks as it commits them,
-- under one lock; the setting keeps each row's number through merges.
ALTER TABLE {{.DB}}.notify_claims{{.OnCluster}} MODIFY SETTING enable_block_number_column = 1;
