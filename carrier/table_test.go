package carrier_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/carrier"
)

func TestClassifyFindsTheLongestPhraseAtAWordStart(t *testing.T) {
	requireClassified(t, []classified{
		{"", "Electronic information received", carrier.PreAdvice},
		{"", "ELECTRONIC INFORMATION RECEIVED.", carrier.PreAdvice},
		{"", "Shipping Label Created, USPS Awaiting Item", carrier.PreAdvice},
		{"", "Undelivered - notice left", carrier.AttemptFailed}, // "notice left" (11) over "undelivered" (11): first longest
		{"", "Almost there", carrier.Unknown},                    // "lost" only at a word start
		{"", "Returned to sender", carrier.ReturnedSender},       // longer than "returned"
		{"", "Held by customs", carrier.CustomsHeld},             // longer than "customs" and "held"
		{"", "Package cancelled", carrier.LabelVoided},
		{"", "Delivered to the neighbour's address", carrier.Delivered},
		{"", "Parcel is on its way", carrier.Unknown},
	})
}

// TestLookAlikesOfScansAreNotScans holds carriers' pre-advice and cancellation texts
// that contain a scan's words ("processed", "picked up", "departed", "delivered",
// "handed over", "received by carrier") to what they mean, and transport cancellations
// that contain "cancelled" to a delay, not a voided label (the wording of each is from
// the source named in its carrier's table).
func TestLookAlikesOfScansAreNotScans(t *testing.T) {
	requireClassified(t, []classified{
		{"dhl", "Shipment not yet received or processed", carrier.PreAdvice},
		{"dhl", "Shipment(s) will be picked up", carrier.PreAdvice},
		{"dhl", "The shipment has departed the warehouse of the shipper", carrier.PreAdvice},
		{"dhl", "The shipment has left the customer facility", carrier.PreAdvice},
		{"dhl", "Loaded by customer ready for Collection", carrier.PreAdvice},
		{"dhl", "Nothing was picked up, order was cancelled", carrier.LabelVoided},
		{"dhl", "Shipment picked up", carrier.Accepted},
		{"swiss-post", "Consignment recorded by the foreign sender (data delivered)", carrier.PreAdvice},
		{"postnord", "We have received a notification from your shipper that they are preparing an item for you. " +
			"The tracking information will be updated when the parcel is handed over to PostNord.", carrier.PreAdvice},
		{"shipengine", "Electronic advice received by carrier", carrier.PreAdvice},
		{"china-post", "电子信息已收到", carrier.PreAdvice},
		{"ups", "Flight cancelled", carrier.Delayed},
		{"ups", "Pick-up cancelled", carrier.Delayed},
		{"ups", "Missing shipment data is causing a delay. We are awaiting electronic data upload from the Shipper.", carrier.Delayed},
		{"ups", "Shipment cancelled", carrier.LabelVoided},
		{"ups", "Rs Label Has Been Discarded", carrier.LabelVoided},
		{"correios", "Etiqueta expirada", carrier.LabelVoided},
		{"ups", "Stornierte Info erhalten", carrier.LabelVoided},
		{"cainiao", "您的包裹已出库", carrier.PreAdvice},
		{"delhivery", "Out for Pickup", carrier.PreAdvice},
		{"japan-post", "引受予定", carrier.PreAdvice},
		{"japan-post", "引受", carrier.Accepted},
		{"yamato", "持戻（受取ご辞退）", carrier.Refused},
		{"yamato", "Request Accepted (pick up at Yamato's location)", carrier.InTransit},
		{"japan-post", "Final delivery - Collected at counter", carrier.PickedUp},
		{"deutsche-post", "Die Sendung konnte nicht zugestellt werden und wird an den Absender zurückgesandt.", carrier.ReturnToSender},
		{"deutsche-post", "Die Sendung konnte nicht zugestellt werden.", carrier.AttemptFailed},
		{"postnord", "The shipment item has been delivered to a service point.", carrier.AwaitPickup},
		{"postnord", "A text message notification has been delivered to the recipient.", carrier.InTransit},
		{"canada-post", "Delivered to automated parcel locker", carrier.AwaitPickup},
		{"canada-post", "Redirection request cancelled by shipper", carrier.InTransit},
		{"la-poste", "Votre colis est pris en charge par votre facteur pour être livré.", carrier.OutForDelivery},
		{"ctt", "Em importação", carrier.CustomsPending},
		{"amazon", "Package has left seller facility and is in transit to carrier", carrier.PreAdvice},
		{"amazon", "Package arrived at a carrier facility", carrier.Arrived},
		{"", "Shipper created a label, UPS has not received the package yet.", carrier.PreAdvice},
	})
}

type classified struct {
	carrier, raw string
	want         carrier.SubStatus
}

