package devstack

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cluster is several embedded ClickHouse servers that know each other as one cluster
// (remote_servers): Distributed tables, GLOBAL joins and cluster() work across them.
// libchdb runs no interserver listener and no Keeper, so a replica is a plain node that a
// shard's Distributed insert writes to (internal_replication false), not a
// ReplicatedMergeTree; ON CLUSTER DDL is refused, so DDL goes to every node in turn.
type Cluster struct {
	// Name is the cluster's name in remote_servers (clickhouse.cluster): its shards.
	Name string
	// Everywhere names a second cluster in remote_servers of one shard whose replicas
	// are all the nodes: a Distributed table over it writes each row to every node and
	// reads it from one (tables every node needs whole).
	Everywhere string
	// Nodes are the servers by shard, then replica.
	Nodes [][]*ClickHouse

	cfgs   [][]ClickHouseConfig // each node's, with its configuration file
	logger *slog.Logger
}

// ClusterNodeConfig is the configuration of the node of shard s (from 0) and replica r
// (from 0): its own data directory and ports.
type ClusterNodeConfig func(shard, replica int) ClickHouseConfig

// StartCluster starts shards x replicas embedded servers configured by node, each with
// a configuration file naming all of them as cluster name (written beside its data
// directory, as cluster.xml) and the macros shard and replica. On an error the servers
// started are stopped.
func StartCluster(ctx context.Context, name string, shards, replicas int, node ClusterNodeConfig, logger *slog.Logger) (*Cluster, error) {
	if err := validClusterName(name); err != nil {
		return nil, fmt.Errorf("embedded cluster: name %w", err)
	}
	if shards < 1 || replicas < 1 {
		return nil, fmt.Errorf("embedded cluster: %d shards x %d replicas: each must be at least 1", shards, replicas)
	}
	cfgs := make([][]ClickHouseConfig, shards)
	for s := range shards {
		for r := range replicas {
			c := node(s, r)
			if c.ConfigFile != "" {
				return nil, fmt.Errorf("embedded cluster: node %d.%d: a configuration file of its own (%s) is not supported in a cluster", s+1, r+1, c.ConfigFile)
			}
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("embedded cluster: node %d.%d: %w", s+1, r+1, err)
			}
			cfgs[s] = append(cfgs[s], c)
		}
	}
	cl := &Cluster{Name: name, Everywhere: Everywhere(name), Nodes: make([][]*ClickHouse, shards), cfgs: make([][]ClickHouseConfig, shards), logger: logger}
	for s := range shards {
		for r := range replicas {
			c := cfgs[s][r]
			file := filepath.Join(filepath.Dir(filepath.Clean(c.DataDir)), filepath.Base(c.DataDir)+"-cluster.xml")
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				cl.Close()
				return nil, err
			}
			if err := os.WriteFile(file, []byte(ClusterXML(name, cfgs, s, r)), 0o644); err != nil {
				cl.Close()
				return nil, fmt.Errorf("embedded cluster: %w", err)
			}
			c.ConfigFile = file
			cl.cfgs[s] = append(cl.cfgs[s], c)
			ch, err := StartClickHouse(ctx, c, logger.With("shard", s+1, "replica", r+1))
			if err != nil {
				cl.Close()
				return nil, fmt.Errorf("embedded cluster: node %d.%d: %w", s+1, r+1, err)
			}
			cl.Nodes[s] = append(cl.Nodes[s], ch)
		}
	}
	return cl, nil
}

// Everywhere is the name of the cluster of one shard over every node of cluster name.
func Everywhere(name string) string { return name + "_everywhere" }

