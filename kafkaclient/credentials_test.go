package kafkaclient_test

import (
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/secret"
)

// What a reload cannot change in a running process is refused, naming the key; the same
// credentials again change nothing. (Rotation itself is tested end to end in service.)
func TestKafkaCredentialsAReloadCannotChange(t *testing.T) {
	scram := kafkaclient.Config{SASL: kafkaclient.SASLConfig{Mechanism: "scram-sha-256", Username: "tw", Password: secret.String("pass-0123")}}
	if err := scram.EnableCredentialReload(); err != nil {
		t.Fatal(err)
	}
	plain := scram
	plain.SASL.Mechanism = "plain"
	none := kafkaclient.Config{}
	for name, tc := range map[string]struct {
		running, next kafkaclient.Config
		want          string
	}{
		"another mechanism": {scram, plain, `kafka.sasl.mechanism changed from "scram-sha-256" to "plain": that takes a restart`},
		"SASL turned off":   {scram, none, `changed from "scram-sha-256" to ""`},
		"SASL turned on":    {none, scram, `changed from "" to "scram-sha-256"`},
	} {
		commit, err := tc.running.PrepareCredentials(t.Context(), tc.next, []string{"127.0.0.1:1"})
		if err == nil || commit != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pass-0123") {
			t.Errorf("%s: the error shows the password", name)
		}
	}
	for name, tc := range map[string]struct{ running, next kafkaclient.Config }{
		"the same credentials": {scram, scram},
		"no SASL, as before":   {none, none},
	} {
		if commit, err := tc.running.PrepareCredentials(t.Context(), tc.next, []string{"127.0.0.1:1"}); err != nil || commit != nil {
			t.Errorf("%s: %v (commit %v), want nothing to do", name, err, commit != nil)
		}
	}
}
