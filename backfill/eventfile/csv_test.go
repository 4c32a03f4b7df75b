package eventfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/trackwatch/trackwatch/ingest"
)

// wantRecord is a record as a test expects it: JSON, or, when bad is set, the raw text
// and a part of the error.
type wantRecord struct {
	pos  int64
	json string
	bad  string
}

// readAll reads r to its end, copying each record's JSON, which is only valid until
// the next call.
func readAll(t testing.TB, r Reader) []Record {
	t.Helper()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		rec.JSON = bytes.Clone(rec.JSON)
		recs = append(recs, rec)
	}
}

func checkRecords(t *testing.T, got []Record, want []wantRecord) {
	t.Helper()
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("got pos %d json %s bad %v", g.Pos, g.JSON, g.Bad)
		}
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Pos != w.pos {
			t.Errorf("record %d: Pos %d, want %d", i, g.Pos, w.pos)
		}
		switch {
		case w.bad != "":
			if g.Bad == nil || !strings.Contains(g.Bad.Error(), w.bad) {
				t.Errorf("record %d: Bad %v, want one saying %q", i, g.Bad, w.bad)
			}
		case g.Bad != nil:
			t.Errorf("record %d: unexpected Bad %v", i, g.Bad)
		case !json.Valid(g.JSON):
			t.Errorf("record %d: invalid JSON %s", i, g.JSON)
		}
		if string(g.JSON) != w.json {
			t.Errorf("record %d:\n got %s\nwant %s", i, g.JSON, w.json)
		}
	}
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []wantRecord
		fields []string
	}{{
		name: "a simple file gives one object per row, the first on line 2",
		in:   "event_id,tracking_number,status\ne1,TN1,delivered\ne2,TN2,in_transit\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","tracking_number":"TN1","status":"delivered"}`},
			{pos: 3, json: `{"event_id":"e2","tracking_number":"TN2","status":"in_transit"}`},
		},
		fields: []string{"event_id", "tracking_number", "status"},
	}, {
		name: "dotted columns become nested objects, written together whatever their order",
		in:   "event_id,location.country,carrier,location.city,destination.postal_code\ne1,FR,ups,Paris,75001\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","location":{"country":"FR","city":"Paris"},"carrier":"ups","destination":{"postal_code":"75001"}}`},
		},
		fields: []string{"event_id", "location", "carrier", "destination"},
	}, {
		name: "empty cells leave their field out, and a group of empty cells is left out",
		in:   "event_id,carrier,location.country,location.city,status\ne1,,,,delivered\ne2,ups,,Lyon,\n,,,,\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","status":"delivered"}`},
			{pos: 3, json: `{"event_id":"e2","carrier":"ups","location":{"city":"Lyon"}}`},
			{pos: 4, json: `{}`},
		},
	}, {
		name: "numbers become JSON numbers, written as given after trimming spaces",
		in:   "protection_days,protection_extended_days,amount\n5, 10 ,12.50\n0,-3,1e3\n7,0, -0.5E-2 \n",
		want: []wantRecord{
			{pos: 2, json: `{"protection_days":5,"protection_extended_days":10,"amount":12.50}`},
			{pos: 3, json: `{"protection_days":0,"protection_extended_days":-3,"amount":1e3}`},
			{pos: 4, json: `{"protection_days":7,"protection_extended_days":0,"amount":-0.5E-2}`},
		},
	}, {
		name: "the journey's refund_amount is a number too, payment_method and reason strings",
		in:   "status,payment_method,refund_amount,reason\nrefund_completed,,12.5,\npaid,paypal,,\"late, sorry\"\n",
		want: []wantRecord{
			{pos: 2, json: `{"status":"refund_completed","refund_amount":12.5}`},
			{pos: 3, json: `{"status":"paid","payment_method":"paypal","reason":"late, sorry"}`},
		},
	}, {
		name: "numbers that do not parse stay strings, for the decoder to reject by name",
		in:   "protection_days,protection_extended_days,amount\n5.0,+5,\"12,50\"\n007,abc,1.\nNaN,0x10,.5\n",
		want: []wantRecord{
			{pos: 2, json: `{"protection_days":"5.0","protection_extended_days":"+5","amount":"12,50"}`},
			{pos: 3, json: `{"protection_days":"007","protection_extended_days":"abc","amount":"1."}`},
			{pos: 4, json: `{"protection_days":"NaN","protection_extended_days":"0x10","amount":".5"}`},
		},
	}, {
		name: "a number cell of spaces is left out, as an empty cell is",
		in:   "event_id,amount\ne1,  \n",
		want: []wantRecord{{pos: 2, json: `{"event_id":"e1"}`}},
	}, {
		name: "other cells are strings as given, spaces and all, even when they look like numbers",
		in:   "event_id,tracking_number,postal_code\n 42 ,007,true\n",
		want: []wantRecord{{pos: 2, json: `{"event_id":" 42 ","tracking_number":"007","postal_code":"true"}`}},
	}, {
		name: "quoted fields keep commas, quotes and newlines, and Pos counts real lines",
		in:   "event_id,raw_status\ne1,\"Delivered, left at\nthe \"\"front\"\" door\"\ne2,ok\n\"e3\n\",x\ne4,y\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","raw_status":"Delivered, left at\nthe \"front\" door"}`},
			{pos: 4, json: `{"event_id":"e2","raw_status":"ok"}`},
			{pos: 5, json: `{"event_id":"e3\n","raw_status":"x"}`},
			{pos: 7, json: `{"event_id":"e4","raw_status":"y"}`},
		},
	}, {
		name: "a row with the wrong number of fields is bad, holds its text, and reading goes on",
		in:   "event_id,carrier,status\ne1,ups,delivered\ne2,ups\ne3,ups,delivered,extra\ne4,dhl,picked_up\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","carrier":"ups","status":"delivered"}`},
			{pos: 3, json: `e2,ups`, bad: "line 3: 2 fields, header has 3"},
			{pos: 4, json: `e3,ups,delivered,extra`, bad: "line 4: 4 fields, header has 3"},
			{pos: 5, json: `{"event_id":"e4","carrier":"dhl","status":"picked_up"}`},
		},
	}, {
		name: "a bare quote makes a bad row, and reading goes on",
		in:   "event_id,raw_status\ne1,say \"hi\"\ne2,ok\n",
		want: []wantRecord{
			{pos: 2, json: `e1,say "hi"`, bad: `line 2, column 8: bare " in non-quoted-field`},
			{pos: 3, json: `{"event_id":"e2","raw_status":"ok"}`},
		},
	}, {
		name: "text after a closing quote makes a bad row spanning its lines",
		in:   "event_id,raw_status\ne1,\"two\nlines\"x\ne2,ok\n",
		want: []wantRecord{
			{pos: 2, json: "e1,\"two\nlines\"x", bad: `line 2: line 3, column 6: extraneous or missing " in quoted-field`},
			{pos: 4, json: `{"event_id":"e2","raw_status":"ok"}`},
		},
	}, {
		name: "an unterminated quote makes the rest of the file one bad row",
		in:   "event_id,raw_status\ne1,ok\ne2,\"never closed\ne3,lost\n",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","raw_status":"ok"}`},
			{pos: 3, json: "e2,\"never closed\ne3,lost", bad: "line 3"},
		},
	}, {
		name:   "a UTF-8 byte order mark is skipped",
		in:     "\xEF\xBB\xBFevent_id,carrier\ne1,ups\n",
		want:   []wantRecord{{pos: 2, json: `{"event_id":"e1","carrier":"ups"}`}},
		fields: []string{"event_id", "carrier"},
	}, {
		name: "CRLF line ends are taken off values and off a bad row's text",
		in:   "event_id,carrier\r\ne1,ups\r\ne2\r\n\"e3\r\nx\",dhl\r\ne4,fedex",
		want: []wantRecord{
			{pos: 2, json: `{"event_id":"e1","carrier":"ups"}`},
			{pos: 3, json: `e2`, bad: "line 3: 1 fields, header has 2"},
			{pos: 4, json: `{"event_id":"e3\nx","carrier":"dhl"}`},
			{pos: 6, json: `{"event_id":"e4","carrier":"fedex"}`},
		},
	}, {
		name: "blank lines are skipped but counted, and kept out of a bad row's text",
		in:   "event_id,carrier\n\ne1,ups\n\n\r\ne2\n",
		want: []wantRecord{
			{pos: 3, json: `{"event_id":"e1","carrier":"ups"}`},
			{pos: 6, json: `e2`, bad: "line 6: 1 fields, header has 2"},
		},
	}, {
		name: "spaces around header names are ignored",
		in:   "event_id , location.city\ne1,Paris\n",
		want: []wantRecord{{pos: 2, json: `{"event_id":"e1","location":{"city":"Paris"}}`}},
	}, {
		name: "control characters, quotes and invalid UTF-8 are escaped as encoding/json does",
		in:   "event_id,raw_status\n\"a\tb\x01\\\",\"caf\xc3\xa9 \xff\xfe \xe2\x80\xa8\"\n",
		want: []wantRecord{{pos: 2, json: `{"event_id":"a\tb\u0001\\","raw_status":"café \ufffd\ufffd \u2028"}`}},
	}, {
		name: "unknown columns are kept",
		in:   "event_id,shipment.weight_kg,note\ne1,2.5,fragile\n",
		want: []wantRecord{{pos: 2, json: `{"event_id":"e1","shipment":{"weight_kg":"2.5"},"note":"fragile"}`}},
	}, {
		name: "a header alone gives no records",
		in:   "event_id,carrier\n",
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				var in io.Reader = strings.NewReader(tt.in)
				if slow {
					// Reads of one byte exercise the BOM check and the raw text recorder.
					in = iotest.OneByteReader(in)
				}
				r, err := NewCSV(in)
				if err != nil {
					t.Fatalf("NewCSV: %v", err)
				}
				if tt.fields != nil && !slices.Equal(r.Fields(), tt.fields) {
					t.Errorf("Fields() = %q, want %q", r.Fields(), tt.fields)
				}
				checkRecords(t, readAll(t, r), tt.want)
			}
		})
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // part of the error
	}{
		{"an empty file has no header", "", "no header"},
		{"a file of blank lines has no header", "\n\r\n\n", "no header"},
		{"a BOM alone is no header", "\xEF\xBB\xBF", "no header"},
		{"a duplicate name is refused", "event_id,carrier,event_id\n", `column 3 "event_id": a second column of that name`},
		{"a duplicate nested name is refused", "location.city,location.city\n", `column 2 "location.city": a second column`},
		{"an empty name is refused", "event_id,,carrier\n", "column 2 has no name"},
		{"a name of spaces is refused", "event_id,  \n", "column 2 has no name"},
		{"an empty part of a dotted name is refused", "event_id,location..city\n", `column 2 "location..city": a dotted name with an empty part`},
		{"a trailing dot is refused", "location.\n", `column 1 "location."`},
		{"a field then its children is refused", "location,location.city\n", `column 2 "location.city": "location" is both a field and a parent`},
		{"children then their parent as a field is refused", "location.city,event_id,location\n", `column 3 "location": both a field and the parent of "location.city"`},
		{"a bare quote in the header is refused", "event_id,ca\"rrier\n", "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSV(strings.NewReader(tt.in))
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("NewCSV error %v, want one wrapping ErrUnreadable", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewCSV error %q, want one saying %q", err, tt.want)
			}
		})
	}
}

