// Package detect provides trackwatch's detectors: SQL evaluated in ClickHouse as of a
// given moment, each flagging orders whose tracking number is fake or misused, with a
// recommended action and evidence; the schedule that runs them; and the one seam a run's
// findings leave by, Set.Evaluate, which hands them to consumers (alert.Store records
// them as alerts, a backtest copies them, Collect brings them to Go).
//
// Time is an argument: a run sees only events that occurred at or before its moment, so
// the same code serves the schedule (the moment is now), re-runs of the past, and tests
// with fixed times. The work happens in ClickHouse; findings stay there unless a consumer
// asks for them.
package detect

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// ReasonLanguages are the languages every detector writes its reason in: en in the
// "reason" block of its file, the others in "reason_<lang>".
var ReasonLanguages = []string{"en", "ja"}

// Names are the detectors' public identifiers, used in alerts, config and metrics.
var Names = []string{"invalid_tracking_number", "carrier_mismatch", "never_scanned", "stalled_eir", "label_voided", "went_silent", "scan_before_order",
	"tracking_reuse", "destination_mismatch", "protection_expiry", "cancel_dodged", "dispute_unanswered", "refund_overdue",
	SellerValidTrackingRate}

// SellerValidTrackingRate is the one detector of sellers rather than orders: its alerts
// carry a seller id and no order id or tracking number (sql/seller_valid_tracking_rate.sql).
const SellerValidTrackingRate = "seller_valid_tracking_rate"

