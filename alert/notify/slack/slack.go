// Package slack delivers alert changes to a Slack incoming webhook as Block Kit
// messages: per change a header, the facts as fields, the reason a buyer can paste into
// a dispute, and a button to the alert in trackwatch; and a plain-text fallback that
// Slack shows in notifications.
//
// Slack rejects a whole message that breaks one of its limits (invalid_blocks, a 400 no
// retry fixes), so every text is cut to its limit here rather than hoping it fits.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
)

// Slack's limits (api.slack.com/reference/block-kit), in characters.
const (
	maxBlocks      = 50
	maxHeader      = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFieldValue  = maxFieldText - 100 // room for the field's name
	maxURL         = 3000
	maxFallback    = 4000 // Slack truncates at 40,000; notifications show far less
)

// A change takes at most blocksPerChange blocks (header, fields, reason, button) and a
// divider before it, so ten changes fit in a message. The dispatcher sizes deliveries
// with max_alerts; a larger delivery gets its first changes in full and a line each for
// the rest, rather than a message Slack refuses.
const (
	blocksPerChange = 4
	fullChanges     = (maxBlocks + 1) / (blocksPerChange + 1)
)

// Notifier posts messages to one incoming webhook.
type Notifier struct {
	url      string
	headers  http.Header
	client   *http.Client
	alertURL func(alertID string) string
}

// New returns a Notifier for the receiver r, whose URL is the incoming-webhook URL.
// alertURL links each alert's button to trackwatch; client is usually r.HTTPClient().
func New(r notify.ReceiverConfig, alertURL func(alertID string) string, client *http.Client) *Notifier {
	return &Notifier{url: r.URL.Reveal(), headers: r.RequestHeaders(), client: client, alertURL: alertURL}
}

// Notify posts the delivery's changes as one message.
func (n *Notifier) Notify(ctx context.Context, d notify.Delivery) error {
	m := n.message(d.Changes)
	if c := d.Case; c != nil { // group_by: case: the case first
		head := caseLine(*c)
		m.Text = esc(head, 300) + "\n" + m.Text
		if r := []rune(head); len(r) > 150 { // a header's plain text holds 150 characters
			head = string(r[:149]) + "…"
		}
		m.Blocks = append([]block{{Type: "header", Text: &text{Type: "plain_text", Text: head}}}, m.Blocks...)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	return notify.Post(ctx, n.client, n.url, n.headers, body)
}

// caseLine says how a delivery changes its case: "Case opened: order o1 (2 alerts, 2
// firing)".
func caseLine(c notify.CaseChange) string {
	what := "order " + c.OrderID
	if c.OrderID == "" {
		what = "seller " + c.SellerID
	}
	return fmt.Sprintf("Case %s: %s (%d alerts, %d firing)", c.Kind, what, c.Signals, c.Firing)
}

type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string    `json:"type"`
	Text     *text     `json:"text,omitempty"`
	Fields   []text    `json:"fields,omitempty"`
	Elements []element `json:"elements,omitempty"`
}

type text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type element struct {
	Type string `json:"type"` // button
	Text text   `json:"text"`
	URL  string `json:"url"`
}

func (n *Notifier) message(changes []alert.Change) message {
	var m message
	lines := make([]string, len(changes))
	full := len(changes)
	if full > fullChanges {
		full = fullChanges - 1 // room for the list of the others
	}
	for i, c := range changes {
		lines[i] = line(c)
		if i < full {
			if i > 0 {
				m.Blocks = append(m.Blocks, block{Type: "divider"})
			}
			m.Blocks = append(m.Blocks, n.blocks(c)...)
		}
	}
	if rest := lines[full:]; len(rest) > 0 {
		head := fmt.Sprintf("and %d more:\n", len(rest))
		m.Blocks = append(m.Blocks, block{Type: "divider"},
			block{Type: "section", Text: &text{Type: "mrkdwn", Text: head + joinLines(rest, maxSectionText-len(head))}})
	}
	m.Text = joinLines(lines, maxFallback)
	return m
}

