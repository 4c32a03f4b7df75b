package kafkaclient_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trackwatch/trackwatch/internal/testpki"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/secret"
)

// A broker that speaks only TLS and authenticates with SCRAM: the client connects with
// the configured CA and credentials, and wrong ones fail naming the cause without the
// password. (Ingest reading from such a broker is tested in package ingest.)
func TestClientOverTLSWithSCRAM(t *testing.T) {
	p := testpki.New(t)
	const user, pass = "trackwatch", "scram-secret-9f2c"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", user, pass),
		kfake.SeedTopics(2, schemas.TrackingTopic, schemas.OrderTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	kc := kafkaclient.Config{Brokers: brokers, TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, GroupID: "tls",
		TLS:  kafkaclient.TLSConfig{Enabled: true, CAFile: p.CAFile},
		SASL: kafkaclient.SASLConfig{Mechanism: "scram-sha-256", Username: user, Password: secret.String(pass)}}
	if err := kc.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := kc.Ping(ctx, brokers); err != nil {
		t.Fatalf("ping with the CA and the credentials: %v", err)
	}
	for name, bad := range map[string]func(*kafkaclient.Config){
		"a wrong password":        func(c *kafkaclient.Config) { c.SASL.Password = "not-the-password" },
		"no TLS":                  func(c *kafkaclient.Config) { c.TLS.Enabled = false },
		"a CA that is not the CA": func(c *kafkaclient.Config) { c.TLS.CAFile = p.ClientCertFile },
	} {
		c := kc
		bad(&c)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Ping(pctx, brokers)
		cancel()
		if err == nil {
			t.Errorf("%s: the broker let it in", name)
		} else if strings.Contains(err.Error(), "not-the-password") || strings.Contains(err.Error(), pass) {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
