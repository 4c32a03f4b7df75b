// Package prometheus_test checks the Prometheus alerting rules for operating trackwatch
// (deploy/prometheus/rules.yml): that Debian's promtool accepts them and passes their
// unit tests (rules_test.yml), that they name only metrics and labels trackwatch
// exports, as its Go source declares them, and that every rule has its severity,
// annotations and runbook anchor and is tested both firing and not firing.
package prometheus_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trackwatch/trackwatch/internal/markdown"
)

const (
	rulesFile     = "rules.yml"
	rulesTestFile = "rules_test.yml"
	moduleRoot    = "../.."
	repoBlob      = "https://github.com/trackwatch/trackwatch/blob/main/"
	runbookBase   = repoBlob + "docs/runbooks.md#runbook-"
)

func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("promtool is missing under CI; .ci/run installs Debian's prometheus package, which provides it")
	}
	t.Skip("promtool not installed (apt-get install prometheus)")
	return ""
}

func TestPromtoolChecksTheRulesAndPassesTheirUnitTests(t *testing.T) {
	pt := promtool(t)
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(pt, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return rules
}

var (
	// metricName is a metric declared in Go: the Name of its prometheus.*Opts, and the
	// kind of those options (Counter, Gauge, Histogram, Summary; "" when not beside it).
	metricName = regexp.MustCompile(`(?:(\w+)Opts\{\s*)?Name:\s*"(trackwatch_[a-zA-Z0-9_]+)"`)
	// labelList is the label names of a *Vec, the []string after its options.
	labelList = regexp.MustCompile(`\[\]string\{([^}]*)\}`)
	quoted    = regexp.MustCompile(`"([^"]*)"`)

	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	metricRef  = regexp.MustCompile(`\btrackwatch_[a-zA-Z0-9_]+`)
	selector   = regexp.MustCompile(`\b(trackwatch_[a-zA-Z0-9_]+)\s*\{([^}]*)\}`)
	matcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	replaced   = regexp.MustCompile(`label_replace\(.*?,\s*"([a-zA-Z_][a-zA-Z0-9_]*)",\s*"[^"]*",\s*"[^"]*",\s*"[^"]*"\s*\)`)
	labelsRef  = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	targetKeys = []string{"job", "instance"} // the labels Prometheus gives every scraped series
)

// metric is a metric trackwatch declares.
type metric struct {
	kind   string   // Counter, Gauge, Histogram, Summary; "" when unknown
	labels []string // nil when the scan finds none
}

// exportedMetrics scans the module's Go source (tests excluded) for the metrics
// trackwatch declares: the Name of each prometheus.*Opts, with its kind and the label
// names of its *Vec.
func exportedMetrics(t *testing.T) map[string]metric {
	t.Helper()
	metrics := map[string]metric{}
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != moduleRoot && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		decls := metricName.FindAllStringSubmatchIndex(src, -1)
		for i, m := range decls {
			end := len(src)
			if i+1 < len(decls) {
				end = decls[i+1][0]
			}
			var labels []string
			if l := labelList.FindStringSubmatch(src[m[1]:end]); l != nil {
				labels = []string{}
				for _, q := range quoted.FindAllStringSubmatch(l[1], -1) {
					labels = append(labels, q[1])
				}
			}
			kind := ""
			if m[2] >= 0 {
				kind = src[m[2]:m[3]]
			}
			metrics[src[m[4]:m[5]]] = metric{kind: kind, labels: labels}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan itself must work: the ingest, detector and notification metrics.
	for _, known := range []string{"trackwatch_ingest_consumer_lag", "trackwatch_detect_runs_total", "trackwatch_notify_deliveries_total"} {
		if _, ok := metrics[known]; !ok {
			t.Fatalf("the scan of the Go source found no %s (found %d metrics): is the scan broken?", known, len(metrics))
		}
	}
	return metrics
}

// resolve is the exported metric a name in an expression refers to: itself, or the
// histogram (or summary) whose _bucket, _sum or _count series it is.
func resolve(name string, exported map[string]metric) (string, bool) {
	if _, ok := exported[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			switch m, ok := exported[base]; {
			case !ok:
			case m.kind == "Histogram", m.kind == "Summary" && suffix != "_bucket", m.kind == "":
				return base, true
			}
		}
	}
	return "", false
}

func TestTheRulesUseOnlyMetricsAndLabelsTrackwatchExports(t *testing.T) {
	exported := exportedMetrics(t)
	for _, r := range readRules(t) {
		name := r.Alert + r.Record
		expr := stringLit.ReplaceAllString(r.Expr, `""`)
		allowed := map[string]bool{}
		for _, k := range targetKeys {
			allowed[k] = true
		}
		known := true // every metric's labels are known, so labels can be checked
		for _, ref := range metricRef.FindAllString(expr, -1) {
			base, ok := resolve(ref, exported)
			if !ok {
				t.Errorf("%s: %s is not a metric trackwatch exports (no Name: %q in its Go source)", name, ref, ref)
				known = false
				continue
			}
			labels := exported[base].labels
			if labels == nil {
				known = false
			}
			for _, l := range labels {
				allowed[l] = true
			}
			if ref == base+"_bucket" {
				allowed["le"] = true
			}
		}
		if !known {
			continue
		}
		// Labels in selectors must be the metric's own (or the target's).
		for _, s := range selector.FindAllStringSubmatch(expr, -1) {
			base, ok := resolve(s[1], exported)
			if !ok {
				continue
			}
			own := append(slices.Clone(exported[base].labels), targetKeys...)
			if s[1] == base+"_bucket" {
				own = append(own, "le")
			}
			for _, m := range matcher.FindAllStringSubmatch(s[2], -1) {
				if !slices.Contains(own, m[1]) {
					t.Errorf("%s: %s has no label %q (its labels: %v)", name, s[1], m[1], exported[base].labels)
				}
			}
		}
		for _, m := range replaced.FindAllStringSubmatch(r.Expr, -1) {
			allowed[m[1]] = true // made by the expression itself
		}
		// Labels grouped on, and labels the annotations show, must be labels of the
		// metrics the rule reads.
		for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !allowed[l] {
					t.Errorf("%s: groups on %q, a label none of its metrics has", name, l)
				}
			}
		}
		for _, text := range r.Annotations {
			for _, m := range labelsRef.FindAllStringSubmatch(text, -1) {
				if !allowed[m[1]] {
					t.Errorf("%s: an annotation shows $labels.%s, a label none of its metrics has", name, m[1])
				}
			}
		}
	}
}

