package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/config"
)

func TestBadConfigFilesNameTheProblem(t *testing.T) {
	want := map[string]string{
		"unknown_key.yaml":                             `unknown key "brokerz"`,
		"broker_without_port.yaml":                     `kafka.brokers[0]: "nohost" is not host:port`,
		"duration_not_a_duration.yaml":                 "soon",
		"log_level_unknown.yaml":                       `log.level: "loud" is not one of`,
		"sasl_mechanism_unknown.yaml":                  `kafka.sasl.mechanism: "gssapi"`,
		"sasl_without_username.yaml":                   "kafka.sasl.username: required",
		"topics_the_same.yaml":                         "kafka.order_topic",
		"port_out_of_range.yaml":                       "embedded.clickhouse.tcp_port: 70000 is out of range",
		"database_not_identifier.yaml":                 "clickhouse.database:",
		"not_yaml.yaml":                                "yaml:",
		"tls_ca_file_missing.yaml":                     "kafka.tls.ca_file:",
		"http_public_without_tokens.yaml":              "http.listen: 0.0.0.0:8080 is not a loopback address and no tokens are configured",
		"token_role_unknown.yaml":                      `http.tokens[0].role: "admin"`,
		"webhook_without_secret.yaml":                  "notify.receivers[0]: secret: a webhook receiver needs a signing secret",
		"phrase_sub_status_unknown.yaml":               `carriers.phrases[0]: "preparing" is not a sub-status`,
		"embedded_with_password.yaml":                  "clickhouse.password: the embedded server's user default has no password",
		"embedded_other_user.yaml":                     `clickhouse.username: "analyst": the embedded server has only the user default`,
		"ingest_webhook_provider_unknown.yaml":         `ingest.webhooks[1].provider: "parcelpanel" is not one of 17track, aftership`,
		"ingest_webhooks_listen_without_webhooks.yaml": "ingest.webhooks_listen: 0.0.0.0:8443 is set but no webhooks are configured",
		"cluster_too_many_nodes.yaml":                  "embedded.clickhouse.shards: 5 x 4 replicas is more than 16 embedded nodes",
		"replication_unknown.yaml":                     `clickhouse.replication: "paxos" must be keeper or write_all`,
		"retention_summaries_shorter.yaml":             "clickhouse.retention.summaries_months: 25 must be from events_months (26)",
		"seller_vtr_target_by_carrier.yaml":            "detect.by_carrier.ups.seller_vtr_target: a seller's rate spans its carriers",
		"seller_vtr_target_out_of_range.yaml":          "detect.seller_vtr_target: 95 is out of range 0..1",
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad examples, %d expectations: keep them in step", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := config.Load(config.Sources{File: f})
			if err == nil {
				t.Fatalf("loaded without error")
			}
			if !strings.Contains(err.Error(), want[filepath.Base(f)]) {
				t.Fatalf("error %q does not contain %q", err, want[filepath.Base(f)])
			}
		})
	}
}

func TestGoodConfigFilesLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, filepath.Join("..", "trackwatch.yaml")) // the committed example
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := config.Load(config.Sources{File: f}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestProductionExampleKeepsItsValuesAndMasksSecrets(t *testing.T) {
	c, err := config.Load(config.Sources{File: "testdata/good/production.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Kafka.Brokers, []string{"kafka-1:9092", "kafka-2:9092"}) || c.Kafka.Embedded() {
		t.Fatalf("brokers = %v", c.Kafka.Brokers)
	}
	if c.ClickHouse.DialTimeout != 5*time.Second || c.ClickHouse.Cluster != "prod" || c.Kafka.TrackingTopic != "tracking-events" {
		t.Fatalf("clickhouse = %+v, tracking topic %q", c.ClickHouse, c.Kafka.TrackingTopic)
	}
	dump, err := config.Dump(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "s3cret") {
		t.Fatalf("dump leaks a password:\n%s", dump)
	}
}

func TestEmptyConfigMeansEmbeddedDefaults(t *testing.T) {
	c, err := config.Load(config.Sources{File: "testdata/good/empty.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Kafka.Embedded() || !c.ClickHouse.Embedded() {
		t.Fatal("empty config should select the embedded stack")
	}
	if c.Embedded.Kafka.Listen != "127.0.0.1:9092" || c.Embedded.Kafka.Partitions != 4 ||
		c.Embedded.ClickHouse.TCPPort != 9000 || c.Embedded.ClickHouse.HTTPPort != 8123 ||
		c.Embedded.ClickHouse.DataDir != "./data/clickhouse" || c.HTTP.Listen != "127.0.0.1:8080" {
		t.Fatalf("defaults = %+v %+v", c.Embedded, c.HTTP)
	}
}

func TestFlagsOverrideEnvOverrideFile(t *testing.T) {
	c, err := config.Load(config.Sources{
		File: "testdata/good/production.yaml",
		Env:  []string{"TRACKWATCH_KAFKA_GROUP_ID=from-env", "TRACKWATCH_KAFKA_BROKERS=e1:9092, e2:9092", "PATH=/bin", "TRACKWATCH_HTTP_LISTEN=127.0.0.1:1"},
		Sets: []string{"http.listen=127.0.0.1:2", "embedded.kafka.partitions=8"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.GroupID != "from-env" || !slices.Equal(c.Kafka.Brokers, []string{"e1:9092", "e2:9092"}) {
		t.Fatalf("env not applied: group %q brokers %v", c.Kafka.GroupID, c.Kafka.Brokers)
	}
	if c.HTTP.Listen != "127.0.0.1:2" || c.Embedded.Kafka.Partitions != 8 {
		t.Fatalf("flags not applied over env: listen %q partitions %d", c.HTTP.Listen, c.Embedded.Kafka.Partitions)
	}
}

func TestBadOverridesNameTheirSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  config.Sources
		want string
	}{
		{"misspelt environment variable", config.Sources{Env: []string{"TRACKWATCH_KAFKA_BROKER=x:1"}}, "TRACKWATCH_KAFKA_BROKER matches no key (keys in kafka:"},
		{"non-integer environment value", config.Sources{Env: []string{"TRACKWATCH_EMBEDDED_KAFKA_PARTITIONS=four"}}, `environment TRACKWATCH_EMBEDDED_KAFKA_PARTITIONS): embedded.kafka.partitions: "four" is not an integer`},
		{"unknown --set key", config.Sources{Sets: []string{"clickhouse.adr=x:9000"}}, "--set clickhouse.adr: unknown key"},
		{"--set without =", config.Sources{Sets: []string{"clickhouse.addr"}}, "is not key.path=value"},
		{"missing file", config.Sources{File: "testdata/none.yaml"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCommittedExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "trackwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, k := range config.Keys() {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(text, leaf+":") {
			t.Errorf("trackwatch.yaml does not mention key %s", k)
		}
	}
}
