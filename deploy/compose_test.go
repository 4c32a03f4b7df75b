// Package deploy_test checks the files users deploy trackwatch with: docker-compose.yml
// and the trackwatch config it mounts. No Docker engine runs here, so the compose file
// is validated by Debian's docker-compose (`config` needs no engine) and its trackwatch
// configuration is loaded as `trackwatch config --config` loads it.
package deploy_test

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
		Command     any               `yaml:"command"`
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
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var raw composeFile
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for name, s := range raw.Services {
		if s.Image != "" && (!strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
	}
	for _, name := range []string{"kafka", "clickhouse", "trackwatch", "alertmanager"} {
		if raw.Services[name].Healthcheck == nil {
			t.Errorf("service %s has no health check", name)
		}
	}
	// Each profile and each trackwatch config the file offers: valid as docker-compose
	// resolves it, and trackwatch's configuration (its environment and the file it
	// mounts) loads as trackwatch config --config loads it.
	for _, v := range []struct {
		configFile string
		profiles   []string
		receivers  int
	}{
		{"", nil, 0},
		{"", []string{"grafana"}, 0},
		{"trackwatch-alertmanager.yaml", []string{"monitoring"}, 1},
	} {
		args := []string{"-f", file}
		for _, p := range v.profiles {
			args = append(args, "--profile", p)
		}
		cmd := exec.Command(dc, append(args, "config")...)
		cmd.Env = append(os.Environ(), "TRACKWATCH_CONFIG_FILE="+v.configFile)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("docker-compose %s config: %v\n%s", strings.Join(args, " "), err, out)
		}
		var cf composeFile
		if err := yaml.Unmarshal(out, &cf); err != nil {
			t.Fatal(err)
		}
		for _, p := range v.profiles {
			for name, s := range raw.Services {
				if slices.Contains(s.Profiles, p) {
					if _, ok := cf.Services[name]; !ok {
						t.Errorf("profile %s: service %s missing", p, name)
					}
				}
			}
		}
		cfg := trackwatchConfig(t, cf, "trackwatch")
		if cfg.Kafka.Embedded() || cfg.ClickHouse.Embedded() || len(cfg.HTTP.Tokens) == 0 {
			t.Errorf("compose config: brokers %v, clickhouse %v, %d tokens: want real servers and API tokens", cfg.Kafka.Brokers, cfg.ClickHouse.Addr, len(cfg.HTTP.Tokens))
		}
		if len(cfg.Notify.Receivers) != v.receivers {
			t.Errorf("config %q: %d receivers, want %d", v.configFile, len(cfg.Notify.Receivers), v.receivers)
		}
		if cf.Services["trackwatch"].Environment["TRACKWATCH_CLICKHOUSE_PASSWORD"] != cf.Services["clickhouse"].Environment["CLICKHOUSE_PASSWORD"] {
			t.Error("trackwatch's ClickHouse password is not the server's")
		}
		// The topics trackwatch consumes are the ones kafka-init creates.
		init := fmt.Sprint(cf.Services["kafka-init"].Command)
		for _, topic := range []string{cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic} {
			if !strings.Contains(init, topic) {
				t.Errorf("kafka-init does not create topic %s: %s", topic, init)
			}
		}
	}
}

// trackwatchConfig loads the trackwatch service's configuration from a resolved compose
// file: its environment, and the file TRACKWATCH_CONFIG names inside a mounted directory.
func trackwatchConfig(t *testing.T, cf composeFile, service string) config.Config {
	t.Helper()
	tw, ok := cf.Services[service]
	if !ok || tw.Build == nil {
		t.Fatal("no trackwatch service built from the Dockerfile")
	}
	want := tw.Environment["TRACKWATCH_CONFIG"]
	var mounted string
	for _, v := range tw.Volumes {
		src, dst, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":")
		if rel, err := filepath.Rel(dst, want); err == nil && !strings.HasPrefix(rel, "..") {
			mounted = filepath.Join(src, rel)
		}
	}
	if mounted == "" {
		t.Fatalf("TRACKWATCH_CONFIG %q is not in a mounted file or directory", want)
	}
	var env []string
	for k, v := range tw.Environment {
		if k != "TRACKWATCH_CONFIG" {
			env = append(env, k+"="+v)
		}
	}
	cfg, err := config.Load(config.Sources{File: mounted, Env: env})
	if err != nil {
		t.Fatalf("the compose file's trackwatch config %s does not load: %v", mounted, err)
	}
	return cfg
}

