package lookup_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/lookup"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

const db = "lk"

var asOf = detecttest.AsOf

// stalledWorld has two stalled-EIR orders: "stalled" never moves, "moves-later" moves
// on the 14th. stalled_eir flags both as of the 13th, only "stalled" from the 14th. (As
// package alert's tests set it up: the alerts that lookup shows beside the events are
// recorded by the alert store.)
func stalledWorld(t *testing.T) (*detecttest.World, *alert.Store, *lookup.Reader, *detect.Set) {
	w := detecttest.NewWorld(t, db)
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("moves-later", "RR111111115CN", "china-post", 5)
	w.Scan("RR111111115CN", "Label created", 5)
	w.Scan("RR111111115CN", "In transit", 14)
	set, err := detect.NewSet(db, "stalled_eir")
	if err != nil {
		t.Fatal(err)
	}
	return w, alert.NewStore(w.Conn, db), lookup.NewReader(w.Conn, db), set
}

func record(t *testing.T, s *alert.Store, conn driver.Conn, set *detect.Set, cfg detect.Config, at time.Time) alert.Result {
	t.Helper()
	res, err := s.RecordAt(t.Context(), conn, set, cfg, at)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func alertsByOrder(t *testing.T, s *alert.Store) map[string]alert.Alert {
	t.Helper()
	as, err := s.List(t.Context(), alert.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alert.Alert{}
	for _, a := range as {
		out[a.OrderID] = a
	}
	return out
}

// An alert's detail has its case and its number's carrier timeline and its order's
// history (the world of package alert's TestQueryFiltersSortsAndPagesWithCases).
func TestDetailHasTheCaseAndTheTimelines(t *testing.T) {
	w, s, rd, set := stalledWorld(t)
	w.Shipped("stalled-2", "RR222222225CN", "china-post", 6)
	w.Scan("RR222222225CN", "Label created", 6)
	w.Shipped("stalled-3", "RR333333335CN", "china-post", 4)
	w.Scan("RR333333335CN", "Label created", 4)
	record(t, s, w.Conn, set, detect.Config{}, asOf(15)) // stalled, stalled-2, stalled-3 fire; moves-later does not
	ids := alertsByOrder(t, s)
	if _, err := s.Act(t.Context(), ids["stalled-2"].AlertID, alert.Action{Action: alert.ActAcknowledge, Actor: "ana"}, asOf(15)); err != nil {
		t.Fatal(err)
	}
	d, err := rd.Detail(t.Context(), ids["stalled-2"].AlertID)
	if err != nil || len(d.Carrier) != 1 || d.Carrier[0].SubStatus != "info_received/pre_advice" || len(d.Order) != 2 ||
		len(d.Actions) != 1 || d.Case.State != alert.CaseAcknowledged {
		t.Fatalf("detail %+v, %v", d, err)
	}
}

func TestOrderTrackingAndSellerViews(t *testing.T) {
	w, s, rd, set := stalledWorld(t) // stalled (never scanned physically), moves-later (scanned on the 14th: 9 days after)
	w.Shipped("quick", "RR454545455CN", "china-post", 5)
	w.Scan("RR454545455CN", "Accepted", 6) // a physical scan the day after shipment: valid
	record(t, s, w.Conn, set, detect.Config{}, asOf(15))

	o, err := rd.Order(t.Context(), "moves-later", asOf(13))
	if err != nil || o.State != "shipped" || len(o.History) != 2 || len(o.Carrier) != 1 {
		t.Fatalf("order as of the 13th: %+v, %v (the scan of the 14th is not known yet)", o, err)
	}
	if _, err := rd.Order(t.Context(), "nope", asOf(15)); !errors.Is(err, lookup.ErrUnknown) {
		t.Errorf("unknown order: %v", err)
	}
	tv, err := rd.Tracking(t.Context(), "rr 1234-5678 5cn", asOf(15))
	if err != nil || tv.TrackingNumber != "RR123456785CN" || len(tv.Orders) != 2 || len(tv.Alerts) != 1 {
		t.Fatalf("tracking: %+v, %v", tv, err)
	}
	win := lookup.SellerWindow{From: asOf(1), To: asOf(20)}
	ss, err := rd.Sellers(t.Context(), "s1", win, "vtr", 10)
	if err != nil || len(ss) != 1 {
		t.Fatalf("seller: %+v, %v", ss, err)
	}
	sel := ss[0]
	// Three shipped orders; only "quick" had a physical scan within 5 days of shipment.
	if sel.Shipped != 3 || sel.Valid != 1 || sel.Firing != 1 || sel.FiringByDetector["stalled_eir"] != 1 || sel.DisputesAdvised != 1 ||
		!sel.MoneyAtStake.Equal(decimal.RequireFromString("25.5")) || len(sel.Weeks) != 1 {
		t.Errorf("seller figures %+v", sel)
	}
	if _, err := rd.Sellers(t.Context(), "", win, "fame", 10); !errors.Is(err, alert.ErrBadQuery) {
		t.Errorf("bad sort: %v", err)
	}
}

// Every seller's figures, in each of the orders: the one seller of the world, with the
// figures it has alone.
func TestSellersInEachOrder(t *testing.T) {
	w, s, rd, set := stalledWorld(t)
	w.Shipped("quick", "RR454545455CN", "china-post", 5)
	w.Scan("RR454545455CN", "Accepted", 6)
	record(t, s, w.Conn, set, detect.Config{}, asOf(15))
	win := lookup.SellerWindow{From: asOf(1), To: asOf(20)}
	for _, sort := range []string{"vtr", "money", "alerts"} {
		ss, err := rd.Sellers(t.Context(), "", win, sort, 10)
		if err != nil || len(ss) != 1 {
			t.Fatalf("sellers by %s: %+v, %v", sort, ss, err)
		}
		if sel := ss[0]; sel.SellerID != "s1" || sel.Shipped != 3 || sel.Valid != 1 || sel.Firing != 1 || sel.DisputesAdvised != 1 ||
			!sel.MoneyAtStake.Equal(decimal.RequireFromString("25.5")) {
			t.Errorf("sellers by %s: %+v", sort, sel)
		}
	}
	if _, err := rd.Sellers(t.Context(), "", win, "vtr", 0); !errors.Is(err, alert.ErrBadQuery) {
		t.Errorf("limit 0: %v", err)
	}
}
