// Package config provides trackwatch's configuration: one YAML file, overridden by
// TRACKWATCH_* environment variables, overridden by command-line flags, with defaults
// owned by each component's own Config and a validation error that names the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/store"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Config is the whole of trackwatch's configuration. Every key can be set in the file,
// as TRACKWATCH_<KEY_PATH> (dots and nesting become underscores, upper case), or with
// --set key.path=value.
type Config struct {
	Log        LogConfig             `yaml:"log"`
	Runtime    RuntimeConfig         `yaml:"runtime"`
	HTTP       httpapi.Config        `yaml:"http"`
	Kafka      kafkaclient.Config    `yaml:"kafka"`
	Ingest     ingest.Config         `yaml:"ingest"`
	Carriers   carrier.Config        `yaml:"carriers"`
	Numbers    trackingnumber.Config `yaml:"numbers"`
	Detect     detect.Config         `yaml:"detect"`
	Notify     notify.Config         `yaml:"notify"`
	ClickHouse store.Config          `yaml:"clickhouse"`
	Embedded   devstack.Config       `yaml:"embedded"`
}

// LogConfig configures the structured log on stderr.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *LogConfig) Validate() error {
	if c.Level == "" {
		c.Level = "info"
	}
	if c.Format == "" {
		c.Format = "text"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.Level)); err != nil {
		return fmt.Errorf("level: %q is not one of debug, info, warn, error", c.Level)
	}
	if c.Format != "text" && c.Format != "json" {
		return fmt.Errorf("format: %q is not one of text, json", c.Format)
	}
	return nil
}

// Logger builds the configured logger writing to w.
func (c LogConfig) Logger(w *os.File) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// RuntimeConfig tunes the Go runtime of the process.
type RuntimeConfig struct {
	// MemoryLimitMiB is a soft limit on the Go heap: the garbage collector works harder
	// as the heap nears it, instead of letting it grow to twice the live data. It keeps
	// ingest's peak RSS under 300 MiB. 0 means no limit. Default 256. A GOMEMLIMIT
	// environment variable takes precedence.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *RuntimeConfig) Validate() error {
	if c.MemoryLimitMiB == 0 {
		c.MemoryLimitMiB = 256
	}
	if c.MemoryLimitMiB < 0 {
		c.MemoryLimitMiB = 0 // explicit "no limit"
	}
	if c.MemoryLimitMiB != 0 && c.MemoryLimitMiB < 64 {
		return fmt.Errorf("memory_limit_mib: %d is below 64 (use -1 for no limit)", c.MemoryLimitMiB)
	}
	return nil
}

// Apply sets the process's soft memory limit unless GOMEMLIMIT is set.
func (c RuntimeConfig) Apply(environ []string) {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOMEMLIMIT=") {
			return
		}
	}
	if c.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(c.MemoryLimitMiB) << 20)
	}
}

// Validate fills every section's defaults and checks it; the error names the key.
func (c *Config) Validate() error {
	c.Detect = c.Detect.WithDefaults() // the other sections' Validate fill their own
	sections := []struct {
		key string
		v   interface{ Validate() error }
	}{
		{"log", &c.Log}, {"runtime", &c.Runtime}, {"http", &c.HTTP}, {"kafka", &c.Kafka}, {"ingest", &c.Ingest}, {"carriers", &c.Carriers}, {"numbers", &c.Numbers}, {"detect", &c.Detect}, {"notify", &c.Notify},
		{"clickhouse", &c.ClickHouse}, {"embedded", &c.Embedded},
	}
	for _, s := range sections {
		if err := s.v.Validate(); err != nil {
			return &Error{Key: s.key, Err: err}
		}
	}
	// The embedded server knows one user, default, without a password, unless its own
	// configuration file names others; and libchdb's server stops on a failed login.
	if c.ClickHouse.Embedded() && c.Embedded.ClickHouse.ConfigFile == "" {
		if c.ClickHouse.Username != "default" {
			return &Error{Key: "clickhouse", Err: fmt.Errorf("username: %q: the embedded server has only the user default (name clickhouse.addr, or give it users in embedded.clickhouse.config_file)", c.ClickHouse.Username)}
		}
		if c.ClickHouse.Password != "" {
			return &Error{Key: "clickhouse", Err: errors.New("password: the embedded server's user default has no password (clear it, name clickhouse.addr, or give the server users in embedded.clickhouse.config_file)")}
		}
	}
	return nil
}

// Error is a configuration problem at a key.
type Error struct {
	Key    string // dotted path of the section or key
	Source string // file, environment variable or flag, when known
	Err    error
}

