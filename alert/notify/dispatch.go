package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/trackwatch/trackwatch/alert"
)

// Receiver is a configured receiver with the Notifier of its type.
type Receiver struct {
	Config   ReceiverConfig
	Notifier Notifier
}

// Resender is a Notifier that also needs the firing alerts posted again now and then
// (Alertmanager resolves an alert it has not heard of for a while).
type Resender interface {
	Resend(ctx context.Context, alerts []alert.Alert, now time.Time) error
}

// Outcomes of an attempt, as the delivery log (notify_attempts) keeps them.
const (
	OutcomeDelivered = "delivered" // the receiver answered 2xx
	OutcomeRetry     = "retry"     // failed; another attempt is due at next_attempt_at
	OutcomeFailed    = "failed"    // failed for good: max_age passed
	OutcomeGone      = "gone"      // the receiver answered 410 and was disabled
	OutcomeReplay    = "replay"    // not an attempt: `notifications replay` made the change due again
)

// Metrics are the notifications' Prometheus metrics.
type Metrics struct {
	Deliveries    *prometheus.CounterVec   // receiver, outcome: changes
	FinalFailures *prometheus.CounterVec   // receiver
	OutboxLag     *prometheus.GaugeVec     // receiver: age of the oldest due change
	Request       *prometheus.HistogramVec // receiver: seconds per request
	Latency       *prometheus.HistogramVec // receiver: seconds from a change's logging to its delivery
	Disabled      *prometheus.GaugeVec     // receiver: 1 while disabled
}

// NewMetrics creates the metrics and registers them with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_notify_deliveries_total",
			Help: "Alert changes sent to receivers, by outcome (delivered, retry, failed, gone)."}, []string{"receiver", "outcome"}),
		FinalFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_notify_final_failures_total",
			Help: "Alert changes given up on after max_age without a delivery."}, []string{"receiver"}),
		OutboxLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trackwatch_notify_outbox_lag_seconds",
			Help: "Age of the oldest alert change due for the receiver (0 when none)."}, []string{"receiver"}),
		Request: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_notify_request_seconds",
			Help: "Duration of requests to the receiver.", Buckets: prometheus.ExponentialBuckets(0.005, 3, 9)}, []string{"receiver"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_notify_delivery_latency_seconds",
			Help: "Time from an alert change being logged to its delivery.", Buckets: prometheus.ExponentialBuckets(0.05, 4, 10)}, []string{"receiver"}),
		Disabled: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trackwatch_notify_receiver_disabled",
			Help: "1 while the receiver is disabled (it answered 410 Gone)."}, []string{"receiver"}),
	}
	if reg != nil {
		reg.MustRegister(m.Deliveries, m.FinalFailures, m.OutboxLag, m.Request, m.Latency, m.Disabled)
	}
	return m
}

// Dispatcher delivers the change log to the receivers: each receiver on its own loop
// (a slow or dead one delays no other), woken by Wake after a detector run and every
// PollInterval for retries. Several instances share the work through claims in
// ClickHouse: the earliest unexpired claim on a (receiver, change) wins.
type Dispatcher struct {
	conn      driver.Conn
	db        string
	cfg       Config
	receivers []*loop
	instance  string
	log       *slog.Logger
	m         *Metrics
	now       func() time.Time
	// BatchSize bounds how many due changes one receiver takes at a time. Default 500.
	BatchSize int
}

type loop struct {
	rcv     atomic.Pointer[Receiver] // replaced whole by Reload
	limiter *rate.Limiter
	wake    chan struct{}
}

// get is the loop's receiver as configured now.
func (l *loop) get() *Receiver { return l.rcv.Load() }

func newLimiter(maxPerSecond float64) *rate.Limiter {
	if maxPerSecond > 0 {
		return rate.NewLimiter(rate.Limit(maxPerSecond), max(1, int(math.Ceil(maxPerSecond))))
	}
	return rate.NewLimiter(rate.Inf, 1)
}