// The cluster profile: four ClickHouse servers that the mounted cluster configuration
// names as 2 shards x 2 replicas and as one shard of all four (the everywhere cluster of
// clickhouse.replication write_all), with the password they are given, and a trackwatch
// whose configuration loads as a write_all cluster reached through one of them.
func TestTheClusterProfileIsAWriteAllClusterOfItsServers(t *testing.T) {
	dc := dockerCompose(t)
	out, err := exec.Command(dc, "-f", filepath.Join("..", "docker-compose.yml"), "--profile", "cluster", "config").Output()
	if err != nil {
		t.Fatalf("docker-compose --profile cluster config: %v\n%s", err, out)
	}
	var cf composeFile
	if err := yaml.Unmarshal(out, &cf); err != nil {
		t.Fatal(err)
	}
	cfg := trackwatchConfig(t, cf, "trackwatch-cluster")
	if cfg.ClickHouse.Cluster == "" || cfg.ClickHouse.Replication != "write_all" || len(cfg.ClickHouse.Addr) != 1 {
		t.Fatalf("trackwatch-cluster: cluster %q, replication %q, addr %v: want a write_all cluster through one server", cfg.ClickHouse.Cluster, cfg.ClickHouse.Replication, cfg.ClickHouse.Addr)
	}
	doc := clusterConfig(t, filepath.Join("compose", "clickhouse-cluster.xml"))
	shape := map[string][]int{}
	for _, c := range doc.RemoteServers.Clusters {
		for _, sh := range c.Shards {
			if sh.Internal {
				t.Errorf("cluster %s: internal_replication true: trackwatch writes each replica itself (write_all)", c.XMLName.Local)
			}
			shape[c.XMLName.Local] = append(shape[c.XMLName.Local], len(sh.Replicas))
			for _, r := range sh.Replicas {
				s, ok := cf.Services[r.Host]
				if !ok || !slices.ContainsFunc(s.Volumes, func(v string) bool {
					return strings.HasSuffix(v, "clickhouse-cluster.xml:/etc/clickhouse-server/config.d/cluster.xml:ro")
				}) {
					t.Errorf("cluster %s names %s, which is not a server of the profile with this configuration", c.XMLName.Local, r.Host)
				}
				if r.Port != 9000 || r.Password != s.Environment["CLICKHOUSE_PASSWORD"] || r.Password != cfg.ClickHouse.Password.Reveal() {
					t.Errorf("cluster %s: %s:%d with another password than the server's and trackwatch's", c.XMLName.Local, r.Host, r.Port)
				}
			}
		}
	}
	name := cfg.ClickHouse.Cluster
	if !slices.Equal(shape[name], []int{2, 2}) || !slices.Equal(shape[name+"_everywhere"], []int{4}) {
		t.Errorf("clusters %v: want %s as 2 shards of 2 replicas and %s_everywhere as one shard of 4", shape, name, name)
	}
	if host, _, _ := strings.Cut(cfg.ClickHouse.Addr[0], ":"); cf.Services[host].Image == "" {
		t.Errorf("trackwatch-cluster reaches %s, not a server of the profile", cfg.ClickHouse.Addr[0])
	}
}

// serverConfig is what a ClickHouse server configuration file of the compose profiles
// says of its cluster.
type serverConfig struct {
	RemoteServers struct {
		Clusters []struct {
			XMLName xml.Name
			Shards  []struct {
				Internal bool `xml:"internal_replication"`
				Replicas []struct {
					Host     string `xml:"host"`
					Port     int    `xml:"port"`
					Password string `xml:"password"`
				} `xml:"replica"`
			} `xml:"shard"`
		} `xml:",any"`
	} `xml:"remote_servers"`
	Macros struct {
		Shard struct {
			Env string `xml:"from_env,attr"`
		} `xml:"shard"`
		Replica struct {
			Env string `xml:"from_env,attr"`
		} `xml:"replica"`
	} `xml:"macros"`
	Keepers []struct {
		Host string `xml:"host"`
		Port int    `xml:"port"`
	} `xml:"zookeeper>node"`
	DDLPath string `xml:"distributed_ddl>path"`
}

func clusterConfig(t *testing.T, file string) serverConfig {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc serverConfig
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return doc
}

