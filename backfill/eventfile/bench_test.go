package eventfile

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

const benchRows = 10_000

// benchOrders are order events as a producer's export would have them.
func benchOrders() []pqOrder {
	at := time.Date(2026, 10, 2, 0, 15, 0, 0, time.UTC)
	statuses := []string{"placed", "paid", "shipped", "delivered"}
	rows := make([]pqOrder, benchRows)
	for i := range rows {
		rows[i] = pqOrder{
			EventID: fmt.Sprintf("evt-%08d", i), OrderID: fmt.Sprintf("ORD-%07d", i/3), Marketplace: "shopee",
			SellerID: fmt.Sprintf("seller-%d", i%97), BuyerID: fmt.Sprintf("buyer-%d", i%5003), Status: statuses[i%4],
			OccurredAt: at.Add(time.Duration(i) * time.Second), TrackingNumber: fmt.Sprintf("1Z999AA1%010d", i), Carrier: "ups",
			ShipToCountry: "FR", ShipToCity: "Paris", ShipToPostalCode: fmt.Sprintf("750%02d", i%20),
			ProtectionDays: ptr[int32](15), ProtectionExtendedDays: ptr(int64(i % 3)), Amount: ptr(int64(1999 + i)), Currency: "EUR",
		}
	}
	return rows
}

func benchCSV() []byte {
	var b strings.Builder
	b.WriteString("event_id,order_id,marketplace,seller_id,buyer_id,status,occurred_at,tracking_number,carrier," +
		"ship_to.country,ship_to.city,ship_to.postal_code,protection_days,protection_extended_days,amount,currency\r\n")
	for _, o := range benchOrders() {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d,%d.%02d,%s\r\n",
			o.EventID, o.OrderID, o.Marketplace, o.SellerID, o.BuyerID, o.Status, o.OccurredAt.Format(time.RFC3339),
			o.TrackingNumber, o.Carrier, o.ShipToCountry, o.ShipToCity, o.ShipToPostalCode,
			*o.ProtectionDays, *o.ProtectionExtendedDays, *o.Amount/100, *o.Amount%100, o.Currency)
	}
	return []byte(b.String())
}

// benchRead reads every record of the reader open makes, b.N times, and reports the
// cost per row.
func benchRead(b *testing.B, size int, open func() (Reader, error)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	rows := 0
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		r, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rec.Bad != nil {
				b.Fatal(err, rec.Bad)
			}
			rows++
		}
	}
	runtime.ReadMemStats(&after)
	if rows != b.N*benchRows {
		b.Fatalf("%d rows in %d runs, want %d each", rows, b.N, benchRows)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(secs*1e9/float64(rows), "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
}

// BenchmarkCSV reads 10k order rows of CSV.
func BenchmarkCSV(b *testing.B) {
	data := benchCSV()
	benchRead(b, len(data), func() (Reader, error) { return NewCSV(bytes.NewReader(data)) })
}

// BenchmarkParquet reads 10k order rows of Parquet.
func BenchmarkParquet(b *testing.B) {
	data := writeParquet(b, benchOrders(), 0)
	benchRead(b, len(data), func() (Reader, error) { return NewParquet(bytes.NewReader(data), int64(len(data))) })
}
