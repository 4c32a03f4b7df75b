package slack_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/notifytest"
	"github.com/trackwatch/trackwatch/alert/notify/slack"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/secret"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func alertURL(id string) string { return "https://trackwatch.example/api/v1/alerts/" + id }

func change(kind alert.ChangeKind, order string) alert.Change {
	ends := t0.Add(9 * 24 * time.Hour)
	amount := decimal.RequireFromString("129.90")
	status := alert.StatusFiring
	if kind == alert.ChangeResolved {
		status = alert.StatusResolved
	}
	return alert.Change{ChangeID: "ch_" + order, Kind: kind, CreatedAt: t0, Alert: alert.Alert{
		AlertID: "al_" + order,
		Finding: detect.Finding{
			Detector: "stalled_eir", OrderID: order, TrackingNumber: "RR123456785CN",
			SellerID: "seller-7", BuyerID: "buyer-3", Marketplace: "aliexpress",
			Severity: detect.SeverityHigh, Recommendation: detect.RecommendOpenDispute,
			Reason:           "Only electronic information received for 9 days.",
			Evidence:         json.RawMessage(`{}`),
			ProtectionEndsAt: &ends, Amount: &amount,
		},
		FirstDetectedAt: t0.Add(-time.Hour), LastDetectedAt: t0, Status: status, AsOf: t0,
	}}
}

