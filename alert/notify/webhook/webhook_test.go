package webhook_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/notifytest"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/secret"
)

const (
	secretNow  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretPrev = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

func change() alert.Change {
	at := time.Date(2026, 10, 13, 12, 0, 0, 0, time.UTC)
	ends := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	amount := decimal.RequireFromString("25.5")
	return alert.Change{ChangeID: "5f0c2a8e61b0e0f3c1d1a7e0c9b8a6d4", Kind: alert.ChangeFired, CreatedAt: at.Add(300 * time.Millisecond),
		Alert: alert.Alert{AlertID: "9b1e4c0d2f7a4e6b8c3d5f1a2b4c6d8e", FirstDetectedAt: at, LastDetectedAt: at, Status: alert.StatusFiring, AsOf: at,
			Finding: detect.Finding{Detector: "stalled_eir", OrderID: "8041234567", TrackingNumber: "RR123456785CN", SellerID: "s-2231",
				BuyerID: "b-77", Marketplace: "aliexpress", Severity: detect.SeverityHigh, Recommendation: detect.RecommendOpenDispute,
				Reason: "The seller provided tracking number RR123456785CN on 2026-10-05. Since 2026-10-05 the carrier has shown only electronic information (a shipping label, no physical scan) for it; after 8 days the parcel has never moved. I request a full refund.",
				Reasons: map[string]string{"en": "The seller provided tracking number RR123456785CN on 2026-10-05. Since 2026-10-05 the carrier has shown only electronic information (a shipping label, no physical scan) for it; after 8 days the parcel has never moved. I request a full refund.",
					"ja": "販売者は2026-10-05に追跡番号RR123456785CNを登録しました。2026-10-05以降、配送業者の記録は電子情報（送り状の作成のみで、荷物のスキャンなし）だけで、8日が経っても荷物は一度も動いていません。全額返金を希望します。"},
				Evidence:         json.RawMessage(`{"first_event_at":"2026-10-05 08:00:00.000","carrier_events":1,"timeline":[{"at":"2026-10-05 08:00:00.000","status":"info_received","raw_status":"Electronic information received","country":"CN","city":"","sub_status":"info_received/pre_advice","physical":false}]}`),
				ProtectionEndsAt: &ends, Amount: &amount}}}
}

func TestTheBodyMatchesTheGoldenFileAndIsTheSameOnEveryAttempt(t *testing.T) {
	c := change()
	body, err := webhook.Body([]alert.Change{c})
	if err != nil {
		t.Fatal(err)
	}
	notifytest.GoldenJSON(t, "fired.json", body)
	again, _ := webhook.Body([]alert.Change{c})
	if !bytes.Equal(body, again) {
		t.Error("the body changed between two renderings of the same change")
	}
	c.Kind, c.Status = alert.ChangeResolved, alert.StatusResolved
	resolved, _ := webhook.Body([]alert.Change{c})
	var p webhook.Payload
	if err := json.Unmarshal(resolved, &p); err != nil || p.Type != webhook.TypeResolved {
		t.Errorf("resolved change: type %q (%v)", p.Type, err)
	}
}

func TestSignaturesVerifyWithTheOfficialLibraryForBothSecrets(t *testing.T) {
	body, _ := webhook.Body([]alert.Change{change()})
	var keys [][]byte
	for _, s := range []string{secretNow, secretPrev} {
		k, err := notify.DecodeSecret(secret.String(s))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	now := time.Now()
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", webhook.Sign(keys, "msg_1", now, body))
	for _, s := range []string{secretNow, secretPrev} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("secret %s...: %v", s[:10], err)
		}
	}
	other, _ := standardwebhooks.NewWebhook("whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if err := other.Verify(body, h); err == nil {
		t.Error("another secret verified the signature")
	}
	tampered := bytes.Replace(body, []byte("stalled_eir"), []byte("stalled_eiR"), 1)
	wh, _ := standardwebhooks.NewWebhook(secretNow)
	if err := wh.Verify(tampered, h); err == nil {
		t.Error("a changed body verified")
	}
}
