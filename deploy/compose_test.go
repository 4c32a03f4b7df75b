// Package deploy_test checks the files users deploy trackwatch with: docker-compose.yml
// and the trackwatch config it mounts. No Docker engine runs here, so the compose file
// is validated by Debian's docker-compose (`config` needs no engine) and its trackwatch
// configuration is loaded as `trackwatch config --config` loads it.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trackwatch/trackwatch/config"
)

func dockerCompose(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("docker-compose is missing under CI; .ci/run installs Debian's docker-compose")
	}
	t.Skip("docker-compose not installed (apt-get install docker-compose)")
	return ""
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck *struct {
			Test any `yaml:"test"`
		} `yaml:"healthcheck"`
		Profiles []string `yaml:"profiles"`
	} `yaml:"services"`
}

func TestTheComposeFileIsValidAndItsTrackwatchConfigLoads(t *testing.T) {
	dc := dockerCompose(t)
	file := filepath.Join("..", "docker-compose.yml")
	for _, args := range [][]string{{"-f", file, "config", "-q"}, {"-f", file, "--profile", "grafana", "config", "-q"}} {
		if out, err := exec.Command(dc, args...).CombinedOutput(); err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	for name, s := range cf.Services {
		if s.Image != "" && (!strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
	}
	for _, name := range []string{"kafka", "clickhouse"} {
		if cf.Services[name].Healthcheck == nil {
			t.Errorf("service %s has no health check", name)
		}
	}
	// trackwatch's own configuration in the compose file: its environment and the file
	// it mounts, loaded as trackwatch config --config loads them.
	tw, ok := cf.Services["trackwatch"]
	if !ok || tw.Build == nil {
		t.Fatal("no trackwatch service built from the Dockerfile")
	}
	var mounted string
	for _, v := range tw.Volumes {
		src, dst, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":")
		if dst == tw.Environment["TRACKWATCH_CONFIG"] {
			mounted = filepath.Join("..", src)
		}
	}
	if mounted == "" {
		t.Fatalf("TRACKWATCH_CONFIG %q is not a mounted file", tw.Environment["TRACKWATCH_CONFIG"])
	}
	var env []string
	for k, v := range tw.Environment {
		if k != "TRACKWATCH_CONFIG" {
			env = append(env, k+"="+v)
		}
	}
	cfg, err := config.Load(config.Sources{File: mounted, Env: env})
	if err != nil {
		t.Fatalf("the compose file's trackwatch config does not load: %v", err)
	}
	if cfg.Kafka.Embedded() || cfg.ClickHouse.Embedded() || len(cfg.HTTP.Tokens) == 0 {
		t.Errorf("compose config: brokers %v, clickhouse %v, %d tokens: want real servers and API tokens", cfg.Kafka.Brokers, cfg.ClickHouse.Addr, len(cfg.HTTP.Tokens))
	}
	if tw.Environment["TRACKWATCH_CLICKHOUSE_PASSWORD"] != cf.Services["clickhouse"].Environment["CLICKHOUSE_PASSWORD"] {
		t.Error("trackwatch's ClickHouse password is not the server's")
	}
}
