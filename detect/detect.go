// Package detect provides trackwatch's detectors: SQL evaluated in ClickHouse as of a
// given moment, each flagging orders whose tracking number is fake or misused, with a
// recommended action and evidence; and the recording of their findings as alerts.
//
// Time is an argument: Eval(ctx, conn, asOf) sees only events that occurred at or before
// asOf, so the same code serves the schedule (asOf = now), re-runs of the past, and tests
// with fixed times. The work happens in ClickHouse; Go only receives the findings.
package detect

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Names are the detectors' public identifiers, used in alerts, config and metrics.
var Names = []string{"invalid_tracking_number", "never_scanned", "stalled_eir", "scan_before_order",
	"tracking_reuse", "destination_mismatch", "protection_expiry"}

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
	// PostalCarriers are carrier slugs whose numbers must be UPU S10.
	PostalCarriers []string `yaml:"postal_carriers"`
	// ByCarrier and ByMarketplace override thresholds for one carrier slug or one
	// marketplace; a carrier's override wins over a marketplace's, which wins over the
	// global value. Zero fields inherit. YAML only, e.g.
	//   by_carrier: {ups: {stalled_days: 3}}
	//   by_marketplace: {amazon: {default_protection_days: 30}}
	ByCarrier     map[string]Thresholds `yaml:"by_carrier"`
	ByMarketplace map[string]Thresholds `yaml:"by_marketplace"`
	// Schedule is the standard 5-field cron spec, in UTC, on which `trackwatch run`
	// evaluates every detector. Default "*/5 * * * *".
	Schedule string `yaml:"schedule"`
	// Schedules overrides Schedule per detector, e.g. {stalled_eir: "0 * * * *"}.
	Schedules map[string]string `yaml:"schedules"`
}

// Thresholds are the per-carrier or per-marketplace overrides; zero inherits.
type Thresholds struct {
	DefaultProtectionDays    int `yaml:"default_protection_days"`
	StalledDays              int `yaml:"stalled_days"`
	NeverScannedWorkingDays  int `yaml:"never_scanned_working_days"`
	ScanBeforeOrderSlackDays int `yaml:"scan_before_order_slack_days"`
	RecycleMonths            int `yaml:"recycle_months"`
	ExpiryWindowDays         int `yaml:"expiry_window_days"`
}

func (t Thresholds) values() map[string]int {
	return map[string]int{"default_protection_days": t.DefaultProtectionDays, "stalled_days": t.StalledDays,
		"never_scanned_working_days": t.NeverScannedWorkingDays, "scan_before_order_slack_days": t.ScanBeforeOrderSlackDays,
		"recycle_months": t.RecycleMonths, "expiry_window_days": t.ExpiryWindowDays}
}

// thresholdNames are the thresholds that can be overridden per carrier and marketplace.
var thresholdNames = []string{"default_protection_days", "stalled_days", "never_scanned_working_days",
	"scan_before_order_slack_days", "recycle_months", "expiry_window_days"}

// Validate fills defaults and checks the values, naming the offending key.
func (c *Config) Validate() error {
	if c.DefaultProtectionDays == 0 {
		c.DefaultProtectionDays = 60
	}
	if c.StalledDays == 0 {
		c.StalledDays = 7
	}
	if c.NeverScannedWorkingDays == 0 {
		c.NeverScannedWorkingDays = 5
	}
	if c.PostalCarriers == nil {
		c.PostalCarriers = []string{"china-post", "japan-post", "korea-post", "royal-mail", "la-poste", "deutsche-post", "usps-international"}
	}
	if c.ScanBeforeOrderSlackDays == 0 {
		c.ScanBeforeOrderSlackDays = 1
	}
	if c.RecycleMonths == 0 {
		c.RecycleMonths = 12
	}
	if c.ExpiryWindowDays == 0 {
		c.ExpiryWindowDays = 7
	}
	if c.Schedule == "" {
		c.Schedule = "*/5 * * * *"
	}
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		return fmt.Errorf("schedule: %q: %w", c.Schedule, err)
	}
	for name, spec := range c.Schedules {
		if !slices.Contains(Names, name) {
			return fmt.Errorf("schedules.%s: unknown detector (detectors: %s)", name, strings.Join(Names, ", "))
		}
		if _, err := cron.ParseStandard(spec); err != nil {
			return fmt.Errorf("schedules.%s: %q: %w", name, spec, err)
		}
	}
	global := Thresholds{c.DefaultProtectionDays, c.StalledDays, c.NeverScannedWorkingDays, c.ScanBeforeOrderSlackDays, c.RecycleMonths, c.ExpiryWindowDays}
	for key, v := range global.values() {
		if v < 1 || v > 3650 {
			return fmt.Errorf("%s: %d is out of range 1..3650", key, v)
		}
	}
	for section, overrides := range map[string]map[string]Thresholds{"by_carrier": c.ByCarrier, "by_marketplace": c.ByMarketplace} {
		for name, t := range overrides {
			for key, v := range t.values() {
				if v < 0 || v > 3650 {
					return fmt.Errorf("%s.%s.%s: %d is out of range 1..3650 (0 inherits)", section, name, key, v)
				}
			}
		}
	}
	return nil
}

