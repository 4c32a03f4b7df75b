package store

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Pool is a connection pool whose credentials can be replaced while it is in use: a
// long-running process (trackwatch run) shares one Pool between its components, and on
// SIGHUP after a rotated password_file PrepareCredentials opens a pool with the new
// credentials and checks them; Commit puts it in place of the old one. Statements already
// running finish on the old pool's connections, which close as they are released;
// statements started afterwards, and sessions opened afterwards (OpenSession), use the
// new credentials.
//
// Pool implements every method of driver.Conn itself rather than embedding one: a
// method added in a later clickhouse-go release must be forwarded to the current pool,
// and the build breaking at that upgrade says so (an embedded conn would forward it to
// the pool opened first, closed after the first rotation).
type Pool struct {
	mu      sync.Mutex // guards retired and replacements
	cur     atomic.Pointer[poolState]
	retired map[*poolState]*time.Timer
}

// retireAfter is how long a replaced pool stays open: a statement that picked the old
// pool just before the replacement still starts on it. Its idle connections are few
// (they close as statements release them once it is closed).
const retireAfter = 10 * time.Second

type poolState struct {
	conn  driver.Conn
	cfg   Config
	addrs []string
}

var _ driver.Conn = (*Pool)(nil)

// OpenPool is Open, returning a Pool whose credentials can be replaced.
func OpenPool(ctx context.Context, c Config, addrs ...string) (*Pool, error) {
	conn, err := Open(ctx, c, addrs...)
	if err != nil {
		return nil, err
	}
	p := &Pool{}
	p.cur.Store(&poolState{conn: conn, cfg: c, addrs: addrs})
	return p, nil
}

// PendingCredentials is a pool opened and checked with new credentials, not yet in use:
// Commit puts it in place, Discard closes it. One of them must be called.
type PendingCredentials struct {
	p    *Pool
	next *poolState
}

// PrepareCredentials opens a pool with the username and password of next (every other
// setting stays: addresses, TLS, limits need a restart) and pings the server with them.
// It returns nil, nil when the credentials are those in use. An error names the server
// and the cause (the server's "Authentication failed"), never the password.
func (p *Pool) PrepareCredentials(ctx context.Context, next Config) (*PendingCredentials, error) {
	cur := p.cur.Load()
	if next.Username == cur.cfg.Username && next.Password == cur.cfg.Password {
		return nil, nil
	}
	c := cur.cfg
	c.Username, c.Password = next.Username, next.Password
	conn, err := Open(ctx, c, cur.addrs...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: the new credentials (user %q) were not accepted: %w", c.Username, err)
	}
	return &PendingCredentials{p: p, next: &poolState{conn: conn, cfg: c, addrs: cur.addrs}}, nil
}

// Commit puts the new pool in place and closes the old one a few seconds later: its idle
// connections then, the ones in use when their statements finish.
func (pc *PendingCredentials) Commit() {
	p := pc.p
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.cur.Swap(pc.next)
	if p.retired == nil {
		p.retired = map[*poolState]*time.Timer{}
	}
	p.retired[old] = time.AfterFunc(retireAfter, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.retired[old]; ok {
			delete(p.retired, old)
			_ = old.conn.Close()
		}
	})
}

// Discard closes the new pool; the credentials in use stay.
func (pc *PendingCredentials) Discard() { _ = pc.next.conn.Close() }

// Username is the user the pool connects as now.
func (p *Pool) Username() string { return p.cur.Load().cfg.Username }

// OpenSession opens a connection of its own (see the package function OpenSession) with
// the credentials in use now.
func (p *Pool) OpenSession(ctx context.Context) (driver.Conn, error) {
	s := p.cur.Load()
	return OpenSession(ctx, s.cfg, s.addrs...)
}

func (p *Pool) conn() driver.Conn { return p.cur.Load().conn }

func (p *Pool) Contributors() []string { return p.conn().Contributors() }

func (p *Pool) ServerVersion() (*driver.ServerVersion, error) { return p.conn().ServerVersion() }

func (p *Pool) Select(ctx context.Context, dest any, query string, args ...any) error {
	return p.conn().Select(ctx, dest, query, args...)
}

func (p *Pool) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return p.conn().Query(ctx, query, args...)
}

func (p *Pool) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return p.conn().QueryRow(ctx, query, args...)
}

func (p *Pool) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	return p.conn().PrepareBatch(ctx, query, opts...)
}

func (p *Pool) Exec(ctx context.Context, query string, args ...any) error {
	return p.conn().Exec(ctx, query, args...)
}

func (p *Pool) QueryFormat(ctx context.Context, format string, query string, args ...any) (io.ReadCloser, error) {
	return p.conn().QueryFormat(ctx, format, query, args...)
}

func (p *Pool) InsertFormat(ctx context.Context, format string, query string, data io.Reader) error {
	return p.conn().InsertFormat(ctx, format, query, data)
}

func (p *Pool) AsyncInsert(ctx context.Context, query string, wait bool, args ...any) error {
	return p.conn().AsyncInsert(ctx, query, wait, args...)
}

func (p *Pool) Ping(ctx context.Context) error { return p.conn().Ping(ctx) }

func (p *Pool) Stats() driver.Stats { return p.conn().Stats() }

// Close closes the pool in use and any replaced one not closed yet.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for old, t := range p.retired {
		t.Stop()
		_ = old.conn.Close()
		delete(p.retired, old)
	}
	return p.cur.Load().conn.Close()
}
