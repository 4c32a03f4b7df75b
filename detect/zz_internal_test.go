package detect

import (
	"fmt"
	"os"
	"testing"
)

func TestZZSizes(t *testing.T) {
	s, err := NewSet("det")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("draft", len(s.findingsDraft), "all", len(s.findings))
	for _, v := range s.stages {
		fmt.Println("candidates", len(v.candidates), "orders", len(v.orders))
		break
	}
	for _, p := range s.data.Detectors {
		fmt.Println(p.Name, len(p.Evidence), len(p.Reasons["en"]), len(p.Reasons["ja"]), len(p.Columns), len(p.Flag), len(p.NextCheck))
	}
	os.WriteFile("/tmp/draft.sql", []byte(s.findingsDraft), 0o644)
}