func TestEveryRuleHasSeverityAnnotationsAndARunbookAnchor(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range readRules(t) {
		if r.Alert == "" {
			continue // a recording rule
		}
		if seen[r.Alert] {
			t.Errorf("%s: two rules of that name", r.Alert)
		}
		seen[r.Alert] = true
		if !regexp.MustCompile(`^Trackwatch[A-Z][A-Za-z0-9]*$`).MatchString(r.Alert) {
			t.Errorf("%s: alert names are CamelCase and start with Trackwatch", r.Alert)
		}
		if r.For == "" {
			t.Errorf("%s: no for:", r.Alert)
		}
		if s := r.Labels["severity"]; s != "page" && s != "ticket" {
			t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
		}
		for _, a := range []string{"summary", "description"} {
			if !strings.Contains(r.Annotations[a], "{{") {
				t.Errorf("%s: annotation %s %q is missing or not templated", r.Alert, a, r.Annotations[a])
			}
		}
		if want := runbookBase + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
	}
}

func TestEveryRuleIsTestedFiringAndNotFiring(t *testing.T) {
	b, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []struct {
					ExpLabels      map[string]string `yaml:"exp_labels"`
					ExpAnnotations map[string]string `yaml:"exp_annotations"`
				} `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	if !slices.Contains(f.RuleFiles, rulesFile) {
		t.Errorf("%s tests rule files %v, not %s", rulesTestFile, f.RuleFiles, rulesFile)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				quiet[a.Alertname] = true
				continue
			}
			fires[a.Alertname] = true
			for _, e := range a.ExpAlerts {
				for _, k := range []string{"summary", "description", "runbook_url"} {
					if e.ExpAnnotations[k] == "" {
						t.Errorf("%s: a test expects the alert without checking its %s", a.Alertname, k)
					}
				}
				if e.ExpLabels["severity"] == "" {
					t.Errorf("%s: a test expects the alert without checking its labels", a.Alertname)
				}
			}
		}
	}
	var missing []string
	for _, r := range readRules(t) {
		if r.Alert == "" {
			continue
		}
		if !fires[r.Alert] {
			missing = append(missing, r.Alert+" (firing)")
		}
		if !quiet[r.Alert] {
			missing = append(missing, r.Alert+" (not firing)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s has no case for: %s", rulesTestFile, strings.Join(missing, ", "))
	}
}

// Every rule's runbook_url must lead to a heading of the file it names in this
// repository (docs/runbooks.md): its path after the repository's blob URL must be a file
// of the module, and its fragment the GitHub anchor of one of that file's headings
// ("## Runbook: TrackwatchDown" is #runbook-trackwatchdown).
func TestEveryRunbookURLLeadsToAHeading(t *testing.T) {
	files := map[string]map[string]bool{} // file -> its headings' anchors
	for _, r := range readRules(t) {
		if r.Alert == "" {
			continue
		}
		u := r.Annotations["runbook_url"]
		rest, ok := strings.CutPrefix(u, repoBlob)
		if !ok {
			t.Errorf("%s: runbook_url %q is not a file of this repository (%s...)", r.Alert, u, repoBlob)
			continue
		}
		file, anchor, ok := strings.Cut(rest, "#")
		if !ok || anchor == "" {
			t.Errorf("%s: runbook_url %q has no #anchor", r.Alert, u)
			continue
		}
		anchors, seen := files[file]
		if !seen {
			b, err := os.ReadFile(filepath.Join(moduleRoot, filepath.FromSlash(file)))
			if err != nil {
				t.Errorf("%s: runbook_url %q names a file that does not exist: %v", r.Alert, u, err)
				continue
			}
			anchors = markdown.HeadingAnchors(string(b))
			files[file] = anchors
		}
		if !anchors[anchor] {
			t.Errorf("%s: %s has no heading whose anchor is #%s (the runbook_url %q); want a heading \"## Runbook: %s\"", r.Alert, file, anchor, u, r.Alert)
		}
	}
}
