// Package docs_test keeps the documentation true: every link in README.md,
// BENCHMARKS.md and docs/*.md reaches a file of the repository (and a heading of it,
// for an anchor), README links every page of docs/, and docs/architecture.md's import
// layers and table are the ones `go list` reports.
package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/internal/markdown"
)

const root = ".."

func markdownFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "BENCHMARKS.md")}, files...)
	return files
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEveryLinkReachesItsFileAndHeading(t *testing.T) {
	links := 0
	for _, file := range markdownFiles(t) {
		for _, link := range markdown.Links(read(t, file)) {
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			links++
			target, anchor, _ := strings.Cut(link, "#")
			path := file
			if target != "" {
				path = filepath.Join(filepath.Dir(file), target)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: no file %s", file, link, path)
				continue
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !markdown.HeadingAnchors(read(t, path))[anchor] {
				t.Errorf("%s: link %q: %s has no heading with the anchor #%s", file, link, path, anchor)
			}
		}
	}
	if links < 50 {
		t.Fatalf("only %d relative links found: the link reader is broken", links)
	}
}

func TestTheReadmeLinksEveryPage(t *testing.T) {
	readme := filepath.Join(root, "README.md")
	linked := map[string]bool{}
	for _, link := range markdown.Links(read(t, readme)) {
		target, _, _ := strings.Cut(link, "#")
		linked[filepath.Clean(target)] = true
	}
	pages, _ := filepath.Glob("*.md")
	for _, p := range pages {
		if !linked[filepath.Join("docs", p)] {
			t.Errorf("README.md does not link docs/%s", p)
		}
	}
}

var (
	layerRow   = regexp.MustCompile(`^\s+(\d+)\s+\S+\s+(.*)$`)
	continued  = regexp.MustCompile(`^\s{20,}(\S.*)$`)
	importsRow = regexp.MustCompile("^\\| (`[^|]+`) \\| ([^|]+) \\|$")
	backticked = regexp.MustCompile("`([^`]+)`")
)

// architecture reads docs/architecture.md's import layers (package -> layer) and its
// imports table (package -> imports).
func architecture(t *testing.T) (map[string]int, map[string][]string) {
	t.Helper()
	md := read(t, "architecture.md")
	_, section, ok := strings.Cut(md, "## Import layers")
	if !ok {
		t.Fatal("docs/architecture.md has no Import layers section")
	}
	layers, table := map[string]int{}, map[string][]string{}
	inPicture, layer := false, -1
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "```") {
			inPicture = !inPicture
			continue
		}
		if inPicture {
			var pkgs string
			if m := layerRow.FindStringSubmatch(line); m != nil {
				layer, _ = strconv.Atoi(m[1])
				pkgs = m[2]
			} else if m := continued.FindStringSubmatch(line); m != nil && layer >= 0 {
				pkgs = m[1]
			}
			for _, p := range strings.Fields(pkgs) {
				layers[p] = layer
			}
			continue
		}
		if m := importsRow.FindStringSubmatch(line); m != nil {
			var imports []string
			for _, i := range backticked.FindAllStringSubmatch(m[2], -1) {
				imports = append(imports, i[1])
			}
			for _, p := range backticked.FindAllStringSubmatch(m[1], -1) {
				table[p[1]] = imports
			}
		}
	}
	return layers, table
}

// testSupport are packages for tests alone, which the picture leaves out.
var testSupport = []string{"internal/testpki", "devstack/devstacktest", "detect/detecttest", "alert/notify/notifytest", "internal/markdown"}

func TestTheArchitectureImportsAreGoList(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool at %s", goTool)
	}
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}}|{{len .GoFiles}}|{{join .Imports \" \"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	layers, table := architecture(t)
	const module = "github.com/trackwatch/trackwatch/"
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg := strings.TrimPrefix(parts[0], module)
		if parts[1] == "0" || slices.Contains(testSupport, pkg) { // tests only, or test support
			continue
		}
		seen++
		var imports []string
		for _, i := range strings.Fields(parts[2]) {
			if strings.HasPrefix(i, module) {
				imports = append(imports, strings.TrimPrefix(i, module))
			}
		}
		documented, ok := table[pkg]
		if !ok {
			t.Errorf("%s: not in docs/architecture.md's imports table (it imports %v)", pkg, imports)
		} else if slices.Sort(documented); !slices.Equal(documented, imports) {
			t.Errorf("%s: docs/architecture.md says it imports %v; go list says %v", pkg, documented, imports)
		}
		l, ok := layers[pkg]
		if !ok {
			t.Errorf("%s: in no layer of docs/architecture.md's picture", pkg)
			continue
		}
		for _, i := range imports {
			if li, ok := layers[i]; ok && li >= l {
				t.Errorf("%s (layer %d) imports %s (layer %d): not a layer below", pkg, l, i, li)
			}
		}
	}
	if seen < 20 || len(layers) < 20 {
		t.Fatalf("read %d packages from go list and %d from the picture: a reader is broken", seen, len(layers))
	}
}
