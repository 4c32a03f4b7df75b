package ingest

import (
	"strings"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// NormaliseTrackingNumber returns the form trackwatch compares numbers in: upper case,
// without spaces, dashes or other separators a person or a label printer adds.
func NormaliseTrackingNumber(s string) string { return trackingnumber.Normalise(s) }

// NormalisePostalCode makes "100-0001", "100 0001" and "1000001" compare equal.
func NormalisePostalCode(s string) string { return NormaliseTrackingNumber(s) }

// NormaliseCity makes "TOKYO", "Tokyo " and "tokyo" compare equal: lower case, letters
// and digits only, single spaces.
func NormaliseCity(s string) string { return carrier.Fold(s) }

// StatusUnknown is stored for a carrier phrase that no phrase table covers. The event
// is kept; it is never counted as movement.
const StatusUnknown = "unknown"

// StatusFromRaw derives the normalised status from a carrier's own words with the
// embedded phrase tables (package carrier); the carrier slug selects its own table.
func StatusFromRaw(carrierSlug, raw string) string {
	return defaultDecoder.phrases.Classify(carrierSlug, raw).Status()
}

// countries maps normalised country names and common variants to ISO 3166-1 alpha-2.
var countries = map[string]string{
	"afghanistan": "AF", "albania": "AL", "algeria": "DZ", "argentina": "AR", "armenia": "AM",
	"australia": "AU", "austria": "AT", "azerbaijan": "AZ", "bahrain": "BH", "bangladesh": "BD",
	"belarus": "BY", "belgium": "BE", "bolivia": "BO", "bosnia and herzegovina": "BA", "brazil": "BR",
	"brasil": "BR", "bulgaria": "BG", "cambodia": "KH", "cameroon": "CM", "canada": "CA", "chile": "CL",
	"china": "CN", "peoples republic of china": "CN", "people s republic of china": "CN", "prc": "CN",
	"mainland china": "CN", "colombia": "CO", "costa rica": "CR", "croatia": "HR", "cyprus": "CY",
	"czech republic": "CZ", "czechia": "CZ", "denmark": "DK", "dominican republic": "DO", "ecuador": "EC",
	"egypt": "EG", "estonia": "EE", "ethiopia": "ET", "finland": "FI", "france": "FR", "georgia": "GE",
	"germany": "DE", "deutschland": "DE", "ghana": "GH", "greece": "GR", "guatemala": "GT",
	"hong kong": "HK", "hongkong": "HK", "hong kong sar": "HK", "hungary": "HU", "iceland": "IS",
	"india": "IN", "indonesia": "ID", "iran": "IR", "iraq": "IQ", "ireland": "IE", "israel": "IL",
	"italy": "IT", "italia": "IT", "japan": "JP", "nippon": "JP", "jordan": "JO", "kazakhstan": "KZ",
	"kenya": "KE", "south korea": "KR", "korea": "KR", "republic of korea": "KR", "korea republic of": "KR",
	"kuwait": "KW", "latvia": "LV", "lebanon": "LB", "lithuania": "LT", "luxembourg": "LU", "macau": "MO",
	"macao": "MO", "malaysia": "MY", "malta": "MT", "mexico": "MX", "méxico": "MX", "moldova": "MD",
	"mongolia": "MN", "morocco": "MA", "myanmar": "MM", "nepal": "NP", "netherlands": "NL",
	"the netherlands": "NL", "holland": "NL", "new zealand": "NZ", "nigeria": "NG", "north macedonia": "MK",
	"norway": "NO", "oman": "OM", "pakistan": "PK", "panama": "PA", "paraguay": "PY", "peru": "PE",
	"philippines": "PH", "poland": "PL", "polska": "PL", "portugal": "PT", "puerto rico": "PR", "qatar": "QA",
	"romania": "RO", "russia": "RU", "russian federation": "RU", "saudi arabia": "SA", "serbia": "RS",
	"singapore": "SG", "slovakia": "SK", "slovenia": "SI", "south africa": "ZA", "spain": "ES", "espana": "ES",
	"españa": "ES", "sri lanka": "LK", "sweden": "SE", "switzerland": "CH", "taiwan": "TW", "thailand": "TH",
	"tunisia": "TN", "turkey": "TR", "turkiye": "TR", "türkiye": "TR", "ukraine": "UA",
	"united arab emirates": "AE", "uae": "AE", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
	"britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
	"united states": "US", "united states of america": "US", "usa": "US", "u s a": "US", "u s": "US",
	"america": "US", "uruguay": "UY", "uzbekistan": "UZ", "venezuela": "VE", "vietnam": "VN", "viet nam": "VN",
}

// NormaliseCountry returns the ISO 3166-1 alpha-2 code for a code or a country name, so
// "JP", "jp" and "Japan" compare equal. A name it does not know is returned upper-cased,
// so two identical unknown names still compare equal.
func NormaliseCountry(s string) string {
	t := strings.TrimSpace(s)
	if code, ok := countries[NormaliseCity(t)]; ok { // names, and "UK" (reserved for GB)
		return code
	}
	if len(t) == 2 && isASCIILetters(t) {
		return strings.ToUpper(t)
	}
	if len(t) == 3 && isASCIILetters(t) {
		if code, ok := alpha3[strings.ToUpper(t)]; ok {
			return code
		}
	}
	return strings.ToUpper(t)
}

var alpha3 = map[string]string{
	"USA": "US", "GBR": "GB", "CHN": "CN", "JPN": "JP", "DEU": "DE", "FRA": "FR", "ESP": "ES",
	"ITA": "IT", "RUS": "RU", "BRA": "BR", "CAN": "CA", "AUS": "AU", "KOR": "KR", "MEX": "MX",
	"NLD": "NL", "POL": "PL", "TUR": "TR", "UKR": "UA", "IND": "IN", "ISR": "IL", "SWE": "SE",
	"CHE": "CH", "BEL": "BE", "AUT": "AT", "PRT": "PT", "HKG": "HK", "TWN": "TW", "SGP": "SG",
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
