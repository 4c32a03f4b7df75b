package ingest

import (
	"slices"

	"github.com/trackwatch/trackwatch/trackingnumber"
)

// WorthStoring tells whether a verdict is stored: a finding, or the couriers an
// unchecked number fits. A valid number has nothing to say, and most are valid: the
// table stays small for the detectors' join. Ingest's verdicts (JudgeOrders) and those
// of the recheck over stored orders (package rebuild) both follow it.
func WorthStoring(r trackingnumber.Result) bool {
	switch r.Verdict {
	case trackingnumber.Invalid, trackingnumber.OtherCourier:
		return true
	case trackingnumber.Unchecked:
		// the couriers of a number whose carrier is undeclared, or declared as one
		// whose formats it does not fit (a YunExpress number declared as YunExpress
		// says nothing new)
		return len(r.Candidates) > 0 && !slices.Contains(r.Candidates, r.Carrier)
	}
	return false
}

// JudgeOrders sets the verdict on each row's tracking number for its declared carrier
// (Number), where there is something to say; the rows then store it with themselves
// (InsertOrders, a Writer's blocks), and a materialized view copies it to number_checks.
// Ingest's writer judges the rows it decodes (Writer.CheckNumbers); loads that insert
// decoded rows themselves call this first.
func JudgeOrders(c *trackingnumber.Checker, rows []OrderRow) {
	if c == nil {
		return
	}
	for i := range rows {
		judgeOrder(c, &rows[i])
	}
}

func judgeOrder(c *trackingnumber.Checker, r *OrderRow) {
	r.Number = NumberVerdict{}
	if r.TrackingNumber == "" {
		return
	}
	if res := c.Screen(r.TrackingNumber, r.Carrier); WorthStoring(res) {
		r.Number = NumberVerdict{Verdict: string(res.Verdict), Couriers: res.Candidates, Problem: res.Problem,
			ProblemJA: res.ProblemJA, Spec: res.Spec}
	}
}
