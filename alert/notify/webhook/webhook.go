// Package webhook delivers alert changes to HTTP endpoints the Standard Webhooks way
// (standardwebhooks.com): a JSON body {"type", "timestamp", "data"} and the headers
// webhook-id (the idempotency key, the same on every retry), webhook-timestamp (this
// attempt, Unix seconds) and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>", one per signing secret, space-separated, so a receiver can
// rotate its secret without missing a delivery).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/secret"
)

// Event types of the body.
const (
	TypeFiring   = "alert.firing"   // a change of kind fired or refired
	TypeResolved = "alert.resolved" // a change of kind resolved
	TypeBatch    = "alert.batch"    // several changes (max_alerts > 1)
	// A receiver that groups by case gets one of these per change of a case, with the
	// changes of its alerts.
	TypeCaseOpened   = "case.opened"
	TypeCaseUpdated  = "case.updated"
	TypeCaseResolved = "case.resolved"
)

// CasePayload is the body of a delivery to a receiver that groups by case: the case and
// the changes of its alerts that changed it.
type CasePayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		Case    notify.CaseChange `json:"case"`
		Changes []Payload         `json:"changes"`
	} `json:"data"`
}

// Payload is the body of a delivery of one change.
type Payload struct {
	Type string `json:"type"`
	// Timestamp is when the change happened: the as-of moment of the run that made it.
	Timestamp time.Time `json:"timestamp"`
	// Data is the change: the alert after it, with change_id and kind.
	Data alert.Change `json:"data"`
}

// BatchPayload is the body of a delivery of several changes.
type BatchPayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		Changes []Payload `json:"changes"`
	} `json:"data"`
}

// Notifier posts signed deliveries to one endpoint.
type Notifier struct {
	url     string
	client  *http.Client
	headers http.Header
	keys    [][]byte // signing keys, the current one first
}

// New returns the notifier of a webhook receiver (its config validated).
func New(r notify.ReceiverConfig, client *http.Client) (*Notifier, error) {
	n := &Notifier{url: r.URL.Reveal(), client: client, headers: r.RequestHeaders()}
	for _, s := range []secret.String{r.Secret, r.PreviousSecret} {
		if s == "" {
			continue
		}
		key, err := notify.DecodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("receiver %s: %w", r.Name, err)
		}
		n.keys = append(n.keys, key)
	}
	if len(n.keys) == 0 {
		return nil, fmt.Errorf("receiver %s: no signing secret", r.Name)
	}
	return n, nil
}

// one is the payload of one change.
func one(c alert.Change) Payload {
	t := TypeFiring
	if c.Kind == alert.ChangeResolved {
		t = TypeResolved
	}
	return Payload{Type: t, Timestamp: c.AsOf.UTC(), Data: c}
}

// CaseBody renders the body of a delivery of a case's changes (group_by: case). It
// depends only on the case and the changes, so every retry sends the same bytes.
func CaseBody(cc notify.CaseChange, changes []alert.Change) ([]byte, error) {
	var b CasePayload
	b.Type = "case." + string(cc.Kind)
	b.Data.Case = cc
	for _, c := range changes {
		b.Data.Changes = append(b.Data.Changes, one(c))
		if c.AsOf.After(b.Timestamp) {
			b.Timestamp = c.AsOf.UTC()
		}
	}
	return json.Marshal(b)
}

// Body renders the body of a delivery. It depends only on the changes, so every retry
// sends the same bytes.
func Body(changes []alert.Change) ([]byte, error) {
	if len(changes) == 1 {
		return json.Marshal(one(changes[0]))
	}
	var b BatchPayload
	b.Type = TypeBatch
	for _, c := range changes {
		b.Data.Changes = append(b.Data.Changes, one(c))
		if c.AsOf.After(b.Timestamp) {
			b.Timestamp = c.AsOf.UTC()
		}
	}
	return json.Marshal(b)
}

// Sign returns the webhook-signature header for id, timestamp and body: one
// "v1,<signature>" per key, space-separated.
func Sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		h.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return strings.Join(sigs, " ")
}

// Notify posts the delivery, signed.
func (n *Notifier) Notify(ctx context.Context, d notify.Delivery) error {
	body, err := Body(d.Changes)
	if d.Case != nil {
		body, err = CaseBody(*d.Case, d.Changes)
	}
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	h := n.headers.Clone()
	h.Set("webhook-id", d.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(d.Now.Unix(), 10))
	h.Set("webhook-signature", Sign(n.keys, d.ID, d.Now, body))
	return notify.Post(ctx, n.client, n.url, h, body)
}
