package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// CaseState is where an analyst's work on an alert stands.
type CaseState string

// Case states.
const (
	CaseOpen         CaseState = "open"         // nobody has acted on it, or it was reopened
	CaseAcknowledged CaseState = "acknowledged" // someone is on it: not notified again
	CaseClosed       CaseState = "closed"       // done, with an outcome: not notified again
)

// ActionKind is a case action.
type ActionKind string

// Case actions.
const (
	ActAcknowledge ActionKind = "acknowledge"
	ActAssign      ActionKind = "assign"
	ActComment     ActionKind = "comment"
	ActClose       ActionKind = "close"
	ActReopen      ActionKind = "reopen"
)

// ActionKinds lists the case actions.
var ActionKinds = []ActionKind{ActAcknowledge, ActAssign, ActComment, ActClose, ActReopen}

// Outcome is how a closed case ended.
type Outcome string

// Outcomes of a closed case.
const (
	OutcomeConfirmedFake Outcome = "confirmed_fake" // the tracking number was fake or misused
	OutcomeFalsePositive Outcome = "false_positive" // it was not: the alert does not fire again for this order and number
	OutcomeBuyerRefunded Outcome = "buyer_refunded"
	OutcomeDuplicate     Outcome = "duplicate"
)

// Outcomes lists the outcomes.
var Outcomes = []Outcome{OutcomeConfirmedFake, OutcomeFalsePositive, OutcomeBuyerRefunded, OutcomeDuplicate}

// Action is one case action, as stored.
type Action struct {
	ActionID string     `ch:"action_id" json:"action_id"`
	AlertID  string     `ch:"alert_id" json:"alert_id"`
	Action   ActionKind `ch:"action" json:"action"`
	Actor    string     `ch:"actor" json:"actor"`
	Assignee string     `ch:"assignee" json:"assignee,omitempty"`
	Outcome  Outcome    `ch:"outcome" json:"outcome,omitempty"`
	Comment  string     `ch:"comment" json:"comment,omitempty"`
	At       time.Time  `ch:"at" json:"at"`
}

// Case is an alert's case state, derived from its actions.
type Case struct {
	State    CaseState `ch:"case_state" json:"state"`
	Assignee string    `ch:"assignee" json:"assignee"`
	Outcome  Outcome   `ch:"outcome" json:"outcome"`
	Actions  uint64    `ch:"actions" json:"actions"`
}

// Scan reads an action kind from a ClickHouse String column.
func (k *ActionKind) Scan(src any) error { return scanString(k, src) }

// Scan reads an outcome from a ClickHouse String column.
func (o *Outcome) Scan(src any) error { return scanString(o, src) }

// Scan reads a case state from a ClickHouse String column.
func (c *CaseState) Scan(src any) error { return scanString(c, src) }

// CaseSQL is the query of every acted-on alert's case in database db: alert_id,
// case_state, assignee, outcome, actions.
func CaseSQL(db string) string { return statements.In(db, "cases") }

// ErrBadAction is returned for an action that is incomplete or unknown.
var ErrBadAction = errors.New("bad action")

// Act records a case action on an alert by actor at now and returns the case after it.
func (s *Store) Act(ctx context.Context, alertID string, a Action, now time.Time) (Case, error) {
	if err := a.validate(); err != nil {
		return Case{}, err
	}
	if _, err := s.Get(ctx, alertID); err != nil {
		return Case{}, err
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	a.ActionID, a.AlertID, a.At = hex.EncodeToString(b), alertID, now.UTC()
	if err := s.Conn.Exec(ctx, statements.In(s.DB, "case_act"),
		clickhouse.Named("id", a.ActionID), clickhouse.Named("alert", alertID), clickhouse.Named("action", string(a.Action)),
		clickhouse.Named("actor", a.Actor), clickhouse.Named("assignee", strings.TrimSpace(a.Assignee)), clickhouse.Named("outcome", string(a.Outcome)),
		clickhouse.Named("comment", a.Comment), clickhouse.Named("at", a.At)); err != nil {
		return Case{}, fmt.Errorf("record action: %w", err)
	}
	c, _, err := s.CaseOf(ctx, alertID)
	return c, err
}

// validate says what is wrong with an action, naming it (ErrBadAction).
func (a Action) validate() error {
	switch {
	case !slices.Contains(ActionKinds, a.Action):
		return fmt.Errorf("%w: action %q is not one of acknowledge, assign, comment, close, reopen", ErrBadAction, a.Action)
	case a.Action == ActClose && !slices.Contains(Outcomes, a.Outcome):
		return fmt.Errorf("%w: close needs an outcome: confirmed_fake, false_positive, buyer_refunded or duplicate", ErrBadAction)
	case a.Action != ActClose && a.Outcome != "":
		return fmt.Errorf("%w: only close takes an outcome", ErrBadAction)
	case a.Action == ActAssign && strings.TrimSpace(a.Assignee) == "":
		return fmt.Errorf("%w: assign needs an assignee", ErrBadAction)
	case a.Action == ActComment && strings.TrimSpace(a.Comment) == "":
		return fmt.Errorf("%w: comment needs a comment", ErrBadAction)
	case len(a.Comment) > 10_000 || len(a.Assignee) > 200:
		return fmt.Errorf("%w: comment over 10,000 or assignee over 200 characters", ErrBadAction)
	}
	return nil
}

// CaseOf returns an alert's case and its actions, oldest first.
func (s *Store) CaseOf(ctx context.Context, alertID string) (Case, []Action, error) {
	var acts []Action
	if err := s.Conn.Select(ctx, &acts, statements.In(s.DB, "case_actions"), clickhouse.Named("id", alertID)); err != nil {
		return Case{}, nil, fmt.Errorf("read actions: %w", err)
	}
	var cs []struct {
		Case
		AlertID string `ch:"alert_id"`
	}
	if err := s.Conn.Select(ctx, &cs, statements.In(s.DB, "case_of"), clickhouse.Named("id", alertID)); err != nil {
		return Case{}, nil, fmt.Errorf("read case: %w", err)
	}
	if len(cs) == 0 {
		return Case{State: CaseOpen}, acts, nil
	}
	return cs[0].Case, acts, nil
}
