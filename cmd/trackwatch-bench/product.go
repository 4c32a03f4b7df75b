package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// productPackage is the product binary's package: ingest and backfill time it as its
// own process, as an operator runs it.
const productPackage = "github.com/trackwatch/trackwatch/cmd/trackwatch"

// buildTrackwatch builds the product binary from the source tree around the working
// directory into dir with the go tool, and returns its path. The harness is no longer
// part of that binary, so it cannot run itself as trackwatch.
func buildTrackwatch(ctx context.Context, dir string) (string, error) {
	goTool, err := findGo()
	if err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "trackwatch")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", exe, productPackage)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (run trackwatch-bench in the repository): %w\n%s", productPackage, err, strings.TrimSpace(out.String()))
	}
	return exe, nil
}

// findGo is the go tool on PATH, else the one of the toolchain this binary was built
// with.
func findGo() (string, error) {
	p, err := exec.LookPath("go")
	if err == nil {
		return p, nil
	}
	if root := runtime.GOROOT(); root != "" {
		if _, serr := os.Stat(filepath.Join(root, "bin", "go")); serr == nil {
			return filepath.Join(root, "bin", "go"), nil
		}
	}
	return "", fmt.Errorf("the go tool, to build %s: %w", productPackage, err)
}

// withTrackwatch runs f with the product binary's path: exe when given (--trackwatch:
// another build, such as a previous release's, measured by this harness on the same
// load), else one built from this source tree into a temp dir, reporting the step, and
// removed afterwards.
func withTrackwatch(ctx context.Context, progress func(string), exe string, f func(exe string) error) error {
	if exe != "" { // checked with the flags
		progress("running " + exe + " as the product binary")
		return f(exe)
	}
	dir, err := os.MkdirTemp("", "trackwatch-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress("building the product binary (go build ./cmd/trackwatch)")
	exe, err = buildTrackwatch(ctx, dir)
	if err != nil {
		return err
	}
	return f(exe)
}
