// Package integrations builds the Notifier of each configured receiver from its type:
// the one place that knows every receiver package (webhook, alertmanager, slack), so
// that notify itself depends on none of them.
package integrations

import (
	"fmt"

	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/alertmanager"
	"github.com/trackwatch/trackwatch/alert/notify/slack"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
)

// Build returns the receivers of cfg (validated) with their notifiers.
func Build(cfg notify.Config) ([]notify.Receiver, error) {
	var out []notify.Receiver
	for _, r := range cfg.Receivers {
		client, err := r.HTTPClient()
		if err != nil {
			return nil, fmt.Errorf("receiver %s: %w", r.Name, err)
		}
		var n notify.Notifier
		switch r.Type {
		case notify.TypeWebhook:
			if n, err = webhook.New(r, client); err != nil {
				return nil, err
			}
		case notify.TypeAlertmanager:
			n = alertmanager.New(r, cfg.AlertURL, client)
		case notify.TypeSlack:
			n = slack.New(r, cfg.AlertURL, client)
		default:
			return nil, fmt.Errorf("receiver %s: unknown type %q", r.Name, r.Type)
		}
		out = append(out, notify.Receiver{Config: r, Notifier: n})
	}
	return out, nil
}