// failingReader gives its data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestCSVReadErrors(t *testing.T) {
	cause := errors.New("gzip: invalid checksum")
	t.Run("a read error in the header makes NewCSV fail", func(t *testing.T) {
		_, err := NewCSV(&failingReader{data: []byte("ev"), err: cause})
		if !errors.Is(err, ErrUnreadable) || !errors.Is(err, cause) {
			t.Fatalf("NewCSV error %v, want one wrapping ErrUnreadable and the cause", err)
		}
	})
	t.Run("a read error mid-file ends the reading, wrapping ErrUnreadable, and sticks", func(t *testing.T) {
		r, err := NewCSV(&failingReader{data: []byte("event_id\ne1\ne2\ne3"), err: cause})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for {
			_, err = r.Next()
			if err != nil {
				break
			}
			n++
		}
		if !errors.Is(err, ErrUnreadable) || !errors.Is(err, cause) {
			t.Fatalf("Next error %v, want one wrapping ErrUnreadable and the cause", err)
		}
		if n < 2 {
			t.Errorf("%d records before the error, want at least the 2 complete ones", n)
		}
		if _, again := r.Next(); again != err {
			t.Errorf("Next after the error = %v, want the same error", again)
		}
	})
}

func TestCSVLongBadRowIsReencoded(t *testing.T) {
	long := strings.Repeat("x", maxRawRow+10)
	in := "event_id,carrier\ne1," + long + ",extra\ne2,ups\n"
	r, err := NewCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, r)
	checkRecords(t, recs, []wantRecord{
		{pos: 2, json: "e1," + long + ",extra", bad: "line 2: 3 fields, header has 2"},
		{pos: 3, json: `{"event_id":"e2","carrier":"ups"}`},
	})
}

