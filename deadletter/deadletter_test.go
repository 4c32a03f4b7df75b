package deadletter

import (
	"strings"
	"testing"
)

// A dead letter names where it came from: a Kafka position, or a backfill file's line.
func TestOrigin(t *testing.T) {
	if got := (Stored{Topic: "tracking-events", Partition: 3, Offset: 42}).Origin(); got != "tracking-events/3/42" {
		t.Errorf("Kafka origin %q", got)
	}
	if got := (Stored{Topic: "tracking-events", Partition: -1, File: "scans.ndjson", Line: 7}).Origin(); got != "scans.ndjson:7" {
		t.Errorf("file origin %q", got)
	}
}

// The statements render for a database, its name quoted, every value a parameter.
func TestStatements(t *testing.T) {
	list := statements.In("tw", "list")
	for _, want := range []string{"FROM `tw`.dead_letters AS d FINAL", "FROM `tw`.dead_letter_replays GROUP BY",
		"{topic:String}", "{reason:String}", "{since:DateTime64(3, 'UTC')}", "{open:Bool}", "LIMIT {limit:UInt32}"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if got, want := statements.In("tw", "insert_replays"), "INSERT INTO `tw`.dead_letter_replays (topic, partition, offset, source_file, source_line, replayed_at)"; got != want {
		t.Errorf("insert_replays:\n got %q\nwant %q", got, want)
	}
}
