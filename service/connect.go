package service

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/store"
)

// Clients are connections to a running stack, for commands that read or act on it
// (dlq, alerts, detect) instead of running the pipeline.
type Clients struct {
	ClickHouse driver.Conn
	Brokers    []string

	store store.Config
	addrs []string
	// cluster names a cluster's shards ("" for one server); keeper, a cluster
	// replicated through ClickHouse Keeper (a shard's replicas share its records)
	cluster string
	keeper  bool
}

// Connect reaches the configured servers or, when none are configured, the embedded
// ones at their configured addresses, which a running `trackwatch run` or `trackwatch
// dev` serves. It does not start anything.
func Connect(ctx context.Context, cfg config.Config) (*Clients, error) {
	addrs, brokers := cfg.ClickHouse.Addr, cfg.Kafka.Brokers
	hint := ""
	if cfg.ClickHouse.Embedded() {
		ec := cfg.Embedded.ClickHouse
		addrs = []string{net.JoinHostPort(ec.ListenHost, strconv.Itoa(ec.TCPPort))}
		hint = " (the embedded server: start `trackwatch run` or `trackwatch dev` first, or set clickhouse.addr)"
	}
	if cfg.Kafka.Embedded() {
		brokers = []string{cfg.Embedded.Kafka.Listen}
	}
	cluster := ""
	if Clustered(cfg) { // the first node answers for the cluster
		cfg.ClickHouse.Distributed, cluster = true, ClusterName(cfg)
	}
	conn, err := store.Open(ctx, cfg.ClickHouse, addrs...)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, hint)
	}
	return &Clients{ClickHouse: conn, Brokers: brokers, store: cfg.ClickHouse, addrs: addrs, cluster: cluster, keeper: cfg.ClickHouse.Keeper()}, nil
}

// Session opens a connection of its own to the same ClickHouse, for statements that
// share temporary tables (a detector run). Close it after.
func (c *Clients) Session(ctx context.Context) (driver.Conn, error) {
	return store.OpenSession(ctx, c.store, c.addrs...)
}

// Close releases the connections.
func (c *Clients) Close() error { return c.ClickHouse.Close() }
