// Package service provides the running trackwatch process: it starts the embedded stack
// where no servers are configured, applies the schema, and runs the components (HTTP
// API, and the ingest, detectors and alerting as they are added) until its context ends.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

// Stack is the Kafka brokers and ClickHouse server trackwatch talks to: configured ones,
// or embedded ones it started.
type Stack struct {
	Brokers        []string
	ClickHouseAddr []string
	// ClickHouseHTTP is the embedded server's HTTP address, empty for a configured one.
	ClickHouseHTTP string
	// Nodes are an embedded cluster's servers (ClickHouseAddr holds their addresses,
	// the first node's first); nil for one server.
	Nodes []Node

	kafka      *devstack.Kafka
	clickhouse *devstack.ClickHouse
	cluster    *devstack.Cluster // an embedded cluster
	died       chan struct{}
	// a cluster's names (remote_servers) of its shards and of its one shard of every
	// node; empty for one server
	clusterName, everywhere string
	// keeper: configured servers that replicate through ClickHouse Keeper (else each
	// replica is written by the inserts)
	keeper bool
}

// Clustered reports whether the stack is a sharded cluster (an embedded one, or
// configured servers with clickhouse.cluster).
func (s *Stack) Clustered() bool { return s.clusterName != "" }

// layout is the stack's cluster layout for the configured database.
func (s *Stack) layout(db string) schemas.Layout {
	return schemas.Layout{Database: db, Shards: s.clusterName, Everywhere: s.everywhere, Keeper: s.keeper}
}

// StartStack starts the embedded parts that the config leaves unset. With force, it
// starts both regardless (trackwatch dev).
func StartStack(ctx context.Context, cfg config.Config, force bool, logger *slog.Logger) (*Stack, error) {
	s := &Stack{Brokers: cfg.Kafka.Brokers, ClickHouseAddr: cfg.ClickHouse.Addr}
	if (cfg.ClickHouse.WriteAll() || cfg.ClickHouse.Keeper()) && !force { // its nodes are read from the servers (Migrate)
		s.clusterName, s.everywhere = cfg.ClickHouse.Cluster, devstack.Everywhere(cfg.ClickHouse.Cluster)
		s.keeper = cfg.ClickHouse.Keeper()
	}
	if force || cfg.Kafka.Embedded() {
		k, err := devstack.StartKafka(cfg.Embedded.Kafka, cfg.Kafka.Topics(), logger.With("component", "embedded-kafka"))
		if err != nil {
			return nil, err
		}
		s.kafka, s.Brokers = k, []string{k.Addr()}
	}
	if (force || cfg.ClickHouse.Embedded()) && cfg.Embedded.ClickHouse.Clustered() {
		cl, err := devstack.StartEmbeddedCluster(ctx, ClusterName(cfg), cfg.Embedded.ClickHouse, logger.With("component", "embedded-clickhouse"))
		if err != nil {
			s.Close()
			return nil, err
		}
		s.cluster, s.ClickHouseAddr, s.ClickHouseHTTP = cl, cl.Addrs(), cl.Nodes[0][0].HTTPAddr()
		s.clusterName, s.everywhere = cl.Name, cl.Everywhere
		s.died = make(chan struct{})
		var once sync.Once
		for si, shard := range cl.Nodes {
			for ri, n := range shard {
				s.Nodes = append(s.Nodes, Node{Shard: si + 1, Replica: ri + 1, Addr: n.Addr()})
				go func() {
					<-n.Exited()
					once.Do(func() { close(s.died) })
				}()
			}
		}
	} else if force || cfg.ClickHouse.Embedded() {
		ch, err := devstack.StartClickHouse(ctx, cfg.Embedded.ClickHouse, logger.With("component", "embedded-clickhouse"))
		if err != nil {
			s.Close()
			return nil, err
		}
		s.clickhouse, s.ClickHouseAddr, s.ClickHouseHTTP = ch, []string{ch.Addr()}, ch.HTTPAddr()
	}
	return s, nil
}

// Died is closed if the embedded ClickHouse could not be kept running (it is restarted
// after a crash, and given up only in a crash loop); nil when ClickHouse is not embedded.
func (s *Stack) Died() <-chan struct{} {
	if s.cluster != nil {
		return s.died
	}
	if s.clickhouse == nil {
		return nil
	}
	return s.clickhouse.Exited()
}

// Close stops what StartStack started, ClickHouse first so it is not left without its
// parent's pipe for longer than needed.
func (s *Stack) Close() error {
	var errs []error
	if s.clickhouse != nil {
		errs = append(errs, s.clickhouse.Close())
	}
	if s.cluster != nil {
		errs = append(errs, s.cluster.Close())
	}
	s.kafka.Close()
	return errors.Join(errs...)
}

// OpenClickHouse connects to the stack's ClickHouse with the configured credentials.
func (s *Stack) OpenClickHouse(ctx context.Context, cfg store.Config) (driver.Conn, error) {
	conn, err := store.Open(ctx, cfg, s.ClickHouseAddr...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return conn, nil
}