// Reload replaces the receivers' configurations and notifiers (trackwatch run rebuilds
// them on SIGHUP, so that rotated secrets in *_file keys take effect). The set of
// receivers must be the same, by name: adding or removing one needs a restart, and
// then nothing is replaced.
func (d *Dispatcher) Reload(receivers []Receiver) error {
	if len(receivers) != len(d.receivers) {
		return fmt.Errorf("notify.receivers: %d receivers configured, %d running: adding or removing one needs a restart (nothing reloaded)", len(receivers), len(d.receivers))
	}
	byName := map[string]*loop{}
	for _, l := range d.receivers {
		byName[l.get().Config.Name] = l
	}
	for _, r := range receivers {
		if byName[r.Config.Name] == nil {
			return fmt.Errorf("notify.receivers: %q is not running: adding or removing a receiver needs a restart (nothing reloaded)", r.Config.Name)
		}
	}
	for _, r := range receivers {
		l := byName[r.Config.Name]
		r := r
		l.rcv.Store(&r)
		lim := newLimiter(r.Config.MaxPerSecond)
		l.limiter.SetLimit(lim.Limit())
		l.limiter.SetBurst(lim.Burst())
	}
	return nil
}

// DispatcherOptions are what a Dispatcher is made of.
type DispatcherOptions struct {
	// Conn reads the change log in database DB and writes claims and the delivery log.
	Conn driver.Conn
	DB   string
	// Config is the notifications' configuration (poll interval, claim timeout, ...);
	// Receivers are its receivers with their notifiers.
	Config    Config
	Receivers []Receiver
	// Instance names this process in claims and the delivery log ("" makes one up).
	Instance string
	// Logger, Metrics and Now (the clock) default to slog.Default(), unregistered
	// metrics and time.Now.
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// NewDispatcher returns a dispatcher of o.Receivers over the change log in database o.DB.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Instance == "" {
		o.Instance = NewInstanceID()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Dispatcher{conn: o.Conn, db: o.DB, cfg: o.Config, instance: o.Instance, log: o.Logger, m: o.Metrics, now: o.Now, BatchSize: 500}
	for _, r := range o.Receivers {
		l := &loop{limiter: newLimiter(r.Config.MaxPerSecond), wake: make(chan struct{}, 1)}
		l.rcv.Store(&r)
		d.receivers = append(d.receivers, l)
	}
	return d
}

// NewInstanceID names a process: host, pid and a random suffix.
func NewInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Instance is the name this dispatcher claims changes under.
func (d *Dispatcher) Instance() string { return d.instance }

// Wake makes every receiver look for due changes now (after a detector run).
func (d *Dispatcher) Wake() {
	for _, l := range d.receivers {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range d.receivers {
		wg.Go(func() { d.loop(ctx, l) })
		if _, ok := l.get().Notifier.(Resender); ok {
			wg.Go(func() { d.resendLoop(ctx, l) })
		}
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) loop(ctx context.Context, l *loop) {
	log := d.log.With("receiver", l.get().Config.Name)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-t.C:
		}
		if err := d.Drain(ctx, l.get().Config.Name); err != nil && ctx.Err() == nil {
			log.Error("deliver alert changes", "err", err)
		}
		t.Reset(d.cfg.PollInterval)
	}
}

func (d *Dispatcher) find(name string) *loop {
	for _, l := range d.receivers {
		if l.get().Config.Name == name {
			return l
		}
	}
	return nil
}

// due is a change due for delivery, with its delivery state.
type due struct {
	alert.Change
	Attempts uint32    `ch:"attempts"` // attempts so far (replays included)
	Base     uint32    `ch:"base"`     // the attempt number of the latest replay, 0 if none
	Origin   time.Time `ch:"origin"`   // when the change was logged, or last replayed
}

// sql is the statement name of sql/dispatch.sql in the dispatcher's database.
func (d *Dispatcher) sql(name string) string { return statements.In(d.db, name) }

