package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
)

// SoakOptions configure the soak: a cluster of embedded ClickHouse servers, the
// embedded Kafka broker, several trackwatch run processes pointed at them and a webhook
// receiver, under a steady produced load while faults are injected.
type SoakOptions struct {
	Trackwatch string        // the product binary (go build ./cmd/trackwatch)
	Load       time.Duration // how long the load is produced; default 5m
	Orders     int           // simulated orders a second; default 10 (about 70 messages)
	Instances  int           // trackwatch run processes; default 3
	Shards     int           // default 2
	Replicas   int           // default 2
	// StopReplica is the replica (from 1) of the last shard stopped for a minute;
	// default the last. Replica 1 is the one reads prefer (load_balancing in_order).
	StopReplica int
	ClickHouse  devstack.ClickHouseConfig
	Logger      *slog.Logger
	Progress    func(string)
}

// Fault is a fault injected during the load, at At after its start.
type Fault struct {
	At   time.Duration
	What string
}

// SoakResult is what a soak produced, stored and delivered.
type SoakResult struct {
	Faults []Fault
	// Produced are the distinct event ids acknowledged by the broker, per topic; Stored,
	// the distinct event ids in the cluster (through its Distributed tables).
	Produced, Stored map[string]int
	// Missing are produced ids not stored (the first few), per topic.
	Missing map[string][]string
	// Nodes are each node's rows of the event tables.
	Nodes []SoakNode
	// ReplicasIdentical: every shard's replicas hold the same events and alert changes
	// (their counts and a hash of their ids after FINAL).
	ReplicasIdentical bool
	// Changes are the alert changes logged (read through the cluster); Delivered, those
	// the receiver got; Requests, every request it got; Redelivered, requests for a
	// change it had already got, and SameID, how many of those carried the same
	// webhook-id as the first (all of them should).
	Changes, Delivered, Requests, Redelivered, SameID int
	// ReplicaDiffs name a few alert changes one replica of a shard has and another lacks.
	ReplicaDiffs []string
	// Undelivered are logged changes the receiver never got (the first few).
	Undelivered []string
	// Restarts counts the embedded servers' restarts after a crash (libchdb's server
	// aborts where a real one survives; its supervisor starts it again).
	Restarts int
	// Transitions are the (alert, kind) pairs delivered; TransitionIDs counts those
	// delivered under more than one change id (a replica that missed runs recorded the
	// same transition at a later moment).
	Transitions, TransitionIDs int
}

// SoakNode is one node's event rows: raw, after FINAL, and distinct event ids.
type SoakNode struct {
	Shard, Replica                              int
	TrackingRaw, TrackingRows, TrackingDistinct uint64
	OrderRaw, OrderRows, OrderDistinct          uint64
	AlertChanges                                uint64 // the alert changes the shard's runs logged here
}

// OK reports whether the soak kept every promise: every produced event stored once (on
// every node, as many rows after FINAL as distinct ids),
// replicas identical, every change delivered, every re-delivery with its webhook-id.
func (r *SoakResult) OK() bool {
	for topic, n := range r.Produced {
		if r.Stored[topic] != n {
			return false
		}
	}
	for _, n := range r.Nodes {
		if n.TrackingRows != n.TrackingDistinct || n.OrderRows != n.OrderDistinct {
			return false
		}
	}
	return r.ReplicasIdentical && len(r.Undelivered) == 0 && r.Redelivered == r.SameID
}