func (e *Error) Error() string {
	msg := "config: " + e.Key + "." + e.Err.Error()
	if e.Source != "" {
		msg = "config (" + e.Source + "): " + e.Key + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// EnvPrefix starts every environment override.
const EnvPrefix = "TRACKWATCH_"

// DefaultFile is read when no file is named and it exists in the working directory.
const DefaultFile = "trackwatch.yaml"

// Sources says where configuration comes from, lowest precedence first.
type Sources struct {
	// File is the YAML file; "" reads DefaultFile if present.
	File string
	// Env is the environment, as os.Environ returns it.
	Env []string
	// Sets are key.path=value overrides from flags, applied in order.
	Sets []string
}

// Load reads the sources in order, fills defaults and validates.
func Load(src Sources) (Config, error) {
	var c Config
	file := src.File
	if file == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(b, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", file, err)
		}
	}
	keys := index(reflect.TypeOf(c))
	for _, kv := range src.Env {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || internalEnv[name] {
			continue
		}
		key, ok := keys.byEnv[name]
		if !ok {
			return c, fmt.Errorf("config: environment variable %s matches no key%s", name, suggest(keys, envToKey(name)))
		}
		if err := set(&c, key, value); err != nil {
			return c, &Error{Key: key.path, Source: "environment " + name, Err: err}
		}
	}
	for _, s := range src.Sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return c, fmt.Errorf("config: --set %q is not key.path=value", s)
		}
		key, known := keys.byPath[path]
		if !known {
			return c, fmt.Errorf("config: --set %s: unknown key%s", path, suggest(keys, path))
		}
		if err := set(&c, key, value); err != nil {
			return c, &Error{Key: key.path, Source: "--set", Err: err}
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// internalEnv are TRACKWATCH_ variables that are not configuration keys.
var internalEnv = map[string]bool{"TRACKWATCH_CHDB_CHILD": true, "TRACKWATCH_CONFIG": true}

var unknownFieldRe = regexp.MustCompile(`field (\S+) not found in type \S+`)

func decodeYAML(b []byte, c *Config) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) { // only comments
			return nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = unknownFieldRe.ReplaceAllString(m, `unknown key "$1"`)
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return err
	}
	return nil
}

// Dump renders the effective configuration as YAML, with secrets masked.
func Dump(c Config) (string, error) {
	b, err := yaml.Marshal(c)
	return string(b), err
}

// Keys lists every settable key path, sorted.
func Keys() []string {
	keys := index(reflect.TypeOf(Config{}))
	out := make([]string, 0, len(keys.byPath))
	for p := range keys.byPath {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

type key struct {
	path  string
	index []int
}

type keyIndex struct {
	byPath map[string]key
	byEnv  map[string]key
}

func index(t reflect.Type) keyIndex {
	ki := keyIndex{byPath: map[string]key{}, byEnv: map[string]key{}}
	var walk func(t reflect.Type, prefix string, idx []int)
	walk = func(t reflect.Type, prefix string, idx []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := prefix + name
			fidx := append(append([]int{}, idx...), i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
				walk(f.Type, path+".", fidx)
				continue
			}
			k := key{path: path, index: fidx}
			ki.byPath[path] = k
			ki.byEnv[EnvPrefix+strings.ToUpper(strings.ReplaceAll(path, ".", "_"))] = k
		}
	}
	walk(t, "", nil)
	return ki
}

func envToKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "_", "."))
}

// suggest names the closest known keys sharing the first section.
func suggest(ki keyIndex, path string) string {
	section, _, _ := strings.Cut(path, ".")
	var near []string
	for p := range ki.byPath {
		if strings.HasPrefix(p, section+".") {
			near = append(near, p)
		}
	}
	if len(near) == 0 {
		return " (sections: log, runtime, http, kafka, ingest, carriers, detect, notify, clickhouse, embedded)"
	}
	sort.Strings(near)
	if len(near) > 6 {
		near = append(near[:6], "...")
	}
	return " (keys in " + section + ": " + strings.Join(near, ", ") + ")"
}

var durationType = reflect.TypeOf(time.Duration(0))

// set parses value into the field at k. Lists are comma-separated.
func set(c *Config, k key, value string) error {
	v := reflect.ValueOf(c).Elem().FieldByIndex(k.index)
	value = strings.TrimSpace(value)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", value)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(value)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not true or false", value)
		}
		v.SetBool(b)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", value)
		}
		v.SetInt(n)
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", value)
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, it := range strings.Split(value, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from text (type %s)", v.Type())
	}
	return nil
}
