// Package alertmanager delivers alert changes to a Prometheus Alertmanager through its
// v2 API (POST /api/v2/alerts), the way Prometheus does: a firing alert is posted with
// an endsAt a few resend intervals ahead and posted again before then (Resend), and a
// resolved alert with its resolution time as endsAt. If trackwatch stops resending,
// Alertmanager resolves the alerts on its own rather than keeping them firing forever.
//
// Alertmanager's alerts are identified by their labels: the labels are the alert's
// identity and routing keys (detector, order, tracking number, severity, ...), the
// annotations its text. Alertmanager then groups, silences and routes them as usual.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
)

// lifetimeResends is how many resend intervals a firing alert stays firing in
// Alertmanager without being posted again; Prometheus uses 4, enough to ride out a few
// failed resends before Alertmanager resolves the alert by itself.
const lifetimeResends = 4

// Notifier posts alerts to one Alertmanager.
type Notifier struct {
	url       string // <base>/api/v2/alerts
	headers   http.Header
	client    *http.Client
	alertURL  func(alertID string) string
	lifetime  time.Duration
	maxAlerts int
	// byCase (group_by: case) labels every alert with its case_id, so that a route
	// with group_by: [case_id] makes one notification of a case's alerts.
	byCase bool
}

// New returns a Notifier for the receiver r, whose URL is the Alertmanager's base URL
// (http://alertmanager:9093). alertURL links each alert back to trackwatch (its
// generatorURL); client is usually r.HTTPClient().
func New(r notify.ReceiverConfig, alertURL func(alertID string) string, client *http.Client) *Notifier {
	n := &Notifier{
		url:       strings.TrimRight(r.URL.Reveal(), "/") + "/api/v2/alerts",
		headers:   r.RequestHeaders(),
		client:    client,
		alertURL:  alertURL,
		lifetime:  lifetimeResends * r.ResendInterval,
		maxAlerts: r.MaxAlerts,
		byCase:    r.GroupBy == notify.GroupByCase,
	}
	// A config that skipped Validate still gets the documented defaults rather than
	// alerts that expire at once or a resend that never ends.
	if n.lifetime <= 0 {
		n.lifetime = lifetimeResends * time.Minute
	}
	if n.maxAlerts < 1 {
		n.maxAlerts = 64
	}
	return n
}

// Notify posts the delivery's changes, one Alertmanager alert each, in one request. A
// firing change stays firing for a few resend intervals from d.Now; a resolved change
// ends at its resolution.
func (n *Notifier) Notify(ctx context.Context, d notify.Delivery) error {
	out := make([]postableAlert, 0, len(d.Changes))
	for _, c := range d.Changes {
		endsAt := d.Now.Add(n.lifetime)
		if c.Kind == alert.ChangeResolved || c.Status == alert.StatusResolved {
			endsAt = d.Now
			if c.ResolvedAt != nil {
				endsAt = *c.ResolvedAt
			}
		}
		out = append(out, n.postable(c.Alert, endsAt))
	}
	if len(out) == 0 {
		return nil
	}
	return n.post(ctx, out)
}

// Resend posts firing alerts again as of now, MaxAlerts per request, so that
// Alertmanager keeps them firing: call it every resend interval with the alerts that
// are firing. Alerts that are not firing are skipped: posting them with a future endsAt
// would fire them again. A failed request does not stop the others; the errors are
// joined.
func (n *Notifier) Resend(ctx context.Context, alerts []alert.Alert, now time.Time) error {
	var out []postableAlert
	for _, a := range alerts {
		if a.Status == alert.StatusFiring {
			out = append(out, n.postable(a, now.Add(n.lifetime)))
		}
	}
	var errs []error
	for start := 0; start < len(out); start += n.maxAlerts {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		errs = append(errs, n.post(ctx, out[start:min(start+n.maxAlerts, len(out))]))
	}
	return errors.Join(errs...)
}

// caseID is an alert's case_id label: "" (no label) unless the receiver groups by case.
func (n *Notifier) caseID(a alert.Alert) string {
	if !n.byCase {
		return ""
	}
	return alert.CaseID(a.Marketplace, a.OrderID, a.SellerID)
}

// postableAlert is an alert as Alertmanager's v2 API takes it (models.PostableAlert).
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// postable maps an alert to Alertmanager's, ending at endsAt. Notify and Resend share it
// so that a resent alert has exactly the labels of the first post: a different label set
// would be a different alert to Alertmanager.
func (n *Notifier) postable(a alert.Alert, endsAt time.Time) postableAlert {
	labels := map[string]string{}
	for name, v := range map[string]string{
		"alertname":       a.Detector,
		"severity":        string(a.Severity),
		"marketplace":     a.Marketplace,
		"seller_id":       a.SellerID,
		"order_id":        a.OrderID,
		"tracking_number": a.TrackingNumber,
		"recommendation":  string(a.Recommendation),
		"case_id":         n.caseID(a),
	} {
		// Alertmanager drops empty label values on arrival; leaving them out ourselves
		// keeps what we send and what it stores the same.
		if v != "" {
			labels[name] = v
		}
	}
	summary := fmt.Sprintf("%s: order %s, tracking %s", a.Detector, a.OrderID, a.TrackingNumber)
	if a.OrderID == "" { // a seller's alert: the seller_id label, no order_id
		summary = fmt.Sprintf("%s: seller %s on %s", a.Detector, a.SellerID, a.Marketplace)
	}
	if a.Recommendation != "" {
		summary += ": " + string(a.Recommendation)
	}
	annotations := map[string]string{"summary": summary, "alert_id": a.AlertID}
	if a.Reason != "" {
		annotations["reason"] = a.Reason
	}
	if a.ProtectionEndsAt != nil {
		annotations["protection_ends_at"] = a.ProtectionEndsAt.UTC().Format(time.RFC3339)
	}
	if a.Amount != nil {
		annotations["amount"] = a.Amount.String()
	}
	// Alertmanager rejects the whole request (400, which no retry fixes) if an alert
	// ends before it starts, as a resolution time skewed between instances could.
	if endsAt.Before(a.FirstDetectedAt) {
		endsAt = a.FirstDetectedAt
	}
	pa := postableAlert{Labels: labels, Annotations: annotations, StartsAt: a.FirstDetectedAt.UTC(), EndsAt: endsAt.UTC()}
	if n.alertURL != nil {
		pa.GeneratorURL = n.alertURL(a.AlertID)
	}
	return pa
}

func (n *Notifier) post(ctx context.Context, alerts []postableAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	return notify.Post(ctx, n.client, n.url, n.headers, body)
}
