// Package notify delivers alert changes to receivers: webhooks signed the Standard
// Webhooks way, a Prometheus Alertmanager, Slack. Changes come from the alert store's
// change log (the outbox), so a delivery survives restarts; a Dispatcher retries each
// change until it is delivered or too old, one receiver never delaying another, and
// several trackwatch instances deliver each change once between them.
//
// A receiver type is a Notifier, one small package each (webhook, alertmanager, slack),
// like Alertmanager's notify/<integration> packages. Only the Dispatcher retries.
package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/alert"
)

// Delivery is one request's worth of changes for one receiver.
type Delivery struct {
	// ID is the delivery's idempotency key (the webhook-id): the change's id for a
	// single change, derived from the change ids for a batch. A retry carries the same.
	ID      string
	Changes []alert.Change
	// Attempt is 1 for the first try of these changes, then 2, 3, ...
	Attempt int
	// Now is the moment of this attempt.
	Now time.Time
	// Case is set for a receiver that groups by case (group_by: case): the case the
	// changes are all of, and how they change it.
	Case *CaseChange
}

// DeliveryID is the idempotency key of a delivery of changes: the change id of one, and
// for several a hash of their ids in order.
func DeliveryID(changes []alert.Change) string {
	if len(changes) == 1 {
		return changes[0].ChangeID
	}
	h := sha256.New()
	for _, c := range changes {
		h.Write([]byte(c.ChangeID))
		h.Write([]byte{0})
	}
	return "batch_" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Notifier sends deliveries to one receiver. It returns nil once the receiver has
// accepted the delivery; otherwise an error, which the Dispatcher classifies with
// errors.As into *HTTPError (status, Retry-After, 410 Gone) or a network failure, and
// retries. A Notifier does not retry by itself.
type Notifier interface {
	Notify(ctx context.Context, d Delivery) error
}

// HTTPError is a receiver's answer other than 2xx.
type HTTPError struct {
	StatusCode int
	// RetryAfter is the receiver's Retry-After (on 429 and 503), zero when absent.
	RetryAfter time.Duration
	// Body is the start of the answer, for the delivery log.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("receiver answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Gone reports whether the receiver said it is gone for good (410): the Dispatcher
// disables it.
func (e *HTTPError) Gone() bool { return e.StatusCode == http.StatusGone }

// Post sends body to url with headers and classifies the answer: nil for 2xx (3xx
// redirects are not followed: they are an error), *HTTPError for any other status,
// the transport's error when there was no answer.
func Post(ctx context.Context, client *http.Client, url string, headers http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", redactURL(err))
	}
	for k, vs := range headers {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	he := &HTTPError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(snippet), ""))}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		he.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return he
}

// retryAfter parses Retry-After: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactURL drops the URL from a transport error: a receiver's URL may hold a secret
// (a Slack webhook's path is one).
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
