package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCLIExitCodesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command prints help and fails", nil, nil, exitUsage, "", "Commands:"},
		{"help lists the commands", []string{"help"}, nil, exitOK, "migrate", ""},
		{"help for one command", []string{"help", "dev"}, nil, exitOK, "Usage: trackwatch dev", ""},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, "", `unknown command "frobnicate"`},
		{"unknown flag prints usage", []string{"run", "--nope"}, nil, exitUsage, "", "Usage: trackwatch run"},
		{"-h prints usage and succeeds", []string{"dev", "-h"}, nil, exitOK, "", "-clickhouse-data-dir"},
		{"stray argument", []string{"migrate", "now"}, nil, exitUsage, "", `unexpected argument "now"`},
		{"bad config value stops startup", []string{"run", "--set", "kafka.brokers=nohost"}, nil, exitUsage, "", `kafka.brokers[0]: "nohost" is not host:port`},
		{"bad shorthand flag value", []string{"dev", "--partitions", "many"}, nil, exitUsage, "", "embedded.kafka.partitions"},
		{"bad environment variable", []string{"config"}, []string{"TRACKWATCH_LOG_LEVEL=loud"}, exitUsage, "", "log.level"},
		{"config masks secrets", []string{"config", "--set", "clickhouse.password=hunter2"}, nil, exitOK, "password: <redacted>", ""},
		{"config lists keys with env names", []string{"config", "--keys"}, nil, exitOK, "TRACKWATCH_KAFKA_SASL_PASSWORD", ""},
		{"migrate --print emits ON CLUSTER DDL", []string{"migrate", "--print", "--set", "clickhouse.cluster=c1"}, nil, exitOK, "ON CLUSTER `c1`", ""},
		{"version names the embedded engine", []string{"version"}, nil, exitOK, "libchdb 26.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := append([]string{"TRACKWATCH_CONFIG=../../trackwatch.yaml"}, tc.env...)
			code := Main(context.Background(), tc.args, &out, &errb, env)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, out.String())
			}
			if !strings.Contains(errb.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, errb.String())
			}
			if strings.Contains(out.String()+errb.String(), "hunter2") {
				t.Errorf("a secret was printed")
			}
		})
	}
}
