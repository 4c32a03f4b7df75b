package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/service"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

// embeddedConfig is the default config on free ports, with data in dir.
func embeddedConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	ch := devstacktest.ClickHouseConfig(t, filepath.Join(dir, "clickhouse"))
	cfg, err := config.Load(config.Sources{File: filepath.Join("..", "trackwatch.yaml"), Sets: []string{
		"http.listen=127.0.0.1:0",
		"embedded.kafka.listen=127.0.0.1:0",
		"embedded.kafka.data_dir=" + filepath.Join(dir, "kafka"),
		"embedded.clickhouse.data_dir=" + ch.DataDir,
		"embedded.clickhouse.lib_path=" + ch.LibPath,
		"embedded.clickhouse.tcp_port=" + strconv.Itoa(ch.TCPPort),
		"embedded.clickhouse.http_port=" + strconv.Itoa(ch.HTTPPort),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRunOnEmbeddedDefaultIsHealthyAndStopsCleanly(t *testing.T) {
	cfg := embeddedConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan service.Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, cfg, service.Options{Logger: devstacktest.Logger(), Ready: func(ep service.Endpoints) { ready <- ep }})
	}()
	var ep service.Endpoints
	select {
	case ep = <-ready:
	case err := <-done:
		t.Fatalf("run ended before ready: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not ready within 2 minutes")
	}
	resp, err := http.Get("http://" + ep.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h httpapi.Health
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Checks["kafka"] != "ok" || h.Checks["clickhouse"] != "ok" {
		t.Fatalf("healthz = %d %+v", resp.StatusCode, h)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not stop within a minute of cancel")
	}
	// Everything was released: the same directories can be used again at once.
	stack, err := service.StartStack(context.Background(), cfg, false, devstacktest.Logger())
	if err != nil {
		t.Fatalf("restart on the same data: %v", err)
	}
	stack.Close()
}
