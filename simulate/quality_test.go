package simulate_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

// TestDetectorsMeetPrecisionAndRecallOnSimulatedTraffic runs labelled traffic through
// the real path (Kafka, ingest, ClickHouse) and the detectors as of the simulation's
// moment, and measures each detector against the ground truth.
func TestDetectorsMeetPrecisionAndRecallOnSimulatedTraffic(t *testing.T) {
	res := simulate.Run(simulate.Options{Seed: 7, Orders: 1500})
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	k := devstacktest.StartKafka(t, 4, schemas.TrackingTopic, schemas.OrderTopic)
	ctx := context.Background()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 16}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := schemas.Migrate(ctx, conn, schemas.DDLOptions{Database: "sim"}, time.Now); err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(k.Addr()), Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond, BatchSize: 500}
	var msgs []kafka.Message
	for _, m := range res.Messages {
		msgs = append(msgs, kafka.Message{Topic: m.Topic, Key: []byte(m.Key), Value: m.Value})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	kc := ingest.KafkaConfig{GroupID: "sim"}
	_ = kc.Validate()
	ictx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(ictx, ingest.Options{Kafka: kc, Brokers: []string{k.Addr()}, Conn: conn, Database: "sim", Logger: devstacktest.Logger(),
			Config: ingest.Config{FlushInterval: 200 * time.Millisecond, SessionTimeout: 6 * time.Second}})
	}()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		lag, err := ingest.GroupLag(ctx, kc, []string{k.Addr()}, "sim", schemas.TrackingTopic, schemas.OrderTopic)
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not catch up: lag %d, %v", lag, err)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	set, err := detect.NewSet("sim") // all seven in one run, as the schedule runs them
	if err != nil {
		t.Fatal(err)
	}
	session, err := store.OpenSession(ctx, store.Config{Username: "default", DialTimeout: 5 * time.Second}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	findings, err := set.Eval(ctx, session, detect.Config{}, res.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	for _, name := range detect.Names {
		flagged := map[string]bool{}
		for _, f := range findings {
			if f.Detector == name {
				flagged[f.OrderID] = true
			}
		}
		var tp, fp, fn int
		var misses []string
		for order, truth := range res.Truth {
			want := slices.Contains(truth, name)
			switch {
			case want && flagged[order]:
				tp++
			case want:
				fn++
				misses = append(misses, "missed "+order)
			case flagged[order]:
				fp++
				misses = append(misses, "false alarm "+order+" ("+res.Scenario[order]+")")
			}
		}
		precision, recall := ratio(tp, tp+fp), ratio(tp, tp+fn)
		report = append(report, fmt.Sprintf("| %s | %d | %d | %d | %.3f | %.3f |", name, tp, fp, fn, precision, recall))
		if tp == 0 {
			t.Errorf("%s: no positive case in the simulation", name)
		}
		if precision < 0.97 || recall < 0.97 {
			sort.Strings(misses)
			t.Errorf("%s: precision %.3f, recall %.3f (tp %d, fp %d, fn %d), want both >= 0.97; first: %v",
				name, precision, recall, tp, fp, fn, misses[:min(8, len(misses))])
		}
	}
	t.Logf("seed 7, %d orders, %d messages, as of %s\n| detector | TP | FP | FN | precision | recall |\n|---|---:|---:|---:|---:|---:|\n%s",
		len(res.Truth), len(res.Messages), res.AsOf.Format(time.RFC3339), strings.Join(report, "\n"))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
