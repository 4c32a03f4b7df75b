package schemas

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// bootstrapFile is the database and the table that records applied migrations, rendered
// like a migration before any runs.
//
//go:embed bootstrap.sql
var bootstrapFile embed.FS

// DDLOptions select the shape of the generated DDL. The zero value is valid: database
// "trackwatch" on a single server.
type DDLOptions struct {
	// Database holds every table. Default "trackwatch".
	Database string `yaml:"database"`
	// Cluster, when set, emits ON CLUSTER DDL with Replicated* engines, for users who
	// run a ClickHouse cluster with {shard} and {replica} macros defined.
	Cluster string `yaml:"cluster"`
	// Local says Database is the local database of a sharded cluster (Layout): the
	// order tables, looked up order by order on every node, get finer granules
	// (LocalGranularity); with Cluster, each replicated table gets a Keeper path by
	// where its rows live (replicated within its shard, or across every node, see
	// keeperPath). Not in YAML: the service sets it.
	Local bool `yaml:"-"`
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var clusterRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// Validate fills defaults and checks the names. Identifiers cannot travel as query
// parameters in DDL, so they are restricted to a safe alphabet instead.
func (o *DDLOptions) Validate() error {
	if o.Database == "" {
		o.Database = "trackwatch"
	}
	if !identRe.MatchString(o.Database) {
		return fmt.Errorf("database: %q must match %s", o.Database, identRe)
	}
	if o.Cluster != "" && !clusterRe.MatchString(o.Cluster) {
		return fmt.Errorf("cluster: %q must match %s", o.Cluster, clusterRe)
	}
	return nil
}

// Migration is one versioned DDL file rendered for a deployment.
type Migration struct {
	Version    int
	Name       string   // file name, e.g. 0001_events.sql
	Statements []string // rendered, without trailing semicolons
	Checksum   string   // sha256 of the template, so edits to applied files are caught
}

// Migrations returns the embedded migrations in version order, rendered for opts.
func Migrations(opts DDLOptions) ([]Migration, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	seen := map[int]string{}
	for _, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", name)
		}
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, version)
		}
		seen[version] = name
		src, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		sql, err := render(migrationFiles, path, name, opts)
		if err != nil {
			return nil, err
		}
		summed := slices.Clone(src)
		for _, fn := range slices.Sorted(maps.Keys(renderedSelects)) { // the SELECT a function renders is part of the file
			if strings.Contains(string(src), fn) {
				summed = append(summed, renderedSelects[fn]...)
			}
		}
		sum := sha256.Sum256(summed)
		out = append(out, Migration{Version: version, Name: name, Statements: opts.place(splitStatements(sql)), Checksum: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// renderedSelects are the template functions that render a SELECT kept in
// sql/summaries.sql, by name, with that SELECT (its From and Where as $from and $where):
// a migration that calls one has it in its checksum.
var renderedSelects = map[string]string{"carrierMonthStates": CarrierMonthStates("$from", "$where"),
	"orderMonthStates": orderMonthStates0013("$from", "$where"), "orderJourneyMonthStates": OrderMonthStates("$from", "$where")}

// Bootstrap returns the statements that create the database and the migrations table.
func Bootstrap(opts DDLOptions) ([]string, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	sql, err := render(bootstrapFile, "bootstrap.sql", "bootstrap", opts)
	if err != nil {
		return nil, err
	}
	return opts.place(splitStatements(sql)), nil
}

// render renders template name of the file at path in files (a migration file is one
// template named after the file) for opts.
func render(files fs.FS, path, name string, opts DDLOptions) (string, error) {
	funcs := template.FuncMap{
		// engine names a MergeTree-family engine; on a cluster it becomes the replicated
		// variant with the conventional ZooKeeper path and replica macro.
		"engine": func(family string, args ...string) string {
			var params []string
			switch {
			case opts.Cluster != "" && opts.Local:
				params = append(params, shardPath...)
				family = "Replicated" + family
			case opts.Cluster != "":
				params = append(params, "'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'")
				family = "Replicated" + family
			}
			for _, a := range args {
				if a != "" {
					params = append(params, a)
				}
			}
			return family + "(" + strings.Join(params, ", ") + ")"
		},
		// dedupWindow turns on insert-block deduplication: ingest retries a block with the
		// same insert_deduplication_token, and the server drops the copy.
		"carrierMonthStates":      CarrierMonthStates,
		"orderMonthStates":        orderMonthStates0013, // as 0013 created the view; 0016 replaced it
		"orderJourneyMonthStates": OrderMonthStates,
		"dedupWindow": func() string {
			if opts.Cluster != "" {
				return "replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800"
			}
			return "non_replicated_deduplication_window = 10000"
		},
	}
	set, err := sqlfile.Parse(files, path, funcs)
	if err != nil {
		return "", fmt.Errorf("migration %s: %w", name, err)
	}
	data := sqlfile.Data{"DB": sqlfile.Ident(opts.Database), "OnCluster": ""}
	if opts.Cluster != "" {
		data["OnCluster"] = " ON CLUSTER " + sqlfile.Ident(opts.Cluster).String()
	}
	sql, err := set.Render(name, data)
	if err != nil {
		return "", fmt.Errorf("migration %s: %w", name, err)
	}
	return sql, nil
}

// splitStatements splits on semicolons that end a line, dropping comment-only chunks.
// Migration files put each statement's semicolon at a line end and none inside strings.
func splitStatements(sql string) []string {
	var out []string
	for _, chunk := range regexp.MustCompile(`;\s*(\n|$)`).Split(sql, -1) {
		var code []string
		for _, line := range strings.Split(chunk, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				code = append(code, line)
			}
		}
		if len(code) > 0 {
			out = append(out, strings.TrimSpace(strings.Join(code, "\n")))
		}
	}
	return out
}

// Conn is what migrating needs from a ClickHouse connection.
type Conn interface {
	Exec(ctx context.Context, query string, args ...any) error
	Select(ctx context.Context, dest any, query string, args ...any) error
}

// ErrChecksumMismatch means an applied migration file was edited afterwards: add a new
// migration instead of changing an applied one.
var ErrChecksumMismatch = errors.New("applied migration was changed")

// Migrate creates the database and applies the migrations not yet recorded, in version
// order. Every statement is idempotent, so a crash mid-way or two instances migrating at
// once end in the same schema. It returns the migrations it applied.
func Migrate(ctx context.Context, conn Conn, opts DDLOptions, now func() time.Time) ([]Migration, error) {
	all, done, err := appliedOn(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	if err := verify(all, done); err != nil {
		return nil, err
	}
	var ran []Migration
	for _, m := range all {
		if _, ok := done[m.Version]; ok {
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return ran, fmt.Errorf("apply %s statement %d: %w", m.Name, i+1, err)
			}
		}
		rec := statements.In(opts.Database, "record")
		if err := conn.Exec(ctx, rec, namedArgs("version", m.Version, "name", m.Name, "checksum", m.Checksum, "at", now().UTC())...); err != nil {
			return ran, fmt.Errorf("record %s: %w", m.Name, err)
		}
		ran = append(ran, m)
	}
	return ran, nil
}

// appliedOn bootstraps the migrations table on conn and returns every migration and the
// checksums conn has recorded, by version.
func appliedOn(ctx context.Context, conn Conn, opts DDLOptions) ([]Migration, map[int]string, error) {
	boot, err := Bootstrap(opts)
	if err != nil {
		return nil, nil, err
	}
	for _, stmt := range boot {
		if err := conn.Exec(ctx, stmt); err != nil {
			return nil, nil, fmt.Errorf("bootstrap migrations table: %w", err)
		}
	}
	all, err := Migrations(opts)
	if err != nil {
		return nil, nil, err
	}
	var applied []struct {
		Version  uint32 `ch:"version"`
		Checksum string `ch:"checksum"`
	}
	if err := conn.Select(ctx, &applied, statements.In(opts.Database, "applied")); err != nil {
		return nil, nil, fmt.Errorf("read applied migrations: %w", err)
	}
	done := map[int]string{}
	for _, a := range applied {
		done[int(a.Version)] = a.Checksum
	}
	return all, done, nil
}

// verify refuses recorded checksums that differ from their files'.
func verify(all []Migration, done map[int]string) error {
	for _, m := range all {
		if sum, ok := done[m.Version]; ok && sum != m.Checksum {
			return fmt.Errorf("%w: %s (recorded checksum %.12s, file %.12s)", ErrChecksumMismatch, m.Name, sum, m.Checksum)
		}
	}
	return nil
}

// Node is one server of a cluster, for MigrateNodes.
type Node struct {
	Name string // how errors name it, e.g. its host:port
	Conn Conn
}

// MigrateNodes migrates each node of a cluster whose servers cannot take ON CLUSTER DDL
// (embedded ClickHouse): every statement is applied on every node in turn, and each node
// records the migrations it applied. Before anything is applied anywhere, every node's
// recorded checksums are checked against the files: a node that recorded another
// checksum stops the whole migration, named in the error, so that no node runs ahead
// of one it disagrees with. It returns the migrations applied, per node name.
func MigrateNodes(ctx context.Context, nodes []Node, opts DDLOptions, now func() time.Time) (map[string][]Migration, error) {
	for _, n := range nodes {
		all, done, err := appliedOn(ctx, n.Conn, opts)
		if err == nil {
			err = verify(all, done)
		}
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	ran := map[string][]Migration{}
	for _, n := range nodes {
		ms, err := Migrate(ctx, n.Conn, opts, now)
		ran[n.Name] = ms
		if err != nil {
			return ran, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return ran, nil
}

// namedArgs pairs up names and values as server-side query parameters ({name:Type}).
func namedArgs(kv ...any) []any {
	out := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, clickhouse.Named(kv[i].(string), kv[i+1]))
	}
	return out
}

// Script renders the whole schema for opts as one SQL script: the bootstrap statements,
// then each migration under a comment with its file name. `trackwatch migrate --print`
// shows it, and the golden files hold it.
func Script(opts DDLOptions) (string, error) {
	boot, err := Bootstrap(opts)
	if err != nil {
		return "", err
	}
	ms, err := Migrations(opts)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range boot {
		b.WriteString(s + ";\n\n")
	}
	for _, m := range ms {
		b.WriteString("-- " + m.Name + "\n")
		for _, s := range m.Statements {
			b.WriteString(s + ";\n\n")
		}
	}
	return b.String(), nil
}
