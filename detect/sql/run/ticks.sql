-- Tick claims (ticks.go): of several instances on one ClickHouse, one runs each tick.

-- A claim, deduplicated by its insert token: the first stored wins.
{{define "claim_tick"}}INSERT INTO {{.DB}}.detect_ticks (schedule, tick, instance) SELECT {schedule:String}, {tick:DateTime64(3, 'UTC')}, {instance:String}{{end}}

-- The winner: should a claim ever outlive the deduplication window and be stored twice,
-- the earliest still names one winner for everyone who reads both.
{{define "tick_winner"}}SELECT argMin(instance, (claimed_at, instance)) FROM {{.DB}}.detect_ticks WHERE schedule = {schedule:String} AND tick = {tick:DateTime64(3, 'UTC')}{{end}}
