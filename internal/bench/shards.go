package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
)

// ShardsOptions configure bench detect --shards: the same data on one server and on a
// cluster of Shards embedded servers.
type ShardsOptions struct {
	DetectOptions
	Shards int // default 2
}

// NodeRun is one server's part of a run: the rows it read (its SelectedRows counter)
// and the time its part took, evaluate and record.
type NodeRun struct {
	Node    string // "one server", or "shard N"
	Rows    uint64
	Seconds float64
	Firing  int // alerts firing after it, on this server
	// the alerts on this server after it, and their digest (alerts_digest)
	alerts, digest uint64
	Orders         int // orders a scoped run evaluated; -1 for every order
	Fraction       float64
}

// ShardsScale is one scale's runs: each run on one server (the baseline, first) and on
// each shard of the cluster, in the same process and on the same data.
type ShardsScale struct {
	Events, Orders int
	Shards         int
	// Full is the first scheduled run (over every order); Scoped, the next, 5 minutes
	// later, with the data's own carrier events of those minutes stored meanwhile.
	Full, Scoped []NodeRun
	ScopedEvents int
	// Storage is each table's size on the one server once loaded and merged.
	Storage []TableBytes
}

// TableBytes is a table's size on disk: its rows, compressed and uncompressed bytes.
type TableBytes struct {
	Table        string `ch:"table"`
	Rows         uint64 `ch:"rows"`
	Compressed   uint64 `ch:"compressed"`
	Uncompressed uint64 `ch:"uncompressed"`
}