// Slack's message as the tests read it.
type message struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
		Elements []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
			URL string `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func (m message) types() []string {
	var out []string
	for _, b := range m.Blocks {
		out = append(out, b.Type)
	}
	return out
}

// post delivers changes to a stand-in for Slack answering status and returns the request
// it saw.
func post(t *testing.T, status int, header http.Header, changes ...alert.Change) (*http.Request, []byte, error) {
	t.Helper()
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	r := notify.ReceiverConfig{Name: "slack", Type: notify.TypeSlack, URL: secret.String(srv.URL + "/services/T000/B000/XXXX"), MaxAlerts: 1}
	err := slack.New(r, alertURL, srv.Client()).Notify(t.Context(), notify.Delivery{
		ID: notify.DeliveryID(changes), Changes: changes, Attempt: 1, Now: t0})
	return got, body, err
}

func decode(t *testing.T, body []byte) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return m
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAFiredChangeIsABlockKitMessageWithAButtonToTheAlert(t *testing.T) {
	req, body, err := post(t, http.StatusOK, nil, change(alert.ChangeFired, "O-1"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/services/T000/B000/XXXX" {
		t.Errorf("request %s %s, want a POST to the webhook URL", req.Method, req.URL.Path)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	notifytest.GoldenJSON(t, "fired.json", body)

	m := decode(t, body)
	if want := ":rotating_light: stalled_eir fired for order O-1 (tracking RR123456785CN): open dispute"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
	if got, want := m.types(), []string{"header", "section", "section", "actions"}; !slices.Equal(got, want) {
		t.Fatalf("blocks %v, want %v", got, want)
	}
	var fields []string
	for _, f := range m.Blocks[1].Fields {
		fields = append(fields, f.Text)
	}
	for _, want := range []string{"*Detector*\nstalled_eir", "*Order*\nO-1", "*Tracking number*\nRR123456785CN",
		"*Recommendation*\nopen dispute", "*Severity*\nhigh", "*Seller*\nseller-7",
		"*Protection ends*\n<!date^1773921600^{date_short_pretty} {time}|2026-03-19 12:00 UTC>"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no field %q in %q", want, fields)
		}
	}
	if got := m.Blocks[2].Text.Text; got != "Only electronic information received for 9 days." {
		t.Errorf("reason section %q", got)
	}
	button := m.Blocks[3].Elements[0]
	if button.Type != "button" || button.Text.Text != "Open alert" || button.URL != alertURL("al_O-1") {
		t.Errorf("button %+v, want Open alert to %s", button, alertURL("al_O-1"))
	}
}

func TestAResolvedChangeSaysSo(t *testing.T) {
	_, body, err := post(t, http.StatusOK, nil, change(alert.ChangeResolved, "O-1"))
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if want := ":white_check_mark: stalled_eir resolved for order O-1 (tracking RR123456785CN)"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
	if want := ":white_check_mark: stalled_eir resolved: order O-1"; m.Blocks[0].Text.Text != want {
		t.Errorf("header %q, want %q", m.Blocks[0].Text.Text, want)
	}
}

func TestTheReasonIsEscapedAndCutToSlacksSectionLimit(t *testing.T) {
	for name, reason := range map[string]string{
		"long text":              "<!channel> & " + strings.Repeat("é", 5000),
		"cut inside an escape":   strings.Repeat("x", 2997) + "&&&&",
		"exactly at the limit":   strings.Repeat("x", 2995) + "&",
		"mentions and links too": "<!here> see <https://evil.example|this>",
	} {
		c := change(alert.ChangeFired, "O-1")
		c.Reason = reason
		_, body, err := post(t, http.StatusOK, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		got := decode(t, body).Blocks[2].Text.Text
		if n := utf8.RuneCountInString(got); n > 3000 {
			t.Errorf("%s: %d characters, over Slack's 3000", name, n)
		}
		if strings.ContainsAny(got, "<>") {
			t.Errorf("%s: unescaped < or > in %q", name, tail(got))
		}
		// Every & starts a whole escape: none cut in half.
		if strings.Count(got, "&") != strings.Count(got, "&amp;")+strings.Count(got, "&lt;")+strings.Count(got, "&gt;") {
			t.Errorf("%s: a cut escape at the end of %q", name, tail(got))
		}
		if cut := utf8.RuneCountInString(reason) > 3000 || strings.Contains(name, "cut"); cut != strings.HasSuffix(got, "…") {
			t.Errorf("%s: cut %v, but the text ends %q", name, cut, tail(got))
		}
	}
}

func TestManyChangesStayUnderSlacks50Blocks(t *testing.T) {
	for _, n := range []int{1, 2, 10, 11, 60} {
		var changes []alert.Change
		for i := range n {
			changes = append(changes, change(alert.ChangeFired, fmt.Sprintf("O-%d", i)))
		}
		_, body, err := post(t, http.StatusOK, nil, changes...)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, body)
		if len(m.Blocks) > 50 {
			t.Errorf("%d changes: %d blocks, over Slack's 50", n, len(m.Blocks))
		}
		headers := 0
		for _, typ := range m.types() {
			if typ == "header" {
				headers++
			}
		}
		wantFull := min(n, 10)
		if n > 10 {
			wantFull = 9
		}
		if headers != wantFull {
			t.Errorf("%d changes: %d in full, want %d", n, headers, wantFull)
		}
		if n > wantFull {
			last := m.Blocks[len(m.Blocks)-1].Text.Text
			if utf8.RuneCountInString(last) > 3000 {
				t.Errorf("%d changes: the list of the rest is over Slack's 3000 characters", n)
			}
			if !strings.HasPrefix(last, fmt.Sprintf("and %d more:\n", n-wantFull)) || wholeLines(last) != n-wantFull {
				t.Errorf("%d changes: the rest listed as %q", n, last)
			}
		}
		if got := wholeLines(m.Text); got != n || utf8.RuneCountInString(m.Text) > 4000 {
			t.Errorf("%d changes: fallback text of %d characters names %d changes:\n%s", n, utf8.RuneCountInString(m.Text), got, m.Text)
		}
	}
}

// tail is the end of s, for messages.
func tail(s string) string {
	r := []rune(s)
	return string(r[max(0, len(r)-20):])
}

// wholeLines counts the changes a list names: its whole lines, and those it says it
// left out ("…and 12 more").
func wholeLines(list string) int {
	n := 0
	for _, l := range strings.Split(list, "\n") {
		var more int
		if strings.HasSuffix(l, ": open dispute") {
			n++
		} else if _, err := fmt.Sscanf(l, "…and %d more", &more); err == nil {
			n += more
		}
	}
	return n
}

func TestA429IsAnHTTPErrorWithRetryAfter(t *testing.T) {
	_, _, err := post(t, http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}, change(alert.ChangeFired, "O-1"))
	var he *notify.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTooManyRequests || he.RetryAfter != 30*time.Second {
		t.Errorf("error %#v, want *notify.HTTPError 429 with RetryAfter 30s", err)
	}
}

func TestASellersAlertNamesTheSeller(t *testing.T) {
	c := change(alert.ChangeFired, "")
	c.Detector, c.TrackingNumber, c.BuyerID, c.Recommendation = detect.SellerValidTrackingRate, "", "", detect.RecommendReviewSeller
	c.ProtectionEndsAt, c.Amount = nil, nil
	_, body, err := post(t, http.StatusOK, nil, c)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, body)
	if want := ":rotating_light: seller_valid_tracking_rate fired for seller seller-7 on aliexpress: review seller"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
	if want := ":rotating_light: seller_valid_tracking_rate fired: seller seller-7"; m.Blocks[0].Text.Text != want {
		t.Errorf("header %q, want %q", m.Blocks[0].Text.Text, want)
	}
	for _, f := range m.Blocks[1].Fields {
		if strings.HasPrefix(f.Text, "*Order*") || strings.HasPrefix(f.Text, "*Tracking number*") {
			t.Errorf("a seller's alert has the field %q", f.Text)
		}
	}
}