// ClusterXML is the server configuration of node (shard, replica) of the cluster of
// nodes (by shard, then replica): remote_servers naming every node by its native port
// (a shard's replicas all written by its Distributed inserts), and the cluster
// Everywhere of one shard over all of them; the macros, and a background pool for
// Distributed sends (libchdb's default size is 0, which leaves background inserts queued
// until flushed).
func ClusterXML(name string, nodes [][]ClickHouseConfig, shard, replica int) string {
	var b strings.Builder
	b.WriteString("<clickhouse>\n  <remote_servers>\n    <" + name + ">\n")
	for _, replicas := range nodes {
		b.WriteString("      <shard>\n        <internal_replication>false</internal_replication>\n")
		for _, c := range replicas {
			fmt.Fprintf(&b, "        <replica><host>%s</host><port>%d</port></replica>\n", html.EscapeString(c.ListenHost), c.TCPPort)
		}
		b.WriteString("      </shard>\n")
	}
	b.WriteString("    </" + name + ">\n    <" + Everywhere(name) + ">\n      <shard>\n        <internal_replication>false</internal_replication>\n")
	for _, replicas := range nodes {
		for _, c := range replicas {
			fmt.Fprintf(&b, "        <replica><host>%s</host><port>%d</port></replica>\n", html.EscapeString(c.ListenHost), c.TCPPort)
		}
	}
	b.WriteString("      </shard>\n    </" + Everywhere(name) + ">\n  </remote_servers>\n")
	fmt.Fprintf(&b, "  <macros><cluster>%s</cluster><shard>%d</shard><replica>%d</replica></macros>\n", html.EscapeString(name), shard+1, replica+1)
	b.WriteString("  <background_distributed_schedule_pool_size>4</background_distributed_schedule_pool_size>\n</clickhouse>\n")
	return b.String()
}

// StartEmbeddedCluster starts the cluster name that c configures (c.Shards x
// c.Replicas nodes): the first node on c's ports, the others on free ports, node
// (s, r) in DataDir-cluster/shard<s>-replica<r> (from 1).
func StartEmbeddedCluster(ctx context.Context, name string, c ClickHouseConfig, logger *slog.Logger) (*Cluster, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("embedded cluster: %w", err)
	}
	dir := filepath.Clean(c.DataDir) + "-cluster"
	used := map[int]bool{c.TCPPort: true, c.HTTPPort: true}
	free := func() (int, error) {
		for {
			p, err := FreePort(c.ListenHost)
			if err != nil || !used[p] {
				used[p] = true
				return p, err
			}
		}
	}
	cfgs := map[[2]int]ClickHouseConfig{}
	for s := range c.Shards {
		for r := range c.Replicas {
			n := c
			n.Shards, n.Replicas = 1, 1
			n.DataDir = filepath.Join(dir, fmt.Sprintf("shard%d-replica%d", s+1, r+1))
			if s > 0 || r > 0 {
				n.TCPPort, n.HTTPPort = 0, 0
			}
			var err error // every node's native port is in the others' configuration
			if n.TCPPort == 0 {
				n.TCPPort, err = free()
			}
			if err == nil && n.HTTPPort == 0 {
				n.HTTPPort, err = free()
			}
			if err != nil {
				return nil, fmt.Errorf("embedded cluster: node %d.%d: a free port: %w", s+1, r+1, err)
			}
			cfgs[[2]int{s, r}] = n
		}
	}
	return StartCluster(ctx, name, c.Shards, c.Replicas, func(s, r int) ClickHouseConfig { return cfgs[[2]int{s, r}] }, logger)
}

// Stop stops the node of shard s and replica r (from 0), as a server going down for
// maintenance: its data stays, and Start starts it again.
func (c *Cluster) Stop(s, r int) error {
	n := c.Nodes[s][r]
	if n == nil {
		return fmt.Errorf("node %d.%d is not running", s+1, r+1)
	}
	c.Nodes[s][r] = nil
	return n.Close()
}

// Start starts the stopped node of shard s and replica r again, on its data and ports.
func (c *Cluster) Start(ctx context.Context, s, r int) error {
	if c.Nodes[s][r] != nil {
		return fmt.Errorf("node %d.%d is running", s+1, r+1)
	}
	n, err := StartClickHouse(ctx, c.cfgs[s][r], c.logger.With("shard", s+1, "replica", r+1))
	if err != nil {
		return err
	}
	c.Nodes[s][r] = n
	return nil
}

// Addrs are the nodes' native-protocol addresses, by shard, then replica.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, shard := range c.cfgs {
		for _, n := range shard {
			out = append(out, net.JoinHostPort(n.ListenHost, strconv.Itoa(n.TCPPort)))
		}
	}
	return out
}

// Close stops every node.
func (c *Cluster) Close() error {
	var errs []error
	for _, shard := range c.Nodes {
		for _, n := range shard {
			if n != nil {
				errs = append(errs, n.Close())
			}
		}
	}
	return errors.Join(errs...)
}

// validClusterName is what a cluster may be called: a remote_servers element's name.
func validClusterName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.')) {
			return fmt.Errorf("%q: letters, digits, '_', '-' and '.', not starting with a digit", name)
		}
	}
	return nil
}