// joinLines escapes lines and joins as many whole ones as fit in max characters, saying
// how many it left out.
func joinLines(lines []string, max int) string {
	const reserve = 32 // for "\n…and 1000 more"
	var b strings.Builder
	n := 0
	for i, l := range lines {
		l = esc(l, max-reserve)
		w := utf8.RuneCountInString(l) + 1
		if n+w > max-reserve && i > 0 {
			fmt.Fprintf(&b, "\n…and %d more", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		n += w
	}
	return b.String()
}

// line is a change in one line of mrkdwn, for the fallback text.
func line(c alert.Change) string {
	s := fmt.Sprintf("%s %s %s for %s", emoji(c), c.Detector, verb(c), c.Subject())
	if c.Kind != alert.ChangeResolved && c.Recommendation != "" {
		s += ": " + humanize(string(c.Recommendation))
	}
	return s
}

// blocks renders one change in at most blocksPerChange blocks.
func (n *Notifier) blocks(c alert.Change) []block {
	header := fmt.Sprintf("%s %s %s: order %s", emoji(c), c.Detector, verb(c), c.OrderID)
	if c.OrderID == "" { // a seller's alert
		header = fmt.Sprintf("%s %s %s: seller %s", emoji(c), c.Detector, verb(c), c.SellerID)
	}
	out := []block{{Type: "header", Text: &text{Type: "plain_text", Text: truncate(header, maxHeader), Emoji: true}}}

	var fields []text // at most 10: Slack's limit
	for _, f := range []struct{ name, value string }{
		{"Detector", esc(c.Detector, maxFieldValue)},
		{"Order", esc(c.OrderID, maxFieldValue)},
		{"Tracking number", esc(c.TrackingNumber, maxFieldValue)},
		{"Recommendation", esc(humanize(string(c.Recommendation)), maxFieldValue)},
		{"Severity", esc(string(c.Severity), maxFieldValue)},
		{"Protection ends", protectionEnds(c.ProtectionEndsAt)},
		{"Seller", esc(c.SellerID, maxFieldValue)},
		{"Marketplace", esc(c.Marketplace, maxFieldValue)},
		{"Amount", amount(c.Alert)},
	} {
		if f.value != "" {
			fields = append(fields, text{Type: "mrkdwn", Text: "*" + f.name + "*\n" + f.value})
		}
	}
	out = append(out, block{Type: "section", Fields: fields})

	if c.Reason != "" {
		out = append(out, block{Type: "section", Text: &text{Type: "mrkdwn", Text: esc(c.Reason, maxSectionText)}})
	}
	if n.alertURL != nil {
		// A link Slack would refuse is left out rather than losing the message.
		if u := n.alertURL(c.AlertID); u != "" && len(u) <= maxURL {
			out = append(out, block{Type: "actions", Elements: []element{{Type: "button",
				Text: text{Type: "plain_text", Text: "Open alert"}, URL: u}}})
		}
	}
	return out
}

func emoji(c alert.Change) string {
	if c.Kind == alert.ChangeResolved {
		return ":white_check_mark:"
	}
	return ":rotating_light:"
}

func verb(c alert.Change) string {
	switch c.Kind {
	case alert.ChangeResolved:
		return "resolved"
	case alert.ChangeRefired:
		return "fired again"
	}
	return "fired"
}

// protectionEnds shows the date in each reader's time zone (Slack's date formatting),
// the UTC date where the client cannot.
func protectionEnds(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func amount(a alert.Alert) string {
	if a.Amount == nil {
		return ""
	}
	return a.Amount.String()
}

func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// escaper escapes the characters Slack's mrkdwn reserves: a reason or an order id
// containing <!channel> or <https://...|...> is text, not a mention or a link.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes s for mrkdwn and cuts it to max characters, never inside an escape.
func esc(s string, max int) string {
	e := escaper.Replace(s)
	if utf8.RuneCountInString(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		e := escaper.Replace(string(r))
		w := utf8.RuneCountInString(e)
		if n+w > max-1 { // room for the ellipsis
			break
		}
		b.WriteString(e)
		n += w
	}
	return b.String() + "…"
}

// truncate cuts plain text to max characters.
func truncate(s string, max int) string {
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
