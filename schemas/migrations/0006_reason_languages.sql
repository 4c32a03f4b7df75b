-- Every alert carries its reason in each configured language (detect.reason_languages,
-- default en and ja): reasons maps a language to the text; reason stays the first
-- language's.
ALTER TABLE {{.DB}}.alerts{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS reasons Map(String, String) COMMENT 'language -> reason' AFTER reason;
ALTER TABLE {{.DB}}.alert_changes{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS reasons Map(String, String) CODEC(ZSTD(1)) AFTER reason;
