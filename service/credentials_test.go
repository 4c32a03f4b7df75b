package service_test

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/secret"
	"github.com/trackwatch/trackwatch/service"
	"github.com/trackwatch/trackwatch/store"
)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ClickHouse and Kafka credentials read from password_file are replaced on SIGHUP
// without a restart: after the passwords change on the servers, new connections fail
// until the files are rewritten and the process is told; then inserts run as the new
// ClickHouse user (the server's query log says so) and new broker connections
// authenticate with the new SCRAM password. New credentials the server refuses are not
// taken, and nothing of the rotation shows a password in the logs.
func TestSIGHUPReplacesDatabaseCredentials(t *testing.T) {
	devstacktest.RequireLib(t)
	dir := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A rotation from one ClickHouse user to another, as with two users on any server
	// (the embedded server cannot change a password while it runs).
	ch := devstacktest.StartClickHouseWithUsers(t, filepath.Join(dir, "clickhouse"),
		map[string]string{"tw_a": "ch-pass-one-3f9a", "tw_b": "ch-pass-two-77c1"})

	const kafkaUser, kafkaOne, kafkaTwo = "trackwatch", "kafka-pass-one-5e2d", "kafka-pass-two-a41b"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", kafkaUser, kafkaOne),
		kfake.SeedTopics(2, schemas.TrackingTopic, schemas.OrderTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	chPass, kafkaPass, cfgFile := filepath.Join(dir, "ch-password"), filepath.Join(dir, "kafka-password"), filepath.Join(dir, "trackwatch.yaml")
	writeConfig := func(chUser, chPassword, kafkaPassword string) {
		write(chPass, chPassword+"\n")
		write(kafkaPass, kafkaPassword+"\n")
		write(cfgFile, fmt.Sprintf(`http:
  listen: 127.0.0.1:0
clickhouse:
  addr: [%s]
  database: rotation
  username: %s
  password_file: %s
kafka:
  brokers: [%s]
  group_id: rotation
  sasl: {mechanism: scram-sha-256, username: %s, password_file: %s}
`, ch.Addr(), chUser, chPass, strings.Join(brokers, ", "), kafkaUser, kafkaPass))
	}
	writeConfig("tw_a", "ch-pass-one-3f9a", kafkaOne)
	load := func() (config.Config, error) { return config.Load(config.Sources{File: cfgFile}) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ep := startRun(t, cfg, service.Options{Logger: logger, NoDetect: true, Reload: load}, &logs)

	health := func() httpapi.Health {
		resp, err := http.Get("http://" + ep.HTTP + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h httpapi.Health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s (health %+v)\n%s", what, health(), logs.String())
			}
		}
	}
	admin, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 2}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	count := func(query string, args ...any) uint64 {
		t.Helper()
		var n uint64
		if err := admin.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// insertsBy counts the finished inserts into tracking_events by user.
	insertsBy := func(user string) uint64 {
		t.Helper()
		if err := admin.Exec(context.Background(), "SYSTEM FLUSH LOGS"); err != nil {
			t.Fatal(err)
		}
		return count(`SELECT count() FROM system.query_log WHERE user = {u:String} AND type = 'QueryFinish'
			AND query_kind = 'Insert' AND has(tables, 'rotation.tracking_events')`, clickhouse.Named("u", user))
	}
	produce := func(password, id string) {
		t.Helper()
		w := &kafka.Writer{Addr: kafka.TCP(brokers...), Transport: scramTransport(t, brokers, kafkaUser, password), BatchTimeout: 10 * time.Millisecond}
		defer w.Close()
		if err := w.WriteMessages(context.Background(), kafka.Message{Topic: schemas.TrackingTopic, Key: []byte(id),
			Value: fmt.Appendf(nil, `{"event_id":%q,"tracking_number":"RR123456785CN","raw_status":"Accepted","occurred_at":"2026-10-02T08:15:00Z"}`, id)}); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(id string) bool {
		return count("SELECT count() FROM rotation.tracking_events WHERE event_id = {id:String}", clickhouse.Named("id", id)) == 1
	}

	produce(kafkaOne, "before-rotation")
	waitFor("the first event stored", func() bool { return stored("before-rotation") })
	waitFor("the insert logged as tw_a's", func() bool { return insertsBy("tw_a") > 0 })
	if h := health(); h.Status != "ok" {
		t.Fatalf("health before the rotation: %+v", h)
	}

	// The broker's password changes: connections already open stay, new ones (the health
	// check dials one each time) are refused until trackwatch is given the new password.
	rotateSCRAM(t, brokers, kafkaUser, kafkaOne, kafkaTwo)
	waitFor("the old Kafka password refused", func() bool { return health().Checks["kafka"] != "ok" })

	// New credentials the broker refuses: nothing is replaced, not even ClickHouse's
	// (whose new user was accepted): an event stored meanwhile is inserted as tw_a. (A
	// refused ClickHouse password is not tried here: libchdb's server aborts on a failed
	// native-protocol login.)
	writeConfig("tw_b", "ch-pass-two-77c1", "not-the-password-0c3e")
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("the refused reload logged", func() bool {
		return strings.Contains(logs.String(), "reload on SIGHUP failed") && strings.Contains(logs.String(), `kafka: the new credentials (user \"trackwatch\") were not accepted`)
	})
	if h := health(); h.Checks["kafka"] == "ok" {
		t.Fatalf("a refused reload replaced Kafka's credentials: %+v", h)
	}
	insertsBefore := insertsBy("tw_a")
	produce(kafkaTwo, "refused-reload")
	waitFor("the event sent after the refused reload stored", func() bool { return stored("refused-reload") })
	waitFor("the insert after the refused reload logged", func() bool { return insertsBy("tw_a") > insertsBefore })
	if got := insertsBy("tw_b"); got != 0 {
		t.Fatalf("a refused reload replaced ClickHouse's credentials: %d inserts by tw_b", got)
	}

	writeConfig("tw_b", "ch-pass-two-77c1", kafkaTwo)
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("healthy with the new Kafka password", func() bool { return health().Status == "ok" })
	waitFor("the reload logged", func() bool { return strings.Contains(logs.String(), "clickhouse_user=tw_b") })
	before := insertsBy("tw_b")
	produce(kafkaTwo, "after-rotation")
	waitFor("the second event stored", func() bool { return stored("after-rotation") })
	// The row is visible a moment before the server logs the insert as finished.
	waitFor("an insert as tw_b after the rotation", func() bool { return insertsBy("tw_b") > before })
	for _, p := range []string{"ch-pass-one-3f9a", "ch-pass-two-77c1", "not-the-password-0c3e", kafkaOne, kafkaTwo} {
		if strings.Contains(logs.String(), p) {
			t.Errorf("the logs show a password (%s)", p)
		}
	}
}

// scramTransport is a transport to brokers authenticated as user with SCRAM-SHA-256.
func scramTransport(t *testing.T, brokers []string, user, password string) *kafka.Transport {
	t.Helper()
	kc := kafkaclient.Config{Brokers: brokers, SASL: kafkaclient.SASLConfig{Mechanism: "scram-sha-256", Username: user, Password: secret.String(password)}}
	if err := kc.Validate(); err != nil {
		t.Fatal(err)
	}
	tr, err := kc.Transport()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// rotateSCRAM changes user's SCRAM-SHA-256 password on the brokers, authenticated with
// the old one (the user is a superuser there).
func rotateSCRAM(t *testing.T, brokers []string, user, oldPass, newPass string) {
	t.Helper()
	tr := scramTransport(t, brokers, user, oldPass)
	salt := []byte("trackwatch-rotation-salt")
	salted, err := pbkdf2.Key(sha256.New, newPass, salt, 4096, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.AlterUserScramCredentials(context.Background(), &kafka.AlterUserScramCredentialsRequest{
		Upsertions: []kafka.UserScramCredentialsUpsertion{{Name: user, Mechanism: kafka.ScramMechanismSha256, Iterations: 4096, Salt: salt, SaltedPassword: salted}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Results {
		if r.Error != nil {
			t.Fatalf("alter scram credentials of %s: %v", r.User, r.Error)
		}
	}
}
