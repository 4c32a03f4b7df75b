package trackingnumber

import (
	"math/rand/v2"
	"testing"
)

// Each algorithm against numbers whose check characters are published by the
// standard or carrier that defines it.
func TestChecksums(t *testing.T) {
	cases := []struct {
		name   string
		c      Checksum
		serial string
		want   string
	}{
		{"S10: the UPU standard's example item RA473124829GB", Checksum{Name: "s10"}, "47312482", "9"},
		{"S10: a remainder of 0 gives 5", Checksum{Name: "s10"}, "12345678", "5"},
		{"mod 10 with UPS's weights over letters and digits", Checksum{Name: "mod10", EvensMultiplier: 1, OddsMultiplier: 2}, "5R8939035756712", "7"},
		{"mod 10 with USPS's weights from the right", Checksum{Name: "mod10", EvensMultiplier: 3, OddsMultiplier: 1, Reverse: true}, "940011120620640626078", "7"},
		{"mod 10 from the left and from the right differ on an even length", Checksum{Name: "mod10", EvensMultiplier: 3, OddsMultiplier: 1}, "12", "5"},
		{"mod 10 from the right on an even length", Checksum{Name: "mod10", EvensMultiplier: 3, OddsMultiplier: 1, Reverse: true}, "12", "3"},
		{"mod 7 of a DHL Express waybill", Checksum{Name: "mod7"}, "331881002", "5"},
		{"mod 7 of a number past 64 bits", Checksum{Name: "mod7"}, "123456789012345678901234", "6"},
		{"Luhn: the textbook number", Checksum{Name: "luhn"}, "7992739871", "3"},
		{"ISO 7064 MOD 37,36: the standard's example", Checksum{Name: "mod_37_36"}, "A12425GABC1234002", "M"},
		{"FedEx Express weights 3 1 7, mod 11 mod 10", Checksum{Name: "sum_product_with_weightings_and_modulo", Weightings: []int{3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1}, Modulo1: 11, Modulo2: 10}, "98657878885", "5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.c.Expected(tc.serial)
			if !ok || got != tc.want {
				t.Fatalf("%s(%s) = %q, %v; want %q", tc.c.Name, tc.serial, got, ok, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		c      Checksum
		serial string
	}{{Checksum{Name: "s10"}, "1234567"}, {Checksum{Name: "mod7"}, "12A"}, {Checksum{Name: "luhn"}, ""}, {Checksum{Name: "mod_37_36"}, "a-1"}} {
		if got, ok := bad.c.Expected(bad.serial); ok {
			t.Errorf("%s(%q) = %q, want no check digit", bad.c.Name, bad.serial, got)
		}
	}
	if err := (Checksum{Name: "crc4"}).validate(); err == nil {
		t.Error("an unknown algorithm validated")
	}
}

// The length bounds and first bytes that let Judge skip a format must never skip a
// number it matches: every test number, and numbers made to fit each format.
func TestLengthBoundsNeverSkipAMatch(t *testing.T) {
	c := checker(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, co := range c.Spec().Couriers {
		for _, f := range co.Formats {
			for _, n := range append(append([]string{}, f.Valid...), f.Invalid...) {
				if f.re.MatchString(n) && !f.mayFit(n) {
					t.Errorf("%s: %s matches, but its length %d is outside [%d, %d] or its first byte is not among the format's", f.Name, n, len(n), f.minLen, f.maxLen)
				}
			}
			for i := range 2000 { // numbers made to fit: a test number with its tail redrawn
				base := append(append([]string{}, f.Valid...), f.Invalid...)
				if len(base) == 0 {
					break
				}
				n := []byte(base[i%len(base)])
				for j := len(n) / 2; j < len(n); j++ {
					if n[j] >= '0' && n[j] <= '9' {
						n[j] = byte('0' + rng.IntN(10))
					}
				}
				if f.re.Match(n) && !f.mayFit(string(n)) {
					t.Errorf("%s: %s matches but would be skipped", f.Name, n)
				}
			}
			if f.minLen == 0 && f.maxLen < 0 {
				t.Errorf("%s: no length bounds (every number runs its regex)", f.Name)
			}
		}
	}
}
