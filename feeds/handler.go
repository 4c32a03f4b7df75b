package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	fastjson "github.com/segmentio/encoding/json"
	"github.com/segmentio/kafka-go"
	"golang.org/x/time/rate"

	"github.com/trackwatch/trackwatch/schemas"
)

// Producer sends messages to Kafka and returns once the broker acknowledged them (a
// kafka-go Writer with RequiredAcks set and no Async).
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// DeadLetter is a verified body that could not be mapped: stored in the dead-letter
// table with its provider as the source (see service's wiring).
type DeadLetter struct {
	Provider, Topic string
	Raw             []byte
	Reason, Detail  string
	At              time.Time
}

// HandlerOptions configure a Handler. Config, Producer and DeadLetters are required.
type HandlerOptions struct {
	Config      Config
	Producer    Producer
	DeadLetters func(ctx context.Context, d DeadLetter) error
	// TrackingTopic and OrderTopic are the contract's topics. Defaults tracking-events
	// and order-events.
	TrackingTopic, OrderTopic string
	// ProduceTimeout bounds the wait for the broker's acknowledgement; beyond it, and on
	// any produce error, the answer is 503 with Retry-After. Default 5s.
	ProduceTimeout time.Duration
	// RetryAfter is the Retry-After of a 503. Default 10s.
	RetryAfter time.Duration
	Metrics    *Metrics     // nil: unregistered
	Logger     *slog.Logger // nil: slog.Default()
	Now        func() time.Time
}

// Handler serves POST /ingest/v1/{provider}: it verifies the provider's signature
// before reading the body as anything but bytes, maps the body into contract events
// and produces them, answering 200 only after the broker acknowledged.
type Handler struct {
	opts     HandlerOptions
	cfg      atomic.Pointer[Config]
	limiters map[string]*rate.Limiter
}

// NewHandler checks opts and builds the handler.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if opts.Producer == nil || opts.DeadLetters == nil {
		return nil, errors.New("feeds: a producer and a dead-letter sink are required")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("ingest.%w", err)
	}
	if opts.TrackingTopic == "" {
		opts.TrackingTopic = schemas.TrackingTopic
	}
	if opts.OrderTopic == "" {
		opts.OrderTopic = schemas.OrderTopic
	}
	if opts.ProduceTimeout == 0 {
		opts.ProduceTimeout = 5 * time.Second
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = 10 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, limiters: map[string]*rate.Limiter{}}
	for _, w := range opts.Config {
		if _, ok := h.limiters[w.Provider]; !ok {
			h.limiters[w.Provider] = rate.NewLimiter(rate.Limit(w.RatePerSecond), w.Burst)
		}
	}
	cfg := opts.Config
	h.cfg.Store(&cfg)
	return h, nil
}

// Reload replaces the providers' secrets and settings (SIGHUP re-reads secret_file).
// Providers added need a restart (their rate limiters are made at start): on an error
// the running configuration stays.
func (h *Handler) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ingest.%w", err)
	}
	for _, w := range cfg {
		if _, ok := h.limiters[w.Provider]; !ok {
			return fmt.Errorf("ingest.webhooks: provider %s was not configured at start: restart to add it", w.Provider)
		}
	}
	h.cfg.Store(&cfg)
	return nil
}

// Providers are the configured providers' names.
func (h *Handler) Providers() []string {
	var out []string
	for name := range h.limiters {
		out = append(out, name)
	}
	return out
}

func (h *Handler) entries(name string) []Webhook {
	var out []Webhook
	for _, w := range *h.cfg.Load() {
		if w.Provider == name {
			out = append(out, w)
		}
	}
	return out
}

type answer struct {
	Accepted     int    `json:"accepted,omitempty"`
	DeadLettered bool   `json:"dead_lettered,omitempty"`
	Error        string `json:"error,omitempty"`
}

