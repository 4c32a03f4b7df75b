package ingest_test

import (
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/internal/testpki"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/secret"
)

// A broker that speaks only TLS and authenticates with SCRAM: the ingest reads from it
// with the configured CA and credentials. (Wrong ones failing, naming the cause without
// the password, is tested in package kafkaclient.)
func TestIngestOverTLSWithSCRAM(t *testing.T) {
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
	tr, err := kc.Transport()
	if err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Transport: tr, Balancer: &kafka.Hash{}, BatchTimeout: 10 * time.Millisecond}
	const n = 40
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Topic: schemas.TrackingTopic, Key: []byte(fmt.Sprint(i)), Value: fmt.Appendf(nil,
			`{"event_id":"tls-%d","tracking_number":"RR%08d5CN","raw_status":"Accepted","occurred_at":"2026-10-02T08:15:00Z"}`, i, i)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn := openCH(t, ch.Addr())
	if _, err := schemas.Migrate(ctx, conn, schemas.DDLOptions{Database: "tls"}, time.Now); err != nil {
		t.Fatal(err)
	}
	opts := ingestOpts(brokers, conn, "tls", "tls")
	opts.Kafka = kc
	stop := runIngest(t, opts)
	defer stop()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var got uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM tls.tracking_events").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events stored through TLS and SCRAM", got, n)
		}
	}
}
