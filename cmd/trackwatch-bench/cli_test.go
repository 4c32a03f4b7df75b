package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Usage and flag errors exit as trackwatch's commands do: 2 with the usage for a bad
// flag, value or argument, 0 for -h, before any configuration is read or stack started.
func TestUsageAndFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStderr []string
	}{
		{"no benchmark prints the usage and fails", nil, nil, exitUsage, []string{"Usage: trackwatch-bench ingest [flags]", "trackwatch-bench backtest"}},
		{"an unknown benchmark", []string{"frobnicate"}, nil, exitUsage, []string{"Usage: trackwatch-bench"}},
		{"-h prints the usage and succeeds", []string{"-h"}, nil, exitOK, []string{"Usage: trackwatch-bench"}},
		{"--help too", []string{"--help"}, nil, exitOK, []string{"Usage: trackwatch-bench"}},
		{"a benchmark's -h lists its flags", []string{"detect", "-h"}, nil, exitOK, []string{"Flags:", "-skip-single", "-repeat", "-config file", "-set key.path=value"}},
		{"ingest's flags and defaults", []string{"ingest", "-h"}, nil, exitOK, []string{"-latency-seconds int", "(default 20)", "-events int", "(default 2000000)", "-skip-kafka-engine"}},
		{"an unknown flag prints the usage", []string{"ingest", "--nope"}, nil, exitUsage, []string{"flag provided but not defined: -nope", "Usage: trackwatch-bench", "Flags:"}},
		{"a bad flag value", []string{"notify", "--runs", "many"}, nil, exitUsage, []string{`invalid value "many" for flag -runs`, "Usage: trackwatch-bench"}},
		{"a stray argument", []string{"api", "now"}, nil, exitUsage, []string{`unexpected argument "now"`, "Usage: trackwatch-bench"}},
		{"ingest: numbers that are neither synthetic nor realistic", []string{"ingest", "--numbers", "made-up"}, nil, exitUsage, []string{`ingest: --numbers "made-up" is not synthetic or realistic`, "Flags:"}},
		{"ingest: a --trackwatch binary that is not there", []string{"ingest", "--events", "1000", "--trackwatch", "/nonexistent/trackwatch"}, nil, exitUsage, []string{"ingest: --trackwatch: stat /nonexistent/trackwatch"}},
		{"ingest: too few events", []string{"ingest", "--events", "10"}, nil, exitUsage, []string{"ingest: --events must be at least 1000", "Flags:"}},
		{"soak: a single replica cannot be stopped", []string{"soak", "--replicas", "1"}, nil, exitUsage, []string{"--replicas at least 2"}},
		{"detect: --shards out of range", []string{"detect", "--shards", "0"}, nil, exitUsage, []string{"--shards 0: from 1 to 16"}},
		{"detect: a scale that is no number", []string{"detect", "--events", "1000,lots"}, nil, exitUsage, []string{`detect: --events "1000,lots": each scale must be a number of at least 1000`}},
		{"notify: no changes", []string{"notify", "--changes", "0"}, nil, exitUsage, []string{"notify: --changes, --runs, --per-run and --concurrency must be at least 1"}},
		{"api: too few requests", []string{"api", "--requests", "1"}, nil, exitUsage, []string{"api: --events must be at least 10000, --requests at least 10 and --acted within 0..1"}},
		{"api: a share acted on over 1", []string{"api", "--acted", "1.5"}, nil, exitUsage, []string{"api: --events must be at least 10000, --requests at least 10 and --acted within 0..1"}},
		{"backfill: too few events", []string{"backfill", "--events", "1"}, nil, exitUsage, []string{"backfill: --events must be at least 1000"}},
		{"backtest: no steps", []string{"backtest", "--steps", "0"}, nil, exitUsage, []string{"backtest: --events must be at least 1000, --steps and --parallel at least 1"}},
		{"backtest: a --vary setting that is no detector setting", []string{"backtest", "--vary", "detect.stalled=5,7"}, nil, exitUsage, []string{"backtest: --vary: detect.stalled is not a numeric detector setting"}},
		{"backtest: --skip-all without --vary", []string{"backtest", "--skip-all"}, nil, exitUsage, []string{"--skip-all leaves nothing to time without --vary"}},
		{"a bad --set stops it before anything runs", []string{"backtest", "--events", "1000", "--set", "log.level=loud"}, nil, exitUsage, []string{"trackwatch-bench: ", "log.level"}},
		{"a bad environment variable too", []string{"notify"}, []string{"TRACKWATCH_LOG_LEVEL=loud"}, exitUsage, []string{"log.level"}},
		{"a config file that is not there", []string{"detect", "--config", "does-not-exist.yaml"}, nil, exitUsage, []string{"does-not-exist.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := append([]string{"TRACKWATCH_CONFIG=../../trackwatch.yaml"}, tc.env...)
			code := Main(context.Background(), tc.args, &out, &errb, env)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			if out.Len() > 0 {
				t.Errorf("stdout is for results, got:\n%s", out.String())
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb.String())
				}
			}
		})
	}
}
