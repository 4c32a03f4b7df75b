package schemas_test

import (
	"testing"

	"github.com/trackwatch/trackwatch/schemas"
)

// The statements kept in sql/*.sql render, for a database, as they were written in Go.
func TestStatementsInADatabase(t *testing.T) {
	for name, tc := range map[string]struct{ got, want string }{
		"ResetDetectRuns": {schemas.ResetDetectRuns("tw"), "INSERT INTO `tw`.detect_checkpoints (detectors, config_hash, as_of, watermark, full) " +
			"SELECT '', 0, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), false"},
		"FillOrderNumbers": {schemas.FillOrderNumbers("tw"), "INSERT INTO `tw`.order_numbers SELECT DISTINCT tracking_number, order_id FROM `tw`.order_events WHERE tracking_number != ''"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", name, tc.got, tc.want)
		}
	}
}