// Soak runs the soak. Faults during the load: one trackwatch instance SIGKILLed at a
// fifth of it (started again 15 s later), a replica of the last shard stopped at two
// fifths for a minute, and the Kafka broker restarted at four fifths. After the load,
// it waits for the ingest to catch up and for every alert change to be delivered (at
// most 10 minutes), stops the instances and counts.
func Soak(ctx context.Context, o SoakOptions) (*SoakResult, error) {
	if o.Load == 0 {
		o.Load = 5 * time.Minute
	}
	if o.Orders == 0 {
		o.Orders = 10
	}
	if o.Instances == 0 {
		o.Instances = 3
	}
	if o.Shards == 0 {
		o.Shards = 2
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.StopReplica == 0 {
		o.StopReplica = o.Replicas
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	dir, err := os.MkdirTemp("", "trackwatch-soak-")
	if err != nil {
		return nil, err
	}
	var res *SoakResult
	defer func() { // a failed soak keeps the instances' logs for a look
		if res == nil || !res.OK() {
			o.Progress("the instances' logs are kept in " + dir)
			return
		}
		os.RemoveAll(dir)
	}()
	res = &SoakResult{Produced: map[string]int{}, Stored: map[string]int{}, Missing: map[string][]string{}}

	kport, err := devstack.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	kcfg := devstack.KafkaConfig{Listen: net.JoinHostPort("127.0.0.1", strconv.Itoa(kport)), Partitions: 4, DataDir: filepath.Join(dir, "kafka")}
	topics := []string{schemas.TrackingTopic, schemas.OrderTopic}
	broker, err := devstack.StartKafka(kcfg, topics, o.Logger.With("component", "kafka"))
	if err != nil {
		return nil, err
	}
	defer func() { broker.Close() }()

	cc := o.ClickHouse
	cc.DataDir, cc.Shards, cc.Replicas = filepath.Join(dir, "clickhouse"), o.Shards, o.Replicas
	if cc.TCPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
		return nil, err
	}
	for cc.HTTPPort = cc.TCPPort; cc.HTTPPort == cc.TCPPort; {
		if cc.HTTPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	o.Progress(fmt.Sprintf("starting %d x %d embedded ClickHouse servers", o.Shards, o.Replicas))
	cl, err := devstack.StartEmbeddedCluster(ctx, "trackwatch", cc, o.Logger)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	addrs := cl.Addrs()
	const db = "trackwatch"
	var nodes []schemas.Node
	for _, a := range addrs {
		c, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 2}, a)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		nodes = append(nodes, schemas.Node{Name: a, Conn: c})
	}
	if _, err := schemas.MigrateCluster(ctx, nodes, schemas.Layout{Database: db, Shards: cl.Name, Everywhere: cl.Everywhere}, time.Now); err != nil {
		return nil, err
	}

	recv := newSoakReceiver()
	srv := httptest.NewServer(recv)
	defer srv.Close()
	cfgFile := filepath.Join(dir, "trackwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`kafka:
  brokers: [%q]
clickhouse:
  addr: [%q]
  cluster: %s
  replication: write_all
detect:
  schedule: "* * * * *"
notify:
  poll_interval: 2s
  receivers:
    - name: soak
      type: webhook
      url: %s
      secret: whsec_c29hay1zaWduaW5nLWtleS0wMTIzNDU2Nzg5
      send_resolved: true
log:
  format: json
`, kcfg.Listen, addrs[0], cl.Name, srv.URL)), 0o600); err != nil {
		return nil, err
	}
	instances := make([]*exec.Cmd, o.Instances)
	start := func(i int) error {
		port, err := devstack.FreePort("127.0.0.1")
		if err != nil {
			return err
		}
		logf, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("instance-%d.log", i+1)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		cmd := exec.Command(o.Trackwatch, "run", "--config", cfgFile, "--set", "http.listen=127.0.0.1:"+strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start trackwatch run: %w", err)
		}
		instances[i] = cmd
		go func() { _ = cmd.Wait(); logf.Close() }()
		return nil
	}
	for i := range instances {
		if err := start(i); err != nil {
			return nil, err
		}
	}
	defer func() {
		for _, c := range instances {
			if c != nil && c.Process != nil {
				_ = c.Process.Kill()
			}
		}
	}()
	o.Progress(fmt.Sprintf("%d trackwatch run instances started; producing %d orders a second for %s", o.Instances, o.Orders, o.Load))

	// the load, and the faults beside it
	produced := map[string]map[string]bool{schemas.TrackingTopic: {}, schemas.OrderTopic: {}}
	loadStart := time.Now()
	var mu sync.Mutex
	fault := func(what string) {
		mu.Lock()
		res.Faults = append(res.Faults, Fault{At: time.Since(loadStart).Round(time.Second), What: what})
		mu.Unlock()
		o.Progress(what)
	}
	faultsDone := make(chan error, 1)
	go func() {
		faultsDone <- func() error {
			sleep := func(until time.Duration) { time.Sleep(time.Until(loadStart.Add(until))) }
			victim := o.Instances - 1
			sleep(o.Load / 5)
			if err := instances[victim].Process.Signal(syscall.SIGKILL); err != nil {
				return err
			}
			fault(fmt.Sprintf("SIGKILL trackwatch instance %d", victim+1))
			sleep(o.Load/5 + 15*time.Second)
			if err := start(victim); err != nil {
				return err
			}
			fault(fmt.Sprintf("instance %d started again", victim+1))
			s, r := o.Shards-1, o.StopReplica-1
			sleep(2 * o.Load / 5)
			if err := cl.Stop(s, r); err != nil {
				return err
			}
			fault(fmt.Sprintf("stopped ClickHouse shard %d replica %d", s+1, r+1))
			sleep(2*o.Load/5 + time.Minute)
			if err := cl.Start(ctx, s, r); err != nil {
				return err
			}
			fault(fmt.Sprintf("started ClickHouse shard %d replica %d again", s+1, r+1))
			sleep(4 * o.Load / 5)
			broker.Close()
			fault("Kafka broker stopped")
			b, err := devstack.StartKafka(kcfg, topics, o.Logger.With("component", "kafka"))
			if err != nil {
				return err
			}
			broker = b
			fault("Kafka broker started again")
			return nil
		}()
	}()
	w := &kafka.Writer{Addr: kafka.TCP(kcfg.Listen), Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond,
		RequiredAcks: kafka.RequireAll, WriteTimeout: 5 * time.Second}
	for batch := 1; time.Since(loadStart) < o.Load; batch++ {
		next := loadStart.Add(time.Duration(batch) * time.Second)
		sim := simulate.Run(simulate.Options{Seed: uint64(batch), Orders: o.Orders, AsOf: time.Now().UTC(), Batch: batch})
		var msgs []kafka.Message
		for _, m := range sim.Messages {
			msgs = append(msgs, kafka.Message{Topic: m.Topic, Key: []byte(m.Key), Value: m.Value})
		}
		for try := 0; ; try++ { // the broker may be restarting: the batch is produced again
			err := w.WriteMessages(ctx, msgs...)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if try > 120 {
				return nil, fmt.Errorf("produce batch %d: %w", batch, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		for _, m := range sim.Messages {
			var ev struct {
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(m.Value, &ev) == nil && ev.EventID != "" {
				produced[m.Topic][ev.EventID] = true
			}
		}
		time.Sleep(time.Until(next))
	}
	w.Close()
	if err := <-faultsDone; err != nil {
		return nil, fmt.Errorf("inject faults: %w", err)
	}
	for t, ids := range produced {
		res.Produced[t] = len(ids)
	}
	o.Progress(fmt.Sprintf("load done (%d tracking and %d order events); waiting for the ingest and the deliveries", res.Produced[schemas.TrackingTopic], res.Produced[schemas.OrderTopic]))

	front, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 2, Distributed: true}, addrs[0])
	if err != nil {
		return nil, err
	}
	defer front.Close()
	kc := kafkaclient.Config{Brokers: []string{kcfg.Listen}}
	if err := kc.Validate(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(2 * time.Second) {
		lag, err := kafkaclient.GroupLag(ctx, kc, kc.Brokers, kc.GroupID, kc.TrackingTopic, kc.OrderTopic)
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the ingest did not catch up in 10 minutes: lag %d (%v)", lag, err)
		}
	}
	// two more detector ticks (every minute), then every change delivered
	time.Sleep(130 * time.Second)
	var changes []string
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(5 * time.Second) {
		var rows []struct {
			ID string `ch:"change_id"`
		}
		if err := front.Select(ctx, &rows, statements.In(db, "soak_changes")); err != nil {
			return nil, err
		}
		changes = changes[:0]
		for _, r := range rows {
			changes = append(changes, r.ID)
		}
		if len(recv.missing(changes)) == 0 || time.Now().After(deadline) {
			break
		}
	}
	// stop the instances half-way between two ticks (every minute, on the minute), so that
	// no run is cut between recording on a shard's replica and copying to the others
	mid := time.Now().Truncate(time.Minute).Add(30 * time.Second)
	if mid.Before(time.Now()) {
		mid = mid.Add(time.Minute)
	}
	time.Sleep(time.Until(mid))
	for _, c := range instances {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
	time.Sleep(5 * time.Second)
	res.Changes = len(changes)
	recv.report(res, changes)

	for _, t := range []string{schemas.TrackingTopic, schemas.OrderTopic} {
		table := map[string]string{schemas.TrackingTopic: "tracking_events", schemas.OrderTopic: "order_events"}[t]
		var stored []struct {
			ID string `ch:"event_id"`
		}
		if err := front.Select(ctx, &stored, statements.Text("soak_event_ids", sqlfile.DB(db).With("Table", sqlfile.Ident(table)))); err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for _, s := range stored {
			have[s.ID] = true
		}
		res.Stored[t] = len(have)
		for id := range produced[t] {
			if !have[id] && len(res.Missing[t]) < 5 {
				res.Missing[t] = append(res.Missing[t], id)
			}
		}
	}
	for _, shard := range cl.Nodes {
		for _, n := range shard {
			if n != nil {
				res.Restarts += n.Restarts()
			}
		}
	}
	res.ReplicasIdentical = true
	sums := map[int][6]uint64{}
	changesOf := map[int]map[string]string{} // the first replica's of each shard
	for i, a := range addrs {
		s, r := i/o.Replicas+1, i%o.Replicas+1
		c, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 1}, a)
		if err != nil {
			return nil, err
		}
		n := SoakNode{Shard: s, Replica: r}
		var ids []struct {
			ID   string `ch:"change_id"`
			What string `ch:"what"`
		}
		if err := c.Select(ctx, &ids, statements.In(schemas.LocalDatabase(db), "soak_node_changes")); err != nil {
			c.Close()
			return nil, fmt.Errorf("node %s: %w", a, err)
		}
		mine := map[string]string{}
		for _, x := range ids {
			mine[x.ID] = x.What
		}
		if first, ok := changesOf[s]; !ok {
			changesOf[s] = mine
		} else {
			for id, what := range mine {
				if _, ok := first[id]; !ok && len(res.ReplicaDiffs) < 10 {
					res.ReplicaDiffs = append(res.ReplicaDiffs, fmt.Sprintf("shard %d replica %d only: %s", s, r, what))
				}
			}
			for id, what := range first {
				if _, ok := mine[id]; !ok && len(res.ReplicaDiffs) < 10 {
					res.ReplicaDiffs = append(res.ReplicaDiffs, fmt.Sprintf("shard %d replica 1 only (not %d): %s", s, r, what))
				}
			}
		}
		var th, oh, ch uint64
		err = c.QueryRow(ctx, statements.In(schemas.LocalDatabase(db), "soak_node_rows")).Scan(&n.TrackingRaw, &n.TrackingRows, &n.TrackingDistinct, &th,
			&n.OrderRaw, &n.OrderRows, &n.OrderDistinct, &oh, &n.AlertChanges, &ch)
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", a, err)
		}
		res.Nodes = append(res.Nodes, n)
		sum := [6]uint64{n.TrackingRows, th, n.OrderRows, oh, n.AlertChanges, ch}
		if prev, ok := sums[s]; ok && prev != sum {
			res.ReplicasIdentical = false
		}
		sums[s] = sum
	}
	return res, nil
}

// soakReceiver is the webhook receiver of the soak: it counts requests per webhook-id
// and the (alert, kind) transitions of the changes it got.
type soakReceiver struct {
	mu       sync.Mutex
	requests int
	byID     map[string]int                // webhook-id -> requests
	change   map[string]string             // change id -> the webhook-id that first carried it
	trans    map[[2]string]map[string]bool // (alert, kind) -> change ids
	again    int                           // requests for a change already received
	sameID   int                           // of those, with the first one's webhook-id
}

func newSoakReceiver() *soakReceiver {
	return &soakReceiver{byID: map[string]int{}, change: map[string]string{}, trans: map[[2]string]map[string]bool{}}
}

func (s *soakReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg struct {
		Data struct {
			ChangeID string `json:"change_id"`
			AlertID  string `json:"alert_id"`
			Kind     string `json:"kind"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.byID[id]++
	c := msg.Data.ChangeID
	if first, ok := s.change[c]; ok {
		s.again++
		if first == id {
			s.sameID++
		}
	} else {
		s.change[c] = id
	}
	k := [2]string{msg.Data.AlertID, msg.Data.Kind}
	if s.trans[k] == nil {
		s.trans[k] = map[string]bool{}
	}
	s.trans[k][c] = true
	w.WriteHeader(http.StatusNoContent)
}

func (s *soakReceiver) missing(changes []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range changes {
		if _, ok := s.change[c]; !ok {
			out = append(out, c)
		}
	}
	return out
}

func (s *soakReceiver) report(res *SoakResult, changes []string) {
	missing := s.missing(changes)
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Requests, res.Delivered, res.Redelivered, res.SameID = s.requests, len(s.change), s.again, s.sameID
	res.Undelivered = missing[:min(len(missing), 5)]
	res.Transitions = len(s.trans)
	for _, ids := range s.trans {
		if len(ids) > 1 {
			res.TransitionIDs++
		}
	}
}