func reply(w http.ResponseWriter, code int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	name := r.PathValue("provider")
	if name == "" {
		name = strings.TrimPrefix(r.URL.Path, "/ingest/v1/")
	}
	entries := h.entries(name)
	if len(entries) == 0 {
		reply(w, http.StatusNotFound, answer{Error: "no provider " + strconv.Quote(name) + " is configured (ingest.webhooks)"})
		return
	}
	if r.Method == http.MethodHead { // Ship24 probes its webhook URL with HEAD
		w.WriteHeader(http.StatusOK)
		return
	}
	m := h.opts.Metrics
	outcome := func(o string) {
		m.Requests.WithLabelValues(name, o).Inc()
		m.Seconds.WithLabelValues(name).Observe(h.opts.Now().Sub(start).Seconds())
	}
	if !h.limiters[name].Allow() {
		outcome("rate_limited")
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusTooManyRequests, answer{Error: "rate limit of provider " + name + " reached"})
		return
	}
	limit := entries[0].MaxBodyBytes
	if r.ContentLength > limit {
		outcome("too_large")
		reply(w, http.StatusRequestEntityTooLarge, answer{Error: fmt.Sprintf("body over %d bytes (max_body_bytes)", limit)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		outcome("bad_request")
		reply(w, http.StatusBadRequest, answer{Error: "reading the body failed"})
		return
	}
	if int64(len(body)) > limit {
		outcome("too_large")
		reply(w, http.StatusRequestEntityTooLarge, answer{Error: fmt.Sprintf("body over %d bytes (max_body_bytes)", limit)})
		return
	}
	p := providers[name]
	var entry *Webhook
	now := h.opts.Now()
	for i := range entries { // every secret is tried: rotation, or several accounts
		if p.verify(r.Header, body, entries[i].Secret.Reveal(), now, entries[i].TimestampTolerance) == nil && entry == nil {
			entry = &entries[i]
		}
	}
	if entry == nil {
		outcome("unauthorized")
		reply(w, http.StatusUnauthorized, answer{Error: errSignature.Error()})
		return
	}
	// verified: from here on the body is the provider's
	events, err := Map(name, body, Source{Header: r.Header, Marketplace: entry.Marketplace})
	var um *Unmappable
	if errors.As(err, &um) && um.Reason == ReasonNotJSON {
		outcome("bad_json")
		reply(w, http.StatusBadRequest, answer{Error: "malformed JSON: " + um.Detail})
		return
	}
	if errors.As(err, &um) {
		topic := h.opts.TrackingTopic
		if name == Shopify {
			topic = h.opts.OrderTopic
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.ProduceTimeout)
		defer cancel()
		if err := h.opts.DeadLetters(ctx, DeadLetter{Provider: name, Topic: topic, Raw: body, Reason: um.Reason, Detail: um.Detail, At: now}); err != nil {
			h.opts.Logger.Warn("webhook dead letter not stored", "provider", name, "err", err)
			h.unavailable(w, outcome)
			return
		}
		m.Unmapped.WithLabelValues(name, um.Reason).Inc()
		outcome("unmapped")
		reply(w, http.StatusAccepted, answer{DeadLettered: true, Error: um.Error()})
		return
	}
	if err != nil {
		outcome("error")
		reply(w, http.StatusInternalServerError, answer{Error: err.Error()})
		return
	}
	msgs, err := h.messages(events)
	if err != nil {
		outcome("error")
		reply(w, http.StatusInternalServerError, answer{Error: err.Error()})
		return
	}
	if len(msgs) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.ProduceTimeout)
		defer cancel()
		if err := h.opts.Producer.WriteMessages(ctx, msgs...); err != nil {
			h.opts.Logger.Warn("webhook events not produced; answered 503", "provider", name, "events", len(msgs), "err", err)
			h.unavailable(w, outcome)
			return
		}
	}
	noStatus := 0
	for _, e := range events.Tracking {
		if e.ProviderStatus == "" {
			noStatus++ // the provider's status says nothing trackwatch's model can hold
		}
	}
	if noStatus > 0 {
		m.Unmapped.WithLabelValues(name, "status").Add(float64(noStatus))
	}
	m.Events.WithLabelValues(name, "tracking").Add(float64(len(events.Tracking)))
	m.Events.WithLabelValues(name, "order").Add(float64(len(events.Orders)))
	outcome("accepted")
	reply(w, http.StatusOK, answer{Accepted: events.Len()})
}

func (h *Handler) unavailable(w http.ResponseWriter, outcome func(string)) {
	outcome("unavailable")
	w.Header().Set("Retry-After", strconv.Itoa(int(h.opts.RetryAfter.Seconds())))
	reply(w, http.StatusServiceUnavailable, answer{Error: "the event broker did not acknowledge; retry later"})
}

// messages are the events as Kafka messages, keyed like every producer's: by tracking
// number, by order id.
func (h *Handler) messages(e Events) ([]kafka.Message, error) {
	return Messages(e, h.opts.TrackingTopic, h.opts.OrderTopic)
}

// Messages renders events as Kafka messages on the contract's topics.
func Messages(e Events, trackingTopic, orderTopic string) ([]kafka.Message, error) {
	out := make([]kafka.Message, 0, e.Len())
	for _, t := range e.Tracking {
		b, err := fastjson.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encode tracking event: %w", err)
		}
		out = append(out, kafka.Message{Topic: trackingTopic, Key: []byte(strings.ToUpper(t.TrackingNumber)), Value: b})
	}
	for _, o := range e.Orders {
		b, err := fastjson.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("encode order event: %w", err)
		}
		out = append(out, kafka.Message{Topic: orderTopic, Key: []byte(o.OrderID), Value: b})
	}
	return out, nil
}

// NewProducer is the Handler's producer to brokers over tr (nil: kafka-go's default): it waits for every in-sync
// replica's acknowledgement, and requests batch with each other for 2ms at most, so one
// acknowledgement answers many of them.
func NewProducer(brokers []string, tr *kafka.Transport) *kafka.Writer {
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond, BatchSize: 1000, MaxAttempts: 3}
	if tr != nil { // a nil *Transport in the interface would not be kafka-go's default
		w.Transport = tr
	}
	return w
}