func (c *Config) params() []any {
	var out []any
	for _, name := range thresholdNames {
		for suffix, overrides := range map[string]map[string]Thresholds{"_by_carrier": c.ByCarrier, "_by_marketplace": c.ByMarketplace} {
			m := map[string]uint16{}
			for key, t := range overrides {
				if v := t.values()[name]; v > 0 {
					m[key] = uint16(v)
				}
			}
			out = append(out, clickhouse.Named(name+suffix, m))
		}
	}
	return append(out,
		clickhouse.Named("default_protection_days", uint16(c.DefaultProtectionDays)),
		clickhouse.Named("stalled_days", uint16(c.StalledDays)),
		clickhouse.Named("never_scanned_working_days", uint16(c.NeverScannedWorkingDays)),
		clickhouse.Named("postal_carriers", c.PostalCarriers),
		clickhouse.Named("scan_before_order_slack_days", uint16(c.ScanBeforeOrderSlackDays)),
		clickhouse.Named("recycle_months", uint16(c.RecycleMonths)),
		clickhouse.Named("expiry_window_days", uint16(c.ExpiryWindowDays)),
	)
}

// Finding is one flagged order.
type Finding struct {
	OrderID          string           `ch:"order_id" json:"order_id"`
	TrackingNumber   string           `ch:"tracking_number" json:"tracking_number"`
	SellerID         string           `ch:"seller_id" json:"seller_id"`
	BuyerID          string           `ch:"buyer_id" json:"buyer_id"`
	Marketplace      string           `ch:"marketplace" json:"marketplace"`
	Severity         string           `ch:"severity" json:"severity"`
	Recommendation   string           `ch:"recommendation" json:"recommendation"`
	Reason           string           `ch:"reason" json:"reason"`
	Evidence         string           `ch:"evidence" json:"evidence"`
	ProtectionEndsAt *time.Time       `ch:"protection_ends_at" json:"protection_ends_at"`
	Amount           *decimal.Decimal `ch:"amount" json:"amount"`
}

// Detector is one named detector rendered for a database.
type Detector struct {
	Name     string
	db       string
	findings string // WITH ... findings AS (...): the detector's query with the shared CTEs
}

// New returns the detector called name for database db.
func New(name, db string) (*Detector, error) {
	if !slices.Contains(Names, name) {
		return nil, fmt.Errorf("unknown detector %q (detectors: %s)", name, strings.Join(Names, ", "))
	}
	common, err := render("common.sql", db)
	if err != nil {
		return nil, err
	}
	body, err := render(name+".sql", db)
	if err != nil {
		return nil, err
	}
	return &Detector{Name: name, db: db, findings: "WITH " + common + ",\nfindings AS (\n" + body + "\n)\n"}, nil
}

