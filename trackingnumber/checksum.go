package trackingnumber

import (
	"fmt"
	"strconv"
)

// Checksum is one check-digit algorithm with its parameters, as the format specification
// names them (validation.checksum). Expected computes the check character that serial
// must carry; ok is false when serial holds a character the algorithm cannot weigh.
type Checksum struct {
	// Name is the specification's name: mod10, mod7, s10, luhn, mod_37_36,
	// sum_product_with_weightings_and_modulo.
	Name string `json:"name"`
	// EvensMultiplier and OddsMultiplier weigh mod10's characters by their 0-based
	// position in the serial (even positions, odd positions). Zero means 1.
	EvensMultiplier int `json:"evens_multiplier"`
	OddsMultiplier  int `json:"odds_multiplier"`
	// Weightings, Modulo1 and Modulo2 are sum_product_with_weightings_and_modulo's: the
	// weighted sum of the serial's digits, mod Modulo1, mod Modulo2.
	// Reverse weighs mod10's positions from the right of the serial (USPS IMpb).
	Reverse    bool  `json:"reverse"`
	Weightings []int `json:"weightings"`
	Modulo1    int   `json:"modulo1"`
	Modulo2    int   `json:"modulo2"`
}

// validate reports a checksum the checker cannot compute.
func (c Checksum) validate() error {
	switch c.Name {
	case "mod10", "mod7", "s10", "luhn", "mod_37_36":
		return nil
	case "sum_product_with_weightings_and_modulo":
		if len(c.Weightings) == 0 || c.Modulo1 <= 0 || c.Modulo2 <= 0 {
			return fmt.Errorf("checksum %s needs weightings, modulo1 and modulo2", c.Name)
		}
		return nil
	}
	return fmt.Errorf("unknown checksum algorithm %q", c.Name)
}

// Expected returns the check character serial must be followed by.
func (c Checksum) Expected(serial string) (string, bool) {
	switch c.Name {
	case "mod10":
		return mod10(serial, c.EvensMultiplier, c.OddsMultiplier, c.Reverse)
	case "mod7":
		return mod7(serial)
	case "s10":
		return s10(serial)
	case "luhn":
		return luhn(serial)
	case "mod_37_36":
		return mod3736(serial)
	case "sum_product_with_weightings_and_modulo":
		return sumProduct(serial, c.Weightings, c.Modulo1, c.Modulo2)
	}
	return "", false
}

// Describe is the algorithm in words, for an explanation.
func (c Checksum) Describe() string {
	switch c.Name {
	case "mod10":
		return fmt.Sprintf("mod 10, even positions x%d, odd positions x%d", one(c.EvensMultiplier), one(c.OddsMultiplier))
	case "mod7":
		return "the serial mod 7"
	case "s10":
		return "UPU S10: weights 8 6 4 2 3 5 9 7, 11 - sum mod 11 (10 -> 0, 11 -> 5)"
	case "luhn":
		return "Luhn"
	case "mod_37_36":
		return "ISO/IEC 7064 MOD 37,36"
	case "sum_product_with_weightings_and_modulo":
		return fmt.Sprintf("weights %v, sum mod %d mod %d", c.Weightings, c.Modulo1, c.Modulo2)
	}
	return c.Name
}

func one(m int) int {
	if m == 0 {
		return 1
	}
	return m
}

// digitValue is a serial character's value for mod10: a digit is itself, a letter
// (UPS's 1Z numbers carry them) is (its code - 3) mod 10, as the specification's
// libraries compute it: A=2, B=3, ... H=9, I=0, ..., Z=7.
func digitValue(r byte) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= 'A' && r <= 'Z':
		return (int(r) - 3) % 10, true
	}
	return 0, false
}

func mod10(serial string, evens, odds int, reverse bool) (string, bool) {
	evens, odds = one(evens), one(odds)
	total := 0
	for i := 0; i < len(serial); i++ {
		v, ok := digitValue(serial[i])
		if !ok {
			return "", false
		}
		pos := i
		if reverse {
			pos = len(serial) - 1 - i
		}
		if pos%2 == 0 {
			total += v * evens
		} else {
			total += v * odds
		}
	}
	x := total % 10
	if x != 0 {
		x = 10 - x
	}
	return strconv.Itoa(x), true
}

func mod7(serial string) (string, bool) {
	if serial == "" {
		return "", false
	}
	r := 0
	for i := 0; i < len(serial); i++ {
		if serial[i] < '0' || serial[i] > '9' {
			return "", false
		}
		r = (r*10 + int(serial[i]-'0')) % 7
	}
	return strconv.Itoa(r), true
}

var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

func s10(serial string) (string, bool) {
	if len(serial) != 8 {
		return "", false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		if serial[i] < '0' || serial[i] > '9' {
			return "", false
		}
		sum += int(serial[i]-'0') * s10Weights[i]
	}
	switch r := sum % 11; r {
	case 0:
		return "5", true
	case 1:
		return "0", true
	default:
		return strconv.Itoa(11 - r), true
	}
}

// luhn is the check digit that makes serial+digit pass the Luhn test: from the right of
// serial, every first digit doubled (its digits summed).
func luhn(serial string) (string, bool) {
	if serial == "" {
		return "", false
	}
	sum := 0
	for i := len(serial) - 1; i >= 0; i-- {
		c := serial[i]
		if c < '0' || c > '9' {
			return "", false
		}
		d := int(c - '0')
		if (len(serial)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10), true
}

// mod3736 is ISO/IEC 7064 MOD 37,36 (a hybrid system over 0-9 and A-Z): the check
// character is a digit or a letter.
func mod3736(serial string) (string, bool) {
	const m = 36
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	if serial == "" {
		return "", false
	}
	p := m
	for i := 0; i < len(serial); i++ {
		c := serial[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return "", false
		}
		s := (p + v) % m
		if s == 0 {
			s = m
		}
		p = (s * 2) % (m + 1)
	}
	return string(alphabet[(m+1-p)%m]), true
}

func sumProduct(serial string, weights []int, m1, m2 int) (string, bool) {
	if serial == "" || m1 <= 0 || m2 <= 0 {
		return "", false
	}
	sum := 0
	for i := 0; i < len(serial) && i < len(weights); i++ {
		if serial[i] < '0' || serial[i] > '9' {
			return "", false
		}
		sum += int(serial[i]-'0') * weights[i]
	}
	return strconv.Itoa(sum % m1 % m2), true
}
