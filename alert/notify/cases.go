package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/alert"
)

// Receivers' grouping (ReceiverConfig.GroupBy).
const (
	// GroupByAlert: a notification per alert change (the default).
	GroupByAlert = "alert"
	// GroupByCase: a notification per change of a case (every alert of one order, or of
	// one seller for alerts without an order; alert.CaseID): the first alert that fires
	// opens it, further alerts and resolutions update it, the last resolution resolves
	// it. The changes of one case due together go in one notification.
	GroupByCase = "case"
)

// CaseKind is how a delivery changes a case.
type CaseKind string

// Case kinds.
const (
	CaseOpened   CaseKind = "opened"   // none of its alerts fired before these changes
	CaseUpdated  CaseKind = "updated"  // it was open, and still is or is again
	CaseResolved CaseKind = "resolved" // none of its alerts fires after these changes
)

// CaseChange is what a delivery to a receiver that groups by case says of the case, beside
// the changes of its alerts (Delivery.Changes).
type CaseChange struct {
	CaseID      string   `json:"case_id"`
	Kind        CaseKind `json:"kind"`
	Marketplace string   `json:"marketplace"`
	// OrderID is "" for a seller's case.
	OrderID  string `json:"order_id"`
	SellerID string `json:"seller_id"`
	// Firing counts the case's alerts firing after the changes; Signals all its alerts
	// known then.
	Firing  int `json:"firing"`
	Signals int `json:"signals"`
}

// member is one alert of a case, as its current row says.
type member struct {
	AlertID    string       `ch:"alert_id"`
	CaseID     string       `ch:"case_id"`
	Status     alert.Status `ch:"status"`
	First      time.Time    `ch:"first_detected_at"`
	ResolvedAt *time.Time   `ch:"resolved_at"`
}

// logged is one logged change of a case's alert.
type logged struct {
	AlertID string           `ch:"alert_id"`
	Kind    alert.ChangeKind `ch:"kind"`
	AsOf    time.Time        `ch:"as_of"`
}

// byCase groups due changes by case, in the order of each case's first change, and says
// how each group changes its case: from the change log, each alert of the case firing or
// not just before the group's first change and at its last. An alert with no change
// logged by then (the log keeps 30 days) is judged by its row: firing from its first
// detection until its resolution.
func (d *Dispatcher) byCase(ctx context.Context, changes []due) ([][]due, []*CaseChange, error) {
	var order []string
	by := map[string][]due{}
	until := time.Time{}
	for _, c := range changes {
		id := alert.CaseID(c.Marketplace, c.OrderID, c.SellerID)
		if by[id] == nil {
			order = append(order, id)
		}
		by[id] = append(by[id], c)
		if c.AsOf.After(until) {
			until = c.AsOf
		}
	}
	if len(order) == 0 {
		return nil, nil, nil
	}
	var rows []member
	if err := d.conn.Select(ctx, &rows, d.sql("case_members"), clickhouse.Named("cases", order)); err != nil {
		return nil, nil, fmt.Errorf("read the cases' alerts: %w", err)
	}
	members := map[string]map[string]*member{} // case, alert
	for _, id := range order {
		members[id] = map[string]*member{}
	}
	for i := range rows {
		members[rows[i].CaseID][rows[i].AlertID] = &rows[i]
	}
	ids := []string{}
	for _, id := range order {
		for _, c := range by[id] { // an alert whose row a run has not written yet
			if members[id][c.AlertID] == nil {
				members[id][c.AlertID] = &member{AlertID: c.AlertID, CaseID: id}
			}
		}
		for a := range members[id] {
			ids = append(ids, a)
		}
	}
	var log []logged
	if err := d.conn.Select(ctx, &log, d.sql("member_changes"), clickhouse.Named("ids", ids), clickhouse.Named("until", until)); err != nil {
		return nil, nil, fmt.Errorf("read the cases' changes: %w", err)
	}
	history := map[string][]logged{}
	for _, l := range log {
		history[l.AlertID] = append(history[l.AlertID], l)
	}
	// firing says whether alert m fired just before t (at, false) or at t (at, true).
	firing := func(m *member, t time.Time, at bool) bool {
		var last *logged
		for i, l := range history[m.AlertID] {
			if l.AsOf.Before(t) || at && l.AsOf.Equal(t) {
				last = &history[m.AlertID][i]
			}
		}
		if last != nil {
			return last.Kind != alert.ChangeResolved
		}
		if m.First.IsZero() {
			return false
		}
		started := m.First.Before(t) || at && m.First.Equal(t)
		ongoing := m.Status == alert.StatusFiring || m.ResolvedAt != nil && (m.ResolvedAt.After(t) || !at && m.ResolvedAt.Equal(t))
		return started && ongoing
	}
	groups := make([][]due, 0, len(order))
	cases := make([]*CaseChange, 0, len(order))
	for _, id := range order {
		g := by[id]
		first, last, fires := g[0].AsOf, g[0].AsOf, false
		for _, c := range g {
			if c.AsOf.Before(first) {
				first = c.AsOf
			}
			if c.AsOf.After(last) {
				last = c.AsOf
			}
			fires = fires || c.Kind != alert.ChangeResolved
		}
		before, after := 0, 0
		for _, m := range members[id] {
			if firing(m, first, false) {
				before++
			}
			if firing(m, last, true) {
				after++
			}
		}
		cc := &CaseChange{CaseID: id, Kind: CaseUpdated, Marketplace: g[0].Marketplace, OrderID: g[0].OrderID, SellerID: g[0].SellerID,
			Firing: after, Signals: len(members[id])}
		switch {
		case before == 0 && fires:
			cc.Kind = CaseOpened
		case after == 0:
			cc.Kind = CaseResolved
		}
		groups = append(groups, g)
		cases = append(cases, cc)
	}
	return groups, cases, nil
}
