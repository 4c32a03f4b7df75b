package simulate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFiles writes the traffic as v1-contract NDJSON, one file per topic
// (tracking-events.ndjson, order-events.ndjson), and the ground truth as truth.json.
func (r *Result) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]*bufio.Writer{}
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			f.Close()
		}
	}()
	for _, m := range r.Messages {
		w, ok := files[m.Topic]
		if !ok {
			f, err := os.Create(filepath.Join(dir, m.Topic+".ndjson"))
			if err != nil {
				return err
			}
			closers = append(closers, f)
			w = bufio.NewWriter(f)
			files[m.Topic] = w
		}
		if _, err := w.Write(append(append([]byte{}, m.Value...), '\n')); err != nil {
			return err
		}
	}
	for topic, w := range files {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", topic, err)
		}
	}
	truth, err := json.MarshalIndent(struct {
		AsOf     string              `json:"as_of"`
		Truth    map[string][]string `json:"truth"`
		Scenario map[string]string   `json:"scenario"`
		Sellers  map[string][]string `json:"seller_truth"`
	}{r.AsOf.Format("2006-01-02T15:04:05Z07:00"), r.Truth, r.Scenario, r.SellerTruth}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "truth.json"), truth, 0o644)
}
