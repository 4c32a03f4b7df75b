package rebuild

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/carrier"
)

// SeenPhrase is one carrier wording as stored: how often, when last, how it was
// classified at ingest, and how the current phrase table classifies it.
type SeenPhrase struct {
	Carrier     string `ch:"carrier" json:"carrier"`
	RawStatus   string `ch:"raw_status" json:"raw_status"`
	Status      string `ch:"status" json:"status"`
	SubStatus   string `ch:"sub_status" json:"sub_status"`
	StatusGiven uint8  `ch:"status_given" json:"status_given"`
	// ProviderStatus is a tracking aggregator's reading of the words, when the events
	// came through one (package feeds).
	ProviderStatus string    `ch:"provider_status" json:"provider_status,omitempty"`
	Events         uint64    `ch:"events" json:"events"`
	LastSeen       time.Time `ch:"last_seen" json:"last_seen"`
	// Now is the sub-status the current table gives these words (differs from SubStatus
	// after a table change until `trackwatch phrases renormalise`).
	Now carrier.SubStatus `json:"now"`
}

// PhraseFilter selects stored phrases; zero fields select everything.
type PhraseFilter struct {
	Carrier  string
	Since    time.Time // events that occurred from then on
	Unmapped bool      // only words stored as unknown
	Limit    int       // default 100
}

// Phrases lists the carrier wordings stored in db, most frequent first.
func Phrases(ctx context.Context, conn driver.Conn, db string, t *carrier.Table, f PhraseFilter) ([]SeenPhrase, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []SeenPhrase
	if err := conn.Select(ctx, &out, statements.In(db, "phrases"), clickhouse.Named("since", f.Since.UTC()), clickhouse.Named("carrier", f.Carrier),
		clickhouse.Named("unmapped", f.Unmapped), clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list phrases: %w", err)
	}
	for i := range out {
		out[i].Now = classify(t, out[i].Carrier, out[i].RawStatus, out[i].StatusGiven == 1, out[i].Status, out[i].ProviderStatus)
	}
	return out, nil
}

// classify is what ingest stores for these words: a derived status follows the words,
// or the aggregator's reading where no phrase knows them; a status the producer gave
// stays, with the words' detail when they agree with it.
func classify(t *carrier.Table, slug, raw string, given bool, status, providerStatus string) carrier.SubStatus {
	sub := t.Classify(slug, raw)
	if given && sub.Status() != status {
		return carrier.ForStatus(status)
	}
	if ps, ok := carrier.Parse(providerStatus); ok && !given && sub == carrier.Unknown {
		return ps
	}
	return sub
}

// RenormaliseResult says what Renormalise changed.
type RenormaliseResult struct {
	Wordings int    // distinct (carrier, words, status) groups whose classification changed
	Events   uint64 // events in them
}

// Renormalise classifies the stored history again with t: every group of events with
// the same carrier, words and status whose sub-status (or derived status) t gives
// differently is updated in place (one ALTER TABLE ... UPDATE, waited for). dryRun
// only counts.
func Renormalise(ctx context.Context, conn driver.Conn, db string, t *carrier.Table, dryRun bool) (RenormaliseResult, error) {
	var groups []SeenPhrase
	if err := conn.Select(ctx, &groups, statements.In(db, "wordings")); err != nil {
		return RenormaliseResult{}, fmt.Errorf("renormalise: read wordings: %w", err)
	}
	var res RenormaliseResult
	var keys, subs, statuses []string
	for _, g := range groups {
		sub := classify(t, g.Carrier, g.RawStatus, g.StatusGiven == 1, g.Status, g.ProviderStatus)
		status := g.Status
		if g.StatusGiven == 0 {
			status = sub.Status()
		}
		if string(sub) == g.SubStatus && status == g.Status {
			continue
		}
		res.Wordings++
		res.Events += g.Events
		// the group's key as sql/phrases.sql's wording_key makes it
		keys = append(keys, g.Carrier+"\x00"+g.RawStatus+"\x00"+g.Status+"\x00"+fmt.Sprint(g.StatusGiven)+"\x00"+g.ProviderStatus)
		subs = append(subs, string(sub))
		statuses = append(statuses, status)
	}
	if dryRun || len(keys) == 0 {
		return res, nil
	}
	months, err := selectMonths(ctx, conn, statements.In(db, "wording_months"), clickhouse.Named("keys", keys))
	if err != nil {
		return res, fmt.Errorf("renormalise: months changed: %w", err)
	}
	sctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"mutations_sync": 2}))
	if err := conn.Exec(sctx, statements.In(db, "renormalise"), clickhouse.Named("keys", keys), clickhouse.Named("subs", subs), clickhouse.Named("statuses", statuses)); err != nil {
		return res, fmt.Errorf("renormalise: %w", err)
	}
	for _, m := range months {
		if err := rebuildMonth(ctx, conn, db, carrierMonths, m); err != nil {
			return res, fmt.Errorf("renormalise: %w", err)
		}
	}
	return res, nil
}

// Disagreement is a wording that a phrase table and a tracking aggregator read as
// different statuses: the events kept the phrase table's reading (SubStatus).
type Disagreement struct {
	Provider       string    `ch:"provider" json:"provider"`
	Carrier        string    `ch:"carrier" json:"carrier"`
	RawStatus      string    `ch:"raw_status" json:"raw_status"`
	SubStatus      string    `ch:"sub_status" json:"sub_status"`
	ProviderStatus string    `ch:"provider_status" json:"provider_status"`
	Events         uint64    `ch:"events" json:"events"`
	LastSeen       time.Time `ch:"last_seen" json:"last_seen"`
}

// Disagreements lists the stored wordings whose aggregator reading disagrees with the
// phrase tables', most frequent first (Unmapped is ignored: a disagreement needs a
// phrase that matched).
func Disagreements(ctx context.Context, conn driver.Conn, db string, f PhraseFilter) ([]Disagreement, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []Disagreement
	if err := conn.Select(ctx, &out, statements.In(db, "disagreements"), clickhouse.Named("since", f.Since.UTC()), clickhouse.Named("carrier", f.Carrier),
		clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list disagreements: %w", err)
	}
	return out, nil
}
