package detect_test

import (
	"fmt"

	"github.com/trackwatch/trackwatch/detect"
)

// A threshold left at zero takes its default; a carrier's override wins over a
// marketplace's, which wins over the global value (in the detectors' SQL).
func ExampleConfig_WithDefaults() {
	cfg := detect.Config{StalledDays: 10, ByCarrier: map[string]detect.Thresholds{"ups": {StalledDays: 3}}}
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	cfg = cfg.WithDefaults()
	fmt.Println(cfg.StalledDays, cfg.NeverScannedWorkingDays, cfg.DefaultProtectionDays, cfg.ByCarrier["ups"].StalledDays, cfg.Schedule)
	// Output: 10 5 60 3 */5 * * * *
}

func ExampleConfig_Validate() {
	cfg := detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {RecycleMonths: 5000}}}
	fmt.Println(cfg.Validate())
	// Output: by_marketplace.aliexpress.recycle_months: 5000 is out of range 1..3650 (0 inherits)
}