// Config holds the detectors' thresholds. The zero value is usable: defaults from the
// domain's rules are written beside each field.
type Config struct {
	// DefaultProtectionDays applies when an order does not say. Default 60.
	DefaultProtectionDays int `yaml:"default_protection_days"`
	// StalledDays: EIR-only this long since the first event is stalled. Default 7.
	StalledDays int `yaml:"stalled_days"`
	// NeverScannedWorkingDays: no carrier event this many working days after shipment.
	// Default 5.
	NeverScannedWorkingDays int `yaml:"never_scanned_working_days"`
	// ScanBeforeOrderSlackDays: a first carrier event this much before the order was
	// placed means the number is another parcel's. Default 1.
	ScanBeforeOrderSlackDays int `yaml:"scan_before_order_slack_days"`
	// RecycleMonths: carriers reissue numbers; events and orders further apart than this
	// are not the same parcel. Default 12.
	RecycleMonths int `yaml:"recycle_months"`
	// ExpiryWindowDays: protection_expiry flags orders whose protection ends within it.
	// Default 7.
	ExpiryWindowDays int `yaml:"expiry_window_days"`
	// SilentDays: went_silent flags a parcel whose last physical scan after shipment is
	// this old. Default 30 (postal and consolidator services; AfterShip calls a
	// shipment with no news for 30 days "expired").
	SilentDays int `yaml:"silent_days"`
	// CancelDodgeHours: cancel_dodged flags a shipment declared within this many hours
	// of a cancellation request (or rejection). Default 48.
	CancelDodgeHours int `yaml:"cancel_dodge_hours"`
	// DisputeAnswerDays: dispute_unanswered flags a dispute open this long with no
	// answer. Default 5 (the seller's response period).
	DisputeAnswerDays int `yaml:"dispute_answer_days"`
	// RefundDays*: refund_overdue flags a refund not completed this many business days
	// after it became due, by payment method (the guides' upper bounds): PayPal 5, a
	// wallet 5 (an account balance, refunded as PayPal's is), debit card 10, credit card
	// 15, bank transfer 20, convenience store 20, another or an unknown method 20.
	RefundDaysPaypal           int `yaml:"refund_days_paypal"`
	RefundDaysWallet           int `yaml:"refund_days_wallet"`
	RefundDaysCardDebit        int `yaml:"refund_days_card_debit"`
	RefundDaysCardCredit       int `yaml:"refund_days_card_credit"`
	RefundDaysBankTransfer     int `yaml:"refund_days_bank_transfer"`
	RefundDaysConvenienceStore int `yaml:"refund_days_convenience_store"`
	RefundDaysOther            int `yaml:"refund_days_other"`
	// SellerVTR*: seller_valid_tracking_rate flags a seller whose valid tracking rate
	// (the share of its orders shipped in the last SellerVTRWindowDays, and at least
	// SellerVTRScanDays ago, whose number had a physical carrier scan from a day before
	// to SellerVTRScanDays after the shipment: the workspace's definition) is below
	// SellerVTRTarget, once it shipped at least SellerVTRMinOrders such orders.
	// Defaults: 30 days, 5 days, 20 orders, 0.95 (Amazon's Valid Tracking Rate).
	SellerVTRWindowDays int     `yaml:"seller_vtr_window_days"`
	SellerVTRScanDays   int     `yaml:"seller_vtr_scan_days"`
	SellerVTRMinOrders  int     `yaml:"seller_vtr_min_orders"`
	SellerVTRTarget     float64 `yaml:"seller_vtr_target"`
	// Holidays are, per marketplace, the dates (YYYY-MM-DD) refund_overdue does not count
	// as business days besides weekends, e.g. {aliexpress: ["2026-10-01"]}. Default none.
	Holidays map[string][]string `yaml:"holidays"`
	// SilentDaysExpress is SilentDays for ExpressCarriers. Default 10.
	SilentDaysExpress int `yaml:"silent_days_express"`
	// ExpressCarriers are the carrier slugs whose parcels scan every day or two.
	ExpressCarriers []string `yaml:"express_carriers"`
	// PostalCarriers are carrier slugs whose numbers are judged as UPU S10 besides the
	// posts package trackingnumber knows (which it judges by S10 and their domestic
	// formats); read where numbers are judged (ingest, trackwatch number).
	PostalCarriers []string `yaml:"postal_carriers"`
	// ByCarrier and ByMarketplace override thresholds for one carrier slug or one
	// marketplace; a carrier's override wins over a marketplace's, which wins over the
	// global value. Zero fields inherit. YAML only, e.g.
	//   by_carrier: {ups: {stalled_days: 3}}
	//   by_marketplace: {amazon: {default_protection_days: 30}}
	ByCarrier     map[string]Thresholds `yaml:"by_carrier"`
	ByMarketplace map[string]Thresholds `yaml:"by_marketplace"`
	// ReasonLanguages are the languages of the reason an alert carries, the first also
	// its plain reason: en (English) and ja (Japanese). Default [en, ja].
	ReasonLanguages []string `yaml:"reason_languages"`
	// Schedule is the standard 5-field cron spec, in UTC, on which `trackwatch run`
	// evaluates every detector. Default "*/5 * * * *".
	Schedule string `yaml:"schedule"`
	// FromEvents makes every run summarise each number's carrier events from
	// tracking_events instead of merging the monthly summaries kept at insert
	// (carrier_months). Both give the same findings; the summaries cost a fraction of the
	// reading. Default false: for comparison and as a way around a damaged summary table.
	FromEvents bool `yaml:"from_events"`
	// Passes splits a run's two largest stages (the order state, the candidates) into
	// this many passes, each over a range of the orders or tracking numbers, so that a
	// run works on a part of them at a time; in more than one pass the run's tables are
	// kept on disk (temporary MergeTree tables) rather than in memory. Default 0: one
	// pass, in memory, up to 2 million order summary rows (a 10M-event marketplace);
	// above, one pass per 500,000 (at 100M events: 21 passes, ClickHouse under 2 GiB).
	Passes int `yaml:"passes"`
	// AlwaysFull makes every scheduled run evaluate every order. Default false: a
	// scheduled run evaluates only the orders whose events, numbers or time-based
	// conditions can have changed since the previous run (see Evaluate, Scheduled),
	// and every FullRunEvery one evaluates everything.
	AlwaysFull bool `yaml:"always_full"`
	// FullRunEvery is how often a scheduled run evaluates every order anyway, measured
	// in the runs' moments. Default 24h.
	FullRunEvery time.Duration `yaml:"full_run_every"`
	// ChangeMargin is how long before the previous scheduled run's watermark a scoped run
	// reads the changes stored again (an insert stamps its rows as it writes them and
	// shows them when it ends). Not in YAML: tests whose inserts are done before the next
	// statement starts set it to a negative value, for none. Default 30s.
	ChangeMargin time.Duration `yaml:"-"`
	// Shard is the part of the orders a run evaluates on a sharded cluster. Not in YAML:
	// the service sets it per node. The zero value evaluates every order.
	Shard Shard `yaml:"-"`
	// Schedules overrides Schedule per detector, e.g. {stalled_eir: "0 * * * *"}.
	// Detectors on the same spec run together, in one run (Set).
	Schedules map[string]string `yaml:"schedules"`
}

