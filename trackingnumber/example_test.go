package trackingnumber_test

import (
	"fmt"

	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Load finds the pinned specification's files where `make numbers` put them (or
// numbers.spec_dir names); Check judges a number for the carrier the seller declared.
func ExampleChecker_Check() {
	c, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		fmt.Println("run make numbers:", err)
		return
	}
	for _, n := range []struct{ number, carrier string }{
		{"RR123456785CN", "china-post"},      // UPU S10, check digit 5
		{"RR123456784CN", "china-post"},      // the same with a wrong check digit
		{"1Z999AA10123456784", "fedex"},      // a valid UPS number declared as FedEx
		{"YT2312345678901234", "yunexpress"}, // a courier trackwatch cannot check
	} {
		r := c.Check(n.number, n.carrier)
		fmt.Println(n.number, n.carrier, r.Verdict, r.Candidates)
	}
	// Output:
	// RR123456785CN china-post valid [china-post]
	// RR123456784CN china-post invalid []
	// 1Z999AA10123456784 fedex other_courier [ups]
	// YT2312345678901234 yunexpress unchecked [yunexpress]
}
