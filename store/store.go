// Package store provides trackwatch's connection to ClickHouse: its configuration, and a
// native-protocol connection (clickhouse-go/v2) opened and checked from it.
package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/internal/pemfile"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/secret"
)

// Config names a ClickHouse server or cluster. The zero value means "start the embedded
// server and use it".
type Config struct {
	// Addr lists native-protocol host:port addresses. Empty: the embedded server.
	Addr []string `yaml:"addr"`
	// Database holds trackwatch's tables. Default trackwatch.
	Database string `yaml:"database"`
	// Cluster names the ClickHouse cluster (remote_servers) trackwatch's tables span:
	// trackwatch keeps its rows in <database>_local on every node and Distributed tables
	// in <database> (schemas.Layout). The servers must also define <cluster>_everywhere,
	// one shard whose replicas are every node (for the tables every node holds whole).
	Cluster string `yaml:"cluster"`
	// Replication is how a cluster's replicas get their rows: keeper (Replicated*MergeTree
	// tables created ON CLUSTER once, which needs ClickHouse Keeper, the macros {shard}
	// and {replica}, and internal_replication on both clusters) or write_all (plain
	// MergeTree on every node, each replica written by trackwatch's Distributed inserts,
	// every node migrated in turn). Default keeper.
	Replication string `yaml:"replication"`
	// Username to authenticate as. Default "default".
	Username string `yaml:"username"`
	// Password; never logged. PasswordFile reads it from a file instead.
	Password     secret.String `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	passwordRead bool          // Password came from PasswordFile
	// TLS enables TLS on the native protocol (port 9440 on ClickHouse Cloud), trusting
	// the system's CAs, or TLSCAFile's. TLSCertFile and TLSKeyFile are a client
	// certificate for mutual TLS; TLSServerName, the name to verify when the address is
	// not the one in the server's certificate.
	TLS           bool   `yaml:"tls"`
	TLSCAFile     string `yaml:"tls_ca_file"`
	TLSCertFile   string `yaml:"tls_cert_file"`
	TLSKeyFile    string `yaml:"tls_key_file"`
	TLSServerName string `yaml:"tls_server_name"`
	// DialTimeout bounds connecting. Default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// MaxOpenConns caps the connection pool; ingest uses one per assigned partition
	// while inserting. Default 16.
	MaxOpenConns int `yaml:"max_open_conns"`
	// Retention is how long events and summaries are kept (a TTL set at start).
	Retention schemas.Retention `yaml:"retention"`
	// Distributed says the database's tables are Distributed tables over a cluster (an
	// embedded cluster: schemas.MigrateCluster). Not in YAML: the service sets it. Each
	// connection then sends the settings those tables need (DistributedSettings).
	Distributed bool `yaml:"-"`
}

// DistributedSettings are the settings of a connection to a cluster's Distributed
// tables: an insert returns once every shard (and each of its replicas) has its rows,
// so that an acknowledged Kafka offset is stored data and a retried insert block is
// deduplicated by each shard as on one server; a subquery over a Distributed table runs
// once, GLOBAL, and its result is sent to the shards; reads prefer the first replica
// that answers, so that one instance's reads follow its writes.
var DistributedSettings = clickhouse.Settings{
	"distributed_foreground_insert": 1,
	"distributed_product_mode":      "global",
	"load_balancing":                "in_order",
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *Config) Validate() error {
	if c.Database == "" {
		c.Database = "trackwatch"
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = 16
	}
	if c.Replication == "" {
		c.Replication = ReplicationKeeper
	}
	if err := c.Retention.Validate(); err != nil {
		return fmt.Errorf("retention.%w", err)
	}
	if c.Replication != ReplicationKeeper && c.Replication != ReplicationWriteAll {
		return fmt.Errorf("replication: %q must be %s or %s", c.Replication, ReplicationKeeper, ReplicationWriteAll)
	}
	if c.Replication == ReplicationWriteAll && c.Cluster == "" && len(c.Addr) > 0 {
		return errors.New("replication: write_all needs cluster (the remote_servers cluster of the servers in addr)")
	}
	if err := secret.ReadFile("password", c.PasswordFile, &c.Password, &c.passwordRead); err != nil {
		return err
	}
	if !c.TLS {
		for key, v := range map[string]string{"tls_ca_file": c.TLSCAFile, "tls_cert_file": c.TLSCertFile, "tls_key_file": c.TLSKeyFile, "tls_server_name": c.TLSServerName} {
			if v != "" {
				return fmt.Errorf("%s: set, but tls is off (set clickhouse.tls: true)", key)
			}
		}
	}
	if _, err := c.tlsConfig(); err != nil {
		return err
	}
	for i, a := range c.Addr {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("addr[%d]: %q is not host:port", i, a)
		}
	}
	ddl := c.DDL()
	if err := ddl.Validate(); err != nil {
		return err
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("dial_timeout: %s must be positive", c.DialTimeout)
	}
	if c.MaxOpenConns < 1 {
		return fmt.Errorf("max_open_conns: %d must be at least 1", c.MaxOpenConns)
	}
	return nil
}

// The values of Replication.
const (
	ReplicationKeeper   = "keeper"
	ReplicationWriteAll = "write_all"
)

// WriteAll reports whether the configured servers form a write_all cluster.
func (c *Config) WriteAll() bool {
	return len(c.Addr) > 0 && c.Cluster != "" && c.Replication == ReplicationWriteAll
}

// Keeper reports whether the configured servers form a keeper cluster: replicated
// through ClickHouse Keeper, migrated ON CLUSTER.
func (c *Config) Keeper() bool {
	return len(c.Addr) > 0 && c.Cluster != "" && c.Replication == ReplicationKeeper
}

// Embedded reports whether no server is configured, so the embedded one must start.
func (c *Config) Embedded() bool { return len(c.Addr) == 0 }

// DDL returns the options that shape trackwatch's DDL for this server.
func (c *Config) DDL() schemas.DDLOptions {
	if c.Replication == ReplicationWriteAll {
		return schemas.DDLOptions{Database: c.Database}
	}
	return schemas.DDLOptions{Database: c.Database, Cluster: c.Cluster}
}

// OpenSession is Open with a single connection, for statements that share temporary
// tables (ClickHouse keeps them per connection), such as a detector run. Close it after.
func OpenSession(ctx context.Context, c Config, addrs ...string) (driver.Conn, error) {
	c.MaxOpenConns = 1
	conn, err := Open(ctx, c, addrs...)
	if err != nil {
		return nil, err
	}
	return session{conn}, nil
}

// Open connects to the configured addresses (or addrs, when the config names none, as
// for the embedded server) and pings the server.
func Open(ctx context.Context, c Config, addrs ...string) (driver.Conn, error) {
	if len(c.Addr) > 0 {
		addrs = c.Addr
	}
	opts := &clickhouse.Options{
		Addr:         addrs,
		Auth:         clickhouse.Auth{Database: "default", Username: c.Username, Password: c.Password.Reveal()},
		DialTimeout:  c.DialTimeout,
		MaxOpenConns: c.MaxOpenConns,
		MaxIdleConns: c.MaxOpenConns,
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		ClientInfo:   clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "trackwatch", Version: "1"}}},
	}
	if c.Distributed {
		opts.Settings = DistributedSettings
	}
	var err error
	if opts.TLS, err = c.tlsConfig(); err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %v: %w", addrs, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse %v: %w", addrs, err)
	}
	return conn, nil
}

// tlsConfig builds the native protocol's TLS settings (nil without TLS), reading the
// files each time: a connection pool opened after a certificate was renewed uses it.
func (c *Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCAFile != "" {
		pool, err := pemfile.CertPool("tls_ca_file", c.TLSCAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return nil, errors.New("tls_cert_file and tls_key_file: set both (a client certificate and its key) or neither")
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls_cert_file, tls_key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
