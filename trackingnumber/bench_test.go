package trackingnumber

import "testing"

// What Verdict costs on valid numbers of several couriers (ingest calls Screen, below).
// Compare with ingest's BenchmarkDecodeOrder, the decoding of the event itself.
func BenchmarkCheck(b *testing.B) {
	c, err := Load(Config{})
	if err != nil {
		b.Skip(err)
	}
	cases := []struct{ number, carrier string }{
		{"1Z5R89390357567127", "ups"},
		{"RR123456785CN", "china-post"},
		{"123456789013", "yamato"},
		{"YT1234567890123456", "yunexpress"},
		{"9400111206206406260787", "usps"},
		{"LP00123456789012", "cainiao"},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tc := cases[i%len(cases)]
		c.Verdict(tc.number, tc.carrier)
		i++
	}
}

// The number mix of `trackwatch-bench ingest`'s generated orders (mostly malformed:
// the worst case, every verdict a finding with its problem written out).
func BenchmarkCheckIngestBenchMix(b *testing.B) {
	c, err := Load(Config{})
	if err != nil {
		b.Skip(err)
	}
	cases := []struct{ number, carrier string }{
		{"RR000012345CN", "china-post"}, {"LP000012345", "china-post"}, {"LP000012345", "cainiao"},
		{"YT000012345", "yunexpress"}, {"EJ000012345JP", "japan-post"}, {"1Z000012345", "ups"},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tc := cases[i%len(cases)]
		c.Verdict(tc.number, tc.carrier)
		i++
	}
}

// Screen, what ingest calls, on the two mixes above: valid numbers are judged against
// their declared carrier's formats alone.
func BenchmarkScreen(b *testing.B) {
	c, err := Load(Config{})
	if err != nil {
		b.Skip(err)
	}
	for _, mix := range []struct {
		name  string
		cases [][2]string
	}{
		{"valid", [][2]string{{"1Z5R89390357567127", "ups"}, {"RR123456785CN", "china-post"}, {"123456789013", "yamato"},
			{"YT1234567890123456", "yunexpress"}, {"9400111206206406260787", "usps"}, {"LP00123456789012", "cainiao"}}},
		{"ingest-bench", [][2]string{{"RR000012345CN", "china-post"}, {"LP000012345", "china-post"}, {"LP000012345", "cainiao"},
			{"YT000012345", "yunexpress"}, {"EJ000012345JP", "japan-post"}, {"1Z000012345", "ups"}}},
	} {
		b.Run(mix.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tc := mix.cases[i%len(mix.cases)]
				c.Screen(tc[0], tc[1])
				i++
			}
		})
	}
}
