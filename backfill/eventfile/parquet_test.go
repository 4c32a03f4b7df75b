package eventfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/trackwatch/trackwatch/ingest"
)

// pqPlace is a contract place as a nested Parquet group.
type pqPlace struct {
	Country    string `parquet:"country,optional"`
	City       string `parquet:"city,optional"`
	PostalCode string `parquet:"postal_code,optional"`
}

// pqTracking is a tracking event with nested groups and a millisecond timestamp.
type pqTracking struct {
	EventID        string    `parquet:"event_id"`
	TrackingNumber string    `parquet:"tracking_number"`
	Carrier        string    `parquet:"carrier,optional"`
	Status         string    `parquet:"status,optional"`
	RawStatus      string    `parquet:"raw_status,optional"`
	OccurredAt     time.Time `parquet:"occurred_at,timestamp(millisecond)"`
	Location       *pqPlace  `parquet:"location,optional"`
	Destination    *pqPlace  `parquet:"destination,optional"`
}

// pqOrder is an order event with flat dotted columns, a microsecond timestamp, a
// decimal amount and a list, which is no contract field.
type pqOrder struct {
	EventID                string    `parquet:"event_id"`
	OrderID                string    `parquet:"order_id"`
	Marketplace            string    `parquet:"marketplace,optional"`
	SellerID               string    `parquet:"seller_id"`
	BuyerID                string    `parquet:"buyer_id"`
	Status                 string    `parquet:"status"`
	OccurredAt             time.Time `parquet:"occurred_at,timestamp(microsecond)"`
	TrackingNumber         string    `parquet:"tracking_number,optional"`
	Carrier                string    `parquet:"carrier,optional"`
	ShipToCountry          string    `parquet:"ship_to.country,optional"`
	ShipToCity             string    `parquet:"ship_to.city,optional"`
	ShipToPostalCode       string    `parquet:"ship_to.postal_code,optional"`
	ProtectionDays         *int32    `parquet:"protection_days,optional"`
	ProtectionExtendedDays *int64    `parquet:"protection_extended_days,optional"`
	Amount                 *int64    `parquet:"amount,optional,decimal(2:12)"`
	Currency               string    `parquet:"currency,optional"`
	Tags                   []string  `parquet:"tags,list"`
}

// pqTypes has a column of each other kind of value.
type pqTypes struct {
	ID      int64            `parquet:"id"`
	Flag    *bool            `parquet:"flag,optional"`
	Score   float64          `parquet:"score"`
	Ratio   float32          `parquet:"ratio"`
	Count   uint32           `parquet:"count"`
	Big     uint64           `parquet:"big"`
	Day     int32            `parquet:"day,date"`
	Nanos   int64            `parquet:"nanos,timestamp(nanosecond)"`
	Local   int64            `parquet:"local,timestamp(millisecond:local)"`
	Legacy  deprecated.Int96 `parquet:"legacy"`
	Price   int32            `parquet:"price,decimal(3:9)"`
	Blob    []byte           `parquet:"blob"`
	Text    string           `parquet:"text"`
	Missing *string          `parquet:"missing,optional"`
}