func TestCSVRoundTripsThroughTheDecoders(t *testing.T) {
	t.Run("an order row decodes to the row's values", func(t *testing.T) {
		in := "event_id,order_id,marketplace,seller_id,buyer_id,status,occurred_at,tracking_number,carrier," +
			"ship_to.country,ship_to.city,ship_to.postal_code,protection_days,protection_extended_days,amount,currency\n" +
			"o-1,A100,Shopee,s1,b1,shipped,2026-10-02T08:15:00+08:00,1z 999-AA1,UPS,FR,Paris,75001,7,3,19.99,eur\n"
		r, err := NewCSV(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		recs := readAll(t, r)
		if len(recs) != 1 || recs[0].Bad != nil {
			t.Fatalf("records %+v", recs)
		}
		row, rej := ingest.DecodeOrder(recs[0].JSON)
		if rej != nil {
			t.Fatalf("DecodeOrder(%s): %v", recs[0].JSON, rej)
		}
		if row.EventID != "o-1" || row.OrderID != "A100" || row.Marketplace != "shopee" || row.Status != "shipped" ||
			row.Carrier != "ups" || row.Currency != "EUR" || row.ShipTo.City != "Paris" || row.ShipTo.Postal != "75001" {
			t.Errorf("row %+v", row)
		}
		if !row.OccurredAt.Equal(time.Date(2026, 10, 2, 0, 15, 0, 0, time.UTC)) {
			t.Errorf("OccurredAt %v", row.OccurredAt)
		}
		if row.ProtectionDays == nil || *row.ProtectionDays != 7 || row.ProtectionExtendedDays == nil || *row.ProtectionExtendedDays != 3 {
			t.Errorf("protection days %v, %v", row.ProtectionDays, row.ProtectionExtendedDays)
		}
		if row.Amount == nil || row.Amount.String() != "19.99" {
			t.Errorf("Amount %v", row.Amount)
		}
	})
	t.Run("a tracking row decodes to the row's values", func(t *testing.T) {
		in := "event_id,tracking_number,carrier,raw_status,occurred_at,location.country,location.city,destination.country\n" +
			"t-1,TN123,dhl,Delivered,2026-10-02T00:15:00.123Z,DE,Berlin,FR\n"
		r, err := NewCSV(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		recs := readAll(t, r)
		row, rej := ingest.DecodeTracking(recs[0].JSON)
		if rej != nil {
			t.Fatalf("DecodeTracking(%s): %v", recs[0].JSON, rej)
		}
		if row.EventID != "t-1" || row.TrackingNumber != "TN123" || row.Carrier != "dhl" || row.Location.City != "Berlin" || row.Location.Country == "" || row.Destination.Country == "" {
			t.Errorf("row %+v", row)
		}
		if !row.OccurredAt.Equal(time.Date(2026, 10, 2, 0, 15, 0, 123e6, time.UTC)) {
			t.Errorf("OccurredAt %v", row.OccurredAt)
		}
	})
	t.Run("a number that is not one is rejected naming its field", func(t *testing.T) {
		for field, cell := range map[string]string{"protection_days": "five", "protection_extended_days": "2.5", "amount": "12,50"} {
			in := "event_id,order_id,seller_id,buyer_id,status,occurred_at," + field + "\n" +
				"o-1,A1,s1,b1,paid,2026-10-02T00:15:00Z,\"" + cell + "\"\n"
			r, err := NewCSV(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			recs := readAll(t, r)
			_, rej := ingest.DecodeOrder(recs[0].JSON)
			if rej == nil || !strings.Contains(rej.Detail, field) {
				t.Errorf("DecodeOrder(%s) = %v, want a rejection naming %s", recs[0].JSON, rej, field)
			}
		}
	})
}

func TestAppendJSONStringEscapesAsEncodingJSON(t *testing.T) {
	// Pieces that need escaping or decoding, at every offset of the 8-byte fast path.
	pieces := []string{"a", "plain text", `"`, `\`, "\n", "\x00", "\x1f", "\x7f", "é", "\xff", "\xe2\x80", "\u2028", "\u2029", "😀", "<&>"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		wantJSON := bytes.TrimSuffix(want.Bytes(), []byte("\n"))
		if got := appendJSONString([]byte("{"), s)[1:]; !bytes.Equal(got, wantJSON) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, wantJSON)
		}
		if got := appendJSONString(nil, []byte(s)); !bytes.Equal(got, wantJSON) {
			t.Fatalf("appendJSONString([]byte(%q)) = %s, want %s", s, got, wantJSON)
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, seed := range []string{
		"event_id,tracking_number,status\ne1,TN1,delivered\n",
		"\xEF\xBB\xBFevent_id,location.country,location.city,amount,protection_days\r\ne1,FR,\"Pa\nris\",12.5,7\r\n",
		"event_id,raw_status\ne1,say \"hi\"\ne2,\"x\"y\ne3\n\"open\n",
		"a,b.c,b.d\n1,2\n1,2,3,4\n\n,,\n",
		"location,location.city\n",
		"a\n\xff\xfe\x00\x01\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewCSV(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("NewCSV error %v does not wrap ErrUnreadable", err)
			}
			return
		}
		last := int64(1) // the header's line, at least
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("Next: %v (a bytes.Reader does not fail)", err)
			}
			if rec.Pos <= last {
				t.Fatalf("Pos %d after %d", rec.Pos, last)
			}
			last = rec.Pos
			if rec.Bad == nil && (!json.Valid(rec.JSON) || rec.JSON[0] != '{') {
				t.Fatalf("line %d: invalid JSON object %q", rec.Pos, rec.JSON)
			}
		}
	})
}
