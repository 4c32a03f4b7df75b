package rebuild

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// numberCheck is one stored verdict (table number_checks).
type numberCheck struct {
	number, carrier string
	r               trackingnumber.Result
}

func insertNumberChecks(ctx context.Context, conn driver.Conn, db string, checks []numberCheck) error {
	if len(checks) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, statements.In(db, "insert_number_checks"))
	if err != nil {
		return fmt.Errorf("prepare insert into number_checks: %w", err)
	}
	for _, ch := range checks {
		cand := ch.r.Candidates
		if cand == nil {
			cand = []string{}
		}
		if err := b.Append(ch.number, ch.carrier, string(ch.r.Verdict), cand, ch.r.Problem, ch.r.ProblemJA, ch.r.Spec); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append number check %s: %w", ch.number, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into number_checks: %w", err)
	}
	return nil
}

// Numbers judges every number and carrier pair of the stored order events again
// when the checker's version (Checker.Version) is not the latest run's (a new
// specification or formats, other postal carriers, or the first start after the table
// was added), replacing the older verdicts. It returns the pairs judged, 0 when the
// stored verdicts are current.
func Numbers(ctx context.Context, conn driver.Conn, db string, c *trackingnumber.Checker) (int, error) {
	spec := c.Version()
	var latest string
	if err := conn.QueryRow(ctx, statements.In(db, "latest_run_spec")).Scan(&latest); err != nil {
		return 0, fmt.Errorf("read number check runs: %w", err)
	}
	if latest == spec { // the latest, not any: a rollback to an earlier version judges again
		return 0, nil
	}
	rows, err := conn.Query(ctx, statements.In(db, "stored_numbers"))
	if err != nil {
		return 0, fmt.Errorf("read stored numbers: %w", err)
	}
	defer rows.Close()
	var checks []numberCheck
	pairs := 0
	for rows.Next() {
		var n, carrier string
		if err := rows.Scan(&n, &carrier); err != nil {
			return 0, fmt.Errorf("read stored numbers: %w", err)
		}
		pairs++
		if r := c.Check(n, carrier); ingest.WorthStoring(r) {
			checks = append(checks, numberCheck{n, carrier, r})
		}
		if len(checks) >= 10000 {
			if err := insertNumberChecks(ctx, conn, db, checks); err != nil {
				return 0, err
			}
			checks = checks[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read stored numbers: %w", err)
	}
	if err := insertNumberChecks(ctx, conn, db, checks); err != nil {
		return 0, err
	}
	// The run is recorded first: the detectors read the verdicts of the latest run's
	// version (and, before any run, every verdict), so from here on they read these,
	// and verdicts an older instance still writes are not read. The delete only tidies.
	if err := conn.Exec(ctx, statements.In(db, "record_run"),
		clickhouse.Named("spec", spec), clickhouse.Named("pairs", uint64(pairs))); err != nil {
		return 0, fmt.Errorf("record number check run: %w", err)
	}
	if err := conn.Exec(ctx, statements.In(db, "delete_older_checks"), clickhouse.Named("spec", spec)); err != nil {
		return 0, fmt.Errorf("delete older number checks: %w", err)
	}
	return pairs, nil
}
