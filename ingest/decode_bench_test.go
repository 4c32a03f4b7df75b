package ingest

import (
	"testing"
)

var benchTracking = []byte(`{"carrier":"ups","destination":{"city":"Paris","country":"France","postal_code":"75001"},"event_id":"te-1-0","location":{"city":"Shenzhen","country":"CN","postal_code":"518000"},"occurred_at":"2026-09-11T17:59:42-05:00","raw_status":"Arrived at destination country","tracking_number":"1Z000000917"}`)

var benchOrder = []byte(`{"amount":18.05,"buyer_id":"buyer-395","carrier":"ups","currency":"USD","event_id":"oe-1-1","marketplace":"aliexpress","occurred_at":"2026-10-04T07:37:18+08:00","order_id":"800000000395","protection_days":60,"seller_id":"seller-395","ship_to":{"city":"Austin","country":"United States","postal_code":"73301"},"status":"shipped","tracking_number":"1Z000000395"}`)

func BenchmarkDecodeTracking(b *testing.B) {
	b.SetBytes(int64(len(benchTracking)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rej := DecodeTracking(benchTracking); rej != nil {
			b.Fatal(rej)
		}
	}
}

func BenchmarkDecodeOrder(b *testing.B) {
	b.SetBytes(int64(len(benchOrder)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rej := DecodeOrder(benchOrder); rej != nil {
			b.Fatal(rej)
		}
	}
}