// filterArgs are the query parameters of a receiver's filters.
func filterArgs(r ReceiverConfig) []any {
	recs := make([]string, len(r.Recommendations))
	for i, x := range r.Recommendations {
		recs[i] = string(x)
	}
	return []any{
		clickhouse.Named("detectors", nonNil(r.Detectors)), clickhouse.Named("min_rank", uint8(r.MinSeverity.Rank())),
		clickhouse.Named("marketplaces", nonNil(r.Marketplaces)), clickhouse.Named("recommendations", recs),
		clickhouse.Named("send_resolved", r.SendResolved == nil || *r.SendResolved),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Drain delivers everything due for the named receiver now, batch by batch.
func (d *Dispatcher) Drain(ctx context.Context, name string) error {
	l := d.find(name)
	if l == nil {
		return fmt.Errorf("no receiver %q", name)
	}
	disabled, err := d.disabled(ctx, name)
	if err != nil {
		return err
	}
	d.m.Disabled.WithLabelValues(name).Set(b2f(disabled))
	if disabled {
		return nil
	}
	for {
		now := d.now().UTC()
		var batch []due
		args := append(filterArgs(l.get().Config), clickhouse.Named("receiver", name), clickhouse.Named("now", now),
			clickhouse.Named("max_age", uint32(l.get().Config.MaxAge/time.Second)), clickhouse.Named("instance", d.instance),
			clickhouse.Named("limit", uint32(d.BatchSize)))
		if err := d.conn.Select(ctx, &batch, d.sql("due"), args...); err != nil {
			return fmt.Errorf("read due changes: %w", err)
		}
		if len(batch) == 0 {
			d.m.OutboxLag.WithLabelValues(name).Set(0)
			return nil
		}
		d.m.OutboxLag.WithLabelValues(name).Set(now.Sub(batch[0].CreatedAt).Seconds())
		mine, err := d.claim(ctx, name, batch, now)
		if err != nil {
			return err
		}
		gone, err := d.deliver(ctx, l, mine)
		if err != nil || gone {
			return err
		}
		if len(batch) < d.BatchSize {
			return nil
		}
	}
}

// claim claims the batch for this instance and returns the changes it won: among the
// unexpired claims of a change, the one the server committed first wins (the row's
// block number: a MergeTree numbers blocks as it commits them, under one lock). Whoever
// reads after both claims are committed sees the same winner; whoever reads before the
// other's claim is committed holds the claim committed first, so the two never both
// win. (The claims' timestamps would not do: an insert that started first can be
// committed after a later one was read alone.)
func (d *Dispatcher) claim(ctx context.Context, receiver string, batch []due, now time.Time) ([]due, error) {
	ids := make([]string, len(batch))
	for i, c := range batch {
		ids[i] = c.ChangeID
	}
	until := now.Add(d.cfg.ClaimTimeout)
	if err := d.conn.Exec(ctx, d.sql("claim"),
		clickhouse.Named("receiver", receiver), clickhouse.Named("ids", ids), clickhouse.Named("instance", d.instance),
		clickhouse.Named("until", until)); err != nil {
		return nil, fmt.Errorf("claim changes: %w", err)
	}
	var won []struct {
		ID string `ch:"change_id"`
	}
	if err := d.conn.Select(ctx, &won, d.sql("claims_won"),
		clickhouse.Named("receiver", receiver), clickhouse.Named("ids", ids), clickhouse.Named("instance", d.instance),
		clickhouse.Named("now", now)); err != nil {
		return nil, fmt.Errorf("read claims: %w", err)
	}
	set := make(map[string]bool, len(won))
	for _, w := range won {
		set[w.ID] = true
	}
	mine := batch[:0:0]
	for _, c := range batch {
		if set[c.ChangeID] {
			mine = append(mine, c)
		}
	}
	return mine, nil
}

// attempt is one row of the delivery log.
type attempt struct {
	Receiver    string     `ch:"receiver"`
	ChangeID    string     `ch:"change_id"`
	Attempt     uint32     `ch:"attempt"`
	Outcome     string     `ch:"outcome"`
	StatusCode  uint16     `ch:"status_code"`
	Error       string     `ch:"error"`
	MessageID   string     `ch:"message_id"`
	Instance    string     `ch:"instance"`
	AttemptedAt time.Time  `ch:"attempted_at"`
	NextAt      *time.Time `ch:"next_attempt_at"`
	DurationMS  uint32     `ch:"duration_ms"`
}

// deliver sends the changes in deliveries of MaxAlerts, Concurrency at a time, within
// the rate limit, and logs every attempt. It reports whether the receiver said it is
// gone.
func (d *Dispatcher) deliver(ctx context.Context, l *loop, changes []due) (gone bool, err error) {
	cfg := l.get().Config
	var groups [][]due
	var cases []*CaseChange // a group's case, for a receiver that groups by case
	now := d.now().UTC()
	var log []attempt
	var live []due
	for _, c := range changes {
		if now.Sub(c.Origin) > cfg.MaxAge { // too old to send now: failed for good
			log = append(log, attempt{Receiver: cfg.Name, ChangeID: c.ChangeID, Attempt: c.Attempts + 1, Outcome: OutcomeFailed,
				Error: fmt.Sprintf("not delivered within max_age %s", cfg.MaxAge), Instance: d.instance, AttemptedAt: now})
			d.m.Deliveries.WithLabelValues(cfg.Name, OutcomeFailed).Inc()
			d.m.FinalFailures.WithLabelValues(cfg.Name).Inc()
			continue
		}
		live = append(live, c)
	}
	if cfg.GroupBy == GroupByCase {
		// one request per case, whatever max_alerts says: a case has a few alerts
		if groups, cases, err = d.byCase(ctx, live); err != nil {
			return false, err // nothing sent: the claims expire and the changes are due again
		}
	} else {
		for _, c := range live {
			if n := len(groups); n > 0 && len(groups[n-1]) < cfg.MaxAlerts {
				groups[n-1] = append(groups[n-1], c)
			} else {
				groups = append(groups, []due{c})
			}
		}
	}
	var mu sync.Mutex
	var goneOnce sync.Once
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	for i, g := range groups {
		if err := l.limiter.Wait(sctx); err != nil {
			break // stopping, or gone
		}
		var cc *CaseChange
		if cases != nil {
			cc = cases[i]
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rows, isGone := d.send(sctx, l, g, cc)
			mu.Lock()
			log = append(log, rows...)
			mu.Unlock()
			if isGone {
				goneOnce.Do(func() { gone = true; stop() })
			}
		})
	}
	wg.Wait()
	if gone {
		if err := d.SetDisabled(context.WithoutCancel(ctx), cfg.Name, true, "the receiver answered 410 Gone"); err != nil {
			return true, err
		}
		d.m.Disabled.WithLabelValues(cfg.Name).Set(1)
		d.log.Error("receiver answered 410 Gone and is disabled; `trackwatch receivers enable` turns it back on", "receiver", cfg.Name)
	}
	if len(log) == 0 {
		return gone, nil
	}
	// The log is written even when ctx ends (a shutdown): what was sent stays sent.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return gone, d.writeLog(wctx, log)
}

func (d *Dispatcher) writeLog(ctx context.Context, rows []attempt) error {
	b, err := d.conn.PrepareBatch(ctx, d.sql("log_attempts"))
	if err != nil {
		return fmt.Errorf("log attempts: %w", err)
	}
	for _, r := range rows {
		if err := b.AppendStruct(&r); err != nil {
			return fmt.Errorf("log attempts: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("log attempts: %w", err)
	}
	return nil
}

// send makes one request and returns its log rows, one per change; cc is the changes'
// case for a receiver that groups by case (nil otherwise).
func (d *Dispatcher) send(ctx context.Context, l *loop, g []due, cc *CaseChange) ([]attempt, bool) {
	cfg := l.get().Config
	changes := make([]alert.Change, len(g))
	attemptNo := 0
	for i, c := range g {
		changes[i] = c.Change
		attemptNo = max(attemptNo, int(c.Attempts-c.Base)+1)
	}
	start := d.now()
	del := Delivery{ID: DeliveryID(changes), Changes: changes, Attempt: attemptNo, Now: start.UTC(), Case: cc}
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	err := l.get().Notifier.Notify(rctx, del)
	cancel()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil, false // stopping: not an attempt; the claim expires and it is sent again
	}
	took := d.now().Sub(start)
	d.m.Request.WithLabelValues(cfg.Name).Observe(took.Seconds())
	outcome, code, msg, next := OutcomeDelivered, uint16(0), "", (*time.Time)(nil)
	var he *HTTPError
	if errors.As(err, &he) {
		code = uint16(he.StatusCode)
	}
	gone := he != nil && he.Gone()
	if err != nil {
		msg = err.Error()
		outcome = OutcomeRetry
		if gone {
			outcome = OutcomeGone
		} else {
			wait := Backoff(cfg.Backoff, attemptNo, mrand.Float64())
			if he != nil && he.RetryAfter > wait {
				wait = he.RetryAfter
			}
			at := start.UTC().Add(wait)
			next = &at
		}
	}
	rows := make([]attempt, 0, len(g))
	for _, c := range g {
		o, n := outcome, next
		if outcome == OutcomeRetry && n.Sub(c.Origin) > cfg.MaxAge {
			o, n = OutcomeFailed, nil
			d.m.FinalFailures.WithLabelValues(cfg.Name).Inc()
		}
		if o == OutcomeDelivered {
			d.m.Latency.WithLabelValues(cfg.Name).Observe(d.now().Sub(c.CreatedAt).Seconds())
		}
		d.m.Deliveries.WithLabelValues(cfg.Name, o).Inc()
		rows = append(rows, attempt{Receiver: cfg.Name, ChangeID: c.ChangeID, Attempt: c.Attempts + 1, Outcome: o, StatusCode: code,
			Error: msg, MessageID: del.ID, Instance: d.instance, AttemptedAt: start.UTC(), NextAt: n, DurationMS: uint32(took.Milliseconds())})
	}
	if err != nil {
		d.log.Warn("delivery failed", "receiver", cfg.Name, "id", del.ID, "changes", len(g), "attempt", attemptNo, "outcome", outcome, "err", err)
	}
	return rows, gone
}

// Backoff is the wait after the attempt-th failed attempt (1 for the first): the
// schedule's entry, the last repeating, with ±20% jitter (jitter in [0,1)).
func Backoff(schedule []time.Duration, attempt int, jitter float64) time.Duration {
	i := min(max(attempt-1, 0), len(schedule)-1)
	base := schedule[i]
	return time.Duration(float64(base) * (0.8 + 0.4*jitter))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// disabled reports whether the receiver is disabled.
func (d *Dispatcher) disabled(ctx context.Context, name string) (bool, error) {
	var rows []struct {
		Disabled uint8 `ch:"disabled"`
	}
	if err := d.conn.Select(ctx, &rows, d.sql("receiver_disabled"),
		clickhouse.Named("r", name)); err != nil {
		return false, fmt.Errorf("receiver state: %w", err)
	}
	return len(rows) > 0 && rows[0].Disabled == 1, nil
}

// SetDisabled disables or enables a receiver, with the reason.
func (d *Dispatcher) SetDisabled(ctx context.Context, name string, disabled bool, reason string) error {
	return SetDisabled(ctx, d.conn, d.db, name, disabled, reason)
}

// SetDisabled disables or enables receiver name in database db.
func SetDisabled(ctx context.Context, conn driver.Conn, db, name string, disabled bool, reason string) error {
	var v uint8
	if disabled {
		v = 1
	}
	if err := conn.Exec(ctx, statements.In(db, "set_disabled"),
		clickhouse.Named("r", name), clickhouse.Named("d", v), clickhouse.Named("why", reason)); err != nil {
		return fmt.Errorf("set receiver %s: %w", name, err)
	}
	return nil
}

// resendLoop posts the receiver's firing alerts again every ResendInterval.
func (d *Dispatcher) resendLoop(ctx context.Context, l *loop) {
	t := time.NewTicker(l.get().Config.ResendInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rs, ok := l.get().Notifier.(Resender) // the notifier of now: a reload may replace it
		if !ok {
			continue
		}
		if err := d.resend(ctx, l, rs); err != nil && ctx.Err() == nil {
			d.log.Warn("resend firing alerts", "receiver", l.get().Config.Name, "err", err)
		}
	}
}

func (d *Dispatcher) resend(ctx context.Context, l *loop, rs Resender) error {
	if off, err := d.disabled(ctx, l.get().Config.Name); err != nil || off {
		return err
	}
	var firing []alert.Alert
	if err := d.conn.Select(ctx, &firing, d.sql("firing"), filterArgs(l.get().Config)...); err != nil {
		return fmt.Errorf("read firing alerts: %w", err)
	}
	if len(firing) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, l.get().Config.Timeout*time.Duration(1+len(firing)/max(1, l.get().Config.MaxAlerts)))
	defer cancel()
	return rs.Resend(rctx, firing, d.now().UTC())
}
