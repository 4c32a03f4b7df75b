package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/service"
)

// checkResult is one dependency's answer to `config --check`.
type checkResult struct {
	name, target, result string
	ok                   bool
}

// checkDependencies connects to every configured dependency and reports each: the
// ClickHouse server (its version, the database's schema), the Kafka brokers (the topics
// and their partitions) and each notification receiver's host (a TCP connection only:
// nothing is sent). It prints a table and reports whether all answered.
func checkDependencies(ctx context.Context, env *cmdEnv, cfg config.Config) bool {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var results []checkResult
	add := func(name, target string, err error, ok string) {
		if err != nil {
			results = append(results, checkResult{name, target, "FAILED: " + err.Error(), false})
			return
		}
		results = append(results, checkResult{name, target, ok, true})
	}
	chTarget := strings.Join(cfg.ClickHouse.Addr, ",")
	if cfg.ClickHouse.Embedded() {
		chTarget = fmt.Sprintf("%s:%d (embedded: started by trackwatch run or dev)", cfg.Embedded.ClickHouse.ListenHost, cfg.Embedded.ClickHouse.TCPPort)
	}
	clients, err := service.Connect(ctx, cfg)
	if err != nil {
		add("clickhouse", chTarget, err, "")
	} else {
		defer clients.Close()
		msg := checkClickHouse(ctx, clients, cfg.ClickHouse.Database, &err)
		add("clickhouse", chTarget, err, msg)
		nodes, err := clients.Nodes(ctx) // a cluster's: each node's local database
		if err != nil {
			add("clickhouse cluster", chTarget, err, "")
		}
		for _, n := range nodes {
			err := n.Err
			msg := ""
			if err == nil {
				msg = schemaMessage(n.SchemaState, schemas.LocalDatabase(cfg.ClickHouse.Database))
			}
			add(fmt.Sprintf("  shard %d replica %d", n.Shard, n.Replica), n.Addr, err, msg)
		}
	}
	brokers, kTarget := cfg.Kafka.Brokers, strings.Join(cfg.Kafka.Brokers, ",")
	if cfg.Kafka.Embedded() {
		brokers = []string{cfg.Embedded.Kafka.Listen}
		kTarget = cfg.Embedded.Kafka.Listen + " (embedded: started by trackwatch run or dev)"
	}
	msg, err := checkKafka(ctx, cfg, brokers)
	add("kafka", kTarget, err, msg)
	for _, r := range cfg.Notify.Receivers {
		host, err := receiverHost(r.URL.Reveal())
		if err == nil {
			var d net.Dialer
			var c net.Conn
			if c, err = d.DialContext(ctx, "tcp", host); err == nil {
				c.Close()
			}
		}
		add("receiver "+r.Name+" ("+r.Type+")", host, err, "reachable (TCP; nothing sent)")
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEPENDENCY\tADDRESS\tRESULT")
	all := true
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, r.target, r.result)
		all = all && r.ok
	}
	tw.Flush()
	return all
}

func checkClickHouse(ctx context.Context, clients *service.Clients, db string, errp *error) string {
	st, err := clients.SchemaState(ctx, db)
	if *errp = err; err != nil {
		return ""
	}
	return schemaMessage(st, db)
}

// schemaMessage says how far database db's schema is migrated.
func schemaMessage(st service.SchemaState, db string) string {
	if !st.HasSchema {
		return fmt.Sprintf("ClickHouse %s; database %s has no schema yet (trackwatch migrate, or run, applies it)", st.Version, db)
	}
	state := "up to date"
	if st.Applied < st.Known {
		state = fmt.Sprintf("%d pending (trackwatch migrate applies them)", st.Known-st.Applied)
	}
	return fmt.Sprintf("ClickHouse %s; database %s: %d of %d migrations applied, %s", st.Version, db, st.Applied, st.Known, state)
}

func checkKafka(ctx context.Context, cfg config.Config, brokers []string) (string, error) {
	n, partitions, err := cfg.Kafka.Metadata(ctx, brokers)
	if err != nil {
		return "", err
	}
	var topics []string
	for _, t := range []string{cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic} {
		if partitions[t] == 0 {
			return "", fmt.Errorf("topic %s does not exist (create it; trackwatch dev creates the embedded ones)", t)
		}
		topics = append(topics, fmt.Sprintf("%s (%d partitions)", t, partitions[t]))
	}
	return fmt.Sprintf("%d brokers; topics %s", n, strings.Join(topics, ", ")), nil
}

// receiverHost is the host:port of a receiver's URL; the rest of the URL (a path may
// hold a token) is not shown.
func receiverHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the url is not absolute (not shown)")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
