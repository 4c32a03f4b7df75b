package markdown

import (
	"slices"
	"testing"
)

func TestHeadingAnchorsFollowGitHub(t *testing.T) {
	got := HeadingAnchors("# Runbooks\n\n## Runbook: TrackwatchDown\n```\n## Runbook: NotAHeading\n```\n### Working against `trackwatch dev`\n## Real Kafka and ClickHouse, and docker-compose\n## Runbooks\n")
	for _, want := range []string{"runbooks", "runbook-trackwatchdown", "working-against-trackwatch-dev", "real-kafka-and-clickhouse-and-docker-compose", "runbooks-1"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["runbook-notaheading"] {
		t.Errorf("a line in a code block was taken for a heading: %v", got)
	}
}

func TestLinks(t *testing.T) {
	got := Links("See [the docs](docs/a.md#x) and ![shot](s.png \"t\").\n```\n[not](a link)\n```\nIn `[code](x)` no link; [web](https://example.com).\n")
	if want := []string{"docs/a.md#x", "s.png", "https://example.com"}; !slices.Equal(got, want) {
		t.Fatalf("Links = %q, want %q", got, want)
	}
}