// All returns every detector for db.
func All(db string) ([]*Detector, error) {
	var out []*Detector
	for _, n := range Names {
		d, err := New(n, db)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func render(file, db string) (string, error) {
	b, err := sqlFiles.ReadFile("sql/" + file)
	if err != nil {
		return "", err
	}
	// th renders a threshold for a row: the carrier's override, else the marketplace's,
	// else the global value, all passed as query parameters.
	th := func(name, carrier, marketplace string) string {
		c := "{" + name + "_by_carrier:Map(String, UInt16)}"
		m := "{" + name + "_by_marketplace:Map(String, UInt16)}"
		return fmt.Sprintf("multiIf(mapContains(%[1]s, %[2]s), %[1]s[%[2]s], mapContains(%[3]s, %[4]s), %[3]s[%[4]s], {%[5]s:UInt16})", c, carrier, m, marketplace, name)
	}
	t, err := template.New(file).Funcs(template.FuncMap{"th": th}).Parse(string(b))
	if err != nil {
		return "", fmt.Errorf("detector sql %s: %w", file, err)
	}
	var sb strings.Builder
	if err := t.Execute(&sb, struct{ DB string }{"`" + db + "`"}); err != nil {
		return "", err
	}
	// Comments would swallow the rest of a line once statements are joined; drop them.
	var lines []string
	for _, l := range strings.Split(sb.String(), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// queryContext makes column names win over same-named aliases in the detectors' SQL
// (argMax(seller_id, ...) AS seller_id must not capture seller_id elsewhere).
func queryContext(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"prefer_column_name_to_alias": 1}))
}

func (d *Detector) args(cfg Config, asOf time.Time, extra ...any) []any {
	return append(append(cfg.params(), clickhouse.Named("as_of", asOf.UTC()), clickhouse.Named("detector", d.Name)), extra...)
}

// Eval returns the orders the detector flags as of asOf, ordered by order id. The same
// data and moment always give the same findings.
func (d *Detector) Eval(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) ([]Finding, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var out []Finding
	q := d.findings + "SELECT * FROM findings ORDER BY order_id, tracking_number"
	if err := conn.Select(queryContext(ctx), &out, q, d.args(cfg, asOf)...); err != nil {
		return nil, fmt.Errorf("detector %s: %w", d.Name, err)
	}
	return out, nil
}

const alertColumns = "alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, " +
	"reason, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, updated_at"

// Record evaluates the detector as of asOf inside ClickHouse and writes its alerts: every
// finding fires (keeping the first detection time of an alert already firing), and every
// alert of this detector still firing but not found now is resolved at asOf. alert_id is
// derived from (detector, order, tracking number), so several instances or re-runs
// write the same rows, which the table collapses. It returns how many alerts fire.
func (d *Detector) Record(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	fire := "INSERT INTO `" + d.db + "`.alerts (" + alertColumns + ")\n" + d.findings +
		", prev AS (SELECT alert_id, status, first_detected_at FROM `" + d.db + "`.alerts FINAL WHERE detector = {detector:String})\n" +
		"SELECT lower(hex(sipHash128({detector:String}, f.order_id, f.tracking_number))) AS id, {detector:String}, " +
		"f.order_id, f.tracking_number, f.seller_id, f.buyer_id, f.marketplace, f.severity, f.recommendation, f.reason, f.evidence, " +
		"f.protection_ends_at, f.amount, if(p.status = 'firing', p.first_detected_at, {as_of:DateTime64(3, 'UTC')}), " +
		"{as_of:DateTime64(3, 'UTC')}, 'firing', NULL, now64(3)\n" +
		"FROM findings AS f LEFT JOIN prev AS p ON p.alert_id = lower(hex(sipHash128({detector:String}, f.order_id, f.tracking_number)))"
	if err := conn.Exec(queryContext(ctx), fire, d.args(cfg, asOf)...); err != nil {
		return 0, fmt.Errorf("detector %s: record findings: %w", d.Name, err)
	}
	resolve := "INSERT INTO `" + d.db + "`.alerts (" + alertColumns + ")\n" +
		"SELECT alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, evidence, " +
		"protection_ends_at, amount, first_detected_at, last_detected_at, 'resolved', {as_of:DateTime64(3, 'UTC')}, now64(3)\n" +
		"FROM `" + d.db + "`.alerts FINAL WHERE detector = {detector:String} AND status = 'firing' AND last_detected_at < {as_of:DateTime64(3, 'UTC')}"
	if err := conn.Exec(queryContext(ctx), resolve, d.args(cfg, asOf)...); err != nil {
		return 0, fmt.Errorf("detector %s: resolve alerts: %w", d.Name, err)
	}
	var firing uint64
	count := "SELECT count() FROM `" + d.db + "`.alerts FINAL WHERE detector = {detector:String} AND status = 'firing' AND last_detected_at = {as_of:DateTime64(3, 'UTC')}"
	if err := conn.QueryRow(ctx, count, d.args(cfg, asOf)...).Scan(&firing); err != nil {
		return 0, fmt.Errorf("detector %s: count alerts: %w", d.Name, err)
	}
	return int(firing), nil
}