// Thresholds are the per-carrier or per-marketplace overrides; zero inherits.
type Thresholds struct {
	DefaultProtectionDays      int `yaml:"default_protection_days"`
	StalledDays                int `yaml:"stalled_days"`
	NeverScannedWorkingDays    int `yaml:"never_scanned_working_days"`
	ScanBeforeOrderSlackDays   int `yaml:"scan_before_order_slack_days"`
	RecycleMonths              int `yaml:"recycle_months"`
	ExpiryWindowDays           int `yaml:"expiry_window_days"`
	SilentDays                 int `yaml:"silent_days"`
	CancelDodgeHours           int `yaml:"cancel_dodge_hours"`
	DisputeAnswerDays          int `yaml:"dispute_answer_days"`
	RefundDaysPaypal           int `yaml:"refund_days_paypal"`
	RefundDaysWallet           int `yaml:"refund_days_wallet"`
	RefundDaysCardDebit        int `yaml:"refund_days_card_debit"`
	RefundDaysCardCredit       int `yaml:"refund_days_card_credit"`
	RefundDaysBankTransfer     int `yaml:"refund_days_bank_transfer"`
	RefundDaysConvenienceStore int `yaml:"refund_days_convenience_store"`
	RefundDaysOther            int `yaml:"refund_days_other"`
	// The seller_valid_tracking_rate settings: per marketplace only (a seller's rate
	// spans its carriers).
	SellerVTRWindowDays int     `yaml:"seller_vtr_window_days"`
	SellerVTRScanDays   int     `yaml:"seller_vtr_scan_days"`
	SellerVTRMinOrders  int     `yaml:"seller_vtr_min_orders"`
	SellerVTRTarget     float64 `yaml:"seller_vtr_target"`
}

// thresholdDef is one of the thresholds a carrier or a marketplace can override: its key,
// its default, and its fields in Config and Thresholds. A new threshold is a field in
// each and a row here.
type thresholdDef struct {
	key      string
	def      int
	global   func(*Config) *int
	override func(*Thresholds) *int
}

var thresholds = []thresholdDef{
	{"default_protection_days", 60, func(c *Config) *int { return &c.DefaultProtectionDays }, func(t *Thresholds) *int { return &t.DefaultProtectionDays }},
	{"stalled_days", 7, func(c *Config) *int { return &c.StalledDays }, func(t *Thresholds) *int { return &t.StalledDays }},
	{"never_scanned_working_days", 5, func(c *Config) *int { return &c.NeverScannedWorkingDays }, func(t *Thresholds) *int { return &t.NeverScannedWorkingDays }},
	{"scan_before_order_slack_days", 1, func(c *Config) *int { return &c.ScanBeforeOrderSlackDays }, func(t *Thresholds) *int { return &t.ScanBeforeOrderSlackDays }},
	{"recycle_months", 12, func(c *Config) *int { return &c.RecycleMonths }, func(t *Thresholds) *int { return &t.RecycleMonths }},
	{"expiry_window_days", 7, func(c *Config) *int { return &c.ExpiryWindowDays }, func(t *Thresholds) *int { return &t.ExpiryWindowDays }},
	{"silent_days", 30, func(c *Config) *int { return &c.SilentDays }, func(t *Thresholds) *int { return &t.SilentDays }},
	{"cancel_dodge_hours", 48, func(c *Config) *int { return &c.CancelDodgeHours }, func(t *Thresholds) *int { return &t.CancelDodgeHours }},
	{"dispute_answer_days", 5, func(c *Config) *int { return &c.DisputeAnswerDays }, func(t *Thresholds) *int { return &t.DisputeAnswerDays }},
	{"refund_days_paypal", 5, func(c *Config) *int { return &c.RefundDaysPaypal }, func(t *Thresholds) *int { return &t.RefundDaysPaypal }},
	{"refund_days_wallet", 5, func(c *Config) *int { return &c.RefundDaysWallet }, func(t *Thresholds) *int { return &t.RefundDaysWallet }},
	{"refund_days_card_debit", 10, func(c *Config) *int { return &c.RefundDaysCardDebit }, func(t *Thresholds) *int { return &t.RefundDaysCardDebit }},
	{"refund_days_card_credit", 15, func(c *Config) *int { return &c.RefundDaysCardCredit }, func(t *Thresholds) *int { return &t.RefundDaysCardCredit }},
	{"refund_days_bank_transfer", 20, func(c *Config) *int { return &c.RefundDaysBankTransfer }, func(t *Thresholds) *int { return &t.RefundDaysBankTransfer }},
	{"refund_days_convenience_store", 20, func(c *Config) *int { return &c.RefundDaysConvenienceStore }, func(t *Thresholds) *int { return &t.RefundDaysConvenienceStore }},
	{"refund_days_other", 20, func(c *Config) *int { return &c.RefundDaysOther }, func(t *Thresholds) *int { return &t.RefundDaysOther }},
	{"seller_vtr_window_days", 30, func(c *Config) *int { return &c.SellerVTRWindowDays }, func(t *Thresholds) *int { return &t.SellerVTRWindowDays }},
	{"seller_vtr_scan_days", 5, func(c *Config) *int { return &c.SellerVTRScanDays }, func(t *Thresholds) *int { return &t.SellerVTRScanDays }},
	{"seller_vtr_min_orders", 20, func(c *Config) *int { return &c.SellerVTRMinOrders }, func(t *Thresholds) *int { return &t.SellerVTRMinOrders }},
}

