package detect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// Temporary tables of the sellers stage: the orders shipped in the window, and the
// sellers below target as findings (findings.sql adds them to the orders' findings).
const (
	sellerOrdersTable = "trackwatch_run_seller_orders"
	sellersTable      = "trackwatch_run_sellers"
)

// MaxListedOrders bounds the order ids a seller_valid_tracking_rate alert lists in its
// evidence (orders without a scan, orders with firing alerts); the counts are whole.
const MaxListedOrders = 50

// sellerStatements are seller_valid_tracking_rate's statements.
var sellerStatements = func() *sqlfile.Set {
	s, err := parseSQL(SellerValidTrackingRate + ".sql")
	if err != nil {
		panic(err)
	}
	return s
}()

// ValidScanSQL is the condition that a shipped order's number counts toward its
// seller's valid tracking rate: one of scans (an Array(DateTime64) of the number's
// physical scans) from a day before the shipment (shipped) to scanDays after it. Every
// argument is SQL: column names or query parameters. The workspace's seller figures
// (package lookup) and seller_valid_tracking_rate both read it, so they agree.
func ValidScanSQL(shipped, scanDays, scans string) string {
	return sellerStatements.Text("valid_scan", sqlfile.Data{"Shipped": shipped, "ScanDays": scanDays, "Scans": scans})
}

// clusterDatabase is the database whose tables answer for the whole cluster when db is
// a node's local one on a sharded cluster (schemas.LocalDatabase), else db.
func clusterDatabase(db string, sh Shard) string {
	if sh.Count > 1 {
		if d, ok := strings.CutSuffix(db, "_local"); ok && schemas.LocalDatabase(d) == db {
			return d
		}
	}
	return db
}

// evaluateSellers runs the sellers stage: every seller of every marketplace, in every
// run over every order and in the first scoped run of each hour (scopeSellers; a few
// statements over the window's shipments, measured in BENCHMARKS.md); with evaluate
// false, none. On a sharded cluster only shard 0 evaluates them, reading the scans
// and alerts of every shard through the Distributed tables; the other shards' tables
// are empty, so a cluster fires each seller's alert once, as one server does.
func (s *Set) evaluateSellers(ctx context.Context, conn driver.Conn, cfg Config, args []any, evaluate bool) error {
	start := time.Now()
	for _, t := range []string{sellersTable, sellerOrdersTable} {
		if err := dropTemporary(ctx, conn, t); err != nil {
			return fmt.Errorf("sellers: %w", err)
		}
	}
	if !evaluate && !s.sellersOnly {
		return nil // a scoped run's findings leave the sellers out (foundSubset): no table
	}
	data := sqlfile.Data{"DB": sqlfile.Ident(s.db), "Cluster": sqlfile.Ident(clusterDatabase(s.db, cfg.Shard)),
		"Skip": !evaluate || cfg.Shard.Count > 1 && cfg.Shard.Index != 0, "SellerOrders": sellerOrdersTable, "Sellers": sellersTable,
		"Name": SellerValidTrackingRate, "MaxListed": MaxListedOrders,
		"ValidScan": sqlfile.Data{"Shipped": "o.shipped_at", "ScanDays": "o.scan_days", "Scans": "t.scans"}}
	for _, block := range []string{"seller_orders", "sellers"} {
		q, err := sellerStatements.Render(block, data)
		if err != nil {
			return fmt.Errorf("detector sql %s, block %s: %w", SellerValidTrackingRate, block, err)
		}
		if err := conn.Exec(queryContext(ctx), stripComments(q), args...); err != nil {
			return fmt.Errorf("sellers: %w", SessionLost(err))
		}
	}
	s.stage("sellers", start)
	return nil
}

// sellerRows are the sellers stage's findings, or those whose (detector, order_id,
// tracking_number) are rows of table ("" for all of them).

// scopeSellers reports whether a scoped run as of asOf after a run as of prev
// evaluates the sellers: when it is the first of an hour (UTC). A seller's rate is over
// 30 days of shipments and moves by the hour at most; reading every shipment of the
// window in each 5-minute run was most of such a run's cost (BENCHMARKS.md). A scoped
// run that does not evaluate them leaves the sellers' alerts as they are (its scope
// leaves them out); a run over every order always evaluates them.
func scopeSellers(prev, asOf time.Time) bool {
	return !asOf.UTC().Truncate(time.Hour).Equal(prev.UTC().Truncate(time.Hour))
}
func sellerRows(table string) string {
	return statements.Text("seller_rows", sqlfile.Data{"Sellers": sellersTable, "Table": table})
}