// writeParquet writes rows as a Parquet file, in row groups of perGroup rows if set.
func writeParquet[T any](t testing.TB, rows []T, perGroup int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	var opts []parquet.WriterOption
	if perGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(perGroup))
	}
	w := parquet.NewGenericWriter[T](&buf, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openParquet(t testing.TB, data []byte) Reader {
	t.Helper()
	r, err := NewParquet(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("NewParquet: %v", err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// julian is the INT96 of t: nanoseconds of the day, then the Julian day.
func julian(t time.Time) deprecated.Int96 {
	day := t.Unix()/86400 + 2440588
	ns := uint64(t.Sub(t.Truncate(24 * time.Hour)))
	return deprecated.Int96{uint32(ns), uint32(ns >> 32), uint32(day)}
}

func TestParquet(t *testing.T) {
	at := time.Date(2026, 10, 2, 0, 15, 0, 0, time.UTC)
	tests := []struct {
		name   string
		file   func(t *testing.T) []byte
		want   []wantRecord
		fields []string
	}{{
		name: "nested groups become nested objects, and null values and empty groups are left out",
		file: func(t *testing.T) []byte {
			return writeParquet(t, []pqTracking{
				{EventID: "t-1", TrackingNumber: "TN1", Carrier: "ups", Status: "delivered", OccurredAt: at,
					Location: &pqPlace{Country: "FR", City: "Paris"}, Destination: &pqPlace{PostalCode: "75001"}},
				{EventID: "t-2", TrackingNumber: "TN2", RawStatus: "Out for delivery", OccurredAt: at.Add(123 * time.Millisecond),
					Location: &pqPlace{}},
			}, 0)
		},
		want: []wantRecord{
			{pos: 1, json: `{"event_id":"t-1","tracking_number":"TN1","carrier":"ups","status":"delivered","occurred_at":"2026-10-02T00:15:00Z","location":{"country":"FR","city":"Paris"},"destination":{"postal_code":"75001"}}`},
			{pos: 2, json: `{"event_id":"t-2","tracking_number":"TN2","raw_status":"Out for delivery","occurred_at":"2026-10-02T00:15:00.123Z"}`},
		},
		fields: []string{"event_id", "tracking_number", "carrier", "status", "raw_status", "occurred_at", "location", "destination"},
	}, {
		name: "flat dotted columns become nested objects, decimals number text, and lists are skipped",
		file: func(t *testing.T) []byte {
			return writeParquet(t, []pqOrder{
				{EventID: "o-1", OrderID: "A1", SellerID: "s1", BuyerID: "b1", Status: "placed", OccurredAt: at.Add(1500 * time.Microsecond),
					ShipToCountry: "FR", ShipToPostalCode: "75001", ProtectionDays: ptr[int32](7), ProtectionExtendedDays: ptr[int64](0),
					Amount: ptr[int64](1999), Currency: "EUR", Tags: []string{"gift", "fragile"}},
				{EventID: "o-2", OrderID: "A2", SellerID: "s1", BuyerID: "b2", Status: "paid", OccurredAt: at, Amount: ptr[int64](-5)},
			}, 0)
		},
		want: []wantRecord{
			{pos: 1, json: `{"event_id":"o-1","order_id":"A1","seller_id":"s1","buyer_id":"b1","status":"placed","occurred_at":"2026-10-02T00:15:00.0015Z","ship_to":{"country":"FR","postal_code":"75001"},"protection_days":7,"protection_extended_days":0,"amount":19.99,"currency":"EUR"}`},
			{pos: 2, json: `{"event_id":"o-2","order_id":"A2","seller_id":"s1","buyer_id":"b2","status":"paid","occurred_at":"2026-10-02T00:15:00Z","amount":-0.05}`},
		},
		fields: []string{"event_id", "order_id", "marketplace", "seller_id", "buyer_id", "status", "occurred_at", "tracking_number", "carrier", "ship_to", "protection_days", "protection_extended_days", "amount", "currency"},
	}, {
		name: "other types: booleans, floats, NaN, unsigned ints, dates, naive and INT96 timestamps, decimals, bytes",
		file: func(t *testing.T) []byte {
			return writeParquet(t, []pqTypes{
				{ID: 1, Flag: ptr(true), Score: 12.5, Ratio: 0.25, Count: math.MaxUint32, Big: math.MaxUint64,
					Day: int32(at.Unix() / 86400), Nanos: at.UnixNano() + 1, Local: at.UnixMilli(), Legacy: julian(at.Add(time.Second)),
					Price: 1234, Blob: []byte("a\"b\xff"), Text: "é\n"},
				{ID: -2, Flag: ptr(false), Score: math.NaN(), Ratio: float32(math.Inf(-1)), Price: 5, Text: ""},
				{ID: 3, Score: 1e-9, Ratio: 1e21, Price: -1234567},
			}, 0)
		},
		want: []wantRecord{
			{pos: 1, json: `{"id":1,"flag":true,"score":12.5,"ratio":0.25,"count":4294967295,"big":18446744073709551615,"day":"2026-10-02T00:00:00Z","nanos":"2026-10-02T00:15:00.000000001Z","local":"2026-10-02T00:15:00Z","legacy":"2026-10-02T00:15:01Z","price":1.234,"blob":"a\"b\ufffd","text":"é\n"}`},
			{pos: 2, json: `{"id":-2,"flag":false,"score":"NaN","ratio":"-Inf","count":0,"big":0,"day":"1970-01-01T00:00:00Z","nanos":"1970-01-01T00:00:00Z","local":"1970-01-01T00:00:00Z","legacy":"-4713-11-24T00:00:00Z","price":0.005,"blob":"","text":""}`},
			{pos: 3, json: `{"id":3,"score":1e-9,"ratio":1e+21,"count":0,"big":0,"day":"1970-01-01T00:00:00Z","nanos":"1970-01-01T00:00:00Z","local":"1970-01-01T00:00:00Z","legacy":"-4713-11-24T00:00:00Z","price":-1234.567,"blob":"","text":""}`},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openParquet(t, tt.file(t))
			if tt.fields != nil && !slices.Equal(r.Fields(), tt.fields) {
				t.Errorf("Fields() = %q, want %q", r.Fields(), tt.fields)
			}
			checkRecords(t, readAll(t, r), tt.want)
		})
	}
}

func TestParquetRoundTripsThroughTheDecoders(t *testing.T) {
	at := time.Date(2026, 10, 2, 0, 15, 0, 123e6, time.UTC)
	t.Run("tracking rows decode to the rows' values", func(t *testing.T) {
		data := writeParquet(t, []pqTracking{{
			EventID: "t-1", TrackingNumber: "1z-999 aa1", Carrier: "UPS", Status: "in_transit", RawStatus: "Departed facility",
			OccurredAt: at, Location: &pqPlace{Country: "DE", City: "Berlin", PostalCode: "10115"}, Destination: &pqPlace{Country: "FR"},
		}}, 0)
		recs := readAll(t, openParquet(t, data))
		row, rej := ingest.DecodeTracking(recs[0].JSON)
		if rej != nil {
			t.Fatalf("DecodeTracking(%s): %v", recs[0].JSON, rej)
		}
		if row.EventID != "t-1" || row.TrackingNumberRaw != "1z-999 aa1" || row.Carrier != "ups" || row.Status != "in_transit" ||
			row.RawStatus != "Departed facility" || row.Location.City != "Berlin" || row.Location.Postal != "10115" ||
			row.Location.Country == "" || row.Destination.Country == "" || !row.OccurredAt.Equal(at) {
			t.Errorf("row %+v", row)
		}
	})
	t.Run("order rows decode to the rows' values", func(t *testing.T) {
		data := writeParquet(t, []pqOrder{{
			EventID: "o-1", OrderID: "A1", Marketplace: "Shopee", SellerID: "s1", BuyerID: "b1", Status: "shipped", OccurredAt: at,
			TrackingNumber: "TN1", Carrier: "DHL", ShipToCountry: "FR", ShipToCity: "Lyon", ShipToPostalCode: "69001",
			ProtectionDays: ptr[int32](15), ProtectionExtendedDays: ptr[int64](5), Amount: ptr[int64](123456), Currency: "eur",
		}}, 0)
		recs := readAll(t, openParquet(t, data))
		row, rej := ingest.DecodeOrder(recs[0].JSON)
		if rej != nil {
			t.Fatalf("DecodeOrder(%s): %v", recs[0].JSON, rej)
		}
		if row.EventID != "o-1" || row.OrderID != "A1" || row.Marketplace != "shopee" || row.Status != "shipped" ||
			row.TrackingNumber == "" || row.Carrier != "dhl" || row.ShipTo.City != "Lyon" || row.ShipTo.Postal != "69001" ||
			row.Currency != "EUR" || !row.OccurredAt.Equal(at) {
			t.Errorf("row %+v", row)
		}
		if row.ProtectionDays == nil || *row.ProtectionDays != 15 || row.ProtectionExtendedDays == nil || *row.ProtectionExtendedDays != 5 {
			t.Errorf("protection days %v, %v", row.ProtectionDays, row.ProtectionExtendedDays)
		}
		if row.Amount == nil || row.Amount.String() != "1234.56" {
			t.Errorf("Amount %v", row.Amount)
		}
	})
}

func TestParquetGroupsAndDottedColumns(t *testing.T) {
	t.Run("a group and dotted columns of the same parent make one object", func(t *testing.T) {
		type place struct {
			Country string `parquet:"country,optional"`
		}
		type row struct {
			EventID  string `parquet:"event_id"`
			Location *place `parquet:"location,optional"`
			City     string `parquet:"location.city,optional"`
		}
		recs := readAll(t, openParquet(t, writeParquet(t, []row{{EventID: "e", Location: &place{Country: "FR"}, City: "Paris"}}, 0)))
		checkRecords(t, recs, []wantRecord{{pos: 1, json: `{"event_id":"e","location":{"country":"FR","city":"Paris"}}`}})
	})
	t.Run("a group and a dotted column naming the same field are refused", func(t *testing.T) {
		type place struct {
			City string `parquet:"city,optional"`
		}
		type row struct {
			Location *place `parquet:"location,optional"`
			City     string `parquet:"location.city,optional"`
		}
		data := writeParquet(t, []row{{City: "Paris"}}, 0)
		_, err := NewParquet(bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), `"location.city"`) {
			t.Errorf("NewParquet error %v, want one wrapping ErrUnreadable naming location.city", err)
		}
	})
	t.Run("a dotted column under a field of the same name is refused", func(t *testing.T) {
		type row struct {
			Location string `parquet:"location,optional"`
			City     string `parquet:"location.city,optional"`
		}
		data := writeParquet(t, []row{{City: "Paris"}}, 0)
		_, err := NewParquet(bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "both a field and a parent") {
			t.Errorf("NewParquet error %v, want one wrapping ErrUnreadable", err)
		}
	})
}

func TestParquetRowsAreNumberedAcrossRowGroupsAndBatches(t *testing.T) {
	const n = 10*parquetBatch + 37
	rows := make([]pqTracking, n)
	for i := range rows {
		rows[i] = pqTracking{EventID: "e", TrackingNumber: "TN", OccurredAt: time.Unix(int64(i), 0)}
	}
	data := writeParquet(t, rows, 100) // groups end mid-batch
	recs := readAll(t, openParquet(t, data))
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, rec := range recs {
		want := `"occurred_at":"` + time.Unix(int64(i), 0).UTC().Format(time.RFC3339) + `"`
		if rec.Pos != int64(i+1) || !strings.Contains(string(rec.JSON), want) {
			t.Fatalf("record %d: Pos %d, JSON %s; want Pos %d and %s", i, rec.Pos, rec.JSON, i+1, want)
		}
	}
}

func TestParquetUnreadable(t *testing.T) {
	valid := writeParquet(t, []pqTracking{{EventID: "e", TrackingNumber: "TN", OccurredAt: time.Unix(0, 0)}}, 0)
	footer := len(valid) - 8
	tests := []struct {
		name string
		data []byte
	}{
		{"an empty file", nil},
		{"a CSV file", []byte("event_id,tracking_number\ne1,TN1\n")},
		{"a file cut short", valid[:len(valid)/2]},
		{"a file missing its last byte", valid[:len(valid)-1]},
		{"a file claiming a footer longer than itself", func() []byte {
			b := bytes.Clone(valid)
			b[footer], b[footer+1], b[footer+2], b[footer+3] = 0xFF, 0xFF, 0xFF, 0x7F
			return b
		}()},
		{"a file with a scrambled footer", func() []byte {
			b := bytes.Clone(valid)
			for i := footer - 40; i < footer; i++ {
				b[i] ^= 0x5A
			}
			return b
		}()},
		{"an encrypted file", append([]byte("PARE"), append(make([]byte, 20), "PARE"...)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is unreadable", func(t *testing.T) {
			r, err := NewParquet(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err == nil {
				// A corrupt page is only found on reading.
				for err == nil {
					_, err = r.Next()
				}
			}
			if !errors.Is(err, ErrUnreadable) {
				t.Errorf("error %v, want one wrapping ErrUnreadable", err)
			}
		})
	}
}

func TestParquetRowsBeforeACorruptRowGroupAreRead(t *testing.T) {
	rows := make([]pqTracking, 4)
	for i := range rows {
		rows[i] = pqTracking{EventID: "e", TrackingNumber: "TN", OccurredAt: time.Unix(int64(i), 0)}
	}
	data := writeParquet(t, rows, 2)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// The last byte of the second group's first column is page data, under a checksum.
	md := f.Metadata().RowGroups[1].Columns[0].MetaData
	data[md.DataPageOffset+md.TotalCompressedSize-1] ^= 0xFF

	r := openParquet(t, data)
	var got int
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		got++
	}
	if got != 2 || !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "row group 2") {
		t.Errorf("%d rows then %v; want the first group's 2 rows, then an unreadable row group 2", got, err)
	}
}

func TestParquetCorruptPagesAreUnreadable(t *testing.T) {
	rows := make([]pqTracking, 100)
	for i := range rows {
		rows[i] = pqTracking{EventID: strings.Repeat("e", i), TrackingNumber: "TN", OccurredAt: time.Unix(int64(i), 0)}
	}
	valid := writeParquet(t, rows, 0)
	// Scramble the column data, between the magic number and the footer.
	data := bytes.Clone(valid)
	for i := 4; i < len(data)/2; i += 3 {
		data[i] ^= 0xA5
	}
	r, err := NewParquet(bytes.NewReader(data), int64(len(data)))
	for err == nil {
		var rec Record
		rec, err = r.Next()
		if err == nil && !json.Valid(rec.JSON) {
			t.Fatalf("row %d: invalid JSON %q", rec.Pos, rec.JSON)
		}
	}
	if err != io.EOF && !errors.Is(err, ErrUnreadable) {
		t.Errorf("error %v, want io.EOF or one wrapping ErrUnreadable", err)
	}
}

func FuzzParquet(f *testing.F) {
	at := time.Date(2026, 10, 2, 0, 15, 0, 0, time.UTC)
	f.Add(writeParquet(f, []pqTracking{
		{EventID: "t-1", TrackingNumber: "TN1", Status: "delivered", OccurredAt: at, Location: &pqPlace{Country: "FR"}},
		{EventID: "t-2", TrackingNumber: "TN2", OccurredAt: at},
	}, 1))
	f.Add(writeParquet(f, []pqOrder{{EventID: "o-1", OrderID: "A1", Status: "paid", OccurredAt: at, ShipToCity: "Lyon",
		Amount: ptr[int64](100), Tags: []string{"x"}}}, 0))
	f.Add(writeParquet(f, []pqTypes{{ID: 1, Score: math.NaN(), Legacy: julian(at), Blob: []byte{0xff}}}, 0))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewParquet(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("NewParquet error %v does not wrap ErrUnreadable", err)
			}
			return
		}
		// A corrupt page can claim millions of null rows: enough is enough.
		for i := 0; i < 100_000; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrUnreadable) {
					t.Fatalf("Next error %v does not wrap ErrUnreadable", err)
				}
				return
			}
			if rec.Pos != int64(i+1) {
				t.Fatalf("Pos %d, want %d", rec.Pos, i+1)
			}
			if !json.Valid(rec.JSON) || rec.JSON[0] != '{' {
				t.Fatalf("row %d: invalid JSON object %q", rec.Pos, rec.JSON)
			}
		}
	})
}

