// Package detecttest gives tests a ClickHouse with trackwatch's schema and fixture events
// inserted through ingest's own decoding, as if they had come from Kafka. A test binary
// that uses it must call devstack.RunChildIfRequested first in TestMain.
package detecttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

var numbers struct {
	once sync.Once
	c    *trackingnumber.Checker
	err  error
}

// Numbers is the tracking-number checker fixtures are judged with, as ingest judges
// them: the pinned specification (make test fetches it).
func Numbers(t testing.TB) *trackingnumber.Checker {
	t.Helper()
	numbers.once.Do(func() { numbers.c, numbers.err = trackingnumber.Load(trackingnumber.Config{}) })
	if numbers.err != nil {
		t.Fatal(numbers.err)
	}
	return numbers.c
}

// StoreConfig is the connection config tests use against the embedded server.
var StoreConfig = store.Config{Username: "default", DialTimeout: 5 * time.Second}

// World is an embedded ClickHouse with the schema migrated into database DB.
type World struct {
	T    testing.TB
	DB   string
	Addr string
	Conn driver.Conn // one connection, as a detector run needs
	// Server is the embedded server (its restarts: libchdb's can abort after a killed client).
	Server *devstack.ClickHouse
	n      int
}

// NewWorld starts a server for the test and migrates the schema into db.
func NewWorld(t testing.TB, db string) *World {
	t.Helper()
	return newWorld(t, db, devstacktest.StartClickHouse(t, t.TempDir()))
}

// NewWorldForKilledClients is NewWorld for tests that SIGKILL processes connected to the
// server (see devstacktest.StartClickHouseForKilledClients).
func NewWorldForKilledClients(t testing.TB, db string) *World {
	t.Helper()
	return newWorld(t, db, devstacktest.StartClickHouseForKilledClients(t, t.TempDir()))
}

func newWorld(t testing.TB, db string, ch *devstack.ClickHouse) *World {
	t.Helper()
	conn, err := store.OpenSession(context.Background(), StoreConfig, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := schemas.Migrate(context.Background(), conn, schemas.DDLOptions{Database: db}, time.Now); err != nil {
		t.Fatal(err)
	}
	return &World{T: t, DB: db, Addr: ch.Addr(), Conn: conn, Server: ch}
}

// Pooled opens a pooled connection to the world's server (closed at cleanup), as
// trackwatch run gives its components: Conn is a single session, which concurrent users
// would queue on.
func (w *World) Pooled() driver.Conn {
	w.T.Helper()
	cfg := StoreConfig
	cfg.MaxOpenConns = 8
	conn, err := store.Open(context.Background(), cfg, w.Addr)
	if err != nil {
		w.T.Fatal(err)
	}
	w.T.Cleanup(func() { conn.Close() })
	return conn
}

// Day is October d, 2026 at hour h UTC, in RFC 3339.
func Day(d int, hour int) string {
	return time.Date(2026, 10, d, hour, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

// AsOf is noon UTC on October d, 2026.
func AsOf(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }

// Shipped inserts an order placed two days before and shipped on October d.
func (w *World) Shipped(order, tn, carrier string, d int) {
	w.T.Helper()
	w.Orders(
		fmt.Sprintf(`{"event_id":"%s-p","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"placed","marketplace":"aliexpress","occurred_at":"%s","ship_to":{"country":"JP","city":"Tokyo","postal_code":"100-0001"},"amount":25.5}`, order, order, order, Day(d-2, 9)),
		fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"shipped","marketplace":"aliexpress","occurred_at":"%s","tracking_number":"%s","carrier":"%s"}`, order, order, order, Day(d, 10), tn, carrier),
	)
}

// Orders inserts order events given as v1 JSON.
func (w *World) Orders(msgs ...string) {
	w.T.Helper()
	var rows []ingest.OrderRow
	for _, m := range msgs {
		r, rej := ingest.DecodeOrder([]byte(m))
		if rej != nil {
			w.T.Fatalf("fixture rejected: %v: %s", rej, m)
		}
		rows = append(rows, r)
	}
	w.n++
	ingest.JudgeOrders(Numbers(w.T), rows)
	if err := ingest.InsertOrders(context.Background(), w.Conn, w.DB, rows, "order-events", 0, int64(w.n*1000), fmt.Sprint("o", w.n)); err != nil {
		w.T.Fatal(err)
	}
}

// Scan inserts a carrier event for tn on October d.
func (w *World) Scan(tn, rawStatus string, d int) {
	w.T.Helper()
	w.ScanJSON(fmt.Sprintf(`{"event_id":"%s-%s-%d","tracking_number":"%s","raw_status":"%s","occurred_at":"%s","location":{"country":"CN"}}`, tn, rawStatus, d, tn, rawStatus, Day(d, 8)))
}

// ScanJSON inserts a carrier event given as v1 JSON.
func (w *World) ScanJSON(m string) {
	w.T.Helper()
	r, rej := ingest.DecodeTracking([]byte(m))
	if rej != nil {
		w.T.Fatalf("fixture rejected: %v", rej)
	}
	w.n++
	if err := ingest.InsertTracking(context.Background(), w.Conn, w.DB, []ingest.TrackingRow{r}, "tracking-events", 0, int64(w.n), fmt.Sprint("t", w.n)); err != nil {
		w.T.Fatal(err)
	}
}