// sellerThresholds are the thresholds of seller_valid_tracking_rate: a marketplace can
// override them, a carrier cannot.
var sellerThresholds = []string{"seller_vtr_window_days", "seller_vtr_scan_days", "seller_vtr_min_orders", "seller_vtr_target"}

// defaultSellerVTRTarget is Config.SellerVTRTarget's default.
const defaultSellerVTRTarget = 0.95

// WithDefaults returns c with every unset value set to its default.
func (c Config) WithDefaults() Config {
	for _, t := range thresholds {
		if v := t.global(&c); *v == 0 {
			*v = t.def
		}
	}
	if c.SellerVTRTarget == 0 {
		c.SellerVTRTarget = defaultSellerVTRTarget
	}
	if c.PostalCarriers == nil {
		c.PostalCarriers = []string{"china-post", "japan-post", "korea-post", "royal-mail", "la-poste", "deutsche-post", "usps-international"}
	}
	if c.SilentDaysExpress == 0 {
		c.SilentDaysExpress = 10
	}
	if c.ExpressCarriers == nil {
		c.ExpressCarriers = []string{"ups", "fedex", "dhl", "dhl-express", "sf-express", "aramex", "yamato", "sagawa"}
	}
	if c.FullRunEvery == 0 {
		c.FullRunEvery = 24 * time.Hour
	}
	if c.ChangeMargin == 0 {
		c.ChangeMargin = 30 * time.Second
	}
	if c.Schedule == "" {
		c.Schedule = "*/5 * * * *"
	}
	if len(c.ReasonLanguages) == 0 {
		c.ReasonLanguages = slices.Clone(ReasonLanguages)
	}
	return c
}

