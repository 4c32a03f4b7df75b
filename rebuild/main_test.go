package rebuild_test

import (
	"os"
	"testing"

	"github.com/trackwatch/trackwatch/devstack"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested() // the embedded ClickHouse of the tests' worlds
	os.Exit(m.Run())
}