func TestParquetPageChecks(t *testing.T) {
	var proto thrift.CompactProtocol
	header := func(h format.PageHeader) []byte {
		b, err := thrift.Marshal(&proto, &h)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dataPage := func(size, uncompressed, values int32) format.PageHeader {
		h := format.PageHeader{Type: format.DataPage, CompressedPageSize: size, UncompressedPageSize: uncompressed}
		h.DataPageHeader.Valid, h.DataPageHeader.V.NumValues = true, values
		return h
	}
	snappyHuge := binary.AppendUvarint(nil, 1<<30)
	var zstdHuge bytes.Buffer
	zstdHuge.Write([]byte{0x28, 0xB5, 0x2F, 0xFD, 0xE0}) // magic; one segment of an 8-byte content size
	zstdHuge.Write(binary.LittleEndian.AppendUint64(nil, 1<<40))
	tests := []struct {
		name  string
		codec format.CompressionCodec
		chunk []byte
		size  int64 // the chunk's size as the metadata says, if not len(chunk)
		want  string
	}{
		{"pages within the limits pass", format.Uncompressed,
			slices.Concat(header(dataPage(4, 4, 1)), []byte("abcd"), header(dataPage(2, 2, 2)), []byte("ef")), 0, ""},
		{"a page past the end of its chunk is refused", format.Uncompressed,
			slices.Concat(header(dataPage(40, 40, 1)), []byte("abcd")), 0, "bytes in what is left of its chunk"},
		{"a page decompressing past the limit is refused", format.Gzip,
			slices.Concat(header(dataPage(4, maxParquetPage+1, 1)), []byte("abcd")), 0, "the limit is"},
		{"a page of too many values is refused", format.Uncompressed,
			slices.Concat(header(dataPage(4, 4, maxParquetPageValues+1)), []byte("abcd")), 0, "values; the limit is"},
		{"a snappy block claiming gigabytes is refused", format.Snappy,
			slices.Concat(header(dataPage(int32(len(snappyHuge)), 10, 1)), snappyHuge), 0, "SNAPPY data claiming 1073741824 bytes"},
		{"a zstd frame claiming a terabyte is refused", format.Zstd,
			slices.Concat(header(dataPage(int32(zstdHuge.Len()), 10, 1)), zstdHuge.Bytes()), 0, "ZSTD data claiming 1099511627776 bytes"},
		{"a chunk past the end of the file is refused", format.Uncompressed,
			slices.Concat(header(dataPage(4, 4, 1)), []byte("abcd")), 1000, "a column chunk at"},
		{"a page header cut short is refused", format.Uncompressed,
			header(dataPage(4, 4, 1))[:3], 0, "page header at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := append([]byte("PAR1"), tt.chunk...)
			size := tt.size
			if size == 0 {
				size = int64(len(tt.chunk))
			}
			p := &parquetReader{r: bytes.NewReader(file), size: int64(len(file))}
			err := p.checkPages(&format.ColumnMetaData{Codec: tt.codec, DataPageOffset: 4, TotalCompressedSize: size})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkPages: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkPages = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestZstdContentSizeReadsTheFrameHeader(t *testing.T) {
	t.Run("frames of the zstd encoder", func(t *testing.T) {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		for _, n := range []int{0, 1, 255, 256, 300, 70_000, 1 << 20} {
			frame := enc.EncodeAll(bytes.Repeat([]byte("x"), n), nil)
			// The encoder leaves the size of small inputs out: that is 0 here.
			got := zstdContentSize(frame[:min(len(frame), 18)])
			if got != uint64(n) && (got != 0 || n >= 256) {
				t.Errorf("zstdContentSize of a frame of %d bytes = %d", n, got)
			}
		}
	})
	t.Run("frame headers of each size field", func(t *testing.T) {
		magic := []byte{0x28, 0xB5, 0x2F, 0xFD}
		for _, tt := range []struct {
			header []byte
			want   uint64
		}{
			{[]byte{0x20, 0x05}, 5},                                  // one segment, 1-byte size
			{[]byte{0x60, 0x01, 0x00}, 257},                          // one segment, 2-byte size, plus 256
			{[]byte{0x80, 0x58, 0x01, 0x02, 0x03, 0x04}, 0x04030201}, // window byte, 4-byte size
			{[]byte{0x23, 0x01, 0x02, 0x03, 0x04, 0x09}, 9},          // 4-byte dictionary id, 1-byte size
			{[]byte{0x00, 0x58}, 0},                                  // no size
			{[]byte{0xE0, 0x01}, 0},                                  // cut short
		} {
			if got := zstdContentSize(slices.Concat(magic, tt.header)); got != tt.want {
				t.Errorf("zstdContentSize(% x) = %d, want %d", tt.header, got, tt.want)
			}
		}
	})
}

func TestCheckThriftRefusesListsLongerThanTheData(t *testing.T) {
	// A struct whose field 1 is a list of 2^31-1 i32s, in a few bytes.
	huge := []byte{0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x02, 0x04, 0x00}
	if err := checkThrift(huge); err == nil || !strings.Contains(err.Error(), "a list of 2147483647 elements") {
		t.Errorf("checkThrift = %v, want a list too long for the data", err)
	}
	var proto thrift.CompactProtocol
	ok, err := thrift.Marshal(&proto, &format.FileMetaData{Version: 1, Schema: []format.SchemaElement{{Name: "root"}}, NumRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkThrift(ok); err != nil {
		t.Errorf("checkThrift of a valid footer: %v", err)
	}
}