// Validate checks the values, naming the offending key; an unset value stands for its
// default (WithDefaults) and passes.
func (c *Config) Validate() error {
	if c.Shard.Count < 0 || c.Shard.Index < 0 || c.Shard.Index >= max(c.Shard.Count, 1) {
		return fmt.Errorf("shard: %d of %d: the index must be below the count", c.Shard.Index, c.Shard.Count)
	}
	if c.Passes < 0 || c.Passes > 1000 {
		return fmt.Errorf("passes: %d is out of range 0..1000 (0: automatic)", c.Passes)
	}
	if c.FullRunEvery != 0 && c.FullRunEvery < time.Minute {
		return fmt.Errorf("full_run_every: %s is shorter than a minute", c.FullRunEvery)
	}
	for i, l := range c.ReasonLanguages {
		if !slices.Contains(ReasonLanguages, l) {
			return fmt.Errorf("reason_languages[%d]: %q is not one of %s", i, l, strings.Join(ReasonLanguages, ", "))
		}
	}
	if c.Schedule != "" {
		if _, err := cron.ParseStandard(c.Schedule); err != nil {
			return fmt.Errorf("schedule: %q: %w", c.Schedule, err)
		}
	}
	for name, spec := range c.Schedules {
		if !slices.Contains(Names, name) {
			return fmt.Errorf("schedules.%s: unknown detector (detectors: %s)", name, strings.Join(Names, ", "))
		}
		if _, err := cron.ParseStandard(spec); err != nil {
			return fmt.Errorf("schedules.%s: %q: %w", name, spec, err)
		}
	}
	for market, days := range c.Holidays {
		for i, d := range days {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return fmt.Errorf("holidays.%s[%d]: %q is not a date (YYYY-MM-DD)", market, i, d)
			}
		}
	}
	if v := c.SilentDaysExpress; v != 0 && (v < 1 || v > 3650) {
		return fmt.Errorf("silent_days_express: %d is out of range 1..3650", v)
	}
	for _, t := range thresholds {
		if v := *t.global(c); v != 0 && (v < 1 || v > 3650) {
			return fmt.Errorf("%s: %d is out of range 1..3650", t.key, v)
		}
	}
	if v := c.SellerVTRTarget; v < 0 || v > 1 {
		return fmt.Errorf("seller_vtr_target: %g is out of range 0..1 (a share of shipped orders, e.g. 0.95)", v)
	}
	for name, o := range c.ByMarketplace {
		if v := o.SellerVTRTarget; v < 0 || v > 1 {
			return fmt.Errorf("by_marketplace.%s.seller_vtr_target: %g is out of range 0..1 (0 inherits)", name, v)
		}
	}
	for name, o := range c.ByCarrier {
		for _, t := range thresholds {
			if slices.Contains(sellerThresholds, t.key) && *t.override(&o) != 0 {
				return fmt.Errorf("by_carrier.%s.%s: a seller's rate spans its carriers: set it globally or in by_marketplace", name, t.key)
			}
		}
		if o.SellerVTRTarget != 0 {
			return fmt.Errorf("by_carrier.%s.seller_vtr_target: a seller's rate spans its carriers: set it globally or in by_marketplace", name)
		}
	}
	for _, section := range []struct {
		name      string
		overrides map[string]Thresholds
	}{{"by_carrier", c.ByCarrier}, {"by_marketplace", c.ByMarketplace}} {
		for name, o := range section.overrides {
			for _, t := range thresholds {
				if v := *t.override(&o); v < 0 || v > 3650 {
					return fmt.Errorf("%s.%s.%s: %d is out of range 1..3650 (0 inherits)", section.name, name, t.key, v)
				}
			}
		}
	}
	return nil
}

// params are the query parameters of c (defaults filled): each threshold, its overrides
// per carrier and per marketplace, and the other settings the SQL reads.
func (c *Config) params() []any {
	var out []any
	for _, t := range thresholds {
		for suffix, overrides := range map[string]map[string]Thresholds{"_by_carrier": c.ByCarrier, "_by_marketplace": c.ByMarketplace} {
			m := map[string]uint16{}
			for key, o := range overrides {
				if v := *t.override(&o); v > 0 {
					m[key] = uint16(v)
				}
			}
			out = append(out, clickhouse.Named(t.key+suffix, m))
		}
	}
	for _, t := range thresholds {
		out = append(out, clickhouse.Named(t.key, uint16(*t.global(c))))
	}
	targets := map[string]float64{}
	for market, o := range c.ByMarketplace {
		if o.SellerVTRTarget > 0 {
			targets[market] = o.SellerVTRTarget
		}
	}
	out = append(out, clickhouse.Named("seller_vtr_target", c.SellerVTRTarget), clickhouse.Named("seller_vtr_target_by_marketplace", targets))
	holidays := map[string][]string{} // YYYY-MM-DD, as Validate checked: compared with toString(Date)
	for market, days := range c.Holidays {
		holidays[market] = days
	}
	return append(out,
		clickhouse.Named("shard_index", uint32(c.Shard.Index)), clickhouse.Named("shard_count", uint32(max(c.Shard.Count, 1))),
		clickhouse.Named("holidays_by_marketplace", holidays),
		clickhouse.Named("reason_languages", c.ReasonLanguages),
		clickhouse.Named("silent_days_express", uint16(c.SilentDaysExpress)),
		clickhouse.Named("express_carriers", c.ExpressCarriers),
	)
}