// requireClassified checks that the default tables classify each text as wanted.
func requireClassified(t *testing.T, cases []classified) {
	t.Helper()
	tb, err := carrier.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if got := tb.Classify(tc.carrier, tc.raw); got != tc.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", tc.carrier, tc.raw, got, tc.want)
		}
	}
}

func TestOperatorPhrasesWinAndAreCheckedForTheirCarrier(t *testing.T) {
	tb, _ := carrier.Default()
	o, err := tb.With([]carrier.Phrase{
		{Carrier: "acme", Phrase: "Parcel is on its way", SubStatus: carrier.InTransit},
		{Carrier: "", Phrase: "awaiting item", SubStatus: carrier.Accepted}, // overriding the table, for every carrier
		{Carrier: "acme", Phrase: "已揽收", SubStatus: carrier.Accepted},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Classify("acme", "Parcel is on its way"); got != carrier.InTransit {
		t.Errorf("operator phrase: %s", got)
	}
	if got := o.Classify("other", "Parcel is on its way"); got != carrier.Unknown {
		t.Errorf("another carrier's phrase applied: %s", got)
	}
	if got := o.Classify("other", "USPS Awaiting Item"); got != carrier.Accepted {
		t.Errorf("override for every carrier: %s", got)
	}
	if got := o.Classify("acme", "【深圳市】快件已揽收"); got != carrier.Accepted {
		t.Errorf("a Chinese phrase matches inside the text: %s", got)
	}
	if _, err := tb.With([]carrier.Phrase{{Phrase: "x", SubStatus: "moving/fast"}}); err == nil {
		t.Error("an unknown sub-status was accepted")
	}
}

func TestEveryTableParsesAndNamesItsSources(t *testing.T) {
	if _, err := carrier.Default(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("phrases/*.tsv")
	if len(files) < 2 {
		t.Fatalf("%d phrase files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.Contains(text, "source:") && !strings.Contains(text, "https://") {
			t.Errorf("%s names no source", f)
		}
		seen := map[string]string{}
		for i, line := range strings.Split(text, "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			phrase, sub, _ := strings.Cut(line, "\t")
			key := carrier.Fold(phrase)
			if prev, dup := seen[key]; dup && prev != sub {
				t.Errorf("%s:%d: %q is both %s and %s", f, i+1, phrase, prev, sub)
			}
			seen[key] = sub
		}
	}
}

// TestHeldOutWording measures the tables on carrier wording gathered from other sources
// than the tables were written from (testdata/heldout.tsv, which nobody tunes against).
// No phrasing of a physical scan may be taken for pre-advice (that would hide a parcel
// that moved). The goal for pre-advice is 95% of its phrasings recognised; the test
// holds the level measured (minPreAdvice) so that it cannot fall back, and is raised as
// carriers' tables are added from their own sources.
func TestHeldOutWording(t *testing.T) {
	tb, err := carrier.Default()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/heldout.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var pre, preHit, moves, movesAsPre, total, exact, sameStatus int
	var misses []string
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("bad line %q", line)
		}
		want := carrier.SubStatus(f[2])
		got := tb.Classify(f[0], f[1])
		total++
		if got == want {
			exact++
		}
		if got.Status() == want.Status() {
			sameStatus++
		}
		if want == carrier.PreAdvice {
			pre++
			if got == carrier.PreAdvice {
				preHit++
			} else {
				misses = append(misses, "pre-advice missed: "+f[0]+" "+f[1]+" -> "+string(got))
			}
		}
		if want.Physical() {
			moves++
			if got == carrier.PreAdvice {
				movesAsPre++
				misses = append(misses, "movement taken for pre-advice: "+f[0]+" "+f[1])
			}
		}
	}
	t.Logf("held-out wording: %d lines; pre-advice recognised %d/%d (%.1f%%); physical scans taken for pre-advice %d/%d; "+
		"same status %d (%.1f%%), same sub-status %d (%.1f%%)", total, preHit, pre, 100*float64(preHit)/float64(pre), movesAsPre, moves,
		sameStatus, 100*float64(sameStatus)/float64(total), exact, 100*float64(exact)/float64(total))
	for _, m := range misses {
		t.Log(m)
	}
	if float64(preHit) < minPreAdvice*float64(pre) {
		t.Errorf("pre-advice recognised for %d of %d held-out phrasings, below the %.0f%% measured before (goal 95%%)", preHit, pre, 100*minPreAdvice)
	}
	if movesAsPre > 0 {
		t.Errorf("%d physical scans taken for pre-advice", movesAsPre)
	}
}

// minPreAdvice is the share of held-out pre-advice phrasings recognised, as last
// measured: the floor the tables may not fall below. The goal is 0.95.
const minPreAdvice = 0.86 // 45 of 52
