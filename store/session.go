package store

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// session is a connection of its own: a pool of one connection, whose temporary tables
// live as long as that connection. After a statement that reads a result it waits until
// the driver has put the connection back in its pool. clickhouse-go (v2.50) hands the
// connection back from a goroutine after the last rows are read, freeing its slot in
// the pool before returning the connection to the idle list: a statement issued in
// between finds the slot free and the idle list empty, and dials a new connection
// without the session's temporary tables ("Unknown table expression identifier
// 'trackwatch_run_changes'", the CI flake seen a few times per dozen runs, always on
// the statement after one that read rows). Statements that read nothing (Exec, batches)
// hand the connection back before they return.
type session struct {
	driver.Conn
}

// settle waits (up to a second) until the connection is idle in the pool again. After
// an error that closed the connection there is none to wait for, and it gives up.
func (s session) settle() {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Microsecond) {
		if s.Conn.Stats().Idle > 0 {
			return
		}
	}
}

func (s session) Select(ctx context.Context, dest any, query string, args ...any) error {
	err := s.Conn.Select(ctx, dest, query, args...)
	s.settle()
	return err
}

func (s session) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return settledRow{Row: s.Conn.QueryRow(ctx, query, args...), settle: s.settle}
}

func (s session) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := s.Conn.Query(ctx, query, args...)
	if err != nil {
		s.settle()
		return nil, err
	}
	return settledRows{Rows: rows, settle: s.settle}, nil
}

type settledRow struct {
	driver.Row
	settle func()
}

func (r settledRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	r.settle()
	return err
}

func (r settledRow) ScanStruct(dest any) error {
	err := r.Row.ScanStruct(dest)
	r.settle()
	return err
}

type settledRows struct {
	driver.Rows
	settle func()
}

func (r settledRows) Close() error {
	err := r.Rows.Close()
	r.settle()
	return err
}