// Shard is shard Index (from 0) of Count. On a sharded cluster a number's carrier events
// live on the shard that schemas.ShardingKey picks and every order's events on every
// node, so a run on a shard evaluates the orders whose latest tracking number has
// cityHash64(number) % Count = Index: each order on exactly one shard, with its number's
// events, summaries and other orders at hand. Count 0 or 1: every order.
type Shard struct{ Index, Count int }

// Severity ranks how sure and how urgent a finding is.
type Severity string

// Severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Severities lists the severities, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// Rank orders severities: critical 4, high 3, medium 2, low 1; 0 for an unknown one.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return len(Severities) - i
	}
	return 0
}

// Recommendation is the action a finding recommends to the buyer or an analyst.
type Recommendation string

// Recommendations.
const (
	// RecommendOpenDispute: open a dispute now, reason "not received".
	RecommendOpenDispute Recommendation = "open_dispute"
	// RecommendExtendProtection: the parcel moves but will not arrive before protection ends.
	RecommendExtendProtection Recommendation = "extend_protection"
	// RecommendVerifyCarrier: the number is another carrier's; ask the seller which
	// carrier has the parcel before anything else.
	RecommendVerifyCarrier Recommendation = "verify_carrier"
	// RecommendEscalateDispute: the seller let the dispute's response period pass; ask
	// the platform to step in and decide it.
	RecommendEscalateDispute Recommendation = "escalate_dispute"
	// RecommendContactSupport: a refund due has not arrived (or not in full) within its
	// payment method's window; ask the marketplace's support to check it.
	RecommendContactSupport Recommendation = "contact_support"
	// RecommendReviewSeller: the seller's valid tracking rate is below target; an
	// analyst reviews the seller's account and its orders.
	RecommendReviewSeller Recommendation = "review_seller"
)

// Recommendations lists the recommendations the detectors make.
var Recommendations = []Recommendation{RecommendOpenDispute, RecommendExtendProtection, RecommendVerifyCarrier,
	RecommendEscalateDispute, RecommendContactSupport, RecommendReviewSeller}

// Finding is one flagged order, or for seller_valid_tracking_rate one flagged seller
// (OrderID, TrackingNumber and BuyerID empty).
type Finding struct {
	Detector       string         `ch:"detector" json:"detector"`
	OrderID        string         `ch:"order_id" json:"order_id"`
	TrackingNumber string         `ch:"tracking_number" json:"tracking_number"`
	SellerID       string         `ch:"seller_id" json:"seller_id"`
	BuyerID        string         `ch:"buyer_id" json:"buyer_id"`
	Marketplace    string         `ch:"marketplace" json:"marketplace"`
	Severity       Severity       `ch:"severity" json:"severity"`
	Recommendation Recommendation `ch:"recommendation" json:"recommendation"`
	// Reason is a paragraph a buyer can paste into a dispute, in the first of the
	// configured reason languages; Reasons has it in each of them.
	Reason  string            `ch:"reason" json:"reason"`
	Reasons map[string]string `ch:"reasons" json:"reasons"`
	// Evidence is a JSON object: the carrier timeline, mismatching fields, other orders.
	Evidence         json.RawMessage  `ch:"evidence" json:"evidence"`
	ProtectionEndsAt *time.Time       `ch:"protection_ends_at" json:"protection_ends_at"`
	Amount           *decimal.Decimal `ch:"amount" json:"amount"`
}

// Scan reads a severity from a ClickHouse String column.
func (s *Severity) Scan(src any) error { return scanString(s, src) }

// Scan reads a recommendation from a ClickHouse String column.
func (r *Recommendation) Scan(src any) error { return scanString(r, src) }

// scanString is sql.Scanner for string types: clickhouse-go scans a String column into
// *string or a Scanner, not into other string types.
func scanString[T ~string](dst *T, src any) error {
	switch v := src.(type) {
	case string:
		*dst = T(v)
	case []byte:
		*dst = T(v)
	default:
		return fmt.Errorf("cannot scan %T into %T", src, dst)
	}
	return nil
}

//go:embed sql/run/*.sql
var runFiles embed.FS

// statements are a run's own statements and the fragments the detectors' SQL shares
// (sql/run/*.sql).
var statements = sqlfile.MustParse(runFiles, "sql/run/*.sql", template.FuncMap{
	"order_months_merged":   schemas.OrderMonthsMerged,
	"carrier_months_merged": schemas.CarrierMonthsMerged,
})
