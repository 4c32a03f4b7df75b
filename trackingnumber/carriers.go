package trackingnumber

import (
	"slices"
	"sort"
	"strings"
)

// claimed maps each declared carrier slug that trackwatch checks to the couriers whose
// formats its numbers may have. A post issues UPU S10 numbers beside its domestic ones.
// A slug not here (Amazon Logistics, OnTrac, LaserShip, Purolator, Canada Post, DPD,
// Landmark, YunExpress, Cainiao, ...) is not checked: its courier either has no public,
// testable format or issues numbers in shapes no publication lists, so a number that
// fits none of the known shapes proves nothing. Its formats still name it in courier
// detection.
var claimed = map[string][]string{
	"ups":                {"ups"},
	"fedex":              {"fedex"},
	"usps":               {"usps", "s10"},
	"usps-international": {"usps", "s10"},
	"dhl":                {"dhl"},
	"dhl-express":        {"dhl"},
	"dhl-ecommerce":      {"dhl"},
	"dhl-paket":          {"dhl"},
	"deutsche-post":      {"s10", "deutsche-post", "dhl"},
	"japan-post":         {"s10", "japan-post"},
	"yamato":             {"yamato"},
	"china-post":         {"s10", "china-post"},
	"korea-post":         {"s10", "korea-post"},
	"royal-mail":         {"s10", "royal-mail"},
	"la-poste":           {"s10", "la-poste"},
	"colissimo":          {"s10", "la-poste"},
	"correios":           {"s10", "correios"},
	"ems":                {"ems"},
	"china-ems":          {"ems"},
	"japan-ems":          {"ems"},
}

// CouriersOf returns the couriers whose formats a number declared as slug is judged
// against; none means slug is not checked.
func CouriersOf(slug string) []string { return claimed[slug] }

// CheckedCarriers lists the carrier slugs trackwatch checks.
func CheckedCarriers() []string {
	out := make([]string, 0, len(claimed))
	for s := range claimed {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// s10Posts names the post of an S10 number's origin country where trackwatch has a slug.
var s10Posts = map[string]string{
	"CN": "china-post", "JP": "japan-post", "KR": "korea-post", "GB": "royal-mail", "FR": "la-poste",
	"DE": "deutsche-post", "BR": "correios", "US": "usps", "CA": "canada-post", "AU": "australia-post",
	"NL": "postnl", "AT": "austrian-post", "CH": "swiss-post",
}

// slugOf names the carrier a fitting format points to: the origin post for an S10
// number, else the courier's code.
func slugOf(code string, m Match) string {
	if code == "s10" || code == "ems" {
		cc := m.country
		if p, ok := s10Posts[cc]; ok {
			return p
		}
		return "upu-s10-" + cc
	}
	return code
}

// WithPostal returns a checker that also judges the numbers of slugs (carriers a
// deployment names as posts, detect.postal_carriers) as UPU S10 numbers.
func (c *Checker) WithPostal(slugs []string) *Checker {
	cc := &Checker{spec: c.spec, extra: map[string][]string{}}
	for _, s := range slugs {
		if _, ok := claimed[s]; !ok && !slices.Contains(cc.extra[s], "s10") {
			cc.extra[s] = append(cc.extra[s], "s10")
		}
	}
	if len(cc.extra) > 0 {
		extra := make([]string, 0, len(cc.extra))
		for s := range cc.extra {
			extra = append(extra, s)
		}
		sort.Strings(extra)
		cc.version = c.spec.Version + "+postal:" + strings.Join(extra, ",")
	}
	return cc
}