// DetectShards measures what each shard of a cluster reads and takes for the schedule's
// runs, beside one server with the same data: loaded on the one server as bench detect
// loads it, copied into the cluster through its Distributed tables (sharded as ingest
// shards), the numbers judged on every node as trackwatch run judges them. It fails when
// the shards' alerts, together, are not the one server's.
func DetectShards(ctx context.Context, o ShardsOptions) ([]ShardsScale, error) {
	if len(o.Scales) == 0 {
		o.Scales = []int{1_000_000, 10_000_000}
	}
	if o.Shards == 0 {
		o.Shards = 2
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	var out []ShardsScale
	for _, events := range o.Scales {
		s, err := shardsScale(ctx, o, events)
		if err != nil {
			return out, fmt.Errorf("%d events on %d shards: %w", events, o.Shards, err)
		}
		out = append(out, *s)
	}
	return out, nil
}

// benchNode is a server a run is measured on.
type benchNode struct {
	name  string
	addr  string
	conn  driver.Conn // pooled, for reading its counter
	shard detect.Shard
}

func shardsScale(ctx context.Context, o ShardsOptions, events int) (*ShardsScale, error) {
	const db = "bench_shards"
	ch, conn, closeOne, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-shards-", db, 16)
	if err != nil {
		return nil, err
	}
	defer closeOne()
	parcels := events / 10
	o.Progress(fmt.Sprintf("loading %d tracking events for %d orders on one server", events, parcels))
	if err := loadDetectData(ctx, conn, db, parcels, true); err != nil {
		return nil, err
	}
	if _, err := judgeNumbers(ctx, conn, db); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "trackwatch-bench-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cc := o.ClickHouse
	cc.DataDir, cc.Shards, cc.Replicas = filepath.Join(dir, "clickhouse"), o.Shards, 1
	if cc.TCPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
		return nil, err
	}
	for cc.HTTPPort = cc.TCPPort; cc.HTTPPort == cc.TCPPort; {
		if cc.HTTPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	o.Progress(fmt.Sprintf("starting a cluster of %d embedded servers", o.Shards))
	cl, err := devstack.StartEmbeddedCluster(ctx, "bench", cc, o.Logger)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	nodes := []benchNode{{name: "one server", addr: ch.Addr(), conn: conn}}
	var migrating []schemas.Node
	for i, addr := range cl.Addrs() {
		c, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 4}, addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		nodes = append(nodes, benchNode{name: fmt.Sprintf("shard %d", i+1), addr: addr, conn: c, shard: detect.Shard{Index: i, Count: o.Shards}})
		migrating = append(migrating, schemas.Node{Name: addr, Conn: c})
	}
	if _, err := schemas.MigrateCluster(ctx, migrating, schemas.Layout{Database: db, Shards: cl.Name, Everywhere: cl.Everywhere}, time.Now); err != nil {
		return nil, err
	}
	front, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 4, Distributed: true}, cl.Addrs()[0])
	if err != nil {
		return nil, err
	}
	defer front.Close()
	o.Progress("copying the data into the cluster through its Distributed tables")
	from := clickhouse.Named("from", ch.Addr())
	for _, t := range []string{"order_events", "tracking_events"} {
		if err := front.Exec(ctx, statements.Text("copy_table", sqlfile.DB(db).With("Table", sqlfile.Ident(t))), from,
			clickhouse.Named("db", db), clickhouse.Named("table", t)); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
	}
	for _, n := range nodes[1:] { // as trackwatch run does at start, on every node
		if _, err := judgeNumbers(ctx, n.conn, schemas.LocalDatabase(db)); err != nil {
			return nil, err
		}
	}
	for i, n := range nodes {
		nodeDB := db
		if i > 0 {
			nodeDB = schemas.LocalDatabase(db)
		}
		if err := waitMerges(ctx, n.conn, nodeDB); err != nil {
			return nil, err
		}
	}
	res := &ShardsScale{Orders: parcels, Shards: o.Shards}
	var loaded uint64
	if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&loaded); err != nil {
		return nil, err
	}
	res.Events = int(loaded)
	if err := conn.Select(ctx, &res.Storage, statements.Text("table_bytes", nil), clickhouse.Named("db", db)); err != nil {
		return nil, err
	}

	cfg := detect.Config{ChangeMargin: -1} // the inserts end before each run starts
	run := func(at time.Time) ([]NodeRun, error) {
		var out []NodeRun
		for _, n := range nodes {
			nodeDB := db
			if n.name != "one server" {
				nodeDB = schemas.LocalDatabase(db)
			}
			set, err := detect.NewSet(nodeDB)
			if err != nil {
				return nil, err
			}
			session, err := store.OpenSession(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second}, n.addr)
			if err != nil {
				return nil, err
			}
			before, err := selectedRows(ctx, n.conn)
			if err != nil {
				session.Close()
				return nil, err
			}
			c := cfg
			c.Shard = n.shard
			var rec alert.Result
			start := time.Now()
			ev, err := set.Evaluate(ctx, session, c, at, detect.Scheduled, alert.NewStore(session, nodeDB).Consumer(&rec))
			secs := time.Since(start).Seconds()
			session.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.name, err)
			}
			after, err := selectedRows(ctx, n.conn)
			if err != nil {
				return nil, err
			}
			r := NodeRun{Node: n.name, Rows: after - before, Seconds: secs, Orders: -1}
			if ev.Scoped {
				r.Orders = ev.Orders
			}
			for _, k := range rec.Firing {
				r.Firing += k
			}
			if err := n.conn.QueryRow(ctx, statements.In(nodeDB, "alerts_digest")).Scan(&r.alerts, &r.digest); err != nil {
				return nil, fmt.Errorf("%s: alerts: %w", n.name, err)
			}
			out = append(out, r)
		}
		sum, alerts, digest := 0, uint64(0), uint64(0)
		for i := range out {
			out[i].Fraction = float64(out[i].Rows) / float64(max(out[0].Rows, 1))
			if i > 0 {
				sum, alerts, digest = sum+out[i].Firing, alerts+out[i].alerts, digest^out[i].digest
			}
		}
		if sum != out[0].Firing {
			return out, fmt.Errorf("as of %s: %d alerts firing on the shards together, %d on one server", at.Format(time.RFC3339), sum, out[0].Firing)
		}
		// every alert the same: ids, states, texts and evidence
		if alerts != out[0].alerts || digest != out[0].digest {
			return out, fmt.Errorf("as of %s: the shards' %d alerts differ from one server's %d (digests %x, %x)", at.Format(time.RFC3339), alerts, out[0].alerts, digest, out[0].digest)
		}
		return out, nil
	}
	o.Progress(fmt.Sprintf("%d events: the first scheduled run (every order), on one server and on each shard", events))
	if res.Full, err = run(asOfBench); err != nil {
		return nil, err
	}
	o.Progress(fmt.Sprintf("%d events: a scheduled run 5 minutes later (what changed), on one server and on each shard", events))
	var since time.Time
	if err := conn.QueryRow(ctx, statements.Text("server_now", nil)).Scan(&since); err != nil {
		return nil, err
	}
	if res.ScopedEvents, err = DeliverHeld(ctx, conn, db, asOfBench, asOfBench.Add(5*time.Minute)); err != nil {
		return nil, err
	}
	if err := front.Exec(ctx, statements.In(db, "copy_new_events"), from, clickhouse.Named("db", db), clickhouse.Named("since", since)); err != nil {
		return nil, fmt.Errorf("copy the new events: %w", err)
	}
	if res.Scoped, err = run(asOfBench.Add(5 * time.Minute)); err != nil {
		return nil, err
	}
	return res, nil
}

func selectedRows(ctx context.Context, conn driver.Conn) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, statements.Text("selected_rows", nil)).Scan(&n)
	return n, err
}
