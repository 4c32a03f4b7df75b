// Package lookup reads the event tables (order_events, tracking_events) for the web
// workspace (package httpapi) and the API's callers: an alert with its number's carrier
// timeline, its order's history and the other orders carrying its number (Detail); an
// order's history as of a moment (Order); a tracking number's timeline and orders
// (Tracking); an order's journey, its events and its number's scans in time order
// (Journey), and the stats page's refund times and dispute stalls (JourneyStats); and
// sellers' valid tracking rates with their alerts (Sellers).
//
// The alerts and cases it shows beside the events it reads through package alert (the
// store's reads, and its SQL fragments of current alerts and cases); alert knows nothing
// of lookup.
package lookup

import (
	"embed"
	"fmt"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// Reader reads the event tables of database DB, and its alerts, with Conn (a pooled
// connection).
type Reader struct {
	Conn driver.Conn
	DB   string
}

// NewReader returns the reader of database db.
func NewReader(conn driver.Conn, db string) *Reader { return &Reader{Conn: conn, DB: db} }

// alerts is the alert store of the reader's database, for the alerts and cases shown
// beside the events.
func (r *Reader) alerts() *alert.Store { return alert.NewStore(r.Conn, r.DB) }

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): events.sql the timelines and order
// histories, sellers.sql the sellers' figures. The alert store's fragments are functions
// of the database: {{alertCases .DB}} (every acted-on alert's case, alert.CaseSQL);
// the detectors' share {{validScan shipped scanDays scans}} (detect.ValidScanSQL).
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", template.FuncMap{
	"alertCases": func(db sqlfile.Ident) string { return alert.CaseSQL(string(db)) },
	// the Valid Tracking Rate's condition, seller_valid_tracking_rate's own
	"validScan": detect.ValidScanSQL,
})

// sql is the statement name of sql/*.sql in the reader's database.
func (r *Reader) sql(name string) string { return statements.In(r.DB, name) }

// ErrUnknown is returned for an order, a number or a seller nothing is known of.
var ErrUnknown = fmt.Errorf("nothing is known of it")

// Event is one carrier event in a timeline.
type Event struct {
	At        time.Time `ch:"occurred_at" json:"at"`
	Status    string    `ch:"status" json:"status"`
	SubStatus string    `ch:"sub_status" json:"sub_status"`
	Physical  uint8     `ch:"physical" json:"physical"`
	RawStatus string    `ch:"raw_status" json:"raw_status"`
	Carrier   string    `ch:"carrier" json:"carrier"`
	Country   string    `ch:"location_country" json:"country"`
	City      string    `ch:"location_city" json:"city"`
	Dest      string    `ch:"dest_country" json:"destination_country"`
	DestCity  string    `ch:"dest_city" json:"destination_city"`
	DestPost  string    `ch:"dest_postal" json:"destination_postal_code"`
}

// OrderEvent is one event of an order's own history.
type OrderEvent struct {
	At             time.Time `ch:"occurred_at" json:"at"`
	OrderID        string    `ch:"order_id" json:"order_id"`
	Status         string    `ch:"status" json:"status"`
	SellerID       string    `ch:"seller_id" json:"seller_id"`
	BuyerID        string    `ch:"buyer_id" json:"buyer_id"`
	TrackingNumber string    `ch:"tracking_number" json:"tracking_number"`
	Carrier        string    `ch:"carrier" json:"carrier"`
	ShipToCountry  string    `ch:"ship_to_country" json:"ship_to_country"`
	ShipToCity     string    `ch:"ship_to_city" json:"ship_to_city"`
	ShipToPostal   string    `ch:"ship_to_postal" json:"ship_to_postal_code"`
	// The buyer's journey: how the buyer paid (on paid), the amount of a refund (due on
	// refund_approved, refunded in all on refund_completed; empty when not given) and
	// the stated reason of a cancellation request, a dispute or a refund.
	PaymentMethod string `ch:"payment_method" json:"payment_method,omitempty"`
	RefundAmount  string `ch:"refund_amount" json:"refund_amount,omitempty"`
	Reason        string `ch:"reason" json:"reason,omitempty"`
}