// The keeper profile: three ClickHouse Keepers, one ensemble by their ids; four
// ClickHouse servers that the mounted configuration names as 2 shards x 2 replicas and
// as one shard of all four, with internal_replication (Keeper copies a replica's
// inserts), each server's macros (from its environment) its own place in the cluster,
// all of them knowing the three keepers; and a trackwatch whose configuration loads as a
// keeper cluster reached through one of them.
func TestTheKeeperProfileIsAReplicatedClusterOfItsServers(t *testing.T) {
	dc := dockerCompose(t)
	out, err := exec.Command(dc, "-f", filepath.Join("..", "docker-compose.yml"), "--profile", "keeper", "config").Output()
	if err != nil {
		t.Fatalf("docker-compose --profile keeper config: %v\n%s", err, out)
	}
	var cf composeFile
	if err := yaml.Unmarshal(out, &cf); err != nil {
		t.Fatal(err)
	}
	cfg := trackwatchConfig(t, cf, "trackwatch-keeper")
	if !cfg.ClickHouse.Keeper() || len(cfg.ClickHouse.Addr) != 1 {
		t.Fatalf("trackwatch-keeper: cluster %q, replication %q, addr %v: want a keeper cluster through one server", cfg.ClickHouse.Cluster, cfg.ClickHouse.Replication, cfg.ClickHouse.Addr)
	}

	// the keepers: one configuration whose raft members are the profile's keepers, each
	// told its own id
	var kc struct {
		ServerID struct {
			Env string `xml:"from_env,attr"`
		} `xml:"keeper_server>server_id"`
		Port int `xml:"keeper_server>tcp_port"`
		Raft []struct {
			ID   string `xml:"id"`
			Host string `xml:"hostname"`
		} `xml:"keeper_server>raft_configuration>server"`
	}
	b, err := os.ReadFile(filepath.Join("compose", "keeper.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &kc); err != nil {
		t.Fatalf("compose/keeper.xml: %v", err)
	}
	if len(kc.Raft) != 3 || kc.ServerID.Env == "" {
		t.Fatalf("compose/keeper.xml: %d raft members, server_id from %q: want 3, the id from the environment", len(kc.Raft), kc.ServerID.Env)
	}
	keepers := map[string]bool{}
	for _, m := range kc.Raft {
		k, ok := cf.Services[m.Host]
		if !ok || !slices.ContainsFunc(k.Volumes, func(v string) bool {
			return strings.HasSuffix(v, "keeper.xml:/etc/clickhouse-keeper/keeper_config.xml:ro")
		}) {
			t.Errorf("raft member %s is not a keeper of the profile with this configuration", m.Host)
			continue
		}
		if k.Environment[kc.ServerID.Env] != m.ID {
			t.Errorf("keeper %s: %s=%q, but the raft configuration gives it id %s", m.Host, kc.ServerID.Env, k.Environment[kc.ServerID.Env], m.ID)
		}
		if k.Healthcheck == nil {
			t.Errorf("keeper %s has no health check", m.Host)
		}
		keepers[m.Host] = true
	}

	doc := clusterConfig(t, filepath.Join("compose", "clickhouse-keeper-cluster.xml"))
	if doc.DDLPath == "" || doc.Macros.Shard.Env == "" || doc.Macros.Replica.Env == "" {
		t.Fatalf("compose/clickhouse-keeper-cluster.xml: distributed_ddl %q, macros from %q and %q: want all three", doc.DDLPath, doc.Macros.Shard.Env, doc.Macros.Replica.Env)
	}
	if len(doc.Keepers) != len(keepers) {
		t.Errorf("the servers know %d keepers, the ensemble has %d", len(doc.Keepers), len(keepers))
	}
	for _, k := range doc.Keepers {
		if !keepers[k.Host] || k.Port != kc.Port {
			t.Errorf("the servers' keeper %s:%d is not a keeper of the ensemble on its port %d", k.Host, k.Port, kc.Port)
		}
	}
	shape := map[string][]int{}
	places := map[string]bool{}
	for _, c := range doc.RemoteServers.Clusters {
		for si, sh := range c.Shards {
			if !sh.Internal {
				t.Errorf("cluster %s: internal_replication false: with Keeper, each shard's insert goes to one replica, which replicates it", c.XMLName.Local)
			}
			shape[c.XMLName.Local] = append(shape[c.XMLName.Local], len(sh.Replicas))
			for ri, r := range sh.Replicas {
				s, ok := cf.Services[r.Host]
				if !ok || !slices.ContainsFunc(s.Volumes, func(v string) bool {
					return strings.HasSuffix(v, "clickhouse-keeper-cluster.xml:/etc/clickhouse-server/config.d/cluster.xml:ro")
				}) {
					t.Errorf("cluster %s names %s, which is not a server of the profile with this configuration", c.XMLName.Local, r.Host)
					continue
				}
				if r.Port != 9000 || r.Password != s.Environment["CLICKHOUSE_PASSWORD"] || r.Password != cfg.ClickHouse.Password.Reveal() {
					t.Errorf("cluster %s: %s:%d with another password than the server's and trackwatch's", c.XMLName.Local, r.Host, r.Port)
				}
				if c.XMLName.Local != cfg.ClickHouse.Cluster {
					continue
				}
				// its macros are its place in the shards' cluster, unique
				place := s.Environment[doc.Macros.Shard.Env] + "/" + s.Environment[doc.Macros.Replica.Env]
				if want := fmt.Sprintf("%d/%d", si+1, ri+1); place != want {
					t.Errorf("%s: macros shard/replica %s, but the cluster has it as %s", r.Host, place, want)
				}
				if places[place] {
					t.Errorf("%s: macros %s again", r.Host, place)
				}
				places[place] = true
			}
		}
	}
	name := cfg.ClickHouse.Cluster
	if !slices.Equal(shape[name], []int{2, 2}) || !slices.Equal(shape[name+"_everywhere"], []int{4}) {
		t.Errorf("clusters %v: want %s as 2 shards of 2 replicas and %s_everywhere as one shard of 4", shape, name, name)
	}
	if host, _, _ := strings.Cut(cfg.ClickHouse.Addr[0], ":"); !slices.ContainsFunc(cf.Services[host].Volumes, func(v string) bool { return strings.Contains(v, "clickhouse-keeper-cluster.xml") }) {
		t.Errorf("trackwatch-keeper reaches %s, not a server of the profile", cfg.ClickHouse.Addr[0])
	}
}

// The monitoring profile's Prometheus and Alertmanager configurations pass their own
// tools' checks (Debian's prometheus and prometheus-alertmanager, which CI installs).
func TestTheMonitoringProfilesConfigsPassTheirToolsChecks(t *testing.T) {
	for _, tool := range []string{"promtool", "amtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing under CI; .ci/run installs it", tool)
			}
			t.Skipf("%s not installed (apt-get install prometheus prometheus-alertmanager)", tool)
		}
	}
	// Prometheus's file names the rules where the container mounts them: check a copy
	// that names them in the repository.
	b, err := os.ReadFile(filepath.Join("compose", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := filepath.Abs(filepath.Join("prometheus", "rules.yml"))
	prom := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(prom, []byte(strings.ReplaceAll(string(b), "/etc/prometheus/rules.yml", rules)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]string{{"promtool", "check", "config", prom}, {"amtool", "check-config", filepath.Join("compose", "alertmanager.yml")}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
}

// The Dockerfile's default (last) target is the production image, which carries no
// embedded engine; only the dev target fetches libchdb. (No engine here to build it.)
func TestTheProductionImageHasNoEmbeddedEngine(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]string{}
	var order []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && strings.EqualFold(f[0], "FROM") && strings.EqualFold(f[2], "AS") {
			cur = f[3]
			order = append(order, cur)
			stages[cur] = line + "\n"
			continue
		}
		if cur != "" && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			stages[cur] += line + "\n"
		}
	}
	if len(order) == 0 || order[len(order)-1] != "production" {
		t.Fatalf("the last stage is %v, want production (the default target)", order)
	}
	prod := stages["production"]
	if !strings.Contains(prod, "distroless/static") || strings.Contains(prod, "chdb") || strings.Contains(prod, "npm") {
		t.Errorf("the production stage is not a static image without the engine:\n%s", prod)
	}
	if strings.Contains(stages["build"], "chdb") {
		t.Error("the build stage fetches libchdb; only dev may")
	}
	if !strings.Contains(stages["dev"], "scripts/fetch-chdb.sh") {
		t.Errorf("the dev stage does not fetch libchdb:\n%s", stages["dev"])
	}
}
